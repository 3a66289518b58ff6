//! Synthesis straight into a directory (`synthesize_into` an `AssemblyWriter`): the same bytes as
//! the assembly synthesized in memory, and nothing written when synthesis fails.

use pantri_synth::sink::AssemblyWriter;
use pantri_synth::{
    synthesize, synthesize_into, App, CloudAssembly, Environment, Format, Output, RawResource,
    StackProps, SynthError, SynthOptions, Value,
};

const ACCOUNT: &str = "123456789012";

fn bucket() -> RawResource {
    RawResource {
        type_name: "AWS::S3::Bucket".to_owned(),
        properties: Default::default(),
    }
}

/// Two stages, each with a service stack that refers to a bucket of its storage stack (an
/// export and an import) and an edge stack in another region that does too (an output and a
/// parameter deploy fills), so generated parameters and outputs are written into templates.
fn app() -> App {
    let mut app = App::new();
    let mut root = app.root();
    for (name, region) in [("dev", "eu-west-1"), ("prod", "eu-central-1")] {
        let mut stage = root.stage(name, Environment::new(ACCOUNT, region));
        let mut storage = stage.stack("Storage", StackProps::default());
        let b = storage.raw_resource("Bucket", bucket());
        storage.output("Name", Output::new(b.ref_()));
        let mut service = stage.stack("Service", StackProps::default());
        let mut r = RawResource {
            type_name: "Custom::Reader".to_owned(),
            properties: Default::default(),
        };
        r.properties
            .insert("Bucket".to_owned(), Value::from(b.ref_()));
        service.raw_resource("Reader", r.clone());
        let mut edge = stage.stack(
            "Edge",
            StackProps {
                env: Some(Environment::new(ACCOUNT, "us-east-1")),
                ..StackProps::default()
            },
        );
        edge.raw_resource("Reader", r);
    }
    app
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_assembly_written_as_it_is_rendered_is_the_one_synthesized_in_memory() {
    for format in [Format::Json, Format::Yaml] {
        let options = SynthOptions {
            format,
            ..SynthOptions::default()
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("cdk.out");
        let writer = AssemblyWriter::new(&out).expect("a new directory");
        let done = synthesize_into(&app(), &options, &writer).expect("synth");
        writer.commit().expect("moved into place");
        let in_memory = synthesize(&app(), &options).expect("synth").assembly;
        assert_eq!(done.stacks, in_memory.manifest.stack_names());
        assert_eq!(done.stacks.len(), 6);
        assert!(in_memory
            .compare_with_dir(&out)
            .expect("readable")
            .is_empty());
        assert_eq!(
            CloudAssembly::read(&out).expect("reads back").files,
            in_memory.files
        );
        let ext = if format == Format::Json {
            "json"
        } else {
            "yaml"
        };
        let import = &in_memory.files[&format!("dev-Service.template.{ext}")];
        assert!(import.contains("Fn::ImportValue"), "{import}");
        let edge = &in_memory.files[&format!("dev-Edge.template.{ext}")];
        assert!(edge.contains("Filled by pantri deploy"), "{edge}");
        assert_eq!(listing(tmp.path()), ["cdk.out"], "no staging left behind");
    }
}

#[test]
fn a_failed_synthesis_into_a_directory_leaves_the_previous_assembly_untouched() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("cdk.out");
    synthesize(&app(), &SynthOptions::default())
        .expect("synth")
        .assembly
        .write(&out)
        .expect("written");
    let before = CloudAssembly::read(&out).expect("reads").files;

    // An error found only once templates are being written (a template over CloudFormation's
    // resource limit): some files have gone to the writer already.
    let mut broken = app();
    let mut root = broken.root();
    let mut stage = root.stage("big", Environment::new(ACCOUNT, "eu-west-1"));
    let mut stack = stage.stack("Big", StackProps::default());
    for i in 0..501 {
        stack.raw_resource(&format!("R{i}"), bucket());
    }
    let writer = AssemblyWriter::new(&out).expect("an assembly may be replaced");
    let result = synthesize_into(&broken, &SynthOptions::default(), &writer);
    drop(writer);
    match result {
        Err(SynthError::Invalid(problems)) => assert!(
            problems.iter().any(|p| p.message.contains("501 Resources")),
            "{problems:?}"
        ),
        other => panic!("expected the resource limit error, got {other:?}"),
    }
    assert_eq!(CloudAssembly::read(&out).expect("reads").files, before);
    assert_eq!(listing(tmp.path()), ["cdk.out"], "no staging left behind");
}

#[test]
fn two_stacks_whose_template_files_would_be_the_same_are_an_error() {
    // `a_b` and `a-b` both write dev-a-b.template.json; in other regions their stack names
    // do not collide, so only the artifact id says so.
    let mut app = App::new();
    let mut root = app.root();
    let mut stage = root.stage("dev", Environment::new(ACCOUNT, "eu-west-1"));
    stage
        .stack("a-b", StackProps::default())
        .raw_resource("Bucket", bucket());
    stage
        .stack(
            "a_b",
            StackProps {
                env: Some(Environment::new(ACCOUNT, "us-east-1")),
                ..StackProps::default()
            },
        )
        .raw_resource("Bucket", bucket());
    match synthesize(&app, &SynthOptions::default()) {
        Err(SynthError::Invalid(problems)) => assert!(
            problems
                .iter()
                .any(|p| p.path == "dev/a_b" && p.message.contains("dev-a-b.template.json")),
            "{problems:?}"
        ),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn generated_outputs_land_in_the_producers_template_on_disk() {
    // The cross-stack reference's generated output lands in the producer's template on disk.
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("cdk.out");
    let writer = AssemblyWriter::new(&out).expect("a new directory");
    synthesize_into(&app(), &SynthOptions::default(), &writer).expect("synth");
    writer.commit().expect("moved into place");
    let text = std::fs::read_to_string(out.join("dev-Storage.template.json")).expect("written");
    let template: serde_json::Value = serde_json::from_str(&text).expect("json");
    let outputs = template["Outputs"].as_object().expect("outputs");
    assert!(outputs.contains_key("Name"));
    assert!(
        outputs.keys().any(|k| k.starts_with("ExportsOutputRef")),
        "{outputs:?}"
    );
}
