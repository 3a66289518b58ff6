//! The right account and the right credentials, end to end through the real binary on a local
//! moto server: STS says who the caller is before anything else, and `--profile` wins over
//! credentials in the environment.

use pantri_tests::moto::{Moto, ACCOUNT};
use pantri_tests::{pantri_on_moto as pantri, stderr, stdout, write_assembly};
use serde_json::json;

const OTHER: &str = "222222222222";

fn topic() -> serde_json::Value {
    json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "dev-events"}}}})
}

fn stack_names(moto: &Moto) -> String {
    moto.query("cloudformation", "Action=ListStacks&Version=2010-05-15")
        .1
}

#[test]
fn another_accounts_stage_is_refused_before_anything_is_touched() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("cdk.out");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(dir.path().join("aws-config"), "").unwrap();
    std::fs::write(dir.path().join("aws-credentials"), "").unwrap();
    // GIVEN a stage of another account, and moto's default credentials (account 123456789012)
    write_assembly(&app, OTHER, &[("App", &topic(), &[])]);
    let app_arg = app.to_string_lossy().into_owned();
    for command in [
        vec!["deploy", "dev", "--yes", "--app", &app_arg],
        vec!["destroy", "dev", "--yes", "--app", &app_arg],
        vec!["diff", "dev", "--app", &app_arg],
    ] {
        // WHEN deploying, destroying or diffing against the deployed stacks
        let out = pantri(dir.path(), &moto, &command);
        // THEN exit 4 with one line naming both accounts, and nothing was created
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{command:?}: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{command:?}: {err}");
        assert!(
            lines[0].contains(OTHER) && lines[0].contains(ACCOUNT),
            "{err}"
        );
        assert!(lines[0].contains("--profile"), "{err}");
    }
    assert!(!stack_names(&moto).contains("dev-App"));
}

#[test]
fn profile_wins_over_credentials_in_the_environment() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("cdk.out");
    std::fs::create_dir(&app).unwrap();
    // GIVEN a profile `deployer` with credentials of account 222222222222 in a credentials file,
    // while the environment holds moto's default credentials (account 123456789012)
    let (key, secret, token) = moto.credentials_of(OTHER);
    std::fs::write(
        dir.path().join("aws-config"),
        "[profile deployer]\nregion = us-east-1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("aws-credentials"),
        format!("[deployer]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\naws_session_token = {token}\n"),
    )
    .unwrap();
    write_assembly(&app, OTHER, &[("App", &topic(), &[])]);
    let app_arg = app.to_string_lossy().into_owned();
    // WHEN deploying without --profile: the environment's account is refused
    let out = pantri(
        dir.path(),
        &moto,
        &["deploy", "dev", "--yes", "--app", &app_arg],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    // WHEN deploying with --profile deployer
    let out = pantri(
        dir.path(),
        &moto,
        &[
            "deploy",
            "dev",
            "--yes",
            "--profile",
            "deployer",
            "--app",
            &app_arg,
        ],
    );
    // THEN the profile's credentials are used: the stack deploys in account 222222222222
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("dev/App: deployed"),
        "{}",
        stdout(&out)
    );
    // and an unknown profile is one clear line, exit 4
    let out = pantri(
        dir.path(),
        &moto,
        &[
            "deploy",
            "dev",
            "--yes",
            "--profile",
            "nobody",
            "--app",
            &app_arg,
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("nobody"), "{err}");
    assert!(!err.contains("Unknown }"), "{err}");
}
