//! Tertiary authentication of metadata (TAM) for the manifest and archives
//! (`KeyBase._tam_key`, `pack_and_authenticate_metadata`,
//! `unpack_and_verify_manifest`, `unpack_and_verify_archive`).

use hmac::Mac;
use oxiborg_msgpack::{decode_stream_item, encode_into, Encoder, MapBuilder, Value};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{CryptoError, Result};
use crate::key::Key;
use crate::primitives::{hkdf_hmac_sha512, hmac_sha512_state, random_array};

/// The only TAM suite borg knows.
pub const TAM_SUITE: &str = "HKDF_HMAC_SHA512";

/// Offset of the hmac bytes inside the packed tam map:
/// `83` map header, `a4 "hmac"` key, `da 00 40` raw16 header.
const TAM_HMAC_OFFSET: usize = 1 + 5 + 3;

/// TAM context for the manifest.
pub const CONTEXT_MANIFEST: &[u8] = b"manifest";
/// TAM context for archive metadata objects.
pub const CONTEXT_ARCHIVE: &[u8] = b"archive";

/// Result of unpacking TAM-protected metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedMetadata {
    /// The metadata map with the `tam` entry removed.
    pub value: Value,
    /// Whether a TAM was present and verified.
    pub verified: bool,
    /// The TAM salt when verified (borg returns it for archives so that
    /// `borg check` can re-pack with the same salt).
    pub salt: Option<Vec<u8>>,
}

fn invalid(context: &'static str) -> CryptoError {
    if context == "archive" {
        CryptoError::ArchiveTamInvalid
    } else {
        CryptoError::TamInvalid
    }
}

/// Unpack the first msgpack object of `data` (as borg's unpacker does;
/// trailing bytes are ignored) and require it to be a map.
fn unpack_map(data: &[u8], context: &'static str) -> Result<Value> {
    let (value, _) = decode_stream_item(data).map_err(|e| CryptoError::MetadataInvalid {
        context,
        reason: e.to_string(),
    })?;
    if value.as_map().is_none() {
        return Err(CryptoError::MetadataInvalid {
            context,
            reason: "not a map".into(),
        });
    }
    Ok(value)
}

/// Remove every `tam` entry from a map; returns the last one (Python dict
/// semantics: the last duplicate wins).
fn pop_tam(value: &mut Value) -> Option<Value> {
    let Value::Map(entries) = value else {
        return None;
    };
    let mut tam = None;
    entries.retain(|(k, v)| {
        if k.as_raw() == Some(b"tam") {
            tam = Some(v.clone());
            false
        } else {
            true
        }
    });
    tam
}

/// Unpack TAM-protected metadata without verifying anything, dropping the
/// `tam` entry (for callers implementing `BORG_WORKAROUNDS=ignore_invalid_archive_tam`
/// or `authenticated_no_key`).
pub fn unpack_metadata_unverified(data: &[u8]) -> Result<Value> {
    let mut value = unpack_map(data, "metadata")?;
    pop_tam(&mut value);
    Ok(value)
}

impl Key {
    /// The TAM key for `salt` and `context` (`b"manifest"` / `b"archive"`).
    ///
    /// Keyed types: `HKDF-SHA512(ikm = id_key || enc_key || enc_hmac_key,
    /// salt, info = "borg-metadata-authentication-" || context, 64)`.
    /// Plaintext: `salt || context` (integrity only).
    pub fn tam_key(&self, salt: &[u8], context: &[u8]) -> Zeroizing<Vec<u8>> {
        match self.material() {
            None => Zeroizing::new([salt, context].concat()),
            Some(m) => {
                let mut ikm = Zeroizing::new(Vec::with_capacity(
                    m.id_key.len() + 32 + m.enc_hmac_key.len(),
                ));
                ikm.extend_from_slice(&m.id_key);
                ikm.extend_from_slice(&m.enc_key);
                ikm.extend_from_slice(&m.enc_hmac_key);
                let info = [&b"borg-metadata-authentication-"[..], context].concat();
                let okm = hkdf_hmac_sha512(&ikm, salt, &info);
                Zeroizing::new(okm.to_vec())
            }
        }
    }

    /// Add a TAM to the metadata map `map` and pack it
    /// (`pack_and_authenticate_metadata`).
    ///
    /// Any existing `tam` entry is replaced by `{hmac: 64 zero bytes, salt,
    /// type: "HKDF_HMAC_SHA512"}`, the top-level keys are sorted (borg's
    /// `StableDict`), the map is packed, `HMAC-SHA512(tam_key, packed)` is
    /// computed and patched over the zero bytes. `salt` defaults to 64 random
    /// bytes. The result is what gets stored (and, for archives, what the
    /// archive id is computed over).
    pub fn pack_and_authenticate(
        &self,
        map: Value,
        context: &[u8],
        salt: Option<[u8; 64]>,
    ) -> Result<Vec<u8>> {
        let mut map = map;
        if map.as_map().is_none() {
            return Err(CryptoError::MetadataInvalid {
                context: "metadata",
                reason: "not a map".into(),
            });
        }
        let salt = match salt {
            Some(s) => s,
            None => random_array::<64>()?,
        };
        pop_tam(&mut map);
        let tam = MapBuilder::new()
            .insert("type", TAM_SUITE)
            .insert("hmac", &[0u8; 64][..])
            .insert("salt", &salt[..])
            .build();
        if let Value::Map(entries) = &mut map {
            entries.push((Value::raw("tam"), tam));
        }
        map.sort_map_keys();
        // Pack entry by entry to learn where the 64 placeholder bytes land:
        // the tam value is `83 a4 "hmac" da 00 40 <64 zero bytes> ...`.
        let mut packed = Vec::new();
        let mut hmac_pos = None;
        let entries = map.as_map().unwrap_or(&[]);
        Encoder::new(&mut packed).map_header(entries.len());
        for (k, v) in entries {
            encode_into(k, &mut packed);
            if k.as_raw() == Some(b"tam") {
                hmac_pos = Some(packed.len() + TAM_HMAC_OFFSET);
            }
            encode_into(v, &mut packed);
        }
        let pos = hmac_pos
            .filter(|&p| packed.get(p..p + 64) == Some(&[0u8; 64][..]))
            .ok_or_else(|| CryptoError::MetadataInvalid {
                context: "metadata",
                reason: "TAM placeholder not found after packing".into(),
            })?;
        let mut mac = hmac_sha512_state(&self.tam_key(&salt, context));
        mac.update(&packed);
        let hmac: [u8; 64] = mac.finalize().into_bytes().into();
        packed[pos..pos + 64].copy_from_slice(&hmac);
        Ok(packed)
    }

    /// Unpack and verify the manifest plaintext (`unpack_and_verify_manifest`).
    ///
    /// A TAM is required when this key requires it and `force_tam_not_required`
    /// is false. Errors: [`CryptoError::UnsupportedManifest`] (`c1 c1 c1 c1`
    /// prefix), [`CryptoError::TamRequired`], [`CryptoError::TamUnsupportedSuite`],
    /// [`CryptoError::TamInvalid`]. Verification works on the exact bytes
    /// given (never re-encoded).
    pub fn unpack_and_verify_manifest(
        &self,
        data: &[u8],
        force_tam_not_required: bool,
    ) -> Result<VerifiedMetadata> {
        if data.starts_with(&[0xc1; 4]) {
            return Err(CryptoError::UnsupportedManifest);
        }
        let required = self.tam_required() && !force_tam_not_required;
        self.unpack_and_verify(data, required, "manifest", CONTEXT_MANIFEST)
    }

    /// Unpack and verify an archive metadata object (`unpack_and_verify_archive`).
    ///
    /// Normal reads pass `force_tam_not_required = true` (a missing TAM is
    /// tolerated, an invalid one is not); `borg check` passes false.
    /// Errors: [`CryptoError::ArchiveTamRequired`] (naming the archive),
    /// [`CryptoError::TamUnsupportedSuite`], [`CryptoError::ArchiveTamInvalid`].
    pub fn unpack_and_verify_archive(
        &self,
        data: &[u8],
        force_tam_not_required: bool,
    ) -> Result<VerifiedMetadata> {
        let required = self.tam_required() && !force_tam_not_required;
        self.unpack_and_verify(data, required, "archive", CONTEXT_ARCHIVE)
    }

    fn unpack_and_verify(
        &self,
        data: &[u8],
        required: bool,
        context_name: &'static str,
        context: &[u8],
    ) -> Result<VerifiedMetadata> {
        let mut value = unpack_map(data, context_name)?;
        let unverified = |value| {
            Ok(VerifiedMetadata {
                value,
                verified: false,
                salt: None,
            })
        };
        let Some(tam) = pop_tam(&mut value) else {
            if required {
                return Err(if context_name == "archive" {
                    let name = value
                        .get("name")
                        .and_then(Value::as_raw)
                        .unwrap_or(b"<unknown>");
                    CryptoError::ArchiveTamRequired {
                        name: ascii_replace(name),
                    }
                } else {
                    CryptoError::TamRequired
                });
            }
            return unverified(value);
        };
        if tam.as_map().is_none() {
            return Err(invalid(context_name));
        }
        let suite = match tam.get("type") {
            None => "<none>".to_string(),
            Some(Value::Raw(t)) => ascii_replace(t),
            Some(other) => format!("{other:?}"),
        };
        if suite != TAM_SUITE {
            if required {
                return Err(CryptoError::TamUnsupportedSuite {
                    context: context_name,
                    suite,
                });
            }
            return unverified(value);
        }
        let (Some(Value::Raw(hmac)), Some(Value::Raw(salt))) = (tam.get("hmac"), tam.get("salt"))
        else {
            return Err(invalid(context_name));
        };
        // borg zeroes 64 bytes at the first occurrence of the hmac and
        // compares digests; any hmac that is not 64 bytes cannot match.
        if hmac.len() != 64 {
            return Err(invalid(context_name));
        }
        let offset = find(data, hmac).ok_or_else(|| invalid(context_name))?;
        let mut mac = hmac_sha512_state(&self.tam_key(salt, context));
        mac.update(&data[..offset]);
        mac.update(&[0u8; 64]);
        mac.update(&data[offset + 64..]);
        let computed: [u8; 64] = mac.finalize().into_bytes().into();
        if !bool::from(computed.ct_eq(hmac.as_slice())) {
            return Err(invalid(context_name));
        }
        Ok(VerifiedMetadata {
            value,
            verified: true,
            salt: Some(salt.clone()),
        })
    }
}

/// Python's `bytes.decode('ascii', 'replace')`.
fn ascii_replace(b: &[u8]) -> String {
    b.iter()
        .map(|&c| if c.is_ascii() { c as char } else { '\u{fffd}' })
        .collect()
}

/// First occurrence of `needle` (non-empty) in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    let first = needle[0];
    (0..=haystack.len() - needle.len())
        .filter(|&i| haystack[i] == first)
        .find(|&i| &haystack[i..i + needle.len()] == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{Key, KeyMaterial};
    use crate::KeyType;
    use oxiborg_msgpack::encode;

    fn seq(start: u8, n: usize) -> Vec<u8> {
        (0..n).map(|i| start.wrapping_add(i as u8)).collect()
    }

    fn a4_key() -> Key {
        let mut enc_key = [0u8; 32];
        enc_key.copy_from_slice(&seq(0, 32));
        Key::new(
            KeyType::Repokey,
            KeyMaterial {
                enc_key,
                enc_hmac_key: seq(0x20, 32),
                id_key: seq(0x40, 32),
                chunk_seed: 0,
                repository_id: [0; 32],
                tam_required: true,
            },
        )
        .unwrap()
    }

    fn a4_salt() -> [u8; 64] {
        let mut s = [0u8; 64];
        s.copy_from_slice(&seq(100, 64));
        s
    }

    fn a4_input() -> Value {
        MapBuilder::new()
            .insert("version", 1u32)
            .insert("name", "test")
            .build()
    }

    /// Spec A.4.
    #[test]
    fn a4_vectors() {
        let key = a4_key();
        assert_eq!(
            hex::encode(key.tam_key(&a4_salt(), b"manifest").as_slice()),
            "504c940bafc7192f846bee71188e6ed0d2677582e52610f476577529f75459fec7c4eb4d1a25eda41bfbd99e7283ee429a8600dd7f7226df4dcac869e6405319"
        );
        let packed = key
            .pack_and_authenticate(a4_input(), CONTEXT_ARCHIVE, Some(a4_salt()))
            .unwrap();
        let expected = format!(
            "83a46e616d65a474657374a374616d83a4686d6163da0040{}a473616c74da0040{}a474797065b0484b44465f484d41435f534841353132a776657273696f6e01",
            "4f1956ab98ef3ae845d68d1742c92dfc9521601e377af43988334a87acec0c9353ac96c43832904b333c2304628458e0adfe9320feef8572081716e25b6d9aa0",
            hex::encode(a4_salt())
        );
        assert_eq!(hex::encode(&packed), expected);
        assert_eq!(packed.len(), 191);
        let v = key.unpack_and_verify_archive(&packed, false).unwrap();
        assert!(v.verified);
        assert_eq!(v.value, a4_input());
        assert_eq!(v.salt.as_deref(), Some(&a4_salt()[..]));
        // Wrong context fails.
        assert!(matches!(
            key.unpack_and_verify_manifest(&packed, false),
            Err(CryptoError::TamInvalid)
        ));

        let p = Key::plaintext();
        let packed = p
            .pack_and_authenticate(a4_input(), CONTEXT_ARCHIVE, Some(a4_salt()))
            .unwrap();
        assert_eq!(
            hex::encode(&packed[24..88]),
            "e643ba39b390ac2e4dc4f3f00cd1117a819e1b3aca3e1004e4e24d48c6cd5f600a4846cb4fcbe13137ee0ca9f037d268280a84bb8672cb35452fbbe9eb2d673e"
        );
        assert!(
            p.unpack_and_verify_archive(&packed, false)
                .unwrap()
                .verified
        );
    }

    #[test]
    fn requirements() {
        let key = a4_key();
        let bare = encode(&a4_input());
        assert!(matches!(
            key.unpack_and_verify_manifest(&bare, false),
            Err(CryptoError::TamRequired)
        ));
        let v = key.unpack_and_verify_manifest(&bare, true).unwrap();
        assert!(!v.verified);
        let e = key.unpack_and_verify_archive(&bare, false).unwrap_err();
        assert!(matches!(&e, CryptoError::ArchiveTamRequired { name } if name == "test"));
        assert!(!key.unpack_and_verify_archive(&bare, true).unwrap().verified);
        // Plaintext keys never require TAM.
        assert!(
            !Key::plaintext()
                .unpack_and_verify_manifest(&bare, false)
                .unwrap()
                .verified
        );

        // Unsupported suite.
        let odd = MapBuilder::new()
            .insert("version", 1u32)
            .insert("tam", MapBuilder::new().insert("type", "FOO").build())
            .build();
        let odd = encode(&odd);
        assert!(matches!(
            key.unpack_and_verify_manifest(&odd, false),
            Err(CryptoError::TamUnsupportedSuite { .. })
        ));
        let v = key.unpack_and_verify_manifest(&odd, true).unwrap();
        assert!(!v.verified && v.value.get("tam").is_none());
        // tam not a map.
        let bad = encode(&MapBuilder::new().insert("tam", 3u32).build());
        assert!(matches!(
            key.unpack_and_verify_manifest(&bad, true),
            Err(CryptoError::TamInvalid)
        ));
        assert!(matches!(
            key.unpack_and_verify_archive(&bad, true),
            Err(CryptoError::ArchiveTamInvalid)
        ));
        // hmac missing.
        let bad = encode(
            &MapBuilder::new()
                .insert("tam", MapBuilder::new().insert("type", TAM_SUITE).build())
                .build(),
        );
        assert!(matches!(
            key.unpack_and_verify_manifest(&bad, true),
            Err(CryptoError::TamInvalid)
        ));
        assert!(matches!(
            key.unpack_and_verify_manifest(b"\xc1\xc1\xc1\xc1", false),
            Err(CryptoError::UnsupportedManifest)
        ));
        assert!(matches!(
            key.unpack_and_verify_manifest(b"\x93\x01\x02\x03", false),
            Err(CryptoError::MetadataInvalid { .. })
        ));
        assert!(key.unpack_and_verify_manifest(b"", false).is_err());
    }

    #[test]
    fn tamper_any_byte() {
        let key = a4_key();
        let m = MapBuilder::new()
            .insert("version", 1u32)
            .insert("timestamp", "2024-01-01T00:00:00.000000")
            .insert(
                "config",
                MapBuilder::new().insert("tam_required", true).build(),
            )
            .build();
        let packed = key
            .pack_and_authenticate(m, CONTEXT_MANIFEST, None)
            .unwrap();
        assert!(
            key.unpack_and_verify_manifest(&packed, false)
                .unwrap()
                .verified
        );
        for i in 0..packed.len() {
            let mut t = packed.clone();
            t[i] ^= 0x01;
            // Either it no longer parses, or the TAM fails / is gone.
            if let Ok(v) = key.unpack_and_verify_manifest(&t, false) {
                panic!("byte {i} tampered but verified: {v:?}");
            }
        }
        // Trailing bytes are authenticated too (borg hashes the whole buffer).
        let mut t = packed.clone();
        t.push(0);
        assert!(key.unpack_and_verify_manifest(&t, false).is_err());
    }

    #[test]
    fn replaces_existing_tam_and_sorts() {
        let key = a4_key();
        let m = Value::Map(vec![
            (Value::raw("zeta"), Value::Int(1)),
            (Value::raw("tam"), Value::Int(5)),
            (Value::raw("alpha"), Value::Int(2)),
        ]);
        let packed = key.pack_and_authenticate(m, CONTEXT_ARCHIVE, None).unwrap();
        let v = key.unpack_and_verify_archive(&packed, false).unwrap();
        assert!(v.verified);
        assert_eq!(
            v.value,
            MapBuilder::new()
                .insert("alpha", 2u32)
                .insert("zeta", 1u32)
                .build()
        );
        assert!(key
            .pack_and_authenticate(Value::Int(1), CONTEXT_ARCHIVE, None)
            .is_err());
        assert_eq!(unpack_metadata_unverified(&packed).unwrap(), v.value);
    }
}
