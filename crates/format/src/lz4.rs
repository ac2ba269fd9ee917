//! An LZ4 block compressor that emits exactly the bytes of liblz4's
//! `LZ4_compress_default` (1.9.x defaults: `LZ4_MEMORY_USAGE` 14,
//! acceleration 1, no dictionary, output buffer of `LZ4_compressBound`), the
//! function borg's `LZ4` compressor calls, so objects oxiborg stores are
//! the same bytes borg would store.
//!
//! The parse follows liblz4's greedy single-pass algorithm: a hash table of
//! recent positions (4-byte hash with 8192 u16 slots below 64 KiB + 11
//! input bytes, else a 5-byte hash with 4096 u32 slots), skip acceleration
//! on incompressible data, backward match extension, and an immediate
//! re-check of the position right after each match.
//!
//! The decoder first walks the block to learn its exact decoded size, so it
//! allocates exactly that (bounded by a caller's limit) instead of guessing
//! and growing like liblz4 callers must.

use crate::error::DecompressError;

const MINMATCH: usize = 4;
const LASTLITERALS: usize = 5;
const MFLIMIT: usize = 12;
const MIN_LENGTH: usize = MFLIMIT + 1;
/// Inputs shorter than this use the small (u16, 4-byte hash) table.
const LIMIT_64K: usize = 65536 + MFLIMIT - 1;
const SKIP_TRIGGER: u32 = 6;
const MAX_DISTANCE: usize = 65535;
const HASH_LOG: u32 = 12;
const RUN_MASK: usize = 15;
const ML_MASK: usize = 15;

/// `LZ4_compressBound`.
pub(crate) fn compress_bound(n: usize) -> usize {
    n + n / 255 + 16
}

#[inline(always)]
fn read32(src: &[u8], p: usize) -> u32 {
    let b = &src[p..p + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[inline(always)]
fn read64(src: &[u8], p: usize) -> u64 {
    let b = &src[p..p + 8];
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

#[inline(always)]
fn hash<const SMALL: bool>(src: &[u8], p: usize) -> usize {
    if SMALL {
        (read32(src, p).wrapping_mul(2_654_435_761) >> (32 - (HASH_LOG + 1))) as usize
    } else {
        ((read64(src, p) << 24).wrapping_mul(889_523_592_379) >> (64 - HASH_LOG)) as usize
    }
}

/// Length of the common prefix of `src[a..limit]` and `src[b..]` (b < a).
#[inline(always)]
fn count(src: &[u8], mut a: usize, mut b: usize, limit: usize) -> usize {
    let start = a;
    while a + 8 <= limit {
        let diff = read64(src, a) ^ read64(src, b);
        if diff != 0 {
            return a - start + (diff.trailing_zeros() / 8) as usize;
        }
        a += 8;
        b += 8;
    }
    while a < limit && src[a] == src[b] {
        a += 1;
        b += 1;
    }
    a - start
}

/// Append an LZ4 length continuation (`len` beyond the 15 in the token).
#[inline(always)]
fn push_len(out: &mut Vec<u8>, mut len: usize) {
    while len >= 255 {
        out.push(255);
        len -= 255;
    }
    out.push(len as u8);
}

/// Append the raw LZ4 block of `src` to `out`, byte-identical to
/// `LZ4_compress_default`.
pub(crate) fn compress_into(src: &[u8], out: &mut Vec<u8>) {
    out.reserve(compress_bound(src.len()));
    if src.len() < LIMIT_64K {
        compress_generic::<true>(src, out)
    } else {
        compress_generic::<false>(src, out)
    }
}

fn compress_generic<const SMALL: bool>(src: &[u8], out: &mut Vec<u8>) {
    let n = src.len();
    let mut anchor = 0usize;
    if n >= MIN_LENGTH {
        let mut table = vec![
            0u32;
            if SMALL {
                1 << (HASH_LOG + 1)
            } else {
                1 << HASH_LOG
            }
        ];
        let mflimit_plus_one = n - MFLIMIT + 1;
        let matchlimit = n - LASTLITERALS;
        table[hash::<SMALL>(src, 0)] = 0;
        let mut ip = 1usize;
        let mut forward_h = hash::<SMALL>(src, ip);
        'main: loop {
            // Find a match, skipping faster and faster through data that
            // does not compress.
            let mut mtch;
            let mut forward_ip = ip;
            let mut step = 1usize;
            let mut search_nb = 1u32 << SKIP_TRIGGER;
            loop {
                let h = forward_h;
                let current = forward_ip;
                let match_index = table[h] as usize;
                ip = forward_ip;
                forward_ip += step;
                step = (search_nb >> SKIP_TRIGGER) as usize;
                search_nb += 1;
                if forward_ip > mflimit_plus_one {
                    break 'main;
                }
                mtch = match_index;
                forward_h = hash::<SMALL>(src, forward_ip);
                table[h] = current as u32;
                if !SMALL && match_index + MAX_DISTANCE < current {
                    continue;
                }
                if read32(src, mtch) == read32(src, ip) {
                    break;
                }
            }
            // Extend the match backwards.
            while ip > anchor && mtch > 0 && src[ip - 1] == src[mtch - 1] {
                ip -= 1;
                mtch -= 1;
            }
            // Literals.
            let lit = ip - anchor;
            let mut token = out.len();
            if lit >= RUN_MASK {
                out.push((RUN_MASK << 4) as u8);
                push_len(out, lit - RUN_MASK);
            } else {
                out.push((lit << 4) as u8);
            }
            out.extend_from_slice(&src[anchor..ip]);
            loop {
                // Offset and match length.
                out.extend_from_slice(&((ip - mtch) as u16).to_le_bytes());
                let mc = count(src, ip + MINMATCH, mtch + MINMATCH, matchlimit);
                ip += mc + MINMATCH;
                if mc >= ML_MASK {
                    out[token] += ML_MASK as u8;
                    push_len(out, mc - ML_MASK);
                } else {
                    out[token] += mc as u8;
                }
                anchor = ip;
                if ip >= mflimit_plus_one {
                    break 'main;
                }
                // Fill the table, then test the very next position.
                let p = ip - 2;
                table[hash::<SMALL>(src, p)] = p as u32;
                let h = hash::<SMALL>(src, ip);
                let match_index = table[h] as usize;
                table[h] = ip as u32;
                if (SMALL || match_index + MAX_DISTANCE >= ip)
                    && read32(src, match_index) == read32(src, ip)
                {
                    token = out.len();
                    out.push(0);
                    mtch = match_index;
                    continue;
                }
                break;
            }
            ip += 1;
            forward_h = hash::<SMALL>(src, ip);
        }
    }
    // Last literals.
    let last = n - anchor;
    if last >= RUN_MASK {
        out.push((RUN_MASK << 4) as u8);
        push_len(out, last - RUN_MASK);
    } else {
        out.push((last << 4) as u8);
    }
    out.extend_from_slice(&src[anchor..]);
}

/// The exact decoded size of a raw LZ4 block, found by walking its
/// sequences without producing output. Fails on a malformed block (like
/// liblz4's `LZ4_decompress_safe`: every sequence complete, offsets within
/// the output, the block ends with a literals-only sequence) or when the
/// size exceeds `limit`.
fn decoded_len(src: &[u8], limit: usize) -> Result<usize, DecompressError> {
    let err = |m: &str| DecompressError::Lz4(m.to_string());
    let too_large = || DecompressError::TooLarge {
        algorithm: "lz4",
        limit,
    };
    let mut i = 0usize;
    let mut out = 0usize;
    loop {
        let token = *src.get(i).ok_or_else(|| err("truncated block"))?;
        i += 1;
        let mut lit = usize::from(token >> 4);
        if lit == RUN_MASK {
            lit = ext_len(src, &mut i, lit).ok_or_else(|| err("truncated length"))?;
        }
        if lit > src.len() - i {
            return Err(err("literals run past the end of the block"));
        }
        i += lit;
        out = out.saturating_add(lit);
        if out > limit {
            return Err(too_large());
        }
        if i == src.len() {
            return Ok(out);
        }
        if src.len() - i < 2 {
            return Err(err("truncated match offset"));
        }
        let offset = usize::from(u16::from_le_bytes([src[i], src[i + 1]]));
        i += 2;
        if offset == 0 || offset > out {
            return Err(err("match offset out of range"));
        }
        let mut mlen = usize::from(token & 15);
        if mlen == ML_MASK {
            mlen = ext_len(src, &mut i, mlen).ok_or_else(|| err("truncated length"))?;
        }
        out = out.saturating_add(mlen.saturating_add(MINMATCH));
        if out > limit {
            return Err(too_large());
        }
    }
}

/// Add the 255-continued length bytes at `*i` to `n`.
#[inline(always)]
fn ext_len(src: &[u8], i: &mut usize, mut n: usize) -> Option<usize> {
    loop {
        let b = *src.get(*i)?;
        *i += 1;
        n = n.saturating_add(usize::from(b));
        if b != 255 {
            return Some(n);
        }
    }
}

/// Decode a raw LZ4 block (no size prefix) of unknown decoded size,
/// allocating exactly the decoded size, which must be at most `limit`.
pub(crate) fn decompress(src: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    let size = decoded_len(src, limit)?;
    let mut out = vec![0u8; size];
    let n = lz4_flex::block::decompress_into(src, &mut out)
        .map_err(|e| DecompressError::Lz4(e.to_string()))?;
    if n != size {
        return Err(DecompressError::Lz4("size mismatch".to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(src: &[u8]) {
        let mut out = Vec::new();
        compress_into(src, &mut out);
        assert!(out.len() <= compress_bound(src.len()));
        // independent decoder
        let mut back = vec![0u8; src.len()];
        let n = lz4_flex::block::decompress_into(&out, &mut back).unwrap();
        assert_eq!(n, src.len());
        assert_eq!(back, src);
        // ours
        assert_eq!(decompress(&out, src.len()).unwrap(), src);
        if !src.is_empty() {
            assert!(decompress(&out, src.len() - 1).is_err());
        }
    }

    #[test]
    fn roundtrips() {
        roundtrip(b"");
        roundtrip(b"a");
        roundtrip(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        roundtrip(&b"abcdefgh".repeat(10_000));
        let mut x = 1u64;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        roundtrip(&noise);
        let mut mixed = noise.clone();
        mixed.extend(vec![0u8; 100_000]);
        mixed.extend(&noise[..70_000]);
        roundtrip(&mixed);
        for n in [12, 13, 14, 65_546, 65_547, 65_548] {
            roundtrip(&b"xyz".repeat(n)[..n]);
            roundtrip(&noise[..n]);
        }
    }

    #[test]
    fn known_vectors() {
        // liblz4 1.9.4 LZ4_compress_default outputs.
        let mut out = Vec::new();
        compress_into(b"", &mut out);
        assert_eq!(out, [0x00]);
        out.clear();
        compress_into(&[b'a'; 32], &mut out);
        assert_eq!(
            out,
            [0x1f, b'a', 0x01, 0x00, 0x07, 0x50, b'a', b'a', b'a', b'a', b'a']
        );
        out.clear();
        compress_into(&b"abcdefgh".repeat(100), &mut out);
        let mut expected = vec![0x8f];
        expected.extend_from_slice(b"abcdefgh\x08\x00\xff\xff\xff\x03\x50defgh");
        assert_eq!(out, expected);
    }
}
