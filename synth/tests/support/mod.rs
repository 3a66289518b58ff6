//! Helpers shared by the diff test files.
#![allow(dead_code)]

use pantri_synth::diff::{StackInput, StackSettings};
use serde_json::{json, Value};

/// One stack `prod/App` from `old` to `new`, without stack-level changes.
pub fn input<'a>(old: &'a Value, new: &'a Value) -> StackInput<'a> {
    StackInput {
        name: "prod/App",
        old: Some(old),
        new: Some(new),
        old_stack: StackSettings::default(),
        new_stack: StackSettings::default(),
    }
}

/// A resource of type `ty` with `props`.
pub fn res(ty: &str, props: Value) -> Value {
    json!({"Type": ty, "Properties": props})
}

/// A template of `resources`.
pub fn tpl(resources: Value) -> Value {
    json!({"Resources": resources})
}
