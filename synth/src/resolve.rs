//! Resolving values into template JSON: references become logical IDs, and a reference to an
//! element of another stack becomes an export/import (same region) or an output plus a parameter
//! that deploy fills (another region of the same account).

use crate::value::FastMap;
use std::collections::{BTreeMap, BTreeSet};

use crate::json::{JsonObject, JsonValue as Json};
use indexmap::IndexMap;

use crate::assembly::CrossRegionLink;
use crate::error::Problem;
use crate::tree::{App, NodeId, NodeKind};
use crate::value::{Intrinsic, Value};

/// What the resolver knows of each stack.
#[derive(Clone, Debug)]
pub(crate) struct StackInfo {
    pub artifact_id: String,
    pub stack_name: String,
    pub account: String,
    pub region: String,
    /// The stack's assets: indexes into the app's, in the order they were declared (found in
    /// one pass over the assets, not one per stack).
    pub assets: Vec<usize>,
}

/// An output that a producing stack gets because another stack refers to one of its elements.
#[derive(Clone, Debug)]
pub(crate) struct GeneratedOutput {
    pub value: Json,
    pub export_name: Option<String>,
    /// The consuming stacks (name, region), for the description.
    pub consumers: BTreeSet<(String, String)>,
}

impl GeneratedOutput {
    /// Says who reads the output, so a reviewer knows why it exists.
    pub fn description(&self) -> String {
        let names: Vec<String> = match self.export_name {
            Some(_) => self.consumers.iter().map(|(n, _)| n.clone()).collect(),
            None => self
                .consumers
                .iter()
                .map(|(n, r)| format!("{n} ({r})"))
                .collect(),
        };
        match self.export_name {
            Some(_) => format!("Exported for {}", names.join(", ")),
            None => format!("Read by pantri deploy for {}", names.join(", ")),
        }
    }
}

/// What is known of every stack before any is rendered: logical IDs and stack facts. Rendering
/// reads it from every thread.
#[derive(Default)]
pub(crate) struct Facts {
    pub logical_ids: FastMap<NodeId, String>,
    pub stacks: FastMap<NodeId, StackInfo>,
}

/// What rendering stacks adds beyond their own templates: problems, the outputs producers get
/// because consumers refer to them, cross-region parameters and stack dependencies. Each stack
/// collects its own; they are merged in stack order, and every map is ordered, so the result is
/// the same whatever order the stacks were rendered in.
#[derive(Default)]
pub(crate) struct Effects {
    pub problems: Vec<Problem>,
    /// Producer stack → output logical ID → output.
    pub generated_outputs: BTreeMap<NodeId, BTreeMap<String, GeneratedOutput>>,
    /// Consumer stack → parameter logical ID → link.
    pub cross_region_params: BTreeMap<NodeId, BTreeMap<String, CrossRegionLink>>,
    /// Consumer stack → producer stacks.
    pub stack_dependencies: BTreeMap<NodeId, BTreeSet<NodeId>>,
}

impl Effects {
    /// Adds what another stack's rendering found.
    pub fn merge(&mut self, other: Effects) {
        self.problems.extend(other.problems);
        for (producer, outputs) in other.generated_outputs {
            let mine = self.generated_outputs.entry(producer).or_default();
            for (id, output) in outputs {
                match mine.entry(id) {
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(output);
                    }
                    std::collections::btree_map::Entry::Occupied(mut o) => {
                        o.get_mut().consumers.extend(output.consumers);
                    }
                }
            }
        }
        for (consumer, params) in other.cross_region_params {
            self.cross_region_params
                .entry(consumer)
                .or_default()
                .extend(params);
        }
        for (consumer, producers) in other.stack_dependencies {
            self.stack_dependencies
                .entry(consumer)
                .or_default()
                .extend(producers);
        }
    }
}

/// Resolves the values of one stack: reads the shared facts, records its effects.
pub(crate) struct Resolver<'a> {
    pub app: &'a App,
    pub facts: &'a Facts,
    pub fx: Effects,
}

/// Where a value is being resolved: the stack and the element (for error paths), and the
/// same-stack elements it refers to (for DependsOn cycle detection).
pub(crate) struct Site {
    pub stack: NodeId,
    pub element: NodeId,
    pub refs: Vec<NodeId>,
}

impl<'a> Resolver<'a> {
    pub fn new(app: &'a App, facts: &'a Facts) -> Self {
        Resolver {
            app,
            facts,
            fx: Effects::default(),
        }
    }

    fn error(&mut self, site: &Site, message: String) {
        let path = self.app.path(site.element);
        self.fx.problems.push(Problem::error(path, message));
    }

    /// The value as template JSON. `AWS::NoValue` stays a `Ref`, as CloudFormation expects.
    /// Takes the value: its strings and keys move into the JSON instead of being copied (the
    /// properties are a tree built for this one call, and copying it again was a tenth of
    /// synthesis).
    pub fn resolve(&mut self, value: Value, site: &mut Site) -> Json {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Number(n),
            Value::String(s) => Json::String(s),
            Value::List(items) => {
                Json::Array(items.into_iter().map(|v| self.resolve(v, site)).collect())
            }
            // A map's keys are distinct: no key is compared (nor hashed).
            Value::Map(m) => Json::Object(JsonObject::from_distinct(
                m.into_iter()
                    .map(|(k, v)| (k, self.resolve(v, site)))
                    .collect(),
            )),
            Value::Intrinsic(i) => self.resolve_intrinsic(*i, site),
        }
    }

    fn resolve_intrinsic(&mut self, i: Intrinsic, site: &mut Site) -> Json {
        use Intrinsic::*;
        match i {
            Ref(node) => self.reference(node, None, site),
            GetAtt(node, attr) => self.reference(node, Some(&attr), site),
            Pseudo(p) => Json::single("Ref", p.name()),
            Sub(template, vars) if vars.is_empty() => Json::single("Fn::Sub", template),
            Sub(template, vars) => {
                let vars = JsonObject::from_distinct(
                    vars.into_iter()
                        .map(|(k, v)| (k, self.resolve(v, site)))
                        .collect(),
                );
                Json::single("Fn::Sub", vec![template.into(), vars.into()])
            }
            Join(delim, items) => {
                Json::single("Fn::Join", vec![delim.into(), self.resolve(items, site)])
            }
            Select(index, list) => Json::single(
                "Fn::Select",
                vec![self.resolve(index, site), self.resolve(list, site)],
            ),
            Split(delim, source) => {
                Json::single("Fn::Split", vec![delim.into(), self.resolve(source, site)])
            }
            GetAzs(region) => Json::single("Fn::GetAZs", self.resolve(region, site)),
            ImportValue(name) => Json::single("Fn::ImportValue", self.resolve(name, site)),
            If(cond, a, b) => {
                let name = self.local_element(cond, "condition", site);
                Json::single(
                    "Fn::If",
                    vec![name, self.resolve(a, site), self.resolve(b, site)],
                )
            }
            Base64(v) => Json::single("Fn::Base64", self.resolve(v, site)),
            Cidr(block, count, bits) => Json::single(
                "Fn::Cidr",
                vec![
                    self.resolve(block, site),
                    self.resolve(count, site),
                    self.resolve(bits, site),
                ],
            ),
            FindInMap(mapping, top, second) => {
                let name = self.local_element(mapping, "mapping", site);
                Json::single(
                    "Fn::FindInMap",
                    vec![name, self.resolve(top, site), self.resolve(second, site)],
                )
            }
            Equals(a, b) => Json::single(
                "Fn::Equals",
                vec![self.resolve(a, site), self.resolve(b, site)],
            ),
            And(vs) => Json::single("Fn::And", self.resolve_all(vs, site)),
            Or(vs) => Json::single("Fn::Or", self.resolve_all(vs, site)),
            Not(v) => Json::single("Fn::Not", vec![self.resolve(v, site)]),
            Condition(cond) => {
                let name = self.local_element(cond, "condition", site);
                Json::single("Condition", name)
            }
            DynamicRef(s) => Json::String(s),
        }
    }

    fn resolve_all(&mut self, values: Vec<Value>, site: &mut Site) -> Vec<Json> {
        values.into_iter().map(|v| self.resolve(v, site)).collect()
    }

    /// The logical ID of a condition or mapping, which must be in the same stack.
    fn local_element(&mut self, node: NodeId, what: &str, site: &mut Site) -> Json {
        let kind_ok = match &self.app.node(node).kind {
            NodeKind::Condition(_) => what == "condition",
            NodeKind::Mapping(_) => what == "mapping",
            _ => false,
        };
        let target = self.app.path(node);
        if !kind_ok {
            self.error(
                site,
                format!("refers to {target} as a {what}, but it is not one"),
            );
            return Json::Null;
        }
        if self.app.stack_of(node) != Some(site.stack) {
            self.error(site, format!("uses {what} {target} of another stack: conditions and mappings are local to a stack; define one in this stack"));
            return Json::Null;
        }
        site.refs.push(node);
        Json::String(
            self.facts
                .logical_ids
                .get(&node)
                .cloned()
                .unwrap_or_default(),
        )
    }

    /// `Ref` (attr None) or `Fn::GetAtt` of a resource or parameter, across stacks if need be.
    fn reference(&mut self, node: NodeId, attr: Option<&String>, site: &mut Site) -> Json {
        let target = self.app.path(node);
        match (&self.app.node(node).kind, attr) {
            (NodeKind::Resource { body, .. }, Some(attr)) => {
                if let Some(spec) = crate::spec::lookup(body.type_name()) {
                    if !spec.has_attribute(attr) {
                        let known = spec.attributes.join(", ");
                        let type_name = body.type_name().to_owned();
                        self.error(site, format!(
                            "Fn::GetAtt of unknown attribute {attr:?} of {target} ({type_name}); it has: {known}"
                        ));
                    }
                }
            }
            (NodeKind::Resource { .. }, None) | (NodeKind::Parameter(_), None) => {}
            (NodeKind::Parameter(_), Some(_)) => {
                self.error(site, format!("Fn::GetAtt of parameter {target}: parameters have no attributes; use its value"));
                return Json::Null;
            }
            _ => {
                let what = if attr.is_some() { "Fn::GetAtt" } else { "Ref" };
                self.error(
                    site,
                    format!("{what} to {target}, which is not a resource or parameter"),
                );
                return Json::Null;
            }
        }
        let Some(producer) = self.app.stack_of(node) else {
            self.error(site, format!("refers to {target}, which is not in a stack"));
            return Json::Null;
        };
        let lid = self
            .facts
            .logical_ids
            .get(&node)
            .cloned()
            .unwrap_or_default();
        let local = match attr {
            None => Json::single("Ref", lid.as_str()),
            Some(a) => Json::single("Fn::GetAtt", vec![lid.as_str().into(), a.as_str().into()]),
        };
        if producer == site.stack {
            site.refs.push(node);
            return local;
        }
        if matches!(self.app.node(node).kind, NodeKind::Parameter(_)) {
            self.error(site, format!("refers to parameter {target} of another stack: give this stack its own parameter"));
            return Json::Null;
        }
        self.cross_stack(producer, node, &lid, attr, local, site)
    }

    fn cross_stack(
        &mut self,
        producer: NodeId,
        node: NodeId,
        lid: &str,
        attr: Option<&String>,
        local: Json,
        site: &mut Site,
    ) -> Json {
        let consumer = site.stack;
        let target = self.app.path(node);
        if self.app.stage_of(producer) != self.app.stage_of(consumer) {
            self.error(site, format!(
                "refers to {target} of another stage: stages deploy independently; pass the value through stage settings"
            ));
            return Json::Null;
        }
        let (Some(p), Some(c)) = (
            self.facts.stacks.get(&producer),
            self.facts.stacks.get(&consumer),
        ) else {
            return Json::Null;
        };
        if p.account != c.account {
            self.error(site, format!(
                "refers to {target} in account {} from account {}: cross-account references are not supported; \
                 publish the value (an SSM parameter or a stage setting) and read it in this stack",
                p.account, c.account
            ));
            return Json::Null;
        }
        self.fx
            .stack_dependencies
            .entry(consumer)
            .or_default()
            .insert(producer);
        let suffix: String = match attr {
            None => format!("Ref{lid}"),
            Some(a) => format!("FnGetAtt{lid}{}", a.replace('.', "")),
        };
        if p.region == c.region {
            let output_id = truncate(format!("ExportsOutput{suffix}"));
            let export_name = format!("{}:{output_id}", p.stack_name);
            self.fx
                .generated_outputs
                .entry(producer)
                .or_default()
                .entry(output_id)
                .or_insert_with(|| GeneratedOutput {
                    value: local,
                    export_name: Some(export_name.clone()),
                    consumers: BTreeSet::new(),
                })
                .consumers
                .insert((c.stack_name.clone(), c.region.clone()));
            Json::single("Fn::ImportValue", export_name)
        } else {
            let output_id = truncate(format!("CrossRegion{suffix}"));
            self.fx
                .generated_outputs
                .entry(producer)
                .or_default()
                .entry(output_id.clone())
                .or_insert_with(|| GeneratedOutput {
                    value: local,
                    export_name: None,
                    consumers: BTreeSet::new(),
                })
                .consumers
                .insert((c.stack_name.clone(), c.region.clone()));
            self.fx
                .cross_region_params
                .entry(consumer)
                .or_default()
                .insert(
                    output_id.clone(),
                    CrossRegionLink {
                        parameter: output_id.clone(),
                        producer: p.artifact_id.clone(),
                        output: output_id.clone(),
                    },
                );
            Json::single("Ref", output_id)
        }
    }
}

fn truncate(mut id: String) -> String {
    id.truncate(255);
    id
}

/// Resolves a map of values, keeping order.
pub(crate) fn resolve_map(
    r: &mut Resolver<'_>,
    map: &IndexMap<String, Value>,
    site: &mut Site,
) -> Json {
    Json::Object(JsonObject::from_distinct(
        map.iter()
            .map(|(k, v)| (k.clone(), r.resolve(v.clone(), site)))
            .collect(),
    ))
}
