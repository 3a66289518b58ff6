//! Diffs two cloud assemblies as `pantri diff --app NEW --baseline OLD --format json` does,
//! without the CLI: for profiling the diff engine (`valgrind --tool=callgrind`, `perf`) in a
//! release build of this crate alone, which builds in seconds (the `pantri` binary takes the AWS
//! SDK with it).
//!
//! Usage: `cargo run --release -p pantri-synth --example diff_assemblies -- NEW OLD > diff.json`

use std::path::Path;
use std::process::ExitCode;

use pantri_synth::diff::{self, render};
use pantri_synth::CloudAssembly;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [new, old] = args.as_slice() else {
        eprintln!("usage: diff_assemblies NEW_DIR OLD_DIR");
        return ExitCode::from(2);
    };
    let read = |dir: &str| CloudAssembly::read(Path::new(dir));
    let (new, old) = match (read(new), read(old)) {
        (Ok(new), Ok(old)) => (new, old),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let diffed = new.unparsed_stacks().and_then(|new_stacks| {
        let old_stacks = old.unparsed_stacks()?;
        diff::diff_assemblies(&new_stacks, &old_stacks, &|_| true)
    });
    let result = match diffed {
        Ok(result) => result,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match serde_json::to_string_pretty(&render::json(&result)) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
