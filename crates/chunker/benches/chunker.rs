//! Throughput of the reference and fast buzhash chunkers on 64 MiB of random
//! data with borg's default parameters (19, 23, 21, 4095).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use oxiborg_chunker::{reference, BuzhashChunker, Chunker, ChunkerParams};
use rand::{RngCore, SeedableRng};

const SIZE: usize = 64 << 20;
const SEED: u32 = 0x1234_5678;

fn random_data() -> Vec<u8> {
    let mut data = vec![0u8; SIZE];
    rand::rngs::StdRng::seed_from_u64(42).fill_bytes(&mut data);
    data
}

fn bench(c: &mut Criterion) {
    let data = random_data();
    let fast = BuzhashChunker::new(19, 23, 21, 4095, SEED).expect("valid params");
    let chunker = Chunker::new(ChunkerParams::DEFAULT, SEED).expect("valid params");
    let mut group = c.benchmark_group("buzhash-default-64MiB");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.sample_size(10);
    group.bench_function("reference", |b| {
        b.iter(|| reference::chunk_lengths(black_box(&data), SEED, 19, 23, 21, 4095).len())
    });
    group.bench_function("fast", |b| {
        b.iter(|| fast.chunk_lengths(black_box(&data)).count())
    });
    // Streaming through `Read` (one copy into the chunker's buffer), with the
    // buffer reused across streams as a backup client does across files.
    let mut buf = Vec::new();
    group.bench_function("fast-streaming", |b| {
        b.iter(|| {
            let mut chunks =
                chunker.chunks_with_buffer(black_box(&data[..]), std::mem::take(&mut buf));
            let mut n = 0usize;
            while let Ok(Some(c)) = chunks.next_chunk() {
                n += c.size;
            }
            buf = chunks.into_parts().1;
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
