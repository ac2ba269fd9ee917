//! Segment store throughput: put+commit, get, get_many.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use oxiborg_repository::{CommitOptions, LocalRepository, NullReporter, OpenOptions, Repository};

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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
