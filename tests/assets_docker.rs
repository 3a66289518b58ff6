//! Image publishing for real: `pantri deploy` builds the fixture app's `FROM scratch` image with
//! Debian's `docker` against a real `dockerd`, pushes it to a registry on 127.0.0.1
//! (`PANTRI_IMAGE_REGISTRY`), the tag is read back from the registry's HTTP API, and a second
//! deploy builds and pushes nothing. CloudFormation is the moto server. `scripts/test` starts the
//! daemon and the registry (`scripts/docker start`) and exports `DOCKER_HOST`,
//! `PANTRI_TEST_REGISTRY` and `PANTRI_CONTAINER_CLI`; without them this test fails and says so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use pantri_synth::asset::{ImageAssetProps, Platform};
use pantri_synth::{synthesize, App, Environment, RawResource, StackProps, SynthOptions, Value};
use pantri_tests::moto::Moto;
use pantri_tests::{pantri_bin, recorded_tag, stderr, stdout, workspace_root};

/// The manifest format ECR and the registry both serve (schema 2, layers listed).
const MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";

fn registry() -> String {
    std::env::var("PANTRI_TEST_REGISTRY")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| {
            panic!(
            "PANTRI_TEST_REGISTRY is unset: this test needs dockerd and a registry on 127.0.0.1; \
             run it through scripts/test, or `scripts/docker start DIR && . DIR/env` first"
        )
        })
}

/// Stage `dev`, stack `Web`: the fixture's image, its tag in a parameter of the template.
fn assembly(dir: &Path, context: &Path, repository: &str) -> std::path::PathBuf {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new("123456789012", "us-east-1"));
    let mut stack = stage.stack("Web", StackProps::default());
    let mut props = ImageAssetProps::new(context, repository);
    props.platform = Platform::LinuxAmd64;
    let image = stack.image_asset("Image", props);
    stack.raw_resource(
        "Release",
        RawResource {
            type_name: "AWS::SSM::Parameter".into(),
            properties: [
                ("Type".to_owned(), Value::from("String")),
                ("Value".to_owned(), Value::from(image.image_tag())),
            ]
            .into_iter()
            .collect(),
        },
    );
    let out = dir.join("cdk.out");
    let options = SynthOptions {
        assembly_dir: out.clone(),
        ..SynthOptions::default()
    };
    let synthesis = synthesize(&app, &options).unwrap_or_else(|e| panic!("{e}"));
    synthesis.assembly.write(&out).expect("write");
    out
}

fn deploy(moto: &Moto, assembly: &Path, registry: &str) -> Output {
    let out = Command::new(pantri_bin())
        .args(["deploy", "dev", "--yes", "--progress", "events"])
        .args(["--poll-interval-ms", "100"])
        .arg("--app")
        .arg(assembly)
        .args(["--endpoint-url", &moto.endpoint()])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env("PANTRI_IMAGE_REGISTRY", registry)
        .output()
        .expect("pantri runs");
    eprintln!("--- deploy\n{}{}", stdout(&out), stderr(&out));
    out
}

/// A GET of the registry's HTTP API (`/v2/...`): status and body.
fn registry_get(registry: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(registry).expect("the registry answers");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {registry}\r\nAccept: {MANIFEST_V2}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn the_fixture_image_is_built_and_pushed_to_a_local_registry_and_a_second_deploy_pushes_nothing() {
    let registry = registry();
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    // A repository of this run's own: the registry outlives one run of the test.
    let repository = format!("pantri/web-{}", std::process::id());
    let cdk_out = assembly(
        dir.path(),
        &workspace_root().join("fixtures/web"),
        &repository,
    );
    let tag = recorded_tag(&cdk_out);

    let (status, _) = registry_get(&registry, &format!("/v2/{repository}/manifests/{tag}"));
    assert_eq!(status, 404, "the registry starts without this tag");

    let first = deploy(&moto, &cdk_out, &registry);
    assert!(first.status.success(), "{}", stderr(&first));
    let image = format!("{registry}/{repository}:{tag}");
    assert!(
        stdout(&first).contains("dev/Web: image Image: built with"),
        "{}",
        stdout(&first)
    );
    assert!(
        stdout(&first).contains(&format!("and pushed {image}")),
        "{}",
        stdout(&first)
    );

    let (status, tags) = registry_get(&registry, &format!("/v2/{repository}/tags/list"));
    assert_eq!(status, 200, "{tags}");
    let tags: serde_json::Value = serde_json::from_str(&tags).expect("json");
    assert!(
        tags["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .any(|t| t == tag.as_str()),
        "the registry lists the pushed tag: {tags}"
    );
    // The image holds what the Dockerfile copied: a manifest with the fixture's two layers.
    let (status, manifest) = registry_get(&registry, &format!("/v2/{repository}/manifests/{tag}"));
    assert_eq!(status, 200, "{manifest}");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("json");
    assert_eq!(
        manifest["layers"].as_array().map(Vec::len),
        Some(2),
        "{manifest}"
    );

    let second = deploy(&moto, &cdk_out, &registry);
    assert!(second.status.success(), "{}", stderr(&second));
    let text = stdout(&second);
    assert!(
        text.contains(&format!(
            "dev/Web: image Image: {image} is in the repository, nothing to build"
        )),
        "{text}"
    );
    assert!(
        !text.contains("pushed"),
        "nothing pushed the second time: {text}"
    );
}

#[test]
fn a_failing_build_names_the_asset_shows_the_tools_last_lines_and_exits_1() {
    let registry = registry();
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    let context = dir.path().join("broken");
    std::fs::create_dir_all(&context).expect("mkdir");
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nCOPY not-there.js /app/\n",
    )
    .expect("write");
    let repository = format!("pantri/broken-{}", std::process::id());
    let cdk_out = assembly(dir.path(), &context, &repository);
    let out = deploy(&moto, &cdk_out, &registry);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("dev/Web"), "{err}");
    assert!(err.contains("asset Image: `"), "the asset is named: {err}");
    assert!(err.contains(" build --tag "), "the command is named: {err}");
    assert!(err.contains("its last lines:"), "{err}");
    assert!(
        err.contains("  | ") && err.contains("not-there.js"),
        "docker's own words: {err}"
    );
    let (status, _) = registry_get(&registry, &format!("/v2/{repository}/tags/list"));
    assert_eq!(status, 404, "nothing was pushed");
}
