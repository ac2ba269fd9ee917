//! `serve`: the repository server a borg client starts over ssh
//! (`borg serve`). The RPC loop lives in `oxiborg_remote::server`; this is
//! the process around it: options, `SSH_ORIGINAL_COMMAND`, signals, the
//! standard streams and the exit code.

use std::io::Read;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use oxiborg_cli_args::{Cli, Command, LogLevel, ServeArgs, BORG_COMPAT_VERSION, OXIBORG_VERSION};
use oxiborg_remote::server::{self, Level, ServeError, Server, ServerConfig, ServerLog, Stop};

use super::Ctx;
use crate::exit::{class, error_code, ExitMode};

fn level_of(l: LogLevel) -> Level {
    match l {
        LogLevel::Debug => Level::Debug,
        LogLevel::Info => Level::Info,
        LogLevel::Warning => Level::Warning,
        LogLevel::Error => Level::Error,
        LogLevel::Critical => Level::Critical,
    }
}

/// The level the forced (or direct) command line selected.
fn own_level(ctx: &Ctx) -> Level {
    [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warning,
        LogLevel::Error,
    ]
    .into_iter()
    .find(|l| ctx.logger.shows(*l))
    .map_or(Level::Critical, level_of)
}

/// borg's `get_args` for an ssh forced command: when the client's command
/// (`SSH_ORIGINAL_COMMAND`, leading words with `=` dropped) is also a
/// `serve`, only its allowlisted options (`log_level`, `lock_wait`,
/// `debug_topics`) replace the forced command's; restrictions,
/// append-only, quota and umask always come from the forced command.
/// `Ok(None)`: the client's command changes nothing. `Err`: it does not
/// parse (borg exits with argparse's error, rc 2).
fn client_level(original: &str) -> Result<Option<Level>, String> {
    let words = shlex::split(original).ok_or_else(|| "No closing quotation".to_string())?;
    let mut argv: Vec<String> = words.into_iter().skip_while(|w| w.contains('=')).collect();
    // The program named in a usage error is this one, not the client's
    // first word (`env` for a remote path like `env X=y borg`).
    if let Some(first) = argv.first_mut() {
        *first = "oxiborg".into();
    }
    if argv.len() <= 1 {
        // borg parses its own arguments again: nothing changes.
        return Ok(None);
    }
    match Cli::try_parse_from(&argv) {
        Ok(cli) => Ok(match cli.command {
            Some(Command::Serve(_)) => Some(level_of(cli.common.level())),
            _ => None,
        }),
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.render().to_string()),
    }
}

fn env_nonempty(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// A field of the password database entry of user id `uid`.
fn passwd_home_of_uid(uid: u32) -> Option<PathBuf> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 7 && f[2].parse::<u32>().ok() == Some(uid)).then(|| PathBuf::from(f[5]))
    })
}

/// Python's `os.path.expanduser("~")`: `$HOME` if set, else the password
/// database.
fn home_dir() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h),
        None => passwd_home_of_uid(rustix::process::getuid().as_raw())
            .unwrap_or_else(|| PathBuf::from("/")),
    }
}

/// borg's `get_base_dir()`: `BORG_BASE_DIR`, else `$HOME` (unless it is
/// root's home while not running as root), else the password database.
fn base_dir() -> PathBuf {
    if let Some(b) = env_nonempty("BORG_BASE_DIR") {
        return b;
    }
    let uid = rustix::process::geteuid().as_raw();
    if let Some(home) = env_nonempty("HOME") {
        let root_home = passwd_home_of_uid(0);
        if uid == 0 || root_home.as_deref() != Some(home.as_path()) {
            return home;
        }
    }
    passwd_home_of_uid(uid).unwrap_or_else(home_dir)
}

/// Python's `repr()` of a str.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn proc_text(name: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// borg's `sysinfo()`, sent with every exception (empty with
/// `BORG_SHOW_SYSINFO=no`).
fn sysinfo() -> String {
    let show = std::env::var("BORG_SHOW_SYSINFO").unwrap_or_else(|_| "yes".into());
    if show.to_lowercase() == "no" {
        return String::new();
    }
    let mut info = Vec::new();
    info.push(format!(
        "Platform: {} {} {} {} {}",
        proc_text("ostype"),
        proc_text("hostname"),
        proc_text("osrelease"),
        proc_text("version"),
        std::env::consts::ARCH
    ));
    if cfg!(target_os = "linux") {
        info.push("Linux: Unknown Linux  ".to_string());
    }
    info.push(format!(
        "Borg: {BORG_COMPAT_VERSION}  oxiborg: {OXIBORG_VERSION}"
    ));
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    info.push(format!("PID: {}  CWD: {cwd}", std::process::id()));
    let argv: Vec<String> = std::env::args_os()
        .map(|a| py_repr(&a.to_string_lossy()))
        .collect();
    info.push(format!("sys.argv: [{}]", argv.join(", ")));
    let original = std::env::var_os("SSH_ORIGINAL_COMMAND")
        .map_or_else(|| "None".to_string(), |c| py_repr(&c.to_string_lossy()));
    info.push(format!("SSH_ORIGINAL_COMMAND: {original}"));
    info.push(String::new());
    info.join("\n")
}

/// Which signal ended the session.
#[derive(Default)]
struct Signals {
    term: Arc<AtomicBool>,
    hup: Arc<AtomicBool>,
}

impl Signals {
    fn register() -> Self {
        let s = Signals::default();
        let _ = signal_hook::flag::register(signal_hook::consts::SIGTERM, s.term.clone());
        let _ = signal_hook::flag::register(signal_hook::consts::SIGHUP, s.hup.clone());
        s
    }

    /// borg's message, msgid and exit code for the signal received, if any.
    fn received(&self) -> Option<(&'static str, &'static str, u8)> {
        if self.term.load(Ordering::SeqCst) {
            Some(("Received SIGTERM", "Signal.SIGTERM", 143))
        } else if self.hup.load(Ordering::SeqCst) {
            Some(("Received SIGHUP", "Signal.SIGHUP", 129))
        } else if super::archive::INTERRUPTED.load(Ordering::SeqCst) {
            Some(("Keyboard interrupt", "Signal.SIGINT", 130))
        } else {
            None
        }
    }

    /// The signal received, as the input's error.
    fn stop(&self) -> Option<std::io::Error> {
        self.received().map(|(message, msgid, _)| {
            std::io::Error::other(Stop {
                message: message.into(),
                msgid: msgid.into(),
            })
        })
    }
}

/// stdin read on a thread, so the session notices signals while it waits.
struct SignalAwareStdin<'a> {
    rx: Receiver<std::io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    pos: usize,
    signals: &'a Signals,
}

impl<'a> SignalAwareStdin<'a> {
    fn spawn(signals: &'a Signals) -> Self {
        let (tx, rx) = sync_channel(2);
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            // One buffer for every read: a pipe read returns far less than
            // the buffer, and zeroing 10 MiB per read would dominate.
            let mut buf = vec![0u8; server::READ_SIZE];
            loop {
                let r = match stdin.read(&mut buf) {
                    Ok(n) => Ok(buf[..n].to_vec()),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let end = !matches!(&r, Ok(b) if !b.is_empty());
                if tx.send(r).is_err() || end {
                    return;
                }
            }
        });
        SignalAwareStdin {
            rx,
            pending: Vec::new(),
            pos: 0,
            signals,
        }
    }
}

impl Read for SignalAwareStdin<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.pending.len() {
            if let Some(e) = self.signals.stop() {
                return Err(e);
            }
            let got = self.rx.recv_timeout(Duration::from_millis(200));
            // A signal wins over what arrived with it (the pipes close
            // when the peer goes away).
            if let Some(e) = self.signals.stop() {
                return Err(e);
            }
            match got {
                Ok(Ok(data)) if data.is_empty() => return Ok(0),
                Ok(Ok(data)) => {
                    self.pending = data;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// `serve`: answer one client on stdin/stdout until it closes stdin.
pub fn run(ctx: &Ctx, args: &ServeArgs) -> anyhow::Result<u8> {
    let mode = ExitMode::from_env_value(std::env::var("BORG_EXIT_CODES").ok().as_deref());
    let mut level = own_level(ctx);
    if let Some(original) = std::env::var_os("SSH_ORIGINAL_COMMAND") {
        match client_level(&original.to_string_lossy()) {
            Ok(Some(l)) => level = l,
            Ok(None) => {}
            Err(usage) => {
                eprint!("{usage}");
                return Ok(2);
            }
        }
    }
    let cwd = std::env::current_dir()?;
    let cfg = ServerConfig {
        restrict_to_paths: args.restrict_to_paths.clone(),
        restrict_to_repositories: args.restrict_to_repositories.clone(),
        append_only: args.append_only,
        storage_quota: args.storage_quota,
        base_dir: base_dir(),
        home: home_dir(),
        cwd,
        process: crate::env::process_id(),
        sysinfo: sysinfo(),
    };
    let log = Arc::new(ServerLog::new(
        Box::new(std::io::stderr()),
        level,
        ctx.logger.json(),
    ));
    let signals = Signals::register();
    let mut input = SignalAwareStdin::spawn(&signals);
    // Unbuffered: each batch of replies is one write.
    let mut output = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    let mut server = Server::new(cfg, log.clone());
    match server::serve(&mut server, &mut input, &mut output) {
        Ok(()) => Ok(0),
        Err(ServeError::UnexpectedData { .. }) => {
            Ok(error_code(class::UNEXPECTED_RPC_DATA_FROM_CLIENT, mode))
        }
        Err(_) => Ok(signals.received().map_or(2, |(_, _, rc)| rc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_command_that_does_not_parse_names_oxiborg() {
        let err = client_level("env X=1 /usr/bin/borg serve --umask=077").unwrap_err();
        assert!(err.contains("unrecognized subcommand 'X=1'"), "{err}");
        assert!(err.contains("Usage: oxiborg "), "{err}");
        assert!(matches!(
            client_level("X=1 borg serve --umask=077 --info"),
            Ok(Some(Level::Info))
        ));
        assert!(matches!(client_level("borg list /"), Ok(None)));
    }
}
