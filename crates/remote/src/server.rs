//! The `borg serve` side: a sequential RPC loop over a [`LocalRepository`],
//! as borg's `RepositoryServer`.
//!
//! [`serve`] reads requests from the stream it is given, executes them in
//! order and writes each reply in the format of its request; errors go back
//! with borg's exception class names, arguments and messages, and the
//! session continues. Log lines and progress go to the [`ServerLog`]'s
//! stream: `$LOG <LEVEL> <logger> Remote: <msg>` lines until a client
//! negotiates with a map, JSON lines after that (borg's `JsonFormatter`).
//! Only a stream that is not borg RPC at all ends the session early
//! (borg's `UnexpectedRPCDataFormatFromClient`); end of input closes the
//! repository (releasing its lock) without committing.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oxiborg_lock::ProcessId;
use oxiborg_msgpack::{MapBuilder, Value};
use oxiborg_repository::{
    CommitOptions, Id, LocalRepository, OpenOptions, Reporter, Repository, RepositoryError,
};

use crate::codec::{
    encode_response, format_version, parse_request, version_value, CodecError, Format, Outcome,
    RemoteException, Request, Response, Unpacker, BORG_VERSION, RPC_METHODS, RPC_PROTOCOL_VERSION,
};

/// borg's `BUFSIZE`: how much the server reads from its input at once.
pub const READ_SIZE: usize = 10 * 1024 * 1024;

/// Values one request may hold in total. borg's requests are maps of a few
/// arguments (borg 1.2 servers refuse any array or map longer than 100);
/// the cap keeps a hostile message from costing more than its bytes.
pub const MAX_REQUEST_ITEMS: usize = 10_000;

/// Replies are written out once this many bytes are pending.
const FLUSH_AT: usize = 4 * 1024 * 1024;

/// A log level, as Python's `logging` names and orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `DEBUG`
    Debug,
    /// `INFO`
    Info,
    /// `WARNING` (borg's default)
    Warning,
    /// `ERROR`
    Error,
    /// `CRITICAL`
    Critical,
}

impl Level {
    /// The level's name in log lines.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }
}

/// How [`ProgressIndicatorPercent`](https://github.com/borgbackup/borg)
/// shows each repository operation: message format and step in percent.
fn progress_style(msgid: &str) -> (&'static str, f64) {
    match msgid {
        "repository.check" => ("Checking segments", 0.1),
        "repository.compact_segments" => ("Compacting segments", 1.0),
        "repository.replay_segments" => ("Replaying segments", 5.0),
        _ => ("", 5.0),
    }
}

/// One running progress operation (borg's `ProgressIndicatorPercent`).
#[derive(Debug)]
struct ProgressOp {
    operation: u64,
    trigger_at: f64,
    last: u64,
}

struct LogInner {
    out: Box<dyn Write + Send>,
    level: Level,
    json: bool,
    progress: HashMap<String, ProgressOp>,
    operations: u64,
}

/// The server's stderr: log lines and progress, in borg's serve formats.
/// It is also the [`Reporter`] handed to the repository.
pub struct ServerLog {
    inner: Mutex<LogInner>,
}

impl std::fmt::Debug for ServerLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerLog").finish_non_exhaustive()
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn pystr(s: &str) -> oxiborg_pyjson::Value {
    oxiborg_pyjson::Value::Str(s.to_string())
}

/// Python's `'%3.1f' % pct` / `'%3.0f' % pct`.
fn percent_text(pct: f64, step: f64) -> String {
    if step < 1.0 {
        format!("{pct:3.1}%")
    } else {
        format!("{pct:3.0}%")
    }
}

impl ServerLog {
    /// Log to `out` at `level`; `json` starts in JSON-lines mode (`--log-json`).
    pub fn new(out: Box<dyn Write + Send>, level: Level, json: bool) -> Self {
        ServerLog {
            inner: Mutex::new(LogInner {
                out,
                level,
                json,
                progress: HashMap::new(),
                operations: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        // A panic elsewhere must not silence the log.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Switch to JSON lines (what a dict-format `negotiate` does).
    pub fn set_json(&self) {
        self.lock().json = true;
    }

    /// Whether lines are JSON now.
    pub fn is_json(&self) -> bool {
        self.lock().json
    }

    /// Log `msg` from logger `name` at `level` (dropped below the level).
    pub fn log(&self, level: Level, name: &str, msg: &str, msgid: Option<&str>) {
        let mut g = self.lock();
        if level < g.level {
            return;
        }
        let line = if g.json {
            use oxiborg_pyjson::Value as J;
            let mut obj = vec![
                ("type".to_string(), pystr("log_message")),
                ("time".to_string(), J::Float(now())),
                ("message".to_string(), pystr(msg)),
                ("levelname".to_string(), pystr(level.name())),
                ("name".to_string(), pystr(name)),
            ];
            if let Some(m) = msgid {
                obj.push(("msgid".to_string(), pystr(m)));
            }
            oxiborg_pyjson::dump(&J::Object(obj)) + "\n"
        } else {
            format!("$LOG {} {name} Remote: {msg}\n", level.name())
        };
        // A closed stderr must not end the session.
        let _ = g.out.write_all(line.as_bytes());
        let _ = g.out.flush();
    }

    /// Write a line as it is (no level, no format).
    pub fn raw(&self, line: &str) {
        let mut g = self.lock();
        let _ = g.out.write_all(line.as_bytes());
        let _ = g.out.flush();
    }

    /// borg's `ProgressIndicatorPercent.show(current)` for operation
    /// `msgid`; `borg serve` always shows progress.
    pub fn show_progress(&self, msgid: &str, current: u64, total: u64) {
        let mut g = self.lock();
        let (msg, step) = progress_style(msgid);
        let restart = g
            .progress
            .get(msgid)
            .is_none_or(|op| current < op.last || op.last == u64::MAX);
        if restart {
            g.operations += 1;
            let operation = g.operations;
            g.progress.insert(
                msgid.to_string(),
                ProgressOp {
                    operation,
                    trigger_at: 0.0,
                    last: current,
                },
            );
        }
        let Some(op) = g.progress.get_mut(msgid) else {
            return;
        };
        op.last = current;
        if total == 0 {
            return;
        }
        let pct = current as f64 * 100.0 / total as f64;
        if pct < op.trigger_at {
            return;
        }
        op.trigger_at += step;
        let operation = op.operation;
        let text = if msg.is_empty() {
            percent_text(pct, step)
        } else {
            format!("{msg} {}", percent_text(pct, step))
        };
        let line = if g.json {
            use oxiborg_pyjson::Value as J;
            oxiborg_pyjson::dump(&J::Object(vec![
                ("message".into(), pystr(&text)),
                ("current".into(), J::Int((current + 1).to_string())),
                ("total".into(), J::Int(total.to_string())),
                ("info".into(), J::Null),
                ("operation".into(), J::Int(operation.to_string())),
                ("msgid".into(), pystr(msgid)),
                ("type".into(), pystr("progress_percent")),
                ("finished".into(), J::Bool(false)),
                ("time".into(), J::Float(now())),
            ])) + "\n"
        } else {
            format!("$LOG INFO borg.output.progress Remote: {text}\r")
        };
        let _ = g.out.write_all(line.as_bytes());
        let _ = g.out.flush();
    }

    /// borg's `ProgressIndicatorPercent.finish()` for every operation
    /// still running (called after each RPC call).
    pub fn finish_progress(&self) {
        let mut g = self.lock();
        if g.progress.is_empty() {
            return;
        }
        let mut ops: Vec<(String, ProgressOp)> = g.progress.drain().collect();
        ops.sort_by_key(|(_, op)| op.operation);
        for (msgid, op) in ops {
            let line = if g.json {
                use oxiborg_pyjson::Value as J;
                oxiborg_pyjson::dump(&J::Object(vec![
                    ("operation".into(), J::Int(op.operation.to_string())),
                    ("msgid".into(), pystr(&msgid)),
                    ("type".into(), pystr("progress_percent")),
                    ("finished".into(), J::Bool(true)),
                    ("time".into(), J::Float(now())),
                ])) + "\n"
            } else {
                "$LOG INFO borg.output.progress Remote: \r".to_string()
            };
            let _ = g.out.write_all(line.as_bytes());
        }
        let _ = g.out.flush();
    }
}

impl Reporter for ServerLog {
    fn warning(&self, msg: &str) {
        self.log(Level::Warning, "borg.repository", msg, None);
    }
    fn error(&self, msg: &str) {
        self.log(Level::Error, "borg.repository", msg, None);
    }
    fn info(&self, msg: &str) {
        self.log(Level::Info, "borg.repository", msg, None);
    }
    fn debug(&self, msg: &str) {
        self.log(Level::Debug, "borg.repository", msg, None);
    }
    fn progress(&self, msgid: &str, current: u64, total: u64) {
        self.show_progress(msgid, current, total);
    }
}

// ---------------------------------------------------------------------------
// Paths

fn bytes_of(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

/// `os.path.join(a, b)` for two components.
fn py_join(a: &[u8], b: &[u8]) -> Vec<u8> {
    if b.first() == Some(&b'/') || a.is_empty() {
        return b.to_vec();
    }
    let mut out = a.to_vec();
    if !a.ends_with(b"/") {
        out.push(b'/');
    }
    out.extend_from_slice(b);
    out
}

/// `os.path.split(p)`.
fn py_split(p: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let i = p.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    let (head, tail) = p.split_at(i);
    let mut head = head.to_vec();
    if !head.is_empty() && head.iter().any(|&c| c != b'/') {
        while head.ends_with(b"/") {
            head.pop();
        }
    }
    (head, tail.to_vec())
}

/// `os.path.normpath(p)` (POSIX).
fn py_normpath(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return b".".to_vec();
    }
    let initial = if p.starts_with(b"//") && !p.starts_with(b"///") {
        2
    } else if p.starts_with(b"/") {
        1
    } else {
        0
    };
    let mut comps: Vec<&[u8]> = Vec::new();
    for c in p.split(|&b| b == b'/') {
        if c.is_empty() || c == b"." {
            continue;
        }
        if c != b".." || (initial == 0 && comps.is_empty()) || comps.last() == Some(&&b".."[..]) {
            comps.push(c);
        } else if !comps.is_empty() {
            comps.pop();
        }
    }
    let mut out = vec![b'/'; initial];
    out.extend_from_slice(&comps.join(&b'/'));
    if out.is_empty() {
        b".".to_vec()
    } else {
        out
    }
}

fn lstat_is_link(p: &[u8]) -> bool {
    std::fs::symlink_metadata(OsStr::from_bytes(p)).is_ok_and(|m| m.file_type().is_symlink())
}

/// Python 3.11's `posixpath._joinrealpath` (non-strict).
fn join_realpath(
    mut path: Vec<u8>,
    rest: &[u8],
    seen: &mut HashMap<Vec<u8>, Option<Vec<u8>>>,
) -> (Vec<u8>, bool) {
    let mut rest = rest.to_vec();
    if rest.first() == Some(&b'/') {
        rest.remove(0);
        path = b"/".to_vec();
    }
    while !rest.is_empty() {
        let (name, remaining) = match rest.iter().position(|&c| c == b'/') {
            Some(i) => (rest[..i].to_vec(), rest[i + 1..].to_vec()),
            None => (rest.clone(), Vec::new()),
        };
        rest = remaining;
        if name.is_empty() || name == b"." {
            continue;
        }
        if name == b".." {
            if path.is_empty() {
                path = b"..".to_vec();
            } else {
                let (head, tail) = py_split(&path);
                path = head;
                if tail == b".." {
                    path = py_join(&py_join(&path, b".."), b"..");
                }
            }
            continue;
        }
        let newpath = py_join(&path, &name);
        if !lstat_is_link(&newpath) {
            path = newpath;
            continue;
        }
        if let Some(cached) = seen.get(&newpath) {
            match cached {
                Some(p) => {
                    path = p.clone();
                    continue;
                }
                // A symlink loop: the rest stays unresolved.
                None => return (py_join(&newpath, &rest), false),
            }
        }
        seen.insert(newpath.clone(), None);
        let target = std::fs::read_link(OsStr::from_bytes(&newpath))
            .map(|t| t.into_os_string().into_vec())
            .unwrap_or_default();
        let (resolved, ok) = join_realpath(path, &target, seen);
        path = resolved;
        if !ok {
            return (py_join(&path, &rest), false);
        }
        seen.insert(newpath, Some(path.clone()));
    }
    (path, true)
}

/// Python's `os.path.realpath(p)` (non-strict): symlinks resolved as far
/// as they exist, `..` applied after resolution, relative to `cwd`.
pub fn realpath(p: &Path, cwd: &Path) -> PathBuf {
    let (path, _) = join_realpath(Vec::new(), bytes_of(p), &mut HashMap::new());
    let abs = if path.first() == Some(&b'/') {
        path
    } else {
        py_join(bytes_of(cwd), &path)
    };
    PathBuf::from(OsString::from_vec(py_normpath(&abs)))
}

/// `os.path.expanduser` for `~` and `~name` (a name not in the password
/// database leaves the path as it is).
fn expand_user(path: &[u8], home: &Path) -> Vec<u8> {
    let i = path[1..]
        .iter()
        .position(|&c| c == b'/')
        .map_or(path.len(), |i| i + 1);
    let name = &path[1..i];
    let userhome = if name.is_empty() {
        bytes_of(home).to_vec()
    } else {
        match passwd_home(name) {
            Some(h) => h,
            None => return path.to_vec(),
        }
    };
    let mut out = userhome;
    while out.ends_with(b"/") {
        out.pop();
    }
    out.extend_from_slice(&path[i..]);
    if out.is_empty() {
        b"/".to_vec()
    } else {
        out
    }
}

/// The home directory of user `name` from `/etc/passwd`.
fn passwd_home(name: &[u8]) -> Option<Vec<u8>> {
    let text = std::fs::read("/etc/passwd").ok()?;
    text.split(|&c| c == b'\n').find_map(|line| {
        let fields: Vec<&[u8]> = line.split(|&c| c == b':').collect();
        (fields.len() >= 7 && fields[0] == name).then(|| fields[5].to_vec())
    })
}

/// borg's `RepositoryServer._resolve_path`: `/~/x` and `~/x` are below the
/// base directory, `/~user/x` and `~user/x` below that user's home, `/./x`
/// is relative to the server's working directory; then `realpath`.
pub fn resolve_path(path: &[u8], base_dir: &Path, home: &Path, cwd: &Path) -> PathBuf {
    let p: Vec<u8> = if let Some(rest) = path.strip_prefix(b"/~/") {
        py_join(bytes_of(base_dir), rest)
    } else if let Some(rest) = path.strip_prefix(b"~/") {
        py_join(bytes_of(base_dir), rest)
    } else if path.starts_with(b"/~") {
        expand_user(&path[1..], home)
    } else if path.starts_with(b"~") {
        expand_user(path, home)
    } else if let Some(rest) = path.strip_prefix(b"/./") {
        rest.to_vec()
    } else {
        path.to_vec()
    };
    realpath(Path::new(OsStr::from_bytes(&p)), cwd)
}

/// `os.path.join(p, "")`: the path with one trailing slash.
fn with_sep(p: &Path) -> Vec<u8> {
    py_join(bytes_of(p), b"")
}

// ---------------------------------------------------------------------------
// Configuration and errors

/// What `borg serve`'s command line (and environment) decides.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `--restrict-to-path` (repeatable): repositories must be at or below one.
    pub restrict_to_paths: Vec<PathBuf>,
    /// `--restrict-to-repository` (repeatable): repositories must be one of them.
    pub restrict_to_repositories: Vec<PathBuf>,
    /// `--append-only`: existing repositories are opened append-only.
    pub append_only: bool,
    /// `--storage-quota` (`Some(0)` switches a configured quota off).
    pub storage_quota: Option<u64>,
    /// borg's `get_base_dir()`, for `~/x` and `/~/x` paths.
    pub base_dir: PathBuf,
    /// The user's home (`$HOME`), for `~` and `/~`.
    pub home: PathBuf,
    /// The working directory, for relative and `/./x` paths.
    pub cwd: PathBuf,
    /// The lock identity of this process.
    pub process: ProcessId,
    /// borg's `sysinfo()` text sent with exceptions (empty with
    /// `BORG_SHOW_SYSINFO=no`).
    pub sysinfo: String,
}

/// Why a session ended before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// borg's `UnexpectedRPCDataFormatFromClient`: the input is not a
    /// stream of borg RPC requests.
    #[error("Borg {version}: Got unexpected RPC data format from client.")]
    UnexpectedData {
        /// The borg version the server speaks as.
        version: String,
        /// What was wrong with the data.
        detail: String,
    },
    /// The caller stopped the session (its input returned a [`Stop`]).
    #[error("{}", .0.message)]
    Stopped(Stop),
    /// Reading requests or writing replies failed.
    #[error("RPC stream I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Closing the repository at the end of the session failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why the caller ends a session early (e.g. a signal): the input's
/// `read` returns an [`std::io::Error`] wrapping it, and [`serve`] closes
/// the repository, logs `message` with `msgid` and returns
/// [`ServeError::Stopped`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Stop {
    /// borg's message, e.g. `Received SIGTERM`.
    pub message: String,
    /// borg's msgid, e.g. `Signal.SIGTERM`.
    pub msgid: String,
}

/// An exception for the client: class, `e.args`, message lines, whether
/// borg shows its traceback.
#[derive(Debug, Clone)]
struct Exc {
    class: String,
    args: Vec<Value>,
    short: String,
    trace: bool,
    /// borg `Error` subclasses (their message is shown as is).
    borg_error: bool,
}

impl Exc {
    /// A borg `Error` subclass: `exception_short` is the formatted message.
    fn borg(class: &str, args: Vec<String>, message: String, trace: bool) -> Self {
        Exc {
            class: class.into(),
            args: args.into_iter().map(Value::raw).collect(),
            short: message,
            trace,
            borg_error: true,
        }
    }

    /// A Python built-in exception with one message argument.
    fn py(class: &str, message: &str) -> Self {
        Exc {
            class: class.into(),
            args: vec![Value::raw(message)],
            short: format!("{class}: {message}\n"),
            trace: true,
            borg_error: false,
        }
    }

    /// A bare `AssertionError` (an `assert` without message).
    fn assertion() -> Self {
        Exc {
            class: "AssertionError".into(),
            args: Vec::new(),
            short: "AssertionError\n".into(),
            trace: true,
            borg_error: false,
        }
    }

    /// `KeyError(key)`: Python shows the key's repr.
    fn key_error(key: &str) -> Self {
        Exc {
            class: "KeyError".into(),
            args: vec![Value::raw(key)],
            short: format!("KeyError: '{key}'\n"),
            trace: true,
            borg_error: false,
        }
    }

    /// `TypeError` for a call without a required argument.
    fn missing_arg(owner: &str, method: &str, arg: &str) -> Self {
        Exc::py(
            "TypeError",
            &format!("{owner}.{method}() missing 1 required positional argument: '{arg}'"),
        )
    }

    /// Whether the client rebuilds this class itself (no debug traceback
    /// in the server log, as borg's `reconstructed_exceptions`).
    fn reconstructed(&self) -> bool {
        matches!(
            self.class.as_str(),
            "InvalidRepository"
                | "InvalidRepositoryConfig"
                | "DoesNotExist"
                | "AlreadyExists"
                | "PathAlreadyExists"
                | "PathNotAllowed"
                | "InsufficientFreeSpaceError"
                | "StorageQuotaExceeded"
        )
    }

    /// `exception_full`: no Python traceback exists, so the last line of
    /// one (what the client prints for a traceback-worthy error).
    fn full(&self) -> Vec<String> {
        if self.borg_error {
            vec![format!("{}: {}\n", self.class, self.short)]
        } else {
            vec![self.short.clone()]
        }
    }

    fn short_lines(&self) -> Vec<String> {
        vec![self.short.clone()]
    }
}

fn path_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Python's class and text for an `OSError`.
fn os_error(e: &std::io::Error, path: &Path) -> Exc {
    use std::io::ErrorKind as K;
    let class = match e.kind() {
        K::NotFound => "FileNotFoundError",
        K::PermissionDenied => "PermissionError",
        K::AlreadyExists => "FileExistsError",
        K::IsADirectory => "IsADirectoryError",
        K::NotADirectory => "NotADirectoryError",
        _ => "OSError",
    };
    let text = e.to_string();
    let strerror = text
        .split(" (os error ")
        .next()
        .unwrap_or(&text)
        .to_string();
    let (args, short) = match e.raw_os_error() {
        Some(n) => (
            vec![Value::int(n), Value::raw(&strerror)],
            format!("{class}: [Errno {n}] {strerror}: '{}'\n", path.display()),
        ),
        None => (
            vec![Value::raw(&strerror)],
            format!("{class}: {strerror}: '{}'\n", path.display()),
        ),
    };
    Exc {
        class: class.into(),
        args,
        short,
        trace: true,
        borg_error: false,
    }
}

/// The exception borg's server raises for a repository error.
fn exception_for(e: &RepositoryError) -> Exc {
    use oxiborg_lock::LockError as L;
    use RepositoryError as R;
    let msg = e.to_string();
    let p = path_text;
    match e {
        R::DoesNotExist { path } => Exc::borg("DoesNotExist", vec![p(path)], msg, false),
        R::AlreadyExists { path } => Exc::borg("AlreadyExists", vec![p(path)], msg, false),
        R::PathAlreadyExists { path } => Exc::borg("PathAlreadyExists", vec![p(path)], msg, false),
        R::ParentPathDoesNotExist { path } => {
            Exc::borg("ParentPathDoesNotExist", vec![p(path)], msg, false)
        }
        R::PathPermissionDenied { path } => {
            Exc::borg("PathPermissionDenied", vec![p(path)], msg, false)
        }
        R::InvalidRepository { path } => Exc::borg("InvalidRepository", vec![p(path)], msg, false),
        R::InvalidRepositoryConfig { path, reason } => Exc::borg(
            "InvalidRepositoryConfig",
            vec![p(path), reason.clone()],
            msg,
            false,
        ),
        R::AtticRepository { path } => Exc::borg("AtticRepository", vec![p(path)], msg, false),
        R::CheckNeeded { path } => Exc::borg("CheckNeeded", vec![p(path)], msg, true),
        R::ObjectNotFound { id, path } => {
            Exc::borg("ObjectNotFound", vec![hex::encode(id), p(path)], msg, true)
        }
        R::StorageQuotaExceeded { quota, used } => Exc::borg(
            "StorageQuotaExceeded",
            vec![quota.clone(), used.clone()],
            msg,
            false,
        ),
        R::InsufficientFreeSpace {
            required,
            available,
        } => Exc::borg(
            "InsufficientFreeSpaceError",
            vec![required.clone(), available.clone()],
            msg,
            false,
        ),
        R::Integrity {
            segment,
            offset,
            reason,
        } => Exc::borg(
            "IntegrityError",
            vec![format!("{reason} [segment {segment}, offset {offset}]")],
            msg,
            true,
        ),
        R::IntegrityOther(reason) => Exc::borg("IntegrityError", vec![reason.clone()], msg, true),
        R::FileIntegrity { path, .. } => Exc::borg("FileIntegrityError", vec![p(path)], msg, true),
        R::AppendOnly { .. } => Exc::py("ValueError", &msg),
        R::NonceMismatch => Exc::py("Exception", &msg),
        R::InvalidNonceFile(_) => Exc::borg("Error", vec![msg.clone()], msg, false),
        R::NotExclusivelyLocked => Exc::py(
            "AssertionError",
            "bug in code, exclusive lock should exist here",
        ),
        R::NoActiveTransaction => Exc::py(
            "AttributeError",
            "'NoneType' object has no attribute 'size'",
        ),
        R::PathNotAllowed { path } => Exc::borg("PathNotAllowed", vec![path.clone()], msg, false),
        R::InvalidRpcMethod { method } => {
            Exc::borg("InvalidRPCMethod", vec![method.clone()], msg, false)
        }
        R::Lock(l) => match l {
            L::Timeout { path } => Exc::borg("LockTimeout", vec![p(path)], msg, false),
            L::Failed { path, reason } => {
                Exc::borg("LockFailed", vec![p(path), reason.clone()], msg, true)
            }
            L::NotLocked { path } => Exc::borg("NotLocked", vec![p(path)], msg, true),
            L::NotMyLock { path } => Exc::borg("NotMyLock", vec![p(path)], msg, true),
            L::Io { path, source } => os_error(source, path),
        },
        R::Io { path, source } => os_error(source, path),
        R::RemoteError { message, traceback } => Exc::borg(
            if *traceback {
                "ErrorWithTraceback"
            } else {
                "Error"
            },
            vec![message.clone()],
            msg,
            *traceback,
        ),
        _ => Exc::borg("Error", vec![msg.clone()], msg, false),
    }
}

// ---------------------------------------------------------------------------
// Arguments

/// Python truthiness of an argument.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Nil => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Raw(b) => !b.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Map(m) => !m.is_empty(),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn type_error(method: &str, arg: &str, want: &str) -> Exc {
    Exc::py(
        "TypeError",
        &format!("argument '{arg}' of {method}() must be {want}"),
    )
}

/// The request's arguments, read as borg's methods would.
struct Args<'a> {
    req: &'a Request,
    owner: &'static str,
}

impl Args<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.req.arg(name)
    }

    fn required(&self, name: &str) -> Result<&Value, Exc> {
        self.get(name)
            .ok_or_else(|| Exc::missing_arg(self.owner, &self.req.method, name))
    }

    fn flag(&self, name: &str, default: bool) -> bool {
        self.get(name).map_or(default, truthy)
    }

    fn id(&self, name: &str) -> Result<Id, Exc> {
        match self.required(name)? {
            Value::Raw(b) => Id::try_from(b.as_slice()).map_err(|_| Exc::assertion()),
            _ => Err(type_error(&self.req.method, name, "bytes")),
        }
    }

    fn opt_id(&self, name: &str) -> Result<Option<Id>, Exc> {
        match self.get(name) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Raw(b)) => Id::try_from(b.as_slice())
                .map(Some)
                .map_err(|_| Exc::assertion()),
            Some(_) => Err(type_error(&self.req.method, name, "bytes or None")),
        }
    }

    fn bytes(&self, name: &str) -> Result<&[u8], Exc> {
        match self.required(name)? {
            Value::Raw(b) => Ok(b),
            _ => Err(type_error(&self.req.method, name, "bytes")),
        }
    }

    fn opt_int(&self, name: &str) -> Result<Option<i128>, Exc> {
        match self.get(name) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(Value::Bool(b)) => Ok(Some(i128::from(*b))),
            Some(_) => Err(type_error(&self.req.method, name, "an integer or None")),
        }
    }

    fn u64(&self, name: &str) -> Result<u64, Exc> {
        match self.required(name)? {
            Value::Int(i) => u64::try_from(*i)
                .map_err(|_| Exc::py("OverflowError", "can't convert negative int to unsigned")),
            _ => Err(type_error(&self.req.method, name, "an integer")),
        }
    }
}

// ---------------------------------------------------------------------------
// The server

/// borg's `RepositoryServer`: one session's state.
pub struct Server {
    cfg: ServerConfig,
    log: Arc<ServerLog>,
    repo: Option<LocalRepository>,
    /// An `open` got past the path checks (borg then holds a repository
    /// object, opened or not).
    open_attempted: bool,
    client_version: Vec<i64>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("repo", &self.repo)
            .field("client_version", &self.client_version)
            .finish_non_exhaustive()
    }
}

/// A request's result, or the exception it raised.
type CallResult = Result<Value, Exc>;

impl Server {
    /// A server for one session.
    pub fn new(cfg: ServerConfig, log: Arc<ServerLog>) -> Self {
        Server {
            cfg,
            log,
            repo: None,
            open_attempted: false,
            // borg's fallback for clients too old to send their version.
            client_version: vec![1, 0, 8, -1],
        }
    }

    /// The client's version from `negotiate` (1.0.8 if it sent none).
    pub fn client_version(&self) -> &[i64] {
        &self.client_version
    }

    /// Whether a repository is open.
    pub fn has_repository(&self) -> bool {
        self.repo.is_some()
    }

    /// Close the open repository, if any, without committing.
    pub fn close(&mut self) -> Result<(), RepositoryError> {
        match self.repo.take() {
            Some(r) => r.close(),
            None => Ok(()),
        }
    }

    fn repo(&mut self, method: &str) -> Result<&mut LocalRepository, Exc> {
        self.repo.as_mut().ok_or_else(|| {
            Exc::py(
                "AttributeError",
                &format!("'NoneType' object has no attribute '{method}'"),
            )
        })
    }

    /// Execute one request.
    fn call(&mut self, req: &Request) -> CallResult {
        let method = req.method.as_str();
        if !RPC_METHODS.contains(&method) {
            let e = RepositoryError::InvalidRpcMethod {
                method: method.to_string(),
            };
            return Err(exception_for(&e));
        }
        let a = Args {
            req,
            owner: match method {
                "negotiate" | "open" | "inject_exception" => "RepositoryServer",
                _ => "Repository",
            },
        };
        let r = |res: Result<(), RepositoryError>| {
            res.map(|()| Value::Nil).map_err(|e| exception_for(&e))
        };
        match method {
            "negotiate" => self.negotiate(a.required("client_data")?),
            "open" => self.open(&a),
            "inject_exception" => inject_exception(&a),
            "__len__" => {
                let n = self.repo(method)?.len().map_err(|e| exception_for(&e))?;
                Ok(Value::int(n as u64))
            }
            "check" => {
                let repair = a.flag("repair", false);
                let max = a.get("max_duration").and_then(number).unwrap_or(0.0);
                let repo = self.repo(method)?;
                if repair && repo.is_append_only() {
                    return Err(exception_for(&RepositoryError::AppendOnly {
                        path: repo.path().to_path_buf(),
                    }));
                }
                if repair && max != 0.0 {
                    return Err(Exc::assertion());
                }
                let max = (max > 0.0).then(|| Duration::from_secs_f64(max.min(1e9)));
                repo.check(repair, max)
                    .map(Value::Bool)
                    .map_err(|e| exception_for(&e))
            }
            "commit" => {
                let opts = CommitOptions {
                    // Clients before 1.2 send no `compact`: they compact.
                    compact: a.flag("compact", true),
                    threshold: a.get("threshold").and_then(number).unwrap_or(0.1),
                    cleanup_commits: a.flag("cleanup_commits", false),
                };
                let repo = self.repo(method)?;
                r(repo.commit(opts))
            }
            "delete" => {
                let repo = self.repo(method)?;
                let id = a.id("id")?;
                r(repo.delete(&id))
            }
            "destroy" => self.destroy(),
            "get" => {
                let repo = self.repo(method)?;
                let id = a.id("id")?;
                repo.get(&id).map(Value::Raw).map_err(|e| exception_for(&e))
            }
            "list" | "scan" => {
                let repo = self.repo(method)?;
                let limit = a.opt_int("limit")?;
                let marker = a.opt_id("marker")?;
                if method == "scan" && limit.is_some_and(|l| l < 1) {
                    return Err(Exc::py(
                        "ValueError",
                        "please use limit > 0 or limit = None",
                    ));
                }
                let limit = limit.map(|l| usize::try_from(l.max(0)).unwrap_or(usize::MAX));
                let ids = if method == "list" {
                    repo.list(limit, marker.as_ref()).map_err(|e| match e {
                        RepositoryError::IntegrityOther(_) => Exc::key_error("marker not found"),
                        e => exception_for(&e),
                    })?
                } else {
                    repo.scan(limit, marker.as_ref())
                        .map_err(|e| exception_for(&e))?
                };
                Ok(Value::Array(ids.iter().map(Value::raw).collect()))
            }
            "put" => {
                let repo = self.repo(method)?;
                let id = a.id("id")?;
                let data = a.bytes("data")?;
                r(repo.put(&id, data))
            }
            "rollback" => r(self.repo(method)?.rollback()),
            "save_key" => {
                let repo = self.repo(method)?;
                let data = a.bytes("keydata")?;
                if std::str::from_utf8(data).is_err() {
                    return Err(Exc::py(
                        "UnicodeDecodeError",
                        "'utf-8' codec can't decode the key data",
                    ));
                }
                r(repo.save_key(data))
            }
            "load_key" => self
                .repo(method)?
                .load_key()
                .map(Value::Raw)
                .map_err(|e| exception_for(&e)),
            "break_lock" => r(self.repo(method)?.break_lock()),
            "get_free_nonce" => self
                .repo(method)?
                .get_free_nonce()
                .map(|n| n.map_or(Value::Nil, Value::int))
                .map_err(|e| exception_for(&e)),
            "commit_nonce_reservation" => {
                let repo = self.repo(method)?;
                let next = a.u64("next_unreserved")?;
                let start = a
                    .opt_int("start_nonce")?
                    .map(|s| u64::try_from(s).unwrap_or(u64::MAX));
                r(repo.commit_nonce_reservation(next, start))
            }
            other => Err(exception_for(&RepositoryError::InvalidRpcMethod {
                method: other.to_string(),
            })),
        }
    }

    /// borg's `RepositoryServer.negotiate`.
    fn negotiate(&mut self, client_data: &Value) -> CallResult {
        if client_data == &Value::int(RPC_PROTOCOL_VERSION) {
            return Ok(Value::int(RPC_PROTOCOL_VERSION));
        }
        if let Value::Map(_) = client_data {
            if let Some(v) = client_data
                .get("client_version")
                .and_then(crate::codec::parse_version)
            {
                self.client_version = v;
            }
            self.log.set_json();
            self.log.log(
                Level::Debug,
                "borg.remote",
                "Initialized logging system for JSON-based protocol",
                None,
            );
        } else {
            self.client_version = BORG_VERSION.to_vec();
        }
        Ok(MapBuilder::new()
            .insert("server_version", version_value(&BORG_VERSION))
            .build())
    }

    /// borg's `RepositoryServer.open`.
    fn open(&mut self, a: &Args<'_>) -> CallResult {
        let path = match a.required("path")? {
            Value::Raw(b) => b.clone(),
            other => {
                let kind = match other {
                    Value::Int(_) => "int",
                    Value::Bool(_) => "bool",
                    Value::Float(_) => "float",
                    Value::Nil => "NoneType",
                    Value::Array(_) => "tuple",
                    _ => "dict",
                };
                return Err(Exc::py(
                    "AttributeError",
                    &format!("'{kind}' object has no attribute 'startswith'"),
                ));
            }
        };
        let create = a.flag("create", false);
        let lock_wait = match a.get("lock_wait") {
            None | Some(Value::Nil) => None,
            Some(v) => Some(Duration::from_secs_f64(
                number(v)
                    .ok_or_else(|| type_error("open", "lock_wait", "a number or None"))?
                    .clamp(0.0, 1e9),
            )),
        };
        let lock = a.flag("lock", true);
        let exclusive = match a.get("exclusive") {
            None | Some(Value::Nil) => None,
            Some(v) => Some(truthy(v)),
        };
        let client_append_only = a.flag("append_only", false);
        let make_parent_dirs = a.flag("make_parent_dirs", false);

        self.log.log(
            Level::Debug,
            "borg.remote",
            &format!("Resolving repository path {}", py_bytes_repr(&path)),
            None,
        );
        let resolved = resolve_path(&path, &self.cfg.base_dir, &self.cfg.home, &self.cfg.cwd);
        self.log.log(
            Level::Debug,
            "borg.remote",
            &format!("Resolved repository path to '{}'", resolved.display()),
            None,
        );
        let not_allowed = || {
            exception_for(&RepositoryError::PathNotAllowed {
                path: path_text(&resolved),
            })
        };
        let resolved_sep = with_sep(&resolved);
        if !self.cfg.restrict_to_paths.is_empty()
            && !self.cfg.restrict_to_paths.iter().any(|r| {
                let r = with_sep(&realpath(r, &self.cfg.cwd));
                resolved_sep.starts_with(&r)
            })
        {
            return Err(not_allowed());
        }
        if !self.cfg.restrict_to_repositories.is_empty()
            && !self
                .cfg
                .restrict_to_repositories
                .iter()
                .any(|r| with_sep(&realpath(r, &self.cfg.cwd)) == resolved_sep)
        {
            return Err(not_allowed());
        }
        // `borg serve --append-only` does not make a repository created
        // through it append-only; `borg init --append-only` does.
        let append_only = (!create && self.cfg.append_only) || client_append_only;
        // A second `open` replaces the first repository (borg drops it).
        if let Some(old) = self.repo.take() {
            if let Err(e) = old.close() {
                self.log.log(
                    Level::Warning,
                    "borg.remote",
                    &format!("closing the previously opened repository failed: {e}"),
                    None,
                );
            }
        }
        let opts = OpenOptions {
            create,
            make_parent_dirs,
            lock,
            exclusive,
            lock_wait,
            append_only,
            storage_quota: self.cfg.storage_quota,
            process: self.cfg.process.clone(),
        };
        let reporter: Arc<dyn Reporter> = self.log.clone();
        self.open_attempted = true;
        let repo =
            LocalRepository::open(&resolved, &opts, reporter).map_err(|e| exception_for(&e))?;
        let id = repo.id();
        self.repo = Some(repo);
        Ok(Value::raw(id))
    }

    /// `destroy`, refused in append-only mode before anything is touched.
    fn destroy(&mut self) -> CallResult {
        let repo = self.repo("destroy")?;
        if repo.is_append_only() {
            return Err(exception_for(&RepositoryError::AppendOnly {
                path: repo.path().to_path_buf(),
            }));
        }
        let repo = self.repo.take().ok_or_else(Exc::assertion)?;
        repo.destroy()
            .map(|()| Value::Nil)
            .map_err(|e| exception_for(&e))
    }

    /// Answer one request: the encoded reply, logging what borg logs.
    fn answer(&mut self, req: &Request, out: &mut Vec<u8>) {
        let result = self.call(req);
        self.log.finish_progress();
        let outcome = match result {
            Ok(v) => Outcome::Ok(v),
            Err(exc) => {
                self.log_exception(req, &exc);
                Outcome::Err(RemoteException {
                    class: exc.class.clone(),
                    args: Some(exc.args.clone()),
                    short: exc.short_lines(),
                    full: exc.full(),
                    trace: exc.trace,
                    sysinfo: self.cfg.sysinfo.clone(),
                })
            }
        };
        encode_response(
            req.format,
            &Response {
                msgid: req.msgid,
                outcome,
            },
            out,
        );
    }

    /// What borg's `serve` logs for an exception it sends back.
    fn log_exception(&self, req: &Request, exc: &Exc) {
        let full = exc.full().concat();
        match req.format {
            Format::Dict => {
                if !exc.reconstructed() {
                    self.log.log(Level::Debug, "root", &full, None);
                }
            }
            Format::Legacy => {
                if !exc.reconstructed() {
                    let (tb_level, msg) = if exc.borg_error {
                        (
                            if exc.trace {
                                Level::Error
                            } else {
                                Level::Debug
                            },
                            exc.short.clone(),
                        )
                    } else {
                        (Level::Error, format!("{} Exception in RPC call", exc.class))
                    };
                    self.log.log(Level::Error, "root", &msg, None);
                    self.log.log(
                        tb_level,
                        "root",
                        &format!("{full}\n{}", self.cfg.sysinfo),
                        None,
                    );
                }
            }
        }
    }

    /// Answer a run of `get` requests with one concurrent read when they
    /// all succeed (the common case of a client's pipelined reads).
    fn answer_gets(&mut self, reqs: &[Request], out: &mut Vec<u8>) {
        let ids: Option<Vec<Id>> = reqs
            .iter()
            .map(|r| match r.arg("id") {
                Some(Value::Raw(b)) => Id::try_from(b.as_slice()).ok(),
                _ => None,
            })
            .collect();
        if let (Some(ids), Some(repo)) = (ids, self.repo.as_mut()) {
            if let Ok(datas) = repo.get_many(&ids) {
                self.log.finish_progress();
                for (req, data) in reqs.iter().zip(datas) {
                    encode_response(
                        req.format,
                        &Response {
                            msgid: req.msgid,
                            outcome: Outcome::Ok(Value::Raw(data)),
                        },
                        out,
                    );
                }
                return;
            }
        }
        // Something is wrong with one of them: answer each on its own.
        for req in reqs {
            self.answer(req, out);
        }
    }
}

/// Python's `repr()` of the path argument, as borg's debug log shows it.
fn py_bytes_repr(b: &[u8]) -> String {
    let mut s = String::from("b'");
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('\'');
    s
}

/// borg's `inject_exception` test hook.
fn inject_exception(a: &Args<'_>) -> CallResult {
    let kind = String::from_utf8_lossy(a.bytes("kind")?).into_owned();
    let s1 = "test string".to_string();
    let s2 = "test string2".to_string();
    let e = |err: RepositoryError| exception_for(&err);
    Err(match kind.as_str() {
        "DoesNotExist" => Exc::borg(
            "DoesNotExist",
            vec![s1.clone()],
            format!("Repository {s1} does not exist."),
            false,
        ),
        "AlreadyExists" => Exc::borg(
            "AlreadyExists",
            vec![s1.clone()],
            format!("A repository already exists at {s1}."),
            false,
        ),
        "CheckNeeded" => Exc::borg(
            "CheckNeeded",
            vec![s1.clone()],
            format!("Inconsistency detected. Please run \"borg check {s1}\"."),
            true,
        ),
        "IntegrityError" => e(RepositoryError::IntegrityOther(s1)),
        "PathNotAllowed" => e(RepositoryError::PathNotAllowed { path: "foo".into() }),
        "ObjectNotFound" => Exc::borg(
            "ObjectNotFound",
            vec![s1.clone(), s2.clone()],
            format!("Object with key {s1} not found in repository {s2}."),
            true,
        ),
        "InvalidRPCMethod" => e(RepositoryError::InvalidRpcMethod { method: s1 }),
        "divide" => Exc::py("ZeroDivisionError", "integer division or modulo by zero"),
        // borg returns None for an unknown kind.
        _ => return Ok(Value::Nil),
    })
}

/// Run one `borg serve` session: read requests from `input` until it ends,
/// write replies to `output`. Returns when the input ends (after closing
/// the repository without committing) or with the error that ended the
/// session; either way the repository is closed and the error logged.
pub fn serve(
    server: &mut Server,
    input: &mut dyn Read,
    output: &mut dyn Write,
) -> Result<(), ServeError> {
    let result = serve_inner(server, input, output);
    let closed = server.close();
    match result {
        Ok(()) => closed.map_err(ServeError::from),
        Err(e) => {
            match &e {
                ServeError::UnexpectedData { detail, .. } => {
                    server.log.log(Level::Debug, "borg.remote", detail, None);
                    server
                        .log
                        .log(Level::Error, "borg.archiver", &e.to_string(), None);
                }
                ServeError::Stopped(stop) => {
                    server.log.log(
                        Level::Error,
                        "borg.archiver",
                        &stop.message,
                        Some(&stop.msgid),
                    );
                }
                other => {
                    server
                        .log
                        .log(Level::Error, "borg.archiver", &other.to_string(), None);
                }
            }
            Err(e)
        }
    }
}

fn unexpected(detail: impl std::fmt::Display) -> ServeError {
    ServeError::UnexpectedData {
        version: format_version(&BORG_VERSION),
        detail: detail.to_string(),
    }
}

fn serve_inner(
    server: &mut Server,
    input: &mut dyn Read,
    output: &mut dyn Write,
) -> Result<(), ServeError> {
    let mut unpacker = Unpacker::with_max_items(MAX_REQUEST_ITEMS);
    let mut buf = vec![0u8; READ_SIZE];
    let mut out = Vec::new();
    loop {
        let n = match input.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let stop = e.get_ref().and_then(|i| i.downcast_ref::<Stop>()).cloned();
                return Err(stop.map_or_else(|| e.into(), ServeError::Stopped));
            }
        };
        if n == 0 {
            if unpacker.pending() > 0 {
                server.log.log(
                    Level::Debug,
                    "borg.remote",
                    &format!(
                        "input ended inside a message ({} bytes ignored)",
                        unpacker.pending()
                    ),
                    None,
                );
            }
            if !server.open_attempted {
                server.log.raw(&format!(
                    "Borg {}: Got connection close before repository was opened.\n",
                    format_version(&BORG_VERSION)
                ));
            }
            return Ok(());
        }
        unpacker.feed(&buf[..n]);
        // Every complete message, in order; a run of `get`s is read at once.
        let mut reqs = Vec::new();
        loop {
            match unpacker.next_value() {
                Ok(Some(v)) => match parse_request(v) {
                    Ok(r) => reqs.push(r),
                    Err(e) => {
                        run_requests(server, &reqs, &mut out, output)?;
                        return Err(unexpected(e));
                    }
                },
                Ok(None) => break,
                Err(
                    e @ (CodecError::TooLarge
                    | CodecError::TooManyValues(_)
                    | CodecError::Msgpack(_)
                    | CodecError::Format(_)),
                ) => {
                    run_requests(server, &reqs, &mut out, output)?;
                    return Err(unexpected(e));
                }
            }
        }
        run_requests(server, &reqs, &mut out, output)?;
    }
}

fn is_get(r: &Request) -> bool {
    r.method == "get"
}

fn run_requests(
    server: &mut Server,
    reqs: &[Request],
    out: &mut Vec<u8>,
    output: &mut dyn Write,
) -> Result<(), ServeError> {
    let mut i = 0;
    while i < reqs.len() {
        if is_get(&reqs[i]) && server.has_repository() {
            let mut j = i + 1;
            while j < reqs.len() && is_get(&reqs[j]) && j - i < 64 {
                j += 1;
            }
            if j - i > 1 {
                server.answer_gets(&reqs[i..j], out);
            } else {
                server.answer(&reqs[i], out);
            }
            i = j;
        } else {
            server.answer(&reqs[i], out);
            i += 1;
        }
        if out.len() >= FLUSH_AT {
            output.write_all(out)?;
            output.flush()?;
            out.clear();
        }
    }
    if !out.is_empty() {
        output.write_all(out)?;
        output.flush()?;
        out.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode_put, encode_request, parse_response};

    /// A cloneable in-memory stderr.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    fn config(dir: &Path) -> ServerConfig {
        ServerConfig {
            restrict_to_paths: Vec::new(),
            restrict_to_repositories: Vec::new(),
            append_only: false,
            storage_quota: None,
            base_dir: dir.join("base"),
            home: dir.join("home"),
            cwd: dir.to_path_buf(),
            process: ProcessId::current("testhost@1".into()),
            sysinfo: "Platform: test\n".into(),
        }
    }

    /// Builds a request stream.
    #[derive(Default)]
    struct Script {
        bytes: Vec<u8>,
        next: u64,
    }

    impl Script {
        fn new() -> Self {
            Script::default()
        }

        fn call(mut self, method: &str, args: Vec<(&str, Value)>) -> Self {
            self.next += 1;
            let req = Request {
                format: Format::Dict,
                msgid: self.next,
                method: method.into(),
                args: args.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            };
            encode_request(&req, &mut self.bytes);
            self
        }

        fn legacy(mut self, method: &str, args: Vec<(&str, Value)>) -> Self {
            self.next += 1;
            let req = Request {
                format: Format::Legacy,
                msgid: self.next,
                method: method.into(),
                args: args.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            };
            encode_request(&req, &mut self.bytes);
            self
        }

        fn negotiate(self) -> Self {
            self.legacy(
                "negotiate",
                vec![(
                    "client_data",
                    MapBuilder::new()
                        .insert("client_version", version_value(&BORG_VERSION))
                        .build(),
                )],
            )
        }

        fn open(self, path: &Path, create: bool) -> Self {
            self.call(
                "open",
                vec![
                    ("path", Value::raw(path.as_os_str().as_bytes())),
                    ("create", Value::Bool(create)),
                    ("lock_wait", Value::int(1)),
                    ("lock", Value::Bool(true)),
                    ("exclusive", Value::Bool(true)),
                    ("append_only", Value::Bool(false)),
                    ("make_parent_dirs", Value::Bool(false)),
                ],
            )
        }

        fn put(mut self, id: &Id, data: &[u8]) -> Self {
            self.next += 1;
            encode_put(self.next, id, data, Some(true), &mut self.bytes);
            self
        }

        fn commit(self) -> Self {
            self.call(
                "commit",
                vec![
                    ("save_space", Value::Bool(false)),
                    ("compact", Value::Bool(false)),
                    ("threshold", Value::Float(0.1)),
                    ("cleanup_commits", Value::Bool(false)),
                ],
            )
        }

        fn raw(mut self, b: &[u8]) -> Self {
            self.bytes.extend_from_slice(b);
            self
        }
    }

    struct Outcome_ {
        result: Result<(), ServeError>,
        replies: Vec<Response>,
        raw: Vec<u8>,
        stderr: String,
    }

    /// Feed `input` in small reads (to exercise message reassembly).
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn run_with(cfg: ServerConfig, level: Level, input: &[u8], step: usize) -> Outcome_ {
        let err = Shared::default();
        let log = Arc::new(ServerLog::new(Box::new(err.clone()), level, false));
        let mut server = Server::new(cfg, log);
        let mut out = Vec::new();
        let result = serve(&mut server, &mut Trickle(input, step), &mut out);
        let mut u = Unpacker::new();
        u.feed(&out);
        let mut replies = Vec::new();
        while let Some(v) = u.next_value().unwrap() {
            replies.push(parse_response(v).unwrap());
        }
        Outcome_ {
            result,
            replies,
            raw: out,
            stderr: err.text(),
        }
    }

    fn run(cfg: ServerConfig, input: &[u8]) -> Outcome_ {
        run_with(cfg, Level::Warning, input, 1 << 20)
    }

    fn ok(r: &Response) -> &Value {
        match &r.outcome {
            Outcome::Ok(v) => v,
            Outcome::Err(e) => panic!("reply {} is an error: {e:?}", r.msgid),
        }
    }

    fn err(r: &Response) -> &RemoteException {
        match &r.outcome {
            Outcome::Err(e) => e,
            Outcome::Ok(v) => panic!("reply {} is not an error: {v:?}", r.msgid),
        }
    }

    fn id(n: u8) -> Id {
        [n; 32]
    }

    #[test]
    fn negotiate_legacy_and_dict() {
        let dir = tempfile::tempdir().unwrap();
        // A borg 1.0 client negotiates with the integer 2.
        let o = run(
            config(dir.path()),
            &Script::new()
                .legacy("negotiate", vec![("client_data", Value::int(2))])
                .bytes,
        );
        assert_eq!(ok(&o.replies[0]), &Value::int(2));
        // The reply to the tuple-format negotiate is a tuple (`94 01 01 c0 ...`).
        let o = run_with(
            config(dir.path()),
            Level::Debug,
            &Script::new().negotiate().bytes,
            1,
        );
        let mut want = vec![0x94, 0x01, 0x01, 0xc0, 0x81, 0xae];
        want.extend_from_slice(b"server_version");
        want.extend_from_slice(&[0x94, 0x01, 0x04, 0x05, 0xff]);
        assert_eq!(o.raw, want);
        // Logging switched to JSON lines.
        let first = o.stderr.lines().next().unwrap();
        assert!(
            first.starts_with("{\"type\": \"log_message\", \"time\": "),
            "{first}"
        );
        assert!(first.contains("\"message\": \"Initialized logging system for JSON-based protocol\", \"levelname\": \"DEBUG\", \"name\": \"borg.remote\"}"), "{first}");
        assert!(o.result.is_ok());
    }

    #[test]
    fn create_put_get_commit_list() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let s = Script::new()
            .negotiate()
            .open(&repo, true)
            .put(&id(1), b"one")
            .put(&id(2), b"two")
            .commit()
            .call("get", vec![("id", Value::raw(id(1)))])
            .call("get", vec![("id", Value::raw(id(2)))])
            .call("__len__", vec![])
            .call(
                "list",
                vec![("limit", Value::int(10)), ("marker", Value::Nil)],
            )
            .legacy("get", vec![("id", Value::raw(id(2)))]);
        for step in [1, 7, 1 << 20] {
            let _ = std::fs::remove_dir_all(&repo);
            let o = run(config(dir.path()), &[]);
            assert!(o.result.is_ok());
            let o = run_with(config(dir.path()), Level::Warning, &s.bytes, step);
            assert!(o.result.is_ok(), "{:?}", o.result);
            assert_eq!(o.replies.len(), 10);
            assert_eq!(ok(&o.replies[1]).as_raw().map(<[u8]>::len), Some(32));
            assert_eq!(ok(&o.replies[5]), &Value::raw("one"));
            assert_eq!(ok(&o.replies[6]), &Value::raw("two"));
            assert_eq!(ok(&o.replies[7]), &Value::int(2));
            assert_eq!(ok(&o.replies[8]).as_array().map(<[Value]>::len), Some(2));
            assert_eq!(ok(&o.replies[9]), &Value::raw("two"));
            // The session ended: the lock is gone.
            assert!(!repo.join("lock.exclusive").exists());
        }
    }

    #[test]
    fn errors_carry_borg_classes_and_args() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let o = run(
            config(dir.path()),
            &Script::new()
                .negotiate()
                .call("get", vec![("id", Value::raw(id(1)))])
                .call("frobnicate", vec![])
                .open(&dir.path().join("missing"), false)
                .open(&repo, true)
                .commit()
                .call("get", vec![("id", Value::raw(id(9)))])
                .call("get", vec![("id", Value::raw([1u8; 3]))])
                .call("get", vec![])
                .call("scan", vec![("limit", Value::int(0))])
                .legacy("get", vec![("id", Value::raw(id(9)))])
                .bytes,
        );
        assert!(o.result.is_ok());
        let e = err(&o.replies[1]);
        assert_eq!(e.class, "AttributeError");
        assert_eq!(
            e.short,
            ["AttributeError: 'NoneType' object has no attribute 'get'\n"]
        );
        assert!(e.trace);
        assert_eq!(e.sysinfo, "Platform: test\n");
        let e = err(&o.replies[2]);
        assert_eq!(e.class, "InvalidRPCMethod");
        assert_eq!(e.arg_str(0).as_deref(), Some("frobnicate"));
        assert_eq!(e.short, ["RPC method frobnicate is not valid."]);
        assert!(!e.trace);
        let e = err(&o.replies[3]);
        assert_eq!(e.class, "DoesNotExist");
        let missing = dir.path().join("missing").display().to_string();
        assert_eq!(e.arg_str(0), Some(missing.clone()));
        assert_eq!(e.short, [format!("Repository {missing} does not exist.")]);
        ok(&o.replies[4]);
        let e = err(&o.replies[5]);
        assert_eq!(e.class, "AttributeError");
        assert_eq!(
            e.short,
            ["AttributeError: 'NoneType' object has no attribute 'size'\n"]
        );
        let e = err(&o.replies[6]);
        assert_eq!(e.class, "ObjectNotFound");
        assert_eq!(e.arg_str(0), Some(hex::encode(id(9))));
        assert_eq!(e.arg_str(1), Some(repo.display().to_string()));
        assert_eq!(
            e.short,
            [format!(
                "Object with key {} not found in repository {}.",
                hex::encode(id(9)),
                repo.display()
            )]
        );
        assert_eq!(err(&o.replies[7]).short, ["AssertionError\n"]);
        assert_eq!(
            err(&o.replies[8]).short,
            ["TypeError: Repository.get() missing 1 required positional argument: 'id'\n"]
        );
        assert_eq!(
            err(&o.replies[9]).short,
            ["ValueError: please use limit > 0 or limit = None\n"]
        );
        // Legacy format: class name and borg's fixed text, no args.
        let e = err(&o.replies[10]);
        assert_eq!(e.class, "ObjectNotFound");
        assert_eq!(e.args, None);
        // Dict-format errors are logged at debug only; a legacy-format one
        // at ERROR, with its traceback (here: its last line) and sysinfo.
        let lines: Vec<&str> = o.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{}", o.stderr);
        assert!(
            lines[0].contains("\"message\": \"Object with key 0909"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("\"message\": \"ObjectNotFound: Object with key 0909"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn garbage_ends_the_session_after_earlier_replies() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("reserved byte", vec![0xc1]),
            ("not a request", vec![0x93, 1, 2, 3]),
            ("integer", vec![0x05]),
            ("huge raw", {
                let mut b = vec![0xdb];
                b.extend_from_slice(&u32::MAX.to_be_bytes());
                b
            }),
            ("huge array", {
                let mut b = vec![0xdd];
                b.extend_from_slice(&0x0100_0000u32.to_be_bytes());
                b.extend_from_slice(&[0u8; 20_000]);
                b
            }),
            ("legacy scan", {
                let mut b = vec![0x94, 1, 9, 0xa4];
                b.extend_from_slice(b"scan");
                b.push(0x90);
                b
            }),
            ("dict without a", {
                let mut b = vec![0x82, 0xa1, b'i', 9, 0xa1, b'm', 0xa3];
                b.extend_from_slice(b"get");
                b
            }),
        ];
        for (what, garbage) in cases {
            let _ = std::fs::remove_dir_all(&repo);
            let s = Script::new()
                .negotiate()
                .open(&repo, true)
                .put(&id(1), b"x")
                .raw(&garbage)
                .commit();
            let o = run(config(dir.path()), &s.bytes);
            match &o.result {
                Err(ServeError::UnexpectedData { .. }) => {}
                other => panic!("{what}: {other:?}"),
            }
            // Requests before the garbage were answered, none after it.
            assert_eq!(o.replies.len(), 3, "{what}");
            assert!(
                o.stderr.contains(
                    "{\"type\": \"log_message\", \"time\": "
                ) && o.stderr.contains("\"message\": \"Borg 1.4.5: Got unexpected RPC data format from client.\", \"levelname\": \"ERROR\", \"name\": \"borg.archiver\"}"),
                "{what}: {}",
                o.stderr
            );
            // Closed without commit, lock released; the repository is fine.
            assert!(!repo.join("lock.exclusive").exists(), "{what}");
            let o = run(
                config(dir.path()),
                &Script::new()
                    .negotiate()
                    .open(&repo, false)
                    .call("__len__", vec![])
                    .bytes,
            );
            assert_eq!(ok(&o.replies[2]), &Value::int(0), "{what}");
        }
        // Before a dict negotiate, the error is a `$LOG` line.
        let o = run(config(dir.path()), &[0xc1]);
        assert_eq!(
            o.stderr,
            "$LOG ERROR borg.archiver Remote: Borg 1.4.5: Got unexpected RPC data format from client.\n"
        );
    }

    #[test]
    fn end_of_input_closes_without_commit() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let o = run(
            config(dir.path()),
            &Script::new().negotiate().open(&repo, true).commit().bytes,
        );
        // `commit` without a transaction fails, but init is durable anyway.
        assert!(o.result.is_ok());
        let o = run(
            config(dir.path()),
            &Script::new()
                .negotiate()
                .open(&repo, false)
                .put(&id(1), b"uncommitted")
                .bytes,
        );
        assert_eq!(o.replies.len(), 3);
        assert!(!repo.join("lock.exclusive").exists());
        let o = run(
            config(dir.path()),
            &Script::new()
                .negotiate()
                .open(&repo, false)
                .call("get", vec![("id", Value::raw(id(1)))])
                .bytes,
        );
        assert_eq!(err(&o.replies[2]).class, "ObjectNotFound");
        // Nothing opened: borg's notice.
        let o = run(config(dir.path()), &Script::new().negotiate().bytes);
        assert!(o
            .stderr
            .ends_with("Borg 1.4.5: Got connection close before repository was opened.\n"));
    }

    #[test]
    fn a_second_open_replaces_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        let o = run(
            config(dir.path()),
            &Script::new()
                .negotiate()
                .open(&a, true)
                .open(&b, true)
                .open(&a, false)
                .call("__len__", vec![])
                .bytes,
        );
        for r in &o.replies[1..] {
            ok(r);
        }
        assert!(!a.join("lock.exclusive").exists());
        assert!(!b.join("lock.exclusive").exists());
    }

    fn symlink(target: &Path, link: &Path) {
        std::os::unix::fs::symlink(target, link).unwrap();
    }

    #[test]
    fn restrictions_refuse_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(d.join("srv/repos/ok")).unwrap();
        std::fs::create_dir_all(d.join("srv/repos2")).unwrap();
        std::fs::create_dir_all(d.join("outside")).unwrap();
        symlink(&d.join("outside"), &d.join("srv/repos/link"));
        let mut cfg = config(&d);
        cfg.restrict_to_paths = vec![d.join("srv/repos")];
        let refused = |path: &Path, resolved: &Path, cfg: &ServerConfig| {
            let o = run(
                cfg.clone(),
                &Script::new().negotiate().open(path, true).bytes,
            );
            let e = err(&o.replies[1]);
            assert_eq!(e.class, "PathNotAllowed", "{}", path.display());
            assert_eq!(
                e.short,
                [format!(
                    "Repository path not allowed: {}",
                    resolved.display()
                )]
            );
        };
        refused(
            &d.join("srv/repos/../outside/r"),
            &d.join("srv/outside/r"),
            &cfg,
        );
        refused(&d.join("srv/repos/link/r"), &d.join("outside/r"), &cfg);
        refused(&d.join("srv/repos2/r"), &d.join("srv/repos2/r"), &cfg);
        refused(&d.join("srv"), &d.join("srv"), &cfg);
        // `..` after a symlink leaves from the link's target.
        refused(
            &d.join("srv/repos/link/../srv/repos/x"),
            &d.join("srv/repos/x"),
            &{
                let mut c = cfg.clone();
                c.restrict_to_paths = vec![d.join("outside")];
                c
            },
        );
        // Allowed: below the restriction, and the restriction itself.
        let o = run(
            cfg.clone(),
            &Script::new()
                .negotiate()
                .open(&d.join("srv/repos/ok/r"), true)
                .open(&d.join("srv/repos/./ok/../new"), true)
                .bytes,
        );
        ok(&o.replies[1]);
        ok(&o.replies[2]);
        // --restrict-to-repository is an exact match.
        let mut cfg = config(&d);
        cfg.restrict_to_repositories = vec![d.join("srv/repos/ok/r/")];
        refused(
            &d.join("srv/repos/ok/r/sub"),
            &d.join("srv/repos/ok/r/sub"),
            &cfg,
        );
        refused(&d.join("srv/repos/ok"), &d.join("srv/repos/ok"), &cfg);
        let o = run(
            cfg,
            &Script::new()
                .negotiate()
                .open(&d.join("srv/repos/ok/r"), false)
                .bytes,
        );
        ok(&o.replies[1]);
    }

    #[test]
    fn resolve_path_like_borg() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        let base = d.join("base");
        let home = d.join("home");
        let r = |p: &str| resolve_path(p.as_bytes(), &base, &home, &d);
        assert_eq!(r("/~/x"), base.join("x"));
        assert_eq!(r("~/x"), base.join("x"));
        assert_eq!(r("/~"), home);
        assert_eq!(r("~"), home);
        assert_eq!(r("/./x/y"), d.join("x/y"));
        assert_eq!(r("rel/../y"), d.join("y"));
        assert_eq!(r("/a//b/./c/"), PathBuf::from("/a/b/c"));
        assert_eq!(r("/~//etc/x"), PathBuf::from("/etc/x"));
        assert_eq!(r("/.."), PathBuf::from("/"));
        assert_eq!(r("~nosuchuser-oxiborg/x"), d.join("~nosuchuser-oxiborg/x"));
        assert_eq!(
            r("~root/x"),
            PathBuf::from(String::from_utf8(passwd_home(b"root").unwrap()).unwrap()).join("x")
        );
        // Symlink loops stay unresolved instead of hanging.
        symlink(&d.join("loop"), &d.join("loop"));
        assert_eq!(r("loop/x"), d.join("loop/x"));
    }

    #[test]
    fn append_only_refuses_destroy_and_repair() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let mut cfg = config(dir.path());
        cfg.append_only = true;
        // `serve --append-only` does not make a new repository append-only.
        let o = run(
            cfg.clone(),
            &Script::new()
                .negotiate()
                .open(&repo, true)
                .put(&id(1), b"x")
                .commit()
                .bytes,
        );
        ok(&o.replies[1]);
        ok(&o.replies[3]);
        let conf = std::fs::read_to_string(repo.join("config")).unwrap();
        assert!(conf.contains("append_only = 0"), "{conf}");
        let o = run(
            cfg,
            &Script::new()
                .negotiate()
                .open(&repo, false)
                .call(
                    "check",
                    vec![
                        ("repair", Value::Bool(true)),
                        ("save_space", Value::Bool(false)),
                        ("max_duration", Value::int(0)),
                    ],
                )
                .call("destroy", vec![])
                .call(
                    "check",
                    vec![
                        ("repair", Value::Bool(false)),
                        ("save_space", Value::Bool(false)),
                        ("max_duration", Value::int(0)),
                    ],
                )
                .bytes,
        );
        let want = format!("ValueError: {} is in append-only mode\n", repo.display());
        assert_eq!(err(&o.replies[2]).short, std::slice::from_ref(&want));
        assert_eq!(err(&o.replies[3]).short, [want]);
        assert_eq!(ok(&o.replies[4]), &Value::Bool(true));
        assert!(repo.join("config").exists());
    }

    #[test]
    fn check_progress_is_json_after_negotiate() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let s = Script::new()
            .negotiate()
            .open(&repo, true)
            .put(&id(1), b"x")
            .commit()
            .call("check", vec![("repair", Value::Bool(false))]);
        let o = run_with(config(dir.path()), Level::Info, &s.bytes, 1 << 20);
        assert_eq!(ok(&o.replies[4]), &Value::Bool(true));
        let lines: Vec<&str> = o.stderr.lines().collect();
        assert!(lines.iter().any(|l| l.contains("\"message\": \"Starting repository check\", \"levelname\": \"INFO\", \"name\": \"borg.repository\"")), "{}", o.stderr);
        let p = lines
            .iter()
            .find(|l| l.starts_with("{\"message\": \"Checking segments"))
            .unwrap_or_else(|| panic!("{}", o.stderr));
        assert!(p.contains("\"current\": 1, \"total\": "), "{p}");
        assert!(p.contains("\"info\": null, \"operation\": 1, \"msgid\": \"repository.check\", \"type\": \"progress_percent\", \"finished\": false, \"time\": "), "{p}");
        assert!(lines.iter().any(|l| l.starts_with("{\"operation\": 1, \"msgid\": \"repository.check\", \"type\": \"progress_percent\", \"finished\": true, \"time\": ")), "{}", o.stderr);
    }

    #[test]
    fn percent_formats_like_python() {
        assert_eq!(percent_text(0.0, 0.1), "0.0%");
        assert_eq!(percent_text(50.0, 1.0), " 50%");
        assert_eq!(percent_text(100.0, 0.1), "100.0%");
    }
}
