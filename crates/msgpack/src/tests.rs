use crate::*;
use proptest::prelude::*;

fn enc(v: &Value) -> Vec<u8> {
    encode(v)
}

#[test]
fn raw_lengths_use_borg_headers() {
    assert_eq!(enc(&Value::raw([])), vec![0xa0]);
    assert_eq!(enc(&Value::raw([7u8; 31]))[0], 0xbf);
    // 32..65535 bytes: raw16 (0xda), never str8 (0xd9).
    assert_eq!(&enc(&Value::raw([0u8; 32]))[..3], &[0xda, 0x00, 0x20]);
    assert_eq!(&enc(&Value::raw([0u8; 64]))[..3], &[0xda, 0x00, 0x40]);
    assert_eq!(
        &enc(&Value::raw(vec![0u8; 65536]))[..5],
        &[0xdb, 0, 1, 0, 0]
    );
}

#[test]
fn smallest_integers() {
    let cases: &[(i128, &[u8])] = &[
        (0, &[0x00]),
        (127, &[0x7f]),
        (128, &[0xcc, 0x80]),
        (255, &[0xcc, 0xff]),
        (256, &[0xcd, 0x01, 0x00]),
        (0x41ed, &[0xcd, 0x41, 0xed]),
        (100000, &[0xce, 0x00, 0x01, 0x86, 0xa0]),
        (1 << 32, &[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
        (-1, &[0xff]),
        (-32, &[0xe0]),
        (-33, &[0xd0, 0xdf]),
        (-128, &[0xd0, 0x80]),
        (-129, &[0xd1, 0xff, 0x7f]),
        (-137214441, &[0xd2, 0xf7, 0xd2, 0x46, 0x17]),
        (i128::from(i64::MIN), &[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        (
            i128::from(u64::MAX),
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
    ];
    for (i, want) in cases {
        assert_eq!(enc(&Value::Int(*i)), *want, "int {i}");
        assert_eq!(decode_one(want).unwrap(), Value::Int(*i));
    }
}

#[test]
fn appendix_a6_directory_item_bytes() {
    // borg1-crypto-archive.md Appendix A.6: a plaintext-repo directory item.
    let item = MapBuilder::new()
        .insert("path", ".")
        .insert("mode", 0o40755u32)
        .insert("uid", 0u32)
        .insert("gid", 0u32)
        .insert("user", Value::Nil)
        .insert("group", Value::Nil)
        .insert("mtime", 0x18ea3a78250ff445u64)
        .insert("ctime", 0x18ea3a78250ff445u64)
        .build();
    let mut want = vec![0x88, 0xa5];
    want.extend_from_slice(b"ctime");
    want.extend_from_slice(&[0xcf, 0x18, 0xea, 0x3a, 0x78, 0x25, 0x0f, 0xf4, 0x45, 0xa3]);
    want.extend_from_slice(b"gid");
    want.extend_from_slice(&[0x00, 0xa5]);
    want.extend_from_slice(b"group");
    want.extend_from_slice(&[0xc0, 0xa4]);
    want.extend_from_slice(b"mode");
    want.extend_from_slice(&[0xcd, 0x41, 0xed, 0xa5]);
    want.extend_from_slice(b"mtime");
    want.extend_from_slice(&[0xcf, 0x18, 0xea, 0x3a, 0x78, 0x25, 0x0f, 0xf4, 0x45, 0xa4]);
    want.extend_from_slice(b"path");
    want.extend_from_slice(&[0xa1, b'.', 0xa3]);
    want.extend_from_slice(b"uid");
    want.extend_from_slice(&[0x00, 0xa4]);
    want.extend_from_slice(b"user");
    want.push(0xc0);
    assert_eq!(enc(&item), want);
}

#[test]
fn reader_accepts_str8_and_bin_as_raw() {
    assert_eq!(
        decode_one(&[0xd9, 2, b'h', b'i']).unwrap(),
        Value::raw("hi")
    );
    assert_eq!(decode_one(&[0xc4, 1, 9]).unwrap(), Value::raw([9]));
}

#[test]
fn hostile_lengths_do_not_allocate() {
    // array32 claiming 4 billion elements in a 5-byte input.
    assert!(matches!(
        decode_one(&[0xdd, 0xff, 0xff, 0xff, 0xff]),
        Err(DecodeError::Incomplete { .. })
    ));
    assert!(matches!(
        decode_one(&[0xdb, 0xff, 0xff, 0xff, 0xff, 0]),
        Err(DecodeError::Incomplete { .. })
    ));
    assert!(matches!(
        decode_one(&[0xc1]),
        Err(DecodeError::InvalidType { byte: 0xc1, .. })
    ));
    assert!(matches!(
        decode_one(&[0xd4, 0, 0]),
        Err(DecodeError::InvalidType { .. })
    ));
    let deep = vec![0x91u8; 10_000];
    assert!(matches!(
        decode_one(&deep),
        Err(DecodeError::TooDeep { .. })
    ));
    assert!(matches!(
        decode_one(&[0x01, 0x02]),
        Err(DecodeError::TrailingBytes { extra: 1 })
    ));
    assert!(matches!(
        decode_one(&[]),
        Err(DecodeError::Incomplete { .. })
    ));
}

#[test]
fn incomplete_stream_keeps_position_for_retry() {
    let mut buf = enc(&Value::raw("first"));
    let second = enc(&MapBuilder::new().insert("path", "x").build());
    buf.extend_from_slice(&second[..3]);
    let mut d = Decoder::new(&buf);
    assert_eq!(d.next_value().unwrap(), Some(Value::raw("first")));
    let pos = d.position();
    assert!(matches!(d.next_value(), Err(DecodeError::Incomplete { offset }) if offset == pos));
    assert_eq!(d.position(), pos);
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| Value::Int(i.into())),
        any::<u64>().prop_map(|i| Value::Int(i.into())),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Value::Raw),
    ];
    leaf.prop_recursive(4, 64, 20, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..20).prop_map(Value::Array),
            proptest::collection::vec((inner.clone(), inner), 0..20).prop_map(Value::Map),
        ]
    })
}

proptest! {
    #[test]
    fn round_trip(v in arb_value()) {
        let bytes = enc(&v);
        prop_assert_eq!(decode_one(&bytes).unwrap(), v);
    }

    #[test]
    fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut d = Decoder::new(&bytes);
        while let Ok(Some(_)) = d.next_value() {}
    }

    #[test]
    fn every_prefix_is_incomplete(v in arb_value()) {
        let bytes = enc(&v);
        for cut in 0..bytes.len() {
            let incomplete = matches!(decode_stream_item(&bytes[..cut]), Err(DecodeError::Incomplete { .. }));
            prop_assert!(incomplete, "prefix of {} bytes", cut);
        }
    }
}
