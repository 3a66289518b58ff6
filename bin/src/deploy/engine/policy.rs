//! The stack policy of a protected stack: CloudFormation may not replace or delete its stateful
//! resources unless `--allow-replace` names them for this one execution.
//!
//! A change set cannot carry a `StackPolicyDuringUpdateBody` (only `UpdateStack` can), so the
//! temporary override is a `SetStackPolicy` before `ExecuteChangeSet`, and the protecting policy
//! is set again once the execution ended (also after a failure). A new stack gets its policy once
//! it exists.

use crate::deploy::hardening::{override_policy, stack_policy};

use super::*;

/// A protected stack's policies: what protects it, and what applies during this execution.
pub(super) struct Protection {
    protecting: String,
    during: String,
}

impl<'a, A: CloudFormation + TemplateStaging> Engine<'a, A> {
    /// The policies for `stack`: `None` unless it is termination-protected (the app's mark of a
    /// stack whose data must survive) and has stateful resources.
    pub(super) fn protection(&self, stack: &StackArtifact) -> Option<Protection> {
        if !stack.properties.termination_protection {
            return None;
        }
        let protecting = stack_policy(&stack.template)?;
        let during = override_policy(&stack.template, &self.options.allow_replace)
            .unwrap_or_else(|| protecting.clone());
        Some(Protection {
            protecting: protecting.to_string(),
            during: during.to_string(),
        })
    }

    /// Before executing: an existing stack gets the policy for this execution.
    pub(super) async fn protect_before(
        &self,
        api: &A,
        stack: &StackArtifact,
        kind: ChangeSetType,
        protection: Option<&Protection>,
    ) -> Result<(), DeployError> {
        let (Some(p), ChangeSetType::Update) = (protection, kind) else {
            return Ok(());
        };
        if p.during != p.protecting {
            self.ui.say(format_args!(
                "{}: stack policy relaxed for this execution: --allow-replace {}",
                stack.display_name,
                self.options.allow_replace.join(" --allow-replace ")
            ));
        }
        api.set_stack_policy(&stack.properties.stack_name, &p.during)
            .await
            .map_err(|e| DeployError::api(&stack.display_name, e))
    }

    /// After the execution ended: the protecting policy again. A failure here is a warning (the
    /// deployment itself is over) that says what to run.
    pub(super) async fn protect_after(
        &self,
        api: &A,
        stack: &StackArtifact,
        protection: Option<&Protection>,
    ) {
        let Some(p) = protection else { return };
        let name = stack.properties.stack_name.as_str();
        if let Err(e) = api.set_stack_policy(name, &p.protecting).await {
            self.ui.warn(format_args!(
                "{}: warning: the stack policy protecting its stateful resources could not be set ({e}); the next deploy sets it again",
                stack.display_name
            ));
        }
    }
}
