//! `diff::diff_assemblies` (two assemblies as text, parsing only the templates that differ)
//! finds what `diff::diff_artifacts` finds with every template parsed, on the reference app's
//! committed assembly with changes that reach other stacks through exports and parameters.

use pantri_synth::assembly::{StackArtifact, StackOf, TemplateFile, UnparsedStack};
use pantri_synth::diff::{self, render, CrossStackRole, StackStatus};
use pantri_synth::CloudAssembly;
use std::path::Path;

fn committed() -> CloudAssembly {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cdk.out");
    CloudAssembly::read(&dir).expect("the committed cdk.out")
}

/// Replaces `from` by `to` in the template of stack `id`.
fn edit(a: &mut CloudAssembly, id: &str, from: &str, to: &str) {
    let file = format!("{id}.template.json");
    let text = a.files.get_mut(&file).expect("template");
    assert!(text.contains(from), "{file} has {from}");
    *text = text.replace(from, to);
}

/// Stores the template of stack `id` as YAML (the same content).
fn as_yaml(a: &mut CloudAssembly, id: &str) {
    let json = a.files[&format!("{id}.template.json")].clone();
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    let yaml = serde_yaml::to_string(&value).expect("yaml");
    let file = format!("{id}.template.yaml");
    a.files.insert(file.clone(), yaml);
    let artifact = a.manifest.artifacts.get_mut(id).expect("artifact");
    artifact.properties.as_mut().expect("properties")["templateFile"] = file.into();
}

/// `a` written to `cdk.out` in a new temporary directory, its manifest as edited (the tests
/// edit `a.manifest`, not the text of `manifest.json`).
fn written(a: &CloudAssembly) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("cdk.out");
    a.write(&out).expect("written");
    let manifest = serde_json::to_string_pretty(&a.manifest).expect("manifest");
    std::fs::write(out.join("manifest.json"), manifest).expect("manifest written");
    dir
}

fn selected_but(id: &'static str) -> impl Fn(&str) -> bool {
    move |s| s != id
}

/// Both ways, which must agree; the diff.
fn both(new: &CloudAssembly, old: &CloudAssembly) -> diff::AssemblyDiff {
    let selected = selected_but("prod-DatadogIntegration");
    let (new_text, old_text) = (
        new.unparsed_stacks().expect("new"),
        old.unparsed_stacks().expect("old"),
    );
    let short = diff::diff_assemblies(&new_text, &old_text, &|s: &UnparsedStack| selected(&s.id))
        .expect("diff");
    // A batch at a time, whatever its size (the assembly has 13 stacks).
    for batch in [1, 2, 5] {
        let batched = diff::diff_assemblies_in_batches(
            &new_text,
            &old_text,
            &|s: &UnparsedStack| selected(&s.id),
            batch,
        )
        .expect("diff");
        assert_eq!(batched, short, "batches of {batch}");
    }
    // From directories, each template read when the diff needs it (and freed after).
    let (new_dir, old_dir) = (written(new), written(old));
    let lazily = |dir: &tempfile::TempDir| {
        CloudAssembly::read_stacks_lazily(&dir.path().join("cdk.out"))
            .expect("an assembly directory")
            .1
    };
    let (new_files, old_files) = (lazily(&new_dir), lazily(&old_dir));
    for batch in [1, 64] {
        let from_files = diff::diff_assemblies_in_batches(
            &new_files,
            &old_files,
            &|s: &StackOf<TemplateFile>| selected(&s.id),
            batch,
        )
        .expect("diff");
        assert_eq!(from_files, short, "from directories, batches of {batch}");
    }
    // One side in memory, the other read from its directory.
    let mixed = diff::diff_assemblies(&new_text, &old_files, &|s: &StackOf<TemplateFile>| {
        selected(&s.id)
    })
    .expect("diff");
    assert_eq!(mixed, short);
    let (new_parsed, old_parsed) = (new.stacks().expect("new"), old.stacks().expect("old"));
    let long = diff::diff_artifacts(&new_parsed, &old_parsed, &|s: &StackArtifact| {
        selected(&s.id)
    });
    assert_eq!(short, long);
    let options = render::TextOptions {
        color: false,
        context: 3,
        security_only: false,
    };
    assert_eq!(
        render::text(&short, &options),
        render::text(&long, &options)
    );
    short
}

#[test]
fn reading_only_what_differs_finds_what_reading_everything_finds() {
    let old = committed();
    let mut new = old.clone();
    // The certificate Edge imports is replaced; the repository Service imports is replaced.
    edit(
        &mut new,
        "prod-Global",
        "\"pantri.example.com\"",
        "\"www.pantri.example.com\"",
    );
    edit(
        &mut new,
        "prod-Data",
        "\"pantri-prod\"",
        "\"pantri-prod-2\"",
    );
    // The same template with other tags; a stack deleted; one the selection leaves out.
    let monitoring = new
        .manifest
        .artifacts
        .get_mut("dev-Monitoring")
        .expect("artifact");
    monitoring.properties.as_mut().expect("properties")["tags"]["Team"] = "platform".into();
    new.manifest.artifacts.shift_remove("dev-Edge");
    new.manifest
        .artifacts
        .shift_remove("prod-DatadogIntegration");
    // The same YAML template on both sides; JSON on one side, YAML on the other.
    as_yaml(&mut new, "dev-Network");
    as_yaml(&mut new, "dev-Global");
    let mut old_yaml = old.clone();
    as_yaml(&mut old_yaml, "dev-Network");

    let d = both(&new, &old_yaml);
    let by_name = |name: &str| {
        d.stacks
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} in the diff"))
    };
    // Unparsed on both sides, yet flagged: they read what the change replaces.
    for (consumer, producer) in [("prod/Edge", "prod/Global"), ("prod/Service", "prod/Data")] {
        let c = by_name(consumer);
        assert_eq!(c.status, StackStatus::Updated, "{consumer}");
        assert!(
            c.cross_stack
                .iter()
                .any(|x| x.role == CrossStackRole::Consumer && x.other_stack == producer),
            "{consumer}: {:?}",
            c.cross_stack
        );
    }
    assert_eq!(by_name("dev/Monitoring").tags.len(), 1);
    assert_eq!(by_name("dev/Edge").status, StackStatus::Deleted);
    assert_eq!(by_name("dev/Network").status, StackStatus::Unchanged);
    assert_eq!(by_name("dev/Global").status, StackStatus::Unchanged);
    assert!(d.stacks.iter().all(|s| s.name != "prod/DatadogIntegration"));

    // Nothing changed: every stack unchanged, nothing parsed.
    let same = both(&old, &old);
    assert!(same.is_empty() && same.stacks.len() == 13);
}

#[test]
fn a_template_that_does_not_parse_is_the_error_reading_everything_reports() {
    let old = committed();
    let mut broken = old.clone();
    edit(
        &mut broken,
        "prod-Data",
        "\"Resources\": {",
        "\"Resources\": {,",
    );
    fn stacks(a: &CloudAssembly) -> Vec<UnparsedStack<'_>> {
        a.unparsed_stacks().expect("manifest")
    }
    let error = |new: &CloudAssembly, old: &CloudAssembly| {
        diff::diff_assemblies(&stacks(new), &stacks(old), &|_| true)
            .expect_err("does not parse")
            .to_string()
    };
    let expected = broken.stacks().expect_err("broken").to_string();
    // From directories: a template file that is missing is named, whether it is gone before
    // the manifest is read or before the diff reads it.
    let dir = written(&old);
    let out = dir.path().join("cdk.out");
    let (_, files) = CloudAssembly::read_stacks_lazily(&out).expect("read");
    std::fs::remove_file(out.join("prod-Data.template.json")).expect("removed");
    let gone = diff::diff_assemblies(&files, &files, &|_| true)
        .expect_err("a template is gone")
        .to_string();
    assert!(gone.contains("prod-Data.template.json"), "{gone}");
    let missing = CloudAssembly::read_stacks_lazily(&out)
        .expect_err("a template is missing")
        .to_string();
    assert!(missing.contains("prod-Data.template.json"), "{missing}");
    // Found in whichever batch the broken stack is.
    let batched = diff::diff_assemblies_in_batches(&stacks(&broken), &stacks(&old), &|_| true, 1)
        .expect_err("does not parse")
        .to_string();
    assert_eq!(batched, expected);
    assert!(expected.contains("prod-Data.template.json"), "{expected}");
    // The same broken text on both sides (the stack would be skipped), or only on one.
    assert_eq!(error(&broken, &broken), expected);
    assert_eq!(error(&old, &broken), expected);
    assert_eq!(error(&broken, &old), expected);
}
