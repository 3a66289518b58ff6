//! [`Scope`]: where construct code adds to the tree. A scope is a node plus mutable access to the
//! app, so a construct is a function of a scope, an id and props.

use indexmap::IndexMap;

use crate::error::{Problem, Severity};
use crate::resource::{CfnResource, Res, ResourceOptions};
use crate::tree::{
    App, ConditionRef, Environment, MappingRef, NodeId, NodeKind, Output, OutputRef, ParamRef,
    Parameter, StackData, StackProps,
};
use crate::value::{Bool, Value};

/// A place in the tree to add constructs to: a node plus mutable access to the app.
#[derive(Debug)]
pub struct Scope<'a> {
    app: &'a mut App,
    node: NodeId,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(app: &'a mut App, node: NodeId) -> Self {
        Scope { app, node }
    }

    /// The node this scope adds to.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The app.
    pub fn app(&mut self) -> &mut App {
        self.app
    }

    /// The app, for reading.
    pub fn app_ref(&self) -> &App {
        self.app
    }

    /// The node's path.
    pub fn path(&self) -> String {
        self.app.path(self.node).to_owned()
    }

    /// The environment of the enclosing stack or stage.
    pub fn env(&self) -> Option<&Environment> {
        self.app.env_of(self.node)
    }

    /// The enclosing stack.
    pub fn enclosing_stack(&self) -> Option<NodeId> {
        self.app.stack_of(self.node)
    }

    /// A scope at another node of the same app.
    pub fn at(&mut self, node: impl Into<NodeId>) -> Scope<'_> {
        Scope {
            app: self.app,
            node: node.into(),
        }
    }

    /// A plain construct node under this one.
    pub fn child(&mut self, id: &str) -> Scope<'_> {
        let node = self.app.add_node(self.node, id, NodeKind::Construct);
        Scope {
            app: self.app,
            node,
        }
    }

    /// A construct node under this one that records its type (`pantri.SecureNetwork`) in tree.json.
    pub fn construct(&mut self, id: &str, type_name: &str) -> Scope<'_> {
        let node = self.app.add_node(self.node, id, NodeKind::Construct);
        self.app.node_mut(node).construct_type = Some(type_name.into());
        Scope {
            app: self.app,
            node,
        }
    }

    /// A stage under the app: an environment and the stacks deployed to it.
    pub fn stage(&mut self, id: &str, env: Environment) -> Scope<'_> {
        if !matches!(self.app.node(self.node).kind, NodeKind::App) {
            let path = self.path();
            self.app
                .problems
                .push(Problem::error(path, "a stage can only be added to the app"));
        }
        let node = self.app.add_node(self.node, id, NodeKind::Stage { env });
        Scope {
            app: self.app,
            node,
        }
    }

    /// A stack under a stage (or under the app, with an environment of its own).
    pub fn stack(&mut self, id: &str, props: StackProps) -> Scope<'_> {
        let parent_ok = match &self.app.node(self.node).kind {
            NodeKind::Stage { .. } => true,
            NodeKind::App => props.env.is_some(),
            _ => false,
        };
        if !parent_ok {
            let path = self.path();
            self.app.problems.push(Problem::error(
                path,
                format!(
                    "stack {id:?} must be added to a stage (or to the app with an environment)"
                ),
            ));
        }
        let data = StackData {
            props,
            renames: Vec::new(),
        };
        let node = self.app.add_node(self.node, id, NodeKind::Stack(data));
        Scope {
            app: self.app,
            node,
        }
    }

    fn element(&mut self, id: &str, kind: NodeKind) -> NodeId {
        if self.app.stack_of(self.node).is_none() {
            let path = self.path();
            self.app.problems.push(Problem::error(
                format!("{path}/{id}"),
                "a CloudFormation element must be inside a stack: add it under a stack scope",
            ));
        }
        self.app.add_node(self.node, id, kind)
    }

    /// Adds a resource.
    pub fn resource<T: CfnResource>(&mut self, id: &str, props: T) -> Res<T> {
        let kind = NodeKind::Resource {
            body: Box::new(props),
            options: ResourceOptions::default(),
        };
        Res::new(self.element(id, kind))
    }

    /// Adds a resource with template attributes.
    pub fn resource_with<T: CfnResource>(
        &mut self,
        id: &str,
        props: T,
        options: ResourceOptions,
    ) -> Res<T> {
        let kind = NodeKind::Resource {
            body: Box::new(props),
            options,
        };
        Res::new(self.element(id, kind))
    }

    /// Adds a resource of a type without a generated struct: its type name and free-form
    /// properties ([`RawResource`](crate::RawResource)).
    ///
    /// Every AWS type of the CloudFormation registry has its schema vendored, and synth checks a
    /// raw resource against it as it checks the typed ones: an unknown type, an unknown or
    /// misspelled property (the error names the closest one), a missing required property, a
    /// literal value that breaks a constraint of the schema (pattern, length, enum, range, list
    /// size, the properties of nested objects) and a `get_att` of an attribute the type does
    /// not have are each an error with the construct path. Tags applied above it reach it when
    /// its schema says the type takes tags. Custom resources (`Custom::*`) are not checked:
    /// their properties are the provider's own.
    ///
    /// ```
    /// use pantri_synth::{synthesize, App, Environment, RawResource, StackProps, SynthOptions, Str};
    ///
    /// let mut app = App::new();
    /// let mut root = app.root();
    /// let mut stage = root.stage("dev", Environment::new("111111111111", "eu-west-1"));
    /// let mut stack = stage.stack("Data", StackProps::default());
    /// let stream = stack.raw_resource(
    ///     "Events",
    ///     RawResource::new("AWS::Kinesis::Stream").prop("ShardCount", 2).prop("RetentionPeriodHours", 48),
    /// );
    /// let _arn: Str = stream.get_att("Arn");
    /// stack.raw_resource("Typo", RawResource::new("AWS::Kinesis::Stream").prop("ShardCont", 0));
    /// let problems = synthesize(&app, &SynthOptions::default()).unwrap_err().to_string();
    /// assert!(problems.contains(r#"[dev/Data/Typo] AWS::Kinesis::Stream ShardCont: unknown property; did you mean "ShardCount"?"#), "{problems}");
    /// assert!(!problems.contains("dev/Data/Events"), "{problems}");
    /// ```
    pub fn raw_resource(
        &mut self,
        id: &str,
        body: crate::resource::RawResource,
    ) -> Res<crate::resource::RawResource> {
        let kind = NodeKind::Resource {
            body: Box::new(body),
            options: ResourceOptions::default(),
        };
        Res::new(self.element(id, kind))
    }

    /// Adds a parameter.
    pub fn parameter(&mut self, id: &str, parameter: Parameter) -> ParamRef {
        ParamRef(self.element(id, NodeKind::Parameter(Box::new(parameter))))
    }

    /// Adds an output.
    pub fn output(&mut self, id: &str, output: Output) -> OutputRef {
        OutputRef(self.element(id, NodeKind::Output(output)))
    }

    /// Adds a condition from a condition expression (`fns::equals`, `fns::and`, ...).
    pub fn condition(&mut self, id: &str, expression: Bool) -> ConditionRef {
        ConditionRef(self.element(id, NodeKind::Condition(expression.into())))
    }

    /// Adds a mapping: top-level key → second-level key → value.
    pub fn mapping(
        &mut self,
        id: &str,
        map: IndexMap<String, IndexMap<String, Value>>,
    ) -> MappingRef {
        MappingRef(self.element(id, NodeKind::Mapping(Box::new(map))))
    }

    /// Tags every taggable resource under this scope.
    pub fn tag(&mut self, key: &str, value: &str) {
        self.app.tag(self.node, key, value);
    }

    /// Makes everything under this scope depend on everything under `on`.
    pub fn add_dependency(&mut self, on: impl Into<NodeId>) {
        self.app.add_dependency(self.node, on);
    }

    /// Records an error at this scope's path: for constructs that validate their props.
    pub fn error(&mut self, message: impl Into<String>) {
        self.app.report(self.node, Severity::Error, message);
    }

    /// Records a warning at this scope's path.
    pub fn warning(&mut self, message: impl Into<String>) {
        self.app.report(self.node, Severity::Warning, message);
    }
}
