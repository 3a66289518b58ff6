//! Assertions of intent over the whole reference app, as a reviewer would check it: who can reach
//! what, what IAM allows, where secrets are, what survives a deletion. Snapshots show change; these
//! state what must stay true.

use std::collections::BTreeMap;

use pantri_synth::assembly::StackArtifact;
use pantri_tests::copy_stages;
use serde_json::Value;

#[path = "reference.rs"]
mod reference;
use reference::{all_resources, as_list, reference, resources, stack, stacks_of};

#[test]
fn prod_has_a_nat_gateway_per_zone_and_dev_one() {
    let stacks = reference();
    assert_eq!(
        resources(stack(&stacks, "prod/Network"), "AWS::EC2::NatGateway").len(),
        3
    );
    assert_eq!(
        resources(stack(&stacks, "dev/Network"), "AWS::EC2::NatGateway").len(),
        1
    );
    for s in ["prod/Network", "dev/Network"] {
        for (_, subnet) in resources(stack(&stacks, s), "AWS::EC2::Subnet") {
            assert_ne!(
                subnet["Properties"]["MapPublicIpOnLaunch"], true,
                "{s}: a subnet maps public IPs"
            );
        }
    }
}

/// Every ingress rule of a stack: (target group reference, source, from port, to port).
fn ingress_rules(s: &StackArtifact) -> Vec<(Value, Value, Value, Value)> {
    let mut out = Vec::new();
    for (id, r) in resources(s, "AWS::EC2::SecurityGroup") {
        for rule in as_list(&r["Properties"]["SecurityGroupIngress"]) {
            let source = rule
                .get("SourceSecurityGroupId")
                .or_else(|| rule.get("SourcePrefixListId"))
                .or_else(|| rule.get("CidrIp"))
                .or_else(|| rule.get("CidrIpv6"))
                .cloned()
                .unwrap_or(Value::Null);
            let target = serde_json::json!({"Fn::GetAtt": [id, "GroupId"]});
            out.push((
                target,
                source,
                rule["FromPort"].clone(),
                rule["ToPort"].clone(),
            ));
        }
    }
    for (_, r) in resources(s, "AWS::EC2::SecurityGroupIngress") {
        let p = &r["Properties"];
        let source = p
            .get("SourceSecurityGroupId")
            .or_else(|| p.get("CidrIp"))
            .or_else(|| p.get("CidrIpv6"))
            .cloned()
            .unwrap_or(Value::Null);
        out.push((
            p["GroupId"].clone(),
            source,
            p["FromPort"].clone(),
            p["ToPort"].clone(),
        ));
    }
    out
}

#[test]
fn the_service_is_reachable_only_from_the_alb_on_the_container_port_and_the_alb_only_from_cloudfront_on_443(
) {
    for stage in ["dev", "prod"] {
        let stacks = reference();
        let service = stack(&stacks, &format!("{stage}/Service"));
        let groups = resources(service, "AWS::EC2::SecurityGroup");
        let find = |needle: &str| -> String {
            groups
                .iter()
                .find(|(id, _)| id.to_lowercase().contains(needle))
                .map(|(id, _)| (*id).clone())
                .unwrap_or_else(|| {
                    panic!(
                        "{stage}: no {needle} security group among {:?}",
                        groups.iter().map(|g| g.0).collect::<Vec<_>>()
                    )
                })
        };
        let (alb, svc) = (find("loadbalancer"), find("servicesecuritygroup"));
        let alb_ref = serde_json::json!({"Fn::GetAtt": [alb, "GroupId"]});
        let svc_ref = serde_json::json!({"Fn::GetAtt": [svc, "GroupId"]});
        let rules = ingress_rules(service);
        let to_service: Vec<_> = rules.iter().filter(|r| r.0 == svc_ref).collect();
        assert!(
            !to_service.is_empty(),
            "{stage}: the service has no ingress at all"
        );
        for (_, source, from, to) in &to_service {
            assert_eq!(
                source, &alb_ref,
                "{stage}: the service admits something other than the ALB"
            );
            assert_eq!(
                (from, to),
                (&Value::from(3000), &Value::from(3000)),
                "{stage}: not the container port"
            );
        }
        let to_alb: Vec<_> = rules.iter().filter(|r| r.0 == alb_ref).collect();
        let mut ports: Vec<i64> = to_alb.iter().filter_map(|r| r.2.as_i64()).collect();
        ports.sort();
        ports.dedup();
        assert_eq!(ports, [443], "{stage}: the ALB is open on other ports");
        for (_, source, from, to) in &to_alb {
            assert_eq!(from, to, "{stage}: the ALB admits a port range");
            // CloudFront's origin-facing managed prefix list, not the whole internet.
            assert_eq!(
                source,
                &Value::from("pl-3b927c52"),
                "{stage}: the ALB admits more than CloudFront"
            );
        }
        // CloudFront reaches the origin over HTTPS only: no listener on 80.
        for (id, l) in resources(service, "AWS::ElasticLoadBalancingV2::Listener") {
            assert_eq!(l["Properties"]["Protocol"], "HTTPS", "{stage}/{id}");
        }
    }
}

/// Every IAM statement of every template, with where it is and the type of the resource that
/// holds it.
fn statements(stacks: &[StackArtifact]) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (stack, id, r) in all_resources(stacks) {
        let p = &r["Properties"];
        let place = format!("{stack}/{id}");
        let type_name = r["Type"].as_str().unwrap_or_default();
        let mut push = |place: String, doc: &Value| {
            for st in as_list(&doc["Statement"]) {
                out.push((place.clone(), type_name.to_owned(), st.clone()));
            }
        };
        match type_name {
            "AWS::IAM::Role" => {
                push(format!("{place} trust"), &p["AssumeRolePolicyDocument"]);
                for policy in as_list(&p["Policies"]) {
                    push(place.clone(), &policy["PolicyDocument"]);
                }
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::S3::BucketPolicy" => {
                push(place, &p["PolicyDocument"])
            }
            "AWS::KMS::Key" => push(place, &p["KeyPolicy"]),
            _ => {}
        }
    }
    out
}

#[test]
fn no_iam_statement_allows_every_action_and_star_resources_are_justified() {
    let stacks = reference();
    let all = statements(&stacks);
    assert!(
        all.len() > 20,
        "the scan found too few statements: {}",
        all.len()
    );
    assert!(
        all.iter().any(|(_, t, _)| t == "AWS::KMS::Key"),
        "the scan found no key policy: the key-policy exemption below would test nothing"
    );
    // Actions AWS offers no resource-level permission for: a `*` resource is the only form.
    let resourceless = [
        "ecr:GetAuthorizationToken",
        "cloudwatch:",
        "ecs:List",
        "ecs:Describe",
        "elasticloadbalancing:Describe",
        "cloudfront:List",
        "cloudfront:GetDistributionConfig",
        "s3:ListAllMyBuckets",
        "s3:GetBucket",
        "tag:Get",
        "logs:Describe",
        "logs:FilterLogEvents",
        "logs:TestMetricFilter",
        "ec2:Describe",
        "support:",
        "ssmmessages:",
        "budgets:",
        "organizations:Describe",
        "xray:",
        "secretsmanager:GetRandomPassword",
    ];
    for (place, type_name, st) in &all {
        let actions: Vec<&str> = as_list(&st["Action"])
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        assert!(
            !actions.contains(&"*"),
            "{place}: a statement allows every action: {st}"
        );
        // A key policy's `kms:*` for the account root is AWS's default key policy (IAM decides).
        let is_key_policy = type_name == "AWS::KMS::Key";
        for a in &actions {
            // A Deny of a whole service (no plain HTTP) narrows; only an Allow can broaden.
            if a.ends_with(":*") && !is_key_policy && st["Effect"] == "Allow" {
                panic!("{place}: {a} allows a whole service: {st}");
            }
        }
        let star_resource = as_list(&st["Resource"])
            .iter()
            .any(|r| r.as_str() == Some("*"));
        let allow = st["Effect"] == "Allow";
        if allow && star_resource && !is_key_policy {
            for a in &actions {
                assert!(
                    resourceless.iter().any(|p| a.starts_with(p)),
                    "{place}: {a} on every resource, though AWS offers narrower ones: {st}"
                );
            }
        }
    }
}

#[test]
fn every_bucket_blocks_public_access_and_requires_tls() {
    let stacks = reference();
    let mut buckets = 0;
    for s in &stacks {
        for (id, bucket) in resources(s, "AWS::S3::Bucket") {
            buckets += 1;
            let block = &bucket["Properties"]["PublicAccessBlockConfiguration"];
            for key in [
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            ] {
                assert_eq!(block[key], true, "{}/{id}: {key} is not on", s.display_name);
            }
            // The bucket's policy may live in another stack of the stage (the static bucket's in Edge).
            let target = serde_json::json!({"Ref": id});
            let policy = stacks
                .iter()
                .filter(|o| o.stage == s.stage)
                .flat_map(|o| resources(o, "AWS::S3::BucketPolicy"))
                .find(|(_, p)| {
                    p["Properties"]["Bucket"] == target
                        || p["Properties"]["Bucket"]
                            .get("Fn::ImportValue")
                            .is_some_and(|v| {
                                v.as_str().is_some_and(|v| v.ends_with(&format!("Ref{id}")))
                            })
                });
            let (_, policy) =
                policy.unwrap_or_else(|| panic!("{}/{id}: no bucket policy", s.display_name));
            let denies_plain_http = as_list(&policy["Properties"]["PolicyDocument"]["Statement"])
                .iter()
                .any(|st| {
                    st["Effect"] == "Deny"
                        && st["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                });
            assert!(
                denies_plain_http,
                "{}/{id}: the policy does not deny plain HTTP",
                s.display_name
            );
        }
    }
    assert_eq!(buckets, 4, "two buckets per stage");
}

fn walk<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| walk(v, format!("{path}.{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| walk(v, format!("{path}[{i}]"), out)),
        _ => out.push((path, v)),
    }
}

#[test]
fn no_plaintext_secret_in_any_template() {
    let stacks = reference();
    let secretish = [
        "password",
        "secret",
        "apikey",
        "api_key",
        "token",
        "x-origin-verify",
    ];
    for s in &stacks {
        let mut leaves = Vec::new();
        walk(&s.template, String::new(), &mut leaves);
        for (path, value) in leaves {
            let Some(text) = value.as_str() else { continue };
            // Look at the property path only: a resource id such as `SecretsDatadogApiKey` says
            // nothing about the value of its tags.
            let Some((_, property)) = path.split_once(".Properties.") else {
                continue;
            };
            if property.starts_with("Tags") {
                continue;
            }
            let lower = property.to_lowercase();
            // A literal value under a secret-looking key must be a reference, not a value.
            let is_value_slot = lower.ends_with(".value")
                || lower.ends_with(".secretstring")
                || lower.ends_with("headervalue");
            if secretish.iter().any(|w| lower.contains(w)) && is_value_slot {
                assert!(
                    text.starts_with("{{resolve:") || text.starts_with("arn:") || text.is_empty(),
                    "{}: {path} holds a literal: {text}",
                    s.display_name
                );
            }
            assert!(!text.contains("dd-api-key-"), "{}: {path}", s.display_name);
        }
        if let Some(params) = s.template["Parameters"].as_object() {
            for (name, p) in params {
                if p["NoEcho"] == true {
                    assert!(
                        p.get("Default").is_none(),
                        "{}: NoEcho parameter {name} has a default",
                        s.display_name
                    );
                }
            }
        }
    }
    // The key the agent reads is filled by deploy from the environment.
    let data = stack(&stacks, "prod/Data");
    assert!(
        data.env_parameters
            .iter()
            .any(|p| p.variable == "DATADOG_API_KEY"),
        "{:?}",
        data.env_parameters
    );
}

#[test]
fn stateful_resources_are_retained_in_prod_and_deletable_in_dev() {
    let stacks = reference();
    let stateful = [
        "AWS::S3::Bucket",
        "AWS::Cognito::UserPool",
        "AWS::Logs::LogGroup",
        "AWS::ECR::Repository",
        "AWS::SecretsManager::Secret",
    ];
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &stacks {
        for t in stateful {
            for (id, r) in resources(s, t) {
                *seen.entry(t).or_default() += 1;
                let policy = r["DeletionPolicy"].as_str().unwrap_or("Delete");
                let replace = r["UpdateReplacePolicy"].as_str().unwrap_or("Delete");
                // A rolled-back first create deletes what it made, so the retry finds no
                // leftover by name; afterwards the resource outlives its stack.
                match s.stage.as_str() {
                    "prod" => assert_eq!(
                        (policy, replace),
                        ("RetainExceptOnCreate", "Retain"),
                        "{}/{id}",
                        s.display_name
                    ),
                    _ => assert_eq!(
                        (policy, replace),
                        ("Delete", "Delete"),
                        "{}/{id}",
                        s.display_name
                    ),
                }
            }
        }
        assert_eq!(
            s.properties.termination_protection,
            s.stage == "prod",
            "{}",
            s.display_name
        );
    }
    assert_eq!(
        seen.len(),
        stateful.len(),
        "every stateful type is in the app: {seen:?}"
    );
}

#[test]
fn a_stage_outside_us_east_1_keeps_the_cloudfront_certificate_in_us_east_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    let prod = stages.join("prod.yaml");
    let text = std::fs::read_to_string(&prod)
        .expect("prod.yaml")
        .replace("region: us-east-1", "region: ap-northeast-1")
        .replace(
            "[us-east-1a, us-east-1b, us-east-1c]",
            "[ap-northeast-1a, ap-northeast-1c, ap-northeast-1d]",
        );
    std::fs::write(&prod, text).expect("write");
    let stacks = stacks_of(&stages);
    let global = stack(&stacks, "prod/Global");
    let edge = stack(&stacks, "prod/Edge");
    assert_eq!(global.env.region, "us-east-1");
    assert_eq!(edge.env.region, "ap-northeast-1");
    assert_eq!(
        resources(global, "AWS::CertificateManager::Certificate").len(),
        1
    );
    assert!(edge.dependencies.contains(&global.id));
    assert!(
        !edge.cross_region.is_empty(),
        "the certificate ARN reaches Edge through a parameter deploy fills"
    );
    for link in &edge.cross_region {
        assert_eq!(link.producer, global.id);
        assert!(global.template["Outputs"][&link.output].is_object());
        assert_eq!(
            edge.template["Parameters"][&link.parameter]["Type"],
            "String"
        );
    }
    // The zone id goes the other way (Data in ap-northeast-1 → Global in us-east-1).
    assert!(!global.cross_region.is_empty());
}
