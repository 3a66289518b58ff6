//! The `TypeSpec` literal of a resource: replacement, identifier, attributes, tagging and the
//! constraints on primitive properties, all read from the same schema as the structs.

use std::fmt::Write;

use serde_json::Value as J;

use crate::model::{self, resolve};

/// How deep constraint collection follows `$ref`s into definitions.
const MAX_REF_DEPTH: usize = 4;

/// One constraint, rendered as a `ConstraintKind` expression.
struct Found {
    path: Vec<String>,
    kind: String,
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn str_slice(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| lit(s)).collect();
    format!("&[{}]", inner.join(", "))
}

fn as_i64(v: Option<&J>) -> Option<i64> {
    let v = v?;
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

fn collect(
    root: &J,
    node: &J,
    path: &mut Vec<String>,
    refs: &mut Vec<String>,
    out: &mut Vec<Found>,
) {
    let (def, node) = resolve(root, node);
    let pushed = match def {
        Some(d) if refs.iter().any(|r| r == d) || refs.len() >= MAX_REF_DEPTH => return,
        Some(d) => {
            refs.push(d.to_owned());
            true
        }
        None => false,
    };
    let ty = match node.get("type") {
        Some(J::String(s)) => Some(s.as_str()),
        _ => None,
    };
    match ty {
        Some("string") => {
            if let Some(p) = node.get("pattern").and_then(J::as_str) {
                out.push(Found {
                    path: path.clone(),
                    kind: format!("Pattern({})", lit(p)),
                });
            }
            let min = node.get("minLength").and_then(J::as_u64);
            let max = node.get("maxLength").and_then(J::as_u64);
            if min.is_some() || max.is_some() {
                out.push(Found {
                    path: path.clone(),
                    kind: format!("Length {{ min: {min:?}, max: {max:?} }}"),
                });
            }
            if let Some(values) = node.get("enum").and_then(J::as_array) {
                let values: Option<Vec<String>> = values
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect();
                if let Some(values) = values.filter(|v| !v.is_empty()) {
                    out.push(Found {
                        path: path.clone(),
                        kind: format!("Enum({})", str_slice(&values)),
                    });
                }
            }
        }
        Some("integer") | Some("number") => {
            let min = as_i64(node.get("minimum"));
            let max = as_i64(node.get("maximum"));
            if min.is_some() || max.is_some() {
                out.push(Found {
                    path: path.clone(),
                    kind: format!("Range {{ min: {min:?}, max: {max:?} }}"),
                });
            }
        }
        Some("array") => {
            if let Some(items) = node.get("items") {
                path.push("*".to_owned());
                collect(root, items, path, refs, out);
                path.pop();
            }
        }
        _ => {
            if let Some(props) = node.get("properties").and_then(J::as_object) {
                for (name, p) in props {
                    path.push(name.clone());
                    collect(root, p, path, refs, out);
                    path.pop();
                }
            }
            let values = node
                .get("patternProperties")
                .and_then(J::as_object)
                .into_iter()
                .flat_map(|pp| pp.values())
                .chain(node.get("additionalProperties").filter(|a| a.is_object()));
            for v in values {
                path.push("*".to_owned());
                collect(root, v, path, refs, out);
                path.pop();
            }
        }
    }
    if pushed {
        refs.pop();
    }
}

/// How the type takes tags: the schema's `tagging` section names the property, its shape
/// gives the form.
fn tagging(schema: &J) -> String {
    let Some(t) = schema.get("tagging") else {
        return "None".to_owned();
    };
    if t.get("taggable").and_then(J::as_bool) == Some(false) {
        return "None".to_owned();
    }
    let pointer = t
        .get("tagProperty")
        .and_then(J::as_str)
        .unwrap_or("/properties/Tags");
    let Some(node) = model::property_at(schema, pointer) else {
        return "None".to_owned();
    };
    let form = match node.get("type").and_then(J::as_str) {
        Some("array") => "List",
        Some("object") => "Map",
        _ => return "None".to_owned(),
    };
    let property = pointer.trim_start_matches("/properties/");
    format!(
        "Some(Tagging {{ property: {}, form: TagForm::{form} }})",
        lit(property)
    )
}

/// The `TypeSpec { ... }` expression of a schema, indented for a `const` item.
pub fn type_spec(schema: &J, type_name: &str, attributes: &[String]) -> String {
    let required = model::pointers(schema, "required");
    let mut found = Vec::new();
    let skip = model::read_only_top_level(schema);
    if let Some(props) = schema.get("properties").and_then(J::as_object) {
        for (name, p) in props {
            if skip.contains(name) {
                continue;
            }
            let mut path = vec![name.clone()];
            collect(schema, p, &mut path, &mut Vec::new(), &mut found);
        }
    }
    let mut s = String::new();
    let _ = writeln!(s, "TypeSpec {{");
    let _ = writeln!(s, "    type_name: {},", lit(type_name));
    for (field, key) in [
        ("create_only", "createOnlyProperties"),
        ("conditional_create_only", "conditionalCreateOnlyProperties"),
        ("primary_identifier", "primaryIdentifier"),
    ] {
        let _ = writeln!(
            s,
            "    {field}: {},",
            str_slice(&model::pointers(schema, key))
        );
    }
    let _ = writeln!(s, "    attributes: {},", str_slice(attributes));
    let _ = writeln!(s, "    required: {},", str_slice(&required));
    let _ = writeln!(s, "    tagging: {},", tagging(schema));
    if found.is_empty() {
        let _ = writeln!(s, "    constraints: &[],");
    } else {
        let _ = writeln!(s, "    constraints: &[");
        for f in &found {
            let _ = writeln!(
                s,
                "        Constraint {{ path: {}, kind: ConstraintKind::{} }},",
                str_slice(&f.path),
                f.kind
            );
        }
        let _ = writeln!(s, "    ],");
    }
    s.push('}');
    s
}
