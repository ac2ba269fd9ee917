//! Archive maintenance: delete and rename.

use oxiborg_crypto::CONTEXT_ARCHIVE;
use oxiborg_hashindex::ChunkIndex;

use oxiborg_format::ItemStreamReader;
use oxiborg_repository::RepositoryError;

use crate::archives::{get_many, load_archive, open_object};
use crate::cache::Cache;
use crate::create::Store;
use crate::error::{CoreError, Result};
use crate::session::Session;

/// What a delete freed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeleteStats {
    /// Archives deleted.
    pub archives: u64,
    /// Original size of the deleted archives' references.
    pub osize: u64,
    /// Stored size of the deleted archives' references.
    pub csize: u64,
    /// Stored size of the objects actually removed.
    pub freed: u64,
}

/// Delete `targets` (name, id): drop one reference per use of every object
/// the archive references, delete objects nobody references any more, then
/// write the manifest and commit (borg's `Archive.delete` + `do_delete`).
pub fn delete_archives(
    session: &mut Session,
    cache: &mut Cache,
    targets: &[(String, [u8; 32])],
) -> Result<DeleteStats> {
    let mut stats = DeleteStats::default();
    for (name, id) in targets {
        // borg reads the archive and its item stream to delete it: an
        // archive whose metadata lost an object fails here as in borg
        // (`Repository.ObjectNotFound`), and needs `--force`.
        let archive = load_archive(session.repo.as_mut(), &session.key, id)?;
        for batch in archive.meta.items.chunks(VERIFY_BATCH) {
            get_many(session.repo.as_mut(), batch)?;
        }
        let idx = cache.archive_index(session.repo.as_mut(), &session.key, id)?;
        for (cid, (refs, size, csize)) in idx.iter() {
            stats.osize += u64::from(refs) * u64::from(size);
            stats.csize += u64::from(refs) * u64::from(csize);
            let mut left = cache.chunks.get(cid).map(|e| e.0).unwrap_or(0);
            for _ in 0..refs {
                if left == 0 {
                    break;
                }
                left = cache.chunks.decref(cid)?.unwrap_or(0);
            }
            if left == 0 {
                cache.chunks.remove(cid);
                // borg: deleting an object that is gone is an
                // `ObjectNotFound` error (`--force` goes on).
                session.repo.delete(cid).map_err(|e| match e {
                    RepositoryError::ObjectNotFound { .. } => {
                        CoreError::ChunkMissing(hex::encode(cid))
                    }
                    e => e.into(),
                })?;
                stats.freed += u64::from(csize);
            }
        }
        session.manifest_mut().remove_archive(name.as_bytes());
        cache.forget_archive(id);
        stats.archives += 1;
    }
    session.write_manifest_and_commit()?;
    Ok(stats)
}

/// Item-stream objects fetched at once while checking them.
const VERIFY_BATCH: usize = 32;

/// borg's `Archive.delete(forced=1)` for one archive (`delete --force`),
/// see [`delete_archive`].
pub fn delete_archive_forced(
    session: &mut Session,
    cache: &mut Cache,
    name: &[u8],
    id: &[u8; 32],
    stats: &mut DeleteStats,
) -> Result<bool> {
    delete_archive(session, cache, name, id, true, stats)
}

/// borg's `Archive.delete` for one archive, without committing (call
/// [`Session::write_manifest_and_commit`] after the last one): the
/// metadata object must load, then the item stream is read object by
/// object, dropping one reference to each item-stream object and to every
/// chunk of every complete item (chunks of checkpoint part items do not
/// count in `stats`, as in borg). Unless `forced`, any damage is an error.
/// With `forced` (borg's `forced=1`), a missing object ends the walk, an
/// item stream that does not decode skips the rest of its object, a
/// malformed item is skipped; either way the archive's metadata object
/// loses its reference and the archive leaves the manifest. Returns
/// whether the archive was damaged: then objects are left behind that
/// only `check --repair` frees (borg warns).
pub fn delete_archive(
    session: &mut Session,
    cache: &mut Cache,
    name: &[u8],
    id: &[u8; 32],
    forced: bool,
    stats: &mut DeleteStats,
) -> Result<bool> {
    let archive = load_archive(session.repo.as_mut(), &session.key, id)?;
    let mut damaged = false;
    let mut reader = ItemStreamReader::new();
    'objects: for items_id in &archive.meta.items {
        let envelope = match session.repo.get(items_id) {
            Ok(e) => e,
            Err(RepositoryError::ObjectNotFound { .. }) if forced => {
                damaged = true;
                break;
            }
            Err(e) => return Err(e.into()),
        };
        let plain = open_object(&session.key, items_id, &envelope)?;
        reader.feed(&plain);
        if !decref(session, cache, items_id, false, forced, stats)? {
            damaged = true;
            break;
        }
        loop {
            let pending = reader.pending();
            match reader.next_item() {
                Ok(None) => break,
                Ok(Some(item)) => {
                    let part = item.part.is_some();
                    for c in item.chunks.iter().flatten() {
                        if !decref(session, cache, &c.id, part, forced, stats)? {
                            damaged = true;
                            break 'objects;
                        }
                    }
                }
                Err(e) if !forced => return Err(e.into()),
                // A complete value that is no valid item: skip it.
                Err(_) if reader.pending() < pending => damaged = true,
                // Undecodable bytes: a fresh reader, on with the next object.
                Err(_) => {
                    damaged = true;
                    reader = ItemStreamReader::new();
                    break;
                }
            }
        }
    }
    if !decref(session, cache, id, false, forced, stats)? {
        damaged = true;
    }
    session.manifest_mut().remove_archive(name);
    cache.forget_archive(id);
    stats.archives += 1;
    Ok(damaged)
}

/// Drop one reference to `id` (borg's `Cache.chunk_decref`), deleting the
/// object when none is left; `false` if the object was already gone from
/// the repository.
fn decref(
    session: &mut Session,
    cache: &mut Cache,
    id: &[u8; 32],
    part: bool,
    forced: bool,
    stats: &mut DeleteStats,
) -> Result<bool> {
    let Some((_, size, csize)) = cache.chunks.get(id) else {
        return Err(CoreError::Cache {
            path: cache.dir().path().to_path_buf(),
            message: format!(
                "Chunk ID {} missing from chunks index, corrupted chunks index - aborting transaction.",
                hex::encode(id)
            ),
        });
    };
    if !part {
        stats.osize += u64::from(size);
        stats.csize += u64::from(csize);
    }
    if cache.chunks.decref(id)?.unwrap_or(0) > 0 {
        return Ok(true);
    }
    cache.chunks.remove(id);
    if !part {
        stats.freed += u64::from(csize);
    }
    match session.repo.delete(id) {
        Ok(()) => Ok(true),
        Err(RepositoryError::ObjectNotFound { .. }) if forced => Ok(false),
        Err(RepositoryError::ObjectNotFound { .. }) => {
            Err(CoreError::ChunkMissing(hex::encode(id)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Rename archive `old` to `new` (borg's `Archive.rename` / `set_meta`):
/// the metadata is re-packed with a new TAM and stored under its new id,
/// the manifest entry moves, and the old object loses its reference.
pub fn rename_archive(
    session: &mut Session,
    cache: &mut Cache,
    old: &[u8],
    new: &[u8],
) -> Result<()> {
    let manifest = session.manifest();
    let entry = manifest
        .archive(old)
        .ok_or_else(|| CoreError::ArchiveDoesNotExist(String::from_utf8_lossy(old).into_owned()))?
        .clone();
    if manifest.archive(new).is_some() {
        return Err(CoreError::ArchiveAlreadyExists(
            String::from_utf8_lossy(new).into_owned(),
        ));
    }
    let loaded = load_archive(session.repo.as_mut(), &session.key, &entry.id)?;
    let mut meta = loaded.meta;
    meta.name = new.to_vec();
    let data = session
        .key
        .pack_and_authenticate(meta.to_value(), CONTEXT_ARCHIVE, None)?;
    let new_id = session.key.id_hash(&data);
    let old_idx = cache.archive_index(session.repo.as_mut(), &session.key, &entry.id)?;
    let key = session.key.clone();
    let csize = {
        let interrupt = std::sync::atomic::AtomicBool::new(false);
        let index = std::mem::take(&mut cache.chunks);
        let repo_mx = std::sync::Mutex::new(&mut session.repo);
        let store = Store::new(
            &key,
            oxiborg_format::Compressor::new(oxiborg_format::CompressionSpec::Lz4),
            &repo_mx,
            session.security.nonce_file(),
            session.next_nonce,
            index,
            &interrupt,
        );
        let csize = store.store(&new_id, &data);
        let next = store.next_nonce();
        let (idx, _, err) = store.into_index();
        cache.chunks = idx;
        if let Some(e) = err {
            return Err(e);
        }
        if let Some(n) = next {
            session.next_nonce = session.next_nonce.max(n);
        }
        csize?
    };
    // The new archive's references: the old ones with the metadata object
    // swapped.
    let mut new_idx = ChunkIndex::new();
    for (cid, (r, s, c)) in old_idx.iter() {
        if cid != &entry.id {
            new_idx.add(cid, r, s, c)?;
        }
    }
    new_idx.add(&new_id, 1, data.len() as u32, csize)?;
    if cache.chunks.decref(&entry.id)? == Some(0) {
        cache.chunks.remove(&entry.id);
        session.repo.delete(&entry.id)?;
    }
    cache.forget_archive(&entry.id);
    cache.add_archive_index(new_id, new_idx);
    let m = session.manifest_mut();
    m.remove_archive(old);
    m.set_archive(new.to_vec(), new_id, entry.time.clone());
    session.write_manifest_and_commit()?;
    Ok(())
}
