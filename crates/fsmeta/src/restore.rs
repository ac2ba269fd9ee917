//! Creating special files and restoring metadata like borg 1.4.5's
//! `Archive.extract_item` and `Archive.restore_attrs` (`src/borg/archive.py`,
//! lines 823-1048 of the tag) on Linux.

use std::ffi::OsStr;
use std::os::fd::BorrowedFd;
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Gid, Mode, Timespec, Timestamps, Uid, CWD};
use rustix::io::Errno;

use crate::acl;
use crate::error::{FsMetaError, Result};
use crate::flags;
use crate::ids;
use crate::sys::Obj;
use crate::xattr::{self, XattrMap, XattrWarning};

/// borg's `get_item_uid_gid(item, numeric=numeric_ids)` (archive.py line
/// 402): unless `numeric_ids`, the local id of the stored user/group name
/// wins; else (or when the name is absent or unknown here) the stored
/// uid/gid; negative ids become 0.
pub fn item_uid_gid(
    uid: i64,
    gid: i64,
    user: Option<&[u8]>,
    group: Option<&[u8]>,
    numeric_ids: bool,
) -> (i64, i64) {
    let pick = |stored: i64, local: Option<u32>| {
        let id = local.map_or(stored, i64::from);
        if id < 0 {
            0
        } else {
            id
        }
    };
    let (lu, lg) = if numeric_ids {
        (None, None)
    } else {
        (user.and_then(ids::uid_for), group.and_then(ids::gid_for))
    };
    (pick(uid, lu), pick(gid, lg))
}

fn raw_uid(id: u32) -> Option<Uid> {
    // (uid_t)-1 means "leave unchanged" to chown(2)
    (id != u32::MAX).then(|| Uid::from_raw(id))
}

fn raw_gid(id: u32) -> Option<Gid> {
    (id != u32::MAX).then(|| Gid::from_raw(id))
}

/// `os.chown(path, uid, gid, follow_symlinks=False)` (`lchown`).
pub fn lchown(path: &Path, uid: u32, gid: u32) -> Result<()> {
    rfs::chownat(
        CWD,
        path,
        raw_uid(uid),
        raw_gid(gid),
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| FsMetaError::io("lchown", path, e))
}

/// `os.fchown(fd, uid, gid)`; `path` names the object in errors.
pub fn fchown(fd: BorrowedFd<'_>, path: &Path, uid: u32, gid: u32) -> Result<()> {
    rfs::fchown(fd, raw_uid(uid), raw_gid(gid)).map_err(|e| FsMetaError::io("fchown", path, e))
}

fn perm_mode(mode: u32) -> Mode {
    Mode::from_raw_mode(mode & 0o7777)
}

/// `os.chmod(path, mode)`: the permission bits (incl. setuid/setgid/sticky)
/// of `mode`, following symlinks. borg never chmods symlinks on Linux
/// (`lchmod` is unsupported there), see [`restore_attrs`].
pub fn chmod(path: &Path, mode: u32) -> Result<()> {
    rfs::chmodat(CWD, path, perm_mode(mode), AtFlags::empty())
        .map_err(|e| FsMetaError::io("chmod", path, e))
}

/// `os.fchmod(fd, mode)`.
pub fn fchmod(fd: BorrowedFd<'_>, path: &Path, mode: u32) -> Result<()> {
    rfs::fchmod(fd, perm_mode(mode)).map_err(|e| FsMetaError::io("fchmod", path, e))
}

/// Python's split of a nanosecond time for `os.utime(ns=...)`:
/// `divmod(ns, 10**9)`.
fn timespec(ns: i64) -> Timespec {
    Timespec {
        tv_sec: ns.div_euclid(1_000_000_000),
        tv_nsec: ns.rem_euclid(1_000_000_000),
    }
}

fn timestamps(atime_ns: i64, mtime_ns: i64) -> Timestamps {
    Timestamps {
        last_access: timespec(atime_ns),
        last_modification: timespec(mtime_ns),
    }
}

/// `os.utime(path, None, ns=(atime_ns, mtime_ns), follow_symlinks=False)`:
/// `utimensat` with `AT_SYMLINK_NOFOLLOW`, nanosecond precision.
pub fn lutimens(path: &Path, atime_ns: i64, mtime_ns: i64) -> Result<()> {
    rfs::utimensat(
        CWD,
        path,
        &timestamps(atime_ns, mtime_ns),
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| FsMetaError::io("utime", path, e))
}

/// `os.utime(fd, None, ns=(atime_ns, mtime_ns))` (`futimens`).
pub fn futimens(fd: BorrowedFd<'_>, path: &Path, atime_ns: i64, mtime_ns: i64) -> Result<()> {
    rfs::futimens(fd, &timestamps(atime_ns, mtime_ns))
        .map_err(|e| FsMetaError::io("utime", path, e))
}

/// `os.mknod(path, mode, rdev)` for a block or character device item:
/// file type and permission bits from `mode` (the umask applies; borg
/// chmods afterwards), device number `rdev` as stored (`st_rdev`). Like
/// glibc, an `rdev` that does not fit the kernel's 32-bit `dev_t` is
/// `EINVAL`. Other file types are `EINVAL` too (borg uses `mkfifo` for
/// fifos and never calls `mknod` for other types).
pub fn mknod(path: &Path, mode: u32, rdev: u64) -> Result<()> {
    let ft = FileType::from_raw_mode(mode);
    if !matches!(ft, FileType::BlockDevice | FileType::CharacterDevice)
        || rdev > u64::from(u32::MAX)
    {
        return Err(FsMetaError::io("mknod", path, Errno::INVAL));
    }
    rfs::mknodat(CWD, path, ft, perm_mode(mode), rdev)
        .map_err(|e| FsMetaError::io("mknod", path, e))
}

/// `os.mkfifo(path)`: mode `0o666` less the umask.
pub fn mkfifo(path: &Path) -> Result<()> {
    rfs::mkfifoat(CWD, path, Mode::from_raw_mode(0o666))
        .map_err(|e| FsMetaError::io("mkfifo", path, e))
}

/// `os.symlink(source, path)`: create `path` pointing to the item's
/// `source` bytes.
pub fn symlink(source: &[u8], path: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    rfs::symlinkat(OsStr::from_bytes(source), CWD, path)
        .map_err(|e| FsMetaError::io("symlink", path, e))
}

/// The item metadata `restore_attrs` uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreItem<'a> {
    /// `mode` (file type and permissions).
    pub mode: u32,
    /// `uid`.
    pub uid: i64,
    /// `gid`.
    pub gid: i64,
    /// `user` (`None` for nil or absent).
    pub user: Option<&'a [u8]>,
    /// `group` (`None` for nil or absent).
    pub group: Option<&'a [u8]>,
    /// `mtime` in ns.
    pub mtime: i64,
    /// `atime` in ns, if stored (`mtime` is used otherwise).
    pub atime: Option<i64>,
    /// `birthtime` in ns, if stored.
    pub birthtime: Option<i64>,
    /// `xattrs`.
    pub xattrs: Option<&'a XattrMap>,
    /// `acl_access`.
    pub acl_access: Option<&'a [u8]>,
    /// `acl_default`.
    pub acl_default: Option<&'a [u8]>,
    /// `bsdflags`.
    pub bsdflags: Option<u32>,
}

/// borg's extract options that `restore_attrs` looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// `--numeric-ids`.
    pub numeric_ids: bool,
    /// `--noacls`.
    pub noacls: bool,
    /// `--noxattrs`.
    pub noxattrs: bool,
    /// `--noflags`.
    pub noflags: bool,
}

/// borg's `Archive.restore_attrs(path, item, symlink, fd)` on Linux, in
/// borg's order:
///
/// 1. owner: [`item_uid_gid`], then `fchown(fd)` or `lchown(path)`; errors
///    ignored (ids beyond `u32` are skipped: Python would raise
///    `OverflowError` there);
/// 2. mode: `fchmod(fd)`, or `chmod(path)` unless `symlink`; errors returned;
/// 3. ACLs unless `noacls` and unless `S_ISLNK(item.mode)` (borg's
///    `acl_set`), from `fd` for the access ACL when given; `ENOTSUP`
///    ignored, other errors returned;
/// 4. xattrs unless `noxattrs` ([`crate::write_xattrs`], not following
///    symlinks, after chown because chown drops `security.capability`);
///    the warnings are returned (borg logs each and sets the warning exit
///    code);
/// 5. times: if `birthtime` is stored, first `utime(atime, birthtime)`
///    (harmless on Linux), then `utime(atime or mtime, mtime)`; errors
///    ignored;
/// 6. `bsdflags` unless `noflags` ([`crate::set_bsdflags`], last because of
///    the immutable flag); errors ignored.
pub fn restore_attrs(
    path: &Path,
    item: &RestoreItem<'_>,
    opts: &RestoreOptions,
    fd: Option<BorrowedFd<'_>>,
    symlink: bool,
) -> Result<Vec<XattrWarning>> {
    let (uid, gid) = item_uid_gid(item.uid, item.gid, item.user, item.group, opts.numeric_ids);
    if let (Ok(uid), Ok(gid)) = (u32::try_from(uid), u32::try_from(gid)) {
        let _ = match fd {
            Some(fd) => fchown(fd, path, uid, gid),
            None => lchown(path, uid, gid),
        };
    }
    match fd {
        Some(fd) => fchmod(fd, path, item.mode)?,
        None if !symlink => chmod(path, item.mode)?,
        None => {}
    }
    if !opts.noacls && FileType::from_raw_mode(item.mode) != FileType::Symlink {
        acl::set_acls(
            fd,
            path,
            item.acl_access,
            item.acl_default,
            opts.numeric_ids,
        )?;
    }
    let mut warnings = Vec::new();
    if !opts.noxattrs {
        if let Some(x) = item.xattrs {
            warnings = match fd {
                Some(fd) => xattr::write_xattrs_fd(fd, x, path),
                None => xattr::set_all(Obj::NoFollow(path), x, path, None),
            };
        }
    }
    let atime = item.atime.unwrap_or(item.mtime);
    let utime = |m| {
        let _ = match fd {
            Some(fd) => futimens(fd, path, atime, m),
            None => lutimens(path, atime, m),
        };
    };
    if let Some(bt) = item.birthtime {
        utime(bt);
    }
    utime(item.mtime);
    if !opts.noflags {
        if let Some(bsd) = item.bsdflags {
            let _ = match fd {
                Some(fd) => flags::set_bsdflags_fd(fd, path, bsd),
                None => flags::set_bsdflags(path, bsd),
            };
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stat::Stat;

    #[test]
    fn uid_gid_mapping() {
        assert_eq!(item_uid_gid(1000, 1001, None, None, false), (1000, 1001));
        assert_eq!(
            item_uid_gid(1000, 1001, Some(b"root"), Some(b"root"), false),
            (0, 0)
        );
        assert_eq!(
            item_uid_gid(1000, 1001, Some(b"root"), Some(b"root"), true),
            (1000, 1001)
        );
        assert_eq!(
            item_uid_gid(5, 6, Some(b"no-such-user-oxiborg"), None, false),
            (5, 6)
        );
        assert_eq!(item_uid_gid(-3, -1, None, None, false), (0, 0));
    }

    #[test]
    fn times_split_like_python() {
        let t = timespec(-1);
        assert_eq!((t.tv_sec, t.tv_nsec), (-1, 999_999_999));
        let t = timespec(1_500_000_000);
        assert_eq!((t.tv_sec, t.tv_nsec), (1, 500_000_000));
    }

    #[test]
    fn restore_file_dir_symlink_fifo_dev() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        let mut xattrs = XattrMap::new();
        xattrs.insert(b"user.a".to_vec(), Some(b"1".to_vec()));
        xattrs.insert(b"user.e".to_vec(), None);
        let item = RestoreItem {
            mode: 0o100_640,
            uid: 65534,
            gid: 65534,
            user: Some(b"no-such-user-oxiborg"),
            group: None,
            mtime: 1_234_567_890_123_456_789,
            atime: Some(1_000_000_000_000_000_007),
            xattrs: Some(&xattrs),
            acl_access: Some(b"user::rw-\nuser:daemon:r--:1\ngroup::r--\nmask::r--\nother::---"),
            ..Default::default()
        };
        let w = restore_attrs(&f, &item, &RestoreOptions::default(), None, false).unwrap();
        assert!(w.is_empty());
        let st = Stat::lstat(&f).unwrap();
        assert_eq!(st.mode, 0o100_640);
        assert_eq!((st.uid, st.gid), (65534, 65534));
        assert_eq!(st.mtime_ns, 1_234_567_890_123_456_789);
        assert_eq!(st.atime_ns, 1_000_000_000_000_000_007);
        assert_eq!(crate::read_xattrs(&f, false).unwrap(), xattrs);
        let acls = crate::read_acls(&f, false, false).unwrap();
        assert_eq!(acls.access.as_deref(), item.acl_access);

        // via fd
        let g = dir.path().join("g");
        let file = std::fs::File::create(&g).unwrap();
        use std::os::fd::AsFd;
        restore_attrs(
            &g,
            &item,
            &RestoreOptions {
                numeric_ids: true,
                ..Default::default()
            },
            Some(file.as_fd()),
            false,
        )
        .unwrap();
        let st = Stat::fstat(file.as_fd(), &g).unwrap();
        assert_eq!(st.mode, 0o100_640);
        assert_eq!(st.mtime_ns, 1_234_567_890_123_456_789);

        // symlink: no chmod, no ACLs, times on the link itself
        let l = dir.path().join("l");
        symlink(b"f", &l).unwrap();
        let litem = RestoreItem {
            mode: 0o120_777,
            uid: 0,
            gid: 0,
            mtime: 42_000_000_001,
            acl_access: Some(b"garbage"),
            ..Default::default()
        };
        restore_attrs(&l, &litem, &RestoreOptions::default(), None, true).unwrap();
        assert_eq!(Stat::lstat(&l).unwrap().mtime_ns, 42_000_000_001);
        assert_eq!(std::fs::read_link(&l).unwrap(), Path::new("f"));
        assert_eq!(Stat::lstat(&f).unwrap().mtime_ns, 1_234_567_890_123_456_789);

        // fifo
        let p = dir.path().join("p");
        mkfifo(&p).unwrap();
        let pitem = RestoreItem {
            mode: 0o010_600,
            mtime: 7,
            ..Default::default()
        };
        restore_attrs(&p, &pitem, &RestoreOptions::default(), None, false).unwrap();
        let st = Stat::lstat(&p).unwrap();
        assert_eq!((st.mode, st.mtime_ns), (0o010_600, 7));

        // char device like /dev/null
        let null = Stat::lstat(Path::new("/dev/null")).unwrap();
        let c = dir.path().join("c");
        match mknod(&c, null.mode, null.rdev) {
            Ok(()) => assert_eq!(Stat::lstat(&c).unwrap().rdev, null.rdev),
            Err(e) => assert_eq!(e.errno(), Some(Errno::PERM.raw_os_error())),
        }
        assert!(mknod(&dir.path().join("bad"), 0o100_644, 0).is_err());
        assert!(mknod(&dir.path().join("bad"), 0o020_644, 1 << 40).is_err());

        // chmod errors are returned
        let missing = dir.path().join("missing");
        assert!(restore_attrs(&missing, &pitem, &RestoreOptions::default(), None, false).is_err());
    }
}
