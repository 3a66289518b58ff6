//! The preview of a change set and the approval decision: which changes need a human's yes, and
//! which replacements are refused unless named with `--allow-replace`.

use std::fmt::Write as _;

use pantri_synth::diff::Impact;

use super::api::{ChangeSetType, ResourceChange};

/// When a deployment asks before executing (`--require-approval`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequireApproval {
    /// Never ask.
    Never,
    /// Ask for any change.
    AnyChange,
    /// Ask for changes that widen access (IAM, security groups, resource policies) or may lose
    /// data (replacing or removing a stateful resource).
    #[default]
    Broadening,
}

/// What a change set will do to one stack, as shown before executing it.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    /// The stack's display name (`stage/stack`).
    pub stack: String,
    /// The CloudFormation stack name.
    pub stack_name: String,
    /// CREATE or UPDATE.
    pub kind: ChangeSetType,
    /// The change set's resource changes.
    pub changes: Vec<ResourceChange>,
    /// An optional summary from the template diff engine, shown above the changes.
    pub summary: Option<String>,
    /// The template diff of the stack (deployed → new), when it could be computed: it knows
    /// security broadening exactly and replacements from the schema where the change set is
    /// silent (an emulator gives no Replacement).
    pub diff: Option<pantri_synth::diff::StackDiff>,
}

impl Preview {
    /// Renders the preview as a table: Action, LogicalResourceId, ResourceType, Replacement, Scope,
    /// cut to fit `width` columns when given (a terminal's width).
    pub fn render(&self, width: Option<usize>) -> String {
        let mut s = String::new();
        let verb = match self.kind {
            ChangeSetType::Create => "create",
            ChangeSetType::Update => "update",
        };
        let _ = writeln!(
            s,
            "{} ({}, {verb}): {} change(s)",
            self.stack,
            self.stack_name,
            self.changes.len()
        );
        if let Some(summary) = &self.summary {
            for line in summary.lines() {
                let _ = writeln!(s, "  {line}");
            }
        }
        let rows: Vec<[String; 5]> = self
            .changes
            .iter()
            .map(|c| {
                [
                    c.action.clone(),
                    c.logical_id.clone(),
                    c.resource_type.clone(),
                    c.replacement.clone().unwrap_or_else(|| "-".into()),
                    if c.scope.is_empty() {
                        "-".into()
                    } else {
                        c.scope.join(",")
                    },
                ]
            })
            .collect();
        if rows.is_empty() {
            return s;
        }
        let header = [
            "Action",
            "LogicalResourceId",
            "ResourceType",
            "Replacement",
            "Scope",
        ];
        s.push_str(&crate::table::render_fit(header, &rows, "  ", " ", width));
        s
    }
}

/// Whether a resource holds state: a known stateful type, or one the template retains.
pub fn is_stateful(change: &ResourceChange, template: &serde_json::Value) -> bool {
    // One policy list for diff and deploy.
    if pantri_synth::diff::is_stateful(&change.resource_type, None) {
        return true;
    }
    let resource = &template["Resources"][&change.logical_id];
    ["DeletionPolicy", "UpdateReplacePolicy"].iter().any(|k| {
        matches!(
            resource[k].as_str(),
            Some("Retain" | "RetainExceptOnCreate")
        )
    })
}

/// Whether a change to this type can widen who may do what.
pub fn is_broadening_type(resource_type: &str) -> bool {
    resource_type.starts_with("AWS::IAM::")
        || resource_type.starts_with("AWS::EC2::SecurityGroup")
        || matches!(
            resource_type,
            "AWS::Lambda::Permission"
                | "AWS::S3::BucketPolicy"
                | "AWS::SQS::QueuePolicy"
                | "AWS::SNS::TopicPolicy"
                | "AWS::KMS::Key"
                | "AWS::SecretsManager::ResourcePolicy"
                | "AWS::ECR::Repository"
                | "AWS::EC2::VPCEndpoint"
                | "AWS::Logs::ResourcePolicy"
                | "AWS::WAFv2::WebACLAssociation"
                | "AWS::ElasticLoadBalancingV2::ListenerRule"
                | "AWS::Cognito::UserPool"
        )
}

/// Why the template diff says a change of `logical_id` broadens access, `None` when it does not.
fn broadening_reasons(
    diff: &pantri_synth::diff::StackDiff,
    logical_id: &str,
    resource_type: &str,
) -> Option<String> {
    let why: Vec<String> = diff
        .broadening()
        .into_iter()
        .filter(|(id, _)| *id == logical_id)
        .map(|(_, why)| why)
        .collect();
    if !why.is_empty() {
        return Some(why.join("; "));
    }
    let explained = diff.resources.iter().any(|r| r.logical_id == logical_id);
    (is_broadening_type(resource_type) && !explained)
        .then(|| "may change access (the template diff does not show why)".to_string())
}

/// The outcome of looking at a preview with the approval policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assessment {
    /// Why a human must approve (empty: no approval needed).
    pub reasons: Vec<String>,
    /// Stateful resources that would be replaced and were not named with `--allow-replace`.
    pub refused_replacements: Vec<String>,
}

/// Looks at the changes of a preview against the new template and the policy.
pub fn assess(
    preview: &Preview,
    template: &serde_json::Value,
    policy: RequireApproval,
    allow_replace: &[String],
) -> Assessment {
    let mut a = Assessment::default();
    let diff_replaces = |logical_id: &str| {
        preview.diff.as_ref().is_some_and(|d| {
            d.resources.iter().any(|r| {
                r.logical_id == logical_id
                    && matches!(r.impact, Some(Impact::Replace | Impact::MayReplace))
            })
        })
    };
    for c in &preview.changes {
        let stateful = is_stateful(c, template);
        // The change set's word wins; where it says nothing (an emulator), the schema decides.
        let replaced = c.action == "Modify"
            && match c.replacement.as_deref() {
                Some(_) => c.may_replace(),
                None => diff_replaces(&c.logical_id),
            };
        let what = format!("{} ({})", c.logical_id, c.resource_type);
        if stateful && replaced {
            if allow_replace.iter().any(|l| l == &c.logical_id) {
                a.reasons.push(format!(
                    "{what} will be replaced (allowed by --allow-replace)"
                ));
            } else {
                a.refused_replacements.push(what.clone());
            }
        }
        let reason = match policy {
            RequireApproval::Never => None,
            RequireApproval::AnyChange => Some(format!("{} {what}", c.action)),
            RequireApproval::Broadening => {
                // With a template diff, the diff's broadening findings for this resource ask
                // (it reads every policy, rule and exposure); without one, or when the diff
                // cannot explain the change, any change of an access-controlling type does.
                let why = match &preview.diff {
                    Some(d) => broadening_reasons(d, &c.logical_id, &c.resource_type),
                    None => is_broadening_type(&c.resource_type)
                        .then(|| "may change access".to_string()),
                };
                if let Some(why) = why {
                    Some(format!("{} {what}: {why}", c.action))
                } else if stateful && c.action == "Remove" {
                    Some(format!("Remove {what}: holds data"))
                } else {
                    None
                }
            }
        };
        if let Some(r) = reason {
            a.reasons.push(r);
        }
    }
    if policy == RequireApproval::Never {
        a.reasons.clear();
    }
    a
}
