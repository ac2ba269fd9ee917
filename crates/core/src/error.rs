//! The engine's typed errors: the libraries' errors plus what the engine
//! itself detects, each with the context a user needs.

use std::path::PathBuf;

use oxiborg_crypto::CryptoError;
use oxiborg_format::{DecompressError, ModelError};
use oxiborg_repository::RepositoryError;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// From the repository layer.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    /// From keys, envelopes, TAMs and nonces.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A metadata object that does not have borg's shape.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An object that does not decompress.
    #[error("Decompression error: {0}")]
    Decompression(#[from] DecompressError),
    /// No passphrase could be obtained (`NoPassphraseFailure`).
    #[error("Cannot acquire a passphrase: {0}")]
    NoPassphrase(String),
    /// `BORG_PASSCOMMAND` failed (`PasscommandFailure`).
    #[error("Passcommand supplied in BORG_PASSCOMMAND failed: {0}")]
    Passcommand(String),
    /// Three wrong passphrases at the prompt (`PasswordRetriesExceeded`).
    #[error("Exceeded the maximum password retries.")]
    PasswordRetriesExceeded,
    /// The repository has no manifest (`NoManifestError`).
    #[error("Repository has no manifest.")]
    NoManifest,
    /// The repository has no key where its mode says it must (`RepoKeyNotFoundError`).
    #[error("No key entry found in the config of repository {0}.")]
    RepoKeyNotFound(PathBuf),
    /// A key backup without the `BORG_KEY` header (`NotABorgKeyFile`).
    #[error("This file is not a Borg key backup, aborting.")]
    NotABorgKeyFile,
    /// A key backup of another repository (`RepoIdMismatch`).
    #[error("This key backup seems to be for a different backup repository, aborting.")]
    RepoIdMismatch,
    /// Key management on a repository without a key (`UnencryptedRepo`).
    #[error("Key management not available for unencrypted repositories.")]
    UnencryptedRepo,
    /// `BORG_KEY_FILE` names an existing file during init.
    #[error("Keyfile {0} already exists; refusing to overwrite it.")]
    KeyfileExists(PathBuf),
    /// The repository moved and the user did not confirm (`RepositoryAccessAborted`).
    #[error("Repository access aborted: {0}")]
    RepositoryAccessAborted(String),
    /// The manifest is older than the last one seen (`RepositoryReplay`).
    #[error("Cache, or information obtained from the security directory is newer than repository - this is either an attack or unsafe (multiple repos with same ID)")]
    RepositoryReplay,
    /// The key type changed since the last access (`EncryptionMethodMismatch`).
    #[error("Repository encryption method changed since last access, refusing to continue")]
    EncryptionMethodMismatch,
    /// An unknown unencrypted repository was not confirmed (`CacheInitAbortedError`).
    #[error("Cache initialization aborted")]
    CacheInitAborted,
    /// `Archive.AlreadyExists`.
    #[error("Archive {0} already exists")]
    ArchiveAlreadyExists(String),
    /// `Archive.DoesNotExist`.
    #[error("Archive {0} does not exist")]
    ArchiveDoesNotExist(String),
    /// A chunk index or other cache structure failed.
    #[error(transparent)]
    HashIndex(#[from] oxiborg_hashindex::HashIndexError),
    /// The local cache is unusable.
    #[error("cache {path}: {message}")]
    Cache {
        /// The cache file or directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A chunk the archive references is not in the repository.
    #[error("Object with key {0} not found in repository")]
    ChunkMissing(String),
    /// The operation was interrupted (SIGINT/SIGTERM).
    #[error("interrupted")]
    Interrupted,
    /// `create` wrote a checkpoint after SIGINT and stopped (borg's message:
    /// its generic `Error` class prints `Error: ` before the text).
    #[error("Error: Got Ctrl-C / SIGINT.")]
    SigInt,
    /// Invalid input given by the caller (bad pattern, bad option value).
    #[error("{0}")]
    InvalidInput(String),
    /// An input of `create` failed as a whole: the command of
    /// `--content-from-command` / `--paths-from-command` exited with an
    /// error (borg's `CommandError`; the text has no `Command Error: `).
    #[error("{0}")]
    Command(String),
    /// A tar stream could not be written or read (`export-tar`,
    /// `import-tar`).
    #[error(transparent)]
    Tar(#[from] oxiborg_tar::TarError),
    /// A file the engine writes itself (security dir, keyfile).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl CoreError {
    /// Wrap an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CoreError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the engine.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
