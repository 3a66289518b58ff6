//! Every place a template grants access through a policy, flattened into IAM statement rows.
//!
//! | Type | Property | Resource column when the statement has none | Principal column when it has none |
//! |---|---|---|---|
//! | `AWS::IAM::Role` | `AssumeRolePolicyDocument` | the role | - |
//! | `AWS::IAM::Role`, `User`, `Group` | `Policies[*].PolicyDocument` | - | the identity |
//! | `AWS::IAM::Role`, `User`, `Group` | `ManagedPolicyArns[*]` (one row per policy) | the policy | the identity |
//! | `AWS::IAM::Policy`, `ManagedPolicy` | `PolicyDocument` | - | `Roles`, `Users`, `Groups` |
//! | `AWS::IAM::RolePolicy`, `UserPolicy`, `GroupPolicy` | `PolicyDocument` | - | the identity named |
//! | `AWS::S3::BucketPolicy` | `PolicyDocument` | `Bucket` | - |
//! | `AWS::SQS::QueuePolicy`, `AWS::SNS::TopicPolicy` | `PolicyDocument` | `Queues` / `Topics` | - |
//! | `AWS::KMS::Key` | `KeyPolicy` | the key | - |
//! | `AWS::ECR::Repository` | `RepositoryPolicyText` | the repository | - |
//! | `AWS::EC2::VPCEndpoint` | `PolicyDocument` | - | - |
//! | `AWS::Logs::LogGroup` | `ResourcePolicyDocument` | the log group | - |
//! | `AWS::Logs::ResourcePolicy` | `PolicyDocument` | - | - |
//! | `AWS::SecretsManager::ResourcePolicy` | `ResourcePolicy` | `SecretId` | - |
//! | `AWS::Lambda::Permission` | the resource itself (one statement) | `FunctionName` | `Principal` |
//! | any other type | any property whose value is a policy document (`{"Statement": [{"Effect": ..}]}`, or that JSON as a string) | - | - |
//!
//! The schemas mark no property as a policy document (they type them `object` or `string`), so the
//! last row recognizes documents by their shape. A policy that pantri cannot read (an intrinsic
//! such as `Fn::If`, a string that is not JSON) becomes a row with effect `Unknown`: any change of
//! it counts as broadening.

use super::model::{IamStatementChange, RowChange};
use super::normalize::{canonical, normalize};
use super::security::display;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The effect of a row for a policy pantri cannot read.
pub(crate) const UNKNOWN_EFFECT: &str = "Unknown";

/// AWS-managed policies that grant (or can grant themselves) nearly everything.
const ADMIN_LIKE: &[(&str, &str)] = &[
    ("AdministratorAccess", "every action on every resource"),
    (
        "PowerUserAccess",
        "every action except most of IAM and Organizations",
    ),
    ("IAMFullAccess", "can grant itself anything"),
    ("AWSOrganizationsFullAccess", "controls the organization"),
];

/// What a `ManagedPolicyArns` entry grants, in words for the Action column.
fn managed_policy_words(arn: &str) -> String {
    let aws_managed = arn.contains(":iam::aws:policy/");
    let name = arn.rsplit('/').next().unwrap_or(arn);
    match ADMIN_LIKE.iter().find(|(n, _)| aws_managed && *n == name) {
        Some((n, what)) => format!("managed policy {n}: ADMIN-LIKE, {what}"),
        None => "managed policy (its statements live outside this template)".to_string(),
    }
}

/// Every statement row of a normalized template.
pub(crate) fn statements(template: &Value) -> BTreeSet<IamStatementChange> {
    let mut out = BTreeSet::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    for (id, r) in resources {
        let Some(props) = r.get("Properties").and_then(Value::as_object) else {
            continue;
        };
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or("");
        resource_statements(id, ty, props, &mut out);
    }
    out
}

/// A document to read, with the columns to fill when its statements leave them out.
struct Doc<'a> {
    value: &'a Value,
    resources: Vec<String>,
    principals: Vec<String>,
}

fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(display).collect(),
        Some(x) => vec![display(x)],
    }
}

fn resource_statements(
    id: &str,
    ty: &str,
    props: &Map<String, Value>,
    out: &mut BTreeSet<IamStatementChange>,
) {
    let own = |attr: &str| vec![format!("${{{id}{attr}}}")];
    let attached = |keys: &[&str]| -> Vec<String> {
        keys.iter()
            .flat_map(|k| list(props.get(*k)))
            .map(|x| format!("AWS:{x}"))
            .collect()
    };
    let mut docs: Vec<Doc> = Vec::new();
    // The properties read by the table above; the shape-based search skips them.
    let mut known: Vec<&str> = Vec::new();
    let mut doc = |key: &'static str, resources: Vec<String>, principals: Vec<String>| {
        known.push(key);
        if let Some(value) = props.get(key) {
            docs.push(Doc {
                value,
                resources,
                principals,
            });
        }
    };
    match ty {
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
            if ty == "AWS::IAM::Role" {
                doc("AssumeRolePolicyDocument", own(".Arn"), Vec::new());
            }
            let identity = vec![format!("AWS:${{{id}}}")];
            known.extend(["Policies", "ManagedPolicyArns"]);
            for p in props
                .get("Policies")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match p.get("PolicyDocument") {
                    Some(value) => docs.push(Doc {
                        value,
                        resources: Vec::new(),
                        principals: identity.clone(),
                    }),
                    None => {
                        out.insert(unknown(id, p, &identity));
                    }
                }
            }
            for arn in list(props.get("ManagedPolicyArns")) {
                out.insert(IamStatementChange {
                    change: RowChange::Added,
                    source: id.to_string(),
                    effect: "Allow".into(),
                    actions: vec![managed_policy_words(&arn)],
                    resources: vec![arn],
                    principals: identity.clone(),
                    condition: None,
                });
            }
        }
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
            doc(
                "PolicyDocument",
                Vec::new(),
                attached(&["Roles", "Users", "Groups"]),
            );
        }
        "AWS::IAM::RolePolicy" | "AWS::IAM::UserPolicy" | "AWS::IAM::GroupPolicy" => {
            doc(
                "PolicyDocument",
                Vec::new(),
                attached(&["RoleName", "UserName", "GroupName"]),
            );
        }
        "AWS::S3::BucketPolicy" => doc("PolicyDocument", list(props.get("Bucket")), Vec::new()),
        "AWS::SQS::QueuePolicy" => doc("PolicyDocument", list(props.get("Queues")), Vec::new()),
        "AWS::SNS::TopicPolicy" => doc("PolicyDocument", list(props.get("Topics")), Vec::new()),
        "AWS::KMS::Key" => doc("KeyPolicy", own(".Arn"), Vec::new()),
        "AWS::ECR::Repository" => doc("RepositoryPolicyText", own(".Arn"), Vec::new()),
        "AWS::EC2::VPCEndpoint" => doc("PolicyDocument", Vec::new(), Vec::new()),
        "AWS::Logs::LogGroup" => doc("ResourcePolicyDocument", own(".Arn"), Vec::new()),
        "AWS::Logs::ResourcePolicy" => doc("PolicyDocument", Vec::new(), Vec::new()),
        "AWS::SecretsManager::ResourcePolicy" => {
            doc("ResourcePolicy", list(props.get("SecretId")), Vec::new());
        }
        "AWS::Lambda::Permission" => {
            out.insert(lambda_permission(id, props));
            return;
        }
        _ => {}
    }
    for (key, value) in props {
        if !known.contains(&key.as_str()) {
            find_documents(value, &mut docs);
        }
    }
    for d in docs {
        read_document(id, &d, out);
    }
}

/// Policy documents found by their shape anywhere inside `v`.
fn find_documents<'a>(v: &'a Value, docs: &mut Vec<Doc<'a>>) {
    let is_doc = |v: &Value| match v {
        Value::Object(m) => looks_like_document(m),
        Value::String(s) if s.contains("\"Statement\"") => serde_json::from_str::<Value>(s)
            .ok()
            .and_then(|v| v.as_object().map(looks_like_document))
            .unwrap_or(false),
        _ => false,
    };
    if is_doc(v) {
        docs.push(Doc {
            value: v,
            resources: Vec::new(),
            principals: Vec::new(),
        });
        return;
    }
    match v {
        Value::Object(m) => m.values().for_each(|x| find_documents(x, docs)),
        Value::Array(a) => a.iter().for_each(|x| find_documents(x, docs)),
        _ => {}
    }
}

fn looks_like_document(m: &Map<String, Value>) -> bool {
    match m.get("Statement") {
        Some(Value::Array(a)) => a.iter().any(|s| s.get("Effect").is_some()),
        Some(Value::Object(s)) => s.contains_key("Effect"),
        _ => false,
    }
}

/// The statements of one document, or one `Unknown` row when pantri cannot read it.
fn read_document(id: &str, d: &Doc, out: &mut BTreeSet<IamStatementChange>) {
    // A policy may be given as a JSON string.
    let parsed;
    let doc = match d.value {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v) => {
                parsed = normalize(&v);
                &parsed
            }
            Err(_) => {
                out.insert(unknown(id, d.value, &d.principals));
                return;
            }
        },
        v => v,
    };
    let stmts: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => {
            out.insert(unknown(id, d.value, &d.principals));
            return;
        }
    };
    for s in stmts {
        if s.as_object()
            .is_none_or(|m| super::impact::is_intrinsic(s) || m.is_empty())
        {
            out.insert(unknown(id, s, &d.principals));
            continue;
        }
        out.insert(statement(id, s, &d.resources, &d.principals));
    }
}

/// The row of a policy (or statement) pantri cannot read: its raw text is the row's identity, so
/// the same unreadable value on both sides is no change, and any other change is one.
fn unknown(id: &str, raw: &Value, principals: &[String]) -> IamStatementChange {
    let text = canonical(raw);
    let short: String = text.chars().take(120).collect();
    let ellipsis = if short.len() < text.len() { "…" } else { "" };
    IamStatementChange {
        change: RowChange::Added,
        source: id.to_string(),
        effect: UNKNOWN_EFFECT.into(),
        actions: vec![format!("(a policy pantri cannot read: {short}{ellipsis})")],
        resources: Vec::new(),
        principals: principals.to_vec(),
        condition: None,
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn statement(
    id: &str,
    s: &Value,
    default_resources: &[String],
    default_principals: &[String],
) -> IamStatementChange {
    let mut actions = list(s.get("Action"));
    actions.extend(
        list(s.get("NotAction"))
            .into_iter()
            .map(|a| format!("NOT {a}")),
    );
    let mut resources = list(s.get("Resource"));
    resources.extend(
        list(s.get("NotResource"))
            .into_iter()
            .map(|a| format!("NOT {a}")),
    );
    if resources.is_empty() {
        resources = default_resources.to_vec();
    }
    let mut principals = principal_list(s.get("Principal"), "");
    principals.extend(principal_list(s.get("NotPrincipal"), "NOT "));
    if principals.is_empty() {
        principals = default_principals.to_vec();
    }
    IamStatementChange {
        change: RowChange::Added,
        source: id.to_string(),
        effect: s
            .get("Effect")
            .map(display)
            .unwrap_or_else(|| "Allow".into()),
        actions: sorted(actions),
        resources: sorted(resources),
        principals: sorted(principals),
        condition: s.get("Condition").map(condition_text),
    }
}

/// A `Condition` block by meaning: operators and keys in sorted order, each value a sorted list
/// (`"x"` and `["x"]` are the same condition), scalars as their text.
fn condition_text(v: &Value) -> String {
    let Value::Object(ops) = v else {
        return canonical(v);
    };
    let mut out = Map::new();
    for (op, keys) in ops {
        let inner = match keys {
            Value::Object(keys) => Value::Object(
                keys.iter()
                    .map(|(k, x)| {
                        let values = sorted(list(Some(x)));
                        (k.clone(), Value::from(values))
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        out.insert(op.clone(), inner);
    }
    canonical(&Value::Object(out))
}

/// `"*"` is the same principal as `{"AWS": "*"}`.
fn principal_list(p: Option<&Value>, prefix: &str) -> Vec<String> {
    match p {
        None => Vec::new(),
        Some(Value::String(s)) if s == "*" => vec![format!("{prefix}AWS:*")],
        Some(v @ Value::Object(m)) if !super::impact::is_intrinsic(v) => m
            .iter()
            .flat_map(|(kind, x)| {
                list(Some(x))
                    .into_iter()
                    .map(move |v| format!("{prefix}{kind}:{v}"))
            })
            .collect(),
        Some(x) => vec![format!("{prefix}{}", display(x))],
    }
}

/// A Lambda permission is one Allow statement on the function.
fn lambda_permission(id: &str, props: &Map<String, Value>) -> IamStatementChange {
    let principal = props.get("Principal").map(display).unwrap_or_default();
    let principal = if principal == "*" {
        "AWS:*".to_string()
    } else if principal.ends_with(".amazonaws.com") {
        format!("Service:{principal}")
    } else {
        format!("AWS:{principal}")
    };
    let mut condition = Map::new();
    for (key, op, name) in [
        ("SourceArn", "ArnLike", "AWS:SourceArn"),
        ("SourceAccount", "StringEquals", "AWS:SourceAccount"),
        ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
        (
            "FunctionUrlAuthType",
            "StringEquals",
            "lambda:FunctionUrlAuthType",
        ),
    ] {
        if let Some(v) = props.get(key) {
            let entry = condition
                .entry(op.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                m.insert(name.to_string(), Value::String(display(v)));
            }
        }
    }
    IamStatementChange {
        change: RowChange::Added,
        source: id.to_string(),
        effect: "Allow".into(),
        actions: list(props.get("Action")),
        resources: list(props.get("FunctionName")),
        principals: vec![principal],
        condition: (!condition.is_empty()).then(|| condition_text(&Value::Object(condition))),
    }
}
