//! [`QueueWorkerService`]: a Fargate service with no load balancer that consumes an SQS queue
//! and scales on the queue's backlog per task.

use pantri_synth::cfn::applicationautoscaling::scaling_policy::{
    CustomizedMetricSpecification, TargetTrackingMetric, TargetTrackingMetricDataQuery,
    TargetTrackingMetricDimension, TargetTrackingMetricStat,
    TargetTrackingScalingPolicyConfiguration,
};
use pantri_synth::cfn::ec2::CfnSecurityGroup;
use pantri_synth::cfn::ecs::CfnService;
use pantri_synth::cfn::sqs::CfnQueue;
use pantri_synth::{fns, Res, Scope, Str};

use super::cluster::{self, Cluster, ServiceInputs};
use super::scaling::{self, ExtraPolicy, Scaling};
use super::{alb, FargateTask};
use crate::grants::QueueGrants;
use crate::VpcRef;

/// The tuning of a [`QueueWorkerService`].
#[derive(Clone, Debug, PartialEq)]
pub struct QueueWorkerServiceProps {
    /// The ECS service's name. Default: named by CloudFormation.
    pub service_name: Option<String>,
    /// The name in descriptions and scaling policy names. Default: the construct's path, `/`
    /// replaced by `-`.
    pub label: Option<String>,
    /// Tasks at deploy time. Default 1.
    pub desired_count: u32,
    /// Autoscaling bounds, CPU target and cooldowns. Default 1 to 10 tasks, CPU 70 %, memory
    /// not a metric.
    pub scaling: Scaling,
    /// The backlog one task may have: visible messages divided by running tasks, held at this
    /// value by target tracking (AWS's "backlog per instance"). Default 100.
    pub backlog_per_task: u32,
}

impl Default for QueueWorkerServiceProps {
    fn default() -> Self {
        QueueWorkerServiceProps {
            service_name: None,
            label: None,
            desired_count: 1,
            scaling: Scaling {
                min_capacity: 1,
                max_capacity: 10,
                memory_target_percent: None,
                ..Scaling::default()
            },
            backlog_per_task: 100,
        }
    }
}

/// A queue-processing worker: a [`FargateTask`] run in a [`Cluster`] in the VPC's private
/// subnets with no load balancer and no inbound rule, whose task role may consume `queue`
/// ([`QueueGrants::grant_consume`]), scaled between the bounds on the queue's backlog per
/// task (`ApproximateNumberOfMessagesVisible` / `RunningTaskCount`, which Container Insights
/// publishes) and on CPU.
///
/// The task learns the queue from its environment (`QUEUE_URL` in
/// [`FargateTaskProps::environment`](super::FargateTaskProps::environment), for example).
///
/// ```
/// use pantri_constructs::service::{
///     Cluster, ClusterProps, ContainerImage, FargateTask, FargateTaskProps, QueueWorkerService,
///     QueueWorkerServiceProps,
/// };
/// use pantri_constructs::VpcRef;
/// use pantri_synth::cfn::sqs::CfnQueue;
/// use pantri_synth::{App, Environment, StackProps};
///
/// let mut app = App::new();
/// let mut root = app.root();
/// let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// let mut stack = stage.stack("Worker", StackProps::default());
/// let vpc = VpcRef {
///     vpc_id: "vpc-1".into(),
///     cidr_block: "10.0.0.0/16".into(),
///     public_subnet_ids: vec![],
///     private_subnet_ids: vec!["subnet-c".into(), "subnet-d".into()],
/// };
/// let queue = stack.resource("Jobs", CfnQueue::new().sqs_managed_sse_enabled(true));
/// let cluster = Cluster::new(&mut stack, "Cluster", ClusterProps::default());
/// let task = FargateTask::new(
///     &mut stack,
///     "WorkerTask",
///     ContainerImage::public("public.ecr.aws/docker/library/busybox:1.37.0"),
///     FargateTaskProps {
///         environment: vec![("QUEUE_URL".into(), queue.ref_())],
///         ..FargateTaskProps::default()
///     },
/// );
/// let worker = QueueWorkerService::new(
///     &mut stack,
///     "Worker",
///     &vpc,
///     &cluster,
///     &task,
///     queue,
///     QueueWorkerServiceProps::default(),
/// );
/// let _ = worker.service_name();
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
///
/// The network, the cluster, the task and the queue are arguments: a worker without one of them
/// does not compile (the same code as above, minus the `queue` argument):
///
/// ```compile_fail,E0061
/// # use pantri_constructs::service::{
/// #     Cluster, ClusterProps, ContainerImage, FargateTask, FargateTaskProps, QueueWorkerService,
/// #     QueueWorkerServiceProps,
/// # };
/// # use pantri_constructs::VpcRef;
/// # use pantri_synth::cfn::sqs::CfnQueue;
/// # use pantri_synth::{App, Environment, StackProps};
/// #
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Worker", StackProps::default());
/// # let vpc = VpcRef {
/// #     vpc_id: "vpc-1".into(),
/// #     cidr_block: "10.0.0.0/16".into(),
/// #     public_subnet_ids: vec![],
/// #     private_subnet_ids: vec!["subnet-c".into(), "subnet-d".into()],
/// # };
/// # let queue = stack.resource("Jobs", CfnQueue::new().sqs_managed_sse_enabled(true));
/// # let cluster = Cluster::new(&mut stack, "Cluster", ClusterProps::default());
/// # let task = FargateTask::new(
/// #     &mut stack,
/// #     "WorkerTask",
/// #     ContainerImage::public("public.ecr.aws/docker/library/busybox:1.37.0"),
/// #     FargateTaskProps {
/// #         environment: vec![("QUEUE_URL".into(), queue.ref_())],
/// #         ..FargateTaskProps::default()
/// #     },
/// # );
/// let worker = QueueWorkerService::new(
///     &mut stack,
///     "Worker",
///     &vpc,
///     &cluster,
///     &task,
///     QueueWorkerServiceProps::default(),
/// );
/// # let _ = worker.service_name();
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct QueueWorkerService {
    service: Res<CfnService>,
    security_group: Res<CfnSecurityGroup>,
}

impl QueueWorkerService {
    /// Adds the worker under `scope` at `id`. Bad props are synth errors at its path.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        vpc: &VpcRef,
        cluster: &Cluster,
        task: &FargateTask,
        queue: Res<CfnQueue>,
        props: QueueWorkerServiceProps,
    ) -> QueueWorkerService {
        let mut s = scope.construct(id, "pantri.QueueWorkerService");
        let label = props
            .label
            .clone()
            .unwrap_or_else(|| s.path().replace('/', "-"));
        let mut errors = Vec::new();
        props.scaling.check(props.desired_count, &mut errors);
        if props.scaling.min_capacity == 0 {
            errors.push("min_capacity is 0: the backlog per task is undefined without a running task; use at least 1".to_owned());
        }
        if props.backlog_per_task == 0 {
            errors.push(
                "backlog_per_task is 0: use the number of visible messages one task may have"
                    .to_owned(),
            );
        }
        if vpc.private_subnet_ids.is_empty() {
            errors.push("the vpc has no private subnets: the tasks run in private subnets; pass the network's VpcRef".to_owned());
        }
        if task.container_port().is_some() {
            s.warning("the task has a container_port, but a worker service has no load balancer: nothing reaches that port");
        }
        for e in errors {
            s.error(e);
        }
        queue.grant_consume(&mut s, task.task_role());
        let security_group = alb::tasks_security_group(
            &mut s,
            vpc,
            &format!("{label} tasks: nothing in, out on HTTPS"),
        );
        let service = cluster::service(
            &mut s,
            &ServiceInputs {
                service_name: props.service_name.as_deref(),
                cluster,
                task,
                desired_count: props.desired_count,
                subnets: vpc.private_subnet_ids.clone(),
                security_group,
                target_group: None,
                attached_by: None,
                registry_arn: None,
            },
        );
        let backlog = backlog_policy(
            props.backlog_per_task,
            // `arn:<partition>:sqs:<region>:<account>:<name>`: the schema has no name attribute.
            fns::select(5, fns::split(":", queue.attr_arn())),
            cluster.name(),
            service.attr_name(),
        );
        scaling::scaling(
            &mut s,
            &label,
            &props.scaling,
            cluster.name(),
            service,
            vec![backlog],
        );
        QueueWorkerService {
            service,
            security_group,
        }
    }

    /// The ECS service's name.
    pub fn service_name(&self) -> Str {
        self.service.attr_name()
    }

    /// The tasks' security group (no inbound rule).
    pub fn security_group(&self) -> Res<CfnSecurityGroup> {
        self.security_group
    }

    /// Escape hatch: the ECS service.
    pub fn service(&self) -> Res<CfnService> {
        self.service
    }
}

/// Visible messages per running task, by metric math.
fn backlog_policy(target: u32, queue_name: Str, cluster: Str, service: Str) -> ExtraPolicy {
    let dim = |name: &str, value: Str| TargetTrackingMetricDimension::new().name(name).value(value);
    let stat = |namespace: &str, metric: &str, dims: Vec<TargetTrackingMetricDimension>| {
        TargetTrackingMetricStat::new()
            .metric(
                TargetTrackingMetric::new()
                    .namespace(namespace)
                    .metric_name(metric)
                    .dimensions(dims),
            )
            .stat("Average")
    };
    let queries = vec![
        TargetTrackingMetricDataQuery::new()
            .id("visible")
            .metric_stat(stat(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                vec![dim("QueueName", queue_name)],
            ))
            .return_data(false),
        TargetTrackingMetricDataQuery::new()
            .id("tasks")
            .metric_stat(stat(
                "ECS/ContainerInsights",
                "RunningTaskCount",
                vec![dim("ClusterName", cluster), dim("ServiceName", service)],
            ))
            .return_data(false),
        // min_capacity is at least 1 (checked), so there is always a task to divide by.
        TargetTrackingMetricDataQuery::new()
            .id("backlog")
            .expression("visible / tasks")
            .return_data(true),
    ];
    ExtraPolicy {
        id: "BacklogScaling",
        metric: "backlog",
        configuration: TargetTrackingScalingPolicyConfiguration::new(target)
            .customized_metric_specification(CustomizedMetricSpecification::new().metrics(queries)),
        depends_on: None,
    }
}
