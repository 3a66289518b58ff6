//! `pantri deploy --plan FILE`: a reviewed plan executed through the engine, with the assets
//! of the assembly `--app` names published around its change sets.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use pantri_synth::assembly::StackArtifact;

use super::args::DeployArgs;
use super::run::{
    check_endpoints, connection, deploy_options, emulator, plain_registry, read_stacks, report,
    writable_files, RunResults,
};
use crate::assets::tool::ProcessTool;
use crate::assets::{AssemblyAssets, PublishMode, Publisher};
use crate::deploy::account::{verify_caller, CallerIdentity};
use crate::deploy::api::{CloudFormation, TemplateStaging};
use crate::deploy::engine::{plan_artifacts, Engine};
use crate::deploy::error::DeployError;
use crate::deploy::hooks::StackHooks;
use crate::deploy::planfile::Plan;
use crate::deploy::progress::{Confirm, TtyConfirm, Ui};
use crate::deploy::sdk::SdkCloudFormation;
use crate::exit::Exit;

/// Executes a plan file through the AWS SDK (`pantri deploy --plan FILE`): the caller's account
/// is checked against the plan's stacks first, as for every deploy. With `--app DIR`, the
/// assembly's assets of the plan's stacks are published before each change set.
pub async fn run_plan(
    args: &DeployArgs,
    path: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let plan = match Plan::read(path) {
        Ok(p) => p,
        Err(e) => return report(err, &e),
    };
    if let Err(e) = check_endpoints(&args.aws, out) {
        return report(err, &e);
    }
    let mut stacks = plan_artifacts(&plan);
    // The assembly the plan's assets come from, and the stacks their outputs name.
    let (context, assets) = match &args.app {
        Some(dir) => match read_stacks(dir, args.aws.region.as_deref())
            .and_then(|s| Ok((s, AssemblyAssets::read(dir)?)))
        {
            Ok(found) => found,
            Err(e) => return report(err, &e),
        },
        None => (Vec::new(), AssemblyAssets::default()),
    };
    for s in &mut stacks {
        // A plan names stacks by display name; the assembly's artifact id finds their assets.
        if let Some(a) = context.iter().find(|a| a.display_name == s.display_name) {
            s.id = a.id.clone();
        }
    }
    let mut everything: Vec<StackArtifact> = context
        .into_iter()
        .filter(|a| !stacks.iter().any(|s| s.id == a.id))
        .collect();
    everything.extend(stacks.iter().cloned());
    let connection = connection(&args.aws);
    let refs: Vec<&StackArtifact> = stacks.iter().collect();
    let caller = match verify_caller(&refs, &connection).await {
        Ok(c) => c,
        Err(e) => return report(err, &e),
    };
    let mut regions: std::collections::BTreeSet<String> = plan.regions().into_iter().collect();
    regions.extend(everything.iter().map(|s| s.env.region.clone()));
    let mut clients = BTreeMap::new();
    for r in regions {
        let client = SdkCloudFormation::connect(&r, &connection).await;
        clients.insert(r, client);
    }
    let tool = ProcessTool::from_env();
    let publisher = args.app.as_ref().map(|_| {
        Publisher::new(&clients, tool.clone(), &assets, PublishMode::Publish)
            .with_plain_registry(plain_registry(&tool))
            .with_emulator(emulator(args))
            .with_stacks(&stacks)
    });
    plan_with_hooks(
        args,
        &plan,
        &stacks,
        &everything,
        &clients,
        Some(&caller),
        publisher.as_ref().map(|p| p as &dyn StackHooks),
        &TtyConfirm::new(),
        out,
        err,
    )
    .await
}

/// What [`run_plan`] does after connecting, open to tests with a fake API.
#[allow(clippy::too_many_arguments)]
pub async fn plan_with<A: CloudFormation + TemplateStaging>(
    args: &DeployArgs,
    plan: &Plan,
    stacks: &[StackArtifact],
    clients: &BTreeMap<String, A>,
    caller: Option<&CallerIdentity>,
    confirm: &dyn Confirm,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    plan_with_hooks(
        args, plan, stacks, stacks, clients, caller, None, confirm, out, err,
    )
    .await
}

/// [`plan_with`] with work around each stack (asset publishing): `stacks` are the plan's
/// stand-ins ([`plan_artifacts`]), `assembly` every stack whose outputs a hook may read.
#[allow(clippy::too_many_arguments)]
pub async fn plan_with_hooks<A: CloudFormation + TemplateStaging>(
    args: &DeployArgs,
    plan: &Plan,
    stacks: &[StackArtifact],
    assembly: &[StackArtifact],
    clients: &BTreeMap<String, A>,
    caller: Option<&CallerIdentity>,
    hooks: Option<&dyn StackHooks>,
    confirm: &dyn Confirm,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let problems = writable_files(args);
    if !problems.is_empty() {
        return report(err, &DeployError::precheck(problems));
    }
    let options = deploy_options(args, caller, confirm);
    let mut run = RunResults::new();
    let refused = {
        let ui = Ui::new(out, err, confirm, args.progress);
        let engine = Engine::new(clients, assembly, &options, &ui).with_hooks(hooks);
        match engine.run_plan(plan, stacks).await {
            Ok(results) => {
                for r in results {
                    run.add(r, &ui);
                }
                None
            }
            Err(e) => Some(e),
        }
    };
    if let Some(e) = refused {
        return report(err, &e);
    }
    run.finish(args, err)
}
