//! The constraints of a type as one tree of their property paths, so that a resource's
//! properties are walked once for all of them instead of once per constraint.
//!
//! A type has up to a few hundred constraints and a resource sets a handful of properties:
//! looking every constraint's path up from the top (a hashed map lookup per step) was most of
//! the schema checks' cost, 440,000 lookups at 100 stages. The walk instead goes through the
//! keys the properties have, and only those a constraint names.

use crate::value::FastMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use crate::json::JsonValue as Value;

use super::Constraint;

/// One step of a property path: a key of an object or an index of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The constraints below one property path.
#[derive(Debug, Default, PartialEq)]
pub(super) struct PathTree {
    /// The constraints whose path ends here, by their index in the type's list.
    here: Vec<usize>,
    /// The named keys below, sorted by key.
    keys: Vec<(&'static str, PathTree)>,
    /// What is below `*`: every item of a list, every value of an object.
    any: Option<Box<PathTree>>,
}

/// Every tree built, by the address and length of its constraints: the schema facts are
/// decoded once per type and kept for the process, so the same list is checked again and again.
type Cache = FastMap<(usize, usize), &'static PathTree>;
static CACHE: LazyLock<RwLock<Cache>> = LazyLock::new(RwLock::default);

impl PathTree {
    /// The tree of `constraints`, built on the first call for them and kept for the process.
    pub(super) fn of(constraints: &'static [Constraint]) -> &'static PathTree {
        let key = (constraints.as_ptr() as usize, constraints.len());
        if let Some(tree) = CACHE
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return tree;
        }
        CACHE
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert_with(|| Box::leak(Box::new(PathTree::build(constraints))))
    }

    fn build(constraints: &[Constraint]) -> PathTree {
        let mut root = PathTree::default();
        for (i, c) in constraints.iter().enumerate() {
            let mut node = &mut root;
            for step in c.path {
                node = if *step == "*" {
                    node.any.get_or_insert_with(Box::default)
                } else {
                    let at = match node.keys.binary_search_by(|(k, _)| (*k).cmp(step)) {
                        Ok(at) => at,
                        Err(at) => {
                            node.keys.insert(at, (step, PathTree::default()));
                            at
                        }
                    };
                    &mut node.keys[at].1
                };
            }
            node.here.push(i);
        }
        root
    }

    /// Calls `found` with the index of every constraint and each literal value at its path,
    /// with the steps that lead to it. Intrinsics are not descended into (their value is known
    /// at deploy time only). For each constraint, its values come in the order of the
    /// document; the constraints themselves come in no fixed order.
    pub(super) fn walk<'a>(
        &self,
        v: &'a Value,
        at: &mut Vec<Step<'a>>,
        found: &mut dyn FnMut(usize, &[Step<'a>], &'a Value),
    ) {
        if is_intrinsic(v) {
            return;
        }
        for &i in &self.here {
            found(i, at, v);
        }
        if let Some(any) = &self.any {
            match v {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        at.push(Step::Index(i));
                        any.walk(item, at, found);
                        at.pop();
                    }
                }
                Value::Object(map) => {
                    for (k, item) in map.iter() {
                        at.push(Step::Key(k));
                        any.walk(item, at, found);
                        at.pop();
                    }
                }
                _ => {}
            }
        }
        let Value::Object(map) = v else { return };
        if self.keys.is_empty() {
            return;
        }
        let mut descend = |k: &'a str, item: &'a Value, child: &PathTree| {
            at.push(Step::Key(k));
            child.walk(item, at, found);
            at.pop();
        };
        // The object's keys in order, each looked up among the keys constraints name (sorted).
        for (k, item) in map.iter() {
            if let Ok(i) = self
                .keys
                .binary_search_by(|(key, _)| (*key).cmp(k.as_str()))
            {
                descend(k, item, &self.keys[i].1);
            }
        }
    }
}

/// True for `{"Ref": ...}`, `{"Fn::...": ...}` and `{"Condition": ...}`.
pub(super) fn is_intrinsic(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.len() == 1
            && o.keys()
                .next()
                .is_some_and(|k| k == "Ref" || k.starts_with("Fn::") || k == "Condition")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ConstraintKind;
    use serde_json::json;

    const fn pattern(path: &'static [&'static str]) -> Constraint {
        Constraint {
            path,
            kind: ConstraintKind::Pattern("^x$"),
        }
    }

    static CONSTRAINTS: [Constraint; 5] = [
        pattern(&["Name"]),
        pattern(&["Rules", "*", "Status"]),
        pattern(&["Rules", "*", "Id"]),
        pattern(&["Tags", "*"]),
        pattern(&["Name"]),
    ];

    /// What the walk finds, as (constraint, path) pairs sorted by constraint, then in the order
    /// found.
    fn found(v: &serde_json::Value) -> Vec<(usize, String)> {
        let v = &Value::from(v.clone());
        let mut out = Vec::new();
        PathTree::of(&CONSTRAINTS).walk(v, &mut Vec::new(), &mut |i, at, _| {
            out.push((i, format!("{at:?}")));
        });
        out.sort_by_key(|(i, _)| *i);
        out
    }

    /// The same, the long way: each constraint's path followed from the top on its own.
    fn found_one_by_one(v: &serde_json::Value) -> Vec<(usize, String)> {
        let v = &Value::from(v.clone());
        fn follow<'a>(v: &'a Value, path: &[&str], at: &mut Vec<Step<'a>>, out: &mut Vec<String>) {
            if is_intrinsic(v) {
                return;
            }
            let Some((first, rest)) = path.split_first() else {
                out.push(format!("{at:?}"));
                return;
            };
            match (*first, v) {
                ("*", Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        at.push(Step::Index(i));
                        follow(item, rest, at, out);
                        at.pop();
                    }
                }
                ("*", Value::Object(map)) => {
                    for (k, item) in map.iter() {
                        at.push(Step::Key(k));
                        follow(item, rest, at, out);
                        at.pop();
                    }
                }
                (key, Value::Object(map)) => {
                    if let Some((k, item)) = map.iter().find(|(k, _)| *k == key) {
                        at.push(Step::Key(k));
                        follow(item, rest, at, out);
                        at.pop();
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (i, c) in CONSTRAINTS.iter().enumerate() {
            let mut paths = Vec::new();
            follow(v, c.path, &mut Vec::new(), &mut paths);
            out.extend(paths.into_iter().map(|p| (i, p)));
        }
        out
    }

    #[test]
    fn the_walk_finds_what_following_each_path_finds_in_the_same_order() {
        let values = [
            json!({"Name": "x", "Rules": [{"Status": "a", "Id": "b"}, {"Id": "c"}, {"Status": "d"}]}),
            json!({"Tags": {"b": "1", "a": "2"}, "Other": 1, "More": 2, "Name": {"Ref": "P"}}),
            json!({"Tags": ["1", {"Fn::Sub": "x"}, "3"], "Rules": {"Fn::If": ["C", [], []]}}),
            json!({"Rules": {"k": {"Status": "s"}}, "A": 1, "B": 2, "C": 3, "D": 4, "E": 5}),
            json!({"Ref": "Everything"}),
            json!("not an object"),
        ];
        for v in &values {
            assert_eq!(found(v), found_one_by_one(v), "{v}");
        }
        assert_eq!(
            found(&values[0]),
            [
                (0, r#"[Key("Name")]"#.to_owned()),
                (1, r#"[Key("Rules"), Index(0), Key("Status")]"#.to_owned()),
                (1, r#"[Key("Rules"), Index(2), Key("Status")]"#.to_owned()),
                (2, r#"[Key("Rules"), Index(0), Key("Id")]"#.to_owned()),
                (2, r#"[Key("Rules"), Index(1), Key("Id")]"#.to_owned()),
                (4, r#"[Key("Name")]"#.to_owned()),
            ]
        );
    }

    #[test]
    fn a_list_of_constraints_gets_one_tree_for_the_process() {
        let first: *const PathTree = PathTree::of(&CONSTRAINTS);
        let again: *const PathTree = PathTree::of(&CONSTRAINTS);
        assert_eq!(first, again);
        assert_ne!(PathTree::of(&CONSTRAINTS[..2]) as *const PathTree, first);
    }
}
