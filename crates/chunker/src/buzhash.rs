//! The fast buzhash chunker: finds borg's cut points in a slice.
//!
//! The window hash at position `p` depends only on `data[p .. p+W]`, so the
//! search region can be split into several sub-ranges ("lanes"), each seeded
//! with a full window hash and rolled independently. Interleaving the lanes
//! breaks the one-byte-per-step dependency chain of a single rolling hash.
//! The region is processed in blocks of `LANES` sub-ranges; inside a block
//! the first qualifying position in lane order is the answer, so at most one
//! block of work is wasted past the cut. The lane length balances the cost
//! of seeding a lane (one window hash) against that wasted work.

use std::sync::Arc;

use crate::error::ParamsError;
use crate::params::ChunkerParams;
use crate::table::BuzhashTable;

/// Number of interleaved rolling hashes.
const LANES: usize = 4;

/// The outcome of looking for the next cut in the bytes from a chunk start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The next chunk is this many bytes long (always > 0).
    Chunk(usize),
    /// The decision needs more bytes than were given (only when not at EOF).
    NeedMore,
    /// No bytes are left: the stream is completely chunked.
    End,
}

/// A seeded buzhash chunker with borg's exact cut points.
///
/// It keeps no state between chunks: [`BuzhashChunker::find_cut`] decides
/// from the bytes starting at the current chunk start only.
#[derive(Clone)]
pub struct BuzhashChunker {
    /// Shared so that cloning a chunker (once per file) is cheap.
    tables: Arc<Tables>,
    min_exp: u32,
    max_exp: u32,
    mask_bits: u32,
    min: usize,
    max: usize,
    /// A window hash `h` matches when `h & (2**mask_bits - 1) == 0`, i.e. when
    /// `h.rotate_right(mask_bits) < limit`.
    limit: u32,
    window: usize,
    lane_len: LaneLen,
    min_lane_len: usize,
    /// Whether the hash of an all-zero window matches the mask: inside a
    /// run of zeros every window hashes alike, so the run either cuts at
    /// its first eligible position or nowhere.
    zero_window_matches: bool,
}

/// The seeded table and the two pre-rotated lookup tables of the scanner.
#[derive(Debug)]
struct Tables {
    table: BuzhashTable,
    /// Seeded table for the byte entering the window, rotated right by
    /// `mask_bits` (see [`BuzhashChunker::scan`]).
    tin: [u32; 256],
    /// Seeded table rotated left by `W mod 32` for the byte leaving the
    /// window, then rotated right by `mask_bits`.
    tout: [u32; 256],
}

/// Lane length of the main scanning blocks (a compile-time constant each).
#[derive(Debug, Clone, Copy)]
enum LaneLen {
    K1,
    K4,
    K16,
    K64,
    /// Unusually large windows: a run-time length.
    Dyn(usize),
}

impl std::fmt::Debug for BuzhashChunker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuzhashChunker")
            .field("seed", &format_args!("{:#010x}", self.tables.table.seed()))
            .field("min_exp", &self.min_exp)
            .field("max_exp", &self.max_exp)
            .field("mask_bits", &self.mask_bits)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl BuzhashChunker {
    /// A chunker for the given parameters (validated as by
    /// [`ChunkerParams::validate`]) and 32-bit seed (the key's signed
    /// `chunk_seed` as two's complement; 0 for plaintext repositories).
    pub fn new(
        min_exp: u32,
        max_exp: u32,
        mask_bits: u32,
        window_size: u32,
        seed: u32,
    ) -> Result<Self, ParamsError> {
        ChunkerParams::buzhash(min_exp, max_exp, mask_bits, window_size)?;
        let table = BuzhashTable::new(seed);
        let mut tin = *table.entries();
        let mut tout = tin;
        for v in &mut tout {
            *v = v.rotate_left(window_size % 32).rotate_right(mask_bits);
        }
        for v in &mut tin {
            *v = v.rotate_right(mask_bits);
        }
        let window = window_size as usize;
        // Minimise (LANES-1)/2 * lane_len / 2**mask_bits (expected wasted work
        // per chunk, relative) + window/2 / lane_len (seeding cost, relative).
        // Lanes shorter than two windows would spend most of their time seeding.
        let ideal =
            ((window as f64) * (1u64 << mask_bits) as f64 / (LANES - 1) as f64).sqrt() as usize;
        let lane_len = match ideal.max(2 * window) {
            0..=1024 => LaneLen::K1,
            1025..=4096 => LaneLen::K4,
            4097..=16384 => LaneLen::K16,
            16385..=65536 => LaneLen::K64,
            other => LaneLen::Dyn(other),
        };
        let min_lane_len = window.max(256);
        let limit = 1u32 << (32 - mask_bits);
        let zero_window_matches = table.hash(&vec![0u8; window]).rotate_right(mask_bits) < limit;
        Ok(BuzhashChunker {
            tables: Arc::new(Tables { table, tin, tout }),
            min_exp,
            max_exp,
            mask_bits,
            min: 1 << min_exp,
            max: 1 << max_exp,
            limit,
            window,
            lane_len,
            min_lane_len,
            zero_window_matches,
        })
    }

    /// The parameters of this chunker.
    pub fn params(&self) -> ChunkerParams {
        ChunkerParams::Buzhash {
            min_exp: self.min_exp,
            max_exp: self.max_exp,
            mask_bits: self.mask_bits,
            window_size: self.window as u32,
        }
    }

    /// The seeded table.
    pub fn table(&self) -> &BuzhashTable {
        &self.tables.table
    }

    /// Minimum chunk size `2**min_exp` (the last chunk of a stream may be smaller).
    pub fn min_size(&self) -> usize {
        self.min
    }

    /// Maximum chunk size `2**max_exp`. Giving [`BuzhashChunker::find_cut`] at
    /// least this many bytes (or all bytes up to EOF) always yields a decision.
    pub fn max_size(&self) -> usize {
        self.max
    }

    /// Window size in bytes.
    pub fn window_size(&self) -> usize {
        self.window
    }

    /// Decide the next cut. `data` holds the bytes from the current chunk
    /// start; `eof` tells whether the stream ends right after `data`.
    ///
    /// Returns [`Cut::NeedMore`] only when `eof` is false and the bytes given
    /// do not decide the cut; with at least [`BuzhashChunker::max_size`] bytes
    /// or at EOF the answer is always [`Cut::Chunk`] or [`Cut::End`]. Extra
    /// bytes beyond `max_size` are ignored. Allocates nothing.
    pub fn find_cut(&self, data: &[u8], eof: bool) -> Cut {
        self.find_cut_from(data, eof, 0)
    }

    /// [`BuzhashChunker::find_cut`] that skips cut positions below `from`,
    /// which an earlier call on a prefix of `data` already rejected: after a
    /// [`Cut::NeedMore`] for `n` bytes, positions below `n - window_size`
    /// are decided, so a caller that reads on may pass that as `from`. The
    /// answer is the same as `find_cut(data, eof)`'s, because every window
    /// hash depends only on the window's own bytes.
    pub fn find_cut_from(&self, data: &[u8], eof: bool, from: usize) -> Cut {
        let n = data.len();
        if n == 0 {
            return if eof { Cut::End } else { Cut::NeedMore };
        }
        if n < self.min + self.window + 1 {
            // borg: fewer than MIN+W+1 bytes left until EOF -> final chunk.
            return if eof { Cut::Chunk(n) } else { Cut::NeedMore };
        }
        // `limit` is E - S: the chunker may look at this many bytes.
        let (limit, decided) = if n >= self.max {
            (self.max, true)
        } else {
            (n, eof)
        };
        match self.scan(&data[..limit], from) {
            Some(p) => Cut::Chunk(p),
            None if decided => Cut::Chunk(limit),
            None => Cut::NeedMore,
        }
    }

    /// Lengths of the chunks of `data`, a complete stream (EOF at its end).
    pub fn chunk_lengths<'a>(&'a self, data: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        let mut start = 0usize;
        std::iter::from_fn(move || match self.find_cut(data.get(start..)?, true) {
            Cut::Chunk(len) => {
                start += len;
                Some(len)
            }
            Cut::NeedMore | Cut::End => None,
        })
    }

    /// First position `p` in `[max(MIN, from), data.len() - W)` whose window hash
    /// matches the mask. Requires `data.len() >= MIN + W + 1`.
    ///
    /// All hashes here are kept rotated right by `mask_bits` (the tables are
    /// pre-rotated, and rotation commutes with the rolling update). Then
    /// "the low `mask_bits` bits are zero" becomes "the value is below
    /// `limit`", a single compare that does not destroy the register.
    fn scan(&self, data: &[u8], from: usize) -> Option<usize> {
        let start = self.min.max(from);
        if start >= data.len() - self.window {
            return None;
        }
        // The windows of positions `start..` cover `data[start..]`. When it
        // is all zeros (sparse files, disk images) every one of them hashes
        // like the zero window, so the answer is known without rolling.
        // Other data fails this check within its first block.
        if crate::is_all_zero(&data[start..]) {
            return self.zero_window_matches.then_some(start);
        }
        match self.lane_len {
            LaneLen::K1 => self.scan_with::<1024>(data, 1024, start),
            LaneLen::K4 => self.scan_with::<4096>(data, 4096, start),
            LaneLen::K16 => self.scan_with::<16384>(data, 16384, start),
            LaneLen::K64 => self.scan_with::<65536>(data, 65536, start),
            LaneLen::Dyn(len) => self.scan_with::<0>(data, len, start),
        }
    }

    /// [`BuzhashChunker::scan`] with blocks of `LANES` lanes of `len`
    /// positions; `LEN` is `len` as a compile-time constant, or 0.
    fn scan_with<const LEN: usize>(&self, data: &[u8], len: usize, start: usize) -> Option<usize> {
        let w = self.window;
        let hi = data.len() - w;
        let mut pos = start;
        let mut h = self.rotated_hash(&data[pos..pos + w]);
        while hi - pos >= LANES * len {
            let block = if LEN == 0 {
                self.scan_lanes(data, pos, len, h)
            } else {
                self.scan_block::<LEN>(data, pos, h)
            };
            match block {
                Ok(p) => return Some(p),
                Err(next) => {
                    h = next;
                    pos += LANES * len;
                }
            }
        }
        // The tail: shorter lanes while they are long enough to pay for
        // their seeding, then a single rolling hash.
        let remaining = hi - pos;
        if remaining >= LANES * self.min_lane_len {
            let len = remaining / LANES;
            match self.scan_lanes(data, pos, len, h) {
                Ok(p) => return Some(p),
                Err(next) => {
                    h = next;
                    pos += LANES * len;
                }
            }
        }
        self.scan_single(data, pos, hi, h).ok()
    }

    /// Check positions `from..to` with one rolling hash; `h` is the hash of
    /// the window at `from`. Returns the first match, or the hash of the
    /// window at `to`. Requires `to + W <= data.len()`.
    fn scan_single(&self, data: &[u8], from: usize, to: usize, mut h: u32) -> Result<usize, u32> {
        let w = self.window;
        let limit = self.limit;
        let (tin, tout) = self.tables();
        let outs = &data[from..to];
        let ins = &data[from + w..to + w];
        for (i, (&o, &a)) in outs.iter().zip(ins).enumerate() {
            if h < limit {
                return Ok(from + i);
            }
            h = h.rotate_left(1) ^ (tout[usize::from(o)] ^ tin[usize::from(a)]);
        }
        Err(h)
    }

    /// The hash of a window, rotated right by `mask_bits`.
    fn rotated_hash(&self, window: &[u8]) -> u32 {
        self.tables.table.hash(window).rotate_right(self.mask_bits)
    }

    /// The tables for entering and leaving bytes.
    #[inline(always)]
    fn tables(&self) -> (&[u32; 256], &[u32; 256]) {
        (&self.tables.tin, &self.tables.tout)
    }

    /// [`BuzhashChunker::lanes`] with a compile-time lane length, so that the
    /// lane offsets become constant displacements.
    #[inline(never)]
    fn scan_block<const LEN: usize>(&self, data: &[u8], pos: usize, h0: u32) -> Result<usize, u32> {
        self.lanes(data, pos, LEN, h0)
    }

    /// [`BuzhashChunker::lanes`] with a run-time lane length.
    #[inline(never)]
    fn scan_lanes(&self, data: &[u8], pos: usize, len: usize, h0: u32) -> Result<usize, u32> {
        self.lanes(data, pos, len, h0)
    }

    /// Check positions `pos .. pos + LANES*len` with `LANES` interleaved
    /// rolling hashes; `h0` is the hash of the window at `pos`. Returns the
    /// first match, or the hash of the window at `pos + LANES*len`.
    /// Requires `pos + LANES*len + W <= data.len()`.
    #[inline(always)]
    fn lanes(&self, data: &[u8], pos: usize, len: usize, h0: u32) -> Result<usize, u32> {
        let w = self.window;
        let limit = self.limit;
        let (tin, tout) = self.tables();
        let outs = &data[pos..pos + LANES * len];
        let ins = &data[pos + w..pos + w + LANES * len];
        let (o0, o1, o2, o3) = (
            &outs[..len],
            &outs[len..2 * len],
            &outs[2 * len..3 * len],
            &outs[3 * len..],
        );
        let (i0, i1, i2, i3) = (
            &ins[..len],
            &ins[len..2 * len],
            &ins[2 * len..3 * len],
            &ins[3 * len..],
        );
        let (o1, o2, o3, i0, i1, i2, i3) = (
            &o1[..len],
            &o2[..len],
            &o3[..len],
            &i0[..len],
            &i1[..len],
            &i2[..len],
            &i3[..len],
        );
        let h = [
            h0,
            self.rotated_hash(&data[pos + len..pos + len + w]),
            self.rotated_hash(&data[pos + 2 * len..pos + 2 * len + w]),
            self.rotated_hash(&data[pos + 3 * len..pos + 3 * len + w]),
        ];
        let [mut h0, mut h1, mut h2, mut h3] = h;
        let mut step = len;
        for i in 0..len {
            if h0 < limit || h1 < limit || h2 < limit || h3 < limit {
                step = i;
                break;
            }
            h0 = h0.rotate_left(1) ^ (tout[usize::from(o0[i])] ^ tin[usize::from(i0[i])]);
            h1 = h1.rotate_left(1) ^ (tout[usize::from(o1[i])] ^ tin[usize::from(i1[i])]);
            h2 = h2.rotate_left(1) ^ (tout[usize::from(o2[i])] ^ tin[usize::from(i2[i])]);
            h3 = h3.rotate_left(1) ^ (tout[usize::from(o3[i])] ^ tin[usize::from(i3[i])]);
        }
        if step == len {
            return Err(h3);
        }
        Ok(self.resolve(data, pos, len, step, [h0, h1, h2, h3]))
    }

    /// Some lane of a block matched at `step` (`h` holds the lane hashes
    /// there). The earliest lane with a match wins, but lanes before it
    /// still have unchecked positions after `step`. Kept out of line so the
    /// hot loop keeps only its counter and hashes live.
    #[cold]
    #[inline(never)]
    fn resolve(&self, data: &[u8], pos: usize, len: usize, step: usize, h: [u32; LANES]) -> usize {
        let first = h.iter().position(|&x| x < self.limit).unwrap_or(LANES - 1);
        for (lane, &hl) in h.iter().enumerate().take(first) {
            let from = pos + lane * len + step;
            if let Ok(p) = self.scan_single(data, from, pos + (lane + 1) * len, hl) {
                return p;
            }
        }
        pos + first * len + step
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference;

    fn x_stream(n: usize) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut out = Vec::with_capacity(n + 32);
        let mut i = 0u64;
        while out.len() < n {
            out.extend_from_slice(&Sha256::digest(i.to_be_bytes()));
            i += 1;
        }
        out.truncate(n);
        out
    }

    fn lengths(min: u32, max: u32, mask: u32, w: u32, seed: u32, data: &[u8]) -> Vec<usize> {
        BuzhashChunker::new(min, max, mask, w, seed)
            .unwrap()
            .chunk_lengths(data)
            .collect()
    }

    #[test]
    fn appendix_a1_chunk_sizes() {
        let x = x_stream(1 << 20);
        let l = lengths(10, 16, 12, 4095, 0, &x);
        assert_eq!(l.len(), 189);
        assert_eq!(
            &l[..12],
            &[7596, 1037, 6074, 2871, 2711, 4861, 7047, 1433, 11178, 4091, 5282, 2265]
        );
        let l = lengths(10, 16, 12, 4095, 0xffff_ffff, &x);
        assert_eq!(l.len(), 186);
        assert_eq!(
            &l[..12],
            &[1098, 9703, 1706, 1308, 2365, 1754, 1574, 5323, 5197, 1830, 11299, 2187]
        );
        let l = lengths(15, 19, 17, 4095, 0, &x);
        assert_eq!(l, vec![271586, 74394, 75363, 145236, 190060, 276332, 15605]);
        let l = lengths(19, 23, 21, 4095, 42, &x);
        assert_eq!(l, vec![1 << 20]);
        for (seed, params) in [
            (0, (10, 16, 12)),
            (0xffff_ffff, (10, 16, 12)),
            (0, (15, 19, 17)),
            (42, (19, 23, 21)),
        ] {
            let r = reference::chunk_lengths(&x, seed, params.0, params.1, params.2, 4095);
            assert_eq!(lengths(params.0, params.1, params.2, 4095, seed, &x), r);
        }
    }

    #[test]
    fn appendix_a1_rolling() {
        let x = x_stream(4096);
        let t = BuzhashTable::new(0xdead_beef);
        let h = t.hash(&x[..4095]);
        assert_eq!(h, 0xcc96_1112);
        let h2 = t.update(h, x[0], x[4095], 4095);
        assert_eq!(h2, 0x7113_5421);
        assert_eq!(t.hash(&x[1..4096]), h2);
    }

    #[test]
    fn empty_and_short_inputs() {
        let c = BuzhashChunker::new(10, 16, 12, 4095, 0).unwrap();
        assert_eq!(c.find_cut(&[], true), Cut::End);
        assert_eq!(c.find_cut(&[], false), Cut::NeedMore);
        assert_eq!(c.chunk_lengths(&[]).count(), 0);
        let d = vec![7u8; 1024 + 4095];
        assert_eq!(c.find_cut(&d, true), Cut::Chunk(d.len()));
        assert_eq!(c.find_cut(&d, false), Cut::NeedMore);
        let x = x_stream(1024 + 4095 + 1);
        assert!(matches!(c.find_cut(&x, true), Cut::Chunk(_)));
    }

    #[test]
    fn zeros_give_max_chunks() {
        // The hash of a zero window is constant; it matches only by chance.
        let data = vec![0u8; 3 * (1 << 16) + 5000];
        for seed in [0u32, 1, 2, 0xdead_beef] {
            let c = BuzhashChunker::new(10, 16, 12, 4095, seed).unwrap();
            let got: Vec<usize> = c.chunk_lengths(&data).collect();
            assert_eq!(got, reference::chunk_lengths(&data, seed, 10, 16, 12, 4095));
        }
    }

    /// Zero runs take the shortcut; cut points stay the reference's, with
    /// seeds whose zero window matches the mask and seeds whose does not.
    #[test]
    fn zero_runs_match_reference() {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut mixed = vec![0u8; 1 << 20];
        rng.fill_bytes(&mut mixed);
        mixed[100_000..400_000].fill(0);
        mixed[700_000..].fill(0);
        let zeros = vec![0u8; 300_000];
        // Three seeds whose zero window matches (one in 64 does), three
        // whose does not.
        let chunker = |seed| BuzhashChunker::new(6, 12, 6, 63, seed).unwrap();
        let matching = (0u32..).filter(|&s| chunker(s).zero_window_matches).take(3);
        let other = (0u32..)
            .filter(|&s| !chunker(s).zero_window_matches)
            .take(3);
        for seed in matching.chain(other) {
            let c = chunker(seed);
            for data in [&mixed, &zeros] {
                let got: Vec<usize> = c.chunk_lengths(data).collect();
                assert_eq!(
                    got,
                    reference::chunk_lengths(data, seed, 6, 12, 6, 63),
                    "seed {seed}"
                );
            }
        }
    }

    #[test]
    fn need_more_is_consistent() {
        let x = x_stream(1 << 18);
        let c = BuzhashChunker::new(10, 16, 12, 63, 5).unwrap();
        let full: Vec<usize> = c.chunk_lengths(&x).collect();
        // Offering a prefix either gives the same cut or asks for more.
        let mut start = 0;
        for &len in &full {
            for avail in [
                0,
                1,
                100,
                1024 + 64,
                len - 1,
                len,
                len + 63,
                len + 64,
                1 << 16,
            ] {
                let end = (start + avail).min(x.len());
                match c.find_cut(&x[start..end], false) {
                    Cut::Chunk(l) => assert_eq!(l, len),
                    Cut::NeedMore => {}
                    Cut::End => panic!("End without eof"),
                }
            }
            start += len;
        }
    }

    /// Every lane configuration (K1..K64 and the run-time length for huge
    /// windows) agrees with the reference.
    #[test]
    fn lane_configurations_match_reference() {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut data = vec![0u8; 6 << 20];
        rng.fill_bytes(&mut data);
        let cases = [
            ((6, 16, 8, 63), "K1"),
            ((8, 18, 12, 1001), "K4"),
            ((12, 20, 16, 4095), "K16"),
            ((16, 22, 20, 4095), "K64"),
            ((10, 21, 13, 200_001), "Dyn"),
        ];
        for ((min, max, mask, w), name) in cases {
            let c = BuzhashChunker::new(min, max, mask, w, 99).unwrap();
            let kind = format!("{:?}", c.lane_len);
            assert!(kind.starts_with(name), "{kind} != {name}");
            let got: Vec<usize> = c.chunk_lengths(&data).collect();
            assert_eq!(
                got,
                reference::chunk_lengths(&data, 99, min, max, mask, w as usize),
                "{name}"
            );
            assert!(got.len() > 3, "{name}: {} chunks", got.len());
        }
    }

    #[test]
    fn matches_naive_reference() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..20 {
            let n = rng.gen_range(0..6000);
            let mut d = vec![0u8; n];
            rng.fill(&mut d[..]);
            let seed = rng.gen();
            let w = 2 * rng.gen_range(0..40) + 1;
            let want = reference::chunk_lengths_naive(&d, seed, 6, 10, 6, w);
            assert_eq!(reference::chunk_lengths(&d, seed, 6, 10, 6, w), want);
            assert_eq!(lengths(6, 10, 6, w as u32, seed, &d), want);
        }
    }
}
