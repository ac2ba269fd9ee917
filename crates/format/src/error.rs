//! Typed errors of this crate. Library code never panics; every failure on
//! untrusted input is reported through one of these.

use oxiborg_msgpack::DecodeError;

/// A compression spec string (`--compression`) borg would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The algorithm name is not one of borg's.
    #[error("unsupported compression type {0:?}")]
    UnsupportedType(String),
    /// A level that is not an integer.
    #[error("invalid compression level {0:?}: not an integer")]
    NotAnInteger(String),
    /// A level outside the algorithm's range.
    #[error("{algorithm} level {level} out of range: {allowed}")]
    LevelOutOfRange {
        /// The algorithm (`zlib`, `zstd`, `obfuscate`, ...).
        algorithm: &'static str,
        /// The level given.
        level: String,
        /// The allowed levels, as borg phrases them.
        allowed: &'static str,
    },
    /// Too many comma-separated fields (e.g. `zstd,3,4`).
    #[error("too many arguments in compression spec {0:?}")]
    TooManyArguments(String),
    /// Wrong number of fields for `auto` / `obfuscate`.
    #[error("bad arguments in compression spec {0:?}")]
    BadArguments(String),
}

/// Why compressed data could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecompressError {
    /// Fewer than the two bytes needed to detect the compressor.
    #[error("compressed data too short ({len} bytes) to detect a compressor")]
    TooShort {
        /// Length of the data.
        len: usize,
    },
    /// The first two bytes match no compressor.
    #[error("no decompressor for this data found (header {:02x} {:02x})", .header[0], .header[1])]
    UnknownCompressor {
        /// The first two bytes.
        header: [u8; 2],
    },
    /// The decompressed size would exceed the caller's limit.
    #[error("{algorithm}: decompressed size exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Which decompressor hit the limit.
        algorithm: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// Corrupt LZ4 block.
    #[error("lz4 decompress failed: {0}")]
    Lz4(String),
    /// A zstd frame without a content size in its header (borg refuses these).
    #[error("zstd get size failed: original size unknown")]
    ZstdUnknownSize,
    /// Not a zstd frame, or a corrupt frame header.
    #[error("zstd get size failed: data was not compressed by zstd")]
    ZstdNotZstd,
    /// Corrupt zstd data.
    #[error("zstd decompress failed: {0}")]
    Zstd(String),
    /// Corrupt or truncated zlib stream.
    #[error("zlib decompress failed: {0}")]
    Zlib(String),
    /// Corrupt or truncated .xz / .lzma data.
    #[error("lzma decompress failed: {0}")]
    Lzma(String),
    /// An obfuscation envelope without its 4-byte length.
    #[error("obfuscate envelope truncated: {len} bytes")]
    ObfuscateTruncated {
        /// Length of the whole object.
        len: usize,
    },
    /// Obfuscation envelopes nested deeper than allowed.
    #[error("obfuscate envelopes nested deeper than {0}")]
    TooDeep(usize),
}

/// Why a msgpack value is not a valid item, archive or manifest (or cannot
/// be written as one).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The bytes are not valid msgpack.
    #[error("msgpack: {0}")]
    Decode(#[from] DecodeError),
    /// The value should have been a map.
    #[error("{what} is not a msgpack map")]
    NotAMap {
        /// Which object (`item`, `archive`, `manifest`, ...).
        what: &'static str,
    },
    /// A required key is absent.
    #[error("{what} lacks required key {key:?}")]
    MissingKey {
        /// Which object.
        what: &'static str,
        /// The missing key.
        key: &'static str,
    },
    /// A key holds a value of the wrong type or range.
    #[error("{what} key {key:?}: expected {expected}")]
    WrongType {
        /// Which object.
        what: &'static str,
        /// The key.
        key: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A chunk list entry is not `[raw32 id, size, csize]`.
    #[error("{key} entry {index}: {reason}")]
    BadChunkEntry {
        /// `chunks` or `chunks_healthy`.
        key: &'static str,
        /// Index within the list.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Archive metadata version other than 1.
    #[error("unknown archive metadata version {0}")]
    UnknownArchiveVersion(String),
    /// Manifest version other than 1 or 2.
    #[error("invalid manifest version {0}")]
    InvalidManifestVersion(String),
    /// The manifest plaintext starts with `c1 c1 c1 c1`.
    #[error("unsupported manifest envelope: a manifest from the future, a newer borg is required")]
    ManifestFromFuture,
    /// A write-time limit of the manifest is exceeded.
    #[error("manifest limit exceeded: {0}")]
    LimitExceeded(String),
    /// The repository needs features this client does not have.
    #[error("unsupported repository feature(s) {features:?} for operation {operation}; a newer version is required")]
    MandatoryFeatureUnsupported {
        /// The operation that was refused.
        operation: &'static str,
        /// The unknown mandatory features, sorted.
        features: Vec<String>,
    },
    /// `config.feature_flags` is not shaped as borg writes it.
    #[error("malformed feature_flags: {0}")]
    MalformedFeatureFlags(&'static str),
    /// A timestamp string that is not in borg's ISO format or out of range.
    #[error("invalid timestamp {0:?}")]
    BadTimestamp(String),
    /// An item stream ended in the middle of an item.
    #[error("item stream truncated: {0} bytes of an incomplete item left over")]
    TruncatedStream(usize),
}

/// Any error of this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    /// A bad compression spec.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Undecodable compressed data.
    #[error(transparent)]
    Decompress(#[from] DecompressError),
    /// An invalid item, archive or manifest.
    #[error(transparent)]
    Model(#[from] ModelError),
}
