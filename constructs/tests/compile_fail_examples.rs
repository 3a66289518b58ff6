//! The compile-fail doc examples fail for the reason they state: a missing required input.
//!
//! `compile_fail` passes on any compile error (stable rustdoc does not check the error code in
//! the fence), so a typo in such an example would keep it "failing" for nothing. Each one is
//! therefore written as the passing example before it, hidden lines and all, minus one input:
//! this test reads every `compile_fail` block of the crate's sources and checks that it is its
//! passing neighbour with exactly one line left out, or one line with one piece cut out of it.
//! The passing example compiles and runs as a doc test, so the only error left is the input.

use std::path::{Path, PathBuf};

/// One fenced code block of a doc comment: its fence info, first line and code (hidden lines
/// shown, as the compiler sees them).
struct Block {
    fence: String,
    line: usize,
    code: Vec<String>,
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (n, raw) in text.lines().enumerate() {
        let Some(doc) = raw.trim_start().strip_prefix("///") else {
            open = None;
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        if let Some(fence) = doc.strip_prefix("```") {
            match open.take() {
                Some(block) => out.push(block),
                None => {
                    open = Some(Block {
                        fence: fence.to_owned(),
                        line: n + 1,
                        code: Vec::new(),
                    })
                }
            }
        } else if let Some(block) = &mut open {
            let line = match doc {
                "#" => "",
                _ => doc.strip_prefix("# ").unwrap_or(doc),
            };
            block.code.push(line.to_owned());
        }
    }
    out
}

/// Whether `short` is `long` with one piece cut out of it.
fn is_cut(long: &str, short: &str) -> bool {
    let (long, short) = (long.as_bytes(), short.as_bytes());
    let prefix = long.iter().zip(short).take_while(|(a, b)| a == b).count();
    short.len() < long.len() && long[prefix..].ends_with(&short[prefix..])
}

/// Whether `failing` is `passing` minus one line, or minus one piece of one line.
fn one_input_left_out(passing: &[String], failing: &[String]) -> bool {
    if failing.len() + 1 == passing.len() {
        return (0..passing.len()).any(|i| {
            let mut p = passing.to_vec();
            p.remove(i);
            p == failing
        });
    }
    if failing.len() != passing.len() {
        return false;
    }
    let differing: Vec<usize> = (0..passing.len())
        .filter(|&i| passing[i] != failing[i])
        .collect();
    matches!(differing[..], [i] if is_cut(&passing[i], &failing[i]))
}

#[test]
fn every_compile_fail_example_is_its_passing_neighbour_minus_one_input() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut checked = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source file");
        let blocks = blocks(&text);
        for (i, block) in blocks.iter().enumerate() {
            if !block.fence.starts_with("compile_fail") {
                continue;
            }
            let name = file.strip_prefix(&src).unwrap_or(&file);
            let at = format!("src/{}:{}", name.display(), block.line);
            let passing = blocks[..i]
                .iter()
                .rev()
                .find(|b| !b.fence.starts_with("compile_fail") && !b.fence.contains("ignore"))
                .unwrap_or_else(|| panic!("{at}: no passing example before it"));
            assert!(
                one_input_left_out(&passing.code, &block.code),
                "{at} is not the example at line {} minus one input",
                passing.line
            );
            checked.push(at);
        }
    }
    // Every construct with required inputs has one (see ARCHITECTURE.md); at least these.
    for needed in [
        "service/mod.rs",
        "service/web.rs",
        "service/worker.rs",
        "service/task.rs",
        "edge/mod.rs",
        "auth.rs",
    ] {
        assert!(
            checked.iter().any(|at| at.contains(needed)),
            "no compile_fail example in {needed}: {checked:#?}"
        );
    }
}

#[test]
fn a_changed_example_is_told_apart_from_one_input_left_out() {
    let lines = |s: &str| s.lines().map(str::to_owned).collect::<Vec<_>>();
    let passing = lines("let a = 1;\nf(&mut s, \"Id\", inputs, props);\nlet b = 2;");
    // One argument cut out of a line, or one line left out: accepted.
    assert!(one_input_left_out(
        &passing,
        &lines("let a = 1;\nf(&mut s, \"Id\", props);\nlet b = 2;")
    ));
    assert!(one_input_left_out(
        &passing,
        &lines("let a = 1;\nf(&mut s, \"Id\", inputs, props);")
    ));
    // A changed word, an added line, two changes, no change: refused.
    assert!(!one_input_left_out(
        &passing,
        &lines("let a = 1;\nf(&mut s, \"Id\", input, prop);\nlet b = 2;")
    ));
    assert!(!one_input_left_out(
        &passing,
        &lines("let a = 1;\nf(&mut s, \"Id\", props);\nlet b = 3;")
    ));
    assert!(!one_input_left_out(
        &passing,
        &lines("let a = 1;\nf(&mut s, \"Id\", inputs, props);\nlet b = 2;\nlet c = 3;")
    ));
    assert!(!one_input_left_out(&passing, &passing));
}
