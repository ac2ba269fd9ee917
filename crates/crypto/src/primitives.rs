//! The cryptographic building blocks exactly as borg's `low_level.pyx` uses
//! them. These are public so that `borg benchmark cpu` style code can time them.

use aes::cipher::{KeyIvInit, StreamCipher};
#[cfg(test)]
use blake2::digest::consts::U32;
#[cfg(test)]
use blake2::Blake2b;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

use crate::error::{CryptoError, Result};

type HmacSha256 = Hmac<Sha256>;
type HmacSha512 = Hmac<Sha512>;
#[cfg(test)]
pub(crate) type Blake2b256 = Blake2b<U32>;
pub(crate) type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// HMAC-SHA256 (`low_level.hmac_sha256`).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = hmac_sha256_state(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub(crate) fn hmac_sha256_state(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// HMAC-SHA512 (used by TAM).
pub fn hmac_sha512(key: &[u8], data: &[u8]) -> [u8; 64] {
    let mut mac = hmac_sha512_state(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub(crate) fn hmac_sha512_state(key: &[u8]) -> HmacSha512 {
    <HmacSha512 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// borg's `blake2b_256(key, data)`: **unkeyed** BLAKE2b with a 32-byte digest
/// over `key || data` (not RFC 7693 keyed mode).
pub fn blake2b_256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // blake2b_simd picks its AVX2 kernel at run time: the id hash and the
    // MAC of every chunk go through here, so this is a hot path.
    let mut h = blake2b_simd::Params::new().hash_length(32).to_state();
    h.update(key);
    h.update(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finalize().as_bytes());
    out
}

/// [`blake2b_256`] of each of `inputs` under the same `key`. BLAKE2b has
/// no parallelism within one message, but AVX2 runs four messages at once:
/// with several inputs this is about twice the throughput of hashing them
/// one by one (lanes freed by a short input take the next one).
pub fn blake2b_256_many(key: &[u8], inputs: &[&[u8]]) -> Vec<[u8; 32]> {
    let mut params = blake2b_simd::Params::new();
    params.hash_length(32);
    let mut states: Vec<blake2b_simd::State> = inputs
        .iter()
        .map(|_| {
            let mut s = params.to_state();
            s.update(key);
            s
        })
        .collect();
    blake2b_simd::many::update_many(states.iter_mut().zip(inputs.iter()));
    states
        .iter_mut()
        .map(|s| {
            let mut out = [0u8; 32];
            out.copy_from_slice(s.finalize().as_bytes());
            out
        })
        .collect()
}

/// Plain SHA-256 (the plaintext key's id hash).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// HKDF-SHA512 (RFC 5869) as `low_level.hkdf_hmac_sha512`, with a 64-byte output.
pub fn hkdf_hmac_sha512(ikm: &[u8], salt: &[u8], info: &[u8]) -> Zeroizing<[u8; 64]> {
    let hk = hkdf::Hkdf::<Sha512>::new(Some(salt), ikm);
    let mut okm = Zeroizing::new([0u8; 64]);
    // 64 <= 255 * 64, so expansion cannot fail.
    hk.expand(info, okm.as_mut())
        .unwrap_or_else(|_| unreachable!());
    okm
}

/// PBKDF2-HMAC-SHA256 producing 32 bytes (borg's `Passphrase.kdf`).
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, out.as_mut());
    out
}

/// PBKDF2-HMAC-SHA256 filling `out` (any length), as Python's `pbkdf2_hmac`
/// with `dklen = out.len()`.
pub fn pbkdf2_sha256_into(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, out);
}

/// The 16-byte AES-CTR counter block borg uses: 8 zero bytes, then the
/// 64-bit IV big-endian.
pub fn counter_block(iv: u64) -> [u8; 16] {
    let mut block = [0u8; 16];
    block[8..].copy_from_slice(&iv.to_be_bytes());
    block
}

/// AES-256-CTR with borg's counter block (128-bit big-endian increment),
/// applied in place (encryption and decryption are the same operation).
pub fn aes256_ctr_apply(enc_key: &[u8; 32], iv: u64, data: &mut [u8]) {
    let mut c = Aes256Ctr::new(enc_key.into(), &counter_block(iv).into());
    c.apply_keystream(data);
}

/// Fill a fixed-size array with OS randomness (`os.urandom`).
pub(crate) fn random_array<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(CryptoError::Random)?;
    Ok(out)
}

/// `ceil(len / 16)`: AES blocks (= counter values) used for `len` bytes
/// (`low_level.num_cipher_blocks`).
pub fn num_cipher_blocks(len: usize) -> u64 {
    (len as u64).div_ceil(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(start: u8, n: usize) -> Vec<u8> {
        (0..n).map(|i| start.wrapping_add(i as u8)).collect()
    }

    /// Spec A.3.
    #[test]
    fn id_vectors() {
        assert_eq!(
            hex::encode(hmac_sha256(&seq(0x40, 32), b"hello borg")),
            "88a9553c7e0cec99daaef60ad50dd1c4df79feb989ec031e3f801e9f08e881a1"
        );
        let mut k = seq(0x40, 64);
        k.extend([0u8; 64]);
        assert_eq!(
            hex::encode(blake2b_256(&k, b"hello borg")),
            "3399bd736d5efb0ad38794cad875bd59efadb1209542c50b2577ae3814a46a75"
        );
    }

    #[test]
    fn simd_blake2b_equals_rustcrypto() {
        let key = [7u8; 128];
        for len in [0usize, 1, 127, 128, 129, 1000, 65_537] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut h = Blake2b256::new();
            h.update(key);
            h.update(&data);
            let want: [u8; 32] = h.finalize().into();
            assert_eq!(blake2b_256(&key, &data), want, "len {len}");
        }
    }

    #[test]
    fn blake2_is_not_rfc_keyed() {
        use blake2::digest::Mac as _;
        let key = seq(0x40, 64);
        let mut rfc = blake2::Blake2bMac::<U32>::new_from_slice(&key).unwrap();
        rfc.update(b"hello borg");
        let rfc: [u8; 32] = rfc.finalize().into_bytes().into();
        let mut padded = key.clone();
        padded.extend([0u8; 64]);
        assert_ne!(rfc, blake2b_256(&padded, b"hello borg"));
    }

    #[test]
    fn cipher_blocks() {
        assert_eq!(num_cipher_blocks(0), 0);
        assert_eq!(num_cipher_blocks(1), 1);
        assert_eq!(num_cipher_blocks(16), 1);
        assert_eq!(num_cipher_blocks(17), 2);
    }

    #[test]
    fn ctr_carries_into_upper_half() {
        // The whole 128-bit block increments: block after iv=u64::MAX has
        // counter 00..01 || 00..00.
        let key = [7u8; 32];
        let mut two = [0u8; 32];
        aes256_ctr_apply(&key, u64::MAX, &mut two);
        use aes::cipher::{BlockEncrypt, KeyInit};
        let aes = aes::Aes256::new(&key.into());
        let mut b = [0u8; 16];
        b[7] = 1;
        let mut block = b.into();
        aes.encrypt_block(&mut block);
        assert_eq!(&two[16..], block.as_slice());
    }
}
