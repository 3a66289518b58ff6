//! Assets through the public API: what synthesis writes for file assets, image assets and file
//! trees, and that an application-only change rewrites only the asset manifests.

use std::path::Path;

use pantri_synth::asset::schema::{AssetManifest, FileTreeManifest};
use pantri_synth::asset::{
    FileAssetProps, FileTreeProps, ImageAssetProps, Packaging, Platform, TreeBucket,
    ASSET_PARAMETER_METADATA, IMMUTABLE_CACHE_CONTROL, SHORT_CACHE_CONTROL,
};
use pantri_synth::{
    synthesize, App, Environment, Output, RawResource, StackProps, SynthError, SynthOptions, Value,
};
use serde_json::{json, Value as Json};

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

/// A web app directory: a build context with a Dockerfile, a bundler's output and public files.
fn web_app(root: &Path) {
    write(root, "web/Dockerfile", "FROM scratch\nCOPY server.txt /\n");
    write(root, "web/server.txt", "v1");
    write(root, "web/.dockerignore", "*.log\n");
    write(
        root,
        "web/.next/static/chunks/app-1a2b.js",
        "console.log(1)",
    );
    write(root, "web/public/robots.txt", "User-agent: *\n");
    write(root, "web/migration.sql", "create table t();");
}

fn app(root: &Path) -> App {
    let mut app = App::new();
    let mut r = app.root();
    let mut stage = r.stage("dev", Environment::new("123456789012", "eu-west-1"));
    let bucket_output = {
        let mut data = stage.stack("Data", StackProps::default());
        let bucket = data.raw_resource(
            "Static",
            RawResource {
                type_name: "AWS::S3::Bucket".into(),
                properties: Default::default(),
            },
        );
        data.output("StaticBucketName", Output::new(bucket.ref_()))
    };
    let mut svc = stage.stack("Service", StackProps::default());
    let image = svc.image_asset(
        "Image",
        ImageAssetProps {
            platform: Platform::LinuxArm64,
            ..ImageAssetProps::new(root.join("web"), "pantri-dev")
        },
    );
    let sql = svc.file_asset(
        "Migration",
        FileAssetProps {
            path: root.join("web/migration.sql"),
            packaging: Packaging::File,
            bucket_name: "cdk-assets-${AWS::AccountId}-${AWS::Region}".into(),
            key_prefix: "sql/".into(),
        },
    );
    svc.raw_resource(
        "Task",
        RawResource {
            // A custom resource: free-form properties that take the assets' values (an ECS task
            // definition would be checked against its schema, which has no such properties).
            type_name: "Custom::Task".into(),
            properties: [
                (
                    "Image".to_owned(),
                    Value::from(pantri_synth::fns::join(
                        ":",
                        [pantri_synth::Str::from("repo"), image.image_tag()],
                    )),
                ),
                ("Migration".to_owned(), Value::from(sql.object_key())),
            ]
            .into_iter()
            .collect(),
        },
    );
    svc.file_tree(
        "NextStatic",
        FileTreeProps {
            directory: root.join("web/.next/static"),
            bucket: TreeBucket::Output(bucket_output),
            prefix: "_next/static/".into(),
            content_hashed: true,
            refresh_after_days: Some(30),
            invalidate: None,
        },
    );
    svc.file_tree(
        "Public",
        FileTreeProps {
            directory: root.join("web/public"),
            bucket: TreeBucket::Name("static-bucket".into()),
            prefix: String::new(),
            content_hashed: false,
            refresh_after_days: None,
            invalidate: None,
        },
    );
    app
}

fn synth(root: &Path) -> pantri_synth::CloudAssembly {
    synthesize(
        &app(root),
        &SynthOptions {
            assembly_dir: root.join("cdk.out"),
            ..SynthOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .assembly
}

#[test]
fn assets_are_written_in_the_cloud_assembly_format_with_sources_relative_to_the_assembly() {
    let dir = tempfile::tempdir().expect("tmp");
    web_app(dir.path());
    let assembly = synth(dir.path());
    let artifacts = &assembly.manifest.artifacts;
    let assets = &artifacts["dev-Service.assets"];
    assert_eq!(assets.kind, "cdk:asset-manifest");
    assert_eq!(
        assets.properties,
        Some(json!({ "file": "dev-Service.assets.json" }))
    );
    let stack = &artifacts["dev-Service"];
    assert_eq!(stack.dependencies, vec!["dev-Service.assets", "dev-Data"]);
    assert_eq!(artifacts["dev-Service.trees"].kind, "pantri:file-trees");
    assert!(
        !artifacts.contains_key("dev-Data.assets"),
        "no assets, no manifest"
    );

    let manifest: AssetManifest =
        serde_json::from_str(&assembly.files["dev-Service.assets.json"]).expect("manifest");
    let image = &manifest.docker_images["Image"];
    assert_eq!(image.source.directory, "../web");
    assert_eq!(image.source.platform.as_deref(), Some("linux/arm64"));
    let dest = &image.destinations["123456789012-eu-west-1"];
    assert_eq!(dest.repository_name, "pantri-dev");
    assert_eq!(dest.image_tag.len(), 64, "the content hash is the tag");
    let file = &manifest.files["Migration"];
    assert_eq!(file.source.path, "../web/migration.sql");
    let key = &file.destinations["123456789012-eu-west-1"].object_key;
    assert!(key.starts_with("sql/") && key.ends_with(".sql"), "{key}");

    let trees: FileTreeManifest =
        serde_json::from_str(&assembly.files["dev-Service.trees.json"]).expect("trees");
    let next = &trees.trees["NextStatic"];
    assert_eq!(next.path, "../web/.next/static");
    assert_eq!(next.destination.prefix, "_next/static/");
    assert_eq!(next.destination.cache_control, IMMUTABLE_CACHE_CONTROL);
    let link = next
        .destination
        .bucket_name_output
        .as_ref()
        .expect("output");
    assert_eq!(
        (link.stack.as_str(), link.output.as_str()),
        ("dev-Data", "StaticBucketName")
    );
    assert_eq!(
        trees.trees["Public"].destination.cache_control,
        SHORT_CACHE_CONTROL
    );

    // The template refers to parameters; the manifest says which asset fills each.
    let template: Json =
        serde_json::from_str(&assembly.files["dev-Service.template.json"]).expect("template");
    let params = template["Parameters"].as_object().expect("parameters");
    assert_eq!(params.len(), 2, "{params:?}");
    assert!(
        params.keys().any(|k| k.starts_with("ImageImageTag")),
        "{params:?}"
    );
    assert!(
        params.values().all(|p| p.get("Default").is_none()),
        "no hash in a default"
    );
    let meta = &stack.metadata["/dev/Service"];
    let filled: Vec<&Json> = meta
        .iter()
        .filter(|e| e.kind == ASSET_PARAMETER_METADATA)
        .map(|e| &e.data)
        .collect();
    assert_eq!(filled.len(), 2, "{filled:?}");
    assert!(filled
        .iter()
        .any(|d| d["asset"] == "Image" && d["attribute"] == "imageTag"));
    assert!(filled
        .iter()
        .any(|d| d["asset"] == "Migration" && d["attribute"] == "objectKey"));
}

#[test]
fn an_app_only_change_rewrites_only_the_asset_manifests() {
    let dir = tempfile::tempdir().expect("tmp");
    web_app(dir.path());
    let before = synth(dir.path());
    assert_eq!(
        before,
        synth(dir.path()),
        "byte-identical for unchanged inputs"
    );
    write(dir.path(), "web/server.txt", "v2");
    write(
        dir.path(),
        "web/.next/static/chunks/app-3c4d.js",
        "console.log(2)",
    );
    write(dir.path(), "web/debug.log", "ignored by .dockerignore");
    let after = synth(dir.path());
    let changed: Vec<&String> = before
        .files
        .iter()
        .filter(|(name, text)| after.files.get(*name) != Some(text))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        changed,
        vec!["dev-Service.assets.json", "dev-Service.trees.json"],
        "templates, manifest.json and tree.json stay byte-identical"
    );
}

#[test]
fn an_ignored_file_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    web_app(dir.path());
    let before = synth(dir.path());
    write(dir.path(), "web/debug.log", "ignored by .dockerignore");
    assert_eq!(before, synth(dir.path()));
}

#[test]
fn a_missing_source_is_an_error_at_the_asset_path_and_nothing_is_produced() {
    let dir = tempfile::tempdir().expect("tmp");
    let errors = match synthesize(&app(dir.path()), &SynthOptions::default()) {
        Err(SynthError::Invalid(problems)) => problems,
        other => panic!("expected problems, got {other:?}"),
    };
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|e| e.contains("[dev/Service/Image]") && e.contains("cannot read")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|e| e.contains("[dev/Service/NextStatic]")),
        "{text:?}"
    );
}
