//! init, check --repository-only, compact, break-lock and with-lock through
//! the `oxiborg` binary, side by side with real borg on the same repositories.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use oxiborg_oracle::{Borg, Oracle};

fn oxiborg(base: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxiborg"));
    oxiborg_oracle::isolate_env(&mut cmd, base);
    cmd.env("BORG_PASSPHRASE", "pw")
        .env("BORG_EXIT_CODES", "modern")
        .args(args)
        .output()
        .unwrap()
}

fn borg(oracle: &Oracle, which: Borg, base: &Path, args: &[&str]) -> Output {
    oracle
        .borg(which, base)
        .env("BORG_PASSPHRASE", "pw")
        .env("BORG_EXIT_CODES", "modern")
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output, what: &str) -> String {
    assert_eq!(o.status.code(), Some(0), "{what}:\n{}", text(&o));
    text(&o)
}

#[test]
fn init_then_borg_works_and_errors_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let b = base.path();
    let repo = b.join("repo");
    let r = repo.to_str().unwrap();
    ok(
        oxiborg(b, &["init", "-e", "repokey-blake2", r]),
        "oxiborg init",
    );
    ok(borg(oracle, Borg::V14, b, &["check", r]), "borg check");
    ok(
        borg(
            oracle,
            Borg::V14,
            b,
            &[
                "create",
                &format!("{r}::one"),
                b.join("repo/README").to_str().unwrap(),
            ],
        ),
        "borg create",
    );
    assert!(ok(borg(oracle, Borg::V12, b, &["list", r]), "borg 1.2 list").contains("one"));

    // The same mistakes give the same exit codes (modern mode) as borg.
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "existing repository",
            vec!["init".into(), "-e".into(), "none".into(), r.into()],
        ),
        (
            "non-empty directory",
            vec![
                "init".into(),
                "-e".into(),
                "none".into(),
                b.join("repo/data").to_string_lossy().into(),
            ],
        ),
        (
            "missing parent",
            vec![
                "init".into(),
                "-e".into(),
                "none".into(),
                b.join("x/y/z").to_string_lossy().into(),
            ],
        ),
        (
            "missing repository",
            vec![
                "check".into(),
                "--repository-only".into(),
                b.join("nope").to_string_lossy().into(),
            ],
        ),
        (
            "not a repository",
            vec![
                "check".into(),
                "--repository-only".into(),
                b.join("repo/data").to_string_lossy().into(),
            ],
        ),
        (
            "bad mode",
            vec![
                "init".into(),
                "-e".into(),
                "rot13".into(),
                b.join("n").to_string_lossy().into(),
            ],
        ),
    ];
    for (what, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let theirs = borg(oracle, Borg::V14, b, &args);
        let ours = oxiborg(b, &args);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{what}: borg said\n{}\noxiborg said\n{}",
            text(&theirs),
            text(&ours)
        );
    }
    // --make-parent-dirs, --append-only and --storage-quota land in the config as borg writes them.
    let deep = b.join("p/q/repo");
    ok(
        oxiborg(
            b,
            &[
                "init",
                "-e",
                "none",
                "--make-parent-dirs",
                "--append-only",
                "--storage-quota",
                "1.5G",
                deep.to_str().unwrap(),
            ],
        ),
        "init with options",
    );
    let cfg = std::fs::read_to_string(deep.join("config")).unwrap();
    assert!(
        cfg.contains("append_only = 1\n") && cfg.contains("storage_quota = 1500000000\n"),
        "{cfg}"
    );
    assert_eq!(
        ok(
            borg(
                oracle,
                Borg::V14,
                b,
                &["config", deep.to_str().unwrap(), "append_only"]
            ),
            "borg config"
        )
        .trim(),
        "1"
    );
    let small = oxiborg(
        b,
        &[
            "init",
            "-e",
            "none",
            "--storage-quota",
            "5M",
            b.join("q").to_str().unwrap(),
        ],
    );
    assert_eq!(
        small.status.code(),
        Some(2),
        "quota below 10M is a usage error like borg's"
    );
}

#[test]
fn keyfile_init_puts_the_key_where_borg_finds_it() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let b = base.path();
    let repo = b.join("kf");
    ok(
        oxiborg(b, &["init", "-e", "keyfile", repo.to_str().unwrap()]),
        "init keyfile",
    );
    let keys: Vec<_> = std::fs::read_dir(b.join(".config/borg/keys"))
        .unwrap()
        .collect();
    assert_eq!(keys.len(), 1);
    ok(
        borg(oracle, Borg::V14, b, &["check", repo.to_str().unwrap()]),
        "borg check with our keyfile",
    );
    let exported = ok(
        borg(
            oracle,
            Borg::V14,
            b,
            &["key", "export", repo.to_str().unwrap()],
        ),
        "borg key export",
    );
    assert!(exported.starts_with("BORG_KEY "), "{exported}");
    // A wrong passphrase is refused by borg: the key really is protected by ours.
    let wrong = oracle
        .borg(Borg::V14, b)
        .env("BORG_PASSPHRASE", "nope")
        .env("BORG_EXIT_CODES", "modern")
        .args(["list", repo.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(52), "{}", text(&wrong));
}

#[test]
fn check_and_compact_agree_with_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let b = base.path();
    let repo = b.join("repo");
    let r = repo.to_str().unwrap();
    let data = b.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("f"), vec![3u8; 2_000_000]).unwrap();
    ok(
        borg(oracle, Borg::V14, b, &["init", "-e", "repokey", r]),
        "borg init",
    );
    for n in ["a", "b", "c"] {
        std::fs::write(data.join(n), n.repeat(100_000)).unwrap();
        ok(
            borg(
                oracle,
                Borg::V14,
                b,
                &["create", &format!("{r}::{n}"), data.to_str().unwrap()],
            ),
            "borg create",
        );
    }
    ok(
        borg(oracle, Borg::V14, b, &["delete", &format!("{r}::a")]),
        "borg delete",
    );
    ok(
        oxiborg(b, &["check", "--repository-only", r]),
        "oxiborg check",
    );
    let before = dir_size(&repo.join("data"));
    ok(
        oxiborg(b, &["-v", "compact", "--threshold", "0", r]),
        "oxiborg compact",
    );
    let after = dir_size(&repo.join("data"));
    assert!(after < before, "compact freed nothing: {before} -> {after}");
    ok(
        borg(oracle, Borg::V14, b, &["check", "--verify-data", r]),
        "borg check after oxiborg compact",
    );
    ok(
        borg(
            oracle,
            Borg::V14,
            b,
            &["extract", "--dry-run", &format!("{r}::c")],
        ),
        "borg extract after compact",
    );
    ok(
        oxiborg(b, &["compact", "--dry-run", r]),
        "compact --dry-run",
    );

    // Damage: both tools report it with rc 1; --repair needs YES (rc 3 otherwise).
    let seg = newest_data_segment(&repo);
    let mut bytes = std::fs::read(&seg).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&seg, bytes).unwrap();
    let theirs = borg(oracle, Borg::V14, b, &["check", "--repository-only", r]);
    let ours = oxiborg(b, &["check", "--repository-only", r]);
    assert_eq!(theirs.status.code(), Some(1), "{}", text(&theirs));
    assert_eq!(ours.status.code(), Some(1), "{}", text(&ours));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxiborg"));
    oxiborg_oracle::isolate_env(&mut cmd, b);
    let refused = cmd
        .env_remove("BORG_CHECK_I_KNOW_WHAT_I_AM_DOING")
        .env("BORG_EXIT_CODES", "modern")
        .args(["check", "--repository-only", "--repair", r])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    ok(
        oxiborg(b, &["check", "--repository-only", "--repair", r]),
        "oxiborg repair",
    );
    ok(
        borg(oracle, Borg::V14, b, &["check", "--repository-only", r]),
        "borg check after oxiborg repair",
    );
    let both = oxiborg(
        b,
        &[
            "check",
            "--repository-only",
            "--repair",
            "--max-duration",
            "5",
            r,
        ],
    );
    assert_eq!(both.status.code(), Some(4), "{}", text(&both));
    // The archives part runs too, and decides as borg's does.
    let theirs = borg(oracle, Borg::V14, b, &["check", r]);
    let ours = oxiborg(b, &["check", r]);
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "borg:\n{}\noxiborg:\n{}",
        text(&theirs),
        text(&ours)
    );
}

fn dir_size(p: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        total += if m.is_dir() {
            dir_size(&e.path())
        } else {
            m.len()
        };
    }
    total
}

fn newest_data_segment(repo: &Path) -> std::path::PathBuf {
    let mut best: Option<(u64, std::path::PathBuf)> = None;
    for d in std::fs::read_dir(repo.join("data")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            let f = f.unwrap();
            let len = f.metadata().unwrap().len();
            if len > 1000 && best.as_ref().is_none_or(|(l, _)| len > *l) {
                best = Some((len, f.path()));
            }
        }
    }
    best.unwrap().1
}

#[test]
fn locks_exclude_borg_and_oxiborg_both_ways() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let b = base.path();
    let repo = b.join("repo");
    let r = repo.to_str().unwrap();
    ok(oxiborg(b, &["init", "-e", "none", r]), "init");

    // with-lock passes the child's exit code through.
    assert_eq!(
        oxiborg(b, &["with-lock", r, "sh", "-c", "exit 7"])
            .status
            .code(),
        Some(7)
    );
    // While oxiborg holds the lock, borg times out (LockTimeout, 73) ...
    let flag = b.join("inside");
    let mut holder = Command::new(env!("CARGO_BIN_EXE_oxiborg"));
    oxiborg_oracle::isolate_env(&mut holder, b);
    let mut holder = holder
        .args([
            "with-lock",
            r,
            "sh",
            "-c",
            &format!("touch {}; sleep 8", flag.display()),
        ])
        .spawn()
        .unwrap();
    wait_for(&flag);
    let theirs = borg(oracle, Borg::V14, b, &["--lock-wait", "1", "list", r]);
    assert_eq!(theirs.status.code(), Some(73), "{}", text(&theirs));
    holder.kill().unwrap();
    holder.wait().unwrap();
    // ... and a SIGKILLed oxiborg's lock is stale to borg (same host, dead pid).
    ok(
        borg(oracle, Borg::V14, b, &["--lock-wait", "5", "list", r]),
        "borg after dead oxiborg",
    );

    // While borg holds it, oxiborg times out the same way.
    let flag2 = b.join("inside2");
    let mut bholder = oracle.borg(Borg::V14, b);
    let mut bholder = bholder
        .args([
            "with-lock",
            r,
            "sh",
            "-c",
            &format!("touch {}; sleep 8", flag2.display()),
        ])
        .spawn()
        .unwrap();
    wait_for(&flag2);
    let ours = oxiborg(b, &["--lock-wait", "1", "check", "--repository-only", r]);
    assert_eq!(ours.status.code(), Some(73), "{}", text(&ours));
    bholder.kill().unwrap();
    bholder.wait().unwrap();
    // The SIGKILLed borg's lock is stale to oxiborg (same host, dead pid).
    ok(
        oxiborg(b, &["--lock-wait", "5", "check", "--repository-only", r]),
        "oxiborg after dead borg",
    );

    // A lock left by "another host" is never stale; break-lock removes it.
    let flag3 = b.join("inside3");
    let mut other = oracle.borg(Borg::V14, b);
    let mut other = other
        .env("BORG_HOST_ID", "elsewhere@1")
        .args([
            "with-lock",
            r,
            "sh",
            "-c",
            &format!("touch {}; sleep 30", flag3.display()),
        ])
        .spawn()
        .unwrap();
    wait_for(&flag3);
    other.kill().unwrap();
    other.wait().unwrap();
    let blocked = oxiborg(b, &["--lock-wait", "1", "compact", r]);
    assert_eq!(blocked.status.code(), Some(73), "{}", text(&blocked));
    ok(oxiborg(b, &["break-lock", r]), "break-lock");
    ok(
        borg(oracle, Borg::V14, b, &["--lock-wait", "1", "list", r]),
        "borg after break-lock",
    );
}

fn wait_for(flag: &Path) {
    for _ in 0..200 {
        if flag.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} never appeared", flag.display());
}

/// `init` with the passphrase taken from each of borg's sources; borg then
/// opens the key with that passphrase.
#[test]
fn passphrase_sources_like_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let b = base.path();
    let run = |repo: &str, envs: &[(&str, &str)], stdin: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxiborg"));
        oxiborg_oracle::isolate_env(&mut cmd, b);
        cmd.env("BORG_EXIT_CODES", "modern")
            .args(["init", "-e", "repokey", repo]);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut i = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                i.write_all(s.as_bytes()).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    };
    let borg_check = |repo: &str, pw: &str| {
        oracle
            .borg(Borg::V14, b)
            .env("BORG_PASSPHRASE", pw)
            .env("BORG_EXIT_CODES", "modern")
            .args(["check", repo])
            .output()
            .unwrap()
    };
    let r1 = b.join("cmd").to_string_lossy().into_owned();
    ok(
        run(&r1, &[("BORG_PASSCOMMAND", "echo from-command")], None),
        "BORG_PASSCOMMAND",
    );
    ok(
        borg_check(&r1, "from-command"),
        "borg with the passcommand's passphrase",
    );
    assert_eq!(borg_check(&r1, "other").status.code(), Some(52));

    let r2 = b.join("fd").to_string_lossy().into_owned();
    ok(
        run(&r2, &[("BORG_PASSPHRASE_FD", "0")], Some("from-fd\n")),
        "BORG_PASSPHRASE_FD",
    );
    ok(borg_check(&r2, "from-fd"), "borg with the fd's passphrase");

    let r3 = b.join("new").to_string_lossy().into_owned();
    ok(
        run(
            &r3,
            &[
                ("BORG_NEW_PASSPHRASE", "new-one"),
                ("BORG_PASSPHRASE", "old-one"),
            ],
            None,
        ),
        "BORG_NEW_PASSPHRASE",
    );
    ok(
        borg_check(&r3, "new-one"),
        "BORG_NEW_PASSPHRASE wins for a new key",
    );

    // A failing passcommand is PasscommandFailure (51), as in borg.
    let r4 = b.join("fail").to_string_lossy().into_owned();
    let ours = run(&r4, &[("BORG_PASSCOMMAND", "false")], None);
    let theirs = oracle
        .borg(Borg::V14, b)
        .env("BORG_PASSCOMMAND", "false")
        .env("BORG_EXIT_CODES", "modern")
        .args([
            "init",
            "-e",
            "repokey",
            b.join("fail-borg").to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(ours.status.code(), Some(51), "{}", text(&ours));
    assert_eq!(theirs.status.code(), Some(51), "{}", text(&theirs));
}

/// The repository lives on a read-only filesystem: oxiborg fails with the
/// same class of error as borg (LockFailed) and changes nothing.
#[test]
fn read_only_filesystem_matches_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let b = base.path();
    let mnt = b.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32m", "tmpfs"])
        .arg(&mnt)
        .status();
    if !mounted.is_ok_and(|s| s.success()) {
        assert!(
            !oxiborg_oracle::in_ci(),
            "cannot mount a tmpfs for the read-only test"
        );
        return;
    }
    struct Umount(std::path::PathBuf);
    impl Drop for Umount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Umount(mnt.clone());
    let repo = mnt.join("repo");
    let r = repo.to_str().unwrap();
    ok(oxiborg(b, &["init", "-e", "none", r]), "init on tmpfs");
    assert!(Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&mnt)
        .status()
        .unwrap()
        .success());
    for args in [vec!["check", "--repository-only", r], vec!["compact", r]] {
        let ours = oxiborg(b, &args);
        let theirs = borg(oracle, Borg::V14, b, &args);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{args:?}\nborg:\n{}\noxiborg:\n{}",
            text(&theirs),
            text(&ours)
        );
        assert!(
            text(&ours).contains("Read-only file system"),
            "{}",
            text(&ours)
        );
    }
}
