//! Stages built when the app is synthesized, a batch at a time (`App::defer_in_parallel`): the
//! same assembly and the same problems as the app built whole, whatever batch a stage falls in.

use pantri_synth::assembly::DifferenceKind;
use pantri_synth::sink::AssemblyWriter;
use pantri_synth::{
    synthesize, synthesize_into, App, CloudAssembly, Environment, Format, Output, RawResource,
    StackProps, SynthError, SynthOptions, Value,
};

const ACCOUNT: &str = "123456789012";

/// More than four batches' worth on two threads (16 stages a batch).
const STAGES: usize = 70;

/// `f` on a pool of `threads` threads (the batch size follows the number of threads).
fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}

fn raw(type_name: &str) -> RawResource {
    RawResource {
        type_name: type_name.to_owned(),
        properties: Default::default(),
    }
}

/// What a stage holds that could go wrong across batches.
#[derive(Clone, Default)]
struct Twists {
    /// The `Storage` stack's name, when it is not the default one.
    stack_name: Option<String>,
    /// An export name of the `Storage` stack.
    export: Option<String>,
    /// The stage's id, when it is not `s{i}`.
    id: Option<String>,
    /// A second bucket in the `Storage` stack.
    second_bucket: bool,
}

/// Stage `i`: a storage stack, a service stack importing its bucket, and an edge stack in
/// another region reading it through a parameter deploy fills.
fn stage(app: &mut App, (i, twists): &(usize, Twists)) {
    let region = ["eu-west-1", "eu-central-1", "us-west-2"][i % 3];
    let mut root = app.root();
    let id = twists.id.clone().unwrap_or_else(|| format!("s{i}"));
    let mut stage = root.stage(&id, Environment::new(ACCOUNT, region));
    let mut storage = stage.stack(
        "Storage",
        StackProps {
            stack_name: twists.stack_name.clone(),
            ..StackProps::default()
        },
    );
    let bucket = storage.raw_resource("Bucket", raw("AWS::S3::Bucket"));
    if twists.second_bucket {
        storage.raw_resource("SecondBucket", raw("AWS::S3::Bucket"));
    }
    let mut output = Output::new(bucket.ref_());
    if let Some(name) = &twists.export {
        output = output.export(name.as_str());
    }
    storage.output("Name", output);
    let mut reader = raw("Custom::Reader");
    reader
        .properties
        .insert("Bucket".to_owned(), Value::from(bucket.ref_()));
    stage
        .stack("Service", StackProps::default())
        .raw_resource("Reader", reader.clone());
    stage
        .stack(
            "Edge",
            StackProps {
                env: Some(Environment::new(ACCOUNT, "us-east-1")),
                ..StackProps::default()
            },
        )
        .raw_resource("Reader", reader);
}

fn items(twists: &[(usize, Twists)]) -> Vec<(usize, Twists)> {
    (0..STAGES)
        .map(|i| {
            let t = twists.iter().find(|(j, _)| *j == i).map(|(_, t)| t.clone());
            (i, t.unwrap_or_default())
        })
        .collect()
}

/// An eager stage first, then the stages deferred.
fn deferred(twists: &[(usize, Twists)]) -> App {
    let mut app = App::new();
    stage(&mut app, &(1000, Twists::default()));
    app.defer_in_parallel(items(twists), stage);
    app
}

/// The same app built whole.
fn whole(twists: &[(usize, Twists)]) -> App {
    let mut app = App::new();
    stage(&mut app, &(1000, Twists::default()));
    app.build_in_parallel(&items(twists), stage);
    app
}

fn problems(result: pantri_synth::Result<pantri_synth::Synthesis>) -> Vec<String> {
    match result {
        Err(SynthError::Invalid(problems)) => problems.iter().map(|p| p.to_string()).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn deferred_stages_synthesize_to_the_assembly_of_the_app_built_whole() {
    for format in [Format::Json, Format::Yaml] {
        let options = SynthOptions {
            format,
            ..SynthOptions::default()
        };
        let app = deferred(&[]);
        assert_eq!(app.deferred_items(), STAGES);
        assert_eq!(app.stages().len(), 1, "only the eager stage is built");
        let expected = synthesize(&whole(&[]), &options).expect("synth").assembly;
        assert_eq!(expected.manifest.stack_names().len(), 3 * (STAGES + 1));
        // Five batches of at most 16 stages on two threads, one of them on one thread.
        for threads in [2, 1] {
            let batched = on_threads(threads, || synthesize(&app, &options));
            assert_eq!(
                batched.expect("synth").assembly,
                expected,
                "{threads} threads"
            );
        }

        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("cdk.out");
        let writer = AssemblyWriter::new(&out).expect("a new directory");
        let done = on_threads(2, || synthesize_into(&app, &options, &writer)).expect("synth");
        writer.commit().expect("moved into place");
        assert_eq!(done.stacks, expected.manifest.stack_names());
        assert_eq!(
            CloudAssembly::read(&out).expect("reads").files,
            expected.files
        );
        // Synthesis built the batches apart: the app itself is as it was.
        assert_eq!(app.deferred_items(), STAGES);
    }
}

#[test]
fn a_stage_picked_from_a_later_batch_is_the_same_as_from_the_whole_app() {
    let options = SynthOptions {
        stages: vec!["s65".to_owned()],
        ..SynthOptions::default()
    };
    let expected = synthesize(&whole(&[]), &options).expect("synth").assembly;
    assert_eq!(
        expected.manifest.stack_names(),
        ["s65/Storage", "s65/Service", "s65/Edge"]
    );
    let batched = on_threads(2, || synthesize(&deferred(&[]), &options));
    assert_eq!(batched.expect("synth").assembly, expected);

    let missing = SynthOptions {
        stages: vec!["s7".to_owned(), "nope".to_owned()],
        ..SynthOptions::default()
    };
    let found = problems(on_threads(2, || synthesize(&deferred(&[]), &missing)));
    assert_eq!(found, problems(synthesize(&whole(&[]), &missing)));
    assert_eq!(found.len(), 1, "{found:?}");
    // Every stage is named, those of the last batch too.
    assert!(found[0].contains("no stage named \"nope\""), "{found:?}");
    assert!(found[0].contains("s1000, s0, s1,"), "{found:?}");
    assert!(found[0].ends_with("s68, s69"), "{found:?}");
}

#[test]
fn names_that_collide_across_batches_are_the_errors_of_the_app_built_whole() {
    let name = |s: &str| Twists {
        stack_name: Some(s.to_owned()),
        ..Twists::default()
    };
    let export = |s: &str| Twists {
        export: Some(s.to_owned()),
        ..Twists::default()
    };
    let id = |s: &str| Twists {
        id: Some(s.to_owned()),
        ..Twists::default()
    };
    // Stages 3 apart share a region; the first of each pair is in another batch than the second.
    let twists = [
        (1, name("shared-storage")),
        (64, name("shared-storage")),
        (2, export("shared-export")),
        (47, export("shared-export")),
        (50, export("shared-export")),
        (5, id("s60")),
        (33, id("s1000")),
    ];
    let found = problems(on_threads(2, || {
        synthesize(&deferred(&twists), &SynthOptions::default())
    }));
    assert_eq!(
        found,
        problems(synthesize(&whole(&twists), &SynthOptions::default()))
    );
    let expected = [
        "[s64/Storage] stack name shared-storage is also used by s1/Storage ",
        "[s47/Storage/Name] export name shared-export is also exported by s2/Storage/Name:",
        "[s50/Storage/Name] export name shared-export is also exported by s2/Storage/Name:",
        "[s60] duplicate construct id \"s60\"",
        "[s1000] duplicate construct id \"s1000\"",
    ];
    for e in expected {
        assert!(found.iter().any(|f| f.contains(e)), "{e} in {found:#?}");
    }
}

#[test]
fn an_app_with_its_deferred_stages_built_is_the_app_built_whole() {
    let mut app = deferred(&[]);
    app.build_deferred();
    assert_eq!(app.deferred_items(), 0);
    let whole = whole(&[]);
    let paths = |app: &App| -> Vec<String> {
        app.stacks()
            .iter()
            .map(|s| app.path(*s).to_owned())
            .collect()
    };
    assert_eq!(paths(&app), paths(&whole));
    assert_eq!(
        synthesize(&app, &SynthOptions::default())
            .expect("synth")
            .assembly,
        synthesize(&whole, &SynthOptions::default())
            .expect("synth")
            .assembly
    );
}

/// `pantri synth STAGE --check` against the assembly of every stage: the other stages' files are
/// not differences, and the manifest's and tree's diffs show the stage's own entries alone (a
/// line diff of the whole files took minutes at 1,000 stages).
#[test]
fn one_stage_checked_against_the_whole_assembly_shows_its_own_entries() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("cdk.out");
    synthesize(&deferred(&[]), &SynthOptions::default())
        .expect("synth")
        .assembly
        .write(&out)
        .expect("written");
    let one = SynthOptions {
        stages: vec!["s65".to_owned()],
        ..SynthOptions::default()
    };
    let same = synthesize(&deferred(&[]), &one).expect("synth").assembly;
    assert_eq!(same.compare_subset_with_dir(&out).expect("compared"), []);

    let twists = [(
        65,
        Twists {
            second_bucket: true,
            ..Twists::default()
        },
    )];
    let changed = synthesize(&deferred(&twists), &one)
        .expect("synth")
        .assembly;
    let differences = changed.compare_subset_with_dir(&out).expect("compared");
    let files: Vec<(&str, DifferenceKind)> = differences
        .iter()
        .map(|d| (d.file.as_str(), d.kind.clone()))
        .collect();
    assert_eq!(
        files,
        [
            ("manifest.json", DifferenceKind::Changed),
            ("s65-Storage.template.json", DifferenceKind::Changed),
            ("tree.json", DifferenceKind::Changed),
        ]
    );
    for d in &differences {
        assert!(d.diff.contains("SecondBucket"), "{}: {}", d.file, d.diff);
        let others: Vec<&str> = d
            .diff
            .lines()
            .filter(|l| l.contains("s64") || l.contains("s1000") || l.contains("s0-"))
            .collect();
        assert_eq!(others, Vec::<&str>::new(), "{}: {}", d.file, d.diff);
    }
}
