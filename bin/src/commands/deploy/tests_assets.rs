//! Deploy's work around stacks against the scripted fake: outputs a stack needs from another
//! stack and why one is missing.

use std::collections::BTreeMap;

use pantri_synth::assembly::CrossRegionLink;
use serde_json::json;

use super::tests::{deploy_as, stack};
use crate::deploy::fake::Fake;
use crate::deploy::progress::NoConfirm;
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
