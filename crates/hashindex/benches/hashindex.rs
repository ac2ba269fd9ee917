//! HashIndex throughput: 1M inserts, 1M lookups, write + read of a 1M-entry index.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use oxiborg_hashindex::{Key, NsIndex};
use rand::{rngs::StdRng, RngCore, SeedableRng};

const N: usize = 1_000_000;

fn keys() -> Vec<Key> {
    let mut rng = StdRng::seed_from_u64(42);
    (0..N)
        .map(|_| {
            let mut k = [0u8; 32];
            rng.fill_bytes(&mut k);
            k
        })
        .collect()
}

fn filled(keys: &[Key]) -> NsIndex {
    let mut idx = NsIndex::new();
    for (i, k) in keys.iter().enumerate() {
        idx.insert(k, (i as u32, 0)).expect("insert");
    }
    idx
}

fn bench(c: &mut Criterion) {
    let keys = keys();
    let mut g = c.benchmark_group("hashindex");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(N as u64));

    g.bench_function("insert_1M", |b| b.iter(|| black_box(filled(&keys)).len()));

    let idx = filled(&keys);
    g.bench_function("lookup_1M", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for k in &keys {
                sum += u64::from(idx.get(k).map_or(0, |v| v.0));
            }
            black_box(sum)
        })
    });

    g.bench_function("write_read_1M", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(idx.serialized_len());
            idx.write_to(&mut out).expect("write");
            black_box(NsIndex::read_from(&out).expect("read")).len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
