//! `create`: walk, read, chunk, hash, deduplicate, compress, encrypt, store,
//! on every core, with items written in walk order.
//!
//! Threads (all scoped):
//! - the **walker** (the caller's thread) lists directories in borg's order
//!   (entries sorted by inode), applies the patterns and hands out jobs with
//!   sequence numbers;
//! - **readers** collect each object's metadata and cut regular files into
//!   chunks with the buzhash (or fixed) chunker;
//! - the **chunk pool** id-hashes, deduplicates against the chunk index,
//!   compresses, encrypts and stores each chunk;
//! - the **collector** puts items back in walk order, fills in their chunk
//!   lists, and writes the item stream.
//!
//! Every queue is bounded, and the walker stays at most [`WINDOW`] objects
//! ahead of the collector, so memory stays flat however large the tree.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use oxiborg_chunker::{Allocation, Chunker, ChunkerParams};
use oxiborg_crypto::{Key, NonceManager, NonceStore, SecurityDirNonceFile, CONTEXT_ARCHIVE};
use oxiborg_format::{
    ArchiveItem, ChunkListEntry, Compressor, Item, UtcTimestamp, S_IFBLK, S_IFCHR, S_IFDIR,
    S_IFIFO, S_IFLNK, S_IFREG,
};
use oxiborg_hashindex::ChunkIndex;
use oxiborg_patterns::PatternMatcher;

use crate::cache::{Cache, FileCacheEntry, FilesCache, FilesCacheMode};
use crate::error::{CoreError, Result};
use crate::meta::{self, MetaOptions};
use crate::session::{Session, SharedRepository};

/// How far the walker may run ahead of the collector (objects).
const WINDOW: u64 = 8192;
/// Item-stream buffer size before it is cut (borg's `ChunkBuffer.BUFFER_SIZE`).
const ITEM_BUFFER: usize = 8 * 1024 * 1024;
/// Marks a chunk-index entry whose object is still being stored.
const PENDING: u32 = u32::MAX;

/// borg's `CACHE_TAG_CONTENTS`.
const CACHE_TAG_CONTENTS: &[u8] = b"Signature: 8a477f597d28d172789f06886806bc55";

/// What `create` reports while it runs. Implemented by the CLI.
pub trait CreateObserver: Send + Sync {
    /// A processed object's status letter (`A`, `M`, `U`, `d`, `s`, `h`,
    /// `f`, `b`, `c`, `x`, `E`, `C`, `-`) and its path as given.
    fn status(&self, _status: char, _path: &[u8]) {}
    /// A warning (the command ends with rc 1).
    fn warning(&self, msg: &str);
    /// Bytes read so far and files processed.
    fn progress(
        &self,
        _original: u64,
        _compressed: u64,
        _deduplicated: u64,
        _nfiles: u64,
        _path: &[u8],
    ) {
    }
}

/// One input of `create`.
#[derive(Debug, Clone)]
pub enum Source {
    /// A path to walk (as given on the command line).
    Path(PathBuf),
    /// Content read from a reader (stdin or `--content-from-command`).
    Stream {
        /// Stored path (`--stdin-name`).
        name: Vec<u8>,
        /// Mode bits (`--stdin-mode`).
        mode: u32,
        /// Owner (`--stdin-user`), with its uid.
        user: (Option<Vec<u8>>, u32),
        /// Group (`--stdin-group`), with its gid.
        group: (Option<Vec<u8>>, u32),
    },
}

/// `create`'s options.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// Archive name.
    pub name: Vec<u8>,
    /// `--comment`.
    pub comment: Vec<u8>,
    /// `--timestamp`: the archive's start time.
    pub timestamp: Option<UtcTimestamp>,
    /// `--compression`.
    pub compressor: Compressor,
    /// `--chunker-params`.
    pub chunker_params: ChunkerParams,
    /// `--files-cache`.
    pub files_cache_mode: FilesCacheMode,
    /// Metadata options (numeric ids, atime, ctime, xattrs, ACLs, flags).
    pub meta: MetaOptions,
    /// `--one-file-system`.
    pub one_file_system: bool,
    /// `--exclude-caches`.
    pub exclude_caches: bool,
    /// `--exclude-if-present` names.
    pub exclude_if_present: Vec<Vec<u8>>,
    /// `--keep-exclude-tags`.
    pub keep_exclude_tags: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// argv of this command.
    pub cmdline: Vec<Vec<u8>>,
    /// Host name recorded in the archive.
    pub hostname: Vec<u8>,
    /// User name recorded in the archive.
    pub username: Vec<u8>,
    /// Working directory (recorded, and the base of files-cache keys).
    pub cwd: PathBuf,
    /// Worker threads (at least 1 reader and 1 chunk worker each).
    pub threads: usize,
    /// Paths never to back up (the repository and the cache), as (dev, ino).
    pub skip_inodes: Vec<(u64, u64)>,
}

/// Statistics of one archive (borg's `Statistics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Original size of all chunk references.
    pub osize: u64,
    /// Stored size of all chunk references.
    pub csize: u64,
    /// Stored size of the chunks this archive added.
    pub usize: u64,
    /// Regular files processed.
    pub nfiles: u64,
}

/// What `create` produced.
#[derive(Debug, Clone)]
pub struct CreateOutcome {
    /// The archive id.
    pub id: [u8; 32],
    /// The archive metadata as stored.
    pub archive: ArchiveItem,
    /// Statistics.
    pub stats: Stats,
    /// Whether any warning was issued (rc 1).
    pub warnings: bool,
    /// Start and end (UTC).
    pub start: UtcTimestamp,
    /// End (UTC).
    pub end: UtcTimestamp,
    /// Wall-clock duration in seconds.
    pub duration: f64,
}

// ---------------------------------------------------------------------------
// Shared storage state

struct LockedRepoNonces<'a, 'r>(&'a Mutex<&'r mut SharedRepository>);

impl NonceStore for LockedRepoNonces<'_, '_> {
    fn get(&mut self) -> oxiborg_crypto::Result<Option<u64>> {
        let mut r = self.0.lock().expect("repository lock");
        r.get_free_nonce()
            .map_err(|e| oxiborg_crypto::CryptoError::NonceStore(Box::new(e)))
    }
    fn commit_reservation(
        &mut self,
        next: u64,
        expected: Option<u64>,
    ) -> oxiborg_crypto::Result<()> {
        let mut r = self.0.lock().expect("repository lock");
        r.commit_nonce_reservation(next, expected)
            .map_err(|e| oxiborg_crypto::CryptoError::NonceStore(Box::new(e)))
    }
}

/// The storage side shared by every thread: deduplication and `put`.
pub(crate) struct Store<'a, 'r> {
    key: &'a Key,
    compressor: Compressor,
    repo: &'a Mutex<&'r mut SharedRepository>,
    nonces: Mutex<NonceManager<LockedRepoNonces<'a, 'r>, SecurityDirNonceFile>>,
    index: Mutex<ChunkIndex>,
    index_cv: Condvar,
    failed: AtomicBool,
    interrupt: &'a AtomicBool,
    error: Mutex<Option<CoreError>>,
    /// Stored bytes of chunks added by this run.
    usize: Mutex<u64>,
}

impl<'a, 'r> Store<'a, 'r> {
    pub(crate) fn new(
        key: &'a Key,
        compressor: Compressor,
        repo: &'a Mutex<&'r mut SharedRepository>,
        nonce_file: SecurityDirNonceFile,
        start_nonce: u64,
        index: ChunkIndex,
        interrupt: &'a AtomicBool,
    ) -> Self {
        Store {
            key,
            compressor,
            repo,
            nonces: Mutex::new(NonceManager::new(
                LockedRepoNonces(repo),
                nonce_file,
                start_nonce,
            )),
            index: Mutex::new(index),
            index_cv: Condvar::new(),
            failed: AtomicBool::new(false),
            interrupt,
            error: Mutex::new(None),
            usize: Mutex::new(0),
        }
    }

    fn fail(&self, e: CoreError) {
        let mut slot = self.error.lock().expect("error slot");
        if slot.is_none() {
            *slot = Some(e);
        }
        self.failed.store(true, Ordering::SeqCst);
        let _guard = self.index.lock();
        self.index_cv.notify_all();
    }

    fn stopped(&self) -> bool {
        self.failed.load(Ordering::Relaxed) || self.interrupt.load(Ordering::Relaxed)
    }

    /// Store `data` under `id` unless present; returns the stored size.
    /// One reference is added either way (borg's `add_chunk`).
    pub(crate) fn store(&self, id: &[u8; 32], data: &[u8]) -> Result<u32> {
        let size = u32::try_from(data.len())
            .map_err(|_| CoreError::InvalidInput("chunk too large".into()))?;
        {
            let mut idx = self.index.lock().expect("chunk index");
            loop {
                if self.stopped() {
                    return Err(CoreError::Interrupted);
                }
                match idx.get(id) {
                    Some((_, _, c)) if c != PENDING => {
                        idx.incref(id)?;
                        return Ok(c);
                    }
                    Some(_) => idx = self.index_cv.wait(idx).expect("chunk index"),
                    None => {
                        idx.insert(id, (1, size, PENDING))?;
                        break;
                    }
                }
            }
        }
        match self.put_new(id, data) {
            Ok(csize) => {
                let mut idx = self.index.lock().expect("chunk index");
                let (r, s, _) = idx.get(id).unwrap_or((1, size, csize));
                idx.insert(id, (r, s, csize))?;
                self.index_cv.notify_all();
                *self.usize.lock().expect("stats") += u64::from(csize);
                Ok(csize)
            }
            Err(e) => {
                let msg = e.to_string();
                self.fail(e);
                Err(CoreError::InvalidInput(msg))
            }
        }
    }

    fn put_new(&self, id: &[u8; 32], data: &[u8]) -> Result<u32> {
        let compressed = self.compressor.compress(data);
        let iv = if self.key.key_type().is_encrypted() {
            self.nonces
                .lock()
                .expect("nonces")
                .next_iv(compressed.len())?
        } else {
            0
        };
        let envelope = self.key.encrypt(iv, &compressed);
        let csize = envelope.len() as u32;
        self.repo
            .lock()
            .expect("repository lock")
            .put(id, &envelope)?;
        Ok(csize)
    }

    /// Add a reference to every id of a files-cache hit, if all are present.
    fn incref_all(&self, ids: &[[u8; 32]]) -> Result<Option<Vec<ChunkListEntry>>> {
        let mut idx = self.index.lock().expect("chunk index");
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match idx.get(id) {
                Some((r, s, c)) if r > 0 && c != PENDING => out.push(ChunkListEntry {
                    id: *id,
                    size: u64::from(s),
                    csize: u64::from(c),
                }),
                _ => return Ok(None),
            }
        }
        for id in ids {
            idx.incref(id)?;
        }
        Ok(Some(out))
    }

    pub(crate) fn next_nonce(&self) -> Option<u64> {
        self.nonces.lock().expect("nonces").end_of_reservation()
    }

    pub(crate) fn into_index(self) -> (ChunkIndex, u64, Option<CoreError>) {
        let err = self.error.into_inner().expect("error slot");
        (
            self.index.into_inner().expect("chunk index"),
            self.usize.into_inner().expect("stats"),
            err,
        )
    }
}

// ---------------------------------------------------------------------------
// Jobs and results

enum JobKind {
    /// A filesystem object; `master` is the hardlink master's stored path for
    /// a slave, and `hardlinked` says whether st_nlink > 1.
    Fs {
        path: PathBuf,
        stored: Vec<u8>,
        st: Metadata,
        slave_of: Option<Vec<u8>>,
        hardlinked: bool,
    },
    /// Data from a stream.
    Stream(Box<dyn Read + Send>, Source),
}

struct Job {
    seq: u64,
    kind: JobKind,
}

/// The receiving end of one file's chunk results.
type ChunkResults = Receiver<(usize, Result<ChunkListEntry>)>;

struct ChunkTask {
    data: Vec<u8>,
    size: usize,
    zero: bool,
    index: usize,
    reply: Sender<(usize, Result<ChunkListEntry>)>,
}

enum Outcome {
    /// A finished item (no content, or content from the files cache).
    Item {
        item: Item,
        status: char,
        display: Vec<u8>,
        counts_file: bool,
        memo: Option<([u8; 32], FileCacheEntry, bool)>,
    },
    /// An item whose chunks are being stored.
    Chunked {
        item: Item,
        status: char,
        display: Vec<u8>,
        chunks: usize,
        results: Receiver<(usize, Result<ChunkListEntry>)>,
        memo: Option<([u8; 32], FileCacheEntry)>,
        changed: bool,
    },
    /// A per-object failure (warning, rc 1).
    Failed { display: Vec<u8>, message: String },
    /// Nothing to store (socket, vanished object).
    Skip,
}

struct Window {
    done: Mutex<u64>,
    cv: Condvar,
}

// ---------------------------------------------------------------------------

/// Run `create`: back up `sources` into a new archive in `session`'s
/// repository, using and updating `cache`.
#[allow(clippy::too_many_arguments)]
pub fn create(
    session: &mut Session,
    cache: &mut Cache,
    sources: Vec<(Source, Option<Box<dyn Read + Send>>)>,
    matcher: &mut PatternMatcher,
    opts: &CreateOptions,
    observer: &dyn CreateObserver,
    interrupt: &AtomicBool,
) -> Result<CreateOutcome> {
    if session.manifest().archive(&opts.name).is_some() {
        return Err(CoreError::ArchiveAlreadyExists(
            String::from_utf8_lossy(&opts.name).into_owned(),
        ));
    }
    let clock = std::time::Instant::now();
    let key: Arc<Key> = session.key.clone();
    let nonce_file = session.nonce_file();
    let start_nonce = session.next_nonce;
    let index = std::mem::take(&mut cache.chunks);
    let files_cache = std::mem::take(&mut cache.files);
    let threads = opts.threads.max(1);
    let chunker = Chunker::new(opts.chunker_params, key.chunk_seed() as u32)
        .map_err(|e| CoreError::InvalidInput(e.to_string()))?;
    let items_chunker = Chunker::new(ChunkerParams::ITEMS, key.chunk_seed() as u32)
        .map_err(|e| CoreError::InvalidInput(e.to_string()))?;

    let repo_mx = Mutex::new(&mut session.repo);
    let store = Store::new(
        &key,
        opts.compressor.clone(),
        &repo_mx,
        nonce_file,
        start_nonce,
        index,
        interrupt,
    );
    let window = Window {
        done: Mutex::new(0),
        cv: Condvar::new(),
    };
    let warnings = AtomicBool::new(false);

    let (job_tx, job_rx) = bounded::<Job>(256);
    let (task_tx, task_rx) = bounded::<ChunkTask>(threads * 4);
    let (out_tx, out_rx) = unbounded::<(u64, Outcome)>();

    let collected = std::thread::scope(|s| {
        // Chunk pool.
        for _ in 0..threads {
            let task_rx = task_rx.clone();
            let store = &store;
            let key = &key;
            s.spawn(move || chunk_worker(task_rx, store, key));
        }
        drop(task_rx);
        // Readers.
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let task_tx = task_tx.clone();
            let out_tx = out_tx.clone();
            let store = &store;
            let key = &key;
            let chunker = &chunker;
            let files_cache = &files_cache;
            s.spawn(move || {
                reader_worker(
                    job_rx,
                    task_tx,
                    out_tx,
                    store,
                    key,
                    chunker,
                    files_cache,
                    opts,
                )
            });
        }
        drop(job_rx);
        drop(task_tx);
        // Collector.
        let collector = {
            let store = &store;
            let key = &key;
            let window = &window;
            let items_chunker = &items_chunker;
            let warnings = &warnings;
            s.spawn(move || {
                collect(
                    out_rx,
                    store,
                    key,
                    items_chunker,
                    window,
                    observer,
                    warnings,
                )
            })
        };
        // Walker (this thread).
        let mut walker = Walker {
            job_tx,
            out_tx,
            seq: 0,
            window: &window,
            matcher,
            opts,
            observer,
            hardlinks: HashMap::new(),
            store: &store,
            warnings: &warnings,
        };
        for (source, reader) in sources {
            if store.stopped() {
                break;
            }
            match (source, reader) {
                (Source::Path(p), _) => walker.walk_root(&p),
                (src @ Source::Stream { .. }, Some(r)) => {
                    if !opts.dry_run {
                        walker.send(JobKind::Stream(r, src));
                    }
                }
                (Source::Stream { .. }, None) => {}
            }
        }
        let Walker { job_tx, out_tx, .. } = walker;
        drop(job_tx);
        drop(out_tx);
        collector.join().expect("collector thread")
    });

    let (item_ids, mut file_stats, cache_updates, archive_refs) = match collected {
        Ok(v) => v,
        Err(e) => {
            let (_, _, stored_err) = store.into_index();
            return Err(stored_err.unwrap_or(e));
        }
    };
    if interrupt.load(Ordering::SeqCst) {
        return Err(CoreError::Interrupted);
    }
    if opts.dry_run {
        let (idx, _, _) = store.into_index();
        cache.chunks = idx;
        cache.files = files_cache;
        session.repo.rollback()?;
        let now = UtcTimestamp::now();
        return Ok(CreateOutcome {
            id: [0; 32],
            archive: ArchiveItem::default(),
            stats: Stats::default(),
            warnings: warnings.load(Ordering::SeqCst),
            start: now,
            end: now,
            duration: clock.elapsed().as_secs_f64(),
        });
    }

    // Archive metadata.
    let duration = clock.elapsed();
    let (start, end) = match opts.timestamp {
        Some(t) => (
            t,
            UtcTimestamp::from_unix_nanos(t.unix_nanos() + duration.as_nanos() as i128),
        ),
        None => {
            let end = UtcTimestamp::now();
            (
                UtcTimestamp::from_unix_nanos(end.unix_nanos() - duration.as_nanos() as i128),
                end,
            )
        }
    };
    let mut refs = archive_refs;
    let archive = ArchiveItem {
        name: opts.name.clone(),
        items: item_ids,
        cmdline: opts.cmdline.clone(),
        hostname: Some(opts.hostname.clone()),
        username: Some(opts.username.clone()),
        time: start.format_iso(),
        time_end: Some(end.format_iso()),
        comment: Some(opts.comment.clone()),
        chunker_params: Some(format_chunker_params(&opts.chunker_params)),
        cwd: Some(opts.cwd.as_os_str().as_bytes().to_vec()),
        size: Some(file_stats.osize),
        csize: Some(file_stats.csize),
        nfiles: Some(file_stats.nfiles),
        size_parts: Some(0),
        csize_parts: Some(0),
        nfiles_parts: Some(0),
        ..ArchiveItem::default()
    };
    let data = key.pack_and_authenticate(archive.to_value(), CONTEXT_ARCHIVE, None)?;
    let id = key.id_hash(&data);
    let csize = store.store(&id, &data)?;
    refs.add(&id, 1, data.len() as u32, csize)?;
    let next_nonce = store.next_nonce();
    let (idx, usize, err) = store.into_index();
    if let Some(e) = err {
        return Err(e);
    }
    file_stats.usize = usize;
    if let Some(n) = next_nonce {
        session.next_nonce = session.next_nonce.max(n);
    }
    cache.chunks = idx;
    let mut files = files_cache;
    for (hash, entry, touch) in cache_updates {
        if touch {
            files.touch(&hash, entry.inode);
        } else {
            files.memorize(hash, entry);
        }
    }
    cache.files = files;
    cache.add_archive_index(id, refs);
    session
        .manifest_mut()
        .set_archive(opts.name.clone(), id, start.format_iso());
    session.write_manifest_and_commit()?;
    Ok(CreateOutcome {
        id,
        archive,
        stats: file_stats,
        warnings: warnings.load(Ordering::SeqCst),
        start,
        end,
        duration: duration.as_secs_f64(),
    })
}

/// The archive's recorded chunker params.
pub fn format_chunker_params(p: &ChunkerParams) -> oxiborg_format::ChunkerParams {
    match *p {
        ChunkerParams::Buzhash {
            min_exp,
            max_exp,
            mask_bits,
            window_size,
        } => oxiborg_format::ChunkerParams::Buzhash {
            min_exp,
            max_exp,
            mask_bits,
            window_size,
        },
        ChunkerParams::Fixed {
            block_size,
            header_size,
        } => oxiborg_format::ChunkerParams::Fixed {
            block_size: u64::from(block_size),
            header_size: u64::from(header_size),
        },
    }
}

fn chunk_worker(rx: Receiver<ChunkTask>, store: &Store<'_, '_>, key: &Key) {
    let mut zeros: Vec<u8> = Vec::new();
    for t in rx {
        if store.stopped() {
            let _ = t.reply.send((t.index, Err(CoreError::Interrupted)));
            continue;
        }
        let data: &[u8] = if t.zero {
            if zeros.len() < t.size {
                zeros.resize(t.size, 0);
            }
            &zeros[..t.size]
        } else {
            &t.data
        };
        let id = key.id_hash(data);
        let r = store.store(&id, data).map(|csize| ChunkListEntry {
            id,
            size: t.size as u64,
            csize: u64::from(csize),
        });
        let _ = t.reply.send((t.index, r));
    }
}

fn io_err(e: std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => format!("[Errno {code}] {}", strip_os_suffix(&e.to_string())),
        None => e.to_string(),
    }
}

fn strip_os_suffix(s: &str) -> String {
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn reader_worker(
    rx: Receiver<Job>,
    tasks: Sender<ChunkTask>,
    out: Sender<(u64, Outcome)>,
    store: &Store<'_, '_>,
    key: &Key,
    chunker: &Chunker,
    files_cache: &FilesCache,
    opts: &CreateOptions,
) {
    for job in rx {
        if store.stopped() {
            let _ = out.send((job.seq, Outcome::Skip));
            continue;
        }
        let outcome = match job.kind {
            JobKind::Fs {
                path,
                stored,
                st,
                slave_of,
                hardlinked,
            } => process_fs(
                &path,
                stored,
                &st,
                slave_of,
                hardlinked,
                &tasks,
                store,
                key,
                chunker,
                files_cache,
                opts,
            ),
            JobKind::Stream(reader, src) => process_stream(reader, src, &tasks, chunker),
        };
        let _ = out.send((job.seq, outcome));
    }
}

fn submit_chunks(
    reader: &mut dyn Read,
    chunker: &Chunker,
    tasks: &Sender<ChunkTask>,
) -> std::result::Result<(usize, ChunkResults), std::io::Error> {
    let (tx, rx) = unbounded();
    let mut chunks = chunker.chunks(reader);
    let mut n = 0;
    while let Some(c) = chunks.next_chunk()? {
        let zero = c.allocation != Allocation::Data;
        let task = ChunkTask {
            data: if zero { Vec::new() } else { c.data.to_vec() },
            size: c.size,
            zero,
            index: n,
            reply: tx.clone(),
        };
        if tasks.send(task).is_err() {
            break;
        }
        n += 1;
    }
    Ok((n, rx))
}

fn process_stream(
    mut reader: Box<dyn Read + Send>,
    src: Source,
    tasks: &Sender<ChunkTask>,
    chunker: &Chunker,
) -> Outcome {
    let Source::Stream {
        name,
        mode,
        user,
        group,
    } = src
    else {
        return Outcome::Skip;
    };
    let now = (UtcTimestamp::now().unix_seconds() as i128) * 1_000_000_000;
    let mut item = Item::new(make_path_safe(&name), now);
    item.mode = Some((mode & 0o107777) | S_IFREG);
    item.uid = Some(i64::from(user.1));
    item.gid = Some(i64::from(group.1));
    item.user = Some(user.0);
    item.group = Some(group.0);
    item.atime = Some(now);
    item.ctime = Some(now);
    item.hardlink_master = Some(false);
    match submit_chunks(&mut reader, chunker, tasks) {
        Ok((chunks, results)) => Outcome::Chunked {
            item,
            status: 'A',
            display: name,
            chunks,
            results,
            memo: None,
            changed: false,
        },
        Err(e) => Outcome::Failed {
            display: name,
            message: e.to_string(),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn process_fs(
    path: &Path,
    stored: Vec<u8>,
    st: &Metadata,
    slave_of: Option<Vec<u8>>,
    hardlinked: bool,
    tasks: &Sender<ChunkTask>,
    store: &Store<'_, '_>,
    key: &Key,
    chunker: &Chunker,
    files_cache: &FilesCache,
    opts: &CreateOptions,
) -> Outcome {
    let display = path.as_os_str().as_bytes().to_vec();
    let fail = |message: String| Outcome::Failed {
        display: display.clone(),
        message,
    };
    let ft = st.file_type();
    let mut item = Item::new(stored, 0);
    if let Err(e) = meta::stat_simple_attrs(&mut item, st, &opts.meta) {
        return fail(e);
    }
    if ft.is_file() {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) => return fail(io_err(e)),
        };
        // Re-stat the open file: what we read must be what we describe.
        let st = match file.metadata() {
            Ok(m) => m,
            Err(e) => return fail(io_err(e)),
        };
        if let Err(e) = meta::stat_simple_attrs(&mut item, &st, &opts.meta) {
            return fail(e);
        }
        if let Err(e) = meta::stat_ext_attrs(&mut item, path, &st, &opts.meta) {
            return fail(e);
        }
        if let Some(master) = slave_of {
            item.source = Some(master);
            return Outcome::Item {
                item,
                status: 'h',
                display,
                counts_file: false,
                memo: None,
            };
        }
        item.hardlink_master = Some(hardlinked);
        let mode = opts.files_cache_mode;
        let cmtime: i128 = if mode.ctime || !mode.mtime {
            meta::ctime_ns(&st)
        } else {
            meta::mtime_ns(&st)
        };
        let mut status = 'A';
        let mut path_hash = None;
        if !mode.disabled {
            let abs = opts.cwd.join(path);
            let abs = normpath(abs.as_os_str().as_bytes());
            let h = key.id_hash(&abs);
            path_hash = Some(h);
            if let Some(entry) = files_cache.get(&h) {
                status = 'M';
                let unchanged = !mode.rechunk
                    && (!mode.size || entry.size == st.size())
                    && (!mode.inode || entry.inode == st.ino())
                    && ((!mode.ctime && !mode.mtime) || entry.cmtime == cmtime);
                if unchanged {
                    match store.incref_all(&entry.chunk_ids) {
                        Ok(Some(chunks)) => {
                            let size = chunks.iter().map(|c| c.size).sum();
                            item.chunks = Some(chunks);
                            item.size = Some(size);
                            return Outcome::Item {
                                item,
                                status: 'U',
                                display,
                                counts_file: true,
                                memo: Some((
                                    h,
                                    FileCacheEntry {
                                        age: 0,
                                        inode: st.ino(),
                                        size: st.size(),
                                        cmtime,
                                        chunk_ids: Vec::new(),
                                    },
                                    true,
                                )),
                            };
                        }
                        Ok(None) => {}
                        Err(e) => return fail(e.to_string()),
                    }
                }
            }
        }
        match submit_chunks(&mut file, chunker, tasks) {
            Ok((chunks, results)) => {
                let changed = match file.metadata() {
                    Ok(st2) => meta::ctime_ns(&st2) != meta::ctime_ns(&st),
                    Err(_) => false,
                };
                let memo = path_hash.map(|h| {
                    (
                        h,
                        FileCacheEntry {
                            age: 0,
                            inode: st.ino(),
                            size: st.size(),
                            cmtime,
                            chunk_ids: Vec::new(),
                        },
                    )
                });
                Outcome::Chunked {
                    item,
                    status,
                    display,
                    chunks,
                    results,
                    memo,
                    changed,
                }
            }
            Err(e) => fail(io_err(e)),
        }
    } else {
        if let Err(e) = meta::stat_ext_attrs(&mut item, path, st, &opts.meta) {
            return fail(e);
        }
        let status = if ft.is_dir() {
            'd'
        } else if ft.is_symlink() {
            match std::fs::read_link(path) {
                Ok(t) => item.source = Some(t.as_os_str().as_bytes().to_vec()),
                Err(e) => return fail(io_err(e)),
            }
            's'
        } else if ft.is_fifo() || ft.is_block_device() || ft.is_char_device() {
            if ft.is_block_device() || ft.is_char_device() {
                item.rdev = Some(st.rdev());
            }
            if let Some(master) = slave_of {
                item.source = Some(master);
                return Outcome::Item {
                    item,
                    status: 'h',
                    display,
                    counts_file: false,
                    memo: None,
                };
            }
            item.hardlink_master = Some(hardlinked);
            if ft.is_fifo() {
                'f'
            } else if ft.is_block_device() {
                'b'
            } else {
                'c'
            }
        } else {
            return Outcome::Skip;
        };
        Outcome::Item {
            item,
            status,
            display,
            counts_file: false,
            memo: None,
        }
    }
}

type Collected = (
    Vec<[u8; 32]>,
    Stats,
    Vec<([u8; 32], FileCacheEntry, bool)>,
    ChunkIndex,
);

fn collect(
    rx: Receiver<(u64, Outcome)>,
    store: &Store<'_, '_>,
    key: &Key,
    items_chunker: &Chunker,
    window: &Window,
    observer: &dyn CreateObserver,
    warnings: &AtomicBool,
) -> Result<Collected> {
    let mut pending: BTreeMap<u64, Outcome> = BTreeMap::new();
    let mut next = 0u64;
    let mut buffer: Vec<u8> = Vec::new();
    let mut item_ids = Vec::new();
    let mut stats = Stats::default();
    let mut updates = Vec::new();
    let mut refs = ChunkIndex::new();
    let mut failure: Option<CoreError> = None;

    let mut flush =
        |buffer: &mut Vec<u8>, all: bool, refs: &mut ChunkIndex, stats: &mut Stats| -> Result<()> {
            let cuts: Vec<usize> = items_chunker.split(buffer).map(|c| c.len()).collect();
            let mut off = 0;
            for len in cuts.iter().take(if all {
                cuts.len()
            } else {
                cuts.len().saturating_sub(1)
            }) {
                let data = &buffer[off..off + len];
                let id = key.id_hash(data);
                let csize = store.store(&id, data)?;
                refs.add(&id, 1, data.len() as u32, csize)?;
                stats.osize += data.len() as u64;
                stats.csize += u64::from(csize);
                item_ids.push(id);
                off += len;
            }
            buffer.drain(..off);
            Ok(())
        };

    for (seq, outcome) in rx {
        pending.insert(seq, outcome);
        while let Some(outcome) = pending.remove(&next) {
            next += 1;
            {
                let mut d = window.done.lock().expect("window");
                *d = next;
                window.cv.notify_all();
            }
            if failure.is_some() {
                continue;
            }
            let done = match outcome {
                Outcome::Skip => None,
                Outcome::Failed { display, message } => {
                    warnings.store(true, Ordering::SeqCst);
                    observer.warning(&format!("{}: {message}", String::from_utf8_lossy(&display)));
                    observer.status('E', &display);
                    None
                }
                Outcome::Item {
                    item,
                    status,
                    display,
                    counts_file,
                    memo,
                } => {
                    if counts_file {
                        stats.nfiles += 1;
                    }
                    if let Some((h, mut e, touch)) = memo {
                        if let Some(chunks) = &item.chunks {
                            e.chunk_ids = chunks.iter().map(|c| c.id).collect();
                        }
                        updates.push((h, e, touch));
                    }
                    Some((item, status, display))
                }
                Outcome::Chunked {
                    mut item,
                    status,
                    display,
                    chunks,
                    results,
                    memo,
                    changed,
                } => {
                    let mut list: Vec<Option<ChunkListEntry>> = vec![None; chunks];
                    let mut err = None;
                    for _ in 0..chunks {
                        match results.recv() {
                            Ok((i, Ok(c))) => list[i] = Some(c),
                            Ok((_, Err(e))) => {
                                err.get_or_insert(e);
                            }
                            Err(_) => {
                                err.get_or_insert(CoreError::Interrupted);
                                break;
                            }
                        }
                    }
                    if let Some(e) = err {
                        failure = Some(e);
                        continue;
                    }
                    let list: Vec<ChunkListEntry> = list.into_iter().flatten().collect();
                    item.size = Some(list.iter().map(|c| c.size).sum());
                    stats.nfiles += 1;
                    let mut status = status;
                    if changed {
                        status = 'C';
                        warnings.store(true, Ordering::SeqCst);
                        observer.warning(&format!(
                            "{}: file changed while we backed it up",
                            String::from_utf8_lossy(&display)
                        ));
                    } else if let Some((h, mut e)) = memo {
                        e.chunk_ids = list.iter().map(|c| c.id).collect();
                        updates.push((h, e, false));
                    }
                    item.chunks = Some(list);
                    Some((item, status, display))
                }
            };
            if let Some((item, status, display)) = done {
                if let Some(chunks) = &item.chunks {
                    for c in chunks {
                        if let Err(e) = refs.add(&c.id, 1, c.size as u32, c.csize as u32) {
                            failure = Some(e.into());
                        }
                        stats.osize += c.size;
                        stats.csize += c.csize;
                    }
                }
                observer.status(status, &display);
                observer.progress(stats.osize, stats.csize, 0, stats.nfiles, &display);
                item.encode_into(&mut buffer);
                if buffer.len() >= ITEM_BUFFER {
                    if let Err(e) = flush(&mut buffer, false, &mut refs, &mut stats) {
                        failure = Some(e);
                    }
                }
            }
        }
    }
    if let Some(e) = failure {
        store.fail(CoreError::Interrupted);
        return Err(e);
    }
    flush(&mut buffer, true, &mut refs, &mut stats)?;
    Ok((item_ids, stats, updates, refs))
}

struct Walker<'a, 's, 'r> {
    job_tx: Sender<Job>,
    out_tx: Sender<(u64, Outcome)>,
    seq: u64,
    window: &'a Window,
    matcher: &'a mut PatternMatcher,
    opts: &'a CreateOptions,
    observer: &'a dyn CreateObserver,
    hardlinks: HashMap<(u64, u64), Vec<u8>>,
    store: &'a Store<'s, 'r>,
    warnings: &'a AtomicBool,
}

impl Walker<'_, '_, '_> {
    fn send(&mut self, kind: JobKind) {
        {
            let mut done = self.window.done.lock().expect("window");
            while self.seq >= *done + WINDOW && !self.store.stopped() {
                done = self.window.cv.wait(done).expect("window");
            }
        }
        let seq = self.seq;
        self.seq += 1;
        let _ = self.job_tx.send(Job { seq, kind });
    }

    fn outcome(&mut self, o: Outcome) {
        let seq = self.seq;
        self.seq += 1;
        let _ = self.out_tx.send((seq, o));
    }

    fn warn(&mut self, path: &Path, msg: String) {
        self.warnings.store(true, Ordering::SeqCst);
        self.outcome(Outcome::Failed {
            display: path.as_os_str().as_bytes().to_vec(),
            message: msg,
        });
    }

    fn walk_root(&mut self, given: &Path) {
        let raw = given.as_os_str().as_bytes();
        // Slashdot hack: everything before `/./` is not stored.
        let strip = find_slashdot(raw);
        let path = PathBuf::from(OsStr::from_bytes(&normpath(raw)));
        let st = match std::fs::symlink_metadata(&path) {
            Ok(st) => st,
            Err(e) => return self.warn(&path, io_err(e)),
        };
        let restrict_dev = self.opts.one_file_system.then(|| st.dev());
        let strip_prefix = strip.map(|i| normpath(&raw[..i]));
        self.walk(&path, Some(st), restrict_dev, strip_prefix.as_deref());
    }

    fn stored_path(path: &Path, strip: Option<&[u8]>) -> Vec<u8> {
        let raw = path.as_os_str().as_bytes();
        let rel = match strip {
            Some(prefix) if raw.starts_with(prefix) => {
                let rest = &raw[prefix.len()..];
                rest.strip_prefix(b"/").unwrap_or(rest)
            }
            _ => raw,
        };
        make_path_safe(rel)
    }

    fn walk(
        &mut self,
        path: &Path,
        st: Option<Metadata>,
        restrict_dev: Option<u64>,
        strip: Option<&[u8]>,
    ) {
        if self.store.stopped() {
            return;
        }
        let raw = path.as_os_str().as_bytes();
        let mut recurse_excluded_dir = false;
        let included = self.matcher.matches(raw);
        if !included {
            self.observer.status('x', raw);
            if !self.matcher.recurse_dir() {
                return;
            }
            recurse_excluded_dir = true;
        }
        let st = match st {
            Some(st) => st,
            None => match std::fs::symlink_metadata(path) {
                Ok(st) => st,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(e) => return self.warn(path, io_err(e)),
            },
        };
        if recurse_excluded_dir && !st.is_dir() {
            return;
        }
        if self.opts.skip_inodes.contains(&(st.dev(), st.ino())) {
            return;
        }
        let recurse = restrict_dev.is_none_or(|d| d == st.dev());
        let ft = st.file_type();
        if ft.is_socket() {
            return;
        }
        if ft.is_dir() {
            let tags = self.dir_tags(path);
            if !tags.is_empty() {
                if !recurse_excluded_dir {
                    if self.opts.keep_exclude_tags {
                        if !self.opts.dry_run {
                            self.emit(path, st, strip);
                        }
                        for t in tags {
                            let tp = path.join(OsStr::from_bytes(&t));
                            self.walk(&tp, None, restrict_dev, strip);
                        }
                    }
                    self.observer.status('x', raw);
                }
                return;
            }
            if !recurse_excluded_dir {
                if self.opts.dry_run {
                    self.observer.status('-', raw);
                } else {
                    self.emit(path, st, strip);
                }
            }
            if recurse {
                let mut entries: Vec<(u64, std::ffi::OsString)> = match std::fs::read_dir(path) {
                    Ok(rd) => rd
                        .filter_map(|e| e.ok())
                        .map(|e| (std::os::unix::fs::DirEntryExt::ino(&e), e.file_name()))
                        .collect(),
                    Err(e) => return self.warn(path, io_err(e)),
                };
                entries.sort();
                for (_, name) in entries {
                    let child = path.join(&name);
                    let child =
                        PathBuf::from(OsStr::from_bytes(&normpath(child.as_os_str().as_bytes())));
                    self.walk(&child, None, restrict_dev, strip);
                }
            }
        } else if self.opts.dry_run {
            self.observer.status('-', raw);
        } else {
            self.emit(path, st, strip);
        }
    }

    fn emit(&mut self, path: &Path, st: Metadata, strip: Option<&[u8]>) {
        let stored = Self::stored_path(path, strip);
        let ft = st.file_type();
        let hardlinkable =
            ft.is_file() || ft.is_fifo() || ft.is_block_device() || ft.is_char_device();
        let hardlinked = hardlinkable && st.nlink() > 1;
        let mut slave_of = None;
        if hardlinked {
            let k = (st.ino(), st.dev());
            match self.hardlinks.get(&k) {
                Some(master) => slave_of = Some(master.clone()),
                None => {
                    self.hardlinks.insert(k, stored.clone());
                }
            }
        }
        self.send(JobKind::Fs {
            path: path.to_path_buf(),
            stored,
            st,
            slave_of,
            hardlinked,
        });
    }

    /// borg's `dir_is_tagged`.
    fn dir_tags(&self, path: &Path) -> Vec<Vec<u8>> {
        let mut tags = Vec::new();
        if self.opts.exclude_caches {
            let tag = path.join("CACHEDIR.TAG");
            if let Ok(mut f) = File::open(&tag) {
                let mut head = vec![0u8; CACHE_TAG_CONTENTS.len()];
                if f.read_exact(&mut head).is_ok() && head == CACHE_TAG_CONTENTS {
                    tags.push(b"CACHEDIR.TAG".to_vec());
                }
            }
        }
        for name in &self.opts.exclude_if_present {
            if std::fs::symlink_metadata(path.join(OsStr::from_bytes(name))).is_ok() {
                tags.push(name.clone());
            }
        }
        tags
    }
}

fn find_slashdot(raw: &[u8]) -> Option<usize> {
    raw.windows(3).position(|w| w == b"/./")
}

/// Python's `os.path.normpath` on bytes.
pub use oxiborg_patterns::normpath;

/// borg's `make_path_safe`: no leading `/`, no leading `../`, root is `.`.
pub fn make_path_safe(p: &[u8]) -> Vec<u8> {
    let mut s = p;
    loop {
        if let Some(r) = s.strip_prefix(b"/") {
            s = r;
        } else if let Some(r) = s.strip_prefix(b"../") {
            s = r;
        } else {
            break;
        }
    }
    let s = normpath(s);
    let mut s = s.as_slice();
    while let Some(r) = s.strip_prefix(b"../") {
        s = r;
    }
    if s == b".." || s.is_empty() {
        return b".".to_vec();
    }
    s.to_vec()
}

/// Type bits for a metadata object.
pub fn mode_type_bits(st: &Metadata) -> u32 {
    let ft = st.file_type();
    if ft.is_dir() {
        S_IFDIR
    } else if ft.is_symlink() {
        S_IFLNK
    } else if ft.is_fifo() {
        S_IFIFO
    } else if ft.is_block_device() {
        S_IFBLK
    } else if ft.is_char_device() {
        S_IFCHR
    } else {
        S_IFREG
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normpath_like_python() {
        for (i, o) in [
            ("", "."),
            ("/", "/"),
            ("//", "//"),
            ("///", "/"),
            ("a/./b/", "a/b"),
            ("a/../../b", "../b"),
            ("/../a", "/a"),
            ("./", "."),
            ("a//b", "a/b"),
        ] {
            assert_eq!(normpath(i.as_bytes()), o.as_bytes(), "{i}");
        }
    }

    #[test]
    fn path_safe() {
        for (i, o) in [
            ("/etc/x", "etc/x"),
            ("../../a", "a"),
            ("/", "."),
            ("a/../..", "."),
        ] {
            assert_eq!(make_path_safe(i.as_bytes()), o.as_bytes(), "{i}");
        }
    }
}
