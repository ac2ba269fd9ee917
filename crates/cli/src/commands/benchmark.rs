//! `oxiborg benchmark cpu`: the CPU-bound primitives, in borg 2's layout
//! (`<name> <amount> <seconds>s` under section headers), limited to what
//! borg 1.x has. `cargo xtask bench` times the same work through borg.
//!
//! `oxiborg benchmark crud REPOSITORY PATH`: borg 1.4.5's
//! `do_benchmark_crud`, running create / extract / delete in-process on
//! generated files and printing borg's lines.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use oxiborg_chunker::{Chunker, ChunkerParams};
use oxiborg_cli_args::{BenchmarkCommand, Cli, Command, CrudArgs};
use oxiborg_crypto::{blake2b_256, hmac_sha256, Key, KeyType};
use oxiborg_format::{CompressionSpec, Compressor, Item};

use super::{print_out, Ctx};
use crate::exit::CliError;

/// How much work each line does. borg's figures: 100 passes over 10 MB
/// ("1GB"), 10 compressor passes ("0.1GB"), 5 PBKDF2 runs, 100 x 1000 items.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Bytes of random input.
    pub data_len: usize,
    /// Passes for chunkers, checksums, MACs and encryption.
    pub passes: u32,
    /// Passes for each compressor.
    pub compress_passes: u32,
    /// PBKDF2 derivations.
    pub kdf_runs: u32,
    /// msgpack passes over 1000 items.
    pub item_passes: u32,
}

/// borg's amounts.
pub const BORG_SCALE: Scale = Scale {
    data_len: 10_000_000,
    passes: 100,
    compress_passes: 10,
    kdf_runs: 5,
    item_passes: 100,
};

const COMPRESSORS: [&str; 13] = [
    "lz4", "zstd,1", "zstd,3", "zstd,5", "zstd,10", "zstd,16", "zstd,22", "zlib,0", "zlib,6",
    "zlib,9", "lzma,0", "lzma,6", "lzma,9",
];

pub fn run(ctx: &Ctx, cmd: Option<BenchmarkCommand>) -> anyhow::Result<u8> {
    match cmd {
        None => print_out(&oxiborg_cli_args::help_for(&["benchmark"])),
        Some(BenchmarkCommand::Cpu) => {
            cpu(BORG_SCALE, |line| {
                print_out(&format!("{line}\n"))?;
                Ok(())
            })?;
            Ok(0)
        }
        Some(BenchmarkCommand::Crud(args)) => crud(ctx, &args),
    }
}

/// One input set of `benchmark crud`: label, file count, file size, and
/// whether the contents are random (else all zeros).
#[derive(Debug, Clone, Copy)]
pub struct CrudSet {
    /// `Z-BIG`, `R-TEST`, ...
    pub label: &'static str,
    /// Number of files.
    pub count: u64,
    /// Bytes per file.
    pub size: u64,
    /// Random contents (else all zeros).
    pub random: bool,
}

const fn set(label: &'static str, count: u64, size: u64, random: bool) -> CrudSet {
    CrudSet {
        label,
        count,
        size,
        random,
    }
}

/// borg's sets when `_BORG_BENCHMARK_CRUD_TEST` is set (archiver.py 1.4.5, l. 553-557).
pub const CRUD_TEST_SETS: [CrudSet; 2] = [set("Z-TEST", 1, 1, false), set("R-TEST", 1, 1, true)];

/// borg's normal sets (archiver.py 1.4.5, l. 559-566).
pub const CRUD_SETS: [CrudSet; 6] = [
    set("Z-BIG", 10, 100_000_000, false),
    set("R-BIG", 10, 100_000_000, true),
    set("Z-MEDIUM", 1000, 1_000_000, false),
    set("R-MEDIUM", 1000, 1_000_000, true),
    set("Z-SMALL", 10000, 10_000, false),
    set("R-SMALL", 10000, 10_000, true),
];

/// The seconds of the four measured steps of one set.
#[derive(Debug, Clone, Copy)]
pub struct CrudTimes {
    /// First create, files cache disabled.
    pub create: f64,
    /// Create of unchanged files through the files cache.
    pub update: f64,
    /// `extract --dry-run`.
    pub extract: f64,
    /// Delete of the last archive holding the data.
    pub delete: f64,
}

/// `benchmark crud REPOSITORY PATH`.
fn crud(ctx: &Ctx, args: &CrudArgs) -> anyhow::Result<u8> {
    let loc = crate::location::parse_repository(Some(&args.repository))?;
    // borg: `args.location.canonical_path() + '::borg-benchmark-crud'`;
    // for a local repository that is its (normalised, not absolutised)
    // path, for a remote one its `ssh://` form.
    let repo = match loc.remote {
        Some(_) => loc.canonical(),
        None => loc.path.to_string_lossy().into_owned(),
    };
    let archive = format!("{repo}::borg-benchmark-crud");
    let sets: &[CrudSet] = if std::env::var_os("_BORG_BENCHMARK_CRUD_TEST").is_some() {
        &CRUD_TEST_SETS
    } else {
        &CRUD_SETS
    };
    for s in sets {
        let times = with_test_files(&args.path, s, |path| measurement_run(ctx, &archive, path))?;
        for line in crud_lines(s, &times) {
            print_out(&format!("{line}\n"))?;
        }
    }
    Ok(0)
}

/// borg's four output lines of one set, in its order: C, R, U, D.
pub fn crud_lines(s: &CrudSet, t: &CrudTimes) -> [String; 4] {
    [
        crud_line('C', s, t.create),
        crud_line('R', s, t.extract),
        crud_line('U', s, t.update),
        crud_line('D', s, t.delete),
    ]
}

/// borg's `'%s-%-10s %9.2f MB/s (%d * %s %s files: %.2fs)'`.
pub fn crud_line(op: char, s: &CrudSet, secs: f64) -> String {
    // Python: `count * size / 1e06` (int product, then true division).
    let total_mb = (s.count * s.size) as f64 / 1e06;
    let content = if s.random { "random" } else { "all-zero" };
    format!(
        "{op}-{:<10} {:9.2} MB/s ({} * {} {content} files: {secs:.2}s)",
        s.label,
        total_mb / secs,
        s.count,
        crate::output::format_file_size(s.size),
    )
}

/// Run one of borg's commands in-process, from an argv parsed like main's.
fn sub_command(ctx: &Ctx, argv: &[&str], path: Option<&Path>) -> anyhow::Result<u8> {
    let mut full: Vec<OsString> = vec!["oxiborg".into()];
    full.extend(argv.iter().map(OsString::from));
    if let Some(p) = path {
        full.push(p.as_os_str().to_owned());
    }
    let cli = Cli::try_parse_from(&full).map_err(|e| CliError::usage(e.to_string()))?;
    match cli.command {
        Some(Command::Create(a)) => super::archive::create(ctx, &a),
        Some(Command::Extract(a)) => super::archive::extract(ctx, &a),
        Some(Command::Delete(a)) => super::archive::delete(ctx, &a),
        other => Err(CliError::usage(format!("benchmark crud cannot run {other:?}")).into()),
    }
}

/// borg's `assert rc == 0` after each step: any other rc is an error (rc 2).
fn expect_ok(what: &str, rcs: &[u8]) -> anyhow::Result<()> {
    match rcs.iter().find(|rc| **rc != 0) {
        None => Ok(()),
        Some(rc) => Err(CliError::usage(format!(
            "benchmark crud: {what} returned rc {rc}, expected 0"
        ))
        .into()),
    }
}

/// borg's `measurement_run` (archiver.py 1.4.5, l. 503-536).
fn measurement_run(ctx: &Ctx, archive: &str, path: &Path) -> anyhow::Result<CrudTimes> {
    let a1 = format!("{archive}1");
    let a2 = format!("{archive}2");
    let a3 = format!("{archive}3");
    let compression = "--compression=none";
    // Create without files cache, so it always chunks.
    let t = Instant::now();
    let rc = sub_command(
        ctx,
        &["create", compression, "--files-cache=disabled", &a1],
        Some(path),
    )?;
    let create = t.elapsed().as_secs_f64();
    expect_ok("create", &[rc])?;
    // Build the files cache.
    let rc1 = sub_command(ctx, &["create", compression, &a2], Some(path))?;
    let rc2 = sub_command(ctx, &["delete", &a2], None)?;
    expect_ok("create/delete", &[rc1, rc2])?;
    // A no-change update (archive 1 is still present).
    let t = Instant::now();
    let rc1 = sub_command(ctx, &["create", compression, &a3], Some(path))?;
    let update = t.elapsed().as_secs_f64();
    let rc2 = sub_command(ctx, &["delete", &a3], None)?;
    expect_ok("create/delete", &[rc1, rc2])?;
    // Extraction without writing to disk.
    let t = Instant::now();
    let rc = sub_command(ctx, &["extract", "--dry-run", &a1], None)?;
    let extract = t.elapsed().as_secs_f64();
    expect_ok("extract", &[rc])?;
    // Deletion of the last archive holding the data.
    let t = Instant::now();
    let rc = sub_command(ctx, &["delete", &a1], None)?;
    let delete = t.elapsed().as_secs_f64();
    expect_ok("delete", &[rc])?;
    Ok(CrudTimes {
        create,
        update,
        extract,
        delete,
    })
}

/// Removes borg's data dir however the set ends (borg's `finally: rmtree`).
struct RemoveDir(Option<PathBuf>);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

/// borg's `test_files` (archiver.py 1.4.5, l. 538-551): `PATH/borg-test-data`
/// with `count` files `file_<i>`, written like borg's `SyncFile`, handed to
/// `f`, then removed. Like borg, the directory is removed even when it
/// existed before (creating it then fails); `PATH` itself stays.
fn with_test_files<T>(
    base: &Path,
    s: &CrudSet,
    f: impl FnOnce(&Path) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let path = base.join("borg-test-data");
    let mut guard = RemoveDir(Some(path.clone()));
    // os.makedirs: parents as needed, the leaf must not exist.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::create_dir(&path)?;
    let size = usize::try_from(s.size)?;
    let mut data = vec![0u8; size];
    for i in 0..s.count {
        if s.random {
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut data);
        }
        write_synced(&path.join(format!("file_{i}")), &data)?;
    }
    let out = f(&path)?;
    if let Some(p) = guard.0.take() {
        std::fs::remove_dir_all(p)?;
    }
    Ok(out)
}

/// borg's `SyncFile`: exclusive create, write, fdatasync, drop the written
/// pages from the page cache, close, fsync the directory.
fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(data)?;
    f.sync_data()?;
    // borg's safe_fadvise ignores failures.
    let _ = rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::DontNeed);
    drop(f);
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// borg's `platform.sync_dir`: fsync a directory, ignoring EINVAL.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let d = std::fs::File::open(dir)?;
    match d.sync_all() {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error()) => Ok(()),
        r => r,
    }
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut v);
    v
}

fn timed(runs: u32, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..runs {
        f();
    }
    t.elapsed().as_secs_f64()
}

/// Run every measurement at `scale`, handing each output line to `emit`.
pub fn cpu(scale: Scale, mut emit: impl FnMut(String) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let data = random_bytes(scale.data_len);
    let key_256 = random_bytes(32);
    let gb = |passes: u32| {
        format!(
            "{}GB",
            fmt_amount(scale.data_len as f64 * f64::from(passes) / 1e9)
        )
    };
    let wide = |name: &str, amount: &str, secs: f64| format!("{name:<24} {amount:<10} {secs:.3}s");
    let narrow =
        |name: &str, amount: &str, secs: f64| format!("{name:<12} {amount:<10} {secs:.3}s");

    emit("Chunkers =======================================================".into())?;
    for spec in ["buzhash,19,23,21,4095", "fixed,1048576"] {
        let chunker = Chunker::new(spec.parse::<ChunkerParams>()?, 0)?;
        let mut failed = None;
        let secs = timed(scale.passes, || {
            // Through the streaming reader, as borg chunks a file object.
            let mut chunks = chunker.chunks(&data[..]);
            loop {
                match chunks.next_chunk() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        emit(wide(spec, &gb(scale.passes), secs))?;
    }

    emit("Non-cryptographic checksums / hashes ===========================".into())?;
    let secs = timed(scale.passes, || {
        std::hint::black_box(xxhash_rust::xxh64::xxh64(&data, 0));
    });
    emit(wide("xxh64", &gb(scale.passes), secs))?;
    let secs = timed(scale.passes, || {
        std::hint::black_box(crc32fast::hash(&data));
    });
    emit(wide("crc32 (zlib)", &gb(scale.passes), secs))?;

    emit("Cryptographic hashes / MACs ====================================".into())?;
    let secs = timed(scale.passes, || {
        std::hint::black_box(hmac_sha256(&key_256, &data));
    });
    emit(wide("hmac-sha256", &gb(scale.passes), secs))?;
    let key_128 = key_256.repeat(4);
    let secs = timed(scale.passes, || {
        std::hint::black_box(blake2b_256(&key_128, &data));
    });
    emit(wide("blake2b-256", &gb(scale.passes), secs))?;

    emit("Encryption =====================================================".into())?;
    for (name, kt) in [
        ("aes-256-ctr-hmac-sha256", KeyType::Repokey),
        ("aes-256-ctr-blake2b", KeyType::Blake2Repokey),
    ] {
        let key = Key::generate(kt, [0u8; 32])?;
        let secs = timed(scale.passes, || {
            std::hint::black_box(key.encrypt(0, &data));
        });
        emit(wide(name, &gb(scale.passes), secs))?;
    }

    emit("KDFs (slow is GOOD) ============================================".into())?;
    let salt = b"salt".repeat(8);
    let secs = timed(scale.kdf_runs, || {
        std::hint::black_box(oxiborg_crypto::primitives::pbkdf2_sha256(
            b"mypassphrase",
            &salt,
            100_000,
        ));
    });
    emit(wide("pbkdf2", &scale.kdf_runs.to_string(), secs))?;

    emit("Compression ====================================================".into())?;
    for spec in COMPRESSORS {
        let c = Compressor::new(CompressionSpec::parse(spec)?);
        let secs = timed(scale.compress_passes, || {
            std::hint::black_box(c.compress(&data));
        });
        emit(narrow(spec, &gb(scale.compress_passes), secs))?;
    }

    emit("msgpack ========================================================".into())?;
    let mut item = Item::new(&b"/foo/bar/baz"[..], 1_234_567);
    item.mode = Some(660);
    let mut buf = Vec::new();
    let secs = timed(scale.item_passes, || {
        buf.clear();
        // borg packs a list of 1000 item dicts.
        oxiborg_msgpack::Encoder::new(&mut buf).array_header(1000);
        for _ in 0..1000 {
            item.encode_into(&mut buf);
        }
        std::hint::black_box(&buf);
    });
    let amount = format!("{}k Items", scale.item_passes);
    emit(narrow("msgpack", &amount, secs))?;
    Ok(())
}

/// `1`, `0.1`, `0.01` ... without trailing zeros.
fn fmt_amount(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected strings worked out from borg's
    /// `fmt % (op, msg, total_size_MB / dt, count, format_file_size(size), content, dt)`
    /// with `fmt = '%s-%-10s %9.2f MB/s (%d * %s %s files: %.2fs)'`.
    #[test]
    fn crud_lines_have_borgs_format() {
        let big = set("Z-BIG", 10, 100_000_000, false);
        // 1000 MB / 8 s; "Z-BIG" padded to 10, rate right-aligned in 9.
        assert_eq!(
            crud_line('C', &big, 8.0),
            "C-Z-BIG         125.00 MB/s (10 * 100.00 MB all-zero files: 8.00s)"
        );
        let small = set("R-SMALL", 10000, 10_000, true);
        assert_eq!(
            crud_line('R', &small, 0.5),
            "R-R-SMALL       200.00 MB/s (10000 * 10.00 kB random files: 0.50s)"
        );
        let test = set("Z-TEST", 1, 1, false);
        assert_eq!(
            crud_line('U', &test, 0.23),
            "U-Z-TEST          0.00 MB/s (1 * 1 B all-zero files: 0.23s)"
        );
        let medium = set("R-MEDIUM", 1000, 1_000_000, true);
        // 1000 / 12.345 = 81.004...; 12.345 is 12.3449999... in binary, yet
        // %.2f rounds the exact value: 12.35 (Python and Rust agree).
        assert_eq!(
            crud_line('D', &medium, 12.345),
            "D-R-MEDIUM       81.00 MB/s (1000 * 1.00 MB random files: 12.35s)"
        );
        // A rate wider than 9 columns is not cut.
        let zm = set("Z-MEDIUM", 1000, 1_000_000, false);
        assert_eq!(
            crud_line('C', &zm, 0.0001),
            "C-Z-MEDIUM   10000000.00 MB/s (1000 * 1.00 MB all-zero files: 0.00s)"
        );
    }

    #[test]
    fn crud_lines_come_in_borgs_order() {
        let t = CrudTimes {
            create: 1.0,
            update: 2.0,
            extract: 3.0,
            delete: 4.0,
        };
        let lines = crud_lines(&CRUD_TEST_SETS[1], &t);
        let heads: Vec<&str> = lines.iter().map(|l| &l[..8]).collect();
        assert_eq!(heads, ["C-R-TEST", "R-R-TEST", "U-R-TEST", "D-R-TEST"]);
        // R is the extract time, U the update time.
        assert!(lines[1].ends_with("files: 3.00s)"), "{}", lines[1]);
        assert!(lines[2].ends_with("files: 2.00s)"), "{}", lines[2]);
    }

    #[test]
    fn test_data_dir_is_removed_even_on_error() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("a/b");
        let s = set("R-TEST", 3, 10, true);
        let seen = with_test_files(&base, &s, |p| {
            let mut names: Vec<String> = std::fs::read_dir(p)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            assert_eq!(std::fs::read(p.join("file_2")).unwrap().len(), 10);
            Ok(names)
        })
        .unwrap();
        assert_eq!(seen, ["file_0", "file_1", "file_2"]);
        assert!(base.is_dir() && !base.join("borg-test-data").exists());
        let r: anyhow::Result<()> =
            with_test_files(&base, &s, |_| Err(anyhow::anyhow!("step failed")));
        assert!(r.is_err());
        assert!(!base.join("borg-test-data").exists());
        // Like borg (makedirs fails, then rmtree), a leftover dir is an error and is removed.
        std::fs::create_dir(base.join("borg-test-data")).unwrap();
        let r: anyhow::Result<()> = with_test_files(&base, &s, |_| Ok(()));
        assert!(r.is_err());
        assert!(!base.join("borg-test-data").exists());
    }

    #[test]
    fn every_line_has_borgs_layout() {
        let tiny = Scale {
            data_len: 100_000,
            passes: 2,
            compress_passes: 1,
            kdf_runs: 1,
            item_passes: 1,
        };
        let mut lines = Vec::new();
        cpu(tiny, |l| {
            lines.push(l);
            Ok(())
        })
        .unwrap();
        let measured: Vec<&String> = lines.iter().filter(|l| !l.contains("====")).collect();
        // 2 chunkers, 2 checksums, 2 MACs, 2 ciphers, 1 KDF, 13 compressors, msgpack.
        assert_eq!(measured.len(), 23, "{lines:#?}");
        for l in measured {
            let secs = l.split_whitespace().last().unwrap();
            assert!(
                secs.ends_with('s') && secs.trim_end_matches('s').parse::<f64>().is_ok(),
                "{l}"
            );
            assert!(
                l.contains("  "),
                "name and amount are column-separated: {l}"
            );
        }
        assert!(
            lines[1].starts_with("buzhash,19,23,21,4095    0.0002GB"),
            "{}",
            lines[1]
        );
        assert!(lines.iter().any(|l| l.starts_with("msgpack      1k Items")));
    }
}
