//! borg's `Repository` over a [`Store`]: lazily begun transactions, cleanup
//! of uncommitted tails, replay, the durable commit order, `write_index`.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use oxiborg_lock::{Lock, ProcessId};

use crate::config::{ConfigFile, Settings};
use crate::error::{Id, RepositoryError, Result};
use crate::hints::{encode_integrity, integrity_for, Hints, IntegrityInfo, ParsedHints};
use crate::idx::{file_digests_json, verify_file, Index};
use crate::segment::{
    self, list_segments, read_put, segment_name, SegmentWriter, Tag, MAX_DATA_SIZE, PUT_HEADER_SIZE,
};
use crate::store::{LocalStore, Store};
use crate::{CommitOptions, Reporter, Repository};

/// Reads `get_many` keeps in flight.
const GET_MANY_LANES: usize = 4;

/// The README borg writes into every repository.
pub const README: &str =
    "This is a Borg Backup repository.\nSee https://borgbackup.readthedocs.io/\n";

/// How to open (or create) a repository, mirroring borg's `open` RPC.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Create the repository first.
    pub create: bool,
    /// Create missing parent directories when creating.
    pub make_parent_dirs: bool,
    /// Take the repository lock at all (`--bypass-lock` turns it off).
    pub lock: bool,
    /// `Some(true)` exclusive, `Some(false)` shared, `None` shared and
    /// upgraded on the first write (borg's legacy mode).
    pub exclusive: Option<bool>,
    /// How long to wait for the lock; `None` waits forever.
    pub lock_wait: Option<Duration>,
    /// Force append-only mode (OR-ed with the config).
    pub append_only: bool,
    /// A run-time storage quota; `Some(0)` disables the config's quota.
    pub storage_quota: Option<u64>,
    /// This process's lock identity (borg's hostid, pid, thread).
    pub process: ProcessId,
}

impl OpenOptions {
    /// Open an existing repository with an exclusive lock and borg's
    /// default one-second lock wait.
    pub fn exclusive(process: ProcessId) -> Self {
        OpenOptions {
            create: false,
            make_parent_dirs: false,
            lock: true,
            exclusive: Some(true),
            lock_wait: Some(Duration::from_secs(1)),
            append_only: false,
            storage_quota: None,
            process,
        }
    }
}

/// A local borg 1.x repository.
pub struct LocalRepository {
    path: PathBuf,
    pub(crate) store: Arc<dyn Store>,
    /// Reader threads for `get_many`, started on first use.
    readers: Option<crate::readpool::ReadPool>,
    pub(crate) config: ConfigFile,
    pub(crate) settings: Settings,
    pub(crate) append_only: bool,
    storage_quota: u64,
    lock: Option<Lock>,
    exclusive: Option<bool>,
    pub(crate) writer: SegmentWriter,
    pub(crate) reporter: Arc<dyn Reporter>,
    // Transaction state (borg's in-memory repository state).
    pub(crate) index: Option<Index>,
    pub(crate) segments: BTreeMap<u32, i64>,
    pub(crate) compact: BTreeMap<u32, u64>,
    pub(crate) storage_quota_use: u64,
    pub(crate) shadow_index: HashMap<Id, Vec<u32>>,
    transaction_doomed: Option<(u64, u64)>,
    active_txn: bool,
    /// The committed transaction the active one builds on.
    txn_base: Option<u32>,
    /// The active transaction's commit failed. borg drops its transaction
    /// state only after a successful commit, so for the cleanup on errors
    /// it still counts as active.
    failed_commit: bool,
    /// A call failed with ENOSPC while a transaction was active: dropped
    /// without [`LocalRepository::close`], the repository deletes the
    /// partial transaction (borg's `__exit__` on `OSError(ENOSPC)`).
    no_space_in_txn: bool,
}

impl std::fmt::Debug for LocalRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRepository")
            .field("path", &self.path)
            .field("active_txn", &self.active_txn)
            .finish()
    }
}

fn is_repository(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path.join("README")) else {
        return false;
    };
    let mut buf = [0u8; 100];
    let n = std::io::Read::read(&mut f, &mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]);
    head.contains("Borg Backup repository") || head.contains("Borg repository")
}

fn map_create_err(path: &Path, e: std::io::Error) -> RepositoryError {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => RepositoryError::PathPermissionDenied {
            path: path.to_path_buf(),
        },
        std::io::ErrorKind::NotFound => RepositoryError::ParentPathDoesNotExist {
            path: path.to_path_buf(),
        },
        _ => RepositoryError::io(path, e),
    }
}

/// borg's `check_can_create_repository`: no repository at `path` or any
/// parent, and `path` is missing or an empty directory.
fn check_can_create(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_dir() => {
            return Err(RepositoryError::PathAlreadyExists {
                path: path.to_path_buf(),
            })
        }
        Ok(_) => {
            if is_repository(path) {
                return Err(RepositoryError::AlreadyExists {
                    path: path.to_path_buf(),
                });
            }
            let mut rd = std::fs::read_dir(path).map_err(|e| map_create_err(path, e))?;
            if rd.next().is_some() {
                return Err(RepositoryError::PathAlreadyExists {
                    path: path.to_path_buf(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(map_create_err(path, e)),
    }
    let abs = std::path::absolute(path).map_err(|e| RepositoryError::io(path, e))?;
    for parent in abs.ancestors().skip(1) {
        if is_repository(parent) {
            return Err(RepositoryError::AlreadyExists {
                path: parent.to_path_buf(),
            });
        }
    }
    Ok(())
}

impl LocalRepository {
    /// Create a new repository at `path` (borg's `Repository.create`),
    /// then open it.
    pub fn create(path: &Path, opts: &OpenOptions, reporter: Arc<dyn Reporter>) -> Result<Self> {
        check_can_create(path)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.exists() {
                if opts.make_parent_dirs {
                    std::fs::create_dir_all(parent).map_err(|e| map_create_err(parent, e))?;
                } else {
                    return Err(RepositoryError::ParentPathDoesNotExist {
                        path: path.to_path_buf(),
                    });
                }
            }
        }
        match std::fs::create_dir(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(map_create_err(path, e)),
        }
        let store = LocalStore::new(path);
        store.write_new_synced("README", README.as_bytes())?;
        store.mkdir("data")?;
        let mut id = [0u8; 32];
        getrandom::getrandom(&mut id).map_err(|e| RepositoryError::io(path, e.into()))?;
        // The run-time quota is written into the new config.
        let config = Settings::new_config(&id, opts.append_only, opts.storage_quota.unwrap_or(0));
        store.write_atomic("config", config.render().as_bytes())?;
        store.sync_dir("")?;
        Self::open(
            path,
            &OpenOptions {
                create: false,
                ..opts.clone()
            },
            reporter,
        )
    }

    /// Open the repository at `path` (borg's `Repository.open`).
    pub fn open(path: &Path, opts: &OpenOptions, reporter: Arc<dyn Reporter>) -> Result<Self> {
        if opts.create {
            return Self::create(path, opts, reporter);
        }
        if !path.exists() {
            return Err(RepositoryError::DoesNotExist {
                path: path.to_path_buf(),
            });
        }
        if !is_repository(path) {
            return Err(RepositoryError::InvalidRepository {
                path: path.to_path_buf(),
            });
        }
        let mut lock = None;
        if opts.lock {
            let mut l = Lock::new(
                &path.join("lock"),
                opts.process.clone(),
                opts.exclusive == Some(true),
                opts.lock_wait,
            );
            l.acquire()?;
            lock = Some(l);
        }
        let store: Arc<dyn Store> = Arc::new(LocalStore::new(path));
        let text = store
            .read("config")?
            .ok_or_else(|| RepositoryError::InvalidRepository {
                path: path.to_path_buf(),
            })?;
        let text =
            String::from_utf8(text).map_err(|_| RepositoryError::InvalidRepositoryConfig {
                path: path.to_path_buf(),
                reason: "config is not UTF-8".into(),
            })?;
        let config = ConfigFile::parse(&text, path)?;
        let settings = Settings::from_config(&config, path)?;
        let append_only = opts.append_only || settings.append_only;
        let storage_quota = opts.storage_quota.unwrap_or(settings.storage_quota);
        let segs = list_segments(store.as_ref())?;
        if let Some((_, name)) = segs.last() {
            let mut magic = [0u8; 8];
            if store.read_at(name, 0, &mut magic)? == 8 && &magic == segment::ATTIC_MAGIC {
                return Err(RepositoryError::AtticRepository {
                    path: path.to_path_buf(),
                });
            }
        }
        let per_dir = settings.segments_per_dir;
        let max = settings.max_segment_size;
        Ok(LocalRepository {
            path: path.to_path_buf(),
            store,
            readers: None,
            config,
            settings,
            append_only,
            storage_quota,
            lock,
            exclusive: opts.exclusive,
            writer: SegmentWriter::new(per_dir, max, 0),
            reporter,
            index: None,
            segments: BTreeMap::new(),
            compact: BTreeMap::new(),
            storage_quota_use: 0,
            shadow_index: HashMap::new(),
            transaction_doomed: None,
            active_txn: false,
            txn_base: None,
            failed_commit: false,
            no_space_in_txn: false,
        })
    }

    /// The repository directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether append-only mode is in force.
    pub fn is_append_only(&self) -> bool {
        self.append_only
    }

    /// The validated config settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The config file as loaded (and as changed by this process).
    pub fn config(&self) -> &ConfigFile {
        &self.config
    }

    /// The active storage quota (0 = none) and the bytes counted against it.
    pub fn storage_quota(&self) -> (u64, u64) {
        (self.storage_quota, self.storage_quota_use)
    }

    /// Rewrite the config (borg's `save_config`): keep the old one as
    /// `config.old` until the new one is durable, then securely erase it.
    pub(crate) fn save_config(&mut self) -> Result<()> {
        let store = self.store.as_ref();
        if store.size("config.old")?.is_some() {
            store.secure_erase("config.old")?;
        }
        if !store.hard_link("config", "config.old")? {
            self.reporter.warning(
                "Failed to securely erase old repository config file (hardlinks not supported).",
            );
        }
        store.write_atomic("config", self.config.render().as_bytes())?;
        store.secure_erase("config.old")
    }

    /// Set a config option and save (borg's `borg config`).
    pub fn set_config(&mut self, key: &str, value: &str) -> Result<()> {
        let mut new = self.config.clone();
        new.set(key, value);
        self.settings = Settings::from_config(&new, &self.path)?;
        self.config = new;
        self.save_config()
    }

    /// Remove a config option and save.
    pub fn delete_config(&mut self, key: &str) -> Result<bool> {
        let mut new = self.config.clone();
        let existed = new.remove(key);
        if existed {
            self.settings = Settings::from_config(&new, &self.path)?;
            self.config = new;
            self.save_config()?;
        }
        Ok(existed)
    }

    fn require_exclusive(&mut self) -> Result<()> {
        let Some(lock) = self.lock.as_mut() else {
            return Ok(());
        };
        if lock.got_exclusive_lock() {
            return Ok(());
        }
        match self.exclusive {
            None => {
                lock.upgrade()?;
                Ok(())
            }
            Some(_) => Err(RepositoryError::NotExclusivelyLocked),
        }
    }

    /// N of the newest non-empty `index.N`.
    pub(crate) fn index_transaction_id(&self) -> Result<Option<u32>> {
        let mut best = None;
        for name in self.store.list("")? {
            if let Some(n) = name.strip_prefix("index.") {
                if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                    if let Ok(n) = n.parse::<u32>() {
                        if self.store.size(&name)?.unwrap_or(0) > 0 && best.is_none_or(|b| n > b) {
                            best = Some(n);
                        }
                    }
                }
            }
        }
        Ok(best)
    }

    /// The newest committed segment.
    pub(crate) fn segments_transaction_id(&self) -> Result<Option<u32>> {
        for (n, name) in list_segments(self.store.as_ref())?.into_iter().rev() {
            if let Some(bytes) = self.store.read(&name)? {
                if segment::is_committed(&bytes) {
                    return Ok(Some(n));
                }
            }
        }
        Ok(None)
    }

    fn check_transaction(&mut self) -> Result<()> {
        let it = self.index_transaction_id()?;
        let st = self.segments_transaction_id()?;
        if it.is_some() && st.is_none() {
            return Err(RepositoryError::CheckNeeded {
                path: self.path.clone(),
            });
        }
        if it != st {
            let from = match (it, st) {
                (Some(i), Some(s)) if i > s => None,
                _ => it,
            };
            self.replay_segments(from, st)?;
        }
        Ok(())
    }

    /// Replay committed segments after `from` up to `to` into the index,
    /// then write a fresh index.
    fn replay_segments(&mut self, from: Option<u32>, to: Option<u32>) -> Result<()> {
        let saved = self.exclusive;
        self.exclusive = None;
        let result = (|| {
            self.prepare_txn(from, false)?;
            for (n, name) in list_segments(self.store.as_ref())? {
                if from.is_some_and(|f| n <= f) {
                    continue;
                }
                if to.is_none_or(|t| n > t) {
                    break;
                }
                let bytes = self.store.read(&name)?.unwrap_or_default();
                self.update_index(n, &bytes)?;
            }
            if let Some(t) = to {
                self.write_index(t)?;
            }
            Ok(())
        })();
        self.exclusive = saved;
        self.rollback_state();
        result
    }

    /// borg's `_update_index` for one segment. A damaged entry or an unknown
    /// tag is an integrity error: replay propagates it, check reports it.
    pub(crate) fn update_index(&mut self, seg: u32, bytes: &[u8]) -> Result<()> {
        self.segments.insert(seg, 0);
        let entries = segment::parse_segment(bytes, seg, false)?;
        for e in entries {
            match e.tag {
                Tag::Put => {
                    let index = self.index.get_or_insert_with(Index::new);
                    if let Some((s, _)) = index.get(&e.id) {
                        *self.compact.entry(s).or_insert(0) += u64::from(e.size);
                        *self.segments.entry(s).or_insert(0) -= 1;
                        self.shadow_index.entry(e.id).or_default().push(s);
                    }
                    index
                        .insert(&e.id, seg, e.offset as u32)
                        .map_err(RepositoryError::IntegrityOther)?;
                    *self.segments.entry(seg).or_insert(0) += 1;
                    self.storage_quota_use += u64::from(e.size);
                }
                Tag::Delete => {
                    let index = self.index.get_or_insert_with(Index::new);
                    if let Some((s, off)) = index.remove(&e.id) {
                        let name = segment_name(s, self.settings.segments_per_dir);
                        if self.store.size(&name)?.is_some() {
                            *self.segments.entry(s).or_insert(0) -= 1;
                            let size = segment::entry_size(
                                self.store.as_ref(),
                                self.settings.segments_per_dir,
                                s,
                                u64::from(off),
                            )?;
                            *self.compact.entry(s).or_insert(0) += u64::from(size);
                            self.shadow_index.entry(e.id).or_default().push(s);
                        }
                    }
                }
                Tag::Commit => {}
            }
        }
        if self.segments.get(&seg) == Some(&0) {
            *self.compact.entry(seg).or_insert(0) = bytes.len() as u64;
        }
        Ok(())
    }

    /// Load `index.N` (verified against `integrity.N`), or an empty index.
    fn load_index(&self, tid: Option<u32>) -> Result<Index> {
        let Some(t) = tid else {
            return Ok(Index::new());
        };
        let name = format!("index.{t}");
        let path = self.store.path_of(&name);
        let data = self
            .store
            .read(&name)?
            .ok_or_else(|| RepositoryError::FileIntegrity {
                path: path.clone(),
                reason: "index file is missing".into(),
            })?;
        let integrity = self.store.read(&format!("integrity.{t}"))?;
        let json = match integrity_for(integrity.as_deref(), "index") {
            Ok(IntegrityInfo::Json(j)) => Some(j),
            Ok(IntegrityInfo::Unverified) => None,
            Err(reason) => {
                return Err(RepositoryError::FileIntegrity {
                    path: self.store.path_of(&format!("integrity.{t}")),
                    reason,
                })
            }
        };
        Index::parse(&data, &name, json.as_deref())
            .map_err(|reason| RepositoryError::FileIntegrity { path, reason })
    }

    /// The index for reads, recovering a missing or corrupt one by replay
    /// (borg's `open_index(auto_recover=True)`).
    fn ensure_index(&mut self) -> Result<()> {
        if self.index.is_some() {
            return Ok(());
        }
        self.check_transaction()?;
        let tid = self.index_transaction_id()?;
        match self.load_index(tid) {
            Ok(i) => self.index = Some(i),
            Err(RepositoryError::FileIntegrity { path, reason }) => {
                self.reporter.warning(&format!(
                    "Repository index missing or corrupted, trying to recover from: {}: {reason}",
                    path.display()
                ));
                if let Some(t) = tid {
                    self.store.delete(&format!("index.{t}"))?;
                }
                self.check_transaction()?;
                let tid = self.index_transaction_id()?;
                self.index = Some(self.load_index(tid)?);
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Begin a transaction on top of committed transaction `tid`.
    pub(crate) fn prepare_txn(&mut self, tid: Option<u32>, do_cleanup: bool) -> Result<()> {
        self.active_txn = true;
        self.txn_base = tid;
        self.failed_commit = false;
        self.no_space_in_txn = false;
        if let Err(e) = self.require_exclusive() {
            self.active_txn = false;
            return Err(e);
        }
        let index = match self.load_index(tid) {
            Ok(i) => i,
            Err(RepositoryError::FileIntegrity { path, reason }) => {
                self.reporter.warning(&format!(
                    "Repository index missing or corrupted, trying to recover: {}: {reason}",
                    path.display()
                ));
                if let Some(t) = tid {
                    self.store.delete(&format!("index.{t}"))?;
                }
                self.active_txn = false;
                self.check_transaction()?;
                return self.prepare_txn(self.index_transaction_id()?, do_cleanup);
            }
            Err(e) => return Err(e),
        };
        self.index = Some(index);
        self.transaction_doomed = None;
        let Some(t) = tid else {
            self.segments.clear();
            self.compact.clear();
            self.storage_quota_use = 0;
            self.shadow_index.clear();
            if do_cleanup {
                self.cleanup(None)?;
            }
            return Ok(());
        };
        if do_cleanup {
            self.cleanup(Some(t))?;
        }
        let hints_name = format!("hints.{t}");
        let loaded = self.store.read(&hints_name)?.and_then(|data| {
            let integrity = self.store.read(&format!("integrity.{t}")).ok().flatten();
            match integrity_for(integrity.as_deref(), "hints") {
                Ok(IntegrityInfo::Json(j)) if verify_file(&data, &hints_name, &j).is_err() => None,
                Err(_) => None,
                _ => Hints::decode(&data),
            }
        });
        match loaded {
            Some(ParsedHints::V2(h)) => {
                self.segments = h.segments;
                self.compact = h.compact;
                self.storage_quota_use = h.storage_quota_use;
                self.shadow_index = h.shadow_index;
            }
            Some(ParsedHints::V1 { segments, compact }) => {
                self.segments = segments;
                self.storage_quota_use = 0;
                self.shadow_index.clear();
                self.compact.clear();
                for s in compact {
                    let free = self.rebuild_sparse(s)?;
                    self.compact.insert(s, free);
                }
            }
            None => {
                self.reporter.warning(&format!(
                    "Repository hints file missing or corrupted, trying to recover: {}",
                    self.store.path_of(&hints_name).display()
                ));
                self.store.delete(&hints_name)?;
                self.store.delete(&format!("index.{t}"))?;
                self.active_txn = false;
                self.index = None;
                self.check_transaction()?;
                return self.prepare_txn(self.index_transaction_id()?, do_cleanup);
            }
        }
        self.shadow_index
            .values_mut()
            .for_each(|v| v.retain(|&s| s <= t));
        Ok(())
    }

    /// Freeable bytes of a segment, recomputed by scanning (for v1 hints).
    fn rebuild_sparse(&self, seg: u32) -> Result<u64> {
        if self.segments.get(&seg).copied().unwrap_or(0) == 0 {
            return Ok(self
                .store
                .size(&segment_name(seg, self.settings.segments_per_dir))?
                .unwrap_or(0));
        }
        let bytes = self
            .store
            .read(&segment_name(seg, self.settings.segments_per_dir))?
            .unwrap_or_default();
        let mut free = 0u64;
        let index = self.index.as_ref();
        for e in segment::parse_segment(&bytes, seg, false)? {
            match e.tag {
                Tag::Put if index.and_then(|i| i.get(&e.id)) != Some((seg, e.offset as u32)) => {
                    free += u64::from(e.size)
                }
                Tag::Delete => free += u64::from(e.size),
                _ => {}
            }
        }
        Ok(free)
    }

    /// borg's `io.cleanup`: delete every segment after `tid` (all of them
    /// when nothing is committed) and continue numbering after it.
    pub(crate) fn cleanup(&mut self, tid: Option<u32>) -> Result<()> {
        self.writer.abandon();
        for (n, name) in list_segments(self.store.as_ref())?.into_iter().rev() {
            if tid.is_some_and(|t| n <= t) {
                break;
            }
            self.store.delete(&name)?;
        }
        self.writer = SegmentWriter::new(
            self.settings.segments_per_dir,
            self.settings.max_segment_size,
            tid.map_or(0, |t| t + 1),
        );
        Ok(())
    }

    fn ensure_txn(&mut self) -> Result<()> {
        if !self.active_txn {
            self.check_transaction()?;
            let tid = self.index_transaction_id()?;
            self.prepare_txn(tid, true)?;
        }
        Ok(())
    }

    fn index_mut(&mut self) -> &mut Index {
        self.index.get_or_insert_with(Index::new)
    }

    /// borg's `_delete`: write a DELETE for the PUT at (`seg`, `off`).
    fn delete_entry(&mut self, id: &Id, seg: u32, off: u32) -> Result<()> {
        self.shadow_index.entry(*id).or_default().push(seg);
        *self.segments.entry(seg).or_insert(0) -= 1;
        let size = segment::entry_size(
            self.store.as_ref(),
            self.settings.segments_per_dir,
            seg,
            u64::from(off),
        )?;
        *self.compact.entry(seg).or_insert(0) += u64::from(size);
        let (dseg, _) = self.writer.write_delete(self.store.as_ref(), id)?;
        self.segments.entry(dseg).or_insert(0);
        *self.compact.entry(dseg).or_insert(0) += PUT_HEADER_SIZE as u64;
        Ok(())
    }

    /// Bytes that must be free for a commit to go ahead (borg's
    /// `check_free_space`).
    fn required_free_space(&self) -> u64 {
        let index_size = 18 + 40 * self.index.as_ref().map_or(1031, |i| i.num_buckets()) as u64;
        let mut required = 4 * index_size
            + 10 * self.segments.len() as u64
            + 10 * self.compact.len() as u64
            + 4096;
        required += self.settings.additional_free_space;
        if !self.append_only {
            let full = self.settings.max_segment_size + segment::MAX_OBJECT_SIZE as u64;
            if self.compact.len() < 10 {
                let mut sum = 0u64;
                for (&s, &free) in &self.compact {
                    let size = self
                        .store
                        .size(&segment_name(s, self.settings.segments_per_dir))
                        .ok()
                        .flatten()
                        .unwrap_or(0);
                    sum += size.saturating_sub(free);
                }
                required += sum.min(full);
            } else {
                required += full;
            }
        }
        required
    }

    /// Write index, hints and integrity for transaction `tid`, in borg's
    /// durable order, and remove older ones.
    pub(crate) fn write_index(&mut self, tid: u32) -> Result<()> {
        let store = self.store.as_ref();
        if self.append_only {
            let now = crate::local::utc_now_iso();
            let mut f = store.open_append("transactions")?;
            writeln!(f, "transaction {tid}, UTC time {now}")
                .map_err(|e| RepositoryError::io(store.path_of("transactions"), e))?;
        }
        let hints = Hints {
            segments: self.segments.clone(),
            compact: self.compact.clone(),
            storage_quota_use: self.storage_quota_use,
            shadow_index: self.shadow_index.clone(),
        }
        .encode();
        let hints_name = format!("hints.{tid}");
        let hints_json = file_digests_json(&hints, &hints_name);
        let index_name = format!("index.{tid}");
        let (index_bytes, index_json) = self
            .index
            .get_or_insert_with(Index::new)
            .serialize(&index_name);
        let store = self.store.as_ref();
        store.write_new_synced(&format!("{hints_name}.tmp"), &hints)?;
        store.write_new_synced(&format!("{index_name}.tmp"), &index_bytes)?;
        store.write_new_synced(
            &format!("integrity.{tid}.tmp"),
            &encode_integrity(&hints_json, &index_json),
        )?;
        store.rename(&format!("integrity.{tid}.tmp"), &format!("integrity.{tid}"))?;
        store.sync_dir("")?;
        store.rename(&format!("{hints_name}.tmp"), &hints_name)?;
        store.rename(&format!("{index_name}.tmp"), &index_name)?;
        store.sync_dir("")?;
        let keep = format!(".{tid}");
        for name in store.list("")? {
            let ours = ["index.", "hints.", "integrity."]
                .iter()
                .any(|p| name.starts_with(p));
            if ours && !name.ends_with(&keep) {
                store.delete(&name)?;
            }
        }
        Ok(())
    }

    fn rollback_state(&mut self) {
        self.index = None;
        self.active_txn = false;
        self.transaction_doomed = None;
        self.writer.abandon();
    }

    /// Release the lock, leaving anything uncommitted for the next opener to
    /// clean up (borg's `close`).
    pub fn close(mut self) -> Result<()> {
        // A deliberate close is no error exit: like borg's `close`, it
        // leaves an uncommitted tail to the next writer.
        self.no_space_in_txn = false;
        self.writer.close(self.store.as_ref())?;
        if let Some(mut l) = self.lock.take() {
            l.release()?;
        }
        Ok(())
    }

    /// Delete the whole repository (borg's `destroy`); refused in append-only mode.
    pub fn destroy(mut self) -> Result<()> {
        self.no_space_in_txn = false;
        if self.append_only {
            return Err(RepositoryError::AppendOnly {
                path: self.path.clone(),
            });
        }
        self.store.secure_erase("config")?;
        let path = self.path.clone();
        if let Some(mut l) = self.lock.take() {
            let _ = l.release();
        }
        std::fs::remove_dir_all(&path).map_err(|e| RepositoryError::io(path, e))
    }

    fn locate(&mut self, id: &Id) -> Result<(u32, u32)> {
        self.ensure_index()?;
        self.index
            .as_ref()
            .and_then(|i| i.get(id))
            .ok_or_else(|| RepositoryError::ObjectNotFound {
                id: *id,
                path: self.path.clone(),
            })
    }

    /// The committed transaction (after any replay) and its index.
    pub(crate) fn current_transaction_and_index(&mut self) -> Result<(Option<u32>, Option<Index>)> {
        self.check_transaction()?;
        let tid = self.index_transaction_id()?;
        let index = self.load_index(tid)?;
        Ok((tid, Some(index)))
    }

    /// Start from empty state without touching segments (for check).
    pub(crate) fn reset_txn_state(&mut self) -> Result<()> {
        self.require_exclusive()?;
        self.index = Some(Index::new());
        self.segments.clear();
        self.compact.clear();
        self.storage_quota_use = 0;
        self.shadow_index.clear();
        self.active_txn = true;
        self.txn_base = None;
        self.failed_commit = false;
        self.no_space_in_txn = false;
        Ok(())
    }

    /// Drop the in-memory transaction.
    pub(crate) fn rollback_txn(&mut self) {
        self.rollback_state();
    }

    pub(crate) fn per_dir(&self) -> u32 {
        self.settings.segments_per_dir
    }
}

/// UTC now as `YYYY-mm-ddTHH:MM:SS.ffffff`, as borg's `transactions` log.
pub(crate) fn utc_now_iso() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let micros = now.subsec_micros();
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ENOSPC handling (borg's `__exit__`), and the bodies of the `Repository`
// calls whose failures `track` watches.
impl LocalRepository {
    /// Note an ENOSPC that ends a call while a transaction is active, for
    /// the cleanup when the repository is dropped without `close`.
    fn track<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if e.is_no_space() && (self.active_txn || self.failed_commit) {
                self.no_space_in_txn = true;
            }
        }
        r
    }

    /// Delete the segment files written after the last commit, giving
    /// their space back (borg's `_rollback(cleanup=True)`, which cleans up
    /// after `get_segments_transaction_id()`).
    ///
    /// The last commit is the newest committed segment on disk, but never
    /// one older than the commit the transaction began on: a COMMIT that
    /// does not read back as valid must not make committed data look
    /// uncommitted. With no commit at all nothing is deleted (borg fails
    /// there, and `check --repair` may still need those segments).
    fn cleanup_uncommitted(&mut self) -> Result<()> {
        self.writer.abandon();
        match self.segments_transaction_id()?.max(self.txn_base) {
            Some(t) => self.cleanup(Some(t)),
            None => Ok(()),
        }
    }

    /// See [`Repository::rollback_after_error`].
    fn rollback_after_error_inner(&mut self, no_space_left: bool) -> Result<bool> {
        // borg's `_active_txn`: still set after a failed commit.
        let active = self.active_txn || self.failed_commit;
        self.failed_commit = false;
        self.no_space_in_txn = false;
        self.rollback_state();
        if !(active && no_space_left) {
            return Ok(false);
        }
        self.reporter
            .warning("No space left on device, cleaning up partial transaction to free space.");
        self.cleanup_uncommitted()?;
        Ok(true)
    }

    fn get_inner(&mut self, id: &Id) -> Result<Vec<u8>> {
        let (seg, off) = self.locate(id)?;
        self.writer.flush_if_current(self.store.as_ref(), seg)?;
        read_put(self.store.as_ref(), self.per_dir(), seg, u64::from(off), id)
    }

    fn get_many_inner(&mut self, ids: &[Id]) -> Result<Vec<Vec<u8>>> {
        let mut locs = Vec::with_capacity(ids.len());
        for id in ids {
            let (seg, off) = self.locate(id)?;
            self.writer.flush_if_current(self.store.as_ref(), seg)?;
            locs.push((seg, off));
        }
        // Keep several reads in flight so the storage works on them in
        // parallel; results come back in request order.
        if locs.len() < 2 {
            return locs
                .iter()
                .zip(ids)
                .map(|(&(s, o), id)| {
                    read_put(self.store.as_ref(), self.per_dir(), s, u64::from(o), id)
                })
                .collect();
        }
        let per_dir = self.per_dir();
        let store = self.store.clone();
        let pool = self
            .readers
            .get_or_insert_with(|| crate::readpool::ReadPool::new(store, per_dir, GET_MANY_LANES));
        let jobs: Vec<(u32, u64, Id)> = locs
            .iter()
            .zip(ids)
            .map(|(&(s, o), id)| (s, u64::from(o), *id))
            .collect();
        pool.read_all(&jobs)
    }

    fn put_inner(&mut self, id: &Id, data: &[u8]) -> Result<()> {
        if data.len() > MAX_DATA_SIZE {
            return Err(RepositoryError::IntegrityOther(format!(
                "More than allowed put data [{} > {MAX_DATA_SIZE}]",
                data.len()
            )));
        }
        self.ensure_txn()?;
        if let Some((seg, off)) = self.index_mut().get(id) {
            self.delete_entry(id, seg, off)?;
        }
        let (seg, off) = self.writer.write_put(self.store.as_ref(), id, data)?;
        *self.segments.entry(seg).or_insert(0) += 1;
        let off = u32::try_from(off)
            .map_err(|_| RepositoryError::IntegrityOther("segment offset exceeds 4 GiB".into()))?;
        self.index_mut()
            .insert(id, seg, off)
            .map_err(RepositoryError::IntegrityOther)?;
        self.storage_quota_use += (data.len() + PUT_HEADER_SIZE) as u64;
        if self.storage_quota > 0 && self.storage_quota_use > self.storage_quota {
            self.transaction_doomed = Some((self.storage_quota, self.storage_quota_use));
            return Err(RepositoryError::StorageQuotaExceeded {
                quota: crate::error::format_size(self.storage_quota),
                used: crate::error::format_size(self.storage_quota_use),
            });
        }
        Ok(())
    }

    fn delete_inner(&mut self, id: &Id) -> Result<()> {
        self.ensure_txn()?;
        let (seg, off) =
            self.index_mut()
                .remove(id)
                .ok_or_else(|| RepositoryError::ObjectNotFound {
                    id: *id,
                    path: self.path.clone(),
                })?;
        self.delete_entry(id, seg, off)
    }

    fn commit_inner(&mut self, opts: CommitOptions) -> Result<()> {
        if !self.active_txn {
            return Err(RepositoryError::NoActiveTransaction);
        }
        if let Some((quota, used)) = self.transaction_doomed {
            self.rollback_state();
            return Err(RepositoryError::StorageQuotaExceeded {
                quota: crate::error::format_size(quota),
                used: crate::error::format_size(used),
            });
        }
        let required = self.required_free_space();
        if let Some(free) = self.store.free_space() {
            if free < required {
                self.rollback_state();
                self.cleanup_uncommitted()?;
                return Err(RepositoryError::InsufficientFreeSpace {
                    required: crate::error::format_size(required),
                    available: crate::error::format_size(free),
                });
            }
        }
        let result = (|| {
            let seg = self.writer.write_commit(self.store.as_ref(), false)?;
            self.segments.insert(seg, 0);
            *self.compact.entry(seg).or_insert(0) += segment::HEADER_SIZE as u64;
            let mut tid = seg;
            if opts.compact && !self.append_only {
                if opts.cleanup_commits {
                    self.cleanup_commits()?;
                }
                if let Some(t) = self.compact_segments(opts.threshold)? {
                    tid = t;
                }
            }
            self.write_index(tid)
        })();
        self.rollback_state();
        // borg forgets the transaction only once the commit succeeded.
        self.failed_commit = result.is_err();
        result
    }

    fn commit_nonce_reservation_inner(
        &mut self,
        next_unreserved: u64,
        start_nonce: Option<u64>,
    ) -> Result<()> {
        self.require_exclusive()?;
        if self.get_free_nonce()? != start_nonce {
            return Err(RepositoryError::NonceMismatch);
        }
        self.store
            .write_atomic("nonce", format!("{next_unreserved:016x}").as_bytes())
    }

    fn save_key_inner(&mut self, keydata: &[u8]) -> Result<()> {
        let text = String::from_utf8_lossy(keydata).into_owned();
        self.config.set("key", text);
        self.save_config()
    }
}

impl Repository for LocalRepository {
    fn close_boxed(self: Box<Self>) -> Result<()> {
        (*self).close()
    }
    fn destroy_boxed(self: Box<Self>) -> Result<()> {
        (*self).destroy()
    }
    fn id(&self) -> Id {
        self.settings.id
    }

    fn get(&mut self, id: &Id) -> Result<Vec<u8>> {
        let r = self.get_inner(id);
        self.track(r)
    }

    fn get_many(&mut self, ids: &[Id]) -> Result<Vec<Vec<u8>>> {
        let r = self.get_many_inner(ids);
        self.track(r)
    }

    fn put(&mut self, id: &Id, data: &[u8]) -> Result<()> {
        let r = self.put_inner(id, data);
        self.track(r)
    }

    fn delete(&mut self, id: &Id) -> Result<()> {
        let r = self.delete_inner(id);
        self.track(r)
    }

    fn commit(&mut self, opts: CommitOptions) -> Result<()> {
        let r = self.commit_inner(opts);
        self.track(r)
    }

    fn rollback(&mut self) -> Result<()> {
        self.failed_commit = false;
        self.no_space_in_txn = false;
        self.rollback_state();
        Ok(())
    }

    fn rollback_after_error(&mut self, no_space_left: bool) -> Result<bool> {
        self.rollback_after_error_inner(no_space_left)
    }

    fn list(&mut self, limit: Option<usize>, marker: Option<&Id>) -> Result<Vec<Id>> {
        self.ensure_index()?;
        let index = self
            .index
            .as_ref()
            .ok_or(RepositoryError::NoActiveTransaction)?;
        index
            .ids_after(marker, limit.unwrap_or(usize::MAX))
            .map_err(RepositoryError::IntegrityOther)
    }

    fn scan(&mut self, limit: Option<usize>, marker: Option<&Id>) -> Result<Vec<Id>> {
        if limit == Some(0) {
            return Err(RepositoryError::IntegrityOther(
                "scan limit must be >= 1".into(),
            ));
        }
        self.ensure_index()?;
        let (start_seg, mut start_off) = match marker {
            None => (0, 0),
            Some(m) => self.index.as_ref().and_then(|i| i.get(m)).ok_or_else(|| {
                RepositoryError::ObjectNotFound {
                    id: *m,
                    path: self.path.clone(),
                }
            })?,
        };
        let limit = limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let index = self
            .index
            .as_ref()
            .ok_or(RepositoryError::NoActiveTransaction)?;
        for (n, name) in list_segments(self.store.as_ref())? {
            if n < start_seg {
                continue;
            }
            let bytes = self.store.read(&name)?.unwrap_or_default();
            let mut stop = false;
            // An entry error ends this segment, as in borg: later offsets
            // cannot be reached past a damaged header.
            let _ = segment::for_each_entry(&bytes, n, |e| {
                if start_off > 0 {
                    if e.offset < u64::from(start_off) {
                        return Ok(());
                    }
                    start_off = 0;
                    return Ok(());
                }
                if e.tag == Tag::Put && index.get(&e.id) == Some((n, e.offset as u32)) {
                    out.push(e.id);
                    if out.len() >= limit {
                        stop = true;
                        return Err(RepositoryError::NoActiveTransaction);
                    }
                }
                Ok(())
            });
            start_off = 0;
            if stop {
                break;
            }
        }
        Ok(out)
    }

    fn len(&mut self) -> Result<usize> {
        self.ensure_index()?;
        Ok(self.index.as_ref().map_or(0, Index::len))
    }

    fn load_key(&mut self) -> Result<Vec<u8>> {
        Ok(self
            .config
            .get("key")
            .unwrap_or("")
            .trim()
            .as_bytes()
            .to_vec())
    }

    fn save_key(&mut self, keydata: &[u8]) -> Result<()> {
        let r = self.save_key_inner(keydata);
        self.track(r)
    }

    fn get_free_nonce(&mut self) -> Result<Option<u64>> {
        self.require_exclusive()?;
        let Some(data) = self.store.read("nonce")? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&data);
        let t = text.trim();
        let bytes = hex::decode(t)
            .ok()
            .filter(|b| b.len() == 8)
            .ok_or_else(|| RepositoryError::InvalidNonceFile(t.to_string()))?;
        Ok(Some(u64::from_be_bytes(
            bytes.try_into().unwrap_or_default(),
        )))
    }

    fn commit_nonce_reservation(
        &mut self,
        next_unreserved: u64,
        start_nonce: Option<u64>,
    ) -> Result<()> {
        let r = self.commit_nonce_reservation_inner(next_unreserved, start_nonce);
        self.track(r)
    }

    fn check(&mut self, repair: bool, max_duration: Option<Duration>) -> Result<bool> {
        let r = crate::check::check(self, repair, max_duration);
        self.track(r)
    }

    fn break_lock(&mut self) -> Result<()> {
        oxiborg_lock::break_lock(&self.path.join("lock"))?;
        Ok(())
    }
}

impl Drop for LocalRepository {
    fn drop(&mut self) {
        // Durability is the commit's job. Dropped without `close` after a
        // call failed with ENOSPC in a transaction, the work is ending with
        // that error: do what borg's `__exit__` does and delete the partial
        // transaction now (warning included), while the lock is still held,
        // so the space comes back. Its own errors cannot be reported here;
        // the next writer's `prepare_txn` cleans up whatever is left.
        if self.no_space_in_txn {
            let _ = self.rollback_after_error_inner(true);
        }
        if let Some(mut l) = self.lock.take() {
            let _ = l.release();
        }
    }
}
