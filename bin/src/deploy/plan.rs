//! Which stacks a command touches and in which order: selection by stage and name, dependency
//! closure, topological order, and the `--parameters` values.

use std::collections::{BTreeSet, HashMap};

use pantri_synth::assembly::{StackArtifact, StackOf};

use super::error::DeployError;

/// Selects the stacks of `stage` (all of them, or those named, matched by `stage/stack`, stack
/// name, artifact id or the stack's own id), plus the stacks they depend on unless `exclusively`.
/// Returns them in dependency order (a stack after everything it depends on; manifest order
/// otherwise). `T` is the template's form: `pantri diff` selects stacks before parsing them.
pub fn select<'a, T>(
    all: &'a [StackOf<T>],
    stage: &str,
    names: &[String],
    exclusively: bool,
) -> Result<Vec<&'a StackOf<T>>, DeployError> {
    let in_stage: Vec<&StackOf<T>> = all.iter().filter(|s| s.stage == stage).collect();
    if in_stage.is_empty() {
        let mut stages: Vec<&str> = all.iter().map(|s| s.stage.as_str()).collect();
        stages.sort_unstable();
        stages.dedup();
        return Err(DeployError::Usage(format!(
            "no stage {stage:?} in the cloud assembly (stages: {})",
            stages.join(", ")
        )));
    }
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    if names.is_empty() {
        wanted.extend(in_stage.iter().map(|s| s.id.as_str()));
    } else {
        for name in names {
            let found = in_stage
                .iter()
                .find(|s| matches_name(s, name))
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        in_stage.iter().map(|s| s.display_name.as_str()).collect();
                    DeployError::Usage(format!(
                        "no stack {name:?} in stage {stage} (stacks: {})",
                        known.join(", ")
                    ))
                })?;
            wanted.insert(found.id.as_str());
        }
    }
    let by_id: HashMap<&str, &StackOf<T>> = all.iter().map(|s| (s.id.as_str(), s)).collect();
    if !exclusively {
        let mut todo: Vec<&str> = wanted.iter().copied().collect();
        while let Some(id) = todo.pop() {
            if let Some(s) = by_id.get(id) {
                for d in &s.dependencies {
                    if wanted.insert(d.as_str()) {
                        todo.push(d.as_str());
                    }
                }
            }
        }
    }
    order(
        all.iter()
            .filter(|s| wanted.contains(s.id.as_str()))
            .collect(),
    )
}

/// True when `name` names the stack: `stage/stack`, the stack's id in the stage, its artifact id
/// or its CloudFormation name.
pub fn matches_name<T>(s: &StackOf<T>, name: &str) -> bool {
    let own = s.display_name.rsplit('/').next().unwrap_or_default();
    name == s.display_name || name == s.id || name == s.properties.stack_name || name == own
}

/// Sorts stacks so each comes after the selected stacks it depends on (stable: manifest order
/// among independent stacks). A cycle is a usage error.
pub fn order<T>(stacks: Vec<&StackOf<T>>) -> Result<Vec<&StackOf<T>>, DeployError> {
    let ids: BTreeSet<&str> = stacks.iter().map(|s| s.id.as_str()).collect();
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::with_capacity(stacks.len());
    while out.len() < stacks.len() {
        let next = stacks.iter().find(|s| {
            !placed.contains(s.id.as_str())
                && s.dependencies
                    .iter()
                    .all(|d| !ids.contains(d.as_str()) || placed.contains(d.as_str()))
        });
        match next {
            Some(s) => {
                placed.insert(s.id.as_str());
                out.push(*s);
            }
            None => {
                let stuck: Vec<&str> = stacks
                    .iter()
                    .filter(|s| !placed.contains(s.id.as_str()))
                    .map(|s| s.display_name.as_str())
                    .collect();
                return Err(DeployError::Usage(format!(
                    "dependency cycle between stacks: {}",
                    stuck.join(", ")
                )));
            }
        }
    }
    Ok(out)
}

/// One `--parameters` value: `KEY=VALUE` for every stack with that parameter, or
/// `STACK:KEY=VALUE` for one stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterArg {
    /// The stack it is for (any name [`select`] accepts), or every stack.
    pub stack: Option<String>,
    /// The parameter key.
    pub key: String,
    /// The value.
    pub value: String,
}

impl std::str::FromStr for ParameterArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (lhs, value) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} is not KEY=VALUE or STACK:KEY=VALUE"))?;
        let (stack, key) = match lhs.rsplit_once(':') {
            Some((stack, key)) => (Some(stack.to_owned()), key),
            None => (None, lhs),
        };
        if key.is_empty() {
            return Err(format!("{s:?} has an empty parameter name"));
        }
        Ok(ParameterArg {
            stack,
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// The explicit value of parameter `key` for `stack` (a stack-specific value wins).
pub fn explicit_value<'a>(
    args: &'a [ParameterArg],
    stack: &StackArtifact,
    key: &str,
) -> Option<&'a str> {
    let specific = args
        .iter()
        .find(|p| p.key == key && p.stack.as_deref().is_some_and(|n| matches_name(stack, n)));
    specific
        .or_else(|| args.iter().find(|p| p.key == key && p.stack.is_none()))
        .map(|p| p.value.as_str())
}

/// Checks that every `--parameters` value is used by a selected stack.
pub fn check_parameters(
    args: &[ParameterArg],
    stacks: &[&StackArtifact],
) -> Result<(), DeployError> {
    for p in args {
        let used = stacks.iter().any(|s| {
            p.stack.as_deref().is_none_or(|n| matches_name(s, n))
                && s.template["Parameters"].get(&p.key).is_some()
        });
        if !used {
            let target = p
                .stack
                .as_deref()
                .map(|s| format!(" of stack {s}"))
                .unwrap_or_default();
            return Err(DeployError::Usage(format!(
                "--parameters {}: no selected stack has a parameter {}{target}",
                p.key, p.key
            )));
        }
    }
    Ok(())
}
