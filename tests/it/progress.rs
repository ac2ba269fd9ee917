//! `--progress` and `--log-json` progress output, compared with borg 1.4.5
//! on the same archive (stderr is a pipe here, so both print their plain
//! line formats).

use std::path::Path;
use std::process::{Command, Output};

use oxiborg_oracle::{Borg, Oracle};

use crate::tree::oxiborg_cmd;

fn tool(o: &Oracle, borg: bool, base: &Path) -> Command {
    let mut c = if borg {
        o.borg(Borg::V14, base)
    } else {
        oxiborg_cmd(base)
    };
    c.env("BORG_PASSPHRASE", "secret").env_remove("COLUMNS");
    c
}

fn ok(mut c: Command) -> Output {
    let shown = format!("{c:?}");
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{shown}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn fill(path: &Path, len: usize, seed: u64) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    std::fs::write(path, v).unwrap();
}

/// JSON lines with the `time` field (which differs) removed.
fn json_without_time(stderr: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(|l| {
            let mut v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}"));
            v.as_object_mut().unwrap().remove("time");
            v
        })
        .collect()
}

#[test]
fn progress_output_matches_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let src = t.join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    fill(&src.join("big"), 12 << 20, 1);
    for i in 0..5u64 {
        fill(
            &src.join(format!("sub/f{i}")),
            1000 + i as usize * 77,
            10 + i,
        );
    }
    let base = t.join("base");
    let repo = t.join("repo");
    let r = repo.to_str().unwrap();
    let mut c = tool(o, true, &base);
    c.args(["init", "-e", "repokey-blake2", r]);
    ok(c);
    let mut c = tool(o, true, &base);
    c.current_dir(t).args(["create", &format!("{r}::a"), "src"]);
    ok(c);

    // extract --progress, text: the same bytes, `\r`-separated.
    let mut texts = Vec::new();
    for borg in [true, false] {
        let dest = t.join(if borg { "x-borg" } else { "x-ox" });
        std::fs::create_dir_all(&dest).unwrap();
        let mut c = tool(o, borg, &base);
        c.current_dir(&dest)
            .args(["extract", "--progress", &format!("{r}::a")]);
        texts.push(String::from_utf8_lossy(&ok(c).stderr).into_owned());
    }
    assert!(
        texts[0].contains("Extracting: src/big"),
        "borg: {:?}",
        texts[0]
    );
    // How many empty closing messages borg prints (one or two) depends on
    // when Python collects the first indicator; compare up to them.
    assert_eq!(
        texts[1].trim_end_matches('\r'),
        texts[0].trim_end_matches('\r'),
        "extract --progress: oxiborg vs borg"
    );
    assert!(texts[1].ends_with("\r\r"), "{:?}", texts[1]);

    // extract --progress --log-json, with and without --dry-run.
    for dry in [false, true] {
        let mut sides = Vec::new();
        for borg in [true, false] {
            let dest = t.join(format!("j-{borg}-{dry}"));
            std::fs::create_dir_all(&dest).unwrap();
            let mut c = tool(o, borg, &base);
            c.current_dir(&dest)
                .args(["extract", "--progress", "--log-json"]);
            if dry {
                c.arg("--dry-run");
            }
            c.arg(format!("{r}::a"));
            sides.push(json_without_time(&ok(c).stderr));
        }
        assert!(sides[0].len() >= 4, "borg printed {:?}", sides[0]);
        assert_eq!(
            sides[1], sides[0],
            "extract --progress --log-json (dry run: {dry})"
        );
    }

    // create --progress: the first progress line (the root directory, as
    // nothing is counted yet), borg's cache messages and the closing empty
    // line. Later lines depend on timing (one every 0.2 s at most).
    let mut outs = Vec::new();
    for borg in [true, false] {
        let mut c = tool(o, borg, &base);
        c.current_dir(t)
            .args(["create", "--progress", &format!("{r}::c-{borg}"), "src"]);
        outs.push(String::from_utf8_lossy(&ok(c).stderr).into_owned());
    }
    // Everything but the progress lines after the first, with the
    // terminator of each piece.
    let shape = |s: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut seen_line = false;
        let mut piece = String::new();
        for ch in s.chars() {
            piece.push(ch);
            if ch == '\r' || ch == '\n' {
                let is_line = piece.contains(" O ") && piece.contains(" N ");
                if !is_line || !seen_line {
                    out.push(std::mem::take(&mut piece));
                } else {
                    piece.clear();
                }
                seen_line |= is_line;
            }
        }
        out.push(piece);
        out
    };
    assert!(
        outs[0].starts_with("0 B O 0 B C 0 B D 0 N src\n"),
        "{:?}",
        outs[0]
    );
    assert_eq!(
        shape(&outs[1]),
        shape(&outs[0]),
        "create --progress\nborg: {:?}\noxiborg: {:?}",
        outs[0],
        outs[1]
    );

    // create --progress --log-json: archive_progress objects, the last one
    // `{"finished": true, "type": "archive_progress"}`.
    for borg in [true, false] {
        let mut c = tool(o, borg, &base);
        c.current_dir(t).args([
            "create",
            "--progress",
            "--log-json",
            &format!("{r}::j-{borg}"),
            "src",
        ]);
        let objs = json_without_time(&ok(c).stderr);
        let progress: Vec<&serde_json::Value> = objs
            .iter()
            .filter(|v| v["type"] == "archive_progress")
            .collect();
        assert!(progress.len() >= 2, "{borg}: {objs:?}");
        assert_eq!(
            progress[0],
            &serde_json::json!({"original_size": 0, "compressed_size": 0,
                "deduplicated_size": 0, "nfiles": 0, "path": "src",
                "type": "archive_progress", "finished": false}),
            "borg: {borg}"
        );
        assert_eq!(
            progress.last().unwrap(),
            &&serde_json::json!({"type": "archive_progress", "finished": true})
        );
        let msgids: Vec<&str> = objs
            .iter()
            .filter(|v| v["type"] == "progress_message")
            .map(|v| v["msgid"].as_str().unwrap())
            .collect();
        assert!(
            msgids.contains(&"cache.begin_transaction"),
            "{borg}: {msgids:?}"
        );
        assert!(msgids.contains(&"cache.commit"), "{borg}: {msgids:?}");
    }
}
