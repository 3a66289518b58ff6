//! The diff engine: one table-driven case per classification, no-op reorderings that must be
//! empty, and golden snapshots of the three formats for a realistic change of the prod template.

mod support;

use pantri_synth::diff::{
    self, render, AssemblyDiff, ResourceChangeKind, RowChange, SpecSource, StackDiff,
};
use pantri_synth::spec::TypeSpec;
use serde_json::{json, Value};
use support::{input, res, tpl};

/// Hand-written specs (a subset of the real schemas) for the types the tests use.
struct FakeSpecs;

const fn spec(
    type_name: &'static str,
    create_only: &'static [&'static str],
    conditional_create_only: &'static [&'static str],
) -> TypeSpec {
    TypeSpec {
        type_name,
        create_only,
        conditional_create_only,
        primary_identifier: &[],
        attributes: &[],
        properties: &[],
        required: &[],
        tagging: None,
        constraints: &[],
    }
}

static SPECS: &[TypeSpec] = &[
    spec(
        "AWS::S3::Bucket",
        &["/properties/BucketName", "/properties/ObjectLockEnabled"],
        &[],
    ),
    spec(
        "AWS::EC2::Subnet",
        &[
            "/properties/VpcId",
            "/properties/CidrBlock",
            "/properties/AvailabilityZone",
        ],
        &[],
    ),
    spec(
        "AWS::EC2::SubnetRouteTableAssociation",
        &["/properties/SubnetId", "/properties/RouteTableId"],
        &[],
    ),
    spec(
        "AWS::EC2::NatGateway",
        &["/properties/SubnetId", "/properties/AllocationId"],
        &[],
    ),
    spec(
        "AWS::ECS::TaskDefinition",
        &[
            "/properties/ContainerDefinitions",
            "/properties/Cpu",
            "/properties/Memory",
            "/properties/Family",
            "/properties/ExecutionRoleArn",
            "/properties/TaskRoleArn",
        ],
        &[],
    ),
    spec(
        "AWS::ECS::Service",
        &["/properties/Cluster", "/properties/ServiceName"],
        &[],
    ),
    spec(
        "AWS::EC2::SecurityGroup",
        &["/properties/GroupDescription", "/properties/VpcId"],
        &[],
    ),
    spec(
        "AWS::RDS::DBInstance",
        &["/properties/DBName"],
        &["/properties/Engine"],
    ),
    spec("AWS::Logs::LogGroup", &["/properties/LogGroupName"], &[]),
];

impl SpecSource for FakeSpecs {
    fn type_spec(&self, type_name: &str) -> Option<&TypeSpec> {
        SPECS.iter().find(|s| s.type_name == type_name)
    }
}

/// A compact description of a stack diff, one line per fact, for table-driven assertions.
fn facts(d: &StackDiff) -> Vec<String> {
    let mut out = Vec::new();
    for e in &d.parameters {
        out.push(format!("parameter {}", e.name));
    }
    for e in &d.outputs {
        out.push(format!("output {}", e.name));
    }
    for r in &d.resources {
        let impact = r.impact.map(|i| format!(" {i:?}")).unwrap_or_default();
        out.push(format!("{:?} {}{impact}", r.kind, r.logical_id));
        for p in &r.properties {
            let cause = p
                .caused_by
                .as_deref()
                .map(|c| format!(" because {c}"))
                .unwrap_or_default();
            out.push(format!("  {} {:?}{cause}", p.path, p.impact));
        }
    }
    for m in &d.moves {
        out.push(format!("move {} -> {}", m.from, m.to));
    }
    for s in &d.stateful {
        out.push(format!("stateful {} {:?}", s.logical_id, s.risk));
    }
    for s in &d.iam {
        out.push(format!(
            "iam {:?} {} {}",
            s.change,
            s.effect,
            s.actions.join(",")
        ));
    }
    for r in &d.security_groups {
        out.push(format!(
            "sg {:?} {:?} {} {} {}",
            r.change, r.direction, r.protocol, r.ports, r.peer
        ));
    }
    for (k, (a, b)) in &d.tags {
        out.push(format!("tag {k} {a:?} -> {b:?}"));
    }
    if let Some((a, b)) = d.termination_protection {
        out.push(format!("termination protection {a} -> {b}"));
    }
    out
}

fn bucket(name: &str) -> Value {
    json!({"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name},
           "Metadata": {"aws:cdk:path": "prod/App/Assets/Resource"}})
}

fn role(statements: Value) -> Value {
    res(
        "AWS::IAM::Role",
        json!({
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": statements}}]
        }),
    )
}

fn sg(ingress: Value) -> Value {
    res(
        "AWS::EC2::SecurityGroup",
        json!({"GroupDescription": "web", "VpcId": {"Ref": "Vpc"}, "SecurityGroupIngress": ingress}),
    )
}

fn subnet(cidr: &str) -> Value {
    res(
        "AWS::EC2::Subnet",
        json!({"VpcId": {"Ref": "Vpc"}, "CidrBlock": cidr}),
    )
}

fn network(cidr: &str) -> Value {
    tpl(json!({
        "Subnet": subnet(cidr),
        "Assoc": res("AWS::EC2::SubnetRouteTableAssociation",
            json!({"SubnetId": {"Ref": "Subnet"}, "RouteTableId": {"Ref": "Rt"}})),
        "Nat": res("AWS::EC2::NatGateway",
            json!({"SubnetId": {"Fn::Sub": "${Subnet}"}, "AllocationId": "eip"})),
        "Task": res("AWS::ECS::TaskDefinition", json!({"Family": {"Fn::Join": ["-", [{"Ref": "Nat"}, "x"]]}})),
        "Other": res("AWS::SNS::Topic", json!({"DisplayName": {"Fn::GetAtt": "Task.Arn"}})),
    }))
}

#[test]
fn classifications() {
    let cases: Vec<(&str, Value, Value, Vec<&str>)> = vec![
        (
            "add",
            tpl(json!({})),
            tpl(json!({"Topic": res("AWS::SNS::Topic", json!({}))})),
            vec!["Added Topic"],
        ),
        (
            "remove",
            tpl(json!({"Topic": res("AWS::SNS::Topic", json!({}))})),
            tpl(json!({})),
            vec!["Removed Topic"],
        ),
        (
            "remove stateful bucket",
            tpl(json!({"Assets": bucket("a")})),
            tpl(json!({})),
            vec!["Removed Assets", "stateful Assets Destroyed"],
        ),
        (
            "retained resource is orphaned, not destroyed",
            tpl(json!({"Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain"}})),
            tpl(json!({})),
            vec!["Orphaned Logs"],
        ),
        (
            "update",
            tpl(json!({"Topic": res("AWS::SNS::Topic", json!({"DisplayName": "a"}))})),
            tpl(json!({"Topic": res("AWS::SNS::Topic", json!({"DisplayName": "b"}))})),
            vec!["Modified Topic Update", "  DisplayName Update"],
        ),
        (
            "replace (stateful)",
            tpl(json!({"Assets": bucket("a")})),
            tpl(json!({"Assets": bucket("b")})),
            vec![
                "Modified Assets Replace",
                "  BucketName Replace",
                "stateful Assets Replaced",
            ],
        ),
        (
            "may replace",
            tpl(json!({"Db": res("AWS::RDS::DBInstance", json!({"Engine": "postgres"}))})),
            tpl(json!({"Db": res("AWS::RDS::DBInstance", json!({"Engine": "aurora-postgresql"}))})),
            vec!["Modified Db MayReplace", "  Engine MayReplace"],
        ),
        (
            "adding a create-only property replaces",
            tpl(json!({"Db": res("AWS::RDS::DBInstance", json!({}))})),
            tpl(json!({"Db": res("AWS::RDS::DBInstance", json!({"DBName": "app"}))})),
            vec![
                "Modified Db Replace",
                "  DBName Replace",
                "stateful Db Replaced",
            ],
        ),
        (
            "type change",
            tpl(json!({"Q": res("AWS::SQS::Queue", json!({}))})),
            tpl(json!({"Q": res("AWS::SNS::Topic", json!({}))})),
            vec!["TypeChanged Q Replace"],
        ),
        (
            "propagated replacement, transitively",
            network("10.0.0.0/24"),
            network("10.0.1.0/24"),
            vec![
                "Modified Subnet Replace",
                "  CidrBlock Replace",
                "Modified Assoc Replace",
                "  SubnetId Replace because Subnet",
                "Modified Nat Replace",
                "  SubnetId Replace because Subnet",
                "Modified Task Replace",
                "  Family Replace because Nat",
                "Modified Other Update",
                "  DisplayName Update because Task",
            ],
        ),
        (
            "move: logical ID changes, construct path stays",
            tpl(json!({"AssetsOld": bucket("a")})),
            tpl(json!({"AssetsNew": bucket("a")})),
            vec![
                "Moved AssetsNew Replace",
                "move AssetsOld -> AssetsNew",
                "stateful AssetsOld Moved",
            ],
        ),
        (
            "IAM broadening",
            tpl(
                json!({"Role": role(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]))}),
            ),
            tpl(json!({"Role": role(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": "*"}]))})),
            vec![
                "Modified Role Update",
                "  Policies[0].PolicyDocument.Statement[0] Update",
                "iam Added Allow s3:DeleteObject,s3:PutObject",
            ],
        ),
        (
            "IAM narrowing",
            tpl(
                json!({"Role": role(json!([{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]))}),
            ),
            tpl(
                json!({"Role": role(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]))}),
            ),
            vec![
                "Modified Role Update",
                "  Policies[0].PolicyDocument.Statement[0].Action[1] Update",
                "iam Added Allow s3:GetObject",
                "iam Removed Allow s3:GetObject,s3:PutObject",
            ],
        ),
        (
            "SG rule added",
            tpl(
                json!({"Sg": sg(json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]))}),
            ),
            tpl(json!({"Sg": sg(json!([
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"},
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv6": "::/0"}]))})),
            vec![
                "Modified Sg Update",
                "  SecurityGroupIngress[1] Update",
                "sg Added Ingress tcp 22 ::/0",
            ],
        ),
        (
            "SG rule removed (standalone ingress)",
            tpl(json!({"In": res("AWS::EC2::SecurityGroupIngress", json!({
                "GroupId": {"Fn::GetAtt": ["Sg", "GroupId"]}, "IpProtocol": "-1",
                "SourcePrefixListId": "pl-123"}))})),
            tpl(json!({})),
            vec![
                "Removed In",
                "sg Removed Ingress all all prefix list pl-123",
            ],
        ),
        (
            "outputs and parameters",
            json!({"Parameters": {"Env": {"Type": "String"}}, "Outputs": {"Url": {"Value": "a"}}}),
            json!({"Parameters": {"Env": {"Type": "String", "Default": "prod"}}, "Outputs": {"Url": {"Value": "b"}, "Arn": {"Value": "c"}}}),
            vec!["parameter Env", "output Url", "output Arn"],
        ),
        (
            "metadata only is listed but not counted",
            tpl(json!({"Assets": bucket("a")})),
            tpl(
                json!({"Assets": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "a"},
                "Metadata": {"aws:cdk:path": "prod/App/Other/Resource", "checkov": {"skip": [{"id": "CKV_AWS_18"}]}}}}),
            ),
            vec!["MetadataOnly Assets"],
        ),
    ];
    for (name, old, new, want) in cases {
        let d = diff::diff_stack(&input(&old, &new), &FakeSpecs);
        assert_eq!(facts(&d), want, "case {name}");
    }
}

#[test]
fn noise_is_no_change() {
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "key order",
            tpl(
                json!({"T": {"Type": "AWS::SNS::Topic", "Properties": {"A": 1, "B": {"x": 1, "y": 2}}}}),
            ),
            tpl(
                json!({"T": {"Properties": {"B": {"y": 2, "x": 1}, "A": 1}, "Type": "AWS::SNS::Topic"}}),
            ),
        ),
        (
            "IAM action and resource as string vs list, statement order",
            tpl(json!({"R": role(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Deny", "Action": ["b", "a"], "Resource": ["*"]}]))})),
            tpl(json!({"R": role(json!([
                {"Effect": "Deny", "Action": ["a", "b"], "Resource": "*"},
                {"Resource": ["*"], "Action": ["s3:GetObject"], "Effect": "Allow"}]))})),
        ),
        (
            "GetAtt and Sub forms",
            tpl(
                json!({"T": res("AWS::SNS::Topic", json!({"A": {"Fn::GetAtt": "Role.Arn"}, "B": {"Fn::Sub": ["x-${AWS::Region}"]}}))}),
            ),
            tpl(
                json!({"T": res("AWS::SNS::Topic", json!({"A": {"Fn::GetAtt": ["Role", "Arn"]}, "B": {"Fn::Sub": "x-${AWS::Region}"}}))}),
            ),
        ),
        (
            "DependsOn string vs list",
            tpl(json!({"T": {"Type": "AWS::SNS::Topic", "DependsOn": "X"}})),
            tpl(json!({"T": {"Type": "AWS::SNS::Topic", "DependsOn": ["X"]}})),
        ),
    ];
    for (name, old, new) in cases {
        let d = diff::diff_stacks(&[input(&old, &new)], &FakeSpecs);
        assert!(d.is_empty(), "case {name}: {:?}", facts(&d.stacks[0]));
        assert!(facts(&d.stacks[0]).is_empty(), "case {name}");
    }
}

#[test]
fn stack_settings() {
    let t = tpl(json!({}));
    let mut i = input(&t, &t);
    i.old_stack.tags.insert("team".into(), "a".into());
    i.new_stack.tags.insert("team".into(), "b".into());
    i.new_stack.tags.insert("cost".into(), "x".into());
    i.new_stack.termination_protection = true;
    let d = diff::diff_stack(&i, &FakeSpecs);
    assert_eq!(
        facts(&d),
        vec![
            "tag cost None -> Some(\"x\")",
            "tag team Some(\"a\") -> Some(\"b\")",
            "termination protection false -> true"
        ]
    );
    assert!(!d.is_empty());
}

#[test]
fn new_and_deleted_stacks() {
    let t = tpl(json!({"Topic": res("AWS::SNS::Topic", json!({}))}));
    let mut created = input(&t, &t);
    created.old = None;
    let mut deleted = input(&t, &t);
    deleted.new = None;
    let d = diff::diff_stacks(&[created, deleted], &FakeSpecs);
    assert_eq!(d.stacks[0].resources[0].kind, ResourceChangeKind::Added);
    assert_eq!(d.stacks[1].resources[0].kind, ResourceChangeKind::Removed);
    assert_eq!(d.counts().added, 1);
    assert_eq!(d.counts().removed, 1);
}

#[test]
fn broadening_flags() {
    let allow =
        tpl(json!({"R": role(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]))}));
    let deny =
        tpl(json!({"R": role(json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]))}));
    let none = tpl(json!({"R": role(json!([]))}));
    let run = |a: &Value, b: &Value| diff::diff_stacks(&[input(a, b)], &FakeSpecs);
    assert!(run(&none, &allow).has_security_broadening());
    assert!(!run(&allow, &none).has_security_broadening());
    assert!(run(&deny, &none).has_security_broadening());
    let d = run(&allow, &none);
    assert_eq!(
        d.stacks[0]
            .iam
            .iter()
            .filter(|s| s.change == RowChange::Removed)
            .count(),
        1
    );
}

// ---- the realistic change of the prod template ----

fn prod() -> Value {
    let text = include_str!("data/diff/pantri-prod.template.json");
    serde_json::from_str(text).expect("reference template parses")
}

/// The prod template after: task Cpu/Memory doubled, a new ingress rule on the service security
/// group, and the static-files bucket renamed (a stateful replacement).
fn prod_after() -> Value {
    let mut t = prod();
    let r = &mut t["Resources"];
    r["TaskDef54694570"]["Properties"]["Cpu"] = json!("2048");
    r["TaskDef54694570"]["Properties"]["Memory"] = json!("4096");
    r["TaskDef54694570"]["Properties"]["ContainerDefinitions"][0]["Cpu"] = json!(1536);
    r["WebServiceSecurityGroupBAF50CC8"]["Properties"]["SecurityGroupIngress"] = json!([
        {"CidrIp": "10.0.0.0/16", "Description": "metrics from the VPC", "FromPort": 9090,
         "IpProtocol": "tcp", "ToPort": 9090}
    ]);
    r["StaticFiles5266D87B"]["Properties"]["BucketName"] = json!("pantri-prod-static-v2");
    t
}

fn prod_diff() -> AssemblyDiff {
    let (old, new) = (prod(), prod_after());
    diff::diff_stacks(&[input(&old, &new)], &FakeSpecs)
}

#[test]
fn prod_template_against_itself_is_empty() {
    let t = prod();
    assert!(diff::diff_stacks(&[input(&t, &t)], &FakeSpecs).is_empty());
}

#[test]
fn prod_realistic_change() {
    let d = prod_diff();
    let s = &d.stacks[0];
    assert!(d.has_security_broadening());
    assert_eq!(s.stateful.len(), 1, "{:?}", s.stateful);
    assert_eq!(s.stateful[0].logical_id, "StaticFiles5266D87B");
    let task = s
        .resources
        .iter()
        .find(|r| r.logical_id == "TaskDef54694570");
    let paths: Vec<&str> = task
        .map(|t| t.properties.iter().map(|p| p.path.as_str()).collect())
        .unwrap_or_default();
    // The environment variable holding the bucket name changes because the bucket is replaced.
    assert_eq!(
        paths,
        [
            "ContainerDefinitions[0].Cpu",
            "Cpu",
            "Memory",
            "ContainerDefinitions[0].Environment[9].Value"
        ]
    );
}

fn options() -> render::TextOptions {
    render::TextOptions {
        color: false,
        context: 2,
        security_only: false,
    }
}

#[test]
fn golden_text() {
    insta::assert_snapshot!(render::text(&prod_diff(), &options()));
}

#[test]
fn golden_text_security_only() {
    let opts = render::TextOptions {
        security_only: true,
        ..options()
    };
    insta::assert_snapshot!(render::text(&prod_diff(), &opts));
}

#[test]
fn golden_markdown() {
    insta::assert_snapshot!(render::markdown(&prod_diff(), &options()));
}

#[test]
fn golden_json() {
    insta::assert_json_snapshot!(render::json(&prod_diff()));
}

#[test]
fn color_only_when_asked() {
    let d = prod_diff();
    assert!(!render::text(&d, &options()).contains('\x1b'));
    let colored = render::TextOptions {
        color: true,
        ..options()
    };
    assert!(render::text(&d, &colored).contains("\x1b[31m"));
}
