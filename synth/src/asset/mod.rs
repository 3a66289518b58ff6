//! Assets: what a stack needs published before it deploys — files for S3, container images for
//! ECR — declared by constructs, hashed by synthesis and written in the CDK's asset-manifest
//! format, so that the CDK's `cdk-assets` lists and publishes them as well as `pantri deploy`.
//!
//! Three kinds:
//! - a *file asset* ([`Scope::file_asset`]): a file, or a directory zipped, at a content-hashed
//!   key of a bucket; the key reaches the template as a parameter deploy fills;
//! - a *container image asset* ([`Scope::image_asset`]): a build context, Dockerfile, build
//!   arguments, target and platform, pushed to an ECR repository under a content-hashed tag;
//!   the tag reaches the template as a parameter deploy fills;
//! - a *file tree* ([`Scope::file_tree`]): a directory published object by object under a
//!   prefix (a static site), pantri's own kind, written beside the asset manifest.
//!
//! Templates never carry a hash: an application-only change rewrites the asset manifests and
//! nothing else. Sources are recorded relative to the assembly directory, never copied into it
//! (a `node_modules`-sized build context would otherwise be duplicated on every synth).

mod file_cache;
mod hash;
pub mod schema;
mod write;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::scope::Scope;
use crate::tree::{NodeId, OutputRef, ParamRef, Parameter};
use crate::value::Str;

pub use file_cache::{FileHashCache, PRUNE_EVERY, SETTLED};
pub use hash::{
    hash_directory, hash_file, hash_image, hash_of_files, list_directory, DockerIgnore, HashError,
    HashedFile,
};
pub(crate) use write::{add_stack_dependencies, hash_all, stack_assets, stack_metadata, HashCache};

/// The artifact type of an asset manifest (the cloud-assembly schema's).
pub const ASSET_MANIFEST_ARTIFACT: &str = "cdk:asset-manifest";
/// The artifact type of pantri's file-tree manifest. The CDK's tools skip artifact types they do
/// not know, so it is not a dependency of the stack artifact (they refuse dependencies on an
/// artifact they skipped); pantri finds it by its id, `<stack artifact>.trees`.
pub const FILE_TREES_ARTIFACT: &str = "pantri:file-trees";
/// Metadata type of a stack parameter deploy fills from an asset.
pub const ASSET_PARAMETER_METADATA: &str = "pantri:assetParameter";
/// `Cache-Control` of objects whose names change with their content.
pub const IMMUTABLE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of objects whose names stay while their content changes.
pub const SHORT_CACHE_CONTROL: &str = "public, max-age=300, must-revalidate";

/// How a file asset is packaged (the cloud-assembly schema's two packagings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Packaging {
    /// The file as it is.
    #[default]
    File,
    /// A directory, as one zip archive.
    Zip,
}

/// Props of [`Scope::file_asset`].
#[derive(Clone, Debug, PartialEq)]
pub struct FileAssetProps {
    /// The file or directory (relative to the working directory, or absolute).
    pub path: PathBuf,
    /// File or zip.
    pub packaging: Packaging,
    /// The destination bucket; may contain `${AWS::AccountId}` and `${AWS::Region}`.
    pub bucket_name: String,
    /// Prefix of the object key, before the content hash.
    pub key_prefix: String,
}

/// The CPU architecture an image is built for; match the task definition's `RuntimePlatform`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Platform {
    /// `linux/amd64` (default; ECS's `X86_64`).
    #[default]
    LinuxAmd64,
    /// `linux/arm64` (ECS's `ARM64`, Graviton).
    LinuxArm64,
}

impl Platform {
    /// `linux/amd64` or `linux/arm64`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::LinuxAmd64 => "linux/amd64",
            Platform::LinuxArm64 => "linux/arm64",
        }
    }
}

/// Props of [`Scope::image_asset`].
#[derive(Clone, Debug, PartialEq)]
pub struct ImageAssetProps {
    /// The build context (relative to the working directory, or absolute).
    pub directory: PathBuf,
    /// The ECR repository to push to (its name, in the stack's account and region).
    pub repository_name: String,
    /// The Dockerfile, relative to the context. Default `Dockerfile`.
    pub dockerfile: String,
    /// `--build-arg`s (part of the hash).
    pub build_args: BTreeMap<String, String>,
    /// `--target`, a stage of a multi-stage Dockerfile.
    pub target: Option<String>,
    /// `--platform`. Default `linux/amd64`.
    pub platform: Platform,
}

impl ImageAssetProps {
    /// A build of `directory`'s `Dockerfile` for `linux/amd64`, pushed to `repository_name`.
    pub fn new(directory: impl Into<PathBuf>, repository_name: impl Into<String>) -> Self {
        ImageAssetProps {
            directory: directory.into(),
            repository_name: repository_name.into(),
            dockerfile: "Dockerfile".to_owned(),
            build_args: BTreeMap::new(),
            target: None,
            platform: Platform::default(),
        }
    }
}

/// The bucket a file tree goes to.
#[derive(Clone, Debug, PartialEq)]
pub enum TreeBucket {
    /// A bucket name known at synth.
    Name(String),
    /// An output of a stack (a bucket with a generated name): deploy reads it once that stack
    /// is deployed. The tree's stack depends on the output's stack.
    Output(OutputRef),
}

/// Props of [`Scope::file_tree`].
#[derive(Clone, Debug, PartialEq)]
pub struct FileTreeProps {
    /// The directory (relative to the working directory, or absolute).
    pub directory: PathBuf,
    /// The bucket.
    pub bucket: TreeBucket,
    /// Key prefix: empty for the bucket root, else ending in `/` (`_next/static/`).
    pub prefix: String,
    /// Whether every file name changes with its content (a bundler's output): objects are then
    /// cached for a year as immutable and never need an invalidation; otherwise they are
    /// cached for five minutes and invalidated when they change.
    pub content_hashed: bool,
    /// Rewrite objects of the current tree older than this many days, so a bucket lifecycle
    /// that expires objects after twice as many days only removes files of earlier releases.
    pub refresh_after_days: Option<u32>,
    /// An output holding a CloudFront distribution id: changed objects of a tree that is not
    /// content-hashed are invalidated there after the output's stack deploys.
    pub invalidate: Option<OutputRef>,
}

/// A declared asset, kept in the app until synthesis hashes and writes it.
#[derive(Clone, Debug)]
pub(crate) struct AssetDecl {
    /// The asset's construct node.
    pub node: NodeId,
    pub kind: AssetKind,
    /// The parameter deploy fills (file and image assets).
    pub parameter: Option<NodeId>,
}

#[derive(Clone, Debug)]
pub(crate) enum AssetKind {
    File(FileAssetProps),
    Image(ImageAssetProps),
    Tree(FileTreeProps),
}

/// A file asset: its object key, a parameter deploy fills.
#[derive(Clone, Copy, Debug)]
pub struct FileAsset {
    node: NodeId,
    object_key: ParamRef,
}

impl FileAsset {
    /// The asset's construct node.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The object key (a `Ref` of the parameter deploy fills with `<prefix><hash>.<ext>`).
    pub fn object_key(&self) -> Str {
        self.object_key.value()
    }
}

/// A container image asset: its tag, a parameter deploy fills.
#[derive(Clone, Copy, Debug)]
pub struct ImageAsset {
    node: NodeId,
    image_tag: ParamRef,
}

impl ImageAsset {
    /// The asset's construct node.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The image tag (a `Ref` of the parameter deploy fills with the content hash).
    pub fn image_tag(&self) -> Str {
        self.image_tag.value()
    }

    /// The parameter itself.
    pub fn image_tag_parameter(&self) -> ParamRef {
        self.image_tag
    }
}

/// A file tree.
#[derive(Clone, Copy, Debug)]
pub struct FileTree {
    node: NodeId,
}

impl FileTree {
    /// The tree's construct node.
    pub fn node(&self) -> NodeId {
        self.node
    }
}

fn filled_parameter(description: String) -> Parameter {
    Parameter {
        // Filled by deploy: no default, so a template can never run a stale location silently.
        ..Parameter::string().description(description)
    }
}

impl Scope<'_> {
    /// Adds a file asset under this scope, with a parameter (`ObjectKey`) for its key.
    pub fn file_asset(&mut self, id: &str, props: FileAssetProps) -> FileAsset {
        let mut s = self.construct(id, "pantri.FileAsset");
        let node = s.node();
        let object_key = s.parameter(
            "ObjectKey",
            filled_parameter(format!(
                "Filled by pantri deploy: the S3 key of asset {}",
                props.path.display()
            )),
        );
        s.app().assets.push(AssetDecl {
            node,
            kind: AssetKind::File(props),
            parameter: Some(object_key.node()),
        });
        FileAsset { node, object_key }
    }

    /// Adds a container image asset under this scope, with a parameter (`ImageTag`) for its tag.
    pub fn image_asset(&mut self, id: &str, props: ImageAssetProps) -> ImageAsset {
        let mut s = self.construct(id, "pantri.ImageAsset");
        let node = s.node();
        let image_tag = s.parameter(
            "ImageTag",
            filled_parameter(format!(
                "Filled by pantri deploy: the tag of the image built from {}",
                props.directory.display()
            )),
        );
        s.app().assets.push(AssetDecl {
            node,
            kind: AssetKind::Image(props),
            parameter: Some(image_tag.node()),
        });
        ImageAsset { node, image_tag }
    }

    /// Adds a file tree under this scope (no template element: the bucket's name or an output
    /// is all it needs).
    pub fn file_tree(&mut self, id: &str, props: FileTreeProps) -> FileTree {
        let mut s = self.construct(id, "pantri.FileTree");
        let node = s.node();
        if !props.prefix.is_empty() && !props.prefix.ends_with('/') {
            s.error(format!(
                "file tree prefix {:?} must be empty or end with '/'",
                props.prefix
            ));
        }
        if props.prefix.starts_with('/') {
            s.error(format!(
                "file tree prefix {:?} must not start with '/': S3 keys have no leading slash",
                props.prefix
            ));
        }
        s.app().assets.push(AssetDecl {
            node,
            kind: AssetKind::Tree(props),
            parameter: None,
        });
        FileTree { node }
    }
}
