//! Impact of a property change from the schema, and the references that make a replacement
//! propagate to the resources that use the replaced one.

use super::model::Impact;
use crate::spec::TypeSpec;
use serde_json::Value;
use std::fmt::Write as _;

/// One step of a path inside `Properties`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// References found in a value: (path of the outermost intrinsic holding it, logical ID).
pub(crate) type References = Vec<(Vec<Seg>, String)>;

/// `ContainerDefinitions[0].Cpu`.
pub(crate) fn format_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

/// Replacements the registry schemas do not record: (type, property pointer, why).
///
/// Checked systematically: the only vendored types whose primary identifier has a property that
/// is neither create-only nor an attribute is `AWS::Route53::RecordSet` (`Name`, `Type`,
/// `SetIdentifier`). CloudFormation's older resource specification gives `Name` the update type
/// Immutable (replacement) and `Type` and `SetIdentifier` Mutable, so only `Name` is here.
pub(crate) const REPLACE_OVERRIDES: &[(&str, &str, &str)] = &[(
    "AWS::Route53::RecordSet",
    "/properties/Name",
    "a record's name is its identity in the zone: CloudFormation creates the record under the \
     new name and deletes the old one (update type Immutable in CloudFormation's resource \
     specification; the registry schema lists only the hosted zone as create-only)",
)];

/// The impact of changing the value at `path` from `old` to `new`, for a resource of type
/// `type_name` described by `spec`. Without a spec (a type pantri has no schema for) a change
/// counts as an update unless [`REPLACE_OVERRIDES`] says otherwise.
pub(crate) fn property_impact(
    type_name: &str,
    spec: Option<&TypeSpec>,
    path: &[Seg],
    old: Option<&Value>,
    new: Option<&Value>,
) -> Impact {
    let overridden = REPLACE_OVERRIDES
        .iter()
        .any(|(t, p, _)| *t == type_name && pointer_hits(p, path, old, new));
    if overridden {
        return Impact::Replace;
    }
    let Some(spec) = spec else {
        return Impact::Update;
    };
    if spec
        .create_only
        .iter()
        .any(|p| pointer_hits(p, path, old, new))
    {
        Impact::Replace
    } else if spec
        .conditional_create_only
        .iter()
        .any(|p| pointer_hits(p, path, old, new))
    {
        Impact::MayReplace
    } else {
        Impact::Update
    }
}

/// True when a change at `path` touches the schema pointer `pointer`: the change is at or under
/// the pointed property, or it is above it and the pointed values differ.
fn pointer_hits(pointer: &str, path: &[Seg], old: Option<&Value>, new: Option<&Value>) -> bool {
    let Some(rest) = pointer.strip_prefix("/properties/") else {
        return false;
    };
    let ptr: Vec<&str> = rest.split('/').collect();
    for (p, s) in ptr.iter().zip(path) {
        let same = match s {
            Seg::Key(k) => p == k,
            Seg::Index(i) => *p == "*" || p.parse::<usize>().ok() == Some(*i),
        };
        if !same {
            return false;
        }
    }
    if ptr.len() <= path.len() {
        return true;
    }
    let below = &ptr[path.len()..];
    let mut a = Vec::new();
    let mut b = Vec::new();
    if let Some(v) = old {
        collect(v, below, &mut a);
    }
    if let Some(v) = new {
        collect(v, below, &mut b);
    }
    a.len() != b.len()
        || a.iter()
            .zip(&b)
            .any(|(x, y)| !super::normalize::equivalent(x, y))
}

fn collect<'a>(v: &'a Value, ptr: &[&str], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = ptr.split_first() else {
        out.push(v);
        return;
    };
    match v {
        Value::Object(m) if *first == "*" => m.values().for_each(|x| collect(x, rest, out)),
        Value::Object(m) => {
            if let Some(x) = m.get(*first) {
                collect(x, rest, out);
            }
        }
        Value::Array(a) if *first == "*" => a.iter().for_each(|x| collect(x, rest, out)),
        Value::Array(a) => {
            if let Some(x) = first.parse::<usize>().ok().and_then(|i| a.get(i)) {
                collect(x, rest, out);
            }
        }
        _ => {}
    }
}

/// True for an intrinsic function object (`{"Ref": ..}`, `{"Fn::X": ..}`, `{"Condition": ..}`).
pub(crate) fn is_intrinsic(v: &Value) -> bool {
    match v {
        Value::Object(m) if m.len() == 1 => m
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::")),
        _ => false,
    }
}

/// Every reference to another logical ID inside `value`, as (path of the outermost intrinsic
/// that holds it, logical ID). Covers `Ref`, `Fn::GetAtt` and `${Id}` / `${Id.Attr}` in `Fn::Sub`,
/// at any depth of any other intrinsic.
pub(crate) fn references(value: &Value) -> References {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(value, &mut path, None, &mut out);
    out
}

fn walk(v: &Value, path: &mut Vec<Seg>, anchor: Option<&[Seg]>, out: &mut Vec<(Vec<Seg>, String)>) {
    if anchor.is_none() && is_intrinsic(v) {
        let here = path.clone();
        walk(v, path, Some(&here), out);
        return;
    }
    let at = || anchor.map(<[Seg]>::to_vec).unwrap_or_default();
    match v {
        Value::Object(m) => {
            if let (1, Some(Value::String(id))) = (m.len(), m.get("Ref")) {
                if !id.starts_with("AWS::") {
                    out.push((at(), id.clone()));
                }
                return;
            }
            if let (1, Some(Value::Array(a))) = (m.len(), m.get("Fn::GetAtt")) {
                if let Some(Value::String(id)) = a.first() {
                    out.push((at(), id.clone()));
                }
                return;
            }
            if let (1, Some(sub)) = (m.len(), m.get("Fn::Sub")) {
                let (text, vars) = match sub {
                    Value::String(s) => (Some(s.as_str()), None),
                    Value::Array(a) => (a.first().and_then(Value::as_str), a.get(1)),
                    _ => (None, None),
                };
                let bound: Vec<&str> = vars
                    .and_then(Value::as_object)
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                for id in sub_references(text.unwrap_or("")) {
                    if !bound.contains(&id.as_str()) {
                        out.push((at(), id));
                    }
                }
                if let Some(vars) = vars {
                    walk(vars, path, anchor, out);
                }
                return;
            }
            for (k, x) in m {
                path.push(Seg::Key(k.clone()));
                walk(x, path, anchor, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(x, path, anchor, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The logical IDs named by `${Id}` or `${Id.Attr}` in a `Fn::Sub` string (not `${!Literal}`,
/// not pseudo parameters).
pub(crate) fn sub_references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        rest = &rest[end + 1..];
        if name.starts_with('!') || name.starts_with("AWS::") {
            continue;
        }
        let id = name.split('.').next().unwrap_or(name);
        if !id.is_empty() {
            out.push(id.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static SPEC: TypeSpec = TypeSpec {
        type_name: "AWS::Test::Thing",
        create_only: &[
            "/properties/Name",
            "/properties/Config/Zone",
            "/properties/Items/*/Id",
        ],
        conditional_create_only: &["/properties/Engine"],
        primary_identifier: &[],
        attributes: &[],
        properties: &[],
        required: &[],
        tagging: None,
        constraints: &[],
    };

    fn key(k: &str) -> Seg {
        Seg::Key(k.into())
    }

    #[test]
    fn impact_from_pointers() {
        let cases: Vec<(Vec<Seg>, Value, Value, Impact)> = vec![
            (vec![key("Name")], json!("a"), json!("b"), Impact::Replace),
            (
                vec![key("Engine")],
                json!("a"),
                json!("b"),
                Impact::MayReplace,
            ),
            (vec![key("Size")], json!(1), json!(2), Impact::Update),
            (
                vec![key("Config"), key("Zone")],
                json!(1),
                json!(2),
                Impact::Replace,
            ),
            // A change above a nested create-only property: only when that value differs.
            (
                vec![key("Config")],
                json!({"Zone": 1, "X": 1}),
                json!({"Zone": 1, "X": 2}),
                Impact::Update,
            ),
            (
                vec![key("Config")],
                json!({"Zone": 1}),
                json!({"Zone": 2}),
                Impact::Replace,
            ),
            (
                vec![key("Items"), Seg::Index(3), key("Id")],
                json!(1),
                json!(2),
                Impact::Replace,
            ),
            (
                vec![key("Items"), Seg::Index(3), key("Other")],
                json!(1),
                json!(2),
                Impact::Update,
            ),
        ];
        for (path, old, new, want) in cases {
            let got = property_impact(SPEC.type_name, Some(&SPEC), &path, Some(&old), Some(&new));
            assert_eq!(got, want, "{}", format_path(&path));
        }
    }

    #[test]
    fn finds_references_in_every_form() {
        let v = json!({
            "A": {"Ref": "Subnet"},
            "B": [{"Fn::GetAtt": ["Role", "Arn"]}],
            "C": {"Fn::Join": ["", ["x", {"Ref": "Queue"}, {"Ref": "AWS::Region"}]]},
            "D": {"Fn::Sub": "${Bucket.Arn}/${AWS::Region}/${!Literal}/${Var}"},
            "E": {"Fn::Sub": ["${Var}", {"Var": {"Ref": "Topic"}}]}
        });
        let got: Vec<(String, String)> = references(&v)
            .into_iter()
            .map(|(p, id)| (format_path(&p), id))
            .collect();
        let want = [
            ("A", "Subnet"),
            ("B[0]", "Role"),
            ("C", "Queue"),
            ("D", "Bucket"),
            ("D", "Var"),
            ("E", "Topic"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want);
    }
}
