//! Helpers shared by the integration tests that run borg 1.4.5 and oxiborg
//! side by side and compare what they did.

use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::{RngCore, SeedableRng};

/// Longest a single tool run may take before it is killed.
pub(crate) const DEADLINE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    Borg,
    Oxiborg,
}

impl Tool {
    pub(crate) const BOTH: [Tool; 2] = [Tool::Borg, Tool::Oxiborg];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Tool::Borg => "borg",
            Tool::Oxiborg => "oxiborg",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codes {
    Legacy,
    Modern,
}

impl Codes {
    pub(crate) const BOTH: [Codes; 2] = [Codes::Legacy, Codes::Modern];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Codes::Legacy => "legacy",
            Codes::Modern => "modern",
        }
    }

    /// `want_legacy` in legacy mode, `want_modern` in modern mode.
    pub(crate) fn pick(self, want_legacy: i32, want_modern: i32) -> Option<i32> {
        Some(match self {
            Codes::Legacy => want_legacy,
            Codes::Modern => want_modern,
        })
    }
}

/// What a finished command did.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) rc: Option<i32>,
    pub(crate) how: String,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Outcome {
    /// The `--list` status lines (`X path`), sorted.
    pub(crate) fn statuses(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .stderr
            .lines()
            .filter(|l| is_status_line(l))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    }

    /// stderr lines starting with `prefix`, with archive times and ids
    /// masked (they differ between the tools' repositories).
    pub(crate) fn lines_starting(&self, prefix: &str) -> Vec<String> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(mask_archive_line)
            .collect()
    }

    pub(crate) fn show(&self) -> String {
        format!(
            "{}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.how, self.stdout, self.stderr
        )
    }
}

pub(crate) fn is_status_line(l: &str) -> bool {
    let b = l.as_bytes();
    b.len() >= 3 && b[1] == b' ' && b"AMUCEdbcshfix-?".contains(&b[0])
}

/// borg's `format_archive` line with the time and id masked:
/// `NAME(padded to 36) Sun, 2026-11-22 06:35:39 [64 hex]` keeps the name
/// and its padding, the time becomes `TIME` and the id `ID` (both only if
/// they have the right shape).
pub(crate) fn mask_archive_line(l: &str) -> String {
    let mut out = l.to_string();
    if let Some(open) = out.find(" [") {
        let rest = &out[open + 2..];
        if rest.len() >= 65 && rest[..64].bytes().all(|b| b.is_ascii_hexdigit()) {
            out.replace_range(open + 2..open + 66, "ID");
        }
        // `Sun, 2026-11-22 06:35:39` (24 chars) before the id.
        if open >= 24 {
            let t = &out[open - 24..open];
            let shaped =
                t.as_bytes()[3] == b',' && t.as_bytes()[9] == b'-' && t.as_bytes()[18] == b':';
            if shaped {
                out.replace_range(open - 24..open, "TIME");
            }
        }
    }
    out
}

/// Run `cmd` with `input` on its stdin, to the end (killing it after
/// [`DEADLINE`]).
pub(crate) fn run_in(mut cmd: Command, input: &[u8]) -> Outcome {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let outcome = finish(child, out, err, &shown);
    let _ = writer.join();
    outcome
}

/// Run `cmd` to the end with no stdin (killing it after [`DEADLINE`]).
pub(crate) fn run(mut cmd: Command) -> Outcome {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    finish(child, out, err, &shown)
}

pub(crate) fn drain<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

pub(crate) fn finish(
    mut child: Child,
    out: std::thread::JoinHandle<String>,
    err: std::thread::JoinHandle<String>,
    shown: &str,
) -> Outcome {
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let s = child.wait().expect("wait");
            panic!(
                "{shown} still running after {DEADLINE:?}; killed ({s})\n--- stdout ---\n{}--- stderr ---\n{}",
                out.join().unwrap_or_default(),
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Outcome {
        rc: status.code(),
        how: status.to_string(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Run `cmd` and panic unless it succeeds.
pub(crate) fn ok(cmd: Command, what: &str) -> Outcome {
    let shown = format!("{cmd:?}");
    let out = run(cmd);
    assert_eq!(out.rc, Some(0), "{what} failed: {shown}\n{}", out.show());
    out
}

/// Differences between borg and oxiborg, reported all at once.
#[derive(Debug, Default)]
pub(crate) struct Diffs {
    pub(crate) lines: Vec<String>,
    pub(crate) context: String,
}

impl Diffs {
    pub(crate) fn same<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, borg: &T, ox: &T) {
        if borg != ox {
            self.lines.push(format!(
                "{what}:\n    borg:    {borg:?}\n    oxiborg: {ox:?}"
            ));
        }
    }

    pub(crate) fn check(&mut self, cond: bool, what: String) {
        if !cond {
            self.lines.push(what);
        }
    }

    pub(crate) fn note(&mut self, label: &str, out: &Outcome) {
        let _ = writeln!(self.context, "===== {label}: {}", out.show());
    }

    /// Compare rc and `--list` lines of one step, and that oxiborg printed
    /// each of `essential` (asserted on borg first: it documents borg).
    pub(crate) fn step(&mut self, label: &str, borg: &Outcome, ox: &Outcome, essential: &[&str]) {
        self.note(&format!("{label} (borg)"), borg);
        self.note(&format!("{label} (oxiborg)"), ox);
        self.same(&format!("{label}: rc"), &borg.rc, &ox.rc);
        self.same(
            &format!("{label}: --list status lines, sorted"),
            &borg.statuses(),
            &ox.statuses(),
        );
        for e in essential {
            assert!(
                borg.stderr.contains(e),
                "{label}: borg 1.4.5 did not print {e:?}: the setup is broken\n{}",
                borg.show()
            );
            self.check(
                ox.stderr.contains(e),
                format!("{label}: oxiborg's stderr lacks borg's {e:?}"),
            );
        }
    }

    pub(crate) fn finish(self, test: &str) {
        assert!(
            self.lines.is_empty(),
            "{test}: oxiborg differs from borg 1.4.5:\n  - {}\n\n{}",
            self.lines.join("\n  - "),
            self.context
        );
    }
}

pub(crate) fn random_file(path: &Path, len: usize, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut data = vec![0u8; len];
    rng.fill_bytes(&mut data);
    std::fs::write(path, data).unwrap();
}
