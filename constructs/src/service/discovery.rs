//! Cloud Map service discovery: a private DNS namespace `<app>.<stage>.internal` in the VPC
//! and an A-record service the ECS service registers its tasks in, so other workloads of the
//! VPC reach the app at `web.<app>.<stage>.internal` without the public ALB.

use pantri_synth::cfn::servicediscovery::service::{DnsConfig, DnsRecord, HealthCheckCustomConfig};
use pantri_synth::cfn::servicediscovery::{CfnPrivateDnsNamespace, CfnService};
use pantri_synth::{Scope, Str};

use super::{Names, NextJsServiceProps, APP_CONTAINER};

/// Adds the namespace and the service; returns the service's ARN for `ServiceRegistries`.
pub(super) fn discovery(s: &mut Scope<'_>, names: &Names, p: &NextJsServiceProps) -> Str {
    let namespace = s.resource(
        "Namespace",
        CfnPrivateDnsNamespace::new(names.namespace.as_str())
            .vpc(p.vpc.vpc_id.clone())
            .description(format!("Service discovery of {}", names.base)),
    );
    let service = s.resource(
        "DiscoveryService",
        CfnService::new()
            .name(APP_CONTAINER)
            .namespace_id(namespace.attr_id())
            .description(format!("The {} tasks", names.base))
            .dns_config(
                // A short TTL: tasks come and go with deploys and scaling.
                DnsConfig::new([DnsRecord::new(10, "A")]).routing_policy("MULTIVALUE"),
            )
            // ECS reports task health to Cloud Map (the custom health check).
            .health_check_custom_config(HealthCheckCustomConfig::new().failure_threshold(1)),
    );
    service.attr_arn()
}
