//! The publishing traits over the AWS SDK, on the same per-region clients as CloudFormation
//! ([`SdkCloudFormation`]): S3 objects, ECR images and its login token, CloudFront
//! invalidations.

use std::time::{Duration, SystemTime};

use aws_sdk_ecr::types::ImageIdentifier;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::MetadataDirective;
use base64::Engine as _;

use super::api::{
    ImageRegistry, Invalidations, ListedObject, Listing, ObjectHeaders, ObjectStore, RegistryLogin,
};
use crate::deploy::api::ApiResult;
use crate::deploy::error::ApiError;
use crate::deploy::sdk::SdkCloudFormation;

fn system_time(t: &aws_sdk_s3::primitives::DateTime) -> Option<SystemTime> {
    let secs = u64::try_from(t.secs()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

impl ObjectStore for SdkCloudFormation {
    async fn list(&self, bucket: &str, prefix: &str) -> ApiResult<Listing> {
        let mut listing = Listing::default();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            listing.calls += 1;
            for o in page.contents() {
                let Some(key) = o.key() else { continue };
                listing.objects.insert(
                    key.to_owned(),
                    ListedObject {
                        key: key.to_owned(),
                        etag: o.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
                        last_modified: o.last_modified().and_then(system_time),
                    },
                );
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => return Ok(listing),
            }
        }
    }

    async fn exists(&self, bucket: &str, key: &str) -> ApiResult<bool> {
        match self.s3.head_object().bucket(bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(404) => Ok(false),
            Err(e) => Err(self.classify(e)),
        }
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        headers: &ObjectHeaders,
    ) -> ApiResult<()> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(&headers.content_type)
            .cache_control(&headers.cache_control)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }

    async fn refresh(&self, bucket: &str, key: &str, headers: &ObjectHeaders) -> ApiResult<()> {
        // S3 refuses a copy onto itself unless something changes: replacing the metadata (with
        // the same values) is that change.
        self.s3
            .copy_object()
            .bucket(bucket)
            .key(key)
            .copy_source(format!("{bucket}/{key}"))
            .metadata_directive(MetadataDirective::Replace)
            .content_type(&headers.content_type)
            .cache_control(&headers.cache_control)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }
}

impl ImageRegistry for SdkCloudFormation {
    fn host(&self, account: &str, region: &str) -> String {
        format!("{account}.dkr.ecr.{region}.amazonaws.com")
    }

    async fn has_tag(&self, repository: &str, tag: &str) -> ApiResult<bool> {
        let result = self
            .ecr
            .describe_images()
            .repository_name(repository)
            .image_ids(ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await;
        match result {
            Ok(out) => Ok(!out.image_details().is_empty()),
            Err(e) => match self.classify(e) {
                ApiError::Service { code, .. } if code == "ImageNotFoundException" => Ok(false),
                ApiError::Service { code, .. } if code == "RepositoryNotFoundException" => {
                    Err(ApiError::service(
                        code,
                        format!("repository {repository} does not exist: deploy the stack that creates it first"),
                    ))
                }
                other => Err(other),
            },
        }
    }

    async fn login(&self) -> ApiResult<Option<RegistryLogin>> {
        let out = self
            .ecr
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let token = out
            .authorization_data()
            .first()
            .and_then(|d| d.authorization_token())
            .ok_or_else(|| ApiError::service("InvalidResponse", "ECR returned no token"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                ApiError::service("InvalidResponse", "the ECR token is not base64 text")
            })?;
        let (username, password) = decoded.split_once(':').ok_or_else(|| {
            ApiError::service("InvalidResponse", "the ECR token is not USER:PASSWORD")
        })?;
        Ok(Some(RegistryLogin {
            username: username.to_owned(),
            password: password.to_owned(),
        }))
    }
}

impl Invalidations for SdkCloudFormation {
    async fn invalidate(&self, distribution_id: &str, paths: &[String]) -> ApiResult<String> {
        use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
        let invalid = |e: aws_sdk_cloudfront::error::BuildError| {
            ApiError::service("InvalidRequest", e.to_string())
        };
        let quantity = i32::try_from(paths.len()).unwrap_or(i32::MAX);
        let batch = InvalidationBatch::builder()
            .paths(
                Paths::builder()
                    .quantity(quantity)
                    .set_items(Some(paths.to_vec()))
                    .build()
                    .map_err(invalid)?,
            )
            // Unique per call: CloudFront treats a repeated reference as the same request.
            .caller_reference(format!(
                "pantri-{}",
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default()
            ))
            .build()
            .map_err(invalid)?;
        let out = self
            .cloudfront
            .create_invalidation()
            .distribution_id(distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(out
            .invalidation()
            .map(|i| i.id().to_owned())
            .unwrap_or_default())
    }
}
