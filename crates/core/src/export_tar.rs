//! `export-tar`: write an archive's items as a GNU tar stream, as borg
//! 1.4's `do_export_tar` does with Python's `tarfile`.
//!
//! Same threads as `extract`: the item reader selects items and turns them
//! into tar headers, the fetcher and decoder get the selected files'
//! chunks, the caller's thread writes the stream in archive order. Only the
//! chunks in flight are in memory.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crossbeam_channel::{bounded, Receiver};
use oxiborg_crypto::Key;
use oxiborg_format::{ChunkListEntry, Item};
use oxiborg_patterns::PatternMatcher;
use oxiborg_tar::{Header, HeaderKind, TarWriter};

use crate::archives::LoadedArchive;
use crate::error::{CoreError, Result};
use crate::extract::{fetcher, stream_items, Decoder, Plain, RawBatch};
use crate::session::SharedRepository;

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
const S_IFBLK: u32 = 0o060000;
const S_IFCHR: u32 = 0o020000;
const S_IFIFO: u32 = 0o010000;

/// What `export_tar` reports. Implemented by the CLI.
pub trait ExportObserver: Send + Sync {
    /// An item about to be written (`--list`), by its path in the archive
    /// (before `--strip-components`).
    fn item(&self, _path: &[u8]) {}
    /// A warning (rc 1).
    fn warning(&self, msg: &str);
    /// With [`ExportOptions::progress`]: the total size is being
    /// calculated (a first pass over the items, as in borg).
    fn progress_calculating(&self) {}
    /// The selected items' total size (borg's `get_size` sum).
    fn progress_total(&self, _total: u64) {}
    /// `bytes` more of `path`'s content were written.
    fn progress(&self, _bytes: u64, _path: &[u8]) {}
    /// The end of the progress display.
    fn progress_finish(&self) {}
}

/// `export_tar`'s options.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// `--strip-components`.
    pub strip_components: usize,
    /// Decrypt threads.
    pub threads: usize,
    /// `--progress`.
    pub progress: bool,
}

/// One member to write, or a warning, in archive order.
enum Work {
    Member {
        header: Header,
        /// The path in the archive (for `--list`).
        orig: Vec<u8>,
        /// The chunks of the content (fetched in order), if any.
        content: Option<usize>,
    },
    Warning(String),
}

/// Python's `os.sep.join(path.split(os.sep)[n:])`.
fn strip(path: &[u8], n: usize) -> Vec<u8> {
    if n == 0 {
        return path.to_vec();
    }
    let parts: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    parts.get(n..).map(|p| p.join(&b'/')).unwrap_or_default()
}

/// glibc's `major()`.
fn major(dev: u64) -> u64 {
    ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)
}

/// glibc's `minor()`.
fn minor(dev: u64) -> u64 {
    (dev & 0xff) | ((dev >> 12) & !0xff)
}

/// borg's `remove_surrogates`: each byte that is not UTF-8 becomes `?`.
fn remove_surrogates(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    out
}

fn hardlinkable(mode: u32) -> bool {
    matches!(mode & S_IFMT, S_IFREG | S_IFBLK | S_IFCHR | S_IFIFO)
}

fn chunks_size(chunks: &[ChunkListEntry]) -> u64 {
    chunks.iter().map(|c| c.size).sum()
}

/// borg's `Item.get_size(hardlink_masters)`.
fn get_size(item: &Item, masters: Option<&Masters>) -> u64 {
    if let Some(s) = item.size {
        return s;
    }
    let mode = item.mode.unwrap_or(0);
    if mode & S_IFMT == S_IFLNK {
        return item.source.as_ref().map_or(0, |s| s.len() as u64);
    }
    if let Some(c) = &item.chunks {
        return chunks_size(c);
    }
    match (masters, &item.source) {
        (Some(m), Some(src)) => m
            .get(src)
            .and_then(|(c, _)| c.as_ref())
            .map_or(0, |c| chunks_size(c)),
        _ => 0,
    }
}

/// borg's `hardlink_masters`: path in the archive -> (chunks of a master
/// that was not selected, path in the tar of the member holding them).
type Masters = HashMap<Vec<u8>, (Option<Vec<ChunkListEntry>>, Option<Vec<u8>>)>;

/// The item selection of borg's `_export_tar` (`build_filter`,
/// `peek_and_store_hardlink_masters`, `item_to_tarinfo`).
struct Selector<'m> {
    matcher: &'m mut PatternMatcher,
    strip_components: usize,
    masters: Option<Masters>,
}

impl Selector<'_> {
    fn new(matcher: &mut PatternMatcher, strip_components: usize) -> Selector<'_> {
        let partial = !matcher.empty() || strip_components > 0;
        Selector {
            matcher,
            strip_components,
            masters: partial.then(HashMap::new),
        }
    }

    /// The filter: whether `item` is selected; unselected hardlink masters
    /// are remembered for their slaves.
    fn filter(&mut self, item: &Item) -> bool {
        if item.part.is_some() {
            return false;
        }
        let mut matched = self.matcher.matches(&item.path);
        if matched && self.strip_components > 0 {
            matched = !strip(&item.path, self.strip_components).is_empty();
        }
        if let Some(m) = self.masters.as_mut() {
            let mode = item.mode.unwrap_or(0);
            if !matched
                && hardlinkable(mode)
                && item.hardlink_master.unwrap_or(true)
                && item.source.is_none()
            {
                m.insert(item.path.clone(), (item.chunks.clone(), None));
            }
        }
        matched
    }

    /// borg's `item_to_tarinfo`: the header and the content chunks, or a
    /// warning for a type tar cannot hold.
    fn member(&mut self, mut item: Item) -> (Work, Option<Vec<ChunkListEntry>>) {
        let orig = item.path.clone();
        if self.strip_components > 0 {
            item.path = strip(&orig, self.strip_components);
        }
        let mode = item.mode.unwrap_or(0);
        let mut h = Header::new(item.path.clone(), HeaderKind::Regular);
        // Python: `item.mtime / 1e9` (the int becomes a float first), then
        // `int()` in the header field.
        h.mtime = ((item.mtime as f64) / 1e9).trunc() as i64;
        h.mode = mode & 0o7777;
        h.uid = item.uid.unwrap_or(0);
        h.gid = item.gid.unwrap_or(0);
        h.uname = item.user.clone().flatten().unwrap_or_default();
        h.gname = item.group.clone().flatten().unwrap_or_default();
        let mut content = None;
        match mode & S_IFMT {
            S_IFREG => {
                if let Some(src) = item.source.clone() {
                    let source = strip(&src, self.strip_components);
                    let (chunks, linkname) = match self.masters.as_ref() {
                        None => (None, Some(source)),
                        Some(m) => match m.get(&src) {
                            Some((c, l)) => (c.clone(), l.clone()),
                            None => (None, Some(source)),
                        },
                    };
                    match (linkname.filter(|l| !l.is_empty()), chunks) {
                        (Some(l), _) => {
                            h.kind = HeaderKind::Hardlink;
                            h.linkname = l;
                        }
                        (None, Some(c)) => {
                            item.chunks = Some(c.clone());
                            h.size = get_size(&item, None);
                            content = Some(c);
                            if let Some(m) = self.masters.as_mut() {
                                m.insert(src, (None, Some(item.path.clone())));
                            }
                        }
                        (None, None) => {}
                    }
                } else {
                    h.size = get_size(&item, None);
                    content = Some(item.chunks.clone().unwrap_or_default());
                }
            }
            S_IFDIR => h.kind = HeaderKind::Directory,
            S_IFLNK => {
                h.kind = HeaderKind::Symlink;
                h.linkname = item.source.clone().unwrap_or_default();
            }
            S_IFBLK | S_IFCHR => {
                h.kind = if mode & S_IFMT == S_IFBLK {
                    HeaderKind::Block
                } else {
                    HeaderKind::Char
                };
                let rdev = item.rdev.unwrap_or(0);
                h.devmajor = major(rdev) & 0xffff_ffff;
                h.devminor = minor(rdev) & 0xffff_ffff;
            }
            S_IFIFO => h.kind = HeaderKind::Fifo,
            other => {
                return (
                    Work::Warning(format!(
                        "{}: unsupported file type {other:o} for tar export",
                        remove_surrogates(&item.path)
                    )),
                    None,
                );
            }
        }
        let n = content.as_ref().map(Vec::len);
        (
            Work::Member {
                header: h,
                orig,
                content: n,
            },
            content,
        )
    }
}

/// Write `archive` as a GNU tar stream to `out` (borg's `export-tar`
/// without the filter process). Returns whether warnings were issued.
#[allow(clippy::too_many_arguments)]
pub fn export_tar(
    repo: &mut SharedRepository,
    key: &Key,
    archive: &LoadedArchive,
    matcher: &mut PatternMatcher,
    out: &mut (dyn Write + Send),
    opts: &ExportOptions,
    observer: &dyn ExportObserver,
    interrupt: &AtomicBool,
) -> Result<bool> {
    let repo_mx = Mutex::new(repo);
    let threads = opts.threads.max(1);
    let mut sel = Selector::new(matcher, opts.strip_components);
    if opts.progress {
        observer.progress_calculating();
        let mut total = 0u64;
        stream_items(&repo_mx, key, archive, |item| {
            if sel.filter(&item) {
                total += get_size(&item, sel.masters.as_ref());
            }
            Ok(!interrupt.load(Ordering::Relaxed))
        })?;
        observer.progress_total(total);
    }
    let mut warned = false;
    let (work_tx, work_rx) = bounded::<Work>(1024);
    let (fetch_tx, fetch_rx) = bounded::<Vec<ChunkListEntry>>(1024);
    let (data_tx, data_rx) = bounded::<Result<Vec<Plain>>>(1);
    std::thread::scope(|s| -> Result<()> {
        let reader = {
            let repo_mx = &repo_mx;
            let sel = &mut sel;
            s.spawn(move || {
                stream_items(repo_mx, key, archive, |item| {
                    if interrupt.load(Ordering::Relaxed) {
                        return Ok(false);
                    }
                    if !sel.filter(&item) {
                        return Ok(true);
                    }
                    let (work, content) = sel.member(item);
                    if let Some(c) = content {
                        if !c.is_empty() && fetch_tx.send(c).is_err() {
                            return Ok(false);
                        }
                    }
                    Ok(work_tx.send(work).is_ok())
                })
            })
        };
        {
            let (raw_tx, raw_rx) = bounded::<Result<RawBatch>>(1);
            let repo_mx = &repo_mx;
            s.spawn(move || fetcher(repo_mx, fetch_rx, raw_tx, interrupt));
            let decoders = threads;
            s.spawn(move || {
                let mut decoder = Decoder::new(key, decoders);
                for raw in raw_rx {
                    let decoded = raw.and_then(|raw| decoder.decode(raw));
                    let failed = decoded.is_err();
                    if data_tx.send(decoded).is_err() || failed {
                        return;
                    }
                }
            });
        }
        let mut chunks = Chunks {
            rx: data_rx,
            buffered: VecDeque::new(),
        };
        let mut tar = TarWriter::new(&mut *out);
        let mut result = Ok(());
        for work in work_rx.iter() {
            if interrupt.load(Ordering::Relaxed) {
                result = Err(CoreError::Interrupted);
                break;
            }
            let r = match work {
                Work::Warning(msg) => {
                    warned = true;
                    observer.warning(&msg);
                    Ok(())
                }
                Work::Member {
                    header,
                    orig,
                    content,
                } => {
                    observer.item(&orig);
                    write_member(&mut tar, &header, content, &mut chunks, opts, observer)
                }
            };
            if let Err(e) = r {
                result = Err(e);
                break;
            }
        }
        drop(chunks);
        drop(work_rx);
        let read = reader.join().expect("item reader thread");
        result?;
        read?;
        tar.finish()?;
        Ok(())
    })?;
    if opts.progress {
        observer.progress_finish();
    }
    Ok(warned)
}

/// The decoded chunks of the selected files, in order.
struct Chunks {
    rx: Receiver<Result<Vec<Plain>>>,
    buffered: VecDeque<Plain>,
}

impl Chunks {
    fn next(&mut self) -> Result<Plain> {
        loop {
            if let Some(d) = self.buffered.pop_front() {
                return Ok(d);
            }
            match self.rx.recv() {
                Ok(Ok(batch)) => self.buffered.extend(batch),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(CoreError::Interrupted),
            }
        }
    }
}

/// A file's content as a reader over its chunks (borg's
/// `ChunkIteratorFileWrapper`).
struct ContentReader<'a> {
    chunks: &'a mut Chunks,
    left: usize,
    cur: Plain,
    off: usize,
    error: Option<CoreError>,
    opts: &'a ExportOptions,
    observer: &'a dyn ExportObserver,
    path: &'a [u8],
}

impl Read for ContentReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.off == self.cur.len() {
            if self.left == 0 {
                return Ok(0);
            }
            match self.chunks.next() {
                Ok(d) => {
                    self.cur = d;
                    self.off = 0;
                    self.left -= 1;
                }
                Err(e) => {
                    let msg = e.to_string();
                    self.error = Some(e);
                    return Err(std::io::Error::other(msg));
                }
            }
        }
        let n = buf.len().min(self.cur.len() - self.off);
        buf[..n].copy_from_slice(&self.cur[self.off..self.off + n]);
        self.off += n;
        if self.opts.progress {
            self.observer.progress(n as u64, self.path);
        }
        Ok(n)
    }
}

fn write_member(
    tar: &mut TarWriter<&mut (dyn Write + Send)>,
    header: &Header,
    content: Option<usize>,
    chunks: &mut Chunks,
    opts: &ExportOptions,
    observer: &dyn ExportObserver,
) -> Result<()> {
    let Some(n) = content else {
        tar.append(header, None)?;
        return Ok(());
    };
    let mut r = ContentReader {
        chunks,
        left: n,
        cur: Plain::default(),
        off: 0,
        error: None,
        opts,
        observer,
        path: &header.name,
    };
    let written = tar.append(header, Some(&mut r));
    if let Some(e) = r.error.take() {
        return Err(e);
    }
    written?;
    // Chunks past the recorded size are not written, but consumed.
    for _ in 0..r.left {
        r.chunks.next()?;
    }
    Ok(())
}
