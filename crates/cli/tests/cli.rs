//! The `oxiborg` binary's command-line behaviour, compared with real borg
//! where borg has the same behaviour.

use std::process::{Command, Output};

use oxiborg_oracle::Borg;

fn oxiborg(args: &[&str]) -> Output {
    let base = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxiborg"));
    oxiborg_oracle::isolate_env(&mut cmd, base.path());
    cmd.args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn version_reports_the_borg_release_it_follows() {
    let o = oxiborg(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "oxiborg 1.4.5\n");
}

#[test]
fn version_token_matches_real_borg_for_borgmatic() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    // borgmatic runs `borg --version --log-json` and takes the second word.
    let theirs = oracle
        .borg(Borg::V14, base.path())
        .args(["--version", "--log-json"])
        .output()
        .unwrap();
    let ours = oxiborg(&["--version", "--log-json"]);
    assert_eq!(theirs.status.code(), ours.status.code());
    let token = |o: &Output| stdout(o).split(' ').nth(1).map(|s| s.trim().to_string());
    assert_eq!(token(&ours), token(&theirs));
    assert_eq!(token(&ours).as_deref(), Some("1.4.5"));
}

#[test]
fn version_command_prints_what_borg_prints() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let missing = base.path().join("no-such-repo");
    let missing = missing.to_str().unwrap();
    // A local location is not opened; an empty one is a usage error.
    for (args, env_repo) in [
        (vec!["version", missing], None),
        (vec!["version"], Some(missing)),
        (vec!["version"], None),
        (vec!["version", "/r::archive"], None),
    ] {
        let run = |mut cmd: Command| {
            cmd.env_remove("BORG_REPO");
            if let Some(r) = env_repo {
                cmd.env("BORG_REPO", r);
            }
            cmd.args(&args).output().unwrap()
        };
        let theirs = run(oracle.borg(Borg::V14, base.path()));
        let mut ours = Command::new(env!("CARGO_BIN_EXE_oxiborg"));
        oxiborg_oracle::isolate_env(&mut ours, base.path());
        let ours = run(ours);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{args:?}: {}",
            stderr(&ours)
        );
        assert_eq!(stdout(&ours), stdout(&theirs), "{args:?}");
    }
}

#[test]
fn unknown_option_is_a_usage_error_like_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let theirs = oracle
        .borg(Borg::V14, base.path())
        .args(["--bogus", "list"])
        .output()
        .unwrap();
    let ours = oxiborg(&["--bogus", "benchmark", "cpu"]);
    assert_eq!(theirs.status.code(), Some(2));
    assert_eq!(ours.status.code(), Some(2));
    assert!(stderr(&ours).contains("--bogus"), "{}", stderr(&ours));
}

#[test]
fn no_arguments_prints_help_and_succeeds() {
    let o = oxiborg(&[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("Usage"), "{}", stdout(&o));
    // A bare group prints that group's help, also rc 0, as borg does.
    let o = oxiborg(&["benchmark"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("cpu"), "{}", stdout(&o));
}

#[test]
fn unimplemented_commands_are_refused_with_rc_2() {
    for cmd in ["mount", "upgrade"] {
        let o = oxiborg(&[cmd, "::x"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(
            stderr(&o).contains(&format!("does not implement `{cmd}` yet")),
            "{cmd}: {}",
            stderr(&o)
        );
    }
    let o = oxiborg(&["benchmark", "crud", "/tmp/r", "/tmp/p"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn refusal_is_rc_2_even_with_modern_exit_codes() {
    let base = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxiborg"));
    oxiborg_oracle::isolate_env(&mut cmd, base.path());
    let o = cmd
        .env("BORG_EXIT_CODES", "modern")
        .args(["create", "::x", "/"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn log_json_makes_every_stderr_line_json() {
    let o = oxiborg(&[
        "--log-json",
        "--show-rc",
        "--show-version",
        "create",
        "::x",
        "/",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let lines: Vec<serde_json::Value> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", stderr(&o));
    assert_eq!(lines[0]["name"], "borg.output.show-version");
    assert_eq!(lines[1]["levelname"], "ERROR");
    assert_eq!(lines[1]["msgid"], "Error");
    assert_eq!(lines[2]["name"], "borg.output.show-rc");
    assert_eq!(lines[2]["message"], "terminating with error status, rc 2");
    for l in &lines {
        assert_eq!(l["type"], "log_message");
    }
}

#[test]
fn show_rc_plain_text_matches_borg_wording() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    // A borg command that fails with a generic error (rc 2) before touching a repo.
    let theirs = oracle
        .borg(Borg::V14, base.path())
        .args(["--show-rc", "list", "/nonexistent/repo"])
        .output()
        .unwrap();
    let last = |o: &Output| stderr(o).lines().last().unwrap_or_default().to_string();
    assert_eq!(theirs.status.code(), Some(2));
    let ours = oxiborg(&["--show-rc", "create", "::x", "/"]);
    assert_eq!(last(&theirs), last(&ours));
}
