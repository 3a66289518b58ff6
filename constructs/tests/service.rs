//! NextJsService: snapshots of a dev-like and a prod-like stage, assertions of intent (who may
//! reach the tasks, what the roles may do, no plaintext secret), and prop validation.

use pantri_constructs::service::{
    self, AppLogs, CapacityStrategy, DatadogAgentProps, NextJsServiceInputs, NextJsServiceProps,
    SecretSource,
};
use pantri_constructs::testing::{app_with_stack, errors, resources_of_type, template};
use pantri_constructs::{
    BucketRef, HostedZoneRef, Naming, Removal, SecretRef, UserPoolRef, VpcRef,
};
use pantri_synth::{synthesize, App, Str, SynthOptions};
use serde_json::{json, Value};

const REGION: &str = "ap-northeast-1";

fn secret(name: &str) -> SecretRef {
    SecretRef {
        arn: Str::from(format!(
            "arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}-AbCdEf"
        )),
        name: name.to_owned(),
    }
}

fn bucket(name: &str) -> BucketRef {
    BucketRef {
        name: Str::from(name),
        arn: Str::from(format!("arn:aws:s3:::{name}")),
        regional_domain_name: Str::from(format!("{name}.s3.{REGION}.amazonaws.com")),
    }
}

/// The inputs as the app wires them for a stage, with the other stacks' values as literals.
fn inputs(stage: &str) -> NextJsServiceInputs {
    NextJsServiceInputs {
        naming: Naming::new("pantri", stage).expect("a valid stage"),
        vpc: VpcRef {
            vpc_id: "vpc-0123456789abcdef0".into(),
            cidr_block: "10.0.0.0/16".into(),
            public_subnet_ids: vec![
                "subnet-0a000000000000001".into(),
                "subnet-0c000000000000001".into(),
            ],
            private_subnet_ids: vec![
                "subnet-0a000000000000002".into(),
                "subnet-0c000000000000002".into(),
            ],
        },
        domain_name: format!("origin.{stage}.example.com"),
        hosted_zone: HostedZoneRef {
            zone_id: "Z0123456789ABC".into(),
            zone_name: "example.com".into(),
        },
        log_bucket: bucket(&format!("pantri-{stage}-logs")),
        static_bucket: bucket(&format!("pantri-{stage}-static")),
        user_pool: UserPoolRef {
            id: format!("{REGION}_AbCdEf").into(),
            arn: format!("arn:aws:cognito-idp:{REGION}:123456789012:userpool/{REGION}_AbCdEf")
                .into(),
        },
        logs_key_arn: format!(
            "arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        )
        .into(),
        datadog_api_key: secret(&format!("pantri/{stage}/datadog-api-key")),
        origin_secret: secret(&format!("pantri/{stage}/origin-verify")),
    }
}

/// Props as the app sets them for every stage.
fn props() -> NextJsServiceProps {
    NextJsServiceProps {
        datadog: DatadogAgentProps {
            site: "ap1.datadoghq.com".into(),
            ..DatadogAgentProps::default()
        },
        ..NextJsServiceProps::default()
    }
}

fn dev_props() -> NextJsServiceProps {
    NextJsServiceProps {
        cpu: 256,
        memory: 1024,
        desired_count: 1,
        min_capacity: 1,
        max_capacity: 3,
        capacity: CapacityStrategy::mostly_spot(),
        log_retention_days: 30,
        keep_images: 10,
        removal: Removal::Destroy,
        deletion_protection: false,
        app_logs: AppLogs::CloudWatch,
        enable_exec: true,
        ..props()
    }
}

fn prod_props() -> NextJsServiceProps {
    NextJsServiceProps {
        cpu: 1024,
        memory: 2048,
        desired_count: 3,
        min_capacity: 3,
        max_capacity: 12,
        requests_per_target: Some(500),
        ipv6: true,
        environment: vec![("NEXT_PUBLIC_SITE_URL".into(), "https://example.com".into())],
        secrets: vec![(
            "NEXTAUTH_SECRET".into(),
            SecretSource::secret_key(&secret("pantri/prod/app"), "nextauth"),
        )],
        ..props()
    }
}

/// The service of `p`'s stage, wired to that stage's inputs: dev when `p` deletes its data
/// with the stack (only [`dev_props`] do), prod otherwise.
fn synth(p: NextJsServiceProps) -> App {
    let stage = match p.removal {
        Removal::Destroy => "dev",
        Removal::Retain => "prod",
    };
    synth_with(inputs(stage), p)
}

fn synth_with(inputs: NextJsServiceInputs, p: NextJsServiceProps) -> App {
    app_with_stack(REGION, |scope| {
        service::NextJsService::new(scope, "Service", inputs, p);
    })
}

fn statements(t: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for (_, role) in resources_of_type(t, "AWS::IAM::Role") {
        for policy in role["Properties"]["Policies"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.extend(
                policy["PolicyDocument"]["Statement"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
    }
    out
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

#[test]
fn dev_stage_snapshot() {
    // GIVEN a dev stage: small, mostly spot, disposable, logs in CloudWatch, ECS Exec on
    let app = synth(dev_props());
    // WHEN it is synthesized
    let t = template(&app);
    // THEN the template is the reviewed one
    insta::assert_json_snapshot!("service_dev", t);
}

#[test]
fn prod_stage_snapshot() {
    // GIVEN a prod stage: on demand, retained, IPv6, request-count scaling, app secrets
    let app = synth(prod_props());
    // WHEN it is synthesized
    let t = template(&app);
    // THEN the template is the reviewed one
    insta::assert_json_snapshot!("service_prod", t);
}

#[test]
fn only_the_alb_reaches_the_tasks_on_the_container_port() {
    // GIVEN the prod service
    let t = template(&synth(prod_props()));
    // WHEN we look at every ingress rule on the tasks' group
    let svc_sg = "ServiceServiceSecurityGroup";
    let (svc_id, svc) = resources_of_type(&t, "AWS::EC2::SecurityGroup")
        .into_iter()
        .find(|(id, _)| id.starts_with(svc_sg))
        .expect("service security group");
    let (alb_id, _) = resources_of_type(&t, "AWS::EC2::SecurityGroup")
        .into_iter()
        .find(|(id, _)| id.starts_with("ServiceLoadBalancerSecurityGroup"))
        .expect("ALB security group");
    // THEN there is no inline ingress and exactly one standalone rule, from the ALB's group on 3000
    assert!(svc["Properties"]["SecurityGroupIngress"].is_null());
    let ingress: Vec<_> = resources_of_type(&t, "AWS::EC2::SecurityGroupIngress")
        .into_iter()
        .filter(|(_, r)| r["Properties"]["GroupId"] == json!({"Fn::GetAtt": [svc_id, "GroupId"]}))
        .collect();
    assert_eq!(ingress.len(), 1);
    let rule = &ingress[0].1["Properties"];
    assert_eq!(
        rule["SourceSecurityGroupId"],
        json!({"Fn::GetAtt": [alb_id, "GroupId"]})
    );
    assert_eq!(
        (rule["FromPort"].clone(), rule["ToPort"].clone()),
        (json!(3000), json!(3000))
    );
    // AND the tasks may only leave on 443
    let egress = svc["Properties"]["SecurityGroupEgress"]
        .as_array()
        .expect("egress");
    assert_eq!(egress.len(), 1);
    assert_eq!(egress[0]["FromPort"], 443);
    assert_eq!(egress[0]["ToPort"], 443);
}

#[test]
fn the_alb_accepts_only_443_and_sends_only_to_the_tasks() {
    let with_list = NextJsServiceProps {
        cloudfront_prefix_list_id: Some("pl-3b927c52".into()),
        ..prod_props()
    };
    for (p, rules, source) in [
        (dev_props(), 1, "CidrIp"),
        (prod_props(), 2, "CidrIp"),
        (with_list, 1, "SourcePrefixListId"),
    ] {
        // GIVEN a stage (prod with IPv6; or with CloudFront's prefix list)
        let t = template(&synth(p));
        // WHEN we look at the ALB's group
        let (alb_id, sg) = resources_of_type(&t, "AWS::EC2::SecurityGroup")
            .into_iter()
            .find(|(id, _)| id.starts_with("ServiceLoadBalancerSecurityGroup"))
            .expect("ALB security group");
        // THEN ingress is 443 only, from each address family or from the prefix list alone
        let ingress = sg["Properties"]["SecurityGroupIngress"]
            .as_array()
            .expect("ingress");
        assert_eq!(ingress.len(), rules);
        for rule in ingress {
            assert_eq!(rule["IpProtocol"], "tcp");
            assert_eq!(rule["FromPort"], 443, "{rule}");
            assert_eq!(rule["FromPort"], rule["ToPort"]);
        }
        assert!(ingress[0].get(source).is_some(), "{ingress:?}");
        assert!(
            resources_of_type(&t, "AWS::EC2::SecurityGroupIngress")
                .iter()
                .all(|(_, r)| r["Properties"]["GroupId"]
                    != json!({"Fn::GetAtt": [alb_id, "GroupId"]}))
        );
        // AND its only real egress is the rule to the tasks on 3000
        let egress: Vec<_> = resources_of_type(&t, "AWS::EC2::SecurityGroupEgress");
        assert_eq!(egress.len(), 1);
        assert_eq!(egress[0].1["Properties"]["FromPort"], 3000);
        assert_eq!(
            sg["Properties"]["SecurityGroupEgress"][0]["CidrIp"],
            "255.255.255.255/32"
        );
    }
}

#[test]
fn iam_never_allows_star_actions_and_star_resources_only_where_aws_has_nothing_narrower() {
    for p in [dev_props(), prod_props()] {
        // GIVEN a stage (dev has ECS Exec on)
        let t = template(&synth(p));
        // WHEN we read every statement of every role
        let all = statements(&t);
        // (both roles' statements: the loop below must have something to check)
        assert!(all.len() >= 8, "only {} statements", all.len());
        let mut star_resources = 0;
        for st in all {
            let actions = as_list(&st["Action"]);
            assert!(!actions.is_empty(), "{st}");
            // THEN no action is a wildcard
            for a in &actions {
                let a = a.as_str().expect("literal action");
                assert!(!a.contains('*'), "wildcard action {a}");
            }
            // AND "*" resources only on actions without resource-level permissions
            if as_list(&st["Resource"]).contains(&json!("*")) {
                star_resources += 1;
                for a in &actions {
                    let a = a.as_str().expect("literal action");
                    assert!(
                        a == "ecr:GetAuthorizationToken" || a.starts_with("ssmmessages:"),
                        "{a} on *"
                    );
                }
            }
        }
        // (the registry login is always there: the "*" branch is exercised)
        assert!(star_resources >= 1);
    }
}

#[test]
fn the_task_role_reads_the_static_bucket_writes_uploads_and_its_log_group_only() {
    // GIVEN the prod service
    let t = template(&synth(prod_props()));
    // WHEN we read the task role's statements
    let (_, role) = resources_of_type(&t, "AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("ServiceTaskRole"))
        .expect("task role");
    let st = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements");
    // THEN reading objects, writing uploads only, listing, the pool and (for the log router)
    // the app's log group, each on its own ARN
    let resources: Vec<Value> = st.iter().flat_map(|s| as_list(&s["Resource"])).collect();
    let app_logs = resources_of_type(&t, "AWS::Logs::LogGroup")
        .into_iter()
        .find(|(_, g)| g["Properties"]["LogGroupName"] == "/aws/ecs/pantri-prod")
        .map(|(id, _)| id.clone())
        .expect("app log group");
    assert_eq!(
        resources,
        vec![
            json!({"Fn::Join": ["", ["arn:aws:s3:::pantri-prod-static", "/*"]]}),
            json!({"Fn::Join": ["", ["arn:aws:s3:::pantri-prod-static", "/uploads/*"]]}),
            json!("arn:aws:s3:::pantri-prod-static"),
            json!(format!(
                "arn:aws:cognito-idp:{REGION}:123456789012:userpool/{REGION}_AbCdEf"
            )),
            json!({"Fn::GetAtt": [app_logs, "Arn"]}),
        ]
    );
    // AND nothing the task role may write is a path CloudFront serves
    let writes: Vec<&Value> = st
        .iter()
        .filter(|s| s["Action"].to_string().contains("s3:PutObject"))
        .collect();
    assert_eq!(writes.len(), 1);
    assert!(!writes[0]["Action"].to_string().contains("s3:GetObject"));
}

#[test]
fn no_plaintext_secret_in_the_template() {
    // GIVEN the prod service with an app secret
    let t = template(&synth(prod_props()));
    // WHEN we read the containers and the listener rule
    let (_, td) = resources_of_type(&t, "AWS::ECS::TaskDefinition")[0];
    let containers = td["Properties"]["ContainerDefinitions"]
        .as_array()
        .expect("containers");
    // (the loops below must have something to check: variables and secrets exist)
    assert!(containers.len() >= 3, "{} containers", containers.len());
    let (mut plain, mut secret) = (0, 0);
    for c in containers {
        // THEN no plain variable is named like a secret or holds a long opaque token
        for kv in c["Environment"].as_array().into_iter().flatten() {
            let name = kv["Name"].as_str().expect("name");
            plain += 1;
            assert!(
                !["SECRET", "PASSWORD", "TOKEN", "API_KEY"]
                    .iter()
                    .any(|w| name.contains(w)),
                "{name} is plain"
            );
            if let Some(v) = kv["Value"].as_str() {
                let opaque = v.len() >= 24 && v.chars().all(|c| c.is_ascii_alphanumeric());
                assert!(!opaque, "{name}={v} looks like a key");
            }
        }
        // AND secrets are Secrets Manager ARNs
        for s in c["Secrets"].as_array().into_iter().flatten() {
            secret += 1;
            let from = serde_json::to_string(&s["ValueFrom"]).expect("json");
            assert!(from.contains("arn:aws:secretsmanager:"), "{from}");
        }
    }
    assert!(
        plain >= 10 && secret >= 2,
        "{plain} variables, {secret} secrets"
    );
    // AND the Datadog API key reaches the log router through SecretOptions
    let app = &td["Properties"]["ContainerDefinitions"][0];
    assert_eq!(app["LogConfiguration"]["LogDriver"], "awsfirelens");
    assert_eq!(
        app["LogConfiguration"]["SecretOptions"][0]["Name"],
        "apikey"
    );
    assert!(app["LogConfiguration"]["Options"].get("apikey").is_none());
    // AND the origin header value is a dynamic reference
    let (_, rule) = resources_of_type(&t, "AWS::ElasticLoadBalancingV2::ListenerRule")[0];
    let header = &rule["Properties"]["Conditions"][0]["HttpHeaderConfig"];
    assert_eq!(header["HttpHeaderName"], "X-Origin-Verify");
    let value = header["Values"][0]
        .as_str()
        .expect("literal dynamic reference");
    assert!(
        value.starts_with("{{resolve:secretsmanager:pantri/prod/origin-verify:"),
        "{value}"
    );
}

#[test]
fn requests_without_the_origin_header_are_refused() {
    // GIVEN the prod service
    let t = template(&synth(prod_props()));
    // WHEN we read the listeners
    let listeners = resources_of_type(&t, "AWS::ElasticLoadBalancingV2::Listener");
    let https = listeners
        .iter()
        .find(|(_, l)| l["Properties"]["Port"] == 443)
        .expect("https");
    // THEN HTTPS alone (CloudFront reaches the origin over HTTPS only) answers 403 by default,
    // with the restricted TLS policy
    assert_eq!(listeners.len(), 1);
    let default = &https.1["Properties"]["DefaultActions"][0];
    assert_eq!(default["Type"], "fixed-response");
    assert_eq!(default["FixedResponseConfig"]["StatusCode"], "403");
    assert_eq!(
        https.1["Properties"]["SslPolicy"],
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
    );
}

#[test]
fn names_follow_the_seed_with_the_stage() {
    // GIVEN the dev service
    let t = template(&synth(dev_props()));
    // THEN the cluster, service and log groups carry the names the runbooks use
    let (_, cluster) = resources_of_type(&t, "AWS::ECS::Cluster")[0];
    assert_eq!(cluster["Properties"]["ClusterName"], "pantri-dev");
    let (_, svc) = resources_of_type(&t, "AWS::ECS::Service")[0];
    assert_eq!(svc["Properties"]["ServiceName"], "pantri-service");
    let groups: Vec<_> = resources_of_type(&t, "AWS::Logs::LogGroup")
        .into_iter()
        .map(|(_, g)| g["Properties"]["LogGroupName"].clone())
        .collect();
    assert!(groups.contains(&json!("/aws/ecs/pantri-dev")));
    assert!(groups.contains(&json!("/ecs/datadog-agent-dev")));
}

fn problems(p: NextJsServiceProps) -> Vec<String> {
    errors(&synth(p))
}

#[test]
fn min_above_max_is_an_error_at_the_construct_path() {
    // GIVEN min_capacity above max_capacity
    let errs = problems(NextJsServiceProps {
        min_capacity: 5,
        max_capacity: 2,
        desired_count: 2,
        ..prod_props()
    });
    // THEN the error names the path, both numbers and what to do
    assert!(
        errs.contains(&"[test/Stack/Service] min_capacity 5 is above max_capacity 2: lower min_capacity or raise max_capacity".to_owned()),
        "{errs:?}"
    );
}

#[test]
fn desired_outside_min_max_is_an_error() {
    let below = problems(NextJsServiceProps {
        desired_count: 1,
        ..prod_props()
    });
    assert!(below.contains(&"[test/Stack/Service] desired_count 1 is below min_capacity 3: raise desired_count or lower min_capacity".to_owned()), "{below:?}");
    let above = problems(NextJsServiceProps {
        desired_count: 20,
        ..prod_props()
    });
    assert!(above.contains(&"[test/Stack/Service] desired_count 20 is above max_capacity 12: lower desired_count or raise max_capacity".to_owned()), "{above:?}");
}

#[test]
fn an_illegal_fargate_size_is_an_error() {
    let errs = problems(NextJsServiceProps {
        cpu: 1024,
        memory: 512,
        ..prod_props()
    });
    assert_eq!(
        errs,
        vec!["[test/Stack/Service] memory 512 MiB is not legal with cpu 1024 on Fargate: use 2048 to 8192 MiB in steps of 1024".to_owned()]
    );
    let errs = problems(NextJsServiceProps {
        cpu: 300,
        ..prod_props()
    });
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("[test/Stack/Service] cpu 300 is not a Fargate size"));
}

#[test]
fn every_bad_prop_is_reported_together() {
    // GIVEN several mistakes at once
    let errs = errors(&synth_with(
        NextJsServiceInputs {
            domain_name: "origin.example.org".into(),
            ..inputs("prod")
        },
        NextJsServiceProps {
            environment: vec![("STRIPE_API_KEY".into(), "sk_live_x".into())],
            health_check_path: "api/health".into(),
            log_retention_days: 10,
            container_port: 8126,
            datadog: DatadogAgentProps {
                site: "https://datadoghq.com".into(),
                ..prod_props().datadog
            },
            uploads_prefix: "_next/".into(),
            ..prod_props()
        },
    ));
    // THEN each is an error at the construct path
    for needle in [
        "domain_name \"origin.example.org\" is not in the hosted zone",
        "environment variable STRIPE_API_KEY looks like a secret",
        "health_check_path \"api/health\" is not a path",
        "log_retention_days 10 is not a CloudWatch Logs retention",
        "container_port 8126 is not usable",
        "datadog.site \"https://datadoghq.com\" is not a Datadog site",
        "uploads_prefix \"_next/\" overlaps what CloudFront serves",
    ] {
        assert!(
            errs.iter()
                .any(|e| e.starts_with("[test/Stack/Service] ") && e.contains(needle)),
            "{needle} not in {errs:?}"
        );
    }
    assert_eq!(errs.len(), 7, "{errs:?}");
}

#[test]
fn an_origin_secret_without_a_name_is_an_error() {
    // GIVEN an origin secret known by ARN only
    let errs = errors(&synth_with(
        NextJsServiceInputs {
            origin_secret: SecretRef {
                name: String::new(),
                ..secret("pantri/prod/origin-verify")
            },
            ..inputs("prod")
        },
        prod_props(),
    ));
    // THEN the error says the listener rule needs its name
    assert_eq!(
        errs,
        vec!["[test/Stack/Service] origin_secret.name is empty: the listener rule reads the secret by name through a dynamic reference".to_owned()]
    );
}

/// Writes both stages' cloud assemblies for `scripts/lint-templates` (cfn-lint and checkov):
/// `target/tmp/service-lint/{dev,prod}`.
#[test]
fn writes_cloud_assemblies_for_lint() {
    for (stage, p) in [("dev", dev_props()), ("prod", prod_props())] {
        let app = synth(p);
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("service-lint")
            .join(stage);
        synthesize(&app, &SynthOptions::default())
            .expect("synth")
            .assembly
            .write(&dir)
            .expect("write");
        assert!(dir.join("test-Stack.template.json").exists());
    }
}

#[test]
fn the_app_runs_read_only_and_non_root_with_writable_cache_volumes() {
    // GIVEN the prod service (default user)
    let t = template(&synth(prod_props()));
    let (_, td) = resources_of_type(&t, "AWS::ECS::TaskDefinition")[0];
    let containers = td["Properties"]["ContainerDefinitions"]
        .as_array()
        .expect("containers");
    let by_name = |n: &str| {
        containers
            .iter()
            .find(|c| c["Name"] == n)
            .unwrap_or_else(|| panic!("no container {n}"))
    };
    // THEN the app has a read-only root, a non-root user and no capability
    let app = by_name("web");
    assert_eq!(app["ReadonlyRootFilesystem"], true);
    assert_eq!(app["User"], "1001:1001");
    assert_eq!(
        app["LinuxParameters"]["Capabilities"]["Drop"],
        json!(["ALL"])
    );
    // AND the cache and /tmp are task volumes opened by an init container the app waits for
    let paths: Vec<_> = app["MountPoints"]
        .as_array()
        .expect("mounts")
        .iter()
        .map(|m| m["ContainerPath"].clone())
        .collect();
    assert_eq!(paths, vec![json!("/app/.next/cache"), json!("/tmp")]);
    assert!(app["DependsOn"]
        .as_array()
        .expect("depends")
        .contains(&json!({"Condition": "SUCCESS", "ContainerName": "volume-init"})));
    let init = by_name("volume-init");
    assert_eq!(init["Essential"], false);
    assert_eq!(init["ReadonlyRootFilesystem"], true);
    // AND Fargate gets a legal size
    assert_eq!(
        (
            td["Properties"]["Cpu"].clone(),
            td["Properties"]["Memory"].clone()
        ),
        (json!("1024"), json!("2048"))
    );
}

#[test]
fn an_image_given_by_uri_runs_as_named_and_needs_no_tag_parameter() {
    // GIVEN an image the app's CI pushed to an ECR repository, by digest
    let uri = format!(
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/web@sha256:{}",
        "ab".repeat(32)
    );
    let app = synth(NextJsServiceProps {
        image: Some(service::ContainerImage::uri(&uri)),
        ..prod_props()
    });
    // WHEN it is synthesized
    let t = template(&app);
    // THEN the task runs that URI, with no ImageTag parameter to fill
    assert!(
        t["Parameters"].get("ImageTag").is_none(),
        "{}",
        t["Parameters"]
    );
    let images: Vec<Value> = resources_of_type(&t, "AWS::ECS::TaskDefinition")
        .iter()
        .flat_map(|(_, r)| as_list(&r["Properties"]["ContainerDefinitions"]))
        .map(|c| c["Image"].clone())
        .collect();
    assert!(images.contains(&json!(uri)), "{images:?}");
    // AND the execution role pulls from that repository only
    let pull = statements(&t)
        .into_iter()
        .find(|s| s["Sid"] == "PullAppImage")
        .expect("a pull statement");
    assert_eq!(
        pull["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:ecr:eu-west-1:111122223333:repository/team/web"})
    );
}
