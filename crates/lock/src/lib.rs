//! borg 1.x locking (`borg/locking.py`), interoperable with real borg on the
//! same repository or cache directory.
//!
//! A lock for `<base>` (e.g. `<repo>/lock`) consists of
//! * `<base>.exclusive/`, a directory created atomically by renaming a
//!   prepared `<base>.exclusive.<random>.tmp/` that holds one empty file
//!   named `"%s.%d-%x" % (hostid, pid, thread)` of its owner; it is held
//!   briefly to update the roster, and for the whole time of an exclusive
//!   lock;
//! * `<base>.roster`, JSON written like Python's `json.dump`:
//!   `{"shared": [[host, pid, thread], ...], "exclusive": [...]}`.
//!
//! Lock files and roster entries of processes on this host that provably no
//! longer exist (`kill(pid, 0)` gives `ESRCH`) are removed when found, like
//! borg 1.2+ does. The library never prints: what borg would log is
//! collected and can be taken with [`Lock::take_log`].

mod error;
mod exclusive;
mod hostid;
mod netlink;
mod roster;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::LockError;
pub use hostid::{host_id, ProcessId};

use exclusive::{ExclusiveLock, Timer};
use roster::{Key, Roster};

/// Severity of a [`LogRecord`], as borg would log it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// `logger.warning`.
    Warning,
    /// `logger.error`.
    Error,
}

/// A message borg would have logged at this point (e.g. `Killed stale lock
/// vm@1.17002-0.` or `Found malformed lock X in /repo/lock.exclusive.
/// Please check/fix manually.`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// Severity.
    pub level: LogLevel,
    /// The text, worded like borg's.
    pub message: String,
}

/// `<base>` + `suffix`, like Python's `path + '.roster'`.
fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(base.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

/// borg's `Lock`: shared (many readers) or exclusive (one writer) access to
/// the resource `<base>`, using `<base>.exclusive` and `<base>.roster`.
///
/// Dropping a `Lock` that is held releases it, ignoring errors.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    id: ProcessId,
    is_exclusive: bool,
    timeout: Option<Duration>,
    /// Poll interval while waiting for shared lockers to finish (borg: 0.2 s).
    sleep: Duration,
    roster: Roster,
    lock: ExclusiveLock,
    held: bool,
    log: Vec<LogRecord>,
}

impl Lock {
    /// A lock on `base` (e.g. `<repo>/lock`; the files are then
    /// `<repo>/lock.exclusive` and `<repo>/lock.roster`) for holder `id`.
    ///
    /// `timeout`: `None` waits forever, `Some(Duration::ZERO)` tries once.
    /// Nothing happens on disk until [`Lock::acquire`].
    pub fn new(base: &Path, id: ProcessId, exclusive: bool, timeout: Option<Duration>) -> Self {
        Lock {
            path: base.to_path_buf(),
            roster: Roster::new(with_suffix(base, ".roster"), id.clone()),
            lock: ExclusiveLock::new(&with_suffix(base, ".exclusive"), id.clone(), timeout),
            id,
            is_exclusive: exclusive,
            timeout,
            sleep: Duration::from_millis(200),
            held: false,
            log: Vec::new(),
        }
    }

    /// Acquire the lock in the mode given to [`Lock::new`].
    ///
    /// Exclusive: take `lock.exclusive` and keep it, once no shared lockers
    /// are left in the roster (polling every 0.2 s until the timeout;
    /// [`LockError::Timeout`] names `<base>`), then add us to `"exclusive"`.
    /// Shared: take `lock.exclusive` briefly and add us to `"shared"`.
    /// Taking `lock.exclusive` itself times out with [`LockError::Timeout`]
    /// naming `<base>.exclusive`.
    pub fn acquire(&mut self) -> Result<(), LockError> {
        let exclusive = self.is_exclusive;
        self.acquire_mode(exclusive, None)
    }

    /// Release the lock (exclusive: leave the roster, deleting it when
    /// empty, and remove `lock.exclusive`; shared: leave the roster under
    /// `lock.exclusive`). Like borg, this does not check that the lock was
    /// acquired before: releasing an exclusive lock we do not hold gives
    /// [`LockError::NotLocked`] or [`LockError::NotMyLock`].
    pub fn release(&mut self) -> Result<(), LockError> {
        self.held = false;
        let mut log = std::mem::take(&mut self.log);
        let result = self.release_inner(&mut log);
        self.log = log;
        result
    }

    fn release_inner(&mut self, log: &mut Vec<LogRecord>) -> Result<(), LockError> {
        if self.is_exclusive {
            self.roster.modify(Key::Exclusive, false, log)?;
            if self.roster.empty(log)? {
                self.roster.remove()?;
            }
            self.lock.release()
        } else {
            self.with_exclusive(log, |this, log| {
                this.roster.modify(Key::Shared, false, log)?;
                if this.roster.empty(log)? {
                    this.roster.remove()?;
                }
                Ok(())
            })
        }
    }

    /// Shared -> exclusive (no-op when already exclusive). Waits until all
    /// *other* shared lockers are gone; two shared holders that both
    /// upgrade wait for each other until the timeout, as in borg.
    pub fn upgrade(&mut self) -> Result<(), LockError> {
        if self.is_exclusive {
            return Ok(());
        }
        self.acquire_mode(true, Some(Key::Shared))
    }

    /// Exclusive -> shared (no-op when already shared): we move from
    /// `"exclusive"` to `"shared"` and `lock.exclusive` is released.
    pub fn downgrade(&mut self) -> Result<(), LockError> {
        if !self.is_exclusive {
            return Ok(());
        }
        self.acquire_mode(false, Some(Key::Exclusive))
    }

    /// Whether this is an exclusive lock and `lock.exclusive` currently
    /// holds our marker file (borg's `got_exclusive_lock()`).
    pub fn got_exclusive_lock(&self) -> bool {
        self.is_exclusive && self.lock.is_locked() && self.lock.by_me()
    }

    /// The current mode: exclusive (as requested in [`Lock::new`], or after
    /// [`Lock::upgrade`]) or shared. Like borg's `is_exclusive` attribute it
    /// says nothing about whether the lock is held.
    pub fn is_exclusive(&self) -> bool {
        self.is_exclusive
    }

    /// The holder identity this lock uses.
    pub fn id(&self) -> &ProcessId {
        &self.id
    }

    /// The base path given to [`Lock::new`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Take the messages borg would have logged so far (stale locks killed,
    /// malformed lock names found, ...).
    pub fn take_log(&mut self) -> Vec<LogRecord> {
        std::mem::take(&mut self.log)
    }

    /// Run `f` while holding `lock.exclusive` (Python's `with self._lock:`),
    /// releasing it afterwards whatever `f` returned.
    fn with_exclusive<T>(
        &mut self,
        log: &mut Vec<LogRecord>,
        f: impl FnOnce(&mut Self, &mut Vec<LogRecord>) -> Result<T, LockError>,
    ) -> Result<T, LockError> {
        self.lock.acquire(log)?;
        let result = f(self, log);
        let released = self.lock.release();
        let value = result?;
        released?;
        Ok(value)
    }

    /// borg's `Lock.acquire(exclusive, remove)`.
    fn acquire_mode(&mut self, exclusive: bool, remove: Option<Key>) -> Result<(), LockError> {
        let mut log = std::mem::take(&mut self.log);
        let result = self.acquire_inner(exclusive, remove, &mut log);
        self.log = log;
        if result.is_ok() {
            self.is_exclusive = exclusive;
            self.held = true;
        }
        result
    }

    fn acquire_inner(
        &mut self,
        exclusive: bool,
        remove: Option<Key>,
        log: &mut Vec<LogRecord>,
    ) -> Result<(), LockError> {
        if exclusive {
            self.wait_for_readers_finishing(remove, log)?;
            if let Err(e) = self.roster.modify(Key::Exclusive, true, log) {
                // borg would leave lock.exclusive behind here; do not.
                let _ = self.lock.release();
                return Err(e);
            }
            Ok(())
        } else {
            self.with_exclusive(log, |this, log| {
                if let Some(key) = remove {
                    this.roster.modify(key, false, log)?;
                }
                this.roster.modify(Key::Shared, true, log)
            })
        }
    }

    /// Take `lock.exclusive` and keep it once no shared lockers remain.
    fn wait_for_readers_finishing(
        &mut self,
        remove: Option<Key>,
        log: &mut Vec<LogRecord>,
    ) -> Result<(), LockError> {
        let timer = Timer::start(self.timeout, Some(self.sleep));
        loop {
            self.lock.acquire(log)?;
            let step = (|| {
                if let Some(key) = remove {
                    self.roster.modify(key, false, log)?;
                }
                if self.roster.count(Key::Shared, log)? == 0 {
                    return Ok(true); // we are the only one and keep the lock
                }
                if let Some(key) = remove {
                    self.roster.modify(key, true, log)?;
                }
                Ok(false)
            })();
            match step {
                Ok(true) => return Ok(()),
                Ok(false) => self.lock.release()?,
                Err(e) => {
                    let _ = self.lock.release();
                    return Err(e);
                }
            }
            if timer.timed_out_or_sleep() {
                return Err(LockError::Timeout {
                    path: self.path.clone(),
                });
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if self.held {
            let _ = self.release();
        }
    }
}

/// borg's `Lock.break_lock()` (`borg break-lock`): delete `<base>.roster`,
/// every file in `<base>.exclusive/` and that directory, whoever holds it.
pub fn break_lock(base: &Path) -> Result<(), LockError> {
    roster::remove_roster(&with_suffix(base, ".roster"))?;
    exclusive::break_exclusive(&with_suffix(base, ".exclusive"))
}

#[cfg(test)]
mod tests;
