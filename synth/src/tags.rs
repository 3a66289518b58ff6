//! Tags applied to a subtree reach every taggable resource below it, in the form the resource
//! type takes (a Key/Value list or a map), as the resource schema says.

use std::collections::BTreeMap;

use crate::spec::{self, TagForm};
use crate::tree::{App, NodeId};
use crate::value::Value;

/// The tags a resource carries in its template: applied at it or at a construct between it and its
/// stack, the nearest winning.
///
/// Tags applied at the app, a stage or a stack are stack tags: they go into the manifest, deploy
/// passes them with the change set, and CloudFormation propagates them to every resource that
/// supports tags. Copying them into every resource as well would make each template repeat them
/// and turn a changed stage tag into a change of every resource.
pub fn inherited_tags(app: &App, node: NodeId) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let chain: Vec<NodeId> = app
        .ancestors(node)
        .take_while(|n| !app.is_stack_or_above(*n))
        .collect();
    for n in chain.into_iter().rev() {
        for (k, v) in app.node(n).tags() {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Merges the inherited tags into a resource's properties. Tags set on the resource itself win.
pub(crate) fn apply_inherited_tags(app: &App, node: NodeId, type_name: &str, props: &mut Value) {
    let Some(tagging) = spec::lookup(type_name).and_then(|s| s.tagging) else {
        return;
    };
    let tags = inherited_tags(app, node);
    if tags.is_empty() {
        return;
    }
    let Value::Map(props) = props else { return };
    let slot = props.entry(tagging.property.to_owned());
    match tagging.form {
        TagForm::List => {
            let slot = slot.or_insert_with(|| Value::List(Vec::new()));
            let Value::List(items) = slot else { return };
            let explicit: Vec<String> = items
                .iter()
                .filter_map(|t| match t {
                    Value::Map(m) => m.get("Key").and_then(Value::as_str).map(str::to_owned),
                    _ => None,
                })
                .collect();
            let mut merged: Vec<(String, Value)> = tags
                .into_iter()
                .filter(|(k, _)| !explicit.contains(k))
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Value::map([("Key", Value::from(k)), ("Value", Value::from(v))]),
                    )
                })
                .collect();
            merged.extend(items.drain(..).map(|t| {
                let key = match &t {
                    Value::Map(m) => m
                        .get("Key")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    _ => String::new(),
                };
                (key, t)
            }));
            merged.sort_by(|a, b| a.0.cmp(&b.0));
            *items = merged.into_iter().map(|(_, t)| t).collect();
        }
        TagForm::Map => {
            let slot = slot.or_insert_with(|| Value::Map(Box::default()));
            let Value::Map(map) = slot else { return };
            for (k, v) in tags {
                map.entry(k).or_insert(Value::String(v));
            }
            map.sort_keys();
        }
    }
}
