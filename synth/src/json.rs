//! Template JSON as synthesis builds it: what values resolve into, what the schema check reads
//! and what the JSON and YAML writers write.
//!
//! Not `serde_json::Value`: its objects are `IndexMap`s hashed with SipHash, and a template is
//! mostly small objects built once, read once in order and written once. Hashing every key of
//! them and allocating a hash table for each was a sixth of synthesis. A [`JsonObject`] is its
//! entries in order in one vector; a lookup reads them in turn, which for the few keys of a
//! resource's property is as fast as hashing the key would be. Equality ignores the order of
//! an object's keys, as `serde_json::Value`'s does.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// A JSON value of a template.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum JsonValue {
    #[default]
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<JsonValue>),
    Object(JsonObject),
}

/// A JSON object: its entries in the order they were added, each key once.
#[derive(Clone, Debug, Default)]
pub struct JsonObject {
    entries: Vec<(String, JsonValue)>,
}

impl JsonValue {
    /// An object of one entry, as an intrinsic function is (`{"Ref": "Bucket"}`).
    pub fn single(key: &str, value: impl Into<JsonValue>) -> JsonValue {
        JsonValue::Object(JsonObject {
            entries: vec![(key.to_owned(), value.into())],
        })
    }

    /// The value at `key` of an object.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.as_object()?.get(key)
    }

    pub fn as_object(&self) -> Option<&JsonObject> {
        match self {
            JsonValue::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<JsonValue>> {
        match self {
            JsonValue::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }
}

impl JsonObject {
    pub fn new() -> JsonObject {
        JsonObject::default()
    }

    pub fn with_capacity(n: usize) -> JsonObject {
        JsonObject {
            entries: Vec::with_capacity(n),
        }
    }

    /// An object of entries whose keys the caller knows to be distinct (the entries of a map,
    /// or fixed keys): no key is compared.
    pub fn from_distinct(entries: Vec<(String, JsonValue)>) -> JsonObject {
        JsonObject { entries }
    }

    /// Sets `key` to `value`: in its place when the object has the key (the old value is
    /// returned), at the end when not, as `serde_json::Map` (with `preserve_order`) does.
    pub fn insert(&mut self, key: String, value: JsonValue) -> Option<JsonValue> {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Adds an entry whose key the caller knows the object does not have (see
    /// [`JsonObject::from_distinct`]).
    pub fn push_distinct(&mut self, key: String, value: JsonValue) {
        self.entries.push((key, value));
    }

    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &JsonValue)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }
}

impl PartialEq for JsonObject {
    fn eq(&self, other: &JsonObject) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl IntoIterator for JsonObject {
    type Item = (String, JsonValue);
    type IntoIter = std::vec::IntoIter<(String, JsonValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a JsonObject {
    type Item = (&'a String, &'a JsonValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, JsonValue)>,
        fn(&'a (String, JsonValue)) -> (&'a String, &'a JsonValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl Extend<(String, JsonValue)> for JsonObject {
    fn extend<I: IntoIterator<Item = (String, JsonValue)>>(&mut self, entries: I) {
        for (k, v) in entries {
            self.insert(k, v);
        }
    }
}

impl FromIterator<(String, JsonValue)> for JsonObject {
    /// Entries in order; a key given again replaces its value in place, as
    /// [`JsonObject::insert`] does.
    fn from_iter<I: IntoIterator<Item = (String, JsonValue)>>(entries: I) -> JsonObject {
        let mut o = JsonObject::new();
        o.extend(entries);
        o
    }
}

impl From<&str> for JsonValue {
    fn from(s: &str) -> JsonValue {
        JsonValue::String(s.to_owned())
    }
}

impl From<String> for JsonValue {
    fn from(s: String) -> JsonValue {
        JsonValue::String(s)
    }
}

impl From<bool> for JsonValue {
    fn from(b: bool) -> JsonValue {
        JsonValue::Bool(b)
    }
}

impl From<Vec<JsonValue>> for JsonValue {
    fn from(items: Vec<JsonValue>) -> JsonValue {
        JsonValue::Array(items)
    }
}

impl From<JsonObject> for JsonValue {
    fn from(o: JsonObject) -> JsonValue {
        JsonValue::Object(o)
    }
}

impl From<serde_json::Value> for JsonValue {
    fn from(v: serde_json::Value) -> JsonValue {
        match v {
            serde_json::Value::Null => JsonValue::Null,
            serde_json::Value::Bool(b) => JsonValue::Bool(b),
            serde_json::Value::Number(n) => JsonValue::Number(n),
            serde_json::Value::String(s) => JsonValue::String(s),
            serde_json::Value::Array(a) => {
                JsonValue::Array(a.into_iter().map(JsonValue::from).collect())
            }
            serde_json::Value::Object(m) => JsonValue::Object(JsonObject::from_distinct(
                m.into_iter().map(|(k, v)| (k, v.into())).collect(),
            )),
        }
    }
}

impl From<JsonValue> for serde_json::Value {
    fn from(v: JsonValue) -> serde_json::Value {
        match v {
            JsonValue::Null => serde_json::Value::Null,
            JsonValue::Bool(b) => serde_json::Value::Bool(b),
            JsonValue::Number(n) => serde_json::Value::Number(n),
            JsonValue::String(s) => serde_json::Value::String(s),
            JsonValue::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(Into::into).collect())
            }
            JsonValue::Object(o) => {
                serde_json::Value::Object(o.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
        }
    }
}

impl Serialize for JsonValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonValue::Null => s.serialize_unit(),
            JsonValue::Bool(b) => s.serialize_bool(*b),
            JsonValue::Number(n) => n.serialize(s),
            JsonValue::String(v) => s.serialize_str(v),
            JsonValue::Array(a) => a.serialize(s),
            JsonValue::Object(o) => o.serialize(s),
        }
    }
}

impl Serialize for JsonObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn insert_replaces_in_place_and_adds_at_the_end_as_serde_json_does() {
        let mut ours = JsonObject::new();
        let mut theirs = serde_json::Map::new();
        for (k, v) in [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)] {
            let old = ours.insert(k.to_owned(), json!(v).into());
            let old_theirs = theirs.insert(k.to_owned(), json!(v));
            assert_eq!(old, old_theirs.map(JsonValue::from));
        }
        assert_eq!(
            serde_json::Value::from(JsonValue::Object(ours.clone())),
            serde_json::Value::Object(theirs.clone())
        );
        let keys: Vec<&String> = ours.keys().collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(ours.get("a"), Some(&JsonValue::from(json!(5))));
        assert_eq!(ours.get("d"), None);
        let collected: JsonObject = [("x", 1), ("y", 2), ("x", 3)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), json!(v).into()))
            .collect();
        assert_eq!(collected.len(), 2);
        assert_eq!(collected.get("x"), Some(&JsonValue::from(json!(3))));
    }

    #[test]
    fn equality_ignores_the_order_of_keys_as_serde_json_does() {
        let a = JsonValue::from(json!({"x": 1, "y": [true, null, "s"]}));
        let b = JsonValue::from(json!({"y": [true, null, "s"], "x": 1}));
        assert_eq!(a, b);
        assert_ne!(a, JsonValue::from(json!({"x": 1, "y": [true, null]})));
        assert_ne!(a, JsonValue::from(json!({"x": 1})));
        assert_ne!(a, JsonValue::from(json!({"x": 1, "z": [true, null, "s"]})));
    }

    #[test]
    fn converts_to_and_from_serde_json_and_serializes_the_same() {
        let v = json!({"s": "a\"b", "n": [1, -2, 2.5, 1e300], "o": {"t": true, "f": false, "z": null}, "e": {}, "l": []});
        let ours = JsonValue::from(v.clone());
        assert_eq!(
            serde_json::to_string_pretty(&ours).ok(),
            serde_json::to_string_pretty(&v).ok()
        );
        assert_eq!(serde_json::Value::from(ours.clone()), v);
        assert_eq!(
            ours.get("o").and_then(|o| o.get("t")),
            Some(&JsonValue::Bool(true))
        );
        assert_eq!(ours.get("s").and_then(JsonValue::as_str), Some("a\"b"));
        assert_eq!(
            JsonValue::single("Ref", "X"),
            JsonValue::from(json!({"Ref": "X"}))
        );
    }
}
