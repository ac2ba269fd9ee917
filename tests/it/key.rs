//! `key export|import|change-passphrase|migrate-to-repokey|export-related-secrets`
//! against borg 1.4.5: byte-identical exports, keys moving between the tools
//! in both directions, borg's interactive paper import, and borg's errors
//! and exit codes with nothing changed.

use std::path::{Path, PathBuf};
use std::process::Command;

use oxiborg_oracle::{Borg, Oracle};

use crate::common::{ok, run, run_in, Codes, Diffs, Outcome, Tool};
use crate::tree::oxiborg_cmd;

fn tool(o: &Oracle, t: Tool, base: &Path, pass: &str, codes: Codes, args: &[&str]) -> Command {
    let mut c = match t {
        Tool::Borg => o.borg(Borg::V14, base),
        Tool::Oxiborg => oxiborg_cmd(base),
    };
    c.env("BORG_PASSPHRASE", pass).args(args);
    if codes == Codes::Modern {
        c.env("BORG_EXIT_CODES", "modern");
    }
    c
}

fn keys_dir(base: &Path) -> PathBuf {
    base.join(".config/borg/keys")
}

/// The single keyfile in the keys directory.
fn the_keyfile(base: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(keys_dir(base))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// What holds the key: the keyfile or the repository config.
fn key_state(base: &Path, repo: &Path, keyfile: bool) -> Vec<u8> {
    if keyfile {
        let dir = keys_dir(base);
        let mut all = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        names.sort();
        for n in names {
            all.extend_from_slice(n.to_string_lossy().as_bytes());
            all.push(0);
            all.extend(std::fs::read(&n).unwrap());
        }
        all
    } else {
        std::fs::read(repo.join("config")).unwrap()
    }
}

/// Remove the key: delete the keyfile(s), or drop the `key` entry (and its
/// continuation lines) from the repository config.
fn remove_key(base: &Path, repo: &Path, keyfile: bool) {
    if keyfile {
        for e in std::fs::read_dir(keys_dir(base)).unwrap() {
            std::fs::remove_file(e.unwrap().path()).unwrap();
        }
    } else {
        let text = std::fs::read_to_string(repo.join("config")).unwrap();
        let mut out = String::new();
        let mut in_key = false;
        for line in text.split_inclusive('\n') {
            if line.starts_with("key = ") {
                in_key = true;
                continue;
            }
            if in_key && line.starts_with('\t') {
                continue;
            }
            in_key = false;
            out.push_str(line);
        }
        assert_ne!(out, text, "no key in the config");
        std::fs::write(repo.join("config"), out).unwrap();
    }
}

/// The typed part of a paper key: the `id:` line and the numbered lines,
/// each without its label, one per line (what a user types at the prompts).
fn paper_input(paper: &str) -> String {
    paper
        .lines()
        .filter_map(|l| {
            let (label, rest) = l.split_once(": ")?;
            let label = label.trim();
            (label == "id" || label.parse::<u32>().is_ok()).then(|| format!("{rest}\n"))
        })
        .collect()
}

fn make_source(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.txt"), b"hello key\n").unwrap();
    std::fs::write(src.join("sub/b.bin"), vec![7u8; 5000]).unwrap();
    src
}

/// `list` and `extract` of archive `a1` with `t`, checking the extracted data.
fn assert_usable(
    o: &Oracle,
    t: Tool,
    base: &Path,
    pass: &str,
    repo: &Path,
    src: &Path,
    what: &str,
) {
    let r = repo.to_str().unwrap();
    let out = ok(
        tool(o, t, base, pass, Codes::Legacy, &["list", "--short", r]),
        what,
    );
    assert_eq!(out.stdout.trim(), "a1", "{what}: {}", out.show());
    let dest = tempfile::tempdir().unwrap();
    let mut c = tool(
        o,
        t,
        base,
        pass,
        Codes::Legacy,
        &["extract", &format!("{r}::a1")],
    );
    c.current_dir(dest.path());
    ok(c, what);
    let rel = src.strip_prefix("/").unwrap();
    assert_eq!(
        std::fs::read(dest.path().join(rel).join("a.txt")).unwrap(),
        b"hello key\n",
        "{what}"
    );
    assert_eq!(
        std::fs::read(dest.path().join(rel).join("sub/b.bin")).unwrap(),
        vec![7u8; 5000],
        "{what}"
    );
}

#[test]
fn exports_are_byte_identical_to_borgs() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let mut d = Diffs::default();
    for mode in ["repokey", "keyfile", "repokey-blake2", "authenticated"] {
        let repo = t.join(mode);
        let r = repo.to_str().unwrap();
        ok(
            tool(
                o,
                Tool::Borg,
                &base,
                "pw",
                Codes::Legacy,
                &["init", "-e", mode, r],
            ),
            "init",
        );
        for fmt in [
            &[][..],
            &["--paper"],
            &["--qr-html"],
            &["--paper", "--qr-html"],
        ] {
            let label = format!("{mode} {fmt:?}");
            let mut outs = Vec::new();
            for tl in Tool::BOTH {
                let mut args = vec!["key", "export"];
                args.extend_from_slice(fmt);
                args.push(r);
                let stdout = ok(tool(o, tl, &base, "", Codes::Legacy, &args), &label).stdout;
                let file = t.join(format!("export-{}", tl.name()));
                args.push(file.to_str().unwrap());
                ok(tool(o, tl, &base, "", Codes::Legacy, &args), &label);
                let bytes = std::fs::read(&file).unwrap();
                let mode_bits = std::fs::metadata(&file).unwrap().permissions();
                outs.push((
                    stdout,
                    bytes,
                    std::os::unix::fs::PermissionsExt::mode(&mode_bits),
                ));
            }
            assert!(outs[0].0.contains("BORG_KEY") || outs[0].0.contains("BORG PAPER KEY v1"));
            if fmt == ["--qr-html"] {
                // oxiborg writes its own page (no copy of borg's template):
                // the key text in it must be borg's plain export.
                let file_text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                d.same(
                    &format!("{label}: key in the stdout page"),
                    &textarea(&outs[0].0),
                    &textarea(&outs[1].0),
                );
                d.same(
                    &format!("{label}: key in the file page"),
                    &textarea(&file_text(&outs[0].1)),
                    &textarea(&file_text(&outs[1].1)),
                );
                d.check(
                    outs[1].0.contains("<svg"),
                    format!("{label}: oxiborg's page has no QR code"),
                );
                d.same(&format!("{label}: file mode"), &outs[0].2, &outs[1].2);
                continue;
            }
            d.same(&format!("{label}: stdout"), &outs[0].0, &outs[1].0);
            d.same(&format!("{label}: file"), &outs[0].1, &outs[1].1);
            d.same(&format!("{label}: file mode"), &outs[0].2, &outs[1].2);
        }
        let secrets: Vec<Outcome> = Tool::BOTH
            .iter()
            .map(|&tl| {
                run(tool(
                    o,
                    tl,
                    &base,
                    "pw",
                    Codes::Legacy,
                    &["key", "export-related-secrets", r, "-"],
                ))
            })
            .collect();
        d.step(
            &format!("{mode} export-related-secrets"),
            &secrets[0],
            &secrets[1],
            &[],
        );
        d.same(
            &format!("{mode} export-related-secrets: json"),
            &secrets[0].stdout,
            &secrets[1].stdout,
        );
    }
    // Errors: no key management without a key, a directory as PATH, a lost keyfile.
    let none = t.join("none");
    ok(
        tool(
            o,
            Tool::Borg,
            &base,
            "",
            Codes::Legacy,
            &["init", "-e", "none", none.to_str().unwrap()],
        ),
        "init none",
    );
    let dir = t.join("a-dir");
    std::fs::create_dir(&dir).unwrap();
    let keyfile_repo = t.join("keyfile");
    let cases: Vec<(&str, Vec<&str>, bool)> = vec![
        (
            "unencrypted",
            vec!["key", "export", none.to_str().unwrap()],
            true,
        ),
        (
            "directory",
            vec![
                "key",
                "export",
                keyfile_repo.to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
            true,
        ),
        (
            "qr directory",
            vec![
                "key",
                "export",
                "--qr-html",
                keyfile_repo.to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
            true,
        ),
        // borg prints a traceback here; only the rc is compared.
        (
            "paper directory",
            vec![
                "key",
                "export",
                "--paper",
                keyfile_repo.to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
            false,
        ),
    ];
    let saved = std::fs::read(the_keyfile(&base)).unwrap();
    let saved_path = the_keyfile(&base);
    for codes in Codes::BOTH {
        for (label, args, same_text) in &cases {
            let b = run(tool(o, Tool::Borg, &base, "pw", codes, args));
            let x = run(tool(o, Tool::Oxiborg, &base, "pw", codes, args));
            let label = format!("{label} ({})", codes.name());
            d.step(&label, &b, &x, &[]);
            if *same_text {
                d.same(&format!("{label}: stderr"), &b.stderr, &x.stderr);
            }
            d.same(&format!("{label}: stdout"), &b.stdout, &x.stdout);
        }
        std::fs::remove_file(&saved_path).unwrap();
        let args = ["key", "export", keyfile_repo.to_str().unwrap()];
        let b = run(tool(o, Tool::Borg, &base, "pw", codes, &args));
        let x = run(tool(o, Tool::Oxiborg, &base, "pw", codes, &args));
        let label = format!("lost keyfile ({})", codes.name());
        d.step(&label, &b, &x, &["No key file for repository"]);
        d.same(&format!("{label}: stderr"), &b.stderr, &x.stderr);
        std::fs::write(&saved_path, &saved).unwrap();
    }
    d.finish("exports_are_byte_identical_to_borgs");
}

/// One direction of the round trip: `from` makes the repository, an
/// archive and the exports; the key is removed; `to` imports (plain file,
/// then the paper dialogue) and both tools use the repository. What the
/// importing tool stores equals what borg's import stores.
fn round_trip(from: Tool, to: Tool, mode: &str) {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let keyfile = mode.starts_with("keyfile");
    let src = make_source(t);
    let repo = t.join("repo");
    let r = repo.to_str().unwrap();
    let what = format!("{mode}: {} exports, {} imports", from.name(), to.name());
    ok(
        tool(
            o,
            from,
            &base,
            "pw",
            Codes::Legacy,
            &["init", "-e", mode, r],
        ),
        &what,
    );
    let mut c = tool(
        o,
        from,
        &base,
        "pw",
        Codes::Legacy,
        &["create", &format!("{r}::a1"), src.to_str().unwrap()],
    );
    c.current_dir(t);
    ok(c, &what);
    let plain = t.join("plain.key");
    ok(
        tool(
            o,
            from,
            &base,
            "",
            Codes::Legacy,
            &["key", "export", r, plain.to_str().unwrap()],
        ),
        &what,
    );
    let paper = ok(
        tool(
            o,
            from,
            &base,
            "",
            Codes::Legacy,
            &["key", "export", "--paper", r],
        ),
        &what,
    )
    .stdout;
    let original = key_state(&base, &repo, keyfile);

    remove_key(&base, &repo, keyfile);
    let broken = run(tool(
        o,
        Tool::Borg,
        &base,
        "pw",
        Codes::Modern,
        &["list", r],
    ));
    assert_eq!(
        broken.rc,
        Some(if keyfile { 42 } else { 44 }),
        "{what}: key not removed\n{}",
        broken.show()
    );

    // Plain file.
    ok(
        tool(
            o,
            to,
            &base,
            "",
            Codes::Legacy,
            &["key", "import", r, plain.to_str().unwrap()],
        ),
        &what,
    );
    let imported = key_state(&base, &repo, keyfile);
    assert_usable(o, Tool::Borg, &base, "pw", &repo, &src, &what);
    assert_usable(o, Tool::Oxiborg, &base, "pw", &repo, &src, &what);
    if to == Tool::Oxiborg {
        remove_key(&base, &repo, keyfile);
        ok(
            tool(
                o,
                Tool::Borg,
                &base,
                "",
                Codes::Legacy,
                &["key", "import", r, plain.to_str().unwrap()],
            ),
            &what,
        );
        assert_eq!(
            imported,
            key_state(&base, &repo, keyfile),
            "{what}: stored key differs from borg's import"
        );
    }
    if keyfile {
        // Importing over an existing keyfile rewrites that file.
        ok(
            tool(
                o,
                to,
                &base,
                "",
                Codes::Legacy,
                &["key", "import", r, plain.to_str().unwrap()],
            ),
            &what,
        );
        assert_eq!(
            imported,
            key_state(&base, &repo, keyfile),
            "{what}: import over the keyfile"
        );
    }
    // The import restored the exported blob, so borg's own keyfile came back.
    if keyfile && from == Tool::Borg {
        assert_eq!(
            original,
            key_state(&base, &repo, keyfile),
            "{what}: restored keyfile"
        );
    }

    // Paper dialogue.
    remove_key(&base, &repo, keyfile);
    let typed = paper_input(&paper);
    let out = run_in(
        tool(
            o,
            to,
            &base,
            "",
            Codes::Legacy,
            &["key", "import", "--paper", r],
        ),
        typed.as_bytes(),
    );
    assert_eq!(out.rc, Some(0), "{what}: paper import\n{}", out.show());
    let imported = key_state(&base, &repo, keyfile);
    assert_usable(o, Tool::Borg, &base, "pw", &repo, &src, &what);
    assert_usable(o, Tool::Oxiborg, &base, "pw", &repo, &src, &what);
    if to == Tool::Oxiborg {
        remove_key(&base, &repo, keyfile);
        let b = run_in(
            tool(
                o,
                Tool::Borg,
                &base,
                "",
                Codes::Legacy,
                &["key", "import", "--paper", r],
            ),
            typed.as_bytes(),
        );
        assert_eq!(b.rc, Some(0), "{}", b.show());
        assert_eq!(
            imported,
            key_state(&base, &repo, keyfile),
            "{what}: paper-imported key differs from borg's"
        );
        assert_eq!(out.stdout, b.stdout, "{what}: paper dialogue output");
    }
}

#[test]
fn borg_exports_oxiborg_imports() {
    for mode in ["repokey", "keyfile", "keyfile-blake2"] {
        round_trip(Tool::Borg, Tool::Oxiborg, mode);
    }
}

#[test]
fn oxiborg_exports_borg_imports() {
    for mode in ["repokey", "keyfile", "repokey-blake2"] {
        round_trip(Tool::Oxiborg, Tool::Borg, mode);
    }
}

#[test]
fn paper_dialogue_and_import_errors_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let mut d = Diffs::default();
    let a = t.join("a");
    let b = t.join("b");
    let kf = t.join("kf");
    let none = t.join("none");
    for (repo, mode) in [
        (&a, "repokey"),
        (&b, "repokey"),
        (&kf, "keyfile"),
        (&none, "none"),
    ] {
        ok(
            tool(
                o,
                Tool::Borg,
                &base,
                "pw",
                Codes::Legacy,
                &["init", "-e", mode, repo.to_str().unwrap()],
            ),
            "init",
        );
    }
    let ar = a.to_str().unwrap();
    let br = b.to_str().unwrap();
    let kr = kf.to_str().unwrap();
    let b_key = t.join("b.key");
    ok(
        tool(
            o,
            Tool::Borg,
            &base,
            "",
            Codes::Legacy,
            &["key", "export", br, b_key.to_str().unwrap()],
        ),
        "export b",
    );
    let kf_key = t.join("kf.key");
    ok(
        tool(
            o,
            Tool::Borg,
            &base,
            "",
            Codes::Legacy,
            &["key", "export", kr, kf_key.to_str().unwrap()],
        ),
        "export kf",
    );
    let junk = t.join("junk");
    std::fs::write(&junk, "hello\n").unwrap();
    let missing = t.join("missing");
    let paper = ok(
        tool(
            o,
            Tool::Borg,
            &base,
            "",
            Codes::Legacy,
            &["key", "export", "--paper", ar],
        ),
        "paper",
    )
    .stdout;
    let good = paper_input(&paper);
    let lines: Vec<&str> = good.lines().collect();
    let b_paper = ok(
        tool(
            o,
            Tool::Borg,
            &base,
            "",
            Codes::Legacy,
            &["key", "export", "--paper", br],
        ),
        "paper b",
    )
    .stdout;
    let b_id = paper_input(&b_paper).lines().next().unwrap().to_string();
    // A line with a wrong checksum; then the right one.
    let mut bad_line = lines[2].to_string();
    let last = bad_line.pop().unwrap();
    bad_line.push(if last == '0' { '1' } else { '0' });
    // An id line whose checksum is right but whose overall checksum is wrong.
    let (id_data, _) = lines[0]
        .replace(' ', "")
        .split_once('-')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    let mut parts: Vec<String> = id_data.split('/').map(str::to_string).collect();
    parts[2] = "000000000000".to_string();
    let wrong_total_data = parts.join("/");
    let sum = oxiborg_crypto::primitives::sha256(wrong_total_data.as_bytes());
    let wrong_total = format!("{wrong_total_data}-{:02x}", sum[0]);
    let body: String = lines[1..].iter().map(|l| format!("{l}\n")).collect();

    let dialogues: Vec<(&str, String)> = vec![
        (
            "bad checksum then EOF",
            format!("{}\n{}\n{bad_line}\n", lines[0], lines[1]),
        ),
        (
            "bad checksum then fixed",
            format!(
                "{}\n{}\n{bad_line}\n{}\n",
                lines[0],
                lines[1],
                lines[2..].join("\n")
            ),
        ),
        ("blank, yes", "\ny\n".to_string()),
        ("blank, no, then EOF", "\nn\n".to_string()),
        ("blank, junk answers, EOF", "\nmaybe\n\n".to_string()),
        (
            "malformed lines",
            format!("x-y-z\nno dash\n1/2-ab\n{}\nzz-00\n123-00\n", lines[0]),
        ),
        (
            "overall checksum wrong, then right",
            format!("{wrong_total}\n{body}{good}"),
        ),
        ("id of another repository", format!("{b_id}\n")),
        ("empty input", String::new()),
        ("all good", good.clone()),
    ];
    let before = std::fs::read(a.join("config")).unwrap();
    for codes in Codes::BOTH {
        for (label, input) in &dialogues {
            let label = format!("paper: {label} ({})", codes.name());
            let mut after = Vec::new();
            let mut outs = Vec::new();
            for tl in Tool::BOTH {
                std::fs::write(a.join("config"), &before).unwrap();
                outs.push(run_in(
                    tool(o, tl, &base, "", codes, &["key", "import", "--paper", ar]),
                    input.as_bytes(),
                ));
                after.push(std::fs::read(a.join("config")).unwrap());
            }
            d.step(&label, &outs[0], &outs[1], &[]);
            d.same(
                &format!("{label}: stdout"),
                &outs[0].stdout,
                &outs[1].stdout,
            );
            d.same(
                &format!("{label}: stderr"),
                &outs[0].stderr,
                &outs[1].stderr,
            );
            d.same(&format!("{label}: config afterwards"), &after[0], &after[1]);
            if !label.contains("right") && !label.contains("fixed") && !label.contains("all good") {
                d.same(&format!("{label}: config unchanged"), &before, &after[1]);
            }
        }
    }
    std::fs::write(a.join("config"), &before).unwrap();

    let kf_before = key_state(&base, &kf, true);
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "key of another repository",
            vec!["key", "import", ar, b_key.to_str().unwrap()],
        ),
        (
            "repokey backup into a keyfile repo",
            vec!["key", "import", kr, b_key.to_str().unwrap()],
        ),
        (
            "keyfile backup into a repokey repo",
            vec!["key", "import", ar, kf_key.to_str().unwrap()],
        ),
        (
            "not a key",
            vec!["key", "import", kr, junk.to_str().unwrap()],
        ),
        (
            "missing file",
            vec!["key", "import", ar, missing.to_str().unwrap()],
        ),
        ("no path", vec!["key", "import", ar]),
        (
            "paper with a path",
            vec!["key", "import", "--paper", ar, b_key.to_str().unwrap()],
        ),
        (
            "unencrypted",
            vec![
                "key",
                "import",
                none.to_str().unwrap(),
                b_key.to_str().unwrap(),
            ],
        ),
        (
            "missing repository",
            vec![
                "key",
                "import",
                missing.to_str().unwrap(),
                b_key.to_str().unwrap(),
            ],
        ),
    ];
    for codes in Codes::BOTH {
        for (label, args) in &cases {
            let label = format!("{label} ({})", codes.name());
            let bo = run(tool(o, Tool::Borg, &base, "", codes, args));
            let xo = run(tool(o, Tool::Oxiborg, &base, "", codes, args));
            d.step(&label, &bo, &xo, &[]);
            d.same(&format!("{label}: stderr"), &bo.stderr, &xo.stderr);
            d.same(
                &format!("{label}: repokey unchanged"),
                &before,
                &std::fs::read(a.join("config")).unwrap(),
            );
            d.same(
                &format!("{label}: keyfile unchanged"),
                &kf_before,
                &key_state(&base, &kf, true),
            );
        }
    }
    d.finish("paper_dialogue_and_import_errors_like_borg");
}

/// The PBKDF2 wrapper of a key blob: borg's algorithm and iteration count.
fn assert_borg_kdf(blob_holder: &[u8], what: &str) {
    let text = String::from_utf8_lossy(blob_holder);
    let b64: String = match text.find("key = ") {
        Some(i) => text[i + 6..]
            .split("\n\n")
            .next()
            .unwrap()
            .replace(['\n', '\t'], ""),
        None => text.lines().skip(1).collect(),
    };
    let packed = oxiborg_crypto::decode_key_blob_text(&b64).unwrap();
    let has = |needle: &[u8]| packed.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"\xa9algorithm\xa6sha256"), "{what}: algorithm");
    assert!(
        has(b"\xaaiterations\xce\x00\x01\x86\xa0"),
        "{what}: 100000 iterations"
    );
}

#[test]
fn change_passphrase_both_ways() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let mut d = Diffs::default();
    for mode in ["repokey", "keyfile", "authenticated-blake2"] {
        let base = t.join(format!("base-{mode}"));
        let keyfile = mode == "keyfile";
        let repo = t.join(mode);
        let r = repo.to_str().unwrap();
        ok(
            tool(
                o,
                Tool::Borg,
                &base,
                "p0",
                Codes::Legacy,
                &["init", "-e", mode, r],
            ),
            "init",
        );
        let state0 = key_state(&base, &repo, keyfile);

        // Wrong current passphrase: borg's error, nothing changed.
        for codes in Codes::BOTH {
            let label = format!("{mode}: wrong passphrase ({})", codes.name());
            let mut outs = Vec::new();
            for tl in Tool::BOTH {
                let mut c = tool(
                    o,
                    tl,
                    &base,
                    "wrong",
                    codes,
                    &["key", "change-passphrase", r],
                );
                c.env("BORG_NEW_PASSPHRASE", "p9");
                outs.push(run(c));
            }
            d.step(&label, &outs[0], &outs[1], &["is incorrect"]);
            d.same(
                &format!("{label}: stderr"),
                &outs[0].stderr,
                &outs[1].stderr,
            );
            d.same(
                &format!("{label}: key unchanged"),
                &state0,
                &key_state(&base, &repo, keyfile),
            );
        }

        // oxiborg p0 -> p1, borg opens with p1 (and not with p0).
        let mut c = tool(
            o,
            Tool::Oxiborg,
            &base,
            "p0",
            Codes::Legacy,
            &["-v", "key", "change-passphrase", r],
        );
        c.env("BORG_NEW_PASSPHRASE", "p1");
        let x = ok(c, "oxiborg change-passphrase");
        let state1 = key_state(&base, &repo, keyfile);
        assert_ne!(state0, state1, "{mode}: key not rewritten");
        assert_borg_kdf(&state1, mode);
        ok(
            tool(o, Tool::Borg, &base, "p1", Codes::Legacy, &["list", r]),
            "borg with the new passphrase",
        );
        let old = run(tool(
            o,
            Tool::Borg,
            &base,
            "p0",
            Codes::Modern,
            &["list", r],
        ));
        d.same(
            &format!("{mode}: old passphrase refused by borg"),
            &Some(52),
            &old.rc,
        );

        // borg p1 -> p2, oxiborg opens with p2; both print the same lines.
        let mut c = tool(
            o,
            Tool::Borg,
            &base,
            "p1",
            Codes::Legacy,
            &["-v", "key", "change-passphrase", r],
        );
        c.env("BORG_NEW_PASSPHRASE", "p2");
        let b = ok(c, "borg change-passphrase");
        d.same(&format!("{mode}: -v output"), &b.stderr, &x.stderr);
        ok(
            tool(o, Tool::Oxiborg, &base, "p2", Codes::Legacy, &["list", r]),
            "oxiborg with the new passphrase",
        );
        let old = run(tool(
            o,
            Tool::Oxiborg,
            &base,
            "p1",
            Codes::Modern,
            &["list", r],
        ));
        d.same(
            &format!("{mode}: old passphrase refused by oxiborg"),
            &Some(52),
            &old.rc,
        );
    }
    // No key to change.
    let base = t.join("base-none");
    let none = t.join("none");
    ok(
        tool(
            o,
            Tool::Borg,
            &base,
            "",
            Codes::Legacy,
            &["init", "-e", "none", none.to_str().unwrap()],
        ),
        "init none",
    );
    for codes in Codes::BOTH {
        let args = ["key", "change-passphrase", none.to_str().unwrap()];
        let b = run(tool(o, Tool::Borg, &base, "", codes, &args));
        let x = run(tool(o, Tool::Oxiborg, &base, "", codes, &args));
        let label = format!("unencrypted ({})", codes.name());
        d.step(&label, &b, &x, &["not encrypted"]);
        d.same(&format!("{label}: stderr"), &b.stderr, &x.stderr);
    }
    d.finish("change_passphrase_both_ways");
}

/// A legacy passphrase-mode repository (borg < 1.0), made with borg 1.4.5's
/// own `PassphraseKey` (still present for the migration).
fn legacy_passphrase_repo(o: &Oracle, base: &Path, repo: &Path, pass: &str) {
    let script = [
        "import sys",
        "from borg.logger import setup_logging",
        "setup_logging()",
        "from borg.repository import Repository",
        "from borg.crypto.key import PassphraseKey",
        "from borg.helpers import Manifest",
        "class A: pass",
        "with Repository(sys.argv[1], create=True, exclusive=True) as repo:",
        "    key = PassphraseKey.create(repo, A())",
        "    manifest = Manifest(key, repo)",
        "    manifest.write()",
        "    repo.commit(compact=False)",
    ]
    .join("\n");
    let mut c = Command::new(o.python());
    oxiborg_oracle::isolate_env(&mut c, base);
    c.env("BORG_PASSPHRASE", pass)
        .arg("-c")
        .arg(&script)
        .arg(repo);
    ok(c, "create a passphrase-mode repository");
}

#[test]
fn migrate_to_repokey_both_ways() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    for (migrator, user) in [(Tool::Oxiborg, Tool::Borg), (Tool::Borg, Tool::Oxiborg)] {
        let base = t.join(format!("base-{}", migrator.name()));
        let repo = t.join(format!("legacy-{}", migrator.name()));
        let r = repo.to_str().unwrap();
        legacy_passphrase_repo(o, &base, &repo, "old");
        let before = std::fs::read(repo.join("config")).unwrap();
        assert!(!String::from_utf8_lossy(&before).contains("key = "));
        let mut c = tool(
            o,
            migrator,
            &base,
            "old",
            Codes::Legacy,
            &["-v", "key", "migrate-to-repokey", r],
        );
        c.env("BORG_NEW_PASSPHRASE", "new");
        let out = ok(c, "migrate-to-repokey");
        assert!(out.stderr.contains("Key updated"), "{}", out.show());
        let after = std::fs::read(repo.join("config")).unwrap();
        assert_borg_kdf(&after, "migrated repokey");
        for tl in [user, migrator] {
            let l = ok(
                tool(o, tl, &base, "new", Codes::Legacy, &["list", r]),
                "list after migration",
            );
            assert_eq!(l.stdout, "", "{}", l.show());
        }
        let old = run(tool(o, user, &base, "old", Codes::Modern, &["list", r]));
        assert_eq!(old.rc, Some(52), "{}", old.show());
    }
}

/// The text of an HTML page's `<textarea>` (the exported key of a
/// `--qr-html` page), unescaped.
fn textarea(page: &str) -> Option<String> {
    let start = page.find("<textarea")?;
    let open_end = start + page[start..].find('>')? + 1;
    let close = open_end + page[open_end..].find("</textarea>")?;
    Some(
        page[open_end..close]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}
