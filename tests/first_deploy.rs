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
    // dev names prod's zone as its parent, by name (prod creates it: no id to copy by hand);
    // prod's parent is at a registrar.
    assert!(settings("dev").contains("parent_zone_name: pantri.example.com"));
    assert!(!settings("prod").contains("parent_zone_"));

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
    assert_eq!(p["HostedZoneName"], "pantri.example.com.");
    assert!(p.get("HostedZoneId").is_none(), "{p}");
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

/// The names after `marker` in `text` (`aws logs tail NAME`, `--cluster NAME`).
fn names_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    text.match_indices(marker)
        .map(|(i, _)| {
            let rest = &text[i + marker.len()..];
            let end = rest
                .find(|c: char| c.is_whitespace() || "`'\";,\\".contains(c))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|n| !n.is_empty() && !n.starts_with('<'))
        .collect()
}

/// Literal values of `property` on resources of `type_name` in a stage's templates.
fn names_of(stacks: &[StackArtifact], stage: &str, type_name: &str, property: &str) -> Vec<String> {
    stacks
        .iter()
        .filter(|s| s.stage == stage)
        .flat_map(|s| resources(s, type_name))
        .filter_map(|(_, r)| r["Properties"][property].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn point_4_app_logs_reach_cloudwatch_and_datadog_and_every_runbook_names_what_exists() {
    let stacks = reference();
    for stage in ["dev", "prod"] {
        let groups = names_of(&stacks, stage, "AWS::Logs::LogGroup", "LogGroupName");
        let clusters = names_of(&stacks, stage, "AWS::ECS::Cluster", "ClusterName");
        let app_group = format!("/aws/ecs/pantri-{stage}");
        assert!(
            groups.contains(&app_group),
            "{stage}: no {app_group} in {groups:?}"
        );

        // The app logs through FireLens to Datadog, and the router's extra config copies the
        // same stream to the app's log group.
        let app = app_container(&stacks, stage);
        assert_eq!(
            app["LogConfiguration"]["LogDriver"], "awsfirelens",
            "{stage}"
        );
        assert_eq!(
            app["LogConfiguration"]["Options"]["Name"], "datadog",
            "{stage}"
        );
        let service = stack(&stacks, &format!("{stage}/Service"));
        let task = resources(service, "AWS::ECS::TaskDefinition");
        let containers = as_list(&task[0].1["Properties"]["ContainerDefinitions"]);
        let router = containers
            .iter()
            .find(|c| c["FirelensConfiguration"].is_object())
            .unwrap_or_else(|| panic!("{stage}: no log router"));
        let options = &router["FirelensConfiguration"]["Options"];
        assert_eq!(options["config-file-type"], "file", "{stage}");
        let config_path = options["config-file-value"].as_str().unwrap_or_default();
        let mount = as_list(&router["MountPoints"])
            .into_iter()
            .find(|m| config_path.starts_with(m["ContainerPath"].as_str().unwrap_or("-")))
            .unwrap_or_else(|| {
                panic!("{stage}: the router's config {config_path} is on no volume")
            });
        let writer = containers
            .iter()
            .find(|c| {
                c["Name"] != router["Name"]
                    && as_list(&c["MountPoints"])
                        .iter()
                        .any(|m| m["SourceVolume"] == mount["SourceVolume"])
            })
            .unwrap_or_else(|| panic!("{stage}: nothing writes the router's config"));
        let script = writer["Command"].to_string();
        for needle in [
            "cloudwatch_logs",
            "Match web-firelens*",
            "auto_create_group false",
        ] {
            assert!(
                script.contains(needle),
                "{stage}: the config lacks {needle}: {script}"
            );
        }
        let app_group_id = resources(service, "AWS::Logs::LogGroup")
            .into_iter()
            .find(|(_, g)| g["Properties"]["LogGroupName"] == app_group.as_str())
            .map(|(id, _)| id.clone())
            .unwrap_or_default();
        assert!(
            script.contains(&format!("{{\"Ref\":\"{app_group_id}\"}}")),
            "{stage}: the CloudWatch output does not name the app's log group: {script}"
        );

        // Every log group and cluster a runbook names exists in the stage.
        let monitoring = stack(&stacks, &format!("{stage}/Monitoring"))
            .template
            .to_string();
        let mut named_groups = names_after(&monitoring, "aws logs tail ");
        named_groups.extend(names_after(&monitoring, "--log-group-name "));
        let named_clusters = names_after(&monitoring, "--cluster ");
        assert!(
            !named_groups.is_empty(),
            "{stage}: no runbook names a log group"
        );
        assert!(
            !named_clusters.is_empty(),
            "{stage}: no runbook names a cluster"
        );
        for g in named_groups {
            assert!(
                groups.iter().any(|x| x == g),
                "{stage}: a runbook tails {g}, not in {groups:?}"
            );
        }
        for c in named_clusters {
            assert!(
                clusters.iter().any(|x| x == c),
                "{stage}: a runbook names cluster {c}, not in {clusters:?}"
            );
        }
    }
    // The README's troubleshooting commands too.
    let readme = std::fs::read_to_string(pantri_tests::workspace_root().join("README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    let all_groups: Vec<String> = ["dev", "prod"]
        .iter()
        .flat_map(|s| names_of(&stacks, s, "AWS::Logs::LogGroup", "LogGroupName"))
        .collect();
    let all_clusters: Vec<String> = ["dev", "prod"]
        .iter()
        .flat_map(|s| names_of(&stacks, s, "AWS::ECS::Cluster", "ClusterName"))
        .collect();
    let mut readme_groups = names_after(&readme, "aws logs tail ");
    readme_groups.extend(names_after(&readme, "--log-group-name "));
    assert!(readme_groups.len() >= 2, "README names too few log groups");
    for g in readme_groups {
        assert!(
            all_groups.iter().any(|x| x == g),
            "README tails {g}, in no template"
        );
    }
    for c in names_after(&readme, "--cluster ") {
        assert!(
            all_clusters.iter().any(|x| x == c),
            "README names cluster {c}, in no template"
        );
    }
}

#[test]
fn point_5_every_stage_s_alarms_reach_datadog_and_the_settings_emails() {
    let stacks = reference();
    for stage in ["dev", "prod"] {
        let monitoring = stack(&stacks, &format!("{stage}/Monitoring"));
        let topics = resources(monitoring, "AWS::SNS::Topic");
        assert_eq!(topics.len(), 1, "{stage}: one alarm topic");
        let subs = as_list(&topics[0].1["Properties"]["Subscription"]);
        assert!(
            subs.iter().any(|s| s["Protocol"] == "https"
                && s["Endpoint"]
                    .to_string()
                    .contains("/intake/webhook/sns?api_key=")
                && s["Endpoint"]
                    .to_string()
                    .contains("{{resolve:secretsmanager:pantri/")),
            "{stage}: the alarm topic does not reach Datadog: {subs:?}"
        );
        let alarms = resources(monitoring, "AWS::CloudWatch::Alarm");
        assert!(!alarms.is_empty(), "{stage}: no alarms");
        for (id, a) in alarms {
            assert_eq!(
                a["Properties"]["AlarmActions"],
                json!([{"Fn::GetAtt": [topics[0].0, "TopicArn"]}]),
                "{stage}/{id}"
            );
        }
        // The subscription reads the API key secret made in Data: Monitoring deploys after it.
        assert!(
            monitoring
                .dependencies
                .iter()
                .any(|d| d == &format!("{stage}-Data")),
            "{stage}/Monitoring does not depend on Data"
        );
    }
}

/// Every container of a stage's task definition.
fn containers(stacks: &[StackArtifact], stage: &str) -> Vec<Value> {
    let service = stack(stacks, &format!("{stage}/Service"));
    let defs = resources(service, "AWS::ECS::TaskDefinition");
    assert_eq!(defs.len(), 1, "{stage}: one task definition");
    as_list(&defs[0].1["Properties"]["ContainerDefinitions"])
        .into_iter()
        .cloned()
        .collect()
}

#[test]
fn point_6_sidecars_are_pinned_edge_paths_cache_apart_and_datadog_covers_us_east_1() {
    let stacks = reference();
    for stage in ["dev", "prod"] {
        // Sidecar images are exact releases (no floating tags), the same in every stage.
        let sidecars: Vec<Value> = containers(&stacks, stage)
            .into_iter()
            .filter(|c| c["Name"] != "web")
            .collect();
        assert!(sidecars.len() >= 3, "{stage}: agent, router, init");
        for c in &sidecars {
            let image = c["Image"].as_str().unwrap_or_default();
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
            assert!(
                tag.split('.').count() == 3 && tag.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{stage}: {} runs {image}, not an exact release",
                c["Name"]
            );
            // No extra capability for any sidecar.
            assert_eq!(
                c["LinuxParameters"]["Capabilities"]["Drop"],
                json!(["ALL"]),
                "{stage}: {} keeps capabilities",
                c["Name"]
            );
        }

        // Optimized images and public files are cached by their own behaviours.
        let edge = stack(&stacks, &format!("{stage}/Edge"));
        let dist = &resources(edge, "AWS::CloudFront::Distribution")[0].1;
        let behaviours = as_list(&dist["Properties"]["DistributionConfig"]["CacheBehaviors"]);
        let image = behaviours
            .iter()
            .find(|b| b["PathPattern"] == "/_next/image*")
            .unwrap_or_else(|| panic!("{stage}: no /_next/image behaviour"));
        assert_eq!(image["TargetOriginId"], "App");
        let policies = resources(edge, "AWS::CloudFront::CachePolicy");
        let (policy_id, policy) = policies
            .iter()
            .find(|(id, _)| json!({"Fn::GetAtt": [id, "Id"]}) == image["CachePolicyId"])
            .unwrap_or_else(|| panic!("{stage}: the image behaviour's cache policy is not here"));
        let key =
            &policy["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"];
        assert_eq!(
            key["QueryStringsConfig"]["QueryStrings"],
            json!(["url", "w", "q"]),
            "{policy_id}"
        );
        assert_eq!(
            key["HeadersConfig"]["Headers"],
            json!(["Accept"]),
            "{policy_id}"
        );
        for path in ["/favicon.ico", "/images/*"] {
            assert!(
                behaviours
                    .iter()
                    .any(|b| b["PathPattern"] == path && b["TargetOriginId"] == "App"),
                "{stage}: no behaviour for {path}"
            );
        }

        // Uploads above the common rule set's 8 KiB body rule are not blocked by it; the app
        // gets the limit.
        let global = stack(&stacks, &format!("{stage}/Global"));
        let acl = resources(global, "AWS::WAFv2::WebACL");
        assert!(
            acl[0].1.to_string().contains("SizeRestrictions_BODY"),
            "{stage}: the body-size rule still blocks uploads"
        );
        let env = env_of(&app_container(&stacks, stage));
        assert!(
            env.iter()
                .any(|(n, v)| n == "MAX_BODY_BYTES" && v == &json!("10485760")),
            "{stage}: the app does not get the body limit"
        );
    }
    // The account's Datadog integration covers us-east-1 (CloudFront's metrics) whatever the
    // stage's region.
    let integration = stack(&stacks, "prod/DatadogIntegration");
    let regions = resources(integration, "Datadog::Integrations::AWSAccount")[0]
        .1
        .to_string();
    assert!(regions.contains("us-east-1"), "{regions}");
}

#[test]
fn point_7_hardening_of_the_templates() {
    let stacks = reference();
    for stage in ["dev", "prod"] {
        let service = stack(&stacks, &format!("{stage}/Service"));
        // The restricted TLS policy, desync mitigation `strictest`.
        for (id, l) in resources(service, "AWS::ElasticLoadBalancingV2::Listener") {
            assert_eq!(
                l["Properties"]["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
                "{id}"
            );
        }
        let lb = resources(service, "AWS::ElasticLoadBalancingV2::LoadBalancer");
        assert!(
            as_list(&lb[0].1["Properties"]["LoadBalancerAttributes"])
                .iter()
                .any(|a| {
                    a["Key"] == "routing.http.desync_mitigation_mode" && a["Value"] == "strictest"
                }),
            "{stage}: desync mitigation is not strictest"
        );
        // The task role cannot write what CloudFront serves.
        let role = resources(service, "AWS::IAM::Role")
            .into_iter()
            .find(|(id, _)| id.contains("TaskRole"))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{stage}: no task role"));
        for st in as_list(&role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]) {
            let actions = st["Action"].to_string();
            if actions.contains("s3:PutObject") || actions.contains("s3:DeleteObject") {
                let resource = st["Resource"].to_string();
                assert!(
                    resource.contains("/uploads/*"),
                    "{stage}: the app writes {resource}"
                );
            }
        }
        // Every container has a read-only root filesystem and drops every capability; the
        // agent writes only to its volumes, whose configuration its init container copied
        // before it starts.
        for c in containers(&stacks, stage) {
            let name = c["Name"].as_str().unwrap_or_default().to_owned();
            assert_eq!(c["ReadonlyRootFilesystem"], true, "{stage}/{name}");
            assert_eq!(
                c["LinuxParameters"]["Capabilities"]["Drop"],
                json!(["ALL"]),
                "{stage}/{name}"
            );
            if name == "datadog-agent" {
                let paths: Vec<&str> = as_list(&c["MountPoints"])
                    .iter()
                    .filter_map(|m| m["ContainerPath"].as_str())
                    .collect();
                assert!(
                    paths.contains(&"/etc/datadog-agent")
                        && paths.contains(&"/opt/datadog-agent/run"),
                    "{stage}: {paths:?}"
                );
                assert_eq!(
                    c["DependsOn"],
                    json!([{"Condition": "SUCCESS", "ContainerName": "datadog-agent-init"}]),
                    "{stage}"
                );
            }
        }
        // Security headers: a CSP from the settings, the XSS auditor off.
        let edge = stack(&stacks, &format!("{stage}/Edge"));
        let headers = &resources(edge, "AWS::CloudFront::ResponseHeadersPolicy")[0].1["Properties"]
            ["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"];
        assert_eq!(headers["XSSProtection"]["Protection"], false, "{stage}");
        assert!(
            headers["XSSProtection"].get("ModeBlock").is_none(),
            "{stage}"
        );
        let csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
            .as_str()
            .unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'"),
            "{stage}: CSP {csp:?}"
        );
        // The alarm topic's key serves this account's alarms only.
        let monitoring = stack(&stacks, &format!("{stage}/Monitoring"));
        let key = resources(monitoring, "AWS::KMS::Key")[0].1.to_string();
        assert!(
            key.contains("aws:SourceAccount") && key.contains("aws:SourceArn"),
            "{stage}: {key}"
        );
    }
    // The origin-verify value rotates: the secret the ALB's rule and the distribution use has a
    // schedule whose function may change exactly that rule and that distribution.
    for stage in ["dev", "prod"] {
        let edge = stack(&stacks, &format!("{stage}/Edge"));
        let schedules = resources(edge, "AWS::SecretsManager::RotationSchedule");
        assert_eq!(schedules.len(), 1, "{stage}: one rotation schedule");
        let schedule = &schedules[0].1["Properties"];
        assert!(
            schedule["SecretId"]
                .to_string()
                .contains("SecretsOriginVerify"),
            "{stage}: {schedule}"
        );
        assert!(
            schedule["RotationRules"]["ScheduleExpression"]
                .as_str()
                .is_some_and(|e| e.starts_with("rate(")),
            "{stage}: {schedule}"
        );
        let function = resources(edge, "AWS::Lambda::Function");
        let vars = &function[0].1["Properties"]["Environment"]["Variables"];
        assert!(
            vars["LISTENER_RULE_ARN"]
                .to_string()
                .contains("WebForwardFromCloudFront"),
            "{stage}: the function rotates another rule: {vars}"
        );
        assert_eq!(
            vars["DISTRIBUTION_ID"],
            json!({"Fn::GetAtt": ["Cdn9963B1AD", "Id"]}),
            "{stage}"
        );
        let service = stack(&stacks, &format!("{stage}/Service"));
        let rule = resources(service, "AWS::ElasticLoadBalancingV2::ListenerRule");
        assert!(
            rule[0].1.to_string().contains("origin-verify"),
            "{stage}: the rule does not check the rotated secret"
        );
    }
    // The Datadog role may not read distributions (their config holds the origin secret).
    let integration = stack(&stacks, "prod/DatadogIntegration")
        .template
        .to_string();
    assert!(integration.contains("NoDistributionConfigs"), "no deny");
    assert!(!integration.contains("\"Allow\",\"Action\":[\"cloudfront:GetDistributionConfig\""));
}

#[test]
fn point_7_sidecar_images_are_pinned_by_digest_from_the_settings_and_latest_is_refused() {
    // GIVEN prod's settings pinning the agent by digest
    let digest = format!(
        "public.ecr.aws/datadog/agent:7.59.0@sha256:{}",
        "ab".repeat(32)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = pantri_tests::copy_stages(dir.path());
    let prod = stages.join("prod.yaml");
    let text = std::fs::read_to_string(&prod).expect("prod.yaml");
    let pinned = text.replace(
        "datadog:\n",
        &format!("datadog:\n  agent_image: {digest}\n"),
    );
    assert_ne!(pinned, text, "prod.yaml has a datadog section");
    std::fs::write(&prod, &pinned).expect("write");
    // WHEN synthesized THEN the agent and its init container run exactly that image
    let out = pantri_tests::pantri(dir.path(), &["synth", "prod", "--quiet"]);
    assert!(out.status.success(), "{}", pantri_tests::stderr(&out));
    let service: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("cdk.out/prod-Service.template.json")).expect("template"),
    )
    .expect("json");
    let agents: Vec<String> = service
        .to_string()
        .matches(&digest)
        .map(str::to_owned)
        .collect();
    assert_eq!(agents.len(), 2, "the agent and its init container");

    // AND an unpinned image is refused, naming the file and the key
    let latest = text.replace(
        "datadog:\n",
        "datadog:\n  log_router_image: public.ecr.aws/aws-observability/aws-for-fluent-bit:latest\n",
    );
    std::fs::write(&prod, latest).expect("write");
    let out = pantri_tests::pantri(dir.path(), &["synth", "prod", "--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{}", pantri_tests::stderr(&out));
    let err = pantri_tests::stderr(&out);
    assert!(
        err.contains("prod.yaml")
            && err.contains("datadog.log_router_image")
            && err.contains("not pinned"),
        "{err}"
    );
}
