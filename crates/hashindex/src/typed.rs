//! The two on-disk index types: the repository index and the chunks cache.

use std::ops::{Deref, DerefMut};

use crate::error::HashIndexError;
use crate::index::{HashIndex, Key, MAX_VALUE};

fn u32_at(v: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]])
}

fn ns_value(v: [u8; 8]) -> (u32, u32) {
    (u32_at(&v, 0), u32_at(&v, 1))
}

fn ns_bytes((segment, offset): (u32, u32)) -> [u8; 8] {
    let mut v = [0u8; 8];
    v[..4].copy_from_slice(&segment.to_le_bytes());
    v[4..].copy_from_slice(&offset.to_le_bytes());
    v
}

/// Repository index (`index.N`, borg's `NSIndex`): object id →
/// `(segment, offset)`, both u32 LE; `segment` must not exceed [`MAX_VALUE`].
///
/// Derefs to the underlying [`HashIndex<8>`] for `len`, `num_buckets`,
/// `write_to`, `write_with_integrity`, `serialized_len`, … .
#[derive(Debug, Clone, Default)]
pub struct NsIndex(pub HashIndex<8>);

impl Deref for NsIndex {
    type Target = HashIndex<8>;
    fn deref(&self) -> &HashIndex<8> {
        &self.0
    }
}

impl DerefMut for NsIndex {
    fn deref_mut(&mut self) -> &mut HashIndex<8> {
        &mut self.0
    }
}

impl NsIndex {
    /// An empty index (1031 buckets).
    pub fn new() -> Self {
        Self(HashIndex::new())
    }

    /// An empty index with `fit(n)` buckets.
    pub fn with_capacity(n: usize) -> Self {
        Self(HashIndex::with_capacity(n))
    }

    /// `(segment, offset)` of `id` (non-mutating, see [`HashIndex::get`]).
    pub fn get(&self, id: &Key) -> Option<(u32, u32)> {
        self.0.get(id).map(ns_value)
    }

    /// borg's exact lookup, moving the entry into a passed tombstone
    /// (see [`HashIndex::lookup`]).
    pub fn lookup(&mut self, id: &Key) -> Option<(u32, u32)> {
        self.0.lookup(id).map(ns_value)
    }

    /// Whether `id` is present (non-mutating).
    pub fn contains(&self, id: &Key) -> bool {
        self.0.contains(id)
    }

    /// Set `id` → `(segment, offset)`, returning the previous value.
    ///
    /// # Errors
    /// [`HashIndexError::ValueTooLarge`] if `segment > MAX_VALUE` (borg:
    /// "maximum number of segments reached"), or a table error.
    pub fn insert(
        &mut self,
        id: &Key,
        value: (u32, u32),
    ) -> Result<Option<(u32, u32)>, HashIndexError> {
        Ok(self.0.insert(id, ns_bytes(value))?.map(ns_value))
    }

    /// Remove `id`, returning its value.
    pub fn remove(&mut self, id: &Key) -> Option<(u32, u32)> {
        self.0.remove(id).map(ns_value)
    }

    /// All entries in bucket order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, (u32, u32))> + '_ {
        self.0.iter().map(|(k, v)| (k, ns_value(v)))
    }

    /// Entries after `marker`'s bucket (see [`HashIndex::iter_after`]).
    ///
    /// # Errors
    /// [`HashIndexError::MarkerNotFound`].
    pub fn iter_after(
        &self,
        marker: &Key,
    ) -> Result<impl Iterator<Item = (&Key, (u32, u32))> + '_, HashIndexError> {
        Ok(self.0.iter_after(marker)?.map(|(k, v)| (k, ns_value(v))))
    }

    /// Read `index.N` bytes (see [`HashIndex::read_from`]).
    ///
    /// # Errors
    /// See [`HashIndex::read_from`].
    pub fn read_from(data: &[u8]) -> Result<Self, HashIndexError> {
        HashIndex::read_from(data).map(Self)
    }

    /// Read and verify against `integrity.N`'s `index` digests.
    ///
    /// # Errors
    /// See [`HashIndex::read_from_verified`].
    pub fn read_from_verified(
        data: &[u8],
        logical_name: &str,
        expected: &crate::Digests,
    ) -> Result<Self, HashIndexError> {
        HashIndex::read_from_verified(data, logical_name, expected).map(Self)
    }
}

/// A chunks-cache entry value: `(refcount, size, csize)`.
pub type ChunkEntry = (u32, u32, u32);

/// Totals as returned by [`ChunkIndex::summarize`]: `(total_size,
/// total_csize, unique_size, unique_csize, total_unique_chunks,
/// total_chunks)`.
pub type ChunkStats = (u64, u64, u64, u64, u64, u64);

fn chunk_value(v: [u8; 12]) -> ChunkEntry {
    (u32_at(&v, 0), u32_at(&v, 1), u32_at(&v, 2))
}

fn chunk_bytes((refcount, size, csize): ChunkEntry) -> [u8; 12] {
    let mut v = [0u8; 12];
    v[..4].copy_from_slice(&refcount.to_le_bytes());
    v[4..8].copy_from_slice(&size.to_le_bytes());
    v[8..].copy_from_slice(&csize.to_le_bytes());
    v
}

/// Client chunks cache (`cache/chunks`, `chunks.archive.d/*`, borg's
/// `ChunkIndex`): chunk id → `(refcount, size, csize)`, all u32 LE.
///
/// Reference counts saturate at [`MAX_VALUE`]: once there, incref, decref
/// and add leave them unchanged.
#[derive(Debug, Clone, Default)]
pub struct ChunkIndex(pub HashIndex<12>);

impl Deref for ChunkIndex {
    type Target = HashIndex<12>;
    fn deref(&self) -> &HashIndex<12> {
        &self.0
    }
}

impl DerefMut for ChunkIndex {
    fn deref_mut(&mut self) -> &mut HashIndex<12> {
        &mut self.0
    }
}

impl ChunkIndex {
    /// An empty index (1031 buckets).
    pub fn new() -> Self {
        Self(HashIndex::new())
    }

    /// An empty index with `fit(n)` buckets.
    pub fn with_capacity(n: usize) -> Self {
        Self(HashIndex::with_capacity(n))
    }

    /// borg's `ChunkIndex(usable=n)`.
    pub fn with_usable(n: usize) -> Self {
        Self(HashIndex::with_usable(n))
    }

    /// `(refcount, size, csize)` of `id` (non-mutating).
    pub fn get(&self, id: &Key) -> Option<ChunkEntry> {
        self.0.get(id).map(chunk_value)
    }

    /// borg's exact lookup, moving the entry into a passed tombstone.
    pub fn lookup(&mut self, id: &Key) -> Option<ChunkEntry> {
        self.0.lookup(id).map(chunk_value)
    }

    /// Whether `id` is present (non-mutating).
    pub fn contains(&self, id: &Key) -> bool {
        self.0.contains(id)
    }

    /// Set `id` → `(refcount, size, csize)`, returning the previous value.
    ///
    /// # Errors
    /// [`HashIndexError::ValueTooLarge`] if `refcount > MAX_VALUE`, or a
    /// table error.
    pub fn insert(
        &mut self,
        id: &Key,
        value: ChunkEntry,
    ) -> Result<Option<ChunkEntry>, HashIndexError> {
        Ok(self.0.insert(id, chunk_bytes(value))?.map(chunk_value))
    }

    /// Remove `id`, returning its value.
    pub fn remove(&mut self, id: &Key) -> Option<ChunkEntry> {
        self.0.remove(id).map(chunk_value)
    }

    /// All entries in bucket order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, ChunkEntry)> + '_ {
        self.0.iter().map(|(k, v)| (k, chunk_value(v)))
    }

    /// Entries after `marker`'s bucket.
    ///
    /// # Errors
    /// [`HashIndexError::MarkerNotFound`].
    pub fn iter_after(
        &self,
        marker: &Key,
    ) -> Result<impl Iterator<Item = (&Key, ChunkEntry)> + '_, HashIndexError> {
        Ok(self.0.iter_after(marker)?.map(|(k, v)| (k, chunk_value(v))))
    }

    /// Apply `f` to the entry of `id` in place (after borg's lookup with
    /// its tombstone move); `None` if absent.
    fn update<T>(
        &mut self,
        id: &Key,
        f: impl FnOnce(ChunkEntry) -> Result<(ChunkEntry, T), HashIndexError>,
    ) -> Result<Option<T>, HashIndexError> {
        let Some(old) = self.0.lookup(id) else {
            return Ok(None);
        };
        let (new, out) = f(chunk_value(old))?;
        // The key is present and was just moved to its final bucket, so
        // this only overwrites the value in place.
        self.0.set_raw(id, &chunk_bytes(new))?;
        Ok(Some(out))
    }

    /// Increase the refcount of `id` (unless saturated at [`MAX_VALUE`]);
    /// returns the new refcount, `None` if `id` is absent.
    ///
    /// # Errors
    /// [`HashIndexError::InvalidRefcount`] if the stored refcount is in the
    /// reserved range (borg: AssertionError).
    pub fn incref(&mut self, id: &Key) -> Result<Option<u32>, HashIndexError> {
        self.update(id, |(r, s, c)| {
            if r > MAX_VALUE {
                return Err(HashIndexError::InvalidRefcount(r));
            }
            let r = if r == MAX_VALUE { r } else { r + 1 };
            Ok(((r, s, c), r))
        })
    }

    /// Decrease the refcount of `id` (unless saturated at [`MAX_VALUE`]);
    /// returns the new refcount, `None` if `id` is absent.
    ///
    /// # Errors
    /// [`HashIndexError::InvalidRefcount`] if the stored refcount is zero or
    /// reserved (borg: AssertionError).
    pub fn decref(&mut self, id: &Key) -> Result<Option<u32>, HashIndexError> {
        self.update(id, |(r, s, c)| {
            if r == 0 || r > MAX_VALUE {
                return Err(HashIndexError::InvalidRefcount(r));
            }
            let r = if r == MAX_VALUE { r } else { r - 1 };
            Ok(((r, s, c), r))
        })
    }

    /// borg's `ChunkIndex.add`: if `id` is present, add `refs` to its
    /// refcount (saturating at [`MAX_VALUE`]) and replace size and csize;
    /// otherwise insert `(refs, size, csize)`.
    ///
    /// # Errors
    /// [`HashIndexError::InvalidRefcount`] if `refs` or the stored refcount
    /// exceeds [`MAX_VALUE`]; table errors.
    pub fn add(
        &mut self,
        id: &Key,
        refs: u32,
        size: u32,
        csize: u32,
    ) -> Result<(), HashIndexError> {
        if refs > MAX_VALUE {
            return Err(HashIndexError::InvalidRefcount(refs));
        }
        let present = self.update(id, |(r, _, _)| {
            if r > MAX_VALUE {
                return Err(HashIndexError::InvalidRefcount(r));
            }
            let sum = (u64::from(r) + u64::from(refs)).min(u64::from(MAX_VALUE)) as u32;
            Ok(((sum, size, csize), ()))
        })?;
        if present.is_none() {
            self.insert(id, (refs, size, csize))?;
        }
        Ok(())
    }

    /// borg's `ChunkIndex.merge`: [`Self::add`] every entry of `other`, in
    /// `other`'s bucket order.
    ///
    /// # Errors
    /// As [`Self::add`] (entries added before the error stay added).
    pub fn merge(&mut self, other: &ChunkIndex) -> Result<(), HashIndexError> {
        for (id, (r, s, c)) in other.iter() {
            self.add(id, r, s, c)?;
        }
        Ok(())
    }

    /// borg's `ChunkIndex.summarize`: `(total_size, total_csize,
    /// unique_size, unique_csize, total_unique_chunks, total_chunks)` where
    /// totals weight each chunk by its refcount (u64, wrapping like borg's
    /// `uint64_t` sums).
    pub fn summarize(&self) -> ChunkStats {
        let (mut size, mut csize, mut usize_, mut ucsize, mut uchunks, mut chunks) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        for (_, (r, s, c)) in self.iter() {
            uchunks += 1;
            chunks = chunks.wrapping_add(u64::from(r));
            usize_ = usize_.wrapping_add(u64::from(s));
            ucsize = ucsize.wrapping_add(u64::from(c));
            size = size.wrapping_add(u64::from(s) * u64::from(r));
            csize = csize.wrapping_add(u64::from(c) * u64::from(r));
        }
        (size, csize, usize_, ucsize, uchunks, chunks)
    }

    /// borg's `ChunkIndex.stats_against`: statistics of this index (a
    /// subset of `master`), counting a chunk as unique when its refcount
    /// equals the master's; sizes are taken from `master`.
    ///
    /// # Errors
    /// [`HashIndexError::NotASubset`] if a key is missing from `master`.
    pub fn stats_against(&self, master: &ChunkIndex) -> Result<ChunkStats, HashIndexError> {
        let (mut size, mut csize, mut usize_, mut ucsize, mut uchunks, mut chunks) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        for (id, (r, _, _)) in self.iter() {
            let (mr, s, c) = master.get(id).ok_or(HashIndexError::NotASubset)?;
            chunks = chunks.wrapping_add(u64::from(r));
            size = size.wrapping_add(u64::from(s) * u64::from(r));
            csize = csize.wrapping_add(u64::from(c) * u64::from(r));
            if r == mr {
                uchunks += 1;
                usize_ = usize_.wrapping_add(u64::from(s));
                ucsize = ucsize.wrapping_add(u64::from(c));
            }
        }
        Ok((size, csize, usize_, ucsize, uchunks, chunks))
    }

    /// Ids of all entries with `csize == 0` (borg's `zero_csize_ids`).
    pub fn zero_csize_ids(&self) -> Vec<Key> {
        self.iter()
            .filter(|(_, (_, _, c))| *c == 0)
            .map(|(k, _)| *k)
            .collect()
    }

    /// Read a `chunks` file (see [`HashIndex::read_from`]).
    ///
    /// # Errors
    /// See [`HashIndex::read_from`].
    pub fn read_from(data: &[u8]) -> Result<Self, HashIndexError> {
        HashIndex::read_from(data).map(Self)
    }

    /// Read a possibly compact file (`chunks.archive.d/*.compact`), for
    /// iteration and merging only (see [`HashIndex::read_compact`]).
    ///
    /// # Errors
    /// See [`HashIndex::read_compact`].
    pub fn read_compact(data: &[u8]) -> Result<Self, HashIndexError> {
        HashIndex::read_compact(data).map(Self)
    }

    /// Read and verify (see [`HashIndex::read_from_verified`]).
    ///
    /// # Errors
    /// See [`HashIndex::read_from_verified`].
    pub fn read_from_verified(
        data: &[u8],
        logical_name: &str,
        expected: &crate::Digests,
    ) -> Result<Self, HashIndexError> {
        HashIndex::read_from_verified(data, logical_name, expected).map(Self)
    }
}
