//! "No space left on device" in a transaction: the repository deletes the
//! partial transaction as borg's `Repository.__exit__` does, and nothing
//! committed. A store that runs out of room after a byte budget (or fails
//! with another error) stands in for a full filesystem.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{RepositoryError, Result};
use crate::segment::list_segments;
use crate::store::{LocalStore, Store, StoreFile};
use crate::{CommitOptions, LocalRepository, OpenOptions, Reporter, Repository};

const WARNING: &str = "No space left on device, cleaning up partial transaction to free space.";

/// How many more bytes may be written, and the error once they are used up.
#[derive(Debug)]
struct Faults {
    left: AtomicU64,
    errno: AtomicI32,
}

impl Faults {
    fn new() -> Arc<Faults> {
        Arc::new(Faults {
            left: AtomicU64::new(u64::MAX),
            errno: AtomicI32::new(rustix::io::Errno::NOSPC.raw_os_error()),
        })
    }

    /// Allow `bytes` more bytes, then fail with `errno`.
    fn limit(&self, bytes: u64, errno: rustix::io::Errno) {
        self.errno.store(errno.raw_os_error(), Ordering::SeqCst);
        self.left.store(bytes, Ordering::SeqCst);
    }

    fn unlimited(&self) {
        self.left.store(u64::MAX, Ordering::SeqCst);
    }

    fn error(&self) -> std::io::Error {
        std::io::Error::from_raw_os_error(self.errno.load(Ordering::SeqCst))
    }

    /// Take up to `want` bytes: a short count as a full disk gives, an
    /// error when nothing is left.
    fn take(&self, want: usize) -> std::io::Result<usize> {
        let left = self.left.load(Ordering::SeqCst);
        let n = left.min(want as u64);
        if n == 0 && want > 0 {
            return Err(self.error());
        }
        if left != u64::MAX {
            self.left.store(left - n, Ordering::SeqCst);
        }
        Ok(n as usize)
    }

    /// Whether `want` bytes may be written whole.
    fn take_all(&self, want: usize) -> std::io::Result<()> {
        if self.take(want)? < want {
            return Err(self.error());
        }
        Ok(())
    }
}

struct FaultFile {
    inner: Box<dyn StoreFile>,
    faults: Arc<Faults>,
}

impl Write for FaultFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.faults.take(buf.len())?;
        self.inner.write_all(&buf[..n])?;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl StoreFile for FaultFile {
    fn sync_data(&mut self) -> std::io::Result<()> {
        self.inner.sync_data()
    }
}

struct FaultStore {
    inner: LocalStore,
    faults: Arc<Faults>,
}

impl Store for FaultStore {
    fn path_of(&self, name: &str) -> PathBuf {
        self.inner.path_of(name)
    }
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.inner.read(name)
    }
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.inner.read_at(name, offset, buf)
    }
    fn size(&self, name: &str) -> Result<Option<u64>> {
        self.inner.size(name)
    }
    fn write_atomic(&self, name: &str, data: &[u8]) -> Result<()> {
        self.faults
            .take_all(data.len())
            .map_err(|e| RepositoryError::io(self.path_of(name), e))?;
        self.inner.write_atomic(name, data)
    }
    fn write_new_synced(&self, name: &str, data: &[u8]) -> Result<()> {
        self.faults
            .take_all(data.len())
            .map_err(|e| RepositoryError::io(self.path_of(name), e))?;
        self.inner.write_new_synced(name, data)
    }
    fn create_new(&self, name: &str) -> Result<Box<dyn StoreFile>> {
        Ok(Box::new(FaultFile {
            inner: self.inner.create_new(name)?,
            faults: self.faults.clone(),
        }))
    }
    fn open_append(&self, name: &str) -> Result<Box<dyn StoreFile>> {
        Ok(Box::new(FaultFile {
            inner: self.inner.open_append(name)?,
            faults: self.faults.clone(),
        }))
    }
    fn delete(&self, name: &str) -> Result<()> {
        self.inner.delete(name)
    }
    fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.inner.rename(from, to)
    }
    fn list(&self, dir: &str) -> Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn mkdir(&self, dir: &str) -> Result<()> {
        self.inner.mkdir(dir)
    }
    fn rmdir_if_empty(&self, dir: &str) -> Result<bool> {
        self.inner.rmdir_if_empty(dir)
    }
    fn sync_dir(&self, dir: &str) -> Result<()> {
        self.inner.sync_dir(dir)
    }
    fn free_space(&self) -> Option<u64> {
        self.inner.free_space()
    }
    fn hard_link(&self, from: &str, to: &str) -> Result<bool> {
        self.inner.hard_link(from, to)
    }
    fn secure_erase(&self, name: &str) -> Result<()> {
        self.inner.secure_erase(name)
    }
}

/// Keeps the warnings.
#[derive(Debug, Default)]
struct Recorder {
    warnings: Mutex<Vec<String>>,
}

impl Recorder {
    fn warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Reporter for Recorder {
    fn warning(&self, msg: &str) {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(msg.to_string());
    }
    fn error(&self, _msg: &str) {}
    fn info(&self, _msg: &str) {}
}

fn opts() -> OpenOptions {
    OpenOptions::exclusive(oxiborg_lock::ProcessId::current(oxiborg_lock::host_id()))
}

fn id(n: u32) -> [u8; 32] {
    let mut i = [0u8; 32];
    i[..4].copy_from_slice(&n.to_le_bytes());
    i[31] = 7;
    i
}

fn data(n: u32) -> Vec<u8> {
    (0..1000u32)
        .map(|i| (i.wrapping_mul(n + 3) >> 2) as u8)
        .collect()
}

/// A repository on a [`FaultStore`], with objects 1 and 2 committed.
fn setup(path: &Path) -> (LocalRepository, Arc<Faults>, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    let mut r = LocalRepository::create(path, &opts(), rec.clone()).unwrap();
    let faults = Faults::new();
    r.store = Arc::new(FaultStore {
        inner: LocalStore::new(path),
        faults: faults.clone(),
    });
    r.put(&id(1), &data(1)).unwrap();
    r.put(&id(2), &data(2)).unwrap();
    r.commit(CommitOptions::default()).unwrap();
    (r, faults, rec)
}

/// Every segment file with its content.
fn segments(path: &Path) -> Vec<(u32, Vec<u8>)> {
    let store = LocalStore::new(path);
    list_segments(&store)
        .unwrap()
        .into_iter()
        .map(|(n, name)| (n, store.read(&name).unwrap().unwrap()))
        .collect()
}

/// Put objects from 100 on until the store fails; the error.
fn put_until_failure(r: &mut LocalRepository) -> RepositoryError {
    for n in 100..10_000 {
        if let Err(e) = r.put(&id(n), &data(n)) {
            return e;
        }
    }
    panic!("the store never failed");
}

/// The committed objects are all there, `check` is happy, and a new
/// transaction works (and continues numbering after `last`).
fn still_usable(path: &Path, last: u32) {
    let mut r = LocalRepository::open(path, &opts(), Arc::new(Recorder::default())).unwrap();
    assert_eq!(r.len().unwrap(), 2);
    assert_eq!(r.get(&id(1)).unwrap(), data(1));
    assert_eq!(r.get(&id(2)).unwrap(), data(2));
    assert!(r.check(false, None).unwrap());
    r.put(&id(3), &data(3)).unwrap();
    r.commit(CommitOptions::default()).unwrap();
    assert_eq!(r.get(&id(3)).unwrap(), data(3));
    // Numbering goes on right after the last commit.
    let next = segments(path)
        .into_iter()
        .map(|(n, _)| n)
        .find(|n| *n > last);
    assert_eq!(next, Some(last + 1));
    assert!(r.check(false, None).unwrap());
    r.close().unwrap();
}

#[test]
fn enospc_in_put_then_drop_deletes_the_partial_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let (mut r, faults, rec) = setup(&path);
    let committed = segments(&path);
    let last = committed.last().unwrap().0;
    faults.limit(5000, rustix::io::Errno::NOSPC);
    let e = put_until_failure(&mut r);
    assert!(e.is_no_space(), "{e}");
    assert!(segments(&path).len() > committed.len());
    faults.unlimited();
    drop(r);
    assert_eq!(rec.warnings(), vec![WARNING.to_string()]);
    // Exactly the committed segments are left, byte for byte.
    assert_eq!(segments(&path), committed);
    still_usable(&path, last);
}

#[test]
fn enospc_in_commit_then_drop_deletes_the_partial_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let (mut r, faults, rec) = setup(&path);
    let committed = segments(&path);
    let last = committed.last().unwrap().0;
    r.put(&id(100), &data(100)).unwrap();
    // Room for part of the COMMIT segment only.
    faults.limit(4, rustix::io::Errno::NOSPC);
    let e = r.commit(CommitOptions::default()).unwrap_err();
    assert!(e.is_no_space(), "{e}");
    faults.unlimited();
    drop(r);
    assert_eq!(rec.warnings(), vec![WARNING.to_string()]);
    assert_eq!(segments(&path), committed);
    still_usable(&path, last);
}

#[test]
fn enospc_on_the_nonce_file_in_a_transaction_cleans_up_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let (mut r, faults, rec) = setup(&path);
    let committed = segments(&path);
    r.put(&id(100), &data(100)).unwrap();
    faults.limit(0, rustix::io::Errno::NOSPC);
    let e = r.commit_nonce_reservation(0x100, None).unwrap_err();
    assert!(e.is_no_space(), "{e}");
    faults.unlimited();
    drop(r);
    assert_eq!(rec.warnings(), vec![WARNING.to_string()]);
    assert_eq!(segments(&path), committed);
}

#[test]
fn other_errors_leave_the_tail_to_the_next_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let (mut r, faults, rec) = setup(&path);
    let committed = segments(&path);
    let last = committed.last().unwrap().0;
    faults.limit(5000, rustix::io::Errno::IO);
    let e = put_until_failure(&mut r);
    assert!(!e.is_no_space(), "{e}");
    faults.unlimited();
    drop(r);
    assert!(rec.warnings().is_empty());
    // Plain rollback: the uncommitted tail stays until the next `put`.
    assert!(segments(&path).len() > committed.len());
    still_usable(&path, last);
}

#[test]
fn enospc_without_a_transaction_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let (mut r, faults, rec) = setup(&path);
    // Leave an uncommitted tail from an earlier process.
    r.put(&id(100), &data(100)).unwrap();
    r.rollback().unwrap();
    let before = segments(&path);
    faults.limit(0, rustix::io::Errno::NOSPC);
    let e = r.commit_nonce_reservation(0x100, None).unwrap_err();
    assert!(e.is_no_space(), "{e}");
    faults.unlimited();
    drop(r);
    // borg: `_active_txn` is false, so a plain rollback.
    assert!(rec.warnings().is_empty());
    assert_eq!(segments(&path), before);
}

#[test]
fn close_or_rollback_after_enospc_is_no_error_exit() {
    for explicit_rollback in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let (mut r, faults, rec) = setup(&path);
        let committed = segments(&path);
        let last = committed.last().unwrap().0;
        faults.limit(5000, rustix::io::Errno::NOSPC);
        assert!(put_until_failure(&mut r).is_no_space());
        faults.unlimited();
        if explicit_rollback {
            r.rollback().unwrap();
            drop(r);
        } else {
            r.close().unwrap();
        }
        assert!(rec.warnings().is_empty());
        assert!(segments(&path).len() > committed.len());
        still_usable(&path, last);
    }
}

#[test]
fn rollback_after_error_follows_borgs_exit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let (mut r, _faults, rec) = setup(&path);
    let committed = segments(&path);
    let last = committed.last().unwrap().0;
    // Not ENOSPC: a plain rollback, the tail stays.
    r.put(&id(100), &data(100)).unwrap();
    assert!(!r.rollback_after_error(false).unwrap());
    assert!(segments(&path).len() > committed.len());
    // No active transaction: nothing to clean up, even on ENOSPC.
    assert!(!r.rollback_after_error(true).unwrap());
    assert!(rec.warnings().is_empty());
    // ENOSPC (from anywhere, e.g. the caller's own files) in a
    // transaction: the partial transaction goes, leftovers included.
    r.put(&id(101), &data(101)).unwrap();
    assert!(r.rollback_after_error(true).unwrap());
    assert_eq!(rec.warnings(), vec![WARNING.to_string()]);
    assert_eq!(segments(&path), committed);
    drop(r);
    assert_eq!(rec.warnings().len(), 1);
    still_usable(&path, last);
}

#[test]
fn an_unreadable_last_commit_never_exposes_committed_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let (mut r, faults, _rec) = setup(&path);
    r.put(&id(3), &data(3)).unwrap();
    r.commit(CommitOptions::default()).unwrap();
    let committed = segments(&path);
    let (last, commit_bytes) = committed.last().unwrap().clone();
    faults.limit(5000, rustix::io::Errno::NOSPC);
    assert!(put_until_failure(&mut r).is_no_space());
    faults.unlimited();
    // The newest COMMIT no longer reads back as one: an older segment is
    // the newest committed one on disk. Segments up to the commit the
    // transaction began on are committed all the same and must stay.
    let name = crate::segment::segment_name(last, r.settings.segments_per_dir);
    let mut bad = commit_bytes.clone();
    let end = bad.len() - 1;
    bad[end] ^= 0xff;
    std::fs::write(path.join(&name), &bad).unwrap();
    drop(r);
    let mut left = segments(&path);
    assert_eq!(left.len(), committed.len());
    assert_eq!(left.pop().unwrap().1, bad);
    assert_eq!(left, committed[..committed.len() - 1]);
}
