//! From a construct tree to a cloud assembly: logical IDs, templates, cross-stack references,
//! tags, validation, manifest and tree.
//!
//! Every problem is collected with its construct path; if any is an error, nothing is produced.

use crate::value::FastMap;
use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use rayon::prelude::*;
use serde_json::json;

use crate::json::{JsonObject, JsonValue as Json};

use crate::assembly::{to_json_string, Artifact, CloudAssembly, Manifest, SCHEMA_VERSION};
use crate::error::{Problem, Result, Severity, SynthError};
use crate::logical_id;
use crate::pretty::Entries;
use crate::resolve::{resolve_map, Effects, Facts, Resolver, Site, StackInfo};
use crate::sink::{AssemblySink, MemorySink};
use crate::template::{entries_text, PendingTemplate, TemplateParts};
use crate::tree::{App, NodeId, NodeKind, Parameter};
use crate::validate;
use crate::value::Value;

/// The format of the templates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// `*.template.json` (the default, as the CDK writes).
    #[default]
    Json,
    /// `*.template.yaml`.
    Yaml,
}

/// What to synthesize.
#[derive(Clone, Debug, Default)]
pub struct SynthOptions {
    /// Stage names to include; empty for all.
    pub stages: Vec<String>,
    /// Template format.
    pub format: Format,
    /// Where the assembly will be written (empty: `cdk.out`): asset sources are recorded
    /// relative to it.
    pub assembly_dir: std::path::PathBuf,
    /// Where the hashes of asset sources' files are kept between runs, so that only the files
    /// changed since are read ([`FileHashCache`](crate::asset::FileHashCache)); `None` reads
    /// every byte.
    pub file_hashes: Option<crate::asset::FileHashCache>,
}

/// A successful synthesis: the assembly and the warnings found on the way.
#[derive(Clone, Debug)]
pub struct Synthesis {
    /// The cloud assembly, in memory.
    pub assembly: CloudAssembly,
    /// Warnings (errors make synthesis fail instead).
    pub warnings: Vec<Problem>,
}

/// A successful synthesis whose files went to an [`AssemblySink`]: its stacks and the warnings
/// found on the way.
#[derive(Clone, Debug)]
pub struct Synthesized {
    /// The display names (`stage/stack`) of the stacks, in manifest order.
    pub stacks: Vec<String>,
    /// Warnings (errors make synthesis fail instead).
    pub warnings: Vec<Problem>,
}

/// Synthesizes the app's stacks (those of the selected stages) into a cloud assembly.
pub fn synthesize(app: &App, options: &SynthOptions) -> Result<Synthesis> {
    let sink = MemorySink::default();
    let (Synthesized { warnings, .. }, manifest) = synthesize_all(app, options, &sink, true)?;
    Ok(Synthesis {
        assembly: CloudAssembly {
            manifest,
            files: sink.into_files(),
        },
        warnings,
    })
}

/// Synthesizes the app's stacks (those of the selected stages), giving each file of the
/// assembly to `sink` as soon as it is rendered, so that no more than a few files are ever held
/// in memory; deferred stages ([`App::defer_in_parallel`]) are built a batch at a time and
/// dropped once written. On an error the sink may have been given some files: discard them (an
/// [`crate::sink::AssemblyWriter`] not committed removes them).
pub fn synthesize_into(
    app: &App,
    options: &SynthOptions,
    sink: &dyn AssemblySink,
) -> Result<Synthesized> {
    synthesize_all(app, options, sink, false).map(|(done, _)| done)
}

/// The app's built part, then its deferred parts a batch at a time; the manifest's artifacts
/// are kept when `keep_manifest`.
fn synthesize_all(
    app: &App,
    options: &SynthOptions,
    sink: &dyn AssemblySink,
    keep_manifest: bool,
) -> Result<(Synthesized, Manifest)> {
    // Moved through each part's two phases; an error ends the synthesis.
    let mut run = Some(Run::new(app, options, sink, keep_manifest)?);
    app.try_for_each_part(|part| {
        if let Some(r) = run.take() {
            run = Some(resolve_batch(part, r)?.render_batch()?);
        }
        Ok(())
    })?;
    run.map_or_else(
        || unreachable!("a run is put back after each part"),
        Run::finish,
    )
}

/// What synthesis keeps from one batch of stacks to the next (an app's deferred stages are
/// synthesized a batch at a time): the checks that span the app, the assets' hashes, the
/// problems, and `tree.json` and the manifest, written into the sink a batch of entries at a
/// time (each file's object is open until [`Run::finish`]).
struct Run<'s> {
    sink: &'s dyn AssemblySink,
    format: Format,
    assembly_dir: std::path::PathBuf,
    /// The stages asked for (`SynthOptions::stages`).
    wanted: Vec<String>,
    /// Every stage's id, in order (for the stages asked for that do not exist).
    stage_ids: Vec<String>,
    /// The ids of the root's children, in every batch.
    root_ids: std::collections::HashSet<String>,
    seen: validate::Seen,
    hashes: crate::asset::HashCache,
    file_hashes: Option<crate::asset::FileHashCache>,
    problems: Vec<Problem>,
    /// The stacks' display names, in order.
    stacks: Vec<String>,
    /// The manifest's artifacts, when they are kept ([`synthesize`]).
    kept: Option<IndexMap<String, Artifact>>,
    tree: TreeFile,
    manifest: ManifestFile,
}

/// A file of the assembly written a piece at a time: what is written is held until it is
/// worth a write to the sink (a file of a small app is put once, when it is closed).
#[derive(Default)]
struct Pieces {
    name: &'static str,
    text: Vec<u8>,
    /// Whether the sink has the file (the pieces that follow are appended).
    started: bool,
}

/// What [`Pieces`] holds before it writes.
const PIECES_BYTES: usize = 1 << 20;

impl Pieces {
    fn new(name: &'static str) -> Pieces {
        Pieces {
            name,
            text: Vec::new(),
            started: false,
        }
    }

    /// Gives the sink what is held, if it is enough or `last`.
    fn write(&mut self, sink: &dyn AssemblySink, last: bool) -> Result<()> {
        if self.text.len() < PIECES_BYTES && !last {
            return Ok(());
        }
        let text = text(std::mem::take(&mut self.text));
        if self.started {
            sink.append(self.name, &text)
        } else {
            self.started = true;
            sink.put(self.name, text)
        }
    }
}

/// `tree.json`, open: `{"version", "tree": {"id", "path", "children": {` entries.
#[derive(Default)]
struct TreeFile {
    out: Pieces,
    top: Entries,
    root: Entries,
    /// Open from the first child on (a root without children has no `children`).
    children: Option<Entries>,
    /// The root's `constructInfo`, written when the file is closed.
    root_info: Vec<u8>,
}

/// `manifest.json`, open: `{"version", "artifacts": {` entries.
struct ManifestFile {
    out: Pieces,
    top: Entries,
    artifacts: Entries,
}

impl<'s> Run<'s> {
    /// Starts `tree.json` and the manifest.
    fn new(
        app: &App,
        options: &SynthOptions,
        sink: &'s dyn AssemblySink,
        keep_manifest: bool,
    ) -> Result<Run<'s>> {
        // Writing strings into memory does not fail; should it, it is the file's error.
        let cannot = |file: &'static str| {
            move |e: serde_json::Error| {
                crate::sink::io_err("cannot write", std::path::Path::new(file))(
                    std::io::Error::other(e),
                )
            }
        };
        let mut tree_out = Pieces::new("tree.json");
        let out = &mut tree_out.text;
        let mut top = Entries::open(out, 1);
        top.entry(out, "version", "tree-0.1")
            .map_err(cannot("tree.json"))?;
        let mut root = top.open_entry(out, "tree").map_err(cannot("tree.json"))?;
        root.entry(out, "id", "App")
            .and_then(|()| root.entry(out, "path", ""))
            .map_err(cannot("tree.json"))?;
        let mut root_info = Vec::new();
        Entries::value(
            &mut root_info,
            root.depth(),
            &crate::manifest::root_construct_info(app),
        )
        .map_err(cannot("tree.json"))?;
        let tree = TreeFile {
            out: tree_out,
            top,
            root,
            children: None,
            root_info,
        };
        let mut manifest_out = Pieces::new("manifest.json");
        let out = &mut manifest_out.text;
        let mut top = Entries::open(out, 1);
        let artifacts = top
            .entry(out, "version", SCHEMA_VERSION)
            .and_then(|()| top.open_entry(out, "artifacts"))
            .map_err(cannot("manifest.json"))?;
        Ok(Run {
            sink,
            format: options.format,
            assembly_dir: if options.assembly_dir.as_os_str().is_empty() {
                "cdk.out".into()
            } else {
                options.assembly_dir.clone()
            },
            wanted: options.stages.clone(),
            stage_ids: Vec::new(),
            root_ids: std::collections::HashSet::new(),
            seen: validate::Seen::default(),
            hashes: crate::asset::HashCache::default(),
            file_hashes: options.file_hashes.clone(),
            problems: Vec::new(),
            stacks: Vec::new(),
            kept: keep_manifest.then(IndexMap::new),
            tree,
            manifest: ManifestFile {
                out: manifest_out,
                top,
                artifacts,
            },
        })
    }

    /// Closes `tree.json` and the manifest, writes `cdk.out`, and fails with every problem of
    /// every batch if any is an error.
    fn finish(mut self) -> Result<(Synthesized, Manifest)> {
        for wanted in &self.wanted {
            if !self.stage_ids.contains(wanted) {
                self.problems.push(Problem::error(
                    wanted.clone(),
                    format!(
                        "no stage named {wanted:?}; the app has: {}",
                        self.stage_ids.join(", ")
                    ),
                ));
            }
        }
        let TreeFile {
            out: mut tree_out,
            top,
            mut root,
            children,
            root_info,
        } = self.tree;
        let out = &mut tree_out.text;
        if let Some(children) = children {
            children.close(out);
        }
        let closed = root.written_entry(out, "constructInfo", &root_info);
        if let Err(e) = closed {
            json_problem("", "tree", e, &mut self.problems);
        }
        root.close(out);
        top.close(out);
        out.push(b'\n');
        tree_out.write(self.sink, true)?;

        let tree_artifact = Artifact {
            kind: "cdk:tree".to_owned(),
            environment: None,
            properties: Some(json!({ "file": "tree.json" })),
            dependencies: Vec::new(),
            metadata: IndexMap::new(),
            display_name: None,
        };
        let ManifestFile {
            out: mut manifest_out,
            top,
            mut artifacts,
        } = self.manifest;
        let out = &mut manifest_out.text;
        if let Err(e) = artifacts.entry(out, "Tree", &tree_artifact) {
            json_problem("", "manifest", e, &mut self.problems);
        }
        artifacts.close(out);
        top.close(out);
        out.push(b'\n');
        manifest_out.write(self.sink, true)?;
        // (Not kept, the manifest is only in the sink.)
        let artifacts = self.kept.map_or_else(IndexMap::new, |mut kept| {
            kept.insert("Tree".to_owned(), tree_artifact);
            kept
        });
        let manifest = Manifest {
            version: SCHEMA_VERSION.to_owned(),
            artifacts,
        };
        let text = to_json_string(&json!({ "version": SCHEMA_VERSION }));
        self.sink
            .put("cdk.out", written("", "cdk.out", text, &mut self.problems))?;

        let mut problems = self.problems;
        problems.sort_by(|a, b| (b.severity, &a.path).cmp(&(a.severity, &b.path)));
        problems.dedup();
        if problems.iter().any(|p| p.severity == Severity::Error) {
            return Err(SynthError::Invalid(problems));
        }
        Ok((
            Synthesized {
                stacks: self.stacks,
                warnings: problems,
            },
            manifest,
        ))
    }
}

/// Text from JSON serialized into bytes (serde_json writes UTF-8 only).
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A problem for a file that cannot be written as JSON.
fn json_problem(path: &str, what: &str, e: serde_json::Error, problems: &mut Vec<Problem>) {
    written(path, what, Err(e), problems);
}

/// An app (or a batch of its deferred stages) resolved into templates (logical IDs, references,
/// cross-stack exports, validation), with every problem found so far, and each template
/// written to the sink up to its outputs; [`Resolved::render`] finishes the assembly. The two
/// phases are apart so that each can be measured (`bin/benches/scale.rs`).
pub struct Resolved<'a, 's> {
    app: &'a App,
    run: Run<'s>,
    facts: Facts,
    fx: Effects,
    stacks: Vec<NodeId>,
    rendered: Vec<RenderedStack>,
}

/// The first phase of [`synthesize`] of the app's built part (not its deferred stages: call
/// [`App::build_deferred`] first): every selected stack's template given to `sink` up to its
/// outputs (which other stacks' references may still grow), and the problems. Fails only when
/// the sink does.
pub fn resolve<'a, 's>(
    app: &'a App,
    options: &SynthOptions,
    sink: &'s dyn AssemblySink,
) -> Result<Resolved<'a, 's>> {
    resolve_batch(app, Run::new(app, options, sink, false)?)
}

/// [`resolve`] of one batch: the app's built part or a batch of its deferred stages.
fn resolve_batch<'a, 's>(app: &'a App, mut run: Run<'s>) -> Result<Resolved<'a, 's>> {
    let mut facts = Facts::default();
    let mut fx = Effects::default();
    let problems = &mut fx.problems;
    problems.extend(app.problems.iter().cloned());

    // The root's children of each batch are apart from the others' (each batch's own are
    // checked as they are added).
    let ids: std::collections::HashSet<&str> = app
        .children(app.root_id())
        .iter()
        .map(|c| app.id(*c))
        .collect();
    for child in app.children(app.root_id()) {
        let id = app.id(*child);
        if run.root_ids.contains(id) {
            problems.push(Problem::error(
                app.path(*child),
                format!("duplicate construct id {id:?}: siblings need distinct ids"),
            ));
        }
    }
    run.root_ids.extend(ids.into_iter().map(str::to_owned));
    run.stage_ids
        .extend(app.stages().iter().map(|s| app.id(*s).to_owned()));
    let stacks: Vec<NodeId> = app
        .stacks()
        .into_iter()
        .filter(|s| {
            run.wanted.is_empty()
                || app
                    .stage_of(*s)
                    .is_some_and(|st| run.wanted.iter().any(|w| w == app.id(st)))
        })
        .collect();

    for &stack in &stacks {
        let info = stack_info(app, stack, problems);
        facts.stacks.insert(stack, info);
    }
    for (i, asset) in app.assets.iter().enumerate() {
        let info = app
            .stack_of(asset.node)
            .and_then(|s| facts.stacks.get_mut(&s));
        if let Some(info) = info {
            info.assets.push(i);
        }
    }
    validate::unique_stack_names(app, &facts.stacks, &mut run.seen, problems);
    validate::unique_artifact_ids(app, &facts.stacks, &mut run.seen, problems);
    // Each stack's elements and logical IDs are its own (an ID is unique within its stack):
    // found on every core, merged in stack order.
    let elements: Vec<(NodeId, Vec<NodeId>)> = stacks
        .par_iter()
        .map(|s| (*s, stack_elements(app, *s)))
        .collect();
    let ids: Vec<StackIds> = elements
        .par_iter()
        .map(|(stack, elems)| {
            let mut ids = Vec::with_capacity(elems.len());
            let mut found = Vec::new();
            assign_logical_ids(app, *stack, elems, &mut ids, &mut found);
            (ids, found)
        })
        .collect();
    for (ids, found) in ids {
        facts.logical_ids.extend(ids);
        problems.extend(found);
    }

    // Stacks render on every core: each reads the shared facts and keeps its own effects, merged
    // below in stack order (see `Effects`), so the result does not depend on the threads.
    let facts_ref = &facts;
    let (format, sink, known, files) =
        (run.format, run.sink, &run.hashes, run.file_hashes.as_ref());
    let (per_stack, hashes) = rayon::join(
        || render_stacks(app, facts_ref, &elements, format, sink),
        || crate::asset::hash_all(app, facts_ref, known, files),
    );
    run.hashes.extend(hashes);
    let per_stack = per_stack?;
    let mut rendered: Vec<RenderedStack> = Vec::with_capacity(per_stack.len());
    for (stack, effects) in per_stack {
        rendered.push(stack);
        fx.merge(effects);
    }
    rendered
        .par_iter_mut()
        .for_each(|stack| add_generated_outputs(&fx, stack));
    crate::asset::add_stack_dependencies(app, &mut fx);
    validate::stack_dependency_cycles(app, &fx.stack_dependencies, &mut fx.problems);
    let exports = rendered_exports(&rendered);
    validate::duplicate_exports(app, &exports, &mut run.seen, &mut fx.problems);
    Ok(Resolved {
        app,
        run,
        facts,
        fx,
        stacks,
        rendered,
    })
}

/// Every stack rendered on every core: its template given to `sink` up to its outputs, and its
/// effects on other stacks, in stack order.
fn render_stacks(
    app: &App,
    facts: &Facts,
    elements: &[(NodeId, Vec<NodeId>)],
    format: Format,
    sink: &dyn AssemblySink,
) -> Result<Vec<(RenderedStack, Effects)>> {
    elements
        .par_iter()
        .map(|(stack, elems)| {
            let mut r = Resolver::new(app, facts);
            let (mut parts, edges) = render_stack(&mut r, *stack, elems, format);
            add_cross_region_parameters(&r.fx, *stack, &mut parts);
            // The template is written up to its outputs now, on this thread: only other
            // stacks' references still add to it (see `TemplateParts::split`).
            let (prefix, template) = parts.split(format, app.path(*stack), &mut r.fx.problems);
            sink.put(&template_file(facts, *stack, format), prefix)?;
            Ok((
                RenderedStack {
                    node: *stack,
                    template,
                    edges,
                },
                r.fx,
            ))
        })
        .collect()
}

/// The file of a stack's template.
fn template_file(facts: &Facts, stack: NodeId, format: Format) -> String {
    let ext = match format {
        Format::Json => "json",
        Format::Yaml => "yaml",
    };
    format!("{}.template.{ext}", facts.stacks[&stack].artifact_id)
}

impl<'s> Resolved<'_, 's> {
    /// The number of stacks resolved.
    pub fn stack_count(&self) -> usize {
        self.rendered.len()
    }

    /// The second phase of [`synthesize`]: the templates finished (their outputs), manifest
    /// and tree given to the sink, the template size limits checked. Fails with every problem
    /// of both phases if any is an error.
    pub fn render(self) -> Result<Synthesized> {
        self.render_batch()?.finish().map(|(done, _)| done)
    }

    /// [`Resolved::render`] of one batch: its templates finished, its entries of `tree.json`
    /// and the manifest written, its problems kept for [`Run::finish`].
    fn render_batch(mut self) -> Result<Run<'s>> {
        let stacks = std::mem::take(&mut self.stacks);
        let mut tree = std::mem::take(&mut self.run.tree);
        let app = self.app;
        // `tree.json` (the largest file after the templates: 5 MB at 100 stages) reads only the
        // construct tree: it is serialized while the stacks are finished.
        let (written, finished) = rayon::join(
            || tree.add_children(app, &stacks),
            move || finish_batch(self),
        );
        let mut run = finished?;
        if let Err(e) = written {
            json_problem("", "tree", e, &mut run.problems);
        }
        tree.out.write(run.sink, false)?;
        run.tree = tree;
        Ok(run)
    }
}

impl TreeFile {
    /// Adds the root's children of a batch (those holding a selected stack).
    fn add_children(&mut self, app: &App, stacks: &[NodeId]) -> serde_json::Result<()> {
        let TreeFile {
            out,
            root,
            children,
            ..
        } = self;
        crate::manifest::write_tree_children(app, stacks, &mut out.text, root, children)
    }
}

/// A stack's asset artifacts, its own artifact (and its JSON, at the depth of the manifest's
/// artifacts), and the problems its assets have.
type StackArtifacts = (Vec<(String, Artifact)>, (Artifact, Vec<u8>), Vec<Problem>);

/// Everything of [`Resolved::render_batch`] but `tree.json`: the templates' outputs, the assets,
/// the manifest's entries.
fn finish_batch<'s>(resolved: Resolved<'_, 's>) -> Result<Run<'s>> {
    let Resolved {
        app,
        mut run,
        facts,
        mut fx,
        stacks: _,
        mut rendered,
    } = resolved;
    let (format, sink) = (run.format, run.sink);
    // What is left of each template is its outputs, on every core; the problems are
    // collected in stack order, so they do not depend on the threads.
    let per_stack: Vec<Vec<Problem>> = rendered
        .par_iter_mut()
        .map(|stack| {
            let pending = std::mem::take(&mut stack.template);
            let mut problems = Vec::new();
            let path = app.path(stack.node);
            let counts = pending.counts();
            let size = pending.prefix_len;
            let suffix = pending.suffix(format, path, &mut problems);
            validate::template_limits(path, counts, size + suffix.len(), &mut problems);
            sink.append(&template_file(&facts, stack.node, format), &suffix)?;
            Ok(problems)
        })
        .collect::<Result<_>>()?;
    // Each stack's assets and artifact on every core (the assets' hashes are known), its
    // artifact serialized there too; added to the manifest in stack order.
    let depth = run.manifest.artifacts.depth();
    let (assembly_dir, hashes) = (run.assembly_dir.as_path(), &run.hashes);
    let artifacts: Vec<StackArtifacts> = rendered
        .par_iter()
        .map(|stack| {
            let mut problems = Vec::new();
            let assets = crate::asset::stack_assets(
                app,
                &facts,
                stack.node,
                assembly_dir,
                hashes,
                &mut problems,
            );
            for (name, text) in assets.files {
                sink.put(&name, text)?;
            }
            let file = template_file(&facts, stack.node, format);
            let mut artifact = crate::manifest::stack_artifact(app, &facts, &fx, stack, file);
            if let Some(dep) = assets.dependency {
                artifact.dependencies.insert(0, dep);
            }
            let mut json = Vec::new();
            if let Err(e) = Entries::value(&mut json, depth, &artifact) {
                json_problem(app.path(stack.node), "manifest", e, &mut problems);
            }
            Ok((assets.artifacts, (artifact, json), problems))
        })
        .collect::<Result<_>>()?;
    // (Problems are sorted at the end: the order they are gathered in does not matter.)
    let out = &mut run.manifest.out.text;
    for ((stack, problems), (assets, (artifact, json), found)) in
        rendered.iter().zip(per_stack).zip(artifacts)
    {
        fx.problems.extend(problems);
        fx.problems.extend(found);
        for (id, asset) in assets {
            if let Err(e) = run.manifest.artifacts.entry(out, &id, &asset) {
                json_problem(app.path(stack.node), "manifest", e, &mut fx.problems);
            }
            if let Some(kept) = &mut run.kept {
                kept.insert(id, asset);
            }
        }
        let id = &facts.stacks[&stack.node].artifact_id;
        if let Err(e) = run.manifest.artifacts.written_entry(out, id, &json) {
            json_problem(app.path(stack.node), "manifest", e, &mut fx.problems);
        }
        run.stacks.push(app.path(stack.node).to_owned());
        if let Some(kept) = &mut run.kept {
            kept.insert(id.clone(), artifact);
        }
    }
    run.manifest.out.write(run.sink, false)?;
    run.problems.append(&mut fx.problems);
    Ok(run)
}

fn sanitize_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn stack_info(app: &App, stack: NodeId, problems: &mut Vec<Problem>) -> StackInfo {
    let path = app.path(stack);
    let NodeKind::Stack(data) = &app.node(stack).kind else {
        unreachable_stack()
    };
    let stage = app.stage_of(stack).map(|s| app.id(s).to_owned());
    let base = match &stage {
        Some(stage) => format!("{stage}-{}", app.id(stack)),
        None => app.id(stack).to_owned(),
    };
    let artifact_id = sanitize_name(&base);
    let stack_name = data
        .props
        .stack_name
        .clone()
        .unwrap_or_else(|| artifact_id.clone());
    validate::stack_name(path, &stack_name, problems);
    let (account, region) = match app.env_of(stack) {
        Some(env) => {
            validate::environment(path, env, problems);
            (env.account.clone(), env.region.clone())
        }
        None => {
            problems.push(Problem::error(
                path,
                "the stack has no environment: give its stage (or the stack) an account and region",
            ));
            (String::new(), String::new())
        }
    };
    StackInfo {
        artifact_id,
        stack_name,
        account,
        region,
        assets: Vec::new(),
    }
}

// A node from `App::stacks` is always a stack; this keeps the match exhaustive without a panic path
// reachable from user input.
pub(crate) fn unreachable_stack() -> ! {
    unreachable!("stack_info is only called on stack nodes")
}

/// The elements of a stack, in tree order (not descending into nested stacks).
fn stack_elements(app: &App, stack: NodeId) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut todo: Vec<NodeId> = app.children(stack).iter().rev().copied().collect();
    while let Some(n) = todo.pop() {
        match app.node(n).kind {
            NodeKind::Stack(_) => continue,
            NodeKind::Resource { .. }
            | NodeKind::Parameter(_)
            | NodeKind::Output(_)
            | NodeKind::Condition(_)
            | NodeKind::Mapping(_) => out.push(n),
            _ => {}
        }
        todo.extend(app.children(n).iter().rev());
    }
    out
}

/// A stack's logical IDs, by element, and the problems found assigning them.
type StackIds = (Vec<(NodeId, String)>, Vec<Problem>);

fn assign_logical_ids(
    app: &App,
    stack: NodeId,
    elements: &[NodeId],
    logical_ids: &mut Vec<(NodeId, String)>,
    problems: &mut Vec<Problem>,
) {
    let stack_path = app.path(stack);
    let NodeKind::Stack(data) = &app.node(stack).kind else {
        return;
    };
    let mut renames: Vec<(String, String, bool)> = data
        .renames
        .iter()
        .map(|(o, n)| (o.clone(), n.clone(), false))
        .collect();
    let mut seen: FastMap<String, NodeId> = FastMap::default();
    for &element in elements {
        let components = app.components_below(stack, element);
        let mut lid = match app.node(element).logical_id_override() {
            Some(o) => o.to_owned(),
            None => logical_id::logical_id(&components).unwrap_or_default(),
        };
        for (old, new, used) in &mut renames {
            if *old == lid {
                lid = new.clone();
                *used = true;
            }
        }
        let path = app.path(element);
        if !logical_id::is_valid(&lid) {
            problems.push(Problem::error(
                path,
                format!("logical ID {lid:?} is invalid: it must be 1 to 255 letters and digits"),
            ));
        }
        // Two elements on one path come from a duplicate construct id, reported once where
        // the id was added; repeating it for every resource below would bury it.
        if let Some(other) = seen
            .insert(lid.clone(), element)
            .filter(|o| app.path(*o) != path)
        {
            problems.push(Problem::error(
                path,
                format!("logical ID {lid} is also used by {}: rename one of them or override its logical ID", app.path(other)),
            ));
        }
        logical_ids.push((element, lid));
    }
    for (old, new, used) in renames {
        if !used {
            problems.push(Problem::error(
                stack_path,
                format!("rename of logical ID {old} to {new} matches no element of the stack: remove the rename"),
            ));
        }
    }
    for node in app.descendants(stack) {
        if app.node(node).logical_id_override().is_some() && !elements.contains(&node) {
            problems.push(Problem::error(
                app.path(node),
                "a logical ID override on a node that is not a CloudFormation element has no effect: put it on the resource",
            ));
        }
    }
}

/// True when a construct between `element` and its stack reported an error (through
/// [`crate::Scope::error`]).
fn below_rejected_construct(app: &App, element: NodeId) -> bool {
    let paths: Vec<&str> = app
        .ancestors(element)
        .skip(1)
        .take_while(|n| !app.is_stack_or_above(*n))
        .map(|n| app.path(n))
        .collect();
    app.problems
        .iter()
        .any(|p| p.severity == Severity::Error && paths.contains(&p.path.as_str()))
}

pub(crate) struct RenderedStack {
    pub node: NodeId,
    /// The template's outputs: the rest is written.
    pub template: PendingTemplate,
    /// Same-stack edges (element → elements it depends on or refers to), for cycle detection.
    pub edges: BTreeMap<NodeId, BTreeSet<NodeId>>,
}

fn render_stack(
    r: &mut Resolver<'_>,
    stack: NodeId,
    elements: &[NodeId],
    format: Format,
) -> (TemplateParts, BTreeMap<NodeId, BTreeSet<NodeId>>) {
    let app = r.app;
    // Keyed by logical ID, hashed (a stack has up to 500 resources); each becomes a
    // `JsonObject` once complete.
    let mut sections: [Section; 5] = Default::default();
    let [parameters, mappings, conditions, resources, outputs] = &mut sections;
    let mut edges: BTreeMap<NodeId, BTreeSet<NodeId>> = BTreeMap::new();
    stack_level_dependencies(r, stack);
    for &element in elements {
        let lid = r
            .facts
            .logical_ids
            .get(&element)
            .cloned()
            .unwrap_or_default();
        let mut site = Site {
            stack,
            element,
            refs: Vec::new(),
        };
        match &app.node(element).kind {
            NodeKind::Resource { body, options } => {
                let mut props = body.properties();
                crate::tags::apply_inherited_tags(app, element, body.type_name(), &mut props);
                // Each key below once, in CloudFormation's usual order.
                let mut res = JsonObject::with_capacity(4);
                res.push_distinct("Type".into(), Json::String(body.type_name().to_owned()));
                let resolved = r.resolve(props, &mut site);
                // A construct that rejected its props has said what is wrong; the schema
                // errors of the resources it built from them repeat the same mistake.
                if !below_rejected_construct(app, element) {
                    for message in crate::spec::check::check_element(body.type_name(), &resolved) {
                        r.fx.problems
                            .push(Problem::error(app.path(element), message));
                    }
                }
                if resolved.as_object().is_some_and(|o| !o.is_empty()) {
                    res.push_distinct("Properties".into(), resolved);
                }
                let depends_on = depends_on(r, stack, element, &options.depends_on);
                if !depends_on.is_empty() {
                    let ids: BTreeSet<String> = depends_on
                        .iter()
                        .map(|n| r.facts.logical_ids[n].clone())
                        .collect();
                    res.push_distinct(
                        "DependsOn".into(),
                        Json::Array(ids.into_iter().map(Json::String).collect()),
                    );
                    site.refs.extend(depends_on);
                }
                if let Some(c) = options.condition {
                    let v = r.resolve(
                        Value::intrinsic(crate::value::Intrinsic::Condition(c.node())),
                        &mut site,
                    );
                    res.push_distinct(
                        "Condition".into(),
                        v.get("Condition").cloned().unwrap_or(Json::Null),
                    );
                }
                if let Some(p) = options.update_replace_policy {
                    res.push_distinct("UpdateReplacePolicy".into(), p.name().into());
                }
                if let Some(p) = options.deletion_policy {
                    res.push_distinct("DeletionPolicy".into(), p.name().into());
                }
                let mut metadata = JsonObject::from_distinct(vec![(
                    "aws:cdk:path".into(),
                    Json::String(app.path(element).to_owned()),
                )]);
                if let Json::Object(m) = resolve_map(r, &options.metadata, &mut site) {
                    metadata.extend(m);
                }
                res.push_distinct("Metadata".into(), Json::Object(metadata));
                resources.insert(lid, Json::Object(res));
            }
            NodeKind::Parameter(p) => {
                let v = render_parameter(r, p, &mut site);
                parameters.insert(lid, v);
            }
            NodeKind::Output(o) => {
                let mut out = JsonObject::new();
                if let Some(d) = &o.description {
                    out.insert("Description".into(), d.as_str().into());
                }
                out.insert("Value".into(), r.resolve(o.value.clone(), &mut site));
                if let Some(name) = &o.export_name {
                    out.insert(
                        "Export".into(),
                        Json::single("Name", r.resolve(name.value().clone(), &mut site)),
                    );
                }
                if let Some(c) = o.condition {
                    let v = r.resolve(
                        Value::intrinsic(crate::value::Intrinsic::Condition(c.node())),
                        &mut site,
                    );
                    out.insert(
                        "Condition".into(),
                        v.get("Condition").cloned().unwrap_or(Json::Null),
                    );
                }
                outputs.insert(lid, Json::Object(out));
            }
            NodeKind::Condition(expr) => {
                let v = r.resolve(expr.clone(), &mut site);
                conditions.insert(lid, v);
            }
            NodeKind::Mapping(m) => {
                let v: JsonObject = m
                    .iter()
                    .map(|(k, inner)| (k.clone(), resolve_map(r, inner, &mut site)))
                    .collect();
                mappings.insert(lid, Json::Object(v));
            }
            _ => {}
        }
        edges
            .entry(element)
            .or_default()
            .extend(site.refs.into_iter().filter(|n| *n != element));
    }
    let mut head = JsonObject::from_distinct(vec![(
        "AWSTemplateFormatVersion".into(),
        "2010-09-09".into(),
    )]);
    if let NodeKind::Stack(data) = &app.node(stack).kind {
        if let Some(d) = &data.props.description {
            head.push_distinct("Description".into(), d.as_str().into());
        }
    }
    let [parameters, mappings, conditions, resources, outputs] =
        sections.map(|section| JsonObject::from_distinct(section.into_iter().collect()));
    let (resource_count, mapping_count) = (resources.len(), mappings.len());
    let mut body = JsonObject::new();
    for (name, section) in [("Mappings", mappings), ("Conditions", conditions)] {
        if !section.is_empty() {
            body.push_distinct(name.to_owned(), Json::Object(section));
        }
    }
    body.push_distinct("Resources".to_owned(), Json::Object(resources));
    validate::depends_on_cycles(app, &edges, &mut r.fx.problems);
    // The bulk of the template becomes text here, on the stack's thread, and its JSON is freed:
    // holding every stack's JSON until all are resolved was most of synthesis's memory.
    let path = app.path(stack);
    let problems = &mut r.fx.problems;
    let template = TemplateParts {
        head: entries_text(format, &head, path, problems),
        parameters: (!parameters.is_empty()).then_some(parameters),
        body: entries_text(format, &body, path, problems),
        outputs: (!outputs.is_empty()).then_some(outputs),
        resources: resource_count,
        mappings: mapping_count,
    };
    (template, edges)
}

/// A section of a template while its stack is resolved: entries by logical ID, in order.
type Section = indexmap::IndexMap<String, Json, foldhash::fast::FixedState>;

fn render_parameter(r: &mut Resolver<'_>, p: &Parameter, site: &mut Site) -> Json {
    // A parameter's few keys, each once.
    let mut out = JsonObject::from_distinct(vec![("Type".into(), p.type_.as_str().into())]);
    if let Some(d) = &p.default {
        out.push_distinct("Default".into(), r.resolve(d.clone(), site));
    }
    if let Some(d) = &p.description {
        out.push_distinct("Description".into(), d.as_str().into());
    }
    if p.no_echo {
        out.push_distinct("NoEcho".into(), true.into());
    }
    if !p.allowed_values.is_empty() {
        let values = p.allowed_values.iter().map(|v| v.as_str().into()).collect();
        out.push_distinct("AllowedValues".into(), Json::Array(values));
    }
    if let Some(v) = &p.allowed_pattern {
        out.push_distinct("AllowedPattern".into(), v.as_str().into());
    }
    if let Some(v) = p.min_length {
        out.push_distinct("MinLength".into(), Json::Number(v.into()));
    }
    if let Some(v) = p.max_length {
        out.push_distinct("MaxLength".into(), Json::Number(v.into()));
    }
    if let Some(v) = &p.constraint_description {
        out.push_distinct("ConstraintDescription".into(), v.as_str().into());
    }
    Json::Object(out)
}

/// The same-stack resources an element depends on; dependencies on other stacks become stack
/// dependencies.
fn depends_on(
    r: &mut Resolver<'_>,
    stack: NodeId,
    element: NodeId,
    explicit: &[NodeId],
) -> BTreeSet<NodeId> {
    let app = r.app;
    // Dependencies declared at the stack or above are stack dependencies, handled once per
    // stack by `stack_level_dependencies`; here only the element and constructs inside the stack.
    let mut targets: Vec<NodeId> = explicit.to_vec();
    for ancestor in app.ancestors(element).take_while(|n| *n != stack) {
        targets.extend(app.node(ancestor).dependencies().iter().copied());
    }
    let mut out = BTreeSet::new();
    for target in targets {
        for dep in app.descendants(target) {
            if !matches!(app.node(dep).kind, NodeKind::Resource { .. }) || dep == element {
                continue;
            }
            match app.stack_of(dep) {
                Some(s) if s == stack => {
                    out.insert(dep);
                }
                Some(s) => {
                    r.fx.stack_dependencies.entry(stack).or_default().insert(s);
                }
                None => {}
            }
        }
    }
    out
}

/// Dependencies declared on the stack (or its stage or the app): the stacks that hold each
/// target (the target's own stack, or every stack below it).
fn stack_level_dependencies(r: &mut Resolver<'_>, stack: NodeId) {
    let app = r.app;
    for ancestor in app.ancestors(stack) {
        for target in app.node(ancestor).dependencies() {
            let stacks: Vec<NodeId> = match app.stack_of(*target) {
                Some(s) => vec![s],
                None => app
                    .descendants(*target)
                    .into_iter()
                    .filter(|n| app.stack_of(*n) == Some(*n))
                    .collect(),
            };
            for s in stacks.into_iter().filter(|s| *s != stack) {
                r.fx.stack_dependencies.entry(stack).or_default().insert(s);
            }
        }
    }
}

/// The parameters deploy fills from other regions' outputs, for the references this stack made
/// (only a stack's own references add to its parameters, so they are all known once it is
/// resolved; `r` holds that stack's effects).
fn add_cross_region_parameters(r: &Effects, stack: NodeId, template: &mut TemplateParts) {
    if let Some(params) = r.cross_region_params.get(&stack) {
        let section = template.parameters.get_or_insert_with(JsonObject::new);
        for (id, link) in params {
            section.insert(id.clone(), json!({
                "Type": "String",
                "Description": format!("Filled by pantri deploy from output {} of {}", link.output, link.producer),
            }).into());
        }
    }
}

/// The outputs other stacks' references read, once every stack is resolved.
fn add_generated_outputs(r: &Effects, stack: &mut RenderedStack) {
    if let Some(outputs) = r.generated_outputs.get(&stack.node) {
        let section = stack.template.outputs.get_or_insert_with(JsonObject::new);
        for (id, o) in outputs {
            let mut out = JsonObject::from_distinct(vec![
                ("Description".into(), o.description().into()),
                ("Value".into(), o.value.clone()),
            ]);
            if let Some(name) = &o.export_name {
                out.push_distinct("Export".into(), Json::single("Name", name.as_str()));
            }
            section.insert(id.clone(), Json::Object(out));
        }
    }
}

/// Every output's export name, with its stack and output id, in stack order (borrowed: at 100
/// stages there are thousands).
fn rendered_exports(stacks: &[RenderedStack]) -> Vec<(NodeId, &str, &Json)> {
    let mut out = Vec::new();
    for s in stacks {
        if let Some(outputs) = &s.template.outputs {
            for (id, o) in outputs {
                if let Some(name) = o.get("Export").and_then(|e| e.get("Name")) {
                    out.push((s.node, id.as_str(), name));
                }
            }
        }
    }
    out
}

/// The text of a file of the assembly, or a problem at `path` when serde could not write it (the
/// synthesis then fails: nothing is written, rather than an empty file).
pub(crate) fn written(
    path: &str,
    what: &str,
    text: std::result::Result<String, serde_json::Error>,
    problems: &mut Vec<Problem>,
) -> String {
    text.unwrap_or_else(|e| {
        problems.push(Problem::error(
            path,
            format!("cannot write the {what} as JSON: {e}; this is a bug in pantri or in a construct's values, please report it"),
        ));
        String::new()
    })
}
