//! An app of your own on pantri, built only from the public API: an orders API (a web service
//! with public TLS) and a fulfilment worker (a queue worker) over an SQS queue and a DynamoDB
//! table, in two stages.
//!
//! Stacks per stage: `Network` (VPC, the stage's hosted zone, the logs key and log bucket),
//! `Data` (queue with its dead-letter queue, table and its key), `Service` (cluster, API, worker).
//! The stages are plain values in code ([`STAGES`]); nothing is read from files.

use pantri::cli::AppContext;
use pantri_constructs::dns::{HostedZone, HostedZoneProps};
use pantri_constructs::grants::{KeyGrants, QueueGrants, TableGrants};
use pantri_constructs::logs::LogsKey;
use pantri_constructs::network::{NatGateways, SecureNetwork, SecureNetworkProps};
use pantri_constructs::policy::{document, key_administration};
use pantri_constructs::service::{
    AccessLogs, CapacityStrategy, Cluster, ClusterProps, ContainerImage, FargateTask,
    FargateTaskProps, ImageRepository, ImageRepositoryProps, QueueWorkerService,
    QueueWorkerServiceProps, Scaling, WebIngress, WebService, WebServiceProps,
};
use pantri_constructs::storage::{LogBucket, LogBucketProps};
use pantri_constructs::{Naming, Removal};
use pantri_synth::cfn::dynamodb::table::{
    AttributeDefinition, PointInTimeRecoverySpecification, SSESpecification,
};
use pantri_synth::cfn::dynamodb::CfnTable;
use pantri_synth::cfn::kms::CfnKey;
use pantri_synth::cfn::sqs::queue::RedrivePolicy;
use pantri_synth::cfn::sqs::CfnQueue;
use pantri_synth::{App, Environment, Parameter, StackProps, Str, Value};

/// One stage of the app.
#[derive(Clone, Debug)]
pub struct Stage {
    /// `dev`, `prod`.
    pub name: &'static str,
    /// The AWS account and region.
    pub account: &'static str,
    /// The region.
    pub region: &'static str,
    /// Two availability zones of the region.
    pub zones: [&'static str; 2],
    /// The stage's own DNS zone; the API is `api.<zone>`.
    pub zone: &'static str,
    /// Dev shares one NAT gateway; prod has one per zone.
    pub nat: NatGateways,
    /// API tasks (and the floor of its scaling).
    pub api_tasks: u32,
    /// The most worker tasks.
    pub max_workers: u32,
    /// Dev deletes its data with the stack; prod keeps it.
    pub removal: Removal,
}

/// Why the queues pass checkov's CKV_AWS_27 as they are.
const SQS_SSE_REASON: &str = "encrypted at rest with SQS-managed keys (SqsManagedSseEnabled); \
    checkov's check only recognizes KmsMasterKeyId, and a customer key would only add KMS calls \
    for every message with nothing else in the account reading the queue";

/// The app's stages.
pub const STAGES: [Stage; 2] = [
    Stage {
        name: "dev",
        account: "111111111111",
        region: "eu-west-1",
        zones: ["eu-west-1a", "eu-west-1b"],
        zone: "dev.orders.example.com",
        nat: NatGateways::Single,
        api_tasks: 1,
        max_workers: 2,
        removal: Removal::Destroy,
    },
    Stage {
        name: "prod",
        account: "222222222222",
        region: "eu-west-1",
        zones: ["eu-west-1a", "eu-west-1b"],
        zone: "orders.example.com",
        nat: NatGateways::PerAz,
        api_tasks: 2,
        max_workers: 20,
        removal: Removal::Retain,
    },
];

/// The app: every stage of [`STAGES`], each built on its own core (a stage uses only what it
/// adds, so the stages can be built apart and joined in order).
pub fn build(_ctx: &AppContext) -> anyhow::Result<App> {
    let stages = STAGES
        .iter()
        .map(|stage| Ok((Naming::new("orders", stage.name)?, stage)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut app = App::new();
    app.build_in_parallel(&stages, |app, (naming, stage)| {
        add_stage(app, naming, stage)
    });
    Ok(app)
}

/// Adds one stage's stacks.
pub fn add_stage(app: &mut App, naming: &Naming, st: &Stage) {
    let mut root = app.root();
    let mut stage = root.stage(st.name, Environment::new(st.account, st.region));
    let props = |description: &str| StackProps {
        description: Some(format!("orders {}: {description}", st.name)),
        termination_protection: st.removal == Removal::Retain,
        ..StackProps::default()
    };

    // Network: the VPC, the zone, and what every log needs.
    let (vpc, zone, logs_key, log_bucket, repository, network_node) = {
        let mut stack = stage.stack("Network", props("network, DNS, logs, image repository"));
        let network = SecureNetwork::new(
            &mut stack,
            "Vpc",
            naming,
            &st.zones,
            SecureNetworkProps {
                nat_gateways: st.nat,
                removal: st.removal,
                ..SecureNetworkProps::default()
            },
        );
        let zone = HostedZone::new(
            &mut stack,
            "Zone",
            st.zone,
            HostedZoneProps {
                removal: st.removal,
                ..HostedZoneProps::default()
            },
        );
        let logs_key = LogsKey::new(&mut stack, "LogsKey", st.removal);
        let log_bucket = LogBucket::new(
            &mut stack,
            "LogBucket",
            LogBucketProps {
                removal: st.removal,
                ..LogBucketProps::default()
            },
        );
        let repository = ImageRepository::new(
            &mut stack,
            "Repository",
            &naming.prefix(),
            ImageRepositoryProps {
                removal: st.removal,
                ..ImageRepositoryProps::default()
            },
        );
        (
            network.vpc_ref(),
            zone.zone_ref(),
            logs_key,
            log_bucket,
            repository,
            stack.node(),
        )
    };

    // Data: the orders queue (failed messages go to a dead-letter queue) and the orders table.
    let (queue, table, table_key) = {
        let mut stack = stage.stack("Data", props("orders queue and table"));
        let dead_letters = stack.resource(
            "DeadLetters",
            CfnQueue::new()
                .sqs_managed_sse_enabled(true)
                .message_retention_period(1_209_600),
        );
        let queue = stack.resource(
            "Orders",
            CfnQueue::new()
                .sqs_managed_sse_enabled(true)
                // Longer than a worker takes for one order, so no order is handled twice at once.
                .visibility_timeout(120)
                .redrive_policy(
                    RedrivePolicy::new()
                        .dead_letter_target_arn(dead_letters.attr_arn())
                        .max_receive_count(5),
                ),
        );
        let table_key = stack.resource(
            "TableKey",
            CfnKey::new()
                .description("orders table encryption")
                .enable_key_rotation(true)
                .key_policy(document([key_administration()])),
        );
        let table = stack.resource(
            "Table",
            CfnTable::new(Value::from_json(serde_json::json!([
                {"AttributeName": "orderId", "KeyType": "HASH"}
            ])))
            .attribute_definitions(vec![AttributeDefinition::new("orderId", "S")])
            .billing_mode("PAY_PER_REQUEST")
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::new().point_in_time_recovery_enabled(true),
            )
            .sse_specification(
                SSESpecification::new(true)
                    .sse_type("KMS")
                    .kms_master_key_id(table_key.attr_arn()),
            )
            .deletion_protection_enabled(st.removal == Removal::Retain),
        );
        for res in [table.node(), table_key.node()] {
            if let Some(o) = stack.app().options_mut(res) {
                st.removal.apply(o);
            }
        }
        for q in [dead_letters.node(), queue.node()] {
            if let Some(o) = stack.app().options_mut(q) {
                o.suppress_checkov("CKV_AWS_27", SQS_SSE_REASON);
            }
        }
        (queue, table, table_key)
    };

    // Service: the API and the worker in one cluster.
    let mut stack = stage.stack("Service", props("orders API and fulfilment worker"));
    stack.add_dependency(network_node);
    let tag = stack.parameter(
        "ImageTag",
        Parameter::string()
            .description("Tag of the orders image to run (pushed before deploying)")
            .from_env("ORDERS_IMAGE_TAG")
            .no_echo(),
    );
    let cluster = Cluster::new(
        &mut stack,
        "Cluster",
        ClusterProps {
            cluster_name: Some(naming.prefix()),
            capacity: if st.name == "prod" {
                CapacityStrategy::on_demand()
            } else {
                CapacityStrategy::mostly_spot()
            },
            ..ClusterProps::default()
        },
    );
    let task = |name: &str, command: &str| FargateTaskProps {
        family: Some(format!("orders-{name}-{}", st.name)),
        environment: vec![
            ("ORDERS_QUEUE_URL".to_owned(), queue.attr_queue_url()),
            ("ORDERS_TABLE".to_owned(), table.ref_()),
            ("ORDERS_ROLE".to_owned(), command.into()),
        ],
        logs_key_arn: Some(logs_key.arn()),
        removal: st.removal,
        ..FargateTaskProps::default()
    };
    let image = ContainerImage::ecr(repository.resource(), tag.value::<Str>());

    let api_task = FargateTask::serving(
        &mut stack,
        "ApiTask",
        image.clone(),
        8080,
        task("api", "api"),
    );
    table.grant_read(&mut stack, api_task.task_role());
    table_key.grant_decrypt(&mut stack, api_task.task_role());
    queue.grant_send(&mut stack, api_task.task_role());
    WebService::new(
        &mut stack,
        "Api",
        &vpc,
        &cluster,
        &api_task,
        WebIngress::PublicTls {
            domain_name: format!("api.{}", st.zone),
            hosted_zone: zone,
        },
        WebServiceProps {
            desired_count: st.api_tasks,
            scaling: Scaling {
                min_capacity: st.api_tasks,
                ..Scaling::default()
            },
            access_logs: Some(AccessLogs {
                bucket: log_bucket.bucket_ref(),
                prefix: log_bucket.alb_prefix().to_owned(),
            }),
            deletion_protection: st.removal == Removal::Retain,
            ..WebServiceProps::default()
        },
    );

    let worker_task = FargateTask::new(&mut stack, "WorkerTask", image, task("worker", "worker"));
    table.grant_read_write(&mut stack, worker_task.task_role());
    table_key.grant_encrypt_decrypt(&mut stack, worker_task.task_role());
    QueueWorkerService::new(
        &mut stack,
        "Worker",
        &vpc,
        &cluster,
        &worker_task,
        queue,
        QueueWorkerServiceProps {
            scaling: Scaling {
                min_capacity: 1,
                max_capacity: st.max_workers,
                memory_target_percent: None,
                ..Scaling::default()
            },
            ..QueueWorkerServiceProps::default()
        },
    );
}
