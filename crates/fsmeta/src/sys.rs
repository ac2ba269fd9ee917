//! Thin wrappers choosing between the path, `l`-path and fd forms of the
//! xattr system calls, with buffers grown as needed.

use std::os::fd::BorrowedFd;
use std::path::Path;

use rustix::fs::{self as rfs, XattrFlags};
use rustix::io::Errno;

/// What an xattr call operates on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Obj<'a> {
    /// A path, following a final symlink (`getxattr`, ...).
    Follow(&'a Path),
    /// A path, not following a final symlink (`lgetxattr`, ...).
    NoFollow(&'a Path),
    /// An open file descriptor (`fgetxattr`, ...).
    Fd(BorrowedFd<'a>),
}

impl<'a> Obj<'a> {
    pub(crate) fn new(path: &'a Path, follow_symlinks: bool) -> Self {
        if follow_symlinks {
            Obj::Follow(path)
        } else {
            Obj::NoFollow(path)
        }
    }

    fn list_into(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match *self {
            Obj::Follow(p) => rfs::listxattr(p, buf),
            Obj::NoFollow(p) => rfs::llistxattr(p, buf),
            Obj::Fd(fd) => rfs::flistxattr(fd, buf),
        }
    }

    fn list_size(&self) -> Result<usize, Errno> {
        match *self {
            Obj::Follow(p) => rfs::listxattr_query(p),
            Obj::NoFollow(p) => rfs::llistxattr_query(p),
            Obj::Fd(fd) => rfs::flistxattr_query(fd),
        }
    }

    fn get_into(&self, name: &[u8], buf: &mut [u8]) -> Result<usize, Errno> {
        match *self {
            Obj::Follow(p) => rfs::getxattr(p, name, buf),
            Obj::NoFollow(p) => rfs::lgetxattr(p, name, buf),
            Obj::Fd(fd) => rfs::fgetxattr(fd, name, buf),
        }
    }

    /// The size of xattr `name` (`getxattr(..., NULL, 0)`).
    pub(crate) fn get_size(&self, name: &[u8]) -> Result<usize, Errno> {
        match *self {
            Obj::Follow(p) => rfs::getxattr_query(p, name),
            Obj::NoFollow(p) => rfs::lgetxattr_query(p, name),
            Obj::Fd(fd) => rfs::fgetxattr_query(fd, name),
        }
    }

    /// The NUL-separated list of xattr names.
    pub(crate) fn list(&self) -> Result<Vec<u8>, Errno> {
        grow(|| self.list_size(), |buf| self.list_into(buf))
    }

    /// The value of xattr `name`.
    pub(crate) fn get(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        grow(|| self.get_size(name), |buf| self.get_into(name, buf))
    }

    /// Set xattr `name` to `value` (flags 0: create or replace).
    pub(crate) fn set(&self, name: &[u8], value: &[u8]) -> Result<(), Errno> {
        let flags = XattrFlags::empty();
        match *self {
            Obj::Follow(p) => rfs::setxattr(p, name, value, flags),
            Obj::NoFollow(p) => rfs::lsetxattr(p, name, value, flags),
            Obj::Fd(fd) => rfs::fsetxattr(fd, name, value, flags),
        }
    }
}

/// Read into a small buffer first (one system call in the common case:
/// nothing, or a short list); when that is too small (`ERANGE`), ask for
/// the size, then read, retrying with a bigger buffer when the value grew
/// in between.
fn grow(
    size: impl Fn() -> Result<usize, Errno>,
    mut read: impl FnMut(&mut [u8]) -> Result<usize, Errno>,
) -> Result<Vec<u8>, Errno> {
    let mut first = [0u8; 1024];
    match read(&mut first) {
        Ok(n) => return Ok(first[..n].to_vec()),
        Err(Errno::RANGE) => {}
        Err(e) => return Err(e),
    }
    let mut want = size()?;
    loop {
        if want == 0 {
            // A zero-length buffer would be a size query again: check that
            // it is still empty by reading into a 1-byte buffer.
            want = 1;
        }
        let mut buf = vec![0u8; want];
        match read(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(Errno::RANGE) => want = size()?.max(want.saturating_mul(2)),
            Err(e) => return Err(e),
        }
    }
}
