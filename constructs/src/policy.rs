//! IAM policy documents as values: statements with typed resources and principals, so a policy
//! can name a bucket's ARN or a role by reference instead of a hand-written string.

use indexmap::IndexMap;
use pantri_synth::{Str, ToValue, Value, ValueMap};

/// Allow or Deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `Allow`
    Allow,
    /// `Deny`
    Deny,
}

/// Who a resource policy or trust policy applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    /// `{"Service": "ecs-tasks.amazonaws.com"}` (a `Str`, so `logs.${AWS::Region}.amazonaws.com` can be a `Fn::Sub`)
    Service(Str),
    /// `{"AWS": arn}`
    Aws(Str),
    /// `"*"` (only with conditions that narrow it; every use is justified at the call site).
    Anyone,
}

/// One statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    principal: Vec<Principal>,
    actions: Vec<String>,
    resources: Vec<Str>,
    conditions: IndexMap<String, ValueMap>,
}

impl Principal {
    /// A service principal (`ecs-tasks.amazonaws.com`).
    pub fn service(name: impl Into<Str>) -> Self {
        Principal::Service(name.into())
    }
}

impl Statement {
    /// An Allow statement.
    pub fn allow() -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: Vec::new(),
            actions: Vec::new(),
            resources: Vec::new(),
            conditions: IndexMap::new(),
        }
    }

    /// A Deny statement.
    pub fn deny() -> Self {
        Statement {
            effect: Effect::Deny,
            ..Statement::allow()
        }
    }

    /// Sets the statement id.
    pub fn sid(mut self, sid: &str) -> Self {
        self.sid = Some(sid.to_owned());
        self
    }

    /// Adds actions (`s3:GetObject`).
    pub fn actions<S: AsRef<str>>(mut self, actions: impl IntoIterator<Item = S>) -> Self {
        self.actions
            .extend(actions.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// The actions, in order.
    pub fn action_list(&self) -> &[String] {
        &self.actions
    }

    /// The resources, in order.
    pub fn resource_list(&self) -> &[Str] {
        &self.resources
    }

    /// Adds resources.
    pub fn resources<S: Into<Str>>(mut self, resources: impl IntoIterator<Item = S>) -> Self {
        self.resources.extend(resources.into_iter().map(Into::into));
        self
    }

    /// Adds a principal.
    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal.push(principal);
        self
    }

    /// Adds a condition: `condition("StringEquals", "aws:SourceAccount", aws::account_id())`.
    pub fn condition(mut self, operator: &str, key: &str, value: impl Into<Value>) -> Self {
        self.conditions
            .entry(operator.to_owned())
            .or_default()
            .insert(key.to_owned(), value.into());
        self
    }
}

fn one_or_many(mut items: Vec<Value>) -> Value {
    if items.len() == 1 {
        items.remove(0)
    } else {
        Value::List(items)
    }
}

impl ToValue for Statement {
    fn to_value(&self) -> Value {
        let mut m = ValueMap::default();
        if let Some(sid) = &self.sid {
            m.insert("Sid".to_owned(), Value::from(sid.as_str()));
        }
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        m.insert("Effect".to_owned(), Value::from(effect));
        if !self.principal.is_empty() {
            let mut services = Vec::new();
            let mut aws = Vec::new();
            let mut anyone = false;
            for p in &self.principal {
                match p {
                    Principal::Service(s) => services.push(s.to_value()),
                    Principal::Aws(a) => aws.push(a.to_value()),
                    Principal::Anyone => anyone = true,
                }
            }
            let principal = if anyone {
                Value::from("*")
            } else {
                let mut p = ValueMap::default();
                if !aws.is_empty() {
                    p.insert("AWS".to_owned(), one_or_many(aws));
                }
                if !services.is_empty() {
                    p.insert("Service".to_owned(), one_or_many(services));
                }
                Value::Map(Box::new(p))
            };
            m.insert("Principal".to_owned(), principal);
        }
        let actions = self
            .actions
            .iter()
            .map(|a| Value::from(a.as_str()))
            .collect();
        m.insert("Action".to_owned(), one_or_many(actions));
        if !self.resources.is_empty() {
            m.insert(
                "Resource".to_owned(),
                one_or_many(self.resources.iter().map(ToValue::to_value).collect()),
            );
        }
        if !self.conditions.is_empty() {
            let c = self
                .conditions
                .iter()
                .map(|(op, kv)| (op.clone(), Value::Map(Box::new(kv.clone()))))
                .collect();
            m.insert("Condition".to_owned(), Value::Map(Box::new(c)));
        }
        Value::Map(Box::new(m))
    }
}

/// The first statement of a customer-managed key's policy: the account administers the key, so
/// IAM policies decide who else may use it (AWS's default key policy).
pub fn key_administration() -> Statement {
    Statement::allow()
        .sid("AccountAdministration")
        .principal(Principal::Aws(pantri_synth::fns::sub(
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:root",
        )))
        .actions(["kms:*"])
        // In a key policy "*" means this key; it is the only form KMS accepts.
        .resources(["*"])
}

/// A policy document (`Version` 2012-10-17) of statements.
pub fn document(statements: impl IntoIterator<Item = Statement>) -> Value {
    let statements: Vec<Value> = statements.into_iter().map(|s| s.to_value()).collect();
    Value::map([
        ("Version", Value::from("2012-10-17")),
        ("Statement", Value::List(statements)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use pantri_synth::fns::aws;

    #[test]
    fn statements_render_single_items_as_scalars_and_many_as_lists() {
        let doc = document([
            Statement::allow()
                .sid("Read")
                .actions(["s3:GetObject"])
                .resources(["arn:aws:s3:::b/*"]),
            Statement::deny()
                .principal(Principal::Anyone)
                .actions(["s3:*"])
                .resources(["arn:aws:s3:::b", "arn:aws:s3:::b/*"])
                .condition("Bool", "aws:SecureTransport", "false"),
            Statement::allow()
                .principal(Principal::Service("logs.amazonaws.com".into()))
                .actions(["kms:Decrypt", "kms:GenerateDataKey*"])
                .resources(["*"])
                .condition("StringEquals", "aws:SourceAccount", aws::account_id()),
        ]);
        let Value::Map(m) = &doc else { panic!("map") };
        let Value::List(st) = &m["Statement"] else {
            panic!("list")
        };
        let Value::Map(first) = &st[0] else {
            panic!("map")
        };
        assert_eq!(first["Action"], Value::from("s3:GetObject"));
        assert_eq!(first["Sid"], Value::from("Read"));
        let Value::Map(second) = &st[1] else {
            panic!("map")
        };
        assert_eq!(second["Effect"], Value::from("Deny"));
        assert_eq!(second["Principal"], Value::from("*"));
        assert!(matches!(&second["Resource"], Value::List(r) if r.len() == 2));
        let Value::Map(third) = &st[2] else {
            panic!("map")
        };
        assert_eq!(
            third["Principal"],
            Value::map([("Service", "logs.amazonaws.com")])
        );
    }
}
