//! Writes N stage settings files (copies of the reference stages) into a directory, for
//! measuring synthesis at scale: `cargo run --release --example scale_stages -- 100 /tmp/stages`,
//! then `pantri --stages-dir /tmp/stages synth`. `scripts/bench-scale` does both.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(dir)) = (
        args.first().and_then(|n| n.parse::<usize>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: scale_stages N DIR (N stage files written into DIR)");
        return ExitCode::from(2);
    };
    match pantri::app::scale::write_stage_files(&PathBuf::from(dir), n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {dir}: {e}");
            ExitCode::from(2)
        }
    }
}
