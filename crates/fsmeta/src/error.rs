//! The crate's error type.

use std::io;
use std::path::{Path, PathBuf};

/// Why a POSIX ACL could not be converted (binary xattr or text form).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclFormatError {
    /// The `system.posix_acl_*` value is not a version-2 `posix_acl_xattr`
    /// (libacl's `__acl_from_xattr` fails with `EINVAL`).
    #[error("malformed posix_acl xattr value: {0}")]
    BadXattr(&'static str),
    /// borg's text converters would raise (`ValueError`/`IndexError` in
    /// `acl_append_numeric_ids`, `acl_numeric_ids`, `acl_use_local_uid_gid`).
    #[error("malformed ACL entry {entry:?}: {reason}")]
    BadEntry {
        /// The offending entry (one line of the text).
        entry: Vec<u8>,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// libacl's `acl_from_text` rejects the text (`EINVAL`), e.g. a bad tag,
    /// bad permissions or a user/group name unknown here.
    #[error("acl_from_text rejects {text:?} at byte {offset}")]
    BadText {
        /// The text given to `acl_from_text`.
        text: Vec<u8>,
        /// Byte offset where parsing stopped.
        offset: usize,
    },
}

/// An error of this crate; every variant names the path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum FsMetaError {
    /// A system call failed.
    #[error("{op} {path}: {source}", path = .path.display())]
    Io {
        /// What was being done (the system call or borg's operation).
        op: &'static str,
        /// The filesystem object.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// An ACL could not be converted.
    #[error("ACL of {path}: {source}", path = .path.display())]
    Acl {
        /// The filesystem object.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: AclFormatError,
    },
}

impl FsMetaError {
    /// The OS error number, when this is an I/O error that has one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            FsMetaError::Io { source, .. } => source.raw_os_error(),
            FsMetaError::Acl { .. } => None,
        }
    }

    /// The path this error concerns.
    pub fn path(&self) -> &Path {
        match self {
            FsMetaError::Io { path, .. } | FsMetaError::Acl { path, .. } => path,
        }
    }

    pub(crate) fn io(op: &'static str, path: &Path, errno: rustix::io::Errno) -> Self {
        FsMetaError::Io {
            op,
            path: path.to_path_buf(),
            source: io::Error::from(errno),
        }
    }

    pub(crate) fn std_io(op: &'static str, path: &Path, source: io::Error) -> Self {
        FsMetaError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn acl(path: &Path, source: AclFormatError) -> Self {
        FsMetaError::Acl {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = FsMetaError> = std::result::Result<T, E>;
