//! Publishing a stack's assets before its change set: container images to ECR, files and file
//! trees to S3, then (after the deploy) CloudFront invalidations of the tree paths that changed.
//!
//! [`AssemblyAssets`] reads what synthesis wrote (the asset manifests, the tree manifests and
//! the `pantri:assetParameter` links); [`Publisher`] is the engine's [`StackHooks`](crate::deploy::hooks::StackHooks) over the
//! traits of [`api`], so the same code runs over the AWS SDK ([`sdk`], [`tool`]) and over fakes.
//! Everything is skipped when already published: an unchanged deploy lists each tree's prefix
//! once, asks ECR once per image and uploads nothing.

pub mod api;
pub mod files;
pub mod images;
mod publisher;
pub mod sdk;
pub mod tool;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pantri_synth::assembly::StackArtifact;
use pantri_synth::asset::schema::{
    AssetAttribute, AssetManifest, AssetParameter, FileTreeManifest,
};
use pantri_synth::asset::{ASSET_MANIFEST_ARTIFACT, ASSET_PARAMETER_METADATA};
use pantri_synth::{CloudAssembly, SynthError};

pub use publisher::{PublishMode, Publisher};

use crate::deploy::error::ApiError;

/// What to do about a source that is no longer what the assembly recorded. Publishing hashes
/// every source from its bytes; synthesis may have used hashes kept between runs
/// ([`pantri_synth::asset::FileHashCache`]), so the one case where synthesizing again would not
/// help (a kept hash that is wrong) is named too.
pub(crate) const SYNTHESIZE_AGAIN: &str = "synthesize again (should nothing have changed, \
     synthesize with PANTRI_CACHE_DIR set empty: the file hashes kept between runs are wrong)";

/// Why an asset could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The source is missing, unreadable or no longer what the assembly recorded.
    #[error("{0}")]
    Source(String),
    /// An AWS call failed.
    #[error("{target}: {source}")]
    Api {
        /// The bucket or repository.
        target: String,
        /// The call's error.
        source: ApiError,
    },
    /// Publishing would send something where it must not go.
    #[error("{0}")]
    Refused(String),
    /// The container CLI failed.
    #[error("`{}` failed ({}){}", .0.command, .0.status, render_tail(&.0.tail))]
    Tool(api::ToolFailure),
}

fn render_tail(tail: &[String]) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = tail.iter().map(|l| format!("\n  | {l}")).collect();
    format!("; its last lines:{}", lines.concat())
}

impl PublishError {
    fn api(target: &str, source: ApiError) -> Self {
        PublishError::Api {
            target: target.to_owned(),
            source,
        }
    }
}

/// The assets of one stack, as synthesis wrote them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackAssets {
    /// Files and images (the CDK's asset manifest).
    pub manifest: AssetManifest,
    /// File trees (pantri's tree manifest).
    pub trees: FileTreeManifest,
    /// Parameters filled from assets.
    pub parameters: Vec<AssetParameter>,
}

impl StackAssets {
    /// Whether the stack has nothing to publish.
    pub fn is_empty(&self) -> bool {
        self.manifest.files.is_empty()
            && self.manifest.docker_images.is_empty()
            && self.trees.trees.is_empty()
    }

    /// Every asset by content hash (image tag, object key, tree hash), in a stable order.
    pub fn fingerprint(&self) -> Vec<crate::deploy::planfile::PlannedAsset> {
        use crate::deploy::planfile::PlannedAsset;
        let asset = |id: &String, kind: &str, hash: &str| PlannedAsset {
            id: id.clone(),
            kind: kind.to_owned(),
            hash: hash.to_owned(),
        };
        let mut all = Vec::new();
        for (id, e) in &self.manifest.docker_images {
            all.extend(
                e.destinations
                    .values()
                    .map(|d| asset(id, "image", &d.image_tag)),
            );
        }
        for (id, e) in &self.manifest.files {
            all.extend(
                e.destinations
                    .values()
                    .map(|d| asset(id, "file", &d.object_key)),
            );
        }
        for (id, t) in &self.trees.trees {
            all.push(asset(id, "tree", &t.hash));
        }
        all
    }

    /// The values of the asset parameters: `(parameter, value)`.
    pub fn parameter_values(&self) -> Vec<(String, String)> {
        self.parameters
            .iter()
            .filter_map(|p| {
                let value = match p.attribute {
                    AssetAttribute::ImageTag => self
                        .manifest
                        .docker_images
                        .get(&p.asset)?
                        .destinations
                        .values()
                        .next()?
                        .image_tag
                        .clone(),
                    AssetAttribute::ObjectKey => self
                        .manifest
                        .files
                        .get(&p.asset)?
                        .destinations
                        .values()
                        .next()?
                        .object_key
                        .clone(),
                };
                Some((p.parameter.clone(), value))
            })
            .collect()
    }
}

/// The assets of every stack of an assembly, and the directory their sources are relative to.
#[derive(Clone, Debug, Default)]
pub struct AssemblyAssets {
    /// The assembly directory.
    pub dir: PathBuf,
    /// Stack artifact id → its assets (only stacks that have some).
    pub stacks: BTreeMap<String, StackAssets>,
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, SynthError> {
    serde_json::from_str(text).map_err(|e| SynthError::Parse {
        path: PathBuf::from(file),
        message: e.to_string(),
    })
}

impl AssemblyAssets {
    /// Reads the assets of the assembly in `dir`.
    pub fn read(dir: &Path) -> Result<Self, SynthError> {
        Self::from_assembly(&CloudAssembly::read(dir)?, dir)
    }

    /// The assets of an assembly read (or synthesized) from `dir`.
    pub fn from_assembly(assembly: &CloudAssembly, dir: &Path) -> Result<Self, SynthError> {
        let artifacts = &assembly.manifest.artifacts;
        let file_of = |id: &str| -> Option<(String, &String)> {
            let a = artifacts.get(id)?;
            let file = a.properties.as_ref()?.get("file")?.as_str()?.to_owned();
            let text = assembly.files.get(&file)?;
            Some((file, text))
        };
        let mut stacks = BTreeMap::new();
        for (id, artifact) in artifacts {
            if artifact.kind != "aws:cloudformation:stack" {
                continue;
            }
            let mut assets = StackAssets::default();
            for dep in &artifact.dependencies {
                if artifacts
                    .get(dep)
                    .is_some_and(|a| a.kind == ASSET_MANIFEST_ARTIFACT)
                {
                    if let Some((file, text)) = file_of(dep) {
                        let m: AssetManifest = parse(&file, text)?;
                        assets.manifest.files.extend(m.files);
                        assets.manifest.docker_images.extend(m.docker_images);
                    }
                }
            }
            if let Some((file, text)) = file_of(&format!("{id}.trees")) {
                assets.trees = parse(&file, text)?;
            }
            for entry in artifact.metadata.values().flatten() {
                if entry.kind == ASSET_PARAMETER_METADATA {
                    let p: AssetParameter =
                        serde_json::from_value(entry.data.clone()).map_err(|e| {
                            SynthError::Parse {
                                path: PathBuf::from("manifest.json"),
                                message: format!("artifact {id}: {e}"),
                            }
                        })?;
                    assets.parameters.push(p);
                }
            }
            if !assets.is_empty() || !assets.parameters.is_empty() {
                stacks.insert(id.clone(), assets);
            }
        }
        Ok(AssemblyAssets {
            dir: dir.to_path_buf(),
            stacks,
        })
    }

    /// The assets of a stack (empty when it has none).
    pub fn of(&self, stack: &StackArtifact) -> Option<&StackAssets> {
        self.stacks.get(&stack.id)
    }

    /// One row per asset: stack, asset id, kind, source (relative to the assembly) and
    /// destination, for `pantri ls --assets`.
    pub fn rows(&self, stacks: &[StackArtifact]) -> Vec<[String; 5]> {
        let mut rows = Vec::new();
        for stack in stacks {
            let Some(a) = self.of(stack) else { continue };
            let dn = &stack.display_name;
            for (id, e) in &a.manifest.docker_images {
                for d in e.destinations.values() {
                    rows.push([
                        dn.clone(),
                        id.clone(),
                        "image".into(),
                        e.source.directory.clone(),
                        format!("ecr:{}:{}", d.repository_name, short(&d.image_tag)),
                    ]);
                }
            }
            for (id, e) in &a.manifest.files {
                for d in e.destinations.values() {
                    rows.push([
                        dn.clone(),
                        id.clone(),
                        format!("{:?}", e.source.packaging).to_lowercase(),
                        e.source.path.clone(),
                        format!("s3://{}/{}", d.bucket_name, d.object_key),
                    ]);
                }
            }
            for (id, t) in &a.trees.trees {
                let d = &t.destination;
                let bucket = match (&d.bucket_name, &d.bucket_name_output) {
                    (Some(b), _) => b.clone(),
                    (None, Some(o)) => format!("<{}.{}>", o.stack, o.output),
                    (None, None) => "?".into(),
                };
                rows.push([
                    dn.clone(),
                    id.clone(),
                    "tree".into(),
                    t.path.clone(),
                    format!("s3://{bucket}/{}", d.prefix),
                ]);
            }
        }
        rows
    }
}

/// The first 12 characters of a hash, as shown to people.
fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}
