//! oxiborg's locks and real borg 1.4.5's locks exclude each other on the same
//! directory, both sides break each other's stale locks, the roster bytes are
//! identical, and the borg CLI (`with-lock`, `break-lock`) honours a lock
//! held by oxiborg.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use oxiborg_lock::{break_lock, host_id, Lock, LockError, LogLevel, ProcessId};
use oxiborg_oracle::{isolate_env, Borg, Oracle};

/// Environment variable that turns `hold_lock_child` into a lock holder.
const CHILD_ENV: &str = "OXIBORG_LOCK_TEST_HOLD";

/// A Python process of the oracle venv with borg's isolated environment
/// (in particular without any `BORG_HOST_ID`).
fn python(oracle: &Oracle, home: &Path, script: &str) -> Command {
    let mut cmd = Command::new(oracle.python());
    isolate_env(&mut cmd, home);
    cmd.arg("-c").arg(script);
    cmd
}

fn run_python(oracle: &Oracle, home: &Path, script: &str, args: &[&Path]) -> (String, String) {
    let out = python(oracle, home, script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "python failed: {stderr}\n--- script ---\n{script}"
    );
    (stdout, stderr)
}

fn me() -> ProcessId {
    ProcessId::current(host_id())
}

/// A process holding a lock until its stdin is closed.
struct Holder {
    child: Child,
    lines: Receiver<String>,
}

impl Holder {
    /// Start `cmd`, wait (at most 30 s) for it to print a line ending in
    /// `locked`.
    fn start(mut cmd: Command) -> Holder {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn holder");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            match lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.trim_end().ends_with("locked") => break,
                Ok(_) => {}
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let mut err = String::new();
                    let _ = child
                        .stderr
                        .take()
                        .expect("stderr")
                        .read_to_string(&mut err);
                    panic!("holder did not report \"locked\": {err}");
                }
            }
        }
        Holder { child, lines }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Close stdin and let the holder release normally; returns the rest
    /// of its output.
    fn finish(mut self) -> String {
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("wait");
        let mut err = String::new();
        let _ = self
            .child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err);
        assert!(status.success(), "holder failed: {err}");
        self.lines.iter().collect::<Vec<_>>().join("\n")
    }

    /// SIGKILL the holder (and reap it, so its pid is really gone).
    fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

const BORG_HOLDER: &str = r#"
import sys
from borg.locking import Lock
from borg.logger import setup_logging
setup_logging()
lock = Lock(sys.argv[1], exclusive=sys.argv[2] == "x", timeout=10).acquire()
print("locked", flush=True)
sys.stdin.read()
lock.release()
print("released", flush=True)
"#;

fn borg_holder(oracle: &Oracle, home: &Path, base: &Path, exclusive: bool) -> Holder {
    let mut cmd = python(oracle, home, BORG_HOLDER);
    cmd.arg(base).arg(if exclusive { "x" } else { "s" });
    Holder::start(cmd)
}

/// Tries borg's `Lock(path, exclusive, timeout=1).acquire()` for each mode
/// given and prints `acquired` or `timeout` for each.
const BORG_TRY: &str = r#"
import sys
from borg.locking import Lock, LockTimeout
from borg.logger import setup_logging
setup_logging()
res = []
for mode in sys.argv[2:]:
    lock = Lock(sys.argv[1], exclusive=mode == "x", timeout=1)
    try:
        lock.acquire()
    except LockTimeout:
        res.append("timeout")
    else:
        res.append("acquired")
        lock.release()
print(" ".join(res))
"#;

fn borg_try(oracle: &Oracle, home: &Path, base: &Path, modes: &[&str]) -> String {
    let out = python(oracle, home, BORG_TRY)
        .arg(base)
        .args(modes)
        .stdin(Stdio::null())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// (a) Same host id as borg's `borg.platform.hostid` on this machine.
#[test]
fn host_id_matches_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let home = tempfile::tempdir().unwrap();
    let (out, _) = run_python(
        oracle,
        home.path(),
        "from borg.platform import hostid; print(hostid)",
        &[],
    );
    assert_eq!(host_id(), out.trim_end_matches('\n'));
}

/// (b) While oxiborg holds the lock, borg can take neither an exclusive nor
/// a shared lock; afterwards it can take both.
#[test]
fn borg_respects_oxiborg_locks() {
    let oracle = oxiborg_oracle::require_oracle!();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("lock");

    let mut x = Lock::new(&base, me(), true, Some(Duration::ZERO));
    x.acquire().unwrap();
    assert_eq!(
        borg_try(oracle, home.path(), &base, &["x", "s"]),
        "timeout timeout"
    );
    x.release().unwrap();

    // oxiborg shared: borg shared coexists, borg exclusive waits for us
    let mut s = Lock::new(&base, me(), false, Some(Duration::ZERO));
    s.acquire().unwrap();
    assert_eq!(
        borg_try(oracle, home.path(), &base, &["s", "x"]),
        "acquired timeout"
    );
    s.release().unwrap();

    assert_eq!(
        borg_try(oracle, home.path(), &base, &["x", "s"]),
        "acquired acquired"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing left behind"
    );
}

/// (c) While borg holds the lock, oxiborg times out; shared locks of both
/// coexist and keep exclusive lockers of both out.
#[test]
fn oxiborg_respects_borg_locks() {
    let oracle = oxiborg_oracle::require_oracle!();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("lock");
    let one_s = Some(Duration::from_secs(1));

    let holder = borg_holder(oracle, home.path(), &base, true);
    for exclusive in [true, false] {
        let mut l = Lock::new(&base, me(), exclusive, one_s);
        let start = std::time::Instant::now();
        match l.acquire() {
            Err(LockError::Timeout { path }) => {
                assert_eq!(
                    path,
                    std::path::absolute(dir.path().join("lock.exclusive")).unwrap()
                )
            }
            r => panic!("expected timeout, got {r:?}"),
        }
        assert!(start.elapsed() >= Duration::from_secs(1));
        assert!(l.take_log().is_empty(), "a live borg lock is not stale");
    }
    assert_eq!(holder.finish().trim(), "released");

    // shared + shared coexist; exclusive of either side must wait
    let holder = borg_holder(oracle, home.path(), &base, false);
    let mut s = Lock::new(&base, me(), false, one_s);
    s.acquire().unwrap();
    let roster = std::fs::read_to_string(dir.path().join("lock.roster")).unwrap();
    assert!(
        roster.contains(&format!("[\"{}\", {}, 0]", host_id(), holder.pid())),
        "{roster}"
    );
    assert!(
        roster.contains(&format!("[\"{}\", {}, 0]", host_id(), std::process::id())),
        "{roster}"
    );
    let mut x = Lock::new(&base, me(), true, one_s);
    assert!(matches!(x.acquire(), Err(LockError::Timeout { path }) if path == base));
    assert_eq!(
        borg_try(oracle, home.path(), &base, &["x", "s"]),
        "timeout acquired"
    );
    assert_eq!(holder.finish().trim(), "released");
    // only our own shared lock is left: still no exclusive lock for us...
    assert!(matches!(x.acquire(), Err(LockError::Timeout { .. })));
    // ...unless we upgrade it
    s.upgrade().unwrap();
    assert!(s.got_exclusive_lock());
    assert_eq!(borg_try(oracle, home.path(), &base, &["s"]), "timeout");
    s.release().unwrap();
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing left behind"
    );
}

/// (d) A lock left by a SIGKILLed borg is broken by oxiborg.
#[test]
fn oxiborg_breaks_stale_borg_lock() {
    let oracle = oxiborg_oracle::require_oracle!();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("lock");

    let holder = borg_holder(oracle, home.path(), &base, true);
    let dead = ProcessId {
        host: host_id(),
        pid: holder.pid(),
        thread: 0,
    };
    holder.kill();
    let lockfile = dir
        .path()
        .join("lock.exclusive")
        .join(dead.lock_file_name());
    assert!(
        lockfile.exists(),
        "borg's lock file {lockfile:?} is left behind"
    );

    let mut l = Lock::new(&base, me(), true, Some(Duration::from_secs(5)));
    l.acquire().unwrap();
    assert!(l.got_exclusive_lock());
    assert!(!lockfile.exists());
    let log = l.take_log();
    assert!(
        log.iter().any(|r| r.level == LogLevel::Warning
            && r.message == format!("Killed stale lock {}.", dead.lock_file_name())),
        "{log:?}"
    );
    assert!(
        log.iter().any(|r| r.message
            == format!(
                "Removed stale exclusive roster lock for host {} pid {} thread 0.",
                dead.host, dead.pid
            )),
        "{log:?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("lock.roster")).unwrap(),
        format!(
            "{{\"exclusive\": [[\"{}\", {}, 0]]}}",
            host_id(),
            std::process::id()
        )
    );
    l.release().unwrap();
}

/// Not a test on its own: with `CHILD_ENV` set this process becomes an
/// oxiborg lock holder for `oxiborg_lock_killed_is_broken_by_borg`.
#[test]
fn hold_lock_child() {
    let Some(base) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut lock = Lock::new(Path::new(&base), me(), true, Some(Duration::from_secs(10)));
    lock.acquire().unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "locked").unwrap();
    out.flush().unwrap();
    let mut sink = String::new();
    let _ = std::io::stdin().read_to_string(&mut sink);
    lock.release().unwrap();
}

/// (d) A lock left by a SIGKILLed oxiborg process is broken by borg.
#[test]
fn borg_breaks_stale_oxiborg_lock() {
    let oracle = oxiborg_oracle::require_oracle!();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("lock");

    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "hold_lock_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, &base);
    let holder = Holder::start(cmd);
    let dead = ProcessId {
        host: host_id(),
        pid: holder.pid(),
        thread: 0,
    };
    holder.kill();
    let lockfile = dir
        .path()
        .join("lock.exclusive")
        .join(dead.lock_file_name());
    assert!(
        lockfile.exists(),
        "our lock file {lockfile:?} is left behind"
    );

    let script = r#"
import sys
from borg.locking import Lock
from borg.logger import setup_logging
setup_logging()
lock = Lock(sys.argv[1], exclusive=True, timeout=5).acquire()
print(open(sys.argv[1] + ".roster").read())
lock.release()
"#;
    let (out, err) = run_python(oracle, home.path(), script, &[&base]);
    let me_py = format!("[\"{}\", ", host_id());
    assert!(
        out.starts_with(&format!("{{\"exclusive\": [{me_py}")),
        "{out}"
    );
    assert!(!out.contains(&format!(", {}, 0]", dead.pid)), "{out}");
    assert!(
        err.contains(&format!("Killed stale lock {}.", dead.lock_file_name())),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "Removed stale exclusive roster lock for host {} pid {} thread 0.",
            dead.host, dead.pid
        )),
        "{err}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing left behind"
    );
}

/// (e) The roster bytes oxiborg writes equal borg's for the same holder,
/// through acquire / upgrade / downgrade, also for a non-ASCII host id.
#[test]
fn roster_bytes_equal_borgs() {
    let oracle = oxiborg_oracle::require_oracle!();
    let home = tempfile::tempdir().unwrap();
    let script = r#"
import sys, json
from borg.locking import Lock
from borg.logger import setup_logging
setup_logging()
base, host, pid = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
rd = lambda: open(base + ".roster", "rb").read().hex()
ident = (host, pid, 0)
out = []
lock = Lock(base, exclusive=True, id=ident, timeout=1).acquire()
out.append(rd())
lock.release()
lock = Lock(base, exclusive=False, id=ident, timeout=1).acquire()
out.append(rd())
lock.upgrade()
out.append(rd())
lock.downgrade()
out.append(rd())
lock.release()
print(" ".join(out))
"#;
    for host in [host_id(), "h\u{f6}st \"q\" \\ \u{1f600}@1".to_string()] {
        let id = ProcessId {
            host: host.clone(),
            pid: std::process::id(),
            thread: 0,
        };
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("lock");
        let rd = || hex(&std::fs::read(dir.path().join("lock.roster")).unwrap());
        let mut ours = Vec::new();
        let mut lock = Lock::new(&base, id.clone(), true, Some(Duration::from_secs(1)));
        lock.acquire().unwrap();
        ours.push(rd());
        lock.release().unwrap();
        let mut lock = Lock::new(&base, id.clone(), false, Some(Duration::from_secs(1)));
        lock.acquire().unwrap();
        ours.push(rd());
        lock.upgrade().unwrap();
        ours.push(rd());
        lock.downgrade().unwrap();
        ours.push(rd());
        lock.release().unwrap();

        let host_json = json_str(&host);
        let dir2 = tempfile::tempdir().unwrap();
        let base2 = dir2.path().join("lock");
        let out = python(oracle, home.path(), script)
            .arg(&base2)
            .arg(&host_json)
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert_eq!(ours.join(" "), theirs.trim(), "host {host:?}");
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A JSON string literal (for passing the host id to Python).
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// (f) The real borg CLI honours oxiborg's repository lock at `<repo>/lock`:
/// `with-lock` fails while we hold it and works after release;
/// `break-lock` removes it. And oxiborg honours `borg with-lock`.
#[test]
fn borg_cli_with_lock_and_break_lock() {
    let oracle = oxiborg_oracle::require_oracle!();
    let home = tempfile::tempdir().unwrap();
    let repo: PathBuf = home.path().join("repo");
    let borg = || oracle.borg(Borg::V14, home.path());
    let st = borg()
        .args(["init", "-e", "none"])
        .arg(&repo)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let base = repo.join("lock");

    let mut l = Lock::new(&base, me(), true, Some(Duration::ZERO));
    l.acquire().unwrap();
    let out = borg()
        .args(["--lock-wait", "1", "with-lock"])
        .arg(&repo)
        .arg("true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Failed to create/acquire the lock"), "{err}");
    assert!(err.contains("(timeout)"), "{err}");
    let out = borg()
        .env("BORG_EXIT_CODES", "modern")
        .args(["--lock-wait", "1", "with-lock"])
        .arg(&repo)
        .arg("true")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(73),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    l.release().unwrap();
    let out = borg()
        .args(["--lock-wait", "1", "with-lock"])
        .arg(&repo)
        .arg("true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!repo.join("lock.exclusive").exists() && !repo.join("lock.roster").exists());

    // borg break-lock removes a lock held by oxiborg
    let mut l = Lock::new(&base, me(), true, Some(Duration::ZERO));
    l.acquire().unwrap();
    let out = borg().arg("break-lock").arg(&repo).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!repo.join("lock.exclusive").exists() && !repo.join("lock.roster").exists());
    assert!(matches!(l.release(), Err(LockError::NotLocked { .. })));

    // our break_lock removes a lock held by borg with-lock; before that,
    // borg's lock keeps us out
    let mut cmd = oracle.borg(Borg::V14, home.path());
    cmd.arg("with-lock")
        .arg(&repo)
        .args(["sh", "-c", "echo locked; cat >/dev/null"]);
    let holder = Holder::start(cmd);
    let mut l = Lock::new(&base, me(), false, Some(Duration::from_millis(500)));
    assert!(matches!(l.acquire(), Err(LockError::Timeout { .. })));
    assert!(repo.join("lock.exclusive").exists());
    holder.finish();
    assert!(!repo.join("lock.exclusive").exists());
    l.acquire().unwrap();
    break_lock(&base).unwrap();
    assert!(!repo.join("lock.roster").exists());
}

/// (e) For odd roster contents (unknown keys, floats, non-ASCII, duplicate
/// keys, corrupt JSON, wrong-arity entries, dead same-host entries) the
/// roster after a shared acquire is byte-identical to borg's.
#[test]
fn roster_rewrite_equals_borgs() {
    let oracle = oxiborg_oracle::require_oracle!();
    let home = tempfile::tempdir().unwrap();
    let dead = {
        let mut c = Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    };
    let h = json_str(&host_id());
    let cases = [
        r#"{"x": {"k": [1.5, null, 1e16, -0.0, 0.0001, 1e-5, "\u00e9\ud83d\ude00\/"]}, "exclusive": [["elsewhere@1", true, 0]]}"#.to_string(),
        r#"{"a": 1, "shared": [], "a": 2, "b": -0, "c": 123456789012345678901234567890}"#.to_string(),
        "{not json".to_string(),
        r#"{"shared": [["a", 1]]}"#.to_string(),
        r#"{"shared": "", "exclusive": {}}"#.to_string(),
        format!(r#"{{"exclusive": [[{h}, {dead}, 0]], "shared": [[{h}, {dead}, 0]]}}"#),
        format!(" \n{{\"exclusive\":[[{h},{dead},1]],\"n\":NaN,\"i\":-Infinity,\"t\":[true,false]}}\n"),
        String::new(),
        "{}".to_string(),
    ];
    let script = r#"
import sys, json, os
from borg.locking import Lock
from borg.logger import setup_logging
setup_logging()
base, host, pid = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
for text in json.loads(sys.stdin.read()):
    with open(base + ".roster", "w") as f:
        f.write(text)
    Lock(base, exclusive=False, id=(host, pid, 0), timeout=1).acquire()
    print(open(base + ".roster", "rb").read().hex())
    os.unlink(base + ".roster")
"#;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("lock");
    let mut ours = Vec::new();
    for text in &cases {
        std::fs::write(dir.path().join("lock.roster"), text).unwrap();
        let mut l = Lock::new(&base, me(), false, Some(Duration::from_secs(1)));
        l.acquire().unwrap();
        ours.push(hex(&std::fs::read(dir.path().join("lock.roster")).unwrap()));
        std::mem::forget(l);
        std::fs::remove_file(dir.path().join("lock.roster")).unwrap();
    }
    let input = format!(
        "[{}]",
        cases
            .iter()
            .map(|c| json_str(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let dir2 = tempfile::tempdir().unwrap();
    let mut child = python(oracle, home.path(), script)
        .arg(dir2.path().join("lock"))
        .arg(json_str(&host_id()))
        .arg(std::process::id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(theirs.len(), cases.len());
    for ((case, o), t) in cases.iter().zip(&ours).zip(&theirs) {
        assert_eq!(o, t, "roster case {case:?}");
    }
}
