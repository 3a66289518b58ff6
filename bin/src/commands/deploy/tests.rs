//! Unit tests of the deploy engine against the scripted fake.

use std::collections::BTreeMap;

use clap::Parser;
use indexmap::IndexMap;
use pantri_synth::assembly::{CrossRegionLink, StackArtifact, StackProperties};
use pantri_synth::Environment;
use serde_json::json;

use super::args::{DeployArgs, DestroyArgs};
use super::run::{deploy_with, destroy_with};
use crate::deploy::api::{ResourceChange, StackResource, TypeStatus};
use crate::deploy::engine::first_failure;
use crate::deploy::error::ApiError;
use crate::deploy::fake::{Execution, Fake};
use crate::deploy::progress::{Confirm, NoConfirm};
use crate::exit::Exit;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    Deploy(Box<DeployArgs>),
    Destroy(DestroyArgs),
}

pub(super) fn deploy_args(line: &str) -> DeployArgs {
    let argv = format!("pantri deploy --progress events --poll-interval-ms 0 {line}");
    match Cli::parse_from(argv.split_whitespace()).cmd {
        Cmd::Deploy(a) => *a,
        Cmd::Destroy(_) => unreachable!(),
    }
}

pub(super) fn destroy_args(line: &str) -> DestroyArgs {
    let argv = format!("pantri destroy --poll-interval-ms 0 {line}");
    match Cli::parse_from(argv.split_whitespace()).cmd {
        Cmd::Destroy(a) => a,
        Cmd::Deploy(_) => unreachable!(),
    }
}

pub(super) fn stack(
    id: &str,
    region: &str,
    template: serde_json::Value,
    deps: &[&str],
) -> StackArtifact {
    StackArtifact {
        id: format!("dev-{id}"),
        display_name: format!("dev/{id}"),
        stage: "dev".into(),
        env: Environment::new("123456789012", region),
        properties: StackProperties {
            template_file: format!("dev-{id}.template.json"),
            stack_name: format!("dev-{id}"),
            termination_protection: false,
            tags: BTreeMap::new(),
        },
        template_size: template.to_string().len(),
        template,
        dependencies: deps.iter().map(|d| format!("dev-{d}")).collect(),
        cross_region: Vec::new(),
        env_parameters: Vec::new(),
        logical_ids: IndexMap::new(),
    }
}

pub(super) fn bucket_template() -> serde_json::Value {
    json!({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"}}})
}

pub(super) fn role_template() -> serde_json::Value {
    json!({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }}}}})
}

pub(super) struct Yes;
impl Confirm for Yes {
    fn ask(&self, _q: &str) -> Option<bool> {
        Some(true)
    }
}

pub(super) struct Run {
    pub(super) exit: Exit,
    pub(super) out: String,
    pub(super) err: String,
}

pub(super) async fn deploy(
    fake: &Fake,
    stacks: &[StackArtifact],
    line: &str,
    confirm: &dyn Confirm,
) -> Run {
    let clients: BTreeMap<String, Fake> = [("us-east-1".to_owned(), fake.clone())].into();
    deploy_multi(&clients, stacks, line, confirm).await
}

async fn deploy_multi(
    clients: &BTreeMap<String, Fake>,
    stacks: &[StackArtifact],
    line: &str,
    confirm: &dyn Confirm,
) -> Run {
    deploy_as(clients, stacks, line, None, confirm).await
}

/// Deploys as `caller` (what STS said), or without an identity check.
pub(super) async fn deploy_as(
    clients: &BTreeMap<String, Fake>,
    stacks: &[StackArtifact],
    line: &str,
    caller: Option<&crate::deploy::account::CallerIdentity>,
    confirm: &dyn Confirm,
) -> Run {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut args = deploy_args(line);
    args.progress = crate::deploy::progress::ProgressMode::Events;
    let exit = deploy_with(&args, stacks, clients, caller, confirm, &mut out, &mut err).await;
    Run {
        exit,
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
    }
}

/// Destroys with `line` through the fake, with no terminal to ask.
pub(super) async fn destroy(fake: &Fake, stacks: &[StackArtifact], line: &str) -> Run {
    let clients: BTreeMap<String, Fake> = [("us-east-1".to_owned(), fake.clone())].into();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = destroy_with(
        &destroy_args(line),
        stacks,
        &clients,
        &NoConfirm,
        &mut out,
        &mut err,
    )
    .await;
    Run {
        exit,
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
    }
}

#[tokio::test]
async fn deploys_a_new_stack_and_prints_outputs() {
    let fake = Fake::default();
    fake.state().execution.insert(
        "dev-Data".into(),
        Execution::Succeed([("BucketName".to_owned(), "b-1".to_owned())].into()),
    );
    let stacks = [stack("Data", "us-east-1", bucket_template(), &[])];
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("out.json");
    let run = deploy(
        &fake,
        &stacks,
        &format!("dev --outputs-file {}", outputs.display()),
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(
        run.out.contains("Add    Bucket            AWS::S3::Bucket"),
        "{}",
        run.out
    );
    assert!(run
        .out
        .contains("CREATE_COMPLETE          | AWS::S3::Bucket | Bucket"));
    assert!(run.out.contains("dev-Data.BucketName = b-1"));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outputs).unwrap()).unwrap();
    assert_eq!(written, json!({"dev-Data": {"BucketName": "b-1"}}));
    assert!(fake
        .calls()
        .iter()
        .any(|c| c.starts_with("CreateChangeSet dev-Data Create")));
}

#[tokio::test]
async fn an_empty_change_set_is_no_changes_and_is_deleted() {
    let t = bucket_template();
    let fake = Fake::default().with_stack("dev-Data", "UPDATE_COMPLETE", &t.to_string());
    let run = deploy(
        &fake,
        &[stack("Data", "us-east-1", t, &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success);
    assert!(run.out.contains("dev/Data: no changes"), "{}", run.out);
    let calls = fake.calls();
    assert!(calls.contains(&"DeleteChangeSet dev-Data".to_owned()));
    assert!(!calls.iter().any(|c| c.starts_with("ExecuteChangeSet")));
}

#[tokio::test]
async fn rollback_complete_is_deleted_and_recreated_after_approval() {
    let t = bucket_template();
    let fake = Fake::default().with_stack("dev-Data", "ROLLBACK_COMPLETE", "{}");
    let stacks = [stack("Data", "us-east-1", t, &[])];
    let refused = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(refused.exit, Exit::ApprovalNeeded);
    assert!(refused.err.contains("ROLLBACK_COMPLETE"), "{}", refused.err);
    assert!(refused.err.contains("--yes"));
    assert!(!fake.calls().iter().any(|c| c.starts_with("DeleteStack")));

    let run = deploy(&fake, &stacks, "dev --yes", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let calls = fake.calls();
    let delete = calls
        .iter()
        .position(|c| c == "DeleteStack dev-Data")
        .unwrap();
    let create = calls
        .iter()
        .position(|c| c.starts_with("CreateChangeSet dev-Data Create"))
        .unwrap();
    assert!(delete < create);
}

#[tokio::test]
async fn an_operation_in_progress_is_waited_for_or_refused() {
    let t = bucket_template();
    let fake = Fake::default().with_stack("dev-Data", "UPDATE_IN_PROGRESS", "{}");
    fake.state().status_queue.insert(
        "dev-Data".into(),
        // The checks before anything is touched read the stack too.
        [
            "UPDATE_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_COMPLETE",
        ]
        .map(String::from)
        .into(),
    );
    let stacks = [stack("Data", "us-east-1", t, &[])];
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("waiting for that operation to end"));
    assert!(fake
        .calls()
        .iter()
        .any(|c| c.starts_with("CreateChangeSet dev-Data Update")));

    let busy = Fake::default().with_stack("dev-Data", "UPDATE_IN_PROGRESS", "{}");
    let run = deploy(&busy, &stacks, "dev --no-wait", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Failed);
    assert!(
        run.err
            .contains("is UPDATE_IN_PROGRESS: another operation is running"),
        "{}",
        run.err
    );
}

#[tokio::test]
async fn update_rollback_failed_explains_the_way_out() {
    let fake = Fake::default().with_stack("dev-Data", "UPDATE_ROLLBACK_FAILED", "{}");
    let run = deploy(
        &fake,
        &[stack("Data", "us-east-1", bucket_template(), &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Failed);
    assert!(
        run.err.contains(
            "aws cloudformation continue-update-rollback --stack-name dev-Data --region us-east-1"
        ),
        "{}",
        run.err
    );
}

fn failing_events() -> Vec<(String, String, String, String)> {
    [
        ("Queue", "AWS::SQS::Queue", "CREATE_IN_PROGRESS", ""),
        ("Bucket", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", ""),
        ("Bucket", "AWS::S3::Bucket", "CREATE_FAILED", "Resource handler returned message: \"demo-bucket already exists\" (RequestToken: 1, HandlerErrorCode: AlreadyExists)"),
        ("Queue", "AWS::SQS::Queue", "CREATE_FAILED", "Resource creation cancelled"),
        ("Queue", "AWS::SQS::Queue", "DELETE_COMPLETE", ""),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
    .collect()
}

#[tokio::test]
async fn a_failed_deployment_reports_the_first_failing_resource() {
    let fake = Fake::default();
    fake.state().execution.insert(
        "dev-Data".into(),
        Execution::Fail(failing_events(), "ROLLBACK_COMPLETE".into()),
    );
    let run = deploy(
        &fake,
        &[stack("Data", "us-east-1", bucket_template(), &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Failed);
    assert!(
        run.err.contains("error: [dev/Data] deployment ended in ROLLBACK_COMPLETE: Bucket (AWS::S3::Bucket) CREATE_FAILED: Resource handler returned message: \"demo-bucket already exists\""),
        "{}",
        run.err
    );
    assert!(!run.err.contains("Queue (AWS::SQS::Queue)"));
}

#[tokio::test]
async fn an_execute_error_is_the_failure_as_moto_reports_it() {
    let fake = Fake::default();
    fake.state().execution.insert(
        "dev-Data".into(),
        Execution::Error(ApiError::service(
            "ValidationError",
            "Bucket name is not valid",
        )),
    );
    let run = deploy(
        &fake,
        &[stack("Data", "us-east-1", bucket_template(), &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Failed);
    assert!(
        run.err
            .contains("execution failed: Bucket name is not valid"),
        "{}",
        run.err
    );
}

#[test]
fn first_failure_skips_cancellations_and_stack_events() {
    let events: Vec<crate::deploy::api::StackEvent> = [
        (
            "dev-Data",
            "AWS::CloudFormation::Stack",
            "UPDATE_IN_PROGRESS",
            "",
        ),
        (
            "Queue",
            "AWS::SQS::Queue",
            "UPDATE_FAILED",
            "Resource update cancelled",
        ),
        (
            "Role",
            "AWS::IAM::Role",
            "UPDATE_FAILED",
            "Policy is malformed",
        ),
        (
            "dev-Data",
            "AWS::CloudFormation::Stack",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to update: [Role].",
        ),
    ]
    .into_iter()
    .map(|(l, t, s, r)| crate::deploy::api::StackEvent {
        stack_name: "dev-Data".into(),
        logical_id: l.into(),
        resource_type: t.into(),
        status: s.into(),
        reason: Some(r.into()),
        ..Default::default()
    })
    .collect();
    assert_eq!(
        first_failure(&events).as_deref(),
        Some("Role (AWS::IAM::Role) UPDATE_FAILED: Policy is malformed")
    );
}

#[tokio::test]
async fn approval_follows_the_policy() {
    let stacks = [stack("Auth", "us-east-1", role_template(), &[])];
    // broadening (default): an IAM change asks; without a terminal, exit 3 and nothing runs.
    let fake = Fake::default();
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::ApprovalNeeded);
    assert!(run.err.contains("re-run with --yes"), "{}", run.err);
    assert!(!fake
        .calls()
        .iter()
        .any(|c| c.starts_with("ExecuteChangeSet")));
    // --yes approves.
    let fake = Fake::default();
    assert_eq!(
        deploy(&fake, &stacks, "dev --yes", &NoConfirm).await.exit,
        Exit::Success
    );
    // a terminal answer approves.
    let fake = Fake::default();
    assert_eq!(
        deploy(&fake, &stacks, "dev", &Yes).await.exit,
        Exit::Success
    );
    // never: no question.
    let fake = Fake::default();
    assert_eq!(
        deploy(&fake, &stacks, "dev --require-approval never", &NoConfirm)
            .await
            .exit,
        Exit::Success
    );
    // broadening: a bucket addition does not ask; any-change does.
    let data = [stack("Data", "us-east-1", bucket_template(), &[])];
    let fake = Fake::default();
    assert_eq!(
        deploy(&fake, &data, "dev", &NoConfirm).await.exit,
        Exit::Success
    );
    let fake = Fake::default();
    assert_eq!(
        deploy(
            &fake,
            &data,
            "dev --require-approval any-change",
            &NoConfirm
        )
        .await
        .exit,
        Exit::ApprovalNeeded
    );
}

#[tokio::test]
async fn a_stateful_replacement_needs_allow_replace() {
    let t = bucket_template();
    let new = json!({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": "other"}}}});
    let replace = |replacement: &str| ResourceChange {
        action: "Modify".into(),
        logical_id: "Bucket".into(),
        physical_id: Some("demo-bucket".into()),
        resource_type: "AWS::S3::Bucket".into(),
        replacement: Some(replacement.into()),
        scope: vec!["Properties".into()],
    };
    for r in ["True", "Conditional"] {
        let fake = Fake::default().with_stack("dev-Data", "CREATE_COMPLETE", &t.to_string());
        fake.state()
            .changes
            .insert("dev-Data".into(), vec![replace(r)]);
        let stacks = [stack("Data", "us-east-1", new.clone(), &[])];
        let run = deploy(
            &fake,
            &stacks,
            "dev --yes --require-approval never",
            &NoConfirm,
        )
        .await;
        assert_eq!(run.exit, Exit::ApprovalNeeded, "{r}");
        assert!(run.err.contains("--allow-replace Bucket"), "{}", run.err);
        assert!(
            run.out
                .contains(&format!("Modify Bucket            AWS::S3::Bucket {r}")),
            "{}",
            run.out
        );

        let fake = Fake::default().with_stack("dev-Data", "CREATE_COMPLETE", &t.to_string());
        fake.state()
            .changes
            .insert("dev-Data".into(), vec![replace(r)]);
        let run = deploy(
            &fake,
            &stacks,
            "dev --allow-replace Bucket --yes",
            &NoConfirm,
        )
        .await;
        assert_eq!(run.exit, Exit::Success, "{}", run.err);
    }
}

#[tokio::test]
async fn stacks_deploy_in_dependency_order_with_cross_region_parameters() {
    let east = Fake::default();
    let west = Fake::default();
    east.state().execution.insert(
        "dev-Cert".into(),
        Execution::Succeed([("CertArn".to_owned(), "arn:cert".to_owned())].into()),
    );
    let cert = stack(
        "Cert",
        "us-east-1",
        json!({"Resources": {"Cert": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"CertArn": {"Value": "x"}}}),
        &[],
    );
    let mut app = stack(
        "App",
        "eu-west-1",
        json!({"Parameters": {"CertArn": {"Type": "String"}, "Size": {"Type": "String", "Default": "1"}},
               "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
        &["Cert"],
    );
    app.cross_region.push(CrossRegionLink {
        parameter: "CertArn".into(),
        producer: "dev-Cert".into(),
        output: "CertArn".into(),
    });
    let clients: BTreeMap<String, Fake> = [
        ("us-east-1".to_owned(), east.clone()),
        ("eu-west-1".to_owned(), west.clone()),
    ]
    .into();
    // App listed first: the order comes from the dependencies, not the list.
    let stacks = [app, cert];
    let run = deploy_multi(
        &clients,
        &stacks,
        "dev App --parameters dev-App:Size=3 --concurrency 4",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let deployed = run.out.find("dev/Cert: deployed").unwrap();
    assert!(deployed < run.out.find("dev/App: deployed").unwrap());
    let create = west
        .calls()
        .into_iter()
        .find(|c| c.starts_with("CreateChangeSet dev-App"))
        .unwrap();
    assert!(
        create.contains(r#"Value { key: "CertArn", value: "arn:cert" }"#),
        "{create}"
    );
    assert!(
        create.contains(r#"Value { key: "Size", value: "3" }"#),
        "{create}"
    );

    // Again, exclusively App: Size keeps its previous value.
    let run = deploy_multi(&clients, &stacks, "dev App --exclusively", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let east_creates = east
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("CreateChangeSet"));
    assert_eq!(east_creates.count(), 1, "Cert is not deployed again");
    let again = west
        .calls()
        .into_iter()
        .rfind(|c| c.starts_with("CreateChangeSet dev-App Update"))
        .unwrap();
    assert!(again.contains(r#"UsePrevious { key: "Size" }"#), "{again}");
}

#[tokio::test]
async fn a_failure_stops_dependents() {
    let fake = Fake::default();
    fake.state().execution.insert(
        "dev-Network".into(),
        Execution::Fail(failing_events(), "ROLLBACK_COMPLETE".into()),
    );
    let stacks = [
        stack("Network", "us-east-1", bucket_template(), &[]),
        stack("App", "us-east-1", bucket_template(), &["Network"]),
    ];
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Failed);
    assert!(
        run.err
            .contains("dev/App: not deployed: it depends on dev/Network, which failed"),
        "{}",
        run.err
    );
    // Only the checks before anything is touched read it.
    assert!(!fake
        .calls()
        .iter()
        .any(|c| c.contains("dev-App") && !c.starts_with("DescribeStacks")));
}

#[tokio::test]
async fn datadog_types_are_checked_before_deploying() {
    let t = json!({"Resources": {"Monitor": {"Type": "Datadog::Monitors::Monitor"}}});
    let stacks = [stack("Obs", "us-east-1", t, &[])];
    let fake = Fake::default();
    fake.state().types.insert(
        "Datadog::Monitors::Monitor".into(),
        Ok(TypeStatus::NotFound),
    );
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Failed);
    assert!(
        run.err.contains(
            "Datadog::Monitors::Monitor is not activated in account 123456789012 region us-east-1"
        ),
        "{}",
        run.err
    );
    assert!(!fake
        .calls()
        .iter()
        .any(|c| c.starts_with("CreateChangeSet")));

    let fake = Fake::default();
    fake.state().types.insert(
        "Datadog::Monitors::Monitor".into(),
        Err(ApiError::Unsupported("InvalidAction: DescribeType".into())),
    );
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run
        .err
        .contains("warning: cannot check that Datadog::Monitors::Monitor is activated"));
}

#[tokio::test]
async fn access_problems_exit_4_and_usage_exit_2() {
    let fake = Fake::default();
    fake.state().types.insert(
        "Datadog::Monitors::Monitor".into(),
        Err(ApiError::NoCredentials("no providers in chain".into())),
    );
    let t = json!({"Resources": {"Monitor": {"Type": "Datadog::Monitors::Monitor"}}});
    let run = deploy(
        &fake,
        &[stack("Obs", "us-east-1", t, &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::AccessProblem);
    assert_eq!(run.err.lines().count(), 1, "{}", run.err);
    let run = deploy(
        &fake,
        &[stack("Obs", "us-east-1", bucket_template(), &[])],
        "prod",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Usage);
    let run = deploy(
        &fake,
        &[stack("Obs", "us-east-1", bucket_template(), &[])],
        "dev --parameters Nope=1",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Usage);
}

#[tokio::test]
async fn termination_protection_is_applied_after_create() {
    let fake = Fake::default();
    let mut s = stack("Data", "us-east-1", bucket_template(), &[]);
    s.properties.termination_protection = true;
    let run = deploy(&fake, &[s], "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(fake
        .calls()
        .contains(&"UpdateTerminationProtection dev-Data true".to_owned()));
}

#[tokio::test]
async fn destroy_deletes_in_reverse_order_and_lists_retained() {
    let fake = Fake::default()
        .with_stack(
            "dev-Network",
            "CREATE_COMPLETE",
            &json!({"Resources": {"Vpc": {"Type": "AWS::EC2::VPC"}}}).to_string(),
        )
        .with_stack(
            "dev-Data",
            "CREATE_COMPLETE",
            &bucket_template().to_string(),
        );
    fake.state().resources.insert(
        "dev-Data".into(),
        vec![StackResource {
            logical_id: "Bucket".into(),
            physical_id: Some("demo-bucket-1".into()),
            resource_type: "AWS::S3::Bucket".into(),
            status: "CREATE_COMPLETE".into(),
        }],
    );
    let stacks = [
        stack("Network", "us-east-1", json!({"Resources": {}}), &[]),
        stack("Data", "us-east-1", bucket_template(), &["Network"]),
    ];
    let clients: BTreeMap<String, Fake> = [("us-east-1".to_owned(), fake.clone())].into();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = destroy_with(
        &destroy_args("dev"),
        &stacks,
        &clients,
        &NoConfirm,
        &mut out,
        &mut err,
    )
    .await;
    assert_eq!(exit, Exit::ApprovalNeeded);
    assert!(fake.calls().iter().all(|c| !c.starts_with("DeleteStack")));
    let exit = destroy_with(
        &destroy_args("dev --yes"),
        &stacks,
        &clients,
        &NoConfirm,
        &mut out,
        &mut err,
    )
    .await;
    assert_eq!(exit, Exit::Success, "{}", String::from_utf8_lossy(&err));
    let deletes: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("DeleteStack"))
        .collect();
    assert_eq!(deletes, ["DeleteStack dev-Data", "DeleteStack dev-Network"]);
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.contains("dev/Data Bucket (AWS::S3::Bucket) demo-bucket-1"),
        "{out}"
    );
}

#[tokio::test]
async fn destroy_empties_the_buckets_it_deletes_and_never_a_retained_one() {
    // GIVEN a dev Data stack with a deleted and a retained bucket, both holding objects
    let template = json!({"Resources": {
        "Scratch": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete"},
        "Kept": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "RetainExceptOnCreate"}
    }});
    let fake = Fake::default().with_stack("dev-Data", "CREATE_COMPLETE", &template.to_string());
    fake.state().resources.insert(
        "dev-Data".into(),
        ["Scratch", "Kept"]
            .iter()
            .map(|id| StackResource {
                logical_id: (*id).into(),
                physical_id: Some(format!("bucket-{}", id.to_lowercase())),
                resource_type: "AWS::S3::Bucket".into(),
                status: "CREATE_COMPLETE".into(),
            })
            .collect(),
    );
    for bucket in ["bucket-scratch", "bucket-kept"] {
        for key in ["a", "b"] {
            fake.state()
                .objects
                .insert((bucket.into(), key.into()), "x".into());
        }
    }
    let stacks = [stack("Data", "us-east-1", template, &[])];
    // WHEN it is destroyed
    let run = destroy(&fake, &stacks, "dev --yes").await;
    // THEN the deleted bucket is emptied before the stack goes, the retained one is untouched
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let calls = fake.calls();
    let empty = calls
        .iter()
        .position(|c| c == "EmptyBucket bucket-scratch owner 123456789012");
    let delete = calls.iter().position(|c| c == "DeleteStack dev-Data");
    assert!(empty.is_some() && empty < delete, "{calls:?}");
    assert!(
        !calls.iter().any(|c| c.contains("EmptyBucket bucket-kept")),
        "{calls:?}"
    );
    let out = &run.out;
    assert!(
        out.contains("emptied Scratch (s3://bucket-scratch): 2 object versions"),
        "{out}"
    );
    assert_eq!(
        fake.state().objects.len(),
        2,
        "the retained bucket keeps its objects"
    );
}

#[tokio::test]
async fn env_filled_parameters_come_from_the_environment_or_stop_with_how_to_set_them() {
    let template = json!({"Parameters": {"ApiKey": {"Type": "String", "NoEcho": true}},
                          "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}});
    let mut s = stack("Secrets", "us-east-1", template, &[]);
    s.env_parameters.push(pantri_synth::assembly::EnvParameter {
        parameter: "ApiKey".into(),
        variable: "PANTRI_TEST_DD_API_KEY_7F3A".into(),
    });
    let stacks = [s];

    // Not set, stack new: a usage error that names the variable.
    let fake = Fake::default();
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Usage, "{}", run.err);
    assert!(
        run.err.contains("PANTRI_TEST_DD_API_KEY_7F3A"),
        "{}",
        run.err
    );

    // Set: its value goes into the change set (and nowhere in the assembly).
    std::env::set_var("PANTRI_TEST_DD_API_KEY_7F3A", "dd-secret");
    let fake = Fake::default();
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    std::env::remove_var("PANTRI_TEST_DD_API_KEY_7F3A");
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let create = fake
        .calls()
        .into_iter()
        .find(|c| c.starts_with("CreateChangeSet dev-Secrets"))
        .unwrap();
    assert!(
        create.contains(r#"Value { key: "ApiKey", value: "dd-secret" }"#),
        "{create}"
    );
}

#[tokio::test]
async fn the_preview_carries_the_template_diff_and_a_narrowing_change_does_not_ask() {
    // GIVEN a deployed role trusted by two services WHEN the new template trusts only one
    let wide = json!({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }}}}});
    let fake = Fake::default().with_stack("dev-Auth", "UPDATE_COMPLETE", &wide.to_string());
    let narrow = role_template();
    let run = deploy(
        &fake,
        &[stack("Auth", "us-east-1", narrow.clone(), &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    // THEN the preview shows the IAM table of the diff, and the narrowing needs no approval
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("lambda.amazonaws.com"), "{}", run.out);

    // WHEN the new template trusts one more service THEN it asks.
    let fake = Fake::default().with_stack("dev-Auth", "UPDATE_COMPLETE", &narrow.to_string());
    let run = deploy(
        &fake,
        &[stack("Auth", "us-east-1", wide, &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::ApprovalNeeded, "{}", run.out);
}

/// A template over the inline limit: SSM parameters with long descriptions.
pub(super) fn large_template(value: &str) -> serde_json::Value {
    let mut resources = serde_json::Map::new();
    for i in 0..60 {
        resources.insert(
            format!("Param{i:02}"),
            json!({"Type": "AWS::SSM::Parameter", "Properties": {
                "Type": "String",
                "Value": value,
                "Description": "d".repeat(1000),
            }}),
        );
    }
    json!({ "Resources": resources })
}

#[tokio::test]
async fn a_large_template_is_staged_in_s3_and_passed_by_url() {
    // GIVEN a new stack whose template is over 51,200 bytes
    let template = large_template("v1");
    let body = template.to_string();
    assert!(body.len() > crate::deploy::engine::INLINE_TEMPLATE_LIMIT);
    let fake = Fake::default();
    // WHEN it is deployed
    let run = deploy(
        &fake,
        &[stack("Big", "us-east-1", template, &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    // THEN the default bucket is ensured, the body uploaded under its hash, and the change set
    // names it by URL
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let key = crate::deploy::engine::staged_template_key("dev-Big", &body);
    assert!(key.starts_with("dev-Big/") && key.ends_with(".json") && key.len() == 8 + 64 + 5);
    let bucket = "pantri-staging-123456789012-us-east-1";
    let calls = fake.calls();
    let staging: Vec<&String> = calls
        .iter()
        .filter(|c| c.starts_with("EnsureStagingBucket") || c.starts_with("PutTemplate"))
        .collect();
    assert_eq!(
        staging,
        [
            &format!("EnsureStagingBucket {bucket} owner 123456789012"),
            &format!("PutTemplate {bucket}/{key} owner 123456789012")
        ]
    );
    let state = fake.state();
    assert_eq!(
        state.requests[0].template_url.as_deref(),
        Some(format!("https://{bucket}.s3.us-east-1.amazonaws.com/{key}").as_str())
    );
    assert_eq!(
        state.objects.get(&(bucket.to_owned(), key)),
        Some(&body),
        "the staged object is the body"
    );
    assert!(run.out.contains("staged at s3://"), "{}", run.out);
}

#[tokio::test]
async fn a_small_template_stays_inline() {
    let fake = Fake::default();
    let run = deploy(
        &fake,
        &[stack("Data", "us-east-1", bucket_template(), &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert_eq!(fake.state().requests[0].template_url, None);
    assert!(!fake
        .calls()
        .iter()
        .any(|c| c.starts_with("EnsureStagingBucket") || c.starts_with("PutTemplate")));
}

#[tokio::test]
async fn the_same_large_body_is_uploaded_once_into_the_named_bucket() {
    // GIVEN a large template deployed through --staging-bucket
    let stacks = [stack("Big", "us-east-1", large_template("v1"), &[])];
    let fake = Fake::default();
    let run = deploy(
        &fake,
        &stacks,
        "dev --staging-bucket my-templates",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    // WHEN the same body is deployed again, and then a changed one
    let run = deploy(
        &fake,
        &stacks,
        "dev --staging-bucket my-templates",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("dev/Big: no changes"), "{}", run.out);
    let changed = [stack("Big", "us-east-1", large_template("v2"), &[])];
    let run = deploy(
        &fake,
        &changed,
        "dev --staging-bucket my-templates",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    // THEN each distinct body was uploaded once, into the named bucket
    let puts: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("PutTemplate"))
        .collect();
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert!(puts
        .iter()
        .all(|p| p.starts_with("PutTemplate my-templates/dev-Big/")));
    assert_eq!(fake.state().objects.len(), 2);
}

#[tokio::test]
async fn a_substituted_staged_object_is_replaced_by_the_body_and_lost_hardening_is_said() {
    // GIVEN the object under the body's key holds something else (written by someone else),
    // and the bucket had lost part of its hardening
    let template = large_template("v1");
    let body = serde_json::to_string(&template).unwrap();
    let key = crate::deploy::engine::staged_template_key("dev-Big", &body);
    let bucket = "pantri-staging-123456789012-us-east-1";
    let fake = Fake::default();
    {
        let mut s = fake.state();
        s.buckets.insert(bucket.into());
        s.objects.insert(
            (bucket.into(), key.clone()),
            "{\"Resources\": {\"Evil\": {}}}".into(),
        );
        s.rehardened = vec!["the public access block".into()];
    }
    // WHEN it deploys
    let run = deploy(
        &fake,
        &[stack("Big", "us-east-1", template, &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    // THEN the body is uploaded over the substitute, and the re-hardening is said
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert_eq!(
        fake.state().objects.get(&(bucket.to_owned(), key)),
        Some(&body)
    );
    assert!(
        run.err.contains("dev/Big: staging bucket pantri-staging-123456789012-us-east-1 had lost its hardening; re-applied the public access block"),
        "{}",
        run.err
    );
}

#[tokio::test]
async fn staging_needs_the_stacks_account_to_check_the_bucket_owner() {
    let mut big = stack("Big", "us-east-1", large_template("v1"), &[]);
    big.env = Environment::new("unknown-account", "us-east-1");
    let fake = Fake::default();
    let run = deploy(
        &fake,
        &[big],
        "dev --staging-bucket my-templates",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Usage, "{}", run.err);
    assert!(
        run.err.contains(
            "must be owned by the stack's account, but that account is not known (unknown-account)"
        ),
        "{}",
        run.err
    );
    assert!(!fake.calls().iter().any(|c| c.starts_with("PutTemplate")));
}

#[tokio::test]
async fn a_staging_bucket_that_cannot_be_used_is_one_line_naming_it() {
    // GIVEN a bucket S3 refuses
    let fake = Fake::default();
    fake.state().bucket_error = Some(ApiError::AccessDenied(
        "bucket pantri-staging-123456789012-us-east-1 exists but these credentials may not use it"
            .into(),
    ));
    let run = deploy(
        &fake,
        &[stack("Big", "us-east-1", large_template("v1"), &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    // THEN exit 4, one error line naming the stack and the bucket and the way out, and no change set
    assert_eq!(run.exit, Exit::AccessProblem, "{}", run.err);
    let lines: Vec<&str> = run
        .err
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.err);
    assert!(lines[0].contains("[dev/Big]"), "{}", lines[0]);
    assert!(lines[0].contains("stack dev-Big"), "{}", lines[0]);
    assert!(
        lines[0].contains("bucket pantri-staging-123456789012-us-east-1"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("--staging-bucket"), "{}", lines[0]);
    assert!(!fake
        .calls()
        .iter()
        .any(|c| c.starts_with("CreateChangeSet")));

    // GIVEN a service error creating the bucket THEN exit 1, still naming the bucket
    let fake = Fake::default();
    fake.state().bucket_error = Some(ApiError::service(
        "InvalidBucketName",
        "The specified bucket is not valid.",
    ));
    let run = deploy(
        &fake,
        &[stack("Big", "us-east-1", large_template("v1"), &[])],
        "dev --staging-bucket Bad_Name",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Failed, "{}", run.err);
    assert!(run.err.contains("bucket Bad_Name"), "{}", run.err);
}

#[tokio::test]
async fn attaching_a_managed_policy_asks_and_names_it() {
    // GIVEN a deployed role with only a trust policy
    let deployed = role_template();
    let fake = Fake::default().with_stack("dev-Auth", "UPDATE_COMPLETE", &deployed.to_string());
    // WHEN the new template attaches AdministratorAccess through ManagedPolicyArns (the CDK's form)
    let mut admin = deployed.clone();
    admin["Resources"]["Role"]["Properties"]["ManagedPolicyArns"] = json!([{"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AdministratorAccess"
    ]]}]);
    let run = deploy(
        &fake,
        &[stack("Auth", "us-east-1", admin, &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    // THEN approval is needed, the reason names the policy, and nothing is executed
    assert_eq!(run.exit, Exit::ApprovalNeeded, "{}{}", run.out, run.err);
    let all = format!("{}{}", run.out, run.err);
    assert!(all.contains("AdministratorAccess: ADMIN-LIKE"), "{all}");
    assert!(!fake
        .calls()
        .iter()
        .any(|c| c.starts_with("ExecuteChangeSet")));

    // A policy pantri cannot read (an Fn::If) asks too.
    let fake = Fake::default().with_stack("dev-Auth", "UPDATE_COMPLETE", &deployed.to_string());
    let mut unknown = deployed.clone();
    unknown["Resources"]["Role"]["Properties"]["Policies"] = json!([{"PolicyName": "p",
        "PolicyDocument": {"Fn::If": ["Prod", {"Statement": []}, {"Statement": []}]}}]);
    let run = deploy(
        &fake,
        &[stack("Auth", "us-east-1", unknown, &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::ApprovalNeeded, "{}{}", run.out, run.err);
    assert!(run.err.contains("cannot read"), "{}", run.err);

    // A permissions boundary set (a narrowing) does not ask.
    let fake = Fake::default().with_stack("dev-Auth", "UPDATE_COMPLETE", &deployed.to_string());
    let mut bounded = deployed;
    bounded["Resources"]["Role"]["Properties"]["PermissionsBoundary"] =
        json!("arn:aws:iam::123456789012:policy/Boundary");
    let run = deploy(
        &fake,
        &[stack("Auth", "us-east-1", bounded, &[])],
        "dev",
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}{}", run.out, run.err);
}

#[tokio::test]
async fn a_stack_skipped_after_a_failure_is_never_blamed_on_a_stack_it_does_not_depend_on() {
    let fake = Fake::default();
    fake.state().execution.insert(
        "dev-Network".into(),
        Execution::Fail(failing_events(), "ROLLBACK_COMPLETE".into()),
    );
    let stacks = [
        stack("Network", "us-east-1", bucket_template(), &[]),
        stack("Data", "us-east-1", bucket_template(), &[]),
        stack("App", "us-east-1", bucket_template(), &["Network"]),
    ];
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Failed, "{}", run.err);
    assert!(
        run.err.contains(
            "dev/Data: not deployed: not started: the run stops when a stack fails or is stopped, and dev/Network failed; dev/Data does not depend on it (deploy it alone with `pantri deploy dev Data --exclusively`)"
        ),
        "{}",
        run.err
    );
    assert!(
        run.err
            .contains("dev/App: not deployed: it depends on dev/Network, which failed"),
        "{}",
        run.err
    );
    // The summary counts every stack and says why each skipped one did not run.
    assert!(
        run.err
            .contains("summary: 3 stack(s) in 0s: 1 failed, 2 skipped"),
        "{}",
        run.err
    );
    let lines: Vec<&str> = run
        .err
        .lines()
        .filter(|l| l.starts_with("  dev/"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", run.err);
    assert!(lines[0].starts_with("  dev/Network  failed"), "{lines:?}");
    assert!(
        lines[2].ends_with("skipped   it depends on dev/Network, which failed"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn the_summary_names_each_stack_with_its_time() {
    let fake = Fake::default();
    let stacks = [
        stack("Network", "us-east-1", bucket_template(), &[]),
        stack("App", "us-east-1", bucket_template(), &["Network"]),
    ];
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(
        run.out.contains("dev/Network: deployed in 0s"),
        "{}",
        run.out
    );
    assert!(
        run.err.contains("summary: 2 stack(s) in 0s: 2 deployed"),
        "{}",
        run.err
    );
    assert!(
        run.err.contains("  dev/App      deployed  0s"),
        "{}",
        run.err
    );
}

#[tokio::test]
async fn a_long_quiet_operation_says_what_cloudformation_is_doing() {
    let fake = Fake::default();
    fake.state().after_execute.insert(
        "dev-App".into(),
        ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS"]
            .map(|s| Ok(s.to_owned()))
            .into(),
    );
    let stacks = [stack("App", "us-east-1", bucket_template(), &[])];
    let run = deploy(&fake, &stacks, "dev --quiet-line-secs 0", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let quiet: Vec<&str> = run
        .out
        .lines()
        .filter(|l| l.starts_with("dev/App: still CREATE_IN_PROGRESS after 0s"))
        .collect();
    assert_eq!(quiet.len(), 2, "{}", run.out);
}

#[tokio::test]
async fn a_throttled_status_read_after_the_deployment_does_not_fail_it() {
    let fake = Fake::default();
    let throttled = || Err(ApiError::service("Throttling", "Rate exceeded"));
    fake.state().after_execute.insert(
        "dev-App".into(),
        [throttled(), throttled(), throttled()].into(),
    );
    let stacks = [stack("App", "us-east-1", bucket_template(), &[])];
    let run = deploy(&fake, &stacks, "dev", &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("dev/App: deployed in"), "{}", run.out);
    let reads = fake
        .calls()
        .into_iter()
        .filter(|c| c == "DescribeStacks dev-App")
        .count();
    assert!(
        reads >= 4,
        "three throttled reads, then the real one: {reads}"
    );
}

#[tokio::test]
async fn a_change_of_tags_or_parameter_values_alone_is_a_change() {
    let t = bucket_template();
    let fake = Fake::default();
    let mut data = stack("Data", "us-east-1", t, &[]);
    let first = deploy(&fake, std::slice::from_ref(&data), "dev", &NoConfirm).await;
    assert!(first.out.contains("dev/Data: deployed"), "{}", first.out);
    let again = deploy(&fake, std::slice::from_ref(&data), "dev", &NoConfirm).await;
    assert!(again.out.contains("dev/Data: no changes"), "{}", again.out);

    // Same template, a new stack tag: CloudFormation's change set lists no resource, but
    // executing it tags the stack.
    data.properties
        .tags
        .insert("owner".into(), "platform".into());
    let tagged = deploy(&fake, std::slice::from_ref(&data), "dev", &NoConfirm).await;
    assert_eq!(tagged.exit, Exit::Success, "{}", tagged.err);
    assert!(tagged.out.contains("dev/Data: deployed"), "{}", tagged.out);
    let executions = |f: &Fake| {
        f.calls()
            .iter()
            .filter(|c| c.starts_with("ExecuteChangeSet dev-Data"))
            .count()
    };
    assert_eq!(executions(&fake), 2);

    // A parameter value that changes (it may feed only an output) is a change too; the same
    // value again is not.
    let mut t = bucket_template();
    t["Parameters"] = json!({"Size": {"Type": "String"}});
    t["Outputs"] = json!({"Size": {"Value": {"Ref": "Size"}}});
    let sized = stack("Data", "us-east-1", t, &[]);
    let small = deploy(
        &fake,
        std::slice::from_ref(&sized),
        "dev --parameters Size=1",
        &NoConfirm,
    )
    .await;
    assert!(small.out.contains("dev/Data: deployed"), "{}", small.out);
    let same = deploy(
        &fake,
        std::slice::from_ref(&sized),
        "dev --parameters Size=1",
        &NoConfirm,
    )
    .await;
    assert!(same.out.contains("dev/Data: no changes"), "{}", same.out);
    let big = deploy(
        &fake,
        std::slice::from_ref(&sized),
        "dev --parameters Size=2",
        &NoConfirm,
    )
    .await;
    assert!(big.out.contains("dev/Data: deployed"), "{}", big.out);
    assert_eq!(executions(&fake), 4);
}
