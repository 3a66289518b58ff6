//! The schema facts of a resource type (replacement, identifier, attributes, tagging and the
//! constraints on primitive properties), read from the same schema as the structs, as one
//! record of `synth/src/cfn/specs.txt`.
//!
//! The record format is line-based text that `pantri_synth::spec::table` reads without
//! copying: every string of the facts is a slice of that one file, so the binary holds no
//! pointer tables that the loader must relocate at every start (the facts of ~1,500 types
//! were 260,000 relocations and most of a `pantri --version`). One line per field, fields
//! separated by tabs, a field left out when it is empty:
//!
//! ```text
//! type                     AWS::S3::Bucket
//! create_only              /properties/BucketName
//! conditional_create_only  ...
//! primary_identifier       /properties/BucketName
//! attributes               Arn  DomainName ...
//! properties               AccelerateConfiguration  ...   (the writable top-level ones)
//! required                 ...
//! tagging                  Tags  list|map
//! constraint               Rules/*/Status  enum  Enabled  Disabled
//! ```
//!
//! A constraint's path joins property names with `/` (`*` is every item or value); its kind is
//! `pattern P`, `length MIN MAX`, `items MIN MAX`, `range MIN MAX`, `xrange MIN MAX` (`-` for
//! no bound), `enum V...`, `numenum N...`, `required NAME...` or `properties NAME...`.

use anyhow::{bail, Result};
use serde_json::Value as J;

use crate::model::{self, resolve};

/// How deep constraint collection follows `$ref`s into definitions.
const MAX_REF_DEPTH: usize = 4;

/// One constraint: its property path and its kind's fields (`["length", "1", "128"]`).
struct Found {
    path: Vec<String>,
    kind: Vec<String>,
}

/// A schema number as the record writes it: Rust's shortest round-tripping form (`5.0`,
/// `0.5`), which `str::parse::<f64>` reads back exactly.
fn num_lit(v: &J) -> Option<String> {
    let f = v.as_f64()?;
    Some(format!("{f:?}"))
}

/// A pattern with its control characters (a tab, a line break, NUL) written as the regex
/// escapes that match them (`\t`, `\x00`): the same pattern, in a form a line of the record can
/// hold and a reviewer can read.
pub(crate) fn escape_controls(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn opt_num(v: Option<&J>) -> String {
    v.and_then(num_lit).unwrap_or_else(|| "-".to_owned())
}

fn opt_int(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

fn fields(kind: &str, items: impl IntoIterator<Item = String>) -> Vec<String> {
    std::iter::once(kind.to_owned()).chain(items).collect()
}

/// The constraints a schema node states about itself, by keyword (a node may say `enum` or
/// `pattern` without saying `type`).
fn own_constraints(node: &J, path: &[String], out: &mut Vec<Found>) {
    let mut push = |kind: Vec<String>| {
        out.push(Found {
            path: path.to_vec(),
            kind,
        })
    };
    if let Some(p) = node.get("pattern").and_then(J::as_str) {
        push(fields("pattern", [escape_controls(p)]));
    }
    let (min, max) = (node.get("minLength"), node.get("maxLength"));
    if min.is_some() || max.is_some() {
        let (min, max) = (min.and_then(J::as_u64), max.and_then(J::as_u64));
        push(fields("length", [opt_int(min), opt_int(max)]));
    }
    let (min, max) = (node.get("minItems"), node.get("maxItems"));
    if min.is_some() || max.is_some() {
        let (min, max) = (min.and_then(J::as_u64), max.and_then(J::as_u64));
        push(fields("items", [opt_int(min), opt_int(max)]));
    }
    let (min, max) = (node.get("minimum"), node.get("maximum"));
    if min.is_some() || max.is_some() {
        push(fields("range", [opt_num(min), opt_num(max)]));
    }
    let (min, max) = (node.get("exclusiveMinimum"), node.get("exclusiveMaximum"));
    if min.and_then(num_lit).is_some() || max.and_then(num_lit).is_some() {
        push(fields("xrange", [opt_num(min), opt_num(max)]));
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
            push(fields("enum", strings));
        } else if let Some(numbers) = numbers {
            push(fields("numenum", numbers));
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
            push(fields("required", required));
        }
        let alternatives = ["oneOf", "anyOf", "allOf", "patternProperties"]
            .iter()
            .any(|k| node.get(*k).is_some());
        if node.get("additionalProperties") == Some(&J::Bool(false)) && !alternatives {
            if let Some(props) = node.get("properties").and_then(J::as_object) {
                let names: Vec<String> = props.keys().cloned().collect();
                push(fields("properties", names));
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

/// How the type takes tags (`["Tags", "list"]`): the schema's `tagging` section names the
/// property, its shape gives the form.
fn tagging(schema: &J) -> Option<[String; 2]> {
    let t = schema.get("tagging")?;
    if t.get("taggable").and_then(J::as_bool) == Some(false) {
        return None;
    }
    let pointer = t
        .get("tagProperty")
        .and_then(J::as_str)
        .unwrap_or("/properties/Tags");
    let node = model::property_at(schema, pointer)?;
    let form = match node.get("type").and_then(J::as_str) {
        Some("array") => "list",
        Some("object") => "map",
        _ => return None,
    };
    let property = pointer.trim_start_matches("/properties/");
    Some([property.to_owned(), form.to_owned()])
}

/// One line of a record: the field's name and its items, tab-separated. An item that holds a
/// tab or a line break would split the record wrongly, so it is an error (no schema has one).
fn line(out: &mut String, type_name: &str, field: &str, items: &[String]) -> Result<()> {
    for item in items {
        if item.contains(['\t', '\n', '\r']) {
            bail!("{type_name}: {field} {item:?} holds a tab or a line break, which specs.txt cannot store");
        }
    }
    out.push_str(field);
    for item in items {
        out.push('\t');
        out.push_str(item);
    }
    out.push('\n');
    Ok(())
}

/// The facts of a schema as one record of `specs.txt` (see the module docs for the format).
pub fn spec_record(schema: &J, type_name: &str, attributes: &[String]) -> Result<String> {
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
    line(&mut s, type_name, "type", &[type_name.to_owned()])?;
    let properties: Vec<String> = schema
        .get("properties")
        .and_then(J::as_object)
        .map(|p| p.keys().filter(|k| !skip.contains(k)).cloned().collect())
        .unwrap_or_default();
    let lists = [
        (
            "create_only",
            model::pointers(schema, "createOnlyProperties"),
        ),
        (
            "conditional_create_only",
            model::pointers(schema, "conditionalCreateOnlyProperties"),
        ),
        (
            "primary_identifier",
            model::pointers(schema, "primaryIdentifier"),
        ),
        ("attributes", attributes.to_vec()),
        ("properties", properties),
        ("required", required),
    ];
    for (field, items) in lists {
        if !items.is_empty() {
            line(&mut s, type_name, field, &items)?;
        }
    }
    if let Some(t) = tagging(schema) {
        line(&mut s, type_name, "tagging", &t)?;
    }
    for f in found {
        if let Some(bad) = f.path.iter().find(|p| p.contains('/') || p.is_empty()) {
            bail!("{type_name}: property name {bad:?} cannot be a step of a constraint path");
        }
        let items: Vec<String> = std::iter::once(f.path.join("/")).chain(f.kind).collect();
        line(&mut s, type_name, "constraint", &items)?;
    }
    Ok(s)
}
