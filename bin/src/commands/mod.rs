//! One module per command: arguments, then a thin `run` over the library.

pub mod deploy;
pub mod diff;
pub mod ls;
pub mod synth;

use std::io::{IsTerminal, Write};

use pantri_synth::{App, Severity, SynthError, SynthOptions, Synthesis};

use crate::cli::AppContext;

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
    let app = build(ctx)?;
    match pantri_synth::synthesize(&app, options) {
        Ok(s) => {
            for w in &s.warnings {
                writeln!(err, "{w}")?;
            }
            Ok(s)
        }
        Err(SynthError::Invalid(problems)) => {
            for p in &problems {
                writeln!(err, "{p}")?;
            }
            let n = problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count();
            anyhow::bail!("synthesis failed with {n} error(s); nothing was written")
        }
        Err(e) => Err(e.into()),
    }
}
