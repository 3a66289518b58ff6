//! Names a new stack would take that a retained resource holds already (refused before any
//! change set), and the ACM validation records destroy removes from a zone it deletes.

use serde_json::json;

use super::tests::{deploy, destroy, stack, Yes};
use crate::deploy::api::StackResource;
use crate::deploy::fake::Fake;
use crate::deploy::names::NamedKind;
use crate::deploy::zones::Record;
use crate::exit::Exit;

fn logs_template() -> serde_json::Value {
    json!({"Resources": {
        "AppLogs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain",
            "Properties": {"LogGroupName": "/aws/ecs/pantri-dev"}},
        "Repository": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain",
            "Properties": {"RepositoryName": "pantri-dev"}}
    }})
}

#[tokio::test]
async fn a_name_kept_by_an_earlier_stack_stops_the_deploy_before_any_change_set() {
    // GIVEN a log group left by an earlier (destroyed) stack under the name the new one takes
    let fake = Fake::default();
    fake.state()
        .taken_names
        .insert((NamedKind::LogGroup, "/aws/ecs/pantri-dev".into()));
    let stacks = [stack("Service", "us-east-1", logs_template(), &[])];
    // WHEN the stack is deployed
    let run = deploy(&fake, &stacks, "dev --yes", &Yes).await;
    // THEN nothing is created, and the one problem names the resource and the way out
    assert_eq!(run.exit, Exit::Failed, "{}", run.err);
    let calls = fake.calls();
    assert!(
        !calls.iter().any(|c| c.starts_with("CreateChangeSet")),
        "{calls:?}"
    );
    assert!(
        run.err.contains("[dev/Service] log group /aws/ecs/pantri-dev (AppLogs) exists already outside stack dev-Service"),
        "{}",
        run.err
    );
    assert!(
        run.err.contains(
            "aws logs delete-log-group --log-group-name /aws/ecs/pantri-dev --region us-east-1"
        ),
        "{}",
        run.err
    );
    // The free name was asked too, and is no problem.
    assert!(calls.contains(&"NameTaken Repository pantri-dev".to_owned()));
    assert!(
        !run.err.contains("ECR repository pantri-dev"),
        "{}",
        run.err
    );
}

#[tokio::test]
async fn a_name_the_stack_holds_itself_is_no_leftover() {
    // GIVEN a deployed stack that owns both named resources
    let fake = Fake::default().with_stack(
        "dev-Service",
        "CREATE_COMPLETE",
        &logs_template().to_string(),
    );
    fake.state().resources.insert(
        "dev-Service".into(),
        [
            ("AppLogs", "/aws/ecs/pantri-dev", "AWS::Logs::LogGroup"),
            ("Repository", "pantri-dev", "AWS::ECR::Repository"),
        ]
        .iter()
        .map(|(id, physical, ty)| StackResource {
            logical_id: (*id).into(),
            physical_id: Some((*physical).into()),
            resource_type: (*ty).into(),
            status: "CREATE_COMPLETE".into(),
        })
        .collect(),
    );
    {
        let mut s = fake.state();
        s.taken_names
            .insert((NamedKind::LogGroup, "/aws/ecs/pantri-dev".into()));
        s.taken_names
            .insert((NamedKind::Repository, "pantri-dev".into()));
    }
    let mut template = logs_template();
    template["Resources"]["Topic"] = json!({"Type": "AWS::SNS::Topic"});
    let stacks = [stack("Service", "us-east-1", template, &[])];
    // WHEN it is updated
    let run = deploy(&fake, &stacks, "dev --yes", &Yes).await;
    // THEN its own names are not asked about, and the update goes on
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(
        !fake.calls().iter().any(|c| c.starts_with("NameTaken")),
        "{:?}",
        fake.calls()
    );
}

#[tokio::test]
async fn destroy_removes_acm_validation_records_from_a_zone_it_deletes_and_names_kept_names() {
    // GIVEN dev/Data with a deleted zone holding ACM's validation record (its certificate's
    // stack is gone) and a retained repository
    let template = json!({"Resources": {
        "Zone": {"Type": "AWS::Route53::HostedZone", "DeletionPolicy": "Delete",
            "Properties": {"Name": "dev.pantri.example.com."}},
        "Repository": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "RetainExceptOnCreate",
            "Properties": {"RepositoryName": "pantri-dev"}}
    }});
    let fake = Fake::default().with_stack("dev-Data", "CREATE_COMPLETE", &template.to_string());
    fake.state().resources.insert(
        "dev-Data".into(),
        vec![StackResource {
            logical_id: "Zone".into(),
            physical_id: Some("Z0DEV".into()),
            resource_type: "AWS::Route53::HostedZone".into(),
            status: "CREATE_COMPLETE".into(),
        }],
    );
    let validation = Record::one(
        "_3f2a.dev.pantri.example.com.",
        "CNAME",
        "_9c1b.xlfgrmvvlj.acm-validations.aws.",
    );
    let somebodys = Record::one("www.dev.pantri.example.com.", "CNAME", "example.net.");
    fake.state().zones.insert(
        "Z0DEV".into(),
        (
            "dev.pantri.example.com.".into(),
            vec![
                Record::one("dev.pantri.example.com.", "NS", "ns-1.awsdns-00.com."),
                validation.clone(),
                somebodys.clone(),
            ],
        ),
    );
    let stacks = [stack("Data", "us-east-1", template, &[])];
    // WHEN the stage is destroyed
    let run = destroy(&fake, &stacks, "dev --yes").await;
    // THEN the validation record goes before the stack, and only it
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let calls = fake.calls();
    let removed = calls.iter().position(|c| c == "DeleteRecords Z0DEV 1");
    let deleted = calls.iter().position(|c| c == "DeleteStack dev-Data");
    assert!(removed.is_some() && removed < deleted, "{calls:?}");
    let left = fake.state().zones["Z0DEV"].1.clone();
    assert!(
        !left.contains(&validation) && left.contains(&somebodys),
        "{left:?}"
    );
    let out = &run.out;
    assert!(
        out.contains("removed 1 ACM validation record(s) from Zone (dev.pantri.example.com.)"),
        "{out}"
    );
    // AND the retained repository is named as what blocks the next deploy
    assert!(
        out.contains("cannot create pantri-dev again while it exists"),
        "{out}"
    );
}
