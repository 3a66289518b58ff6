//! [`Publisher`]: the engine's [`StackHooks`] that publish a stack's assets before its change
//! set and invalidate the changed tree paths after it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::SystemTime;

use pantri_synth::assembly::StackArtifact;
use pantri_synth::asset::schema::{ImageDestination, OutputLink};

use super::api::{ContainerTool, ImageRegistry, Invalidations, ObjectStore, RegistryLogin};
use super::files::{publish_file, publish_tree};
use super::images::{is_ecr_host, publish_image, refusal, ImageOutcome};
use super::tool::PlainRegistry;
use super::{AssemblyAssets, PublishError, StackAssets};
use crate::deploy::api::ApiResult;
use crate::deploy::error::{ApiError, DeployError};
use crate::deploy::hooks::{HookFuture, Outputs, PrecheckFuture, StackHooks};
use crate::deploy::planfile::PlannedAsset;
use crate::deploy::progress::Ui;

/// Whether deploy publishes (`--no-publish` fills the asset parameters only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PublishMode {
    /// Publish before each stack (default).
    #[default]
    Publish,
    /// Fill the parameters, publish nothing (CI that publishes separately).
    ParametersOnly,
}

/// Counts of one run, for the summary and the tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishStats {
    /// Objects and images written.
    pub uploads: usize,
    /// Listing calls (tree prefixes) and existence checks (files, images).
    pub checks: usize,
    /// Images built.
    pub builds: usize,
}

/// The image registry: the region's ECR client, or a plain registry on this machine.
enum Registry<'a, C> {
    Ecr(&'a C),
    Plain(&'a PlainRegistry),
}

impl<C: ImageRegistry> ImageRegistry for Registry<'_, C> {
    fn host(&self, account: &str, region: &str) -> String {
        match self {
            Registry::Ecr(c) => c.host(account, region),
            Registry::Plain(p) => p.host(account, region),
        }
    }

    async fn has_tag(&self, repository: &str, tag: &str) -> ApiResult<bool> {
        match self {
            Registry::Ecr(c) => c.has_tag(repository, tag).await,
            Registry::Plain(p) => p.has_tag(repository, tag).await,
        }
    }

    async fn login(&self) -> ApiResult<Option<RegistryLogin>> {
        match self {
            Registry::Ecr(c) => c.login().await,
            Registry::Plain(p) => p.login().await,
        }
    }
}

/// Changed keys of a tree, to invalidate in the distribution an output names.
type Pending = (OutputLink, Vec<String>);

/// Publishes assets with one client per region (`C`) and a container CLI (`T`).
pub struct Publisher<'a, C, T> {
    clients: &'a BTreeMap<String, C>,
    tool: T,
    assets: &'a AssemblyAssets,
    mode: PublishMode,
    plain_registry: Option<PlainRegistry>,
    /// The endpoint override on this machine, when AWS calls go to an emulator.
    emulator: Option<String>,
    /// Stack id → (distribution output, changed keys) to invalidate after its deploy.
    pending: RefCell<BTreeMap<String, Vec<Pending>>>,
    stats: RefCell<PublishStats>,
    /// The assembly's stacks: a push to a repository that does not exist yet names the one
    /// whose template creates it.
    stacks: &'a [StackArtifact],
}

impl<'a, C, T> Publisher<'a, C, T>
where
    C: ObjectStore + ImageRegistry + Invalidations,
    T: ContainerTool,
{
    /// A publisher of `assets` through `clients` and `tool`.
    pub fn new(
        clients: &'a BTreeMap<String, C>,
        tool: T,
        assets: &'a AssemblyAssets,
        mode: PublishMode,
    ) -> Self {
        Publisher {
            clients,
            tool,
            assets,
            mode,
            plain_registry: None,
            emulator: None,
            pending: RefCell::new(BTreeMap::new()),
            stats: RefCell::new(PublishStats::default()),
            stacks: &[],
        }
    }

    /// The assembly's stacks: an image whose repository does not exist yet names the stack
    /// that creates it (an `AWS::ECR::Repository` with that literal `RepositoryName`).
    pub fn with_stacks(mut self, stacks: &'a [StackArtifact]) -> Self {
        self.stacks = stacks;
        self
    }

    /// Pushes images to this registry instead of ECR.
    pub fn with_plain_registry(mut self, registry: Option<PlainRegistry>) -> Self {
        self.plain_registry = registry;
        self
    }

    /// Says that AWS calls go to an emulator at this endpoint (`URL (from WHERE)`): no image is
    /// pushed to a real ECR host then.
    pub fn with_emulator(mut self, endpoint: Option<String>) -> Self {
        self.emulator = endpoint;
        self
    }

    /// What this run did so far.
    pub fn stats(&self) -> PublishStats {
        self.stats.borrow().clone()
    }

    fn client(&self, stack: &StackArtifact) -> Result<&'a C, DeployError> {
        self.clients
            .get(&stack.env.region)
            .ok_or_else(|| DeployError::Usage(format!("no client for region {}", stack.env.region)))
    }

    fn fail(stack: &StackArtifact, asset: &str, e: PublishError) -> DeployError {
        match e {
            PublishError::Api { source, .. } if source.is_access() => {
                DeployError::api(&stack.display_name, source)
            }
            other => DeployError::Failed {
                stack: stack.display_name.clone(),
                message: format!("asset {asset}: {other}"),
            },
        }
    }

    /// [`Self::fail`] of an image, naming the stack that creates its repository when the
    /// repository does not exist yet.
    fn image_failure(
        &self,
        stack: &StackArtifact,
        asset: &str,
        dest: &ImageDestination,
        e: PublishError,
    ) -> DeployError {
        let missing = matches!(
            &e,
            PublishError::Api { source: ApiError::Service { code, .. }, .. }
                if code == "RepositoryNotFoundException"
        );
        let region = dest.region.as_deref().unwrap_or(&stack.env.region);
        let maker = missing
            .then(|| repository_maker(self.stacks, region, &dest.repository_name))
            .flatten();
        match maker {
            Some(maker) => {
                let command = match maker.split_once('/') {
                    Some((stage, name)) => format!("pantri deploy {stage} {name}"),
                    None => format!("pantri deploy {maker}"),
                };
                DeployError::Failed {
                    stack: stack.display_name.clone(),
                    message: format!(
                        "asset {asset}: repository {} does not exist yet: stack {maker} creates it; deploy that stack first (`{command}`)",
                        dest.repository_name
                    ),
                }
            }
            None => Self::fail(stack, asset, e),
        }
    }

    async fn publish(
        &self,
        stack: &StackArtifact,
        outputs: &Outputs,
        ui: &Ui<'_>,
    ) -> Result<(), DeployError> {
        let Some(assets) = self.assets.of(stack) else {
            return Ok(());
        };
        if self.mode == PublishMode::ParametersOnly || assets.is_empty() {
            return Ok(());
        }
        let dn = stack.display_name.as_str();
        let client = self.client(stack)?;
        let dir = &self.assets.dir;
        let registry = match &self.plain_registry {
            Some(p) => Registry::Plain(p),
            None => Registry::Ecr(client),
        };
        for (id, entry) in &assets.manifest.docker_images {
            for dest in entry.destinations.values() {
                let context = dir.join(&entry.source.directory);
                let outcome = publish_image(
                    &registry,
                    &self.tool,
                    entry,
                    dest,
                    &stack.env.account,
                    &context,
                    self.emulator.as_deref(),
                )
                .await
                .map_err(|e| self.image_failure(stack, id, dest, e))?;
                let mut stats = self.stats.borrow_mut();
                stats.checks += 1;
                match outcome {
                    ImageOutcome::Present(image) => {
                        ui.say(format_args!(
                            "{dn}: image {id}: {image} is in the repository, nothing to build"
                        ));
                    }
                    ImageOutcome::Pushed(image) => {
                        stats.builds += 1;
                        stats.uploads += 1;
                        ui.say(format_args!(
                            "{dn}: image {id}: built with {} and pushed {image}",
                            self.tool.name()
                        ));
                    }
                }
            }
        }
        for (id, entry) in &assets.manifest.files {
            for dest in entry.destinations.values() {
                let bucket = dest
                    .bucket_name
                    .replace("${AWS::AccountId}", &stack.env.account)
                    .replace("${AWS::Region}", &stack.env.region);
                let source = dir.join(&entry.source.path);
                let uploaded = publish_file(client, entry, dest, &bucket, &source)
                    .await
                    .map_err(|e| Self::fail(stack, id, e))?;
                let mut stats = self.stats.borrow_mut();
                stats.checks += 1;
                stats.uploads += usize::from(uploaded);
                let what = if uploaded { "uploaded" } else { "present" };
                ui.say(format_args!(
                    "{dn}: file {id}: s3://{bucket}/{} {what}",
                    dest.object_key
                ));
            }
        }
        for (id, tree) in &assets.trees.trees {
            let d = &tree.destination;
            let bucket = match (&d.bucket_name, &d.bucket_name_output) {
                (Some(b), _) => b.clone(),
                (None, Some(link)) => outputs
                    .get(&(link.stack.clone(), link.output.clone()))
                    .cloned()
                    .ok_or_else(|| DeployError::Failed {
                        stack: dn.into(),
                        message: format!(
                            "asset {id}: the bucket is output {} of {}, which is not available: deploy {} first",
                            link.output, link.stack, link.stack
                        ),
                    })?,
                (None, None) => {
                    return Err(DeployError::Usage(format!(
                        "[{dn}] asset {id} names no bucket in its tree manifest"
                    )))
                }
            };
            let source = dir.join(&tree.path);
            let report = publish_tree(client, tree, &source, &bucket, SystemTime::now())
                .await
                .map_err(|e| Self::fail(stack, id, e))?;
            {
                let mut stats = self.stats.borrow_mut();
                stats.checks += report.listings;
                stats.uploads += report.uploaded + report.refreshed;
            }
            ui.say(format_args!(
                "{dn}: tree {id}: {} files to s3://{bucket}/{}: {} uploaded, {} refreshed, {} unchanged ({} listing call{})",
                report.files,
                d.prefix,
                report.uploaded,
                report.refreshed,
                report.files - report.uploaded - report.refreshed,
                report.listings,
                if report.listings == 1 { "" } else { "s" }
            ));
            if let (Some(link), false) = (&d.invalidate, report.changed.is_empty()) {
                self.pending
                    .borrow_mut()
                    .entry(stack.id.clone())
                    .or_default()
                    .push((link.clone(), report.changed));
            }
        }
        Ok(())
    }

    /// The images an emulated deploy would push to a real ECR host (their tag is not in the
    /// emulator's repository), each a refusal: reported before any stack is touched.
    async fn refusals(&self, stacks: &[&StackArtifact]) -> Vec<DeployError> {
        let Some(endpoint) = self.emulator.as_deref() else {
            return Vec::new();
        };
        if self.mode == PublishMode::ParametersOnly {
            return Vec::new();
        }
        let mut refused = Vec::new();
        for stack in stacks {
            let (Some(assets), Ok(client)) = (self.assets.of(stack), self.client(stack)) else {
                continue;
            };
            let registry = match &self.plain_registry {
                Some(p) => Registry::Plain(p),
                None => Registry::Ecr(client),
            };
            for (id, entry) in &assets.manifest.docker_images {
                for dest in entry.destinations.values() {
                    let region = dest.region.as_deref().unwrap_or(&stack.env.region);
                    let host = registry.host(&stack.env.account, region);
                    if !is_ecr_host(&host) {
                        continue;
                    }
                    // A tag the emulator has is not pushed; a repository it lacks (the stack
                    // that makes it is not deployed yet) means a push later in the run.
                    let present = registry
                        .has_tag(&dest.repository_name, &dest.image_tag)
                        .await
                        .unwrap_or(false);
                    if !present {
                        refused.push(Self::fail(stack, id, refusal(&host, endpoint)));
                    }
                }
            }
        }
        refused
    }

    async fn invalidate(
        &self,
        stack: &StackArtifact,
        outputs: &Outputs,
        ui: &Ui<'_>,
    ) -> Result<(), DeployError> {
        let Some(pending) = self.pending.borrow_mut().remove(&stack.id) else {
            return Ok(());
        };
        let dn = stack.display_name.as_str();
        let client = self.client(stack)?;
        for (link, keys) in pending {
            let Some(distribution) = outputs.get(&(link.stack.clone(), link.output.clone())) else {
                ui.warn(format_args!(
                    "{dn}: {} changed paths not invalidated: output {} of {} is not available",
                    keys.len(),
                    link.output,
                    link.stack
                ));
                continue;
            };
            let paths: Vec<String> = keys.iter().map(|k| format!("/{k}")).collect();
            let id = client
                .invalidate(distribution, &paths)
                .await
                .map_err(|e| DeployError::api(dn, e))?;
            ui.say(format_args!(
                "{dn}: invalidated {} changed path{} in distribution {distribution} ({id}): {}",
                paths.len(),
                if paths.len() == 1 { "" } else { "s" },
                paths.join(" ")
            ));
        }
        Ok(())
    }

    fn links(&self, stack: &StackArtifact, invalidate: bool) -> Vec<(String, String)> {
        let Some(assets) = self.assets.of(stack) else {
            return Vec::new();
        };
        if self.mode == PublishMode::ParametersOnly {
            return Vec::new();
        }
        assets
            .trees
            .trees
            .values()
            .filter_map(|t| {
                let d = &t.destination;
                if invalidate {
                    d.invalidate.as_ref()
                } else {
                    d.bucket_name_output.as_ref()
                }
            })
            .map(|l| (l.stack.clone(), l.output.clone()))
            .collect()
    }
}

impl<C, T> StackHooks for Publisher<'_, C, T>
where
    C: ObjectStore + ImageRegistry + Invalidations,
    T: ContainerTool,
{
    fn parameters(&self, stack: &StackArtifact) -> Vec<(String, String)> {
        self.assets
            .of(stack)
            .map(|a| a.parameter_values())
            .unwrap_or_default()
    }

    fn assets(&self, stack: &StackArtifact) -> Vec<PlannedAsset> {
        self.assets
            .of(stack)
            .map(StackAssets::fingerprint)
            .unwrap_or_default()
    }

    fn precheck<'s>(&'s self, stacks: &'s [&'s StackArtifact]) -> PrecheckFuture<'s> {
        Box::pin(self.refusals(stacks))
    }

    fn outputs_before(&self, stack: &StackArtifact) -> Vec<(String, String)> {
        self.links(stack, false)
    }

    fn outputs_after(&self, stack: &StackArtifact) -> Vec<(String, String)> {
        let pending = self.pending.borrow();
        if pending.get(&stack.id).is_none_or(Vec::is_empty) {
            return Vec::new();
        }
        self.links(stack, true)
    }

    fn before<'s, 'u: 's>(
        &'s self,
        stack: &'s StackArtifact,
        outputs: &'s Outputs,
        ui: &'s Ui<'u>,
    ) -> HookFuture<'s> {
        Box::pin(self.publish(stack, outputs, ui))
    }

    fn after<'s, 'u: 's>(
        &'s self,
        stack: &'s StackArtifact,
        outputs: &'s Outputs,
        ui: &'s Ui<'u>,
    ) -> HookFuture<'s> {
        Box::pin(self.invalidate(stack, outputs, ui))
    }
}

/// The display name of the stack of `stacks` whose template creates the ECR repository `name`
/// in `region` (an `AWS::ECR::Repository` with that literal `RepositoryName`).
fn repository_maker<'s>(stacks: &'s [StackArtifact], region: &str, name: &str) -> Option<&'s str> {
    stacks
        .iter()
        .filter(|s| s.env.region == region)
        .find(|s| {
            let resources = s.template.get("Resources").and_then(|r| r.as_object());
            resources.into_iter().flat_map(|r| r.values()).any(|r| {
                r.get("Type").and_then(|t| t.as_str()) == Some("AWS::ECR::Repository")
                    && r.pointer("/Properties/RepositoryName")
                        .and_then(|n| n.as_str())
                        == Some(name)
            })
        })
        .map(|s| s.display_name.as_str())
}
