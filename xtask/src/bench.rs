//! `cargo xtask bench`: oxiborg against real borg 1.4.5, same work, one run.
//!
//! Today this covers the CPU-bound primitives: `oxiborg benchmark cpu` is run
//! beside a Python program that times the same operations through borg
//! 1.4.5's own modules (borg 1.4 has no `benchmark cpu`; its layout is borg
//! 2's). The ratio column is borg's time divided by oxiborg's: above 1 means
//! oxiborg is faster.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

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

pub fn run(root: &Path) -> Result<()> {
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
        capture(Command::new(root.join("target/release/oxiborg")).args(["benchmark", "cpu"]))?;
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

#[cfg(test)]
mod tests {
    use super::parse;

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
}
