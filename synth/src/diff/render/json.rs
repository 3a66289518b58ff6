//! The machine-readable renderer.

use crate::diff::model::AssemblyDiff;
use serde_json::{json, Value};

/// The version of the JSON shape below; bumped on any incompatible change.
pub const SCHEMA_VERSION: u64 = 1;

/// Renders the diff as JSON of this stable shape (`schemaVersion` 1):
///
/// ```text
/// {
///   "schemaVersion": 1,
///   "empty": bool,                       // AssemblyDiff::is_empty
///   "hasSecurityBroadening": bool,
///   "summary": {
///     "stacksWithDifferences": n,
///     "counts": {"added", "removed", "orphaned", "updated", "mayReplace", "replaced", "moved"}
///   },
///   "stacks": [{                          // every input stack, in input order
///     "name": "prod/App",
///     "status": "created" | "deleted" | "updated" | "unchanged",
///     "empty": bool,
///     "parameters" | "conditions" | "mappings" | "outputs": [{"name", "old"?, "new"?}],
///     "resources": [{
///       "logicalId", "resourceType", "oldType"?, "constructPath"?,
///       "kind": "added" | "removed" | "orphaned" | "modified" | "typeChanged" | "moved" | "metadataOnly",
///       "impact": null | "update" | "mayReplace" | "replace",
///       "movedFrom"?, "stateful": bool,
///       "properties": [{"path": "ContainerDefinitions[0].Cpu", "old"?, "new"?,
///                       "impact", "causedBy"?}],
///       "attributes": [{"name": "DependsOn", "old"?, "new"?}]
///     }],
///     "moves": [{"from", "to", "constructPath", "resourceType", "oldRetained"}],
///     "stateful": [{"logicalId", "resourceType", "constructPath"?,
///                   "risk": "replaced" | "destroyed" | "moved", "reason"}],
///     "iam": [{"change": "added" | "removed", "source", "effect": "Allow" | "Deny" | "Unknown", "actions": [..],
///              "resources": [..], "principals": [..], "condition"?}],
///     "securityGroups": [{"change", "source", "group", "direction": "ingress" | "egress",
///                         "protocol", "ports", "peer"}],
///     "access": [{"source", "resourceType", "what", "broadening": bool}],
///     "crossStack": [{"role": "producer" | "consumer", "value", "otherStack", "reason"}],
///     "tags": {"key": [old | null, new | null]},
///     "terminationProtection": null | [old, new],
///     "counts": {...as in summary...}
///   }]
/// }
/// ```
///
/// Absent values (`"old"?`) are `null`. Values are the normalized template JSON.
pub fn json(diff: &AssemblyDiff) -> Value {
    let stacks: Vec<Value> = diff
        .stacks
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("empty".into(), Value::Bool(s.is_empty()));
            }
            v
        })
        .collect();
    json!({
        "schemaVersion": SCHEMA_VERSION,
        "empty": diff.is_empty(),
        "hasSecurityBroadening": diff.has_security_broadening(),
        "summary": {
            "stacksWithDifferences": diff.changed_stacks().count(),
            "counts": diff.counts(),
        },
        "stacks": stacks,
    })
}
