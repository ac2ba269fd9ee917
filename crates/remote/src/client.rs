//! A client of `borg serve` (borg's `RemoteRepository`).
//!
//! The server runs behind `ssh` (or whatever `BORG_RSH` names) and speaks
//! the RPC of [`crate::codec`] over the child's stdin/stdout. Three
//! threads keep the pipes moving, so neither side can block on a full pipe:
//! * a writer that sends queued requests (with the upload rate limit and
//!   buffer of `--upload-ratelimit`/`--upload-buffer`);
//! * a reader that decodes replies and hands them over in order;
//! * a reader of stderr that turns the server's log and progress lines
//!   into calls of [`RemoteOutput`].
//!
//! `get_many` keeps up to [`MAX_INFLIGHT`] requests outstanding. `put` and
//! `delete` are asynchronous as in borg: their replies are checked later,
//! and every error they produced is raised before the manifest is written
//! or a commit is sent, so a failed upload can never be committed.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use oxiborg_msgpack::{MapBuilder, Value};
use oxiborg_repository::{
    CommitOptions, Id, OpenOptions, Repository, RepositoryError, Result, MANIFEST_ID,
};

use crate::codec::{
    self, encode_put, encode_request, parse_response, CodecError, Format, Outcome, RemoteException,
    Request, Unpacker, BORG_VERSION, MAX_INFLIGHT, MAX_REPLY_ITEMS, RPC_PROTOCOL_VERSION,
};

/// Where the repository is: `ssh://[user@]host[:port]/path` or
/// `[user@]host:path`, split up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteLocation {
    /// The login name, if given.
    pub user: Option<String>,
    /// The host (IPv6 without brackets).
    pub host: String,
    /// The port, if given.
    pub port: Option<u16>,
    /// The path sent in `open` (borg's `Location.path`).
    pub path: String,
    /// The location as given, placeholders replaced (borg's
    /// `Location.processed`), used in error messages.
    pub processed: String,
}

/// Where the server's stderr lines go. The CLI implements this with its
/// logger; a library never prints.
pub trait RemoteOutput: Send + Sync {
    /// A log record from the server, message already prefixed with
    /// `Remote: `. `level` is Python's level name (`INFO`, `WARNING`, ...).
    fn remote_log(&self, level: &str, logger: &str, message: &str);
    /// A progress line from a JSON-speaking server: the line itself, with
    /// `Remote: ` added to its message, and the message alone.
    fn remote_progress(&self, json_line: &str, message: Option<&str>);
    /// A line in no known format (a plain 1.0 server, or ssh itself).
    fn remote_raw(&self, line: &str);
}

/// How to reach and start the server.
#[derive(Clone)]
pub struct ClientOptions {
    /// The ssh command (`--rsh`, `BORG_RSH`, default `ssh`), already split
    /// into words.
    pub rsh: Vec<String>,
    /// The remote program (`--remote-path`, `BORG_REMOTE_PATH`, default
    /// `borg`), placeholders replaced.
    pub remote_path: String,
    /// Options for `serve`: log level, debug topics, storage quota.
    pub serve_options: Vec<String>,
    /// `--upload-ratelimit` in bytes per second (0: unlimited).
    pub upload_ratelimit: u64,
    /// `--upload-buffer` in bytes (0: no buffer beyond one message).
    pub upload_buffer: usize,
    /// Environment variables to remove from the ssh child (borg's
    /// `prepare_subprocess_env`).
    pub env_remove: Vec<String>,
    /// Where the server's stderr goes.
    pub output: Arc<dyn RemoteOutput>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("rsh", &self.rsh)
            .field("remote_path", &self.remote_path)
            .field("serve_options", &self.serve_options)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// The whole command line: ssh part, then borg part (`ssh_cmd` +
    /// `borg_cmd`).
    pub fn command_line(&self, loc: &RemoteLocation) -> Vec<String> {
        let mut argv = self.rsh.clone();
        if let Some(p) = loc.port {
            argv.push("-p".into());
            argv.push(p.to_string());
        }
        match &loc.user {
            Some(u) => argv.push(format!("{u}@{}", loc.host)),
            None => argv.push(loc.host.clone()),
        }
        argv.push(self.remote_path.clone());
        argv.push("serve".into());
        argv.extend(self.serve_options.iter().cloned());
        argv
    }
}

enum FromReader {
    Reply(codec::Response),
    Closed,
    Broken(String),
    /// Not msgpack, or over a size limit (the reason, then the bytes).
    Invalid(String),
}

/// The queue between callers and the writer thread, bounded in bytes.
struct SendQueue {
    state: Mutex<SendState>,
    cond: Condvar,
}

struct SendState {
    queue: std::collections::VecDeque<Vec<u8>>,
    bytes: usize,
    closed: bool,
    /// Why writing to the server failed, once it did.
    failed: Option<std::io::ErrorKind>,
}

/// A repository behind `borg serve`.
pub struct RemoteRepository {
    loc: RemoteLocation,
    child: Option<Child>,
    queue: Arc<SendQueue>,
    buffer_limit: usize,
    writer: Option<JoinHandle<()>>,
    replies: Receiver<FromReader>,
    readers: Vec<JoinHandle<()>>,
    msgid: u64,
    dict_format: bool,
    server_version: Vec<i64>,
    id: Id,
    /// Replies that arrived before anyone asked for them.
    responses: HashMap<u64, Outcome>,
    /// Asynchronous put/delete requests whose replies are still due.
    pending_async: HashSet<u64>,
    /// Requests whose replies nobody wants any more.
    discard: HashSet<u64>,
    /// Errors of asynchronous requests not yet raised.
    async_errors: Vec<RemoteException>,
    /// Set once the connection is unusable.
    dead: Option<DeadReason>,
    /// Bytes sent and received, for the debug summary.
    pub tx_bytes: u64,
}

#[derive(Debug, Clone)]
enum DeadReason {
    Closed,
    Broken(String),
    Invalid(String),
    BrokenPipe,
}

impl std::fmt::Debug for RemoteRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteRepository")
            .field("location", &self.loc.processed)
            .field("server_version", &self.server_version)
            .finish_non_exhaustive()
    }
}

/// The longest a closing client waits for the server to exit.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

impl RemoteRepository {
    /// Start the server, negotiate, and open (or with `open.create`,
    /// create) the repository.
    pub fn connect(loc: &RemoteLocation, opts: &ClientOptions, open: &OpenOptions) -> Result<Self> {
        let argv = opts.command_line(loc);
        // As borg (`preexec_fn=ignore_sigint`): Ctrl-C must not kill ssh,
        // the connection is needed to roll back or write a checkpoint. An
        // ignored signal stays ignored across exec, so a tiny shell sets
        // that up; the child stays in our process group, so ssh can still
        // ask for a password on the terminal.
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg("trap '' INT; exec \"$@\"")
            .arg("sh")
            .args(&argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for k in &opts.env_remove {
            cmd.env_remove(k);
        }
        let mut child = cmd.spawn().map_err(|e| RepositoryError::Io {
            path: PathBuf::from(&argv[0]),
            source: e,
        })?;
        let (stdin, stdout, stderr) =
            match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
                (Some(i), Some(o), Some(e)) => (i, o, e),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(RepositoryError::ConnectionClosed);
                }
            };
        let queue = Arc::new(SendQueue {
            state: Mutex::new(SendState {
                queue: Default::default(),
                bytes: 0,
                closed: false,
                failed: None,
            }),
            cond: Condvar::new(),
        });
        let writer = {
            let q = Arc::clone(&queue);
            let limit = opts.upload_ratelimit;
            std::thread::Builder::new()
                .name("rpc-writer".into())
                .spawn(move || writer_loop(q, stdin, limit))
                .map_err(|e| RepositoryError::io("thread", e))?
        };
        let (tx, rx) = mpsc::channel();
        let mut readers = Vec::new();
        {
            let tx = tx.clone();
            readers.push(
                std::thread::Builder::new()
                    .name("rpc-reader".into())
                    .spawn(move || reader_loop(stdout, tx))
                    .map_err(|e| RepositoryError::io("thread", e))?,
            );
        }
        {
            let out = Arc::clone(&opts.output);
            readers.push(
                std::thread::Builder::new()
                    .name("rpc-stderr".into())
                    .spawn(move || stderr_loop(stderr, out.as_ref()))
                    .map_err(|e| RepositoryError::io("thread", e))?,
            );
        }
        drop(tx);
        let mut repo = RemoteRepository {
            loc: loc.clone(),
            child: Some(child),
            queue,
            buffer_limit: opts.upload_buffer,
            writer: Some(writer),
            replies: rx,
            readers,
            msgid: 0,
            dict_format: false,
            server_version: vec![1, 0, 8, -1],
            id: [0; 32],
            responses: HashMap::new(),
            pending_async: HashSet::new(),
            discard: HashSet::new(),
            async_errors: Vec::new(),
            dead: None,
            tx_bytes: 0,
        };
        match repo.handshake(open) {
            Ok(()) => Ok(repo),
            Err(e) => {
                repo.shutdown();
                Err(e)
            }
        }
    }

    fn handshake(&mut self, open: &OpenOptions) -> Result<()> {
        let client_data = MapBuilder::new()
            .insert("client_version", codec::version_value(&BORG_VERSION))
            .build();
        let version = match self.call("negotiate", vec![("client_data", client_data)]) {
            Err(RepositoryError::ConnectionClosed) => {
                return Err(RepositoryError::ConnectionClosedWithHint(
                    "Is borg working on the server?".into(),
                ))
            }
            other => other?,
        };
        if version.as_i64() == Some(RPC_PROTOCOL_VERSION) {
            self.dict_format = false;
        } else if let Some(v) = version.get("server_version") {
            self.dict_format = true;
            self.server_version = codec::parse_version(v).unwrap_or_else(|| vec![1, 0, 8, -1]);
        } else {
            return Err(RepositoryError::RemoteError {
                message: format!(
                    "Server insisted on using unsupported protocol version {}",
                    py_repr(&version)
                ),
                traceback: true,
            });
        }
        if open.append_only {
            self.require("open append_only=True", &[1, 0, 7, -1])?;
        }
        if open.make_parent_dirs {
            self.require("open make_parent_dirs=True", &[1, 1, 9, -1])?;
        }
        let lock_wait = open.lock_wait.map_or(Value::Nil, duration_value);
        let exclusive = open.exclusive.map_or(Value::Nil, Value::Bool);
        let id = self.call(
            "open",
            vec![
                ("path", Value::raw(&self.loc.path)),
                ("create", Value::Bool(open.create)),
                ("lock_wait", lock_wait),
                ("lock", Value::Bool(open.lock)),
                ("exclusive", exclusive),
                ("append_only", Value::Bool(open.append_only)),
                ("make_parent_dirs", Value::Bool(open.make_parent_dirs)),
            ],
        )?;
        self.id = id_from(&id).ok_or_else(|| {
            RepositoryError::UnexpectedRpcDataFromServer("open returned no 32-byte id".into())
        })?;
        Ok(())
    }

    /// The server's version, as negotiated (`[1, 0, 8, -1]` for a server
    /// too old to say).
    pub fn server_version(&self) -> &[i64] {
        &self.server_version
    }

    /// The location this repository was opened at.
    pub fn location(&self) -> &RemoteLocation {
        &self.loc
    }

    fn require(&self, what: &str, since: &[i64]) -> Result<()> {
        if self.server_version.as_slice() < since {
            return Err(RepositoryError::RpcServerOutdated {
                method: what.to_string(),
                required: codec::format_version(since),
            });
        }
        Ok(())
    }

    fn next_msgid(&mut self) -> u64 {
        self.msgid += 1;
        self.msgid
    }

    fn check_alive(&self) -> Result<()> {
        match &self.dead {
            None => Ok(()),
            Some(DeadReason::Closed) => Err(RepositoryError::ConnectionClosed),
            Some(DeadReason::Broken(s)) => {
                Err(RepositoryError::UnexpectedRpcDataFromServer(s.clone()))
            }
            Some(DeadReason::Invalid(s)) => {
                Err(RepositoryError::InvalidRpcDataFromServer(s.clone()))
            }
            Some(DeadReason::BrokenPipe) => Err(RepositoryError::ConnectionBrokenWithHint(
                "Broken Pipe".into(),
            )),
        }
    }

    /// Queue an encoded message, waiting while the send buffer is full.
    fn send(&mut self, msg: Vec<u8>) -> Result<()> {
        self.check_alive()?;
        let mut st = lock(&self.queue.state);
        loop {
            if let Some(kind) = st.failed {
                drop(st);
                // The server is gone; its last words may explain why.
                self.drain_nonblocking();
                if let Some(DeadReason::Broken(_) | DeadReason::Invalid(_)) = self.dead {
                    return self.check_alive();
                }
                // borg's write raises ConnectionBrokenWithHint on EPIPE
                // (what a create sees when the server dies under it); it
                // re-raises any other OSError.
                if kind == std::io::ErrorKind::BrokenPipe {
                    self.dead = Some(DeadReason::BrokenPipe);
                    return self.check_alive();
                }
                self.dead = Some(DeadReason::Closed);
                return Err(RepositoryError::ConnectionClosed);
            }
            if st.bytes == 0 || st.bytes + msg.len() <= self.buffer_limit.max(1) {
                break;
            }
            st = self
                .queue
                .cond
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        self.tx_bytes += msg.len() as u64;
        st.bytes += msg.len();
        st.queue.push_back(msg);
        drop(st);
        self.queue.cond.notify_all();
        Ok(())
    }

    fn request(&mut self, method: &str, args: Vec<(&str, Value)>) -> Result<u64> {
        let msgid = self.next_msgid();
        let req = Request {
            format: if self.dict_format {
                Format::Dict
            } else {
                Format::Legacy
            },
            msgid,
            method: method.to_string(),
            args: args.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        };
        let mut out = Vec::new();
        encode_request(&req, &mut out);
        self.send(out)?;
        Ok(msgid)
    }

    /// File a reply where it belongs.
    fn dispatch(&mut self, resp: codec::Response) {
        if self.pending_async.remove(&resp.msgid) {
            if let Outcome::Err(e) = resp.outcome {
                self.async_errors.push(e);
            }
        } else if !self.discard.remove(&resp.msgid) {
            self.responses.insert(resp.msgid, resp.outcome);
        }
    }

    fn receive(&mut self, block: bool) -> Result<bool> {
        self.check_alive()?;
        let got = if block {
            match self.replies.recv_timeout(Duration::from_secs(3600 * 24)) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => return Ok(false),
                Err(RecvTimeoutError::Disconnected) => FromReader::Closed,
            }
        } else {
            match self.replies.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) => return Ok(false),
                Err(TryRecvError::Disconnected) => FromReader::Closed,
            }
        };
        match got {
            FromReader::Reply(r) => {
                self.dispatch(r);
                Ok(true)
            }
            FromReader::Closed => {
                self.dead = Some(DeadReason::Closed);
                Err(RepositoryError::ConnectionClosed)
            }
            FromReader::Broken(s) => {
                self.dead = Some(DeadReason::Broken(s.clone()));
                Err(RepositoryError::UnexpectedRpcDataFromServer(s))
            }
            FromReader::Invalid(s) => {
                self.dead = Some(DeadReason::Invalid(s.clone()));
                Err(RepositoryError::InvalidRpcDataFromServer(s))
            }
        }
    }

    fn drain_nonblocking(&mut self) {
        while let Ok(true) = self.receive(false) {}
    }

    fn wait_for(&mut self, msgid: u64) -> Result<Value> {
        loop {
            if let Some(o) = self.responses.remove(&msgid) {
                return match o {
                    Outcome::Ok(v) => Ok(v),
                    Outcome::Err(e) => Err(self.remote_error(e)),
                };
            }
            if let Err(e) = self.receive(true) {
                self.discard.insert(msgid);
                return Err(e);
            }
        }
    }

    fn call(&mut self, method: &str, args: Vec<(&str, Value)>) -> Result<Value> {
        let id = self.request(method, args)?;
        self.wait_for(id)
    }

    /// Raise the first error of an asynchronous request, if any arrived.
    fn raise_async(&mut self) -> Result<()> {
        if self.async_errors.is_empty() {
            return Ok(());
        }
        let e = self.async_errors.remove(0);
        Err(self.remote_error(e))
    }

    /// Wait for every outstanding asynchronous reply, then raise the first
    /// error among them (borg's `async_response(wait=True)` loop).
    fn drain_async(&mut self) -> Result<()> {
        while !self.pending_async.is_empty() {
            self.receive(true)?;
        }
        self.raise_async()
    }

    /// borg's `handle_error`: a remote exception as a local error.
    fn remote_error(&self, e: RemoteException) -> RepositoryError {
        let processed = PathBuf::from(&self.loc.processed);
        let old = e.args.is_none();
        let a0 = |na: &str| {
            if old {
                na.to_string()
            } else {
                e.arg_str(0).unwrap_or_default()
            }
        };
        match e.class.as_str() {
            "Error" | "ErrorWithTraceback" => RepositoryError::RemoteError {
                message: e.arg_str(0).unwrap_or_default(),
                traceback: e.class == "ErrorWithTraceback",
            },
            "InvalidRepository" => RepositoryError::InvalidRepository { path: processed },
            "DoesNotExist" => RepositoryError::DoesNotExist { path: processed },
            "AlreadyExists" => RepositoryError::AlreadyExists { path: processed },
            "CheckNeeded" => RepositoryError::CheckNeeded { path: processed },
            "IntegrityError" => RepositoryError::IntegrityOther(a0("(not available)")),
            "AtticRepository" => RepositoryError::AtticRepository {
                path: PathBuf::from(a0("(not available)")),
            },
            "PathNotAllowed" => RepositoryError::PathNotAllowed {
                path: a0("(unknown)"),
            },
            "PathPermissionDenied" => RepositoryError::PathPermissionDenied {
                path: PathBuf::from(a0("")),
            },
            "PathAlreadyExists" => RepositoryError::PathAlreadyExists {
                path: PathBuf::from(a0("")),
            },
            "ParentPathDoesNotExist" => RepositoryError::ParentPathDoesNotExist {
                path: PathBuf::from(a0("")),
            },
            "ObjectNotFound" => {
                let text = a0("(not available)");
                match hex::decode(&text)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                {
                    Some(id) => RepositoryError::ObjectNotFound {
                        id,
                        path: processed,
                    },
                    None => RepositoryError::RemoteError {
                        message: format!(
                            "Object with key {text} not found in repository {}.",
                            self.loc.processed
                        ),
                        traceback: true,
                    },
                }
            }
            "InvalidRPCMethod" => RepositoryError::InvalidRpcMethod {
                method: a0("(not available)"),
            },
            "LockTimeout" => oxiborg_lock::LockError::Timeout {
                path: PathBuf::from(a0("(not available)")),
            }
            .into(),
            "LockFailed" => oxiborg_lock::LockError::Failed {
                path: PathBuf::from(a0("(not available)")),
                reason: if old {
                    String::new()
                } else {
                    e.arg_str(1).unwrap_or_default()
                },
            }
            .into(),
            "NotLocked" => oxiborg_lock::LockError::NotLocked {
                path: PathBuf::from(a0("(not available)")),
            }
            .into(),
            "NotMyLock" => oxiborg_lock::LockError::NotMyLock {
                path: PathBuf::from(a0("(not available)")),
            }
            .into(),
            "InsufficientFreeSpaceError" => RepositoryError::InsufficientFreeSpace {
                required: e.arg_str(0).unwrap_or_default(),
                available: e.arg_str(1).unwrap_or_default(),
            },
            "InvalidRepositoryConfig" => RepositoryError::InvalidRepositoryConfig {
                path: processed,
                reason: e.arg_str(1).unwrap_or_default(),
            },
            "StorageQuotaExceeded" => RepositoryError::StorageQuotaExceeded {
                quota: e.arg_str(0).unwrap_or_default(),
                used: e.arg_str(1).unwrap_or_default(),
            },
            _ => {
                let message = if e.short.is_empty() {
                    e.class.clone()
                } else {
                    e.short.join("\n")
                };
                let full = if e.full.is_empty() {
                    format!("{message}\nRemote Exception (see remote log for the traceback)")
                } else {
                    e.full.join("\n")
                };
                RepositoryError::RemoteException {
                    class: e.class.clone(),
                    message,
                    full,
                    // A server too old to say is treated as "show it".
                    traceback: e.trace || e.full.is_empty() && e.short.is_empty(),
                }
            }
        }
    }

    fn list_like(
        &mut self,
        method: &str,
        limit: Option<usize>,
        marker: Option<&Id>,
    ) -> Result<Vec<Id>> {
        let v = self.call(
            method,
            vec![
                ("limit", limit.map_or(Value::Nil, |l| Value::int(l as u64))),
                ("marker", marker.map_or(Value::Nil, Value::raw)),
            ],
        )?;
        let arr = v.as_array().ok_or_else(|| {
            RepositoryError::UnexpectedRpcDataFromServer(format!("{method} did not return a list"))
        })?;
        arr.iter()
            .map(|x| {
                id_from(x).ok_or_else(|| {
                    RepositoryError::UnexpectedRpcDataFromServer(format!(
                        "{method} returned a malformed id"
                    ))
                })
            })
            .collect()
    }

    /// Close stdin, wait for the server to exit (killing it after a
    /// while), and join the threads.
    fn shutdown(&mut self) {
        {
            let mut st = lock(&self.queue.state);
            st.closed = true;
        }
        self.queue.cond.notify_all();
        let deadline = Instant::now() + CLOSE_TIMEOUT;
        if let Some(w) = self.writer.take() {
            // A server that stopped reading must not keep us here: past
            // the deadline it is killed, which ends the blocked write.
            while !w.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if !w.is_finished() {
                if let Some(c) = self.child.as_mut() {
                    let _ = c.kill();
                }
            }
            let _ = w.join();
        }
        if let Some(mut child) = self.child.take() {
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }

    fn close_inner(&mut self) -> Result<()> {
        // Replies still due must not be lost silently: an asynchronous
        // error would mean data the caller believes stored is not.
        let pending = if self.dead.is_none() {
            self.drain_async()
        } else {
            Ok(())
        };
        self.shutdown();
        pending
    }
}

impl Drop for RemoteRepository {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Repository for RemoteRepository {
    fn id(&self) -> Id {
        self.id
    }

    fn get(&mut self, id: &Id) -> Result<Vec<u8>> {
        let v = self.call("get", vec![("id", Value::raw(id))])?;
        take_raw(v, "get")
    }

    fn get_many(&mut self, ids: &[Id]) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut inflight = std::collections::VecDeque::with_capacity(MAX_INFLIGHT);
        let mut next = 0;
        let result = (|| {
            while out.len() < ids.len() {
                while next < ids.len() && inflight.len() < MAX_INFLIGHT {
                    let m = self.request("get", vec![("id", Value::raw(ids[next]))])?;
                    inflight.push_back(m);
                    next += 1;
                }
                let Some(m) = inflight.pop_front() else {
                    break;
                };
                let v = self.wait_for(m)?;
                out.push(take_raw(v, "get")?);
            }
            Ok(())
        })();
        if let Err(e) = result {
            // Replies of the requests still in flight are of no use now.
            for m in inflight {
                if self.responses.remove(&m).is_none() {
                    self.discard.insert(m);
                }
            }
            return Err(e);
        }
        Ok(out)
    }

    fn put(&mut self, id: &Id, data: &[u8]) -> Result<()> {
        if *id == MANIFEST_ID {
            // borg writes the manifest synchronously, after every chunk
            // upload has been confirmed.
            self.drain_async()?;
            let msgid = self.next_msgid();
            let mut out = Vec::with_capacity(data.len() + 64);
            if self.dict_format {
                encode_put(msgid, id, data, Some(true), &mut out);
            } else {
                encode_request(&legacy_put(msgid, id, data), &mut out);
            }
            self.send(out)?;
            self.wait_for(msgid)?;
            return Ok(());
        }
        self.raise_async()?;
        let msgid = self.next_msgid();
        let mut out = Vec::with_capacity(data.len() + 64);
        if self.dict_format {
            encode_put(msgid, id, data, None, &mut out);
        } else {
            encode_request(&legacy_put(msgid, id, data), &mut out);
        }
        self.pending_async.insert(msgid);
        self.send(out)?;
        self.drain_nonblocking();
        self.raise_async()
    }

    fn delete(&mut self, id: &Id) -> Result<()> {
        self.raise_async()?;
        let msgid = self.request("delete", vec![("id", Value::raw(id))])?;
        self.pending_async.insert(msgid);
        self.drain_nonblocking();
        self.raise_async()
    }

    fn commit(&mut self, opts: CommitOptions) -> Result<()> {
        self.drain_async()?;
        self.call(
            "commit",
            vec![
                ("save_space", Value::Bool(false)),
                ("compact", Value::Bool(opts.compact)),
                ("threshold", Value::Float(opts.threshold)),
                ("cleanup_commits", Value::Bool(opts.cleanup_commits)),
            ],
        )?;
        Ok(())
    }

    fn rollback(&mut self) -> Result<()> {
        // Errors of uploads being rolled back do not matter any more.
        let drained = self.drain_async();
        self.async_errors.clear();
        if let Err(
            e @ (RepositoryError::ConnectionClosed
            | RepositoryError::ConnectionBrokenWithHint(_)
            | RepositoryError::InvalidRpcDataFromServer(_)
            | RepositoryError::UnexpectedRpcDataFromServer(_)),
        ) = drained
        {
            return Err(e);
        }
        self.call("rollback", vec![])?;
        Ok(())
    }

    fn list(&mut self, limit: Option<usize>, marker: Option<&Id>) -> Result<Vec<Id>> {
        self.list_like("list", limit, marker)
    }

    fn scan(&mut self, limit: Option<usize>, marker: Option<&Id>) -> Result<Vec<Id>> {
        self.require("scan", &[1, 1, 0, -3, 3])?;
        self.list_like("scan", limit, marker)
    }

    fn len(&mut self) -> Result<usize> {
        let v = self.call("__len__", vec![])?;
        v.as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                RepositoryError::UnexpectedRpcDataFromServer("__len__ is not a count".into())
            })
    }

    fn load_key(&mut self) -> Result<Vec<u8>> {
        let v = self.call("load_key", vec![])?;
        match v {
            Value::Nil => Ok(Vec::new()),
            other => take_raw(other, "load_key"),
        }
    }

    fn save_key(&mut self, keydata: &[u8]) -> Result<()> {
        self.call("save_key", vec![("keydata", Value::raw(keydata))])?;
        Ok(())
    }

    fn get_free_nonce(&mut self) -> Result<Option<u64>> {
        let v = self.call("get_free_nonce", vec![])?;
        match v {
            Value::Nil => Ok(None),
            other => other.as_u64().map(Some).ok_or_else(|| {
                RepositoryError::UnexpectedRpcDataFromServer(
                    "get_free_nonce is not a number".into(),
                )
            }),
        }
    }

    fn commit_nonce_reservation(
        &mut self,
        next_unreserved: u64,
        start_nonce: Option<u64>,
    ) -> Result<()> {
        self.call(
            "commit_nonce_reservation",
            vec![
                ("next_unreserved", Value::int(next_unreserved)),
                ("start_nonce", start_nonce.map_or(Value::Nil, Value::int)),
            ],
        )?;
        Ok(())
    }

    fn check(&mut self, repair: bool, max_duration: Option<Duration>) -> Result<bool> {
        let secs = max_duration.map_or(0, |d| d.as_secs());
        if secs != 0 {
            self.require("check max_duration", &[1, 2, 0, -4, 4])?;
        }
        let v = self.call(
            "check",
            vec![
                ("repair", Value::Bool(repair)),
                ("save_space", Value::Bool(false)),
                ("max_duration", Value::int(secs)),
            ],
        )?;
        v.as_bool().ok_or_else(|| {
            RepositoryError::UnexpectedRpcDataFromServer("check did not return a boolean".into())
        })
    }

    fn break_lock(&mut self) -> Result<()> {
        self.call("break_lock", vec![])?;
        Ok(())
    }

    fn close_boxed(mut self: Box<Self>) -> Result<()> {
        self.close_inner()
    }

    fn destroy_boxed(mut self: Box<Self>) -> Result<()> {
        let r = self.call("destroy", vec![]);
        let closed = self.close_inner();
        r?;
        closed
    }
}

fn legacy_put(msgid: u64, id: &[u8], data: &[u8]) -> Request {
    Request {
        format: Format::Legacy,
        msgid,
        method: "put".into(),
        args: vec![
            ("id".into(), Value::raw(id)),
            ("data".into(), Value::raw(data)),
        ],
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn id_from(v: &Value) -> Option<Id> {
    v.as_raw().and_then(|b| <[u8; 32]>::try_from(b).ok())
}

fn take_raw(v: Value, what: &str) -> Result<Vec<u8>> {
    match v {
        Value::Raw(b) => Ok(b),
        _ => Err(RepositoryError::UnexpectedRpcDataFromServer(format!(
            "{what} returned no bytes"
        ))),
    }
}

/// `lock_wait` as borg sends it: an int when whole, else a float.
fn duration_value(d: Duration) -> Value {
    if d.subsec_nanos() == 0 {
        Value::int(d.as_secs())
    } else {
        Value::Float(d.as_secs_f64())
    }
}

/// A short Python-like rendering of a value for error messages.
fn py_repr(v: &Value) -> String {
    match v {
        Value::Nil => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Raw(b) => format!("b{:?}", String::from_utf8_lossy(b)),
        Value::Array(a) => format!("({})", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn writer_loop(q: Arc<SendQueue>, mut stdin: ChildStdin, ratelimit: u64) {
    let mut limiter = RateLimiter::new(ratelimit);
    loop {
        let msg = {
            let mut st = lock(&q.state);
            loop {
                // The message leaves the queue but still counts against
                // the buffer until it is written.
                if let Some(m) = st.queue.pop_front() {
                    break Some(m);
                }
                if st.closed {
                    break None;
                }
                st = q
                    .cond
                    .wait(st)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        let Some(msg) = msg else {
            return; // dropping stdin closes it: the server sees EOF
        };
        let written = limiter.write_all(&mut stdin, &msg);
        let mut st = lock(&q.state);
        st.bytes -= msg.len();
        if let Err(e) = written {
            st.failed = Some(e.kind());
            st.queue.clear();
            st.bytes = 0;
            drop(st);
            q.cond.notify_all();
            return;
        }
        drop(st);
        q.cond.notify_all();
    }
}

/// borg's `SleepingBandwidthLimiter`: at most `rate` bytes per 0.1 s
/// period on average.
struct RateLimiter {
    rate: u64,
    quota: i64,
    next: Instant,
}

const RATELIMIT_PERIOD: Duration = Duration::from_millis(100);

impl RateLimiter {
    fn new(rate: u64) -> Self {
        RateLimiter {
            rate,
            quota: (rate / 10) as i64,
            next: Instant::now() + RATELIMIT_PERIOD,
        }
    }

    fn write_all(&mut self, w: &mut impl Write, mut data: &[u8]) -> std::io::Result<()> {
        if self.rate == 0 {
            return w.write_all(data);
        }
        let per_period = (self.rate / 10).max(1);
        while !data.is_empty() {
            let now = Instant::now();
            if now >= self.next {
                self.quota = per_period as i64;
                self.next = now + RATELIMIT_PERIOD;
            }
            if self.quota <= 0 {
                std::thread::sleep(self.next.saturating_duration_since(now));
                continue;
            }
            let n = data.len().min(self.quota as usize);
            w.write_all(&data[..n])?;
            self.quota -= n as i64;
            data = &data[n..];
        }
        Ok(())
    }
}

fn reader_loop(mut stdout: impl Read, tx: mpsc::Sender<FromReader>) {
    let mut unpacker = Unpacker::with_max_items(MAX_REPLY_ITEMS);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match stdout.read(&mut buf) {
            Ok(0) => {
                let _ = tx.send(FromReader::Closed);
                return;
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => {
                let _ = tx.send(FromReader::Closed);
                return;
            }
        };
        unpacker.feed(&buf[..n]);
        loop {
            match unpacker.next_value() {
                Ok(Some(v)) => match parse_response(v) {
                    Ok(r) => {
                        if tx.send(FromReader::Reply(r)).is_err() {
                            return;
                        }
                    }
                    Err(_) => {
                        let _ = tx.send(FromReader::Broken(describe(&buf[..n])));
                        return;
                    }
                },
                Ok(None) => break,
                // Valid msgpack of the wrong shape is borg's
                // UnexpectedRPCDataFormatFromServer; anything else fails in
                // borg's unpacker.
                Err(CodecError::Format(_)) => {
                    let _ = tx.send(FromReader::Broken(describe(&buf[..n])));
                    return;
                }
                Err(e) => {
                    let head = &buf[..n.min(16)];
                    let _ = tx.send(FromReader::Invalid(format!(
                        "{e} (received: {}{})",
                        hex_bytes(head),
                        if n > head.len() { " ..." } else { "" }
                    )));
                    return;
                }
            }
        }
    }
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// borg's rendering of bad server data: the text if it is UTF-8 (first
/// 128 characters), else hex bytes 16 to a line.
fn describe(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(s) => s.chars().take(128).collect(),
        Err(_) => data[..data.len().min(128)]
            .chunks(16)
            .map(|c| {
                c.iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn stderr_loop(stderr: impl Read, out: &dyn RemoteOutput) {
    let mut r = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        // Lines end at \n or \r (progress displays use \r).
        let mut done = false;
        loop {
            let buf = match r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => &[][..],
            };
            if buf.is_empty() {
                done = true;
                break;
            }
            if let Some(i) = buf.iter().position(|&b| b == b'\n' || b == b'\r') {
                line.extend_from_slice(&buf[..=i]);
                r.consume(i + 1);
                break;
            }
            let n = buf.len();
            line.extend_from_slice(buf);
            r.consume(n);
            if line.len() > 1 << 20 {
                break; // an endless "line": hand it over in pieces
            }
        }
        if !line.is_empty() {
            handle_remote_line(&String::from_utf8_lossy(&line), out);
        }
        if done {
            return;
        }
    }
}

/// borg's `handle_remote_line`.
pub fn handle_remote_line(line: &str, out: &dyn RemoteOutput) {
    if line.starts_with('{') {
        let Ok(msg) = oxiborg_pyjson::parse(line.trim_end()) else {
            out.remote_raw(&format!("Remote: {line}"));
            return;
        };
        let s = |k: &str| match msg.member(k) {
            Some(oxiborg_pyjson::Value::Str(s)) => Some(s.clone()),
            _ => None,
        };
        match s("type").as_deref() {
            Some("log_message") => {
                let level = s("levelname").unwrap_or_else(|| "CRITICAL".into());
                let name = s("name").unwrap_or_else(|| "root".into());
                let m = s("message").unwrap_or_default();
                out.remote_log(&level, &name, &format!("Remote: {m}"));
            }
            Some("progress_message" | "progress_percent") => {
                let m = s("message");
                let line = match &m {
                    Some(m) => {
                        let prefixed = format!("Remote: {m}");
                        replace_json_message(&msg, &prefixed)
                    }
                    None => line.trim_end().to_string(),
                };
                out.remote_progress(&line, m.map(|m| format!("Remote: {m}")).as_deref());
            }
            other => out.remote_log(
                "WARNING",
                "borg.remote",
                &format!(
                    "Dropped remote log message with unknown type {}: {line}",
                    other.map_or("None".to_string(), |t| format!("'{t}'"))
                ),
            ),
        }
    } else if let Some(rest) = line.strip_prefix("$LOG ") {
        let (level, msg) = rest.split_once(' ').unwrap_or((rest, ""));
        if msg.starts_with("Remote:") {
            out.remote_log(level, "root", msg.trim_end());
        } else {
            let (name, msg) = msg.split_once(' ').unwrap_or(("root", msg));
            out.remote_log(level, name, msg.trim_end());
        }
    } else {
        out.remote_raw(&format!("Remote: {line}"));
    }
}

fn replace_json_message(msg: &oxiborg_pyjson::Value, message: &str) -> String {
    match msg {
        oxiborg_pyjson::Value::Object(entries) => {
            let entries = entries
                .iter()
                .map(|(k, v)| {
                    if k == "message" {
                        (k.clone(), oxiborg_pyjson::Value::Str(message.to_string()))
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect();
            oxiborg_pyjson::dump(&oxiborg_pyjson::Value::Object(entries))
        }
        other => oxiborg_pyjson::dump(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Mutex<Vec<String>>);

    impl RemoteOutput for Collect {
        fn remote_log(&self, level: &str, logger: &str, message: &str) {
            lock(&self.0).push(format!("log {level} {logger} {message}"));
        }
        fn remote_progress(&self, json_line: &str, message: Option<&str>) {
            lock(&self.0).push(format!("progress {json_line} {message:?}"));
        }
        fn remote_raw(&self, line: &str) {
            lock(&self.0).push(format!("raw {line}"));
        }
    }

    #[test]
    fn remote_lines_are_forwarded_like_borg() {
        let c = Collect::default();
        handle_remote_line(
            "{\"type\": \"log_message\", \"time\": 1.5, \"message\": \"hi\", \"levelname\": \"WARNING\", \"name\": \"borg.repository\"}\n",
            &c,
        );
        handle_remote_line("$LOG INFO borg.archiver Remote: hello\n", &c);
        handle_remote_line("$LOG ERROR Remote: bare\n", &c);
        handle_remote_line("ssh: connect to host x port 22: Connection refused\n", &c);
        handle_remote_line(
            "{\"type\": \"progress_percent\", \"message\": \"50%\", \"finished\": false}\n",
            &c,
        );
        let got = lock(&c.0).clone();
        assert_eq!(got[0], "log WARNING borg.repository Remote: hi");
        assert_eq!(got[1], "log INFO borg.archiver Remote: hello");
        assert_eq!(got[2], "log ERROR root Remote: bare");
        assert_eq!(
            got[3],
            "raw Remote: ssh: connect to host x port 22: Connection refused\n"
        );
        assert!(
            got[4].contains("\"message\": \"Remote: 50%\""),
            "{}",
            got[4]
        );
    }

    #[test]
    fn command_line_is_ssh_part_then_borg_part() {
        let opts = ClientOptions {
            rsh: vec!["ssh".into(), "-i".into(), "foo".into()],
            remote_path: "borg".into(),
            serve_options: vec!["--info".into()],
            upload_ratelimit: 0,
            upload_buffer: 0,
            env_remove: vec![],
            output: Arc::new(Collect::default()),
        };
        let loc = RemoteLocation {
            user: Some("user".into()),
            host: "example.com".into(),
            port: Some(2222),
            path: "/srv/repo".into(),
            processed: "ssh://user@example.com:2222/srv/repo".into(),
        };
        assert_eq!(
            opts.command_line(&loc),
            [
                "ssh",
                "-i",
                "foo",
                "-p",
                "2222",
                "user@example.com",
                "borg",
                "serve",
                "--info"
            ]
        );
    }

    #[test]
    fn bad_server_data_is_described_like_borg() {
        assert_eq!(describe(b"hello"), "hello");
        assert_eq!(describe(&[0xff, 0x00]), "FF 00");
    }
}
