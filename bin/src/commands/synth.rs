//! `pantri synth`: synthesize stages into a cloud assembly, or check the committed one.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use pantri_synth::assembly::DifferenceKind;
use pantri_synth::{App, Format, SynthOptions};

use crate::cli::AppContext;
use crate::exit::Exit;

/// Template format.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// JSON templates (default).
    Json,
    /// YAML templates.
    Yaml,
}

/// Arguments of `pantri synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Stages to synthesize (all when none is named).
    pub stages: Vec<String>,
    /// The output directory.
    #[arg(short, long, default_value = "cdk.out", value_name = "DIR")]
    pub output: PathBuf,
    /// Template format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: FormatArg,
    /// Write nothing; exit 1 with a short diff when the directory differs from what the code produces.
    #[arg(long)]
    pub check: bool,
    /// Print nothing on success.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Lines of each file's diff shown by `--check`.
const CHECK_DIFF_LINES: usize = 40;

/// Characters of a diff line shown by `--check`: a longer line (a dashboard's JSON body, a
/// policy document in one string) shows this much around where it changed.
const CHECK_LINE_CHARS: usize = 160;

/// Runs `pantri synth`.
pub fn run<F>(
    args: &SynthArgs,
    ctx: &AppContext,
    build: &F,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Exit>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let started = Instant::now();
    let format = match args.format {
        FormatArg::Json => Format::Json,
        FormatArg::Yaml => Format::Yaml,
    };
    let options = SynthOptions {
        stages: args.stages.clone(),
        format,
        assembly_dir: args.output.clone(),
        file_hashes: super::file_hashes(),
    };
    if !args.check {
        // Written as it is rendered: the assembly is never whole in memory.
        let synthesized = super::build_and_write(ctx, build, &options, &args.output, err)?;
        if !args.quiet {
            writeln!(
                out,
                "synthesized {} stacks into {} in {} ms",
                synthesized.stacks.len(),
                args.output.display(),
                started.elapsed().as_millis()
            )?;
        }
        return Ok(Exit::Success);
    }
    let synthesis = super::build_and_synthesize(ctx, build, &options, err)?;
    let assembly = &synthesis.assembly;
    // Counted from the manifest: parsing every template back only to count them cost as much as
    // writing them.
    let stacks = assembly.stack_names().len();
    let differences = if args.stages.is_empty() {
        assembly.compare_with_dir(&args.output)?
    } else {
        assembly.compare_subset_with_dir(&args.output)?
    };
    if differences.is_empty() {
        if !args.quiet {
            writeln!(
                out,
                "{} is up to date ({stacks} stacks)",
                args.output.display()
            )?;
        }
        return Ok(Exit::Success);
    }
    writeln!(
        err,
        "{} differs from what the code synthesizes:",
        args.output.display()
    )?;
    for d in &differences {
        match d.kind {
            DifferenceKind::Missing => writeln!(err, "  missing: {}", d.file)?,
            DifferenceKind::Extra => writeln!(err, "  no longer synthesized: {}", d.file)?,
            DifferenceKind::Changed => {
                writeln!(err, "  changed: {}", d.file)?;
                let lines = clip_long_lines(&d.diff, CHECK_LINE_CHARS);
                for line in lines.iter().take(CHECK_DIFF_LINES) {
                    writeln!(err, "    {line}")?;
                }
                if lines.len() > CHECK_DIFF_LINES {
                    writeln!(err, "    ... {} more lines", lines.len() - CHECK_DIFF_LINES)?;
                }
            }
        }
    }
    writeln!(
        err,
        "run `pantri synth` and commit {} with the code that changes it",
        args.output.display()
    )?;
    Ok(Exit::Failed)
}

/// The lines of a unified diff, each longer than `max` characters cut to `max` around its change:
/// a removed line and the added line paired with it (the n-th `-` and the n-th `+` of a run)
/// both show the stretch from a little before the first character where they differ; any
/// other long line shows its start. What is cut is marked `…`, with the characters left out.
fn clip_long_lines(diff: &str, max: usize) -> Vec<String> {
    let lines: Vec<&str> = diff.lines().collect();
    // Where each line's change starts, in characters: from its pair, when it has one.
    let mut change = vec![0usize; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let run = |from: usize, sign: char| {
            lines[from..]
                .iter()
                .take_while(|l| {
                    l.starts_with(sign) && !l.starts_with("---") && !l.starts_with("+++")
                })
                .count()
        };
        let removed = run(i, '-');
        let added = run(i + removed, '+');
        for k in 0..removed.min(added) {
            let (old, new) = (lines[i + k], lines[i + removed + k]);
            // Past the sign: the two differ from there on.
            let same = old
                .chars()
                .zip(new.chars())
                .skip(1)
                .take_while(|(a, b)| a == b)
                .count()
                + 1;
            change[i + k] = same;
            change[i + removed + k] = same;
        }
        i += (removed + added).max(1);
    }
    lines
        .iter()
        .zip(change)
        .map(|(line, at)| clip(line, at, max))
        .collect()
}

/// `line` cut to `max` characters around character `at` (a quarter of them before it), its
/// first character (the diff's sign) always kept.
fn clip(line: &str, at: usize, max: usize) -> String {
    let total = line.chars().count();
    if total <= max {
        return line.to_owned();
    }
    let mut chars = line.chars();
    let sign: String = chars.next().into_iter().collect();
    let body: Vec<char> = chars.collect();
    let width = max.saturating_sub(1).max(1);
    let start = at
        .saturating_sub(1)
        .saturating_sub(width / 4)
        .min(body.len() - width.min(body.len()));
    let end = (start + width).min(body.len());
    let mut out = sign;
    if start > 0 {
        out.push_str(&format!("…({start} characters before) "));
    }
    out.extend(&body[start..end]);
    if end < body.len() {
        out.push_str(&format!(" …({} characters after)", body.len() - end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clip_long_lines;

    #[test]
    fn short_lines_are_kept_whole() {
        let diff = "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-x: 1\n+x: 2\n y\n";
        assert_eq!(clip_long_lines(diff, 20), diff.lines().collect::<Vec<_>>());
    }

    #[test]
    fn a_changed_long_line_shows_where_it_changed_on_both_sides() {
        let old = format!("-    \"{}value: 3{}\",", "a".repeat(300), "b".repeat(300));
        let new = format!("+    \"{}value: 4{}\",", "a".repeat(300), "b".repeat(300));
        let diff = format!("@@ -1 +1 @@\n{old}\n{new}\n {}\n", "c".repeat(200));
        let lines = clip_long_lines(&diff, 60);
        assert_eq!(lines[0], "@@ -1 +1 @@");
        for (line, (sign, digit)) in lines[1..3].iter().zip([('-', '3'), ('+', '4')]) {
            assert!(line.starts_with(sign), "{line}");
            assert!(line.contains(&format!("value: {digit}")), "{line}");
            assert!(
                line.contains("…(298 characters before) aaaaaaavalue"),
                "{line}"
            );
            assert!(line.ends_with(" …(258 characters after)"), "{line}");
        }
        // An unpaired long line shows its start.
        assert_eq!(
            lines[3],
            format!(" {} …(141 characters after)", "c".repeat(59))
        );
    }

    #[test]
    fn a_change_near_the_end_shows_the_end() {
        let old = format!("-{}x", "a".repeat(100));
        let new = format!("+{}y", "a".repeat(100));
        let lines = clip_long_lines(&format!("{old}\n{new}"), 21);
        assert_eq!(
            lines[0],
            format!("-…(81 characters before) {}x", "a".repeat(19))
        );
        assert_eq!(
            lines[1],
            format!("+…(81 characters before) {}y", "a".repeat(19))
        );
    }

    #[test]
    fn runs_pair_in_order_and_headers_are_not_lines_of_a_run() {
        let diff = format!(
            "--- committed/t.json\n+++ synthesized/t.json\n-{a}1\n-{b}\n+{a}2\n",
            a = "a".repeat(50),
            b = "b".repeat(50)
        );
        let lines = clip_long_lines(&diff, 25);
        assert_eq!(
            lines[..2],
            ["--- committed/t.json", "+++ synthesized/t.json"]
        );
        assert_eq!(
            lines[2],
            format!("-…(27 characters before) {}1", "a".repeat(23))
        );
        assert_eq!(
            lines[3],
            format!("-{} …(26 characters after)", "b".repeat(24))
        );
        assert_eq!(
            lines[4],
            format!("+…(27 characters before) {}2", "a".repeat(23))
        );
    }
}
