use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

fn me() -> ProcessId {
    ProcessId::current("testhost@123".into())
}

/// A second holder on this host that is certainly alive: our parent.
fn other() -> ProcessId {
    ProcessId {
        host: "testhost@123".into(),
        pid: std::os::unix::process::parent_id(),
        thread: 0,
    }
}

/// The pid of a process that has already exited.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

const ZERO: Option<Duration> = Some(Duration::ZERO);

#[test]
fn exclusive_acquire_release() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    let mut l = Lock::new(&base, me(), true, ZERO);
    assert!(l.is_exclusive());
    assert!(!l.got_exclusive_lock());
    l.acquire().unwrap();
    assert!(l.got_exclusive_lock());
    assert_eq!(
        names(&d.path().join("lock.exclusive")),
        vec![me().lock_file_name()]
    );
    assert_eq!(
        fs::read_to_string(d.path().join("lock.roster")).unwrap(),
        format!(
            "{{\"exclusive\": [[\"testhost@123\", {}, 0]]}}",
            std::process::id()
        )
    );
    // no temp dirs left behind
    assert_eq!(names(d.path()), vec!["lock.exclusive", "lock.roster"]);
    l.release().unwrap();
    assert!(!l.got_exclusive_lock());
    assert!(names(d.path()).is_empty());
    // releasing again: not locked
    assert!(matches!(l.release(), Err(LockError::NotLocked { .. })));
}

#[test]
fn shared_acquire_release_and_roster_bytes() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    let mut a = Lock::new(&base, me(), false, ZERO);
    let mut b = Lock::new(&base, other(), false, ZERO);
    a.acquire().unwrap();
    assert!(!a.got_exclusive_lock());
    assert_eq!(names(d.path()), vec!["lock.roster"]);
    assert_eq!(
        fs::read_to_string(d.path().join("lock.roster")).unwrap(),
        format!(
            "{{\"shared\": [[\"testhost@123\", {}, 0]]}}",
            std::process::id()
        )
    );
    b.acquire().unwrap();
    assert_eq!(
        fs::read_to_string(d.path().join("lock.roster")).unwrap(),
        format!(
            "{{\"shared\": [[\"testhost@123\", {}, 0], [\"testhost@123\", {}, 0]]}}",
            std::process::id(),
            other().pid
        )
    );
    a.release().unwrap();
    assert_eq!(
        fs::read_to_string(d.path().join("lock.roster")).unwrap(),
        format!("{{\"shared\": [[\"testhost@123\", {}, 0]]}}", other().pid)
    );
    b.release().unwrap();
    assert!(names(d.path()).is_empty());
}

#[test]
fn exclusive_excludes_everyone() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    let mut x = Lock::new(&base, me(), true, ZERO);
    x.acquire().unwrap();
    for exclusive in [true, false] {
        let mut y = Lock::new(&base, other(), exclusive, ZERO);
        match y.acquire() {
            Err(LockError::Timeout { path }) => {
                assert_eq!(
                    path,
                    std::path::absolute(d.path().join("lock.exclusive")).unwrap()
                )
            }
            r => panic!("expected timeout, got {r:?}"),
        }
        // a failed lock must not be "released" by its drop
        drop(y);
        assert!(x.got_exclusive_lock());
    }
    // releasing someone else's lock
    let mut y = Lock::new(&base, other(), true, ZERO);
    assert!(matches!(y.release(), Err(LockError::NotMyLock { .. })));
    x.release().unwrap();
    let mut y = Lock::new(&base, other(), true, ZERO);
    y.acquire().unwrap();
    y.release().unwrap();
}

#[test]
fn shared_blocks_exclusive() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    let mut s = Lock::new(&base, other(), false, ZERO);
    s.acquire().unwrap();
    let mut x = Lock::new(&base, me(), true, Some(Duration::from_millis(300)));
    match x.acquire() {
        // waiting for readers times out on the base path, not lock.exclusive
        Err(LockError::Timeout { path }) => assert_eq!(path, base),
        r => panic!("expected timeout, got {r:?}"),
    }
    assert!(!d.path().join("lock.exclusive").exists());
    s.release().unwrap();
    x.acquire().unwrap();
    assert!(x.got_exclusive_lock());
}

#[test]
fn timeout_zero_fails_fast_and_none_waits() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    let mut x = Lock::new(&base, other(), true, None);
    x.acquire().unwrap();
    let start = Instant::now();
    let mut y = Lock::new(&base, me(), true, ZERO);
    assert!(matches!(y.acquire(), Err(LockError::Timeout { .. })));
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );

    // timeout None: waits until the holder goes away
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        x.release().unwrap();
    });
    let mut z = Lock::new(&base, me(), true, None);
    z.acquire().unwrap();
    releaser.join().unwrap();
    assert!(z.got_exclusive_lock());
}

#[test]
fn stale_locks_of_dead_local_processes_are_killed() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    let dead = ProcessId {
        host: "testhost@123".into(),
        pid: dead_pid(),
        thread: 0,
    };
    // leave a held exclusive lock of the dead process behind
    let mut ghost = Lock::new(&base, dead.clone(), true, ZERO);
    ghost.acquire().unwrap();
    std::mem::forget(ghost);
    assert_eq!(
        names(&d.path().join("lock.exclusive")),
        vec![dead.lock_file_name()]
    );

    let mut l = Lock::new(&base, me(), true, Some(Duration::from_secs(5)));
    l.acquire().unwrap();
    assert!(l.got_exclusive_lock());
    assert_eq!(
        names(&d.path().join("lock.exclusive")),
        vec![me().lock_file_name()]
    );
    let log = l.take_log();
    assert!(
        log.contains(&LogRecord {
            level: LogLevel::Warning,
            message: format!("Killed stale lock {}.", dead.lock_file_name()),
        }),
        "{log:?}"
    );
    assert!(
        log.iter().any(|r| r.message
            == format!(
                "Removed stale exclusive roster lock for host testhost@123 pid {} thread 0.",
                dead.pid
            )),
        "{log:?}"
    );
    // the dead entry is gone from the roster
    assert_eq!(
        fs::read_to_string(d.path().join("lock.roster")).unwrap(),
        format!(
            "{{\"exclusive\": [[\"testhost@123\", {}, 0]]}}",
            std::process::id()
        )
    );
}

#[test]
fn foreign_host_and_thread_locks_are_never_stale() {
    for (host, thread) in [("elsewhere@9", 0), ("testhost@123", 1)] {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().join("lock");
        let holder = ProcessId {
            host: host.into(),
            pid: dead_pid(),
            thread,
        };
        let mut h = Lock::new(&base, holder, true, ZERO);
        h.acquire().unwrap();
        let mut l = Lock::new(&base, me(), true, Some(Duration::from_millis(200)));
        assert!(matches!(l.acquire(), Err(LockError::Timeout { .. })));
        assert!(l.take_log().is_empty());
        h.release().unwrap();
    }
}

#[test]
fn malformed_lock_names_are_not_stale() {
    let d = tempfile::tempdir().unwrap();
    let ex = d.path().join("lock.exclusive");
    fs::create_dir(&ex).unwrap();
    fs::write(ex.join("garbage"), b"").unwrap();
    let mut l = Lock::new(&d.path().join("lock"), me(), false, ZERO);
    assert!(matches!(l.acquire(), Err(LockError::Timeout { .. })));
    let log = l.take_log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].level, LogLevel::Error);
    assert_eq!(
        log[0].message,
        format!(
            "Found malformed lock garbage in {}. Please check/fix manually.",
            std::path::absolute(&ex).unwrap().display()
        )
    );
    assert!(ex.join("garbage").exists());
}

#[test]
fn huge_pid_in_own_host_lock_fails_like_borg() {
    let d = tempfile::tempdir().unwrap();
    let ex = d.path().join("lock.exclusive");
    fs::create_dir(&ex).unwrap();
    fs::write(ex.join("testhost@123.99999999999-0"), b"").unwrap();
    let mut l = Lock::new(&d.path().join("lock"), me(), true, ZERO);
    assert!(matches!(l.acquire(), Err(LockError::Failed { .. })));
}

#[test]
fn upgrade_and_downgrade() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    let roster = d.path().join("lock.roster");
    let mut l = Lock::new(&base, me(), false, Some(Duration::from_millis(300)));
    l.acquire().unwrap();
    l.upgrade().unwrap();
    assert!(l.is_exclusive() && l.got_exclusive_lock());
    assert_eq!(
        fs::read_to_string(&roster).unwrap(),
        format!(
            "{{\"shared\": [], \"exclusive\": [[\"testhost@123\", {}, 0]]}}",
            std::process::id()
        )
    );
    l.upgrade().unwrap(); // no-op
    l.downgrade().unwrap();
    assert!(!l.is_exclusive() && !l.got_exclusive_lock());
    assert!(!d.path().join("lock.exclusive").exists());
    assert_eq!(
        fs::read_to_string(&roster).unwrap(),
        format!(
            "{{\"shared\": [[\"testhost@123\", {}, 0]], \"exclusive\": []}}",
            std::process::id()
        )
    );

    // another reader prevents the upgrade; we stay a reader
    let mut r = Lock::new(&base, other(), false, ZERO);
    r.acquire().unwrap();
    assert!(matches!(l.upgrade(), Err(LockError::Timeout { .. })));
    assert!(!l.is_exclusive());
    let text = fs::read_to_string(&roster).unwrap();
    assert!(
        text.contains(&format!("[\"testhost@123\", {}, 0]", std::process::id())),
        "{text}"
    );
    r.release().unwrap();
    l.upgrade().unwrap();
    l.release().unwrap();
    assert!(names(d.path()).is_empty());
}

#[test]
fn drop_releases() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    {
        let mut l = Lock::new(&base, me(), true, ZERO);
        l.acquire().unwrap();
    }
    assert!(names(d.path()).is_empty());
    {
        let mut l = Lock::new(&base, me(), false, ZERO);
        l.acquire().unwrap();
    }
    assert!(names(d.path()).is_empty());
}

#[test]
fn break_lock_removes_everything() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    let mut l = Lock::new(&base, other(), true, ZERO);
    l.acquire().unwrap();
    fs::write(d.path().join("lock.exclusive/another.1-0"), b"").unwrap();
    break_lock(&base).unwrap();
    assert!(names(d.path()).is_empty());
    break_lock(&base).unwrap(); // nothing there: fine
    std::mem::forget(l);
}

#[test]
fn roster_quirks() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("lock");
    let roster = d.path().join("lock.roster");
    // unknown keys survive in place, key order is kept, bools count as ints
    fs::write(
        &roster,
        "{\"x\": {\"k\": [1.5, null]}, \"shared\": [[\"elsewhere@1\", true, 0]]}",
    )
    .unwrap();
    let mut l = Lock::new(&base, me(), false, ZERO);
    l.acquire().unwrap();
    assert_eq!(
        fs::read_to_string(&roster).unwrap(),
        format!(
            "{{\"x\": {{\"k\": [1.5, null]}}, \"shared\": [[\"elsewhere@1\", true, 0], [\"testhost@123\", {}, 0]]}}",
            std::process::id()
        )
    );
    l.release().unwrap();
    // corrupt roster = empty roster (and is overwritten)
    fs::write(&roster, "{not json").unwrap();
    l.acquire().unwrap();
    assert_eq!(
        fs::read_to_string(&roster).unwrap(),
        format!(
            "{{\"shared\": [[\"testhost@123\", {}, 0]]}}",
            std::process::id()
        )
    );
    l.release().unwrap();
    assert!(!roster.exists());
    // a wrong-length entry is a ValueError in borg: empty roster too
    fs::write(&roster, "{\"shared\": [[\"a\", 1]]}").unwrap();
    l.acquire().unwrap();
    l.release().unwrap();
    assert!(!roster.exists());
    // a shape borg crashes on is an error, and lock.exclusive is not left behind
    fs::write(&roster, "[]").unwrap();
    assert!(matches!(l.acquire(), Err(LockError::Failed { .. })));
    assert!(!d.path().join("lock.exclusive").exists());
    fs::write(&roster, "{\"shared\": [[1, 2, 3]]}").unwrap();
    assert!(matches!(l.acquire(), Err(LockError::Failed { .. })));
}

#[test]
fn lock_failed_when_directory_is_missing() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("nonexistent/lock");
    let mut l = Lock::new(&base, me(), true, ZERO);
    match l.acquire() {
        Err(e @ LockError::Failed { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("Failed to create/acquire the lock "),
                "{msg}"
            );
            assert!(
                msg.contains("[Errno 2] No such file or directory: '"),
                "{msg}"
            );
        }
        r => panic!("expected LockFailed, got {r:?}"),
    }
}

#[test]
fn error_messages() {
    let p = std::path::PathBuf::from("/r/lock.exclusive");
    assert_eq!(
        LockError::Timeout { path: p.clone() }.to_string(),
        "Failed to create/acquire the lock /r/lock.exclusive (timeout)."
    );
    assert_eq!(
        LockError::NotLocked { path: p.clone() }.to_string(),
        "Failed to release the lock /r/lock.exclusive (was not locked)."
    );
    assert_eq!(
        LockError::NotMyLock { path: p }.to_string(),
        "Failed to release the lock /r/lock.exclusive (was/is locked, but not by me)."
    );
}
