//! The construct tree: App → Stage → Stack → constructs → elements.
//!
//! Nodes live in one arena owned by [`App`] and are named by [`NodeId`]. Construct code works
//! through a [`Scope`] (a node plus mutable access to the app), so a construct is a function of a
//! scope, an id and props. Problems found while the tree is built (a bad id, a stack outside a
//! stage) are recorded with the node's path and reported together at synth time, so one run shows
//! every mistake.

mod arena;

use indexmap::IndexMap;

use crate::error::{Problem, Severity};
use crate::resource::{CfnResource, Res, ResourceBody, ResourceOptions};
use crate::scope::Scope;
use crate::value::{Str, ToValue, Typed, Value};
use arena::Arena;

/// A node of an app: which shard of its arena, and where in it (see `tree/arena.rs`). Ids
/// sort in the order their nodes were added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

/// Where a stack deploys: an AWS account and region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Environment {
    /// The 12-digit account id.
    pub account: String,
    /// The region, for example `eu-west-1`.
    pub region: String,
}

impl Environment {
    /// An environment from account and region.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Environment {
            account: account.into(),
            region: region.into(),
        }
    }

    /// The cloud-assembly form, `aws://ACCOUNT/REGION`.
    pub fn uri(&self) -> String {
        format!("aws://{}/{}", self.account, self.region)
    }
}

/// Settings of a stack.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackProps {
    /// The CloudFormation stack name; defaults to `<stage>-<id>`.
    pub stack_name: Option<String>,
    /// The environment; defaults to the stage's.
    pub env: Option<Environment>,
    /// The template's `Description`.
    pub description: Option<String>,
    /// Whether CloudFormation refuses to delete the stack.
    pub termination_protection: bool,
}

/// A CloudFormation parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// `Type`, for example `String`, `Number`, `AWS::EC2::VPC::Id`.
    pub type_: String,
    /// `Default`.
    pub default: Option<Value>,
    /// `Description`.
    pub description: Option<String>,
    /// `NoEcho`: the value is masked in the console and API.
    pub no_echo: bool,
    /// `AllowedValues`.
    pub allowed_values: Vec<String>,
    /// `AllowedPattern`.
    pub allowed_pattern: Option<String>,
    /// `MinLength`.
    pub min_length: Option<u32>,
    /// `MaxLength`.
    pub max_length: Option<u32>,
    /// `ConstraintDescription`.
    pub constraint_description: Option<String>,
    /// An environment variable `pantri deploy` fills the parameter from (for secrets such as an
    /// API key: the value never lands in `cdk.out`). Recorded in the manifest.
    pub from_env: Option<String>,
}

impl Parameter {
    /// A `String` parameter.
    pub fn string() -> Self {
        Parameter {
            type_: "String".to_owned(),
            default: None,
            description: None,
            no_echo: false,
            allowed_values: Vec::new(),
            allowed_pattern: None,
            min_length: None,
            max_length: None,
            constraint_description: None,
            from_env: None,
        }
    }

    /// Sets the default.
    pub fn default_value(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Masks the value.
    pub fn no_echo(mut self) -> Self {
        self.no_echo = true;
        self
    }

    /// Makes `pantri deploy` fill the parameter from an environment variable.
    pub fn from_env(mut self, variable: impl Into<String>) -> Self {
        self.from_env = Some(variable.into());
        self
    }
}

/// A stack output.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// `Value`.
    pub value: Value,
    /// `Description`.
    pub description: Option<String>,
    /// `Export.Name`, to make the value importable by other stacks.
    pub export_name: Option<Str>,
    /// `Condition`.
    pub condition: Option<ConditionRef>,
}

impl Output {
    /// An output of a value.
    pub fn new(value: impl ToValue) -> Self {
        Output {
            value: value.to_value(),
            description: None,
            export_name: None,
            condition: None,
        }
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Exports the value under a name.
    pub fn export(mut self, name: impl Into<Str>) -> Self {
        self.export_name = Some(name.into());
        self
    }
}

macro_rules! element_handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(pub(crate) NodeId);
        impl $name {
            /// The tree node.
            pub fn node(self) -> NodeId {
                self.0
            }
        }
        impl From<$name> for NodeId {
            fn from(h: $name) -> NodeId {
                h.0
            }
        }
    };
}

element_handle!(
    /// A handle to a parameter.
    ParamRef
);
element_handle!(
    /// A handle to a condition.
    ConditionRef
);
element_handle!(
    /// A handle to a mapping.
    MappingRef
);
element_handle!(
    /// A handle to an output.
    OutputRef
);

impl ParamRef {
    /// `Ref` of the parameter, typed by the caller (`Str` for `String` parameters).
    pub fn value<T: Typed>(self) -> T {
        crate::fns::ref_node(self.0)
    }
}

/// What a node is.
#[derive(Debug)]
pub(crate) enum NodeKind {
    App,
    Stage {
        env: Environment,
    },
    Stack(StackData),
    Construct,
    Resource {
        body: Box<dyn ResourceBody>,
        options: ResourceOptions,
    },
    // Boxed: the largest variants, rare against resources and constructs (a node is smaller).
    Parameter(Box<Parameter>),
    Output(Output),
    Condition(Value),
    Mapping(Box<IndexMap<String, IndexMap<String, Value>>>),
}

#[derive(Debug)]
pub(crate) struct StackData {
    pub props: StackProps,
    /// `(old, new)` logical ID renames.
    pub renames: Vec<(String, String)>,
}

/// A node of the tree. Kept small (the arena holds one per construct, resource and element, and
/// the memory synthesis touches is time): the id is the end of the path, and what few nodes have
/// is behind one box.
#[derive(Debug)]
pub(crate) struct Node {
    /// The path from the root, built once when the node is added: synthesis names every
    /// resource, metadata entry and problem by it. The node's id is its end, from `id_at`.
    pub path: String,
    id_at: u32,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
    pub kind: NodeKind,
    /// The construct's type, for tree.json (`pantri.SecureNetwork`).
    pub construct_type: Option<Box<str>>,
    more: Option<Box<NodeMore>>,
}

/// What few nodes have.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct NodeMore {
    /// Tags applied at this node, for every taggable resource of its subtree.
    pub tags: Vec<(String, String)>,
    /// Construct-level dependencies: everything under this node depends on everything under each.
    pub dependencies: Vec<NodeId>,
    pub logical_id_override: Option<String>,
}

// The arena holds a node per construct, resource and element (at 1,000 stages, 150,000 of them).
const _: () = assert!(std::mem::size_of::<Node>() <= 224);

impl Node {
    /// A node at `path` whose id is `path`'s end from byte `id_at`.
    pub(crate) fn new(path: String, id_at: usize, parent: Option<NodeId>, kind: NodeKind) -> Node {
        Node {
            id_at: u32::try_from(id_at).unwrap_or_else(|_| path_too_long(&path)),
            path,
            parent,
            children: Vec::new(),
            kind,
            construct_type: None,
            more: None,
        }
    }

    /// The node's id: the last component of its path.
    pub(crate) fn id(&self) -> &str {
        self.path.get(self.id_at as usize..).unwrap_or_default()
    }

    pub(crate) fn tags(&self) -> &[(String, String)] {
        self.more.as_ref().map_or(&[], |m| &m.tags)
    }

    pub(crate) fn dependencies(&self) -> &[NodeId] {
        self.more.as_ref().map_or(&[], |m| &m.dependencies)
    }

    pub(crate) fn logical_id_override(&self) -> Option<&str> {
        self.more.as_ref()?.logical_id_override.as_deref()
    }

    pub(crate) fn more(&self) -> Option<&NodeMore> {
        self.more.as_deref()
    }

    pub(crate) fn more_mut(&mut self) -> &mut NodeMore {
        self.more.get_or_insert_with(Box::default)
    }

    pub(crate) fn set_more(&mut self, more: Option<NodeMore>) {
        self.more = more.map(Box::new);
    }
}

#[cold]
fn path_too_long(path: &str) -> ! {
    panic!(
        "a construct path of {} bytes: paths are limited to 4 GB",
        path.len()
    )
}

/// The root of a construct tree and the arena of its nodes.
#[derive(Debug)]
pub struct App {
    nodes: Arena,
    pub(crate) problems: Vec<Problem>,
    /// Assets declared by constructs, hashed and written at synthesis.
    pub(crate) assets: Vec<crate::asset::AssetDecl>,
    /// Parts built only when the app is synthesized ([`App::defer_in_parallel`]).
    deferred: Vec<Box<dyn arena::DeferredPart>>,
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

impl App {
    /// An empty app.
    pub fn new() -> Self {
        App {
            nodes: Arena::with_root(Node::new(String::new(), 0, None, NodeKind::App)),
            problems: Vec::new(),
            assets: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// The root node.
    pub fn root_id(&self) -> NodeId {
        NodeId(0)
    }

    /// A scope at the root, to add stages to.
    pub fn root(&mut self) -> Scope<'_> {
        Scope::new(self, NodeId(0))
    }

    /// A scope at any node.
    pub fn scope(&mut self, node: impl Into<NodeId>) -> Scope<'_> {
        Scope::new(self, node.into())
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(id).unwrap_or_else(|| unknown_node(id))
    }

    pub(crate) fn node_mut(&mut self, id: NodeId) -> &mut Node {
        self.nodes.get_mut(id).unwrap_or_else(|| unknown_node(id))
    }

    /// The node's path from the root, ids joined with `/` (the root's path is empty).
    pub fn path(&self, id: NodeId) -> &str {
        &self.node(id).path
    }

    /// The node's id (its last path component).
    pub fn id(&self, node: NodeId) -> &str {
        self.node(node).id()
    }

    /// The children of a node, in the order they were added.
    pub fn children(&self, node: NodeId) -> &[NodeId] {
        &self.node(node).children
    }

    /// The parent of a node (None for the root).
    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        self.node(node).parent
    }

    /// The stack a node belongs to (the node itself for a stack).
    pub fn stack_of(&self, node: NodeId) -> Option<NodeId> {
        self.ancestors(node)
            .find(|n| matches!(self.node(*n).kind, NodeKind::Stack(_)))
    }

    /// The stage a node belongs to (the node itself for a stage).
    pub fn stage_of(&self, node: NodeId) -> Option<NodeId> {
        self.ancestors(node)
            .find(|n| matches!(self.node(*n).kind, NodeKind::Stage { .. }))
    }

    /// The node and its ancestors up to the root.
    pub fn ancestors(&self, node: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(Some(node), move |n| self.node(*n).parent)
    }

    /// The ids from below `ancestor` down to `node` (the path a logical ID is made of).
    pub fn components_below(&self, ancestor: NodeId, node: NodeId) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .ancestors(node)
            .take_while(|n| *n != ancestor)
            .map(|n| self.id(n))
            .collect();
        out.reverse();
        out
    }

    /// The node and its whole subtree, depth first in insertion order.
    pub fn descendants(&self, node: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(self.node(n).children.iter().rev());
        }
        out
    }

    /// True for the app, a stage or a stack: nodes whose tags are stack tags.
    pub fn is_stack_or_above(&self, node: NodeId) -> bool {
        matches!(
            self.node(node).kind,
            NodeKind::App | NodeKind::Stage { .. } | NodeKind::Stack(_)
        )
    }

    /// The stages, in order.
    pub fn stages(&self) -> Vec<NodeId> {
        self.descendants(self.root_id())
            .into_iter()
            .filter(|n| matches!(self.node(*n).kind, NodeKind::Stage { .. }))
            .collect()
    }

    /// The stacks, in tree order.
    pub fn stacks(&self) -> Vec<NodeId> {
        self.descendants(self.root_id())
            .into_iter()
            .filter(|n| matches!(self.node(*n).kind, NodeKind::Stack(_)))
            .collect()
    }

    /// The environment of a stack (its own, else its stage's).
    pub fn env_of(&self, node: NodeId) -> Option<&Environment> {
        for n in self.ancestors(node) {
            match &self.node(n).kind {
                NodeKind::Stack(s) if s.props.env.is_some() => return s.props.env.as_ref(),
                NodeKind::Stage { env } => return Some(env),
                _ => {}
            }
        }
        None
    }

    /// The typed props of a resource, for reading.
    pub fn get<T: CfnResource>(&self, r: Res<T>) -> Option<&T> {
        match &self.nodes.get(r.node())?.kind {
            NodeKind::Resource { body, .. } => body.as_any().downcast_ref::<T>(),
            _ => None,
        }
    }

    /// The typed props of a resource, for changing after creation (the escape hatch).
    pub fn get_mut<T: CfnResource>(&mut self, r: Res<T>) -> Option<&mut T> {
        match &mut self.nodes.get_mut(r.node())?.kind {
            NodeKind::Resource { body, .. } => body.as_any_mut().downcast_mut::<T>(),
            _ => None,
        }
    }

    /// The child `id` of `parent` when it is a resource of type `T`: how a construct finds what
    /// an earlier call added (a role's default policy, for grants).
    pub fn child_resource<T: CfnResource>(&self, parent: NodeId, id: &str) -> Option<Res<T>> {
        let child = self
            .children(parent)
            .iter()
            .copied()
            .find(|c| self.id(*c) == id)?;
        let res = Res::new(child);
        self.get(res).map(|_| res)
    }

    /// The template attributes (DependsOn, policies, ...) of a resource.
    pub fn options_mut(&mut self, resource: impl Into<NodeId>) -> Option<&mut ResourceOptions> {
        match &mut self.nodes.get_mut(resource.into())?.kind {
            NodeKind::Resource { options, .. } => Some(options),
            _ => None,
        }
    }

    /// The CloudFormation type of a resource node.
    pub fn resource_type(&self, node: NodeId) -> Option<&str> {
        match &self.node(node).kind {
            NodeKind::Resource { body, .. } => Some(body.type_name()),
            _ => None,
        }
    }

    /// Forces the logical ID of an element. An override on a node that is not an element is an error.
    pub fn override_logical_id(&mut self, element: impl Into<NodeId>, logical_id: &str) {
        self.node_mut(element.into()).more_mut().logical_id_override = Some(logical_id.to_owned());
    }

    /// Renames a logical ID of a stack (after it is computed): keeps an old ID through a refactor.
    /// A rename whose old ID no element of the stack has is an error.
    pub fn rename_logical_id(&mut self, stack: NodeId, old: &str, new: &str) {
        let path = self.path(stack).to_owned();
        match &mut self.node_mut(stack).kind {
            NodeKind::Stack(s) => s.renames.push((old.to_owned(), new.to_owned())),
            _ => self
                .problems
                .push(Problem::error(path, "rename_logical_id needs a stack node")),
        }
    }

    /// Makes everything under `from` depend on everything under `on`: DependsOn inside a stack, a
    /// stack dependency across stacks.
    pub fn add_dependency(&mut self, from: impl Into<NodeId>, on: impl Into<NodeId>) {
        let on = on.into();
        self.node_mut(from.into()).more_mut().dependencies.push(on);
    }

    /// Applies a tag to every taggable resource under `node`. At a stack or above it is a stack
    /// tag (in the manifest; CloudFormation propagates it to the stack's resources).
    pub fn tag(&mut self, node: impl Into<NodeId>, key: &str, value: &str) {
        let tags = &mut self.node_mut(node.into()).more_mut().tags;
        tags.retain(|(k, _)| k != key);
        tags.push((key.to_owned(), value.to_owned()));
    }

    /// Problems recorded while the tree was built.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Records a problem at a node's path.
    pub fn report(&mut self, node: NodeId, severity: Severity, message: impl Into<String>) {
        let path = self.path(node).to_owned();
        self.problems.push(Problem {
            severity,
            path,
            message: message.into(),
        });
    }

    pub(crate) fn add_node(&mut self, parent: NodeId, id: &str, kind: NodeKind) -> NodeId {
        let parent_path = self.path(parent).to_owned();
        let shown = if parent_path.is_empty() {
            id.to_owned()
        } else {
            format!("{parent_path}/{id}")
        };
        if id.is_empty() {
            self.problems.push(Problem::error(
                parent_path,
                "a construct id is empty: give every construct a non-empty id",
            ));
        } else if id.contains('/') {
            self.problems.push(Problem::error(
                shown.clone(),
                format!(
                    "construct id {id:?} contains '/', the path separator: use another character"
                ),
            ));
        } else if self
            .node(parent)
            .children
            .iter()
            .any(|c| self.node(*c).id() == id)
        {
            self.problems.push(Problem::error(
                shown.clone(),
                format!("duplicate construct id {id:?}: siblings need distinct ids"),
            ));
        }
        let id_at = shown.len() - id.len();
        let node = self.nodes.push(Node::new(shown, id_at, Some(parent), kind));
        self.node_mut(parent).children.push(node);
        node
    }
}

/// A node id from another app (or from before [`App::build_in_parallel`], inside it).
#[cold]
fn unknown_node(id: NodeId) -> ! {
    panic!("{id:?} is not a node of this app: a NodeId is only valid in the App that added it")
}
