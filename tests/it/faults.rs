//! `create` when things go wrong, against real borg 1.4.5: each situation is
//! set up identically for borg and for oxiborg (separate repositories and
//! base directories, same relative paths), and oxiborg must do what borg did:
//! the exit code (legacy and `BORG_EXIT_CODES=modern`), the `--list` status
//! lines, the essential part of the warning, and which paths end up in the
//! archive (`borg list --json-lines`, borg 1.4.5 reading both repositories).
//!
//! # How each fault is produced (we run as root)
//!
//! * **Unreadable file / directory**: `chmod 000` does not stop root, so the
//!   tool runs under `setpriv --bounding-set=-dac_override,-dac_read_search`:
//!   still uid 0 (the repository, cache and base directory stay usable as
//!   their owner), but without the two capabilities that bypass permission
//!   bits, so opening a mode-000 file or directory fails with EACCES exactly
//!   as it would for an ordinary user. Not root: plain `chmod 000` suffices.
//! * **A file vanishing after the directory listing**: a fanotify
//!   permission listener (a small Python/ctypes helper run with the oracle's
//!   Python) watches `FAN_ACCESS_PERM` on the directory. Each `getdents` on
//!   it blocks until the listener answers; the second one is the call that
//!   returns end-of-directory, so by then the tool holds the whole listing.
//!   The listener deletes the victim file, then lets the call go on: the
//!   tool's `stat` of the listed entry fails with ENOENT, every time, in both
//!   tools. A path given on the command line that does not exist is checked
//!   too.
//! * **A file changing while it is read**: the same listener on the file;
//!   its first `read` blocks until the listener has `chmod`ed the file (same
//!   mode, new ctime). The ctime of the `fstat` after `open` then differs
//!   from the one after the last read: status `C`, deterministically.
//! * **A full disk**: each repository lives on its own 8 MiB tmpfs, mounted
//!   under the test's temporary directory and unmounted by a guard on drop
//!   (even on panic); 24 MB of random data cannot fit. Afterwards the tmpfs
//!   is remounted bigger and the repository checked, listed, extracted from,
//!   and written again.
//! * **SIGINT**: four 4 MB random files. The same listener holds the first
//!   read of the last of them (in inode order, the order both tools walk a
//!   directory in); while it is held, and once the file before it has its
//!   `--list` line (oxiborg stores files in parallel: this makes it wait
//!   for the earlier ones, as sequential borg does), the tool gets SIGINT,
//!   then the read goes on. So the signal always lands in the middle of the
//!   run, however fast the tool is, and borg's checkpoint (made after the
//!   next chunk) always happens, with the same content.
//!
//! A test collects every difference between the tools before failing, so
//! one run shows all of them.

use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use oxiborg_oracle::{Borg, Oracle};

use crate::common::{
    drain, finish, is_status_line, ok, random_file, run, Codes, Diffs, Outcome, Tool, DEADLINE,
};
use crate::tree::oxiborg_cmd;

fn tool_cmd(o: &Oracle, tool: Tool, base: &Path) -> Command {
    let mut c = match tool {
        Tool::Borg => o.borg(Borg::V14, base),
        Tool::Oxiborg => oxiborg_cmd(base),
    };
    c.env("BORG_PASSPHRASE", "secret");
    c
}

fn borg14(o: &Oracle, base: &Path) -> Command {
    tool_cmd(o, Tool::Borg, base)
}

/// Sorted paths of `borg list --json-lines REPO::NAME` (borg 1.4.5 reads
/// both tools' repositories), or `None` when the archive does not exist.
fn archived(o: &Oracle, base: &Path, repo: &Path, name: &str) -> Option<Vec<String>> {
    archived_with(o, base, repo, name, &[])
}

/// [`archived`] with more `borg list` options.
fn archived_with(
    o: &Oracle,
    base: &Path,
    repo: &Path,
    name: &str,
    opts: &[&str],
) -> Option<Vec<String>> {
    let mut c = borg14(o, base);
    c.args(["list", "--json-lines"])
        .args(opts)
        .arg(format!("{}::{name}", repo.display()));
    let out = run(c);
    if out.rc != Some(0) {
        return None;
    }
    let mut v: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            let j: serde_json::Value = serde_json::from_str(l).expect("json line");
            j["path"].as_str().expect("path").to_string()
        })
        .collect();
    v.sort();
    Some(v)
}

/// Archive names in the repository, checkpoints included (borg 1.4.5).
fn archive_names(o: &Oracle, base: &Path, repo: &Path) -> Vec<String> {
    let mut c = borg14(o, base);
    c.args([
        "list",
        "--consider-checkpoints",
        "--json",
        repo.to_str().unwrap(),
    ]);
    let out = ok(c, "borg list --consider-checkpoints");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("list json");
    v["archives"]
        .as_array()
        .expect("archives")
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// Lock files or directories left in the repository directory.
fn leftover_locks(repo: &Path) -> Vec<String> {
    std::fs::read_dir(repo)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("lock."))
                .collect()
        })
        .unwrap_or_default()
}

/// `borg check` (1.4.5) on a repository: (rc, output).
fn borg_check(o: &Oracle, base: &Path, repo: &Path) -> Outcome {
    let mut c = borg14(o, base);
    c.args(["check", repo.to_str().unwrap()]);
    run(c)
}

fn init(o: &Oracle, tool: Tool, base: &Path, repo: &Path) {
    std::fs::create_dir_all(repo.parent().unwrap()).unwrap();
    let mut c = tool_cmd(o, tool, base);
    c.args(["init", "-e", "repokey-blake2", repo.to_str().unwrap()]);
    ok(c, &format!("{} init", tool.name()));
}

/// Run the command without the capabilities that let root ignore
/// permission bits (see the module docs). Not root: unchanged.
fn without_dac_override(cmd: Command) -> Command {
    if !rustix::process::geteuid().is_root() {
        return cmd;
    }
    let mut c = Command::new("setpriv");
    c.arg("--bounding-set=-dac_override,-dac_read_search")
        .arg("--")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        c.current_dir(d);
    }
    c
}

// ---------------------------------------------------------------------------
// fanotify trap

/// The listener: `TARGET NTH ACTION ARG`. Answers every `FAN_ACCESS_PERM`
/// event on TARGET with "allow"; before answering the NTH one, runs ACTION
/// (`unlink ARG`; `touch ARG`: chmod to the same mode, a new ctime; `hold`:
/// nothing) and prints `fired`, then (`hold` only) waits for a line on
/// stdin. Runs until killed; the kernel then allows anything still pending.
const TRAP_PY: &str = r#"
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
FAN_CLOEXEC, FAN_CLASS_CONTENT, FAN_MARK_ADD = 0x1, 0x4, 0x1
FAN_ACCESS_PERM, FAN_ONDIR, FAN_ALLOW = 0x20000, 0x40000000, 0x1
target, nth, action, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
fd = libc.fanotify_init(FAN_CLOEXEC | FAN_CLASS_CONTENT, os.O_RDONLY)
if fd < 0:
    sys.exit("fanotify_init: " + os.strerror(ctypes.get_errno()))
mask = FAN_ACCESS_PERM | (FAN_ONDIR if os.path.isdir(target) else 0)
if libc.fanotify_mark(fd, FAN_MARK_ADD, mask, -100, os.fsencode(target)) < 0:
    sys.exit("fanotify_mark: " + os.strerror(ctypes.get_errno()))
print("ready", flush=True)
n = 0
while True:
    buf = os.read(fd, 4096)
    off = 0
    while off < len(buf):
        event_len, _, _, _, _, efd, pid = struct.unpack_from("=IBBHQii", buf, off)
        n += 1
        if n == nth:
            if action == "unlink":
                os.unlink(arg)
            elif action == "touch":
                os.chmod(arg, os.stat(arg).st_mode & 0o7777)
            print("fired", n, pid, flush=True)
            if action == "hold":
                sys.stdin.readline()
        os.write(fd, struct.pack("=iI", efd, FAN_ALLOW))
        if efd >= 0:
            os.close(efd)
        off += event_len
"#;

/// What the trap does, on which access.
#[derive(Debug, Clone)]
struct TrapSpec {
    /// Watched file or directory, relative to the working directory.
    target: String,
    /// Which access (1-based) fires the action.
    nth: u32,
    /// `unlink`, `touch` or `hold`.
    action: &'static str,
    /// The action's path, relative to the working directory.
    arg: String,
}

impl TrapSpec {
    fn new(target: &str, nth: u32, action: &'static str, arg: &str) -> TrapSpec {
        TrapSpec {
            target: target.to_string(),
            nth,
            action,
            arg: arg.to_string(),
        }
    }
}

/// A running listener; killed on drop.
#[derive(Debug)]
struct Trap {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    fired: bool,
}

impl Trap {
    fn arm(o: &Oracle, script: &Path, cwd: &Path, spec: &TrapSpec) -> Trap {
        let mut child = Command::new(o.python())
            .arg(script)
            .arg(cwd.join(&spec.target))
            .arg(spec.nth.to_string())
            .arg(spec.action)
            .arg(cwd.join(&spec.arg))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn fanotify listener");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!(
                "the fanotify listener could not start (needs root and a kernel with \
                 CONFIG_FANOTIFY_ACCESS_PERMISSIONS): {line}{err}"
            );
        }
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Trap {
            stdin: child.stdin.take(),
            child,
            lines,
            fired: false,
        }
    }

    /// Whether the action has run, waiting at most `wait` for it.
    fn fired(&mut self, wait: Duration) -> bool {
        if !self.fired {
            if let Ok(l) = self.lines.recv_timeout(wait) {
                self.fired = l.starts_with("fired");
            }
        }
        self.fired
    }

    /// Let a `hold` trap answer the access it holds.
    fn release(&mut self) {
        if let Some(mut w) = self.stdin.take() {
            let _ = w.write_all(b"go\n");
        }
    }

    /// Stop the listener; whether its action ran.
    fn disarm(mut self) -> bool {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.fired(Duration::from_secs(1))
    }
}

impl Drop for Trap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// The common scenario: set up, create, list, for both tools.

/// One `create` fault scenario.
struct Case<'a> {
    /// Test name, also the archive name's stem.
    name: &'a str,
    /// Builds the source below the given working directory; called afresh
    /// before every run (a trap may have deleted something).
    setup: &'a dyn Fn(&Path),
    /// Paths given to `create`, relative to the working directory.
    paths: &'a [&'a str],
    /// Run the tool without root's permission override.
    unprivileged: bool,
    /// A fanotify trap armed during the run.
    trap: Option<TrapSpec>,
}

/// One tool's run of a case.
#[derive(Debug)]
struct Side {
    out: Outcome,
    archived: Option<Vec<String>>,
    trap_fired: Option<bool>,
}

/// Run the case with each tool (fresh repository and base directory each),
/// with `codes`; returns (borg, oxiborg).
fn run_case(o: &Oracle, t: &Path, case: &Case<'_>, codes: Codes) -> (Side, Side) {
    let script = t.join("fanotify_trap.py");
    if case.trap.is_some() && !script.exists() {
        std::fs::write(&script, TRAP_PY).unwrap();
    }
    let mut sides = Tool::BOTH.map(|tool| {
        let dir = t.join(format!("{}-{}", tool.name(), codes.name()));
        let base = dir.join("base");
        let repo = dir.join("repo");
        let cwd = dir.join("work");
        std::fs::create_dir_all(&cwd).unwrap();
        init(o, tool, &base, &repo);
        (case.setup)(&cwd);
        let archive = format!("{}-{}", case.name, codes.name());
        let mut c = tool_cmd(o, tool, &base);
        c.current_dir(&cwd)
            .args(["create", "--list"])
            .arg(format!("{}::{archive}", repo.display()))
            .args(case.paths);
        if codes == Codes::Modern {
            c.env("BORG_EXIT_CODES", "modern");
        }
        if case.unprivileged {
            c = without_dac_override(c);
        }
        let trap = case
            .trap
            .as_ref()
            .map(|spec| Trap::arm(o, &script, &cwd, spec));
        let out = run(c);
        let trap_fired = trap.map(Trap::disarm);
        Some(Side {
            archived: archived(o, &base, &repo, &archive),
            out,
            trap_fired,
        })
    });
    let ox = sides[1].take().unwrap();
    let borg = sides[0].take().unwrap();
    (borg, ox)
}

/// Compare both sides: rc, status lines, archived paths, and that both
/// stderrs hold each of `essential` (asserted on borg first: it documents
/// what borg printed).
fn compare(d: &mut Diffs, codes: Codes, borg: &Side, ox: &Side, essential: &[String]) {
    let c = codes.name();
    d.note(&format!("borg ({c} exit codes)"), &borg.out);
    d.note(&format!("oxiborg ({c} exit codes)"), &ox.out);
    if let Some(fired) = borg.trap_fired {
        assert!(
            fired,
            "the trap never fired for borg ({c})\n{}",
            borg.out.show()
        );
    }
    if let Some(fired) = ox.trap_fired {
        d.check(
            fired,
            format!("the trap never fired while oxiborg ran ({c}): it did not read what borg read"),
        );
    }
    d.same(&format!("rc ({c})"), &borg.out.rc, &ox.out.rc);
    d.same(
        &format!("--list status lines, sorted ({c})"),
        &borg.out.statuses(),
        &ox.out.statuses(),
    );
    for e in essential {
        assert!(
            borg.out.stderr.contains(e.as_str()),
            "borg 1.4.5 did not print {e:?} ({c}): the setup is broken\n{}",
            borg.out.show()
        );
        d.check(
            ox.out.stderr.contains(e.as_str()),
            format!("oxiborg's stderr lacks borg's {e:?} ({c})"),
        );
    }
    d.same(
        &format!("archived paths ({c})"),
        &borg.archived,
        &ox.archived,
    );
}

// ---------------------------------------------------------------------------
// 1. and 2.: unreadable file, unreadable directory

#[test]
fn create_unreadable_file_warns_and_skips_it_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let setup = |cwd: &Path| {
        let src = cwd.join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("a"), b"readable").unwrap();
        let b = src.join("sub/b");
        std::fs::write(&b, b"secret").unwrap();
        std::fs::set_permissions(&b, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    };
    let case = Case {
        name: "unreadable-file",
        setup: &setup,
        paths: &["src"],
        unprivileged: true,
        trap: None,
    };
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        let (borg, ox) = run_case(o, tmp.path(), &case, codes);
        // borg 1.4.5: `src/sub/b: open: [Errno 13] Permission denied: 'b'`,
        // `E src/sub/b`, rc 1 (modern: 105, BackupPermissionError); the
        // archive holds src, src/a, src/sub.
        let want = if codes == Codes::Modern { 105 } else { 1 };
        assert_eq!(borg.out.rc, Some(want), "{}", borg.out.show());
        assert!(borg.out.statuses().contains(&"E src/sub/b".to_string()));
        compare(
            &mut d,
            codes,
            &borg,
            &ox,
            &["src/sub/b: open: [Errno 13] Permission denied".to_string()],
        );
    }
    d.finish("unreadable file");
}

#[test]
fn create_unreadable_directory_warns_and_skips_it_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let setup = |cwd: &Path| {
        let src = cwd.join("src");
        std::fs::create_dir_all(src.join("locked")).unwrap();
        std::fs::write(src.join("a"), b"readable").unwrap();
        std::fs::write(src.join("locked/c"), b"inside").unwrap();
        std::fs::set_permissions(
            src.join("locked"),
            std::os::unix::fs::PermissionsExt::from_mode(0o000),
        )
        .unwrap();
    };
    let case = Case {
        name: "unreadable-dir",
        setup: &setup,
        paths: &["src"],
        unprivileged: true,
        trap: None,
    };
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        let (borg, ox) = run_case(o, tmp.path(), &case, codes);
        // borg 1.4.5: `src/locked: dir_open: [Errno 13] Permission denied:
        // 'locked'`, `E src/locked` (and no `d src/locked`), rc 1 (modern
        // 105); neither src/locked nor its content is archived.
        let want = if codes == Codes::Modern { 105 } else { 1 };
        assert_eq!(borg.out.rc, Some(want), "{}", borg.out.show());
        assert_eq!(
            borg.archived,
            Some(vec!["src".to_string(), "src/a".to_string()])
        );
        compare(
            &mut d,
            codes,
            &borg,
            &ox,
            &["src/locked: dir_open: [Errno 13] Permission denied".to_string()],
        );
    }
    d.finish("unreadable directory");
}

// ---------------------------------------------------------------------------
// 3.: a file that vanishes

#[test]
fn create_file_vanishing_after_listing_is_e_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let setup = |cwd: &Path| {
        let src = cwd.join("src");
        let _ = std::fs::remove_dir_all(&src);
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("keep"), b"stays").unwrap();
        std::fs::write(src.join("victim"), b"goes away").unwrap();
    };
    let case = Case {
        name: "vanish",
        setup: &setup,
        paths: &["src"],
        unprivileged: false,
        // The 2nd getdents on src is the one returning end-of-directory.
        trap: Some(TrapSpec::new("src", 2, "unlink", "src/victim")),
    };
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        let (borg, ox) = run_case(o, tmp.path(), &case, codes);
        // borg 1.4.5: `src/victim: stat: [Errno 2] No such file or
        // directory: 'victim'`, `E src/victim`, rc 1 (modern: 107,
        // BackupFileNotFoundError); the archive holds src, src/keep.
        let want = if codes == Codes::Modern { 107 } else { 1 };
        assert_eq!(borg.out.rc, Some(want), "{}", borg.out.show());
        assert!(borg.out.statuses().contains(&"E src/victim".to_string()));
        compare(
            &mut d,
            codes,
            &borg,
            &ox,
            &["src/victim: stat: [Errno 2] No such file or directory".to_string()],
        );
    }
    d.finish("file vanishing after the listing");
}

#[test]
fn create_missing_command_line_path_warns_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let setup = |cwd: &Path| {
        std::fs::create_dir_all(cwd.join("src")).unwrap();
        std::fs::write(cwd.join("src/keep"), b"stays").unwrap();
    };
    let case = Case {
        name: "missing-root",
        setup: &setup,
        paths: &["src/missing", "src"],
        unprivileged: false,
        trap: None,
    };
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        let (borg, ox) = run_case(o, tmp.path(), &case, codes);
        // borg 1.4.5: `src/missing: stat: [Errno 2] No such file or
        // directory: 'src/missing'` and NO status line for it; rc 1
        // (modern 107); the rest is archived.
        let want = if codes == Codes::Modern { 107 } else { 1 };
        assert_eq!(borg.out.rc, Some(want), "{}", borg.out.show());
        assert_eq!(
            borg.out.statuses(),
            vec!["A src/keep".to_string(), "d src".to_string()]
        );
        compare(
            &mut d,
            codes,
            &borg,
            &ox,
            &["src/missing: stat: [Errno 2] No such file or directory".to_string()],
        );
    }
    d.finish("missing command-line path");
}

// ---------------------------------------------------------------------------
// 4.: a file that changes while it is read

#[test]
fn create_file_changed_while_read_is_c_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let setup = |cwd: &Path| {
        std::fs::create_dir_all(cwd.join("src")).unwrap();
        random_file(&cwd.join("src/big"), 1 << 20, 4);
        std::fs::write(cwd.join("src/small"), b"quiet").unwrap();
    };
    let case = Case {
        name: "changed",
        setup: &setup,
        paths: &["src"],
        unprivileged: false,
        // The first read of src/big waits until its ctime has moved on.
        trap: Some(TrapSpec::new("src/big", 1, "touch", "src/big")),
    };
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        let (borg, ox) = run_case(o, tmp.path(), &case, codes);
        // borg 1.4.5: `A src/big` (printed before reading), then
        // `src/big: file changed while we backed it up` and `C src/big`;
        // rc 1 (modern: 100, FileChangedWarning); the file is archived all
        // the same.
        let want = if codes == Codes::Modern { 100 } else { 1 };
        assert_eq!(borg.out.rc, Some(want), "{}", borg.out.show());
        assert!(borg.out.statuses().contains(&"C src/big".to_string()));
        compare(
            &mut d,
            codes,
            &borg,
            &ox,
            &["src/big: file changed while we backed it up".to_string()],
        );
    }
    d.finish("file changed while read");
}

// ---------------------------------------------------------------------------
// 5.: a full disk

/// A tmpfs mounted on a directory, unmounted on drop.
#[derive(Debug)]
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(st.success(), "mount tmpfs on {} failed", dir.display());
        Tmpfs {
            dir: dir.to_path_buf(),
        }
    }

    fn grow(&self, size: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.dir)
            .status()
            .expect("run mount");
        assert!(st.success(), "remount {} failed", self.dir.display());
    }

    fn free(&self) -> u64 {
        let s = rustix::fs::statvfs(&self.dir).expect("statvfs");
        s.f_bavail * s.f_frsize
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

#[test]
fn create_on_full_disk_fails_cleanly_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let src = t.join("src");
    std::fs::create_dir_all(src.join("small")).unwrap();
    std::fs::create_dir_all(src.join("big")).unwrap();
    random_file(&src.join("small/s1"), 1 << 20, 50);
    for i in 1..=3u64 {
        random_file(&src.join(format!("big/b{i}")), 8 << 20, 50 + i);
    }
    let mut d = Diffs::default();
    let mut mounts = Vec::new();
    let mut results = Vec::new();
    for tool in Tool::BOTH {
        let base = t.join(format!("{}-base", tool.name()));
        let fs = Tmpfs::mount(&t.join(format!("{}-mnt", tool.name())), "8M");
        let repo = fs.dir.join("repo");
        init(o, tool, &base, &repo);
        let create = |archive: &str, paths: &[&str], codes: Codes| {
            let mut c = tool_cmd(o, tool, &base);
            c.current_dir(&src)
                .args(["create", "--list"])
                .arg(format!("{}::{archive}", repo.display()))
                .args(paths);
            if codes == Codes::Modern {
                c.env("BORG_EXIT_CODES", "modern");
            }
            run(c)
        };
        let one = create("one", &["small"], Codes::Legacy);
        assert_eq!(
            one.rc,
            Some(0),
            "{} create of 1 MB on 8 MiB: {}",
            tool.name(),
            one.show()
        );
        let mut runs = Vec::new();
        for codes in Codes::BOTH {
            let free_before = fs.free();
            let out = create("two", &["small", "big"], codes);
            let free_after = fs.free();
            runs.push((codes, out, free_before, free_after));
        }
        results.push((tool, base, repo, runs));
        mounts.push(fs);
    }
    let (_, _, _, borg_runs) = &results[0];
    let (_, _, _, ox_runs) = &results[1];
    for ((codes, b, bf0, bf1), (_, x, xf0, xf1)) in borg_runs.iter().zip(ox_runs) {
        let c = codes.name();
        d.note(&format!("borg ({c} exit codes)"), b);
        d.note(&format!("oxiborg ({c} exit codes)"), x);
        // borg 1.4.5: `No space left on device, cleaning up partial
        // transaction to free space.`, then `Local Exception` with a
        // traceback ending in `OSError: [Errno 28] No space left on
        // device`; rc 2 with either exit-code style.
        assert_eq!(b.rc, Some(2), "{}", b.show());
        let essential = "No space left on device";
        assert!(b.stderr.contains(essential), "{}", b.show());
        d.same(&format!("rc ({c})"), &b.rc, &x.rc);
        d.check(
            x.stderr.contains(essential),
            format!("oxiborg's stderr lacks {essential:?} ({c})"),
        );
        // borg's warning (`Repository.__exit__`), before the error.
        let cleaning = "No space left on device, cleaning up partial transaction to free space.";
        assert!(b.stderr.lines().any(|l| l == cleaning), "{}", b.show());
        d.check(
            x.stderr.lines().any(|l| l == cleaning),
            format!("oxiborg's stderr lacks the line {cleaning:?} ({c})"),
        );
        // borg rolls the partial transaction back: the space comes back.
        let slack = 1 << 20;
        assert!(
            bf1 + slack >= *bf0,
            "borg kept space: {bf0} -> {bf1} bytes free"
        );
        d.check(
            xf1 + slack >= *xf0,
            format!(
                "oxiborg did not free its partial transaction ({c}): {xf0} bytes free before, \
                 {xf1} after (borg: {bf0} -> {bf1})"
            ),
        );
    }
    // Room again: the repository must be consistent and usable.
    for fs in &mounts {
        fs.grow("64M");
    }
    let mut after = Vec::new();
    for (tool, base, repo, _) in &results {
        let check = borg_check(o, base, repo);
        d.note(
            &format!("borg check of {}'s repository", tool.name()),
            &check,
        );
        let names = archive_names(o, base, repo);
        let locks = leftover_locks(repo);
        let x = t.join(format!("{}-extract", tool.name()));
        std::fs::create_dir_all(&x).unwrap();
        let mut c = borg14(o, base);
        c.current_dir(&x)
            .args(["extract", &format!("{}::one", repo.display())]);
        let extract = run(c);
        let same =
            std::fs::read(x.join("small/s1")).ok() == std::fs::read(src.join("small/s1")).ok();
        let mut c = tool_cmd(o, *tool, base);
        c.current_dir(&src)
            .args(["create", &format!("{}::three", repo.display()), "small"]);
        let again = run(c);
        d.note(&format!("{} create after remount", tool.name()), &again);
        after.push((check.rc, names, locks, extract.rc, same, again.rc));
    }
    let b = &after[0];
    assert_eq!(b.0, Some(0), "borg check of borg's repository");
    assert_eq!(b.1, vec!["one".to_string()]);
    assert!(b.2.is_empty() && b.3 == Some(0) && b.4 && b.5 == Some(0));
    let x = &after[1];
    d.same("borg check rc after the full disk", &b.0, &x.0);
    d.same(
        "archives (with checkpoints) after the full disk",
        &b.1,
        &x.1,
    );
    d.same("leftover lock entries in the repository", &b.2, &x.2);
    d.same("borg extract rc of the earlier archive", &b.3, &x.3);
    d.same("earlier archive's file extracts intact", &b.4, &x.4);
    d.same("rc of a new create after remounting bigger", &b.5, &x.5);
    d.finish("full disk");
    drop(mounts);
}

// ---------------------------------------------------------------------------
// 6.: SIGINT

/// Run `cmd` (a `create --list`), sending it SIGINT once `trap` holds its
/// first read of the last file and the file before it has its status line
/// (borg prints it before reading that file, oxiborg once it is stored), so
/// that, as in borg, nothing but the last file is in flight; then let the
/// held read go on. Returns the outcome and whether SIGINT was sent.
fn create_and_interrupt(mut cmd: Command, trap: &mut Trap, before: &str) -> (Outcome, bool) {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let out = drain(child.stdout.take().expect("stdout"));
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let err = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let start = Instant::now();
    let mut seen_before = false;
    let mut sent = false;
    while start.elapsed() < DEADLINE {
        while let Ok(line) = rx.try_recv() {
            seen_before |= is_status_line(&line) && &line[2..] == before;
        }
        // Give the earlier files 10 s at most to be stored.
        let settled = seen_before || start.elapsed() > Duration::from_secs(10);
        if trap.fired(Duration::from_millis(20)) && settled {
            let pid = rustix::process::Pid::from_child(&child);
            rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("send SIGINT");
            sent = true;
            trap.release();
            break;
        }
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
    }
    (finish(child, out, err, &shown), sent)
}

#[test]
fn create_interrupted_by_sigint_leaves_a_checkpoint_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let src = t.join("src");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..4u64 {
        random_file(&src.join(format!("f{i}")), 4 << 20, 60 + i);
    }
    // Both tools take a directory's entries in inode order: the last one is
    // read last.
    let mut order: Vec<(u64, String)> = std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .map(|e| {
            let ino = std::os::unix::fs::DirEntryExt::ino(&e);
            (ino, format!("src/{}", e.file_name().to_string_lossy()))
        })
        .collect();
    order.sort();
    let last = order[3].1.clone();
    let before = order[2].1.clone();
    let script = t.join("fanotify_trap.py");
    std::fs::write(&script, TRAP_PY).unwrap();
    let mut d = Diffs::default();
    let mut sides = Vec::new();
    for tool in Tool::BOTH {
        let dir = t.join(tool.name());
        let base = dir.join("base");
        let repo = dir.join("repo");
        init(o, tool, &base, &repo);
        let mut c = tool_cmd(o, tool, &base);
        c.current_dir(t)
            .env("BORG_EXIT_CODES", "modern")
            .args(["create", "--list"])
            .arg(format!("{}::int", repo.display()))
            .arg("src");
        let mut trap = Trap::arm(o, &script, t, &TrapSpec::new(&last, 1, "hold", &last));
        let (out, sent) = create_and_interrupt(c, &mut trap, &before);
        drop(trap);
        let names = archive_names(o, &base, &repo);
        let check = borg_check(o, &base, &repo);
        let locks = leftover_locks(&repo);
        let paths = archived_with(
            o,
            &base,
            &repo,
            "int.checkpoint",
            &["--consider-checkpoints", "--consider-part-files"],
        );
        d.note(
            &format!("{} create, SIGINT while reading {last}", tool.name()),
            &out,
        );
        d.note(
            &format!("borg check of {}'s repository", tool.name()),
            &check,
        );
        sides.push((out, sent, names, check.rc, locks, paths));
    }
    let (b, bsent, bnames, bcheck, block, bpaths) = &sides[0];
    let (x, xsent, xnames, xcheck, xlock, xpaths) = &sides[1];
    // borg 1.4.5: `A` for each file (the interrupted one included: borg
    // finishes reading the file it is in, then skips the rest of the walk),
    // `d src`, `Error: Got Ctrl-C / SIGINT.`, rc 2 (legacy and modern
    // alike); the repository holds
    // `int.checkpoint` (src, the first three files and `LAST.borg_part_1`,
    // the part of the last file read before the checkpoint, plus
    // `LAST.borg_part_2` with the rest when the file has more chunks: borg
    // finishes the file and checkpoints its last part too) and no `int`;
    // `borg check` is clean and no lock is left.
    assert!(bsent, "borg never read {last}\n{}", b.show());
    assert_eq!(b.rc, Some(2), "{}", b.show());
    let essential = "Error: Got Ctrl-C / SIGINT.";
    assert!(b.stderr.contains(essential), "{}", b.show());
    assert_eq!(bnames, &vec!["int.checkpoint".to_string()]);
    assert_eq!(*bcheck, Some(0));
    assert!(block.is_empty());
    let bp = bpaths.clone().unwrap_or_default();
    for (_, p) in &order {
        if *p == last {
            assert!(!bp.contains(p), "{bp:?}");
            assert!(bp.contains(&format!("{p}.borg_part_1")), "{bp:?}");
        } else {
            assert!(bp.contains(p), "{bp:?}");
        }
    }
    d.check(
        *xsent,
        format!("oxiborg ended without reading {last}: no SIGINT sent"),
    );
    d.same("rc (exit status)", &b.rc, &x.rc);
    d.same("--list status lines, sorted", &b.statuses(), &x.statuses());
    d.check(
        x.stderr.contains(essential),
        format!("oxiborg's stderr lacks {essential:?}"),
    );
    let has = |n: &[String], s: &str| n.iter().any(|a| a == s);
    d.same(
        "an `int.checkpoint` archive exists (borg list --consider-checkpoints)",
        &has(bnames, "int.checkpoint"),
        &has(xnames, "int.checkpoint"),
    );
    d.same(
        "the final archive `int` exists",
        &has(bnames, "int"),
        &has(xnames, "int"),
    );
    d.same("archive names", bnames, xnames);
    // A documented difference (docs/compat.md): oxiborg writes its SIGINT
    // checkpoint at once, with everything already read, where borg waits
    // for the next chunk and keeps the interrupted file in part items. The
    // same files must be there, whole or in parts.
    let files = |p: &Option<Vec<String>>| -> std::collections::BTreeSet<String> {
        p.clone()
            .unwrap_or_default()
            .into_iter()
            .map(|s| match s.find(".borg_part_") {
                Some(i) => s[..i].to_string(),
                None => s,
            })
            .collect()
    };
    d.same(
        "files in int.checkpoint, whole or in parts (--consider-part-files)",
        &files(bpaths),
        &files(xpaths),
    );
    d.same("borg check rc", bcheck, xcheck);
    d.same("leftover lock entries in the repository", block, xlock);
    d.finish("SIGINT");
}

/// `--list` lines come in borg's order, not only with borg's statuses: a
/// directory after its contents, a directory kept for its exclusion tag
/// only as `x`, and the same for `--dry-run`.
#[test]
fn create_list_lines_come_in_borg_order() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let src = t.join("src");
    for d in ["a/deep/er", "b", "c", "tagged/sub"] {
        std::fs::create_dir_all(src.join(d)).unwrap();
    }
    for f in [
        "a/one",
        "a/deep/two",
        "a/deep/er/three",
        "c/four",
        "tagged/sub/five",
    ] {
        std::fs::write(src.join(f), f.as_bytes()).unwrap();
    }
    std::fs::write(
        src.join("tagged/CACHEDIR.TAG"),
        b"Signature: 8a477f597d28d172789f06886806bc55\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("a/one", src.join("link")).unwrap();
    let mut d = Diffs::default();
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut sides = Vec::new();
        for tool in Tool::BOTH {
            let dir = t.join(format!("{}{}", tool.name(), extra.len()));
            let base = dir.join("base");
            let repo = dir.join("repo");
            init(o, tool, &base, &repo);
            let mut c = tool_cmd(o, tool, &base);
            c.current_dir(t)
                .args([
                    "create",
                    "--list",
                    "--exclude-caches",
                    "--keep-exclude-tags",
                ])
                .args(["--exclude", "src/c/four"])
                .args(extra)
                .arg(format!("{}::a", repo.display()))
                .arg("src");
            let out = run(c);
            d.note(&format!("{} create {extra:?}", tool.name()), &out);
            let lines: Vec<String> = out
                .stderr
                .lines()
                .filter(|l| is_status_line(l))
                .map(str::to_string)
                .collect();
            sides.push((out.rc, lines));
        }
        assert!(
            sides[0].1.len() > 8,
            "borg listed too little: {:?}",
            sides[0].1
        );
        d.same(&format!("rc {extra:?}"), &sides[0].0, &sides[1].0);
        d.same(
            &format!("--list lines in order {extra:?}"),
            &sides[0].1,
            &sides[1].1,
        );
    }
    d.finish("--list order");
}
