//! Deploy, status and drift around the change sets, through the scripted fake: the service
//! check after a deploy, exports kept for one more deploy, drift in the preview, environment
//! parameters, the service role and the stack policy of a protected stack.

use std::collections::{BTreeMap, VecDeque};

use clap::Parser;
use serde_json::json;

use super::args::{DriftArgs, StatusArgs};
use super::run::{drift_with, status_with};
use super::tests::{bucket_template, deploy, stack};
use crate::deploy::api::StackResource;
use crate::deploy::drift::{LastDrift, PropertyDifference, ResourceDrift};
use crate::deploy::exports::Export;
use crate::deploy::fake::Fake;
use crate::deploy::progress::NoConfirm;
use crate::deploy::service_status::{Deployment, ServiceInfo, StoppedTask, TargetHealth};
use crate::exit::Exit;

const TD_OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/pantri-dev:7";
const TD_NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/pantri-dev:8";
const SERVICE_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/pantri-dev/pantri-service";

fn service_template() -> serde_json::Value {
    json!({"Resources": {
        "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": []}},
        "Service": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": {"Ref": "Task"}}}
    }})
}

fn deployment(status: &str, td: &str, rollout: &str, reason: &str, running: i32) -> Deployment {
    Deployment {
        id: format!("ecs-svc/{running}"),
        status: status.into(),
        task_definition: td.into(),
        rollout_state: Some(rollout.into()),
        rollout_reason: Some(reason.into()),
        desired: 2,
        running,
        failed_tasks: 0,
    }
}

fn service_info(td: &str, deployments: Vec<Deployment>) -> ServiceInfo {
    ServiceInfo {
        arn: SERVICE_ARN.into(),
        name: "pantri-service".into(),
        status: "ACTIVE".into(),
        task_definition: td.into(),
        desired: 2,
        running: 2,
        deployments,
        target_groups: vec![
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/pantri-dev/1".into(),
        ],
        events: Vec::new(),
    }
}

/// The fake with the Service stack's resources and ECS answering `answers` in turn.
fn with_service(answers: Vec<ServiceInfo>) -> Fake {
    let fake = Fake::default();
    {
        let mut s = fake.state();
        s.resources.insert(
            "dev-Service".into(),
            vec![
                StackResource {
                    logical_id: "Service".into(),
                    physical_id: Some(SERVICE_ARN.into()),
                    resource_type: "AWS::ECS::Service".into(),
                    status: "UPDATE_COMPLETE".into(),
                },
                StackResource {
                    logical_id: "Task".into(),
                    physical_id: Some(TD_NEW.into()),
                    resource_type: "AWS::ECS::TaskDefinition".into(),
                    status: "UPDATE_COMPLETE".into(),
                },
            ],
        );
        s.services
            .insert("pantri-service".into(), VecDeque::from(answers));
    }
    fake
}

#[tokio::test]
async fn a_deploy_whose_service_was_rolled_back_fails_with_the_reasons() {
    // GIVEN CloudFormation completes the Service stack, but ECS rolled the new task definition back
    let fake = with_service(vec![service_info(
        TD_OLD,
        vec![
            deployment("PRIMARY", TD_OLD, "COMPLETED", "completed", 2),
            deployment(
                "ACTIVE",
                TD_NEW,
                "FAILED",
                "ECS deployment circuit breaker: tasks failed to start.",
                0,
            ),
        ],
    )]);
    {
        let mut s = fake.state();
        s.stopped.push(StoppedTask {
            arn: "arn:aws:ecs:us-east-1:123456789012:task/pantri-dev/abc".into(),
            task_definition: TD_NEW.into(),
            stopped_reason: Some(
                "CannotPullContainerError: pull image manifest has been retried 5 time(s)".into(),
            ),
            containers: Vec::new(),
            stopped_at: "2024-05-01T12:00:00Z".into(),
        });
        s.targets.push(TargetHealth {
            id: "10.0.2.14".into(),
            port: Some(3000),
            state: "unhealthy".into(),
            reason: Some("Target.FailedHealthChecks".into()),
            description: None,
        });
    }
    // WHEN it deploys
    let run = deploy(
        &fake,
        &[stack("Service", "us-east-1", service_template(), &[])],
        "dev --service-timeout 1",
        &NoConfirm,
    )
    .await;
    // THEN the deploy fails, saying the rollback, the stopped task's reason and the targets' health
    assert_eq!(run.exit, Exit::Failed, "{}\n{}", run.out, run.err);
    assert!(run.out.contains("dev/Service: deployed"), "{}", run.out);
    assert!(run.err.contains("was rolled back: it runs pantri-dev:7 instead of pantri-dev:8: ECS deployment circuit breaker: tasks failed to start."), "{}", run.err);
    assert!(run.err.contains("CannotPullContainerError"), "{}", run.err);
    assert!(
        run.err
            .contains("10.0.2.14:3000 unhealthy (Target.FailedHealthChecks)"),
        "{}",
        run.err
    );
    assert!(
        run.err
            .contains("error: [dev/Service] service pantri-service did not come up"),
        "{}",
        run.err
    );
}

#[tokio::test]
async fn a_deploy_waits_for_the_service_to_settle_and_succeeds() {
    let fake = with_service(vec![
        service_info(
            TD_NEW,
            vec![
                deployment("PRIMARY", TD_NEW, "IN_PROGRESS", "in progress", 1),
                deployment("ACTIVE", TD_OLD, "COMPLETED", "completed", 1),
            ],
        ),
        service_info(
            TD_NEW,
            vec![deployment("PRIMARY", TD_NEW, "COMPLETED", "completed", 2)],
        ),
    ]);
    let run = deploy(
        &fake,
        &[stack("Service", "us-east-1", service_template(), &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(
        run.out.contains("waiting for ECS to reach a steady state"),
        "{}",
        run.out
    );
    assert!(
        run.out.contains(
            "dev/Service: service pantri-service (Service, cluster pantri-dev) is steady"
        ),
        "{}",
        run.out
    );
}

#[derive(Parser)]
enum Cmd {
    Status(StatusArgs),
    Drift(DriftArgs),
}

#[tokio::test]
async fn status_reports_each_stack_and_exits_1_when_a_service_is_not_steady() {
    let stacks = [
        stack("Service", "us-east-1", service_template(), &[]),
        stack("Data", "us-east-1", bucket_template(), &[]),
    ];
    let fake = with_service(vec![service_info(
        TD_NEW,
        vec![deployment(
            "PRIMARY",
            TD_NEW,
            "FAILED",
            "tasks failed ELB health checks",
            0,
        )],
    )])
    .with_stack("dev-Service", "UPDATE_COMPLETE", "{}");
    let clients: BTreeMap<String, Fake> = [("us-east-1".to_owned(), fake.clone())].into();
    let Cmd::Status(args) = Cmd::parse_from(["x", "status", "dev", "--poll-interval-ms", "1"])
    else {
        unreachable!()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = status_with(&args, &stacks, &clients, &mut out, &mut err).await;
    let (out, err) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&err));
    assert_eq!(exit, Exit::Failed, "{out}{err}");
    assert!(
        err.contains("failed to deploy: tasks failed ELB health checks"),
        "{err}"
    );
    assert!(out.contains("dev/Data: no ECS services"), "{out}");

    let steady = with_service(vec![service_info(
        TD_NEW,
        vec![deployment("PRIMARY", TD_NEW, "COMPLETED", "completed", 2)],
    )])
    .with_stack("dev-Service", "UPDATE_COMPLETE", "{}");
    let clients: BTreeMap<String, Fake> = [("us-east-1".to_owned(), steady)].into();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = status_with(&args, &stacks, &clients, &mut out, &mut err).await;
    assert_eq!(exit, Exit::Success, "{}", String::from_utf8_lossy(&err));
    assert!(String::from_utf8_lossy(&out).contains("is steady"));
}

#[tokio::test]
async fn drift_reports_property_differences_and_exits_1_when_drifted() {
    let stacks = [stack("Data", "us-east-1", bucket_template(), &[])];
    let fake = Fake::default().with_stack(
        "dev-Data",
        "UPDATE_COMPLETE",
        &bucket_template().to_string(),
    );
    {
        let mut s = fake.state();
        s.drift.insert(
            "dev-Data".into(),
            LastDrift {
                status: "DRIFTED".into(),
                checked_at: None,
            },
        );
        s.resource_drifts.insert(
            "dev-Data".into(),
            vec![ResourceDrift {
                logical_id: "Bucket".into(),
                physical_id: Some("dev-data-bucket".into()),
                resource_type: "AWS::S3::Bucket".into(),
                status: "MODIFIED".into(),
                differences: vec![PropertyDifference {
                    path: "/VersioningConfiguration/Status".into(),
                    expected: "Enabled".into(),
                    actual: "Suspended".into(),
                    kind: "NOT_EQUAL".into(),
                }],
            }],
        );
    }
    let clients: BTreeMap<String, Fake> = [("us-east-1".to_owned(), fake.clone())].into();
    let Cmd::Drift(args) = Cmd::parse_from(["x", "drift", "dev", "--poll-interval-ms", "1"]) else {
        unreachable!()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = drift_with(&args, &stacks, &clients, &mut out, &mut err).await;
    let out = String::from_utf8_lossy(&out);
    assert_eq!(exit, Exit::Failed, "{out}");
    assert!(out.contains("dev/Data: drifted (1 resource(s))"), "{out}");
    assert!(
        out.contains("/VersioningConfiguration/Status: expected Enabled, actual Suspended"),
        "{out}"
    );
    assert!(fake
        .calls()
        .iter()
        .any(|c| c == "DetectStackDrift dev-Data"));

    // AND deploy's preview warns about it without starting a detection
    let before = fake.calls().len();
    let run = deploy(&fake, &[stack("Data", "us-east-1", json!({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": "x"}}}}), &[])], "dev --yes", &NoConfirm).await;
    assert!(
        run.err
            .contains("dev/Data: warning: the stack had drifted when last checked"),
        "{}",
        run.err
    );
    assert!(!fake.calls()[before..]
        .iter()
        .any(|c| c.starts_with("DetectStackDrift")));
}

#[tokio::test]
async fn a_dropped_export_still_imported_is_deployed_kept_and_said() {
    let export = "dev-Network:ExportsOutputRefVpc";
    let old = json!({"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}},
        "Outputs": {"ExportsOutputRefVpc": {"Value": {"Ref": "Vpc"}, "Export": {"Name": export}}}});
    let new = json!({"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}});
    let fake = Fake::default().with_stack("dev-Network", "UPDATE_COMPLETE", &old.to_string());
    {
        let mut s = fake.state();
        s.exports.push(Export {
            name: export.into(),
            value: "vpc-123".into(),
            exporting_stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/dev-Network/1"
                .into(),
        });
        s.imports
            .insert(export.into(), Ok(vec!["dev-Service".into()]));
    }
    let run = deploy(
        &fake,
        &[stack("Network", "us-east-1", new, &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert!(run.out.contains("dev/Network: keeping export dev-Network:ExportsOutputRefVpc (imported by dev-Service) for one more deploy"), "{}", run.out);
    let state = fake.state();
    let sent: serde_json::Value = serde_json::from_str(&state.requests[0].template_body).unwrap();
    assert_eq!(
        sent["Outputs"]["ExportsOutputRefVpc"]["Value"],
        json!("vpc-123")
    );
    assert_eq!(
        sent["Outputs"]["ExportsOutputRefVpc"]["Export"]["Name"],
        json!(export)
    );
}

#[tokio::test]
async fn environment_parameters_are_checked_before_any_change_set() {
    let mut s = stack(
        "Data",
        "us-east-1",
        json!({"Parameters": {"Key": {"Type": "String"}}, "Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"K": {"Value": {"Ref": "Key"}}}}),
        &[],
    );
    s.env_parameters.push(pantri_synth::assembly::EnvParameter {
        parameter: "Key".into(),
        variable: "AWS_SESSION_TOKEN".into(),
    });
    let fake = Fake::default();
    let run = deploy(&fake, &[s], "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Usage, "{}", run.err);
    assert!(
        run.err
            .contains("AWS_SESSION_TOKEN, a variable of the AWS credential chain"),
        "{}",
        run.err
    );
    assert!(run.err.contains("is not NoEcho"), "{}", run.err);
    assert!(
        run.err.contains("output K echoes parameter Key"),
        "{}",
        run.err
    );
    assert!(
        fake.state().requests.is_empty(),
        "no change set was created"
    );
}

#[tokio::test]
async fn role_arn_runs_the_change_set_as_the_service_role() {
    let fake = Fake::default();
    let run = deploy(
        &fake,
        &[stack("Data", "us-east-1", bucket_template(), &[])],
        "dev --role-arn arn:aws:iam::123456789012:role/cfn-exec",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert_eq!(
        fake.state().requests[0].role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/cfn-exec")
    );
}

#[tokio::test]
async fn a_protected_stack_gets_a_policy_denying_replacement_of_its_stateful_resources() {
    // GIVEN prod's Data: termination-protected, with a retained bucket and a topic
    let template = json!({"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t2"}}
    }});
    let mut s = stack("Data", "us-east-1", template, &[]);
    s.properties.termination_protection = true;
    let fake = Fake::default().with_stack(
        "dev-Data",
        "UPDATE_COMPLETE",
        &bucket_template().to_string(),
    );
    // WHEN it deploys, and again with --allow-replace Bucket
    let run = deploy(&fake, std::slice::from_ref(&s), "dev --yes", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let policies = fake.state().policies.clone();
    // THEN the policy is set before the execution and again after it, denying Bucket's replacement
    assert_eq!(policies.len(), 2, "{policies:?}");
    for (_, p) in &policies {
        let p: serde_json::Value = serde_json::from_str(p).unwrap();
        assert_eq!(
            p["Statement"][1]["Resource"],
            json!(["LogicalResourceId/Bucket"])
        );
        assert_eq!(
            p["Statement"][1]["Action"],
            json!(["Update:Replace", "Update:Delete"])
        );
    }
    let calls = fake.calls();
    let exec = calls
        .iter()
        .position(|c| c.starts_with("ExecuteChangeSet"))
        .unwrap();
    let sets: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with("SetStackPolicy"))
        .map(|(i, _)| i)
        .collect();
    assert!(sets[0] < exec && sets[1] > exec, "{calls:?}");

    fake.state().policies.clear();
    s.template["Resources"]["Topic"]["Properties"]["TopicName"] = json!("t3");
    let run = deploy(
        &fake,
        std::slice::from_ref(&s),
        "dev --yes --allow-replace Bucket",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(
        run.out
            .contains("stack policy relaxed for this execution: --allow-replace Bucket"),
        "{}",
        run.out
    );
    let policies = fake.state().policies.clone();
    let during: serde_json::Value = serde_json::from_str(&policies[0].1).unwrap();
    assert_eq!(
        during["Statement"].as_array().unwrap().len(),
        1,
        "nothing denied during: {during}"
    );
    let after: serde_json::Value = serde_json::from_str(&policies[1].1).unwrap();
    assert_eq!(
        after["Statement"][1]["Resource"],
        json!(["LogicalResourceId/Bucket"]),
        "protected again after"
    );
}
