//! `pantri deploy` publishing assets, end to end with the real binary against a local moto
//! server (127.0.0.1 only): the fixture app's file trees land in S3 with their content types and
//! cache headers and a second deploy uploads nothing; the image flow runs through a recording
//! stand-in for the container CLI: against moto's ECR it is refused before anything is built
//! (the push would go to the real ECR host) unless the tag is present (DescribeImages), and
//! with `PANTRI_IMAGE_REGISTRY` on 127.0.0.1 it builds and pushes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pantri_synth::asset::{FileHashCache, FileTreeProps, ImageAssetProps, TreeBucket};
use pantri_synth::{synthesize, App, Environment, RawResource, StackProps, SynthOptions, Value};
use pantri_tests::moto::Moto;
use pantri_tests::{pantri_bin, recorded_tag, stderr, stdout, workspace_root};

const BUCKET: &str = "pantri-assets-e2e";
const REPOSITORY: &str = "pantri-assets-e2e";

fn raw(type_name: &str, props: &[(&str, &str)]) -> RawResource {
    RawResource {
        type_name: type_name.into(),
        properties: props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect(),
    }
}

/// Stage `dev`: `Data` holds the bucket and the repository; `Web` publishes the fixture's
/// `.next/static` and `public` trees (and, with `image`, its container image) before it deploys.
fn app(image: bool) -> App {
    app_from(&workspace_root().join("fixtures/web"), image)
}

/// [`app`] with the web app in `web`.
fn app_from(web: &Path, image: bool) -> App {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new("123456789012", "us-east-1"));
    let data = {
        let mut data = stage.stack("Data", StackProps::default());
        data.raw_resource("Static", raw("AWS::S3::Bucket", &[("BucketName", BUCKET)]));
        data.raw_resource(
            "Repository",
            raw("AWS::ECR::Repository", &[("RepositoryName", REPOSITORY)]),
        );
        data.node()
    };
    let mut stack = stage.stack("Web", StackProps::default());
    stack.add_dependency(data);
    stack.raw_resource("Marker", raw("AWS::SNS::Topic", &[]));
    stack.file_tree(
        "NextStatic",
        FileTreeProps {
            directory: web.join(".next/static"),
            bucket: TreeBucket::Name(BUCKET.into()),
            prefix: "_next/static/".into(),
            content_hashed: true,
            refresh_after_days: Some(15),
            invalidate: None,
        },
    );
    stack.file_tree(
        "Public",
        FileTreeProps {
            directory: web.join("public"),
            bucket: TreeBucket::Name(BUCKET.into()),
            prefix: String::new(),
            content_hashed: false,
            refresh_after_days: Some(15),
            invalidate: None,
        },
    );
    if image {
        let asset = stack.image_asset("Image", ImageAssetProps::new(web, REPOSITORY));
        stack.raw_resource(
            "Task",
            RawResource {
                type_name: "AWS::SSM::Parameter".into(),
                properties: [
                    ("Type".to_owned(), Value::from("String")),
                    ("Value".to_owned(), Value::from(asset.image_tag())),
                ]
                .into_iter()
                .collect(),
            },
        );
    }
    app
}

fn assembly(dir: &Path, image: bool) -> PathBuf {
    assembly_of(dir, app(image))
}

fn assembly_of(dir: &Path, app: App) -> PathBuf {
    let out = dir.join("cdk.out");
    let options = SynthOptions {
        assembly_dir: out.clone(),
        ..SynthOptions::default()
    };
    let synthesis = synthesize(&app, &options).unwrap_or_else(|e| panic!("{e}"));
    synthesis.assembly.write(&out).expect("write");
    out
}

fn deploy(moto: &Moto, assembly: &Path, env: &[(&str, &str)]) -> Output {
    deploy_with(moto, assembly, env, &[])
}

fn deploy_with(moto: &Moto, assembly: &Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut cmd = Command::new(pantri_bin());
    cmd.args([
        "deploy",
        "dev",
        "--yes",
        "--progress",
        "events",
        "--poll-interval-ms",
        "100",
    ])
    .arg("--app")
    .arg(assembly)
    .args(extra);
    let out = on_moto(&mut cmd, moto)
        .envs(env.iter().copied())
        .output()
        .expect("pantri runs");
    eprintln!("--- deploy\n{}{}", stdout(&out), stderr(&out));
    out
}

/// `cmd` against `moto`, with its test keys and no registry of this machine.
fn on_moto<'c>(cmd: &'c mut Command, moto: &Moto) -> &'c mut Command {
    cmd.args(["--endpoint-url", &moto.endpoint()])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("PANTRI_IMAGE_REGISTRY")
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    response.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn file_trees_are_published_with_types_and_caching_and_a_second_deploy_uploads_nothing() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    let cdk_out = assembly(dir.path(), false);
    let first = deploy(&moto, &cdk_out, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let text = stdout(&first);
    assert!(
        text.contains(
            "dev/Web: tree NextStatic: 3 files to s3://pantri-assets-e2e/_next/static/: 3 uploaded"
        ),
        "{text}"
    );
    assert!(text.contains("tree Public: 2 files"), "{text}");

    let (status, chunk) = moto.s3_get(&format!("/{BUCKET}/_next/static/chunks/main-3f2a9c1b.js"));
    assert_eq!(status, 200, "{chunk}");
    assert!(chunk.contains("pantri: hydrated"), "{chunk}");
    assert_eq!(
        header(&chunk, "Content-Type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        header(&chunk, "Cache-Control"),
        Some("public, max-age=31536000, immutable")
    );
    let (status, robots) = moto.s3_get(&format!("/{BUCKET}/robots.txt"));
    assert_eq!(status, 200, "{robots}");
    assert_eq!(
        header(&robots, "Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        header(&robots, "Cache-Control"),
        Some("public, max-age=300, must-revalidate")
    );
    let (_, svg) = moto.s3_get(&format!("/{BUCKET}/favicon.svg"));
    assert_eq!(
        header(&svg, "Content-Type"),
        Some("image/svg+xml; charset=utf-8")
    );

    let second = deploy(&moto, &cdk_out, &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    let text = stdout(&second);
    assert!(
        text.contains("tree NextStatic: 3 files to s3://pantri-assets-e2e/_next/static/: 0 uploaded, 0 refreshed, 3 unchanged (1 listing call)"),
        "{text}"
    );
    assert!(
        text.contains("tree Public: 2 files to s3://pantri-assets-e2e/: 0 uploaded, 0 refreshed, 2 unchanged (1 listing call)"),
        "{text}"
    );
}

/// A wrong hash in the file-hash cache (forged here: a real run keeps only a file's true hash
/// under its stamp) reaches the asset manifest, as a kept hash is believed, but never S3:
/// deploy hashes every source again from its bytes, refuses the tree and publishes nothing.
#[test]
fn a_wrong_kept_hash_is_caught_by_deploy_before_anything_is_published() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    let cache_dir = dir.path().join("cache");
    // The fixture's files are older than any settling time: no wait is needed.
    let cache = FileHashCache::new(&cache_dir).settled_after(std::time::Duration::ZERO);
    let synth = |out: &Path| {
        let options = SynthOptions {
            assembly_dir: out.to_path_buf(),
            file_hashes: Some(cache.clone()),
            ..SynthOptions::default()
        };
        let synthesis = synthesize(&app(false), &options).unwrap_or_else(|e| panic!("{e}"));
        synthesis.assembly.write(out).expect("write");
    };
    let (honest, forged) = (dir.path().join("honest"), dir.path().join("forged"));
    synth(&honest);
    let (kept, text) = std::fs::read_dir(cache_dir.join("files"))
        .expect("cache files")
        .map(|e| e.expect("entry").path())
        .map(|p| (p.clone(), std::fs::read_to_string(p).expect("read")))
        .find(|(_, text)| {
            text.lines()
                .next()
                .is_some_and(|l| l.ends_with(".next/static"))
        })
        .expect("the cache file of .next/static");
    let line = text
        .lines()
        .find(|l| l.ends_with("\tchunks/main-3f2a9c1b.js"))
        .expect("the chunk is kept");
    let real = line.split('\t').next().expect("hash");
    std::fs::write(&kept, text.replace(real, &"0".repeat(64))).expect("forge");
    synth(&forged);
    let trees =
        |out: &Path| std::fs::read_to_string(out.join("dev-Web.trees.json")).expect("trees");
    assert_ne!(
        trees(&honest),
        trees(&forged),
        "the forged hash was believed"
    );

    let out = deploy(&moto, &forged, &[]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("changed since the assembly was synthesized"),
        "{err}"
    );
    let (status, body) = moto.s3_get(&format!("/{BUCKET}/_next/static/chunks/main-3f2a9c1b.js"));
    assert_eq!(status, 404, "nothing is published: {body}");
}

/// A stand-in for `docker` that records each command line (and what came on stdin) and
/// succeeds, except `manifest inspect`, which finds no image in the registry (so, with
/// `PANTRI_IMAGE_REGISTRY`, every image is built and pushed).
fn recording_cli(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("cli.log");
    let script = dir.join("fake-docker");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = manifest ] && exit 1\necho \"$@\" >> '{log}'\nif [ \"$1\" = login ]; then echo \"stdin:$(cat)\" >> '{log}'; fi\n",
            log = log.display()
        ),
    )
    .expect("write");
    let mut perms = std::fs::metadata(&script).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).expect("chmod");
    (script, log)
}

#[test]
fn an_emulated_deploy_refuses_to_push_to_real_ecr_and_skips_an_image_already_present() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    let cdk_out = assembly(dir.path(), true);
    let (cli, log) = recording_cli(dir.path());
    let env = [("PANTRI_CONTAINER_CLI", cli.to_str().expect("utf-8"))];
    // The repository is moto's, but the push would go to the real ECR host with moto's token.
    let first = deploy(&moto, &cdk_out, &env);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    let refusal = format!(
        "not pushing to {host}, a real ECR registry, while AWS calls go to the emulator at {} (--endpoint-url): set PANTRI_IMAGE_REGISTRY=127.0.0.1:<port> to push to a local registry, or deploy with --no-publish",
        moto.endpoint()
    );
    let err = stderr(&first);
    assert!(
        err.lines()
            .any(|l| l.starts_with("error: ") && l.ends_with(&refusal) && l.contains("dev/Web")),
        "{err}"
    );
    assert!(!log.exists(), "nothing built, logged in or pushed");
    let (_, stacks) = moto.query("cloudformation", "Action=DescribeStacks&Version=2010-05-15");
    assert!(
        !stacks.contains("<StackName>"),
        "refused before any stack was touched: {stacks}"
    );

    // Data alone has no image: it deploys and makes the repository.
    let data = deploy_with(&moto, &cdk_out, &env, &["Data", "--exclusively"]);
    assert!(data.status.success(), "{}", stderr(&data));
    // The image is in moto's repository (put through the ECR API): nothing to push, so
    // nothing to refuse.
    let tag = recorded_tag(&cdk_out);
    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"},"layers":[]}"#;
    let (status, text) = moto.json(
        "ecr",
        "AmazonEC2ContainerRegistry_V20150921.PutImage",
        &serde_json::json!({"repositoryName": REPOSITORY, "imageTag": tag, "imageManifest": manifest})
            .to_string(),
    );
    assert_eq!(status, 200, "{text}");
    let second = deploy(&moto, &cdk_out, &env);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        !log.exists(),
        "nothing built, logged in or pushed the second time"
    );
    assert!(
        stdout(&second).contains(&format!(
            "{host}/{REPOSITORY}:{tag} is in the repository, nothing to build"
        )),
        "{}",
        stdout(&second)
    );
}

/// The ECR login (what a push to ECR uses) reads moto's authorization token.
#[test]
fn the_ecr_login_is_the_authorization_token_decoded() {
    use pantri::assets::api::ImageRegistry;
    use pantri::deploy::sdk::{Connection, SdkCloudFormation};
    let moto = Moto::start();
    // Every test of this binary uses moto's test keys: setting them for the SDK here changes
    // nothing for the others (each names them for the binary it runs).
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let login = rt.block_on(async {
        let c = Connection {
            profile: None,
            endpoint_url: Some(moto.endpoint()),
            max_attempts: 1,
        };
        SdkCloudFormation::connect("us-east-1", &c)
            .await
            .login()
            .await
    });
    let login = login.expect("GetAuthorizationToken").expect("a login");
    assert_eq!(login.username, "AWS");
    assert!(!login.password.is_empty());
}

#[test]
fn ls_assets_lists_what_deploy_would_publish() {
    let dir = tempfile::tempdir().expect("tmp");
    let cdk_out = assembly(dir.path(), true);
    let out = Command::new(pantri_bin())
        .args(["ls", "--assets", "--app"])
        .arg(&cdk_out)
        .output()
        .expect("pantri runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("STACK"), "{text}");
    assert_eq!(lines.len(), 4, "a header and three assets: {text}");
    let image = lines
        .iter()
        .find(|l| l.contains(" image "))
        .expect("the image");
    assert!(image.starts_with("dev/Web"), "{text}");
    assert!(
        image.contains(&format!("ecr:{REPOSITORY}:")),
        "the destination: {text}"
    );
    let next = lines
        .iter()
        .find(|l| l.contains("NextStatic"))
        .expect("a tree");
    assert!(next.contains(" tree "), "{text}");
    assert!(
        next.contains("fixtures/web/.next/static")
            && next.contains("s3://pantri-assets-e2e/_next/static/"),
        "source and destination: {text}"
    );
}

#[test]
fn publish_only_publishes_without_a_change_set_and_no_publish_only_fills_parameters() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    let cdk_out = assembly(dir.path(), true);
    let (cli, log) = recording_cli(dir.path());
    // An emulated deploy pushes to a registry on this machine (the stand-in pushes nothing).
    let env = [
        ("PANTRI_CONTAINER_CLI", cli.to_str().expect("utf-8")),
        ("PANTRI_IMAGE_REGISTRY", "127.0.0.1:9"),
    ];
    // The bucket and repository exist (as a first deploy of Data would make them).
    let (status, text) = moto.rest("PUT", &format!("/{BUCKET}"), "s3", "");
    assert_eq!(status, 200, "{text}");
    let (status, text) = moto.json(
        "ecr",
        "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
        &serde_json::json!({"repositoryName": REPOSITORY}).to_string(),
    );
    assert_eq!(status, 200, "{text}");

    let only = deploy_with(&moto, &cdk_out, &env, &["--publish-only"]);
    assert!(only.status.success(), "{}", stderr(&only));
    let text = stdout(&only);
    assert!(text.contains("tree NextStatic: 3 files"), "{text}");
    assert!(
        text.contains("published; no stack was deployed (--publish-only)"),
        "{text}"
    );
    assert!(!text.contains(": deployed"), "{text}");
    let recorded = std::fs::read_to_string(&log).expect("the CLI ran");
    assert!(recorded.contains("push "), "{recorded}");
    let (_, stacks) = moto.query("cloudformation", "Action=DescribeStacks&Version=2010-05-15");
    assert!(
        !stacks.contains("<StackName>"),
        "no stack was made: {stacks}"
    );

    std::fs::remove_file(&log).expect("rm");
    let deployed = deploy_with(
        &moto,
        &cdk_out,
        &env,
        &["Web", "--exclusively", "--no-publish"],
    );
    assert!(deployed.status.success(), "{}", stderr(&deployed));
    let text = stdout(&deployed);
    assert!(
        text.contains("dev/Web: deployed"),
        "the image tag parameter was filled: {text}"
    );
    assert!(
        !text.contains("tree NextStatic"),
        "nothing published: {text}"
    );
    assert!(!log.exists(), "the container CLI never ran");
}

#[test]
fn publishing_an_image_before_its_repository_exists_names_the_stack_that_creates_it() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    let cdk_out = assembly(dir.path(), true);
    let (cli, log) = recording_cli(dir.path());
    let env = [("PANTRI_CONTAINER_CLI", cli.to_str().expect("utf-8"))];
    // An empty account: Data, which creates the repository, was never deployed.
    let only = deploy_with(
        &moto,
        &cdk_out,
        &env,
        &["Web", "--exclusively", "--publish-only"],
    );
    assert_eq!(only.status.code(), Some(1), "{}", stderr(&only));
    let err = stderr(&only);
    let expected = format!(
        "repository {REPOSITORY} does not exist yet: stack dev/Data creates it; deploy that stack first (`pantri deploy dev Data`)"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("error: ") && l.contains("dev/Web") && l.ends_with(&expected)),
        "{err}"
    );
    assert!(!log.exists(), "nothing built, logged in or pushed");
}

/// A container CLI stand-in that records, per command, whether its stderr is a terminal and the
/// progress mode it was given, and prints a line of progress.
fn tty_recording_cli(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("tty.log");
    let script = dir.join("tty-docker");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = manifest ] && exit 1\nif [ -t 2 ]; then t=terminal; else t=pipe; fi\n\
             echo \"$1 stderr=$t progress=${{BUILDKIT_PROGRESS:-unset}}\" >> '{log}'\n\
             [ \"$1\" = login ] && cat > /dev/null\n\
             echo \"#1 step 1/1 of $1\" >&2\n",
            log = log.display()
        ),
    )
    .expect("write");
    let mut perms = std::fs::metadata(&script).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).expect("chmod");
    (script, log)
}

#[test]
fn the_container_cli_draws_on_a_terminal_and_gives_plain_lines_otherwise() {
    use expectrl::{Eof, Expect, Session};
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    let cdk_out = assembly(dir.path(), true);
    let (cli, log) = tty_recording_cli(dir.path());
    let (status, text) = moto.rest("PUT", &format!("/{BUCKET}"), "s3", "");
    assert_eq!(status, 200, "{text}");
    let (status, text) = moto.json(
        "ecr",
        "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
        &serde_json::json!({"repositoryName": REPOSITORY}).to_string(),
    );
    assert_eq!(status, 200, "{text}");

    // On a terminal: the CLI inherits it and draws its own progress.
    let mut cmd = Command::new(pantri_bin());
    cmd.args([
        "deploy",
        "dev",
        "Web",
        "--exclusively",
        "--publish-only",
        "--app",
    ])
    .arg(&cdk_out)
    .args(["--endpoint-url", &moto.endpoint()])
    .env("AWS_ACCESS_KEY_ID", "testing")
    .env("AWS_SECRET_ACCESS_KEY", "testing")
    .env("AWS_REGION", "us-east-1")
    .env_remove("AWS_PROFILE")
    .env("PANTRI_IMAGE_REGISTRY", "127.0.0.1:9")
    .env("PANTRI_CONTAINER_CLI", &cli);
    let mut term = Session::spawn(cmd).expect("pantri on a pseudo-terminal");
    term.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    let shown = term
        .expect(Eof)
        .map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned())
        .unwrap_or_default();
    assert!(shown.contains("#1 step 1/1 of build"), "{shown}");
    assert!(
        shown.contains("published; no stack was deployed"),
        "{shown}"
    );
    let recorded = std::fs::read_to_string(&log).expect("the CLI ran");
    assert!(
        recorded.contains("build stderr=terminal progress=unset"),
        "{recorded}"
    );
    std::fs::remove_file(&log).expect("rm");

    // Without a terminal (CI): BuildKit's plain progress, forwarded as indented lines.
    // (The stand-in pushed nothing: the tag is still missing, so the image builds again.)
    let env = [
        ("PANTRI_CONTAINER_CLI", cli.to_str().expect("utf-8")),
        ("PANTRI_IMAGE_REGISTRY", "127.0.0.1:9"),
    ];
    let out = deploy_with(
        &moto,
        &cdk_out,
        &env,
        &["Web", "--exclusively", "--publish-only"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let recorded = std::fs::read_to_string(&log).expect("the CLI ran");
    assert!(
        recorded.contains("build stderr=pipe progress=plain"),
        "{recorded}"
    );
    assert!(
        stderr(&out).contains("  #1 step 1/1 of build"),
        "{}",
        stderr(&out)
    );
}

/// `pantri deploy --plan plan.json --app <cdk.out> --yes` in `dir`, against moto.
fn execute_plan(moto: &Moto, dir: &Path, assembly: &Path) -> Output {
    let mut cmd = Command::new(pantri_bin());
    cmd.current_dir(dir)
        .args([
            "deploy",
            "--plan",
            "plan.json",
            "--yes",
            "--progress",
            "events",
        ])
        .args(["--poll-interval-ms", "100", "--app"])
        .arg(assembly);
    let out = on_moto(&mut cmd, moto).output().expect("pantri runs");
    eprintln!("--- deploy --plan\n{}{}", stdout(&out), stderr(&out));
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn a_plan_publishes_its_reviewed_trees_before_its_change_set_and_refuses_a_rebuilt_app() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    let (web, rebuilt_web) = (dir.path().join("web"), dir.path().join("rebuilt"));
    copy_dir(&workspace_root().join("fixtures/web"), &web);
    copy_dir(&web, &rebuilt_web);
    std::fs::write(
        rebuilt_web.join("public/robots.txt"),
        "User-agent: *\nDisallow: /\n",
    )
    .expect("write");
    let cdk_out = assembly_of(&dir.path().join("a"), app_from(&web, false));
    let rebuilt = assembly_of(&dir.path().join("b"), app_from(&rebuilt_web, false));
    // Data (the bucket) is deployed; the pull request prepares Web's change set and publishes
    // nothing. (One stack per plan here: moto finds a change set by name alone, ignoring the
    // stack, and a plan names every stack's change set alike.)
    let data = deploy_with(&moto, &cdk_out, &[], &["Data", "--exclusively"]);
    assert!(data.status.success(), "{}", stderr(&data));
    let plan = dir.path().join("plan.json");
    let prepared = deploy_with(
        &moto,
        &cdk_out,
        &[],
        &[
            "Web",
            "--exclusively",
            "--method",
            "prepare-change-set",
            "--no-publish",
            "--plan-out",
            plan.to_str().expect("utf-8"),
        ],
    );
    assert!(prepared.status.success(), "{}", stderr(&prepared));
    let recorded = std::fs::read_to_string(&plan).expect("plan");
    assert!(recorded.contains(r#""kind": "tree""#), "{recorded}");

    // Executed with an assembly of another build of the app: refused, nothing runs.
    let refused = execute_plan(&moto, dir.path(), &rebuilt);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("[dev/Web] tree Public is "),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused)
            .contains("prepare the plan again, or execute it with the reviewed commit's assembly"),
        "{}",
        stderr(&refused)
    );
    let (status, _) = moto.s3_get(&format!("/{BUCKET}/robots.txt"));
    assert_eq!(status, 404, "nothing published");
    let (_, web) = moto.query(
        "cloudformation",
        "Action=DescribeStacks&Version=2010-05-15&StackName=dev-Web",
    );
    assert!(
        web.contains("REVIEW_IN_PROGRESS"),
        "nothing executed: {web}"
    );

    // The merge executes it: Web's trees are published, then its change set executes.
    let executed = execute_plan(&moto, dir.path(), &cdk_out);
    assert!(executed.status.success(), "{}", stderr(&executed));
    let text = stdout(&executed);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle}: {text}"))
    };
    let published =
        at("dev/Web: tree NextStatic: 3 files to s3://pantri-assets-e2e/_next/static/: 3 uploaded");
    assert!(published < at("dev/Web: deployed"), "{text}");
    let (status, robots) = moto.s3_get(&format!("/{BUCKET}/robots.txt"));
    assert_eq!(status, 200, "{robots}");
    assert!(
        !robots.contains("Disallow"),
        "the reviewed build's file: {robots}"
    );
}
