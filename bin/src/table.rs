//! Plain text tables for the terminal: columns padded to their widest cell, and cut to fit the
//! terminal's width when there is one.

/// The narrowest a column is cut to when a table does not fit.
const MIN_COLUMN: usize = 8;

/// Renders `header` and `rows` as lines of left-aligned columns separated by `gap`, each line
/// prefixed with `indent` and without trailing spaces.
pub fn render<const N: usize>(
    header: [&str; N],
    rows: &[[String; N]],
    indent: &str,
    gap: &str,
) -> String {
    render_fit(header, rows, indent, gap, None)
}

/// Like [`render`], but when `width` is given, the widest column gives way first (down to
/// `MIN_COLUMN` characters, cells cut with `…`) until each line fits in `width` columns.
pub fn render_fit<const N: usize>(
    header: [&str; N],
    rows: &[[String; N]],
    indent: &str,
    gap: &str,
    width: Option<usize>,
) -> String {
    let chars = |s: &str| s.chars().count();
    let mut widths = header.map(chars);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(chars(cell));
        }
    }
    if let Some(width) = width {
        let fixed = chars(indent) + chars(gap) * N.saturating_sub(1);
        while fixed + widths.iter().sum::<usize>() > width {
            let Some(widest) = (0..N).max_by_key(|&i| widths[i]) else {
                break;
            };
            if widths[widest] <= MIN_COLUMN {
                break;
            }
            widths[widest] -= 1;
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{:<w$}", cut(c, w)))
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

/// `cell` in at most `w` characters, ending in `…` when cut.
fn cut(cell: &str, w: usize) -> String {
    if cell.chars().count() <= w {
        return cell.to_owned();
    }
    let mut s: String = cell.chars().take(w.saturating_sub(1)).collect();
    s.push('…');
    s
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

    #[test]
    fn a_table_wider_than_the_terminal_is_cut_widest_column_first() {
        let rows = [[
            "Add".to_owned(),
            "VpcPrivateBRouteTableAssociation1FAA9737".to_owned(),
            "AWS::EC2::SubnetRouteTableAssociation".to_owned(),
        ]];
        let text = super::render_fit(["Action", "Id", "Type"], &rows, "  ", " ", Some(60));
        for line in text.lines() {
            assert!(line.chars().count() <= 60, "{line:?}");
        }
        assert!(text.contains("Add    VpcPrivateBRouteTable"), "{text}");
        assert!(text.contains('…'), "{text}");
        // Wide enough: nothing is cut.
        let whole = super::render_fit(["Action", "Id", "Type"], &rows, "  ", " ", Some(200));
        assert_eq!(
            whole,
            super::render(["Action", "Id", "Type"], &rows, "  ", " ")
        );
    }
}
