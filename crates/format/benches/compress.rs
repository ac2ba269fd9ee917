//! Compression and item-encoding throughput on ~4 MiB of semi-compressible
//! data (text mixed with random blocks). Kept short: 10 samples each.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxiborg_format::compress::{compress, decompress, CompressionSpec};
use oxiborg_format::item::{ChunkListEntry, Item};

fn semi_compressible(n: usize) -> Vec<u8> {
    let words: [&[u8]; 8] = [
        b"borg ",
        b"backup ",
        b"chunk ",
        b"the ",
        b"archive ",
        b"of ",
        b"data ",
        b"\n",
    ];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::with_capacity(n + 4096);
    while out.len() < n {
        if next().is_multiple_of(3) {
            for _ in 0..512 {
                out.extend_from_slice(&next().to_le_bytes());
            }
        } else {
            let start = out.len();
            while out.len() - start < 4096 {
                out.extend_from_slice(words[(next() % 8) as usize]);
            }
        }
    }
    out.truncate(n);
    out
}

fn compression(c: &mut Criterion) {
    let data = semi_compressible(4 << 20);
    let mut g = c.benchmark_group("compression");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500))
        .throughput(Throughput::Bytes(data.len() as u64));
    for spec in ["lz4", "zstd,3", "zlib,6", "lzma,6"] {
        let s = CompressionSpec::parse(spec).expect("valid spec");
        g.bench_with_input(BenchmarkId::new("compress", spec), &data, |b, d| {
            b.iter(|| compress(&s, d))
        });
        let packed = compress(&s, &data);
        g.bench_with_input(BenchmarkId::new("decompress", spec), &packed, |b, p| {
            b.iter(|| decompress(p).expect("decompresses"))
        });
    }
    g.finish();
}

fn items(c: &mut Criterion) {
    let items: Vec<Item> = (0..10_000u32)
        .map(|i| {
            let mut it = Item::new(
                format!("home/user/dir{}/file{i}.txt", i % 97),
                1_700_000_000_000_000_000 + i128::from(i),
            );
            it.mode = Some(0o100644);
            it.uid = Some(1000);
            it.gid = Some(1000);
            it.user = Some(Some(b"user".to_vec()));
            it.group = Some(Some(b"user".to_vec()));
            it.ctime = Some(1_700_000_000_000_000_000);
            let chunks: Vec<ChunkListEntry> = (0..(i % 4))
                .map(|k| ChunkListEntry {
                    id: [k as u8; 32],
                    size: 1 << 20,
                    csize: 500_000,
                })
                .collect();
            it.size = Some(chunks.iter().map(|c| c.size).sum());
            it.chunks = Some(chunks);
            it.hardlink_master = Some(false);
            it
        })
        .collect();
    let mut out = Vec::new();
    for it in &items {
        it.encode_into(&mut out);
    }
    let mut g = c.benchmark_group("items");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("encode_10k", |b| {
        b.iter(|| {
            let mut buf = Vec::with_capacity(out.len());
            for it in &items {
                it.encode_into(&mut buf);
            }
            buf
        })
    });
    g.bench_function("decode_10k", |b| {
        b.iter(|| oxiborg_format::decode_items(&out).expect("decodes"))
    });
    g.finish();
}

criterion_group!(benches, compression, items);
criterion_main!(benches);
