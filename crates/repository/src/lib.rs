//! borg 1.x repositories.
//!
//! Two levels, as in `docs/architecture.md`:
//! * [`Repository`] is the object level that `borg serve` speaks: get, put,
//!   delete, list, scan, commit, rollback, keys, nonces, check, compact.
//! * [`Store`] sits below the local implementation: named files with read,
//!   ranged read, append, sync, atomic write, rename, delete and list.
//!
//! [`LocalRepository`] is borg's segment log on a [`Store`], byte-compatible
//! with borg 1.2 and 1.4: both tools can work on the same repository one
//! after the other.

mod check;
mod compact;
mod config;
#[cfg(test)]
mod enospc_tests;
mod error;
mod hints;
mod idx;
mod local;
mod readpool;
pub mod segment;
mod store;

pub use config::{
    parse_file_size, ConfigFile, Settings, DEFAULT_MAX_SEGMENT_SIZE, DEFAULT_SEGMENTS_PER_DIR,
    MAX_SEGMENT_SIZE_LIMIT,
};
pub use error::{Id, RepositoryError, Result};
pub use local::{LocalRepository, OpenOptions};
pub use store::{LocalStore, Store, StoreFile};

/// The manifest's fixed id: 32 zero bytes.
pub const MANIFEST_ID: Id = [0u8; 32];

/// borg's `LIST_SCAN_LIMIT`: how many ids a client asks for per list/scan call.
pub const LIST_SCAN_LIMIT: usize = 100_000;

/// How libraries report to the user. The CLI implements it (plain text,
/// `--log-json`, progress bars); libraries never print.
pub trait Reporter: Send + Sync {
    /// A warning (borg logs it at WARNING).
    fn warning(&self, msg: &str);
    /// An error found while checking (borg logs it at ERROR).
    fn error(&self, msg: &str);
    /// An informational message.
    fn info(&self, msg: &str);
    /// A debugging message (borg logs it at DEBUG).
    fn debug(&self, _msg: &str) {}
    /// Progress of operation `msgid` (e.g. `repository.check`).
    fn progress(&self, _msgid: &str, _current: u64, _total: u64) {}
}

/// A [`Reporter`] that drops everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullReporter;

impl Reporter for NullReporter {
    fn warning(&self, _msg: &str) {}
    fn error(&self, _msg: &str) {}
    fn info(&self, _msg: &str) {}
}

/// Options of a commit, as borg's `Repository.commit`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommitOptions {
    /// Compact after committing (borg 1.2+ does this only in `borg compact`).
    pub compact: bool,
    /// Compact segments whose freeable share exceeds this (0.0..=1.0).
    pub threshold: f64,
    /// Also drop the 17-byte commit-only segments left by borg 1.1.
    pub cleanup_commits: bool,
}

impl Default for CommitOptions {
    /// What normal borg 1.2+ commands use: no compaction.
    fn default() -> Self {
        CommitOptions {
            compact: false,
            threshold: 0.1,
            cleanup_commits: false,
        }
    }
}

/// The object-level repository interface (what `borg serve` exposes).
pub trait Repository {
    /// The repository id from its config.
    fn id(&self) -> Id;
    /// One object.
    fn get(&mut self, id: &Id) -> Result<Vec<u8>>;
    /// Several objects, in request order, read concurrently so the storage
    /// stays busy. Fails with the first error in request order.
    fn get_many(&mut self, ids: &[Id]) -> Result<Vec<Vec<u8>>>;
    /// Store an object, replacing any object with the same id.
    fn put(&mut self, id: &Id, data: &[u8]) -> Result<()>;
    /// Delete an object (`ObjectNotFound` if absent).
    fn delete(&mut self, id: &Id) -> Result<()>;
    /// Make everything since the last commit durable.
    fn commit(&mut self, opts: CommitOptions) -> Result<()>;
    /// Forget everything since the last commit.
    fn rollback(&mut self) -> Result<()>;
    /// Roll back because an error ends the work with the repository
    /// (borg's `Repository.__exit__` with an exception). When the error is
    /// "no space left on device" (`no_space_left`) and a transaction is
    /// active, the uncommitted segment files are deleted at once, with
    /// borg's warning, so the space comes back; returns whether that
    /// happened. Any other error: a plain [`Repository::rollback`].
    ///
    /// A [`LocalRepository`] dropped without `close` after its own writes
    /// failed with ENOSPC does this by itself.
    fn rollback_after_error(&mut self, no_space_left: bool) -> Result<bool> {
        let _ = no_space_left;
        self.rollback().map(|()| false)
    }
    /// Object ids in index order, after `marker`.
    fn list(&mut self, limit: Option<usize>, marker: Option<&Id>) -> Result<Vec<Id>>;
    /// Object ids in on-disk order, after `marker`.
    fn scan(&mut self, limit: Option<usize>, marker: Option<&Id>) -> Result<Vec<Id>>;
    /// How many objects the repository holds.
    fn len(&mut self) -> Result<usize>;
    /// Whether the repository holds no object.
    fn is_empty(&mut self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
    /// The repokey text stored in the config (empty if none).
    fn load_key(&mut self) -> Result<Vec<u8>>;
    /// Store the repokey text in the config.
    fn save_key(&mut self, keydata: &[u8]) -> Result<()>;
    /// The repository's next free AES-CTR counter, if recorded.
    fn get_free_nonce(&mut self) -> Result<Option<u64>>;
    /// Reserve counters up to `next_unreserved`, if the stored value is
    /// still `start_nonce`.
    fn commit_nonce_reservation(
        &mut self,
        next_unreserved: u64,
        start_nonce: Option<u64>,
    ) -> Result<()>;
    /// Check (and with `repair`, repair) every segment and the index.
    /// `max_duration` makes a partial check. Returns whether all was well.
    fn check(&mut self, repair: bool, max_duration: Option<std::time::Duration>) -> Result<bool>;
    /// Remove the repository's locks, whoever holds them.
    fn break_lock(&mut self) -> Result<()>;
    /// Close: flush what is open and release the lock.
    fn close_boxed(self: Box<Self>) -> Result<()>;
    /// Delete the whole repository (refused in append-only mode).
    fn destroy_boxed(self: Box<Self>) -> Result<()>;
}
