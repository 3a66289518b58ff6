//! Cloud Map service discovery: a private DNS namespace (`<app>.<stage>.internal`) in the VPC
//! and an A-record service the ECS service registers its tasks in, so other workloads of the
//! VPC reach the app at `<container>.<namespace>` without the public ALB.

use pantri_synth::cfn::servicediscovery::service::{DnsConfig, DnsRecord, HealthCheckCustomConfig};
use pantri_synth::cfn::servicediscovery::{CfnPrivateDnsNamespace, CfnService};
use pantri_synth::{Scope, Str};

use crate::VpcRef;

/// Adds the namespace `namespace` and the service `name` in it; returns the service's ARN for
/// `ServiceRegistries`. `label` names them in descriptions.
pub(super) fn discovery(
    s: &mut Scope<'_>,
    vpc: &VpcRef,
    namespace: &str,
    name: &str,
    label: &str,
) -> Str {
    let namespace = s.resource(
        "Namespace",
        CfnPrivateDnsNamespace::new(namespace)
            .vpc(vpc.vpc_id.clone())
            .description(format!("Service discovery of {label}")),
    );
    let service = s.resource(
        "DiscoveryService",
        CfnService::new()
            .name(name)
            .namespace_id(namespace.attr_id())
            .description(format!("The {label} tasks"))
            .dns_config(
                // A short TTL: tasks come and go with deploys and scaling.
                DnsConfig::new([DnsRecord::new(10, "A")]).routing_policy("MULTIVALUE"),
            )
            // ECS reports task health to Cloud Map (the custom health check).
            .health_check_custom_config(HealthCheckCustomConfig::new().failure_threshold(1)),
    );
    service.attr_arn()
}
