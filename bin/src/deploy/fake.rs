//! A scripted CloudFormation for the engine's unit tests. Its responses have the shapes the
//! CloudFormation API reference documents (statuses, reasons, event order newest first).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use indexmap::IndexMap;

use super::api::{
    ApiResult, ChangeSetInfo, ChangeSetRequest, ChangeSetType, CloudFormation, ParameterValue,
    ResourceChange, StackEvent, StackInfo, StackResource, TemplateStaging, TypeStatus,
};
use super::error::ApiError;

/// What executing a change set does.
#[derive(Clone, Debug)]
pub enum Execution {
    /// Every resource completes; the stack gets these outputs.
    Succeed(IndexMap<String, String>),
    /// These resource events (chronological) happen, then the stack ends in this status.
    Fail(Vec<(String, String, String, String)>, String),
    /// ExecuteChangeSet itself fails (moto's way).
    Error(ApiError),
}

#[derive(Default)]
pub struct State {
    pub stacks: BTreeMap<String, StackInfo>,
    pub templates: BTreeMap<String, String>,
    pub change_sets: BTreeMap<(String, String), (ChangeSetRequest, ChangeSetInfo)>,
    pub events: BTreeMap<String, Vec<StackEvent>>,
    pub calls: Vec<String>,
    /// Changes the next change set of a stack reports (default: derived from the templates).
    pub changes: BTreeMap<String, Vec<ResourceChange>>,
    pub execution: BTreeMap<String, Execution>,
    /// What successive DescribeStacks calls of a stack answer once its change set executed
    /// (a status in progress, or an error such as throttling), before the real status.
    pub after_execute: BTreeMap<String, VecDeque<ApiResult<String>>>,
    /// The answers of `after_execute` not given yet.
    pending: BTreeMap<String, VecDeque<ApiResult<String>>>,
    /// Statuses successive DescribeStacks calls move the stack through.
    pub status_queue: BTreeMap<String, VecDeque<String>>,
    pub types: BTreeMap<String, ApiResult<TypeStatus>>,
    pub resources: BTreeMap<String, Vec<StackResource>>,
    /// Staging buckets that exist.
    pub buckets: std::collections::BTreeSet<String>,
    /// What EnsureStagingBucket answers instead of creating the bucket.
    pub bucket_error: Option<ApiError>,
    /// What the next EnsureStagingBucket reports as re-applied hardening.
    pub rehardened: Vec<String>,
    /// Staged objects: (bucket, key) → body.
    pub objects: BTreeMap<(String, String), String>,
    /// Every CreateChangeSet request, in order.
    pub requests: Vec<ChangeSetRequest>,
    /// Last recorded drift per stack (default for an existing stack: NOT_CHECKED).
    pub drift: BTreeMap<String, super::drift::LastDrift>,
    /// What DescribeStackResourceDrifts answers per stack.
    pub resource_drifts: BTreeMap<String, Vec<super::drift::ResourceDrift>>,
    /// Successive DescribeServices answers per service name (the last one repeats).
    pub services: BTreeMap<String, VecDeque<super::service_status::ServiceInfo>>,
    /// What ListTasks STOPPED + DescribeTasks answer.
    pub stopped: Vec<super::service_status::StoppedTask>,
    /// What DescribeTargetHealth answers.
    pub targets: Vec<super::service_status::TargetHealth>,
    /// Every SetStackPolicy (stack, body), in order.
    pub policies: Vec<(String, String)>,
    /// What ListExports answers.
    pub exports: Vec<super::exports::Export>,
    /// What ListImports answers per export (default: imported by no stack).
    pub imports: BTreeMap<String, ApiResult<Vec<String>>>,
    /// Names taken outside any stack (log groups, secrets, repositories, buckets).
    pub taken_names: std::collections::BTreeSet<(super::names::NamedKind, String)>,
    /// Hosted zones: id → (name, records).
    pub zones: BTreeMap<String, (String, Vec<super::zones::Record>)>,
    next_event: u32,
}

#[derive(Clone, Default)]
pub struct Fake(pub Rc<RefCell<State>>);

impl Fake {
    pub fn with_stack(self, name: &str, status: &str, template: &str) -> Self {
        {
            let mut s = self.0.borrow_mut();
            s.stacks.insert(
                name.into(),
                StackInfo {
                    name: name.into(),
                    id: format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1"),
                    status: status.into(),
                    ..StackInfo::default()
                },
            );
            s.templates.insert(name.into(), template.into());
        }
        self
    }

    pub fn calls(&self) -> Vec<String> {
        self.0.borrow().calls.clone()
    }

    pub fn state(&self) -> std::cell::RefMut<'_, State> {
        self.0.borrow_mut()
    }
}

impl State {
    fn event(&mut self, stack: &str, logical: &str, ty: &str, status: &str, reason: &str) {
        self.next_event += 1;
        let e = StackEvent {
            id: format!("ev-{}", self.next_event),
            stack_name: stack.into(),
            logical_id: logical.into(),
            physical_id: None,
            resource_type: ty.into(),
            status: status.into(),
            reason: (!reason.is_empty()).then(|| reason.to_owned()),
            timestamp: format!("2024-05-01T12:00:{:02}.000Z", self.next_event % 60),
        };
        self.events.entry(stack.into()).or_default().insert(0, e);
    }
}

fn resources(template: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(template).unwrap_or_default();
    v["Resources"]
        .as_object()
        .map(|r| {
            r.iter()
                .map(|(k, v)| (k.clone(), v["Type"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

impl CloudFormation for Fake {
    async fn describe_stack(&self, stack: &str) -> ApiResult<Option<StackInfo>> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("DescribeStacks {stack}"));
        if let Some(next) = s.pending.get_mut(stack).and_then(VecDeque::pop_front) {
            let status = next?;
            return Ok(s.stacks.get(stack).cloned().map(|mut info| {
                info.status = status;
                info
            }));
        }
        if let Some(next) = s.status_queue.get_mut(stack).and_then(VecDeque::pop_front) {
            if next == "GONE" {
                s.stacks.remove(stack);
            } else if let Some(info) = s.stacks.get_mut(stack) {
                info.status = next;
            }
        }
        Ok(s.stacks.get(stack).cloned())
    }

    async fn create_change_set(&self, r: &ChangeSetRequest) -> ApiResult<String> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!(
            "CreateChangeSet {} {:?} {:?}",
            r.stack_name, r.kind, r.parameters
        ));
        s.requests.push(r.clone());
        if let Some(url) = &r.template_url {
            // As CloudFormation does: read the template from the URL, and refuse a missing one.
            let staged = s
                .objects
                .iter()
                .find(|((b, k), _)| url == &fake_url(b, k))
                .map(|(_, body)| body.clone());
            if staged.as_deref() != Some(r.template_body.as_str()) {
                return Err(ApiError::service(
                    "ValidationError",
                    format!("TemplateURL must be a supported URL: {url}"),
                ));
            }
        } else if r.template_body.len() > super::engine::INLINE_TEMPLATE_LIMIT {
            return Err(ApiError::service(
                "ValidationError",
                "Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket",
            ));
        }
        if r.kind == ChangeSetType::Create && !s.stacks.contains_key(&r.stack_name) {
            let name = r.stack_name.clone();
            s.stacks.insert(
                name.clone(),
                StackInfo {
                    name: name.clone(),
                    id: format!("arn:stack/{name}"),
                    status: "REVIEW_IN_PROGRESS".into(),
                    ..StackInfo::default()
                },
            );
        }
        let deployed = s.templates.get(&r.stack_name).cloned().unwrap_or_default();
        let same = serde_json::from_str::<serde_json::Value>(&deployed).ok()
            == serde_json::from_str::<serde_json::Value>(&r.template_body).ok();
        let mut info = ChangeSetInfo {
            id: format!("arn:changeSet/{}", r.change_set_name),
            name: r.change_set_name.clone(),
            status: "CREATE_COMPLETE".into(),
            execution_status: "AVAILABLE".into(),
            parameters: r
                .parameters
                .iter()
                .map(|p| match p {
                    ParameterValue::Value { key, value } => (key.clone(), value.clone()),
                    ParameterValue::UsePrevious { key } => (key.clone(), "****".into()),
                })
                .collect(),
            ..ChangeSetInfo::default()
        };
        if let Some(changes) = s.changes.get(&r.stack_name) {
            info.changes = changes.clone();
        } else if same && r.kind == ChangeSetType::Update {
            info.status = "FAILED".into();
            info.execution_status = "UNAVAILABLE".into();
            info.status_reason = Some("The submitted information didn't contain changes. Submit different information to create a change set.".into());
        } else {
            info.changes = resources(&r.template_body)
                .into_iter()
                .map(|(l, t)| ResourceChange {
                    action: "Add".into(),
                    logical_id: l,
                    resource_type: t,
                    ..ResourceChange::default()
                })
                .collect();
        }
        s.change_sets.insert(
            (r.stack_name.clone(), r.change_set_name.clone()),
            (r.clone(), info.clone()),
        );
        Ok(info.id)
    }

    async fn describe_change_set(
        &self,
        stack: &str,
        change_set: &str,
    ) -> ApiResult<Option<ChangeSetInfo>> {
        let s = self.0.borrow();
        Ok(s.change_sets
            .get(&(stack.to_owned(), change_set.to_owned()))
            .map(|(_, i)| i.clone()))
    }

    async fn execute_change_set(&self, stack: &str, change_set: &str) -> ApiResult<()> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("ExecuteChangeSet {stack}"));
        let (req, _) = s
            .change_sets
            .remove(&(stack.to_owned(), change_set.to_owned()))
            .ok_or_else(|| ApiError::service("ChangeSetNotFound", "no such change set"))?;
        let verb = match req.kind {
            ChangeSetType::Create => "CREATE",
            ChangeSetType::Update => "UPDATE",
        };
        let execution = s
            .execution
            .get(stack)
            .cloned()
            .unwrap_or(Execution::Succeed(IndexMap::new()));
        if let Some(answers) = s.after_execute.remove(stack) {
            s.pending.insert(stack.to_owned(), answers);
        }
        let stack_type = "AWS::CloudFormation::Stack";
        s.event(
            stack,
            stack,
            stack_type,
            &format!("{verb}_IN_PROGRESS"),
            "User Initiated",
        );
        match execution {
            Execution::Error(e) => return Err(e),
            Execution::Succeed(outputs) => {
                for (l, t) in resources(&req.template_body) {
                    s.event(stack, &l, &t, &format!("{verb}_IN_PROGRESS"), "");
                    s.event(stack, &l, &t, &format!("{verb}_COMPLETE"), "");
                }
                s.event(stack, stack, stack_type, &format!("{verb}_COMPLETE"), "");
                s.templates.insert(stack.into(), req.template_body.clone());
                if let Some(info) = s.stacks.get_mut(stack) {
                    info.status = format!("{verb}_COMPLETE");
                    info.outputs = outputs;
                    info.parameters = req
                        .parameters
                        .iter()
                        .map(|p| match p {
                            super::api::ParameterValue::Value { key, .. }
                            | super::api::ParameterValue::UsePrevious { key } => key.clone(),
                        })
                        .collect();
                    for p in &req.parameters {
                        if let super::api::ParameterValue::Value { key, value } = p {
                            info.parameter_values.insert(key.clone(), value.clone());
                        }
                    }
                    info.tags = req.tags.clone();
                }
            }
            Execution::Fail(events, end) => {
                for (l, t, status, reason) in events {
                    s.event(stack, &l, &t, &status, &reason);
                }
                s.event(stack, stack, stack_type, &end, "The following resource(s) failed to create: [Bucket]. Rollback requested by user.");
                if let Some(info) = s.stacks.get_mut(stack) {
                    info.status = end;
                }
            }
        }
        Ok(())
    }

    async fn delete_change_set(&self, stack: &str, change_set: &str) -> ApiResult<()> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("DeleteChangeSet {stack}"));
        s.change_sets
            .remove(&(stack.to_owned(), change_set.to_owned()));
        Ok(())
    }

    async fn describe_stack_events(&self, stack: &str) -> ApiResult<Vec<StackEvent>> {
        Ok(self
            .0
            .borrow()
            .events
            .get(stack)
            .cloned()
            .unwrap_or_default())
    }

    async fn get_template(&self, stack: &str) -> ApiResult<Option<String>> {
        let s = self.0.borrow();
        Ok(s.stacks
            .contains_key(stack)
            .then(|| s.templates.get(stack).cloned())
            .flatten())
    }

    async fn get_change_set_template(
        &self,
        stack: &str,
        change_set: &str,
    ) -> ApiResult<Option<String>> {
        let s = self.0.borrow();
        Ok(s.change_sets
            .get(&(stack.to_owned(), change_set.to_owned()))
            .map(|(r, _)| r.template_body.clone()))
    }

    async fn list_stack_resources(&self, stack: &str) -> ApiResult<Vec<StackResource>> {
        Ok(self
            .0
            .borrow()
            .resources
            .get(stack)
            .cloned()
            .unwrap_or_default())
    }

    async fn delete_stack(&self, stack: &str) -> ApiResult<()> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("DeleteStack {stack}"));
        s.stacks.remove(stack);
        s.templates.remove(stack);
        Ok(())
    }

    async fn describe_type(&self, type_name: &str) -> ApiResult<TypeStatus> {
        let s = self.0.borrow();
        s.types
            .get(type_name)
            .cloned()
            .unwrap_or(Ok(TypeStatus::Available))
    }

    async fn update_termination_protection(&self, stack: &str, enabled: bool) -> ApiResult<()> {
        let mut s = self.0.borrow_mut();
        s.calls
            .push(format!("UpdateTerminationProtection {stack} {enabled}"));
        if let Some(info) = s.stacks.get_mut(stack) {
            info.termination_protection = enabled;
        }
        Ok(())
    }

    async fn continue_update_rollback(&self, stack: &str) -> ApiResult<()> {
        self.0
            .borrow_mut()
            .calls
            .push(format!("ContinueUpdateRollback {stack}"));
        Ok(())
    }

    async fn set_stack_policy(&self, stack: &str, policy: &str) -> ApiResult<()> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("SetStackPolicy {stack}"));
        s.policies.push((stack.to_owned(), policy.to_owned()));
        Ok(())
    }
}

fn fake_url(bucket: &str, key: &str) -> String {
    format!("https://{bucket}.s3.us-east-1.amazonaws.com/{key}")
}

impl super::api::Buckets for Fake {
    async fn empty_bucket(&self, bucket: &str, owner: &str) -> ApiResult<usize> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("EmptyBucket {bucket} owner {owner}"));
        let before = s.objects.len();
        s.objects.retain(|(b, _), _| b != bucket);
        Ok(before - s.objects.len())
    }
}

impl super::names::NameRegistry for Fake {
    async fn name_taken(&self, kind: super::names::NamedKind, name: &str) -> ApiResult<bool> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("NameTaken {kind:?} {name}"));
        Ok(s.taken_names.contains(&(kind, name.to_owned())))
    }
}

impl super::zones::Zones for Fake {
    async fn zones_named(&self, name: &str) -> ApiResult<Vec<String>> {
        let wanted = name.trim_end_matches('.');
        Ok(self
            .0
            .borrow()
            .zones
            .iter()
            .filter(|(_, (n, _))| n.trim_end_matches('.') == wanted)
            .map(|(id, _)| id.clone())
            .collect())
    }

    async fn records(&self, zone_id: &str) -> ApiResult<Vec<super::zones::Record>> {
        self.0
            .borrow()
            .zones
            .get(zone_id)
            .map(|(_, r)| r.clone())
            .ok_or_else(|| ApiError::service("NoSuchHostedZone", zone_id))
    }

    async fn delete_records(
        &self,
        zone_id: &str,
        records: &[super::zones::Record],
    ) -> ApiResult<()> {
        let mut s = self.0.borrow_mut();
        s.calls
            .push(format!("DeleteRecords {zone_id} {}", records.len()));
        if let Some((_, held)) = s.zones.get_mut(zone_id) {
            held.retain(|r| !records.contains(r));
        }
        Ok(())
    }
}

impl TemplateStaging for Fake {
    async fn ensure_staging_bucket(&self, bucket: &str, owner: &str) -> ApiResult<Vec<String>> {
        let mut s = self.0.borrow_mut();
        s.calls
            .push(format!("EnsureStagingBucket {bucket} owner {owner}"));
        if let Some(e) = s.bucket_error.clone() {
            return Err(e);
        }
        s.buckets.insert(bucket.into());
        Ok(std::mem::take(&mut s.rehardened))
    }

    async fn staged_sha256(
        &self,
        bucket: &str,
        key: &str,
        _owner: &str,
    ) -> ApiResult<Option<String>> {
        let s = self.0.borrow();
        Ok(s.objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .map(|body| super::engine::sha256_base64(body)))
    }

    async fn put_template(
        &self,
        bucket: &str,
        key: &str,
        body: &str,
        owner: &str,
    ) -> ApiResult<()> {
        let mut s = self.0.borrow_mut();
        s.calls
            .push(format!("PutTemplate {bucket}/{key} owner {owner}"));
        if !s.buckets.contains(bucket) {
            return Err(ApiError::service("NoSuchBucket", bucket));
        }
        s.objects
            .insert((bucket.to_owned(), key.to_owned()), body.to_owned());
        Ok(())
    }

    fn template_url(&self, bucket: &str, key: &str) -> String {
        fake_url(bucket, key)
    }
}

impl super::exports::Exports for Fake {
    async fn list_exports(&self) -> ApiResult<Vec<super::exports::Export>> {
        let mut s = self.0.borrow_mut();
        s.calls.push("ListExports".into());
        Ok(s.exports.clone())
    }

    async fn list_imports(&self, export: &str) -> ApiResult<Vec<String>> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("ListImports {export}"));
        s.imports.get(export).cloned().unwrap_or(Ok(Vec::new()))
    }
}

impl super::drift::Drift for Fake {
    async fn detect_stack_drift(&self, stack: &str) -> ApiResult<String> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("DetectStackDrift {stack}"));
        Ok(format!("detection-{stack}"))
    }

    async fn drift_detection_status(
        &self,
        detection_id: &str,
    ) -> ApiResult<super::drift::DetectionStatus> {
        let s = self.0.borrow();
        let stack = detection_id.trim_start_matches("detection-");
        Ok(super::drift::DetectionStatus {
            status: "DETECTION_COMPLETE".into(),
            stack_drift_status: Some(
                s.drift
                    .get(stack)
                    .map_or("IN_SYNC".into(), |d| d.status.clone()),
            ),
            reason: None,
        })
    }

    async fn resource_drifts(&self, stack: &str) -> ApiResult<Vec<super::drift::ResourceDrift>> {
        Ok(self
            .0
            .borrow()
            .resource_drifts
            .get(stack)
            .cloned()
            .unwrap_or_default())
    }

    async fn last_drift(&self, stack: &str) -> ApiResult<Option<super::drift::LastDrift>> {
        let s = self.0.borrow();
        if !s.stacks.contains_key(stack) {
            return Ok(None);
        }
        Ok(Some(s.drift.get(stack).cloned().unwrap_or_else(|| {
            super::drift::LastDrift {
                status: "NOT_CHECKED".into(),
                checked_at: None,
            }
        })))
    }
}

impl super::service_status::Services for Fake {
    async fn describe_service(
        &self,
        cluster: &str,
        service: &str,
    ) -> ApiResult<Option<super::service_status::ServiceInfo>> {
        let mut s = self.0.borrow_mut();
        s.calls
            .push(format!("DescribeServices {cluster} {service}"));
        let Some(q) = s.services.get_mut(service) else {
            return Ok(None);
        };
        Ok(if q.len() > 1 {
            q.pop_front()
        } else {
            q.front().cloned()
        })
    }

    async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        limit: usize,
    ) -> ApiResult<Vec<super::service_status::StoppedTask>> {
        let mut s = self.0.borrow_mut();
        s.calls
            .push(format!("ListTasks STOPPED {cluster} {service}"));
        Ok(s.stopped.iter().take(limit).cloned().collect())
    }

    async fn target_health(
        &self,
        target_group_arn: &str,
    ) -> ApiResult<Vec<super::service_status::TargetHealth>> {
        let mut s = self.0.borrow_mut();
        s.calls
            .push(format!("DescribeTargetHealth {target_group_arn}"));
        Ok(s.targets.clone())
    }
}
