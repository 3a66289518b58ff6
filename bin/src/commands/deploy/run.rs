//! What the `deploy`, `destroy`, `status` and `drift` commands do with their arguments: read the
//! assembly, check the caller, turn arguments into the engine's options, run the engine, and
//! report its outcomes as one exit code ([`Exit`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use pantri_synth::assembly::StackArtifact;
use pantri_synth::CloudAssembly;

use super::args::{AwsArgs, DeployArgs, DestroyArgs, DriftArgs, StatusArgs};
use crate::assets::tool::{PlainRegistry, ProcessTool, REGISTRY_VARIABLE};
use crate::assets::{AssemblyAssets, PublishMode, Publisher};
use crate::deploy::account::{verify_caller, CallerIdentity};
use crate::deploy::api::CloudFormation;
use crate::deploy::checks::{before_deploy, service_check, DeployApi};
use crate::deploy::destroy::{destroy, DestroyOptions};
use crate::deploy::engine::{DeployOptions, Engine, Method, Outcome};
use crate::deploy::error::DeployError;
use crate::deploy::hooks::StackHooks;
use crate::deploy::names::leftovers;
use crate::deploy::plan::{check_parameters, select, ParameterArg};
use crate::deploy::planfile::{change_set_name, new_plan_id, Plan, SCHEMA_VERSION};
use crate::deploy::progress::{Confirm, ProgressMode, TtyConfirm, Ui};
use crate::deploy::sdk::{Connection, SdkCloudFormation};
use crate::deploy::service_status::WaitOptions;
use crate::exit::Exit;

pub(super) use super::results::RunResults;
pub use super::run_plan::{plan_with, plan_with_hooks, run_plan};

pub(super) fn read_stacks(
    dir: &Path,
    region: Option<&str>,
) -> Result<Vec<StackArtifact>, DeployError> {
    let mut stacks = CloudAssembly::read(dir)?.stacks()?;
    for s in &mut stacks {
        if s.env.region.is_empty() || s.env.region == "unknown-region" {
            s.env.region = region
                .ok_or_else(|| {
                    DeployError::Usage(format!(
                        "stack {} has no region in its environment: pass --region",
                        s.display_name
                    ))
                })?
                .to_owned();
        }
    }
    Ok(stacks)
}

/// Prints an endpoint override as a note, and refuses plain HTTP to anything but loopback.
pub(super) fn check_endpoints(aws: &AwsArgs, out: &mut dyn Write) -> Result<(), DeployError> {
    let notes = crate::deploy::hardening::check_endpoints(aws.endpoint_url.as_deref(), &|v| {
        std::env::var(v).ok()
    })
    .map_err(DeployError::Usage)?;
    for n in notes {
        let _ = writeln!(out, "{n}");
    }
    Ok(())
}

pub(super) fn connection(aws: &AwsArgs) -> Connection {
    Connection {
        profile: aws.profile.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        max_attempts: 0,
    }
}

/// The assembly's stacks, one client per region they deploy to, and who the caller is (STS),
/// after checking that the stage's stacks belong to the caller's account.
///
/// An endpoint override is printed to `out` (a note, not an error: scripts reading stderr for
/// errors see none); plain HTTP to anything but loopback is refused before any call is made.
async fn connect(
    assembly_dir: &Path,
    stage: &str,
    aws: &AwsArgs,
    out: &mut dyn Write,
) -> Result<
    (
        Vec<StackArtifact>,
        BTreeMap<String, SdkCloudFormation>,
        CallerIdentity,
    ),
    DeployError,
> {
    check_endpoints(aws, out)?;
    let stacks = read_stacks(assembly_dir, aws.region.as_deref())?;
    let connection = connection(aws);
    let in_stage: Vec<&StackArtifact> = stacks.iter().filter(|s| s.stage == stage).collect();
    let caller = verify_caller(&in_stage, &connection).await?;
    let regions: std::collections::BTreeSet<&str> =
        stacks.iter().map(|s| s.env.region.as_str()).collect();
    let mut clients = BTreeMap::new();
    for r in regions {
        clients.insert(
            r.to_owned(),
            SdkCloudFormation::connect(r, &connection).await,
        );
    }
    Ok((stacks, clients, caller))
}

/// Deploys through the AWS SDK, asking on the terminal when there is one. Reports to `out`
/// and `err`; returns the exit code.
pub async fn run_deploy(
    args: &DeployArgs,
    assembly_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let stage = args.stage.as_deref().unwrap_or_default();
    let (stacks, clients, caller) = match connect(assembly_dir, stage, &args.aws, out).await {
        Ok(c) => c,
        Err(e) => return report(err, &e),
    };
    let assets = match AssemblyAssets::read(assembly_dir) {
        Ok(a) => a,
        Err(e) => return report(err, &DeployError::from(e)),
    };
    let tool = ProcessTool::from_env();
    let mode = if args.no_publish {
        PublishMode::ParametersOnly
    } else {
        PublishMode::Publish
    };
    let publisher = Publisher::new(&clients, tool.clone(), &assets, mode)
        .with_plain_registry(plain_registry(&tool))
        .with_emulator(emulator(args))
        .with_stacks(&stacks);
    deploy_with_hooks(
        args,
        &stacks,
        &clients,
        Some(&caller),
        Some(&publisher),
        &TtyConfirm::new(),
        out,
        err,
    )
    .await
}

/// The plain registry `PANTRI_IMAGE_REGISTRY` names, if any.
pub(super) fn plain_registry(tool: &ProcessTool) -> Option<PlainRegistry> {
    std::env::var(REGISTRY_VARIABLE)
        .ok()
        .filter(|h| !h.is_empty())
        .map(|host| PlainRegistry {
            host,
            tool: tool.clone(),
        })
}

/// The endpoint override on this machine (an emulator), if AWS calls go to one.
pub(super) fn emulator(args: &DeployArgs) -> Option<String> {
    crate::deploy::hardening::emulator_endpoint(args.aws.endpoint_url.as_deref(), &|v| {
        std::env::var(v).ok()
    })
}

/// Deploys `stacks` (the whole assembly) with the given clients and prompt: what
/// [`run_deploy`] does after connecting, open to tests with a fake API.
pub async fn deploy_with<A: DeployApi>(
    args: &DeployArgs,
    stacks: &[StackArtifact],
    clients: &BTreeMap<String, A>,
    caller: Option<&CallerIdentity>,
    confirm: &dyn Confirm,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    deploy_with_hooks(args, stacks, clients, caller, None, confirm, out, err).await
}

/// [`deploy_with`] with work around each stack (asset publishing, [`StackHooks`]); the hooks'
/// parameter values (asset image tags, object keys) are added after `--parameters`, which win.
#[allow(clippy::too_many_arguments)]
pub async fn deploy_with_hooks<A: DeployApi>(
    args: &DeployArgs,
    stacks: &[StackArtifact],
    clients: &BTreeMap<String, A>,
    caller: Option<&CallerIdentity>,
    hooks: Option<&dyn StackHooks>,
    confirm: &dyn Confirm,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let stage = args.stage.as_deref().unwrap_or_default();
    let selected = match select(stacks, stage, &args.stacks, args.exclusively)
        .and_then(|s| check_parameters(&args.parameters, &s).map(|()| s))
    {
        Ok(s) => s,
        Err(e) => return report(err, &e),
    };
    let names: Vec<&str> = selected.iter().map(|s| s.display_name.as_str()).collect();
    let plan_id = new_plan_id(&names);
    let options = DeployOptions {
        method: args.method,
        // This run's own name: a change set of another run or plan is never touched.
        change_set_name: change_set_name(&plan_id),
        parameters: with_hook_parameters(&args.parameters, &selected, hooks),
        ..deploy_options(args, caller, confirm)
    };
    if args.publish_only {
        return publish_only(
            clients, stacks, &selected, &options, hooks, confirm, args, out, err,
        )
        .await;
    }
    let mut problems = writable_files(args);
    let mut run = RunResults::new();
    let mut planned = Vec::new();
    let mut unchanged = Vec::new();
    {
        let ui = Ui::new(out, err, confirm, args.progress);
        // An access problem replaces every other: nothing else could be checked.
        let mut gather = |checked: Result<Vec<DeployError>, DeployError>| match checked {
            Ok(found) => {
                problems.extend(found);
                false
            }
            Err(e) => {
                problems = vec![e];
                true
            }
        };
        let access = gather(engine_precheck(clients, stacks, &selected, &options, &ui).await)
            // Names a new resource would take that a retained one holds already.
            || gather(leftovers(clients, &selected).await);
        // The deploy-path checks (environment parameters, exports in use, stack policies) and
        // the assembly they prepare; read-only, so their problems join the same report.
        if let (Some(h), false) = (hooks, access) {
            problems.extend(h.precheck(&selected).await);
        }
        let prepared = if access {
            Vec::new()
        } else {
            match before_deploy(clients, stacks, &selected, &ui).await {
                Ok(p) => p,
                Err(e) => {
                    problems.push(e);
                    Vec::new()
                }
            }
        };
        if problems.is_empty() {
            let selected: Vec<&StackArtifact> = selected
                .iter()
                .filter_map(|s| prepared.iter().find(|p| p.id == s.id))
                .collect();
            let engine = Engine::new(clients, &prepared, &options, &ui).with_hooks(hooks);
            let wait = WaitOptions {
                timeout: Duration::from_secs(args.service_timeout),
                poll_interval: Duration::from_millis(args.aws.poll_interval_ms.max(1)),
                ..WaitOptions::default()
            };
            for r in engine.deploy(&selected).await {
                if matches!(r.outcome, Outcome::Deployed) && args.service_timeout > 0 {
                    // CloudFormation's UPDATE_COMPLETE does not say the tasks run: ECS does.
                    if let Some(s) = selected.iter().find(|s| s.display_name == r.display_name) {
                        let checked = match clients.get(&s.env.region) {
                            Some(api) => service_check(api, s, &wait, &ui).await,
                            None => Ok(Vec::new()),
                        };
                        run.services(&r.display_name, checked, &ui);
                    }
                }
                if args.method == Method::PrepareChangeSet
                    && matches!(r.outcome, Outcome::NoChanges)
                {
                    unchanged.push(r.display_name.clone());
                }
                if let Outcome::Prepared(mut p) = r.outcome {
                    // What its parameters name: executing the plan publishes exactly these.
                    let stack = selected.iter().find(|s| s.display_name == p.display_name);
                    if let (Some(h), Some(s)) = (hooks, stack) {
                        p.assets = h.assets(s);
                    }
                    planned.push(*p);
                } else {
                    run.add(r, &ui);
                }
            }
        }
    }
    if !problems.is_empty() {
        return report(err, &DeployError::precheck(problems));
    }
    if args.method == Method::PrepareChangeSet && run.exit == Exit::Success {
        let mut plan = Plan {
            schema_version: SCHEMA_VERSION,
            id: plan_id,
            account: caller.map(|c| c.account.clone()),
            stages: vec![stage.to_owned()],
            stacks: planned,
            unchanged,
            markdown: String::new(),
        };
        plan.markdown = plan.markdown(&args.plan_out.to_string_lossy());
        if let Err(e) = plan.write(&args.plan_out) {
            let _ = writeln!(
                err,
                "error: cannot write the plan {}: {e}",
                args.plan_out.display()
            );
            return Exit::Failed;
        }
        let _ = writeln!(out, "{}", plan.markdown.trim_end());
        let _ = writeln!(err, "plan written to {}", args.plan_out.display());
    }
    run.finish(args, err)
}

/// `--publish-only`: each selected stack's assets, in dependency order, and nothing else (no
/// change set, no environment parameters needed): CI that publishes apart from the deploy.
#[allow(clippy::too_many_arguments)]
async fn publish_only<A: DeployApi>(
    clients: &BTreeMap<String, A>,
    stacks: &[StackArtifact],
    selected: &[&StackArtifact],
    options: &DeployOptions,
    hooks: Option<&dyn StackHooks>,
    confirm: &dyn Confirm,
    args: &DeployArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let published = {
        let ui = Ui::new(out, err, confirm, args.progress);
        let engine = Engine::new(clients, stacks, options, &ui).with_hooks(hooks);
        engine.run_before_hooks(selected).await
    };
    match published {
        Ok(()) => {
            let _ = writeln!(out, "published; no stack was deployed (--publish-only)");
            Exit::Success
        }
        Err(e) => report(err, &e),
    }
}

/// The engine's checks of every selected stack before anything is touched.
async fn engine_precheck<'a, A: DeployApi>(
    clients: &'a BTreeMap<String, A>,
    stacks: &'a [StackArtifact],
    selected: &[&'a StackArtifact],
    options: &'a DeployOptions,
    ui: &'a Ui<'a>,
) -> Result<Vec<DeployError>, DeployError> {
    Engine::new(clients, stacks, options, ui)
        .precheck(selected)
        .await
}

/// The options every deploy takes from its arguments.
pub(super) fn deploy_options(
    args: &DeployArgs,
    caller: Option<&CallerIdentity>,
    confirm: &dyn Confirm,
) -> DeployOptions {
    DeployOptions {
        require_approval: args.require_approval,
        yes: args.yes,
        allow_replace: args.allow_replace.clone(),
        concurrency: args.concurrency.max(1),
        wait_in_progress: !args.no_wait,
        poll_interval: Duration::from_millis(args.aws.poll_interval_ms),
        // Tests poll with no pause: the pace and backoff shrink with the interval.
        call_spacing: Duration::from_millis(args.aws.poll_interval_ms.min(200)),
        throttle_backoff: Duration::from_millis(args.aws.poll_interval_ms.clamp(1, 1000)),
        quiet_line_after: Duration::from_secs(args.quiet_line_secs),
        caller_account: caller.map(|c| c.account.clone()),
        staging_bucket: args.staging_bucket.clone(),
        interrupt: confirm.interrupt(),
        color: args.color,
        width: args.width,
        role_arn: args.role_arn.clone(),
        ..DeployOptions::default()
    }
}

/// Problems with the files the run will write, found before anything is touched.
pub(super) fn writable_files(args: &DeployArgs) -> Vec<DeployError> {
    let mut files: Vec<(&str, &Path)> = Vec::new();
    if let Some(path) = &args.outputs_file {
        files.push(("--outputs-file", path));
    }
    if args.method == Method::PrepareChangeSet && args.plan.is_none() {
        files.push(("--plan-out", &args.plan_out));
    }
    files
        .into_iter()
        .filter_map(|(flag, path)| {
            crate::deploy::files::check_writable(path).err().map(|why| {
                DeployError::Usage(format!(
                    "{flag} {}: {why}: name a file in an existing, writable directory",
                    path.display()
                ))
            })
        })
        .collect()
}

/// Destroys through the AWS SDK, asking on the terminal when there is one.
pub async fn run_destroy(
    args: &DestroyArgs,
    assembly_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let (stacks, clients, _caller) = match connect(assembly_dir, &args.stage, &args.aws, out).await
    {
        Ok(c) => c,
        Err(e) => return report(err, &e),
    };
    destroy_with(args, &stacks, &clients, &TtyConfirm::new(), out, err).await
}

/// What [`run_destroy`] does after connecting, open to tests with a fake API.
pub async fn destroy_with<
    A: CloudFormation + crate::deploy::api::Buckets + crate::deploy::zones::Zones,
>(
    args: &DestroyArgs,
    stacks: &[StackArtifact],
    clients: &BTreeMap<String, A>,
    confirm: &dyn Confirm,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let selected = match select(stacks, &args.stage, &args.stacks, true) {
        Ok(s) => s,
        Err(e) => return report(err, &e),
    };
    let options = DestroyOptions {
        yes: args.yes,
        poll_interval: Duration::from_millis(args.aws.poll_interval_ms),
        interrupt: confirm.interrupt(),
    };
    let result = {
        let ui = Ui::new(out, err, confirm, ProgressMode::Events);
        destroy(clients, &selected, &options, &ui).await
    };
    match result {
        Ok(_) => Exit::Success,
        // What was stopped is already said, with the command to follow it.
        Err(DeployError::Interrupted) => Exit::Interrupted,
        Err(e) => report(err, &e),
    }
}

/// `--parameters` followed by the hooks' values for each selected stack (stack-specific, so an
/// explicit `--parameters STACK:KEY=VALUE` given first still wins).
fn with_hook_parameters(
    explicit: &[ParameterArg],
    selected: &[&StackArtifact],
    hooks: Option<&dyn StackHooks>,
) -> Vec<ParameterArg> {
    let mut all = explicit.to_vec();
    if let Some(h) = hooks {
        for s in selected {
            all.extend(
                h.parameters(s)
                    .into_iter()
                    .map(|(key, value)| ParameterArg {
                        stack: Some(s.id.clone()),
                        key,
                        value,
                    }),
            );
        }
    }
    all
}

/// `pantri status`: whether the ECS services of the stage's stacks came up. Exit 0 when every
/// service is steady, 1 when one is not (rolled back, failed, still deploying), 4 on access.
pub async fn run_status(
    args: &StatusArgs,
    assembly_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let (stacks, clients, _caller) = match connect(assembly_dir, &args.stage, &args.aws, out).await
    {
        Ok(c) => c,
        Err(e) => return report(err, &e),
    };
    status_with(args, &stacks, &clients, out, err).await
}

/// What [`run_status`] does after connecting, open to tests with a fake API.
pub async fn status_with<A: CloudFormation + crate::deploy::service_status::Services>(
    args: &StatusArgs,
    stacks: &[StackArtifact],
    clients: &BTreeMap<String, A>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let selected = match select(stacks, &args.stage, &args.stacks, true) {
        Ok(s) => s,
        Err(e) => return report(err, &e),
    };
    let wait = WaitOptions {
        timeout: Duration::from_secs(args.wait),
        poll_interval: Duration::from_millis(args.aws.poll_interval_ms.max(1)),
        ..WaitOptions::default()
    };
    let result = {
        let ui = Ui::new(
            out,
            err,
            &crate::deploy::progress::NoConfirm,
            ProgressMode::Events,
        );
        crate::deploy::checks::status(clients, &selected, &wait, &ui).await
    };
    match result {
        Ok(true) => Exit::Success,
        Ok(false) => Exit::Failed,
        Err(e) => report(err, &e),
    }
}

/// `pantri drift`: detects drift on the stage's stacks. Exit 0 in sync, 1 drifted, 4 on access.
pub async fn run_drift(
    args: &DriftArgs,
    assembly_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let (stacks, clients, _caller) = match connect(assembly_dir, &args.stage, &args.aws, out).await
    {
        Ok(c) => c,
        Err(e) => return report(err, &e),
    };
    drift_with(args, &stacks, &clients, out, err).await
}

/// What [`run_drift`] does after connecting, open to tests with a fake API.
pub async fn drift_with<A: crate::deploy::drift::Drift>(
    args: &DriftArgs,
    stacks: &[StackArtifact],
    clients: &BTreeMap<String, A>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let selected = match select(stacks, &args.stage, &args.stacks, true) {
        Ok(s) => s,
        Err(e) => return report(err, &e),
    };
    let result = {
        let ui = Ui::new(
            out,
            err,
            &crate::deploy::progress::NoConfirm,
            ProgressMode::Events,
        );
        crate::deploy::checks::drift(
            clients,
            &selected,
            Duration::from_secs(args.timeout),
            Duration::from_millis(args.aws.poll_interval_ms.max(1)),
            &ui,
        )
        .await
    };
    match result {
        Ok(true) => Exit::Success,
        Ok(false) => Exit::Failed,
        // Exit 1 means drifted: an endpoint that cannot detect drift is an access problem.
        Err(
            e @ DeployError::Api {
                source: crate::deploy::error::ApiError::Unsupported(_),
                ..
            },
        ) => {
            report(err, &e);
            Exit::AccessProblem
        }
        Err(e) => report(err, &e),
    }
}

pub(super) fn report(err: &mut dyn Write, e: &DeployError) -> Exit {
    let _ = writeln!(err, "error: {e}");
    Exit::from(e)
}
