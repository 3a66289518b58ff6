//! Changes that grant or expose without being a policy statement or a security-group rule:
//! permissions boundaries, new identities and credentials, public access blocks, web ACLs, the
//! load balancer's listener rules and default actions, and a user pool's MFA.
//!
//! Each rule reads one resource's old and new (normalized) forms and says what changes in words
//! and whether it widens access. Where pantri cannot tell (a boundary replaced by another, a
//! listener rule rewritten), it counts as broadening: a human looks.

use super::model::AccessChange;
use super::normalize::same;
use super::security::display;
use serde_json::{Map, Value};

/// The access changes between two normalized templates.
pub(crate) fn diff(old: &Value, new: &Value) -> Vec<AccessChange> {
    let empty = Map::new();
    let (old, new) = (resources(old, &empty), resources(new, &empty));
    let mut out = Vec::new();
    let ids = old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)));
    for id in ids {
        let (o, n) = (old.get(id), new.get(id));
        if same(o, n) {
            continue;
        }
        let ty = n.or(o).and_then(|r| r.get("Type")).and_then(Value::as_str);
        let ty = ty.unwrap_or("");
        let mut found = |broadening: bool, what: String| {
            out.push(AccessChange {
                source: id.clone(),
                resource_type: ty.to_string(),
                what,
                broadening,
            });
        };
        let prop = |r: Option<&Value>, key: &str| -> Option<Value> {
            r?.get("Properties")?.get(key).cloned()
        };
        let changed = |key: &str| !same(prop(o, key).as_ref(), prop(n, key).as_ref());
        match ty {
            "AWS::IAM::Role" | "AWS::IAM::User" => {
                let (a, b) = (
                    prop(o, "PermissionsBoundary"),
                    prop(n, "PermissionsBoundary"),
                );
                match (&a, &b) {
                    (Some(a), None) if n.is_some() => {
                        found(true, format!("permissions boundary {} removed", display(a)))
                    }
                    (None, Some(b)) => {
                        found(false, format!("permissions boundary {} set", display(b)))
                    }
                    (Some(a), Some(b)) if !same(Some(a), Some(b)) => found(
                        true,
                        format!(
                            "permissions boundary changes from {} to {}",
                            display(a),
                            display(b)
                        ),
                    ),
                    _ => {}
                }
                if ty == "AWS::IAM::User" {
                    identity(o, n, "IAM user", &mut found);
                    if changed("Groups") && n.is_some() {
                        found(true, "group membership changes".into());
                    }
                    if prop(o, "LoginProfile").is_none() && prop(n, "LoginProfile").is_some() {
                        found(true, "console password (LoginProfile) added".into());
                    }
                }
            }
            "AWS::IAM::Group" => identity(o, n, "IAM group", &mut found),
            "AWS::IAM::UserToGroupAddition" if n.is_some() => {
                found(true, "users added to a group".into());
            }
            "AWS::IAM::AccessKey" => {
                let active = |r: Option<&Value>| {
                    r.is_some() && prop(r, "Status").is_none_or(|s| display(&s) == "Active")
                };
                if active(n) && !active(o) {
                    found(true, "an active access key (long-lived credentials)".into());
                }
            }
            "AWS::S3::Bucket" | "AWS::S3::AccessPoint" => {
                let block = |r: Option<&Value>, flag: &str| {
                    prop(r, "PublicAccessBlockConfiguration")
                        .and_then(|c| c.get(flag).map(display))
                        .is_some_and(|v| v == "true")
                };
                for flag in [
                    "BlockPublicAcls",
                    "BlockPublicPolicy",
                    "IgnorePublicAcls",
                    "RestrictPublicBuckets",
                ] {
                    if o.is_some() && n.is_some() && block(o, flag) && !block(n, flag) {
                        found(true, format!("public access block {flag} turned off"));
                    }
                }
            }
            "AWS::WAFv2::WebACLAssociation" => match (o, n) {
                (Some(_), None) => found(true, "web ACL association removed".into()),
                (Some(_), Some(_)) => found(true, "web ACL association changes".into()),
                _ => found(false, "web ACL association added".into()),
            },
            "AWS::CloudFront::Distribution" => {
                let acl = |r: Option<&Value>| {
                    prop(r, "DistributionConfig").and_then(|c| c.get("WebACLId").cloned())
                };
                match (acl(o), acl(n)) {
                    (Some(a), None) if n.is_some() => {
                        found(true, format!("web ACL {} removed", display(&a)))
                    }
                    (Some(a), Some(b)) if !same(Some(&a), Some(&b)) => found(
                        true,
                        format!("web ACL changes from {} to {}", display(&a), display(&b)),
                    ),
                    _ => {}
                }
            }
            "AWS::ElasticLoadBalancingV2::ListenerRule" => match (o, n) {
                (Some(_), None) => found(true, "listener rule removed".into()),
                (None, Some(_)) => found(true, "listener rule added".into()),
                _ if changed("Conditions") || changed("Actions") || changed("Priority") => found(
                    true,
                    "listener rule changes (who reaches which target)".into(),
                ),
                _ => {}
            },
            "AWS::ElasticLoadBalancingV2::Listener"
                if o.is_some() && n.is_some() && changed("DefaultActions") =>
            {
                found(
                    true,
                    "listener default action changes (what unmatched requests get)".into(),
                );
            }
            "AWS::Cognito::UserPool" => {
                let level = |r: Option<&Value>| match prop(r, "MfaConfiguration")
                    .map(|v| display(&v))
                    .as_deref()
                {
                    Some("ON") => 2,
                    Some("OPTIONAL") => 1,
                    _ => 0,
                };
                let word = |r: Option<&Value>| {
                    prop(r, "MfaConfiguration").map_or("OFF".to_string(), |v| display(&v))
                };
                if o.is_some() && n.is_some() && word(o) != word(n) {
                    found(
                        level(n) < level(o),
                        format!("MFA {} → {}", word(o), word(n)),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// A new IAM user or group is a new identity that can be given access.
fn identity(
    o: Option<&Value>,
    n: Option<&Value>,
    what: &str,
    found: &mut impl FnMut(bool, String),
) {
    if o.is_none() && n.is_some() {
        found(true, format!("new {what}"));
    }
}

/// The template's resources (`empty` when it has none).
fn resources<'a>(template: &'a Value, empty: &'a Map<String, Value>) -> &'a Map<String, Value> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(empty)
}
