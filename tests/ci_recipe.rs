//! The README's CI recipe, its commands in order, against a local moto server: the pull-request
//! job (`synth --check`, `diff --format markdown`, prepare the change sets into a plan, the
//! plan's markdown for the comment) and the merge job (`deploy --plan`).

use pantri_tests::moto::Moto;
use pantri_tests::{pantri, pantri_on_moto, stderr, stdout, workspace_root};
use serde_json::Value;

#[test]
fn the_ci_recipe_runs_in_order() {
    let root = workspace_root();
    // The pull-request job.
    let out = pantri(&root, &["synth", "--check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "synth --check: {}",
        stderr(&out)
    );
    let out = pantri(
        &root,
        &[
            "diff",
            "prod",
            "--baseline",
            "git:HEAD",
            "--format",
            "markdown",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "diff: {}", stderr(&out));
    let mut comment = stdout(&out);
    assert!(!comment.trim().is_empty());

    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("aws-config"), "").unwrap();
    std::fs::write(dir.path().join("aws-credentials"), "").unwrap();
    let app = root.join("cdk.out").to_string_lossy().into_owned();
    // (the recipe prepares the whole stage; moto deploys the reference app's Network stack)
    let out = pantri_on_moto(
        dir.path(),
        &moto,
        &[
            "deploy",
            "prod",
            "Network",
            "--exclusively",
            "--app",
            &app,
            "--method",
            "prepare-change-set",
            "--plan-out",
            "plan.json",
            "--progress",
            "events",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "prepare: {}", stderr(&out));
    assert!(stdout(&out).contains("### pantri plan"), "{}", stdout(&out));
    // `jq -r .markdown plan.json >> comment.md`
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    comment.push_str(plan["markdown"].as_str().unwrap_or_default());
    assert!(comment.contains("prod/Network"), "{comment}");
    assert!(
        comment.contains("pantri deploy --plan plan.json"),
        "{comment}"
    );

    // The merge job: the uploaded plan, and the merge commit's assembly for its assets.
    let out = pantri_on_moto(
        dir.path(),
        &moto,
        &[
            "deploy",
            "--plan",
            "plan.json",
            "--app",
            &app,
            "--yes",
            "--progress",
            "events",
            "--outputs-file",
            "outputs.json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "deploy --plan: {}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("prod/Network: deployed"),
        "{}",
        stdout(&out)
    );
    let (_, stacks) = moto.query(
        "cloudformation",
        "Action=DescribeStacks&Version=2010-05-15&StackName=pantri-prod-network",
    );
    assert!(stacks.contains("CREATE_COMPLETE"), "{stacks}");
    assert!(dir.path().join("outputs.json").exists());
}
