//! What the stacks of a deploy (or a plan's execution) came to: one exit code, the errors, the
//! outputs file, and the summary a run ends with.

use std::io::Write;
use std::time::Duration;

use indexmap::IndexMap;

use super::args::DeployArgs;
use crate::deploy::engine::{Outcome, StackResult};
use crate::deploy::error::DeployError;
use crate::deploy::progress::Ui;
use crate::exit::Exit;

/// What the stacks of a run came to: the exit code, the failures, the outputs, and a row per
/// stack for the summary.
pub(crate) struct RunResults {
    pub(super) exit: Exit,
    errors: Vec<DeployError>,
    outputs: IndexMap<String, IndexMap<String, String>>,
    rows: Vec<SummaryRow>,
    started: tokio::time::Instant,
}

/// One stack's line of the summary.
struct SummaryRow {
    stack: String,
    state: &'static str,
    elapsed: Duration,
    why: Option<String>,
}

impl RunResults {
    pub(super) fn new() -> Self {
        RunResults {
            exit: Exit::Success,
            errors: Vec::new(),
            outputs: IndexMap::new(),
            rows: Vec::new(),
            started: tokio::time::Instant::now(),
        }
    }

    pub(super) fn add(&mut self, r: StackResult, ui: &Ui<'_>) {
        let (state, why) = match &r.outcome {
            Outcome::Deployed => ("deployed", None),
            Outcome::NoChanges => ("unchanged", None),
            Outcome::Prepared(_) => ("prepared", None),
            Outcome::Detached => ("detached", Some("watching stopped on Ctrl-C".to_owned())),
            Outcome::Skipped(reason) => ("skipped", Some(reason.clone())),
            Outcome::Failed(_) => ("failed", None),
        };
        self.rows.push(SummaryRow {
            stack: r.display_name.clone(),
            state,
            elapsed: r.elapsed,
            why,
        });
        match r.outcome {
            Outcome::Deployed | Outcome::NoChanges => {
                self.outputs.insert(r.stack_name, r.outputs);
            }
            Outcome::Prepared(_) => {}
            Outcome::Detached => self.exit = self.exit.worse(Exit::Interrupted),
            Outcome::Skipped(reason) => {
                ui.warn(format_args!("{}: not deployed: {reason}", r.display_name));
            }
            Outcome::Failed(e) => {
                self.exit = self.exit.worse(Exit::from(&e));
                self.errors.push(e);
            }
        }
    }

    /// Records the service check of a deployed stack: a service that did not come up fails it.
    pub(super) fn services(
        &mut self,
        stack: &str,
        checked: Result<Vec<crate::deploy::service_status::ServiceReport>, DeployError>,
        ui: &Ui<'_>,
    ) {
        match checked {
            Ok(reports) => {
                for rep in reports {
                    if rep.ok() {
                        ui.say(format_args!("{}", rep.render().trim_end()));
                    } else {
                        ui.warn(format_args!("{}", rep.render().trim_end()));
                        if let Some(row) = self.rows.iter_mut().find(|r| r.stack == stack) {
                            row.state = "failed";
                            row.why = Some(format!(
                                "deployed, but service {} did not come up",
                                rep.service.service
                            ));
                        }
                        self.errors.push(DeployError::Failed {
                            stack: stack.to_owned(),
                            message: format!(
                                "service {} did not come up (see above): the stack is deployed, but ECS does not run its new task definition with every desired task",
                                rep.service.service
                            ),
                        });
                        self.exit = self.exit.worse(Exit::Failed);
                    }
                }
            }
            Err(e) => {
                self.exit = self.exit.worse(Exit::from(&e));
                self.errors.push(e);
            }
        }
    }

    /// The summary: how many stacks ended how, in how long, and a line per stack (skipped
    /// ones with the reason).
    fn summary(&self) -> String {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for row in &self.rows {
            match counts.iter_mut().find(|(s, _)| *s == row.state) {
                Some((_, n)) => *n += 1,
                None => counts.push((row.state, 1)),
            }
        }
        let counted: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let mut text = format!(
            "summary: {} stack(s) in {}: {}\n",
            self.rows.len(),
            crate::deploy::progress::duration(self.started.elapsed()),
            counted.join(", ")
        );
        let width = self.rows.iter().map(|r| r.stack.len()).max().unwrap_or(0);
        for row in &self.rows {
            let line = match (&row.why, row.elapsed.is_zero()) {
                (Some(why), _) => format!("{:<9} {why}", row.state),
                (None, true) => row.state.to_owned(),
                (None, false) => format!(
                    "{:<9} {}",
                    row.state,
                    crate::deploy::progress::duration(row.elapsed)
                ),
            };
            text.push_str(&format!("  {:<width$}  {line}\n", row.stack));
        }
        text
    }

    /// Reports the failures, the summary, and writes the outputs file; the exit code.
    pub(super) fn finish(self, args: &DeployArgs, err: &mut dyn Write) -> Exit {
        let mut exit = self.exit;
        for e in &self.errors {
            let _ = writeln!(err, "error: {e}");
        }
        if !self.rows.is_empty() {
            let _ = write!(err, "{}", self.summary());
        }
        if let Some(path) = &args.outputs_file {
            let written = pantri_synth::assembly::to_json_string(&self.outputs)
                .map_err(std::io::Error::other)
                .and_then(|text| crate::deploy::files::write_private(path, &text));
            if let Err(e) = written {
                let _ = writeln!(err, "error: cannot write {}: {e}", path.display());
                exit = exit.worse(Exit::Failed);
            }
        }
        exit
    }
}
