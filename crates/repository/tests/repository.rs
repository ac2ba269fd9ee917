//! LocalRepository behaviour: transactions, replay, compaction, append-only,
//! quota, check and repair, and hostile on-disk state.

use std::path::Path;
use std::sync::Arc;

use oxiborg_repository::{
    segment, CommitOptions, LocalRepository, NullReporter, OpenOptions, Repository,
    RepositoryError, MANIFEST_ID,
};

fn opts() -> OpenOptions {
    OpenOptions::exclusive(oxiborg_lock::ProcessId::current(oxiborg_lock::host_id()))
}

fn create(path: &Path) -> LocalRepository {
    LocalRepository::create(path, &opts(), Arc::new(NullReporter)).unwrap()
}

fn open(path: &Path) -> LocalRepository {
    LocalRepository::open(path, &opts(), Arc::new(NullReporter)).unwrap()
}

fn id(n: u32) -> [u8; 32] {
    let mut i = [0u8; 32];
    i[..4].copy_from_slice(&n.to_le_bytes());
    i[31] = 1;
    i
}

fn compact_opts(threshold: f64) -> CommitOptions {
    CommitOptions {
        compact: true,
        threshold,
        cleanup_commits: false,
    }
}

#[test]
fn put_commit_reopen_get() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut r = create(&path);
    for n in 0..50 {
        r.put(&id(n), format!("object {n}").as_bytes()).unwrap();
    }
    r.commit(CommitOptions::default()).unwrap();
    r.close().unwrap();
    let mut r = open(&path);
    assert_eq!(r.len().unwrap(), 50);
    assert_eq!(r.get(&id(7)).unwrap(), b"object 7");
    let many = r.get_many(&[id(3), id(1), id(49)]).unwrap();
    assert_eq!(
        many,
        vec![
            b"object 3".to_vec(),
            b"object 1".to_vec(),
            b"object 49".to_vec()
        ]
    );
    let mut listed = r.list(None, None).unwrap();
    listed.sort();
    let mut want: Vec<_> = (0..50).map(id).collect();
    want.sort();
    assert_eq!(listed, want);
    // list and scan page through everything with markers.
    let first = r.scan(Some(20), None).unwrap();
    let rest = r.scan(None, Some(first.last().unwrap())).unwrap();
    assert_eq!(first.len() + rest.len(), 50);
    let page = r.list(Some(10), None).unwrap();
    assert_eq!(r.list(None, Some(&page[9])).unwrap().len(), 40);
}

#[test]
fn uncommitted_data_is_rolled_back_and_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut r = create(&path);
    r.put(&id(1), b"committed").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    r.put(&id(2), b"not committed").unwrap();
    r.rollback().unwrap();
    assert!(matches!(
        r.get(&id(2)),
        Err(RepositoryError::ObjectNotFound { .. })
    ));
    r.put(&id(3), b"again not committed").unwrap();
    drop(r); // like a crash: nothing committed
    let mut r = open(&path);
    assert_eq!(r.len().unwrap(), 1);
    assert_eq!(r.get(&id(1)).unwrap(), b"committed");
    // The next transaction deletes the uncommitted tail before writing.
    r.put(&id(4), b"x").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    assert_eq!(r.len().unwrap(), 2);
}

#[test]
fn replay_rebuilds_a_missing_or_corrupt_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut r = create(&path);
    for n in 0..20 {
        r.put(&id(n), &[n as u8; 100]).unwrap();
    }
    r.delete(&id(5)).ok();
    r.commit(CommitOptions::default()).unwrap();
    r.close().unwrap();
    let index = std::fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("index.")
        });
    let index = index.unwrap();
    // Corrupt: flip a byte in the bucket array.
    let mut bytes = std::fs::read(&index).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&index, bytes).unwrap();
    let mut r = open(&path);
    assert_eq!(r.len().unwrap(), 19);
    assert_eq!(r.get(&id(6)).unwrap(), vec![6u8; 100]);
    r.close().unwrap();
    // Missing entirely.
    for e in std::fs::read_dir(&path).unwrap() {
        let p = e.unwrap().path();
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        if n.starts_with("index.") || n.starts_with("hints.") || n.starts_with("integrity.") {
            std::fs::remove_file(p).unwrap();
        }
    }
    let mut r = open(&path);
    assert_eq!(r.len().unwrap(), 19);
    assert!(r.check(false, None).unwrap());
}

#[test]
fn overwrite_delete_and_compact_free_space() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut r = create(&path);
    for n in 0..10 {
        r.put(&id(n), &vec![n as u8; 10_000]).unwrap();
    }
    r.put(&MANIFEST_ID, b"manifest 1").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    for n in 0..8 {
        r.delete(&id(n)).unwrap();
    }
    r.put(&id(9), b"replaced").unwrap();
    r.put(&MANIFEST_ID, b"manifest 2").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    let before: u64 = segment_bytes(&path);
    // Like `borg compact`: a manifest rewrite starts the transaction.
    let m = r.get(&MANIFEST_ID).unwrap();
    r.put(&MANIFEST_ID, &m).unwrap();
    r.commit(compact_opts(0.1)).unwrap();
    let after = segment_bytes(&path);
    assert!(
        after < before / 2,
        "compaction freed too little: {before} -> {after}"
    );
    assert_eq!(r.len().unwrap(), 3);
    assert_eq!(r.get(&id(8)).unwrap(), vec![8u8; 10_000]);
    assert_eq!(r.get(&id(9)).unwrap(), b"replaced");
    assert_eq!(r.get(&MANIFEST_ID).unwrap(), b"manifest 2");
    assert!(r.check(false, None).unwrap());
    r.close().unwrap();
    let mut r = open(&path);
    assert!(matches!(
        r.get(&id(0)),
        Err(RepositoryError::ObjectNotFound { .. })
    ));
}

fn segment_bytes(path: &Path) -> u64 {
    let mut total = 0;
    for d in std::fs::read_dir(path.join("data")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            total += f.unwrap().metadata().unwrap().len();
        }
    }
    total
}

fn segment_files(path: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(path.join("data")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            out.push(f.unwrap().file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

#[test]
fn append_only_keeps_every_segment_and_logs_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut o = opts();
    o.append_only = true;
    let mut r = LocalRepository::create(&path, &o, Arc::new(NullReporter)).unwrap();
    r.put(&id(1), b"a").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    let before = segment_files(&path);
    r.delete(&id(1)).unwrap();
    r.commit(compact_opts(0.0)).unwrap();
    let after = segment_files(&path);
    assert!(
        before.iter().all(|s| after.contains(s)),
        "{before:?} ⊄ {after:?}"
    );
    let log = std::fs::read_to_string(path.join("transactions")).unwrap();
    assert_eq!(log.lines().count(), 2);
    assert!(log.starts_with("transaction 1, UTC time "), "{log}");
    assert!(matches!(
        r.check(true, None),
        Err(RepositoryError::AppendOnly { .. })
    ));
    assert!(matches!(
        r.destroy(),
        Err(RepositoryError::AppendOnly { .. })
    ));
}

#[test]
fn storage_quota_dooms_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut o = opts();
    o.storage_quota = Some(10_000);
    let mut r = LocalRepository::create(&path, &o, Arc::new(NullReporter)).unwrap();
    r.put(&id(1), &[0u8; 5_000]).unwrap();
    let e = r.put(&id(2), &[0u8; 6_000]).unwrap_err();
    assert!(
        matches!(
            e,
            RepositoryError::StorageQuotaExceeded { ref quota, .. } if quota == "10.00 kB"
        ),
        "{e}"
    );
    assert!(matches!(
        r.commit(CommitOptions::default()),
        Err(RepositoryError::StorageQuotaExceeded { .. })
    ));
    drop(r);
    let mut r = open(&path);
    assert_eq!(r.len().unwrap(), 0);
    assert_eq!(r.settings().storage_quota, 10_000);
}

#[test]
fn check_finds_and_repairs_a_damaged_segment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut r = create(&path);
    for n in 0..5 {
        r.put(&id(n), &vec![n as u8; 1000]).unwrap();
    }
    r.commit(CommitOptions::default()).unwrap();
    r.close().unwrap();
    // Flip a byte inside the data of the first PUT of segment 0.
    let seg0 = path.join("data/0/0");
    let mut bytes = std::fs::read(&seg0).unwrap();
    bytes[8 + 41 + 10] ^= 0x55;
    std::fs::write(&seg0, bytes).unwrap();
    let mut r = open(&path);
    assert!(
        !r.check(false, None).unwrap(),
        "corruption must be reported"
    );
    assert!(r.check(true, None).unwrap());
    assert!(
        r.check(false, None).unwrap(),
        "repaired repository checks clean"
    );
    assert_eq!(r.len().unwrap(), 4);
    assert!(matches!(
        r.get(&id(0)),
        Err(RepositoryError::ObjectNotFound { .. })
    ));
    assert_eq!(r.get(&id(1)).unwrap(), vec![1u8; 1000]);
}

#[test]
fn partial_check_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut r = create(&path);
    for round in 0..4u32 {
        r.put(&id(round), b"x").unwrap();
        r.commit(CommitOptions::default()).unwrap();
    }
    assert!(r
        .check(false, Some(std::time::Duration::from_nanos(1)))
        .unwrap());
    assert!(r.config().get("last_segment_checked").is_some());
    assert!(r.check(false, None).unwrap());
    assert!(r.config().get("last_segment_checked").is_none());
}

#[test]
fn bad_repositories_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let e = LocalRepository::open(&missing, &opts(), Arc::new(NullReporter)).unwrap_err();
    assert!(matches!(e, RepositoryError::DoesNotExist { .. }), "{e}");
    let plain = dir.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    std::fs::write(plain.join("file"), b"x").unwrap();
    let e = LocalRepository::open(&plain, &opts(), Arc::new(NullReporter)).unwrap_err();
    assert!(
        matches!(e, RepositoryError::InvalidRepository { .. }),
        "{e}"
    );
    let e = LocalRepository::create(&plain, &opts(), Arc::new(NullReporter)).unwrap_err();
    assert!(
        matches!(e, RepositoryError::PathAlreadyExists { .. }),
        "{e}"
    );
    let nested = dir.path().join("a/b/c");
    let e = LocalRepository::create(&nested, &opts(), Arc::new(NullReporter)).unwrap_err();
    assert!(
        matches!(e, RepositoryError::ParentPathDoesNotExist { .. }),
        "{e}"
    );

    let path = dir.path().join("repo");
    drop(create(&path));
    let inner = path.join("inner");
    let e = LocalRepository::create(&inner, &opts(), Arc::new(NullReporter)).unwrap_err();
    assert!(matches!(e, RepositoryError::AlreadyExists { .. }), "{e}");
    let cfg = std::fs::read_to_string(path.join("config")).unwrap();
    std::fs::write(
        path.join("config"),
        cfg.replace("version = 1", "version = 2"),
    )
    .unwrap();
    let e = LocalRepository::open(&path, &opts(), Arc::new(NullReporter)).unwrap_err();
    assert!(
        e.to_string()
            .contains("repository version 2 is not supported"),
        "{e}"
    );
    std::fs::write(path.join("config"), &cfg).unwrap();

    // A truncated committed segment: check reports it and names the segment.
    let mut r = open(&path);
    r.put(&id(1), &[1u8; 500]).unwrap();
    r.commit(CommitOptions::default()).unwrap();
    r.close().unwrap();
    let seg0 = path.join("data/0/0");
    let len = std::fs::metadata(&seg0).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg0)
        .unwrap()
        .set_len(len - 100)
        .unwrap();
    let mut r = open(&path);
    let e = r.get(&id(1)).unwrap_err();
    assert!(e.to_string().contains("segment 0"), "{e}");
    assert!(!r.check(false, None).unwrap());
    // Wrong magic.
    let mut bytes = std::fs::read(&seg0).unwrap();
    bytes[..8].copy_from_slice(b"XXXX_SEG");
    std::fs::write(&seg0, bytes).unwrap();
    assert!(!r.check(false, None).unwrap());
}

#[test]
fn segment_layout_matches_borg_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut r = create(&path);
    r.put(&MANIFEST_ID, b"m").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    // borg init: 0 = PUT manifest, 1 = COMMIT (17 bytes), transaction 1.
    assert_eq!(segment_files(&path), vec!["0", "1"]);
    assert_eq!(std::fs::read(path.join("data/0/1")).unwrap().len(), 17);
    assert!(
        path.join("index.1").exists()
            && path.join("hints.1").exists()
            && path.join("integrity.1").exists()
    );
    r.put(&id(1), b"data").unwrap();
    r.put(&MANIFEST_ID, b"m2").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    // data PUT in 2, DELETE manifest in 3, PUT manifest in 4, COMMIT in 5.
    assert_eq!(segment_files(&path), vec!["0", "1", "2", "3", "4", "5"]);
    assert_eq!(std::fs::read(path.join("data/0/3")).unwrap().len(), 49);
    assert!(path.join("index.5").exists() && !path.join("index.1").exists());
    let seg5 = std::fs::read(path.join("data/0/5")).unwrap();
    assert_eq!(&seg5[8..], &segment::COMMIT_ENTRY);
}

#[test]
fn corrupt_hints_or_integrity_files_are_rebuilt_from_segments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut r = create(&path);
    for n in 0..10 {
        r.put(&id(n), &[n as u8; 300]).unwrap();
    }
    r.commit(CommitOptions::default()).unwrap();
    r.close().unwrap();
    let tid = std::fs::read_dir(&path)
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .strip_prefix("hints.")
                .map(str::to_string)
        })
        .next()
        .unwrap();
    // Garbage hints: the next write transaction rebuilds from the segments.
    std::fs::write(path.join(format!("hints.{tid}")), b"\xc1garbage").unwrap();
    let mut r = open(&path);
    r.put(&id(100), b"new").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    assert_eq!(r.len().unwrap(), 11);
    assert!(r.check(false, None).unwrap());
    r.close().unwrap();
    // A digest mismatch in integrity.N is detected and the index rebuilt.
    let tid = std::fs::read_dir(&path)
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .strip_prefix("integrity.")
                .map(str::to_string)
        })
        .next()
        .unwrap();
    let integ = path.join(format!("integrity.{tid}"));
    let bytes = std::fs::read(&integ).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let pos = text.find("\"final\": \"").unwrap() + 10;
    let mut bytes = bytes;
    bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
    std::fs::write(&integ, bytes).unwrap();
    let mut r = open(&path);
    assert_eq!(r.len().unwrap(), 11);
    assert_eq!(r.get(&id(100)).unwrap(), b"new");
    assert!(r.check(false, None).unwrap());
}

/// Mount a small tmpfs (needs root, as CI has); `None` outside CI when mounting is impossible.
fn tmpfs(dir: &Path) -> Option<Mount> {
    std::fs::create_dir_all(dir).unwrap();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32m", "tmpfs"])
        .arg(dir)
        .status();
    match ok {
        Ok(s) if s.success() => Some(Mount(dir.to_path_buf())),
        _ if oxiborg_oracle::in_ci() => {
            panic!("cannot mount a tmpfs for the read-only filesystem test")
        }
        _ => None,
    }
}

struct Mount(std::path::PathBuf);

impl Mount {
    fn read_only(&self) {
        let s = std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(s.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

fn snapshot(p: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            for (n, d) in snapshot(&e.path()) {
                out.push((format!("{}/{n}", e.file_name().to_string_lossy()), d));
            }
        } else {
            out.push((
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn read_only_filesystem_gives_clear_errors_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mount) = tmpfs(&dir.path().join("mnt")) else {
        return;
    };
    let path = dir.path().join("mnt/repo");
    let mut r = create(&path);
    r.put(&id(1), b"kept").unwrap();
    r.commit(CommitOptions::default()).unwrap();
    r.close().unwrap();
    mount.read_only();
    let before = snapshot(&path);
    // Taking the lock needs a write: a clear lock error naming the path.
    let e = LocalRepository::open(&path, &opts(), Arc::new(NullReporter)).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("Read-only"),
        "{msg}"
    );
    // Without locking, reads work and writes fail naming the file.
    let mut o = opts();
    o.lock = false;
    let mut r = LocalRepository::open(&path, &o, Arc::new(NullReporter)).unwrap();
    assert_eq!(r.get(&id(1)).unwrap(), b"kept");
    let e = r
        .put(&id(2), b"new")
        .and_then(|()| r.commit(CommitOptions::default()))
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("Read-only") && msg.contains(&path.display().to_string()),
        "{msg}"
    );
    drop(r);
    assert_eq!(snapshot(&path), before, "nothing on disk changed");
}

#[test]
fn get_many_keeps_request_order_and_reports_the_first_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let mut r = create(&path);
    for n in 0..300 {
        r.put(&id(n), &vec![n as u8; 500 + n as usize]).unwrap();
    }
    r.commit(CommitOptions::default()).unwrap();
    let order: Vec<u32> = (0..300)
        .rev()
        .step_by(3)
        .chain((0..300).step_by(7))
        .collect();
    let ids: Vec<_> = order.iter().map(|&n| id(n)).collect();
    let got = r.get_many(&ids).unwrap();
    for (n, data) in order.iter().zip(&got) {
        assert_eq!(data, &vec![*n as u8; 500 + *n as usize], "object {n}");
    }
    // Damage two objects: the error names the earlier one in request order.
    r.close().unwrap();
    let seg0 = path.join("data/0/0");
    let mut bytes = std::fs::read(&seg0).unwrap();
    let (first, second) = (8 + 41 + 5, bytes.len() - 3000);
    bytes[first] ^= 1;
    bytes[second] ^= 1;
    std::fs::write(&seg0, bytes).unwrap();
    let mut r = open(&path);
    let e = r
        .get_many(&[id(200), id(100), id(0), id(299)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("segment 0") && e.contains("checksum"), "{e}");
    assert!(matches!(
        r.get_many(&[id(5), id(9999)]),
        Err(RepositoryError::ObjectNotFound { .. })
    ));
}
