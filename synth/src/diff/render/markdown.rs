//! The pull-request comment renderer.

use super::{
    access_cells, describe, iam_cells, is_long, line_diff, property_note, sg_cells, short,
    summary_line, TextOptions, ACCESS_HEADERS, IAM_HEADERS, SG_HEADERS,
};
use crate::diff::model::{
    AssemblyDiff, CrossStackRole, EntryChange, ResourceChange, StackDiff, StatefulRisk,
};
use serde_json::Value;
use std::fmt::Write as _;

/// Renders the diff as markdown for a pull-request comment: a summary table of the stacks, the
/// counts, then per stack the stateful warning, the security tables, and each resource's
/// details in a collapsed `<details>` block with a fenced `diff`. `opts.color` is ignored.
pub fn markdown(diff: &AssemblyDiff, opts: &TextOptions) -> String {
    let mut out = String::from("## pantri diff\n\n");
    if diff.is_empty() {
        out.push_str("There were no differences.\n");
        return out;
    }
    out.push_str("| Stack | Added | Updated | Replaced | Removed | Security |\n");
    out.push_str("|---|---:|---:|---:|---:|---|\n");
    for s in diff.changed_stacks() {
        let c = &s.counts;
        let security = if s.has_security_broadening() {
            "⚠️ broadens access"
        } else if s.has_security_changes() {
            "changes"
        } else {
            "-"
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {security} |",
            s.name,
            c.added,
            c.updated + c.may_replace,
            c.replaced + c.moved,
            c.removed + c.orphaned
        );
    }
    let c = diff.counts();
    let _ = writeln!(
        out,
        "\n**{}**\n\nBy impact: {} added · {} updated · {} may replace · {} replaced · {} moved · {} removed · {} orphaned\n",
        summary_line(diff),
        c.added,
        c.updated,
        c.may_replace,
        c.replaced,
        c.moved,
        c.removed,
        c.orphaned
    );
    for s in diff.changed_stacks() {
        if opts.security_only && !s.has_security_changes() {
            continue;
        }
        render_stack(&mut out, s, opts);
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

fn table<const N: usize>(out: &mut String, headers: &[&str], rows: &[[String; N]]) {
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(headers.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

fn render_stack(out: &mut String, s: &StackDiff, opts: &TextOptions) {
    let _ = writeln!(out, "### `{}`\n", s.name);
    if !opts.security_only && !s.stateful.is_empty() {
        out.push_str(
            "> [!CAUTION]\n> **Stateful resources would be replaced or destroyed (data loss):**\n",
        );
        for c in &s.stateful {
            let what = match c.risk {
                StatefulRisk::Replaced => "replaced",
                StatefulRisk::Destroyed => "destroyed",
                StatefulRisk::Moved => "moved",
            };
            let _ = writeln!(
                out,
                "> - **{what}** `{}` `{}`: {}",
                c.logical_id, c.resource_type, c.reason
            );
        }
        out.push('\n');
    }
    for c in &s.cross_stack {
        let _ = match c.role {
            CrossStackRole::Producer => writeln!(
                out,
                "> [!CAUTION]\n> **{}** is used by `{}`: {}\n",
                c.value, c.other_stack, c.reason
            ),
            CrossStackRole::Consumer => writeln!(
                out,
                "> [!WARNING]\n> Imported **{}** from `{}`: {}\n",
                c.value, c.other_stack, c.reason
            ),
        };
    }
    if !s.iam.is_empty() {
        out.push_str("#### IAM statement changes\n\n");
        let rows: Vec<_> = s.iam.iter().map(iam_cells).collect();
        table(out, &IAM_HEADERS, &rows);
    }
    if !s.security_groups.is_empty() {
        out.push_str("#### Security group changes\n\n");
        let rows: Vec<_> = s.security_groups.iter().map(sg_cells).collect();
        table(out, &SG_HEADERS, &rows);
    }
    if !s.access.is_empty() {
        out.push_str("#### Access changes\n\n");
        let rows: Vec<_> = s.access.iter().map(access_cells).collect();
        table(out, &ACCESS_HEADERS, &rows);
    }
    if s.has_security_broadening() {
        out.push_str("⚠️ These changes broaden access.\n\n");
    }
    if opts.security_only {
        return;
    }
    if let Some((a, b)) = s.termination_protection {
        let _ = writeln!(out, "Termination protection: `{a}` → `{b}`\n");
    }
    if !s.tags.is_empty() {
        out.push_str("#### Stack tags\n\n| Tag | Old | New |\n|---|---|---|\n");
        for (k, (a, b)) in &s.tags {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                cell(k),
                cell(a.as_deref().unwrap_or("")),
                cell(b.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
    }
    for (title, entries) in [
        ("Parameters", &s.parameters),
        ("Conditions", &s.conditions),
        ("Mappings", &s.mappings),
    ] {
        entries_block(out, title, entries, opts);
    }
    if !s.resources.is_empty() {
        out.push_str("#### Resources\n\n");
        for r in &s.resources {
            resource_block(out, r, opts);
        }
    }
    entries_block(out, "Outputs", &s.outputs, opts);
}

fn diff_lines(
    out: &mut String,
    head: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    opts: &TextOptions,
) {
    let _ = writeln!(out, "@@ {head} @@");
    if is_long(old, new) {
        for (tag, line) in line_diff(old, new, opts.context) {
            let tag = if tag == '@' { ' ' } else { tag };
            let _ = writeln!(out, "{tag} {line}");
        }
    } else {
        if old.is_some() {
            let _ = writeln!(out, "- {}", short(old));
        }
        if new.is_some() {
            let _ = writeln!(out, "+ {}", short(new));
        }
    }
}

fn entries_block(out: &mut String, title: &str, entries: &[EntryChange], opts: &TextOptions) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "#### {title}\n\n<details><summary>{} change(s)</summary>\n\n```diff",
        entries.len()
    );
    for e in entries {
        diff_lines(out, &e.name, e.old.as_ref(), e.new.as_ref(), opts);
    }
    out.push_str("```\n\n</details>\n\n");
}

fn resource_block(out: &mut String, r: &ResourceChange, opts: &TextOptions) {
    let (sym, words) = describe(r);
    let _ = writeln!(
        out,
        "<details><summary>{sym} <code>{}</code> <code>{}</code>: {}</summary>\n",
        r.resource_type,
        r.logical_id,
        words.replace('<', "&lt;")
    );
    if let Some(path) = &r.construct_path {
        let _ = writeln!(out, "Construct path: `{path}`\n");
    }
    if r.properties.is_empty() && r.attributes.is_empty() {
        out.push_str("</details>\n\n");
        return;
    }
    out.push_str("```diff\n");
    for p in &r.properties {
        let head = format!(
            "{}{}",
            p.path,
            property_note(p.impact, p.caused_by.as_deref())
        );
        if p.caused_by.is_some() {
            let _ = writeln!(out, "@@ {head} @@");
            continue;
        }
        diff_lines(out, &head, p.old.as_ref(), p.new.as_ref(), opts);
    }
    for a in &r.attributes {
        diff_lines(out, &a.name, a.old.as_ref(), a.new.as_ref(), opts);
    }
    out.push_str("```\n\n</details>\n\n");
}
