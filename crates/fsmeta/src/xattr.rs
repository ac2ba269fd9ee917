//! Extended attributes as borg 1.4.5 reads and writes them on Linux
//! (`src/borg/xattr.py: get_all, set_all`, `src/borg/platform/linux.pyx:
//! listxattr, getxattr, setxattr`).

use std::collections::BTreeMap;
use std::fmt;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use rustix::io::Errno;

use crate::error::{FsMetaError, Result};
use crate::sys::Obj;

/// Extended attributes as borg stores them in an item's `xattrs`: name →
/// value, where an empty value is `None` (msgpack nil). Sorted by name, as
/// borg's `StableDict` packs them.
pub type XattrMap = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Names starting with this are never listed: ACLs are stored separately
/// (`linux.pyx: listxattr`, `not name.startswith(b'system.posix_acl_')`).
pub const POSIX_ACL_PREFIX: &[u8] = b"system.posix_acl_";

/// Whether a warning came from reading or from writing an xattr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XattrOp {
    /// `get_all`: `when getting extended attribute ...`.
    Get,
    /// `set_all`: `when setting extended attribute ...`.
    Set,
}

/// A non-fatal xattr failure that borg logs with `logger.warning` and
/// skips. `set_all` also makes borg's exit code a warning (`set_ec(EXIT_WARNING)`
/// in `Archive.restore_attrs`); `get_all` does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XattrWarning {
    /// Reading or writing.
    pub op: XattrOp,
    /// The xattr name.
    pub name: Vec<u8>,
    /// The OS error number.
    pub errno: i32,
    /// The length of the value being set (0 for reads and empty values).
    pub value_len: usize,
    /// The object (for fd-based calls, the path the caller named).
    pub path: PathBuf,
    /// The call was made on a file descriptor (borg then names `<FD n>`).
    pub fd: Option<i32>,
}

impl fmt::Display for XattrWarning {
    /// borg's log message, e.g. `when setting extended attribute user.x: too
    /// big for this filesystem ([Errno 7] Argument list too long: b'/p')`.
    /// The `str(OSError)` part is reproduced in Python's format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = String::from_utf8_lossy(&self.name);
        let target = match self.fd {
            Some(fd) => format!("'<FD {fd}>'"),
            None => py_bytes_repr(self.path.as_os_str().as_encoded_bytes()),
        };
        let oserr = format!(
            "[Errno {}] {}: {}",
            self.errno,
            strerror(self.errno),
            target
        );
        match self.op {
            XattrOp::Get => write!(f, "when getting extended attribute {name}: {oserr}"),
            XattrOp::Set => {
                let detail = if self.errno == Errno::TOOBIG.raw_os_error() {
                    format!("too big for this filesystem ({oserr})")
                } else if self.errno == Errno::NOSPC.raw_os_error() {
                    format!(
                        "fs full or xattr too big? [xattr len = {}] ({oserr})",
                        self.value_len
                    )
                } else {
                    oserr
                };
                write!(f, "when setting extended attribute {name}: {detail}")
            }
        }
    }
}

/// `strerror(errno)` without Rust's ` (os error N)` suffix.
pub(crate) fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Python's `repr()` of a bytes object.
pub(crate) fn py_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::with_capacity(b.len() + 3);
    s.push('b');
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

/// Split a list of NUL-terminated strings (`platform/xattr.py:
/// split_string0`: `buf.split(b'\0')[:-1]`).
fn split_string0(buf: &[u8]) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = buf.split(|&b| b == 0).collect();
    parts.pop();
    parts
}

/// All extended attributes of `path`, exactly as borg's `xattr.get_all`
/// returns them on Linux; warnings are dropped (see
/// [`read_xattrs_with_warnings`]).
pub fn read_xattrs(path: &Path, follow_symlinks: bool) -> Result<XattrMap> {
    read_xattrs_with_warnings(path, follow_symlinks).map(|(m, _)| m)
}

/// Like [`read_xattrs`], also returning what borg would log as warnings.
///
/// * names come from `listxattr`/`llistxattr`; empty names and names
///   starting with `system.posix_acl_` are skipped (`linux.pyx: listxattr`);
/// * an empty value becomes `None` (`get_all`: `getxattr(...) or None`);
/// * `ENODATA` (ENOATTR) on a single value is ignored silently (the
///   attribute went away after listing), any other error on a single value
///   (`EPERM`, `EINVAL`, ...) is a warning and the name is skipped;
/// * if listing fails with `ENOTSUP` or `EPERM` the result is empty; other
///   listing errors are returned.
pub fn read_xattrs_with_warnings(
    path: &Path,
    follow_symlinks: bool,
) -> Result<(XattrMap, Vec<XattrWarning>)> {
    get_all(Obj::new(path, follow_symlinks), path, None)
}

/// [`read_xattrs_with_warnings`] on an open file (`get_all(fd)`, which borg
/// uses for files it opened); `path` only names the object in errors.
pub fn read_xattrs_fd(fd: BorrowedFd<'_>, path: &Path) -> Result<(XattrMap, Vec<XattrWarning>)> {
    use std::os::fd::AsRawFd;
    get_all(Obj::Fd(fd), path, Some(fd.as_raw_fd()))
}

fn get_all(obj: Obj<'_>, path: &Path, fd: Option<i32>) -> Result<(XattrMap, Vec<XattrWarning>)> {
    let mut result = XattrMap::new();
    let mut warnings = Vec::new();
    let list = match obj.list() {
        Ok(list) => list,
        // xattrs not supported on this fs, or listing not permitted: give up.
        Err(Errno::NOTSUP | Errno::PERM) => return Ok((result, warnings)),
        Err(e) => return Err(FsMetaError::io("listxattr", path, e)),
    };
    for name in split_string0(&list) {
        if name.is_empty() || name.starts_with(POSIX_ACL_PREFIX) {
            continue;
        }
        match obj.get(name) {
            Ok(v) => {
                result.insert(name.to_vec(), if v.is_empty() { None } else { Some(v) });
            }
            Err(Errno::NODATA) => {}
            Err(e) => warnings.push(XattrWarning {
                op: XattrOp::Get,
                name: name.to_vec(),
                errno: e.raw_os_error(),
                value_len: 0,
                path: path.to_path_buf(),
                fd,
            }),
        }
    }
    Ok((result, warnings))
}

/// Set every xattr of `xattrs` on `path` like borg's `xattr.set_all`: in
/// map order, `None` as an empty value, flags 0 (create or replace),
/// `lsetxattr` unless `follow_symlinks`. No failure is fatal: each becomes
/// a warning (borg logs it and sets the warning exit code), e.g. `E2BIG`
/// ("too big for this filesystem"), `ENOSPC` (ext4's 4 KiB value limit),
/// `EPERM`/`EACCES` (e.g. `security.*` or `trusted.*` as non-root),
/// `ENOTSUP`.
pub fn write_xattrs(path: &Path, xattrs: &XattrMap, follow_symlinks: bool) -> Vec<XattrWarning> {
    set_all(Obj::new(path, follow_symlinks), xattrs, path, None)
}

/// [`write_xattrs`] on an open file (`set_all(fd)`); `path` only names the
/// object in warnings.
pub fn write_xattrs_fd(fd: BorrowedFd<'_>, xattrs: &XattrMap, path: &Path) -> Vec<XattrWarning> {
    use std::os::fd::AsRawFd;
    set_all(Obj::Fd(fd), xattrs, path, Some(fd.as_raw_fd()))
}

pub(crate) fn set_all(
    obj: Obj<'_>,
    xattrs: &XattrMap,
    path: &Path,
    fd: Option<i32>,
) -> Vec<XattrWarning> {
    let mut warnings = Vec::new();
    for (k, v) in xattrs {
        let value = v.as_deref().unwrap_or(b"");
        if let Err(e) = obj.set(k, value) {
            warnings.push(XattrWarning {
                op: XattrOp::Set,
                name: k.clone(),
                errno: e.raw_os_error(),
                value_len: value.len(),
                path: path.to_path_buf(),
                fd,
            });
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split0() {
        assert_eq!(split_string0(b""), Vec::<&[u8]>::new());
        assert_eq!(split_string0(b"a\0bc\0"), vec![&b"a"[..], &b"bc"[..]]);
        // a trailing piece without NUL is dropped, like borg does
        assert_eq!(split_string0(b"a\0b"), vec![&b"a"[..]]);
    }

    #[test]
    fn repr() {
        assert_eq!(py_bytes_repr(b"/tmp/a b"), "b'/tmp/a b'");
        assert_eq!(py_bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(py_bytes_repr(b"\xff\n\\"), "b'\\xff\\n\\\\'");
    }

    #[test]
    fn warning_text() {
        let w = XattrWarning {
            op: XattrOp::Set,
            name: b"user.big".to_vec(),
            errno: Errno::NOSPC.raw_os_error(),
            value_len: 9000,
            path: PathBuf::from("/x/y"),
            fd: None,
        };
        assert_eq!(
            w.to_string(),
            "when setting extended attribute user.big: fs full or xattr too big? \
             [xattr len = 9000] ([Errno 28] No space left on device: b'/x/y')"
        );
        let w = XattrWarning {
            op: XattrOp::Get,
            fd: Some(5),
            errno: 1,
            ..w
        };
        assert_eq!(
            w.to_string(),
            "when getting extended attribute user.big: [Errno 1] Operation not permitted: '<FD 5>'"
        );
    }

    #[test]
    fn roundtrip_on_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        let mut m = XattrMap::new();
        m.insert(b"user.empty".to_vec(), None);
        m.insert(b"user.bin".to_vec(), Some(vec![0, 0xff, 1]));
        m.insert(b"user.\xffname".to_vec(), Some(b"v".to_vec()));
        assert!(write_xattrs(&f, &m, false).is_empty());
        assert_eq!(read_xattrs(&f, false).unwrap(), m);
        let file = std::fs::File::open(&f).unwrap();
        use std::os::fd::AsFd;
        assert_eq!(read_xattrs_fd(file.as_fd(), &f).unwrap().0, m);
        // symlink: user.* is not allowed on symlinks -> warning (EPERM)
        let l = dir.path().join("l");
        std::os::unix::fs::symlink("f", &l).unwrap();
        let w = write_xattrs(&l, &m, false);
        assert_eq!(w.len(), 3);
        assert!(w.iter().all(|w| w.errno == Errno::PERM.raw_os_error()));
        assert!(read_xattrs(&l, false).unwrap().is_empty());
        assert_eq!(read_xattrs(&l, true).unwrap(), m);
        // missing file: listing error is returned
        let e = read_xattrs(&dir.path().join("missing"), false).unwrap_err();
        assert_eq!(e.errno(), Some(Errno::NOENT.raw_os_error()));
    }
}
