//! `extract`: restore an archive's items below a destination directory.
//!
//! Three threads: the item reader streams and filters the archive's items;
//! the fetcher gets the selected files' chunks in batches (`get_many`) and
//! decrypts and decompresses each batch on every core; the caller's thread
//! writes files and metadata in archive order. Directory metadata is set at
//! the end, deepest first, so writing into a directory does not disturb its
//! restored mtime.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crossbeam_channel::{bounded, Receiver, Sender};
use oxiborg_crypto::Key;
use oxiborg_format::{ChunkListEntry, Item};
use oxiborg_patterns::PatternMatcher;

use crate::archives::{get_many, open_object, LoadedArchive};
use crate::error::{CoreError, Result};
use crate::meta::{self, RestoreOptions};
use crate::session::SharedRepository;

/// Chunks per `get_many` batch.
const FETCH_BATCH: usize = 64;
/// Bytes per batch (plaintext estimate). With one batch being written, one
/// queued and one being fetched, about three of these are in memory.
const FETCH_BYTES: u64 = 8 * 1024 * 1024;

/// What `extract` reports. Implemented by the CLI.
pub trait ExtractObserver: Send + Sync {
    /// An item about to be extracted (`--list`).
    fn item(&self, _item: &Item) {}
    /// A warning (rc 1).
    fn warning(&self, msg: &str);
}

/// `extract`'s options.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Metadata restore options.
    pub restore: RestoreOptions,
    /// `--sparse`.
    pub sparse: bool,
    /// `--strip-components`.
    pub strip_components: usize,
    /// `--dry-run`: read and verify everything, write nothing.
    pub dry_run: bool,
    /// `--stdout`: write the content of the selected files to this sink.
    pub stdout: bool,
    /// Decrypt threads.
    pub threads: usize,
    /// Extract part files (`--consider-part-files`).
    pub consider_part_files: bool,
}

/// Strip `n` leading components; `None` when nothing is left.
pub fn strip_components(path: &[u8], n: usize) -> Option<Vec<u8>> {
    if n == 0 {
        return Some(path.to_vec());
    }
    let parts: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    if parts.len() <= n {
        return None;
    }
    Some(parts[n..].join(&b'/'))
}

enum Work {
    Item(Item),
    /// A file whose content follows in the data stream.
    File(Item, Vec<ChunkListEntry>),
}

/// Extract `archive` into `dest` (the current directory in borg), or to
/// `sink` with `--stdout`. Returns whether warnings were issued.
#[allow(clippy::too_many_arguments)]
pub fn extract(
    repo: &mut SharedRepository,
    key: &Key,
    archive: &LoadedArchive,
    matcher: &mut PatternMatcher,
    dest: &Path,
    opts: &ExtractOptions,
    observer: &dyn ExtractObserver,
    sink: Option<&mut (dyn Write + Send)>,
    interrupt: &AtomicBool,
) -> Result<bool> {
    let repo_mx = Mutex::new(repo);
    let warnings = AtomicBool::new(false);
    let (work_tx, work_rx) = bounded::<Work>(1024);
    let (fetch_tx, fetch_rx) = bounded::<Vec<ChunkListEntry>>(1024);
    let (data_tx, data_rx) = bounded::<Result<Vec<Vec<u8>>>>(1);
    let threads = opts.threads.max(1);

    std::thread::scope(|s| -> Result<bool> {
        let reader = {
            let repo_mx = &repo_mx;
            let matcher = &mut *matcher;
            s.spawn(move || {
                read_items(
                    repo_mx, key, archive, matcher, opts, work_tx, fetch_tx, interrupt,
                )
            })
        };
        {
            let repo_mx = &repo_mx;
            s.spawn(move || fetcher(repo_mx, key, fetch_rx, data_tx, threads, interrupt));
        }
        let mut w = Writer {
            dest,
            opts,
            observer,
            warnings: &warnings,
            data: data_rx,
            buffered: std::collections::VecDeque::new(),
            dirs: Vec::new(),
            sink,
        };
        let mut result = Ok(());
        for work in work_rx.iter() {
            if interrupt.load(Ordering::Relaxed) {
                result = Err(CoreError::Interrupted);
                break;
            }
            if let Err(e) = w.handle(work) {
                result = Err(e);
                break;
            }
        }
        let dirs = std::mem::take(&mut w.dirs);
        drop(w);
        drop(work_rx);
        let read = reader.join().expect("item reader thread");
        result?;
        read?;
        if !opts.dry_run && !opts.stdout {
            for (path, item) in dirs.iter().rev() {
                for warn in meta::restore_attrs(path, item, &opts.restore) {
                    warnings.store(true, Ordering::SeqCst);
                    observer.warning(&warn);
                }
            }
        }
        Ok(warnings.load(Ordering::SeqCst))
    })
}

#[allow(clippy::too_many_arguments)]
fn read_items(
    repo_mx: &Mutex<&mut SharedRepository>,
    key: &Key,
    archive: &LoadedArchive,
    matcher: &mut PatternMatcher,
    opts: &ExtractOptions,
    work: Sender<Work>,
    fetch: Sender<Vec<ChunkListEntry>>,
    interrupt: &AtomicBool,
) -> Result<()> {
    // Hardlink masters that were not selected lend their chunks to the
    // first selected slave (borg's `hardlink_masters`); `extracted` maps a
    // master's stored path to where its content was written, relative to
    // the destination.
    let mut unselected: HashMap<Vec<u8>, Vec<ChunkListEntry>> = HashMap::new();
    let mut extracted: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let mut handle = |mut item: Item| -> Result<bool> {
        if interrupt.load(Ordering::Relaxed) {
            return Ok(false);
        }
        if item.part.is_some() && !opts.consider_part_files {
            return Ok(true);
        }
        let hardlinkable_master = item.source.is_none()
            && item.hardlink_master.unwrap_or(true)
            && (item.is_reg() || item.is_fifo() || item.is_blk() || item.is_chr());
        let has_content = item.is_reg() && item.source.is_none();
        if !matcher.matches(&item.path) {
            if hardlinkable_master && item.is_reg() {
                if let Some(c) = &item.chunks {
                    unselected.insert(item.path.clone(), c.clone());
                }
            }
            return Ok(true);
        }
        let orig = item.path.clone();
        match strip_components(&item.path, opts.strip_components) {
            Some(p) => item.path = p,
            None => return Ok(true),
        }
        let mut content = None;
        if has_content {
            content = Some(item.chunks.clone().unwrap_or_default());
        }
        if hardlinkable_master {
            extracted.insert(orig.clone(), item.path.clone());
        } else if let Some(src) = item.source.clone().filter(|_| !item.is_link()) {
            if let Some(target) = extracted.get(&src) {
                item.source = Some(target.clone());
            } else if let Some(c) = unselected.remove(&src) {
                // This slave becomes the master for the ones after it.
                item.source = None;
                extracted.insert(src, item.path.clone());
                content = Some(c);
            }
        }
        if let Some(c) = content {
            if fetch.send(c.clone()).is_err() {
                return Ok(false);
            }
            return Ok(work.send(Work::File(item, c)).is_ok());
        }
        Ok(work.send(Work::Item(item)).is_ok())
    };
    let mut reader = oxiborg_format::ItemStreamReader::new();
    for batch in archive.meta.items.chunks(32) {
        let envelopes = {
            let mut guard = repo_mx.lock().expect("repository lock");
            get_many(guard.as_mut(), batch)?
        };
        for (id, env) in batch.iter().zip(envelopes) {
            let plain = open_object(key, id, &env)?;
            reader.feed(&plain);
            while let Some(item) = reader.next_item()? {
                if !handle(item)? {
                    return Ok(());
                }
            }
        }
    }
    reader.finish()?;
    Ok(())
}

fn fetcher(
    repo_mx: &Mutex<&mut SharedRepository>,
    key: &Key,
    rx: Receiver<Vec<ChunkListEntry>>,
    tx: Sender<Result<Vec<Vec<u8>>>>,
    threads: usize,
    interrupt: &AtomicBool,
) {
    let mut batch: Vec<ChunkListEntry> = Vec::new();
    let mut bytes = 0u64;
    let send_batch = |batch: &mut Vec<ChunkListEntry>| -> bool {
        if batch.is_empty() {
            return true;
        }
        let ids: Vec<[u8; 32]> = batch.iter().map(|c| c.id).collect();
        let envelopes = {
            let mut guard = repo_mx.lock().expect("repository lock");
            get_many(guard.as_mut(), &ids)
        };
        let result = envelopes.and_then(|envs| decode_parallel(key, &ids, envs, threads));
        batch.clear();
        let failed = result.is_err();
        tx.send(result).is_ok() && !failed
    };
    loop {
        if interrupt.load(Ordering::Relaxed) {
            return;
        }
        // Take what is queued without waiting; when the queue is empty,
        // flush the batch so the writer is never starved.
        match rx.try_recv() {
            Ok(chunks) => {
                for c in chunks {
                    bytes += c.size;
                    batch.push(c);
                    if batch.len() >= FETCH_BATCH || bytes >= FETCH_BYTES {
                        if !send_batch(&mut batch) {
                            return;
                        }
                        bytes = 0;
                    }
                }
            }
            Err(crossbeam_channel::TryRecvError::Empty) => {
                if !send_batch(&mut batch) {
                    return;
                }
                bytes = 0;
                match rx.recv() {
                    Ok(chunks) => {
                        for c in chunks {
                            bytes += c.size;
                            batch.push(c);
                        }
                    }
                    Err(_) => {
                        let _ = send_batch(&mut batch);
                        return;
                    }
                }
            }
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                let _ = send_batch(&mut batch);
                return;
            }
        }
    }
}

/// Decrypt, decompress and id-check a batch on `threads` threads.
pub fn decode_parallel(
    key: &Key,
    ids: &[[u8; 32]],
    envelopes: Vec<Vec<u8>>,
    threads: usize,
) -> Result<Vec<Vec<u8>>> {
    if threads <= 1 || envelopes.len() < 2 {
        return ids
            .iter()
            .zip(envelopes.iter())
            .map(|(id, e)| open_object(key, id, e))
            .collect();
    }
    let per = envelopes.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(per)
            .zip(envelopes.chunks(per))
            .map(|(ids, envs)| {
                s.spawn(move || {
                    ids.iter()
                        .zip(envs.iter())
                        .map(|(id, e)| open_object(key, id, e))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(envelopes.len());
        for h in handles {
            out.extend(h.join().expect("decode thread")?);
        }
        Ok(out)
    })
}

struct Writer<'a, 'w> {
    dest: &'a Path,
    opts: &'a ExtractOptions,
    observer: &'a dyn ExtractObserver,
    warnings: &'a AtomicBool,
    data: Receiver<Result<Vec<Vec<u8>>>>,
    buffered: std::collections::VecDeque<Vec<u8>>,
    dirs: Vec<(PathBuf, Item)>,
    sink: Option<&'w mut (dyn Write + Send)>,
}

impl Writer<'_, '_> {
    fn warn(&self, msg: &str) {
        self.warnings.store(true, Ordering::SeqCst);
        self.observer.warning(msg);
    }

    fn next_chunk(&mut self) -> Result<Vec<u8>> {
        loop {
            if let Some(d) = self.buffered.pop_front() {
                return Ok(d);
            }
            match self.data.recv() {
                Ok(Ok(batch)) => self.buffered.extend(batch),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(CoreError::Interrupted),
            }
        }
    }

    fn target(&self, item: &Item) -> PathBuf {
        self.dest.join(OsStr::from_bytes(&item.path))
    }

    fn handle(&mut self, work: Work) -> Result<()> {
        match work {
            Work::File(item, chunks) => {
                self.observer.item(&item);
                if self.opts.stdout {
                    for _ in 0..chunks.len() {
                        let d = self.next_chunk()?;
                        if let Some(s) = self.sink.as_mut() {
                            s.write_all(&d).map_err(|e| CoreError::io("<stdout>", e))?;
                        }
                    }
                    return Ok(());
                }
                if self.opts.dry_run {
                    for _ in 0..chunks.len() {
                        self.next_chunk()?;
                    }
                    return Ok(());
                }
                let path = self.target(&item);
                self.prepare(&path, false);
                let result = self.write_file(&path, &chunks);
                match result {
                    Ok(()) => {
                        for w in meta::restore_attrs(&path, &item, &self.opts.restore) {
                            self.warn(&w);
                        }
                    }
                    Err(FileError::Local(msg)) => {
                        self.warn(&format!("{}: {msg}", String::from_utf8_lossy(&item.path)));
                    }
                    Err(FileError::Fatal(e)) => return Err(e),
                }
                Ok(())
            }
            Work::Item(item) => {
                self.observer.item(&item);
                if self.opts.dry_run || self.opts.stdout {
                    return Ok(());
                }
                let path = self.target(&item);
                if let Err(msg) = self.make_item(&path, &item) {
                    self.warn(&format!("{}: {msg}", String::from_utf8_lossy(&item.path)));
                }
                Ok(())
            }
        }
    }

    /// Make the parent directory and remove what is in the way.
    fn prepare(&self, path: &Path, is_dir: bool) {
        if let Some(parent) = path.parent() {
            if !parent.exists() {
                let _ = fs::create_dir_all(parent);
            }
        }
        if let Ok(st) = fs::symlink_metadata(path) {
            if st.is_dir() && !is_dir {
                let _ = fs::remove_dir(path);
            } else if !st.is_dir() {
                let _ = fs::remove_file(path);
            }
        }
    }

    fn write_file(
        &mut self,
        path: &Path,
        chunks: &[ChunkListEntry],
    ) -> std::result::Result<(), FileError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        let mut file: Option<File> = match file {
            Ok(f) => Some(f),
            Err(e) => {
                // Consume the file's data so the stream stays aligned.
                for _ in 0..chunks.len() {
                    self.next_chunk().map_err(FileError::Fatal)?;
                }
                return Err(FileError::Local(e.to_string()));
            }
        };
        let mut local_err = None;
        let mut len = 0u64;
        let mut hole = false;
        for _ in chunks {
            let d = self.next_chunk().map_err(FileError::Fatal)?;
            len += d.len() as u64;
            let Some(f) = file.as_mut() else { continue };
            let r = if self.opts.sparse && oxiborg_chunker::is_all_zero(&d) {
                hole = true;
                f.seek(SeekFrom::Current(d.len() as i64)).map(|_| ())
            } else {
                f.write_all(&d)
            };
            if let Err(e) = r {
                local_err = Some(e.to_string());
                file = None;
            }
        }
        if let Some(e) = local_err {
            return Err(FileError::Local(e));
        }
        if let Some(f) = file {
            if hole {
                f.set_len(len)
                    .map_err(|e| FileError::Local(e.to_string()))?;
            }
        }
        Ok(())
    }

    fn make_item(&mut self, path: &Path, item: &Item) -> std::result::Result<(), String> {
        if item.is_dir() {
            self.prepare(path, true);
            match fs::create_dir(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.to_string()),
            }
            self.dirs.push((path.to_path_buf(), item.clone()));
            return Ok(());
        }
        self.prepare(path, false);
        if let Some(src) = &item.source {
            if !item.is_link() {
                // A hardlink slave: link to the extracted master.
                let target = self.dest.join(OsStr::from_bytes(src));
                fs::hard_link(&target, path).map_err(|e| e.to_string())?;
                return Ok(());
            }
            std::os::unix::fs::symlink(OsStr::from_bytes(src), path).map_err(|e| e.to_string())?;
        } else if item.is_reg() {
            // A regular file without chunks (old archives): empty.
            File::create(path).map_err(|e| e.to_string())?;
        } else if item.is_fifo() || item.is_blk() || item.is_chr() {
            meta::make_special(path, item).map_err(|e| e.to_string())?;
        } else {
            return Ok(());
        }
        for w in meta::restore_attrs(path, item, &self.opts.restore) {
            self.warn(&w);
        }
        Ok(())
    }
}

enum FileError {
    Local(String),
    Fatal(CoreError),
}
