//! Running the [`StackHooks`] around a stack: the outputs they ask for are read from the deployed
//! stacks, `before` runs ahead of the change set, `after` once the stack is deployed or unchanged.

use pantri_synth::assembly::StackArtifact;

use super::*;
use crate::deploy::hooks::Outputs;

impl<'a, A: CloudFormation + TemplateStaging> Engine<'a, A> {
    pub(super) async fn deploy_stack_with_hooks(
        &self,
        stack: &StackArtifact,
    ) -> Result<(Outcome, IndexMap<String, String>), DeployError> {
        self.before_hooks(stack).await?;
        let done = self.deploy_stack(stack).await?;
        self.after_hooks(stack, &done.0).await?;
        Ok(done)
    }

    /// The `before` hooks of a stack (publishing), with the outputs they need.
    pub(super) async fn before_hooks(&self, stack: &StackArtifact) -> Result<(), DeployError> {
        if let Some(h) = self.hooks {
            let outputs = self.hook_outputs(stack, h.outputs_before(stack)).await?;
            h.before(stack, &outputs, self.ui).await?;
        }
        Ok(())
    }

    /// The `after` hooks of a stack that deployed or had no changes (invalidations).
    pub(super) async fn after_hooks(
        &self,
        stack: &StackArtifact,
        outcome: &Outcome,
    ) -> Result<(), DeployError> {
        if let (Some(h), Outcome::Deployed | Outcome::NoChanges) = (self.hooks, outcome) {
            let outputs = self.hook_outputs(stack, h.outputs_after(stack)).await?;
            h.after(stack, &outputs, self.ui).await?;
        }
        Ok(())
    }

    async fn hook_outputs(
        &self,
        stack: &StackArtifact,
        wanted: Vec<(String, String)>,
    ) -> Result<Outputs, DeployError> {
        let mut outputs = Outputs::new();
        for (producer, output) in wanted {
            let value = self.producer_output(stack, &producer, &output).await?;
            outputs.insert((producer, output), value);
        }
        Ok(outputs)
    }

    /// Runs only the `before` hooks of `stacks`, in the given (dependency) order, and stops at
    /// the first failure: `--publish-only`.
    pub async fn run_before_hooks(&self, stacks: &[&StackArtifact]) -> Result<(), DeployError> {
        for stack in stacks {
            self.before_hooks(stack).await?;
        }
        Ok(())
    }
}
