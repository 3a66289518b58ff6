//! The deployed side of stacks: what CloudFormation holds for a stack (`DescribeStacks` and
//! `GetTemplate`), read the same way by `pantri diff` and by deploy's checks.

use pantri_synth::assembly::{parse_template, StackArtifact};
use serde_json::Value;

use crate::deploy::api::{ApiResult, CloudFormation, StackInfo};
use crate::deploy::error::ApiError;
use crate::deploy::sdk::{Connection, SdkCloudFormation};

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

/// Why the deployed side of a stack could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DeployedError {
    /// A CloudFormation call failed.
    #[error("[{stack}] {source}")]
    Api {
        /// The stack's display name.
        stack: String,
        /// The call's error.
        source: ApiError,
    },
    /// The deployed template is neither JSON nor YAML.
    #[error("[{stack}] the deployed template of {stack_name} does not parse: {source}")]
    Unreadable {
        /// The stack's display name.
        stack: String,
        /// The CloudFormation stack name.
        stack_name: String,
        /// The parser's error.
        source: pantri_synth::SynthError,
    },
    /// No async runtime could be started.
    #[error("cannot start the runtime for AWS calls: {0}")]
    Runtime(#[from] std::io::Error),
}

/// The deployed side of each of `stacks`: the artifact with the deployed template, tags and
/// termination protection in place of the synthesized ones. A stack that does not exist yet is
/// left out. Blocks on a runtime of its own (the caller is synchronous).
pub fn stacks(
    stacks: &[StackArtifact],
    connection: &Connection,
) -> Result<Vec<StackArtifact>, DeployedError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut out = Vec::new();
        for stack in stacks {
            let name = &stack.properties.stack_name;
            let client = SdkCloudFormation::connect(&stack.env.region, connection).await;
            let deployed = read(&client, name)
                .await
                .map_err(|source| DeployedError::Api {
                    stack: stack.display_name.clone(),
                    source,
                })?;
            let Some(deployed) = deployed else {
                continue;
            };
            let template = deployed
                .template()
                .map_err(|source| DeployedError::Unreadable {
                    stack: stack.display_name.clone(),
                    stack_name: name.clone(),
                    source,
                })?;
            let mut artifact = stack.clone();
            artifact.template = template;
            artifact.properties.tags = deployed.info.tags;
            artifact.properties.termination_protection = deployed.info.termination_protection;
            out.push(artifact);
        }
        Ok(out)
    })
}
