//! User and group name lookups with process-wide caches.
//!
//! borg 1.4.5 `src/borg/platform/posix.pyx` (lines 80-110 of the tag):
//!
//! ```python
//! @lru_cache(maxsize=None)
//! def uid2user(uid, default=None):
//!     try: return pwd.getpwuid(uid).pw_name
//!     except KeyError: return default
//! @lru_cache(maxsize=None)
//! def user2uid(user, default=None):
//!     try: return user and pwd.getpwnam(user).pw_uid
//!     except KeyError: return default
//! ```
//!
//! and the same for groups with `grp`. The caches are unbounded and never
//! invalidated, misses included; so are these. Lookups go through the C
//! library (`getpwuid_r`, `getpwnam_r`, `getgrgid_r`, `getgrnam_r`), hence
//! NSS, like Python's `pwd`/`grp`. Names are the raw bytes of the database
//! (Python decodes them with `surrogateescape` and borg encodes them back the
//! same way, so bytes survive a round trip there too).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::hash::Hash;
use std::os::unix::ffi::OsStrExt;
use std::sync::{Mutex, OnceLock};

type Cache<K, V> = OnceLock<Mutex<HashMap<K, V>>>;

static UID2USER: Cache<u32, Option<Vec<u8>>> = OnceLock::new();
static GID2GROUP: Cache<u32, Option<Vec<u8>>> = OnceLock::new();
static USER2UID: Cache<Vec<u8>, Option<u32>> = OnceLock::new();
static GROUP2GID: Cache<Vec<u8>, Option<u32>> = OnceLock::new();

fn cached<K, V, Q>(cache: &Cache<K, V>, key: &Q, lookup: impl FnOnce(&Q) -> V) -> V
where
    K: Eq + Hash + std::borrow::Borrow<Q>,
    Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
    V: Clone,
{
    let map = cache.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = map.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
        return v.clone();
    }
    // Look up without holding the lock: NSS may be slow (LDAP, ...).
    let v = lookup(key);
    map.lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key.to_owned())
        .or_insert(v)
        .clone()
}

/// The user name of `uid` (`uid2user(uid)`), `None` when the user database
/// has no such user.
pub fn user_name(uid: u32) -> Option<Vec<u8>> {
    cached(&UID2USER, &uid, |&uid| {
        uzers::get_user_by_uid(uid).map(|u| u.name().as_bytes().to_vec())
    })
}

/// The group name of `gid` (`gid2group(gid)`), `None` when unknown.
pub fn group_name(gid: u32) -> Option<Vec<u8>> {
    cached(&GID2GROUP, &gid, |&gid| {
        uzers::get_group_by_gid(gid).map(|g| g.name().as_bytes().to_vec())
    })
}

/// The uid of user `name` (`user2uid(name)`), `None` when unknown.
///
/// An empty name gives `None` (borg's `user and ...` returns the empty
/// name itself, which its callers treat as "no result" or crash on). A name
/// containing a NUL byte gives `None` (Python raises `ValueError` there).
pub fn uid_for(name: &[u8]) -> Option<u32> {
    if name.is_empty() {
        return None;
    }
    cached(&USER2UID, name, |name: &[u8]| {
        uzers::get_user_by_name(OsStr::from_bytes(name)).map(|u| u.uid())
    })
}

/// The gid of group `name` (`group2gid(name)`), `None` when unknown. Empty
/// names and names with NUL bytes give `None`, see [`uid_for`].
pub fn gid_for(name: &[u8]) -> Option<u32> {
    if name.is_empty() {
        return None;
    }
    cached(&GROUP2GID, name, |name: &[u8]| {
        uzers::get_group_by_name(OsStr::from_bytes(name)).map(|g| g.gid())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_unknown() {
        assert_eq!(user_name(0).as_deref(), Some(&b"root"[..]));
        assert_eq!(group_name(0).as_deref(), Some(&b"root"[..]));
        assert_eq!(uid_for(b"root"), Some(0));
        assert_eq!(gid_for(b"root"), Some(0));
        // cached second time, same answer
        assert_eq!(uid_for(b"root"), Some(0));
        assert_eq!(user_name(0).as_deref(), Some(&b"root"[..]));
        assert_eq!(uid_for(b""), None);
        assert_eq!(gid_for(b""), None);
        assert_eq!(uid_for(b"no-such-user-oxiborg"), None);
        assert_eq!(uid_for(b"ro\0ot"), None);
        assert_eq!(user_name(4_000_000_123), None);
        assert_eq!(group_name(4_000_000_123), None);
    }
}
