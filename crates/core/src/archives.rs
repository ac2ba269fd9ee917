//! Reading archives: the archive metadata object (TAM verified) and its item
//! stream, fetched in batches.

use oxiborg_crypto::Key;
use oxiborg_format::{ArchiveItem, Compressor, Item, ItemStreamReader, ManifestArchive};
use oxiborg_repository::{Repository, RepositoryError};

use crate::error::{CoreError, Result};

/// How many item-stream chunks are fetched per `get_many` call.
const ITEM_BATCH: usize = 32;

/// Decrypt and decompress one stored object, checking its id.
pub fn open_object(key: &Key, id: &[u8; 32], envelope: &[u8]) -> Result<Vec<u8>> {
    let compressed = key.decrypt(Some(id), envelope)?;
    let plain = Compressor::decompress(&compressed)?;
    key.assert_id(id, &plain)?;
    Ok(plain)
}

/// [`open_object`] on an envelope the caller gives up: decrypted in place,
/// so the only new buffer is the plaintext.
pub fn open_object_owned(key: &Key, id: &[u8; 32], mut envelope: Vec<u8>) -> Result<Vec<u8>> {
    let range = key.decrypt_in_place(Some(id), &mut envelope)?;
    let plain = Compressor::decompress(&envelope[range])?;
    drop(envelope);
    key.assert_id(id, &plain)?;
    Ok(plain)
}

/// Fetch `ids`, mapping a missing object to [`CoreError::ChunkMissing`].
pub fn get_many(repo: &mut dyn Repository, ids: &[[u8; 32]]) -> Result<Vec<Vec<u8>>> {
    repo.get_many(ids).map_err(|e| match e {
        RepositoryError::ObjectNotFound { id, .. } => CoreError::ChunkMissing(hex::encode(id)),
        e => e.into(),
    })
}

/// A loaded archive: its id, the raw metadata sizes and the metadata.
#[derive(Debug, Clone)]
pub struct LoadedArchive {
    /// The archive object's id.
    pub id: [u8; 32],
    /// The metadata.
    pub meta: ArchiveItem,
    /// Plaintext size of the metadata object.
    pub size: u64,
    /// Stored size of the metadata object.
    pub csize: u64,
}

/// Load and verify archive `id` (borg's `Archive._load_meta`).
pub fn load_archive(repo: &mut dyn Repository, key: &Key, id: &[u8; 32]) -> Result<LoadedArchive> {
    let envelope = match repo.get(id) {
        Ok(e) => e,
        Err(RepositoryError::ObjectNotFound { .. }) => {
            return Err(CoreError::ChunkMissing(hex::encode(id)))
        }
        Err(e) => return Err(e.into()),
    };
    let plain = open_object(key, id, &envelope)?;
    let verified = key.unpack_and_verify_archive(&plain, false)?;
    let meta = ArchiveItem::from_value(verified.value)?;
    Ok(LoadedArchive {
        id: *id,
        meta,
        size: plain.len() as u64,
        csize: envelope.len() as u64,
    })
}

/// Look an archive up by name in the manifest and load it.
pub fn load_archive_by_name(
    repo: &mut dyn Repository,
    key: &Key,
    manifest: &oxiborg_format::Manifest,
    name: &[u8],
) -> Result<LoadedArchive> {
    let entry: &ManifestArchive = manifest.archive(name).ok_or_else(|| {
        CoreError::ArchiveDoesNotExist(String::from_utf8_lossy(name).into_owned())
    })?;
    load_archive(repo, key, &entry.id)
}

/// Stream the items of `archive` in order into `f`; `f` returns `false` to
/// stop early. `on_chunk` sees each item-stream chunk's id and sizes.
pub fn for_each_item(
    repo: &mut dyn Repository,
    key: &Key,
    archive: &ArchiveItem,
    mut on_chunk: impl FnMut(&[u8; 32], usize, usize) -> Result<()>,
    mut f: impl FnMut(Item) -> Result<bool>,
) -> Result<()> {
    let mut reader = ItemStreamReader::new();
    for batch in archive.items.chunks(ITEM_BATCH) {
        let envelopes = get_many(repo, batch)?;
        for (id, env) in batch.iter().zip(envelopes) {
            let plain = open_object(key, id, &env)?;
            on_chunk(id, plain.len(), env.len())?;
            reader.feed(&plain);
            while let Some(item) = reader.next_item()? {
                if !f(item)? {
                    return Ok(());
                }
            }
        }
    }
    reader.finish()?;
    Ok(())
}

/// Every item of `archive`, in order.
pub fn read_items(
    repo: &mut dyn Repository,
    key: &Key,
    archive: &ArchiveItem,
) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    for_each_item(
        repo,
        key,
        archive,
        |_, _, _| Ok(()),
        |item| {
            out.push(item);
            Ok(true)
        },
    )?;
    Ok(out)
}
