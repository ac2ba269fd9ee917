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

/// [`open_object_owned`] on a batch: the MACs and the id checks are
/// computed several objects at a time (twice the BLAKE2b throughput). The
/// error is the one [`open_object_owned`] gives for the first bad object:
/// objects are decompressed in order up to the first failure, and those
/// before it are id-checked first.
pub fn open_objects_owned(
    key: &Key,
    ids: &[[u8; 32]],
    mut envelopes: Vec<Vec<u8>>,
) -> Result<Vec<Vec<u8>>> {
    let ranges = {
        let mut slices: Vec<&mut [u8]> = envelopes.iter_mut().map(Vec::as_mut_slice).collect();
        key.decrypt_many_in_place(ids, &mut slices)
    };
    let mut plains = Vec::with_capacity(ids.len());
    let mut failure = None;
    for (env, range) in envelopes.into_iter().zip(ranges) {
        let opened = range
            .map_err(CoreError::from)
            .and_then(|r| Ok(Compressor::decompress(&env[r])?));
        match opened {
            Ok(p) => plains.push(p),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let refs: Vec<&[u8]> = plains.iter().map(Vec::as_slice).collect();
    key.assert_ids(&ids[..plains.len()], &refs)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(plains),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use oxiborg_crypto::KeyType;
    use oxiborg_format::CompressionSpec;

    /// Envelopes of `plains` under `key`, as `create` stores them.
    fn envelopes(key: &Key, plains: &[Vec<u8>]) -> (Vec<[u8; 32]>, Vec<Vec<u8>>) {
        let spec = CompressionSpec::parse("lz4").unwrap();
        let ids = plains.iter().map(|p| key.id_hash(p)).collect();
        let envs = plains
            .iter()
            .enumerate()
            .map(|(i, p)| key.encrypt(1000 * i as u64, &oxiborg_format::compress(&spec, p)))
            .collect();
        (ids, envs)
    }

    /// The batch decoder gives the plaintexts, and for a broken batch the
    /// very error decoding one object at a time gives.
    #[test]
    fn batch_decoding_equals_one_by_one() {
        let key = Key::generate(KeyType::Blake2Repokey, [3u8; 32]).unwrap();
        let plains: Vec<Vec<u8>> = (0..6u8)
            .map(|i| {
                (0..40_000u32 * u32::from(i + 1))
                    .map(|j| (j.wrapping_mul(2_654_435_761) >> (i + 7)) as u8)
                    .collect()
            })
            .collect();
        let (ids, envs) = envelopes(&key, &plains);
        assert_eq!(
            open_objects_owned(&key, &ids, envs.clone()).unwrap(),
            plains
        );
        let one_by_one = |ids: &[[u8; 32]], envs: &[Vec<u8>]| {
            ids.iter()
                .zip(envs)
                .map(|(id, e)| open_object_owned(&key, id, e.clone()))
                .collect::<Result<Vec<_>>>()
                .unwrap_err()
                .to_string()
        };
        let compare = |ids: &[[u8; 32]], envs: &[Vec<u8>]| {
            let batch = open_objects_owned(&key, ids, envs.to_vec()).unwrap_err();
            assert_eq!(batch.to_string(), one_by_one(ids, envs));
            batch
        };
        // An id mismatch (object 1) before a MAC failure (object 3), then a
        // MAC failure (object 2) before an id mismatch (object 4): the
        // first bad object's error, as one by one.
        for (id_at, mac_at, id_first) in [(1, 3, true), (4, 2, false)] {
            let mut bad_ids = ids.clone();
            bad_ids[id_at] = key.id_hash(b"something else");
            let mut bad_envs = envs.clone();
            bad_envs[mac_at][5] ^= 1;
            let err = compare(&bad_ids, &bad_envs);
            let is_id = matches!(
                err,
                CoreError::Crypto(oxiborg_crypto::CryptoError::IdMismatch { .. })
            );
            assert_eq!(is_id, id_first, "{err}");
        }
        // A payload that does not decompress (object 0), authentic.
        let mut bad_envs = envs;
        bad_envs[0] = key.encrypt(7, b"\x02\x00garbage");
        compare(&ids, &bad_envs);
    }
}
