//! Segment store throughput: put+commit, get, get_many.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use oxiborg_repository::{CommitOptions, LocalRepository, NullReporter, OpenOptions, Repository};

/// The allocator the oxiborg binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const OBJECTS: u32 = 2000;
const SIZE: usize = 64 * 1024;

fn id(n: u32) -> [u8; 32] {
    let mut i = [0u8; 32];
    i[..4].copy_from_slice(&n.to_le_bytes());
    i[4..8].copy_from_slice(&n.wrapping_mul(2654435761).to_le_bytes());
    i
}

fn opts() -> OpenOptions {
    OpenOptions::exclusive(oxiborg_lock::ProcessId::current(oxiborg_lock::host_id()))
}

fn bench(c: &mut Criterion) {
    let data = vec![0x5au8; SIZE];
    let mut g = c.benchmark_group("repository");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(u64::from(OBJECTS) * SIZE as u64));
    g.bench_function("put_commit_128MiB", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            let mut r =
                LocalRepository::create(&dir.path().join("r"), &opts(), Arc::new(NullReporter))
                    .unwrap();
            for n in 0..OBJECTS {
                r.put(&id(n), &data).unwrap();
            }
            r.commit(CommitOptions::default()).unwrap();
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r");
    let mut r = LocalRepository::create(&path, &opts(), Arc::new(NullReporter)).unwrap();
    for n in 0..OBJECTS {
        r.put(&id(n), &data).unwrap();
    }
    r.commit(CommitOptions::default()).unwrap();
    let ids: Vec<_> = (0..OBJECTS).map(id).collect();
    g.bench_function("get_128MiB", |b| {
        b.iter(|| {
            for i in &ids {
                r.get(i).unwrap();
            }
        })
    });
    g.bench_function("get_many_128MiB", |b| {
        b.iter(|| {
            for batch in ids.chunks(64) {
                r.get_many(batch).unwrap();
            }
        })
    });
    // Cold reads: drop the page cache before each pass (needs root; skipped
    // otherwise). This is where get_many's readahead hints matter.
    if std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok() {
        let drop_caches = || {
            let _ = std::process::Command::new("sync").status();
            let _ = std::fs::write("/proc/sys/vm/drop_caches", "3");
        };
        g.bench_function("get_cold_128MiB", |b| {
            b.iter_batched(
                drop_caches,
                |()| {
                    for i in &ids {
                        r.get(i).unwrap();
                    }
                },
                criterion::BatchSize::PerIteration,
            )
        });
        // The same objects in a scattered order: the kernel cannot guess.
        let mut shuffled = ids.clone();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        g.bench_function("get_cold_scattered_128MiB", |b| {
            b.iter_batched(
                drop_caches,
                |()| {
                    for i in &shuffled {
                        r.get(i).unwrap();
                    }
                },
                criterion::BatchSize::PerIteration,
            )
        });
        g.bench_function("get_many_cold_scattered_128MiB", |b| {
            b.iter_batched(
                drop_caches,
                |()| {
                    for batch in shuffled.chunks(64) {
                        r.get_many(batch).unwrap();
                    }
                },
                criterion::BatchSize::PerIteration,
            )
        });
        g.bench_function("get_many_cold_128MiB", |b| {
            b.iter_batched(
                drop_caches,
                |()| {
                    for batch in ids.chunks(64) {
                        r.get_many(batch).unwrap();
                    }
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
