//! `cargo run -p pantri-codegen` regenerates `synth/src/cfn/` from `schemas/`;
//! `-- --check` only compares and exits 1 when the committed files are stale.

use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().skip(1).any(|a| a == "--check");
    let root = pantri_codegen::workspace_root();
    let files = match pantri_codegen::generate(&root) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("pantri-codegen: {e:#}");
            return ExitCode::from(2);
        }
    };
    if check {
        let stale = pantri_codegen::stale_files(&root, &files);
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
