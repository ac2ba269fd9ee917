//! `diff` against borg 1.4.5: two states of a tree with every kind of
//! change (content, mode, owner when root, added/removed files,
//! directories, symlinks, a fifo and a device, hardlinks, a changed link
//! target, type changes), archived by borg and by oxiborg into one
//! repository; both tools diff the same archive pairs with many option
//! sets (plain, `--sort`, `--sort-by`, `--json-lines`, `--content-only`,
//! paths and patterns, other chunker params) and must print the same.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use oxiborg_oracle::Borg;

use crate::common::{ok, run, Diffs, Outcome};
use crate::tree::oxiborg_cmd;

fn env(mut c: Command) -> Command {
    c.env("BORG_PASSPHRASE", "secret")
        .env("TZ", "Europe/Berlin")
        .env("BORG_EXIT_CODES", "legacy");
    c
}

fn write(p: &Path, data: &[u8]) {
    std::fs::write(p, data).unwrap();
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn mknod_chr(p: &Path) -> bool {
    Command::new("mknod")
        .arg(p)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success())
}

/// The first state.
fn state1(t: &Path) {
    for d in ["d", "gone/deep", "sub/x", "typechg_dir"] {
        std::fs::create_dir_all(t.join(d)).unwrap();
    }
    write(&t.join("a"), b"hello\n");
    write(&t.join("same"), b"unchanged\n");
    let big: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
    write(&t.join("big"), &big);
    write(&t.join("gone/f"), b"x\n");
    write(&t.join("gone/deep/g"), b"yy\n");
    write(&t.join("mode"), b"m\n");
    write(&t.join("own"), b"o\n");
    write(&t.join("typechg_file"), b"becomes a dir\n");
    write(&t.join("typechg_dir/inner"), b"i\n");
    write(&t.join("sub/x/keep"), b"k\n");
    write(&t.join("sub/x/edit"), b"before\n");
    write(&t.join("ünï"), b"unicode name\n");
    symlink("a", t.join("link")).unwrap();
    symlink("same", t.join("link_gone")).unwrap();
    symlink("a", t.join("link_to_file")).unwrap();
    std::fs::hard_link(t.join("a"), t.join("hl_a")).unwrap();
    write(&t.join("hl_src"), b"linked\n");
    std::fs::hard_link(t.join("hl_src"), t.join("hl_other")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        t.join("fifo").as_path(),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    if is_root() {
        mknod_chr(&t.join("chr_gone"));
    }
}

/// The second state: every kind of change.
fn state2(t: &Path) {
    write(&t.join("a"), b"hello, changed\n"); // also its hardlink hl_a
    let mut big: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
    big[600_000..600_010].copy_from_slice(b"0123456789");
    big.extend_from_slice(b"tail");
    write(&t.join("big"), &big);
    chmod(&t.join("mode"), 0o755);
    std::fs::remove_dir_all(t.join("gone")).unwrap();
    write(&t.join("new"), b"new file\n");
    std::fs::create_dir_all(t.join("newdir/inner")).unwrap();
    write(&t.join("newdir/inner/f"), b"nf\n");
    std::fs::remove_file(t.join("link")).unwrap();
    symlink("same", t.join("link")).unwrap();
    std::fs::remove_file(t.join("link_gone")).unwrap();
    symlink("nowhere", t.join("newlink")).unwrap();
    std::fs::remove_file(t.join("link_to_file")).unwrap();
    write(&t.join("link_to_file"), b"now a file\n");
    std::fs::remove_file(t.join("typechg_file")).unwrap();
    std::fs::create_dir(t.join("typechg_file")).unwrap();
    std::fs::remove_dir_all(t.join("typechg_dir")).unwrap();
    write(&t.join("typechg_dir"), b"was a dir\n");
    write(&t.join("sub/x/edit"), b"after, longer\n");
    std::fs::remove_file(t.join("fifo")).unwrap();
    // A new hardlink to an unchanged file; a hardlink broken up.
    std::fs::hard_link(t.join("same"), t.join("hl_same_new")).unwrap();
    std::fs::remove_file(t.join("hl_other")).unwrap();
    write(&t.join("hl_other"), b"linked\n");
    if is_root() {
        let _ = std::fs::remove_file(t.join("chr_gone"));
        mknod_chr(&t.join("chr_new"));
        rustix::fs::chown(
            t.join("own").as_path(),
            Some(rustix::process::Uid::from_raw(65534)),
            None,
        )
        .unwrap();
    }
}

fn diff_run(c: Command, repo: &str, a1: &str, a2: &str, opts: &[&str], paths: &[&str]) -> Outcome {
    let mut c = c;
    c.arg("diff")
        .args(opts)
        .arg(format!("{repo}::{a1}"))
        .arg(a2)
        .args(paths);
    run(c)
}

#[test]
fn diff_prints_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    let src = tmp.path().join("src");
    let t = src.join("t");
    std::fs::create_dir_all(&t).unwrap();
    let repo_path = tmp.path().join("repo");
    let repo = repo_path.to_str().unwrap();
    let borg = || env(o.borg(Borg::V14, &base));
    let ox = || env(oxiborg_cmd(&base));
    ok(
        {
            let mut c = borg();
            c.args(["init", "-e", "none", repo]);
            c
        },
        "init",
    );
    let create = |mut c: Command, name: &str, extra: &[&str]| {
        c.current_dir(&src)
            .arg("create")
            .args(extra)
            .arg(format!("{repo}::{name}"))
            .arg("t");
        ok(c, "create");
    };
    state1(&t);
    create(borg(), "b1", &[]);
    create(ox(), "o1", &[]);
    // Times must differ between the states.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    state2(&t);
    create(borg(), "b2", &[]);
    create(ox(), "o2", &[]);
    create(ox(), "o2fixed", &["--chunker-params", "fixed,4096"]);

    let pairs: &[(&str, &str)] = &[("b1", "b2"), ("o1", "o2"), ("b1", "o2"), ("o2", "b1")];
    let option_sets: &[(&[&str], &[&str])] = &[
        (&[], &[]),
        (&["--sort"], &[]),
        (&["--json-lines"], &[]),
        (&["--json-lines", "--sort"], &[]),
        (&["--content-only"], &[]),
        (&["--sort-by", ">size_diff,path"], &[]),
        (&["--sort-by", "size_added,<size_removed"], &[]),
        (&["--sort-by", "size,user,path"], &[]),
        (&["--sort-by", ">mtime_diff,uid,gid,group,path"], &[]),
        (&["--sort-by", "ctime,ctime_diff,mtime,path"], &[]),
        (&["--numeric-ids"], &[]),
        (&["--same-chunker-params"], &[]),
        (&[], &["t/sub", "t/gone", "t/nonexistent"]),
        (&["-e", "t/big", "--pattern=-t/newdir"], &[]),
        (&["--json-lines", "--content-only"], &["t"]),
    ];
    let mut diffs = Diffs::default();
    let mut compare = |a1: &str, a2: &str, opts: &[&str], paths: &[&str]| {
        // Both at once (two cores; diff takes a shared lock).
        let (b, x) = std::thread::scope(|s| {
            let h = s.spawn(|| diff_run(borg(), repo, a1, a2, opts, paths));
            let x = diff_run(ox(), repo, a1, a2, opts, paths);
            (h.join().expect("borg thread"), x)
        });
        let label = format!("diff {} {a1} {a2} {}", opts.join(" "), paths.join(" "));
        assert!(
            b.rc.is_some_and(|rc| rc < 2),
            "{label}: borg failed\n{}",
            b.show()
        );
        diffs.note(&format!("{label} (borg)"), &b);
        diffs.note(&format!("{label} (oxiborg)"), &x);
        diffs.same(&format!("{label}: rc"), &b.rc, &x.rc);
        diffs.same(&format!("{label}: stdout"), &b.stdout, &x.stdout);
        diffs.same(&format!("{label}: stderr"), &b.stderr, &x.stderr);
        b
    };
    for (a1, a2) in pairs {
        // The mixed pairs with a few option sets only.
        let sets = if a1.as_bytes()[0] == a2.as_bytes()[0] {
            option_sets
        } else {
            &option_sets[..3]
        };
        for (opts, paths) in sets {
            let b = compare(a1, a2, opts, paths);
            assert!(
                !b.stdout.is_empty(),
                "borg found no difference: {}",
                b.show()
            );
            if opts.is_empty() && paths.is_empty() && *a1 == "b1" && *a2 == "b2" {
                for want in [
                    "added directory",
                    "removed directory",
                    "changed link",
                    "removed link",
                    "added link",
                    "removed fifo",
                    "[-rw-r--r-- -> -rwxr-xr-x]",
                    "[mtime: ",
                    "removed ",
                    "added ",
                ] {
                    assert!(
                        b.stdout.contains(want),
                        "borg printed no {want:?}:\n{}",
                        b.stdout
                    );
                }
                if is_root() {
                    assert!(b.stdout.contains("-> nobody:"), "{}", b.stdout);
                    assert!(b.stdout.contains("added chrdev"), "{}", b.stdout);
                }
            }
        }
    }
    // Different chunker params: content compared by bytes, with borg's
    // warning.
    for opts in [&[][..], &["--json-lines"], &["--same-chunker-params"]] {
        compare("o1", "o2fixed", opts, &[]);
        compare("o2", "o2fixed", opts, &[]);
    }
    // Both exit-code modes for a path that never matches.
    for codes in ["legacy", "modern"] {
        let mut bc = borg();
        bc.env("BORG_EXIT_CODES", codes);
        let mut xc = ox();
        xc.env("BORG_EXIT_CODES", codes);
        let b = diff_run(bc, repo, "b1", "b2", &[], &["t/nothing"]);
        let x = diff_run(xc, repo, "b1", "b2", &[], &["t/nothing"]);
        diffs.same(&format!("{codes}: never matched: rc"), &b.rc, &x.rc);
        diffs.same(
            &format!("{codes}: never matched: stderr"),
            &b.stderr,
            &x.stderr,
        );
        // An archive that does not exist, a bad --sort-by.
        for (opts, a2) in [(&[][..], "nope"), (&["--sort-by", "bogus"], "b2")] {
            let mut bc = borg();
            bc.env("BORG_EXIT_CODES", codes);
            let mut xc = ox();
            xc.env("BORG_EXIT_CODES", codes);
            let b = diff_run(bc, repo, "b1", a2, opts, &[]);
            let x = diff_run(xc, repo, "b1", a2, opts, &[]);
            assert!(b.rc.is_some_and(|rc| rc >= 2), "{}", b.show());
            diffs.same(&format!("{codes}: diff {opts:?} b1 {a2}: rc"), &b.rc, &x.rc);
        }
    }
    diffs.finish("diff_prints_like_borg");
}
