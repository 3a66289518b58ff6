//! Values and intrinsics as types.
//!
//! A property is a [`Value`]: a literal or an intrinsic function. References to other elements
//! (resources, parameters, conditions, mappings) hold the element's [`NodeId`], never a hand-typed
//! logical ID: the logical ID is only known when the tree is synthesized, and a reference that
//! crosses stacks is turned into an export/import (or a parameter) at that point.
//!
//! Typed wrappers ([`Str`], [`Int`], [`Num`], [`Bool`], [`List`]) say what an expression evaluates
//! to, so that a list given where a string belongs fails to compile. The generated resource
//! structs in [`crate::cfn`] use them for every property.

use std::marker::PhantomData;

use indexmap::IndexMap;

use crate::tree::NodeId;

/// An untyped CloudFormation value: a literal, a list, a map or an intrinsic function.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// JSON `null`; only used inside free-form JSON documents.
    Null,
    /// A boolean literal.
    Bool(bool),
    /// A numeric literal.
    Number(serde_json::Number),
    /// A string literal.
    String(String),
    /// A list of values.
    List(Vec<Value>),
    /// A map of values, in insertion order. Boxed: a map is 72 bytes inline, every other
    /// variant at most 24, and every typed resource holds dozens of (mostly empty) values, so
    /// the box halves the memory a construct tree takes (and the pages synthesis touches).
    Map(Box<ValueMap>),
    /// An intrinsic function or reference.
    Intrinsic(Box<Intrinsic>),
}

// Typed resources hold dozens of optional values each: a larger `Value` (an unboxed variant)
// multiplies the memory of every construct tree.
const _: () = assert!(std::mem::size_of::<Value>() <= 32);

/// The intrinsic functions CloudFormation evaluates at deploy time.
#[derive(Clone, Debug, PartialEq)]
pub enum Intrinsic {
    /// `Ref` to a resource or parameter of the tree.
    Ref(NodeId),
    /// `Fn::GetAtt` of a resource of the tree.
    GetAtt(NodeId, String),
    /// A pseudo parameter, rendered as `Ref`.
    Pseudo(Pseudo),
    /// `Fn::Sub` with a template string and variables bound to values.
    Sub(String, IndexMap<String, Value>),
    /// `Fn::Join`.
    Join(String, Value),
    /// `Fn::Select`.
    Select(Value, Value),
    /// `Fn::Split`.
    Split(String, Value),
    /// `Fn::GetAZs`.
    GetAzs(Value),
    /// `Fn::ImportValue`.
    ImportValue(Value),
    /// `Fn::If` on a condition of the tree.
    If(NodeId, Value, Value),
    /// `Fn::Base64`.
    Base64(Value),
    /// `Fn::Cidr` (ip block, count, cidr bits).
    Cidr(Value, Value, Value),
    /// `Fn::FindInMap` on a mapping of the tree.
    FindInMap(NodeId, Value, Value),
    /// `Fn::Equals` (condition functions, for the Conditions section and `Fn::If`).
    Equals(Value, Value),
    /// `Fn::And`.
    And(Vec<Value>),
    /// `Fn::Or`.
    Or(Vec<Value>),
    /// `Fn::Not`.
    Not(Value),
    /// `{"Condition": name}` inside a condition expression.
    Condition(NodeId),
    /// A dynamic reference, rendered as the string `{{resolve:...}}`.
    DynamicRef(String),
}

/// CloudFormation pseudo parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pseudo {
    /// `AWS::AccountId`
    AccountId,
    /// `AWS::Region`
    Region,
    /// `AWS::StackName`
    StackName,
    /// `AWS::StackId`
    StackId,
    /// `AWS::Partition`
    Partition,
    /// `AWS::URLSuffix`
    UrlSuffix,
    /// `AWS::NoValue`: removes the property it is assigned to.
    NoValue,
    /// `AWS::NotificationARNs`
    NotificationArns,
}

impl Pseudo {
    /// The name CloudFormation uses in `Ref`.
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
            Pseudo::NotificationArns => "AWS::NotificationARNs",
        }
    }
}

impl Value {
    /// Wraps an intrinsic.
    pub fn intrinsic(i: Intrinsic) -> Value {
        Value::Intrinsic(Box::new(i))
    }

    /// A map value from `(key, value)` pairs, in order.
    pub fn map<K: Into<String>, V: Into<Value>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Value {
        Value::Map(Box::new(
            entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        ))
    }

    /// A list value.
    pub fn list<V: Into<Value>>(items: impl IntoIterator<Item = V>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    /// The string literal, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// True when the value (or anything inside it) is an intrinsic.
    pub fn has_intrinsic(&self) -> bool {
        match self {
            Value::Intrinsic(_) => true,
            Value::List(items) => items.iter().any(Value::has_intrinsic),
            Value::Map(m) => m.values().any(Value::has_intrinsic),
            _ => false,
        }
    }

    /// Converts a plain JSON document (a policy, a dashboard) to a value.
    pub fn from_json(json: serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => {
                Value::List(a.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(o) => Value::Map(Box::new(
                o.into_iter()
                    .map(|(k, v)| (k, Value::from_json(v)))
                    .collect(),
            )),
        }
    }

    /// Every node this value refers to (Ref, GetAtt, If conditions, FindInMap mappings), in order.
    pub fn references(&self, out: &mut Vec<NodeId>) {
        match self {
            Value::List(items) => items.iter().for_each(|v| v.references(out)),
            Value::Map(m) => m.values().for_each(|v| v.references(out)),
            Value::Intrinsic(i) => i.references(out),
            _ => {}
        }
    }
}

impl Intrinsic {
    fn references(&self, out: &mut Vec<NodeId>) {
        use Intrinsic::*;
        match self {
            Ref(n) | GetAtt(n, _) | Condition(n) => out.push(*n),
            Pseudo(_) | DynamicRef(_) => {}
            Sub(_, vars) => vars.values().for_each(|v| v.references(out)),
            Join(_, v) | Split(_, v) | GetAzs(v) | ImportValue(v) | Base64(v) | Not(v) => {
                v.references(out)
            }
            Select(a, b) | Equals(a, b) => {
                a.references(out);
                b.references(out);
            }
            If(c, a, b) => {
                out.push(*c);
                a.references(out);
                b.references(out);
            }
            FindInMap(m, a, b) => {
                out.push(*m);
                a.references(out);
                b.references(out);
            }
            Cidr(a, b, c) => {
                a.references(out);
                b.references(out);
                c.references(out);
            }
            And(vs) | Or(vs) => vs.iter().for_each(|v| v.references(out)),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::String(s.clone())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
macro_rules! number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Self { Value::Number(n.into()) }
        }
    )*};
}
number_from!(i32, i64, u8, u16, u32, u64, usize);
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}
impl From<Intrinsic> for Value {
    fn from(i: Intrinsic) -> Self {
        Value::intrinsic(i)
    }
}
impl From<serde_json::Value> for Value {
    fn from(j: serde_json::Value) -> Self {
        Value::from_json(j)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

/// Anything that renders to a [`Value`]: typed wrappers, generated property structs, maps, lists.
pub trait ToValue {
    /// The value as it goes into the template (before references are resolved).
    fn to_value(&self) -> Value;
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue, S> ToValue for IndexMap<String, T, S> {
    fn to_value(&self) -> Value {
        Value::Map(Box::new(
            self.iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect(),
        ))
    }
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(ToValue::to_value).collect())
    }
}

impl<T: ToValue> ToValue for Box<T> {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

/// A typed expression: a thin wrapper over a [`Value`] that records what it evaluates to.
pub trait Typed: ToValue + Sized {
    /// Wraps an untyped value. The caller vouches for the type.
    fn from_value_unchecked(v: Value) -> Self;
}

macro_rules! typed_wrapper {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name(Value);

        impl $name {
            /// The underlying value.
            pub fn value(&self) -> &Value {
                &self.0
            }
        }
        impl ToValue for $name {
            fn to_value(&self) -> Value {
                self.0.clone()
            }
        }
        impl Typed for $name {
            fn from_value_unchecked(v: Value) -> Self {
                $name(v)
            }
        }
        impl From<$name> for Value {
            fn from(t: $name) -> Value {
                t.0
            }
        }
        impl From<&$name> for $name {
            fn from(t: &$name) -> $name {
                t.clone()
            }
        }
    };
}

typed_wrapper!(
    /// A string expression: a literal or an intrinsic that evaluates to a string.
    Str
);
typed_wrapper!(
    /// An integer expression.
    Int
);
typed_wrapper!(
    /// A floating-point expression.
    Num
);
typed_wrapper!(
    /// A boolean expression.
    Bool
);

impl Str {
    /// The literal string, when this is one.
    pub fn as_literal(&self) -> Option<&str> {
        self.0.as_str()
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Str(Value::String(s.to_owned()))
    }
}
impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(Value::String(s))
    }
}
impl From<&String> for Str {
    fn from(s: &String) -> Self {
        Str(Value::String(s.clone()))
    }
}
macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Int {
            fn from(n: $t) -> Self { Int(Value::Number(n.into())) }
        }
        impl From<$t> for Num {
            fn from(n: $t) -> Self { Num(Value::Number(n.into())) }
        }
    )*};
}
int_from!(i32, i64, u8, u16, u32, u64, usize);
impl From<f64> for Num {
    fn from(n: f64) -> Self {
        Num(Value::from(n))
    }
}
impl From<bool> for Bool {
    fn from(b: bool) -> Self {
        Bool(Value::Bool(b))
    }
}

/// A list expression: literal items, or an intrinsic that evaluates to a list
/// (`Fn::GetAZs`, `Fn::Split`, `Fn::Cidr`, a list attribute).
#[derive(Clone, Debug, PartialEq)]
pub enum List<T> {
    /// Literal items, each itself an expression.
    Items(Vec<T>),
    /// An intrinsic that evaluates to a list.
    Expr(Value, PhantomData<T>),
}

impl<T> List<T> {
    /// An empty literal list.
    pub fn new() -> Self {
        List::Items(Vec::new())
    }

    /// Appends an item to a literal list and returns `true`. A list expression (`Fn::Split`,
    /// `Fn::GetAZs`, ...) has no items to append to: it is left as it is and `false` returned.
    pub fn push(&mut self, item: impl Into<T>) -> bool {
        match self {
            List::Items(items) => {
                items.push(item.into());
                true
            }
            List::Expr(..) => false,
        }
    }

    /// The literal items, when this is a literal list.
    pub fn items(&self) -> Option<&[T]> {
        match self {
            List::Items(items) => Some(items),
            List::Expr(..) => None,
        }
    }
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List::new()
    }
}

impl<T: ToValue> ToValue for List<T> {
    fn to_value(&self) -> Value {
        match self {
            List::Items(items) => Value::List(items.iter().map(ToValue::to_value).collect()),
            List::Expr(v, _) => v.clone(),
        }
    }
}

impl<T: ToValue> Typed for List<T> {
    fn from_value_unchecked(v: Value) -> Self {
        List::Expr(v, PhantomData)
    }
}

impl<T: ToValue> From<List<T>> for Value {
    fn from(l: List<T>) -> Value {
        l.to_value()
    }
}

impl<T, U: Into<T>> From<Vec<U>> for List<T> {
    fn from(items: Vec<U>) -> Self {
        List::Items(items.into_iter().map(Into::into).collect())
    }
}

impl<T, U: Into<T>, const N: usize> From<[U; N]> for List<T> {
    fn from(items: [U; N]) -> Self {
        List::Items(items.into_iter().map(Into::into).collect())
    }
}

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        List::Items(iter.into_iter().collect())
    }
}

/// A free-form JSON document (an IAM policy, a dashboard definition) that may hold intrinsics.
pub type Json = Value;

/// A map property whose keys are free (for example tags in map form or ECS docker labels).
pub type Map<T> = IndexMap<String, T>;

/// The map of a [`Value::Map`]: insertion-ordered, hashed with foldhash rather than SipHash (the
/// keys are property names and the like, which no attacker chooses; SipHash was a tenth of a
/// 100-stage synthesis's instructions). Build one with `ValueMap::default()` or `collect()`.
pub type ValueMap = IndexMap<String, Value, foldhash::fast::FixedState>;

/// A hash map of synthesis's own keys (node ids, logical IDs, patterns), hashed with foldhash.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
