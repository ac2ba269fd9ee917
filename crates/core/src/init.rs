//! `borg init`: create the repository, its key and an empty manifest.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use oxiborg_crypto::{KeyType, NonceManager};
use oxiborg_format::{CompressionSpec, Compressor, Manifest, MANIFEST_ID};
use oxiborg_repository::{CommitOptions, LocalRepository, OpenOptions, Reporter, Repository};

use crate::dirs::BorgDirs;
use crate::error::Result;
use crate::keys::{create_key, KeyLocation};
use crate::manifest::seal_manifest;
use crate::nonces::RepoNonces;
use crate::passphrase::PassphraseSource;
use crate::security::SecurityDir;

/// What `init` should create.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The encryption mode.
    pub mode: KeyType,
    /// How to create and lock the repository (create, append-only, quota,
    /// parent directories, lock identity and wait).
    pub open: OpenOptions,
    /// The canonical location recorded in the security directory (an
    /// absolute path for local repositories).
    pub canonical_location: String,
}

/// What `init` created.
#[derive(Debug, Clone)]
pub struct InitOutcome {
    /// The new repository id.
    pub repository_id: [u8; 32],
    /// Where the key went.
    pub key_location: KeyLocation,
    /// The key type created.
    pub key_type: KeyType,
}

/// Create a repository at `path` as `borg init` does: repository, key,
/// empty manifest with its TAM (compressed with lz4, borg's default), commit,
/// then the security directory.
pub fn init(
    path: &Path,
    opts: &InitOptions,
    dirs: &BorgDirs,
    pass: &mut dyn PassphraseSource,
    reporter: Arc<dyn Reporter>,
) -> Result<InitOutcome> {
    let mut open = opts.open.clone();
    open.create = true;
    let mut repo = LocalRepository::create(path, &open, reporter)?;
    let location = opts.canonical_location.clone();
    let out = init_repository(&mut repo, opts.mode, &location, &location, None, dirs, pass)?;
    repo.close()?;
    Ok(out)
}

/// Put key and empty manifest into a freshly created (and still open)
/// repository, local or remote, and commit; then record the security
/// directory. A new keyfile is named after `key_path` and `host` (borg's
/// `Location.to_key_filename`).
pub fn init_repository(
    repo: &mut dyn Repository,
    mode: KeyType,
    location: &str,
    key_path: &str,
    host: Option<&str>,
    dirs: &BorgDirs,
    pass: &mut dyn PassphraseSource,
) -> Result<InitOutcome> {
    let (key, key_location) = create_key(repo, mode, dirs, pass, key_path, host)?;
    let sec = SecurityDir::new(dirs, &repo.id());
    let mut manifest = Manifest::new();
    let lz4 = Compressor::new(CompressionSpec::Lz4);
    let (_, envelope) = {
        let mut nonces = NonceManager::new(RepoNonces(&mut *repo), sec.nonce_file(), 0);
        seal_manifest(&key, &mut nonces, &mut manifest, &lz4)?
    };
    repo.put(&MANIFEST_ID, &envelope)?;
    repo.commit(CommitOptions::default())?;
    sec.save(
        location,
        key.key_type().type_byte(),
        manifest.timestamp.as_deref().unwrap_or(""),
    )?;
    if key.tam_required() {
        sec.set_tam_required(true)?;
    }
    Ok(InitOutcome {
        repository_id: repo.id(),
        key_location,
        key_type: mode,
    })
}

/// The canonical location of a local repository path: absolute, as borg's
/// `Location.canonical_path()` for `file` locations.
pub fn canonical_local_path(path: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    // `os.path.abspath`: absolute and normalised (`..` folded lexically).
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let norm = crate::create::normpath(abs.as_os_str().as_bytes());
    PathBuf::from(std::ffi::OsStr::from_bytes(&norm))
}
