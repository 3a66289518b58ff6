//! What a first deploy of the reference app in a fresh account needs, one assertion per point of
//! the review that found it missing (issue 10): DNS delegation, the app's wiring, retry-safe
//! retention, logs, alerts, the smaller findings, hardening.

use pantri_synth::assembly::StackArtifact;
use serde_json::{json, Value};

#[path = "reference.rs"]
mod reference;
use reference::{as_list, reference, resources, stack};

fn settings(stage: &str) -> String {
    std::fs::read_to_string(pantri_tests::workspace_root().join(format!("stages/{stage}.yaml")))
        .unwrap_or_else(|e| panic!("{stage}.yaml: {e}"))
}

fn output<'a>(s: &'a StackArtifact, suffix: &str) -> &'a Value {
    s.template["Outputs"]
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.contains(suffix)).map(|(_, v)| v))
        .unwrap_or_else(|| panic!("{}: no output *{suffix}*", s.display_name))
}

/// The app container's definition in a stage's Service stack.
fn app_container(stacks: &[StackArtifact], stage: &str) -> Value {
    let service = stack(stacks, &format!("{stage}/Service"));
    let defs = resources(service, "AWS::ECS::TaskDefinition");
    assert_eq!(defs.len(), 1, "{stage}: one task definition");
    as_list(&defs[0].1["Properties"]["ContainerDefinitions"])
        .into_iter()
        .find(|c| c["Name"] == "web")
        .cloned()
        .unwrap_or_else(|| panic!("{stage}: no web container"))
}

fn env_of(container: &Value) -> Vec<(String, Value)> {
    as_list(&container["Environment"])
        .iter()
        .map(|kv| {
            (
                kv["Name"].as_str().unwrap_or("").to_owned(),
                kv["Value"].clone(),
            )
        })
        .collect()
}

#[test]
fn point_1_a_stage_with_a_parent_zone_in_the_account_writes_its_delegation_before_certificates() {
    let stacks = reference();
    // dev names prod's zone as its parent; prod's parent is at a registrar.
    assert!(settings("dev").contains("parent_zone_id:"));
    assert!(!settings("prod").contains("parent_zone_id:"));

    let data = stack(&stacks, "dev/Data");
    let zones = resources(data, "AWS::Route53::HostedZone");
    assert_eq!(zones.len(), 1, "dev/Data: one zone");
    let ns: Vec<_> = resources(data, "AWS::Route53::RecordSet")
        .into_iter()
        .filter(|(_, r)| r["Properties"]["Type"] == "NS")
        .collect();
    assert_eq!(ns.len(), 1, "dev/Data: one delegating NS record");
    let p = &ns[0].1["Properties"];
    assert_eq!(p["Name"], "dev.pantri.example.com.");
    assert_eq!(p["HostedZoneId"], "Z0PANTRIPRODEXAMPLE");
    assert_eq!(
        p["ResourceRecords"],
        json!({"Fn::GetAtt": [zones[0].0, "NameServers"]}),
        "the NS values are the child zone's own name servers"
    );
    // The certificate stacks come after the stack that delegates.
    for stage in ["dev", "prod"] {
        for certified in ["Global", "Service"] {
            let s = stack(&stacks, &format!("{stage}/{certified}"));
            assert!(
                s.dependencies.iter().any(|d| d == &format!("{stage}-Data")),
                "{stage}/{certified} does not deploy after {stage}/Data: {:?}",
                s.dependencies
            );
        }
    }
    // prod delegates by hand: its output says where, not "at the registrar" of a subdomain.
    let prod = stack(&stacks, "prod/Data");
    assert!(resources(prod, "AWS::Route53::RecordSet").is_empty());
    let description = output(prod, "NameServers")["Description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.contains("parent domain"),
        "prod's NameServers output: {description}"
    );
}

#[test]
fn point_2_the_app_sees_its_public_host_url_pool_client_issuer_and_bucket() {
    let stacks = reference();
    for (stage, domain) in [
        ("dev", "dev.pantri.example.com"),
        ("prod", "pantri.example.com"),
    ] {
        // CloudFront sends the public host in X-Forwarded-Host (Host stays the origin's name).
        let edge = stack(&stacks, &format!("{stage}/Edge"));
        let dist = resources(edge, "AWS::CloudFront::Distribution");
        assert_eq!(dist.len(), 1);
        let origins = as_list(&dist[0].1["Properties"]["DistributionConfig"]["Origins"]);
        let app = origins
            .iter()
            .find(|o| o["Id"] == "App")
            .unwrap_or_else(|| panic!("{stage}: no App origin"));
        assert!(
            as_list(&app["OriginCustomHeaders"])
                .iter()
                .any(|h| h["HeaderName"] == "X-Forwarded-Host" && h["HeaderValue"] == domain),
            "{stage}: the App origin does not carry X-Forwarded-Host: {}",
            app["OriginCustomHeaders"]
        );

        let env = env_of(&app_container(&stacks, stage));
        let get = |name: &str| {
            env.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{stage}: the app has no {name}: {env:?}"))
        };
        for name in ["AUTH_URL", "NEXTAUTH_URL"] {
            assert_eq!(get(name), format!("https://{domain}"), "{stage}: {name}");
        }
        // Values made in Data reach the container as imports, not literals.
        for name in [
            "COGNITO_CLIENT_ID",
            "COGNITO_ISSUER",
            "COGNITO_USER_POOL_ID",
            "STATIC_BUCKET",
        ] {
            assert!(
                get(name)
                    .to_string()
                    .contains("\"Fn::ImportValue\":\"pantri-"),
                "{stage}: {name} is not imported from Data: {}",
                get(name)
            );
        }

        // Callback and logout URLs follow the settings.
        let client = resources(
            stack(&stacks, &format!("{stage}/Data")),
            "AWS::Cognito::UserPoolClient",
        );
        assert_eq!(client.len(), 1);
        let callbacks = &client[0].1["Properties"]["CallbackURLs"];
        let mut want = vec![format!("https://{domain}/api/auth/callback/cognito")];
        if stage == "dev" {
            want.push("http://localhost:3000/api/auth/callback/cognito".to_owned());
        }
        assert_eq!(callbacks, &json!(want), "{stage}: callbacks");

        // The task role may not use sign-in flows the client refuses.
        let flows = &client[0].1["Properties"]["ExplicitAuthFlows"];
        let service = stack(&stacks, &format!("{stage}/Service"));
        let roles = resources(service, "AWS::IAM::Role");
        let task_role = roles
            .iter()
            .find(|(id, _)| id.contains("TaskRole"))
            .unwrap_or_else(|| panic!("{stage}: no task role"));
        let actions = task_role.1["Properties"]["Policies"].to_string();
        assert!(
            actions.contains("cognito-idp:AdminGetUser"),
            "{stage}: {actions}"
        );
        if !flows.to_string().contains("ADMIN_USER_PASSWORD_AUTH") {
            assert!(
                !actions.contains("AdminInitiateAuth")
                    && !actions.contains("AdminRespondToAuthChallenge"),
                "{stage}: the task role holds admin sign-in actions the client does not allow"
            );
        }
    }
}
