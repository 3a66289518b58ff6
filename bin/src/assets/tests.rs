//! Publishing over fakes: what is uploaded, skipped, refreshed, built, pushed and invalidated.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use indexmap::IndexMap;
use pantri_synth::asset::schema::{
    FileTreeEntry, ImageAssetEntry, ImageDestination, ImageSource, TreeDestination,
};
use pantri_synth::asset::{hash_directory, DockerIgnore, IMMUTABLE_CACHE_CONTROL};

use super::api::*;
use super::files::{content_type, publish_tree};
use super::images::{publish_image, ImageOutcome};
use super::PublishError;
use crate::deploy::api::ApiResult;

type Stored = (Vec<u8>, ObjectHeaders, SystemTime);

#[derive(Default)]
struct FakeStore {
    objects: RefCell<BTreeMap<String, Stored>>,
    calls: RefCell<Vec<String>>,
}

fn md5_hex(b: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

impl ObjectStore for FakeStore {
    async fn list(&self, _bucket: &str, prefix: &str) -> ApiResult<Listing> {
        self.calls.borrow_mut().push(format!("list {prefix}"));
        let objects = self
            .objects
            .borrow()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, (body, _, t))| {
                let o = ListedObject {
                    key: k.clone(),
                    etag: md5_hex(body),
                    last_modified: Some(*t),
                };
                (k.clone(), o)
            })
            .collect();
        Ok(Listing { objects, calls: 1 })
    }
    async fn exists(&self, _bucket: &str, key: &str) -> ApiResult<bool> {
        Ok(self.objects.borrow().contains_key(key))
    }
    async fn put(&self, _b: &str, key: &str, body: Vec<u8>, h: &ObjectHeaders) -> ApiResult<()> {
        self.calls.borrow_mut().push(format!("put {key}"));
        self.objects
            .borrow_mut()
            .insert(key.to_owned(), (body, h.clone(), SystemTime::now()));
        Ok(())
    }
    async fn refresh(&self, _b: &str, key: &str, _h: &ObjectHeaders) -> ApiResult<()> {
        self.calls.borrow_mut().push(format!("refresh {key}"));
        if let Some(o) = self.objects.borrow_mut().get_mut(key) {
            o.2 = SystemTime::now();
        }
        Ok(())
    }
}

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

fn tree(dir: &Path, prefix: &str, refresh: Option<u32>) -> FileTreeEntry {
    FileTreeEntry {
        display_name: "dev/Edge/Static".into(),
        path: "static".into(),
        hash: hash_directory(dir, &DockerIgnore::none(), &[]).expect("hash"),
        destination: TreeDestination {
            region: "us-east-1".into(),
            bucket_name: Some("b".into()),
            bucket_name_output: None,
            prefix: prefix.into(),
            cache_control: IMMUTABLE_CACHE_CONTROL.into(),
            refresh_after_days: refresh,
            invalidate: None,
        },
    }
}

#[test]
fn content_types_come_from_the_file_name() {
    assert_eq!(
        content_type("_next/static/chunks/a.js"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(content_type("a.css"), "text/css; charset=utf-8");
    assert_eq!(content_type("favicon.svg"), "image/svg+xml; charset=utf-8");
    assert_eq!(content_type("logo.png"), "image/png");
    assert_eq!(content_type("font.woff2"), "font/woff2");
    assert_eq!(content_type("blob"), "application/octet-stream");
}

#[tokio::test(flavor = "current_thread")]
async fn a_tree_uploads_what_is_missing_or_changed_and_nothing_the_second_time() {
    let d = tempfile::tempdir().expect("tmp");
    write(d.path(), "chunks/a.js", "a");
    write(d.path(), "css/b.css", "b");
    let store = FakeStore::default();
    let t = tree(d.path(), "_next/static/", None);
    let first = publish_tree(&store, &t, d.path(), "b", SystemTime::now())
        .await
        .expect("publish");
    assert_eq!((first.files, first.uploaded, first.listings), (2, 2, 1));
    let objects = store.objects.borrow().clone();
    let (body, headers, _) = &objects["_next/static/chunks/a.js"];
    assert_eq!(body, b"a");
    assert_eq!(headers.cache_control, IMMUTABLE_CACHE_CONTROL);
    assert_eq!(headers.content_type, "text/javascript; charset=utf-8");
    store.calls.borrow_mut().clear();

    let second = publish_tree(&store, &t, d.path(), "b", SystemTime::now())
        .await
        .expect("publish");
    assert_eq!(
        (second.uploaded, second.refreshed, second.listings),
        (0, 0, 1)
    );
    assert_eq!(
        *store.calls.borrow(),
        vec!["list _next/static/"],
        "one listing, nothing else"
    );

    write(d.path(), "css/b.css", "b2");
    let t2 = tree(d.path(), "_next/static/", None);
    let third = publish_tree(&store, &t2, d.path(), "b", SystemTime::now())
        .await
        .expect("publish");
    assert_eq!(third.uploaded, 1);
    assert_eq!(third.changed, vec!["_next/static/css/b.css"]);
}

#[tokio::test(flavor = "current_thread")]
async fn old_objects_of_the_current_tree_are_refreshed_and_earlier_releases_stay() {
    let d = tempfile::tempdir().expect("tmp");
    write(d.path(), "a.js", "a");
    let store = FakeStore::default();
    let stale = (
        b"old release".to_vec(),
        ObjectHeaders {
            content_type: "x".into(),
            cache_control: "y".into(),
        },
        SystemTime::now(),
    );
    store
        .objects
        .borrow_mut()
        .insert("old-1234.js".into(), stale);
    let t = tree(d.path(), "", Some(15));
    publish_tree(&store, &t, d.path(), "b", SystemTime::now())
        .await
        .expect("publish");
    let later = SystemTime::now() + Duration::from_secs(16 * 86_400);
    let report = publish_tree(&store, &t, d.path(), "b", later)
        .await
        .expect("publish");
    assert_eq!((report.uploaded, report.refreshed), (0, 1));
    assert!(store.calls.borrow().contains(&"refresh a.js".to_owned()));
    assert!(
        store.objects.borrow().contains_key("old-1234.js"),
        "files of earlier releases are left to the lifecycle"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_tree_changed_since_synth_is_refused() {
    let d = tempfile::tempdir().expect("tmp");
    write(d.path(), "a.js", "a");
    let t = tree(d.path(), "", None);
    write(d.path(), "a.js", "rebuilt");
    let e = publish_tree(&FakeStore::default(), &t, d.path(), "b", SystemTime::now())
        .await
        .expect_err("changed");
    assert!(e.to_string().contains("synthesize again"), "{e}");
}

struct FakeRegistry {
    tags: Vec<String>,
}

impl ImageRegistry for FakeRegistry {
    fn host(&self, account: &str, region: &str) -> String {
        format!("{account}.dkr.ecr.{region}.amazonaws.com")
    }
    async fn has_tag(&self, _repository: &str, tag: &str) -> ApiResult<bool> {
        Ok(self.tags.iter().any(|t| t == tag))
    }
    async fn login(&self) -> ApiResult<Option<RegistryLogin>> {
        Ok(Some(RegistryLogin {
            username: "AWS".into(),
            password: "secret".into(),
        }))
    }
}

#[derive(Default)]
struct FakeTool {
    commands: RefCell<Vec<String>>,
    fail_build: bool,
}

impl ContainerTool for FakeTool {
    fn name(&self) -> &str {
        "fake"
    }
    async fn login(&self, host: &str, login: &RegistryLogin) -> Result<(), ToolFailure> {
        self.commands
            .borrow_mut()
            .push(format!("login {} {host}", login.username));
        Ok(())
    }
    async fn build(&self, r: &BuildRequest<'_>) -> Result<(), ToolFailure> {
        self.commands.borrow_mut().push(format!(
            "build {} {}",
            r.image,
            r.platform.unwrap_or_default()
        ));
        if self.fail_build {
            return Err(ToolFailure {
                command: "fake build".into(),
                status: "exit status: 1".into(),
                tail: vec!["step 2/2".into(), "COPY failed: no such file".into()],
            });
        }
        Ok(())
    }
    async fn push(&self, image: &str) -> Result<(), ToolFailure> {
        self.commands.borrow_mut().push(format!("push {image}"));
        Ok(())
    }
}

fn image(dir: &Path) -> (ImageAssetEntry, ImageDestination) {
    let extra = [
        ("dockerfile", "Dockerfile"),
        ("target", ""),
        ("platform", "linux/arm64"),
    ];
    let tag = hash_directory(dir, &DockerIgnore::none(), &extra).expect("hash");
    let dest = ImageDestination {
        repository_name: "pantri-dev".into(),
        image_tag: tag,
        region: Some("eu-west-1".into()),
    };
    let entry = ImageAssetEntry {
        display_name: None,
        source: ImageSource {
            directory: "web".into(),
            docker_file: Some("Dockerfile".into()),
            docker_build_args: BTreeMap::new(),
            docker_build_target: None,
            platform: Some("linux/arm64".into()),
        },
        destinations: IndexMap::new(),
    };
    (entry, dest)
}

#[tokio::test(flavor = "current_thread")]
async fn an_image_is_built_logged_in_and_pushed_once_and_skipped_when_the_tag_exists() {
    let d = tempfile::tempdir().expect("tmp");
    write(d.path(), "Dockerfile", "FROM scratch\n");
    let (entry, dest) = image(d.path());
    let tool = FakeTool::default();
    let empty = FakeRegistry { tags: Vec::new() };
    let out = publish_image(&empty, &tool, &entry, &dest, "123456789012", d.path(), None)
        .await
        .expect("publish");
    let image = format!(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/pantri-dev:{}",
        dest.image_tag
    );
    assert_eq!(out, ImageOutcome::Pushed(image.clone()));
    assert_eq!(
        *tool.commands.borrow(),
        vec![
            format!("build {image} linux/arm64"),
            "login AWS 123456789012.dkr.ecr.eu-west-1.amazonaws.com".to_owned(),
            format!("push {image}"),
        ]
    );
    let tool = FakeTool::default();
    let full = FakeRegistry {
        tags: vec![dest.image_tag.clone()],
    };
    let out = publish_image(&full, &tool, &entry, &dest, "123456789012", d.path(), None)
        .await
        .expect("publish");
    assert_eq!(out, ImageOutcome::Present(image));
    assert!(tool.commands.borrow().is_empty(), "nothing built or pushed");
}

#[tokio::test(flavor = "current_thread")]
async fn a_failed_build_shows_the_last_lines_of_the_tool() {
    let d = tempfile::tempdir().expect("tmp");
    write(d.path(), "Dockerfile", "FROM scratch\n");
    let (entry, dest) = image(d.path());
    let tool = FakeTool {
        fail_build: true,
        ..FakeTool::default()
    };
    let e = publish_image(
        &FakeRegistry { tags: Vec::new() },
        &tool,
        &entry,
        &dest,
        "123456789012",
        d.path(),
        None,
    )
    .await
    .expect_err("fails");
    assert!(matches!(e, PublishError::Tool(_)));
    let text = e.to_string();
    assert!(
        text.contains("`fake build` failed (exit status: 1)"),
        "{text}"
    );
    assert!(text.contains("  | COPY failed: no such file"), "{text}");
    assert_eq!(
        tool.commands.borrow().len(),
        1,
        "no login or push after a failed build"
    );
}

struct LocalRegistry;

impl ImageRegistry for LocalRegistry {
    fn host(&self, _account: &str, _region: &str) -> String {
        "127.0.0.1:5000".into()
    }
    async fn has_tag(&self, _repository: &str, _tag: &str) -> ApiResult<bool> {
        Ok(false)
    }
    async fn login(&self) -> ApiResult<Option<RegistryLogin>> {
        Ok(None)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_emulated_deploy_never_builds_logs_in_or_pushes_to_a_real_ecr_host() {
    let d = tempfile::tempdir().expect("tmp");
    write(d.path(), "Dockerfile", "FROM scratch\n");
    let (entry, dest) = image(d.path());
    let moto = Some("http://127.0.0.1:5731 (AWS_ENDPOINT_URL)");
    let tool = FakeTool::default();
    let e = publish_image(
        &FakeRegistry { tags: Vec::new() },
        &tool,
        &entry,
        &dest,
        "123456789012",
        d.path(),
        moto,
    )
    .await
    .expect_err("refused");
    assert!(matches!(e, PublishError::Refused(_)), "{e}");
    let text = e.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(
        text.contains("not pushing to 123456789012.dkr.ecr.eu-west-1.amazonaws.com, a real ECR registry, while AWS calls go to the emulator at http://127.0.0.1:5731 (AWS_ENDPOINT_URL)"),
        "{text}"
    );
    assert!(
        text.contains("PANTRI_IMAGE_REGISTRY=127.0.0.1:<port>"),
        "{text}"
    );
    assert!(
        tool.commands.borrow().is_empty(),
        "nothing built, logged in or pushed"
    );

    // A tag already in the (emulated) repository needs no push: nothing to refuse.
    let full = FakeRegistry {
        tags: vec![dest.image_tag.clone()],
    };
    let out = publish_image(&full, &tool, &entry, &dest, "123456789012", d.path(), moto)
        .await
        .expect("present");
    assert!(matches!(out, ImageOutcome::Present(_)));

    // A registry on this machine is where an emulated deploy pushes.
    let out = publish_image(
        &LocalRegistry,
        &tool,
        &entry,
        &dest,
        "123456789012",
        d.path(),
        moto,
    )
    .await
    .expect("pushed");
    assert!(matches!(out, ImageOutcome::Pushed(ref i) if i.starts_with("127.0.0.1:5000/")));
    assert_eq!(tool.commands.borrow().len(), 2, "build and push, no login");
}

#[test]
fn real_ecr_hosts_are_recognised() {
    use super::images::is_ecr_host;
    assert!(is_ecr_host("123456789012.dkr.ecr.us-east-1.amazonaws.com"));
    assert!(is_ecr_host(
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
    ));
    assert!(is_ecr_host(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com:443"
    ));
    assert!(is_ecr_host("123456789012.DKR.ECR.us-east-1.AMAZONAWS.COM"));
    assert!(!is_ecr_host("127.0.0.1:5000"));
    assert!(!is_ecr_host("localhost:5000"));
    assert!(!is_ecr_host("public.ecr.aws"));
    assert!(!is_ecr_host("ghcr.io"));
    assert!(!is_ecr_host("dkr.ecr.example.com"));
}
