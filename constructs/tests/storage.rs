//! StaticBucket and LogBucket: snapshots per variant, plus the intent a reviewer checks (no
//! public access, TLS only, who may write logs).

use pantri_constructs::storage::{
    LogBucket, LogBucketProps, StaticBucket, StaticBucketPolicy, StaticBucketProps,
};
use pantri_constructs::testing::{app_with_stack, errors, resources_of_type, template};
use pantri_constructs::Removal;
use pantri_synth::App;
use serde_json::{json, Value};

/// With `PANTRI_LINT_OUT` set, writes the app's cloud assembly to `$PANTRI_LINT_OUT/<name>`
/// for `scripts/lint-templates`.
fn write_for_lint(name: &str, app: &App) {
    if let Ok(dir) = std::env::var("PANTRI_LINT_OUT") {
        let synthesis = pantri_synth::synthesize(app, &Default::default()).expect("synth");
        synthesis
            .assembly
            .write(&std::path::Path::new(&dir).join(name))
            .expect("write assembly");
    }
}

fn buckets(region: &str, removal: Removal, policy: StaticBucketPolicy) -> App {
    app_with_stack(region, |s| {
        let logs = LogBucket::new(
            s,
            "Logs",
            LogBucketProps {
                removal,
                ..LogBucketProps::default()
            },
        );
        StaticBucket::new(
            s,
            "Static",
            &logs.bucket_ref(),
            StaticBucketProps {
                policy,
                removal,
                ..StaticBucketProps::default()
            },
        );
    })
}

fn bucket_policies_by_bucket(t: &Value) -> Vec<(String, Value)> {
    resources_of_type(t, "AWS::S3::BucketPolicy")
        .into_iter()
        .map(|(_, p)| {
            (
                p["Properties"]["Bucket"]["Ref"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                p["Properties"]["PolicyDocument"].clone(),
            )
        })
        .collect()
}

fn denies_insecure_transport(doc: &Value) -> bool {
    doc["Statement"].as_array().into_iter().flatten().any(|st| {
        st["Effect"] == "Deny"
            && st["Action"] == "s3:*"
            && st["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    })
}

#[test]
fn prod_buckets_snapshot() {
    // GIVEN a log bucket and a standalone static bucket in prod (Retain)
    let app = buckets(
        "ap-northeast-1",
        Removal::Retain,
        StaticBucketPolicy::TlsOnly,
    );
    // WHEN synthesized
    let t = template(&app);
    write_for_lint("storage-prod", &app);
    // THEN the template is as reviewed
    insta::assert_json_snapshot!("storage_prod", t);
}

#[test]
fn dev_buckets_snapshot() {
    // GIVEN dev buckets (Destroy) whose static policy an edge writes
    let app = buckets(
        "eu-west-1",
        Removal::Destroy,
        StaticBucketPolicy::WrittenByEdge,
    );
    // WHEN synthesized
    let t = template(&app);
    write_for_lint("storage-dev", &app);
    // THEN the template is as reviewed
    insta::assert_json_snapshot!("storage_dev", t);
}

#[test]
fn every_bucket_blocks_public_access_and_every_policy_requires_tls() {
    let t = template(&buckets(
        "ap-northeast-1",
        Removal::Retain,
        StaticBucketPolicy::TlsOnly,
    ));
    let all_blocked = json!({
        "BlockPublicAcls": true, "BlockPublicPolicy": true,
        "IgnorePublicAcls": true, "RestrictPublicBuckets": true
    });
    let bucket_ids: Vec<String> = resources_of_type(&t, "AWS::S3::Bucket")
        .into_iter()
        .map(|(id, b)| {
            assert_eq!(
                b["Properties"]["PublicAccessBlockConfiguration"], all_blocked,
                "{id}"
            );
            assert!(
                b["Properties"]["BucketEncryption"].is_object(),
                "{id} encrypted"
            );
            assert_eq!(
                b["Properties"]["VersioningConfiguration"]["Status"],
                "Enabled"
            );
            assert_eq!(b["DeletionPolicy"], "RetainExceptOnCreate", "{id}");
            assert_eq!(b["UpdateReplacePolicy"], "Retain", "{id}");
            id.clone()
        })
        .collect();
    assert_eq!(bucket_ids.len(), 2);
    let policies = bucket_policies_by_bucket(&t);
    for id in &bucket_ids {
        let (_, doc) = policies
            .iter()
            .find(|(b, _)| b == id)
            .unwrap_or_else(|| panic!("{id} has a policy"));
        assert!(denies_insecure_transport(doc), "{id}: {doc}");
    }
}

#[test]
fn static_bucket_is_private_versioned_logged_and_cleaned_up() {
    let t = template(&buckets(
        "ap-northeast-1",
        Removal::Retain,
        StaticBucketPolicy::WrittenByEdge,
    ));
    let (_, bucket) = resources_of_type(&t, "AWS::S3::Bucket")
        .into_iter()
        .find(|(id, _)| id.starts_with("Static"))
        .expect("static bucket");
    let p = &bucket["Properties"];
    assert_eq!(
        p["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
        "BucketOwnerEnforced"
    );
    assert_eq!(p["LoggingConfiguration"]["LogFilePrefix"], "s3/static/");
    let rules = p["LifecycleConfiguration"]["Rules"]
        .as_array()
        .expect("rules");
    let has = |key: &str, inner: &str, v: i64| {
        rules
            .iter()
            .any(|r| r[key][inner] == v || r[key][0][inner] == v)
    };
    assert!(has("NoncurrentVersionExpiration", "NoncurrentDays", 30));
    assert!(has(
        "AbortIncompleteMultipartUpload",
        "DaysAfterInitiation",
        7
    ));
    assert!(has("Transitions", "TransitionInDays", 30));
    // WrittenByEdge: the one bucket policy is the edge's, so the storage stack has only the log bucket's.
    assert_eq!(bucket_policies_by_bucket(&t).len(), 1);
}

#[test]
fn alb_log_delivery_uses_the_regional_elb_account_or_the_service_principal() {
    let principal = |region: &str| {
        let t = template(&buckets(
            region,
            Removal::Retain,
            StaticBucketPolicy::TlsOnly,
        ));
        let (_, doc) = bucket_policies_by_bucket(&t)
            .into_iter()
            .find(|(b, _)| b.starts_with("Logs"))
            .expect("log policy");
        doc["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .find(|s| s["Sid"] == "AlbAccessLogs")
            .expect("alb statement")["Principal"]
            .clone()
    };
    assert_eq!(
        principal("ap-northeast-1")["AWS"]["Fn::Sub"],
        "arn:${AWS::Partition}:iam::582318560864:root"
    );
    // A region opened after August 2022 has no ELB account: the service principal delivers.
    assert_eq!(
        principal("ap-southeast-5"),
        json!({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"})
    );
}

#[test]
fn bad_props_are_errors_naming_the_construct_path() {
    let app = app_with_stack("ap-northeast-1", |s| {
        let logs = LogBucket::new(
            s,
            "Logs",
            LogBucketProps {
                alb_prefix: "/alb".to_owned(),
                ..LogBucketProps::default()
            },
        );
        StaticBucket::new(
            s,
            "Static",
            &logs.bucket_ref(),
            StaticBucketProps {
                infrequent_access_after_days: 7,
                ..StaticBucketProps::default()
            },
        );
    });
    let errs = errors(&app);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs
        .iter()
        .any(|e| e.starts_with("[test/Stack/Static]") && e.contains("STANDARD_IA")));
    assert!(errs
        .iter()
        .any(|e| e.starts_with("[test/Stack/Logs]") && e.contains("alb_prefix")));
}
