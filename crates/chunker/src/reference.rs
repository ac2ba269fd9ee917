//! A slow, obviously-correct buzhash chunker, written directly from the
//! cutting procedure (spec §5.1). It exists to check the fast chunker in
//! [`crate::buzhash`]; do not use it for real work.
//!
//! Procedure, with `S` the chunk start and `R` the bytes from `S` to EOF:
//!
//! 1. `R == 0`: done.
//! 2. `R < MIN + W + 1`: the rest is the final chunk.
//! 3. `E = min(S + MAX, EOF)`, `p = S + MIN`, `H = hash(stream[p .. p+W])`.
//! 4. While `H & MASK != 0` and `p + W < E`: roll the window by one byte.
//! 5. If `p + W >= E` the cut is at `E` (a match at that last position is
//!    ignored), otherwise at `p`.

use crate::table::BuzhashTable;

/// Chunk lengths of `data` (a whole stream, EOF at its end) with
/// `MIN = 2**min_exp`, `MAX = 2**max_exp`, `MASK = 2**mask_bits - 1` and
/// window `window`. Parameters are not validated beyond what the
/// procedure needs: callers pass values with `window + MIN + 1 <= MAX`.
pub fn chunk_lengths(
    data: &[u8],
    seed: u32,
    min_exp: u32,
    max_exp: u32,
    mask_bits: u32,
    window: usize,
) -> Vec<usize> {
    let table = BuzhashTable::new(seed);
    let min = 1usize << min_exp;
    let max = 1usize << max_exp;
    let mask = (1u32 << mask_bits) - 1;
    let mut out = Vec::new();
    let mut s = 0usize;
    loop {
        let r = data.len() - s;
        if r == 0 {
            break;
        }
        if r < min + window + 1 {
            out.push(r);
            break;
        }
        let e = (s + max).min(data.len());
        let mut p = s + min;
        let mut h = table.hash(&data[p..p + window]);
        while h & mask != 0 && p + window < e {
            h = table.update(h, data[p], data[p + window], window);
            p += 1;
        }
        let cut = if p + window >= e { e } else { p };
        out.push(cut - s);
        s = cut;
    }
    out
}

/// Like [`chunk_lengths`], but recomputes every window hash from scratch
/// instead of rolling. Quadratic; only for tiny inputs in tests.
pub fn chunk_lengths_naive(
    data: &[u8],
    seed: u32,
    min_exp: u32,
    max_exp: u32,
    mask_bits: u32,
    window: usize,
) -> Vec<usize> {
    let table = BuzhashTable::new(seed);
    let min = 1usize << min_exp;
    let max = 1usize << max_exp;
    let mask = (1u32 << mask_bits) - 1;
    let mut out = Vec::new();
    let mut s = 0usize;
    while s < data.len() {
        let r = data.len() - s;
        if r < min + window + 1 {
            out.push(r);
            break;
        }
        let e = (s + max).min(data.len());
        // Candidate cut positions: p in [S+MIN, E-W), first match wins.
        let cut = (s + min..e - window)
            .find(|&p| table.hash(&data[p..p + window]) & mask == 0)
            .unwrap_or(e);
        out.push(cut - s);
        s = cut;
    }
    out
}
