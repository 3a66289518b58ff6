//! `pantri destroy`: deletes the selected stacks in reverse dependency order after confirmation,
//! and lists the resources CloudFormation keeps (`DeletionPolicy: Retain`).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use pantri_synth::assembly::{parse_template, StackArtifact};

use super::api::{is_terminal_status, Buckets, CloudFormation, StackEvent};
use super::engine::first_failure;
use super::error::DeployError;
use super::interrupt::Interrupt;
use super::names::named_resources;
use super::progress::Ui;
use super::zones::{deleted_zones, remove_validation_records, Zones};

/// What destroy needs besides the stacks.
#[derive(Clone, Debug)]
pub struct DestroyOptions {
    /// Delete without asking.
    pub yes: bool,
    /// Pause between two polls.
    pub poll_interval: Duration,
    /// Stops the run when it fires (Ctrl-C): watching detaches, no further stack is deleted.
    pub interrupt: Interrupt,
}

impl Default for DestroyOptions {
    fn default() -> Self {
        DestroyOptions {
            yes: false,
            poll_interval: Duration::from_secs(2),
            interrupt: Interrupt::never(),
        }
    }
}

/// A resource that stays after its stack is deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retained {
    /// `stage/stack`.
    pub stack: String,
    /// The logical ID.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// The physical ID, when the stack reports it.
    pub physical_id: Option<String>,
    /// The fixed name it keeps, which a new stack cannot take again until it is deleted.
    pub name: Option<String>,
}

/// The resources of `template` a stack deletion keeps (`DeletionPolicy` `Retain` or
/// `RetainExceptOnCreate`), as `(logical ID, type)`.
pub fn retained_resources(template: &serde_json::Value) -> Vec<(String, String)> {
    template["Resources"]
        .as_object()
        .map(|r| {
            r.iter()
                .filter(|(_, v)| {
                    matches!(
                        v["DeletionPolicy"].as_str(),
                        Some("Retain" | "RetainExceptOnCreate")
                    )
                })
                .map(|(k, v)| (k.clone(), v["Type"].as_str().unwrap_or("?").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn protected(stack: &StackArtifact) -> DeployError {
    let name = stack.properties.stack_name.as_str();
    DeployError::StackState {
        stack: stack.display_name.clone(),
        message: format!(
            "stack {name} has termination protection: turn it off with `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {name} --region {}` and destroy again",
            stack.env.region
        ),
    }
}

/// Checks every stack before any is deleted: termination protection and running operations
/// would stop the deletion half-way, after the stacks before them are gone.
async fn precheck<A: CloudFormation>(
    clients: &BTreeMap<String, A>,
    stacks: &[&StackArtifact],
) -> Result<(), DeployError> {
    let mut problems = Vec::new();
    for stack in stacks {
        let dn = stack.display_name.as_str();
        let Some(api) = clients.get(&stack.env.region) else {
            continue;
        };
        let info = api
            .describe_stack(&stack.properties.stack_name)
            .await
            .map_err(|e| DeployError::api(dn, e))?;
        let Some(info) = info else { continue };
        if info.termination_protection {
            problems.push(protected(stack));
        } else if !is_terminal_status(&info.status) {
            problems.push(DeployError::StackState {
                stack: dn.into(),
                message: format!(
                    "stack {} is {}: wait for that operation to end and destroy again",
                    stack.properties.stack_name, info.status
                ),
            });
        }
    }
    match problems.len() {
        0 => Ok(()),
        1 => Err(problems.remove(0)),
        _ => Err(DeployError::Precheck(problems)),
    }
}

/// The buckets of `template` the stack deletion deletes (`DeletionPolicy` `Delete` or unset),
/// with their names, as `(logical ID, bucket name)`.
pub fn deleted_buckets(
    template: &serde_json::Value,
    physical: &BTreeMap<String, Option<String>>,
) -> Vec<(String, String)> {
    template["Resources"]
        .as_object()
        .map(|r| {
            r.iter()
                .filter(|(_, v)| {
                    v["Type"] == "AWS::S3::Bucket"
                        && matches!(v["DeletionPolicy"].as_str(), None | Some("Delete"))
                })
                .filter_map(|(k, _)| {
                    let name = physical.get(k).cloned().flatten()?;
                    Some((k.clone(), name))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Deletes `stacks` (given in dependency order; deleted in reverse), one at a time, after
/// checking all of them (the precheck). Returns the retained resources of the deleted stacks.
pub async fn destroy<A: CloudFormation + Buckets + Zones>(
    clients: &BTreeMap<String, A>,
    stacks: &[&StackArtifact],
    options: &DestroyOptions,
    ui: &Ui<'_>,
) -> Result<Vec<Retained>, DeployError> {
    let names: Vec<&str> = stacks
        .iter()
        .rev()
        .map(|s| s.display_name.as_str())
        .collect();
    precheck(clients, stacks).await?;
    if !options.yes {
        let answer = ui.ask(&format!("Delete {} (in that order)?", names.join(", ")));
        if options.interrupt.is_set() {
            return Err(DeployError::Interrupted);
        }
        match answer {
            Some(true) => {}
            Some(false) => return Err(DeployError::ApprovalNeeded("not confirmed; nothing was deleted".into())),
            None => {
                return Err(DeployError::ApprovalNeeded(format!(
                    "destroying {} needs confirmation and there is no terminal to ask: re-run with --yes",
                    names.join(", ")
                )))
            }
        }
    }
    let mut retained = Vec::new();
    for stack in stacks.iter().rev() {
        let deleting = RefCell::new(false);
        tokio::select! {
            biased;
            () = options.interrupt.fired() => {
                let dn = &stack.display_name;
                if *deleting.borrow() {
                    ui.warn(format_args!(
                        "{dn}: stopped watching; the deletion goes on in CloudFormation. Follow it with: aws cloudformation describe-stack-events --stack-name {} --region {}",
                        stack.properties.stack_name, stack.env.region
                    ));
                } else {
                    ui.warn(format_args!("{dn}: stopped before deleting it; nothing was deleted"));
                }
                return Err(DeployError::Interrupted);
            }
            r = destroy_one(clients, stack, options, ui, &deleting) => retained.extend(r?),
        }
    }
    if !retained.is_empty() {
        ui.say(format_args!(
            "Retained (DeletionPolicy Retain; delete them by hand if no longer needed):"
        ));
        for r in &retained {
            ui.say(format_args!(
                "  {} {} ({}) {}",
                r.stack,
                r.logical_id,
                r.resource_type,
                r.physical_id.as_deref().unwrap_or("")
            ));
        }
        let blocking: Vec<&str> = retained.iter().filter_map(|r| r.name.as_deref()).collect();
        if !blocking.is_empty() {
            ui.say(format_args!(
                "The next deploy of these stacks cannot create {} again while it exists: delete it first, or import it into the stack (pantri deploy names each one before it starts)",
                blocking.join(", ")
            ));
        }
    }
    Ok(retained)
}

async fn destroy_one<A: CloudFormation + Buckets + Zones>(
    clients: &BTreeMap<String, A>,
    stack: &StackArtifact,
    options: &DestroyOptions,
    ui: &Ui<'_>,
    deleting: &RefCell<bool>,
) -> Result<Vec<Retained>, DeployError> {
    let dn = stack.display_name.as_str();
    let name = stack.properties.stack_name.as_str();
    let fail = |e| DeployError::api(dn, e);
    let api = clients.get(&stack.env.region).ok_or_else(|| {
        DeployError::Usage(format!(
            "no CloudFormation client for region {}",
            stack.env.region
        ))
    })?;
    let Some(info) = api.describe_stack(name).await.map_err(fail)? else {
        ui.say(format_args!(
            "{dn}: {name} does not exist; nothing to delete"
        ));
        return Ok(Vec::new());
    };
    if info.termination_protection {
        return Err(protected(stack));
    }
    // The deployed template says what will be retained; the assembly's is the fallback.
    let template = api
        .get_template(name)
        .await
        .map_err(fail)?
        .and_then(|t| parse_template("deployed.json", &t).ok())
        .unwrap_or_else(|| stack.template.clone());
    let physical: BTreeMap<String, Option<String>> = api
        .list_stack_resources(name)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.logical_id, r.physical_id))
        .collect();
    let named = named_resources(&template);
    let retained: Vec<Retained> = retained_resources(&template)
        .into_iter()
        .map(|(logical_id, resource_type)| Retained {
            stack: dn.to_owned(),
            physical_id: physical.get(&logical_id).cloned().flatten(),
            name: named
                .iter()
                .find(|n| n.logical_id == logical_id)
                .map(|n| n.name.clone()),
            logical_id,
            resource_type,
        })
        .collect();
    let seen: HashSet<String> = api
        .describe_stack_events(name)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.id)
        .collect();
    // Buckets the stack deletes must be empty first, every version of every object included;
    // a retained bucket (a stage that keeps its data) is never touched.
    for (logical_id, bucket) in deleted_buckets(&template, &physical) {
        let emptied = api
            .empty_bucket(&bucket, &stack.env.account)
            .await
            .map_err(fail)?;
        ui.say(format_args!(
            "{dn}: emptied {logical_id} (s3://{bucket}): {emptied} object versions and delete markers"
        ));
    }
    // Zones the stack deletes must hold no record but their own: the ACM validation records
    // of certificates (deleted with their stacks, which leave the records) go first.
    for (logical_id, zone_name) in deleted_zones(&template) {
        let zone_id = match physical.get(&logical_id).cloned().flatten() {
            Some(id) => Some(id),
            // An endpoint that cannot list the stack's resources: the zone by its name, when
            // exactly one zone has it.
            None => match api.zones_named(&zone_name).await {
                Ok(ids) if ids.len() == 1 => ids.into_iter().next(),
                _ => None,
            },
        };
        let Some(zone_id) = zone_id else { continue };
        let removed = remove_validation_records(api, &zone_id)
            .await
            .map_err(fail)?;
        if !removed.is_empty() {
            ui.say(format_args!(
                "{dn}: removed {} ACM validation record(s) from {logical_id} ({zone_name}), which CloudFormation leaves behind: {}",
                removed.len(),
                removed.join(", ")
            ));
        }
    }
    ui.say(format_args!("{dn}: deleting {name}"));
    *deleting.borrow_mut() = true;
    api.delete_stack(name).await.map_err(fail)?;
    loop {
        match api.describe_stack(name).await.map_err(fail)? {
            None => break,
            Some(s) if s.status == "DELETE_COMPLETE" => break,
            Some(s) if s.status == "DELETE_FAILED" => {
                let mut events: Vec<StackEvent> = api
                    .describe_stack_events(name)
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|e| !seen.contains(&e.id))
                    .collect();
                events.reverse();
                let reason = first_failure(&events)
                    .or(s.status_reason)
                    .unwrap_or_else(|| "no reason reported".into());
                return Err(DeployError::Failed {
                    stack: dn.into(),
                    message: format!("deletion failed: {reason}"),
                });
            }
            Some(_) => tokio::time::sleep(options.poll_interval).await,
        }
    }
    ui.say(format_args!("{dn}: deleted"));
    Ok(retained)
}
