//! Synthesis at scale, phase by phase: N generated stages (copies of the reference stages,
//! `pantri::app::scale`) through building the construct tree, resolving and validating it,
//! rendering the templates, manifest and tree to text (measured with resolving, which writes
//! the templates' bulk), and writing the cloud assembly; and all of it as the CLI does it, the
//! stages built and synthesized a batch at a time.
//! `PANTRI_BENCH_STAGES` sets N (default 100: ~9,100 resources in 601 stacks).
//! `scripts/bench-scale` measures the same as whole processes.

// As the pantri binary: its allocator is part of what is measured.
#[global_allocator]
static ALLOCATOR: pantri::Allocator = pantri::Allocator;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use pantri::cli::AppContext;
use pantri_synth::sink::MemorySink;
use pantri_synth::synthesize::resolve;
use pantri_synth::{synthesize_into, SynthOptions};

fn scale(c: &mut Criterion) {
    let stages: usize = std::env::var("PANTRI_BENCH_STAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = AppContext {
        stages_dir: dir.path().join("stages"),
    };
    pantri::app::scale::write_stage_files(&ctx.stages_dir, stages).expect("stage files");
    let options = SynthOptions::default();
    let mut app = pantri::app::build(&ctx).expect("the generated stages build");
    // Built whole, so that each phase is measured over every stage at once.
    app.build_deferred();

    let mut group = c.benchmark_group(format!("{stages} stages"));
    group.sample_size(10);
    group.bench_function("build the tree", |b| {
        b.iter(|| {
            pantri::app::build(&ctx).map(|mut app| {
                app.build_deferred();
                app.stages().len()
            })
        })
    });
    // Resolving writes each template up to its outputs into the sink; render finishes them and
    // writes the manifest and tree. Render alone is the difference of the two.
    group.bench_function("resolve and validate", |b| {
        b.iter_batched_ref(
            MemorySink::default,
            |sink| resolve(&app, &options, sink).map(|r| r.stack_count()),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("resolve and render", |b| {
        b.iter_batched_ref(
            MemorySink::default,
            |sink| resolve(&app, &options, sink).and_then(|r| r.render()),
            BatchSize::PerIteration,
        )
    });
    // The app as the CLI synthesizes it: its stages deferred, each batch built, synthesized
    // and dropped.
    group.bench_function("build and synthesize a batch of stages at a time", |b| {
        b.iter_batched_ref(
            MemorySink::default,
            |sink| {
                let app = pantri::app::build(&ctx).expect("the generated stages build");
                synthesize_into(&app, &options, sink).map(|s| s.stacks.len())
            },
            BatchSize::PerIteration,
        )
    });
    let synthesis = pantri_synth::synthesize(&app, &options).expect("synthesizes");
    let out = dir.path().join("cdk.out");
    group.bench_function("write", |b| {
        b.iter(|| synthesis.assembly.write(&out).is_ok())
    });
    group.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);
