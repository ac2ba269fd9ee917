//! End-to-end checks of the path forms documented in the crate docs.
//!
//! * create: walk a real tree the way borg's `_rec_walk` does, feeding
//!   `PatternMatcher::matches` `normpath(root)` and
//!   `normpath(join(parent, name))`, and compare the resulting `x`/`-` list
//!   with `borg create --dry-run --list` of borg 1.4.5.
//! * list (same matcher code path as extract): filter the archived
//!   `item.path`s with a matcher built like borg's `build_matcher` and
//!   compare with `borg list ARCHIVE PATHS... --exclude/--pattern`.

use oxiborg_patterns::{normpath, PatternArgs, PatternMatcher};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

/// borg's `remove_surrogates`: every undecodable byte shows as `?`.
fn display(path: &[u8]) -> String {
    let mut s = String::new();
    for chunk in path.utf8_chunks() {
        s.push_str(chunk.valid());
        s.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    s
}

fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    // os.path.join(parent, name) for a relative name
    let mut p = parent.to_vec();
    if !p.is_empty() && !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// borg 1.4.5 `_rec_walk` reduced to what matters for a dry run without
/// tag files, devices or repeated roots.
fn rec_walk(cwd: &Path, path: &[u8], matcher: &mut PatternMatcher, out: &mut Vec<String>) {
    let fs_path = cwd.join(std::ffi::OsStr::from_bytes(path));
    let recurse_excluded_dir;
    if matcher.matches(path) {
        recurse_excluded_dir = false;
    } else {
        out.push(format!("x {}", display(path)));
        if !matcher.recurse_dir() {
            return;
        }
        recurse_excluded_dir = true;
        if !fs_path.symlink_metadata().unwrap().is_dir() {
            return;
        }
    }
    let md = fs_path.symlink_metadata().unwrap();
    if md.is_dir() {
        let mut names: Vec<Vec<u8>> = std::fs::read_dir(&fs_path)
            .unwrap()
            .map(|e| e.unwrap().file_name().as_bytes().to_vec())
            .collect();
        names.sort();
        for name in names {
            let child = normpath(&join(path, &name));
            rec_walk(cwd, &child, matcher, out);
        }
    }
    if !recurse_excluded_dir {
        out.push(format!("- {}", display(path)));
    }
}

fn touch(base: &Path, rel: &str) {
    let p = base.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, b"x").unwrap();
}

/// Run one scenario: `args` are borg's pattern options as (option, value).
fn scenario(
    oracle: &oxiborg_oracle::Oracle,
    cwd: &Path,
    roots: &[Vec<u8>],
    args: &[(&str, &[u8])],
) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = oracle.borg(oxiborg_oracle::Borg::V14, home.path());
    cmd.current_dir(cwd).args(["create", "--dry-run", "--list"]);
    let mut pa = PatternArgs::new();
    for (opt, val) in args {
        cmd.arg(format!("{opt}={}", std::str::from_utf8(val).unwrap()));
        match *opt {
            "--exclude" => pa.exclude(val).unwrap(),
            "--pattern" => pa.pattern(val).unwrap(),
            other => panic!("unknown option {other}"),
        }
    }
    let repo = home.path().join("no-repo");
    cmd.arg(format!("{}::arch", repo.display()));
    for r in roots {
        cmd.arg(std::ffi::OsStr::from_bytes(r));
        pa.path(r);
    }
    let out = run(cmd);
    let mut theirs: Vec<String> = out.lines().map(str::to_string).collect();

    let mut matcher = pa.create_matcher();
    let mut ours = Vec::new();
    for root in &pa.paths {
        rec_walk(cwd, &normpath(root), &mut matcher, &mut ours);
    }
    theirs.sort();
    ours.sort();
    assert!(theirs.iter().any(|l| l.starts_with("x ")), "{theirs:?}");
    assert!(theirs.iter().any(|l| l.starts_with("- ")), "{theirs:?}");
    assert_eq!(ours, theirs, "roots {roots:?}, args {args:?}");
}

fn run(mut cmd: Command) -> String {
    let out = cmd.output().expect("run borg");
    assert!(
        out.status.success(),
        "borg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --list goes to stderr (logger borg.output.list).
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn create_dry_run_list_matches_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let tree = tempfile::tempdir().unwrap();
    let base = tree.path();
    for f in [
        "t1/a.tmp",
        "t1/keep/a.tmp",
        "t1/keep/b.txt",
        "t1/c.txt",
        "t1/.cache/blob",
        "t2/sub/skip/deep/f",
        "t2/sub/ok/f",
        "t2/other",
        "t3/x.log",
        "t3/y.txt",
        "t4/dir/inner/f",
        "t4/dir/g.tmp",
        "t5/outer/inner/f.tmp",
        "t5/outer/inner/g",
    ] {
        touch(base, f);
    }
    std::fs::write(base.join(std::ffi::OsStr::from_bytes(b"t3/\xff.log")), b"x").unwrap();
    let abs_t3 = base.join("t3").as_os_str().as_bytes().to_vec();
    let slashdot = {
        let mut p = base.as_os_str().as_bytes().to_vec();
        p.extend_from_slice(b"/t5/./outer");
        p
    };
    let roots = vec![
        b"./t1".to_vec(),
        b"t2/../t2/sub".to_vec(),
        abs_t3,
        b"t4/".to_vec(),
        slashdot,
    ];
    scenario(
        oracle,
        base,
        &roots,
        &[
            ("--exclude", b"t1/*.tmp"),
            ("--pattern", b"- sh:**/.cache"),
            ("--pattern", b"+ re:^t1/keep/"),
            ("--pattern", b"! t2/sub/skip"),
            ("--pattern", b"- re:t3/.*\\.log$"),
            ("--pattern", b"- t4/dir"),
            ("--pattern", b"+ t4/dir/inner"),
            ("--pattern", b"- **/inner/*.tmp"),
        ],
    );
    // Root "." : the root is matched as ".", its children without "./".
    scenario(
        oracle,
        &base.join("t1"),
        &[b".".to_vec()],
        &[
            ("--exclude", b"a.tmp"),
            ("--pattern", b"- pf:."),
            ("--pattern", b"! keep"),
        ],
    );
    scenario(
        oracle,
        &base.join("t2"),
        &[b".".to_vec(), b"../t3".to_vec()],
        &[
            ("--exclude", b"./sub"),
            ("--exclude", b"../t3/y.txt"),
            ("--pattern", b"- re:^\\.\\./t3/x"),
        ],
    );
}

fn borg_ok(
    oracle: &oxiborg_oracle::Oracle,
    home: &Path,
    cwd: &Path,
    args: &[&std::ffi::OsStr],
) -> Vec<u8> {
    let out = oracle
        .borg(oxiborg_oracle::Borg::V14, home)
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run borg");
    assert!(
        out.status.success(),
        "borg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// PATH arguments and (option, value) pattern options of one `borg list`.
type ListScenario = (Vec<String>, Vec<(&'static str, String)>);

#[test]
fn list_with_paths_and_patterns_matches_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let tree = tempfile::tempdir().unwrap();
    let base = tree.path();
    for f in [
        "src/a.tmp",
        "src/keep/a.tmp",
        "src/keep/b.txt",
        "src/c.txt",
        "src/.cache/blob",
        "src/sub/skip/deep/f",
        "src/sub/ok/f",
        "other/x.log",
        "other/y.txt",
    ] {
        touch(base, f);
    }
    std::fs::write(
        base.join(std::ffi::OsStr::from_bytes(b"src/\xff.tmp")),
        b"x",
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("repo");
    let repo_s = repo.to_str().unwrap().to_string();
    borg_ok(
        oracle,
        home.path(),
        base,
        &[os("init"), os("-e"), os("none"), os(&repo_s)],
    );
    let abs_other = base.join("other");
    let arch = format!("{repo_s}::arch");
    borg_ok(
        oracle,
        home.path(),
        base,
        &[os("create"), os(&arch), os("src"), abs_other.as_os_str()],
    );
    // Every archived path, as stored.
    let all_raw = borg_ok(
        oracle,
        home.path(),
        base,
        &[os("list"), os("--format"), os("{path}{NUL}"), os(&arch)],
    );
    let all: Vec<&[u8]> = all_raw
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .collect();
    assert!(all.iter().any(|p| p.starts_with(b"src/")));

    let abs_prefix = abs_other
        .to_str()
        .unwrap()
        .trim_start_matches('/')
        .to_string();
    let scenarios: Vec<ListScenario> = vec![
        (vec![], vec![]),
        (vec!["src/keep".into()], vec![]),
        (
            vec!["/src/keep/".into(), "nothing".into(), "pf:src/c.txt".into()],
            vec![],
        ),
        (
            vec!["sh:src/**/*.tmp".into()],
            vec![("--exclude", "src/keep".into())],
        ),
        (
            vec![],
            vec![
                ("--exclude", "*.tmp".into()),
                ("--pattern", "+ src/keep".into()),
                ("--pattern", "- src".into()),
            ],
        ),
        (
            vec!["src".into(), format!("/{abs_prefix}")],
            vec![
                ("--pattern", "! src/sub".into()),
                ("--exclude", "re:\\.log$".into()),
            ],
        ),
        (
            vec!["re:^src/[^/]*$".into()],
            vec![("--pattern", "- fm:*/c.txt".into())],
        ),
    ];
    for (paths, opts) in scenarios {
        let mut args: Vec<std::ffi::OsString> =
            vec!["list".into(), "--format".into(), "{path}{NUL}".into()];
        let mut pa = PatternArgs::new();
        for (opt, val) in &opts {
            args.push(format!("{opt}={val}").into());
            match *opt {
                "--exclude" => pa.exclude(val.as_bytes()).unwrap(),
                _ => pa.pattern(val.as_bytes()).unwrap(),
            }
        }
        args.push(arch.clone().into());
        for p in &paths {
            args.push(p.into());
            pa.path(p.as_bytes());
        }
        let arg_refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let theirs_raw = borg_ok(oracle, home.path(), base, &arg_refs);
        let theirs: Vec<&[u8]> = theirs_raw
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .collect();

        // borg's build_matcher(args.patterns, args.paths)
        let mut matcher = pa.archive_matcher().unwrap();
        let ours: Vec<&[u8]> = all.iter().copied().filter(|p| matcher.matches(p)).collect();
        assert_eq!(
            ours.iter().map(|p| display(p)).collect::<Vec<_>>(),
            theirs.iter().map(|p| display(p)).collect::<Vec<_>>(),
            "paths {paths:?} opts {opts:?}"
        );
    }
}
