//! What a change does to other stacks: a stack's exported value that another stack imports
//! (`Fn::ImportValue`), or an output that pantri fills into another region's parameter.
//!
//! CloudFormation refuses to delete or change an export while a stack imports it, and fails the
//! producer's update mid-way. [`cross_stack_uses`] is the pure reading of who uses what, over
//! the templates of an assembly (or of the deployed stacks); deploy and diff share it.

use super::impact::references;
use super::model::{
    AssemblyDiff, CrossStackChange, CrossStackRole, ResourceChangeKind, StackDiff, StackStatus,
};
use super::normalize::{equivalent, normalize};
use super::{Impact, StackInput};
use crate::assembly::{CrossRegionLink, StackArtifact};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One stack as the cross-stack reading sees it.
#[derive(Clone, Copy, Debug)]
pub struct LinkStack<'a> {
    /// The display name (`prod/Data`).
    pub name: &'a str,
    /// The artifact id (`prod-Data`), what cross-region links name.
    pub id: &'a str,
    /// The CloudFormation stack name, for `${AWS::StackName}` in export names.
    pub stack_name: &'a str,
    /// The template.
    pub template: &'a Value,
    /// Parameters filled from another region's outputs.
    pub cross_region: &'a [CrossRegionLink],
}

impl<'a> From<&'a StackArtifact> for LinkStack<'a> {
    fn from(s: &'a StackArtifact) -> Self {
        LinkStack {
            name: &s.display_name,
            id: &s.id,
            stack_name: &s.properties.stack_name,
            template: &s.template,
            cross_region: &s.cross_region,
        }
    }
}

/// How a value crosses from one stack to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Via {
    /// `Fn::ImportValue` of this export name.
    Import(String),
    /// A parameter of the consumer that deploy fills from the producer's output (another region).
    Parameter(String),
}

/// One stack using an output of another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossStackUse {
    /// The producing stack's display name.
    pub producer: String,
    /// The producer's output (logical name in `Outputs`).
    pub output: String,
    /// The consuming stack's display name.
    pub consumer: String,
    /// Export name or parameter.
    pub via: Via,
}

/// Every use of one stack's output by another, from the templates (exports and imports) and the
/// cross-region links. An import of an export no stack of `stacks` has is left out.
pub fn cross_stack_uses(stacks: &[LinkStack]) -> Vec<CrossStackUse> {
    let mut exports: BTreeMap<String, (&str, String)> = BTreeMap::new();
    for s in stacks {
        for (output, o) in outputs(s.template) {
            if let Some(name) = o
                .pointer("/Export/Name")
                .and_then(|n| export_name(n, s.stack_name))
            {
                exports.insert(name, (s.name, output.clone()));
            }
        }
    }
    let mut out = Vec::new();
    for s in stacks {
        let mut names = Vec::new();
        imports(s.template, s.stack_name, &mut names);
        names.sort();
        names.dedup();
        for name in names {
            if let Some((producer, output)) = exports.get(&name) {
                out.push(CrossStackUse {
                    producer: producer.to_string(),
                    output: output.clone(),
                    consumer: s.name.to_string(),
                    via: Via::Import(name),
                });
            }
        }
        for link in s.cross_region {
            if let Some(p) = stacks.iter().find(|p| p.id == link.producer) {
                out.push(CrossStackUse {
                    producer: p.name.to_string(),
                    output: link.output.clone(),
                    consumer: s.name.to_string(),
                    via: Via::Parameter(link.parameter.clone()),
                });
            }
        }
    }
    out
}

fn outputs(template: &Value) -> impl Iterator<Item = (&String, &Value)> {
    template
        .get("Outputs")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// A literal export name, or a `Fn::Sub` of `${AWS::StackName}` and text.
fn export_name(v: &Value, stack_name: &str) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => {
            let text = m.get("Fn::Sub")?.as_str()?;
            let text = text.replace("${AWS::StackName}", stack_name);
            (!text.contains("${")).then_some(text)
        }
        _ => None,
    }
}

fn imports(v: &Value, stack_name: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let (1, Some(name)) = (m.len(), m.get("Fn::ImportValue")) {
                if let Some(name) = export_name(name, stack_name) {
                    out.push(name);
                }
                return;
            }
            m.values().for_each(|x| imports(x, stack_name, out));
        }
        Value::Array(a) => a.iter().for_each(|x| imports(x, stack_name, out)),
        _ => {}
    }
}

/// Why the value of `output` of the producer changes, `None` when it stays.
fn value_change<'a>(producer: &StackDiff, input: &StackInput<'a>, output: &str) -> Option<String> {
    if producer.status == StackStatus::Deleted {
        return Some("the stack is deleted".into());
    }
    let get = |t: Option<&'a Value>| t.and_then(|t| t.get("Outputs")?.get(output));
    let (old, new) = (get(input.old)?, get(input.new));
    let Some(new) = new else {
        return Some(format!("output {output} is removed"));
    };
    let (old, new) = (normalize(old), normalize(new));
    if !equivalent(&old, &new) {
        return Some(format!("output {output} changes"));
    }
    let refs = old.get("Value").map(references).unwrap_or_default();
    producer
        .resources
        .iter()
        .find(|r| {
            refs.iter()
                .any(|(_, id)| *id == r.logical_id || r.moved_from.as_ref() == Some(id))
                && (matches!(
                    r.kind,
                    ResourceChangeKind::Removed
                        | ResourceChangeKind::Moved
                        | ResourceChangeKind::TypeChanged
                ) || r.impact == Some(Impact::Replace))
        })
        .map(|r| {
            format!(
                "{} is replaced",
                r.moved_from.as_deref().unwrap_or(&r.logical_id)
            )
        })
}

/// Flags, in the producers' and the consumers' diffs, every value another stack uses that the
/// change removes or changes. The uses are read from the old (deployed) templates: those are the
/// imports CloudFormation checks when the producer deploys first.
pub(crate) fn flag(diff: &mut AssemblyDiff, inputs: &[StackInput]) {
    let link_stacks: Vec<LinkStack> = inputs
        .iter()
        .filter_map(|i| {
            Some(LinkStack {
                name: i.name,
                id: i.name,
                stack_name: "",
                template: i.old?,
                cross_region: &[],
            })
        })
        .collect();
    let uses = cross_stack_uses(&link_stacks);
    let index: BTreeMap<&str, usize> = inputs
        .iter()
        .enumerate()
        .map(|(n, i)| (i.name, n))
        .collect();
    let mut found: Vec<(usize, CrossStackChange)> = Vec::new();
    for u in &uses {
        let (Some(&p), Some(&c)) = (
            index.get(u.producer.as_str()),
            index.get(u.consumer.as_str()),
        ) else {
            continue;
        };
        let Some(why) = value_change(&diff.stacks[p], &inputs[p], &u.output) else {
            continue;
        };
        let what = match &u.via {
            Via::Import(name) => format!("export {name}"),
            Via::Parameter(param) => format!("output {} (parameter {param})", u.output),
        };
        found.push((
            p,
            CrossStackChange {
                role: CrossStackRole::Producer,
                value: what.clone(),
                other_stack: u.consumer.clone(),
                reason: format!(
                    "{why} while {} imports it: CloudFormation fails this update; deploy {} without the import first (or keep the export one more deploy)",
                    u.consumer, u.consumer
                ),
            },
        ));
        found.push((
            c,
            CrossStackChange {
                role: CrossStackRole::Consumer,
                value: what,
                other_stack: u.producer.clone(),
                reason: format!("{why} in {}", u.producer),
            },
        ));
    }
    for (n, change) in found {
        diff.stacks[n].cross_stack.push(change);
    }
}
