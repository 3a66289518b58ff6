//! Behaviour of the synthesis core through its public API: intrinsics' JSON shapes, logical IDs
//! in templates, cross-stack and cross-region references, validation, the cloud assembly.

use indexmap::IndexMap;
use pantri_synth::fns::{self, aws, dynamic};
use pantri_synth::{
    synthesize, App, CloudAssembly, DeletionPolicy, Environment, Format, Output, Parameter,
    RawResource, ResourceOptions, Severity, StackProps, Str, SynthError, SynthOptions, Value,
};
use serde_json::{json, Value as Json};

const ACCOUNT: &str = "123456789012";

fn lid(path: &[&str]) -> String {
    pantri_synth::logical_id::logical_id(path).expect("non-empty path")
}

fn raw(type_name: &str, props: &[(&str, Value)]) -> RawResource {
    RawResource {
        type_name: type_name.to_owned(),
        properties: props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }
}

fn template(app: &App, artifact: &str) -> Json {
    let s = synthesize(app, &SynthOptions::default()).expect("synth succeeds");
    let stacks = s.assembly.stacks().expect("stacks");
    stacks
        .into_iter()
        .find(|s| s.id == artifact)
        .expect("artifact exists")
        .template
}

fn errors(app: &App) -> Vec<String> {
    match synthesize(app, &SynthOptions::default()) {
        Err(SynthError::Invalid(problems)) => problems
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| format!("[{}] {}", p.path, p.message))
            .collect(),
        Err(e) => panic!("unexpected error kind: {e}"),
        Ok(_) => Vec::new(),
    }
}

/// GIVEN a stack with one resource whose property is `value`, THEN the property renders as `expected`.
fn renders(value: impl Into<Value>, expected: Json) {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    stack.raw_resource("Thing", raw("Custom::Thing", &[("P", value.into())]));
    let t = template(&app, "dev-S");
    assert_eq!(t["Resources"]["Thing"]["Properties"]["P"], expected);
}

#[test]
fn intrinsic_json_shapes() {
    renders(
        fns::join("-", vec![Str::from("a"), aws::region()]),
        json!({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]}),
    );
    renders(
        fns::sub("arn:${AWS::Partition}:s3:::x"),
        json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::x"}),
    );
    renders(
        fns::sub_with("${A}-x", [("A", aws::stack_name())]),
        json!({"Fn::Sub": ["${A}-x", {"A": {"Ref": "AWS::StackName"}}]}),
    );
    renders(
        fns::select(1, fns::get_azs("")),
        json!({"Fn::Select": [1, {"Fn::GetAZs": ""}]}),
    );
    renders(fns::split(",", "a,b"), json!({"Fn::Split": [",", "a,b"]}));
    renders(
        fns::import_value("shared-vpc"),
        json!({"Fn::ImportValue": "shared-vpc"}),
    );
    renders(fns::base64("echo hi"), json!({"Fn::Base64": "echo hi"}));
    renders(
        fns::cidr("10.0.0.0/16", 4, 8),
        json!({"Fn::Cidr": ["10.0.0.0/16", 4, 8]}),
    );
    renders(aws::account_id(), json!({"Ref": "AWS::AccountId"}));
    renders(aws::partition(), json!({"Ref": "AWS::Partition"}));
    renders(aws::url_suffix(), json!({"Ref": "AWS::URLSuffix"}));
    renders(aws::no_value::<Str>(), json!({"Ref": "AWS::NoValue"}));
    renders(
        dynamic::secretsmanager("pantri/datadog", "api_key"),
        json!("{{resolve:secretsmanager:pantri/datadog:SecretString:api_key::}}"),
    );
    renders(
        dynamic::ssm("/pantri/image"),
        json!("{{resolve:ssm:/pantri/image}}"),
    );
}

#[test]
fn refs_getatts_conditions_mappings_and_parameters_use_logical_ids() {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    let param = stack.parameter(
        "ImageTag",
        Parameter::string()
            .default_value("latest")
            .description("tag"),
    );
    stack.parameter(
        "ApiKey",
        Parameter::string().no_echo().from_env("DATADOG_API_KEY"),
    );
    let cond = stack.condition("IsProd", fns::equals(param.value::<Str>(), "prod"));
    let mut map = IndexMap::new();
    map.insert(
        "eu-west-1".to_owned(),
        IndexMap::from([("Ami".to_owned(), Value::from("ami-1"))]),
    );
    let mapping = stack.mapping("Amis", map);
    let mut group = stack.child("Group");
    let bucket = group.raw_resource("Bucket", raw("AWS::S3::Bucket", &[]));
    group.raw_resource(
        "Policy",
        raw(
            "Custom::Thing",
            &[
                ("Ref", bucket.ref_().into()),
                ("Arn", bucket.get_att::<Str>("Arn").into()),
                (
                    "Tag",
                    fns::if_(cond, param.value::<Str>(), Str::from("dev")).into(),
                ),
                (
                    "Ami",
                    fns::find_in_map(mapping, aws::region(), "Ami").into(),
                ),
            ],
        ),
    );
    stack.output(
        "BucketName",
        Output::new(bucket.ref_()).description("the bucket"),
    );
    let t = template(&app, "dev-S");
    let bucket_id = lid(&["Group", "Bucket"]);
    let p = &t["Resources"][lid(&["Group", "Policy"])]["Properties"];
    assert_eq!(
        t["Resources"][&bucket_id]["Type"], "AWS::S3::Bucket",
        "{t:#}"
    );
    assert_eq!(p["Ref"], json!({"Ref": bucket_id}));
    assert_eq!(p["Arn"], json!({"Fn::GetAtt": [bucket_id, "Arn"]}));
    assert_eq!(
        p["Tag"],
        json!({"Fn::If": ["IsProd", {"Ref": "ImageTag"}, "dev"]})
    );
    assert_eq!(
        p["Ami"],
        json!({"Fn::FindInMap": ["Amis", {"Ref": "AWS::Region"}, "Ami"]})
    );
    assert_eq!(
        t["Conditions"]["IsProd"],
        json!({"Fn::Equals": [{"Ref": "ImageTag"}, "prod"]})
    );
    assert_eq!(
        t["Parameters"]["ImageTag"],
        json!({"Type": "String", "Default": "latest", "Description": "tag"})
    );
    assert_eq!(t["Mappings"]["Amis"]["eu-west-1"]["Ami"], "ami-1");
    assert_eq!(
        t["Parameters"]["ApiKey"],
        json!({"Type": "String", "NoEcho": true})
    );
    let s = synthesize(&app, &SynthOptions::default()).expect("synth");
    let stack = &s.assembly.stacks().expect("stacks")[0];
    assert_eq!(stack.env_parameters.len(), 1);
    assert_eq!(
        (
            stack.env_parameters[0].parameter.as_str(),
            stack.env_parameters[0].variable.as_str()
        ),
        ("ApiKey", "DATADOG_API_KEY")
    );
    assert_eq!(
        t["Outputs"]["BucketName"],
        json!({"Description": "the bucket", "Value": {"Ref": bucket_id}})
    );
    assert_eq!(
        t["Resources"][&bucket_id]["Metadata"]["aws:cdk:path"],
        "dev/S/Group/Bucket"
    );
}

fn two_stack_app(producer_region: &str, producer_account: &str) -> App {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("prod", Environment::new(ACCOUNT, "ap-northeast-1"));
    let cert = {
        let mut edge = stage.stack(
            "Cert",
            StackProps {
                env: Some(Environment::new(producer_account, producer_region)),
                ..StackProps::default()
            },
        );
        edge.raw_resource(
            "Certificate",
            raw(
                "AWS::CertificateManager::Certificate",
                &[("DomainName", "x.example.com".into())],
            ),
        )
    };
    let mut app_stack = stage.stack("App", StackProps::default());
    app_stack.raw_resource(
        "Distribution",
        raw("Custom::Dist", &[("CertificateArn", cert.ref_().into())]),
    );
    app
}

#[test]
fn same_region_reference_becomes_export_import_and_stack_dependency() {
    let app = two_stack_app("ap-northeast-1", ACCOUNT);
    let s = synthesize(&app, &SynthOptions::default()).expect("synth");
    let stacks = s.assembly.stacks().expect("stacks");
    let cert = stacks
        .iter()
        .find(|s| s.id == "prod-Cert")
        .expect("cert stack");
    let consumer = stacks
        .iter()
        .find(|s| s.id == "prod-App")
        .expect("app stack");
    let export = &cert.template["Outputs"]["ExportsOutputRefCertificate"];
    assert_eq!(export["Value"], json!({"Ref": "Certificate"}));
    assert_eq!(
        export["Export"]["Name"],
        "prod-Cert:ExportsOutputRefCertificate"
    );
    assert_eq!(
        consumer.template["Resources"]["Distribution"]["Properties"]["CertificateArn"],
        json!({"Fn::ImportValue": "prod-Cert:ExportsOutputRefCertificate"})
    );
    assert_eq!(consumer.dependencies, vec!["prod-Cert".to_owned()]);
    assert!(consumer.cross_region.is_empty());
}

#[test]
fn cross_region_reference_becomes_output_parameter_and_manifest_link() {
    let app = two_stack_app("us-east-1", ACCOUNT);
    let s = synthesize(&app, &SynthOptions::default()).expect("synth");
    let stacks = s.assembly.stacks().expect("stacks");
    let cert = stacks
        .iter()
        .find(|s| s.id == "prod-Cert")
        .expect("cert stack");
    let consumer = stacks
        .iter()
        .find(|s| s.id == "prod-App")
        .expect("app stack");
    let output = &cert.template["Outputs"]["CrossRegionRefCertificate"];
    assert_eq!(output["Value"], json!({"Ref": "Certificate"}));
    assert!(output.get("Export").is_none(), "no export across regions");
    assert_eq!(
        consumer.template["Parameters"]["CrossRegionRefCertificate"]["Type"],
        "String"
    );
    assert_eq!(
        consumer.template["Resources"]["Distribution"]["Properties"]["CertificateArn"],
        json!({"Ref": "CrossRegionRefCertificate"})
    );
    assert_eq!(consumer.dependencies, vec!["prod-Cert".to_owned()]);
    assert_eq!(consumer.cross_region.len(), 1);
    assert_eq!(consumer.cross_region[0].producer, "prod-Cert");
    assert_eq!(consumer.cross_region[0].output, "CrossRegionRefCertificate");
    assert_eq!(
        consumer.cross_region[0].parameter,
        "CrossRegionRefCertificate"
    );
}

#[test]
fn cross_account_reference_is_an_error_naming_both_paths() {
    let errs = errors(&two_stack_app("ap-northeast-1", "210987654321"));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("[prod/App/Distribution]"), "{errs:?}");
    assert!(
        errs[0].contains("prod/Cert/Certificate") && errs[0].contains("cross-account"),
        "{errs:?}"
    );
}

#[test]
fn stack_dependency_cycle_is_an_error() {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let a = stage
        .stack("A", StackProps::default())
        .raw_resource("X", raw("Custom::X", &[]));
    let mut b = stage.stack("B", StackProps::default());
    let y = b.raw_resource("Y", raw("Custom::Y", &[("A", a.ref_().into())]));
    let a_stack = stage.app_ref().stack_of(a.node()).expect("stack");
    stage
        .at(a_stack)
        .raw_resource("Z", raw("Custom::Z", &[("B", y.ref_().into())]));
    let errs = errors(&app);
    assert!(
        errs.iter()
            .any(|e| e.contains("cycle") && e.contains("dev/A") && e.contains("dev/B")),
        "{errs:?}"
    );
}

#[test]
fn tree_problems_are_collected_and_reported_together() {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    stack.raw_resource("Dup", raw("Custom::A", &[]));
    stack.raw_resource("Dup", raw("Custom::A", &[]));
    stack.raw_resource("", raw("Custom::A", &[]));
    stack.raw_resource("a/b", raw("Custom::A", &[]));
    let out = stack.output("Out", Output::new(Value::from("x")));
    stack.raw_resource(
        "Bad",
        raw(
            "Custom::A",
            &[(
                "P",
                pantri_synth::Res::<RawResource>::dangling_for(out.node())
                    .ref_()
                    .into(),
            )],
        ),
    );
    let errs = errors(&app);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/S/Dup]") && e.contains("duplicate construct id")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/S]") && e.contains("empty")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/S/a/b]") && e.contains("'/'")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/S/Bad]") && e.contains("not a resource or parameter")),
        "{errs:?}"
    );
}

#[test]
fn depends_on_from_construct_dependencies_and_cycles() {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    let first = stack.raw_resource("First", raw("Custom::A", &[]));
    let mut group = stack.child("Group");
    group.raw_resource("One", raw("Custom::A", &[]));
    group.add_dependency(first);
    let t = template(&app, "dev-S");
    assert_eq!(
        t["Resources"][lid(&["Group", "One"])]["DependsOn"],
        json!(["First"])
    );

    // A resource that depends on something that refers back to it is a cycle.
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    let a = stack.raw_resource("A", raw("Custom::A", &[]));
    let b = stack.raw_resource("B", raw("Custom::B", &[("A", a.ref_().into())]));
    stack
        .app()
        .options_mut(a)
        .expect("resource")
        .depends_on
        .push(b.node());
    let errs = errors(&app);
    assert!(
        errs.iter().any(|e| e.contains("dependency cycle")
            && e.contains("dev/S/A")
            && e.contains("dev/S/B")),
        "{errs:?}"
    );
}

#[test]
fn resource_attributes_render_in_the_template() {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    let mut options = ResourceOptions::default();
    options
        .removal_policy(DeletionPolicy::Retain)
        .suppress_checkov("CKV_AWS_18", "logs bucket itself");
    let cond = stack.condition("Always", fns::equals("a", "a"));
    options.condition = Some(cond);
    let b = stack.raw_resource("B", raw("AWS::S3::Bucket", &[]));
    *stack.app().options_mut(b).expect("resource") = options;
    let t = template(&app, "dev-S");
    let r = &t["Resources"]["B"];
    assert_eq!(r["DeletionPolicy"], "Retain");
    assert_eq!(r["UpdateReplacePolicy"], "Retain");
    assert_eq!(r["Condition"], "Always");
    assert_eq!(
        r["Metadata"]["checkov"]["skip"],
        json!([{"id": "CKV_AWS_18", "comment": "logs bucket itself"}])
    );
}

#[test]
fn logical_id_overrides_and_renames() {
    let build = |rename: Option<(&str, &str)>, override_on_construct: bool| {
        let mut app = App::new();
        let mut root = app.root();
        let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
        let mut stack = stage.stack("S", StackProps::default());
        let stack_node = stack.node();
        let mut group = stack.child("Group");
        let group_node = group.node();
        let r = group.raw_resource("Resource", raw("Custom::A", &[]));
        let other = group.raw_resource("Other", raw("Custom::A", &[]));
        app.override_logical_id(other, "Legacy");
        if let Some((old, new)) = rename {
            app.rename_logical_id(stack_node, old, new);
        }
        if override_on_construct {
            app.override_logical_id(group_node, "Nope");
        }
        let _ = r;
        app
    };
    let t = template(&build(None, false), "dev-S");
    assert!(t["Resources"].get("Legacy").is_some(), "{t:#}");
    let renamed = template(&build(Some(("Legacy", "Renamed")), false), "dev-S");
    assert!(
        renamed["Resources"].get("Renamed").is_some()
            && renamed["Resources"].get("Legacy").is_none()
    );
    let errs = errors(&build(Some(("Missing", "X")), false));
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/S]") && e.contains("Missing")),
        "{errs:?}"
    );
    let errs = errors(&build(None, true));
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/S/Group]") && e.contains("override")),
        "{errs:?}"
    );
}

#[test]
fn limits_and_duplicate_exports() {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("Big", StackProps::default());
    for i in 0..501 {
        stack.raw_resource(&format!("R{i}"), raw("Custom::A", &[]));
    }
    stack.output("A", Output::new(Value::from("x")).export("shared"));
    stack.output("B", Output::new(Value::from("y")).export("shared"));
    stack.output("C", Output::new(Value::from("z")).export("shared"));
    // The same name in another region is another export.
    let mut other = root.stage("west", Environment::new(ACCOUNT, "us-west-2"));
    let mut west = other.stack("Small", StackProps::default());
    west.output("A", Output::new(Value::from("x")).export("shared"));
    let errs = errors(&app);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/Big]") && e.contains("501 Resources")),
        "{errs:?}"
    );
    let duplicates: Vec<&String> = errs
        .iter()
        .filter(|e| e.contains("export name shared"))
        .collect();
    assert_eq!(
        duplicates,
        [
            "[dev/Big/B] export name shared is also exported by dev/Big/A: export names are unique per account and region",
            "[dev/Big/C] export name shared is also exported by dev/Big/A: export names are unique per account and region",
        ],
        "{errs:?}"
    );
}

#[test]
fn large_template_is_a_warning_that_mentions_s3() {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    stack.raw_resource(
        "Doc",
        raw("Custom::A", &[("Body", Value::from("x".repeat(60_000)))]),
    );
    let s = synthesize(&app, &SynthOptions::default()).expect("a warning does not fail synth");
    assert!(
        s.warnings
            .iter()
            .any(|w| w.path == "dev/S" && w.message.contains("S3")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn bad_environment_and_unknown_stage_are_errors() {
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new("12345", "mars"));
    stage
        .stack("S", StackProps::default())
        .raw_resource("A", raw("Custom::A", &[]));
    let errs = errors(&app);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/S]") && e.contains("12-digit")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/S]") && e.contains("region")),
        "{errs:?}"
    );
    let options = SynthOptions {
        stages: vec!["qa".into()],
        format: Format::Json,
        ..SynthOptions::default()
    };
    let Err(SynthError::Invalid(problems)) = synthesize(&app, &options) else {
        panic!("expected errors")
    };
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("no stage named \"qa\"")),
        "{problems:?}"
    );
}

fn small_app() -> App {
    let mut app = App::new();
    let mut root = app.root();
    for (name, region) in [("dev", "eu-west-1"), ("prod", "eu-central-1")] {
        let mut stage = root.stage(name, Environment::new(ACCOUNT, region));
        stage.tag("Environment", name);
        let mut stack = stage.stack(
            "Storage",
            StackProps {
                termination_protection: name == "prod",
                ..StackProps::default()
            },
        );
        let b = stack.raw_resource("Bucket", raw("AWS::S3::Bucket", &[]));
        stack.output("Name", Output::new(b.ref_()));
    }
    app
}

#[test]
fn synthesis_is_deterministic_and_the_manifest_is_complete() {
    let a = synthesize(&small_app(), &SynthOptions::default())
        .expect("synth")
        .assembly;
    let b = synthesize(&small_app(), &SynthOptions::default())
        .expect("synth")
        .assembly;
    assert_eq!(a.files, b.files, "two synths differ");
    let names: Vec<&String> = a.files.keys().collect();
    assert_eq!(
        names,
        [
            "cdk.out",
            "dev-Storage.template.json",
            "manifest.json",
            "prod-Storage.template.json",
            "tree.json"
        ]
    );
    let manifest: Json = serde_json::from_str(&a.files["manifest.json"]).expect("json");
    let prod = &manifest["artifacts"]["prod-Storage"];
    assert_eq!(prod["type"], "aws:cloudformation:stack");
    assert_eq!(prod["environment"], "aws://123456789012/eu-central-1");
    assert_eq!(prod["displayName"], "prod/Storage");
    assert_eq!(prod["properties"]["terminationProtection"], true);
    assert_eq!(prod["properties"]["tags"], json!({"Environment": "prod"}));
    assert_eq!(
        prod["metadata"]["/prod/Storage/Bucket"],
        json!([{"type": "aws:cdk:logicalId", "data": "Bucket"}])
    );
    assert_eq!(manifest["artifacts"]["Tree"]["type"], "cdk:tree");
    let tree: Json = serde_json::from_str(&a.files["tree.json"]).expect("json");
    assert_eq!(
        tree["tree"]["children"]["prod"]["children"]["Storage"]["children"]["Bucket"]["path"],
        "prod/Storage/Bucket"
    );

    let only_dev = synthesize(
        &small_app(),
        &SynthOptions {
            stages: vec!["dev".into()],
            format: Format::Yaml,
            ..SynthOptions::default()
        },
    )
    .expect("synth")
    .assembly;
    assert!(only_dev.files.contains_key("dev-Storage.template.yaml"));
    assert!(!only_dev.files.keys().any(|f| f.starts_with("prod-")));
    let stacks = only_dev.stacks().expect("yaml templates parse back");
    assert_eq!(
        stacks[0].template["Resources"]["Bucket"]["Type"],
        "AWS::S3::Bucket"
    );
}

#[test]
fn writing_is_atomic_and_check_reports_differences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("cdk.out");
    let assembly = synthesize(&small_app(), &SynthOptions::default())
        .expect("synth")
        .assembly;
    assembly.write(&out).expect("write");
    assert!(assembly
        .compare_with_dir(&out)
        .expect("readable")
        .is_empty());
    assert_eq!(
        CloudAssembly::read(&out).expect("read back").files,
        assembly.files
    );

    // A write that fails half-way (here: a file in a folder that does not exist, after
    // manifest.json was already staged) leaves the previous assembly untouched.
    let before = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
    let staging = dir
        .path()
        .join(format!(".cdk.out.staging-{}", std::process::id()));
    let mut changed = assembly.clone();
    changed.files.insert("manifest.json".into(), "{}".into());
    changed
        .files
        .insert("sub/dir/file".into(), "cannot be written".into());
    assert!(changed.write(&out).is_err());
    assert_eq!(
        std::fs::read_to_string(out.join("manifest.json")).expect("manifest"),
        before
    );
    assert!(
        !staging.exists(),
        "the failed staging directory is cleaned up"
    );

    std::fs::write(out.join("dev-Storage.template.json"), "{}\n").expect("write");
    std::fs::write(out.join("stale.template.json"), "{}\n").expect("write");
    let diffs = assembly.compare_with_dir(&out).expect("readable");
    let files: Vec<&str> = diffs.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(files, ["dev-Storage.template.json", "stale.template.json"]);
    assert!(
        diffs[0].diff.contains("+ \"Resources\""),
        "{}",
        diffs[0].diff
    );
}

#[test]
fn typed_resources_tags_attributes_and_schema_constraints() {
    use pantri_synth::cfn::{ec2, s3, ssm};
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    stage.tag("Team", "web");
    let mut stack = stage.stack("S", StackProps::default());
    let vpc = stack.resource("Vpc", ec2::CfnVPC::new().cidr_block("10.0.0.0/16"));
    let mut net = stack.child("Net");
    net.tag("Tier", "private");
    net.tag("Owner", "network");
    let subnet = net.resource(
        "Subnet",
        ec2::CfnSubnet::new(vpc.ref_())
            .cidr_block("10.0.0.0/24")
            .tags(vec![ec2::subnet::Tag::new("Tier", "public")]),
    );
    net.resource("Param", ssm::CfnParameter::new("String", "v"));
    stack.resource("Bucket", s3::CfnBucket::new());
    stack.output("SubnetAz", Output::new(subnet.attr_subnet_id()));
    let s = synthesize(&app, &SynthOptions::default()).expect("synth");
    let stacks = s.assembly.stacks().expect("stacks");
    let t = &stacks[0].template;
    let subnet_id = lid(&["Net", "Subnet"]);
    // Construct tags reach the resources below, in list or map form; the resource's own wins.
    assert_eq!(
        t["Resources"][&subnet_id]["Properties"]["Tags"],
        json!([{"Key": "Owner", "Value": "network"}, {"Key": "Tier", "Value": "public"}])
    );
    assert_eq!(
        t["Resources"][lid(&["Net", "Param"])]["Properties"]["Tags"],
        json!({"Owner": "network", "Tier": "private"})
    );
    // Stage and stack tags are stack tags: in the manifest, propagated by CloudFormation.
    assert!(t["Resources"]["Vpc"]["Properties"].get("Tags").is_none());
    assert!(t["Resources"]["Bucket"].get("Properties").is_none());
    assert_eq!(
        stacks[0].properties.tags.get("Team").map(String::as_str),
        Some("web")
    );
    assert_eq!(
        t["Outputs"]["SubnetAz"]["Value"],
        json!({"Fn::GetAtt": [subnet_id, "SubnetId"]})
    );

    // An attribute the type does not have, and a literal that breaks the schema, are errors
    // naming the construct path and the property.
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("S", StackProps::default());
    let vpc = stack.resource("Vpc", ec2::CfnVPC::new().cidr_block("10.0.0.0/16"));
    stack.output("Nope", Output::new(vpc.get_att::<Str>("NoSuchAttribute")));
    stack.resource(
        "Bucket",
        s3::CfnBucket::new()
            .versioning_configuration(s3::bucket::VersioningConfiguration::new("Sometimes")),
    );
    let errs = errors(&app);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("[dev/S/Nope]") && e.contains("NoSuchAttribute")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(
            |e| e.starts_with("[dev/S/Bucket]") && e.contains("VersioningConfiguration.Status")
        ),
        "{errs:?}"
    );
}

#[test]
fn an_unreadable_committed_file_is_an_error_not_an_empty_file() {
    // GIVEN a committed assembly one of whose files is not text
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("cdk.out");
    let assembly = synthesize(&small_app(), &SynthOptions::default())
        .expect("synth")
        .assembly;
    assembly.write(&out).expect("write");
    let file = out.join("dev-Storage.template.json");
    std::fs::write(&file, [0xff, 0xfe, 0x00]).expect("write");
    // WHEN it is compared
    let err = assembly
        .compare_with_dir(&out)
        .expect_err("an unreadable file is an error");
    // THEN the error names the file
    assert!(
        err.to_string().contains("dev-Storage.template.json"),
        "{err}"
    );
    // AND a directory that does not exist is every file missing, not an error
    let missing = assembly
        .compare_with_dir(&dir.path().join("nothing-here"))
        .expect("missing dir");
    assert_eq!(missing.len(), assembly.files.len());
}

#[test]
fn a_value_serde_cannot_write_is_an_error_not_an_empty_string() {
    // GIVEN a map whose keys JSON cannot hold
    let mut bad = std::collections::BTreeMap::new();
    bad.insert((1, 2), "pair key");
    // THEN rendering it fails instead of yielding ""
    assert!(pantri_synth::assembly::to_json_string(&bad).is_err());
    assert_eq!(
        pantri_synth::assembly::to_json_string(&serde_json::json!({"a": 1})).expect("json"),
        "{\n \"a\": 1\n}\n"
    );
}
