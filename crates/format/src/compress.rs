//! borg 1.x compression envelopes (`src/borg/compress.pyx`).
//!
//! Every compressed object except zlib starts with a 2-byte ID whose second
//! byte is always `0x00`:
//!
//! | ID | compressor | payload |
//! |---|---|---|
//! | `00 00` | none | the plaintext |
//! | `01 00` | lz4 | raw LZ4 block, no size prefix (byte-identical to liblz4) |
//! | `02 00` | lzma | `.xz` stream, check type None, preset = level |
//! | `03 00` | zstd | one frame with the content size in its header |
//! | `04 00` | obfuscate | `u32_BE(n) \|\| inner object (n bytes) \|\| zero padding` |
//! | none | zlib | a plain RFC 1950 zlib stream (detected by its CMF/FLG check) |
//!
//! lz4, lzma and zstd are borg's "deciding" compressors: when their payload is
//! not strictly smaller than the input they store `00 00 || data` instead.
//! `auto,<spec>` and `obfuscate,<level>,<spec>` are meta compressors.
//!
//! Compression never fails: should a compression library report an error
//! (it only does so when out of memory), the data is stored uncompressed
//! (`00 00 || data`), which every borg can read.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use rand::Rng;

use crate::error::{DecompressError, SpecError};

/// borg's `MAX_DATA_SIZE`: the largest repository object payload
/// (`src/borg/constants.py`). Obfuscation padding never grows an object past
/// `MAX_DATA_SIZE - 1024`.
pub const MAX_DATA_SIZE: usize = 20_971_479;

/// Default upper bound on the size of decompressed data, 192 MiB.
///
/// borg's LZ4 decoder grows its output buffer up to about this size
/// (`1.5 * 2**27`) before giving up; the same bound is applied to every
/// decompressor here so that hostile input cannot make us allocate more.
/// Callers that know a tighter bound (a content chunk is at most
/// [`MAX_DATA_SIZE`]) can use [`decompress_with_limit`].
pub const DEFAULT_DECOMPRESS_LIMIT: usize = 3 << 26;

/// Maximum nesting of obfuscation envelopes accepted by [`decompress`].
/// borg itself only ever writes one level.
pub const MAX_OBFUSCATE_DEPTH: usize = 8;

/// Memory limit handed to the lzma decoder (borg's presets need at most
/// 65 MiB to decode).
pub const LZMA_MEMLIMIT: u64 = 256 << 20;

/// Header of uncompressed data.
pub const ID_NONE: [u8; 2] = [0x00, 0x00];
/// Header of LZ4 data.
pub const ID_LZ4: [u8; 2] = [0x01, 0x00];
/// Header of LZMA (.xz) data.
pub const ID_LZMA: [u8; 2] = [0x02, 0x00];
/// Header of zstd data.
pub const ID_ZSTD: [u8; 2] = [0x03, 0x00];
/// Header of the size-obfuscation envelope.
pub const ID_OBFUSCATE: [u8; 2] = [0x04, 0x00];

/// A parsed `--compression` spec, following borg's `CompressionSpec` grammar:
/// `none`, `lz4`, `zlib[,0-9]`, `lzma[,0-9]`, `zstd[,1-22]`, `auto,<spec>`,
/// `obfuscate,<level>,<spec>`.
///
/// [`Display`](fmt::Display) prints the canonical form, omitting levels that
/// equal the default (`zstd` for zstd level 3), so that every spec parsed from
/// a string prints to a string that parses back to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompressionSpec {
    /// `none`: store as is (`00 00`).
    None,
    /// `lz4` (`01 00`).
    Lz4,
    /// `zlib[,level]`, level 0..=9, default 6 (no borg header).
    Zlib {
        /// 0..=9.
        level: u8,
    },
    /// `lzma[,level]`, level 0..=9, default 6 (`02 00`).
    Lzma {
        /// 0..=9.
        level: u8,
    },
    /// `zstd[,level]`, level 1..=22, default 3 (`03 00`).
    Zstd {
        /// 1..=22.
        level: u8,
    },
    /// `auto,<spec>`: LZ4 decides whether trying `<spec>` is worthwhile.
    Auto(Box<CompressionSpec>),
    /// `obfuscate,<level>,<spec>` (`04 00`): pads the compressed size.
    Obfuscate {
        /// 1..=6, 110..=123 or 250 (see [`obfuscate_padding`]).
        level: u8,
        /// The compressor whose output is wrapped.
        inner: Box<CompressionSpec>,
    },
}

/// Default zlib and lzma level (Python's stdlib default).
pub const DEFAULT_ZLIB_LEVEL: u8 = 6;
/// Default lzma preset.
pub const DEFAULT_LZMA_LEVEL: u8 = 6;
/// Default zstd level.
pub const DEFAULT_ZSTD_LEVEL: u8 = 3;

/// Whether `level` is a valid obfuscation level (1..=6, 110..=123, 250).
pub fn valid_obfuscate_level(level: i64) -> bool {
    (1..=6).contains(&level) || (110..=123).contains(&level) || level == 250
}

/// Python's whitespace as `int()` strips it (ASCII subset).
fn is_py_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c' | '\x1c'..='\x1f'
    )
}

/// Parse an integer the way Python's `int(str)` does for ASCII input:
/// surrounding whitespace, an optional sign, digits with single underscores
/// between them. Values beyond `i64` saturate (they are out of every range).
fn parse_py_int(s: &str) -> Option<i64> {
    let t = s.trim_matches(is_py_space);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let bytes = digits.as_bytes();
    if bytes.is_empty() || bytes[0] == b'_' || bytes[bytes.len() - 1] == b'_' {
        return None;
    }
    let mut v: i64 = 0;
    let mut prev_underscore = false;
    for &b in bytes {
        match b {
            b'0'..=b'9' => {
                v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
                prev_underscore = false;
            }
            b'_' if !prev_underscore => prev_underscore = true,
            _ => return None,
        }
    }
    Some(if neg { -v } else { v })
}

fn parse_level(
    s: &str,
    algorithm: &'static str,
    range: std::ops::RangeInclusive<i64>,
    allowed: &'static str,
) -> Result<u8, SpecError> {
    let v = parse_py_int(s).ok_or_else(|| SpecError::NotAnInteger(s.to_string()))?;
    if !range.contains(&v) {
        return Err(SpecError::LevelOutOfRange {
            algorithm,
            level: s.trim_matches(is_py_space).to_string(),
            allowed,
        });
    }
    u8::try_from(v).map_err(|_| SpecError::LevelOutOfRange {
        algorithm,
        level: s.to_string(),
        allowed,
    })
}

impl CompressionSpec {
    /// Parse a spec string exactly as borg 1.4's `CompressionSpec` does,
    /// including its quirks: extra fields after `none`/`lz4` are ignored,
    /// `auto` takes 1–2 more fields and `obfuscate` 2–4 more.
    pub fn parse(s: &str) -> Result<Self, SpecError> {
        let values: Vec<&str> = s.split(',').collect();
        let count = values.len();
        match values[0] {
            "none" => Ok(CompressionSpec::None),
            "lz4" => Ok(CompressionSpec::Lz4),
            name @ ("zlib" | "lzma") => {
                let level = match count {
                    1 => 6,
                    2 => parse_level(
                        values[1],
                        if name == "zlib" { "zlib" } else { "lzma" },
                        0..=9,
                        "must be >= 0 and <= 9",
                    )?,
                    _ => return Err(SpecError::TooManyArguments(s.to_string())),
                };
                Ok(if name == "zlib" {
                    CompressionSpec::Zlib { level }
                } else {
                    CompressionSpec::Lzma { level }
                })
            }
            "zstd" => {
                let level = match count {
                    1 => 3,
                    2 => parse_level(values[1], "zstd", 1..=22, "must be >= 1 and <= 22")?,
                    _ => return Err(SpecError::TooManyArguments(s.to_string())),
                };
                Ok(CompressionSpec::Zstd { level })
            }
            "auto" => {
                if !(2..=3).contains(&count) {
                    return Err(SpecError::BadArguments(s.to_string()));
                }
                let inner = CompressionSpec::parse(&values[1..].join(","))?;
                Ok(CompressionSpec::Auto(Box::new(inner)))
            }
            "obfuscate" => {
                if !(3..=5).contains(&count) {
                    return Err(SpecError::BadArguments(s.to_string()));
                }
                let v = parse_py_int(values[1])
                    .ok_or_else(|| SpecError::NotAnInteger(values[1].to_string()))?;
                if !valid_obfuscate_level(v) {
                    return Err(SpecError::LevelOutOfRange {
                        algorithm: "obfuscate",
                        level: values[1].trim_matches(is_py_space).to_string(),
                        allowed: "must be within 1...6, 110...123 or equal to 250",
                    });
                }
                let level = u8::try_from(v).unwrap_or(250);
                let inner = CompressionSpec::parse(&values[2..].join(","))?;
                Ok(CompressionSpec::Obfuscate {
                    level,
                    inner: Box::new(inner),
                })
            }
            other => Err(SpecError::UnsupportedType(other.to_string())),
        }
    }

    /// The algorithm name (`none`, `lz4`, `zlib`, `lzma`, `zstd`, `auto`, `obfuscate`).
    pub fn name(&self) -> &'static str {
        match self {
            CompressionSpec::None => "none",
            CompressionSpec::Lz4 => "lz4",
            CompressionSpec::Zlib { .. } => "zlib",
            CompressionSpec::Lzma { .. } => "lzma",
            CompressionSpec::Zstd { .. } => "zstd",
            CompressionSpec::Auto(_) => "auto",
            CompressionSpec::Obfuscate { .. } => "obfuscate",
        }
    }
}

impl CompressionSpec {
    /// borg's `compressor.decide(data).name`: the algorithm this spec would
    /// pick for `data` (`recreate --recompress if-different` compares it
    /// with the stored chunk's). LZ4, LZMA and ZSTD decide `none` when
    /// their output is not smaller; `auto` decides on the LZ4 ratio alone
    /// and names its expensive compressor without trying it.
    pub fn decide_name(&self, data: &[u8]) -> &'static str {
        let detected = |spec: &CompressionSpec| {
            CompressorKind::detect(&compress(spec, data))
                .map(CompressorKind::name)
                .unwrap_or("none")
        };
        match self {
            CompressionSpec::Auto(inner) => {
                let cheap = compress(&CompressionSpec::Lz4, data);
                if (cheap.len() as f64) / ((data.len() + 2) as f64) < 0.97 {
                    inner.name()
                } else {
                    CompressorKind::detect(&cheap)
                        .map(CompressorKind::name)
                        .unwrap_or("none")
                }
            }
            CompressionSpec::Obfuscate { .. } => "obfuscate",
            CompressionSpec::None | CompressionSpec::Zlib { .. } => self.name(),
            spec => detected(spec),
        }
    }
}

impl Default for CompressionSpec {
    /// borg's default, `lz4`.
    fn default() -> Self {
        CompressionSpec::Lz4
    }
}

impl FromStr for CompressionSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CompressionSpec::parse(s)
    }
}

impl fmt::Display for CompressionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompressionSpec::None => f.write_str("none"),
            CompressionSpec::Lz4 => f.write_str("lz4"),
            CompressionSpec::Zlib { level } if *level == DEFAULT_ZLIB_LEVEL => f.write_str("zlib"),
            CompressionSpec::Zlib { level } => write!(f, "zlib,{level}"),
            CompressionSpec::Lzma { level } if *level == DEFAULT_LZMA_LEVEL => f.write_str("lzma"),
            CompressionSpec::Lzma { level } => write!(f, "lzma,{level}"),
            CompressionSpec::Zstd { level } if *level == DEFAULT_ZSTD_LEVEL => f.write_str("zstd"),
            CompressionSpec::Zstd { level } => write!(f, "zstd,{level}"),
            CompressionSpec::Auto(inner) => write!(f, "auto,{inner}"),
            CompressionSpec::Obfuscate { level, inner } => write!(f, "obfuscate,{level},{inner}"),
        }
    }
}

/// The compressor that produced some data, as detected from its header
/// (borg's `Compressor.detect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompressorKind {
    /// `00 00`.
    None,
    /// `01 00`.
    Lz4,
    /// `03 00`.
    Zstd,
    /// A zlib stream (no borg header).
    Zlib,
    /// `02 00`.
    Lzma,
    /// `04 00`.
    Obfuscate,
}

impl CompressorKind {
    /// Detect the compressor from the first two bytes, trying borg's
    /// `COMPRESSOR_LIST` order: LZ4, ZSTD, CNONE, ZLIB, LZMA, ObfuscateSize.
    pub fn detect(data: &[u8]) -> Result<CompressorKind, DecompressError> {
        if data.len() < 2 {
            return Err(DecompressError::TooShort { len: data.len() });
        }
        let hdr = [data[0], data[1]];
        Ok(if hdr == ID_LZ4 {
            CompressorKind::Lz4
        } else if hdr == ID_ZSTD {
            CompressorKind::Zstd
        } else if hdr == ID_NONE {
            CompressorKind::None
        } else if hdr[0] & 0x0f == 8 && (u32::from(hdr[0]) * 256 + u32::from(hdr[1])) % 31 == 0 {
            CompressorKind::Zlib
        } else if hdr == ID_LZMA {
            CompressorKind::Lzma
        } else if hdr == ID_OBFUSCATE {
            CompressorKind::Obfuscate
        } else {
            return Err(DecompressError::UnknownCompressor { header: hdr });
        })
    }

    /// borg's name for the compressor.
    pub fn name(self) -> &'static str {
        match self {
            CompressorKind::None => "none",
            CompressorKind::Lz4 => "lz4",
            CompressorKind::Zstd => "zstd",
            CompressorKind::Zlib => "zlib",
            CompressorKind::Lzma => "lzma",
            CompressorKind::Obfuscate => "obfuscate",
        }
    }
}

impl fmt::Display for CompressorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A compressor configured with a spec; decompression auto-detects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Compressor {
    spec: CompressionSpec,
}

impl Compressor {
    /// A compressor for `spec`.
    pub fn new(spec: CompressionSpec) -> Self {
        Compressor { spec }
    }

    /// A compressor from a spec string such as `zstd,10` or `auto,lzma`.
    pub fn from_spec_str(s: &str) -> Result<Self, SpecError> {
        Ok(Compressor::new(CompressionSpec::parse(s)?))
    }

    /// The spec.
    pub fn spec(&self) -> &CompressionSpec {
        &self.spec
    }

    /// Compress `data` into a new vector (with borg's header).
    pub fn compress(&self, data: &[u8]) -> Vec<u8> {
        compress(&self.spec, data)
    }

    /// Append the compressed form of `data` to `out`.
    pub fn compress_into(&self, data: &[u8], out: &mut Vec<u8>) {
        compress_into(&self.spec, data, out)
    }

    /// Like [`Compressor::compress_into`], drawing obfuscation randomness from `rng`.
    pub fn compress_into_with_rng<R: Rng + ?Sized>(
        &self,
        data: &[u8],
        out: &mut Vec<u8>,
        rng: &mut R,
    ) {
        compress_into_with_rng(&self.spec, data, out, rng)
    }

    /// Decompress data written by any borg 1.x compressor (auto-detected).
    pub fn decompress(data: &[u8]) -> Result<Vec<u8>, DecompressError> {
        decompress(data)
    }

    /// Which compressor wrote `data`.
    pub fn detect(data: &[u8]) -> Result<CompressorKind, DecompressError> {
        CompressorKind::detect(data)
    }

    /// The name of the compressor that wrote `data`, for diagnostics; `None`
    /// when no compressor matches.
    pub fn detect_name(data: &[u8]) -> Option<&'static str> {
        CompressorKind::detect(data).ok().map(CompressorKind::name)
    }
}

/// Compress `data` with `spec` into a new vector (with borg's header).
pub fn compress(spec: &CompressionSpec, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    compress_into(spec, data, &mut out);
    out
}

/// Append the compressed form of `data` to `out`. Obfuscation draws its
/// randomness from the thread-local RNG.
pub fn compress_into(spec: &CompressionSpec, data: &[u8], out: &mut Vec<u8>) {
    compress_into_with_rng(spec, data, out, &mut rand::thread_rng())
}

/// Append the compressed form of `data` to `out`, with obfuscation padding
/// drawn from `rng`.
pub fn compress_into_with_rng<R: Rng + ?Sized>(
    spec: &CompressionSpec,
    data: &[u8],
    out: &mut Vec<u8>,
    rng: &mut R,
) {
    match spec {
        CompressionSpec::None => store_none(data, out),
        CompressionSpec::Lz4 => lz4_into(data, out),
        CompressionSpec::Zlib { level } => zlib_into(data, *level, out),
        CompressionSpec::Lzma { level } => lzma_into(data, *level, out),
        CompressionSpec::Zstd { level } => zstd_into(data, *level, out),
        CompressionSpec::Auto(inner) => auto_into(inner, data, out, rng),
        CompressionSpec::Obfuscate { level, inner } => {
            obfuscate_into(*level, inner, data, out, rng)
        }
    }
}

/// Parse `spec` and compress `data` with it (for `benchmark cpu` and tools).
pub fn compress_with_spec_str(spec: &str, data: &[u8]) -> Result<Vec<u8>, SpecError> {
    Ok(compress(&CompressionSpec::parse(spec)?, data))
}

fn store_none(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(2 + data.len());
    out.extend_from_slice(&ID_NONE);
    out.extend_from_slice(data);
}

/// Keep `out[start..]` (header + payload) if the payload is strictly smaller
/// than the input, else replace it by `00 00 || data` (DecidingCompressor).
fn decide(data: &[u8], out: &mut Vec<u8>, start: usize, payload_len: Option<usize>) {
    match payload_len {
        Some(n) if n < data.len() => out.truncate(start + 2 + n),
        _ => {
            out.truncate(start);
            store_none(data, out);
        }
    }
}

fn lz4_into(data: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&ID_LZ4);
    crate::lz4::compress_into(data, out);
    let n = out.len() - start - 2;
    decide(data, out, start, Some(n));
}

/// The raw LZ4 block of `data` (no borg header, no size prefix), exactly as
/// liblz4's `LZ4_compress_default` produces it.
pub fn lz4_block(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::lz4::compress_into(data, &mut out);
    out
}

thread_local! {
    static ZSTD_CCTX: RefCell<Option<zstd::zstd_safe::CCtx<'static>>> = const { RefCell::new(None) };
}

fn zstd_into(data: &[u8], level: u8, out: &mut Vec<u8>) {
    let level = i32::from(level.clamp(1, 22));
    let start = out.len();
    let bound = zstd::zstd_safe::compress_bound(data.len());
    out.resize(start + 2 + bound, 0);
    out[start..start + 2].copy_from_slice(&ID_ZSTD);
    let dst = &mut out[start + 2..];
    // ZSTD_compressCCtx == ZSTD_compress: one frame with the content size.
    let n = ZSTD_CCTX.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            if slot.is_none() {
                *slot = zstd::zstd_safe::CCtx::try_create();
            }
            slot.as_mut()
                .and_then(|cctx| cctx.compress(dst, data, level).ok())
        }
        Err(_) => None,
    });
    decide(data, out, start, n);
}

/// The output block sizes CPython's `zlib.compress` hands to `deflate()`
/// (`pycore_blocks_output_buffer.h`). At level 0 the stored-block layout
/// depends on the output space, so feeding the same sizes reproduces
/// Python's bytes exactly.
const PY_ZLIB_BLOCKS: [usize; 17] = [
    32 << 10,
    64 << 10,
    256 << 10,
    1 << 20,
    4 << 20,
    8 << 20,
    16 << 20,
    16 << 20,
    32 << 20,
    32 << 20,
    32 << 20,
    32 << 20,
    64 << 20,
    64 << 20,
    128 << 20,
    128 << 20,
    256 << 20,
];

fn zlib_into(data: &[u8], level: u8, out: &mut Vec<u8>) {
    use flate2::{Compress, Compression, FlushCompress, Status};
    let start = out.len();
    let mut c = Compress::new(Compression::new(u32::from(level.min(9))), true);
    let mut block = 0;
    loop {
        let size = PY_ZLIB_BLOCKS[block.min(PY_ZLIB_BLOCKS.len() - 1)];
        block += 1;
        let pos = start + usize::try_from(c.total_out()).unwrap_or(usize::MAX);
        let consumed = usize::try_from(c.total_in()).unwrap_or(usize::MAX);
        let input = data.get(consumed..).unwrap_or(&[]);
        out.resize(pos + size, 0);
        let before = (c.total_in(), c.total_out());
        let res = c.compress(input, &mut out[pos..], FlushCompress::Finish);
        let end = start + usize::try_from(c.total_out()).unwrap_or(usize::MAX);
        let progressed = (c.total_in(), c.total_out()) != before;
        match res {
            Ok(Status::StreamEnd) => {
                out.truncate(end);
                return;
            }
            Ok(_) if progressed && end <= out.len() => {}
            _ => {
                out.truncate(start);
                store_none(data, out);
                return;
            }
        }
    }
}

fn lzma_into(data: &[u8], level: u8, out: &mut Vec<u8>) {
    use xz2::stream::{Action, Check, Status, Stream};
    let start = out.len();
    out.extend_from_slice(&ID_LZMA);
    let payload_len = (|| {
        let mut s = Stream::new_easy_encoder(u32::from(level.min(9)), Check::None).ok()?;
        out.reserve(data.len() + data.len() / 32 + 256);
        loop {
            let consumed = usize::try_from(s.total_in()).ok()?;
            let input = data.get(consumed..)?;
            let st = s.process_vec(input, out, Action::Finish).ok()?;
            let produced = out.len() - start - 2;
            if st == Status::StreamEnd {
                return Some(produced);
            }
            if produced >= data.len() {
                // Cannot end up smaller than the input any more.
                return None;
            }
            if out.capacity() - out.len() < 4096 {
                out.reserve(64 * 1024);
            }
        }
    })();
    decide(data, out, start, payload_len);
}

fn auto_into<R: Rng + ?Sized>(
    inner: &CompressionSpec,
    data: &[u8],
    out: &mut Vec<u8>,
    rng: &mut R,
) {
    let start = out.len();
    lz4_into(data, out);
    let cheap_len = out.len() - start;
    if out[start..start + 2] == ID_NONE {
        return;
    }
    // compressed_data includes the header, data does not: (len(data) + 2).
    let ratio = cheap_len as f64 / (data.len() + 2) as f64;
    if ratio >= 0.97 {
        return;
    }
    let exp_start = out.len();
    compress_into_with_rng(inner, data, out, rng);
    let exp_len = out.len() - exp_start;
    if (exp_len as f64 / cheap_len as f64) < 0.99 {
        out.copy_within(exp_start.., start);
        out.truncate(start + exp_len);
    } else {
        out.truncate(exp_start);
    }
}

/// How many zero bytes `obfuscate,<level>` appends to `compr_size` bytes of
/// compressed data, before the [`MAX_DATA_SIZE`] clamp (borg's
/// `ObfuscateSize._obfuscate`; invalid levels pad nothing).
///
/// * 1..=6: `int(n * (0.001 * 10**level) / max(0.0001, random()))`
/// * 110..=123: `int(2**(level-100) * random())`
/// * 250: Padmé ([`padme_padding`])
pub fn obfuscate_padding<R: Rng + ?Sized>(level: u8, compr_size: usize, rng: &mut R) -> usize {
    let raw: f64 = match level {
        1..=6 => {
            let factor = 0.001 * 10u32.pow(u32::from(level)) as f64;
            let r = rng.gen::<f64>().max(0.0001);
            compr_size as f64 * (factor / r)
        }
        110..=123 => (1u64 << (level - 100)) as f64 * rng.gen::<f64>(),
        250 => padme_padding(compr_size) as f64,
        _ => 0.0,
    };
    // `as` truncates toward zero like Python's int() and saturates.
    let pad = raw as u64;
    let room = (MAX_DATA_SIZE as u64)
        .saturating_sub(1024)
        .saturating_sub(compr_size as u64);
    usize::try_from(pad.min(room)).unwrap_or(0)
}

/// Padmé padding for `compr_size` bytes (obfuscate level 250): round up so
/// that only the top `floor(log2(E)) + 1` bits of the size vary.
pub fn padme_padding(compr_size: usize) -> usize {
    if compr_size < 2 {
        return 0;
    }
    // Same float math as borg's math.floor(math.log2(...)).
    let e = (compr_size as f64).log2().floor() as u32;
    let s = (f64::from(e)).log2().floor() as u32 + 1;
    let last_bits = e.saturating_sub(s).min(63);
    let mask: u64 = (1u64 << last_bits) - 1;
    let n = compr_size as u64;
    let padded = n.saturating_add(mask) & !mask;
    usize::try_from(padded.saturating_sub(n)).unwrap_or(0)
}

fn obfuscate_into<R: Rng + ?Sized>(
    level: u8,
    inner: &CompressionSpec,
    data: &[u8],
    out: &mut Vec<u8>,
    rng: &mut R,
) {
    let start = out.len();
    out.extend_from_slice(&[ID_OBFUSCATE[0], ID_OBFUSCATE[1], 0, 0, 0, 0]);
    compress_into_with_rng(inner, data, out, rng);
    let n = out.len() - start - 6;
    let Ok(n32) = u32::try_from(n) else {
        // Not representable (> 4 GiB): store the inner object unwrapped.
        out.drain(start..start + 6);
        return;
    };
    out[start + 2..start + 6].copy_from_slice(&n32.to_be_bytes());
    let pad = obfuscate_padding(level, n, rng);
    out.resize(out.len() + pad, 0);
}

/// Decompress any borg 1.x compressed object, with the
/// [`DEFAULT_DECOMPRESS_LIMIT`] on the output size.
pub fn decompress(data: &[u8]) -> Result<Vec<u8>, DecompressError> {
    decompress_with_limit(data, DEFAULT_DECOMPRESS_LIMIT)
}

/// Decompress any borg 1.x compressed object, refusing output larger than
/// `limit` bytes (checked before allocating where the format says the size,
/// and while decoding otherwise).
pub fn decompress_with_limit(data: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    decompress_depth(data, limit, 0)
}

fn decompress_depth(data: &[u8], limit: usize, depth: usize) -> Result<Vec<u8>, DecompressError> {
    match CompressorKind::detect(data)? {
        CompressorKind::None => {
            let payload = &data[2..];
            if payload.len() > limit {
                return Err(DecompressError::TooLarge {
                    algorithm: "none",
                    limit,
                });
            }
            Ok(payload.to_vec())
        }
        CompressorKind::Lz4 => lz4_decompress(&data[2..], limit),
        CompressorKind::Zstd => zstd_decompress(&data[2..], limit),
        CompressorKind::Zlib => zlib_decompress(data, limit),
        CompressorKind::Lzma => lzma_decompress(&data[2..], limit),
        CompressorKind::Obfuscate => {
            if data.len() < 6 {
                return Err(DecompressError::ObfuscateTruncated { len: data.len() });
            }
            if depth >= MAX_OBFUSCATE_DEPTH {
                return Err(DecompressError::TooDeep(MAX_OBFUSCATE_DEPTH));
            }
            let n = u32::from_be_bytes([data[2], data[3], data[4], data[5]]) as usize;
            // Python slicing: a too-large n just takes what is there.
            let end = 6usize.saturating_add(n).min(data.len());
            decompress_depth(&data[6..end], limit, depth + 1)
        }
    }
}

fn lz4_decompress(payload: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    crate::lz4::decompress(payload, limit)
}

fn zstd_decompress(payload: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    use zstd::zstd_safe;
    let size = match zstd_safe::get_frame_content_size(payload) {
        Err(_) => return Err(DecompressError::ZstdNotZstd),
        Ok(None) => return Err(DecompressError::ZstdUnknownSize),
        Ok(Some(n)) => n,
    };
    let size = match usize::try_from(size) {
        Ok(n) if n <= limit => n,
        _ => {
            return Err(DecompressError::TooLarge {
                algorithm: "zstd",
                limit,
            })
        }
    };
    let mut dctx = zstd_safe::DCtx::try_create()
        .ok_or_else(|| DecompressError::Zstd("cannot allocate context".to_string()))?;
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(size)
        .map_err(|_| DecompressError::Zstd("MemoryError".to_string()))?;
    let n = dctx
        .decompress(&mut out, payload)
        .map_err(|code| DecompressError::Zstd(zstd_safe::get_error_name(code).to_string()))?;
    if n != size {
        return Err(DecompressError::Zstd("size mismatch".to_string()));
    }
    Ok(out)
}

/// Grow `out` geometrically, never beyond `limit + 1` bytes of capacity.
fn grow(out: &mut Vec<u8>, limit: usize) {
    let want = out.len().max(64 * 1024);
    let room = limit.saturating_add(1).saturating_sub(out.len());
    out.reserve(want.min(room).max(1));
}

fn zlib_decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut d = Decompress::new(true);
    let mut out: Vec<u8> =
        Vec::with_capacity(data.len().saturating_mul(3).min(limit.saturating_add(1)));
    loop {
        if out.capacity() == out.len() {
            grow(&mut out, limit);
        }
        let (in_before, out_before) = (d.total_in(), d.total_out());
        let consumed = usize::try_from(in_before).unwrap_or(usize::MAX);
        let input = data.get(consumed..).unwrap_or(&[]);
        let st = d
            // Not Finish: miniz_oxide fails a Finish call whose output
            // buffer is too small instead of letting it continue.
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| DecompressError::Zlib(e.to_string()))?;
        if out.len() > limit {
            return Err(DecompressError::TooLarge {
                algorithm: "zlib",
                limit,
            });
        }
        if st == Status::StreamEnd {
            // Like Python's zlib.decompress, trailing bytes are ignored.
            return Ok(out);
        }
        let progressed = d.total_in() != in_before || d.total_out() != out_before;
        if !progressed && out.len() < out.capacity() {
            return Err(DecompressError::Zlib(
                "incomplete or truncated stream".to_string(),
            ));
        }
    }
}

/// Decode one .xz/.lzma stream from `input`, appending to `out`. Returns the
/// input bytes consumed and whether the end of the stream was reached.
fn lzma_one_stream(
    input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(usize, bool), DecompressError> {
    use xz2::stream::{Action, Status, Stream};
    let lz = |e: xz2::stream::Error| DecompressError::Lzma(e.to_string());
    let mut s = Stream::new_auto_decoder(LZMA_MEMLIMIT, 0).map_err(lz)?;
    loop {
        if out.capacity() - out.len() < 4096 {
            grow(out, limit);
        }
        let (in_before, out_before) = (s.total_in(), s.total_out());
        let consumed = usize::try_from(in_before).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or(&[]);
        let st = s.process_vec(rest, out, Action::Run).map_err(lz)?;
        if out.len() > limit {
            return Err(DecompressError::TooLarge {
                algorithm: "lzma",
                limit,
            });
        }
        let consumed = usize::try_from(s.total_in()).unwrap_or(usize::MAX);
        if st == Status::StreamEnd {
            return Ok((consumed, true));
        }
        let progressed = s.total_in() != in_before || s.total_out() != out_before;
        if !progressed && out.len() < out.capacity() {
            return Ok((consumed, false));
        }
    }
}

/// Python's `lzma.decompress` (FORMAT_AUTO): decode concatenated streams;
/// trailing data that does not start a valid stream is ignored, unless it is
/// the first stream.
fn lzma_decompress(payload: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    let mut out = Vec::with_capacity(payload.len().saturating_mul(3).min(limit.saturating_add(1)));
    let mut input = payload;
    let mut first = true;
    loop {
        let before = out.len();
        match lzma_one_stream(input, &mut out, limit) {
            Err(e @ DecompressError::TooLarge { .. }) => return Err(e),
            Err(e) => {
                if first {
                    return Err(e);
                }
                out.truncate(before);
                break;
            }
            Ok((consumed, eof)) => {
                if !eof {
                    return Err(DecompressError::Lzma(
                        "Compressed data ended before the end-of-stream marker was reached"
                            .to_string(),
                    ));
                }
                input = input.get(consumed..).unwrap_or(&[]);
                if input.is_empty() {
                    break;
                }
            }
        }
        first = false;
    }
    Ok(out)
}

/// Parse `spec`, compress `data` and decompress the result: one round of
/// `benchmark cpu`. Returns `(compressed, decompressed)`.
pub fn roundtrip_with_spec_str(
    spec: &str,
    data: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), crate::FormatError> {
    let c = compress_with_spec_str(spec, data)?;
    let d = decompress(&c)?;
    Ok((c, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(1)
    }

    fn text(n: usize) -> Vec<u8> {
        b"the quick brown fox jumps over the lazy dog. "
            .iter()
            .cycle()
            .take(n)
            .copied()
            .collect()
    }

    fn noise(n: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn spec_parse_and_display() {
        for (s, canon) in [
            ("none", "none"),
            ("lz4", "lz4"),
            ("lz4,5", "lz4"),
            ("zlib", "zlib"),
            ("zlib,6", "zlib"),
            ("zlib,0", "zlib,0"),
            ("lzma,9", "lzma,9"),
            ("zstd", "zstd"),
            ("zstd,22", "zstd,22"),
            ("zstd, 7", "zstd,7"),
            ("auto,zstd,10", "auto,zstd,10"),
            ("auto,auto,zstd", "auto,auto,zstd"),
            ("obfuscate,250,lz4", "obfuscate,250,lz4"),
            ("obfuscate,110,auto,zstd,3", "obfuscate,110,auto,zstd"),
            (
                "obfuscate,1,obfuscate,2,none",
                "obfuscate,1,obfuscate,2,none",
            ),
        ] {
            let spec = CompressionSpec::parse(s).unwrap();
            assert_eq!(spec.to_string(), canon, "{s}");
            assert_eq!(CompressionSpec::parse(canon).unwrap(), spec);
        }
        for bad in [
            "",
            "LZ4",
            "zlib,10",
            "zlib,-1",
            "zlib,1,2",
            "zstd,0",
            "zstd,23",
            "zstd,x",
            "zstd,1_",
            "zstd,1__0",
            "auto",
            "auto,zstd,3,4",
            "obfuscate,7,lz4",
            "obfuscate,1",
            "obfuscate,250,auto,zstd,3,4",
            "bogus",
        ] {
            assert!(CompressionSpec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            CompressionSpec::parse("zstd,1_0").unwrap(),
            CompressionSpec::Zstd { level: 10 }
        );
    }

    #[test]
    fn headers_and_fallback() {
        let t = text(10_000);
        assert_eq!(compress(&CompressionSpec::None, b"ab"), b"\0\0ab");
        assert_eq!(&compress(&CompressionSpec::Lz4, &t)[..2], &ID_LZ4);
        assert_eq!(
            &compress(&CompressionSpec::Zstd { level: 3 }, &t)[..2],
            &ID_ZSTD
        );
        assert_eq!(
            &compress(&CompressionSpec::Lzma { level: 1 }, &t)[..8],
            b"\x02\x00\xfd7zXZ\x00"
        );
        let z = compress(&CompressionSpec::Zlib { level: 6 }, &t);
        assert_eq!(&z[..2], &[0x78, 0x9c]);
        // deciding compressors fall back to none on incompressible data
        let n = noise(5000);
        for spec in ["lz4", "zstd", "lzma"] {
            let c = compress(&CompressionSpec::parse(spec).unwrap(), &n);
            assert_eq!(&c[..2], &ID_NONE, "{spec}");
            assert_eq!(&c[2..], &n[..]);
        }
        // ... and on empty input; zlib never does
        for spec in ["lz4", "zstd", "lzma"] {
            assert_eq!(
                compress(&CompressionSpec::parse(spec).unwrap(), b""),
                b"\0\0"
            );
        }
        assert_eq!(
            compress(&CompressionSpec::Zlib { level: 6 }, b""),
            b"x\x9c\x03\x00\x00\x00\x00\x01"
        );
        assert_eq!(
            &compress(&CompressionSpec::Zlib { level: 6 }, &n)[..2],
            &[0x78, 0x9c]
        );
        // zstd frames carry the content size (Frame_Content_Size_flag != 0)
        let zs = compress(&CompressionSpec::Zstd { level: 3 }, &t);
        assert_eq!(
            zstd::zstd_safe::get_frame_content_size(&zs[2..]).unwrap(),
            Some(10_000)
        );
        // lzma: check type None (stream flags 00 00)
        let lz = compress(&CompressionSpec::Lzma { level: 6 }, &t);
        assert_eq!(&lz[8..10], &[0, 0]);
    }

    #[test]
    fn roundtrip_all_specs() {
        let datas = [
            Vec::new(),
            b"x".to_vec(),
            text(100_000),
            noise(20_000),
            vec![0; 50_000],
        ];
        for s in [
            "none",
            "lz4",
            "zlib,0",
            "zlib,9",
            "lzma,0",
            "lzma,6",
            "zstd,1",
            "zstd,19",
            "auto,zstd",
            "auto,lzma,2",
            "auto,none",
            "obfuscate,1,lz4",
            "obfuscate,110,zstd",
            "obfuscate,250,zlib",
            "obfuscate,250,auto,lz4",
            "obfuscate,2,obfuscate,250,none",
        ] {
            let spec = CompressionSpec::parse(s).unwrap();
            for d in &datas {
                let mut out = Vec::new();
                compress_into_with_rng(&spec, d, &mut out, &mut rng());
                assert_eq!(&decompress(&out).unwrap(), d, "{s}");
            }
        }
    }

    #[test]
    fn compress_into_appends() {
        let mut out = b"prefix".to_vec();
        compress_into(&CompressionSpec::Zstd { level: 3 }, &text(1000), &mut out);
        assert_eq!(&out[..6], b"prefix");
        assert_eq!(decompress(&out[6..]).unwrap(), text(1000));
        let mut out = b"prefix".to_vec();
        compress_into(
            &CompressionSpec::parse("auto,zlib").unwrap(),
            &text(1000),
            &mut out,
        );
        assert_eq!(&out[..6], b"prefix");
        assert_eq!(decompress(&out[6..]).unwrap(), text(1000));
    }

    #[test]
    fn auto_decisions() {
        let auto = CompressionSpec::parse("auto,lzma,6").unwrap();
        // incompressible: lz4 falls back to none
        assert_eq!(&compress(&auto, &noise(10_000))[..2], &ID_NONE);
        // compressible: lzma wins clearly
        assert_eq!(&compress(&auto, &text(100_000))[..2], &ID_LZMA);
        // auto,lz4 never beats lz4 itself by 1 %: stays lz4
        let auto = CompressionSpec::parse("auto,lz4").unwrap();
        assert_eq!(&compress(&auto, &text(100_000))[..2], &ID_LZ4);
        // barely compressible (ratio >= 0.97): the cheap lz4 result is kept
        let mut d = noise(100_000);
        d.extend(vec![0u8; 2_000]);
        let c = compress(&CompressionSpec::parse("auto,zstd").unwrap(), &d);
        let lz = compress(&CompressionSpec::Lz4, &d);
        assert_eq!(c, lz);
    }

    #[test]
    fn obfuscate_layout_and_padding() {
        let spec = CompressionSpec::parse("obfuscate,250,none").unwrap();
        let c = compress(&spec, &[7u8; 1000]);
        assert_eq!(&c[..2], &ID_OBFUSCATE);
        assert_eq!(u32::from_be_bytes([c[2], c[3], c[4], c[5]]), 1002);
        assert_eq!(&c[6..8], &ID_NONE);
        assert_eq!(c.len(), 6 + 1002 + padme_padding(1002));
        assert!(c[6 + 1002..].iter().all(|&b| b == 0));
        assert_eq!(padme_padding(0), 0);
        assert_eq!(padme_padding(1), 0);
        assert_eq!(padme_padding(1000), 24);
        assert_eq!(padme_padding(1024), 0);
        assert_eq!(padme_padding(1025), 63);
        // random levels stay within their bounds
        let mut r = rng();
        for _ in 0..1000 {
            assert!(obfuscate_padding(110, 5, &mut r) < 1024);
            assert!(obfuscate_padding(123, 5, &mut r) < 8 << 20);
            let p = obfuscate_padding(1, 1000, &mut r);
            assert!((10..=100_000).contains(&p), "{p}");
            assert!(obfuscate_padding(6, 1000, &mut r) <= MAX_DATA_SIZE - 1024 - 1000);
        }
        // the MAX_DATA_SIZE clamp
        assert_eq!(obfuscate_padding(6, MAX_DATA_SIZE - 1024, &mut r), 0);
        assert_eq!(obfuscate_padding(6, MAX_DATA_SIZE, &mut r), 0);
        assert_eq!(
            obfuscate_padding(6, 1 << 20, &mut r),
            MAX_DATA_SIZE - 1024 - (1 << 20)
        );
    }

    #[test]
    fn detection() {
        assert_eq!(Compressor::detect_name(b"\x01\x00xx"), Some("lz4"));
        assert_eq!(Compressor::detect_name(b"\x03\x00"), Some("zstd"));
        assert_eq!(Compressor::detect_name(b"\x00\x00"), Some("none"));
        assert_eq!(Compressor::detect_name(b"x\x9c"), Some("zlib"));
        assert_eq!(Compressor::detect_name(b"\x08\x1d"), Some("zlib"));
        assert_eq!(Compressor::detect_name(b"\x02\x00"), Some("lzma"));
        assert_eq!(Compressor::detect_name(b"\x04\x00"), Some("obfuscate"));
        assert_eq!(Compressor::detect_name(b"\x05\x00"), None);
        assert_eq!(Compressor::detect_name(b"\x01"), None);
        assert_eq!(
            decompress(b"\x05\x00abc"),
            Err(DecompressError::UnknownCompressor { header: [5, 0] })
        );
        assert_eq!(decompress(b""), Err(DecompressError::TooShort { len: 0 }));
    }

    #[test]
    fn zstd_without_content_size_is_refused() {
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        std::io::Write::write_all(&mut enc, &text(1000)).unwrap();
        let frame = enc.finish().unwrap();
        assert_eq!(
            zstd::zstd_safe::get_frame_content_size(&frame).unwrap(),
            None
        );
        let mut obj = ID_ZSTD.to_vec();
        obj.extend(frame);
        assert_eq!(decompress(&obj), Err(DecompressError::ZstdUnknownSize));
        assert_eq!(
            decompress(b"\x03\x00\x01\x02"),
            Err(DecompressError::ZstdNotZstd)
        );
    }

    #[test]
    fn legacy_lzma_and_concatenated_xz() {
        use xz2::stream::{Action, LzmaOptions, Stream};
        let data = text(5000);
        let mut s = Stream::new_lzma_encoder(&LzmaOptions::new_preset(6).unwrap()).unwrap();
        let mut alone = Vec::with_capacity(10_000);
        s.process_vec(&data, &mut alone, Action::Finish).unwrap();
        let mut obj = ID_LZMA.to_vec();
        obj.extend(&alone);
        assert_eq!(decompress(&obj).unwrap(), data);
        // Python's lzma.decompress: concatenated streams, ignored garbage
        let one = compress(&CompressionSpec::Lzma { level: 0 }, &data);
        let mut two = one.clone();
        two.extend_from_slice(&one[2..]);
        assert_eq!(decompress(&two).unwrap().len(), 10_000);
        let mut garbage = one.clone();
        garbage.extend_from_slice(b"garbage garbage garbage");
        assert_eq!(decompress(&garbage).unwrap(), data);
        // ... but a trailing prefix of a header is "ended before the end-of-stream marker"
        let mut zeros = one.clone();
        zeros.extend_from_slice(&[0, 0, 0, 0]);
        assert!(decompress(&zeros).is_err());
        // truncated
        assert!(decompress(&one[..one.len() - 3]).is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let big = vec![0u8; 1 << 20];
        for s in ["lz4", "zstd", "zlib", "lzma,0", "none"] {
            let c = compress(&CompressionSpec::parse(s).unwrap(), &big);
            assert!(
                matches!(
                    decompress_with_limit(&c, 1000),
                    Err(DecompressError::TooLarge { .. })
                ),
                "{s}"
            );
            assert_eq!(decompress_with_limit(&c, 1 << 20).unwrap().len(), 1 << 20);
            assert_eq!(
                decompress_with_limit(&c, usize::MAX).unwrap().len(),
                1 << 20
            );
        }
        // A hostile LZ4 block: one token with a huge match length run.
        let mut evil = ID_LZ4.to_vec();
        evil.extend_from_slice(&[0x1f, b'a', 1, 0]);
        evil.extend(std::iter::repeat_n(255u8, 1_000_000));
        evil.push(0);
        assert!(matches!(
            decompress_with_limit(&evil, 10 << 20),
            Err(DecompressError::TooLarge { .. })
        ));
        // A zstd header claiming 1 TiB is refused before allocating.
        let mut z = ID_ZSTD.to_vec();
        z.extend_from_slice(&[0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert!(matches!(
            decompress(&z),
            Err(DecompressError::TooLarge { .. })
        ));
    }

    #[test]
    fn lz4_edge_cases() {
        // empty payload: liblz4 fails, so do we
        assert!(decompress(b"\x01\x00").is_err());
        // literals only
        assert_eq!(decompress(b"\x01\x00\x30abc").unwrap(), b"abc");
        // overlapping match (run-length)
        assert_eq!(
            decompress(b"\x01\x00\x11a\x01\x00\x10b").unwrap(),
            b"aaaaaab"
        );
        // offset beyond the output
        assert!(decompress(b"\x01\x00\x11a\x05\x00\x10b").is_err());
        // offset 0
        assert!(decompress(b"\x01\x00\x11a\x00\x00\x10b").is_err());
        // truncated
        assert!(decompress(b"\x01\x00\x40abc").is_err());
        assert!(decompress(b"\x01\x00\x11a\x01").is_err());
    }

    #[test]
    fn obfuscate_nesting_is_bounded() {
        let mut obj = compress(&CompressionSpec::None, b"deep");
        for _ in 0..MAX_OBFUSCATE_DEPTH {
            let mut o = ID_OBFUSCATE.to_vec();
            o.extend_from_slice(&(obj.len() as u32).to_be_bytes());
            o.extend_from_slice(&obj);
            obj = o;
        }
        assert_eq!(decompress(&obj).unwrap(), b"deep");
        let mut o = ID_OBFUSCATE.to_vec();
        o.extend_from_slice(&(obj.len() as u32).to_be_bytes());
        o.extend_from_slice(&obj);
        assert_eq!(
            decompress(&o),
            Err(DecompressError::TooDeep(MAX_OBFUSCATE_DEPTH))
        );
        assert!(matches!(
            decompress(b"\x04\x00\x00"),
            Err(DecompressError::ObfuscateTruncated { .. })
        ));
        // a length larger than the data is sliced leniently, like Python
        assert_eq!(
            decompress(b"\x04\x00\xff\xff\xff\xff\x00\x00ab").unwrap(),
            b"ab"
        );
    }
}
