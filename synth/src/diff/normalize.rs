//! Canonical forms, so that equivalent templates compare equal: the noise that must stay out of
//! a diff (key order is already ignored by `serde_json::Map` equality).

use serde_json::{Map, Number, Value};

/// A number as CloudFormation reads it: a whole number without a fraction (`90.0` is `90`).
pub(crate) fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
        Some(f) => f.to_string(),
        None => n.to_string(),
    }
}

/// True when CloudFormation sees `a` and `b` as the same value: the same structure (key order
/// aside) with scalars equal as CloudFormation reads them: `"512"` and `512`, `"true"` and
/// `true`, `90.0` and `90`. Two strings compare exactly (`"1.10"` is not `"1.1"`).
pub(crate) fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equivalent(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equivalent(v, w))
        }
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            s.trim() == s && s.parse::<f64>().ok().is_some_and(|f| Some(f) == n.as_f64())
        }
        (Value::Bool(x), Value::String(s)) | (Value::String(s), Value::Bool(x)) => {
            s == if *x { "true" } else { "false" }
        }
        _ => a == b,
    }
}

/// [`equivalent`] for values that may be absent.
pub(crate) fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => equivalent(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// The canonical form of a template value:
/// - `{"Fn::GetAtt": "A.B"}` becomes `{"Fn::GetAtt": ["A", "B"]}`;
/// - `{"Fn::Sub": ["text"]}` and `{"Fn::Sub": ["text", {}]}` become `{"Fn::Sub": "text"}`;
/// - in an IAM statement, `Action`/`NotAction`/`Resource`/`NotResource`, each `Principal`
///   entry and each `Condition` value become sorted, de-duplicated lists, and the principal `"*"`
///   becomes `{"AWS": ["*"]}`; a single statement becomes a list and the statements of a policy
///   are sorted.
pub(crate) fn normalize(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(m) => {
            if m.len() == 1 {
                if let Some(Value::String(s)) = m.get("Fn::GetAtt") {
                    let (id, attr) = s.split_once('.').unwrap_or((s, ""));
                    return single("Fn::GetAtt", serde_json::json!([id, attr]));
                }
                if let Some(Value::Array(a)) = m.get("Fn::Sub") {
                    let no_vars = match a.get(1) {
                        None => true,
                        Some(Value::Object(vars)) => vars.is_empty(),
                        Some(_) => false,
                    };
                    if let (true, Some(Value::String(s)), true) = (a.len() <= 2, a.first(), no_vars)
                    {
                        return single("Fn::Sub", Value::String(s.clone()));
                    }
                }
            }
            let statement = m.contains_key("Effect")
                && ["Action", "NotAction", "Principal", "NotPrincipal"]
                    .iter()
                    .any(|k| m.contains_key(*k));
            let mut out = Map::new();
            for (k, x) in m {
                let x = normalize(x);
                let x = match k.as_str() {
                    "Statement" => statements(x),
                    "Action" | "NotAction" | "Resource" | "NotResource" if statement => {
                        sorted_list(x)
                    }
                    "Principal" | "NotPrincipal" if statement => principal(x),
                    "Condition" if statement => condition(x),
                    _ => x,
                };
                out.insert(k.clone(), x);
            }
            Value::Object(out)
        }
        _ => v.clone(),
    }
}

fn single(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), v);
    Value::Object(m)
}

fn statements(v: Value) -> Value {
    match v {
        Value::Array(mut a) => {
            a.sort_by_cached_key(canonical);
            Value::Array(a)
        }
        Value::Object(_) => Value::Array(vec![v]),
        other => other,
    }
}

fn sorted_list(v: Value) -> Value {
    match v {
        Value::Array(mut a) => {
            a.sort_by_cached_key(canonical);
            a.dedup();
            Value::Array(a)
        }
        Value::Null => Value::Null,
        other => Value::Array(vec![other]),
    }
}

/// Compact JSON with object keys sorted and scalars as text, so that it orders values independently
/// of key order and scalar form.
pub(crate) fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, String)> =
                m.iter().map(|(k, x)| (k, canonical(x))).collect();
            entries.sort();
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, x)| format!("{}:{x}", Value::String(k.clone())))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        // Scalars as the text CloudFormation reads, so `512` and `"512"` sort alike.
        Value::Number(n) => Value::String(number_text(n)).to_string(),
        Value::Bool(b) => Value::String(b.to_string()).to_string(),
        other => other.to_string(),
    }
}

/// Each condition value as a sorted list: `"x"` and `["x"]` are the same condition.
fn condition(v: Value) -> Value {
    match v {
        Value::Object(ops) => Value::Object(
            ops.into_iter()
                .map(|(op, keys)| match keys {
                    Value::Object(k) => (
                        op,
                        Value::Object(k.into_iter().map(|(k, x)| (k, sorted_list(x))).collect()),
                    ),
                    other => (op, other),
                })
                .collect(),
        ),
        other => other,
    }
}

/// `"*"` is `{"AWS": ["*"]}`; each principal kind's entries become a sorted list.
fn principal(v: Value) -> Value {
    match v {
        Value::String(s) if s == "*" => single("AWS", Value::Array(vec![Value::String(s)])),
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, x)| (k, sorted_list(x))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equivalent_forms_normalize_equal() {
        let pairs = [
            (
                json!({"Fn::GetAtt": "Role.Arn"}),
                json!({"Fn::GetAtt": ["Role", "Arn"]}),
            ),
            (
                json!({"Fn::Sub": ["a-${AWS::Region}"]}),
                json!({"Fn::Sub": "a-${AWS::Region}"}),
            ),
            (json!({"Fn::Sub": ["a", {}]}), json!({"Fn::Sub": "a"})),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}),
                json!({"Statement": [{"Resource": ["*"], "Action": ["s3:GetObject"], "Effect": "Allow"}]}),
            ),
            (
                json!({"Statement": [
                    {"Effect": "Allow", "Action": ["b", "a"], "Principal": {"Service": "x"}},
                    {"Effect": "Deny", "Action": "c"}]}),
                json!({"Statement": [
                    {"Effect": "Deny", "Action": ["c"]},
                    {"Effect": "Allow", "Action": ["a", "b"], "Principal": {"Service": ["x"]}}]}),
            ),
        ];
        for (a, b) in pairs {
            assert_eq!(normalize(&a), normalize(&b), "{a} vs {b}");
        }
        let same_forms = [
            (json!("512"), json!(512)),
            (json!(true), json!("true")),
            (json!(90.0), json!(90)),
            (json!({"A": [1, "x"]}), json!({"A": ["1", "x"]})),
        ];
        for (a, b) in same_forms {
            assert!(equivalent(&a, &b), "{a} ~ {b}");
            assert_eq!(canonical(&a), canonical(&b));
        }
        let different = [
            (json!("1.10"), json!("1.1")),
            (json!(" 512"), json!(512)),
            (json!("True"), json!(true)),
            (json!([1]), json!([1, 1])),
            (json!(null), json!("null")),
        ];
        for (a, b) in different {
            assert!(!equivalent(&a, &b), "{a} !~ {b}");
        }
        // A Sub with variables keeps its list form.
        let with_vars = json!({"Fn::Sub": ["${X}", {"X": "y"}]});
        assert_eq!(normalize(&with_vars), with_vars);
    }
}
