//! `App::get_mut`, the escape hatch the constructs' docs point to: a resource's typed props can
//! be changed after a construct made it, and the change is what synth writes.

use pantri_synth::cfn::logs::CfnLogGroup;
use pantri_synth::cfn::sqs::CfnQueue;
use pantri_synth::{synthesize, App, Environment, Res, StackProps, SynthOptions};

fn app_with_group() -> (App, Res<CfnLogGroup>) {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new("123456789012", "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    let group = stack.resource("Group", CfnLogGroup::new().retention_in_days(7));
    (app, group)
}

fn group_properties(app: &App) -> serde_json::Value {
    let s = synthesize(app, &SynthOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let stacks = s.assembly.stacks().expect("stacks");
    let t = &stacks
        .iter()
        .find(|s| s.id == "dev-S")
        .expect("dev-S")
        .template;
    let resources = t["Resources"].as_object().expect("resources");
    assert_eq!(resources.len(), 1);
    resources.values().next().expect("the group")["Properties"].clone()
}

#[test]
fn get_mut_changes_what_synth_writes() {
    // GIVEN a log group made with a 7-day retention
    let (mut app, group) = app_with_group();
    assert_eq!(group_properties(&app)["RetentionInDays"], 7);
    // WHEN the escape hatch changes it and sets another property
    let g = app.get_mut(group).expect("the group is a CfnLogGroup");
    g.retention_in_days = Some(30.into());
    g.log_group_name = Some("/app/dev".into());
    // THEN synth writes the changed props
    let p = group_properties(&app);
    assert_eq!(p["RetentionInDays"], 30);
    assert_eq!(p["LogGroupName"], "/app/dev");
    // AND `get` reads the same
    assert_eq!(
        app.get(group).and_then(|g| g.log_group_name.clone()),
        Some("/app/dev".into())
    );
}

#[test]
fn get_mut_of_another_type_or_a_node_that_is_no_resource_is_none() {
    let (mut app, group) = app_with_group();
    // A handle of the wrong type to the same node downcasts to nothing.
    let wrong: Res<CfnQueue> = Res::dangling_for(group.node());
    assert!(app.get_mut(wrong).is_none());
    // A handle to the stack (not a resource) is none too, not a panic.
    let stack = app.parent(group.node()).expect("the stack");
    let not_a_resource: Res<CfnLogGroup> = Res::dangling_for(stack);
    assert!(app.get_mut(not_a_resource).is_none());
    // And the escape hatch changed nothing on the way.
    assert_eq!(group_properties(&app)["RetentionInDays"], 7);
}
