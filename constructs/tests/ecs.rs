//! The ECS parts on their own: a public web service, one behind CloudFront, a queue worker, a
//! task with and without the Datadog add-on. Snapshots show change; assertions state intent.

use std::collections::BTreeMap;

use pantri_constructs::grants::TableGrants;
use pantri_constructs::service::{
    Cluster, ClusterProps, ContainerImage, DatadogAgent, FargateTask, FargateTaskProps,
    QueueWorkerService, QueueWorkerServiceProps, Scaling, SecretSource, ServingTask, WebIngress,
    WebService, WebServiceProps, ORIGIN_VERIFY_HEADER,
};
use pantri_constructs::testing::{app_with_stack, errors, resources_of_type, template};
use pantri_constructs::{HostedZoneRef, SecretRef, VpcRef};
use pantri_synth::cfn::dynamodb::{table::AttributeDefinition, CfnTable};
use pantri_synth::cfn::ecr::CfnRepository;
use pantri_synth::cfn::sqs::CfnQueue;
use pantri_synth::{App, Scope, Value as V};
use serde_json::{json, Value};

const REGION: &str = "eu-west-1";

fn vpc() -> VpcRef {
    VpcRef {
        vpc_id: "vpc-0123456789abcdef0".into(),
        cidr_block: "10.0.0.0/16".into(),
        public_subnet_ids: vec!["subnet-pub-a".into(), "subnet-pub-b".into()],
        private_subnet_ids: vec!["subnet-prv-a".into(), "subnet-prv-b".into()],
    }
}

fn zone() -> HostedZoneRef {
    HostedZoneRef {
        zone_id: "Z0123456789ABC".into(),
        zone_name: "example.com".into(),
    }
}

fn secret(name: &str) -> SecretRef {
    SecretRef {
        arn: format!("arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}-AbCdEf").into(),
        name: name.to_owned(),
    }
}

fn web_task(s: &mut Scope<'_>, datadog: Option<DatadogAgent>) -> ServingTask {
    let repository = s.resource("Repository", CfnRepository::new());
    FargateTask::serving(
        s,
        "ApiTask",
        ContainerImage::ecr(repository, "v1"),
        8080,
        FargateTaskProps {
            datadog,
            ..FargateTaskProps::default()
        },
    )
}

fn web(ingress: WebIngress) -> App {
    app_with_stack(REGION, |s| {
        let cluster = Cluster::new(s, "Cluster", ClusterProps::default());
        let task = web_task(s, None);
        WebService::new(
            s,
            "Api",
            &vpc(),
            &cluster,
            &task,
            ingress,
            WebServiceProps::default(),
        );
    })
}

fn public() -> WebIngress {
    WebIngress::PublicTls {
        domain_name: "api.example.com".into(),
        hosted_zone: zone(),
    }
}

fn one<'a>(t: &'a Value, type_name: &str) -> &'a Value {
    let found = resources_of_type(t, type_name);
    assert_eq!(found.len(), 1, "one {type_name}");
    found[0].1
}

fn worker_app(props: QueueWorkerServiceProps) -> App {
    app_with_stack(REGION, |s| {
        let queue = s.resource("Jobs", CfnQueue::new().sqs_managed_sse_enabled(true));
        let table = s.resource(
            "Results",
            CfnTable::new(V::from_json(
                json!([{"AttributeName": "id", "KeyType": "HASH"}]),
            ))
            .attribute_definitions(vec![AttributeDefinition::new("id", "S")])
            .billing_mode("PAY_PER_REQUEST"),
        );
        let cluster = Cluster::new(s, "Cluster", ClusterProps::default());
        let task = FargateTask::new(
            s,
            "WorkerTask",
            ContainerImage::public("public.ecr.aws/docker/library/busybox:1.37.0"),
            FargateTaskProps {
                environment: vec![("QUEUE_URL".into(), queue.ref_())],
                ..FargateTaskProps::default()
            },
        );
        table.grant_read_write(s, task.task_role());
        QueueWorkerService::new(s, "Worker", &vpc(), &cluster, &task, queue, props);
    })
}

#[test]
fn a_worker_given_a_serving_task_warns_that_nothing_reaches_its_port() {
    // GIVEN a queue worker whose task listens on a port (a ServingTask is a FargateTask too)
    let app = app_with_stack(REGION, |s| {
        let queue = s.resource("Jobs", CfnQueue::new().sqs_managed_sse_enabled(true));
        let cluster = Cluster::new(s, "Cluster", ClusterProps::default());
        let task = web_task(s, None);
        QueueWorkerService::new(
            s,
            "Worker",
            &vpc(),
            &cluster,
            &task,
            queue,
            QueueWorkerServiceProps::default(),
        );
    });
    // WHEN synthesized THEN it synthesizes, with one warning at the worker's path
    let synthesis = pantri_synth::synthesize(&app, &Default::default()).expect("synth");
    let warnings: Vec<String> = synthesis
        .warnings
        .iter()
        .map(|w| format!("[{}] {}", w.path, w.message))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("[test/Stack/Worker] ")
            && warnings[0].contains("nothing reaches that port"),
        "{warnings:?}"
    );
}

#[test]
fn a_public_web_service_forwards_every_https_request() {
    // GIVEN a web service with public TLS ingress
    let t = template(&web(public()));
    // THEN the listener forwards to the target group by default, on 443 only
    let listener = one(&t, "AWS::ElasticLoadBalancingV2::Listener");
    assert_eq!(listener["Properties"]["Port"], 443);
    assert_eq!(listener["Properties"]["Protocol"], "HTTPS");
    assert_eq!(
        listener["Properties"]["DefaultActions"][0]["Type"],
        "forward"
    );
    // AND there is no header rule that would refuse it
    assert!(resources_of_type(&t, "AWS::ElasticLoadBalancingV2::ListenerRule").is_empty());
    // AND anyone may connect on 443
    let (_, alb_sg) = resources_of_type(&t, "AWS::EC2::SecurityGroup")
        .into_iter()
        .find(|(id, _)| id.contains("LoadBalancerSecurityGroup"))
        .expect("alb group");
    let ingress = alb_sg["Properties"]["SecurityGroupIngress"]
        .as_array()
        .expect("ingress");
    assert_eq!(ingress.len(), 1);
    assert_eq!(ingress[0]["CidrIp"], "0.0.0.0/0");
    assert_eq!(ingress[0]["FromPort"], 443);
    insta::assert_json_snapshot!("web_public", t);
}

#[test]
fn behind_cloudfront_the_listener_refuses_requests_without_the_origin_header() {
    // GIVEN the same service reachable only through CloudFront
    let t = template(&web(WebIngress::BehindCloudFront {
        domain_name: "origin.example.com".into(),
        hosted_zone: zone(),
        origin_secret: secret("origin"),
        prefix_list_id: Some("pl-3b927c52".into()),
    }));
    // THEN the default action is a 403 and one rule forwards requests carrying the header
    let listener = one(&t, "AWS::ElasticLoadBalancingV2::Listener");
    assert_eq!(
        listener["Properties"]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"],
        "403"
    );
    let rule = one(&t, "AWS::ElasticLoadBalancingV2::ListenerRule");
    let condition = &rule["Properties"]["Conditions"][0]["HttpHeaderConfig"];
    assert_eq!(condition["HttpHeaderName"], ORIGIN_VERIFY_HEADER);
    assert_eq!(
        condition["Values"][0],
        "{{resolve:secretsmanager:origin:SecretString:::}}"
    );
    // AND only CloudFront's prefix list may connect
    let (_, alb_sg) = resources_of_type(&t, "AWS::EC2::SecurityGroup")
        .into_iter()
        .find(|(id, _)| id.contains("LoadBalancerSecurityGroup"))
        .expect("alb group");
    assert_eq!(
        alb_sg["Properties"]["SecurityGroupIngress"][0]["SourcePrefixListId"],
        "pl-3b927c52"
    );
    // AND the service waits for the rule that attaches its target group
    let service = one(&t, "AWS::ECS::Service");
    let depends: Vec<String> = service["DependsOn"]
        .as_array()
        .expect("depends")
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect();
    assert!(
        depends.iter().any(|d| d.contains("ForwardFromCloudFront")),
        "{depends:?}"
    );
}

#[test]
fn a_task_without_the_add_on_has_only_its_app_and_reads_no_secret() {
    // GIVEN a web task without Datadog
    let t = template(&web(public()));
    let task = one(&t, "AWS::ECS::TaskDefinition");
    let names: Vec<&str> = task["Properties"]["ContainerDefinitions"]
        .as_array()
        .expect("containers")
        .iter()
        .filter_map(|c| c["Name"].as_str())
        .collect();
    // THEN the app and the init container that opens /tmp to the non-root user
    assert_eq!(names, ["app", "volume-init"]);
    let app = &task["Properties"]["ContainerDefinitions"][0];
    assert_eq!(app["User"], "1000:1000");
    assert_eq!(app["ReadonlyRootFilesystem"], true);
    assert_eq!(app["LogConfiguration"]["LogDriver"], "awslogs");
    // AND the execution role pulls from the one repository and reads no secret
    let sids: Vec<String> = resources_of_type(&t, "AWS::IAM::Role")
        .iter()
        .flat_map(|(_, r)| {
            r["Properties"]["Policies"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|p| {
                    p["PolicyDocument"]["Statement"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
        })
        .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(sids, ["PullAppImage", "RegistryLogin", "WriteTaskLogs"]);
}

#[test]
fn the_datadog_add_on_attaches_to_any_task() {
    // GIVEN the same web task with the add-on
    let app = app_with_stack(REGION, |s| {
        let cluster = Cluster::new(s, "Cluster", ClusterProps::default());
        let agent = DatadogAgent::new(secret("dd"), "dev", "api").log_source("go");
        let task = web_task(s, Some(agent));
        WebService::new(
            s,
            "Api",
            &vpc(),
            &cluster,
            &task,
            public(),
            WebServiceProps::default(),
        );
    });
    let t = template(&app);
    let task = one(&t, "AWS::ECS::TaskDefinition");
    let containers = task["Properties"]["ContainerDefinitions"]
        .as_array()
        .expect("containers");
    let names: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["Name"].as_str())
        .collect();
    // THEN the agent (after its init container copied its configuration) and the log router
    // run beside the app
    assert_eq!(
        names,
        [
            "app",
            "datadog-agent-init",
            "datadog-agent",
            "log-router",
            "volume-init"
        ]
    );
    // AND the app is tagged for Datadog and ships its logs through FireLens
    let env: Vec<&str> = containers[0]["Environment"]
        .as_array()
        .expect("env")
        .iter()
        .filter_map(|e| e["Name"].as_str())
        .collect();
    assert_eq!(
        env,
        [
            "DD_AGENT_HOST",
            "DD_ENV",
            "DD_SERVICE",
            "DD_VERSION",
            "DD_LOGS_INJECTION"
        ]
    );
    assert_eq!(containers[0]["Environment"][3]["Value"], "v1");
    assert_eq!(
        containers[0]["LogConfiguration"]["LogDriver"],
        "awsfirelens"
    );
    assert_eq!(
        containers[0]["LogConfiguration"]["Options"]["dd_source"],
        "go"
    );
    // AND the agent is not essential: monitoring never takes the app down
    assert_eq!(containers[1]["Essential"], false);
    // AND the execution role reads the API key, the agent's log group exists
    assert_eq!(resources_of_type(&t, "AWS::Logs::LogGroup").len(), 2);
    let exec = resources_of_type(&t, "AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.contains("ExecutionRole"))
        .expect("execution role")
        .1;
    let read = exec["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Sid"] == "ReadTaskSecrets")
        .cloned()
        .expect("secret statement");
    assert_eq!(
        read["Resource"],
        secret("dd").arn.as_literal().expect("literal")
    );
}

/// A worker task with `secrets`, and its errors.
fn task_with_secrets(secrets: Vec<(String, SecretSource)>) -> App {
    app_with_stack(REGION, |s| {
        FargateTask::new(
            s,
            "Task",
            ContainerImage::public("public.ecr.aws/docker/library/busybox:1.37.0"),
            FargateTaskProps {
                secrets,
                ..FargateTaskProps::default()
            },
        );
    })
}

/// The execution role's statements, by Sid.
fn execution_statements(t: &Value) -> BTreeMap<String, Value> {
    let (_, exec) = resources_of_type(t, "AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.contains("ExecutionRole"))
        .expect("execution role");
    exec["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| (s["Sid"].as_str().expect("sid").to_owned(), s.clone()))
        .collect()
}

#[test]
fn secrets_come_from_secrets_manager_or_ssm_and_the_execution_role_reads_exactly_those() {
    // GIVEN a task with a whole secret, one JSON key of it, a parameter, and a SecureString
    // parameter under a customer-managed key
    let db = secret("db");
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let t = template(&task_with_secrets(vec![
        ("DB_URL".into(), SecretSource::secret(&db)),
        (
            "DB_PASSWORD".into(),
            SecretSource::secret_key(&db, "password"),
        ),
        (
            "STRIPE_KEY".into(),
            SecretSource::parameter("/orders/dev/stripe-key"),
        ),
        (
            "SIGNING_KEY".into(),
            SecretSource::Parameter {
                name: "signing-key".into(),
                kms_key_arn: Some(key.into()),
            },
        ),
    ]));
    // THEN the container reads each by reference, never by value
    let task = one(&t, "AWS::ECS::TaskDefinition");
    let secrets = &task["Properties"]["ContainerDefinitions"][0]["Secrets"];
    let db_arn = db.arn.as_literal().expect("literal").to_owned();
    let arn = |name: &str| {
        json!({"Fn::Sub": format!(
            "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{name}"
        )})
    };
    assert_eq!(
        secrets,
        &json!([
            {"Name": "DB_URL", "ValueFrom": db_arn},
            {"Name": "DB_PASSWORD", "ValueFrom": {"Fn::Join": ["", [db_arn, ":password::"]]}},
            {"Name": "STRIPE_KEY", "ValueFrom": arn("orders/dev/stripe-key")},
            {"Name": "SIGNING_KEY", "ValueFrom": arn("signing-key")},
        ])
    );
    // AND the execution role reads the one secret, the two parameters, and decrypts with the
    // one key only through SSM
    let by_sid = execution_statements(&t);
    assert_eq!(by_sid["ReadTaskSecrets"]["Resource"], json!(db_arn));
    assert_eq!(
        by_sid["ReadTaskParameters"]["Action"],
        json!("ssm:GetParameters")
    );
    assert_eq!(
        by_sid["ReadTaskParameters"]["Resource"],
        json!([arn("orders/dev/stripe-key"), arn("signing-key")])
    );
    assert_eq!(
        by_sid["DecryptTaskParameters"]["Action"],
        json!("kms:Decrypt")
    );
    assert_eq!(by_sid["DecryptTaskParameters"]["Resource"], json!(key));
    assert_eq!(
        by_sid["DecryptTaskParameters"]["Condition"]["StringEquals"]["kms:ViaService"],
        json!({"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"})
    );
}

#[test]
fn a_parameter_ssm_would_refuse_is_an_error_naming_the_variable() {
    for (name, why) in [
        ("orders/dev/key", "without its leading '/'"),
        ("/orders/dev/key!", "characters SSM refuses"),
        ("/aws/reserved", "SSM reserves"),
        ("", "1 to 2048"),
    ] {
        let errs = errors(&task_with_secrets(vec![(
            "API_KEY".into(),
            SecretSource::parameter(name),
        )]));
        assert_eq!(errs.len(), 1, "{name:?}: {errs:?}");
        assert!(
            errs[0].starts_with("[test/Stack/Task] secret environment variable API_KEY")
                && errs[0].contains(why),
            "{name:?}: {errs:?}"
        );
    }
    let errs = errors(&task_with_secrets(vec![(
        "DB_PASSWORD".into(),
        SecretSource::secret_key(&secret("db"), ""),
    )]));
    assert!(
        errs.len() == 1 && errs[0].contains("empty JSON key"),
        "{errs:?}"
    );
}

#[test]
fn a_queue_worker_has_no_load_balancer_and_scales_on_backlog_per_task() {
    // GIVEN a worker on a queue, also writing a table
    let t = template(&worker_app(QueueWorkerServiceProps::default()));
    // THEN no load balancer, and nothing may reach the tasks
    assert!(resources_of_type(&t, "AWS::ElasticLoadBalancingV2::LoadBalancer").is_empty());
    let service = one(&t, "AWS::ECS::Service");
    assert!(service["Properties"]["LoadBalancers"].is_null());
    let sg = one(&t, "AWS::EC2::SecurityGroup");
    assert!(sg["Properties"]["SecurityGroupIngress"].is_null());
    assert!(resources_of_type(&t, "AWS::EC2::SecurityGroupIngress").is_empty());
    // AND the backlog policy divides visible messages by running tasks
    let backlog = resources_of_type(&t, "AWS::ApplicationAutoScaling::ScalingPolicy")
        .into_iter()
        .find(|(id, _)| id.contains("BacklogScaling"))
        .expect("backlog policy")
        .1;
    let config = &backlog["Properties"]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(config["TargetValue"], 100);
    let metrics = config["CustomizedMetricSpecification"]["Metrics"]
        .as_array()
        .expect("metrics");
    assert_eq!(
        metrics[0]["MetricStat"]["Metric"]["MetricName"],
        "ApproximateNumberOfMessagesVisible"
    );
    assert_eq!(
        metrics[1]["MetricStat"]["Metric"]["MetricName"],
        "RunningTaskCount"
    );
    assert_eq!(metrics[2]["Expression"], "visible / tasks");
    assert_eq!(metrics[2]["ReturnData"], true);
    // AND the task role consumes the queue and writes the table through its default policy
    let policy = one(&t, "AWS::IAM::Policy");
    let actions: Vec<String> = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    assert!(
        actions.iter().any(|a| a == "sqs:ReceiveMessage"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "dynamodb:PutItem"),
        "{actions:?}"
    );
    assert!(!actions.iter().any(|a| a.contains('*')), "{actions:?}");
    insta::assert_json_snapshot!("worker", t);
}

#[test]
fn bad_worker_and_web_props_are_errors_at_their_paths() {
    // GIVEN a worker that could scale to zero tasks, with no backlog target
    let errs = errors(&worker_app(QueueWorkerServiceProps {
        desired_count: 0,
        scaling: Scaling {
            min_capacity: 0,
            ..QueueWorkerServiceProps::default().scaling
        },
        backlog_per_task: 0,
        ..QueueWorkerServiceProps::default()
    }));
    // THEN each is named at the worker's path
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs.iter().all(|e| e.starts_with("[test/Stack/Worker] ")),
        "{errs:?}"
    );
    assert!(errs[0].contains("min_capacity is 0"), "{errs:?}");
    assert!(errs[1].contains("backlog_per_task is 0"), "{errs:?}");

    // GIVEN a web service whose domain is outside the zone (a task that listens on no port
    // does not compile: WebService takes a ServingTask)
    let app = app_with_stack(REGION, |s| {
        let cluster = Cluster::new(s, "Cluster", ClusterProps::default());
        let task = FargateTask::serving(
            s,
            "Task",
            ContainerImage::public("public.ecr.aws/nginx/nginx:1.27"),
            8080,
            FargateTaskProps::default(),
        );
        WebService::new(
            s,
            "Api",
            &vpc(),
            &cluster,
            &task,
            WebIngress::PublicTls {
                domain_name: "api.example.org".into(),
                hosted_zone: zone(),
            },
            WebServiceProps::default(),
        );
    });
    let errs = errors(&app);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("[test/Stack/Api] ") && errs[0].contains("is not in the hosted zone"),
        "{errs:?}"
    );
}
