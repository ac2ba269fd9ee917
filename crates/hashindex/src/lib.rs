//! borg 1.x `HashIndex` files, byte-compatible with borg 1.2 / 1.4.
//!
//! * [`HashIndex`]: the generic open-addressing table of `_hashindex.c`
//!   (header `BORG_IDX`, linear probing from `u32_le(key[0..4]) %
//!   num_buckets`, EMPTY / DELETED markers in the first value u32, borg's
//!   table sizes, load factors, grow / shrink / same-size rebuild), read with
//!   borg 1.4.5's validation and written verbatim.
//! * [`NsIndex`]: the repository index `index.N` (id → segment, offset).
//! * [`ChunkIndex`]: the client chunks cache (id → refcount, size, csize)
//!   with borg's `add`, `merge`, `summarize` semantics.
//! * [`IntegrityHasher`], [`IntegrityWriter`], [`IntegrityReader`],
//!   [`verify`], [`Digests`]: borg's XXH64 file-integrity digests and their
//!   JSON text, as stored in `integrity.N` and the cache config.
//!
//! Mutating methods reproduce borg's byte layout exactly, including borg's
//! habit of moving a found entry into the first tombstone passed during a
//! lookup; `&self` lookups ([`HashIndex::get`]) do not move anything.
//!
//! Nothing here panics on any input, prints, or uses `unsafe`.

mod error;
mod index;
mod integrity;
mod typed;

pub use error::HashIndexError;
pub use index::{
    fit_size, grow_size, shrink_size, HashIndex, Key, HASH_SIZES, HEADER_SIZE, KEY_SIZE, MAGIC,
    MAX_VALUE,
};
pub use integrity::{
    verify, Digests, IntegrityHasher, IntegrityReader, IntegrityWriter, ALGORITHM,
};
pub use typed::{ChunkEntry, ChunkIndex, ChunkStats, NsIndex};

#[cfg(test)]
mod tests;
