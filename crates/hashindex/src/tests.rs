use std::collections::HashMap;

use proptest::prelude::*;

use crate::*;

fn key(n: u32) -> Key {
    // Spread keys like hashes but deterministically.
    let mut k = [0u8; 32];
    let h = n.wrapping_mul(0x9e37_79b9) ^ (n >> 7);
    k[..4].copy_from_slice(&h.to_le_bytes());
    k[4..8].copy_from_slice(&n.to_le_bytes());
    k[31] = 0xaa;
    k
}

fn val(a: u32, b: u32) -> [u8; 8] {
    let mut v = [0u8; 8];
    v[..4].copy_from_slice(&a.to_le_bytes());
    v[4..].copy_from_slice(&b.to_le_bytes());
    v
}

fn bytes_of<const V: usize>(idx: &HashIndex<V>) -> Vec<u8> {
    let mut out = Vec::new();
    idx.write_to(&mut out).unwrap();
    out
}

#[test]
fn fresh_index_layout() {
    let idx = HashIndex::<8>::new();
    assert_eq!(idx.num_buckets(), 1031);
    assert_eq!(idx.len(), 0);
    assert!(idx.is_empty());
    let b = bytes_of(&idx);
    assert_eq!(b.len(), 18 + 1031 * 40);
    assert_eq!(idx.serialized_len(), b.len());
    assert_eq!(&b[..18], b"BORG_IDX\0\0\0\0\x07\x04\0\0\x20\x08");
    let mut empty = [0u8; 40];
    empty[32..36].copy_from_slice(&[0xff; 4]);
    assert_eq!(&b[18..58], &empty[..]);
    assert_eq!(idx.min_empty_limit(), 73);
    idx.check_invariants();
}

#[test]
fn sizes() {
    assert_eq!(fit_size(0), 1031);
    assert_eq!(fit_size(1031), 1031);
    assert_eq!(fit_size(1032), 2053);
    assert_eq!(fit_size(usize::MAX), 2062383853);
    assert_eq!(grow_size(1031), 2053);
    assert_eq!(grow_size(2062383853), 2062383853);
    assert_eq!(shrink_size(1031), 1031);
    assert_eq!(shrink_size(2053), 1031);
    assert_eq!(HashIndex::<12>::with_usable(1000).num_buckets(), 2053);
    assert_eq!(HashIndex::<12>::with_capacity(5000).num_buckets(), 8209);
}

#[test]
fn insert_get_remove_with_collisions() {
    let mut idx = HashIndex::<8>::new();
    // All these start in bucket 5.
    let keys: Vec<Key> = (0..10u8)
        .map(|i| {
            let mut k = [i; 32];
            k[..4].copy_from_slice(&(5u32 + 1031 * u32::from(i)).to_le_bytes());
            k
        })
        .collect();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(idx.insert(k, val(i as u32, 1)).unwrap(), None);
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(idx.get(k), Some(val(i as u32, 1)));
    }
    assert_eq!(idx.insert(&keys[3], val(33, 3)).unwrap(), Some(val(3, 1)));
    assert_eq!(idx.remove(&keys[2]), Some(val(2, 1)));
    assert_eq!(idx.remove(&keys[2]), None);
    assert_eq!(idx.tombstones(), 1);
    assert_eq!(idx.get(&keys[3]), Some(val(33, 3)));
    // A non-mutating get does not move the entry ...
    let before = bytes_of(&idx);
    assert_eq!(idx.get(&keys[9]), Some(val(9, 1)));
    assert_eq!(bytes_of(&idx), before);
    // ... borg's lookup moves it into the tombstone at bucket 7.
    assert_eq!(idx.lookup(&keys[9]), Some(val(9, 1)));
    let after = bytes_of(&idx);
    assert_eq!(&after[18 + 7 * 40..18 + 7 * 40 + 32], &keys[9][..]);
    assert_eq!(
        &after[18 + 14 * 40 + 32..18 + 14 * 40 + 36],
        &[0xfe, 0xff, 0xff, 0xff]
    );
    // The stale key bytes stay in the tombstone.
    assert_eq!(&after[18 + 14 * 40..18 + 14 * 40 + 32], &keys[9][..]);
    assert_eq!(idx.len(), 9);
    idx.check_invariants();
    assert!(matches!(
        idx.insert(&keys[0], val(MAX_VALUE + 1, 0)),
        Err(HashIndexError::ValueTooLarge(_))
    ));
    idx.insert(&keys[0], val(MAX_VALUE, 0)).unwrap();
}

#[test]
fn grows_after_upper_limit_and_shrinks_below_lower_limit() {
    let mut idx = HashIndex::<8>::new();
    for i in 0..774 {
        idx.insert(&key(i), val(i, 0)).unwrap();
    }
    assert_eq!(idx.num_buckets(), 1031);
    idx.insert(&key(774), val(774, 0)).unwrap();
    assert_eq!(idx.num_buckets(), 2053);
    assert_eq!(idx.tombstones(), 0);
    idx.check_invariants();
    // lower limit of 2053 is 513.
    for i in 0..(775 - 513) {
        idx.remove(&key(i));
    }
    assert_eq!(idx.len(), 513);
    assert_eq!(idx.num_buckets(), 2053);
    idx.remove(&key(775 - 513));
    assert_eq!(idx.num_buckets(), 1031);
    assert_eq!(idx.tombstones(), 0);
    idx.check_invariants();
    for i in (775 - 512)..775 {
        assert_eq!(idx.get(&key(i)), Some(val(i, 0)));
    }
}

#[test]
fn same_size_rebuild_when_tombstones_eat_the_empty_buckets() {
    let mut idx = HashIndex::<8>::new();
    let mut saw_rebuild = false;
    for i in 0..5000 {
        idx.insert(&key(i), val(i, 0)).unwrap();
        if idx.tombstones() == 0 && i > 1000 {
            saw_rebuild = true;
        }
        if i >= 100 {
            idx.remove(&key(i - 100));
        }
        idx.check_invariants();
        assert_eq!(idx.num_buckets(), 1031);
    }
    assert!(saw_rebuild);
}

#[test]
fn read_validation_errors() {
    let mut idx = HashIndex::<8>::new();
    idx.insert(&key(1), val(1, 2)).unwrap();
    let good = bytes_of(&idx);
    assert!(HashIndex::<8>::read_from(&good).is_ok());
    let e = |d: &[u8]| HashIndex::<8>::read_from(d).unwrap_err();
    assert_eq!(
        e(&good[..17]),
        HashIndexError::HeaderTooShort { actual: 17 }
    );
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(e(&bad), HashIndexError::BadMagic);
    assert_eq!(
        HashIndex::<12>::read_from(&good).unwrap_err(),
        HashIndexError::WrongValueSize {
            expected: 12,
            actual: 8
        }
    );
    let mut bad = good.clone();
    bad[16] = 16;
    assert_eq!(
        e(&bad),
        HashIndexError::WrongKeySize {
            expected: 32,
            actual: 16
        }
    );
    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&0i32.to_le_bytes());
    assert_eq!(e(&bad), HashIndexError::BadNumBuckets { num_buckets: 0 });
    let mut bad = good.clone();
    bad[8..12].copy_from_slice(&1032i32.to_le_bytes());
    assert_eq!(
        e(&bad),
        HashIndexError::BadNumEntries {
            num_entries: 1032,
            num_buckets: 1031
        }
    );
    let mut bad = good.clone();
    bad[8..12].copy_from_slice(&(-1i32).to_le_bytes());
    assert!(matches!(e(&bad), HashIndexError::BadNumEntries { .. }));
    assert_eq!(
        e(&good[..good.len() - 1]),
        HashIndexError::BadLength {
            expected: good.len() as u64,
            actual: good.len() as u64 - 1
        }
    );
    assert_eq!(
        e(&good[..good.len() - 1]).to_string(),
        format!(
            "Incorrect file length (expected {}, got {})",
            good.len(),
            good.len() - 1
        )
    );
    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&i32::MAX.to_le_bytes());
    assert!(matches!(e(&bad), HashIndexError::BadLength { .. }));
}

#[test]
fn read_rebuilds_when_too_few_empty_buckets() {
    // Build a file where every bucket but 10 is a tombstone, with one entry.
    let mut idx = HashIndex::<8>::new();
    idx.insert(&key(7), val(7, 7)).unwrap();
    let mut data = bytes_of(&idx);
    let mut tomb = 0;
    for b in 0..1031 {
        let o = 18 + b * 40 + 32;
        if data[o..o + 4] == [0xff; 4] && tomb < 1020 {
            data[o..o + 4].copy_from_slice(&[0xfe, 0xff, 0xff, 0xff]);
            tomb += 1;
        }
    }
    let r = HashIndex::<8>::read_from(&data).unwrap();
    assert_eq!(r.tombstones(), 0);
    assert_eq!(r.get(&key(7)), Some(val(7, 7)));
    r.check_invariants();
    // read_compact keeps the bytes as they are.
    let c = HashIndex::<8>::read_compact(&data).unwrap();
    assert_eq!(bytes_of(&c), data);
    // A lying num_entries is caught by the rebuild.
    data[8..12].copy_from_slice(&5i32.to_le_bytes());
    assert_eq!(
        HashIndex::<8>::read_from(&data).unwrap_err(),
        HashIndexError::RebuildFailed
    );
}

#[test]
fn compact_and_read_compact() {
    let mut idx = HashIndex::<12>::new();
    for i in 0..50u32 {
        let mut v = [0u8; 12];
        v[..4].copy_from_slice(&i.to_le_bytes());
        idx.insert(&key(i), v).unwrap();
    }
    idx.remove(&key(3));
    let order: Vec<Key> = idx.iter().map(|(k, _)| *k).collect();
    let saved = idx.compact();
    assert_eq!(saved, (1031 - 49) * 44);
    assert_eq!(idx.num_buckets(), 49);
    assert_eq!(idx.compact(), 0);
    let data = bytes_of(&idx);
    assert_eq!(data.len(), 18 + 49 * 44);
    assert!(HashIndex::<12>::read_from(&data).is_ok()); // rebuilds (no empties)
    let c = HashIndex::<12>::read_compact(&data).unwrap();
    let got: Vec<Key> = c.iter().map(|(k, _)| *k).collect();
    assert_eq!(got, order);
    // Inserting into a compact table grows it (as in borg).
    let mut c = c;
    c.insert(&key(1000), [0; 12]).unwrap();
    assert_eq!(c.len(), 50);
    let mut e = HashIndex::<12>::new();
    e.compact();
    assert_eq!(e.num_buckets(), 1);
    assert_eq!(
        HashIndex::<12>::read_compact(&bytes_of(&e)).unwrap().len(),
        0
    );
}

#[test]
fn iter_after_marker() {
    let mut idx = NsIndex::new();
    for i in 0..100 {
        idx.insert(&key(i), (i, i * 2)).unwrap();
    }
    let all: Vec<(Key, (u32, u32))> = idx.iter().map(|(k, v)| (*k, v)).collect();
    let rest: Vec<(Key, (u32, u32))> = idx
        .iter_after(&all[41].0)
        .unwrap()
        .map(|(k, v)| (*k, v))
        .collect();
    assert_eq!(rest, all[42..].to_vec());
    assert!(idx.iter_after(&key(5000)).is_err());
    assert_eq!(idx.iter_after(&all[99].0).unwrap().count(), 0);
}

#[test]
fn chunk_index_semantics() {
    let mut c = ChunkIndex::new();
    let k = key(1);
    c.add(&k, 2, 100, 50).unwrap();
    c.add(&k, 3, 101, 51).unwrap();
    assert_eq!(c.get(&k), Some((5, 101, 51)));
    assert_eq!(c.incref(&k).unwrap(), Some(6));
    assert_eq!(c.decref(&k).unwrap(), Some(5));
    assert_eq!(c.incref(&key(2)).unwrap(), None);
    c.insert(&k, (MAX_VALUE - 1, 1, 1)).unwrap();
    assert_eq!(c.incref(&k).unwrap(), Some(MAX_VALUE));
    assert_eq!(c.incref(&k).unwrap(), Some(MAX_VALUE));
    assert_eq!(c.decref(&k).unwrap(), Some(MAX_VALUE));
    c.add(&k, 5, 1, 1).unwrap();
    assert_eq!(c.get(&k), Some((MAX_VALUE, 1, 1)));
    c.insert(&k, (0, 1, 1)).unwrap();
    assert_eq!(c.decref(&k), Err(HashIndexError::InvalidRefcount(0)));
    assert!(c.add(&k, MAX_VALUE + 1, 0, 0).is_err());
    c.insert(&key(3), (2, 10, 0)).unwrap();
    assert_eq!(c.summarize(), (20, 0, 11, 1, 2, 2));
    assert_eq!(c.zero_csize_ids(), vec![key(3)]);
    let mut other = ChunkIndex::new();
    other.add(&key(3), 1, 10, 5).unwrap();
    other.add(&key(4), 1, 7, 3).unwrap();
    c.merge(&other).unwrap();
    assert_eq!(c.get(&key(3)), Some((3, 10, 5)));
    assert_eq!(c.get(&key(4)), Some((1, 7, 3)));
    assert_eq!(other.stats_against(&c).unwrap(), (17, 8, 7, 3, 1, 2));
    let mut extra = ChunkIndex::new();
    extra.add(&key(99), 1, 1, 1).unwrap();
    assert_eq!(extra.stats_against(&c), Err(HashIndexError::NotASubset));
}

#[test]
fn integrity_round_trip_of_index() {
    let mut idx = NsIndex::new();
    for i in 0..10 {
        idx.insert(&key(i), (i, 0)).unwrap();
    }
    let (data, digests) = idx.write_with_integrity("index.7");
    assert_eq!(data, bytes_of(&idx.0));
    let names: Vec<&str> = digests.0.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["HashHeader", "final"]);
    let mut w = IntegrityWriter::new(Vec::new(), "/repo/index.7");
    idx.write_to_integrity(&mut w).unwrap();
    let (data2, digests2) = w.finish().unwrap();
    assert_eq!(data2, data);
    assert_eq!(digests2, digests);
    verify(&data, "index.7", &digests, &[("HashHeader", 18)]).unwrap();
    let r = NsIndex::read_from_verified(&data, "index.7", &digests).unwrap();
    assert_eq!(r.len(), 10);
    assert!(matches!(
        NsIndex::read_from_verified(&data, "index.8", &digests),
        Err(HashIndexError::IntegrityMismatch { part, .. }) if part == "HashHeader"
    ));
    let mut bad = data.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert!(matches!(
        NsIndex::read_from_verified(&bad, "index.7", &digests),
        Err(HashIndexError::IntegrityMismatch { part, .. }) if part == "final"
    ));
    let mut bad = data.clone();
    bad[9] ^= 1;
    assert!(matches!(
        NsIndex::read_from_verified(&bad, "index.7", &digests),
        Err(HashIndexError::IntegrityMismatch { part, .. }) if part == "HashHeader"
    ));
    let parsed = Digests::from_json(&digests.to_json()).unwrap();
    assert_eq!(parsed, digests);
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u16, u32),
    Remove(u16),
    Lookup(u16),
}

fn op_strategy(key_space: u16) -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..key_space, 0..=MAX_VALUE).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => (0..key_space).prop_map(Op::Remove),
        1 => (0..key_space).prop_map(Op::Lookup),
    ]
}

fn pkey(k: u16) -> Key {
    key(u32::from(k))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn model_check(ops in proptest::collection::vec(op_strategy(1500), 1..4000)) {
        let mut idx = HashIndex::<8>::new();
        let mut model: HashMap<u16, [u8; 8]> = HashMap::new();
        for op in &ops {
            match *op {
                Op::Insert(k, v) => {
                    let value = val(v, u32::from(k));
                    prop_assert_eq!(idx.insert(&pkey(k), value).unwrap(), model.insert(k, value));
                }
                Op::Remove(k) => prop_assert_eq!(idx.remove(&pkey(k)), model.remove(&k)),
                Op::Lookup(k) => {
                    prop_assert_eq!(idx.get(&pkey(k)), model.get(&k).copied());
                    prop_assert_eq!(idx.lookup(&pkey(k)), model.get(&k).copied());
                }
            }
            prop_assert_eq!(idx.len(), model.len());
        }
        idx.check_invariants();
        for (k, v) in &model {
            prop_assert_eq!(idx.get(&pkey(*k)), Some(*v));
        }
        // Round trip: bytes identical, contents identical.
        let data = bytes_of(&idx);
        let back = HashIndex::<8>::read_from(&data).unwrap();
        prop_assert_eq!(bytes_of(&back), data);
        back.check_invariants();
        let mut got: Vec<(Key, [u8; 8])> = back.iter().map(|(k, v)| (*k, v)).collect();
        let mut want: Vec<(Key, [u8; 8])> = model.iter().map(|(k, v)| (pkey(*k), *v)).collect();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = HashIndex::<8>::read_from(&data);
        let _ = HashIndex::<12>::read_compact(&data);
        let _ = Digests::from_json(&String::from_utf8_lossy(&data));
    }

    #[test]
    fn mutated_files_never_panic(
        n in 0u32..900,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..40),
        cut in proptest::option::of(any::<usize>()),
        ops in proptest::collection::vec(op_strategy(1200), 0..300),
    ) {
        let mut idx = HashIndex::<8>::new();
        for i in 0..n {
            idx.insert(&key(i), val(i, i)).unwrap();
        }
        let mut data = bytes_of(&idx);
        for (pos, x) in flips {
            let p = pos % data.len();
            data[p] ^= x;
        }
        if let Some(c) = cut {
            data.truncate(c % (data.len() + 1));
        }
        for compact in [false, true] {
            let r = if compact { HashIndex::<8>::read_compact(&data) } else { HashIndex::<8>::read_from(&data) };
            if let Ok(mut r) = r {
                let _ = r.iter().count();
                for op in &ops {
                    match *op {
                        Op::Insert(k, v) => { let _ = r.insert(&pkey(k), val(v, 0)); }
                        Op::Remove(k) => { let _ = r.remove(&pkey(k)); }
                        Op::Lookup(k) => { let _ = r.get(&pkey(k)); let _ = r.lookup(&pkey(k)); }
                    }
                }
                let mut out = Vec::new();
                r.write_to(&mut out).unwrap();
                let _ = r.compact();
            }
        }
    }

    #[test]
    fn chunk_merge_matches_model(
        a in proptest::collection::vec((0u16..300, 0..=MAX_VALUE, any::<u32>(), any::<u32>()), 0..400),
        b in proptest::collection::vec((0u16..300, 0..=MAX_VALUE, any::<u32>(), any::<u32>()), 0..400),
    ) {
        let build = |entries: &[(u16, u32, u32, u32)]| {
            let mut idx = ChunkIndex::new();
            let mut model: HashMap<u16, (u32, u32, u32)> = HashMap::new();
            for &(k, r, s, c) in entries {
                idx.add(&pkey(k), r, s, c).unwrap();
                let e = model.entry(k).or_insert((0, s, c));
                e.0 = (u64::from(e.0) + u64::from(r)).min(u64::from(MAX_VALUE)) as u32;
                e.1 = s;
                e.2 = c;
            }
            (idx, model)
        };
        let (mut ia, mut ma) = build(&a);
        let (ib, mb) = build(&b);
        ia.merge(&ib).unwrap();
        for (k, (r, s, c)) in mb {
            let e = ma.entry(k).or_insert((0, s, c));
            e.0 = (u64::from(e.0) + u64::from(r)).min(u64::from(MAX_VALUE)) as u32;
            e.1 = s;
            e.2 = c;
        }
        prop_assert_eq!(ia.len(), ma.len());
        for (k, v) in &ma {
            prop_assert_eq!(ia.get(&pkey(*k)), Some(*v));
        }
        let (mut size, mut csize, mut us, mut uc, mut chunks) = (0u64, 0u64, 0u64, 0u64, 0u64);
        for (r, s, c) in ma.values() {
            size = size.wrapping_add(u64::from(*s) * u64::from(*r));
            csize = csize.wrapping_add(u64::from(*c) * u64::from(*r));
            us = us.wrapping_add(u64::from(*s));
            uc = uc.wrapping_add(u64::from(*c));
            chunks = chunks.wrapping_add(u64::from(*r));
        }
        prop_assert_eq!(ia.summarize(), (size, csize, us, uc, ma.len() as u64, chunks));
    }
}
