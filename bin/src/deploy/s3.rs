//! [`TemplateStaging`] over `aws-sdk-s3`, on the same per-region client and configuration as
//! CloudFormation ([`super::sdk::SdkCloudFormation`]).

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, ObjectOwnership,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

use super::api::{ApiResult, TemplateStaging};
use super::error::ApiError;
use super::sdk::SdkCloudFormation;

/// How long staged templates are kept: CloudFormation reads them while creating the change set.
pub const STAGED_TEMPLATE_DAYS: i32 = 30;

/// The HTTP status of a failed call, when the service answered.
fn status<E, R: HttpStatus>(e: &SdkError<E, R>) -> Option<u16> {
    e.raw_response().map(HttpStatus::code)
}

trait HttpStatus {
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

impl SdkCloudFormation {
    /// Creates `bucket` and locks it down; an existing bucket of ours is configured again.
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
            Ok(_) => {}
            Err(e) => match self.classify(e) {
                ApiError::Service { code, .. } if code == "BucketAlreadyOwnedByYou" => {}
                ApiError::Service { code, .. } if code == "BucketAlreadyExists" => {
                    return Err(ApiError::AccessDenied(format!(
                        "the bucket name {bucket} is taken by another account"
                    )))
                }
                other => return Err(other),
            },
        }
        self.s3
            .put_public_access_block()
            .bucket(bucket)
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
        let sse = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()
            .map_err(|e| invalid("encryption", e))?;
        self.s3
            .put_bucket_encryption()
            .bucket(bucket)
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
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| invalid("lifecycle", e))?,
            )
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        // A plain-HTTP endpoint (an emulator) would be locked out by its own TLS-only policy.
        if self
            .endpoint_url
            .as_deref()
            .is_some_and(|u| u.starts_with("http://"))
        {
            return Ok(());
        }
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]
        });
        self.s3
            .put_bucket_policy()
            .bucket(bucket)
            .policy(policy.to_string())
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }
}

impl TemplateStaging for SdkCloudFormation {
    async fn ensure_staging_bucket(&self, bucket: &str) -> ApiResult<()> {
        match self.s3.head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => match status(&e) {
                Some(404) => self.create_staging_bucket(bucket).await,
                // HeadBucket answers without a body: the status is all there is.
                Some(403) => Err(ApiError::AccessDenied(format!(
                    "bucket {bucket} exists but these credentials may not use it"
                ))),
                Some(301) => Err(ApiError::AccessDenied(format!(
                    "bucket {bucket} is in another region than {}",
                    self.region
                ))),
                _ => Err(self.classify(e)),
            },
        }
    }

    async fn template_exists(&self, bucket: &str, key: &str) -> ApiResult<bool> {
        match self.s3.head_object().bucket(bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) => match status(&e) {
                Some(404) => Ok(false),
                Some(403) => Err(ApiError::AccessDenied(format!(
                    "cannot read s3://{bucket}/{key}"
                ))),
                _ => Err(self.classify(e)),
            },
        }
    }

    async fn put_template(&self, bucket: &str, key: &str, body: &str) -> ApiResult<()> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
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
