//! Assets as the CDK's tools see them: the asset manifests pantri writes are read by the pinned
//! `cdk-assets` (installed into `.tools` by `scripts/tools`), which lists every asset.

use std::path::Path;
use std::process::Command;

use pantri_synth::asset::schema::AssetManifest;
use pantri_synth::asset::{FileAssetProps, ImageAssetProps, Packaging};
use pantri_synth::{synthesize, App, Environment, StackProps, SynthOptions};
use pantri_tests::workspace_root;

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
