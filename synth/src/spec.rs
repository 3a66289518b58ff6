//! Per-type facts read from the CloudFormation resource schemas: what replaces a resource, what
//! its attributes are, how it takes tags, and the constraints on its string properties.
//!
//! The tables themselves are generated (`crate::cfn::SPECS`); nothing else in pantri hard-codes
//! such a list.

/// How a resource type takes tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagForm {
    /// A list of `{Key, Value}` objects.
    List,
    /// A map of key to value.
    Map,
}

/// The tagging facts of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tagging {
    /// The top-level property that holds the tags (usually `Tags`).
    pub property: &'static str,
    /// List or map form.
    pub form: TagForm,
}

/// A constraint on a string (or array) property, checked at synth time on literals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintKind {
    /// An ECMAScript regular expression the value must match.
    Pattern(&'static str),
    /// Length bounds.
    Length {
        /// Minimum length, inclusive.
        min: Option<u64>,
        /// Maximum length, inclusive.
        max: Option<u64>,
    },
    /// A closed set of values.
    Enum(&'static [&'static str]),
    /// Numeric bounds.
    Range {
        /// Minimum, inclusive.
        min: Option<i64>,
        /// Maximum, inclusive.
        max: Option<i64>,
    },
}

/// A constraint at a property path. The path is a list of property names from the resource's
/// `Properties`; `*` stands for every item of a list or every value of a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constraint {
    /// The property path, for example `["LifecycleConfiguration", "Rules", "*", "Status"]`.
    pub path: &'static [&'static str],
    /// What the value must satisfy.
    pub kind: ConstraintKind,
}

/// What the schemas say about one resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeSpec {
    /// The type name, for example `AWS::S3::Bucket`.
    pub type_name: &'static str,
    /// Property paths (JSON pointers such as `/properties/BucketName`) whose change replaces the resource.
    pub create_only: &'static [&'static str],
    /// Property paths whose change may replace the resource, depending on the values.
    pub conditional_create_only: &'static [&'static str],
    /// The primary identifier (what `Ref` returns, for most types).
    pub primary_identifier: &'static [&'static str],
    /// The attribute names `Fn::GetAtt` accepts, with dots for nested ones (`Endpoint.Address`).
    pub attributes: &'static [&'static str],
    /// Required top-level properties.
    pub required: &'static [&'static str],
    /// How the type takes tags, if it does.
    pub tagging: Option<Tagging>,
    /// String and numeric constraints of the schema.
    pub constraints: &'static [Constraint],
}

/// The spec of a type, when pantri has its schema.
pub fn lookup(type_name: &str) -> Option<&'static TypeSpec> {
    let specs = crate::cfn::SPECS;
    specs
        .binary_search_by(|s| s.type_name.cmp(type_name))
        .ok()
        .map(|i| &specs[i])
}

impl TypeSpec {
    /// True when a change of this top-level property replaces the resource.
    pub fn replaces_on_change(&self, property: &str) -> bool {
        self.create_only.iter().any(|p| {
            p.strip_prefix("/properties/")
                .is_some_and(|rest| rest == property || rest.starts_with(&format!("{property}/")))
        })
    }

    /// True when `GetAtt` of `attribute` is valid for this type.
    pub fn has_attribute(&self, attribute: &str) -> bool {
        self.attributes.contains(&attribute)
    }
}
