//! Per-file content hashes kept between runs, so that a synthesis reads only the files that
//! changed since the last one (git's index does the same for `git status`).
//!
//! A Next.js build is a hundred megabytes or more, and its image tag is the hash of every byte:
//! read on every `pantri synth`, it was 90 ms of a synthesis that otherwise takes 10. With this
//! cache, a file whose status is unchanged is not opened: a stat call instead of a read.
//!
//! **When a kept hash is believed.** An entry keeps a file's SHA-256 with its [`Stamp`]: size,
//! modification and status-change times (nanoseconds), inode and device. Writing a file changes
//! its status-change time, which no program can set back (`touch -d` sets the modification time
//! and moves the status-change time to now), and replacing it by a rename changes its inode, so
//! content does not change under an unchanged stamp, with one exception: a write within the
//! file system's timestamp granularity of the moment the hash was taken leaves both times as
//! they were. So an entry is kept only for a file whose two times are [`SETTLED`] older than the
//! moment the run started (git calls the others "racily clean"); a file written just now is read
//! again until it has settled. A file whose stamp changed while it was read is not kept either.
//!
//! **What is never cached.** Publishing (`pantri deploy`, `--publish-only` too) hashes every source
//! again from its bytes before it uploads or builds, and refuses a source whose hash differs
//! from the assembly's: were a kept hash ever wrong, the deploy would stop with that error
//! rather than push an old image under a new tag. A fresh clone (CI's `synth --check`) has no
//! cache and reads everything.
//!
//! **Where.** One small text file per source directory (or file) under the cache directory,
//! named by a hash of the source's absolute path, its first line naming the source; written to
//! a temporary file and renamed, so concurrent runs never read half a file. An unreadable,
//! foreign or corrupt file is ignored (everything is read), and a cache that cannot be written
//! only costs the next run its reads: the cache never fails a synthesis.
//!
//! **Pruning.** A file is kept per source path ever synthesized, so a checkout deleted or a
//! temporary directory gone would leave its file for good. [`FileHashCache::prune_if_due`],
//! which the CLI calls at most once a day, removes the files whose source no longer exists,
//! the files that are not cache files of this version, and temporary files a run interrupted
//! mid-write left behind.

use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::value::FastMap;

/// How much older than the start of a run a file's times must be for its hash to be kept: more
/// than the coarsest timestamp granularity in use (FAT's two seconds; ext4 and APFS record
/// nanoseconds, some network file systems whole seconds).
pub const SETTLED: Duration = Duration::from_secs(3);

/// The first line of a cache file: the format's name and version, then the source's path.
const HEADER: &str = "pantri file hashes 1";

/// How often the CLI prunes the cache ([`FileHashCache::prune_if_due`]).
pub const PRUNE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// The file in the cache directory whose modification time is the last pruning's.
const PRUNED: &str = "pruned";

/// Where per-file hashes are kept between runs (see the module comment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHashCache {
    dir: PathBuf,
    settled: Duration,
}

/// What the file system says of a file that its content cannot change without changing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
}

impl Stamp {
    /// The stamp of a regular file's metadata; `None` for anything else, and on a platform
    /// without inode numbers and status-change times (where nothing is cached).
    pub(crate) fn of(meta: &fs::Metadata) -> Option<Stamp> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            meta.file_type().is_file().then(|| Stamp {
                size: meta.size(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
                ino: meta.ino(),
                dev: meta.dev(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// Whether both of the file's times are at least `settled` before `start`.
    fn settled_before(&self, start: SystemTime, settled: Duration) -> bool {
        let Ok(start) = start.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let Some(limit) = start.checked_sub(settled) else {
            return false;
        };
        let before = |(secs, nanos): (i64, i64)| {
            u64::try_from(secs)
                .is_ok_and(|s| Duration::new(s, u32::try_from(nanos).unwrap_or(u32::MAX)) < limit)
        };
        before(self.mtime) && before(self.ctime)
    }
}

impl FileHashCache {
    /// A cache kept in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> FileHashCache {
        FileHashCache {
            dir: dir.into(),
            settled: SETTLED,
        }
    }

    /// How long before the start of a run a file's times must be for its hash to be kept
    /// ([`SETTLED`] unless set): more than the timestamp granularity of the file systems read.
    pub fn settled_after(mut self, settled: Duration) -> FileHashCache {
        self.settled = settled;
        self
    }

    /// [`hash_directory`](super::hash_directory) of `dir`, reading only the files whose stamp
    /// changed since their hash was kept, and keeping this run's hashes.
    pub fn hash_directory(
        &self,
        dir: &Path,
        ignore: &super::DockerIgnore,
        extra: &[(&str, &str)],
    ) -> Result<String, super::HashError> {
        super::hash::directory_hash(dir, ignore, extra, Some(self))
    }

    /// [`hash_file`](super::hash_file) of `path`, read only when its stamp changed since its
    /// hash was kept.
    pub fn hash_file(&self, path: &Path) -> Result<String, super::HashError> {
        super::hash::hash_file_cached(path, self)
    }

    /// [`FileHashCache::prune`], when the last pruning is older than `every` (or there was
    /// none). The time is recorded before pruning, so runs started together prune once. Returns
    /// how many files were removed.
    pub fn prune_if_due(&self, every: Duration) -> usize {
        let marker = self.dir.join(PRUNED);
        let due = fs::metadata(&marker)
            .and_then(|m| m.modified())
            .map_or(true, |at| at.elapsed().map_or(true, |age| age >= every));
        if !due || !self.dir.join("files").is_dir() {
            return 0;
        }
        if fs::write(&marker, b"").is_err() {
            // A cache directory that cannot be written cannot be pruned either.
            return 0;
        }
        self.prune()
    }

    /// Removes the cache files whose source no longer exists, the files that are not cache
    /// files of this version, and temporary files older than [`PRUNE_EVERY`] (left by a run
    /// stopped mid-write; younger ones may be another run's, being written). Errors are
    /// ignored, as everywhere in the cache. Returns how many files were removed.
    pub fn prune(&self) -> usize {
        let Ok(entries) = fs::read_dir(self.dir.join("files")) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let is_cache_file = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.len() == 32 && n.bytes().all(|b| b.is_ascii_hexdigit()));
            let stale = if is_cache_file {
                source_is_gone(&path)
            } else {
                entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|at| at.elapsed().is_ok_and(|age| age >= PRUNE_EVERY))
            };
            if stale && fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// The cache file of a source (a directory, or a single file).
    fn file_of(&self, source: &Path) -> PathBuf {
        let digest = Sha256::digest(source.as_os_str().as_encoded_bytes());
        let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join("files").join(name)
    }

    /// The hashes kept for `source`'s files, from the start of this run (before any of its
    /// files is looked at).
    pub(crate) fn open(&self, source: &Path) -> Kept {
        let source = std::path::absolute(source).unwrap_or_else(|_| source.to_path_buf());
        let file = self.file_of(&source);
        let entries = fs::read_to_string(&file)
            .ok()
            .and_then(|text| parse(&text, &source))
            .unwrap_or_default();
        Kept {
            file,
            source,
            start: SystemTime::now(),
            settled: self.settled,
            entries,
        }
    }
}

/// The kept hashes of one source's files, by path relative to the source (`""` for a source
/// that is a single file).
#[derive(Debug)]
pub(crate) struct Kept {
    file: PathBuf,
    source: PathBuf,
    start: SystemTime,
    settled: Duration,
    entries: Entries,
}

impl Kept {
    /// The kept hash of the file at `relative`, if its stamp is still `stamp`.
    pub(crate) fn get(&self, relative: &str, stamp: &Stamp) -> Option<&str> {
        self.entries
            .get(relative)
            .filter(|(kept, _)| kept == stamp)
            .map(|(_, sha)| sha.as_str())
    }

    /// Keeps the hashes of this run's files for the next (those with a settled stamp) and
    /// writes them when they differ from what was read. Errors are not reported: a cache that
    /// cannot be written costs only reads.
    pub(crate) fn save<'a>(
        self,
        files: impl IntoIterator<Item = (&'a str, Option<Stamp>, &'a str)>,
    ) {
        let now: Vec<Line> = files
            .into_iter()
            .filter_map(|(relative, stamp, sha)| {
                let stamp = stamp.filter(|s| s.settled_before(self.start, self.settled))?;
                // A name with a tab or a line break cannot be a line of the file: read each time.
                (!relative.contains(['\t', '\n', '\r'])).then_some((relative, stamp, sha))
            })
            .collect();
        // Compared in place: a run that found every hash kept (the common case) allocates
        // nothing more and writes nothing.
        let same = now.len() == self.entries.len()
            && now.iter().all(|(relative, stamp, sha)| {
                self.entries
                    .get(*relative)
                    .is_some_and(|(s, h)| s == stamp && h == sha)
            });
        if !same {
            let _ = write(&self.file, &render(&self.source, &now));
        }
    }
}

/// A file's line in a cache file: its relative path, stamp and hash.
type Line<'a> = (&'a str, Stamp, &'a str);

/// The entries of a cache file, by relative path.
type Entries = FastMap<String, (Stamp, String)>;

/// The text of a cache file: the header and the source, then one line a file, in the order
/// given (the listing's: by path).
fn render(source: &Path, lines: &[Line]) -> String {
    let mut text = format!("{HEADER}\t{}\n", source.display());
    for (relative, s, sha) in lines {
        let _ = writeln!(
            text,
            "{sha}\t{}\t{}.{}\t{}.{}\t{}\t{}\t{relative}",
            s.size, s.mtime.0, s.mtime.1, s.ctime.0, s.ctime.1, s.ino, s.dev
        );
    }
    text
}

/// The entries of a cache file, if it is one of this version for `source`.
fn parse(text: &str, source: &Path) -> Option<Entries> {
    let mut lines = text.lines();
    let (header, named) = lines.next()?.split_once('\t')?;
    if header != HEADER || named != source.display().to_string() {
        return None;
    }
    let time = |t: &str| {
        let (secs, nanos) = t.split_once('.')?;
        Some((secs.parse().ok()?, nanos.parse().ok()?))
    };
    lines
        .map(|line| {
            let mut f = line.splitn(7, '\t');
            let sha = f.next().filter(|s| s.len() == 64)?;
            let stamp = Stamp {
                size: f.next()?.parse().ok()?,
                mtime: time(f.next()?)?,
                ctime: time(f.next()?)?,
                ino: f.next()?.parse().ok()?,
                dev: f.next()?.parse().ok()?,
            };
            Some((f.next()?.to_owned(), (stamp, sha.to_owned())))
        })
        .collect()
}

/// Whether the cache file at `file` is of a source that no longer exists, or is not a cache
/// file of this version (its first line says). A file that cannot be read is left alone.
fn source_is_gone(file: &Path) -> bool {
    use std::io::{BufRead, Read};
    let Ok(f) = fs::File::open(file) else {
        return false;
    };
    let mut first = String::new();
    // A path is at most a few kilobytes: a longer first line is not one of ours.
    if std::io::BufReader::new(f.take(64 * 1024))
        .read_line(&mut first)
        .is_err()
    {
        return true;
    }
    match first
        .strip_suffix('\n')
        .and_then(|l| l.strip_prefix(HEADER))
        .and_then(|l| l.strip_prefix('\t'))
    {
        Some(source) => !Path::new(source).exists(),
        None => true,
    }
}

/// Writes `text` to `file` through a temporary file in the same directory and a rename.
fn write(file: &Path, text: &str) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(secs: i64) -> Stamp {
        Stamp {
            size: 10,
            mtime: (secs, 5),
            ctime: (secs, 7),
            ino: 42,
            dev: 3,
        }
    }

    #[test]
    fn a_file_is_kept_only_once_its_times_have_settled() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(stamp(990).settled_before(start, SETTLED));
        // Within the granularity of a coarse file system: read again next time.
        assert!(!stamp(998).settled_before(start, SETTLED));
        assert!(!stamp(1_000).settled_before(start, SETTLED));
        // A status change after the modification (chmod, touch -d) counts as well.
        let mut touched = stamp(990);
        touched.ctime = (999, 0);
        assert!(!touched.settled_before(start, SETTLED));
        // Times before 1970 are not trusted.
        assert!(!stamp(-5).settled_before(start, SETTLED));
    }

    #[test]
    fn pruning_removes_the_files_of_gone_sources_foreign_files_and_old_leftovers() {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let (kept_source, gone_source) = (tmp.path().join("web"), tmp.path().join("gone"));
        fs::create_dir(&kept_source).expect("source");
        let cache = FileHashCache::new(tmp.path().join("cache"));
        let files = tmp.path().join("cache").join("files");
        let sha = "c".repeat(64);
        let kept = cache.file_of(&kept_source);
        let gone = cache.file_of(&gone_source);
        for (file, source) in [(&kept, &kept_source), (&gone, &gone_source)] {
            write(file, &render(source, &[("a.js", stamp(1), &sha)])).expect("written");
        }
        let foreign = files.join("0123456789abcdef0123456789abcdef");
        fs::write(&foreign, "someone else's file\n").expect("written");
        let (young_tmp, old_tmp) = (files.join(".tmpYoung"), files.join(".tmpOld"));
        fs::write(&young_tmp, "half").expect("written");
        let old = fs::File::create(&old_tmp).expect("created");
        old.set_modified(SystemTime::now() - PRUNE_EVERY - Duration::from_secs(60))
            .expect("dated");
        drop(old);

        assert_eq!(cache.prune_if_due(PRUNE_EVERY), 3);
        let left: Vec<PathBuf> = [&kept, &gone, &foreign, &young_tmp, &old_tmp]
            .into_iter()
            .filter(|f| f.exists())
            .cloned()
            .collect();
        assert_eq!(left, [kept.clone(), young_tmp]);
        // The kept file still reads as the source's.
        assert_eq!(cache.open(&kept_source).entries.len(), 1);

        // Once a day: a source that goes now stays until the next pruning is due.
        fs::remove_dir(&kept_source).expect("removed");
        assert_eq!(cache.prune_if_due(PRUNE_EVERY), 0);
        assert!(kept.exists());
        assert_eq!(cache.prune_if_due(Duration::ZERO), 1);
        assert!(!kept.exists());
    }

    #[test]
    fn pruning_a_cache_that_was_never_written_does_nothing() {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let cache = FileHashCache::new(tmp.path().join("never"));
        assert_eq!(cache.prune_if_due(PRUNE_EVERY), 0);
        // Nothing is created for it either.
        assert!(!tmp.path().join("never").exists());
    }

    #[test]
    fn the_text_reads_back_and_names_its_source() {
        let source = Path::new("/src/web");
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let text = render(source, &[("a b/ü.js", stamp(1), &a), ("", stamp(2), &b)]);
        let mut entries = Entries::default();
        entries.insert("a b/ü.js".to_owned(), (stamp(1), a.clone()));
        entries.insert(String::new(), (stamp(2), b));
        assert_eq!(parse(&text, source), Some(entries));
        // Another source's file (a hash collision, a moved cache) is not read.
        assert_eq!(parse(&text, Path::new("/src/other")), None);
        // Nor is another version's, nor a damaged line.
        assert_eq!(parse(&text.replace(" 1\t", " 2\t"), source), None);
        let damaged = text.replacen(&"a".repeat(64), "zz", 1);
        assert_eq!(parse(&damaged, source), None);
    }
}
