//! Where the files of a cloud assembly go as synthesis renders them: into memory
//! ([`MemorySink`], for `--check`, diff and tests) or straight into a staging directory next to
//! the destination ([`AssemblyWriter`]), moved into place only once the whole assembly is
//! written and valid.
//!
//! Writing each template as soon as it is text, rather than holding every file of the assembly
//! until the end, keeps synthesis's memory from growing with the size of the output.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::error::{Result, SynthError};

/// A destination for the files of a cloud assembly. Synthesis gives it each file once, from
/// several threads (templates are rendered on every core, in no fixed order); what it keeps must
/// not depend on that order.
pub trait AssemblySink: Sync {
    /// Takes the file `name` (relative to the assembly directory) with its `content`.
    fn put(&self, name: &str, content: String) -> Result<()>;

    /// Adds `content` to the end of the file `name`, given before (a template is given up to
    /// its outputs once its stack is resolved, and finished when every stack is).
    fn append(&self, name: &str, content: &str) -> Result<()>;
}

/// Keeps the files in memory, by name.
#[derive(Debug, Default)]
pub struct MemorySink {
    files: Mutex<BTreeMap<String, String>>,
}

impl MemorySink {
    /// The files put so far, by name.
    pub fn into_files(self) -> BTreeMap<String, String> {
        self.files
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl AssemblySink for MemorySink {
    fn put(&self, name: &str, content: String) -> Result<()> {
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), content);
        Ok(())
    }

    fn append(&self, name: &str, content: &str) -> Result<()> {
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.to_owned())
            .or_default()
            .push_str(content);
        Ok(())
    }
}

pub(crate) fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> SynthError + 'a {
    move |source| SynthError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Writes an assembly into a staging directory beside `dir` (`.NAME.staging-PID`) and replaces
/// `dir` with it on [`AssemblyWriter::commit`]. Dropped without a commit (synthesis failed, a
/// write failed), it removes the staging directory: `dir` is left exactly as it was.
#[derive(Debug)]
pub struct AssemblyWriter {
    dir: PathBuf,
    staging: PathBuf,
    retired: PathBuf,
    committed: bool,
}

impl AssemblyWriter {
    /// Starts writing an assembly that will replace `dir`. Refuses
    /// ([`SynthError::NotAnAssembly`]) a `dir` that is a file, or a non-empty directory without a
    /// cloud assembly's `manifest.json`: only an assembly is ever replaced.
    pub fn new(dir: &Path) -> Result<AssemblyWriter> {
        AssemblyWriter::check(dir)?;
        AssemblyWriter::new_checked(dir)
    }

    /// What [`AssemblyWriter::new`] checks before it creates anything: that `dir` is missing,
    /// empty, or a cloud assembly. Touches nothing, so it can run while the app is still being
    /// built (and fail) without leaving a directory behind.
    pub fn check(dir: &Path) -> Result<()> {
        check_replaceable(dir)
    }

    /// [`AssemblyWriter::new`] for a `dir` that [`AssemblyWriter::check`] accepted: creates the
    /// staging directory (and `dir`'s parent).
    pub fn new_checked(dir: &Path) -> Result<AssemblyWriter> {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io_err("cannot create", &parent))?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "cdk.out".into());
        let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
        let retired = parent.join(format!(".{name}.retired-{}", std::process::id()));
        // A staging directory of the same name is a leftover of a killed process with this pid.
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).map_err(io_err("cannot create", &staging))?;
        Ok(AssemblyWriter {
            dir: dir.to_path_buf(),
            staging,
            retired,
            committed: false,
        })
    }

    /// Writes one file of the assembly into the staging directory.
    pub fn put_str(&self, name: &str, content: &str) -> Result<()> {
        let path = self.staging.join(name);
        fs::write(&path, content).map_err(io_err("cannot write", &path))
    }

    /// Replaces the destination with the staged assembly: the old one is moved aside, the new
    /// one renamed into place (put back if that fails), then the old one removed.
    pub fn commit(mut self) -> Result<()> {
        let dir = &self.dir;
        let had_old = dir.exists();
        if had_old {
            fs::rename(dir, &self.retired).map_err(io_err("cannot move aside", dir))?;
        }
        if let Err(source) = fs::rename(&self.staging, dir) {
            if had_old {
                let _ = fs::rename(&self.retired, dir);
            }
            return Err(SynthError::Io {
                action: "cannot move into place",
                path: dir.to_path_buf(),
                source,
            });
        }
        self.committed = true;
        if had_old {
            let _ = fs::remove_dir_all(&self.retired);
        }
        Ok(())
    }
}

impl AssemblySink for AssemblyWriter {
    fn put(&self, name: &str, content: String) -> Result<()> {
        self.put_str(name, &content)
    }

    fn append(&self, name: &str, content: &str) -> Result<()> {
        let path = self.staging.join(name);
        fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut f| f.write_all(content.as_bytes()))
            .map_err(io_err("cannot write", &path))
    }
}

impl Drop for AssemblyWriter {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Whether `dir` may be replaced by a new assembly: it does not exist, is an empty directory, or
/// holds a cloud assembly (a `manifest.json` that reads as one).
fn check_replaceable(dir: &Path) -> Result<()> {
    let meta = match fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("cannot read", dir)(e)),
        Ok(meta) => meta,
    };
    let refuse = |reason| {
        Err(SynthError::NotAnAssembly {
            path: dir.to_path_buf(),
            reason,
        })
    };
    if !meta.is_dir() {
        return refuse("is a file, not a directory");
    }
    let empty = fs::read_dir(dir)
        .map_err(io_err("cannot read", dir))?
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    // A cloud assembly's manifest is an object with a string `version`; the rest is skipped,
    // not built. At 100 stages the manifest is 2 MB: parsing it whole into a `Manifest` was a
    // tenth of the pages a synthesis touched, and skipping it through a reader (byte by byte)
    // 71 M instructions; skipping it in memory takes 21 M.
    #[derive(serde::Deserialize)]
    struct Shape {
        #[serde(rename = "version")]
        _version: String,
    }
    let manifest = fs::read(dir.join("manifest.json"));
    match manifest.map(|text| serde_json::from_slice::<Shape>(&text)) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(_)) => refuse("has a manifest.json that is not a cloud assembly's"),
        Err(_) => refuse("is a directory that holds no cloud assembly (no manifest.json)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("readable")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_writer_dropped_without_commit_leaves_the_old_assembly_and_no_staging() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("cdk.out");
        fs::create_dir(&dir).expect("mkdir");
        fs::write(dir.join("manifest.json"), r#"{"version":"1"}"#).expect("write");
        {
            let writer = AssemblyWriter::new(&dir).expect("an assembly may be replaced");
            writer
                .put("App.template.json", "{}\n".to_owned())
                .expect("staged");
        }
        assert_eq!(listing(tmp.path()), ["cdk.out"]);
        assert_eq!(listing(&dir), ["manifest.json"]);
    }

    #[test]
    fn commit_replaces_the_directory_with_exactly_the_staged_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("cdk.out");
        fs::create_dir(&dir).expect("mkdir");
        fs::write(dir.join("manifest.json"), r#"{"version":"1"}"#).expect("write");
        fs::write(dir.join("Old.template.json"), "{}").expect("write");
        let writer = AssemblyWriter::new(&dir).expect("an assembly may be replaced");
        writer
            .put("manifest.json", r#"{"version":"2"}"#.to_owned())
            .expect("staged");
        writer.put_str("New.template.json", "{").expect("staged");
        writer.put("tree.json", "[".to_owned()).expect("staged");
        writer.append("tree.json", "]\n").expect("appended");
        writer.append("New.template.json", "}\n").expect("appended");
        writer.commit().expect("moved into place");
        assert_eq!(listing(tmp.path()), ["cdk.out"]);
        assert_eq!(
            listing(&dir),
            ["New.template.json", "manifest.json", "tree.json"]
        );
        assert_eq!(
            fs::read_to_string(dir.join("tree.json")).expect("read"),
            "[]\n"
        );
        assert_eq!(
            fs::read_to_string(dir.join("New.template.json")).expect("read"),
            "{}\n"
        );
        assert_eq!(
            fs::read_to_string(dir.join("manifest.json")).expect("read"),
            r#"{"version":"2"}"#
        );
    }

    #[test]
    fn a_directory_that_is_not_an_assembly_is_refused_before_anything_is_staged() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("src");
        fs::create_dir(&dir).expect("mkdir");
        fs::write(dir.join("main.rs"), "fn main() {}").expect("write");
        let e = AssemblyWriter::new(&dir).expect_err("not an assembly");
        assert!(matches!(e, SynthError::NotAnAssembly { .. }), "{e}");
        assert_eq!(listing(tmp.path()), ["src"]);
    }

    #[test]
    fn only_a_manifest_with_a_string_version_makes_a_directory_an_assembly() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("out");
        fs::create_dir(&dir).expect("mkdir");
        for (manifest, replaceable) in [
            (
                r#"{"version":"48.0.0","artifacts":{"a":{"type":"x"}}}"#,
                true,
            ),
            (r#"{"artifacts":{},"version":"1"}"#, true),
            (r#"{"artifacts":{}}"#, false),
            (r#"{"version":48}"#, false),
            (r#"[48]"#, false),
            ("null", false),
            (r#"{"version":"1""#, false),
            ("", false),
        ] {
            fs::write(dir.join("manifest.json"), manifest).expect("write");
            let result = AssemblyWriter::new(&dir);
            assert_eq!(result.is_ok(), replaceable, "{manifest}");
            if let Err(e) = result {
                assert!(e.to_string().contains("not a cloud assembly"), "{e}");
            }
        }
    }

    #[test]
    fn the_memory_sink_keeps_files_by_name_whatever_the_order_they_came_in() {
        let forward = MemorySink::default();
        let backward = MemorySink::default();
        let files = [("b", "2"), ("a", "1"), ("c", "3")];
        for (name, text) in files {
            forward.put(name, text.to_owned()).expect("kept");
        }
        forward.append("a", "+").expect("appended");
        forward.put("d", "4".to_owned()).expect("kept");
        for (name, text) in files.iter().rev() {
            backward.put(name, (*text).to_owned()).expect("kept");
        }
        backward.append("a", "+").expect("appended");
        backward.put("d", "4".to_owned()).expect("kept");
        let forward = forward.into_files();
        assert_eq!(forward.keys().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
        assert_eq!(forward["a"], "1+");
        assert_eq!(forward, backward.into_files());
    }
}
