//! Autoscaling of a service's task count: target tracking on CPU and memory, on ALB requests
//! per task (web) or on queue backlog per task (worker).

use pantri_synth::cfn::applicationautoscaling::scaling_policy::{
    PredefinedMetricSpecification, TargetTrackingScalingPolicyConfiguration,
};
use pantri_synth::cfn::applicationautoscaling::{CfnScalableTarget, CfnScalingPolicy};
use pantri_synth::cfn::ecs::CfnService;
use pantri_synth::fns;
use pantri_synth::{NodeId, Res, Scope, Str};

/// How far the task count may move, and how fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scaling {
    /// Autoscaling floor.
    pub min_capacity: u32,
    /// Autoscaling ceiling.
    pub max_capacity: u32,
    /// Target average CPU utilization (percent, 10 to 95).
    pub cpu_target_percent: u32,
    /// Target average memory utilization (percent, 10 to 95); none: not a scaling metric.
    pub memory_target_percent: Option<u32>,
    /// Seconds between scale-in activities (scale in slowly).
    pub scale_in_cooldown_seconds: u32,
    /// Seconds between scale-out activities (scale out fast).
    pub scale_out_cooldown_seconds: u32,
}

impl Default for Scaling {
    /// 2 to 10 tasks, CPU at 70 %, memory at 75 %, in after 300 s, out after 60 s.
    fn default() -> Self {
        Scaling {
            min_capacity: 2,
            max_capacity: 10,
            cpu_target_percent: 70,
            memory_target_percent: Some(75),
            scale_in_cooldown_seconds: 300,
            scale_out_cooldown_seconds: 60,
        }
    }
}

impl Scaling {
    /// The problems of these numbers with `desired_count`.
    pub(super) fn check(&self, desired_count: u32, errors: &mut Vec<String>) {
        if self.min_capacity > self.max_capacity {
            errors.push(format!(
                "min_capacity {} is above max_capacity {}: lower min_capacity or raise max_capacity",
                self.min_capacity, self.max_capacity
            ));
        }
        if desired_count < self.min_capacity {
            errors.push(format!(
                "desired_count {desired_count} is below min_capacity {}: raise desired_count or lower min_capacity",
                self.min_capacity
            ));
        }
        if desired_count > self.max_capacity {
            errors.push(format!(
                "desired_count {desired_count} is above max_capacity {}: lower desired_count or raise max_capacity",
                self.max_capacity
            ));
        }
        if self.max_capacity == 0 {
            errors.push(
                "max_capacity is 0: the service could never run a task; use at least 1".to_owned(),
            );
        }
        for (what, v) in [
            ("cpu_target_percent", Some(self.cpu_target_percent)),
            ("memory_target_percent", self.memory_target_percent),
        ] {
            if let Some(v) = v.filter(|v| !(10..=95).contains(v)) {
                errors.push(format!(
                    "{what} {v} is out of range: use 10 to 95 (percent utilization to hold)"
                ));
            }
        }
    }
}

/// A target-tracking policy beyond CPU and memory.
pub(super) struct ExtraPolicy {
    /// The policy's id (`RequestScaling`).
    pub id: &'static str,
    /// The policy name's suffix (`requests`).
    pub metric: &'static str,
    pub configuration: TargetTrackingScalingPolicyConfiguration,
    /// What the metric needs to exist first.
    pub depends_on: Option<NodeId>,
}

/// The scalable target and its policies; `label` prefixes the policy names.
pub(super) fn scaling(
    s: &mut Scope<'_>,
    label: &str,
    scaling: &Scaling,
    cluster_name: Str,
    service: Res<CfnService>,
    extra: Vec<ExtraPolicy>,
) -> Res<CfnScalableTarget> {
    // No RoleARN: Application Auto Scaling uses its ECS service-linked role.
    let target = s.resource(
        "ScalableTarget",
        CfnScalableTarget::new(
            scaling.max_capacity,
            scaling.min_capacity,
            fns::join(
                "/",
                [Str::from("service"), cluster_name, service.attr_name()],
            ),
            "ecs:service:DesiredCount",
            "ecs",
        ),
    );
    let tracking = |spec: PredefinedMetricSpecification, value: u32| {
        TargetTrackingScalingPolicyConfiguration::new(value).predefined_metric_specification(spec)
    };
    let mut policies = vec![ExtraPolicy {
        id: "CpuScaling",
        metric: "cpu",
        configuration: tracking(
            PredefinedMetricSpecification::new("ECSServiceAverageCPUUtilization"),
            scaling.cpu_target_percent,
        ),
        depends_on: None,
    }];
    if let Some(memory) = scaling.memory_target_percent {
        policies.push(ExtraPolicy {
            id: "MemoryScaling",
            metric: "memory",
            configuration: tracking(
                PredefinedMetricSpecification::new("ECSServiceAverageMemoryUtilization"),
                memory,
            ),
            depends_on: None,
        });
    }
    policies.extend(extra);
    for p in policies {
        let policy = s.resource(
            p.id,
            CfnScalingPolicy::new(format!("{label}-{}", p.metric), "TargetTrackingScaling")
                .scaling_target_id(target.ref_())
                .target_tracking_scaling_policy_configuration(
                    p.configuration
                        .scale_in_cooldown(scaling.scale_in_cooldown_seconds)
                        .scale_out_cooldown(scaling.scale_out_cooldown_seconds),
                ),
        );
        if let (Some(dep), Some(o)) = (p.depends_on, s.app().options_mut(policy)) {
            o.depends_on.push(dep);
        }
    }
    target
}

/// Target tracking on ALB requests per task: `app/<lb>/<id>/targetgroup/<tg>/<id>`, the ALB's
/// and the target group's full names.
pub(super) fn requests_policy(
    requests: u32,
    load_balancer_full_name: Str,
    target_group_full_name: Str,
    attachment: NodeId,
) -> ExtraPolicy {
    ExtraPolicy {
        id: "RequestScaling",
        metric: "requests",
        configuration: TargetTrackingScalingPolicyConfiguration::new(requests)
            .predefined_metric_specification(
                PredefinedMetricSpecification::new("ALBRequestCountPerTarget").resource_label(
                    fns::join("/", [load_balancer_full_name, target_group_full_name]),
                ),
            ),
        // The metric exists only once the target group is attached to the ALB.
        depends_on: Some(attachment),
    }
}
