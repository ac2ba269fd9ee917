//! Property tests: the fast chunker equals the reference, and streaming
//! cut points do not depend on read sizes.

use std::io::{self, Read};

use proptest::prelude::*;

use crate::{reference, BuzhashChunker, Chunker, ChunkerParams};

/// Valid, small buzhash parameters: (min_exp, max_exp, mask_bits, window).
fn small_params() -> impl Strategy<Value = (u32, u32, u32, u32)> {
    (6u32..=12, 0u32..=5)
        .prop_flat_map(|(min, extra)| {
            let max = (min + extra).clamp(min + 1, 17);
            let room = (1u32 << max) - (1u32 << min) - 1; // window + MIN + 1 <= MAX
            let wmax = room.min(5000);
            (Just(min), Just(max), min..=max, 0..=(wmax - 1) / 2)
        })
        .prop_map(|(min, max, mask, half)| (min, max, mask, 2 * half + 1))
}

/// Data with a mix of random bytes, zero runs and repeated patterns.
fn data() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..40_000),
        1 => (0usize..30_000).prop_map(|n| vec![0u8; n]),
        1 => (any::<u8>(), 0usize..20_000).prop_map(|(b, n)| vec![b; n]),
        1 => (prop::collection::vec(any::<u8>(), 1..64), 0usize..200)
            .prop_map(|(p, n)| p.iter().copied().cycle().take(p.len() * n).collect()),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}

/// A reader that hands out its data in the given read sizes (cycled).
struct Pieces<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    i: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.sizes[self.i % self.sizes.len()];
        self.i += 1;
        let n = want.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn fast_equals_reference(params in small_params(), seed in any::<u32>(), data in data()) {
        let (min, max, mask, w) = params;
        let want = reference::chunk_lengths(&data, seed, min, max, mask, w as usize);
        let fast = BuzhashChunker::new(min, max, mask, w, seed).unwrap();
        let got: Vec<usize> = fast.chunk_lengths(&data).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn read_sizes_do_not_matter(
        params in small_params(),
        fixed in prop::option::weighted(0.25, (64u32..3000, 0u32..5000)),
        seed in any::<u32>(),
        data in data(),
        sizes in prop::collection::vec(1usize..70_000, 1..8),
    ) {
        let params = match fixed {
            Some((block_size, header_size)) => ChunkerParams::Fixed { block_size, header_size },
            None => ChunkerParams::Buzhash {
                min_exp: params.0, max_exp: params.1, mask_bits: params.2, window_size: params.3,
            },
        };
        let chunker = Chunker::new(params, seed).unwrap();
        let want: Vec<&[u8]> = chunker.split(&data).collect();
        let mut chunks = chunker.chunks(Pieces { data: &data, sizes, i: 0 });
        let mut got = Vec::new();
        while let Some(c) = chunks.next_chunk().unwrap() {
            prop_assert_eq!(c.all_zero(), c.data.iter().all(|&b| b == 0));
            got.push(c.data.to_vec());
        }
        prop_assert_eq!(got, want);
    }
}

#[test]
fn fast_equals_reference_default_params() {
    use rand::{RngCore, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut data = vec![0u8; 24 << 20];
    rng.fill_bytes(&mut data);
    // A long zero run and a low-entropy stretch.
    data[9 << 20..11 << 20].fill(0);
    for (i, b) in data[15 << 20..16 << 20].iter_mut().enumerate() {
        *b = (i % 7) as u8;
    }
    for (params, seed) in [
        (ChunkerParams::DEFAULT, 0u32),
        (ChunkerParams::ITEMS, 0xdead_beef),
    ] {
        let ChunkerParams::Buzhash {
            min_exp,
            max_exp,
            mask_bits,
            window_size,
        } = params
        else {
            unreachable!()
        };
        let want = reference::chunk_lengths(
            &data,
            seed,
            min_exp,
            max_exp,
            mask_bits,
            window_size as usize,
        );
        let got = crate::chunk_lengths(params, seed, &data).unwrap();
        assert_eq!(got, want);
    }
}
