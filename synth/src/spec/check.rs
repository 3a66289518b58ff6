//! Synth-time checks of a resource's properties against its [`TypeSpec`]: unknown and missing
//! properties (with a "did you mean"), and every constraint of the schema on literal values.

use super::paths::{is_intrinsic, PathTree, Step};
use super::pattern::matches;
use super::{ConstraintKind, TypeSpec};
use crate::json::{JsonObject, JsonValue};

/// A literal property value that breaks a constraint of its type's schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintViolation {
    /// Where, as a dotted path with list indexes: `LifecycleConfiguration.Rules[0].Status`.
    pub property: String,
    /// What is wrong, naming the value and the constraint.
    pub message: String,
}

/// Checks a resource of the template against the schema of its type: one message per problem,
/// each naming the type, the property path and what to do. A type without a schema is an error
/// (except custom resources, `Custom::*`, whose properties are the provider's own).
pub fn check_element(type_name: &str, properties: &JsonValue) -> Vec<String> {
    if type_name.starts_with("Custom::") {
        return Vec::new();
    }
    let Some(spec) = super::lookup(type_name) else {
        let hint = match did_you_mean(type_name, super::type_names()) {
            Some(m) => format!("did you mean {m}?"),
            None => "check the spelling, or vendor its schema (scripts/refresh-schemas)".to_owned(),
        };
        return vec![format!(
            "unknown resource type {type_name:?}: no CloudFormation registry schema has it; {hint}"
        )];
    };
    check_resource(spec, properties)
        .into_iter()
        .map(|v| format!("{type_name} {}: {}", v.property, v.message))
        .collect()
}

/// Checks a resource's `Properties` (as JSON) against its schema: every top-level property is
/// one the type has (an unknown one names the closest known one), every required top-level
/// property is there, and every literal value meets the constraints ([`check_constraints`]).
pub fn check_resource(spec: &TypeSpec, properties: &JsonValue) -> Vec<ConstraintViolation> {
    let mut out = Vec::new();
    let empty = JsonObject::new();
    let map = match properties {
        JsonValue::Object(m) => m,
        _ => &empty,
    };
    if !is_intrinsic(properties) {
        out.extend(unknown_keys(map, spec.properties, &|| String::new()));
        out.extend(missing_keys(map, spec.required, &|| String::new()));
    }
    out.extend(check_constraints(spec, properties));
    out
}

/// The closest of `candidates` to `name`, when one is close enough to be a likely typo (a
/// different case, or a few letters off).
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c.to_lowercase() == lower {
            return Some(c);
        }
        let score = strsim::jaro_winkler(&lower, &c.to_lowercase());
        if score >= 0.85 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

fn at_key(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

/// The keys of `map` that are not `known`; `at` is the object's path, built only for one.
fn unknown_keys(
    map: &JsonObject,
    known: &'static [&'static str],
    at: &dyn Fn() -> String,
) -> Vec<ConstraintViolation> {
    if map.keys().all(|k| known.contains(&k.as_str())) {
        return Vec::new();
    }
    let at = at();
    map.keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| {
            let hint = match did_you_mean(k, known.iter().copied()) {
                Some(m) => format!("did you mean {m:?}?"),
                None if known.is_empty() => "the type has no properties".to_owned(),
                None => format!("it has: {}", known.join(", ")),
            };
            ConstraintViolation {
                property: at_key(&at, k),
                message: format!("unknown property; {hint}"),
            }
        })
        .collect()
}

/// The `required` keys missing from `map`; `at` is the object's path, built only for one.
fn missing_keys(
    map: &JsonObject,
    required: &'static [&'static str],
    at: &dyn Fn() -> String,
) -> Vec<ConstraintViolation> {
    if required.iter().all(|r| map.contains_key(r)) {
        return Vec::new();
    }
    let at = at();
    required
        .iter()
        .filter(|r| !map.contains_key(r))
        .map(|r| ConstraintViolation {
            property: at_key(&at, r),
            message: "required property is missing".to_owned(),
        })
        .collect()
}

/// Checks the literal values of `properties` (a resource's `Properties`, as JSON) against the
/// constraints of `spec`.
///
/// Intrinsics (an object with a single `Ref` or `Fn::*` key) and dynamic references
/// (`{{resolve:...}}`) are skipped: their values are only known at deploy time. Patterns are
/// ECMAScript regular expressions, searched unanchored as JSON Schema does; the few that the
/// `regex` crate cannot compile (look-around, for instance) are skipped.
pub fn check_constraints(spec: &TypeSpec, properties: &JsonValue) -> Vec<ConstraintViolation> {
    // Found by constraint, then in the order of the document: sorted by constraint below.
    let mut found: Vec<(usize, ConstraintViolation)> = Vec::new();
    PathTree::of(spec.constraints).walk(properties, &mut Vec::new(), &mut |i, at, value| {
        let Some(c) = spec.constraints.get(i) else {
            return;
        };
        // The property path is built only for a violation: most values pass, and formatting
        // the path of every checked value was a tenth of a synthesis.
        match (c.kind, value) {
            (ConstraintKind::Properties(known), JsonValue::Object(map)) => {
                found.extend(
                    unknown_keys(map, known, &|| property_path(at))
                        .into_iter()
                        .map(|v| (i, v)),
                );
            }
            (ConstraintKind::Required(required), JsonValue::Object(map)) => {
                found.extend(
                    missing_keys(map, required, &|| property_path(at))
                        .into_iter()
                        .map(|v| (i, v)),
                );
            }
            _ => {
                if let Some(message) = violation(&c.kind, value) {
                    found.push((
                        i,
                        ConstraintViolation {
                            property: property_path(at),
                            message,
                        },
                    ));
                }
            }
        }
    });
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, v)| v).collect()
}

/// The dotted path with list indexes: `LifecycleConfiguration.Rules[0].Status`.
fn property_path(steps: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn number_of(v: &JsonValue) -> Option<f64> {
    match v {
        JsonValue::Number(n) => n.as_f64(),
        JsonValue::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn bound(n: f64) -> String {
    // Integral bounds print as integers (365, not 365.0).
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn violation(kind: &ConstraintKind, v: &JsonValue) -> Option<String> {
    if let JsonValue::String(s) = v {
        if s.contains("{{resolve:") {
            return None;
        }
    }
    match *kind {
        ConstraintKind::Pattern(p) => {
            let s = v.as_str()?;
            (!matches(p, s)?).then(|| format!("{s:?} does not match the pattern {p}"))
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
        ConstraintKind::NumEnum(values) => {
            let n = number_of(v)?;
            (!values.contains(&n)).then(|| {
                let list: Vec<String> = values.iter().map(|x| bound(*x)).collect();
                format!("{} is not one of {}", bound(n), list.join(", "))
            })
        }
        ConstraintKind::Range { min, max } => {
            let n = number_of(v)?;
            match (min, max) {
                (Some(min), _) if n < min => {
                    Some(format!("{} is below the minimum {}", bound(n), bound(min)))
                }
                (_, Some(max)) if n > max => {
                    Some(format!("{} is above the maximum {}", bound(n), bound(max)))
                }
                _ => None,
            }
        }
        ConstraintKind::ExclusiveRange { min, max } => {
            let n = number_of(v)?;
            match (min, max) {
                (Some(min), _) if n <= min => {
                    Some(format!("{} is not above {}", bound(n), bound(min)))
                }
                (_, Some(max)) if n >= max => {
                    Some(format!("{} is not below {}", bound(n), bound(max)))
                }
                _ => None,
            }
        }
        ConstraintKind::Items { min, max } => {
            let len = v.as_array()?.len() as u64;
            match (min, max) {
                (Some(min), _) if len < min => {
                    Some(format!("{len} items, fewer than the minimum {min}"))
                }
                (_, Some(max)) if len > max => {
                    Some(format!("{len} items, more than the maximum {max}"))
                }
                _ => None,
            }
        }
        ConstraintKind::Required(_) | ConstraintKind::Properties(_) => None,
    }
}
