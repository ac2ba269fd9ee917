//! Small helpers shared by the models.

use std::cmp::Ordering;

use oxiborg_msgpack::Value;

use crate::error::ModelError;

/// A [`ModelError::WrongType`].
pub(crate) fn wrong(what: &'static str, key: &str, expected: &'static str) -> ModelError {
    ModelError::WrongType {
        what,
        key: key.to_string(),
        expected,
    }
}

/// Order of map keys as borg's `StableDict` sorts them: raw keys bytewise,
/// anything else after them (stable).
pub(crate) fn key_cmp_raw(a: &Value, b: &Value) -> Ordering {
    match (a.as_raw(), b.as_raw()) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Whether map key `a` sorts before the raw key `b`.
pub(crate) fn key_lt_bytes(a: &Value, b: &[u8]) -> bool {
    a.as_raw().is_some_and(|x| x < b)
}

/// Sort the keys of every map inside `v`, as borg's readers do when they
/// decode metadata with `object_hook=StableDict` and pack it again.
pub(crate) fn sort_maps_recursive(v: &mut Value) {
    match v {
        Value::Map(m) => {
            m.sort_by(|a, b| key_cmp_raw(&a.0, &b.0));
            for (k, val) in m.iter_mut() {
                sort_maps_recursive(k);
                sort_maps_recursive(val);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(sort_maps_recursive),
        _ => {}
    }
}

/// Number of characters Python sees after `bytes.decode('utf-8',
/// 'surrogateescape')`: valid UTF-8 characters count once, every byte that
/// is not part of a valid sequence counts once.
pub fn surrogateescape_len(mut b: &[u8]) -> usize {
    let mut n = 0;
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => return n + s.chars().count(),
            Err(e) => {
                let valid = e.valid_up_to();
                // The prefix is valid UTF-8 by construction.
                n += std::str::from_utf8(&b[..valid])
                    .map(|s| s.chars().count())
                    .unwrap_or(valid);
                let bad = e.error_len().unwrap_or(b.len() - valid);
                n += bad;
                b = &b[valid + bad..];
            }
        }
    }
}
