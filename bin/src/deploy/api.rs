//! The CloudFormation calls the deploy engine needs, as a small trait over plain Rust data, so the
//! engine runs the same against the AWS SDK ([`super::sdk`]) and against a scripted fake in tests.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::error::ApiError;

/// The result of one call.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

/// A stack as `DescribeStacks` returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackInfo {
    /// The stack name.
    pub name: String,
    /// The stack id (ARN).
    pub id: String,
    /// `CREATE_COMPLETE`, `ROLLBACK_COMPLETE`, ...
    pub status: String,
    /// Why it is in that status, when CloudFormation says.
    pub status_reason: Option<String>,
    /// Output key → value.
    pub outputs: IndexMap<String, String>,
    /// The keys of the stack's current parameters.
    pub parameters: Vec<String>,
    /// The stack's current parameter values as DescribeStacks shows them (a NoEcho value is
    /// masked as `****`).
    pub parameter_values: std::collections::BTreeMap<String, String>,
    /// Whether termination protection is on.
    pub termination_protection: bool,
    /// Stack tags.
    pub tags: std::collections::BTreeMap<String, String>,
    /// When the stack was last updated (its creation time before any update), RFC 3339.
    pub last_updated: Option<String>,
}

impl StackInfo {
    /// ` (status reason)` when CloudFormation gave one, for a line that names the status.
    pub fn reason_suffix(&self) -> String {
        self.status_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    }
}

/// CREATE for a new stack, UPDATE for an existing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeSetType {
    /// The stack does not exist yet (or only as `REVIEW_IN_PROGRESS`).
    Create,
    /// The stack exists.
    Update,
}

/// A parameter passed to a change set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParameterValue {
    /// An explicit value.
    Value {
        /// The parameter key.
        key: String,
        /// Its value.
        value: String,
    },
    /// Keep the value the stack has.
    UsePrevious {
        /// The parameter key.
        key: String,
    },
}

/// `CreateChangeSet`'s input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSetRequest {
    /// The stack name.
    pub stack_name: String,
    /// The change set name.
    pub change_set_name: String,
    /// CREATE or UPDATE.
    pub kind: ChangeSetType,
    /// The template. Sent inline unless `template_url` is set; kept either way so that what was
    /// deployed can be compared and shown.
    pub template_body: String,
    /// Where CloudFormation reads the template instead (`TemplateURL`): set for a body over
    /// [`super::engine::INLINE_TEMPLATE_LIMIT`], which was uploaded to the staging bucket.
    pub template_url: Option<String>,
    /// The parameters.
    pub parameters: Vec<ParameterValue>,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// `CAPABILITY_IAM`, `CAPABILITY_NAMED_IAM`, ...
    pub capabilities: Vec<String>,
    /// A description shown in the console.
    pub description: String,
    /// The CloudFormation service role the change set runs as (`--role-arn`), so deployers
    /// need not hold the permissions of everything the stack creates.
    pub role_arn: Option<String>,
}

/// One resource change of a change set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    /// The logical ID.
    pub logical_id: String,
    /// The physical ID, for existing resources.
    pub physical_id: Option<String>,
    /// The resource type.
    pub resource_type: String,
    /// `True`, `False`, `Conditional`; `None` when the service does not say (moto).
    pub replacement: Option<String>,
    /// `Properties`, `Metadata`, `Tags`, ...
    pub scope: Vec<String>,
}

impl ResourceChange {
    /// Whether the change may replace the resource (`True` or `Conditional`).
    pub fn may_replace(&self) -> bool {
        matches!(self.replacement.as_deref(), Some("True" | "Conditional"))
    }
}

/// A change set as `DescribeChangeSet` returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSetInfo {
    /// The change set id (ARN).
    pub id: String,
    /// The change set name.
    pub name: String,
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `FAILED`, ...
    pub status: String,
    /// Why it failed.
    pub status_reason: Option<String>,
    /// `AVAILABLE`, `UNAVAILABLE`, `EXECUTE_COMPLETE`, ...
    pub execution_status: String,
    /// The resource changes.
    pub changes: Vec<ResourceChange>,
    /// The parameters as the service describes them: `(key, value)`, NoEcho values masked.
    pub parameters: Vec<(String, String)>,
}

/// One stack event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackEvent {
    /// The event id (unique per stack).
    pub id: String,
    /// The stack name.
    pub stack_name: String,
    /// The resource's logical ID (the stack name for stack-level events).
    pub logical_id: String,
    /// The physical ID.
    pub physical_id: Option<String>,
    /// The resource type (`AWS::CloudFormation::Stack` for stack-level events).
    pub resource_type: String,
    /// `CREATE_IN_PROGRESS`, `CREATE_FAILED`, ...
    pub status: String,
    /// The status reason.
    pub reason: Option<String>,
    /// When, as CloudFormation wrote it (RFC 3339).
    pub timestamp: String,
}

impl StackEvent {
    /// Whether the event is about the stack itself rather than one of its resources.
    pub fn is_stack_level(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack" && self.logical_id == self.stack_name
    }
}

/// A resource of a deployed stack.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackResource {
    /// The logical ID.
    pub logical_id: String,
    /// The physical ID.
    pub physical_id: Option<String>,
    /// The resource type.
    pub resource_type: String,
    /// The resource's status.
    pub status: String,
}

/// What `DescribeType` said about a registry type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeStatus {
    /// The type exists in the account and region (activated or private).
    Available,
    /// The type is not activated in the account and region.
    NotFound,
}

/// The CloudFormation calls the engine makes. Each method is one API call (no waiting, no
/// retries beyond the client's own); the engine owns the polling and the decisions.
#[allow(async_fn_in_trait)]
pub trait CloudFormation {
    /// `DescribeStacks` for one stack; `None` when it does not exist (or is deleted).
    async fn describe_stack(&self, stack: &str) -> ApiResult<Option<StackInfo>>;
    /// `CreateChangeSet`; returns the change set id.
    async fn create_change_set(&self, request: &ChangeSetRequest) -> ApiResult<String>;
    /// `DescribeChangeSet` (all pages of changes); `None` when it does not exist.
    async fn describe_change_set(
        &self,
        stack: &str,
        change_set: &str,
    ) -> ApiResult<Option<ChangeSetInfo>>;
    /// `ExecuteChangeSet`.
    async fn execute_change_set(&self, stack: &str, change_set: &str) -> ApiResult<()>;
    /// `DeleteChangeSet`.
    async fn delete_change_set(&self, stack: &str, change_set: &str) -> ApiResult<()>;
    /// `DescribeStackEvents`, newest first as the API returns them; only the first page
    /// (the engine stops paging once it reaches an event it has seen).
    async fn describe_stack_events(&self, stack: &str) -> ApiResult<Vec<StackEvent>>;
    /// `GetTemplate` (the deployed template body); `None` when the stack does not exist.
    async fn get_template(&self, stack: &str) -> ApiResult<Option<String>>;
    /// `GetTemplate` with `ChangeSetName` (the original template of a change set); `None` when
    /// the stack does not exist.
    async fn get_change_set_template(
        &self,
        stack: &str,
        change_set: &str,
    ) -> ApiResult<Option<String>>;
    /// `ListStackResources` (all pages).
    async fn list_stack_resources(&self, stack: &str) -> ApiResult<Vec<StackResource>>;
    /// `DeleteStack`.
    async fn delete_stack(&self, stack: &str) -> ApiResult<()>;
    /// `DescribeType` for a resource type.
    async fn describe_type(&self, type_name: &str) -> ApiResult<TypeStatus>;
    /// `UpdateTerminationProtection`.
    async fn update_termination_protection(&self, stack: &str, enabled: bool) -> ApiResult<()>;
    /// `ContinueUpdateRollback`.
    async fn continue_update_rollback(&self, stack: &str) -> ApiResult<()>;
    /// `SetStackPolicy` with a policy body (JSON).
    async fn set_stack_policy(&self, stack: &str, policy: &str) -> ApiResult<()>;
}

/// Emptying a bucket before its stack deletes it: CloudFormation cannot delete a bucket that
/// still holds objects, and a versioned bucket holds every old version and delete marker too.
#[allow(async_fn_in_trait)]
pub trait Buckets {
    /// Deletes every object version and delete marker of `bucket`, owned by `owner`; returns how
    /// many were deleted. A bucket that no longer exists is empty.
    async fn empty_bucket(&self, bucket: &str, owner: &str) -> ApiResult<usize>;
}

/// The S3 calls that stage a template too large to send inline. Implemented over `aws-sdk-s3` by
/// the same per-region client as [`CloudFormation`] ([`super::sdk`]) and by the fake in tests;
/// the engine decides the bucket, the key and whether to upload. `owner` is the account that
/// must own the bucket (the stack's): every call checks it.
#[allow(async_fn_in_trait)]
pub trait TemplateStaging {
    /// Makes sure `bucket` exists, is owned by `owner`, and is hardened: a missing one is
    /// created; an existing one of another account is refused (`AccessDenied`); the public
    /// access block, SSE-S3 encryption, bucket-owner-enforced ownership and (unless the
    /// endpoint is plain HTTP, an emulator) the TLS-only policy are checked on every call and
    /// re-applied where missing. Returns what was re-applied.
    async fn ensure_staging_bucket(&self, bucket: &str, owner: &str) -> ApiResult<Vec<String>>;
    /// The object's SHA-256 checksum (base64; empty when it has none), `None` when it does
    /// not exist (`HeadObject` with checksum mode).
    async fn staged_sha256(
        &self,
        bucket: &str,
        key: &str,
        owner: &str,
    ) -> ApiResult<Option<String>>;
    /// `PutObject` of a template body with its SHA-256 checksum.
    async fn put_template(&self, bucket: &str, key: &str, body: &str, owner: &str)
        -> ApiResult<()>;
    /// The URL CloudFormation reads the object from: the regional virtual-hosted S3 URL, or
    /// path style under the endpoint override (an emulator).
    fn template_url(&self, bucket: &str, key: &str) -> String;
}

/// Terminal stack statuses that mean the last operation succeeded.
pub fn is_success_status(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" | "DELETE_COMPLETE"
    )
}

/// Whether no operation is running on the stack.
pub fn is_terminal_status(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS")
}
