//! The layout of every JSON file pantri writes: serde_json's `PrettyFormatter` with one-space
//! indentation, the same bytes, but each line break and its indentation written at once.
//! `PrettyFormatter` writes the indentation one level at a time, a call to the writer each: in a
//! 100-stage synthesis that was a twelfth of all instructions (tree.json nests ten deep).

use std::io::{self, Write};

use serde_json::ser::Formatter;

/// A line break followed by enough spaces for [`INLINE_DEPTH`] levels; deeper levels write the
/// rest in further pieces of this.
const BREAK: &[u8; 1 + INLINE_DEPTH] = &{
    let mut b = [b' '; 1 + INLINE_DEPTH];
    b[0] = b'\n';
    b
};
const INLINE_DEPTH: usize = 64;

/// serde_json's pretty layout, one space per level.
#[derive(Default)]
pub(crate) struct OneSpace {
    depth: usize,
    has_value: bool,
}

impl OneSpace {
    /// A line break and the indentation of the current depth.
    fn newline<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        let inline = self.depth.min(INLINE_DEPTH);
        w.write_all(&BREAK[..1 + inline])?;
        let mut rest = self.depth - inline;
        while rest > 0 {
            let n = rest.min(INLINE_DEPTH);
            w.write_all(&BREAK[1..1 + n])?;
            rest -= n;
        }
        Ok(())
    }

    fn begin<W: ?Sized + Write>(&mut self, w: &mut W, open: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(open)
    }

    fn end<W: ?Sized + Write>(&mut self, w: &mut W, close: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.newline(w)?;
        }
        w.write_all(close)
    }

    fn item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }
}

impl Formatter for OneSpace {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;

    fn ours(v: &serde_json::Value) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, OneSpace::default());
        v.serialize(&mut ser).expect("serializes");
        String::from_utf8(out).expect("utf-8")
    }

    fn serde_jsons(v: &serde_json::Value) -> String {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        v.serialize(&mut ser).expect("serializes");
        String::from_utf8(out).expect("utf-8")
    }

    /// `[[[...[leaf]...]]]`, `depth` arrays deep, each holding one object beside the next.
    fn nested(depth: usize, leaf: serde_json::Value) -> serde_json::Value {
        (0..depth).fold(leaf, |v, i| json!([{ "level": i, "empty": {} }, v, []]))
    }

    #[test]
    fn the_same_bytes_as_serde_jsons_pretty_layout() {
        let values = [
            json!(null),
            json!("a \"quoted\"\nline"),
            json!([]),
            json!({}),
            json!([[], {}, [[]], { "a": {} }]),
            json!({ "Resources": { "Vpc": { "Type": "AWS::EC2::VPC", "Properties": {
                "CidrBlock": "10.0.0.0/16", "Tags": [{ "Key": "Name", "Value": "x" }],
                "Flags": [true, false, 1.5, -3, null] } } } }),
            nested(3, json!({ "deep": [1, 2] })),
            // Past the depth written in one piece, and at its edges.
            nested(62, json!("x")),
            nested(63, json!({ "k": [] })),
            nested(64, json!({ "k": [0] })),
            nested(65, json!({ "k": { "l": [0] } })),
            nested(140, json!({ "k": { "l": [0] } })),
        ];
        for v in &values {
            assert_eq!(ours(v), serde_jsons(v), "{v}");
        }
    }
}
