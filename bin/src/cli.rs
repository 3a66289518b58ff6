//! The clap command line. Each command maps its arguments to an options struct, calls one
//! library function and renders through injected writers; `main` returns an [`ExitCode`].

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pantri_synth::App;

use crate::commands;
use crate::exit::{self, Exit};

/// What an app's build function gets: where the stage settings are.
#[derive(Clone, Debug)]
pub struct AppContext {
    /// The stage settings directory (`stages/` by default).
    pub stages_dir: PathBuf,
}

/// pantri: infrastructure as Rust constructs, synthesized to CloudFormation.
#[derive(Debug, Parser)]
#[command(name = "pantri", version, about, long_about = None, after_help = exit::HELP)]
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

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Synthesize stages into a cloud assembly (cdk.out).
    Synth(commands::synth::SynthArgs),
    /// List the stacks (with --long: stack name, region, account, resource count and template
    /// size, which synthesizes; without: the construct tree's stacks, which does not).
    Ls(commands::ls::LsArgs),
    /// Explain what a change does: replacements, stateful risks, security changes.
    Diff(commands::diff::DiffArgs),
    /// Deploy a stage's stacks through CloudFormation change sets.
    Deploy(Box<crate::commands::deploy::DeployArgs>),
    /// Delete a stage's stacks, in reverse dependency order.
    Destroy(crate::commands::deploy::DestroyArgs),
    /// Say whether the ECS services of a stage's stacks came up (exit 1 when one did not).
    Status(crate::commands::deploy::StatusArgs),
    /// Detect drift of a stage's stacks from their templates (exit 1 when drifted).
    Drift(crate::commands::deploy::DriftArgs),
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
    ExitCode::from(code)
}

/// Runs a parsed command with injected writers; returns the exit code.
pub fn run<F>(cli: Cli, build: &F, out: &mut dyn Write, err: &mut dyn Write) -> Exit
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let ctx = AppContext {
        stages_dir: cli.stages_dir.clone(),
    };
    let result = match &cli.command {
        Command::Synth(args) => commands::synth::run(args, &ctx, build, out, err),
        Command::Ls(args) => commands::ls::run(args, &ctx, build, out, err),
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
            let _ = writeln!(err, "error: {}", message(&e));
            // AWS access problems (credentials, region, endpoint) have their own code.
            Exit::of_error(&e)
        }
    }
}

/// An error and its causes on one line, as `{:#}` writes them, without the causes an error's
/// own text already says: most of pantri's errors include their source in their message
/// ("cannot read X: No such file or directory"), and `{:#}` repeated it after them.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod message_tests {
    use super::message;

    #[test]
    fn a_cause_the_message_already_says_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let read = pantri_synth::SynthError::Io {
            action: "cannot read",
            path: "/x/manifest.json".into(),
            source: io,
        };
        let e = anyhow::Error::new(read).context("baseline /x");
        assert_eq!(
            message(&e),
            "baseline /x: cannot read /x/manifest.json: No such file or directory"
        );
        // A cause that adds something is kept.
        let e = anyhow::anyhow!("the root cause").context("what was being done");
        assert_eq!(message(&e), "what was being done: the root cause");
    }
}
