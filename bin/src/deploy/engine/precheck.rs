//! Everything that can be known before the first change set is checked for every selected stack
//! first: stack states, every parameter's value, the registry types a template uses. A deploy
//! that would stop at the third stack stops before the first one instead, with every problem
//! in one report.

use std::collections::HashSet;

use pantri_synth::assembly::StackArtifact;

use super::request::Fill;
use super::*;

/// The refusal for a stack in a `*_FAILED` state, with the way out; `None` for other states.
pub fn failed_state(stack: &StackArtifact, info: &StackInfo) -> Option<DeployError> {
    let dn = stack.display_name.as_str();
    let name = stack.properties.stack_name.as_str();
    let region = stack.env.region.as_str();
    let status = info.status.as_str();
    let reason = info.reason_suffix();
    let message = match status {
        "UPDATE_ROLLBACK_FAILED" => format!(
            "stack {name} is UPDATE_ROLLBACK_FAILED{reason}: CloudFormation could not roll back the last update, often because a resource was changed or deleted outside CloudFormation. Fix the cause, then run `aws cloudformation continue-update-rollback --stack-name {name} --region {region}` (add --resources-to-skip LOGICAL_ID for resources that cannot be rolled back) and deploy again"
        ),
        s if s.ends_with("_FAILED") => format!(
            "stack {name} is {s}{reason}: pantri does not deploy over a failed stack; inspect it with `aws cloudformation describe-stack-events --stack-name {name} --region {region}`, repair or delete it, and deploy again"
        ),
        _ => return None,
    };
    Some(DeployError::StackState {
        stack: dn.into(),
        message,
    })
}

/// The refusal for a stack with an operation running, under `--no-wait`.
pub fn busy_state(stack: &StackArtifact, status: &str) -> DeployError {
    DeployError::StackState {
        stack: stack.display_name.clone(),
        message: format!(
            "stack {} is {status}: another operation is running on it; wait for it to end, or deploy without --no-wait to wait for it",
            stack.properties.stack_name
        ),
    }
}

impl<'a, A: CloudFormation + TemplateStaging> Engine<'a, A> {
    /// Checks every stack of `stacks` (the selection, in deploy order) before anything is
    /// changed, and returns every problem found. An access problem (credentials, endpoint) is
    /// returned at once as the error: nothing else can be checked then.
    pub async fn precheck(
        &self,
        stacks: &[&'a StackArtifact],
    ) -> Result<Vec<DeployError>, DeployError> {
        let selected: HashSet<&str> = stacks.iter().map(|s| s.id.as_str()).collect();
        let mut problems = Vec::new();
        let access = |e: DeployError, problems: &mut Vec<DeployError>| {
            if e.is_access() {
                Err(e)
            } else {
                problems.push(e);
                Ok(())
            }
        };
        for stack in stacks {
            let dn = stack.display_name.as_str();
            let api = self.client(stack)?;
            let existing = api
                .describe_stack(&stack.properties.stack_name)
                .await
                .map_err(|e| DeployError::api(dn, e))?;
            if let Some(info) = &existing {
                if let Some(p) = failed_state(stack, info) {
                    problems.push(p);
                } else if !is_terminal_status(&info.status) && !self.options.wait_in_progress {
                    problems.push(busy_state(stack, &info.status));
                }
            }
            let kind = match existing.as_ref().map(|s| s.status.as_str()) {
                None | Some("REVIEW_IN_PROGRESS" | "ROLLBACK_COMPLETE" | "DELETE_COMPLETE") => {
                    ChangeSetType::Create
                }
                _ => ChangeSetType::Update,
            };
            if let Some(declared) = stack.template["Parameters"].as_object() {
                for (key, decl) in declared {
                    match self.fill(stack, key, decl, kind, existing.as_ref()) {
                        Fill::Missing(e) => problems.push(e),
                        // A producer deployed in this run has its outputs only then.
                        Fill::CrossRegion(link) if !selected.contains(link.producer.as_str()) => {
                            if let Err(e) = self
                                .producer_output(stack, &link.producer, &link.output)
                                .await
                            {
                                access(e, &mut problems)?;
                            }
                        }
                        _ => {}
                    }
                }
            }
            if let Err(e) = self.check_registry_types(api, stack).await {
                access(e, &mut problems)?;
            }
        }
        Ok(problems)
    }
}
