//! A JSON tree that borrows its strings from the input. Records need key order, nesting and
//! strings only; `serde_json::Value` (an `IndexMap` per object with `preserve_order`, an owned
//! `String` per string and key) cost more to build and drop than reading the record's text.
//! The tree is what `Value` would hold as far as record extraction looks: same key order, and
//! a repeated key keeps its first position with its last value.
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

pub enum Json<'a> {
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
    /// A non-negative integer (MinerU page numbers).
    Unsigned(u64),
    /// Null, booleans and other numbers: never text.
    Other,
}

impl<'a> Json<'a> {
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Unsigned(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// Objects with more keys than this find repeated keys through a hash map, not a scan.
const SCAN_KEYS: usize = 16;

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Json<'de>, E> {
        Ok(Json::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Json<'de>, E> {
        Ok(Json::Other)
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Unsigned(n))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Json<'de>, E> {
        Ok(Json::Other)
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Other)
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut entries: Vec<(Cow<'de, str>, Json<'de>)> = Vec::new();
        let mut positions: HashMap<Cow<'de, str>, usize> = HashMap::new();
        while let Some(Key(key)) = map.next_key()? {
            let value = map.next_value()?;
            let repeated = if entries.len() <= SCAN_KEYS {
                entries.iter().position(|(k, _)| *k == key)
            } else {
                if positions.is_empty() {
                    positions = (entries.iter().enumerate())
                        .map(|(i, (k, _))| (k.clone(), i))
                        .collect();
                }
                positions.get(&key).copied()
            };
            match repeated {
                Some(i) => entries[i].1 = value,
                None => {
                    if !positions.is_empty() {
                        positions.insert(key.clone(), entries.len());
                    }
                    entries.push((key, value));
                }
            }
        }
        Ok(Json::Object(entries))
    }
}

/// An object key, borrowed unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(s.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_keep_first_position_and_last_value_like_value() {
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        for text in [
            r#"{"a": "1", "b": "2", "a": "3", "c\u0041": [true, null, -1, 2.5, 7]}"#.to_string(),
            format!(
                r#"{{{}, "k3": "x", "k39": "y", "new": "z"}}"#,
                many.join(", ")
            ),
        ] {
            let tree: Json = serde_json::from_str(&text).unwrap();
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let (Json::Object(entries), Some(map)) = (&tree, value.as_object()) else {
                panic!("not objects");
            };
            let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_ref()).collect();
            assert_eq!(keys, map.keys().map(String::as_str).collect::<Vec<_>>());
            for (key, expected) in map {
                let got = tree.get(key).unwrap();
                assert_eq!(got.as_str(), expected.as_str(), "{key}");
                assert_eq!(got.as_u64(), expected.as_u64(), "{key}");
            }
        }
    }
}
