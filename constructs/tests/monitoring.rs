//! Monitoring constructs: Datadog monitors, dashboard and integration, CloudWatch alarms.
//!
//! Every template synthesized here is also written to `$PANTRI_LINT_OUT/<test>/` when that
//! variable is set, so `scripts/lint-templates` can check exactly what the tests produce.

use pantri_constructs::monitoring::datadog_monitors::Level;
use pantri_constructs::monitoring::{
    alarms, datadog_dashboard, datadog_integration, datadog_monitors, DatadogDashboardProps,
    DatadogIntegrationProps, DatadogMonitorsProps, MonitorThresholds, ServiceAlarmsProps, Workload,
};
use pantri_constructs::testing::{app_with_stack, errors, resources_of_type, template};
use pantri_constructs::{Naming, Removal};
use pantri_synth::{fns, App};
use serde_json::Value;

const ALB: &str = "app/pantri-prod/50dc6c495c0c9188";
const TG: &str = "targetgroup/pantri-prod/73e2d6bc24d8a067";

fn synth(app: &App, name: &str) -> Value {
    if let Ok(dir) = std::env::var("PANTRI_LINT_OUT") {
        let s = pantri_synth::synthesize(app, &Default::default()).expect("synth");
        s.assembly
            .write(&std::path::Path::new(&dir).join(name))
            .expect("write assembly");
    }
    template(app)
}

/// Stage `stage` of app `pantri`.
fn naming(stage: &str) -> Naming {
    Naming::new("pantri", stage).expect("a valid stage")
}

/// The prod workload with literal names.
fn workload() -> Workload {
    Workload {
        naming: naming("prod"),
        env: "prod".into(),
        service: "pantri".into(),
        team: "platform".into(),
        cluster_name: "pantri-prod".into(),
        service_name: "pantri-prod".into(),
        alb_full_name: ALB.into(),
        target_group_full_name: TG.into(),
        distribution_id: Some("E2QWRUHAPOMQZL".into()),
        desired_count: 2,
    }
}

/// The dev workload with names imported from the service stack (deploy-time values).
fn imported_workload() -> Workload {
    Workload {
        naming: naming("dev"),
        env: "dev".into(),
        cluster_name: fns::import_value("pantri-dev-ClusterName"),
        service_name: fns::import_value("pantri-dev-ServiceName"),
        alb_full_name: fns::import_value("pantri-dev-AlbFullName"),
        target_group_full_name: fns::import_value("pantri-dev-TargetGroupFullName"),
        distribution_id: None,
        desired_count: 1,
        ..workload()
    }
}

fn notify() -> Vec<String> {
    vec!["@slack-pantri-alerts".into(), "@pagerduty-pantri".into()]
}

/// A string property that is a literal or an `Fn::Sub`, with deploy-time variables replaced by
/// `<Name>` so it can be read as text.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) if m.contains_key("Fn::Sub") => match &m["Fn::Sub"] {
            Value::String(s) => s.clone(),
            Value::Array(a) => a[0].as_str().expect("sub template").to_owned(),
            other => panic!("unexpected Fn::Sub {other}"),
        },
        other => panic!("not a string expression: {other}"),
    }
}

// ---------------------------------------------------------------- DatadogMonitors

#[test]
fn monitors_prod_with_literal_names() {
    // GIVEN the prod workload with literal names and two handles
    // WHEN the monitors are added
    let app = app_with_stack("eu-west-1", |s| {
        datadog_monitors::DatadogMonitors::new(
            s,
            "Monitors",
            &workload(),
            &notify(),
            DatadogMonitorsProps::default(),
        );
    });
    // THEN eight monitors, queries written out in full
    let t = synth(&app, "monitors_prod");
    assert_eq!(resources_of_type(&t, "Datadog::Monitors::Monitor").len(), 8);
    insta::assert_json_snapshot!(t);
}

#[test]
fn monitors_dev_with_imported_names_render_with_fn_sub() {
    // GIVEN names imported from another stack
    // WHEN the monitors are added
    let app = app_with_stack("eu-west-1", |s| {
        datadog_monitors::DatadogMonitors::new(
            s,
            "Monitors",
            &imported_workload(),
            &notify(),
            DatadogMonitorsProps::default(),
        );
    });
    let t = synth(&app, "monitors_dev");
    // THEN queries that embed them are Fn::Sub with the imports as variables
    let cpu = resources_of_type(&t, "Datadog::Monitors::Monitor")
        .into_iter()
        .find(|(_, r)| text(&r["Properties"]["Query"]).contains("cpuutilization"))
        .expect("cpu monitor")
        .1;
    let sub = &cpu["Properties"]["Query"]["Fn::Sub"];
    assert!(sub[0].as_str().unwrap().contains("clustername:${Cluster}"));
    assert_eq!(
        sub[1]["Cluster"],
        serde_json::json!({"Fn::ImportValue": "pantri-dev-ClusterName"})
    );
    insta::assert_json_snapshot!(t);
}

#[test]
fn every_monitor_query_is_scoped_to_the_stage() {
    // GIVEN the prod monitors
    let app = app_with_stack("eu-west-1", |s| {
        datadog_monitors::DatadogMonitors::new(
            s,
            "Monitors",
            &workload(),
            &notify(),
            DatadogMonitorsProps::default(),
        );
    });
    let t = template(&app);
    // THEN every query filters on env+service (APM) or on this stage's own resources (AWS)
    for (id, m) in resources_of_type(&t, "Datadog::Monitors::Monitor") {
        let q = text(&m["Properties"]["Query"]);
        let apm = q.contains("{env:prod,service:pantri}");
        let alb = q.contains(&format!("{{loadbalancer:{ALB},targetgroup:{TG}}}"));
        let ecs = q.contains("{clustername:pantri-prod,servicename:pantri-prod}");
        assert!(apm || alb || ecs, "{id}: unscoped query {q}");
        assert!(!q.contains("{*}"), "{id}: {q}");
        let tags = &m["Properties"]["Tags"];
        for tag in ["env:prod", "service:pantri", "team:platform"] {
            assert!(
                tags.as_array().unwrap().iter().any(|t| t == tag),
                "{id}: {tag}"
            );
        }
        assert!(
            text(&m["Properties"]["Name"]).starts_with("[pantri-prod] "),
            "{id}"
        );
    }
}

#[test]
fn every_monitor_notifies_the_handles_and_has_a_runbook() {
    let app = app_with_stack("eu-west-1", |s| {
        datadog_monitors::DatadogMonitors::new(
            s,
            "Monitors",
            &workload(),
            &notify(),
            DatadogMonitorsProps::default(),
        );
    });
    let t = template(&app);
    for (id, m) in resources_of_type(&t, "Datadog::Monitors::Monitor") {
        let message = text(&m["Properties"]["Message"]);
        for handle in notify() {
            assert!(message.contains(&handle), "{id} does not notify {handle}");
        }
        assert!(message.contains("Runbook: "), "{id}");
        let p = &m["Properties"];
        assert!(p["Priority"].is_u64(), "{id}");
        assert!(p["Options"]["Thresholds"]["Critical"].is_number(), "{id}");
    }
}

#[test]
fn threshold_monitors_warn_before_they_alert_and_running_tasks_notify_on_no_data() {
    let app = app_with_stack("eu-west-1", |s| {
        datadog_monitors::DatadogMonitors::new(
            s,
            "Monitors",
            &workload(),
            &notify(),
            DatadogMonitorsProps::default(),
        );
    });
    let t = template(&app);
    let monitors = resources_of_type(&t, "Datadog::Monitors::Monitor");
    let by_name = |part: &str| {
        monitors
            .iter()
            .find(|(_, m)| text(&m["Properties"]["Name"]).contains(part))
            .unwrap_or_else(|| panic!("{part}"))
            .1["Properties"]
            .clone()
    };
    let error_rate = by_name("5xx");
    assert_eq!(error_rate["Options"]["Thresholds"]["Critical"], 5.0);
    assert_eq!(error_rate["Options"]["Thresholds"]["Warning"], 2.0);
    assert!(text(&error_rate["Query"]).ends_with("* 100 > 5"));
    let latency = by_name("p95 latency");
    assert!(text(&latency["Query"]).ends_with("> 1.5"));
    let running = by_name("fewer tasks");
    assert!(text(&running["Query"]).ends_with("< 2"));
    assert_eq!(running["Options"]["NotifyNoData"], true);
    assert_eq!(running["Priority"], 1);
    let anomaly = by_name("request rate is abnormal");
    assert!(text(&anomaly["Query"])
        .contains("anomalies(sum:trace.web.request.hits{env:prod,service:pantri}"));
    assert_eq!(
        anomaly["Options"]["ThresholdWindows"]["TriggerWindow"],
        "last_15m"
    );
}

#[test]
fn bad_monitor_props_are_errors_naming_the_construct() {
    // GIVEN a warning above critical, a desired count of 0, an empty notify list, a bad handle
    let app = app_with_stack("eu-west-1", |s| {
        datadog_monitors::DatadogMonitors::new(
            s,
            "Monitors",
            &Workload {
                desired_count: 0,
                ..workload()
            },
            &["slack-pantri".into()],
            DatadogMonitorsProps {
                thresholds: MonitorThresholds {
                    cpu_percent: Level::new(70.0, 85.0),
                    ..MonitorThresholds::default()
                },
                ..DatadogMonitorsProps::default()
            },
        );
        datadog_monitors::DatadogMonitors::new(
            s,
            "Silent",
            &workload(),
            &[],
            DatadogMonitorsProps::default(),
        );
    });
    // THEN each is an error at the construct's path that says what to do
    let errs = errors(&app);
    let has = |prefix: &str, part: &str| {
        assert!(
            errs.iter()
                .any(|e| e.starts_with(prefix) && e.contains(part)),
            "no {prefix} ... {part} in {errs:#?}"
        )
    };
    has(
        "[test/Stack/Monitors] ",
        "thresholds.cpu_percent.warning 85 is not below critical 70",
    );
    has("[test/Stack/Monitors] ", "desired_count 0");
    has("[test/Stack/Monitors] ", "notify handle \"slack-pantri\"");
    has("[test/Stack/Silent] ", "notify is empty");
}

#[test]
fn missing_load_balancer_names_are_errors() {
    let app = app_with_stack("eu-west-1", |s| {
        datadog_monitors::DatadogMonitors::new(
            s,
            "Monitors",
            &Workload {
                env: "Prod".into(),
                alb_full_name: "".into(),
                target_group_full_name: "".into(),
                ..workload()
            },
            &notify(),
            DatadogMonitorsProps::default(),
        );
    });
    let errs = errors(&app);
    assert!(errs
        .iter()
        .any(|e| e.starts_with("[test/Stack/Monitors] alb_full_name \"\"")));
    assert!(errs
        .iter()
        .any(|e| e.starts_with("[test/Stack/Monitors] target_group_full_name")));
    assert!(errs
        .iter()
        .any(|e| e.starts_with("[test/Stack/Monitors] env \"Prod\"")));
}

// ---------------------------------------------------------------- DatadogDashboard

fn dashboard_definition(t: &Value) -> Value {
    let (_, d) = resources_of_type(t, "Datadog::Dashboards::Dashboard")
        .pop()
        .expect("one dashboard");
    d["Properties"]["DashboardDefinition"].clone()
}

#[test]
fn dashboard_prod_with_cloudfront() {
    // GIVEN the prod workload behind CloudFront
    // WHEN the dashboard is added
    let app = app_with_stack("eu-west-1", |s| {
        datadog_dashboard::DatadogDashboard::new(
            s,
            "Dashboard",
            &workload(),
            DatadogDashboardProps {
                ..DatadogDashboardProps::default()
            },
        );
    });
    let t = synth(&app, "dashboard_prod");
    // THEN its definition is JSON with every group, CloudFront included
    let def: Value = serde_json::from_str(dashboard_definition(&t).as_str().expect("literal"))
        .expect("definition is JSON");
    let groups: Vec<&str> = def["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["definition"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        [
            "Application (APM)",
            "Load balancer",
            "ECS service",
            "CloudFront",
            "Logs"
        ]
    );
    assert!(def.to_string().contains("distributionid:E2QWRUHAPOMQZL"));
    insta::assert_json_snapshot!(t);
}

#[test]
fn dashboard_with_deploy_time_names_parses_after_substitution() {
    // GIVEN names imported from another stack
    let app = app_with_stack("eu-west-1", |s| {
        datadog_dashboard::DatadogDashboard::new(
            s,
            "Dashboard",
            &imported_workload(),
            DatadogDashboardProps {
                ..DatadogDashboardProps::default()
            },
        );
    });
    let t = synth(&app, "dashboard_dev");
    // THEN the definition is an Fn::Sub whose variables are exactly the names it uses
    let sub = dashboard_definition(&t)["Fn::Sub"].clone();
    let mut text = sub[0].as_str().expect("template").to_owned();
    let vars = sub[1].as_object().expect("variables");
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    assert_eq!(names, ["Alb", "Cluster", "EcsService", "TargetGroup"]);
    // AND substituting sample values gives valid JSON that names them
    for (name, sample) in [
        ("Alb", ALB),
        ("TargetGroup", TG),
        ("Cluster", "pantri-dev"),
        ("EcsService", "pantri-dev"),
    ] {
        text = text.replace(&format!("${{{name}}}"), sample);
    }
    assert!(!text.contains("${"), "unsubstituted variable in {text}");
    let def: Value = serde_json::from_str(&text).expect("definition is JSON");
    assert!(def.to_string().contains(&format!("loadbalancer:{ALB}")));
    assert!(!def.to_string().contains("CloudFront"));
    insta::assert_json_snapshot!(t);
}

// ---------------------------------------------------------------- DatadogIntegration

fn integration_template() -> Value {
    let app = app_with_stack("eu-west-1", |s| {
        datadog_integration::DatadogIntegration::new(
            s,
            "Datadog",
            &naming("prod"),
            DatadogIntegrationProps::default(),
        );
    });
    synth(&app, "integration")
}

#[test]
fn integration_snapshot() {
    // GIVEN the default props in eu-west-1
    // WHEN the integration is added
    let t = integration_template();
    // THEN metrics come from this region and us-east-1 (CloudFront), of four namespaces only
    let (_, i) = resources_of_type(&t, "Datadog::Integrations::AWSAccount")
        .pop()
        .expect("integration");
    assert_eq!(
        i["Properties"]["AWSRegions"]["IncludeOnly"],
        serde_json::json!(["eu-west-1", "us-east-1"])
    );
    assert_eq!(
        i["Properties"]["MetricsConfig"]["NamespaceFilters"]["IncludeOnly"],
        serde_json::json!(["AWS/ECS", "AWS/ApplicationELB", "AWS/CloudFront", "AWS/S3"])
    );
    insta::assert_json_snapshot!(t);
}

#[test]
fn integration_role_is_read_only_and_requires_the_external_id() {
    let t = integration_template();
    let (_, role) = resources_of_type(&t, "AWS::IAM::Role").pop().expect("role");
    // The trust: Datadog's account, only with the external id Datadog generated.
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        trust["Principal"]["AWS"],
        serde_json::json!({"Fn::Sub": "arn:${AWS::Partition}:iam::464622532012:root"})
    );
    assert_eq!(trust["Action"], "sts:AssumeRole");
    let external_id = trust["Condition"]["StringEquals"]["sts:ExternalId"]
        .as_str()
        .expect("external id condition");
    assert_eq!(
        external_id,
        "{{resolve:secretsmanager:DatadogIntegrationExternalID:SecretString:external_id::}}"
    );
    // The role is created after the integration, which creates that secret.
    let (integration_id, _) = resources_of_type(&t, "Datadog::Integrations::AWSAccount")
        .pop()
        .expect("integration");
    assert_eq!(role["DependsOn"], serde_json::json!([integration_id]));
    // No action is "*" or "service:*"; every action is a read. The one Deny keeps the
    // distributions (and the origin secret in their config) out of reach.
    for policy in role["Properties"]["Policies"].as_array().unwrap() {
        for st in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            if st["Effect"] == "Deny" {
                assert_eq!(st["Sid"], "NoDistributionConfigs");
                continue;
            }
            assert_eq!(st["Effect"], "Allow");
            let actions: Vec<&str> = match &st["Action"] {
                Value::String(a) => vec![a.as_str()],
                Value::Array(a) => a.iter().map(|a| a.as_str().unwrap()).collect(),
                other => panic!("{other}"),
            };
            for a in actions {
                let (_, verb) = a.split_once(':').expect("service:action");
                assert!(a != "*" && verb != "*", "wildcard action {a}");
                assert!(
                    ["Get", "List", "Describe"]
                        .iter()
                        .any(|p| verb.starts_with(p)),
                    "not a read: {a}"
                );
            }
        }
    }
}

#[test]
fn bad_integration_props_are_errors() {
    let app = app_with_stack("eu-west-1", |s| {
        datadog_integration::DatadogIntegration::new(
            s,
            "Datadog",
            &naming("prod"),
            DatadogIntegrationProps {
                datadog_account_id: "4646".into(),
                role_name: Some("datadog role".into()),
                namespaces: Vec::new(),
                ..DatadogIntegrationProps::default()
            },
        );
    });
    let errs = errors(&app);
    for part in [
        "datadog_account_id \"4646\"",
        "role_name \"datadog role\"",
        "namespaces is empty",
    ] {
        assert!(
            errs.iter()
                .any(|e| e.starts_with("[test/Stack/Datadog] ") && e.contains(part)),
            "{part} in {errs:#?}"
        );
    }
}

// ---------------------------------------------------------------- ServiceAlarms

fn alarms_template() -> Value {
    let app = app_with_stack("eu-west-1", |s| {
        alarms::ServiceAlarms::new(
            s,
            "Alarms",
            &workload(),
            ServiceAlarmsProps {
                alarm_topic_arn: Some(
                    "arn:aws:sns:eu-west-1:123456789012:pantri-prod-alarms".into(),
                ),
                ..ServiceAlarmsProps::default()
            },
        );
    });
    synth(&app, "alarms_topic")
}

#[test]
fn alarms_with_a_topic() {
    // GIVEN the prod workload and an alarm topic
    // WHEN the alarms are added
    let t = alarms_template();
    // THEN one alarm per signal, each notifying the topic on alarm and on recovery
    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    let mut signals: Vec<String> = alarms
        .iter()
        .map(|(_, a)| {
            format!(
                "{}/{}",
                a["Properties"]["Namespace"].as_str().unwrap(),
                a["Properties"]["MetricName"].as_str().unwrap()
            )
        })
        .collect();
    signals.sort();
    assert_eq!(
        signals,
        [
            "AWS/ApplicationELB/HTTPCode_Target_5XX_Count",
            "AWS/ApplicationELB/TargetResponseTime",
            "AWS/ApplicationELB/UnHealthyHostCount",
            "AWS/ECS/CPUUtilization",
            "AWS/ECS/MemoryUtilization",
            "ECS/ContainerInsights/RunningTaskCount",
        ]
    );
    for (id, a) in &alarms {
        let p = &a["Properties"];
        assert_eq!(p["AlarmActions"].as_array().map(Vec::len), Some(1), "{id}");
        assert_eq!(p["OKActions"], p["AlarmActions"], "{id}");
        assert!(p["TreatMissingData"].is_string(), "{id}");
        assert!(text(&p["AlarmDescription"]).contains("Runbook: "), "{id}");
        assert!(
            p["AlarmName"].as_str().unwrap().starts_with("pantri-prod-"),
            "{id}"
        );
    }
    let running = alarms
        .iter()
        .find(|(_, a)| a["Properties"]["MetricName"] == "RunningTaskCount")
        .unwrap()
        .1;
    assert_eq!(
        running["Properties"]["ComparisonOperator"],
        "LessThanThreshold"
    );
    assert_eq!(running["Properties"]["Threshold"], 2.0);
    assert_eq!(running["Properties"]["TreatMissingData"], "breaching");
    insta::assert_json_snapshot!(t);
}

#[test]
fn alarms_without_a_topic_notify_an_encrypted_topic_of_their_own() {
    // GIVEN no topic, two emails, a dev stage that deletes what it creates
    let app = app_with_stack("eu-west-1", |s| {
        alarms::ServiceAlarms::new(
            s,
            "Alarms",
            &imported_workload(),
            ServiceAlarmsProps {
                alarm_emails: vec!["oncall@example.com".into(), "dev@example.com".into()],
                removal: Removal::Destroy,
                ..ServiceAlarmsProps::default()
            },
        );
    });
    // WHEN synthesized
    let t = synth(&app, "alarms_own_topic");
    // THEN a KMS-encrypted topic named for the stage, with the emails subscribed
    let (topic_id, topic) = resources_of_type(&t, "AWS::SNS::Topic")
        .pop()
        .expect("topic");
    let (key_id, key) = resources_of_type(&t, "AWS::KMS::Key").pop().expect("key");
    assert_eq!(topic["Properties"]["TopicName"], "pantri-dev-alarms");
    assert_eq!(
        topic["Properties"]["KmsMasterKeyId"],
        serde_json::json!({"Fn::GetAtt": [key_id, "Arn"]})
    );
    assert_eq!(
        topic["Properties"]["Subscription"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(key["DeletionPolicy"], "Delete");
    // AND CloudWatch may use the key, with no wildcard action
    let statements = key["Properties"]["KeyPolicy"]["Statement"]
        .as_array()
        .unwrap();
    let cw = statements
        .iter()
        .find(|s| s["Principal"]["Service"] == "cloudwatch.amazonaws.com")
        .expect("cloudwatch statement");
    assert_eq!(
        cw["Action"],
        serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey*"])
    );
    // AND every alarm notifies it on alarm and on recovery
    for (id, a) in resources_of_type(&t, "AWS::CloudWatch::Alarm") {
        let arn = serde_json::json!([{"Fn::GetAtt": [topic_id, "TopicArn"]}]);
        assert_eq!(a["Properties"]["AlarmActions"], arn, "{id}");
        assert_eq!(a["Properties"]["OKActions"], arn, "{id}");
    }
    insta::assert_json_snapshot!(t);
}

#[test]
fn bad_alarm_props_are_errors() {
    let app = app_with_stack("eu-west-1", |s| {
        alarms::ServiceAlarms::new(
            s,
            "Alarms",
            &Workload {
                desired_count: 0,
                ..workload()
            },
            ServiceAlarmsProps {
                datapoints_to_alarm: 6,
                alarm_topic_arn: Some("arn:aws:sns:eu-west-1:123456789012:alarms".into()),
                alarm_emails: vec!["oncall".into()],
                ..ServiceAlarmsProps::default()
            },
        );
    });
    let errs = errors(&app);
    for part in [
        "desired_count 0",
        "datapoints_to_alarm 6 must be from 1 to evaluation_minutes 5",
    ] {
        assert!(
            errs.iter()
                .any(|e| e.starts_with("[test/Stack/Alarms] ") && e.contains(part)),
            "{part} in {errs:#?}"
        );
    }
}

#[test]
fn alarms_reach_datadog_through_its_sns_intake_and_a_topic_nobody_reads_is_a_warning() {
    use pantri_constructs::monitoring::AlarmsToDatadog;
    use pantri_constructs::SecretRef;
    use pantri_synth::{synthesize, SynthOptions};
    // GIVEN alarms whose topic Datadog subscribes to (a regional site)
    let app = app_with_stack("eu-west-1", |s| {
        alarms::ServiceAlarms::new(
            s,
            "Alarms",
            &workload(),
            ServiceAlarmsProps {
                datadog: Some(AlarmsToDatadog {
                    site: "us5.datadoghq.com".into(),
                    api_key_secret: SecretRef {
                        arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dd".into(),
                        name: "pantri/prod/datadog-api-key".into(),
                    },
                }),
                ..ServiceAlarmsProps::default()
            },
        );
    });
    // WHEN synthesized
    let t = template(&app);
    // THEN the topic has one HTTPS subscription to the site's intake, the key by reference
    let (_, topic) = resources_of_type(&t, "AWS::SNS::Topic")
        .pop()
        .expect("topic");
    let subs = topic["Properties"]["Subscription"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(subs[0]["Protocol"], "https");
    let endpoint = subs[0]["Endpoint"].to_string();
    assert!(
        endpoint.contains("https://us5.datadoghq.com/intake/webhook/sns?api_key=")
            && endpoint
                .contains("{{resolve:secretsmanager:pantri/prod/datadog-api-key:SecretString:::}}"),
        "{endpoint}"
    );

    // GIVEN alarms with neither emails nor Datadog
    let silent = app_with_stack("eu-west-1", |s| {
        alarms::ServiceAlarms::new(
            s,
            "Alarms",
            &workload(),
            ServiceAlarmsProps {
                ..ServiceAlarmsProps::default()
            },
        );
    });
    // WHEN synthesized THEN synthesis succeeds with a warning naming the construct
    let synthesis = synthesize(&silent, &SynthOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        synthesis
            .warnings
            .iter()
            .any(|w| w.path == "test/Stack/Alarms" && w.message.contains("notify nobody")),
        "{:?}",
        synthesis.warnings
    );
    // AND with Datadog subscribed there is no such warning
    let synthesis = synthesize(&app, &SynthOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(synthesis.warnings.is_empty(), "{:?}", synthesis.warnings);
}
