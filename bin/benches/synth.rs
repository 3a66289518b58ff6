//! Synthesis of the reference app: building the construct tree from the stage settings and
//! synthesizing every stage into an in-memory cloud assembly (no disk writes).

// As the pantri binary: its allocator is part of what is measured.
#[global_allocator]
static ALLOCATOR: pantri::Allocator = pantri::Allocator;

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use pantri::cli::AppContext;
use pantri_synth::{synthesize, SynthOptions};

fn reference_app(c: &mut Criterion) {
    let ctx = AppContext {
        stages_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../stages"),
    };
    c.bench_function("build reference app", |b| {
        b.iter(|| {
            pantri::app::build(&ctx).map(|mut app| {
                app.build_deferred();
                app.stages().len()
            })
        })
    });
    let app = match pantri::app::build(&ctx) {
        Ok(app) => app,
        Err(e) => panic!("reference app: {e:#}"),
    };
    c.bench_function("synthesize reference app (all stages)", |b| {
        b.iter(|| synthesize(&app, &SynthOptions::default()).map(|s| s.assembly.files.len()))
    });
}

criterion_group!(benches, reference_app);
criterion_main!(benches);
