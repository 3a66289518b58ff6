//! One module per command: arguments, then a thin `run` over the library.

pub mod deploy;
pub mod diff;
pub mod ls;
pub mod synth;

use std::io::{IsTerminal, Write};
use std::mem::ManuallyDrop;
use std::path::Path;

use pantri_synth::asset::FileHashCache;
use pantri_synth::sink::AssemblyWriter;
use pantri_synth::{App, Problem, Severity, SynthError, SynthOptions, Synthesis, Synthesized};

use crate::cli::AppContext;

/// The variable that names where the hashes of asset files are kept between runs; set empty,
/// nothing is kept and every file is read.
pub const CACHE_DIR_VARIABLE: &str = "PANTRI_CACHE_DIR";

/// Where synthesis keeps the hashes of asset sources' files between runs (see
/// [`FileHashCache`]): `PANTRI_CACHE_DIR`, else `pantri` in the user's cache directory
/// (`$XDG_CACHE_HOME`, `~/.cache` on Linux, `~/Library/Caches` on macOS); nowhere when the
/// variable is set empty or there is no cache directory.
/// The cache's files of sources that no longer exist are removed at most once a day
/// ([`FileHashCache::prune_if_due`]).
pub(crate) fn file_hashes() -> Option<FileHashCache> {
    let cache = match std::env::var_os(CACHE_DIR_VARIABLE) {
        Some(dir) if dir.is_empty() => None,
        Some(dir) => Some(FileHashCache::new(dir)),
        None => dirs::cache_dir().map(|d| FileHashCache::new(d.join("pantri"))),
    }?;
    cache.prune_if_due(pantri_synth::asset::PRUNE_EVERY);
    Some(cache)
}

/// Whether standard output gets colors: a terminal, without `--no-color` or `NO_COLOR`.
pub(crate) fn use_color(no_color: bool) -> bool {
    !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// The width of the terminal standard output goes to; `None` when it is not a terminal.
pub(crate) fn terminal_width() -> Option<usize> {
    let term = console::Term::stdout();
    if !term.is_term() {
        return None;
    }
    term.size_checked().map(|(_rows, cols)| usize::from(cols))
}

/// Prints every problem; how many are errors.
fn print_problems(problems: &[Problem], err: &mut dyn Write) -> std::io::Result<usize> {
    for p in problems {
        writeln!(err, "{p}")?;
    }
    Ok(problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count())
}

/// The app, built for one command. It is never dropped: a pantri process runs one command, and
/// freeing the tree node by node when the command is done took 10 to 25 ms at 100 stages, time
/// spent returning memory the process gives back whole when it exits a moment later.
fn built<F>(ctx: &AppContext, build: &F) -> anyhow::Result<ManuallyDrop<App>>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    Ok(ManuallyDrop::new(build(ctx)?))
}

/// Builds the app without synthesizing it, for what the tree alone answers (`pantri ls`): the
/// paths of its stacks, in order. Its deferred stages are built a batch at a time, as synthesis
/// builds them, each dropped once its stacks are listed. The problems its constructs reported
/// while it was built are printed, and an error among them fails, as in
/// [`build_and_synthesize`]. What only synthesis finds (schemas, references, limits) is left to
/// the commands that synthesize.
pub(crate) fn built_stacks<F>(
    ctx: &AppContext,
    build: &F,
    err: &mut dyn Write,
) -> anyhow::Result<Vec<String>>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let app = built(ctx, build)?;
    let mut stacks = Vec::new();
    let mut problems = Vec::new();
    app.try_for_each_part(|part| {
        stacks.extend(part.stacks().into_iter().map(|s| part.path(s).to_owned()));
        problems.extend_from_slice(part.problems());
        Ok::<_, std::convert::Infallible>(())
    })?;
    let n = print_problems(&problems, err)?;
    if n > 0 {
        anyhow::bail!("the app has {n} error(s): fix them, then run the command again");
    }
    Ok(stacks)
}

/// Builds the app and synthesizes it; problems are printed, and an invalid tree is an error.
pub(crate) fn build_and_synthesize<F>(
    ctx: &AppContext,
    build: &F,
    options: &SynthOptions,
    err: &mut dyn Write,
) -> anyhow::Result<Synthesis>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let app = built(ctx, build)?;
    reported(
        pantri_synth::synthesize(&app, options),
        |s| &s.warnings,
        false,
        err,
    )
}

/// Builds the app and synthesizes it into the directory `dir`, each file written as soon as it
/// is rendered (into a staging directory moved into place at the end: `dir` is untouched when
/// synthesis fails). Problems are printed, as by [`build_and_synthesize`].
pub(crate) fn build_and_write<F>(
    ctx: &AppContext,
    build: &F,
    options: &SynthOptions,
    dir: &Path,
    err: &mut dyn Write,
) -> anyhow::Result<Synthesized>
where
    F: Fn(&AppContext) -> anyhow::Result<App>,
{
    let app = built(ctx, build)?;
    // Whether `dir` may be replaced is checked while the app is synthesized into the staging
    // directory beside it (at 100 stages the check reads a 2 MB manifest; the app's stages are
    // built by synthesis, a batch at a time). A `dir` that may not be replaced is the error,
    // whatever synthesis found: the writer is dropped uncommitted and removes what it wrote.
    let writer = AssemblyWriter::new_checked(dir)?;
    let (checked, synthesized) = rayon::join(
        || AssemblyWriter::check(dir),
        || pantri_synth::synthesize_into(&app, options, &writer),
    );
    checked?;
    let synthesized = reported(synthesized, |s| &s.warnings, true, err)?;
    writer.commit()?;
    Ok(synthesized)
}

/// Prints a synthesis's warnings, or its problems when it failed; a failed synthesis that was
/// `writing` says that nothing was written (one in memory, for diff or `--check`, wrote nothing
/// anyway).
fn reported<T>(
    result: pantri_synth::Result<T>,
    warnings: impl Fn(&T) -> &[Problem],
    writing: bool,
    err: &mut dyn Write,
) -> anyhow::Result<T> {
    match result {
        Ok(s) => {
            print_problems(warnings(&s), err)?;
            Ok(s)
        }
        Err(SynthError::Invalid(problems)) => {
            let n = print_problems(&problems, err)?;
            let written = if writing { "; nothing was written" } else { "" };
            anyhow::bail!("synthesis failed with {n} error(s){written}")
        }
        Err(e) => Err(e.into()),
    }
}
