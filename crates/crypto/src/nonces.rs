//! AES-CTR counter ("nonce") reservation (`src/borg/crypto/nonces.py`).
//!
//! Counter ranges are reserved in the repository *and* in the local security
//! directory before any counter value is used, so that neither a crash nor a
//! server rolled back to an older state can cause a counter to be reused.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{CryptoError, Result};
use crate::key::Key;
use crate::primitives::{num_cipher_blocks, random_array};

/// Counter values reserved beyond the immediate need (`NONCE_SPACE_RESERVATION`,
/// in 16-byte AES blocks, i.e. 4 GiB of data).
pub const NONCE_SPACE_RESERVATION: u64 = 1 << 28;

/// `MAX_REPRESENTABLE_NONCE = 2**64 - 1`; reservations must end below it.
pub const MAX_REPRESENTABLE_NONCE: u64 = u64::MAX;

/// Persistent storage of the next free counter value.
///
/// Implemented by the repository (`get_free_nonce` /
/// `commit_nonce_reservation`; an old server without these RPCs should return
/// `Ok(None)` and ignore commits) and by [`SecurityDirNonceFile`].
pub trait NonceStore {
    /// The next free counter value, or `None` if nothing was stored yet.
    fn get(&mut self) -> Result<Option<u64>>;

    /// Durably store `next` as the next free value, after checking that the
    /// stored value still equals `expected_previous` (otherwise
    /// [`CryptoError::NonceMismatch`]). Must not return before `next` is
    /// on stable storage.
    fn commit_reservation(&mut self, next: u64, expected_previous: Option<u64>) -> Result<()>;
}

impl<T: NonceStore + ?Sized> NonceStore for &mut T {
    fn get(&mut self) -> Result<Option<u64>> {
        (**self).get()
    }
    fn commit_reservation(&mut self, next: u64, expected_previous: Option<u64>) -> Result<()> {
        (**self).commit_reservation(next, expected_previous)
    }
}

impl<T: NonceStore + ?Sized> NonceStore for Box<T> {
    fn get(&mut self) -> Result<Option<u64>> {
        (**self).get()
    }
    fn commit_reservation(&mut self, next: u64, expected_previous: Option<u64>) -> Result<()> {
        (**self).commit_reservation(next, expected_previous)
    }
}

/// A volatile [`NonceStore`] (tests, or a repository without nonce support
/// when wrapped appropriately).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InMemoryNonceStore {
    /// The stored value.
    pub value: Option<u64>,
}

impl NonceStore for InMemoryNonceStore {
    fn get(&mut self) -> Result<Option<u64>> {
        Ok(self.value)
    }
    fn commit_reservation(&mut self, next: u64, expected_previous: Option<u64>) -> Result<()> {
        if self.value != expected_previous {
            return Err(CryptoError::NonceMismatch {
                expected: expected_previous,
                found: self.value,
            });
        }
        self.value = Some(next);
        Ok(())
    }
}

/// The text form of a stored nonce: 16 lowercase hex digits (8 bytes
/// big-endian), no newline.
pub fn format_nonce(value: u64) -> String {
    hex::encode(value.to_be_bytes())
}

/// Parse a stored nonce like borg: strip surrounding whitespace, then the hex
/// must decode to exactly 8 bytes. Returns the reason on failure.
pub fn parse_nonce(text: &[u8]) -> std::result::Result<u64, String> {
    let text = std::str::from_utf8(text).map_err(|_| "not UTF-8 text".to_string())?;
    let text = text.trim();
    let mut bytes = [0u8; 8];
    let decoded = hex::decode(text).map_err(|e| e.to_string())?;
    if decoded.len() != 8 {
        return Err(format!(
            "Expected 8 bytes (16 hex digits), got {} bytes.",
            decoded.len()
        ));
    }
    bytes.copy_from_slice(&decoded);
    Ok(u64::from_be_bytes(bytes))
}

/// Write `contents` to `path` atomically and durably (borg's `SaveFile`):
/// temp file in the same directory, fsync, rename, fsync the directory.
pub(crate) fn save_file(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffix = hex::encode(random_array::<6>()?);
    let tmp = dir.join(format!("{base}-{suffix}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(CryptoError::io(path, e));
    }
    // Make the rename durable.
    if let Ok(d) = fs::File::open(dir) {
        d.sync_all().map_err(|e| CryptoError::io(dir, e))?;
    }
    Ok(())
}

/// The local `<security dir>/nonce` file (`NonceManager.get_local_free_nonce`
/// / `commit_local_nonce_reservation`), shared with borg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityDirNonceFile {
    path: PathBuf,
}

impl SecurityDirNonceFile {
    /// The nonce file of a repository's security directory
    /// (`<security dir>/nonce`; the caller resolves the directory, normally
    /// `~/.config/borg/security/<repo id hex>`).
    pub fn new(security_dir: impl AsRef<Path>) -> Self {
        SecurityDirNonceFile {
            path: security_dir.as_ref().join("nonce"),
        }
    }

    /// Path of the nonce file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored value, `None` if the file does not exist.
    pub fn read(&self) -> Result<Option<u64>> {
        match fs::read(&self.path) {
            Ok(b) => parse_nonce(&b)
                .map(Some)
                .map_err(|reason| CryptoError::NonceFileInvalid {
                    path: self.path.clone(),
                    reason,
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CryptoError::io(&self.path, e)),
        }
    }

    /// Store `value` atomically and durably, creating the security directory
    /// (mode 0700) if needed.
    pub fn write(&self, value: u64) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            if !dir.as_os_str().is_empty() && !dir.is_dir() {
                let mut b = fs::DirBuilder::new();
                b.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
                b.create(dir).map_err(|e| CryptoError::io(dir, e))?;
            }
        }
        save_file(&self.path, format_nonce(value).as_bytes())
    }
}

impl NonceStore for SecurityDirNonceFile {
    fn get(&mut self) -> Result<Option<u64>> {
        self.read()
    }

    fn commit_reservation(&mut self, next: u64, expected_previous: Option<u64>) -> Result<()> {
        let found = self.read()?;
        if found != expected_previous {
            return Err(CryptoError::NonceMismatch {
                expected: expected_previous,
                found,
            });
        }
        self.write(next)
    }
}

/// Hands out AES-CTR IVs that are never reused, even across crashes
/// (`NonceManager`).
///
/// `R` is the repository's store, `L` the local security-dir file.
#[derive(Debug)]
pub struct NonceManager<R: NonceStore, L: NonceStore> {
    repo: R,
    local: L,
    manifest_nonce: u64,
    end_of_reservation: Option<u64>,
    next_iv: u64,
}

impl<R: NonceStore, L: NonceStore> NonceManager<R, L> {
    /// A manager starting at `manifest_nonce`: [`crate::manifest_nonce`] of
    /// the manifest envelope just read, or 0 for a new repository.
    pub fn new(repo: R, local: L, manifest_nonce: u64) -> Self {
        NonceManager {
            repo,
            local,
            manifest_nonce,
            end_of_reservation: None,
            next_iv: manifest_nonce,
        }
    }

    /// borg's `ensure_reservation(nonce, nonce_space_needed)`: the IV to use
    /// for an object needing `nonce_space_needed` counter values, given the
    /// current unused counter `nonce`.
    ///
    /// Inside the current reservation this is `nonce`. Otherwise a new range
    /// starting at `max(repo, local, manifest_nonce, end_of_reservation)` and
    /// ending `nonce_space_needed + 2**28` later is committed to the
    /// repository and then to the local file, and its start is returned.
    pub fn ensure_reservation(&mut self, nonce: u64, nonce_space_needed: u64) -> Result<u64> {
        if let Some(end) = self.end_of_reservation.filter(|&e| e != 0) {
            if nonce > end {
                return Err(CryptoError::NonceOutsideReservation { nonce, end });
            }
            if nonce
                .checked_add(nonce_space_needed)
                .is_some_and(|n| n <= end)
            {
                return Ok(nonce);
            }
        }
        let repo_free = self.repo.get()?;
        let local_free = self.local.get()?;
        let free = [
            repo_free,
            local_free,
            Some(self.manifest_nonce),
            self.end_of_reservation,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(self.manifest_nonce);
        let end = free
            .checked_add(nonce_space_needed)
            .and_then(|v| v.checked_add(NONCE_SPACE_RESERVATION))
            .filter(|&v| v < MAX_REPRESENTABLE_NONCE)
            .ok_or(CryptoError::NonceSpaceExhausted)?;
        self.repo.commit_reservation(end, repo_free)?;
        self.local.commit_reservation(end, local_free)?;
        self.end_of_reservation = Some(end);
        Ok(free)
    }

    /// The IV for the next object of `compressed_len` bytes, reserving as
    /// needed; advances the internal counter past the object's blocks.
    pub fn next_iv(&mut self, compressed_len: usize) -> Result<u64> {
        let need = num_cipher_blocks(compressed_len);
        let iv = self.ensure_reservation(self.next_iv, need)?;
        self.next_iv = iv
            .checked_add(need)
            .ok_or(CryptoError::NonceSpaceExhausted)?;
        Ok(iv)
    }

    /// The end of the current reservation, if any.
    pub fn end_of_reservation(&self) -> Option<u64> {
        self.end_of_reservation
    }

    /// The repository store.
    pub fn repo_store(&mut self) -> &mut R {
        &mut self.repo
    }

    /// The local store.
    pub fn local_store(&mut self) -> &mut L {
        &mut self.local
    }

    /// Give back both stores.
    pub fn into_stores(self) -> (R, L) {
        (self.repo, self.local)
    }
}

impl Key {
    /// Build an envelope with an IV from `nonces` (only encrypted types use
    /// one; others never touch the stores), as borg's `AESKeyBase.encrypt`.
    pub fn encrypt_with_nonces<R: NonceStore, L: NonceStore>(
        &self,
        nonces: &mut NonceManager<R, L>,
        compressed: &[u8],
    ) -> Result<Vec<u8>> {
        let iv = if self.key_type().is_encrypted() {
            nonces.next_iv(compressed.len())?
        } else {
            0
        };
        Ok(self.encrypt(iv, compressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::extract_iv;
    use crate::KeyType;

    #[test]
    fn nonce_file_format() {
        let dir = tempfile::tempdir().unwrap();
        let sec = dir.path().join("security").join("ab");
        let mut f = SecurityDirNonceFile::new(&sec);
        assert_eq!(f.get().unwrap(), None);
        f.commit_reservation(0x2000001d, None).unwrap();
        assert_eq!(fs::read(f.path()).unwrap(), b"000000002000001d");
        assert_eq!(f.get().unwrap(), Some(0x2000001d));
        // No temp files left behind.
        assert_eq!(fs::read_dir(&sec).unwrap().count(), 1);
        // Mismatch check.
        let e = f.commit_reservation(5, Some(4)).unwrap_err();
        assert!(matches!(e, CryptoError::NonceMismatch { .. }));
        assert_eq!(f.get().unwrap(), Some(0x2000001d));
        // Whitespace and upper case tolerated on read.
        fs::write(f.path(), " 00000000200000AB\n").unwrap();
        assert_eq!(f.get().unwrap(), Some(0x200000ab));
        for bad in [
            &b"123"[..],
            b"0000000020000001d",
            b"zz00000020000001",
            b"",
            b"\xff",
        ] {
            fs::write(f.path(), bad).unwrap();
            assert!(
                matches!(f.get(), Err(CryptoError::NonceFileInvalid { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn reservation_algorithm() {
        let mut m = NonceManager::new(
            InMemoryNonceStore::default(),
            InMemoryNonceStore::default(),
            100,
        );
        let iv = m.next_iv(32).unwrap();
        assert_eq!(iv, 100);
        let end = 100 + 2 + NONCE_SPACE_RESERVATION;
        assert_eq!(m.end_of_reservation(), Some(end));
        assert_eq!(m.repo_store().value, Some(end));
        assert_eq!(m.local_store().value, Some(end));
        // Inside the reservation: consecutive, no store traffic.
        m.repo_store().value = Some(7);
        assert_eq!(m.next_iv(1).unwrap(), 102);
        assert_eq!(m.next_iv(17).unwrap(), 103);
        assert_eq!(m.next_iv(0).unwrap(), 105);
        m.repo_store().value = Some(end);
        // An object that does not fit starts a new reservation at the old end.
        let big = NONCE_SPACE_RESERVATION as usize * 16;
        let iv = m.next_iv(big).unwrap();
        assert_eq!(iv, end);
        assert_eq!(
            m.end_of_reservation(),
            Some(end + NONCE_SPACE_RESERVATION + NONCE_SPACE_RESERVATION)
        );
        // Starting value is the maximum of all sources.
        let mut m = NonceManager::new(
            InMemoryNonceStore { value: Some(50) },
            InMemoryNonceStore { value: Some(900) },
            10,
        );
        assert_eq!(m.next_iv(1).unwrap(), 900);
        // Mismatch from a concurrent writer is reported.
        let mut m = NonceManager::new(
            InMemoryNonceStore { value: Some(50) },
            InMemoryNonceStore::default(),
            10,
        );
        assert_eq!(m.ensure_reservation(10, 1).unwrap(), 50);
        assert!(matches!(
            m.ensure_reservation(10 + NONCE_SPACE_RESERVATION + 100, 1),
            Err(CryptoError::NonceOutsideReservation { .. })
        ));
        // Exhaustion.
        let mut m = NonceManager::new(
            InMemoryNonceStore::default(),
            InMemoryNonceStore::default(),
            u64::MAX - NONCE_SPACE_RESERVATION,
        );
        assert!(matches!(
            m.next_iv(16),
            Err(CryptoError::NonceSpaceExhausted)
        ));
    }

    struct FailingStore;
    impl NonceStore for FailingStore {
        fn get(&mut self) -> Result<Option<u64>> {
            Ok(None)
        }
        fn commit_reservation(&mut self, _: u64, _: Option<u64>) -> Result<()> {
            Err(CryptoError::NonceStore("server gone".into()))
        }
    }

    #[test]
    fn failed_commit_hands_out_nothing() {
        let mut m = NonceManager::new(FailingStore, InMemoryNonceStore::default(), 0);
        assert!(m.next_iv(10).is_err());
        assert_eq!(m.end_of_reservation(), None);
        assert_eq!(m.local_store().value, None);
    }

    /// A process reserves, encrypts a few objects and "crashes" (the manager
    /// is dropped; the manifest was never rewritten). A new process starting
    /// from the old manifest must start beyond the crashed reservation, even
    /// if the repository's nonce was rolled back, or the local file lost.
    #[test]
    fn crash_safety() {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::generate(KeyType::Repokey, [1; 32]).unwrap();
        let manifest_nonce = 1234;
        let repo_dir = dir.path().join("repo");
        let sec = dir.path().join("sec");

        let mut used = Vec::new();
        let crashed_end;
        {
            let mut m = NonceManager::new(
                SecurityDirNonceFile::new(&repo_dir),
                SecurityDirNonceFile::new(&sec),
                manifest_nonce,
            );
            for len in [10usize, 100, 4096] {
                let env = key.encrypt_with_nonces(&mut m, &vec![0u8; len]).unwrap();
                let iv = extract_iv(&env).unwrap();
                used.push((iv, iv + num_cipher_blocks(len)));
            }
            crashed_end = m.end_of_reservation().unwrap();
            // crash: drop without any cleanup
        }
        let check_fresh = |m: &mut NonceManager<SecurityDirNonceFile, SecurityDirNonceFile>| {
            let iv = m.next_iv(64).unwrap();
            assert!(iv >= crashed_end, "iv {iv} < crashed end {crashed_end}");
            for &(s, e) in &used {
                assert!(iv >= e || iv + 4 <= s);
            }
        };
        // Normal restart.
        let mut m = NonceManager::new(
            SecurityDirNonceFile::new(&repo_dir),
            SecurityDirNonceFile::new(&sec),
            manifest_nonce,
        );
        check_fresh(&mut m);
        let second_end = m.end_of_reservation().unwrap();
        drop(m);
        // Server rolled back to an empty nonce file: the local file protects.
        fs::remove_file(repo_dir.join("nonce")).unwrap();
        let mut m = NonceManager::new(
            SecurityDirNonceFile::new(&repo_dir),
            SecurityDirNonceFile::new(&sec),
            manifest_nonce,
        );
        let iv = m.next_iv(1).unwrap();
        assert!(iv >= second_end);
        drop(m);
        // Another client (fresh security dir): the repository protects.
        let mut m = NonceManager::new(
            SecurityDirNonceFile::new(&repo_dir),
            SecurityDirNonceFile::new(dir.path().join("other-sec")),
            manifest_nonce,
        );
        let iv2 = m.next_iv(1).unwrap();
        assert!(iv2 > iv);
        // Unencrypted keys never reserve.
        let auth = Key::generate(KeyType::Authenticated, [1; 32]).unwrap();
        let mut m = NonceManager::new(FailingStore, FailingStore, 0);
        assert_eq!(auth.encrypt_with_nonces(&mut m, b"x").unwrap(), b"\x07x");
    }
}
