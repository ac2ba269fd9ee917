//! `--json` documents of `create`, `info` and `list` against borg 1.4.5's:
//! the same layout (`json.dumps(..., sort_keys=True, indent=4)`), the same
//! keys, and the same values wherever they do not depend on the run
//! (ids, paths, times and the tool's own argv are masked).

use oxiborg_oracle::Oracle;
use serde_json::Value;

use crate::common::{ok, random_file, Codes, Diffs};
use crate::create_options::{each, Side};

/// Each line's indentation and key (or `-` for a bare value): the layout.
fn shape(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let indent = l.len() - l.trim_start().len();
            let t = l.trim_start();
            let key = if t.starts_with('"') && t.contains("\": ") {
                t.split("\": ").next().unwrap_or("").to_string()
            } else if t.starts_with(['}', ']']) {
                t.to_string()
            } else {
                "-".to_string()
            };
            format!("{indent} {key}")
        })
        .collect()
}

const VOLATILE: &[&str] = &[
    "id",
    "path",
    "location",
    "command_line",
    "duration",
    "start",
    "end",
    "time",
    "last_modified",
    "security_dir",
    "max_archive_size",
    "cwd",
];

fn mask(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "cache" {
                    // Totals include the metadata objects, whose stored
                    // size depends on argv, paths and times; oxiborg's
                    // cache lives in a directory of its own.
                    x["stats"] = Value::String("MASKED".into());
                    x["path"] = Value::String("MASKED".into());
                    continue;
                }
                if VOLATILE.contains(&k.as_str()) {
                    *x = Value::String("MASKED".into());
                } else {
                    mask(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask),
        _ => {}
    }
}

fn run_json(o: &Oracle, s: &Side, args: &[&str], target: &str) -> String {
    let mut c = s.cmd(o, Codes::Legacy);
    c.args(args).arg(target);
    if args[0] == "create" {
        // a3 holds only the text file.
        c.arg(if target.ends_with("::a3") {
            "src/text"
        } else {
            "src"
        });
    }
    ok(c, &format!("{} {args:?}", s.tool.name())).stdout
}

#[test]
fn json_documents_match_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "json");
    for s in &sides {
        std::fs::create_dir_all(s.cwd.join("src")).unwrap();
        // Files below the minimum chunk size: one chunk each, whatever the
        // repository's chunker seed, so sizes are comparable.
        random_file(&s.cwd.join("src/random"), 200_000, 1);
        std::fs::write(s.cwd.join("src/text"), "some text\n".repeat(20_000)).unwrap();
    }
    let mut d = Diffs::default();
    let steps: Vec<(&str, Vec<&str>, bool)> = vec![
        ("create --json a1", vec!["create", "--json"], true),
        (
            "create --json a2 (all deduplicated)",
            vec!["create", "--json"],
            true,
        ),
        ("info --json ARCHIVE", vec!["info", "--json"], true),
        // A subset of a1: its item stream is its own, its content is not;
        // borg 1.4.5 leaves metadata out of "deduplicated_size".
        ("create --json a3 (subset)", vec!["create", "--json"], true),
        ("info --json a3", vec!["info", "--json"], true),
        ("info --json REPO", vec!["info", "--json"], false),
        ("list --json REPO", vec!["list", "--json"], false),
    ];
    for (i, (label, args, archive)) in steps.iter().enumerate() {
        let (b, x) = each(&sides, |s| {
            let target = if *archive {
                s.archive(match i {
                    0 => "a1",
                    1 | 2 => "a2",
                    _ => "a3",
                })
            } else {
                s.repo.display().to_string()
            };
            run_json(o, s, args, &target)
        });
        d.same(&format!("{label}: layout"), &shape(&b), &shape(&x));
        let (mut bv, mut xv): (Value, Value) = (
            serde_json::from_str(&b).expect("borg json"),
            serde_json::from_str(&x).expect("oxiborg json"),
        );
        mask(&mut bv);
        mask(&mut xv);
        d.same(&format!("{label}: values"), &bv, &xv);
    }
    d.finish("json documents");
}

/// `info` text and `delete --stats` text against borg's: every line the
/// same, apart from lines naming run-specific things, and with digits
/// masked where sizes include metadata objects.
#[test]
fn info_and_delete_stats_text_match_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "text");
    for s in &sides {
        std::fs::create_dir_all(s.cwd.join("src")).unwrap();
        random_file(&s.cwd.join("src/random"), 200_000, 1);
        std::fs::write(s.cwd.join("src/text"), "some text\n".repeat(20_000)).unwrap();
        for (a, p) in [("a1", "src"), ("a2", "src/text")] {
            let mut c = s.cmd(o, Codes::Legacy);
            c.args(["create", "--comment", "it's a test"])
                .arg(s.archive(a))
                .arg(p);
            ok(c, "create");
        }
    }
    const RUN_SPECIFIC: &[&str] = &[
        "Archive fingerprint:",
        "Time (",
        "Duration:",
        "Working Directory:",
        "Command line:",
        "Repository ID:",
        "Repository:",
        "Location:",
        "Cache:",
        "Security dir:",
    ];
    let nines = |l: &str| -> String {
        l.chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect()
    };
    // "All archives:" ends with the stored size of every unique object,
    // metadata included: its digits depend on argv and paths.
    let keep = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !RUN_SPECIFIC.iter().any(|p| l.starts_with(p)))
            .map(|l| {
                if l.starts_with("All archives:") {
                    nines(l)
                } else {
                    l.to_string()
                }
            })
            .collect()
    };
    let digits = |text: &str| -> Vec<String> { text.lines().map(nines).collect() };
    let mut d = Diffs::default();
    for target in ["ARCHIVE", "REPO"] {
        let (b, x) = each(&sides, |s| {
            let mut c = s.cmd(o, Codes::Legacy);
            c.arg("info");
            if target == "ARCHIVE" {
                c.arg(s.archive("a2"));
            } else {
                c.arg(&s.repo);
            }
            ok(c, "info").stdout
        });
        d.same(&format!("info {target}"), &keep(&b), &keep(&x));
    }
    let (b, x) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["delete", "--stats"]).arg(s.archive("a2"));
        ok(c, "delete --stats").stderr
    });
    assert!(b.contains("Deleted data:"), "{b}");
    d.same("delete --stats", &digits(&b), &digits(&x));
    // --quick-stats leaves the repository-wide part out; --dry-run drops
    // both with borg's warning.
    for args in [
        vec!["create", "--quick-stats", "ARCHIVE:q1", "src/text"],
        vec!["create", "--quick-stats", "--dry-run", "ARCHIVE:q2", "src"],
        vec!["create", "--stats", "--dry-run", "ARCHIVE:q2", "src"],
        vec!["delete", "--quick-stats", "ARCHIVE:q1"],
        vec!["delete", "--stats", "--dry-run", "ARCHIVE:a1"],
    ] {
        let (b, x) = each(&sides, |s| {
            let mut c = s.cmd(o, Codes::Legacy);
            for a in &args {
                match a.strip_prefix("ARCHIVE:") {
                    Some(n) => c.arg(s.archive(n)),
                    None => c.arg(a),
                };
            }
            ok(c, "quick stats").stderr
        });
        // "Deleted data:" counts the metadata objects too.
        let (b, x) = (
            keep(&b.replace("Deleted data:", "")),
            keep(&x.replace("Deleted data:", "")),
        );
        let masked = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|l| {
                    if l.contains(" kB ") && l.trim_start().starts_with('-') {
                        nines(&l)
                    } else {
                        l
                    }
                })
                .collect()
        };
        d.same(&format!("{args:?}"), &masked(b), &masked(x));
    }
    let (b, x) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["create", "--quick-stats", "--json"])
            .arg(s.archive("q3"))
            .arg("src/text");
        ok(c, "create --quick-stats --json").stdout
    });
    assert!(!b.contains("\"cache\""), "{b}");
    d.same("create --quick-stats --json layout", &shape(&b), &shape(&x));
    // Both at once: a usage error.
    let (b, x) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["delete", "--stats", "--quick-stats"])
            .arg(s.archive("q3"));
        crate::common::run(c).rc
    });
    assert_eq!(b, Some(2));
    d.same("--stats with --quick-stats", &b, &x);
    d.finish("info and delete --stats text");
}

/// A keyfile repository: `info` names the key file and `--json` carries
/// `encryption.keyfile`, as borg's; archive times in `list --json` have
/// whole seconds, as borg's `OutputTimestamp`.
#[test]
fn keyfile_and_archive_times_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Diffs::default();
    let mut seen = Vec::new();
    for tool in crate::common::Tool::BOTH {
        let t = tmp.path().join(tool.name());
        let repo = t.join("repo");
        std::fs::create_dir_all(t.join("src")).unwrap();
        std::fs::write(t.join("src/f"), b"content").unwrap();
        let tool_cmd = |args: &[&str]| {
            let mut c = crate::create_options::tool_cmd(o, tool, &t.join("base"), Codes::Legacy);
            c.current_dir(&t).args(args);
            c
        };
        let r = repo.to_str().unwrap();
        ok(tool_cmd(&["init", "-e", "keyfile", r]), "init");
        ok(tool_cmd(&["create", &format!("{r}::a"), "src"]), "create");
        let info = ok(tool_cmd(&["info", r]), "info").stdout;
        let key_line = info
            .lines()
            .find(|l| l.starts_with("Key file: "))
            .map(str::to_string);
        let json: Value =
            serde_json::from_str(&ok(tool_cmd(&["info", "--json", r]), "info --json").stdout)
                .unwrap();
        let keyfile = json["encryption"]["keyfile"].as_str().map(str::to_string);
        let list: Value =
            serde_json::from_str(&ok(tool_cmd(&["list", "--json", r]), "list --json").stdout)
                .unwrap();
        let time = list["archives"][0]["time"]
            .as_str()
            .unwrap_or("")
            .to_string();
        seen.push((
            key_line.is_some(),
            keyfile
                .as_deref()
                .is_some_and(|p| std::path::Path::new(p).is_file()),
            key_line == keyfile.map(|p| format!("Key file: {p}")),
            time.ends_with(".000000"),
        ));
    }
    assert_eq!(
        seen[0],
        (true, true, true, true),
        "borg's own output changed"
    );
    d.same(
        "key file line, json keyfile, whole-second times",
        &seen[0],
        &seen[1],
    );
    d.finish("keyfile and archive times");
}
