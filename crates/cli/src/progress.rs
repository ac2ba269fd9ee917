//! `--progress` displays.
//!
//! Three renderings, chosen once per indicator:
//! - `--log-json`: borg's JSON objects (`archive_progress`,
//!   `progress_percent`, `progress_message`), one a line;
//! - stderr is a terminal: an indicatif display that redraws in place;
//! - otherwise: borg's text lines (`helpers/progress.py`,
//!   `Statistics.show_progress`), so logs and wrappers see what borg
//!   prints.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use oxiborg_textfmt::format_file_size;

/// borg's operation ids: unique per indicator, counting from 1.
static OPERATION: AtomicU64 = AtomicU64::new(0);

/// How borg's `show_progress` is throttled (`dt=0.2`).
const ARCHIVE_DT: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Json,
    Terminal,
    Lines,
}

fn mode(json: bool) -> Mode {
    if json {
        Mode::Json
    } else if std::io::stderr().is_terminal() {
        Mode::Terminal
    } else {
        Mode::Lines
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn write_stderr(s: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(s.as_bytes());
    let _ = err.flush();
}

/// Python's `shutil.get_terminal_size` width: `COLUMNS`, else stdout's
/// terminal; `None` when neither is known.
fn terminal_columns() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return Some(c);
    }
    let out = std::io::stdout();
    if !out.is_terminal() {
        return None;
    }
    rustix::termios::tcgetwinsize(&out)
        .ok()
        .map(|w| usize::from(w.ws_col))
        .filter(|&c| c > 0)
}

/// borg's `ellipsis_truncate`: fit `msg` into `space` columns, eliding its
/// middle.
fn ellipsis_truncate(msg: &str, space: usize) -> String {
    let chars: Vec<char> = msg.chars().collect();
    if space < 8 {
        return format!("...{}", " ".repeat(space.saturating_sub(3)));
    }
    if space < 3 + chars.len() {
        let head = (space / 2).saturating_sub(3);
        // Python: msg[-space // 2:] with floor division of a negative.
        let tail = space.div_ceil(2);
        let head: String = chars[..head.min(chars.len())].iter().collect();
        let tail: String = chars[chars.len().saturating_sub(tail)..].iter().collect();
        return format!("{head}...{tail}");
    }
    format!("{msg}{}", " ".repeat(space - chars.len()))
}

fn terminal_bar(template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(5));
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// `create`'s running totals line: `<orig> O <comp> C <dedup> D <n> N
/// <path>`.
pub struct ArchiveProgress {
    mode: Mode,
    iec: bool,
    last: Mutex<Option<Instant>>,
    bar: Option<ProgressBar>,
}

impl ArchiveProgress {
    /// An indicator for `create`; `json` is `--log-json`.
    pub fn new(json: bool, iec: bool) -> Self {
        let mode = mode(json);
        let bar = (mode == Mode::Terminal).then(|| terminal_bar("{spinner} {wide_msg}"));
        ArchiveProgress {
            mode,
            iec,
            last: Mutex::new(None),
            bar,
        }
    }

    /// New totals after `path`; shown at most every 0.2 s, like borg.
    pub fn show(
        &self,
        original: u64,
        compressed: u64,
        deduplicated: u64,
        nfiles: u64,
        path: &[u8],
    ) {
        {
            let mut last = self.last.lock().expect("progress clock");
            if last.is_some_and(|t| t.elapsed() <= ARCHIVE_DT) {
                return;
            }
            *last = Some(Instant::now());
        }
        let path = String::from_utf8_lossy(path);
        match self.mode {
            Mode::Json => {
                let line = serde_json::json!({
                    "original_size": original,
                    "compressed_size": compressed,
                    "deduplicated_size": deduplicated,
                    "nfiles": nfiles,
                    "path": path,
                    "time": now(),
                    "type": "archive_progress",
                    "finished": false,
                });
                write_stderr(&format!("{line}\n"));
            }
            Mode::Lines => {
                let head = self.totals(original, compressed, deduplicated, nfiles);
                write_stderr(&format!("{head}{path}\n"));
            }
            Mode::Terminal => {
                let head = self.totals(original, compressed, deduplicated, nfiles);
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{head}{path}"));
                    bar.tick();
                }
            }
        }
    }

    fn totals(&self, original: u64, compressed: u64, deduplicated: u64, nfiles: u64) -> String {
        let f = |v: u64| format_file_size(i128::from(v), 2, false, self.iec);
        format!(
            "{} O {} C {} D {nfiles} N ",
            f(original),
            f(compressed),
            f(deduplicated)
        )
    }

    /// borg's `show_progress(final=True)`.
    pub fn finish(&self) {
        match self.mode {
            Mode::Json => {
                let line = serde_json::json!({
                    "time": now(),
                    "type": "archive_progress",
                    "finished": true,
                });
                write_stderr(&format!("{line}\n"));
            }
            Mode::Lines => write_stderr("\n"),
            Mode::Terminal => {
                if let Some(bar) = &self.bar {
                    bar.finish_and_clear();
                }
            }
        }
    }
}

/// borg's `ProgressIndicatorPercent`: a percentage shown every `step`
/// percent, with a printf-like message.
pub struct Percent {
    mode: Mode,
    id: u64,
    msgid: &'static str,
    format: fn(f64, Option<&str>) -> String,
    step: f64,
    total: u64,
    counter: u64,
    trigger_at: f64,
    bar: Option<ProgressBar>,
    finished: bool,
}

impl Percent {
    /// A new indicator; `format` renders the percentage and the optional
    /// info string (a path) as borg's message does.
    pub fn new(
        json: bool,
        msgid: &'static str,
        step: f64,
        total: u64,
        format: fn(f64, Option<&str>) -> String,
    ) -> Self {
        let mode = mode(json);
        let bar = (mode == Mode::Terminal)
            .then(|| terminal_bar("{bar:30.cyan/blue} {percent:>3}% {wide_msg}"));
        if let Some(b) = &bar {
            b.set_length(total);
        }
        Percent {
            mode,
            id: OPERATION.fetch_add(1, Ordering::SeqCst) + 1,
            msgid,
            format,
            step,
            total,
            counter: 0,
            trigger_at: 0.0,
            bar,
            finished: false,
        }
    }

    /// Set the total (after it was calculated).
    pub fn set_total(&mut self, total: u64) {
        self.total = total;
        if let Some(b) = &self.bar {
            b.set_length(total);
        }
    }

    /// Advance by `increase` and show the new percentage when it reached
    /// the next step.
    pub fn show(&mut self, increase: u64, info: Option<&str>) {
        let pct = if self.total == 0 {
            100.0
        } else {
            self.counter as f64 * 100.0 / self.total as f64
        };
        self.counter += increase;
        if let Some(b) = &self.bar {
            b.set_position(self.counter.min(self.total));
        }
        if pct < self.trigger_at {
            return;
        }
        self.trigger_at += self.step;
        match self.mode {
            Mode::Terminal => {
                if let (Some(b), Some(i)) = (&self.bar, info) {
                    b.set_message((self.format)(pct, Some(i)));
                }
            }
            Mode::Lines => {
                let msg = (self.format)(pct, info);
                let msg = match (info, terminal_columns()) {
                    (Some(i), Some(cols)) => {
                        let head = (self.format)(pct, Some(""));
                        let space = cols.saturating_sub(head.chars().count());
                        (self.format)(pct, Some(&ellipsis_truncate(i, space)))
                    }
                    (None, Some(cols)) => format!("{msg:<cols$}"),
                    _ => msg,
                };
                write_stderr(&format!("{msg}\r"));
            }
            Mode::Json => {
                let msg = (self.format)(pct, info);
                self.json(Some(&msg), info);
            }
        }
    }

    /// Show a message (borg's `pi.output`), e.g. while the total is being
    /// calculated.
    pub fn output(&self, message: &str) {
        match self.mode {
            Mode::Terminal => {
                if let Some(b) = &self.bar {
                    b.set_message(message.to_string());
                    b.tick();
                }
            }
            Mode::Lines => {
                let msg = match terminal_columns() {
                    Some(cols) => format!("{message:<cols$}"),
                    None => message.to_string(),
                };
                write_stderr(&format!("{msg}\r"));
            }
            Mode::Json => self.json(Some(message), None),
        }
    }

    fn json(&self, message: Option<&str>, info: Option<&str>) {
        let mut obj = serde_json::Map::new();
        if let Some(m) = message {
            obj.insert("message".into(), m.into());
            obj.insert("current".into(), self.counter.into());
            obj.insert("total".into(), self.total.into());
            obj.insert(
                "info".into(),
                info.map_or(serde_json::Value::Null, |i| serde_json::json!([i])),
            );
        }
        obj.insert("operation".into(), self.id.into());
        obj.insert("msgid".into(), self.msgid.into());
        obj.insert("type".into(), "progress_percent".into());
        obj.insert("finished".into(), message.is_none().into());
        obj.insert("time".into(), now().into());
        write_stderr(&format!("{}\n", serde_json::Value::Object(obj)));
    }

    /// Whether [`Percent::finish`] ran.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// borg's `finish`: clear the line (an empty message, or the final
    /// JSON object).
    pub fn finish(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        match self.mode {
            Mode::Terminal => {
                if let Some(b) = &self.bar {
                    b.finish_and_clear();
                }
            }
            Mode::Lines => self.output(""),
            Mode::Json => self.json(None, None),
        }
    }
}

/// borg's `ProgressIndicatorMessage`: a line of text that replaces the
/// previous one.
pub struct Message {
    mode: Mode,
    id: u64,
    msgid: &'static str,
}

impl Message {
    /// A new indicator for operation `msgid` (e.g. `cache.commit`).
    pub fn new(json: bool, msgid: &'static str) -> Self {
        Message {
            // On a terminal these short phases are shown as plain lines too.
            mode: match mode(json) {
                Mode::Terminal => Mode::Lines,
                m => m,
            },
            id: OPERATION.fetch_add(1, Ordering::SeqCst) + 1,
            msgid,
        }
    }

    /// Show `message`.
    pub fn output(&self, message: &str) {
        self.emit(Some(message));
    }

    /// Clear the line (or send the final JSON object).
    pub fn finish(&self) {
        self.emit(None);
    }

    fn emit(&self, message: Option<&str>) {
        match self.mode {
            Mode::Json => {
                let mut obj = serde_json::Map::new();
                if let Some(m) = message {
                    obj.insert("message".into(), m.into());
                }
                obj.insert("operation".into(), self.id.into());
                obj.insert("msgid".into(), self.msgid.into());
                obj.insert("type".into(), "progress_message".into());
                obj.insert("finished".into(), message.is_none().into());
                obj.insert("time".into(), now().into());
                write_stderr(&format!("{}\n", serde_json::Value::Object(obj)));
            }
            _ => {
                let m = message.unwrap_or("");
                let m = match terminal_columns() {
                    Some(cols) => format!("{m:<cols$}"),
                    None => m.to_string(),
                };
                write_stderr(&format!("{m}\r"));
            }
        }
    }
}

impl Percent {
    /// Emit the final output once more: borg finishes its extract
    /// indicator twice (always in text; in JSON only after `--dry-run`,
    /// where no directory-permissions phase replaces it).
    pub fn finish_again(&self, json_too: bool) {
        match self.mode {
            Mode::Terminal => {}
            Mode::Lines => self.output(""),
            Mode::Json => {
                if json_too {
                    self.json(None, None);
                }
            }
        }
    }
}

impl Drop for Percent {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsis_truncate_matches_borg() {
        // Values from Python: ellipsis_truncate('this_is_a_very_long_string', n)
        assert_eq!(ellipsis_truncate("short", 10), "short     ");
        assert_eq!(ellipsis_truncate("this_is_a_very_long_string", 5), "...  ");
        assert_eq!(
            ellipsis_truncate("this_is_a_very_long_string", 12),
            "thi...string"
        );
        assert_eq!(
            ellipsis_truncate("this_is_a_very_long_string", 13),
            "thi..._string"
        );
    }

    #[test]
    fn percent_steps_like_borg() {
        let mut p = Percent::new(false, "extract", 50.0, 4, |p, _| format!("{p:3.0}%"));
        p.mode = Mode::Json;
        // 0 % shows, 25 % does not, 50 % shows, 75 % does not.
        let mut shown = Vec::new();
        for _ in 0..4 {
            let before = p.trigger_at;
            p.show(1, None);
            shown.push(p.trigger_at > before);
        }
        assert_eq!(shown, vec![true, false, true, false]);
    }
}
