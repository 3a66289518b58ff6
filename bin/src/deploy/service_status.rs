//! Did the service really come up? CloudFormation reports an `AWS::ECS::Service` update complete
//! as soon as ECS accepted it, even when the deployment circuit breaker later rolled it back to
//! the previous task definition. This module reads what ECS says about each service of a stack
//! (`DescribeServices`) and judges it: steady only when the deployment of the task definition the
//! stack wants is `COMPLETED` with as many tasks running as desired. Otherwise it gathers why
//! (the last stopped tasks' reasons, the target groups' health).
//!
//! The ECS and Elastic Load Balancing calls sit behind the small [`Services`] trait, implemented
//! over the SDK in [`super::sdk_services`] and by a fake in the tests.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::api::{ApiResult, StackResource};

/// `AWS::ECS::Service`.
pub const SERVICE_TYPE: &str = "AWS::ECS::Service";

/// One deployment of a service (`deployments[]` of `DescribeServices`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deployment {
    /// The deployment id (`ecs-svc/...`).
    pub id: String,
    /// `PRIMARY` (the newest), `ACTIVE` (older ones still draining), `INACTIVE`.
    pub status: String,
    /// The task definition ARN it runs.
    pub task_definition: String,
    /// `IN_PROGRESS`, `COMPLETED`, `FAILED`; `None` when ECS does not say (no circuit breaker
    /// on an old service, or an emulator).
    pub rollout_state: Option<String>,
    /// Why it is in that state (the circuit breaker's words).
    pub rollout_reason: Option<String>,
    /// Tasks wanted.
    pub desired: i32,
    /// Tasks running.
    pub running: i32,
    /// Tasks that failed to start in this deployment.
    pub failed_tasks: i32,
}

/// A service as `DescribeServices` returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The service ARN.
    pub arn: String,
    /// The service name.
    pub name: String,
    /// `ACTIVE`, `DRAINING`, `INACTIVE`.
    pub status: String,
    /// The task definition the service runs now (after a rollback: the previous one).
    pub task_definition: String,
    /// Tasks wanted.
    pub desired: i32,
    /// Tasks running.
    pub running: i32,
    /// Newest first, as ECS lists them.
    pub deployments: Vec<Deployment>,
    /// The target groups the service registers with.
    pub target_groups: Vec<String>,
    /// The latest service events' messages, newest first (ECS says "has reached a steady state",
    /// "deployment failed", "unable to place a task" here).
    pub events: Vec<String>,
}

/// A stopped task (`DescribeTasks` of `ListTasks --desired-status STOPPED`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoppedTask {
    /// The task ARN.
    pub arn: String,
    /// The task definition it ran.
    pub task_definition: String,
    /// `stoppedReason` (`Essential container in task exited`, `Task failed ELB health checks`...).
    pub stopped_reason: Option<String>,
    /// Per container that says why: `name: exit code N (reason)`.
    pub containers: Vec<String>,
    /// When it stopped (RFC 3339), for ordering.
    pub stopped_at: String,
}

/// One target of a target group (`DescribeTargetHealth`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetHealth {
    /// The target (an IP for Fargate tasks).
    pub id: String,
    /// The port.
    pub port: Option<i32>,
    /// `healthy`, `unhealthy`, `initial`, `draining`, `unused`, `unavailable`.
    pub state: String,
    /// `Target.ResponseCodeMismatch`, `Target.Timeout`, ...
    pub reason: Option<String>,
    /// The load balancer's description of the reason.
    pub description: Option<String>,
}

/// The ECS and ELBv2 calls the check makes; each method is one (paged) API call.
#[allow(async_fn_in_trait)]
pub trait Services {
    /// `DescribeServices` for one service; `None` when ECS does not know it (or it is `MISSING`).
    async fn describe_service(
        &self,
        cluster: &str,
        service: &str,
    ) -> ApiResult<Option<ServiceInfo>>;
    /// `ListTasks --desired-status STOPPED` for the service, then `DescribeTasks` on at most
    /// `limit` of them, newest stopped first.
    async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        limit: usize,
    ) -> ApiResult<Vec<StoppedTask>>;
    /// `DescribeTargetHealth` of a target group.
    async fn target_health(&self, target_group_arn: &str) -> ApiResult<Vec<TargetHealth>>;
}

/// Where a service of a stack lives: its cluster and name (from the physical ID, an ARN
/// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`), and the task definition the stack wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRef {
    /// The logical ID in the stack.
    pub logical_id: String,
    /// The cluster name (`default` for an old-format ARN without one).
    pub cluster: String,
    /// The service name (or ARN).
    pub service: String,
    /// The task definition ARN the stack's template gives the service, when the service names
    /// a task definition of the same stack (`Ref`); `None`: whatever the service runs.
    pub wanted_task_definition: Option<String>,
}

/// The stack's ECS services, from its resources and template.
pub fn services_of(template: &serde_json::Value, resources: &[StackResource]) -> Vec<ServiceRef> {
    let physical = |logical: &str| {
        resources
            .iter()
            .find(|r| r.logical_id == logical)
            .and_then(|r| r.physical_id.clone())
    };
    resources
        .iter()
        .filter(|r| r.resource_type == SERVICE_TYPE)
        .filter_map(|r| {
            let arn = r.physical_id.as_deref()?;
            let (cluster, service) = split_service_arn(arn);
            let wanted = template["Resources"][&r.logical_id]["Properties"]["TaskDefinition"]
                ["Ref"]
                .as_str()
                .and_then(physical);
            Some(ServiceRef {
                logical_id: r.logical_id.clone(),
                cluster,
                service,
                wanted_task_definition: wanted,
            })
        })
        .collect()
}

/// `arn:...:service/CLUSTER/NAME` → (CLUSTER, NAME); `arn:...:service/NAME` → (`default`, NAME);
/// anything else is taken as a name in the default cluster.
fn split_service_arn(arn: &str) -> (String, String) {
    let tail = arn.rsplit_once(":service/").map_or(arn, |(_, t)| t);
    match tail.split_once('/') {
        Some((cluster, name)) => (cluster.to_owned(), name.to_owned()),
        None => ("default".to_owned(), tail.to_owned()),
    }
}

/// What a service's deployments say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The wanted task definition runs with every desired task: it came up.
    Steady,
    /// Still rolling out.
    InProgress {
        /// Tasks running in the wanted deployment.
        running: i32,
        /// Tasks desired.
        desired: i32,
    },
    /// The circuit breaker rolled back: the service runs another task definition than the
    /// stack's.
    RolledBack {
        /// The task definition the service runs now.
        running_task_definition: String,
        /// Why, as ECS says.
        reason: String,
    },
    /// The deployment failed and was not (yet) rolled back.
    Failed {
        /// Why, as ECS says.
        reason: String,
    },
    /// ECS does not know the service.
    Missing,
}

impl Verdict {
    /// Whether nothing will change by waiting.
    pub fn is_final(&self) -> bool {
        !matches!(self, Verdict::InProgress { .. })
    }
}

/// Judges one service's deployments against the task definition the stack wants.
pub fn judge(info: Option<&ServiceInfo>, wanted: Option<&str>) -> Verdict {
    let Some(info) = info else {
        return Verdict::Missing;
    };
    let wanted = wanted.unwrap_or(&info.task_definition);
    let primary = info
        .deployments
        .iter()
        .find(|d| d.status == "PRIMARY")
        .or_else(|| info.deployments.first());
    let ours = info
        .deployments
        .iter()
        .find(|d| d.task_definition == wanted);
    let reason_of = |d: Option<&Deployment>| {
        d.and_then(|d| d.rollout_reason.clone())
            .or_else(|| info.events.first().cloned())
            .unwrap_or_else(|| "ECS gave no reason".into())
    };
    match primary {
        None => Verdict::InProgress {
            running: info.running,
            desired: info.desired,
        },
        Some(p) if p.task_definition != wanted => Verdict::RolledBack {
            running_task_definition: p.task_definition.clone(),
            reason: reason_of(ours),
        },
        Some(p) if p.rollout_state.as_deref() == Some("FAILED") => Verdict::Failed {
            reason: reason_of(Some(p)),
        },
        Some(p) => {
            let completed = match p.rollout_state.as_deref() {
                Some(state) => state == "COMPLETED",
                // No rollout state: steady once the old deployments are gone.
                None => info.deployments.len() == 1,
            };
            if completed && p.running >= p.desired {
                Verdict::Steady
            } else {
                Verdict::InProgress {
                    running: p.running,
                    desired: p.desired,
                }
            }
        }
    }
}

/// The result of checking one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceReport {
    /// The stack's display name.
    pub stack: String,
    /// The service's logical ID and name.
    pub service: ServiceRef,
    /// What ECS said last.
    pub verdict: Verdict,
    /// Whether the wait ended on the timeout rather than on a final verdict.
    pub timed_out: bool,
    /// The last stopped tasks (only gathered when the service did not come up).
    pub stopped: Vec<StoppedTask>,
    /// Target group ARN → its targets (only gathered when the service did not come up).
    pub targets: Vec<(String, Vec<TargetHealth>)>,
}

impl ServiceReport {
    /// Whether the service came up.
    pub fn ok(&self) -> bool {
        self.verdict == Verdict::Steady
    }

    /// The report as lines: one line when it came up, the evidence when it did not.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let who = format!(
            "{}: service {} ({}, cluster {})",
            self.stack, self.service.service, self.service.logical_id, self.service.cluster
        );
        let _ = match &self.verdict {
            Verdict::Steady => writeln!(s, "{who} is steady"),
            Verdict::InProgress { running, desired } if self.timed_out => writeln!(
                s,
                "{who} did not reach a steady state in time: {running}/{desired} tasks running"
            ),
            Verdict::InProgress { running, desired } => {
                writeln!(
                    s,
                    "{who} is still deploying: {running}/{desired} tasks running"
                )
            }
            Verdict::RolledBack {
                running_task_definition,
                reason,
            } => writeln!(
                s,
                "{who} was rolled back: it runs {} instead of {}: {reason}",
                short_td(running_task_definition),
                self.service
                    .wanted_task_definition
                    .as_deref()
                    .map_or("the stack's task definition", short_td)
            ),
            Verdict::Failed { reason } => writeln!(s, "{who} failed to deploy: {reason}"),
            Verdict::Missing => writeln!(s, "{who} does not exist in ECS"),
        };
        for t in &self.stopped {
            let _ = writeln!(
                s,
                "  stopped task {} ({}): {}",
                t.arn.rsplit('/').next().unwrap_or(&t.arn),
                short_td(&t.task_definition),
                t.stopped_reason.as_deref().unwrap_or("no reason given")
            );
            for c in &t.containers {
                let _ = writeln!(s, "    {c}");
            }
        }
        for (tg, targets) in &self.targets {
            let name = tg.split(":targetgroup/").nth(1).unwrap_or(tg);
            if targets.is_empty() {
                let _ = writeln!(s, "  target group {name}: no registered targets");
            }
            for t in targets {
                let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
                let why = match (&t.reason, &t.description) {
                    (Some(r), Some(d)) => format!(" ({r}: {d})"),
                    (Some(r), None) => format!(" ({r})"),
                    (None, Some(d)) => format!(" ({d})"),
                    (None, None) => String::new(),
                };
                let _ = writeln!(s, "  target group {name}: {}{port} {}{why}", t.id, t.state);
            }
        }
        s
    }
}

/// `arn:...:task-definition/family:3` → `family:3`.
fn short_td(arn: &str) -> &str {
    arn.rsplit_once("task-definition/").map_or(arn, |(_, t)| t)
}

/// How long to wait and how often to look.
#[derive(Clone, Copy, Debug)]
pub struct WaitOptions {
    /// Give up after this long (the service is then reported as not steady).
    pub timeout: Duration,
    /// Pause between two looks.
    pub poll_interval: Duration,
    /// How often a progress line is printed while waiting.
    pub progress_every: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(600),
            poll_interval: Duration::from_secs(5),
            progress_every: Duration::from_secs(30),
        }
    }
}

/// How many stopped tasks a report shows.
pub const STOPPED_TASKS_SHOWN: usize = 3;

/// Waits (at most `options.timeout`) until every service of the stack has a final verdict, then
/// gathers the evidence for those that did not come up. `progress` gets one line per
/// `options.progress_every` while waiting.
pub async fn check_stack<S: Services>(
    api: &S,
    stack: &str,
    services: &[ServiceRef],
    options: &WaitOptions,
    progress: &mut dyn FnMut(&str),
) -> ApiResult<Vec<ServiceReport>> {
    let started = Instant::now();
    let mut last_line: Option<Instant> = None;
    let mut verdicts: Vec<Verdict> = Vec::new();
    let timed_out = loop {
        verdicts.clear();
        for s in services {
            let info = api.describe_service(&s.cluster, &s.service).await?;
            verdicts.push(judge(info.as_ref(), s.wanted_task_definition.as_deref()));
        }
        if verdicts.iter().all(Verdict::is_final) {
            break false;
        }
        if started.elapsed() >= options.timeout {
            break true;
        }
        if !matches!(last_line, Some(t) if t.elapsed() < options.progress_every) {
            let waiting: Vec<String> = services
                .iter()
                .zip(&verdicts)
                .filter_map(|(s, v)| match v {
                    Verdict::InProgress { running, desired } => {
                        Some(format!("{} {running}/{desired} tasks running", s.service))
                    }
                    _ => None,
                })
                .collect();
            progress(&format!(
                "{stack}: waiting for ECS to reach a steady state ({}s of at most {}s): {}",
                started.elapsed().as_secs(),
                options.timeout.as_secs(),
                waiting.join(", ")
            ));
            last_line = Some(Instant::now());
        }
        tokio::time::sleep(options.poll_interval).await;
    };
    let mut reports = Vec::new();
    for (s, verdict) in services.iter().zip(verdicts) {
        let mut report = ServiceReport {
            stack: stack.to_owned(),
            service: s.clone(),
            // A single look (no wait asked) is a snapshot, not a timeout.
            timed_out: timed_out && !options.timeout.is_zero() && !verdict.is_final(),
            verdict,
            stopped: Vec::new(),
            targets: Vec::new(),
        };
        if !report.ok() && report.verdict != Verdict::Missing {
            report.stopped = api
                .stopped_tasks(&s.cluster, &s.service, STOPPED_TASKS_SHOWN)
                .await?;
            let info = api.describe_service(&s.cluster, &s.service).await?;
            for tg in info.map(|i| i.target_groups).unwrap_or_default() {
                let health = api.target_health(&tg).await?;
                report.targets.push((tg, health));
            }
        }
        reports.push(report);
    }
    Ok(reports)
}

#[cfg(test)]
#[path = "service_status_tests.rs"]
mod tests;
