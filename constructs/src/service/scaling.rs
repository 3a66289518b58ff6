//! Autoscaling of the service's task count: target tracking on CPU and memory, and on ALB
//! requests per task when asked.

use pantri_synth::cfn::applicationautoscaling::scaling_policy::{
    PredefinedMetricSpecification, TargetTrackingScalingPolicyConfiguration,
};
use pantri_synth::cfn::applicationautoscaling::{CfnScalableTarget, CfnScalingPolicy};
use pantri_synth::cfn::ecs::{CfnCluster, CfnService};
use pantri_synth::fns;
use pantri_synth::{Res, Scope, Str};

use super::alb::Alb;
use super::NextJsServiceProps;

pub(super) fn scaling(
    s: &mut Scope<'_>,
    p: &NextJsServiceProps,
    cluster: Res<CfnCluster>,
    service: Res<CfnService>,
    alb: &Alb,
) -> Res<CfnScalableTarget> {
    // No RoleARN: Application Auto Scaling uses its ECS service-linked role.
    let target = s.resource(
        "ScalableTarget",
        CfnScalableTarget::new(
            p.max_capacity,
            p.min_capacity,
            fns::join(
                "/",
                [Str::from("service"), cluster.ref_(), service.attr_name()],
            ),
            "ecs:service:DesiredCount",
            "ecs",
        ),
    );
    let base = format!("{}-{}", p.app_name, p.stage);
    let mut policies = vec![
        (
            "CpuScaling",
            "cpu",
            PredefinedMetricSpecification::new("ECSServiceAverageCPUUtilization"),
            p.cpu_target_percent,
        ),
        (
            "MemoryScaling",
            "memory",
            PredefinedMetricSpecification::new("ECSServiceAverageMemoryUtilization"),
            p.memory_target_percent,
        ),
    ];
    if let Some(requests) = p.requests_per_target {
        policies.push((
            "RequestScaling",
            "requests",
            // `app/<lb>/<id>/targetgroup/<tg>/<id>`: the ALB's and the target group's full names.
            PredefinedMetricSpecification::new("ALBRequestCountPerTarget").resource_label(
                fns::join(
                    "/",
                    [
                        alb.load_balancer.attr_load_balancer_full_name(),
                        alb.target_group.attr_target_group_full_name(),
                    ],
                ),
            ),
            requests,
        ));
    }
    for (id, metric, spec, value) in policies {
        let policy = s.resource(
            id,
            CfnScalingPolicy::new(format!("{base}-{metric}"), "TargetTrackingScaling")
                .scaling_target_id(target.ref_())
                .target_tracking_scaling_policy_configuration(
                    TargetTrackingScalingPolicyConfiguration::new(value)
                        .predefined_metric_specification(spec)
                        .scale_in_cooldown(p.scale_in_cooldown_seconds)
                        .scale_out_cooldown(p.scale_out_cooldown_seconds),
                ),
        );
        if metric == "requests" {
            if let Some(o) = s.app().options_mut(policy) {
                // The metric exists only once the target group is attached to the ALB.
                o.depends_on.push(alb.forward_rule.node());
            }
        }
    }
    target
}
