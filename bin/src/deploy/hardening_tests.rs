//! The deploy path's hardening checks.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use pantri_synth::assembly::{EnvParameter, StackArtifact, StackProperties};
use pantri_synth::Environment;

use super::*;

#[test]
fn plaintext_http_is_allowed_only_to_loopback() {
    for ok in [
        "https://cloudformation.us-east-1.amazonaws.com",
        "https://10.0.0.5:8443",
        "http://127.0.0.1:5000",
        "http://127.8.9.10",
        "http://localhost:4566/",
        "http://LOCALHOST:4566",
        "http://[::1]:5000",
    ] {
        assert_eq!(check_endpoint(ok), Ok(()), "{ok}");
    }
    for bad in [
        "http://10.0.0.5:5000",
        "http://moto.internal:5000",
        "http://localhost.evil.example:5000",
        "http://[::2]:5000",
        "http://0.0.0.0:5000",
    ] {
        let e = check_endpoint(bad).unwrap_err();
        assert!(
            e.contains("plaintext HTTP to another machine"),
            "{bad}: {e}"
        );
    }
    assert!(check_endpoint("ftp://127.0.0.1")
        .unwrap_err()
        .contains("scheme ftp"));
    assert!(check_endpoint("not a url")
        .unwrap_err()
        .contains("is not a URL"));
}

#[test]
fn every_endpoint_override_is_printed_and_checked_wherever_it_comes_from() {
    let env = |v: &str| match v {
        "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000".to_owned()),
        "AWS_ENDPOINT_URL_S3" => Some("http://192.168.1.20:9000".to_owned()),
        _ => None,
    };
    let e = check_endpoints(None, &env).unwrap_err();
    assert!(
        e.starts_with("endpoint override from AWS_ENDPOINT_URL_S3: http://192.168.1.20:9000 is plaintext HTTP"),
        "{e}"
    );
    let only_local =
        |v: &str| (v == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:5000".to_owned());
    assert_eq!(
        check_endpoints(Some("https://cfn.example.com"), &only_local).unwrap(),
        [
            "note: using endpoint https://cfn.example.com (from --endpoint-url) instead of AWS's",
            "note: using endpoint http://127.0.0.1:5000 (from AWS_ENDPOINT_URL) instead of AWS's"
        ]
    );
    assert!(check_endpoints(None, &|_| None).unwrap().is_empty());
}

#[test]
fn an_emulator_is_an_endpoint_override_on_this_machine() {
    let none = |_: &str| None;
    assert_eq!(emulator_endpoint(None, &none), None);
    // A real AWS endpoint (a VPC endpoint, a FIPS host) is no emulator.
    assert_eq!(
        emulator_endpoint(
            Some("https://vpce-1.cloudformation.us-east-1.vpce.amazonaws.com"),
            &none
        ),
        None
    );
    assert_eq!(
        emulator_endpoint(Some("http://127.0.0.1:5731"), &none).as_deref(),
        Some("http://127.0.0.1:5731 (--endpoint-url)")
    );
    let ecr_only =
        |v: &str| (v == "AWS_ENDPOINT_URL_ECR").then(|| "http://localhost:4566".to_owned());
    assert_eq!(
        emulator_endpoint(Some("https://cfn.example.com"), &ecr_only).as_deref(),
        Some("http://localhost:4566 (AWS_ENDPOINT_URL_ECR)")
    );
}

fn artifact(template: serde_json::Value, env: &[(&str, &str)]) -> StackArtifact {
    StackArtifact {
        id: "prod-Data".into(),
        display_name: "prod/Data".into(),
        stage: "prod".into(),
        env: Environment::new("123456789012", "us-east-1"),
        properties: StackProperties {
            template_file: "prod-Data.template.json".into(),
            stack_name: "pantri-prod-data".into(),
            termination_protection: true,
            tags: BTreeMap::new(),
        },
        template_size: 0,
        template,
        dependencies: Vec::new(),
        cross_region: Vec::new(),
        env_parameters: env
            .iter()
            .map(|(p, v)| EnvParameter {
                parameter: (*p).into(),
                variable: (*v).into(),
            })
            .collect(),
        logical_ids: IndexMap::new(),
    }
}

#[test]
fn an_environment_parameter_is_a_noecho_secret_of_the_deployer_that_no_output_echoes() {
    // GIVEN a well-formed secret parameter
    let good = artifact(
        serde_json::json!({"Parameters": {"DatadogApiKey": {"Type": "String", "NoEcho": true}}}),
        &[("DatadogApiKey", "DATADOG_API_KEY")],
    );
    assert!(check_env_parameters(&good).is_empty());

    // GIVEN one that reads a credential, one that is not NoEcho, and outputs echoing them
    let bad = artifact(
        serde_json::json!({
            "Parameters": {
                "Key": {"Type": "String", "NoEcho": true},
                "Plain": {"Type": "String"}
            },
            "Outputs": {
                "Leak": {"Value": {"Fn::Sub": "key=${Key}"}},
                "Leak2": {"Value": {"Fn::Join": ["", [{"Ref": "Plain"}]]}},
                "Fine": {"Value": {"Ref": "AWS::Region"}}
            }
        }),
        &[("Key", "AWS_SECRET_ACCESS_KEY"), ("Plain", "MY_TOKEN")],
    );
    let problems = check_env_parameters(&bad);
    // THEN every problem is reported at once
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains("[prod/Data] parameter Key would be filled from AWS_SECRET_ACCESS_KEY, a variable of the AWS credential chain"));
    assert!(problems[1].contains("output Leak echoes parameter Key"));
    assert!(problems[2].contains(
        "parameter Plain is filled from the environment variable MY_TOKEN but is not NoEcho"
    ));
    assert!(problems[3].contains("output Leak2 echoes parameter Plain"));
    assert!(
        is_aws_variable("aws_session_token")
            && is_aws_variable("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    );
    assert!(!is_aws_variable("DATADOG_API_KEY"));
}

#[test]
fn a_protected_stack_denies_replacing_and_deleting_its_stateful_resources_unless_allowed() {
    let template = serde_json::json!({"Resources": {
        "Logs": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "Topic": {"Type": "AWS::SNS::Topic"}
    }});
    assert_eq!(stateful_resources(&template), ["Logs", "Table"]);
    let policy = stack_policy(&template).unwrap();
    assert_eq!(policy["Statement"][1]["Effect"], "Deny");
    assert_eq!(
        policy["Statement"][1]["Action"],
        serde_json::json!(["Update:Replace", "Update:Delete"])
    );
    assert_eq!(
        policy["Statement"][1]["Resource"],
        serde_json::json!(["LogicalResourceId/Logs", "LogicalResourceId/Table"])
    );
    let during = override_policy(&template, &["Table".into()]).unwrap();
    assert_eq!(
        during["Statement"][1]["Resource"],
        serde_json::json!(["LogicalResourceId/Logs"])
    );
    let all = override_policy(&template, &["Table".into(), "Logs".into()]).unwrap();
    assert_eq!(
        all["Statement"].as_array().unwrap().len(),
        1,
        "nothing denied"
    );
    assert_eq!(
        stack_policy(&serde_json::json!({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})),
        None
    );
}
