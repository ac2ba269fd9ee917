//! borg's `ExclusiveLock`: a directory made atomically by renaming a
//! prepared temporary directory that holds the owner's marker file.

use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::error::py_os_error_str;
use crate::hostid::{process_alive, py_int, ProcessId};
use crate::{LockError, LogLevel, LogRecord};

/// `TimeoutTimer`: timeout `None` waits forever; the sleep interval is
/// given, or 10 % of the timeout capped at 60 s, or 1 s when waiting forever.
#[derive(Debug)]
pub(crate) struct Timer {
    end: Option<Instant>,
    sleep: Duration,
}

impl Timer {
    pub(crate) fn start(timeout: Option<Duration>, sleep: Option<Duration>) -> Timer {
        let sleep = sleep.unwrap_or(match timeout {
            None => Duration::from_secs(1),
            Some(t) => (t / 10).min(Duration::from_secs(60)),
        });
        let now = Instant::now();
        Timer {
            // A deadline beyond what Instant can hold is "never".
            end: timeout.and_then(|t| now.checked_add(t)),
            sleep,
        }
    }

    fn timed_out(&self) -> bool {
        self.end.is_some_and(|end| Instant::now() >= end)
    }

    /// `timed_out_or_sleep()`.
    pub(crate) fn timed_out_or_sleep(&self) -> bool {
        if self.timed_out() {
            return true;
        }
        std::thread::sleep(self.sleep);
        false
    }
}

/// `os.path.exists`.
fn exists(p: &Path) -> bool {
    std::fs::metadata(p).is_ok()
}

fn is_benign_rmdir_error(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::DirectoryNotEmpty)
        || e.raw_os_error() == Some(rustix::io::Errno::EXIST.raw_os_error())
}

#[derive(Debug)]
pub(crate) struct ExclusiveLock {
    /// Absolute path of the lock directory (`os.path.abspath`).
    pub(crate) path: PathBuf,
    id: ProcessId,
    unique_name: PathBuf,
    timeout: Option<Duration>,
    stale_warning_printed: bool,
}

impl ExclusiveLock {
    pub(crate) fn new(path: &Path, id: ProcessId, timeout: Option<Duration>) -> Self {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let unique_name = path.join(id.lock_file_name());
        ExclusiveLock {
            path,
            id,
            unique_name,
            timeout,
            stale_warning_printed: false,
        }
    }

    pub(crate) fn acquire(&mut self, log: &mut Vec<LogRecord>) -> Result<(), LockError> {
        let parent = self.path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let base_name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        let temp_path = make_temp_dir(&parent, &base_name).map_err(|e| LockError::Failed {
            path: self.path.clone(),
            reason: e,
        })?;
        let temp_unique = temp_path.join(self.id.lock_file_name());
        let result = self.acquire_from(&temp_path, &temp_unique, log);
        // Whatever happened, the temporary directory must not stay behind
        // (after a successful rename it no longer exists).
        if exists(&temp_path) {
            let _ = std::fs::remove_file(&temp_unique);
            let _ = std::fs::remove_dir(&temp_path);
        }
        result
    }

    fn acquire_from(
        &mut self,
        temp_path: &Path,
        temp_unique: &Path,
        log: &mut Vec<LogRecord>,
    ) -> Result<(), LockError> {
        if let Err(e) = std::fs::File::create(temp_unique) {
            return Err(LockError::Failed {
                path: self.path.clone(),
                reason: py_os_error_str(&e, temp_unique),
            });
        }
        let timer = Timer::start(self.timeout, None);
        loop {
            match std::fs::rename(temp_path, &self.path) {
                Ok(()) => return Ok(()),
                Err(_) => {
                    // already locked
                    if self.by_me() {
                        return Ok(());
                    }
                    self.kill_stale_lock(log)?;
                    if timer.timed_out_or_sleep() {
                        return Err(LockError::Timeout {
                            path: self.path.clone(),
                        });
                    }
                }
            }
        }
    }

    pub(crate) fn release(&mut self) -> Result<(), LockError> {
        if !self.is_locked() {
            return Err(LockError::NotLocked {
                path: self.path.clone(),
            });
        }
        if !self.by_me() {
            return Err(LockError::NotMyLock {
                path: self.path.clone(),
            });
        }
        std::fs::remove_file(&self.unique_name).map_err(|source| LockError::Io {
            path: self.unique_name.clone(),
            source,
        })?;
        match std::fs::remove_dir(&self.path) {
            Ok(()) => Ok(()),
            // lost a race to somebody else, which is fine
            Err(e) if is_benign_rmdir_error(&e) => Ok(()),
            Err(source) => Err(LockError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    pub(crate) fn is_locked(&self) -> bool {
        exists(&self.path)
    }

    pub(crate) fn by_me(&self) -> bool {
        exists(&self.unique_name)
    }

    /// Delete lock files of dead processes of this host, then try to remove
    /// the directory. `Ok(true)` when the lock directory is gone.
    fn kill_stale_lock(&mut self, log: &mut Vec<LogRecord>) -> Result<bool, LockError> {
        let names = match std::fs::read_dir(&self.path) {
            Ok(rd) => {
                let mut names = Vec::new();
                for entry in rd {
                    match entry {
                        Ok(e) => names.push(e.file_name()),
                        Err(source) => {
                            return Err(LockError::Io {
                                path: self.path.clone(),
                                source,
                            })
                        }
                    }
                }
                names
            }
            // another process did our job in the meantime
            Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(LockError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let my_host = self.id.host.as_bytes();
        for name in names {
            let display = name.to_string_lossy().into_owned();
            let Some((host, pid, thread)) = parse_lock_name(name.as_bytes()) else {
                log.push(LogRecord {
                    level: LogLevel::Error,
                    message: format!(
                        "Found malformed lock {display} in {}. Please check/fix manually.",
                        self.path.display()
                    ),
                });
                return Ok(false);
            };
            match process_alive(my_host, host, pid, thread) {
                Ok(true) => return Ok(false),
                Ok(false) => {}
                Err(reason) => {
                    return Err(LockError::Failed {
                        path: self.path.clone(),
                        reason: format!("lock {display}: {reason}"),
                    })
                }
            }
            match std::fs::remove_file(self.path.join(&name)) {
                Ok(()) => log.push(LogRecord {
                    level: LogLevel::Warning,
                    message: format!("Killed stale lock {display}."),
                }),
                Err(e) => {
                    if !self.stale_warning_printed {
                        log.push(LogRecord {
                            level: LogLevel::Error,
                            message: format!(
                                "Found stale lock {display}, but cannot delete due to {}",
                                py_os_error_str(&e, &self.path.join(&name))
                            ),
                        });
                        self.stale_warning_printed = true;
                    }
                    return Ok(false);
                }
            }
        }
        match std::fs::remove_dir(&self.path) {
            Ok(()) => Ok(true),
            Err(e) if is_benign_rmdir_error(&e) => Ok(false),
            Err(e) => {
                log.push(LogRecord {
                    level: LogLevel::Error,
                    message: format!(
                        "Failed to remove lock dir: {}",
                        py_os_error_str(&e, &self.path)
                    ),
                });
                Ok(false)
            }
        }
    }
}

/// `name.rsplit('-', 1)` then `host_pid.rsplit('.', 1)`, pid decimal,
/// thread hex; `None` where borg logs "Found malformed lock".
fn parse_lock_name(name: &[u8]) -> Option<(&[u8], crate::hostid::PyInt, crate::hostid::PyInt)> {
    let dash = name.iter().rposition(|&b| b == b'-')?;
    let (host_pid, thread_str) = (&name[..dash], &name[dash + 1..]);
    let dot = host_pid.iter().rposition(|&b| b == b'.')?;
    let (host, pid_str) = (&host_pid[..dot], &host_pid[dot + 1..]);
    let pid = py_int(pid_str, 10)?;
    let thread = py_int(thread_str, 16)?;
    Some((host, pid, thread))
}

/// `tempfile.mkdtemp(".tmp", base_name + ".", parent)`: mode 0700, eight
/// random characters from `[a-z0-9_]`. Returns borg's `str(OSError)` text on
/// failure.
fn make_temp_dir(parent: &Path, base_name: &std::ffi::OsStr) -> Result<PathBuf, String> {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let mut rng = rand::thread_rng();
    let mut last_err = None;
    for _ in 0..1000 {
        let random: String = (0..8)
            .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
            .collect();
        let mut name = base_name.to_os_string();
        name.push(format!(".{random}.tmp"));
        let candidate = parent.join(name);
        match std::fs::DirBuilder::new().mode(0o700).create(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last_err = Some((e, candidate)),
            Err(e) => return Err(py_os_error_str(&e, &candidate)),
        }
    }
    Err(match last_err {
        Some((e, p)) => py_os_error_str(&e, &p),
        None => "No usable temporary directory name found".into(),
    })
}

/// `ExclusiveLock.break_lock()`: remove every file in the lock directory and
/// the directory itself.
pub(crate) fn break_exclusive(path: &Path) -> Result<(), LockError> {
    if !exists(path) {
        return Ok(());
    }
    let io = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let p = entry.path();
        std::fs::remove_file(&p).map_err(|source| LockError::Io { path: p, source })?;
    }
    std::fs::remove_dir(path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostid::PyInt;

    #[test]
    fn lock_names() {
        let (h, p, t) = parse_lock_name(b"vm@3281355014145.17002-0").unwrap();
        assert_eq!(h, b"vm@3281355014145");
        assert_eq!((p, t), (PyInt::Small(17002), PyInt::Small(0)));
        let (h, p, t) = parse_lock_name(b"my-host.example.com@1.2-ff").unwrap();
        assert_eq!(h, b"my-host.example.com@1");
        assert_eq!((p, t), (PyInt::Small(2), PyInt::Small(255)));
        for bad in [
            "garbage", "host-1", "host.1", "host.x-0", "host.1-g", "host.1-",
        ] {
            assert!(parse_lock_name(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn timer_intervals() {
        assert_eq!(Timer::start(None, None).sleep, Duration::from_secs(1));
        assert_eq!(
            Timer::start(Some(Duration::from_secs(1)), None).sleep,
            Duration::from_millis(100)
        );
        assert_eq!(
            Timer::start(Some(Duration::from_secs(3600)), None).sleep,
            Duration::from_secs(60)
        );
        assert!(Timer::start(Some(Duration::ZERO), None).timed_out());
        assert!(!Timer::start(None, Some(Duration::ZERO)).timed_out());
    }
}
