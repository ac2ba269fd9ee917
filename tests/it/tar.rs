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

/// The first item that differs, for the report.
fn item_diff(b: &serde_json::Value, o: &serde_json::Value) -> String {
    let (Some(b), Some(o)) = (b.as_array(), o.as_array()) else {
        return "not arrays".into();
    };
    for (i, (x, y)) in b.iter().zip(o).enumerate() {
        if x != y {
            return format!("item {i}:\n      borg:    {x}\n      oxiborg: {y}");
        }
    }
    format!("{} items in borg's, {} in oxiborg's", b.len(), o.len())
}

/// `borg debug dump-archive`'s items of `archive` (JSON).
fn dump_items(
    o: &oxiborg_oracle::Oracle,
    base: &Path,
    archive: &str,
    t: &Path,
) -> serde_json::Value {
    let file = t.join("dump.json");
    ok(
        with(
            borg(o, base),
            &["debug", "dump-archive", archive, file.to_str().unwrap()],
        ),
        "borg debug dump-archive",
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    std::fs::remove_file(&file).unwrap();
    v["_items"].clone()
}

fn archive_names(o: &oxiborg_oracle::Oracle, base: &Path, repo: &str) -> Vec<String> {
    let out = ok(with(borg(o, base), &["list", "--short", repo]), "borg list");
    out.stdout.lines().map(str::to_string).collect()
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

/// What survives a tar round trip, per relative path: kind, permission
/// bits, content or link target, and the mtime in whole seconds (for
/// times after the epoch).
fn snapshot(root: &Path) -> std::collections::BTreeMap<Vec<u8>, String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let ft = m.file_type();
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .as_os_str()
                .as_bytes()
                .to_vec();
            let what = if ft.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else if ft.is_symlink() {
                format!("link {:?}", std::fs::read_link(&p).unwrap())
            } else if ft.is_file() {
                let data = std::fs::read(&p).unwrap();
                let sum: u64 = data
                    .iter()
                    .enumerate()
                    .map(|(i, &b)| (i as u64 + 1) * u64::from(b))
                    .sum();
                format!("file {} {sum}", data.len())
            } else if ft.is_fifo() {
                "fifo".to_string()
            } else if ft.is_block_device() || ft.is_char_device() {
                format!("dev {}", m.rdev())
            } else {
                continue; // sockets: tar leaves them out
            };
            // borg stores times before the epoch as 0 and clamps late
            // ones to its MAX_S (2038).
            let stored = (1..2_147_310_847).contains(&m.mtime());
            let mtime = if stored && !ft.is_symlink() && !ft.is_dir() {
                m.mtime().to_string()
            } else {
                "-".to_string()
            };
            out.insert(
                rel,
                format!("{what} mode {:o} mtime {mtime}", m.mode() & 0o7777),
            );
        }
    }
    out
}

fn gnu_tar(dir: &Path, out: &Path, opts: &[&str], what: &str) {
    let mut c = Command::new("tar");
    c.arg("-C")
        .arg(dir)
        .args(opts)
        .arg("-cf")
        .arg(out)
        .arg(what);
    let o = c.output().unwrap();
    // GNU tar exits 0 also when it ignored sockets.
    assert!(o.status.success(), "tar {opts:?}: {o:?}");
}

#[test]
fn import_tar_builds_borgs_items() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (base, r1) = borg_archive(o, t);
    let src = t.join("src");
    // A sparse file for GNU tar's sparse formats.
    let sparse_dir = t.join("sparse");
    std::fs::create_dir(&sparse_dir).unwrap();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(sparse_dir.join("holes")).unwrap();
        f.write_all(b"start").unwrap();
        f.seek(SeekFrom::Start(3 << 20)).unwrap();
        f.write_all(b"middle").unwrap();
        f.set_len(7 << 20).unwrap();
    }
    let tars = t.join("tars");
    std::fs::create_dir(&tars).unwrap();
    let exported = tars.join("borg-export.tar");
    ok(
        with(
            borg(o, &base),
            &[
                "export-tar",
                &format!("{r1}::a"),
                exported.to_str().unwrap(),
            ],
        ),
        "borg export-tar",
    );
    gnu_tar(&src, &tars.join("gnu.tar"), &["--format=gnu"], "tree");
    gnu_tar(&src, &tars.join("pax.tar"), &["--format=pax"], "tree");
    gnu_tar(
        &src,
        &tars.join("numeric.tar"),
        &["--format=gnu", "--numeric-owner"],
        "./tree/hard",
    );
    gnu_tar(
        &src,
        &tars.join("ustar.tar"),
        &["--format=ustar"],
        "tree/files",
    );
    gnu_tar(&src, &tars.join("v7.tar"), &["--format=v7"], "tree/files");
    gnu_tar(
        &t.join("sparse"),
        &tars.join("sparse-gnu.tar"),
        &["--format=gnu", "--sparse"],
        "holes",
    );
    for v in ["0.0", "0.1", "1.0"] {
        gnu_tar(
            &sparse_dir,
            &tars.join(format!("sparse-pax-{v}.tar")),
            &["--format=pax", "--sparse", &format!("--sparse-version={v}")],
            "holes",
        );
    }
    let repo = t.join("repo2");
    let r2 = repo.to_str().unwrap().to_string();
    ok(
        with(borg(o, &base), &["init", "-e", "repokey-blake2", &r2]),
        "init",
    );
    let mut d = Diffs::default();
    let names = [
        "gnu.tar",
        "borg-export.tar",
        "pax.tar",
        "numeric.tar",
        "ustar.tar",
        "v7.tar",
        "sparse-gnu.tar",
        "sparse-pax-0.0.tar",
        "sparse-pax-0.1.tar",
        "sparse-pax-1.0.tar",
    ];
    for (i, name) in names.iter().enumerate() {
        let tar = tars.join(name);
        let before = dir_size(&repo);
        let ox_out = run(with(
            ox(&base),
            &[
                "import-tar",
                "--list",
                &format!("{r2}::o{i}"),
                tar.to_str().unwrap(),
            ],
        ));
        let mid = dir_size(&repo);
        let borg_out = run(with(
            borg(o, &base),
            &[
                "import-tar",
                "--list",
                &format!("{r2}::b{i}"),
                tar.to_str().unwrap(),
            ],
        ));
        let after = dir_size(&repo);
        d.note(&format!("{name} (borg)"), &borg_out);
        d.note(&format!("{name} (oxiborg)"), &ox_out);
        d.same(&format!("{name}: rc"), &borg_out.rc, &ox_out.rc);
        d.same(&format!("{name}: stderr"), &borg_out.stderr, &ox_out.stderr);
        if borg_out.rc != Some(0) || ox_out.rc != Some(0) {
            continue;
        }
        let bi = dump_items(o, &base, &format!("{r2}::b{i}"), t);
        let oi = dump_items(o, &base, &format!("{r2}::o{i}"), t);
        d.check(
            bi == oi && bi.as_array().is_some_and(|a| !a.is_empty()),
            format!("{name}: items differ: {}", item_diff(&bi, &oi)),
        );
        if i == 0 {
            // borg's import of the same tar adds (almost) nothing.
            let first = mid - before;
            let second = after - mid;
            d.check(
                second * 100 < first,
                format!("{name}: the second import grew the repository by {second} bytes (first: {first})"),
            );
        }
    }
    // --stats and --json like borg (ids and times aside).
    let mut stats = Vec::new();
    for (tool, cmd) in [("b", borg(o, &base)), ("o", ox(&base))] {
        let out = ok(
            with(
                cmd,
                &[
                    "import-tar",
                    "--json",
                    &format!("{r2}::{tool}-json"),
                    tars.join("gnu.tar").to_str().unwrap(),
                ],
            ),
            "import-tar --json",
        );
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        stats.push(v["archive"]["stats"].clone());
    }
    d.same("--json archive stats", &stats[0], &stats[1]);
    let check = run(with(borg(o, &base), &["check", "--verify-data", &r2]));
    d.check(
        check.rc == Some(0),
        format!("borg check --verify-data: {}", check.show()),
    );
    // borg extracts oxiborg's import of GNU tar's tar as the source tree.
    let ex = t.join("extracted");
    std::fs::create_dir(&ex).unwrap();
    let mut c = with(borg(o, &base), &["extract", &format!("{r2}::o0")]);
    c.current_dir(&ex);
    ok(c, "borg extract");
    let want = snapshot(&src.join("tree"));
    let got = snapshot(&ex.join("tree"));
    for (k, v) in &want {
        d.same(
            &format!("extracted {}", String::from_utf8_lossy(k)),
            &Some(v),
            &got.get(k),
        );
    }
    d.same(
        "extracted paths",
        &want.keys().collect::<Vec<_>>(),
        &got.keys().collect::<Vec<_>>(),
    );
    d.finish("import_tar_builds_borgs_items");
}

#[test]
fn import_tar_bad_input_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let src = t.join("src");
    std::fs::create_dir_all(src.join("d")).unwrap();
    crate::common::random_file(&src.join("d/big"), 3 << 20, 7);
    std::fs::write(src.join("d/small"), b"small").unwrap();
    let good = t.join("good.tar");
    gnu_tar(&src, &good, &["--format=gnu"], "d");
    let data = std::fs::read(&good).unwrap();
    std::fs::write(t.join("garbage.tar"), vec![b'x'; 5000]).unwrap();
    std::fs::write(t.join("short.tar"), b"garbage\n").unwrap();
    std::fs::write(t.join("empty.tar"), b"").unwrap();
    std::fs::write(t.join("mid-content.tar"), &data[..2 << 20]).unwrap();
    // Cut after the first members' blocks: Python's tarfile ends quietly.
    std::fs::write(t.join("block-cut.tar"), &data[..1536]).unwrap();
    let mut twice = data.clone();
    twice.extend_from_slice(&data);
    std::fs::write(t.join("concat.tar"), &twice).unwrap();
    let o_gz = Command::new("gzip").arg("-k").arg(&good).output().unwrap();
    assert!(o_gz.status.success());
    // A GNU volume label (type V): a warning and an `E` line.
    gnu_tar(
        &src,
        &t.join("label.tar"),
        &["--format=gnu", "-V", "LABEL"],
        "d",
    );
    let repo = t.join("repo");
    let r = repo.to_str().unwrap().to_string();
    ok(with(borg(o, &base), &["init", "-e", "none", &r]), "init");
    let cases: &[(&str, &[&str], &str)] = &[
        ("garbage", &[], "garbage.tar"),
        ("short", &[], "short.tar"),
        ("empty", &[], "empty.tar"),
        ("truncated content", &[], "mid-content.tar"),
        ("cut at a block", &[], "block-cut.tar"),
        ("concatenated", &[], "concat.tar"),
        (
            "concatenated, --ignore-zeros",
            &["--ignore-zeros"],
            "concat.tar",
        ),
        ("gzip by extension", &[], "good.tar.gz"),
        ("volume label", &["--list"], "label.tar"),
        ("missing file", &[], "no-such.tar"),
        ("filter fails", &["--tar-filter", "false"], "good.tar"),
    ];
    let mut d = Diffs::default();
    for (i, (label, opts, file)) in cases.iter().enumerate() {
        let mut outs: Vec<Outcome> = Vec::new();
        for (tool, cmd) in [("b", borg(o, &base)), ("o", ox(&base))] {
            let mut c = cmd;
            c.current_dir(t).arg("import-tar").args(*opts);
            c.arg(format!("{r}::{tool}{i}")).arg(file);
            outs.push(run(c));
        }
        d.note(&format!("{label} (borg)"), &outs[0]);
        d.note(&format!("{label} (oxiborg)"), &outs[1]);
        d.same(&format!("{label}: rc"), &outs[0].rc, &outs[1].rc);
        let names = archive_names(o, &base, &r);
        let has = |tool: &str| names.iter().any(|n| *n == format!("{tool}{i}"));
        d.same(&format!("{label}: archive saved"), &has("b"), &has("o"));
        if outs[0].rc == Some(2) {
            // borg names the error in one line (of a traceback for the
            // tarfile errors it does not catch); oxiborg prints that text.
            let want = outs[0]
                .stderr
                .lines()
                .find(|l| {
                    l.starts_with("tarfile.ReadError: ")
                        || l.starts_with("Error: filter")
                        || l.starts_with("FileNotFoundError")
                })
                .map(|l| l.trim_start_matches("FileNotFoundError: ").to_string());
            match want {
                Some(w) => d.check(
                    outs[1].stderr.contains(&w),
                    format!("{label}: oxiborg's stderr lacks borg's {w:?}"),
                ),
                None => d.check(false, format!("{label}: borg's error line not found")),
            }
        } else {
            d.same(
                &format!("{label}: stderr"),
                &outs[0].stderr,
                &outs[1].stderr,
            );
        }
        if has("b") && has("o") {
            let bi = dump_items(o, &base, &format!("{r}::b{i}"), t);
            let oi = dump_items(o, &base, &format!("{r}::o{i}"), t);
            d.check(
                bi == oi,
                format!("{label}: items differ: {}", item_diff(&bi, &oi)),
            );
        }
    }
    d.finish("import_tar_bad_input_like_borg");
}
