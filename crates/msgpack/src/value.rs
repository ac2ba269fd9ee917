//! The dynamic msgpack value model used throughout oxiborg.

/// One msgpack value as borg sees it: strings and bytes are both [`Value::Raw`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `nil` (Python `None`).
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// Any integer in msgpack's range `[-2^63, 2^64-1]`.
    Int(i128),
    /// A float; borg never writes one, but readers tolerate it.
    Float(f64),
    /// str / raw / bin: bytes, with no claim about their encoding.
    Raw(Vec<u8>),
    /// An array.
    Array(Vec<Value>),
    /// A map, in stored order.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// A raw value from anything byte-like.
    pub fn raw(b: impl AsRef<[u8]>) -> Value {
        Value::Raw(b.as_ref().to_vec())
    }

    /// An integer value.
    pub fn int(i: impl Into<i128>) -> Value {
        Value::Int(i.into())
    }

    /// The bytes of a raw value.
    pub fn as_raw(&self) -> Option<&[u8]> {
        match self {
            Value::Raw(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a signed 64-bit integer, if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => i64::try_from(*i).ok(),
            _ => None,
        }
    }

    /// The value as an unsigned 64-bit integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Look up a raw key (e.g. `"path"`) in a map. `None` if this is not a
    /// map or the key is absent. With duplicate keys the last one wins, as in
    /// Python's dict.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_raw() == Some(key.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Sort the keys of this map (not recursively), bytewise, as borg's
    /// `StableDict` does. Non-raw keys sort after raw keys, stably.
    pub fn sort_map_keys(&mut self) {
        if let Value::Map(m) = self {
            m.sort_by(|(a, _), (b, _)| match (a.as_raw(), b.as_raw()) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Raw(s.as_bytes().to_vec())
    }
}

impl From<&[u8]> for Value {
    fn from(s: &[u8]) -> Self {
        Value::Raw(s.to_vec())
    }
}

impl From<Vec<u8>> for Value {
    fn from(s: Vec<u8>) -> Self {
        Value::Raw(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<u64> for Value {
    fn from(i: u64) -> Self {
        Value::Int(i.into())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i.into())
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i.into())
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i.into())
    }
}

/// Builds a map with raw string keys and sorts it on [`MapBuilder::build`],
/// the way borg's `StableDict` orders keys.
#[derive(Debug, Default, Clone)]
pub struct MapBuilder {
    entries: Vec<(Value, Value)>,
}

impl MapBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `key: value` (the key is stored as raw).
    pub fn insert(mut self, key: impl AsRef<[u8]>, value: impl Into<Value>) -> Self {
        self.push(key, value);
        self
    }

    /// Add `key: value` in place.
    pub fn push(&mut self, key: impl AsRef<[u8]>, value: impl Into<Value>) {
        self.entries.push((Value::raw(key), value.into()));
    }

    /// Add `key: value` only when `value` is `Some`.
    pub fn insert_opt(mut self, key: impl AsRef<[u8]>, value: Option<impl Into<Value>>) -> Self {
        if let Some(v) = value {
            self.push(key, v);
        }
        self
    }

    /// The sorted map.
    pub fn build(self) -> Value {
        let mut v = Value::Map(self.entries);
        v.sort_map_keys();
        v
    }
}
