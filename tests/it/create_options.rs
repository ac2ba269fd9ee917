//! `create --content-from-command`, `--paths-from-stdin`,
//! `--paths-from-command`, `--paths-delimiter`, `--files-changed`, and
//! `delete --force` (once and twice), against real borg 1.4.5.
//!
//! Every scenario is set up identically for borg and for oxiborg (separate
//! base directory, repository and working directory each, same relative
//! paths) and oxiborg must do what borg did: the exit code (legacy and
//! `BORG_EXIT_CODES=modern`), the `--list` status lines, the essential
//! messages, what the archive holds (borg 1.4.5 lists both repositories),
//! and what `borg check` says about the repository afterwards.
//!
//! Options go before the archive on every command line: borg's argparse
//! stops taking PATHs once an option follows the archive.
//!
//! A changed file (`--files-changed`) is produced with a fanotify
//! permission listener, as in `faults.rs`: the file's first `read` blocks
//! until the listener has changed its ctime (`chmod`) or its mtime and
//! ctime (`utime`), so each tool sees the change deterministically. That
//! needs root and a kernel with `CONFIG_FANOTIFY_ACCESS_PERMISSIONS`.
//!
//! Damaged archives are made with `borg debug delete-obj`: the object
//! holding an archive's item stream (or the archive's metadata object) is
//! removed from the repository, for each tool's repository alike.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use oxiborg_oracle::{Borg, Oracle};

use crate::common::{ok, random_file, run, run_in, Codes, Diffs, Outcome, Tool};
use crate::tree::oxiborg_cmd;

pub(crate) fn tool_cmd(o: &Oracle, tool: Tool, base: &Path, codes: Codes) -> Command {
    let mut c = match tool {
        Tool::Borg => o.borg(Borg::V14, base),
        Tool::Oxiborg => oxiborg_cmd(base),
    };
    c.env("BORG_PASSPHRASE", "secret");
    if codes == Codes::Modern {
        c.env("BORG_EXIT_CODES", "modern");
    }
    c
}

fn borg14(o: &Oracle, base: &Path) -> Command {
    tool_cmd(o, Tool::Borg, base, Codes::Legacy)
}

/// One tool's playground: base directory (keys, cache, security), the
/// repository, and the working directory the tool runs in.
#[derive(Debug)]
pub(crate) struct Side {
    pub(crate) tool: Tool,
    pub(crate) base: PathBuf,
    pub(crate) repo: PathBuf,
    pub(crate) cwd: PathBuf,
}

impl Side {
    /// A fresh side below `t/name-tool`, repository initialised (by the
    /// tool itself).
    pub(crate) fn new(o: &Oracle, t: &Path, name: &str, tool: Tool) -> Side {
        let dir = t.join(format!("{name}-{}", tool.name()));
        let _ = std::fs::remove_dir_all(&dir);
        let side = Side {
            tool,
            base: dir.join("base"),
            repo: dir.join("repo"),
            cwd: dir.join("work"),
        };
        std::fs::create_dir_all(&side.cwd).unwrap();
        let mut c = tool_cmd(o, tool, &side.base, Codes::Legacy);
        c.args(["init", "-e", "repokey-blake2"]).arg(&side.repo);
        ok(c, &format!("{} init", tool.name()));
        side
    }

    pub(crate) fn both(o: &Oracle, t: &Path, name: &str) -> [Side; 2] {
        Tool::BOTH.map(|tool| Side::new(o, t, name, tool))
    }

    pub(crate) fn archive(&self, name: &str) -> String {
        format!("{}::{name}", self.repo.display())
    }

    /// The tool, in the working directory.
    pub(crate) fn cmd(&self, o: &Oracle, codes: Codes) -> Command {
        let mut c = tool_cmd(o, self.tool, &self.base, codes);
        c.current_dir(&self.cwd);
        c
    }

    /// borg 1.4.5 on this side's repository (whatever tool wrote it).
    pub(crate) fn borg(&self, o: &Oracle) -> Command {
        let mut c = borg14(o, &self.base);
        c.current_dir(&self.cwd);
        c
    }

    /// The archive's items, sorted, as `path type mode user group size
    /// source` (borg 1.4.5's `list --json-lines`), or `None` when the
    /// archive does not exist. Sorted because the two sides' trees are
    /// made separately: inode numbers, and so the walk order, may differ
    /// between them (ext4 spreads directories over block groups).
    pub(crate) fn items(&self, o: &Oracle, name: &str) -> Option<Vec<String>> {
        let mut c = self.borg(o);
        c.args(["list", "--json-lines", &self.archive(name)]);
        let out = run(c);
        if out.rc != Some(0) {
            return None;
        }
        Some(
            out.stdout
                .lines()
                .map(|l| {
                    let j: serde_json::Value = serde_json::from_str(l).expect("json line");
                    let size = if j["type"] == "-" {
                        j["size"].to_string()
                    } else {
                        String::new()
                    };
                    format!(
                        "{} {} {} {}:{} {} {}",
                        j["path"].as_str().unwrap_or("?"),
                        j["type"].as_str().unwrap_or("?"),
                        j["mode"].as_str().unwrap_or("?"),
                        j["user"].as_str().unwrap_or("?"),
                        j["group"].as_str().unwrap_or("?"),
                        size,
                        j["source"].as_str().unwrap_or(""),
                    )
                })
                .collect::<std::collections::BTreeSet<String>>()
                .into_iter()
                .collect(),
        )
    }

    /// Archive names in the repository, checkpoints included.
    pub(crate) fn archive_names(&self, o: &Oracle) -> Vec<String> {
        let mut c = self.borg(o);
        c.args(["list", "--consider-checkpoints", "--json"])
            .arg(&self.repo);
        let out = ok(c, "borg list --json");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("list json");
        v["archives"]
            .as_array()
            .expect("archives")
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// An archive's id (borg 1.4.5's `list --json`).
    pub(crate) fn archive_id(&self, o: &Oracle, name: &str) -> String {
        let mut c = self.borg(o);
        c.args(["list", "--json"]).arg(&self.repo);
        let out = ok(c, "borg list --json");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("list json");
        v["archives"]
            .as_array()
            .expect("archives")
            .iter()
            .find(|a| a["name"] == name)
            .and_then(|a| a["id"].as_str())
            .unwrap_or_else(|| panic!("no archive {name}"))
            .to_string()
    }

    /// The ids of an archive's item-stream objects (`borg debug
    /// dump-archive`).
    pub(crate) fn item_stream_ids(&self, o: &Oracle, name: &str) -> Vec<String> {
        let dump = self.cwd.join(format!("{name}.dump.json"));
        let mut c = self.borg(o);
        c.args(["debug", "dump-archive", &self.archive(name)])
            .arg(&dump);
        ok(c, "borg debug dump-archive");
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&dump).unwrap()).expect("dump json");
        let _ = std::fs::remove_file(&dump);
        v["_meta"]["items"]
            .as_array()
            .expect("items")
            .iter()
            // borg dumps bytes as `\x7f` + hex.
            .map(|i| i.as_str().unwrap().trim_start_matches('\u{7f}').to_string())
            .collect()
    }

    /// Remove object `id` from the repository (`borg debug delete-obj`).
    pub(crate) fn delete_object(&self, o: &Oracle, id: &str) {
        let mut c = self.borg(o);
        c.args(["debug", "delete-obj"]).arg(&self.repo).arg(id);
        ok(c, "borg debug delete-obj");
    }

    /// `borg check` (1.4.5).
    pub(crate) fn check(&self, o: &Oracle) -> Outcome {
        let mut c = self.borg(o);
        c.arg("check").arg(&self.repo);
        run(c)
    }

    /// `borg check --repair` (1.4.5); must succeed.
    pub(crate) fn repair(&self, o: &Oracle) {
        let mut c = self.borg(o);
        c.args(["check", "--repair"]).arg(&self.repo);
        ok(c, "borg check --repair");
    }
}

/// Run `f` on each side: (borg's outcome, oxiborg's).
pub(crate) fn each<T>(sides: &[Side; 2], mut f: impl FnMut(&Side) -> T) -> (T, T) {
    let b = f(&sides[0]);
    let x = f(&sides[1]);
    (b, x)
}

/// `src/` with a directory, files, a hard link, a symlink and a FIFO.
pub(crate) fn tree(cwd: &Path) {
    let src = cwd.join("src");
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a"), b"file a").unwrap();
    std::fs::write(src.join("sub/b"), b"file b").unwrap();
    std::fs::hard_link(src.join("a"), src.join("hl")).unwrap();
    std::os::unix::fs::symlink("a", src.join("link")).unwrap();
    let st = Command::new("mkfifo")
        .arg(src.join("fifo"))
        .status()
        .expect("run mkfifo");
    assert!(st.success(), "mkfifo failed");
}

// ---------------------------------------------------------------------------
// --content-from-command

#[test]
fn content_from_command_stores_the_output_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        let sides = Side::both(o, tmp.path(), &format!("cfc-{}", codes.name()));
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args([
                "create",
                "--list",
                "--content-from-command",
                "--stdin-name",
                "dump/db.sql",
                "--stdin-mode",
                "0640",
            ])
            .arg(s.archive("cfc"))
            .args([
                "--",
                "sh",
                "-c",
                "printf 'line one\\n'; printf 'line two\\n'",
            ]);
            run(c)
        });
        // borg 1.4.5: `i dump/db.sql` (listed before the command's output is
        // read), rc 0; one regular file owned by root:root (the defaults,
        // uid/gid 0's names), mode 0640.
        assert_eq!(borg.rc, Some(0), "{}", borg.show());
        assert_eq!(borg.statuses(), ["i dump/db.sql"]);
        d.step(&format!("create ({})", codes.name()), &borg, &ox, &[]);
        let (bi, xi) = each(&sides, |s| s.items(o, "cfc"));
        assert_eq!(
            bi,
            Some(vec!["dump/db.sql - -rw-r----- root:root 18 ".to_string()])
        );
        d.same("archived items", &bi, &xi);
        let (bc, xc) = each(&sides, |s| {
            let mut c = s.borg(o);
            c.args(["extract", "--stdout", &s.archive("cfc")]);
            run(c).stdout
        });
        assert_eq!(bc, "line one\nline two\n");
        d.same("extracted content", &bc, &xc);
        // The command gets BORG_VERSION, and not the passphrase.
        let (bc, xc) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args(["create", "--content-from-command"])
                .arg(s.archive("env"))
                .args([
                    "--",
                    "sh",
                    "-c",
                    "echo \"${BORG_VERSION:-unset} ${BORG_PASSPHRASE:-unset}\"",
                ]);
            ok(c, "create env");
            let mut c = s.borg(o);
            c.args(["extract", "--stdout", &s.archive("env")]);
            run(c).stdout
        });
        assert_eq!(bc, "1.4.5 unset\n");
        d.same("the command's environment", &bc, &xc);
        // A dry run lists `- NAME` and does not even run the command.
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args(["create", "--list", "--dry-run", "--content-from-command"])
                .arg(s.archive("dry"))
                .args(["--", "sh", "-c", "exit 7"]);
            run(c)
        });
        assert_eq!(borg.rc, Some(0), "{}", borg.show());
        assert_eq!(borg.statuses(), ["- stdin"]);
        d.step(&format!("dry run ({})", codes.name()), &borg, &ox, &[]);
        let (bn, xn) = each(&sides, |s| s.archive_names(o));
        d.same("archives", &bn, &xn);
    }
    d.finish("--content-from-command");
}

#[test]
fn content_from_command_failures_are_command_errors_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        let c_ = codes.name();
        let sides = Side::both(o, tmp.path(), &format!("cfc-fail-{c_}"));
        // A command that writes output, then fails: its output is read and
        // stored, then borg raises CommandError and saves no archive.
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args(["create", "--list", "--content-from-command"])
                .arg(s.archive("fails"))
                .args(["--", "sh", "-c", "printf 'partial'; exit 3"]);
            run(c)
        });
        assert_eq!(borg.rc, codes.pick(2, 4), "{}", borg.show());
        d.step(
            &format!("failing command ({c_})"),
            &borg,
            &ox,
            &["Command Error: Command 'sh' exited with status 3"],
        );
        // A command that cannot be started.
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args(["create", "--list", "--content-from-command"])
                .arg(s.archive("missing"))
                .args(["--", "no-such-command-oxiborg-test", "arg"]);
            run(c)
        });
        assert_eq!(borg.rc, codes.pick(2, 4), "{}", borg.show());
        d.step(
            &format!("missing command ({c_})"),
            &borg,
            &ox,
            &[
                "Command Error: Failed to execute command: [Errno 2] No such file or directory: \
               'no-such-command-oxiborg-test'",
            ],
        );
        // An unknown --stdin-user: `i stdin`, then borg's Error.
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args([
                "create",
                "--list",
                "--content-from-command",
                "--stdin-user",
                "no-such-user-oxiborg",
            ])
            .arg(s.archive("nouser"))
            .args(["--", "echo", "x"]);
            run(c)
        });
        assert_eq!(borg.rc, Some(2), "{}", borg.show());
        d.step(
            &format!("unknown --stdin-user ({c_})"),
            &borg,
            &ox,
            &["Error: no such user: no-such-user-oxiborg"],
        );
        // Nothing was saved, and the repository is consistent.
        let (bn, xn) = each(&sides, |s| s.archive_names(o));
        assert!(bn.is_empty(), "borg saved {bn:?}");
        d.same(&format!("archives ({c_})"), &bn, &xn);
        let (bc, xc) = each(&sides, |s| s.check(o));
        assert_eq!(bc.rc, Some(0), "{}", bc.show());
        d.note("borg check (oxiborg's repository)", &xc);
        d.same(&format!("borg check rc ({c_})"), &bc.rc, &xc.rc);
    }
    d.finish("--content-from-command failures");
}

#[test]
fn command_and_path_list_usage_errors_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "usage");
    for s in &sides {
        std::fs::create_dir_all(s.cwd.join("src")).unwrap();
    }
    let mut d = Diffs::default();
    let cases: &[(&[&str], &[&str], &str)] = &[
        (&["--content-from-command"], &[], "No command given."),
        (&["--paths-from-command"], &[], "No command given."),
        (
            &["--paths-from-stdin"],
            &["src"],
            "Must not pass PATH with ``--paths-from-stdin``.",
        ),
        // borg's Highlander action: a second --files-changed is refused
        // once the first one set a value other than the default...
        (
            &["--files-changed", "mtime", "--files-changed", "ctime"],
            &["src"],
            "There can be only one.",
        ),
    ];
    for codes in Codes::BOTH {
        for (i, (opts, paths, msg)) in cases.iter().enumerate() {
            let (borg, ox) = each(&sides, |s| {
                let mut c = s.cmd(o, codes);
                c.arg("create")
                    .args(*opts)
                    .arg(s.archive(&format!("u{i}")))
                    .args(*paths);
                run(c)
            });
            assert_eq!(borg.rc, Some(2), "{}", borg.show());
            d.step(&format!("{opts:?} ({})", codes.name()), &borg, &ox, &[msg]);
        }
    }
    // ... but accepted while it still is the default (the first `ctime`).
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args([
            "create",
            "--files-changed",
            "ctime",
            "--files-changed",
            "mtime",
        ])
        .arg(s.archive("twice"))
        .arg("src");
        run(c)
    });
    assert_eq!(borg.rc, Some(0), "{}", borg.show());
    d.step("--files-changed ctime, then mtime", &borg, &ox, &[]);
    d.finish("usage errors");
}

// ---------------------------------------------------------------------------
// --paths-from-stdin / --paths-from-command / --paths-delimiter

/// The path list: a directory (stored alone, not recursed), a file, a
/// missing path, a hard link, a symlink, a FIFO, the slashdot hack (as
/// `sub/b`, as `.`, and a path above the stripped prefix: `x`), an empty
/// line (`.`, the working directory) and an unnormalised path.
const PATH_LIST: &[u8] = b"src\nsrc/sub\nsrc/a\nsrc/missing\nsrc/hl\nsrc/link\nsrc/fifo\n\
src/./sub/b\nsrc/sub/./\nsrc/sub/./..\n\nsrc//a/../a\n";

#[test]
fn paths_from_stdin_stores_each_path_alone_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        let c_ = codes.name();
        let sides = Side::both(o, tmp.path(), &format!("pfs-{c_}"));
        let (borg, ox) = each(&sides, |s| {
            tree(&s.cwd);
            let mut c = s.cmd(o, codes);
            c.args(["create", "--list", "--paths-from-stdin"])
                .arg(s.archive("list"));
            run_in(c, PATH_LIST)
        });
        // borg 1.4.5: each path on its own (`d src` without its content),
        // `src/missing: stat: [Errno 2] ...` and `E src/missing`, rc 1
        // (modern 107, file not found).
        assert_eq!(borg.rc, codes.pick(1, 107), "{}", borg.show());
        assert!(borg.statuses().contains(&"x src".to_string()));
        d.step(
            &format!("create ({c_})"),
            &borg,
            &ox,
            &["src/missing: stat: [Errno 2] No such file or directory: 'src/missing'"],
        );
        let (bi, xi) = each(&sides, |s| {
            s.items(o, "list").map(|v| {
                // The working directory's own metadata differs between
                // the sides; keep path and type (and link source).
                v.into_iter()
                    .map(|l| {
                        let f: Vec<&str> = l.split(' ').collect();
                        format!("{} {} {}", f[0], f[1], f[f.len() - 1])
                    })
                    .collect::<Vec<_>>()
            })
        });
        d.same(&format!("archived items, in order ({c_})"), &bi, &xi);
        // A dry run stats every path: `-` lines, and the missing one.
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args(["create", "--list", "--dry-run", "--paths-from-stdin"])
                .arg(s.archive("dry"));
            run_in(c, PATH_LIST)
        });
        assert_eq!(borg.rc, codes.pick(1, 107), "{}", borg.show());
        d.step(&format!("dry run ({c_})"), &borg, &ox, &[]);
    }
    d.finish("--paths-from-stdin");
}

/// One `--paths-from-command` run: archive name, `--paths-delimiter`, the
/// `sh -c` script, borg's rc, and a message borg prints.
struct PathCommand {
    name: &'static str,
    delimiter: Option<&'static str>,
    script: &'static str,
    rc: Option<i32>,
    essential: Option<&'static str>,
}

#[test]
fn paths_from_command_with_delimiters_and_failure_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        let c_ = codes.name();
        let sides = Side::both(o, tmp.path(), &format!("pfc-{c_}"));
        for s in &sides {
            tree(&s.cwd);
        }
        let cases = [
            PathCommand {
                name: "nul",
                delimiter: Some("\\0"),
                script: "printf 'src/a\\0src/sub\\0src/sub/b'",
                rc: Some(0),
                essential: None,
            },
            // Universal newlines: `\r\n` and `\r` are read as `\n`, so with
            // `:` as delimiter the second path has newlines in it.
            PathCommand {
                name: "colon",
                delimiter: Some(":"),
                script: "printf 'src/a:src/sub\\r\\nsrc/sub/b\\rsrc/hl'",
                rc: codes.pick(1, 107),
                essential: Some("stat: [Errno 2] No such file or directory"),
            },
            // The command fails after its paths are stored and listed:
            // CommandError, no archive.
            PathCommand {
                name: "fails",
                delimiter: None,
                script: "printf 'src/a\\nsrc/missing\\n'; exit 5",
                rc: codes.pick(2, 4),
                essential: Some("Command Error: Command 'sh' exited with status 5"),
            },
        ];
        for PathCommand {
            name,
            delimiter,
            script,
            rc,
            essential,
        } in cases
        {
            let (borg, ox) = each(&sides, |s| {
                let mut c = s.cmd(o, codes);
                c.args(["create", "--list", "--paths-from-command"]);
                if let Some(dl) = delimiter {
                    c.args(["--paths-delimiter", dl]);
                }
                c.arg(s.archive(name)).args(["--", "sh", "-c", script]);
                run(c)
            });
            assert_eq!(borg.rc, rc, "{}", borg.show());
            let essential: Vec<&str> = essential.into_iter().collect();
            d.step(&format!("{name} ({c_})"), &borg, &ox, &essential);
            let (bi, xi) = each(&sides, |s| s.items(o, name));
            d.same(&format!("archived items of {name} ({c_})"), &bi, &xi);
        }
        let (bn, xn) = each(&sides, |s| s.archive_names(o));
        assert_eq!(bn, ["nul", "colon"]);
        d.same(&format!("archives ({c_})"), &bn, &xn);
        // A dry run still runs the command (and checks its status).
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args(["create", "--list", "--dry-run", "--paths-from-command"])
                .arg(s.archive("dry"))
                .args(["--", "sh", "-c", "printf 'src/a\\nsrc/sub\\n'; exit 1"]);
            run(c)
        });
        assert_eq!(borg.rc, codes.pick(2, 4), "{}", borg.show());
        d.step(
            &format!("dry run ({c_})"),
            &borg,
            &ox,
            &["Command Error: Command 'sh' exited with status 1"],
        );
        let (bc, xc) = each(&sides, |s| s.check(o));
        assert_eq!(bc.rc, Some(0), "{}", bc.show());
        d.note("borg check (oxiborg's repository)", &xc);
        d.same(&format!("borg check rc ({c_})"), &bc.rc, &xc.rc);
    }
    d.finish("--paths-from-command");
}

// ---------------------------------------------------------------------------
// --files-changed

/// The fanotify listener: `TARGET ACTION`. Answers every `FAN_ACCESS_PERM`
/// event on TARGET with "allow"; before answering the first one, changes
/// TARGET (`chmod`: same mode, a new ctime; `utime`: mtime one second
/// later, so mtime and ctime change) and prints `fired`.
const TRAP_PY: &str = r#"
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
FAN_CLOEXEC, FAN_CLASS_CONTENT, FAN_MARK_ADD = 0x1, 0x4, 0x1
FAN_ACCESS_PERM, FAN_ALLOW = 0x20000, 0x1
target, action = sys.argv[1], sys.argv[2]
fd = libc.fanotify_init(FAN_CLOEXEC | FAN_CLASS_CONTENT, os.O_RDONLY)
if fd < 0:
    sys.exit("fanotify_init: " + os.strerror(ctypes.get_errno()))
if libc.fanotify_mark(fd, FAN_MARK_ADD, FAN_ACCESS_PERM, -100, os.fsencode(target)) < 0:
    sys.exit("fanotify_mark: " + os.strerror(ctypes.get_errno()))
print("ready", flush=True)
n = 0
while True:
    buf = os.read(fd, 4096)
    off = 0
    while off < len(buf):
        event_len, _, _, _, _, efd, pid = struct.unpack_from("=IBBHQii", buf, off)
        n += 1
        if n == 1:
            st = os.stat(target)
            if action == "chmod":
                os.chmod(target, st.st_mode & 0o7777)
            else:
                os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1000000000))
            print("fired", flush=True)
        os.write(fd, struct.pack("=iI", efd, FAN_ALLOW))
        if efd >= 0:
            os.close(efd)
        off += event_len
"#;

/// A running listener; killed on drop.
struct Trap {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Trap {
    fn arm(o: &Oracle, script: &Path, target: &Path, action: &str) -> Trap {
        let mut child = Command::new(o.python())
            .arg(script)
            .arg(target)
            .arg(action)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn fanotify listener");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!(
                "the fanotify listener could not start (needs root and a kernel with \
                 CONFIG_FANOTIFY_ACCESS_PERMISSIONS): {line}{err}"
            );
        }
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Trap { child, lines }
    }

    /// Stop the listener; whether its action ran.
    fn disarm(mut self) -> bool {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.lines
            .recv_timeout(Duration::from_secs(1))
            .is_ok_and(|l| l.starts_with("fired"))
    }
}

impl Drop for Trap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn files_changed_modes_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("trap.py");
    std::fs::write(&script, TRAP_PY).unwrap();
    let mut d = Diffs::default();
    // (--files-changed, change made while reading, exit codes,
    //  whether borg reports `C`)
    let cases: &[(Option<&str>, &str, Codes, bool)] = &[
        (None, "chmod", Codes::Legacy, true),
        (Some("ctime"), "utime", Codes::Modern, true),
        (Some("mtime"), "chmod", Codes::Legacy, false),
        (Some("mtime"), "utime", Codes::Legacy, true),
        (Some("mtime"), "utime", Codes::Modern, true),
        (Some("disabled"), "chmod", Codes::Legacy, false),
        (Some("disabled"), "utime", Codes::Modern, false),
    ];
    for (i, (mode, action, codes, changed)) in cases.iter().enumerate() {
        let label = format!("--files-changed {mode:?}, {action} ({})", codes.name());
        let sides = Side::both(o, tmp.path(), &format!("fc{i}"));
        let run_create = |s: &Side, name: &str, trap: bool| {
            let mut c = s.cmd(o, *codes);
            c.args(["create", "--list"]);
            if let Some(m) = mode {
                c.args(["--files-changed", m]);
            }
            c.arg(s.archive(name)).arg("src");
            let trap = trap.then(|| Trap::arm(o, &script, &s.cwd.join("src/big"), action));
            let out = run(c);
            let fired = trap.map(Trap::disarm);
            (out, fired)
        };
        let ((borg, bf), (ox, xf)) = each(&sides, |s| {
            std::fs::create_dir_all(s.cwd.join("src")).unwrap();
            random_file(&s.cwd.join("src/big"), 1 << 20, 7);
            // borg keeps a files-cache entry only if its ctime is older
            // than the newest one seen: `small` must be clearly newer than
            // `big` (timestamps are coarse), so `big`'s entry (if any) is
            // kept and the second run shows it.
            std::thread::sleep(Duration::from_millis(50));
            std::fs::write(s.cwd.join("src/small"), b"quiet").unwrap();
            run_create(s, "first", true)
        });
        assert_eq!(bf, Some(true), "{label}: the trap never fired for borg");
        d.check(
            xf == Some(true),
            format!("{label}: the trap never fired while oxiborg ran"),
        );
        let want = if *changed {
            codes.pick(1, 100)
        } else {
            Some(0)
        };
        assert_eq!(borg.rc, want, "{label}\n{}", borg.show());
        assert_eq!(
            borg.statuses().contains(&"C src/big".to_string()),
            *changed,
            "{label}\n{}",
            borg.show()
        );
        let essential: &[&str] = if *changed {
            &["src/big: file changed while we backed it up"]
        } else {
            &[]
        };
        d.step(&label, &borg, &ox, essential);
        d.check(
            *changed || !ox.stderr.contains("file changed while we backed it up"),
            format!("{label}: oxiborg warned about a change borg does not see"),
        );
        // A changed file is not memorised in the files cache: the next
        // run's status shows what each tool remembered.
        let ((borg, _), (ox, _)) = each(&sides, |s| run_create(s, "second", false));
        // borg: a file seen changing was not memorised (`A` again); one
        // memorised with its ctime from before the change is `M`.
        let again = if *changed { "A src/big" } else { "M src/big" };
        assert!(
            borg.statuses().contains(&again.to_string()),
            "{label}, second run\n{}",
            borg.show()
        );
        d.step(&format!("{label}, second run"), &borg, &ox, &[]);
    }
    d.finish("--files-changed");
}

// ---------------------------------------------------------------------------
// delete --force, delete --force --force

/// Two archives: `a1` (src) and `a2` (src plus a file of its own, so its
/// item stream and one content chunk are its alone).
fn two_archives(o: &Oracle, sides: &[Side; 2]) {
    for s in sides {
        tree(&s.cwd);
        let _ = std::fs::remove_file(s.cwd.join("src/fifo"));
        let mut c = s.cmd(o, Codes::Legacy);
        c.arg("create").arg(s.archive("a1")).arg("src");
        ok(c, "create a1");
        random_file(&s.cwd.join("src/own"), 300_000, 3);
        let mut c = s.cmd(o, Codes::Legacy);
        c.arg("create").arg(s.archive("a2")).arg("src");
        ok(c, "create a2");
    }
}

/// `borg check`'s verdict: rc and its `orphaned objects` / problem lines.
fn check_summary(o: &Oracle, s: &Side) -> (Option<i32>, Vec<String>) {
    let out = s.check(o);
    let lines = out
        .stderr
        .lines()
        .filter(|l| l.contains("orphaned") || l.contains("problems found"))
        .map(str::to_string)
        .collect();
    (out.rc, lines)
}

#[test]
fn delete_force_of_a_healthy_archive_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "force-healthy");
    two_archives(o, &sides);
    let mut d = Diffs::default();
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["delete", "--force", "--list"]).arg(s.archive("a2"));
        run(c)
    });
    assert_eq!(borg.rc, Some(0), "{}", borg.show());
    d.step("delete --force", &borg, &ox, &[]);
    d.same(
        "list line",
        &borg.lines_starting("Deleting archive:"),
        &ox.lines_starting("Deleting archive:"),
    );
    let (bn, xn) = each(&sides, |s| s.archive_names(o));
    assert_eq!(bn, ["a1"]);
    d.same("archives", &bn, &xn);
    // Everything a2 alone used is gone: the repository is clean.
    let (bc, xc) = each(&sides, |s| check_summary(o, s));
    assert_eq!(bc, (Some(0), vec![]));
    d.same("borg check", &bc, &xc);
    // An archive that is not there: a warning, rc 1.
    for codes in Codes::BOTH {
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args(["delete", "--force"]).arg(s.archive("nope"));
            run(c)
        });
        assert_eq!(borg.rc, Some(1), "{}", borg.show());
        d.step(
            &format!("delete --force of a missing archive ({})", codes.name()),
            &borg,
            &ox,
            &["Archive nope not found (1/1)."],
        );
    }
    // No archive: the whole repository, and --force skips the prompt
    // (the variable that would answer it is unset, stdin is empty).
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.env_remove("BORG_DELETE_I_KNOW_WHAT_I_AM_DOING")
            .args(["delete", "--force"])
            .arg(&s.repo);
        run(c)
    });
    assert_eq!(borg.rc, Some(0), "{}", borg.show());
    d.step("delete --force REPO", &borg, &ox, &[]);
    let (bg, xg) = each(&sides, |s| s.repo.exists());
    assert!(!bg, "borg left the repository");
    d.same("repository still there", &bg, &xg);
    d.finish("delete --force of a healthy archive");
}

#[test]
fn delete_of_an_archive_missing_its_item_stream_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "force-damaged");
    two_archives(o, &sides);
    let mut d = Diffs::default();
    let mut missing = Vec::new();
    for s in &sides {
        let ids = s.item_stream_ids(o, "a2");
        assert!(!ids.is_empty());
        s.delete_object(o, &ids[0]);
        missing.push(ids[0].clone());
    }
    // Without --force: borg's ObjectNotFound (rc 2, modern 17), nothing
    // deleted.
    for codes in Codes::BOTH {
        let c_ = codes.name();
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.arg("delete").arg(s.archive("a2"));
            run(c)
        });
        assert_eq!(borg.rc, codes.pick(2, 17), "{}", borg.show());
        let want = [
            format!("Object with key {} not found in repository", missing[0]),
            format!("Object with key {} not found in repository", missing[1]),
        ];
        d.note(&format!("delete ({c_}) (borg)"), &borg);
        d.note(&format!("delete ({c_}) (oxiborg)"), &ox);
        assert!(borg.stderr.contains(&want[0]), "{}", borg.show());
        d.same(&format!("delete rc ({c_})"), &borg.rc, &ox.rc);
        d.check(
            ox.stderr.contains(&want[1]),
            format!("delete ({c_}): oxiborg's stderr lacks {:?}", want[1]),
        );
        let (bn, xn) = each(&sides, |s| s.archive_names(o));
        assert_eq!(bn, ["a1", "a2"]);
        d.same(&format!("archives after a failed delete ({c_})"), &bn, &xn);
    }
    // With --force: deleted, with borg's two warnings, rc 0; what the
    // unreadable item stream referenced stays behind (orphans).
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Modern);
        c.args(["delete", "--force", "--list"]).arg(s.archive("a2"));
        run(c)
    });
    assert_eq!(borg.rc, Some(0), "{}", borg.show());
    d.step(
        "delete --force",
        &borg,
        &ox,
        &[
            "forced deletion succeeded, but the deleted archive was corrupted.",
            "borg check --repair is required to free all space.",
        ],
    );
    d.same(
        "list line",
        &borg.lines_starting("Deleting archive:"),
        &ox.lines_starting("Deleting archive:"),
    );
    let (bn, xn) = each(&sides, |s| s.archive_names(o));
    assert_eq!(bn, ["a1"]);
    d.same("archives after delete --force", &bn, &xn);
    let (bc, xc) = each(&sides, |s| check_summary(o, s));
    assert_eq!(bc.0, Some(1), "{bc:?}");
    d.same("borg check after delete --force", &bc, &xc);
    // check --repair frees them; then all is clean, and both tools go on
    // backing up into the repository.
    let (bc, xc) = each(&sides, |s| {
        s.repair(o);
        let mut c = s.cmd(o, Codes::Legacy);
        c.arg("create").arg(s.archive("a3")).arg("src");
        let created = run(c).rc;
        (created, check_summary(o, s))
    });
    assert_eq!(bc, (Some(0), (Some(0), vec![])));
    d.same("create after check --repair, then borg check", &bc, &xc);
    d.finish("delete of an archive missing its item stream");
}

#[test]
fn delete_force_force_drops_the_manifest_entry_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "force-force");
    two_archives(o, &sides);
    let mut d = Diffs::default();
    // a2's metadata object itself is gone: --force cannot load the archive
    // (ObjectNotFound, rc 2 / 17); --force --force only drops the entry.
    for s in &sides {
        let id = s.archive_id(o, "a2");
        s.delete_object(o, &id);
    }
    for codes in Codes::BOTH {
        let c_ = codes.name();
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, codes);
            c.args(["delete", "--force"]).arg(s.archive("a2"));
            run(c)
        });
        assert_eq!(borg.rc, codes.pick(2, 17), "{}", borg.show());
        d.step(
            &format!("delete --force ({c_})"),
            &borg,
            &ox,
            &["not found in repository"],
        );
    }
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Modern);
        c.args(["delete", "--force", "--force", "--list", "--dry-run"])
            .arg(s.archive("a2"));
        run(c)
    });
    assert_eq!(borg.rc, Some(0), "{}", borg.show());
    d.step("delete --force --force --dry-run", &borg, &ox, &[]);
    d.same(
        "dry-run list line",
        &borg.lines_starting("Would delete:"),
        &ox.lines_starting("Would delete:"),
    );
    let (bn, xn) = each(&sides, |s| s.archive_names(o));
    assert_eq!(bn, ["a1", "a2"]);
    d.same("archives after the dry run", &bn, &xn);
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Modern);
        c.args(["delete", "--force", "--force", "--list"])
            .arg(s.archive("a2"))
            .arg("nope");
        run(c)
    });
    // borg: `Deleted archive: ...`, `Archive nope not found (2/2).` (rc 1,
    // modern too: a plain warning), then `Done. Run "borg check --repair"
    // to clean up the mess.` (which leaves the rc alone).
    assert_eq!(borg.rc, Some(1), "{}", borg.show());
    d.step(
        "delete --force --force",
        &borg,
        &ox,
        &[
            "Archive nope not found (2/2).",
            "Done. Run \"borg check --repair\" to clean up the mess.",
        ],
    );
    d.same(
        "list line",
        &borg.lines_starting("Deleted archive:"),
        &ox.lines_starting("Deleted archive:"),
    );
    let (bn, xn) = each(&sides, |s| s.archive_names(o));
    assert_eq!(bn, ["a1"]);
    d.same("archives after delete --force --force", &bn, &xn);
    let (bc, xc) = each(&sides, |s| check_summary(o, s));
    assert_eq!(bc.0, Some(1), "{bc:?}");
    d.same("borg check after delete --force --force", &bc, &xc);
    // Nothing to delete: `Aborted.`, rc 1 for the archive not found.
    let (borg, ox) = each(&sides, |s| {
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["delete", "--force", "--force"])
            .arg(s.archive("nope"));
        run(c)
    });
    assert_eq!(borg.rc, Some(1), "{}", borg.show());
    d.step(
        "delete --force --force of nothing",
        &borg,
        &ox,
        &["Archive nope not found (1/1).", "Aborted."],
    );
    // check --repair cleans up; the tools then work with the repository
    // again (oxiborg resyncs its cache: the manifest changed under it).
    let (bc, xc) = each(&sides, |s| {
        s.repair(o);
        let mut c = s.cmd(o, Codes::Legacy);
        c.arg("create").arg(s.archive("a3")).arg("src");
        let created = run(c).rc;
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["delete", "--force", "--force"])
            .arg(s.archive("a1"));
        let deleted = run(c).rc;
        s.repair(o);
        (created, deleted, check_summary(o, s))
    });
    assert_eq!(bc, (Some(0), Some(0), (Some(0), vec![])));
    d.same(
        "create, delete --force --force, check --repair, check",
        &bc,
        &xc,
    );
    d.finish("delete --force --force");
}

// ---------------------------------------------------------------------------
// pattern options in command-line order

#[test]
fn pattern_options_apply_in_command_line_order_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "order");
    for s in &sides {
        tree(&s.cwd);
        std::fs::write(s.cwd.join("excludes"), "src/hl\n").unwrap();
        std::fs::write(s.cwd.join("patterns"), "+ src/hl\n").unwrap();
    }
    let mut d = Diffs::default();
    // The first matching pattern decides, so each order gives another tree.
    for (i, opts) in [
        vec!["--pattern", "+src/a", "-e", "src/a"],
        vec!["-e", "src/a", "--pattern", "+src/a"],
        vec!["--pattern", "+src/sub/b", "-e", "src/sub"],
        vec!["--patterns-from", "patterns", "--exclude-from", "excludes"],
        vec!["--exclude-from", "excludes", "--patterns-from", "patterns"],
        vec![
            "-e",
            "src/link",
            "--pattern",
            "+src/link",
            "--pattern=-src/a",
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("o{i}");
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, Codes::Legacy);
            c.args(["create", "--list", "--dry-run"])
                .args(&opts)
                .arg(s.archive(&name))
                .arg("src");
            run(c)
        });
        assert_eq!(borg.rc, Some(0), "{}", borg.show());
        d.step(&format!("create {opts:?}"), &borg, &ox, &[]);
    }
    d.finish("pattern option order");
}

#[test]
fn exclude_nodump_skips_flagged_files_and_directories_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "nodump");
    for s in &sides {
        tree(&s.cwd);
        std::fs::create_dir_all(s.cwd.join("src/nd")).unwrap();
        std::fs::write(s.cwd.join("src/nd/inner"), b"x").unwrap();
        for p in ["src/nd", "src/sub/b"] {
            let st = Command::new("chattr")
                .arg("+d")
                .arg(s.cwd.join(p))
                .status()
                .expect("run chattr");
            assert!(st.success(), "chattr +d failed (filesystem without flags?)");
        }
    }
    let mut d = Diffs::default();
    for dry in [true, false] {
        let (borg, ox) = each(&sides, |s| {
            let mut c = s.cmd(o, Codes::Legacy);
            c.args(["create", "--list", "--exclude-nodump"]);
            if dry {
                c.arg("--dry-run");
            }
            c.arg(s.archive("a")).arg("src");
            run(c)
        });
        assert_eq!(borg.rc, Some(0), "{}", borg.show());
        d.step(
            &format!("create --exclude-nodump (dry run: {dry})"),
            &borg,
            &ox,
            &["x src/nd", "x src/sub/b"],
        );
    }
    let (bi, xi) = each(&sides, |s| s.items(o, "a"));
    d.same("archive items", &bi, &xi);
    d.finish("--exclude-nodump");
}

#[test]
fn read_special_reads_fifos_and_devices_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let sides = Side::both(o, tmp.path(), "special");
    let mut d = Diffs::default();
    for s in &sides {
        let dir = s.cwd.join("sp");
        std::fs::create_dir_all(&dir).unwrap();
        let st = Command::new("mkfifo")
            .arg(dir.join("fifo"))
            .status()
            .expect("mkfifo");
        assert!(st.success());
        std::os::unix::fs::symlink("/dev/null", dir.join("null")).unwrap();
        std::fs::write(dir.join("plain"), b"plain file").unwrap();
    }
    let (borg, ox) = each(&sides, |s| {
        // The FIFO's writer: opening blocks until the tool opens it to read.
        let fifo = s.cwd.join("sp/fifo");
        let feeder = std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            std::io::Write::write_all(&mut f, b"fed through the fifo\n").unwrap();
        });
        let mut c = s.cmd(o, Codes::Legacy);
        c.args(["create", "--list", "--read-special"])
            .arg(s.archive("a"))
            .arg("sp");
        let out = run(c);
        feeder.join().unwrap();
        out
    });
    assert_eq!(borg.rc, Some(0), "{}", borg.show());
    d.step(
        "create --read-special",
        &borg,
        &ox,
        &["A sp/fifo", "A sp/null"],
    );
    let (bi, xi) = each(&sides, |s| s.items(o, "a"));
    d.same("archive items", &bi, &xi);
    d.finish("--read-special");
}
