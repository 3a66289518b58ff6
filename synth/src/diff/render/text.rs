//! The terminal renderer: like `cdk diff`, with the stateful warning first.

use super::{
    access_cells, describe, iam_cells, is_long, line_diff, property_note, sg_cells, short,
    summary_line, TextOptions, ACCESS_HEADERS, IAM_HEADERS, SG_HEADERS,
};
use crate::diff::model::{
    AssemblyDiff, CrossStackRole, EntryChange, Impact, ResourceChange, ResourceChangeKind,
    StackDiff, StackStatus, StatefulRisk,
};
use std::fmt::Write as _;

/// Renders the diff for a terminal. Empty stacks are left out; the last line is the summary.
pub fn text(diff: &AssemblyDiff, opts: &TextOptions) -> String {
    let p = Paint(opts.color);
    let mut out = String::new();
    for stack in diff.changed_stacks() {
        if opts.security_only && !stack.has_security_changes() {
            continue;
        }
        render_stack(&mut out, stack, opts, p);
    }
    if opts.security_only && !diff.stacks.iter().any(StackDiff::has_security_changes) {
        out.push_str("No security-related changes\n");
    }
    out.push_str(&p.bold(&summary_line(diff)));
    out.push('\n');
    out
}

#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn red(self, s: &str) -> String {
        self.wrap("31", s)
    }
    fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn loud(self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    fn line(self, tag: char, s: &str) -> String {
        match tag {
            '-' => self.red(s),
            '+' => self.green(s),
            '@' => self.wrap("2", s),
            _ => s.to_string(),
        }
    }
}

fn render_stack(out: &mut String, s: &StackDiff, opts: &TextOptions, p: Paint) {
    let status = match s.status {
        StackStatus::Created => " (new stack)",
        StackStatus::Deleted => " (stack deleted)",
        StackStatus::Updated | StackStatus::Unchanged => "",
    };
    let _ = writeln!(out, "{}", p.bold(&format!("Stack {}{status}", s.name)));
    if !opts.security_only && !s.stateful.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.loud("!!! Stateful resources would be replaced or destroyed (data loss) !!!")
        );
        for c in &s.stateful {
            let what = match c.risk {
                StatefulRisk::Replaced => "REPLACED",
                StatefulRisk::Destroyed => "DESTROYED",
                StatefulRisk::Moved => "MOVED",
            };
            let path = c
                .construct_path
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}",
                p.red(&format!(
                    "  {what} {} {}{path}: {}",
                    c.resource_type, c.logical_id, c.reason
                ))
            );
        }
        out.push('\n');
    }
    render_cross_stack(out, s, p);
    if !s.iam.is_empty() {
        let rows: Vec<Vec<String>> = s.iam.iter().map(|x| iam_cells(x).to_vec()).collect();
        let _ = writeln!(out, "{}", p.bold("IAM Statement Changes"));
        out.push_str(&table(&IAM_HEADERS, &rows, p));
        out.push('\n');
    }
    if !s.security_groups.is_empty() {
        let rows: Vec<Vec<String>> = s
            .security_groups
            .iter()
            .map(|x| sg_cells(x).to_vec())
            .collect();
        let _ = writeln!(out, "{}", p.bold("Security Group Changes"));
        out.push_str(&table(&SG_HEADERS, &rows, p));
        out.push('\n');
    }
    if !s.access.is_empty() {
        let rows: Vec<Vec<String>> = s.access.iter().map(|x| access_cells(x).to_vec()).collect();
        let _ = writeln!(out, "{}", p.bold("Access Changes"));
        out.push_str(&table(&ACCESS_HEADERS, &rows, p));
        out.push('\n');
    }
    if s.has_security_broadening() {
        let _ = writeln!(
            out,
            "{}\n",
            p.yellow("(NOTE: these changes broaden access)")
        );
    }
    if opts.security_only {
        return;
    }
    if let Some((a, b)) = s.termination_protection {
        let _ = writeln!(out, "{}", p.bold("Termination protection"));
        let _ = writeln!(out, "[~] {a} → {b}\n");
    }
    if !s.tags.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Stack tags"));
        for (k, (a, b)) in &s.tags {
            let (sym, line) = match (a, b) {
                (None, Some(b)) => ("[+]", format!("{k}: {b}")),
                (Some(a), None) => ("[-]", format!("{k}: {a}")),
                (a, b) => (
                    "[~]",
                    format!(
                        "{k}: {} → {}",
                        a.as_deref().unwrap_or(""),
                        b.as_deref().unwrap_or("")
                    ),
                ),
            };
            let _ = writeln!(out, "{} {line}", symbol(p, sym));
        }
        out.push('\n');
    }
    for (title, entries) in [
        ("Parameters", &s.parameters),
        ("Conditions", &s.conditions),
        ("Mappings", &s.mappings),
    ] {
        render_entries(out, title, entries, opts, p);
    }
    if !s.resources.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Resources"));
        for r in &s.resources {
            render_resource(out, r, opts, p);
        }
        out.push('\n');
    }
    render_entries(out, "Outputs", &s.outputs, opts, p);
}

fn render_cross_stack(out: &mut String, s: &StackDiff, p: Paint) {
    let (fails, imports): (Vec<_>, Vec<_>) = s
        .cross_stack
        .iter()
        .partition(|c| c.role == CrossStackRole::Producer);
    if !fails.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.loud("!!! Other stacks use values this change removes or changes !!!")
        );
        for c in fails {
            let _ = writeln!(
                out,
                "{}",
                p.red(&format!(
                    "  {} used by {}: {}",
                    c.value, c.other_stack, c.reason
                ))
            );
        }
        out.push('\n');
    }
    if !imports.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Imported values that change"));
        for c in imports {
            let _ = writeln!(
                out,
                "{}",
                p.yellow(&format!(
                    "  {} from {}: {}",
                    c.value, c.other_stack, c.reason
                ))
            );
        }
        out.push('\n');
    }
}

fn symbol(p: Paint, sym: &str) -> String {
    match sym {
        "[+]" => p.green(sym),
        "[-]" => p.red(sym),
        "[~]" | "[→]" => p.yellow(sym),
        _ => sym.to_string(),
    }
}

fn render_entries(
    out: &mut String,
    title: &str,
    entries: &[EntryChange],
    opts: &TextOptions,
    p: Paint,
) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", p.bold(title));
    for e in entries {
        let sym = match (&e.old, &e.new) {
            (None, _) => "[+]",
            (_, None) => "[-]",
            _ => "[~]",
        };
        render_value_change(
            out,
            &format!("{} {}", symbol(p, sym), e.name),
            "",
            e.old.as_ref(),
            e.new.as_ref(),
            opts,
            p,
        );
    }
    out.push('\n');
}

fn render_value_change(
    out: &mut String,
    head: &str,
    indent: &str,
    old: Option<&serde_json::Value>,
    new: Option<&serde_json::Value>,
    opts: &TextOptions,
    p: Paint,
) {
    if is_long(old, new) {
        let _ = writeln!(out, "{indent}{head}");
        for (tag, line) in line_diff(old, new, opts.context) {
            let _ = writeln!(out, "{indent}    {}", p.line(tag, &format!("{tag} {line}")));
        }
    } else {
        let arrow = match (old, new) {
            (None, Some(n)) => p.green(&short(Some(n))),
            (Some(o), None) => p.red(&short(Some(o))),
            _ => format!("{} → {}", p.red(&short(old)), p.green(&short(new))),
        };
        let _ = writeln!(out, "{indent}{head}: {arrow}");
    }
}

fn render_resource(out: &mut String, r: &ResourceChange, opts: &TextOptions, p: Paint) {
    let (sym, words) = describe(r);
    let words = match (r.kind, r.impact) {
        (ResourceChangeKind::Modified, Some(Impact::Replace)) => p.loud(&words),
        (ResourceChangeKind::Modified, Some(Impact::MayReplace)) => p.yellow(&words),
        _ => words,
    };
    let _ = writeln!(
        out,
        "{} {} {} ({words})",
        symbol(p, sym),
        r.resource_type,
        r.logical_id
    );
    let total = r.properties.len() + r.attributes.len();
    let mut i = 0;
    let mut branch = || {
        i += 1;
        if i == total {
            " └─"
        } else {
            " ├─"
        }
    };
    for prop in &r.properties {
        let b = branch();
        let sym = match (&prop.old, &prop.new) {
            (None, _) => "[+]",
            (_, None) => "[-]",
            _ => "[~]",
        };
        let head = format!(
            "{b} {} {}{}",
            symbol(p, sym),
            prop.path,
            property_note(prop.impact, prop.caused_by.as_deref())
        );
        if prop.caused_by.is_some() {
            let _ = writeln!(out, "{head}");
            continue;
        }
        render_value_change(
            out,
            &head,
            "",
            prop.old.as_ref(),
            prop.new.as_ref(),
            opts,
            p,
        );
    }
    for a in &r.attributes {
        let b = branch();
        let head = format!("{b} {} {}", symbol(p, "[~]"), a.name);
        render_value_change(out, &head, "", a.old.as_ref(), a.new.as_ref(), opts, p);
    }
}

/// A boxed ASCII table; cells may hold several lines.
fn table(headers: &[&str], rows: &[Vec<String>], p: Paint) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            for line in cell.lines() {
                *w = (*w).max(line.chars().count());
            }
        }
    }
    let rule: String = {
        let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
        format!("├{}┤\n", parts.join("┼"))
    };
    let top = rule.replace('├', "┌").replace('┤', "┐").replace('┼', "┬");
    let bottom = rule.replace('├', "└").replace('┤', "┘").replace('┼', "┴");
    let mut out = top;
    let line = |cells: Vec<&str>, out: &mut String, sign: &str| {
        out.push('│');
        for (cell, w) in cells.iter().zip(&widths) {
            let pad = w - cell.chars().count();
            let text = format!(" {cell}{} ", " ".repeat(pad));
            let text = match sign {
                "+" => p.green(&text),
                "-" => p.red(&text),
                "!" => p.yellow(&text),
                _ => text,
            };
            out.push_str(&text);
            out.push('│');
        }
        out.push('\n');
    };
    line(headers.to_vec(), &mut out, "");
    for row in rows {
        out.push_str(&rule);
        let height = row
            .iter()
            .map(|c| c.lines().count().max(1))
            .max()
            .unwrap_or(1);
        let sign = row.first().map(String::as_str).unwrap_or("");
        for i in 0..height {
            let cells: Vec<&str> = row.iter().map(|c| c.lines().nth(i).unwrap_or("")).collect();
            line(cells, &mut out, sign);
        }
    }
    out.push_str(&bottom);
    out
}
