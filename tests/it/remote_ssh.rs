//! The oxiborg client against real `borg serve` (1.4.5 and 1.2.x) through a
//! real OpenSSH sshd on 127.0.0.1 whose `authorized_keys` forces
//! `env BORG_BASE_DIR=... borg serve --restrict-to-path <dir>`, as a NAS
//! has. What oxiborg writes is checked and extracted by borg locally, and
//! oxiborg reads what borg made; errors are compared with borg 1.4.5 as the
//! client against the same server.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use oxiborg_oracle::{Borg, Oracle};

use crate::common::{random_file, run, Outcome};
use crate::serve::{last_line, must, serve_command, Nas};
use crate::tree::{diff_snapshots, make_tree, oxiborg_cmd, snapshot, CompareOpts, TreeOpts};

const PASS: &str = "remote-pass";

/// The oxiborg client, logging in with `rsh`.
fn ox(base: &Path, rsh: &str, args: &[&str]) -> Command {
    let mut c = oxiborg_cmd(base);
    c.env("BORG_RSH", rsh)
        .env("BORG_PASSPHRASE", PASS)
        .args(args);
    c
}

fn at(mut c: Command, dir: &Path) -> Command {
    c.current_dir(dir);
    c
}

/// Real borg, locally on the repository's path.
fn local_borg(o: &Oracle, which: Borg, base: &Path, args: &[&str]) -> Command {
    let mut c = o.borg(which, base);
    c.env("BORG_PASSPHRASE", PASS).args(args);
    c
}

fn assert_same_tree(a: &Path, b: &Path, what: &str) {
    let diff = diff_snapshots(&snapshot(a), &snapshot(b), &CompareOpts::borg_round_trip());
    assert!(diff.is_empty(), "{what}: {diff:#?}");
}

fn server_program(o: &Oracle, which: Borg) -> std::path::PathBuf {
    match which {
        Borg::V14 => o.borg14(),
        Borg::V12 => o.borg12().to_path_buf(),
    }
}

/// The harness itself, with real borg on both ends: a borg 1.4.5 client
/// through sshd to a forced `borg serve --restrict-to-path` (init, create,
/// list, extract), and the path outside the restriction refused.
#[test]
fn borg_client_and_borg_serve_through_the_sshd_harness() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let srv = t.join("srv");
    std::fs::create_dir_all(&srv).unwrap();
    let rsh = nas.rsh(Some(&serve_command(
        &o.borg14(),
        &t.join("server-base"),
        &format!("--restrict-to-path {}", srv.display()),
    )));
    let src = t.join("src");
    make_tree(
        &src.join("tree"),
        &TreeOpts {
            big_file_bytes: 256 << 10,
            ..TreeOpts::default()
        },
    )
    .unwrap();
    let base = t.join("base");
    let b = |args: &[&str]| {
        let mut c = local_borg(o, Borg::V14, &base, args);
        // Under a forced command the client's remote path is ignored.
        c.env("BORG_RSH", &rsh).env("BORG_REMOTE_PATH", "borg");
        c
    };
    let r = nas.url(&srv.join("repo"));
    must(run(b(&["init", "-e", "repokey", &r])), "borg init");
    must(
        run(at(b(&["create", &format!("{r}::a"), "tree"]), &src)),
        "borg create",
    );
    let list = must(run(b(&["list", "--short", &r])), "borg list");
    assert_eq!(list.stdout, "a\n");
    let out = t.join("out");
    std::fs::create_dir(&out).unwrap();
    must(
        run(at(b(&["extract", &format!("{r}::a")]), &out)),
        "borg extract",
    );
    assert_same_tree(&src.join("tree"), &out.join("tree"), "borg to borg serve");
    std::fs::create_dir_all(t.join("outside")).unwrap();
    let refused = t.join("outside/repo");
    let url = nas.url(&refused);
    let want = format!("Repository path not allowed: {}", refused.display());
    for (modern, rc) in [(false, 2), (true, 83)] {
        let mut c = b(&["init", "-e", "none", &url]);
        if modern {
            c.env("BORG_EXIT_CODES", "modern");
        }
        let out = run(c);
        assert_eq!(out.rc, Some(rc), "{}", out.show());
        assert_eq!(last_line(&out.stderr), want, "{}", out.show());
    }
    let out = run(b(&["--log-json", "list", &url]));
    assert_eq!(out.rc, Some(2), "{}", out.show());
    assert_eq!(
        log_record(&out.stderr)[3..],
        [serde_json::json!("PathNotAllowed"), serde_json::json!(want)],
        "{}",
        out.show()
    );
    assert!(!refused.exists(), "nothing created outside the restriction");
}

#[test]
fn oxiborg_client_runs_every_command_against_real_borg_serve_1_4() {
    every_command_against(Borg::V14, "1.4.5");
}

#[test]
fn oxiborg_client_runs_every_command_against_real_borg_serve_1_2() {
    every_command_against(Borg::V12, "1.2.4");
}

/// Each connection costs about a second here (ssh key exchange, Python
/// starting borg serve), so the tree is small and each command runs once.
fn every_command_against(server: Borg, version: &str) {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let srv = t.join("srv");
    std::fs::create_dir_all(&srv).unwrap();
    let rsh = nas.rsh(Some(&serve_command(
        &server_program(o, server),
        &t.join("server-base"),
        &format!("--restrict-to-path {}", srv.display()),
    )));
    let base = t.join("base");
    let borg_base = t.join("borg-base");
    let src = t.join("src");
    make_tree(
        &src.join("tree"),
        &TreeOpts {
            big_file_bytes: 256 << 10,
            ..TreeOpts::default()
        },
    )
    .unwrap();
    let repo = srv.join("repo");
    let rp = repo.to_str().unwrap();
    let r = nas.url(&repo);
    let a = |name: &str| format!("{r}::{name}");
    let c = |args: &[&str]| ox(&base, &rsh, args);
    let ctx = |what: &str| format!("{what} (borg {version} serve)");

    must(run(c(&["init", "-e", "repokey", &r])), &ctx("init"));
    must(
        run(at(c(&["create", &a("one"), "tree"]), &src)),
        &ctx("create"),
    );
    std::fs::write(src.join("tree/added"), b"second archive").unwrap();
    must(
        run(at(c(&["create", "--stats", &a("two"), "tree"]), &src)),
        &ctx("create two"),
    );
    let list = must(run(c(&["list", "--short", &r])), &ctx("list"));
    assert_eq!(list.stdout, "one\ntwo\n", "{version}");
    let info = must(run(c(&["info", &a("two")])), &ctx("info"));
    assert!(info.stdout.contains("Archive name: two"), "{}", info.show());
    let out = t.join("out");
    std::fs::create_dir(&out).unwrap();
    must(run(at(c(&["extract", &a("two")]), &out)), &ctx("extract"));
    assert_same_tree(&src.join("tree"), &out.join("tree"), &ctx("extract"));
    // borg itself, locally, extracts what oxiborg wrote through the server.
    let theirs = t.join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    must(
        run(at(
            local_borg(
                o,
                Borg::V14,
                &borg_base,
                &["extract", &format!("{rp}::two")],
            ),
            &theirs,
        )),
        &ctx("local borg extract"),
    );
    assert_same_tree(
        &src.join("tree"),
        &theirs.join("tree"),
        &ctx("borg extract"),
    );
    let diff = must(run(c(&["diff", &a("one"), "two"])), &ctx("diff"));
    assert!(
        diff.stdout
            .lines()
            .any(|l| l.starts_with("added ") && l.ends_with(" tree/added")),
        "{}",
        diff.show()
    );
    must(run(c(&["rename", &a("one"), "uno"])), &ctx("rename"));
    must(
        run(c(&["check", "--verify-data", &r])),
        &ctx("check --verify-data"),
    );
    must(
        run(c(&["recreate", "--exclude", "tree/added", &a("two")])),
        &ctx("recreate"),
    );
    let items = must(run(c(&["list", "--short", &a("two")])), &ctx("list two"));
    assert!(items.stdout.contains("tree/files"), "{}", items.show());
    assert!(!items.stdout.contains("tree/added"), "{}", items.show());
    let tar = t.join("two.tar");
    must(
        run(c(&["export-tar", &a("two"), tar.to_str().unwrap()])),
        &ctx("export-tar"),
    );
    let listing = Command::new("tar").arg("tf").arg(&tar).output().unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains("tree/files/"));
    let key = t.join("key.txt");
    must(
        run(c(&["key", "export", &r, key.to_str().unwrap()])),
        &ctx("key export"),
    );
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .starts_with("BORG_KEY "));
    // Import writes the key back through the server (repokey: into the
    // repository's config); the repository still opens with the passphrase.
    must(
        run(c(&["key", "import", &r, key.to_str().unwrap()])),
        &ctx("key import"),
    );
    let again = t.join("key-again.txt");
    must(
        run(c(&["key", "export", &r, again.to_str().unwrap()])),
        &ctx("key export after import"),
    );
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        std::fs::read_to_string(&key).unwrap(),
        "{}",
        ctx("key round trip")
    );
    must(run(c(&["break-lock", &r])), &ctx("break-lock"));
    must(run(c(&["with-lock", &r, "true"])), &ctx("with-lock"));
    let v = must(run(c(&["version", &r])), &ctx("version"));
    assert_eq!(v.stdout, format!("1.4.5 / {version}\n"));
    // oxiborg reads, through the server, an archive borg made locally.
    must(
        run(at(
            local_borg(
                o,
                Borg::V14,
                &borg_base,
                &["create", &format!("{rp}::made"), "tree"],
            ),
            &src,
        )),
        &ctx("local borg create"),
    );
    let made = t.join("made");
    std::fs::create_dir(&made).unwrap();
    must(
        run(at(c(&["extract", &a("made")]), &made)),
        &ctx("extract made"),
    );
    assert_same_tree(&src.join("tree"), &made.join("tree"), &ctx("extract made"));
    must(run(c(&["delete", &a("uno")])), &ctx("delete archive"));
    must(run(c(&["prune", "--keep-last", "1", &r])), &ctx("prune"));
    must(run(c(&["compact", &r])), &ctx("compact"));
    let list = must(run(c(&["list", "--short", &r])), &ctx("list at end"));
    assert_eq!(list.stdout, "made\n", "{version}");
    // borg of the server's version checks the repository locally.
    must(
        run(local_borg(
            o,
            server,
            &borg_base,
            &["check", "--verify-data", rp],
        )),
        &ctx("local borg check"),
    );
    if server == Borg::V12 {
        return;
    }

    // An scp-style location, the port in --rsh.
    let scp = srv.join("scp");
    let s = format!("{}@127.0.0.1:{}", nas.sshd().user(), scp.display());
    let rsh_p = format!("{rsh} -p {}", nas.sshd().port());
    let cs = |args: &[&str]| ox(&base, &rsh_p, args);
    must(run(cs(&["init", "-e", "none", &s])), &ctx("scp init"));
    must(
        run(at(cs(&["create", &format!("{s}::a"), "tree/files"]), &src)),
        &ctx("scp create"),
    );
    let list = must(run(cs(&["list", "--short", &s])), &ctx("scp list"));
    assert_eq!(list.stdout, "a\n");
    must(
        run(local_borg(
            o,
            Borg::V14,
            &borg_base,
            &["check", scp.to_str().unwrap()],
        )),
        &ctx("local check of scp repository"),
    );
}

/// Where the server puts a repository for each form of location the
/// client may be given (`~` is the server's BORG_BASE_DIR, a relative path
/// is below the login directory), the same as for borg as the client; the
/// keyfile's name in the client's keys directory as borg names it, and borg
/// opens the repository with the key oxiborg wrote.
#[test]
fn oxiborg_client_locations_resolve_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let srv = t.join("srv");
    let home = t.join("server-base");
    std::fs::create_dir_all(&srv).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let rsh = nas.rsh(Some(&serve_command(
        &o.borg14(),
        &home,
        &format!(
            "--restrict-to-path {} --restrict-to-path {}",
            srv.display(),
            home.display()
        ),
    )));
    let rsh_p = format!("{rsh} -p {}", nas.sshd().port());
    let user = nas.sshd().user().to_string();
    let port = nas.sshd().port();
    let base = t.join("base");
    let borg_base = t.join("borg-base");
    let tool = |oxiborg: bool, rsh: &str, args: &[&str]| {
        let mut c = if oxiborg {
            ox(&base, rsh, args)
        } else {
            let mut c = local_borg(o, Borg::V14, &borg_base, args);
            c.env("BORG_RSH", rsh);
            c
        };
        c.env("BORG_REMOTE_PATH", "borg");
        c
    };
    // (location with {who} for the tool's name, rsh, where it lands)
    let forms = [
        (
            format!("ssh://{user}@127.0.0.1:{port}/~/url-{{who}}"),
            &rsh,
            home.join("url-{who}"),
        ),
        (
            format!("{user}@127.0.0.1:~/scp-{{who}}"),
            &rsh_p,
            home.join("scp-{who}"),
        ),
        (
            format!(
                "ssh://{user}@127.0.0.1:{port}{}/x/../dots-{{who}}",
                srv.display()
            ),
            &rsh,
            srv.join("dots-{who}"),
        ),
        (
            format!("{user}@127.0.0.1:{}/./scp-abs-{{who}}", srv.display()),
            &rsh_p,
            srv.join("scp-abs-{who}"),
        ),
    ];
    for (loc, rsh, lands) in &forms {
        for (oxiborg, who) in [(false, "borg"), (true, "ox")] {
            let loc = loc.replace("{who}", who);
            let lands = std::path::PathBuf::from(lands.to_str().unwrap().replace("{who}", who));
            must(
                run(tool(oxiborg, rsh, &["init", "-e", "none", &loc])),
                &format!("{who} init {loc}"),
            );
            assert!(
                lands.join("config").is_file(),
                "{who} init {loc}: no repository at {}",
                lands.display()
            );
        }
    }
    // Refused: a path relative to the login directory (outside the
    // restriction), both spellings; the same rc and line as borg.
    for (loc, rsh) in [
        (format!("{user}@127.0.0.1:relative"), &rsh_p),
        (format!("ssh://{user}@127.0.0.1:{port}/./relative"), &rsh),
    ] {
        let theirs = run(tool(false, rsh, &["init", "-e", "none", &loc]));
        let ours = run(tool(true, rsh, &["init", "-e", "none", &loc]));
        assert_eq!(theirs.rc, Some(2), "{}", theirs.show());
        assert!(
            last_line(&theirs.stderr).starts_with("Repository path not allowed: "),
            "{}",
            theirs.show()
        );
        assert_eq!(
            (ours.rc, last_line(&ours.stderr)),
            (theirs.rc, last_line(&theirs.stderr)),
            "{loc}\nborg:\n{}\noxiborg:\n{}",
            theirs.show(),
            ours.show()
        );
    }
    // keyfile over ssh: the key file is named after host and path as borg
    // names it, and borg opens the repository with oxiborg's key.
    let keys = |b: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(b.join(".config/borg/keys"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    for (oxiborg, who) in [(false, "borg"), (true, "ox")] {
        let loc = format!("ssh://{user}@127.0.0.1:{port}/~/kf-{who}");
        must(
            run(tool(oxiborg, &rsh, &["init", "-e", "keyfile", &loc])),
            &format!("{who} init keyfile"),
        );
    }
    assert_eq!(keys(&borg_base), ["127_0_0_1__kf_borg"]);
    assert_eq!(keys(&base), ["127_0_0_1__kf_ox"]);
    let key = base.join(".config/borg/keys/127_0_0_1__kf_ox");
    let mut c = tool(
        false,
        &rsh,
        &["list", &format!("ssh://{user}@127.0.0.1:{port}/~/kf-ox")],
    );
    c.env("BORG_KEY_FILE", &key);
    must(run(c), "borg lists the repository with oxiborg's key file");
}

/// rc and stderr of `client [--log-json] list <url>` with `rsh`.
fn error_of(
    o: &Oracle,
    t: &Path,
    oxiborg: bool,
    rsh: &str,
    url: &str,
    modern: bool,
    json: bool,
) -> Outcome {
    let base = t.join(if oxiborg { "ox-base" } else { "borg-base" });
    let mut c = if oxiborg {
        oxiborg_cmd(&base)
    } else {
        o.borg(Borg::V14, &base)
    };
    c.env("BORG_RSH", rsh)
        .env("BORG_PASSPHRASE", PASS)
        .env("BORG_REMOTE_PATH", "borg");
    if json {
        c.arg("--log-json");
    }
    c.args(["list", url]);
    if modern {
        c.env("BORG_EXIT_CODES", "modern");
    }
    run(c)
}

/// type, levelname, name, msgid and message of the last `--log-json` line
/// of `stderr` (Null where missing or not JSON).
fn log_record(stderr: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(&last_line(stderr)).unwrap_or_default();
    ["type", "levelname", "name", "msgid", "message"]
        .iter()
        .map(|k| v.get(k).cloned().unwrap_or_default())
        .collect()
}

#[test]
fn remote_errors_match_borg_as_the_client() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let srv = t.join("srv");
    std::fs::create_dir_all(t.join("outside")).unwrap();
    std::fs::create_dir_all(&srv).unwrap();
    let restricted = nas.rsh(Some(&serve_command(
        &o.borg14(),
        &t.join("server-base"),
        &format!("--restrict-to-path {}", srv.display()),
    )));
    let not_borg = nas.rsh(Some("/bin/false"));
    let restricted_12 = nas.rsh(Some(&serve_command(
        o.borg12(),
        &t.join("server-base-12"),
        &format!("--restrict-to-path {}", srv.display()),
    )));
    let cases = [
        (
            "nonexistent repository",
            &restricted,
            srv.join("nope"),
            "Repository ",
            13,
            "Repository.DoesNotExist",
        ),
        (
            "outside --restrict-to-path",
            &restricted,
            t.join("outside/r"),
            "Repository path not allowed: ",
            83,
            "PathNotAllowed",
        ),
        (
            "forced command not borg",
            &not_borg,
            srv.join("r"),
            "Connection closed by remote host. Is borg working on the server?",
            81,
            "ConnectionClosedWithHint",
        ),
        (
            "nonexistent repository, borg 1.2 serve",
            &restricted_12,
            srv.join("nope"),
            "Repository ",
            13,
            "Repository.DoesNotExist",
        ),
        (
            "outside --restrict-to-path, borg 1.2 serve",
            &restricted_12,
            t.join("outside/r"),
            "Repository path not allowed: ",
            83,
            "PathNotAllowed",
        ),
    ];
    for (what, rsh, path, starts, modern_rc, msgid) in cases {
        let url = nas.url(&path);
        // --log-json: the same message, level, logger and msgid (key order
        // and the time differ by design).
        let theirs = error_of(o, &t, false, rsh, &url, false, true);
        let ours = error_of(o, &t, true, rsh, &url, false, true);
        assert_eq!(
            (ours.rc, log_record(&ours.stderr)),
            (theirs.rc, log_record(&theirs.stderr)),
            "{what} --log-json\nborg:\n{}\noxiborg:\n{}",
            theirs.show(),
            ours.show()
        );
        assert_eq!(
            log_record(&ours.stderr)[3],
            serde_json::json!(msgid),
            "{what}\n{}",
            ours.show()
        );
        for modern in [false, true] {
            let theirs = error_of(o, &t, false, rsh, &url, modern, false);
            let ours = error_of(o, &t, true, rsh, &url, modern, false);
            assert_eq!(
                (ours.rc, last_line(&ours.stderr)),
                (theirs.rc, last_line(&theirs.stderr)),
                "{what} modern={modern}\nborg:\n{}\noxiborg:\n{}",
                theirs.show(),
                ours.show()
            );
            assert_eq!(
                ours.rc,
                Some(if modern { modern_rc } else { 2 }),
                "{what}\n{}",
                ours.show()
            );
            assert!(
                last_line(&ours.stderr).starts_with(starts),
                "{}",
                ours.show()
            );
        }
    }
}

#[test]
fn upload_ratelimit_slows_create_down() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let rsh = nas.rsh(Some(&serve_command(
        &o.borg14(),
        &t.join("server-base"),
        "",
    )));
    let src = t.join("src");
    std::fs::create_dir_all(&src).unwrap();
    random_file(&src.join("data"), 3_000_000, 11);
    let base = t.join("base");
    let mut took = Vec::new();
    for limit in [Some("1024"), None] {
        let repo = t.join(format!("repo-{}", limit.unwrap_or("none")));
        let r = nas.url(&repo);
        must(run(ox(&base, &rsh, &["init", "-e", "none", &r])), "init");
        let mut args = vec!["create"];
        if let Some(l) = limit {
            args.extend(["--upload-ratelimit", l]);
        }
        let archive = format!("{r}::a");
        args.extend([archive.as_str(), "data"]);
        let start = Instant::now();
        must(run(at(ox(&base, &rsh, &args), &src)), "create");
        took.push(start.elapsed().as_secs_f64());
    }
    // 3 MB at 1024 KiB/s is about 2.9 s.
    assert!(took[0] >= 2.0, "limited create took {took:?}");
    assert!(took[1] < took[0] / 2.0, "unlimited create took {took:?}");
}

/// Segment files below `repo/data` and their bytes.
fn segments(repo: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    crate::tree::walk(&repo.join("data"))
        .into_iter()
        .filter(|(_, p)| p.is_file())
        .map(|(_, p)| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn append_only_borg_serve_keeps_what_oxiborg_committed() {
    let o = oxiborg_oracle::require_oracle!();
    let sshd_dir = tempfile::tempdir().unwrap();
    let Some(nas) = Nas::start(sshd_dir.path()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let srv = t.join("srv");
    std::fs::create_dir_all(&srv).unwrap();
    let rsh = nas.rsh(Some(&serve_command(
        &o.borg14(),
        &t.join("server-base"),
        &format!("--append-only --restrict-to-path {}", srv.display()),
    )));
    let src = t.join("src");
    std::fs::create_dir_all(&src).unwrap();
    random_file(&src.join("a"), 200_000, 1);
    random_file(&src.join("b"), 100_000, 2);
    let base = t.join("base");
    let repo = srv.join("repo");
    let r = nas.url(&repo);
    let c = |args: &[&str]| at(ox(&base, &rsh, args), &src);
    must(run(c(&["init", "-e", "repokey", &r])), "init");
    must(run(c(&["create", &format!("{r}::one"), "a"])), "create one");
    must(
        run(c(&["create", &format!("{r}::two"), "a", "b"])),
        "create two",
    );
    let before = segments(&repo);
    must(run(c(&["delete", &format!("{r}::one")])), "delete archive");
    must(run(c(&["compact", &r])), "compact");
    let after = segments(&repo);
    for (name, bytes) in &before {
        assert_eq!(after.get(name), Some(bytes), "{} changed", name.display());
    }
    assert!(after.len() > before.len(), "the delete was appended");
    // Destroying the repository is refused like borg does it.
    let out = run(c(&["delete", &r]));
    assert_eq!(out.rc, Some(2), "{}", out.show());
    let want = format!("ValueError: {} is in append-only mode", repo.display());
    assert!(out.stderr.contains(&want), "{}", out.show());
    let list = must(run(c(&["list", "--short", &r])), "list");
    assert_eq!(list.stdout, "two\n");
}
