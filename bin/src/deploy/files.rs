//! Files deploy writes for the deployer (the outputs file, the plan file): private (0600),
//! atomic (a temporary file in the same directory renamed into place, so a reader never sees
//! half a file), and never through a symlink (the rename replaces a link at the path; it does
//! not write where the link points).

use std::io::Write;
use std::path::Path;

/// The directory a file at `path` goes into (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Checks, without writing `path`, that [`write_private`] can write it: the path is not a
/// directory, and its directory exists and takes a new file. The reason, when not.
pub fn check_writable(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err("is a directory".into());
    }
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(format!("directory {} does not exist", dir.display()));
    }
    tempfile::Builder::new()
        .prefix(".pantri-check-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))
}

/// Writes `text` to `path`: readable and writable by the owner only, atomically, replacing (not
/// following) a symlink at `path`.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    // tempfile creates the file with O_EXCL and mode 0600.
    let mut file = tempfile::Builder::new()
        .prefix(".pantri-")
        .tempfile_in(parent(path))?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_file_replaces_a_symlink_instead_of_writing_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.txt");
        std::fs::write(&target, "keep me").unwrap();
        let path = dir.path().join("outputs.json");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, &path).unwrap();
        write_private(&path, "{}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn writability_is_known_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(&dir.path().join("out.json")).is_ok());
        assert!(check_writable(dir.path())
            .unwrap_err()
            .contains("is a directory"));
        assert!(check_writable(&dir.path().join("missing/out.json"))
            .unwrap_err()
            .contains("does not exist"));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing left behind"
        );
    }
}
