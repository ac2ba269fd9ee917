//! borg 1.x cryptography, byte-compatible with BorgBackup 1.4:
//!
//! * [`KeyType`]: the eight key types and their properties;
//! * [`KeyMaterial`] / [`Key`]: key generation, chunk ids ([`Key::id_hash`]),
//!   object envelopes ([`Key::encrypt`], [`Key::decrypt`]);
//! * key blobs ([`keyblob`]): inner key msgpack, PBKDF2 passphrase wrapper,
//!   base64 text, keyfiles and their lookup;
//! * TAM ([`Key::pack_and_authenticate`], [`Key::unpack_and_verify_manifest`],
//!   [`Key::unpack_and_verify_archive`]);
//! * AES-CTR counter management ([`NonceManager`], [`SecurityDirNonceFile`]).
//!
//! Nothing here reads environment variables or prompts: directories and
//! passphrases are parameters, resolved by the CLI.

pub mod error;
pub mod key;
pub mod key_type;
pub mod keyblob;
pub mod nonces;
pub mod primitives;
pub mod tam;

pub use error::{CryptoError, Result};
pub use key::{extract_iv, manifest_nonce, num_cipher_blocks, Key, KeyMaterial, PAYLOAD_OVERHEAD};
pub use key_type::{KeyStorage, KeyType};
pub use keyblob::{
    decode_key_blob_text, encode_key_blob_text, find_keyfile, format_keyfile, key_filename,
    keyfile_sanity_check, new_keyfile_path, open_key_blob, parse_keyfile, seal_key_blob,
    seal_key_blob_with, ParsedKeyfile, KEYFILE_ID, PBKDF2_ITERATIONS,
};
pub use nonces::{
    InMemoryNonceStore, NonceManager, NonceStore, SecurityDirNonceFile, MAX_REPRESENTABLE_NONCE,
    NONCE_SPACE_RESERVATION,
};
pub use primitives::{blake2b_256, hmac_sha256};
pub use tam::{unpack_metadata_unverified, VerifiedMetadata, CONTEXT_ARCHIVE, CONTEXT_MANIFEST};

#[cfg(test)]
mod proptests;
