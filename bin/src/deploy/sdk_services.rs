//! [`Services`] over `aws-sdk-ecs` and `aws-sdk-elasticloadbalancingv2`, clients built from the
//! same configuration (credentials, endpoint, retries, TLS) as the CloudFormation client.

use aws_sdk_ecs::primitives::DateTimeFormat;
use aws_sdk_ecs::types::DesiredStatus;

use super::api::ApiResult;
use super::sdk::SdkCloudFormation;
use super::service_status::{Deployment, ServiceInfo, Services, StoppedTask, TargetHealth};

fn time(t: Option<&aws_sdk_ecs::primitives::DateTime>) -> String {
    t.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
        .unwrap_or_default()
}

impl Services for SdkCloudFormation {
    async fn describe_service(
        &self,
        cluster: &str,
        service: &str,
    ) -> ApiResult<Option<ServiceInfo>> {
        let out = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(out.services().first().map(|s| ServiceInfo {
            arn: s.service_arn().unwrap_or_default().to_owned(),
            name: s.service_name().unwrap_or_default().to_owned(),
            status: s.status().unwrap_or_default().to_owned(),
            task_definition: s.task_definition().unwrap_or_default().to_owned(),
            desired: s.desired_count(),
            running: s.running_count(),
            deployments: s
                .deployments()
                .iter()
                .map(|d| Deployment {
                    id: d.id().unwrap_or_default().to_owned(),
                    status: d.status().unwrap_or_default().to_owned(),
                    task_definition: d.task_definition().unwrap_or_default().to_owned(),
                    rollout_state: d.rollout_state().map(|r| r.as_str().to_owned()),
                    rollout_reason: d.rollout_state_reason().map(str::to_owned),
                    desired: d.desired_count(),
                    running: d.running_count(),
                    failed_tasks: d.failed_tasks(),
                })
                .collect(),
            target_groups: s
                .load_balancers()
                .iter()
                .filter_map(|l| l.target_group_arn().map(str::to_owned))
                .collect(),
            events: s
                .events()
                .iter()
                .take(5)
                .filter_map(|e| e.message().map(str::to_owned))
                .collect(),
        }))
    }

    async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        limit: usize,
    ) -> ApiResult<Vec<StoppedTask>> {
        let listed = self
            .ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(DesiredStatus::Stopped)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let arns = listed.task_arns();
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        // DescribeTasks takes at most 100 tasks; ECS keeps stopped tasks for about an hour.
        let out = self
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(arns.iter().take(100).cloned().collect()))
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let mut tasks: Vec<StoppedTask> = out
            .tasks()
            .iter()
            .map(|t| StoppedTask {
                arn: t.task_arn().unwrap_or_default().to_owned(),
                task_definition: t.task_definition_arn().unwrap_or_default().to_owned(),
                stopped_reason: t.stopped_reason().map(str::to_owned),
                containers: t
                    .containers()
                    .iter()
                    .filter(|c| c.reason().is_some() || c.exit_code().is_some_and(|x| x != 0))
                    .map(|c| {
                        let code = c
                            .exit_code()
                            .map(|x| format!("exit code {x}"))
                            .unwrap_or_else(|| "no exit code".into());
                        match c.reason() {
                            Some(r) => format!("{}: {code} ({r})", c.name().unwrap_or("?")),
                            None => format!("{}: {code}", c.name().unwrap_or("?")),
                        }
                    })
                    .collect(),
                stopped_at: time(t.stopped_at()),
            })
            .collect();
        tasks.sort_by(|a, b| b.stopped_at.cmp(&a.stopped_at));
        tasks.truncate(limit);
        Ok(tasks)
    }

    async fn target_health(&self, target_group_arn: &str) -> ApiResult<Vec<TargetHealth>> {
        let out = self
            .elb
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .map(|d| {
                let health = d.target_health();
                TargetHealth {
                    id: d
                        .target()
                        .and_then(|t| t.id())
                        .unwrap_or_default()
                        .to_owned(),
                    port: d.target().and_then(|t| t.port()),
                    state: health
                        .and_then(|h| h.state())
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    reason: health
                        .and_then(|h| h.reason())
                        .map(|r| r.as_str().to_owned()),
                    description: health.and_then(|h| h.description()).map(str::to_owned),
                }
            })
            .collect())
    }
}
