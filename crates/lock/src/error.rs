//! Lock errors, worded like borg's `locking.py` exceptions.

use std::path::PathBuf;

/// Errors of the locking code. The messages follow borg's wording
/// (`LockTimeout`, `LockFailed`, `NotLocked`, `NotMyLock`).
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// borg `LockTimeout` (exit code 73 in borg's modern exit-code mode, 2 otherwise):
    /// the lock could not be acquired within the timeout.
    #[error("Failed to create/acquire the lock {} (timeout).", path.display())]
    Timeout {
        /// The lock path borg would name: `<base>.exclusive` (absolute) when
        /// `lock.exclusive` could not be taken, `<base>` when shared lockers
        /// kept an exclusive request waiting.
        path: PathBuf,
    },
    /// borg `LockFailed` (exit code 72): the lock could not be created at all
    /// (e.g. the temporary directory or file could not be made), or the lock
    /// data is in a state where borg itself would abort.
    #[error("Failed to create/acquire the lock {} ({reason}).", path.display())]
    Failed {
        /// The lock path concerned.
        path: PathBuf,
        /// What went wrong, e.g. `[Errno 13] Permission denied: '/repo/lock.exclusive.x.tmp'`.
        reason: String,
    },
    /// borg `NotLocked` (exit code 74): release of a lock that does not exist.
    #[error("Failed to release the lock {} (was not locked).", path.display())]
    NotLocked {
        /// The `lock.exclusive` path.
        path: PathBuf,
    },
    /// borg `NotMyLock` (exit code 75): release of a lock that someone else holds.
    #[error("Failed to release the lock {} (was/is locked, but not by me).", path.display())]
    NotMyLock {
        /// The `lock.exclusive` path.
        path: PathBuf,
    },
    /// An operating-system error where borg would let the `OSError` propagate.
    #[error("lock I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory the operation failed on.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl LockError {
    /// borg's "modern" exit code for this error (`BORG_EXIT_CODES=modern`);
    /// with legacy exit codes every one of them is rc 2.
    pub fn exit_code(&self) -> i32 {
        match self {
            LockError::Timeout { .. } => 73,
            LockError::Failed { .. } => 72,
            LockError::NotLocked { .. } => 74,
            LockError::NotMyLock { .. } => 75,
            LockError::Io { .. } => 2,
        }
    }
}

/// Python's `str(OSError)`: `[Errno 13] Permission denied: '/path'`.
pub(crate) fn py_os_error_str(err: &std::io::Error, path: &std::path::Path) -> String {
    let text = err.to_string();
    match err.raw_os_error() {
        Some(code) => {
            let suffix = format!(" (os error {code})");
            let msg = text.strip_suffix(&suffix).unwrap_or(&text);
            format!("[Errno {code}] {msg}: '{}'", path.display())
        }
        None => format!("{text}: '{}'", path.display()),
    }
}
