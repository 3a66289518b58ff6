//! `ServiceAlarms`: CloudWatch alarms on the same six signals as the Datadog monitors, in every
//! stage. They are the complement that keeps working when Datadog or its integration does not
//! (an expired key, a broken role), and they cost nothing to keep in dev.
//!
//! Where alarms go. The alarms notify the SNS topic `alarm_topic_arn` when one is given (the
//! on-call routing of an organization usually owns that topic, with its subscriptions and key
//! policy). Without one they still change state, which the Datadog integration imports as events
//! (`collect_cloudwatch_alarms`) and the console shows; pantri does not create an SNS topic of
//! its own, because a topic with no subscriber notifies no one either.

use pantri_synth::cfn::cloudwatch::alarm::{ComparisonOperator, Dimension, TreatMissingData};
use pantri_synth::cfn::cloudwatch::CfnAlarm;
use pantri_synth::{Res, Scope, Str};

use super::{render, Workload};

/// The thresholds of the alarms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlarmThresholds {
    /// 5xx responses of the targets per minute. Default 10: a few errors are noise, ten a minute
    /// for three of five minutes is an incident at Pantri's traffic.
    pub target_5xx_per_minute: u32,
    /// p95 of the targets' response time, in milliseconds. Default 1500.
    pub latency_p95_ms: u32,
    /// ECS service CPU utilization in percent. Default 90.
    pub cpu_percent: u32,
    /// ECS service memory utilization in percent. Default 90.
    pub memory_percent: u32,
}

impl Default for AlarmThresholds {
    fn default() -> Self {
        AlarmThresholds {
            target_5xx_per_minute: 10,
            latency_p95_ms: 1500,
            cpu_percent: 90,
            memory_percent: 90,
        }
    }
}

/// Props of [`ServiceAlarms`].
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceAlarmsProps {
    /// The service watched. Its load balancer and target group names have no default.
    pub workload: Workload,
    /// Thresholds; see [`AlarmThresholds`] for the defaults.
    pub thresholds: AlarmThresholds,
    /// The SNS topic alarms and recoveries go to. Default none (see the module comment).
    pub alarm_topic_arn: Option<Str>,
    /// Minutes (one-minute periods) an alarm looks at. Default 5.
    pub evaluation_minutes: u32,
    /// How many of those minutes must breach. Default 3: one bad minute is not an incident.
    pub datapoints_to_alarm: u32,
}

impl Default for ServiceAlarmsProps {
    fn default() -> Self {
        ServiceAlarmsProps {
            workload: Workload::default(),
            thresholds: AlarmThresholds::default(),
            alarm_topic_arn: None,
            evaluation_minutes: 5,
            datapoints_to_alarm: 3,
        }
    }
}

/// The alarms of one service.
#[derive(Clone, Debug)]
pub struct ServiceAlarms {
    alarms: Vec<(&'static str, Res<CfnAlarm>)>,
}

impl ServiceAlarms {
    /// The alarm resources by construct id (`Target5xx`, `LatencyP95`, `Cpu`, `Memory`,
    /// `RunningTasks`, `UnhealthyTargets`), the escape hatch to their properties.
    pub fn alarms(&self) -> &[(&'static str, Res<CfnAlarm>)] {
        &self.alarms
    }

    /// One alarm by construct id.
    pub fn alarm(&self, id: &str) -> Option<Res<CfnAlarm>> {
        self.alarms.iter().find(|(i, _)| *i == id).map(|(_, a)| *a)
    }
}

struct Spec {
    id: &'static str,
    name: &'static str,
    namespace: &'static str,
    metric: &'static str,
    /// Dimension name → `${Var}` of the workload.
    dimensions: &'static [(&'static str, &'static str)],
    statistic: Stat,
    operator: ComparisonOperator,
    threshold: f64,
    missing: TreatMissingData,
    what: &'static str,
    runbook: String,
}

enum Stat {
    Plain(&'static str),
    Percentile(&'static str),
}

const ALB: &[(&str, &str)] = &[
    ("LoadBalancer", "${Alb}"),
    ("TargetGroup", "${TargetGroup}"),
];
const ECS: &[(&str, &str)] = &[
    ("ClusterName", "${Cluster}"),
    ("ServiceName", "${EcsService}"),
];

/// Adds the alarms.
pub fn new(scope: &mut Scope<'_>, id: &str, props: ServiceAlarmsProps) -> ServiceAlarms {
    let mut s = scope.construct(id, "pantri.ServiceAlarms");
    let w = &props.workload;
    let t = &props.thresholds;
    let mut ok = w.validate(&mut s);
    for (name, value) in [
        ("cpu_percent", t.cpu_percent),
        ("memory_percent", t.memory_percent),
    ] {
        if value == 0 || value > 100 {
            s.error(format!(
                "thresholds.{name} {value} is out of range: give a percentage from 1 to 100"
            ));
            ok = false;
        }
    }
    if t.latency_p95_ms == 0 {
        s.error(
            "thresholds.latency_p95_ms is 0: every request would alarm; give milliseconds above 0",
        );
        ok = false;
    }
    if props.datapoints_to_alarm == 0 || props.datapoints_to_alarm > props.evaluation_minutes {
        s.error(format!(
            "datapoints_to_alarm {} must be from 1 to evaluation_minutes {}: lower it or look at \
             more minutes",
            props.datapoints_to_alarm, props.evaluation_minutes
        ));
        ok = false;
    }
    let mut alarms = Vec::new();
    if !ok {
        return ServiceAlarms { alarms };
    }

    let describe_service =
        "aws ecs describe-services --cluster ${Cluster} --services ${EcsService}";
    let tail_logs = format!("aws logs tail {} --since 30m", w.log_group_name());
    let specs = [
        Spec {
            id: "Target5xx",
            name: "target-5xx",
            namespace: "AWS/ApplicationELB",
            metric: "HTTPCode_Target_5XX_Count",
            dimensions: ALB,
            statistic: Stat::Plain("Sum"),
            operator: ComparisonOperator::GreaterThanThreshold,
            threshold: f64::from(t.target_5xx_per_minute),
            // No 5xx in a minute publishes no datapoint: that is the good case.
            missing: TreatMissingData::NotBreaching,
            what: "The service answers requests with 5xx",
            runbook: format!("Runbook: find the failing routes in `{tail_logs}` and APM; roll back if a deploy started it."),
        },
        Spec {
            id: "LatencyP95",
            name: "latency-p95",
            namespace: "AWS/ApplicationELB",
            metric: "TargetResponseTime",
            dimensions: ALB,
            statistic: Stat::Percentile("p95"),
            operator: ComparisonOperator::GreaterThanThreshold,
            threshold: f64::from(t.latency_p95_ms) / 1000.0,
            // No requests, no latency: nothing to alarm on.
            missing: TreatMissingData::NotBreaching,
            what: "The slowest 5 % of requests are slow",
            runbook: format!("Runbook: find the slow routes in APM; check CPU and memory and `{describe_service}`."),
        },
        Spec {
            id: "Cpu",
            name: "cpu",
            namespace: "AWS/ECS",
            metric: "CPUUtilization",
            dimensions: ECS,
            statistic: Stat::Plain("Average"),
            operator: ComparisonOperator::GreaterThanThreshold,
            threshold: f64::from(t.cpu_percent),
            // A service without metrics is the RunningTasks alarm's business.
            missing: TreatMissingData::Missing,
            what: "The service's tasks are short of CPU",
            runbook: format!("Runbook: check whether autoscaling is at its maximum with `{describe_service}`; raise the maximum or the task CPU."),
        },
        Spec {
            id: "Memory",
            name: "memory",
            namespace: "AWS/ECS",
            metric: "MemoryUtilization",
            dimensions: ECS,
            statistic: Stat::Plain("Average"),
            operator: ComparisonOperator::GreaterThanThreshold,
            threshold: f64::from(t.memory_percent),
            missing: TreatMissingData::Missing,
            what: "The service's tasks are close to their memory limit",
            runbook: format!("Runbook: look for OutOfMemory stops in `{describe_service}`; raise the task memory or fix the leak."),
        },
        Spec {
            id: "RunningTasks",
            name: "running-tasks",
            // Needs Container Insights on the cluster, which the cluster construct turns on.
            namespace: "ECS/ContainerInsights",
            metric: "RunningTaskCount",
            dimensions: ECS,
            statistic: Stat::Plain("Minimum"),
            operator: ComparisonOperator::LessThanThreshold,
            threshold: f64::from(w.desired_count),
            // No datapoint means no task reports: the service is down.
            missing: TreatMissingData::Breaching,
            what: "Fewer tasks run than the service's floor",
            runbook: format!("Runbook: read the events and stopped reasons with `{describe_service}` and the logs with `{tail_logs}`."),
        },
        Spec {
            id: "UnhealthyTargets",
            name: "unhealthy-targets",
            namespace: "AWS/ApplicationELB",
            metric: "UnHealthyHostCount",
            dimensions: ALB,
            statistic: Stat::Plain("Maximum"),
            operator: ComparisonOperator::GreaterThanThreshold,
            threshold: 0.0,
            // Published every minute while the target group is in use; a gap says nothing.
            missing: TreatMissingData::Missing,
            what: "The load balancer marks targets unhealthy",
            runbook: "Runbook: see why with `aws elbv2 describe-target-health --target-group-arn arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:${TargetGroup}`; check the app's health check path.".to_owned(),
        },
    ];

    let vars = w.vars();
    let actions: Option<Vec<Str>> = props.alarm_topic_arn.clone().map(|a| vec![a]);
    for spec in specs {
        let dimensions: Vec<Dimension> = spec
            .dimensions
            .iter()
            .map(|(name, var)| Dimension::new(*name, render(var, &vars)))
            .collect();
        let description = format!(
            "{what} ({stage}, env:{env}). {runbook}",
            what = spec.what,
            stage = w.stage,
            env = w.env,
            runbook = spec.runbook
        );
        let mut alarm = CfnAlarm::new()
            .alarm_name(format!("{}-{}", w.prefix(), spec.name))
            .alarm_description(render(&description, &vars))
            .namespace(spec.namespace)
            .metric_name(spec.metric)
            .dimensions(dimensions)
            .period(60)
            .evaluation_periods(props.evaluation_minutes)
            .datapoints_to_alarm(props.datapoints_to_alarm)
            .comparison_operator(spec.operator)
            .threshold(spec.threshold)
            .treat_missing_data(spec.missing);
        alarm = match spec.statistic {
            Stat::Plain(stat) => alarm.statistic(stat),
            Stat::Percentile(p) => alarm.extended_statistic(p),
        };
        if let Some(actions) = &actions {
            alarm = alarm
                .actions_enabled(true)
                .alarm_actions(actions.clone())
                .ok_actions(actions.clone());
        }
        alarms.push((spec.id, s.resource(spec.id, alarm)));
    }
    ServiceAlarms { alarms }
}
