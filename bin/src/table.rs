//! Plain text tables for the terminal: columns padded to their widest cell.

/// Renders `header` and `rows` as lines of left-aligned columns separated by `gap`, each line
/// prefixed with `indent` and without trailing spaces.
pub fn render<const N: usize>(
    header: [&str; N],
    rows: &[[String; N]],
    indent: &str,
    gap: &str,
) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(format!("{indent}{}", padded.join(gap)).trim_end());
        out.push('\n');
    };
    line(header);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_padded_to_the_widest_cell() {
        let rows = [
            ["a".to_owned(), "long value".to_owned()],
            ["bbb".to_owned(), "x".to_owned()],
        ];
        let text = super::render(["K", "V"], &rows, "  ", " | ");
        assert_eq!(text, "  K   | V\n  a   | long value\n  bbb | x\n");
    }
}
