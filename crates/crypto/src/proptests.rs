//! Property tests: round trips, tamper detection and no panics on hostile input.

use oxiborg_msgpack::{encode, MapBuilder, Value};
use proptest::prelude::*;

use crate::keyblob::{a2b_base64, decode_key_blob_text, encode_key_blob_text};
use crate::*;

fn material(blake2: bool, seed: [u8; 32], chunk_seed: i32, tam: bool) -> KeyMaterial {
    let n = if blake2 { 128 } else { 32 };
    let mk = |salt: u8| -> Vec<u8> {
        let mut v: Vec<u8> = (0..n).map(|i| seed[i % 32] ^ salt ^ i as u8).collect();
        if blake2 {
            v[64..].fill(0);
        }
        v
    };
    KeyMaterial {
        enc_key: seed,
        enc_hmac_key: mk(0x55),
        id_key: mk(0xaa),
        chunk_seed,
        repository_id: [seed[0]; 32],
        tam_required: tam,
    }
}

fn any_key() -> impl Strategy<Value = Key> {
    (
        prop::sample::select(KeyType::CREATABLE.to_vec()),
        any::<[u8; 32]>(),
        any::<i32>(),
        any::<bool>(),
    )
        .prop_map(|(kt, seed, cs, tam)| {
            if kt == KeyType::Plaintext {
                Key::plaintext()
            } else {
                Key::new(kt, material(kt.is_blake2(), seed, cs, tam))
                    .unwrap_or_else(|_| Key::plaintext())
            }
        })
}

fn small_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| Value::Int(i.into())),
        prop::collection::vec(any::<u8>(), 0..80).prop_map(Value::Raw),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,8}", inner), 0..6).prop_map(|kv| {
                Value::Map(kv.into_iter().map(|(k, v)| (Value::raw(k), v)).collect())
            }),
        ]
    })
}

fn metadata_map() -> impl Strategy<Value = Value> {
    prop::collection::vec(("[a-z_]{1,12}", small_value()), 0..8).prop_map(|kv| {
        let mut b = MapBuilder::new();
        for (k, v) in kv {
            b.push(k, v);
        }
        b.build()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn envelope_round_trip(key in any_key(), iv in any::<u64>(), data in prop::collection::vec(any::<u8>(), 0..600)) {
        let iv = iv >> 1; // borg never gets near 2^64
        let env = key.encrypt(iv, &data);
        let kt = key.key_type();
        prop_assert_eq!(env[0], kt.type_byte());
        if kt.is_encrypted() {
            prop_assert_eq!(env.len(), PAYLOAD_OVERHEAD + data.len());
            prop_assert_eq!(extract_iv(&env).unwrap(), iv);
            if !data.is_empty() {
                prop_assert_ne!(&env[PAYLOAD_OVERHEAD..], &data[..]);
            }
        } else {
            prop_assert_eq!(&env[1..], &data[..]);
        }
        prop_assert_eq!(key.decrypt(None, &env).unwrap(), data);
    }

    #[test]
    fn tampering_fails_mac(key in any_key(), data in prop::collection::vec(any::<u8>(), 0..200), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        prop_assume!(key.key_type().is_encrypted());
        let env = key.encrypt(42, &data);
        let i = 1 + pos.index(env.len() - 1);
        let mut t = env.clone();
        t[i] ^= 1 << bit;
        let id = [0x77u8; 32];
        let err = key.decrypt(Some(&id), &t).unwrap_err();
        prop_assert!(matches!(err, CryptoError::MacMismatch { .. }), "{}", err);
        prop_assert!(err.to_string().contains(&"77".repeat(32)));
        // Truncation fails too.
        let cut = pos.index(env.len());
        prop_assert!(key.decrypt(None, &env[..cut]).is_err());
    }

    #[test]
    fn random_envelopes_never_panic(key in any_key(), env in prop::collection::vec(any::<u8>(), 0..120)) {
        let _ = key.decrypt(None, &env);
        let _ = extract_iv(&env);
        let _ = manifest_nonce(&env);
    }

    #[test]
    fn id_hash_matches_assert_id(key in any_key(), data in prop::collection::vec(any::<u8>(), 0..300)) {
        let id = key.id_hash(&data);
        prop_assert!(key.assert_id(&id, &data).is_ok());
        let mut bad = id;
        bad[0] ^= 1;
        prop_assert!(key.assert_id(&bad, &data).is_err());
    }

    #[test]
    fn tam_round_trip(key in any_key(), map in metadata_map(), salt in any::<[u8; 32]>(), archive in any::<bool>()) {
        let mut s = [0u8; 64];
        s[..32].copy_from_slice(&salt);
        let ctx = if archive { CONTEXT_ARCHIVE } else { CONTEXT_MANIFEST };
        let packed = key.pack_and_authenticate(map.clone(), ctx, Some(s)).unwrap();
        let v = if archive {
            key.unpack_and_verify_archive(&packed, false).unwrap()
        } else {
            key.unpack_and_verify_manifest(&packed, false).unwrap()
        };
        prop_assert!(v.verified);
        let mut expected = map;
        if let Value::Map(m) = &mut expected {
            m.retain(|(k, _)| k.as_raw() != Some(b"tam"));
        }
        prop_assert_eq!(v.value, expected);
        prop_assert_eq!(v.salt.as_deref(), Some(&s[..]));
    }

    #[test]
    fn random_metadata_never_panics(key in any_key(), data in prop::collection::vec(any::<u8>(), 0..200), force in any::<bool>()) {
        let _ = key.unpack_and_verify_manifest(&data, force);
        let _ = key.unpack_and_verify_archive(&data, force);
        let _ = unpack_metadata_unverified(&data);
    }

    #[test]
    fn random_metadata_values_never_panic(key in any_key(), v in small_value(), force in any::<bool>()) {
        let data = encode(&v);
        let _ = key.unpack_and_verify_manifest(&data, force);
        let _ = key.unpack_and_verify_archive(&data, force);
    }

    #[test]
    fn base64_text_round_trip(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = encode_key_blob_text(&data);
        prop_assert!(text.lines().all(|l| l.len() <= 70));
        prop_assert_eq!(a2b_base64(&text).unwrap(), data.clone());
        // Whitespace/tab continuation lines (repo config) are ignored.
        let indented = text.replace('\n', "\n\t");
        prop_assert_eq!(a2b_base64(&indented).unwrap(), data);
    }

    #[test]
    fn random_texts_never_panic(text in ".{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_key_blob_text(&text);
        let _ = KeyMaterial::from_key_blob_text(&text, "pw", false);
        let _ = open_key_blob(&bytes, "pw");
        let _ = KeyMaterial::from_msgpack(&bytes, false);
        let _ = parse_keyfile(&bytes);
        let _ = keyfile_sanity_check(&bytes, &[0; 32], std::path::Path::new("x"));
        let _ = nonces::parse_nonce(&bytes);
        let _ = key_filename(&text, Some(&text));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn key_blob_round_trip(kt in prop::sample::select(KeyType::CREATABLE[1..].to_vec()), seed in any::<[u8; 32]>(), cs in any::<i32>(), tam in any::<bool>(), pass in ".{0,20}", salt in any::<[u8; 32]>(), iterations in 1u32..50) {
        let m = material(kt.is_blake2(), seed, cs, tam);
        let inner = m.to_msgpack();
        let packed = seal_key_blob_with(&inner, &pass, &salt, iterations);
        let text = encode_key_blob_text(&packed);
        let back = KeyMaterial::from_key_blob_text(&text, &pass, !tam).unwrap();
        let again = back.to_msgpack();
        prop_assert_eq!(again.as_slice(), inner.as_slice());
        prop_assert_eq!(back.chunk_seed, cs);
        prop_assert_eq!(back.tam_required, tam);
        let wrong = format!("{pass}x");
        prop_assert!(matches!(
            KeyMaterial::from_key_blob_text(&text, &wrong, false),
            Err(CryptoError::WrongPassphrase)
        ));
        // Truncated blobs give a clear error, never a panic.
        for n in [0, 1, 10, packed.len() / 2, packed.len() - 1] {
            let e = open_key_blob(&packed[..n], &pass).unwrap_err();
            prop_assert!(matches!(e, CryptoError::KeyfileInvalid { .. }), "{}", e);
        }
    }
}
