//! Logical IDs from construct paths, with the AWS CDK's algorithm (`makeUniqueId`), so that a
//! stack moved from the CDK keeps its resources.
//!
//! The path is taken relative to the stack. `Default` components are dropped entirely;
//! `Resource` components are dropped from the readable part only. A one-component path is used
//! as it is (minus non-alphanumerics), so hand-written templates migrate unchanged. Otherwise the
//! ID is the readable part (at most 240 characters) followed by the first 8 hex digits of the MD5
//! of the path, upper case.

use md5::{Digest, Md5};

const HIDDEN_ID: &str = "Default";
const HIDDEN_FROM_HUMAN_ID: &str = "Resource";
const HASH_LEN: usize = 8;
const MAX_HUMAN_LEN: usize = 240;
const MAX_ID_LEN: usize = 255;

/// The logical ID of an element at `components` (the path below its stack).
///
/// Returns `None` for an empty path (or one made only of `Default`).
pub fn logical_id<S: AsRef<str>>(components: &[S]) -> Option<String> {
    let components: Vec<&str> = components
        .iter()
        .map(AsRef::as_ref)
        .filter(|c| *c != HIDDEN_ID)
        .collect();
    if components.is_empty() {
        return None;
    }
    if components.len() == 1 {
        let candidate = alphanumeric(components[0]);
        if candidate.len() <= MAX_ID_LEN {
            return Some(candidate);
        }
    }
    let hash = path_hash(&components);
    let mut human: String = remove_dupes(&components)
        .into_iter()
        .filter(|c| *c != HIDDEN_FROM_HUMAN_ID)
        .map(alphanumeric)
        .collect();
    human.truncate(MAX_HUMAN_LEN);
    Some(human + &hash)
}

/// The first `HASH_LEN` upper-case hex digits of the MD5 of the joined path: only the bytes
/// they show are formatted (one `String`, no allocation per byte: a logical ID is computed
/// for every element, 12,000 of them at 100 stages).
fn path_hash(components: &[&str]) -> String {
    use std::fmt::Write;
    let digest = Md5::digest(components.join("/").as_bytes());
    let mut hex = String::with_capacity(HASH_LEN);
    for b in digest.iter().take(HASH_LEN / 2) {
        let _ = write!(hex, "{b:02X}");
    }
    hex
}

fn alphanumeric(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Drops a component when the previous kept one ends with it (`Service/Service` → `Service`).
fn remove_dupes<'a>(components: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for c in components {
        if out.last().is_none_or(|last| !last.ends_with(c)) {
            out.push(c);
        }
    }
    out
}

/// True when `id` is a valid CloudFormation logical ID: alphanumeric, 1 to 255 characters.
pub fn is_valid(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Vectors {
        cases: Vec<Case>,
    }
    #[derive(serde::Deserialize)]
    struct Case {
        path: String,
        logical_id: String,
    }

    #[test]
    fn reproduces_every_aws_cdk_vector() {
        let text = include_str!("../tests/data/logical-ids.json");
        let vectors: Vectors = serde_json::from_str(text).expect("vectors parse");
        assert!(vectors.cases.len() >= 10, "the vector file lost its cases");
        let failures: Vec<String> = vectors
            .cases
            .iter()
            .filter_map(|c| {
                let parts: Vec<&str> = c.path.split('/').collect();
                let got = logical_id(&parts);
                (got.as_deref() != Some(c.logical_id.as_str()))
                    .then(|| format!("{}: expected {}, got {:?}", c.path, c.logical_id, got))
            })
            .collect();
        assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
    }

    #[test]
    fn empty_and_default_only_paths_have_no_id() {
        assert_eq!(logical_id::<&str>(&[]), None);
        assert_eq!(logical_id(&["Default"]), None);
    }

    #[test]
    fn validity() {
        assert!(is_valid("Bucket83908E77"));
        assert!(!is_valid("my-bucket"));
        assert!(!is_valid(""));
        assert!(!is_valid(&"A".repeat(256)));
    }
}
