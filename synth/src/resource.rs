//! The resource trait that generated `Cfn*` structs implement, typed handles to elements of the
//! tree, and the per-resource options (DependsOn, policies, condition, metadata).

use std::any::Any;
use std::fmt::Debug;
use std::marker::PhantomData;

use indexmap::IndexMap;

use crate::fns;
use crate::tree::NodeId;
use crate::value::{Str, ToValue, Typed, Value};

/// A CloudFormation resource type with typed properties. Implemented by the generated structs in
/// [`crate::cfn`]; [`RawResource`] covers any other type.
pub trait CfnResource: ToValue + Any + Debug + Send + Sync {
    /// The CloudFormation type name, for example `AWS::S3::Bucket`.
    const TYPE_NAME: &'static str;
}

/// The object-safe face of a resource, as the tree stores it.
pub trait ResourceBody: Any + Debug + Send + Sync {
    /// The CloudFormation type name.
    fn type_name(&self) -> &str;
    /// The properties as a map value (before references are resolved).
    fn properties(&self) -> Value;
    /// For downcasting to the concrete type.
    fn as_any(&self) -> &dyn Any;
    /// For downcasting to the concrete type.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: CfnResource> ResourceBody for T {
    fn type_name(&self) -> &str {
        T::TYPE_NAME
    }
    fn properties(&self) -> Value {
        self.to_value()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A resource of a type pantri has no generated struct for: type name plus free-form properties.
#[derive(Clone, Debug, PartialEq)]
pub struct RawResource {
    /// The CloudFormation type name.
    pub type_name: String,
    /// The properties.
    pub properties: crate::value::ValueMap,
}

impl RawResource {
    /// A resource of `type_name` without properties; add them with [`RawResource::prop`].
    pub fn new(type_name: impl Into<String>) -> Self {
        RawResource {
            type_name: type_name.into(),
            properties: Default::default(),
        }
    }

    /// Sets a property, by its CloudFormation name.
    pub fn prop(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.properties.insert(name.to_owned(), value.into());
        self
    }
}

impl ResourceBody for RawResource {
    fn type_name(&self) -> &str {
        &self.type_name
    }
    fn properties(&self) -> Value {
        Value::Map(Box::new(self.properties.clone()))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A typed handle to a resource of the tree. Cheap to copy; the way to refer to a resource.
///
/// Generated code adds the attribute accessors (`attr_arn()`, ...) as inherent methods on
/// `Res<CfnXxx>`.
pub struct Res<T> {
    node: NodeId,
    _type: PhantomData<fn() -> T>,
}

impl<T> Res<T> {
    pub(crate) fn new(node: NodeId) -> Self {
        Res {
            node,
            _type: PhantomData,
        }
    }

    /// A handle to any node, for tests of what synthesis does with a handle that does not
    /// point at a resource (a dangling reference is a synth error, never a broken template).
    #[doc(hidden)]
    pub fn dangling_for(node: NodeId) -> Self {
        Res::new(node)
    }

    /// The tree node of the resource.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// `Ref` of the resource (its primary identifier).
    pub fn ref_(&self) -> Str {
        fns::ref_node(self.node)
    }

    /// `Fn::GetAtt` of any attribute, typed by the caller. Prefer the generated `attr_*` methods;
    /// an attribute the type does not have is a synth error.
    pub fn get_att<V: Typed>(&self, attribute: &str) -> V {
        fns::get_att(self.node, attribute)
    }
}

impl<T> Clone for Res<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Res<T> {}
impl<T> Debug for Res<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Res({:?})", self.node)
    }
}
impl<T> PartialEq for Res<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}
impl<T> From<Res<T>> for NodeId {
    fn from(r: Res<T>) -> NodeId {
        r.node
    }
}
impl<T> From<&Res<T>> for NodeId {
    fn from(r: &Res<T>) -> NodeId {
        r.node
    }
}

/// What happens to a resource's physical resource when CloudFormation deletes or replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// Delete it (CloudFormation's default).
    Delete,
    /// Keep it, orphaned from the stack.
    Retain,
    /// Keep it, except when the stack's creation fails.
    RetainExceptOnCreate,
    /// Take a snapshot, then delete it (for types that support snapshots).
    Snapshot,
}

impl DeletionPolicy {
    /// The name in the template.
    pub fn name(self) -> &'static str {
        match self {
            DeletionPolicy::Delete => "Delete",
            DeletionPolicy::Retain => "Retain",
            DeletionPolicy::RetainExceptOnCreate => "RetainExceptOnCreate",
            DeletionPolicy::Snapshot => "Snapshot",
        }
    }
}

/// The template attributes of a resource beside its properties.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceOptions {
    /// `DeletionPolicy`.
    pub deletion_policy: Option<DeletionPolicy>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<DeletionPolicy>,
    /// `Condition`: the resource exists only where the condition holds.
    pub condition: Option<crate::ConditionRef>,
    /// `Metadata`, in order.
    pub metadata: IndexMap<String, Value>,
    /// Explicit `DependsOn`: resources, or constructs whose resources all count.
    pub depends_on: Vec<NodeId>,
}

impl ResourceOptions {
    /// Retain (or delete) on both deletion and replacement: the CDK's removal policy.
    pub fn removal_policy(&mut self, policy: DeletionPolicy) -> &mut Self {
        self.deletion_policy = Some(policy);
        self.update_replace_policy = Some(policy);
        self
    }

    /// Suppresses a cfn-lint rule on this resource, with the reason written into the template.
    pub fn suppress_cfn_lint(&mut self, rule: &str, reason: &str) -> &mut Self {
        self.push_metadata_entry("cfn-lint", &["config", "ignore_checks"], Value::from(rule));
        self.push_metadata_entry(
            "pantri",
            &["suppressions"],
            Value::map([("tool", "cfn-lint"), ("rule", rule), ("reason", reason)]),
        );
        self
    }

    /// Suppresses a checkov check on this resource, with the reason written into the template.
    pub fn suppress_checkov(&mut self, check: &str, reason: &str) -> &mut Self {
        self.push_metadata_entry(
            "checkov",
            &["skip"],
            Value::map([("id", check), ("comment", reason)]),
        );
        self
    }

    fn push_metadata_entry(&mut self, top: &str, path: &[&str], item: Value) {
        let mut slot = self
            .metadata
            .entry(top.to_owned())
            .or_insert_with(|| Value::Map(Box::default()));
        for (i, key) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            if !matches!(slot, Value::Map(_)) {
                *slot = Value::Map(Box::default());
            }
            let Value::Map(m) = slot else { return };
            slot = m.entry((*key).to_owned()).or_insert_with(|| {
                if last {
                    Value::List(Vec::new())
                } else {
                    Value::Map(Box::default())
                }
            });
        }
        if let Value::List(items) = slot {
            if !items.contains(&item) {
                items.push(item);
            }
        }
    }
}
