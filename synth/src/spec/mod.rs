//! Per-type facts read from the CloudFormation resource schemas: what replaces a resource, what
//! its properties and attributes are, how it takes tags, and the constraints on its values.
//!
//! The tables themselves are generated (`cfn/specs.txt`, one record for every vendored
//! schema, typed or not, read by [`lookup`] on first use: `table`); nothing else in pantri
//! hard-codes such a list. [`check`] holds the
//! synth-time checks of a resource against its entry.

pub mod check;
pub mod class_run;
mod paths;
pub mod pattern;
mod table;

pub use check::{check_constraints, check_resource, ConstraintViolation};
pub use pattern::{compile_pattern, Pattern};

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

/// A constraint of a schema at a property path, checked at synth time on literal values.
#[derive(Clone, Copy, Debug, PartialEq)]
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
    /// A closed set of numbers (log retention days, for instance).
    NumEnum(&'static [f64]),
    /// Numeric bounds, inclusive.
    Range {
        /// Minimum, inclusive.
        min: Option<f64>,
        /// Maximum, inclusive.
        max: Option<f64>,
    },
    /// Numeric bounds, exclusive.
    ExclusiveRange {
        /// The value must be greater.
        min: Option<f64>,
        /// The value must be smaller.
        max: Option<f64>,
    },
    /// Bounds on the number of items of a list.
    Items {
        /// Minimum number of items.
        min: Option<u64>,
        /// Maximum number of items.
        max: Option<u64>,
    },
    /// The properties a nested object must have.
    Required(&'static [&'static str]),
    /// The only properties a nested object may have (the schema says `additionalProperties: false`).
    Properties(&'static [&'static str]),
}

/// A constraint at a property path. The path is a list of property names from the resource's
/// `Properties`; `*` stands for every item of a list or every value of a map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Constraint {
    /// The property path, for example `["LifecycleConfiguration", "Rules", "*", "Status"]`.
    pub path: &'static [&'static str],
    /// What the value must satisfy.
    pub kind: ConstraintKind,
}

/// What the schemas say about one resource type.
#[derive(Clone, Copy, Debug, PartialEq)]
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
    /// The top-level properties a template may set (the schema's properties without the
    /// read-only ones).
    pub properties: &'static [&'static str],
    /// Required top-level properties.
    pub required: &'static [&'static str],
    /// How the type takes tags, if it does.
    pub tagging: Option<Tagging>,
    /// The schema's constraints below the top level: patterns, lengths, enums, ranges, list
    /// sizes, and the required and allowed properties of nested objects.
    pub constraints: &'static [Constraint],
}

/// The spec of a type, when pantri has its schema.
pub fn lookup(type_name: &str) -> Option<&'static TypeSpec> {
    table::lookup(type_name)
}

/// Every type name pantri has a schema for, sorted.
pub fn type_names() -> impl Iterator<Item = &'static str> {
    table::type_names()
}

/// The spec of every type pantri has a schema for, in type-name order. Reads them all: for
/// tests and tools, not for synthesis, which looks up the types it uses.
pub fn all() -> impl Iterator<Item = &'static TypeSpec> {
    table::all()
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: TypeSpec = TypeSpec {
        type_name: "Test::Thing::Thing",
        create_only: &[],
        conditional_create_only: &[],
        primary_identifier: &[],
        attributes: &[],
        properties: &[],
        required: &[],
        tagging: None,
        constraints: &[
            Constraint {
                path: &["Name"],
                kind: ConstraintKind::Pattern("^[a-z-]+$"),
            },
            Constraint {
                path: &["Name"],
                kind: ConstraintKind::Length {
                    min: Some(3),
                    max: Some(8),
                },
            },
            Constraint {
                path: &["Rules", "*", "Status"],
                kind: ConstraintKind::Enum(&["Enabled", "Disabled"]),
            },
            Constraint {
                path: &["Port"],
                kind: ConstraintKind::Range {
                    min: Some(1.0),
                    max: Some(65535.0),
                },
            },
            Constraint {
                path: &["Labels", "*"],
                kind: ConstraintKind::Length {
                    min: None,
                    max: Some(3),
                },
            },
            Constraint {
                path: &["Tricky"],
                kind: ConstraintKind::Pattern("^(?!aws:).*$"),
            },
        ],
    };

    fn props(v: &[ConstraintViolation]) -> Vec<&str> {
        v.iter().map(|v| v.property.as_str()).collect()
    }

    #[test]
    fn valid_literals_pass() {
        let p = json!({"Name": "abc-d", "Rules": [{"Status": "Enabled"}], "Port": 443, "Labels": {"a": "xy"}});
        assert_eq!(check_constraints(&SPEC, &p.into()), vec![]);
    }

    #[test]
    fn each_kind_is_reported_at_its_path() {
        let p = json!({
            "Name": "AB",
            "Rules": [{"Status": "Enabled"}, {"Status": "On"}],
            "Port": "70000",
            "Labels": {"long": "abcd"}
        });
        let v = check_constraints(&SPEC, &p.into());
        assert_eq!(
            props(&v),
            ["Name", "Name", "Rules[1].Status", "Port", "Labels.long"]
        );
        assert!(v[0].message.contains("does not match the pattern"), "{v:?}");
        assert!(v[1].message.contains("shorter than the minimum 3"), "{v:?}");
        assert!(
            v[2].message
                .contains("\"On\" is not one of Enabled, Disabled"),
            "{v:?}"
        );
        assert!(v[3].message.contains("above the maximum 65535"), "{v:?}");
    }

    #[test]
    fn intrinsics_and_dynamic_references_are_skipped() {
        let p = json!({
            "Name": {"Fn::Sub": "${AWS::StackName}-x"},
            "Rules": {"Fn::If": ["C", [{"Status": "bad"}], []]},
            "Port": {"Ref": "Port"},
            "Labels": {"a": "{{resolve:ssm:/x}}"}
        });
        assert_eq!(check_constraints(&SPEC, &p.into()), vec![]);
    }

    #[test]
    fn patterns_search_unanchored_and_unsupported_ones_are_skipped() {
        let spec = TypeSpec {
            constraints: &[Constraint {
                path: &["Name"],
                kind: ConstraintKind::Pattern("[0-9]"),
            }],
            ..SPEC
        };
        assert_eq!(
            check_constraints(&spec, &json!({"Name": "abc1def"}).into()),
            vec![]
        );
        assert_eq!(
            check_constraints(&spec, &json!({"Name": "abc"}).into()).len(),
            1
        );
        // Look-ahead is ECMAScript but not `regex`: skipped, not reported.
        assert_eq!(
            check_constraints(&SPEC, &json!({"Tricky": "aws:x"}).into()),
            vec![]
        );
    }

    #[test]
    fn generated_specs_are_sorted_and_cover_every_vendored_type() {
        let specs: Vec<&TypeSpec> = all().collect();
        assert!(specs.windows(2).all(|w| w[0].type_name < w[1].type_name));
        // Typed (`AWS::S3::Bucket`) and facts-only (`AWS::Glue::Job`) types alike.
        for t in [
            "AWS::S3::Bucket",
            "AWS::Glue::Job",
            "AWS::SQS::Queue",
            "Datadog::Monitors::Monitor",
        ] {
            assert!(lookup(t).is_some(), "{t} has no spec");
        }
        assert!(specs.len() > 1800, "only {} specs", specs.len());
    }

    /// The schema patterns that do not compile (look-around, UTF-16 surrogates, `\p{Print}`;
    /// [`Pattern::new`]): their constraints are skipped at synth, so the list is pinned here and a
    /// schema refresh that adds one shows up in review.
    #[test]
    fn the_patterns_that_do_not_compile_are_the_pinned_ones() {
        let unique: std::collections::BTreeSet<&'static str> = all()
            .flat_map(|s| s.constraints)
            .filter_map(|c| match c.kind {
                ConstraintKind::Pattern(p) => Some(p),
                _ => None,
            })
            .collect();
        assert!(unique.len() > 1000, "only {} patterns", unique.len());
        let failing: Vec<&str> = unique
            .iter()
            .copied()
            .filter(|p| compile_pattern(p).is_none())
            .collect();
        let pinned: Vec<&str> = include_str!("uncompilable_patterns.txt").lines().collect();
        if failing != pinned {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/src/spec/uncompilable_patterns.txt"
            );
            if std::env::var_os("PANTRI_BLESS").is_some() {
                let mut text = failing.join("\n");
                text.push('\n');
                std::fs::write(path, text).expect("writes the pinned list");
            } else {
                panic!(
                    "the patterns that do not compile changed ({} now, {} pinned); review and \
                     rerun with PANTRI_BLESS=1 to rewrite {path}:\nnow: {failing:#?}",
                    failing.len(),
                    pinned.len()
                );
            }
        }
    }
}
