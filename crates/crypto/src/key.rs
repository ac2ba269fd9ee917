//! Key material, id hashes and the object envelope (`AESKeyBase`,
//! `PlaintextKey`, `AuthenticatedKeyBase`, `low_level.AES256_CTR_*`).

use std::fmt;

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use hmac::Mac;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{id_str, CryptoError, Result};
use crate::key_type::KeyType;
use crate::primitives::{
    self, blake2b_256, blake2b_256_many, counter_block, hmac_sha256, random_array, sha256,
    Aes256Ctr,
};

/// Size of the encrypted envelope header: type byte, 32-byte MAC, 8-byte IV
/// (`AESKeyBase.PAYLOAD_OVERHEAD`).
pub const PAYLOAD_OVERHEAD: usize = 1 + 32 + 8;

const MAC_RANGE: std::ops::Range<usize> = 1..33;
const IV_RANGE: std::ops::Range<usize> = 33..41;

/// The secret parts of a borg key, as stored in the (inner) key blob.
///
/// Zeroized on drop. `Debug` does not show secrets.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KeyMaterial {
    /// AES-256 key for object encryption.
    pub enc_key: [u8; 32],
    /// MAC key: 32 bytes (HMAC types) or 128 bytes (BLAKE2 types: 64 random
    /// bytes, then 64 zero bytes).
    pub enc_hmac_key: Vec<u8>,
    /// Chunk-id key: 32 or 128 bytes, like `enc_hmac_key`.
    pub id_key: Vec<u8>,
    /// Buzhash chunker seed (signed 32-bit).
    pub chunk_seed: i32,
    /// The repository's 32-byte id.
    pub repository_id: [u8; 32],
    /// Whether a valid manifest TAM is required (`tam_required`).
    pub tam_required: bool,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("enc_key", &"<secret>")
            .field(
                "enc_hmac_key",
                &format_args!("<{} secret bytes>", self.enc_hmac_key.len()),
            )
            .field(
                "id_key",
                &format_args!("<{} secret bytes>", self.id_key.len()),
            )
            .field("chunk_seed", &self.chunk_seed)
            .field("repository_id", &hex::encode(self.repository_id))
            .field("tam_required", &self.tam_required)
            .finish()
    }
}

/// borg's `random_blake2b_256_key()`: 64 random bytes followed by 64 zero bytes.
fn random_blake2b_256_key() -> Result<Vec<u8>> {
    let mut r = Zeroizing::new(random_array::<64>()?);
    let mut k = Vec::with_capacity(128);
    k.extend_from_slice(r.as_ref());
    k.extend_from_slice(&[0u8; 64]);
    r.zeroize();
    Ok(k)
}

impl KeyMaterial {
    /// Fresh key material for a new repository, exactly as borg makes it
    /// (`AESKeyBase.init_from_random_data`, `ID_BLAKE2b_256.init_from_random_data`):
    /// 100 random bytes split into `enc_key`, `enc_hmac_key`, `id_key` and a
    /// signed big-endian `chunk_seed`; BLAKE2 types then replace `enc_hmac_key`
    /// and `id_key` with 64 random + 64 zero bytes each. `tam_required` is true.
    ///
    /// Fails for `none` (no key material) and the legacy passphrase mode.
    pub fn generate(key_type: KeyType, repository_id: [u8; 32]) -> Result<KeyMaterial> {
        match key_type {
            KeyType::Plaintext => {
                return Err(CryptoError::UnsupportedKeyType {
                    key_type: key_type.name(),
                    what: "has no key material",
                })
            }
            KeyType::LegacyPassphrase => {
                return Err(CryptoError::UnsupportedKeyType {
                    key_type: key_type.name(),
                    what: "cannot be created (unsupported since borg 1.0)",
                })
            }
            _ => {}
        }
        let r = Zeroizing::new(random_array::<100>()?);
        let mut enc_key = [0u8; 32];
        enc_key.copy_from_slice(&r[0..32]);
        let mut m = KeyMaterial {
            enc_key,
            enc_hmac_key: r[32..64].to_vec(),
            id_key: r[64..96].to_vec(),
            chunk_seed: i32::from_be_bytes([r[96], r[97], r[98], r[99]]),
            repository_id,
            tam_required: true,
        };
        enc_key.zeroize();
        if key_type.is_blake2() {
            m.enc_hmac_key.zeroize();
            m.enc_hmac_key = random_blake2b_256_key()?;
            m.id_key.zeroize();
            m.id_key = random_blake2b_256_key()?;
        }
        Ok(m)
    }

    /// The key material of a legacy `passphrase`-mode repository (borg < 1.0,
    /// `PassphraseKey.init`): 100 bytes of PBKDF2-HMAC-SHA256(passphrase,
    /// salt = repository id, 100 000 iterations) split like
    /// [`KeyMaterial::generate`]'s random bytes. `tam_required` is false
    /// (borg's `PassphraseKey.init`).
    pub fn from_legacy_passphrase(passphrase: &str, repository_id: [u8; 32]) -> KeyMaterial {
        let mut r = Zeroizing::new([0u8; 100]);
        crate::primitives::pbkdf2_sha256_into(
            passphrase.as_bytes(),
            &repository_id,
            crate::keyblob::PBKDF2_ITERATIONS,
            r.as_mut(),
        );
        let mut enc_key = [0u8; 32];
        enc_key.copy_from_slice(&r[0..32]);
        let m = KeyMaterial {
            enc_key,
            enc_hmac_key: r[32..64].to_vec(),
            id_key: r[64..96].to_vec(),
            chunk_seed: i32::from_be_bytes([r[96], r[97], r[98], r[99]]),
            repository_id,
            tam_required: false,
        };
        enc_key.zeroize();
        m
    }
}

/// A loaded key: its type plus (for every type but `none`) its material.
///
/// Provides chunk ids, object envelopes and (in [`crate::tam`]) metadata
/// authentication.
#[derive(Clone)]
pub struct Key {
    key_type: KeyType,
    material: Option<KeyMaterial>,
    /// Cached AES key schedule (encrypted types only); zeroized on drop.
    aes: Option<aes::Aes256>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("key_type", &self.key_type)
            .field("material", &self.material)
            .finish()
    }
}

impl Key {
    /// The key of a `none` (plaintext) repository.
    pub fn plaintext() -> Key {
        Key {
            key_type: KeyType::Plaintext,
            material: None,
            aes: None,
        }
    }

    /// A key of `key_type` with `material`.
    ///
    /// Fails for `none` (use [`Key::plaintext`]), for the legacy passphrase
    /// mode (open such repositories as `repokey`), and for empty MAC/id keys.
    pub fn new(key_type: KeyType, material: KeyMaterial) -> Result<Key> {
        match key_type {
            KeyType::Plaintext => {
                return Err(CryptoError::UnsupportedKeyType {
                    key_type: key_type.name(),
                    what: "takes no key material",
                })
            }
            KeyType::LegacyPassphrase => {
                return Err(CryptoError::UnsupportedKeyType {
                    key_type: key_type.name(),
                    what: "is only readable as repokey",
                })
            }
            _ => {}
        }
        if material.id_key.is_empty() || material.enc_hmac_key.is_empty() {
            return Err(CryptoError::InvalidKeyMaterial(
                "empty id_key or enc_hmac_key".into(),
            ));
        }
        let aes = key_type
            .is_encrypted()
            .then(|| aes::Aes256::new(&material.enc_key.into()));
        Ok(Key {
            key_type,
            material: Some(material),
            aes,
        })
    }

    /// A new key with fresh material ([`KeyMaterial::generate`]);
    /// `none` gives [`Key::plaintext`].
    pub fn generate(key_type: KeyType, repository_id: [u8; 32]) -> Result<Key> {
        if key_type == KeyType::Plaintext {
            return Ok(Key::plaintext());
        }
        Key::new(key_type, KeyMaterial::generate(key_type, repository_id)?)
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The key material (`None` for plaintext).
    pub fn material(&self) -> Option<&KeyMaterial> {
        self.material.as_ref()
    }

    /// The buzhash chunker seed (0 for plaintext).
    pub fn chunk_seed(&self) -> i32 {
        self.material.as_ref().map_or(0, |m| m.chunk_seed)
    }

    /// Whether this key requires a valid manifest TAM (false for plaintext).
    pub fn tam_required(&self) -> bool {
        self.material.as_ref().is_some_and(|m| m.tam_required)
    }

    /// The chunk id of `data` (`key.id_hash`): SHA-256 for plaintext,
    /// HMAC-SHA256(id_key) or borg's BLAKE2b-256(id_key || data).
    pub fn id_hash(&self, data: &[u8]) -> [u8; 32] {
        match &self.material {
            None => sha256(data),
            Some(m) if self.key_type.is_blake2() => blake2b_256(&m.id_key, data),
            Some(m) => hmac_sha256(&m.id_key, data),
        }
    }

    /// [`Key::id_hash`] of each of `data`: the same ids, computed several
    /// at a time where the hash allows it (BLAKE2b).
    pub fn id_hash_many(&self, data: &[&[u8]]) -> Vec<[u8; 32]> {
        match &self.material {
            Some(m) if self.key_type.is_blake2() && data.len() > 1 => {
                blake2b_256_many(&m.id_key, data)
            }
            _ => data.iter().map(|d| self.id_hash(d)).collect(),
        }
    }

    /// [`Key::assert_id`] for each pair of `ids` and `plaintexts`, hashed
    /// several at a time; the first mismatch is the error.
    pub fn assert_ids(&self, ids: &[[u8; 32]], plaintexts: &[&[u8]]) -> Result<()> {
        let computed = self.id_hash_many(plaintexts);
        for (c, id) in computed.iter().zip(ids) {
            if !bool::from(c.ct_eq(id)) {
                return Err(CryptoError::IdMismatch {
                    id: hex::encode(id),
                });
            }
        }
        Ok(())
    }

    /// Check in constant time that `plaintext` hashes to `id`
    /// (`KeyBase.assert_id`).
    pub fn assert_id(&self, id: &[u8; 32], plaintext: &[u8]) -> Result<()> {
        let computed = self.id_hash(plaintext);
        if bool::from(computed.ct_eq(id)) {
            Ok(())
        } else {
            Err(CryptoError::IdMismatch {
                id: hex::encode(id),
            })
        }
    }

    /// The envelope MAC over `iv || ciphertext` (the envelope from byte 33 on).
    fn mac(&self, m: &KeyMaterial, covered: &[u8]) -> [u8; 32] {
        if self.key_type.is_blake2() {
            blake2b_256(&m.enc_hmac_key, covered)
        } else {
            let mut h = primitives::hmac_sha256_state(&m.enc_hmac_key);
            h.update(covered);
            h.finalize().into_bytes().into()
        }
    }

    /// [`Key::mac`] of each of `covered`, several at a time for BLAKE2b.
    fn mac_many(&self, m: &KeyMaterial, covered: &[&[u8]]) -> Vec<[u8; 32]> {
        if self.key_type.is_blake2() && covered.len() > 1 {
            blake2b_256_many(&m.enc_hmac_key, covered)
        } else {
            covered.iter().map(|c| self.mac(m, c)).collect()
        }
    }

    fn ctr(&self, iv: u64) -> Option<Aes256Ctr> {
        self.aes.as_ref().map(|aes| {
            Aes256Ctr::from_core(ctr::CtrCore::inner_iv_init(
                aes.clone(),
                &counter_block(iv).into(),
            ))
        })
    }

    /// Build the repository envelope for an already compressed object.
    ///
    /// Encrypted types: `type || MAC || IV (8, BE) || AES-256-CTR(compressed)`
    /// with the MAC over `IV || ciphertext`; `iv` must come from the nonce
    /// manager ([`crate::NonceManager`]) and the object uses
    /// [`num_cipher_blocks`]`(compressed.len())` counter values.
    /// Plaintext and authenticated types: `type || compressed` (`iv` unused).
    pub fn encrypt(&self, iv: u64, compressed: &[u8]) -> Vec<u8> {
        let type_byte = self.key_type.type_byte();
        let (Some(m), Some(mut ctr)) = (&self.material, self.ctr(iv)) else {
            let mut out = Vec::with_capacity(1 + compressed.len());
            out.push(type_byte);
            out.extend_from_slice(compressed);
            return out;
        };
        let mut out = Vec::with_capacity(PAYLOAD_OVERHEAD + compressed.len());
        out.push(type_byte);
        out.extend_from_slice(&[0u8; 32]);
        out.extend_from_slice(&iv.to_be_bytes());
        out.extend_from_slice(compressed);
        ctr.apply_keystream(&mut out[PAYLOAD_OVERHEAD..]);
        let mac = self.mac(m, &out[IV_RANGE.start..]);
        out[MAC_RANGE].copy_from_slice(&mac);
        out
    }

    /// [`Key::decrypt`] without a copy: check `envelope` and decrypt it in
    /// place; returns where the compressed payload lies in it.
    pub fn decrypt_in_place(
        &self,
        id: Option<&[u8; 32]>,
        envelope: &mut [u8],
    ) -> Result<std::ops::Range<usize>> {
        let found = envelope.first().copied();
        if !found.is_some_and(|b| self.key_type.accepts_envelope_byte(b)) {
            return Err(CryptoError::InvalidEnvelope {
                id: id_str(id),
                expected: self.key_type.type_byte(),
                found: found.map_or_else(|| "none".to_string(), |b| format!("0x{b:02x}")),
            });
        }
        let (Some(m), Some(_)) = (&self.material, &self.aes) else {
            return Ok(1..envelope.len());
        };
        if envelope.len() < PAYLOAD_OVERHEAD {
            return Err(CryptoError::EnvelopeTooShort {
                id: id_str(id),
                len: envelope.len(),
            });
        }
        let mac = self.mac(m, &envelope[IV_RANGE.start..]);
        if !bool::from(mac.ct_eq(&envelope[MAC_RANGE])) {
            return Err(CryptoError::MacMismatch { id: id_str(id) });
        }
        let iv = read_iv(envelope);
        if let Some(mut ctr) = self.ctr(iv) {
            ctr.apply_keystream(&mut envelope[PAYLOAD_OVERHEAD..]);
        }
        Ok(PAYLOAD_OVERHEAD..envelope.len())
    }

    /// [`Key::decrypt_in_place`] on each of `envelopes` (`ids` name them in
    /// errors), with the MACs computed several at a time: one result per
    /// envelope, and an envelope whose check fails is left as it was.
    pub fn decrypt_many_in_place(
        &self,
        ids: &[[u8; 32]],
        envelopes: &mut [&mut [u8]],
    ) -> Vec<Result<std::ops::Range<usize>>> {
        let (Some(m), Some(_)) = (&self.material, &self.aes) else {
            return ids
                .iter()
                .zip(envelopes.iter_mut())
                .map(|(id, e)| self.decrypt_in_place(Some(id), e))
                .collect();
        };
        let mut results: Vec<Result<std::ops::Range<usize>>> = Vec::with_capacity(ids.len());
        for (id, envelope) in ids.iter().zip(envelopes.iter()) {
            let found = envelope.first().copied();
            results.push(
                if !found.is_some_and(|b| self.key_type.accepts_envelope_byte(b)) {
                    Err(CryptoError::InvalidEnvelope {
                        id: id_str(Some(id)),
                        expected: self.key_type.type_byte(),
                        found: found.map_or_else(|| "none".to_string(), |b| format!("0x{b:02x}")),
                    })
                } else if envelope.len() < PAYLOAD_OVERHEAD {
                    Err(CryptoError::EnvelopeTooShort {
                        id: id_str(Some(id)),
                        len: envelope.len(),
                    })
                } else {
                    Ok(PAYLOAD_OVERHEAD..envelope.len())
                },
            );
        }
        let covered: Vec<&[u8]> = envelopes
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.is_ok())
            .map(|(e, _)| &e[IV_RANGE.start..])
            .collect();
        let mut macs = self.mac_many(m, &covered).into_iter();
        for ((id, envelope), result) in ids.iter().zip(envelopes.iter_mut()).zip(&mut results) {
            if result.is_err() {
                continue;
            }
            let mac = macs.next().unwrap_or_default();
            if !bool::from(mac.ct_eq(&envelope[MAC_RANGE])) {
                *result = Err(CryptoError::MacMismatch {
                    id: id_str(Some(id)),
                });
                continue;
            }
            let iv = read_iv(envelope);
            if let Some(mut ctr) = self.ctr(iv) {
                ctr.apply_keystream(&mut envelope[PAYLOAD_OVERHEAD..]);
            }
        }
        results
    }

    /// [`Key::encrypt_in_place`] on each `(iv, buffer)`, with the MACs
    /// computed several at a time: byte for byte the same envelopes.
    pub fn encrypt_many_in_place(&self, bufs: &mut [(u64, &mut [u8])]) {
        let type_byte = self.key_type.type_byte();
        let Some(m) = &self.material else {
            for (_, buf) in bufs.iter_mut() {
                buf[0] = type_byte;
            }
            return;
        };
        if self.aes.is_none() {
            for (_, buf) in bufs.iter_mut() {
                buf[0] = type_byte;
            }
            return;
        }
        for (iv, buf) in bufs.iter_mut() {
            buf[0] = type_byte;
            buf[IV_RANGE].copy_from_slice(&iv.to_be_bytes());
            if let Some(mut ctr) = self.ctr(*iv) {
                ctr.apply_keystream(&mut buf[PAYLOAD_OVERHEAD..]);
            }
        }
        let covered: Vec<&[u8]> = bufs.iter().map(|(_, b)| &b[IV_RANGE.start..]).collect();
        let macs = self.mac_many(m, &covered);
        for ((_, buf), mac) in bufs.iter_mut().zip(macs) {
            buf[MAC_RANGE].copy_from_slice(&mac);
        }
    }

    /// Bytes to leave free at the start of a buffer for
    /// [`Key::encrypt_in_place`].
    pub fn envelope_headroom(&self) -> usize {
        if self.material.is_some() && self.aes.is_some() {
            PAYLOAD_OVERHEAD
        } else {
            1
        }
    }

    /// [`Key::encrypt`] without a copy: `buf` holds
    /// [`Key::envelope_headroom`] bytes (any content), then the compressed
    /// payload; afterwards it is the envelope, byte for byte what
    /// `encrypt` returns.
    pub fn encrypt_in_place(&self, iv: u64, buf: &mut [u8]) {
        let type_byte = self.key_type.type_byte();
        let (Some(m), Some(mut ctr)) = (&self.material, self.ctr(iv)) else {
            buf[0] = type_byte;
            return;
        };
        buf[0] = type_byte;
        buf[IV_RANGE].copy_from_slice(&iv.to_be_bytes());
        ctr.apply_keystream(&mut buf[PAYLOAD_OVERHEAD..]);
        let mac = self.mac(m, &buf[IV_RANGE.start..]);
        buf[MAC_RANGE].copy_from_slice(&mac);
    }

    /// Check and open an envelope, returning the compressed payload
    /// (`key.decrypt(id, data, decompress=False)`).
    ///
    /// The type byte must belong to this key (repokey types also accept the
    /// legacy `0x01`); encrypted envelopes are MAC-verified in constant time
    /// before decryption. `id` only serves to name the object in errors;
    /// after decompressing, call [`Key::assert_id`].
    pub fn decrypt(&self, id: Option<&[u8; 32]>, envelope: &[u8]) -> Result<Vec<u8>> {
        let mut buf = envelope.to_vec();
        let payload = self.decrypt_in_place(id, &mut buf)?;
        buf.drain(..payload.start);
        Ok(buf)
    }
}

fn read_iv(envelope: &[u8]) -> u64 {
    let mut iv = [0u8; 8];
    iv.copy_from_slice(&envelope[IV_RANGE]);
    u64::from_be_bytes(iv)
}

/// Counter values an object of `len` compressed bytes uses: `ceil(len / 16)`.
pub use primitives::num_cipher_blocks;

/// The IV (low 64 counter bits) stored in an encrypted envelope
/// (`AES256_CTR_BASE.extract_iv`).
pub fn extract_iv(envelope: &[u8]) -> Result<u64> {
    if envelope.len() < IV_RANGE.end {
        return Err(CryptoError::EnvelopeTooShort {
            id: "(unknown)".into(),
            len: envelope.len(),
        });
    }
    Ok(read_iv(envelope))
}

/// The counter to start at after loading the manifest envelope `envelope`
/// (`AESKeyBase.init_ciphers`): `IV + ceil(len(envelope) / 16)`, a safe upper
/// bound for the blocks the manifest used.
pub fn manifest_nonce(envelope: &[u8]) -> Result<u64> {
    extract_iv(envelope)?
        .checked_add(num_cipher_blocks(envelope.len()))
        .ok_or(CryptoError::NonceSpaceExhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn seq(start: u8, n: usize) -> Vec<u8> {
        (0..n).map(|i| start.wrapping_add(i as u8)).collect()
    }

    pub(crate) fn test_material(blake2: bool) -> KeyMaterial {
        let mut enc_key = [0u8; 32];
        enc_key.copy_from_slice(&seq(0, 32));
        let (hmac, id) = if blake2 {
            let mut h = seq(0, 64);
            h.extend([0u8; 64]);
            let mut i = seq(0x40, 64);
            i.extend([0u8; 64]);
            (h, i)
        } else {
            (seq(0x20, 32), seq(0x40, 32))
        };
        KeyMaterial {
            enc_key,
            enc_hmac_key: hmac,
            id_key: id,
            chunk_seed: -5,
            repository_id: [9u8; 32],
            tam_required: true,
        }
    }

    const C: &[u8] = b"\x00\x00hello borg";

    /// Spec A.2, HMAC envelope.
    #[test]
    fn envelope_vector_hmac() {
        let key = Key::new(KeyType::Repokey, test_material(false)).unwrap();
        let env = key.encrypt(0x0102030405060708, C);
        assert_eq!(
            hex::encode(&env),
            "03\
             43c9fd5c7e19fdde99558cc2089c24c646931ec439725e067861a6ecd971d1ba\
             0102030405060708\
             5e85e2f07038a3472c447553"
        );
        assert_eq!(key.decrypt(None, &env).unwrap(), C);
        assert_eq!(
            0x0102030405060708 + num_cipher_blocks(C.len()),
            0x0102030405060709
        );
        assert_eq!(extract_iv(&env).unwrap(), 0x0102030405060708);
        assert_eq!(manifest_nonce(&env).unwrap(), 0x0102030405060708 + 4);
    }

    /// Spec A.2, BLAKE2 envelope.
    #[test]
    fn envelope_vector_blake2() {
        let key = Key::new(KeyType::Blake2Repokey, test_material(true)).unwrap();
        let env = key.encrypt(0x0102030405060708, C);
        assert_eq!(
            hex::encode(&env),
            "05\
             2cfa14c4447cbd96ed3af0c6335a54ad5d1078ef57f2a292b76de2841f12d3a4\
             0102030405060708\
             5e85e2f07038a3472c447553"
        );
        assert_eq!(key.decrypt(None, &env).unwrap(), C);
    }

    #[test]
    fn batch_functions_equal_one_by_one() {
        let payloads: Vec<Vec<u8>> = vec![
            Vec::new(),
            C.to_vec(),
            seq(3, 5000),
            vec![7u8; 300_000],
            seq(9, 129),
            seq(1, 128),
        ];
        for kt in KeyType::CREATABLE {
            let key = if kt == KeyType::Plaintext {
                Key::plaintext()
            } else {
                Key::new(kt, test_material(kt.is_blake2())).unwrap()
            };
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            let ids = key.id_hash_many(&refs);
            let one: Vec<[u8; 32]> = refs.iter().map(|p| key.id_hash(p)).collect();
            assert_eq!(ids, one, "{kt:?}");
            key.assert_ids(&ids, &refs).unwrap();
            let mut wrong = ids.clone();
            wrong[3][0] ^= 1;
            assert!(matches!(
                key.assert_ids(&wrong, &refs),
                Err(CryptoError::IdMismatch { id }) if id == hex::encode(wrong[3])
            ));
            // Encrypt in a batch: the same envelopes as one by one.
            let mut bufs: Vec<Vec<u8>> = payloads
                .iter()
                .map(|p| {
                    let mut b = vec![0xEEu8; key.envelope_headroom()];
                    b.extend_from_slice(p);
                    b
                })
                .collect();
            {
                let mut batch: Vec<(u64, &mut [u8])> = bufs
                    .iter_mut()
                    .enumerate()
                    .map(|(i, b)| (1000 * i as u64, b.as_mut_slice()))
                    .collect();
                key.encrypt_many_in_place(&mut batch);
            }
            for (i, (b, p)) in bufs.iter().zip(&payloads).enumerate() {
                assert_eq!(*b, key.encrypt(1000 * i as u64, p), "{kt:?} {i}");
            }
            // Decrypt in a batch, with a broken MAC, a bad type byte and a
            // short envelope among good ones.
            let mut envs = bufs.clone();
            if kt.is_encrypted() {
                envs[2][1] ^= 1;
                envs[4].truncate(PAYLOAD_OVERHEAD - 1);
            }
            envs[5][0] = 0x77;
            let orig = envs.clone();
            let results = {
                let mut slices: Vec<&mut [u8]> = envs.iter_mut().map(Vec::as_mut_slice).collect();
                key.decrypt_many_in_place(&ids, &mut slices)
            };
            for (i, r) in results.into_iter().enumerate() {
                let mut single = orig[i].clone();
                let want = key.decrypt_in_place(Some(&ids[i]), &mut single);
                match (r, want) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a, b.clone(), "{kt:?} {i}");
                        assert_eq!(&envs[i][a], &payloads[i][..], "{kt:?} {i}");
                    }
                    (Err(a), Err(b)) => {
                        assert_eq!(a.to_string(), b.to_string(), "{kt:?} {i}");
                        assert_eq!(envs[i], orig[i], "{kt:?} {i} left as it was");
                    }
                    (a, b) => panic!("{kt:?} {i}: batch {a:?}, single {b:?}"),
                }
            }
        }
    }

    #[test]
    fn encrypt_in_place_equals_encrypt() {
        for (kt, blake2) in [
            (KeyType::Repokey, false),
            (KeyType::Keyfile, false),
            (KeyType::Blake2Repokey, true),
            (KeyType::Blake2Keyfile, true),
            (KeyType::Authenticated, false),
            (KeyType::Blake2Authenticated, true),
        ] {
            let key = Key::new(kt, test_material(blake2)).unwrap();
            for payload in [&b""[..], C, &[7u8; 5000][..]] {
                let want = key.encrypt(42, payload);
                let mut buf = vec![0xEEu8; key.envelope_headroom()];
                buf.extend_from_slice(payload);
                key.encrypt_in_place(42, &mut buf);
                assert_eq!(buf, want, "{kt:?}");
                let r = key.decrypt_in_place(None, &mut buf).unwrap();
                assert_eq!(&buf[r], payload, "{kt:?}");
                let mut bad = want.clone();
                if let Some(b) = bad.last_mut() {
                    *b ^= 1;
                }
                if kt.is_encrypted() && !payload.is_empty() {
                    assert!(key.decrypt_in_place(None, &mut bad).is_err(), "{kt:?}");
                }
            }
        }
    }

    /// Spec A.3 through `Key::id_hash`.
    #[test]
    fn id_hash_vectors() {
        let k = Key::new(KeyType::Keyfile, test_material(false)).unwrap();
        assert_eq!(
            hex::encode(k.id_hash(b"hello borg")),
            "88a9553c7e0cec99daaef60ad50dd1c4df79feb989ec031e3f801e9f08e881a1"
        );
        let k = Key::new(KeyType::Blake2Authenticated, test_material(true)).unwrap();
        assert_eq!(
            hex::encode(k.id_hash(b"hello borg")),
            "3399bd736d5efb0ad38794cad875bd59efadb1209542c50b2577ae3814a46a75"
        );
        let p = Key::plaintext();
        assert_eq!(p.id_hash(b"abc"), sha256(b"abc"));
        assert!(p.assert_id(&sha256(b"abc"), b"abc").is_ok());
        let err = p.assert_id(&[0u8; 32], b"abc").unwrap_err();
        assert!(err.to_string().contains(&"00".repeat(32)), "{err}");
    }

    #[test]
    fn unencrypted_envelopes() {
        for (kt, blake) in [
            (KeyType::Authenticated, false),
            (KeyType::Blake2Authenticated, true),
        ] {
            let k = Key::new(kt, test_material(blake)).unwrap();
            let env = k.encrypt(77, C);
            assert_eq!(env[0], kt.type_byte());
            assert_eq!(&env[1..], C);
            assert_eq!(k.decrypt(None, &env).unwrap(), C);
        }
        let p = Key::plaintext();
        assert_eq!(p.encrypt(0, C), [&[2u8][..], C].concat());
        assert_eq!(p.decrypt(None, &[2]).unwrap(), b"");
        assert!(p.decrypt(None, &[]).is_err());
        assert!(p.decrypt(None, &[3, 0, 0]).is_err());
    }

    #[test]
    fn type_checks_and_legacy_byte() {
        let k = Key::new(KeyType::Repokey, test_material(false)).unwrap();
        let mut env = k.encrypt(5, C);
        env[0] = 1;
        assert_eq!(k.decrypt(None, &env).unwrap(), C);
        env[0] = 0;
        let id = [0xabu8; 32];
        let err = k.decrypt(Some(&id), &env).unwrap_err();
        assert!(matches!(err, CryptoError::InvalidEnvelope { .. }));
        assert!(err.to_string().contains(&"ab".repeat(32)));
        let kf = Key::new(KeyType::Keyfile, test_material(false)).unwrap();
        env[0] = 1;
        assert!(kf.decrypt(None, &env).is_err());
        assert!(Key::new(KeyType::LegacyPassphrase, test_material(false)).is_err());
        assert!(Key::new(KeyType::Plaintext, test_material(false)).is_err());
    }

    #[test]
    fn tamper_names_object() {
        let k = Key::new(KeyType::Keyfile, test_material(false)).unwrap();
        let env = k.encrypt(1, C);
        let id = [0x5au8; 32];
        for i in 1..env.len() {
            let mut t = env.clone();
            t[i] ^= 1;
            let err = k.decrypt(Some(&id), &t).unwrap_err();
            assert!(matches!(err, CryptoError::MacMismatch { .. }), "{i}: {err}");
            assert!(err.to_string().contains(&"5a".repeat(32)));
        }
        for n in 0..PAYLOAD_OVERHEAD {
            assert!(k.decrypt(None, &env[..n]).is_err());
        }
        // Empty payload is a valid envelope.
        let e = k.encrypt(9, b"");
        assert_eq!(e.len(), PAYLOAD_OVERHEAD);
        assert_eq!(k.decrypt(None, &e).unwrap(), b"");
    }

    #[test]
    fn generate_like_borg() {
        let rid = [3u8; 32];
        for kt in KeyType::CREATABLE {
            let k = Key::generate(kt, rid).unwrap();
            assert_eq!(k.key_type(), kt);
            let Some(m) = k.material() else {
                assert_eq!(kt, KeyType::Plaintext);
                assert_eq!(k.chunk_seed(), 0);
                assert!(!k.tam_required());
                continue;
            };
            assert!(m.tam_required);
            assert_eq!(m.repository_id, rid);
            let want = if kt.is_blake2() { 128 } else { 32 };
            assert_eq!(m.id_key.len(), want);
            assert_eq!(m.enc_hmac_key.len(), want);
            if kt.is_blake2() {
                assert_eq!(&m.id_key[64..], &[0u8; 64]);
                assert_eq!(&m.enc_hmac_key[64..], &[0u8; 64]);
                assert_ne!(&m.id_key[..64], &[0u8; 64]);
            }
        }
        assert!(KeyMaterial::generate(KeyType::Plaintext, rid).is_err());
        assert!(KeyMaterial::generate(KeyType::LegacyPassphrase, rid).is_err());
        let dbg = format!("{:?}", Key::generate(KeyType::Repokey, rid).unwrap());
        assert!(dbg.contains("<secret>"));
    }
}
