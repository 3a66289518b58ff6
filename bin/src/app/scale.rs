//! Many stages for measuring synthesis at scale: copies of the reference stages (`prod.yaml` and
//! `dev.yaml`, alternately) with distinct names, domains and CIDRs. Used by the scale benchmark
//! (`bin/benches/scale.rs`), the whole-process table (`scripts/bench-scale`) and the determinism
//! test; nothing in the app itself depends on it.

use std::path::Path;

const PROD: &str = include_str!("../../../stages/prod.yaml");
const DEV: &str = include_str!("../../../stages/dev.yaml");
/// The web app the reference stages name, wherever the copies are written.
static FIXTURE: std::sync::LazyLock<std::path::PathBuf> =
    std::sync::LazyLock::new(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/web"));

/// The settings files of `n` stages, as `(file name, text)`: `s0000.yaml`, `s0001.yaml`, ...
/// Even stages are prod copies, odd ones dev copies. Only the first keeps the account's Datadog
/// integration (it exists once per account). CIDRs are `10.<i mod 256>.0.0/16`: distinct up to
/// 256 stages, which is all that matters to nobody, since every stage has its own VPC.
pub fn stage_files(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let name = format!("s{i:04}");
            let (source, domain, cidr) = if i % 2 == 0 {
                (PROD, "pantri.example.com", "10.20.0.0/16")
            } else {
                (DEV, "dev.pantri.example.com", "10.10.0.0/16")
            };
            let mut text = source
                .replace(
                    &format!("domain_name: {domain}"),
                    &format!("domain_name: {name}.pantri.example.com"),
                )
                .replace(
                    &format!("cidr: {cidr}"),
                    &format!("cidr: 10.{}.0.0/16", i % 256),
                );
            if i > 0 {
                text = text.replace("aws_integration: true", "aws_integration: false");
            }
            // The copies live elsewhere: their web app is the repository's fixture, by its
            // absolute path (hashed once for all stages: synth caches hashes by path).
            text = text.replace(
                "source: ../fixtures/web",
                &format!("source: {}", FIXTURE.display()),
            );
            (format!("{name}.yaml"), text)
        })
        .collect()
}

/// Writes the settings files of `n` stages into `dir` (created if need be).
pub fn write_stage_files(dir: &Path, n: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (file, text) in stage_files(n) {
        std::fs::write(dir.join(file), text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_distinct_copies_of_the_reference_stages() {
        let files = stage_files(3);
        let names: Vec<&str> = files.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["s0000.yaml", "s0001.yaml", "s0002.yaml"]);
        assert!(files[0].1.contains("domain_name: s0000.pantri.example.com"));
        assert!(files[0].1.contains("cidr: 10.0.0.0/16"));
        assert!(files[0].1.contains("aws_integration: true"));
        assert!(files[1].1.contains("domain_name: s0001.pantri.example.com"));
        assert!(files[1].1.contains("cidr: 10.1.0.0/16"));
        assert!(files[2].1.contains("aws_integration: false"));
        assert!(files[2].1.contains("retain_data: true"), "a prod copy");
    }

    /// Stages are built, and stacks resolved and rendered, on every core; the assembly must not
    /// depend on how the threads ran: two parallel runs and a one-thread run give the same bytes.
    #[test]
    fn synthesis_is_the_same_on_many_threads_and_on_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = crate::cli::AppContext {
            stages_dir: dir.path().to_path_buf(),
        };
        write_stage_files(&ctx.stages_dir, 12).expect("stage files");
        let options = pantri_synth::SynthOptions::default();
        let synth = || {
            let app = crate::app::build(&ctx).expect("the generated stages build");
            pantri_synth::synthesize(&app, &options)
                .expect("synthesizes")
                .assembly
        };
        let first = synth();
        assert_eq!(
            first.manifest.artifacts.len(),
            12 * (6 + 2) + 2,
            "stacks, each stage's asset manifest and tree manifest, and the tree"
        );
        assert_eq!(synth(), first, "a second parallel run");
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a one-thread pool")
            .install(synth);
        assert_eq!(one_thread, first, "a one-thread run");
        let many = rayon::ThreadPoolBuilder::new()
            .num_threads(8)
            .build()
            .expect("an eight-thread pool")
            .install(synth);
        assert_eq!(many, first, "an eight-thread run");
    }
}
