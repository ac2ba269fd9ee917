//! The buzhash table, its seeding, the window hash and the rolling update.
//!
//! borg's table (`table_base` in `_chunker.c`) is a fixed list of 256 random
//! 32-bit values. A repository's 32-bit chunk seed is XORed into every entry.

/// borg's unseeded buzhash table (`table_base`).
pub const TABLE_BASE: [u32; 256] = [
    0xe7f831ec, 0xf4026465, 0xafb50cae, 0x6d553c7a, 0xd639efe3, 0x19a7b895, 0x9aba5b21, 0x5417d6d4,
    0x35fd2b84, 0xd1f6a159, 0x3f8e323f, 0xb419551c, 0xf444cebf, 0x21dc3b80, 0xde8d1e36, 0x84a32436,
    0xbeb35a9d, 0xa36f24aa, 0xa4e60186, 0x98d18ffe, 0x3f042f9e, 0xdb228bcd, 0x096474b7, 0x5c20c2f7,
    0xf9eec872, 0xe8625275, 0xb9d38f80, 0xd48eb716, 0x22a950b4, 0x3cbaaeaa, 0xc37cddd3, 0x8fea6f6a,
    0x1d55d526, 0x7fd6d3b3, 0xdaa072ee, 0x4345ac40, 0xa077c642, 0x8f2bd45b, 0x28509110, 0x55557613,
    0xffc17311, 0xd961ffef, 0xe532c287, 0xaab95937, 0x46d38365, 0xb065c703, 0xf2d91d0f, 0x92cd4bb0,
    0x4007c712, 0xf35509dd, 0x505b2f69, 0x557ead81, 0x310f4563, 0xbddc5be8, 0x9760f38c, 0x701e0205,
    0x00157244, 0x14912826, 0xdc4ca32b, 0x67b196de, 0x5db292e8, 0x8c1b406b, 0x01f34075, 0xfa2520f7,
    0x73bc37ab, 0x1e18bc30, 0xfe2c6cb3, 0x20c522d0, 0x5639e3db, 0x942bda35, 0x899af9d1, 0xced44035,
    0x98cc025b, 0x255f5771, 0x70fefa24, 0xe928fa4d, 0x2c030405, 0xb9325590, 0x20cb63bd, 0xa166305d,
    0x80e52c0a, 0xa8fafe2f, 0x1ad13f7d, 0xcfaf3685, 0x6c83a199, 0x7d26718a, 0xde5dfcd9, 0x79cf7355,
    0x8979d7fb, 0xebf8c55e, 0xebe408e4, 0xcd2affba, 0xe483be6e, 0xe239d6de, 0x5dc1e9e0, 0x0473931f,
    0x851b097c, 0xac5db249, 0x09c0f9f2, 0xd8d2f134, 0xe6f38e41, 0xb1c71bf1, 0x52b6e4db, 0x07224424,
    0x6cf73e85, 0x4f25d89c, 0x782a7d74, 0x10a68dcd, 0x3a868189, 0xd570d2dc, 0x69630745, 0x9542ed86,
    0x331cd6b2, 0xa84b5b28, 0x07879c9d, 0x38372f64, 0x7185db11, 0x25ba7c83, 0x01061523, 0xe6792f9f,
    0xe5df07d1, 0x4321b47f, 0x7d2469d8, 0x1a3a4f90, 0x48be29a3, 0x669071af, 0x8ec8dd31, 0x0810bfbf,
    0x813a06b4, 0x68538345, 0x65865ddc, 0x43a71b8e, 0x78619a56, 0x5a34451d, 0x5bdaa3ed, 0x71edc7e9,
    0x17ac9a20, 0x78d10bfa, 0x6c1e7f35, 0xd51839d9, 0x240cbc51, 0x33513cc1, 0xd2b4f795, 0xccaa8186,
    0x0babe682, 0xa33cf164, 0x18c643ea, 0xc1ca105f, 0x9959147a, 0x6d3d94de, 0x0b654fbe, 0xed902ca0,
    0x7d835cb5, 0x99ba1509, 0x6445c922, 0x495e76c2, 0xf07194bc, 0xa1631d7e, 0x677076a5, 0x89fffe35,
    0x1a49bcf3, 0x8e6c948a, 0x0144c917, 0x8d93aea1, 0x16f87ddf, 0xc8f25d49, 0x1fb11297, 0x27e750cd,
    0x2f422da1, 0xdee89a77, 0x1534c643, 0x457b7b8b, 0xaf172f7a, 0x6b9b09d6, 0x33573f7f, 0xf14e15c4,
    0x526467d5, 0xaf488241, 0x87c3ee0d, 0x33be490c, 0x95aa6e52, 0x43ec242e, 0xd77de99b, 0xd018334f,
    0x5b78d407, 0x498eb66b, 0xb1279fa8, 0xb38b0ea6, 0x90718376, 0xe325dee2, 0x8e2f2cba, 0xcaa5bdec,
    0x9d652c56, 0xad68f5cb, 0xa77591af, 0x88e37ee8, 0xf8faa221, 0xfcbbbe47, 0x4f407786, 0xaf393889,
    0xf444a1d9, 0x15ae1a2f, 0x40aa7097, 0x6f9486ac, 0x29d232a3, 0xe47609e9, 0xe8b631ff, 0xba8565f4,
    0x11288749, 0x46c9a838, 0xeb1b7cd8, 0xf516bbb1, 0xfb74fda0, 0x010996e6, 0x4c994653, 0x1d889512,
    0x53dcd9a3, 0xdd074697, 0x1e78e17c, 0x637c98bf, 0x930bb219, 0xcf7f75b0, 0xcb9355fb, 0x9e623009,
    0xe466d82c, 0x28f968d3, 0xfeb385d9, 0x238e026c, 0xb8ed0560, 0x0c6a027a, 0x3d6fec4b, 0xbb4b2ec2,
    0xe715031c, 0xeded011d, 0xcdc4d3b9, 0xc456fc96, 0xdd0eea20, 0xb3df8ec9, 0x12351993, 0xd9cbb01c,
    0x603147a2, 0xcf37d17d, 0xf7fcd9dc, 0xd8556fa3, 0x104c8131, 0x13152774, 0xb4715811, 0x6a72c2c9,
    0xc5ae37bb, 0xa76ce12a, 0x8150d8f3, 0x2ec29218, 0xa35f0984, 0x48c0647e, 0x0b5ff98c, 0x71893f7b,
];

/// A buzhash table seeded with a repository's chunk seed.
///
/// `T[i] = TABLE_BASE[i] ^ seed`, exactly as borg's `buzhash_init_table`.
#[derive(Clone)]
pub struct BuzhashTable {
    seed: u32,
    t: [u32; 256],
}

impl std::fmt::Debug for BuzhashTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuzhashTable")
            .field("seed", &format_args!("{:#010x}", self.seed))
            .finish_non_exhaustive()
    }
}

impl BuzhashTable {
    /// Seed the table. borg's seed is the key's signed 32-bit `chunk_seed`
    /// taken as two's complement (`seed as u32`); plaintext repositories use 0.
    pub fn new(seed: u32) -> Self {
        let mut t = TABLE_BASE;
        for v in &mut t {
            *v ^= seed;
        }
        BuzhashTable { seed, t }
    }

    /// The seed this table was built with.
    pub fn seed(&self) -> u32 {
        self.seed
    }

    /// The seeded table entries.
    pub fn entries(&self) -> &[u32; 256] {
        &self.t
    }

    /// Seeded table entry for byte `b`.
    #[inline(always)]
    pub fn get(&self, b: u8) -> u32 {
        self.t[usize::from(b)]
    }

    /// The buzhash of `data`: `XOR over k of ROTL(T[data[k]], (n-1-k) mod 32)`.
    /// An empty input hashes to 0.
    pub fn hash(&self, data: &[u8]) -> u32 {
        // Four independent chains over four consecutive parts, combined with
        // `hash(a || b) = ROTL(hash(a), |b|) ^ hash(b)`; this gives the CPU
        // independent work instead of one long dependency chain.
        let q = data.len() / 4;
        let (a, rest) = data.split_at(q);
        let (b, rest) = rest.split_at(q);
        let (c, d) = rest.split_at(q);
        let (d_head, d_tail) = d.split_at(q);
        let t = &self.t;
        let (mut ha, mut hb, mut hc, mut hd) = (0u32, 0u32, 0u32, 0u32);
        for (((&xa, &xb), &xc), &xd) in a.iter().zip(b).zip(c).zip(d_head) {
            ha = ha.rotate_left(1) ^ t[usize::from(xa)];
            hb = hb.rotate_left(1) ^ t[usize::from(xb)];
            hc = hc.rotate_left(1) ^ t[usize::from(xc)];
            hd = hd.rotate_left(1) ^ t[usize::from(xd)];
        }
        for &x in d_tail {
            hd = hd.rotate_left(1) ^ t[usize::from(x)];
        }
        // Rotations are taken modulo 32 by `rotate_left`; reduce first so
        // huge inputs cannot overflow the u32 conversion.
        let d_len = (d.len() % 32) as u32;
        let q32 = (q % 32) as u32;
        ha.rotate_left(2 * q32 + d_len) ^ hb.rotate_left(q32 + d_len) ^ hc.rotate_left(d_len) ^ hd
    }

    /// Roll a window hash of a `len`-byte window by one byte: remove `remove`
    /// (the oldest byte) and add `add`.
    #[inline(always)]
    pub fn update(&self, sum: u32, remove: u8, add: u8, len: usize) -> u32 {
        sum.rotate_left(1) ^ self.get(remove).rotate_left((len % 32) as u32) ^ self.get(add)
    }
}

/// borg's `buzhash(data, seed)`: the hash of `data` with a table seeded by `seed`.
pub fn buzhash(data: &[u8], seed: u32) -> u32 {
    BuzhashTable::new(seed).hash(data)
}

/// borg's `buzhash_update(sum, remove, add, len, seed)`: roll the hash of a
/// `len`-byte window by one byte.
pub fn buzhash_update(sum: u32, remove: u8, add: u8, len: usize, seed: u32) -> u32 {
    BuzhashTable::new(seed).update(sum, remove, add, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_digest() {
        use sha2::{Digest, Sha256};
        let le: Vec<u8> = TABLE_BASE.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            hex::encode(Sha256::digest(&le)),
            "52bbc3f13bb34a5f5b19988dce11f5adb9cc0868a29e987f4c8d2901c722e6db"
        );
        let be: Vec<u8> = TABLE_BASE.iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(
            hex::encode(Sha256::digest(&be)),
            "7e90c40933833b90cab41186562ab091cf4167c0a86ecd58660d994403517b9b"
        );
    }

    #[test]
    fn appendix_a1_hash() {
        let data = b"borgbackup".repeat(5);
        assert_eq!(buzhash(&data, 0), 0x3611_05a3);
        assert_eq!(buzhash(&data, 0x1234_5678), 0xf0a2_f03b);
        assert_eq!(buzhash(b"", 0), 0);
        assert_eq!(buzhash(b"", 0xffff_ffff), 0);
    }

    /// The four-chain `hash` equals the textbook definition for all lengths.
    #[test]
    fn hash_matches_definition() {
        let t = BuzhashTable::new(0x0bad_cafe);
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
        for n in 0..data.len() {
            let d = &data[..n];
            let mut want = 0u32;
            for (k, &b) in d.iter().enumerate() {
                want ^= t.get(b).rotate_left(((n - 1 - k) % 32) as u32);
            }
            assert_eq!(t.hash(d), want, "n={n}");
        }
    }

    #[test]
    fn update_rolls() {
        let data: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
            .collect();
        for w in [1usize, 31, 32, 33, 63, 64, 4095] {
            for seed in [0u32, 0xffff_ffff, 12345] {
                let mut h = buzhash(&data[..w], seed);
                for p in 0..50 {
                    h = buzhash_update(h, data[p], data[p + w], w, seed);
                    assert_eq!(h, buzhash(&data[p + 1..p + 1 + w], seed));
                }
            }
        }
    }
}
