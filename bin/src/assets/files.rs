//! Publishing files to S3: a file tree object by object (one listing, then only what is missing
//! or changed), and a single-file asset at its content-hashed key (skipped when it exists).

use std::path::Path;
use std::time::{Duration, SystemTime};

use md5::{Digest, Md5};
use pantri_synth::asset::schema::{FileAssetEntry, FileDestination, FileTreeEntry};
use pantri_synth::asset::{hash_file, hash_of_files, list_directory, DockerIgnore, Packaging};

use super::api::{ObjectHeaders, ObjectStore};
use super::{PublishError, SYNTHESIZE_AGAIN};

/// What publishing a tree did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeReport {
    /// Files in the tree.
    pub files: usize,
    /// Objects written (missing or changed).
    pub uploaded: usize,
    /// Objects rewritten so the lifecycle does not expire them.
    pub refreshed: usize,
    /// Listing calls made.
    pub listings: usize,
    /// Keys whose content changed (existing objects overwritten), for invalidation.
    pub changed: Vec<String>,
}

/// The `Content-Type` S3 serves for a key: from the file name, `application/octet-stream` when
/// the extension says nothing; text gets `charset=utf-8`.
pub fn content_type(key: &str) -> String {
    let mime = mime_guess::from_path(key).first_or_octet_stream();
    let essence = mime.essence_str();
    let texty = mime.type_() == mime_guess::mime::TEXT
        || matches!(
            essence,
            "application/javascript" | "application/json" | "image/svg+xml"
        );
    if texty {
        format!("{essence}; charset=utf-8")
    } else {
        essence.to_owned()
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>, PublishError> {
    std::fs::read(path)
        .map_err(|e| PublishError::Source(format!("cannot read {}: {e}", path.display())))
}

/// Checks that the source still has the content the assembly recorded: a rebuilt app after a
/// reviewed synth would otherwise publish files the manifest does not describe.
fn check_unchanged(recorded: &str, now: &str, source: &Path) -> Result<(), PublishError> {
    if recorded == now {
        return Ok(());
    }
    Err(PublishError::Source(format!(
        "{} changed since the assembly was synthesized (hash {} then, {} now): {SYNTHESIZE_AGAIN}",
        source.display(),
        &recorded[..recorded.len().min(12)],
        &now[..now.len().min(12)]
    )))
}

/// Publishes a tree to `bucket`: lists the prefix once, writes each file whose object is missing
/// or has other content (by ETag, the MD5 of a single-part upload), rewrites objects older than
/// the refresh age, and leaves every other object alone (files of earlier releases stay until
/// the bucket's lifecycle expires them).
pub async fn publish_tree<S: ObjectStore>(
    store: &S,
    tree: &FileTreeEntry,
    source: &Path,
    bucket: &str,
    now: SystemTime,
) -> Result<TreeReport, PublishError> {
    // The files are read once: their hashes are both the tree's (checked against the
    // assembly's, never taken from the file-hash cache) and what is compared with the bucket.
    let files = list_directory(source, &DockerIgnore::none())
        .map_err(|e| PublishError::Source(e.to_string()))?;
    check_unchanged(&tree.hash, &hash_of_files(&files, &[]), source)?;
    let dest = &tree.destination;
    let listing = store
        .list(bucket, &dest.prefix)
        .await
        .map_err(|e| PublishError::api(bucket, e))?;
    let refresh_after = dest
        .refresh_after_days
        .map(|d| Duration::from_secs(u64::from(d) * 86_400));
    let mut report = TreeReport {
        files: files.len(),
        listings: listing.calls,
        ..TreeReport::default()
    };
    for f in &files {
        let key = format!("{}{}", dest.prefix, f.relative);
        let headers = ObjectHeaders {
            content_type: content_type(&key),
            cache_control: dest.cache_control.clone(),
        };
        let body = read(&source.join(&f.relative))?;
        let existing = listing.objects.get(&key);
        match existing {
            Some(o) if o.etag == md5_hex(&body) => {
                let old = refresh_after.is_some_and(|limit| {
                    o.last_modified
                        .and_then(|t| now.duration_since(t).ok())
                        .is_some_and(|age| age > limit)
                });
                if old {
                    store
                        .refresh(bucket, &key, &headers)
                        .await
                        .map_err(|e| PublishError::api(bucket, e))?;
                    report.refreshed += 1;
                }
            }
            _ => {
                store
                    .put(bucket, &key, body, &headers)
                    .await
                    .map_err(|e| PublishError::api(bucket, e))?;
                report.uploaded += 1;
                if existing.is_some() {
                    report.changed.push(key);
                }
            }
        }
    }
    Ok(report)
}

/// Publishes a `file` asset to its content-hashed key unless the key exists. Returns whether
/// it uploaded.
pub async fn publish_file<S: ObjectStore>(
    store: &S,
    entry: &FileAssetEntry,
    dest: &FileDestination,
    bucket: &str,
    source: &Path,
) -> Result<bool, PublishError> {
    if entry.source.packaging == Packaging::Zip {
        return Err(PublishError::Source(format!(
            "{}: zip packaging is published by the CDK's cdk-assets, not by pantri deploy yet: \
             publish it with `cdk-assets publish` or use a file tree",
            source.display()
        )));
    }
    if store
        .exists(bucket, &dest.object_key)
        .await
        .map_err(|e| PublishError::api(bucket, e))?
    {
        return Ok(false);
    }
    let hash = hash_file(source).map_err(|e| PublishError::Source(e.to_string()))?;
    if !dest.object_key.contains(&hash) {
        return Err(PublishError::Source(format!(
            "{} changed since the assembly was synthesized: {SYNTHESIZE_AGAIN}",
            source.display()
        )));
    }
    let headers = ObjectHeaders {
        content_type: content_type(&dest.object_key),
        cache_control: pantri_synth::asset::IMMUTABLE_CACHE_CONTROL.to_owned(),
    };
    store
        .put(bucket, &dest.object_key, read(source)?, &headers)
        .await
        .map_err(|e| PublishError::api(bucket, e))?;
    Ok(true)
}
