//! Rotation of the origin-verify secret: a Secrets Manager rotation schedule and the Python
//! function it runs (`origin_rotation.py` beside this file, inline in the template), which moves
//! the distribution and the load balancer's rule to a new value without refusing a request.
//!
//! The rotation steps: `createSecret` draws a new value; `setSecret` first makes the listener
//! rule accept the new and the current value, then has CloudFront send the new one; `testSecret`
//! reads both back; `finishSecret` makes the new value current. The rule keeps accepting the
//! previous value until the next rotation, so edge locations that still run the old
//! configuration keep reaching the origin. A deploy afterwards resolves the secret's current
//! value into both templates again (a dynamic reference), which agrees with what the function
//! set.

use pantri_synth::cfn::iam::{role, CfnRole};
use pantri_synth::cfn::lambda::function::{Code, Environment, LoggingConfig};
use pantri_synth::cfn::lambda::{CfnFunction, CfnPermission};
use pantri_synth::cfn::secretsmanager::rotation_schedule::RotationRules;
use pantri_synth::cfn::secretsmanager::CfnRotationSchedule;
use pantri_synth::value::{ToValue, Value};
use pantri_synth::{fns, Res, Scope, Str};

use super::ORIGIN_VERIFY_HEADER;
use crate::logs::encrypted_log_group;
use crate::policy::{document, Principal, Statement};
use crate::{Removal, SecretRef};

/// The function's source, deployed inline (`Code.ZipFile`, under 4 KB).
pub const ROTATION_SOURCE: &str = include_str!("origin_rotation.py");

/// Settings of [`OriginSecretRotation`].
#[derive(Clone, Debug, PartialEq)]
pub struct OriginSecretRotationProps {
    /// Days between two rotations.
    pub every_days: u32,
    /// Days the function's log events are kept.
    pub log_retention_days: u32,
    /// Whether the function's log group outlives the stack.
    pub removal: Removal,
    /// The function's log group name; `None`: `/aws/lambda/<stack name>-origin-rotation`. A
    /// literal name lets deploy check it is free before a retained group blocks a new stack.
    pub log_group_name: Option<String>,
}

impl Default for OriginSecretRotationProps {
    fn default() -> Self {
        OriginSecretRotationProps {
            every_days: 30,
            log_retention_days: 365,
            removal: Removal::Destroy,
            log_group_name: None,
        }
    }
}

/// The rotation of the secret whose value CloudFront sends to the origin
/// ([`ORIGIN_VERIFY_HEADER`]) and the load balancer's rule requires.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps, Str};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Edge", StackProps::default());
/// use pantri_constructs::edge::{OriginSecretRotation, OriginSecretRotationProps};
/// use pantri_constructs::SecretRef;
/// let secret = SecretRef {
///     arn: Str::from("arn:aws:secretsmanager:eu-west-1:111111111111:secret:orders/dev/origin-verify-AbCdEf"),
///     name: "orders/dev/origin-verify".into(),
/// };
/// OriginSecretRotation::new(
///     &mut stack,
///     "OriginRotation",
///     &secret,
///     Str::from("E2EXAMPLE"),
///     Str::from("arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener-rule/app/web/1/2/3"),
///     Str::from("arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
///     OriginSecretRotationProps::default(),
/// );
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct OriginSecretRotation {
    function: Res<CfnFunction>,
    schedule: Res<CfnRotationSchedule>,
}

impl OriginSecretRotation {
    /// Rotates `secret`, which distribution `distribution_id` sends and listener rule
    /// `listener_rule_arn` requires; the function's logs are encrypted with `logs_key_arn`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        secret: &SecretRef,
        distribution_id: Str,
        listener_rule_arn: Str,
        logs_key_arn: Str,
        props: OriginSecretRotationProps,
    ) -> OriginSecretRotation {
        let mut s = scope.construct(id, "pantri.OriginSecretRotation");
        if !(1..=365).contains(&props.every_days) {
            s.error(format!(
                "every_days is {}: Secrets Manager rotates every 1 to 365 days",
                props.every_days
            ));
        }
        let logs = encrypted_log_group(
            &mut s,
            "Logs",
            match &props.log_group_name {
                Some(name) => Str::from(name.as_str()),
                None => fns::sub("/aws/lambda/${AWS::StackName}-origin-rotation"),
            },
            props.log_retention_days,
            logs_key_arn,
            props.removal,
        );
        let distribution_arn = fns::sub_with(
            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Id}",
            [("Id", distribution_id.clone())],
        );
        let permissions = document([
            Statement::allow()
                .sid("RotateTheSecret")
                .actions([
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ])
                .resources([secret.arn.clone()]),
            // Neither call has a resource to scope it to.
            Statement::allow()
                .sid("DrawValuesAndReadRules")
                .actions([
                    "secretsmanager:GetRandomPassword",
                    "elasticloadbalancing:DescribeRules",
                ])
                .resources(["*"]),
            Statement::allow()
                .sid("AcceptTheNewValue")
                .actions(["elasticloadbalancing:ModifyRule"])
                .resources([listener_rule_arn.clone()]),
            Statement::allow()
                .sid("SendTheNewValue")
                .actions([
                    "cloudfront:GetDistributionConfig",
                    "cloudfront:UpdateDistribution",
                ])
                .resources([distribution_arn]),
            Statement::allow()
                .sid("WriteLogs")
                .actions(["logs:CreateLogStream", "logs:PutLogEvents"])
                .resources([logs.attr_arn()]),
        ]);
        let role = s.resource(
            "Role",
            CfnRole::new(document([Statement::allow()
                .principal(Principal::service("lambda.amazonaws.com"))
                .actions(["sts:AssumeRole"])]))
            .description(
                "Rotates the origin-verify secret: the secret, the listener rule, the distribution",
            )
            .policies(vec![role::Policy::new(permissions, "rotate-origin-verify")]),
        );
        let function = s.resource(
            "Function",
            CfnFunction::new(Code::new().zip_file(ROTATION_SOURCE), role.attr_arn())
                .description("Rotates the origin-verify value CloudFront sends and the load balancer requires")
                .runtime("python3.12")
                .handler("index.handler")
                .timeout(60)
                .memory_size(128)
                // One rotation at a time: two would race on the distribution's ETag.
                .reserved_concurrent_executions(1)
                .logging_config(LoggingConfig::new().log_group(logs.ref_()))
                .environment(Environment::new().variables(Value::map([
                    ("HEADER_NAME", Str::from(ORIGIN_VERIFY_HEADER).to_value()),
                    ("DISTRIBUTION_ID", distribution_id.to_value()),
                    ("LISTENER_RULE_ARN", listener_rule_arn.to_value()),
                ]))),
        );
        if let Some(o) = s.app().options_mut(function) {
            o.suppress_checkov("CKV_AWS_116", "Secrets Manager invokes the function synchronously and records a failed step on the secret, retrying it; a dead-letter queue receives only asynchronous invocations");
            o.suppress_checkov("CKV_AWS_117", "The function calls only the Secrets Manager, CloudFront and Elastic Load Balancing APIs; inside the VPC it would need a NAT gateway or three endpoints to reach them, for nothing it protects");
            o.suppress_checkov("CKV_AWS_173", "The environment holds a header name, a distribution id and a rule ARN, none of them secret; the value itself is read from Secrets Manager at run time");
        }
        let permission = s.resource(
            "InvokedBySecretsManager",
            CfnPermission::new(
                "lambda:InvokeFunction",
                function.attr_arn(),
                "secretsmanager.amazonaws.com",
            )
            // Confused-deputy guard: only this account's secret may invoke it.
            .source_account(fns::aws::account_id())
            .source_arn(secret.arn.clone()),
        );
        let schedule = s.resource(
            "Schedule",
            CfnRotationSchedule::new(secret.arn.clone())
                .rotation_lambda_arn(function.attr_arn())
                .rotation_rules(
                    RotationRules::new()
                        .schedule_expression(format!("rate({} days)", props.every_days)),
                )
                // The first rotation waits for its schedule: a deploy that updates the
                // distribution must not race one.
                .rotate_immediately_on_update(false),
        );
        if let Some(o) = s.app().options_mut(schedule) {
            o.depends_on.push(permission.into());
        }
        OriginSecretRotation { function, schedule }
    }

    /// The rotation function.
    pub fn function(&self) -> Res<CfnFunction> {
        self.function
    }

    /// The rotation schedule.
    pub fn schedule(&self) -> Res<CfnRotationSchedule> {
        self.schedule
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{app_with_stack, errors, resources_of_type, template};
    use serde_json::json;

    fn secret() -> SecretRef {
        SecretRef {
            arn: Str::from(
                "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/dev/origin-verify-AbCdEf",
            ),
            name: "app/dev/origin-verify".into(),
        }
    }

    fn rotation(props: OriginSecretRotationProps) -> pantri_synth::App {
        app_with_stack("us-east-1", |s| {
            OriginSecretRotation::new(
                s,
                "Rotation",
                &secret(),
                Str::from("E2EXAMPLE"),
                Str::from("arn:aws:elasticloadbalancing:us-east-1:111111111111:listener-rule/app/web/1/2/3"),
                Str::from("arn:aws:kms:us-east-1:111111111111:key/k"),
                props,
            );
        })
    }

    #[test]
    fn the_function_may_touch_only_the_secret_the_rule_and_the_distribution() {
        let app = rotation(OriginSecretRotationProps::default());
        assert!(errors(&app).is_empty(), "{:?}", errors(&app));
        let t = template(&app);
        let roles = resources_of_type(&t, "AWS::IAM::Role");
        assert_eq!(roles.len(), 1);
        let statements = roles[0].1["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!statements.is_empty());
        for st in &statements {
            let actions: Vec<&str> = match &st["Action"] {
                serde_json::Value::String(a) => vec![a.as_str()],
                v => v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str())
                    .collect(),
            };
            // Only actions without a resource to scope them to get "*".
            if st["Resource"] == "*" {
                assert_eq!(
                    actions,
                    [
                        "secretsmanager:GetRandomPassword",
                        "elasticloadbalancing:DescribeRules"
                    ]
                );
            }
            assert!(actions.iter().all(|a| !a.ends_with('*')), "{st}");
        }
        let modify = statements
            .iter()
            .find(|s| s["Action"] == "elasticloadbalancing:ModifyRule")
            .expect("ModifyRule");
        assert!(modify["Resource"]
            .to_string()
            .contains("listener-rule/app/web"));
    }

    #[test]
    fn secrets_manager_invokes_it_on_a_schedule_for_this_account_only() {
        let app = rotation(OriginSecretRotationProps {
            every_days: 7,
            ..OriginSecretRotationProps::default()
        });
        let t = template(&app);
        let schedule = &resources_of_type(&t, "AWS::SecretsManager::RotationSchedule")[0].1;
        assert_eq!(
            schedule["Properties"]["RotationRules"]["ScheduleExpression"],
            "rate(7 days)"
        );
        assert_eq!(schedule["Properties"]["RotateImmediatelyOnUpdate"], false);
        let permission = &resources_of_type(&t, "AWS::Lambda::Permission")[0];
        assert_eq!(
            permission.1["Properties"]["Principal"],
            "secretsmanager.amazonaws.com"
        );
        assert_eq!(
            permission.1["Properties"]["SourceAccount"],
            json!({"Ref": "AWS::AccountId"})
        );
        assert!(schedule["DependsOn"]
            .to_string()
            .contains(permission.0.as_str()));
        let function = &resources_of_type(&t, "AWS::Lambda::Function")[0].1;
        assert_eq!(
            function["Properties"]["Code"]["ZipFile"].as_str(),
            Some(ROTATION_SOURCE)
        );
        assert!(ROTATION_SOURCE.len() < 4096, "inline code stays under 4 KB");
    }

    #[test]
    fn a_schedule_secrets_manager_cannot_run_is_an_error() {
        let app = rotation(OriginSecretRotationProps {
            every_days: 0,
            ..OriginSecretRotationProps::default()
        });
        let errs = errors(&app);
        assert!(
            errs.iter().any(|e| e.contains("every_days is 0")),
            "{errs:?}"
        );
    }
}
