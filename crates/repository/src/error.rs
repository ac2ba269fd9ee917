//! Typed repository errors. Each carries the context a user needs: the
//! repository path, the segment and offset, the object id.

use std::path::PathBuf;

/// A 32-byte object id, shown as hex in messages.
pub type Id = [u8; 32];

/// What can go wrong in the repository layer. The variants named like borg's
/// exception classes map one to one onto borg's exit codes in the CLI.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// `Repository.DoesNotExist`
    #[error("Repository {path} does not exist.")]
    DoesNotExist {
        /// The location given.
        path: PathBuf,
    },
    /// `Repository.AlreadyExists`
    #[error("A repository already exists at {path}.")]
    AlreadyExists {
        /// The location given.
        path: PathBuf,
    },
    /// `Repository.PathAlreadyExists`
    #[error("There is already something at {path}.")]
    PathAlreadyExists {
        /// The location given.
        path: PathBuf,
    },
    /// `Repository.ParentPathDoesNotExist`
    #[error("The parent path of the repo directory [{path}] does not exist.")]
    ParentPathDoesNotExist {
        /// The location given.
        path: PathBuf,
    },
    /// `Repository.PathPermissionDenied`
    #[error("Permission denied to {path}.")]
    PathPermissionDenied {
        /// The location given.
        path: PathBuf,
    },
    /// `Repository.InvalidRepository`
    #[error("{path} is not a valid repository. Check repo config.")]
    InvalidRepository {
        /// The location given.
        path: PathBuf,
    },
    /// `Repository.InvalidRepositoryConfig`
    #[error("{path} does not have a valid configuration. Check repo config [{reason}].")]
    InvalidRepositoryConfig {
        /// The location given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `Repository.AtticRepository`
    #[error("Attic repository detected. Please run \"borg upgrade {path}\".")]
    AtticRepository {
        /// The location given.
        path: PathBuf,
    },
    /// `Repository.CheckNeeded`
    #[error("Inconsistency detected. Please run \"borg check {path}\".")]
    CheckNeeded {
        /// The location given.
        path: PathBuf,
    },
    /// `Repository.ObjectNotFound`
    #[error("Object with key {} not found in repository {path}.", hex::encode(.id))]
    ObjectNotFound {
        /// The object id.
        id: Id,
        /// The repository.
        path: PathBuf,
    },
    /// `Repository.StorageQuotaExceeded`
    #[error("The storage quota ({quota}) has been exceeded ({used}). Try deleting some archives.")]
    StorageQuotaExceeded {
        /// The quota, formatted as borg does (`10.49 MB`).
        quota: String,
        /// The usage, formatted as borg does.
        used: String,
    },
    /// `Repository.InsufficientFreeSpaceError`
    #[error("Insufficient free space to complete transaction (required: {required}, available: {available}).")]
    InsufficientFreeSpace {
        /// Bytes required, formatted as borg does.
        required: String,
        /// Bytes free, formatted as borg does.
        available: String,
    },
    /// `IntegrityError` in a segment entry.
    #[error("Data integrity error: {reason} [segment {segment}, offset {offset}]")]
    Integrity {
        /// The segment number.
        segment: u32,
        /// The byte offset of the entry.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// `IntegrityError` for a request (e.g. a put that is too large).
    #[error("Data integrity error: {0}")]
    IntegrityOther(String),
    /// `FileIntegrityError` of index, hints or integrity files.
    #[error("File failed integrity check: {path}: {reason}")]
    FileIntegrity {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// An operation refused in append-only mode.
    #[error("{path} is in append-only mode")]
    AppendOnly {
        /// The repository.
        path: PathBuf,
    },
    /// The nonce reservation protocol saw a different previous value.
    #[error("nonce space reservation with mismatched previous state")]
    NonceMismatch,
    /// The repository's nonce file does not hold 16 hex digits.
    #[error("Repository has an invalid nonce file: {0}")]
    InvalidNonceFile(String),
    /// A write or nonce call without the exclusive lock.
    #[error("repository is not locked exclusively; this is a bug in the caller")]
    NotExclusivelyLocked,
    /// A call that needs an open transaction.
    #[error("no active transaction")]
    NoActiveTransaction,
    /// borg `PathNotAllowed`: a served repository path outside the
    /// `--restrict-to-path`/`--restrict-to-repository` set.
    #[error("Repository path not allowed: {path}")]
    PathNotAllowed {
        /// The path as the client sent it (or as the server resolved it).
        path: String,
    },
    /// borg `InvalidRPCMethod`: a method the server does not offer.
    #[error("RPC method {method} is not valid.")]
    InvalidRpcMethod {
        /// The method name.
        method: String,
    },
    /// borg `ConnectionClosed`: the peer went away.
    #[error("Connection closed by remote host.")]
    ConnectionClosed,
    /// borg `ConnectionClosedWithHint`.
    #[error("Connection closed by remote host. {0}")]
    ConnectionClosedWithHint(String),
    /// borg `ConnectionBrokenWithHint`: writing to the server failed.
    #[error("Connection to remote host is broken. {0}")]
    ConnectionBrokenWithHint(String),
    /// borg `RPCServerOutdated`: the server is too old for a call.
    #[error("Borg server is too old for {method}. Required version {required}")]
    RpcServerOutdated {
        /// The method (and argument) concerned.
        method: String,
        /// The version it needs.
        required: String,
    },
    /// borg `UnexpectedRPCDataFormatFromServer`.
    #[error("Got unexpected RPC data format from server:\n{0}")]
    UnexpectedRpcDataFromServer(String),
    /// The server sent bytes that are not msgpack, a message over the size
    /// limit, or one with too many values. borg fails here with a "Local
    /// Exception" (`UnpackException`, `BufferFull`): rc 2 in both modes.
    #[error("Got invalid RPC data from server: {0}")]
    InvalidRpcDataFromServer(String),
    /// borg `UnexpectedRPCDataFormatFromClient`.
    #[error("Borg {version}: Got unexpected RPC data format from client.")]
    UnexpectedRpcDataFromClient {
        /// The server's version, as borg prints it.
        version: String,
    },
    /// borg's plain `Error` or `ErrorWithTraceback` raised on the server.
    #[error("{message}")]
    RemoteError {
        /// The message.
        message: String,
        /// Whether borg shows a traceback for it.
        traceback: bool,
    },
    /// Any other exception raised on the server (borg's `RPCError`): shown
    /// with its traceback when borg would show it.
    #[error("{}", if *.traceback { .full } else { .message })]
    RemoteException {
        /// The Python class name.
        class: String,
        /// The formatted message (`exception_short`).
        message: String,
        /// The traceback lines (`exception_full`).
        full: String,
        /// Whether borg shows the traceback.
        traceback: bool,
    },
    /// Locking failed.
    #[error(transparent)]
    Lock(#[from] oxiborg_lock::LockError),
    /// Any I/O failure, with the file it concerned.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// borg's `format_file_size` (decimal units, two decimals), used in the
/// texts of the quota and free-space errors.
pub fn format_size(bytes: u64) -> String {
    oxiborg_textfmt::format_file_size(i128::from(bytes), 2, false, false)
}

impl RepositoryError {
    /// Wrap an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RepositoryError::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether this is "no space left on device" (ENOSPC), the one error
    /// after which borg deletes the partial transaction at once.
    pub fn is_no_space(&self) -> bool {
        match self {
            RepositoryError::Io { source, .. } => is_no_space(source),
            _ => false,
        }
    }
}

/// Whether an I/O error is ENOSPC (not EDQUOT: borg checks ENOSPC only).
pub(crate) fn is_no_space(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error())
}

/// Result alias for the repository layer.
pub type Result<T, E = RepositoryError> = std::result::Result<T, E>;
