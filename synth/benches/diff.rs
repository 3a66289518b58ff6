//! Benchmarks of the diff engine: the realistic change of the prod template, and two synthetic
//! 500-resource templates with a change in every tenth resource.

use criterion::{criterion_group, criterion_main, Criterion};
use pantri_synth::diff::{self, SpecSource, StackInput, StackSettings};
use pantri_synth::spec::TypeSpec;
use serde_json::{json, Map, Value};
use std::hint::black_box;

struct Specs;

static SPECS: &[TypeSpec] = &[
    TypeSpec {
        type_name: "AWS::S3::Bucket",
        create_only: &["/properties/BucketName"],
        conditional_create_only: &[],
        primary_identifier: &[],
        attributes: &[],
        properties: &[],
        required: &[],
        tagging: None,
        constraints: &[],
    },
    TypeSpec {
        type_name: "AWS::ECS::TaskDefinition",
        create_only: &[
            "/properties/Cpu",
            "/properties/Memory",
            "/properties/ContainerDefinitions",
        ],
        conditional_create_only: &[],
        primary_identifier: &[],
        attributes: &[],
        properties: &[],
        required: &[],
        tagging: None,
        constraints: &[],
    },
    TypeSpec {
        type_name: "AWS::EC2::Subnet",
        create_only: &["/properties/CidrBlock", "/properties/VpcId"],
        conditional_create_only: &[],
        primary_identifier: &[],
        attributes: &[],
        properties: &[],
        required: &[],
        tagging: None,
        constraints: &[],
    },
];

impl SpecSource for Specs {
    fn type_spec(&self, type_name: &str) -> Option<&TypeSpec> {
        SPECS.iter().find(|s| s.type_name == type_name)
    }
}

fn prod_pair() -> (Value, Value) {
    let text = include_str!("../tests/data/diff/pantri-prod.template.json");
    let old: Value = serde_json::from_str(text).expect("reference template parses");
    let mut new = old.clone();
    let r = &mut new["Resources"];
    r["TaskDef54694570"]["Properties"]["Cpu"] = json!("2048");
    r["TaskDef54694570"]["Properties"]["Memory"] = json!("4096");
    r["WebServiceSecurityGroupBAF50CC8"]["Properties"]["SecurityGroupIngress"] =
        json!([{"CidrIp": "10.0.0.0/16", "FromPort": 9090, "IpProtocol": "tcp", "ToPort": 9090}]);
    r["StaticFiles5266D87B"]["Properties"]["BucketName"] = json!("pantri-prod-static-v2");
    (old, new)
}

/// 500 resources: subnets, route-table associations that reference them, roles with policies,
/// security groups, buckets. `version` changes every tenth resource.
fn synthetic(version: u32) -> Value {
    let mut resources = Map::new();
    for i in 0..100u32 {
        let changed = version > 0 && i % 2 == 0;
        let cidr = if changed {
            format!("10.1.{i}.0/24")
        } else {
            format!("10.0.{i}.0/24")
        };
        resources.insert(
            format!("Subnet{i}"),
            json!({"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": cidr},
                   "Metadata": {"aws:cdk:path": format!("App/Net/Subnet{i}/Subnet")}}),
        );
        resources.insert(
            format!("Assoc{i}"),
            json!({"Type": "AWS::EC2::SubnetRouteTableAssociation",
                   "Properties": {"SubnetId": {"Ref": format!("Subnet{i}")}, "RouteTableId": {"Ref": "Rt"}}}),
        );
        let actions = if changed {
            json!(["s3:GetObject", "s3:PutObject"])
        } else {
            json!("s3:GetObject")
        };
        resources.insert(
            format!("Role{i}"),
            json!({"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]},
                "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                    {"Effect": "Allow", "Action": actions, "Resource": {"Fn::Sub": format!("${{Bucket{i}.Arn}}/*")}}]}}]}}),
        );
        let port = if changed { 8443 } else { 443 };
        resources.insert(
            format!("Sg{i}"),
            json!({"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "sg", "VpcId": {"Ref": "Vpc"},
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": "0.0.0.0/0"}]}}),
        );
        resources.insert(
            format!("Bucket{i}"),
            json!({"Type": "AWS::S3::Bucket", "Properties": {"BucketName": format!("b-{i}"),
                "Tags": [{"Key": "v", "Value": if changed { "2" } else { "1" }}]}}),
        );
    }
    json!({"Resources": resources})
}

/// The committed templates of the reference app (the git baseline of a pull request), and the
/// same app after a realistic change: a bigger task, a new ingress rule, a managed policy on a
/// role, a renamed bucket, a tag on every resource of the service stack.
fn reference_app() -> Vec<(String, Value, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cdk.out");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the committed cdk.out")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".template.json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("template");
            let old: Value = serde_json::from_str(&text).expect("template JSON");
            let mut new = old.clone();
            if let Some(resources) = new["Resources"].as_object_mut() {
                for (_, r) in resources.iter_mut() {
                    let ty = r["Type"].as_str().unwrap_or_default().to_string();
                    let props = &mut r["Properties"];
                    match Some(ty.as_str()) {
                        Some("AWS::ECS::TaskDefinition") => props["Cpu"] = json!("2048"),
                        Some("AWS::EC2::SecurityGroup") => {
                            props["SecurityGroupIngress"] = json!([{"CidrIp": "0.0.0.0/0",
                                "FromPort": 22, "IpProtocol": "tcp", "ToPort": 22}])
                        }
                        Some("AWS::IAM::Role") => {
                            props["ManagedPolicyArns"] =
                                json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"])
                        }
                        Some("AWS::S3::Bucket") => props["BucketName"] = json!("renamed"),
                        _ => {}
                    }
                }
            }
            (path.display().to_string(), old, new)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let app = reference_app();
    c.bench_function(
        "diff reference app (every stack, schema specs) + text",
        |b| {
            b.iter(|| {
                let inputs: Vec<StackInput> = app
                    .iter()
                    .map(|(name, old, new)| StackInput {
                        name,
                        old: Some(old),
                        new: Some(new),
                        old_stack: StackSettings::default(),
                        new_stack: StackSettings::default(),
                    })
                    .collect();
                let d = diff::diff_stacks(black_box(&inputs), &diff::SchemaSpecs);
                black_box(diff::render::text(
                    &d,
                    &diff::render::TextOptions::default(),
                ))
            })
        },
    );
    let settings = StackSettings::default;
    let (old, new) = prod_pair();
    c.bench_function("diff prod realistic change", |b| {
        b.iter(|| {
            let input = StackInput {
                name: "prod/App",
                old: Some(&old),
                new: Some(&new),
                old_stack: settings(),
                new_stack: settings(),
            };
            black_box(diff::diff_stack(black_box(&input), &Specs))
        })
    });
    let (a, b2) = (synthetic(0), synthetic(1));
    c.bench_function("diff synthetic 500 resources", |b| {
        b.iter(|| {
            let input = StackInput {
                name: "synthetic",
                old: Some(&a),
                new: Some(&b2),
                old_stack: settings(),
                new_stack: settings(),
            };
            black_box(diff::diff_stack(black_box(&input), &Specs))
        })
    });
    let d = {
        let input = StackInput {
            name: "synthetic",
            old: Some(&a),
            new: Some(&b2),
            old_stack: settings(),
            new_stack: settings(),
        };
        diff::diff_stacks(&[input], &Specs)
    };
    let opts = diff::render::TextOptions::default();
    c.bench_function("render text synthetic 500 resources", |b| {
        b.iter(|| black_box(diff::render::text(black_box(&d), &opts)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
