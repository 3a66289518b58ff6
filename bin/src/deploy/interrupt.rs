//! Ctrl-C as a value the engine can wait on and check.
//!
//! The handler runs on its own thread (the `ctrlc` crate), not as a task of the runtime: the
//! approval prompt blocks the runtime's only thread while it waits for an answer, and Ctrl-C must
//! still end it. A second Ctrl-C ends the process at once.

use std::sync::OnceLock;

use tokio::sync::watch;

/// Whether the user asked to stop. Cloning shares the flag; [`Interrupt::default`] never fires.
#[derive(Clone, Debug, Default)]
pub struct Interrupt {
    rx: Option<watch::Receiver<bool>>,
}

/// Sets an [`Interrupt`] by hand (tests).
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

impl Trigger {
    /// Fires the interrupt.
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

/// The process's Ctrl-C interrupt: `None` when no handler could be installed.
static CTRL_C: OnceLock<Option<watch::Receiver<bool>>> = OnceLock::new();

/// The exit code of a process ended by the second Ctrl-C, as a shell reports SIGINT.
const SECOND_CTRL_C_EXIT: i32 = 130;

impl Interrupt {
    /// An interrupt that never fires.
    pub fn never() -> Self {
        Interrupt::default()
    }

    /// An interrupt fired by hand, and its trigger.
    pub fn manual() -> (Trigger, Self) {
        let (tx, rx) = watch::channel(false);
        (Trigger(tx), Interrupt { rx: Some(rx) })
    }

    /// The interrupt fired by Ctrl-C (SIGINT). Installs the handler on first use; from then on
    /// Ctrl-C no longer kills the process, it sets this flag (and a second one exits with 130).
    pub fn ctrl_c() -> Self {
        let rx = CTRL_C.get_or_init(|| {
            let (tx, rx) = watch::channel(false);
            let installed = ctrlc::set_handler(move || {
                if tx.send_replace(true) {
                    std::process::exit(SECOND_CTRL_C_EXIT);
                }
            });
            installed.ok().map(|()| rx)
        });
        Interrupt { rx: rx.clone() }
    }

    /// Whether it fired.
    pub fn is_set(&self) -> bool {
        self.rx.as_ref().is_some_and(|rx| *rx.borrow())
    }

    /// Resolves once it fires (never, for [`Interrupt::never`]).
    pub async fn fired(&self) {
        if let Some(rx) = &self.rx {
            let mut rx = rx.clone();
            if rx.wait_for(|set| *set).await.is_ok() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_interrupt_fires_once_triggered() {
        let (trigger, interrupt) = Interrupt::manual();
        assert!(!interrupt.is_set());
        let waiting = interrupt.clone();
        let waiter = tokio::spawn(async move { waiting.fired().await });
        trigger.fire();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("fired() resolves after fire()")
            .expect("the waiter does not panic");
        assert!(interrupt.is_set());
    }

    #[tokio::test]
    async fn never_does_not_fire() {
        let never = Interrupt::never();
        assert!(!never.is_set());
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(50), never.fired()).await;
        assert!(waited.is_err(), "never() must not resolve");
    }
}
