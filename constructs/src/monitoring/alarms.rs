//! `ServiceAlarms`: CloudWatch alarms on the same six signals as the Datadog monitors, in every
//! stage. They are the complement that keeps working when Datadog or its integration does not
//! (an expired key, a broken role), and they cost nothing to keep in dev.
//!
//! Where alarms go. Alarms and recoveries go to an SNS topic: `alarm_topic_arn` when the
//! on-call routing of the organization already owns one; otherwise the construct creates
//! `<app>-<stage>-alarms`, encrypted with a key of its own (checkov wants SNS encrypted, and the
//! AWS-managed `alias/aws/sns` key cannot be used by CloudWatch alarms, whose service principal
//! must be allowed to encrypt), with email subscriptions from `alarm_emails` and, with
//! `datadog`, an HTTPS subscription to Datadog's SNS intake (each alarm becomes a Datadog event
//! that monitors and on-call routing see). The API key reaches the endpoint as a Secrets Manager
//! dynamic reference, never in the template. A topic with no subscriber is a synth warning: its
//! alarms would notify nobody.

use pantri_synth::cfn::cloudwatch::alarm::{ComparisonOperator, Dimension, TreatMissingData};
use pantri_synth::cfn::cloudwatch::CfnAlarm;
use pantri_synth::cfn::kms::CfnKey;
use pantri_synth::cfn::sns::topic::Subscription;
use pantri_synth::cfn::sns::CfnTopic;
use pantri_synth::fns::{self, dynamic};
use pantri_synth::{Output, Res, Scope, Str};

use super::{render, Workload};
use crate::policy::{document, key_administration, Principal, Statement};
use crate::{Removal, SecretRef};

/// Where Datadog's SNS intake is: alarms published to the topic arrive in Datadog as events.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmsToDatadog {
    /// The Datadog site (`datadoghq.com`, `datadoghq.eu`, `us5.datadoghq.com`, ...).
    pub site: String,
    /// The secret holding the API key (the whole secret string).
    pub api_key_secret: SecretRef,
}

impl AlarmsToDatadog {
    /// The intake host of the site: `app.<site>` for the two-label sites, the site itself for
    /// the regional ones (`us5.datadoghq.com`, `ap1.datadoghq.com`).
    pub fn intake_host(&self) -> String {
        if self.site.split('.').count() == 2 {
            format!("app.{}", self.site)
        } else {
            self.site.clone()
        }
    }
}

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

/// The tuning of [`ServiceAlarms`].
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceAlarmsProps {
    /// Thresholds; see [`AlarmThresholds`] for the defaults.
    pub thresholds: AlarmThresholds,
    /// An existing SNS topic alarms and recoveries go to. Default none: the construct creates
    /// an encrypted topic `<app>-<stage>-alarms` (see the module comment).
    pub alarm_topic_arn: Option<Str>,
    /// Email addresses subscribed to the created topic (each confirms by mail). Default none.
    /// Only with the created topic: an existing topic's subscriptions belong to its owner.
    pub alarm_emails: Vec<String>,
    /// Datadog's SNS intake, subscribed to the created topic. Default none.
    pub datadog: Option<AlarmsToDatadog>,
    /// What happens to the created topic's key when the stack goes. Default `Retain`.
    pub removal: Removal,
    /// Minutes (one-minute periods) an alarm looks at. Default 5.
    pub evaluation_minutes: u32,
    /// How many of those minutes must breach. Default 3: one bad minute is not an incident.
    pub datapoints_to_alarm: u32,
}

impl Default for ServiceAlarmsProps {
    fn default() -> Self {
        ServiceAlarmsProps {
            thresholds: AlarmThresholds::default(),
            alarm_topic_arn: None,
            alarm_emails: Vec::new(),
            datadog: None,
            removal: Removal::Retain,
            evaluation_minutes: 5,
            datapoints_to_alarm: 3,
        }
    }
}

/// The alarms of one service.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// # let workload = pantri_constructs::testing::fixtures::workload();
/// use pantri_constructs::monitoring::{ServiceAlarms, ServiceAlarmsProps};
/// // `workload` is the service's names (a [`Workload`]).
/// let alarms = ServiceAlarms::new(&mut stack, "Alarms", &workload, ServiceAlarmsProps {
///     alarm_emails: vec!["oncall@example.com".into()],
///     ..ServiceAlarmsProps::default()
/// });
/// assert!(!alarms.alarms().is_empty());
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
///
/// Without the workload it does not compile (the same code as above, minus the workload):
///
/// ```compile_fail,E0061
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// # let workload = pantri_constructs::testing::fixtures::workload();
/// # use pantri_constructs::monitoring::{ServiceAlarms, ServiceAlarmsProps};
/// # // `workload` is the service's names (a [`Workload`]).
/// let alarms = ServiceAlarms::new(&mut stack, "Alarms", ServiceAlarmsProps {
///     alarm_emails: vec!["oncall@example.com".into()],
///     ..ServiceAlarmsProps::default()
/// });
/// # assert!(!alarms.alarms().is_empty());
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Debug)]
pub struct ServiceAlarms {
    alarms: Vec<(&'static str, Res<CfnAlarm>)>,
    topic: Option<Res<CfnTopic>>,
    topic_arn: Option<Str>,
}

impl ServiceAlarms {
    /// The alarm resources by construct id (`Target5xx`, `LatencyP95`, `Cpu`, `Memory`,
    /// `RunningTasks`, `UnhealthyTargets`), the escape hatch to their properties.
    pub fn alarms(&self) -> &[(&'static str, Res<CfnAlarm>)] {
        &self.alarms
    }

    /// The topic the construct created (None with `alarm_topic_arn` or invalid props).
    pub fn topic(&self) -> Option<Res<CfnTopic>> {
        self.topic
    }

    /// The ARN of the topic the alarms notify.
    pub fn topic_arn(&self) -> Option<Str> {
        self.topic_arn.clone()
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
    /// Dimension name → variable of [`Workload::vars`].
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

const ALB: &[(&str, &str)] = &[("LoadBalancer", "Alb"), ("TargetGroup", "TargetGroup")];
const ECS: &[(&str, &str)] = &[("ClusterName", "Cluster"), ("ServiceName", "EcsService")];

impl ServiceAlarms {
    /// Adds the alarms of `workload`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        workload: &Workload,
        props: ServiceAlarmsProps,
    ) -> ServiceAlarms {
        let mut s = scope.construct(id, "pantri.ServiceAlarms");
        let w = workload;
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
        if props.alarm_topic_arn.is_none()
            && props.alarm_emails.is_empty()
            && props.datadog.is_none()
        {
            s.warning(
                "the alarm topic has no subscriber, so its alarms notify nobody: give alarm_emails \
                 or datadog (the stage's alarms.emails), or an alarm_topic_arn that is routed",
            );
        }
        if let Some(dd) = &props.datadog {
            if dd.api_key_secret.name.is_empty() || dd.site.is_empty() {
                s.error(
                    "datadog needs the site and the API key secret's name: pass the secret that \
                     holds the Datadog API key",
                );
                ok = false;
            }
        }
        if props.alarm_topic_arn.is_some()
            && !(props.alarm_emails.is_empty() && props.datadog.is_none())
        {
            s.error(
                "alarm_emails or datadog are given with alarm_topic_arn: subscribe them to that \
                 topic where it is owned, or drop alarm_topic_arn to let this construct create a topic",
            );
            ok = false;
        }
        for email in &props.alarm_emails {
            let valid = email
                .split_once('@')
                .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
                && !email.chars().any(char::is_whitespace);
            if !valid {
                s.error(format!(
                    "alarm_emails {email:?} is not an email address: write it as name@example.com"
                ));
                ok = false;
            }
        }
        let mut alarms = Vec::new();
        if !ok {
            return ServiceAlarms {
                alarms,
                topic: None,
                topic_arn: None,
            };
        }
        let (topic, topic_arn) = match &props.alarm_topic_arn {
            Some(arn) => (None, arn.clone()),
            None => {
                let t = alarm_topic(&mut s, w, &props);
                (Some(t), t.attr_topic_arn())
            }
        };

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
        let actions = vec![topic_arn.clone()];
        for spec in specs {
            let dimensions: Vec<Dimension> = spec
                .dimensions
                .iter()
                .filter_map(|(name, var)| {
                    let value = vars.iter().find(|(v, _)| v == var)?.1.clone();
                    Some(Dimension::new(*name, value))
                })
                .collect();
            let description = format!(
                "{what} ({stage}, env:{env}). {runbook}",
                what = spec.what,
                stage = w.naming.stage(),
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
            alarm = alarm
                .actions_enabled(true)
                .alarm_actions(actions.clone())
                .ok_actions(actions.clone());
            alarms.push((spec.id, s.resource(spec.id, alarm)));
        }
        ServiceAlarms {
            alarms,
            topic,
            topic_arn: Some(topic_arn),
        }
    }
}

/// The alarm topic and its key: the account administers the key, CloudWatch may encrypt with
/// it (to publish alarms), and SNS decrypts through the grants it makes as the topic's service.
fn alarm_topic(s: &mut Scope<'_>, w: &Workload, props: &ServiceAlarmsProps) -> Res<CfnTopic> {
    let removal = props.removal;
    let policy = document([
        key_administration(),
        Statement::allow()
            .sid("CloudWatchAlarmsPublish")
            .principal(Principal::service("cloudwatch.amazonaws.com"))
            .actions(["kms:Decrypt", "kms:GenerateDataKey*"])
            // "*" is this key. The statement is the one AWS documents for alarm topics, narrowed
            // to this account's alarms (no confused deputy).
            .resources(["*"])
            .condition("StringEquals", "aws:SourceAccount", fns::aws::account_id())
            .condition(
                "ArnLike",
                "aws:SourceArn",
                fns::sub(
                    "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*",
                ),
            ),
    ]);
    let key = s.resource(
        "TopicKey",
        CfnKey::new()
            .description(format!("Encrypts the {}-alarms topic", w.prefix()))
            .enable_key_rotation(true)
            .key_policy(policy),
    );
    if let Some(o) = s.app().options_mut(key) {
        removal.apply(o);
    }
    let mut topic = CfnTopic::new()
        .topic_name(format!("{}-alarms", w.prefix()))
        .display_name(format!("{} alarms", w.prefix()))
        .kms_master_key_id(key.attr_arn());
    let mut subscriptions: Vec<Subscription> = props
        .alarm_emails
        .iter()
        .map(|e| Subscription::new(e.as_str(), "email"))
        .collect();
    if let Some(dd) = &props.datadog {
        let endpoint = fns::join(
            "",
            [
                Str::from(format!(
                    "https://{}/intake/webhook/sns?api_key=",
                    dd.intake_host()
                )),
                dynamic::secretsmanager(&dd.api_key_secret.name, ""),
            ],
        );
        subscriptions.push(Subscription::new(endpoint, "https"));
    }
    if !subscriptions.is_empty() {
        topic = topic.subscription(subscriptions);
    }
    let topic = s.resource("Topic", topic);
    s.output(
        "TopicArn",
        Output::new(topic.attr_topic_arn()).description("The topic the service alarms notify"),
    );
    topic
}
