//! Streaming buzhash chunking over `std::io::Read`.

use std::io::{self, Read};
use std::ops::Range;

use crate::buzhash::{BuzhashChunker, Cut};

/// Smallest buffer allocation; the buffer grows on demand up to its cap,
/// so small files never touch a large buffer.
const INITIAL_BUFFER: usize = 64 * 1024;

/// A reusable input buffer with a window `[start, end)` of unconsumed bytes.
#[derive(Debug)]
pub(crate) struct BuzhashReader<R> {
    pub(crate) chunker: BuzhashChunker,
    pub(crate) reader: R,
    pub(crate) buf: Vec<u8>,
    cap: usize,
    start: usize,
    end: usize,
    eof: bool,
    /// Stream offset of `buf[start]`.
    offset: u64,
}

impl<R: Read> BuzhashReader<R> {
    pub(crate) fn new(chunker: BuzhashChunker, reader: R, buf: Vec<u8>) -> Self {
        // Compaction moves fewer than `max` bytes once per `cap - max` bytes
        // consumed; with `cap = 2 * max` that is at most once per byte, a
        // memmove far cheaper than the hashing, while each reader holds no
        // more than two maximum-size chunks.
        let cap = (2 * chunker.max_size()).max(buf.len());
        BuzhashReader {
            chunker,
            reader,
            buf,
            cap,
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
        }
    }

    /// Read until `max_size` bytes from the chunk start are buffered or EOF.
    /// Independent of how the reader splits its data.
    fn fill(&mut self) -> io::Result<()> {
        let max = self.chunker.max_size();
        while !self.eof && self.end - self.start < max {
            if self.end == self.buf.len() {
                if self.buf.len() < self.cap {
                    let new_len = (self.buf.len() * 2).max(INITIAL_BUFFER).min(self.cap);
                    self.buf.resize(new_len, 0);
                } else {
                    // end - start < max <= cap / 2: this frees more than half.
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.start = 0;
                }
            }
            let space = &mut self.buf[self.end..];
            match self.reader.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n.min(space.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The next chunk as `(stream offset, buffer range)`.
    pub(crate) fn next_range(&mut self) -> io::Result<Option<(u64, Range<usize>)>> {
        self.fill()?;
        match self
            .chunker
            .find_cut(&self.buf[self.start..self.end], self.eof)
        {
            Cut::Chunk(n) => {
                let range = self.start..self.start + n;
                let offset = self.offset;
                self.start += n;
                self.offset += n as u64;
                Ok(Some((offset, range)))
            }
            Cut::End => Ok(None),
            // `fill` guarantees max_size bytes or EOF, which always decides.
            Cut::NeedMore => Err(io::Error::other(
                "chunker needs more data after a full fill",
            )),
        }
    }
}

/// Bytes read per step once a chunk is longer than the minimum size: each
/// step is scanned at once, so at most this much (plus the window) is read
/// past a cut and carried over into the next chunk.
const READ_STEP: usize = 256 * 1024;

/// Streaming buzhash chunking into owned buffers: each chunk is read into its
/// own `Vec`, which is handed to the caller without a copy. Memory held here
/// is only the chunk being read; the scan resumes where the last read ended
/// ([`BuzhashChunker::find_cut_from`]), so nothing is hashed twice.
#[derive(Debug)]
pub(crate) struct OwnedBuzhashReader<R> {
    chunker: BuzhashChunker,
    reader: R,
    /// The current chunk's bytes read so far (and perhaps a little more).
    buf: Vec<u8>,
    eof: bool,
    /// Cut positions below this are already rejected.
    from: usize,
    /// Stream offset of `buf[0]`.
    offset: u64,
}

impl<R: Read> OwnedBuzhashReader<R> {
    pub(crate) fn new(chunker: BuzhashChunker, reader: R) -> Self {
        OwnedBuzhashReader {
            chunker,
            reader,
            buf: Vec::new(),
            eof: false,
            from: 0,
            offset: 0,
        }
    }

    /// Read up to `want` more bytes (fewer only at EOF).
    fn read_more(&mut self, want: usize) -> io::Result<()> {
        self.buf.reserve(want);
        let got = (&mut self.reader)
            .take(want as u64)
            .read_to_end(&mut self.buf)?;
        if got < want {
            self.eof = true;
        }
        Ok(())
    }

    /// The next chunk as `(stream offset, bytes)`.
    pub(crate) fn next_owned(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        let w = self.chunker.window_size();
        let min_scan = self.chunker.min_size() + w + 1;
        let max = self.chunker.max_size();
        loop {
            let n = self.buf.len();
            match self.chunker.find_cut_from(&self.buf, self.eof, self.from) {
                Cut::Chunk(len) => {
                    let mut rest = Vec::with_capacity((n - len).max(min_scan));
                    rest.extend_from_slice(&self.buf[len..]);
                    let mut chunk = std::mem::replace(&mut self.buf, rest);
                    chunk.truncate(len);
                    self.from = 0;
                    let offset = self.offset;
                    self.offset += len as u64;
                    return Ok(Some((offset, chunk)));
                }
                Cut::End => return Ok(None),
                Cut::NeedMore => {
                    let target = if n < min_scan {
                        min_scan
                    } else {
                        // find_cut scanned [min, n - w) and found nothing.
                        self.from = n - w;
                        n + READ_STEP
                    };
                    self.read_more(target.min(max).max(n + 1) - n)?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Allocation, Chunker, ChunkerParams};
    use rand::{Rng, RngCore, SeedableRng};
    use std::io::{self, Read};

    /// Returns random small read sizes, and sometimes `Interrupted`.
    struct Jittery<'a> {
        data: &'a [u8],
        rng: rand::rngs::StdRng,
        max_read: usize,
    }

    impl Read for Jittery<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.rng.gen_ratio(1, 50) {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "again"));
            }
            let n = self
                .rng
                .gen_range(1..=self.max_read)
                .min(buf.len())
                .min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn streaming_equals_slice_and_offsets() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let mut data = vec![0u8; 700_000];
        rng.fill_bytes(&mut data);
        data[100_000..300_000].fill(0);
        for params in [
            "10,16,12,4095",
            "6,12,8,63",
            "buzhash,15,19,17,4095",
            "fixed,4096,1000",
        ] {
            let params: ChunkerParams = params.parse().unwrap();
            let chunker = Chunker::new(params, 77).unwrap();
            let want: Vec<&[u8]> = chunker.split(&data).collect();
            assert_eq!(want.concat(), data);
            for max_read in [1usize, 7, 1000, 1 << 20] {
                let reader = Jittery {
                    data: &data,
                    rng: rand::rngs::StdRng::seed_from_u64(max_read as u64),
                    max_read,
                };
                let mut chunks = chunker.chunks(reader);
                let mut offset = 0u64;
                let mut i = 0;
                while let Some(c) = chunks.next_chunk().unwrap() {
                    assert_eq!(c.offset, offset);
                    assert_eq!(c.data, want[i]);
                    assert_eq!(c.size, want[i].len());
                    let zero = want[i].iter().all(|&b| b == 0);
                    assert_eq!(
                        c.allocation,
                        if zero {
                            Allocation::Alloc
                        } else {
                            Allocation::Data
                        }
                    );
                    assert_eq!(c.all_zero(), zero);
                    offset += c.size as u64;
                    i += 1;
                }
                assert_eq!(i, want.len());
                assert!(chunks.next_chunk().unwrap().is_none());
            }
        }
    }

    #[test]
    fn owned_iterator_and_buffer_reuse() {
        let data: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let chunker = Chunker::new("10,16,12,4095".parse().unwrap(), 3).unwrap();
        let owned: Vec<Vec<u8>> = chunker.chunks(&data[..]).map(|c| c.unwrap().data).collect();
        let want: Vec<&[u8]> = chunker.split(&data).collect();
        assert_eq!(owned, want);
        let (_, buf) = chunker.chunks(&data[..]).into_parts();
        let again: Vec<Vec<u8>> = chunker
            .chunks_with_buffer(&data[..], buf)
            .map(|c| c.unwrap().data)
            .collect();
        assert_eq!(again, want);
        assert_eq!(chunker.chunks(io::empty()).count(), 0);
    }

    #[test]
    fn read_errors_are_returned_and_retryable() {
        struct Failing<'a> {
            data: &'a [u8],
            fail_next: bool,
        }
        impl Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.fail_next = !self.fail_next;
                if self.fail_next {
                    return Err(io::Error::other("boom"));
                }
                let n = buf.len().min(self.data.len()).min(5000);
                buf[..n].copy_from_slice(&self.data[..n]);
                self.data = &self.data[n..];
                Ok(n)
            }
        }
        let data = vec![1u8; 100_000];
        let chunker = Chunker::new("10,16,12,4095".parse().unwrap(), 0).unwrap();
        let mut chunks = chunker.chunks(Failing {
            data: &data,
            fail_next: false,
        });
        let mut total = 0;
        let mut errors = 0;
        loop {
            match chunks.next_chunk() {
                Ok(Some(c)) => total += c.size,
                Ok(None) => break,
                Err(_) => errors += 1,
            }
        }
        assert_eq!(total, data.len());
        assert!(errors > 0);
    }

    #[test]
    fn owned_chunks_equal_slice_chunks() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut data = vec![0u8; 3_000_000];
        rng.fill_bytes(&mut data);
        data[1_000_000..1_600_000].fill(0);
        for params in [
            "10,16,12,4095",
            "6,12,8,63",
            "buzhash,15,19,17,4095",
            "19,23,21,4095",
            "10,11,10,63",
            "fixed,4096,1000",
        ] {
            let params: ChunkerParams = params.parse().unwrap();
            let chunker = Chunker::new(params, 5).unwrap();
            for len in [0usize, 1, 100, 70_000, data.len()] {
                let data = &data[..len];
                let want: Vec<&[u8]> = chunker.split(data).collect();
                for max_read in [1usize << 20, 7, 4096] {
                    if max_read < 4096 && len > 100_000 {
                        continue;
                    }
                    let reader = Jittery {
                        data,
                        rng: rand::rngs::StdRng::seed_from_u64(max_read as u64),
                        max_read,
                    };
                    let mut owned = chunker.owned_chunks(reader);
                    let mut offset = 0u64;
                    let mut got = Vec::new();
                    while let Some(c) = owned.next_chunk().unwrap() {
                        assert_eq!(c.offset, offset, "{params:?} {len}");
                        assert_eq!(c.size, c.data.len());
                        assert_eq!(
                            c.allocation == Allocation::Alloc,
                            c.data.iter().all(|&b| b == 0)
                        );
                        offset += c.size as u64;
                        got.push(c.data);
                    }
                    assert_eq!(got, want, "{params:?} len {len} max_read {max_read}");
                }
            }
        }
    }
}
