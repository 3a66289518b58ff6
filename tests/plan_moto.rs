//! Reviewed plan = applied plan, end to end through the real binary on a local moto server:
//! `--method prepare-change-set` writes the plan, `deploy --plan` executes exactly its change
//! sets and refuses when the stack or a change set is not what was reviewed.

use std::path::Path;

use pantri_tests::moto::{Moto, ACCOUNT};
use pantri_tests::{pantri_on_moto, stderr, stdout, write_assembly};
use serde_json::{json, Value};

fn topic() -> Value {
    json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "dev-events"}}}})
}

fn with_queue(name: &str) -> Value {
    let mut t = topic();
    t["Resources"]["Queue"] = json!({"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}});
    t
}

fn with_admin_policy() -> Value {
    let mut t = topic();
    t["Resources"]["Everything"] = json!({"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}});
    t
}

/// A directory with `app/` (the assembly) and the AWS config files the helper points at.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("aws-config"), "").unwrap();
    std::fs::write(dir.path().join("aws-credentials"), "").unwrap();
    dir
}

fn app(dir: &Path, template: &Value) -> String {
    let app = dir.join("app");
    write_assembly(&app, ACCOUNT, &[("App", template, &[])]);
    app.to_string_lossy().into_owned()
}

fn plan(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap()
}

fn deployed_template(moto: &Moto) -> String {
    moto.query(
        "cloudformation",
        "Action=GetTemplate&Version=2010-05-15&StackName=dev-App",
    )
    .1
}

/// Deploys `template`, then prepares `next` into `plan.json`.
fn deploy_then_prepare(moto: &Moto, dir: &Path, template: &Value, next: &Value) {
    let a = app(dir, template);
    let out = pantri_on_moto(dir, moto, &["deploy", "dev", "--yes", "--app", &a]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let a = app(dir, next);
    let out = pantri_on_moto(
        dir,
        moto,
        &[
            "deploy",
            "dev",
            "--app",
            &a,
            "--method",
            "prepare-change-set",
            "--plan-out",
            "plan.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn the_plan_executes_exactly_the_prepared_change_sets() {
    let moto = Moto::start();
    let dir = workdir();
    // GIVEN a deployed stack and a plan that adds a queue
    deploy_then_prepare(&moto, dir.path(), &topic(), &with_queue("dev-jobs"));
    let p = plan(dir.path());
    let stack = &p["stacks"][0];
    let name = stack["changeSetName"].as_str().unwrap().to_owned();
    assert!(name.starts_with("pantri-"), "{p}");
    assert_eq!(stack["changes"][0]["logicalId"], "Queue", "{p}");
    assert_eq!(stack["templateSha256"].as_str().unwrap().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("plan.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        p["markdown"]
            .as_str()
            .unwrap()
            .contains("| dev/App (`dev-App`, update)"),
        "{p}"
    );
    // AND a second plan prepared later (another name; the first plan's change set stays)
    let a = app(dir.path(), &with_queue("dev-other"));
    let out = pantri_on_moto(
        dir.path(),
        &moto,
        &[
            "deploy",
            "dev",
            "--app",
            &a,
            "--method",
            "prepare-change-set",
            "--plan-out",
            "plan2.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let second: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan2.json")).unwrap())
            .unwrap();
    assert_ne!(
        second["stacks"][0]["changeSetName"].as_str(),
        Some(name.as_str())
    );
    // AND the local assembly edited once more after the review
    app(dir.path(), &with_queue("dev-edited-after-review"));
    // WHEN the first plan is executed
    let out = pantri_on_moto(
        dir.path(),
        &moto,
        &["deploy", "--plan", "plan.json", "--yes"],
    );
    // THEN exactly the reviewed change ran: the queue of the plan, not of the later edits
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("dev/App: deployed"),
        "{}",
        stdout(&out)
    );
    let deployed = deployed_template(&moto);
    assert!(deployed.contains("dev-jobs"), "{deployed}");
    assert!(!deployed.contains("dev-edited-after-review") && !deployed.contains("dev-other"));
}

#[test]
fn a_stack_changed_since_the_plan_is_refused() {
    let moto = Moto::start();
    let dir = workdir();
    // GIVEN a plan, and then another deploy of the stack
    deploy_then_prepare(&moto, dir.path(), &topic(), &with_queue("dev-jobs"));
    let a = app(dir.path(), &with_queue("dev-hotfix"));
    let out = pantri_on_moto(dir.path(), &moto, &["deploy", "dev", "--yes", "--app", &a]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // WHEN the plan is executed
    let out = pantri_on_moto(
        dir.path(),
        &moto,
        &["deploy", "--plan", "plan.json", "--yes"],
    );
    // THEN exit 1, the stack is named as changed, and nothing ran
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("[dev/App] stack dev-App changed since the plan"),
        "{err}"
    );
    assert!(deployed_template(&moto).contains("dev-hotfix"));
}

#[test]
fn a_change_set_that_does_not_match_the_plan_is_refused() {
    let moto = Moto::start();
    let dir = workdir();
    deploy_then_prepare(&moto, dir.path(), &topic(), &with_queue("dev-jobs"));
    // GIVEN a plan file whose template hash was altered
    let mut p = plan(dir.path());
    let reviewed = p.clone();
    p["stacks"][0]["templateSha256"] = json!("0".repeat(64));
    std::fs::write(dir.path().join("plan.json"), p.to_string()).unwrap();
    let out = pantri_on_moto(
        dir.path(),
        &moto,
        &["deploy", "--plan", "plan.json", "--yes"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("does not match the plan's SHA-256"), "{err}");
    // GIVEN the reviewed change set replaced by another of the same name (another template)
    std::fs::write(dir.path().join("plan.json"), reviewed.to_string()).unwrap();
    let name = reviewed["stacks"][0]["changeSetName"].as_str().unwrap();
    let (status, text) = moto.query(
        "cloudformation",
        &format!(
            "Action=DeleteChangeSet&Version=2010-05-15&StackName=dev-App&ChangeSetName={name}"
        ),
    );
    assert_eq!(status, 200, "{text}");
    let body = with_queue("dev-substituted").to_string();
    let form = format!(
        "Action=CreateChangeSet&Version=2010-05-15&StackName=dev-App&ChangeSetName={name}&ChangeSetType=UPDATE&TemplateBody={}",
        url::form_urlencoded::byte_serialize(body.as_bytes()).collect::<String>()
    );
    let (status, text) = moto.query("cloudformation", &form);
    assert_eq!(status, 200, "{text}");
    // WHEN the plan is executed
    let out = pantri_on_moto(
        dir.path(),
        &moto,
        &["deploy", "--plan", "plan.json", "--yes"],
    );
    // THEN it is refused: the change set is not the reviewed one; nothing ran
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is not the reviewed one"), "{err}");
    assert!(!deployed_template(&moto).contains("dev-substituted"));
}

#[test]
fn a_prepared_allow_star_asks_even_when_prepared_with_approval_off() {
    let moto = Moto::start();
    let dir = workdir();
    // GIVEN a plan, prepared with --require-approval never, adding Allow * on *
    let a = app(dir.path(), &topic());
    let out = pantri_on_moto(dir.path(), &moto, &["deploy", "dev", "--yes", "--app", &a]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let a = app(dir.path(), &with_admin_policy());
    let out = pantri_on_moto(
        dir.path(),
        &moto,
        &[
            "deploy",
            "dev",
            "--app",
            &a,
            "--method",
            "prepare-change-set",
            "--plan-out",
            "plan.json",
            "--require-approval",
            "never",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("needs approval"), "{}", stdout(&out));
    // WHEN it is executed without --yes and no terminal
    let out = pantri_on_moto(dir.path(), &moto, &["deploy", "--plan", "plan.json"]);
    // THEN exit 3 naming the finding, and nothing ran
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("Everything"), "{err}");
    assert!(!deployed_template(&moto).contains("Everything"));
    // and with --yes it runs
    let out = pantri_on_moto(
        dir.path(),
        &moto,
        &["deploy", "--plan", "plan.json", "--yes"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(deployed_template(&moto).contains("Everything"));
}
