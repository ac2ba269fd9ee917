//! The archives part of `borg check` (borg 1.4.5's `ArchiveChecker`):
//! every object of the repository is listed, the manifest is loaded (or
//! rebuilt from the archive objects found), every selected archive's
//! metadata and item stream are walked to rebuild the reference counts,
//! missing file chunks are reported (and, with repair, patched with
//! all-zero chunks that a later repair can heal), and objects nothing
//! references are reported as orphans (and deleted with repair).
//! `--verify-data` first decrypts every object and checks its id.
//!
//! Messages are borg's, reported through the [`Reporter`]; the caller
//! drives the phases: [`ArchiveChecker::start`], then
//! [`ArchiveChecker::check_archives`] for the archives it selected from
//! [`ArchiveChecker::manifest`], then [`ArchiveChecker::finish`].

use std::collections::{HashMap, HashSet};

use oxiborg_chunker::{Chunker, ChunkerParams};
use oxiborg_crypto::{
    manifest_nonce, CryptoError, Key, KeyType, NonceManager, SecurityDirNonceFile, CONTEXT_ARCHIVE,
};
use oxiborg_format::{
    ArchiveItem, ChunkListEntry, CompressionSpec, Compressor, Item, Manifest, Operation,
    UtcTimestamp, ARCHIVE_KEYS, MANIFEST_ID, REQUIRED_ARCHIVE_KEYS, REQUIRED_ITEM_KEYS,
};
use oxiborg_msgpack::{DecodeError, Decoder, Value};
use oxiborg_repository::{CommitOptions, Reporter, Repository, RepositoryError, LIST_SCAN_LIMIT};

use crate::archives::open_object;
use crate::dirs::BorgDirs;
use crate::error::{CoreError, Result};
use crate::keys::load_key;
use crate::manifest::{decode_manifest, seal_manifest};
use crate::nonces::RepoNonces;
use crate::passphrase::PassphraseSource;
use crate::security::SecurityDir;

type Id = [u8; 32];

/// borg's `ChunkBuffer.BUFFER_SIZE`.
const ITEM_BUFFER: usize = 8 * 1024 * 1024;

/// Objects per `scan` call in `--verify-data` (borg asks for 100).
const VERIFY_SCAN_LIMIT: usize = 100;

/// How many key-detection attempts borg makes before giving up.
const MAX_KEY_ATTEMPTS: usize = 999;

/// What to do besides checking.
#[derive(Debug, Clone, Copy, Default)]
pub struct ArchiveCheckOptions {
    /// `--repair`: write the repaired state.
    pub repair: bool,
    /// `--verify-data`: decrypt every object and check its id first.
    pub verify_data: bool,
}

/// One archive to check: its name, metadata id and manifest time string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTarget {
    /// Name as in the manifest.
    pub name: Vec<u8>,
    /// Metadata object id.
    pub id: Id,
    /// The manifest entry's time (`ISO_FORMAT`).
    pub time: String,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    refcount: u32,
}

/// The archive checker; see the module documentation.
pub struct ArchiveChecker<'r> {
    nonces: NonceManager<RepoNonces<'r, dyn Repository + Send + 'r>, SecurityDirNonceFile>,
    key: Key,
    rep: &'r dyn Reporter,
    repair: bool,
    error_found: bool,
    /// Every object id (borg's `self.chunks`) with its reference count.
    chunks: HashMap<Id, Entry>,
    /// The ids in the order the repository listed them.
    order: Vec<Id>,
    possibly_superseded: HashSet<Id>,
    manifest: Manifest,
    compressor: Compressor,
    items_chunker: Chunker,
    check_all: bool,
}

impl std::fmt::Debug for ArchiveChecker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveChecker")
            .field("repair", &self.repair)
            .field("error_found", &self.error_found)
            .field("objects", &self.chunks.len())
            .finish_non_exhaustive()
    }
}

/// Where the key comes from (borg's `key_factory` arguments).
pub struct KeySource<'a> {
    /// borg's directories (keys dir, security dir).
    pub dirs: &'a BorgDirs,
    /// Passphrases.
    pub pass: &'a mut dyn PassphraseSource,
    /// The canonical repository location (names the repokey in the
    /// passphrase prompt and in errors).
    pub location: &'a str,
}

impl std::fmt::Debug for KeySource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySource")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// borg's text of an integrity error (`str(exc)`): the low-level MAC
/// error has no "Data integrity error: " prefix and names no chunk, and
/// an envelope of the wrong type is described without the type bytes.
pub fn borg_error_text(e: &CoreError) -> String {
    match e {
        CoreError::Crypto(CryptoError::MacMismatch { .. }) => "MAC Authentication failed".into(),
        CoreError::Crypto(CryptoError::InvalidEnvelope { id, .. }) => {
            format!("Data integrity error: Chunk {id}: Invalid encryption envelope")
        }
        e => e.to_string(),
    }
}

/// Whether `e` is one of borg's `IntegrityError`s (caught and reported by
/// the checker rather than ending it).
fn is_integrity(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::Decompression(_)
            | CoreError::Crypto(
                CryptoError::MacMismatch { .. }
                    | CryptoError::InvalidEnvelope { .. }
                    | CryptoError::EnvelopeTooShort { .. }
                    | CryptoError::IdMismatch { .. }
                    | CryptoError::TamRequired
                    | CryptoError::TamInvalid
                    | CryptoError::TamUnsupportedSuite { .. }
                    | CryptoError::ArchiveTamRequired { .. }
                    | CryptoError::ArchiveTamInvalid
            )
    ) || matches!(e, CoreError::Repository(r) if is_repo_integrity(r))
}

fn is_repo_integrity(e: &RepositoryError) -> bool {
    matches!(e, RepositoryError::Integrity { .. })
}

/// `valid_msgpacked_dict`: does `d` start like a msgpack map whose first
/// key is one of `keys_serialized`?
fn valid_msgpacked_dict(d: &[u8], keys_serialized: &[Vec<u8>]) -> bool {
    let Some(&first) = d.first() else {
        return false;
    };
    let offs = if first & 0xf0 == 0x80 {
        1
    } else if first == 0xde {
        3
    } else {
        return false;
    };
    let Some(&k) = d.get(offs) else {
        return false;
    };
    if !(k & 0xe0 == 0xa0 || matches!(k, 0xd9..=0xdb)) {
        return false;
    }
    let rest = &d[offs..];
    keys_serialized.iter().any(|p| rest.starts_with(p))
}

/// msgpack (raw/str type, as borg packs names) of each name.
fn serialized_names<'a>(names: impl IntoIterator<Item = &'a [u8]>) -> Vec<Vec<u8>> {
    names
        .into_iter()
        .map(|n| oxiborg_msgpack::encode(&Value::raw(n)))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Python's `bytes.decode('ascii', 'replace')`.
fn ascii_replace(b: &[u8]) -> String {
    b.iter()
        .map(|&c| if c.is_ascii() { c as char } else { '\u{fffd}' })
        .collect()
}

/// A restartable msgpack stream reader (borg's `RobustUnpacker`).
struct RobustUnpacker {
    item_keys: Vec<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    resync: bool,
    buffered: Vec<u8>,
}

/// The stream is not msgpack (borg's `msgpack.UnpackException`).
struct UnpackFailed;

impl RobustUnpacker {
    fn new(item_keys: Vec<Vec<u8>>) -> Self {
        RobustUnpacker {
            item_keys,
            buf: Vec::new(),
            pos: 0,
            resync: false,
            buffered: Vec::new(),
        }
    }

    fn resync(&mut self) {
        self.buffered.clear();
        self.resync = true;
    }

    fn feed(&mut self, data: &[u8]) {
        if self.resync {
            self.buffered.extend_from_slice(data);
        } else {
            if self.pos > 0 {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            self.buf.extend_from_slice(data);
        }
    }

    fn is_path_dict(v: &Value) -> bool {
        v.as_map()
            .is_some_and(|m| m.iter().any(|(k, _)| k.as_raw() == Some(b"path")))
    }

    /// The next value, `Ok(None)` when more data is needed.
    fn next(&mut self) -> std::result::Result<Option<Value>, UnpackFailed> {
        if self.resync {
            let mut start = 0;
            while self.resync {
                let data = &self.buffered[start..];
                if data.is_empty() {
                    return Ok(None);
                }
                if valid_msgpacked_dict(data, &self.item_keys) {
                    let mut dec = Decoder::new(data);
                    if let Ok(Some(v)) = dec.next_value() {
                        if Self::is_path_dict(&v) {
                            self.resync = false;
                            self.buf = data[dec.position()..].to_vec();
                            self.pos = 0;
                            return Ok(Some(v));
                        }
                    }
                }
                start += 1;
            }
        }
        let mut dec = Decoder::new(&self.buf[self.pos..]);
        match dec.next_value() {
            Ok(None) | Err(DecodeError::Incomplete { .. }) => Ok(None),
            Ok(Some(v)) => {
                self.pos += dec.position();
                Ok(Some(v))
            }
            Err(_) => Err(UnpackFailed),
        }
    }
}

/// borg's `ChunkBuffer` for the rewritten item stream.
struct ItemsBuffer {
    buffer: Vec<u8>,
    chunks: Vec<Id>,
}

impl<'r> ArchiveChecker<'r> {
    /// List every object, load the key, verify the data (if asked), and
    /// load or rebuild the manifest. `Ok(None)` when the repository holds
    /// no object at all (borg logs an error and the check fails).
    pub fn start(
        repo: &'r mut (dyn Repository + Send + 'r),
        keys: KeySource<'_>,
        rep: &'r dyn Reporter,
        opts: ArchiveCheckOptions,
    ) -> Result<Option<ArchiveChecker<'r>>> {
        rep.info("Starting archive consistency check...");
        // init_chunks
        let mut order: Vec<Id> = Vec::new();
        let mut marker: Option<Id> = None;
        loop {
            let ids = repo.list(Some(LIST_SCAN_LIMIT), marker.as_ref())?;
            let Some(last) = ids.last() else { break };
            marker = Some(*last);
            order.extend(ids);
        }
        if order.is_empty() {
            rep.error("Repository contains no apparent data at all, cannot continue check/repair.");
            return Ok(None);
        }
        let chunks: HashMap<Id, Entry> = order
            .iter()
            .map(|id| (*id, Entry { refcount: 0 }))
            .collect();

        // make_key: the first object whose type byte names a key type
        // (the manifest first, when there is one).
        let security = SecurityDir::new(keys.dirs, &repo.id());
        let mut candidates: Vec<Id> = Vec::new();
        if chunks.contains_key(&MANIFEST_ID) {
            candidates.push(MANIFEST_ID);
        }
        candidates.extend(order.iter().filter(|id| **id != MANIFEST_ID).copied());
        let mut key = None;
        let mut attempts = 0;
        for id in candidates.iter().take(MAX_KEY_ATTEMPTS) {
            attempts += 1;
            let cdata = repo.get(id)?;
            let Some(&type_byte) = cdata.first() else {
                continue;
            };
            if KeyType::identify(type_byte).is_err() {
                continue;
            }
            key = Some(load_key(
                repo,
                type_byte,
                keys.dirs,
                keys.pass,
                keys.location,
                security.tam_required(),
            )?);
            break;
        }
        let Some(key) = key else {
            return Err(CoreError::Crypto(CryptoError::MetadataInvalid {
                context: "key",
                reason: format!("make_key: failed to create the key (tried {attempts} chunks)"),
            }));
        };
        let items_chunker = Chunker::new(ChunkerParams::ITEMS, key.chunk_seed() as u32)
            .map_err(|e| CoreError::InvalidInput(e.to_string()))?;
        // New objects are encrypted with counters above the manifest's
        // (and above what the repository and the security dir reserved).
        let manifest_envelope = if chunks.contains_key(&MANIFEST_ID) {
            Some(repo.get(&MANIFEST_ID)?)
        } else {
            None
        };
        let start_nonce = match &manifest_envelope {
            Some(e) if key.key_type().is_encrypted() => manifest_nonce(e).unwrap_or(0),
            _ => 0,
        };
        let nonces = NonceManager::new(RepoNonces(repo), security.nonce_file(), start_nonce);
        let mut checker = ArchiveChecker {
            nonces,
            key,
            rep,
            repair: opts.repair,
            error_found: false,
            chunks,
            order,
            possibly_superseded: HashSet::new(),
            manifest: Manifest::new(),
            compressor: Compressor::new(CompressionSpec::Lz4),
            items_chunker,
            check_all: true,
        };
        if opts.verify_data {
            checker.verify_data()?;
        }
        if !checker.chunks.contains_key(&MANIFEST_ID) {
            rep.error("Repository manifest not found!");
            checker.error_found = true;
            checker.manifest = checker.rebuild_manifest()?;
        } else {
            let envelope = match manifest_envelope {
                Some(e) => e,
                None => checker.repo().get(&MANIFEST_ID)?,
            };
            match decode_manifest(&checker.key, &envelope) {
                Ok(loaded) => {
                    loaded.manifest.check_repository_compatibility(
                        &[Operation::Check],
                        oxiborg_format::SUPPORTED_REPO_FEATURES,
                    )?;
                    checker.manifest = loaded.manifest;
                }
                Err(e) if is_integrity(&e) => {
                    rep.error(&format!(
                        "Repository manifest is corrupted: {}",
                        borg_error_text(&e)
                    ));
                    checker.error_found = true;
                    checker.chunks.remove(&MANIFEST_ID);
                    checker.manifest = checker.rebuild_manifest()?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Some(checker))
    }

    fn repo(&mut self) -> &mut (dyn Repository + Send + 'r) {
        self.nonces.repo_store().0
    }

    /// The manifest as loaded or rebuilt (select archives from it).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Whether problems were found so far.
    pub fn error_found(&self) -> bool {
        self.error_found
    }

    /// The key found in the repository.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The one archive asked for is not in the manifest (borg logs an
    /// error and checks no archive).
    pub fn archive_not_found(&mut self, name: &str) {
        self.rep.error(&format!("Archive '{name}' not found."));
        self.error_found = true;
        self.check_all = false;
    }

    /// Decrypt, decompress and id-check one object.
    fn open(&self, id: &Id, envelope: &[u8]) -> Result<Vec<u8>> {
        if *id == MANIFEST_ID {
            let compressed = self.key.decrypt(None, envelope)?;
            Ok(Compressor::decompress(&compressed)?)
        } else {
            open_object(&self.key, id, envelope)
        }
    }

    /// borg's `verify_data`.
    fn verify_data(&mut self) -> Result<()> {
        let rep = self.rep;
        rep.info("Starting cryptographic data integrity verification...");
        let count_index = self.chunks.len();
        let mut count_segments = 0usize;
        let mut errors = 0usize;
        let mut defect: Vec<Id> = Vec::new();
        let mut marker: Option<Id> = None;
        let mut shown = 0usize;
        loop {
            let ids = self.repo().scan(Some(VERIFY_SCAN_LIMIT), marker.as_ref())?;
            let Some(last) = ids.last() else { break };
            marker = Some(*last);
            count_segments += ids.len();
            let batch = match self.repo().get_many(&ids) {
                Ok(b) => b.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(_) => ids.iter().map(|id| self.repo().get(id)).collect(),
            };
            for (id, got) in ids.iter().zip(batch) {
                rep.progress(
                    "check.verify_data",
                    shown as u64,
                    count_index.max(shown + 1) as u64,
                );
                shown += 1;
                match got {
                    Err(e) => {
                        self.error_found = true;
                        errors += 1;
                        let integrity = is_repo_integrity(&e);
                        rep.error(&format!("chunk {}: {e}", hex::encode(id)));
                        if integrity {
                            defect.push(*id);
                        }
                    }
                    Ok(envelope) => {
                        if let Err(e) = self.open(id, &envelope) {
                            if !is_integrity(&e) {
                                return Err(e);
                            }
                            self.error_found = true;
                            errors += 1;
                            rep.error(&format!(
                                "chunk {}, integrity error: {}",
                                hex::encode(id),
                                borg_error_text(&e)
                            ));
                            defect.push(*id);
                        }
                    }
                }
            }
        }
        rep.progress("check.verify_data", shown as u64, shown as u64);
        if count_index != count_segments {
            rep.error("Repo/Chunks index object count vs. segment files object count mismatch.");
            rep.error(&format!(
                "Repo/Chunks index: {count_index} objects != segment files: {count_segments} objects"
            ));
        }
        if !defect.is_empty() {
            if self.repair {
                rep.warning("Found defect chunks. They will be deleted now, so affected files can get repaired now and maybe healed later.");
                for id in &defect {
                    // A second read: a transient error does not delete.
                    let again = match self.repo().get(id) {
                        Ok(env) => match self.open(id, &env) {
                            Ok(_) => Ok(()),
                            Err(e) if is_integrity(&e) => Err(()),
                            Err(e) => return Err(e),
                        },
                        Err(e) if is_repo_integrity(&e) => Err(()),
                        Err(e) => return Err(e.into()),
                    };
                    if again.is_err() {
                        self.chunks.remove(id);
                        self.repo().delete(id)?;
                        rep.debug(&format!("chunk {} deleted.", hex::encode(id)));
                    } else {
                        rep.warning(&format!(
                            "chunk {} not deleted, did not consistently fail.",
                            hex::encode(id)
                        ));
                    }
                }
            } else {
                rep.warning("Found defect chunks. With --repair, they would get deleted, so affected files could get repaired then and maybe healed later.");
                for id in &defect {
                    rep.debug(&format!("chunk {} is defect.", hex::encode(id)));
                }
            }
        }
        let msg = format!(
            "Finished cryptographic data integrity verification, verified {count_segments} chunks with {errors} integrity errors."
        );
        if errors > 0 {
            rep.error(&msg);
        } else {
            rep.info(&msg);
        }
        Ok(())
    }

    /// borg's `rebuild_manifest`: every object that looks like, decodes
    /// as and authenticates as archive metadata becomes a manifest entry.
    fn rebuild_manifest(&mut self) -> Result<Manifest> {
        let rep = self.rep;
        rep.info("Rebuilding missing manifest, this might take some time...");
        let mut manifest = Manifest::new();
        let keys_serialized = serialized_names(ARCHIVE_KEYS.iter().map(|k| k.as_bytes()));
        let ids: Vec<Id> = self
            .order
            .iter()
            .filter(|id| self.chunks.contains_key(*id))
            .copied()
            .collect();
        let total = ids.len() as u64;
        for (n, id) in ids.iter().enumerate() {
            rep.progress("check.rebuild_manifest", n as u64, total);
            let cdata = self.repo().get(id)?;
            let data = match self.open(id, &cdata) {
                Ok(d) => d,
                Err(e) if is_integrity(&e) => {
                    rep.error(&format!(
                        "Skipping corrupted chunk: {}",
                        borg_error_text(&e)
                    ));
                    self.error_found = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !valid_msgpacked_dict(&data, &keys_serialized) {
                continue;
            }
            if !contains(&data, b"cmdline") || !contains(&data, b"\xa7version\x01") {
                continue;
            }
            let Ok(archive) = oxiborg_msgpack::decode_one(&data) else {
                continue;
            };
            let Some(map) = archive.as_map() else {
                continue;
            };
            let valid = REQUIRED_ARCHIVE_KEYS
                .iter()
                .all(|k| map.iter().any(|(mk, _)| mk.as_raw() == Some(k.as_bytes())));
            if !valid {
                continue;
            }
            let verified = match self.key.unpack_and_verify_archive(&data, false) {
                Ok(v) => v,
                Err(e) => {
                    let name = archive
                        .get("name")
                        .and_then(Value::as_raw)
                        .map_or_else(|| "<unknown>".to_string(), ascii_replace);
                    rep.error(&format!(
                        "Archive TAM authentication issue for archive {name}: {}",
                        borg_error_text(&CoreError::Crypto(e))
                    ));
                    rep.error("This archive will *not* be added to the rebuilt manifest! It will be deleted.");
                    self.error_found = true;
                    continue;
                }
            };
            let (Some(name), Some(time)) = (
                verified.value.get("name").and_then(Value::as_raw),
                verified.value.get("time").and_then(Value::as_raw),
            ) else {
                continue;
            };
            let mut name = name.to_vec();
            let time = lossy(time);
            rep.info(&format!("Found archive {}", lossy(&name)));
            if manifest.archive(&name).is_some() {
                let mut i = 1;
                let new_name = loop {
                    let candidate = [name.as_slice(), format!(".{i}").as_bytes()].concat();
                    if manifest.archive(&candidate).is_none() {
                        break candidate;
                    }
                    i += 1;
                };
                rep.warning(&format!(
                    "Duplicate archive name {}, storing as {}",
                    lossy(&name),
                    lossy(&new_name)
                ));
                name = new_name;
            }
            manifest.set_archive(name, *id, time);
        }
        rep.progress("check.rebuild_manifest", total, total);
        rep.info("Manifest rebuild complete.");
        if !self.repair {
            rep.warning("The rebuilt manifest will only be committed when using --repair!");
        }
        Ok(manifest)
    }

    fn mark_as_possibly_superseded(&mut self, id: &Id) {
        if self.chunks.get(id).map_or(0, |e| e.refcount) == 0 {
            self.possibly_superseded.insert(*id);
        }
    }

    /// Envelope of `plain` (compressed, encrypted with a fresh counter).
    fn seal(&mut self, plain: &[u8]) -> Result<Vec<u8>> {
        let compressed = self.compressor.compress(plain);
        Ok(self
            .key
            .encrypt_with_nonces(&mut self.nonces, &compressed)?)
    }

    /// borg's `add_reference`: count one more use of `id`; an object not
    /// seen yet is recorded (and stored, with repair) from `plain`.
    fn add_reference(&mut self, id: &Id, plain: Option<&[u8]>) -> Result<()> {
        if let Some(e) = self.chunks.get_mut(id) {
            e.refcount += 1;
            return Ok(());
        }
        self.chunks.insert(*id, Entry { refcount: 1 });
        if self.repair {
            let Some(plain) = plain else {
                return Err(CoreError::InvalidInput(format!(
                    "check: no data to store for new object {}",
                    hex::encode(id)
                )));
            };
            let envelope = self.seal(plain)?;
            self.repo().put(id, &envelope)?;
        }
        Ok(())
    }

    /// Stored size of an object of `plain` bytes as this key stores it.
    fn stored_size(&self, plain: &[u8]) -> u64 {
        (self.compressor.compress(plain).len() + self.key.envelope_headroom()) as u64
    }

    /// An all-zero replacement chunk of `size` bytes: its id and entry.
    fn replacement_chunk(&mut self, size: u64) -> Result<ChunkListEntry> {
        let zeros = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX)];
        let id = self.key.id_hash(&zeros);
        let csize = self.stored_size(&zeros);
        self.add_reference(&id, Some(&zeros))?;
        Ok(ChunkListEntry { id, size, csize })
    }

    /// borg's `verify_file_chunks`.
    fn verify_file_chunks(&mut self, archive_name: &str, item: &mut Item) -> Result<()> {
        let rep = self.rep;
        let path = lossy(&item.path);
        let current: Vec<ChunkListEntry> = item.chunks.clone().unwrap_or_default();
        let mut has_healthy = item.chunks_healthy.is_some();
        let mut healthy: Vec<ChunkListEntry> = item
            .chunks_healthy
            .clone()
            .unwrap_or_else(|| current.clone());
        if has_healthy && current.len() != healthy.len() {
            let msg = if self.repair {
                "Invalid chunks_healthy metadata removed!"
            } else {
                "Invalid chunks_healthy metadata would be removed with --repair!"
            };
            rep.warning(&format!("{archive_name}: {path}: {msg}"));
            item.chunks_healthy = None;
            has_healthy = false;
            healthy = current.clone();
        }
        let mut offset: u64 = 0;
        let mut list: Vec<ChunkListEntry> = Vec::with_capacity(current.len());
        let mut replaced = false;
        for (cur, good) in current.iter().zip(healthy.iter()) {
            let (id, size) = (good.id, good.size);
            let range = format!("Byte {offset}-{}, Chunk {}", offset + size, hex::encode(id));
            let entry = if !self.chunks.contains_key(&id) {
                if cur == good {
                    let msg = if self.repair {
                        "Replacing with all-zero chunk."
                    } else {
                        "Would replace it with all-zero chunk with --repair."
                    };
                    rep.error(&format!(
                        "{archive_name}: {path}: New missing file chunk detected ({range}). {msg}"
                    ));
                    self.error_found = true;
                    replaced = true;
                    self.replacement_chunk(size)?
                } else {
                    rep.info(&format!("{archive_name}: {path}: Previously missing file chunk is still missing ({range}). It has an all-zero replacement chunk already."));
                    if self.chunks.contains_key(&cur.id) {
                        self.add_reference(&cur.id, None)?;
                        *cur
                    } else {
                        let range = format!(
                            "Byte {offset}-{}, Chunk {}",
                            offset + cur.size,
                            hex::encode(cur.id)
                        );
                        let msg = if self.repair {
                            "Generating new replacement chunk."
                        } else {
                            "Would generate new replacement chunk with --repair."
                        };
                        rep.warning(&format!("{archive_name}: {path}: Missing all-zero replacement chunk detected ({range}). {msg}"));
                        self.error_found = true;
                        replaced = true;
                        self.replacement_chunk(cur.size)?
                    }
                }
            } else if cur == good {
                self.add_reference(&id, None)?;
                *good
            } else {
                let msg = if self.repair {
                    "Healed previously missing file chunk!"
                } else {
                    "Missing file chunk would be healed with --repair!"
                };
                rep.info(&format!("{archive_name}: {path}: {msg} ({range})"));
                self.add_reference(&id, None)?;
                self.mark_as_possibly_superseded(&cur.id);
                *good
            };
            offset += entry.size;
            list.push(entry);
        }
        if replaced && !has_healthy {
            item.chunks_healthy = Some(current.clone());
        }
        if has_healthy && list == healthy {
            let msg = if self.repair {
                "Completely healed previously damaged file!"
            } else {
                "Would completely heal damaged file with --repair!"
            };
            rep.info(&format!("{archive_name}: {path}: {msg}"));
            item.chunks_healthy = None;
        }
        let chunks_size: u64 = list.iter().map(|c| c.size).sum();
        item.chunks = Some(list);
        if let Some(size) = item.size {
            if size != chunks_size {
                rep.warning(&format!(
                    "{archive_name}: {path}: size inconsistency detected: size {size}, chunks size {chunks_size}"
                ));
            }
        }
        Ok(())
    }

    fn report(&mut self, msg: &str, id: &Id, n: usize) {
        self.error_found = true;
        self.rep
            .error(&format!("{msg} [chunk: {n:06}_{}]", hex::encode(id)));
    }

    /// `valid_item` of borg's robust iterator.
    fn valid_item(&self, v: &mut Value) -> std::result::Result<(), String> {
        let Value::Map(entries) = v else {
            return Err("not a dictionary".into());
        };
        // Attic <= 0.13 wrote a meaningless `acl` key into every item.
        entries.retain(|(k, _)| k.as_raw() != Some(b"acl"));
        let keys: Vec<&Value> = entries.iter().map(|(k, _)| k).collect();
        let has = |name: &[u8]| keys.iter().any(|k| k.as_raw() == Some(name));
        let missing: Vec<String> = REQUIRED_ITEM_KEYS
            .iter()
            .filter(|k| !has(k.as_bytes()))
            .map(|k| k.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(format!("missing required keys: {}", missing.join(", ")));
        }
        let invalid: Vec<String> = keys
            .iter()
            .filter(|k| match k.as_raw() {
                Some(raw) => !self.manifest.item_keys.contains(raw),
                None => true,
            })
            .map(|k| match k.as_raw() {
                Some(raw) => lossy(raw),
                None => format!("{k:?}"),
            })
            .collect();
        if !invalid.is_empty() {
            return Err(format!("invalid keys: {}", invalid.join(", ")));
        }
        Ok(())
    }

    /// Walk one archive's item stream as borg's `robust_iterator` does,
    /// handing each valid item to `verify_file_chunks` and the new stream.
    fn walk_items(
        &mut self,
        name: &str,
        archive: &ArchiveItem,
        out: &mut ItemsBuffer,
    ) -> Result<()> {
        let item_keys: Vec<Vec<u8>> = self.manifest.item_keys.iter().cloned().collect();
        let mut unpacker =
            RobustUnpacker::new(serialized_names(item_keys.iter().map(Vec::as_slice)));
        // Groups of consecutive item chunks, present or missing.
        let mut groups: Vec<(bool, Vec<Id>)> = Vec::new();
        for id in &archive.items {
            let present = self.chunks.contains_key(id);
            match groups.last_mut() {
                Some((p, ids)) if *p == present => ids.push(*id),
                _ => groups.push((present, vec![*id])),
            }
        }
        let mut n = 0usize;
        for (gi, (present, ids)) in groups.iter().enumerate() {
            if !present {
                for id in ids {
                    self.report("item metadata chunk missing", id, n);
                    n += 1;
                }
                continue;
            }
            if gi > 0 {
                unpacker.resync();
            }
            for batch in ids.chunks(32) {
                let envelopes = self.repo().get_many(batch)?;
                for (id, env) in batch.iter().zip(envelopes) {
                    match self.open(id, &env) {
                        Err(e) if is_integrity(&e) => {
                            self.report(&borg_error_text(&e), id, n);
                        }
                        Err(e) => return Err(e),
                        Ok(plain) => {
                            unpacker.feed(&plain);
                            loop {
                                match unpacker.next() {
                                    Ok(None) => break,
                                    Ok(Some(mut v)) => match self.valid_item(&mut v) {
                                        Ok(()) => match Item::from_value(v) {
                                            Ok(mut item) => {
                                                if item.chunks.is_some() {
                                                    self.verify_file_chunks(name, &mut item)?;
                                                }
                                                self.add_item(out, &item)?;
                                            }
                                            Err(e) => self.report(
                                                &format!("Did not get expected metadata dict when unpacking item metadata ({e})"),
                                                id,
                                                n,
                                            ),
                                        },
                                        Err(reason) => self.report(
                                            &format!("Did not get expected metadata dict when unpacking item metadata ({reason})"),
                                            id,
                                            n,
                                        ),
                                    },
                                    Err(UnpackFailed) => {
                                        self.report(
                                            "Unpacker crashed while unpacking item metadata, trying to resync...",
                                            id,
                                            n,
                                        );
                                        unpacker.resync();
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    n += 1;
                }
            }
        }
        Ok(())
    }

    fn add_item(&mut self, out: &mut ItemsBuffer, item: &Item) -> Result<()> {
        item.encode_into(&mut out.buffer);
        if out.buffer.len() > ITEM_BUFFER {
            self.flush_items(out, false)?;
        }
        Ok(())
    }

    /// borg's `ChunkBuffer.flush`: cut the buffer and store the pieces,
    /// keeping the last partial one unless `all` (or it is the only one).
    fn flush_items(&mut self, out: &mut ItemsBuffer, all: bool) -> Result<()> {
        if out.buffer.is_empty() {
            return Ok(());
        }
        let buffer = std::mem::take(&mut out.buffer);
        let lengths: Vec<usize> = self.items_chunker.split(&buffer).map(|p| p.len()).collect();
        let keep_last = !all && lengths.len() > 1;
        let write = if keep_last {
            lengths.len() - 1
        } else {
            lengths.len()
        };
        let mut off = 0;
        for len in &lengths[..write] {
            let piece = &buffer[off..off + len];
            let id = self.key.id_hash(piece);
            self.add_reference(&id, Some(piece))?;
            out.chunks.push(id);
            off += len;
        }
        if keep_last {
            out.buffer = buffer[off..].to_vec();
        }
        Ok(())
    }

    /// borg's `rebuild_refcounts` for the archives selected by the caller
    /// from [`ArchiveChecker::manifest`]. `all` says whether they are all
    /// the manifest's archives (no single archive, glob, first or last):
    /// only then are orphans looked for.
    pub fn check_archives(&mut self, targets: &[CheckTarget], all: bool) -> Result<()> {
        let rep = self.rep;
        self.check_all = self.check_all && all;
        self.chunks.remove(&MANIFEST_ID);
        let total = targets.len();
        for (i, t) in targets.iter().enumerate() {
            rep.progress("check.rebuild_refcounts", i as u64, total as u64);
            let name = lossy(&t.name);
            rep.info(&format!("Analyzing archive {name} ({}/{total})", i + 1));
            if !self.chunks.contains_key(&t.id) {
                rep.error(&format!(
                    "Archive metadata block {} is missing!",
                    hex::encode(t.id)
                ));
                self.error_found = true;
                self.manifest.remove_archive(&t.name);
                continue;
            }
            self.mark_as_possibly_superseded(&t.id);
            let cdata = self.repo().get(&t.id)?;
            let data = match self.open(&t.id, &cdata) {
                Ok(d) => d,
                Err(e) if is_integrity(&e) => {
                    rep.error(&format!(
                        "Archive metadata block {} is corrupted: {}",
                        hex::encode(t.id),
                        borg_error_text(&e)
                    ));
                    self.error_found = true;
                    self.manifest.remove_archive(&t.name);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let verified = match self.key.unpack_and_verify_archive(&data, false) {
                Ok(v) => v,
                Err(e) => {
                    let e = CoreError::Crypto(e);
                    if !is_integrity(&e) {
                        return Err(e);
                    }
                    rep.error(&format!(
                        "Archive TAM authentication issue for archive {name}: {}",
                        borg_error_text(&e)
                    ));
                    rep.error(if self.repair {
                        "This archive will be *removed* from the manifest! It will be deleted."
                    } else {
                        "This archive would be *removed* / *deleted* when using --repair!"
                    });
                    self.error_found = true;
                    self.manifest.remove_archive(&t.name);
                    continue;
                }
            };
            let salt: Option<[u8; 64]> = verified.salt.as_deref().and_then(|s| s.try_into().ok());
            let mut archive = ArchiveItem::from_value(verified.value)?;
            let mut out = ItemsBuffer {
                buffer: Vec::new(),
                chunks: Vec::new(),
            };
            self.walk_items(&name, &archive, &mut out)?;
            self.flush_items(&mut out, true)?;
            for prev in archive.items.clone() {
                self.mark_as_possibly_superseded(&prev);
            }
            archive.items = out.chunks;
            let data = self
                .key
                .pack_and_authenticate(archive.to_value(), CONTEXT_ARCHIVE, salt)?;
            let new_id = self.key.id_hash(&data);
            self.add_reference(&new_id, Some(&data))?;
            // borg stores the time back in ISO_FORMAT (with microseconds).
            let time = UtcTimestamp::parse_iso(&t.time)
                .map(UtcTimestamp::format_iso)
                .unwrap_or_else(|_| t.time.clone());
            self.manifest.set_archive(t.name.clone(), new_id, time);
        }
        rep.progress("check.rebuild_refcounts", total as u64, total as u64);
        Ok(())
    }

    /// Orphans, then (with repair) the manifest and the commit. Returns
    /// whether the check passed (with repair: always, as borg).
    pub fn finish(mut self) -> Result<bool> {
        let rep = self.rep;
        self.chunks.remove(&MANIFEST_ID);
        if self.check_all {
            let unused: Vec<Id> = self
                .order
                .iter()
                .filter(|id| self.chunks.get(*id).is_some_and(|e| e.refcount == 0))
                .copied()
                .collect();
            let orphaned = unused
                .iter()
                .filter(|id| !self.possibly_superseded.contains(*id))
                .count();
            if orphaned > 0 {
                rep.error(&format!("{orphaned} orphaned objects found!"));
                self.error_found = true;
            }
            if self.repair && !unused.is_empty() {
                rep.info(&format!(
                    "Deleting {orphaned} orphaned and {} superseded objects...",
                    self.possibly_superseded.len()
                ));
                for id in &unused {
                    self.repo().delete(id)?;
                }
                rep.info("Finished deleting orphaned/superseded objects.");
            }
        } else {
            rep.info("Orphaned objects check skipped (needs all archives checked).");
        }
        if self.repair {
            rep.info("Writing Manifest.");
            let lz4 = Compressor::new(CompressionSpec::Lz4);
            let (_, envelope) =
                seal_manifest(&self.key, &mut self.nonces, &mut self.manifest, &lz4)?;
            self.repo().put(&MANIFEST_ID, &envelope)?;
            rep.info("Committing repo.");
            self.repo().commit(CommitOptions::default())?;
        }
        if self.error_found {
            rep.error("Archive consistency check complete, problems found.");
        } else {
            rep.info("Archive consistency check complete, no problems found.");
        }
        Ok(self.repair || !self.error_found)
    }
}
