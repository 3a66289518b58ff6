//! The deploy state machine: for each selected stack in dependency order (independent stacks
//! concurrently), settle the stack's current state, create a change set, preview it, decide
//! approval, execute it, follow the events to the end and collect the outputs.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use indexmap::IndexMap;
use pantri_synth::assembly::StackArtifact;

use super::api::{
    is_success_status, is_terminal_status, ChangeSetInfo, ChangeSetRequest, ChangeSetType,
    CloudFormation, ParameterValue, StackEvent, StackInfo, TemplateStaging, TypeStatus,
};
use super::approval::{assess, Preview, RequireApproval};
use super::error::{ApiError, DeployError};
use super::hooks::StackHooks;
use super::interrupt::Interrupt;
use super::plan::{explicit_value, ParameterArg};
use super::planfile::{planned_stack, Findings, PlannedStack};
use super::progress::Ui;

mod hooks;
mod policy;
mod precheck;
mod prepared;
mod request;
mod watch;

pub use precheck::{busy_state, failed_state};
pub use prepared::plan_artifacts;

/// The largest template CloudFormation accepts inline (`TemplateBody`).
pub const INLINE_TEMPLATE_LIMIT: usize = 51_200;

/// How the change set is used (`--method`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// Create, preview, approve and execute a change set.
    #[default]
    ChangeSet,
    /// Create and preview the change sets and write them into a plan file for review;
    /// `pantri deploy --plan FILE` executes exactly them.
    PrepareChangeSet,
}

/// What the engine needs to know besides the stacks.
#[derive(Clone, Debug)]
pub struct DeployOptions {
    /// When to ask before executing.
    pub require_approval: RequireApproval,
    /// Approve everything that would be asked.
    pub yes: bool,
    /// Logical IDs of stateful resources that may be replaced.
    pub allow_replace: Vec<String>,
    /// How the change set is used.
    pub method: Method,
    /// The change set name.
    pub change_set_name: String,
    /// `--parameters` values.
    pub parameters: Vec<ParameterArg>,
    /// How many independent stacks deploy at once (at least 1).
    pub concurrency: usize,
    /// Wait for a stack's running operation to end (otherwise refuse).
    pub wait_in_progress: bool,
    /// How long to wait for a running operation before giving up.
    pub in_progress_timeout: Duration,
    /// Pause between two polls of CloudFormation.
    pub poll_interval: Duration,
    /// The least time between two polling calls of the whole run (all stacks share it): see
    /// [`crate::deploy::pace`].
    pub call_spacing: Duration,
    /// The first backoff after a throttled polling call (doubling, jittered, at most 20 s).
    pub throttle_backoff: Duration,
    /// While a stack's operation runs with no new event for this long, a line says what
    /// CloudFormation is still doing.
    pub quiet_line_after: Duration,
    /// Stops the run when it fires (Ctrl-C): watching detaches, nothing new starts.
    pub interrupt: Interrupt,
    /// Color the template diff of the preview (a terminal, without `--no-color` or `NO_COLOR`).
    pub color: bool,
    /// The terminal's width, which the preview's table is cut to fit; `None`: no limit.
    pub width: Option<usize>,
    /// The S3 bucket for templates over [`INLINE_TEMPLATE_LIMIT`] (`--staging-bucket`); `None`:
    /// [`default_staging_bucket`] of the stack's account and region.
    pub staging_bucket: Option<String>,
    /// The caller's account as STS reported it: the default staging bucket is named after it,
    /// so that it is the account that really owns the bucket.
    pub caller_account: Option<String>,
    /// The CloudFormation service role change sets run as (`--role-arn`).
    pub role_arn: Option<String>,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            require_approval: RequireApproval::default(),
            yes: false,
            allow_replace: Vec::new(),
            method: Method::default(),
            change_set_name: "pantri-deploy".into(),
            parameters: Vec::new(),
            concurrency: 1,
            wait_in_progress: true,
            in_progress_timeout: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(2),
            call_spacing: Duration::from_millis(200),
            throttle_backoff: Duration::from_secs(1),
            quiet_line_after: Duration::from_secs(30),
            interrupt: Interrupt::never(),
            color: false,
            width: None,
            staging_bucket: None,
            caller_account: None,
            role_arn: None,
        }
    }
}

/// How one stack ended.
#[derive(Debug)]
pub enum Outcome {
    /// The change set was executed and the stack is complete.
    Deployed,
    /// Nothing to change.
    NoChanges,
    /// The change set was created and recorded for the plan file (`--method prepare-change-set`).
    Prepared(Box<PlannedStack>),
    /// Watching stopped (Ctrl-C); the operation goes on in CloudFormation.
    Detached,
    /// Not started because a stack it depends on did not deploy.
    Skipped(String),
    /// It failed.
    Failed(DeployError),
}

/// The result for one stack.
#[derive(Debug)]
pub struct StackResult {
    /// `stage/stack`.
    pub display_name: String,
    /// The CloudFormation stack name.
    pub stack_name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Its outputs after the deployment (empty when the service reports none).
    pub outputs: IndexMap<String, String>,
    /// How long its deployment took (zero when it never started).
    pub elapsed: Duration,
}

/// The staging bucket pantri creates when `--staging-bucket` does not name one: one per account
/// and region, since CloudFormation reads a template only from a bucket in the stack's region.
pub fn default_staging_bucket(account: &str, region: &str) -> String {
    format!("pantri-staging-{account}-{region}")
}

/// The key of a staged template: `<stack-name>/<sha256 of the body>.json`, so an unchanged body
/// is uploaded once.
pub fn staged_template_key(stack_name: &str, body: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{stack_name}/{hex}.json")
}

/// The base64 SHA-256 of a body, as S3's `ChecksumSHA256` has it.
pub fn sha256_base64(body: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body.as_bytes()))
}

/// The deploy engine over one CloudFormation (and template staging) client per region.
pub struct Engine<'a, A: CloudFormation + TemplateStaging> {
    clients: &'a BTreeMap<String, A>,
    assembly: &'a [StackArtifact],
    options: &'a DeployOptions,
    ui: &'a Ui<'a>,
    /// `(region, bucket)` pairs already checked (or created) in this run.
    staging_ready: RefCell<HashSet<(String, String)>>,
    /// Work around each stack (asset publishing), if any.
    hooks: Option<&'a dyn StackHooks>,
    /// Ids of the stacks whose change set was executed in this run.
    executing: RefCell<HashSet<String>>,
    /// The pace every polling call of the run shares.
    pacer: crate::deploy::pace::Pacer,
}

type StackFuture<'f> = Pin<Box<dyn Future<Output = (usize, StackResult)> + 'f>>;

impl<'a, A: CloudFormation + TemplateStaging> Engine<'a, A> {
    /// An engine; `assembly` holds every stack (producers of cross-region parameters included).
    pub fn new(
        clients: &'a BTreeMap<String, A>,
        assembly: &'a [StackArtifact],
        options: &'a DeployOptions,
        ui: &'a Ui<'a>,
    ) -> Self {
        Engine {
            clients,
            assembly,
            options,
            ui,
            staging_ready: RefCell::new(HashSet::new()),
            hooks: None,
            executing: RefCell::new(HashSet::new()),
            pacer: crate::deploy::pace::Pacer::new(options.call_spacing, options.throttle_backoff),
        }
    }

    /// Runs `hooks` around each stack's change set (see [`StackHooks`]).
    pub fn with_hooks(mut self, hooks: Option<&'a dyn StackHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    fn client(&self, stack: &StackArtifact) -> Result<&'a A, DeployError> {
        self.clients.get(&stack.env.region).ok_or_else(|| {
            DeployError::Usage(format!(
                "no CloudFormation client for region {}",
                stack.env.region
            ))
        })
    }

    /// Deploys `stacks` (in dependency order, as [`super::plan::select`] returns them): a stack
    /// starts once the selected stacks it depends on are deployed; up to `concurrency` at once.
    /// After a failure no new stack starts.
    pub async fn deploy(&self, stacks: &[&'a StackArtifact]) -> Vec<StackResult> {
        let mut results: Vec<Option<StackResult>> = stacks.iter().map(|_| None).collect();
        let index: HashMap<&str, usize> = stacks
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut started = vec![false; stacks.len()];
        let mut running: FuturesUnordered<StackFuture<'_>> = FuturesUnordered::new();
        let mut stop: Option<usize> = None;
        loop {
            while stop.is_none() && running.len() < self.options.concurrency.max(1) {
                let ready = (0..stacks.len()).find(|&i| {
                    !started[i]
                        && stacks[i]
                            .dependencies
                            .iter()
                            .all(|d| match index.get(d.as_str()) {
                                None => true,
                                // A prepared stack's dependents are prepared against what is
                                // deployed now, as they will be when the plan runs in order.
                                Some(&j) => results[j].as_ref().is_some_and(|r| {
                                    matches!(
                                        r.outcome,
                                        Outcome::Deployed
                                            | Outcome::NoChanges
                                            | Outcome::Prepared(_)
                                    )
                                }),
                            })
                });
                let Some(i) = ready else { break };
                started[i] = true;
                let stack = stacks[i];
                running.push(Box::pin(async move { (i, self.deploy_one(stack).await) }));
            }
            let Some((i, result)) = running.next().await else {
                break;
            };
            match &result.outcome {
                Outcome::Failed(_) | Outcome::Detached => stop = Some(i),
                _ => {}
            }
            results[i] = Some(result);
        }
        let unfinished: Vec<usize> = (0..stacks.len())
            .filter(|&i| results[i].is_none())
            .collect();
        for i in unfinished {
            let reason = skip_reason(stacks, &results, i);
            results[i] = Some(StackResult {
                display_name: stacks[i].display_name.clone(),
                stack_name: stacks[i].properties.stack_name.clone(),
                outcome: Outcome::Skipped(reason),
                outputs: IndexMap::new(),
                elapsed: Duration::ZERO,
            });
        }
        results.into_iter().flatten().collect()
    }

    async fn deploy_one(&self, stack: &StackArtifact) -> StackResult {
        let started = tokio::time::Instant::now();
        let done = self
            .interruptible(stack, self.deploy_stack_with_hooks(stack))
            .await;
        self.finish_stack(stack, done, started.elapsed())
    }

    /// Races `work` on `stack` against Ctrl-C. Ctrl-C drops the stack's future wherever it
    /// waits: CloudFormation goes on with what it was given, and the next run settles whatever
    /// state that leaves.
    async fn interruptible(
        &self,
        stack: &StackArtifact,
        work: impl std::future::Future<
            Output = Result<(Outcome, IndexMap<String, String>), DeployError>,
        >,
    ) -> Result<(Outcome, IndexMap<String, String>), DeployError> {
        let interrupted = tokio::select! {
            biased;
            () = self.options.interrupt.fired() => None,
            r = work => Some(r),
        };
        match interrupted {
            Some(Err(DeployError::Interrupted)) | None => {
                self.detach(stack);
                Ok((Outcome::Detached, IndexMap::new()))
            }
            Some(r) => r,
        }
    }

    /// Says how a stack ended (and its outputs) and makes its result.
    fn finish_stack(
        &self,
        stack: &StackArtifact,
        done: Result<(Outcome, IndexMap<String, String>), DeployError>,
        elapsed: Duration,
    ) -> StackResult {
        let (outcome, outputs) = match done {
            Ok(done) => done,
            Err(e) => (Outcome::Failed(e), IndexMap::new()),
        };
        match &outcome {
            Outcome::Deployed => self.ui.say(format_args!(
                "{}: deployed in {}",
                stack.display_name,
                crate::deploy::progress::duration(elapsed)
            )),
            Outcome::NoChanges => self
                .ui
                .say(format_args!("{}: no changes", stack.display_name)),
            _ => {}
        }
        for (k, v) in &outputs {
            self.ui
                .say(format_args!("{}.{k} = {v}", stack.properties.stack_name));
        }
        if matches!(outcome, Outcome::Deployed | Outcome::NoChanges) {
            for note in
                super::delegation::name_server_notes(&stack.display_name, &stack.template, &outputs)
            {
                self.ui.say(format_args!("{note}"));
            }
        }
        StackResult {
            display_name: stack.display_name.clone(),
            stack_name: stack.properties.stack_name.clone(),
            outcome,
            outputs,
            elapsed,
        }
    }

    /// Says what a Ctrl-C left behind for `stack`, and how to follow it.
    fn detach(&self, stack: &StackArtifact) {
        let dn = stack.display_name.as_str();
        if self.executing.borrow().contains(&stack.id) {
            self.ui.warn(format_args!(
                "{dn}: stopped watching; the deployment goes on in CloudFormation. Follow it with: aws cloudformation describe-stack-events --stack-name {} --region {}",
                stack.properties.stack_name, stack.env.region
            ));
        } else {
            self.ui.warn(format_args!(
                "{dn}: stopped before executing the change set; the stack was not changed"
            ));
        }
    }

    async fn deploy_stack(
        &self,
        stack: &StackArtifact,
    ) -> Result<(Outcome, IndexMap<String, String>), DeployError> {
        let api = self.client(stack)?;
        let dn = stack.display_name.as_str();
        let name = stack.properties.stack_name.as_str();
        let cs_name = self.options.change_set_name.as_str();
        let fail = |e: ApiError| DeployError::api(dn, e);

        let (kind, info) = {
            let existing = self.settle(api, stack).await?;
            let kind = match existing.as_ref().map(|s| s.status.as_str()) {
                None | Some("REVIEW_IN_PROGRESS") => ChangeSetType::Create,
                _ => ChangeSetType::Update,
            };
            let request = self
                .change_set_request(stack, kind, existing.as_ref())
                .await?;
            // The name is this run's own (unique per run or plan): a change set of another run
            // or plan is never deleted or replaced.
            match api.create_change_set(&request).await {
                Ok(_) => {}
                // An emulator (moto, once a stack has parameters) refuses an unchanged
                // template and parameters at creation with UpdateStack's message instead of
                // failing the change set: the same outcome.
                Err(ApiError::Service { code, message })
                    if code == "ValidationError"
                        && message.contains("No updates are to be performed") =>
                {
                    let outputs = existing.map(|s| s.outputs).unwrap_or_default();
                    return Ok((Outcome::NoChanges, outputs));
                }
                Err(e) => return Err(fail(e)),
            }
            let info = self.wait_change_set(api, stack).await?;
            if self
                .is_empty_change_set(api, stack, kind, &info)
                .await
                .map_err(fail)?
                && !settings_change(existing.as_ref(), &request)
            {
                api.delete_change_set(name, cs_name).await.map_err(fail)?;
                let outputs = existing.map(|s| s.outputs).unwrap_or_default();
                return Ok((Outcome::NoChanges, outputs));
            }
            (kind, info)
        };

        let diff = self.template_diff(api, stack, kind).await;
        let summary = diff.as_ref().map(|d| {
            let all = pantri_synth::diff::AssemblyDiff {
                stacks: vec![d.clone()],
            };
            let options = pantri_synth::diff::render::TextOptions {
                color: self.options.color,
                context: 2,
                security_only: false,
            };
            pantri_synth::diff::render::text(&all, &options)
        });
        let preview = Preview {
            stack: dn.to_owned(),
            stack_name: name.to_owned(),
            kind,
            changes: info.changes.clone(),
            summary,
            diff,
        };
        self.ui.say(format_args!(
            "{}",
            preview.render(self.options.width).trim_end()
        ));
        if self.options.method == Method::PrepareChangeSet {
            // The findings are facts of the change, whatever this run's approval policy: the
            // plan's execution asks from them under its own.
            let all = assess(&preview, &stack.template, RequireApproval::Broadening, &[]);
            let findings = Findings {
                broadening: all.reasons,
                replacements: all.refused_replacements,
            };
            let planned = planned_stack(api, stack, kind, &info, findings)
                .await
                .map_err(fail)?;
            self.ui.say(format_args!(
                "{dn}: change set {cs_name} is ready ({} change(s))",
                info.changes.len()
            ));
            return Ok((Outcome::Prepared(Box::new(planned)), IndexMap::new()));
        }
        if let Err(e) = self.approve(stack, &preview) {
            let _ = api.delete_change_set(name, cs_name).await;
            if kind == ChangeSetType::Create {
                // The stack exists only for the change set (REVIEW_IN_PROGRESS).
                let _ = api.delete_stack(name).await;
            }
            return Err(e);
        }
        let total = stack.template["Resources"]
            .as_object()
            .map(|r| r.len())
            .unwrap_or(0);
        self.execute_and_watch(api, stack, kind, cs_name, total)
            .await
    }

    /// Executes change set `cs_name` of `stack`, follows its events to the end, sets
    /// termination protection as the stack wants it, and returns the outputs.
    pub(crate) async fn execute_and_watch(
        &self,
        api: &A,
        stack: &StackArtifact,
        kind: ChangeSetType,
        cs_name: &str,
        total: usize,
    ) -> Result<(Outcome, IndexMap<String, String>), DeployError> {
        let dn = stack.display_name.as_str();
        let name = stack.properties.stack_name.as_str();
        let fail = |e: ApiError| DeployError::api(dn, e);

        let protection = self.protection(stack);
        self.protect_before(api, stack, kind, protection.as_ref())
            .await?;
        let seen: HashSet<String> = api
            .describe_stack_events(name)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.id)
            .collect();
        let mut progress = self.ui.start(dn, total);
        self.executing.borrow_mut().insert(stack.id.clone());
        let executed = api.execute_change_set(name, cs_name).await;
        if let Err(e) = executed {
            if e.is_access() {
                self.ui.finish(progress, "failed");
                return Err(fail(e));
            }
            // moto applies the change set inside ExecuteChangeSet and returns a failing
            // resource's error from it; CloudFormation reports it through events instead.
            let (_, first) = self.poll_events(api, stack, &seen, &mut progress).await;
            self.ui.finish(progress, "failed");
            self.protect_after(api, stack, protection.as_ref()).await;
            return Err(DeployError::Failed {
                stack: dn.into(),
                message: first.unwrap_or_else(|| format!("execution failed: {}", e.message())),
            });
        }
        let (status, first_failure, info) = self.watch(api, stack, seen, &mut progress).await?;
        self.protect_after(api, stack, protection.as_ref()).await;
        if !is_success_status(&status) {
            self.ui.finish(progress, &status);
            let reason = first_failure
                .or_else(|| info.and_then(|i| i.status_reason))
                .unwrap_or_else(|| "no reason reported".into());
            return Err(DeployError::Failed {
                stack: dn.into(),
                message: format!("deployment ended in {status}: {reason}"),
            });
        }
        self.ui.finish(progress, &status);
        let info = api.describe_stack(name).await.map_err(fail)?;
        if let Some(info) = &info {
            let wanted = stack.properties.termination_protection;
            if info.termination_protection != wanted {
                // The stack is deployed; failing now would misreport it. Say what to run instead.
                if let Err(e) = api.update_termination_protection(name, wanted).await {
                    let flag = if wanted {
                        "--enable-termination-protection"
                    } else {
                        "--no-enable-termination-protection"
                    };
                    self.ui.warn(format_args!(
                        "{dn}: warning: deployed, but termination protection could not be set ({e}); \
                         run: aws cloudformation update-termination-protection {flag} --stack-name {name}"
                    ));
                }
            }
        }
        Ok((
            Outcome::Deployed,
            info.map(|i| i.outputs).unwrap_or_default(),
        ))
    }

    /// Brings the stack to a state a change set can be created in, and returns what exists.
    async fn settle(
        &self,
        api: &A,
        stack: &StackArtifact,
    ) -> Result<Option<StackInfo>, DeployError> {
        let dn = stack.display_name.as_str();
        let name = stack.properties.stack_name.as_str();
        let fail = |e: ApiError| DeployError::api(dn, e);
        let started = Instant::now();
        let mut announced = false;
        loop {
            let Some(info) = api.describe_stack(name).await.map_err(fail)? else {
                return Ok(None);
            };
            let status = info.status.as_str();
            let reason = info.reason_suffix();
            match status {
                "DELETE_COMPLETE" => return Ok(None),
                "REVIEW_IN_PROGRESS" => {
                    // Left by a change set that was never executed; it holds no resources.
                    // Deleting it (rather than reusing it) also keeps emulators from keeping
                    // two stacks of one name.
                    api.delete_stack(name).await.map_err(fail)?;
                    self.wait_gone(api, stack).await?;
                    return Ok(None);
                }
                "ROLLBACK_COMPLETE" => {
                    let question = format!(
                        "{dn}: stack {name} is ROLLBACK_COMPLETE{reason}: its first creation failed and it holds no resources; it must be deleted before it can be created again. Delete it?"
                    );
                    let approved = self.options.yes
                        || self.options.require_approval == RequireApproval::Never
                        || self.ui.ask(&question) == Some(true);
                    if !approved {
                        return Err(DeployError::ApprovalNeeded(format!(
                            "[{dn}] stack {name} is ROLLBACK_COMPLETE{reason} and must be deleted before it is created again: re-run with --yes to delete and recreate it"
                        )));
                    }
                    self.ui.say(format_args!(
                        "{dn}: deleting {name} (ROLLBACK_COMPLETE) before creating it again"
                    ));
                    api.delete_stack(name).await.map_err(fail)?;
                    self.wait_gone(api, stack).await?;
                    return Ok(None);
                }
                s if s.ends_with("_FAILED") => {
                    return Err(failed_state(stack, &info).unwrap_or_else(|| {
                        DeployError::StackState {
                            stack: dn.into(),
                            message: format!("stack {name} is {s}{reason}"),
                        }
                    }));
                }
                s if s.ends_with("_IN_PROGRESS") => {
                    if !self.options.wait_in_progress {
                        return Err(busy_state(stack, s));
                    }
                    if started.elapsed() > self.options.in_progress_timeout {
                        return Err(DeployError::StackState {
                            stack: dn.into(),
                            message: format!(
                                "stack {name} is still {s} after {}s of waiting; try again later",
                                self.options.in_progress_timeout.as_secs()
                            ),
                        });
                    }
                    if !announced {
                        self.ui.say(format_args!(
                            "{dn}: stack {name} is {s}; waiting for that operation to end"
                        ));
                        announced = true;
                    }
                    tokio::time::sleep(self.options.poll_interval).await;
                }
                _ => return Ok(Some(info)),
            }
        }
    }

    async fn wait_gone(&self, api: &A, stack: &StackArtifact) -> Result<(), DeployError> {
        let dn = stack.display_name.as_str();
        let name = stack.properties.stack_name.as_str();
        loop {
            match self
                .pacer
                .call(|| api.describe_stack(name))
                .await
                .map_err(|e| DeployError::api(dn, e))?
            {
                None => return Ok(()),
                Some(s) if s.status == "DELETE_COMPLETE" => return Ok(()),
                Some(s) if is_terminal_status(&s.status) => {
                    return Err(DeployError::Failed {
                        stack: dn.into(),
                        message: format!(
                            "deleting {name} ended in {}: {}",
                            s.status,
                            s.status_reason.unwrap_or_default()
                        ),
                    })
                }
                Some(_) => tokio::time::sleep(self.options.poll_interval).await,
            }
        }
    }

    async fn wait_change_set(
        &self,
        api: &A,
        stack: &StackArtifact,
    ) -> Result<ChangeSetInfo, DeployError> {
        let dn = stack.display_name.as_str();
        let name = stack.properties.stack_name.as_str();
        let cs = self.options.change_set_name.as_str();
        loop {
            let info = self
                .pacer
                .call(|| api.describe_change_set(name, cs))
                .await
                .map_err(|e| DeployError::api(dn, e))?
                .ok_or_else(|| DeployError::Failed {
                    stack: dn.into(),
                    message: format!("change set {cs} disappeared while being created"),
                })?;
            match info.status.as_str() {
                "CREATE_COMPLETE" | "FAILED" => return Ok(info),
                _ => tokio::time::sleep(self.options.poll_interval).await,
            }
        }
    }

    /// Whether the change set changes nothing: CloudFormation fails it with "didn't contain
    /// changes"; an emulator may instead complete it with no changes for an unchanged template.
    async fn is_empty_change_set(
        &self,
        api: &A,
        stack: &StackArtifact,
        kind: ChangeSetType,
        info: &ChangeSetInfo,
    ) -> Result<bool, ApiError> {
        if info.status == "FAILED" {
            let reason = info.status_reason.clone().unwrap_or_default();
            if reason.contains("didn't contain changes")
                || reason.contains("No updates are to be performed")
            {
                return Ok(true);
            }
            return Err(ApiError::service("ChangeSetFailed", reason));
        }
        if kind == ChangeSetType::Create || !info.changes.is_empty() {
            return Ok(false);
        }
        let deployed = api
            .get_template(&stack.properties.stack_name)
            .await?
            .and_then(|t| pantri_synth::assembly::parse_template("t.json", &t).ok());
        Ok(deployed.as_ref() == Some(&stack.template))
    }

    /// The template diff of a stack: deployed (GetTemplate; nothing for a new stack) → new.
    /// `None` when the deployed template cannot be read: the preview then shows the change set only.
    async fn template_diff(
        &self,
        api: &A,
        stack: &StackArtifact,
        kind: ChangeSetType,
    ) -> Option<pantri_synth::diff::StackDiff> {
        let deployed = match kind {
            ChangeSetType::Create => None,
            ChangeSetType::Update => {
                let body = api
                    .get_template(&stack.properties.stack_name)
                    .await
                    .ok()??;
                Some(
                    pantri_synth::assembly::parse_template("deployed.template.json", &body)
                        .or_else(|_| {
                            pantri_synth::assembly::parse_template("deployed.template.yaml", &body)
                        })
                        .ok()?,
                )
            }
        };
        let input = pantri_synth::diff::StackInput {
            name: &stack.display_name,
            old: deployed.as_ref(),
            new: Some(&stack.template),
            old_stack: Default::default(),
            new_stack: Default::default(),
        };
        Some(pantri_synth::diff::diff_stack(
            &input,
            &pantri_synth::diff::SchemaSpecs,
        ))
    }

    fn approve(&self, stack: &StackArtifact, preview: &Preview) -> Result<(), DeployError> {
        let dn = stack.display_name.as_str();
        let a = assess(
            preview,
            &stack.template,
            self.options.require_approval,
            &self.options.allow_replace,
        );
        if !a.refused_replacements.is_empty() {
            let ids: Vec<&str> = a
                .refused_replacements
                .iter()
                .map(|w| w.split(' ').next().unwrap_or(w))
                .collect();
            return Err(DeployError::ApprovalNeeded(format!(
                "[{dn}] the change set would replace stateful resource(s) {}: their data would be lost. If that is intended, re-run with {}",
                a.refused_replacements.join(", "),
                ids.iter()
                    .map(|i| format!("--allow-replace {i}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )));
        }
        if a.reasons.is_empty() || self.options.yes {
            return Ok(());
        }
        for r in &a.reasons {
            self.ui.say(format_args!("{dn}: needs approval: {r}"));
        }
        let answer = self.ui.ask(&format!("{dn}: deploy these changes?"));
        if self.options.interrupt.is_set() {
            return Err(DeployError::Interrupted);
        }
        match answer {
            Some(true) => Ok(()),
            Some(false) => Err(DeployError::ApprovalNeeded(format!(
                "[{dn}] not approved; nothing was changed"
            ))),
            None => Err(DeployError::ApprovalNeeded(format!(
                "[{dn}] the changes need approval ({}) and there is no terminal to ask: re-run with --yes to approve, or with --require-approval never",
                a.reasons.join("; ")
            ))),
        }
    }

    /// Checks that the third-party registry types the stack uses are activated.
    async fn check_registry_types(
        &self,
        api: &A,
        stack: &StackArtifact,
    ) -> Result<(), DeployError> {
        let dn = stack.display_name.as_str();
        let mut types: Vec<&str> = stack.template["Resources"]
            .as_object()
            .map(|r| {
                r.values()
                    .filter_map(|v| v["Type"].as_str())
                    .filter(|t| t.starts_with("Datadog::"))
                    .collect()
            })
            .unwrap_or_default();
        types.sort_unstable();
        types.dedup();
        for t in types {
            match api.describe_type(t).await {
                Ok(TypeStatus::Available) => {}
                Ok(TypeStatus::NotFound) => {
                    return Err(DeployError::StackState {
                        stack: dn.into(),
                        message: format!(
                            "resource type {t} is not activated in account {} region {}: activate the Datadog public extension (CloudFormation console → Registry → Public extensions, publisher Datadog, or `aws cloudformation activate-type --type RESOURCE --type-name {t} --publisher-id <Datadog's publisher id> --region {}`) and deploy again",
                            stack.env.account, stack.env.region, stack.env.region
                        ),
                    })
                }
                Err(e) if e.is_access() => return Err(DeployError::api(dn, e)),
                Err(e) => self.ui.warn(format_args!(
                    "{dn}: warning: cannot check that {t} is activated ({e}); deploying anyway"
                )),
            }
        }
        Ok(())
    }
}

/// Whether a change set that changes no resource still changes the stack: its tags, or the value
/// of a parameter (which may feed only outputs or conditions), so that executing it matters and
/// "no changes" would be wrong. A NoEcho value cannot be compared (DescribeStacks masks it as
/// `****`); CloudFormation lists the resources such a value reaches, so none listed means none
/// changes.
pub(crate) fn settings_change(existing: Option<&StackInfo>, request: &ChangeSetRequest) -> bool {
    let Some(existing) = existing else {
        return false;
    };
    if existing.tags != request.tags {
        return true;
    }
    request.parameters.iter().any(|p| match p {
        ParameterValue::Value { key, value } => match existing.parameter_values.get(key) {
            Some(deployed) => deployed != "****" && deployed != value,
            None => true,
        },
        ParameterValue::UsePrevious { .. } => false,
    })
}

/// Why stack `i` of `stacks` did not start, given the results so far: the stack it depends on
/// (directly or through others) that failed or was stopped, or, when it depends on none, that
/// the run stopped at the first failure, which is not this stack's doing.
pub(crate) fn skip_reason(
    stacks: &[&StackArtifact],
    results: &[Option<StackResult>],
    i: usize,
) -> String {
    let index: HashMap<&str, usize> = stacks
        .iter()
        .enumerate()
        .map(|(j, s)| (s.id.as_str(), j))
        .collect();
    let ended = |j: usize| match results[j].as_ref().map(|r| &r.outcome) {
        Some(Outcome::Failed(_)) => Some("failed"),
        Some(Outcome::Detached) => Some("was stopped on Ctrl-C"),
        _ => None,
    };
    // Depth-first through the selected stacks it depends on.
    let mut todo: Vec<usize> = vec![i];
    let mut seen: HashSet<usize> = HashSet::new();
    while let Some(k) = todo.pop() {
        for d in &stacks[k].dependencies {
            let Some(&j) = index.get(d.as_str()) else {
                continue;
            };
            if !seen.insert(j) {
                continue;
            }
            if let Some(why) = ended(j) {
                return format!("it depends on {}, which {why}", stacks[j].display_name);
            }
            todo.push(j);
        }
    }
    let stopper = (0..stacks.len()).find_map(|j| ended(j).map(|why| (j, why)));
    let stack = stacks[i];
    let short = stack
        .display_name
        .rsplit('/')
        .next()
        .unwrap_or(&stack.display_name);
    match stopper {
        Some((j, why)) => format!(
            "not started: the run stops when a stack fails or is stopped, and {} {why}; {} does not depend on it (deploy it alone with `pantri deploy {} {short} --exclusively`)",
            stacks[j].display_name, stack.display_name, stack.stage
        ),
        None => "not started: a stack it depends on did not deploy".into(),
    }
}

/// The first failing resource event, as `LogicalId (Type) STATUS: reason`, skipping the
/// "Resource creation/update cancelled" events that a first failure causes, and stack-level
/// events (their reason only repeats "The following resource(s) failed ...").
pub fn first_failure(chronological: &[StackEvent]) -> Option<String> {
    let is_failure = |e: &&StackEvent| e.status.ends_with("_FAILED");
    let cancelled = |e: &&StackEvent| {
        e.reason
            .as_deref()
            .is_some_and(|r| r.contains("cancelled") || r.contains("canceled"))
    };
    let pick = chronological
        .iter()
        .filter(is_failure)
        .find(|e| !e.is_stack_level() && !cancelled(e))
        .or_else(|| {
            chronological
                .iter()
                .filter(is_failure)
                .find(|e| !cancelled(e))
        })?;
    Some(format!(
        "{} ({}) {}: {}",
        pick.logical_id,
        pick.resource_type,
        pick.status,
        pick.reason.as_deref().unwrap_or("no reason given")
    ))
}
