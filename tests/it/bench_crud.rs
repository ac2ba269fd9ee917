//! `benchmark crud` against real borg 1.4.5, in borg's tiny test mode
//! (`_BORG_BENCHMARK_CRUD_TEST`: one 1-byte file per set): the same lines
//! in the same order and format, exit 0, a repository `borg check` finds
//! clean with no archive left, and the data dir left as borg leaves it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use oxiborg_oracle::Borg;

use crate::tree::oxiborg_cmd;

fn with_env(mut c: Command) -> Command {
    c.env("BORG_PASSPHRASE", "secret")
        .env("_BORG_BENCHMARK_CRUD_TEST", "1");
    c
}

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

/// One parsed line of borg's
/// `'%s-%-10s %9.2f MB/s (%d * %s %s files: %.2fs)'`.
#[derive(Debug)]
struct Line {
    label: String,
    count: u64,
    size: String,
    content: String,
}

/// Parse `line` and check it is exactly what borg's format expression
/// makes of its parts (the equivalent of a full-line regex
/// `^[CRUD]-[ZR]-\S+ +\d+\.\d\d MB/s \(\d+ \* \d+(\.\d\d)? [kMGT]?B (all-zero|random) files: \d+\.\d\ds\)$`
/// with borg's column widths).
fn parse_line(line: &str) -> Result<Line, String> {
    let bad = |why: &str| format!("{why}: {line:?}");
    let (head, rest) = line
        .split_once(" MB/s (")
        .ok_or_else(|| bad("no ' MB/s ('"))?;
    let mut words = head.split_whitespace();
    let label = words.next().ok_or_else(|| bad("no label"))?;
    let rate = words.next().ok_or_else(|| bad("no rate"))?;
    if words.next().is_some() {
        return Err(bad("extra words before MB/s"));
    }
    let mut lc = label.chars();
    let (op, dash) = (lc.next(), lc.next());
    if !matches!(op, Some('C' | 'R' | 'U' | 'D')) || dash != Some('-') {
        return Err(bad("label is not [CRUD]-"));
    }
    let set = &label[2..];
    if !(set.starts_with("Z-") || set.starts_with("R-")) || set.len() > 10 {
        return Err(bad("set is not [ZR]-NAME of at most 10 chars"));
    }
    let two_decimals = |s: &str| {
        s.split_once('.').is_some_and(|(i, d)| {
            !i.is_empty()
                && i.bytes().all(|b| b.is_ascii_digit())
                && d.len() == 2
                && d.bytes().all(|b| b.is_ascii_digit())
        })
    };
    if !two_decimals(rate) {
        return Err(bad("rate is not %.2f"));
    }
    // `%s-%-10s %9.2f`: label left-justified in 2 + 10, rate right-justified in 9.
    if head != format!("{op}-{set:<10} {rate:>9}", op = &label[..1]) {
        return Err(bad("columns differ from '%s-%-10s %9.2f'"));
    }
    let body = rest
        .strip_suffix("s)")
        .ok_or_else(|| bad("no 's)' at the end"))?;
    let (what, secs) = body
        .split_once(" files: ")
        .ok_or_else(|| bad("no ' files: '"))?;
    if !two_decimals(secs) {
        return Err(bad("seconds are not %.2f"));
    }
    let (count, what) = what.split_once(" * ").ok_or_else(|| bad("no ' * '"))?;
    let count: u64 = count.parse().map_err(|_| bad("count is not %d"))?;
    let mut w = what.split(' ');
    let (num, unit, content) = match (w.next(), w.next(), w.next(), w.next()) {
        (Some(n), Some(u), Some(c), None) => (n, u, c),
        _ => return Err(bad("not 'SIZE UNIT CONTENT'")),
    };
    // format_file_size: "1 B", or two decimals with a decimal prefix.
    let size_ok = (unit == "B" && num.bytes().all(|b| b.is_ascii_digit()))
        || (["kB", "MB", "GB", "TB"].contains(&unit) && two_decimals(num));
    if !size_ok {
        return Err(bad("size is not format_file_size's"));
    }
    let expected_content = if set.starts_with("Z-") {
        "all-zero"
    } else {
        "random"
    };
    if content != expected_content {
        return Err(bad("content does not match the set"));
    }
    Ok(Line {
        label: label.to_string(),
        count,
        size: format!("{num} {unit}"),
        content: content.to_string(),
    })
}

fn lines(out: &Output) -> Vec<Line> {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .map(|l| parse_line(l).unwrap_or_else(|e| panic!("{e}\n--- stdout ---\n{text}")))
        .collect()
}

/// What is left of a data dir: whether it exists, its mode and entries.
fn leftover(p: &Path) -> Option<(u32, Vec<String>)> {
    let meta = std::fs::metadata(p).ok()?;
    let mut names: Vec<String> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some((meta.permissions().mode() & 0o7777, names))
}

#[test]
fn parse_line_accepts_borgs_lines_only() {
    for good in [
        "C-Z-TEST          0.00 MB/s (1 * 1 B all-zero files: 0.23s)",
        "C-Z-BIG         116.06 MB/s (10 * 100.00 MB all-zero files: 8.62s)",
        "R-R-SMALL       200.00 MB/s (10000 * 10.00 kB random files: 0.50s)",
        "C-Z-MEDIUM   10000000.00 MB/s (1000 * 1.00 MB all-zero files: 0.00s)",
    ] {
        parse_line(good).unwrap();
    }
    for bad in [
        "C-Z-TEST         0.00 MB/s (1 * 1 B all-zero files: 0.23s)",
        "C-Z-TEST          0.0 MB/s (1 * 1 B all-zero files: 0.23s)",
        "C-Z-TEST          0.00 MB/s (1 * 1 B random files: 0.23s)",
        "C-Z-TEST          0.00 MB/s (1 * 1.00 B all-zero files: 0.23s)",
        "C-Z-TEST          0.00 MB/s (1 * 1 B all-zero files: 0.2s)",
        "X-Z-TEST          0.00 MB/s (1 * 1 B all-zero files: 0.23s)",
    ] {
        assert!(parse_line(bad).is_err(), "{bad}");
    }
}

#[test]
fn benchmark_crud_test_mode_matches_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();

    // borg: its own base dir, repository and (not yet existing) data dir.
    let b_base = t.join("borg-base");
    let b_repo = t.join("borg-repo");
    let b_data = t.join("borg-data/sub");
    run(
        with_env(o.borg(Borg::V14, &b_base))
            .args(["init", "-e", "repokey-blake2"])
            .arg(&b_repo),
        "borg init",
    );
    let theirs = run(
        with_env(o.borg(Borg::V14, &b_base))
            .args(["benchmark", "crud"])
            .arg(&b_repo)
            .arg(&b_data),
        "borg benchmark crud",
    );

    let o_base = t.join("ox-base");
    let o_repo = t.join("ox-repo");
    let o_data = t.join("ox-data/sub");
    run(
        with_env(oxiborg_cmd(&o_base))
            .args(["init", "-e", "repokey-blake2"])
            .arg(&o_repo),
        "oxiborg init",
    );
    let ours = run(
        with_env(oxiborg_cmd(&o_base))
            .args(["benchmark", "crud"])
            .arg(&o_repo)
            .arg(&o_data),
        "oxiborg benchmark crud",
    );

    let (tl, ol) = (lines(&theirs), lines(&ours));
    let labels = |ls: &[Line]| ls.iter().map(|l| l.label.clone()).collect::<Vec<_>>();
    assert_eq!(labels(&ol), labels(&tl));
    assert_eq!(
        labels(&tl),
        [
            "C-Z-TEST", "R-Z-TEST", "U-Z-TEST", "D-Z-TEST", "C-R-TEST", "R-R-TEST", "U-R-TEST",
            "D-R-TEST"
        ]
    );
    for (b, x) in tl.iter().zip(&ol) {
        assert_eq!(
            (b.count, &b.size, &b.content),
            (x.count, &x.size, &x.content),
            "{b:?} vs {x:?}"
        );
    }
    assert!(
        ours.stderr.is_empty(),
        "oxiborg logged at the default level:\n{}",
        String::from_utf8_lossy(&ours.stderr)
    );

    // Every benchmark archive is gone and the repository is clean.
    run(
        with_env(o.borg(Borg::V14, &o_base))
            .arg("check")
            .arg(&o_repo),
        "borg check of oxiborg's repository",
    );
    for (base, repo) in [(&b_base, &b_repo), (&o_base, &o_repo)] {
        let listed = run(
            with_env(o.borg(Borg::V14, base))
                .args(["list", "--short"])
                .arg(repo),
            "borg list",
        );
        assert!(
            listed.stdout.is_empty(),
            "archives left in {}: {}",
            repo.display(),
            String::from_utf8_lossy(&listed.stdout)
        );
    }

    // The data dir: created with its parents, emptied again, kept.
    let left = leftover(&b_data);
    assert_eq!(left, Some((0o700, vec![])), "borg's data dir");
    assert_eq!(leftover(&o_data), left, "oxiborg's data dir");
}

#[test]
fn benchmark_crud_on_a_missing_repository_fails_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let b = with_env(o.borg(Borg::V14, &t.join("b-base")))
        .args(["benchmark", "crud"])
        .arg(t.join("b-missing"))
        .arg(t.join("b-data"))
        .output()
        .unwrap();
    let x = with_env(oxiborg_cmd(&t.join("x-base")))
        .args(["benchmark", "crud"])
        .arg(t.join("x-missing"))
        .arg(t.join("x-data"))
        .output()
        .unwrap();
    assert_eq!(
        b.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    assert_eq!(
        x.status.code(),
        b.status.code(),
        "{}",
        String::from_utf8_lossy(&x.stderr)
    );
    assert!(b.stdout.is_empty() && x.stdout.is_empty());
    let left = leftover(&t.join("b-data"));
    assert_eq!(left, Some((0o700, vec![])));
    assert_eq!(leftover(&t.join("x-data")), left);
}
