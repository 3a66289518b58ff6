//! The manifest side of a synthesis: one stack artifact per stack (environment, properties,
//! dependencies, logical IDs and pantri's links per construct path) and `tree.json`.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde_json::{json, Map as JsonMap, Value as Json};

use crate::assembly::{
    Artifact, EnvParameter, MetadataEntry, StackProperties, CROSS_REGION_METADATA,
    ENV_PARAMETER_METADATA, LOGICAL_ID_METADATA,
};
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
        for (k, v) in &app.node(n).tags {
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
        if let NodeKind::Parameter(Parameter {
            from_env: Some(variable),
            ..
        }) = &app.node(*element).kind
        {
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

pub(crate) fn tree_json(app: &App, stacks: &[NodeId]) -> Json {
    let included: BTreeSet<NodeId> = stacks.iter().flat_map(|s| app.ancestors(*s)).collect();
    let selected: BTreeSet<NodeId> = stacks.iter().copied().collect();
    /// `inside`: whether the nearest stack above `n` is selected (then its whole subtree is in).
    fn node_json(
        app: &App,
        n: NodeId,
        included: &BTreeSet<NodeId>,
        selected: &BTreeSet<NodeId>,
        inside: bool,
    ) -> Json {
        let node = app.node(n);
        let mut out = JsonMap::new();
        out.insert(
            "id".into(),
            json!(if node.parent.is_none() {
                "App"
            } else {
                node.id.as_str()
            }),
        );
        out.insert("path".into(), json!(app.path(n)));
        let inside = match node.kind {
            NodeKind::Stack(_) => selected.contains(&n),
            _ => inside,
        };
        let children: JsonMap<String, Json> = node
            .children
            .iter()
            .filter(|c| included.contains(c) || inside)
            .map(|c| {
                let child = node_json(app, *c, included, selected, inside);
                (app.id(*c).to_owned(), child)
            })
            .collect();
        if !children.is_empty() {
            out.insert("children".into(), Json::Object(children));
        }
        if let NodeKind::Resource { body, .. } = &node.kind {
            out.insert(
                "attributes".into(),
                json!({ "aws:cdk:cloudformation:type": body.type_name() }),
            );
        }
        let fqn = match (&node.kind, &node.construct_type) {
            (_, Some(t)) => Some(t.clone()),
            (NodeKind::App, _) => Some("pantri.App".to_owned()),
            (NodeKind::Stage { .. }, _) => Some("pantri.Stage".to_owned()),
            (NodeKind::Stack(_), _) => Some("pantri.Stack".to_owned()),
            (NodeKind::Resource { body, .. }, _) => Some(format!(
                "pantri.cfn.{}",
                body.type_name().replace("::", ".")
            )),
            _ => None,
        };
        if let Some(fqn) = fqn {
            out.insert(
                "constructInfo".into(),
                json!({ "fqn": fqn, "version": env!("CARGO_PKG_VERSION") }),
            );
        }
        Json::Object(out)
    }
    json!({ "version": "tree-0.1", "tree": node_json(app, app.root_id(), &included, &selected, false) })
}
