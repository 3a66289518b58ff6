//! Assets as the CDK's tools see them: the asset manifests pantri writes are read by the pinned
//! `cdk-assets` (installed into `.tools` by `scripts/tools`), which lists every asset. And the
//! reference app's `web` settings: an image built elsewhere (`web.image`) runs as it is, with
//! its static files still published, and contradictory or incomplete settings are refused.

use std::path::Path;
use std::process::Command;

use pantri_synth::asset::schema::AssetManifest;
use pantri_synth::asset::{FileAssetProps, ImageAssetProps, Packaging};
use pantri_synth::{synthesize, App, Environment, StackProps, SynthOptions};
use pantri_tests::{copy_stages, pantri, stderr, stdout, workspace_root};

#[path = "reference.rs"]
mod reference;

/// An app whose one stack has the fixture's image, a zipped directory and a single file.
fn fixture_app(web: &Path) -> App {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new("123456789012", "eu-west-1"));
    let mut stack = stage.stack("Service", StackProps::default());
    stack.image_asset("Image", ImageAssetProps::new(web, "pantri-dev"));
    stack.file_asset(
        "Static",
        FileAssetProps {
            path: web.join(".next/static"),
            packaging: Packaging::Zip,
            bucket_name: "assets-${AWS::AccountId}-${AWS::Region}".into(),
            key_prefix: String::new(),
        },
    );
    stack.file_asset(
        "Robots",
        FileAssetProps {
            path: web.join("public/robots.txt"),
            packaging: Packaging::File,
            bucket_name: "assets-${AWS::AccountId}-${AWS::Region}".into(),
            key_prefix: "public/".into(),
        },
    );
    app
}

#[test]
fn cdk_assets_lists_every_asset_pantri_writes() {
    let cdk_assets = workspace_root().join(".tools/node_modules/.bin/cdk-assets");
    assert!(
        cdk_assets.exists(),
        "{} is missing: run scripts/tools",
        cdk_assets.display()
    );
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("cdk.out");
    let app = fixture_app(&workspace_root().join("fixtures/web"));
    let synthesis = synthesize(
        &app,
        &SynthOptions {
            assembly_dir: out.clone(),
            ..SynthOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    synthesis.assembly.write(&out).expect("write");
    let file = out.join("dev-Service.assets.json");
    let manifest: AssetManifest =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("parse");
    let listed = Command::new(&cdk_assets)
        .args(["ls", "-p"])
        .arg(&file)
        .output()
        .expect("cdk-assets runs");
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let mut expected = 0;
    for (id, entry) in &manifest.docker_images {
        let dest = &entry.destinations["123456789012-eu-west-1"];
        assert!(text.contains(&format!("{id} docker-image")), "{text}");
        assert!(
            text.contains(&dest.image_tag),
            "the tag (hash) is read: {text}"
        );
        expected += 1;
    }
    for (id, entry) in &manifest.files {
        let dest = &entry.destinations["123456789012-eu-west-1"];
        assert!(text.contains(&format!("{id} file")), "{text}");
        assert!(text.contains(&dest.object_key), "{text}");
        expected += 1;
    }
    assert_eq!(expected, 3);
    assert_eq!(
        text.lines().filter(|l| !l.starts_with(' ')).count(),
        expected,
        "one line per asset, nothing else: {text}"
    );
}

/// A copy of the stages whose dev names its web app with `web` (the YAML block's body).
fn stages_with_web(dir: &Path, web: &str) -> std::path::PathBuf {
    let stages = copy_stages(dir);
    let dev = stages.join("dev.yaml");
    let text = std::fs::read_to_string(&dev).expect("dev.yaml");
    let start = text.find("\nweb:\n").expect("dev has a web block") + 1;
    std::fs::write(&dev, format!("{}web:\n{web}", &text[..start])).expect("write");
    stages
}

const BUILT_ELSEWHERE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/pantri-app:3f2a9c1";

#[test]
fn an_image_built_elsewhere_runs_as_named_and_its_static_files_are_still_published() {
    let dir = tempfile::tempdir().expect("tmp");
    let stages = stages_with_web(
        dir.path(),
        &format!("  image: {BUILT_ELSEWHERE}\n  static_files: ../fixtures/web\n"),
    );
    let stacks = reference::stacks_of(&stages);
    let service = reference::stack(&stacks, "dev/Service");
    // The task runs the URI as it is: no tag parameter, no image asset.
    let tasks = reference::resources(service, "AWS::ECS::TaskDefinition");
    let (_, task) = tasks.first().expect("a task definition");
    let app = task["Properties"]["ContainerDefinitions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["Name"] == "web"))
        .expect("the app container");
    assert_eq!(app["Image"], BUILT_ELSEWHERE);
    assert!(
        service.template["Parameters"].get("ImageTag").is_none()
            && !service.template["Parameters"]
                .as_object()
                .is_some_and(|p| p.keys().any(|k| k.starts_with("Image"))),
        "{}",
        service.template["Parameters"]
    );
    // The execution role pulls from that repository, and no other.
    let pull = serde_json::json!({"Fn::Sub": "arn:${AWS::Partition}:ecr:us-east-1:123456789012:repository/pantri-app"});
    let text = service.template.to_string();
    assert!(text.contains(&pull.to_string()), "{text}");
    // The Edge stack still publishes the build output of static_files.
    let out = pantri(dir.path(), &["ls", "--assets"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    let dev: Vec<&str> = listed.lines().filter(|l| l.starts_with("dev/")).collect();
    assert!(
        !dev.iter().any(|l| l.contains(" image ")),
        "no image to build: {listed}"
    );
    assert!(
        dev.iter().any(|l| l.starts_with("dev/Edge")
            && l.contains("NextStatic")
            && l.contains("fixtures/web/.next/static")),
        "{listed}"
    );
    assert!(
        dev.iter().any(|l| l.starts_with("dev/Edge")
            && l.contains("Public")
            && l.contains("fixtures/web/public")),
        "{listed}"
    );
    // prod still builds its image from source.
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("prod/Service") && l.contains(" image ")),
        "{listed}"
    );
}

#[test]
fn a_digest_is_run_as_named_too() {
    let dir = tempfile::tempdir().expect("tmp");
    let uri = format!(
        "ghcr.io/example/pantri@sha256:{}",
        "0123456789abcdef".repeat(4)
    );
    let stages = stages_with_web(
        dir.path(),
        &format!("  image: {uri}\n  static_files: ../fixtures/web\n"),
    );
    let stacks = reference::stacks_of(&stages);
    let service = reference::stack(&stacks, "dev/Service");
    let text = service.template.to_string();
    assert!(text.contains(&format!("\"Image\":\"{uri}\"")), "{text}");
    assert!(
        !text.contains("PullAppImage"),
        "another registry is pulled without ECR grants: {text}"
    );
}

#[test]
fn contradictory_or_incomplete_web_settings_are_refused_naming_the_file() {
    let cases = [
        ("  keep_release_files_days: 30\n", "web: names no app: set `source: <dir>`"),
        (
            &*format!("  source: ../fixtures/web\n  image: {BUILT_ELSEWHERE}\n"),
            "web.source and web.image are both set",
        ),
        (
            &*format!("  image: {BUILT_ELSEWHERE}\n"),
            "web.image needs web.static_files",
        ),
        (
            "  source: ../fixtures/web\n  static_files: ../fixtures/web\n",
            "web.static_files is set with web.source",
        ),
        (
            "  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/pantri-app\n  static_files: ../fixtures/web\n",
            "names no tag or digest",
        ),
        (
            "  image: ghcr.io/example/pantri:latest\n  static_files: ../fixtures/web\n",
            "runs tag `latest`, which moves",
        ),
        (
            "  image: ghcr.io/example/pantri@sha256:abc\n  static_files: ../fixtures/web\n",
            "has a digest that is not sha256:<64 lower-case hex digits>",
        ),
    ];
    for (web, expected) in cases {
        let dir = tempfile::tempdir().expect("tmp");
        stages_with_web(dir.path(), web);
        let out = pantri(dir.path(), &["synth"]);
        assert_eq!(out.status.code(), Some(2), "{web}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("stages/dev.yaml"), "{web}: {err}");
        assert!(err.contains(expected), "{web}: {err}");
        assert!(!dir.path().join("cdk.out").exists(), "nothing is written");
    }
}
