//! `cargo xtask fuzz [--secs N] [--target NAME]`: build a fuzz target of
//! `fuzz/` and run it.
//!
//! Only stable Rust is available, so cargo-fuzz's nightly route
//! (`-Zsanitizer=address`) is out. What libFuzzer needs from the compiler is
//! the sanitizer-coverage instrumentation, and that is reachable on stable
//! through LLVM's pass and its options (`-Cpasses=sancov-module`,
//! `-Cllvm-args=-sanitizer-coverage-*`): the same flags `cargo fuzz build
//! --sanitizer none` passes. libfuzzer-sys compiles libFuzzer itself with
//! the C++ compiler. Without ASan, memory errors are not detected, but the
//! crate forbids `unsafe`, so the fuzzer looks for panics, broken
//! invariants (the checks in `oxiborg_remote::fuzzing`), hangs and memory
//! blow-ups (`-rss_limit_mb`).
//!
//! The build goes to `$CARGO_TARGET_DIR/fuzz` (else `fuzz/target`) for the
//! host triple, so build scripts and proc macros are not instrumented. New
//! corpus entries go to `<target dir>/corpus/<target>`; the checked-in seeds
//! in `fuzz/corpus/<target>` are only read. A crash is saved under
//! `<target dir>/artifacts/` and fails the task.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::cargo;

/// The coverage flags of `cargo fuzz build --sanitizer none`.
const RUSTFLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "--cfg",
    "fuzzing",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut secs: u64 = 60;
    let mut target = "rpc_codec".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--secs" => {
                secs = it
                    .next()
                    .context("--secs needs a number")?
                    .parse()
                    .context("--secs needs a number")?
            }
            "--target" => target = it.next().context("--target needs a name")?.clone(),
            other => bail!("cargo xtask fuzz: unknown argument {other:?}"),
        }
    }
    let fuzz_dir = root.join("fuzz");
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| PathBuf::from(d).join("fuzz"))
        .unwrap_or_else(|| fuzz_dir.join("target"));
    let triple = host_triple()?;
    eprintln!("xtask: building fuzz target {target} for {triple}");
    crate::run(
        cargo()
            .current_dir(&fuzz_dir)
            .args(["build", "--release", "--bin", &target, "--target", &triple])
            .arg("--target-dir")
            .arg(&target_dir)
            .env("RUSTFLAGS", RUSTFLAGS.join(" "))
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env("CARGO_INCREMENTAL", "0"),
    )?;
    let bin = target_dir.join(&triple).join("release").join(&target);
    let corpus = target_dir.join("corpus").join(&target);
    let artifacts = target_dir.join("artifacts").join(&target);
    std::fs::create_dir_all(&corpus)?;
    std::fs::create_dir_all(&artifacts)?;
    let seeds = fuzz_dir.join("corpus").join(&target);
    eprintln!(
        "xtask: fuzzing {target} for {secs}s (seeds {})",
        seeds.display()
    );
    let status = Command::new(&bin)
        .arg(format!("-max_total_time={secs}"))
        .arg("-max_len=16384")
        .arg("-rss_limit_mb=1024")
        .arg("-timeout=20")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&corpus)
        .arg(&seeds)
        .status()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    if !status.success() {
        bail!(
            "fuzz target {target} failed ({status}); the input is in {}",
            artifacts.display()
        );
    }
    Ok(())
}

fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .context("cannot run rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("rustc -vV names no host")
}
