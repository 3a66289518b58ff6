//! Exports in use. CloudFormation refuses to remove an export, or change its value, while another
//! stack imports it, and it finds out only in the middle of the update (which then rolls back).
//! Before anything is deployed, [`plan`] compares each deployed stack's exports (`ListExports`)
//! with the new template's, asks who imports the ones that go away or change (`ListImports`;
//! the deployed templates of the assembly's stacks where the endpoint has no `ListImports`),
//! and decides:
//!
//! - an export the new template drops while a stack still imports it is **kept for one more
//!   deploy**: its output is added back to the template with the deployed value (the AWS CDK's
//!   two-step workaround, done automatically); once nothing imports it, a later deploy drops it;
//! - an export whose value changes (its expression changes, or the resource it names is
//!   replaced) while a stack imports it cannot be kept (one name, two values): the deploy is
//!   refused with the order of deploys that works.
//!
//! The reading of templates (which exports a change drops or changes, who imports what) is
//! the diff's, `pantri_synth::diff::links`, so `pantri diff` and deploy agree.

use std::collections::BTreeMap;

use pantri_synth::assembly::StackArtifact;
use pantri_synth::diff::links::{self, ExportFate};
use pantri_synth::diff::{self, SchemaSpecs, StackInput};
use serde_json::Value;

use super::api::{ApiResult, CloudFormation};
use super::deployed;
use super::error::{ApiError, DeployError};

/// One export of the region (`ListExports`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Export {
    /// The export name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// The id (ARN) of the stack that exports it.
    pub exporting_stack_id: String,
}

/// The export calls; each method is one API call over all pages.
#[allow(async_fn_in_trait)]
pub trait Exports {
    /// `ListExports`: every export of the account and region.
    async fn list_exports(&self) -> ApiResult<Vec<Export>>;
    /// `ListImports`: the names of the stacks importing `export` (empty when none does).
    async fn list_imports(&self, export: &str) -> ApiResult<Vec<String>>;
}

/// An export kept for one more deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptExport {
    /// The producing stack's artifact id.
    pub stack_id: String,
    /// The producing stack's display name.
    pub stack: String,
    /// The output key it is kept under.
    pub output_key: String,
    /// The export name.
    pub name: String,
    /// The deployed value, kept as a literal.
    pub value: String,
    /// The stacks that import it.
    pub importers: Vec<String>,
}

impl KeptExport {
    /// The preview line.
    pub fn note(&self) -> String {
        format!(
            "{}: keeping export {} (imported by {}) for one more deploy with its deployed value; a later deploy drops it once nothing imports it",
            self.stack,
            self.name,
            self.importers.join(", ")
        )
    }
}

/// What [`plan`] decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportPlan {
    /// Exports added back to their templates.
    pub kept: Vec<KeptExport>,
    /// Warnings (importers could only be looked for in the assembly).
    pub warnings: Vec<String>,
}

impl ExportPlan {
    /// Adds each kept export's output back to its stack's template.
    pub fn apply(&self, stacks: &mut [StackArtifact]) {
        for k in &self.kept {
            let Some(s) = stacks.iter_mut().find(|s| s.id == k.stack_id) else {
                continue;
            };
            if !s.template["Outputs"].is_object() {
                s.template["Outputs"] = Value::Object(Default::default());
            }
            s.template["Outputs"][&k.output_key] = serde_json::json!({
                "Description": format!("Kept by pantri while {} import(s) it; dropped on a later deploy", k.importers.join(", ")),
                "Value": k.value,
                "Export": {"Name": k.name},
            });
        }
    }
}

/// Decides, for the `selected` stacks about to deploy, which exports in use are kept and which
/// changes are refused. `assembly` holds every stack (importers outside the selection count).
pub async fn plan<A: CloudFormation + Exports>(
    clients: &BTreeMap<String, A>,
    assembly: &[StackArtifact],
    selected: &[&StackArtifact],
) -> Result<ExportPlan, DeployError> {
    let mut result = ExportPlan::default();
    let mut refused: Vec<String> = Vec::new();
    let mut exports_by_region: BTreeMap<&str, Vec<Export>> = BTreeMap::new();
    for stack in selected {
        let dn = stack.display_name.as_str();
        let name = stack.properties.stack_name.as_str();
        let region = stack.env.region.as_str();
        let fail = |e: ApiError| DeployError::api(dn, e);
        let Some(api) = clients.get(region) else {
            continue;
        };
        let Some(deployed) = deployed::read(api, name).await.map_err(fail)? else {
            continue;
        };
        let template = deployed.template().map_err(|e| {
            DeployError::Usage(format!("[{dn}] cannot read the deployed template: {e}"))
        })?;
        if links::template_exports(&template, name).is_empty() {
            continue;
        }
        if !exports_by_region.contains_key(region) {
            let all = api.list_exports().await.map_err(fail)?;
            exports_by_region.insert(region, all);
        }
        let live: BTreeMap<&str, &str> = exports_by_region[region]
            .iter()
            .filter(|e| e.exporting_stack_id == deployed.info.id || e.exporting_stack_id == name)
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        let input = StackInput {
            name: dn,
            old: Some(&template),
            new: Some(&stack.template),
            old_stack: Default::default(),
            new_stack: Default::default(),
        };
        let diff = diff::diff_stack(&input, &SchemaSpecs);
        for change in links::export_changes(&template, Some(&stack.template), name, &diff) {
            let export = &change.export.name;
            let importers = importers(api, assembly, stack, export, &mut result.warnings)
                .await
                .map_err(fail)?;
            if importers.is_empty() {
                continue;
            }
            if let ExportFate::Changes(why) = change.fate {
                refused.push(format!(
                    "[{dn}] export {export} changes value ({why}) while {} import(s) it, which CloudFormation refuses mid-update. Deploy in this order: 1) {} without the Fn::ImportValue of {export} (for example a literal or a parameter), 2) {dn}, 3) the importers again with the import",
                    importers.join(", "),
                    importers.join(", "),
                ));
                continue;
            }
            let Some(value) = live.get(export.as_str()) else {
                continue;
            };
            // Under its old key, unless the new template uses that key for another output.
            let key = change.export.output;
            let output_key = if stack.template["Outputs"].get(key).is_some() {
                format!("{key}Kept")
            } else {
                key.to_owned()
            };
            result.kept.push(KeptExport {
                stack_id: stack.id.clone(),
                stack: dn.to_owned(),
                output_key,
                name: export.clone(),
                value: (*value).to_owned(),
                importers,
            });
        }
    }
    if !refused.is_empty() {
        return Err(DeployError::StackState {
            stack: selected
                .first()
                .map(|s| s.display_name.clone())
                .unwrap_or_default(),
            message: refused.join("\n"),
        });
    }
    Ok(result)
}

/// Who imports `export`: `ListImports`, or (where the endpoint does not implement it) the
/// deployed templates of the assembly's other stacks in the same region.
async fn importers<A: CloudFormation + Exports>(
    api: &A,
    assembly: &[StackArtifact],
    producer: &StackArtifact,
    export: &str,
    warnings: &mut Vec<String>,
) -> ApiResult<Vec<String>> {
    match api.list_imports(export).await {
        Ok(stacks) => return Ok(stacks),
        Err(ApiError::Unsupported(why)) => {
            let w = format!(
                "{}: this endpoint has no ListImports ({why}); importers of {export} were looked for in the deployed templates of the assembly's stacks only",
                producer.display_name
            );
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        Err(e) => return Err(e),
    }
    let mut found = Vec::new();
    for s in assembly
        .iter()
        .filter(|s| s.id != producer.id && s.env.region == producer.env.region)
    {
        let Some(body) = api.get_template(&s.properties.stack_name).await? else {
            continue;
        };
        let Ok(t) = serde_json::from_str::<Value>(&body) else {
            continue;
        };
        if links::imported_names(&t, &s.properties.stack_name).contains(export) {
            found.push(s.properties.stack_name.clone());
        }
    }
    Ok(found)
}

#[cfg(test)]
#[path = "exports_tests.rs"]
mod tests;
