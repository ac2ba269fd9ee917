//! borg's `LockRoster`: `<base>.roster`, a JSON object with `"shared"` and
//! `"exclusive"` lists of `[hostid, pid, thread]` triples.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::hostid::{process_alive, ProcessId, PyInt};
use crate::{LockError, LogLevel, LogRecord};
use oxiborg_pyjson::{self as pyjson, ParseError, Value};

/// Which roster list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Shared,
    Exclusive,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Shared => "shared",
            Key::Exclusive => "exclusive",
        }
    }
}

/// One roster entry as loaded: the original JSON values (so they are
/// written back unchanged) plus the integer keys Python compares with.
#[derive(Clone, Debug)]
struct Entry {
    host: String,
    pid: Value,
    thread: Value,
    pid_key: String,
    thread_key: String,
}

impl Entry {
    fn of(id: &ProcessId) -> Entry {
        Entry {
            host: id.host.clone(),
            pid: Value::Int(id.pid.to_string()),
            thread: Value::Int(id.thread.to_string()),
            pid_key: id.pid.to_string(),
            thread_key: id.thread.to_string(),
        }
    }

    /// Python tuple equality (`True == 1`).
    fn same(&self, other: &Entry) -> bool {
        self.host == other.host
            && self.pid_key == other.pid_key
            && self.thread_key == other.thread_key
    }

    fn to_value(&self) -> Value {
        Value::Array(vec![
            Value::Str(self.host.clone()),
            self.pid.clone(),
            self.thread.clone(),
        ])
    }
}

/// Add `e` unless an equal entry is there (Python `set.add`).
fn set_add(set: &mut Vec<Entry>, e: Entry) {
    if !set.iter().any(|x| x.same(&e)) {
        set.push(e);
    }
}

#[derive(Debug)]
pub(crate) struct Roster {
    pub(crate) path: PathBuf,
    id: ProcessId,
}

impl Roster {
    pub(crate) fn new(path: PathBuf, id: ProcessId) -> Roster {
        Roster { path, id }
    }

    fn failed(&self, reason: String) -> LockError {
        LockError::Failed {
            path: self.path.clone(),
            reason,
        }
    }

    /// `LockRoster.load()`: the roster object (key order as in the file),
    /// with dead same-host entries removed from both lists. Missing,
    /// undecodable or malformed (`ValueError`) files give an empty roster;
    /// shapes on which borg would crash give [`LockError::Failed`].
    fn load(&self, log: &mut Vec<LogRecord>) -> Result<Vec<(String, Value)>, LockError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(LockError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return Ok(Vec::new());
        };
        let mut data = match pyjson::parse(&text) {
            Ok(Value::Object(pairs)) => pairs,
            Ok(_) => return Err(self.failed("roster is not a JSON object (TypeError)".into())),
            Err(ParseError::Invalid) => return Ok(Vec::new()),
            Err(ParseError::Unsupported(why)) => return Err(self.failed(format!("roster: {why}"))),
        };
        let my_host = self.id.host.as_bytes();
        for key in [Key::Shared, Key::Exclusive] {
            let Some(slot) = data.iter_mut().find(|(k, _)| k == key.name()) else {
                continue;
            };
            let entries = slot.1.py_iter().ok_or_else(|| {
                self.failed(format!(
                    "roster {:?} entries are not iterable (TypeError)",
                    key.name()
                ))
            })?;
            let mut elements: Vec<Entry> = Vec::new();
            for e in entries {
                let items = e.py_iter().ok_or_else(|| {
                    self.failed(format!(
                        "roster {:?} entry is not iterable (TypeError)",
                        key.name()
                    ))
                })?;
                // `for host, pid, thread in entries`: a wrong count is a
                // ValueError, which borg turns into an empty roster.
                let Ok([host, pid, thread]) = <[Value; 3]>::try_from(items) else {
                    return Ok(Vec::new());
                };
                let (Value::Str(host), Some(pid_key), Some(thread_key)) =
                    (host, pid.int_text(), thread.int_text())
                else {
                    return Err(self.failed(format!(
                        "roster {:?} entry is not [str, int, int] (AssertionError)",
                        key.name()
                    )));
                };
                let alive = process_alive(
                    my_host,
                    host.as_bytes(),
                    PyInt::from_decimal(&pid_key),
                    PyInt::from_decimal(&thread_key),
                )
                .map_err(|why| self.failed(format!("roster entry pid {pid_key}: {why}")))?;
                if alive {
                    set_add(
                        &mut elements,
                        Entry {
                            host,
                            pid,
                            thread,
                            pid_key,
                            thread_key,
                        },
                    );
                } else {
                    log.push(LogRecord {
                        level: LogLevel::Warning,
                        message: format!(
                            "Removed stale {} roster lock for host {host} pid {pid_key} thread {thread_key}.",
                            key.name()
                        ),
                    });
                }
            }
            slot.1 = Value::Array(elements.iter().map(Entry::to_value).collect());
        }
        Ok(data)
    }

    fn save(&self, data: Vec<(String, Value)>) -> Result<(), LockError> {
        let text = pyjson::dump(&Value::Object(data));
        std::fs::write(&self.path, text).map_err(|source| LockError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// `LockRoster.remove()`.
    pub(crate) fn remove(&self) -> Result<(), LockError> {
        remove_roster(&self.path)
    }

    /// The live entries of one list.
    fn get(&self, key: Key, log: &mut Vec<LogRecord>) -> Result<Vec<Entry>, LockError> {
        let data = self.load(log)?;
        Ok(entries_of(&data, key))
    }

    /// Number of live entries in one list.
    pub(crate) fn count(&self, key: Key, log: &mut Vec<LogRecord>) -> Result<usize, LockError> {
        Ok(self.get(key, log)?.len())
    }

    /// `empty(EXCLUSIVE, SHARED)`: both lists empty (loading once per key,
    /// stopping at the first non-empty one, like Python's `all()`).
    pub(crate) fn empty(&self, log: &mut Vec<LogRecord>) -> Result<bool, LockError> {
        for key in [Key::Exclusive, Key::Shared] {
            if !self.get(key, log)?.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `modify(key, ADD)` (`add == true`) or `modify(key, REMOVE)`.
    pub(crate) fn modify(
        &self,
        key: Key,
        add: bool,
        log: &mut Vec<LogRecord>,
    ) -> Result<(), LockError> {
        let mut data = self.load(log)?;
        let mut elements = entries_of(&data, key);
        let me = Entry::of(&self.id);
        if add {
            set_add(&mut elements, me);
        } else {
            elements.retain(|e| !e.same(&me));
        }
        let list = Value::Array(elements.iter().map(Entry::to_value).collect());
        match data.iter_mut().find(|(k, _)| k == key.name()) {
            Some(slot) => slot.1 = list,
            None => data.push((key.name().to_string(), list)),
        }
        self.save(data)
    }
}

/// The entries of a list of a *loaded* roster (already validated by `load`).
fn entries_of(data: &[(String, Value)], key: Key) -> Vec<Entry> {
    let mut out = Vec::new();
    if let Some((_, Value::Array(items))) = data.iter().find(|(k, _)| k == key.name()) {
        for item in items {
            if let Value::Array(t) = item {
                if let [Value::Str(host), pid, thread] = t.as_slice() {
                    if let (Some(pid_key), Some(thread_key)) = (pid.int_text(), thread.int_text()) {
                        out.push(Entry {
                            host: host.clone(),
                            pid: pid.clone(),
                            thread: thread.clone(),
                            pid_key,
                            thread_key,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Delete a roster file; a missing one is fine.
pub(crate) fn remove_roster(path: &Path) -> Result<(), LockError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(source) => Err(LockError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
