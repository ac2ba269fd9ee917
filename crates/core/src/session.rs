//! Opening a repository for archive work: key, manifest and borg's security
//! checks (`SecurityManager.assert_secure`), in that order.

use std::sync::Arc;

use oxiborg_crypto::{Key, NonceManager, SecurityDirNonceFile};
use oxiborg_format::{CompressionSpec, Compressor, Manifest, Operation};
use oxiborg_repository::{CommitOptions, Repository};

use crate::dirs::BorgDirs;
use crate::error::{CoreError, Result};
use crate::keys::load_key;
use crate::manifest::{decode_manifest, read_manifest_envelope, seal_manifest, LoadedManifest};
use crate::nonces::RepoNonces;
use crate::passphrase::PassphraseSource;
use crate::security::SecurityDir;

/// A repository the engine can share between threads.
pub type SharedRepository = Box<dyn Repository + Send>;

/// Answers the CLI gives for borg's interactive security questions.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityAnswers {
    /// `BORG_RELOCATED_REPO_ACCESS_IS_OK`.
    pub relocated_ok: bool,
    /// `BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK`.
    pub unknown_unencrypted_ok: bool,
}

/// An open repository with its key and manifest.
pub struct Session {
    /// The repository (locked as the caller asked).
    pub repo: SharedRepository,
    /// The key.
    pub key: Arc<Key>,
    /// The manifest as loaded (and as updated by [`Session::write_manifest`]).
    pub manifest: LoadedManifest,
    /// borg's directories.
    pub dirs: BorgDirs,
    /// The security directory shared with borg.
    pub security: SecurityDir,
    /// The canonical location string (`/abs/path` or `ssh://...`).
    pub location: String,
    /// Highest counter value used so far in this session (for encryption).
    pub next_nonce: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("location", &self.location)
            .field("key_type", &self.key.key_type())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Load key and manifest from `repo`, verify the manifest TAM, check the
    /// manifest's feature flags for `operation`, and run borg's security
    /// checks against the shared security directory.
    pub fn open(
        mut repo: SharedRepository,
        dirs: &BorgDirs,
        pass: &mut dyn PassphraseSource,
        location: &str,
        operation: Operation,
        answers: SecurityAnswers,
    ) -> Result<Session> {
        let envelope = read_manifest_envelope(repo.as_mut())?;
        let type_byte =
            *envelope
                .first()
                .ok_or(CoreError::Model(oxiborg_format::ModelError::NotAMap {
                    what: "manifest",
                }))?;
        let security = SecurityDir::new(dirs, &repo.id());
        let key = load_key(
            repo.as_mut(),
            type_byte,
            dirs,
            pass,
            location,
            security.tam_required(),
        )?;
        let manifest = decode_manifest(&key, &envelope)?;
        manifest.manifest.check_repository_compatibility(
            &[operation],
            oxiborg_format::SUPPORTED_REPO_FEATURES,
        )?;
        let next_nonce = manifest.manifest_nonce;
        let session = Session {
            repo,
            key: Arc::new(key),
            manifest,
            dirs: dirs.clone(),
            security,
            location: location.to_string(),
            next_nonce,
        };
        session.assert_secure(answers)?;
        Ok(session)
    }

    /// borg's `SecurityManager.assert_secure`: key type pinning, manifest
    /// replay protection, relocation and unknown-unencrypted prompts. Saves
    /// the state when the repository was not known yet.
    fn assert_secure(&self, answers: SecurityAnswers) -> Result<()> {
        let sec = &self.security;
        let known = sec.path().join("key-type").exists();
        if let Some(previous) = sec.read("location") {
            if previous != self.location && !answers.relocated_ok {
                return Err(CoreError::RepositoryAccessAborted(format!(
                    "repository at {} was previously located at {previous}",
                    self.location
                )));
            }
        }
        if let Some(stored) = sec.read("manifest-timestamp") {
            let current = self.manifest.manifest.timestamp.clone().unwrap_or_default();
            if !stored.is_empty() && current < stored {
                return Err(CoreError::RepositoryReplay);
            }
        }
        if let Some(kt) = sec.read("key-type") {
            let byte = self.key.key_type().type_byte();
            if kt.trim() != byte.to_string() {
                return Err(CoreError::EncryptionMethodMismatch);
            }
        }
        if !known {
            if !self.key.key_type().is_encrypted() && !answers.unknown_unencrypted_ok {
                return Err(CoreError::CacheInitAborted);
            }
            self.save_security()?;
        } else if sec.read("location").as_deref() != Some(self.location.as_str()) {
            self.save_security()?;
        }
        Ok(())
    }

    /// Record location, key type and the current manifest timestamp.
    pub fn save_security(&self) -> Result<()> {
        self.security.save(
            &self.location,
            self.key.key_type().type_byte(),
            self.manifest.manifest.timestamp.as_deref().unwrap_or(""),
        )
    }

    /// Close the repository (releasing its lock).
    pub fn close(self) -> Result<()> {
        Ok(self.repo.close_boxed()?)
    }

    /// Delete the repository.
    pub fn destroy(self) -> Result<()> {
        Ok(self.repo.destroy_boxed()?)
    }

    /// The keyfile of a keyfile-mode repository (borg's `key.find_key()`,
    /// shown by `info` and in `--json`'s `encryption.keyfile`); `None` for
    /// other modes or when it cannot be found again.
    pub fn keyfile_path(&self) -> Option<std::path::PathBuf> {
        if self.key.key_type().storage() != oxiborg_crypto::KeyStorage::Keyfile {
            return None;
        }
        crate::keys::find_keyfile_for(&self.dirs, &self.repo.id(), &self.location).ok()
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest.manifest
    }

    /// The manifest, mutably.
    pub fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest.manifest
    }

    /// The local nonce file.
    pub fn nonce_file(&self) -> SecurityDirNonceFile {
        self.security.nonce_file()
    }

    /// Write the (modified) manifest as borg does (lz4, fresh TAM) and
    /// commit the repository, then update the security directory.
    pub fn write_manifest_and_commit(&mut self) -> Result<()> {
        let lz4 = Compressor::new(CompressionSpec::Lz4);
        let nonce_file = self.security.nonce_file();
        let (id, envelope) = {
            let mut nonces = NonceManager::new(
                RepoNonces(self.repo.as_mut()),
                nonce_file,
                self.next_nonce.max(self.manifest.manifest_nonce),
            );
            seal_manifest(&self.key, &mut nonces, &mut self.manifest.manifest, &lz4)?
        };
        self.repo.put(&oxiborg_format::MANIFEST_ID, &envelope)?;
        self.repo.commit(CommitOptions::default())?;
        self.manifest.id = id;
        if self.key.key_type().is_encrypted() {
            self.manifest.manifest_nonce = oxiborg_crypto::manifest_nonce(&envelope)?;
        }
        self.save_security()?;
        Ok(())
    }
}
