//! A reproducible file tree holding every kind of file and metadata borg 1.x
//! archives, a snapshot of a tree, and a readable diff of two snapshots: the
//! harness that proves an archive round trip (`create` then `extract`) kept
//! what it should, whichever tool made and read the archive.
//!
//! * [`make_tree`] builds the tree (deterministic for a given [`TreeOpts`]:
//!   two trees made with the same options snapshot alike).
//! * [`snapshot`] captures the tree, keyed by relative path bytes (`b""` is
//!   the root itself).
//! * [`diff_snapshots`] lists the differences; [`CompareOpts`] says what to
//!   leave out.
//! * [`oxiborg_cmd`] runs the built oxiborg binary with the same isolated
//!   environment as the oracle's borg.
//!
//! ACLs are written as the raw `system.posix_acl_*` xattrs (the kernel's
//! binary form), so no `setfacl`/`getfacl` is needed.
//!
//! # What a borg round trip does not keep
//!
//! Found by running borg 1.4.5 and 1.2.x `create` then `extract` (as root) on
//! this tree; [`CompareOpts::borg_round_trip`] leaves exactly these out:
//!
//! * mtimes out of borg's range: `create` stores `safe_ns(mtime)`, so a
//!   pre-1970 mtime comes back as 0 (1970-01-01) and one after
//!   2038-01-17 (`2**31 - 1 - 48h` s) as exactly that; nanoseconds within
//!   the range are exact.
//! * atime: borg 1.2+ does not archive it by default (`--atime`); extract
//!   sets atime = mtime.
//! * ctime: cannot be set by any tool.
//! * sparse files: holes come back only with `extract --sparse`, and then
//!   only where a whole chunk is zeros, so the allocation differs; a file
//!   sparse before is still sparse after (checked with `ignore_sparse: false`).
//!   Without `--sparse` the holes are written out as zeros.
//! * directory sizes and link counts depend on the file system's history and
//!   are never compared; symlink modes are always 0o777 on Linux.
//!
//! Everything else, including the root directory's own metadata, nanosecond
//! and pre-1970 mtimes, owners without a passwd entry, xattrs on files, dirs
//! and (trusted.*) symlinks, access and default ACLs, devices, fifos and
//! hardlink groups, comes back exactly, with and without `--numeric-ids`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{lchown, symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oxiborg_oracle::Borg;
use rand::{Rng, SeedableRng};
use rustix::fs::{AtFlags, FileType, Mode, Timespec, Timestamps, XattrFlags, CWD};

/// What [`make_tree`] builds. `Default` builds everything.
#[derive(Debug, Clone)]
pub struct TreeOpts {
    /// Seed of the file contents.
    pub seed: u64,
    /// Size of the large multi-chunk file (`files/big.bin`).
    pub big_file_bytes: usize,
    /// Try `mknod` for block and char devices.
    pub devices: bool,
    /// Try `chown` to other users (needs root).
    pub owners: bool,
    /// Write POSIX access and default ACLs.
    pub acls: bool,
    /// Write extended attributes.
    pub xattrs: bool,
}

impl Default for TreeOpts {
    fn default() -> Self {
        TreeOpts {
            seed: 1,
            big_file_bytes: 10 << 20,
            devices: true,
            owners: true,
            acls: true,
            xattrs: true,
        }
    }
}

/// What [`make_tree`] could build: a feature asked for but not permitted
/// here (not root, a file system without xattrs) is left out and noted.
#[derive(Debug, Clone, Default)]
pub struct TreeReport {
    /// Block and char devices exist.
    pub devices: bool,
    /// Files owned by other users exist.
    pub owners: bool,
    /// ACLs were set.
    pub acls: bool,
    /// user.* xattrs were set.
    pub xattrs: bool,
    /// trusted.* xattrs (root only), also on a symlink, were set.
    pub trusted_xattrs: bool,
    /// Why something was left out.
    pub skipped: Vec<String>,
}

/// The uid/gid of `nobody`/`nogroup` on Debian.
pub const NOBODY: u32 = 65534;
/// A uid and gid with no passwd or group entry.
pub const UNNAMED: u32 = 12345;

const BASE_MTIME: i64 = 1_500_000_000;
const PRE_1970: (i64, i64) = (-315_619_201, 250_000_000);
const FAR_FUTURE: (i64, i64) = (4_102_444_800 + 12_345, 999_999_999);
const NS_EXACT: (i64, i64) = (1_234_567_890, 123_456_789);

fn deep_segments() -> Vec<String> {
    (0..11)
        .map(|i| format!("{i:02}{}", "d".repeat(93)))
        .collect()
}

fn name_255() -> String {
    format!("{}.txt", "n".repeat(251))
}

fn mixed_content(rng: &mut rand::rngs::StdRng, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        let n = rng.gen_range(4_000..300_000).min(len - v.len());
        if rng.gen_bool(0.5) {
            v.extend((0..n).map(|_| rng.gen::<u8>()));
        } else {
            v.extend(
                b"oxiborg archives what borg archives. "
                    .iter()
                    .cycle()
                    .take(n),
            );
        }
    }
    v
}

fn is_perm(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc_errno::EPERM) | Some(libc_errno::EACCES) | Some(libc_errno::EOPNOTSUPP)
    )
}

/// The few errno values we branch on (Linux).
mod libc_errno {
    pub const EPERM: i32 = 1;
    pub const EACCES: i32 = 13;
    pub const ENODATA: i32 = 61;
    pub const EOPNOTSUPP: i32 = 95;
}

/// Set atime and mtime (seconds, nanoseconds) without following symlinks.
pub fn set_times(path: &Path, atime: (i64, i64), mtime: (i64, i64)) -> io::Result<()> {
    let ts = |(s, n): (i64, i64)| Timespec {
        tv_sec: s,
        tv_nsec: n as _,
    };
    rustix::fs::utimensat(
        CWD,
        path,
        &Timestamps {
            last_access: ts(atime),
            last_modification: ts(mtime),
        },
        AtFlags::SYMLINK_NOFOLLOW,
    )?;
    Ok(())
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    rustix::fs::lsetxattr(path, name, value, XattrFlags::empty())?;
    Ok(())
}

const ACL_USER_OBJ: u16 = 0x01;
const ACL_USER: u16 = 0x02;
const ACL_GROUP_OBJ: u16 = 0x04;
const ACL_GROUP: u16 = 0x08;
const ACL_MASK: u16 = 0x10;
const ACL_OTHER: u16 = 0x20;
const ACL_NO_ID: u32 = u32::MAX;

/// The kernel's binary ACL xattr value for `(tag, perm bits rwx, id)`
/// entries, which must be in canonical order (tag, then id).
pub fn acl_xattr(entries: &[(u16, u16, u32)]) -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for &(tag, perm, id) in entries {
        v.extend(tag.to_le_bytes());
        v.extend(perm.to_le_bytes());
        v.extend(id.to_le_bytes());
    }
    v
}

/// Render a raw ACL xattr value as text (`user::rw-,user:65534:r--,...`),
/// with numeric ids.
pub fn acl_text(raw: &[u8]) -> String {
    if raw.len() < 4 || !raw[4..].chunks_exact(8).remainder().is_empty() {
        return format!("<bad acl {}>", raw.escape_ascii());
    }
    let mut parts = Vec::new();
    for e in raw[4..].chunks_exact(8) {
        let tag = u16::from_le_bytes([e[0], e[1]]);
        let perm = u16::from_le_bytes([e[2], e[3]]);
        let id = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
        let rwx: String = [(4, 'r'), (2, 'w'), (1, 'x')]
            .iter()
            .map(|&(b, c)| if perm & b != 0 { c } else { '-' })
            .collect();
        parts.push(match tag {
            ACL_USER_OBJ => format!("user::{rwx}"),
            ACL_USER => format!("user:{id}:{rwx}"),
            ACL_GROUP_OBJ => format!("group::{rwx}"),
            ACL_GROUP => format!("group:{id}:{rwx}"),
            ACL_MASK => format!("mask::{rwx}"),
            ACL_OTHER => format!("other::{rwx}"),
            t => format!("tag{t:#x}:{id}:{rwx}"),
        });
    }
    parts.join(",")
}

/// Build the test tree at `root` (created; should not exist or be empty).
///
/// Layout, relative to `root`:
/// `files/` (empty, small, `big.bin` multi-chunk random+repetitive, its
/// duplicate `big-copy.bin`, `sparse.img` with a leading, middle and
/// trailing hole, and odd modes: 0, setuid, setgid, read-only, executable),
/// `dirs/` (nested, empty, 0o700, 0o555, sticky 0o1777), `links/` (relative,
/// absolute, dangling, to a dir, to itself), `hard/` (three links in three
/// dirs, two links to an empty file), `special/` (fifo, block and char
/// device), `names/` (non-UTF-8, newline, space, leading dash, glob and
/// backslash characters, UTF-8, a 255-byte name, a path over 1000 bytes),
/// `xattrs/`, `acls/` (access ACL with named user and group, default ACL on a
/// dir and what its children inherit), `owners/` (nobody, an unnamed uid/gid,
/// a symlink owned by an unnamed uid) and `times/` (nanoseconds, pre-1970,
/// year 2100). Every entry, the root too, gets a fixed mtime (with
/// nanoseconds) and atime, set children first.
///
/// Directories with restrictive modes are made after their contents; as
/// root they delete fine, otherwise call [`make_removable`] first.
pub fn make_tree(root: &Path, opts: &TreeOpts) -> io::Result<TreeReport> {
    let mut report = TreeReport::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(opts.seed);
    let p = |rel: &str| root.join(rel);
    for d in [
        "files",
        "dirs/nested/a/b/c",
        "dirs/empty",
        "dirs/private",
        "dirs/readonly",
        "dirs/sticky",
        "links",
        "hard/one",
        "hard/two",
        "hard/three",
        "special",
        "names",
        "xattrs/dir",
        "acls/defdir",
        "owners/dir-nobody",
        "times",
    ] {
        fs::create_dir_all(p(d))?;
    }

    // Regular files.
    File::create(p("files/empty"))?;
    fs::write(p("files/small.txt"), b"hello borg\n")?;
    let big = mixed_content(&mut rng, opts.big_file_bytes);
    fs::write(p("files/big.bin"), &big)?;
    fs::write(p("files/big-copy.bin"), &big)?;
    {
        let mut f = File::create(p("files/sparse.img"))?;
        f.seek(SeekFrom::Start(3 << 20))?;
        f.write_all(&mixed_content(&mut rng, 64 << 10))?;
        f.seek(SeekFrom::Start(40 << 20))?;
        f.write_all(&mixed_content(&mut rng, 64 << 10))?;
        f.set_len(72 << 20)?;
    }
    for name in [
        "mode-0000",
        "setuid",
        "setgid",
        "readonly",
        "exec.sh",
        "group-write",
    ] {
        fs::write(p(&format!("files/{name}")), format!("{name}\n"))?;
    }
    fs::write(p("dirs/nested/a/b/c/leaf.txt"), b"leaf\n")?;
    fs::write(p("dirs/private/secret.txt"), b"secret\n")?;
    fs::write(p("dirs/readonly/inside.txt"), b"inside\n")?;
    fs::write(p("dirs/sticky/tmpfile"), b"t\n")?;

    // Symlinks.
    symlink("../files/small.txt", p("links/relative"))?;
    symlink("/etc/hostname", p("links/absolute"))?;
    symlink("does/not/exist", p("links/dangling"))?;
    symlink("../dirs/nested", p("links/to-dir"))?;
    symlink("self", p("links/self"))?;

    // Hardlinks.
    fs::write(p("hard/one/h1"), mixed_content(&mut rng, 100_000))?;
    fs::hard_link(p("hard/one/h1"), p("hard/two/h2"))?;
    fs::hard_link(p("hard/one/h1"), p("hard/three/h3"))?;
    File::create(p("hard/empty-a"))?;
    fs::hard_link(p("hard/empty-a"), p("hard/empty-b"))?;

    // Fifo and devices.
    rustix::fs::mknodat(
        CWD,
        p("special/fifo"),
        FileType::Fifo,
        Mode::from_raw_mode(0o640),
        0,
    )?;
    if opts.devices {
        let made = rustix::fs::mknodat(
            CWD,
            p("special/block"),
            FileType::BlockDevice,
            Mode::from_raw_mode(0o660),
            rustix::fs::makedev(8, 1),
        )
        .and_then(|()| {
            rustix::fs::mknodat(
                CWD,
                p("special/char"),
                FileType::CharacterDevice,
                Mode::from_raw_mode(0o666),
                rustix::fs::makedev(1, 3),
            )
        });
        match made {
            Ok(()) => report.devices = true,
            Err(e) => {
                let _ = fs::remove_file(p("special/block"));
                report.skipped.push(format!("devices: mknod failed: {e}"));
            }
        }
    }

    // Odd names.
    let names = p("names");
    for name in [
        &b"caf\xe9"[..],
        b"new\nline",
        b"with space",
        b"-leading-dash",
        b"glob*?[x]\\back",
        "\u{fc}n\u{ef}c\u{f6}d\u{e9}".as_bytes(),
        name_255().as_bytes(),
    ] {
        let path = names.join(std::ffi::OsStr::from_bytes(name));
        fs::write(&path, name)?;
    }
    let mut deep = names.join("deep");
    for seg in deep_segments() {
        deep.push(seg);
    }
    fs::create_dir_all(&deep)?;
    fs::write(deep.join("leaf"), b"deep\n")?;

    // Extended attributes (before chown/chmod: a read-only file refuses them
    // to a non-root owner).
    if opts.xattrs {
        let set = || -> io::Result<()> {
            set_xattr(&p("xattrs/file"), "user.empty", b"")?;
            set_xattr(
                &p("xattrs/file"),
                "user.binary",
                &(0..=255u8).collect::<Vec<_>>(),
            )?;
            set_xattr(&p("xattrs/file"), "user.text", b"borg")?;
            set_xattr(&p("xattrs/dir"), "user.dir", b"d")?;
            set_xattr(&p("hard/one/h1"), "user.shared", b"all three links")?;
            set_xattr(&p("files/big.bin"), "user.note", b"multi-chunk")?;
            Ok(())
        };
        fs::write(p("xattrs/file"), b"has xattrs\n")?;
        match set() {
            Ok(()) => report.xattrs = true,
            Err(e) => report.skipped.push(format!("xattrs: {e}")),
        }
        let trusted = set_xattr(&p("xattrs/file"), "trusted.oxiborg", b"root only")
            .and_then(|()| set_xattr(&p("links/relative"), "trusted.link", b"on a symlink"));
        match trusted {
            Ok(()) => report.trusted_xattrs = true,
            Err(e) => report.skipped.push(format!("trusted xattrs: {e}")),
        }
    }

    // Owners.
    if opts.owners {
        fs::write(p("owners/nobody"), b"nobody\n")?;
        fs::write(p("owners/unnamed"), b"unnamed\n")?;
        fs::write(p("owners/mixed"), b"mixed\n")?;
        fs::write(p("owners/dir-nobody/child"), b"child\n")?;
        symlink("nobody", p("owners/link-unnamed"))?;
        let chowns = [
            ("owners/nobody", NOBODY, NOBODY),
            ("owners/unnamed", UNNAMED, UNNAMED),
            ("owners/mixed", 0, UNNAMED),
            ("owners/dir-nobody", NOBODY, NOBODY),
            ("owners/link-unnamed", UNNAMED, 54321),
            ("special/fifo", NOBODY, UNNAMED),
        ];
        let mut res = Ok(());
        for (rel, uid, gid) in chowns {
            res = res.and_then(|()| lchown(p(rel), Some(uid), Some(gid)));
        }
        match res {
            Ok(()) => report.owners = true,
            Err(e) if is_perm(&e) => report.skipped.push(format!("owners: chown: {e}")),
            Err(e) => return Err(e),
        }
    }

    // Modes: everything explicit (umask-independent), children before the
    // restrictive directories that hold them.
    let mut modes: BTreeMap<PathBuf, u32> = BTreeMap::new();
    for (_, path) in walk(root) {
        let md = fs::symlink_metadata(&path)?;
        let ft = md.file_type();
        let mode = if ft.is_symlink() {
            continue;
        } else if ft.is_dir() {
            0o755
        } else if ft.is_file() {
            0o644
        } else {
            md.mode() & 0o7777
        };
        modes.insert(path, mode);
    }
    for (rel, mode) in [
        ("files/mode-0000", 0o000),
        ("files/setuid", 0o4755),
        ("files/setgid", 0o2750),
        ("files/readonly", 0o444),
        ("files/exec.sh", 0o755),
        ("files/group-write", 0o664),
        ("dirs/private", 0o700),
        ("dirs/private/secret.txt", 0o600),
        ("dirs/readonly", 0o555),
        ("dirs/sticky", 0o1777),
        ("owners/unnamed", 0o640),
        ("special/fifo", 0o640),
        ("special/block", 0o660),
        ("special/char", 0o666),
    ] {
        if modes.contains_key(&p(rel)) {
            modes.insert(p(rel), mode);
        }
    }
    // Deepest first, so a 0o555 dir is locked after its children are done.
    let mut ordered: Vec<(&PathBuf, &u32)> = modes.iter().collect();
    ordered.sort_by_key(|(path, _)| std::cmp::Reverse(path.as_os_str().len()));
    for (path, mode) in ordered {
        fs::set_permissions(path, fs::Permissions::from_mode(*mode))?;
    }

    // ACLs (after chmod: setting an access ACL sets the group bits to the mask).
    if opts.acls {
        let r = |rel: &str, name: &str, entries: &[(u16, u16, u32)]| {
            set_xattr(&p(rel), name, &acl_xattr(entries))
        };
        let set = || -> io::Result<()> {
            fs::write(p("acls/file"), b"acl\n")?;
            fs::set_permissions(p("acls/file"), fs::Permissions::from_mode(0o640))?;
            r(
                "acls/file",
                "system.posix_acl_access",
                &[
                    (ACL_USER_OBJ, 6, ACL_NO_ID),
                    (ACL_USER, 7, UNNAMED),
                    (ACL_USER, 4, NOBODY),
                    (ACL_GROUP_OBJ, 4, ACL_NO_ID),
                    (ACL_GROUP, 6, NOBODY),
                    (ACL_MASK, 7, ACL_NO_ID),
                    (ACL_OTHER, 0, ACL_NO_ID),
                ],
            )?;
            r(
                "acls/defdir",
                "system.posix_acl_access",
                &[
                    (ACL_USER_OBJ, 7, ACL_NO_ID),
                    (ACL_USER, 7, NOBODY),
                    (ACL_GROUP_OBJ, 5, ACL_NO_ID),
                    (ACL_MASK, 7, ACL_NO_ID),
                    (ACL_OTHER, 5, ACL_NO_ID),
                ],
            )?;
            r(
                "acls/defdir",
                "system.posix_acl_default",
                &[
                    (ACL_USER_OBJ, 7, ACL_NO_ID),
                    (ACL_USER, 5, NOBODY),
                    (ACL_GROUP_OBJ, 5, ACL_NO_ID),
                    (ACL_GROUP, 5, NOBODY),
                    (ACL_MASK, 5, ACL_NO_ID),
                    (ACL_OTHER, 0, ACL_NO_ID),
                ],
            )?;
            // Created after the default ACL: they inherit it.
            fs::write(p("acls/defdir/inherited"), b"inherited\n")?;
            fs::create_dir(p("acls/defdir/subdir"))?;
            Ok(())
        };
        match set() {
            Ok(()) => report.acls = true,
            Err(e) if is_perm(&e) => report.skipped.push(format!("acls: {e}")),
            Err(e) => return Err(e),
        }
    }

    // Times, children before their directory; the root last.
    for name in ["ns", "pre-1970", "far-future"] {
        fs::write(p(&format!("times/{name}")), format!("{name}\n"))?;
    }
    symlink("ns", p("times/link-ns"))?;
    let fixed: BTreeMap<PathBuf, (i64, i64)> = [
        ("times/ns", NS_EXACT),
        ("times/link-ns", NS_EXACT),
        ("times/pre-1970", PRE_1970),
        ("times/far-future", FAR_FUTURE),
    ]
    .into_iter()
    .map(|(rel, t)| (p(rel), t))
    .collect();
    let all = walk(root);
    for (i, (_, path)) in all.iter().enumerate().rev() {
        let i = i as i64;
        let mtime = fixed.get(path).copied().unwrap_or((
            BASE_MTIME + i * 1000,
            (i * 123_456_789 + 987) % 1_000_000_000,
        ));
        set_times(path, (mtime.0 + 7, mtime.1), mtime)?;
    }
    Ok(report)
}

/// Every entry below `root` (and `root` itself as `b""`), parents before
/// children, siblings sorted by name bytes. Does not follow symlinks.
pub fn walk(root: &Path) -> Vec<(Vec<u8>, PathBuf)> {
    let mut out = vec![(Vec::new(), root.to_path_buf())];
    walk_into(root, &[], &mut out);
    out
}

fn walk_into(dir: &Path, rel: &[u8], out: &mut Vec<(Vec<u8>, PathBuf)>) {
    let mut names: Vec<OsString> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").file_name())
        .collect();
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for name in names {
        let path = dir.join(&name);
        let mut r = rel.to_vec();
        if !r.is_empty() {
            r.push(b'/');
        }
        r.extend(name.as_bytes());
        let is_dir = fs::symlink_metadata(&path)
            .unwrap_or_else(|e| panic!("lstat {}: {e}", path.display()))
            .is_dir();
        out.push((r.clone(), path.clone()));
        if is_dir {
            walk_into(&path, &r, out);
        }
    }
}

/// Give the owner rwx on every directory below `root` (and `root`), so a
/// non-root user can delete a tree with 0o555 directories.
pub fn make_removable(root: &Path) {
    for (_, path) in walk(root) {
        if let Ok(md) = fs::symlink_metadata(&path) {
            if md.is_dir() {
                let _ = fs::set_permissions(
                    &path,
                    fs::Permissions::from_mode(md.mode() & 0o7777 | 0o700),
                );
            }
        }
    }
}

/// The type of a file system entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Named pipe.
    Fifo,
    /// Block device.
    BlockDev,
    /// Character device.
    CharDev,
    /// Unix socket.
    Socket,
}

/// One entry of a [`snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// File type.
    pub kind: Kind,
    /// Permission bits with setuid/setgid/sticky (`st_mode & 0o7777`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Byte size for files and symlinks; 0 for anything else.
    pub size: u64,
    /// SHA-256 of a regular file's contents.
    pub sha256: Option<[u8; 32]>,
    /// A symlink's target.
    pub link_target: Option<Vec<u8>>,
    /// A device's (major, minor).
    pub rdev: Option<(u32, u32)>,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
    /// Access time, nanoseconds since the epoch.
    pub atime_ns: i128,
    /// Status change time, nanoseconds since the epoch.
    pub ctime_ns: i128,
    /// Extended attributes except the ACL ones.
    pub xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
    /// `system.posix_acl_access` as text (see [`acl_text`]).
    pub acl_access: Option<String>,
    /// `system.posix_acl_default` as text.
    pub acl_default: Option<String>,
    /// For a non-directory with more than one link: every path of the
    /// snapshot on the same inode, sorted (this one included).
    pub hardlinks: Vec<Vec<u8>>,
    /// Link count (`st_nlink`).
    pub nlink: u64,
    /// Bytes allocated on disk (`st_blocks * 512`).
    pub allocated: u64,
}

impl Entry {
    /// Fewer bytes allocated than the size: the file has holes.
    pub fn is_sparse(&self) -> bool {
        self.kind == Kind::File && self.allocated < self.size
    }
}

fn xattr_names(path: &Path) -> Vec<Vec<u8>> {
    let Ok(len) = rustix::fs::llistxattr_query(path) else {
        return Vec::new();
    };
    let mut buf = vec![0u8; len];
    let n = rustix::fs::llistxattr(path, &mut buf[..])
        .unwrap_or_else(|e| panic!("llistxattr {}: {e}", path.display()));
    buf[..n]
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn get_xattr(path: &Path, name: &[u8]) -> Option<Vec<u8>> {
    let name = std::ffi::OsStr::from_bytes(name);
    let len = match rustix::fs::lgetxattr_query(path, name) {
        Ok(len) => len,
        Err(e) if e.raw_os_error() == libc_errno::ENODATA => return None,
        Err(e) if e.raw_os_error() == libc_errno::EOPNOTSUPP => return None,
        Err(e) => panic!("lgetxattr {} {name:?}: {e}", path.display()),
    };
    let mut buf = vec![0u8; len];
    let n = rustix::fs::lgetxattr(path, name, &mut buf[..])
        .unwrap_or_else(|e| panic!("lgetxattr {} {name:?}: {e}", path.display()));
    buf.truncate(n);
    Some(buf)
}

/// Capture every entry below `root` (and `root` itself as `b""`).
///
/// # Panics
/// On any I/O error (a test helper).
pub fn snapshot(root: &Path) -> BTreeMap<Vec<u8>, Entry> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<(u64, u64), Vec<Vec<u8>>> = BTreeMap::new();
    for (rel, path) in walk(root) {
        let md =
            fs::symlink_metadata(&path).unwrap_or_else(|e| panic!("lstat {}: {e}", path.display()));
        let ft = md.file_type();
        let kind = if ft.is_file() {
            Kind::File
        } else if ft.is_dir() {
            Kind::Dir
        } else if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_fifo() {
            Kind::Fifo
        } else if ft.is_block_device() {
            Kind::BlockDev
        } else if ft.is_char_device() {
            Kind::CharDev
        } else {
            Kind::Socket
        };
        let sha256 = (kind == Kind::File).then(|| {
            let data = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            oxiborg_crypto::primitives::sha256(&data)
        });
        let link_target = (kind == Kind::Symlink).then(|| {
            fs::read_link(&path)
                .unwrap_or_else(|e| panic!("readlink {}: {e}", path.display()))
                .into_os_string()
                .into_encoded_bytes()
        });
        let rdev = matches!(kind, Kind::BlockDev | Kind::CharDev).then(|| {
            let d = md.rdev();
            (rustix::fs::major(d), rustix::fs::minor(d))
        });
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        let mut xattrs = BTreeMap::new();
        for name in xattr_names(&path) {
            if name.starts_with(b"system.posix_acl_") {
                continue;
            }
            if let Some(v) = get_xattr(&path, &name) {
                xattrs.insert(name, v);
            }
        }
        let acl = |name: &str| get_xattr(&path, name.as_bytes()).map(|raw| acl_text(&raw));
        if kind != Kind::Dir && md.nlink() > 1 {
            inodes
                .entry((md.dev(), md.ino()))
                .or_default()
                .push(rel.clone());
        }
        let entry = Entry {
            kind,
            mode: md.mode() & 0o7777,
            uid: md.uid(),
            gid: md.gid(),
            size: if matches!(kind, Kind::File | Kind::Symlink) {
                md.size()
            } else {
                0
            },
            sha256,
            link_target,
            rdev,
            mtime_ns: ns(md.mtime(), md.mtime_nsec()),
            atime_ns: ns(md.atime(), md.atime_nsec()),
            ctime_ns: ns(md.ctime(), md.ctime_nsec()),
            xattrs,
            acl_access: if kind == Kind::Symlink {
                None
            } else {
                acl("system.posix_acl_access")
            },
            acl_default: if kind == Kind::Dir {
                acl("system.posix_acl_default")
            } else {
                None
            },
            hardlinks: Vec::new(),
            nlink: md.nlink(),
            allocated: md.blocks() * 512,
        };
        out.insert(rel, entry);
    }
    for group in inodes.into_values() {
        let mut group = group;
        group.sort();
        for rel in &group {
            out.get_mut(rel).expect("grouped path").hardlinks = group.clone();
        }
    }
    out
}

/// What [`diff_snapshots`] leaves out.
#[derive(Debug, Clone)]
pub struct CompareOpts {
    /// Do not compare access times.
    pub ignore_atime: bool,
    /// Do not compare status change times.
    pub ignore_ctime: bool,
    /// Do not compare directory mtimes.
    pub ignore_dir_mtime: bool,
    /// Do not compare sparseness. When compared, a file that is sparse on one
    /// side must be sparse on the other (allocations need not be equal).
    pub ignore_sparse: bool,
    /// Do not compare owners (uid, gid).
    pub ignore_owner: bool,
    /// Do not compare the metadata of the root entry (`b""`).
    pub ignore_root: bool,
    /// Expect `b`'s mtimes clamped as borg 1.x archives them: below 0 to 0,
    /// above [`BORG_MAX_NS`] to it (`borg.helpers.time.safe_ns`).
    pub borg_time_clamp: bool,
}

/// The latest mtime borg 1.x archives, in ns: `2**31 - 1 - 48*3600` seconds
/// (2038-01-17), as long as borg keeps `SUPPORT_32BIT_PLATFORMS`.
pub const BORG_MAX_NS: i128 = (2_147_483_647 - 48 * 3600) * 1_000_000_000;

/// `t` as borg 1.x archives it.
pub fn borg_safe_ns(t: i128) -> i128 {
    t.clamp(0, BORG_MAX_NS)
}

impl Default for CompareOpts {
    /// Compare everything but atime, ctime and sparseness.
    fn default() -> Self {
        CompareOpts {
            ignore_atime: true,
            ignore_ctime: true,
            ignore_dir_mtime: false,
            ignore_sparse: true,
            ignore_owner: false,
            ignore_root: false,
            borg_time_clamp: false,
        }
    }
}

impl CompareOpts {
    /// What a borg `create` + `extract` round trip keeps (see the module
    /// docs): everything but atime, ctime and sparseness, with mtimes
    /// clamped to borg's range. Use
    /// `ignore_sparse: false` after `extract --sparse`.
    pub fn borg_round_trip() -> Self {
        CompareOpts {
            borg_time_clamp: true,
            ..CompareOpts::default()
        }
    }
}

/// A path of a snapshot, printable (`\xe9`, `\n` escaped; the root is `.`).
pub fn show_path(rel: &[u8]) -> String {
    if rel.is_empty() {
        ".".into()
    } else {
        rel.escape_ascii().to_string()
    }
}

fn show_bytes(b: &[u8]) -> String {
    let mut s = b[..b.len().min(48)].escape_ascii().to_string();
    if b.len() > 48 {
        // Values differing past the cut still show differently.
        let h = oxiborg_crypto::primitives::sha256(b);
        let _ = write!(
            s,
            "...({} bytes, sha256 {:02x}{:02x}{:02x}{:02x})",
            b.len(),
            h[0],
            h[1],
            h[2],
            h[3]
        );
    }
    format!("\"{s}\"")
}

fn show_ns(ns: i128) -> String {
    format!(
        "{}.{:09}",
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000)
    )
}

/// The differences from `a` to `b`, one line each, `path: field: a != b`
/// (or `path: only in a`). Empty when the trees agree.
pub fn diff_snapshots(
    a: &BTreeMap<Vec<u8>, Entry>,
    b: &BTreeMap<Vec<u8>, Entry>,
    opts: &CompareOpts,
) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, ea) in a {
        let path = show_path(rel);
        let Some(eb) = b.get(rel) else {
            out.push(format!("{path}: only in a ({:?})", ea.kind));
            continue;
        };
        if rel.is_empty() && opts.ignore_root {
            continue;
        }
        let mut field = |name: &str, va: String, vb: String| {
            if va != vb {
                out.push(format!("{path}: {name}: {va} != {vb}"));
            }
        };
        field("kind", format!("{:?}", ea.kind), format!("{:?}", eb.kind));
        if ea.kind != eb.kind {
            continue;
        }
        field("mode", format!("{:o}", ea.mode), format!("{:o}", eb.mode));
        if !opts.ignore_owner {
            field("uid", ea.uid.to_string(), eb.uid.to_string());
            field("gid", ea.gid.to_string(), eb.gid.to_string());
        }
        field("size", ea.size.to_string(), eb.size.to_string());
        if ea.sha256 != eb.sha256 {
            field("content", "sha256 differs".into(), "…".into());
        }
        field(
            "link target",
            ea.link_target
                .as_deref()
                .map(show_bytes)
                .unwrap_or_default(),
            eb.link_target
                .as_deref()
                .map(show_bytes)
                .unwrap_or_default(),
        );
        field("rdev", format!("{:?}", ea.rdev), format!("{:?}", eb.rdev));
        if !(ea.kind == Kind::Dir && opts.ignore_dir_mtime) {
            let want = if opts.borg_time_clamp {
                borg_safe_ns(ea.mtime_ns)
            } else {
                ea.mtime_ns
            };
            field("mtime", show_ns(want), show_ns(eb.mtime_ns));
        }
        if !opts.ignore_atime {
            field("atime", show_ns(ea.atime_ns), show_ns(eb.atime_ns));
        }
        if !opts.ignore_ctime {
            field("ctime", show_ns(ea.ctime_ns), show_ns(eb.ctime_ns));
        }
        let names: std::collections::BTreeSet<&Vec<u8>> =
            ea.xattrs.keys().chain(eb.xattrs.keys()).collect();
        for name in names {
            let show = |v: Option<&Vec<u8>>| v.map(|v| show_bytes(v)).unwrap_or("absent".into());
            field(
                &format!("xattr {}", name.escape_ascii()),
                show(ea.xattrs.get(name)),
                show(eb.xattrs.get(name)),
            );
        }
        let show_acl = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        field(
            "acl_access",
            show_acl(&ea.acl_access),
            show_acl(&eb.acl_access),
        );
        field(
            "acl_default",
            show_acl(&ea.acl_default),
            show_acl(&eb.acl_default),
        );
        if ea.kind != Kind::Dir {
            let group =
                |g: &[Vec<u8>]| g.iter().map(|p| show_path(p)).collect::<Vec<_>>().join(" ");
            field("hardlinks", group(&ea.hardlinks), group(&eb.hardlinks));
            field("nlink", ea.nlink.to_string(), eb.nlink.to_string());
        }
        if !opts.ignore_sparse && ea.kind == Kind::File {
            let show = |e: &Entry| {
                format!(
                    "{} ({} of {} bytes allocated)",
                    if e.is_sparse() { "sparse" } else { "dense" },
                    e.allocated,
                    e.size
                )
            };
            if ea.is_sparse() != eb.is_sparse() {
                field("sparse", show(ea), show(eb));
            }
        }
    }
    for (rel, eb) in b {
        if !a.contains_key(rel) {
            out.push(format!("{}: only in b ({:?})", show_path(rel), eb.kind));
        }
    }
    out
}

/// The oxiborg binary the tests run: `OXIBORG_BIN` if set, else `oxiborg`
/// in the cargo profile directory of this test executable
/// (`target/<profile>/deps/it-*` → `target/<profile>/oxiborg`).
///
/// Cargo does not build another crate's binary for this test crate:
/// `cargo test --workspace` (and so `cargo xtask test`) builds it, because
/// the oxiborg crate's own integration tests need it; with
/// `cargo test -p oxiborg-tests` run `cargo build -p oxiborg` first, or the
/// binary may be missing or stale.
pub fn oxiborg_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("OXIBORG_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    profile_dir.join("oxiborg")
}

/// A `Command` running the built oxiborg with the oracle's isolated
/// environment rooted at `base`: oxiborg and borg given the same `base` share
/// BORG_BASE_DIR (keys, security dir, cache).
///
/// # Panics
/// When the binary is missing (see [`oxiborg_bin`]).
pub fn oxiborg_cmd(base: &Path) -> Command {
    let bin = oxiborg_bin();
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p oxiborg` (same profile and target dir as the tests), \
         or set OXIBORG_BIN",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    oxiborg_oracle::isolate_env(&mut cmd, base);
    cmd
}

/// Which tool runs an archive command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Real borg.
    Borg(Borg),
    /// The oxiborg binary.
    Oxiborg,
}

fn tool_cmd(oracle: &oxiborg_oracle::Oracle, tool: Tool, base: &Path) -> Command {
    match tool {
        Tool::Borg(which) => oracle.borg(which, base),
        Tool::Oxiborg => oxiborg_cmd(base),
    }
}

fn check(cmd: &mut Command, what: &str) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {shown}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {shown}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Change one thing of each kind in the tree at `root` (a copy of
/// `reference`) and check that [`diff_snapshots`] reports each change, at
/// its path, and nothing else.
fn assert_mutations_detected(
    reference: &BTreeMap<Vec<u8>, Entry>,
    root: &Path,
    report: &TreeReport,
    opts: &CompareOpts,
) {
    let p = |rel: &str| root.join(rel);
    let times = |rel: &str| {
        let e = &reference[rel.as_bytes()];
        let split = |ns: i128| {
            (
                ns.div_euclid(1_000_000_000) as i64,
                ns.rem_euclid(1_000_000_000) as i64,
            )
        };
        (split(e.atime_ns), split(e.mtime_ns))
    };
    let mut expected: Vec<(&str, &str)> = Vec::new();

    // One nanosecond of mtime.
    let (at, (s, n)) = times("files/small.txt");
    set_times(&p("files/small.txt"), at, (s, n + 1)).unwrap();
    expected.push(("files/small.txt", "mtime"));

    // One content byte, size and mtime kept.
    let mut data = fs::read(p("files/big.bin")).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 1;
    fs::write(p("files/big.bin"), &data).unwrap();
    let (at, mt) = times("files/big.bin");
    set_times(&p("files/big.bin"), at, mt).unwrap();
    expected.push(("files/big.bin", "content"));

    // Mode bits.
    fs::set_permissions(p("files/exec.sh"), fs::Permissions::from_mode(0o754)).unwrap();
    expected.push(("files/exec.sh", "mode"));

    // A hardlink broken into a copy with the same data and times: the group
    // changes for all three paths.
    let h2 = p("hard/two/h2");
    let content = fs::read(&h2).unwrap();
    fs::remove_file(&h2).unwrap();
    fs::write(&h2, content).unwrap();
    fs::set_permissions(&h2, fs::Permissions::from_mode(0o644)).unwrap();
    let (at, mt) = times("hard/two/h2");
    set_times(&h2, at, mt).unwrap();
    let (at, mt) = times("hard/two");
    set_times(&p("hard/two"), at, mt).unwrap();
    for rel in ["hard/one/h1", "hard/two/h2", "hard/three/h3"] {
        expected.push((rel, "hardlinks"));
    }
    if report.xattrs {
        // h2 lost its xattr in the copy.
        expected.push(("hard/two/h2", "xattr user.shared"));
        let mut v: Vec<u8> = (0..=255u8).collect();
        v[255] = 0;
        set_xattr(&p("xattrs/file"), "user.binary", &v).unwrap();
        expected.push(("xattrs/file", "xattr user.binary"));
    }
    if report.acls {
        set_xattr(
            &p("acls/file"),
            "system.posix_acl_access",
            &acl_xattr(&[
                (ACL_USER_OBJ, 6, ACL_NO_ID),
                (ACL_USER, 7, UNNAMED),
                (ACL_USER, 5, NOBODY),
                (ACL_GROUP_OBJ, 4, ACL_NO_ID),
                (ACL_GROUP, 6, NOBODY),
                (ACL_MASK, 7, ACL_NO_ID),
                (ACL_OTHER, 0, ACL_NO_ID),
            ]),
        )
        .unwrap();
        expected.push(("acls/file", "acl_access"));
    }

    let got = diff_snapshots(reference, &snapshot(root), opts);
    for (path, field) in &expected {
        let prefix = format!("{path}: {field}: ");
        assert!(
            got.iter().any(|l| l.starts_with(&prefix)),
            "change of {field} at {path} not reported; diff:\n{}",
            got.join("\n")
        );
    }
    for line in &got {
        assert!(
            expected
                .iter()
                .any(|(path, _)| line.starts_with(&format!("{path}: "))),
            "unexpected difference reported: {line}\nall:\n{}",
            got.join("\n")
        );
    }
}

/// `init -e none`, `create` of the tree with `create_with`, then `extract`
/// with `extract_with` twice (`--sparse`; `--numeric-ids`) into fresh
/// directories: both must equal the source tree.
fn round_trip(create_with: Tool, extract_with: Tool) {
    let oracle = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let src = t.join("src");
    let report = make_tree(&src.join("tree"), &TreeOpts::default()).expect("make_tree");
    let before = snapshot(&src.join("tree"));
    let repo = t.join("repo");
    let archive = format!("{}::a", repo.display());
    check(
        tool_cmd(oracle, create_with, &base)
            .args(["init", "-e", "none"])
            .arg(&repo),
        "init",
    );
    check(
        tool_cmd(oracle, create_with, &base)
            .current_dir(&src)
            .args(["create", &archive, "tree"]),
        "create",
    );
    for (dir, flag, sparse) in [
        ("out-names", "--sparse", true),
        ("out-numeric", "--numeric-ids", false),
    ] {
        let out = t.join(dir);
        fs::create_dir(&out).unwrap();
        check(
            tool_cmd(oracle, extract_with, &base)
                .current_dir(&out)
                .args(["extract", flag, &archive]),
            &format!("extract {flag}"),
        );
        let after = snapshot(&out.join("tree"));
        let opts = CompareOpts {
            ignore_sparse: !sparse,
            ..CompareOpts::borg_round_trip()
        };
        let diff = diff_snapshots(&before, &after, &opts);
        assert!(
            diff.is_empty(),
            "{create_with:?} create + {extract_with:?} extract {flag} changed the tree \
             (made: {report:?}):\n{}",
            diff.join("\n")
        );
    }
    // The comparison is not vacuous: changes to the extracted copy show up.
    assert_mutations_detected(
        &before,
        &t.join("out-names/tree"),
        &report,
        &CompareOpts::borg_round_trip(),
    );
    make_removable(t);
}

#[test]
fn tree_is_deterministic_and_diff_sees_every_change() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = TreeOpts::default();
    let report = make_tree(&tmp.path().join("a"), &opts).unwrap();
    make_tree(&tmp.path().join("b"), &opts).unwrap();
    let a = snapshot(&tmp.path().join("a"));
    let diff = diff_snapshots(
        &a,
        &snapshot(&tmp.path().join("b")),
        &CompareOpts::default(),
    );
    assert!(
        diff.is_empty(),
        "two trees from the same options differ:\n{}",
        diff.join("\n")
    );
    // The tree holds what it should.
    let get = |rel: &str| &a[rel.as_bytes()];
    assert!(
        get("files/sparse.img").is_sparse(),
        "{:?}",
        get("files/sparse.img")
    );
    assert_eq!(get("hard/one/h1").hardlinks.len(), 3);
    assert_eq!(get("hard/empty-a").hardlinks.len(), 2);
    assert_eq!(get("times/pre-1970").mtime_ns, -315_619_200_750_000_000);
    assert!(a.keys().any(|k| k.len() > 1000), "a path over 1000 bytes");
    assert!(a.contains_key(&b"names/caf\xe9"[..]));
    if rustix::process::geteuid().is_root() {
        assert!(
            report.devices && report.owners && report.acls && report.xattrs,
            "{report:?}"
        );
        assert_eq!(get("special/char").rdev, Some((1, 3)));
        assert_eq!(
            (get("owners/unnamed").uid, get("owners/unnamed").gid),
            (UNNAMED, UNNAMED)
        );
        assert_eq!(
            get("acls/defdir/inherited").acl_access.as_deref(),
            Some("user::rw-,user:65534:r-x,group::r-x,group:65534:r-x,mask::r--,other::---")
        );
        assert!(get("acls/defdir/subdir").acl_default.is_some());
    }
    assert_mutations_detected(&a, &tmp.path().join("b"), &report, &CompareOpts::default());
    make_removable(tmp.path());
}

#[test]
fn tree_round_trip_borg14() {
    round_trip(Tool::Borg(Borg::V14), Tool::Borg(Borg::V14));
}

#[test]
fn tree_round_trip_borg12() {
    round_trip(Tool::Borg(Borg::V12), Tool::Borg(Borg::V12));
}

#[test]
fn tree_round_trip_oxiborg() {
    round_trip(Tool::Oxiborg, Tool::Oxiborg);
}

#[test]
fn tree_oxiborg_create_borg14_extract() {
    round_trip(Tool::Oxiborg, Tool::Borg(Borg::V14));
}

#[test]
fn tree_borg14_create_oxiborg_extract() {
    round_trip(Tool::Borg(Borg::V14), Tool::Oxiborg);
}
