//! A reviewed plan: the change sets `--method prepare-change-set` created, written to a plan
//! file with what identifies each (its id, a SHA-256 of its template and of its parameters, the
//! stack's state when it was prepared) and what the review found (broadening, replacements).
//! `pantri deploy --plan FILE` executes exactly those change sets after re-reading each from
//! CloudFormation, and refuses when anything differs from what was reviewed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::api::{ChangeSetInfo, ChangeSetType, CloudFormation, ResourceChange, StackInfo};
use super::error::DeployError;

/// The plan file format's version; a reader refuses other versions.
pub const SCHEMA_VERSION: u32 = 1;

/// The largest plan file read: a plan lists change sets, never templates.
const MAX_PLAN_BYTES: u64 = 4 * 1024 * 1024;

/// The plan file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plan {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Unique per plan; the change sets are named `pantri-<id>`.
    pub id: String,
    /// The account the plan was prepared in (STS), when known.
    pub account: Option<String>,
    /// The stages the plan covers.
    pub stages: Vec<String>,
    /// The prepared change sets, in the order they execute (dependencies first).
    pub stacks: Vec<PlannedStack>,
    /// Stacks of the selection whose change set had no changes (nothing to execute).
    pub unchanged: Vec<String>,
    /// The plan as a pull request shows it ([`Plan::markdown`]), for `jq -r .markdown`.
    #[serde(default)]
    pub markdown: String,
}

/// One prepared change set and what identifies it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlannedStack {
    /// `stage/stack`.
    pub display_name: String,
    /// The CloudFormation stack name.
    pub stack_name: String,
    /// The stack's account (from the assembly).
    pub account: String,
    /// The stack's region.
    pub region: String,
    /// `create` or `update`.
    pub kind: String,
    /// The change set name.
    pub change_set_name: String,
    /// The change set id (ARN).
    pub change_set_id: String,
    /// The stack as it was when the change set was prepared: a stack changed since then is
    /// refused.
    pub stack: StackFingerprint,
    /// SHA-256 of the change set's template as CloudFormation returns it.
    pub template_sha256: String,
    /// SHA-256 of the change set's parameters as CloudFormation describes them.
    pub parameters_sha256: String,
    /// Whether termination protection is set after the change set executes.
    pub termination_protection: bool,
    /// The resource count of the template (for progress).
    pub resources: usize,
    /// The change set's resource changes.
    pub changes: Vec<PlannedChange>,
    /// What the review found.
    pub findings: Findings,
    /// The assets the change set's parameters and the stack's trees name, by content hash:
    /// executing the plan publishes exactly these (refused when the assembly has others).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<PlannedAsset>,
}

/// One asset of a planned stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlannedAsset {
    /// The asset id (its logical ID).
    pub id: String,
    /// `image`, `file` or `tree`.
    pub kind: String,
    /// The content hash (image tag, object key or tree hash).
    pub hash: String,
}

/// A stack's state at a moment: enough to tell that it changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StackFingerprint {
    /// The stack id (a stack deleted and created again has another).
    pub id: String,
    /// Its status.
    pub status: String,
    /// When it was last updated (or created), as CloudFormation says.
    pub last_updated: Option<String>,
    /// SHA-256 of the deployed template (GetTemplate without a change set).
    pub template_sha256: String,
}

/// One resource change, as the plan shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlannedChange {
    /// `Add`, `Modify`, `Remove`, ...
    pub action: String,
    /// The logical ID.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// `True`, `False`, `Conditional`, or nothing when the service does not say.
    pub replacement: Option<String>,
}

impl From<&ResourceChange> for PlannedChange {
    fn from(c: &ResourceChange) -> Self {
        PlannedChange {
            action: c.action.clone(),
            logical_id: c.logical_id.clone(),
            resource_type: c.resource_type.clone(),
            replacement: c.replacement.clone(),
        }
    }
}

/// What the review of a change set found: what needs a human's yes when the plan executes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Findings {
    /// Why the change needs approval (broadening, under the approval policy of the review).
    pub broadening: Vec<String>,
    /// Stateful resources the change set would replace (`LogicalId (Type)`): refused unless
    /// `--allow-replace LogicalId` names them.
    pub replacements: Vec<String>,
}

impl Findings {
    /// The replaced resources `allow_replace` does not name, as logical IDs.
    pub fn refused_replacements(&self, allow_replace: &[String]) -> Vec<String> {
        self.replacements
            .iter()
            .map(|r| r.split(' ').next().unwrap_or(r).to_owned())
            .filter(|id| !allow_replace.contains(id))
            .collect()
    }
}

/// A new plan id: the UTC time and eight hex digits of a hash of the time, the process id and
/// the stacks, so two plans never share change set names.
pub fn new_plan_id(stacks: &[&str]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = sha2::Sha256::new();
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    for s in stacks {
        h.update(s.as_bytes());
    }
    let tag: String = h.finalize()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}-{tag}", utc_stamp(now.as_secs()))
}

/// `YYYYMMDDTHHMMSS` (UTC) for seconds since the epoch.
fn utc_stamp(secs: u64) -> String {
    use aws_sdk_cloudformation::primitives::{DateTime, DateTimeFormat};
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    DateTime::from_secs(secs)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect()
}

/// The change set name of a plan (also the name a plain deploy uses for its own change set).
pub fn change_set_name(plan_id: &str) -> String {
    format!("pantri-{plan_id}")
}

/// Hex SHA-256 of a template body, over its canonical JSON form when it is JSON (CloudFormation
/// may return the body re-spaced), of the text otherwise (YAML).
pub fn template_sha256(body: &str) -> String {
    let canonical = serde_json::from_str::<serde_json::Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| body.to_owned());
    hex(&sha2::Sha256::digest(canonical.as_bytes()))
}

/// Hex SHA-256 of parameters as a change set describes them (NoEcho values masked by the
/// service), sorted by key.
pub fn parameters_sha256(parameters: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = parameters.iter().collect();
    sorted.sort();
    let mut h = sha2::Sha256::new();
    for (k, v) in sorted {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What identifies `stack` now: its state and the hash of its deployed template.
pub async fn fingerprint<A: CloudFormation>(
    api: &A,
    info: &StackInfo,
) -> super::api::ApiResult<StackFingerprint> {
    let template = api.get_template(&info.name).await?.unwrap_or_default();
    Ok(StackFingerprint {
        id: info.id.clone(),
        status: info.status.clone(),
        last_updated: info.last_updated.clone(),
        template_sha256: template_sha256(&template),
    })
}

/// The plan's record of one prepared change set, read back from CloudFormation.
pub async fn planned_stack<A: CloudFormation>(
    api: &A,
    stack: &pantri_synth::assembly::StackArtifact,
    kind: ChangeSetType,
    change_set: &ChangeSetInfo,
    findings: Findings,
) -> super::api::ApiResult<PlannedStack> {
    let name = stack.properties.stack_name.as_str();
    let info = api.describe_stack(name).await?.unwrap_or_default();
    let template = api
        .get_change_set_template(name, &change_set.name)
        .await?
        .unwrap_or_default();
    Ok(PlannedStack {
        display_name: stack.display_name.clone(),
        stack_name: name.to_owned(),
        account: stack.env.account.clone(),
        region: stack.env.region.clone(),
        kind: match kind {
            ChangeSetType::Create => "create".into(),
            ChangeSetType::Update => "update".into(),
        },
        change_set_name: change_set.name.clone(),
        change_set_id: change_set.id.clone(),
        stack: fingerprint(api, &info).await?,
        template_sha256: template_sha256(&template),
        parameters_sha256: parameters_sha256(&change_set.parameters),
        termination_protection: stack.properties.termination_protection,
        resources: stack.template["Resources"]
            .as_object()
            .map(|r| r.len())
            .unwrap_or(0),
        changes: change_set.changes.iter().map(PlannedChange::from).collect(),
        findings,
        assets: Vec::new(),
    })
}

/// Re-reads a planned change set and its stack from CloudFormation; every difference from the
/// plan, one refusal each (empty: it is what was reviewed).
pub async fn verify<A: CloudFormation>(
    api: &A,
    planned: &PlannedStack,
) -> Result<Vec<DeployError>, DeployError> {
    let lines = differences(api, planned).await?;
    Ok(lines
        .into_iter()
        .map(|message| DeployError::StackState {
            stack: planned.display_name.clone(),
            message,
        })
        .collect())
}

async fn differences<A: CloudFormation>(
    api: &A,
    planned: &PlannedStack,
) -> Result<Vec<String>, DeployError> {
    let dn = planned.display_name.as_str();
    let name = planned.stack_name.as_str();
    let cs = planned.change_set_name.as_str();
    let fail = |e| DeployError::api(dn, e);
    let mut problems = Vec::new();
    let Some(info) = api.describe_stack(name).await.map_err(fail)? else {
        problems.push(format!(
            "stack {name} no longer exists (it was {} when the plan was made): prepare a new plan",
            planned.stack.status
        ));
        return Ok(problems);
    };
    let now = fingerprint(api, &info).await.map_err(fail)?;
    if now != planned.stack {
        let what = if now.id != planned.stack.id {
            "was deleted and created again".to_owned()
        } else if now.status != planned.stack.status
            || now.last_updated != planned.stack.last_updated
        {
            format!(
                "is {} (last updated {}), not {} (last updated {}) as when the plan was made",
                now.status,
                now.last_updated.as_deref().unwrap_or("-"),
                planned.stack.status,
                planned.stack.last_updated.as_deref().unwrap_or("-")
            )
        } else {
            "has another deployed template than when the plan was made".to_owned()
        };
        problems.push(format!(
            "stack {name} changed since the plan: it {what}; the reviewed change set would apply to another stack than reviewed: prepare a new plan"
        ));
    }
    let Some(change_set) = api.describe_change_set(name, cs).await.map_err(fail)? else {
        problems.push(format!(
            "change set {cs} of stack {name} no longer exists: prepare a new plan"
        ));
        return Ok(problems);
    };
    if change_set.id != planned.change_set_id {
        problems.push(format!(
            "change set {cs} is not the reviewed one (id {} instead of {}): it was replaced; prepare a new plan",
            change_set.id, planned.change_set_id
        ));
    }
    if change_set.status != "CREATE_COMPLETE" || change_set.execution_status != "AVAILABLE" {
        problems.push(format!(
            "change set {cs} cannot be executed: it is {} / {}{}",
            change_set.status,
            change_set.execution_status,
            change_set
                .status_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
    }
    let template = api
        .get_change_set_template(name, cs)
        .await
        .map_err(fail)?
        .unwrap_or_default();
    if template_sha256(&template) != planned.template_sha256 {
        problems.push(format!(
            "the template of change set {cs} does not match the plan's SHA-256 {}: what would run is not what was reviewed; prepare a new plan",
            planned.template_sha256
        ));
    }
    if parameters_sha256(&change_set.parameters) != planned.parameters_sha256 {
        problems.push(format!(
            "the parameters of change set {cs} do not match the plan's SHA-256 {}: prepare a new plan",
            planned.parameters_sha256
        ));
    }
    Ok(problems)
}

impl Plan {
    /// Reads a plan file: at most 4 MiB, this schema version, every field known.
    pub fn read(path: &Path) -> Result<Plan, DeployError> {
        let bad = |why: String| DeployError::Usage(format!("plan file {}: {why}", path.display()));
        let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
        if meta.len() > MAX_PLAN_BYTES {
            return Err(bad(format!(
                "{} bytes is not a plan (at most {MAX_PLAN_BYTES})",
                meta.len()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let plan: Plan =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a pantri plan ({e})")))?;
        if plan.schema_version != SCHEMA_VERSION {
            return Err(bad(format!(
                "schema version {} is not {SCHEMA_VERSION}: prepare the plan again with this pantri",
                plan.schema_version
            )));
        }
        Ok(plan)
    }

    /// Writes the plan file (0600, atomically, never through a symlink).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = pantri_synth::assembly::to_json_string(self).map_err(std::io::Error::other)?;
        super::files::write_private(path, &text)
    }

    /// The plan as a pull request shows it: one table of change sets, then each stack's
    /// changes and what needs approval.
    pub fn markdown(&self, plan_file: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "### pantri plan `{}`\n", self.id);
        let account = self.account.as_deref().unwrap_or("unknown");
        let _ = writeln!(
            s,
            "Account `{account}`, stage(s) {}: {} change set(s) prepared, {} stack(s) unchanged.\n",
            self.stages.join(", "),
            self.stacks.len(),
            self.unchanged.len()
        );
        if !self.stacks.is_empty() {
            let _ = writeln!(s, "| Stack | Change set | Changes | Needs approval |");
            let _ = writeln!(s, "|---|---|---:|---|");
            for p in &self.stacks {
                let approval =
                    if p.findings.broadening.is_empty() && p.findings.replacements.is_empty() {
                        "no".to_owned()
                    } else {
                        "**yes**".to_owned()
                    };
                let _ = writeln!(
                    s,
                    "| {} (`{}`, {}) | `{}` | {} | {approval} |",
                    p.display_name,
                    p.stack_name,
                    p.kind,
                    p.change_set_name,
                    p.changes.len()
                );
            }
        }
        for p in &self.stacks {
            let _ = writeln!(s, "\n#### {}\n", p.display_name);
            for r in &p.findings.replacements {
                let _ = writeln!(
                    s,
                    "- :warning: replaces stateful resource {r}: its data is lost (needs `--allow-replace`)"
                );
            }
            for b in &p.findings.broadening {
                let _ = writeln!(s, "- :warning: needs approval: {b}");
            }
            if !p.findings.replacements.is_empty() || !p.findings.broadening.is_empty() {
                let _ = writeln!(s);
            }
            let _ = writeln!(s, "| Action | Logical ID | Type | Replacement |");
            let _ = writeln!(s, "|---|---|---|---|");
            for c in &p.changes {
                let _ = writeln!(
                    s,
                    "| {} | `{}` | {} | {} |",
                    c.action,
                    c.logical_id,
                    c.resource_type,
                    c.replacement.as_deref().unwrap_or("-")
                );
            }
        }
        if !self.unchanged.is_empty() {
            let _ = writeln!(s, "\nUnchanged: {}.", self.unchanged.join(", "));
        }
        let assets: usize = self.stacks.iter().map(|p| p.assets.len()).sum();
        if assets == 0 {
            let _ = writeln!(
                s,
                "\nExecute exactly these change sets with `pantri deploy --plan {plan_file}`."
            );
        } else {
            let _ = writeln!(
                s,
                "\nExecute exactly these change sets with `pantri deploy --plan {plan_file} --app cdk.out`: it publishes the {assets} asset(s) they name (images, files) from this commit's assembly, with the app built, before each change set."
            );
        }
        s
    }

    /// The plan's regions.
    pub fn regions(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> =
            self.stacks.iter().map(|s| s.region.as_str()).collect();
        set.into_iter().map(str::to_owned).collect()
    }

    /// Every reason to ask, per stack, from the plan's own findings.
    pub fn approval_reasons(&self) -> BTreeMap<&str, &[String]> {
        self.stacks
            .iter()
            .filter(|p| !p.findings.broadening.is_empty())
            .map(|p| (p.display_name.as_str(), p.findings.broadening.as_slice()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_ids_are_utc_stamps_with_a_tag_and_differ() {
        assert_eq!(utc_stamp(0), "19700101T000000");
        assert_eq!(utc_stamp(1_795_986_000), "20261129T210000");
        let a = new_plan_id(&["dev/App"]);
        let b = new_plan_id(&["dev/App"]);
        assert_ne!(a, b);
        assert_eq!(a.len(), 15 + 1 + 8, "{a}");
        let name = change_set_name(&a);
        assert!(name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()));
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{name}"
        );
    }

    #[test]
    fn the_template_hash_ignores_spacing_but_not_content() {
        let a = template_sha256(r#"{"Resources": {"A": {"Type": "AWS::SNS::Topic"}}}"#);
        let b = template_sha256("{\n \"Resources\":{\"A\":{\"Type\":\"AWS::SNS::Topic\"}}}");
        let c = template_sha256(r#"{"Resources": {"A": {"Type": "AWS::SQS::Queue"}}}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 64);
        let p = parameters_sha256(&[("B".into(), "2".into()), ("A".into(), "1".into())]);
        let q = parameters_sha256(&[("A".into(), "1".into()), ("B".into(), "2".into())]);
        let r = parameters_sha256(&[("A".into(), "1".into()), ("B".into(), "3".into())]);
        assert_eq!(p, q);
        assert_ne!(p, r);
    }

    #[test]
    fn a_plan_file_is_read_back_and_a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan {
            schema_version: SCHEMA_VERSION,
            id: "20261129T210000-0a1b2c3d".into(),
            account: Some("123456789012".into()),
            stages: vec!["dev".into()],
            stacks: Vec::new(),
            unchanged: vec!["dev/Network".into()],
            markdown: String::new(),
        };
        let path = dir.path().join("plan.json");
        plan.write(&path).unwrap();
        assert_eq!(Plan::read(&path).unwrap(), plan);
        std::fs::write(&path, r#"{"schemaVersion": 1, "id": "x"}"#).unwrap();
        let e = Plan::read(&path).unwrap_err().to_string();
        assert!(
            e.contains("plan.json") && e.contains("not a pantri plan"),
            "{e}"
        );
        let mut old = plan.clone();
        old.schema_version = 0;
        old.write(&path).unwrap();
        let e = Plan::read(&path).unwrap_err().to_string();
        assert!(e.contains("schema version 0"), "{e}");
    }
}
