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

/// A JSON object written a few entries at a time (`tree.json` and the manifest, a batch of stages
/// at a time), in the bytes [`OneSpace`] gives the whole object serialized at once: open it,
/// add entries or open entries that are objects themselves, then close each.
#[derive(Debug, Default)]
pub(crate) struct Entries {
    /// The depth of the entries' keys.
    depth: usize,
    count: usize,
}

impl Entries {
    /// Opens an object whose keys are at `depth` (1 for a file's top-level object).
    pub(crate) fn open(out: &mut Vec<u8>, depth: usize) -> Entries {
        out.push(b'{');
        Entries { depth, count: 0 }
    }

    /// The separator and key of the next entry, up to its value (written next, at this
    /// object's depth).
    pub(crate) fn key(&mut self, out: &mut Vec<u8>, key: &str) -> serde_json::Result<()> {
        let mut f = OneSpace {
            depth: self.depth,
            has_value: false,
        };
        f.item(out, self.count == 0)
            .map_err(serde_json::Error::io)?;
        self.count += 1;
        let mut ser = serde_json::Serializer::with_formatter(&mut *out, f);
        serde::Serialize::serialize(key, &mut ser)?;
        out.extend_from_slice(b": ");
        Ok(())
    }

    /// Adds an entry.
    pub(crate) fn entry<T: serde::Serialize + ?Sized>(
        &mut self,
        out: &mut Vec<u8>,
        key: &str,
        value: &T,
    ) -> serde_json::Result<()> {
        self.key(out, key)?;
        Entries::value(out, self.depth, value)
    }

    /// `value` as it is written as the value of an entry whose key is at `depth`.
    pub(crate) fn value<T: serde::Serialize + ?Sized>(
        out: &mut Vec<u8>,
        depth: usize,
        value: &T,
    ) -> serde_json::Result<()> {
        let f = OneSpace {
            depth,
            has_value: false,
        };
        value.serialize(&mut serde_json::Serializer::with_formatter(out, f))
    }

    /// Adds an entry whose value was written by [`Entries::value`] at this object's depth.
    pub(crate) fn written_entry(
        &mut self,
        out: &mut Vec<u8>,
        key: &str,
        value: &[u8],
    ) -> serde_json::Result<()> {
        self.key(out, key)?;
        out.extend_from_slice(value);
        Ok(())
    }

    /// The depth of this object's keys.
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    /// Adds an entry whose value is an object written entry by entry.
    pub(crate) fn open_entry(
        &mut self,
        out: &mut Vec<u8>,
        key: &str,
    ) -> serde_json::Result<Entries> {
        self.key(out, key)?;
        Ok(Entries::open(out, self.depth + 1))
    }

    /// Closes the object.
    pub(crate) fn close(self, out: &mut Vec<u8>) {
        if self.count > 0 {
            let f = OneSpace {
                depth: self.depth - 1,
                has_value: true,
            };
            // Writing into a vector does not fail.
            let _ = f.newline(out);
        }
        out.push(b'}');
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

    /// `value` (an object) written entry by entry, nested objects opened as entries.
    fn by_entries(value: &serde_json::Value) -> String {
        fn write(
            out: &mut Vec<u8>,
            entries: &mut Entries,
            map: &serde_json::Map<String, serde_json::Value>,
        ) {
            for (k, v) in map {
                match v {
                    serde_json::Value::Object(inner) if k.starts_with('o') => {
                        let mut child = entries.open_entry(out, k).expect("key");
                        write(out, &mut child, inner);
                        child.close(out);
                    }
                    _ => entries.entry(out, k, v).expect("value"),
                }
            }
        }
        let mut out = Vec::new();
        let mut top = Entries::open(&mut out, 1);
        write(&mut out, &mut top, value.as_object().expect("an object"));
        top.close(&mut out);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn an_object_written_entry_by_entry_is_the_object_written_at_once() {
        let values = [
            json!({}),
            json!({ "a": 1 }),
            json!({ "o": {} }),
            json!({ "version": "tree-0.1", "o1": { "id": "App", "path": "", "o2": {
                "dev": { "id": "dev", "children": { "Stack": [1, {}] } }, "o3": {}, "prod": [] },
                "info": { "fqn": "pantri.App" } }, "e\"scaped\nkey": null }),
            nested(70, json!({ "deep": [1, 2] }))
                .as_array()
                .map(|a| json!({ "x": a, "o": { "o": { "y": a } } }))
                .expect("an array"),
        ];
        for v in &values {
            assert_eq!(by_entries(v), serde_jsons(v), "{v}");
        }
    }
}
