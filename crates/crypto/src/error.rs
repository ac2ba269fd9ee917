//! The error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong in key handling, envelopes, TAM and nonces.
///
/// Messages follow borg's wording where borg has one, so that users see
/// familiar text; object ids are shown as lowercase hex (or `(unknown)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A type byte that is not one of borg's key types
    /// (borg: `UnsupportedPayloadError`).
    #[error(
        "Unsupported payload type {0}. A newer version is required to access this repository."
    )]
    UnsupportedPayload(u8),

    /// An `--encryption` mode name that borg does not know.
    #[error("Invalid encryption mode \"{0}\"")]
    InvalidKeyTypeName(String),

    /// The operation is not possible for this key type (for example creating a
    /// key for the legacy passphrase mode, or key material for `none`).
    #[error("operation not supported for key type {key_type}: {what}")]
    UnsupportedKeyType {
        /// borg's `NAME` of the key type.
        key_type: &'static str,
        /// What was attempted.
        what: &'static str,
    },

    /// Key material that cannot be used (e.g. an empty MAC key).
    #[error("invalid key material: {0}")]
    InvalidKeyMaterial(String),

    /// The envelope's type byte does not belong to this key
    /// (borg: `IntegrityError('Chunk <id>: Invalid encryption envelope')`).
    #[error("Data integrity error: Chunk {id}: Invalid encryption envelope (type byte {found}, key type 0x{expected:02x})")]
    InvalidEnvelope {
        /// Object id in hex, or `(unknown)`.
        id: String,
        /// The key's own type byte.
        expected: u8,
        /// The type byte found, as text (`0x..` or `none` for an empty object).
        found: String,
    },

    /// An encrypted envelope shorter than its 41-byte header.
    #[error(
        "Data integrity error: Chunk {id}: Could not decrypt [envelope too short: {len} bytes]"
    )]
    EnvelopeTooShort {
        /// Object id in hex, or `(unknown)`.
        id: String,
        /// Length of the envelope.
        len: usize,
    },

    /// The envelope MAC did not verify. borg 1.4.5 intends
    /// `Chunk <id>: Could not decrypt [MAC Authentication failed]`, but its
    /// `except` catches the wrong class, so real borg shows only
    /// `MAC Authentication failed`; oxiborg names the object.
    #[error("Data integrity error: Chunk {id}: Could not decrypt [MAC Authentication failed]")]
    MacMismatch {
        /// Object id in hex, or `(unknown)`.
        id: String,
    },

    /// The decrypted, decompressed plaintext does not hash to its id
    /// (borg: `IntegrityError('Chunk <id>: id verification failed')`).
    #[error("Data integrity error: Chunk {id}: id verification failed")]
    IdMismatch {
        /// Object id in hex.
        id: String,
    },

    /// The key blob / keyfile is malformed (borg: `KeyfileInvalidError`).
    #[error("Invalid key data: {reason}")]
    KeyfileInvalid {
        /// Why it was rejected.
        reason: String,
    },

    /// A keyfile belongs to another repository (borg: `KeyfileMismatchError`).
    #[error("Mismatch between repository {expected} and key file {path}.")]
    KeyfileMismatch {
        /// Repository id (hex) that was looked for.
        expected: String,
        /// The keyfile.
        path: PathBuf,
    },

    /// No keyfile for the repository in the keys directory
    /// (borg: `KeyfileNotFoundError`).
    #[error("No key file for repository {repository} found in {keys_dir}.")]
    KeyfileNotFound {
        /// The repository: its canonical location (borg's message), or its
        /// hex id where the location is not known.
        repository: String,
        /// The directory that was searched.
        keys_dir: PathBuf,
    },

    /// The inner key has a `version` other than 1.
    #[error("key version {0} is not supported by this borg version.")]
    UnsupportedKeyVersion(i128),

    /// The passphrase wrapper has a `version` other than 1.
    #[error("encrypted key version {0} is not supported by this borg version.")]
    UnsupportedEncryptedKeyVersion(i128),

    /// The passphrase wrapper uses a KDF/cipher other than `sha256`.
    #[error("encrypted key algorithm '{0}' is not supported by this borg version.")]
    UnsupportedKeyAlgorithm(String),

    /// The passphrase does not decrypt the key blob (borg: `PassphraseWrong`).
    #[error("Passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND, or via BORG_PASSPHRASE_FD is incorrect.")]
    WrongPassphrase,

    /// The manifest starts with `c1 c1 c1 c1` (borg: `UnsupportedManifestError`).
    #[error(
        "Unsupported manifest envelope. A newer version is required to access this repository."
    )]
    UnsupportedManifest,

    /// Manifest or archive metadata is not a msgpack map.
    #[error("{context} metadata is invalid: {reason}")]
    MetadataInvalid {
        /// `manifest` or `archive`.
        context: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// The manifest has no TAM but one is required (borg: `TAMRequiredError`).
    #[error("Manifest is unauthenticated, but it is required for this repository.")]
    TamRequired,

    /// The manifest TAM does not verify (borg: `TAMInvalid`).
    #[error("Data integrity error: Manifest authentication did not verify")]
    TamInvalid,

    /// The TAM uses a suite other than `HKDF_HMAC_SHA512` (borg: `TAMUnsupportedSuiteError`).
    #[error("Could not verify {context}: Unsupported suite {suite:?}; a newer version is needed.")]
    TamUnsupportedSuite {
        /// `manifest` or `archive`.
        context: &'static str,
        /// The suite name found.
        suite: String,
    },

    /// An archive has no TAM but one is required (borg: `ArchiveTAMRequiredError`).
    #[error("Archive '{name}' is unauthenticated, but it is required for this repository.")]
    ArchiveTamRequired {
        /// The archive name (ASCII, undecodable bytes replaced).
        name: String,
    },

    /// The archive TAM does not verify (borg: `ArchiveTAMInvalid`).
    #[error("Data integrity error: Archive authentication did not verify")]
    ArchiveTamInvalid,

    /// The local `nonce` file cannot be parsed.
    #[error("Local security dir has an invalid nonce file {path}: {reason}")]
    NonceFileInvalid {
        /// The nonce file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// The stored nonce changed between reading and committing a reservation.
    #[error("nonce space reservation with mismatched previous state (expected {expected:?}, found {found:?})")]
    NonceMismatch {
        /// The value read before the reservation.
        expected: Option<u64>,
        /// The value found when committing.
        found: Option<u64>,
    },

    /// The 64-bit counter space is exhausted.
    #[error("AES-CTR nonce space exhausted")]
    NonceSpaceExhausted,

    /// A nonce was requested below the current reservation's start (caller bug).
    #[error("nonce {nonce} lies beyond the current reservation end {end}")]
    NonceOutsideReservation {
        /// The requested nonce.
        nonce: u64,
        /// The end of the reservation.
        end: u64,
    },

    /// A nonce store backend (e.g. the repository) failed.
    #[error("nonce store failed: {0}")]
    NonceStore(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// File system error, with the path involved.
    #[error("{path}: {source}")]
    Io {
        /// The path being accessed.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),
}

impl CryptoError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CryptoError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn keyfile_invalid(reason: impl Into<String>) -> Self {
        CryptoError::KeyfileInvalid {
            reason: reason.into(),
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;

/// Hex of an optional object id, `(unknown)` for none (as borg prints it).
pub(crate) fn id_str(id: Option<&[u8; 32]>) -> String {
    match id {
        Some(id) => hex::encode(id),
        None => "(unknown)".to_string(),
    }
}
