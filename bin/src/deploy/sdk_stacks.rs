//! [`Exports`] and [`Drift`] over `aws-sdk-cloudformation`, on the deploy engine's client.

use aws_sdk_cloudformation::primitives::DateTimeFormat;
use aws_sdk_cloudformation::types::StackResourceDriftStatus;

use super::api::ApiResult;
use super::drift::{DetectionStatus, Drift, LastDrift, PropertyDifference, ResourceDrift};
use super::error::ApiError;
use super::exports::{Export, Exports};
use super::sdk::SdkCloudFormation;

fn is_missing_stack(e: &ApiError) -> bool {
    matches!(e, ApiError::Service { code, message } if code == "ValidationError" && message.contains("does not exist"))
}

impl Exports for SdkCloudFormation {
    async fn list_exports(&self) -> ApiResult<Vec<Export>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_exports()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            out.extend(page.exports().iter().map(|e| Export {
                name: e.name().unwrap_or_default().to_owned(),
                value: e.value().unwrap_or_default().to_owned(),
                exporting_stack_id: e.exporting_stack_id().unwrap_or_default().to_owned(),
            }));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn list_imports(&self, export: &str) -> ApiResult<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = match self
                .client
                .list_imports()
                .export_name(export)
                .set_next_token(token.take())
                .send()
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    return match self.classify(e) {
                        // "Export 'x' is not imported by any stack."
                        ApiError::Service { code, message }
                            if code == "ValidationError" && message.contains("not imported") =>
                        {
                            Ok(out)
                        }
                        other => Err(other),
                    };
                }
            };
            out.extend(page.imports().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }
}

impl Drift for SdkCloudFormation {
    async fn detect_stack_drift(&self, stack: &str) -> ApiResult<String> {
        let out = self
            .client
            .detect_stack_drift()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(out
            .stack_drift_detection_id()
            .unwrap_or_default()
            .to_owned())
    }

    async fn drift_detection_status(&self, detection_id: &str) -> ApiResult<DetectionStatus> {
        let out = self
            .client
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(detection_id)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        Ok(DetectionStatus {
            status: out
                .detection_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            stack_drift_status: out.stack_drift_status().map(|s| s.as_str().to_owned()),
            reason: out.detection_status_reason().map(str::to_owned),
        })
    }

    async fn resource_drifts(&self, stack: &str) -> ApiResult<Vec<ResourceDrift>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_stack_resource_drifts()
                .stack_name(stack)
                .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
                .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            out.extend(page.stack_resource_drifts().iter().map(|d| {
                ResourceDrift {
                    logical_id: d.logical_resource_id().unwrap_or_default().to_owned(),
                    physical_id: d.physical_resource_id().map(str::to_owned),
                    resource_type: d.resource_type().unwrap_or_default().to_owned(),
                    status: d
                        .stack_resource_drift_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    differences: d
                        .property_differences()
                        .iter()
                        .map(|p| PropertyDifference {
                            path: p.property_path().unwrap_or_default().to_owned(),
                            expected: p.expected_value().unwrap_or_default().to_owned(),
                            actual: p.actual_value().unwrap_or_default().to_owned(),
                            kind: p
                                .difference_type()
                                .map(|t| t.as_str().to_owned())
                                .unwrap_or_default(),
                        })
                        .collect(),
                }
            }));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn last_drift(&self, stack: &str) -> ApiResult<Option<LastDrift>> {
        let out = match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = self.classify(e);
                return if is_missing_stack(&e) {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        Ok(out.stacks().first().map(|s| {
            let d = s.drift_information();
            LastDrift {
                status: d
                    .and_then(|d| d.stack_drift_status())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_else(|| "NOT_CHECKED".into()),
                checked_at: d
                    .and_then(|d| d.last_check_timestamp())
                    .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
            }
        }))
    }
}
