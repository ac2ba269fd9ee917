//! Item metadata from the filesystem, as borg's `MetadataCollector`.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use oxiborg_format::Item;

use crate::create::mode_type_bits;

/// Which metadata `create` stores.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetaOptions {
    /// `--numeric-ids`: store nil user and group names.
    pub numeric_ids: bool,
    /// `--atime`: store atime.
    pub atime: bool,
    /// `--noctime`.
    pub noctime: bool,
    /// `--nobirthtime`.
    pub nobirthtime: bool,
    /// `--noflags` (also `--nobsdflags`).
    pub noflags: bool,
    /// `--noxattrs`.
    pub noxattrs: bool,
    /// `--noacls`.
    pub noacls: bool,
}

/// borg's `safe_ns`: clamped to `[0, MAX_NS]` (borg keeps 32-bit
/// platforms supported, so MAX_NS is near 2038).
fn safe_ns(ns: i128) -> i128 {
    i128::from(oxiborg_fsmeta::safe_ns(ns))
}

/// mtime in ns.
pub fn mtime_ns(st: &Metadata) -> i128 {
    i128::from(st.mtime()) * 1_000_000_000 + i128::from(st.mtime_nsec())
}

/// ctime in ns.
pub fn ctime_ns(st: &Metadata) -> i128 {
    i128::from(st.ctime()) * 1_000_000_000 + i128::from(st.ctime_nsec())
}

/// atime in ns.
pub fn atime_ns(st: &Metadata) -> i128 {
    i128::from(st.atime()) * 1_000_000_000 + i128::from(st.atime_nsec())
}

/// `stat_simple_attrs`: mode, owner, times.
pub fn stat_simple_attrs(item: &mut Item, st: &Metadata, o: &MetaOptions) -> Result<(), String> {
    item.mode = Some((st.mode() & 0o7777) | mode_type_bits(st));
    item.uid = Some(i64::from(st.uid()));
    item.gid = Some(i64::from(st.gid()));
    item.mtime = safe_ns(mtime_ns(st));
    if o.atime {
        item.atime = Some(safe_ns(atime_ns(st)));
    }
    if !o.noctime {
        item.ctime = Some(safe_ns(ctime_ns(st)));
    }
    if o.numeric_ids {
        item.user = Some(None);
        item.group = Some(None);
    } else {
        item.user = Some(oxiborg_fsmeta::user_name(st.uid()));
        item.group = Some(oxiborg_fsmeta::group_name(st.gid()));
    }
    Ok(())
}

/// `stat_ext_attrs`: flags, xattrs, ACLs.
pub fn stat_ext_attrs(
    item: &mut Item,
    path: &Path,
    st: &Metadata,
    o: &MetaOptions,
) -> Result<(), String> {
    let is_link = st.file_type().is_symlink();
    if !o.noflags && !is_link {
        let flags = oxiborg_fsmeta::get_bsdflags(path, st.mode());
        if flags != 0 {
            item.bsdflags = Some(u64::from(flags));
        }
    }
    if !o.noxattrs {
        let x = oxiborg_fsmeta::read_xattrs(path, false).map_err(|e| e.to_string())?;
        if !x.is_empty() {
            item.xattrs = Some(x);
        }
    }
    if !o.noacls && !is_link {
        let acls = oxiborg_fsmeta::read_acls(path, st.is_dir(), o.numeric_ids)
            .map_err(|e| e.to_string())?;
        item.acl_access = acls.access;
        item.acl_default = acls.default;
    }
    Ok(())
}

/// [`stat_ext_attrs`] for a file that is open (borg passes the fd):
/// flags, xattrs and the access ACL come from `file`, with no path lookup
/// and no second open.
pub fn stat_ext_attrs_fd(
    item: &mut Item,
    file: &std::fs::File,
    path: &Path,
    st: &Metadata,
    o: &MetaOptions,
) -> Result<(), String> {
    use std::os::fd::AsFd;
    let fd = file.as_fd();
    if !o.noflags {
        let flags = oxiborg_fsmeta::get_bsdflags_fd(fd, st.mode());
        if flags != 0 {
            item.bsdflags = Some(u64::from(flags));
        }
    }
    if !o.noxattrs {
        let (x, _) = oxiborg_fsmeta::read_xattrs_fd(fd, path).map_err(|e| e.to_string())?;
        if !x.is_empty() {
            item.xattrs = Some(x);
        }
    }
    if !o.noacls {
        let acls = oxiborg_fsmeta::read_acls_fd(fd, path, st.is_dir(), o.numeric_ids)
            .map_err(|e| e.to_string())?;
        item.acl_access = acls.access;
        item.acl_default = acls.default;
    }
    Ok(())
}

/// What `extract` restores.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreOptions {
    /// `--numeric-ids`: use the stored uid/gid, not the names.
    pub numeric_ids: bool,
    /// `--noacls`.
    pub noacls: bool,
    /// `--noxattrs`.
    pub noxattrs: bool,
    /// `--noflags`.
    pub noflags: bool,
}

/// borg's `get_item_uid_gid`: names win over numbers unless numeric.
fn item_uid_gid(item: &Item, numeric: bool) -> (u32, u32) {
    let mut uid = item.uid.and_then(|u| u32::try_from(u).ok()).unwrap_or(0);
    let mut gid = item.gid.and_then(|g| u32::try_from(g).ok()).unwrap_or(0);
    if !numeric {
        if let Some(Some(name)) = &item.user {
            if let Some(u) = oxiborg_fsmeta::uid_for(name) {
                uid = u;
            }
        }
        if let Some(Some(name)) = &item.group {
            if let Some(g) = oxiborg_fsmeta::gid_for(name) {
                gid = g;
            }
        }
    }
    (uid, gid)
}

fn ts(ns: i128) -> rustix::fs::Timespec {
    rustix::fs::Timespec {
        tv_sec: ns.div_euclid(1_000_000_000) as i64,
        tv_nsec: ns.rem_euclid(1_000_000_000) as _,
    }
}

/// borg's `Archive.restore_attrs`: owner, mode, times, ACLs, xattrs, then
/// flags. Failures that borg ignores are ignored; the others come back as
/// warning messages.
pub fn restore_attrs(path: &Path, item: &Item, o: &RestoreOptions) -> Vec<String> {
    use rustix::fs::{AtFlags, CWD};
    let mut warnings = Vec::new();
    let is_link = item.is_link();
    let (uid, gid) = item_uid_gid(item, o.numeric_ids);
    let _ = rustix::fs::chownat(
        CWD,
        path,
        Some(rustix::fs::Uid::from_raw(uid)),
        Some(rustix::fs::Gid::from_raw(gid)),
        AtFlags::SYMLINK_NOFOLLOW,
    );
    if !is_link {
        if let Some(mode) = item.mode {
            let _ = rustix::fs::chmod(path, rustix::fs::Mode::from_raw_mode(mode & 0o7777));
        }
    }
    let mtime = item.mtime;
    let atime = item.atime.unwrap_or(mtime);
    let times = rustix::fs::Timestamps {
        last_access: ts(atime),
        last_modification: ts(mtime),
    };
    let _ = rustix::fs::utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW);
    if !o.noacls && !is_link && (item.acl_access.is_some() || item.acl_default.is_some()) {
        let acls = oxiborg_fsmeta::Acls {
            access: item.acl_access.clone(),
            default: item.acl_default.clone(),
        };
        if let Err(e) = oxiborg_fsmeta::write_acls(path, &acls, o.numeric_ids) {
            warnings.push(format!("{}: {e}", path.display()));
        }
    }
    if !o.noxattrs {
        if let Some(x) = &item.xattrs {
            for w in oxiborg_fsmeta::write_xattrs(path, x, false) {
                warnings.push(w.to_string());
            }
        }
    }
    if !o.noflags && !is_link {
        if let Some(flags) = item.bsdflags {
            let _ = oxiborg_fsmeta::set_bsdflags(path, flags as u32);
        }
    }
    warnings
}

/// Create a fifo or device node for `item`.
pub fn make_special(path: &Path, item: &Item) -> std::io::Result<()> {
    use rustix::fs::{FileType, Mode, CWD};
    let mode = item.mode.unwrap_or(0);
    let ft = FileType::from_raw_mode(mode);
    let rdev = item.rdev.unwrap_or(0);
    rustix::fs::mknodat(CWD, path, ft, Mode::from_raw_mode(mode & 0o7777), rdev as _)?;
    Ok(())
}
