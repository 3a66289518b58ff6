//! [`NameRegistry`] and [`Zones`] over the AWS SDK (CloudWatch Logs, Secrets Manager, ECR, S3,
//! Route 53), on the same per-region configuration as CloudFormation.

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};

use super::api::ApiResult;
use super::error::ApiError;
use super::names::{NameRegistry, NamedKind};
use super::s3::status;
use super::sdk::SdkCloudFormation;
use super::zones::{Record, Zones};

/// A lookup's answer, with the service's "no such resource" as `false`.
fn absent_if_not_found(found: ApiResult<bool>) -> ApiResult<bool> {
    match found {
        Err(ApiError::Service { code, .. }) if code.ends_with("NotFoundException") => Ok(false),
        other => other,
    }
}

impl NameRegistry for SdkCloudFormation {
    async fn name_taken(&self, kind: NamedKind, name: &str) -> ApiResult<bool> {
        match kind {
            NamedKind::LogGroup => {
                let out = self
                    .logs
                    .describe_log_groups()
                    .log_group_name_prefix(name)
                    .send()
                    .await
                    .map_err(|e| self.classify(e))?;
                Ok(out
                    .log_groups()
                    .iter()
                    .any(|g| g.log_group_name() == Some(name)))
            }
            NamedKind::Secret => {
                // A secret scheduled for deletion still holds its name: it is answered too.
                let found = self.secrets.describe_secret().secret_id(name).send().await;
                absent_if_not_found(found.map(|_| true).map_err(|e| self.classify(e)))
            }
            NamedKind::Repository => {
                let found = self
                    .ecr
                    .describe_repositories()
                    .repository_names(name)
                    .send()
                    .await;
                absent_if_not_found(
                    found
                        .map(|out| !out.repositories().is_empty())
                        .map_err(|e| self.classify(e)),
                )
            }
            NamedKind::Bucket => match self.s3.head_bucket().bucket(name).send().await {
                Ok(_) => Ok(true),
                // 404: free. 403 (another account's) and 301 (another region's): taken.
                Err(e) => match status(&e) {
                    Some(404) => Ok(false),
                    Some(403 | 301) => Ok(true),
                    _ => Err(self.classify(e)),
                },
            },
        }
    }
}

impl Zones for SdkCloudFormation {
    async fn zones_named(&self, name: &str) -> ApiResult<Vec<String>> {
        let wanted = format!("{}.", name.trim_end_matches('.'));
        let out = self
            .route53
            .list_hosted_zones_by_name()
            .dns_name(&wanted)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(out
            .hosted_zones()
            .iter()
            .filter(|z| z.name() == wanted)
            .map(|z| z.id().trim_start_matches("/hostedzone/").to_owned())
            .collect())
    }

    async fn records(&self, zone_id: &str) -> ApiResult<Vec<Record>> {
        let mut records = Vec::new();
        let mut next: Option<(String, RrType, Option<String>)> = None;
        loop {
            let mut call = self
                .route53
                .list_resource_record_sets()
                .hosted_zone_id(zone_id);
            if let Some((name, kind, id)) = next.take() {
                call = call
                    .start_record_name(name)
                    .start_record_type(kind)
                    .set_start_record_identifier(id);
            }
            let page = call.send().await.map_err(|e| self.classify(e))?;
            records.extend(page.resource_record_sets().iter().map(|r| {
                Record {
                    name: r.name().to_owned(),
                    kind: r.r#type().as_str().to_owned(),
                    values: r
                        .resource_records()
                        .iter()
                        .map(|v| v.value().to_owned())
                        .collect(),
                    ttl: r.ttl(),
                }
            }));
            match (
                page.is_truncated(),
                page.next_record_name(),
                page.next_record_type(),
            ) {
                (true, Some(name), Some(kind)) => {
                    next = Some((
                        name.to_owned(),
                        kind.clone(),
                        page.next_record_identifier().map(str::to_owned),
                    ));
                }
                _ => return Ok(records),
            }
        }
    }

    async fn delete_records(&self, zone_id: &str, records: &[Record]) -> ApiResult<()> {
        let invalid = |e: aws_sdk_route53::error::BuildError| {
            ApiError::service("InvalidChangeBatch", format!("zone {zone_id}: {e}"))
        };
        let mut batch = ChangeBatch::builder().comment("pantri destroy: ACM validation records");
        for r in records {
            let mut set = ResourceRecordSet::builder()
                .name(&r.name)
                .r#type(RrType::from(r.kind.as_str()))
                .set_ttl(r.ttl);
            for v in &r.values {
                set = set.resource_records(
                    ResourceRecord::builder()
                        .value(v)
                        .build()
                        .map_err(invalid)?,
                );
            }
            batch = batch.changes(
                Change::builder()
                    .action(ChangeAction::Delete)
                    .resource_record_set(set.build().map_err(invalid)?)
                    .build()
                    .map_err(invalid)?,
            );
        }
        self.route53
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch.build().map_err(invalid)?)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(())
    }
}
