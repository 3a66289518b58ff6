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

/// A schema number as a Rust `f64` literal (`5.0`, `0.5`).
fn num_lit(v: &J) -> Option<String> {
    let f = v.as_f64()?;
    Some(format!("{f:?}"))
}

fn opt_num(v: Option<&J>) -> String {
    match v.and_then(num_lit) {
        Some(n) => format!("Some({n})"),
        None => "None".to_owned(),
    }
}

/// The constraints a schema node states about itself, by keyword (a node may say `enum` or
/// `pattern` without saying `type`).
fn own_constraints(node: &J, path: &[String], out: &mut Vec<Found>) {
    let mut push = |kind: String| {
        out.push(Found {
            path: path.to_vec(),
            kind,
        })
    };
    if let Some(p) = node.get("pattern").and_then(J::as_str) {
        push(format!("Pattern({})", lit(p)));
    }
    let (min, max) = (node.get("minLength"), node.get("maxLength"));
    if min.is_some() || max.is_some() {
        let (min, max) = (min.and_then(J::as_u64), max.and_then(J::as_u64));
        push(format!("Length {{ min: {min:?}, max: {max:?} }}"));
    }
    let (min, max) = (node.get("minItems"), node.get("maxItems"));
    if min.is_some() || max.is_some() {
        let (min, max) = (min.and_then(J::as_u64), max.and_then(J::as_u64));
        push(format!("Items {{ min: {min:?}, max: {max:?} }}"));
    }
    let (min, max) = (node.get("minimum"), node.get("maximum"));
    if min.is_some() || max.is_some() {
        push(format!(
            "Range {{ min: {}, max: {} }}",
            opt_num(min),
            opt_num(max)
        ));
    }
    let (min, max) = (node.get("exclusiveMinimum"), node.get("exclusiveMaximum"));
    if min.and_then(num_lit).is_some() || max.and_then(num_lit).is_some() {
        push(format!(
            "ExclusiveRange {{ min: {}, max: {} }}",
            opt_num(min),
            opt_num(max)
        ));
    }
    if let Some(values) = node
        .get("enum")
        .and_then(J::as_array)
        .filter(|v| !v.is_empty())
    {
        // A closed set of strings, or of numbers (log retention days, ports); a mixed set
        // (rare) is left to the deploy-time check rather than half-checked here.
        let strings: Option<Vec<String>> = values
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect();
        let numbers: Option<Vec<String>> = values.iter().map(num_lit).collect();
        if let Some(strings) = strings {
            push(format!("Enum({})", str_slice(&strings)));
        } else if let Some(numbers) = numbers {
            push(format!("NumEnum(&[{}])", numbers.join(", ")));
        }
    }
    let required: Vec<String> = node
        .get("required")
        .and_then(J::as_array)
        .map(|r| r.iter().filter_map(J::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    // Nested objects only: the top level's required list and property names are the spec's own
    // fields.
    if !path.is_empty() {
        if !required.is_empty() {
            push(format!("Required({})", str_slice(&required)));
        }
        let alternatives = ["oneOf", "anyOf", "allOf", "patternProperties"]
            .iter()
            .any(|k| node.get(*k).is_some());
        if node.get("additionalProperties") == Some(&J::Bool(false)) && !alternatives {
            if let Some(props) = node.get("properties").and_then(J::as_object) {
                let names: Vec<String> = props.keys().cloned().collect();
                push(format!("Properties({})", str_slice(&names)));
            }
        }
    }
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
    own_constraints(node, path, out);
    if let Some(items) = node.get("items").filter(|i| i.is_object()) {
        path.push("*".to_owned());
        collect(root, items, path, refs, out);
        path.pop();
    }
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
    let properties: Vec<String> = schema
        .get("properties")
        .and_then(J::as_object)
        .map(|p| p.keys().filter(|k| !skip.contains(k)).cloned().collect())
        .unwrap_or_default();
    let _ = writeln!(s, "    properties: {},", str_slice(&properties));
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
