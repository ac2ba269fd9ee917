//! `recreate` against real borg 1.4.5: the same repository history made by
//! each tool on its own side (see `create_options.rs`), then the same
//! `recreate` commands; the archives must end up the same (items, names,
//! comments, compressed sizes of single-chunk files), the `--list` lines,
//! stdout and exit codes must match, and `borg check --verify-data` must
//! pass on oxiborg's repository.

use oxiborg_oracle::Oracle;

use crate::common::{ok, random_file, run, Codes, Diffs};
use crate::create_options::{each, tree, Side};

/// `a1` and `a2` of `src/` (files, a hard link pair, a symlink, a FIFO,
/// and a 300 kB file: one chunk, whatever the chunker seed).
fn history(o: &Oracle, sides: &[Side; 2]) {
    for s in sides {
        tree(&s.cwd);
        random_file(&s.cwd.join("src/sub/blob"), 300_000, 7);
        std::fs::write(s.cwd.join("src/text"), "compressible text\n".repeat(5000)).unwrap();
        for a in ["a1", "a2"] {
            let mut c = s.cmd(o, Codes::Legacy);
            c.args(["create", "--compression", "lz4"])
                .arg(s.archive(a))
                .arg("src");
            ok(c, "create");
        }
    }
}

/// An archive's `info --json` field (by borg 1.4.5).
fn info_field(o: &Oracle, s: &Side, archive: &str, path: &[&str]) -> serde_json::Value {
    let mut c = s.borg(o);
    c.args(["info", "--json"]).arg(s.archive(archive));
    let out = ok(c, "borg info --json");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("info json");
    let mut cur = v["archives"][0].clone();
    for p in path {
        cur = cur[*p].clone();
    }
    cur
}

#[test]
fn recreate_rewrites_archives_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "recreate");
    history(o, &sides);
    let mut d = Diffs::default();

    // Excludes, with the hard-link master excluded: its slave takes the
    // chunks over.
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["recreate", "--list", "-e", "src/a", "-e", "src/sub/b"])
            .arg(s.archive("a1"));
        run(c)
    });
    assert_eq!(borg.rc, Some(0), "{}", borg.show());
    d.step("recreate -e", &borg, &ox, &["x src/a", "A src/hl"]);
    let (bi, xi) = each(&sides, |s| s.items(o, "a1"));
    d.same("a1 items after recreate -e", &bi, &xi);
    for key in [
        "nfiles",
        "original_size",
        "compressed_size",
        "deduplicated_size",
    ] {
        let (b, x) = each(&sides, |s| info_field(o, s, "a1", &["stats", key]));
        d.same(&format!("a1 stats.{key}"), &b, &x);
    }

    // Dry run: `-` and `x` lines, nothing changes.
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["recreate", "--dry-run", "--list", "-e", "src/link"])
            .arg(s.archive("a2"));
        run(c)
    });
    assert_eq!(borg.rc, Some(0), "{}", borg.show());
    d.step(
        "recreate --dry-run",
        &borg,
        &ox,
        &["- src/text", "x src/link"],
    );
    let (bi, xi) = each(&sides, |s| s.items(o, "a2"));
    d.same("a2 items after a dry run", &bi, &xi);

    // A PATH selects what stays.
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["recreate", "--list", "--filter", "x"])
            .arg(s.archive("a2"))
            .arg("src/sub");
        run(c)
    });
    d.step("recreate PATH", &borg, &ox, &["x src/text"]);
    let (bi, xi) = each(&sides, |s| s.items(o, "a2"));
    d.same("a2 items after recreate PATH", &bi, &xi);

    // A new comment only; then --target keeps the original.
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["recreate", "--comment", "rewritten"])
            .arg(s.archive("a1"));
        run(c)
    });
    d.step("recreate --comment", &borg, &ox, &[]);
    let (b, x) = each(&sides, |s| info_field(o, s, "a1", &["comment"]));
    assert_eq!(b, "rewritten");
    d.same("comment", &b, &x);
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["recreate", "--target", "a3", "-e", "src/hl"])
            .arg(s.archive("a1"));
        run(c)
    });
    d.step("recreate --target", &borg, &ox, &[]);
    let (bn, xn) = each(&sides, |s| s.archive_names(o));
    d.same("archive names after --target", &bn, &xn);
    let (bi, xi) = each(&sides, |s| s.items(o, "a3"));
    d.same("a3 items", &bi, &xi);

    // Recompression: every file here is a single chunk, so the stored
    // sizes do not depend on the repository's chunker seed.
    for (mode, spec) in [
        ("if-different", "zlib,6"),
        ("if-different", "zlib,9"),
        ("always", "zlib,9"),
        ("always", "auto,lzma"),
        ("never", "none"),
    ] {
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, Codes::Legacy);
            c.args(["recreate", "-C", spec, &format!("--recompress={mode}")])
                .arg(s.archive("a3"));
            run(c)
        });
        d.step(
            &format!("recreate --recompress={mode} -C {spec}"),
            &borg,
            &ox,
            &[],
        );
        let (b, x) = each(&sides, |s| {
            info_field(o, s, "a3", &["stats", "compressed_size"])
        });
        d.same(&format!("a3 compressed size after {mode} {spec}"), &b, &x);
    }

    // Rechunking: the chunker parameters recorded, the content intact.
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["recreate", "--chunker-params", "fixed,65536"])
            .arg(s.archive("a2"));
        run(c)
    });
    d.step("recreate --chunker-params", &borg, &ox, &[]);
    let (b, x) = each(&sides, |s| info_field(o, s, "a2", &["chunker_params"]));
    d.same("chunker params after rechunking", &b, &x);
    let (b, x) = each(&sides, |s| {
        let mut c = s.borg(o);
        c.args(["extract", "--stdout"])
            .arg(s.archive("a2"))
            .arg("src/sub/blob");
        let out = c.output().unwrap();
        (out.status.code(), out.stdout.len())
    });
    assert_eq!(b, (Some(0), 300_000));
    d.same("rechunked file extracted by borg", &b, &x);

    // The whole repository: `Processing NAME` on stdout for each archive.
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["recreate", "-e", "src/fifo"]).arg(&s.repo);
        run(c)
    });
    d.step("recreate REPO", &borg, &ox, &[]);
    d.same("recreate REPO stdout", &borg.stdout, &ox.stdout);
    let (bn, xn) = each(&sides, |s| s.archive_names(o));
    d.same("archive names at the end", &bn, &xn);
    for a in &bn {
        let (bi, xi) = each(&sides, |s| s.items(o, a));
        d.same(&format!("{a} items at the end"), &bi, &xi);
    }

    // Errors, in both exit-code modes.
    for codes in Codes::BOTH {
        for (label, args) in [
            ("nothing to do", vec!["recreate", "ARCHIVE:a1"]),
            ("temporary archive", vec!["recreate", "ARCHIVE:a1.recreate"]),
            (
                "--target without archive",
                vec!["recreate", "--target", "x", "REPO"],
            ),
            (
                "missing archive",
                vec!["recreate", "-e", "x", "ARCHIVE:nope"],
            ),
            (
                "existing target",
                vec!["recreate", "--target", "a2", "-e", "x", "ARCHIVE:a1"],
            ),
        ] {
            let (borg, ox) = each(&sides, |s| {
                let mut c = s.cmd(o, codes);
                for a in &args {
                    if let Some(name) = a.strip_prefix("ARCHIVE:") {
                        c.arg(s.archive(name));
                    } else if *a == "REPO" {
                        c.arg(&s.repo);
                    } else {
                        c.arg(a);
                    }
                }
                run(c)
            });
            assert_ne!(borg.rc, Some(0), "{label}: {}", borg.show());
            d.step(&format!("{label} ({})", codes.name()), &borg, &ox, &[]);
            d.same(&format!("{label}: message"), &borg.stderr, &ox.stderr);
        }
    }

    // borg checks every byte of oxiborg's result.
    let mut c = sides[1].borg(o);
    c.args(["check", "--verify-data"]).arg(&sides[1].repo);
    let out = run(c);
    d.same("borg check --verify-data rc", &Some(0), &out.rc);
    d.note("borg check --verify-data of oxiborg's repository", &out);
    d.finish("recreate");
}
