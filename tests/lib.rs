//! Helpers for the end-to-end tests of the `pantri` binary.

pub mod moto;
pub mod proxy;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The `pantri` binary, built once per test process so that it is never stale (`cargo test -p
/// pantri-tests` alone does not rebuild another package's binary).
pub fn pantri_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let mut build = Command::new(env!("CARGO"));
            build
                .args(["build", "-p", "pantri", "--quiet"])
                .current_dir(workspace_root());
            // The variables cargo set for this test process would reach build scripts that
            // watch them (ring's watches CARGO_MANIFEST_DIR) and make this build and the next
            // `cargo test` rebuild each other's pantri, a minute each.
            for (name, _) in std::env::vars_os() {
                let name = name.to_string_lossy();
                if [
                    "CARGO_MANIFEST",
                    "CARGO_PKG_",
                    "CARGO_CRATE_",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                ]
                .iter()
                .any(|p| name.starts_with(p))
                {
                    build.env_remove(name.as_ref());
                }
            }
            let status = build.status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "cargo build -p pantri failed"
            );
            // target/<profile>/deps/<test> → target/<profile>/pantri
            let exe = std::env::current_exe().unwrap_or_default();
            exe.parent()
                .and_then(Path::parent)
                .map(|d| d.join("pantri"))
                .unwrap_or_default()
        })
        .clone()
}

/// Runs `pantri ARGS` in `dir`.
pub fn pantri(dir: &Path, args: &[&str]) -> Output {
    Command::new(pantri_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run pantri: {e}"))
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies the reference app's stage settings into `dir/stages`.
pub fn copy_stages(dir: &Path) -> PathBuf {
    let stages = dir.join("stages");
    std::fs::create_dir_all(&stages).unwrap_or_else(|e| panic!("mkdir: {e}"));
    for entry in
        std::fs::read_dir(workspace_root().join("stages")).unwrap_or_else(|e| panic!("stages: {e}"))
    {
        let entry = entry.unwrap_or_else(|e| panic!("entry: {e}"));
        std::fs::copy(entry.path(), stages.join(entry.file_name()))
            .unwrap_or_else(|e| panic!("copy: {e}"));
    }
    // The stages name their web app relative to themselves (`../fixtures/web`).
    let fixtures = dir.join("fixtures");
    if !fixtures.exists() {
        std::os::unix::fs::symlink(workspace_root().join("fixtures"), &fixtures)
            .unwrap_or_else(|e| panic!("symlink fixtures: {e}"));
    }
    stages
}

/// Writes a cloud assembly of stage `dev` into `dir`: stacks `(id, template, dependencies)` in
/// `account` and us-east-1, each named `dev-<id>`.
pub fn write_assembly(dir: &Path, account: &str, stacks: &[(&str, &Value, &[&str])]) {
    let mut artifacts = serde_json::Map::new();
    for (id, template, deps) in stacks {
        let file = format!("dev-{id}.template.json");
        let text = serde_json::to_string_pretty(template).unwrap_or_default();
        std::fs::write(dir.join(&file), text).unwrap_or_else(|e| panic!("write {file}: {e}"));
        artifacts.insert(
            format!("dev-{id}"),
            json!({
                "type": "aws:cloudformation:stack",
                "environment": format!("aws://{account}/us-east-1"),
                "properties": {"templateFile": file, "stackName": format!("dev-{id}"), "tags": {"project": "pantri-e2e"}},
                "dependencies": deps.iter().map(|d| format!("dev-{d}")).collect::<Vec<_>>(),
                "displayName": format!("dev/{id}"),
            }),
        );
    }
    let manifest = json!({"version": "48.0.0", "artifacts": artifacts});
    std::fs::write(dir.join("manifest.json"), manifest.to_string())
        .unwrap_or_else(|e| panic!("write manifest.json: {e}"));
}

/// Runs `pantri ARGS --endpoint-url <moto>` in `dir` with moto's default credentials in the
/// environment and the AWS config and credentials files `dir/aws-config` and
/// `dir/aws-credentials` (so a deployer's real ~/.aws is never read).
pub fn pantri_on_moto(dir: &Path, moto: &moto::Moto, args: &[&str]) -> Output {
    let out = Command::new(pantri_bin())
        .args(args)
        .args(["--endpoint-url", &moto.endpoint()])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run pantri: {e}"));
    eprintln!(
        "--- pantri {}: {:?}\n{}{}",
        args.join(" "),
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

/// The image tag synth recorded in `<assembly>/dev-Web.assets.json` (the one image of stack
/// `dev/Web` of the asset tests).
pub fn recorded_tag(assembly: &Path) -> String {
    let text =
        std::fs::read_to_string(assembly.join("dev-Web.assets.json")).expect("asset manifest");
    let m: Value = serde_json::from_str(&text).expect("json");
    let images = m["dockerImages"].as_object().expect("images");
    let (_, image) = images.iter().next().expect("one image");
    let dest = image["destinations"].as_object().expect("destinations");
    let (_, d) = dest.iter().next().expect("one destination");
    d["imageTag"].as_str().expect("tag").to_owned()
}
