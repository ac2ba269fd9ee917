//! Archive metadata objects (`src/borg/item.pyx: ArchiveItem`,
//! `src/borg/archive.py: Archive.save`).
//!
//! The TAM (`tam` key) is handled elsewhere: [`ArchiveItem::from_value`]
//! drops a `tam` key and [`ArchiveItem::to_value`] never writes one.

use oxiborg_msgpack::{MapBuilder, Value};

use crate::error::ModelError;
use crate::timestamp::UtcTimestamp;
use crate::value_util::{key_cmp_raw, sort_maps_recursive, wrong};

/// borg 1.4.5's `ARCHIVE_KEYS`, sorted.
pub const ARCHIVE_KEYS: [&str; 21] = [
    "chunker_params",
    "cmdline",
    "comment",
    "csize",
    "csize_parts",
    "cwd",
    "hostname",
    "items",
    "name",
    "nfiles",
    "nfiles_parts",
    "recreate_args",
    "recreate_cmdline",
    "recreate_partial_chunks",
    "recreate_source_id",
    "size",
    "size_parts",
    "time",
    "time_end",
    "username",
    "version",
];

/// `REQUIRED_ARCHIVE_KEYS`.
pub const REQUIRED_ARCHIVE_KEYS: [&str; 5] = ["version", "name", "items", "cmdline", "time"];

/// The only archive metadata version.
pub const ARCHIVE_VERSION: i64 = 1;

/// borg's default chunker parameters `("buzhash", 19, 23, 21, 4095)`.
pub const DEFAULT_CHUNKER_PARAMS: ChunkerParams = ChunkerParams::Buzhash {
    min_exp: 19,
    max_exp: 23,
    mask_bits: 21,
    window_size: 4095,
};

/// `ArchiveItem.chunker_params` as recorded by `borg create`.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkerParams {
    /// `["buzhash", min_exp, max_exp, mask_bits, window_size]` (borg ≥ 1.2).
    Buzhash {
        /// log2 of the minimum chunk size.
        min_exp: u32,
        /// log2 of the maximum chunk size.
        max_exp: u32,
        /// Number of hash bits that must be zero at a boundary.
        mask_bits: u32,
        /// Rolling hash window size.
        window_size: u32,
    },
    /// `[min_exp, max_exp, mask_bits, window_size]`: buzhash as written by
    /// borg < 1.2 (kept in this form so it is written back unchanged).
    LegacyBuzhash {
        /// log2 of the minimum chunk size.
        min_exp: u32,
        /// log2 of the maximum chunk size.
        max_exp: u32,
        /// Number of hash bits that must be zero at a boundary.
        mask_bits: u32,
        /// Rolling hash window size.
        window_size: u32,
    },
    /// `["fixed", block_size, header_size]`.
    Fixed {
        /// Block size in bytes.
        block_size: u64,
        /// Size of the separately chunked header in bytes (0 for none).
        header_size: u64,
    },
    /// Anything else, kept verbatim.
    Other(Value),
}

impl ChunkerParams {
    /// Interpret a stored value; unknown shapes become [`ChunkerParams::Other`].
    pub fn from_value(v: Value) -> ChunkerParams {
        let u32_of = |v: &Value| v.as_u64().and_then(|x| u32::try_from(x).ok());
        if let Some(a) = v.as_array() {
            match a {
                [Value::Raw(n), a1, a2, a3, a4] if n.as_slice() == b"buzhash" => {
                    if let (Some(min_exp), Some(max_exp), Some(mask_bits), Some(window_size)) =
                        (u32_of(a1), u32_of(a2), u32_of(a3), u32_of(a4))
                    {
                        return ChunkerParams::Buzhash {
                            min_exp,
                            max_exp,
                            mask_bits,
                            window_size,
                        };
                    }
                }
                [a1, a2, a3, a4] => {
                    if let (Some(min_exp), Some(max_exp), Some(mask_bits), Some(window_size)) =
                        (u32_of(a1), u32_of(a2), u32_of(a3), u32_of(a4))
                    {
                        return ChunkerParams::LegacyBuzhash {
                            min_exp,
                            max_exp,
                            mask_bits,
                            window_size,
                        };
                    }
                }
                [Value::Raw(n), b, h] if n.as_slice() == b"fixed" => {
                    if let (Some(block_size), Some(header_size)) = (b.as_u64(), h.as_u64()) {
                        return ChunkerParams::Fixed {
                            block_size,
                            header_size,
                        };
                    }
                }
                _ => {}
            }
        }
        ChunkerParams::Other(v)
    }

    /// The stored form.
    pub fn to_value(&self) -> Value {
        match self {
            ChunkerParams::Buzhash {
                min_exp,
                max_exp,
                mask_bits,
                window_size,
            } => Value::Array(vec![
                Value::raw("buzhash"),
                Value::from(*min_exp),
                Value::from(*max_exp),
                Value::from(*mask_bits),
                Value::from(*window_size),
            ]),
            ChunkerParams::LegacyBuzhash {
                min_exp,
                max_exp,
                mask_bits,
                window_size,
            } => Value::Array(vec![
                Value::from(*min_exp),
                Value::from(*max_exp),
                Value::from(*mask_bits),
                Value::from(*window_size),
            ]),
            ChunkerParams::Fixed {
                block_size,
                header_size,
            } => Value::Array(vec![
                Value::raw("fixed"),
                Value::from(*block_size),
                Value::from(*header_size),
            ]),
            ChunkerParams::Other(v) => v.clone(),
        }
    }

    /// The buzhash parameters, with legacy 4-tuples normalised as borg's
    /// `normalize_chunker_params` does.
    pub fn normalized(&self) -> ChunkerParams {
        match self {
            ChunkerParams::LegacyBuzhash {
                min_exp,
                max_exp,
                mask_bits,
                window_size,
            } => ChunkerParams::Buzhash {
                min_exp: *min_exp,
                max_exp: *max_exp,
                mask_bits: *mask_bits,
                window_size: *window_size,
            },
            other => other.clone(),
        }
    }
}

/// The archive metadata object (every key of borg 1.4's `ARCHIVE_KEYS`).
///
/// Text fields are raw bytes as stored; the two time strings are UTF-8 in
/// `ISO_FORMAT` (use [`ArchiveItem::start_time`] to parse).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArchiveItem {
    /// Archive name.
    pub name: Vec<u8>,
    /// IDs of the item-stream chunks, in order.
    pub items: Vec<[u8; 32]>,
    /// argv of the creating command.
    pub cmdline: Vec<Vec<u8>>,
    /// Host name.
    pub hostname: Option<Vec<u8>>,
    /// User name.
    pub username: Option<Vec<u8>>,
    /// Start time, UTC, `ISO_FORMAT`.
    pub time: String,
    /// End time, UTC, `ISO_FORMAT`.
    pub time_end: Option<String>,
    /// Comment (`""` when none).
    pub comment: Option<Vec<u8>>,
    /// Chunker parameters used for the content.
    pub chunker_params: Option<ChunkerParams>,
    /// Working directory at creation (borg ≥ 1.4.4).
    pub cwd: Option<Vec<u8>>,
    /// Sum of the plaintext sizes of all chunk references.
    pub size: Option<u64>,
    /// Sum of the stored sizes of all chunk references.
    pub csize: Option<u64>,
    /// Number of regular files.
    pub nfiles: Option<u64>,
    /// `size` for part files.
    pub size_parts: Option<u64>,
    /// `csize` for part files.
    pub csize_parts: Option<u64>,
    /// `nfiles` for part files.
    pub nfiles_parts: Option<u64>,
    /// argv of the last `borg recreate`.
    pub recreate_cmdline: Option<Vec<Vec<u8>>>,
    /// Only in 1.1.0b1–b2 archives.
    pub recreate_source_id: Option<Vec<u8>>,
    /// Only in 1.1.0b1–b2 archives.
    pub recreate_args: Option<Value>,
    /// Only in 1.1.0b1–b2 archives.
    pub recreate_partial_chunks: Option<Value>,
    /// Unknown keys, kept.
    pub extra: Vec<(Value, Value)>,
}

const WHAT: &str = "archive";

fn raw(key: &str, v: Value) -> Result<Vec<u8>, ModelError> {
    match v {
        Value::Raw(b) => Ok(b),
        _ => Err(wrong(WHAT, key, "raw bytes")),
    }
}

fn string(key: &str, v: Value) -> Result<String, ModelError> {
    String::from_utf8(raw(key, v)?).map_err(|_| wrong(WHAT, key, "UTF-8 time string"))
}

fn uint(key: &str, v: Value) -> Result<u64, ModelError> {
    v.as_u64()
        .ok_or_else(|| wrong(WHAT, key, "unsigned integer"))
}

fn raw_list(key: &str, v: Value) -> Result<Vec<Vec<u8>>, ModelError> {
    match v {
        Value::Array(a) => a
            .into_iter()
            .map(|e| match e {
                Value::Raw(b) => Ok(b),
                _ => Err(wrong(WHAT, key, "array of raw bytes")),
            })
            .collect(),
        _ => Err(wrong(WHAT, key, "array of raw bytes")),
    }
}

fn raw_list_value(l: &[Vec<u8>]) -> Value {
    Value::Array(l.iter().map(|b| Value::Raw(b.clone())).collect())
}

impl ArchiveItem {
    /// Parse archive metadata (TAM already verified and removed by the
    /// caller; a remaining `tam` key is ignored). Requires `version` == 1,
    /// `name`, `items` (32-byte IDs), `cmdline` and `time`.
    pub fn from_value(v: Value) -> Result<ArchiveItem, ModelError> {
        let Value::Map(entries) = v else {
            return Err(ModelError::NotAMap { what: WHAT });
        };
        let mut a = ArchiveItem::default();
        let mut version = None;
        let (mut has_name, mut has_items, mut has_cmdline, mut has_time) =
            (false, false, false, false);
        for (k, v) in entries {
            let Some(name) = k.as_raw().and_then(|b| std::str::from_utf8(b).ok()) else {
                a.extra.push((k, v));
                continue;
            };
            match name {
                "version" => version = Some(v),
                "name" => {
                    a.name = raw(name, v)?;
                    has_name = true;
                }
                "items" => {
                    let Value::Array(ids) = v else {
                        return Err(wrong(WHAT, name, "array of 32-byte ids"));
                    };
                    a.items = ids
                        .into_iter()
                        .map(|id| {
                            id.as_raw()
                                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                                .ok_or_else(|| wrong(WHAT, "items", "array of 32-byte ids"))
                        })
                        .collect::<Result<_, _>>()?;
                    has_items = true;
                }
                "cmdline" => {
                    a.cmdline = raw_list(name, v)?;
                    has_cmdline = true;
                }
                "time" => {
                    a.time = string(name, v)?;
                    has_time = true;
                }
                "hostname" => a.hostname = Some(raw(name, v)?),
                "username" => a.username = Some(raw(name, v)?),
                "time_end" => a.time_end = Some(string(name, v)?),
                "comment" => a.comment = Some(raw(name, v)?),
                "chunker_params" => a.chunker_params = Some(ChunkerParams::from_value(v)),
                "cwd" => a.cwd = Some(raw(name, v)?),
                "size" => a.size = Some(uint(name, v)?),
                "csize" => a.csize = Some(uint(name, v)?),
                "nfiles" => a.nfiles = Some(uint(name, v)?),
                "size_parts" => a.size_parts = Some(uint(name, v)?),
                "csize_parts" => a.csize_parts = Some(uint(name, v)?),
                "nfiles_parts" => a.nfiles_parts = Some(uint(name, v)?),
                "recreate_cmdline" => a.recreate_cmdline = Some(raw_list(name, v)?),
                "recreate_source_id" => a.recreate_source_id = Some(raw(name, v)?),
                "recreate_args" => a.recreate_args = Some(v),
                "recreate_partial_chunks" => a.recreate_partial_chunks = Some(v),
                "tam" => {}
                _ => a.extra.push((k, v)),
            }
        }
        match version {
            Some(Value::Int(1)) => {}
            Some(other) => {
                return Err(ModelError::UnknownArchiveVersion(format!("{other:?}")));
            }
            None => {
                return Err(ModelError::MissingKey {
                    what: WHAT,
                    key: "version",
                })
            }
        }
        for (present, key) in [
            (has_name, "name"),
            (has_items, "items"),
            (has_cmdline, "cmdline"),
            (has_time, "time"),
        ] {
            if !present {
                return Err(ModelError::MissingKey { what: WHAT, key });
            }
        }
        Ok(a)
    }

    /// The metadata as a msgpack map with sorted keys (nested maps sorted
    /// too, as borg writes them), without `tam`.
    pub fn to_value(&self) -> Value {
        let mut b = MapBuilder::new()
            .insert("version", Value::from(ARCHIVE_VERSION))
            .insert("name", Value::Raw(self.name.clone()))
            .insert(
                "items",
                Value::Array(
                    self.items
                        .iter()
                        .map(|id| Value::Raw(id.to_vec()))
                        .collect(),
                ),
            )
            .insert("cmdline", raw_list_value(&self.cmdline))
            .insert("time", Value::raw(&self.time))
            .insert_opt("hostname", self.hostname.clone())
            .insert_opt("username", self.username.clone())
            .insert_opt("time_end", self.time_end.as_deref().map(Value::raw))
            .insert_opt("comment", self.comment.clone())
            .insert_opt(
                "chunker_params",
                self.chunker_params.as_ref().map(ChunkerParams::to_value),
            )
            .insert_opt("cwd", self.cwd.clone())
            .insert_opt("size", self.size)
            .insert_opt("csize", self.csize)
            .insert_opt("nfiles", self.nfiles)
            .insert_opt("size_parts", self.size_parts)
            .insert_opt("csize_parts", self.csize_parts)
            .insert_opt("nfiles_parts", self.nfiles_parts)
            .insert_opt(
                "recreate_cmdline",
                self.recreate_cmdline.as_deref().map(raw_list_value),
            )
            .insert_opt("recreate_source_id", self.recreate_source_id.clone())
            .insert_opt("recreate_args", self.recreate_args.clone())
            .insert_opt(
                "recreate_partial_chunks",
                self.recreate_partial_chunks.clone(),
            )
            .build();
        if let Value::Map(m) = &mut b {
            m.extend(self.extra.iter().cloned());
            m.sort_by(|x, y| key_cmp_raw(&x.0, &y.0));
        }
        sort_maps_recursive(&mut b);
        b
    }

    /// borg's msgpack bytes of this metadata without TAM.
    pub fn encode(&self) -> Vec<u8> {
        oxiborg_msgpack::encode(&self.to_value())
    }

    /// The parsed start time.
    pub fn start_time(&self) -> Result<UtcTimestamp, ModelError> {
        UtcTimestamp::parse_iso(&self.time)
    }

    /// The parsed end time, if recorded.
    pub fn end_time(&self) -> Option<Result<UtcTimestamp, ModelError>> {
        self.time_end.as_deref().map(UtcTimestamp::parse_iso)
    }
}
