//! The fixed-block chunker (`--chunker-params fixed,BLOCK[,HEADER]`).
//!
//! The input is described as a list of ranges (a "file map"). Each range is
//! cut into pieces of `min(remaining_in_range, BLOCK)` bytes, so block
//! alignment restarts at every range boundary. Data ranges are read; hole
//! ranges are skipped with a seek and reported as holes. A short read ends
//! chunking (EOF). This mirrors borg's `ChunkerFixed.chunkify`.

use std::io::{self, Read, Seek, SeekFrom};

use crate::error::ParamsError;
use crate::params::ChunkerParams;
use crate::{is_all_zero, read_full, Allocation, Chunk, ChunkRef};

/// Length borg gives the open-ended body range when there is no sparse map.
pub const BODY_RANGE_LEN: u64 = 1 << 62;

/// One entry of a file map: `len` bytes at `start`, data or hole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRange {
    /// Offset of the range in the file.
    pub start: u64,
    /// Length of the range in bytes (may run past EOF).
    pub len: u64,
    /// `true` for data, `false` for a hole (skipped, never read).
    pub is_data: bool,
}

impl FileRange {
    /// A data range.
    pub fn data(start: u64, len: u64) -> Self {
        FileRange {
            start,
            len,
            is_data: true,
        }
    }

    /// A hole range.
    pub fn hole(start: u64, len: u64) -> Self {
        FileRange {
            start,
            len,
            is_data: false,
        }
    }
}

/// A fixed-block chunker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedChunker {
    block_size: usize,
    header_size: usize,
}

impl FixedChunker {
    /// A chunker cutting a `header_size` header range, then `block_size` blocks.
    pub fn new(block_size: u32, header_size: u32) -> Result<Self, ParamsError> {
        ChunkerParams::fixed(block_size, header_size)?;
        Ok(FixedChunker {
            block_size: block_size as usize,
            header_size: header_size as usize,
        })
    }

    /// The parameters of this chunker.
    pub fn params(&self) -> ChunkerParams {
        ChunkerParams::Fixed {
            block_size: self.block_size as u32,
            header_size: self.header_size as u32,
        }
    }

    /// Block size in bytes.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// Header size in bytes.
    pub fn header_size(&self) -> usize {
        self.header_size
    }

    /// The map borg uses without sparse support: `(0, HEADER, data)` if
    /// `HEADER > 0`, then `(HEADER, 2**62, data)`.
    pub fn default_map(&self) -> Vec<FileRange> {
        let h = self.header_size as u64;
        let mut map = Vec::with_capacity(2);
        if h > 0 {
            map.push(FileRange::data(0, h));
        }
        map.push(FileRange::data(h, BODY_RANGE_LEN));
        map
    }

    /// The map for a file with a sparse body map (as from `SEEK_DATA` /
    /// `SEEK_HOLE`, starting at `HEADER`): the header range, then `body`.
    pub fn map_with_body(&self, body: &[FileRange]) -> Vec<FileRange> {
        let mut map = Vec::with_capacity(body.len() + 1);
        if self.header_size > 0 {
            map.push(FileRange::data(0, self.header_size as u64));
        }
        map.extend_from_slice(body);
        map
    }

    /// Chunk lengths of `data`, a complete stream, with the default map.
    pub fn chunk_lengths<'a>(&'a self, data: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        let mut plan = Plan::new(self.default_map(), self.block_size);
        std::iter::from_fn(move || {
            let piece = plan.next_piece()?;
            // The default map is contiguous and all data: no seeks.
            let have = data
                .len()
                .saturating_sub(usize::try_from(plan.offset).unwrap_or(usize::MAX));
            let got = piece.wanted.min(have);
            plan.done_piece(got, piece.wanted);
            (got > 0).then_some(got)
        })
    }

    /// Chunk a seekable reader following `map` (e.g. from
    /// [`FixedChunker::map_with_body`]). Hole pieces are skipped with a
    /// seek and yielded as [`Allocation::Hole`] without data. The reader
    /// must be positioned at offset 0 of the file.
    pub fn chunks_with_map<R: Read + Seek>(&self, reader: R, map: Vec<FileRange>) -> MapChunks<R> {
        MapChunks {
            inner: FixedReader::new(Seekable(reader), Plan::new(map, self.block_size)),
        }
    }
}

/// A piece of a range: what to do next.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece {
    /// Seek to this absolute offset first (the range does not start where
    /// the previous one ended).
    pub seek_to: Option<u64>,
    /// Bytes wanted.
    pub wanted: usize,
    /// Data (read) or hole (seek over).
    pub is_data: bool,
}

/// The range bookkeeping of `ChunkerFixed.chunkify`, independent of I/O.
#[derive(Debug)]
pub(crate) struct Plan {
    map: Vec<FileRange>,
    block: usize,
    /// Index of the current range.
    idx: usize,
    /// Bytes left in the current range; `None` before entering it.
    left: Option<u64>,
    /// Current file offset.
    pub offset: u64,
    finished: bool,
}

impl Plan {
    pub(crate) fn new(map: Vec<FileRange>, block: usize) -> Self {
        Plan {
            map,
            block,
            idx: 0,
            left: None,
            offset: 0,
            finished: false,
        }
    }

    /// The next piece, or `None` when chunking is over.
    pub(crate) fn next_piece(&mut self) -> Option<Piece> {
        let mut seek_to = None;
        loop {
            if self.finished {
                return None;
            }
            let range = *self.map.get(self.idx)?;
            let left = match self.left {
                Some(l) => l,
                None => {
                    if range.start != self.offset {
                        self.offset = range.start;
                        seek_to = Some(range.start);
                    }
                    self.left = Some(range.len);
                    range.len
                }
            };
            if left == 0 {
                self.idx += 1;
                self.left = None;
                continue;
            }
            let wanted = usize::try_from(left.min(self.block as u64)).unwrap_or(self.block);
            return Some(Piece {
                seek_to,
                wanted,
                is_data: range.is_data,
            });
        }
    }

    /// Record that a piece produced `got` bytes out of `wanted`.
    pub(crate) fn done_piece(&mut self, got: usize, wanted: usize) {
        if got > 0 {
            self.offset += got as u64;
            if let Some(l) = self.left.as_mut() {
                *l = l.saturating_sub(got as u64);
            }
        }
        if got < wanted {
            self.finished = true;
        }
    }
}

/// What the fixed chunker needs from its input.
pub(crate) trait Source {
    /// Read up to `buf.len()` bytes, stopping early only at EOF.
    fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Seek to an absolute offset.
    fn seek_to(&mut self, pos: u64) -> io::Result<()>;
    /// Seek forward by `n` bytes, returning the new position.
    fn skip(&mut self, n: u64) -> io::Result<u64>;
}

/// A reader that cannot seek (only the default map is used with it).
#[derive(Debug)]
pub(crate) struct NoSeek<R>(pub R);

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "file map needs a seekable reader",
    )
}

impl<R: Read> Source for NoSeek<R> {
    fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_full(&mut self.0, buf)
    }
    fn seek_to(&mut self, _pos: u64) -> io::Result<()> {
        Err(unsupported())
    }
    fn skip(&mut self, _n: u64) -> io::Result<u64> {
        Err(unsupported())
    }
}

/// A seekable reader.
#[derive(Debug)]
pub(crate) struct Seekable<R>(pub R);

impl<R: Read + Seek> Source for Seekable<R> {
    fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_full(&mut self.0, buf)
    }
    fn seek_to(&mut self, pos: u64) -> io::Result<()> {
        self.0.seek(SeekFrom::Start(pos)).map(|_| ())
    }
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let n = i64::try_from(n)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "hole too large"))?;
        self.0.seek(SeekFrom::Current(n))
    }
}

/// Streaming fixed-block chunking over a [`Source`].
#[derive(Debug)]
pub(crate) struct FixedReader<S> {
    pub(crate) src: S,
    plan: Plan,
    pub(crate) buf: Vec<u8>,
}

impl<S: Source> FixedReader<S> {
    pub(crate) fn new(src: S, plan: Plan) -> Self {
        FixedReader {
            src,
            plan,
            buf: Vec::new(),
        }
    }

    pub(crate) fn with_buffer(src: S, plan: Plan, buf: Vec<u8>) -> Self {
        FixedReader { src, plan, buf }
    }

    pub(crate) fn next_chunk(&mut self) -> io::Result<Option<ChunkRef<'_>>> {
        loop {
            let Some(piece) = self.plan.next_piece() else {
                return Ok(None);
            };
            if let Some(pos) = piece.seek_to {
                self.src.seek_to(pos)?;
            }
            let offset = self.plan.offset;
            if piece.is_data {
                if self.buf.len() < piece.wanted {
                    self.buf.resize(piece.wanted, 0);
                }
                let got = self.src.read_full(&mut self.buf[..piece.wanted])?;
                self.plan.done_piece(got, piece.wanted);
                if got > 0 {
                    let data = &self.buf[..got];
                    let allocation = if is_all_zero(data) {
                        Allocation::Alloc
                    } else {
                        Allocation::Data
                    };
                    return Ok(Some(ChunkRef {
                        offset,
                        size: got,
                        data,
                        allocation,
                    }));
                }
            } else {
                let pos = self.src.skip(piece.wanted as u64)?;
                let got = usize::try_from(pos.saturating_sub(offset))
                    .unwrap_or(usize::MAX)
                    .min(piece.wanted);
                self.plan.done_piece(got, piece.wanted);
                if got > 0 {
                    return Ok(Some(ChunkRef {
                        offset,
                        size: got,
                        data: &[],
                        allocation: Allocation::Hole,
                    }));
                }
            }
        }
    }
}

/// Fixed-block chunks of a seekable reader following a file map; see
/// [`FixedChunker::chunks_with_map`].
#[derive(Debug)]
pub struct MapChunks<R> {
    inner: FixedReader<Seekable<R>>,
}

impl<R: Read + Seek> MapChunks<R> {
    /// The next chunk, borrowing this reader's buffer.
    pub fn next_chunk(&mut self) -> io::Result<Option<ChunkRef<'_>>> {
        self.inner.next_chunk()
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.inner.src.0
    }
}

impl<R: Read + Seek> Iterator for MapChunks<R> {
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
    use std::io::Cursor;

    fn lens(c: &FixedChunker, data: &[u8]) -> Vec<usize> {
        c.chunk_lengths(data).collect()
    }

    #[test]
    fn slice_lengths() {
        let c = FixedChunker::new(64, 0).unwrap();
        assert_eq!(lens(&c, &[]), Vec::<usize>::new());
        assert_eq!(lens(&c, &[1; 64]), vec![64]);
        assert_eq!(lens(&c, &[1; 65]), vec![64, 1]);
        assert_eq!(lens(&c, &[1; 200]), vec![64, 64, 64, 8]);
        let c = FixedChunker::new(64, 100).unwrap();
        assert_eq!(lens(&c, &[1; 50]), vec![50]);
        assert_eq!(lens(&c, &[1; 100]), vec![64, 36]);
        assert_eq!(lens(&c, &[1; 229]), vec![64, 36, 64, 64, 1]);
        let c = FixedChunker::new(100, 10).unwrap();
        assert_eq!(lens(&c, &[1; 10]), vec![10]);
        assert_eq!(lens(&c, &[1; 11]), vec![10, 1]);
    }

    #[test]
    fn map_with_holes() {
        let mut file = vec![0u8; 1000];
        file[..300].fill(7);
        file[700..].fill(9);
        let c = FixedChunker::new(128, 64).unwrap();
        let map = c.map_with_body(&[
            FileRange::data(64, 236),
            FileRange::hole(300, 400),
            FileRange::data(700, 300),
        ]);
        let chunks: Vec<Chunk> = c
            .chunks_with_map(Cursor::new(&file), map)
            .collect::<io::Result<_>>()
            .unwrap();
        let got: Vec<(u64, usize, Allocation)> = chunks
            .iter()
            .map(|c| (c.offset, c.size, c.allocation))
            .collect();
        use Allocation::*;
        assert_eq!(
            got,
            vec![
                (0, 64, Data),
                (64, 128, Data),
                (192, 108, Data),
                (300, 128, Hole),
                (428, 128, Hole),
                (556, 128, Hole),
                (684, 16, Hole),
                (700, 128, Data),
                (828, 128, Data),
                (956, 44, Data),
            ]
        );
        for ch in &chunks {
            if ch.allocation == Data {
                assert_eq!(
                    ch.data,
                    &file[ch.offset as usize..ch.offset as usize + ch.size]
                );
            } else {
                assert!(ch.data.is_empty());
            }
        }
    }

    #[test]
    fn map_with_gap_seeks_and_zero_flag() {
        let mut file = vec![5u8; 600];
        file[200..400].fill(0);
        let c = FixedChunker::new(100, 0).unwrap();
        // Only two data ranges; the gap 100..200 is not covered.
        let map = vec![FileRange::data(0, 100), FileRange::data(200, 1000)];
        let chunks: Vec<Chunk> = c
            .chunks_with_map(Cursor::new(&file), map)
            .collect::<io::Result<_>>()
            .unwrap();
        let got: Vec<(u64, usize, Allocation)> = chunks
            .iter()
            .map(|c| (c.offset, c.size, c.allocation))
            .collect();
        use Allocation::*;
        assert_eq!(
            got,
            vec![
                (0, 100, Data),
                (200, 100, Alloc),
                (300, 100, Alloc),
                (400, 100, Data),
                (500, 100, Data)
            ]
        );
        assert_eq!(chunks[1].data, vec![0u8; 100]);
    }
}
