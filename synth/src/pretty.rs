//! The layout of every JSON file pantri writes: serde_json's `PrettyFormatter` with one-space
//! indentation, the same bytes, but each line break and its indentation written at once.
//! `PrettyFormatter` writes the indentation one level at a time, a call to the writer each: in a
//! 100-stage synthesis that was a twelfth of all instructions (tree.json nests ten deep).

use std::io::{self, Write};

use serde_json::ser::Formatter;

use crate::json::{JsonObject, JsonValue};

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
        write_str(out, key);
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

/// `value` in [`OneSpace`]'s layout, as serde_json writes it with that formatter, the value
/// starting at `depth` (0 for a whole file), written by walking the value. The templates are most
/// of what synthesis writes; serde_json checks a string's bytes one at a time for escapes and
/// goes through its formatter for every piece, where [`write_str`] checks sixteen bytes at once
/// and copies a string that needs no escape whole (the templates' strings at 100 stages: 98 M
/// instructions through serde_json, 73 M here before the sixteen-byte check).
pub(crate) fn write_value(out: &mut Vec<u8>, value: &JsonValue, depth: usize) {
    use JsonValue as Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => write_items(out, b"[]", depth, items, |out, item| {
            write_value(out, item, depth + 1)
        }),
        Value::Object(map) => write_object(out, map, depth),
    }
}

/// An object's entries in [`OneSpace`]'s layout, as [`write_value`] writes the object.
pub(crate) fn write_object(out: &mut Vec<u8>, map: &JsonObject, depth: usize) {
    write_items(out, b"{}", depth, map.iter(), |out, (k, v)| {
        write_str(out, k);
        out.extend_from_slice(b": ");
        write_value(out, v, depth + 1);
    })
}

/// An array's or object's items between `brackets`, each on its own line at `depth + 1`.
fn write_items<I: IntoIterator>(
    out: &mut Vec<u8>,
    brackets: &[u8; 2],
    depth: usize,
    items: I,
    mut item: impl FnMut(&mut Vec<u8>, I::Item),
) {
    out.push(brackets[0]);
    let mut inner = OneSpace {
        depth: depth + 1,
        has_value: false,
    };
    let mut first = true;
    for i in items {
        // Writing into a vector does not fail.
        let _ = inner.item(out, first);
        first = false;
        item(out, i);
    }
    if !first {
        let _ = OneSpace {
            depth,
            has_value: true,
        }
        .newline(out);
    }
    out.push(brackets[1]);
}

/// The entries of a non-empty top-level object as they sit between its braces: what
/// [`write_object`] writes at depth 0 without its first line (`{`) and its last (`}`), so that
/// a template can be put together from the entries of its sections.
pub(crate) fn write_entries(out: &mut Vec<u8>, map: &JsonObject) {
    for (i, (k, v)) in map.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b" " } else { b",\n " });
        write_str(out, k);
        out.extend_from_slice(b": ");
        write_value(out, v, 1);
    }
}

/// A number as serde_json writes it: integers in decimal, floats by serde_json itself.
fn write_number(out: &mut Vec<u8>, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else {
        let _ = serde_json::to_writer(&mut *out, n);
    }
}

/// `s` as a JSON string, escaped as serde_json escapes it: `"` and `\` with a backslash, the
/// control characters as `\b`, `\t`, `\n`, `\f`, `\r` or `\u00xx`, everything else as it is.
/// Nearly every string of a template needs no escape and is copied whole, after a check of
/// sixteen bytes at a time (most are shorter than that: names, keys, parts of ARNs).
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if needs_escape(bytes) {
        write_escaped(out, bytes);
    } else {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    }
}

/// How many bytes [`needs_escape`] checks at once: a vector register's width, which the
/// compiler's vectorizer fills from [`any_escape`]'s plain loop.
const RUN: usize = 16;

/// Whether any byte of `bytes` needs an escape. A string of at least [`RUN`] bytes is checked a
/// run at a time, its last run overlapping the one before; a shorter one, as two words of eight
/// bytes the same way, and below eight a byte at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    let (runs, _) = bytes.as_chunks::<RUN>();
    if let Some(last) = bytes.last_chunk::<RUN>() {
        return runs.iter().any(any_escape) || any_escape(last);
    }
    if let (Some(first), Some(last)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        return word_needs_escape(u64::from_le_bytes(*first))
            || word_needs_escape(u64::from_le_bytes(*last));
    }
    bytes.iter().any(|&b| escape_of(b).is_some())
}

/// Whether any byte of `run` needs an escape: written as a loop without an early exit, so that
/// it compiles to a few vector instructions (compare, or, test) rather than a branch a byte.
fn any_escape(run: &[u8; RUN]) -> bool {
    run.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// Whether any byte of `word` is a control character, `"` or `\\` (the bit tricks of "Bit
/// Twiddling Hacks": a byte below a bound, a byte equal to a value; exact for the answer "any").
/// Eight bytes in a dozen instructions, where [`any_escape`] of eight is vectorized poorly.
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    (control | zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\')))) != 0
}

/// [`write_str`] of a string with a byte to escape, a byte at a time: kept out of the common
/// path, which it would otherwise slow with its registers.
#[cold]
#[inline(never)]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    // `bytes[copied..]` is not yet written.
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(escape) = escape_of(b) {
            out.extend_from_slice(bytes.get(copied..i).unwrap_or_default());
            escape.write(out);
            copied = i + 1;
        }
    }
    out.extend_from_slice(bytes.get(copied..).unwrap_or_default());
    out.push(b'"');
}

/// A byte's escape.
enum Escape {
    /// A backslash and this character.
    Short(u8),
    /// `\u00` and the byte in two hexadecimal digits.
    Unicode(u8),
}

impl Escape {
    fn write(self, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match self {
            Escape::Short(c) => out.extend_from_slice(&[b'\\', c]),
            Escape::Unicode(b) => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xF)],
            ]),
        }
    }
}

/// The escape of `b`, if it needs one.
fn escape_of(b: u8) -> Option<Escape> {
    Some(match b {
        b'"' => Escape::Short(b'"'),
        b'\\' => Escape::Short(b'\\'),
        b'\n' => Escape::Short(b'n'),
        b'\t' => Escape::Short(b't'),
        b'\r' => Escape::Short(b'r'),
        0x08 => Escape::Short(b'b'),
        0x0C => Escape::Short(b'f'),
        0..=0x1F => Escape::Unicode(b),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;

    fn walked(v: &serde_json::Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, &JsonValue::from(v.clone()), 0);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn a_value_walked_is_the_bytes_serde_json_writes() {
        let values = [
            json!(null),
            json!([
                true,
                false,
                0,
                -1,
                u64::MAX,
                i64::MIN,
                1.5,
                -0.25,
                1e300,
                12345678.9
            ]),
            json!({ "a": [], "b": {}, "c": [[], {}], "d": { "e": [1, { "f": "g" }] } }),
            nested(70, json!({ "k": { "l": [0] } })),
        ];
        for v in &values {
            assert_eq!(walked(v), ours(v), "{v}");
        }
    }

    #[test]
    fn an_object_s_entries_are_the_lines_between_its_braces() {
        for v in [
            json!({ "a": 1 }),
            json!({ "Resources": { "X": { "Type": "T", "Properties": { "L": [1, {}, []] } } },
                    "Outputs": {}, "e\"k": "v\n" }),
        ] {
            let ours_v = JsonValue::from(v.clone());
            let map = ours_v.as_object().expect("an object");
            let mut out = Vec::new();
            write_entries(&mut out, map);
            let whole = ours(&v);
            assert_eq!(
                String::from_utf8(out).expect("utf-8"),
                whole[2..whole.len() - 2],
                "{v}"
            );
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        // Every character below U+0100 at each place of a string of every length up to two
        // runs of sixteen bytes and a few more (each length is checked its own way); then with
        // a second escape four bytes later.
        let mut strings: Vec<String> = (0u32..0x100)
            .filter_map(char::from_u32)
            .flat_map(|c| {
                (1..40).flat_map(move |len| {
                    (0..len).flat_map(move |at| {
                        let (before, after) = ("x".repeat(at), "y".repeat(len - at - 1));
                        [
                            format!("{before}{c}{after}"),
                            format!("{before}{c}xyz\n{after}"),
                        ]
                    })
                })
            })
            .collect();
        strings.extend(
            [
                "",
                "plain ascii that is long enough",
                "Café 東京 😀 \u{7f}\u{2028}",
                "\"\\\"\\",
            ]
            .map(String::from),
        );
        for s in &strings {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).expect("utf-8"),
                serde_json::to_string(s).expect("serializes"),
                "{s:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(s in "\\PC*|[\\x00-\\x7f]{0,40}") {
            let mut out = Vec::new();
            write_str(&mut out, &s);
            proptest::prop_assert_eq!(
                String::from_utf8(out).expect("utf-8"),
                serde_json::to_string(&s).expect("serializes")
            );
        }
    }

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
