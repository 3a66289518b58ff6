//! Synthesis of a stack's assets: hash every source, write `<artifact>.assets.json` (and
//! `<artifact>.trees.json` for file trees), and record which parameters deploy fills.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use indexmap::IndexMap;
use rayon::prelude::*;
use serde_json::json;

use super::hash::{directory_hash, hash_file_cached, image_hash};
use super::schema::{
    AssetAttribute, AssetManifest, AssetParameter, FileAssetEntry, FileDestination, FileSource,
    FileTreeEntry, FileTreeManifest, ImageAssetEntry, ImageDestination, ImageSource, OutputLink,
    TreeDestination,
};
use super::{
    hash_file, AssetDecl, AssetKind, DockerIgnore, FileHashCache, HashError, Packaging, TreeBucket,
    ASSET_MANIFEST_ARTIFACT, ASSET_PARAMETER_METADATA, FILE_TREES_ARTIFACT,
    IMMUTABLE_CACHE_CONTROL, SHORT_CACHE_CONTROL,
};
use crate::assembly::{to_json_string, Artifact, MetadataEntry, SCHEMA_VERSION};
use crate::error::Problem;
use crate::resolve::{Effects, Facts};
use crate::tree::{App, NodeId};

/// What a stack's assets add to the assembly.
#[derive(Default)]
pub(crate) struct StackAssets {
    /// Artifacts (id, artifact) to add before the stack's.
    pub artifacts: Vec<(String, Artifact)>,
    /// Files (name, content).
    pub files: Vec<(String, String)>,
    /// The artifact the stack depends on (the asset manifest), if any.
    pub dependency: Option<String>,
}

/// Hashes already computed in this synthesis: a source shared by stages is read once.
pub(crate) type HashCache = HashMap<(PathBuf, String), Result<String, String>>;

fn decls_of<'a>(app: &'a App, facts: &Facts, stack: NodeId) -> Vec<&'a AssetDecl> {
    facts.stacks.get(&stack).map_or_else(Vec::new, |info| {
        info.assets.iter().map(|i| &app.assets[*i]).collect()
    })
}

/// The asset id: the asset's logical ID (from its path below the stack), stable across builds so
/// that an application change rewrites only the asset manifest.
fn asset_id(app: &App, stack: NodeId, node: NodeId) -> String {
    crate::logical_id::logical_id(&app.components_below(stack, node)).unwrap_or_default()
}

/// A path made absolute against the working directory, `.` and `..` removed lexically.
fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `source` relative to the assembly directory, `/`-separated (absolute only when no relative
/// path exists, as between two Windows drives).
fn relative_to(source: &Path, assembly_dir: &Path) -> String {
    let source = normalize(source);
    let base = normalize(assembly_dir);
    let rel = pathdiff::diff_paths(&source, &base).unwrap_or(source);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Where a declaration's hash is kept: its source, normalized, and what else the hash covers.
fn hash_key(d: &AssetDecl) -> (PathBuf, String) {
    let (path, key) = match &d.kind {
        AssetKind::File(f) => match f.packaging {
            Packaging::File => (&f.path, "file".to_owned()),
            Packaging::Zip => (&f.path, "dir".to_owned()),
        },
        AssetKind::Image(i) => (
            &i.directory,
            format!("{:?}", image_source(i, String::new()).hash_settings()),
        ),
        AssetKind::Tree(t) => (&t.directory, "dir".to_owned()),
    };
    (normalize(path), key)
}

/// Reads and hashes a declaration's source (only its changed files, given a `cache`).
fn compute_hash(d: &AssetDecl, cache: Option<&FileHashCache>) -> Result<String, HashError> {
    let none = DockerIgnore::none();
    match &d.kind {
        AssetKind::File(f) => match (f.packaging, cache) {
            (Packaging::File, Some(cache)) => hash_file_cached(&f.path, cache),
            (Packaging::File, None) => hash_file(&f.path),
            (Packaging::Zip, _) => directory_hash(&f.path, &none, &[], cache),
        },
        AssetKind::Image(i) => image_hash(&i.directory, &image_source(i, String::new()), cache),
        AssetKind::Tree(t) => directory_hash(&t.directory, &none, &[], cache),
    }
}

/// The image's source as the asset manifest records it, its context at `directory`.
fn image_source(i: &super::ImageAssetProps, directory: String) -> ImageSource {
    ImageSource {
        directory,
        docker_file: Some(i.dockerfile.clone()),
        docker_build_args: i.build_args.clone(),
        docker_build_target: i.target.clone(),
        platform: Some(i.platform.as_str().to_owned()),
    }
}

/// A declaration's hash from `cache`, or computed (not kept, every byte read) when it is not
/// there ([`hash_all`] put every source there).
fn cached(cache: &HashCache, d: &AssetDecl) -> Result<String, String> {
    match cache.get(&hash_key(d)) {
        Some(hash) => hash.clone(),
        None => compute_hash(d, None).map_err(|e| e.to_string()),
    }
}

/// The hashes of the assets of the synthesized stacks that `known` does not hold (hashed for
/// a batch of stages before), each distinct source read once, on every core (they read files:
/// synthesis computes them while it renders the stacks). Only the files changed since the last
/// run are read, given a `files` cache.
pub(crate) fn hash_all(
    app: &App,
    facts: &Facts,
    known: &HashCache,
    files: Option<&FileHashCache>,
) -> HashCache {
    let mut first: HashMap<(PathBuf, String), &AssetDecl> = HashMap::new();
    for i in facts.stacks.values().flat_map(|info| &info.assets) {
        let d = &app.assets[*i];
        let key = hash_key(d);
        if !known.contains_key(&key) {
            first.entry(key).or_insert(d);
        }
    }
    first
        .into_par_iter()
        .map(|(key, d)| (key, compute_hash(d, files).map_err(|e| e.to_string())))
        .collect()
}

/// The metadata entries of a stack's asset parameters (on the stack's path).
pub(crate) fn stack_metadata(app: &App, facts: &Facts, stack: NodeId) -> Vec<MetadataEntry> {
    decls_of(app, facts, stack)
        .into_iter()
        .filter_map(|d| {
            let parameter = facts.logical_ids.get(&d.parameter?)?.clone();
            let attribute = match d.kind {
                AssetKind::File(_) => AssetAttribute::ObjectKey,
                AssetKind::Image(_) => AssetAttribute::ImageTag,
                AssetKind::Tree(_) => return None,
            };
            let data = AssetParameter {
                parameter,
                asset: asset_id(app, stack, d.node),
                attribute,
            };
            Some(MetadataEntry {
                kind: ASSET_PARAMETER_METADATA.to_owned(),
                data: json!(data),
            })
        })
        .collect()
}

/// Stack dependencies the assets add: a tree published to a bucket named by another stack's
/// output, or invalidated in a distribution another stack holds, waits for that stack.
pub(crate) fn add_stack_dependencies(app: &App, fx: &mut Effects) {
    for d in &app.assets {
        let AssetKind::Tree(t) = &d.kind else {
            continue;
        };
        let Some(own) = app.stack_of(d.node) else {
            continue;
        };
        let outputs = [
            match &t.bucket {
                TreeBucket::Output(o) => Some(*o),
                TreeBucket::Name(_) => None,
            },
            t.invalidate,
        ];
        for o in outputs.into_iter().flatten() {
            if let Some(producer) = app.stack_of(o.node()).filter(|s| *s != own) {
                fx.stack_dependencies
                    .entry(own)
                    .or_default()
                    .insert(producer);
            }
        }
    }
}

/// The asset manifest and tree manifest of one stack, with every source hashed.
pub(crate) fn stack_assets(
    app: &App,
    facts: &Facts,
    stack: NodeId,
    assembly_dir: &Path,
    cache: &HashCache,
    problems: &mut Vec<Problem>,
) -> StackAssets {
    let decls = decls_of(app, facts, stack);
    let Some(info) = facts.stacks.get(&stack) else {
        return StackAssets::default();
    };
    if decls.is_empty() {
        return StackAssets::default();
    }
    let env_key = format!("{}-{}", info.account, info.region);
    let mut manifest = AssetManifest {
        version: SCHEMA_VERSION.to_owned(),
        ..AssetManifest::default()
    };
    let mut trees = FileTreeManifest {
        version: SCHEMA_VERSION.to_owned(),
        ..FileTreeManifest::default()
    };
    let link = |o: crate::tree::OutputRef, what: &str, problems: &mut Vec<Problem>| {
        let producer = app.stack_of(o.node()).and_then(|s| facts.stacks.get(&s));
        match (producer, facts.logical_ids.get(&o.node())) {
            (Some(p), Some(output)) => Some(OutputLink {
                stack: p.artifact_id.clone(),
                output: output.clone(),
            }),
            _ => {
                problems.push(Problem::error(
                    app.path(o.node()),
                    format!("the {what} output of a file tree must be in a stack of the synthesized stages"),
                ));
                None
            }
        }
    };
    for d in decls {
        let id = asset_id(app, stack, d.node);
        let path = app.path(d.node).to_owned();
        let mut fail = |e: String| {
            problems.push(Problem::error(
                path.clone(),
                format!("asset source cannot be hashed: {e}: build the app first or fix the path"),
            ))
        };
        match &d.kind {
            AssetKind::File(f) => {
                let hash = match cached(cache, d) {
                    Ok(h) => h,
                    Err(e) => {
                        fail(e);
                        continue;
                    }
                };
                let ext = match f.packaging {
                    Packaging::Zip => ".zip".to_owned(),
                    Packaging::File => f
                        .path
                        .extension()
                        .map(|e| format!(".{}", e.to_string_lossy()))
                        .unwrap_or_default(),
                };
                let mut destinations = IndexMap::new();
                destinations.insert(
                    env_key.clone(),
                    FileDestination {
                        bucket_name: f.bucket_name.clone(),
                        object_key: format!("{}{hash}{ext}", f.key_prefix),
                        region: Some(info.region.clone()),
                    },
                );
                manifest.files.insert(
                    id,
                    FileAssetEntry {
                        display_name: Some(path),
                        source: FileSource {
                            path: relative_to(&f.path, assembly_dir),
                            packaging: f.packaging,
                        },
                        destinations,
                    },
                );
            }
            AssetKind::Image(i) => {
                let source = image_source(i, relative_to(&i.directory, assembly_dir));
                let hash = match cached(cache, d) {
                    Ok(h) => h,
                    Err(e) => {
                        fail(e);
                        continue;
                    }
                };
                let mut destinations = IndexMap::new();
                destinations.insert(
                    env_key.clone(),
                    ImageDestination {
                        repository_name: i.repository_name.clone(),
                        image_tag: hash,
                        region: Some(info.region.clone()),
                    },
                );
                manifest.docker_images.insert(
                    id,
                    ImageAssetEntry {
                        display_name: Some(path),
                        source,
                        destinations,
                    },
                );
            }
            AssetKind::Tree(t) => {
                let hash = match cached(cache, d) {
                    Ok(h) => h,
                    Err(e) => {
                        fail(e);
                        continue;
                    }
                };
                let (bucket_name, bucket_name_output) = match &t.bucket {
                    TreeBucket::Name(n) => (Some(n.clone()), None),
                    TreeBucket::Output(o) => (None, link(*o, "bucket", problems)),
                };
                let invalidate = t.invalidate.and_then(|o| link(o, "distribution", problems));
                trees.trees.insert(
                    id,
                    FileTreeEntry {
                        display_name: path,
                        path: relative_to(&t.directory, assembly_dir),
                        hash,
                        destination: TreeDestination {
                            region: info.region.clone(),
                            bucket_name,
                            bucket_name_output,
                            prefix: t.prefix.clone(),
                            cache_control: if t.content_hashed {
                                IMMUTABLE_CACHE_CONTROL
                            } else {
                                SHORT_CACHE_CONTROL
                            }
                            .to_owned(),
                            refresh_after_days: t.refresh_after_days,
                            invalidate,
                        },
                    },
                );
            }
        }
    }
    let mut out = StackAssets::default();
    let stack_path = app.path(stack).to_owned();
    let mut add = |suffix: &str, kind: &str, content: Result<String, serde_json::Error>| {
        let artifact_id = format!("{}.{suffix}", info.artifact_id);
        let content = crate::synthesize::written(&stack_path, &artifact_id, content, problems);
        let file = format!("{artifact_id}.json");
        out.files.push((file.clone(), content));
        out.artifacts.push((
            artifact_id.clone(),
            Artifact {
                kind: kind.to_owned(),
                environment: None,
                properties: Some(json!({ "file": file })),
                dependencies: Vec::new(),
                metadata: IndexMap::new(),
                display_name: None,
            },
        ));
        artifact_id
    };
    let dependency = (!manifest.files.is_empty() || !manifest.docker_images.is_empty())
        .then(|| add("assets", ASSET_MANIFEST_ARTIFACT, to_json_string(&manifest)));
    if !trees.trees.is_empty() {
        add("trees", FILE_TREES_ARTIFACT, to_json_string(&trees));
    }
    out.dependency = dependency;
    out
}
