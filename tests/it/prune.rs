//! `prune` against borg 1.4.5: one repository with many archives at
//! irregular times (clusters in one second, minute, hour and day, ties,
//! year and ISO-week boundaries, a DST change, recent ones for
//! `--keep-within`) and checkpoint archives; for many rule sets
//! `prune --dry-run --list -v` must print exactly what borg prints, in
//! both exit-code modes for the refusals. Then a real prune by each tool
//! on identical copies: same output (with `--stats`), `borg check` clean,
//! and the same archives left. (An unencrypted repository: prune does
//! not depend on the key, and it keeps the test fast.)

use std::path::Path;
use std::process::Command;

use oxiborg_format::UtcTimestamp;
use oxiborg_oracle::Borg;

use crate::common::{ok, run, Diffs, Outcome};
use crate::tree::oxiborg_cmd;

const TZ: &str = "Europe/Berlin";

fn env(mut c: Command, codes: &str) -> Command {
    c.env("BORG_PASSPHRASE", "secret")
        .env("TZ", TZ)
        .env("BORG_EXIT_CODES", codes);
    c
}

fn ox(base: &Path) -> Command {
    env(oxiborg_cmd(base), "legacy")
}

fn borg(o: &oxiborg_oracle::Oracle, base: &Path) -> Command {
    env(o.borg(Borg::V14, base), "legacy")
}

/// Fixed archive times (UTC): clusters, ties, boundaries.
const FIXED: &[(&str, &str)] = &[
    ("host-", "2019-03-10T08:00:00"),
    ("host-", "2019-12-30T23:30:00"), // ISO week 1 of 2020
    ("host-", "2020-01-05T10:00:00"),
    ("host-", "2020-03-29T00:30:00"), // Berlin DST starts at 01:00 UTC
    ("host-", "2020-03-29T01:30:00"),
    ("host-", "2020-12-31T22:59:59"), // 23:59:59 local
    ("host-", "2020-12-31T23:00:00"), // 00:00 local, next year
    ("host-", "2021-01-01T00:00:00"),
    ("host-", "2021-06-15T12:00:00"),
    ("host-", "2021-06-15T12:00:00"), // a tie (same second, different name)
    ("host-", "2021-06-15T12:00:01"),
    ("host-", "2021-06-15T12:00:30"),
    ("host-", "2021-06-15T12:01:00"),
    ("host-", "2021-06-15T12:59:00"),
    ("host-", "2021-06-15T13:00:00"),
    ("host-", "2021-06-15T21:59:00"),
    ("host-", "2021-06-15T22:00:00"), // next local day
    ("host-", "2021-09-30T12:00:00"),
    ("host-", "2021-10-01T12:00:00"),
    ("host-", "2022-01-02T12:00:00"), // ISO 2021-W52
    ("host-", "2022-01-03T12:00:00"),
    ("host-", "2022-04-04T08:00:00"),
    ("host-", "2022-07-04T08:00:00"),
    ("host-", "2023-02-28T08:00:00"),
    ("host-", "2023-03-01T08:00:00"),
    ("host-", "2023-12-25T08:00:00"),
    ("db-", "2020-02-01T03:00:00"),
    ("db-", "2021-06-15T12:00:00"),
    ("db-", "2022-02-01T03:00:00"),
    ("db-", "2022-02-01T04:00:00"),
    ("db-", "2022-02-08T03:00:00"),
];

/// Archives relative to now (hours ago), for `--keep-within` and to have
/// the newest archives.
const RECENT_HOURS: &[(&str, i64)] = &[
    ("host-", 400),
    ("host-", 200),
    ("host-", 60),
    ("host-", 30),
    ("host-", 5),
    ("db-", 70),
    ("db-", 3),
];

fn utc_string(t: UtcTimestamp) -> String {
    t.format_iso()[..19].to_string()
}

fn create(base: &Path, repo: &str, src: &Path, name: &str, ts: &str) {
    ok(
        {
            let mut c = ox(base);
            c.current_dir(src)
                .args(["create", "--timestamp", ts, &format!("{repo}::{name}"), "f"]);
            c
        },
        "oxiborg create",
    );
}

/// Build the repository; returns the number of archives.
fn build(o: &oxiborg_oracle::Oracle, base: &Path, repo: &str, src: &Path) -> usize {
    ok(
        {
            let mut c = ox(base);
            c.args(["init", "-e", "none", repo]);
            c
        },
        "init",
    );
    std::fs::write(src.join("f"), b"tiny").unwrap();
    let mut n = 0;
    for (i, (prefix, ts)) in FIXED.iter().enumerate() {
        create(base, repo, src, &format!("{prefix}{i:02}"), ts);
        n += 1;
    }
    let now = UtcTimestamp::now();
    for (i, (prefix, hours)) in RECENT_HOURS.iter().enumerate() {
        let t = now.checked_add_micros(-hours * 3_600_000_000).unwrap();
        create(base, repo, src, &format!("{prefix}r{i:02}"), &utc_string(t));
        n += 1;
    }
    // Names with a placeholder (expanded by create and by `-a`).
    for (i, ts) in [
        "2022-05-01T10:00:00",
        "2022-05-02T10:00:00",
        "2022-06-01T10:00:00",
    ]
    .iter()
    .enumerate()
    {
        create(base, repo, src, &format!("{{hostname}}-p{i}"), ts);
        n += 1;
    }
    // Checkpoints: the newest `host-` archive is one (kept), older ones
    // are pruned; one `db-` checkpoint with a number suffix, older than
    // the newest `db-` archive. One made by borg itself.
    let newest = utc_string(now.checked_add_micros(-3_600_000_000).unwrap());
    create(base, repo, src, "host-new.checkpoint", &newest);
    create(
        base,
        repo,
        src,
        "host-old.checkpoint",
        "2021-06-15T12:30:00",
    );
    create(base, repo, src, "db-x.checkpoint.1", "2022-02-05T00:00:00");
    ok(
        {
            let mut c = borg(o, base);
            c.current_dir(src).args([
                "create",
                "--timestamp",
                "2020-06-01T00:00:00",
                &format!("{repo}::host-b.checkpoint"),
                "f",
            ]);
            c
        },
        "borg create",
    );
    n + 4
}

fn copy_dir(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).unwrap();
    }
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success());
}

fn prune(mut c: Command, repo: &str, args: &[&str]) -> Outcome {
    // Both tools may run at once: wait for the other's lock.
    c.args(["--lock-wait", "60", "prune"]).args(args).arg(repo);
    run(c)
}

/// Run borg and oxiborg at once (the machine has two cores).
fn both(b: Command, x: Command, repo: &str, args: &[&str]) -> (Outcome, Outcome) {
    std::thread::scope(|s| {
        let h = s.spawn(|| prune(b, repo, args));
        let x = prune(x, repo, args);
        (h.join().expect("borg thread"), x)
    })
}

#[test]
fn prune_decides_and_prints_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let src = t.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let repo_path = t.join("repo");
    let repo = repo_path.to_str().unwrap();
    let n = build(o, &base, repo, &src);
    let listed = ok(
        {
            let mut c = borg(o, &base);
            c.args(["list", "--consider-checkpoints", "--short", repo]);
            c
        },
        "borg list",
    );
    assert_eq!(listed.stdout.lines().count(), n, "{}", listed.stdout);

    let sets: &[&[&str]] = &[
        &["--keep-last", "5"],
        &["--keep-secondly", "4"],
        &["--keep-minutely", "6"],
        &["-H", "8"],
        &["--keep-daily", "7"],
        &["-w", "5"],
        &["--keep-monthly", "9"],
        &["-y", "3"],
        &["--keep-13weekly", "4"],
        &["--keep-3monthly", "5"],
        &["--keep-within", "2d"],
        &["--keep-within", "3w", "-d", "3"],
        &["--keep-within", "100H", "--keep-last", "2", "-m", "2"],
        &["-d", "7", "-w", "4", "-m", "12", "-y", "-1"],
        &[
            "-H",
            "3",
            "-d",
            "3",
            "-w",
            "2",
            "-m",
            "2",
            "-y",
            "2",
            "--keep-last",
            "2",
        ],
        &["-d", "1000"],
        &["-d", "-1"],
        &["-a", "host-*", "-d", "3", "-m", "2"],
        &["-a", "db-*", "-w", "2"],
        &["-a", "db-x", "-d", "1"],
        &["-a", "{hostname}-*", "--keep-monthly", "1"],
        &["--prefix", "db-", "-m", "3"],
        &["-P", "host-", "--keep-last", "1"],
        &["--prefix={hostname}", "-d", "1"],
        &["-a", "nomatch*", "-d", "1"],
        &["-a", "host-[0-1]?", "-y", "2", "--stats"],
        &["--keep-daily", "2", "--quick-stats"],
    ];
    let mut diffs = Diffs::default();
    for set in sets {
        let mut args = vec!["--dry-run", "--list", "-v"];
        args.extend_from_slice(set);
        let (b, x) = both(borg(o, &base), ox(&base), repo, &args);
        let label = format!("prune {}", args.join(" "));
        assert_eq!(b.rc, Some(0), "{}", b.show());
        diffs.note(&format!("{label} (borg)"), &b);
        diffs.note(&format!("{label} (oxiborg)"), &x);
        diffs.same(&format!("{label}: rc"), &b.rc, &x.rc);
        diffs.same(&format!("{label}: stdout"), &b.stdout, &x.stdout);
        diffs.same(&format!("{label}: stderr"), &b.stderr, &x.stderr);
    }

    // Refusals, in both exit-code modes.
    let bad: &[(&[&str], &[&str])] = &[
        (&[], &["legacy", "modern"]),
        (&["--list", "-a", "host-*"], &["legacy", "modern"]),
        (&["--keep-within", "3x"], &["modern"]),
        (&["--keep-within", "0d"], &["legacy"]),
        (
            &["--keep-13weekly", "1", "--keep-3monthly", "1"],
            &["modern"],
        ),
        (&["-a", "x", "-P", "y", "-d", "1"], &["legacy"]),
    ];
    for (set, modes) in bad {
        for &codes in *modes {
            let mut bc = borg(o, &base);
            bc.env("BORG_EXIT_CODES", codes);
            let mut xc = ox(&base);
            xc.env("BORG_EXIT_CODES", codes);
            let (b, x) = both(bc, xc, repo, set);
            let label = format!("{codes}: prune {}", set.join(" "));
            assert_ne!(b.rc, Some(0), "{label}: {}", b.show());
            diffs.note(&format!("{label} (borg)"), &b);
            diffs.note(&format!("{label} (oxiborg)"), &x);
            diffs.same(&format!("{label}: rc"), &b.rc, &x.rc);
            if b.stderr.starts_with("Command Error") {
                diffs.same(&format!("{label}: stderr"), &b.stderr, &x.stderr);
            }
        }
    }

    // A real prune by each tool on identical copies (same path, so no
    // relocation question).
    let pristine = t.join("pristine");
    let pristine_base = t.join("pristine-base");
    copy_dir(&repo_path, &pristine);
    copy_dir(&base, &pristine_base);
    let args = [
        "--list",
        "--stats",
        "-v",
        "--keep-within",
        "2d",
        "-d",
        "4",
        "-w",
        "3",
        "-m",
        "6",
        "-y",
        "1",
    ];
    let b = prune(borg(o, &base), repo, &args);
    let listing = |c: Command| {
        let mut c = c;
        c.args([
            "list",
            "--consider-checkpoints",
            "--format",
            "{archive} {id}{NL}",
            repo,
        ]);
        ok(c, "borg list").stdout
    };
    let borg_left = listing(borg(o, &base));
    copy_dir(&pristine, &repo_path);
    copy_dir(&pristine_base, &base);
    let x = prune(ox(&base), repo, &args);
    assert_eq!(b.rc, Some(0), "{}", b.show());
    assert!(b.stderr.contains("Pruning archive (1/"), "{}", b.show());
    diffs.note("real prune (borg)", &b);
    diffs.note("real prune (oxiborg)", &x);
    diffs.same("real prune: rc", &b.rc, &x.rc);
    diffs.same("real prune: stderr", &b.stderr, &x.stderr);
    let checked = run({
        let mut c = borg(o, &base);
        c.args(["check", repo]);
        c
    });
    diffs.same(
        "borg check after oxiborg's prune: rc",
        &Some(0),
        &checked.rc,
    );
    diffs.same("borg check output", &String::new(), &checked.stderr);
    let ox_left = listing(borg(o, &base));
    diffs.same("archives left", &borg_left, &ox_left);
    // oxiborg's cache stayed in sync: a second prune with the same rules
    // deletes nothing, and oxiborg lists the same.
    let again = prune(
        ox(&base),
        repo,
        &[
            "--list",
            "-d",
            "4",
            "-w",
            "3",
            "-m",
            "6",
            "-y",
            "1",
            "--keep-within",
            "2d",
        ],
    );
    diffs.check(
        again.rc == Some(0) && !again.stderr.contains("Pruning archive"),
        format!("second prune: {}", again.show()),
    );
    diffs.finish("prune_decides_and_prints_like_borg");
}
