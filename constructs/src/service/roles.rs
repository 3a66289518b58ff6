//! The two roles of a task: the execution role ECS uses to start it (pull this image, write
//! these log groups, read these secrets) and the task role the app runs with (what the
//! composition or grants give it, nothing else).

use pantri_synth::cfn::iam::role::Policy;
use pantri_synth::cfn::iam::CfnRole;
use pantri_synth::fns::{self, aws};
use pantri_synth::{Res, Scope, Str, Value};

use super::task::{parameter_arn, FargateTaskProps, LogGroups, SecretSource};
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
pub(super) fn secret_arns(props: &FargateTaskProps) -> Vec<Str> {
    let mut arns = Vec::new();
    if let Some(dd) = &props.datadog {
        arns.push(dd.api_key_secret.arn.clone());
    }
    for (_, source) in &props.secrets {
        if let SecretSource::SecretsManager { secret, .. } = source {
            if !arns.contains(&secret.arn) {
                arns.push(secret.arn.clone());
            }
        }
    }
    arns
}

/// The SSM parameters the task reads at start, and the customer-managed keys of those that
/// are `SecureString`s under one.
fn parameter_sources(props: &FargateTaskProps) -> (Vec<Str>, Vec<Str>) {
    let (mut arns, mut keys) = (Vec::new(), Vec::new());
    for (_, source) in &props.secrets {
        if let SecretSource::Parameter { name, kms_key_arn } = source {
            let arn = parameter_arn(name);
            if !arns.contains(&arn) {
                arns.push(arn);
            }
            if let Some(key) = kms_key_arn {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
        }
    }
    (arns, keys)
}

/// What the roles are made for.
pub(super) struct RoleInputs<'a> {
    pub props: &'a FargateTaskProps,
    /// The ECR repository the image comes from, if any.
    pub repository_arn: Option<Str>,
    pub logs: &'a LogGroups,
}

pub(super) fn roles(s: &mut Scope<'_>, i: &RoleInputs<'_>) -> Roles {
    let props = i.props;
    let log_arns: Vec<Str> = i
        .logs
        .agent
        .iter()
        .chain([&i.logs.app])
        .map(|g| g.attr_arn())
        .collect();
    let mut execution_statements = Vec::new();
    if let Some(repository_arn) = &i.repository_arn {
        execution_statements.push(
            Statement::allow()
                .sid("PullAppImage")
                .actions([
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ])
                .resources([repository_arn.clone()]),
        );
        // GetAuthorizationToken has no resource-level permissions: the registry token it
        // returns is scoped by the repository statement above.
        execution_statements.push(
            Statement::allow()
                .sid("RegistryLogin")
                .actions(["ecr:GetAuthorizationToken"])
                .resources(["*"]),
        );
    }
    // The log group ARN attribute ends in `:*`, which covers the group's streams.
    execution_statements.push(
        Statement::allow()
            .sid("WriteTaskLogs")
            .actions(["logs:CreateLogStream", "logs:PutLogEvents"])
            .resources(log_arns),
    );
    let secrets = secret_arns(props);
    if !secrets.is_empty() {
        execution_statements.push(
            Statement::allow()
                .sid("ReadTaskSecrets")
                .actions(["secretsmanager:GetSecretValue"])
                .resources(secrets),
        );
    }
    let (parameters, parameter_keys) = parameter_sources(props);
    if !parameters.is_empty() {
        // What ECS calls to inject parameters (GetParameters, plural), on exactly these.
        execution_statements.push(
            Statement::allow()
                .sid("ReadTaskParameters")
                .actions(["ssm:GetParameters"])
                .resources(parameters),
        );
    }
    if !parameter_keys.is_empty() {
        execution_statements.push(
            Statement::allow()
                .sid("DecryptTaskParameters")
                .actions(["kms:Decrypt"])
                .resources(parameter_keys)
                // Only for SSM's decryption of a parameter, not any use of the key.
                .condition(
                    "StringEquals",
                    "kms:ViaService",
                    fns::sub("ssm.${AWS::Region}.amazonaws.com"),
                ),
        );
    }
    let which = props
        .family
        .as_deref()
        .map_or_else(|| "these".to_owned(), |f| format!("the {f}"));
    let execution = s.resource(
        "ExecutionRole",
        CfnRole::new(ecs_tasks_trust())
            .description(format!(
                "ECS starts {which} tasks with it: image pull, log groups, secrets"
            ))
            .policies([Policy::new(document(execution_statements), "TaskStart")]),
    );

    let mut task_statements = props.task_role_statements.clone();
    if props.datadog.as_ref().is_some_and(|dd| dd.firelens()) {
        // FireLens's Fluent Bit runs with the task role: it writes the app's log group.
        task_statements.push(
            Statement::allow()
                .sid("AppLogsThroughLogRouter")
                .actions(["logs:CreateLogStream", "logs:PutLogEvents"])
                .resources([i.logs.app.attr_arn()]),
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
    let description = props
        .task_role_description
        .clone()
        .unwrap_or_else(|| format!("The app of {which} tasks runs with it"));
    let mut task = CfnRole::new(ecs_tasks_trust()).description(description);
    if !task_statements.is_empty() {
        task = task.policies([Policy::new(document(task_statements), "App")]);
    }
    let task = s.resource("TaskRole", task);
    Roles { execution, task }
}
