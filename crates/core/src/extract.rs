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
use std::sync::Arc;
use std::sync::Mutex;

use crossbeam_channel::{bounded, Receiver, Sender};
use oxiborg_crypto::Key;
use oxiborg_format::{ChunkListEntry, Item};
use oxiborg_patterns::PatternMatcher;

use crate::archives::{get_many, open_object, open_objects_owned, LoadedArchive};
use crate::error::{CoreError, Result};
use crate::meta::{self, RestoreOptions};
use crate::session::SharedRepository;

/// Files up to this size are written by the file-writer pool; larger ones
/// stream from the writer thread.
const SMALL_FILE: u64 = 1024 * 1024;
/// Small files queued for the pool at most.
const POOL_QUEUE: usize = 4;

/// Chunks per `get_many` batch.
const FETCH_BATCH: usize = 64;
/// Bytes per batch (plaintext estimate). With one batch being written, one
/// queued and one being fetched, about three of these are in memory. Big
/// enough that each decoder hashes several objects at once
/// ([`open_objects_owned`]).
const FETCH_BYTES: u64 = 8 * 1024 * 1024;

/// What `extract` reports. Implemented by the CLI.
pub trait ExtractObserver: Send + Sync {
    /// An item about to be extracted (`--list`).
    fn item(&self, _item: &Item) {}
    /// A warning (rc 1).
    fn warning(&self, msg: &str);
    /// With [`ExtractOptions::progress`]: the selected items' total size is
    /// being calculated (a second pass over the item stream, as in borg).
    fn progress_calculating(&self) {}
    /// The total content size of the selected items.
    fn progress_total(&self, _total: u64) {}
    /// `bytes` more of `path`'s content were extracted (or verified).
    fn progress(&self, _bytes: u64, _path: &[u8]) {}
    /// All content is done; `dirs` directories get their metadata now
    /// (borg shows no progress for this phase).
    fn progress_dirs(&self, _dirs: usize) {}
    /// The end of the progress display.
    fn progress_finish(&self) {}
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
    /// `--progress`: report the total first, then progress (see
    /// [`ExtractObserver::progress`]).
    pub progress: bool,
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
    let (data_tx, data_rx) = bounded::<Result<Vec<Plain>>>(1);
    let threads = opts.threads.max(1);
    let pool = Pool::new();
    if opts.progress {
        observer.progress_calculating();
        let mut total = 0u64;
        read_items(
            &repo_mx,
            key,
            archive,
            matcher,
            opts,
            interrupt,
            |_, content| {
                total += content.iter().flatten().map(|c| c.size).sum::<u64>();
                true
            },
        )?;
        observer.progress_total(total);
    }

    std::thread::scope(|s| -> Result<bool> {
        let reader = {
            let repo_mx = &repo_mx;
            let matcher = &mut *matcher;
            s.spawn(move || {
                read_items(
                    repo_mx,
                    key,
                    archive,
                    matcher,
                    opts,
                    interrupt,
                    |work, content| {
                        if let Some(c) = content {
                            if fetch_tx.send(c).is_err() {
                                return false;
                            }
                        }
                        work_tx.send(work).is_ok()
                    },
                )
            })
        };
        {
            // The fetcher reads the next batch while the decoder decrypts
            // and decompresses the previous one on every core.
            let (raw_tx, raw_rx) = bounded::<Result<RawBatch>>(1);
            let repo_mx = &repo_mx;
            s.spawn(move || fetcher(repo_mx, fetch_rx, raw_tx, interrupt));
            // A decoder per core: decoding is most of the CPU time, and the
            // fetcher and the writer mostly wait for the kernel (measured:
            // one decoder fewer is slower on two cores).
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
        // Creating many small files is bound by the file system's create
        // path: a pool writes them (and restores their metadata) in
        // parallel, while this thread keeps the archive order for
        // directories, links and large files.
        let use_pool = !opts.dry_run && !opts.stdout && threads > 1;
        let (job_tx, job_rx) = bounded::<FileJob>(POOL_QUEUE);
        if use_pool {
            for _ in 0..threads {
                let job_rx = job_rx.clone();
                let pool = &pool;
                let warnings = &warnings;
                s.spawn(move || {
                    for job in job_rx {
                        write_small(&job, opts, observer, warnings);
                        pool.done();
                    }
                });
            }
        }
        drop(job_rx);
        let mut w = Writer {
            dest,
            opts,
            observer,
            warnings: &warnings,
            data: data_rx,
            buffered: std::collections::VecDeque::new(),
            dirs: Vec::new(),
            sink,
            pool: use_pool.then_some((&pool, job_tx)),
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
        // Close the pool's queue and wait for the files in it: directory
        // times are set after everything inside was written.
        drop(w);
        pool.wait_idle();
        drop(work_rx);
        let read = reader.join().expect("item reader thread");
        result?;
        read?;
        if !opts.dry_run && !opts.stdout {
            if opts.progress {
                observer.progress_dirs(dirs.len());
            }
            for (path, item) in dirs.iter().rev() {
                for warn in meta::restore_attrs(path, item, &opts.restore) {
                    warnings.store(true, Ordering::SeqCst);
                    observer.warning(&warn);
                }
            }
        }
        if opts.progress {
            observer.progress_finish();
        }
        Ok(warnings.load(Ordering::SeqCst))
    })
}

/// Stream the archive's items, select and prepare them (patterns, part
/// files, `--strip-components`, hardlinks), and hand each to `emit` with
/// the chunks to fetch for it; `emit` returns `false` to stop.
fn read_items(
    repo_mx: &Mutex<&mut SharedRepository>,
    key: &Key,
    archive: &LoadedArchive,
    matcher: &mut PatternMatcher,
    opts: &ExtractOptions,
    interrupt: &AtomicBool,
    mut emit: impl FnMut(Work, Option<Vec<ChunkListEntry>>) -> bool,
) -> Result<()> {
    // Hardlink masters that were not selected lend their chunks to the
    // first selected slave (borg's `hardlink_masters`); `extracted` maps a
    // master's stored path to where its content was written, relative to
    // the destination.
    let mut unselected: HashMap<Vec<u8>, Vec<ChunkListEntry>> = HashMap::new();
    let mut extracted: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let handle = |mut item: Item| -> Result<bool> {
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
            return Ok(emit(Work::File(item, c.clone()), Some(c)));
        }
        Ok(emit(Work::Item(item), None))
    };
    stream_items(repo_mx, key, archive, handle)
}

/// Stream the items of `archive` in order into `handle` (the repository
/// shared through a lock); `handle` returns `false` to stop.
pub(crate) fn stream_items(
    repo_mx: &Mutex<&mut SharedRepository>,
    key: &Key,
    archive: &LoadedArchive,
    mut handle: impl FnMut(Item) -> Result<bool>,
) -> Result<()> {
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

/// A batch as read from the repository: every id in stream order, and the
/// envelopes of the ids that [`Reuse`] says to fetch, in first-occurrence
/// order.
pub(crate) type RawBatch = (Vec<[u8; 32]>, Vec<Vec<u8>>);

/// A decoded chunk, shared by every place in the stream that repeats it.
pub(crate) type Plain = Arc<Vec<u8>>;

/// Which ids of a batch need fetching and decoding. An id already seen in
/// the batch, or equal to the previous batch's last id, is taken from
/// there: runs of one chunk (the zero chunks of a disk image, duplicated
/// files) are read and decoded once instead of once per occurrence. The
/// fetcher and the decoder apply the same rule to the same ids.
#[derive(Debug, Default)]
pub(crate) struct Reuse {
    last: Option<[u8; 32]>,
}

/// Where an id's plaintext comes from.
enum Source {
    /// The n-th fetched envelope of the batch.
    Fetched(usize),
    /// The previous batch's last chunk.
    Last,
}

impl Reuse {
    /// The plan for `ids` and the ids to fetch; remembers the batch's last id.
    fn plan(&mut self, ids: &[[u8; 32]]) -> (Vec<Source>, Vec<[u8; 32]>) {
        let mut seen: HashMap<[u8; 32], usize> = HashMap::new();
        let mut fetch = Vec::new();
        let plan = ids
            .iter()
            .map(|id| {
                if let Some(&k) = seen.get(id) {
                    Source::Fetched(k)
                } else if self.last == Some(*id) {
                    Source::Last
                } else {
                    seen.insert(*id, fetch.len());
                    fetch.push(*id);
                    Source::Fetched(fetch.len() - 1)
                }
            })
            .collect();
        if let Some(id) = ids.last() {
            self.last = Some(*id);
        }
        (plan, fetch)
    }
}

/// The decoder's side of [`Reuse`]: decode what was fetched (on `threads`
/// threads) and lay the plaintexts out in stream order.
pub(crate) struct Decoder<'k> {
    key: &'k Key,
    threads: usize,
    reuse: Reuse,
    last: Option<Plain>,
}

impl<'k> Decoder<'k> {
    pub(crate) fn new(key: &'k Key, threads: usize) -> Self {
        Decoder {
            key,
            threads,
            reuse: Reuse::default(),
            last: None,
        }
    }

    pub(crate) fn decode(&mut self, (ids, envelopes): RawBatch) -> Result<Vec<Plain>> {
        let (plan, fetch) = self.reuse.plan(&ids);
        if fetch.len() != envelopes.len() {
            return Err(CoreError::InvalidInput(format!(
                "fetched {} objects for {} ids",
                envelopes.len(),
                fetch.len()
            )));
        }
        let plains: Vec<Plain> = decode_parallel(self.key, &fetch, envelopes, self.threads)?
            .into_iter()
            .map(Arc::new)
            .collect();
        let mut out = Vec::with_capacity(plan.len());
        for src in plan {
            let plain = match src {
                Source::Fetched(k) => plains.get(k).cloned(),
                Source::Last => self.last.clone(),
            };
            out.push(plain.ok_or_else(|| {
                CoreError::InvalidInput("a repeated chunk was not decoded".into())
            })?);
        }
        self.last = out.last().cloned();
        Ok(out)
    }
}

pub(crate) fn fetcher(
    repo_mx: &Mutex<&mut SharedRepository>,
    rx: Receiver<Vec<ChunkListEntry>>,
    tx: Sender<Result<RawBatch>>,
    interrupt: &AtomicBool,
) {
    let mut batch: Vec<ChunkListEntry> = Vec::new();
    let mut bytes = 0u64;
    let mut reuse = Reuse::default();
    let mut send_batch = |batch: &mut Vec<ChunkListEntry>| -> bool {
        if batch.is_empty() {
            return true;
        }
        let ids: Vec<[u8; 32]> = batch.iter().map(|c| c.id).collect();
        let (_, fetch) = reuse.plan(&ids);
        let envelopes = {
            let mut guard = repo_mx.lock().expect("repository lock");
            get_many(guard.as_mut(), &fetch)
        };
        let result = envelopes.map(|envs| (ids, envs));
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
        return open_objects_owned(key, ids, envelopes);
    }
    let per = envelopes.len().div_ceil(threads);
    let mut parts: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut rest = envelopes;
    while rest.len() > per {
        let tail = rest.split_off(per);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(per)
            .zip(parts)
            .map(|(ids, envs)| s.spawn(move || open_objects_owned(key, ids, envs)))
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for h in handles {
            out.extend(h.join().expect("decode thread")?);
        }
        Ok(out)
    })
}

/// A small file for the pool: its content is complete.
struct FileJob {
    path: PathBuf,
    item: Item,
    data: Vec<Plain>,
}

/// Counts the files handed to the pool that are not written yet.
struct Pool {
    pending: Mutex<usize>,
    cv: std::sync::Condvar,
}

impl Pool {
    fn new() -> Self {
        Pool {
            pending: Mutex::new(0),
            cv: std::sync::Condvar::new(),
        }
    }

    fn add(&self) {
        *self.pending.lock().expect("pool") += 1;
    }

    fn done(&self) {
        let mut p = self.pending.lock().expect("pool");
        *p -= 1;
        if *p == 0 {
            self.cv.notify_all();
        }
    }

    /// Wait until every file handed to the pool is written.
    fn wait_idle(&self) {
        let mut p = self.pending.lock().expect("pool");
        while *p > 0 {
            p = self.cv.wait(p).expect("pool");
        }
    }
}

/// Write a pool file and restore its metadata; problems are warnings.
fn write_small(
    job: &FileJob,
    opts: &ExtractOptions,
    observer: &dyn ExtractObserver,
    warnings: &AtomicBool,
) {
    let warn = |msg: String| {
        warnings.store(true, Ordering::SeqCst);
        observer.warning(&msg);
    };
    let result = create_file(&job.path).and_then(|mut f| {
        let mut len = 0u64;
        let mut hole = false;
        for d in &job.data {
            len += d.len() as u64;
            if opts.sparse && oxiborg_chunker::is_all_zero(d) {
                hole = true;
                f.seek(SeekFrom::Current(d.len() as i64))?;
            } else {
                f.write_all(d)?;
            }
        }
        if hole {
            f.set_len(len)?;
        }
        Ok(())
    });
    match result {
        Ok(()) => {
            for w in meta::restore_attrs(&job.path, &job.item, &opts.restore) {
                warn(w);
            }
        }
        Err(e) => warn(format!("{}: {e}", String::from_utf8_lossy(&job.item.path))),
    }
}

/// Create `path` as a new, empty file: what is in the way is removed
/// first, missing parents are made (fewer system calls than checking
/// first, as most paths are new).
fn create_file(path: &Path) -> std::io::Result<File> {
    let open = || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
    };
    match open() {
        Ok(f) => return Ok(f),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if fs::symlink_metadata(path).is_ok_and(|st| st.is_dir()) {
                let _ = fs::remove_dir(path);
            } else {
                let _ = fs::remove_file(path);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                let _ = fs::create_dir_all(parent);
            }
        }
        Err(e) => return Err(e),
    }
    open()
}

struct Writer<'a, 'w> {
    dest: &'a Path,
    opts: &'a ExtractOptions,
    observer: &'a dyn ExtractObserver,
    warnings: &'a AtomicBool,
    data: Receiver<Result<Vec<Plain>>>,
    buffered: std::collections::VecDeque<Plain>,
    dirs: Vec<(PathBuf, Item)>,
    sink: Option<&'w mut (dyn Write + Send)>,
    /// The small-file pool and its queue (not for `--dry-run`/`--stdout`).
    pool: Option<(&'a Pool, Sender<FileJob>)>,
}

impl Writer<'_, '_> {
    fn warn(&self, msg: &str) {
        self.warnings.store(true, Ordering::SeqCst);
        self.observer.warning(msg);
    }

    fn next_chunk(&mut self) -> Result<Plain> {
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
                        self.progress(d.len(), &item.path);
                        if let Some(s) = self.sink.as_mut() {
                            s.write_all(&d).map_err(|e| CoreError::io("<stdout>", e))?;
                        }
                    }
                    return Ok(());
                }
                if self.opts.dry_run {
                    for _ in 0..chunks.len() {
                        let d = self.next_chunk()?;
                        self.progress(d.len(), &item.path);
                    }
                    return Ok(());
                }
                let path = self.target(&item);
                let size: u64 = chunks.iter().map(|c| c.size).sum();
                if size <= SMALL_FILE && self.pool.is_some() {
                    let mut data = Vec::with_capacity(chunks.len());
                    for _ in 0..chunks.len() {
                        let d = self.next_chunk()?;
                        self.progress(d.len(), &item.path);
                        data.push(d);
                    }
                    let (pool, tx) = self.pool.as_ref().expect("pool");
                    pool.add();
                    if tx.send(FileJob { path, item, data }).is_err() {
                        pool.done();
                        return Err(CoreError::Interrupted);
                    }
                    return Ok(());
                }
                let result = self.write_file(&path, &chunks, &item.path);
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

    fn progress(&self, bytes: usize, path: &[u8]) {
        if self.opts.progress {
            self.observer.progress(bytes as u64, path);
        }
    }

    fn write_file(
        &mut self,
        path: &Path,
        chunks: &[ChunkListEntry],
        shown: &[u8],
    ) -> std::result::Result<(), FileError> {
        let mut file: Option<File> = match create_file(path) {
            Ok(f) => Some(f),
            Err(e) => {
                // Consume the file's data so the stream stays aligned.
                for _ in 0..chunks.len() {
                    let d = self.next_chunk().map_err(FileError::Fatal)?;
                    self.progress(d.len(), shown);
                }
                return Err(FileError::Local(e.to_string()));
            }
        };
        let mut local_err = None;
        let mut len = 0u64;
        let mut hole = false;
        for _ in chunks {
            let d = self.next_chunk().map_err(FileError::Fatal)?;
            self.progress(d.len(), shown);
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
                // A hardlink slave: link to the extracted master, which
                // the pool may still be writing.
                if let Some((pool, _)) = &self.pool {
                    pool.wait_idle();
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use oxiborg_crypto::KeyType;

    /// Repeated ids are fetched and decoded once, in a batch and across
    /// batches, and every occurrence gets the right plaintext.
    #[test]
    fn repeated_chunks_are_fetched_once() {
        let key = Key::generate(KeyType::Blake2Repokey, [5u8; 32]).unwrap();
        let plains: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 1000 + usize::from(i)]).collect();
        let ids: Vec<[u8; 32]> = plains.iter().map(|p| key.id_hash(p)).collect();
        let envelope = |i: usize| {
            let mut c = b"\x00\x00".to_vec();
            c.extend_from_slice(&plains[i]);
            key.encrypt(100 * i as u64, &c)
        };
        let (a, b, c) = (ids[0], ids[1], ids[2]);
        let mut fetcher = Reuse::default();
        let mut decoder = Decoder::new(&key, 2);
        let batches = [
            (vec![a, a, b, a], vec![0, 1]),
            // starts with the previous batch's last id
            (vec![a, c, c], vec![2]),
            (vec![c], vec![]),
            (vec![b, a], vec![1, 0]),
        ];
        for (batch, fetched) in batches {
            let (_, fetch) = fetcher.plan(&batch);
            let want: Vec<[u8; 32]> = fetched.iter().map(|&i| ids[i]).collect();
            assert_eq!(fetch, want);
            let envs = fetched.iter().map(|&i| envelope(i)).collect();
            let out = decoder.decode((batch.clone(), envs)).unwrap();
            for (id, p) in batch.iter().zip(&out) {
                let i = ids.iter().position(|x| x == id).unwrap();
                assert_eq!(**p, plains[i]);
            }
        }
        // A fetcher and decoder that disagree are an error, not a mix-up.
        let mut decoder = Decoder::new(&key, 1);
        assert!(decoder.decode((vec![a, b], vec![envelope(0)])).is_err());
    }
}
