//! The clap command line. Each command maps its arguments to an options struct, calls one
//! library function and renders through injected writers; `main` returns an [`ExitCode`].

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pantri_synth::App;

use crate::commands;
use crate::exit;

/// What an app's build function gets: where the stage settings are.
#[derive(Clone, Debug)]
pub struct AppContext {
    /// The stage settings directory (`stages/` by default).
    pub stages_dir: PathBuf,
}

/// pantri: infrastructure as Rust constructs, synthesized to CloudFormation.
#[derive(Debug, Parser)]
#[command(name = "pantri", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// The stage settings directory.
    #[arg(long, global = true, default_value = "stages", value_name = "DIR")]
    pub stages_dir: PathBuf,
    /// Plain output, no colors.
    #[arg(long, global = true)]
    pub no_color: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 success, 1 difference found or deployment failed, \
2 bad input (usage, settings, invalid constructs), 3 approval needed, 4 AWS access failed.";

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Synthesize stages into a cloud assembly (cdk.out).
    Synth(commands::synth::SynthArgs),
    /// List the stacks with stage, region, resource count and template size.
    Ls(commands::ls::LsArgs),
    /// Explain what a change does: replacements, stateful risks, security changes.
    Diff(commands::diff::DiffArgs),
    /// Deploy a stage's stacks through CloudFormation change sets.
    Deploy(crate::deploy::args::DeployArgs),
    /// Delete a stage's stacks, in reverse dependency order.
    Destroy(crate::deploy::args::DestroyArgs),
    /// Say whether the ECS services of a stage's stacks came up (exit 1 when one did not).
    Status(crate::deploy::args::StatusArgs),
    /// Detect drift of a stage's stacks from their templates (exit 1 when drifted).
    Drift(crate::deploy::args::DriftArgs),
}

/// Runs the CLI for an app: parses the arguments, builds the app and runs the command.
pub fn main_with<F>(build: F) -> ExitCode
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let cli = Cli::parse();
    // Unlocked handles: each write takes the lock for itself only. Holding stderr's lock for the
    // whole run would block the progress bar's draw thread, which writes to stderr too, and
    // freeze the deploy at its first bar.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let code = run(cli, &build, &mut out, &mut err);
    let _ = out.flush();
    exit::code(code)
}

/// Runs a parsed command with injected writers; returns the exit code.
pub fn run<F>(cli: Cli, build: &F, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let ctx = AppContext {
        stages_dir: cli.stages_dir.clone(),
    };
    let result = match &cli.command {
        Command::Synth(args) => commands::synth::run(args, &ctx, build, out, err),
        Command::Ls(args) => commands::ls::run(args, &ctx, build, out),
        Command::Diff(args) => commands::diff::run(args, &ctx, build, cli.no_color, out, err),
        Command::Deploy(args) => {
            commands::deploy::deploy(args, &ctx, build, cli.no_color, out, err)
        }
        Command::Destroy(args) => commands::deploy::destroy(args, &ctx, build, out, err),
        Command::Status(args) => commands::deploy::status(args, &ctx, build, out, err),
        Command::Drift(args) => commands::deploy::drift(args, &ctx, build, out, err),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e:#}");
            // AWS access problems (credentials, region, endpoint) have their own code.
            let access = e
                .downcast_ref::<crate::deploy::error::DeployError>()
                .is_some_and(|d| d.exit() == crate::deploy::Exit::AccessProblem);
            if access || e.downcast_ref::<crate::deploy::error::ApiError>().is_some() {
                exit::AWS_ACCESS
            } else {
                exit::BAD_INPUT
            }
        }
    }
}
