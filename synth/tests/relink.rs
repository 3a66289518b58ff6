//! An assembly written over the one it replaces reuses (hard-links) the files whose bytes did
//! not change, and writes the others anew; the result is the same files either way.

#![cfg(unix)]

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use pantri_synth::sink::AssemblyWriter;

/// An empty cloud assembly's manifest: what lets the writer replace the directory.
const MANIFEST: &str = "{\"version\": \"36.0.0\", \"artifacts\": {}}\n";

fn write(dir: &Path, files: &[(&str, &str)]) {
    let writer = AssemblyWriter::new(dir).expect("writer");
    for (name, content) in files {
        writer.put_str(name, content).expect("put");
    }
    writer.commit().expect("commit");
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).expect("metadata").ino()
}

#[test]
fn unchanged_files_are_linked_and_changed_ones_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cdk.out");
    // GIVEN an assembly on disk
    write(
        &dir,
        &[
            ("manifest.json", MANIFEST),
            ("a.template.json", "{\"A\": 1}\n"),
            ("b.template.json", "{\"B\": 1}\n"),
        ],
    );
    let a = inode(&dir.join("a.template.json"));
    let b = inode(&dir.join("b.template.json"));
    // WHEN the next one changes b (same size) and adds c
    write(
        &dir,
        &[
            ("manifest.json", MANIFEST),
            ("a.template.json", "{\"A\": 1}\n"),
            ("b.template.json", "{\"B\": 2}\n"),
            ("c.template.json", "{\"C\": 1}\n"),
        ],
    );
    // THEN a is the same file (linked, and alone again once the old assembly is gone), b and c
    // are new files with the new bytes
    assert_eq!(inode(&dir.join("a.template.json")), a);
    assert_eq!(
        std::fs::metadata(dir.join("a.template.json"))
            .expect("a")
            .nlink(),
        1
    );
    assert_ne!(inode(&dir.join("b.template.json")), b);
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).expect("read");
    assert_eq!(read("a.template.json"), "{\"A\": 1}\n");
    assert_eq!(read("b.template.json"), "{\"B\": 2}\n");
    assert_eq!(read("c.template.json"), "{\"C\": 1}\n");
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["cdk.out"], "no staging or retired directory left");
}

#[test]
fn a_file_linked_elsewhere_is_written_not_shared() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cdk.out");
    write(
        &dir,
        &[("manifest.json", MANIFEST), ("a.template.json", "A\n")],
    );
    // GIVEN someone's own hard link to a file of the assembly
    let theirs = tmp.path().join("mine.json");
    std::fs::hard_link(dir.join("a.template.json"), &theirs).expect("link");
    // WHEN the same assembly is written again
    write(
        &dir,
        &[("manifest.json", MANIFEST), ("a.template.json", "A\n")],
    );
    // THEN the assembly's file is a new one: their link is left alone
    assert_ne!(inode(&dir.join("a.template.json")), inode(&theirs));
    assert_eq!(std::fs::read_to_string(&theirs).expect("theirs"), "A\n");
}

#[test]
fn a_failed_write_leaves_the_linked_files_of_the_old_assembly_intact() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cdk.out");
    write(
        &dir,
        &[("manifest.json", MANIFEST), ("a.template.json", "A\n")],
    );
    // GIVEN a writer that linked a file, then is dropped without a commit (synthesis failed)
    {
        let writer = AssemblyWriter::new(&dir).expect("writer");
        writer.put_str("a.template.json", "A\n").expect("put");
    }
    // THEN the old assembly is as it was, its file alone again
    assert_eq!(
        std::fs::read_to_string(dir.join("a.template.json")).expect("a"),
        "A\n"
    );
    assert_eq!(
        std::fs::metadata(dir.join("a.template.json"))
            .expect("a")
            .nlink(),
        1
    );
}
