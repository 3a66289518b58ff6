//! The old side of `pantri diff` when it is another cloud assembly: a directory, or the
//! `cdk.out` committed at a git revision (the pull-request case: `--baseline git:origin/main`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pantri_synth::assembly::{parse_template, Manifest};
use pantri_synth::diff::links;
use pantri_synth::{CloudAssembly, SynthError};

/// Why a baseline could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The directory is not a readable cloud assembly.
    #[error("baseline {dir}: {source}", dir = .dir.display())]
    Directory {
        /// The directory given.
        dir: PathBuf,
        /// What is wrong with it.
        source: SynthError,
    },
    /// git could not be run.
    #[error("cannot run git: {0}")]
    Git(std::io::Error),
    /// git ran and refused (not a repository, for example).
    #[error("git cat-file in {dir} failed: {message}", dir = .dir.display())]
    GitFailed {
        /// The repository directory.
        dir: PathBuf,
        /// What git said.
        message: String,
    },
    /// The revision has no such file.
    #[error("{rev}:cdk.out/{file} does not exist (is {rev} a revision with a committed cdk.out?)")]
    Missing {
        /// The revision.
        rev: String,
        /// The file under `cdk.out/`.
        file: String,
    },
    /// A committed file does not parse.
    #[error("{rev}:cdk.out/{file}: {message}")]
    Unreadable {
        /// The revision.
        rev: String,
        /// The file under `cdk.out/`.
        file: String,
        /// The parser's error.
        message: String,
    },
}

/// Reads a baseline given as `DIR` or `git:REF` (the `cdk.out` committed at REF, in the
/// repository around the current directory).
pub fn read(spec: &str) -> Result<CloudAssembly, BaselineError> {
    match spec.strip_prefix("git:") {
        Some(rev) => git(Path::new("."), rev),
        None => CloudAssembly::read(Path::new(spec)).map_err(|source| BaselineError::Directory {
            dir: PathBuf::from(spec),
            source,
        }),
    }
}

/// The cloud assembly committed at `rev` under `cdk.out/` (relative to `dir`, inside a git
/// repository): its manifest and every stack's template. Two `git cat-file --batch` processes
/// read it (the manifest, then all templates), not one process per file.
pub fn git(dir: &Path, rev: &str) -> Result<CloudAssembly, BaselineError> {
    let unreadable = |file: &str, message: String| BaselineError::Unreadable {
        rev: rev.to_owned(),
        file: file.to_owned(),
        message,
    };
    let manifest_text = cat_files(dir, rev, &["manifest.json"])?.remove(0);
    let manifest: Manifest = serde_json::from_str(&manifest_text)
        .map_err(|e| unreadable("manifest.json", e.to_string()))?;
    let templates: Vec<&str> = manifest
        .artifacts
        .values()
        .filter_map(|a| a.properties.as_ref()?.get("templateFile")?.as_str())
        .collect();
    let texts = cat_files(dir, rev, &templates)?;
    let mut files = BTreeMap::new();
    for (file, text) in templates.into_iter().zip(texts) {
        // A JSON template is only checked here (the diff parses those that differ): the skim
        // accepts exactly what parsing accepts, and parsing says why it does not.
        let json = !(file.ends_with(".yaml") || file.ends_with(".yml"));
        if !json || links::skim(&text).is_err() {
            parse_template(file, &text).map_err(|e| unreadable(file, e.to_string()))?;
        }
        files.insert(file.to_owned(), text);
    }
    files.insert("manifest.json".to_owned(), manifest_text);
    Ok(CloudAssembly { manifest, files })
}

/// The contents of `cdk.out/<file>` at `rev` for each of `files`, in order.
fn cat_files(dir: &Path, rev: &str, files: &[&str]) -> Result<Vec<String>, BaselineError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(BaselineError::Git)?;
    let requests: String = files
        .iter()
        .map(|f| format!("{rev}:./cdk.out/{f}\n"))
        .collect();
    // Written from a thread: git answers while it reads, and a long request list would fill
    // both pipes if we wrote it all before reading.
    let mut stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            // A write error means git exited; its status and stderr say why.
            let _ = stdin.write_all(requests.as_bytes());
        }
    });
    let mut contents = Vec::with_capacity(files.len());
    let mut missing = None;
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        for file in files {
            let mut header = String::new();
            if reader.read_line(&mut header).map_err(BaselineError::Git)? == 0 {
                break;
            }
            // `<object> missing` or `<sha> <type> <size>`.
            let size = match header.trim_end().rsplit_once(' ') {
                Some((_, "missing")) | None => {
                    missing.get_or_insert_with(|| (*file).to_owned());
                    continue;
                }
                Some((_, size)) => size.parse::<usize>().unwrap_or(0),
            };
            let mut body = vec![0; size + 1];
            reader.read_exact(&mut body).map_err(BaselineError::Git)?;
            body.pop();
            contents.push(
                String::from_utf8(body).map_err(|e| BaselineError::Unreadable {
                    rev: rev.to_owned(),
                    file: (*file).to_owned(),
                    message: e.to_string(),
                })?,
            );
        }
    }
    let _ = writer.join();
    let output = child.wait_with_output().map_err(BaselineError::Git)?;
    if !output.status.success() {
        return Err(BaselineError::GitFailed {
            dir: dir.to_owned(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    if let Some(file) = missing {
        return Err(BaselineError::Missing {
            rev: rev.to_owned(),
            file,
        });
    }
    if contents.len() != files.len() {
        return Err(BaselineError::GitFailed {
            dir: dir.to_owned(),
            message: format!("answered {} of {} files", contents.len(), files.len()),
        });
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_in(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn reads_the_committed_assembly_and_names_what_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("cdk.out");
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cdk.out");
        std::fs::create_dir(&out).expect("mkdir");
        for entry in std::fs::read_dir(&committed).expect("the committed cdk.out") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), out.join(entry.file_name())).expect("copy");
        }
        git_in(dir.path(), &["init", "-q"]);
        git_in(dir.path(), &["add", "."]);
        git_in(dir.path(), &["commit", "-q", "-m", "base"]);

        let read = git(dir.path(), "HEAD").expect("the committed assembly");
        let stacks = read.stacks().expect("stacks");
        assert_eq!(stacks.len(), 13, "every stack of the reference app");
        assert_eq!(read.files.len(), 14, "the manifest and 13 templates");
        for (file, text) in &read.files {
            let on_disk = std::fs::read_to_string(committed.join(file)).expect("file");
            assert_eq!(text, &on_disk, "{file}, byte for byte");
        }

        let err = git(dir.path(), "no-such-rev").expect_err("no such revision");
        assert_eq!(
            err.to_string(),
            "no-such-rev:cdk.out/manifest.json does not exist (is no-such-rev a revision with a committed cdk.out?)"
        );
        std::fs::remove_file(out.join("dev-Edge.template.json")).expect("rm");
        git_in(dir.path(), &["commit", "-q", "-am", "lost a template"]);
        let err = git(dir.path(), "HEAD").expect_err("a template is missing");
        assert!(
            err.to_string()
                .starts_with("HEAD:cdk.out/dev-Edge.template.json does not exist"),
            "{err}"
        );
        let outside = tempfile::tempdir().expect("tempdir");
        let err = git(outside.path(), "HEAD").expect_err("not a repository");
        assert!(matches!(err, BaselineError::GitFailed { .. }), "{err}");
    }
}
