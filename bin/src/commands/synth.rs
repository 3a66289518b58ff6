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
                let lines: Vec<&str> = d.diff.lines().collect();
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
