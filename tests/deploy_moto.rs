//! `pantri deploy` / `pantri destroy` end to end against a local moto server: the library
//! functions the CLI calls, through the real AWS SDK client, on 127.0.0.1 only.

use std::path::Path;
use std::sync::Once;

use clap::Parser;
use pantri::commands::deploy::{run_deploy, run_destroy, DeployArgs, DestroyArgs};
use pantri::exit::Exit;
use pantri_tests::moto::Moto;
use serde_json::{json, Value};

#[derive(Parser)]
enum Cli {
    Deploy(Box<DeployArgs>),
    Destroy(DestroyArgs),
    Status(pantri::commands::deploy::StatusArgs),
}

fn credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::remove_var("AWS_PROFILE");
    });
}

struct Run {
    exit: Exit,
    out: String,
    err: String,
}

async fn deploy(moto: &Moto, dir: &Path, line: &str) -> Run {
    deploy_at(&moto.endpoint(), dir, line).await
}

async fn deploy_at(endpoint: &str, dir: &Path, line: &str) -> Run {
    credentials();
    let argv = format!(
        "x deploy --progress events --poll-interval-ms 100 --endpoint-url {endpoint} {line}"
    );
    let Cli::Deploy(args) = Cli::parse_from(argv.split_whitespace()) else {
        unreachable!()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = run_deploy(&args, dir, &mut out, &mut err).await;
    let run = Run {
        exit,
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
    };
    eprintln!("--- deploy {line}: {:?}\n{}{}", run.exit, run.out, run.err);
    run
}

async fn destroy(moto: &Moto, dir: &Path, line: &str) -> Run {
    credentials();
    let argv = format!(
        "x destroy --poll-interval-ms 100 --endpoint-url {} {line}",
        moto.endpoint()
    );
    let Cli::Destroy(args) = Cli::parse_from(argv.split_whitespace()) else {
        unreachable!()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = run_destroy(&args, dir, &mut out, &mut err).await;
    let run = Run {
        exit,
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
    };
    eprintln!("--- destroy {line}: {:?}\n{}{}", run.exit, run.out, run.err);
    run
}

/// Writes a cloud assembly of stage `dev` in moto's account with the given stacks.
fn assembly(dir: &Path, stacks: &[(&str, &Value, &[&str])]) {
    pantri_tests::write_assembly(dir, pantri_tests::moto::ACCOUNT, stacks);
}

fn network(bucket: &str) -> Value {
    json!({
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "PublicA": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.0.0/24", "AvailabilityZone": "us-east-1a"}},
            "PublicB": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1b"}},
            "PrivateA": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.2.0/24", "AvailabilityZone": "us-east-1a"}},
            "Igw": {"Type": "AWS::EC2::InternetGateway"},
            "IgwAttachment": {"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {"VpcId": {"Ref": "Vpc"}, "InternetGatewayId": {"Ref": "Igw"}}},
            "PublicRoutes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "PublicDefault": {"Type": "AWS::EC2::Route", "DependsOn": "IgwAttachment", "Properties": {"RouteTableId": {"Ref": "PublicRoutes"}, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": {"Ref": "Igw"}}},
            "PublicAAssoc": {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {"SubnetId": {"Ref": "PublicA"}, "RouteTableId": {"Ref": "PublicRoutes"}}},
            "PublicBAssoc": {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {"SubnetId": {"Ref": "PublicB"}, "RouteTableId": {"Ref": "PublicRoutes"}}},
            "NatEip": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
            "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {"SubnetId": {"Ref": "PublicA"}, "AllocationId": {"Fn::GetAtt": ["NatEip", "AllocationId"]}}},
            "PrivateRoutes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "PrivateDefault": {"Type": "AWS::EC2::Route", "Properties": {"RouteTableId": {"Ref": "PrivateRoutes"}, "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": {"Ref": "Nat"}}},
            "PrivateAAssoc": {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {"SubnetId": {"Ref": "PrivateA"}, "RouteTableId": {"Ref": "PrivateRoutes"}}},
            "Assets": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": bucket}},
            "TaskRole": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": "dev-task-role",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}
        },
        "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}}
    })
}

fn app(queue: bool) -> Value {
    let mut resources =
        json!({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "dev-events"}}});
    if queue {
        resources["Queue"] =
            json!({"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "dev-jobs"}});
    }
    json!({"Resources": resources})
}

fn tag_values<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|s| s.split(&close).next())
        .collect()
}

#[tokio::test]
async fn deploy_from_nothing_again_and_a_change() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (net, app0) = (network("pantri-e2e-assets"), app(false));
    assembly(
        dir.path(),
        &[("Network", &net, &[]), ("App", &app0, &["Network"])],
    );

    // From nothing: the IAM role makes it broadening, so without a terminal it needs --yes.
    let run = deploy(&moto, dir.path(), "dev").await;
    assert_eq!(run.exit, Exit::ApprovalNeeded);
    assert!(run.err.contains("--yes"));
    let run = deploy(&moto, dir.path(), "dev --yes").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("Add    Vpc"), "{}", run.out);
    let network_done = run.out.find("dev/Network: deployed").unwrap();
    assert!(network_done < run.out.find("dev/App: deployed").unwrap());

    // Read back what was created.
    let (status, vpcs) = moto.query(
        "ec2",
        "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=cidr&Filter.1.Value.1=10.0.0.0/16",
    );
    assert_eq!(status, 200, "{vpcs}");
    let vpc_id = tag_values(&vpcs, "vpcId")[0].to_owned();
    let (_, subnets) = moto.query(
        "ec2",
        &format!("Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc_id}"),
    );
    let mut azs = tag_values(&subnets, "availabilityZone");
    assert_eq!(azs.len(), 3, "{subnets}");
    azs.sort_unstable();
    azs.dedup();
    assert_eq!(azs, ["us-east-1a", "us-east-1b"]);
    let (_, tables) = moto.query(
        "ec2",
        &format!("Action=DescribeRouteTables&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc_id}"),
    );
    // The main route table plus the two of the template.
    assert_eq!(
        tag_values(&tables, "routeTableId")
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3,
        "{tables}"
    );
    assert!(tables.contains("<natGatewayId>nat-"), "{tables}");
    let (_, nats) = moto.query("ec2", "Action=DescribeNatGateways&Version=2016-11-15");
    assert!(nats.contains(&vpc_id), "{nats}");
    assert_eq!(moto.s3_get("/pantri-e2e-assets").0, 200);
    let (status, role) = moto.query(
        "iam",
        "Action=GetRole&Version=2010-05-08&RoleName=dev-task-role",
    );
    assert_eq!(status, 200, "{role}");

    // Again: nothing changed.
    let run = deploy(&moto, dir.path(), "dev").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("dev/Network: no changes"), "{}", run.out);
    assert!(run.out.contains("dev/App: no changes"), "{}", run.out);

    // A change: the preview shows it, and it is applied.
    let app1 = app(true);
    assembly(
        dir.path(),
        &[("Network", &net, &[]), ("App", &app1, &["Network"])],
    );
    let run = deploy(&moto, dir.path(), "dev App --exclusively").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("dev/App (dev-App, update)"), "{}", run.out);
    assert!(run.out.contains("Queue"), "{}", run.out);
    let (_, queues) = moto.query("sqs", "Action=ListQueues&Version=2012-11-05");
    assert!(queues.contains("dev-jobs"), "{queues}");
}

/// moto deletes a stack's resources in its own order and refuses to delete a VPC with a NAT
/// gateway inside, so destroy is exercised on stacks without a network.
#[tokio::test]
async fn destroy_deletes_in_reverse_order_and_lists_retained() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let data = json!({"Resources": {
        "Assets": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": "pantri-e2e-kept"}},
        "Scratch": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "pantri-e2e-scratch"}}
    }});
    let t = app(true);
    assembly(dir.path(), &[("Data", &data, &[]), ("App", &t, &["Data"])]);
    let run = deploy(&moto, dir.path(), "dev").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert_eq!(moto.s3_get("/pantri-e2e-kept").0, 200);

    let run = destroy(&moto, dir.path(), "dev").await;
    assert_eq!(run.exit, Exit::ApprovalNeeded);
    assert!(run.err.contains("--yes"), "{}", run.err);
    let run = destroy(&moto, dir.path(), "dev --yes").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let app_deleted = run.out.find("dev/App: deleted").unwrap();
    assert!(app_deleted < run.out.find("dev/Data: deleted").unwrap());
    assert!(
        run.out
            .contains("dev/Data Assets (AWS::S3::Bucket) pantri-e2e-kept"),
        "{}",
        run.out
    );
    assert!(
        !run.out.contains("Scratch (AWS::S3::Bucket)"),
        "{}",
        run.out
    );
    let (_, queues) = moto.query("sqs", "Action=ListQueues&Version=2012-11-05");
    assert!(!queues.contains("dev-jobs"), "{queues}");
    assert!(
        run.out
            .contains("cannot create pantri-e2e-kept again while it exists"),
        "{}",
        run.out
    );
    // Destroying again finds nothing to delete.
    let run = destroy(&moto, dir.path(), "dev --yes").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("does not exist"), "{}", run.out);

    // Deploying again would create the kept bucket's name a second time: refused before any
    // change set, naming it and the way out.
    let run = deploy(&moto, dir.path(), "dev --yes").await;
    assert_eq!(run.exit, Exit::Failed, "{}", run.err);
    assert!(
        run.err
            .contains("[dev/Data] S3 bucket pantri-e2e-kept (Assets) exists already outside stack"),
        "{}",
        run.err
    );
    assert!(
        run.err.contains("aws s3 rb s3://pantri-e2e-kept --force"),
        "{}",
        run.err
    );
    let (_, stacks) = moto.query("cloudformation", "Action=ListStacks&Version=2010-05-15");
    assert_eq!(
        tag_values(&stacks, "StackStatus")
            .iter()
            .filter(|s| !s.starts_with("DELETE"))
            .count(),
        0,
        "no stack was created: {stacks}"
    );
    // The diff against the deployed stacks says so too, before anyone deploys.
    let assembly = dir.path().to_string_lossy().into_owned();
    let out = pantri_tests::pantri_on_moto(dir.path(), &moto, &["diff", "dev", "--app", &assembly]);
    let err = pantri_tests::stderr(&out);
    assert!(
        err.contains("warning: deploy would stop here: [dev/Data] S3 bucket pantri-e2e-kept (Assets) exists already"),
        "{err}"
    );
}

#[tokio::test]
async fn a_failing_deployment_shows_the_error() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let bad = json!({"Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
        "Outside": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "192.168.0.0/24"}}
    }});
    assembly(dir.path(), &[("Broken", &bad, &[])]);
    let run = deploy(&moto, dir.path(), "dev").await;
    assert_eq!(run.exit, Exit::Failed, "{}", run.err);
    assert!(run.err.starts_with("error: [dev/Broken]"), "{}", run.err);
    assert!(run.err.contains("192.168.0.0/24"), "{}", run.err);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_one_line_and_exit_4() {
    credentials();
    let dir = tempfile::tempdir().unwrap();
    let t = app(false);
    assembly(dir.path(), &[("App", &t, &[])]);
    // A port nothing listens on: bound then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let argv = format!("x deploy --progress events --endpoint-url http://127.0.0.1:{port} dev");
    let Cli::Deploy(mut args) = Cli::parse_from(argv.split_whitespace()) else {
        unreachable!()
    };
    args.aws.poll_interval_ms = 10;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = run_deploy(&args, dir.path(), &mut out, &mut err).await;
    let err = String::from_utf8_lossy(&err);
    assert_eq!(exit, Exit::AccessProblem, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot reach the CloudFormation endpoint"),
        "{err}"
    );
}

/// The reference app's network stack, exactly as committed in cdk.out, deploys on moto.
#[tokio::test]
async fn the_reference_network_stack_deploys_as_committed() {
    let moto = Moto::start();
    let committed = pantri_tests::workspace_root().join("cdk.out");
    let run = deploy(&moto, &committed, "prod Network --exclusively --yes").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("prod/Network: deployed"), "{}", run.out);

    let (status, vpcs) = moto.query(
        "ec2",
        "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=cidr&Filter.1.Value.1=10.20.0.0/16",
    );
    assert_eq!(status, 200, "{vpcs}");
    let vpc_id = tag_values(&vpcs, "vpcId")[0].to_owned();
    let (_, subnets) = moto.query(
        "ec2",
        &format!("Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc_id}"),
    );
    let mut azs = tag_values(&subnets, "availabilityZone");
    assert_eq!(
        azs.len(),
        6,
        "a public and a private subnet per zone: {subnets}"
    );
    azs.sort_unstable();
    azs.dedup();
    assert_eq!(azs, ["us-east-1a", "us-east-1b", "us-east-1c"]);
    let (_, nats) = moto.query("ec2", "Action=DescribeNatGateways&Version=2016-11-15");
    let nat_ids: std::collections::BTreeSet<&str> =
        tag_values(&nats, "natGatewayId").into_iter().collect();
    assert_eq!(nat_ids.len(), 3, "a NAT gateway per zone: {nats}");
    let (_, tables) = moto.query(
        "ec2",
        &format!("Action=DescribeRouteTables&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc_id}"),
    );
    let table_ids: std::collections::BTreeSet<&str> =
        tag_values(&tables, "routeTableId").into_iter().collect();
    assert_eq!(
        table_ids.len(),
        5,
        "main + public + one private per zone: {tables}"
    );

    // Deploying it again changes nothing.
    let run = deploy(&moto, &committed, "prod Network --exclusively").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("prod/Network: no changes"), "{}", run.out);

    // `pantri diff` against the deployed stack (GetTemplate): nothing differs; a stack that does
    // not exist yet shows as added.
    let diff = |args: &[&str]| {
        std::process::Command::new(pantri_tests::pantri_bin())
            .args(args)
            .args(["--endpoint-url", &moto.endpoint()])
            .current_dir(pantri_tests::workspace_root())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("NO_COLOR", "1")
            .output()
            .expect("pantri runs")
    };
    // Resources all match. moto does not implement UpdateTerminationProtection, so the one
    // difference is the stack's protection, which the diff reports (deploy warned about it).
    let out = diff(&["diff", "prod", "Network", "--fail"]);
    let text = pantri_tests::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        pantri_tests::stderr(&out)
    );
    assert!(text.contains("Termination protection"), "{text}");
    assert!(
        text.contains("0 replaced, 0 updated, 0 added, 0 removed"),
        "{text}"
    );
    let out = diff(&["diff", "prod", "Data", "--fail"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        pantri_tests::stdout(&out).contains("AWS::S3::Bucket"),
        "{}",
        pantri_tests::stdout(&out)
    );
}

/// Comparing against deployed stacks with an endpoint that does not answer: one line, exit 4.
#[test]
fn diff_against_an_unreachable_endpoint_is_one_line_and_exit_4() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let out = std::process::Command::new(pantri_tests::pantri_bin())
        .args([
            "diff",
            "dev",
            "Network",
            "--endpoint-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .current_dir(pantri_tests::workspace_root())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("pantri runs");
    assert_eq!(out.status.code(), Some(4), "{}", pantri_tests::stderr(&out));
    let err = pantri_tests::stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach"), "{err}");
}

/// A template over CloudFormation's inline limit of 51,200 bytes: SSM parameters with long
/// descriptions.
fn large(value: &str) -> Value {
    let mut resources = serde_json::Map::new();
    for i in 0..60 {
        resources.insert(
            format!("Param{i:02}"),
            json!({"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": format!("/pantri-e2e/param-{i:02}"),
                "Type": "String",
                "Value": value,
                "Description": "d".repeat(1000),
            }}),
        );
    }
    json!({ "Resources": resources })
}

#[tokio::test]
async fn a_template_over_the_inline_limit_goes_through_the_staging_bucket() {
    let moto = Moto::start();
    // moto reads a TemplateURL from its own S3 store, and parses a path-style URL only when its
    // host says "localhost": the endpoint is named so. It must be 127.0.0.1 and nothing else.
    let endpoint = format!("http://localhost:{}", moto.port);
    let resolved: Vec<std::net::SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&("localhost", moto.port))
            .map(Iterator::collect)
            .unwrap_or_default();
    assert!(
        !resolved.is_empty()
            && resolved
                .iter()
                .all(|a| a.ip() == std::net::Ipv4Addr::LOCALHOST),
        "localhost must resolve to 127.0.0.1 only for this test: {resolved:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let big = large("v1");
    assert!(serde_json::to_string(&big).unwrap().len() > 51_200);
    assembly(dir.path(), &[("Big", &big, &[])]);

    // WHEN the stack is deployed with no staging bucket named
    let run = deploy_at(&endpoint, dir.path(), "dev").await;

    // THEN it is created from the template staged in the default bucket
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(run.out.contains("dev/Big: deployed"), "{}", run.out);
    assert!(
        run.out
            .contains("staged at s3://pantri-staging-123456789012-us-east-1/dev-Big/"),
        "{}",
        run.out
    );
    let (status, stacks) = moto.query(
        "cloudformation",
        "Action=DescribeStacks&Version=2010-05-15&StackName=dev-Big",
    );
    assert_eq!(status, 200, "{stacks}");
    assert_eq!(tag_values(&stacks, "StackStatus"), ["CREATE_COMPLETE"]);
    let bucket = "/pantri-staging-123456789012-us-east-1";
    let (status, listing) = moto.s3_get(&format!("{bucket}?list-type=2"));
    assert_eq!(status, 200, "{listing}");
    let keys = tag_values(&listing, "Key");
    assert_eq!(keys.len(), 1, "{listing}");
    assert!(
        keys[0].starts_with("dev-Big/") && keys[0].ends_with(".json"),
        "{listing}"
    );
    let (status, object) = moto.s3_get(&format!("{bucket}/{}", keys[0]));
    assert_eq!(status, 200);
    let staged: Value = object
        .split("\r\n\r\n")
        .nth(1)
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default();
    assert_eq!(staged, big, "the staged object is the template");
    // The bucket pantri created is locked down and expires what it holds (its TLS-only policy is
    // left out on a plain-HTTP endpoint, which it would lock out).
    for (query, expect) in [
        (
            "publicAccessBlock",
            "<BlockPublicAcls>true</BlockPublicAcls>",
        ),
        ("encryption", "AES256"),
        ("lifecycle", "<Days>30</Days>"),
    ] {
        let (status, text) = moto.s3_get(&format!("{bucket}?{query}"));
        assert_eq!(status, 200, "{query}: {text}");
        assert!(text.contains(expect), "{query}: {text}");
    }

    // WHEN the template changes THEN the update goes the same way, a second object beside the first
    let big2 = large("v2");
    assembly(dir.path(), &[("Big", &big2, &[])]);
    let run = deploy_at(&endpoint, dir.path(), "dev").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    let (_, listing) = moto.s3_get(&format!("{bucket}?list-type=2"));
    assert_eq!(tag_values(&listing, "Key").len(), 2, "{listing}");
}

#[test]
fn missing_credentials_are_one_line_and_exit_4() {
    // GIVEN no credentials anywhere: a child process with a cleared environment, empty config and
    // credentials files, no instance metadata, and an endpoint on 127.0.0.1 nothing listens on
    let dir = tempfile::tempdir().unwrap();
    let t = app(false);
    assembly(dir.path(), &[("App", &t, &[])]);
    let config = dir.path().join("aws-config");
    let creds = dir.path().join("aws-credentials");
    std::fs::write(&config, "").unwrap();
    std::fs::write(&creds, "").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    // WHEN deploying
    let out = std::process::Command::new(pantri_tests::pantri_bin())
        .args(["deploy", "dev", "--progress", "events", "--app"])
        .arg(dir.path())
        .args(["--endpoint-url", &endpoint])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    // THEN exit 4 and one line that says credentials are missing and how to provide them
    let err = pantri_tests::stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(lines[0].contains("no AWS credentials found"), "{err}");
    assert!(lines[0].contains("AWS_PROFILE"), "{err}");
    assert!(lines[0].contains("AWS_ACCESS_KEY_ID"), "{err}");
    assert!(lines[0].contains("aws sso login"), "{err}");
    assert!(!lines[0].contains(":)"), "no dangling SDK list: {err}");
}

#[tokio::test]
async fn a_staging_bucket_of_another_account_is_refused_in_one_line_with_exit_4() {
    // GIVEN the default staging bucket's name is taken by account 111111111111, which put a
    // substitute template under the key pantri would use
    let moto = Moto::start();
    let endpoint = format!("http://localhost:{}", moto.port);
    let bucket = "/pantri-staging-123456789012-us-east-1";
    let (status, text) = moto.s3_put_as("111111111111", bucket, "");
    assert_eq!(status, 200, "{text}");
    let dir = tempfile::tempdir().unwrap();
    let big = large("v1");
    let key = pantri::deploy::engine::staged_template_key(
        "dev-Big",
        &serde_json::to_string(&big).unwrap(),
    );
    let evil = json!({"Resources": {"Evil": {"Type": "AWS::SNS::Topic"}}}).to_string();
    let (status, text) = moto.s3_put_as("111111111111", &format!("{bucket}/{key}"), &evil);
    assert_eq!(status, 200, "{text}");
    assembly(dir.path(), &[("Big", &big, &[])]);

    // WHEN the caller (account 123456789012) deploys a template that needs staging
    let run = deploy_at(&endpoint, dir.path(), "dev").await;

    // THEN it refuses with one line naming the bucket and the account, and creates nothing
    assert_eq!(run.exit, Exit::AccessProblem, "{}", run.err);
    let lines: Vec<&str> = run
        .err
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.err);
    assert!(
        lines[0].contains("bucket pantri-staging-123456789012-us-east-1")
            && lines[0].contains("account 123456789012"),
        "{}",
        lines[0]
    );
    let (_, stacks) = moto.query(
        "cloudformation",
        "Action=DescribeStacks&Version=2010-05-15&StackName=dev-Big",
    );
    assert!(tag_values(&stacks, "StackStatus").is_empty(), "{stacks}");
}

fn ecs_service(desired: u32) -> Value {
    json!({"Resources": {
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "pantri-dev"}},
        "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Family": "pantri-dev", "ContainerDefinitions": [{"Name": "web", "Image": "nginx", "Memory": 512}]}},
        "Service": {"Type": "AWS::ECS::Service", "Properties": {"Cluster": {"Ref": "Cluster"}, "ServiceName": "pantri-service", "TaskDefinition": {"Ref": "Task"}, "DesiredCount": desired}}
    }})
}

#[tokio::test]
async fn a_service_whose_tasks_do_not_start_fails_the_deploy_and_the_status() {
    // GIVEN moto, whose ECS services start no task unless told to: CloudFormation completes,
    // ECS never reaches a steady state
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let t = ecs_service(2);
    assembly(dir.path(), &[("Service", &t, &[])]);

    // WHEN it deploys with a short wait for the service
    let run = deploy(&moto, dir.path(), "dev --service-timeout 1").await;

    // THEN the stack is deployed but the deploy fails: the service did not come up
    assert_eq!(run.exit, Exit::Failed, "{}", run.err);
    assert!(run.out.contains("dev/Service: deployed"), "{}", run.out);
    assert!(
        run.err.contains("dev/Service: service pantri-service (Service, cluster pantri-dev) did not reach a steady state in time: 0/2 tasks running"),
        "{}",
        run.err
    );
    assert!(
        run.err
            .contains("error: [dev/Service] service pantri-service did not come up"),
        "{}",
        run.err
    );

    // AND pantri status says the same on its own
    credentials();
    let argv = format!(
        "x status --poll-interval-ms 100 --endpoint-url {} dev --app {}",
        moto.endpoint(),
        dir.path().display()
    );
    let Cli::Status(args) = Cli::parse_from(argv.split_whitespace()) else {
        unreachable!()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = pantri::commands::deploy::run_status(&args, dir.path(), &mut out, &mut err).await;
    let err = String::from_utf8_lossy(&err);
    assert_eq!(exit, Exit::Failed, "{err}");
    assert!(err.contains("service pantri-service (Service, cluster pantri-dev) is still deploying: 0/2 tasks running"), "{err}");
}

#[tokio::test]
async fn plaintext_http_to_another_machine_is_refused_before_any_call() {
    // GIVEN an endpoint override in plain HTTP to an address that is not loopback (nothing is
    // sent there: the refusal comes first)
    let dir = tempfile::tempdir().unwrap();
    let t = app(false);
    assembly(dir.path(), &[("App", &t, &[])]);
    let started = std::time::Instant::now();
    let run = deploy_at("http://10.255.255.1:5000", dir.path(), "dev").await;
    assert_eq!(run.exit, Exit::Usage, "{}", run.err);
    assert_eq!(run.err.lines().count(), 1, "{}", run.err);
    assert!(
        run.err.starts_with("error: endpoint override from --endpoint-url: http://10.255.255.1:5000 is plaintext HTTP to another machine"),
        "{}",
        run.err
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "no connection was tried"
    );
    // AND a loopback endpoint is printed where it is used
    let moto = Moto::start();
    let run = deploy(&moto, dir.path(), "dev").await;
    assert_eq!(run.exit, Exit::Success, "{}", run.err);
    assert!(
        run.out.contains(&format!(
            "note: using endpoint {} (from --endpoint-url) instead of AWS's",
            moto.endpoint()
        )),
        "{}",
        run.out
    );
}

/// The text between `<tag>` and `</tag>`, each occurrence.
fn xml_values<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    tag_values(xml, tag)
}

/// The dev stage on moto, in order, as a first deploy does it: prod's zone exists in the account
/// (dev delegates from it), then Network, Data, Global. The next
/// stacks stop on moto's limits (see the closing assertions); destroy then deletes the stacks.
#[tokio::test(flavor = "current_thread")]
async fn the_dev_stage_deploys_on_moto_through_global_and_is_destroyed() {
    let moto = Moto::start();
    // The parent zone (prod's pantri.example.com), as `pantri deploy prod Data` leaves it.
    let (status, created) = moto.rest(
        "POST",
        "/2013-04-01/hostedzone",
        "route53",
        "<CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Name>pantri.example.com.</Name><CallerReference>parent</CallerReference></CreateHostedZoneRequest>",
    );
    assert!(status < 300, "{created}");

    // The reference app's settings: dev names that zone as its parent, by name.
    let dir = tempfile::tempdir().expect("tempdir");
    let stages = pantri_tests::copy_stages(dir.path());
    let dev = std::fs::read_to_string(stages.join("dev.yaml")).expect("dev.yaml");
    assert!(
        dev.contains("parent_zone_name: pantri.example.com"),
        "{dev}"
    );
    let out = pantri_tests::pantri(dir.path(), &["synth", "dev", "--quiet"]);
    assert!(out.status.success(), "{}", pantri_tests::stderr(&out));
    let assembly = dir.path().join("cdk.out");

    std::env::set_var("DATADOG_API_KEY", "0123456789abcdef0123456789abcdef");
    std::env::set_var("PANTRI_IMAGE_TAG", "abc123");
    for stack in ["Network", "Data", "Global"] {
        let run = deploy(
            &moto,
            &assembly,
            &format!("dev {stack} --exclusively --yes"),
        )
        .await;
        assert_eq!(run.exit, Exit::Success, "dev/{stack}: {}", run.err);
        assert!(
            run.out.contains(&format!("dev/{stack}: deployed")),
            "{}",
            run.out
        );
        // dev delegates itself: no name servers for a person to set.
        assert!(
            !run.out.contains("delegate dev.pantri.example.com"),
            "{}",
            run.out
        );
    }
    // The delegating NS record is in dev/Data's template, naming the parent zone by name
    // (tests/first_deploy.rs); moto finds that zone but cannot write the record into it: it does not resolve `Fn::GetAtt [zone, NameServers]`
    // (its FakeZone has no CloudFormation attributes) and still reports the stack complete.
    // The Service stack does not deploy here. On moto it would stop on the imports from Data
    // (moto records no exports after a change set executes).
    // --no-publish: the image would go to ECR's real registry host, which no test may reach.
    let run = deploy(
        &moto,
        &assembly,
        "dev Service --exclusively --yes --no-publish",
    )
    .await;
    assert_ne!(run.exit, Exit::Success, "{}", run.out);
    assert!(
        run.err.contains("No export named pantri-dev-data:"),
        "{}",
        run.err
    );

    // Destroying the stage deletes what deployed. (Emptying versioned buckets first is
    // covered with the fake: moto answers DescribeStackResources and ListStackResources of this
    // stack with an error, again over the zone's attributes, so destroy cannot name its buckets.)
    // (Network is left: moto keeps the security groups of the Service stack's failed create in
    // the VPC, so its deletion stops on DependencyViolation.)
    // The certificates' DNS validation record in dev's zone, as CloudFormation writes it and
    // leaves it when the certificate's stack is deleted (moto validates nothing, so the test
    // writes it).
    let (_, zones) = moto.rest(
        "GET",
        "/2013-04-01/hostedzonesbyname?dnsname=dev.pantri.example.com.",
        "route53",
        "",
    );
    let names = xml_values(&zones, "Name");
    let ids = xml_values(&zones, "Id");
    let dev_zone = names
        .iter()
        .position(|n| *n == "dev.pantri.example.com.")
        .map(|i| ids[i].trim_start_matches("/hostedzone/").to_owned())
        .expect("dev's zone");
    let (status, changed) = moto.rest(
        "POST",
        &format!("/2013-04-01/hostedzone/{dev_zone}/rrset"),
        "route53",
        "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>_3f2a9c.dev.pantri.example.com.</Name><Type>CNAME</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>_9c1b7d.xlfgrmvvlj.acm-validations.aws.</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
    );
    assert!(status < 300, "{changed}");

    let run = destroy(&moto, &assembly, "dev Global Data --yes").await;
    assert_eq!(run.exit, Exit::Success, "{}{}", run.out, run.err);
    assert!(run.out.contains("dev/Global: deleted"), "{}", run.out);
    assert!(run.out.contains("dev/Data: deleted"), "{}", run.out);
    // The validation record was removed before the zone's stack went (moto keeps the zone
    // itself, so what is left in it can be read).
    assert!(
        run.out.contains("removed 1 ACM validation record(s) from"),
        "{}",
        run.out
    );
    let (_, records) = moto.rest(
        "GET",
        &format!("/2013-04-01/hostedzone/{dev_zone}/rrset"),
        "route53",
        "",
    );
    assert!(!records.contains("acm-validations.aws"), "{records}");
}
