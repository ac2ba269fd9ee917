//! Log output on stderr, as plain text or (`--log-json`) one JSON object a
//! line with borg's fields: `type`, `time`, `message`, `levelname`, `name`
//! and, where one exists, `msgid`.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use oxiborg_cli_args::LogLevel;

/// The CLI's logger; libraries never print, they report through traits the
/// CLI implements on top of this.
#[derive(Debug, Clone)]
pub struct Logger {
    level: LogLevel,
    json: bool,
}

impl Logger {
    /// A logger showing messages at `level` or more severe.
    pub fn new(level: LogLevel, json: bool) -> Self {
        Logger { level, json }
    }

    /// Log `message` from logger `name` at `level`, with an optional msgid.
    /// Output loggers (`borg.output.*`) are shown whenever their option is on,
    /// whatever the root level; pass `force` for those.
    pub fn log(
        &self,
        level: LogLevel,
        name: &str,
        message: &str,
        msgid: Option<&str>,
        force: bool,
    ) {
        // Levels are ordered Debug < Info < ... < Critical: show what is at
        // least as severe as the configured level.
        if !force && !self.shows(level) {
            return;
        }
        let line = if self.json {
            json_line(level, name, message, msgid)
        } else {
            message.to_string()
        };
        let stderr = std::io::stderr();
        let mut lock = stderr.lock();
        // A closed stderr must not turn into a panic or a different exit code.
        let _ = writeln!(lock, "{line}");
    }

    /// Whether a message at `level` would be shown.
    pub fn shows(&self, level: LogLevel) -> bool {
        level >= self.level
    }

    /// Whether `--log-json` is on.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Write an already formatted JSON line to stderr.
    pub fn raw_json(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    /// An ERROR line.
    pub fn error(&self, name: &str, message: &str, msgid: Option<&str>) {
        self.log(LogLevel::Error, name, message, msgid, false);
    }
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "DEBUG",
        LogLevel::Info => "INFO",
        LogLevel::Warning => "WARNING",
        LogLevel::Error => "ERROR",
        LogLevel::Critical => "CRITICAL",
    }
}

fn json_line(level: LogLevel, name: &str, message: &str, msgid: Option<&str>) -> String {
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut obj = serde_json::Map::new();
    obj.insert("type".into(), "log_message".into());
    obj.insert("time".into(), time.into());
    obj.insert("message".into(), message.into());
    obj.insert("levelname".into(), level_name(level).into());
    obj.insert("name".into(), name.into());
    if let Some(m) = msgid {
        obj.insert("msgid".into(), m.into());
    }
    serde_json::Value::Object(obj).to_string()
}

/// Library reports become log lines (`borg.repository` and friends).
impl oxiborg_repository::Reporter for Logger {
    fn warning(&self, msg: &str) {
        self.log(LogLevel::Warning, "borg.repository", msg, None, false);
    }
    fn error(&self, msg: &str) {
        self.log(LogLevel::Error, "borg.repository", msg, None, false);
    }
    fn info(&self, msg: &str) {
        self.log(LogLevel::Info, "borg.repository", msg, None, false);
    }
}

/// Where a remote server's stderr lines go (borg's `handle_remote_line`):
/// log records at their own level, progress only with `--progress`.
#[derive(Debug, Clone)]
pub struct RemoteLog {
    /// The local logger.
    pub logger: Logger,
    /// `--progress`.
    pub progress: bool,
}

fn level_from_name(name: &str) -> LogLevel {
    match name {
        "DEBUG" => LogLevel::Debug,
        "INFO" => LogLevel::Info,
        "WARNING" | "WARN" => LogLevel::Warning,
        "ERROR" => LogLevel::Error,
        _ => LogLevel::Critical,
    }
}

impl oxiborg_remote::RemoteOutput for RemoteLog {
    fn remote_log(&self, level: &str, logger: &str, message: &str) {
        self.logger
            .log(level_from_name(level), logger, message, None, false);
    }

    fn remote_progress(&self, json_line: &str, message: Option<&str>) {
        if !self.progress {
            return;
        }
        if self.logger.json() {
            self.logger.raw_json(json_line);
        } else if let Some(m) = message {
            let _ = write!(std::io::stderr().lock(), "{m}\r");
        }
    }

    fn remote_raw(&self, line: &str) {
        if self.logger.json() {
            self.logger
                .log(LogLevel::Warning, "root", line.trim(), None, false);
        } else {
            let _ = write!(std::io::stderr().lock(), "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_has_borg_fields() {
        let l = json_line(
            LogLevel::Error,
            "borg.archiver",
            "Repository /x does not exist.",
            Some("Repository.DoesNotExist"),
        );
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["type"], "log_message");
        assert_eq!(v["levelname"], "ERROR");
        assert_eq!(v["name"], "borg.archiver");
        assert_eq!(v["msgid"], "Repository.DoesNotExist");
        assert!(v["time"].as_f64().unwrap() > 1.6e9);
    }

    #[test]
    fn level_filter_keeps_the_severe_messages() {
        let warn = Logger::new(LogLevel::Warning, false);
        assert!(warn.shows(LogLevel::Error) && warn.shows(LogLevel::Warning));
        assert!(!warn.shows(LogLevel::Info) && !warn.shows(LogLevel::Debug));
        assert!(Logger::new(LogLevel::Debug, false).shows(LogLevel::Debug));
    }

    #[test]
    fn msgid_is_omitted_when_absent() {
        let v: serde_json::Value =
            serde_json::from_str(&json_line(LogLevel::Info, "n", "m", None)).unwrap();
        assert!(v.get("msgid").is_none());
    }
}
