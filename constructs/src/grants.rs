//! Grants on resource handles: `bucket.grant_read(&mut scope, role)` gives a role the narrowest
//! IAM statements for one use of one resource, instead of a statement written by hand at each
//! call site.
//!
//! Every grant of a role goes into one `AWS::IAM::Policy` attached to it, `<role>/DefaultPolicy`
//! (as the AWS CDK does), created by the first grant; later grants add their statements to it.
//! The policy is in the role's stack; a resource of another stack is reached through an
//! export/import like any other reference. Each method returns the statements it added, so a
//! caller can show or test them.
//!
//! ```
//! use pantri_constructs::grants::{QueueGrants, TableGrants};
//! use pantri_constructs::policy::{self, Principal, Statement};
//! use pantri_synth::cfn::dynamodb::{table::AttributeDefinition, CfnTable};
//! use pantri_synth::cfn::iam::CfnRole;
//! use pantri_synth::cfn::sqs::CfnQueue;
//! use pantri_synth::{App, Environment, StackProps, Value};
//!
//! let mut app = App::new();
//! let mut root = app.root();
//! let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
//! let mut stack = stage.stack("Worker", StackProps::default());
//! let trust = policy::document([Statement::allow()
//!     .principal(Principal::service("ecs-tasks.amazonaws.com"))
//!     .actions(["sts:AssumeRole"])]);
//! let role = stack.resource("TaskRole", CfnRole::new(trust));
//! let queue = stack.resource("Jobs", CfnQueue::new());
//! let table = stack.resource(
//!     "Results",
//!     CfnTable::new(Value::from_json(serde_json::json!([{"AttributeName": "id", "KeyType": "HASH"}])))
//!         .attribute_definitions(vec![AttributeDefinition::new("id", "S")])
//!         .billing_mode("PAY_PER_REQUEST"),
//! );
//! let consume = queue.grant_consume(&mut stack, role);
//! table.grant_read_write(&mut stack, role);
//! assert_eq!(
//!     consume[0].action_list(),
//!     ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
//! );
//! ```

use pantri_synth::cfn::dynamodb::CfnTable;
use pantri_synth::cfn::iam::CfnPolicy;
use pantri_synth::cfn::iam::CfnRole;
use pantri_synth::cfn::kms::CfnKey;
use pantri_synth::cfn::s3::CfnBucket;
use pantri_synth::cfn::secretsmanager::CfnSecret;
use pantri_synth::cfn::sqs::CfnQueue;
use pantri_synth::{fns, List, Res, Scope, Str, ToValue, Value};

use crate::policy::{self, Statement};

/// The id of the policy that holds a role's grants, under the role.
pub const DEFAULT_POLICY: &str = "DefaultPolicy";

/// Adds `statements` to the role's default policy, creating it on the first grant.
pub fn add_to_role(scope: &mut Scope<'_>, role: Res<CfnRole>, statements: &[Statement]) {
    let values: Vec<Value> = statements.iter().map(ToValue::to_value).collect();
    let app = scope.app();
    if let Some(existing) = app.child_resource::<CfnPolicy>(role.node(), DEFAULT_POLICY) {
        if let Some(Value::Map(doc)) = app.get_mut(existing).map(|p| &mut p.policy_document) {
            if let Some(Value::List(list)) = doc.get_mut("Statement") {
                for v in values {
                    // The same grant twice adds nothing.
                    if !list.contains(&v) {
                        list.push(v);
                    }
                }
                return;
            }
        }
    }
    let mut at_role = scope.at(role.node());
    at_role.resource(
        DEFAULT_POLICY,
        CfnPolicy::new(policy::document(statements.iter().cloned()), DEFAULT_POLICY)
            .roles(List::from(vec![role.ref_()])),
    );
}

fn grant(scope: &mut Scope<'_>, role: Res<CfnRole>, statements: Vec<Statement>) -> Vec<Statement> {
    add_to_role(scope, role, &statements);
    statements
}

/// Grants on a bucket. Objects are read and written under `<bucket ARN>/*`, the listing is on
/// the bucket itself; a bucket encrypted with a customer-managed key also needs
/// [`KeyGrants::grant_decrypt`] (reading) or [`KeyGrants::grant_encrypt_decrypt`] (writing).
pub trait BucketGrants {
    /// List the bucket and read its objects: `s3:ListBucket` on the bucket, `s3:GetObject` on
    /// its objects.
    fn grant_read(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
    /// Write objects: `s3:PutObject` and `s3:AbortMultipartUpload` on its objects (no delete,
    /// no listing).
    fn grant_write(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
    /// [`BucketGrants::grant_read`] and [`BucketGrants::grant_write`], plus `s3:DeleteObject`.
    fn grant_read_write(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
}

fn objects(bucket: &Res<CfnBucket>) -> Str {
    fns::join("", vec![bucket.attr_arn(), Str::from("/*")])
}

impl BucketGrants for Res<CfnBucket> {
    fn grant_read(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![
            Statement::allow()
                .actions(["s3:ListBucket"])
                .resources([self.attr_arn()]),
            Statement::allow()
                .actions(["s3:GetObject"])
                .resources([objects(self)]),
        ];
        grant(scope, role, statements)
    }

    fn grant_write(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![Statement::allow()
            .actions(["s3:PutObject", "s3:AbortMultipartUpload"])
            .resources([objects(self)])];
        grant(scope, role, statements)
    }

    fn grant_read_write(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![
            Statement::allow()
                .actions(["s3:ListBucket"])
                .resources([self.attr_arn()]),
            Statement::allow()
                .actions([
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:DeleteObject",
                ])
                .resources([objects(self)]),
        ];
        grant(scope, role, statements)
    }
}

/// Grants on a queue, on the queue's ARN only. A queue encrypted with a customer-managed key
/// also needs [`KeyGrants::grant_decrypt`] (consuming) or [`KeyGrants::grant_encrypt_decrypt`]
/// (sending).
pub trait QueueGrants {
    /// Receive, delete and extend the visibility of messages, and read the queue's URL and
    /// attributes (what a worker polling the queue does).
    fn grant_consume(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
    /// Send messages, and read the queue's URL and attributes.
    fn grant_send(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
}

impl QueueGrants for Res<CfnQueue> {
    fn grant_consume(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![Statement::allow()
            .actions([
                "sqs:ReceiveMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueUrl",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ])
            .resources([self.attr_arn()])];
        grant(scope, role, statements)
    }

    fn grant_send(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![Statement::allow()
            .actions([
                "sqs:SendMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
            ])
            .resources([self.attr_arn()])];
        grant(scope, role, statements)
    }
}

/// Grants on a DynamoDB table: on the table and its indexes (`<table ARN>/index/*`), which
/// `Query` and `Scan` of an index need. Streams are not included.
pub trait TableGrants {
    /// Read items: get, batch get, query, scan, condition checks, and describe the table.
    fn grant_read(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
    /// Read and write items: [`TableGrants::grant_read`] plus put, update, delete and batch write.
    fn grant_read_write(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
}

const TABLE_READ: [&str; 6] = [
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
];

const TABLE_WRITE: [&str; 4] = [
    "dynamodb:BatchWriteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
];

fn table_resources(table: &Res<CfnTable>) -> [Str; 2] {
    [
        table.attr_arn(),
        fns::join("", vec![table.attr_arn(), Str::from("/index/*")]),
    ]
}

impl TableGrants for Res<CfnTable> {
    fn grant_read(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![Statement::allow()
            .actions(TABLE_READ)
            .resources(table_resources(self))];
        grant(scope, role, statements)
    }

    fn grant_read_write(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![Statement::allow()
            .actions(TABLE_READ.iter().chain(&TABLE_WRITE))
            .resources(table_resources(self))];
        grant(scope, role, statements)
    }
}

/// Grants on a Secrets Manager secret (its `Ref` is its ARN). A secret encrypted with a
/// customer-managed key also needs [`KeyGrants::grant_decrypt`].
pub trait SecretGrants {
    /// Read the secret's value and describe it.
    fn grant_read(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
}

impl SecretGrants for Res<CfnSecret> {
    fn grant_read(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![Statement::allow()
            .actions([
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
            ])
            .resources([self.ref_()])];
        grant(scope, role, statements)
    }
}

/// Grants on a KMS key. They take effect because the key's policy lets IAM policies of the
/// account decide (`policy::key_administration`, AWS's default key policy).
pub trait KeyGrants {
    /// Decrypt with the key.
    fn grant_decrypt(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
    /// Encrypt and decrypt with the key, and generate data keys (what writing to an encrypted
    /// bucket or queue needs).
    fn grant_encrypt_decrypt(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement>;
}

impl KeyGrants for Res<CfnKey> {
    fn grant_decrypt(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![Statement::allow()
            .actions(["kms:Decrypt"])
            .resources([self.attr_arn()])];
        grant(scope, role, statements)
    }

    fn grant_encrypt_decrypt(&self, scope: &mut Scope<'_>, role: Res<CfnRole>) -> Vec<Statement> {
        let statements = vec![Statement::allow()
            .actions(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"])
            .resources([self.attr_arn()])];
        grant(scope, role, statements)
    }
}
