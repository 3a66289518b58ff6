//! `pantri diff`: what a change does to the infrastructure, against another cloud assembly (a
//! directory, or the committed `cdk.out` of a git revision) or against the deployed stacks.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Args, ValueEnum};
use pantri_synth::assembly::{StackArtifact, StackOf, TemplateText};
use pantri_synth::diff::{self, render};
use pantri_synth::{App, CloudAssembly, SynthOptions};

use crate::baseline::{self, BaselineError};
use crate::cli::AppContext;
use crate::commands::deploy::AwsArgs;
use crate::deploy::deployed;
use crate::deploy::plan::matches_name;
use crate::deploy::sdk::Connection;
use crate::exit::Exit;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Colored text on a terminal, plain when piped.
    Text,
    /// Markdown for a pull-request comment.
    Markdown,
    /// JSON with a documented, stable shape (`schemaVersion` 1).
    Json,
}

/// Arguments of `pantri diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The stage to compare (all stages when omitted).
    pub stage: Option<String>,
    /// Stacks of the stage to compare, by name (`Network` or `dev/Network`); all when none.
    pub stacks: Vec<String>,
    /// Compare against another cloud assembly: a directory, or `git:REF` for the `cdk.out`
    /// committed at a revision. Without it, compare against the deployed stacks.
    #[arg(long, value_name = "DIR|git:REF")]
    pub baseline: Option<String>,
    /// Read the new side from an existing cloud assembly instead of synthesizing.
    #[arg(long, value_name = "DIR")]
    pub app: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Show only IAM and security-group changes.
    #[arg(long)]
    pub security_only: bool,
    /// Lines of context around changes in long values.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub context: usize,
    /// Exit 1 when anything differs.
    #[arg(long)]
    pub fail: bool,
    /// How to reach AWS when comparing against the deployed stacks.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Runs `pantri diff`.
pub fn run<F>(
    args: &DiffArgs,
    ctx: &AppContext,
    build: &F,
    no_color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Exit>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    // A stage's diff synthesizes that stage alone, as `synth STAGE` and `deploy STAGE` do: the
    // other stages' stacks are not compared (only the selected stacks are), so rendering them
    // was half the reference app's diff, and their warnings were printed with it.
    let options = SynthOptions {
        stages: args.stage.iter().cloned().collect(),
        file_hashes: super::file_hashes(),
        ..SynthOptions::default()
    };
    let result = match (args.baseline.as_deref(), &args.app) {
        // Two assemblies: only the templates that differ are parsed, and a directory's
        // templates are read a few at a time, not held all at once.
        (Some(spec), Some(dir)) => {
            let (_manifest, stacks) = CloudAssembly::read_stacks_lazily(dir)?;
            against_baseline(&select(stacks, args)?, spec, args)?
        }
        (Some(spec), None) => {
            let new = super::build_and_synthesize(ctx, build, &options, err)?.assembly;
            let result = against_baseline(&select(new.unparsed_stacks()?, args)?, spec, args)?;
            // One command per process: the exit frees the assembly faster than `drop`.
            std::mem::forget(new);
            result
        }
        (None, app) => {
            let new = match app {
                Some(dir) => CloudAssembly::read(dir)?,
                None => super::build_and_synthesize(ctx, build, &options, err)?.assembly,
            };
            let new_stacks = select(new.stacks()?, args)?;
            let deployed = deployed_stacks(&new_stacks, &args.aws)?;
            for problem in &deployed.leftovers {
                writeln!(err, "warning: deploy would stop here: {problem}")?;
            }
            let result =
                diff::diff_artifacts(&new_stacks, &deployed.stacks, &|s| is_selected(s, args));
            std::mem::forget(new);
            result
        }
    };
    let color = args.format == DiffFormat::Text && super::use_color(no_color);
    let options = render::TextOptions {
        color,
        context: args.context,
        security_only: args.security_only,
    };
    match args.format {
        DiffFormat::Text => write!(out, "{}", render::text(&result, &options))?,
        DiffFormat::Markdown => write!(out, "{}", render::markdown(&result, &options))?,
        DiffFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&render::json(&result))?
        )?,
    }
    Ok(if args.fail && !result.is_empty() {
        Exit::Failed
    } else {
        Exit::Success
    })
}

/// The diff of `new` against the baseline `spec`: the `cdk.out` of a git revision (read whole,
/// by one `git cat-file --batch`), or a directory whose templates are read when the diff needs
/// them.
fn against_baseline<N: TemplateText + Clone>(
    new: &[StackOf<N>],
    spec: &str,
    args: &DiffArgs,
) -> anyhow::Result<diff::AssemblyDiff> {
    if spec.starts_with("git:") {
        let old = baseline::read(spec)?;
        let result =
            diff::diff_assemblies(new, &old.unparsed_stacks()?, &|s| is_selected(s, args))?;
        // One command per process: the exit frees the baseline faster than `drop`.
        std::mem::forget(old);
        return Ok(result);
    }
    let dir = Path::new(spec);
    let (_manifest, old) =
        CloudAssembly::read_stacks_lazily(dir).map_err(|source| BaselineError::Directory {
            dir: dir.to_path_buf(),
            source,
        })?;
    // An error here names its file (which side's, the path says).
    Ok(diff::diff_assemblies(new, &old, &|s| is_selected(s, args))?)
}

/// True when the arguments select the stack.
fn is_selected<T>(s: &StackOf<T>, args: &DiffArgs) -> bool {
    args.stage.as_ref().is_none_or(|stage| &s.stage == stage)
        && (args.stacks.is_empty() || args.stacks.iter().any(|w| matches_name(s, w)))
}

/// The stacks the arguments select: a stage, and within it named stacks, each of which must
/// exist (deploy's selection, without the dependencies).
fn select<T: Clone>(stacks: Vec<StackOf<T>>, args: &DiffArgs) -> anyhow::Result<Vec<StackOf<T>>> {
    let Some(stage) = &args.stage else {
        return Ok(stacks);
    };
    let mut stages: Vec<&str> = stacks.iter().map(|s| s.stage.as_str()).collect();
    stages.dedup();
    if !stages.contains(&stage.as_str()) {
        bail!(
            "no stage named {stage:?}; the app has: {}",
            stages.join(", ")
        );
    }
    let selected = crate::deploy::plan::select(&stacks, stage, &args.stacks, true)?;
    Ok(selected.into_iter().cloned().collect())
}

/// The deployed side of each stack (`GetTemplate`), after checking that the caller is in the
/// stacks' account; a stack that does not exist yet is left out, so it shows as added.
fn deployed_stacks(stacks: &[StackArtifact], aws: &AwsArgs) -> anyhow::Result<deployed::Deployed> {
    let connection = Connection {
        profile: aws.profile.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        max_attempts: 0,
    };
    Ok(deployed::stacks(stacks, &connection)?)
}
