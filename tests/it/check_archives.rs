//! `check` (repository and archives parts) against real borg 1.4.5: the
//! same repository is damaged once, copied, and borg checks and repairs
//! one copy while oxiborg checks and repairs the other. Both must report
//! the same lines with the same exit codes, and after the repair borg must
//! find the two copies in the same state and extract the same files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use oxiborg_oracle::{Borg, Oracle};

use crate::common::{ok, random_file, run, Diffs, Outcome};
use crate::tree::oxiborg_cmd;

const PASS: &str = "pw";

fn borg(o: &Oracle, base: &Path) -> Command {
    let mut c = o.borg(Borg::V14, base);
    c.env("BORG_PASSPHRASE", PASS);
    c
}

fn ox(base: &Path) -> Command {
    let mut c = oxiborg_cmd(base);
    c.env("BORG_PASSPHRASE", PASS);
    c
}

/// borg's Python library changes the repository (`op` and its arguments).
/// Prints what it did (e.g. the id of a chunk it removed).
const MUTATE: &str = r#"
import sys, os
os.environ['BORG_PASSPHRASE'] = 'pw'
from borg.logger import setup_logging
setup_logging()
from borg.repository import Repository
from borg.helpers import Manifest, msgpack
from borg.archive import Archive
repo, op = sys.argv[1:3]
with Repository(repo, exclusive=True) as r:
    manifest, key = Manifest.load(r, Manifest.NO_OPERATION_CHECK)
    if op == 'nomanifest':
        r.delete(Manifest.MANIFEST_ID)
    elif op == 'badmanifest':
        r.put(Manifest.MANIFEST_ID, r.get(Manifest.MANIFEST_ID) + b'corrupted!')
    elif op in ('notam', 'badtam'):
        name = sys.argv[3]
        info = manifest.archives[name]
        d = msgpack.unpackb(key.decrypt(info.id, r.get(info.id)))
        if op == 'notam':
            del d[b'tam']
        else:
            h = bytearray(d[b'tam'][b'hmac']); h[0] ^= 1; d[b'tam'][b'hmac'] = bytes(h)
        data = msgpack.packb(d)
        nid = key.id_hash(data)
        r.put(nid, key.encrypt(data))
        r.delete(info.id)
        manifest.archives[name] = (nid, info.ts)
        manifest.write()
    elif op in ('kill', 'corrupt'):
        name, path, which = sys.argv[3:6]
        for item in Archive(r, key, manifest, name).iter_items():
            if item.path.endswith(path):
                c = item.chunks[int(which)]
                print(c.id.hex())
                if op == 'kill':
                    r.delete(c.id)
                else:
                    # still a valid segment entry (CRC ok), but no valid object
                    r.put(c.id, r.get(c.id) + b'1234')
                break
        else:
            raise SystemExit('no such item')
    elif op == 'orphan':
        r.put(b'01234567890123456789012345678901', b'xxxx')
    r.commit(compact=False)
"#;

fn mutate(o: &Oracle, repo: &Path, args: &[&str]) -> String {
    let mut all: Vec<&str> = vec![repo.to_str().unwrap()];
    all.extend(args);
    let out = o.python_output(MUTATE, b"", &all);
    assert!(
        out.status.success(),
        "mutate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A borg 1.4.5 repository with two archives of `src` (a 3 MB random file
/// that borg cuts into several chunks, and small files).
struct Fixture {
    _tmp: tempfile::TempDir,
    t: PathBuf,
    src: PathBuf,
    repo: PathBuf,
}

fn fixture(o: &Oracle) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().to_path_buf();
    let src = t.join("src");
    std::fs::create_dir_all(src.join("data")).unwrap();
    // Over 8 MiB (the largest chunk): at least two chunks whatever the
    // repository's chunker seed.
    random_file(&src.join("data/big"), 9_000_000, 7);
    std::fs::write(src.join("data/small"), b"hello\n").unwrap();
    let repo = t.join("repo");
    let base = t.join("base-setup");
    let r = repo.to_str().unwrap();
    let mut c = borg(o, &base);
    c.args(["init", "-e", "repokey", r]);
    ok(c, "borg init");
    for (name, extra) in [("a1", None), ("a2", Some("small2"))] {
        if let Some(f) = extra {
            std::fs::write(src.join("data").join(f), b"x\n").unwrap();
        }
        let mut c = borg(o, &base);
        c.current_dir(&src)
            .args(["create", &format!("{r}::{name}"), "data"]);
        ok(c, "borg create");
    }
    Fixture {
        _tmp: tmp,
        t,
        src,
        repo,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success());
}

/// The two copies a case works on: borg's and oxiborg's, each with its own
/// BORG_BASE_DIR.
struct Pair {
    borg_repo: PathBuf,
    ox_repo: PathBuf,
    borg_base: PathBuf,
    ox_base: PathBuf,
    /// Where borg keeps its security dir and cache for oxiborg's copy
    /// (both copies have the same repository id).
    ox_borg_base: PathBuf,
}

fn pair(f: &Fixture, case: &str) -> Pair {
    let p = Pair {
        borg_repo: f.t.join(format!("{case}-borg")),
        ox_repo: f.t.join(format!("{case}-ox")),
        borg_base: f.t.join(format!("{case}-borg-base")),
        ox_base: f.t.join(format!("{case}-ox-base")),
        ox_borg_base: f.t.join(format!("{case}-ox-borg-base")),
    };
    copy_dir(&f.repo, &p.borg_repo);
    copy_dir(&f.repo, &p.ox_repo);
    p
}

/// stderr lines that carry a finding (the confirmation prompt and the
/// repository's own path are dropped), sorted: hash-table orders differ.
fn findings(out: &Outcome, repo: &Path) -> Vec<String> {
    let r = repo.to_str().unwrap();
    let mut v: Vec<String> = out
        .stderr
        .lines()
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("This is a potentially dangerous")
                && !l.starts_with("check --repair might")
                && !l.starts_with("capable of dealing")
                && !l.starts_with("Type 'YES'")
        })
        .map(|l| l.replace(r, "REPO"))
        .collect();
    v.sort();
    v
}

impl Pair {
    /// Run `check ARGS` with both tools on their copies and compare.
    fn check(&self, o: &Oracle, d: &mut Diffs, label: &str, args: &[&str]) -> (Outcome, Outcome) {
        let mut b = borg(o, &self.borg_base);
        b.args(["check", "-v"]).args(args).arg(&self.borg_repo);
        let mut x = ox(&self.ox_base);
        x.args(["check", "-v"]).args(args).arg(&self.ox_repo);
        let (b, x) = (run(b), run(x));
        d.note(&format!("{label} (borg)"), &b);
        d.note(&format!("{label} (oxiborg)"), &x);
        d.same(&format!("{label}: rc"), &b.rc, &x.rc);
        d.same(
            &format!("{label}: lines"),
            &findings(&b, &self.borg_repo),
            &findings(&x, &self.ox_repo),
        );
        (b, x)
    }

    /// After the repairs: borg itself sees the same in both copies, and
    /// extracts the same files from every archive.
    fn borg_agrees(&self, o: &Oracle, d: &mut Diffs, label: &str) {
        let mut b = borg(o, &self.borg_base);
        b.args(["check", "-v", "--verify-data"])
            .arg(&self.borg_repo);
        let mut x = borg(o, &self.ox_borg_base);
        x.args(["check", "-v", "--verify-data"]).arg(&self.ox_repo);
        let (b, x) = (run(b), run(x));
        d.note(&format!("{label}: borg check of borg's repair"), &b);
        d.note(&format!("{label}: borg check of oxiborg's repair"), &x);
        d.same(&format!("{label}: borg check rc"), &b.rc, &x.rc);
        d.same(
            &format!("{label}: borg check lines"),
            &findings(&b, &self.borg_repo),
            &findings(&x, &self.ox_repo),
        );
        let names_b = archive_names(o, &self.borg_base, &self.borg_repo);
        let names_x = archive_names(o, &self.ox_borg_base, &self.ox_repo);
        d.same(&format!("{label}: archives"), &names_b, &names_x);
        for name in &names_b {
            let eb = extract(o, &self.borg_base, &self.borg_repo, name);
            let ex = extract(o, &self.ox_borg_base, &self.ox_repo, name);
            d.same(&format!("{label}: borg extract {name}"), &eb, &ex);
        }
    }
}

fn archive_names(o: &Oracle, base: &Path, repo: &Path) -> Vec<String> {
    let mut c = borg(o, base);
    c.args(["list", "--short"]).arg(repo);
    let out = ok(c, "borg list");
    out.stdout.lines().map(str::to_string).collect()
}

/// What `borg extract` gives: rc, warnings and every file's content.
fn extract(
    o: &Oracle,
    base: &Path,
    repo: &Path,
    name: &str,
) -> (Option<i32>, String, BTreeMap<String, Vec<u8>>) {
    let dest = base.join(format!(
        "x-{}-{name}",
        repo.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).unwrap();
    let mut c = borg(o, base);
    c.current_dir(&dest)
        .arg("extract")
        .arg(format!("{}::{name}", repo.display()));
    let out = run(c);
    let mut files = BTreeMap::new();
    collect(&dest, &dest, &mut files);
    (
        out.rc,
        out.stderr.replace(repo.to_str().unwrap(), "REPO"),
        files,
    )
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(rel, std::fs::read(&p).unwrap());
        }
    }
}

/// The largest segment file: the one holding the 3 MB file's chunks.
fn big_segment(repo: &Path) -> PathBuf {
    let mut best: Option<(u64, PathBuf)> = None;
    for e in std::fs::read_dir(repo.join("data/0")).unwrap().flatten() {
        let len = e.metadata().unwrap().len();
        if best.as_ref().is_none_or(|(l, _)| len > *l) {
            best = Some((len, e.path()));
        }
    }
    best.unwrap().1
}

fn has(out: &Outcome, s: &str) -> bool {
    out.stderr.contains(s)
}

/// Each way of damaging a repository: borg and oxiborg find the same,
/// repair the same, and leave repositories borg cannot tell apart.
#[test]
fn check_and_repair_agree_with_borg_on_damaged_repositories() {
    let o = oxiborg_oracle::require_oracle!();
    let f = fixture(o);
    let mut d = Diffs::default();

    // A flipped byte in the segment holding file chunks: the repository
    // part finds it (and the archives part is skipped); --repair drops the
    // entry, and the archives part patches the file with zeros.
    {
        let seg = big_segment(&f.repo);
        let p = pair(&f, "flip");
        for r in [&p.borg_repo, &p.ox_repo] {
            let s = r.join(seg.strip_prefix(&f.repo).unwrap());
            let mut b = std::fs::read(&s).unwrap();
            let mid = b.len() / 2;
            b[mid] ^= 0xff;
            std::fs::write(&s, b).unwrap();
        }
        let (b, _) = p.check(o, &mut d, "flip: check", &[]);
        assert!(has(&b, "Segment entry checksum mismatch"), "{}", b.show());
        let (b, _) = p.check(o, &mut d, "flip: check --repair", &["--repair"]);
        assert!(has(&b, "New missing file chunk detected"), "{}", b.show());
        p.borg_agrees(o, &mut d, "flip");
    }

    // A deleted segment file.
    {
        let seg = big_segment(&f.repo);
        let p = pair(&f, "segdel");
        for r in [&p.borg_repo, &p.ox_repo] {
            std::fs::remove_file(r.join(seg.strip_prefix(&f.repo).unwrap())).unwrap();
        }
        p.check(o, &mut d, "segment deleted: check", &[]);
        let (b, _) = p.check(o, &mut d, "segment deleted: check --repair", &["--repair"]);
        assert!(has(&b, "missing"), "{}", b.show());
        p.borg_agrees(o, &mut d, "segment deleted");
    }

    // The manifest object deleted, or corrupted: rebuilt from the archives.
    for op in ["nomanifest", "badmanifest"] {
        let p = pair(&f, op);
        mutate(o, &p.borg_repo, &[op]);
        copy_dir_over(&p.borg_repo, &p.ox_repo);
        let (b, _) = p.check(o, &mut d, &format!("{op}: check"), &[]);
        assert!(has(&b, "Rebuilding missing manifest"), "{}", b.show());
        p.check(o, &mut d, &format!("{op}: check --repair"), &["--repair"]);
        p.borg_agrees(o, &mut d, op);
    }

    // An archive whose TAM is missing or wrong: dropped by --repair.
    for op in ["notam", "badtam"] {
        let p = pair(&f, op);
        mutate(o, &p.borg_repo, &[op, "a1"]);
        copy_dir_over(&p.borg_repo, &p.ox_repo);
        let (b, _) = p.check(o, &mut d, &format!("{op}: check"), &[]);
        assert!(has(&b, "Archive TAM authentication issue"), "{}", b.show());
        p.check(o, &mut d, &format!("{op}: check --repair"), &["--repair"]);
        p.borg_agrees(o, &mut d, op);
    }

    // An object nothing references.
    {
        let p = pair(&f, "orphan");
        mutate(o, &p.borg_repo, &["orphan"]);
        copy_dir_over(&p.borg_repo, &p.ox_repo);
        let (b, _) = p.check(o, &mut d, "orphan: check", &[]);
        assert!(has(&b, "1 orphaned objects found!"), "{}", b.show());
        p.check(o, &mut d, "orphan: check --repair", &["--repair"]);
        p.borg_agrees(o, &mut d, "orphan");
    }

    // A chunk removed, patched by --repair, re-added by a new backup of
    // the same file, and healed by the next --repair.
    {
        let p = pair(&f, "heal");
        mutate(o, &p.borg_repo, &["kill", "a1", "data/big", "1"]);
        copy_dir_over(&p.borg_repo, &p.ox_repo);
        p.check(o, &mut d, "heal: check", &[]);
        let (b, _) = p.check(o, &mut d, "heal: check --repair", &["--repair"]);
        assert!(has(&b, "Replacing with all-zero chunk."), "{}", b.show());
        let (b, _) = p.check(o, &mut d, "heal: check after repair", &[]);
        assert!(
            has(&b, "It has an all-zero replacement chunk already."),
            "{}",
            b.show()
        );
        for (repo, base) in [(&p.borg_repo, &p.borg_base), (&p.ox_repo, &p.ox_borg_base)] {
            let mut c = borg(o, base);
            c.current_dir(&f.src)
                .args(["create", &format!("{}::a3", repo.display()), "data"]);
            ok(c, "borg create a3");
        }
        let (b, _) = p.check(o, &mut d, "heal: check before healing", &[]);
        assert!(
            has(&b, "Missing file chunk would be healed with --repair!"),
            "{}",
            b.show()
        );
        let (b, _) = p.check(o, &mut d, "heal: check --repair heals", &["--repair"]);
        assert!(
            has(&b, "Completely healed previously damaged file!"),
            "{}",
            b.show()
        );
        p.borg_agrees(o, &mut d, "heal");
    }

    // A chunk whose stored object no longer decrypts (its segment entry is
    // intact): only --verify-data sees it; with --repair it is deleted and
    // the files using it are patched.
    {
        let p = pair(&f, "verify");
        mutate(o, &p.borg_repo, &["corrupt", "a1", "data/big", "1"]);
        copy_dir_over(&p.borg_repo, &p.ox_repo);
        let (b, x) = p.check(o, &mut d, "verify: plain check", &[]);
        assert_eq!(b.rc, Some(0), "{}", b.show());
        assert_eq!(x.rc, Some(0), "{}", x.show());
        let (b, _) = p.check(o, &mut d, "verify: --verify-data", &["--verify-data"]);
        assert!(
            has(&b, "integrity error: MAC Authentication failed"),
            "{}",
            b.show()
        );
        p.check(
            o,
            &mut d,
            "verify: --verify-data --repair",
            &["--verify-data", "--repair"],
        );
        p.borg_agrees(o, &mut d, "verify");
    }

    d.finish("check_and_repair_agree_with_borg_on_damaged_repositories");
}

/// Replace `to` by a copy of `from`.
fn copy_dir_over(from: &Path, to: &Path) {
    std::fs::remove_dir_all(to).unwrap();
    copy_dir(from, to);
}

/// Healthy repositories written by borg and by oxiborg check clean, with
/// and without --verify-data, in both tools; filters and option errors
/// behave as borg's.
#[test]
fn check_of_healthy_repositories_and_options_match_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let f = fixture(o);
    let mut d = Diffs::default();
    let p = pair(&f, "healthy");
    p.check(o, &mut d, "healthy (borg's)", &[]);
    p.check(
        o,
        &mut d,
        "healthy (borg's) --verify-data",
        &["--verify-data"],
    );
    p.check(o, &mut d, "--archives-only", &["--archives-only"]);
    p.check(o, &mut d, "--glob-archives", &["--glob-archives", "a2"]);
    p.check(o, &mut d, "--first", &["--first", "1"]);
    p.check(o, &mut d, "--last 5", &["--last", "5"]);
    // (`-P`: borg warns about the long `--prefix` spelling in general
    // argument preprocessing, which oxiborg does not do yet.)
    p.check(o, &mut d, "-P nomatch", &["-P", "zz"]);
    p.check(o, &mut d, "--sort-by name", &["--sort-by", "name"]);
    // A single archive, an unknown one.
    for name in ["a1", "nope"] {
        let mut b = borg(o, &p.borg_base);
        b.args(["check", "-v", &format!("{}::{name}", p.borg_repo.display())]);
        let mut x = ox(&p.ox_base);
        x.args(["check", "-v", &format!("{}::{name}", p.ox_repo.display())]);
        let (b, x) = (run(b), run(x));
        d.note(&format!("::{name} (borg)"), &b);
        d.note(&format!("::{name} (oxiborg)"), &x);
        d.same(&format!("::{name}: rc"), &b.rc, &x.rc);
        d.same(
            &format!("::{name}: lines"),
            &findings(&b, &p.borg_repo),
            &findings(&x, &p.ox_repo),
        );
    }
    // A healthy --repair changes no archive id.
    let before = ids(o, &p.ox_borg_base, &p.ox_repo);
    p.check(o, &mut d, "healthy --repair", &["--repair"]);
    d.same(
        "archive ids after a healthy repair",
        &before,
        &ids(o, &p.ox_borg_base, &p.ox_repo),
    );
    p.borg_agrees(o, &mut d, "healthy repair");

    // Option errors: text and rc in both exit-code modes.
    for (what, args) in [
        (
            "max-duration without repository-only",
            vec!["--max-duration", "5"],
        ),
        (
            "repository-only with verify-data",
            vec!["--repository-only", "--verify-data"],
        ),
        (
            "repository-only with first",
            vec!["--repository-only", "--first", "1"],
        ),
        (
            "repair with max-duration",
            vec!["--repair", "--repository-only", "--max-duration", "5"],
        ),
    ] {
        for modern in [false, true] {
            let mut b = borg(o, &p.borg_base);
            let mut x = ox(&p.ox_base);
            for c in [&mut b, &mut x] {
                if modern {
                    c.env("BORG_EXIT_CODES", "modern");
                }
            }
            b.arg("check").args(&args).arg(&p.borg_repo);
            x.arg("check").args(&args).arg(&p.ox_repo);
            let (b, x) = (run(b), run(x));
            let label = format!("{what} (modern: {modern})");
            d.note(&format!("{label} (borg)"), &b);
            d.note(&format!("{label} (oxiborg)"), &x);
            d.same(&format!("{label}: rc"), &b.rc, &x.rc);
            d.same(
                &format!("{label}: lines"),
                &findings(&b, &p.borg_repo),
                &findings(&x, &p.ox_repo),
            );
        }
    }

    // A repository oxiborg wrote checks clean in both tools.
    let repo = f.t.join("oxrepo");
    let base = f.t.join("oxbase");
    let r = repo.to_str().unwrap();
    let mut c = ox(&base);
    c.args(["init", "-e", "repokey-blake2", r]);
    ok(c, "oxiborg init");
    let mut c = ox(&base);
    c.current_dir(&f.src)
        .args(["create", &format!("{r}::one"), "data"]);
    ok(c, "oxiborg create");
    for args in [vec!["check"], vec!["check", "--verify-data"]] {
        let mut x = ox(&base);
        x.args(&args).arg(r);
        let x = ok(x, "oxiborg check of oxiborg's repository");
        assert!(x.stderr.is_empty(), "{}", x.show());
        let mut b = borg(o, &base);
        b.args(&args).arg(r);
        ok(b, "borg check of oxiborg's repository");
    }
    // oxiborg's cache after oxiborg's repair: a chunk lost, patched, then
    // backed up again by oxiborg (its cache must not believe the lost
    // chunk is still there), healed by oxiborg; borg agrees throughout.
    mutate(o, &repo, &["kill", "one", "data/big", "0"]);
    let mut x = ox(&base);
    x.args(["check", "--repair", r]);
    let x = ok(x, "oxiborg check --repair");
    assert!(
        x.stderr.contains("Replacing with all-zero chunk."),
        "{}",
        x.show()
    );
    let mut c = ox(&base);
    c.current_dir(&f.src)
        .args(["create", &format!("{r}::two"), "data"]);
    ok(c, "oxiborg create after repair");
    let mut b = borg(o, &base);
    b.args(["check", "-v", r]);
    let b = ok(b, "borg check after oxiborg's repair and create");
    assert!(
        b.stderr
            .contains("Missing file chunk would be healed with --repair!"),
        "{}",
        b.show()
    );
    let mut x = ox(&base);
    x.args(["check", "-v", "--repair", r]);
    let x = ok(x, "oxiborg check --repair (heal)");
    assert!(
        x.stderr
            .contains("Completely healed previously damaged file!"),
        "{}",
        x.show()
    );
    let mut b = borg(o, &base);
    b.args(["check", "-v", "--verify-data", r]);
    let b = ok(b, "borg check after healing");
    assert!(!b.stderr.contains("missing"), "{}", b.show());
    let (rc, _, files) = extract(o, &base, &repo, "one");
    assert_eq!(rc, Some(0));
    assert_eq!(
        files.get("data/big"),
        Some(&std::fs::read(f.src.join("data/big")).unwrap())
    );
    d.finish("check_of_healthy_repositories_and_options_match_borg");
}

fn ids(o: &Oracle, base: &Path, repo: &Path) -> Vec<String> {
    let mut c = borg(o, base);
    c.args(["list", "--format", "{archive} {id}{NL}"]).arg(repo);
    ok(c, "borg list ids")
        .stdout
        .lines()
        .map(str::to_string)
        .collect()
}
