//! Grants on resource handles: each gives a role the narrowest statements for one use of one
//! resource, in one default policy per role.

use pantri_constructs::grants::{BucketGrants, KeyGrants, QueueGrants, SecretGrants, TableGrants};
use pantri_constructs::policy::{self, Principal, Statement};
use pantri_constructs::testing::{app_with_stack, resources_of_type, template};
use pantri_synth::cfn::dynamodb::CfnTable;
use pantri_synth::cfn::iam::CfnRole;
use pantri_synth::cfn::kms::CfnKey;
use pantri_synth::cfn::s3::CfnBucket;
use pantri_synth::cfn::secretsmanager::CfnSecret;
use pantri_synth::cfn::sqs::CfnQueue;
use pantri_synth::{Res, Scope, Value};
use serde_json::{json, Value as Json};

const REGION: &str = "eu-west-1";

fn role(s: &mut Scope<'_>, id: &str) -> Res<CfnRole> {
    let trust = policy::document([Statement::allow()
        .principal(Principal::service("ecs-tasks.amazonaws.com"))
        .actions(["sts:AssumeRole"])]);
    s.resource(id, CfnRole::new(trust))
}

fn table(s: &mut Scope<'_>) -> Res<CfnTable> {
    s.resource(
        "Table",
        CfnTable::new(Value::from_json(
            json!([{"AttributeName": "id", "KeyType": "HASH"}]),
        ))
        .attribute_definitions(vec![
            pantri_synth::cfn::dynamodb::table::AttributeDefinition::new("id", "S"),
        ])
        .billing_mode("PAY_PER_REQUEST"),
    )
}

fn key(s: &mut Scope<'_>) -> Res<CfnKey> {
    s.resource(
        "Key",
        CfnKey::new()
            .enable_key_rotation(true)
            .key_policy(policy::document([policy::key_administration()])),
    )
}

/// The statements of the one policy attached to the role with logical id prefix `role`.
fn policy_of(t: &Json, role: &str) -> Vec<Json> {
    let policies: Vec<&Json> = resources_of_type(t, "AWS::IAM::Policy")
        .into_iter()
        .filter(|(_, p)| {
            p["Properties"]["Roles"][0]["Ref"]
                .as_str()
                .is_some_and(|r| r.starts_with(role))
        })
        .map(|(_, p)| p)
        .collect();
    assert_eq!(policies.len(), 1, "one default policy for {role}");
    policies[0]["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .cloned()
        .expect("statements")
}

fn logical_id(t: &Json, type_name: &str) -> String {
    let found = resources_of_type(t, type_name);
    assert_eq!(found.len(), 1, "one {type_name}");
    found[0].0.clone()
}

fn get_att(id: &str, attr: &str) -> Json {
    json!({"Fn::GetAtt": [id, attr]})
}

fn under(id: &str, suffix: &str) -> Json {
    json!({"Fn::Join": ["", [get_att(id, "Arn"), suffix]]})
}

#[test]
fn bucket_grants_separate_the_listing_from_the_objects() {
    // GIVEN a bucket, a reader and a writer
    let app = app_with_stack(REGION, |s| {
        let bucket = s.resource("Bucket", CfnBucket::new());
        let reader = role(s, "Reader");
        let writer = role(s, "Writer");
        bucket.grant_read(s, reader);
        bucket.grant_read_write(s, writer);
    });
    let t = template(&app);
    let b = logical_id(&t, "AWS::S3::Bucket");
    // THEN the reader lists the bucket and gets objects, nothing else
    assert_eq!(
        policy_of(&t, "Reader"),
        [
            json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": get_att(&b, "Arn")}),
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": under(&b, "/*")}),
        ]
    );
    // AND the writer also puts and deletes objects, only under the bucket
    assert_eq!(
        policy_of(&t, "Writer"),
        [
            json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": get_att(&b, "Arn")}),
            json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"], "Resource": under(&b, "/*")}),
        ]
    );
}

#[test]
fn queue_table_secret_and_key_grants_of_one_role_share_its_default_policy() {
    // GIVEN a worker role that consumes a queue, writes a table, reads a secret and decrypts
    let app = app_with_stack(REGION, |s| {
        let worker = role(s, "Worker");
        let queue = s.resource("Queue", CfnQueue::new());
        let table = table(s);
        let secret = s.resource("Secret", CfnSecret::new());
        let key = key(s);
        queue.grant_consume(s, worker);
        table.grant_read_write(s, worker);
        secret.grant_read(s, worker);
        key.grant_decrypt(s, worker);
        // the same grant again adds nothing
        key.grant_decrypt(s, worker);
    });
    let t = template(&app);
    let (q, tb, sec, k) = (
        logical_id(&t, "AWS::SQS::Queue"),
        logical_id(&t, "AWS::DynamoDB::Table"),
        logical_id(&t, "AWS::SecretsManager::Secret"),
        logical_id(&t, "AWS::KMS::Key"),
    );
    // THEN one policy holds exactly the narrowest statements, each on its own resource
    assert_eq!(
        policy_of(&t, "Worker"),
        [
            json!({"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], "Resource": get_att(&q, "Arn")}),
            json!({"Effect": "Allow", "Action": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], "Resource": [get_att(&tb, "Arn"), under(&tb, "/index/*")]}),
            json!({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], "Resource": {"Ref": sec}}),
            json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": get_att(&k, "Arn")}),
        ]
    );
    // AND the policy is the role's: attached to it, under its path
    assert_eq!(resources_of_type(&t, "AWS::IAM::Policy").len(), 1);
    let (id, p) = resources_of_type(&t, "AWS::IAM::Policy")[0];
    assert!(id.starts_with("WorkerDefaultPolicy"), "{id}");
    assert_eq!(p["Properties"]["PolicyName"], "DefaultPolicy");
}

#[test]
fn read_only_and_send_grants_leave_out_every_write() {
    let app = app_with_stack(REGION, |s| {
        let reader = role(s, "Reader");
        let table = table(s);
        let queue = s.resource("Queue", CfnQueue::new());
        let key = key(s);
        table.grant_read(s, reader);
        queue.grant_send(s, reader);
        key.grant_encrypt_decrypt(s, reader);
    });
    let t = template(&app);
    let actions: Vec<String> = policy_of(&t, "Reader")
        .iter()
        .flat_map(|st| match &st["Action"] {
            Json::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            a => vec![a.as_str().expect("action").to_owned()],
        })
        .collect();
    assert_eq!(
        actions,
        [
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:ConditionCheckItem",
            "dynamodb:DescribeTable",
            "sqs:SendMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
        ]
    );
    assert!(actions.iter().all(|a| !a.contains('*')), "{actions:?}");
}

#[test]
fn a_grant_on_a_resource_of_another_stack_imports_its_arn() {
    // GIVEN the queue in a Data stack and the role in a Worker stack of one stage
    let mut app = pantri_synth::App::new();
    let mut root = app.root();
    let mut stage = root.stage(
        "test",
        pantri_synth::Environment::new(pantri_constructs::testing::ACCOUNT, REGION),
    );
    let queue = {
        let mut data = stage.stack("Data", pantri_synth::StackProps::default());
        data.resource("Queue", CfnQueue::new())
    };
    let mut worker = stage.stack("Worker", pantri_synth::StackProps::default());
    let r = role(&mut worker, "Role");
    queue.grant_consume(&mut worker, r);
    let templates = pantri_constructs::testing::templates(&app);
    // THEN the worker's policy reaches the queue through an import, in the worker's stack
    let t = &templates["test-Worker"];
    let st = &policy_of(t, "Role")[0];
    assert!(st["Resource"]["Fn::ImportValue"].is_string(), "{st}");
}
