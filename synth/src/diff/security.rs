//! The security tables: IAM statements (read by [`super::policy`]) and security-group rules,
//! each flattened into rows and compared as sets, so reorderings and equivalent forms are no
//! change.
//!
//! Security-group rules come from `AWS::EC2::SecurityGroup` (`SecurityGroupIngress`,
//! `SecurityGroupEgress`) and the standalone `AWS::EC2::SecurityGroupIngress`/`Egress` types.
//! A group without inline egress rules allows all outbound traffic (EC2's default rule), so it
//! has that rule as a row: removing the CDK's "disallow all" placeholder shows as the allow-all
//! rule appearing, a broadening.

use super::model::{Direction, IamStatementChange, RowChange, SecurityGroupRuleChange};
use serde_json::Value;
use std::collections::BTreeSet;

/// The IAM and security-group rows added and removed between two normalized templates.
pub(crate) fn diff(
    old: &Value,
    new: &Value,
) -> (Vec<IamStatementChange>, Vec<SecurityGroupRuleChange>) {
    let (old_iam, new_iam) = (
        super::policy::statements(old),
        super::policy::statements(new),
    );
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
        Value::Number(n) => super::normalize::number_text(n),
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
                        out.insert(sg_rule(id, &group, dir, rule));
                    }
                }
                let no_egress = props
                    .get("SecurityGroupEgress")
                    .is_none_or(|e| e.as_array().is_some_and(Vec::is_empty));
                if no_egress {
                    let all = serde_json::json!({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"});
                    let mut rule = sg_rule(id, &group, Direction::Egress, &all);
                    rule.peer = "0.0.0.0/0 (EC2's default: no egress rule given)".into();
                    out.insert(rule);
                }
            }
            "AWS::EC2::SecurityGroupIngress" => {
                let group = props
                    .get("GroupId")
                    .or(props.get("GroupName"))
                    .map(display)
                    .unwrap_or_default();
                out.insert(sg_rule(id, &group, Direction::Ingress, props));
            }
            "AWS::EC2::SecurityGroupEgress" => {
                let group = props.get("GroupId").map(display).unwrap_or_default();
                out.insert(sg_rule(id, &group, Direction::Egress, props));
            }
            _ => {}
        }
    }
    out
}

fn sg_rule(id: &str, group: &str, direction: Direction, rule: &Value) -> SecurityGroupRuleChange {
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
        source: id.to_string(),
        group: group.to_string(),
        direction,
        protocol,
        ports,
        peer,
    }
}
