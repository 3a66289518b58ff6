//! What a change does to other stacks: a stack's exported value that another stack imports
//! (`Fn::ImportValue`), or an output that pantri fills into another region's parameter.
//!
//! CloudFormation refuses to delete or change an export while a stack imports it, and fails the
//! producer's update mid-way. This module is the one reading of it, over templates, that the
//! diff and deploy share: [`cross_stack_uses`] (who uses what), [`template_exports`] and
//! [`imported_names`] (one template's exports and imports), [`export_changes`] (which exports a
//! change drops or changes, given its diff).

use super::impact::references;
use super::model::{
    AssemblyDiff, CrossStackChange, CrossStackRole, ResourceChangeKind, StackDiff, StackStatus,
};
use super::normalize::{equivalent, normalize};
use super::skim::import_arguments;
pub use super::skim::{outputs_only, skim, Skim};
use super::{Impact, StackInput};
use crate::assembly::{CrossRegionLink, StackArtifact};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One stack as the cross-stack reading sees it.
#[derive(Clone, Copy, Debug)]
pub struct LinkStack<'a> {
    /// The display name (`prod/Data`).
    pub name: &'a str,
    /// The artifact id (`prod-Data`), what cross-region links name.
    pub id: &'a str,
    /// The CloudFormation stack name, for `${AWS::StackName}` in export names.
    pub stack_name: &'a str,
    /// The template, or what the cross-stack reading needs of it.
    pub template: LinkTemplate<'a>,
    /// Parameters filled from another region's outputs.
    pub cross_region: &'a [CrossRegionLink],
}

/// A template as the cross-stack reading sees it.
#[derive(Clone, Copy, Debug)]
pub enum LinkTemplate<'a> {
    /// The whole template.
    Parsed(&'a Value),
    /// Its outputs and imports only, read from its text ([`skim`]): the template of a stack the
    /// diff finds unchanged without parsing it.
    Skimmed(&'a Skim),
}

impl<'a> LinkTemplate<'a> {
    /// The template's exports ([`template_exports`]).
    pub fn exports(self, stack_name: &str) -> Vec<TemplateExport<'a>> {
        match self {
            LinkTemplate::Parsed(t) => template_exports(t, stack_name),
            LinkTemplate::Skimmed(s) => template_exports(&s.outputs, stack_name),
        }
    }

    /// The export names the template imports ([`imported_names`]).
    pub fn imported_names(self, stack_name: &str) -> BTreeSet<String> {
        match self {
            LinkTemplate::Parsed(t) => imported_names(t, stack_name),
            LinkTemplate::Skimmed(s) => s
                .imports
                .iter()
                .filter_map(|a| export_name(a, stack_name))
                .collect(),
        }
    }
}

impl<'a> From<&'a Value> for LinkTemplate<'a> {
    fn from(template: &'a Value) -> Self {
        LinkTemplate::Parsed(template)
    }
}

impl<'a> From<&'a StackArtifact> for LinkStack<'a> {
    fn from(s: &'a StackArtifact) -> Self {
        LinkStack {
            name: &s.display_name,
            id: &s.id,
            stack_name: &s.properties.stack_name,
            template: LinkTemplate::Parsed(&s.template),
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

/// One export of a template.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateExport<'a> {
    /// The output's logical name.
    pub output: &'a str,
    /// The export name (`${AWS::StackName}` resolved).
    pub name: String,
    /// The output's value expression (`Null` when it has none).
    pub value: &'a Value,
}

/// The exports of a template whose names are literal, or a `Fn::Sub` of `${AWS::StackName}`
/// and text (`stack_name` fills it), in template order.
pub fn template_exports<'a>(template: &'a Value, stack_name: &str) -> Vec<TemplateExport<'a>> {
    outputs(template)
        .filter_map(|(output, o)| {
            let name = export_name(o.pointer("/Export/Name")?, stack_name)?;
            Some(TemplateExport {
                output,
                name,
                value: o.get("Value").unwrap_or(&Value::Null),
            })
        })
        .collect()
}

/// Every export name a template imports (`Fn::ImportValue` of a literal, or of a `Fn::Sub` of
/// `${AWS::StackName}`, which is the importing stack's `stack_name`).
pub fn imported_names(template: &Value, stack_name: &str) -> BTreeSet<String> {
    let mut arguments = Vec::new();
    import_arguments(template, &mut arguments);
    arguments
        .into_iter()
        .filter_map(|a| export_name(a, stack_name))
        .collect()
}

/// Every use of one stack's output by another, from the templates (exports and imports) and the
/// cross-region links. An import of an export no stack of `stacks` has is left out.
pub fn cross_stack_uses(stacks: &[LinkStack]) -> Vec<CrossStackUse> {
    let mut exports: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for s in stacks {
        for e in s.template.exports(s.stack_name) {
            exports.insert(e.name, (s.name, e.output));
        }
    }
    let mut out = Vec::new();
    for s in stacks {
        for name in s.template.imported_names(s.stack_name) {
            if let Some((producer, output)) = exports.get(&name) {
                out.push(CrossStackUse {
                    producer: producer.to_string(),
                    output: output.to_string(),
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

fn outputs(template: &Value) -> impl Iterator<Item = (&str, &Value)> {
    template
        .get("Outputs")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v))
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

/// Why an output's value is not the same after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueChange {
    /// The value expression itself changes (compared as CloudFormation reads values).
    Expression,
    /// The expression is the same, but a resource it reads (this logical ID) is replaced,
    /// removed, moved or changes type, so its physical value changes.
    Replaced(String),
}

impl fmt::Display for ValueChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueChange::Expression => f.write_str("its value expression changes"),
            ValueChange::Replaced(id) => write!(f, "resource {id} is replaced"),
        }
    }
}

/// What a change does to one export of the old template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportFate {
    /// No output of the new template (or no new template) exports the name any more.
    Dropped,
    /// Still exported, with another value.
    Changes(ValueChange),
}

/// An export of the old template that the change drops or changes.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportChange<'a> {
    /// The export, as the old template has it.
    pub export: TemplateExport<'a>,
    /// Dropped, or changed and why.
    pub fate: ExportFate,
}

/// Every export of `old` that the change to `new` (`None`: the stack is deleted) drops or
/// changes; `diff` is the diff of the two templates (which resources are replaced). Exports
/// are matched by name, so an export moved to another output key with the same value is kept.
pub fn export_changes<'a>(
    old: &'a Value,
    new: Option<&Value>,
    stack_name: &str,
    diff: &StackDiff,
) -> Vec<ExportChange<'a>> {
    let new_exports: BTreeMap<String, &Value> = new
        .map(|n| template_exports(n, stack_name))
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.name, e.value))
        .collect();
    template_exports(old, stack_name)
        .into_iter()
        .filter_map(|export| {
            let fate = match new_exports.get(&export.name) {
                None => ExportFate::Dropped,
                Some(new_value) => {
                    ExportFate::Changes(value_change(export.value, new_value, diff)?)
                }
            };
            Some(ExportChange { export, fate })
        })
        .collect()
}

/// How the value `old` → `new` of an output changes, `None` when it stays.
pub fn value_change(old: &Value, new: &Value, diff: &StackDiff) -> Option<ValueChange> {
    let (old, new) = (normalize(old), normalize(new));
    if !equivalent(&old, &new) {
        return Some(ValueChange::Expression);
    }
    let refs = references(&old);
    diff.resources
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
        .map(|r| ValueChange::Replaced(r.moved_from.as_deref().unwrap_or(&r.logical_id).into()))
}

/// Why the value the consumer of `u` reads from the producer changes; `None` when it stays.
/// The second item is true when the value is gone (rather than changed).
fn use_change(
    producer: &StackDiff,
    input: &StackInput,
    exports: &[ExportChange],
    u: &CrossStackUse,
) -> Option<(String, bool)> {
    if producer.status == StackStatus::Deleted {
        return Some(("the stack is deleted".into(), true));
    }
    let old = input.old?;
    let output = &u.output;
    let removed = || {
        let still_there = input
            .new
            .and_then(|n| n.get("Outputs")?.get(output))
            .is_some();
        let why = if still_there {
            format!("output {output} no longer exports it")
        } else {
            format!("output {output} is removed")
        };
        Some((why, true))
    };
    match &u.via {
        Via::Import(name) => {
            let change = exports.iter().find(|c| &c.export.name == name)?;
            match &change.fate {
                ExportFate::Dropped => removed(),
                ExportFate::Changes(why) => Some((why.to_string(), false)),
            }
        }
        Via::Parameter(_) => {
            let value = |t: &Value| t.get("Outputs")?.get(output)?.get("Value").cloned();
            let old_value = value(old)?;
            let Some(new_value) = input.new.and_then(value) else {
                return Some((format!("output {output} is removed"), true));
            };
            let why = value_change(&old_value, &new_value, producer)?;
            Some((why.to_string(), false))
        }
    }
}

/// Flags, in the producers' and the consumers' diffs, every value another stack uses that the
/// change removes or changes. The uses are read from `deployed`, the old side's stacks (their
/// deployed templates, stack names and cross-region links): those are the imports
/// CloudFormation checks when the producer deploys first. A producer must be one of `inputs`;
/// a consumer outside them is still named on the producer's side.
///
/// `inputs[n]` is the input of `diff.stacks[n]`, `None` for a stack whose template and settings
/// are the same on both sides: such a stack changes no value another stack reads (a test checks
/// that its input would flag nothing), but it is still flagged as a consumer.
pub(crate) fn flag(
    diff: &mut AssemblyDiff,
    inputs: &[Option<&StackInput>],
    deployed: &[LinkStack],
) {
    let uses = cross_stack_uses(deployed);
    let index: BTreeMap<&str, usize> = diff
        .stacks
        .iter()
        .enumerate()
        .map(|(n, s)| (s.name.as_str(), n))
        .collect();
    let stack_names: BTreeMap<&str, &str> =
        deployed.iter().map(|s| (s.name, s.stack_name)).collect();
    // Each producer's export changes, computed once however many stacks import from it.
    let mut exports: BTreeMap<usize, Vec<ExportChange>> = BTreeMap::new();
    let mut found: Vec<(usize, CrossStackChange)> = Vec::new();
    for u in &uses {
        let Some(&p) = index.get(u.producer.as_str()) else {
            continue;
        };
        let Some(input) = inputs[p] else {
            continue;
        };
        let producer = &diff.stacks[p];
        let changes = exports.entry(p).or_insert_with(|| {
            let stack_name = stack_names.get(u.producer.as_str()).copied().unwrap_or("");
            input
                .old
                .map(|old| export_changes(old, input.new, stack_name, producer))
                .unwrap_or_default()
        });
        let Some((why, gone)) = use_change(producer, input, changes, u) else {
            continue;
        };
        let consumer = &u.consumer;
        let (what, reason) = match &u.via {
            Via::Import(name) => (
                format!("export {name}"),
                format!(
                    "{why} while {consumer} imports it: CloudFormation fails this update; deploy {consumer} without the import first (or keep the export one more deploy)"
                ),
            ),
            Via::Parameter(param) if gone => (
                format!("output {} (parameter {param})", u.output),
                format!(
                    "{why} while {consumer} reads it through parameter {param}, which pantri deploy fills from it: deploying {consumer} fails until it no longer has the parameter; deploy {consumer} without it first"
                ),
            ),
            Via::Parameter(param) => (
                format!("output {} (parameter {param})", u.output),
                format!(
                    "{why} while {consumer} reads it through parameter {param}, which pantri deploy fills from it: {consumer} keeps using the old value until it deploys again, and CloudFormation cannot delete a replaced resource still in use; deploy {consumer} right after this stack (pantri deploy of the stage orders them)"
                ),
            ),
        };
        found.push((
            p,
            CrossStackChange {
                role: CrossStackRole::Producer,
                value: what.clone(),
                other_stack: consumer.clone(),
                reason,
            },
        ));
        if let Some(&c) = index.get(consumer.as_str()) {
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
    }
    for (n, change) in found {
        diff.stacks[n].cross_stack.push(change);
    }
}
