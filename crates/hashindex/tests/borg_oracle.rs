//! Proof against real borg 1.4.5 (`borg.hashindex`, `borg.crypto.file_integrity`).
//!
//! One Python run gets every case at once (as JSON on stdin) and answers with
//! borg's bytes, contents, statistics, digests and error messages; this side
//! replays the same operations with oxiborg and compares.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;

use oxiborg_hashindex::{ChunkIndex, Digests, HashIndex, HashIndexError, Key, NsIndex, MAX_VALUE};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{json, Value};

const SCRIPT: &str = r#"
import sys, json, io
from borg.hashindex import NSIndex, ChunkIndex
from borg.crypto.file_integrity import IntegrityCheckedFile, FileIntegrityError
from borg.logger import setup_logging
setup_logging(stream=io.StringIO(), level='critical')

inp = json.load(sys.stdin)
out = {}

def dump(idx):
    b = io.BytesIO()
    idx.write(b)
    return b.getvalue().hex()

def ns_items(idx):
    return [[k.hex(), v[0], v[1]] for k, v in idx.iteritems()]

def chunk_items(idx):
    return [[k.hex(), v[0], v[1], v[2]] for k, v in idx.iteritems()]

def run_ns(ops):
    idx = NSIndex()
    for op in ops:
        p = op.split()
        c = p[0]
        k = bytes.fromhex(p[1]) if len(p) > 1 else None
        if c == 'i':
            idx[k] = (int(p[2]), int(p[3]))
        elif c == 'd':
            try:
                del idx[k]
            except KeyError:
                pass
        elif c == 'g':
            idx.get(k)
        elif c == 'c':
            k in idx
        elif c == 'compact':
            idx.compact()
        else:
            raise ValueError(op)
    return idx

def run_chunk(ops):
    idx = ChunkIndex()
    for op in ops:
        p = op.split()
        c = p[0]
        k = bytes.fromhex(p[1])
        if c == 'a':
            idx.add(k, int(p[2]), int(p[3]), int(p[4]))
        elif c == 's':
            idx[k] = (int(p[2]), int(p[3]), int(p[4]))
        elif c == '+':
            idx.incref(k)
        elif c == '-':
            idx.decref(k)
        elif c == 'd':
            try:
                del idx[k]
            except KeyError:
                pass
        elif c == 'g':
            idx.get(k)
        else:
            raise ValueError(op)
    return idx

out['ns'] = {}
for name, ops in inp['ns'].items():
    idx = run_ns(ops)
    out['ns'][name] = {'bytes': dump(idx), 'items': ns_items(idx), 'len': len(idx)}

out['chunk'] = {}
for name, ops in inp['chunk'].items():
    idx = run_chunk(ops)
    out['chunk'][name] = {'bytes': dump(idx), 'items': chunk_items(idx), 'len': len(idx),
                          'summary': list(idx.summarize())}

m = inp['merge']
a = run_chunk(m['a'])
b = run_chunk(m['b'])
a.merge(b)
out['merge'] = {'bytes': dump(a), 'summary': list(a.summarize()), 'items': chunk_items(a),
                'stats_against': list(b.stats_against(a))}

def read_file(kind, h, permit_compact):
    cls = NSIndex if kind == 'ns' else ChunkIndex
    try:
        idx = cls.read(io.BytesIO(bytes.fromhex(h)), permit_compact=permit_compact)
    except Exception as e:
        return {'error': '%s: %s' % (type(e).__name__, e)}
    items = ns_items(idx) if kind == 'ns' else chunk_items(idx)
    return {'items': items, 'len': len(idx), 'bytes': dump(idx)}

out['read'] = {name: read_file(r['kind'], r['hex'], r['compact']) for name, r in inp['read'].items()}

out['integrity'] = {}
for name, case in inp['integrity'].items():
    data = bytes.fromhex(case['hex'])
    fd = IntegrityCheckedFile(path=case['path'], write=True, override_fd=io.BytesIO())
    with fd:
        pos = 0
        for part, at in case['parts']:
            fd.write(data[pos:at])
            pos = at
            fd.hash_part(part)
        fd.write(data[pos:])
    out['integrity'][name] = fd.integrity_data

out['index_integrity'] = {}
for name, case in inp['index_integrity'].items():
    idx = run_ns(case['ops'])
    fd = IntegrityCheckedFile(path=case['path'], write=True, override_fd=io.BytesIO())
    with fd:
        idx.write(fd)
        data = fd.fd.fd.getvalue()
    out['index_integrity'][name] = {'bytes': data.hex(), 'json': fd.integrity_data}

out['verify'] = {}
for name, case in inp['verify'].items():
    try:
        with IntegrityCheckedFile(path=case['path'], write=False,
                                  override_fd=io.BytesIO(bytes.fromhex(case['hex'])),
                                  integrity_data=case['json']) as fd:
            idx = NSIndex.read(fd)
        res = 'ok %d' % len(idx)
    except FileIntegrityError:
        res = 'FileIntegrityError'
    except Exception as e:
        res = '%s: %s' % (type(e).__name__, e)
    out['verify'][name] = res

json.dump(out, sys.stdout)
"#;

fn rand_key(rng: &mut StdRng) -> Key {
    let mut k = [0u8; 32];
    rng.fill_bytes(&mut k);
    k
}

fn keys(rng: &mut StdRng, n: usize) -> Vec<Key> {
    (0..n).map(|_| rand_key(rng)).collect()
}

fn h(k: &Key) -> String {
    hex::encode(k)
}

fn ns_bytes(idx: &HashIndex<8>) -> String {
    let mut out = Vec::new();
    idx.write_to(&mut out).unwrap();
    hex::encode(out)
}

fn chunk_bytes(idx: &HashIndex<12>) -> String {
    ns_or_chunk_hex(idx)
}

fn ns_or_chunk_hex<const V: usize>(idx: &HashIndex<V>) -> String {
    let mut out = Vec::new();
    idx.write_to(&mut out).unwrap();
    hex::encode(out)
}

fn key_of(s: &str) -> Key {
    let v = hex::decode(s).unwrap();
    v.try_into().unwrap()
}

/// Replay NSIndex operations. `borg_lookups`: whether `g`/`c` use borg's
/// mutating lookup (byte-exact) or the non-mutating `get`.
fn replay_ns(ops: &[String], borg_lookups: bool) -> NsIndex {
    let mut idx = NsIndex::new();
    for op in ops {
        let p: Vec<&str> = op.split(' ').collect();
        match p[0] {
            "i" => {
                idx.insert(
                    &key_of(p[1]),
                    (p[2].parse().unwrap(), p[3].parse().unwrap()),
                )
                .unwrap();
            }
            "d" => {
                idx.remove(&key_of(p[1]));
            }
            "g" | "c" => {
                if borg_lookups {
                    idx.lookup(&key_of(p[1]));
                } else {
                    idx.get(&key_of(p[1]));
                }
            }
            "compact" => {
                idx.compact();
            }
            other => panic!("{other}"),
        }
    }
    idx
}

fn replay_chunk(ops: &[String]) -> ChunkIndex {
    let mut idx = ChunkIndex::new();
    for op in ops {
        let p: Vec<&str> = op.split(' ').collect();
        let k = key_of(p[1]);
        let n = |i: usize| -> u32 { p[i].parse().unwrap() };
        match p[0] {
            "a" => idx.add(&k, n(2), n(3), n(4)).unwrap(),
            "s" => {
                idx.insert(&k, (n(2), n(3), n(4))).unwrap();
            }
            "+" => {
                idx.incref(&k).unwrap().unwrap();
            }
            "-" => {
                idx.decref(&k).unwrap().unwrap();
            }
            "d" => {
                idx.remove(&k);
            }
            "g" => {
                idx.lookup(&k);
            }
            other => panic!("{other}"),
        }
    }
    idx
}

fn ns_items(idx: &NsIndex) -> Value {
    Value::Array(idx.iter().map(|(k, (s, o))| json!([h(k), s, o])).collect())
}

fn chunk_items(idx: &ChunkIndex) -> Value {
    Value::Array(
        idx.iter()
            .map(|(k, (r, s, c))| json!([h(k), r, s, c]))
            .collect(),
    )
}

fn sorted(items: &Value) -> Vec<Value> {
    let mut v = items.as_array().unwrap().clone();
    v.sort_by_key(|x| x.to_string());
    v
}

/// A random NSIndex op sequence in phases (insert-heavy, delete-heavy,
/// balanced) so the table grows, shrinks and passes many tombstones.
fn mixed_ns_ops(rng: &mut StdRng, space: usize, phases: &[(usize, u32, u32, u32)]) -> Vec<String> {
    let ks = keys(rng, space);
    let mut ops = Vec::new();
    for &(n, ins, del, look) in phases {
        for _ in 0..n {
            let k = &ks[rng.gen_range(0..space)];
            let r = rng.gen_range(0..ins + del + look);
            if r < ins {
                ops.push(format!(
                    "i {} {} {}",
                    h(k),
                    rng.gen_range(0..=MAX_VALUE),
                    rng.gen::<u32>()
                ));
            } else if r < ins + del {
                ops.push(format!("d {}", h(k)));
            } else if rng.gen_bool(0.5) {
                ops.push(format!("g {}", h(k)));
            } else {
                ops.push(format!("c {}", h(k)));
            }
        }
    }
    ops
}

fn chunk_ops(rng: &mut StdRng, space: usize, n: usize, adds_only: bool) -> Vec<String> {
    let ks = keys(rng, space);
    let mut model: BTreeMap<usize, u32> = BTreeMap::new();
    let mut ops = Vec::new();
    for _ in 0..n {
        let i = rng.gen_range(0..space);
        let k = h(&ks[i]);
        let refs = if rng.gen_bool(0.02) {
            MAX_VALUE - rng.gen_range(0..3)
        } else {
            rng.gen_range(0..5)
        };
        let (s, c) = (rng.gen::<u32>(), rng.gen::<u32>());
        let choice = if adds_only { 0 } else { rng.gen_range(0..10) };
        match choice {
            0..=3 => {
                ops.push(format!("a {k} {refs} {s} {c}"));
                let e = model.entry(i).or_insert(0);
                *e = (u64::from(*e) + u64::from(refs)).min(u64::from(MAX_VALUE)) as u32;
            }
            4 => {
                ops.push(format!("s {k} {refs} {s} {c}"));
                model.insert(i, refs);
            }
            5 if model.contains_key(&i) => {
                ops.push(format!("+ {k}"));
                let e = model.get_mut(&i).unwrap();
                if *e != MAX_VALUE {
                    *e += 1;
                }
            }
            6 if model.get(&i).is_some_and(|r| *r > 0) => {
                ops.push(format!("- {k}"));
                let e = model.get_mut(&i).unwrap();
                if *e != MAX_VALUE {
                    *e -= 1;
                }
            }
            7 | 8 => {
                ops.push(format!("d {k}"));
                model.remove(&i);
            }
            _ => ops.push(format!("g {k}")),
        }
    }
    ops
}

#[test]
fn hashindex_against_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut rng = StdRng::seed_from_u64(0x0b0b_1e55);

    // ---- NSIndex op sequences (borg writes, we replay) ----
    let mut ns: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let pure = keys(&mut rng, 3000);
    ns.insert(
        "pure_insert",
        pure.iter()
            .enumerate()
            .map(|(i, k)| format!("i {} {} {}", h(k), i, rng.gen::<u32>()))
            .collect(),
    );
    let mut ins_del: Vec<String> = pure.iter().map(|k| format!("i {} 1 2", h(k))).collect();
    let mut order: Vec<usize> = (0..pure.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    ins_del.extend(order[..2700].iter().map(|&i| format!("d {}", h(&pure[i]))));
    ns.insert("insert_then_delete", ins_del);
    ns.insert(
        "mixed",
        mixed_ns_ops(
            &mut rng,
            2500,
            &[
                (8000, 8, 2, 2),
                (8000, 2, 8, 2),
                (10000, 5, 4, 3),
                (4000, 1, 1, 6),
            ],
        ),
    );
    // Sliding window: constant ~600 live keys in 1031 buckets -> repeated
    // same-size rebuilds when tombstones eat the EMPTY buckets.
    let window = keys(&mut rng, 6000);
    let mut churn = Vec::new();
    for i in 0..window.len() {
        churn.push(format!("i {} {} 0", h(&window[i]), i));
        if i >= 600 {
            churn.push(format!("d {}", h(&window[i - 600])));
        }
    }
    ns.insert("churn_rebuild", churn);
    let mut compacted = mixed_ns_ops(&mut rng, 800, &[(3000, 6, 3, 2)]);
    compacted.push("compact".into());
    ns.insert("compacted", compacted);
    let mut empty_compact = vec![
        format!("i {} 1 1", h(&pure[0])),
        format!("d {}", h(&pure[0])),
    ];
    empty_compact.push("compact".into());
    ns.insert("compacted_empty", empty_compact);

    // ---- ChunkIndex ----
    let mut chunk: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    chunk.insert("ops", chunk_ops(&mut rng, 2000, 15000, false));
    let merge_a = chunk_ops(&mut rng, 1500, 2500, true);
    let mut merge_b = chunk_ops(&mut rng, 1500, 1500, true);
    // Overlap: b also adds to some of a's keys.
    merge_b.extend(merge_a.iter().step_by(3).cloned());

    // ---- files written by oxiborg for borg to read ----
    let mut read = serde_json::Map::new();
    let ours_mixed = replay_ns(&mixed_ns_ops(&mut rng, 3000, &[(9000, 6, 3, 3)]), false);
    read.insert(
        "ours_mixed".into(),
        json!({"kind": "ns", "compact": false, "hex": ns_bytes(&ours_mixed)}),
    );
    // A table whose EMPTY buckets were turned into tombstones: reading
    // rebuilds it at the same size.
    let mut few = NsIndex::new();
    for k in keys(&mut rng, 200) {
        few.insert(&k, (rng.gen_range(0..1000), rng.gen())).unwrap();
    }
    let mut few_bytes = Vec::new();
    few.write_to(&mut few_bytes).unwrap();
    let mut empties = 1031 - 200;
    for b in 0..1031 {
        let o = 18 + b * 40 + 32;
        if few_bytes[o..o + 4] == [0xff; 4] && empties > 40 {
            few_bytes[o..o + 4].copy_from_slice(&[0xfe, 0xff, 0xff, 0xff]);
            empties -= 1;
        }
    }
    read.insert(
        "tombstoned".into(),
        json!({"kind": "ns", "compact": false, "hex": hex::encode(&few_bytes)}),
    );
    let mut lying = few_bytes.clone();
    lying[8..12].copy_from_slice(&150i32.to_le_bytes());
    read.insert(
        "lying_count".into(),
        json!({"kind": "ns", "compact": false, "hex": hex::encode(&lying)}),
    );
    let ours_chunks = replay_chunk(&chunk_ops(&mut rng, 1500, 4000, false));
    read.insert(
        "ours_chunks".into(),
        json!({"kind": "chunk", "compact": false, "hex": chunk_bytes(&ours_chunks)}),
    );
    let mut ours_compact = ours_chunks.clone();
    ours_compact.compact();
    read.insert(
        "ours_chunks_compact".into(),
        json!({"kind": "chunk", "compact": true, "hex": chunk_bytes(&ours_compact)}),
    );
    // Invalid files: both must reject them with the same message.
    let good = few_bytes.clone();
    let mut invalid: Vec<(&str, &str, Vec<u8>)> = vec![
        ("short", "ns", good[..5].to_vec()),
        ("bad_length", "ns", good[..good.len() - 3].to_vec()),
        ("wrong_value_size", "chunk", good.clone()),
    ];
    let mut m = good.clone();
    m[3] = b'x';
    invalid.push(("bad_magic", "ns", m));
    let mut m = good.clone();
    m[8..12].copy_from_slice(&2000i32.to_le_bytes());
    invalid.push(("too_many_entries", "ns", m));
    let mut m = good.clone();
    m[12..16].copy_from_slice(&0i32.to_le_bytes());
    invalid.push(("zero_buckets", "ns", m));
    let mut m = good.clone();
    m[16] = 31;
    invalid.push(("key_size", "ns", m));
    for (name, kind, bytes) in &invalid {
        read.insert(
            format!("invalid_{name}"),
            json!({"kind": kind, "compact": false, "hex": hex::encode(bytes)}),
        );
    }

    // ---- integrity digests ----
    let mut integrity = serde_json::Map::new();
    let mut blob = vec![0u8; 5000];
    rng.fill_bytes(&mut blob);
    let long_name = "n".repeat(150);
    type Case<'a> = (&'a str, &'a str, Vec<u8>, Vec<(&'a str, usize)>);
    let int_cases: Vec<Case> = vec![
        ("hints", "/repo/hints.17", blob[..300].to_vec(), vec![]),
        ("empty", "index.0", Vec::new(), vec![]),
        (
            "header_part",
            "index.5",
            blob.clone(),
            vec![("HashHeader", 18)],
        ),
        (
            "many_parts",
            "données/fichier-é😀",
            blob.clone(),
            vec![("a", 0), ("é\"x\\\n", 100), ("a", 4000), ("zz", 5000)],
        ),
        (
            "long_name",
            &long_name,
            blob[..10].to_vec(),
            vec![("p", 10)],
        ),
    ];
    for (name, path, data, parts) in &int_cases {
        integrity.insert(
            (*name).into(),
            json!({"path": path, "hex": hex::encode(data), "parts": parts}),
        );
    }
    let index_integrity_ops = mixed_ns_ops(&mut rng, 1200, &[(3000, 6, 3, 2)]);
    let index_integrity = json!({
        "index": {"path": "/some/repo/index.42", "ops": index_integrity_ops},
    });

    // ---- borg verifies what we wrote ----
    let ours_for_verify = replay_ns(&index_integrity_ops, true);
    let (vbytes, vdigests) = ours_for_verify.write_with_integrity("index.42");
    let mut verify = serde_json::Map::new();
    let vjson = vdigests.to_json();
    verify.insert(
        "good".into(),
        json!({"path": "index.42", "hex": hex::encode(&vbytes), "json": vjson}),
    );
    verify.insert(
        "wrong_name".into(),
        json!({"path": "index.43", "hex": hex::encode(&vbytes), "json": vjson}),
    );
    let mut flipped = vbytes.clone();
    let n = flipped.len();
    flipped[n - 5] ^= 0x40;
    verify.insert(
        "flipped_bucket".into(),
        json!({"path": "index.42", "hex": hex::encode(&flipped), "json": vjson}),
    );
    let mut flipped_header = vbytes.clone();
    flipped_header[8] ^= 1;
    verify.insert(
        "flipped_header".into(),
        json!({"path": "index.42", "hex": hex::encode(&flipped_header), "json": vjson}),
    );
    let no_final = format!(
        "{{\"algorithm\": \"XXH64\", \"digests\": {{\"HashHeader\": \"{}\"}}}}",
        vdigests.get("HashHeader").unwrap()
    );
    verify.insert(
        "no_final".into(),
        json!({"path": "index.42", "hex": hex::encode(&vbytes), "json": no_final}),
    );

    let input = json!({
        "ns": ns,
        "chunk": chunk,
        "merge": {"a": merge_a, "b": merge_b},
        "read": read,
        "integrity": integrity,
        "index_integrity": index_integrity,
        "verify": verify,
    });
    let t = std::time::Instant::now();
    let out = oracle.run_python(SCRIPT, input.to_string().as_bytes());
    eprintln!("borg oracle python: {:?}", t.elapsed());
    let out: Value = serde_json::from_slice(&out).unwrap();

    // (a) + (c): borg's files read by us; our bytes for the same sequence.
    for (name, ops) in &ns {
        let borg = &out["ns"][*name];
        let borg_hex = borg["bytes"].as_str().unwrap();
        let borg_bytes = hex::decode(borg_hex).unwrap();
        let compact = name.starts_with("compacted");
        let read = if compact {
            NsIndex(HashIndex::read_compact(&borg_bytes).unwrap())
        } else {
            NsIndex::read_from(&borg_bytes).unwrap()
        };
        assert_eq!(
            ns_items(&read),
            borg["items"],
            "{name}: contents/order of borg's file"
        );
        assert_eq!(read.len() as u64, borg["len"].as_u64().unwrap(), "{name}");
        let ours = replay_ns(ops, true);
        assert_eq!(ns_bytes(&ours), borg_hex, "{name}: byte identity");
        // With non-mutating lookups the contents still agree; bytes may not.
        let nonmut = replay_ns(ops, false);
        assert_eq!(sorted(&ns_items(&nonmut)), sorted(&borg["items"]), "{name}");
        eprintln!(
            "{name}: {} ops, {} entries, {} buckets; byte-identical with borg-exact lookups: yes; \
             with non-mutating get: {}",
            ops.len(),
            ours.len(),
            ours.num_buckets(),
            if ns_bytes(&nonmut) == borg_hex {
                "yes"
            } else {
                "no"
            }
        );
    }

    for (name, ops) in &chunk {
        let borg = &out["chunk"][*name];
        let ours = replay_chunk(ops);
        assert_eq!(
            chunk_bytes(&ours),
            borg["bytes"].as_str().unwrap(),
            "chunk {name}: bytes"
        );
        assert_eq!(chunk_items(&ours), borg["items"], "chunk {name}");
        let s = ours.summarize();
        assert_eq!(
            json!([s.0, s.1, s.2, s.3, s.4, s.5]),
            borg["summary"],
            "chunk {name}"
        );
        let read =
            ChunkIndex::read_from(&hex::decode(borg["bytes"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(chunk_items(&read), borg["items"]);
    }

    // (e) merge / summarize / stats_against.
    let mut a = replay_chunk(&merge_a);
    let b = replay_chunk(&merge_b);
    a.merge(&b).unwrap();
    let bm = &out["merge"];
    assert_eq!(
        chunk_bytes(&a),
        bm["bytes"].as_str().unwrap(),
        "merge bytes"
    );
    assert_eq!(chunk_items(&a), bm["items"]);
    let s = a.summarize();
    assert_eq!(json!([s.0, s.1, s.2, s.3, s.4, s.5]), bm["summary"]);
    let s = b.stats_against(&a).unwrap();
    assert_eq!(json!([s.0, s.1, s.2, s.3, s.4, s.5]), bm["stats_against"]);

    // (b) our files read by borg, and identical rewrites.
    for (name, spec) in &read {
        let borg = &out["read"][name.as_str()];
        let bytes = hex::decode(spec["hex"].as_str().unwrap()).unwrap();
        let compact = spec["compact"].as_bool().unwrap();
        let ours: Result<(Value, String), HashIndexError> = if spec["kind"] == "ns" {
            let r = if compact {
                HashIndex::<8>::read_compact(&bytes)
            } else {
                HashIndex::<8>::read_from(&bytes)
            };
            r.map(|i| {
                let hex = ns_bytes(&i);
                (ns_items(&NsIndex(i)), hex)
            })
        } else {
            let r = if compact {
                HashIndex::<12>::read_compact(&bytes)
            } else {
                HashIndex::<12>::read_from(&bytes)
            };
            r.map(|i| {
                let hex = chunk_bytes(&i);
                (chunk_items(&ChunkIndex(i)), hex)
            })
        };
        match ours {
            Ok((items, hex)) => {
                assert!(borg.get("error").is_none(), "{name}: borg failed: {borg}");
                assert_eq!(items, borg["items"], "{name}: contents as read by borg");
                assert_eq!(
                    hex,
                    borg["bytes"].as_str().unwrap(),
                    "{name}: rewrite bytes"
                );
            }
            Err(e) => {
                let msg = format!("ValueError: {e}");
                assert_eq!(borg["error"].as_str(), Some(msg.as_str()), "{name}");
            }
        }
    }
    let errors: Vec<(&String, &Value)> = read
        .keys()
        .filter_map(|k| Some((k, out["read"][k.as_str()].get("error")?)))
        .collect();
    eprintln!("rejected by borg and oxiborg alike: {errors:?}");
    assert_eq!(errors.len(), invalid.len() + 1); // + lying_count

    // (d) integrity digests and JSON text.
    for (name, path, data, parts) in &int_cases {
        let mut hasher = oxiborg_hashindex::IntegrityHasher::new(path);
        let mut pos = 0;
        for (part, at) in parts {
            hasher.update(&data[pos..*at]);
            pos = *at;
            hasher.hash_part(part, *at as u64);
        }
        hasher.update(&data[pos..]);
        let d = hasher.finalize(data.len() as u64);
        let borg_json = out["integrity"][*name].as_str().unwrap();
        assert_eq!(d.to_json(), borg_json, "integrity {name}");
        assert_eq!(Digests::from_json(borg_json).unwrap(), d);
        // A part name recorded twice keeps only its last digest, so (as in
        // borg) reading back fails at its first occurrence.
        let dup = parts
            .iter()
            .enumerate()
            .any(|(i, p)| parts[..i].iter().any(|q| q.0 == p.0));
        assert_eq!(
            oxiborg_hashindex::verify(data, path, &d, parts).is_ok(),
            !dup,
            "{name}"
        );
    }
    let bi = &out["index_integrity"]["index"];
    assert_eq!(
        bi["bytes"].as_str().unwrap(),
        hex::encode(&vbytes),
        "index bytes"
    );
    assert_eq!(bi["json"].as_str().unwrap(), vjson, "index integrity JSON");
    let borg_digests = Digests::from_json(bi["json"].as_str().unwrap()).unwrap();
    NsIndex::read_from_verified(&vbytes, "index.42", &borg_digests).unwrap();

    let v = &out["verify"];
    assert_eq!(v["good"], json!(format!("ok {}", ours_for_verify.len())));
    for bad in ["wrong_name", "flipped_bucket", "flipped_header", "no_final"] {
        assert_eq!(v[bad], json!("FileIntegrityError"), "{bad}");
    }
    assert!(NsIndex::read_from_verified(&vbytes, "index.43", &vdigests).is_err());
    assert!(NsIndex::read_from_verified(&flipped, "index.42", &vdigests).is_err());
    assert!(NsIndex::read_from_verified(&flipped_header, "index.42", &vdigests).is_err());
    assert!(Digests::from_json(&no_final).is_err());
}
