//! `import-tar`: the members of a tar stream as items (borg 1.4's
//! `TarfileObjectProcessors`), fed to the create pipeline through
//! [`EntrySource`].

use std::io::Read;
use std::sync::{Arc, Mutex};

use crossbeam_channel::{bounded, Receiver, Sender};
use oxiborg_format::Item;
use oxiborg_tar::{EntryKind, TarError, TarReader};

use crate::create::{Entry, EntrySource};
use crate::error::{CoreError, Result};

const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
const S_IFBLK: u32 = 0o060000;
const S_IFCHR: u32 = 0o020000;
const S_IFIFO: u32 = 0o010000;

type SharedReader = Arc<Mutex<TarReader<Box<dyn Read + Send>>>>;

/// The objects of a tar stream, for [`crate::create_entries`].
pub struct TarEntries {
    reader: SharedReader,
    /// Signalled when the last file's content reader is dropped.
    done: Option<Receiver<()>>,
    /// A tar error met while a file's content was read.
    fatal: Arc<Mutex<Option<TarError>>>,
}

impl std::fmt::Debug for TarEntries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TarEntries").finish_non_exhaustive()
    }
}

impl TarEntries {
    /// Read members from `input` (already decompressed); `ignore_zeros` is
    /// `--ignore-zeros`.
    pub fn new(input: Box<dyn Read + Send>, ignore_zeros: bool) -> Self {
        TarEntries {
            reader: Arc::new(Mutex::new(TarReader::new(input, ignore_zeros))),
            done: None,
            fatal: Arc::new(Mutex::new(None)),
        }
    }

    fn take_fatal(&self) -> Option<TarError> {
        self.fatal.lock().expect("tar error slot").take()
    }
}

/// A file's content, read from the shared tar stream.
struct Content {
    reader: SharedReader,
    done: Option<Sender<()>>,
    fatal: Arc<Mutex<Option<TarError>>>,
}

impl Read for Content {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let r = self.reader.lock().expect("tar reader").read_content(buf);
        match r {
            Ok(n) => Ok(n),
            Err(e) => {
                // Fatal for the whole import (Python's ReadError is not an
                // OSError): end this file here; `next_entry` reports it.
                *self.fatal.lock().expect("tar error slot") = Some(e);
                Ok(0)
            }
        }
    }
}

impl Drop for Content {
    fn drop(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
    }
}

/// borg's `make_path_safe`: `re.sub(r'^((\.\.)?/+)+', '', path) or '.'`.
fn make_path_safe(p: &[u8]) -> Vec<u8> {
    let mut s = p;
    loop {
        let rest = s.strip_prefix(b"..").unwrap_or(s);
        let slashes = rest.iter().take_while(|&&c| c == b'/').count();
        if slashes == 0 {
            break;
        }
        s = &rest[slashes..];
    }
    if s.is_empty() {
        b".".to_vec()
    } else {
        s.to_vec()
    }
}

/// glibc's `makedev`.
fn makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}

/// Python's `repr` of the one-byte type flag (`b'V'`).
fn bytes_repr(b: u8) -> String {
    match b {
        b'\\' => "b'\\\\'".into(),
        b'\'' => "b\"'\"".into(),
        b'\t' => "b'\\t'".into(),
        b'\n' => "b'\\n'".into(),
        b'\r' => "b'\\r'".into(),
        0x20..=0x7e => format!("b'{}'", b as char),
        _ => format!("b'\\x{b:02x}'"),
    }
}

fn invalid(what: &str) -> CoreError {
    CoreError::Tar(TarError::InvalidHeader(match what {
        "mode" => "invalid mode",
        "id" => "invalid id",
        _ => "invalid device number",
    }))
}

impl EntrySource for TarEntries {
    fn next_entry(&mut self) -> Result<Option<Entry>> {
        if let Some(done) = self.done.take() {
            let _ = done.recv();
        }
        if let Some(e) = self.take_fatal() {
            return Err(e.into());
        }
        let mut reader = self.reader.lock().expect("tar reader");
        let Some(t) = reader.next_entry()? else {
            return Ok(None);
        };
        drop(reader);
        let (typebits, status) = match t.kind() {
            EntryKind::Regular => (S_IFREG, 'A'),
            EntryKind::Directory => (S_IFDIR, 'd'),
            EntryKind::Symlink => (S_IFLNK, 's'),
            EntryKind::Hardlink => (S_IFREG, 'h'),
            EntryKind::Block => (S_IFBLK, 'b'),
            EntryKind::Char => (S_IFCHR, 'c'),
            EntryKind::Fifo => (S_IFIFO, 'f'),
            EntryKind::Other(flag) => {
                return Ok(Some(Entry::Unsupported {
                    display: t.name.clone(),
                    message: format!("Unsupported tarinfo type {}", bytes_repr(flag)),
                }))
            }
        };
        let path = make_path_safe(&crate::create::normpath(&t.name));
        let mtime = t
            .mtime
            .nanoseconds()
            .ok_or(CoreError::Tar(TarError::InvalidHeader("invalid mtime")))?
            .clamp(0, i128::from(oxiborg_fsmeta::MAX_NS));
        let mut item = Item::new(path, mtime);
        let mode = u32::try_from(t.mode).map_err(|_| invalid("mode"))?;
        item.mode = Some(mode | typebits);
        item.uid = Some(i64::try_from(t.uid).map_err(|_| invalid("id"))?);
        item.gid = Some(i64::try_from(t.gid).map_err(|_| invalid("id"))?);
        item.user = Some((!t.uname.is_empty()).then(|| t.uname.clone()));
        item.group = Some((!t.gname.is_empty()).then(|| t.gname.clone()));
        match t.kind() {
            EntryKind::Regular => {
                let (tx, rx) = bounded(1);
                self.done = Some(rx);
                let display = item.path.clone();
                return Ok(Some(Entry::File {
                    item,
                    status,
                    display,
                    content: Box::new(Content {
                        reader: self.reader.clone(),
                        done: Some(tx),
                        fatal: self.fatal.clone(),
                    }),
                }));
            }
            EntryKind::Symlink | EntryKind::Hardlink => item.source = Some(t.linkname.clone()),
            EntryKind::Block | EntryKind::Char => {
                let major = u64::try_from(t.devmajor).map_err(|_| invalid("dev"))?;
                let minor = u64::try_from(t.devminor).map_err(|_| invalid("dev"))?;
                item.rdev = Some(makedev(major, minor));
            }
            _ => {}
        }
        Ok(Some(Entry::Item {
            item,
            status,
            display: t.name,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_safe_like_borg() {
        assert_eq!(make_path_safe(b"/a/b"), b"a/b");
        assert_eq!(make_path_safe(b"../../x"), b"x");
        assert_eq!(make_path_safe(b".."), b"..");
        assert_eq!(make_path_safe(b"//"), b".");
        assert_eq!(make_path_safe(b"."), b".");
    }

    #[test]
    fn devices() {
        assert_eq!(makedev(8, 1), 0x801);
        assert_eq!(makedev(1, 3), 0x103);
        assert_eq!(bytes_repr(b'V'), "b'V'");
    }
}
