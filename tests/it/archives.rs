//! Archive commands against real borg: oxiborg's archives pass
//! `borg check --verify-data`, list the same in both tools, deduplicate
//! against borg's archives, and survive borg changing the repository
//! behind oxiborg's cache.

use std::path::Path;
use std::process::{Command, Output};

use oxiborg_oracle::Borg;

use crate::tree::{make_tree, oxiborg_cmd, TreeOpts};

fn run(cmd: &mut Command, what: &str) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {shown}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ox(base: &Path) -> Command {
    let mut c = oxiborg_cmd(base);
    c.env("BORG_PASSPHRASE", "secret");
    c
}

fn borg(o: &oxiborg_oracle::Oracle, which: Borg, base: &Path) -> Command {
    let mut c = o.borg(which, base);
    c.env("BORG_PASSPHRASE", "secret");
    c
}

fn dir_size(p: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(p).unwrap().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() {
            dir_size(&e.path())
        } else {
            m.len()
        };
    }
    total
}

/// (path, size) pairs of `list --json-lines`.
fn listing(out: &Output) -> Vec<(String, u64)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["path"].as_str().unwrap().to_string(),
                v["size"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn oxiborg_archives_pass_borg_check_and_list_the_same() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let src = t.join("src");
    make_tree(&src.join("tree"), &TreeOpts::default()).unwrap();
    // borg's files cache forgets files whose ctime equals the newest seen
    // (timestamp granularity); one newer file lets every other one stay.
    std::thread::sleep(std::time::Duration::from_millis(50));
    std::fs::write(src.join("tree/zz-newest"), b"new").unwrap();
    let repo = t.join("repo");
    let r = repo.to_str().unwrap();
    run(ox(&base).args(["init", "-e", "repokey-blake2", r]), "init");
    let first = run(
        ox(&base).current_dir(&src).args([
            "create",
            "--list",
            "--json",
            &format!("{r}::one-{{now:%Y}}"),
            "tree",
        ]),
        "create",
    );
    let json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let name = json["archive"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("one-2"), "placeholder expanded: {name}");
    assert!(json["archive"]["stats"]["nfiles"].as_u64().unwrap() > 10);

    // The unchanged re-create hits the files cache for every file.
    let second = run(
        ox(&base)
            .current_dir(&src)
            .args(["create", "--list", &format!("{r}::two"), "tree"]),
        "second create",
    );
    let log = String::from_utf8_lossy(&second.stderr);
    assert!(log.contains("U tree/files/big.bin"), "{log}");
    let added: Vec<&str> = log.lines().filter(|l| l.starts_with("A ")).collect();
    assert_eq!(added, vec!["A tree/zz-newest"], "{log}");

    for which in [Borg::V14, Borg::V12] {
        let out = run(
            borg(o, which, &base).args(["check", "--verify-data", r]),
            "borg check --verify-data",
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("TAM"), "{err}");
    }
    let theirs = listing(&run(
        borg(o, Borg::V14, &base).args(["list", "--json-lines", &format!("{r}::{name}")]),
        "borg list",
    ));
    let ours = listing(&run(
        ox(&base).args(["list", "--json-lines", &format!("{r}::{name}")]),
        "oxiborg list",
    ));
    assert_eq!(ours, theirs);
    let archives = |out: Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["archives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        archives(run(
            borg(o, Borg::V14, &base).args(["list", "--json", r]),
            "borg list"
        )),
        archives(run(ox(&base).args(["list", "--json", r]), "oxiborg list"))
    );
    let info = run(
        ox(&base).args(["info", "--json", &format!("{r}::two")]),
        "info",
    );
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let theirs = run(
        borg(o, Borg::V14, &base).args(["info", "--json", &format!("{r}::two")]),
        "borg info",
    );
    let w: serde_json::Value = serde_json::from_slice(&theirs.stdout).unwrap();
    for k in [
        "nfiles",
        "original_size",
        "compressed_size",
        "deduplicated_size",
    ] {
        assert_eq!(
            v["archives"][0]["stats"][k], w["archives"][0]["stats"][k],
            "{k}"
        );
    }

    // Rename and delete keep the repository clean for borg.
    run(
        ox(&base).args(["rename", &format!("{r}::two"), "three"]),
        "rename",
    );
    run(
        ox(&base).args(["delete", &format!("{r}::{name}")]),
        "delete",
    );
    run(
        borg(o, Borg::V14, &base).args(["check", "--verify-data", r]),
        "borg check after delete",
    );
    let names = archives(run(
        borg(o, Borg::V14, &base).args(["list", "--json", r]),
        "borg list",
    ));
    assert_eq!(names, vec!["three".to_string()]);
}

#[test]
fn archives_dedup_across_tools_and_cache_resyncs_after_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let src = t.join("src");
    make_tree(&src.join("tree"), &TreeOpts::default()).unwrap();
    let repo = t.join("repo");
    let r = repo.to_str().unwrap();
    run(
        borg(o, Borg::V14, &base).args(["init", "-e", "repokey-blake2", r]),
        "borg init",
    );
    run(
        borg(o, Borg::V14, &base)
            .current_dir(&src)
            .args(["create", &format!("{r}::b1"), "tree"]),
        "borg create",
    );
    let before = dir_size(&repo);
    run(
        ox(&base)
            .current_dir(&src)
            .args(["create", &format!("{r}::o1"), "tree"]),
        "oxiborg create",
    );
    let after = dir_size(&repo);
    let growth = (after - before) as f64 / before as f64;
    assert!(
        growth < 0.01,
        "repository grew by {:.2}% ({before} -> {after})",
        growth * 100.0
    );

    // borg deletes everything and compacts; oxiborg's cache is stale and must
    // resync instead of referencing chunks that are gone.
    run(
        borg(o, Borg::V14, &base).args(["delete", &format!("{r}::b1")]),
        "borg delete b1",
    );
    run(
        borg(o, Borg::V14, &base).args(["delete", &format!("{r}::o1")]),
        "borg delete o1",
    );
    run(
        borg(o, Borg::V14, &base).args(["compact", r]),
        "borg compact",
    );
    run(
        ox(&base)
            .current_dir(&src)
            .args(["create", &format!("{r}::o2"), "tree"]),
        "oxiborg create again",
    );
    run(
        borg(o, Borg::V14, &base).args(["check", "--verify-data", r]),
        "borg check",
    );
    let out = t.join("out");
    std::fs::create_dir(&out).unwrap();
    run(
        borg(o, Borg::V14, &base)
            .current_dir(&out)
            .args(["extract", &format!("{r}::o2")]),
        "borg extract",
    );
    let a = crate::tree::snapshot(&src.join("tree"));
    let b = crate::tree::snapshot(&out.join("tree"));
    let diff = crate::tree::diff_snapshots(&a, &b, &crate::tree::CompareOpts::borg_round_trip());
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

#[test]
fn patterns_strip_components_and_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let src = t.join("src");
    std::fs::create_dir_all(src.join("d/keep")).unwrap();
    std::fs::create_dir_all(src.join("d/skip")).unwrap();
    std::fs::write(src.join("d/keep/a.txt"), b"a").unwrap();
    std::fs::write(src.join("d/skip/b.txt"), b"b").unwrap();
    std::fs::write(src.join("d/keep/c.log"), b"c").unwrap();
    let repo = t.join("repo");
    let r = repo.to_str().unwrap();
    run(ox(&base).args(["init", "-e", "none", r]), "init");
    run(
        ox(&base).current_dir(&src).args([
            "create",
            "-e",
            "*.log",
            "--exclude",
            "d/skip",
            &format!("{r}::a"),
            "d",
        ]),
        "create",
    );
    let l = run(
        ox(&base).args(["list", "--short", &format!("{r}::a")]),
        "list",
    );
    assert_eq!(
        String::from_utf8_lossy(&l.stdout),
        "d\nd/keep\nd/keep/a.txt\n"
    );
    let out = t.join("out");
    std::fs::create_dir(&out).unwrap();
    run(
        ox(&base).current_dir(&out).args([
            "extract",
            "--strip-components",
            "1",
            &format!("{r}::a"),
            "d/keep/a.txt",
        ]),
        "extract",
    );
    assert_eq!(std::fs::read(out.join("keep/a.txt")).unwrap(), b"a");
    assert!(!out.join("d").exists());
    // Errors: an existing archive name, a missing archive, an unknown option.
    let dup = ox(&base)
        .current_dir(&src)
        .args(["create", &format!("{r}::a"), "d"])
        .env("BORG_EXIT_CODES", "modern")
        .output()
        .unwrap();
    assert_eq!(
        dup.status.code(),
        Some(30),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );
    let missing = ox(&base)
        .args(["extract", &format!("{r}::nope")])
        .env("BORG_EXIT_CODES", "modern")
        .output()
        .unwrap();
    assert_eq!(
        missing.status.code(),
        Some(31),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    let unknown = ox(&base)
        .args(["create", "--no-cache-sync", &format!("{r}::b"), "d"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    // An unreadable file is a warning (rc 1) and the rest is archived.
    std::fs::write(src.join("d/keep/locked"), b"x").unwrap();
    let vanished = src.join("d/keep/dangling-dir");
    let _ = vanished;
    let ok = ox(&base)
        .current_dir(&src)
        .args(["create", &format!("{r}::c"), "d", "does-not-exist"])
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let l = run(
        ox(&base).args(["list", "--short", &format!("{r}::c")]),
        "list c",
    );
    assert!(String::from_utf8_lossy(&l.stdout).contains("d/keep/locked"));
}

/// `--checkpoint-interval`: checkpoints inside large files leave part items
/// (`PATH.borg_part_N`) in the final archive as borg's do, no checkpoint
/// archive stays behind, borg's `check --verify-data` finds no orphan, and
/// borg extracts the files intact.
#[test]
fn checkpoints_write_part_items_that_borg_accepts() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let src = t.join("src");
    std::fs::create_dir_all(src.join("d")).unwrap();
    // Incompressible data through zlib,9 keeps the run above a few seconds.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    // Walk order follows inode order, which follows creation order here:
    // big0, the small files, then links and empty files (complete at once,
    // so they wait behind big0 while it is in flight at a checkpoint),
    // then big1.
    let mut big = |i: usize| {
        let mut data = vec![0u8; 24 << 20];
        for b in data.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        std::fs::write(src.join(format!("d/big{i}")), &data).unwrap();
    };
    big(0);
    for i in 0..50 {
        std::fs::write(src.join(format!("d/small{i}")), format!("{i}\n")).unwrap();
    }
    for i in 0..30 {
        std::os::unix::fs::symlink("big0", src.join(format!("d/link{i}"))).unwrap();
        std::fs::write(src.join(format!("d/empty{i}")), b"").unwrap();
    }
    big(1);
    let repo = t.join("repo");
    let r = repo.to_str().unwrap();
    run(ox(&base).args(["init", "-e", "repokey-blake2", r]), "init");
    run(
        ox(&base).current_dir(&src).args([
            "create",
            "--checkpoint-interval",
            "1",
            "--compression",
            "zlib,9",
            &format!("{r}::a"),
            "d",
        ]),
        "create with checkpoints",
    );
    let archives = run(
        borg(o, Borg::V14, &base).args(["list", "--consider-checkpoints", "--short", r]),
        "borg list",
    );
    assert_eq!(String::from_utf8_lossy(&archives.stdout).trim(), "a");
    let parts = run(
        borg(o, Borg::V14, &base).args([
            "list",
            "--consider-part-files",
            "--short",
            &format!("{r}::a"),
        ]),
        "borg list parts",
    );
    let parts = String::from_utf8_lossy(&parts.stdout).into_owned();
    // Whether a timed checkpoint falls inside a file depends on the
    // machine's speed; when it does, its parts come in order from 1.
    if parts.contains(".borg_part_2") {
        assert!(
            parts.contains(".borg_part_1"),
            "parts out of order:\n{parts}"
        );
    }
    run(
        borg(o, Borg::V14, &base).args(["check", "--verify-data", r]),
        "borg check --verify-data",
    );
    let out = t.join("out");
    std::fs::create_dir_all(&out).unwrap();
    run(
        borg(o, Borg::V14, &base)
            .current_dir(&out)
            .args(["extract", &format!("{r}::a")]),
        "borg extract",
    );
    for i in 0..2 {
        let name = format!("d/big{i}");
        assert!(
            std::fs::read(src.join(&name)).unwrap() == std::fs::read(out.join(&name)).unwrap(),
            "{name} differs"
        );
    }
    assert!(!out.join("d/big0.borg_part_1").exists());
    // Items finished behind a file in flight at a checkpoint must not be
    // lost: every path of the source is in the archive.
    let listed = run(
        borg(o, Borg::V14, &base).args(["list", "--short", &format!("{r}::a")]),
        "borg list",
    );
    let mut listed: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    listed.sort();
    let mut want: Vec<String> = vec!["d".into(), "d/big0".into(), "d/big1".into()];
    want.extend((0..50).map(|i| format!("d/small{i}")));
    want.extend((0..30).map(|i| format!("d/link{i}")));
    want.extend((0..30).map(|i| format!("d/empty{i}")));
    want.sort();
    assert_eq!(listed, want);
    for i in 0..50 {
        let name = format!("d/small{i}");
        assert_eq!(
            std::fs::read(out.join(&name)).unwrap(),
            format!("{i}\n").into_bytes(),
            "{name}"
        );
    }
}
