//! `recreate`: rewrite an archive with fewer items, a new comment, other
//! compression or other chunker parameters (borg's `ArchiveRecreater`).
//!
//! The source archive is read item by item. Items the patterns exclude are
//! dropped (a hardlink group whose master is dropped moves its chunks to
//! the first kept slave, as borg does). The chunks of kept files are
//! referenced again, or fetched and stored anew when they are recompressed
//! or rechunked. The new archive is saved as `NAME.recreate` (or the
//! `--target` name); without a target the original is then deleted and the
//! new one renamed to the original name.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use oxiborg_chunker::{Chunker, ChunkerParams};
use oxiborg_crypto::{Key, CONTEXT_ARCHIVE};
use oxiborg_format::{
    ArchiveItem, ChunkListEntry, CompressionSpec, Compressor, CompressorKind, Item, UtcTimestamp,
};
use oxiborg_hashindex::ChunkIndex;
use oxiborg_patterns::PatternMatcher;

use crate::archives::{for_each_item, get_many, load_archive_by_name, open_object_owned};
use crate::cache::Cache;
use crate::create::{format_chunker_params, item_stream_cuts, Store};
use crate::error::{CoreError, Result};
use crate::ops::{delete_archives, rename_archive};
use crate::session::{Session, SharedRepository};

/// `--recompress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recompress {
    /// `never` (the default).
    Never,
    /// `if-different`: when the stored chunk used another algorithm.
    IfDifferent,
    /// `always`.
    Always,
}

/// `recreate`'s options for one archive.
#[derive(Debug, Clone)]
pub struct RecreateOptions {
    /// `-C`: the compression of newly stored chunks.
    pub compression: CompressionSpec,
    /// `--recompress`.
    pub recompress: Recompress,
    /// `--chunker-params` (`None`: keep the chunks as they are).
    pub chunker_params: Option<ChunkerParams>,
    /// `--comment` (`None`: keep the archive's comment).
    pub comment: Option<Vec<u8>>,
    /// `--timestamp`.
    pub timestamp: Option<UtcTimestamp>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// argv of this command (recorded as `recreate_cmdline`).
    pub cmdline: Vec<Vec<u8>>,
    /// Host name recorded in the archive.
    pub hostname: Vec<u8>,
    /// User name recorded in the archive.
    pub username: Vec<u8>,
    /// Working directory recorded in the archive.
    pub cwd: Vec<u8>,
}

/// What `recreate` reports about the items it handles.
pub trait RecreateObserver {
    /// A `--list` status line: `x` excluded, `-` dry run, or the type
    /// letter of a kept item (`A` regular file, `d`, `s`, `b`, `c`, `f`).
    fn status(&self, status: char, path: &[u8]);
}

/// The result of recreating one archive.
#[derive(Debug, Clone)]
pub struct RecreateOutcome {
    /// The new archive's id (zero for a dry run).
    pub id: [u8; 32],
    /// Its metadata.
    pub archive: ArchiveItem,
    /// Its statistics (`size`, `csize`, `nfiles`; `usize` = newly stored).
    pub stats: crate::create::Stats,
    /// Start and end as recorded.
    pub start: UtcTimestamp,
    /// End as recorded.
    pub end: UtcTimestamp,
    /// Wall-clock seconds.
    pub duration: f64,
}

/// borg's `is_temporary_archive`.
pub fn is_temporary_archive(name: &[u8]) -> bool {
    name.ends_with(b".recreate")
}

/// borg's `file_status`.
fn file_status(mode: u32) -> char {
    match mode & 0o170000 {
        0o100000 => 'A',
        0o040000 => 'd',
        0o060000 => 'b',
        0o020000 => 'c',
        0o120000 => 's',
        0o010000 => 'f',
        _ => '?',
    }
}

fn hardlinkable(mode: u32) -> bool {
    matches!(mode & 0o170000, 0o100000 | 0o060000 | 0o020000 | 0o010000)
}

/// The chunker parameters borg records when none are given.
const DEFAULT_CHUNKER: ChunkerParams = ChunkerParams::Buzhash {
    min_exp: 19,
    max_exp: 23,
    mask_bits: 21,
    window_size: 4095,
};

/// borg's `normalize_chunker_params`: borg < 1.2 wrote buzhash parameters
/// without the algorithm name.
fn normalize(p: oxiborg_format::ChunkerParams) -> oxiborg_format::ChunkerParams {
    match p {
        oxiborg_format::ChunkerParams::LegacyBuzhash {
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
        p => p,
    }
}

/// Recreate archive `name`. Returns `None` when there is nothing to do
/// (no pattern, no recompression, no rechunking, no comment, no target):
/// borg's "Nothing to do".
#[allow(clippy::too_many_arguments)]
pub fn recreate(
    session: &mut Session,
    cache: &mut Cache,
    name: &[u8],
    target: Option<&[u8]>,
    matcher: &mut PatternMatcher,
    opts: &RecreateOptions,
    observer: &dyn RecreateObserver,
    interrupt: &AtomicBool,
) -> Result<Option<RecreateOutcome>> {
    let clock = std::time::Instant::now();
    let source = load_archive_by_name(
        session.repo.as_mut(),
        &session.key,
        &session.manifest.manifest,
        name,
    )?;
    let target_name = target.map_or_else(
        || {
            let mut n = name.to_vec();
            n.extend_from_slice(b".recreate");
            n
        },
        <[u8]>::to_vec,
    );
    if session.manifest().archive(&target_name).is_some() {
        return Err(CoreError::ArchiveAlreadyExists(
            String::from_utf8_lossy(&target_name).into_owned(),
        ));
    }
    let dst_params = opts.chunker_params.unwrap_or(DEFAULT_CHUNKER);
    let src_params = source.meta.chunker_params.clone().map(normalize);
    let rechunk = opts.chunker_params.is_some()
        && src_params != Some(normalize(format_chunker_params(&dst_params)));
    let recompress = opts.recompress != Recompress::Never;
    if matcher.empty() && !recompress && !rechunk && opts.comment.is_none() && target.is_none() {
        return Ok(None);
    }

    let key: Arc<Key> = session.key.clone();
    let items = {
        let mut items = Vec::new();
        for_each_item(
            session.repo.as_mut(),
            &key,
            &source.meta,
            |_, _, _| Ok(()),
            |item| {
                items.push(item);
                Ok(true)
            },
        )?;
        items
    };
    let chunker = Chunker::new(dst_params, key.chunk_seed() as u32)
        .map_err(|e| CoreError::InvalidInput(e.to_string()))?;
    let items_chunker = Chunker::new(ChunkerParams::ITEMS, key.chunk_seed() as u32)
        .map_err(|e| CoreError::InvalidInput(e.to_string()))?;

    let nonce_file = session.nonce_file();
    let start_nonce = session.next_nonce;
    let index = std::mem::take(&mut cache.chunks);
    let repo_mx = Mutex::new(&mut session.repo);
    let store = Store::new(
        &key,
        Compressor::new(opts.compression.clone()),
        &repo_mx,
        nonce_file,
        start_nonce,
        index,
        interrupt,
    );
    let mut w = Writer {
        store: &store,
        repo: &repo_mx,
        key: &key,
        opts,
        recompress: opts.recompress,
        rechunk: rechunk.then_some(&chunker),
        items_chunker: &items_chunker,
        buffer: Vec::new(),
        item_ids: Vec::new(),
        refs: ChunkIndex::new(),
        stats: crate::create::Stats::default(),
        seen: HashSet::new(),
        meta_usize: 0,
    };
    let result = w.process(items, matcher, observer);
    let result = result.and_then(|()| w.flush(true));
    let Writer {
        item_ids,
        mut refs,
        mut stats,
        mut meta_usize,
        ..
    } = w;
    let saved = result.and_then(|()| {
        if opts.dry_run {
            return Ok(None);
        }
        let duration = clock.elapsed();
        let (start, end) = match opts.timestamp {
            Some(t) => (
                t,
                UtcTimestamp::from_unix_nanos(t.unix_nanos() + duration.as_nanos() as i128),
            ),
            None => (
                UtcTimestamp::parse_iso(&source.meta.time).unwrap_or_else(|_| UtcTimestamp::now()),
                source
                    .meta
                    .time_end
                    .as_deref()
                    .and_then(|t| UtcTimestamp::parse_iso(t).ok())
                    .or_else(|| UtcTimestamp::parse_iso(&source.meta.time).ok())
                    .unwrap_or_else(UtcTimestamp::now),
            ),
        };
        let archive = ArchiveItem {
            name: target_name.clone(),
            items: item_ids,
            cmdline: source.meta.cmdline.clone(),
            hostname: Some(opts.hostname.clone()),
            username: Some(opts.username.clone()),
            time: start.format_iso(),
            time_end: Some(end.format_iso()),
            comment: Some(
                opts.comment
                    .clone()
                    .unwrap_or_else(|| source.meta.comment.clone().unwrap_or_default()),
            ),
            chunker_params: Some(format_chunker_params(&dst_params)),
            cwd: Some(opts.cwd.clone()),
            size: Some(stats.osize),
            csize: Some(stats.csize),
            nfiles: Some(stats.nfiles),
            size_parts: Some(0),
            csize_parts: Some(0),
            nfiles_parts: Some(0),
            recreate_cmdline: Some(opts.cmdline.clone()),
            ..ArchiveItem::default()
        };
        let data = key.pack_and_authenticate(archive.to_value(), CONTEXT_ARCHIVE, None)?;
        let id = key.id_hash(&data);
        let (csize, new) = store.store_flagged(&id, &data)?;
        refs.add(&id, 1, data.len() as u32, csize)?;
        if new {
            meta_usize += u64::from(csize);
        }
        Ok(Some((id, archive, start, end, duration)))
    });
    let next_nonce = store.next_nonce();
    let (idx, usize, err) = store.into_index();
    cache.chunks = idx;
    if let Some(n) = next_nonce {
        session.next_nonce = session.next_nonce.max(n);
    }
    if let Some(e) = err {
        session.repo.rollback()?;
        return Err(e);
    }
    let saved = match saved {
        Ok(s) => s,
        Err(e) => {
            session.repo.rollback()?;
            return Err(e);
        }
    };
    stats.usize = usize.saturating_sub(meta_usize);
    let Some((id, archive, start, end, duration)) = saved else {
        session.repo.rollback()?;
        let now = UtcTimestamp::now();
        return Ok(Some(RecreateOutcome {
            id: [0; 32],
            archive: ArchiveItem::default(),
            stats,
            start: now,
            end: now,
            duration: clock.elapsed().as_secs_f64(),
        }));
    };
    cache.add_archive_index(id, refs);
    session
        .manifest_mut()
        .set_archive(target_name.clone(), id, archive.time.clone());
    session.write_manifest_and_commit()?;
    let mut outcome = RecreateOutcome {
        id,
        archive,
        stats,
        start,
        end,
        duration: duration.as_secs_f64(),
    };
    if target.is_none() {
        // borg: delete the original, then give the new archive its name.
        delete_archives(
            session,
            cache,
            &[(String::from_utf8_lossy(name).into_owned(), source.id)],
        )?;
        rename_archive(session, cache, &target_name, name)?;
        let entry = session
            .manifest()
            .archive(name)
            .ok_or_else(|| CoreError::ArchiveDoesNotExist(String::from_utf8_lossy(name).into()))?;
        outcome.id = entry.id;
        outcome.archive.name = name.to_vec();
    }
    Ok(Some(outcome))
}

/// The state of one recreate: storage, the new item stream and its
/// references.
struct Writer<'a, 's, 'r> {
    store: &'a Store<'s, 'r>,
    repo: &'a Mutex<&'r mut SharedRepository>,
    key: &'a Key,
    opts: &'a RecreateOptions,
    recompress: Recompress,
    rechunk: Option<&'a Chunker>,
    items_chunker: &'a Chunker,
    buffer: Vec<u8>,
    item_ids: Vec<[u8; 32]>,
    refs: ChunkIndex,
    stats: crate::create::Stats,
    /// Chunks already stored anew by this run (borg's `seen_chunks`).
    seen: HashSet<[u8; 32]>,
    /// Stored bytes of new item-stream chunks.
    meta_usize: u64,
}

/// Item-stream bytes buffered before they are cut into chunks.
const ITEM_BUFFER: usize = 1 << 20;
/// Chunks fetched per `get_many` while recompressing.
const FETCH_BATCH: usize = 16;

impl Writer<'_, '_, '_> {
    fn process(
        &mut self,
        items: Vec<Item>,
        matcher: &mut PatternMatcher,
        observer: &dyn RecreateObserver,
    ) -> Result<()> {
        let subset = !matcher.empty();
        // Hardlink masters outside the kept subset: (chunks, chunks_healthy,
        // the path of the slave that took them over).
        type Moved = (
            Option<Vec<ChunkListEntry>>,
            Option<Vec<ChunkListEntry>>,
            Option<Vec<u8>>,
        );
        let mut masters: HashMap<Vec<u8>, Moved> = HashMap::new();
        for mut item in items {
            let mode = item.mode.unwrap_or(0);
            if !matcher.matches(&item.path) {
                observer.status('x', &item.path);
                if subset
                    && hardlinkable(mode)
                    && item.hardlink_master.unwrap_or(true)
                    && item.source.is_none()
                {
                    masters.insert(
                        item.path.clone(),
                        (item.chunks.clone(), item.chunks_healthy.clone(), None),
                    );
                }
                continue;
            }
            if subset && hardlinkable(mode) {
                if let Some(src) = item.source.clone() {
                    if let Some(entry) = masters.get_mut(&src) {
                        match &entry.2 {
                            None => {
                                item.chunks = entry.0.take();
                                if let Some(h) = entry.1.take() {
                                    item.chunks_healthy = Some(h);
                                }
                                entry.2 = Some(item.path.clone());
                                item.source = None;
                            }
                            Some(new_source) => item.source = Some(new_source.clone()),
                        }
                    }
                }
            }
            if self.opts.dry_run {
                observer.status('-', &item.path);
                continue;
            }
            if item.chunks.is_some() {
                observer.status(file_status(mode), &item.path);
                self.process_chunks(&mut item)?;
                self.stats.nfiles += 1;
            }
            item.encode_into(&mut self.buffer);
            if self.buffer.len() >= ITEM_BUFFER {
                self.flush(false)?;
            }
            if item.chunks.is_none() {
                observer.status(file_status(mode), &item.path);
            }
        }
        Ok(())
    }

    fn count(&mut self, e: &ChunkListEntry) -> Result<()> {
        self.refs
            .add(&e.id, 1, e.size as u32, e.csize as u32)
            .map_err(|e| CoreError::InvalidInput(e.to_string()))?;
        self.stats.osize += e.size;
        self.stats.csize += e.csize;
        Ok(())
    }

    fn process_chunks(&mut self, item: &mut Item) -> Result<()> {
        let chunks = item.chunks.clone().unwrap_or_default();
        if self.recompress == Recompress::Never && self.rechunk.is_none() {
            let ids: Vec<[u8; 32]> = chunks.iter().map(|c| c.id).collect();
            let entries = self
                .store
                .incref_all(&ids)?
                .ok_or_else(|| CoreError::ChunkMissing(first_missing(self.store, &ids)))?;
            for e in &entries {
                self.count(e)?;
            }
            return Ok(());
        }
        let mut out = Vec::with_capacity(chunks.len());
        if let Some(chunker) = self.rechunk {
            // Chunk-boundaries change: drop the healthy list, as borg does.
            item.chunks_healthy = None;
            let reader = FetchReader {
                repo: self.repo,
                key: self.key,
                ids: chunks.iter().map(|c| c.id).collect(),
                next: 0,
                current: Vec::new(),
                pos: 0,
            };
            let mut chunks = chunker.owned_chunks(reader);
            while let Some(chunk) = chunks
                .next_chunk()
                .map_err(|e| CoreError::InvalidInput(e.to_string()))?
            {
                let e = self.store_chunk(&chunk.data)?;
                out.push(e);
            }
        } else {
            for batch in chunks.chunks(FETCH_BATCH) {
                let ids: Vec<[u8; 32]> = batch.iter().map(|c| c.id).collect();
                let envelopes = {
                    let mut repo = self.repo.lock().expect("repository lock");
                    get_many(repo.as_mut(), &ids)?
                };
                for (id, env) in ids.iter().zip(envelopes) {
                    let data = open_object_owned(self.key, id, env)?;
                    let e = self.store_chunk(&data)?;
                    out.push(e);
                }
            }
        }
        for e in &out {
            self.count(e)?;
        }
        item.chunks = Some(out);
        Ok(())
    }

    /// borg's `chunk_processor`: store `data` anew (overwriting the stored
    /// object when recompressing) unless this run already did.
    fn store_chunk(&mut self, data: &[u8]) -> Result<ChunkListEntry> {
        let id = self.key.id_hash(data);
        let size = data.len() as u64;
        if self.seen.contains(&id) {
            let e = self
                .store
                .incref_all(&[id])?
                .and_then(|mut v| v.pop())
                .ok_or_else(|| CoreError::ChunkMissing(hex::encode(id)))?;
            return Ok(e);
        }
        let mut overwrite = self.recompress != Recompress::Never;
        if overwrite && self.recompress == Recompress::IfDifferent && self.store.contains(&id) {
            let stored = {
                let mut repo = self.repo.lock().expect("repository lock");
                get_many(repo.as_mut(), &[id])?.pop().unwrap_or_default()
            };
            let compressed = self.key.decrypt(Some(&id), &stored)?;
            let old = CompressorKind::detect(&compressed).map(CompressorKind::name);
            if old.ok() == Some(self.opts.compression.decide_name(data)) {
                overwrite = false;
            }
        }
        let csize = if overwrite {
            self.store.store_overwrite(&id, data)?
        } else {
            self.store.store(&id, data)?
        };
        self.seen.insert(id);
        Ok(ChunkListEntry {
            id,
            size,
            csize: u64::from(csize),
        })
    }

    /// Cut the item stream into chunks and store them (all of it with `all`).
    fn flush(&mut self, all: bool) -> Result<()> {
        let mut off = 0;
        for len in item_stream_cuts(self.items_chunker, &self.buffer, all) {
            let data = &self.buffer[off..off + len];
            let id = self.key.id_hash(data);
            let (csize, new) = self.store.store_flagged(&id, data)?;
            // Metadata: referenced by the archive, but not in its
            // statistics (borg's `meta_stats`).
            self.refs
                .add(&id, 1, len as u32, csize)
                .map_err(|e| CoreError::InvalidInput(e.to_string()))?;
            if new {
                self.meta_usize += u64::from(csize);
            }
            self.item_ids.push(id);
            off += len;
        }
        self.buffer.drain(..off);
        Ok(())
    }
}

fn first_missing(store: &Store<'_, '_>, ids: &[[u8; 32]]) -> String {
    ids.iter()
        .find(|id| !store.contains(id))
        .map(hex::encode)
        .unwrap_or_default()
}

/// A file's content read chunk by chunk from the repository (borg's
/// `ChunkIteratorFileWrapper`), for rechunking without holding the file.
struct FetchReader<'a, 'r> {
    repo: &'a Mutex<&'r mut SharedRepository>,
    key: &'a Key,
    ids: Vec<[u8; 32]>,
    next: usize,
    current: Vec<u8>,
    pos: usize,
}

impl Read for FetchReader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.current.len() {
            let Some(id) = self.ids.get(self.next).copied() else {
                return Ok(0);
            };
            self.next += 1;
            let env = {
                let mut repo = self.repo.lock().expect("repository lock");
                get_many(repo.as_mut(), &[id])
                    .map_err(std::io::Error::other)?
                    .pop()
                    .unwrap_or_default()
            };
            self.current = open_object_owned(self.key, &id, env).map_err(std::io::Error::other)?;
            self.pos = 0;
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
