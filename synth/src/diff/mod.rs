//! The diff engine behind `pantri diff`: a pure function of two templates (plus stack settings)
//! and the schema spec tables, with renderers kept apart in [`render`].
//!
//! ```text
//! StackInput(old, new) ──normalize──► resource/section/property changes
//!                                  ──impact (spec create-only pointers)──► update / may replace / replace
//!                                  ──propagate replacements through Ref/GetAtt/Sub──► fixed point
//!                                  ──► moves, stateful risks, IAM + security-group tables ──► StackDiff
//! ```
//!
//! Noise stays out: key order, IAM single-string vs list forms and statement order, equivalent
//! intrinsic forms, and `Metadata` (reported as "metadata only", never counted).

mod exposure;
mod impact;
pub mod links;
pub mod model;
mod normalize;
mod policy;
pub mod render;
mod security;
mod skim;

pub use model::*;

use crate::assembly::{parse_template, StackArtifact, StackOf, TemplateText};
use crate::error::Result;
use crate::spec::TypeSpec;
use impact::{format_path, property_impact, references, References, Seg};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One stack to compare.
#[derive(Clone, Debug)]
pub struct StackInput<'a> {
    /// Display name, e.g. `prod/App`.
    pub name: &'a str,
    /// The deployed template; `None` when the stack does not exist.
    pub old: Option<&'a Value>,
    /// The synthesized template; `None` when the stack would be deleted.
    pub new: Option<&'a Value>,
    /// Deployed stack-level settings.
    pub old_stack: StackSettings,
    /// Synthesized stack-level settings.
    pub new_stack: StackSettings,
}

/// Stack-level settings that live outside the template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackSettings {
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// Whether termination protection is on.
    pub termination_protection: bool,
}

/// Where the diff reads per-type schema facts from. Tests inject hand-written specs. `Sync`:
/// stacks are diffed on every core.
pub trait SpecSource: Sync {
    /// The spec of `type_name`, if known.
    fn type_spec(&self, type_name: &str) -> Option<&TypeSpec>;
}

/// The generated spec table ([`crate::spec::lookup`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SchemaSpecs;

impl SpecSource for SchemaSpecs {
    fn type_spec(&self, type_name: &str) -> Option<&TypeSpec> {
        crate::spec::lookup(type_name)
    }
}

/// Resource types that hold data, so that replacing or deleting them loses it.
///
/// This is a policy list, not schema data: the schemas do not say which resources hold state.
/// An entry ending in `::*` covers a whole service. Any resource whose `DeletionPolicy` is
/// `Retain` or `Snapshot` counts as stateful too (see [`is_stateful`]).
pub const STATEFUL_TYPES: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::Cognito::UserPool",
    "AWS::Logs::LogGroup",
    "AWS::ECR::Repository",
    "AWS::DynamoDB::Table",
    "AWS::RDS::*",
    "AWS::EFS::FileSystem",
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
];

/// True when a resource of `resource_type` with `deletion_policy` holds state.
pub fn is_stateful(resource_type: &str, deletion_policy: Option<&str>) -> bool {
    matches!(
        deletion_policy,
        Some("Retain" | "RetainExceptOnCreate" | "Snapshot")
    ) || STATEFUL_TYPES.iter().any(|t| match t.strip_suffix('*') {
        Some(prefix) => resource_type.starts_with(prefix),
        None => resource_type == *t,
    })
}

/// Diffs every stack, and flags what a change does to the stacks that import its values (read
/// from the old templates of `inputs`, by display name; for stack names and cross-region
/// parameters, see [`diff_stacks_linked`]).
pub fn diff_stacks(inputs: &[StackInput], specs: &dyn SpecSource) -> AssemblyDiff {
    let deployed: Vec<links::LinkStack> = inputs
        .iter()
        .filter_map(|i| {
            Some(links::LinkStack {
                name: i.name,
                id: i.name,
                stack_name: "",
                template: links::LinkTemplate::Parsed(i.old?),
                cross_region: &[],
            })
        })
        .collect();
    diff_stacks_linked(inputs, &deployed, specs)
}

/// Diffs every stack, and flags what a change does to the stacks that use its values: exports
/// and the cross-region parameters pantri fills, read from `deployed`, the old side's stacks
/// (every stack of the baseline, not only those compared: an importer outside the selection
/// still makes its producer's update fail). They are matched to `inputs` by display name.
pub fn diff_stacks_linked(
    inputs: &[StackInput],
    deployed: &[links::LinkStack],
    specs: &dyn SpecSource,
) -> AssemblyDiff {
    // Stacks are independent until `links::flag`: diffed on every core, in input order.
    let diff = AssemblyDiff {
        stacks: inputs.par_iter().map(|i| diff_stack(i, specs)).collect(),
    };
    let inputs: Vec<Option<&StackInput>> = inputs.iter().map(Some).collect();
    linked(diff, &inputs, deployed)
}

/// The diff with what each change does to the stacks that use its values flagged
/// ([`links::flag`]); `inputs[n]` is the input of `diff.stacks[n]` (its templates need only
/// their `Outputs`), `None` for a stack known to be unchanged.
fn linked(
    mut diff: AssemblyDiff,
    inputs: &[Option<&StackInput>],
    deployed: &[links::LinkStack],
) -> AssemblyDiff {
    links::flag(&mut diff, inputs, deployed);
    for s in &mut diff.stacks {
        if s.status == StackStatus::Unchanged && !s.is_empty() {
            s.status = StackStatus::Updated;
        }
    }
    diff
}

/// Diffs the stacks of two assemblies, `new` against `old` by artifact id: what `pantri diff`
/// shows. A stack only `new` has is created; a stack only `old` has, when `selected` admits it,
/// is deleted. What a change does to other stacks is read from every stack of `old` (an
/// importer outside the selection still makes its producer's update fail).
pub fn diff_artifacts(
    new: &[StackArtifact],
    old: &[StackArtifact],
    selected: &dyn Fn(&StackArtifact) -> bool,
) -> AssemblyDiff {
    let old_by_id: BTreeMap<&str, &StackArtifact> =
        old.iter().map(|s| (s.id.as_str(), s)).collect();
    let new_ids: BTreeSet<&str> = new.iter().map(|s| s.id.as_str()).collect();
    let mut inputs: Vec<StackInput> = new
        .iter()
        .map(|n| {
            let o = old_by_id.get(n.id.as_str());
            StackInput {
                name: &n.display_name,
                old: o.map(|o| &o.template),
                new: Some(&n.template),
                old_stack: o.map(|o| settings(o)).unwrap_or_default(),
                new_stack: settings(n),
            }
        })
        .collect();
    inputs.extend(
        old.iter()
            .filter(|o| !new_ids.contains(o.id.as_str()) && selected(o))
            .map(|o| StackInput {
                name: &o.display_name,
                old: Some(&o.template),
                new: None,
                old_stack: settings(o),
                new_stack: StackSettings::default(),
            }),
    );
    let links: Vec<links::LinkStack> = old.iter().map(links::LinkStack::from).collect();
    diff_stacks_linked(&inputs, &links, &SchemaSpecs)
}

/// The stack-level settings of a stack of an assembly.
fn settings<T>(s: &StackOf<T>) -> StackSettings {
    StackSettings {
        tags: s.properties.tags.clone(),
        termination_protection: s.properties.termination_protection,
    }
}

/// How many stacks [`diff_assemblies`] parses and compares at a time. A batch's templates are
/// parsed, diffed and freed before the next batch is read, so the memory a diff takes does
/// not grow with the number of stacks that changed: every changed template of a 1,000-stage
/// change held at once, on both sides, was most of 1.2 GB.
pub const DIFF_BATCH: usize = 64;

/// Diffs the stacks of two assemblies whose templates are still text, in memory or files read
/// when needed ([`TemplateText`]): what [`diff_artifacts`] finds for them parsed (`selected`
/// admits the stacks only `old` has), reading less and holding less. A stack whose template text, format and settings are the same on both sides
/// is unchanged without parsing either template; of its old template the cross-stack reading
/// needs only the outputs and imports, which are skimmed from the text ([`links::skim`]). The
/// other stacks are parsed and compared [`DIFF_BATCH`] at a time, on every core, and of their
/// templates only the outputs are kept (all the cross-stack reading needs). A template that
/// does not parse is the error [`crate::CloudAssembly::stacks`] reports, the new side's first.
pub fn diff_assemblies<N: TemplateText + Clone, O: TemplateText + Clone>(
    new: &[StackOf<N>],
    old: &[StackOf<O>],
    selected: &dyn Fn(&StackOf<O>) -> bool,
) -> Result<AssemblyDiff> {
    diff_assemblies_in_batches(new, old, selected, DIFF_BATCH)
}

/// [`diff_assemblies`], `batch` stacks compared at a time (at least one): the same diff
/// whatever the batch (a test compares).
pub fn diff_assemblies_in_batches<N: TemplateText + Clone, O: TemplateText + Clone>(
    new: &[StackOf<N>],
    old: &[StackOf<O>],
    selected: &dyn Fn(&StackOf<O>) -> bool,
    batch: usize,
) -> Result<AssemblyDiff> {
    let old_by_id: BTreeMap<&str, usize> = old
        .iter()
        .enumerate()
        .map(|(n, s)| (s.id.as_str(), n))
        .collect();
    let new_ids: BTreeSet<&str> = new.iter().map(|s| s.id.as_str()).collect();
    let deleted: Vec<bool> = old
        .iter()
        .map(|o| !new_ids.contains(o.id.as_str()) && selected(o))
        .collect();
    // For each new stack: its old stack, and whether the two are the same (text, format and
    // settings), on every core; of an old template found the same, its skim. Both texts are
    // read here and freed (a template read again only if its stack is compared).
    let paired: Vec<(Option<usize>, Option<Option<links::Skim>>)> = new
        .par_iter()
        .map(|n| {
            let Some(o) = old_by_id.get(n.id.as_str()).copied() else {
                return Ok((None, None));
            };
            let old_stack = &old[o];
            if is_yaml(old_stack) != is_yaml(n) || settings(old_stack) != settings(n) {
                return Ok((Some(o), None));
            }
            let text = old_stack.template.text()?;
            if text != n.template.text()? {
                return Ok((Some(o), None));
            }
            Ok((Some(o), Some(skim_of(old_stack, &text))))
        })
        .collect::<Result<_>>()?;
    let mut skims: Vec<Option<links::Skim>> = vec![None; old.len()];
    let mut unreadable = false;
    let mut pairs: Vec<(Option<usize>, bool)> = Vec::with_capacity(paired.len());
    for (o, same) in paired {
        pairs.push((o, same.is_some()));
        if let (Some(o), Some(skim)) = (o, same) {
            unreadable |= skim.is_none();
            skims[o] = skim;
        }
    }
    // The stacks compared, in `diff_artifacts`' order: the new stacks that differ, then the
    // deleted ones; each as (old, new) by index.
    let compared: Vec<(Option<usize>, Option<usize>)> = pairs
        .iter()
        .enumerate()
        .filter(|(_, (_, same))| !same)
        .map(|(n, (o, _))| (*o, Some(n)))
        .chain(
            deleted
                .iter()
                .enumerate()
                .filter(|(_, d)| **d)
                .map(|(o, _)| (Some(o), None)),
        )
        .collect();
    let mut old_compared = vec![false; old.len()];
    for (o, _) in &compared {
        if let Some(o) = o {
            old_compared[*o] = true;
        }
    }
    // A template that does not parse: everything read the long way, for its error.
    let the_long_way = || -> Result<AssemblyDiff> {
        let (new, old) = (read_all(new)?, read_all(old)?);
        Ok(diff_artifacts(&new, &old, &|s| {
            old.iter().zip(&deleted).any(|(o, d)| *d && o.id == s.id)
        }))
    };
    if unreadable {
        return the_long_way();
    }
    // The other old stacks not compared (not in the new assembly, not selected): their skims.
    let rest: Vec<(usize, Option<links::Skim>)> = old
        .par_iter()
        .enumerate()
        .filter(|(o, _)| !old_compared[*o] && skims[*o].is_none())
        .map(|(o, s)| Ok((o, skim_of(s, &s.template.text()?))))
        .collect::<Result<_>>()?;
    for (o, skim) in rest {
        let Some(skim) = skim else {
            return the_long_way();
        };
        skims[o] = Some(skim);
    }
    // The compared stacks, a batch at a time: each diff, and what the cross-stack reading
    // needs of its templates.
    let mut done: Vec<Compared> = Vec::with_capacity(compared.len());
    for chunk in compared.chunks(batch.max(1)) {
        // `None`: a template that does not parse; an error: one that cannot be read.
        let diffs: Vec<Option<Compared>> = chunk
            .par_iter()
            .map(|&(o, n)| {
                fn read<T: TemplateText>(s: &StackOf<T>) -> Result<Option<Value>> {
                    let text = s.template.text()?;
                    Ok(parse_template(&s.properties.template_file, &text).ok())
                }
                let old_template = match o {
                    Some(o) => match read(&old[o])? {
                        Some(t) => Some(t),
                        None => return Ok(None),
                    },
                    None => None,
                };
                let new_template = match n {
                    Some(n) => match read(&new[n])? {
                        Some(t) => Some(t),
                        None => return Ok(None),
                    },
                    None => None,
                };
                let name = match (n, o) {
                    (Some(n), _) => new[n].display_name.as_str(),
                    (None, Some(o)) => old[o].display_name.as_str(),
                    (None, None) => "",
                };
                let input = StackInput {
                    name,
                    old: old_template.as_ref(),
                    new: new_template.as_ref(),
                    old_stack: o.map(|o| settings(&old[o])).unwrap_or_default(),
                    new_stack: n.map(|n| settings(&new[n])).unwrap_or_default(),
                };
                Ok(Some(Compared {
                    diff: diff_stack(&input, &SchemaSpecs),
                    new_outputs: new_template.as_ref().map(links::outputs_only),
                    old_skim: old_template.as_ref().map(links::Skim::of),
                }))
                // The templates are freed here, on this thread.
            })
            .collect::<Result<_>>()?;
        let Some(diffs) = diffs.into_iter().collect::<Option<Vec<_>>>() else {
            return the_long_way();
        };
        done.extend(diffs);
    }
    let mut diffs = Vec::with_capacity(done.len());
    let mut new_outputs = Vec::with_capacity(done.len());
    for (&(o, _), c) in compared.iter().zip(done) {
        if let (Some(o), Some(skim)) = (o, c.old_skim) {
            skims[o] = Some(skim);
        }
        diffs.push(c.diff);
        new_outputs.push(c.new_outputs);
    }
    // In `diff_artifacts`' order: the new stacks, then the deleted ones. The old side of each
    // is its skim's outputs (a template holding only the `Outputs`).
    let inputs: Vec<StackInput> = compared
        .iter()
        .zip(&new_outputs)
        .map(|(&(o, n), new_outputs)| StackInput {
            name: n.map_or_else(
                || o.map_or("", |o| &old[o].display_name),
                |n| &new[n].display_name,
            ),
            old: o.and_then(|o| skims[o].as_ref()).map(|s| &s.outputs),
            new: new_outputs.as_ref(),
            old_stack: o.map(|o| settings(&old[o])).unwrap_or_default(),
            new_stack: n.map(|n| settings(&new[n])).unwrap_or_default(),
        })
        .collect();
    let mut stacks = Vec::with_capacity(new.len() + compared.len());
    let mut stack_inputs: Vec<Option<&StackInput>> = Vec::with_capacity(stacks.capacity());
    let mut diffs = diffs.into_iter().zip(&inputs);
    for ((_, same), n) in pairs.iter().zip(new) {
        if *same {
            stacks.push(unchanged(&n.display_name));
            stack_inputs.push(None);
        } else if let Some((diff, input)) = diffs.next() {
            stacks.push(diff);
            stack_inputs.push(Some(input));
        }
    }
    for (diff, input) in diffs {
        stacks.push(diff);
        stack_inputs.push(Some(input));
    }
    let links: Vec<links::LinkStack> = old
        .iter()
        .zip(&skims)
        .filter_map(|(o, skim)| {
            Some(links::LinkStack {
                name: &o.display_name,
                id: &o.id,
                stack_name: &o.properties.stack_name,
                template: links::LinkTemplate::Skimmed(skim.as_ref()?),
                cross_region: &o.cross_region,
            })
        })
        .collect();
    Ok(linked(AssemblyDiff { stacks }, &stack_inputs, &links))
}

/// Every stack of a side with its template read and parsed; the first that fails is the error.
fn read_all<T: TemplateText + Clone>(side: &[StackOf<T>]) -> Result<Vec<StackArtifact>> {
    side.iter().map(StackOf::read_and_parse).collect()
}

/// Whether a stack's template is YAML (by its file's extension).
fn is_yaml<T>(s: &StackOf<T>) -> bool {
    let file = &s.properties.template_file;
    file.ends_with(".yaml") || file.ends_with(".yml")
}

/// The skim of a stack's template text (a YAML template is parsed: the skim reads JSON);
/// `None` when the text does not parse.
fn skim_of<T>(s: &StackOf<T>, text: &str) -> Option<links::Skim> {
    if is_yaml(s) {
        parse_template(&s.properties.template_file, text)
            .ok()
            .map(|t| links::Skim::of(&t))
    } else {
        links::skim(text).ok()
    }
}

/// What [`diff_assemblies`] keeps of a compared stack once its templates are freed.
struct Compared {
    diff: StackDiff,
    /// The new template reduced to its `Outputs` (what [`links::flag`] reads of it).
    new_outputs: Option<Value>,
    /// The old template's outputs and imports: for every stack's cross-stack reading, and its
    /// outputs for [`links::flag`].
    old_skim: Option<links::Skim>,
}

/// Diffs one stack.
pub fn diff_stack(input: &StackInput, specs: &dyn SpecSource) -> StackDiff {
    // Most stacks of a change are untouched: equal templates (key order aside, as the
    // normalized comparison would find) and settings are an unchanged stack, without
    // normalizing and walking both.
    if let (Some(old), Some(new)) = (input.old, input.new) {
        if input.old_stack == input.new_stack && old == new {
            return unchanged(input.name);
        }
    }
    compare(input, specs)
}

/// Diffs one stack the long way: normalized, resource by resource.
fn compare(input: &StackInput, specs: &dyn SpecSource) -> StackDiff {
    let empty = Value::Object(Map::new());
    let old = normalize::normalize(input.old.unwrap_or(&empty));
    let new = normalize::normalize(input.new.unwrap_or(&empty));
    let status = match (input.old, input.new) {
        (None, Some(_)) => StackStatus::Created,
        (Some(_), None) => StackStatus::Deleted,
        _ => StackStatus::Updated,
    };
    let section = |name: &str| entry_changes(old.get(name), new.get(name));
    let (resources, moves) = diff_resources(section_map(&old), section_map(&new), specs);
    let stateful = stateful_changes(&resources);
    let (iam, security_groups) = security::diff(&old, &new);
    let access = exposure::diff(&old, &new);
    let mut tags = BTreeMap::new();
    let (ot, nt) = (&input.old_stack.tags, &input.new_stack.tags);
    for key in ot.keys().chain(nt.keys()) {
        let (a, b) = (ot.get(key), nt.get(key));
        if a != b {
            tags.insert(key.clone(), (a.cloned(), b.cloned()));
        }
    }
    let (otp, ntp) = (
        input.old_stack.termination_protection,
        input.new_stack.termination_protection,
    );
    let counts = count(&resources);
    let mut diff = StackDiff {
        name: input.name.to_string(),
        status,
        parameters: section("Parameters"),
        conditions: section("Conditions"),
        mappings: section("Mappings"),
        outputs: section("Outputs"),
        resources,
        moves,
        stateful,
        iam,
        security_groups,
        access,
        cross_stack: Vec::new(),
        tags,
        termination_protection: (otp != ntp).then_some((otp, ntp)),
        counts,
    };
    // Two identical templates are one unchanged stack, not an "updated" one with nothing in it.
    if diff.status == StackStatus::Updated && diff.is_empty() {
        diff.status = StackStatus::Unchanged;
    }
    diff
}

/// A stack whose template and settings are the same on both sides: what [`diff_stack`] finds
/// for it the long way.
fn unchanged(name: &str) -> StackDiff {
    StackDiff {
        name: name.to_owned(),
        status: StackStatus::Unchanged,
        parameters: Vec::new(),
        conditions: Vec::new(),
        mappings: Vec::new(),
        outputs: Vec::new(),
        resources: Vec::new(),
        moves: Vec::new(),
        stateful: Vec::new(),
        iam: Vec::new(),
        security_groups: Vec::new(),
        access: Vec::new(),
        cross_stack: Vec::new(),
        tags: BTreeMap::new(),
        termination_protection: None,
        counts: Counts::default(),
    }
}

fn section_map(template: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn entry_changes(old: Option<&Value>, new: Option<&Value>) -> Vec<EntryChange> {
    let empty = Map::new();
    let old = old.and_then(Value::as_object).unwrap_or(&empty);
    let new = new.and_then(Value::as_object).unwrap_or(&empty);
    let names = old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)));
    names
        .filter_map(|name| {
            let (a, b) = (old.get(name), new.get(name));
            (!normalize::same(a, b)).then(|| EntryChange {
                name: name.clone(),
                old: a.cloned(),
                new: b.cloned(),
            })
        })
        .collect()
}

fn cdk_path(resource: &Value) -> Option<&str> {
    resource.pointer("/Metadata/aws:cdk:path")?.as_str()
}

fn type_of(resource: &Value) -> &str {
    resource.get("Type").and_then(Value::as_str).unwrap_or("")
}

fn deletion_policy(resource: &Value) -> Option<&str> {
    resource.get("DeletionPolicy").and_then(Value::as_str)
}

fn retained(resource: &Value) -> bool {
    matches!(
        deletion_policy(resource),
        Some("Retain" | "RetainExceptOnCreate")
    )
}

fn diff_resources(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    specs: &dyn SpecSource,
) -> (Vec<ResourceChange>, Vec<Move>) {
    // Moves: a logical ID gone and another new one with the same construct path.
    let mut moved_to: BTreeMap<&str, &str> = BTreeMap::new();
    let new_by_path: BTreeMap<&str, &str> = new
        .iter()
        .filter(|(id, _)| !old.contains_key(*id))
        .filter_map(|(id, r)| Some((cdk_path(r)?, id.as_str())))
        .collect();
    for (id, r) in old.iter().filter(|(id, _)| !new.contains_key(*id)) {
        if let Some(to) = cdk_path(r).and_then(|p| new_by_path.get(p)) {
            moved_to.insert(id, to);
        }
    }
    let moved_from: BTreeMap<&str, &str> = moved_to.iter().map(|(a, b)| (*b, *a)).collect();

    let mut changes: BTreeMap<String, ResourceChange> = BTreeMap::new();
    let mut moves = Vec::new();
    for (id, o) in old {
        match new.get(id) {
            Some(n) => {
                if let Some(c) = diff_resource(id, o, n, specs) {
                    changes.insert(id.clone(), c);
                }
            }
            None if moved_to.contains_key(id.as_str()) => {}
            None => {
                let kind = if retained(o) {
                    ResourceChangeKind::Orphaned
                } else {
                    ResourceChangeKind::Removed
                };
                changes.insert(id.clone(), whole(id, o, kind));
            }
        }
    }
    for (id, n) in new.iter().filter(|(id, _)| !old.contains_key(*id)) {
        let change = match moved_from
            .get(id.as_str())
            .and_then(|f| Some((*f, old.get(*f)?)))
        {
            Some((from, o)) => {
                moves.push(Move {
                    from: from.to_string(),
                    to: id.clone(),
                    construct_path: cdk_path(n).unwrap_or_default().to_string(),
                    resource_type: type_of(n).to_string(),
                    old_retained: retained(o),
                });
                let mut c = diff_resource(id, o, n, specs)
                    .unwrap_or_else(|| whole(id, n, ResourceChangeKind::Moved));
                c.kind = ResourceChangeKind::Moved;
                c.impact = Some(Impact::Replace);
                c.moved_from = Some(from.to_string());
                c.stateful = is_stateful(type_of(o), deletion_policy(o));
                c
            }
            None => whole(id, n, ResourceChangeKind::Added),
        };
        changes.insert(id.clone(), change);
    }

    propagate(old, new, specs, &mut changes);

    let order = old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)));
    let ordered = order.filter_map(|id| changes.remove(id)).collect();
    (ordered, moves)
}

/// A resource added, removed or orphaned as a whole.
fn whole(id: &str, r: &Value, kind: ResourceChangeKind) -> ResourceChange {
    ResourceChange {
        logical_id: id.to_string(),
        resource_type: type_of(r).to_string(),
        old_type: None,
        construct_path: cdk_path(r).map(str::to_string),
        kind,
        impact: None,
        moved_from: None,
        properties: Vec::new(),
        attributes: Vec::new(),
        stateful: is_stateful(type_of(r), deletion_policy(r)),
    }
}

/// The change of a logical ID present on both sides, `None` when identical.
fn diff_resource(
    id: &str,
    old: &Value,
    new: &Value,
    specs: &dyn SpecSource,
) -> Option<ResourceChange> {
    if old == new {
        return None;
    }
    let (old_type, new_type) = (type_of(old), type_of(new));
    let spec = specs.type_spec(new_type);
    let empty = Value::Object(Map::new());
    let mut leaves = Vec::new();
    diff_values(
        &mut Vec::new(),
        old.get("Properties").unwrap_or(&empty),
        new.get("Properties").unwrap_or(&empty),
        &mut leaves,
    );
    let properties: Vec<PropertyChange> = leaves
        .into_iter()
        .map(|(path, o, n)| PropertyChange {
            impact: property_impact(new_type, spec, &path, o, n),
            path: format_path(&path),
            old: o.cloned(),
            new: n.cloned(),
            caused_by: None,
        })
        .collect();
    let mut attributes = Vec::new();
    let (om, nm) = (old.as_object(), new.as_object());
    let keys: BTreeSet<&String> = om.into_iter().chain(nm).flat_map(|m| m.keys()).collect();
    for key in keys {
        if matches!(key.as_str(), "Type" | "Properties" | "Metadata") {
            continue;
        }
        let (a, b) = (attribute(old, key), attribute(new, key));
        if !normalize::same(a.as_ref(), b.as_ref()) {
            attributes.push(AttributeChange {
                name: key.clone(),
                old: a,
                new: b,
            });
        }
    }
    let type_changed = old_type != new_type;
    let only_forms_differ = properties.is_empty()
        && attributes.is_empty()
        && normalize::same(old.get("Metadata"), new.get("Metadata"));
    if !type_changed && only_forms_differ {
        return None;
    }
    let (kind, impact) = if type_changed {
        (ResourceChangeKind::TypeChanged, Some(Impact::Replace))
    } else if properties.is_empty() && attributes.is_empty() {
        (ResourceChangeKind::MetadataOnly, None)
    } else {
        let worst = properties.iter().map(|p| p.impact).max();
        (
            ResourceChangeKind::Modified,
            Some(worst.unwrap_or(Impact::Update)),
        )
    };
    Some(ResourceChange {
        logical_id: id.to_string(),
        resource_type: new_type.to_string(),
        old_type: type_changed.then(|| old_type.to_string()),
        construct_path: cdk_path(new).or(cdk_path(old)).map(str::to_string),
        kind,
        impact,
        moved_from: None,
        properties,
        attributes,
        stateful: is_stateful(old_type, deletion_policy(old))
            || is_stateful(new_type, deletion_policy(new)),
    })
}

/// A resource attribute in canonical form (`DependsOn` as a sorted list).
fn attribute(resource: &Value, key: &str) -> Option<Value> {
    let v = resource.get(key)?;
    Some(match (key, v) {
        ("DependsOn", Value::String(_)) => Value::Array(vec![v.clone()]),
        ("DependsOn", Value::Array(a)) => {
            let mut a = a.clone();
            a.sort_by_cached_key(|x| x.to_string());
            Value::Array(a)
        }
        _ => v.clone(),
    })
}

type Leaf<'a> = (Vec<Seg>, Option<&'a Value>, Option<&'a Value>);

/// Structural diff: descend maps and lists (not intrinsics) to the deepest values that differ.
/// Values CloudFormation reads as equal (`"512"` and `512`) do not differ.
fn diff_values<'a>(path: &mut Vec<Seg>, old: &'a Value, new: &'a Value, out: &mut Vec<Leaf<'a>>) {
    if normalize::equivalent(old, new) {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b))
            if !impact::is_intrinsic(old) && !impact::is_intrinsic(new) =>
        {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                path.push(Seg::Key(key.clone()));
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff_values(path, x, y, out),
                    (x, y) => out.push((path.clone(), x, y)),
                }
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(Seg::Index(i));
                diff_values(path, x, y, out);
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) => diff_lists(path, a, b, out),
        _ => out.push((path.clone(), Some(old), Some(new))),
    }
}

/// A list whose length changes: the items removed (at their old index) and added (at their new
/// index), matched by a longest common subsequence; an item rewritten in place is descended.
fn diff_lists<'a>(path: &mut Vec<Seg>, a: &'a [Value], b: &'a [Value], out: &mut Vec<Leaf<'a>>) {
    let keys = |l: &[Value]| -> Vec<String> { l.iter().map(normalize::canonical).collect() };
    let (ka, kb) = (keys(a), keys(b));
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &ka, &kb) {
        let (tag, old, new) = op.as_tag_tuple();
        let paired = match tag {
            similar::DiffTag::Replace => old.len().min(new.len()),
            _ => 0,
        };
        if tag == similar::DiffTag::Equal {
            continue;
        }
        for k in 0..paired {
            path.push(Seg::Index(new.start + k));
            diff_values(path, &a[old.start + k], &b[new.start + k], out);
            path.pop();
        }
        for i in old.clone().skip(paired) {
            path.push(Seg::Index(i));
            out.push((path.clone(), Some(&a[i]), None));
            path.pop();
        }
        for j in new.clone().skip(paired) {
            path.push(Seg::Index(j));
            out.push((path.clone(), None, Some(&b[j])));
            path.pop();
        }
    }
}

fn value_at<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get(k),
        Seg::Index(i) => v.get(i),
    })
}

/// Marks the properties that reference a replaced resource as changing, replacing the referrer
/// too when such a property is create-only, until nothing more changes.
fn propagate(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    specs: &dyn SpecSource,
    changes: &mut BTreeMap<String, ResourceChange>,
) {
    let replaced = |c: &ResourceChange| {
        matches!(
            c.kind,
            ResourceChangeKind::Modified | ResourceChangeKind::TypeChanged
        ) && c.impact == Some(Impact::Replace)
    };
    let mut queue: Vec<String> = changes
        .values()
        .filter(|c| replaced(c))
        .map(|c| c.logical_id.clone())
        .collect();
    // Reference lists, computed once per resource present on both sides.
    let refs: Vec<(&String, &Value, References)> = new
        .iter()
        .filter(|(id, _)| old.contains_key(*id))
        .map(|(id, r)| {
            let props = r.get("Properties").map(references).unwrap_or_default();
            (id, r, props)
        })
        .collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    while let Some(target) = queue.pop() {
        if !done.insert(target.clone()) {
            continue;
        }
        for (id, r, list) in &refs {
            for (path, _) in list.iter().filter(|(_, to)| *to == target) {
                let spec = specs.type_spec(type_of(r));
                let entry = changes.entry((*id).clone()).or_insert_with(|| {
                    let mut c = whole(id, r, ResourceChangeKind::Modified);
                    c.impact = Some(Impact::Update);
                    c
                });
                if entry.kind == ResourceChangeKind::MetadataOnly {
                    entry.kind = ResourceChangeKind::Modified;
                    entry.impact = Some(Impact::Update);
                }
                let text = format_path(path);
                let covered = entry.properties.iter().any(|p| {
                    text == p.path
                        || text.starts_with(&format!("{}.", p.path))
                        || text.starts_with(&format!("{}[", p.path))
                });
                if covered {
                    continue;
                }
                let props = r.get("Properties");
                let value = props.and_then(|p| value_at(p, path)).cloned();
                let old_value = old
                    .get(*id)
                    .and_then(|o| o.get("Properties"))
                    .and_then(|p| value_at(p, path))
                    .cloned();
                let impact = forced_impact(type_of(r), spec, path);
                entry.properties.push(PropertyChange {
                    path: text,
                    old: old_value,
                    new: value,
                    impact,
                    caused_by: Some(target.clone()),
                });
                let was_replaced = replaced(entry);
                entry.impact = entry.impact.max(Some(impact));
                if !was_replaced && replaced(entry) {
                    queue.push((*id).clone());
                }
            }
        }
    }
}

/// The impact of a value at `path` that is certain to change (its content is not known yet).
fn forced_impact(type_name: &str, spec: Option<&TypeSpec>, path: &[Seg]) -> Impact {
    // A marker that differs from anything at any depth below `path`.
    let marker = Value::String("\u{0}changed".into());
    let nothing = Value::Null;
    property_impact(type_name, spec, path, Some(&nothing), Some(&marker)).max(property_impact(
        type_name,
        spec,
        path,
        None,
        Some(&marker),
    ))
}

fn stateful_changes(resources: &[ResourceChange]) -> Vec<StatefulChange> {
    let mut out = Vec::new();
    for c in resources.iter().filter(|c| c.stateful) {
        let (risk, reason) = match c.kind {
            ResourceChangeKind::Removed => (
                StatefulRisk::Destroyed,
                "removed from the template".to_string(),
            ),
            ResourceChangeKind::Moved => (
                StatefulRisk::Moved,
                format!(
                    "logical ID changes from {}: CloudFormation creates a new one",
                    c.moved_from.as_deref().unwrap_or("?")
                ),
            ),
            ResourceChangeKind::TypeChanged => (
                StatefulRisk::Replaced,
                format!("type changes from {}", c.old_type.as_deref().unwrap_or("?")),
            ),
            ResourceChangeKind::Modified if c.impact == Some(Impact::Replace) => {
                let why: Vec<String> = c
                    .properties
                    .iter()
                    .filter(|p| p.impact == Impact::Replace)
                    .map(|p| match &p.caused_by {
                        Some(x) => format!("{} changes because {x} is replaced", p.path),
                        None => format!("{} requires replacement", p.path),
                    })
                    .collect();
                (StatefulRisk::Replaced, why.join("; "))
            }
            _ => continue,
        };
        out.push(StatefulChange {
            logical_id: c.moved_from.clone().unwrap_or_else(|| c.logical_id.clone()),
            resource_type: c.resource_type.clone(),
            construct_path: c.construct_path.clone(),
            risk,
            reason,
        });
    }
    out
}

fn count(resources: &[ResourceChange]) -> Counts {
    let mut n = Counts::default();
    for c in resources {
        match (c.kind, c.impact) {
            (ResourceChangeKind::Added, _) => n.added += 1,
            (ResourceChangeKind::Removed, _) => n.removed += 1,
            (ResourceChangeKind::Orphaned, _) => n.orphaned += 1,
            (ResourceChangeKind::Moved, _) => n.moved += 1,
            (ResourceChangeKind::TypeChanged, _) | (_, Some(Impact::Replace)) => n.replaced += 1,
            (ResourceChangeKind::Modified, Some(Impact::MayReplace)) => n.may_replace += 1,
            (ResourceChangeKind::Modified, _) => n.updated += 1,
            (ResourceChangeKind::MetadataOnly, _) => {}
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference prod template with every object's keys in reverse order.
    fn reversed(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), reversed(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(reversed).collect()),
            other => other.clone(),
        }
    }

    #[test]
    fn a_stack_the_same_on_both_sides_is_flagged_as_consumer_and_flags_nothing_as_producer() {
        let data = |bucket: &str| {
            serde_json::json!({
                "Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}},
                "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]},
                    "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:Arn"}}}}
            })
        };
        let service = |name: &str| {
            serde_json::json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {
                "DisplayName": {"Fn::ImportValue": "data:Arn"}, "TopicName": name}}}})
        };
        let (d1, d2, s1, s2) = (data("b1"), data("b2"), service("t1"), service("t2"));
        let deployed = |d: &'static str, s: &'static str, dt, st| {
            [("prod/Data", d, dt), ("prod/Service", s, st)].map(|(name, stack_name, t)| {
                links::LinkStack {
                    name,
                    id: name,
                    stack_name,
                    template: links::LinkTemplate::Parsed(t),
                    cross_region: &[],
                }
            })
        };
        let links = deployed("data", "service", &d1, &s1);
        let input = |name, old, new| StackInput {
            name,
            old: Some(old),
            new: Some(new),
            old_stack: StackSettings::default(),
            new_stack: StackSettings::default(),
        };
        // (Data's new template, Service's new template): one side changes, the other does not.
        for (dn, sn, flagged) in [(&d2, &s1, true), (&d1, &s2, false), (&d1, &s1, false)] {
            let inputs = [input("prod/Data", &d1, dn), input("prod/Service", &s1, sn)];
            let long = diff_stacks_linked(&inputs, &links, &SchemaSpecs);
            // As `diff_assemblies` does it: an untouched stack is not compared (no input), and
            // the flagging reads only the compared templates' outputs.
            let reduced: Vec<[Value; 2]> = inputs
                .iter()
                .map(|i| [i.old, i.new].map(|t| links::outputs_only(t.expect("both sides"))))
                .collect();
            let reduced_inputs: Vec<StackInput> = inputs
                .iter()
                .zip(&reduced)
                .map(|(i, [old, new])| StackInput {
                    name: i.name,
                    old: Some(old),
                    new: Some(new),
                    old_stack: StackSettings::default(),
                    new_stack: StackSettings::default(),
                })
                .collect();
            let compared: Vec<Option<&StackInput>> = inputs
                .iter()
                .zip(&reduced_inputs)
                .map(|(i, reduced)| (i.old != i.new).then_some(reduced))
                .collect();
            let diffs = AssemblyDiff {
                stacks: inputs
                    .iter()
                    .map(|i| match i.old == i.new {
                        true => unchanged(i.name),
                        false => diff_stack(i, &SchemaSpecs),
                    })
                    .collect(),
            };
            let short = linked(diffs, &compared, &links);
            assert_eq!(short, long);
            let consumer = &short.stacks[1];
            assert_eq!(!consumer.cross_stack.is_empty(), flagged, "{consumer:?}");
            if flagged {
                assert_eq!(consumer.status, StackStatus::Updated);
                assert_eq!(short.stacks[0].cross_stack.len(), 1);
            }
        }
    }

    #[test]
    fn the_short_way_for_an_untouched_stack_finds_what_the_long_way_finds() {
        let template: Value = serde_json::from_str(include_str!(
            "../../tests/data/diff/pantri-prod.template.json"
        ))
        .expect("reference template parses");
        let settings = StackSettings {
            tags: BTreeMap::from([("Application".to_owned(), "pantri".to_owned())]),
            termination_protection: true,
        };
        for other in [template.clone(), reversed(&template)] {
            let input = StackInput {
                name: "prod/App",
                old: Some(&template),
                new: Some(&other),
                old_stack: settings.clone(),
                new_stack: settings.clone(),
            };
            let long = compare(&input, &SchemaSpecs);
            assert_eq!(long.status, StackStatus::Unchanged);
            assert_eq!(diff_stack(&input, &SchemaSpecs), long);
        }
        // A setting that differs takes the long way, and is found.
        let input = StackInput {
            name: "prod/App",
            old: Some(&template),
            new: Some(&template),
            old_stack: settings.clone(),
            new_stack: StackSettings::default(),
        };
        let d = diff_stack(&input, &SchemaSpecs);
        assert_eq!(d.status, StackStatus::Updated);
        assert_eq!(d.termination_protection, Some((true, false)));
        assert_eq!(d.tags.len(), 1);
    }
}
