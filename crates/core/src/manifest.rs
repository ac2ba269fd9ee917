//! Reading and writing the manifest object: decrypt, decompress, verify the
//! TAM, decode; and the reverse, with nonces reserved before any counter is
//! used.

use oxiborg_crypto::{manifest_nonce, Key, NonceManager, NonceStore, CONTEXT_MANIFEST};
use oxiborg_format::{Compressor, Manifest, UtcTimestamp, MANIFEST_ID};
use oxiborg_repository::{Repository, RepositoryError};

use crate::error::{CoreError, Result};

/// The manifest's stored envelope, or `NoManifest`.
pub fn read_manifest_envelope(repo: &mut dyn Repository) -> Result<Vec<u8>> {
    match repo.get(&MANIFEST_ID) {
        Ok(e) => Ok(e),
        Err(RepositoryError::ObjectNotFound { .. }) => Err(CoreError::NoManifest),
        Err(e) => Err(e.into()),
    }
}

/// A manifest as loaded.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    /// The decoded manifest.
    pub manifest: Manifest,
    /// `id_hash` of the plaintext (what caches compare to notice changes).
    pub id: [u8; 32],
    /// Whether its TAM was present and verified.
    pub tam_verified: bool,
    /// The first counter value above the manifest's (borg's start value).
    pub manifest_nonce: u64,
}

/// Decrypt, decompress, verify and decode a manifest envelope.
pub fn decode_manifest(key: &Key, envelope: &[u8]) -> Result<LoadedManifest> {
    let compressed = key.decrypt(None, envelope)?;
    let plaintext = Compressor::decompress(&compressed)?;
    let verified = key.unpack_and_verify_manifest(&plaintext, false)?;
    let manifest = Manifest::from_value(verified.value)?;
    let nonce = if key.key_type().is_encrypted() {
        manifest_nonce(envelope)?
    } else {
        0
    };
    Ok(LoadedManifest {
        manifest,
        id: key.id_hash(&plaintext),
        tam_verified: verified.verified,
        manifest_nonce: nonce,
    })
}

/// Write `manifest` (borg's `Manifest.write`): advance the timestamp, set
/// `tam_required`, sign, compress with `compressor`, encrypt with a reserved
/// counter and put it under the manifest id. The caller commits.
/// Returns the new manifest id (`id_hash` of the plaintext).
pub fn write_manifest<R: NonceStore, L: NonceStore>(
    repo: &mut dyn Repository,
    key: &Key,
    nonces: &mut NonceManager<R, L>,
    manifest: &mut Manifest,
    compressor: &Compressor,
) -> Result<[u8; 32]> {
    let envelope = seal_manifest(key, nonces, manifest, compressor)?;
    repo.put(&MANIFEST_ID, &envelope.1)?;
    Ok(envelope.0)
}

/// The envelope for `manifest` and its id, without storing it (the nonce
/// manager may itself need the repository).
pub fn seal_manifest<R: NonceStore, L: NonceStore>(
    key: &Key,
    nonces: &mut NonceManager<R, L>,
    manifest: &mut Manifest,
    compressor: &Compressor,
) -> Result<([u8; 32], Vec<u8>)> {
    if key.tam_required() {
        manifest.set_tam_required(true);
    }
    manifest.update_timestamp(UtcTimestamp::now())?;
    manifest.check_limits()?;
    let data = key.pack_and_authenticate(manifest.to_value()?, CONTEXT_MANIFEST, None)?;
    let id = key.id_hash(&data);
    let envelope = key.encrypt_with_nonces(nonces, &compressor.compress(&data))?;
    Ok((id, envelope))
}
