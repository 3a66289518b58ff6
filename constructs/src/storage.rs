//! S3 buckets: [`StaticBucket`] for the files CloudFront serves, [`LogBucket`] for ALB, CloudFront
//! and S3 server access logs.
//!
//! Both block every form of public access and require TLS. Where the static bucket's policy lives
//! is a design decision, see [`StaticBucketPolicy`].

use pantri_synth::cfn::s3::bucket::{
    AbortIncompleteMultipartUpload, BucketEncryption, LifecycleConfiguration, LoggingConfiguration,
    NoncurrentVersionExpiration, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, Rule, ServerSideEncryptionByDefault, ServerSideEncryptionRule,
    Transition, VersioningConfiguration,
};
use pantri_synth::cfn::s3::{CfnBucket, CfnBucketPolicy};
use pantri_synth::fns::{self, aws};
use pantri_synth::{Res, Scope, Str};

use crate::policy::{document, Principal, Statement};
use crate::{BucketRef, Removal};

/// The statement every bucket policy of pantri starts with: deny any request not made over TLS.
pub fn deny_insecure_transport(bucket_arn: &Str) -> Statement {
    Statement::deny()
        .sid("DenyInsecureTransport")
        // "*" with the SecureTransport condition: the deny must reach every caller, AWS services
        // included, and the condition narrows it to plain-HTTP requests only.
        .principal(Principal::Anyone)
        .actions(["s3:*"])
        .resources([bucket_arn.clone(), objects(bucket_arn, "")])
        .condition("Bool", "aws:SecureTransport", "false")
}

/// `<bucket arn>/<prefix>*`.
pub(crate) fn objects(bucket_arn: &Str, prefix: &str) -> Str {
    fns::join("", [bucket_arn.clone(), Str::from(format!("/{prefix}*"))])
}

fn block_public_access() -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::new()
        .block_public_acls(true)
        .block_public_policy(true)
        .ignore_public_acls(true)
        .restrict_public_buckets(true)
}

fn sse_s3() -> BucketEncryption {
    BucketEncryption::new([ServerSideEncryptionRule::new()
        .server_side_encryption_by_default(ServerSideEncryptionByDefault::new("AES256"))])
}

fn set_removal(scope: &mut Scope<'_>, node: impl Into<pantri_synth::NodeId>, removal: Removal) {
    if let Some(o) = scope.app().options_mut(node) {
        removal.apply(o);
    }
}

/// Who writes the static bucket's policy. A bucket has one policy resource, and the statement
/// that lets CloudFront read it names the distribution's ARN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StaticBucketPolicy {
    /// The [`crate::edge::Edge`] that serves the bucket writes the whole policy (TLS-only deny
    /// plus read by that one distribution) in the edge's stack. Written here it would make the
    /// bucket's stack depend on the edge's, which already depends on the bucket's for the origin
    /// domain name: a cycle. The default, since a static bucket exists to be served by an edge.
    #[default]
    WrittenByEdge,
    /// This construct writes a TLS-only policy: for a bucket no edge serves.
    TlsOnly,
}

/// The tuning of a [`StaticBucket`].
#[derive(Clone, Debug, PartialEq)]
pub struct StaticBucketProps {
    /// Key prefix of the server access logs in the log bucket. Default `s3/static/`, which the
    /// [`LogBucket`] policy lets S3 log delivery write.
    pub access_log_prefix: String,
    /// Days after which noncurrent versions (overwritten or deleted files) expire. Default 30.
    pub noncurrent_version_expiration_days: u32,
    /// Days after which current objects move to STANDARD_IA. Default 30, the minimum S3 accepts.
    pub infrequent_access_after_days: u32,
    /// Who writes the bucket policy. Default [`StaticBucketPolicy::WrittenByEdge`].
    pub policy: StaticBucketPolicy,
    /// Retain (prod, the default) or delete the bucket with the stack.
    pub removal: Removal,
    /// `(key prefix, days)`: objects under the prefix expire that many days after they were
    /// written (a bundler's content-hashed files of earlier releases; the publisher rewrites
    /// the current release's files before then). Default none.
    pub expire: Vec<(String, u32)>,
}

impl Default for StaticBucketProps {
    fn default() -> Self {
        StaticBucketProps {
            access_log_prefix: "s3/static/".to_owned(),
            noncurrent_version_expiration_days: 30,
            infrequent_access_after_days: 30,
            policy: StaticBucketPolicy::default(),
            removal: Removal::default(),
            expire: Vec::new(),
        }
    }
}

/// The bucket of static files (`/_next/static/*`, `/static/*`) CloudFront serves.
///
/// Encrypted with SSE-S3 rather than a KMS key: the files are public by design (anyone can fetch
/// them through CloudFront), so a customer key adds no confidentiality, while it would need a key
/// policy naming the distribution (the same cross-stack cycle as the bucket policy) and cost a KMS
/// request per cache miss.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// use pantri_constructs::storage::{LogBucket, LogBucketProps, StaticBucket, StaticBucketProps};
/// let logs = LogBucket::new(&mut stack, "Logs", LogBucketProps::default());
/// // Server access logs go to the log bucket: an argument, since S3 logging has no default.
/// let bucket = StaticBucket::new(&mut stack, "Static", &logs.bucket_ref(), StaticBucketProps::default());
/// let _for_cloudfront = bucket.bucket_ref();
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
///
/// Without its log bucket it does not compile (the same code as above, minus the log bucket):
///
/// ```compile_fail,E0061
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// # use pantri_constructs::storage::{LogBucket, LogBucketProps, StaticBucket, StaticBucketProps};
/// # let logs = LogBucket::new(&mut stack, "Logs", LogBucketProps::default());
/// # // Server access logs go to the log bucket: an argument, since S3 logging has no default.
/// let bucket = StaticBucket::new(&mut stack, "Static", StaticBucketProps::default());
/// # let _for_cloudfront = bucket.bucket_ref();
/// # assert_eq!(pantri_constructs::testing::errors(&app), Vec::<String>::new());
/// ```
#[derive(Clone, Debug)]
pub struct StaticBucket {
    bucket: Res<CfnBucket>,
    policy: Option<Res<CfnBucketPolicy>>,
}

impl StaticBucket {
    /// Adds the bucket (and, with [`StaticBucketPolicy::TlsOnly`], its policy), its server access
    /// logs written to `log_bucket` (a [`LogBucket`]'s, whose policy lets S3 log delivery write).
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        log_bucket: &BucketRef,
        props: StaticBucketProps,
    ) -> StaticBucket {
        let mut s = scope.construct(id, "pantri.StaticBucket");
        if props.infrequent_access_after_days < 30 {
            s.error(format!(
                "infrequent_access_after_days {} is below 30, the minimum S3 accepts for \
                 STANDARD_IA: use 30 or more",
                props.infrequent_access_after_days
            ));
        }
        if props.noncurrent_version_expiration_days == 0 {
            s.error("noncurrent_version_expiration_days is 0: use 1 or more");
        }
        let mut rules = vec![
            Rule::new("Enabled")
                .id("ExpireNoncurrentVersions")
                .noncurrent_version_expiration(NoncurrentVersionExpiration::new(
                    props.noncurrent_version_expiration_days,
                )),
            Rule::new("Enabled")
                .id("AbortIncompleteMultipartUploads")
                .abort_incomplete_multipart_upload(AbortIncompleteMultipartUpload::new(7)),
            Rule::new("Enabled")
                .id("InfrequentAccess")
                .transitions([Transition::new("STANDARD_IA")
                    .transition_in_days(props.infrequent_access_after_days)]),
        ];
        for (i, (prefix, days)) in props.expire.iter().enumerate() {
            if *days == 0 || prefix.is_empty() {
                s.error(format!(
                    "expire[{i}]: ({prefix:?}, {days}) needs a key prefix and 1 or more days"
                ));
            }
            rules.push(
                Rule::new("Enabled")
                    .id(format!("Expire{i}"))
                    .prefix(prefix.as_str())
                    .expiration_in_days(*days),
            );
        }
        let bucket = CfnBucket::new()
            .bucket_encryption(sse_s3())
            .public_access_block_configuration(block_public_access())
            .ownership_controls(OwnershipControls::new([
                OwnershipControlsRule::new().object_ownership("BucketOwnerEnforced")
            ]))
            .versioning_configuration(VersioningConfiguration::new("Enabled"))
            .lifecycle_configuration(LifecycleConfiguration::new(rules))
            .logging_configuration(
                LoggingConfiguration::new()
                    .destination_bucket_name(log_bucket.name.clone())
                    .log_file_prefix(props.access_log_prefix.as_str()),
            );
        let bucket = s.resource("Resource", bucket);
        set_removal(&mut s, bucket, props.removal);
        let policy = match props.policy {
            StaticBucketPolicy::WrittenByEdge => None,
            StaticBucketPolicy::TlsOnly => {
                let doc = document([deny_insecure_transport(&bucket.attr_arn())]);
                Some(s.resource("Policy", CfnBucketPolicy::new(bucket.ref_(), doc)))
            }
        };
        StaticBucket { bucket, policy }
    }

    /// The bucket, as other constructs (the edge) need it.
    pub fn bucket_ref(&self) -> BucketRef {
        BucketRef {
            name: self.bucket.ref_(),
            arn: self.bucket.attr_arn(),
            regional_domain_name: self.bucket.attr_regional_domain_name(),
        }
    }

    /// The underlying bucket (escape hatch).
    pub fn bucket(&self) -> Res<CfnBucket> {
        self.bucket
    }

    /// The bucket policy, when this construct writes it ([`StaticBucketPolicy::TlsOnly`]).
    pub fn policy(&self) -> Option<Res<CfnBucketPolicy>> {
        self.policy
    }
}

/// Props of [`LogBucket`].
#[derive(Clone, Debug, PartialEq)]
pub struct LogBucketProps {
    /// Days after which log objects expire. Default 90.
    pub expiration_days: u32,
    /// Days after which noncurrent versions expire. Default 7: versioning is on to protect logs
    /// from overwrite, not to keep deleted logs for long.
    pub noncurrent_version_expiration_days: u32,
    /// Key prefix the load balancer writes its access logs under. Default `alb`.
    pub alb_prefix: String,
    /// Key prefix of S3 server access logs (see [`StaticBucketProps::access_log_prefix`]).
    /// Default `s3/`.
    pub s3_prefix: String,
    /// Retain (prod, the default) or delete the bucket with the stack.
    pub removal: Removal,
}

impl Default for LogBucketProps {
    fn default() -> Self {
        LogBucketProps {
            expiration_days: 90,
            noncurrent_version_expiration_days: 7,
            alb_prefix: "alb".to_owned(),
            s3_prefix: "s3/".to_owned(),
            removal: Removal::default(),
        }
    }
}

/// The bucket for access logs of the load balancer (prefix `alb/`), CloudFront (`cloudfront/`)
/// and S3 (`s3/`).
///
/// Encrypted with SSE-S3: ALB access logs support no other encryption. Object ownership is
/// `BucketOwnerPreferred` because CloudFront standard logging still writes through ACLs: when the
/// distribution is created, CloudFront grants its `awslogsdelivery` account FULL_CONTROL in the
/// bucket ACL (CloudFormation has no property for that grant; the deploying role needs
/// `s3:GetBucketAcl` and `s3:PutBucketAcl`). Public ACLs stay blocked.
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
/// # let mut stack = stage.stack("Stack", StackProps::default());
/// use pantri_constructs::storage::{LogBucket, LogBucketProps};
/// let logs = LogBucket::new(&mut stack, "Logs", LogBucketProps::default());
/// assert_eq!(logs.alb_prefix(), "alb");
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct LogBucket {
    bucket: Res<CfnBucket>,
    policy: Res<CfnBucketPolicy>,
    alb_prefix: String,
}

impl LogBucket {
    /// Adds the bucket and its policy (TLS only, log delivery by ALB and S3).
    pub fn new(scope: &mut Scope<'_>, id: &str, props: LogBucketProps) -> LogBucket {
        let region = scope.env().map(|e| e.region.clone()).unwrap_or_default();
        let mut s = scope.construct(id, "pantri.LogBucket");
        if props.expiration_days == 0 || props.noncurrent_version_expiration_days == 0 {
            s.error("expiration_days and noncurrent_version_expiration_days must be 1 or more");
        }
        for (name, prefix) in [
            ("alb_prefix", &props.alb_prefix),
            ("s3_prefix", &props.s3_prefix),
        ] {
            if prefix.is_empty() || prefix.starts_with('/') || prefix.contains("AWSLogs") {
                s.error(format!(
                    "{name} {prefix:?} is not a usable prefix: use a non-empty key prefix without \
                     a leading '/' or 'AWSLogs'"
                ));
            }
        }
        let bucket = s.resource(
            "Resource",
            CfnBucket::new()
                .bucket_encryption(sse_s3())
                .public_access_block_configuration(block_public_access())
                .ownership_controls(OwnershipControls::new([
                    OwnershipControlsRule::new().object_ownership("BucketOwnerPreferred")
                ]))
                .versioning_configuration(VersioningConfiguration::new("Enabled"))
                .lifecycle_configuration(LifecycleConfiguration::new([
                    Rule::new("Enabled")
                        .id("ExpireLogs")
                        .expiration_in_days(props.expiration_days)
                        .noncurrent_version_expiration(NoncurrentVersionExpiration::new(
                            props.noncurrent_version_expiration_days,
                        )),
                    Rule::new("Enabled")
                        .id("AbortIncompleteMultipartUploads")
                        .abort_incomplete_multipart_upload(AbortIncompleteMultipartUpload::new(1)),
                ])),
        );
        set_removal(&mut s, bucket, props.removal);
        if let Some(o) = s.app().options_mut(bucket) {
            o.suppress_checkov(
                "CKV_AWS_18",
                "This is the access-log bucket: logging it into itself would log its own log \
                 deliveries, and another bucket would only move the question one bucket further.",
            );
        }
        let arn = bucket.attr_arn();
        let alb_prefix = props.alb_prefix.trim_end_matches('/').to_owned();
        let alb_logs = Statement::allow()
            .sid("AlbAccessLogs")
            .principal(elb_log_delivery(&region))
            .actions(["s3:PutObject"])
            .resources([fns::join(
                "",
                [
                    arn.clone(),
                    Str::from(format!("/{alb_prefix}/AWSLogs/")),
                    aws::account_id(),
                    Str::from("/*"),
                ],
            )]);
        let s3_logs = Statement::allow()
            .sid("S3ServerAccessLogs")
            .principal(Principal::service("logging.s3.amazonaws.com"))
            .actions(["s3:PutObject"])
            .resources([objects(&arn, &props.s3_prefix)])
            .condition("StringEquals", "aws:SourceAccount", aws::account_id());
        let policy = s.resource(
            "Policy",
            CfnBucketPolicy::new(
                bucket.ref_(),
                document([deny_insecure_transport(&arn), alb_logs, s3_logs]),
            ),
        );
        LogBucket {
            bucket,
            policy,
            alb_prefix,
        }
    }

    /// The bucket, as other constructs (load balancer, edge, static bucket) need it.
    pub fn bucket_ref(&self) -> BucketRef {
        BucketRef {
            name: self.bucket.ref_(),
            arn: self.bucket.attr_arn(),
            regional_domain_name: self.bucket.attr_regional_domain_name(),
        }
    }

    /// The prefix the load balancer must write under (its `access_logs.s3.prefix` attribute).
    pub fn alb_prefix(&self) -> &str {
        &self.alb_prefix
    }

    /// The underlying bucket (escape hatch).
    pub fn bucket(&self) -> Res<CfnBucket> {
        self.bucket
    }

    /// The bucket policy (escape hatch).
    pub fn policy(&self) -> Res<CfnBucketPolicy> {
        self.policy
    }
}

/// Who delivers ALB access logs in a region: the regional Elastic Load Balancing account in the
/// regions that existed before August 2022, the log-delivery service principal in the newer ones.
fn elb_log_delivery(region: &str) -> Principal {
    match elb_account(region) {
        Some(account) => Principal::Aws(fns::sub(&format!(
            "arn:${{AWS::Partition}}:iam::{account}:root"
        ))),
        None => Principal::service("logdelivery.elasticloadbalancing.amazonaws.com"),
    }
}

/// The Elastic Load Balancing account of a region, from the ALB access-log documentation.
fn elb_account(region: &str) -> Option<&'static str> {
    Some(match region {
        "us-east-1" => "127311923021",
        "us-east-2" => "033677994240",
        "us-west-1" => "027434742980",
        "us-west-2" => "797873946194",
        "af-south-1" => "098369216593",
        "ap-east-1" => "754344448648",
        "ap-southeast-3" => "589379963580",
        "ap-south-1" => "718504428378",
        "ap-northeast-3" => "383597477331",
        "ap-northeast-2" => "600734575887",
        "ap-southeast-1" => "114774131450",
        "ap-southeast-2" => "783225319266",
        "ap-northeast-1" => "582318560864",
        "ca-central-1" => "985666609251",
        "eu-central-1" => "054676820928",
        "eu-west-1" => "156460612806",
        "eu-west-2" => "652711504416",
        "eu-south-1" => "635631232127",
        "eu-west-3" => "009996457667",
        "eu-north-1" => "897822967062",
        "me-south-1" => "076674570225",
        "sa-east-1" => "507241528517",
        "us-gov-west-1" => "048591011584",
        "us-gov-east-1" => "190560391635",
        _ => return None,
    })
}
