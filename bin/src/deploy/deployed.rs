//! The deployed side of stacks: what CloudFormation holds for a stack (`DescribeStacks` and
//! `GetTemplate`), read the same way by `pantri diff` and by deploy's checks.

use pantri_synth::assembly::{parse_template, StackArtifact};
use serde_json::Value;

use super::account::verify_caller;
use super::api::{ApiResult, CloudFormation, StackInfo};
use super::error::DeployError;
use super::names::leftovers_of;
use super::sdk::{Connection, SdkCloudFormation};

/// A deployed stack: its description and its template.
#[derive(Clone, Debug, PartialEq)]
pub struct DeployedStack {
    /// What `DescribeStacks` says (status, tags, termination protection, outputs).
    pub info: StackInfo,
    /// The template body as CloudFormation returns it (as it was sent: JSON from pantri, maybe
    /// YAML from another tool).
    pub body: String,
}

impl DeployedStack {
    /// The template, read as JSON or else as YAML.
    pub fn template(&self) -> Result<Value, pantri_synth::SynthError> {
        parse_template("deployed.template.json", &self.body)
            .or_else(|_| parse_template("deployed.template.yaml", &self.body))
    }
}

/// The deployed stack named `stack_name`; `None` when it does not exist.
pub async fn read<A: CloudFormation>(
    api: &A,
    stack_name: &str,
) -> ApiResult<Option<DeployedStack>> {
    let Some(info) = api.describe_stack(stack_name).await? else {
        return Ok(None);
    };
    let Some(body) = api.get_template(stack_name).await? else {
        return Ok(None);
    };
    Ok(Some(DeployedStack { info, body }))
}

/// The deployed side of stacks, and what would stop their deploy that the templates do not show.
#[derive(Debug, Default)]
pub struct Deployed {
    /// Each deployed stack: the artifact with the deployed template, tags and termination
    /// protection in place of the synthesized ones. A stack that does not exist yet is left out.
    pub stacks: Vec<StackArtifact>,
    /// Fixed names the synthesized stacks would create that a resource outside them holds
    /// ([`super::names`]): the deploy would refuse them.
    pub leftovers: Vec<DeployError>,
}

/// The deployed side of each of `stacks` ([`Deployed`]). The caller must be in the stacks'
/// account (STS first): another account's stacks would show a false picture. Blocks on a
/// runtime of its own (the caller is synchronous).
pub fn stacks(stacks: &[StackArtifact], connection: &Connection) -> Result<Deployed, DeployError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DeployError::Failed {
            stack: "-".into(),
            message: format!("cannot start the runtime for AWS calls: {e}"),
        })?;
    runtime.block_on(async {
        let selected: Vec<&StackArtifact> = stacks.iter().collect();
        verify_caller(&selected, connection).await?;
        let mut out = Deployed::default();
        for stack in stacks {
            let name = &stack.properties.stack_name;
            let client = SdkCloudFormation::connect(&stack.env.region, connection).await;
            let deployed = read(&client, name)
                .await
                .map_err(|e| DeployError::api(&stack.display_name, e))?;
            let info = deployed.as_ref().map(|d| &d.info);
            out.leftovers
                .extend(leftovers_of(&client, stack, info).await?);
            let Some(deployed) = deployed else {
                continue;
            };
            let template = deployed.template().map_err(|e| {
                DeployError::Usage(format!(
                    "[{}] the deployed template of {name} does not parse: {e}",
                    stack.display_name
                ))
            })?;
            let mut artifact = stack.clone();
            artifact.template = template;
            artifact.properties.tags = deployed.info.tags;
            artifact.properties.termination_protection = deployed.info.termination_protection;
            out.stacks.push(artifact);
        }
        Ok(out)
    })
}
