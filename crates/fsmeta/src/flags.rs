//! BSD-style file flags (`bsdflags`) on Linux, from the inode flags of
//! `FS_IOC_GETFLAGS` / `FS_IOC_SETFLAGS` (borg 1.4.5
//! `src/borg/platform/linux.pyx: BSD_TO_LINUX_FLAGS, get_flags, set_flags`,
//! lines 125-196 of the tag).
//!
//! Only three flags are mapped: `FS_NODUMP_FL` ↔ `UF_NODUMP`,
//! `FS_IMMUTABLE_FL` ↔ `UF_IMMUTABLE`, `FS_APPEND_FL` ↔ `UF_APPEND`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{self as rfs, FileType, IFlags, Mode, OFlags, CWD};
use rustix::io::Errno;

use crate::error::{FsMetaError, Result};

/// `stat.UF_NODUMP`.
pub const UF_NODUMP: u32 = 0x0000_0001;
/// `stat.UF_IMMUTABLE`.
pub const UF_IMMUTABLE: u32 = 0x0000_0002;
/// `stat.UF_APPEND`.
pub const UF_APPEND: u32 = 0x0000_0004;

const BSD_TO_LINUX: [(u32, IFlags); 3] = [
    (UF_NODUMP, IFlags::NODUMP),
    (UF_IMMUTABLE, IFlags::IMMUTABLE),
    (UF_APPEND, IFlags::APPEND),
];

/// `LINUX_MASK`: the inode flags borg reads and sets.
pub fn linux_mask() -> u32 {
    (IFlags::NODUMP | IFlags::IMMUTABLE | IFlags::APPEND).bits()
}

/// Map Linux inode flags to borg's BSD flags.
pub fn linux_to_bsd(linux_flags: u32) -> u32 {
    BSD_TO_LINUX
        .iter()
        .filter(|(_, l)| linux_flags & l.bits() != 0)
        .fold(0, |acc, (b, _)| acc | b)
}

/// Map borg's BSD flags to Linux inode flags (others are dropped).
pub fn bsd_to_linux(bsd_flags: u32) -> u32 {
    BSD_TO_LINUX
        .iter()
        .filter(|(b, _)| bsd_flags & b != 0)
        .fold(0, |acc, (_, l)| acc | l.bits())
}

fn skipped(mode: u32) -> bool {
    matches!(
        FileType::from_raw_mode(mode),
        FileType::BlockDevice | FileType::CharacterDevice | FileType::Symlink
    )
}

fn open_nofollow(path: &Path) -> rustix::io::Result<OwnedFd> {
    rfs::openat(
        CWD,
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// borg's `get_flags(path, st)`: 0 for block/char devices and symlinks
/// (never opened), else the mapped flags of the object opened with
/// `O_RDONLY|O_NONBLOCK|O_NOFOLLOW`; any failure (open, ioctl) gives 0.
/// `st_mode` is the mode of the caller's stat. borg stores the result as
/// `bsdflags` only when it is not 0.
pub fn get_bsdflags(path: &Path, st_mode: u32) -> u32 {
    if skipped(st_mode) {
        return 0;
    }
    match open_nofollow(path) {
        Ok(fd) => get_bsdflags_fd(fd.as_fd(), st_mode),
        Err(_) => 0,
    }
}

/// borg's `get_flags(path, st, fd=fd)`.
pub fn get_bsdflags_fd(fd: BorrowedFd<'_>, st_mode: u32) -> u32 {
    if skipped(st_mode) {
        return 0;
    }
    rfs::ioctl_getflags(fd).map_or(0, |f| linux_to_bsd(f.bits()))
}

/// borg's `set_flags(path, bsd_flags)`: `lstat` the path and do nothing for
/// block/char devices and symlinks; open it `O_RDONLY|O_NONBLOCK|O_NOFOLLOW`;
/// read the current flags (if that fails, silently do nothing); replace
/// only the three mapped bits and set the result. `EOPNOTSUPP` and `ENOTTY`
/// from setting are ignored; other errors are returned (borg's
/// `restore_attrs` then ignores them too).
pub fn set_bsdflags(path: &Path, bsd_flags: u32) -> Result<()> {
    let st = rfs::lstat(path).map_err(|e| FsMetaError::io("lstat", path, e))?;
    if skipped(st.st_mode) {
        return Ok(());
    }
    let fd = open_nofollow(path).map_err(|e| FsMetaError::io("open", path, e))?;
    set_bsdflags_fd(fd.as_fd(), path, bsd_flags)
}

/// borg's `set_flags(path, bsd_flags, fd=fd)`: like [`set_bsdflags`] on an
/// open file, without the type check; `path` names the object in errors.
pub fn set_bsdflags_fd(fd: BorrowedFd<'_>, path: &Path, bsd_flags: u32) -> Result<()> {
    let Ok(current) = rfs::ioctl_getflags(fd) else {
        return Ok(());
    };
    let mask = linux_mask();
    let flags = (current.bits() & !mask) | (bsd_to_linux(bsd_flags) & mask);
    match rfs::ioctl_setflags(fd, IFlags::from_bits_retain(flags)) {
        Ok(()) | Err(Errno::NOTSUP | Errno::NOTTY) => Ok(()),
        Err(e) => Err(FsMetaError::io("ioctl(FS_IOC_SETFLAGS)", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping() {
        assert_eq!(linux_mask(), 0x10 | 0x20 | 0x40);
        assert_eq!(linux_to_bsd(0x40), UF_NODUMP);
        assert_eq!(linux_to_bsd(0x10), UF_IMMUTABLE);
        assert_eq!(linux_to_bsd(0x20), UF_APPEND);
        assert_eq!(linux_to_bsd(0x80000 | 0x40), UF_NODUMP); // extents flag ignored
        assert_eq!(bsd_to_linux(7 | 0x100), 0x70);
    }

    #[test]
    fn nodump_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        let mode = rfs::lstat(&f).unwrap().st_mode;
        if rfs::ioctl_getflags(open_nofollow(&f).unwrap()).is_err() {
            return; // fs without inode flags
        }
        assert_eq!(get_bsdflags(&f, mode), 0);
        set_bsdflags(&f, UF_NODUMP).unwrap();
        assert_eq!(get_bsdflags(&f, mode), UF_NODUMP);
        set_bsdflags(&f, 0).unwrap();
        assert_eq!(get_bsdflags(&f, mode), 0);
        // symlinks and missing paths
        let l = dir.path().join("l");
        std::os::unix::fs::symlink("f", &l).unwrap();
        set_bsdflags(&l, UF_NODUMP).unwrap();
        assert_eq!(get_bsdflags(&f, mode), 0);
        assert_eq!(get_bsdflags(&dir.path().join("missing"), mode), 0);
        assert!(set_bsdflags(&dir.path().join("missing"), UF_NODUMP).is_err());
    }
}
