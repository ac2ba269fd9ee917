//! Envelope encryption and id hashing throughput (1 MiB objects).

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use oxiborg_crypto::{blake2b_256, hmac_sha256, Key, KeyType};

const MIB: usize = 1 << 20;

fn benches(c: &mut Criterion) {
    let data = vec![0x5au8; MIB];
    let mut g = c.benchmark_group("crypto");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));

    for (name, kt) in [
        ("aes-ctr-hmac-sha256", KeyType::Repokey),
        ("aes-ctr-blake2b", KeyType::Blake2Repokey),
    ] {
        let key = Key::generate(kt, [0; 32]).expect("key");
        g.bench_function(format!("encrypt/{name}"), |b| {
            b.iter(|| key.encrypt(black_box(1234), black_box(&data)))
        });
        let env = key.encrypt(1234, &data);
        g.bench_function(format!("decrypt/{name}"), |b| {
            b.iter(|| key.decrypt(None, black_box(&env)).expect("decrypt"))
        });
        g.bench_function(format!("id_hash/{name}"), |b| {
            b.iter(|| key.id_hash(black_box(&data)))
        });
    }
    let k32 = [7u8; 32];
    let k128 = [7u8; 128];
    g.bench_function("hmac_sha256", |b| {
        b.iter(|| hmac_sha256(black_box(&k32), black_box(&data)))
    });
    g.bench_function("blake2b_256", |b| {
        b.iter(|| blake2b_256(black_box(&k128), black_box(&data)))
    });
    g.finish();
}

criterion_group!(crypto, benches);
criterion_main!(crypto);
