//! `oxiborg serve` with real borg 1.4.5 and 1.2 clients: every repository
//! command through it, the repository checked by borg locally afterwards;
//! restrictions, append-only mode, the storage quota, the forced-command
//! allowlist, `--umask` and garbage input compared with real `borg serve`.
//!
//! Every client reaches the server through a real OpenSSH sshd on
//! 127.0.0.1 ([`Nas`]), with an `authorized_keys` holding forced commands
//! (`env BORG_BASE_DIR=... <server> serve <restrictions>`) as a NAS has.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use oxiborg_oracle::sshd::Sshd;
use oxiborg_oracle::{Borg, Oracle};

use crate::common::{random_file, run, run_in, Outcome};
use crate::tree::{make_tree, oxiborg_bin, CompareOpts, TreeOpts};

const PASS: &str = "serve-pass";

/// Which program answers on the far side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Borg,
    Oxiborg,
}

impl Server {
    fn program(self, o: &Oracle) -> PathBuf {
        match self {
            Server::Borg => o.borg14(),
            Server::Oxiborg => oxiborg_bin(),
        }
    }
}

/// A real OpenSSH sshd on 127.0.0.1 with one client key per forced
/// command (sshd uses the first `authorized_keys` line whose key matches, so
/// a key is never reused for another command).
pub(crate) struct Nas {
    sshd: Sshd,
    keys: RefCell<BTreeMap<Option<String>, String>>,
}

impl Nas {
    /// Start sshd with its files in `dir`; `None` (skip) when sshd is not
    /// installed outside CI.
    #[allow(clippy::print_stderr)]
    pub(crate) fn start(dir: &Path) -> Option<Nas> {
        if !Path::new(oxiborg_oracle::sshd::SSHD).exists() {
            assert!(
                !oxiborg_oracle::in_ci(),
                "{} missing in CI",
                oxiborg_oracle::sshd::SSHD
            );
            eprintln!("SKIPPED: {} not installed", oxiborg_oracle::sshd::SSHD);
            return None;
        }
        let sshd = Sshd::start(dir).unwrap_or_else(|e| panic!("sshd: {e}"));
        Some(Nas {
            sshd,
            keys: RefCell::new(BTreeMap::new()),
        })
    }

    /// The BORG_RSH value of a key authorized with `forced` (or with no
    /// forced command).
    pub(crate) fn rsh(&self, forced: Option<&str>) -> String {
        let mut keys = self.keys.borrow_mut();
        let n = keys.len();
        keys.entry(forced.map(String::from))
            .or_insert_with(|| self.sshd.client(&format!("k{n}"), forced))
            .clone()
    }

    pub(crate) fn url(&self, path: &Path) -> String {
        self.sshd.url(path)
    }

    pub(crate) fn sshd(&self) -> &Sshd {
        &self.sshd
    }
}

/// A forced command running `program serve <args>`: sshd's sessions have a
/// clean environment, so it carries its BORG_BASE_DIR.
pub(crate) fn serve_command(program: &Path, server_base: &Path, args: &str) -> String {
    format!(
        "env BORG_BASE_DIR={} {} serve {args}",
        server_base.display(),
        program.display()
    )
    .trim_end()
    .to_string()
}

/// A borg client command using `rsh`, with `oxiborg serve` as remote path
/// (an `env BORG_BASE_DIR=...` prefix, as sshd's sessions have a clean
/// environment; irrelevant under a forced command).
fn client(o: &Oracle, which: Borg, base: &Path, rsh: &str, args: &[&str]) -> Command {
    let mut c = o.borg(which, base);
    c.env("BORG_RSH", rsh)
        .env(
            "BORG_REMOTE_PATH",
            format!(
                "env BORG_BASE_DIR={} {}",
                base.join("server").display(),
                oxiborg_bin().display()
            ),
        )
        .env("BORG_PASSPHRASE", PASS)
        .args(args);
    c
}

fn at(mut c: Command, dir: &Path) -> Command {
    c.current_dir(dir);
    c
}

fn with_env(mut c: Command, k: &str, v: &str) -> Command {
    c.env(k, v);
    c
}

pub(crate) fn must(out: Outcome, what: &str) -> Outcome {
    assert_eq!(out.rc, Some(0), "{what}\n{}", out.show());
    out
}

pub(crate) fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").to_string()
}

/// Every file below `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for (_, p) in crate::tree::walk(dir) {
        if p.is_file() {
            out.insert(
                p.strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(&p).unwrap(),
            );
        }
    }
    out
}

#[test]
fn borg_clients_run_every_repository_command_through_oxiborg_serve() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    // No forced command: the client's remote path runs.
    let rsh = nas.rsh(None);
    for which in [Borg::V14, Borg::V12] {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let base = t.join("base");
        let src = t.join("src");
        make_tree(
            &src.join("tree"),
            &TreeOpts {
                big_file_bytes: 3 << 20,
                ..TreeOpts::default()
            },
        )
        .unwrap();
        let repo = t.join("repo");
        let r = nas.url(&repo);
        let c = |args: &[&str]| client(o, which, &base, &rsh, args);
        must(run(c(&["init", "-e", "repokey", &r])), "init");
        must(
            run(at(c(&["create", &format!("{r}::one"), "tree"]), &src)),
            "create one",
        );
        std::fs::write(src.join("tree/added"), b"second archive").unwrap();
        must(
            run(at(
                c(&["create", "--stats", &format!("{r}::two"), "tree"]),
                &src,
            )),
            "create two",
        );
        let list = must(run(c(&["list", "--short", &r])), "list");
        assert_eq!(list.stdout, "one\ntwo\n", "{which:?}");
        // Extract through the server and compare with the source.
        let out = t.join("out");
        std::fs::create_dir(&out).unwrap();
        must(
            run(at(c(&["extract", &format!("{r}::two")]), &out)),
            "extract",
        );
        let diff = crate::tree::diff_snapshots(
            &crate::tree::snapshot(&src.join("tree")),
            &crate::tree::snapshot(&out.join("tree")),
            &CompareOpts::borg_round_trip(),
        );
        assert!(diff.is_empty(), "{which:?}: {diff:#?}");
        must(run(c(&["check", "--verify-data", &r])), "check");
        // Keys: export, change the passphrase, import the old export back.
        let exported = t.join("key.txt");
        must(
            run(c(&["key", "export", &r, exported.to_str().unwrap()])),
            "key export",
        );
        must(
            run(with_env(
                c(&["key", "change-passphrase", &r]),
                "BORG_NEW_PASSPHRASE",
                "other",
            )),
            "change-passphrase",
        );
        let wrong = run(c(&["list", &r]));
        assert_eq!(
            wrong.rc,
            Some(2),
            "old passphrase refused\n{}",
            wrong.show()
        );
        must(
            run(with_env(c(&["list", &r]), "BORG_PASSPHRASE", "other")),
            "list, new passphrase",
        );
        must(
            run(c(&["key", "import", &r, exported.to_str().unwrap()])),
            "key import",
        );
        must(run(c(&["list", &r])), "list after import");
        must(run(c(&["prune", "--keep-last", "1", &r])), "prune");
        let compact = must(run(c(&["compact", "-v", &r])), "compact");
        // The server's log reaches the client, formatted as borg does.
        let freed = compact
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("Remote: compaction freed about "))
            .and_then(|l| l.strip_suffix(" repository space."))
            .unwrap_or_else(|| panic!("{which:?}\n{}", compact.show()));
        let (num, unit) = freed.split_once(' ').unwrap();
        assert!(
            num.parse::<f64>().is_ok() && ["B", "kB", "MB"].contains(&unit),
            "{freed}"
        );
        let list = must(run(c(&["list", "--short", &r])), "list after prune");
        assert_eq!(list.stdout, "two\n");
        must(run(c(&["delete", &format!("{r}::two")])), "delete archive");
        must(
            run(at(c(&["create", &format!("{r}::three"), "tree"]), &src)),
            "create three",
        );
        // The repository is sound for borg itself, locally.
        for local in [Borg::V14, Borg::V12] {
            let mut cmd = o.borg(local, &base);
            cmd.env("BORG_PASSPHRASE", PASS).args([
                "check",
                "--verify-data",
                repo.to_str().unwrap(),
            ]);
            must(run(cmd), "local borg check");
        }
        must(run(c(&["delete", &r])), "delete repository");
        assert!(!repo.exists(), "{which:?}: repository deleted");

        // An unencrypted repository.
        let plain = t.join("plain");
        let p = nas.url(&plain);
        must(run(c(&["init", "-e", "none", &p])), "init none");
        must(
            run(at(c(&["create", &format!("{p}::a"), "tree"]), &src)),
            "create none",
        );
        must(run(c(&["check", &p])), "check none");
        let ours = t.join("ours");
        std::fs::create_dir(&ours).unwrap();
        must(
            run(at(c(&["extract", &format!("{p}::a")]), &ours)),
            "extract none",
        );
        assert_eq!(files(&src.join("tree")), files(&ours.join("tree")));
    }
}

/// The client's exit code and last stderr line for `args` against a
/// forced `<server> serve <serve_args>`.
#[allow(clippy::too_many_arguments)]
fn forced_outcome(
    o: &Oracle,
    nas: &Nas,
    which: Borg,
    t: &Path,
    server: Server,
    serve_args: &str,
    modern: bool,
    args: &[&str],
) -> (Option<i32>, String, Outcome) {
    let base = t.join("base");
    let rsh = nas.rsh(Some(&serve_command(
        &server.program(o),
        &t.join("server-base"),
        serve_args,
    )));
    let mut c = client(o, which, &base, &rsh, args);
    // Under a forced command the client's remote path does not matter.
    c.env("BORG_REMOTE_PATH", "borg");
    if modern {
        c.env("BORG_EXIT_CODES", "modern");
    }
    let out = run(c);
    (out.rc, last_line(&out.stderr), out)
}

#[test]
fn restrictions_refuse_escapes_like_borg_serve() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let allowed = t.join("allowed");
    std::fs::create_dir_all(allowed.join("repos")).unwrap();
    std::fs::create_dir_all(t.join("allowed2")).unwrap();
    std::fs::create_dir_all(t.join("outside")).unwrap();
    std::os::unix::fs::symlink(t.join("outside"), allowed.join("link")).unwrap();
    let restrict = format!("--restrict-to-path {}", allowed.display());
    let single = format!("--restrict-to-repository {}/repos/one", allowed.display());
    let cases: Vec<(&str, &String, PathBuf)> = vec![
        ("symlink escape", &restrict, allowed.join("link/r")),
        ("prefix sibling", &restrict, t.join("allowed2/r")),
        ("parent", &restrict, t.clone()),
        (
            "dot-dot",
            &restrict,
            PathBuf::from(format!("{}/../outside/r", allowed.display())),
        ),
        ("below a repository", &single, allowed.join("repos/one/sub")),
        ("beside a repository", &single, allowed.join("repos/two")),
    ];
    for which in [Borg::V14, Borg::V12] {
        for modern in [false, true] {
            for (what, serve_args, path) in &cases {
                let args = ["init", "-e", "none", &nas.url(path)];
                let theirs =
                    forced_outcome(o, &nas, which, &t, Server::Borg, serve_args, modern, &args);
                let ours = forced_outcome(
                    o,
                    &nas,
                    which,
                    &t,
                    Server::Oxiborg,
                    serve_args,
                    modern,
                    &args,
                );
                assert_eq!(
                    (&ours.0, &ours.1),
                    (&theirs.0, &theirs.1),
                    "{which:?} modern={modern} {what}\nborg serve:\n{}\noxiborg serve:\n{}",
                    theirs.2.show(),
                    ours.2.show()
                );
                assert!(
                    ours.1.starts_with("Repository path not allowed: "),
                    "{}",
                    ours.1
                );
            }
        }
    }
    // What the restrictions allow works, for both clients.
    for (i, which) in [Borg::V14, Borg::V12].into_iter().enumerate() {
        let repo = allowed.join(format!("repos/ok{i}"));
        for args in [
            vec![
                "init".to_string(),
                "-e".into(),
                "none".into(),
                nas.url(&repo),
            ],
            vec!["list".to_string(), nas.url(&repo)],
        ] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (rc, _, out) =
                forced_outcome(o, &nas, which, &t, Server::Oxiborg, &restrict, false, &args);
            assert_eq!(rc, Some(0), "{}", out.show());
        }
        let (rc, _, out) = forced_outcome(
            o,
            &nas,
            which,
            &t,
            Server::Oxiborg,
            &format!("--restrict-to-repository {}", repo.display()),
            false,
            &["list", &nas.url(&repo)],
        );
        assert_eq!(rc, Some(0), "{}", out.show());
    }
}

/// Segment files and their bytes.
fn segments(repo: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files(&repo.join("data"))
}

#[test]
fn append_only_keeps_every_committed_segment() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    for which in [Borg::V14, Borg::V12] {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().canonicalize().unwrap();
        let base = t.join("base");
        let src = t.join("src");
        std::fs::create_dir_all(&src).unwrap();
        random_file(&src.join("a"), 300_000, 1);
        random_file(&src.join("b"), 200_000, 2);
        let repo = t.join("repo");
        let r = nas.url(&repo);
        let rsh = nas.rsh(Some(&serve_command(
            &oxiborg_bin(),
            &t.join("server-base"),
            "--append-only",
        )));
        let c = |args: &[&str]| {
            let mut c = client(o, which, &base, &rsh, args);
            // Under a forced command the client's remote path only has to
            // parse as a borg command line (borg's `get_args`).
            c.current_dir(&src).env("BORG_REMOTE_PATH", "borg");
            c
        };
        must(run(c(&["init", "-e", "repokey", &r])), "init");
        // `serve --append-only` does not make a new repository append-only.
        let config = std::fs::read_to_string(repo.join("config")).unwrap();
        assert!(config.contains("append_only = 0"), "{config}");
        must(run(c(&["create", &format!("{r}::one"), "a"])), "create one");
        must(
            run(c(&["create", &format!("{r}::two"), "a", "b"])),
            "create two",
        );
        let before = segments(&repo);
        must(run(c(&["delete", &format!("{r}::one")])), "delete archive");
        must(
            run(c(&[
                "prune",
                "--keep-last",
                "0",
                "--keep-daily",
                "0",
                "--keep-within",
                "1H",
                &r,
            ])),
            "prune",
        );
        must(run(c(&["compact", &r])), "compact");
        let after = segments(&repo);
        for (name, bytes) in &before {
            assert_eq!(
                after.get(name),
                Some(bytes),
                "{which:?}: {} changed",
                name.display()
            );
        }
        assert!(after.len() > before.len(), "the deletes were appended");
        let log = std::fs::read_to_string(repo.join("transactions")).unwrap();
        assert!(log.lines().count() >= 4, "{log}");
        for line in log.lines() {
            assert!(
                line.starts_with("transaction ") && line.contains(", UTC time "),
                "{line}"
            );
        }
        // Destroying and repairing are refused with borg's ValueError.
        let want = format!("ValueError: {} is in append-only mode", repo.display());
        for args in [vec!["delete", &r], vec!["check", "--repair", &r]] {
            let out = run(c(&args));
            assert_eq!(out.rc, Some(2), "{args:?}\n{}", out.show());
            assert!(out.stderr.contains(&want), "{args:?}\n{}", out.show());
        }
        assert!(repo.join("config").exists());
        must(run(c(&["list", &r])), "list");
        let mut cmd = o.borg(Borg::V14, &base);
        cmd.env("BORG_PASSPHRASE", PASS)
            .args(["check", "--verify-data", repo.to_str().unwrap()]);
        must(run(cmd), "local borg check");
    }
}

/// The quota line with the use figure checked (over 10 MB) and masked:
/// which figure the client shows depends on timing, with borg serve too.
/// The server raises StorageQuotaExceeded on every put past the quota; the
/// client collects the errors of its unwaited puts and `popitem()`s the
/// newest one it has read (borg 1.4.5 remote.py `async_responses`).
fn mask_quota_use(line: &str) -> String {
    let (head, rest) = line
        .split_once("exceeded (")
        .unwrap_or_else(|| panic!("{line}"));
    let (used, tail) = rest.split_once(')').unwrap_or_else(|| panic!("{line}"));
    let mb: f64 = used
        .strip_suffix(" MB")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(mb > 10.0 && mb < 13.0, "{line}");
    format!("{head}exceeded (<used> MB){tail}")
}

#[test]
fn storage_quota_is_enforced_like_borg_serve() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    for which in [Borg::V14, Borg::V12] {
        let mut seen = Vec::new();
        for server in [Server::Borg, Server::Oxiborg] {
            let tmp = tempfile::tempdir().unwrap();
            let t = tmp.path().canonicalize().unwrap();
            let src = t.join("src");
            std::fs::create_dir_all(&src).unwrap();
            random_file(&src.join("big"), 12_000_000, 7);
            let repo = t.join("repo");
            let args_init = ["init", "-e", "none", &nas.url(&repo)];
            let (rc, _, out) = forced_outcome(
                o,
                &nas,
                which,
                &t,
                server,
                "--storage-quota 10M",
                false,
                &args_init,
            );
            assert_eq!(rc, Some(0), "{}", out.show());
            let archive = format!("{}::a", nas.url(&repo));
            let mut outcomes = Vec::new();
            for modern in [false, true] {
                let base = t.join("base");
                let rsh = nas.rsh(Some(&serve_command(
                    &server.program(o),
                    &t.join("server-base"),
                    "--storage-quota 10M",
                )));
                let mut c = client(o, which, &base, &rsh, &["create", &archive, "big"]);
                c.current_dir(&src).env("BORG_REMOTE_PATH", "borg");
                if modern {
                    c.env("BORG_EXIT_CODES", "modern");
                }
                let out = run(c);
                let line = out
                    .stderr
                    .lines()
                    .find(|l| l.contains("storage quota"))
                    .unwrap_or_else(|| panic!("{server:?} {which:?}\n{}", out.show()));
                outcomes.push((out.rc, mask_quota_use(line)));
            }
            seen.push(outcomes);
        }
        assert_eq!(seen[1], seen[0], "{which:?}: oxiborg serve vs borg serve");
        assert!(seen[1][0]
            .1
            .starts_with("The storage quota (10.00 MB) has been exceeded ("));
    }
}

#[test]
fn umask_applies_to_what_the_server_creates() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let src = t.join("src");
    std::fs::create_dir_all(&src).unwrap();
    random_file(&src.join("f"), 10_000, 3);
    let modes = |server: Server| {
        let repo = t.join(format!("repo-{server:?}"));
        for args in [
            vec![
                "init".to_string(),
                "-e".into(),
                "repokey".into(),
                nas.url(&repo),
            ],
            vec![
                "create".to_string(),
                format!("{}::a", nas.url(&repo)),
                src.join("f").display().to_string(),
            ],
        ] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (rc, _, out) =
                forced_outcome(o, &nas, Borg::V14, &t, server, "--umask 0027", false, &args);
            assert_eq!(rc, Some(0), "{}", out.show());
        }
        let mut m = BTreeMap::new();
        for (rel, p) in crate::tree::walk(&repo) {
            let meta = std::fs::symlink_metadata(&p).unwrap();
            m.insert(
                String::from_utf8_lossy(&rel).into_owned(),
                meta.permissions().mode() & 0o7777,
            );
        }
        m
    };
    let theirs = modes(Server::Borg);
    let ours = modes(Server::Oxiborg);
    assert_eq!(ours, theirs);
    assert!(ours.values().all(|m| m & 0o027 == 0), "{ours:?}");
}

/// msgpack for the few request shapes the raw tests send.
fn mp_str(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() < 32 {
        out.push(0xa0 | s.len() as u8);
    } else {
        out.push(0xda);
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// `[1, 1, "negotiate", [{"client_version": [1, 4, 5, -1]}]]` then a
/// dict-format `open` of `path`.
fn negotiate_and_open(path: &Path) -> Vec<u8> {
    let mut b = vec![0x94, 0x01, 0x01];
    mp_str(&mut b, b"negotiate");
    b.extend_from_slice(&[0x91, 0x81]);
    mp_str(&mut b, b"client_version");
    b.extend_from_slice(&[0x94, 0x01, 0x04, 0x05, 0xff]);
    b.push(0x83);
    mp_str(&mut b, b"i");
    b.push(0x02);
    mp_str(&mut b, b"m");
    mp_str(&mut b, b"open");
    mp_str(&mut b, b"a");
    b.push(0x83);
    mp_str(&mut b, b"path");
    mp_str(&mut b, path.as_os_str().as_encoded_bytes());
    mp_str(&mut b, b"create");
    b.push(0xc3);
    mp_str(&mut b, b"exclusive");
    b.push(0xc3);
    b
}

#[test]
fn forced_command_takes_only_the_log_level_from_the_client() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    std::fs::create_dir_all(t.join("allowed")).unwrap();
    let outside = t.join("outside");
    let input = negotiate_and_open(&outside);
    let mut seen = Vec::new();
    for server in [Server::Borg, Server::Oxiborg] {
        let mut cmd = match server {
            Server::Borg => o.borg(Borg::V14, &t.join("base")),
            Server::Oxiborg => crate::tree::oxiborg_cmd(&t.join("base")),
        };
        cmd.args([
            "serve",
            "--restrict-to-path",
            t.join("allowed").to_str().unwrap(),
        ])
        .env(
            "SSH_ORIGINAL_COMMAND",
            "BORG_X=1 borg serve --debug --restrict-to-path / --append-only",
        );
        let out = run_in(cmd, &input);
        assert_eq!(out.rc, Some(0), "{server:?}\n{}", out.show());
        // The forced restriction holds; the client's --debug is in effect.
        assert!(
            out.stdout.contains("PathNotAllowed"),
            "{server:?}\n{}",
            out.show()
        );
        let resolving = out
            .stderr
            .lines()
            .find(|l| l.contains("Resolving repository path"))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["levelname"].clone(), v["message"].clone())
            });
        seen.push(resolving);
    }
    assert_eq!(seen[1], seen[0]);
    assert!(seen[1].is_some());
    // A client command that is not `serve` changes nothing.
    let mut cmd = crate::tree::oxiborg_cmd(&t.join("base"));
    cmd.args([
        "serve",
        "--restrict-to-path",
        t.join("allowed").to_str().unwrap(),
    ])
    .env("SSH_ORIGINAL_COMMAND", "borg list --debug /");
    let out = run_in(cmd, &input);
    assert!(out.stdout.contains("PathNotAllowed"), "{}", out.show());
    assert!(!out.stderr.contains("Resolving"), "{}", out.show());
}

#[test]
fn garbage_input_exits_like_borg_serve() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    // Valid msgpack that is no request: borg's UnexpectedRPCDataFormatFromClient.
    for modern in [false, true] {
        let mut seen = Vec::new();
        for server in [Server::Borg, Server::Oxiborg] {
            let mut cmd = match server {
                Server::Borg => o.borg(Borg::V14, &base),
                Server::Oxiborg => crate::tree::oxiborg_cmd(&base),
            };
            cmd.arg("serve");
            if modern {
                cmd.env("BORG_EXIT_CODES", "modern");
            }
            let out = run_in(cmd, &[0x93, 0x01, 0x02, 0x03]);
            seen.push((out.rc, out.stdout, out.stderr));
        }
        assert_eq!(seen[1], seen[0], "modern={modern}");
        assert_eq!(
            seen[1].2,
            "$LOG ERROR borg.archiver Remote: Borg 1.4.5: Got unexpected RPC data format from client.\n"
        );
    }
    // Not msgpack, truncated, oversized: the same clear message, rc 2
    // (borg dies with a "Local Exception" traceback, also rc 2).
    let mut huge = vec![0xdb];
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    let mut deep = vec![0x91; 200];
    deep.push(0xc0);
    for input in [vec![0xc1, 0xc1], huge, deep, vec![0xd4, 0x00, 0x00]] {
        let mut cmd = crate::tree::oxiborg_cmd(&base);
        cmd.arg("serve");
        let out = run_in(cmd, &input);
        assert_eq!(out.rc, Some(2), "{input:?}\n{}", out.show());
        assert_eq!(
            out.stderr,
            "$LOG ERROR borg.archiver Remote: Borg 1.4.5: Got unexpected RPC data format from client.\n",
            "{input:?}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn sigterm_closes_the_repository_like_borg_serve() {
    use std::io::Write as _;
    use std::process::Stdio;
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let mut seen = Vec::new();
    for server in [Server::Borg, Server::Oxiborg] {
        let repo = t.join(format!("repo-{server:?}"));
        let mut cmd = match server {
            Server::Borg => o.borg(Borg::V14, &t.join("base")),
            Server::Oxiborg => crate::tree::oxiborg_cmd(&t.join("base")),
        };
        let mut child = cmd
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&negotiate_and_open(&repo)).unwrap();
        stdin.flush().unwrap();
        let out = crate::common::drain(child.stdout.take().unwrap());
        let err = crate::common::drain(child.stderr.take().unwrap());
        let lock = repo.join("lock.exclusive");
        let start = std::time::Instant::now();
        while !lock.exists() && start.elapsed() < std::time::Duration::from_secs(20) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(lock.exists(), "{server:?}: repository opened");
        let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let outcome = crate::common::finish(child, out, err, "serve");
        drop(stdin);
        let last: serde_json::Value =
            serde_json::from_str(outcome.stderr.lines().last().unwrap_or("{}")).unwrap();
        seen.push((
            outcome.rc,
            last["message"].clone(),
            last["msgid"].clone(),
            lock.exists(),
        ));
    }
    assert_eq!(seen[1], seen[0]);
    assert_eq!(seen[1].0, Some(143));
}
