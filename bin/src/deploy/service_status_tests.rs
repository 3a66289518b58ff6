//! The service check through a fake ECS/ELBv2 fed with the response shapes the ECS and ELBv2
//! API references document (and that a circuit-breaker rollback produces).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use super::*;

const OLD_TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/pantri-dev:7";
const NEW_TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/pantri-dev:8";
const TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/pantri-dev/0123456789abcdef";

/// Successive DescribeServices answers (the last one repeats), stopped tasks and targets.
#[derive(Default)]
struct FakeServices {
    answers: RefCell<VecDeque<ServiceInfo>>,
    stopped: Vec<StoppedTask>,
    targets: Vec<TargetHealth>,
    calls: RefCell<Vec<String>>,
}

impl Services for FakeServices {
    async fn describe_service(
        &self,
        cluster: &str,
        service: &str,
    ) -> ApiResult<Option<ServiceInfo>> {
        self.calls
            .borrow_mut()
            .push(format!("DescribeServices {cluster} {service}"));
        let mut a = self.answers.borrow_mut();
        Ok(if a.len() > 1 {
            a.pop_front()
        } else {
            a.front().cloned()
        })
    }
    async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        limit: usize,
    ) -> ApiResult<Vec<StoppedTask>> {
        self.calls
            .borrow_mut()
            .push(format!("ListTasks STOPPED {cluster} {service} {limit}"));
        Ok(self.stopped.iter().take(limit).cloned().collect())
    }
    async fn target_health(&self, tg: &str) -> ApiResult<Vec<TargetHealth>> {
        self.calls
            .borrow_mut()
            .push(format!("DescribeTargetHealth {tg}"));
        Ok(self.targets.clone())
    }
}

fn deployment(status: &str, td: &str, rollout: &str, reason: &str, running: i32) -> Deployment {
    Deployment {
        id: format!("ecs-svc/{}", td.len() + running as usize),
        status: status.into(),
        task_definition: td.into(),
        rollout_state: Some(rollout.into()),
        rollout_reason: Some(reason.into()),
        desired: 2,
        running,
        failed_tasks: 0,
    }
}

fn service(td: &str, deployments: Vec<Deployment>) -> ServiceInfo {
    ServiceInfo {
        arn: "arn:aws:ecs:us-east-1:123456789012:service/pantri-dev/pantri-service".into(),
        name: "pantri-service".into(),
        status: "ACTIVE".into(),
        task_definition: td.into(),
        desired: 2,
        running: deployments.first().map_or(0, |d| d.running),
        deployments,
        target_groups: vec![TG.into()],
        events: vec!["(service pantri-service) has started 2 tasks".into()],
    }
}

fn service_ref() -> ServiceRef {
    ServiceRef {
        logical_id: "Service".into(),
        cluster: "pantri-dev".into(),
        service: "pantri-service".into(),
        wanted_task_definition: Some(NEW_TD.into()),
    }
}

fn fast() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_millis(200),
        poll_interval: Duration::from_millis(1),
        progress_every: Duration::from_millis(0),
    }
}

/// What a circuit-breaker rollback leaves: a new PRIMARY deployment of the old task definition,
/// completed, and the failed deployment of the new one.
fn rolled_back() -> ServiceInfo {
    service(
        OLD_TD,
        vec![
            deployment(
                "PRIMARY",
                OLD_TD,
                "COMPLETED",
                "ECS deployment ecs-svc/2 completed.",
                2,
            ),
            deployment(
                "ACTIVE",
                NEW_TD,
                "FAILED",
                "ECS deployment circuit breaker: tasks failed to start.",
                0,
            ),
        ],
    )
}

fn stopped() -> Vec<StoppedTask> {
    vec![StoppedTask {
        arn: "arn:aws:ecs:us-east-1:123456789012:task/pantri-dev/0a1b2c".into(),
        task_definition: NEW_TD.into(),
        stopped_reason: Some("Essential container in task exited".into()),
        containers: vec!["web: exit code 1".into()],
        stopped_at: "2024-05-01T12:00:00Z".into(),
    }]
}

fn unhealthy() -> Vec<TargetHealth> {
    vec![TargetHealth {
        id: "10.0.2.14".into(),
        port: Some(3000),
        state: "unhealthy".into(),
        reason: Some("Target.ResponseCodeMismatch".into()),
        description: Some("Health checks failed with these codes: [502]".into()),
    }]
}

async fn run(fake: &FakeServices) -> (Vec<ServiceReport>, Vec<String>) {
    let mut lines = Vec::new();
    let reports = check_stack(fake, "dev/Service", &[service_ref()], &fast(), &mut |l| {
        lines.push(l.to_owned())
    })
    .await
    .unwrap();
    (reports, lines)
}

#[tokio::test]
async fn a_rolled_back_deployment_is_a_failure_with_the_tasks_reasons_and_target_health() {
    // GIVEN ECS rolled the new task definition back (CloudFormation said UPDATE_COMPLETE)
    let fake = FakeServices {
        answers: RefCell::new(VecDeque::from([rolled_back()])),
        stopped: stopped(),
        targets: unhealthy(),
        ..FakeServices::default()
    };
    // WHEN the stack's services are checked
    let (reports, _) = run(&fake).await;
    // THEN the service did not come up, and the report says why
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert!(!r.ok());
    assert!(
        matches!(&r.verdict, Verdict::RolledBack { running_task_definition, .. } if running_task_definition == OLD_TD)
    );
    let text = r.render();
    assert!(text.contains("was rolled back: it runs pantri-dev:7 instead of pantri-dev:8: ECS deployment circuit breaker: tasks failed to start."), "{text}");
    assert!(
        text.contains("stopped task 0a1b2c (pantri-dev:8): Essential container in task exited"),
        "{text}"
    );
    assert!(text.contains("web: exit code 1"), "{text}");
    assert!(text.contains("10.0.2.14:3000 unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])"), "{text}");
    assert!(fake
        .calls
        .borrow()
        .iter()
        .any(|c| c == &format!("DescribeTargetHealth {TG}")));
}

#[tokio::test]
async fn still_deploying_then_completed_waits_with_a_progress_line_and_is_steady() {
    // GIVEN the new deployment rolls out over three looks
    let fake = FakeServices {
        answers: RefCell::new(VecDeque::from([
            service(
                NEW_TD,
                vec![
                    deployment("PRIMARY", NEW_TD, "IN_PROGRESS", "in progress", 0),
                    deployment("ACTIVE", OLD_TD, "COMPLETED", "completed", 2),
                ],
            ),
            service(
                NEW_TD,
                vec![
                    deployment("PRIMARY", NEW_TD, "IN_PROGRESS", "in progress", 1),
                    deployment("ACTIVE", OLD_TD, "COMPLETED", "completed", 1),
                ],
            ),
            service(
                NEW_TD,
                vec![deployment("PRIMARY", NEW_TD, "COMPLETED", "completed", 2)],
            ),
        ])),
        ..FakeServices::default()
    };
    let mut options = fast();
    options.timeout = Duration::from_secs(30);
    let mut lines = Vec::new();
    let reports = check_stack(&fake, "dev/Service", &[service_ref()], &options, &mut |l| {
        lines.push(l.to_owned())
    })
    .await
    .unwrap();
    // THEN it waited, said so, and reports a steady service without gathering evidence
    assert!(reports[0].ok(), "{:?}", reports[0]);
    assert_eq!(
        reports[0].render().trim(),
        "dev/Service: service pantri-service (Service, cluster pantri-dev) is steady"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("waiting for ECS to reach a steady state")
                && l.contains("pantri-service 0/2 tasks running")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("pantri-service 1/2 tasks running")),
        "{lines:?}"
    );
    assert!(!fake
        .calls
        .borrow()
        .iter()
        .any(|c| c.starts_with("ListTasks")));
}

#[tokio::test]
async fn a_deployment_that_never_settles_times_out_as_not_steady() {
    let fake = FakeServices {
        answers: RefCell::new(VecDeque::from([service(
            NEW_TD,
            vec![deployment(
                "PRIMARY",
                NEW_TD,
                "IN_PROGRESS",
                "in progress",
                1,
            )],
        )])),
        stopped: stopped(),
        targets: Vec::new(),
        ..FakeServices::default()
    };
    let (reports, lines) = run(&fake).await;
    let r = &reports[0];
    assert!(!r.ok() && r.timed_out);
    let text = r.render();
    assert!(
        text.contains("did not reach a steady state in time: 1/2 tasks running"),
        "{text}"
    );
    assert!(
        text.contains("Essential container in task exited"),
        "{text}"
    );
    assert!(text.contains("no registered targets"), "{text}");
    assert!(!lines.is_empty());
}

#[tokio::test]
async fn a_failed_rollout_without_rollback_is_reported_with_its_reason() {
    let fake = FakeServices {
        answers: RefCell::new(VecDeque::from([service(
            NEW_TD,
            vec![deployment(
                "PRIMARY",
                NEW_TD,
                "FAILED",
                "ECS deployment circuit breaker: 3 tasks failed ELB health checks.",
                0,
            )],
        )])),
        targets: unhealthy(),
        ..FakeServices::default()
    };
    let (reports, _) = run(&fake).await;
    assert_eq!(
        reports[0].verdict,
        Verdict::Failed {
            reason: "ECS deployment circuit breaker: 3 tasks failed ELB health checks.".into()
        }
    );
    assert!(reports[0].render().contains("unhealthy"));
}

#[test]
fn judge_without_rollout_state_waits_for_the_old_deployment_to_drain() {
    let mut d = deployment("PRIMARY", NEW_TD, "", "", 2);
    d.rollout_state = None;
    let mut old = deployment("ACTIVE", OLD_TD, "", "", 0);
    old.rollout_state = None;
    let two = service(NEW_TD, vec![d.clone(), old]);
    assert!(matches!(
        judge(Some(&two), Some(NEW_TD)),
        Verdict::InProgress { .. }
    ));
    let one = service(NEW_TD, vec![d]);
    assert_eq!(judge(Some(&one), Some(NEW_TD)), Verdict::Steady);
    assert_eq!(judge(None, Some(NEW_TD)), Verdict::Missing);
}

#[test]
fn services_of_a_stack_come_from_its_resources_and_template() {
    let template = serde_json::json!({"Resources": {
        "Svc": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": {"Ref": "Task"}}},
        "Task": {"Type": "AWS::ECS::TaskDefinition"}
    }});
    let resources = vec![
        StackResource {
            logical_id: "Svc".into(),
            physical_id: Some(
                "arn:aws:ecs:us-east-1:123456789012:service/pantri-dev/pantri-service".into(),
            ),
            resource_type: SERVICE_TYPE.into(),
            status: "UPDATE_COMPLETE".into(),
        },
        StackResource {
            logical_id: "Task".into(),
            physical_id: Some(NEW_TD.into()),
            resource_type: "AWS::ECS::TaskDefinition".into(),
            status: "UPDATE_COMPLETE".into(),
        },
    ];
    assert_eq!(
        services_of(&template, &resources),
        vec![ServiceRef {
            logical_id: "Svc".into(),
            cluster: "pantri-dev".into(),
            service: "pantri-service".into(),
            wanted_task_definition: Some(NEW_TD.into()),
        }]
    );
    assert_eq!(
        split_service_arn("arn:aws:ecs:us-east-1:1:service/old-style"),
        ("default".into(), "old-style".into())
    );
}
