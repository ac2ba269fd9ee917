//! Archive maintenance: delete and rename.

use oxiborg_crypto::CONTEXT_ARCHIVE;
use oxiborg_hashindex::ChunkIndex;

use crate::archives::load_archive;
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
                session.repo.delete(cid).or_else(|e| match e {
                    oxiborg_repository::RepositoryError::ObjectNotFound { .. } => Ok(()),
                    e => Err(e),
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
