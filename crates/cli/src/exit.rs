//! The one place that maps errors to borg's exit codes and `--log-json` msgids.
//!
//! borg 1.4 has two modes (`BORG_EXIT_CODES`): *legacy* (the default: every
//! error is 2, every warning 1) and *modern* (each error class has its own
//! code, 3..99; specific warnings 100..127). Codes and names come from borg
//! 1.4.5's `exit_mcode` attributes (see `docs/compat.md`).

use std::fmt;

/// How errors become exit codes (`BORG_EXIT_CODES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitMode {
    /// Errors exit 2, warnings 1.
    Legacy,
    /// Each class has its own code.
    Modern,
}

impl ExitMode {
    /// borg treats exactly `modern` as modern; anything else is legacy.
    pub fn from_env_value(v: Option<&str>) -> Self {
        if v == Some("modern") {
            ExitMode::Modern
        } else {
            ExitMode::Legacy
        }
    }
}

/// A borg error class: its msgid (the Python qualified class name) and its
/// modern exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorClass {
    /// e.g. `Repository.DoesNotExist`.
    pub msgid: &'static str,
    /// The code in modern mode.
    pub modern_code: u8,
}

macro_rules! classes {
    ($($ident:ident = ($msgid:literal, $code:literal);)*) => {
        /// borg 1.4.5's error classes.
        #[allow(dead_code)]
        pub mod class {
            use super::ErrorClass;
            $(
                #[doc = $msgid]
                pub const $ident: ErrorClass = ErrorClass { msgid: $msgid, modern_code: $code };
            )*
            /// Every class, for tests and docs.
            pub const ALL: &[ErrorClass] = &[$($ident),*];
        }
    };
}

classes! {
    ERROR = ("Error", 2);
    CANCELLED_BY_USER = ("CancelledByUser", 3);
    COMMAND_ERROR = ("CommandError", 4);
    PLACEHOLDER_ERROR = ("PlaceholderError", 5);
    INVALID_PLACEHOLDER = ("InvalidPlaceholder", 6);
    REPOSITORY_ALREADY_EXISTS = ("Repository.AlreadyExists", 10);
    REPOSITORY_ATTIC = ("Repository.AtticRepository", 11);
    REPOSITORY_CHECK_NEEDED = ("Repository.CheckNeeded", 12);
    REPOSITORY_DOES_NOT_EXIST = ("Repository.DoesNotExist", 13);
    REPOSITORY_INSUFFICIENT_FREE_SPACE = ("Repository.InsufficientFreeSpaceError", 14);
    REPOSITORY_INVALID = ("Repository.InvalidRepository", 15);
    REPOSITORY_INVALID_CONFIG = ("Repository.InvalidRepositoryConfig", 16);
    REPOSITORY_OBJECT_NOT_FOUND = ("Repository.ObjectNotFound", 17);
    REPOSITORY_PARENT_PATH_DOES_NOT_EXIST = ("Repository.ParentPathDoesNotExist", 18);
    REPOSITORY_PATH_ALREADY_EXISTS = ("Repository.PathAlreadyExists", 19);
    REPOSITORY_STORAGE_QUOTA_EXCEEDED = ("Repository.StorageQuotaExceeded", 20);
    REPOSITORY_PATH_PERMISSION_DENIED = ("Repository.PathPermissionDenied", 21);
    MANDATORY_FEATURE_UNSUPPORTED = ("MandatoryFeatureUnsupported", 25);
    NO_MANIFEST = ("NoManifestError", 26);
    UNSUPPORTED_MANIFEST = ("UnsupportedManifestError", 27);
    ARCHIVE_ALREADY_EXISTS = ("Archive.AlreadyExists", 30);
    ARCHIVE_DOES_NOT_EXIST = ("Archive.DoesNotExist", 31);
    ARCHIVE_INCOMPATIBLE_FS_ENCODING = ("Archive.IncompatibleFilesystemEncodingError", 32);
    KEYFILE_INVALID = ("KeyfileInvalidError", 40);
    KEYFILE_MISMATCH = ("KeyfileMismatchError", 41);
    KEYFILE_NOT_FOUND = ("KeyfileNotFoundError", 42);
    NOT_A_BORG_KEY_FILE = ("NotABorgKeyFile", 43);
    REPO_KEY_NOT_FOUND = ("RepoKeyNotFoundError", 44);
    REPO_ID_MISMATCH = ("RepoIdMismatch", 45);
    UNENCRYPTED_REPO = ("UnencryptedRepo", 46);
    UNKNOWN_KEY_TYPE = ("UnknownKeyType", 47);
    UNSUPPORTED_PAYLOAD = ("UnsupportedPayloadError", 48);
    NO_PASSPHRASE_FAILURE = ("NoPassphraseFailure", 50);
    PASSCOMMAND_FAILURE = ("PasscommandFailure", 51);
    PASSPHRASE_WRONG = ("PassphraseWrong", 52);
    PASSWORD_RETRIES_EXCEEDED = ("PasswordRetriesExceeded", 53);
    CACHE_INIT_ABORTED = ("Cache.CacheInitAbortedError", 60);
    CACHE_ENCRYPTION_METHOD_MISMATCH = ("Cache.EncryptionMethodMismatch", 61);
    CACHE_REPOSITORY_ACCESS_ABORTED = ("Cache.RepositoryAccessAborted", 62);
    CACHE_REPOSITORY_ID_NOT_UNIQUE = ("Cache.RepositoryIDNotUnique", 63);
    CACHE_REPOSITORY_REPLAY = ("Cache.RepositoryReplay", 64);
    LOCK_ERROR = ("LockError", 70);
    LOCK_ERROR_T = ("LockErrorT", 71);
    LOCK_FAILED = ("LockFailed", 72);
    LOCK_TIMEOUT = ("LockTimeout", 73);
    NOT_LOCKED = ("NotLocked", 74);
    NOT_MY_LOCK = ("NotMyLock", 75);
    CONNECTION_CLOSED = ("ConnectionClosed", 80);
    CONNECTION_CLOSED_WITH_HINT = ("ConnectionClosedWithHint", 81);
    INVALID_RPC_METHOD = ("InvalidRPCMethod", 82);
    PATH_NOT_ALLOWED = ("PathNotAllowed", 83);
    RPC_SERVER_OUTDATED = ("RemoteRepository.RPCServerOutdated", 84);
    UNEXPECTED_RPC_DATA_FROM_CLIENT = ("UnexpectedRPCDataFormatFromClient", 85);
    UNEXPECTED_RPC_DATA_FROM_SERVER = ("UnexpectedRPCDataFormatFromServer", 86);
    CONNECTION_BROKEN_WITH_HINT = ("ConnectionBrokenWithHint", 87);
    INTEGRITY_ERROR = ("IntegrityError", 90);
    FILE_INTEGRITY_ERROR = ("FileIntegrityError", 91);
    DECOMPRESSION_ERROR = ("DecompressionError", 92);
    ARCHIVE_TAM_INVALID = ("ArchiveTAMInvalid", 95);
    ARCHIVE_TAM_REQUIRED = ("ArchiveTAMRequiredError", 96);
    TAM_INVALID = ("TAMInvalid", 97);
    TAM_REQUIRED = ("TAMRequiredError", 98);
    TAM_UNSUPPORTED_SUITE = ("TAMUnsupportedSuiteError", 99);
}

/// An error the CLI raises itself, with its borg class.
#[derive(Debug)]
pub struct CliError {
    /// The borg class that decides code and msgid.
    pub class: ErrorClass,
    /// The message shown to the user.
    pub message: String,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl CliError {
    /// A `CommandError` (rc 4 modern, 2 legacy), borg's class for invalid
    /// requests detected after argument parsing. Its text is borg's:
    /// `Command Error: <message>`.
    pub fn command(message: impl Into<String>) -> Self {
        CliError {
            class: class::COMMAND_ERROR,
            message: format!("Command Error: {}", message.into()),
        }
    }

    /// An argument error detected outside clap (rc 2 in both modes, like
    /// argparse's).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            class: class::ERROR,
            message: message.into(),
        }
    }
}

fn repository_class(e: &oxiborg_repository::RepositoryError) -> ErrorClass {
    use oxiborg_repository::RepositoryError as R;
    match e {
        R::DoesNotExist { .. } => class::REPOSITORY_DOES_NOT_EXIST,
        R::AlreadyExists { .. } => class::REPOSITORY_ALREADY_EXISTS,
        R::PathAlreadyExists { .. } => class::REPOSITORY_PATH_ALREADY_EXISTS,
        R::ParentPathDoesNotExist { .. } => class::REPOSITORY_PARENT_PATH_DOES_NOT_EXIST,
        R::PathPermissionDenied { .. } => class::REPOSITORY_PATH_PERMISSION_DENIED,
        R::InvalidRepository { .. } => class::REPOSITORY_INVALID,
        R::InvalidRepositoryConfig { .. } => class::REPOSITORY_INVALID_CONFIG,
        R::AtticRepository { .. } => class::REPOSITORY_ATTIC,
        R::CheckNeeded { .. } => class::REPOSITORY_CHECK_NEEDED,
        R::ObjectNotFound { .. } => class::REPOSITORY_OBJECT_NOT_FOUND,
        R::StorageQuotaExceeded { .. } => class::REPOSITORY_STORAGE_QUOTA_EXCEEDED,
        R::InsufficientFreeSpace { .. } => class::REPOSITORY_INSUFFICIENT_FREE_SPACE,
        R::Integrity { .. } | R::IntegrityOther(_) => class::INTEGRITY_ERROR,
        R::FileIntegrity { .. } => class::FILE_INTEGRITY_ERROR,
        R::Lock(l) => lock_class(l),
        R::PathNotAllowed { .. } => class::PATH_NOT_ALLOWED,
        R::InvalidRpcMethod { .. } => class::INVALID_RPC_METHOD,
        R::ConnectionClosed => class::CONNECTION_CLOSED,
        R::ConnectionClosedWithHint(_) => class::CONNECTION_CLOSED_WITH_HINT,
        R::ConnectionBrokenWithHint(_) => class::CONNECTION_BROKEN_WITH_HINT,
        R::RpcServerOutdated { .. } => class::RPC_SERVER_OUTDATED,
        R::UnexpectedRpcDataFromServer(_) => class::UNEXPECTED_RPC_DATA_FROM_SERVER,
        R::UnexpectedRpcDataFromClient { .. } => class::UNEXPECTED_RPC_DATA_FROM_CLIENT,
        _ => class::ERROR,
    }
}

fn lock_class(e: &oxiborg_lock::LockError) -> ErrorClass {
    use oxiborg_lock::LockError as L;
    match e {
        L::Timeout { .. } => class::LOCK_TIMEOUT,
        L::Failed { .. } => class::LOCK_FAILED,
        L::NotLocked { .. } => class::NOT_LOCKED,
        L::NotMyLock { .. } => class::NOT_MY_LOCK,
        _ => class::LOCK_ERROR,
    }
}

fn crypto_class(e: &oxiborg_crypto::CryptoError) -> ErrorClass {
    use oxiborg_crypto::CryptoError as C;
    match e {
        C::UnsupportedPayload(_) => class::UNSUPPORTED_PAYLOAD,
        C::InvalidKeyTypeName(_) | C::UnsupportedKeyType { .. } => class::UNKNOWN_KEY_TYPE,
        C::InvalidEnvelope { .. }
        | C::EnvelopeTooShort { .. }
        | C::MacMismatch { .. }
        | C::IdMismatch { .. } => class::INTEGRITY_ERROR,
        C::KeyfileInvalid { .. }
        | C::UnsupportedKeyVersion(_)
        | C::UnsupportedEncryptedKeyVersion(_)
        | C::UnsupportedKeyAlgorithm(_) => class::KEYFILE_INVALID,
        C::KeyfileMismatch { .. } => class::KEYFILE_MISMATCH,
        C::KeyfileNotFound { .. } => class::KEYFILE_NOT_FOUND,
        C::WrongPassphrase => class::PASSPHRASE_WRONG,
        C::UnsupportedManifest => class::UNSUPPORTED_MANIFEST,
        C::TamRequired => class::TAM_REQUIRED,
        C::TamInvalid => class::TAM_INVALID,
        C::TamUnsupportedSuite { .. } => class::TAM_UNSUPPORTED_SUITE,
        C::ArchiveTamRequired { .. } => class::ARCHIVE_TAM_REQUIRED,
        C::ArchiveTamInvalid => class::ARCHIVE_TAM_INVALID,
        C::NonceStore(inner) => inner
            .downcast_ref::<oxiborg_repository::RepositoryError>()
            .map_or(class::ERROR, repository_class),
        _ => class::ERROR,
    }
}

fn core_class(e: &oxiborg_core::CoreError) -> ErrorClass {
    use oxiborg_core::CoreError as E;
    match e {
        E::Repository(r) => repository_class(r),
        E::Crypto(c) => crypto_class(c),
        E::Decompression(_) => class::DECOMPRESSION_ERROR,
        E::NoPassphrase(_) => class::NO_PASSPHRASE_FAILURE,
        E::Passcommand(_) => class::PASSCOMMAND_FAILURE,
        E::PasswordRetriesExceeded => class::PASSWORD_RETRIES_EXCEEDED,
        E::NoManifest => class::NO_MANIFEST,
        E::RepoKeyNotFound(_) => class::REPO_KEY_NOT_FOUND,
        E::NotABorgKeyFile => class::NOT_A_BORG_KEY_FILE,
        E::RepoIdMismatch => class::REPO_ID_MISMATCH,
        E::UnencryptedRepo => class::UNENCRYPTED_REPO,
        E::ArchiveAlreadyExists(_) => class::ARCHIVE_ALREADY_EXISTS,
        E::ArchiveDoesNotExist(_) => class::ARCHIVE_DOES_NOT_EXIST,
        E::RepositoryAccessAborted(_) => class::CACHE_REPOSITORY_ACCESS_ABORTED,
        E::RepositoryReplay => class::CACHE_REPOSITORY_REPLAY,
        E::EncryptionMethodMismatch => class::CACHE_ENCRYPTION_METHOD_MISMATCH,
        E::CacheInitAborted => class::CACHE_INIT_ABORTED,
        E::ChunkMissing(_) => class::REPOSITORY_OBJECT_NOT_FOUND,
        E::Model(_) => class::ERROR,
        _ => class::ERROR,
    }
}

/// The borg class of any error that reached `main`: the first cause in the
/// chain whose type maps to a borg class decides; anything else is a
/// generic `Error` (rc 2).
pub fn classify(err: &anyhow::Error) -> ErrorClass {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return e.class;
        }
        if let Some(e) = cause.downcast_ref::<oxiborg_core::CoreError>() {
            return core_class(e);
        }
        if let Some(e) = cause.downcast_ref::<oxiborg_repository::RepositoryError>() {
            return repository_class(e);
        }
        if let Some(e) = cause.downcast_ref::<oxiborg_crypto::CryptoError>() {
            return crypto_class(e);
        }
        if let Some(e) = cause.downcast_ref::<oxiborg_lock::LockError>() {
            return lock_class(e);
        }
    }
    class::ERROR
}

/// The process exit code for an error of `class` under `mode`.
pub fn error_code(class: ErrorClass, mode: ExitMode) -> u8 {
    match mode {
        ExitMode::Legacy => 2,
        ExitMode::Modern => class.modern_code,
    }
}

/// borg's `--show-rc` wording for an exit code.
pub fn rc_status(rc: u8) -> &'static str {
    match rc {
        0 => "success",
        1 | 100..=127 => "warning",
        128..=255 => "signal",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_codes_are_unique_and_in_range() {
        let mut seen = std::collections::HashSet::new();
        for c in class::ALL {
            assert!((2..=99).contains(&c.modern_code), "{}", c.msgid);
            assert!(
                seen.insert(c.modern_code),
                "duplicate code {}",
                c.modern_code
            );
        }
    }

    #[test]
    fn legacy_is_always_two() {
        assert_eq!(error_code(class::PASSPHRASE_WRONG, ExitMode::Legacy), 2);
        assert_eq!(error_code(class::PASSPHRASE_WRONG, ExitMode::Modern), 52);
    }

    #[test]
    fn only_exact_modern_selects_modern() {
        assert_eq!(ExitMode::from_env_value(Some("modern")), ExitMode::Modern);
        assert_eq!(ExitMode::from_env_value(Some("MODERN")), ExitMode::Legacy);
        assert_eq!(ExitMode::from_env_value(None), ExitMode::Legacy);
    }

    #[test]
    fn classify_finds_cli_errors_through_context() {
        let e = anyhow::Error::new(CliError::command("bad")).context("while doing x");
        assert_eq!(classify(&e), class::COMMAND_ERROR);
        assert_eq!(classify(&anyhow::anyhow!("other")), class::ERROR);
    }

    #[test]
    fn library_errors_map_to_borg_classes() {
        let wrong = anyhow::Error::new(oxiborg_core::CoreError::Crypto(
            oxiborg_crypto::CryptoError::WrongPassphrase,
        ));
        assert_eq!(classify(&wrong), class::PASSPHRASE_WRONG);
        assert_eq!(
            wrong.to_string(),
            "Passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND, or via BORG_PASSPHRASE_FD is incorrect."
        );
        let missing = anyhow::Error::new(oxiborg_repository::RepositoryError::DoesNotExist {
            path: "/r".into(),
        });
        assert_eq!(classify(&missing), class::REPOSITORY_DOES_NOT_EXIST);
        assert_eq!(missing.to_string(), "Repository /r does not exist.");
        let tam = anyhow::Error::new(oxiborg_crypto::CryptoError::TamInvalid)
            .context("loading the manifest");
        assert_eq!(classify(&tam), class::TAM_INVALID);
    }

    #[test]
    fn show_rc_words() {
        assert_eq!(rc_status(0), "success");
        assert_eq!(rc_status(1), "warning");
        assert_eq!(rc_status(2), "error");
        assert_eq!(rc_status(52), "error");
        assert_eq!(rc_status(107), "warning");
        assert_eq!(rc_status(130), "signal");
    }
}
