//! The calls publishing makes, as small traits over plain data: S3 objects, an image registry,
//! CloudFront invalidations and the container CLI. Implemented over the AWS SDK ([`super::sdk`])
//! and the `docker`/`finch`/`podman` command ([`super::tool`]), and by fakes in the unit tests.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use crate::deploy::api::ApiResult;

/// An object as `ListObjectsV2` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedObject {
    /// The key.
    pub key: String,
    /// The ETag without quotes: the MD5 of the content for a single-part upload.
    pub etag: String,
    /// When it was last written.
    pub last_modified: Option<SystemTime>,
}

/// The objects under a prefix and how many calls it took to list them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// Key → object.
    pub objects: BTreeMap<String, ListedObject>,
    /// `ListObjectsV2` calls made (one per 1,000 keys).
    pub calls: usize,
}

/// How an object is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectHeaders {
    /// `Content-Type`.
    pub content_type: String,
    /// `Cache-Control`.
    pub cache_control: String,
}

/// The S3 calls publishing files makes.
#[allow(async_fn_in_trait)]
pub trait ObjectStore {
    /// Every object under `prefix` (all pages).
    async fn list(&self, bucket: &str, prefix: &str) -> ApiResult<Listing>;
    /// Whether the object exists (`HeadObject`).
    async fn exists(&self, bucket: &str, key: &str) -> ApiResult<bool>;
    /// `PutObject`.
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        headers: &ObjectHeaders,
    ) -> ApiResult<()>;
    /// Writes the object again with the same content (`CopyObject` onto itself), so its age
    /// starts anew for the bucket's lifecycle.
    async fn refresh(&self, bucket: &str, key: &str, headers: &ObjectHeaders) -> ApiResult<()>;
}

/// How to log in to a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryLogin {
    /// The user name (`AWS` for ECR).
    pub username: String,
    /// The password (the ECR authorization token's second half).
    pub password: String,
}

/// The registry calls publishing images makes.
#[allow(async_fn_in_trait)]
pub trait ImageRegistry {
    /// The registry's host (and port) for repositories of `account` in `region`.
    fn host(&self, account: &str, region: &str) -> String;
    /// Whether `repository` has `tag` (ECR: `DescribeImages`).
    async fn has_tag(&self, repository: &str, tag: &str) -> ApiResult<bool>;
    /// Credentials for `docker login`, or `None` when the registry needs none.
    async fn login(&self) -> ApiResult<Option<RegistryLogin>>;
}

/// The CloudFront call after a deploy.
#[allow(async_fn_in_trait)]
pub trait Invalidations {
    /// `CreateInvalidation` of `paths` (each starting with `/`); returns the invalidation id.
    async fn invalidate(&self, distribution_id: &str, paths: &[String]) -> ApiResult<String>;
}

/// Why the container CLI failed: the command and the last lines it printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolFailure {
    /// The command line, without secrets.
    pub command: String,
    /// The exit status, or why it could not run.
    pub status: String,
    /// The last lines of its output.
    pub tail: Vec<String>,
}

/// The build settings of one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildRequest<'a> {
    /// The build context.
    pub context: &'a Path,
    /// The Dockerfile, relative to the context.
    pub dockerfile: &'a str,
    /// `--build-arg`s.
    pub build_args: &'a BTreeMap<String, String>,
    /// `--target`.
    pub target: Option<&'a str>,
    /// `--platform`.
    pub platform: Option<&'a str>,
    /// The full image reference to tag the result with.
    pub image: &'a str,
}

/// The container CLI (`docker`, `finch`, `podman`): each method runs one command.
#[allow(async_fn_in_trait)]
pub trait ContainerTool {
    /// The program's name, for messages.
    fn name(&self) -> &str;
    /// `login --username U --password-stdin HOST`.
    async fn login(&self, host: &str, login: &RegistryLogin) -> Result<(), ToolFailure>;
    /// `build` with the request's settings, tagged `request.image`.
    async fn build(&self, request: &BuildRequest<'_>) -> Result<(), ToolFailure>;
    /// `push IMAGE`.
    async fn push(&self, image: &str) -> Result<(), ToolFailure>;
}
