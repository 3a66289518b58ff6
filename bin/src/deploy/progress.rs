//! How a deployment shows itself: the injected output writers, the approval prompt, and the
//! progress of each stack (a live `indicatif` view on a terminal, one line per event otherwise).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::api::StackEvent;
use super::interrupt::Interrupt;

/// How progress is shown (`--progress`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressMode {
    /// A live view on a terminal, event lines otherwise.
    #[default]
    Auto,
    /// A live view with the resources in progress and done, and the elapsed time.
    Bar,
    /// Every stack event as one line (for CI logs).
    Events,
}

/// The person running the command: answers yes/no questions (`None` when nobody can answer,
/// with no terminal) and may press Ctrl-C.
pub trait Confirm {
    /// Asks `question`. An interrupted question answers `Some(false)`.
    fn ask(&self, question: &str) -> Option<bool>;

    /// What fires when the person asks to stop; by default nothing does.
    fn interrupt(&self) -> Interrupt {
        Interrupt::never()
    }
}

/// Asks on the terminal when stdin and stderr are both terminals; Ctrl-C interrupts.
#[derive(Clone, Debug)]
pub struct TtyConfirm {
    interrupt: Interrupt,
}

impl TtyConfirm {
    /// The terminal's user; installs the Ctrl-C handler (see [`Interrupt::ctrl_c`]).
    pub fn new() -> Self {
        TtyConfirm {
            interrupt: Interrupt::ctrl_c(),
        }
    }
}

impl Default for TtyConfirm {
    fn default() -> Self {
        TtyConfirm::new()
    }
}

/// How often a waiting prompt checks for Ctrl-C.
const PROMPT_TICK: Duration = Duration::from_millis(50);

impl Confirm for TtyConfirm {
    fn ask(&self, question: &str) -> Option<bool> {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return None;
        }
        let mut err = std::io::stderr();
        let _ = write!(err, "{question} [y/N] ");
        let _ = err.flush();
        // The line is read on its own thread so that Ctrl-C (whose handler only sets a flag)
        // ends the wait: a read on this thread would be restarted after the signal. The reader
        // thread stays blocked on stdin until the process ends, which is harmless.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        loop {
            if self.interrupt.is_set() {
                let _ = writeln!(err);
                return Some(false);
            }
            match rx.recv_timeout(PROMPT_TICK) {
                Ok(Ok(line)) => {
                    return Some(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
                }
                Ok(Err(_)) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn interrupt(&self) -> Interrupt {
        self.interrupt.clone()
    }
}

/// Nobody can answer (tests, CI).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoConfirm;

impl Confirm for NoConfirm {
    fn ask(&self, _question: &str) -> Option<bool> {
        None
    }
}

/// The shared output of a run. Stacks deploy concurrently on one task, so the writers sit in
/// `RefCell`s that are borrowed only for one write, never across an await.
pub struct Ui<'a> {
    out: RefCell<&'a mut dyn Write>,
    err: RefCell<&'a mut dyn Write>,
    confirm: &'a dyn Confirm,
    multi: Option<MultiProgress>,
}

impl<'a> Ui<'a> {
    /// A UI over the given writers; `mode` `Auto` becomes a live view only when stderr is a terminal.
    pub fn new(
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
        confirm: &'a dyn Confirm,
        mode: ProgressMode,
    ) -> Self {
        let live = match mode {
            ProgressMode::Bar => true,
            ProgressMode::Events => false,
            ProgressMode::Auto => std::io::stderr().is_terminal(),
        };
        let multi = live.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Ui {
            out: RefCell::new(out),
            err: RefCell::new(err),
            confirm,
            multi,
        }
    }

    /// Writes one line to the output.
    pub fn say(&self, args: fmt::Arguments<'_>) {
        let write = |w: &mut dyn Write| {
            let _ = writeln!(w, "{args}");
        };
        match &self.multi {
            Some(m) => {
                m.suspend(|| write(&mut **self.out.borrow_mut()));
            }
            None => write(&mut **self.out.borrow_mut()),
        }
    }

    /// Writes one line to the error output.
    pub fn warn(&self, args: fmt::Arguments<'_>) {
        let write = |w: &mut dyn Write| {
            let _ = writeln!(w, "{args}");
        };
        match &self.multi {
            Some(m) => {
                m.suspend(|| write(&mut **self.err.borrow_mut()));
            }
            None => write(&mut **self.err.borrow_mut()),
        }
    }

    /// Asks a question (the live view paused meanwhile).
    pub fn ask(&self, question: &str) -> Option<bool> {
        match &self.multi {
            Some(m) => m.suspend(|| self.confirm.ask(question)),
            None => self.confirm.ask(question),
        }
    }

    /// Starts showing the progress of one stack's operation over `total` resources.
    pub fn start(&self, stack: &str, total: usize) -> StackProgress {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total as u64));
            let style = ProgressStyle::with_template("{prefix} [{elapsed}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(stack.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        StackProgress {
            stack: stack.to_owned(),
            bar,
            in_progress: BTreeSet::new(),
            done: BTreeSet::new(),
        }
    }

    /// Shows one new stack event.
    pub fn event(&self, progress: &mut StackProgress, event: &StackEvent) {
        if !event.is_stack_level() {
            if event.status.ends_with("_IN_PROGRESS") {
                progress.in_progress.insert(event.logical_id.clone());
            } else {
                progress.in_progress.remove(&event.logical_id);
                progress.done.insert(event.logical_id.clone());
            }
        }
        match &progress.bar {
            Some(bar) => {
                bar.set_position(progress.done.len() as u64);
                let busy: Vec<&str> = progress.in_progress.iter().map(String::as_str).collect();
                bar.set_message(if busy.is_empty() {
                    event.status.clone()
                } else {
                    format!("in progress: {}", busy.join(", "))
                });
                if event.status.ends_with("_FAILED") {
                    bar.println(render_event(&progress.stack, event));
                }
            }
            None => self.say(format_args!("{}", render_event(&progress.stack, event))),
        }
    }

    /// Says what a stack's operation is still doing when no event came for a while: its
    /// status, for how long, and the resources CloudFormation is working on.
    pub fn quiet(&self, progress: &StackProgress, status: &str, elapsed: Duration) {
        let busy: Vec<&str> = progress.in_progress.iter().map(String::as_str).collect();
        let doing = if busy.is_empty() {
            "no resource in progress yet".to_owned()
        } else {
            format!("in progress: {}", busy.join(", "))
        };
        let line = format!(
            "{}: still {status} after {} ({doing})",
            progress.stack,
            duration(elapsed)
        );
        match &progress.bar {
            Some(bar) => bar.println(line),
            None => self.say(format_args!("{line}")),
        }
    }

    /// Ends the progress of one stack with a final message.
    pub fn finish(&self, progress: StackProgress, message: &str) {
        match progress.bar {
            Some(bar) => bar.finish_with_message(message.to_owned()),
            None => self.say(format_args!("{}: {message}", progress.stack)),
        }
    }
}

/// A duration as a person reads it: `42s`, `3m05s`, `1h02m`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The progress of one stack's operation.
pub struct StackProgress {
    stack: String,
    bar: Option<ProgressBar>,
    in_progress: BTreeSet<String>,
    done: BTreeSet<String>,
}

/// One event as a log line: `stage/Stack | 12:00:01 | CREATE_COMPLETE | AWS::S3::Bucket | Bucket`.
pub fn render_event(stack: &str, e: &StackEvent) -> String {
    let time = e
        .timestamp
        .split_once('T')
        .map(|(_, t)| t.get(..8).unwrap_or(t))
        .unwrap_or(&e.timestamp);
    let mut line = format!(
        "{stack} | {time} | {:<24} | {} | {}",
        e.status, e.resource_type, e.logical_id
    );
    if let Some(reason) = e.reason.as_deref().filter(|r| !r.is_empty()) {
        line.push_str(" | ");
        line.push_str(reason);
    }
    line
}
