//! Resources a stack creates under a fixed name, and whether that name is already taken.
//!
//! A stateful resource with `DeletionPolicy: Retain` outlives its stack: after a `destroy` (or a
//! stack deleted by hand), its log group, secret, repository or bucket is still there under the
//! same name, and the next create of the stack fails on it with "already exists" and rolls back.
//! Deploy asks the service of each such name before the first change set, so that the problem
//! is one line naming the resource and the way out, not a rollback minutes later.

use std::collections::BTreeMap;

use pantri_synth::assembly::StackArtifact;

use super::api::{ApiResult, CloudFormation, StackInfo};
use super::error::DeployError;

/// A kind of resource whose name is unique in its account and region (a bucket: in all of S3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NamedKind {
    /// `AWS::Logs::LogGroup` `LogGroupName`.
    LogGroup,
    /// `AWS::SecretsManager::Secret` `Name`.
    Secret,
    /// `AWS::ECR::Repository` `RepositoryName`.
    Repository,
    /// `AWS::S3::Bucket` `BucketName`.
    Bucket,
}

impl NamedKind {
    /// The kind of a resource type, with the property that holds its name.
    pub fn of(resource_type: &str) -> Option<(NamedKind, &'static str)> {
        Some(match resource_type {
            "AWS::Logs::LogGroup" => (NamedKind::LogGroup, "LogGroupName"),
            "AWS::SecretsManager::Secret" => (NamedKind::Secret, "Name"),
            "AWS::ECR::Repository" => (NamedKind::Repository, "RepositoryName"),
            "AWS::S3::Bucket" => (NamedKind::Bucket, "BucketName"),
            _ => return None,
        })
    }

    /// What a person calls it.
    pub fn noun(self) -> &'static str {
        match self {
            NamedKind::LogGroup => "log group",
            NamedKind::Secret => "secret",
            NamedKind::Repository => "ECR repository",
            NamedKind::Bucket => "S3 bucket",
        }
    }

    /// The AWS CLI command that deletes it (after a look at what it holds).
    pub fn delete_command(self, name: &str, region: &str) -> String {
        match self {
            NamedKind::LogGroup => {
                format!("aws logs delete-log-group --log-group-name {name} --region {region}")
            }
            // A secret scheduled for deletion keeps its name through its recovery window: only
            // an immediate deletion frees it for the deploy.
            NamedKind::Secret => format!(
                "aws secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery --region {region}"
            ),
            NamedKind::Repository => format!(
                "aws ecr delete-repository --repository-name {name} --force --region {region}"
            ),
            NamedKind::Bucket => format!("aws s3 rb s3://{name} --force"),
        }
    }

    /// Whether `physical_id`, a deployed resource's physical ID, is the resource named `name`
    /// (a secret's physical ID is its ARN, which ends in the name and a random suffix).
    fn is(self, physical_id: &str, name: &str) -> bool {
        match self {
            NamedKind::Secret => physical_id.contains(&format!(":secret:{name}-")),
            _ => physical_id == name,
        }
    }
}

/// A resource of a template with a fixed (literal) name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// The logical ID.
    pub logical_id: String,
    /// What it is.
    pub kind: NamedKind,
    /// Its name.
    pub name: String,
}

/// The resources of `template` created under a literal name. A name built by an intrinsic
/// function is left out: it cannot be known before the stack resolves it.
pub fn named_resources(template: &serde_json::Value) -> Vec<Named> {
    let Some(resources) = template["Resources"].as_object() else {
        return Vec::new();
    };
    resources
        .iter()
        .filter_map(|(logical_id, r)| {
            let (kind, property) = NamedKind::of(r["Type"].as_str()?)?;
            let name = r["Properties"][property].as_str()?;
            Some(Named {
                logical_id: logical_id.clone(),
                kind,
                name: name.to_owned(),
            })
        })
        .collect()
}

/// Asks the services whether a name is taken. Implemented over the AWS SDK by the same
/// per-region client as [`CloudFormation`] ([`super::sdk_names`]) and by the fake in tests.
#[allow(async_fn_in_trait)]
pub trait NameRegistry {
    /// Whether a resource of `kind` named `name` exists (for a bucket: anywhere in S3, this
    /// account's or another's).
    async fn name_taken(&self, kind: NamedKind, name: &str) -> ApiResult<bool>;
}

/// For each selected stack, the named resources its next change set would create while a
/// resource of that name exists already outside it: one problem each, with the way out. An
/// access problem is returned as the error.
pub async fn leftovers<A: CloudFormation + NameRegistry>(
    clients: &BTreeMap<String, A>,
    selected: &[&StackArtifact],
) -> Result<Vec<DeployError>, DeployError> {
    let mut problems = Vec::new();
    for stack in selected {
        if let Some(api) = clients.get(&stack.env.region) {
            problems.extend(stack_leftovers(api, stack).await?);
        }
    }
    Ok(problems)
}

/// [`leftovers`] of one stack, through its region's client.
pub async fn stack_leftovers<A: CloudFormation + NameRegistry>(
    api: &A,
    stack: &StackArtifact,
) -> Result<Vec<DeployError>, DeployError> {
    if named_resources(&stack.template).is_empty() {
        return Ok(Vec::new());
    }
    let existing = api
        .describe_stack(&stack.properties.stack_name)
        .await
        .map_err(|e| DeployError::api(&stack.display_name, e))?;
    leftovers_of(api, stack, existing.as_ref()).await
}

/// [`stack_leftovers`] for a caller that has described the stack already (`existing`: what
/// `DescribeStacks` said, `None` when the stack does not exist).
pub async fn leftovers_of<A: CloudFormation + NameRegistry>(
    api: &A,
    stack: &StackArtifact,
    existing: Option<&StackInfo>,
) -> Result<Vec<DeployError>, DeployError> {
    let dn = stack.display_name.as_str();
    let named = named_resources(&stack.template);
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let fail = |e| DeployError::api(dn, e);
    let stack_name = stack.properties.stack_name.as_str();
    // What the stack has now: a resource it already holds under that name is no leftover.
    let deployed: BTreeMap<String, String> = match existing {
        Some(info) if info.status != "ROLLBACK_COMPLETE" => {
            match api.list_stack_resources(stack_name).await {
                Ok(resources) => resources
                    .into_iter()
                    .filter_map(|r| Some((r.logical_id, r.physical_id?)))
                    .collect(),
                Err(e) if e.is_access() => return Err(fail(e)),
                // Without the stack's own resources, its own names would look taken: the
                // check is skipped rather than guessed.
                Err(_) => return Ok(Vec::new()),
            }
        }
        _ => BTreeMap::new(),
    };
    let mut problems = Vec::new();
    for n in named {
        if deployed
            .get(&n.logical_id)
            .is_some_and(|physical| n.kind.is(physical, &n.name))
        {
            continue;
        }
        match api.name_taken(n.kind, &n.name).await {
            Ok(false) => {}
            Ok(true) => problems.push(taken(stack, &n)),
            Err(e) if e.is_access() => return Err(fail(e)),
            // A probe the endpoint cannot answer is no reason to stop a deploy.
            Err(_) => {}
        }
    }
    Ok(problems)
}

/// The problem of a name taken by a resource outside the stack.
fn taken(stack: &StackArtifact, n: &Named) -> DeployError {
    let region = stack.env.region.as_str();
    DeployError::StackState {
        stack: stack.display_name.clone(),
        message: format!(
            "{} {} ({}) exists already outside stack {}, most likely kept by an earlier stack (DeletionPolicy Retain); creating it again would fail with \"already exists\" and roll the stack back. Delete it if its contents are no longer needed (`{}`) or import it into the stack (a CloudFormation resource import), then deploy again",
            n.kind.noun(),
            n.name,
            n.logical_id,
            stack.properties.stack_name,
            n.kind.delete_command(&n.name, region),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_names_of_known_kinds_are_found_and_computed_names_skipped() {
        let t = json!({"Resources": {
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/ecs/app"}},
            "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "app/key"}},
            "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "app"}},
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "app-${AWS::AccountId}"}}},
            "Unnamed": {"Type": "AWS::S3::Bucket"},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "app"}}
        }});
        let found: Vec<(String, NamedKind, String)> = named_resources(&t)
            .into_iter()
            .map(|n| (n.logical_id, n.kind, n.name))
            .collect();
        assert_eq!(
            found,
            vec![
                ("Logs".into(), NamedKind::LogGroup, "/aws/ecs/app".into()),
                ("Secret".into(), NamedKind::Secret, "app/key".into()),
                ("Repo".into(), NamedKind::Repository, "app".into()),
            ]
        );
    }

    #[test]
    fn the_way_out_for_a_secret_frees_its_name_at_once() {
        let command = NamedKind::Secret.delete_command("app/key", "eu-west-1");
        assert!(
            command.contains("--force-delete-without-recovery"),
            "{command}"
        );
        assert!(!command.contains("recovery-window"), "{command}");
    }

    #[test]
    fn a_secret_is_recognised_by_its_arn() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/key-AbCdEf";
        assert!(NamedKind::Secret.is(arn, "app/key"));
        assert!(!NamedKind::Secret.is(arn, "app"));
        assert!(NamedKind::LogGroup.is("/aws/ecs/app", "/aws/ecs/app"));
    }
}
