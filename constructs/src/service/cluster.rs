//! [`Cluster`]: the cluster and its capacity providers; and the ECS service both kinds of
//! service make in it.

use pantri_synth::cfn::ec2::CfnSecurityGroup;
use pantri_synth::cfn::ecs::cluster::ClusterSettings;
use pantri_synth::cfn::ecs::cluster_capacity_provider_associations::CapacityProviderStrategy;
use pantri_synth::cfn::ecs::service::{
    AvailabilityZoneRebalancing, AwsVpcConfiguration, AwsVpcConfigurationAssignPublicIp,
    CapacityProviderStrategyItem, DeploymentCircuitBreaker, DeploymentConfiguration, LoadBalancer,
    NetworkConfiguration, PropagateTags, ServiceRegistry,
};
use pantri_synth::cfn::ecs::{CfnCluster, CfnClusterCapacityProviderAssociations, CfnService};
use pantri_synth::cfn::elasticloadbalancingv2::CfnTargetGroup;
use pantri_synth::{NodeId, Res, Scope, Str};

use super::{ContainerInsights, FargateTask};

/// How tasks spread over on-demand FARGATE and interruptible FARGATE_SPOT capacity.
///
/// `base` tasks always run on FARGATE; the rest split by weight. Spot is cheaper but can be
/// reclaimed with two minutes' notice, so prod keeps a base on demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityStrategy {
    /// Tasks that always run on FARGATE before weights apply.
    pub fargate_base: u32,
    /// Relative share of FARGATE beyond the base.
    pub fargate_weight: u32,
    /// Relative share of FARGATE_SPOT beyond the base (0: no spot).
    pub spot_weight: u32,
}

impl Default for CapacityStrategy {
    /// All on demand: no interruptions (the prod choice).
    fn default() -> Self {
        CapacityStrategy::on_demand()
    }
}

impl CapacityStrategy {
    /// Every task on FARGATE.
    pub fn on_demand() -> Self {
        CapacityStrategy {
            fargate_base: 0,
            fargate_weight: 1,
            spot_weight: 0,
        }
    }

    /// One task on FARGATE, the rest three to one on FARGATE_SPOT (a dev or cost-minded stage).
    pub fn mostly_spot() -> Self {
        CapacityStrategy {
            fargate_base: 1,
            fargate_weight: 1,
            spot_weight: 3,
        }
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        if self.fargate_weight == 0 && self.spot_weight == 0 {
            return Err(
                "capacity has no weight: give fargate_weight or spot_weight a positive weight"
                    .to_owned(),
            );
        }
        if self.fargate_weight > 1000 || self.spot_weight > 1000 || self.fargate_base > 100_000 {
            return Err(
                "capacity weights are at most 1000 and the base at most 100000: lower them"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// (provider, base, weight) items, spot only when it has a weight.
    fn items(&self) -> Vec<(&'static str, u32, u32)> {
        let mut items = vec![("FARGATE", self.fargate_base, self.fargate_weight)];
        if self.spot_weight > 0 {
            items.push(("FARGATE_SPOT", 0, self.spot_weight));
        }
        items
    }
}

/// The tuning of a [`Cluster`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterProps {
    /// The cluster's name. Default: named by CloudFormation.
    pub cluster_name: Option<String>,
    /// FARGATE / FARGATE_SPOT split of the services in it. Default all on-demand.
    pub capacity: CapacityStrategy,
    /// The Container Insights level. Default [`ContainerInsights::Enhanced`].
    pub container_insights: ContainerInsights,
}

/// An ECS cluster for Fargate services, with Container Insights and its FARGATE /
/// FARGATE_SPOT capacity providers; the services of [`WebService`](super::WebService) and
/// [`QueueWorkerService`](super::QueueWorkerService) run in it with its capacity strategy.
///
/// ```
/// use pantri_constructs::service::{CapacityStrategy, Cluster, ClusterProps};
/// use pantri_synth::{App, Environment, StackProps};
///
/// let mut app = App::new();
/// let mut root = app.root();
/// let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// let mut stack = stage.stack("Service", StackProps::default());
/// let cluster = Cluster::new(&mut stack, "Cluster", ClusterProps {
///     capacity: CapacityStrategy::mostly_spot(),
///     ..ClusterProps::default()
/// });
/// assert_eq!(cluster.capacity(), CapacityStrategy::mostly_spot());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Cluster {
    cluster: Res<CfnCluster>,
    capacity_providers: Res<CfnClusterCapacityProviderAssociations>,
    capacity: CapacityStrategy,
}

impl Cluster {
    /// Adds the cluster under `scope` at `id`.
    pub fn new(scope: &mut Scope<'_>, id: &str, props: ClusterProps) -> Cluster {
        let mut s = scope.construct(id, "pantri.Cluster");
        Cluster::in_scope(&mut s, props)
    }

    /// Adds the same resources directly to `scope` (ids `Cluster`, `CapacityProviders`), with
    /// no construct node of its own: for a composition whose resources keep their paths.
    pub fn in_scope(s: &mut Scope<'_>, props: ClusterProps) -> Cluster {
        if let Err(e) = props.capacity.check() {
            s.error(e);
        }
        let insights = match props.container_insights {
            ContainerInsights::Enhanced => "enhanced",
            ContainerInsights::Enabled => "enabled",
        };
        let mut cluster = CfnCluster::new().cluster_settings([ClusterSettings::new()
            .name("containerInsights")
            .value(insights)]);
        if let Some(name) = &props.cluster_name {
            cluster = cluster.cluster_name(name.as_str());
        }
        let cluster = s.resource("Cluster", cluster);
        let strategy: Vec<CapacityProviderStrategy> = props
            .capacity
            .items()
            .into_iter()
            .map(|(provider, base, weight)| {
                let item = CapacityProviderStrategy::new(provider).weight(weight);
                if base > 0 {
                    item.base(base)
                } else {
                    item
                }
            })
            .collect();
        let capacity_providers = s.resource(
            "CapacityProviders",
            CfnClusterCapacityProviderAssociations::new(cluster.ref_(), strategy)
                .capacity_providers(["FARGATE", "FARGATE_SPOT"]),
        );
        Cluster {
            cluster,
            capacity_providers,
            capacity: props.capacity,
        }
    }

    /// The cluster's name.
    pub fn name(&self) -> Str {
        self.cluster.ref_()
    }

    /// The capacity strategy its services use.
    pub fn capacity(&self) -> CapacityStrategy {
        self.capacity
    }

    /// Escape hatch: the cluster.
    pub fn resource(&self) -> Res<CfnCluster> {
        self.cluster
    }

    /// Escape hatch: the capacity provider associations (a service depends on them).
    pub fn capacity_providers(&self) -> Res<CfnClusterCapacityProviderAssociations> {
        self.capacity_providers
    }
}

/// What an ECS service is made of.
pub(super) struct ServiceInputs<'a> {
    pub service_name: Option<&'a str>,
    pub cluster: &'a Cluster,
    pub task: &'a FargateTask,
    pub desired_count: u32,
    pub subnets: Vec<Str>,
    pub security_group: Res<CfnSecurityGroup>,
    /// The target group and the health check grace period, behind a load balancer.
    pub target_group: Option<(Res<CfnTargetGroup>, u32)>,
    /// The listener or rule that attaches the target group to the load balancer: ECS may
    /// register tasks in the group only once it is attached.
    pub attached_by: Option<NodeId>,
    pub registry_arn: Option<Str>,
}

pub(super) fn service(s: &mut Scope<'_>, i: &ServiceInputs<'_>) -> Res<CfnService> {
    let strategy: Vec<CapacityProviderStrategyItem> = i
        .cluster
        .capacity
        .items()
        .into_iter()
        .map(|(provider, base, weight)| {
            let item = CapacityProviderStrategyItem::new()
                .capacity_provider(provider)
                .weight(weight);
            if base > 0 {
                item.base(base)
            } else {
                item
            }
        })
        .collect();
    let mut service = CfnService::new()
        .cluster(i.cluster.name())
        .task_definition(i.task.task_definition().ref_())
        .desired_count(i.desired_count)
        .capacity_provider_strategy(strategy)
        .platform_version("LATEST")
        .availability_zone_rebalancing(AvailabilityZoneRebalancing::Enabled)
        .deployment_configuration(
            DeploymentConfiguration::new()
                .deployment_circuit_breaker(DeploymentCircuitBreaker::new(true, true))
                // Full capacity stays up during a deploy; new tasks start beside it.
                .minimum_healthy_percent(100)
                .maximum_percent(200),
        )
        .enable_ecs_managed_tags(true)
        .propagate_tags(PropagateTags::Service)
        .enable_execute_command(i.task.enable_exec())
        .network_configuration(
            NetworkConfiguration::new().awsvpc_configuration(
                AwsVpcConfiguration::new()
                    .assign_public_ip(AwsVpcConfigurationAssignPublicIp::Disabled)
                    .security_groups([i.security_group.attr_group_id()])
                    .subnets(i.subnets.clone()),
            ),
        );
    if let Some(name) = i.service_name {
        service = service.service_name(name);
    }
    if let (Some((target_group, grace)), Some(port)) = (i.target_group, i.task.container_port()) {
        service = service
            .health_check_grace_period_seconds(grace)
            .load_balancers([LoadBalancer::new()
                .container_name(i.task.container_name())
                .container_port(port)
                .target_group_arn(target_group.ref_())]);
    }
    if let Some(arn) = &i.registry_arn {
        service = service.service_registries([ServiceRegistry::new().registry_arn(arn.clone())]);
    }
    let service = s.resource("Service", service);
    if let Some(o) = s.app().options_mut(service) {
        o.depends_on.extend(i.attached_by);
        // The cluster must know its capacity providers before a service uses them.
        o.depends_on.push(i.cluster.capacity_providers.node());
    }
    service
}
