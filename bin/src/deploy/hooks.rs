//! Work the engine runs around each stack's change set, without knowing what it is: publishing
//! the stack's assets before, invalidating changed paths in CloudFront after
//! ([`crate::assets::Publisher`]). The engine reads the stack outputs a hook asks for, so a hook
//! can publish to a bucket another stack created.

use std::collections::BTreeMap;

use futures_util::future::LocalBoxFuture;
use pantri_synth::assembly::StackArtifact;

use super::error::DeployError;
use super::planfile::PlannedAsset;
use super::progress::Ui;

/// Outputs of deployed stacks: `(stack artifact id, output key)` → value.
pub type Outputs = BTreeMap<(String, String), String>;

/// The future a hook returns (stacks deploy concurrently on one thread: not `Send`).
pub type HookFuture<'s> = LocalBoxFuture<'s, Result<(), DeployError>>;

/// The problems [`StackHooks::precheck`] finds.
pub type PrecheckFuture<'s> = LocalBoxFuture<'s, Vec<DeployError>>;

/// Work around a stack's deployment.
pub trait StackHooks {
    /// Parameter values the hooks fill (`(key, value)`), for example an asset's image tag.
    fn parameters(&self, stack: &StackArtifact) -> Vec<(String, String)>;
    /// What [`StackHooks::before`] publishes for the stack, by content hash: recorded in a plan
    /// at prepare time and compared when the plan executes.
    fn assets(&self, stack: &StackArtifact) -> Vec<PlannedAsset>;
    /// What the hooks would refuse to do for these stacks, found before anything is touched
    /// (an image that would go to a real registry from an emulated deploy). Default: nothing.
    fn precheck<'s>(&'s self, stacks: &'s [&'s StackArtifact]) -> PrecheckFuture<'s> {
        let _ = stacks;
        Box::pin(async { Vec::new() })
    }
    /// The outputs [`StackHooks::before`] needs.
    fn outputs_before(&self, stack: &StackArtifact) -> Vec<(String, String)>;
    /// The outputs [`StackHooks::after`] needs (read once the stack is deployed).
    fn outputs_after(&self, stack: &StackArtifact) -> Vec<(String, String)>;
    /// Runs before the stack's change set is created; an error fails the stack.
    fn before<'s, 'u: 's>(
        &'s self,
        stack: &'s StackArtifact,
        outputs: &'s Outputs,
        ui: &'s Ui<'u>,
    ) -> HookFuture<'s>;
    /// Runs after the stack deployed (or had no changes).
    fn after<'s, 'u: 's>(
        &'s self,
        stack: &'s StackArtifact,
        outputs: &'s Outputs,
        ui: &'s Ui<'u>,
    ) -> HookFuture<'s>;
}
