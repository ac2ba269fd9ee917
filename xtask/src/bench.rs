//! `cargo xtask bench`: oxiborg against real borg 1.4.5, same work, one run.
//!
//! * `cargo xtask bench` (or `bench cpu`): the CPU-bound primitives.
//!   `oxiborg benchmark cpu` is run beside a Python program that times the
//!   same operations through borg 1.4.5's own modules (borg 1.4 has no
//!   `benchmark cpu`; its layout is borg 2's).
//! * `cargo xtask bench archive [--quick] [--mixed-mib N] [--system DIR]
//!   [--only mixed|system|crud] [--no-drop-caches] [--keep]`: whole archive
//!   operations on two corpora (see [`run_archive`]). It takes about ten
//!   minutes, so plain `bench` does not run it.
//!
//! The ratio column is borg's time divided by oxiborg's: above 1 means
//! oxiborg is faster.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// Times the same operations as `oxiborg benchmark cpu`, with borg 1.4.5's
/// modules, printing lines in the same layout.
const BORG_CPU_SCRIPT: &str = r#"
import io, os
from timeit import timeit
from borg.chunker import get_chunker
from borg.algorithms.checksums import crc32, xxh64
from borg.crypto.low_level import hmac_sha256, blake2b_256, AES256_CTR_HMAC_SHA256, AES256_CTR_BLAKE2b
from borg.crypto.key import Passphrase
from borg.compress import CompressionSpec
from borg.helpers import msgpack
from borg.item import Item

random_10M = os.urandom(10 * 1000 * 1000)
key_256 = os.urandom(32)

def chunkit(name, *args, **kw):
    with io.BytesIO(random_10M) as f:
        for _ in get_chunker(name, *args, **kw).chunkify(fd=f):
            pass

print("Chunkers =======================================================")
for spec, func in [
    ("buzhash,19,23,21,4095", lambda: chunkit("buzhash", 19, 23, 21, 4095, seed=0)),
    ("fixed,1048576", lambda: chunkit("fixed", 1048576, sparse=False)),
]:
    print(f"{spec:<24} {'1GB':<10} {timeit(func, number=100):.3f}s")
print("Non-cryptographic checksums / hashes ===========================")
for spec, func in [("xxh64", lambda: xxh64(random_10M)), ("crc32 (zlib)", lambda: crc32(random_10M))]:
    print(f"{spec:<24} {'1GB':<10} {timeit(func, number=100):.3f}s")
print("Cryptographic hashes / MACs ====================================")
for spec, func in [
    ("hmac-sha256", lambda: hmac_sha256(key_256, random_10M)),
    ("blake2b-256", lambda: blake2b_256(key_256 * 4, random_10M)),
]:
    print(f"{spec:<24} {'1GB':<10} {timeit(func, number=100):.3f}s")
print("Encryption =====================================================")
for spec, func in [
    ("aes-256-ctr-hmac-sha256", lambda: AES256_CTR_HMAC_SHA256(key_256, key_256, iv=0, header_len=1, aad_offset=1).encrypt(random_10M, header=b"X")),
    ("aes-256-ctr-blake2b", lambda: AES256_CTR_BLAKE2b(key_256 * 4, key_256, iv=0, header_len=1, aad_offset=1).encrypt(random_10M, header=b"X")),
]:
    print(f"{spec:<24} {'1GB':<10} {timeit(func, number=100):.3f}s")
print("KDFs (slow is GOOD) ============================================")
print(f"{'pbkdf2':<24} {5:<10} {timeit(lambda: Passphrase('mypassphrase').kdf(b'salt' * 8, 100000, 32), number=5):.3f}s")
print("Compression ====================================================")
for spec in ["lz4", "zstd,1", "zstd,3", "zstd,5", "zstd,10", "zstd,16", "zstd,22",
             "zlib,0", "zlib,6", "zlib,9", "lzma,0", "lzma,6", "lzma,9"]:
    c = CompressionSpec(spec).compressor
    print(f"{spec:<12} {'0.1GB':<10} {timeit(lambda: c.compress(random_10M), number=10):.3f}s")
print("msgpack ========================================================")
items = [Item(path="/foo/bar/baz", mode=660, mtime=1234567).as_dict()] * 1000
print(f"{'msgpack':<12} {'100k Items':<10} {timeit(lambda: msgpack.packb(items), number=100):.3f}s")
"#;

/// Lines `name  size  seconds` keyed by name (the text before the first run
/// of two spaces), in seconds.
fn parse(output: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in output.lines() {
        let Some(secs) = line
            .split_whitespace()
            .last()
            .and_then(|t| t.strip_suffix('s'))
        else {
            continue;
        };
        let Ok(secs) = secs.parse::<f64>() else {
            continue;
        };
        if let Some((name, _)) = line.split_once("  ") {
            out.insert(name.trim().to_string(), secs);
        }
    }
    out
}

/// `cargo xtask bench [cpu | archive ...]`: the words after `bench` pick the
/// benchmark.
pub fn run(root: &Path) -> Result<()> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    match args.first().map(String::as_str) {
        None | Some("cpu") => run_cpu(root),
        Some("archive") => run_archive(root, &args[1..]),
        Some(other) => bail!(
            "unknown benchmark {other:?}: use `cargo xtask bench [cpu | archive [--quick] \
             [--mixed-mib N] [--system DIR] [--only mixed|system|crud] [--no-drop-caches] [--keep]]`"
        ),
    }
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` (relative to the
/// workspace) or `<workspace>/target`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => root.join(d),
        None => root.join("target"),
    }
}

fn run_cpu(root: &Path) -> Result<()> {
    crate::run(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(root)
            .args(["build", "--release", "-p", "oxiborg"]),
    )?;
    let python = crate::venv_dir(root).join("bin/python");
    if !python.exists() {
        bail!(
            "no borg oracle at {}; run `cargo xtask oracle` first",
            python.display()
        );
    }

    eprintln!("xtask: running `oxiborg benchmark cpu` ...");
    let ours =
        capture(Command::new(target_dir(root).join("release/oxiborg")).args(["benchmark", "cpu"]))?;
    eprintln!("xtask: running the same operations through borg 1.4.5 ...");
    let theirs = capture(Command::new(&python).arg("-c").arg(BORG_CPU_SCRIPT))?;
    let (ours, theirs) = (parse(&ours), parse(&theirs));

    println!(
        "{:<26} {:>12} {:>12} {:>9}",
        "operation", "oxiborg", "borg 1.4.5", "ratio"
    );
    for (name, borg) in &theirs {
        match ours.get(name) {
            Some(&ox) if ox > 0.0 => {
                println!("{name:<26} {ox:>11.3}s {borg:>11.3}s {:>8.2}x", borg / ox);
            }
            _ => println!("{name:<26} {:>12} {borg:>11.3}s {:>9}", "missing", "-"),
        }
    }
    if let (Some(ox), Some(b)) = (
        ours.get("buzhash,19,23,21,4095"),
        theirs.get("buzhash,19,23,21,4095"),
    ) {
        println!(
            "\nbuzhash chunker throughput: oxiborg {:.2} GB/s, borg {:.2} GB/s",
            1.0 / ox,
            1.0 / b
        );
    }
    Ok(())
}

fn capture(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {shown}"))?;
    if !out.status.success() {
        bail!("{shown} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

// ---------------------------------------------------------------------------
// `cargo xtask bench archive`
// ---------------------------------------------------------------------------

/// The passphrase both tools get through BORG_PASSPHRASE.
const BENCH_PASSPHRASE: &str = "oxiborg-bench";

/// Bumped whenever the mixed corpus generator changes, so old corpora are
/// rebuilt rather than reused.
const CORPUS_VERSION: &str = "oxiborg mixed corpus v1";

#[derive(Debug, Clone)]
struct ArchiveOpts {
    /// Small corpora and borg's tiny `benchmark crud` test mode: checks the
    /// harness in about a minute.
    quick: bool,
    mixed_mib: u64,
    system: PathBuf,
    only: Vec<String>,
    drop_caches: bool,
    keep: bool,
}

fn parse_archive_args(args: &[String]) -> Result<ArchiveOpts> {
    let mut o = ArchiveOpts {
        quick: false,
        mixed_mib: 1024,
        system: PathBuf::from("/usr/share"),
        only: Vec::new(),
        drop_caches: true,
        keep: false,
    };
    let mut mixed_set = false;
    let mut system_set = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .with_context(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--quick" => o.quick = true,
            "--mixed-mib" => {
                o.mixed_mib = value()?.parse().context("--mixed-mib takes a number")?;
                mixed_set = true;
            }
            "--system" => {
                o.system = PathBuf::from(value()?);
                system_set = true;
            }
            "--only" => {
                let v = value()?;
                if !["mixed", "system", "crud", "remote"].contains(&v.as_str()) {
                    bail!("--only takes mixed, system, crud or remote, not {v:?}");
                }
                o.only.push(v);
            }
            "--no-drop-caches" => o.drop_caches = false,
            "--keep" => o.keep = true,
            other => bail!("unknown `bench archive` option {other:?}"),
        }
    }
    if o.quick {
        if !mixed_set {
            o.mixed_mib = 64;
        }
        if !system_set {
            o.system = PathBuf::from("/usr/share/doc");
        }
    }
    if o.mixed_mib == 0 {
        bail!("--mixed-mib must be at least 1");
    }
    Ok(o)
}

impl ArchiveOpts {
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == part)
    }
}

/// The two tools, run on the same work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Oxiborg,
    Borg,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Oxiborg => "oxiborg",
            Tool::Borg => "borg",
        }
    }
}

/// One timed command.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Measure {
    /// Wall-clock seconds.
    secs: f64,
    /// User + system CPU seconds (from /usr/bin/time).
    cpu: Option<f64>,
    /// Peak resident set size in KiB (from /usr/bin/time).
    rss_kib: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Done(Measure),
    Failed,
    Skipped,
}

impl Outcome {
    fn measure(&self) -> Option<&Measure> {
        match self {
            Outcome::Done(m) => Some(m),
            _ => None,
        }
    }
}

/// A row of the result table.
#[derive(Debug)]
struct Row {
    label: String,
    /// Bytes processed, for MB/s.
    bytes: Option<u64>,
    ox: Outcome,
    borg: Outcome,
}

/// The binaries and the helpers the measurements use.
#[derive(Debug)]
struct Bench {
    oxiborg: Option<PathBuf>,
    borg: PathBuf,
    /// `/usr/bin/time`, when present: peak RSS and CPU time.
    time: Option<PathBuf>,
    drop_caches: bool,
    work: PathBuf,
}

/// What a measured command printed and how it went.
#[derive(Debug)]
struct Ran {
    outcome: Outcome,
    stdout: String,
}

impl Bench {
    fn bin(&self, tool: Tool) -> Option<&Path> {
        match tool {
            Tool::Oxiborg => self.oxiborg.as_deref(),
            Tool::Borg => Some(&self.borg),
        }
    }

    /// A command for `tool` with an isolated environment rooted at `base`
    /// (its own BORG_BASE_DIR, HOME, cache and keys; no BORG_* of the caller).
    fn command(&self, tool: Tool, base: &Path, time_file: Option<&Path>) -> Option<Command> {
        let bin = self.bin(tool)?;
        let mut cmd = match (&self.time, time_file) {
            (Some(time), Some(out)) => {
                let mut c = Command::new(time);
                c.arg("-f").arg("%M %U %S").arg("-o").arg(out).arg(bin);
                c
            }
            _ => Command::new(bin),
        };
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("BORG_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("BORG_BASE_DIR", base)
            .env("HOME", base)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env("BORG_PASSPHRASE", BENCH_PASSPHRASE)
            .env("BORG_DELETE_I_KNOW_WHAT_I_AM_DOING", "YES")
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .stdin(Stdio::null());
        Some(cmd)
    }

    /// Run `args` with `tool` in `cwd`, timed. rc 0 and 1 (borg's warning)
    /// count as done; anything else prints the tool's stderr and is `Failed`.
    fn measure(
        &self,
        tool: Tool,
        base: &Path,
        cwd: &Path,
        args: &[&OsStr],
        env: &[(&str, &str)],
        what: &str,
    ) -> Ran {
        let time_file = self.work.join(format!(".time-{}", tool.name()));
        let _ = fs::remove_file(&time_file);
        let Some(mut cmd) = self.command(tool, base, Some(&time_file)) else {
            eprintln!("xtask:   {} {what}: no binary", tool.name());
            return Ran {
                outcome: Outcome::Failed,
                stdout: String::new(),
            };
        };
        cmd.current_dir(cwd).args(args).envs(env.iter().copied());
        eprintln!("xtask:   {} {what} ...", tool.name());
        let started = Instant::now();
        let out = match cmd.output() {
            Ok(out) => out,
            Err(e) => {
                eprintln!("xtask:   {} {what}: cannot start: {e}", tool.name());
                return Ran {
                    outcome: Outcome::Failed,
                    stdout: String::new(),
                };
            }
        };
        let secs = started.elapsed().as_secs_f64();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let code = out.status.code();
        if !matches!(code, Some(0) | Some(1)) {
            eprintln!(
                "xtask:   {} {what} FAILED ({}); its stderr:\n{}",
                tool.name(),
                out.status,
                tail(&String::from_utf8_lossy(&out.stderr), 25)
            );
            return Ran {
                outcome: Outcome::Failed,
                stdout,
            };
        }
        if code == Some(1) {
            eprintln!(
                "xtask:   {} {what}: warnings (rc 1):\n{}",
                tool.name(),
                tail(&String::from_utf8_lossy(&out.stderr), 5)
            );
        }
        let (rss_kib, cpu) = fs::read_to_string(&time_file)
            .ok()
            .and_then(|t| parse_time(&t))
            .map_or((None, None), |(rss, cpu)| (Some(rss), Some(cpu)));
        eprintln!("xtask:   {} {what}: {secs:.2}s", tool.name());
        Ran {
            outcome: Outcome::Done(Measure { secs, cpu, rss_kib }),
            stdout,
        }
    }

    /// Start from a cold page cache when possible; otherwise read `warm`
    /// once so every tool starts from a warm one.
    fn settle(&self, warm: Option<&Path>) {
        if self.drop_caches {
            if !drop_page_caches() {
                eprintln!("xtask: dropping page caches failed");
            }
        } else if let Some(dir) = warm {
            let _ = read_all(dir);
        }
    }

    /// `init -e repokey-blake2` a fresh repository under `dir`; returns the
    /// base dir and the repository path, or `None` when init failed.
    fn fresh_repo(&self, tool: Tool, dir: &Path) -> Result<Option<(PathBuf, PathBuf)>> {
        if dir.exists() {
            fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        let base = dir.join("base");
        let repo = dir.join("repo");
        fs::create_dir_all(&base)?;
        let ran = self.measure(
            tool,
            &base,
            dir,
            &[
                OsStr::new("init"),
                OsStr::new("-e"),
                OsStr::new("repokey-blake2"),
                repo.as_os_str(),
            ],
            &[],
            "init",
        );
        Ok(matches!(ran.outcome, Outcome::Done(_)).then_some((base, repo)))
    }
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `/usr/bin/time -f "%M %U %S"` output: peak RSS KiB and user + system
/// seconds, from the last line (GNU time puts "Command exited with non-zero
/// status N" before it).
fn parse_time(text: &str) -> Option<(u64, f64)> {
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut f = line.split_whitespace();
    let rss = f.next()?.parse().ok()?;
    let user: f64 = f.next()?.parse().ok()?;
    let sys: f64 = f.next()?.parse().ok()?;
    Some((rss, user + sys))
}

/// Lines of `borg benchmark crud`:
/// `C-Z-BIG        116.06 MB/s (10 * 100.00 MB all-zero files: 8.62s)`,
/// as (name, MB/s, seconds).
fn parse_crud(output: &str) -> Vec<(String, f64, f64)> {
    let mut out = Vec::new();
    for line in output.lines() {
        let mut f = line.split_whitespace();
        let (Some(name), Some(rate), Some("MB/s")) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let Ok(rate) = rate.parse::<f64>() else {
            continue;
        };
        let secs = line
            .rsplit_once(": ")
            .and_then(|(_, t)| t.trim().strip_suffix("s)"))
            .and_then(|t| t.parse::<f64>().ok());
        if let Some(secs) = secs {
            out.push((name.to_string(), rate, secs));
        }
    }
    out
}

fn drop_page_caches() -> bool {
    let _ = Command::new("sync").status();
    fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

/// Read every regular file below `dir` (bringing it into the page cache).
fn read_all(dir: &Path) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            let ft = e.file_type()?;
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                if let Ok(mut f) = fs::File::open(e.path()) {
                    while f.read(&mut buf)? > 0 {}
                }
            }
        }
    }
    Ok(())
}

/// Apparent size and number of regular files below `dir` (symlinks not
/// followed).
fn tree_size(dir: &Path) -> io::Result<(u64, u64)> {
    let (mut bytes, mut files) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            let md = fs::symlink_metadata(e.path())?;
            if md.is_dir() {
                stack.push(e.path());
            } else if md.is_file() {
                bytes += md.len();
                files += 1;
            }
        }
    }
    Ok((bytes, files))
}

/// A small deterministic generator (splitmix64): the corpus must be the
/// same on every machine and run.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Content {
    /// Incompressible.
    Random,
    /// Log-like text: compresses a few times with lz4.
    Text,
    /// Alternating random, zero and text blocks.
    Mixed,
}

/// Words for the text content, made once from syllables.
fn vocabulary(rng: &mut SplitMix) -> Vec<String> {
    const SYL: &[&str] = &[
        "ba", "ck", "up", "or", "ga", "chu", "nk", "re", "po", "si", "to", "ry", "ar", "ch", "ive",
        "de", "du", "pe", "in", "dex", "ca", "che", "se", "gm", "ent", "lo", "ck", "ke", "y",
    ];
    (0..1024)
        .map(|_| {
            let n = 1 + rng.below(4);
            (0..n)
                .map(|_| SYL[rng.below(SYL.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn text_block(rng: &mut SplitMix, words: &[String], out: &mut Vec<u8>, len: usize) {
    const LEVELS: &[&str] = &["INFO", "DEBUG", "WARN", "ERROR"];
    let start = out.len();
    while out.len() - start < len {
        let t = rng.below(86_400);
        let _ = write!(
            out,
            "2024-{:02}-{:02} {:02}:{:02}:{:02} {} {}[{}]:",
            1 + rng.below(12),
            1 + rng.below(28),
            t / 3600,
            t / 60 % 60,
            t % 60,
            LEVELS[rng.below(4) as usize],
            words[rng.below(64) as usize],
            rng.below(32_768)
        );
        for _ in 0..(3 + rng.below(14)) {
            out.push(b' ');
            // Skewed: the first words are far more frequent, as in real text.
            let i = (rng.below(1024) * rng.below(1024) / 1024) as usize;
            out.extend_from_slice(words[i].as_bytes());
        }
        let _ = writeln!(out, " {}", rng.below(100_000));
    }
    out.truncate(start + len);
}

fn write_content(
    path: &Path,
    kind: Content,
    size: u64,
    rng: &mut SplitMix,
    words: &[String],
) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(path)?);
    let mut left = size;
    let mut block = Vec::with_capacity(1 << 18);
    let mut i = 0u64;
    while left > 0 {
        let n = left.min(1 << 18) as usize;
        block.clear();
        let this = match kind {
            Content::Mixed => [Content::Random, Content::Text, Content::Random][i as usize % 3],
            k => k,
        };
        match (kind, i % 5) {
            // Every fifth Mixed block is zeros.
            (Content::Mixed, 4) => block.resize(n, 0),
            _ => match this {
                Content::Text => text_block(rng, words, &mut block, n),
                _ => {
                    block.resize(n, 0);
                    rng.fill(&mut block);
                }
            },
        }
        w.write_all(&block)?;
        left -= n as u64;
        i += 1;
    }
    w.flush()
}

/// Build the mixed corpus of about `mib` MiB in `dir` (which must not
/// exist): many small files (1-64 KiB), some medium (1-10 MiB), three large
/// ones (at 1024: 150, 150 and 120 MiB), random and text-like and mixed
/// content, and duplicates of some of each. The same `mib` always gives the
/// same bytes.
fn generate_mixed(dir: &Path, mib: u64) -> io::Result<()> {
    let scale = mib as f64 / 1024.0;
    let count = |n: f64| ((n * scale).round() as u64).max(1);
    let mut rng = SplitMix(0x0b0b_2024_u64 ^ mib);
    let words = vocabulary(&mut rng);
    let mut smalls = Vec::new();
    for i in 0..count(4000.0) {
        let kind = if rng.below(2) == 0 {
            Content::Text
        } else {
            Content::Random
        };
        let ext = if matches!(kind, Content::Text) {
            "txt"
        } else {
            "bin"
        };
        let rel = format!("small/{:03}/f{i:05}.{ext}", i / 100);
        let size = 1024 + rng.below(63 * 1024 + 1);
        write_content(&dir.join(&rel), kind, size, &mut rng, &words)?;
        smalls.push(rel);
    }
    let mut mediums = Vec::new();
    for i in 0..count(40.0) {
        let kind = [Content::Text, Content::Random, Content::Mixed][i as usize % 3];
        let rel = format!("medium/m{i:03}.dat");
        let size = (1 << 20) + rng.below(9 << 20);
        write_content(&dir.join(&rel), kind, size, &mut rng, &words)?;
        mediums.push(rel);
    }
    for (name, kind, size_mib) in [
        ("random.bin", Content::Random, 150.0),
        ("text.log", Content::Text, 150.0),
        ("mixed.img", Content::Mixed, 120.0),
    ] {
        let size = ((size_mib * scale * 1_048_576.0) as u64).max(1 << 20);
        write_content(&dir.join("large").join(name), kind, size, &mut rng, &words)?;
    }
    // Duplicates: the same bytes under other names, for deduplication.
    let dups = smalls
        .iter()
        .take(count(200.0) as usize)
        .chain(mediums.iter().take(count(5.0) as usize))
        .map(String::as_str)
        .chain(["large/random.bin"]);
    for rel in dups {
        let to = dir.join("dup").join(rel);
        fs::create_dir_all(to.parent().expect("has a parent"))?;
        fs::copy(dir.join(rel), to)?;
    }
    Ok(())
}

/// The mixed corpus under `<target>/bench-corpus`, generated once and reused
/// while its stamp matches.
fn mixed_corpus(target: &Path, mib: u64) -> Result<PathBuf> {
    let parent = target.join("bench-corpus");
    let dir = parent.join(format!("mixed-{mib}m"));
    let stamp = parent.join(format!("mixed-{mib}m.stamp"));
    let want = format!("{CORPUS_VERSION} mib={mib}\n");
    if dir.is_dir() && fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        eprintln!("xtask: reusing the mixed corpus {}", dir.display());
        return Ok(dir);
    }
    eprintln!(
        "xtask: generating the mixed corpus ({mib} MiB) in {} ...",
        dir.display()
    );
    let started = Instant::now();
    let partial = parent.join(format!("mixed-{mib}m.partial"));
    for d in [&dir, &partial] {
        if d.exists() {
            fs::remove_dir_all(d).with_context(|| format!("removing {}", d.display()))?;
        }
    }
    let _ = fs::remove_file(&stamp);
    fs::create_dir_all(&partial)?;
    generate_mixed(&partial, mib).context("generating the mixed corpus")?;
    fs::rename(&partial, &dir)?;
    fs::write(&stamp, want)?;
    eprintln!(
        "xtask: corpus generated in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(dir)
}

/// `create`, unchanged re-`create` and `extract` of `corpus` with both tools.
fn bench_corpus(bench: &Bench, label: &str, corpus: &Path, bytes: u64) -> Result<Vec<Row>> {
    let parent = corpus
        .parent()
        .with_context(|| format!("{} has no parent", corpus.display()))?;
    let name = corpus
        .file_name()
        .with_context(|| format!("{} has no name", corpus.display()))?;
    let ops = ["create", "re-create (unchanged)", "extract"];
    let mut results: BTreeMap<(&str, &str), Outcome> = BTreeMap::new();
    for tool in [Tool::Borg, Tool::Oxiborg] {
        eprintln!("xtask: == {label}: {}", tool.name());
        let dir = bench.work.join(label).join(tool.name());
        let Some((base, repo)) = bench.fresh_repo(tool, &dir)? else {
            for op in ops {
                results.insert((tool.name(), op), Outcome::Failed);
            }
            continue;
        };
        let repo = repo.to_string_lossy().into_owned();
        let mut created = false;
        for (op, archive) in [(ops[0], "a1"), (ops[1], "a2")] {
            if op == ops[1] && !created {
                results.insert((tool.name(), op), Outcome::Skipped);
                continue;
            }
            bench.settle(Some(corpus));
            let spec = format!("{repo}::{archive}");
            let ran = bench.measure(
                tool,
                &base,
                parent,
                &[
                    OsStr::new("create"),
                    OsStr::new("--compression"),
                    OsStr::new("lz4"),
                    OsStr::new(&spec),
                    name,
                ],
                &[],
                &format!("{op} {label}"),
            );
            created |= op == ops[0] && matches!(ran.outcome, Outcome::Done(_));
            results.insert((tool.name(), op), ran.outcome);
        }
        if created {
            let out = dir.join("extract");
            fs::create_dir_all(&out)?;
            bench.settle(None);
            let spec = format!("{repo}::a1");
            let ran = bench.measure(
                tool,
                &base,
                &out,
                &[OsStr::new("extract"), OsStr::new(&spec)],
                &[],
                &format!("extract {label}"),
            );
            results.insert((tool.name(), ops[2]), ran.outcome);
            // The tree stays until the whole bench ends: deleting thousands
            // of files makes the next tool's file creations slower (ext4
            // skips recently freed inodes), which would handicap whichever
            // tool runs next.
        } else {
            results.insert((tool.name(), ops[2]), Outcome::Skipped);
        }
    }
    Ok(ops
        .iter()
        .map(|op| Row {
            label: format!("{label}: {op}"),
            bytes: Some(bytes),
            ox: results
                .remove(&("oxiborg", *op))
                .unwrap_or(Outcome::Skipped),
            borg: results.remove(&("borg", *op)).unwrap_or(Outcome::Skipped),
        })
        .collect())
}

/// Remote `create` and `extract` of `corpus` over loopback ssh: a real
/// sshd (`oxiborg_oracle::sshd`) whose `authorized_keys` forces each tool's
/// own `serve --restrict-to-path`, as a NAS setup has; borg talks to
/// `borg serve`, oxiborg to `oxiborg serve`. Both use the same ssh options
/// (aes128-gcm, no compression). Times are the client's wall time; RSS and
/// CPU are the client's only.
fn bench_remote(bench: &Bench, corpus: &Path, bytes: u64) -> Result<Vec<Row>> {
    let parent = corpus
        .parent()
        .with_context(|| format!("{} has no parent", corpus.display()))?;
    let name = corpus
        .file_name()
        .with_context(|| format!("{} has no name", corpus.display()))?;
    let sshd = oxiborg_oracle::sshd::Sshd::start(&bench.work.join("sshd"))
        .map_err(|e| anyhow::anyhow!("cannot start sshd for the remote bench: {e}"))?;
    let ops = ["remote create", "remote extract"];
    let mut results: BTreeMap<(&str, &str), Outcome> = BTreeMap::new();
    for tool in [Tool::Borg, Tool::Oxiborg] {
        eprintln!("xtask: == remote: {} to {} serve", tool.name(), tool.name());
        let Some(bin) = bench.bin(tool) else {
            for op in ops {
                results.insert((tool.name(), op), Outcome::Failed);
            }
            continue;
        };
        let dir = bench.work.join("remote").join(tool.name());
        let base = dir.join("base");
        let server_base = dir.join("server-base");
        let repo = dir.join("repo");
        fs::create_dir_all(&base)?;
        fs::create_dir_all(&server_base)?;
        let forced = format!(
            "env BORG_BASE_DIR={} {} serve --restrict-to-path {}",
            server_base.display(),
            bin.display(),
            dir.display()
        );
        let rsh = sshd.client(tool.name(), Some(&forced));
        let url = sshd.url(&repo);
        let env = [("BORG_RSH", rsh.as_str())];
        let init = bench.measure(
            tool,
            &base,
            &dir,
            &[
                OsStr::new("init"),
                OsStr::new("-e"),
                OsStr::new("repokey-blake2"),
                OsStr::new(&url),
            ],
            &env,
            "remote init",
        );
        if !matches!(init.outcome, Outcome::Done(_)) {
            for op in ops {
                results.insert((tool.name(), op), Outcome::Failed);
            }
            continue;
        }
        bench.settle(Some(corpus));
        let spec = format!("{url}::a1");
        let created = bench.measure(
            tool,
            &base,
            parent,
            &[
                OsStr::new("create"),
                OsStr::new("--compression"),
                OsStr::new("lz4"),
                OsStr::new(&spec),
                name,
            ],
            &env,
            "remote create",
        );
        let ok = matches!(created.outcome, Outcome::Done(_));
        results.insert((tool.name(), ops[0]), created.outcome);
        if !ok {
            results.insert((tool.name(), ops[1]), Outcome::Skipped);
            continue;
        }
        let out = dir.join("extract");
        fs::create_dir_all(&out)?;
        bench.settle(None);
        let ran = bench.measure(
            tool,
            &base,
            &out,
            &[OsStr::new("extract"), OsStr::new(&spec)],
            &env,
            "remote extract",
        );
        results.insert((tool.name(), ops[1]), ran.outcome);
        // Kept until the bench ends, as in `bench_corpus`.
    }
    Ok(ops
        .iter()
        .map(|op| Row {
            label: format!("mixed: {op} (ssh)"),
            bytes: Some(bytes),
            ox: results
                .remove(&("oxiborg", *op))
                .unwrap_or(Outcome::Skipped),
            borg: results.remove(&("borg", *op)).unwrap_or(Outcome::Skipped),
        })
        .collect())
}

/// `benchmark crud REPO PATH` with both tools: one row for the whole run,
/// then one per line of borg's output (C/R/U/D x Z/R x BIG/MEDIUM/SMALL).
fn bench_crud(bench: &Bench, quick: bool) -> Result<Vec<Row>> {
    let mut whole: BTreeMap<&str, Outcome> = BTreeMap::new();
    let mut lines: BTreeMap<&str, Vec<(String, f64, f64)>> = BTreeMap::new();
    for tool in [Tool::Borg, Tool::Oxiborg] {
        eprintln!("xtask: == benchmark crud: {}", tool.name());
        let dir = bench.work.join("crud").join(tool.name());
        let Some((base, repo)) = bench.fresh_repo(tool, &dir)? else {
            whole.insert(tool.name(), Outcome::Failed);
            continue;
        };
        let data = dir.join("data");
        fs::create_dir_all(&data)?;
        let args = [
            OsStr::new("benchmark"),
            OsStr::new("crud"),
            repo.as_os_str(),
            data.as_os_str(),
        ];
        // borg's own switch to tiny test files (1 byte each).
        let env: &[(&str, &str)] = if quick {
            &[("_BORG_BENCHMARK_CRUD_TEST", "1")]
        } else {
            &[]
        };
        let ran = bench.measure(tool, &base, &dir, &args, env, "benchmark crud");
        let parsed = parse_crud(&ran.stdout);
        if matches!(ran.outcome, Outcome::Done(_)) && parsed.is_empty() {
            eprintln!(
                "xtask:   {}: no result lines in its output:\n{}",
                tool.name(),
                tail(&ran.stdout, 10)
            );
        }
        lines.insert(tool.name(), parsed);
        whole.insert(tool.name(), ran.outcome);
    }
    let mut rows = vec![Row {
        label: "benchmark crud (whole run)".into(),
        bytes: None,
        ox: whole.remove("oxiborg").unwrap_or(Outcome::Skipped),
        borg: whole.remove("borg").unwrap_or(Outcome::Skipped),
    }];
    let ours = lines.remove("oxiborg").unwrap_or_default();
    for (name, rate, secs) in lines.remove("borg").unwrap_or_default() {
        let from_secs = |s: f64| {
            Outcome::Done(Measure {
                secs: s,
                cpu: None,
                rss_kib: None,
            })
        };
        let ox = ours
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or(Outcome::Failed, |(_, _, s)| from_secs(*s));
        rows.push(Row {
            label: format!("crud {name}"),
            // borg's rate times its seconds: the bytes of that step.
            bytes: Some((rate * secs * 1e6).round() as u64),
            ox,
            borg: from_secs(secs),
        });
    }
    Ok(rows)
}

fn print_table(rows: &[Row]) {
    let secs = |o: &Outcome| match o {
        Outcome::Done(m) => format!("{:.2}s", m.secs),
        Outcome::Failed => "failed".into(),
        Outcome::Skipped => "-".into(),
    };
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let rss = |o: &Outcome| {
        opt(o
            .measure()
            .and_then(|m| m.rss_kib)
            .map(|k| format!("{:.0} MiB", k as f64 / 1024.0)))
    };
    let cpu = |o: &Outcome| opt(o.measure().and_then(|m| m.cpu).map(|c| format!("{c:.1}s")));
    let rate = |o: &Outcome, bytes: Option<u64>| {
        opt(o
            .measure()
            .zip(bytes)
            .filter(|(m, _)| m.secs > 0.0)
            .map(|(m, b)| format!("{:.1}", b as f64 / 1e6 / m.secs)))
    };
    println!(
        "{:<34} {:>9} {:>10} {:>7} {:>11} {:>10} {:>9} {:>9} {:>8} {:>8}",
        "operation",
        "oxiborg",
        "borg 1.4.5",
        "ratio",
        "oxiborg RSS",
        "borg RSS",
        "ox MB/s",
        "borg MB/s",
        "ox cpu",
        "borg cpu"
    );
    for r in rows {
        let ratio = match (r.ox.measure(), r.borg.measure()) {
            (Some(o), Some(b)) if o.secs > 0.0 => format!("{:.2}x", b.secs / o.secs),
            _ => "-".into(),
        };
        println!(
            "{:<34} {:>9} {:>10} {:>7} {:>11} {:>10} {:>9} {:>9} {:>8} {:>8}",
            r.label,
            secs(&r.ox),
            secs(&r.borg),
            ratio,
            rss(&r.ox),
            rss(&r.borg),
            rate(&r.ox, r.bytes),
            rate(&r.borg, r.bytes),
            cpu(&r.ox),
            cpu(&r.borg)
        );
    }
}

/// `cargo xtask bench archive`: borg 1.4.5 (the oracle venv's) and oxiborg
/// (`cargo build --release -p oxiborg`, built first) with the same settings:
/// `init -e repokey-blake2`, BORG_PASSPHRASE, `create --compression lz4`,
/// each tool with its own isolated BORG_BASE_DIR. For each corpus (the
/// generated mixed tree under `<target>/bench-corpus`, and a system
/// directory, `/usr/share` by default): initial `create`, unchanged
/// re-`create` (files cache warm), `extract` into a fresh directory; then
/// the mixed corpus's `create` and `extract` over loopback ssh against each
/// tool's own `serve` (`--only remote`, see `bench_remote`); then
/// `benchmark crud`. Page caches are dropped before each step when that is
/// permitted (root), otherwise the corpus is read once before each create so
/// both tools start warm. Wall time is measured here; peak RSS and CPU time
/// come from `/usr/bin/time` (Debian package `time`, installed when missing).
///
/// An oxiborg failure (not implemented yet, or the build failing) prints
/// its stderr and marks the row `failed`; a borg failure fails the bench
/// after the table is printed.
fn run_archive(root: &Path, args: &[String]) -> Result<()> {
    let opts = parse_archive_args(args)?;
    let target = target_dir(root);
    let time = PathBuf::from("/usr/bin/time");
    if !time.exists() {
        if let Err(e) = crate::apt_install(&["time"]) {
            eprintln!("xtask: no /usr/bin/time ({e:#}); peak RSS and CPU time not measured");
        }
    }
    let time = time.exists().then_some(time);

    eprintln!("xtask: building oxiborg (release) ...");
    let built = crate::run(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(root)
            .args(["build", "--release", "-p", "oxiborg"]),
    );
    let oxiborg = target.join("release/oxiborg");
    let oxiborg = match built {
        Ok(()) if oxiborg.is_file() => Some(oxiborg),
        Ok(()) => {
            eprintln!("xtask: {} missing after the build", oxiborg.display());
            None
        }
        Err(e) => {
            eprintln!("xtask: building oxiborg failed ({e:#}); its rows are marked failed");
            None
        }
    };
    let borg = crate::venv_dir(root).join("bin/borg");
    let version = Command::new(&borg)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if version != format!("borg {}", crate::BORG_VERSION) {
        bail!(
            "{} is {version:?}, not borg {}; run `cargo xtask oracle` first",
            borg.display(),
            crate::BORG_VERSION
        );
    }
    let work = target.join("bench-archive");
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    fs::create_dir_all(&work)?;
    let drop_caches = opts.drop_caches && drop_page_caches();
    if opts.drop_caches && !drop_caches {
        eprintln!("xtask: cannot drop page caches (not root?): both tools run with a warm cache");
    }
    let bench = Bench {
        oxiborg,
        borg,
        time,
        drop_caches,
        work: work.clone(),
    };

    let mut corpora = Vec::new();
    if opts.wants("mixed") {
        corpora.push(("mixed", mixed_corpus(&target, opts.mixed_mib)?));
    }
    let remote_corpus = if opts.wants("remote") {
        Some(mixed_corpus(&target, opts.mixed_mib)?)
    } else {
        None
    };
    if opts.wants("system") {
        let system = fs::canonicalize(&opts.system)
            .with_context(|| format!("system corpus {}", opts.system.display()))?;
        corpora.push(("system", system));
    }
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut header = Vec::new();
    for (label, dir) in &corpora {
        let (bytes, files) = tree_size(dir)?;
        header.push(format!(
            "corpus {label}: {}, {:.1} MB in {files} files",
            dir.display(),
            bytes as f64 / 1e6
        ));
        rows.extend(bench_corpus(&bench, label, dir, bytes)?);
    }
    if let Some(dir) = &remote_corpus {
        let (bytes, files) = tree_size(dir)?;
        if !opts.wants("mixed") {
            header.push(format!(
                "corpus mixed: {}, {:.1} MB in {files} files",
                dir.display(),
                bytes as f64 / 1e6
            ));
        }
        rows.extend(bench_remote(&bench, dir, bytes)?);
    }
    if opts.wants("crud") {
        rows.extend(bench_crud(&bench, opts.quick)?);
    }
    if !opts.keep {
        fs::remove_dir_all(&work)?;
    }

    println!(
        "\narchive benchmark: oxiborg vs {version}, init -e repokey-blake2, create --compression lz4, {}",
        if drop_caches {
            "page cache dropped before each step"
        } else {
            "warm page cache"
        }
    );
    for h in &header {
        println!("{h}");
    }
    println!();
    print_table(&rows);
    println!(
        "\nratio = borg seconds / oxiborg seconds (above 1: oxiborg faster); MB = 10^6 bytes; \
         total {:.0}s",
        started.elapsed().as_secs_f64()
    );
    let borg_failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.borg == Outcome::Failed)
        .map(|r| r.label.as_str())
        .collect();
    if !borg_failed.is_empty() {
        bail!("borg itself failed: {}", borg_failed.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{generate_mixed, parse, parse_archive_args, parse_crud, parse_time, tree_size};

    #[test]
    fn parses_both_layouts() {
        let p = parse(
            "Chunkers ====\nbuzhash,19,23,21,4095    1GB        0.412s\ncrc32 (zlib)             1GB        0.300s\n\
             lzma,6       0.1GB      12.500s\nmsgpack      100k Items 0.230s\n",
        );
        assert_eq!(p["buzhash,19,23,21,4095"], 0.412);
        assert_eq!(p["crc32 (zlib)"], 0.3);
        assert_eq!(p["lzma,6"], 12.5);
        assert_eq!(p["msgpack"], 0.23);
        assert_eq!(p.len(), 4);
    }

    #[test]
    fn parses_crud_output() {
        let out = "C-Z-BIG         116.06 MB/s (10 * 100.00 MB all-zero files: 8.62s)\n\
                   R-R-SMALL        12.50 MB/s (10000 * 10.00 kB random files: 8.00s)\n\
                   some other line\n";
        let p = parse_crud(out);
        assert_eq!(
            p,
            vec![
                ("C-Z-BIG".to_string(), 116.06, 8.62),
                ("R-R-SMALL".to_string(), 12.5, 8.0)
            ]
        );
    }

    #[test]
    fn parses_gnu_time_output() {
        assert_eq!(parse_time("123456 1.50 0.25\n"), Some((123_456, 1.75)));
        assert_eq!(
            parse_time("Command exited with non-zero status 2\n4096 0.00 0.01\n"),
            Some((4096, 0.01))
        );
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn archive_options() {
        let o = parse_archive_args(&["--quick".into(), "--only".into(), "crud".into()]).unwrap();
        assert!(o.quick && o.mixed_mib == 64 && o.wants("crud") && !o.wants("mixed"));
        let o = parse_archive_args(&[]).unwrap();
        assert!(o.mixed_mib == 1024 && o.wants("mixed") && o.wants("system") && o.drop_caches);
        assert!(parse_archive_args(&["--only".into(), "x".into()]).is_err());
        assert!(parse_archive_args(&["--bogus".into()]).is_err());
    }

    #[test]
    fn mixed_corpus_is_deterministic() {
        let base = std::env::temp_dir().join(format!("xtask-corpus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (a, b) = (base.join("a"), base.join("b"));
        generate_mixed(&a, 4).unwrap();
        generate_mixed(&b, 4).unwrap();
        let (bytes, files) = tree_size(&a).unwrap();
        assert_eq!(tree_size(&b).unwrap(), (bytes, files));
        assert!((2 << 20..20 << 20).contains(&bytes), "{bytes}");
        assert!(files > 20, "{files}");
        for rel in ["large/text.log", "medium/m000.dat", "small/000/f00000.txt"] {
            let x = std::fs::read(a.join(rel)).unwrap();
            assert_eq!(x, std::fs::read(b.join(rel)).unwrap(), "{rel}");
        }
        assert_eq!(
            std::fs::read(a.join("large/random.bin")).unwrap(),
            std::fs::read(a.join("dup/large/random.bin")).unwrap()
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}
