//! The same repository, worked on by oxiborg and by real borg in turn.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use oxiborg_oracle::{Borg, Oracle};
use oxiborg_repository::{
    CommitOptions, LocalRepository, NullReporter, OpenOptions, Repository, MANIFEST_ID,
};

fn opts() -> OpenOptions {
    let mut o = OpenOptions::exclusive(oxiborg_lock::ProcessId::current(oxiborg_lock::host_id()));
    o.lock_wait = Some(Duration::from_secs(10));
    o
}

fn obj_id(round: u32, i: u32) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&round.to_le_bytes());
    id[4..8].copy_from_slice(&i.to_le_bytes());
    id[8] = 0xaa;
    id
}

fn obj_data(round: u32, i: u32, len: usize) -> Vec<u8> {
    let mut x = (u64::from(round) << 32 | u64::from(i)).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn borg_ok(oracle: &Oracle, which: Borg, base: &Path, args: &[&str]) -> String {
    let out = oracle.borg(which, base).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "borg {args:?} failed ({}):\n{text}",
        out.status
    );
    text
}

/// borg's own Repository class reads the objects back (hex lines in, hex lines out).
fn borg_read(oracle: &Oracle, repo: &Path, ids: &[[u8; 32]]) -> Vec<Vec<u8>> {
    let script = r#"
import sys
from borg.logger import setup_logging
setup_logging()
from borg.repository import Repository
with Repository(sys.argv[1], exclusive=True) as r:
    for line in sys.stdin.read().split():
        sys.stdout.write(r.get(bytes.fromhex(line)).hex() + "\n")
"#;
    let input: String = ids.iter().map(|i| hex(i) + "\n").collect();
    let out = oracle.python_output(script, input.as_bytes(), [repo.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(unhex)
        .collect()
}

/// borg's Repository class writes objects (and optionally deletes) and commits.
fn borg_write(oracle: &Oracle, repo: &Path, puts: &[([u8; 32], Vec<u8>)], deletes: &[[u8; 32]]) {
    let script = r#"
import sys
from borg.logger import setup_logging
setup_logging()
from borg.repository import Repository
lines = sys.stdin.read().split("\n")
with Repository(sys.argv[1], exclusive=True) as r:
    for line in lines:
        if line.startswith("P "):
            _, i, d = line.split(" ")
            r.put(bytes.fromhex(i), bytes.fromhex(d))
        elif line.startswith("D "):
            r.delete(bytes.fromhex(line[2:]))
    r.commit(compact=False)
"#;
    let mut input = String::new();
    for (i, d) in puts {
        input += &format!("P {} {}\n", hex(i), hex(d));
    }
    for i in deletes {
        input += &format!("D {}\n", hex(i));
    }
    let out = oracle.python_output(script, input.as_bytes(), [repo.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn borg_reads_and_checks_what_oxiborg_wrote() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let path = base.path().join("repo");
    let mut r = LocalRepository::create(&path, &opts(), Arc::new(NullReporter)).unwrap();
    let mut puts = Vec::new();
    for i in 0..200 {
        let d = obj_data(1, i, 100 + (i as usize * 37) % 5000);
        r.put(&obj_id(1, i), &d).unwrap();
        puts.push((obj_id(1, i), d));
    }
    r.put(&MANIFEST_ID, b"not a real manifest").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    // Overwrites and deletes, so the index has tombstones and hints have shadow entries.
    for i in 0..50 {
        r.delete(&obj_id(1, i)).unwrap();
    }
    let d = obj_data(9, 9, 4000);
    r.put(&obj_id(1, 60), &d).unwrap();
    puts[60].1 = d;
    r.commit(CommitOptions::default()).unwrap();
    r.close().unwrap();

    for which in [Borg::V14, Borg::V12] {
        let out = borg_ok(
            oracle,
            which,
            base.path(),
            &[
                "check",
                "--repository-only",
                "--debug",
                path.to_str().unwrap(),
            ],
        );
        assert!(out.contains("no problems found"), "{which:?}: {out}");
    }
    let ids: Vec<_> = puts[50..].iter().map(|(i, _)| *i).collect();
    let got = borg_read(oracle, &path, &ids);
    assert_eq!(got.len(), ids.len());
    for ((_, want), got) in puts[50..].iter().zip(&got) {
        assert_eq!(want, got);
    }
    // borg compact (needs only a manifest object) then oxiborg reads everything.
    borg_ok(
        oracle,
        Borg::V14,
        base.path(),
        &["compact", "--threshold", "0", path.to_str().unwrap()],
    );
    let mut r = LocalRepository::open(&path, &opts(), Arc::new(NullReporter)).unwrap();
    assert_eq!(r.len().unwrap(), 151);
    for (i, d) in &puts[50..] {
        assert_eq!(&r.get(i).unwrap(), d);
    }
    assert!(r.check(false, None).unwrap());
}

#[test]
fn oxiborg_reads_compacts_and_checks_what_borg_wrote() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    for (which, name) in [(Borg::V14, "repo14"), (Borg::V12, "repo12")] {
        let path = base.path().join(name);
        borg_ok(
            oracle,
            which,
            base.path(),
            &["init", "-e", "none", path.to_str().unwrap()],
        );
        let puts: Vec<_> = (0..100)
            .map(|i| (obj_id(2, i), obj_data(2, i, 3000)))
            .collect();
        borg_write(oracle, &path, &puts, &[]);
        let dels: Vec<_> = (0..60).map(|i| obj_id(2, i)).collect();
        borg_write(oracle, &path, &[(obj_id(3, 0), b"late".to_vec())], &dels);

        let mut r = LocalRepository::open(&path, &opts(), Arc::new(NullReporter)).unwrap();
        // borg init's manifest + 40 live + 1.
        assert_eq!(r.len().unwrap(), 42);
        assert!(r.get(&MANIFEST_ID).unwrap().len() > 10);
        for (i, d) in &puts[60..] {
            assert_eq!(&r.get(i).unwrap(), d);
        }
        assert!(
            r.check(false, None).unwrap(),
            "{which:?}: oxiborg check of borg's repository"
        );
        // oxiborg compacts (as `borg compact` does), then borg checks and reads.
        let m = r.get(&MANIFEST_ID).unwrap();
        r.put(&MANIFEST_ID, &m).unwrap();
        r.commit(CommitOptions {
            compact: true,
            threshold: 0.1,
            cleanup_commits: false,
        })
        .unwrap();
        r.close().unwrap();
        let out = borg_ok(
            oracle,
            which,
            base.path(),
            &[
                "check",
                "--repository-only",
                "--debug",
                path.to_str().unwrap(),
            ],
        );
        assert!(out.contains("no problems found"), "{which:?}: {out}");
        let ids: Vec<_> = puts[60..].iter().map(|(i, _)| *i).collect();
        for ((_, want), got) in puts[60..].iter().zip(borg_read(oracle, &path, &ids)) {
            assert_eq!(want, &got);
        }
    }
}

#[test]
fn oxiborg_check_agrees_with_borg_on_corruption() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let path = base.path().join("repo");
    borg_ok(
        oracle,
        Borg::V14,
        base.path(),
        &["init", "-e", "none", path.to_str().unwrap()],
    );
    let puts: Vec<_> = (0..20)
        .map(|i| (obj_id(4, i), obj_data(4, i, 2000)))
        .collect();
    borg_write(oracle, &path, &puts, &[]);
    // Flip one byte in the data segment (segment 2 holds the PUTs).
    let seg = path.join("data/0/2");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[500] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();
    let theirs = oracle
        .borg(Borg::V14, base.path())
        .args(["check", "--repository-only", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(theirs.status.code(), Some(1), "borg finds the damage");
    let mut r = LocalRepository::open(&path, &opts(), Arc::new(NullReporter)).unwrap();
    assert!(!r.check(false, None).unwrap(), "oxiborg finds it too");
    assert!(r.check(true, None).unwrap());
    r.close().unwrap();
    // After oxiborg's repair borg agrees the repository is consistent.
    let out = borg_ok(
        oracle,
        Borg::V14,
        base.path(),
        &[
            "check",
            "--repository-only",
            "--debug",
            path.to_str().unwrap(),
        ],
    );
    assert!(out.contains("no problems found"), "{out}");
}

/// The writer child of the crash test: commits rounds until killed.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var("OXIBORG_CRASH_CHILD") else {
        return;
    };
    let path = Path::new(&path);
    let mut r = LocalRepository::open(path, &opts(), Arc::new(NullReporter)).unwrap();
    let start: u32 = std::env::var("OXIBORG_CRASH_ROUND")
        .unwrap()
        .parse()
        .unwrap();
    for round in start.. {
        for i in 0..40 {
            r.put(&obj_id(round, i), &obj_data(round, i, 20_000))
                .unwrap();
        }
        if round % 2 == 0 && round >= 2 {
            for i in 0..20 {
                // Delete half of an older round so compaction has work.
                r.delete(&obj_id(round - 2, i)).unwrap();
            }
        }
        r.put(&MANIFEST_ID, &round.to_le_bytes()).unwrap();
        let compact = round % 3 == 0;
        r.commit(CommitOptions {
            compact,
            threshold: 0.1,
            cleanup_commits: false,
        })
        .unwrap();
        println!("committed {round}");
    }
}

#[test]
fn sigkill_at_random_moments_leaves_a_consistent_repository() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let path = base.path().join("repo");
    // As `init` does, the new repository gets a first commit (an empty
    // manifest): a repository killed before its very first commit has no
    // valid data, which borg's check reports too.
    let mut r = LocalRepository::create(&path, &opts(), Arc::new(NullReporter)).unwrap();
    r.put(&MANIFEST_ID, b"").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    r.close().unwrap();
    let mut committed: Vec<u32> = Vec::new();
    let mut deleted: Vec<(u32, u32)> = Vec::new();
    let mut next_round = 0u32;
    let mut seed = 0x1234_5678u64;
    for kill in 0..12 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(
            std::env::var("OXIBORG_CRASH_DELAY_MS")
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(30 + (seed >> 33) % 400, |d| d + kill as u64 * 3),
        );
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env("OXIBORG_CRASH_CHILD", &path)
            .env("OXIBORG_CRASH_ROUND", next_round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut last = None;
        for line in out.lines() {
            if let Some(n) = line.unwrap().strip_prefix("committed ") {
                last = Some(n.trim().parse::<u32>().unwrap());
            }
        }
        // Rounds reported committed are durable. The round in flight may or
        // may not be: find out from the manifest object.
        let mut r = LocalRepository::open(&path, &opts(), Arc::new(NullReporter)).unwrap();
        let manifest_round = r
            .get(&MANIFEST_ID)
            .ok()
            .filter(|m| m.len() == 4)
            .map(|m| u32::from_le_bytes(m[..4].try_into().unwrap()));
        if let Some(l) = last {
            assert!(
                manifest_round.is_some_and(|m| m >= l),
                "kill {kill}: round {l} was reported committed"
            );
        }
        if let Some(m) = manifest_round {
            for round in next_round..=m {
                committed.push(round);
                if round % 2 == 0 && round >= 2 {
                    deleted.extend((0..20).map(|i| (round - 2, i)));
                }
            }
            next_round = m + 1;
        }
        for &round in &committed {
            for i in 0..40 {
                let got = r.get(&obj_id(round, i));
                if deleted.contains(&(round, i)) {
                    assert!(
                        got.is_err(),
                        "kill {kill}: deleted object {round}/{i} came back"
                    );
                } else {
                    assert_eq!(
                        got.unwrap(),
                        obj_data(round, i, 20_000),
                        "kill {kill}: object {round}/{i}"
                    );
                }
            }
        }
        assert!(r.check(false, None).unwrap(), "kill {kill}: oxiborg check");
        r.close().unwrap();
        let out = borg_ok(
            oracle,
            Borg::V14,
            base.path(),
            &[
                "check",
                "--repository-only",
                "--debug",
                path.to_str().unwrap(),
            ],
        );
        assert!(out.contains("no problems found"), "kill {kill}: {out}");
    }
    assert!(
        committed.len() >= 3,
        "the writer should have committed several rounds, got {committed:?}"
    );
}

#[test]
fn segment_rollover_and_directories_are_borgs() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let path = base.path().join("repo");
    let mut r = LocalRepository::create(&path, &opts(), Arc::new(NullReporter)).unwrap();
    r.set_config("segments_per_dir", "4").unwrap();
    r.set_config("max_segment_size", "200000").unwrap();
    r.close().unwrap();
    let mut r = LocalRepository::open(&path, &opts(), Arc::new(NullReporter)).unwrap();
    let puts: Vec<_> = (0..60)
        .map(|i| (obj_id(5, i), obj_data(5, i, 30_000)))
        .collect();
    for (i, d) in &puts {
        r.put(i, d).unwrap();
    }
    r.commit(CommitOptions::default()).unwrap();
    r.close().unwrap();
    // ~1.8 MB in segments of a little over 200 kB, four per directory.
    let mut dirs: Vec<u32> = std::fs::read_dir(path.join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 3 && dirs == (0..dirs.len() as u32).collect::<Vec<_>>(),
        "{dirs:?}"
    );
    for d in &dirs {
        for f in std::fs::read_dir(path.join(format!("data/{d}"))).unwrap() {
            let f = f.unwrap();
            let n: u32 = f.file_name().to_string_lossy().parse().unwrap();
            assert_eq!(n / 4, *d, "segment {n} in data/{d}");
            assert!(
                f.metadata().unwrap().len() <= 200_000 + 30_000 + 41 + 8,
                "segment {n} over the limit"
            );
        }
    }
    let out = borg_ok(
        oracle,
        Borg::V14,
        base.path(),
        &[
            "check",
            "--repository-only",
            "--debug",
            path.to_str().unwrap(),
        ],
    );
    assert!(out.contains("no problems found"), "{out}");
    let ids: Vec<_> = puts.iter().map(|(i, _)| *i).collect();
    for ((_, want), got) in puts.iter().zip(borg_read(oracle, &path, &ids)) {
        assert_eq!(want, &got);
    }
    // And borg, continuing to write, follows the same layout rules.
    borg_write(
        oracle,
        &path,
        &[(obj_id(6, 0), obj_data(6, 0, 300_000))],
        &[],
    );
    let mut r = LocalRepository::open(&path, &opts(), Arc::new(NullReporter)).unwrap();
    assert_eq!(r.get(&obj_id(6, 0)).unwrap(), obj_data(6, 0, 300_000));
}

/// borg and oxiborg count the same bytes against a storage quota: given the
/// same sequence of puts, both refuse the same one.
#[test]
fn storage_quota_accounting_matches_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let quota: u64 = 1_000_000;
    let sizes: Vec<usize> = (0..200).map(|i| 1000 + (i * 7919) % 20_000).collect();
    let script = r#"
import sys
from borg.logger import setup_logging
setup_logging()
from borg.repository import Repository
path, quota = sys.argv[1], int(sys.argv[2])
sizes = [int(x) for x in sys.stdin.read().split()]
Repository(path, create=True).__enter__().close()
with Repository(path, exclusive=True, storage_quota=quota) as r:
    for n, s in enumerate(sizes):
        try:
            r.put(n.to_bytes(32, 'little'), b'x' * s)
        except Repository.StorageQuotaExceeded:
            print(n, r.storage_quota_use)
            break
"#;
    let borg_path = base.path().join("borg-repo");
    let input: String = sizes.iter().map(|s| format!("{s}\n")).collect();
    let out = oracle.python_output(
        script,
        input.as_bytes(),
        [borg_path.as_os_str(), quota.to_string().as_ref()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let mut o = opts();
    o.storage_quota = Some(quota);
    let mut r =
        LocalRepository::create(&base.path().join("ox-repo"), &o, Arc::new(NullReporter)).unwrap();
    let mut ours = String::new();
    for (n, s) in sizes.iter().enumerate() {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&(n as u64).to_le_bytes());
        if r.put(&id, &vec![b'x'; *s]).is_err() {
            ours = format!("{n} {}", r.storage_quota().1);
            break;
        }
    }
    assert!(!ours.is_empty(), "oxiborg never hit the quota");
    assert_eq!(ours, theirs, "(index of the refused put, bytes counted)");
}
