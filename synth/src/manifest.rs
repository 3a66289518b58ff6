//! The manifest side of a synthesis: one stack artifact per stack (environment, properties,
//! dependencies, logical IDs and pantri's links per construct path) and `tree.json`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Serialize, Serializer};

use indexmap::IndexMap;
use serde_json::json;

use crate::assembly::{
    Artifact, EnvParameter, MetadataEntry, StackProperties, CROSS_REGION_METADATA,
    ENV_PARAMETER_METADATA, LOGICAL_ID_METADATA,
};
use crate::pretty::{write_str, Entries};
use crate::resolve::{Effects, Facts};
use crate::synthesize::RenderedStack;
use crate::tree::{App, NodeId, NodeKind, Parameter};

pub(crate) fn stack_artifact(
    app: &App,
    facts: &Facts,
    fx: &Effects,
    stack: &RenderedStack,
    template_file: String,
) -> Artifact {
    let info = &facts.stacks[&stack.node];
    let NodeKind::Stack(data) = &app.node(stack.node).kind else {
        crate::synthesize::unreachable_stack()
    };
    let mut tags = BTreeMap::new();
    for n in app
        .ancestors(stack.node)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        for (k, v) in app.node(n).tags() {
            tags.insert(k.clone(), v.clone());
        }
    }
    let properties = StackProperties {
        template_file,
        stack_name: info.stack_name.clone(),
        termination_protection: data.props.termination_protection,
        tags,
    };
    let mut metadata: IndexMap<String, Vec<MetadataEntry>> = IndexMap::new();
    let stack_path = format!("/{}", app.path(stack.node));
    let mut stack_entries: Vec<MetadataEntry> = Vec::new();
    if let Some(params) = fx.cross_region_params.get(&stack.node) {
        stack_entries.extend(params.values().map(|link| MetadataEntry {
            kind: CROSS_REGION_METADATA.to_owned(),
            data: json!(link),
        }));
    }
    for element in stack.edges.keys() {
        if let NodeKind::Parameter(p) = &app.node(*element).kind {
            let Parameter {
                from_env: Some(variable),
                ..
            } = &**p
            else {
                continue;
            };
            let data = EnvParameter {
                parameter: facts.logical_ids[element].clone(),
                variable: variable.clone(),
            };
            stack_entries.push(MetadataEntry {
                kind: ENV_PARAMETER_METADATA.to_owned(),
                data: json!(data),
            });
        }
    }
    stack_entries.extend(crate::asset::stack_metadata(app, facts, stack.node));
    if !stack_entries.is_empty() {
        metadata.insert(stack_path, stack_entries);
    }
    for element in stack.edges.keys() {
        metadata.insert(
            format!("/{}", app.path(*element)),
            vec![MetadataEntry {
                kind: LOGICAL_ID_METADATA.to_owned(),
                data: json!(facts.logical_ids[element]),
            }],
        );
    }
    let dependencies = fx
        .stack_dependencies
        .get(&stack.node)
        .map(|deps| {
            deps.iter()
                .filter_map(|d| facts.stacks.get(d))
                .map(|i| i.artifact_id.clone())
                .collect()
        })
        .unwrap_or_default();
    Artifact {
        kind: "aws:cloudformation:stack".to_owned(),
        environment: Some(format!("aws://{}/{}", info.account, info.region)),
        properties: serde_json::to_value(properties).ok(),
        dependencies,
        metadata,
        display_name: Some(app.path(stack.node).to_owned()),
    }
}

/// Writes into `out` the entries of `tree.json` below the root for the selected stacks (the
/// root's children that hold one, each with its subtree), serialized straight from the app, in
/// order: into `children`, opened as the root's `children` entry at the first of them. Building
/// the tree as a JSON value first, then writing and freeing that, was a sixth of the reference
/// app's synthesis.
pub(crate) fn write_tree_children(
    app: &App,
    stacks: &[NodeId],
    out: &mut Vec<u8>,
    root: &mut Entries,
    children: &mut Option<Entries>,
) -> serde_json::Result<()> {
    let selection = TreeSelection {
        app,
        included: stacks.iter().flat_map(|s| app.ancestors(*s)).collect(),
        selected: stacks.iter().copied().collect(),
    };
    let root_node = TreeNode {
        tree: &selection,
        node: app.root_id(),
        inside: false,
    };
    for child in root_node.children() {
        let children = match children {
            Some(open) => open,
            None => children.insert(root.open_entry(out, "children")?),
        };
        children.key(out, app.id(child.node))?;
        child.write(out, children.depth())?;
    }
    Ok(())
}

/// The root's `constructInfo` in `tree.json` (what follows its children).
pub(crate) fn root_construct_info(app: &App) -> impl Serialize + '_ {
    let root = app.node(app.root_id());
    ConstructInfo {
        fqn: Fqn::Named(root.construct_type.as_deref().unwrap_or("pantri.App")),
        version: env!("CARGO_PKG_VERSION"),
    }
}

struct TreeSelection<'a> {
    app: &'a App,
    /// The selected stacks and their ancestors.
    included: BTreeSet<NodeId>,
    selected: BTreeSet<NodeId>,
}

/// One node of `tree.json`. `inside`: whether the nearest stack above the node is selected
/// (then its whole subtree is in).
struct TreeNode<'a> {
    tree: &'a TreeSelection<'a>,
    node: NodeId,
    inside: bool,
}

impl<'a> TreeNode<'a> {
    fn children(&self) -> impl Iterator<Item = TreeNode<'a>> + '_ {
        let t = self.tree;
        let inside = match t.app.node(self.node).kind {
            NodeKind::Stack(_) => t.selected.contains(&self.node),
            _ => self.inside,
        };
        t.app
            .node(self.node)
            .children
            .iter()
            .filter(move |c| inside || t.included.contains(c))
            .map(move |c| TreeNode {
                tree: t,
                node: *c,
                inside,
            })
    }
}

impl TreeNode<'_> {
    /// The node's object in `tree.json`, at `depth`: `id`, `path`, `children` (when it has
    /// any), a resource's `attributes`, and `constructInfo`. Written by walking the tree (the
    /// bytes serde_json's pretty layout gives it): `tree.json` is 5 MB at 100 stages, its
    /// strings nearly all paths that need no escape.
    fn write(&self, out: &mut Vec<u8>, depth: usize) -> serde_json::Result<()> {
        let app = self.tree.app;
        let node = app.node(self.node);
        let mut object = Entries::open(out, depth + 1);
        object.key(out, "id")?;
        write_str(
            out,
            if node.parent.is_none() {
                "App"
            } else {
                node.id()
            },
        );
        object.key(out, "path")?;
        write_str(out, app.path(self.node));
        let mut children = self.children().peekable();
        if children.peek().is_some() {
            object.key(out, "children")?;
            let mut inner = Entries::open(out, depth + 2);
            for child in children {
                inner.key(out, app.id(child.node))?;
                child.write(out, inner.depth())?;
            }
            inner.close(out);
        }
        if let NodeKind::Resource { body, .. } = &node.kind {
            object.key(out, "attributes")?;
            let mut inner = Entries::open(out, depth + 2);
            inner.key(out, "aws:cdk:cloudformation:type")?;
            write_str(out, body.type_name());
            inner.close(out);
        }
        let fqn = match (&node.kind, node.construct_type.as_deref()) {
            (_, Some(t)) => Some(Fqn::Named(t)),
            (NodeKind::App, _) => Some(Fqn::Named("pantri.App")),
            (NodeKind::Stage { .. }, _) => Some(Fqn::Named("pantri.Stage")),
            (NodeKind::Stack(_), _) => Some(Fqn::Named("pantri.Stack")),
            (NodeKind::Resource { body, .. }, _) => Some(Fqn::Cfn(body.type_name())),
            _ => None,
        };
        if let Some(fqn) = fqn {
            object.key(out, "constructInfo")?;
            let mut inner = Entries::open(out, depth + 2);
            inner.key(out, "fqn")?;
            match fqn {
                Fqn::Named(name) => write_str(out, name),
                Fqn::Cfn(type_name) => {
                    write_str(out, &format!("pantri.cfn.{}", CfnPath(type_name)))
                }
            }
            inner.key(out, "version")?;
            write_str(out, env!("CARGO_PKG_VERSION"));
            inner.close(out);
        }
        object.close(out);
        Ok(())
    }
}

/// The root's `constructInfo` (its children's are written by `TreeNode::write`).
#[derive(Serialize)]
struct ConstructInfo<'a> {
    fqn: Fqn<'a>,
    version: &'static str,
}

/// A construct's type name: given, or the resource's (`AWS::EC2::VPC` is `pantri.cfn.AWS.EC2.VPC`).
enum Fqn<'a> {
    Named(&'a str),
    Cfn(&'a str),
}

impl Serialize for Fqn<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Fqn::Named(name) => s.serialize_str(name),
            Fqn::Cfn(type_name) => {
                s.collect_str(&format_args!("pantri.cfn.{}", CfnPath(type_name)))
            }
        }
    }
}

/// `AWS::EC2::VPC` as `AWS.EC2.VPC`.
struct CfnPath<'a>(&'a str);

impl std::fmt::Display for CfnPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, part) in self.0.split("::").enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(part)?;
        }
        Ok(())
    }
}
