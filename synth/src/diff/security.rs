//! The security tables: IAM statements and security-group rules, each flattened into rows and
//! compared as sets, so reorderings and equivalent forms are no change.
//!
//! Where statements come from:
//!
//! | Type | Property | Principal column when the statement has none |
//! |---|---|---|
//! | `AWS::IAM::Role` | `AssumeRolePolicyDocument` (resource: the role) | - |
//! | `AWS::IAM::Role` | `Policies[*].PolicyDocument` | the role |
//! | `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` | `PolicyDocument` | `Roles`, `Users`, `Groups` |
//! | `AWS::S3::BucketPolicy`, `AWS::SQS::QueuePolicy`, `AWS::SNS::TopicPolicy` | `PolicyDocument` | - |
//! | `AWS::KMS::Key` | `KeyPolicy` | - |
//! | `AWS::SecretsManager::ResourcePolicy` | `ResourcePolicy` | - |
//!
//! Security-group rules come from `AWS::EC2::SecurityGroup` (`SecurityGroupIngress`,
//! `SecurityGroupEgress`) and the standalone `AWS::EC2::SecurityGroupIngress`/`Egress` types.

use super::model::{Direction, IamStatementChange, RowChange, SecurityGroupRuleChange};
use serde_json::Value;
use std::collections::BTreeSet;

/// The IAM and security-group rows added and removed between two normalized templates.
pub(crate) fn diff(
    old: &Value,
    new: &Value,
) -> (Vec<IamStatementChange>, Vec<SecurityGroupRuleChange>) {
    let (old_iam, new_iam) = (statements(old), statements(new));
    let mut iam = Vec::new();
    for s in new_iam.difference(&old_iam) {
        iam.push(IamStatementChange {
            change: RowChange::Added,
            ..s.clone()
        });
    }
    for s in old_iam.difference(&new_iam) {
        iam.push(IamStatementChange {
            change: RowChange::Removed,
            ..s.clone()
        });
    }
    let (old_sg, new_sg) = (rules(old), rules(new));
    let mut sg = Vec::new();
    for r in new_sg.difference(&old_sg) {
        sg.push(SecurityGroupRuleChange {
            change: RowChange::Added,
            ..r.clone()
        });
    }
    for r in old_sg.difference(&new_sg) {
        sg.push(SecurityGroupRuleChange {
            change: RowChange::Removed,
            ..r.clone()
        });
    }
    (iam, sg)
}

/// A readable form of a value that may be an intrinsic: `${Id}`, `${Id.Attr}`, the `Fn::Sub`
/// text, a `Fn::Join` of the readable parts, else compact JSON.
pub(crate) fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(m) if m.len() == 1 => {
            let (k, x) = m
                .iter()
                .next()
                .map(|(k, x)| (k.as_str(), x))
                .unwrap_or(("", v));
            match (k, x) {
                ("Ref", Value::String(id)) => format!("${{{id}}}"),
                ("Fn::GetAtt", Value::Array(a)) => {
                    let parts: Vec<String> = a.iter().map(display).collect();
                    format!("${{{}}}", parts.join("."))
                }
                ("Fn::Sub", Value::String(s)) => s.clone(),
                ("Fn::Sub", Value::Array(a)) => a.first().map(display).unwrap_or_default(),
                ("Fn::Join", Value::Array(a)) if a.len() == 2 => {
                    let sep = a[0].as_str().unwrap_or("");
                    let parts: Vec<String> = match &a[1] {
                        Value::Array(items) => items.iter().map(display).collect(),
                        other => vec![display(other)],
                    };
                    parts.join(sep)
                }
                ("Fn::ImportValue", x) => format!("${{Import:{}}}", display(x)),
                _ => v.to_string(),
            }
        }
        _ => v.to_string(),
    }
}

fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(display).collect(),
        Some(x) => vec![display(x)],
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn statements(template: &Value) -> BTreeSet<IamStatementChange> {
    let mut out = BTreeSet::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    for (id, r) in resources {
        let Some(props) = r.get("Properties") else {
            continue;
        };
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or("");
        let mut docs: Vec<(&Value, Vec<String>, Vec<String>)> = Vec::new();
        let attached = |keys: &[&str]| -> Vec<String> {
            keys.iter()
                .flat_map(|k| list(props.get(*k)))
                .map(|x| format!("AWS:{x}"))
                .collect()
        };
        match ty {
            "AWS::IAM::Role" => {
                if let Some(doc) = props.get("AssumeRolePolicyDocument") {
                    docs.push((doc, vec![format!("${{{id}.Arn}}")], Vec::new()));
                }
                let role = vec![format!("AWS:${{{id}}}")];
                for p in props
                    .get("Policies")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(doc) = p.get("PolicyDocument") {
                        docs.push((doc, Vec::new(), role.clone()));
                    }
                }
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                if let Some(doc) = props.get("PolicyDocument") {
                    docs.push((doc, Vec::new(), attached(&["Roles", "Users", "Groups"])));
                }
            }
            "AWS::S3::BucketPolicy" | "AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy" => {
                if let Some(doc) = props.get("PolicyDocument") {
                    docs.push((doc, Vec::new(), Vec::new()));
                }
            }
            "AWS::KMS::Key" => {
                if let Some(doc) = props.get("KeyPolicy") {
                    docs.push((doc, vec![format!("${{{id}.Arn}}")], Vec::new()));
                }
            }
            "AWS::SecretsManager::ResourcePolicy" => {
                if let Some(doc) = props.get("ResourcePolicy") {
                    docs.push((doc, list(props.get("SecretId")), Vec::new()));
                }
            }
            _ => {}
        }
        for (doc, default_resources, default_principals) in docs {
            // A policy may be given as a JSON string.
            let parsed;
            let doc = match doc {
                Value::String(s) => match serde_json::from_str::<Value>(s) {
                    Ok(v) => {
                        parsed = super::normalize::normalize(&v);
                        &parsed
                    }
                    Err(_) => continue,
                },
                d => d,
            };
            let stmts = match doc.get("Statement") {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(s @ Value::Object(_)) => vec![s],
                _ => Vec::new(),
            };
            for s in stmts {
                out.insert(statement(id, s, &default_resources, &default_principals));
            }
        }
    }
    out
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
        condition: s.get("Condition").map(Value::to_string),
    }
}

fn principal_list(p: Option<&Value>, prefix: &str) -> Vec<String> {
    match p {
        None => Vec::new(),
        Some(Value::Object(m)) if !super::impact::is_intrinsic(p.unwrap_or(&Value::Null)) => m
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

fn rules(template: &Value) -> BTreeSet<SecurityGroupRuleChange> {
    let mut out = BTreeSet::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    for (id, r) in resources {
        let Some(props) = r.get("Properties") else {
            continue;
        };
        match r.get("Type").and_then(Value::as_str).unwrap_or("") {
            "AWS::EC2::SecurityGroup" => {
                let group = format!("${{{id}.GroupId}}");
                for (key, dir) in [
                    ("SecurityGroupIngress", Direction::Ingress),
                    ("SecurityGroupEgress", Direction::Egress),
                ] {
                    for rule in props
                        .get(key)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        out.insert(sg_rule(&group, dir, rule));
                    }
                }
            }
            "AWS::EC2::SecurityGroupIngress" => {
                let group = props
                    .get("GroupId")
                    .or(props.get("GroupName"))
                    .map(display)
                    .unwrap_or_default();
                out.insert(sg_rule(&group, Direction::Ingress, props));
            }
            "AWS::EC2::SecurityGroupEgress" => {
                let group = props.get("GroupId").map(display).unwrap_or_default();
                out.insert(sg_rule(&group, Direction::Egress, props));
            }
            _ => {}
        }
    }
    out
}

fn sg_rule(group: &str, direction: Direction, rule: &Value) -> SecurityGroupRuleChange {
    let protocol = match rule.get("IpProtocol").map(display).as_deref() {
        Some("-1") | None => "all".to_string(),
        Some("6") => "tcp".to_string(),
        Some("17") => "udp".to_string(),
        Some("1") => "icmp".to_string(),
        Some(p) => p.to_string(),
    };
    let from = rule.get("FromPort").map(display);
    let to = rule.get("ToPort").map(display);
    let ports = match (protocol.as_str(), from, to) {
        ("all", _, _) => "all".to_string(),
        (_, Some(f), Some(t)) if f == t => f,
        (_, Some(f), Some(t)) if f == "-1" || (f == "0" && t == "65535") => "all".to_string(),
        (_, Some(f), Some(t)) => format!("{f}-{t}"),
        (_, Some(f), None) | (_, None, Some(f)) => f,
        (_, None, None) => "all".to_string(),
    };
    let peer_keys = [
        ("CidrIp", ""),
        ("CidrIpv6", ""),
        ("SourceSecurityGroupId", ""),
        ("DestinationSecurityGroupId", ""),
        ("SourceSecurityGroupName", ""),
        ("SourcePrefixListId", "prefix list "),
        ("DestinationPrefixListId", "prefix list "),
    ];
    let peer = peer_keys
        .iter()
        .find_map(|(k, label)| rule.get(*k).map(|v| format!("{label}{}", display(v))))
        .unwrap_or_else(|| "?".into());
    SecurityGroupRuleChange {
        change: RowChange::Added,
        group: group.to_string(),
        direction,
        protocol,
        ports,
        peer,
    }
}
