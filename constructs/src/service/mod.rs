//! ECS on Fargate, as parts that compose:
//!
//! - [`Cluster`]: the cluster (Container Insights) and its FARGATE / FARGATE_SPOT strategy.
//! - [`FargateTask`]: a task definition with its app container, execution and task roles and
//!   log groups; [`DatadogAgent`] is its optional add-on (agent sidecar, FireLens log router).
//! - [`WebService`]: the task behind an internet-facing ALB with TLS, public
//!   ([`WebIngress::PublicTls`]) or reachable only through CloudFront
//!   ([`WebIngress::BehindCloudFront`]), autoscaled on CPU, memory and requests.
//! - [`QueueWorkerService`]: the task with no load balancer, consuming an SQS queue, autoscaled
//!   on the queue's backlog per task.
//! - [`ImageRepository`]: an ECR repository (scan on push, immutable tags, KMS, lifecycle).
//!
//! What a part cannot work without is an argument of its `new`; its props are tuning with
//! secure defaults. Each part also has `in_scope`, which adds its resources to the given scope
//! without a node of its own: [`NextJsService`], the reference app's Next.js service, is such a
//! composition and keeps the paths (and so the logical IDs) it had before it was made of parts.
//!
//! A service lives in its own stack: every other stack's value arrives as a `Str`, and synthesis
//! turns it into an import.

mod alb;
mod cluster;
mod datadog;
mod discovery;
mod ecr;
mod roles;
mod scaling;
mod task;
mod validate;
mod web;
mod worker;

use pantri_synth::cfn::ec2::CfnSecurityGroup;
use pantri_synth::cfn::ecr::CfnRepository;
use pantri_synth::cfn::ecs::{CfnCluster, CfnService, CfnTaskDefinition};
use pantri_synth::cfn::elasticloadbalancingv2::{
    CfnListener, CfnListenerRule, CfnLoadBalancer, CfnTargetGroup,
};
use pantri_synth::cfn::iam::CfnRole;
use pantri_synth::{fns, Output, ParamRef, Parameter, Res, Scope, Str};

use crate::policy::Statement;
use crate::{BucketRef, HostedZoneRef, Naming, Removal, SecretRef, UserPoolRef, VpcRef};

pub use cluster::{CapacityStrategy, Cluster, ClusterProps};
pub use datadog::DatadogAgent;
pub use roles::COGNITO_ACTIONS;
pub use scaling::Scaling;
pub use task::{
    ContainerImage, FargateTask, FargateTaskProps, SecretSource, ServingTask, VOLUME_INIT_CONTAINER,
};
pub use web::{AccessLogs, WebIngress, WebService, WebServiceProps};
pub use worker::{QueueWorkerService, QueueWorkerServiceProps};

/// The sidecar images, pinned to exact releases in this one place: a task started tomorrow runs
/// what was reviewed today, and an upgrade is a reviewed change here (or a prop).
pub mod images {
    /// The Datadog agent.
    pub const DATADOG_AGENT: &str = "public.ecr.aws/datadog/agent:7.59.0";
    /// AWS for Fluent Bit, the FireLens log router.
    pub const LOG_ROUTER: &str = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4";
    /// busybox from the ECR Public mirror of Docker official images (no Docker Hub rate limit),
    /// for the init container.
    pub const INIT: &str = "public.ecr.aws/docker/library/busybox:1.37.0";
}
pub use ecr::{ImageRepository, ImageRepositoryProps};

/// The name of the app container in the task definition (and of the Cloud Map service).
pub const APP_CONTAINER: &str = "web";
/// The name of the Datadog agent sidecar.
pub const AGENT_CONTAINER: &str = "datadog-agent";
/// The name of the FireLens log router sidecar.
pub const LOG_ROUTER_CONTAINER: &str = "log-router";
/// The header CloudFront sends with the origin secret; requests without it get a 403.
pub const ORIGIN_VERIFY_HEADER: &str = "X-Origin-Verify";

/// The Datadog agent tuning of a [`NextJsService`] (its [`DatadogAgent`] add-on). The API key
/// is not here: it is [`NextJsServiceInputs::datadog_api_key`], which has no default.
#[derive(Clone, Debug, PartialEq)]
pub struct DatadogAgentProps {
    /// The Datadog site (`datadoghq.com`, `datadoghq.eu`, `ap1.datadoghq.com`, ...).
    /// Default `datadoghq.com`.
    pub site: String,
    /// The `env` unified service tag. Default: the stage.
    pub env: Option<String>,
    /// The `service` unified service tag. Default: the app name.
    pub service: Option<String>,
    /// The `version` unified service tag. Default: the deployed image tag (the `ImageTag`
    /// parameter), so every deploy is a version in APM.
    pub version: Option<String>,
    /// The agent image. Default [`images::DATADOG_AGENT`].
    pub agent_image: String,
    /// The log router image. Default [`images::LOG_ROUTER`].
    pub log_router_image: String,
}

impl Default for DatadogAgentProps {
    fn default() -> Self {
        DatadogAgentProps {
            site: "datadoghq.com".to_owned(),
            env: None,
            service: None,
            version: None,
            agent_image: images::DATADOG_AGENT.to_owned(),
            log_router_image: images::LOG_ROUTER.to_owned(),
        }
    }
}

/// Where the app container's stdout/stderr goes. Either way it is in the CloudWatch log group
/// `/aws/ecs/<app>-<stage>`, where `aws logs tail` finds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AppLogs {
    /// Through the FireLens log router (Fluent Bit) to both the log group and Datadog Logs
    /// (default): Datadog puts logs next to traces, CloudWatch keeps them when Datadog cannot
    /// take them and for `aws logs tail`. The Datadog output is FireLens's own; the CloudWatch
    /// output is a Fluent Bit config file the init container writes into a task volume. The
    /// router's own logs go to `/ecs/datadog-agent-<stage>`.
    #[default]
    CloudWatchAndDatadog,
    /// To the log group only, with the `awslogs` driver (no log router).
    CloudWatch,
}

/// The Container Insights level of the cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContainerInsights {
    /// Enhanced observability: per-task and per-container metrics (default).
    #[default]
    Enhanced,
    /// Cluster- and service-level metrics only (cheaper).
    Enabled,
}

/// What a [`NextJsService`] cannot work without: the network, the names and the other stacks'
/// resources it uses. Every field is required (there is no `Default`); a value made in another
/// stack becomes an import at synth.
#[derive(Clone, Debug, PartialEq)]
pub struct NextJsServiceInputs {
    /// The app and stage: the cluster, task family and repository are `<app>-<stage>`, the
    /// ECS service `<app>-service`, the log groups `/aws/ecs/<app>-<stage>` and
    /// `/ecs/datadog-agent-<stage>`, the service-discovery namespace `<app>.<stage>.internal`.
    pub naming: Naming,
    /// The network: the ALB goes in its public subnets, the tasks in its private ones.
    pub vpc: VpcRef,
    /// The ALB's DNS name (`origin.example.com`), the origin CloudFront reaches; must be in
    /// the hosted zone.
    pub domain_name: String,
    /// The zone for the certificate's DNS validation and the ALB's alias record.
    pub hosted_zone: HostedZoneRef,
    /// Where the ALB writes access logs; the bucket policy that lets ELB write is the
    /// bucket's own.
    pub log_bucket: BucketRef,
    /// The static-files bucket: the app reads all of it, and writes and deletes only under
    /// [`NextJsServiceProps::uploads_prefix`].
    pub static_bucket: BucketRef,
    /// The Cognito user pool the app administers.
    pub user_pool: UserPoolRef,
    /// The ARN of the KMS key (`LogsKey`) that encrypts the log groups.
    pub logs_key_arn: Str,
    /// The secret holding the Datadog API key (the whole secret string), for the agent sidecar.
    pub datadog_api_key: SecretRef,
    /// The secret whose value CloudFront sends in `X-Origin-Verify`; the whole secret string
    /// is the value (letters and digits only: the ALB treats `*` and `?` as wildcards).
    pub origin_secret: SecretRef,
}

/// The tuning of [`NextJsService::new`]. Every default is the secure (prod-like) choice.
#[derive(Clone, Debug, PartialEq)]
pub struct NextJsServiceProps {
    /// The key prefix of the ALB's access logs in the log bucket. Default `alb`.
    pub access_log_prefix: String,
    /// The key prefix of the static bucket the app may write and delete (user uploads). What
    /// CloudFront serves (`_next/static/`, `static/`) is published by deploy, never by the app,
    /// so a compromised task cannot replace the site's scripts. Default `uploads/`.
    pub uploads_prefix: String,
    /// The Datadog agent sidecar's tuning.
    pub datadog: DatadogAgentProps,
    /// Task CPU units (a legal Fargate combination with `memory`). Default 512.
    pub cpu: u32,
    /// Task memory in MiB. Default 1024.
    pub memory: u32,
    /// Tasks at deploy time. Default 2 (one per zone of two).
    pub desired_count: u32,
    /// Autoscaling floor. Default 2.
    pub min_capacity: u32,
    /// Autoscaling ceiling. Default 10.
    pub max_capacity: u32,
    /// Target average CPU utilization. Default 70.
    pub cpu_target_percent: u32,
    /// Target average memory utilization. Default 75.
    pub memory_target_percent: u32,
    /// Target ALB requests per task, if scaling on requests too. Default none.
    pub requests_per_target: Option<u32>,
    /// Seconds between scale-in activities. Default 300 (scale in slowly).
    pub scale_in_cooldown_seconds: u32,
    /// Seconds between scale-out activities. Default 60 (scale out fast).
    pub scale_out_cooldown_seconds: u32,
    /// FARGATE / FARGATE_SPOT split. Default all on-demand.
    pub capacity: CapacityStrategy,
    /// The port the app listens on. Default 3000.
    pub container_port: u16,
    /// The app's health endpoint (ALB and container health checks). Default `/api/health`.
    pub health_check_path: String,
    /// Seconds ECS ignores failing ALB health checks after a task starts. Default 60.
    pub health_check_grace_period_seconds: u32,
    /// Retention of the log groups, in days (a CloudWatch Logs value). Default 365.
    pub log_retention_days: u32,
    /// Images the repository keeps (older ones expire). Default 30.
    pub keep_images: u32,
    /// An image repository made elsewhere (an [`ImageRepository`] in a stack deployed first, so
    /// the first image can be pushed before the service starts). Default `None`: the service
    /// makes its own.
    pub repository: Option<Res<CfnRepository>>,
    /// The parameter holding the tag to run from the repository: an image asset's
    /// (`ImageAsset::image_tag_parameter`, filled by deploy with the content hash it pushed).
    /// Default `None`: an `ImageTag` parameter filled from `PANTRI_IMAGE_TAG`.
    pub image_tag: Option<ParamRef>,
    /// An image built and pushed elsewhere ([`ContainerImage::uri`]: a tag or a digest), run as
    /// it is: no `ImageTag` parameter is made and `image_tag` must be unset. Default `None`: the
    /// repository's image at `image_tag`.
    pub image: Option<ContainerImage>,
    /// What happens to the repository and log groups when the stack deletes them. Default Retain.
    pub removal: Removal,
    /// ALB deletion protection. Default true.
    pub deletion_protection: bool,
    /// The id of CloudFront's origin-facing managed prefix list in the stack's region
    /// (`aws ec2 describe-managed-prefix-lists --filters
    /// Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing`): the ALB
    /// then admits only CloudFront. Default none: any address may connect, and only the
    /// origin-verify header keeps others out. The list counts as about 55 rules against the
    /// group's quota of 60.
    pub cloudfront_prefix_list_id: Option<Str>,
    /// Whether the ALB also serves IPv6 (`dualstack`, an AAAA record, `::/0` ingress); the
    /// public subnets need IPv6 CIDRs. Default false.
    pub ipv6: bool,
    /// Where the app's stdout goes. Default [`AppLogs::CloudWatchAndDatadog`].
    pub app_logs: AppLogs,
    /// The Container Insights level. Default [`ContainerInsights::Enhanced`].
    pub container_insights: ContainerInsights,
    /// The user the app container runs as. Default `1001:1001` (the `nextjs` user of the
    /// Next.js standalone Dockerfile): never root, whatever the image says.
    pub user: Option<String>,
    /// ECS Exec into the app container: adds the ssmmessages actions and makes the app's root
    /// filesystem writable (the exec agent writes there). Default false.
    pub enable_exec: bool,
    /// Plain environment variables of the app (never secrets: validation rejects names that
    /// look like one).
    pub environment: Vec<(String, Str)>,
    /// Secret environment variables: (name, where ECS reads the value at task start: a
    /// Secrets Manager secret or an SSM parameter).
    pub secrets: Vec<(String, SecretSource)>,
}

impl Default for NextJsServiceProps {
    fn default() -> Self {
        NextJsServiceProps {
            access_log_prefix: "alb".to_owned(),
            uploads_prefix: "uploads/".to_owned(),
            datadog: DatadogAgentProps::default(),
            cpu: 512,
            memory: 1024,
            desired_count: 2,
            min_capacity: 2,
            max_capacity: 10,
            cpu_target_percent: 70,
            memory_target_percent: 75,
            requests_per_target: None,
            scale_in_cooldown_seconds: 300,
            scale_out_cooldown_seconds: 60,
            capacity: CapacityStrategy::default(),
            container_port: 3000,
            health_check_path: "/api/health".to_owned(),
            health_check_grace_period_seconds: 60,
            log_retention_days: 365,
            keep_images: 30,
            repository: None,
            image_tag: None,
            image: None,
            removal: Removal::Retain,
            deletion_protection: true,
            cloudfront_prefix_list_id: None,
            ipv6: false,
            app_logs: AppLogs::CloudWatchAndDatadog,
            container_insights: ContainerInsights::Enhanced,
            user: Some("1001:1001".to_owned()),
            enable_exec: false,
            environment: Vec::new(),
            secrets: Vec::new(),
        }
    }
}

/// The names humans look for, derived from app and stage once.
#[derive(Clone, Debug)]
struct Names {
    /// `<app>-<stage>`: cluster, repository, task family.
    base: String,
    /// `<app>-service` (the seed's `--services pantri-service`; the cluster carries the stage).
    service: String,
    /// `/aws/ecs/<app>-<stage>`.
    app_log_group: String,
    /// `/ecs/datadog-agent-<stage>`.
    agent_log_group: String,
    /// `<app>.<stage>.internal`.
    namespace: String,
}

impl Names {
    fn new(naming: &Naming) -> Names {
        let (app, stage) = (naming.app(), naming.stage());
        Names {
            base: format!("{app}-{stage}"),
            service: format!("{app}-service"),
            app_log_group: format!("/aws/ecs/{app}-{stage}"),
            agent_log_group: format!("/ecs/datadog-agent-{stage}"),
            namespace: format!("{app}.{stage}.internal"),
        }
    }
}

/// Writable paths of a Next.js app on a read-only root filesystem: the ISR/image cache and the
/// temp dir. Fargate has no tmpfs, so these are task-local bind volumes on ephemeral storage,
/// opened to the non-root app user by [`VOLUME_INIT_CONTAINER`].
const WRITABLE_PATHS: &[(&str, &str)] = &[("next-cache", "/app/.next/cache"), ("tmp", "/tmp")];

/// Environment variables the construct sets on the app container itself.
pub const RESERVED_ENV: &[&str] = &[
    "NODE_ENV",
    "PORT",
    "HOSTNAME",
    "DD_AGENT_HOST",
    "DD_ENV",
    "DD_SERVICE",
    "DD_VERSION",
    "DD_LOGS_INJECTION",
    "STATIC_BUCKET",
    "COGNITO_USER_POOL_ID",
];

/// The reference app's Next.js service on ECS Fargate behind an ALB only CloudFront may use: a
/// composition of a [`ServingTask`] (with the [`DatadogAgent`] add-on), [`Cluster`] and
/// [`WebService`] with [`WebIngress::BehindCloudFront`], plus its image repository, its
/// `ImageTag` parameter, a task role for the static bucket and the user pool, and outputs.
///
/// What it cannot work without is [`NextJsServiceInputs`], an argument with no default; the
/// props are tuning:
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Service", StackProps::default());
/// use pantri_constructs::{service::{NextJsService, NextJsServiceInputs, NextJsServiceProps}, Naming};
/// # use pantri_constructs::testing::fixtures::{bucket, secret, user_pool, vpc, zone};
///
/// let inputs = NextJsServiceInputs {
///     naming: Naming::new("shop", "dev").expect("lowercase names"),
///     vpc: vpc(),
///     domain_name: "origin.example.com".into(),
///     hosted_zone: zone("example.com"),
///     log_bucket: bucket("logs"),
///     static_bucket: bucket("static"),
///     user_pool: user_pool(),
///     logs_key_arn: "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab".into(),
///     datadog_api_key: secret("dd-api-key"),
///     origin_secret: secret("origin-verify"),
/// };
/// let web = NextJsService::new(&mut stack, "Web", inputs, NextJsServiceProps {
///     health_check_path: "/healthz".into(),
///     ..NextJsServiceProps::default()
/// });
/// assert_eq!(web.cluster_name_literal(), "shop-dev");
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
///
/// Without the inputs it does not compile (the same code as above, minus the `inputs` argument):
///
/// ```compile_fail,E0061
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Service", StackProps::default());
/// # use pantri_constructs::{service::{NextJsService, NextJsServiceInputs, NextJsServiceProps}, Naming};
/// # use pantri_constructs::testing::fixtures::{bucket, secret, user_pool, vpc, zone};
/// #
/// # let inputs = NextJsServiceInputs {
/// #     naming: Naming::new("shop", "dev").expect("lowercase names"),
/// #     vpc: vpc(),
/// #     domain_name: "origin.example.com".into(),
/// #     hosted_zone: zone("example.com"),
/// #     log_bucket: bucket("logs"),
/// #     static_bucket: bucket("static"),
/// #     user_pool: user_pool(),
/// #     logs_key_arn: "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab".into(),
/// #     datadog_api_key: secret("dd-api-key"),
/// #     origin_secret: secret("origin-verify"),
/// # };
/// let web = NextJsService::new(&mut stack, "Web", NextJsServiceProps {
///     health_check_path: "/healthz".into(),
///     ..NextJsServiceProps::default()
/// });
/// # assert_eq!(web.cluster_name_literal(), "shop-dev");
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
///
/// and neither do inputs with one left out (here the user pool):
///
/// ```compile_fail,E0063
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Service", StackProps::default());
/// # use pantri_constructs::{service::{NextJsService, NextJsServiceInputs, NextJsServiceProps}, Naming};
/// # use pantri_constructs::testing::fixtures::{bucket, secret, user_pool, vpc, zone};
/// #
/// let inputs = NextJsServiceInputs {
///     naming: Naming::new("shop", "dev").expect("lowercase names"),
///     vpc: vpc(),
///     domain_name: "origin.example.com".into(),
///     hosted_zone: zone("example.com"),
///     log_bucket: bucket("logs"),
///     static_bucket: bucket("static"),
///     logs_key_arn: "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab".into(),
///     datadog_api_key: secret("dd-api-key"),
///     origin_secret: secret("origin-verify"),
/// };
/// # let web = NextJsService::new(&mut stack, "Web", inputs, NextJsServiceProps {
/// #     health_check_path: "/healthz".into(),
/// #     ..NextJsServiceProps::default()
/// # });
/// # assert_eq!(web.cluster_name_literal(), "shop-dev");
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Debug)]
pub struct NextJsService {
    repository: Res<CfnRepository>,
    image_tag: Option<ParamRef>,
    cluster: Res<CfnCluster>,
    task_definition: Res<CfnTaskDefinition>,
    execution_role: Res<CfnRole>,
    task_role: Res<CfnRole>,
    service: Res<CfnService>,
    service_security_group: Res<CfnSecurityGroup>,
    web: WebService,
    cluster_name: String,
    service_name: String,
    app_log_group_name: String,
    agent_log_group_name: String,
}

impl NextJsService {
    /// Adds the service under `scope` at `id`, wired to `inputs`. Bad props are synth errors at
    /// the construct's path.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        inputs: NextJsServiceInputs,
        props: NextJsServiceProps,
    ) -> NextJsService {
        let mut s = scope.construct(id, "pantri.NextJsService");
        validate::props(&mut s, &props);
        let names = Names::new(&inputs.naming);

        let repository = match props.repository {
            Some(r) => r,
            None => ecr::repository(&mut s, &names, &props),
        };
        // No default: tags are immutable, so `latest` could be pushed once only, and a deploy must
        // say exactly which image it runs (a rollback is a redeploy of an older tag).
        let (image, image_tag) = match &props.image {
            Some(image) => (image.clone(), None),
            None => {
                let tag = props.image_tag.unwrap_or_else(|| {
                    s.parameter(
            "ImageTag",
            Parameter {
                allowed_pattern: Some("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$".to_owned()),
                constraint_description: Some(
                    "an image tag: letters, digits, '.', '_' and '-', at most 128".to_owned(),
                ),
                ..Parameter::string()
                    .description(format!(
                        "Tag of the {} image to run (an immutable tag such as the git SHA, pushed to the repository before deploying)",
                        inputs.naming.app()
                    ))
                    .from_env("PANTRI_IMAGE_TAG")
                    // Deploy fills only NoEcho parameters from the environment (so a secret
                    // never lands in a readable parameter); the tag itself stays visible in
                    // the task definition's image.
                    .no_echo()
            },
        )
                });
                (
                    ContainerImage::ecr(repository, tag.value::<Str>()),
                    Some(tag),
                )
            }
        };
        let version_tag = image.tag().cloned();
        let task = ServingTask::in_scope(
            &mut s,
            image,
            props.container_port,
            task_props(&names, &inputs, &props, version_tag.as_ref()),
        );
        let cluster = Cluster::in_scope(
            &mut s,
            ClusterProps {
                cluster_name: Some(names.base.clone()),
                capacity: props.capacity,
                container_insights: props.container_insights,
            },
        );
        let web = WebService::in_scope(
            &mut s,
            &inputs.vpc,
            &cluster,
            &task,
            WebIngress::BehindCloudFront {
                domain_name: inputs.domain_name.clone(),
                hosted_zone: inputs.hosted_zone.clone(),
                origin_secret: inputs.origin_secret.clone(),
                prefix_list_id: props.cloudfront_prefix_list_id.clone(),
            },
            WebServiceProps {
                service_name: Some(names.service.clone()),
                label: Some(names.base.clone()),
                desired_count: props.desired_count,
                scaling: Scaling {
                    min_capacity: props.min_capacity,
                    max_capacity: props.max_capacity,
                    cpu_target_percent: props.cpu_target_percent,
                    memory_target_percent: Some(props.memory_target_percent),
                    scale_in_cooldown_seconds: props.scale_in_cooldown_seconds,
                    scale_out_cooldown_seconds: props.scale_out_cooldown_seconds,
                },
                requests_per_target: props.requests_per_target,
                health_check_path: props.health_check_path.clone(),
                health_check_grace_period_seconds: props.health_check_grace_period_seconds,
                access_logs: Some(AccessLogs {
                    bucket: inputs.log_bucket.clone(),
                    prefix: props.access_log_prefix.clone(),
                }),
                deletion_protection: props.deletion_protection,
                ipv6: props.ipv6,
                discovery_namespace: Some(names.namespace.clone()),
            },
        );

        let svc = NextJsService {
            repository,
            image_tag,
            cluster: cluster.resource(),
            task_definition: task.task_definition(),
            execution_role: task.execution_role(),
            task_role: task.task_role(),
            service: web.service(),
            service_security_group: web.service_security_group(),
            web,
            cluster_name: names.base.clone(),
            service_name: names.service.clone(),
            app_log_group_name: names.app_log_group.clone(),
            agent_log_group_name: names.agent_log_group.clone(),
        };
        outputs(&mut s, &svc, props.repository.is_none());
        svc
    }
}

/// The task of the Next.js app: its container as the Next.js standalone server wants it, the
/// Datadog add-on, and a task role for the static bucket and the user pool.
fn task_props(
    names: &Names,
    inputs: &NextJsServiceInputs,
    props: &NextJsServiceProps,
    image_tag: Option<&Str>,
) -> FargateTaskProps {
    let dd = &props.datadog;
    let agent = DatadogAgent {
        api_key_secret: inputs.datadog_api_key.clone(),
        env: dd
            .env
            .clone()
            .unwrap_or_else(|| inputs.naming.stage().to_owned()),
        service: dd
            .service
            .clone()
            .unwrap_or_else(|| inputs.naming.app().to_owned()),
        version: dd.version.clone().map(Str::from),
        site: dd.site.clone(),
        agent_image: dd.agent_image.clone(),
        log_router_image: dd.log_router_image.clone(),
        app_logs: props.app_logs,
        log_group_name: Some(names.agent_log_group.clone()),
        log_source: Some("nodejs".to_owned()),
    };
    let version = agent.version_or(image_tag);
    let mut environment = vec![
        ("NODE_ENV".to_owned(), Str::from("production")),
        (
            "PORT".to_owned(),
            Str::from(props.container_port.to_string()),
        ),
        // Next.js standalone binds to HOSTNAME; the ALB reaches the task's ENI, not loopback.
        ("HOSTNAME".to_owned(), Str::from("0.0.0.0")),
    ];
    environment.extend(agent.app_environment(version.as_ref()));
    environment.push((
        "STATIC_BUCKET".to_owned(),
        inputs.static_bucket.name.clone(),
    ));
    environment.push((
        "COGNITO_USER_POOL_ID".to_owned(),
        inputs.user_pool.id.clone(),
    ));
    // A reserved name is an error of the composition (validate::props): leaving it out here
    // keeps it from being reported again as set twice.
    environment.extend(
        props
            .environment
            .iter()
            .filter(|(n, _)| !RESERVED_ENV.contains(&n.as_str()))
            .cloned(),
    );
    // `node` is in every Next.js image; curl and wget are not (slim and distroless images).
    let probe = format!(
        "fetch('http://127.0.0.1:{}{}').then(r=>process.exit(r.status<400?0:1),()=>process.exit(1))",
        props.container_port, props.health_check_path
    );
    FargateTaskProps {
        family: Some(names.base.clone()),
        cpu: props.cpu,
        memory: props.memory,
        container_name: APP_CONTAINER.to_owned(),
        health_check: Some(vec![
            "CMD".to_owned(),
            "node".to_owned(),
            "-e".to_owned(),
            probe,
        ]),
        environment,
        secrets: props.secrets.clone(),
        user: props.user.clone(),
        writable_paths: WRITABLE_PATHS
            .iter()
            .map(|(n, p)| ((*n).to_owned(), (*p).to_owned()))
            .collect(),
        enable_exec: props.enable_exec,
        log_group_name: Some(names.app_log_group.clone()),
        log_retention_days: props.log_retention_days,
        logs_key_arn: Some(inputs.logs_key_arn.clone()),
        removal: props.removal,
        task_role_statements: app_statements(inputs, props),
        task_role_description: Some(format!(
            "The {} app runs with it: static bucket and user pool only",
            names.base
        )),
        datadog: Some(agent),
    }
}

/// What the Next.js app may call: read the static bucket, write and delete only under the
/// uploads prefix, administer users of its pool.
fn app_statements(inputs: &NextJsServiceInputs, props: &NextJsServiceProps) -> Vec<Statement> {
    let bucket = inputs.static_bucket.arn.clone();
    vec![
        Statement::allow()
            .sid("StaticObjectsRead")
            .actions(["s3:GetObject"])
            .resources([fns::join("", [bucket.clone(), Str::from("/*")])]),
        Statement::allow()
            .sid("UploadsWrite")
            .actions(["s3:PutObject", "s3:DeleteObject"])
            .resources([fns::join(
                "",
                [
                    bucket.clone(),
                    Str::from(format!("/{}*", props.uploads_prefix)),
                ],
            )]),
        Statement::allow()
            .sid("StaticListing")
            .actions(["s3:ListBucket"])
            .resources([bucket]),
        Statement::allow()
            .sid("UserPool")
            .actions(COGNITO_ACTIONS.iter().copied())
            .resources([inputs.user_pool.arn.clone()]),
    ]
}

fn outputs(s: &mut Scope<'_>, svc: &NextJsService, own_repository: bool) {
    s.output(
        "LoadBalancerDnsName",
        Output::new(svc.load_balancer_dns_name()).description("The ALB's DNS name"),
    );
    s.output(
        "LoadBalancerFullName",
        Output::new(svc.load_balancer_full_name())
            .description("The ALB's full name (CloudWatch dimension LoadBalancer)"),
    );
    s.output(
        "TargetGroupFullName",
        Output::new(svc.target_group_full_name())
            .description("The target group's full name (CloudWatch dimension TargetGroup)"),
    );
    s.output(
        "ClusterName",
        Output::new(svc.cluster_name()).description("The ECS cluster"),
    );
    s.output(
        "ServiceName",
        Output::new(svc.service_name()).description("The ECS service"),
    );
    // A repository made elsewhere has its output where it is made.
    if own_repository {
        s.output(
            "RepositoryUri",
            Output::new(svc.repository_uri()).description("Where to push the app image"),
        );
    }
}

impl NextJsService {
    /// The ALB's DNS name.
    pub fn load_balancer_dns_name(&self) -> Str {
        self.web.load_balancer_dns_name()
    }

    /// The ALB's full name (`app/<name>/<id>`), the `LoadBalancer` dimension of its metrics.
    pub fn load_balancer_full_name(&self) -> Str {
        self.web.load_balancer_full_name()
    }

    /// The target group's full name (`targetgroup/<name>/<id>`), the `TargetGroup` dimension.
    pub fn target_group_full_name(&self) -> Str {
        self.web.target_group_full_name()
    }

    /// The cluster name (`<app>-<stage>`).
    pub fn cluster_name(&self) -> Str {
        self.cluster.ref_()
    }

    /// The cluster name as a literal, for monitors and runbooks.
    pub fn cluster_name_literal(&self) -> &str {
        &self.cluster_name
    }

    /// The service name (`<app>-service`).
    pub fn service_name(&self) -> Str {
        self.service.attr_name()
    }

    /// The service name as a literal, for monitors and runbooks.
    pub fn service_name_literal(&self) -> &str {
        &self.service_name
    }

    /// The application log group's name (`/aws/ecs/<app>-<stage>`), for runbooks.
    pub fn app_log_group_name(&self) -> &str {
        &self.app_log_group_name
    }

    /// The log group of the Datadog agent and the log router (`/ecs/datadog-agent-<stage>`).
    pub fn agent_log_group_name(&self) -> &str {
        &self.agent_log_group_name
    }

    /// The repository URI to push images to.
    pub fn repository_uri(&self) -> Str {
        self.repository.attr_repository_uri()
    }

    /// The parameter holding the image tag the deploy fills (`ImageTag` from
    /// `PANTRI_IMAGE_TAG`, or the asset's); none for an image given by URI.
    pub fn image_tag(&self) -> Option<ParamRef> {
        self.image_tag
    }

    /// The tasks' security group (reachable from the ALB only, on the container port).
    pub fn service_security_group(&self) -> Res<CfnSecurityGroup> {
        self.service_security_group
    }

    /// The ALB's security group.
    pub fn load_balancer_security_group(&self) -> Res<CfnSecurityGroup> {
        self.web.load_balancer_security_group()
    }

    /// Escape hatch: the repository.
    pub fn repository(&self) -> Res<CfnRepository> {
        self.repository
    }

    /// Escape hatch: the cluster.
    pub fn cluster(&self) -> Res<CfnCluster> {
        self.cluster
    }

    /// Escape hatch: the task definition.
    pub fn task_definition(&self) -> Res<CfnTaskDefinition> {
        self.task_definition
    }

    /// Escape hatch: the execution role (image pull, logs, secrets).
    pub fn execution_role(&self) -> Res<CfnRole> {
        self.execution_role
    }

    /// Escape hatch: the task role (what the app may call).
    pub fn task_role(&self) -> Res<CfnRole> {
        self.task_role
    }

    /// Escape hatch: the ECS service.
    pub fn service(&self) -> Res<CfnService> {
        self.service
    }

    /// Escape hatch: the load balancer.
    pub fn load_balancer(&self) -> Res<CfnLoadBalancer> {
        self.web.load_balancer()
    }

    /// Escape hatch: the HTTPS listener (default action 403).
    pub fn https_listener(&self) -> Res<CfnListener> {
        self.web.https_listener()
    }

    /// Escape hatch: the rule forwarding requests that carry the origin secret.
    pub fn forward_rule(&self) -> Option<Res<CfnListenerRule>> {
        self.web.forward_rule()
    }

    /// Escape hatch: the target group.
    pub fn target_group(&self) -> Res<CfnTargetGroup> {
        self.web.target_group()
    }
}
