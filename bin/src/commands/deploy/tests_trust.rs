//! Fake-driven tests of what makes a deploy trustworthy: the account, checks before touching
//! anything, and executing exactly a reviewed plan.

use std::collections::BTreeMap;

use pantri_synth::assembly::{EnvParameter, StackArtifact};
use serde_json::json;

use super::run::{destroy_with, plan_with};
use super::tests::{
    bucket_template, deploy_args, deploy_as, destroy_args, large_template, role_template, stack,
};
use crate::deploy::account::CallerIdentity;
use crate::deploy::api::TypeStatus;
use crate::deploy::engine::plan_artifacts;
use crate::deploy::fake::Fake;
use crate::deploy::planfile::Plan;
use crate::deploy::progress::NoConfirm;
use crate::exit::Exit;

fn one_region(fake: &Fake) -> BTreeMap<String, Fake> {
    [("us-east-1".to_owned(), fake.clone())].into()
}

#[tokio::test]
async fn the_staging_bucket_is_named_after_the_account_sts_reports() {
    // GIVEN an environment-agnostic stack with a template over the inline limit, deployed by a
    // caller STS places in account 111122223333
    let mut big = stack("Big", "us-east-1", large_template("v1"), &[]);
    big.env.account = "unknown-account".into();
    let caller = CallerIdentity {
        account: "111122223333".into(),
        arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci".into(),
    };
    let fake = Fake::default();
    // WHEN it is deployed
    let run = deploy_as(&one_region(&fake), &[big], "dev", Some(&caller), &NoConfirm).await;
    // THEN the staging bucket is that account's, and that account is its expected owner
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(
        fake.calls().contains(
            &"EnsureStagingBucket pantri-staging-111122223333-us-east-1 owner 111122223333"
                .to_owned()
        ),
        "{:?}",
        fake.calls()
    );
    assert!(
        run.out
            .contains("s3://pantri-staging-111122223333-us-east-1/"),
        "{}",
        run.out
    );
}

fn with_env_parameter(mut s: StackArtifact, parameter: &str, variable: &str) -> StackArtifact {
    s.template["Parameters"] = json!({ parameter: {"Type": "String", "NoEcho": true} });
    s.env_parameters.push(EnvParameter {
        parameter: parameter.into(),
        variable: variable.into(),
    });
    s
}

fn created(fake: &Fake) -> Vec<String> {
    fake.calls()
        .into_iter()
        .filter(|c| {
            [
                "CreateChangeSet",
                "ExecuteChangeSet",
                "DeleteStack",
                "EnsureStagingBucket",
            ]
            .iter()
            .any(|w| c.starts_with(w))
        })
        .collect()
}

#[tokio::test]
async fn every_problem_of_every_stack_is_reported_before_anything_is_touched() {
    // GIVEN Data and Global that would deploy, then Service whose image tag is not set and
    // Monitoring whose Datadog type is not activated, and an outputs file in a missing directory
    let data = stack("Data", "us-east-1", bucket_template(), &[]);
    let global = stack("Global", "us-east-1", bucket_template(), &["Data"]);
    let service = with_env_parameter(
        stack("Service", "us-east-1", bucket_template(), &["Data"]),
        "ImageTag",
        "PANTRI_TEST_IMAGE_TAG_UNSET_91C2",
    );
    let monitoring = stack(
        "Monitoring",
        "us-east-1",
        json!({"Resources": {"Monitor": {"Type": "Datadog::Monitors::Monitor"}}}),
        &["Service"],
    );
    let fake = Fake::default();
    fake.state().types.insert(
        "Datadog::Monitors::Monitor".into(),
        Ok(TypeStatus::NotFound),
    );
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("missing/outputs.json");
    // WHEN deploying the stage
    let run = deploy_as(
        &one_region(&fake),
        &[data, global, service, monitoring],
        &format!("dev --yes --outputs-file {}", outputs.display()),
        None,
        &NoConfirm,
    )
    .await;
    // THEN exit 2, one report with the three problems, and no stack was touched
    assert_eq!(run.exit, Exit::Usage, "{}", run.err);
    assert!(run.err.contains("3 problem(s)"), "{}", run.err);
    assert!(run.err.contains("nothing was changed"), "{}", run.err);
    assert!(
        run.err.contains("[dev/Service] parameter ImageTag")
            && run.err.contains("PANTRI_TEST_IMAGE_TAG_UNSET_91C2"),
        "{}",
        run.err
    );
    assert!(
        run.err
            .contains("Datadog::Monitors::Monitor is not activated"),
        "{}",
        run.err
    );
    assert!(
        run.err.contains("--outputs-file") && run.err.contains("does not exist"),
        "{}",
        run.err
    );
    assert_eq!(created(&fake), Vec::<String>::new());
    assert!(!run.out.contains("deployed"), "{}", run.out);
}

#[tokio::test]
async fn a_failed_stack_later_in_the_order_stops_the_deploy_before_the_first_change_set() {
    // GIVEN Data deployable and Service UPDATE_ROLLBACK_FAILED
    let fake = Fake::default().with_stack("dev-Service", "UPDATE_ROLLBACK_FAILED", "{}");
    let stacks = [
        stack("Data", "us-east-1", bucket_template(), &[]),
        stack("Service", "us-east-1", bucket_template(), &["Data"]),
    ];
    // WHEN deploying
    let run = deploy_as(&one_region(&fake), &stacks, "dev --yes", None, &NoConfirm).await;
    // THEN exit 1 (a state, not bad input) with the way out, and Data was not touched either
    assert_eq!(run.exit, Exit::Failed, "{}", run.err);
    assert!(run.err.contains("continue-update-rollback"), "{}", run.err);
    assert_eq!(created(&fake), Vec::<String>::new());
}

async fn destroy(fake: &Fake, stacks: &[StackArtifact]) -> (Exit, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = destroy_with(
        &destroy_args("dev --yes"),
        stacks,
        &one_region(fake),
        &NoConfirm,
        &mut out,
        &mut err,
    )
    .await;
    (exit, String::from_utf8_lossy(&err).into_owned())
}

#[tokio::test]
async fn destroy_checks_termination_protection_of_every_stack_before_deleting_any() {
    // GIVEN prod's Data termination-protected and Global (which depends on it, so deleted first)
    // deletable
    let fake = Fake::default()
        .with_stack("dev-Data", "UPDATE_COMPLETE", "{}")
        .with_stack("dev-Global", "UPDATE_COMPLETE", "{}");
    fake.state()
        .stacks
        .get_mut("dev-Data")
        .unwrap()
        .termination_protection = true;
    let stacks = [
        stack("Data", "us-east-1", bucket_template(), &[]),
        stack("Global", "us-east-1", bucket_template(), &["Data"]),
    ];
    // WHEN destroying with --yes
    let (exit, err) = destroy(&fake, &stacks).await;
    // THEN nothing is deleted: Global stays, and the protection is named with the way out
    assert_eq!(exit, Exit::Failed, "{err}");
    assert!(
        err.contains("[dev/Data] stack dev-Data has termination protection"),
        "{err}"
    );
    assert_eq!(created(&fake), Vec::<String>::new());
    // and with both protected, both are in one report
    fake.state()
        .stacks
        .get_mut("dev-Global")
        .unwrap()
        .termination_protection = true;
    let (exit, err) = destroy(&fake, &stacks).await;
    assert_eq!(exit, Exit::Failed, "{err}");
    assert!(
        err.contains("2 problem(s)") && err.contains("dev-Global has termination protection"),
        "{err}"
    );
}

fn read_plan(path: &std::path::Path) -> Plan {
    Plan::read(path).unwrap()
}

async fn execute(fake: &Fake, plan: &Plan, line: &str) -> (Exit, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let stacks = plan_artifacts(plan);
    let exit = plan_with(
        &deploy_args(line),
        plan,
        &stacks,
        &one_region(fake),
        None,
        &NoConfirm,
        &mut out,
        &mut err,
    )
    .await;
    (
        exit,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

#[tokio::test]
async fn a_plan_runs_its_change_sets_in_order_and_a_substituted_template_is_refused() {
    // GIVEN Data and App (an IAM role: broadening) prepared into a plan
    let fake = Fake::default();
    let stacks = [
        stack("Data", "us-east-1", bucket_template(), &[]),
        stack("App", "us-east-1", role_template(), &["Data"]),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let run = deploy_as(
        &one_region(&fake),
        &stacks,
        &format!(
            "dev --method prepare-change-set --plan-out {}",
            path.display()
        ),
        None,
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("### pantri plan"), "{}", run.out);
    let plan = read_plan(&path);
    let names: Vec<&str> = plan
        .stacks
        .iter()
        .map(|p| p.display_name.as_str())
        .collect();
    assert_eq!(names, ["dev/Data", "dev/App"]);
    assert!(plan.stacks[0].change_set_name.starts_with("pantri-"));
    assert!(plan.stacks[0].findings.broadening.is_empty(), "{plan:?}");
    assert!(!plan.stacks[1].findings.broadening.is_empty(), "{plan:?}");
    assert!(!fake
        .calls()
        .iter()
        .any(|c| c.starts_with("ExecuteChangeSet")));
    // WHEN the Data change set's template is substituted behind the plan's back
    let key = (
        "dev-Data".to_owned(),
        plan.stacks[0].change_set_name.clone(),
    );
    let reviewed = {
        let mut s = fake.state();
        let entry = s.change_sets.get_mut(&key).unwrap();
        std::mem::replace(&mut entry.0.template_body, r#"{"Resources": {}}"#.into())
    };
    let (exit, _, err) = execute(&fake, &plan, "--plan plan.json --yes").await;
    // THEN the plan is refused and nothing executes
    assert_eq!(exit, Exit::Failed, "{err}");
    assert!(
        err.contains("[dev/Data] the template of change set"),
        "{err}"
    );
    assert!(!fake
        .calls()
        .iter()
        .any(|c| c.starts_with("ExecuteChangeSet")));
    // WHEN restored, without --yes and no terminal: App's findings ask
    fake.state()
        .change_sets
        .get_mut(&key)
        .unwrap()
        .0
        .template_body = reviewed;
    let (exit, _, err) = execute(&fake, &plan, "--plan plan.json").await;
    assert_eq!(exit, Exit::ApprovalNeeded, "{err}");
    assert!(err.contains("dev/App"), "{err}");
    // WHEN approved: both change sets execute, in the plan's order
    let (exit, out, err) = execute(&fake, &plan, "--plan plan.json --yes").await;
    assert_eq!(exit, Exit::Success, "{err}");
    let executed: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("ExecuteChangeSet"))
        .collect();
    assert_eq!(
        executed,
        ["ExecuteChangeSet dev-Data", "ExecuteChangeSet dev-App"]
    );
    assert!(out.contains("dev/App: deployed"), "{out}");
}

#[tokio::test]
async fn a_plain_deploy_names_its_change_set_for_the_run_and_leaves_others_alone() {
    // GIVEN a deployed stack with a change set of a pending plan
    let fake = Fake::default();
    let data = stack("Data", "us-east-1", bucket_template(), &[]);
    let run = deploy_as(
        &one_region(&fake),
        std::slice::from_ref(&data),
        "dev",
        None,
        &NoConfirm,
    )
    .await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let mut next = data.clone();
    next.template["Resources"]["Topic"] = json!({"Type": "AWS::SNS::Topic"});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let line = format!(
        "dev --method prepare-change-set --plan-out {}",
        path.display()
    );
    let run = deploy_as(&one_region(&fake), &[next], &line, None, &NoConfirm).await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let plan = read_plan(&path);
    assert_eq!(plan.stacks[0].kind, "update");
    // WHEN a plain deploy of another change runs and is not approved (so it deletes its own
    // change set)
    let mut other = data.clone();
    other.template = role_template();
    let run = deploy_as(&one_region(&fake), &[other], "dev", None, &NoConfirm).await;
    assert_eq!(run.exit, Exit::ApprovalNeeded, "{}", run.err);
    // THEN the plan's change set is still there, under a name of its own
    let pending = (
        "dev-Data".to_owned(),
        plan.stacks[0].change_set_name.clone(),
    );
    let state = fake.state();
    assert!(state.change_sets.contains_key(&pending));
    let names: std::collections::BTreeSet<&str> = state
        .requests
        .iter()
        .map(|r| r.change_set_name.as_str())
        .collect();
    assert_eq!(names.len(), 3, "one name per run: {names:?}");
}
