//! The `Store`: named files below a repository root, the only thing the
//! segment log needs from the place the repository lives. A local directory
//! comes first; SFTP and object stores can implement the same trait.
//!
//! Names are relative, `/`-separated paths such as `data/0/17` or `index.5`.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{is_no_space, RepositoryError, Result};

/// A file being appended to.
pub trait StoreFile: Write + Send {
    /// Make everything written so far durable (fdatasync).
    fn sync_data(&mut self) -> std::io::Result<()>;
}

/// Files by name below a root.
pub trait Store: Send + Sync {
    /// A human-readable location of `name`, for error messages.
    fn path_of(&self, name: &str) -> PathBuf;
    /// The whole content of `name`, or `None` if it does not exist.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Read up to `buf.len()` bytes at `offset`; fewer only at end of file.
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize>;
    /// The size of `name`, or `None` if it does not exist.
    fn size(&self, name: &str) -> Result<Option<u64>>;
    /// Replace `name` atomically and durably with `data` (temp file in the
    /// same directory, fsync, rename, fsync of the directory).
    fn write_atomic(&self, name: &str, data: &[u8]) -> Result<()>;
    /// Write `name` (which must not exist) and fsync it, without renaming.
    fn write_new_synced(&self, name: &str, data: &[u8]) -> Result<()>;
    /// Create `name`, which must not exist yet, for appending.
    fn create_new(&self, name: &str) -> Result<Box<dyn StoreFile>>;
    /// Open `name` for appending, creating it when missing.
    fn open_append(&self, name: &str) -> Result<Box<dyn StoreFile>>;
    /// Remove `name`; a missing file is not an error.
    fn delete(&self, name: &str) -> Result<()>;
    /// Rename `from` to `to`, replacing `to`.
    fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// The entry names directly below `dir` (`""` is the root). A missing
    /// directory lists as empty.
    fn list(&self, dir: &str) -> Result<Vec<String>>;
    /// Create directory `dir` if missing.
    fn mkdir(&self, dir: &str) -> Result<()>;
    /// Remove directory `dir` if it is empty; report whether it was removed.
    fn rmdir_if_empty(&self, dir: &str) -> Result<bool>;
    /// fsync directory `dir`, making renames and creations in it durable.
    fn sync_dir(&self, dir: &str) -> Result<()>;
    /// Free bytes on the underlying filesystem, when that can be known.
    fn free_space(&self) -> Option<u64>;
    /// Hint that `len` bytes of `name` from `offset` will be read soon, so
    /// the store can start fetching them (readahead). Only a hint.
    fn will_need(&self, _name: &str, _offset: u64, _len: u64) {}
    /// Hard-link `from` to `to`; `false` where the store cannot link.
    fn hard_link(&self, from: &str, to: &str) -> Result<bool>;
    /// Overwrite `name` with random bytes, sync and delete it (borg's
    /// `secure_erase`), unless other hard links still point at its data, in
    /// which case it is only unlinked.
    fn secure_erase(&self, name: &str) -> Result<()>;
}

/// A local directory.
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    /// Open read handles, so `get` does not reopen a segment per object.
    readers: Mutex<HashMap<String, Arc<File>>>,
}

/// How many segment read handles stay open (borg keeps 90).
const MAX_OPEN_READERS: usize = 90;

impl LocalStore {
    /// A store rooted at `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore {
            root: root.into(),
            readers: Mutex::new(HashMap::new()),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn full(&self, name: &str) -> PathBuf {
        if name.is_empty() {
            self.root.clone()
        } else {
            self.root.join(name)
        }
    }

    fn reader(&self, name: &str) -> Result<Arc<File>> {
        let mut map = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = map.get(name) {
            return Ok(f.clone());
        }
        let path = self.full(name);
        let f = Arc::new(File::open(&path).map_err(|e| RepositoryError::io(&path, e))?);
        if map.len() >= MAX_OPEN_READERS {
            map.clear();
        }
        map.insert(name.to_string(), f.clone());
        Ok(f)
    }

    fn forget_reader(&self, name: &str) {
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
    }
}

/// Bytes appended to a new file between two writeback kicks.
const WRITEBACK_STEP: u64 = 8 * 1024 * 1024;

struct LocalFile {
    file: File,
    /// Start early writeback of what was appended (new segments only).
    kick: bool,
    /// Bytes written through this handle.
    written: u64,
    /// Bytes already handed to writeback.
    kicked: u64,
}

impl LocalFile {
    fn new(file: File, kick: bool) -> Self {
        LocalFile {
            file,
            kick,
            written: 0,
            kicked: 0,
        }
    }
}

impl Write for LocalFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.kick && self.written - self.kicked >= WRITEBACK_STEP {
            // Start asynchronous writeback of the bytes appended since the
            // last kick (`POSIX_FADV_DONTNEED` writes dirty pages back
            // without waiting, and drops only pages already clean). The
            // fdatasync that closes the segment then finds little left to
            // write, instead of stalling every writer while a whole
            // segment goes to disk. Durability is unchanged: only that
            // fdatasync counts. Errors only lose the hint.
            let _ = rustix::fs::fadvise(
                &self.file,
                self.kicked,
                std::num::NonZeroU64::new(self.written - self.kicked),
                rustix::fs::Advice::DontNeed,
            );
            self.kicked = self.written;
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl StoreFile for LocalFile {
    fn sync_data(&mut self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

/// borg's `safe_unlink` after an unlink failed with ENOSPC (some
/// filesystems need space to delete): truncate the file to free its data,
/// then unlink it again. Only when no other hard link shares the data;
/// otherwise, or when truncating fails too, the unlink error stands.
fn truncate_then_unlink(path: &Path, unlink_err: std::io::Error) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let single = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.nlink() == 1);
    let truncated = single
        && OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(0))
            .is_ok();
    if !truncated {
        return Err(RepositoryError::io(path, unlink_err));
    }
    std::fs::remove_file(path).map_err(|e| RepositoryError::io(path, e))
}

fn parent_of(name: &str) -> &str {
    name.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

impl Store for LocalStore {
    fn path_of(&self, name: &str) -> PathBuf {
        self.full(name)
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.full(name);
        match std::fs::read(&path) {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RepositoryError::io(path, e)),
        }
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let f = self.reader(name)?;
        let mut done = 0;
        while done < buf.len() {
            match f.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(RepositoryError::io(self.full(name), e)),
            }
        }
        Ok(done)
    }

    fn size(&self, name: &str) -> Result<Option<u64>> {
        let path = self.full(name);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RepositoryError::io(path, e)),
        }
    }

    fn write_atomic(&self, name: &str, data: &[u8]) -> Result<()> {
        let path = self.full(name);
        let mut rnd = [0u8; 4];
        getrandom::getrandom(&mut rnd).map_err(|e| RepositoryError::io(&path, e.into()))?;
        // borg's SaveFile names its temp file `<basename>-<random>.tmp`.
        let tmp_name = format!("{name}-{}.tmp", hex::encode(rnd));
        let tmp = self.full(&tmp_name);
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o666)
                .open(&tmp)?;
            f.write_all(data)?;
            f.sync_data()?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(RepositoryError::io(path, e));
        }
        self.forget_reader(name);
        self.sync_dir(parent_of(name))
    }

    fn write_new_synced(&self, name: &str, data: &[u8]) -> Result<()> {
        let path = self.full(name);
        (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o666)
                .open(&path)?;
            f.write_all(data)?;
            f.sync_all()
        })()
        .map_err(|e| RepositoryError::io(path, e))
    }

    fn create_new(&self, name: &str) -> Result<Box<dyn StoreFile>> {
        let path = self.full(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&path)
            .map_err(|e| RepositoryError::io(&path, e))?;
        self.forget_reader(name);
        Ok(Box::new(LocalFile::new(file, true)))
    }

    fn open_append(&self, name: &str) -> Result<Box<dyn StoreFile>> {
        let path = self.full(name);
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o666)
            .open(&path)
            .map_err(|e| RepositoryError::io(&path, e))?;
        Ok(Box::new(LocalFile::new(file, false)))
    }

    fn delete(&self, name: &str) -> Result<()> {
        self.forget_reader(name);
        let path = self.full(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) if is_no_space(&e) => truncate_then_unlink(&path, e),
            Err(e) => Err(RepositoryError::io(path, e)),
        }
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.forget_reader(from);
        self.forget_reader(to);
        let (a, b) = (self.full(from), self.full(to));
        std::fs::rename(&a, &b).map_err(|e| RepositoryError::io(a, e))
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let path = self.full(dir);
        let rd = match std::fs::read_dir(&path) {
            Ok(rd) => rd,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(RepositoryError::io(path, e)),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| RepositoryError::io(&path, e))?;
            if let Some(n) = entry.file_name().to_str() {
                out.push(n.to_string());
            }
        }
        Ok(out)
    }

    fn mkdir(&self, dir: &str) -> Result<()> {
        let path = self.full(dir);
        match std::fs::create_dir(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(RepositoryError::io(path, e)),
        }
    }

    fn rmdir_if_empty(&self, dir: &str) -> Result<bool> {
        let path = self.full(dir);
        match std::fs::remove_dir(&path) {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.kind(), ErrorKind::DirectoryNotEmpty | ErrorKind::NotFound) => {
                Ok(false)
            }
            Err(e) => Err(RepositoryError::io(path, e)),
        }
    }

    fn sync_dir(&self, dir: &str) -> Result<()> {
        let path = self.full(dir);
        File::open(&path)
            .and_then(|d| d.sync_all())
            .map_err(|e| RepositoryError::io(path, e))
    }

    fn free_space(&self) -> Option<u64> {
        let st = rustix::fs::statvfs(&self.root).ok()?;
        Some(st.f_bavail.saturating_mul(st.f_frsize))
    }

    fn will_need(&self, name: &str, offset: u64, len: u64) {
        if let Ok(f) = self.reader(name) {
            // Asynchronous readahead; errors only lose the hint.
            let _ = rustix::fs::fadvise(
                &*f,
                offset,
                std::num::NonZeroU64::new(len),
                rustix::fs::Advice::WillNeed,
            );
        }
    }

    fn hard_link(&self, from: &str, to: &str) -> Result<bool> {
        match std::fs::hard_link(self.full(from), self.full(to)) {
            Ok(()) => Ok(true),
            // borg only warns when the filesystem cannot link.
            Err(e) if e.kind() != ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(RepositoryError::io(self.full(to), e)),
        }
    }

    fn secure_erase(&self, name: &str) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let path = self.full(name);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(RepositoryError::io(path, e)),
        };
        if meta.nlink() == 1 {
            let result = (|| {
                let mut f = OpenOptions::new().write(true).open(&path)?;
                let mut left = meta.len();
                let mut buf = vec![0u8; 65536];
                while left > 0 {
                    let n = left.min(buf.len() as u64) as usize;
                    getrandom::getrandom(&mut buf[..n]).map_err(std::io::Error::from)?;
                    f.write_all(&buf[..n])?;
                    left -= n as u64;
                }
                f.sync_all()
            })();
            result.map_err(|e| RepositoryError::io(&path, e))?;
        }
        self.delete(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enospc() -> std::io::Error {
        std::io::Error::from_raw_os_error(rustix::io::Errno::NOSPC.raw_os_error())
    }

    #[test]
    fn a_full_disk_unlink_falls_back_to_truncate_then_unlink() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("segment");
        std::fs::write(&f, vec![7u8; 4096]).unwrap();
        truncate_then_unlink(&f, enospc()).unwrap();
        assert!(!f.exists());
    }

    #[test]
    fn a_hard_linked_file_is_not_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config.old");
        let other = dir.path().join("config");
        std::fs::write(&f, b"keep me").unwrap();
        std::fs::hard_link(&f, &other).unwrap();
        let e = truncate_then_unlink(&f, enospc()).unwrap_err();
        assert!(e.is_no_space(), "{e}");
        assert_eq!(std::fs::read(&other).unwrap(), b"keep me");
        assert!(f.exists());
    }
}
