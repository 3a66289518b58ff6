//! `DatadogMonitors`: the alerts of one service, as `Datadog::Monitors::Monitor` resources.
//!
//! Threshold monitors on the signals that mean users are hurt or soon will be (5xx rate, p95
//! latency, CPU, memory, running tasks below the floor, unhealthy targets), plus anomaly
//! detection on request rate and latency, which catches what a fixed threshold cannot (traffic
//! falling off a cliff, a slow creep in latency).

use indexmap::IndexMap;
use pantri_synth::cfn::datadog::monitor::{
    MonitorOptions, MonitorThresholdWindows, MonitorThresholds as CfnThresholds, Type,
};
use pantri_synth::cfn::datadog::CfnMonitor;
use pantri_synth::{Res, Scope};

use super::{render, validate_handles, Workload};

/// A threshold with an optional earlier warning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Level {
    /// The value that alerts (and pages, by the handles in the message).
    pub critical: f64,
    /// The value that warns before; must be below `critical` for "above" monitors.
    pub warning: Option<f64>,
}

impl Level {
    /// A critical threshold with a warning.
    pub const fn new(critical: f64, warning: f64) -> Self {
        Level {
            critical,
            warning: Some(warning),
        }
    }
}

/// The thresholds of the monitors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MonitorThresholds {
    /// Percentage of ALB requests answered 5xx by the targets, over 10 minutes.
    /// Default critical 5 %, warning 2 %.
    pub error_rate_percent: Level,
    /// p95 of the targets' response time in milliseconds, averaged over 10 minutes.
    /// Default critical 1500 ms, warning 800 ms.
    pub latency_p95_ms: Level,
    /// ECS service CPU utilization in percent, over 15 minutes. Default critical 90, warning 80:
    /// autoscaling should act well before, so reaching these means it cannot keep up.
    pub cpu_percent: Level,
    /// ECS service memory utilization in percent, over 15 minutes. Default critical 90,
    /// warning 80: past that, tasks get OOM-killed.
    pub memory_percent: Level,
    /// Width of the anomaly band in deviations. Default 2 (Datadog's usual width: narrow enough
    /// to see a halving of traffic, wide enough for daily swings with the `agile` algorithm).
    pub anomaly_deviations: f64,
}

impl Default for MonitorThresholds {
    fn default() -> Self {
        MonitorThresholds {
            error_rate_percent: Level::new(5.0, 2.0),
            latency_p95_ms: Level::new(1500.0, 800.0),
            cpu_percent: Level::new(90.0, 80.0),
            memory_percent: Level::new(90.0, 80.0),
            anomaly_deviations: 2.0,
        }
    }
}

/// The tuning of [`DatadogMonitors`].
#[derive(Clone, Debug, PartialEq)]
pub struct DatadogMonitorsProps {
    /// Thresholds; see [`MonitorThresholds`] for the defaults.
    pub thresholds: MonitorThresholds,
    /// The APM span name of incoming requests. Default `web.request`: dd-trace-js names the
    /// server spans of Node.js HTTP servers (Next.js included) so; `http.request` is its name
    /// for outgoing calls.
    pub apm_operation: String,
    /// Whether to add the anomaly-detection monitors. Default true.
    pub anomaly_detection: bool,
    /// Minutes between re-notifications of a monitor still alerting. Default 60.
    pub renotify_minutes: u32,
}

impl Default for DatadogMonitorsProps {
    fn default() -> Self {
        DatadogMonitorsProps {
            thresholds: MonitorThresholds::default(),
            apm_operation: "web.request".to_owned(),
            anomaly_detection: true,
            renotify_minutes: 60,
        }
    }
}

/// The monitors of one service.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// # let workload = pantri_constructs::testing::fixtures::workload();
/// use pantri_constructs::monitoring::{DatadogMonitors, DatadogMonitorsProps};
/// // `workload` is the service's names (a [`Workload`](super::Workload)).
/// let monitors = DatadogMonitors::new(
///     &mut stack,
///     "Monitors",
///     &workload,
///     &["@oncall@example.com".to_owned()],
///     DatadogMonitorsProps::default(),
/// );
/// assert!(!monitors.monitors().is_empty());
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Debug)]
pub struct DatadogMonitors {
    monitors: IndexMap<&'static str, Res<CfnMonitor>>,
}

impl DatadogMonitors {
    /// The monitor resources by construct id (`ErrorRate`, `LatencyP95`, `Cpu`, `Memory`,
    /// `RunningTasks`, `UnhealthyTargets`, `RequestAnomaly`, `LatencyAnomaly`).
    pub fn monitors(&self) -> &IndexMap<&'static str, Res<CfnMonitor>> {
        &self.monitors
    }

    /// One monitor resource, the escape hatch to its properties.
    pub fn monitor(&self, id: &str) -> Option<Res<CfnMonitor>> {
        self.monitors.get(id).copied()
    }
}

/// Which way a threshold is crossed.
#[derive(Clone, Copy, PartialEq)]
enum Crossing {
    Above,
    Below,
}

/// What differs between monitors.
struct Spec {
    id: &'static str,
    title: String,
    summary: &'static str,
    /// The query without its comparison; `${Var}`s are rendered.
    query: String,
    crossing: Crossing,
    level: Level,
    /// Anomaly monitors: critical at 1 (the whole alert window out of band) with windows.
    anomaly: bool,
    /// Minutes without data that alert, where no data means the service is gone.
    no_data_minutes: Option<u32>,
    /// AWS integration metrics arrive through CloudWatch up to 15 minutes late.
    cloudwatch_delay: bool,
    priority: u8,
    runbook: String,
}

impl DatadogMonitors {
    /// Adds the monitors of `workload`, each notifying the Datadog handles `notify`
    /// (`@slack-pantri-alerts`, `@pagerduty-pantri`; at least one: an alert nobody receives is
    /// not one).
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        workload: &Workload,
        notify: &[String],
        props: DatadogMonitorsProps,
    ) -> DatadogMonitors {
        let mut s = scope.construct(id, "pantri.DatadogMonitors");
        let w = workload;
        let t = &props.thresholds;
        let valid = w.validate(&mut s)
            & validate_handles(&mut s, notify)
            & validate_thresholds(&mut s, t)
            & validate_operation(&mut s, &props.apm_operation);
        let mut monitors = IndexMap::new();
        if !valid {
            return DatadogMonitors { monitors };
        }

        let alb = "loadbalancer:${Alb},targetgroup:${TargetGroup}";
        let ecs = "clustername:${Cluster},servicename:${EcsService}";
        let apm = w.apm_scope();
        let op = &props.apm_operation;
        let prefix = w.prefix();
        let logs = w.log_group_name();
        let describe_service =
            "aws ecs describe-services --cluster ${Cluster} --services ${EcsService}";
        let target_health = "aws elbv2 describe-target-health --target-group-arn \
            arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:${TargetGroup}";
        let tail_logs = format!("aws logs tail {logs} --since 30m");

        let mut specs = vec![
            Spec {
                id: "ErrorRate",
                title: format!("[{prefix}] 5xx error rate is high"),
                summary: "The service answers too many requests with a 5xx status.",
                query: format!(
                    "sum(last_10m):sum:aws.applicationelb.httpcode_target_5xx{{{alb}}}.as_count() / \
                     sum:aws.applicationelb.request_count{{{alb}}}.as_count() * 100"
                ),
                crossing: Crossing::Above,
                level: t.error_rate_percent,
                anomaly: false,
                no_data_minutes: None,
                cloudwatch_delay: true,
                priority: 2,
                runbook: format!(
                    "look for the failing routes in APM (env:{env} service:{svc}) and for errors in \
                     `{tail_logs}`; roll back if a deploy started it.",
                    env = w.env,
                    svc = w.service
                ),
            },
            Spec {
                id: "LatencyP95",
                title: format!("[{prefix}] p95 latency is high"),
                summary: "The slowest 5 % of requests take too long.",
                query: format!("avg(last_10m):avg:aws.applicationelb.target_response_time.p95{{{alb}}}"),
                crossing: Crossing::Above,
                // The metric is in seconds.
                level: Level {
                    critical: t.latency_p95_ms.critical / 1000.0,
                    warning: t.latency_p95_ms.warning.map(|w| w / 1000.0),
                },
                anomaly: false,
                no_data_minutes: None,
                cloudwatch_delay: true,
                priority: 3,
                runbook: format!(
                    "find the slow resources in APM (env:{env} service:{svc}); check CPU and memory \
                     of the service and `{describe_service}`.",
                    env = w.env,
                    svc = w.service
                ),
            },
            Spec {
                id: "Cpu",
                title: format!("[{prefix}] ECS CPU utilization is high"),
                summary: "The service's tasks are short of CPU; autoscaling is not keeping up.",
                query: format!("avg(last_15m):avg:aws.ecs.service.cpuutilization{{{ecs}}}"),
                crossing: Crossing::Above,
                level: t.cpu_percent,
                anomaly: false,
                no_data_minutes: None,
                cloudwatch_delay: true,
                priority: 3,
                runbook: format!(
                    "check whether the service is at its autoscaling maximum with `{describe_service}`; \
                     raise the maximum or the task CPU."
                ),
            },
            Spec {
                id: "Memory",
                title: format!("[{prefix}] ECS memory utilization is high"),
                summary: "The service's tasks are close to their memory limit and may be OOM-killed.",
                query: format!("avg(last_15m):avg:aws.ecs.service.memory_utilization{{{ecs}}}"),
                crossing: Crossing::Above,
                level: t.memory_percent,
                anomaly: false,
                no_data_minutes: None,
                cloudwatch_delay: true,
                priority: 3,
                runbook: format!(
                    "look for stopped tasks with reason OutOfMemory in `{describe_service}`; check \
                     for a leak in APM (env:{env} service:{svc}) or raise the task memory.",
                    env = w.env,
                    svc = w.service
                ),
            },
            Spec {
                id: "RunningTasks",
                title: format!("[{prefix}] fewer tasks running than desired"),
                summary: "The service runs fewer tasks than its floor: capacity and redundancy are lost.",
                query: format!("max(last_10m):avg:aws.ecs.service.running{{{ecs}}}"),
                crossing: Crossing::Below,
                level: Level {
                    critical: f64::from(w.desired_count),
                    warning: None,
                },
                anomaly: false,
                // No data: the service or its metrics are gone, which is worse than few tasks.
                no_data_minutes: Some(30),
                cloudwatch_delay: true,
                priority: 1,
                runbook: format!(
                    "read the service events and stopped reasons with `{describe_service}` \
                     (image pull, secrets, health checks) and the container logs with `{tail_logs}`."
                ),
            },
            Spec {
                id: "UnhealthyTargets",
                title: format!("[{prefix}] unhealthy load balancer targets"),
                summary: "The load balancer has marked targets unhealthy for 10 minutes.",
                query: format!(
                    "min(last_10m):max:aws.applicationelb.un_healthy_host_count{{{alb}}}"
                ),
                crossing: Crossing::Above,
                level: Level {
                    critical: 0.0,
                    warning: None,
                },
                anomaly: false,
                no_data_minutes: None,
                cloudwatch_delay: true,
                priority: 2,
                runbook: format!(
                    "see why with `{target_health}`; check the health check path of the app and \
                     `{tail_logs}`."
                ),
            },
        ];
        if props.anomaly_detection {
            let dev = t.anomaly_deviations;
            specs.push(Spec {
                id: "RequestAnomaly",
                title: format!("[{prefix}] request rate is abnormal"),
                summary: "Traffic is outside its usual band for this time of day and week.",
                query: format!(
                    "avg(last_4h):anomalies(sum:trace.{op}.hits{{{apm}}}.as_count(), 'agile', {dev}, \
                     direction='both', interval=60, alert_window='last_15m', count_default_zero='true')"
                ),
                crossing: Crossing::Above,
                level: Level {
                    critical: 1.0,
                    warning: None,
                },
                anomaly: true,
                no_data_minutes: None,
                cloudwatch_delay: false,
                priority: 4,
                runbook: format!(
                    "a drop: check CloudFront, DNS and the load balancer; a surge: check for a bot \
                     or a campaign, and that autoscaling follows (`{describe_service}`)."
                ),
            });
            specs.push(Spec {
                id: "LatencyAnomaly",
                title: format!("[{prefix}] latency is abnormal"),
                summary: "Average response time is above its usual band.",
                query: format!(
                    "avg(last_4h):anomalies(avg:aws.applicationelb.target_response_time.average{{{alb}}}, \
                     'agile', {dev}, direction='above', interval=60, alert_window='last_15m')"
                ),
                crossing: Crossing::Above,
                level: Level {
                    critical: 1.0,
                    warning: None,
                },
                anomaly: true,
                no_data_minutes: None,
                cloudwatch_delay: true,
                priority: 4,
                runbook: format!(
                    "compare with the last deploy; find the slow resources in APM (env:{env} \
                     service:{svc}).",
                    env = w.env,
                    svc = w.service
                ),
            });
        }

        let vars = w.vars();
        let handles = notify.join(" ");
        for spec in specs {
            let comparison = match (spec.anomaly, spec.crossing) {
                (true, _) => ">=",
                (false, Crossing::Above) => ">",
                (false, Crossing::Below) => "<",
            };
            let query = format!("{} {comparison} {}", spec.query, spec.level.critical);
            let message = format!(
                "{summary}\n\n\
                 {{{{#is_alert}}}}Value {{{{value}}}} crossed the critical threshold {{{{threshold}}}}.{{{{/is_alert}}}}\n\
                 {{{{#is_warning}}}}Value {{{{value}}}} crossed the warning threshold {{{{warn_threshold}}}}.{{{{/is_warning}}}}\n\
                 Runbook: {runbook}\n\
                 Stage {stage} (env:{env}, service:{svc}).\n\n{handles}",
                summary = spec.summary,
                runbook = spec.runbook,
                stage = w.naming.stage(),
                env = w.env,
                svc = w.service,
            );
            let mut thresholds = CfnThresholds::new().critical(spec.level.critical);
            if spec.anomaly {
                thresholds = thresholds.critical_recovery(0.0);
            }
            if let Some(warning) = spec.level.warning {
                thresholds = thresholds.warning(warning);
            }
            let mut options = MonitorOptions::new()
                .thresholds(thresholds)
                .include_tags(true)
                .notify_audit(false)
                .renotify_interval(props.renotify_minutes)
                // Sparse count metrics (5xx, requests) would never evaluate with a full window.
                .require_full_window(false)
                .notify_no_data(spec.no_data_minutes.is_some());
            if let Some(minutes) = spec.no_data_minutes {
                options = options.no_data_timeframe(minutes);
            }
            if spec.cloudwatch_delay {
                options = options.evaluation_delay(900);
            }
            if spec.anomaly {
                options = options.threshold_windows(
                    MonitorThresholdWindows::new()
                        .trigger_window("last_15m")
                        .recovery_window("last_15m"),
                );
            }
            let monitor = CfnMonitor::new(render(&query, &vars), Type::QueryAlert)
                .name(spec.title)
                .message(render(&message, &vars))
                .tags(w.tags())
                .priority(spec.priority)
                .options(options);
            monitors.insert(spec.id, s.resource(spec.id, monitor));
        }
        DatadogMonitors { monitors }
    }
}

fn validate_thresholds(s: &mut Scope<'_>, t: &MonitorThresholds) -> bool {
    let mut ok = true;
    for (name, level, max) in [
        ("error_rate_percent", t.error_rate_percent, Some(100.0)),
        ("latency_p95_ms", t.latency_p95_ms, None),
        ("cpu_percent", t.cpu_percent, Some(100.0)),
        ("memory_percent", t.memory_percent, Some(100.0)),
    ] {
        // Written so that NaN is out of range too.
        let in_range = level.critical.is_finite()
            && level.critical > 0.0
            && !max.is_some_and(|m| level.critical > m);
        if !in_range {
            s.error(format!(
                "thresholds.{name}.critical {} is out of range: give a value above 0{}",
                level.critical,
                max.map(|m| format!(" and at most {m}")).unwrap_or_default()
            ));
            ok = false;
        }
        if let Some(warning) = level.warning {
            if !(warning > 0.0 && warning < level.critical) {
                s.error(format!(
                    "thresholds.{name}.warning {warning} is not below critical {}: the warning \
                     must come first, so lower it or raise critical",
                    level.critical
                ));
                ok = false;
            }
        }
    }
    if !(t.anomaly_deviations >= 1.0 && t.anomaly_deviations <= 6.0) {
        s.error(format!(
            "thresholds.anomaly_deviations {} is out of range: give 1 to 6 (2 is usual)",
            t.anomaly_deviations
        ));
        ok = false;
    }
    ok
}

fn validate_operation(s: &mut Scope<'_>, op: &str) -> bool {
    let ok = !op.is_empty()
        && op
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c));
    if !ok {
        s.error(format!(
            "apm_operation {op:?} is not a span name: use the tracer's operation name, such as \
             web.request"
        ));
    }
    ok
}
