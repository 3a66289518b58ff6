//! [`WebService`]: a Fargate service behind an internet-facing ALB with TLS, reachable either
//! by anyone ([`WebIngress::PublicTls`]) or only through CloudFront ([`WebIngress::BehindCloudFront`]).

use pantri_synth::cfn::ec2::CfnSecurityGroup;
use pantri_synth::cfn::ecs::CfnService;
use pantri_synth::cfn::elasticloadbalancingv2::{
    CfnListener, CfnListenerRule, CfnLoadBalancer, CfnTargetGroup,
};
use pantri_synth::{Res, Scope, Str};

use super::alb::{self, Alb, AlbInputs};
use super::cluster::{self, Cluster, ServiceInputs};
use super::scaling::{self, Scaling};
use super::{discovery, validate, ServingTask};
use crate::{BucketRef, HostedZoneRef, SecretRef, VpcRef};

/// Who may reach a [`WebService`]: an explicit choice, so that a service never answers 403 to
/// everyone without its author having asked for it.
#[derive(Clone, Debug, PartialEq)]
pub enum WebIngress {
    /// Anyone, over HTTPS at `domain_name` (a certificate validated in `hosted_zone`, and an
    /// alias record there). The listener forwards every request to the tasks.
    PublicTls {
        /// The service's DNS name (`api.example.com`), in the hosted zone.
        domain_name: String,
        /// The zone for the certificate's DNS validation and the alias record.
        hosted_zone: HostedZoneRef,
    },
    /// Only CloudFront: the listener answers 403 unless the request carries the
    /// [`ORIGIN_VERIFY_HEADER`](super::ORIGIN_VERIFY_HEADER) with the secret's value, which
    /// the distribution (such as [`Edge`](crate::edge::Edge)) adds as an origin custom header.
    /// Without that distribution the service is unreachable by design.
    BehindCloudFront {
        /// The origin's DNS name (`origin.example.com`) that CloudFront reaches, in the zone.
        domain_name: String,
        /// The zone for the certificate's DNS validation and the alias record.
        hosted_zone: HostedZoneRef,
        /// The secret whose whole string CloudFront sends (letters and digits only: the ALB
        /// treats `*` and `?` as wildcards).
        origin_secret: SecretRef,
        /// CloudFront's origin-facing managed prefix list in the stack's region: the ALB then
        /// admits only CloudFront. None: any address may connect, and only the header keeps
        /// others out. The list counts as about 55 rules against the group's quota of 60.
        prefix_list_id: Option<Str>,
    },
}

impl WebIngress {
    /// The DNS name and its zone.
    pub fn domain(&self) -> (&str, &HostedZoneRef) {
        match self {
            WebIngress::PublicTls {
                domain_name,
                hosted_zone,
            }
            | WebIngress::BehindCloudFront {
                domain_name,
                hosted_zone,
                ..
            } => (domain_name, hosted_zone),
        }
    }
}

/// Where the ALB writes its access logs.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessLogs {
    /// The bucket (its policy must let ELB write, as
    /// [`LogBucket`](crate::storage::LogBucket)'s does).
    pub bucket: BucketRef,
    /// The key prefix (no leading or trailing '/', no `AWSLogs`).
    pub prefix: String,
}

/// The tuning of a [`WebService`]. Every default is the secure (prod-like) choice.
#[derive(Clone, Debug, PartialEq)]
pub struct WebServiceProps {
    /// The ECS service's name. Default: named by CloudFormation.
    pub service_name: Option<String>,
    /// The name in resource descriptions and scaling policy names. Default: the construct's
    /// path, `/` replaced by `-`.
    pub label: Option<String>,
    /// Tasks at deploy time. Default 2 (one per zone of two).
    pub desired_count: u32,
    /// Autoscaling on CPU and memory. Default [`Scaling::default`].
    pub scaling: Scaling,
    /// Target ALB requests per task, if scaling on requests too. Default none.
    pub requests_per_target: Option<u32>,
    /// The health endpoint the ALB checks. Default `/health`.
    pub health_check_path: String,
    /// Seconds ECS ignores failing ALB health checks after a task starts. Default 60.
    pub health_check_grace_period_seconds: u32,
    /// ALB access logs. Default none.
    pub access_logs: Option<AccessLogs>,
    /// ALB deletion protection. Default true.
    pub deletion_protection: bool,
    /// Whether the ALB also serves IPv6 (`dualstack`, an AAAA record, `::/0` ingress); the
    /// public subnets need IPv6 CIDRs. Default false.
    pub ipv6: bool,
    /// A Cloud Map private DNS namespace (`orders.dev.internal`) the tasks register in, as
    /// `<container>.<namespace>`. Default none.
    pub discovery_namespace: Option<String>,
}

impl Default for WebServiceProps {
    fn default() -> Self {
        WebServiceProps {
            service_name: None,
            label: None,
            desired_count: 2,
            scaling: Scaling::default(),
            requests_per_target: None,
            health_check_path: "/health".to_owned(),
            health_check_grace_period_seconds: 60,
            access_logs: None,
            deletion_protection: true,
            ipv6: false,
            discovery_namespace: None,
        }
    }
}

/// A load-balanced web service: a [`ServingTask`] (a task whose app listens on a port) run in
/// a [`Cluster`] in the VPC's private subnets, behind an internet-facing ALB in its public subnets (HTTPS only, the restricted
/// TLS 1.3/1.2 policy, invalid headers dropped, desync mitigation strictest), autoscaled on
/// CPU and memory (and requests), the tasks reachable from the ALB only.
///
/// ```
/// use pantri_constructs::service::{
///     Cluster, ClusterProps, ContainerImage, FargateTask, FargateTaskProps, WebIngress, WebService,
///     WebServiceProps,
/// };
/// use pantri_constructs::{HostedZoneRef, VpcRef};
/// use pantri_synth::{App, Environment, StackProps};
///
/// let mut app = App::new();
/// let mut root = app.root();
/// let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// let mut stack = stage.stack("Service", StackProps::default());
/// let vpc = VpcRef {
///     vpc_id: "vpc-1".into(),
///     cidr_block: "10.0.0.0/16".into(),
///     public_subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
///     private_subnet_ids: vec!["subnet-c".into(), "subnet-d".into()],
/// };
/// let cluster = Cluster::new(&mut stack, "Cluster", ClusterProps::default());
/// let task = FargateTask::serving(
///     &mut stack,
///     "ApiTask",
///     ContainerImage::public("public.ecr.aws/nginx/nginx:1.27"),
///     8080,
///     FargateTaskProps::default(),
/// );
/// let web = WebService::new(
///     &mut stack,
///     "Api",
///     &vpc,
///     &cluster,
///     &task,
///     WebIngress::PublicTls {
///         domain_name: "api.example.com".into(),
///         hosted_zone: HostedZoneRef { zone_id: "Z123".into(), zone_name: "example.com".into() },
///     },
///     WebServiceProps::default(),
/// );
/// let _url_target = web.load_balancer_dns_name();
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
///
/// The network, the cluster, the task and the ingress are arguments: a service without one of
/// them does not compile (the same code as above, minus the `&vpc` argument):
///
/// ```compile_fail,E0061
/// # use pantri_constructs::service::{
/// #     Cluster, ClusterProps, ContainerImage, FargateTask, FargateTaskProps, WebIngress, WebService,
/// #     WebServiceProps,
/// # };
/// # use pantri_constructs::{HostedZoneRef, VpcRef};
/// # use pantri_synth::{App, Environment, StackProps};
/// #
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Service", StackProps::default());
/// # let vpc = VpcRef {
/// #     vpc_id: "vpc-1".into(),
/// #     cidr_block: "10.0.0.0/16".into(),
/// #     public_subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
/// #     private_subnet_ids: vec!["subnet-c".into(), "subnet-d".into()],
/// # };
/// # let cluster = Cluster::new(&mut stack, "Cluster", ClusterProps::default());
/// # let task = FargateTask::serving(
/// #     &mut stack,
/// #     "ApiTask",
/// #     ContainerImage::public("public.ecr.aws/nginx/nginx:1.27"),
/// #     8080,
/// #     FargateTaskProps::default(),
/// # );
/// let web = WebService::new(
///     &mut stack,
///     "Api",
///     &cluster,
///     &task,
///     WebIngress::PublicTls {
///         domain_name: "api.example.com".into(),
///         hosted_zone: HostedZoneRef { zone_id: "Z123".into(), zone_name: "example.com".into() },
///     },
///     WebServiceProps::default(),
/// );
/// # let _url_target = web.load_balancer_dns_name();
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Debug)]
pub struct WebService {
    alb: Alb,
    service: Res<CfnService>,
    security_group: Res<CfnSecurityGroup>,
}

impl WebService {
    /// Adds the service under `scope` at `id`. Bad props are synth errors at its path.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        vpc: &VpcRef,
        cluster: &Cluster,
        task: &ServingTask,
        ingress: WebIngress,
        props: WebServiceProps,
    ) -> WebService {
        let mut s = scope.construct(id, "pantri.WebService");
        WebService::in_scope(&mut s, vpc, cluster, task, ingress, props)
    }

    /// Adds the same resources directly to `scope`, with no construct node of its own: for a
    /// composition whose resources keep the paths (so the logical IDs) they had before.
    pub fn in_scope(
        s: &mut Scope<'_>,
        vpc: &VpcRef,
        cluster: &Cluster,
        task: &ServingTask,
        ingress: WebIngress,
        props: WebServiceProps,
    ) -> WebService {
        let label = props
            .label
            .clone()
            .unwrap_or_else(|| s.path().replace('/', "-"));
        let mut errors = Vec::new();
        props.scaling.check(props.desired_count, &mut errors);
        validate::web(vpc, &ingress, &props, &mut errors);
        let port = task.port();
        for e in errors {
            s.error(e);
        }
        let inputs = AlbInputs {
            label: &label,
            vpc,
            ingress: &ingress,
            props: &props,
            container_port: port,
        };
        let alb = alb::alb(s, &inputs);
        let security_group = alb::service_security_group(s, &inputs, &alb);
        let registry_arn = props.discovery_namespace.as_deref().map(|namespace| {
            discovery::discovery(s, vpc, namespace, task.container_name(), &label)
        });
        let service = cluster::service(
            s,
            &ServiceInputs {
                service_name: props.service_name.as_deref(),
                cluster,
                task,
                desired_count: props.desired_count,
                subnets: vpc.private_subnet_ids.clone(),
                security_group,
                target_group: Some((alb.target_group, props.health_check_grace_period_seconds)),
                attached_by: Some(alb.attachment()),
                registry_arn,
            },
        );
        let extra = props
            .requests_per_target
            .map(|requests| {
                scaling::requests_policy(
                    requests,
                    alb.load_balancer.attr_load_balancer_full_name(),
                    alb.target_group.attr_target_group_full_name(),
                    alb.attachment(),
                )
            })
            .into_iter()
            .collect();
        scaling::scaling(s, &label, &props.scaling, cluster.name(), service, extra);
        WebService {
            alb,
            service,
            security_group,
        }
    }

    /// The ALB's DNS name.
    pub fn load_balancer_dns_name(&self) -> Str {
        self.alb.load_balancer.attr_dns_name()
    }

    /// The ALB's full name (`app/<name>/<id>`), the `LoadBalancer` dimension of its metrics.
    pub fn load_balancer_full_name(&self) -> Str {
        self.alb.load_balancer.attr_load_balancer_full_name()
    }

    /// The target group's full name (`targetgroup/<name>/<id>`), the `TargetGroup` dimension.
    pub fn target_group_full_name(&self) -> Str {
        self.alb.target_group.attr_target_group_full_name()
    }

    /// The ECS service's name.
    pub fn service_name(&self) -> Str {
        self.service.attr_name()
    }

    /// The tasks' security group (reachable from the ALB only, on the container port).
    pub fn service_security_group(&self) -> Res<CfnSecurityGroup> {
        self.security_group
    }

    /// The ALB's security group.
    pub fn load_balancer_security_group(&self) -> Res<CfnSecurityGroup> {
        self.alb.security_group
    }

    /// Escape hatch: the ECS service.
    pub fn service(&self) -> Res<CfnService> {
        self.service
    }

    /// Escape hatch: the load balancer.
    pub fn load_balancer(&self) -> Res<CfnLoadBalancer> {
        self.alb.load_balancer
    }

    /// Escape hatch: the HTTPS listener.
    pub fn https_listener(&self) -> Res<CfnListener> {
        self.alb.https_listener
    }

    /// Escape hatch: the rule forwarding requests that carry the origin secret
    /// ([`WebIngress::BehindCloudFront`] only).
    pub fn forward_rule(&self) -> Option<Res<CfnListenerRule>> {
        self.alb.forward_rule
    }

    /// Escape hatch: the target group.
    pub fn target_group(&self) -> Res<CfnTargetGroup> {
        self.alb.target_group
    }
}
