//! End-to-end tests of `pantri synth` and `pantri ls` on the reference app.

use pantri_tests::{copy_stages, pantri, pantri_bin, stderr, stdout, workspace_root};

/// The golden test of the whole cloud assembly. `PANTRI_BLESS=1 cargo test` rewrites `cdk.out`
/// (the same as `cargo run -p pantri -- synth`); review the change in the diff and commit it.
#[test]
fn committed_cdk_out_is_what_the_code_synthesizes() {
    if std::env::var_os("PANTRI_BLESS").is_some() {
        let out = pantri(&workspace_root(), &["synth", "--quiet"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = pantri(&workspace_root(), &["synth", "--check"]);
    assert!(
        out.status.success(),
        "cdk.out is stale; run `cargo run -p pantri -- synth` (or PANTRI_BLESS=1 cargo test) and commit it:\n{}",
        stderr(&out)
    );
}

/// The files of an assembly directory (name, bytes), sorted by name.
fn assembly_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn synth_is_byte_identical_across_runs_and_directories() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    for dir in [a.path(), b.path()] {
        copy_stages(dir);
        let out = pantri(dir, &["synth", "--quiet"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).is_empty(), "--quiet prints nothing");
    }
    let files = |d: &std::path::Path| assembly_files(&d.join("cdk.out"));
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(fa.len() >= 4, "manifest, tree, version file and templates");
    assert_eq!(fa, fb);
    let committed = files(&workspace_root());
    assert_eq!(fa, committed, "a fresh synth equals the committed cdk.out");
}

#[test]
fn unknown_settings_key_names_file_line_and_key_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    let prod = stages.join("prod.yaml");
    let text = std::fs::read_to_string(&prod).expect("prod.yaml");
    let line = text.lines().count() + 1;
    std::fs::write(&prod, format!("{text}nat_gateway_count: 3\n")).expect("write");
    let out = pantri(dir.path(), &["synth"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("stages/prod.yaml:{line}:")), "{err}");
    assert!(err.contains("nat_gateway_count"), "{err}");
    assert!(!dir.path().join("cdk.out").exists(), "nothing is written");
}

#[test]
fn a_parent_zone_by_id_and_by_name_is_refused_naming_the_file() {
    // GIVEN dev's settings naming its parent zone by name (as committed) and by id too
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    let dev = stages.join("dev.yaml");
    let text = std::fs::read_to_string(&dev).expect("dev.yaml");
    assert!(
        text.contains("  parent_zone_name: pantri.example.com\n"),
        "{text}"
    );
    let text = text.replace(
        "  parent_zone_name: pantri.example.com\n",
        "  parent_zone_name: pantri.example.com\n  parent_zone_id: Z0123456789ABC\n",
    );
    std::fs::write(&dev, text).expect("write");
    // WHEN synthesized
    let out = pantri(dir.path(), &["synth"]);
    // THEN bad input, the file and both keys named, nothing written
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("stages/dev.yaml")
            && err.contains("dns: give parent_zone_id or parent_zone_name, not both"),
        "{err}"
    );
    assert!(!dir.path().join("cdk.out").exists(), "nothing is written");
}

#[test]
fn bad_setting_value_names_the_key_and_keeps_the_previous_cdk_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    let first = pantri(dir.path(), &["synth", "--quiet"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let manifest = std::fs::read(dir.path().join("cdk.out/manifest.json")).expect("manifest");
    let dev = stages.join("dev.yaml");
    let text = std::fs::read_to_string(&dev)
        .expect("dev.yaml")
        .replace("app_name: pantri", "app_name: Pantri App");
    std::fs::write(&dev, text).expect("write");
    let out = pantri(dir.path(), &["synth"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("stages/dev.yaml") && err.contains("app_name"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("cdk.out/manifest.json")).expect("manifest"),
        manifest
    );
}

#[test]
fn a_stage_file_whose_name_is_not_a_stage_name_says_to_rename_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    std::fs::rename(stages.join("dev.yaml"), stages.join("Dev.yaml")).expect("rename");
    let out = pantri(dir.path(), &["synth"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("stages/Dev.yaml") && err.contains("stage \"Dev\" is not a name"),
        "{err}"
    );
    assert!(err.contains("rename the file"), "{err}");
    assert!(!dir.path().join("cdk.out").exists(), "nothing written");
}

#[test]
fn ls_lists_every_stack_of_every_stage() {
    let out = pantri(&workspace_root(), &["ls"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert!(listed.iter().any(|l| l.starts_with("dev/")), "{listed:?}");
    assert!(listed.iter().any(|l| l.starts_with("prod/")), "{listed:?}");
    let long = pantri(&workspace_root(), &["ls", "--long"]);
    let text = stdout(&long);
    assert!(text.starts_with("STACK"), "{text}");
    assert_eq!(text.lines().count(), listed.len() + 1);
}

#[test]
fn check_fails_with_a_diff_when_cdk_out_is_stale() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    assert!(pantri(dir.path(), &["synth", "--quiet"]).status.success());
    let dev = stages.join("dev.yaml");
    let text = std::fs::read_to_string(&dev)
        .expect("dev.yaml")
        .replace("10.10.0.0/16", "10.11.0.0/16");
    std::fs::write(&dev, text).expect("write");
    let out = pantri(dir.path(), &["synth", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("changed: dev-") && err.contains("10.11.0.0/16"),
        "{err}"
    );
    assert!(err.contains("run `pantri synth`"), "{err}");
}

/// A stage file that does not build, over an assembly from an earlier synth: the stage file's
/// error, and the old assembly as it was, with nothing staged beside it (the output directory
/// is checked while the app builds).
#[test]
fn a_failed_build_leaves_the_old_assembly_and_no_staging_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    let out = pantri(dir.path(), &["synth", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest = std::fs::read(dir.path().join("cdk.out/manifest.json")).expect("manifest");
    let dev = stages.join("dev.yaml");
    let text = std::fs::read_to_string(&dev).expect("dev.yaml");
    std::fs::write(&dev, format!("{text}\nno_such_setting: 1\n")).expect("write");
    let out = pantri(dir.path(), &["synth", "--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("dev.yaml") && err.contains("no_such_setting"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("cdk.out/manifest.json")).expect("manifest"),
        manifest
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "nothing retired or staged beside it: {names:?}"
    );
    // Nor is a new output directory's parent created.
    let out = pantri(dir.path(), &["synth", "--quiet", "-o", "new/out"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!dir.path().join("new").exists());
}

/// `-o` naming a file: refused in one line, exit 2, the file untouched and nothing else written.
#[test]
fn synth_refuses_to_replace_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_stages(dir.path());
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "my notes\n").expect("write");
    let out = pantri(dir.path(), &["synth", "-o", "notes.txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("notes.txt is a file, not a directory"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("still there"),
        "my notes\n"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n == "notes.txt" || n == "stages" || n == "fixtures"),
        "nothing retired or staged beside it: {names:?}"
    );
}

/// `-o` naming a directory of other files: refused, the files kept; an assembly is replaced.
#[test]
fn synth_replaces_only_a_cloud_assembly() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_stages(dir.path());
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).expect("mkdir");
    std::fs::write(mine.join("notes.md"), "keep me\n").expect("write");
    let out = pantri(dir.path(), &["synth", "-o", "mine"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no manifest.json"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.md")).expect("kept"),
        "keep me\n"
    );
    // An empty directory and an existing assembly are fine; the assembly is replaced whole.
    let out = pantri(dir.path(), &["synth", "--quiet", "-o", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(dir.path().join("out/stale.template.json"), "{}").expect("write");
    let out = pantri(dir.path(), &["synth", "--quiet", "-o", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!dir.path().join("out/stale.template.json").exists());
}

/// One stage checked against the committed whole: the other stages' manifest entries and
/// templates are not differences.
#[test]
fn check_of_one_stage_passes_on_the_committed_cdk_out() {
    for stage in ["dev", "prod"] {
        let out = pantri(&workspace_root(), &["synth", stage, "--check"]);
        assert!(out.status.success(), "{stage}: {}", stderr(&out));
    }
}

/// A stage check still sees a change to one of its own manifest entries.
#[test]
fn check_of_one_stage_sees_its_own_manifest_entry_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_stages(dir.path());
    let out = pantri(dir.path(), &["synth", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest = dir.path().join("cdk.out/manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(
        &manifest,
        text.replace(
            "\"displayName\": \"dev/Network\"",
            "\"displayName\": \"dev/Net\"",
        ),
    )
    .expect("write");
    let out = pantri(dir.path(), &["synth", "dev", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("changed: manifest.json"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("prod-"),
        "only dev's entries are shown: {}",
        stderr(&out)
    );
    let out = pantri(dir.path(), &["synth", "prod", "--check"]);
    assert!(out.status.success(), "prod is untouched: {}", stderr(&out));
}

/// A change inside a long line (the dashboard's JSON body, thousands of characters on one line)
/// is shown around where it changed, not as the whole line: found on a terminal, where the
/// two lines filled the screen.
#[test]
fn check_shows_a_long_line_around_its_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    assert!(pantri(dir.path(), &["synth", "--quiet"]).status.success());
    let prod = stages.join("prod.yaml");
    let text = std::fs::read_to_string(&prod).expect("prod.yaml");
    assert!(text.contains("desired_count: 3"), "{text}");
    std::fs::write(&prod, text.replace("desired_count: 3", "desired_count: 4")).expect("write");
    let out = pantri(dir.path(), &["synth", "prod", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let dashboard: Vec<&str> = err
        .lines()
        .filter(|l| l.contains(r#"\"value\":4,\"palette\""#))
        .collect();
    assert_eq!(dashboard.len(), 1, "{err}");
    assert!(dashboard[0].trim_start().starts_with("+…("), "{err}");
    assert!(dashboard[0].ends_with(" characters after)"), "{err}");
    let longest = err.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest < 240, "a line of {longest} characters: {err}");
}

/// A settings file of junk: the error quotes a short excerpt, not the file.
#[test]
fn a_settings_error_quotes_a_short_excerpt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    std::fs::write(stages.join("dev.yaml"), "j".repeat(3_000_000)).expect("write");
    let out = pantri(dir.path(), &["synth"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.len() < 1000, "{} bytes of error", err.len());
    assert!(err.contains("dev.yaml"), "{err}");
}

/// A baseline or an assembly that is not there: the error names the file once, its cause once.
#[test]
fn a_missing_assembly_is_named_once_with_its_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let committed = workspace_root().join("cdk.out");
    let committed = committed.to_str().expect("utf-8");
    for (args, expected) in [
        (
            ["diff", "--app", committed, "--baseline", "nowhere"],
            "error: baseline nowhere: cannot read nowhere/manifest.json: ",
        ),
        (
            ["diff", "--app", "nowhere", "--baseline", committed],
            "error: cannot read nowhere/manifest.json: ",
        ),
    ] {
        let out = pantri(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with(expected), "{err}");
        assert_eq!(err.matches("manifest.json").count(), 1, "{err}");
        assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
    }
}

/// `--format yaml` writes the same data as the JSON templates, and quotes what a YAML 1.1 reader
/// (cfn-lint, CloudFormation) would otherwise read as a boolean: prod's `MfaConfiguration: ON`.
#[test]
fn yaml_templates_hold_the_json_data_and_quote_yaml_1_1_booleans() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_stages(dir.path());
    let out = pantri(
        dir.path(),
        &["synth", "--quiet", "--format", "yaml", "-o", "yaml.out"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let root = workspace_root().join("cdk.out");
    let mut compared = 0;
    for entry in std::fs::read_dir(dir.path().join("yaml.out")).expect("yaml.out") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(stem) = name.strip_suffix(".template.yaml") else {
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("yaml template");
        let yaml: serde_json::Value = serde_yaml::from_str(&text).expect("parses");
        let json_text = std::fs::read_to_string(root.join(format!("{stem}.template.json")))
            .expect("the committed JSON template");
        let json: serde_json::Value = serde_json::from_str(&json_text).expect("json");
        assert_eq!(yaml, json, "{name} holds other data than its JSON form");
        compared += 1;
        if stem == "prod-Data" {
            assert!(text.contains("MfaConfiguration: 'ON'"), "{text}");
        }
    }
    assert!(compared >= 10, "only {compared} YAML templates");
}

#[test]
fn ls_lists_the_stacks_of_the_manifest_without_synthesizing() {
    // GIVEN the stages and the assembly they synthesize
    let dir = tempfile::tempdir().expect("tempdir");
    copy_stages(dir.path());
    assert!(pantri(dir.path(), &["synth", "--quiet"]).status.success());
    // WHEN `ls` answers from the tree, and `ls --app` from the manifest
    let from_tree = pantri(dir.path(), &["ls"]);
    let from_manifest = pantri(dir.path(), &["ls", "--app", "cdk.out"]);
    // THEN the names and their order are the same
    assert!(from_tree.status.success(), "{}", stderr(&from_tree));
    assert!(from_manifest.status.success(), "{}", stderr(&from_manifest));
    assert_eq!(stdout(&from_tree), stdout(&from_manifest));
    assert_eq!(stdout(&from_tree).lines().count(), 13);
}

/// More stages than two batches (16 a batch on two threads): `ls` and `synth` read them a
/// batch at a time, and say what a stage of the last batch got wrong.
#[test]
fn ls_and_synth_read_many_stages_a_batch_at_a_time() {
    // GIVEN 40 stages and the assembly they synthesize
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = dir.path().join("stages");
    pantri::app::scale::write_stage_files(&stages, 40).expect("stage files");
    assert!(pantri(dir.path(), &["synth", "--quiet"]).status.success());
    let manifest = || std::fs::read_to_string(dir.path().join("cdk.out/manifest.json"));
    let before = manifest().expect("a manifest");
    // WHEN `ls` answers from the tree, and `ls --app` from the manifest
    let from_tree = pantri(dir.path(), &["ls"]);
    let from_manifest = pantri(dir.path(), &["ls", "--app", "cdk.out"]);
    // THEN the names and their order are the same, every stage's
    assert!(from_tree.status.success(), "{}", stderr(&from_tree));
    assert_eq!(stdout(&from_tree), stdout(&from_manifest));
    assert_eq!(stdout(&from_tree).lines().count(), 40 * 6 + 1);
    assert_eq!(stdout(&from_tree).lines().last(), Some("s0039/Monitoring"));

    // GIVEN a task size Fargate does not have in a stage of the last batch
    let last = stages.join("s0038.yaml");
    let text = std::fs::read_to_string(&last).expect("stage file");
    assert!(text.contains("  memory: "), "{text}");
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("  memory: ") {
                "  memory: 999"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&last, text + "\n").expect("write");
    // WHEN the stacks are listed and the stages synthesized
    for args in [&["ls"][..], &["ls", "--long"], &["synth", "--quiet"]] {
        let out = pantri(dir.path(), args);
        // THEN the stage's error is printed with its path, and nothing is listed or written
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("[s0038/Service/Web] memory 999 MiB is not legal"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "", "{args:?}");
    }
    assert_eq!(
        manifest().ok(),
        Some(before),
        "the assembly is the one before"
    );
}

#[test]
fn ls_fails_on_an_error_a_construct_reports() {
    // GIVEN a stage whose task size Fargate does not have
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    let dev = stages.join("dev.yaml");
    let text = std::fs::read_to_string(&dev)
        .expect("dev.yaml")
        .replace("  memory: 1024\n", "  memory: 999\n");
    std::fs::write(&dev, text).expect("write");
    // WHEN the stacks are listed
    let out = pantri(dir.path(), &["ls"]);
    // THEN the construct's error is printed with its path, nothing is listed, and the exit
    // code is synth's for the same app
    let synth = pantri(dir.path(), &["synth", "--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(out.status.code(), synth.status.code());
    assert!(
        stderr(&out).contains("[dev/Service/Web] memory 999 MiB is not legal"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("the app has 1 error(s)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}

/// The binary is linked at a fixed address (`bin/build.rs`): no relocations for the loader to
/// apply at every start (1.5 ms of the reference synth's 12).
#[cfg(target_os = "linux")]
#[test]
fn the_binary_is_a_position_dependent_executable() {
    let bytes = std::fs::read(pantri_tests::pantri_bin()).expect("the pantri binary");
    assert_eq!(&bytes[..4], b"\x7fELF");
    // e_type, at 16: 2 is an executable at a fixed address, 3 a shared object (a PIE).
    let kind = u16::from_le_bytes([bytes[16], bytes[17]]);
    if std::env::var_os("PANTRI_PIE").is_some() {
        assert_eq!(kind, 3, "PANTRI_PIE builds a PIE");
    } else {
        assert_eq!(kind, 2, "not linked with -no-pie");
    }
}

/// `pantri synth` keeps the hashes of the asset sources' files in `PANTRI_CACHE_DIR`, one file
/// per source naming it, and synthesizes the same bytes from them; set empty, nothing is kept.
#[test]
fn synth_keeps_asset_file_hashes_where_pantri_cache_dir_says_and_nowhere_when_it_is_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_stages(dir.path());
    let cache = dir.path().join("cache");
    let synth = |cache: &std::path::Path, out: &str| {
        let run = std::process::Command::new(pantri_bin())
            .args(["synth", "--quiet", "-o", out])
            .current_dir(dir.path())
            .env("PANTRI_CACHE_DIR", cache)
            .output()
            .expect("pantri runs");
        assert!(run.status.success(), "{}", stderr(&run));
        assembly_files(&dir.path().join(out))
    };
    let sources = || -> Vec<String> {
        let mut named: Vec<String> = std::fs::read_dir(cache.join("files"))
            .map(|d| d.map(|e| e.expect("entry").path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|p| std::fs::read_to_string(p).expect("read"))
            .map(|text| text.lines().next().unwrap_or_default().to_owned())
            .collect();
        named.sort();
        named
    };
    let first = synth(&cache, "first");
    let web = dir.path().join("fixtures/web");
    assert_eq!(
        sources(),
        [&web, &web.join(".next/static"), &web.join("public")]
            .map(|p| format!("pantri file hashes 1\t{}", p.display()))
    );
    assert_eq!(
        synth(&cache, "second"),
        first,
        "the same bytes from kept hashes"
    );
    std::fs::remove_dir_all(&cache).expect("rm cache");
    assert_eq!(synth(std::path::Path::new(""), "third"), first);
    assert!(!cache.exists(), "an empty PANTRI_CACHE_DIR keeps nothing");
}

#[test]
fn kept_hashes_of_a_checkout_that_is_gone_are_pruned_by_a_later_run() {
    let cache_home = tempfile::tempdir().expect("tempdir");
    let cache = cache_home.path().join("cache");
    let kept = |cache: &std::path::Path| -> Vec<String> {
        let mut named: Vec<String> = std::fs::read_dir(cache.join("files"))
            .map(|d| d.map(|e| e.expect("entry").path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|p| std::fs::read_to_string(p).expect("read"))
            .filter_map(|text| {
                text.lines()
                    .next()?
                    .split_once('\t')
                    .map(|(_, s)| s.to_owned())
            })
            .collect();
        named.sort();
        named
    };
    let synth_in = |dir: &std::path::Path| {
        let run = std::process::Command::new(pantri_bin())
            .args(["synth", "--quiet", "-o", "out"])
            .current_dir(dir)
            .env("PANTRI_CACHE_DIR", &cache)
            .output()
            .expect("pantri runs");
        assert!(run.status.success(), "{}", stderr(&run));
    };
    let old_checkout = tempfile::tempdir().expect("tempdir");
    copy_stages(old_checkout.path());
    synth_in(old_checkout.path());
    assert_eq!(
        kept(&cache).len(),
        3,
        "the web app, its static files, its public files"
    );
    let old_web = old_checkout
        .path()
        .join("fixtures/web")
        .display()
        .to_string();
    drop(old_checkout);

    let checkout = tempfile::tempdir().expect("tempdir");
    copy_stages(checkout.path());
    synth_in(checkout.path());
    let web = checkout.path().join("fixtures/web").display().to_string();
    let now = kept(&cache);
    assert_eq!(now.len(), 3, "{now:?}");
    assert!(now.iter().all(|s| s.starts_with(&web)), "{now:?}");
    assert!(!now.iter().any(|s| s.starts_with(&old_web)), "{now:?}");
    assert!(
        cache.join("pruned").exists(),
        "the pruning's time is recorded"
    );
}
