//! Log groups encrypted with a customer-managed KMS key, with retention, and the key itself.

use pantri_synth::cfn::kms::CfnKey;
use pantri_synth::cfn::logs::CfnLogGroup;
use pantri_synth::fns;
use pantri_synth::{Res, Scope, Str};

use crate::policy::{document, key_administration, Principal, Statement};
use crate::Removal;

/// A KMS key CloudWatch Logs may use for the log groups of this account and region.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// use pantri_constructs::logs::LogsKey;
/// use pantri_constructs::Removal;
/// let key = LogsKey::new(&mut stack, "LogsKey", Removal::Retain);
/// let _for_log_groups = key.arn();
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LogsKey {
    key: Res<CfnKey>,
}

impl LogsKey {
    /// Adds the key: rotation on, usable by the account's administrators and by CloudWatch Logs
    /// for log groups of this account and region only.
    pub fn new(scope: &mut Scope<'_>, id: &str, removal: Removal) -> LogsKey {
        let mut s = scope.construct(id, "pantri.LogsKey");
        let policy = document([
            key_administration(),
            Statement::allow()
                .sid("CloudWatchLogs")
                .principal(Principal::service(fns::sub(
                    "logs.${AWS::Region}.amazonaws.com",
                )))
                .actions([
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ])
                .resources(["*"])
                .condition(
                    "ArnLike",
                    "kms:EncryptionContext:aws:logs:arn",
                    fns::sub(
                        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
                    ),
                ),
        ]);
        let key = s.resource(
            "Resource",
            CfnKey::new()
                .description(fns::sub("CloudWatch Logs encryption for ${AWS::StackName}"))
                .enable_key_rotation(true)
                .key_policy(policy),
        );
        if let Some(o) = s.app().options_mut(key) {
            removal.apply(o);
        }
        LogsKey { key }
    }

    /// The key ARN.
    pub fn arn(&self) -> Str {
        self.key.attr_arn()
    }

    /// The underlying key.
    pub fn resource(&self) -> Res<CfnKey> {
        self.key
    }
}

/// Adds an encrypted log group with a name and a retention.
pub fn encrypted_log_group(
    scope: &mut Scope<'_>,
    id: &str,
    name: impl Into<Str>,
    retention_days: u32,
    key_arn: Str,
    removal: Removal,
) -> Res<CfnLogGroup> {
    let group = scope.resource(
        id,
        CfnLogGroup::new()
            .log_group_name(name)
            .retention_in_days(retention_days)
            .kms_key_id(key_arn),
    );
    if let Some(o) = scope.app().options_mut(group) {
        removal.apply(o);
    }
    group
}
