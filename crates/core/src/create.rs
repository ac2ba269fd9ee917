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
    /// The modern exit code of the warning about to be reported (borg's
    /// `BackupWarning` classes: 100 file changed, 104 OS error, 105
    /// permission denied, 107 file not found); called before `warning`.
    fn warning_code(&self, _code: u8) {}
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
    /// Content read from a reader (stdin or `--content-from-command`),
    /// stored as one regular file.
    Stream {
        /// Stored path (`--stdin-name`), as given (borg does not sanitise it).
        name: Vec<u8>,
        /// Mode bits (`--stdin-mode`).
        mode: u32,
        /// Owner (`--stdin-user`), with its uid.
        user: (Option<Vec<u8>>, u32),
        /// Group (`--stdin-group`), with its gid.
        group: (Option<Vec<u8>>, u32),
    },
    /// `delimiter`-separated paths read from a reader (`--paths-from-stdin`,
    /// `--paths-from-command`): each is stored as given, with no recursion
    /// and no pattern matching (borg's `_process_any` per path).
    PathList {
        /// The separator (`--paths-delimiter`, default `\n`).
        delimiter: Vec<u8>,
    },
}

/// One object of an item stream given to [`create_entries`] (borg's
/// `import-tar`), in archive order.
pub enum Entry {
    /// An item without content, stored as it is; `status` is listed with
    /// `display`.
    Item {
        /// The item.
        item: Item,
        /// The `--list` status letter.
        status: char,
        /// The path shown.
        display: Vec<u8>,
    },
    /// A regular file: its content is chunked from `content`, then the
    /// item gets its chunks and size.
    File {
        /// The item (without chunks).
        item: Item,
        /// The `--list` status letter.
        status: char,
        /// The path shown.
        display: Vec<u8>,
        /// The content.
        content: Box<dyn Read + Send>,
    },
    /// An object that is not stored: a warning `display: message` (rc 1)
    /// and an `E` status.
    Unsupported {
        /// The path shown.
        display: Vec<u8>,
        /// The warning text.
        message: String,
    },
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Item { item, status, .. } => f
                .debug_struct("Item")
                .field("item", item)
                .field("status", status)
                .finish(),
            Entry::File { item, status, .. } => f
                .debug_struct("File")
                .field("item", item)
                .field("status", status)
                .finish_non_exhaustive(),
            Entry::Unsupported { display, message } => f
                .debug_struct("Unsupported")
                .field("display", display)
                .field("message", message)
                .finish(),
        }
    }
}

/// The objects of [`create_entries`], one after the other. The next one is
/// asked for only after the previous file's content reader was dropped.
pub trait EntrySource {
    /// The next object, `None` at the end. An error ends `create_entries`
    /// with it, and no archive is saved.
    fn next_entry(&mut self) -> Result<Option<Entry>>;
}

/// What `create` stores: inputs to walk, or a ready stream of objects.
enum Feed<'f> {
    Sources(Vec<(Source, Option<Input>)>),
    Entries(&'f mut dyn EntrySource),
}

/// Checks an input once it is read to its end, e.g. that the command
/// producing it exited with status 0; `Err` holds borg's `CommandError`
/// text (without the `Command Error: ` prefix).
pub type InputCheck = Box<dyn FnOnce() -> std::result::Result<(), String> + Send>;

/// The reader of a [`Source::Stream`] or [`Source::PathList`], with an
/// optional check run after it reached its end: a failed check makes
/// `create` end with [`CoreError::Command`] and save no archive.
pub struct Input {
    reader: Box<dyn Read + Send>,
    check: Option<InputCheck>,
}

impl Input {
    /// An input without an end check (stdin).
    pub fn new(reader: Box<dyn Read + Send>) -> Self {
        Input {
            reader,
            check: None,
        }
    }

    /// An input whose end is checked by `check` (a command's exit status).
    pub fn with_check(reader: Box<dyn Read + Send>, check: InputCheck) -> Self {
        Input {
            reader,
            check: Some(check),
        }
    }

    fn finish(&mut self) -> Result<()> {
        match self.check.take() {
            Some(check) => check().map_err(CoreError::Command),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("check", &self.check.is_some())
            .finish_non_exhaustive()
    }
}

/// `--files-changed`: how a file that changed while it was read is
/// detected (borg 1.4.2+): its ctime or mtime before and after reading
/// differ, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilesChanged {
    /// Compare the ctime (the default).
    #[default]
    Ctime,
    /// Compare the mtime.
    Mtime,
    /// No check.
    Disabled,
}

impl FilesChanged {
    /// Parse `ctime`, `mtime` or `disabled`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ctime" => Some(FilesChanged::Ctime),
            "mtime" => Some(FilesChanged::Mtime),
            "disabled" => Some(FilesChanged::Disabled),
            _ => None,
        }
    }

    /// The timestamp compared before and after reading, if any.
    fn stamp(self, st: &Metadata) -> Option<i128> {
        match self {
            FilesChanged::Ctime => Some(meta::ctime_ns(st)),
            FilesChanged::Mtime => Some(meta::mtime_ns(st)),
            FilesChanged::Disabled => None,
        }
    }
}

/// A status that is not listed again: borg prints a stream's `i` before
/// reading it, the item itself gets no status line.
const NO_STATUS: char = '\0';

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
    /// `--files-changed`.
    pub files_changed: FilesChanged,
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
    /// `--exclude-nodump`: leave out objects with the `nodump` flag.
    pub exclude_nodump: bool,
    /// `--read-special`: read FIFOs and devices (and symlinks to them) as
    /// regular files.
    pub read_special: bool,
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
    /// `--checkpoint-interval` (`None` for 0: no timed checkpoints).
    pub checkpoint_interval: Option<std::time::Duration>,
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
    /// Original size of the files that were also stored in parts.
    pub osize_parts: u64,
    /// Stored size of the files that were also stored in parts.
    pub csize_parts: u64,
    /// Part items written (checkpoints inside files).
    pub nfiles_parts: u64,
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
    /// Set after a SIGINT checkpoint: no new files are started, the ones
    /// being read are finished (borg ends the file it is in).
    halt: AtomicBool,
    error: Mutex<Option<CoreError>>,
    /// The first failed input check (a command's exit status): reported
    /// after every item is done, and no archive is saved.
    input_error: Mutex<Option<CoreError>>,
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
            halt: AtomicBool::new(false),
            error: Mutex::new(None),
            input_error: Mutex::new(None),
            usize: Mutex::new(0),
        }
    }

    /// Record a failed input check (the first one wins).
    fn input_failed(&self, e: CoreError) {
        let mut slot = self.input_error.lock().expect("input error slot");
        if slot.is_none() {
            *slot = Some(e);
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

    /// True once no new file may be started.
    fn halted(&self) -> bool {
        self.stopped() || self.halt.load(Ordering::Relaxed)
    }

    /// Store `data` under `id` unless present; returns the stored size.
    /// One reference is added either way (borg's `add_chunk`).
    pub(crate) fn store(&self, id: &[u8; 32], data: &[u8]) -> Result<u32> {
        self.store_flagged(id, data).map(|(csize, _)| csize)
    }

    /// [`Store::store`], also saying whether this call stored the object
    /// (so metadata can be kept out of the archive's deduplicated size).
    pub(crate) fn store_flagged(&self, id: &[u8; 32], data: &[u8]) -> Result<(u32, bool)> {
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
                        return Ok((c, false));
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
                Ok((csize, true))
            }
            Err(e) => {
                let msg = e.to_string();
                self.fail(e);
                Err(CoreError::InvalidInput(msg))
            }
        }
    }

    fn put_new(&self, id: &[u8; 32], data: &[u8]) -> Result<u32> {
        let mut envelope = self.compress_for_envelope(data);
        let iv = self.next_iv(&envelope)?;
        self.key.encrypt_in_place(iv, &mut envelope);
        self.put_envelope(id, &envelope)
    }

    /// `data` compressed behind room for the envelope header, to be
    /// encrypted in place: one buffer per chunk instead of two.
    fn compress_for_envelope(&self, data: &[u8]) -> Vec<u8> {
        let headroom = self.key.envelope_headroom();
        let mut envelope = Vec::with_capacity(headroom + data.len() + data.len() / 255 + 64);
        envelope.resize(headroom, 0);
        self.compressor.compress_into(data, &mut envelope);
        envelope
    }

    /// The IV for an envelope from [`Store::compress_for_envelope`].
    fn next_iv(&self, envelope: &[u8]) -> Result<u64> {
        if self.key.key_type().is_encrypted() {
            let payload = envelope.len() - self.key.envelope_headroom();
            Ok(self.nonces.lock().expect("nonces").next_iv(payload)?)
        } else {
            Ok(0)
        }
    }

    fn put_envelope(&self, id: &[u8; 32], envelope: &[u8]) -> Result<u32> {
        self.repo
            .lock()
            .expect("repository lock")
            .put(id, envelope)?;
        Ok(envelope.len() as u32)
    }

    /// A failed `put`: stop everything, and report it (as `store` does).
    fn put_failed(&self, e: CoreError) -> CoreError {
        let msg = e.to_string();
        self.fail(e);
        CoreError::InvalidInput(msg)
    }

    /// [`Store::store`] on a batch, one result per chunk in order. The new
    /// chunks of the batch are compressed, then encrypted with their MACs
    /// computed several at a time ([`Key::encrypt_many_in_place`]). Chunks
    /// another thread is storing are waited for only after this call's own
    /// are stored, so two workers never wait for each other.
    pub(crate) fn store_many(&self, ids: &[[u8; 32]], data: &[&[u8]]) -> Vec<Result<u32>> {
        let mut results: Vec<Option<Result<u32>>> = ids.iter().map(|_| None).collect();
        let mut mine = Vec::new();
        let mut deferred = Vec::new();
        {
            let mut idx = self.index.lock().expect("chunk index");
            for (i, (id, d)) in ids.iter().zip(data).enumerate() {
                if self.stopped() {
                    results[i] = Some(Err(CoreError::Interrupted));
                    continue;
                }
                let Ok(size) = u32::try_from(d.len()) else {
                    results[i] = Some(Err(CoreError::InvalidInput("chunk too large".into())));
                    continue;
                };
                match idx.get(id) {
                    Some((_, _, c)) if c != PENDING => {
                        results[i] = Some(idx.incref(id).map(|_| c).map_err(Into::into));
                    }
                    Some(_) => deferred.push(i),
                    None => match idx.insert(id, (1, size, PENDING)) {
                        Ok(_) => mine.push(i),
                        Err(e) => results[i] = Some(Err(e.into())),
                    },
                }
            }
        }
        let mut sealed: Vec<(usize, u64, Vec<u8>)> = Vec::with_capacity(mine.len());
        for &i in &mine {
            let envelope = self.compress_for_envelope(data[i]);
            match self.next_iv(&envelope) {
                Ok(iv) => sealed.push((i, iv, envelope)),
                Err(e) => {
                    results[i] = Some(Err(self.put_failed(e)));
                    break;
                }
            }
        }
        {
            let mut batch: Vec<(u64, &mut [u8])> = sealed
                .iter_mut()
                .map(|(_, iv, e)| (*iv, e.as_mut_slice()))
                .collect();
            self.key.encrypt_many_in_place(&mut batch);
        }
        for (i, _, envelope) in &sealed {
            let id = &ids[*i];
            if self.stopped() {
                results[*i] = Some(Err(CoreError::Interrupted));
                continue;
            }
            results[*i] = Some(match self.put_envelope(id, envelope) {
                Ok(csize) => {
                    let mut idx = self.index.lock().expect("chunk index");
                    let size = data[*i].len() as u32;
                    let (r, s, _) = idx.get(id).unwrap_or((1, size, csize));
                    let updated = idx.insert(id, (r, s, csize));
                    self.index_cv.notify_all();
                    drop(idx);
                    *self.usize.lock().expect("stats") += u64::from(csize);
                    updated.map(|_| csize).map_err(Into::into)
                }
                Err(e) => Err(self.put_failed(e)),
            });
        }
        for i in deferred {
            results[i] = Some(self.store(&ids[i], data[i]));
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(CoreError::Interrupted)))
            .collect()
    }

    /// Whether `id` is stored (or being stored).
    pub(crate) fn contains(&self, id: &[u8; 32]) -> bool {
        self.index.lock().expect("chunk index").get(id).is_some()
    }

    /// borg's `add_chunk(overwrite=True)`: store `data` under `id` even
    /// when it is present (recompression replaces the stored object), and
    /// add one reference. Returns the new stored size.
    pub(crate) fn store_overwrite(&self, id: &[u8; 32], data: &[u8]) -> Result<u32> {
        let size = u32::try_from(data.len())
            .map_err(|_| CoreError::InvalidInput("chunk too large".into()))?;
        if self.stopped() {
            return Err(CoreError::Interrupted);
        }
        let csize = self.put_new(id, data)?;
        let mut idx = self.index.lock().expect("chunk index");
        let (refs, fresh) = match idx.get(id) {
            Some((r, _, _)) => (r.saturating_add(1), false),
            None => (1, true),
        };
        idx.insert(id, (refs, size, csize))?;
        if fresh {
            *self.usize.lock().expect("stats") += u64::from(csize);
        }
        Ok(csize)
    }

    /// Add a reference to every id of a files-cache hit, if all are present.
    pub(crate) fn incref_all(&self, ids: &[[u8; 32]]) -> Result<Option<Vec<ChunkListEntry>>> {
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

    /// Drop one reference to `id`; an object left without references is
    /// deleted from the repository (borg's `chunk_decref`).
    pub(crate) fn release(&self, id: &[u8; 32]) -> Result<()> {
        let gone = {
            let mut idx = self.index.lock().expect("chunk index");
            match idx.decref(id)? {
                Some(0) => idx.remove(id),
                _ => None,
            }
        };
        if let Some((_, _, csize)) = gone {
            self.repo.lock().expect("repository lock").delete(id)?;
            let mut u = self.usize.lock().expect("stats");
            *u = u.saturating_sub(u64::from(csize));
        }
        Ok(())
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
    Stream(Input, Source),
    /// A file of an [`EntrySource`].
    Entry {
        item: Box<Item>,
        status: char,
        display: Vec<u8>,
        content: Box<dyn Read + Send>,
    },
}

struct Job {
    seq: u64,
    kind: JobKind,
}

/// What a file's result channel carries.
enum ChunkMsg {
    /// Chunk `index` was stored (or failed).
    Chunk(usize, Result<ChunkListEntry>),
    /// Every chunk is submitted: `chunks` of them; `changed` tells whether
    /// the file's ctime moved while it was read.
    End { chunks: usize, changed: bool },
    /// Reading failed after `chunks` chunks were submitted.
    ReadError {
        chunks: usize,
        message: String,
        code: u8,
    },
}

/// The receiving end of one file's chunk results.
type ChunkResults = Receiver<ChunkMsg>;

struct ChunkTask {
    data: Vec<u8>,
    size: usize,
    zero: bool,
    index: usize,
    reply: Sender<ChunkMsg>,
}

/// Lets the collector stop new chunks from entering the pool and wait until
/// every chunk in it is stored, so that a checkpoint commit holds no chunk
/// that no item references. It also bounds the bytes in the pool (queued
/// and being stored), so memory stays flat whatever the chunk sizes.
struct Gate {
    /// (closed, chunks submitted and not yet stored, their bytes)
    state: Mutex<(bool, usize, usize)>,
    cv: Condvar,
}

/// Chunk bytes in the pool at most (a lone chunk may exceed it): enough
/// for every worker to store a full batch while the next ones queue.
/// Measured on two cores: 8 MiB starves the workers while the readers wait
/// for the disk (10% slower), 32 MiB gains little more and costs 25 MiB.
const POOL_BYTES: usize = 16 * 1024 * 1024;

impl Gate {
    fn new() -> Self {
        Gate {
            state: Mutex::new((false, 0, 0)),
            cv: Condvar::new(),
        }
    }

    /// Wait while closed or while the pool is full, then count one chunk
    /// of `bytes` in.
    fn enter(&self, bytes: usize) {
        let mut st = self.state.lock().expect("gate");
        while st.0 || (st.1 > 0 && st.2 + bytes > POOL_BYTES) {
            st = self.cv.wait(st).expect("gate");
        }
        st.1 += 1;
        st.2 += bytes;
    }

    /// Count one chunk of `bytes` out (after its reply is sent).
    fn leave(&self, bytes: usize) {
        let mut st = self.state.lock().expect("gate");
        st.1 -= 1;
        st.2 -= bytes;
        self.cv.notify_all();
    }

    /// Close and wait until every chunk in the pool is stored.
    fn close_and_drain(&self) {
        let mut st = self.state.lock().expect("gate");
        st.0 = true;
        while st.1 > 0 {
            st = self.cv.wait(st).expect("gate");
        }
    }

    fn open(&self) {
        let mut st = self.state.lock().expect("gate");
        st.0 = false;
        self.cv.notify_all();
    }
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
    /// A file whose chunks are being read and stored; sent before its
    /// first chunk, results follow on `results`.
    Chunked {
        item: Item,
        status: char,
        display: Vec<u8>,
        results: ChunkResults,
        memo: Option<([u8; 32], FileCacheEntry)>,
    },
    /// A per-object failure (warning, rc 1); `status` says whether an `E`
    /// line is listed (not for a command-line path that cannot be stat'ed).
    Failed {
        display: Vec<u8>,
        message: String,
        code: u8,
        status: bool,
    },
    /// Nothing to store (socket, vanished object).
    Skip,
    /// The walk left the directory stored as object `seq`: borg lists a
    /// directory after its contents (`show`), or not at all when it was
    /// kept only for its exclusion tags.
    DirEnd { seq: u64, show: bool },
    /// A status line only (`x` for an excluded path), listed in walk order.
    Status(char, Vec<u8>),
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
    sources: Vec<(Source, Option<Input>)>,
    matcher: &mut PatternMatcher,
    opts: &CreateOptions,
    observer: &dyn CreateObserver,
    interrupt: &AtomicBool,
    sigint: &AtomicBool,
) -> Result<CreateOutcome> {
    create_inner(
        session,
        cache,
        Feed::Sources(sources),
        matcher,
        opts,
        observer,
        interrupt,
        sigint,
    )
}

/// Store the objects of `entries` as a new archive (borg's `import-tar`
/// on the create pipeline: same chunker, deduplication, checkpoints and
/// statistics). Like borg's import-tar, each regular file counts twice in
/// the number of files.
#[allow(clippy::too_many_arguments)]
pub fn create_entries(
    session: &mut Session,
    cache: &mut Cache,
    entries: &mut dyn EntrySource,
    opts: &CreateOptions,
    observer: &dyn CreateObserver,
    interrupt: &AtomicBool,
    sigint: &AtomicBool,
) -> Result<CreateOutcome> {
    let mut matcher = PatternMatcher::new(Some(true));
    create_inner(
        session,
        cache,
        Feed::Entries(entries),
        &mut matcher,
        opts,
        observer,
        interrupt,
        sigint,
    )
}

#[allow(clippy::too_many_arguments)]
fn create_inner(
    session: &mut Session,
    cache: &mut Cache,
    feed: Feed<'_>,
    matcher: &mut PatternMatcher,
    opts: &CreateOptions,
    observer: &dyn CreateObserver,
    interrupt: &AtomicBool,
    sigint: &AtomicBool,
) -> Result<CreateOutcome> {
    // borg's import-tar counts each file in its processor's statistics and
    // again in the archive's.
    let nfiles_weight = if matches!(feed, Feed::Entries(_)) {
        2
    } else {
        1
    };
    if session.manifest().archive(&opts.name).is_some() {
        return Err(CoreError::ArchiveAlreadyExists(
            String::from_utf8_lossy(&opts.name).into_owned(),
        ));
    }
    let checkpoint_name = checkpoint_name(session.manifest(), &opts.name);
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
    let manifest = &mut session.manifest;
    let gate = Gate::new();
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
    let (task_tx, task_rx) = bounded::<ChunkTask>(threads * STORE_BATCH);
    let (out_tx, out_rx) = unbounded::<(u64, Outcome)>();

    let collected = std::thread::scope(|s| {
        // Chunk pool.
        for _ in 0..threads {
            let task_rx = task_rx.clone();
            let store = &store;
            let key = &key;
            let gate = &gate;
            s.spawn(move || chunk_worker(task_rx, store, key, gate));
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
            let gate = &gate;
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
                    gate,
                )
            });
        }
        drop(job_rx);
        drop(task_tx);
        // Collector.
        let collector = Collector {
            store: &store,
            key: &key,
            items_chunker: &items_chunker,
            window: &window,
            observer,
            warnings: &warnings,
            gate: &gate,
            opts,
            checkpoint: (!opts.dry_run).then_some(CheckpointTarget {
                manifest,
                name: checkpoint_name,
                interval: opts.checkpoint_interval,
                sigint,
                started: clock,
            }),
            last_checkpoint: clock,
            pending: BTreeMap::new(),
            next: 0,
            buffer: Vec::new(),
            item_ids: Vec::new(),
            stats: Stats::default(),
            meta_usize: 0,
            updates: Vec::new(),
            refs: ChunkIndex::new(),
            failure: None,
            dir_status: HashMap::new(),
            stopping: false,
            nfiles_weight,
        };
        let collector = s.spawn(move || collector.run(out_rx));
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
        let sources = match feed {
            Feed::Sources(s) => s,
            Feed::Entries(e) => {
                walker.walk_entries(e);
                Vec::new()
            }
        };
        for (source, reader) in sources {
            if store.halted() {
                break;
            }
            match (source, reader) {
                (Source::Path(p), _) => walker.walk_root(&p),
                (Source::Stream { name, .. }, _) if opts.dry_run => {
                    // borg does not read the stream (nor run the command).
                    walker.status('-', &name);
                }
                (src @ Source::Stream { .. }, Some(r)) => {
                    if let Source::Stream { name, .. } = &src {
                        // borg lists `i` before it reads the stream.
                        walker.status('i', name);
                    }
                    walker.send(JobKind::Stream(r, src));
                }
                (Source::PathList { delimiter }, Some(mut r)) => {
                    walker.walk_list(&mut r.reader, &delimiter);
                    if let Err(e) = r.finish() {
                        store.input_failed(e);
                    }
                }
                (Source::Stream { .. } | Source::PathList { .. }, None) => {}
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
            if matches!(e, CoreError::SigInt) {
                return Err(e);
            }
            return Err(stored_err.unwrap_or(e));
        }
    };
    if interrupt.load(Ordering::SeqCst) {
        return Err(CoreError::Interrupted);
    }
    // A failed input (borg's CommandError once the command ended): every
    // item was processed and listed, but the archive is not saved.
    let input_error = store.input_error.lock().expect("input error slot").take();
    if let Some(e) = input_error {
        return Err(e);
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
    let (start, end) = times(opts.timestamp, duration);
    let mut refs = archive_refs;
    let archive = archive_item(opts, &opts.name, item_ids, &file_stats, start, end);
    let data = key.pack_and_authenticate(archive.to_value(), CONTEXT_ARCHIVE, None)?;
    let id = key.id_hash(&data);
    let (csize, meta_new) = store.store_flagged(&id, &data)?;
    refs.add(&id, 1, data.len() as u32, csize)?;
    let next_nonce = store.next_nonce();
    let (idx, usize, err) = store.into_index();
    if let Some(e) = err {
        return Err(e);
    }
    // borg's archive statistics leave out the metadata (item stream and
    // archive object).
    let meta_usize = file_stats.usize + if meta_new { u64::from(csize) } else { 0 };
    file_stats.usize = usize.saturating_sub(meta_usize);
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

/// The lengths of the item-stream chunks to store from `buffer` now: all of
/// them at the end (`all`), else all but the last, which more items may
/// still extend (borg's `ChunkBuffer.flush`).
pub(crate) fn item_stream_cuts(chunker: &Chunker, buffer: &[u8], all: bool) -> Vec<usize> {
    let mut cuts: Vec<usize> = chunker.split(buffer).map(|c| c.len()).collect();
    if !all {
        cuts.pop();
    }
    cuts
}

/// borg's checkpoint name: `NAME.checkpoint`, or `NAME.checkpoint.N` for the
/// first N that is free.
fn checkpoint_name(manifest: &oxiborg_format::Manifest, name: &[u8]) -> Vec<u8> {
    let mut i = 0u64;
    loop {
        let mut n = name.to_vec();
        n.extend_from_slice(b".checkpoint");
        if i > 0 {
            n.extend_from_slice(format!(".{i}").as_bytes());
        }
        if manifest.archive(&n).is_none() {
            return n;
        }
        i += 1;
    }
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

/// Chunks a worker stores together at most ([`Store::store_many`]), and
/// the bytes after which it stops adding more.
const STORE_BATCH: usize = 4;
const STORE_BATCH_BYTES: usize = 8 * 1024 * 1024;

fn chunk_worker(rx: Receiver<ChunkTask>, store: &Store<'_, '_>, key: &Key, gate: &Gate) {
    let mut zeros: Vec<u8> = Vec::new();
    // borg's `zero_chunk_ids`: the id of an all-zero chunk depends only on
    // its size, so each size is hashed once.
    let mut zero_ids: HashMap<usize, [u8; 32]> = HashMap::new();
    while let Ok(first) = rx.recv() {
        // Take what is already queued, without waiting: hashing several
        // chunks at once is cheaper, but a lone chunk is not held back.
        let mut bytes = first.size;
        let mut batch = vec![first];
        while batch.len() < STORE_BATCH && bytes < STORE_BATCH_BYTES {
            match rx.try_recv() {
                Ok(t) => {
                    bytes += t.size;
                    batch.push(t);
                }
                Err(_) => break,
            }
        }
        if store.stopped() {
            for t in batch {
                let _ = t
                    .reply
                    .send(ChunkMsg::Chunk(t.index, Err(CoreError::Interrupted)));
                gate.leave(t.data.len());
            }
            continue;
        }
        let zero_max = batch.iter().filter(|t| t.zero).map(|t| t.size).max();
        if let Some(n) = zero_max {
            if zeros.len() < n {
                zeros.resize(n, 0);
            }
        }
        let data: Vec<&[u8]> = batch
            .iter()
            .map(|t| {
                if t.zero {
                    &zeros[..t.size]
                } else {
                    &t.data[..]
                }
            })
            .collect();
        let hashed: Vec<&[u8]> = batch
            .iter()
            .zip(&data)
            .filter(|(t, _)| !t.zero)
            .map(|(_, d)| *d)
            .collect();
        let mut hashed = key.id_hash_many(&hashed).into_iter();
        let ids: Vec<[u8; 32]> = batch
            .iter()
            .zip(&data)
            .map(|(t, d)| {
                if t.zero {
                    *zero_ids.entry(t.size).or_insert_with(|| key.id_hash(d))
                } else {
                    hashed.next().unwrap_or_default()
                }
            })
            .collect();
        let results = store.store_many(&ids, &data);
        for ((t, id), r) in batch.iter().zip(&ids).zip(results) {
            let r = r.map(|csize| ChunkListEntry {
                id: *id,
                size: t.size as u64,
                csize: u64::from(csize),
            });
            let _ = t.reply.send(ChunkMsg::Chunk(t.index, r));
            gate.leave(t.data.len());
        }
    }
}

/// borg's `BackupOSError` text for a failed `op` (`open`, `stat`,
/// `dir_open`, ...): `op: [Errno N] strerror: 'filename'` (Python's
/// `OSError` string; the filename is what the call was given), and its
/// modern warning code.
fn os_err(op: &str, e: &std::io::Error, filename: Option<&[u8]>) -> (String, u8) {
    let code = match e.raw_os_error() {
        Some(libc_code)
            if libc_code == rustix::io::Errno::ACCESS.raw_os_error()
                || libc_code == rustix::io::Errno::PERM.raw_os_error() =>
        {
            105
        }
        Some(libc_code) if libc_code == rustix::io::Errno::NOENT.raw_os_error() => 107,
        _ => 104,
    };
    let text = match e.raw_os_error() {
        Some(n) => {
            let base = format!("[Errno {n}] {}", strip_os_suffix(&e.to_string()));
            match filename {
                Some(f) => format!("{base}: {}", py_repr(f)),
                None => base,
            }
        }
        None => e.to_string(),
    };
    (format!("{op}: {text}"), code)
}

/// Python's `repr` of a file name (a `str`, surrogate-escaped bytes shown
/// lossily).
fn py_repr(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// The last component of `path` (what borg passes to `*at` calls).
fn base_name(path: &Path) -> &[u8] {
    path.file_name()
        .map_or(path.as_os_str().as_bytes(), |n| n.as_bytes())
}

fn strip_os_suffix(s: &str) -> String {
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// A file (or stream) whose content is to be chunked by the reader thread.
struct ToRead {
    item: Item,
    status: char,
    display: Vec<u8>,
    memo: Option<([u8; 32], FileCacheEntry)>,
    reader: Box<dyn Read + Send>,
    /// The file and its ctime or mtime (`--files-changed`) when opened,
    /// for the changed-while-read check.
    file_stamp: Option<(File, i128)>,
    /// The stream's end check (`--content-from-command`).
    input: Option<Input>,
}

/// What a reader made of a job.
enum Processed {
    Ready(Outcome),
    Read(ToRead),
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
    gate: &Gate,
) {
    for job in rx {
        if store.halted() {
            let _ = out.send((job.seq, Outcome::Skip));
            continue;
        }
        let processed = match job.kind {
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
                store,
                key,
                files_cache,
                opts,
            ),
            JobKind::Stream(input, src) => process_stream(input, src),
            JobKind::Entry {
                item,
                status,
                display,
                content,
            } => Processed::Read(ToRead {
                item: *item,
                status,
                display,
                memo: None,
                reader: content,
                file_stamp: None,
                input: None,
            }),
        };
        match processed {
            Processed::Ready(outcome) => {
                let _ = out.send((job.seq, outcome));
            }
            Processed::Read(mut r) => {
                // The collector learns of the file before its first chunk
                // is stored, so a checkpoint can account for every chunk.
                let (tx, rx) = unbounded();
                let outcome = Outcome::Chunked {
                    item: r.item,
                    status: r.status,
                    display: r.display,
                    results: rx,
                    memo: r.memo,
                };
                if out.send((job.seq, outcome)).is_err() {
                    continue;
                }
                let end = match submit_chunks(&mut r.reader, chunker, &tasks, &tx, gate) {
                    Ok(chunks) => {
                        let changed = match &r.file_stamp {
                            Some((f, before)) => f
                                .metadata()
                                .map(|st2| opts.files_changed.stamp(&st2) != Some(*before))
                                .unwrap_or(false),
                            None => false,
                        };
                        if let Some(input) = r.input.as_mut() {
                            // borg waits for the command once its output
                            // is stored; a failure ends `create` later.
                            if let Err(e) = input.finish() {
                                store.input_failed(e);
                            }
                        }
                        ChunkMsg::End { chunks, changed }
                    }
                    Err((chunks, e)) => {
                        let (message, code) = os_err("read", &e, None);
                        ChunkMsg::ReadError {
                            chunks,
                            message,
                            code,
                        }
                    }
                };
                let _ = tx.send(end);
            }
        }
    }
}

/// Chunk `reader` and queue its chunks, replies going to `reply`. Each chunk
/// is read into its own buffer, which moves into the task: the memory in
/// flight is the queued and in-process chunks, nothing more. Returns the
/// number of chunks submitted, also with a read error.
fn submit_chunks(
    reader: &mut dyn Read,
    chunker: &Chunker,
    tasks: &Sender<ChunkTask>,
    reply: &Sender<ChunkMsg>,
    gate: &Gate,
) -> std::result::Result<usize, (usize, std::io::Error)> {
    let mut chunks = chunker.owned_chunks(reader);
    let mut n = 0;
    loop {
        let c = match chunks.next_chunk() {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(n),
            Err(e) => return Err((n, e)),
        };
        let zero = c.allocation != Allocation::Data;
        let task = ChunkTask {
            data: if zero { Vec::new() } else { c.data },
            size: c.size,
            zero,
            index: n,
            reply: reply.clone(),
        };
        let bytes = task.data.len();
        gate.enter(bytes);
        if tasks.send(task).is_err() {
            gate.leave(bytes);
            return Ok(n);
        }
        n += 1;
    }
}

fn process_stream(mut input: Input, src: Source) -> Processed {
    let Source::Stream {
        name,
        mode,
        user,
        group,
    } = src
    else {
        return Processed::Ready(Outcome::Skip);
    };
    let now = (UtcTimestamp::now().unix_seconds() as i128) * 1_000_000_000;
    // borg's `process_pipe` stores the name as given.
    let mut item = Item::new(name.clone(), now);
    item.mode = Some((mode & 0o107777) | S_IFREG);
    item.uid = Some(i64::from(user.1));
    item.gid = Some(i64::from(group.1));
    item.user = Some(user.0);
    item.group = Some(group.0);
    item.atime = Some(now);
    item.ctime = Some(now);
    item.hardlink_master = Some(false);
    let reader = std::mem::replace(&mut input.reader, Box::new(std::io::empty()));
    Processed::Read(ToRead {
        item,
        status: NO_STATUS,
        display: name,
        memo: None,
        reader,
        file_stamp: None,
        input: Some(input),
    })
}

/// Whether a mode is a FIFO or a device (borg's `is_special`).
fn is_special(ft: std::fs::FileType) -> bool {
    ft.is_fifo() || ft.is_char_device() || ft.is_block_device()
}

/// borg's `--read-special` branch of `_process_any`: a FIFO or device, or a
/// symlink to one, is opened (following the link) and read like a regular
/// file, stored with a regular-file mode, never looked up in or added to
/// the files cache, and never reported as changed. `None` when `path` is
/// not such an object.
fn read_special(
    path: &Path,
    stored: &[u8],
    st: &Metadata,
    slave_of: Option<&Vec<u8>>,
    hardlinked: bool,
    opts: &CreateOptions,
) -> Option<std::result::Result<Processed, (String, u8)>> {
    let ft = st.file_type();
    let special = is_special(ft)
        || (ft.is_symlink() && std::fs::metadata(path).is_ok_and(|t| is_special(t.file_type())));
    if !special {
        return None;
    }
    let display = path.as_os_str().as_bytes().to_vec();
    let run = || -> std::result::Result<Processed, (String, u8)> {
        let file = File::open(path).map_err(|e| os_err("open", &e, Some(base_name(path))))?;
        let st = file.metadata().map_err(|e| os_err("fstat", &e, None))?;
        let mut item = Item::new(stored.to_vec(), 0);
        meta::stat_simple_attrs(&mut item, &st, &opts.meta).map_err(|e| (e, 104))?;
        meta::stat_ext_attrs_fd(&mut item, &file, path, &st, &opts.meta).map_err(|e| (e, 104))?;
        item.mode = Some(0o100000 | (st.mode() & 0o7777));
        item.rdev = None;
        if let Some(master) = slave_of {
            item.source = Some(master.clone());
            return Ok(Processed::Ready(Outcome::Item {
                item,
                status: 'h',
                display: display.clone(),
                counts_file: false,
                memo: None,
            }));
        }
        item.hardlink_master = Some(hardlinked);
        Ok(Processed::Read(ToRead {
            item,
            status: 'A',
            display: display.clone(),
            memo: None,
            reader: Box::new(file),
            file_stamp: None,
            input: None,
        }))
    };
    Some(run())
}

#[allow(clippy::too_many_arguments)]
fn process_fs(
    path: &Path,
    stored: Vec<u8>,
    st: &Metadata,
    slave_of: Option<Vec<u8>>,
    hardlinked: bool,
    store: &Store<'_, '_>,
    key: &Key,
    files_cache: &FilesCache,
    opts: &CreateOptions,
) -> Processed {
    let display = path.as_os_str().as_bytes().to_vec();
    let fail = |(message, code): (String, u8)| {
        Processed::Ready(Outcome::Failed {
            display: display.clone(),
            message,
            code,
            status: true,
        })
    };
    let name = base_name(path);
    let ft = st.file_type();
    let mut item = Item::new(stored, 0);
    if let Err(e) = meta::stat_simple_attrs(&mut item, st, &opts.meta) {
        return fail((e, 104));
    }
    if opts.read_special {
        if let Some(p) = read_special(path, &item.path, st, slave_of.as_ref(), hardlinked, opts) {
            return p.unwrap_or_else(&fail);
        }
    }
    if ft.is_file() {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) => return fail(os_err("open", &e, Some(name))),
        };
        // Re-stat the open file: what we read must be what we describe.
        let st = match file.metadata() {
            Ok(m) => m,
            Err(e) => return fail(os_err("fstat", &e, None)),
        };
        if let Err(e) = meta::stat_simple_attrs(&mut item, &st, &opts.meta) {
            return fail((e, 104));
        }
        if let Err(e) = meta::stat_ext_attrs_fd(&mut item, &file, path, &st, &opts.meta) {
            return fail((e, 104));
        }
        if let Some(master) = slave_of {
            item.source = Some(master);
            return Processed::Ready(Outcome::Item {
                item,
                status: 'h',
                display,
                counts_file: false,
                memo: None,
            });
        }
        item.hardlink_master = Some(hardlinked);
        let mode = opts.files_cache_mode;
        let cmtime: i128 = if mode.ctime || !mode.mtime {
            meta::ctime_ns(&st)
        } else {
            meta::mtime_ns(&st)
        };
        // The files-cache entry this file gets (its chunk ids come later).
        let fresh_entry = || FileCacheEntry {
            age: 0,
            inode: st.ino(),
            size: st.size(),
            cmtime,
            chunk_ids: Vec::new(),
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
                            return Processed::Ready(Outcome::Item {
                                item,
                                status: 'U',
                                display,
                                counts_file: true,
                                memo: Some((h, fresh_entry(), true)),
                            });
                        }
                        Ok(None) => {}
                        Err(e) => return fail((e.to_string(), 104)),
                    }
                }
            }
        }
        let memo = path_hash.map(|h| (h, fresh_entry()));
        let check = match opts.files_changed.stamp(&st) {
            Some(before) => match file.try_clone() {
                Ok(f) => Some((f, before)),
                Err(e) => return fail(os_err("open", &e, Some(name))),
            },
            None => None,
        };
        Processed::Read(ToRead {
            item,
            status,
            display,
            memo,
            reader: Box::new(file),
            file_stamp: check,
            input: None,
        })
    } else {
        if let Err(e) = meta::stat_ext_attrs(&mut item, path, st, &opts.meta) {
            return fail((e, 104));
        }
        let status = if ft.is_dir() {
            'd'
        } else if ft.is_symlink() {
            match std::fs::read_link(path) {
                Ok(t) => item.source = Some(t.as_os_str().as_bytes().to_vec()),
                Err(e) => return fail(os_err("readlink", &e, Some(name))),
            }
            's'
        } else if ft.is_fifo() || ft.is_block_device() || ft.is_char_device() {
            if ft.is_block_device() || ft.is_char_device() {
                item.rdev = Some(st.rdev());
            }
            if let Some(master) = slave_of {
                item.source = Some(master);
                return Processed::Ready(Outcome::Item {
                    item,
                    status: 'h',
                    display,
                    counts_file: false,
                    memo: None,
                });
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
            return Processed::Ready(Outcome::Skip);
        };
        Processed::Ready(Outcome::Item {
            item,
            status,
            display,
            counts_file: false,
            memo: None,
        })
    }
}

type Collected = (
    Vec<[u8; 32]>,
    Stats,
    Vec<([u8; 32], FileCacheEntry, bool)>,
    ChunkIndex,
);

/// A file whose chunks are still arriving at the collector.
struct InFlight {
    item: Item,
    status: char,
    display: Vec<u8>,
    results: ChunkResults,
    memo: Option<([u8; 32], FileCacheEntry)>,
    list: Vec<Option<ChunkListEntry>>,
    received: usize,
    /// Number of chunks, once the reader is done.
    end: Option<usize>,
    changed: bool,
    read_error: Option<(String, u8)>,
    error: Option<CoreError>,
    /// Chunks before this one are in part items already.
    from_chunk: usize,
    /// The next part number (borg's `part_number`, from 1).
    part: u64,
}

impl InFlight {
    fn absorb(&mut self, msg: ChunkMsg) {
        match msg {
            ChunkMsg::Chunk(i, r) => {
                self.received += 1;
                match r {
                    Ok(c) => {
                        if self.list.len() <= i {
                            self.list.resize(i + 1, None);
                        }
                        self.list[i] = Some(c);
                    }
                    Err(e) => {
                        self.error.get_or_insert(e);
                    }
                }
            }
            ChunkMsg::End { chunks, changed } => {
                self.end = Some(chunks);
                self.changed = changed;
            }
            ChunkMsg::ReadError {
                chunks,
                message,
                code,
            } => {
                self.end = Some(chunks);
                self.read_error = Some((message, code));
            }
        }
    }

    fn complete(&self) -> bool {
        self.error.is_some() || self.end.is_some_and(|n| self.received >= n)
    }

    /// Take every result that is already there.
    fn poll(&mut self) {
        while let Ok(m) = self.results.try_recv() {
            self.absorb(m);
        }
    }

    /// Wait up to `timeout` for one more result.
    fn wait(&mut self, timeout: std::time::Duration) {
        match self.results.recv_timeout(timeout) {
            Ok(m) => {
                self.absorb(m);
                self.poll();
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                if !self.complete() {
                    self.error.get_or_insert(CoreError::Interrupted);
                }
            }
        }
    }

    /// Number of leading chunks that are stored.
    fn stored_prefix(&self) -> usize {
        self.list.iter().take_while(|c| c.is_some()).count()
    }
}

/// The outcomes waiting for their turn in walk order. (`Ready` is large,
/// but the map holds at most the window's worth.)
#[allow(clippy::large_enum_variant)]
enum Slot {
    Ready(Outcome),
    File(Box<InFlight>),
}

/// Where the collector writes checkpoints.
pub(crate) struct CheckpointTarget<'m> {
    manifest: &'m mut crate::manifest::LoadedManifest,
    name: Vec<u8>,
    interval: Option<std::time::Duration>,
    sigint: &'m AtomicBool,
    started: std::time::Instant,
}

struct Collector<'a, 's, 'r, 'm> {
    store: &'a Store<'s, 'r>,
    key: &'a Key,
    items_chunker: &'a Chunker,
    window: &'a Window,
    observer: &'a dyn CreateObserver,
    warnings: &'a AtomicBool,
    gate: &'a Gate,
    opts: &'a CreateOptions,
    checkpoint: Option<CheckpointTarget<'m>>,
    last_checkpoint: std::time::Instant,
    pending: BTreeMap<u64, Slot>,
    next: u64,
    buffer: Vec<u8>,
    item_ids: Vec<[u8; 32]>,
    stats: Stats,
    /// Stored bytes of item-stream chunks this run added.
    meta_usize: u64,
    updates: Vec<([u8; 32], FileCacheEntry, bool)>,
    refs: ChunkIndex,
    failure: Option<CoreError>,
    /// Status lines of stored directories, listed at their `DirEnd`.
    dir_status: HashMap<u64, (char, Vec<u8>)>,
    /// A SIGINT checkpoint was written: finish the files being read, then
    /// end with `SigInt` without saving the archive.
    stopping: bool,
    /// How much a stored file adds to the number of files (2 for
    /// import-tar, as borg counts its files twice).
    nfiles_weight: u64,
}

const POLL: std::time::Duration = std::time::Duration::from_millis(100);

impl Collector<'_, '_, '_, '_> {
    fn insert(&mut self, seq: u64, outcome: Outcome) {
        let slot = match outcome {
            Outcome::Chunked {
                item,
                status,
                display,
                results,
                memo,
            } => Slot::File(Box::new(InFlight {
                item,
                status,
                display,
                results,
                memo,
                list: Vec::new(),
                received: 0,
                end: None,
                changed: false,
                read_error: None,
                error: None,
                from_chunk: 0,
                part: 1,
            })),
            other => Slot::Ready(other),
        };
        self.pending.insert(seq, slot);
    }

    /// Write out every object at the head of the walk order that is
    /// complete, without waiting.
    fn advance(&mut self) {
        loop {
            let ready = match self.pending.get_mut(&self.next) {
                None => false,
                Some(Slot::Ready(_)) => true,
                Some(Slot::File(f)) => {
                    f.poll();
                    f.complete()
                }
            };
            if !ready {
                return;
            }
            let slot = self.pending.remove(&self.next).expect("head slot");
            let seq = self.next;
            self.next += 1;
            {
                let mut d = self.window.done.lock().expect("window");
                *d = self.next;
                self.window.cv.notify_all();
            }
            if self.failure.is_some() {
                continue;
            }
            if let Err(e) = self.finish(seq, slot) {
                self.failure = Some(e);
            }
        }
    }

    fn finish(&mut self, seq: u64, slot: Slot) -> Result<()> {
        let (item, status, display) = match slot {
            Slot::Ready(Outcome::Skip) | Slot::Ready(Outcome::Chunked { .. }) => return Ok(()),
            Slot::Ready(Outcome::Status(status, display)) => {
                self.observer.status(status, &display);
                return Ok(());
            }
            Slot::Ready(Outcome::DirEnd { seq, show }) => {
                if let Some((status, display)) = self.dir_status.remove(&seq) {
                    if show {
                        self.observer.status(status, &display);
                    }
                }
                return Ok(());
            }
            Slot::Ready(Outcome::Failed {
                display,
                message,
                code,
                status,
            }) => {
                self.warnings.store(true, Ordering::SeqCst);
                self.observer.warning_code(code);
                self.observer
                    .warning(&format!("{}: {message}", String::from_utf8_lossy(&display)));
                if status {
                    self.observer.status('E', &display);
                }
                return Ok(());
            }
            Slot::Ready(Outcome::Item {
                item,
                status,
                display,
                counts_file,
                memo,
            }) => {
                if counts_file {
                    self.stats.nfiles += 1;
                }
                if let Some((h, mut e, touch)) = memo {
                    if let Some(chunks) = &item.chunks {
                        e.chunk_ids = chunks.iter().map(|c| c.id).collect();
                    }
                    self.updates.push((h, e, touch));
                }
                (item, status, display)
            }
            Slot::File(f) => match self.finish_file(*f)? {
                Some(done) => done,
                None => return Ok(()),
            },
        };
        if let Some(chunks) = &item.chunks {
            for c in chunks {
                self.refs.add(&c.id, 1, c.size as u32, c.csize as u32)?;
                self.stats.osize += c.size;
                self.stats.csize += c.csize;
            }
        }
        if item.is_dir() {
            self.dir_status.insert(seq, (status, display.clone()));
        } else if status != NO_STATUS {
            self.observer.status(status, &display);
        }
        let deduplicated = *self.store.usize.lock().expect("stats");
        self.observer.progress(
            self.stats.osize,
            self.stats.csize,
            deduplicated,
            self.stats.nfiles,
            &display,
        );
        self.add_item(&item)
    }

    fn add_item(&mut self, item: &Item) -> Result<()> {
        item.encode_into(&mut self.buffer);
        if self.buffer.len() >= ITEM_BUFFER {
            self.flush(false)?;
        }
        Ok(())
    }

    /// A completed file: its item, or `None` when it failed (then its
    /// chunks that no part item holds are released again).
    fn finish_file(&mut self, mut f: InFlight) -> Result<Option<(Item, char, Vec<u8>)>> {
        if let Some(e) = f.error.take() {
            return Err(e);
        }
        if let Some((message, code)) = f.read_error.take() {
            self.release_unreferenced(&f)?;
            self.warnings.store(true, Ordering::SeqCst);
            self.observer.warning_code(code);
            self.observer.warning(&format!(
                "{}: {message}",
                String::from_utf8_lossy(&f.display)
            ));
            self.observer.status('E', &f.display);
            return Ok(None);
        }
        if f.part > 1 && f.list.len() > f.from_chunk {
            // borg puts the rest of a file that has parts into a last part.
            self.write_part(&mut f)?;
        }
        let list: Vec<ChunkListEntry> = std::mem::take(&mut f.list).into_iter().flatten().collect();
        let size: u64 = list.iter().map(|c| c.size).sum();
        if f.part > 1 {
            // The complete item references the chunks the parts hold again.
            let mut idx = self.store.index.lock().expect("chunk index");
            for c in &list {
                idx.incref(&c.id)?;
                self.stats.osize_parts += c.size;
                self.stats.csize_parts += c.csize;
            }
            self.stats.nfiles_parts += f.part - 1;
        }
        let mut item = f.item;
        item.size = Some(size);
        self.stats.nfiles += self.nfiles_weight;
        let mut status = f.status;
        if f.changed {
            // borg lists the file with its first status, then warns and
            // lists it again as `C`.
            self.observer.status(status, &f.display);
            status = 'C';
            self.warnings.store(true, Ordering::SeqCst);
            self.observer.warning_code(100);
            self.observer.warning(&format!(
                "{}: file changed while we backed it up",
                String::from_utf8_lossy(&f.display)
            ));
        } else if let Some((h, mut e)) = f.memo {
            e.chunk_ids = list.iter().map(|c| c.id).collect();
            self.updates.push((h, e, false));
        }
        item.chunks = Some(list);
        Ok(Some((item, status, f.display)))
    }

    /// Drop the references of a failed file's stored chunks (those not in
    /// a part item), deleting objects nothing else uses: no orphans.
    fn release_unreferenced(&mut self, f: &InFlight) -> Result<()> {
        for c in f.list.iter().skip(f.from_chunk).flatten() {
            self.store.release(&c.id)?;
        }
        Ok(())
    }

    /// Add a part item `PATH.borg_part_N` for the stored chunks of `f` that
    /// no part holds yet (borg's `write_part_file`).
    fn write_part(&mut self, f: &mut InFlight) -> Result<()> {
        let upto = f.stored_prefix();
        if upto <= f.from_chunk {
            return Ok(());
        }
        let chunks: Vec<ChunkListEntry> = f.list[f.from_chunk..upto]
            .iter()
            .map(|c| c.expect("stored prefix"))
            .collect();
        let mut item = f.item.clone();
        item.path
            .extend_from_slice(format!(".borg_part_{}", f.part).as_bytes());
        item.part = Some(f.part);
        item.size = Some(chunks.iter().map(|c| c.size).sum());
        for c in &chunks {
            self.refs.add(&c.id, 1, c.size as u32, c.csize as u32)?;
        }
        item.chunks = Some(chunks);
        f.from_chunk = upto;
        f.part += 1;
        self.add_item(&item)
    }

    /// Cut the item stream into chunks and store them (all of it with `all`).
    fn flush(&mut self, all: bool) -> Result<()> {
        let mut off = 0;
        for len in item_stream_cuts(self.items_chunker, &self.buffer, all) {
            let data = &self.buffer[off..off + len];
            let id = self.key.id_hash(data);
            let (csize, new) = self.store.store_flagged(&id, data)?;
            // borg counts item-stream chunks in `meta_stats`, not in the
            // archive's statistics.
            if new {
                self.meta_usize += u64::from(csize);
            }
            self.refs.add(&id, 1, data.len() as u32, csize)?;
            self.item_ids.push(id);
            off += len;
        }
        self.buffer.drain(..off);
        Ok(())
    }

    fn checkpoint_due(&self) -> bool {
        if self.stopping {
            return false;
        }
        match &self.checkpoint {
            None => false,
            Some(c) => {
                c.sigint.load(Ordering::SeqCst)
                    || c.interval
                        .is_some_and(|i| self.last_checkpoint.elapsed() > i)
            }
        }
    }

    /// borg's `write_checkpoint`: with the pool drained, write part items
    /// for the files in flight, then the archive as `NAME.checkpoint`,
    /// commit, and take the checkpoint out of the manifest again (its
    /// object is deleted in the next transaction, as borg does).
    fn write_checkpoint(&mut self, rx: &Receiver<(u64, Outcome)>) -> Result<()> {
        self.gate.close_and_drain();
        let r = self.write_checkpoint_drained(rx);
        self.gate.open();
        self.last_checkpoint = std::time::Instant::now();
        r
    }

    fn write_checkpoint_drained(&mut self, rx: &Receiver<(u64, Outcome)>) -> Result<()> {
        while let Ok((seq, o)) = rx.try_recv() {
            self.insert(seq, o);
        }
        self.advance();
        if let Some(e) = self.failure.take() {
            return Err(e);
        }
        // Every chunk in the pool is stored now; files that are not at the
        // head (or not complete) keep theirs in part items.
        let seqs: Vec<u64> = self.pending.keys().copied().collect();
        for seq in seqs {
            // Only files get part items; everything else waits, untouched,
            // for its turn in walk order.
            let mut f = match self.pending.remove(&seq) {
                Some(Slot::File(f)) => f,
                Some(other) => {
                    self.pending.insert(seq, other);
                    continue;
                }
                None => continue,
            };
            f.poll();
            let r = if f.error.is_none() && f.read_error.is_none() {
                self.write_part(&mut f)
            } else {
                Ok(())
            };
            self.pending.insert(seq, Slot::File(f));
            r?;
        }
        self.flush(true)?;
        let store = self.store;
        let key = self.key;
        let opts = self.opts;
        let stats = self.stats;
        let items = self.item_ids.clone();
        let Some(target) = self.checkpoint.as_mut() else {
            return Ok(());
        };
        let (start, end) = times(opts.timestamp, target.started.elapsed());
        let archive = archive_item(opts, &target.name, items, &stats, start, end);
        let data = key.pack_and_authenticate(archive.to_value(), CONTEXT_ARCHIVE, None)?;
        let id = key.id_hash(&data);
        store.store(&id, &data)?;
        let manifest = &mut *target.manifest;
        manifest
            .manifest
            .set_archive(target.name.clone(), id, start.format_iso());
        let lz4 = Compressor::new(oxiborg_format::CompressionSpec::Lz4);
        let sealed = {
            let mut nonces = store.nonces.lock().expect("nonces");
            crate::manifest::seal_manifest(key, &mut nonces, &mut manifest.manifest, &lz4)
        };
        manifest.manifest.remove_archive(&target.name);
        let (mid, envelope) = sealed?;
        {
            let mut repo = store.repo.lock().expect("repository lock");
            repo.put(&oxiborg_format::MANIFEST_ID, &envelope)?;
            repo.commit(oxiborg_repository::CommitOptions::default())?;
        }
        manifest.id = mid;
        if key.key_type().is_encrypted() {
            manifest.manifest_nonce = oxiborg_crypto::manifest_nonce(&envelope)?;
        }
        // The checkpoint leaves the manifest; its object goes with the next
        // commit, or stays if there is none (borg's chunk_decref).
        store.release(&id)?;
        Ok(())
    }

    fn run(mut self, rx: Receiver<(u64, Outcome)>) -> Result<Collected> {
        let mut rx_open = true;
        loop {
            self.advance();
            if self.failure.is_none() && self.checkpoint_due() {
                let sigint = self
                    .checkpoint
                    .as_ref()
                    .is_some_and(|c| c.sigint.load(Ordering::SeqCst));
                if let Err(e) = self.write_checkpoint(&rx) {
                    self.failure = Some(e);
                } else if sigint {
                    // borg finishes (and lists) the file it is reading, then
                    // leaves the walk; the archive itself is not saved.
                    self.stopping = true;
                    self.store.halt.store(true, Ordering::SeqCst);
                }
                if self.failure.is_some() {
                    self.store.fail(CoreError::Interrupted);
                }
                continue;
            }
            if let Some(Slot::File(f)) = self.pending.get_mut(&self.next) {
                f.wait(POLL);
                continue;
            }
            if !rx_open {
                break;
            }
            match rx.recv_timeout(POLL) {
                Ok((seq, o)) => self.insert(seq, o),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => rx_open = false,
            }
        }
        if let Some(e) = self.failure {
            self.store.fail(CoreError::Interrupted);
            return Err(e);
        }
        if self.stopping {
            self.store.fail(CoreError::Interrupted);
            return Err(CoreError::SigInt);
        }
        self.flush(true)?;
        // The caller replaces `usize` with the store's total; hand over the
        // part the item stream added, which borg does not count.
        self.stats.usize = self.meta_usize;
        Ok((self.item_ids, self.stats, self.updates, self.refs))
    }
}

/// Start and end of an archive that took `duration`, from `--timestamp`
/// or now (borg's `save`).
fn times(
    timestamp: Option<UtcTimestamp>,
    duration: std::time::Duration,
) -> (UtcTimestamp, UtcTimestamp) {
    match timestamp {
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
    }
}

/// The archive metadata object (borg's `save`).
fn archive_item(
    opts: &CreateOptions,
    name: &[u8],
    items: Vec<[u8; 32]>,
    stats: &Stats,
    start: UtcTimestamp,
    end: UtcTimestamp,
) -> ArchiveItem {
    ArchiveItem {
        name: name.to_vec(),
        items,
        cmdline: opts.cmdline.clone(),
        hostname: Some(opts.hostname.clone()),
        username: Some(opts.username.clone()),
        time: start.format_iso(),
        time_end: Some(end.format_iso()),
        comment: Some(opts.comment.clone()),
        chunker_params: Some(format_chunker_params(&opts.chunker_params)),
        cwd: Some(opts.cwd.as_os_str().as_bytes().to_vec()),
        size: Some(stats.osize),
        csize: Some(stats.csize),
        nfiles: Some(stats.nfiles),
        size_parts: Some(stats.osize_parts),
        csize_parts: Some(stats.csize_parts),
        nfiles_parts: Some(stats.nfiles_parts),
        ..ArchiveItem::default()
    }
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
    fn send(&mut self, kind: JobKind) -> u64 {
        {
            let mut done = self.window.done.lock().expect("window");
            while self.seq >= *done + WINDOW && !self.store.halted() {
                done = self.window.cv.wait(done).expect("window");
            }
        }
        let seq = self.seq;
        self.seq += 1;
        let _ = self.job_tx.send(Job { seq, kind });
        seq
    }

    /// A status line in walk order (directly in a dry run, where nothing
    /// else is listed by the collector).
    fn status(&mut self, status: char, raw: &[u8]) {
        if self.opts.dry_run {
            self.observer.status(status, raw);
        } else {
            self.outcome(Outcome::Status(status, raw.to_vec()));
        }
    }

    fn outcome(&mut self, o: Outcome) {
        let seq = self.seq;
        self.seq += 1;
        let _ = self.out_tx.send((seq, o));
    }

    fn warn(&mut self, path: &Path, (message, code): (String, u8), status: bool) {
        self.warnings.store(true, Ordering::SeqCst);
        self.outcome(Outcome::Failed {
            display: path.as_os_str().as_bytes().to_vec(),
            message,
            code,
            status,
        });
    }

    /// Store the objects of an [`EntrySource`] in order; a failing source
    /// ends the walk and fails `create` (no archive).
    fn walk_entries(&mut self, src: &mut dyn EntrySource) {
        loop {
            if self.store.halted() {
                return;
            }
            let entry = match src.next_entry() {
                Ok(Some(e)) => e,
                Ok(None) => return,
                Err(e) => {
                    self.store.input_failed(e);
                    return;
                }
            };
            match entry {
                Entry::Item {
                    item,
                    status,
                    display,
                } => {
                    let is_dir = item.is_dir();
                    let seq = self.seq;
                    self.outcome(Outcome::Item {
                        item,
                        status,
                        display,
                        counts_file: false,
                        memo: None,
                    });
                    if is_dir {
                        self.outcome(Outcome::DirEnd { seq, show: true });
                    }
                }
                Entry::File {
                    item,
                    status,
                    display,
                    content,
                } => {
                    self.send(JobKind::Entry {
                        item: Box::new(item),
                        status,
                        display,
                        content,
                    });
                }
                Entry::Unsupported { display, message } => {
                    self.warnings.store(true, Ordering::SeqCst);
                    self.outcome(Outcome::Failed {
                        display,
                        message,
                        code: 1,
                        status: true,
                    });
                }
            }
        }
    }

    fn walk_root(&mut self, given: &Path) {
        let raw = given.as_os_str().as_bytes();
        // Slashdot hack: everything before `/./` is not stored.
        let strip = find_slashdot(raw);
        let path = PathBuf::from(OsStr::from_bytes(&normpath(raw)));
        let st = match std::fs::symlink_metadata(&path) {
            Ok(st) => st,
            // borg: a warning without a status line.
            Err(e) => return self.warn(&path, os_err("stat", &e, Some(raw)), false),
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
        if self.store.halted() {
            return;
        }
        let raw = path.as_os_str().as_bytes();
        let is_root = st.is_some();
        let mut recurse_excluded_dir = false;
        let included = self.matcher.matches(raw);
        if !included {
            self.status('x', raw);
            if !self.matcher.recurse_dir() {
                return;
            }
            recurse_excluded_dir = true;
        }
        let st = match st {
            Some(st) => st,
            None => match std::fs::symlink_metadata(path) {
                Ok(st) => st,
                Err(e) => return self.warn(path, os_err("stat", &e, Some(base_name(path))), true),
            },
        };
        if recurse_excluded_dir && !st.is_dir() {
            return;
        }
        if self.opts.skip_inodes.contains(&(st.dev(), st.ino())) {
            return;
        }
        let recurse = restrict_dev.is_none_or(|d| d == st.dev());
        if self.opts.exclude_nodump
            && oxiborg_fsmeta::get_bsdflags(path, st.mode()) & oxiborg_fsmeta::UF_NODUMP != 0
        {
            // borg: an `x` line, and a directory is not entered.
            self.status('x', raw);
            return;
        }
        let ft = st.file_type();
        if ft.is_socket() {
            return;
        }
        if ft.is_dir() {
            let tags = self.dir_tags(path);
            if !tags.is_empty() {
                if !recurse_excluded_dir {
                    if self.opts.keep_exclude_tags {
                        let seq = (!self.opts.dry_run).then(|| self.emit(path, st, strip));
                        for t in tags {
                            let tp = path.join(OsStr::from_bytes(&t));
                            self.walk(&tp, None, restrict_dev, strip);
                        }
                        if let Some(seq) = seq {
                            self.outcome(Outcome::DirEnd { seq, show: false });
                        }
                    }
                    self.status('x', raw);
                }
                return;
            }
            // borg opens the directory before it stores it: one it cannot
            // list is a warning and is not archived.
            let entries = if recurse {
                match std::fs::read_dir(path) {
                    Ok(rd) => Some(
                        rd.filter_map(|e| e.ok())
                            .map(|e| (std::os::unix::fs::DirEntryExt::ino(&e), e.file_name()))
                            .collect::<Vec<(u64, std::ffi::OsString)>>(),
                    ),
                    Err(e) => {
                        let name = if is_root { raw } else { base_name(path) };
                        return self.warn(path, os_err("dir_open", &e, Some(name)), true);
                    }
                }
            } else {
                None
            };
            let seq =
                (!recurse_excluded_dir && !self.opts.dry_run).then(|| self.emit(path, st, strip));
            if let Some(mut entries) = entries {
                // borg's `scandir_inorder`: a stable sort by inode alone,
                // so hard links to one inode keep their directory order.
                entries.sort_by_key(|(ino, _)| *ino);
                for (_, name) in entries {
                    let child = path.join(&name);
                    let child =
                        PathBuf::from(OsStr::from_bytes(&normpath(child.as_os_str().as_bytes())));
                    self.walk(&child, None, restrict_dev, strip);
                }
            }
            // borg lists a directory after its contents.
            if let Some(seq) = seq {
                self.outcome(Outcome::DirEnd { seq, show: true });
            } else if !recurse_excluded_dir {
                self.status('-', raw);
            }
        } else if self.opts.dry_run {
            self.status('-', raw);
        } else {
            self.emit(path, st, strip);
        }
    }

    /// `--paths-from-stdin` / `--paths-from-command`: every path read from
    /// `reader` (borg's `iter_separated` over a text stream: universal
    /// newlines, no trimming, no empty last path) is stat'ed and stored on
    /// its own, as borg's `_process_any` does: no recursion, no patterns,
    /// no exclusion tags; a directory is listed right away.
    fn walk_list(&mut self, reader: &mut dyn Read, delimiter: &[u8]) {
        let mut splitter = PathSplitter::new(delimiter);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if self.store.halted() {
                return;
            }
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.store.fail(CoreError::io("<paths input>", e));
                    return;
                }
            };
            for path in splitter.feed(&buf[..n]) {
                self.list_path(&path);
            }
        }
        if let Some(path) = splitter.finish() {
            self.list_path(&path);
        }
    }

    /// One path of a path list (borg's loop body in `create_inner`).
    fn list_path(&mut self, given: &[u8]) {
        if self.store.halted() {
            return;
        }
        let strip_prefix = find_slashdot(given).filter(|&i| i > 0).map(|i| {
            let mut p = normpath(&given[..i]);
            p.push(b'/');
            p
        });
        let raw = normpath(given);
        let path = PathBuf::from(OsStr::from_bytes(&raw));
        let st = match std::fs::symlink_metadata(&path) {
            Ok(st) => st,
            Err(e) => return self.warn(&path, os_err("stat", &e, Some(&raw)), true),
        };
        if self.opts.dry_run {
            return self.status('-', &raw);
        }
        let ft = st.file_type();
        if ft.is_socket() {
            return;
        }
        // borg's `create_helper` with a strip prefix.
        let stored = match strip_prefix {
            Some(sp) => {
                let mut with_sep = raw.clone();
                with_sep.push(b'/');
                if with_sep == sp {
                    b".".to_vec()
                } else if sp.starts_with(&with_sep) {
                    return self.status('x', &raw);
                } else {
                    make_path_safe(raw.strip_prefix(sp.as_slice()).unwrap_or(&raw))
                }
            }
            None => make_path_safe(&raw),
        };
        let is_dir = ft.is_dir();
        let seq = self.emit_stored(&path, st, stored);
        if is_dir {
            self.outcome(Outcome::DirEnd { seq, show: true });
        }
    }

    fn emit(&mut self, path: &Path, st: Metadata, strip: Option<&[u8]>) -> u64 {
        let stored = Self::stored_path(path, strip);
        self.emit_stored(path, st, stored)
    }

    fn emit_stored(&mut self, path: &Path, st: Metadata, stored: Vec<u8>) -> u64 {
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
        })
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

/// Splits a path list the way borg reads it: a text stream with universal
/// newlines (`\r\n` and `\r` become `\n`), cut at every `delimiter`; a
/// trailing delimiter does not make an empty last path (`iter_separated`).
struct PathSplitter {
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    /// The last byte fed was `\r` (a following `\n` is dropped).
    after_cr: bool,
}

impl PathSplitter {
    fn new(delimiter: &[u8]) -> Self {
        PathSplitter {
            delimiter: if delimiter.is_empty() {
                b"\n".to_vec()
            } else {
                delimiter.to_vec()
            },
            buf: Vec::new(),
            after_cr: false,
        }
    }

    /// Feed bytes; returns the paths completed by them.
    fn feed(&mut self, data: &[u8]) -> Vec<Vec<u8>> {
        let start = self.buf.len().saturating_sub(self.delimiter.len() - 1);
        for &b in data {
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            if b == b'\r' {
                self.buf.push(b'\n');
                self.after_cr = true;
            } else {
                self.buf.push(b);
            }
        }
        let d = &self.delimiter;
        let mut out = Vec::new();
        let mut from = 0;
        let mut i = start;
        while i + d.len() <= self.buf.len() {
            if &self.buf[i..i + d.len()] == d.as_slice() {
                out.push(self.buf[from..i].to_vec());
                i += d.len();
                from = i;
            } else {
                i += 1;
            }
        }
        self.buf.drain(..from);
        out
    }

    /// The last path, unless the input ended with a delimiter (or was empty).
    fn finish(self) -> Option<Vec<u8>> {
        (!self.buf.is_empty()).then_some(self.buf)
    }
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
    fn path_list_splitting_like_borg() {
        let split = |delim: &[u8], parts: &[&[u8]]| {
            let mut s = PathSplitter::new(delim);
            let mut out = Vec::new();
            for p in parts {
                out.extend(s.feed(p));
            }
            out.extend(s.finish());
            out.into_iter()
                .map(|p| String::from_utf8(p).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(split(b"\n", &[b"a\nb\n"]), ["a", "b"]);
        assert_eq!(split(b"\n", &[b"a\n\nb"]), ["a", "", "b"]);
        assert_eq!(split(b"\n", &[b""]), Vec::<String>::new());
        // Universal newlines, also across reads.
        assert_eq!(split(b"\n", &[b"a\r", b"\nb\rc"]), ["a", "b", "c"]);
        assert_eq!(split(b":", &[b"a:b\r\nc"]), ["a", "b\nc"]);
        assert_eq!(split(b"\0", &[b"a\0b", b"\0"]), ["a", "b"]);
        // A delimiter of several bytes cut between two reads.
        assert_eq!(split(b"::", &[b"a:", b":b::", b"c"]), ["a", "b", "c"]);
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
