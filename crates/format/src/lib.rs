//! borg 1.x data formats, byte-compatible with BorgBackup 1.4:
//!
//! * [`mod@compress`]: the compression envelopes (`none`, `lz4`, `zlib`, `lzma`,
//!   `zstd`, `auto`, `obfuscate`), spec strings and auto-detecting
//!   decompression;
//! * [`item`]: archive items and the item stream;
//! * [`archive`]: archive metadata objects;
//! * [`manifest`]: the manifest, its timestamp rule and feature flags;
//! * [`timestamp`]: borg's UTC time strings.
//!
//! This crate does no I/O and knows nothing about encryption or TAMs: the
//! models convert to and from [`oxiborg_msgpack::Value`] maps without the
//! `tam` key. Library code never panics on any input.

pub mod archive;
pub mod compress;
pub mod error;
pub mod item;
mod lz4;
pub mod manifest;
pub mod timestamp;
mod value_util;

pub use archive::{ArchiveItem, ChunkerParams, ARCHIVE_KEYS, REQUIRED_ARCHIVE_KEYS};
pub use compress::{
    compress, compress_into, compress_with_spec_str, decompress, decompress_with_limit,
    CompressionSpec, Compressor, CompressorKind, MAX_DATA_SIZE,
};
pub use error::{DecompressError, FormatError, ModelError, SpecError};
pub use item::{
    bigint_to_int, decode_items, encode_items, int_to_bigint, ChunkListEntry, Item,
    ItemStreamReader, ITEM_KEYS, REQUIRED_ITEM_KEYS, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK,
    S_IFMT, S_IFREG, S_IFSOCK,
};
pub use manifest::{Manifest, ManifestArchive, Operation, MANIFEST_ID, SUPPORTED_REPO_FEATURES};
pub use timestamp::{next_manifest_timestamp, UtcTimestamp};
pub use value_util::surrogateescape_len;
