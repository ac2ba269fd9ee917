//! Project automation: `cargo xtask <task>`.
//!
//! * `oracle`: install the real borg oracle (borg 1.4.5 from PyPI in a venv,
//!   Debian's borg 1.2.x) and the system packages the tests need. Idempotent.
//! * `test`: `oracle`, then format, lint and generated-file checks, then the
//!   whole test suite with the oracle mandatory. This is what CI runs.
//! * `bench`: run oxiborg and real borg 1.4.5 on the same work in one run and
//!   print the ratios.
//! * `completions [--check]`: (re)generate or verify `completions/`.
//! * `fuzz [--secs N]`: build the `rpc_codec` fuzz target (`fuzz/`) with
//!   libFuzzer on stable Rust and run it for N seconds (default 60).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod fuzz;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// The borg release the oracle venv holds.
const BORG_VERSION: &str = "1.4.5";

/// Debian packages: borg's build dependencies (for the PyPI build), Debian's
/// own borg 1.2.x, and what the test suites use.
const APT_PACKAGES: &[&str] = &[
    "openssh-server",
    "openssh-client",
    "libssl-dev",
    "libacl1-dev",
    "liblz4-dev",
    "libzstd-dev",
    "libxxhash-dev",
    "pkg-config",
    "python3-venv",
    "python3-dev",
    "build-essential",
    "borgbackup",
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("oracle") => oracle(&root),
        Some("test") => test(&root, &args[1..]),
        Some("bench") => bench::run(&root),
        Some("completions") => completions(&root, args.iter().any(|a| a == "--check")),
        Some("fuzz") => fuzz::run(&root, &args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <oracle | test [cargo test args] | bench | completions [--check] | fuzz [--secs N]>");
            std::process::exit(2);
        }
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub(crate) fn venv_dir(root: &Path) -> PathBuf {
    std::env::var_os("OXIBORG_ORACLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/oracle/venv"))
}

/// Run a command, failing with its full command line when it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn output_of(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn dpkg_installed(pkg: &str) -> bool {
    output_of(Command::new("dpkg-query").args(["-W", "-f=${Status}", pkg]))
        .is_some_and(|s| s.ends_with("install ok installed"))
}

fn is_root() -> bool {
    output_of(Command::new("id").arg("-u")).as_deref() == Some("0")
}

/// Install missing Debian packages (needs root).
pub(crate) fn apt_install(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !dpkg_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing Debian packages {missing:?}; run as root or install them: apt-get install {}",
            missing.join(" ")
        );
    }
    eprintln!("xtask: installing Debian packages: {}", missing.join(" "));
    run(Command::new("apt-get")
        .arg("update")
        .arg("-qq")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Install the oracle: Debian packages, then borg 1.4.5 into the venv.
fn oracle(root: &Path) -> Result<()> {
    let started = Instant::now();
    apt_install(APT_PACKAGES)?;
    let borg12 = output_of(Command::new("/usr/bin/borg").arg("--version")).unwrap_or_default();
    if !borg12.starts_with("borg 1.2.") {
        bail!("Debian's borgbackup should provide borg 1.2.x at /usr/bin/borg, found {borg12:?}");
    }
    let venv = venv_dir(root);
    let borg14 = venv.join("bin/borg");
    let want = format!("borg {BORG_VERSION}");
    if output_of(Command::new(&borg14).arg("--version")).as_deref() != Some(want.as_str()) {
        eprintln!(
            "xtask: building borg {BORG_VERSION} from PyPI into {}",
            venv.display()
        );
        if !venv.join("bin/python").exists() {
            std::fs::create_dir_all(venv.parent().expect("venv has a parent"))?;
            // Prefer the machine's python3; Debian's is the fallback.
            let made = run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
            if made.is_err() {
                let _ = std::fs::remove_dir_all(&venv);
                run(Command::new("/usr/bin/python3")
                    .arg("-m")
                    .arg("venv")
                    .arg(&venv))?;
            }
        }
        let pip = venv.join("bin/pip");
        run(Command::new(&pip).args(["install", "-q", "--upgrade", "pip"]))?;
        run(Command::new(&pip).args(["install", "-q", &format!("borgbackup=={BORG_VERSION}")]))?;
        let got = output_of(Command::new(&borg14).arg("--version")).unwrap_or_default();
        if got != want {
            bail!(
                "after install, {} reports {got:?}, expected {want:?}",
                borg14.display()
            );
        }
    }
    eprintln!(
        "xtask: oracle ready ({want}, {borg12}) in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The full check CI runs.
fn test(root: &Path, extra: &[String]) -> Result<()> {
    let started = Instant::now();
    oracle(root)?;
    step("cargo fmt --check", || {
        run(cargo().current_dir(root).args(["fmt", "--all", "--check"]))
    })?;
    step("completions --check", || completions(root, true))?;
    step("cargo clippy", || {
        run(cargo().current_dir(root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    step("cargo test", || {
        run(cargo()
            .current_dir(root)
            .args(["test", "--workspace", "--no-fail-fast"])
            .args(extra)
            // The oracle was just installed: a test that cannot find it fails.
            .env("OXIBORG_ORACLE_REQUIRED", "1"))
    })?;
    eprintln!(
        "xtask: all checks passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    let t = Instant::now();
    eprintln!("xtask: == {name}");
    f().with_context(|| format!("step `{name}` failed"))?;
    eprintln!("xtask: == {name}: ok ({:.0}s)", t.elapsed().as_secs_f64());
    Ok(())
}

/// Generate bash, zsh and fish completions from the CLI definitions, or check
/// that the checked-in ones are current.
fn completions(root: &Path, check: bool) -> Result<()> {
    use clap_complete::{generate, Shell};
    let dir = root.join("completions");
    let mut stale = Vec::new();
    for (shell, file) in [
        (Shell::Bash, "oxiborg.bash"),
        (Shell::Zsh, "_oxiborg"),
        (Shell::Fish, "oxiborg.fish"),
    ] {
        let mut buf = Vec::new();
        generate(shell, &mut oxiborg_cli_args::command(), "oxiborg", &mut buf);
        let path = dir.join(file);
        if check {
            if std::fs::read(&path).ok().as_deref() != Some(buf.as_slice()) {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(&path, &buf).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if !stale.is_empty() {
        bail!(
            "completions are out of date: {}; run `cargo xtask completions`",
            stale.join(", ")
        );
    }
    Ok(())
}
