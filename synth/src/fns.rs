//! Constructors for intrinsic functions, pseudo parameters and dynamic references.
//!
//! Each returns a typed expression, so `fns::select(0, fns::get_azs(""))` is a [`Str`] and can go
//! wherever a string property goes.

use indexmap::IndexMap;

use crate::tree::NodeId;
use crate::value::{Bool, Int, Intrinsic, List, Pseudo, Str, ToValue, Typed, Value};

fn typed<T: Typed>(i: Intrinsic) -> T {
    T::from_value_unchecked(Value::intrinsic(i))
}

/// `Fn::Join`: the items joined with `delimiter`.
pub fn join(delimiter: &str, items: impl Into<List<Str>>) -> Str {
    typed(Intrinsic::Join(
        delimiter.to_owned(),
        items.into().to_value(),
    ))
}

/// `Fn::Sub` with no variables: `${AWS::Region}` and other pseudo parameters only.
pub fn sub(template: &str) -> Str {
    typed(Intrinsic::Sub(template.to_owned(), IndexMap::new()))
}

/// `Fn::Sub` with variables: `sub_with("arn:${P}:s3:::${B}/*", [("P", aws::partition()), ("B", name)])`.
pub fn sub_with<K: Into<String>>(template: &str, vars: impl IntoIterator<Item = (K, Str)>) -> Str {
    let vars = vars
        .into_iter()
        .map(|(k, v)| (k.into(), v.to_value()))
        .collect();
    typed(Intrinsic::Sub(template.to_owned(), vars))
}

/// `Fn::Select`: the item at `index` of a list.
pub fn select(index: usize, list: impl Into<List<Str>>) -> Str {
    typed(Intrinsic::Select(
        Value::from(index),
        list.into().to_value(),
    ))
}

/// `Fn::Split`: a string split on `delimiter`.
pub fn split(delimiter: &str, source: impl Into<Str>) -> List<Str> {
    typed(Intrinsic::Split(
        delimiter.to_owned(),
        source.into().to_value(),
    ))
}

/// `Fn::GetAZs`: the availability zones of a region (`""` for the stack's region).
pub fn get_azs(region: impl Into<Str>) -> List<Str> {
    typed(Intrinsic::GetAzs(region.into().to_value()))
}

/// `Fn::ImportValue`: the value another stack exported under `name`.
pub fn import_value(name: impl Into<Str>) -> Str {
    typed(Intrinsic::ImportValue(name.into().to_value()))
}

/// `Fn::Base64`.
pub fn base64(source: impl Into<Str>) -> Str {
    typed(Intrinsic::Base64(source.into().to_value()))
}

/// `Fn::Cidr`: `count` CIDR blocks of `cidr_bits` host bits carved from `ip_block`.
pub fn cidr(
    ip_block: impl Into<Str>,
    count: impl Into<Int>,
    cidr_bits: impl Into<Int>,
) -> List<Str> {
    typed(Intrinsic::Cidr(
        ip_block.into().to_value(),
        count.into().to_value(),
        cidr_bits.into().to_value(),
    ))
}

/// `Fn::If`: `when_true` where the condition holds, else `when_false`.
pub fn if_<T: Typed>(condition: crate::ConditionRef, when_true: T, when_false: T) -> T {
    typed(Intrinsic::If(
        condition.node(),
        when_true.to_value(),
        when_false.to_value(),
    ))
}

/// `Fn::FindInMap`.
pub fn find_in_map(
    mapping: crate::MappingRef,
    top_key: impl Into<Str>,
    second_key: impl Into<Str>,
) -> Str {
    typed(Intrinsic::FindInMap(
        mapping.node(),
        top_key.into().to_value(),
        second_key.into().to_value(),
    ))
}

/// `Fn::Equals`, for a condition expression.
pub fn equals(a: impl Into<Value>, b: impl Into<Value>) -> Bool {
    typed(Intrinsic::Equals(a.into(), b.into()))
}

/// `Fn::And`, for a condition expression.
pub fn and(conditions: impl IntoIterator<Item = Bool>) -> Bool {
    typed(Intrinsic::And(
        conditions.into_iter().map(Value::from).collect(),
    ))
}

/// `Fn::Or`, for a condition expression.
pub fn or(conditions: impl IntoIterator<Item = Bool>) -> Bool {
    typed(Intrinsic::Or(
        conditions.into_iter().map(Value::from).collect(),
    ))
}

/// `Fn::Not`, for a condition expression.
pub fn not(condition: Bool) -> Bool {
    typed(Intrinsic::Not(condition.into()))
}

/// `{"Condition": name}`: another condition, inside a condition expression.
pub fn condition(condition: crate::ConditionRef) -> Bool {
    typed(Intrinsic::Condition(condition.node()))
}

pub(crate) fn ref_node<T: Typed>(node: NodeId) -> T {
    typed(Intrinsic::Ref(node))
}

pub(crate) fn get_att<T: Typed>(node: NodeId, attribute: &str) -> T {
    typed(Intrinsic::GetAtt(node, attribute.to_owned()))
}

/// Pseudo parameters.
pub mod aws {
    use super::*;

    fn pseudo<T: Typed>(p: Pseudo) -> T {
        typed(Intrinsic::Pseudo(p))
    }

    /// `AWS::AccountId`
    pub fn account_id() -> Str {
        pseudo(Pseudo::AccountId)
    }
    /// `AWS::Region`
    pub fn region() -> Str {
        pseudo(Pseudo::Region)
    }
    /// `AWS::StackName`
    pub fn stack_name() -> Str {
        pseudo(Pseudo::StackName)
    }
    /// `AWS::StackId`
    pub fn stack_id() -> Str {
        pseudo(Pseudo::StackId)
    }
    /// `AWS::Partition`
    pub fn partition() -> Str {
        pseudo(Pseudo::Partition)
    }
    /// `AWS::URLSuffix`
    pub fn url_suffix() -> Str {
        pseudo(Pseudo::UrlSuffix)
    }
    /// `AWS::NotificationARNs`
    pub fn notification_arns() -> List<Str> {
        pseudo(Pseudo::NotificationArns)
    }
    /// `AWS::NoValue`: as the value of a property (usually inside `Fn::If`), removes it.
    pub fn no_value<T: Typed>() -> T {
        pseudo(Pseudo::NoValue)
    }
}

/// Dynamic references: values CloudFormation reads from Secrets Manager or SSM at deploy time,
/// so that the secret never appears in the template.
pub mod dynamic {
    use super::*;

    fn dynamic(reference: String) -> Str {
        typed(Intrinsic::DynamicRef(reference))
    }

    /// `{{resolve:secretsmanager:SECRET:SecretString:JSON_KEY::}}`; `json_key` may be empty for the whole string.
    pub fn secretsmanager(secret_id: &str, json_key: &str) -> Str {
        dynamic(format!(
            "{{{{resolve:secretsmanager:{secret_id}:SecretString:{json_key}::}}}}"
        ))
    }

    /// `{{resolve:ssm:NAME}}` (plain parameter, latest version).
    pub fn ssm(name: &str) -> Str {
        dynamic(format!("{{{{resolve:ssm:{name}}}}}"))
    }

    /// `{{resolve:ssm-secure:NAME}}` (SecureString; only some properties accept it).
    pub fn ssm_secure(name: &str) -> Str {
        dynamic(format!("{{{{resolve:ssm-secure:{name}}}}}"))
    }
}

impl Str {
    /// A condition-typed helper: `Fn::Equals` of this string and another.
    pub fn equals(&self, other: impl Into<Str>) -> Bool {
        equals(self.to_value(), other.into().to_value())
    }
}
