//! [`TemplateStaging`] over `aws-sdk-s3`, on the same per-region client and configuration as
//! CloudFormation ([`super::sdk::SdkCloudFormation`]).
//!
//! The staging bucket is trusted only when the stack's account owns it: every call passes
//! `ExpectedBucketOwner` (S3 answers 403 for a bucket of another account), `ListBuckets` must
//! list it (for endpoints that ignore the header), and its hardening (public access block,
//! encryption, bucket-owner-enforced ownership, the TLS-only policy) is checked on every run and
//! re-applied where it is missing. A staged object is reused only when its SHA-256 checksum is
//! the body's; otherwise the body is uploaded again with its checksum.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, ChecksumMode,
    CreateBucketConfiguration, Delete, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, ObjectIdentifier, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

use super::api::{ApiResult, Buckets, TemplateStaging};
use super::error::ApiError;
use super::sdk::SdkCloudFormation;

/// How long staged templates are kept: CloudFormation reads them while creating the change set.
pub const STAGED_TEMPLATE_DAYS: i32 = 30;

/// The HTTP status of a failed call, when the service answered.
pub(super) fn status<E, R: HttpStatus>(e: &SdkError<E, R>) -> Option<u16> {
    e.raw_response().map(HttpStatus::code)
}

pub(super) trait HttpStatus {
    fn code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn code(&self) -> u16 {
        self.status().as_u16()
    }
}

fn invalid(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::service("InvalidRequest", format!("{what}: {e}"))
}

/// The TLS-only bucket policy's marker: a bucket policy is accepted when it denies requests
/// without `aws:SecureTransport`.
const TLS_CONDITION: &str = "aws:SecureTransport";

impl SdkCloudFormation {
    /// Whether the endpoint is plain HTTP (an emulator on loopback; others are refused before
    /// any call): a TLS-only policy would lock it out.
    fn plain_http(&self) -> bool {
        self.endpoint_url
            .as_deref()
            .is_some_and(|u| u.starts_with("http://"))
    }

    /// Creates `bucket`; `BucketAlreadyOwnedByYou` is fine, `BucketAlreadyExists` is another
    /// account's bucket.
    async fn create_staging_bucket(&self, bucket: &str) -> ApiResult<()> {
        let mut create = self
            .s3
            .create_bucket()
            .bucket(bucket)
            .object_ownership(ObjectOwnership::BucketOwnerEnforced);
        // us-east-1 is the one region that refuses to be named as a location constraint.
        if self.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => Ok(()),
            Err(e) => match self.classify(e) {
                ApiError::Service { code, .. } if code == "BucketAlreadyOwnedByYou" => Ok(()),
                ApiError::Service { code, .. } if code == "BucketAlreadyExists" => {
                    Err(ApiError::AccessDenied(format!(
                        "the bucket name {bucket} is taken by another account"
                    )))
                }
                other => Err(other),
            },
        }
    }

    /// Refuses a bucket that `ListBuckets` does not list: S3 already refused one of another
    /// account through `ExpectedBucketOwner`; this catches endpoints that ignore the header.
    /// Credentials that may not list buckets leave the check to the header.
    async fn check_listed(&self, bucket: &str, owner: &str) -> ApiResult<()> {
        let listed = match self.s3.list_buckets().prefix(bucket).send().await {
            Ok(out) => out.buckets().iter().any(|b| b.name() == Some(bucket)),
            Err(e) => match self.classify(e) {
                ApiError::AccessDenied(_) => return Ok(()),
                other => return Err(other),
            },
        };
        if listed {
            Ok(())
        } else {
            Err(not_owned(bucket, owner))
        }
    }

    /// Checks each piece of the bucket's hardening and re-applies what is missing; returns what
    /// was re-applied. A bucket policy of someone else's that lacks the TLS-only deny is not
    /// overwritten: that is refused.
    async fn harden(&self, bucket: &str, owner: &str) -> ApiResult<Vec<String>> {
        let mut fixed = Vec::new();
        let pab = self
            .s3
            .get_public_access_block()
            .bucket(bucket)
            .expected_bucket_owner(owner)
            .send()
            .await;
        let blocked = match pab {
            Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
                c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true)
            }),
            Err(e) => not_found(self.classify(e), "NoSuchPublicAccessBlockConfiguration")?,
        };
        if !blocked {
            self.s3
                .put_public_access_block()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            fixed.push("the public access block".to_owned());
        }
        let encrypted = match self
            .s3
            .get_bucket_encryption()
            .bucket(bucket)
            .expected_bucket_owner(owner)
            .send()
            .await
        {
            Ok(out) => out
                .server_side_encryption_configuration()
                .is_some_and(|c| !c.rules().is_empty()),
            Err(e) => not_found(
                self.classify(e),
                "ServerSideEncryptionConfigurationNotFoundError",
            )?,
        };
        if !encrypted {
            let sse = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(|e| invalid("encryption", e))?;
            self.s3
                .put_bucket_encryption()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .server_side_encryption_configuration(
                    ServerSideEncryptionConfiguration::builder()
                        .rules(
                            ServerSideEncryptionRule::builder()
                                .apply_server_side_encryption_by_default(sse)
                                .build(),
                        )
                        .build()
                        .map_err(|e| invalid("encryption", e))?,
                )
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            fixed.push("default encryption".to_owned());
        }
        let enforced = match self
            .s3
            .get_bucket_ownership_controls()
            .bucket(bucket)
            .expected_bucket_owner(owner)
            .send()
            .await
        {
            Ok(out) => out.ownership_controls().is_some_and(|c| {
                c.rules()
                    .iter()
                    .any(|r| r.object_ownership() == &ObjectOwnership::BucketOwnerEnforced)
            }),
            Err(e) => not_found(self.classify(e), "OwnershipControlsNotFoundError")?,
        };
        if !enforced {
            let rule = OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                .build()
                .map_err(|e| invalid("ownership controls", e))?;
            self.s3
                .put_bucket_ownership_controls()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .ownership_controls(
                    OwnershipControls::builder()
                        .rules(rule)
                        .build()
                        .map_err(|e| invalid("ownership controls", e))?,
                )
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            fixed.push("bucket-owner-enforced ownership".to_owned());
        }
        if !self.plain_http() {
            let policy = match self
                .s3
                .get_bucket_policy()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .send()
                .await
            {
                Ok(out) => out.policy().map(str::to_owned),
                Err(e) => match self.classify(e) {
                    ApiError::Service { code, .. } if code == "NoSuchBucketPolicy" => None,
                    other => return Err(other),
                },
            };
            match policy {
                Some(p) if p.contains(TLS_CONDITION) => {}
                Some(_) => {
                    return Err(ApiError::service(
                        "StagingBucketNotTlsOnly",
                        format!("bucket {bucket} has a policy without a TLS-only deny (a Deny of s3:* when aws:SecureTransport is false): add that statement to it"),
                    ))
                }
                None => {
                    self.put_tls_only_policy(bucket, owner).await?;
                    fixed.push("the TLS-only policy".to_owned());
                }
            }
        }
        Ok(fixed)
    }

    async fn put_tls_only_policy(&self, bucket: &str, owner: &str) -> ApiResult<()> {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
                "Condition": {"Bool": {TLS_CONDITION: "false"}}
            }]
        });
        self.s3
            .put_bucket_policy()
            .bucket(bucket)
            .expected_bucket_owner(owner)
            .policy(policy.to_string())
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    async fn put_expiry(&self, bucket: &str, owner: &str) -> ApiResult<()> {
        let rule = LifecycleRule::builder()
            .id("pantri-expire-staged-templates")
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .status(ExpirationStatus::Enabled)
            .expiration(
                LifecycleExpiration::builder()
                    .days(STAGED_TEMPLATE_DAYS)
                    .build(),
            )
            .build()
            .map_err(|e| invalid("lifecycle", e))?;
        self.s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .expected_bucket_owner(owner)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| invalid("lifecycle", e))?,
            )
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }
}

/// `Ok(false)` for the "not configured" error `code`, the error otherwise.
fn not_found(e: ApiError, code: &str) -> ApiResult<bool> {
    match e {
        ApiError::Service { code: c, .. } if c == code => Ok(false),
        other => Err(other),
    }
}

fn not_owned(bucket: &str, owner: &str) -> ApiError {
    ApiError::AccessDenied(format!(
        "bucket {bucket} is not owned by account {owner}: pantri stages templates only in a bucket of the stack's own account"
    ))
}

impl TemplateStaging for SdkCloudFormation {
    async fn ensure_staging_bucket(&self, bucket: &str, owner: &str) -> ApiResult<Vec<String>> {
        match self
            .s3
            .head_bucket()
            .bucket(bucket)
            .expected_bucket_owner(owner)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) => match status(&e) {
                Some(404) => {
                    self.create_staging_bucket(bucket).await?;
                    self.put_expiry(bucket, owner).await?;
                    self.check_listed(bucket, owner).await?;
                    self.harden(bucket, owner).await?;
                    return Ok(Vec::new());
                }
                // HeadBucket answers without a body: the status is all there is. With an
                // expected owner, 403 is also S3's answer for another account's bucket.
                Some(403) => {
                    return Err(ApiError::AccessDenied(format!(
                        "bucket {bucket} is not owned by account {owner}, or these credentials may not use it"
                    )))
                }
                Some(301) => {
                    return Err(ApiError::AccessDenied(format!(
                        "bucket {bucket} is in another region than {}",
                        self.region
                    )))
                }
                _ => return Err(self.classify(e)),
            },
        }
        self.check_listed(bucket, owner).await?;
        self.harden(bucket, owner).await
    }

    async fn staged_sha256(
        &self,
        bucket: &str,
        key: &str,
        owner: &str,
    ) -> ApiResult<Option<String>> {
        match self
            .s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .expected_bucket_owner(owner)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.checksum_sha256().unwrap_or_default().to_owned())),
            Err(e) => match status(&e) {
                Some(404) => Ok(None),
                Some(403) => Err(ApiError::AccessDenied(format!(
                    "cannot read s3://{bucket}/{key}"
                ))),
                _ => Err(self.classify(e)),
            },
        }
    }

    async fn put_template(
        &self,
        bucket: &str,
        key: &str,
        body: &str,
        owner: &str,
    ) -> ApiResult<()> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .expected_bucket_owner(owner)
            .content_type("application/json")
            .checksum_sha256(super::engine::sha256_base64(body))
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    fn template_url(&self, bucket: &str, key: &str) -> String {
        match &self.endpoint_url {
            Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
            None => format!("https://{bucket}.s3.{}.amazonaws.com/{key}", self.region),
        }
    }
}

impl Buckets for SdkCloudFormation {
    async fn empty_bucket(&self, bucket: &str, owner: &str) -> ApiResult<usize> {
        let mut deleted = 0;
        // Each round lists up to 1,000 versions and markers and deletes them; the listing
        // starts over until nothing is left, so no continuation token goes stale.
        loop {
            let page = match self
                .s3
                .list_object_versions()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .send()
                .await
            {
                Ok(page) => page,
                Err(e) if status(&e) == Some(404) => return Ok(deleted),
                Err(e) => return Err(self.classify(e)),
            };
            let mut ids = Vec::new();
            let versions = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    page.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                );
            for (key, version) in versions {
                let Some(key) = key else { continue };
                let id = ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .map_err(|e| {
                        ApiError::service("InvalidObject", format!("s3://{bucket}/{key}: {e}"))
                    })?;
                ids.push(id);
            }
            if ids.is_empty() {
                return Ok(deleted);
            }
            let count = ids.len();
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| ApiError::service("InvalidRequest", format!("s3://{bucket}: {e}")))?;
            let out = self
                .s3
                .delete_objects()
                .bucket(bucket)
                .expected_bucket_owner(owner)
                .delete(delete)
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            if let Some(e) = out.errors().first() {
                return Err(ApiError::service(
                    e.code().unwrap_or("DeleteObjectsFailed"),
                    format!(
                        "s3://{bucket}: cannot delete {}: {}",
                        e.key().unwrap_or("?"),
                        e.message().unwrap_or("no reason given")
                    ),
                ));
            }
            deleted += count;
        }
    }
}
