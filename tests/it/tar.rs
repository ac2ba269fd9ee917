//! `export-tar` and `import-tar` against borg 1.4.5: the exported tar
//! stream is byte-identical to borg's (borg 1.4 writes only the GNU format
//! with Python's `tarfile`), and an imported tar gives the same items and
//! chunks as borg's import.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use oxiborg_oracle::Borg;

use crate::common::{ok, run, Diffs, Outcome};
use crate::tree::{make_tree, oxiborg_cmd, TreeOpts};

const PASS: &str = "secret";

fn ox(base: &Path) -> Command {
    let mut c = oxiborg_cmd(base);
    c.env("BORG_PASSPHRASE", PASS);
    c
}

fn borg(o: &oxiborg_oracle::Oracle, base: &Path) -> Command {
    let mut c = o.borg(Borg::V14, base);
    c.env("BORG_PASSPHRASE", PASS);
    c
}

fn with(mut c: Command, args: &[&str]) -> Command {
    c.args(args);
    c
}

/// The tree of `make_tree` plus what tar formats treat specially: names
/// and link targets longer than 100 bytes (GNU long records), a path
/// longer than 255, non-UTF-8 names, a hardlink with a long name, ids
/// and times that need base-256 numbers, odd modes.
fn make_source(root: &Path) {
    let opts = TreeOpts {
        big_file_bytes: 6 << 20,
        ..TreeOpts::default()
    };
    make_tree(&root.join("tree"), &opts).unwrap();
    let x = root.join("tree/tarspecial");
    let long_dir = x.join("d".repeat(90)).join("e".repeat(80));
    std::fs::create_dir_all(&long_dir).unwrap();
    let long_file = long_dir.join("f".repeat(120));
    std::fs::write(&long_file, b"long name content").unwrap();
    std::fs::hard_link(&long_file, x.join(format!("hl-{}", "h".repeat(110)))).unwrap();
    std::os::unix::fs::symlink("t".repeat(180), x.join("long-target")).unwrap();
    std::os::unix::fs::symlink("short", x.join("s".repeat(101))).unwrap();
    let bad = x.join(std::ffi::OsStr::from_bytes(b"non-utf8-\xff\xfe.bin"));
    std::fs::write(&bad, b"bytes").unwrap();
    std::fs::write(x.join("exactly100-".to_string() + &"n".repeat(89)), b"100").unwrap();
    std::fs::create_dir(x.join("c".repeat(99))).unwrap();
    let modes = x.join("modes");
    std::fs::write(&modes, b"suid").unwrap();
    std::fs::set_permissions(&modes, std::os::unix::fs::PermissionsExt::from_mode(0o6755)).unwrap();
    // Times: before the epoch, and with a fraction close to a whole second.
    let old = x.join("old");
    std::fs::write(&old, b"old").unwrap();
    set_mtime(&old, -86_400 * 365, 500_000_000);
    let late = x.join("late");
    std::fs::write(&late, b"late").unwrap();
    set_mtime(&late, 1_700_000_000, 999_999_999);
    // An id that needs GNU base-256 (root only).
    let big_uid = x.join("big-uid");
    std::fs::write(&big_uid, b"uid").unwrap();
    let _ = std::os::unix::fs::lchown(&big_uid, Some(3_000_000), Some(2_100_000));
}

fn set_mtime(p: &Path, secs: i64, nanos: u32) {
    let t = if secs >= 0 {
        std::time::UNIX_EPOCH + std::time::Duration::new(secs as u64, nanos)
    } else {
        std::time::UNIX_EPOCH - std::time::Duration::from_secs((-secs) as u64)
            + std::time::Duration::from_nanos(u64::from(nanos))
    };
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(t).unwrap();
}

/// A repository with borg's archive `a` of the source tree.
fn borg_archive(o: &oxiborg_oracle::Oracle, t: &Path) -> (std::path::PathBuf, String) {
    let base = t.join("base");
    let src = t.join("src");
    make_source(&src);
    let repo = t.join("repo");
    let r = repo.to_str().unwrap().to_string();
    ok(
        with(borg(o, &base), &["init", "-e", "repokey", &r]),
        "borg init",
    );
    let mut c = with(borg(o, &base), &["create", &format!("{r}::a"), "tree"]);
    c.current_dir(&src);
    ok(c, "borg create");
    (base, r)
}

#[test]
fn export_tar_is_byte_identical_to_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (base, r) = borg_archive(o, t);
    let arch = format!("{r}::a");
    let mut d = Diffs::default();
    // (label, options, PATHs)
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("whole archive", &[], &[]),
        ("--list", &["--list"], &[]),
        ("--strip-components 2", &["--strip-components", "2"], &[]),
        ("--strip-components 3", &["--strip-components", "3"], &[]),
        // Hardlink masters outside the selection lend their content.
        ("slaves only", &[], &["tree/hard/two", "tree/hard/three"]),
        (
            "slaves only, stripped",
            &["--strip-components", "1", "--list"],
            &["tree/hard/two", "tree/tarspecial"],
        ),
        (
            "exclude",
            &["-e", "tree/hard/one", "-e", "sh:**/*.txt"],
            &[],
        ),
        (
            "pattern never matched",
            &[],
            &["tree/files", "tree/nothing-here"],
        ),
        ("--tar-filter cat", &["--tar-filter", "cat"], &[]),
    ];
    for (label, opts, paths) in cases {
        let mut outs = Vec::new();
        for (tool, cmd) in [("borg", borg(o, &base)), ("oxiborg", ox(&base))] {
            let file = t.join(format!("{tool}.tar"));
            let mut c = cmd;
            c.arg("export-tar");
            c.args(*opts);
            c.arg(&arch).arg(&file);
            c.args(*paths);
            let out = run(c);
            let bytes = std::fs::read(&file).unwrap_or_default();
            let _ = std::fs::remove_file(&file);
            outs.push((out, bytes));
        }
        let (b, x) = (&outs[0], &outs[1]);
        d.note(&format!("{label} (borg)"), &b.0);
        d.note(&format!("{label} (oxiborg)"), &x.0);
        d.same(&format!("{label}: rc"), &b.0.rc, &x.0.rc);
        d.same(&format!("{label}: stderr"), &b.0.stderr, &x.0.stderr);
        assert!(b.1.len() >= 10240, "{label}: borg wrote no tar");
        d.check(
            b.1 == x.1,
            format!(
                "{label}: tar streams differ (borg {} bytes, oxiborg {} bytes, first difference at {:?})",
                b.1.len(),
                x.1.len(),
                b.1.iter().zip(&x.1).position(|(p, q)| p != q)
            ),
        );
    }
    // To stdout, and through the filter chosen by the extension.
    for name in ["-", "out.tar.gz", "out.tar.xz"] {
        let mut got = Vec::new();
        for cmd in [borg(o, &base), ox(&base)] {
            let file = t.join(name);
            let mut c = cmd;
            c.arg("export-tar").arg(&arch).arg(if name == "-" {
                Path::new("-")
            } else {
                file.as_path()
            });
            let out = c.output().unwrap();
            assert!(out.status.success(), "{name}: {out:?}");
            let bytes = if name == "-" {
                out.stdout
            } else {
                std::fs::read(&file).unwrap()
            };
            got.push(bytes);
        }
        d.check(got[0] == got[1], format!("{name}: outputs differ"));
    }
    d.finish("export_tar_is_byte_identical_to_borg");
}

#[test]
fn export_tar_errors_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let repo = t.join("repo");
    let r = repo.to_str().unwrap().to_string();
    ok(with(borg(o, &base), &["init", "-e", "none", &r]), "init");
    std::fs::create_dir(t.join("src")).unwrap();
    std::fs::write(t.join("src/f"), vec![1u8; 300_000]).unwrap();
    let mut c = with(borg(o, &base), &["create", &format!("{r}::a"), "src"]);
    c.current_dir(t);
    ok(c, "create");
    let mut d = Diffs::default();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "missing archive",
            &["export-tar", "::nope", "x.tar"],
            "x.tar",
        ),
        (
            "filter not found",
            &[
                "export-tar",
                "--tar-filter",
                "no-such-filter-xyz",
                "::a",
                "y.tar",
            ],
            "",
        ),
        (
            "filter fails",
            &[
                "export-tar",
                "--tar-filter",
                "sh -c 'cat >/dev/null; exit 3'",
                "::a",
                "z.tar",
            ],
            "",
        ),
    ];
    for (label, args, absent) in cases {
        for codes in ["legacy", "modern"] {
            let mut outs: Vec<Outcome> = Vec::new();
            for cmd in [borg(o, &base), ox(&base)] {
                let mut c = cmd;
                c.current_dir(t).env("BORG_EXIT_CODES", codes);
                let args: Vec<String> = args
                    .iter()
                    .map(|a| a.replace("::", &format!("{r}::")))
                    .collect();
                c.args(&args);
                outs.push(run(c));
                if !absent.is_empty() {
                    d.check(
                        !t.join(absent).exists(),
                        format!("{label}: {absent} was created"),
                    );
                }
            }
            let label = format!("{label} ({codes})");
            d.note(&format!("{label} borg"), &outs[0]);
            d.note(&format!("{label} oxiborg"), &outs[1]);
            d.same(&format!("{label}: rc"), &outs[0].rc, &outs[1].rc);
            d.same(
                &format!("{label}: stderr"),
                &outs[0].stderr,
                &outs[1].stderr,
            );
        }
    }
    d.finish("export_tar_errors_like_borg");
}
