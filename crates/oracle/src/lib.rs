//! The single place where tests find the real borg they are compared against.
//!
//! * borg 1.4.5 lives in a venv built by `cargo xtask oracle` under
//!   `<workspace>/target/oracle/venv` (override with `OXIBORG_ORACLE_VENV`).
//! * borg 1.2.x is Debian's `borgbackup` package, `/usr/bin/borg`
//!   (override with `OXIBORG_BORG12`).
//!
//! When `CI=true`, a missing or wrong oracle panics: the test fails, it is
//! never skipped. Outside CI a test may skip with [`require_oracle!`], which
//! prints why.
#![allow(clippy::print_stderr)]

pub mod sshd;

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Which real borg a command should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Borg {
    /// borg 1.4.5 from PyPI, in the xtask venv.
    V14,
    /// borg 1.2.x from Debian.
    V12,
}

/// The located oracle binaries.
#[derive(Debug)]
pub struct Oracle {
    venv: PathBuf,
    borg12: PathBuf,
    /// `borg --version` output of the 1.2 binary, e.g. `borg 1.2.4`.
    pub borg12_version: String,
}

/// Whether this run is CI (`CI=true`), where a missing oracle is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

fn workspace_root() -> PathBuf {
    // crates/oracle -> workspace root
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn locate() -> Result<Oracle, String> {
    let venv = std::env::var_os("OXIBORG_ORACLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/oracle/venv"));
    let borg14 = venv.join("bin/borg");
    let v14 = version_of(&borg14)?;
    if v14.trim() != "borg 1.4.5" {
        return Err(format!(
            "{} reports {:?}, expected borg 1.4.5",
            borg14.display(),
            v14.trim()
        ));
    }
    let borg12 = std::env::var_os("OXIBORG_BORG12")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/borg"));
    let v12 = version_of(&borg12)?;
    if !v12.trim().starts_with("borg 1.2.") {
        return Err(format!(
            "{} reports {:?}, expected borg 1.2.x",
            borg12.display(),
            v12.trim()
        ));
    }
    Ok(Oracle {
        venv,
        borg12,
        borg12_version: v12.trim().to_string(),
    })
}

fn version_of(bin: &Path) -> Result<String, String> {
    let out = Command::new(bin).arg("--version").output().map_err(|e| {
        format!(
            "cannot run {}: {e} (run `cargo xtask oracle`)",
            bin.display()
        )
    })?;
    if !out.status.success() {
        return Err(format!(
            "{} --version failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

static ORACLE: OnceLock<Result<Oracle, String>> = OnceLock::new();

/// The oracle, or `None` (with the reason printed) when it is missing outside CI.
///
/// # Panics
/// When `CI=true` and the oracle is missing or has the wrong version.
pub fn get() -> Option<&'static Oracle> {
    match ORACLE.get_or_init(locate) {
        Ok(o) => Some(o),
        Err(why) if in_ci() => panic!("real borg oracle missing (CI or cargo xtask test): {why}"),
        Err(why) => {
            eprintln!("SKIPPED (no borg oracle outside CI): {why}");
            None
        }
    }
}

/// Get the oracle or return early from the test (outside CI only).
#[macro_export]
macro_rules! require_oracle {
    () => {
        match $crate::get() {
            Some(o) => o,
            None => return,
        }
    };
}

impl Oracle {
    /// Path of the borg 1.4.5 executable.
    pub fn borg14(&self) -> PathBuf {
        self.venv.join("bin/borg")
    }

    /// Path of the borg 1.2.x executable.
    pub fn borg12(&self) -> &Path {
        &self.borg12
    }

    /// The Python interpreter of the 1.4.5 venv (imports `borg.*`).
    pub fn python(&self) -> PathBuf {
        self.venv.join("bin/python")
    }

    /// Run `script` with the venv's Python (which can `import borg`), feeding
    /// `stdin`; returns stdout. Panics with the script's stderr on failure.
    pub fn run_python(&self, script: &str, stdin: &[u8]) -> Vec<u8> {
        let out = self.python_output(script, stdin, std::iter::empty::<&str>());
        if !out.status.success() {
            panic!(
                "oracle python failed ({}):\n{}\n--- script ---\n{script}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.stdout
    }

    /// Like [`Oracle::run_python`] but with arguments, returning the whole output.
    pub fn python_output<I, S>(&self, script: &str, stdin: &[u8], args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        // Never let borg's Python touch the real home (security dir, cache).
        let home = std::env::temp_dir().join(format!("oxiborg-oracle-home-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&home);
        let mut cmd = Command::new(self.python());
        isolate_env(&mut cmd, &home);
        let mut child = cmd
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn oracle python");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            // The script may exit before reading everything; ignore EPIPE.
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().expect("wait oracle python");
        writer.join().expect("stdin writer");
        out
    }

    /// A `Command` running real borg with an isolated environment rooted at
    /// `base`: config, cache, keys and security directories all live below it,
    /// and no BORG_* variable of the caller leaks in.
    pub fn borg(&self, which: Borg, base: &Path) -> Command {
        let bin = match which {
            Borg::V14 => self.borg14(),
            Borg::V12 => self.borg12.clone(),
        };
        let mut cmd = Command::new(bin);
        isolate_env(&mut cmd, base);
        cmd
    }
}

/// Clear every BORG_* variable and point borg's directories below `base`.
/// Shared by the oracle and by tests that run oxiborg itself, so both tools
/// see the same home, keys and security directories.
pub fn isolate_env(cmd: &mut Command, base: &Path) {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("BORG_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("BORG_BASE_DIR", base)
        .env("HOME", base)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes")
        .env("BORG_RELOCATED_REPO_ACCESS_IS_OK", "yes")
        .env("BORG_CHECK_I_KNOW_WHAT_I_AM_DOING", "YES")
        .env("BORG_DELETE_I_KNOW_WHAT_I_AM_DOING", "YES")
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8");
}
