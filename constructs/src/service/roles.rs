//! The two roles of the task: the execution role ECS uses to start it (pull this image, write
//! these log groups, read these secrets) and the task role the app runs with (the static
//! bucket and the user pool, nothing else).

use pantri_synth::cfn::ecr::CfnRepository;
use pantri_synth::cfn::iam::role::Policy;
use pantri_synth::cfn::iam::CfnRole;
use pantri_synth::fns::{self, aws};
use pantri_synth::{Res, Scope, Str, Value};

use super::task::LogGroups;
use super::{AppLogs, NextJsServiceProps};
use crate::policy::{document, Principal, Statement};

/// The Cognito actions the app may call on its own pool: reading and updating users. Sign-in is
/// the hosted pages' authorization-code flow with PKCE (the only flow the web client allows),
/// whose token endpoint takes no AWS credentials, so no `Admin*Auth*` action is granted: the
/// role could not use a flow the client refuses.
pub const COGNITO_ACTIONS: &[&str] = &[
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:ListUsers",
];

/// The roles of the task.
#[derive(Clone, Copy, Debug)]
pub(super) struct Roles {
    pub execution: Res<CfnRole>,
    pub task: Res<CfnRole>,
}

/// Trust for ECS tasks of this account and region only (no confused deputy).
fn ecs_tasks_trust() -> Value {
    document([Statement::allow()
        .principal(Principal::service("ecs-tasks.amazonaws.com"))
        .actions(["sts:AssumeRole"])
        .condition("StringEquals", "aws:SourceAccount", aws::account_id())
        .condition(
            "ArnLike",
            "aws:SourceArn",
            fns::sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*"),
        )])
}

/// Every secret the task reads at start: the Datadog API key and the app's own.
pub(super) fn secret_arns(props: &NextJsServiceProps) -> Vec<Str> {
    let mut arns = vec![props.datadog.api_key_secret.arn.clone()];
    for (_, secret, _) in &props.secrets {
        if !arns.contains(&secret.arn) {
            arns.push(secret.arn.clone());
        }
    }
    arns
}

pub(super) fn roles(
    s: &mut Scope<'_>,
    props: &NextJsServiceProps,
    repository: Res<CfnRepository>,
    logs: &LogGroups,
) -> Roles {
    let log_arns = vec![logs.agent.attr_arn(), logs.app.attr_arn()];
    let execution_policy = document([
        Statement::allow()
            .sid("PullAppImage")
            .actions([
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ])
            .resources([repository.attr_arn()]),
        // GetAuthorizationToken has no resource-level permissions: the registry token it
        // returns is scoped by the repository statement above.
        Statement::allow()
            .sid("RegistryLogin")
            .actions(["ecr:GetAuthorizationToken"])
            .resources(["*"]),
        // The log group ARN attribute ends in `:*`, which covers the group's streams.
        Statement::allow()
            .sid("WriteTaskLogs")
            .actions(["logs:CreateLogStream", "logs:PutLogEvents"])
            .resources(log_arns),
        Statement::allow()
            .sid("ReadTaskSecrets")
            .actions(["secretsmanager:GetSecretValue"])
            .resources(secret_arns(props)),
    ]);
    let execution = s.resource(
        "ExecutionRole",
        CfnRole::new(ecs_tasks_trust())
            .description(format!(
                "ECS starts the {}-{} tasks with it: image pull, log groups, secrets",
                props.app_name, props.stage
            ))
            .policies([Policy::new(execution_policy, "TaskStart")]),
    );

    let bucket = props.static_bucket.arn.clone();
    let mut task_statements = vec![
        Statement::allow()
            .sid("StaticObjectsRead")
            .actions(["s3:GetObject"])
            .resources([fns::join("", [bucket.clone(), Str::from("/*")])]),
        Statement::allow()
            .sid("UploadsWrite")
            .actions(["s3:PutObject", "s3:DeleteObject"])
            .resources([fns::join(
                "",
                [
                    bucket.clone(),
                    Str::from(format!("/{}*", props.uploads_prefix)),
                ],
            )]),
        Statement::allow()
            .sid("StaticListing")
            .actions(["s3:ListBucket"])
            .resources([bucket]),
        Statement::allow()
            .sid("UserPool")
            .actions(COGNITO_ACTIONS.iter().copied())
            .resources([props.user_pool.arn.clone()]),
    ];
    if props.app_logs == AppLogs::CloudWatchAndDatadog {
        // FireLens's Fluent Bit runs with the task role: it writes the app's log group.
        task_statements.push(
            Statement::allow()
                .sid("AppLogsThroughLogRouter")
                .actions(["logs:CreateLogStream", "logs:PutLogEvents"])
                .resources([logs.app.attr_arn()]),
        );
    }
    if props.enable_exec {
        // The Session Manager channel of ECS Exec has no resource-level permissions.
        task_statements.push(
            Statement::allow()
                .sid("EcsExec")
                .actions([
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ])
                .resources(["*"]),
        );
    }
    let task = s.resource(
        "TaskRole",
        CfnRole::new(ecs_tasks_trust())
            .description(format!(
                "The {}-{} app runs with it: static bucket and user pool only",
                props.app_name, props.stage
            ))
            .policies([Policy::new(document(task_statements), "App")]),
    );
    Roles { execution, task }
}
