//! `pantri diff` end to end on the reference app: a realistic change (the prod service's task
//! size and a new ingress rule) between two cloud assemblies, in the three formats, plus the
//! pull-request case against the committed `cdk.out` of a git revision.

use std::path::Path;

use pantri_tests::{copy_stages, pantri, stderr, stdout};
use serde_json::{json, Value};

/// Synthesizes the reference app (with `edit` applied to prod.yaml) into `dir/cdk.out`.
fn synth(dir: &Path, edit: impl Fn(String) -> String) {
    let stages = copy_stages(dir);
    let prod = stages.join("prod.yaml");
    let text = std::fs::read_to_string(&prod).expect("prod.yaml");
    std::fs::write(&prod, edit(text)).expect("write");
    let out = pantri(dir, &["synth", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Adds an ingress rule to the prod service's security group, as a hand-made change would.
fn add_ingress_rule(dir: &Path) {
    let path = dir.join("cdk.out/prod-Service.template.json");
    let mut t: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("template")).expect("json");
    let group = t["Resources"]
        .as_object()
        .and_then(|r| {
            r.iter().find(|(id, r)| {
                r["Type"] == "AWS::EC2::SecurityGroup" && id.contains("ServiceSecurityGroup")
            })
        })
        .map(|(id, _)| id.clone())
        .expect("the service security group");
    t["Resources"]["DebugSshIngress"] = json!({
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {"GroupId": {"Fn::GetAtt": [group, "GroupId"]}, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
    });
    std::fs::write(&path, serde_json::to_string_pretty(&t).expect("json")).expect("write");
}

fn realistic_change() -> (tempfile::TempDir, tempfile::TempDir) {
    let before = tempfile::tempdir().expect("tempdir");
    let after = tempfile::tempdir().expect("tempdir");
    synth(before.path(), |t| t);
    synth(after.path(), |t| {
        t.replace("  cpu: 1024\n  memory: 2048", "  cpu: 2048\n  memory: 4096")
    });
    add_ingress_rule(after.path());
    (before, after)
}

fn diff(before: &Path, after: &Path, format: &str, extra: &[&str]) -> (Option<i32>, String) {
    let baseline = before.join("cdk.out");
    let app = after.join("cdk.out");
    let mut args = vec![
        "diff",
        "prod",
        "--baseline",
        baseline.to_str().expect("utf-8"),
        "--app",
        app.to_str().expect("utf-8"),
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    let out = pantri(after, &args);
    (out.status.code(), stdout(&out))
}

#[test]
fn a_realistic_change_in_three_formats() {
    let (before, after) = realistic_change();
    let (code, text) = diff(before.path(), after.path(), "text", &["--fail"]);
    assert_eq!(code, Some(1), "--fail exits 1 on a difference");
    // The task definition's size is create-only: the definition is replaced, the service updated.
    assert!(text.contains("AWS::ECS::TaskDefinition"), "{text}");
    assert!(text.contains("requires replacement"), "{text}");
    // The new rule is a broadening in the security table.
    assert!(text.contains("0.0.0.0/0") && text.contains("22"), "{text}");
    assert!(!text.contains('\u{1b}'), "no color when piped");
    insta::assert_snapshot!("reference_change_text", text);

    let (code, markdown) = diff(before.path(), after.path(), "markdown", &[]);
    assert_eq!(code, Some(0), "without --fail a difference exits 0");
    assert!(markdown.contains("| Stack |"), "{markdown}");
    insta::assert_snapshot!("reference_change_markdown", markdown);

    let (_, json_text) = diff(before.path(), after.path(), "json", &[]);
    let json: Value = serde_json::from_str(&json_text).expect("JSON output parses");
    assert_eq!(json["schemaVersion"], 1);
    insta::assert_json_snapshot!("reference_change_json", json);

    let (_, security) = diff(before.path(), after.path(), "text", &["--security-only"]);
    assert!(security.contains("0.0.0.0/0"), "{security}");
    assert!(!security.contains("AWS::ECS::TaskDefinition"), "{security}");
}

#[test]
fn no_change_is_no_difference_and_an_unknown_stage_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    synth(dir.path(), |t| t);
    let (code, text) = diff(dir.path(), dir.path(), "text", &["--fail"]);
    assert_eq!(code, Some(0), "{text}");
    // Identical assemblies in JSON: empty, every stack unchanged (not "updated"), exit 0.
    let (code, text) = diff(dir.path(), dir.path(), "json", &["--fail"]);
    assert_eq!(code, Some(0), "{text}");
    let json: Value = serde_json::from_str(&text).expect("JSON output parses");
    assert_eq!(json["empty"], true, "{text}");
    let stacks = json["stacks"].as_array().expect("stacks");
    assert!(!stacks.is_empty());
    for s in stacks {
        assert_eq!(s["status"], "unchanged", "{s}");
        assert_eq!(s["empty"], true, "{s}");
    }
    let assembly = dir.path().join("cdk.out");
    let out = pantri(
        dir.path(),
        &[
            "diff",
            "qa",
            "--baseline",
            assembly.to_str().expect("utf-8"),
            "--app",
            assembly.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no stage named \"qa\"; the app has: dev, prod"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn against_the_committed_cdk_out_of_a_git_revision() {
    // The pull-request case, in a repository of its own: cdk.out committed at HEAD, then a change.
    let dir = tempfile::tempdir().expect("tempdir");
    synth(dir.path(), |t| t);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    let out = pantri(dir.path(), &["diff", "--baseline", "git:HEAD", "--fail"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    let prod = dir.path().join("stages/prod.yaml");
    let text = std::fs::read_to_string(&prod)
        .expect("prod.yaml")
        .replace("max_capacity: 12", "max_capacity: 20");
    std::fs::write(&prod, text).expect("write");
    let out = pantri(
        dir.path(),
        &["diff", "prod", "--baseline", "git:HEAD", "--fail"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("MaxCapacity"), "{}", stdout(&out));

    let out = pantri(dir.path(), &["diff", "--baseline", "git:no-such-revision"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no-such-revision"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_replaced_certificate_another_region_reads_is_flagged_on_both_sides() {
    // dev in eu-west-1: its Global stack stays in us-east-1 (CloudFront's certificate), and
    // Edge reads the certificate's ARN through a parameter pantri deploy fills.
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = copy_stages(dir.path());
    let dev = stages.join("dev.yaml");
    let text = std::fs::read_to_string(&dev)
        .expect("dev.yaml")
        .replace("region: us-east-1", "region: eu-west-1")
        .replace("[us-east-1a, us-east-1b]", "[eu-west-1a, eu-west-1b]");
    std::fs::write(&dev, text).expect("write");
    let out = pantri(dir.path(), &["synth", "--quiet", "-o", "before"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The certificate of the new side covers another name: CloudFormation replaces it.
    let after = dir.path().join("after");
    std::fs::create_dir(&after).expect("mkdir");
    for entry in std::fs::read_dir(dir.path().join("before")).expect("before") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), after.join(entry.file_name())).expect("copy");
    }
    let global = after.join("dev-Global.template.json");
    let mut t: Value =
        serde_json::from_str(&std::fs::read_to_string(&global).expect("template")).expect("json");
    let certs: Vec<&mut Value> = t["Resources"]
        .as_object_mut()
        .expect("resources")
        .values_mut()
        .filter(|r| r["Type"] == "AWS::CertificateManager::Certificate")
        .collect();
    assert_eq!(certs.len(), 1, "one certificate in Global");
    for c in certs {
        c["Properties"]["DomainName"] = json!("www.dev.pantri.example.com");
    }
    std::fs::write(&global, serde_json::to_string_pretty(&t).expect("json")).expect("write");

    let out = pantri(
        dir.path(),
        &[
            "diff",
            "dev",
            "--baseline",
            "before",
            "--app",
            "after",
            "--format",
            "json",
            "--fail",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).expect("JSON output");
    let stack = |name: &str| {
        json["stacks"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == name))
            .unwrap_or_else(|| panic!("{name} in {json}"))
            .clone()
    };
    let (global, edge) = (stack("dev/Global"), stack("dev/Edge"));
    let producer = &global["crossStack"][0];
    assert_eq!(producer["role"], "producer", "{global}");
    assert_eq!(producer["otherStack"], "dev/Edge", "{global}");
    let value = producer["value"].as_str().expect("value");
    assert!(value.contains("(parameter "), "{value}");
    let reason = producer["reason"].as_str().expect("reason");
    assert!(
        reason.contains("is replaced while dev/Edge reads it through parameter"),
        "{reason}"
    );
    let consumer = &edge["crossStack"][0];
    assert_eq!(
        (&consumer["role"], &consumer["otherStack"]),
        (&json!("consumer"), &json!("dev/Global")),
        "{edge}"
    );
    assert_eq!(
        edge["status"], "updated",
        "the reader shows as changed: {edge}"
    );
}

/// Two stages with a bucket each; the second's has a property S3 does not have (`BucketNmae`),
/// which only synthesis finds (the schema), not the building of the tree.
fn two_stages(_: &pantri::cli::AppContext) -> anyhow::Result<pantri_synth::App> {
    use pantri_synth::{App, Environment, RawResource, StackProps, Value};
    let mut app = App::new();
    for (stage, property) in [("good", "BucketName"), ("bad", "BucketNmae")] {
        let mut root = app.root();
        let mut stage = root.stage(stage, Environment::new("123456789012", "eu-west-1"));
        let mut bucket = RawResource {
            type_name: "AWS::S3::Bucket".to_owned(),
            properties: Default::default(),
        };
        bucket
            .properties
            .insert(property.to_owned(), Value::from("pantri-diff-test"));
        stage
            .stack("Storage", StackProps::default())
            .raw_resource("Bucket", bucket);
    }
    Ok(app)
}

/// `pantri diff ARGS...` of [`two_stages`]: exit code, stdout, stderr.
fn diff_two_stages(args: &[&str]) -> (pantri::exit::Exit, String, String) {
    use clap::Parser;
    let cli = pantri::cli::Cli::parse_from(["pantri", "diff"].iter().chain(args));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = pantri::cli::run(cli, &two_stages, &mut out, &mut err);
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8");
    (code, text(out), text(err))
}

/// A stage's diff synthesizes that stage alone, as `synth STAGE` and `deploy STAGE` do: another
/// stage's problems are that stage's diff's, not this one's.
#[test]
fn a_stage_diff_synthesizes_that_stage_alone() {
    let empty = tempfile::tempdir().expect("tempdir");
    let baseline = empty.path().join("cdk.out");
    std::fs::create_dir_all(&baseline).expect("dir");
    std::fs::write(
        baseline.join("manifest.json"),
        r#"{"version": "48.0.0", "artifacts": {}}"#,
    )
    .expect("manifest");
    let baseline = baseline.to_str().expect("utf-8");

    let (code, out, err) = diff_two_stages(&["good", "--baseline", baseline, "--no-color"]);
    assert_eq!(code, pantri::exit::Exit::Success, "{err}");
    assert!(out.contains("Stack good/Storage"), "{out}");
    assert!(!out.contains("bad/") && !err.contains("bad"), "{out}{err}");

    for args in [
        &["bad", "--baseline", baseline][..],
        &["--baseline", baseline],
    ] {
        let (code, out, err) = diff_two_stages(args);
        assert_ne!(code, pantri::exit::Exit::Success, "{args:?}: {out}");
        assert!(
            err.contains("bad/Storage/Bucket") && err.contains("BucketNmae"),
            "{args:?}: {err}"
        );
        // A diff writes nothing, and does not say it did not.
        assert!(
            err.trim_end().ends_with("synthesis failed with 1 error(s)"),
            "{args:?}: {err}"
        );
    }
}
