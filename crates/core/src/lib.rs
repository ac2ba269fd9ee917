//! oxiborg's engine. It owns the workflows that combine the repository, the
//! keys and the formats: today `init`, key loading and the manifest; the
//! create pipeline, caches, extract, prune, check and compact join it.
//!
//! Like every library crate here it never prints and never reads the
//! environment: directories come in as [`BorgDirs`], passphrases through
//! [`PassphraseSource`], messages go out through
//! [`oxiborg_repository::Reporter`].

mod dirs;
mod error;
mod init;
mod keys;
mod manifest;
mod nonces;
mod passphrase;
mod security;

pub use dirs::BorgDirs;
pub use error::{CoreError, Result};
pub use init::{canonical_local_path, init, InitOptions, InitOutcome};
pub use keys::{create_key, load_key, KeyLocation};
pub use manifest::{
    decode_manifest, read_manifest_envelope, seal_manifest, write_manifest, LoadedManifest,
};
pub use nonces::RepoNonces;
pub use passphrase::{FixedPassphrase, PassphraseSource};
pub use security::SecurityDir;
