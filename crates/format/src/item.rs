//! Archive items (`src/borg/item.pyx: Item`) and the item stream.
//!
//! An archive's item stream is a plain concatenation of msgpack maps, one per
//! filesystem object, with keys in sorted order. It is cut into chunks at
//! arbitrary byte positions, so a reader must carry partial items across
//! chunk boundaries ([`ItemStreamReader`]).

use std::collections::BTreeMap;

use oxiborg_msgpack::{DecodeError, Decoder, Encoder, Value};

use crate::error::ModelError;
use crate::value_util::{key_cmp_raw, key_lt_bytes, wrong};

/// borg 1.4.5's `ITEM_KEYS` (`src/borg/constants.py`), sorted: every key an
/// item may carry without `borg check` complaining (besides the manifest's
/// registered `item_keys`).
pub const ITEM_KEYS: [&str; 23] = [
    "acl_access",
    "acl_default",
    "acl_extended",
    "acl_nfs4",
    "atime",
    "birthtime",
    "bsdflags",
    "chunks",
    "chunks_healthy",
    "ctime",
    "gid",
    "group",
    "hardlink_master",
    "mode",
    "mtime",
    "part",
    "path",
    "rdev",
    "size",
    "source",
    "uid",
    "user",
    "xattrs",
];

/// Keys every item must have (`REQUIRED_ITEM_KEYS`).
pub const REQUIRED_ITEM_KEYS: [&str; 2] = ["path", "mtime"];

/// File type bits of `st_mode`.
pub const S_IFMT: u32 = 0o170000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// FIFO.
pub const S_IFIFO: u32 = 0o010000;
/// Block device.
pub const S_IFBLK: u32 = 0o060000;
/// Character device.
pub const S_IFCHR: u32 = 0o020000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140000;

/// One entry of an item's chunk list: `[id, size, csize]`
/// (borg's `ChunkListEntry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkListEntry {
    /// The chunk ID (32 bytes).
    pub id: [u8; 32],
    /// Plaintext size.
    pub size: u64,
    /// Stored (compressed + encrypted) size; 0 when unknown (AdHocCache).
    pub csize: u64,
}

/// Extended attributes: name → value, sorted by name. An empty value is
/// stored as nil (`None`), as borg does.
pub type Xattrs = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// One archive item with every key borg 1.x writes or reads. Absent keys are
/// `None`; keys this crate does not know are kept in [`Item::extra`] and
/// written back unchanged.
///
/// Text fields (`path`, `source`, `user`, `group`) are the original OS bytes.
/// Times are nanoseconds since the Unix epoch; they are `i128` because borg
/// 1.0 stored out-of-range times as "bigints" (raw little-endian two's
/// complement) and those are read back losslessly.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item {
    /// Relative path (required).
    pub path: Vec<u8>,
    /// Full `st_mode` (type bits and permissions).
    pub mode: Option<u32>,
    /// Numeric owner.
    pub uid: Option<i64>,
    /// Numeric group.
    pub gid: Option<i64>,
    /// Owner name: `Some(None)` is a stored nil (numeric ids / unknown).
    pub user: Option<Option<Vec<u8>>>,
    /// Group name: `Some(None)` is a stored nil.
    pub group: Option<Option<Vec<u8>>>,
    /// Modification time in ns (required).
    pub mtime: i128,
    /// Access time in ns (only with `--atime`).
    pub atime: Option<i128>,
    /// Status change time in ns.
    pub ctime: Option<i128>,
    /// Birth time in ns.
    pub birthtime: Option<i128>,
    /// Sum of the chunk sizes (items with their own chunk list).
    pub size: Option<u64>,
    /// Content chunks in file order.
    pub chunks: Option<Vec<ChunkListEntry>>,
    /// Original chunk list saved by `borg check --repair`.
    pub chunks_healthy: Option<Vec<ChunkListEntry>>,
    /// Symlink target, or the master's path for a hardlink slave.
    pub source: Option<Vec<u8>>,
    /// Set on hardlinkable non-slaves: true when `st_nlink > 1`.
    pub hardlink_master: Option<bool>,
    /// `st_rdev` of devices.
    pub rdev: Option<u64>,
    /// Extended attributes.
    pub xattrs: Option<Xattrs>,
    /// POSIX access ACL text.
    pub acl_access: Option<Vec<u8>>,
    /// POSIX default ACL text (directories).
    pub acl_default: Option<Vec<u8>>,
    /// macOS extended ACL text.
    pub acl_extended: Option<Vec<u8>>,
    /// FreeBSD NFSv4 ACL text.
    pub acl_nfs4: Option<Vec<u8>>,
    /// BSD file flags.
    pub bsdflags: Option<u64>,
    /// Checkpoint part-file number.
    pub part: Option<u64>,
    /// Keys not listed above, kept verbatim in their stored order.
    pub extra: Vec<(Value, Value)>,
}

const WHAT: &str = "item";

fn take_raw(key: &str, v: Value) -> Result<Vec<u8>, ModelError> {
    match v {
        Value::Raw(b) => Ok(b),
        _ => Err(wrong(WHAT, key, "raw bytes")),
    }
}

fn take_raw_or_nil(key: &str, v: Value) -> Result<Option<Vec<u8>>, ModelError> {
    match v {
        Value::Raw(b) => Ok(Some(b)),
        Value::Nil => Ok(None),
        _ => Err(wrong(WHAT, key, "raw bytes or nil")),
    }
}

fn take_int<T: TryFrom<i128>>(
    key: &str,
    v: Value,
    expected: &'static str,
) -> Result<T, ModelError> {
    match v {
        Value::Int(i) => T::try_from(i).map_err(|_| wrong(WHAT, key, expected)),
        _ => Err(wrong(WHAT, key, expected)),
    }
}

/// borg's `bigint_to_int`: raw bytes are a little-endian two's complement
/// integer; ints are taken as they are. `None` for other types and for
/// values outside `i128`.
pub fn bigint_to_int(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Raw(b) => {
            let negative = b.last().is_some_and(|&x| x & 0x80 != 0);
            let fill = if negative { 0xffu8 } else { 0 };
            let mut buf = [fill; 16];
            let n = b.len().min(16);
            buf[..n].copy_from_slice(&b[..n]);
            // Longer forms are fine only as pure sign extension.
            if b.len() > 16
                && (b[16..].iter().any(|&x| x != fill) || (buf[15] & 0x80 != 0) != negative)
            {
                return None;
            }
            Some(i128::from_le_bytes(buf))
        }
        _ => None,
    }
}

/// Bits needed for `|v|` (Python's `int.bit_length`).
fn bit_length(v: i128) -> u32 {
    128 - v.unsigned_abs().leading_zeros()
}

/// borg's `int_to_bigint`: the little-endian two's complement bytes of `v`
/// (length `(bit_length + 9) // 8`) when it needs more than 63 bits, else
/// `None` (store it as a plain int).
pub fn int_to_bigint(v: i128) -> Option<Vec<u8>> {
    let bl = bit_length(v);
    if bl <= 63 {
        return None;
    }
    let len = ((bl + 9) / 8) as usize;
    let bytes = v.to_le_bytes();
    let mut out = bytes[..len.min(16)].to_vec();
    // bit_length 127 (only for -2^127..) would need 17 bytes: sign-extend.
    while out.len() < len {
        out.push(if v < 0 { 0xff } else { 0 });
    }
    Some(out)
}

fn take_time(key: &str, v: Value) -> Result<i128, ModelError> {
    bigint_to_int(&v).ok_or_else(|| wrong(WHAT, key, "integer nanoseconds (or bigint bytes)"))
}

fn take_bool(key: &str, v: Value) -> Result<bool, ModelError> {
    match v {
        Value::Bool(b) => Ok(b),
        _ => Err(wrong(WHAT, key, "bool")),
    }
}

/// Parse a chunk list: an array of `[raw32 id, size, csize]`.
pub fn chunks_from_value(key: &'static str, v: Value) -> Result<Vec<ChunkListEntry>, ModelError> {
    let Value::Array(entries) = v else {
        return Err(wrong(WHAT, key, "array of [id, size, csize]"));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (index, e) in entries.into_iter().enumerate() {
        let bad = |reason| ModelError::BadChunkEntry { key, index, reason };
        let Value::Array(parts) = e else {
            return Err(bad("not an array"));
        };
        let [id, size, csize] = <[Value; 3]>::try_from(parts).map_err(|_| bad("not 3 elements"))?;
        let id: [u8; 32] = match id {
            Value::Raw(b) => {
                <[u8; 32]>::try_from(b.as_slice()).map_err(|_| bad("id is not 32 bytes"))?
            }
            _ => return Err(bad("id is not raw bytes")),
        };
        let size = size
            .as_u64()
            .ok_or_else(|| bad("size is not a non-negative integer"))?;
        let csize = csize
            .as_u64()
            .ok_or_else(|| bad("csize is not a non-negative integer"))?;
        out.push(ChunkListEntry { id, size, csize });
    }
    Ok(out)
}

fn take_xattrs(v: Value) -> Result<Xattrs, ModelError> {
    let Value::Map(entries) = v else {
        return Err(wrong(WHAT, "xattrs", "map"));
    };
    let mut out = BTreeMap::new();
    for (k, v) in entries {
        let Value::Raw(k) = k else {
            return Err(wrong(WHAT, "xattrs", "raw attribute names"));
        };
        let v = take_raw_or_nil("xattrs", v)?;
        out.insert(k, v);
    }
    Ok(out)
}

fn chunks_to_value(chunks: &[ChunkListEntry]) -> Value {
    Value::Array(
        chunks
            .iter()
            .map(|c| {
                Value::Array(vec![
                    Value::Raw(c.id.to_vec()),
                    Value::Int(c.size.into()),
                    Value::Int(c.csize.into()),
                ])
            })
            .collect(),
    )
}

fn time_to_value(t: i128) -> Value {
    match int_to_bigint(t) {
        Some(b) => Value::Raw(b),
        None => Value::Int(t),
    }
}

fn opt_raw_value(v: &Option<Vec<u8>>) -> Value {
    match v {
        Some(b) => Value::Raw(b.clone()),
        None => Value::Nil,
    }
}

fn encode_time(enc: &mut Encoder<'_>, t: i128) {
    match int_to_bigint(t) {
        Some(b) => enc.raw(&b),
        // bit_length <= 63 always fits i64.
        None => enc.int(i64::try_from(t).unwrap_or_default()),
    }
}

fn encode_opt_raw(enc: &mut Encoder<'_>, v: &Option<Vec<u8>>) {
    match v {
        Some(b) => enc.raw(b),
        None => enc.nil(),
    }
}

fn encode_chunks(enc: &mut Encoder<'_>, chunks: &[ChunkListEntry]) {
    enc.array_header(chunks.len());
    for c in chunks {
        enc.array_header(3);
        enc.raw(&c.id);
        enc.uint(c.size);
        enc.uint(c.csize);
    }
}

/// A known item field, borrowed for encoding.
enum Field<'a> {
    Raw(&'a [u8]),
    OptRaw(&'a Option<Vec<u8>>),
    UInt(u64),
    Int(i64),
    Time(i128),
    Bool(bool),
    Chunks(&'a [ChunkListEntry]),
    Xattrs(&'a Xattrs),
}

impl Field<'_> {
    fn encode(&self, enc: &mut Encoder<'_>) {
        match self {
            Field::Raw(b) => enc.raw(b),
            Field::OptRaw(v) => encode_opt_raw(enc, v),
            Field::UInt(u) => enc.uint(*u),
            Field::Int(i) => enc.int(*i),
            Field::Time(t) => encode_time(enc, *t),
            Field::Bool(b) => enc.bool(*b),
            Field::Chunks(c) => encode_chunks(enc, c),
            Field::Xattrs(x) => {
                enc.map_header(x.len());
                for (k, v) in x.iter() {
                    enc.raw(k);
                    encode_opt_raw(enc, v);
                }
            }
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Field::Raw(b) => Value::Raw(b.to_vec()),
            Field::OptRaw(v) => opt_raw_value(v),
            Field::UInt(u) => Value::Int((*u).into()),
            Field::Int(i) => Value::Int((*i).into()),
            Field::Time(t) => time_to_value(*t),
            Field::Bool(b) => Value::Bool(*b),
            Field::Chunks(c) => chunks_to_value(c),
            Field::Xattrs(x) => Value::Map(
                x.iter()
                    .map(|(k, v)| (Value::Raw(k.clone()), opt_raw_value(v)))
                    .collect(),
            ),
        }
    }
}

impl Item {
    /// A new item with the two required keys.
    pub fn new(path: impl Into<Vec<u8>>, mtime_ns: i128) -> Self {
        Item {
            path: path.into(),
            mtime: mtime_ns,
            ..Item::default()
        }
    }

    /// Visit the known fields that are present, in sorted key order.
    fn for_each_field<'a>(&'a self, mut f: impl FnMut(&'static str, Field<'a>)) {
        if let Some(v) = &self.acl_access {
            f("acl_access", Field::Raw(v));
        }
        if let Some(v) = &self.acl_default {
            f("acl_default", Field::Raw(v));
        }
        if let Some(v) = &self.acl_extended {
            f("acl_extended", Field::Raw(v));
        }
        if let Some(v) = &self.acl_nfs4 {
            f("acl_nfs4", Field::Raw(v));
        }
        if let Some(v) = self.atime {
            f("atime", Field::Time(v));
        }
        if let Some(v) = self.birthtime {
            f("birthtime", Field::Time(v));
        }
        if let Some(v) = self.bsdflags {
            f("bsdflags", Field::UInt(v));
        }
        if let Some(v) = &self.chunks {
            f("chunks", Field::Chunks(v));
        }
        if let Some(v) = &self.chunks_healthy {
            f("chunks_healthy", Field::Chunks(v));
        }
        if let Some(v) = self.ctime {
            f("ctime", Field::Time(v));
        }
        if let Some(v) = self.gid {
            f("gid", Field::Int(v));
        }
        if let Some(v) = &self.group {
            f("group", Field::OptRaw(v));
        }
        if let Some(v) = self.hardlink_master {
            f("hardlink_master", Field::Bool(v));
        }
        if let Some(v) = self.mode {
            f("mode", Field::UInt(v.into()));
        }
        f("mtime", Field::Time(self.mtime));
        if let Some(v) = self.part {
            f("part", Field::UInt(v));
        }
        f("path", Field::Raw(&self.path));
        if let Some(v) = self.rdev {
            f("rdev", Field::UInt(v));
        }
        if let Some(v) = self.size {
            f("size", Field::UInt(v));
        }
        if let Some(v) = &self.source {
            f("source", Field::Raw(v));
        }
        if let Some(v) = self.uid {
            f("uid", Field::Int(v));
        }
        if let Some(v) = &self.user {
            f("user", Field::OptRaw(v));
        }
        if let Some(v) = &self.xattrs {
            f("xattrs", Field::Xattrs(v));
        }
    }

    /// Number of keys this item will be encoded with.
    pub fn key_count(&self) -> usize {
        let mut n = 0;
        self.for_each_field(|_, _| n += 1);
        n + self.extra.len()
    }

    /// Append borg's exact msgpack encoding of this item (a map with sorted
    /// keys) to `out`. This is the hot path of archive creation: it writes
    /// directly, without building a [`Value`].
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let n = self.key_count();
        let mut enc = Encoder::new(out);
        enc.map_header(n);
        if self.extra.is_empty() {
            self.for_each_field(|k, v| {
                enc.raw(k.as_bytes());
                v.encode(&mut enc);
            });
            return;
        }
        let mut extra: Vec<&(Value, Value)> = self.extra.iter().collect();
        extra.sort_by(|a, b| key_cmp_raw(&a.0, &b.0));
        let mut next = 0;
        self.for_each_field(|k, v| {
            while next < extra.len() && key_lt_bytes(&extra[next].0, k.as_bytes()) {
                enc.value(&extra[next].0);
                enc.value(&extra[next].1);
                next += 1;
            }
            enc.raw(k.as_bytes());
            v.encode(&mut enc);
        });
        for (k, v) in &extra[next..] {
            enc.value(k);
            enc.value(v);
        }
    }

    /// borg's exact msgpack bytes for this item.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.encode_into(&mut out);
        out
    }

    /// This item as a msgpack map with sorted keys (same content as
    /// [`Item::encode`]).
    pub fn to_value(&self) -> Value {
        let mut entries: Vec<(Value, Value)> = Vec::with_capacity(self.key_count());
        self.for_each_field(|k, v| entries.push((Value::raw(k), v.to_value())));
        entries.extend(self.extra.iter().cloned());
        let mut m = Value::Map(entries);
        // Stable sort: known keys are already in order, extras slot in.
        if let Value::Map(e) = &mut m {
            e.sort_by(|a, b| key_cmp_raw(&a.0, &b.0));
        }
        m
    }

    /// Build an item from a decoded msgpack map. Strict where borg is: the
    /// value must be a map, `path` and `mtime` must be present, chunk list
    /// entries must be `[raw32, int, int]`. Known keys must hold values of
    /// their type; unknown keys are kept in [`Item::extra`]. With duplicate
    /// keys the last one wins, as in Python.
    pub fn from_value(v: Value) -> Result<Item, ModelError> {
        let Value::Map(entries) = v else {
            return Err(ModelError::NotAMap { what: WHAT });
        };
        let mut item = Item::default();
        let (mut has_path, mut has_mtime) = (false, false);
        for (k, v) in entries {
            let name = match &k {
                Value::Raw(b) => std::str::from_utf8(b).ok(),
                _ => None,
            };
            let Some(name) = name else {
                item.extra.push((k, v));
                continue;
            };
            match name {
                "path" => {
                    item.path = take_raw(name, v)?;
                    has_path = true;
                }
                "mtime" => {
                    item.mtime = take_time(name, v)?;
                    has_mtime = true;
                }
                "mode" => item.mode = Some(take_int(name, v, "unsigned 32-bit integer")?),
                "uid" => item.uid = Some(take_int(name, v, "64-bit integer")?),
                "gid" => item.gid = Some(take_int(name, v, "64-bit integer")?),
                "user" => item.user = Some(take_raw_or_nil(name, v)?),
                "group" => item.group = Some(take_raw_or_nil(name, v)?),
                "atime" => item.atime = Some(take_time(name, v)?),
                "ctime" => item.ctime = Some(take_time(name, v)?),
                "birthtime" => item.birthtime = Some(take_time(name, v)?),
                "size" => item.size = Some(take_int(name, v, "unsigned integer")?),
                "chunks" => item.chunks = Some(chunks_from_value("chunks", v)?),
                "chunks_healthy" => {
                    item.chunks_healthy = Some(chunks_from_value("chunks_healthy", v)?)
                }
                "source" => item.source = Some(take_raw(name, v)?),
                "hardlink_master" => item.hardlink_master = Some(take_bool(name, v)?),
                "rdev" => item.rdev = Some(take_int(name, v, "unsigned integer")?),
                "xattrs" => item.xattrs = Some(take_xattrs(v)?),
                "acl_access" => item.acl_access = Some(take_raw(name, v)?),
                "acl_default" => item.acl_default = Some(take_raw(name, v)?),
                "acl_extended" => item.acl_extended = Some(take_raw(name, v)?),
                "acl_nfs4" => item.acl_nfs4 = Some(take_raw(name, v)?),
                "bsdflags" => item.bsdflags = Some(take_int(name, v, "unsigned integer")?),
                "part" => item.part = Some(take_int(name, v, "unsigned integer")?),
                _ => item.extra.push((k, v)),
            }
        }
        if !has_path {
            return Err(ModelError::MissingKey {
                what: WHAT,
                key: "path",
            });
        }
        if !has_mtime {
            return Err(ModelError::MissingKey {
                what: WHAT,
                key: "mtime",
            });
        }
        Ok(item)
    }

    /// Decode one item from exactly these bytes.
    pub fn decode(data: &[u8]) -> Result<Item, ModelError> {
        Item::from_value(oxiborg_msgpack::decode_one(data)?)
    }

    /// The file type bits of `mode` (0 when absent).
    pub fn file_type(&self) -> u32 {
        self.mode.unwrap_or(0) & S_IFMT
    }

    /// A directory.
    pub fn is_dir(&self) -> bool {
        self.mode.is_some() && self.file_type() == S_IFDIR
    }

    /// A regular file.
    pub fn is_reg(&self) -> bool {
        self.mode.is_some() && self.file_type() == S_IFREG
    }

    /// A symbolic link.
    pub fn is_link(&self) -> bool {
        self.mode.is_some() && self.file_type() == S_IFLNK
    }

    /// A FIFO.
    pub fn is_fifo(&self) -> bool {
        self.mode.is_some() && self.file_type() == S_IFIFO
    }

    /// A block device.
    pub fn is_blk(&self) -> bool {
        self.mode.is_some() && self.file_type() == S_IFBLK
    }

    /// A character device.
    pub fn is_chr(&self) -> bool {
        self.mode.is_some() && self.file_type() == S_IFCHR
    }

    /// A hardlink slave: `source` set on something that is not a symlink.
    pub fn is_hardlink_slave(&self) -> bool {
        self.source.is_some() && !self.is_link()
    }

    /// Whether this item may be a hardlink master: no `source`, and
    /// `hardlink_master` true or absent (borg's default).
    pub fn may_be_hardlink_master(&self) -> bool {
        self.source.is_none() && self.hardlink_master.unwrap_or(true)
    }

    /// Sum of the chunk sizes (0 without a chunk list).
    pub fn chunks_size(&self) -> u64 {
        self.chunks
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .fold(0u64, |a, c| a.saturating_add(c.size))
    }
}

/// Reads items from an item stream fed chunk by chunk: items may span chunk
/// boundaries.
///
/// Call [`ItemStreamReader::feed`] with each chunk's plaintext, then
/// [`ItemStreamReader::next_item`] until it returns `Ok(None)` (more bytes
/// needed), and [`ItemStreamReader::finish`] after the last chunk.
///
/// A malformed item (valid msgpack, invalid item) is consumed and reported
/// as an error; the next call continues after it. Invalid msgpack is
/// reported on every call: the stream cannot be resynchronised here.
#[derive(Debug, Default, Clone)]
pub struct ItemStreamReader {
    buf: Vec<u8>,
    pos: usize,
}

impl ItemStreamReader {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append the next chunk of the stream.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete item, or `Ok(None)` when the buffered bytes hold no
    /// complete item.
    pub fn next_item(&mut self) -> Result<Option<Item>, ModelError> {
        let mut dec = Decoder::new(&self.buf[self.pos..]);
        match dec.next_value() {
            Ok(None) | Err(DecodeError::Incomplete { .. }) => Ok(None),
            Ok(Some(v)) => {
                self.pos += dec.position();
                Item::from_value(v).map(Some)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Bytes buffered that do not yet form a complete item.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Check that the stream ended at an item boundary.
    pub fn finish(&self) -> Result<(), ModelError> {
        match self.pending() {
            0 => Ok(()),
            n => Err(ModelError::TruncatedStream(n)),
        }
    }
}

/// Decode a complete item stream held in one buffer.
pub fn decode_items(data: &[u8]) -> Result<Vec<Item>, ModelError> {
    let mut r = ItemStreamReader::new();
    r.feed(data);
    let mut items = Vec::new();
    while let Some(item) = r.next_item()? {
        items.push(item);
    }
    r.finish()?;
    Ok(items)
}

/// Encode items back to back, as borg's item stream.
pub fn encode_items<'a>(items: impl IntoIterator<Item = &'a Item>) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        item.encode_into(&mut out);
    }
    out
}
