//! Proof against real borg 1.4.5: every chunk length (and the all-zero
//! marking) of oxiborg's chunkers equals borg's, and so do `buzhash()` and
//! `buzhash_update()`. All cases run in one Python process.

use std::fmt::Write as _;
use std::io::Cursor;

use oxiborg_chunker::{
    buzhash, buzhash_update, reference, Allocation, BuzhashTable, Chunker, ChunkerParams,
    FileRange, FixedChunker,
};
use rand::{Rng, RngCore, SeedableRng};

const SCRIPT: &str = r#"
import io, json, sys
from borg.chunker import Chunker, ChunkerFixed, buzhash, buzhash_update
inp = sys.stdin.buffer
hdr_len = int(inp.readline())
cases = json.loads(inp.read(hdr_len))
blob = inp.read()
out = []
for i, c in enumerate(cases):
    data = blob[c['off']:c['off'] + c['len']]
    kind = c['kind']
    if kind == 'buzhash':
        seed = c['seed']
        if seed >= 1 << 31:
            seed -= 1 << 32   # borg's chunk_seed is a signed C int
        ch = Chunker(seed, *c['params'])
        if c.get('path'):
            f = open(c['path'], 'rb')
            it = ch.chunkify(f, f.fileno())
        else:
            it = ch.chunkify(io.BytesIO(data))
        res = ' '.join('%d,%d' % (x.meta['size'], x.meta['allocation']) for x in it)
    elif kind == 'fixed':
        ch = ChunkerFixed(c['block'], c['header'])
        fmap = c.get('fmap')
        if fmap is not None:
            fmap = [(s, l, bool(d)) for s, l, d in fmap]
        res = ' '.join('%d,%d' % (x.meta['size'], x.meta['allocation'])
                       for x in ch.chunkify(io.BytesIO(data), fmap=fmap))
    elif kind == 'hash':
        res = str(buzhash(data, c['seed']))
    elif kind == 'update':
        res = ' '.join(str(buzhash_update(s, r, a, l, c['seed'])) for s, r, a, l in c['ops'])
    else:
        raise ValueError(kind)
    out.append('%d:%s' % (i, res))
sys.stdout.write('\n'.join(out) + '\n')
"#;

/// What we expect borg to answer for one case.
#[derive(Debug, PartialEq)]
enum Answer {
    Chunks(Vec<(usize, u8)>),
    Value(String),
}

struct Batch {
    json: Vec<String>,
    blob: Vec<u8>,
    expected: Vec<(String, Answer)>,
}

fn alloc_code(a: Allocation) -> u8 {
    match a {
        Allocation::Data => 0,
        Allocation::Alloc => 1,
        Allocation::Hole => 2,
    }
}

impl Batch {
    fn new() -> Self {
        Batch {
            json: Vec::new(),
            blob: Vec::new(),
            expected: Vec::new(),
        }
    }

    fn add_blob(&mut self, data: &[u8]) -> (usize, usize) {
        let off = self.blob.len();
        self.blob.extend_from_slice(data);
        (off, data.len())
    }

    fn push(&mut self, json: String, label: String, answer: Answer) {
        self.json.push(json);
        self.expected.push((label, answer));
    }

    /// A buzhash chunking case; `path` makes borg read the file itself via its fd.
    fn buzhash(
        &mut self,
        label: &str,
        data: &[u8],
        blob: (usize, usize),
        seed: u32,
        p: ChunkerParams,
        path: &str,
    ) {
        let ChunkerParams::Buzhash {
            min_exp,
            max_exp,
            mask_bits,
            window_size,
        } = p
        else {
            panic!("not buzhash")
        };
        let chunker = Chunker::new(p, seed).expect("valid params");
        // The streaming reader (with small, odd read sizes) is what oxiborg uses;
        // check that it agrees with the slice splitter first.
        let mut chunks = chunker.chunks(OddReads { data, n: 0 });
        let mut got = Vec::new();
        while let Some(c) = chunks.next_chunk().expect("read") {
            got.push((c.size, alloc_code(c.allocation)));
        }
        let split: Vec<usize> = chunker.split(data).map(<[u8]>::len).collect();
        assert_eq!(
            got.iter().map(|c| c.0).collect::<Vec<_>>(),
            split,
            "{label}: stream vs split"
        );
        let json = format!(
            r#"{{"kind":"buzhash","off":{},"len":{},"seed":{seed},"params":[{min_exp},{max_exp},{mask_bits},{window_size}],"path":"{path}"}}"#,
            blob.0, blob.1
        );
        self.push(
            json,
            format!("{label} seed={seed:#x} params={p}"),
            Answer::Chunks(got),
        );
    }

    fn fixed(
        &mut self,
        label: &str,
        data: &[u8],
        block: u32,
        header: u32,
        map: Option<Vec<FileRange>>,
    ) {
        let blob = self.add_blob(data);
        let c = FixedChunker::new(block, header).expect("valid params");
        let got: Vec<(usize, u8)> = match &map {
            Some(m) => c
                .chunks_with_map(Cursor::new(data), m.clone())
                .map(|ch| ch.map(|ch| (ch.size, alloc_code(ch.allocation))))
                .collect::<std::io::Result<_>>()
                .expect("read"),
            None => {
                let chunker = Chunker::Fixed(c);
                let mut chunks = chunker.chunks(OddReads { data, n: 0 });
                let mut v = Vec::new();
                while let Some(ch) = chunks.next_chunk().expect("read") {
                    v.push((ch.size, alloc_code(ch.allocation)));
                }
                v
            }
        };
        let fmap = match &map {
            Some(m) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|r| format!("[{},{},{}]", r.start, r.len, u8::from(r.is_data)))
                    .collect();
                format!(r#","fmap":[{}]"#, items.join(","))
            }
            None => String::new(),
        };
        let json = format!(
            r#"{{"kind":"fixed","off":{},"len":{},"block":{block},"header":{header}{fmap}}}"#,
            blob.0, blob.1
        );
        self.push(
            json,
            format!("{label} fixed,{block},{header} len={}", data.len()),
            Answer::Chunks(got),
        );
    }

    fn hash(&mut self, data: &[u8], seed: u32) {
        let blob = self.add_blob(data);
        let json = format!(
            r#"{{"kind":"hash","off":{},"len":{},"seed":{seed}}}"#,
            blob.0, blob.1
        );
        self.push(
            json,
            format!("buzhash len={} seed={seed:#x}", data.len()),
            Answer::Value(buzhash(data, seed).to_string()),
        );
    }

    fn update(&mut self, ops: &[(u32, u8, u8, usize)], seed: u32) {
        let items: Vec<String> = ops
            .iter()
            .map(|(s, r, a, l)| format!("[{s},{r},{a},{l}]"))
            .collect();
        let json = format!(
            r#"{{"kind":"update","off":0,"len":0,"seed":{seed},"ops":[{}]}}"#,
            items.join(",")
        );
        let want: Vec<String> = ops
            .iter()
            .map(|&(s, r, a, l)| buzhash_update(s, r, a, l, seed).to_string())
            .collect();
        self.push(
            json,
            format!("buzhash_update seed={seed:#x}"),
            Answer::Value(want.join(" ")),
        );
    }

    fn run(self, oracle: &oxiborg_oracle::Oracle) {
        let header = format!("[{}]", self.json.join(","));
        let mut stdin = format!("{}\n{header}", header.len()).into_bytes();
        stdin.extend_from_slice(&self.blob);
        let out = oracle.run_python(SCRIPT, &stdin);
        let out = String::from_utf8(out).expect("utf-8 output");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), self.expected.len(), "one answer line per case");
        let mut failures = String::new();
        for (i, (line, (label, want))) in lines.iter().zip(&self.expected).enumerate() {
            let body = line.strip_prefix(&format!("{i}:")).expect("numbered line");
            let got = match want {
                Answer::Chunks(_) => Answer::Chunks(
                    body.split_whitespace()
                        .map(|t| {
                            let (s, a) = t.split_once(',').expect("size,alloc");
                            (s.parse().expect("size"), a.parse().expect("alloc"))
                        })
                        .collect(),
                ),
                Answer::Value(_) => Answer::Value(body.to_string()),
            };
            if &got != want {
                let _ = writeln!(
                    failures,
                    "case {i} ({label}):\n  borg:    {got:?}\n  oxiborg: {want:?}"
                );
            }
        }
        assert!(
            failures.is_empty(),
            "mismatches against borg 1.4.5:\n{failures}"
        );
    }
}

/// Hands out data in small, varying read sizes.
struct OddReads<'a> {
    data: &'a [u8],
    n: usize,
}

impl std::io::Read for OddReads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.n += 1;
        let want = [1, 4093, 65536, 7, 1 << 20, 333_333][self.n % 6];
        let k = want.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

fn bz(min_exp: u32, max_exp: u32, mask_bits: u32, window_size: u32) -> ChunkerParams {
    ChunkerParams::buzhash(min_exp, max_exp, mask_bits, window_size).expect("valid params")
}

fn random(rng: &mut rand::rngs::StdRng, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rng.fill_bytes(&mut v);
    v
}

/// Data of length `len` whose first window match at or after `MIN` is the
/// window starting at `len - W - shift`: with `shift = 0` that is the last
/// position borg may look at when the chunk ends at `len`. Zeros before it
/// (the seed must not match a zero window), random bytes from it on, with
/// the window's last two bytes chosen to make it match.
fn craft_last_window(
    p: ChunkerParams,
    seed: u32,
    len: usize,
    shift: usize,
    rng: &mut rand::rngs::StdRng,
) -> Vec<u8> {
    let ChunkerParams::Buzhash {
        min_exp,
        mask_bits,
        window_size,
        ..
    } = p
    else {
        panic!()
    };
    let (min, w, mask) = (
        1usize << min_exp,
        window_size as usize,
        (1u32 << mask_bits) - 1,
    );
    assert!(w >= 2);
    let t = BuzhashTable::new(seed);
    assert!(
        t.hash(&vec![0u8; w]) & mask != 0,
        "zero windows must not match for this seed"
    );
    let target = len - w - shift;
    assert!(target >= min);
    'attempt: for _ in 0..100_000 {
        let mut d = vec![0u8; len];
        rng.fill_bytes(&mut d[target..]);
        let (ix, iy) = (target + w - 2, target + w - 1);
        let base = t.hash(&d[target..target + w]) ^ t.get(d[ix]).rotate_left(1) ^ t.get(d[iy]);
        let Some(v) = (0..=0xffffu32).find(|&v| {
            let (x, y) = ((v >> 8) as u8, v as u8);
            (base ^ t.get(x).rotate_left(1) ^ t.get(y)) & mask == 0
        }) else {
            continue;
        };
        d[ix] = (v >> 8) as u8;
        d[iy] = v as u8;
        // Windows before `target` that overlap the random bytes must not match;
        // the ones before those are all zero.
        let from = min.max((target + 1).saturating_sub(w));
        let mut h = t.hash(&d[from..from + w]);
        for q in from..target {
            if h & mask == 0 {
                continue 'attempt;
            }
            h = t.update(h, d[q], d[q + w], w);
        }
        assert_eq!(h & mask, 0);
        return d;
    }
    panic!("could not craft a last-window match");
}

/// A seed whose all-zero window does not match (so zero data runs to MAX).
fn nonmatching_zero_seed(p: ChunkerParams) -> u32 {
    let ChunkerParams::Buzhash {
        mask_bits,
        window_size,
        ..
    } = p
    else {
        panic!()
    };
    let zeros = vec![0u8; window_size as usize];
    (0u32..)
        .find(|&s| buzhash(&zeros, s) & ((1 << mask_bits) - 1) != 0)
        .expect("some seed")
}

#[test]
fn chunkers_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x0b0b);
    let mut b = Batch::new();
    let random_seed: u32 = rng.gen();
    let seeds = [
        0u32,
        1,
        0xffff_ffff,
        (-137_214_441i32) as u32,
        0x8000_0000,
        random_seed,
    ];

    // Random data, many seeds and parameter sets.
    let big = random(&mut rng, 20 << 20);
    let big_blob = b.add_blob(&big);
    for &seed in &seeds {
        b.buzhash(
            "random 20MiB",
            &big,
            big_blob,
            seed,
            ChunkerParams::DEFAULT,
            "",
        );
    }
    let mid = &big[..6 << 20];
    let mid_blob = (big_blob.0, mid.len());
    let params = [
        ChunkerParams::ITEMS,
        bz(10, 16, 12, 4095),
        bz(6, 12, 8, 63),
        bz(8, 14, 10, 255),
        bz(7, 13, 9, 33),
        bz(12, 18, 14, 1),
        bz(11, 20, 16, 2047),
        bz(16, 17, 16, 1023),
        bz(6, 7, 6, 63),
    ];
    for &seed in &seeds {
        for &p in &params {
            b.buzhash("random 6MiB", mid, mid_blob, seed, p, "");
        }
    }

    // Long zero runs (all-zero chunks are CH_ALLOC) and low-entropy data.
    let mut zr = random(&mut rng, 12 << 20);
    zr[1 << 20..(1 << 20) + (9 << 20) + 12345].fill(0);
    let n = zr.len();
    zr[n - 700_000..].fill(0);
    for (i, x) in zr[(10 << 20) + 500_000..(10 << 20) + 900_000]
        .iter_mut()
        .enumerate()
    {
        *x = (i % 3) as u8;
    }
    let zr_blob = b.add_blob(&zr);
    for &seed in &seeds[..3] {
        for p in [
            ChunkerParams::DEFAULT,
            ChunkerParams::ITEMS,
            bz(10, 16, 12, 4095),
            bz(6, 12, 8, 63),
        ] {
            b.buzhash("zero runs", &zr, zr_blob, seed, p, "");
        }
    }

    // Lengths around MIN+W+1 and MAX, random and all-zero, for several params.
    for p in [
        bz(10, 16, 12, 4095),
        bz(6, 12, 8, 63),
        ChunkerParams::ITEMS,
        bz(7, 9, 8, 127),
    ] {
        let ChunkerParams::Buzhash {
            min_exp,
            max_exp,
            window_size,
            ..
        } = p
        else {
            unreachable!()
        };
        let (min, max, w) = (1usize << min_exp, 1usize << max_exp, window_size as usize);
        let zero_seed = nonmatching_zero_seed(p);
        for len in [
            0,
            1,
            min,
            min + w - 1,
            min + w,
            min + w + 1,
            min + w + 2,
            max - 1,
            max,
            max + 1,
            2 * max,
            3 * max + 5,
        ] {
            let d = random(&mut rng, len);
            let blob = b.add_blob(&d);
            b.buzhash("boundary random", &d, blob, 0x1234_5678, p, "");
            let z = vec![0u8; len];
            let blob = b.add_blob(&z);
            b.buzhash("boundary zeros", &z, blob, zero_seed, p, "");
        }
        // A match exactly at the last allowed window position is ignored
        // (chunk = MAX, or runs to EOF); one position earlier it cuts.
        for (len, shift) in [
            (max, 0),
            (max, 1),
            (max - 100, 0),
            (max - 100, 1),
            (min + w + 1, 0),
            (min + w + 1, 1),
        ] {
            if len < min + w + shift {
                continue;
            }
            let d = craft_last_window(p, zero_seed, len, shift, &mut rng);
            let mut with_tail = d.clone();
            with_tail.extend_from_slice(&random(&mut rng, 3 * w + 7));
            for data in [d, with_tail] {
                let blob = b.add_blob(&data);
                b.buzhash(
                    &format!("last window len={len} shift={shift}"),
                    &data,
                    blob,
                    zero_seed,
                    p,
                    "",
                );
            }
        }
    }

    // Real files, sent as bytes and read by borg itself through its fd.
    let candidates = [
        "/usr/bin/python3",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/bin/borg",
        "/bin/bash",
    ];
    let mut files = 0;
    for path in candidates {
        let Ok(real) = std::fs::canonicalize(path) else {
            continue;
        };
        let Ok(data) = std::fs::read(&real) else {
            continue;
        };
        let blob = b.add_blob(&data);
        let real = real.to_string_lossy().to_string();
        for p in [
            ChunkerParams::DEFAULT,
            ChunkerParams::ITEMS,
            bz(10, 16, 12, 4095),
        ] {
            b.buzhash(&format!("file {real}"), &data, blob, 0xdead_beef, p, "");
            b.buzhash(
                &format!("file {real} via fd"),
                &data,
                blob,
                0xdead_beef,
                p,
                &real,
            );
        }
        files += 1;
    }
    assert!(files > 0, "no real file found");

    // Fixed chunker: header/no header, boundaries, zero blocks, file maps.
    let mut fx = random(&mut rng, 300_000);
    fx[4096..3 * 4096].fill(0);
    fx[100_000..170_000].fill(0);
    for (block, header) in [
        (4096, 0),
        (4096, 512),
        (4096, 10_000),
        (64, 0),
        (65_536, 4096),
        (1000, 1000),
    ] {
        for len in [
            0,
            1,
            header as usize,
            header as usize + 1,
            block as usize,
            100_000,
            300_000,
        ] {
            b.fixed("data", &fx[..len], block, header, None);
        }
    }
    let z = vec![0u8; 50_000];
    b.fixed("zeros", &z, 4096, 100, None);
    let map = vec![
        FileRange::data(0, 512),
        FileRange::data(512, 20_000),
        FileRange::hole(20_512, 80_000),
        FileRange::data(100_512, 150_000),
        FileRange::hole(250_512, 49_488),
    ];
    b.fixed("fmap with holes", &fx, 4096, 512, Some(map));
    let gaps = vec![FileRange::data(0, 5000), FileRange::data(9000, 1 << 40)];
    b.fixed("fmap with a gap", &fx, 1024, 0, Some(gaps));

    // buzhash() and buzhash_update() values.
    for &seed in &seeds {
        for len in [0usize, 1, 2, 31, 32, 33, 63, 64, 4095, 10_000] {
            b.hash(&big[len..2 * len], seed);
        }
        let mut ops = Vec::new();
        for _ in 0..50 {
            ops.push((
                rng.gen::<u32>(),
                rng.gen::<u8>(),
                rng.gen::<u8>(),
                rng.gen_range(0..10_000usize),
            ));
        }
        ops.push((0, 0, 0, 0));
        ops.push((u32::MAX, 255, 255, 4095));
        b.update(&ops, seed);
    }

    // Our own reference agrees too, for a sample of the cases above.
    let want = reference::chunk_lengths(mid, 7, 10, 16, 12, 4095);
    assert_eq!(
        oxiborg_chunker::chunk_lengths(bz(10, 16, 12, 4095), 7, mid).expect("valid"),
        want
    );

    b.run(oracle);
}
