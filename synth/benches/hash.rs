//! Benchmarks of asset hashing: a build directory of 400 files (25 MB) read whole, as publishing
//! reads it, and through a [`FileHashCache`] that kept every file's hash, as a synthesis after
//! the first reads it (one stat call a file).

use criterion::{criterion_group, criterion_main, Criterion};
use pantri_synth::asset::{hash_directory, DockerIgnore, FileHashCache};
use std::time::Duration;

fn hashing(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tmp");
    let source = dir.path().join("web");
    let mut byte = 0u8;
    for i in 0..400 {
        let sub = source.join(format!("chunks/{}", i % 10));
        std::fs::create_dir_all(&sub).expect("mkdir");
        let content: Vec<u8> = (0..64_000)
            .map(|_| {
                byte = byte.wrapping_mul(31).wrapping_add(7);
                byte
            })
            .collect();
        std::fs::write(sub.join(format!("c{i}.js")), content).expect("write");
    }
    // The files were written a moment ago: keep their hashes without waiting for them to settle.
    let cache = FileHashCache::new(dir.path().join("cache")).settled_after(Duration::ZERO);
    let none = DockerIgnore::none();
    let whole = hash_directory(&source, &none, &[]).expect("hash");
    assert_eq!(
        cache.hash_directory(&source, &none, &[]).expect("hash"),
        whole
    );

    let mut group = c.benchmark_group("hash a 25 MB directory of 400 files");
    group.bench_function("every byte read", |b| {
        b.iter(|| hash_directory(&source, &none, &[]).expect("hash"))
    });
    group.bench_function("through the kept hashes", |b| {
        b.iter(|| cache.hash_directory(&source, &none, &[]).expect("hash"))
    });
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
