//! What the cross-stack reading needs of a template the diff does not compare (its text is the
//! same on both sides): its `Outputs` and the argument of every `Fn::ImportValue`, read from the
//! JSON text without building the template as a `serde_json::Value`.
//!
//! The skim goes through `serde_json`'s own deserializer with a visitor that keeps nothing but
//! those, so it accepts and refuses exactly the texts `serde_json::from_str::<Value>` does
//! (numbers are still converted, escapes still checked, the same nesting limit). An object with
//! a key twice reads as `Value` reads it: the last occurrence wins.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// What [`skim`] keeps of a template.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Skim {
    /// A template holding only the original's `Outputs` (an empty object when it has none), so
    /// [`super::links::template_exports`] reads it as it reads the whole template.
    pub outputs: Value,
    /// The argument of every object that is `Fn::ImportValue` alone, anywhere in the template.
    pub imports: Vec<Value>,
}

impl Skim {
    /// What [`skim`] finds in the text of a template, from the template parsed.
    pub fn of(template: &Value) -> Skim {
        let mut imports = Vec::new();
        import_arguments(template, &mut imports);
        Skim {
            outputs: outputs_only(template),
            imports: imports.into_iter().cloned().collect(),
        }
    }
}

/// A template holding only `template`'s `Outputs` (an empty object when it has none): what
/// the cross-stack reading ([`super::links`]) reads of a template.
pub fn outputs_only(template: &Value) -> Value {
    holding_outputs(template.get("Outputs").cloned())
}

/// A template holding only `outputs` as its `Outputs` (an empty object for none).
fn holding_outputs(outputs: Option<Value>) -> Value {
    Value::Object(
        outputs
            .map(|o| ("Outputs".to_owned(), o))
            .into_iter()
            .collect(),
    )
}

/// Skims a JSON template's text; an error when `serde_json` would not parse it.
pub fn skim(text: &str) -> Result<Skim, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut entries = Vec::new();
    let found = Node {
        top: true,
        entries: &mut entries,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(Skim {
        outputs: holding_outputs(found.outputs),
        imports: found.imports,
    })
}

/// The arguments of the `Fn::ImportValue`s of a parsed value, as [`skim`] finds them in text.
pub(crate) fn import_arguments<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Object(m) => {
            if let (1, Some(name)) = (m.len(), m.get("Fn::ImportValue")) {
                out.push(name);
                return;
            }
            m.values().for_each(|x| import_arguments(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| import_arguments(x, out)),
        _ => {}
    }
}

/// What one value holds.
#[derive(Default)]
struct Found {
    imports: Vec<Value>,
    /// The top-level object's `Outputs`.
    outputs: Option<Value>,
}

/// One entry of an object being read: values the reading needs whole (`Fn::ImportValue`'s
/// argument, the top level's `Outputs`) are parsed, the rest only skimmed.
enum Entry {
    Whole(Value),
    Skimmed(Vec<Value>),
}

/// Reads one value. The entries of every object being read share one stack (`entries`): an
/// object's are pushed above its parent's and taken off when it ends, so reading allocates
/// nothing per object.
struct Node<'s, 'de> {
    top: bool,
    entries: &'s mut Vec<(Cow<'de, str>, Entry)>,
}

impl<'de> DeserializeSeed<'de> for Node<'_, 'de> {
    type Value = Found;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, 'de> {
    type Value = Found;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Found, E> {
        Ok(Found::default())
    }
    fn visit_unit<E>(self) -> Result<Found, E> {
        Ok(Found::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Found, A::Error> {
        let mut imports = Vec::new();
        while let Some(found) = seq.next_element_seed(Node {
            top: false,
            entries: &mut *self.entries,
        })? {
            imports.extend(found.imports);
        }
        Ok(Found {
            imports,
            outputs: None,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let start = self.entries.len();
        while let Some(key) = map.next_key_seed(Key)? {
            let entry = if key == "Fn::ImportValue" || (self.top && key == "Outputs") {
                Entry::Whole(map.next_value()?)
            } else {
                let found = map.next_value_seed(Node {
                    top: false,
                    entries: &mut *self.entries,
                })?;
                Entry::Skimmed(found.imports)
            };
            self.entries.push((key, entry));
        }
        let object = &mut self.entries[start..];
        let shadowed = shadowed(object);
        let mut found = Found::default();
        let mut kept = (0..object.len()).filter(|&i| !shadowed.get(i));
        if let (Some(only), None) = (kept.next(), kept.next()) {
            if let (key, Entry::Whole(argument)) = &mut object[only] {
                if key == "Fn::ImportValue" {
                    found.imports.push(std::mem::take(argument));
                }
            }
        }
        if found.imports.is_empty() {
            for (i, (key, entry)) in object.iter_mut().enumerate() {
                if shadowed.get(i) {
                    continue;
                }
                match entry {
                    Entry::Skimmed(imports) => found.imports.append(imports),
                    Entry::Whole(v) => {
                        let mut arguments = Vec::new();
                        import_arguments(v, &mut arguments);
                        found.imports.extend(arguments.into_iter().cloned());
                        if self.top && key == "Outputs" {
                            found.outputs = Some(std::mem::take(v));
                        }
                    }
                }
            }
        }
        self.entries.truncate(start);
        Ok(found)
    }
}

/// Which entries of an object a later entry with the same key replaces (a `serde_json::Map`
/// keeps the last value of a key).
enum Shadowed {
    /// A bit per entry, for objects of up to 64 entries (nearly all).
    Few(u64),
    Many(Vec<bool>),
}

impl Shadowed {
    fn get(&self, i: usize) -> bool {
        match self {
            Shadowed::Few(bits) => bits & (1 << i) != 0,
            Shadowed::Many(v) => v[i],
        }
    }
}

fn shadowed(entries: &[(Cow<str>, Entry)]) -> Shadowed {
    let n = entries.len();
    if n <= 64 {
        let mut bits = 0u64;
        for i in 0..n {
            if entries[i + 1..].iter().any(|(k, _)| *k == entries[i].0) {
                bits |= 1 << i;
            }
        }
        return Shadowed::Few(bits);
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| entries[a].0.cmp(&entries[b].0).then(a.cmp(&b)));
    let mut later = vec![false; n];
    for w in order.windows(2) {
        if entries[w[0]].0 == entries[w[1]].0 {
            later[w[0]] = true;
        }
    }
    Shadowed::Many(later)
}

/// An object key, borrowed from the text unless it has escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s))
    }
}

#[cfg(test)]
mod tests {
    use super::super::links::LinkTemplate;
    use super::*;

    /// A template's exports (output, name, value) and imported names.
    type Found = (Vec<(String, String, Value)>, Vec<String>);

    /// What the cross-stack reading finds in `text`, parsed and skimmed.
    fn both(text: &str) -> [Found; 2] {
        let parsed: Value = serde_json::from_str(text).expect("parses");
        let skimmed = skim(text).expect("skims");
        // The skim of the text is the skim of the template parsed (its imports in another
        // order where a key is given twice: a set is read from them).
        let sorted = |s: &Skim| {
            let mut imports: Vec<String> = s.imports.iter().map(Value::to_string).collect();
            imports.sort();
            (s.outputs.clone(), imports)
        };
        assert_eq!(sorted(&Skim::of(&parsed)), sorted(&skimmed), "{text}");
        [
            LinkTemplate::Parsed(&parsed),
            LinkTemplate::Skimmed(&skimmed),
        ]
        .map(|t| {
            let exports = t
                .exports("the-stack")
                .into_iter()
                .map(|e| (e.output.to_owned(), e.name, e.value.clone()))
                .collect();
            (exports, t.imported_names("the-stack").into_iter().collect())
        })
    }

    #[test]
    fn a_skim_finds_what_the_parsed_template_has() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../cdk.out");
        let mut read = 0;
        let (mut exports, mut imports) = (0, 0);
        for entry in std::fs::read_dir(dir).expect("the committed cdk.out") {
            let path = entry.expect("entry").path();
            if !path.to_string_lossy().ends_with(".template.json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("template");
            let [parsed, skimmed] = both(&text);
            assert_eq!(parsed, skimmed, "{}", path.display());
            exports += parsed.0.len();
            imports += parsed.1.len();
            read += 1;
        }
        assert!(
            read >= 13 && exports > 20 && imports > 20,
            "{read} {exports} {imports}"
        );

        let cases = [
            // A key twice: the last occurrence is the value, as in a parsed object.
            r#"{"Resources": {"A": {"Fn::ImportValue": "gone"}, "A": 1}}"#,
            r#"{"X": {"Fn::ImportValue": "first", "Fn::ImportValue": "last"}}"#,
            r#"{"Outputs": {"O": {"Value": 1, "Export": {"Name": "a"}}},
                "Outputs": {"P": {"Value": 2, "Export": {"Name": "b"}}}}"#,
            // Not alone: the argument is only searched, and so is every other key.
            r#"{"X": {"Fn::ImportValue": {"Fn::ImportValue": "inner"}, "Y": [{"Fn::ImportValue": "y"}]}}"#,
            // Escaped keys, the stack's name, the whole template an import, arrays.
            r#"{"Fn::Import\u0056alue": {"Fn::Sub": "${AWS::StackName}-x"}}"#,
            r#"[[{"Fn::ImportValue": "deep"}], {"Outputs": {"O": {"Export": {"Name": "not top"}}}}]"#,
            r#"{"Outputs": {"O": {"Value": {"Fn::ImportValue": "in-an-output"},
                "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:O"}}}, "Q": 3}}"#,
            r#"{"Outputs": [1, 2], "Resources": null}"#,
            r#""just a string""#,
        ];
        let mut found = Vec::new();
        for text in cases {
            let [parsed, skimmed] = both(text);
            assert_eq!(parsed, skimmed, "{text}");
            found.extend(parsed.0.into_iter().map(|e| e.1).chain(parsed.1));
        }
        found.sort();
        assert_eq!(
            found,
            [
                "b",
                "deep",
                "in-an-output",
                "inner",
                "last",
                "the-stack-x",
                "the-stack:O",
                "y"
            ]
        );
        // More keys than fit the bitmask of duplicates.
        let many: Vec<String> = (0..100)
            .map(|i| format!(r#""K{}": {{"Fn::ImportValue": "v{i}"}}"#, i % 70))
            .collect();
        let text = format!("{{{}}}", many.join(","));
        let [parsed, skimmed] = both(&text);
        assert_eq!(parsed.1.len(), 70);
        assert_eq!(parsed, skimmed);
    }

    #[test]
    fn a_skim_refuses_what_parsing_refuses() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let bad = [
            r#"{"a": 1e999}"#,
            r#"{"a": "\uZZZZ"}"#,
            r#"{"a": "\uD800"}"#,
            r#"{"a": 1,}"#,
            "[1,]",
            "{} x",
            r#"{"a": tru}"#,
            "",
            deep.as_str(),
        ];
        for text in bad {
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
            assert!(skim(text).is_err(), "{text}");
        }
    }
}
