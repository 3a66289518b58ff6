//! Canonical forms, so that equivalent templates compare equal: the noise that must stay out of
//! a diff (key order is already ignored by `serde_json::Map` equality).

use serde_json::{Map, Value};

/// The canonical form of a template value:
/// - `{"Fn::GetAtt": "A.B"}` becomes `{"Fn::GetAtt": ["A", "B"]}`;
/// - `{"Fn::Sub": ["text"]}` and `{"Fn::Sub": ["text", {}]}` become `{"Fn::Sub": "text"}`;
/// - in an IAM statement, `Action`/`NotAction`/`Resource`/`NotResource` and each `Principal`
///   entry become sorted, de-duplicated lists; a single statement becomes a list and the
///   statements of a policy are sorted.
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
        Value::String(_) | Value::Object(_) => Value::Array(vec![v]),
        other => other,
    }
}

/// Compact JSON with object keys sorted, so that it orders values independently of key order.
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
        other => other.to_string(),
    }
}

fn principal(v: Value) -> Value {
    match v {
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
        // A Sub with variables keeps its list form.
        let with_vars = json!({"Fn::Sub": ["${X}", {"X": "y"}]});
        assert_eq!(normalize(&with_vars), with_vars);
    }
}
