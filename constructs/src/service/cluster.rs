//! The cluster, its capacity providers, and the ECS service.

use pantri_synth::cfn::ec2::CfnSecurityGroup;
use pantri_synth::cfn::ecs::cluster::ClusterSettings;
use pantri_synth::cfn::ecs::cluster_capacity_provider_associations::CapacityProviderStrategy;
use pantri_synth::cfn::ecs::service::{
    AvailabilityZoneRebalancing, AwsVpcConfiguration, AwsVpcConfigurationAssignPublicIp,
    CapacityProviderStrategyItem, DeploymentCircuitBreaker, DeploymentConfiguration, LoadBalancer,
    NetworkConfiguration, PropagateTags, ServiceRegistry,
};
use pantri_synth::cfn::ecs::{
    CfnCluster, CfnClusterCapacityProviderAssociations, CfnService, CfnTaskDefinition,
};
use pantri_synth::cfn::elasticloadbalancingv2::CfnTargetGroup;
use pantri_synth::{Res, Scope, Str};

use super::{ContainerInsights, Names, NextJsServiceProps, APP_CONTAINER};

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

    pub(super) fn check(&self) -> Result<(), String> {
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

pub(super) fn cluster(
    s: &mut Scope<'_>,
    names: &Names,
    props: &NextJsServiceProps,
) -> (Res<CfnCluster>, Res<CfnClusterCapacityProviderAssociations>) {
    let insights = match props.container_insights {
        ContainerInsights::Enhanced => "enhanced",
        ContainerInsights::Enabled => "enabled",
    };
    let cluster = s.resource(
        "Cluster",
        CfnCluster::new()
            .cluster_name(names.base.clone())
            .cluster_settings([ClusterSettings::new()
                .name("containerInsights")
                .value(insights)]),
    );
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
    let associations = s.resource(
        "CapacityProviders",
        CfnClusterCapacityProviderAssociations::new(cluster.ref_(), strategy)
            .capacity_providers(["FARGATE", "FARGATE_SPOT"]),
    );
    (cluster, associations)
}

/// What the service is made of.
pub(super) struct ServiceInputs<'a> {
    pub names: &'a Names,
    pub props: &'a NextJsServiceProps,
    pub cluster: Res<CfnCluster>,
    pub task_definition: Res<CfnTaskDefinition>,
    pub target_group: Res<CfnTargetGroup>,
    pub security_group: Res<CfnSecurityGroup>,
    pub registry_arn: Str,
}

pub(super) fn service(s: &mut Scope<'_>, i: &ServiceInputs<'_>) -> Res<CfnService> {
    let p = i.props;
    let strategy: Vec<CapacityProviderStrategyItem> = p
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
    s.resource(
        "Service",
        CfnService::new()
            .service_name(i.names.service.clone())
            .cluster(i.cluster.ref_())
            .task_definition(i.task_definition.ref_())
            .desired_count(p.desired_count)
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
            .health_check_grace_period_seconds(p.health_check_grace_period_seconds)
            .enable_ecs_managed_tags(true)
            .propagate_tags(PropagateTags::Service)
            .enable_execute_command(p.enable_exec)
            .load_balancers([LoadBalancer::new()
                .container_name(APP_CONTAINER)
                .container_port(p.container_port)
                .target_group_arn(i.target_group.ref_())])
            .network_configuration(
                NetworkConfiguration::new().awsvpc_configuration(
                    AwsVpcConfiguration::new()
                        .assign_public_ip(AwsVpcConfigurationAssignPublicIp::Disabled)
                        .security_groups([i.security_group.attr_group_id()])
                        .subnets(p.vpc.private_subnet_ids.clone()),
                ),
            )
            .service_registries([ServiceRegistry::new().registry_arn(i.registry_arn.clone())]),
    )
}
