//! The files synthesis writes for assets, as serde types that deploy reads back.
//!
//! `<artifact>.assets.json` is the cloud-assembly schema's asset manifest (`files`,
//! `dockerImages`), so the CDK's `cdk-assets` lists and publishes it. `<artifact>.trees.json` is
//! pantri's own: directories published object by object under a prefix, which the CDK's format
//! has no packaging for.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::Packaging;

/// `<artifact>.assets.json`: the cloud-assembly schema's asset manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetManifest {
    /// The schema version.
    pub version: String,
    /// File assets by asset id.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub files: IndexMap<String, FileAssetEntry>,
    /// Container image assets by asset id.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub docker_images: IndexMap<String, ImageAssetEntry>,
}

/// A file asset: a file, or a directory published as one zip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileAssetEntry {
    /// A human name (the construct path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Where the content is.
    pub source: FileSource,
    /// Where it goes, by `<account>-<region>`.
    pub destinations: IndexMap<String, FileDestination>,
}

/// The source of a file asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileSource {
    /// Relative to the assembly directory.
    pub path: String,
    /// `file` or `zip`.
    pub packaging: Packaging,
}

/// Where a file asset is published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDestination {
    /// The bucket.
    pub bucket_name: String,
    /// The object key (content-hashed).
    pub object_key: String,
    /// The bucket's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A container image asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageAssetEntry {
    /// A human name (the construct path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The build.
    pub source: ImageSource,
    /// Where it goes, by `<account>-<region>`.
    pub destinations: IndexMap<String, ImageDestination>,
}

/// How an image is built.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSource {
    /// The build context, relative to the assembly directory.
    pub directory: String,
    /// The Dockerfile, relative to the context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_file: Option<String>,
    /// `--build-arg`s.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub docker_build_args: BTreeMap<String, String>,
    /// `--target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_build_target: Option<String>,
    /// `--platform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

impl ImageSource {
    /// The build settings an image's hash covers beside its context's files, in the order they
    /// are hashed: the Dockerfile, target, platform and build args. Synth hashes with them and
    /// deploy checks the context against the recorded tag with them: one list for both.
    pub fn hash_settings(&self) -> Vec<(&str, &str)> {
        let mut settings = vec![
            (
                "dockerfile",
                self.docker_file.as_deref().unwrap_or("Dockerfile"),
            ),
            ("target", self.docker_build_target.as_deref().unwrap_or("")),
            ("platform", self.platform.as_deref().unwrap_or("")),
        ];
        settings.extend(
            self.docker_build_args
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        settings
    }
}

/// Where an image is pushed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDestination {
    /// The ECR repository name.
    pub repository_name: String,
    /// The tag (the content hash).
    pub image_tag: String,
    /// The repository's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// `<artifact>.trees.json`: directories published object by object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileTreeManifest {
    /// The schema version of the assembly.
    pub version: String,
    /// Trees by asset id.
    pub trees: IndexMap<String, FileTreeEntry>,
}

/// A directory published as one object per file under a prefix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileTreeEntry {
    /// A human name (the construct path).
    pub display_name: String,
    /// The directory, relative to the assembly directory.
    pub path: String,
    /// The hash of every file's path and content.
    pub hash: String,
    /// Where the objects go.
    pub destination: TreeDestination,
}

/// Where a tree's objects go and how they are served.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TreeDestination {
    /// The bucket's region.
    pub region: String,
    /// The bucket, when its name is known at synth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_name: Option<String>,
    /// The bucket, as an output of a deployed stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_name_output: Option<OutputLink>,
    /// The key prefix (empty for the bucket root, else ending in `/`).
    pub prefix: String,
    /// The `Cache-Control` of every object.
    pub cache_control: String,
    /// Objects of the tree last written longer ago than this are written again (a copy onto
    /// themselves), so a lifecycle expiry only ever removes files of earlier releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_after_days: Option<u32>,
    /// A CloudFront distribution (its id, an output) in which changed paths are invalidated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidate: Option<OutputLink>,
}

/// An output of a stack of the assembly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputLink {
    /// The stack's artifact id.
    pub stack: String,
    /// The output's logical ID.
    pub output: String,
}

/// What an asset parameter of a stack is filled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AssetAttribute {
    /// The image tag of a container image asset.
    ImageTag,
    /// The object key of a file asset.
    ObjectKey,
}

/// A stack parameter that deploy fills from an asset (`pantri:assetParameter` metadata).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetParameter {
    /// The parameter's logical ID.
    pub parameter: String,
    /// The asset id, in the stack's asset manifest.
    pub asset: String,
    /// What of the asset.
    pub attribute: AssetAttribute,
}
