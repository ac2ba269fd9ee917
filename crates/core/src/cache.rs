//! oxiborg's client cache: the chunk index (reference counts of every object
//! the archives use) and the files cache.
//!
//! It lives in its own directory, `<borg cache dir>/oxiborg/<repo id hex>/`,
//! never in borg's `<repo id hex>/`, so neither tool can misread the
//! other's files. The `config` file records the manifest id the cache
//! describes; whenever the repository's manifest differs (another client,
//! borg included, wrote to it) the chunk index is rebuilt from the archives
//! before it is trusted. Per-archive indexes (`archive.d/<id>`) make the
//! rebuild cheap: only archives not seen before are read.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use oxiborg_crypto::Key;
use oxiborg_hashindex::ChunkIndex;
use oxiborg_msgpack::{Decoder, Encoder, Value};
use oxiborg_repository::{Reporter, Repository};
use xxhash_rust::xxh64::xxh64;

use crate::archives::{for_each_item, load_archive};
use crate::error::{CoreError, Result};

const CACHE_VERSION: u64 = 1;

/// The files-cache modes (`--files-cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilesCacheMode {
    /// Compare ctime.
    pub ctime: bool,
    /// Compare mtime.
    pub mtime: bool,
    /// Compare size.
    pub size: bool,
    /// Compare inode.
    pub inode: bool,
    /// Ignore cached entries but write new ones.
    pub rechunk: bool,
    /// No files cache at all.
    pub disabled: bool,
}

impl Default for FilesCacheMode {
    fn default() -> Self {
        FilesCacheMode::parse("ctime,size,inode").expect("default mode")
    }
}

impl FilesCacheMode {
    /// borg's `FilesCacheMode`: comma-separated names; the valid
    /// combinations are borg's (`cis`, `ims`, `cs`, `ms`, `cr`, `mr`, `d`, `s`).
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let mut m = FilesCacheMode {
            ctime: false,
            mtime: false,
            size: false,
            inode: false,
            rechunk: false,
            disabled: false,
        };
        let mut letters = String::new();
        for part in s.split(',') {
            let (flag, letter) = match part.trim() {
                "ctime" => (&mut m.ctime, 'c'),
                "mtime" => (&mut m.mtime, 'm'),
                "size" => (&mut m.size, 's'),
                "inode" => (&mut m.inode, 'i'),
                "rechunk" => (&mut m.rechunk, 'r'),
                "disabled" => (&mut m.disabled, 'd'),
                other => return Err(format!("not a valid files cache mode: {other:?}")),
            };
            *flag = true;
            letters.push(letter);
        }
        let mut sorted: Vec<char> = letters.chars().collect();
        sorted.sort_unstable();
        let key: String = sorted.into_iter().collect();
        const VALID: [&str; 8] = ["cis", "ims", "cs", "ms", "cr", "mr", "d", "s"];
        let valid = VALID.iter().any(|v| {
            let mut c: Vec<char> = v.chars().collect();
            c.sort_unstable();
            c.into_iter().collect::<String>() == key
        });
        if !valid {
            return Err(format!("not a valid files cache mode combination: {s:?}"));
        }
        Ok(m)
    }
}

/// One files-cache entry (`FileCacheEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCacheEntry {
    /// Backups since the file was last seen (0 = this one).
    pub age: u32,
    /// Inode number.
    pub inode: u64,
    /// Size.
    pub size: u64,
    /// ctime or mtime in ns, as the mode decides.
    pub cmtime: i128,
    /// The file's chunk ids.
    pub chunk_ids: Vec<[u8; 32]>,
}

/// The files cache: `id_hash(absolute path)` → entry.
#[derive(Debug, Default)]
pub struct FilesCache {
    entries: HashMap<[u8; 32], FileCacheEntry>,
    newest_cmtime: i128,
    ttl: u32,
}

impl FilesCache {
    /// An empty cache with time-to-live `ttl` backups.
    pub fn new(ttl: u32) -> Self {
        FilesCache {
            entries: HashMap::new(),
            newest_cmtime: 0,
            ttl,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Look a path hash up.
    pub fn get(&self, path_hash: &[u8; 32]) -> Option<&FileCacheEntry> {
        self.entries.get(path_hash)
    }

    /// A hit: refresh inode and age (borg's `file_known_and_unchanged`).
    pub fn touch(&mut self, path_hash: &[u8; 32], inode: u64) {
        if let Some(e) = self.entries.get_mut(path_hash) {
            e.inode = inode;
            e.age = 0;
        }
    }

    /// Remember a file just backed up (`memorize_file`).
    pub fn memorize(&mut self, path_hash: [u8; 32], entry: FileCacheEntry) {
        self.newest_cmtime = self.newest_cmtime.max(entry.cmtime);
        self.entries.insert(path_hash, entry);
    }

    /// Parse borg's on-disk files-cache format; every entry's age is
    /// incremented on load.
    pub fn parse(data: &[u8], ttl: u32) -> std::result::Result<Self, String> {
        let mut cache = FilesCache::new(ttl);
        let mut d = Decoder::new(data);
        while let Some(v) = d.next_value().map_err(|e| e.to_string())? {
            let (h, e) = parse_entry(v).ok_or("files cache entry has an invalid shape")?;
            cache.entries.insert(h, e);
        }
        Ok(cache)
    }

    /// Serialize with borg's retention rule: keep entries seen in this
    /// backup whose cmtime is older than the newest seen (timestamp
    /// granularity), and entries younger than the TTL.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = Encoder::new(&mut out);
        let mut keys: Vec<&[u8; 32]> = self.entries.keys().collect();
        keys.sort_unstable();
        for k in keys {
            let e = &self.entries[k];
            let keep =
                (e.age == 0 && e.cmtime < self.newest_cmtime) || (e.age > 0 && e.age < self.ttl);
            if !keep {
                continue;
            }
            enc.array_header(2);
            enc.raw(k);
            enc.array_header(5);
            enc.uint(u64::from(e.age));
            enc.uint(e.inode);
            enc.uint(e.size);
            match i64::try_from(e.cmtime) {
                Ok(v) => enc.int(v),
                Err(_) => enc.raw(&oxiborg_format::int_to_bigint(e.cmtime).unwrap_or_default()),
            }
            enc.array_header(e.chunk_ids.len());
            for id in &e.chunk_ids {
                enc.raw(id);
            }
        }
        out
    }
}

fn parse_entry(v: Value) -> Option<([u8; 32], FileCacheEntry)> {
    let Value::Array(mut pair) = v else {
        return None;
    };
    if pair.len() != 2 {
        return None;
    }
    let Value::Array(fields) = pair.pop()? else {
        return None;
    };
    let hash: [u8; 32] = pair.pop()?.as_raw()?.try_into().ok()?;
    let [age, inode, size, cmtime, ids]: [Value; 5] = fields.try_into().ok()?;
    let Value::Array(ids) = ids else { return None };
    let chunk_ids = ids
        .into_iter()
        .map(|i| i.as_raw().and_then(|b| <[u8; 32]>::try_from(b).ok()))
        .collect::<Option<Vec<_>>>()?;
    Some((
        hash,
        FileCacheEntry {
            age: u32::try_from(age.as_u64()?).ok()?.saturating_add(1),
            inode: inode.as_u64()?,
            size: size.as_u64()?,
            cmtime: oxiborg_format::bigint_to_int(&cmtime)?,
            chunk_ids,
        },
    ))
}

/// Where the cache of one repository lives.
#[derive(Debug, Clone)]
pub struct CacheDir {
    path: PathBuf,
}

impl CacheDir {
    /// `<borg cache dir>/oxiborg/<repo id hex>`.
    pub fn new(borg_cache_dir: &Path, repo_id: &[u8; 32]) -> Self {
        CacheDir {
            path: borg_cache_dir.join("oxiborg").join(hex::encode(repo_id)),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn ensure(&self) -> Result<()> {
        fs::create_dir_all(self.path.join("archive.d")).map_err(|e| CoreError::io(&self.path, e))
    }

    /// Delete the whole cache (`delete` of a repository, `--cache-only`).
    pub fn destroy(&self) -> Result<()> {
        match fs::remove_dir_all(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CoreError::io(&self.path, e)),
            _ => Ok(()),
        }
    }
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_data()?;
        fs::rename(&tmp, path)
    })()
    .map_err(|e| CoreError::io(path, e))
}

fn index_bytes(idx: &ChunkIndex) -> Vec<u8> {
    let mut out = Vec::new();
    idx.write_to(&mut out)
        .expect("writing to a Vec never fails");
    out
}

#[derive(Debug, Default)]
struct CacheConfig {
    manifest: String,
    chunks_xxh64: String,
    files_xxh64: String,
}

impl CacheConfig {
    fn read(path: &Path, repo_id: &[u8; 32]) -> Option<CacheConfig> {
        let text = fs::read_to_string(path).ok()?;
        let mut c = CacheConfig::default();
        let mut version_ok = false;
        let mut repo_ok = false;
        for line in text.lines() {
            let (k, v) = line.split_once('=')?;
            let v = v.trim().to_string();
            match k.trim() {
                "version" => version_ok = v == CACHE_VERSION.to_string(),
                "repository" => repo_ok = v == hex::encode(repo_id),
                "manifest" => c.manifest = v,
                "chunks_xxh64" => c.chunks_xxh64 = v,
                "files_xxh64" => c.files_xxh64 = v,
                _ => {}
            }
        }
        (version_ok && repo_ok).then_some(c)
    }

    fn render(&self, repo_id: &[u8; 32]) -> String {
        format!(
            "version = {CACHE_VERSION}\nrepository = {}\nmanifest = {}\nchunks_xxh64 = {}\nfiles_xxh64 = {}\n",
            hex::encode(repo_id),
            self.manifest,
            self.chunks_xxh64,
            self.files_xxh64
        )
    }
}

/// The cache, opened and synchronised with the repository.
#[derive(Debug)]
pub struct Cache {
    dir: CacheDir,
    repo_id: [u8; 32],
    /// Reference counts, sizes and stored sizes of every object the
    /// archives reference (archive metadata and item chunks included).
    pub chunks: ChunkIndex,
    /// The files cache (empty when disabled or not loaded).
    pub files: FilesCache,
    archive_indexes: HashMap<[u8; 32], ChunkIndex>,
    lock: Option<oxiborg_lock::Lock>,
    /// When the files cache was not loaded: the digest of the one on disk,
    /// which `commit` keeps instead of overwriting it with an empty one
    /// (borg writes the files cache only when it loaded it).
    kept_files_digest: Option<String>,
}

/// How to open the cache.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// Load the files cache.
    pub load_files: bool,
    /// Files-cache name suffix (`BORG_FILES_CACHE_SUFFIX`).
    pub files_suffix: Option<String>,
    /// Files-cache time to live (`BORG_FILES_CACHE_TTL`, default 20).
    pub files_ttl: u32,
    /// Lock identity for the cache lock.
    pub process: oxiborg_lock::ProcessId,
    /// How long to wait for the cache lock.
    pub lock_wait: std::time::Duration,
}

impl Cache {
    /// Open the cache of `repo` and bring its chunk index in line with the
    /// manifest `manifest_id` (whose archives are `archives`).
    pub fn open(
        borg_cache_dir: &Path,
        repo: &mut dyn Repository,
        key: &Key,
        manifest: &oxiborg_format::Manifest,
        manifest_id: &[u8; 32],
        opts: &CacheOptions,
        reporter: &dyn Reporter,
    ) -> Result<Cache> {
        let repo_id = repo.id();
        let dir = CacheDir::new(borg_cache_dir, &repo_id);
        dir.ensure()?;
        let mut lock = oxiborg_lock::Lock::new(
            &dir.file("lock"),
            opts.process.clone(),
            true,
            Some(opts.lock_wait),
        );
        lock.acquire().map_err(|e| CoreError::Cache {
            path: dir.path().to_path_buf(),
            message: e.to_string(),
        })?;
        let config = CacheConfig::read(&dir.file("config"), &repo_id);
        let mut cache = Cache {
            dir,
            repo_id,
            chunks: ChunkIndex::new(),
            files: FilesCache::new(opts.files_ttl),
            archive_indexes: HashMap::new(),
            lock: Some(lock),
            kept_files_digest: if opts.load_files {
                None
            } else {
                Some(
                    config
                        .as_ref()
                        .map(|c| c.files_xxh64.clone())
                        .unwrap_or_default(),
                )
            },
        };
        let mut in_sync = false;
        if let Some(c) = &config {
            if c.manifest == hex::encode(manifest_id) {
                if let Ok(data) = fs::read(cache.dir.file("chunks")) {
                    if format!("{:016x}", xxh64(&data, 0)) == c.chunks_xxh64 {
                        if let Ok(idx) = ChunkIndex::read_from(&data) {
                            cache.chunks = idx;
                            in_sync = true;
                        }
                    }
                }
            }
        }
        if !in_sync {
            cache.resync(repo, key, manifest, reporter)?;
        }
        if opts.load_files {
            let name = files_name(opts.files_suffix.as_deref());
            if let Ok(data) = fs::read(cache.dir.file(&name)) {
                let expected = config
                    .as_ref()
                    .map(|c| c.files_xxh64.clone())
                    .unwrap_or_default();
                if format!("{:016x}", xxh64(&data, 0)) != expected {
                    reporter
                        .warning("The files cache is corrupted or stale; backing up without it.");
                } else {
                    match FilesCache::parse(&data, opts.files_ttl) {
                        Ok(f) => cache.files = f,
                        Err(e) => reporter.warning(&format!(
                            "The files cache is corrupted ({e}); backing up without it."
                        )),
                    }
                }
            }
        }
        Ok(cache)
    }

    /// The cache directory.
    pub fn dir(&self) -> &CacheDir {
        &self.dir
    }

    fn archive_index_path(&self, id: &[u8; 32]) -> PathBuf {
        self.dir.path().join("archive.d").join(hex::encode(id))
    }

    /// Rebuild the chunk index: merge the per-archive indexes of every
    /// archive in the manifest, building the missing ones from the
    /// repository, and drop indexes of archives that are gone.
    fn resync(
        &mut self,
        repo: &mut dyn Repository,
        key: &Key,
        manifest: &oxiborg_format::Manifest,
        reporter: &dyn Reporter,
    ) -> Result<()> {
        let wanted: HashSet<[u8; 32]> = manifest.archives.values().map(|a| a.id).collect();
        let archive_d = self.dir.path().join("archive.d");
        if let Ok(rd) = fs::read_dir(&archive_d) {
            for e in rd.flatten() {
                let name = e.file_name();
                let keep = hex::decode(name.as_encoded_bytes())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .is_some_and(|id| wanted.contains(&id));
                if !keep {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let mut chunks = ChunkIndex::new();
        let total = wanted.len() as u64;
        for (n, entry) in manifest.archives.values().enumerate() {
            reporter.progress("cache.sync", n as u64, total);
            let idx = self.archive_index(repo, key, &entry.id)?;
            chunks.merge(&idx)?;
        }
        self.chunks = chunks;
        Ok(())
    }

    /// The chunk references of archive `id`, from `archive.d` or built
    /// from the repository (and then stored).
    pub fn archive_index(
        &mut self,
        repo: &mut dyn Repository,
        key: &Key,
        id: &[u8; 32],
    ) -> Result<ChunkIndex> {
        if let Some(idx) = self.archive_indexes.get(id) {
            return Ok(idx.clone());
        }
        let path = self.archive_index_path(id);
        if let Ok(data) = fs::read(&path) {
            if data.len() > 8 {
                let (body, sum) = data.split_at(data.len() - 8);
                if xxh64(body, 0).to_be_bytes() == sum {
                    if let Ok(idx) = ChunkIndex::read_from(body) {
                        return Ok(idx);
                    }
                }
            }
        }
        let idx = build_archive_index(repo, key, id)?;
        let mut data = index_bytes(&idx);
        let sum = xxh64(&data, 0).to_be_bytes();
        data.extend_from_slice(&sum);
        write_atomic(&path, &data)?;
        Ok(idx)
    }

    /// Record the references of a freshly written archive.
    pub fn add_archive_index(&mut self, id: [u8; 32], idx: ChunkIndex) {
        self.archive_indexes.insert(id, idx);
    }

    /// Persist everything after the repository committed manifest
    /// `manifest_id`. The config file is written last: it is what marks
    /// the other files as describing that manifest.
    pub fn commit(&mut self, manifest_id: &[u8; 32], files_suffix: Option<&str>) -> Result<()> {
        for (id, idx) in std::mem::take(&mut self.archive_indexes) {
            let mut data = index_bytes(&idx);
            let sum = xxh64(&data, 0).to_be_bytes();
            data.extend_from_slice(&sum);
            write_atomic(&self.archive_index_path(&id), &data)?;
        }
        let chunks = index_bytes(&self.chunks);
        write_atomic(&self.dir.file("chunks"), &chunks)?;
        let files_xxh64 = match &self.kept_files_digest {
            Some(d) => d.clone(),
            None => {
                let files = self.files.serialize();
                write_atomic(&self.dir.file(&files_name(files_suffix)), &files)?;
                format!("{:016x}", xxh64(&files, 0))
            }
        };
        let config = CacheConfig {
            manifest: hex::encode(manifest_id),
            chunks_xxh64: format!("{:016x}", xxh64(&chunks, 0)),
            files_xxh64,
        };
        write_atomic(
            &self.dir.file("config"),
            config.render(&self.repo_id).as_bytes(),
        )
    }

    /// Forget a deleted archive's per-archive index.
    pub fn forget_archive(&mut self, id: &[u8; 32]) {
        self.archive_indexes.remove(id);
        let _ = fs::remove_file(self.archive_index_path(id));
    }

    /// Release the cache lock.
    pub fn close(mut self) -> Result<()> {
        if let Some(mut l) = self.lock.take() {
            l.release().map_err(|e| CoreError::Cache {
                path: self.dir.path().to_path_buf(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }
}

impl Drop for Cache {
    fn drop(&mut self) {
        if let Some(mut l) = self.lock.take() {
            let _ = l.release();
        }
    }
}

fn files_name(suffix: Option<&str>) -> String {
    match suffix {
        Some(s) if !s.is_empty() => format!("files.{s}"),
        _ => "files".to_string(),
    }
}

/// Every object archive `id` references, with its reference count within
/// the archive: the metadata object, the item-stream chunks and every
/// content chunk (borg's cache sync counts the same).
pub fn build_archive_index(
    repo: &mut dyn Repository,
    key: &Key,
    id: &[u8; 32],
) -> Result<ChunkIndex> {
    let archive = load_archive(repo, key, id)?;
    let mut idx = ChunkIndex::new();
    idx.add(id, 1, archive.size as u32, archive.csize as u32)?;
    let mut err = None;
    let mut item_chunks = Vec::new();
    for_each_item(
        repo,
        key,
        &archive.meta,
        |cid, size, csize| {
            item_chunks.push((*cid, size as u32, csize as u32));
            Ok(())
        },
        |item| {
            if let Some(chunks) = &item.chunks {
                for c in chunks {
                    if let Err(e) = idx.add(&c.id, 1, c.size as u32, c.csize as u32) {
                        err = Some(e);
                        return Ok(false);
                    }
                }
            }
            Ok(true)
        },
    )?;
    if let Some(e) = err {
        return Err(e.into());
    }
    for (cid, size, csize) in item_chunks {
        idx.add(&cid, 1, size, csize)?;
    }
    Ok(idx)
}
