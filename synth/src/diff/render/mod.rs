//! Renderers of an [`AssemblyDiff`]: plain or colored text for terminals, markdown for
//! pull-request comments, JSON for machines. They only read the model; nothing here changes it.

mod json;
mod markdown;
mod text;

pub use json::json;
pub use markdown::markdown;
pub use text::text;

use super::model::{
    AccessChange, AssemblyDiff, Counts, Direction, IamStatementChange, Impact, ResourceChange,
    ResourceChangeKind, RowChange, SecurityGroupRuleChange,
};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

/// Options of the text and markdown renderers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextOptions {
    /// ANSI colors (text only; markdown ignores it).
    pub color: bool,
    /// Lines of context around each hunk of a long value's line diff.
    pub context: usize,
    /// Render only the security tables (and the summary).
    pub security_only: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            color: false,
            context: 3,
            security_only: false,
        }
    }
}

/// A value's pretty JSON; a string holding a JSON object or list (a dashboard body) is
/// pretty-printed as that JSON, wherever it is in the value: a dashboard body inside
/// `Fn::Sub` is one line of thousands of characters otherwise, and its diff shows nothing.
pub(crate) fn pretty(v: &Value) -> String {
    let v = expanded(v);
    match &v {
        // Text of several lines (a script) is diffed as its lines.
        Value::String(s) if s.contains('\n') => s.clone(),
        _ => serde_json::to_string_pretty(&v).unwrap_or_default(),
    }
}

/// The JSON object or list a string holds, when it holds one.
fn json_in(s: &str) -> Option<Value> {
    if !s.trim_start().starts_with(['{', '[']) {
        return None;
    }
    match serde_json::from_str::<Value>(s) {
        Ok(inner @ (Value::Object(_) | Value::Array(_))) => Some(inner),
        _ => None,
    }
}

/// `v` with every string that holds a JSON object or list replaced by that JSON (itself
/// expanded), for display only.
fn expanded(v: &Value) -> Value {
    match v {
        Value::String(s) => json_in(s).map_or_else(|| v.clone(), |inner| expanded(&inner)),
        Value::Array(items) => Value::Array(items.iter().map(expanded).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), expanded(v))).collect())
        }
        _ => v.clone(),
    }
}

/// Values whose pretty form spans more than this many lines are shown as a line diff.
const LONG_LINES: usize = 3;

/// True when the change is best shown as a line diff.
pub(crate) fn is_long(old: Option<&Value>, new: Option<&Value>) -> bool {
    [old, new]
        .into_iter()
        .flatten()
        .any(|v| pretty(v).lines().count() > LONG_LINES)
}

/// One line of a line diff: `'-'`, `'+'`, `' '`, or `'@'` for a skipped gap between hunks.
pub(crate) type DiffLine = (char, String);

/// The line diff of two values' pretty forms, with `context` lines around each change.
pub(crate) fn line_diff(old: Option<&Value>, new: Option<&Value>, context: usize) -> Vec<DiffLine> {
    let a = old.map(pretty).unwrap_or_default();
    let b = new.map(pretty).unwrap_or_default();
    let diff = TextDiff::from_lines(&a, &b);
    let mut out = Vec::new();
    for (i, group) in diff.grouped_ops(context).iter().enumerate() {
        if i > 0 {
            out.push(('@', "...".to_string()));
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let tag = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                out.push((tag, change.value().trim_end_matches('\n').to_string()));
            }
        }
    }
    out
}

/// A short value on one line, `(absent)` for none.
pub(crate) fn short(v: Option<&Value>) -> String {
    match v {
        Some(v) => v.to_string(),
        None => "(absent)".to_string(),
    }
}

/// The symbol and the words of a resource change.
pub(crate) fn describe(c: &ResourceChange) -> (&'static str, String) {
    match c.kind {
        ResourceChangeKind::Added => ("[+]", "add".into()),
        ResourceChangeKind::Removed => ("[-]", "destroy".into()),
        ResourceChangeKind::Orphaned => ("[-]", "orphan: removed from the stack, kept by its DeletionPolicy".into()),
        ResourceChangeKind::Moved => (
            "[→]",
            format!(
                "moved from {}: CloudFormation will replace it (new physical resource, old one deleted unless retained)",
                c.moved_from.as_deref().unwrap_or("?")
            ),
        ),
        ResourceChangeKind::TypeChanged => (
            "[~]",
            format!("type changes from {}: requires replacement", c.old_type.as_deref().unwrap_or("?")),
        ),
        ResourceChangeKind::MetadataOnly => ("[ ]", "metadata only".into()),
        ResourceChangeKind::Modified => ("[~]", c.impact.unwrap_or(Impact::Update).label().into()),
    }
}

/// Words for a property change's impact and cause.
pub(crate) fn property_note(impact: Impact, caused_by: Option<&str>) -> String {
    match (impact, caused_by) {
        (Impact::Update, None) => String::new(),
        (i, None) => format!(" ({})", i.label()),
        (Impact::Update, Some(x)) => format!(" (changes because {x} is replaced)"),
        (i, Some(x)) => format!(" (changes because {x} is replaced; {})", i.label()),
    }
}

/// The summary line: `2 stacks with differences: 1 replaced, 3 updated, 1 added, 0 removed`.
pub(crate) fn summary_line(diff: &AssemblyDiff) -> String {
    let n = diff.changed_stacks().count();
    if n == 0 {
        return "There were no differences".to_string();
    }
    let c = diff.counts();
    format!(
        "{n} stack{} with differences: {}",
        if n == 1 { "" } else { "s" },
        counts_words(&c)
    )
}

/// `1 replaced, 3 updated, 1 added, 0 removed` plus the rarer kinds when present.
pub(crate) fn counts_words(c: &Counts) -> String {
    let mut parts = vec![
        format!("{} replaced", c.replaced),
        format!("{} updated", c.updated),
        format!("{} added", c.added),
        format!("{} removed", c.removed),
    ];
    for (n, word) in [
        (c.may_replace, "may replace"),
        (c.orphaned, "orphaned"),
        (c.moved, "moved"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    parts.join(", ")
}

/// The cells of the IAM table: change, resource, effect, action, principal, condition.
pub(crate) fn iam_cells(s: &IamStatementChange) -> [String; 6] {
    [
        sign(s.change).to_string(),
        s.resources.join("\n"),
        s.effect.clone(),
        s.actions.join("\n"),
        s.principals.join("\n"),
        s.condition.clone().unwrap_or_default(),
    ]
}

/// Headers of the IAM table.
pub(crate) const IAM_HEADERS: [&str; 6] =
    ["", "Resource", "Effect", "Action", "Principal", "Condition"];

/// The cells of the security-group table: change, group, direction, protocol, ports, peer.
pub(crate) fn sg_cells(r: &SecurityGroupRuleChange) -> [String; 6] {
    [
        sign(r.change).to_string(),
        r.group.clone(),
        match r.direction {
            Direction::Ingress => "In".into(),
            Direction::Egress => "Out".into(),
        },
        r.protocol.clone(),
        r.ports.clone(),
        r.peer.clone(),
    ]
}

/// The cells of the access table: broadening mark, resource, type, what changes.
pub(crate) fn access_cells(a: &AccessChange) -> [String; 4] {
    [
        if a.broadening { "!" } else { "" }.to_string(),
        a.source.clone(),
        a.resource_type.clone(),
        a.what.clone(),
    ]
}

/// Headers of the access table.
pub(crate) const ACCESS_HEADERS: [&str; 4] = ["", "Resource", "Type", "Change"];

/// Headers of the security-group table.
pub(crate) const SG_HEADERS: [&str; 6] = ["", "Group", "Dir", "Protocol", "Ports", "Peer"];

fn sign(c: RowChange) -> &'static str {
    match c {
        RowChange::Added => "+",
        RowChange::Removed => "-",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_values_get_a_line_diff_with_context() {
        let old =
            json!({"Statement": [{"Effect": "Allow", "Action": ["a", "b", "c", "d", "e", "f"]}]});
        let new =
            json!({"Statement": [{"Effect": "Allow", "Action": ["a", "b", "c", "d", "e", "g"]}]});
        assert!(is_long(Some(&old), Some(&new)));
        let lines = line_diff(Some(&old), Some(&new), 1);
        let text: Vec<String> = lines
            .iter()
            .map(|(t, l)| format!("{t}{}", l.trim()))
            .collect();
        assert_eq!(text, [" \"e\",", "-\"f\"", "+\"g\"", " ]"]);
        // A string holding JSON (a dashboard body) is diffed as pretty JSON.
        let body = |w: u32| {
            json!(format!(
                "{{\"widgets\":[{{\"width\":{w},\"height\":6,\"x\":0}}]}}"
            ))
        };
        let dashboard = line_diff(Some(&body(6)), Some(&body(12)), 0);
        assert!(dashboard
            .iter()
            .any(|(t, l)| *t == '+' && l.trim() == "\"width\": 12,"));
        assert!(!is_long(Some(&json!("a")), Some(&json!("b"))));
    }

    /// A dashboard body inside `Fn::Sub` (the reference app's): its change is a line of its own.
    #[test]
    fn json_in_a_string_inside_a_value_is_diffed_as_json() {
        let sub = |w: u32| {
            json!({"Fn::Sub": [
                format!("{{\"title\":\"t\",\"widgets\":[{{\"q\":\"${{Alb}}\",\"width\":{w}}}]}}"),
                {"Alb": {"Fn::ImportValue": "alb"}}
            ]})
        };
        let lines = line_diff(Some(&sub(6)), Some(&sub(12)), 1);
        let text: Vec<String> = lines
            .iter()
            .map(|(t, l)| format!("{t}{}", l.trim()))
            .collect();
        assert_eq!(
            text,
            [
                " \"q\": \"${Alb}\",",
                "-\"width\": 6",
                "+\"width\": 12",
                " }"
            ]
        );
        // Strings that are not JSON documents stay strings: a scalar, text, a broken object.
        for s in ["12", "\"x\"", "{not json", "line\n{\"a\":1}"] {
            let v = json!({"Value": s});
            assert_eq!(pretty(&v), serde_json::to_string_pretty(&v).unwrap());
        }
    }
}
