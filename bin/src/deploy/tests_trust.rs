//! Fake-driven tests of what makes a deploy trustworthy: the account, checks before touching
//! anything, and executing exactly a reviewed plan.

use std::collections::BTreeMap;

use super::account::CallerIdentity;
use super::args::Exit;
use super::fake::Fake;
use super::progress::NoConfirm;
use super::tests::{deploy_as, large_template, stack};

fn one_region(fake: &Fake) -> BTreeMap<String, Fake> {
    [("us-east-1".to_owned(), fake.clone())].into()
}

#[tokio::test]
async fn the_staging_bucket_is_named_after_the_account_sts_reports() {
    // GIVEN an environment-agnostic stack with a template over the inline limit, deployed by a
    // caller STS places in account 111122223333
    let mut big = stack("Big", "us-east-1", large_template("v1"), &[]);
    big.env.account = "unknown-account".into();
    let caller = CallerIdentity {
        account: "111122223333".into(),
        arn: "arn:aws:sts::111122223333:assumed-role/deployer/ci".into(),
    };
    let fake = Fake::default();
    // WHEN it is deployed
    let run = deploy_as(&one_region(&fake), &[big], "dev", Some(&caller), &NoConfirm).await;
    // THEN the staging bucket is that account's
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(
        fake.calls()
            .contains(&"EnsureStagingBucket pantri-staging-111122223333-us-east-1".to_owned()),
        "{:?}",
        fake.calls()
    );
    assert!(
        run.out
            .contains("s3://pantri-staging-111122223333-us-east-1/"),
        "{}",
        run.out
    );
}
