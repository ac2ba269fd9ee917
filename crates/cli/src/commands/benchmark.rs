//! `oxiborg benchmark cpu`: the CPU-bound primitives, in borg 2's layout
//! (`<name> <amount> <seconds>s` under section headers), limited to what
//! borg 1.x has. `cargo xtask bench` times the same work through borg.

use std::time::Instant;

use oxiborg_chunker::{Chunker, ChunkerParams};
use oxiborg_cli_args::BenchmarkCommand;
use oxiborg_crypto::{blake2b_256, hmac_sha256, Key, KeyType};
use oxiborg_format::{CompressionSpec, Compressor, Item};

use super::print_out;

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

pub fn run(cmd: Option<BenchmarkCommand>) -> anyhow::Result<u8> {
    match cmd {
        None => print_out(&oxiborg_cli_args::help_for(&["benchmark"])),
        Some(BenchmarkCommand::Cpu) => {
            cpu(BORG_SCALE, |line| {
                print_out(&format!("{line}\n"))?;
                Ok(())
            })?;
            Ok(0)
        }
        Some(BenchmarkCommand::Crud(_)) => Err(crate::not_yet("benchmark crud").into()),
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
