//! `config` against borg 1.4.5: the same output, exit codes and resulting
//! config file for get, set, list and delete (valid and invalid names and
//! values), and settings written by one tool take effect in the other.

use std::path::Path;
use std::process::Command;

use oxiborg_oracle::Borg;

use crate::common::{ok, random_file, run, Codes, Diffs, Outcome, Tool};
use crate::tree::oxiborg_cmd;

fn tool(o: &oxiborg_oracle::Oracle, t: Tool, base: &Path, codes: Codes, args: &[&str]) -> Command {
    let mut c = match t {
        Tool::Borg => o.borg(Borg::V14, base),
        Tool::Oxiborg => oxiborg_cmd(base),
    };
    c.env("BORG_PASSPHRASE", "pw").args(args);
    if codes == Codes::Modern {
        c.env("BORG_EXIT_CODES", "modern");
    }
    c
}

/// borg reports invalid names and values with an uncaught `ValueError`
/// (a traceback); oxiborg prints only the traceback's last line.
fn same_error(b: &Outcome, x: &Outcome) -> bool {
    if b.stderr == x.stderr {
        return true;
    }
    let last = b.stderr.lines().find(|l| l.starts_with("ValueError: "));
    last.is_some_and(|l| x.stderr == format!("{l}\n"))
}

#[test]
fn config_commands_like_borg() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let repo = t.join("repo");
    let r = repo.to_str().unwrap();
    ok(
        tool(
            o,
            Tool::Borg,
            &base,
            Codes::Legacy,
            &["init", "-e", "repokey", r],
        ),
        "init",
    );
    let id = std::fs::read_to_string(repo.join("config"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("id = ").map(str::to_string))
        .unwrap();
    let mut other_id = id.clone();
    other_id.replace_range(0..1, if id.starts_with('0') { "1" } else { "0" });
    let cases: Vec<Vec<&str>> = vec![
        vec!["--list", r],
        vec!["-l", r, "ignored"],
        vec![r, "append_only"],
        vec![r, "APPEND_ONLY"],
        vec![r, "repository.id"],
        vec![r, "key"],
        vec![r, "foo"],
        vec![r, "it's"],
        vec![r, "cache.previous_location"],
        vec![r, "a.b.c"],
        vec![r, "append_only", "1"],
        vec![r, "append_only", "0"],
        vec![r, "append_only", "2"],
        vec![r, "append_only", "yes"],
        vec![r, "append_only", ""],
        vec![r, "Append_Only", "1"],
        vec![r, "repository.append_only", "1"],
        vec![r, "other.append_only", "1"],
        vec![r, "version", "2"],
        vec![r, "key", "abc"],
        vec![r, "foo", "1"],
        vec![r, "additional_free_space", "10M"],
        vec![r, "additional_free_space", "1.5G"],
        vec![r, "additional_free_space", "0"],
        vec![r, "additional_free_space", "5M"],
        vec![r, "additional_free_space", "ten"],
        vec![r, "storage_quota", "10000000"],
        vec![r, "storage_quota", "1K"],
        vec![r, "max_segment_size", "100M"],
        vec![r, "max_segment_size", "4273995776"],
        vec![r, "max_segment_size", "4273995775"],
        vec![r, "segments_per_dir", "2000"],
        vec![r, "segments_per_dir", "x"],
        vec![r, "last_segment_checked", "7"],
        vec![r, "last_segment_checked", "7.5"],
        vec![r, "id", &other_id],
        vec![r, "id", "abc"],
        vec![r, "id", "abcd"],
        vec![r, "id", "zz"],
        vec!["--delete", r, "additional_free_space"],
        vec!["--delete", r, "storage_quota"],
        vec!["-d", r, "last_segment_checked"],
        vec!["-d", r, "foo"],
        vec!["-d", r, "version"],
        vec!["-d", r, "cache.previous_location"],
        vec!["-d", r],
        vec![r],
    ];
    let before = std::fs::read(repo.join("config")).unwrap();
    let mut d = Diffs::default();
    for codes in Codes::BOTH {
        for args in &cases {
            let label = format!("config {args:?} ({})", codes.name());
            let mut full = vec!["config"];
            full.extend_from_slice(args);
            let mut outs = Vec::new();
            let mut configs = Vec::new();
            for tl in Tool::BOTH {
                std::fs::write(repo.join("config"), &before).unwrap();
                outs.push(run(tool(o, tl, &base, codes, &full)));
                configs.push(std::fs::read(repo.join("config")).unwrap());
            }
            d.step(&label, &outs[0], &outs[1], &[]);
            d.same(
                &format!("{label}: stdout"),
                &outs[0].stdout,
                &outs[1].stdout,
            );
            d.check(
                same_error(&outs[0], &outs[1]),
                format!(
                    "{label}: stderr\n    borg:    {:?}\n    oxiborg: {:?}",
                    outs[0].stderr, outs[1].stderr
                ),
            );
            d.same(
                &format!("{label}: config file afterwards"),
                &configs[0],
                &configs[1],
            );
            d.check(
                !repo.join("config.old").exists(),
                format!("{label}: config.old left behind"),
            );
        }
    }
    // After a set, each tool lists what the other wrote.
    std::fs::write(repo.join("config"), &before).unwrap();
    for (writer, reader) in [(Tool::Oxiborg, Tool::Borg), (Tool::Borg, Tool::Oxiborg)] {
        for (name, value) in [
            ("append_only", "1"),
            ("additional_free_space", "2G"),
            ("last_segment_checked", "3"),
        ] {
            ok(
                tool(o, writer, &base, Codes::Legacy, &["config", r, name, value]),
                "set",
            );
            let got = ok(
                tool(o, reader, &base, Codes::Legacy, &["config", r, name]),
                "get",
            );
            d.same(
                &format!("{} reads {name} set by {}", reader.name(), writer.name()),
                &format!("{value}\n"),
                &got.stdout,
            );
        }
        let lb = ok(
            tool(
                o,
                Tool::Borg,
                &base,
                Codes::Legacy,
                &["config", "--list", r],
            ),
            "list",
        );
        let lx = ok(
            tool(
                o,
                Tool::Oxiborg,
                &base,
                Codes::Legacy,
                &["config", "--list", r],
            ),
            "list",
        );
        d.same("--list after sets", &lb.stdout, &lx.stdout);
        ok(
            tool(o, reader, &base, Codes::Legacy, &["list", r]),
            "the repository still opens",
        );
        std::fs::write(repo.join("config"), &before).unwrap();
    }
    // --cache is refused clearly.
    let x = run(tool(
        o,
        Tool::Oxiborg,
        &base,
        Codes::Modern,
        &["config", "--cache", r, "previous_location"],
    ));
    d.same("config --cache: rc", &Some(2), &x.rc);
    d.finish("config_commands_like_borg");
}

/// Quota and free-space settings written by one tool stop the other tool's
/// `create` with borg's errors.
#[test]
fn config_settings_take_effect_in_the_other_tool() {
    let o = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let src = t.join("src");
    std::fs::create_dir(&src).unwrap();
    random_file(&src.join("big"), 12_000_000, 5);
    let mut d = Diffs::default();
    for (writer, creator) in [(Tool::Oxiborg, Tool::Borg), (Tool::Borg, Tool::Oxiborg)] {
        let repo = t.join(format!("repo-{}", writer.name()));
        let r = repo.to_str().unwrap();
        ok(
            tool(
                o,
                Tool::Borg,
                &base,
                Codes::Legacy,
                &["init", "-e", "none", r],
            ),
            "init",
        );
        let create = |n: &str| {
            let mut c = tool(
                o,
                creator,
                &base,
                Codes::Modern,
                &["create", &format!("{r}::{n}"), "src"],
            );
            c.current_dir(t);
            run(c)
        };
        let label = format!("{} sets, {} creates", writer.name(), creator.name());
        ok(
            tool(
                o,
                writer,
                &base,
                Codes::Legacy,
                &["config", r, "storage_quota", "10M"],
            ),
            "set quota",
        );
        d.same(
            &format!("{label}: quota exceeded (rc)"),
            &Some(20),
            &create("a").rc,
        );
        ok(
            tool(
                o,
                writer,
                &base,
                Codes::Legacy,
                &["config", r, "storage_quota", "0"],
            ),
            "unset quota",
        );
        ok(
            tool(
                o,
                writer,
                &base,
                Codes::Legacy,
                &["config", r, "additional_free_space", "100P"],
            ),
            "set free space",
        );
        d.same(
            &format!("{label}: insufficient free space (rc)"),
            &Some(14),
            &create("b").rc,
        );
        ok(
            tool(
                o,
                writer,
                &base,
                Codes::Legacy,
                &["config", "--delete", r, "additional_free_space"],
            ),
            "delete",
        );
        d.same(
            &format!("{label}: create after the delete"),
            &Some(0),
            &create("c").rc,
        );
    }
    d.finish("config_settings_take_effect_in_the_other_tool");
}
