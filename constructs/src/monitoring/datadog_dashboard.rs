//! `DatadogDashboard`: one system dashboard per stage, as a `Datadog::Dashboards::Dashboard`.
//!
//! The resource takes its definition as one JSON string. It is built with `serde_json::json!`
//! with `${Cluster}`, `${Alb}`, ... placeholders where names of other resources go, serialized,
//! and passed through [`render`]: names known at synth time are written in, names that are
//! attributes or imports are substituted by `Fn::Sub` at deploy time. The placeholders are only
//! ever inside JSON strings and the names hold no quote or backslash, so the result stays valid
//! JSON (a test substitutes sample values and parses it).

use pantri_synth::cfn::datadog::CfnDashboard;
use pantri_synth::{Res, Scope, Str};
use serde_json::{json, Value as JsonValue};

use super::{render, Workload};

/// The tuning of a [`DatadogDashboard`].
#[derive(Clone, Debug, PartialEq)]
pub struct DatadogDashboardProps {
    /// The dashboard title. Default `<app>-<stage> system overview`.
    pub title: Option<String>,
    /// The APM span name of incoming requests. Default `web.request` (see
    /// [`super::DatadogMonitorsProps::apm_operation`]).
    pub apm_operation: String,
}

impl Default for DatadogDashboardProps {
    fn default() -> Self {
        DatadogDashboardProps {
            title: None,
            apm_operation: "web.request".to_owned(),
        }
    }
}

/// The dashboard.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// # let workload = pantri_constructs::testing::fixtures::workload();
/// use pantri_constructs::monitoring::{DatadogDashboard, DatadogDashboardProps};
/// // `workload` is the service's names (a [`Workload`](super::Workload)).
/// let dashboard = DatadogDashboard::new(&mut stack, "Dashboard", &workload, DatadogDashboardProps::default());
/// assert!(dashboard.dashboard().is_some());
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DatadogDashboard {
    dashboard: Option<Res<CfnDashboard>>,
}

impl DatadogDashboard {
    /// The dashboard resource (None when the props were invalid).
    pub fn dashboard(&self) -> Option<Res<CfnDashboard>> {
        self.dashboard
    }

    /// The dashboard's URL in Datadog.
    pub fn url(&self) -> Option<Str> {
        self.dashboard.map(|d| d.attr_url())
    }
}

impl DatadogDashboard {
    /// Adds the dashboard of `workload`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        workload: &Workload,
        props: DatadogDashboardProps,
    ) -> DatadogDashboard {
        let mut s = scope.construct(id, "pantri.DatadogDashboard");
        if !workload.validate(&mut s) {
            return DatadogDashboard { dashboard: None };
        }
        let text = definition(workload, &props).to_string();
        let dashboard = s.resource(
            "Resource",
            CfnDashboard::new(render(&text, &workload.vars())),
        );
        DatadogDashboard {
            dashboard: Some(dashboard),
        }
    }
}

fn timeseries(title: &str, queries: &[(&str, &str)]) -> JsonValue {
    let requests: Vec<JsonValue> = queries
        .iter()
        .map(|(q, display)| json!({ "q": q, "display_type": display }))
        .collect();
    json!({ "definition": {
        "type": "timeseries",
        "title": title,
        "show_legend": true,
        "requests": requests,
    }})
}

fn group(title: &str, widgets: Vec<JsonValue>) -> JsonValue {
    json!({ "definition": {
        "type": "group",
        "title": title,
        "layout_type": "ordered",
        "widgets": widgets,
    }})
}

/// The dashboard definition with `${Var}` placeholders (see the module comment).
fn definition(w: &Workload, props: &DatadogDashboardProps) -> JsonValue {
    let alb = "loadbalancer:${Alb},targetgroup:${TargetGroup}";
    let ecs = "clustername:${Cluster},servicename:${EcsService}";
    let apm = w.apm_scope();
    let op = &props.apm_operation;
    let title = props
        .title
        .clone()
        .unwrap_or_else(|| format!("{} system overview", w.prefix()));

    let mut groups = vec![
        group(
            "Application (APM)",
            vec![
                json!({ "definition": {
                    "type": "trace_service",
                    "title": format!("{} service summary", w.service),
                    "env": w.env,
                    "service": w.service,
                    "span_name": op,
                    "show_hits": true,
                    "show_errors": true,
                    "show_latency": true,
                    "show_breakdown": true,
                    "show_distribution": true,
                    "show_resource_list": true,
                    "size_format": "medium",
                    "display_format": "two_column",
                }}),
                timeseries(
                    "Requests and errors (APM)",
                    &[
                        (&format!("sum:trace.{op}.hits{{{apm}}}.as_count()"), "bars"),
                        (&format!("sum:trace.{op}.errors{{{apm}}}.as_count()"), "bars"),
                    ],
                ),
                timeseries(
                    "Latency p50 / p95 / p99 (APM, seconds)",
                    &[
                        (&format!("p50:trace.{op}{{{apm}}}"), "line"),
                        (&format!("p95:trace.{op}{{{apm}}}"), "line"),
                        (&format!("p99:trace.{op}{{{apm}}}"), "line"),
                    ],
                ),
            ],
        ),
        group(
            "Load balancer",
            vec![
                timeseries(
                    "Requests",
                    &[(
                        &format!("sum:aws.applicationelb.request_count{{{alb}}}.as_count()"),
                        "bars",
                    )],
                ),
                timeseries(
                    "Target 5xx and ELB 5xx",
                    &[
                        (
                            &format!(
                                "sum:aws.applicationelb.httpcode_target_5xx{{{alb}}}.as_count()"
                            ),
                            "bars",
                        ),
                        (
                            "sum:aws.applicationelb.httpcode_elb_5xx{loadbalancer:${Alb}}.as_count()",
                            "bars",
                        ),
                    ],
                ),
                timeseries(
                    "Target response time p50 / p95 / p99 (seconds)",
                    &[
                        (
                            &format!("avg:aws.applicationelb.target_response_time.p50{{{alb}}}"),
                            "line",
                        ),
                        (
                            &format!("avg:aws.applicationelb.target_response_time.p95{{{alb}}}"),
                            "line",
                        ),
                        (
                            &format!("avg:aws.applicationelb.target_response_time.p99{{{alb}}}"),
                            "line",
                        ),
                    ],
                ),
                timeseries(
                    "Healthy / unhealthy targets",
                    &[
                        (
                            &format!("min:aws.applicationelb.healthy_host_count{{{alb}}}"),
                            "line",
                        ),
                        (
                            &format!("max:aws.applicationelb.un_healthy_host_count{{{alb}}}"),
                            "line",
                        ),
                    ],
                ),
            ],
        ),
        group(
            "ECS service",
            vec![
                timeseries(
                    "CPU and memory utilization (%)",
                    &[
                        (
                            &format!("avg:aws.ecs.service.cpuutilization{{{ecs}}}"),
                            "line",
                        ),
                        (
                            &format!("avg:aws.ecs.service.memory_utilization{{{ecs}}}"),
                            "line",
                        ),
                    ],
                ),
                json!({ "definition": {
                    "type": "query_value",
                    "title": "Running tasks",
                    "precision": 0,
                    "autoscale": false,
                    "requests": [{
                        "q": format!("avg:aws.ecs.service.running{{{ecs}}}"),
                        "aggregator": "last",
                        "conditional_formats": [
                            { "comparator": "<", "value": w.desired_count, "palette": "white_on_red" },
                            { "comparator": ">=", "value": w.desired_count, "palette": "white_on_green" },
                        ],
                    }],
                }}),
                timeseries(
                    "Running / desired tasks",
                    &[
                        (&format!("avg:aws.ecs.service.running{{{ecs}}}"), "line"),
                        (&format!("avg:aws.ecs.service.desired{{{ecs}}}"), "line"),
                    ],
                ),
            ],
        ),
    ];
    if w.distribution_id.is_some() {
        let cf = "distributionid:${Distribution}";
        groups.push(group(
            "CloudFront",
            vec![
                timeseries(
                    "Requests",
                    &[(
                        &format!("sum:aws.cloudfront.requests{{{cf}}}.as_count()"),
                        "bars",
                    )],
                ),
                timeseries(
                    "Error rate 4xx / 5xx (%)",
                    &[
                        (
                            &format!("avg:aws.cloudfront.4xx_error_rate{{{cf}}}"),
                            "line",
                        ),
                        (
                            &format!("avg:aws.cloudfront.5xx_error_rate{{{cf}}}"),
                            "line",
                        ),
                    ],
                ),
            ],
        ));
    }
    groups.push(group(
        "Logs",
        vec![json!({ "definition": {
            "type": "log_stream",
            "title": "Errors",
            "query": format!("env:{} service:{} status:error", w.env, w.service),
            "indexes": [],
            "columns": ["host", "service"],
            "show_date_column": true,
            "show_message_column": true,
            "message_display": "expanded-md",
            "sort": { "column": "time", "order": "desc" },
        }})],
    ));

    json!({
        "title": title,
        "description": format!(
            "Requests, errors, latency, capacity and logs of {} (env:{}). Managed by pantri: \
             edits in the Datadog UI are overwritten on deploy.",
            w.service, w.env
        ),
        "layout_type": "ordered",
        "tags": [format!("team:{}", w.team)],
        "widgets": groups,
    })
}
