//! Deploy's work around stacks against the scripted fake: outputs a stack needs from another
//! stack and why one is missing; a plan's assets, recorded when it is prepared, checked and
//! published when it executes, and the invalidation after its stack.

use std::collections::BTreeMap;

use pantri_synth::assembly::{CrossRegionLink, StackArtifact};
use serde_json::json;

use super::run::{deploy_with_hooks, plan_with_hooks};
use super::tests::{bucket_template, deploy_args, deploy_as, stack};
use crate::deploy::engine::plan_artifacts;
use crate::deploy::error::DeployError;
use crate::deploy::fake::Fake;
use crate::deploy::hooks::{HookFuture, Outputs, PrecheckFuture, StackHooks};
use crate::deploy::planfile::{Plan, PlannedAsset};
use crate::deploy::progress::{NoConfirm, Ui};
use crate::exit::Exit;

/// `App` (eu-west-1) reads output `CertArn` of `Cert` (us-east-1, whose client is `east`);
/// deploys `App` alone and returns its stderr, after checking nothing was deployed.
async fn deploy_app_without(east: Fake, cert: serde_json::Value) -> String {
    let west = Fake::default();
    let mut app = stack(
        "App",
        "eu-west-1",
        json!({"Parameters": {"CertArn": {"Type": "String"}}, "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
        &["Cert"],
    );
    app.cross_region.push(CrossRegionLink {
        parameter: "CertArn".into(),
        producer: "dev-Cert".into(),
        output: "CertArn".into(),
    });
    let stacks = [app, stack("Cert", "us-east-1", cert, &[])];
    let clients: BTreeMap<String, Fake> = [
        ("us-east-1".to_owned(), east),
        ("eu-west-1".to_owned(), west.clone()),
    ]
    .into();
    let run = deploy_as(&clients, &stacks, "dev App --exclusively", None, &NoConfirm).await;
    assert_ne!(run.exit, Exit::Success, "{}", run.err);
    assert!(
        !west
            .calls()
            .iter()
            .any(|c| c.starts_with("CreateChangeSet")),
        "nothing deployed without the value"
    );
    run.err
}

/// `Cert` deployed with `template`, without the output's value.
async fn missing_output(template: serde_json::Value) -> String {
    let east = Fake::default().with_stack("dev-Cert", "CREATE_COMPLETE", &template.to_string());
    deploy_app_without(east, template).await
}

#[tokio::test]
async fn a_missing_output_says_whether_the_template_or_the_endpoint_lacks_it() {
    // Deployed before the output existed: deploy the producer.
    let old = json!({"Resources": {"Cert": {"Type": "AWS::SNS::Topic"}}});
    let err = missing_output(old).await;
    assert!(
        err.contains("output CertArn of stack dev-Cert (us-east-1) is not available: the stack is CREATE_COMPLETE and its deployed template has no such output: deploy dev/Cert first"),
        "{err}"
    );
    // The template declares it, DescribeStacks shows no value (moto after a change set).
    let declared = json!({"Resources": {"Cert": {"Type": "AWS::SNS::Topic"}},
                          "Outputs": {"CertArn": {"Value": {"Ref": "Cert"}}}});
    let err = missing_output(declared).await;
    assert!(
        err.contains("the stack is CREATE_COMPLETE and its template declares the output, but the endpoint reports no value for it (moto 5.2 reports no outputs of a stack deployed through a change set)"),
        "{err}"
    );
    assert!(!err.contains("deploy dev/Cert first"), "{err}");
}

#[tokio::test]
async fn a_producer_that_does_not_exist_is_deployed_first() {
    let cert = json!({"Resources": {"Cert": {"Type": "AWS::SNS::Topic"}}});
    let err = deploy_app_without(Fake::default(), cert).await;
    assert!(
        err.contains("output CertArn of stack dev-Cert (us-east-1) is not available: the stack does not exist: deploy dev/Cert first"),
        "{err}"
    );
}

/// Hooks that record, in the fake's call list, when a stack's assets would be published and
/// its paths invalidated, and say which assets each stack has.
struct Recording {
    fake: Fake,
    assets: BTreeMap<String, Vec<PlannedAsset>>,
    fail_before: Option<String>,
    /// What the precheck refuses, for this stack id.
    refuse: Option<String>,
}

impl Recording {
    fn new(fake: &Fake, edge_tree: &str) -> Self {
        Recording {
            fake: fake.clone(),
            assets: [("dev-Edge".to_owned(), vec![tree("Public", edge_tree)])].into(),
            fail_before: None,
            refuse: None,
        }
    }
}

fn tree(id: &str, hash: &str) -> PlannedAsset {
    PlannedAsset {
        id: id.into(),
        kind: "tree".into(),
        hash: hash.into(),
    }
}

impl StackHooks for Recording {
    fn parameters(&self, _stack: &StackArtifact) -> Vec<(String, String)> {
        Vec::new()
    }
    fn assets(&self, stack: &StackArtifact) -> Vec<PlannedAsset> {
        self.assets.get(&stack.id).cloned().unwrap_or_default()
    }
    fn precheck<'s>(&'s self, stacks: &'s [&'s StackArtifact]) -> PrecheckFuture<'s> {
        Box::pin(async move {
            stacks
                .iter()
                .filter(|s| self.refuse.as_deref() == Some(s.id.as_str()))
                .map(|s| DeployError::Failed {
                    stack: s.display_name.clone(),
                    message: "asset Image: not pushing".into(),
                })
                .collect()
        })
    }
    fn outputs_before(&self, _stack: &StackArtifact) -> Vec<(String, String)> {
        Vec::new()
    }
    fn outputs_after(&self, _stack: &StackArtifact) -> Vec<(String, String)> {
        Vec::new()
    }
    fn before<'s, 'u: 's>(
        &'s self,
        stack: &'s StackArtifact,
        _outputs: &'s Outputs,
        _ui: &'s Ui<'u>,
    ) -> HookFuture<'s> {
        Box::pin(async move {
            self.fake
                .state()
                .calls
                .push(format!("publish {}", stack.id));
            if self.fail_before.as_deref() == Some(stack.id.as_str()) {
                return Err(DeployError::Failed {
                    stack: stack.display_name.clone(),
                    message: "asset Public: the bucket refused".into(),
                });
            }
            Ok(())
        })
    }
    fn after<'s, 'u: 's>(
        &'s self,
        stack: &'s StackArtifact,
        _outputs: &'s Outputs,
        _ui: &'s Ui<'u>,
    ) -> HookFuture<'s> {
        Box::pin(async move {
            self.fake
                .state()
                .calls
                .push(format!("invalidate {}", stack.id));
            Ok(())
        })
    }
}

fn data_and_edge() -> [StackArtifact; 2] {
    [
        stack("Data", "us-east-1", bucket_template(), &[]),
        stack(
            "Edge",
            "us-east-1",
            json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
            &["Data"],
        ),
    ]
}

/// Prepares a plan of Data and Edge with `hooks` into `dir`; the fake's calls are then cleared.
async fn prepare(fake: &Fake, hooks: &Recording, dir: &std::path::Path) -> Plan {
    let path = dir.join("plan.json");
    let args = deploy_args(&format!(
        "dev --method prepare-change-set --plan-out {}",
        path.display()
    ));
    let clients: BTreeMap<String, Fake> = [("us-east-1".to_owned(), fake.clone())].into();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = deploy_with_hooks(
        &args,
        &data_and_edge(),
        &clients,
        None,
        Some(hooks),
        &NoConfirm,
        &mut out,
        &mut err,
    )
    .await;
    assert_eq!(exit, Exit::Success, "{}", String::from_utf8_lossy(&err));
    fake.state().calls.clear();
    Plan::read(&path).expect("plan")
}

/// Executes `plan` with `hooks` (none: no `--app`), as `pantri deploy --plan` does.
async fn execute(fake: &Fake, plan: &Plan, hooks: Option<&Recording>) -> (Exit, String) {
    let clients: BTreeMap<String, Fake> = [("us-east-1".to_owned(), fake.clone())].into();
    let mut stacks = plan_artifacts(plan);
    for s in &mut stacks {
        s.id = s.display_name.replace('/', "-");
    }
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = plan_with_hooks(
        &deploy_args("--plan plan.json --yes"),
        plan,
        &stacks,
        &stacks,
        &clients,
        None,
        hooks.map(|h| h as &dyn StackHooks),
        &NoConfirm,
        &mut out,
        &mut err,
    )
    .await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
    (exit, text)
}

fn hook_and_execute_calls(fake: &Fake) -> Vec<String> {
    fake.calls()
        .into_iter()
        .filter(|c| {
            c.starts_with("publish")
                || c.starts_with("invalidate")
                || c.starts_with("ExecuteChangeSet")
        })
        .collect()
}

#[tokio::test]
async fn a_plan_publishes_each_stacks_assets_before_its_change_set_and_invalidates_after_it() {
    // GIVEN a plan of Data and Edge prepared with Edge's tree at hash t1
    let fake = Fake::default();
    let hooks = Recording::new(&fake, "t1");
    let dir = tempfile::tempdir().expect("tmp");
    let plan = prepare(&fake, &hooks, dir.path()).await;
    assert_eq!(plan.stacks[1].display_name, "dev/Edge");
    assert_eq!(
        plan.stacks[1].assets,
        [tree("Public", "t1")],
        "recorded in the plan"
    );
    assert!(plan.stacks[0].assets.is_empty());
    // WHEN it executes with the same assembly
    let (exit, text) = execute(&fake, &plan, Some(&hooks)).await;
    // THEN each stack publishes just before its change set and invalidates once deployed
    assert_eq!(exit, Exit::Success, "{text}");
    assert_eq!(
        hook_and_execute_calls(&fake),
        [
            "publish dev-Data",
            "ExecuteChangeSet dev-Data",
            "invalidate dev-Data",
            "publish dev-Edge",
            "ExecuteChangeSet dev-Edge",
            "invalidate dev-Edge",
        ]
    );
}

#[tokio::test]
async fn a_plan_is_refused_before_anything_runs_when_the_app_is_not_the_one_reviewed() {
    let fake = Fake::default();
    let dir = tempfile::tempdir().expect("tmp");
    let plan = prepare(&fake, &Recording::new(&fake, "t1"), dir.path()).await;
    // WHEN the app was rebuilt after the plan was made
    let rebuilt = Recording::new(&fake, "t2");
    let (exit, text) = execute(&fake, &plan, Some(&rebuilt)).await;
    // THEN nothing is published or executed
    assert_eq!(exit, Exit::Failed, "{text}");
    assert!(
        text.contains("[dev/Edge] tree Public is t2 in the assembly, t1 in the plan: the assembly is not the one the plan was prepared from; prepare the plan again, or execute it with the reviewed commit's assembly"),
        "{text}"
    );
    assert!(
        hook_and_execute_calls(&fake).is_empty(),
        "{:?}",
        fake.calls()
    );
    // WHEN executed without an assembly (no --app)
    let (exit, text) = execute(&fake, &plan, None).await;
    assert_eq!(exit, Exit::Usage, "{text}");
    assert!(
        text.contains("[dev/Edge] the plan publishes 1 asset(s): pass --app with the assembly it was prepared from"),
        "{text}"
    );
    assert!(
        hook_and_execute_calls(&fake).is_empty(),
        "{:?}",
        fake.calls()
    );
}

#[tokio::test]
async fn a_failed_publish_keeps_the_plans_change_set_from_executing() {
    let fake = Fake::default();
    let dir = tempfile::tempdir().expect("tmp");
    let plan = prepare(&fake, &Recording::new(&fake, "t1"), dir.path()).await;
    let failing = Recording {
        fail_before: Some("dev-Edge".into()),
        ..Recording::new(&fake, "t1")
    };
    let (exit, text) = execute(&fake, &plan, Some(&failing)).await;
    assert_eq!(exit, Exit::Failed, "{text}");
    assert!(
        text.contains("[dev/Edge] asset Public: the bucket refused"),
        "{text}"
    );
    assert_eq!(
        hook_and_execute_calls(&fake),
        [
            "publish dev-Data",
            "ExecuteChangeSet dev-Data",
            "invalidate dev-Data",
            "publish dev-Edge",
        ],
        "Edge's change set never executes"
    );
}

#[tokio::test]
async fn what_the_hooks_would_refuse_stops_a_deploy_and_a_plan_before_anything_is_touched() {
    let fake = Fake::default();
    let dir = tempfile::tempdir().expect("tmp");
    let plan = prepare(&fake, &Recording::new(&fake, "t1"), dir.path()).await;
    let refusing = Recording {
        refuse: Some("dev-Edge".into()),
        ..Recording::new(&fake, "t1")
    };
    // A deploy: Data is not deployed although only Edge's image is refused.
    let clients: BTreeMap<String, Fake> = [("us-east-1".to_owned(), fake.clone())].into();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = deploy_with_hooks(
        &deploy_args("dev"),
        &data_and_edge(),
        &clients,
        None,
        Some(&refusing),
        &NoConfirm,
        &mut out,
        &mut err,
    )
    .await;
    let err = String::from_utf8_lossy(&err);
    assert_eq!(exit, Exit::Failed, "{err}");
    assert!(err.contains("[dev/Edge] asset Image: not pushing"), "{err}");
    let touched = |c: &String| c.starts_with("CreateChangeSet") || c.starts_with("publish");
    assert!(!fake.calls().iter().any(touched), "{:?}", fake.calls());
    // A plan: the same, before its first change set.
    let (exit, text) = execute(&fake, &plan, Some(&refusing)).await;
    assert_eq!(exit, Exit::Failed, "{text}");
    assert!(
        text.contains("[dev/Edge] asset Image: not pushing"),
        "{text}"
    );
    assert!(
        hook_and_execute_calls(&fake).is_empty(),
        "{:?}",
        fake.calls()
    );
}
