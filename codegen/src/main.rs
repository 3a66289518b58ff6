//! `cargo run -p pantri-codegen` regenerates `synth/src/cfn/` from `schemas/`;
//! `-- --check` only compares and exits 1 when the committed files are stale;
//! `-- --schemas DIR --dry-run` generates from another schema directory in memory and writes
//! nothing (how `scripts/refresh-schemas` checks new schemas before they replace the old ones);
//! `-- --all-typed` generates a typed struct for every vendored type, not only the allowlisted
//! ones (how the build cost of typing everything, in the README, was measured).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let dry_run = args.iter().any(|a| a == "--dry-run");
    // `--root DIR`: another checkout to read the allowlist from and write into (measurements).
    let root = match args.iter().position(|a| a == "--root") {
        Some(i) => match args.get(i + 1) {
            Some(dir) => PathBuf::from(dir),
            None => {
                eprintln!("pantri-codegen: --root needs a directory");
                return ExitCode::from(2);
            }
        },
        None => pantri_codegen::workspace_root(),
    };
    let schemas = match args.iter().position(|a| a == "--schemas") {
        Some(i) => match args.get(i + 1) {
            Some(dir) => PathBuf::from(dir),
            None => {
                eprintln!("pantri-codegen: --schemas needs a directory");
                return ExitCode::from(2);
            }
        },
        None => root.join("schemas"),
    };
    let all_typed = args.iter().any(|a| a == "--all-typed");
    let generated = if all_typed {
        pantri_codegen::generate_all_typed(&schemas)
    } else {
        pantri_codegen::generate_with(&root, &schemas)
    };
    let files = match generated {
        Ok(f) => f,
        Err(e) => {
            eprintln!("pantri-codegen: {e:#}");
            return ExitCode::from(2);
        }
    };
    if dry_run {
        let lines: usize = files.iter().map(|f| f.text.lines().count()).sum();
        println!(
            "pantri-codegen: {} would generate {} files, {lines} lines",
            schemas.display(),
            files.len()
        );
        return ExitCode::SUCCESS;
    }
    if check {
        let stale = match pantri_codegen::stale_files(&root, &files) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("pantri-codegen: {e:#}");
                return ExitCode::from(2);
            }
        };
        if stale.is_empty() {
            println!("pantri-codegen: {} files up to date", files.len());
            return ExitCode::SUCCESS;
        }
        eprintln!("pantri-codegen: stale generated files (run `cargo run -p pantri-codegen`):");
        for s in stale {
            eprintln!("  {s}");
        }
        return ExitCode::from(1);
    }
    match pantri_codegen::write(&root, &files) {
        Ok(()) => {
            let lines: usize = files.iter().map(|f| f.text.lines().count()).sum();
            println!("pantri-codegen: wrote {} files, {lines} lines", files.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pantri-codegen: {e:#}");
            ExitCode::from(2)
        }
    }
}
