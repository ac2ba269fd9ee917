//! `hints.N` (msgpack, version 2) and `integrity.N` (msgpack holding JSON).

use std::collections::{BTreeMap, HashMap};

use oxiborg_msgpack::{decode_one, encode, Value};

use crate::error::Id;

/// The bookkeeping a transaction carries from one commit to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// segment -> number of live PUTs in it.
    pub segments: BTreeMap<u32, i64>,
    /// segment -> bytes compaction could free.
    pub compact: BTreeMap<u32, u64>,
    /// Bytes the quota counts.
    pub storage_quota_use: u64,
    /// id -> segments holding superseded PUTs of it.
    pub shadow_index: HashMap<Id, Vec<u32>>,
}

/// What a hints file said, by format version.
#[derive(Debug)]
pub enum ParsedHints {
    /// Version 2: complete.
    V2(Hints),
    /// Version 1 (borg 1.0): `compact` is a list of segments whose freeable
    /// bytes must be recomputed by scanning them.
    V1 {
        /// Live PUT counts.
        segments: BTreeMap<u32, i64>,
        /// Segments to rescan.
        compact: Vec<u32>,
    },
}

fn u32_key(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

fn int_map(v: Option<&Value>) -> Option<BTreeMap<u32, i64>> {
    let mut out = BTreeMap::new();
    for (k, v) in v?.as_map()? {
        out.insert(u32_key(k)?, v.as_i64()?);
    }
    Some(out)
}

impl Hints {
    /// Encode as borg writes it: keys in borg's order (version, segments,
    /// compact, storage_quota_use, shadow_index), integer map keys.
    pub fn encode(&self) -> Vec<u8> {
        let segs = self
            .segments
            .iter()
            .map(|(k, v)| (Value::from(*k), Value::Int((*v).into())))
            .collect();
        let compact = self
            .compact
            .iter()
            .map(|(k, v)| (Value::from(*k), Value::from(*v)))
            .collect();
        let mut shadow: Vec<_> = self.shadow_index.iter().collect();
        shadow.sort();
        let shadow = shadow
            .into_iter()
            .map(|(id, segs)| {
                (
                    Value::raw(id),
                    Value::Array(segs.iter().map(|s| Value::from(*s)).collect()),
                )
            })
            .collect();
        encode(&Value::Map(vec![
            (Value::raw("version"), Value::int(2)),
            (Value::raw("segments"), Value::Map(segs)),
            (Value::raw("compact"), Value::Map(compact)),
            (
                Value::raw("storage_quota_use"),
                Value::from(self.storage_quota_use),
            ),
            (Value::raw("shadow_index"), Value::Map(shadow)),
        ]))
    }

    /// Decode a hints file; `None` for anything malformed or of an unknown version.
    pub fn decode(data: &[u8]) -> Option<ParsedHints> {
        let v = decode_one(data).ok()?;
        match v.get("version")?.as_u64()? {
            1 => {
                let segments = int_map(v.get("segments"))?;
                let compact = v
                    .get("compact")?
                    .as_array()?
                    .iter()
                    .map(u32_key)
                    .collect::<Option<Vec<_>>>()?;
                Some(ParsedHints::V1 { segments, compact })
            }
            2 => {
                let segments = int_map(v.get("segments"))?;
                let mut compact = BTreeMap::new();
                for (k, val) in int_map(v.get("compact"))? {
                    compact.insert(k, u64::try_from(val).ok()?);
                }
                let storage_quota_use = match v.get("storage_quota_use") {
                    None => 0,
                    Some(x) => x.as_u64()?,
                };
                let mut shadow_index = HashMap::new();
                if let Some(m) = v.get("shadow_index") {
                    for (k, segs) in m.as_map()? {
                        let id: Id = k.as_raw()?.try_into().ok()?;
                        let segs = segs
                            .as_array()?
                            .iter()
                            .map(u32_key)
                            .collect::<Option<Vec<_>>>()?;
                        shadow_index.insert(id, segs);
                    }
                }
                Some(ParsedHints::V2(Hints {
                    segments,
                    compact,
                    storage_quota_use,
                    shadow_index,
                }))
            }
            _ => None,
        }
    }
}

/// `integrity.N`: `{version: 2, hints: <json>, index: <json>}`.
pub fn encode_integrity(hints_json: &str, index_json: &str) -> Vec<u8> {
    encode(&Value::Map(vec![
        (Value::raw("version"), Value::int(2)),
        (Value::raw("hints"), Value::raw(hints_json)),
        (Value::raw("index"), Value::raw(index_json)),
    ]))
}

/// What an `integrity.N` file says about one of the files it covers.
#[derive(Debug, PartialEq, Eq)]
pub enum IntegrityInfo {
    /// No integrity data: verify nothing.
    Unverified,
    /// The JSON digests for that file.
    Json(String),
}

/// Read `integrity.N` for `which` (`"hints"` or `"index"`). `Err` when the
/// file is unreadable in a way borg treats as fatal (not msgpack, or the key
/// is missing).
pub fn integrity_for(data: Option<&[u8]>, which: &str) -> Result<IntegrityInfo, String> {
    let Some(data) = data else {
        return Ok(IntegrityInfo::Unverified);
    };
    let v = decode_one(data).map_err(|e| format!("integrity file is not valid msgpack: {e}"))?;
    if v.get("version").and_then(Value::as_u64) != Some(2) {
        return Ok(IntegrityInfo::Unverified);
    }
    let json = v
        .get(which)
        .and_then(Value::as_raw)
        .ok_or_else(|| format!("integrity file lacks {which:?}"))?;
    Ok(IntegrityInfo::Json(
        String::from_utf8_lossy(json).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borg_init_hints_bytes() {
        // borg1-storage.md 4.1: hints after `init -e none`.
        let mut h = Hints::default();
        h.segments.insert(0, 1);
        h.segments.insert(1, 0);
        h.compact.insert(1, 9);
        h.storage_quota_use = 468;
        let mut want = vec![0x85, 0xa7];
        want.extend_from_slice(b"version");
        want.extend_from_slice(&[0x02, 0xa8]);
        want.extend_from_slice(b"segments");
        want.extend_from_slice(&[0x82, 0x00, 0x01, 0x01, 0x00, 0xa7]);
        want.extend_from_slice(b"compact");
        want.extend_from_slice(&[0x81, 0x01, 0x09, 0xb1]);
        want.extend_from_slice(b"storage_quota_use");
        want.extend_from_slice(&[0xcd, 0x01, 0xd4, 0xac]);
        want.extend_from_slice(b"shadow_index");
        want.push(0x80);
        assert_eq!(h.encode(), want);
        match Hints::decode(&want) {
            Some(ParsedHints::V2(back)) => assert_eq!(back, h),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_hints_are_none() {
        assert!(Hints::decode(b"").is_none());
        assert!(
            Hints::decode(&[0x81, 0xa7, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x03]).is_none()
        );
    }
}
