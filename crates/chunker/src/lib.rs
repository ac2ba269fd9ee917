//! borg 1.x chunkers with borg-exact cut points.
//!
//! * [`ChunkerParams`]: borg's `--chunker-params` grammar and validation.
//! * [`buzhash()`], [`buzhash_update()`], [`BuzhashTable`]: the seeded rolling hash.
//! * [`BuzhashChunker`]: the fast content-defined chunker ([`BuzhashChunker::find_cut`]
//!   decides one cut from a slice and allocates nothing).
//! * [`FixedChunker`]: `fixed,BLOCK[,HEADER]`, including file maps with holes.
//! * [`Chunker`]: either of the two, with a streaming reader
//!   ([`Chunker::chunks`]) whose output does not depend on read sizes, and
//!   slice splitting ([`Chunker::split`]).
//! * [`reference`]: a slow, obviously-correct model of the cutting procedure.
//!
//! ```
//! use oxiborg_chunker::{Allocation, Chunker, ChunkerParams};
//!
//! let params: ChunkerParams = "buzhash,10,16,12,4095".parse()?;
//! let chunker = Chunker::new(params, 0x1234_5678)?;
//! let data: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
//!
//! // Streaming: chunks borrow the reader's buffer.
//! let mut chunks = chunker.chunks(&data[..]);
//! let mut total = 0;
//! while let Some(chunk) = chunks.next_chunk()? {
//!     assert_eq!(chunk.offset, total as u64);
//!     assert_eq!(chunk.allocation, Allocation::Data);
//!     total += chunk.size;
//! }
//! assert_eq!(total, data.len());
//!
//! // In memory: the same cut points.
//! let lengths: Vec<usize> = chunker.split(&data).map(|c| c.len()).collect();
//! assert_eq!(lengths, oxiborg_chunker::chunk_lengths(params, 0x1234_5678, &data)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod buzhash;
mod error;
mod fixed;
mod params;
#[cfg(test)]
mod proptests;
mod reader;
pub mod reference;
mod table;

use std::io::{self, Read};

pub use crate::buzhash::{BuzhashChunker, Cut};
pub use crate::error::ParamsError;
pub use crate::fixed::{FileRange, FixedChunker, MapChunks, BODY_RANGE_LEN};
pub use crate::params::{
    ChunkerParams, CHUNK_MAX_EXP, CHUNK_MIN_EXP, CH_BUZHASH, CH_FIXED, HASH_MASK_BITS,
    HASH_WINDOW_SIZE, MAX_DATA_SIZE,
};
pub use crate::table::{buzhash, buzhash_update, BuzhashTable, TABLE_BASE};

use crate::fixed::{FixedReader, NoSeek, Plan};
use crate::reader::{BuzhashReader, OwnedBuzhashReader};

/// How a chunk's bytes were obtained (borg's `CH_DATA`, `CH_ALLOC`, `CH_HOLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Allocation {
    /// Ordinary data (`CH_DATA`).
    Data,
    /// Data that was read and is entirely zero (`CH_ALLOC`).
    Alloc,
    /// A hole of a sparse file, skipped and never read (`CH_HOLE`); no data.
    Hole,
}

/// A chunk borrowing the chunker's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRef<'a> {
    /// Offset of the chunk in the stream.
    pub offset: u64,
    /// Chunk size in bytes.
    pub size: usize,
    /// The chunk's bytes; empty for [`Allocation::Hole`].
    pub data: &'a [u8],
    /// Data, all-zero data, or hole.
    pub allocation: Allocation,
}

impl ChunkRef<'_> {
    /// Whether the chunk's content is `size` zero bytes (`CH_ALLOC` or `CH_HOLE`).
    pub fn all_zero(&self) -> bool {
        self.allocation != Allocation::Data
    }

    /// Copy into an owned [`Chunk`].
    pub fn to_owned_chunk(self) -> Chunk {
        Chunk {
            offset: self.offset,
            size: self.size,
            data: self.data.to_vec(),
            allocation: self.allocation,
        }
    }
}

/// An owned chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Offset of the chunk in the stream.
    pub offset: u64,
    /// Chunk size in bytes.
    pub size: usize,
    /// The chunk's bytes; empty for [`Allocation::Hole`].
    pub data: Vec<u8>,
    /// Data, all-zero data, or hole.
    pub allocation: Allocation,
}

impl Chunk {
    /// Whether the chunk's content is `size` zero bytes (`CH_ALLOC` or `CH_HOLE`).
    pub fn all_zero(&self) -> bool {
        self.allocation != Allocation::Data
    }
}

/// Whether every byte of `data` is zero (fast for both outcomes).
pub fn is_all_zero(data: &[u8]) -> bool {
    data.chunks(4096)
        .all(|block| block.iter().fold(0u8, |acc, &b| acc | b) == 0)
}

/// Read until `buf` is full or EOF; retries `Interrupted`.
pub(crate) fn read_full<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n.min(buf.len() - got),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A buzhash or fixed chunker, built from [`ChunkerParams`] and a seed.
#[derive(Debug, Clone)]
pub enum Chunker {
    /// Content-defined chunking.
    Buzhash(BuzhashChunker),
    /// Fixed-size blocks.
    Fixed(FixedChunker),
}

impl Chunker {
    /// Build a chunker. `seed` is the key's `chunk_seed` as `u32` (two's
    /// complement of borg's signed value; 0 for plaintext repositories); the
    /// fixed chunker ignores it.
    pub fn new(params: ChunkerParams, seed: u32) -> Result<Self, ParamsError> {
        match params {
            ChunkerParams::Buzhash {
                min_exp,
                max_exp,
                mask_bits,
                window_size,
            } => Ok(Chunker::Buzhash(BuzhashChunker::new(
                min_exp,
                max_exp,
                mask_bits,
                window_size,
                seed,
            )?)),
            ChunkerParams::Fixed {
                block_size,
                header_size,
            } => Ok(Chunker::Fixed(FixedChunker::new(block_size, header_size)?)),
        }
    }

    /// The parameters of this chunker.
    pub fn params(&self) -> ChunkerParams {
        match self {
            Chunker::Buzhash(c) => c.params(),
            Chunker::Fixed(c) => c.params(),
        }
    }

    /// Chunk a reader. The cut points do not depend on how the reader splits
    /// its data. For the fixed chunker this uses the default (non-sparse) map.
    pub fn chunks<R: Read>(&self, reader: R) -> Chunks<R> {
        self.chunks_with_buffer(reader, Vec::new())
    }

    /// Like [`Chunker::chunks`], reusing a buffer returned by [`Chunks::into_parts`].
    pub fn chunks_with_buffer<R: Read>(&self, reader: R, buf: Vec<u8>) -> Chunks<R> {
        let inner = match self {
            Chunker::Buzhash(c) => ChunksInner::Buzhash(BuzhashReader::new(c.clone(), reader, buf)),
            Chunker::Fixed(c) => ChunksInner::Fixed(FixedReader::with_buffer(
                NoSeek(reader),
                Plan::new(c.default_map(), c.block_size()),
                buf,
            )),
        };
        Chunks { inner }
    }

    /// Chunk a reader into owned chunks: each chunk's bytes are read into
    /// their own buffer and returned without a copy (buzhash), so the only
    /// memory held is the chunk being read. Same cut points as
    /// [`Chunker::chunks`].
    pub fn owned_chunks<R: Read>(&self, reader: R) -> OwnedChunks<R> {
        let inner = match self {
            Chunker::Buzhash(c) => OwnedInner::Buzhash(OwnedBuzhashReader::new(c.clone(), reader)),
            Chunker::Fixed(_) => OwnedInner::Fixed(self.chunks(reader)),
        };
        OwnedChunks { inner }
    }

    /// Split `data`, a complete stream, into chunks (borrowed slices).
    pub fn split<'a>(&'a self, data: &'a [u8]) -> SliceChunks<'a> {
        let lengths: Box<dyn Iterator<Item = usize> + 'a> = match self {
            Chunker::Buzhash(c) => Box::new(c.chunk_lengths(data)),
            Chunker::Fixed(c) => Box::new(c.chunk_lengths(data)),
        };
        SliceChunks { data, lengths }
    }
}

/// Chunk lengths of `data` (a complete stream) for the given parameters and seed.
pub fn chunk_lengths(
    params: ChunkerParams,
    seed: u32,
    data: &[u8],
) -> Result<Vec<usize>, ParamsError> {
    let chunker = Chunker::new(params, seed)?;
    Ok(match &chunker {
        Chunker::Buzhash(c) => c.chunk_lengths(data).collect(),
        Chunker::Fixed(c) => c.chunk_lengths(data).collect(),
    })
}

/// Chunks of an in-memory stream; see [`Chunker::split`].
pub struct SliceChunks<'a> {
    data: &'a [u8],
    lengths: Box<dyn Iterator<Item = usize> + 'a>,
}

impl std::fmt::Debug for SliceChunks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SliceChunks")
            .field("remaining", &self.data.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Iterator for SliceChunks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let len = self.lengths.next()?;
        let (chunk, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        Some(chunk)
    }
}

#[derive(Debug)]
enum ChunksInner<R> {
    Buzhash(BuzhashReader<R>),
    Fixed(FixedReader<NoSeek<R>>),
}

#[derive(Debug)]
enum OwnedInner<R> {
    Buzhash(OwnedBuzhashReader<R>),
    Fixed(Chunks<R>),
}

/// Owned chunks of a reader; see [`Chunker::owned_chunks`].
#[derive(Debug)]
pub struct OwnedChunks<R> {
    inner: OwnedInner<R>,
}

impl<R: Read> OwnedChunks<R> {
    /// The next chunk; `None` at the end. An all-zero chunk read from the
    /// stream keeps its bytes and is marked [`Allocation::Alloc`].
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        match &mut self.inner {
            OwnedInner::Buzhash(r) => Ok(r.next_owned()?.map(|(offset, data)| {
                let allocation = if is_all_zero(&data) {
                    Allocation::Alloc
                } else {
                    Allocation::Data
                };
                Chunk {
                    offset,
                    size: data.len(),
                    data,
                    allocation,
                }
            })),
            OwnedInner::Fixed(c) => Ok(c.next_chunk()?.map(|c| Chunk {
                offset: c.offset,
                size: c.size,
                data: c.data.to_vec(),
                allocation: c.allocation,
            })),
        }
    }
}

/// Streaming chunks of a reader; see [`Chunker::chunks`].
///
/// Use [`Chunks::next_chunk`] to borrow each chunk from the internal buffer
/// without copying, or iterate to get owned [`Chunk`]s. An I/O error is
/// returned as is; the state stays consistent, so calling again retries.
#[derive(Debug)]
pub struct Chunks<R> {
    inner: ChunksInner<R>,
}

impl<R: Read> Chunks<R> {
    /// The next chunk, borrowing this reader's buffer; `None` at the end.
    pub fn next_chunk(&mut self) -> io::Result<Option<ChunkRef<'_>>> {
        match &mut self.inner {
            ChunksInner::Buzhash(r) => {
                let Some((offset, range)) = r.next_range()? else {
                    return Ok(None);
                };
                let data = &r.buf[range];
                let allocation = if is_all_zero(data) {
                    Allocation::Alloc
                } else {
                    Allocation::Data
                };
                Ok(Some(ChunkRef {
                    offset,
                    size: data.len(),
                    data,
                    allocation,
                }))
            }
            ChunksInner::Fixed(r) => r.next_chunk(),
        }
    }

    /// The reader and the buffer (for reuse with [`Chunker::chunks_with_buffer`]).
    pub fn into_parts(self) -> (R, Vec<u8>) {
        match self.inner {
            ChunksInner::Buzhash(r) => (r.reader, r.buf),
            ChunksInner::Fixed(r) => (r.src.0, r.buf),
        }
    }
}

impl<R: Read> Iterator for Chunks<R> {
    type Item = io::Result<Chunk>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk()
            .map(|c| c.map(ChunkRef::to_owned_chunk))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_zero_detection() {
        assert!(is_all_zero(&[]));
        assert!(is_all_zero(&[0; 10000]));
        let mut v = vec![0u8; 10000];
        v[9999] = 1;
        assert!(!is_all_zero(&v));
        v[9999] = 0;
        v[0] = 0x80;
        assert!(!is_all_zero(&v));
    }

    #[test]
    fn chunker_from_params() {
        let c = Chunker::new(ChunkerParams::DEFAULT, 0).unwrap();
        assert_eq!(c.params(), ChunkerParams::DEFAULT);
        let c = Chunker::new("fixed,4096,512".parse().unwrap(), 0).unwrap();
        assert_eq!(c.params().to_string(), "fixed,4096,512");
        assert!(Chunker::new(
            ChunkerParams::Fixed {
                block_size: 1,
                header_size: 0
            },
            0
        )
        .is_err());
        assert!(Chunker::new(
            ChunkerParams::Buzhash {
                min_exp: 6,
                max_exp: 6,
                mask_bits: 6,
                window_size: 63
            },
            0
        )
        .is_err());
        assert_eq!(
            chunk_lengths("fixed,64".parse().unwrap(), 0, &[1; 130]).unwrap(),
            vec![64, 64, 2]
        );
        assert_eq!(
            chunk_lengths(ChunkerParams::ITEMS, 0, &[]).unwrap(),
            Vec::<usize>::new()
        );
    }
}
