//! Following a stack's events until CloudFormation reaches a terminal state.

use super::*;

impl<'a, A: CloudFormation + TemplateStaging> Engine<'a, A> {
    /// Reads new events (chronologically) and shows them; returns them and the first real
    /// failure among them, skipping the cancellations it caused.
    pub(super) async fn poll_events(
        &self,
        api: &A,
        stack: &StackArtifact,
        seen: &HashSet<String>,
        progress: &mut crate::deploy::progress::StackProgress,
    ) -> (Vec<StackEvent>, Option<String>) {
        // Events only draw the progress: a read that fails (after the pacer's retries of a
        // throttled one) is made up by the next poll.
        let name = stack.properties.stack_name.as_str();
        let mut events = self
            .pacer
            .call(|| api.describe_stack_events(name))
            .await
            .unwrap_or_default();
        events.retain(|e| !seen.contains(&e.id));
        events.reverse();
        for e in &events {
            self.ui.event(progress, e);
            if let Some(note) =
                crate::deploy::delegation::validation_waiting_note(&stack.display_name, e)
            {
                self.ui.say(format_args!("{note}"));
            }
        }
        let first = first_failure(&events);
        (events, first)
    }

    /// Follows the stack until its status is terminal: `(status, first failure, info)`.
    /// (Ctrl-C drops this future: see `deploy_one`.)
    #[allow(clippy::type_complexity)]
    pub(super) async fn watch(
        &self,
        api: &A,
        stack: &StackArtifact,
        mut seen: HashSet<String>,
        progress: &mut crate::deploy::progress::StackProgress,
    ) -> Result<(String, Option<String>, Option<StackInfo>), DeployError> {
        let dn = stack.display_name.as_str();
        let name = stack.properties.stack_name.as_str();
        let mut first: Option<String> = None;
        let started = tokio::time::Instant::now();
        let mut last_news = started;
        loop {
            let (events, f) = self.poll_events(api, stack, &seen, progress).await;
            if !events.is_empty() {
                last_news = tokio::time::Instant::now();
            }
            seen.extend(events.into_iter().map(|e| e.id));
            if first.is_none() {
                first = f;
            }
            // The status read is retried through throttling: a deployment that finished must
            // never be reported failed because its last poll was told to slow down.
            let info = self
                .pacer
                .call(|| api.describe_stack(name))
                .await
                .map_err(|e| DeployError::api(dn, e))?;
            let status = info
                .as_ref()
                .map(|i| i.status.clone())
                .unwrap_or_else(|| "DELETE_COMPLETE".into());
            if is_terminal_status(&status) && status != "REVIEW_IN_PROGRESS" {
                let (_, f) = self.poll_events(api, stack, &seen, progress).await;
                return Ok((status, first.or(f), info));
            }
            if last_news.elapsed() >= self.options.quiet_line_after {
                self.ui.quiet(progress, &status, started.elapsed());
                last_news = tokio::time::Instant::now();
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }
}
