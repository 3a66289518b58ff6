//! What deploy checks around the change sets, and the `status` and `drift` operations:
//!
//! - [`before_deploy`]: environment-sourced parameters (NoEcho, never an AWS variable, never
//!   echoed by an output), the last drift status of each stack for the preview, and exports in
//!   use (kept for one more deploy, or refused) — all before the first change set;
//! - [`service_check`]: after a stack with ECS services deployed, whether they came up;
//! - [`status`] and [`drift`]: the same service check, and drift detection, on their own.

use std::collections::BTreeMap;
use std::time::Duration;

use pantri_synth::assembly::StackArtifact;

use super::api::{CloudFormation, TemplateStaging};
use super::drift::{self as drift_mod, Drift, StackDrift};
use super::error::DeployError;
use super::exports::{self, Exports};
use super::hardening;
use super::names::NameRegistry;
use super::progress::Ui;
use super::service_status::{
    check_stack, services_of, ServiceReport, Services, WaitOptions, SERVICE_TYPE,
};

/// Everything a deploy client answers: CloudFormation, template staging, exports, drift, the
/// service check and the names a new stack would take.
pub trait DeployApi:
    CloudFormation + TemplateStaging + Exports + Drift + Services + NameRegistry
{
}
impl<T: CloudFormation + TemplateStaging + Exports + Drift + Services + NameRegistry> DeployApi
    for T
{
}

/// The client of a stack's region.
fn client<'c, A>(
    clients: &'c BTreeMap<String, A>,
    stack: &StackArtifact,
) -> Result<&'c A, DeployError> {
    clients.get(&stack.env.region).ok_or_else(|| {
        DeployError::Usage(format!(
            "no client for region {} of {}",
            stack.env.region, stack.display_name
        ))
    })
}

/// Checks the `selected` stacks before the first change set and returns the assembly to deploy:
/// `assembly` with the exports in use that a stack drops added back for one more deploy.
pub async fn before_deploy<A: CloudFormation + Exports + Drift>(
    clients: &BTreeMap<String, A>,
    assembly: &[StackArtifact],
    selected: &[&StackArtifact],
    ui: &Ui<'_>,
) -> Result<Vec<StackArtifact>, DeployError> {
    let problems: Vec<String> = selected
        .iter()
        .flat_map(|s| hardening::check_env_parameters(s))
        .collect();
    if !problems.is_empty() {
        return Err(DeployError::Usage(problems.join("\n")));
    }
    for s in selected {
        let api = client(clients, s)?;
        match drift_mod::last_drift_note(api, &s.display_name, &s.properties.stack_name).await {
            Ok(Some(note)) => ui.warn(format_args!("{note}")),
            Ok(None) => {}
            Err(e) if e.is_access() => return Err(DeployError::api(&s.display_name, e)),
            // The preview note is a courtesy: an endpoint without drift information skips it.
            Err(_) => {}
        }
    }
    let plan = exports::plan(clients, assembly, selected).await?;
    for w in &plan.warnings {
        ui.warn(format_args!("{w}"));
    }
    for k in &plan.kept {
        ui.say(format_args!("{}", k.note()));
    }
    let mut out = assembly.to_vec();
    plan.apply(&mut out);
    Ok(out)
}

/// Whether the template has ECS services.
pub fn has_services(stack: &StackArtifact) -> bool {
    stack.template["Resources"]
        .as_object()
        .is_some_and(|r| r.values().any(|v| v["Type"] == SERVICE_TYPE))
}

/// Checks that the ECS services of a deployed stack came up, waiting as `options` says, with a
/// progress line on `ui`. Empty for a stack without services.
pub async fn service_check<A: CloudFormation + Services>(
    api: &A,
    stack: &StackArtifact,
    options: &WaitOptions,
    ui: &Ui<'_>,
) -> Result<Vec<ServiceReport>, DeployError> {
    if !has_services(stack) {
        return Ok(Vec::new());
    }
    let dn = stack.display_name.as_str();
    let resources = api
        .list_stack_resources(&stack.properties.stack_name)
        .await
        .map_err(|e| DeployError::api(dn, e))?;
    let services = services_of(&stack.template, &resources);
    check_stack(api, dn, &services, options, &mut |line| {
        ui.say(format_args!("{line}"))
    })
    .await
    .map_err(|e| DeployError::api(dn, e))
}

/// `pantri status`: the service check of each selected stack; `Ok(true)` when every service
/// came up. Stacks without services, and stacks not deployed, say so in one line.
pub async fn status<A: CloudFormation + Services>(
    clients: &BTreeMap<String, A>,
    selected: &[&StackArtifact],
    options: &WaitOptions,
    ui: &Ui<'_>,
) -> Result<bool, DeployError> {
    let mut all_up = true;
    for s in selected {
        let api = client(clients, s)?;
        let dn = s.display_name.as_str();
        if !has_services(s) {
            ui.say(format_args!("{dn}: no ECS services"));
            continue;
        }
        let deployed = api
            .describe_stack(&s.properties.stack_name)
            .await
            .map_err(|e| DeployError::api(dn, e))?;
        if deployed.is_none() {
            ui.say(format_args!("{dn}: not deployed"));
            all_up = false;
            continue;
        }
        for r in service_check(api, s, options, ui).await? {
            if r.ok() {
                ui.say(format_args!("{}", r.render().trim_end()));
            } else {
                all_up = false;
                ui.warn(format_args!("{}", r.render().trim_end()));
            }
        }
    }
    Ok(all_up)
}

/// `pantri drift`: detects the drift of each selected stack and prints the report; `Ok(true)`
/// when nothing drifted.
pub async fn drift<A: Drift>(
    clients: &BTreeMap<String, A>,
    selected: &[&StackArtifact],
    timeout: Duration,
    poll_interval: Duration,
    ui: &Ui<'_>,
) -> Result<bool, DeployError> {
    let mut in_sync = true;
    for s in selected {
        let api = client(clients, s)?;
        let d: StackDrift = drift_mod::detect(
            api,
            &s.display_name,
            &s.properties.stack_name,
            timeout,
            poll_interval,
        )
        .await
        .map_err(|e| DeployError::api(&s.display_name, e))?;
        if d.drifted() {
            in_sync = false;
        }
        ui.say(format_args!("{}", d.render().trim_end()));
    }
    Ok(in_sync)
}
