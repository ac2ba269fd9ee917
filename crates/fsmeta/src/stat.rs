//! `stat` results with the fields borg uses, and borg's
//! `MetadataCollector.stat_simple_attrs` (`src/borg/archive.py`, lines
//! 1255-1278 of tag 1.4.5).

use std::os::fd::BorrowedFd;
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, StatxFlags, StatxTimestamp, CWD};

use crate::error::{FsMetaError, Result};
use crate::ids;

/// `MAX_S` of `src/borg/helpers/time.py` (`SUPPORT_32BIT_PLATFORMS = True`):
/// 48 hours before the 32-bit `time_t` limit.
pub const MAX_S: i64 = (1 << 31) - 1 - 48 * 3600;
/// `MAX_NS = MAX_S * 1000000000`.
pub const MAX_NS: i64 = MAX_S * 1_000_000_000;

/// borg's `safe_ns`: clamp a nanosecond timestamp to `[0, MAX_NS]`.
pub fn safe_ns(ts: i128) -> i64 {
    if ts < 0 {
        0
    } else if ts > i128::from(MAX_NS) {
        MAX_NS
    } else {
        ts as i64
    }
}

/// borg's `safe_s`: clamp a seconds timestamp to `[0, MAX_S]`.
pub fn safe_s(ts: i64) -> i64 {
    ts.clamp(0, MAX_S)
}

/// The stat fields borg uses, as Python's `os.stat_result` has them
/// (`st_*_ns` are `st_*time * 10**9 + st_*time_nsec`, unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// `st_mode`: file type and permission bits.
    pub mode: u32,
    /// `st_uid`.
    pub uid: u32,
    /// `st_gid`.
    pub gid: u32,
    /// `st_size`.
    pub size: u64,
    /// `st_ino`.
    pub ino: u64,
    /// `st_dev` (glibc `makedev` encoding, as `stat(2)` reports it).
    pub dev: u64,
    /// `st_nlink`.
    pub nlink: u64,
    /// `st_rdev` (same encoding as `dev`).
    pub rdev: u64,
    /// `st_atime_ns`.
    pub atime_ns: i128,
    /// `st_mtime_ns`.
    pub mtime_ns: i128,
    /// `st_ctime_ns`.
    pub ctime_ns: i128,
    /// The birth time from `statx` (`STATX_BTIME`), when the filesystem
    /// reports one.
    ///
    /// borg 1.4.5 never stores it on Linux: `platform.get_birthtime_ns`
    /// uses `st_birthtime_ns`/`st_birthtime`, which CPython's
    /// `os.stat_result` does not provide on Linux (3.12 added
    /// `st_birthtime_ns` for Windows, macOS and the BSDs only); the oracle
    /// venv runs Python 3.11.7. So `birthtime` is absent from items made by
    /// borg on Linux.
    pub birthtime_ns: Option<i128>,
}

fn ts_ns(t: StatxTimestamp) -> i128 {
    i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec)
}

impl Stat {
    fn from_statx(x: &rfs::Statx) -> Self {
        let has_btime = StatxFlags::from_bits_retain(x.stx_mask).contains(StatxFlags::BTIME);
        Stat {
            mode: u32::from(x.stx_mode),
            uid: x.stx_uid,
            gid: x.stx_gid,
            size: x.stx_size,
            ino: x.stx_ino,
            dev: rfs::makedev(x.stx_dev_major, x.stx_dev_minor),
            nlink: u64::from(x.stx_nlink),
            rdev: rfs::makedev(x.stx_rdev_major, x.stx_rdev_minor),
            atime_ns: ts_ns(x.stx_atime),
            mtime_ns: ts_ns(x.stx_mtime),
            ctime_ns: ts_ns(x.stx_ctime),
            birthtime_ns: has_btime.then(|| ts_ns(x.stx_btime)),
        }
    }

    fn statx(
        dirfd: BorrowedFd<'_>,
        path: &Path,
        flags: AtFlags,
        op: &'static str,
        err_path: &Path,
    ) -> Result<Self> {
        let mask = StatxFlags::BASIC_STATS | StatxFlags::BTIME;
        rfs::statx(dirfd, path, flags, mask)
            .map(|x| Self::from_statx(&x))
            .map_err(|e| FsMetaError::io(op, err_path, e))
    }

    /// `os.stat(path, follow_symlinks=False)`.
    pub fn lstat(path: &Path) -> Result<Self> {
        Self::statx(CWD, path, AtFlags::SYMLINK_NOFOLLOW, "lstat", path)
    }

    /// `os.stat(path)` (follows symlinks).
    #[allow(clippy::self_named_constructors)]
    pub fn stat(path: &Path) -> Result<Self> {
        Self::statx(CWD, path, AtFlags::empty(), "stat", path)
    }

    /// `os.fstat(fd)`; `path` names the object in errors.
    pub fn fstat(fd: BorrowedFd<'_>, path: &Path) -> Result<Self> {
        Self::statx(fd, Path::new(""), AtFlags::EMPTY_PATH, "fstat", path)
    }

    /// The file type bits of `mode`.
    pub fn file_type(&self) -> FileType {
        FileType::from_raw_mode(self.mode)
    }

    /// `S_ISDIR(mode)`.
    pub fn is_dir(&self) -> bool {
        self.file_type() == FileType::Directory
    }

    /// `S_ISLNK(mode)`.
    pub fn is_symlink(&self) -> bool {
        self.file_type() == FileType::Symlink
    }
}

/// What borg's `stat_simple_attrs` puts into an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleAttrs {
    /// `mode`.
    pub mode: u32,
    /// `uid`.
    pub uid: u32,
    /// `gid`.
    pub gid: u32,
    /// `mtime` (ns, clamped with [`safe_ns`]).
    pub mtime: i64,
    /// `atime`, unless `noatime`.
    pub atime: Option<i64>,
    /// `ctime`, unless `noctime`.
    pub ctime: Option<i64>,
    /// `birthtime`: always `None` from borg 1.4.5 on Linux (see
    /// [`Stat::birthtime_ns`]).
    pub birthtime: Option<i64>,
    /// `user`: the name of `uid`, `None` (nil) with `numeric_ids` or when
    /// unknown. borg stores the key in both cases.
    pub user: Option<Vec<u8>>,
    /// `group`, like `user`.
    pub group: Option<Vec<u8>>,
}

/// borg's `MetadataCollector.stat_simple_attrs(st, path)` on Linux.
pub fn simple_attrs(st: &Stat, numeric_ids: bool, noatime: bool, noctime: bool) -> SimpleAttrs {
    let (user, group) = if numeric_ids {
        (None, None)
    } else {
        (ids::user_name(st.uid), ids::group_name(st.gid))
    };
    SimpleAttrs {
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        mtime: safe_ns(st.mtime_ns),
        atime: (!noatime).then(|| safe_ns(st.atime_ns)),
        ctime: (!noctime).then(|| safe_ns(st.ctime_ns)),
        birthtime: None,
        user,
        group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp() {
        assert_eq!(MAX_NS, 2_147_310_847_000_000_000);
        assert_eq!(safe_ns(-5), 0);
        assert_eq!(safe_ns(5), 5);
        assert_eq!(safe_ns(i128::MAX), MAX_NS);
        assert_eq!(safe_s(-1), 0);
        assert_eq!(safe_s(i64::MAX), MAX_S);
    }

    #[test]
    fn stat_matches_std() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"hello").unwrap();
        let l = dir.path().join("l");
        std::os::unix::fs::symlink("f", &l).unwrap();
        let st = Stat::lstat(&f).unwrap();
        let m = std::fs::symlink_metadata(&f).unwrap();
        assert_eq!(st.mode, m.mode());
        assert_eq!(st.size, 5);
        assert_eq!(st.ino, m.ino());
        assert_eq!(st.dev, m.dev());
        assert_eq!(st.nlink, 1);
        assert_eq!(
            st.mtime_ns,
            i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
        );
        assert!(Stat::lstat(&l).unwrap().is_symlink());
        assert!(!Stat::stat(&l).unwrap().is_symlink());
        let file = std::fs::File::open(&f).unwrap();
        use std::os::fd::AsFd;
        assert_eq!(Stat::fstat(file.as_fd(), &f).unwrap(), st);
        let null = Stat::lstat(Path::new("/dev/null")).unwrap();
        assert_eq!(null.rdev, std::fs::metadata("/dev/null").unwrap().rdev());
        let a = simple_attrs(&st, false, true, false);
        assert_eq!(a.atime, None);
        assert!(a.ctime.is_some());
        let a = simple_attrs(&st, true, false, false);
        assert_eq!((a.user, a.group), (None, None));
        assert!(Stat::lstat(&dir.path().join("missing")).is_err());
    }
}
