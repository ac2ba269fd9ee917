//! borg's per-user directories. The CLI resolves them from `BORG_*`, `XDG_*`
//! and `HOME` exactly as borg does; the engine only receives the result.

use std::path::{Path, PathBuf};

/// Where borg keeps keys, security state and caches for this user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BorgDirs {
    /// `BORG_KEYS_DIR`, default `<config>/keys`.
    pub keys_dir: PathBuf,
    /// `BORG_SECURITY_DIR`, default `<config>/security`.
    pub security_dir: PathBuf,
    /// `BORG_CACHE_DIR`, default `~/.cache/borg`.
    pub cache_dir: PathBuf,
    /// `BORG_KEY_FILE`: a fixed keyfile path that overrides lookup and creation.
    pub key_file: Option<PathBuf>,
}

impl BorgDirs {
    /// The security directory of repository `id`.
    pub fn security_dir_for(&self, id: &[u8; 32]) -> PathBuf {
        self.security_dir.join(hex::encode(id))
    }

    /// The keys directory.
    pub fn keys(&self) -> &Path {
        &self.keys_dir
    }
}
