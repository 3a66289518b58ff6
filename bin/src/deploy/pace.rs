//! One pace for every poll of a run: stacks deploying at once share a spacing between calls, and
//! a throttled call slows all of them down with a jittered exponential backoff before it is
//! retried. CloudFormation's limits are per account and region, not per stack, so a per-stack
//! loop of fixed sleeps would throttle itself as `--concurrency` grows, and a throttled status
//! read at the end of a finished deployment would turn success into a failure.
//!
//! The pacer runs on tokio's clock (so tests can pause time) and the run's single thread (so
//! `Cell`s are enough); a general-purpose limiter such as `governor` keeps its own clock and
//! atomics for a job this small.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::ApiError;

/// How many throttled answers in a row a poll accepts before it gives up.
pub const MAX_THROTTLED: u32 = 8;

/// The longest backoff after a throttled call.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// The shared pace of a run's polls.
#[derive(Debug)]
pub struct Pacer {
    spacing: Duration,
    base_backoff: Duration,
    next: Cell<Option<Instant>>,
    backoff: Cell<Duration>,
}

impl Pacer {
    /// A pacer that lets one call through every `spacing` and, after a throttled call, waits
    /// `base_backoff` doubled on each further throttle (up to 20 s), with jitter.
    pub fn new(spacing: Duration, base_backoff: Duration) -> Self {
        Pacer {
            spacing,
            base_backoff,
            next: Cell::new(None),
            backoff: Cell::new(Duration::ZERO),
        }
    }

    /// Waits for this call's slot: slots are `spacing` apart across every caller.
    pub async fn slot(&self) {
        let now = Instant::now();
        let at = self.next.get().map_or(now, |n| n.max(now));
        self.next.set(Some(at + self.spacing));
        if at > now {
            tokio::time::sleep_until(at).await;
        }
    }

    /// Records a throttled answer: every caller's next slot moves back by a jittered backoff
    /// (between half and all of the current one, which doubles); returns it.
    pub fn throttled(&self) -> Duration {
        let doubled = (self.backoff.get() * 2).max(self.base_backoff);
        let backoff = doubled.min(MAX_BACKOFF);
        self.backoff.set(backoff);
        let half = backoff / 2;
        let jitter = half.mul_f64(fastrand::f64());
        let wait = half + jitter;
        let resume = Instant::now() + wait;
        if self.next.get().is_none_or(|n| n < resume) {
            self.next.set(Some(resume));
        }
        wait
    }

    /// Records an answer that was not throttled: the backoff starts over.
    pub fn answered(&self) {
        self.backoff.set(Duration::ZERO);
    }

    /// Makes a polling call at the shared pace, retrying throttled answers (up to
    /// [`MAX_THROTTLED`] in a row) after the backoff; any other answer is returned as it is.
    pub async fn call<T, F, Fut>(&self, mut call: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut throttled = 0;
        loop {
            self.slot().await;
            match call().await {
                Err(e) if e.is_throttling() && throttled < MAX_THROTTLED => {
                    throttled += 1;
                    self.throttled();
                }
                answer => {
                    if answer.is_ok() {
                        self.answered();
                    }
                    return answer;
                }
            }
        }
    }
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(Duration::from_millis(200), Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> ApiError {
        ApiError::service("Throttling", "Rate exceeded")
    }

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_across_callers() {
        let pacer = Pacer::new(Duration::from_millis(200), Duration::from_secs(1));
        let start = Instant::now();
        for _ in 0..5 {
            pacer.slot().await;
        }
        // The first call goes at once, each next one a spacing later.
        assert_eq!(start.elapsed(), Duration::from_millis(800));
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_call_is_retried_after_a_growing_jittered_backoff() {
        let pacer = Pacer::new(Duration::ZERO, Duration::from_secs(1));
        let answers = Cell::new(0);
        let start = Instant::now();
        let got = pacer
            .call(|| {
                answers.set(answers.get() + 1);
                let n = answers.get();
                async move {
                    if n <= 3 {
                        Err(throttle())
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(got, Ok(4));
        // Backoffs of 1 s, 2 s and 4 s, each waited between half and all of it.
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(3500) && waited <= Duration::from_secs(7),
            "{waited:?}"
        );
        assert_eq!(
            pacer.backoff.get(),
            Duration::ZERO,
            "an answer resets the backoff"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_slows_every_caller_down() {
        let pacer = Pacer::new(Duration::ZERO, Duration::from_secs(4));
        let wait = pacer.throttled();
        let start = Instant::now();
        pacer.slot().await;
        assert!(start.elapsed() >= wait && wait >= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_and_endless_throttling_are_returned() {
        let pacer = Pacer::new(Duration::ZERO, Duration::from_millis(10));
        let denied: Result<(), _> = pacer
            .call(|| async { Err(ApiError::AccessDenied("no".into())) })
            .await;
        assert_eq!(denied, Err(ApiError::AccessDenied("no".into())));
        let calls = Cell::new(0);
        let throttled: Result<(), _> = pacer
            .call(|| {
                calls.set(calls.get() + 1);
                async { Err(throttle()) }
            })
            .await;
        assert_eq!(throttled, Err(throttle()));
        assert_eq!(calls.get(), MAX_THROTTLED + 1);
    }
}
