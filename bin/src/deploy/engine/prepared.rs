//! Executing a reviewed plan (`pantri deploy --plan FILE`): every planned change set is re-read
//! from CloudFormation and compared with the plan before any executes, approval is asked from
//! the plan's own findings, then the change sets execute in the plan's order.

use pantri_synth::assembly::StackProperties;
use pantri_synth::Environment;

use super::*;
use crate::deploy::planfile::{verify, Plan, PlannedStack};

/// Stack artifacts standing for the plan's stacks (names, environment, termination protection):
/// what the engine's progress, messages and clients need. They carry no template: the template
/// is the change set's, in CloudFormation.
pub fn plan_artifacts(plan: &Plan) -> Vec<StackArtifact> {
    plan.stacks
        .iter()
        .map(|p| StackArtifact {
            id: p.display_name.clone(),
            display_name: p.display_name.clone(),
            stage: p
                .display_name
                .split_once('/')
                .map(|(stage, _)| stage.to_owned())
                .unwrap_or_default(),
            env: Environment::new(&p.account, &p.region),
            properties: StackProperties {
                template_file: String::new(),
                stack_name: p.stack_name.clone(),
                termination_protection: p.termination_protection,
                tags: BTreeMap::new(),
            },
            template: serde_json::Value::Null,
            template_size: 0,
            dependencies: Vec::new(),
            cross_region: Vec::new(),
            env_parameters: Vec::new(),
            logical_ids: IndexMap::new(),
        })
        .collect()
}

impl<'a, A: CloudFormation + TemplateStaging> Engine<'a, A> {
    /// Verifies the plan against CloudFormation, asks for approval from its findings, and
    /// executes its change sets in order (`stacks`: [`plan_artifacts`] of the plan). Returns the
    /// per-stack results, or why nothing was executed.
    pub async fn run_plan(
        &self,
        plan: &Plan,
        stacks: &'a [StackArtifact],
    ) -> Result<Vec<StackResult>, DeployError> {
        let mut problems = Vec::new();
        for (planned, stack) in plan.stacks.iter().zip(stacks) {
            let api = self.client(stack)?;
            problems.extend(verify(api, planned).await?);
            problems.extend(self.verify_assets(planned, stack));
        }
        if let Some(h) = self.hooks {
            let all: Vec<&StackArtifact> = stacks.iter().collect();
            problems.extend(h.precheck(&all).await);
        }
        match problems.len() {
            0 => {}
            1 => return Err(problems.remove(0)),
            _ => return Err(DeployError::Precheck(problems)),
        }
        self.approve_plan(plan)?;
        let order: Vec<&StackArtifact> = stacks.iter().collect();
        let mut results: Vec<Option<StackResult>> = order.iter().map(|_| None).collect();
        let mut stopped = false;
        for (i, (planned, stack)) in plan.stacks.iter().zip(stacks).enumerate() {
            if stopped {
                continue;
            }
            let api = self.client(stack)?;
            let kind = if planned.kind == "create" {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            };
            let started = tokio::time::Instant::now();
            // As in a deploy: the stack's assets are published just before its change set
            // executes (they are the plan's, checked above), and its tree paths that changed
            // are invalidated once it is deployed.
            let watched = async {
                self.before_hooks(stack).await?;
                let done = self
                    .execute_and_watch(
                        api,
                        stack,
                        kind,
                        &planned.change_set_name,
                        planned.resources,
                    )
                    .await?;
                self.after_hooks(stack, &done.0).await?;
                Ok(done)
            };
            let done = self.interruptible(stack, watched).await;
            let result = self.finish_stack(stack, done, started.elapsed());
            stopped = matches!(result.outcome, Outcome::Failed(_) | Outcome::Detached);
            results[i] = Some(result);
        }
        let unfinished: Vec<usize> = (0..order.len()).filter(|&i| results[i].is_none()).collect();
        for i in unfinished {
            let reason = super::skip_reason(&order, &results, i);
            results[i] = Some(StackResult {
                display_name: order[i].display_name.clone(),
                stack_name: order[i].properties.stack_name.clone(),
                outcome: Outcome::Skipped(reason),
                outputs: IndexMap::new(),
                elapsed: std::time::Duration::ZERO,
            });
        }
        let results: Vec<StackResult> = results.into_iter().flatten().collect();
        Ok(results)
    }

    /// The plan's assets against what this run would publish for the stack: the change set's
    /// parameters name the plan's hashes, so another app (a rebuilt `web.source`, another
    /// commit's assembly) is refused before anything executes.
    fn verify_assets(&self, planned: &PlannedStack, stack: &StackArtifact) -> Vec<DeployError> {
        let dn = planned.display_name.as_str();
        let now = self.hooks.map(|h| h.assets(stack)).unwrap_or_default();
        if self.hooks.is_none() && !planned.assets.is_empty() {
            return vec![DeployError::Usage(format!(
                "[{dn}] the plan publishes {} asset(s): pass --app with the assembly it was prepared from (the app built in the directories it names)",
                planned.assets.len()
            ))];
        }
        let short = |h: &str| h.chars().take(12).collect::<String>();
        let mut problems = Vec::new();
        for a in &planned.assets {
            match now.iter().find(|n| n.id == a.id && n.kind == a.kind) {
                Some(n) if n.hash == a.hash => {}
                Some(n) => problems.push(format!(
                    "{} {} is {} in the assembly, {} in the plan",
                    a.kind,
                    a.id,
                    short(&n.hash),
                    short(&a.hash)
                )),
                None => problems.push(format!(
                    "{} {} of the plan is not in the assembly",
                    a.kind, a.id
                )),
            }
        }
        for n in &now {
            if !planned
                .assets
                .iter()
                .any(|a| a.id == n.id && a.kind == n.kind)
            {
                problems.push(format!(
                    "{} {} of the assembly is not in the plan",
                    n.kind, n.id
                ));
            }
        }
        problems
            .into_iter()
            .map(|p| {
                DeployError::Failed {
                    stack: dn.to_owned(),
                    message: format!(
                        "{p}: the assembly is not the one the plan was prepared from; prepare the plan again, or execute it with the reviewed commit's assembly"
                    ),
                }
            })
            .collect()
    }

    /// Asks from the plan's findings: a replacement of a stateful resource needs
    /// `--allow-replace`; a broadening change (any change under `any-change`) needs a yes.
    fn approve_plan(&self, plan: &Plan) -> Result<(), DeployError> {
        for p in &plan.stacks {
            let refused = p.findings.refused_replacements(&self.options.allow_replace);
            if !refused.is_empty() {
                return Err(DeployError::ApprovalNeeded(format!(
                    "[{}] the plan replaces stateful resource(s) {}: their data would be lost. If that is intended, re-run with {}",
                    p.display_name,
                    p.findings.replacements.join(", "),
                    refused
                        .iter()
                        .map(|i| format!("--allow-replace {i}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )));
            }
        }
        let reasons: Vec<String> = plan
            .stacks
            .iter()
            .flat_map(|p| {
                let own: Vec<String> = match self.options.require_approval {
                    RequireApproval::Never => Vec::new(),
                    RequireApproval::AnyChange => p
                        .changes
                        .iter()
                        .map(|c| format!("{} {} ({})", c.action, c.logical_id, c.resource_type))
                        .collect(),
                    RequireApproval::Broadening => p.findings.broadening.clone(),
                };
                own.into_iter()
                    .map(move |r| format!("{}: {r}", p.display_name))
            })
            .collect();
        if reasons.is_empty() || self.options.yes {
            return Ok(());
        }
        for r in &reasons {
            self.ui.say(format_args!("needs approval: {r}"));
        }
        let answer = self.ui.ask(&format!("Execute plan {}?", plan.id));
        if self.options.interrupt.is_set() {
            return Err(DeployError::Interrupted);
        }
        match answer {
            Some(true) => Ok(()),
            Some(false) => Err(DeployError::ApprovalNeeded(
                "the plan was not approved; nothing was changed".into(),
            )),
            None => Err(DeployError::ApprovalNeeded(format!(
                "the plan needs approval ({}) and there is no terminal to ask: re-run with --yes to approve what the plan's review found",
                reasons.join("; ")
            ))),
        }
    }
}
