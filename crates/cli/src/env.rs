//! Everything the CLI reads from the environment, in one place: borg's
//! directories, passphrase sources, the lock identity and prompt answers.

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::process::Command;

use oxiborg_core::{BorgDirs, CoreError, PassphraseSource};

fn var(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

fn nonempty(name: &str) -> Option<PathBuf> {
    var(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// borg's `get_base_dir`, `get_config_dir`, `get_keys_dir`,
/// `get_security_dir`, `get_cache_dir`.
pub fn borg_dirs() -> BorgDirs {
    let base_set = nonempty("BORG_BASE_DIR");
    let base = base_set
        .clone()
        .or_else(|| nonempty("HOME"))
        .unwrap_or_else(|| PathBuf::from("/"));
    let config = nonempty("BORG_CONFIG_DIR").unwrap_or_else(|| {
        match (&base_set, nonempty("XDG_CONFIG_HOME")) {
            (None, Some(x)) => x.join("borg"),
            _ => base.join(".config/borg"),
        }
    });
    let cache = nonempty("BORG_CACHE_DIR").unwrap_or_else(|| {
        match (&base_set, nonempty("XDG_CACHE_HOME")) {
            (None, Some(x)) => x.join("borg"),
            _ => base.join(".cache/borg"),
        }
    });
    BorgDirs {
        keys_dir: nonempty("BORG_KEYS_DIR").unwrap_or_else(|| config.join("keys")),
        security_dir: nonempty("BORG_SECURITY_DIR").unwrap_or_else(|| config.join("security")),
        cache_dir: cache,
        key_file: nonempty("BORG_KEY_FILE").map(|p| std::path::absolute(&p).unwrap_or(p)),
    }
}

/// This process's lock identity: `BORG_HOST_ID`, else borg's default.
pub fn process_id() -> oxiborg_lock::ProcessId {
    let host = var("BORG_HOST_ID")
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_else(oxiborg_lock::host_id);
    oxiborg_lock::ProcessId::current(host)
}

/// Passphrases from `BORG_PASSPHRASE`, `BORG_PASSCOMMAND`,
/// `BORG_PASSPHRASE_FD`, `BORG_NEW_PASSPHRASE`, or the terminal.
#[derive(Debug, Default)]
pub struct EnvPassphrase {
    fd_used: Option<String>,
}

fn no_passphrase() -> CoreError {
    let mut why = String::from("stdin is not a terminal and no passphrase was given");
    if var("BORG_PASSPHRASE").is_none() && var("BORG_PASSCOMMAND").is_none() {
        why.push_str(" (BORG_PASSPHRASE and BORG_PASSCOMMAND are not set)");
    }
    CoreError::NoPassphrase(why)
}

impl EnvPassphrase {
    fn passcommand(cmd: &str) -> Result<String, CoreError> {
        let argv = shlex::split(cmd)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| CoreError::Passcommand(format!("cannot parse {cmd:?}")))?;
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .env_remove("BORG_PASSPHRASE")
            .env("BORG_VERSION", oxiborg_cli_args::BORG_COMPAT_VERSION)
            .output()
            .map_err(|e| CoreError::Passcommand(format!("{cmd}: {e}")))?;
        if !out.status.success() {
            return Err(CoreError::Passcommand(format!("{cmd}: {}", out.status)));
        }
        let s = String::from_utf8_lossy(&out.stdout).into_owned();
        Ok(s.trim_end_matches('\n').to_string())
    }

    fn prompt_tty(prompt: &str) -> Result<String, CoreError> {
        rpassword::prompt_password(prompt).map_err(|_| no_passphrase())
    }
}

impl PassphraseSource for EnvPassphrase {
    fn env_passphrase(&mut self) -> Result<Option<String>, CoreError> {
        if let Some(p) = var("BORG_PASSPHRASE") {
            return Ok(Some(p.to_string_lossy().into_owned()));
        }
        if let Some(cmd) = var("BORG_PASSCOMMAND") {
            return Self::passcommand(&cmd.to_string_lossy()).map(Some);
        }
        if let Some(p) = &self.fd_used {
            return Ok(Some(p.clone()));
        }
        if let Some(fd) =
            var("BORG_PASSPHRASE_FD").and_then(|v| v.to_string_lossy().trim().parse::<u32>().ok())
        {
            // Read the inherited descriptor through /dev/fd, without unsafe.
            let mut s = String::new();
            std::fs::File::open(format!("/dev/fd/{fd}"))
                .and_then(|mut f| f.read_to_string(&mut s))
                .map_err(|e| CoreError::NoPassphrase(format!("BORG_PASSPHRASE_FD={fd}: {e}")))?;
            let p = s.trim_end_matches('\n').to_string();
            self.fd_used = Some(p.clone());
            return Ok(Some(p));
        }
        Ok(None)
    }

    fn prompt(&mut self, prompt: &str) -> Result<String, CoreError> {
        Self::prompt_tty(prompt)
    }

    fn new_passphrase(&mut self) -> Result<String, CoreError> {
        if let Some(p) = var("BORG_NEW_PASSPHRASE") {
            return Ok(p.to_string_lossy().into_owned());
        }
        if let Some(p) = self.env_passphrase()? {
            return Ok(p);
        }
        for _ in 0..10 {
            let a = Self::prompt_tty("Enter new passphrase: ")?;
            let b = Self::prompt_tty("Enter same passphrase again: ")?;
            if a == b {
                return Ok(a);
            }
            eprintln!("Passphrases do not match");
        }
        Err(CoreError::PasswordRetriesExceeded)
    }
}

/// borg's `yes()` for a `*_I_KNOW_WHAT_I_AM_DOING` variable: only `YES` from
/// the environment or typed at the terminal counts.
pub fn confirm_dangerous(env: &str, message: &str) -> bool {
    // borg's `yes()`: the prompt, then the answer taken from the
    // environment on the same line.
    eprint!("{message}\nType 'YES' if you understand this and want to continue: ");
    if let Some(v) = var(env) {
        let v = v.to_string_lossy().into_owned();
        eprintln!("{v} (from {env})");
        return v == "YES";
    }
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && answer.trim_end_matches(['\r', '\n']) == "YES"
}

/// borg's confirmation before deleting a whole repository
/// (`BORG_DELETE_I_KNOW_WHAT_I_AM_DOING`).
pub fn confirm_delete(message: &str) -> bool {
    confirm_dangerous("BORG_DELETE_I_KNOW_WHAT_I_AM_DOING", message)
}
