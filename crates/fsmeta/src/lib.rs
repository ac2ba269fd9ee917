//! Linux filesystem metadata, read and restored exactly as borg 1.4.5 does
//! it (`src/borg/archive.py: MetadataCollector, Archive.extract_item,
//! Archive.restore_attrs`, `src/borg/xattr.py`, `src/borg/platform/linux.pyx`,
//! `src/borg/platform/posix.pyx`).
//!
//! * [`Stat`]: `lstat`/`stat`/`fstat` with the fields borg uses;
//!   [`simple_attrs`]: borg's `stat_simple_attrs` (`mode`, `uid`, `gid`,
//!   `user`, `group`, `mtime`, `atime`, `ctime`; never `birthtime` on
//!   Linux).
//! * [`user_name`], [`group_name`], [`uid_for`], [`gid_for`]: borg's cached
//!   `uid2user`, `gid2group`, `user2uid`, `group2gid`.
//! * [`read_xattrs`] / [`write_xattrs`]: `xattr.get_all` / `xattr.set_all`.
//! * [`read_acls`] / [`write_acls`]: `acl_get` / `acl_set`, with libacl's
//!   text format reimplemented over the `system.posix_acl_*` xattrs
//!   ([`acl`] module).
//! * [`get_bsdflags`] / [`set_bsdflags`]: `get_flags` / `set_flags` over
//!   `FS_IOC_GETFLAGS`/`FS_IOC_SETFLAGS`.
//! * [`restore_attrs`] and the helpers it uses ([`lchown`], [`chmod`],
//!   [`lutimens`], ...), [`mknod`], [`mkfifo`], [`symlink`], and
//!   [`SparseWriter`] for file content with `--sparse` holes.
//!
//! Nothing here prints: what borg logs as a warning is returned
//! ([`XattrWarning`]); failures are [`FsMetaError`]s naming the path.

pub mod acl;
mod error;
mod flags;
mod ids;
mod restore;
mod sparse;
mod stat;
mod sys;
mod xattr;

pub use acl::{read_acls, read_acls_fd, write_acls, write_acls_fd, Acls};
pub use error::{AclFormatError, FsMetaError, Result};
pub use flags::{
    bsd_to_linux, get_bsdflags, get_bsdflags_fd, linux_mask, linux_to_bsd, set_bsdflags,
    set_bsdflags_fd, UF_APPEND, UF_IMMUTABLE, UF_NODUMP,
};
pub use ids::{gid_for, group_name, uid_for, user_name};
pub use restore::{
    chmod, fchmod, fchown, futimens, item_uid_gid, lchown, lutimens, mkfifo, mknod, restore_attrs,
    symlink, RestoreItem, RestoreOptions,
};
pub use sparse::{is_hole_chunk, SparseWriter, MAX_DATA_SIZE};
pub use stat::{safe_ns, safe_s, simple_attrs, SimpleAttrs, Stat, MAX_NS, MAX_S};
pub use xattr::{
    read_xattrs, read_xattrs_fd, read_xattrs_with_warnings, write_xattrs, write_xattrs_fd,
    XattrMap, XattrOp, XattrWarning, POSIX_ACL_PREFIX,
};
