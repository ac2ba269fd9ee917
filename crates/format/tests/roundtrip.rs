//! Property tests: compression round trips for every spec, model round trips
//! (value -> model -> value), and garbage never panics.

use std::collections::BTreeMap;

use oxiborg_format::archive::{ArchiveItem, ChunkerParams};
use oxiborg_format::compress::{
    compress_into_with_rng, decompress, decompress_with_limit, CompressionSpec, CompressorKind,
};
use oxiborg_format::item::{decode_items, ChunkListEntry, Item, ItemStreamReader};
use oxiborg_format::manifest::{Manifest, ManifestArchive, Operation};
use oxiborg_msgpack::{encode, MapBuilder, Value};
use proptest::prelude::*;
use rand::SeedableRng;

// ---------------------------------------------------------------- compression

fn leaf_spec() -> impl Strategy<Value = CompressionSpec> {
    prop_oneof![
        Just(CompressionSpec::None),
        Just(CompressionSpec::Lz4),
        (0u8..=9).prop_map(|level| CompressionSpec::Zlib { level }),
        // presets above 6 need hundreds of MiB for the encoder: tested once
        // in the unit tests and against borg, not in every case here.
        (0u8..=6).prop_map(|level| CompressionSpec::Lzma { level }),
        (1u8..=22).prop_map(|level| CompressionSpec::Zstd { level }),
    ]
}

/// Every shape borg's grammar can produce.
fn spec() -> impl Strategy<Value = CompressionSpec> {
    let auto = || leaf_spec().prop_map(|s| CompressionSpec::Auto(Box::new(s)));
    let level = prop_oneof![1u8..=6, 110u8..=118, Just(250u8)];
    let inner = prop_oneof![leaf_spec(), auto()];
    let obf = (level, inner).prop_map(|(level, inner)| CompressionSpec::Obfuscate {
        level,
        inner: Box::new(inner),
    });
    prop_oneof![3 => leaf_spec(), 1 => auto(), 1 => obf]
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // incompressible
        proptest::collection::vec(any::<u8>(), 0..3000),
        // compressible: a few symbols
        proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b' ')], 0..20_000),
        // repeated random block
        (proptest::collection::vec(any::<u8>(), 1..64), 1usize..400).prop_map(|(b, n)| b.repeat(n)),
        (0usize..100_000).prop_map(|n| vec![0u8; n]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn compress_roundtrip(spec in spec(), data in data(), seed in any::<u64>()) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut out = Vec::new();
        compress_into_with_rng(&spec, &data, &mut out, &mut rng);
        prop_assert_eq!(decompress(&out).unwrap(), data.clone());
        let kind = CompressorKind::detect(&out).unwrap();
        match &spec {
            CompressionSpec::None => prop_assert_eq!(kind, CompressorKind::None),
            CompressionSpec::Zlib { .. } => prop_assert_eq!(kind, CompressorKind::Zlib),
            CompressionSpec::Lz4 | CompressionSpec::Zstd { .. } | CompressionSpec::Lzma { .. } => {
                // deciding compressors: smaller than the input, or stored
                if kind == CompressorKind::None {
                    prop_assert_eq!(out.len(), data.len() + 2);
                } else {
                    prop_assert!(out.len() - 2 < data.len());
                }
            }
            CompressionSpec::Obfuscate { .. } => {
                prop_assert_eq!(kind, CompressorKind::Obfuscate);
                prop_assert!(out.len() <= oxiborg_format::MAX_DATA_SIZE.max(data.len() + 1100));
            }
            CompressionSpec::Auto(_) => {}
        }
        // spec strings round trip through Display
        prop_assert_eq!(CompressionSpec::parse(&spec.to_string()).unwrap(), spec);
    }

    #[test]
    fn decompress_garbage_never_panics(
        hdr in prop_oneof![
            Just(vec![0u8, 0]), Just(vec![1, 0]), Just(vec![2, 0]), Just(vec![3, 0]),
            Just(vec![4, 0]), Just(vec![0x78, 0x9c]), Just(vec![0x78, 0x01]),
            Just(vec![4, 0, 0, 0, 0, 8, 1, 0]), Just(vec![4, 0, 0, 0, 0, 8, 3, 0]),
            Just(vec![2, 0, 0xfd, b'7', b'z', b'X', b'Z', 0]), Just(vec![3, 0, 0x28, 0xb5, 0x2f, 0xfd]),
            Just(vec![2, 0, 0x5d, 0, 0, 0x80, 0]),
            proptest::collection::vec(any::<u8>(), 0..3),
        ],
        body in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let mut d = hdr;
        d.extend(body);
        let _ = decompress_with_limit(&d, 1 << 20);
    }

    #[test]
    fn corrupted_compressed_data_never_panics(
        spec in leaf_spec(),
        data in data(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut out = Vec::new();
        compress_into_with_rng(&spec, &data, &mut out, &mut rand::rngs::StdRng::seed_from_u64(0));
        for (i, x) in flips {
            let i = i.index(out.len());
            out[i] ^= x;
        }
        let _ = decompress_with_limit(&out, 1 << 21);
        let c = cut.index(out.len() + 1);
        let _ = decompress_with_limit(&out[..c], 1 << 21);
    }
}

// ---------------------------------------------------------------- items

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn chunks() -> impl Strategy<Value = Vec<ChunkListEntry>> {
    proptest::collection::vec(
        (any::<[u8; 32]>(), any::<u64>(), any::<u64>())
            .prop_map(|(id, size, csize)| ChunkListEntry { id, size, csize }),
        0..20,
    )
}

fn time() -> impl Strategy<Value = i128> {
    prop_oneof![
        any::<i64>().prop_map(i128::from),
        0i128..4_000_000_000_000_000_000,
        // legacy bigint range
        any::<i128>(),
    ]
}

/// msgpack values borg could store under an unknown key (no floats, so that
/// values compare equal).
fn plain_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| Value::Int(i.into())),
        any::<u64>().prop_map(|i| Value::Int(i.into())),
        bytes(40).prop_map(Value::Raw),
    ];
    leaf.prop_recursive(3, 20, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(bytes(8), inner, 0..5).prop_map(|m| {
                Value::Map(m.into_iter().map(|(k, v)| (Value::Raw(k), v)).collect())
            }),
        ]
    })
}

fn extra() -> impl Strategy<Value = Vec<(Value, Value)>> {
    // unknown keys: never one of the known names (prefix "x_" / "~")
    proptest::collection::btree_map(
        prop_oneof![
            "x_[a-z]{0,8}".prop_map(|s| s.into_bytes()),
            "~[a-z]{0,4}".prop_map(|s| s.into_bytes()),
        ],
        plain_value(),
        0..3,
    )
    .prop_map(|m| m.into_iter().map(|(k, v)| (Value::Raw(k), v)).collect())
}

fn opt_opt_raw() -> impl Strategy<Value = Option<Option<Vec<u8>>>> {
    proptest::option::of(proptest::option::of(bytes(20)))
}

prop_compose! {
    fn item()(
        path in bytes(80),
        mode in proptest::option::of(any::<u32>()),
        uid in proptest::option::of(any::<i64>()),
        gid in proptest::option::of(any::<i64>()),
        user in opt_opt_raw(),
        group in opt_opt_raw(),
        mtime in time(),
        atime in proptest::option::of(time()),
        ctime in proptest::option::of(time()),
        birthtime in proptest::option::of(time()),
        size in proptest::option::of(any::<u64>()),
        chunks in proptest::option::of(chunks()),
        chunks_healthy in proptest::option::of(chunks()),
        source in proptest::option::of(bytes(50)),
        hardlink_master in proptest::option::of(any::<bool>()),
        rdev in proptest::option::of(any::<u64>()),
        xattrs in proptest::option::of(proptest::collection::btree_map(
            bytes(20), proptest::option::of(bytes(40)), 0..5)),
        acls in (proptest::option::of(bytes(60)), proptest::option::of(bytes(60)),
                 proptest::option::of(bytes(60)), proptest::option::of(bytes(60))),
        bsdflags in proptest::option::of(any::<u64>()),
        part in proptest::option::of(any::<u64>()),
        extra in extra(),
    ) -> Item {
        Item {
            path, mode, uid, gid, user, group, mtime, atime, ctime, birthtime, size, chunks,
            chunks_healthy, source, hardlink_master, rdev, xattrs,
            acl_access: acls.0, acl_default: acls.1, acl_extended: acls.2, acl_nfs4: acls.3,
            bsdflags, part, extra,
        }
    }
}

fn is_sorted(v: &Value) -> bool {
    match v {
        Value::Map(m) => m
            .windows(2)
            .all(|w| w[0].0.as_raw().unwrap_or(&[]) <= w[1].0.as_raw().unwrap_or(&[])),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn item_roundtrip(item in item()) {
        let v = item.to_value();
        prop_assert!(is_sorted(&v));
        // the hand-written encoder and the Value path agree byte for byte
        let bytes = item.encode();
        prop_assert_eq!(&bytes, &encode(&v));
        // value -> model -> value
        let back = Item::from_value(v.clone()).unwrap();
        prop_assert_eq!(&back, &item);
        prop_assert_eq!(back.to_value(), v);
        prop_assert_eq!(Item::decode(&bytes).unwrap(), item);
    }

    #[test]
    fn item_stream_across_any_split(items in proptest::collection::vec(item(), 0..6),
                                    cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10)) {
        let stream: Vec<u8> = items.iter().flat_map(|i| i.encode()).collect();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.index(stream.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(stream.len());
        let mut r = ItemStreamReader::new();
        let mut got = Vec::new();
        let mut pos = 0;
        for c in cuts {
            r.feed(&stream[pos..c]);
            pos = c;
            while let Some(i) = r.next_item().unwrap() {
                got.push(i);
            }
        }
        r.finish().unwrap();
        prop_assert_eq!(&got, &items);
        prop_assert_eq!(decode_items(&stream).unwrap(), items);
    }

    #[test]
    fn item_from_garbage_never_panics(v in plain_value(), b in bytes(300)) {
        let _ = Item::from_value(v.clone());
        let _ = ArchiveItem::from_value(v.clone());
        let _ = Manifest::from_value(v);
        let _ = Item::decode(&b);
        let _ = Manifest::decode(&b);
        let _ = decode_items(&b);
        let mut r = ItemStreamReader::new();
        r.feed(&b);
        for _ in 0..10 {
            if !matches!(r.next_item(), Ok(Some(_)) | Err(oxiborg_format::ModelError::WrongType { .. })) {
                break;
            }
        }
    }

    #[test]
    fn item_like_maps_never_panic(entries in proptest::collection::vec(
        (prop_oneof![
            Just("path"), Just("mtime"), Just("chunks"), Just("xattrs"), Just("user"),
            Just("mode"), Just("atime"), Just("chunks_healthy"), Just("hardlink_master"),
        ], plain_value()), 0..8)) {
        let m = Value::Map(entries.into_iter().map(|(k, v)| (Value::raw(k), v)).collect());
        let _ = Item::from_value(m);
    }
}

// ---------------------------------------------------------------- archive / manifest

fn raw_list() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(bytes(30), 0..6)
}

fn chunker_params() -> impl Strategy<Value = ChunkerParams> {
    prop_oneof![
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(a, b, c, d)| {
            ChunkerParams::Buzhash {
                min_exp: a,
                max_exp: b,
                mask_bits: c,
                window_size: d,
            }
        }),
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(a, b, c, d)| {
            ChunkerParams::LegacyBuzhash {
                min_exp: a,
                max_exp: b,
                mask_bits: c,
                window_size: d,
            }
        }),
        (any::<u64>(), any::<u64>()).prop_map(|(block_size, header_size)| ChunkerParams::Fixed {
            block_size,
            header_size
        }),
        Just(ChunkerParams::Other(Value::Array(vec![
            Value::raw("future"),
            Value::from(1u64)
        ]))),
    ]
}

fn iso() -> impl Strategy<Value = String> {
    (0i64..253_402_300_799_999_999)
        .prop_map(|us| oxiborg_format::UtcTimestamp::from_unix_micros(us).format_iso())
}

prop_compose! {
    fn archive()(
        name in bytes(40),
        items in proptest::collection::vec(any::<[u8; 32]>(), 0..10),
        cmdline in raw_list(),
        hostname in proptest::option::of(bytes(20)),
        username in proptest::option::of(bytes(20)),
        time in iso(),
        time_end in proptest::option::of(iso()),
        comment in proptest::option::of(bytes(30)),
        chunker_params in proptest::option::of(chunker_params()),
        cwd in proptest::option::of(bytes(30)),
        stats in proptest::collection::vec(proptest::option::of(any::<u64>()), 6),
        recreate_cmdline in proptest::option::of(raw_list()),
        recreate_source_id in proptest::option::of(bytes(32)),
        recreate_args in proptest::option::of(plain_value()),
        recreate_partial_chunks in proptest::option::of(plain_value()),
        extra in extra(),
    ) -> ArchiveItem {
        let sorted = |v: Option<Value>| v.map(|mut v| { sort_deep(&mut v); v });
        ArchiveItem {
            name, items, cmdline, hostname, username, time, time_end, comment,
            chunker_params: chunker_params.map(|c| match c {
                ChunkerParams::Other(mut v) => { sort_deep(&mut v); ChunkerParams::Other(v) }
                c => c,
            }),
            cwd, size: stats[0], csize: stats[1], nfiles: stats[2], size_parts: stats[3],
            csize_parts: stats[4], nfiles_parts: stats[5], recreate_cmdline, recreate_source_id,
            recreate_args: sorted(recreate_args),
            recreate_partial_chunks: sorted(recreate_partial_chunks),
            extra: extra.into_iter().map(|(k, mut v)| { sort_deep(&mut v); (k, v) }).collect(),
        }
    }
}

fn sort_deep(v: &mut Value) {
    v.sort_map_keys();
    match v {
        Value::Map(m) => m.iter_mut().for_each(|(_, x)| sort_deep(x)),
        Value::Array(a) => a.iter_mut().for_each(sort_deep),
        _ => {}
    }
}

prop_compose! {
    fn manifest()(
        archives in proptest::collection::btree_map(bytes(60), (any::<[u8; 32]>(), iso()), 0..8),
        tam_required in proptest::option::of(any::<bool>()),
        unknown_config in proptest::option::of(plain_value()),
        item_keys in proptest::collection::btree_set("[a-z_]{1,12}".prop_map(String::into_bytes), 0..10),
        timestamp in proptest::option::of(iso()),
    ) -> Manifest {
        let mut m = Manifest::new();
        for (name, (id, time)) in archives {
            m.archives.insert(name, ManifestArchive::new(id, time));
        }
        if let Some(t) = tam_required {
            m.set_tam_required(t);
        }
        if let Some(mut v) = unknown_config {
            sort_deep(&mut v);
            m.config_set("some_future_key", v);
        }
        m.config.sort_by(|a, b| a.0.as_raw().cmp(&b.0.as_raw()));
        m.item_keys.extend(item_keys);
        m.timestamp = timestamp;
        m
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn archive_roundtrip(a in archive()) {
        let v = a.to_value();
        prop_assert!(is_sorted(&v));
        let back = ArchiveItem::from_value(v.clone()).unwrap();
        prop_assert_eq!(&back, &a);
        prop_assert_eq!(back.to_value(), v);
    }

    #[test]
    fn manifest_roundtrip(m in manifest()) {
        let v = m.to_value().unwrap();
        prop_assert!(is_sorted(&v));
        let back = Manifest::from_value(v.clone()).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.to_value().unwrap(), v.clone());
        prop_assert_eq!(Manifest::decode(&encode(&v)).unwrap(), m);
    }
}

// ---------------------------------------------------------------- unit-style checks

#[test]
fn appendix_a6_item_bytes() {
    let mut it = Item::new(".", 0x18ea_3a78_250f_f445);
    it.ctime = Some(0x18ea_3a78_250f_f445);
    it.gid = Some(0);
    it.uid = Some(0);
    it.group = Some(None);
    it.user = Some(None);
    it.mode = Some(0o40755);
    let mut expected = vec![0x88];
    expected.extend(b"\xa5ctime\xcf\x18\xea\x3a\x78\x25\x0f\xf4\x45");
    expected.extend(b"\xa3gid\x00\xa5group\xc0\xa4mode\xcd\x41\xed");
    expected.extend(b"\xa5mtime\xcf\x18\xea\x3a\x78\x25\x0f\xf4\x45");
    expected.extend(b"\xa4path\xa1.\xa3uid\x00\xa4user\xc0");
    assert_eq!(it.encode(), expected);
    assert_eq!(Item::decode(&expected).unwrap(), it);
}

#[test]
fn item_strictness() {
    use oxiborg_format::ModelError;
    let base = || {
        MapBuilder::new()
            .insert("path", "a")
            .insert("mtime", Value::from(1u64))
    };
    assert!(Item::from_value(base().build()).is_ok());
    assert!(matches!(
        Item::from_value(MapBuilder::new().insert("path", "a").build()),
        Err(ModelError::MissingKey { key: "mtime", .. })
    ));
    assert!(matches!(
        Item::from_value(MapBuilder::new().insert("mtime", Value::from(1u64)).build()),
        Err(ModelError::MissingKey { key: "path", .. })
    ));
    assert!(matches!(
        Item::from_value(Value::Array(vec![])),
        Err(ModelError::NotAMap { .. })
    ));
    let bad_chunks = [
        Value::Array(vec![Value::Array(vec![
            Value::raw([0u8; 31]),
            Value::from(1u64),
            Value::from(1u64),
        ])]),
        Value::Array(vec![Value::Array(vec![
            Value::raw([0u8; 32]),
            Value::from(1u64),
        ])]),
        Value::Array(vec![Value::Array(vec![
            Value::raw([0u8; 32]),
            Value::from(-1i64),
            Value::from(1u64),
        ])]),
        Value::Array(vec![Value::Array(vec![
            Value::Nil,
            Value::from(1u64),
            Value::from(1u64),
        ])]),
        Value::Array(vec![Value::raw("x")]),
        Value::Nil,
    ];
    for c in bad_chunks {
        let r = Item::from_value(base().insert("chunks", c.clone()).build());
        assert!(
            matches!(
                r,
                Err(ModelError::BadChunkEntry { .. }) | Err(ModelError::WrongType { .. })
            ),
            "{c:?}: {r:?}"
        );
    }
    assert!(Item::from_value(base().insert("mode", Value::from(-1i64)).build()).is_err());
    assert!(Item::from_value(base().insert("user", Value::from(1u64)).build()).is_err());
    assert!(Item::from_value(base().insert("xattrs", Value::from(1u64)).build()).is_err());
    // the attic "acl" key and other unknown keys are kept
    let it = Item::from_value(base().insert("acl", Value::Nil).build()).unwrap();
    assert_eq!(it.extra.len(), 1);
    // last duplicate wins, like a Python dict
    let dup = Value::Map(vec![
        (Value::raw("path"), Value::raw("a")),
        (Value::raw("path"), Value::raw("b")),
        (Value::raw("mtime"), Value::from(1u64)),
    ]);
    assert_eq!(Item::from_value(dup).unwrap().path, b"b");
}

#[test]
fn bigint_forms() {
    use oxiborg_format::item::{bigint_to_int, int_to_bigint};
    assert_eq!(int_to_bigint(i128::from(i64::MAX)), None);
    assert_eq!(int_to_bigint(-i128::from(i64::MAX)), None);
    // -2**63 has bit_length 64: borg stores it as a bigint
    assert_eq!(
        int_to_bigint(i128::from(i64::MIN)),
        Some(vec![0, 0, 0, 0, 0, 0, 0, 0x80, 0xff])
    );
    assert_eq!(
        int_to_bigint(1 << 64),
        Some(vec![0, 0, 0, 0, 0, 0, 0, 0, 1])
    );
    assert_eq!(int_to_bigint(i128::MIN).unwrap().len(), 17);
    for v in [
        1i128 << 64,
        -(1 << 64),
        i128::MIN,
        i128::MAX,
        1 << 100,
        i128::from(i64::MIN),
    ] {
        assert_eq!(
            bigint_to_int(&Value::Raw(int_to_bigint(v).unwrap())),
            Some(v)
        );
    }
    assert_eq!(bigint_to_int(&Value::Raw(vec![])), Some(0));
    assert_eq!(bigint_to_int(&Value::Raw(vec![0xff])), Some(-1));
    assert_eq!(bigint_to_int(&Value::Raw(vec![1; 17])), None);
}

#[test]
fn manifest_rules() {
    use oxiborg_format::manifest::check_manifest_plaintext;
    use oxiborg_format::ModelError;
    assert_eq!(
        check_manifest_plaintext(&[0xc1, 0xc1, 0xc1, 0xc1, 0x80]),
        Err(ModelError::ManifestFromFuture)
    );
    assert_eq!(
        Manifest::decode(&[0xc1, 0xc1, 0xc1, 0xc1]),
        Err(ModelError::ManifestFromFuture)
    );
    let mk = |version: Value| {
        MapBuilder::new()
            .insert("version", version)
            .insert("archives", Value::Map(vec![]))
            .insert("config", Value::Map(vec![]))
            .build()
    };
    assert!(Manifest::from_value(mk(Value::from(1u64))).is_ok());
    let m2 = Manifest::from_value(mk(Value::from(2u64))).unwrap();
    assert_eq!(m2.version, 2);
    // written back as version 1, like borg
    assert_eq!(
        m2.to_value().unwrap().get("version"),
        Some(&Value::from(1u64))
    );
    assert!(matches!(
        Manifest::from_value(mk(Value::from(3u64))),
        Err(ModelError::InvalidManifestVersion(_))
    ));
    // limits
    let mut m = Manifest::new();
    m.set_archive(vec![b'a'; 255], [0; 32], "2026-01-01T00:00:00.000000");
    assert!(m.to_value().is_ok());
    m.set_archive("é".repeat(255), [0; 32], "2026-01-01T00:00:00.000000");
    assert!(m.to_value().is_ok());
    m.set_archive(vec![0xff; 256], [0; 32], "2026-01-01T00:00:00.000000");
    assert!(matches!(m.to_value(), Err(ModelError::LimitExceeded(_))));
    let mut m = Manifest::new();
    for i in 0..78 {
        m.item_keys.insert(format!("k{i}").into_bytes());
    }
    assert_eq!(m.item_keys.len(), 101);
    assert!(matches!(m.to_value(), Err(ModelError::LimitExceeded(_))));
    // feature flags
    let mut m = Manifest::new();
    m.config_set(
        "feature_flags",
        MapBuilder::new()
            .insert(
                "write",
                MapBuilder::new()
                    .insert("mandatory", Value::Array(vec![Value::raw("shiny")]))
                    .build(),
            )
            .build(),
    );
    assert!(m
        .check_repository_compatibility(&[Operation::Read], &[])
        .is_ok());
    assert!(matches!(
        m.check_repository_compatibility(&[Operation::Read, Operation::Write], &[]),
        Err(ModelError::MandatoryFeatureUnsupported {
            operation: "write",
            ..
        })
    ));
    assert!(m
        .check_repository_compatibility(&[Operation::Write], &[b"shiny"])
        .is_ok());
    let mf = m.mandatory_features().unwrap();
    assert_eq!(
        mf,
        BTreeMap::from([(b"write".to_vec(), [b"shiny".to_vec()].into_iter().collect())])
    );
    m.config_set("feature_flags", Value::from(1u64));
    assert!(m
        .check_repository_compatibility(&[Operation::Read], &[])
        .is_err());
    // timestamps
    let mut m = Manifest::new();
    let now = oxiborg_format::UtcTimestamp::parse_iso("2026-01-01T00:00:00").unwrap();
    assert_eq!(
        m.update_timestamp(now).unwrap(),
        "2026-01-01T00:00:00.000000"
    );
    assert_eq!(
        m.update_timestamp(now).unwrap(),
        "2026-01-01T00:00:00.000001"
    );
}

#[test]
fn chunker_params_forms() {
    let v = Value::Array(vec![
        Value::raw("buzhash"),
        Value::from(19u64),
        Value::from(23u64),
        Value::from(21u64),
        Value::from(4095u64),
    ]);
    assert_eq!(
        ChunkerParams::from_value(v.clone()),
        oxiborg_format::archive::DEFAULT_CHUNKER_PARAMS
    );
    assert_eq!(ChunkerParams::from_value(v.clone()).to_value(), v);
    let legacy = Value::Array(vec![
        Value::from(19u64),
        Value::from(23u64),
        Value::from(21u64),
        Value::from(4095u64),
    ]);
    let p = ChunkerParams::from_value(legacy.clone());
    assert_eq!(p.to_value(), legacy);
    assert_eq!(
        p.normalized(),
        oxiborg_format::archive::DEFAULT_CHUNKER_PARAMS
    );
    let odd = Value::Array(vec![Value::raw("fixed"), Value::from(1u64)]);
    assert_eq!(
        ChunkerParams::from_value(odd.clone()),
        ChunkerParams::Other(odd)
    );
}
