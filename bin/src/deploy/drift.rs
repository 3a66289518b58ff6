//! Drift: what changed in a deployed stack outside CloudFormation. [`detect`] starts
//! `DetectStackDrift`, waits for it, and reads the modified and deleted resources with their
//! property differences; [`last_drift_note`] is the cheap look deploy's preview takes (the
//! stack's last recorded drift status, no new detection).
//!
//! The calls sit behind the small [`Drift`] trait, implemented over the SDK in
//! [`super::sdk_stacks`] and by the fake in the tests.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::api::ApiResult;
use super::error::ApiError;

/// One property that differs (`PropertyDifferences[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PropertyDifference {
    /// The JSON path of the property (`/Tags/0/Value`).
    pub path: String,
    /// What the template says.
    pub expected: String,
    /// What the resource has.
    pub actual: String,
    /// `ADD`, `REMOVE`, `NOT_EQUAL`.
    pub kind: String,
}

/// One resource that drifted (`DescribeStackResourceDrifts`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceDrift {
    /// The logical ID.
    pub logical_id: String,
    /// The physical ID.
    pub physical_id: Option<String>,
    /// The resource type.
    pub resource_type: String,
    /// `MODIFIED`, `DELETED`, `IN_SYNC`, `NOT_CHECKED`.
    pub status: String,
    /// The differing properties (for `MODIFIED`).
    pub differences: Vec<PropertyDifference>,
}

/// `DescribeStackDriftDetectionStatus`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetectionStatus {
    /// `DETECTION_IN_PROGRESS`, `DETECTION_COMPLETE`, `DETECTION_FAILED`.
    pub status: String,
    /// `DRIFTED`, `IN_SYNC`, `NOT_CHECKED`, `UNKNOWN` once detection ended.
    pub stack_drift_status: Option<String>,
    /// Why detection failed (some resources could not be checked).
    pub reason: Option<String>,
}

/// The stack's last recorded drift (`DriftInformation` of `DescribeStacks`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LastDrift {
    /// `DRIFTED`, `IN_SYNC`, `NOT_CHECKED`, `UNKNOWN`.
    pub status: String,
    /// When it was last checked (RFC 3339), if ever.
    pub checked_at: Option<String>,
}

/// The drift calls; each method is one API call (paged where the API pages).
#[allow(async_fn_in_trait)]
pub trait Drift {
    /// `DetectStackDrift`; returns the detection id.
    async fn detect_stack_drift(&self, stack: &str) -> ApiResult<String>;
    /// `DescribeStackDriftDetectionStatus`.
    async fn drift_detection_status(&self, detection_id: &str) -> ApiResult<DetectionStatus>;
    /// `DescribeStackResourceDrifts` filtered to `MODIFIED` and `DELETED` (all pages).
    async fn resource_drifts(&self, stack: &str) -> ApiResult<Vec<ResourceDrift>>;
    /// `DescribeStacks`' `DriftInformation`; `None` when the stack does not exist.
    async fn last_drift(&self, stack: &str) -> ApiResult<Option<LastDrift>>;
}

/// The drift of one stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackDrift {
    /// The stack's display name.
    pub stack: String,
    /// The CloudFormation stack name.
    pub stack_name: String,
    /// `DRIFTED`, `IN_SYNC`, ... (or `NOT_DEPLOYED`).
    pub status: String,
    /// Why detection did not check everything, when it says.
    pub reason: Option<String>,
    /// The modified and deleted resources.
    pub resources: Vec<ResourceDrift>,
}

impl StackDrift {
    /// Whether anything drifted.
    pub fn drifted(&self) -> bool {
        self.status == "DRIFTED" || !self.resources.is_empty()
    }

    /// The report: one line per stack, then per drifted resource its property differences.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = match self.status.as_str() {
            "NOT_DEPLOYED" => writeln!(s, "{}: not deployed", self.stack),
            "IN_SYNC" => writeln!(s, "{}: in sync", self.stack),
            _ if self.drifted() => writeln!(
                s,
                "{}: drifted ({} resource(s))",
                self.stack,
                self.resources.len()
            ),
            other => writeln!(s, "{}: {other}", self.stack),
        };
        if let Some(r) = &self.reason {
            let _ = writeln!(s, "  note: {r}");
        }
        for r in &self.resources {
            let _ = writeln!(
                s,
                "  {} {} ({}){}",
                r.status,
                r.logical_id,
                r.resource_type,
                r.physical_id
                    .as_deref()
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default()
            );
            for d in &r.differences {
                let _ = match d.kind.as_str() {
                    "ADD" => writeln!(s, "    {} added: {}", d.path, d.actual),
                    "REMOVE" => writeln!(s, "    {} removed (expected {})", d.path, d.expected),
                    _ => writeln!(
                        s,
                        "    {}: expected {}, actual {}",
                        d.path, d.expected, d.actual
                    ),
                };
            }
        }
        s
    }
}

/// Detects the drift of one stack: starts detection, waits (at most `timeout`, polling every
/// `poll_interval`), and reads the drifted resources. A stack that does not exist is
/// `NOT_DEPLOYED`; a detection that fails part-way still reports what it found, with its reason.
pub async fn detect<D: Drift>(
    api: &D,
    display_name: &str,
    stack_name: &str,
    timeout: Duration,
    poll_interval: Duration,
) -> ApiResult<StackDrift> {
    let mut result = StackDrift {
        stack: display_name.to_owned(),
        stack_name: stack_name.to_owned(),
        status: String::new(),
        reason: None,
        resources: Vec::new(),
    };
    if api.last_drift(stack_name).await?.is_none() {
        result.status = "NOT_DEPLOYED".into();
        return Ok(result);
    }
    let id = api.detect_stack_drift(stack_name).await?;
    let started = Instant::now();
    let status = loop {
        let s = api.drift_detection_status(&id).await?;
        if s.status != "DETECTION_IN_PROGRESS" {
            break s;
        }
        if started.elapsed() >= timeout {
            return Err(ApiError::service(
                "DriftDetectionTimeout",
                format!(
                    "drift detection of {stack_name} ({id}) did not finish within {}s",
                    timeout.as_secs()
                ),
            ));
        }
        tokio::time::sleep(poll_interval).await;
    };
    result.status = status
        .stack_drift_status
        .unwrap_or_else(|| "UNKNOWN".into());
    if status.status == "DETECTION_FAILED" {
        result.reason = status.reason;
    }
    result.resources = api.resource_drifts(stack_name).await?;
    Ok(result)
}

/// The line deploy's preview shows about a stack's last recorded drift, if it drifted: the
/// changes CloudFormation makes start from the template, not from what is there, so a drifted
/// resource may change more than the diff says.
pub async fn last_drift_note<D: Drift>(
    api: &D,
    display_name: &str,
    stack_name: &str,
) -> ApiResult<Option<String>> {
    let Some(last) = api.last_drift(stack_name).await? else {
        return Ok(None);
    };
    if last.status != "DRIFTED" {
        return Ok(None);
    }
    let (stage, stack) = display_name.split_once('/').unwrap_or((display_name, ""));
    Ok(Some(format!(
        "{display_name}: warning: the stack had drifted when last checked{}: resources were changed outside CloudFormation, and this deploy resets what the template sets; see `pantri drift {stage} {stack}`",
        last.checked_at
            .map(|t| format!(" ({t})"))
            .unwrap_or_default()
    )))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;

    #[derive(Default)]
    struct FakeDrift {
        last: Option<LastDrift>,
        statuses: RefCell<VecDeque<DetectionStatus>>,
        drifts: Vec<ResourceDrift>,
        calls: RefCell<Vec<String>>,
    }

    impl Drift for FakeDrift {
        async fn detect_stack_drift(&self, stack: &str) -> ApiResult<String> {
            self.calls
                .borrow_mut()
                .push(format!("DetectStackDrift {stack}"));
            Ok("b78ac9b0-dec1-11e7-a451-503a3e7b21a9".into())
        }
        async fn drift_detection_status(&self, id: &str) -> ApiResult<DetectionStatus> {
            self.calls
                .borrow_mut()
                .push(format!("DescribeStackDriftDetectionStatus {id}"));
            let mut q = self.statuses.borrow_mut();
            Ok(if q.len() > 1 {
                q.pop_front().unwrap_or_default()
            } else {
                q.front().cloned().unwrap_or_default()
            })
        }
        async fn resource_drifts(&self, stack: &str) -> ApiResult<Vec<ResourceDrift>> {
            self.calls
                .borrow_mut()
                .push(format!("DescribeStackResourceDrifts {stack}"));
            Ok(self.drifts.clone())
        }
        async fn last_drift(&self, _stack: &str) -> ApiResult<Option<LastDrift>> {
            Ok(self.last.clone())
        }
    }

    fn status(s: &str, drift: Option<&str>, reason: Option<&str>) -> DetectionStatus {
        DetectionStatus {
            status: s.into(),
            stack_drift_status: drift.map(str::to_owned),
            reason: reason.map(str::to_owned),
        }
    }

    /// The shapes of the API reference's example: a queue's property changed, a topic deleted.
    fn drifted_resources() -> Vec<ResourceDrift> {
        vec![
            ResourceDrift {
                logical_id: "Queue".into(),
                physical_id: Some(
                    "https://sqs.us-east-1.amazonaws.com/123456789012/dev-jobs".into(),
                ),
                resource_type: "AWS::SQS::Queue".into(),
                status: "MODIFIED".into(),
                differences: vec![
                    PropertyDifference {
                        path: "/VisibilityTimeout".into(),
                        expected: "30".into(),
                        actual: "120".into(),
                        kind: "NOT_EQUAL".into(),
                    },
                    PropertyDifference {
                        path: "/Tags/1".into(),
                        expected: "null".into(),
                        actual: "{\"Key\":\"owner\",\"Value\":\"ops\"}".into(),
                        kind: "ADD".into(),
                    },
                ],
            },
            ResourceDrift {
                logical_id: "Topic".into(),
                physical_id: Some("arn:aws:sns:us-east-1:123456789012:dev-events".into()),
                resource_type: "AWS::SNS::Topic".into(),
                status: "DELETED".into(),
                differences: Vec::new(),
            },
        ]
    }

    fn deployed() -> Option<LastDrift> {
        Some(LastDrift {
            status: "NOT_CHECKED".into(),
            checked_at: None,
        })
    }

    #[tokio::test]
    async fn a_drifted_stack_reports_modified_and_deleted_resources_with_their_differences() {
        // GIVEN detection takes two looks and finds a modified queue and a deleted topic
        let fake = FakeDrift {
            last: deployed(),
            statuses: RefCell::new(VecDeque::from([
                status("DETECTION_IN_PROGRESS", None, None),
                status("DETECTION_COMPLETE", Some("DRIFTED"), None),
            ])),
            drifts: drifted_resources(),
            ..FakeDrift::default()
        };
        // WHEN drift is detected
        let d = detect(
            &fake,
            "dev/App",
            "dev-App",
            Duration::from_secs(5),
            Duration::from_millis(1),
        )
        .await
        .unwrap();
        // THEN it drifted, and the report shows expected against actual per property
        assert!(d.drifted());
        let text = d.render();
        assert!(
            text.starts_with("dev/App: drifted (2 resource(s))"),
            "{text}"
        );
        assert!(text.contains("MODIFIED Queue (AWS::SQS::Queue)"), "{text}");
        assert!(
            text.contains("/VisibilityTimeout: expected 30, actual 120"),
            "{text}"
        );
        assert!(
            text.contains("/Tags/1 added: {\"Key\":\"owner\",\"Value\":\"ops\"}"),
            "{text}"
        );
        assert!(text.contains("DELETED Topic (AWS::SNS::Topic)"), "{text}");
        assert_eq!(
            fake.calls
                .borrow()
                .iter()
                .filter(|c| c.starts_with("DescribeStackDriftDetectionStatus"))
                .count(),
            2
        );
    }

    #[tokio::test]
    async fn an_in_sync_stack_is_not_drifted() {
        let fake = FakeDrift {
            last: deployed(),
            statuses: RefCell::new(VecDeque::from([status(
                "DETECTION_COMPLETE",
                Some("IN_SYNC"),
                None,
            )])),
            ..FakeDrift::default()
        };
        let d = detect(
            &fake,
            "dev/App",
            "dev-App",
            Duration::from_secs(5),
            Duration::from_millis(1),
        )
        .await
        .unwrap();
        assert!(!d.drifted());
        assert_eq!(d.render(), "dev/App: in sync\n");
    }

    #[tokio::test]
    async fn a_failed_detection_still_reports_what_it_found_and_why() {
        let fake = FakeDrift {
            last: deployed(),
            statuses: RefCell::new(VecDeque::from([status(
                "DETECTION_FAILED",
                Some("DRIFTED"),
                Some("Failed to detect drift on resource [Custom]: not supported"),
            )])),
            drifts: drifted_resources()[1..].to_vec(),
            ..FakeDrift::default()
        };
        let d = detect(
            &fake,
            "dev/App",
            "dev-App",
            Duration::from_secs(5),
            Duration::from_millis(1),
        )
        .await
        .unwrap();
        assert!(d.drifted());
        assert!(d
            .render()
            .contains("note: Failed to detect drift on resource [Custom]"));
    }

    #[tokio::test]
    async fn a_missing_stack_is_not_deployed_and_starts_no_detection() {
        let fake = FakeDrift::default();
        let d = detect(
            &fake,
            "dev/App",
            "dev-App",
            Duration::from_secs(5),
            Duration::from_millis(1),
        )
        .await
        .unwrap();
        assert_eq!(d.status, "NOT_DEPLOYED");
        assert!(!d.drifted());
        assert!(fake.calls.borrow().is_empty());
    }

    #[tokio::test]
    async fn a_detection_that_never_ends_times_out() {
        let fake = FakeDrift {
            last: deployed(),
            statuses: RefCell::new(VecDeque::from([status(
                "DETECTION_IN_PROGRESS",
                None,
                None,
            )])),
            ..FakeDrift::default()
        };
        let e = detect(
            &fake,
            "dev/App",
            "dev-App",
            Duration::from_millis(20),
            Duration::from_millis(1),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("did not finish within 0s"), "{e}");
    }

    #[tokio::test]
    async fn the_preview_note_speaks_only_of_a_drifted_stack() {
        let mut fake = FakeDrift {
            last: Some(LastDrift {
                status: "DRIFTED".into(),
                checked_at: Some("2024-05-01T12:00:00Z".into()),
            }),
            ..FakeDrift::default()
        };
        let note = last_drift_note(&fake, "dev/App", "dev-App")
            .await
            .unwrap()
            .unwrap();
        assert!(
            note.contains(
                "dev/App: warning: the stack had drifted when last checked (2024-05-01T12:00:00Z)"
            ),
            "{note}"
        );
        assert!(note.contains("`pantri drift dev App`"), "{note}");
        assert!(
            fake.calls.borrow().is_empty(),
            "the preview starts no detection"
        );
        fake.last = deployed();
        assert_eq!(
            last_drift_note(&fake, "dev/App", "dev-App").await.unwrap(),
            None
        );
    }
}
