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

/// A literal property value that breaks a constraint of its type's schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintViolation {
    /// Where, as a dotted path with list indexes: `LifecycleConfiguration.Rules[0].Status`.
    pub property: String,
    /// What is wrong, naming the value and the constraint.
    pub message: String,
}

/// Checks the literal values of `properties` (a resource's `Properties`, as JSON) against the
/// constraints of `spec`.
///
/// Intrinsics (an object with a single `Ref` or `Fn::*` key) and dynamic references
/// (`{{resolve:...}}`) are skipped: their values are only known at deploy time. Patterns are
/// ECMAScript regular expressions, searched unanchored as JSON Schema does; the few that the
/// `regex` crate cannot compile (look-around, for instance) are skipped.
pub fn check_constraints(
    spec: &TypeSpec,
    properties: &serde_json::Value,
) -> Vec<ConstraintViolation> {
    let mut out = Vec::new();
    for c in spec.constraints {
        let mut found = Vec::new();
        values_at(properties, c.path, String::new(), &mut found);
        for (property, value) in found {
            if let Some(message) = violation(&c.kind, value) {
                out.push(ConstraintViolation { property, message });
            }
        }
    }
    out
}

/// True for `{"Ref": ...}` and `{"Fn::...": ...}`.
fn is_intrinsic(v: &serde_json::Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.len() == 1
            && o.keys()
                .next()
                .is_some_and(|k| k == "Ref" || k.starts_with("Fn::") || k == "Condition")
    })
}

fn values_at<'a>(
    v: &'a serde_json::Value,
    path: &[&str],
    at: String,
    out: &mut Vec<(String, &'a serde_json::Value)>,
) {
    if is_intrinsic(v) {
        return;
    }
    let Some((first, rest)) = path.split_first() else {
        out.push((at, v));
        return;
    };
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match (*first, v) {
        ("*", serde_json::Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                values_at(item, rest, format!("{at}[{i}]"), out);
            }
        }
        ("*", serde_json::Value::Object(map)) => {
            for (k, item) in map {
                values_at(item, rest, join(k), out);
            }
        }
        (key, serde_json::Value::Object(map)) => {
            if let Some(item) = map.get(key) {
                values_at(item, rest, join(key), out);
            }
        }
        _ => {}
    }
}

/// Patterns compiled so far: each schema pattern is compiled once per process, whichever thread
/// renders the stack that first needs it (a `Regex` clone shares the compiled program).
static REGEX_CACHE: std::sync::Mutex<
    std::collections::BTreeMap<&'static str, Option<regex::Regex>>,
> = std::sync::Mutex::new(std::collections::BTreeMap::new());

/// The compiled pattern, or `None` when the `regex` crate does not support it.
pub fn compile_pattern(pattern: &'static str) -> Option<regex::Regex> {
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut cache = REGEX_CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(pattern)
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .clone()
}

fn number_of(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn violation(kind: &ConstraintKind, v: &serde_json::Value) -> Option<String> {
    if let serde_json::Value::String(s) = v {
        if s.contains("{{resolve:") {
            return None;
        }
    }
    match *kind {
        ConstraintKind::Pattern(p) => {
            let s = v.as_str()?;
            let re = compile_pattern(p)?;
            (!re.is_match(s)).then(|| format!("{s:?} does not match the pattern {p}"))
        }
        ConstraintKind::Length { min, max } => {
            let s = v.as_str()?;
            let len = s.chars().count() as u64;
            match (min, max) {
                (Some(min), _) if len < min => Some(format!(
                    "{s:?} is {len} characters long, shorter than the minimum {min}"
                )),
                (_, Some(max)) if len > max => Some(format!(
                    "{s:?} is {len} characters long, longer than the maximum {max}"
                )),
                _ => None,
            }
        }
        ConstraintKind::Enum(values) => {
            let s = v.as_str()?;
            (!values.contains(&s)).then(|| format!("{s:?} is not one of {}", values.join(", ")))
        }
        ConstraintKind::Range { min, max } => {
            let n = number_of(v)?;
            match (min, max) {
                (Some(min), _) if n < min as f64 => Some(format!("{n} is below the minimum {min}")),
                (_, Some(max)) if n > max as f64 => Some(format!("{n} is above the maximum {max}")),
                _ => None,
            }
        }
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
                    min: Some(1),
                    max: Some(65535),
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
        assert_eq!(check_constraints(&SPEC, &p), vec![]);
    }

    #[test]
    fn each_kind_is_reported_at_its_path() {
        let p = json!({
            "Name": "AB",
            "Rules": [{"Status": "Enabled"}, {"Status": "On"}],
            "Port": "70000",
            "Labels": {"long": "abcd"}
        });
        let v = check_constraints(&SPEC, &p);
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
        assert_eq!(check_constraints(&SPEC, &p), vec![]);
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
            check_constraints(&spec, &json!({"Name": "abc1def"})),
            vec![]
        );
        assert_eq!(check_constraints(&spec, &json!({"Name": "abc"})).len(), 1);
        // Look-ahead is ECMAScript but not `regex`: skipped, not reported.
        assert_eq!(
            check_constraints(&SPEC, &json!({"Tricky": "aws:x"})),
            vec![]
        );
    }

    #[test]
    fn generated_specs_are_sorted_and_their_patterns_mostly_compile() {
        let specs = crate::cfn::SPECS;
        assert!(specs.windows(2).all(|w| w[0].type_name < w[1].type_name));
        assert!(lookup("AWS::S3::Bucket").is_some());
        let patterns: Vec<&'static str> = specs
            .iter()
            .flat_map(|s| s.constraints)
            .filter_map(|c| match c.kind {
                ConstraintKind::Pattern(p) => Some(p),
                _ => None,
            })
            .collect();
        let failing: Vec<_> = patterns
            .iter()
            .filter(|p| compile_pattern(p).is_none())
            .collect();
        eprintln!(
            "{} of {} patterns do not compile: {failing:?}",
            failing.len(),
            patterns.len()
        );
        assert!(failing.len() * 10 < patterns.len());
    }
}
