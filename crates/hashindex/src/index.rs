//! The generic open-addressing table in borg's on-disk format.

use std::fmt;
use std::io::{self, Write};

use crate::error::HashIndexError;

/// Largest value allowed in the first u32 of a value. Above it the range is
/// reserved for the bucket state markers (`0xFFFFFFFF` EMPTY, `0xFFFFFFFE`
/// DELETED) and kept free by borg (`_MAX_VALUE` = 2**32 - 1025).
pub const MAX_VALUE: u32 = 0xFFFF_FBFF;

/// Every on-disk index uses 32-byte keys (object / chunk ids).
pub type Key = [u8; 32];

/// Size of a key in bytes.
pub const KEY_SIZE: usize = 32;

/// Size of the packed file header (`magic`, `num_entries`, `num_buckets`,
/// `key_size`, `value_size`).
pub const HEADER_SIZE: usize = 18;

/// The header magic.
pub const MAGIC: &[u8; 8] = b"BORG_IDX";

/// First value u32 of a never-used bucket.
const EMPTY: u32 = 0xFFFF_FFFF;
/// First value u32 of a deleted bucket (tombstone).
const DELETED: u32 = 0xFFFF_FFFE;

/// The only bucket counts borg ever allocates (`hash_sizes` in `_hashindex.c`).
pub const HASH_SIZES: [usize; 58] = [
    1031, 2053, 4099, 8209, 16411, 32771, 65537, 131101, 262147, 445649, 757607, 1287917, 2189459,
    3065243, 4291319, 6007867, 8410991, 11775359, 16485527, 23079703, 27695653, 33234787, 39881729,
    47858071, 57429683, 68915617, 82698751, 99238507, 119086189, 144378011, 157223263, 173476439,
    190253911, 209915011, 230493629, 253169431, 278728861, 306647623, 337318939, 370742809,
    408229973, 449387209, 493428073, 543105119, 596976533, 657794869, 722676499, 795815791,
    874066969, 962279771, 1057701643, 1164002657, 1280003147, 1407800297, 1548442699, 1703765389,
    1873768367, 2062383853,
];

const HASH_MIN_LOAD: f64 = 0.25;
const HASH_MAX_LOAD: f64 = 0.75;
const HASH_MAX_EFF_LOAD: f64 = 0.93;

/// Index of the smallest size >= `size` (the largest index if none is).
fn size_idx(size: usize) -> usize {
    HASH_SIZES
        .iter()
        .position(|&s| s >= size)
        .unwrap_or(HASH_SIZES.len() - 1)
}

/// `fit_size`: the smallest table size that is at least `n`.
pub fn fit_size(n: usize) -> usize {
    HASH_SIZES[size_idx(n)]
}

/// `grow_size`: the table size after `n` (capped at the largest).
pub fn grow_size(n: usize) -> usize {
    HASH_SIZES[(size_idx(n) + 1).min(HASH_SIZES.len() - 1)]
}

/// `shrink_size`: the table size before `n` (at least the smallest).
pub fn shrink_size(n: usize) -> usize {
    HASH_SIZES[size_idx(n).saturating_sub(1)]
}

fn lower_limit(num_buckets: usize) -> usize {
    if num_buckets <= HASH_SIZES[0] {
        0
    } else {
        (num_buckets as f64 * HASH_MIN_LOAD) as usize
    }
}

fn upper_limit(num_buckets: usize) -> usize {
    if num_buckets >= HASH_SIZES[HASH_SIZES.len() - 1] {
        num_buckets
    } else {
        (num_buckets as f64 * HASH_MAX_LOAD) as usize
    }
}

fn min_empty(num_buckets: usize) -> usize {
    1 + (num_buckets as f64 * (1.0 - HASH_MAX_EFF_LOAD)) as usize
}

/// Outcome of a probe walk (borg's `hashindex_lookup`).
enum Probe {
    /// The key sits in bucket `idx`; `deleted` is the first tombstone passed.
    Found { idx: usize, deleted: Option<usize> },
    /// The key is absent; `slot` is the first tombstone passed, else the
    /// EMPTY bucket the walk stopped at (or the start bucket after a full
    /// cycle over a table without EMPTY buckets).
    Absent { slot: usize },
}

/// Generic open-addressing hash table with 32-byte keys and `V`-byte values,
/// in borg's exact in-memory and on-disk layout (`_hashindex.c`).
///
/// The bucket array is kept verbatim, so reading a file and writing it back
/// reproduces it byte for byte (tombstones, stale key bytes and all), and the
/// same sequence of mutating operations as borg produces the same bytes as
/// borg (including borg's "move the found entry into the first tombstone
/// passed" optimisation, which every *mutating* method here replicates).
///
/// The first 4 bytes of every value are a little-endian u32 that doubles as
/// the bucket state; values whose first u32 exceeds [`MAX_VALUE`] cannot be
/// stored. `V` must be between 4 and 127 (checked at compile time):
///
/// ```compile_fail
/// let _ = oxiborg_hashindex::HashIndex::<2>::new();
/// ```
///
/// ```
/// use oxiborg_hashindex::HashIndex;
/// let mut idx = HashIndex::<8>::new();
/// idx.insert(&[7u8; 32], [1, 0, 0, 0, 2, 0, 0, 0]).unwrap();
/// let mut file = Vec::new();
/// idx.write_to(&mut file).unwrap();
/// assert_eq!(file.len(), 18 + 1031 * 40);
/// assert_eq!(HashIndex::<8>::read_from(&file).unwrap().get(&[7u8; 32]), Some([1, 0, 0, 0, 2, 0, 0, 0]));
/// ```
#[derive(Clone)]
pub struct HashIndex<const V: usize> {
    buckets: Vec<u8>,
    num_buckets: usize,
    num_entries: usize,
    num_empty: usize,
    lower_limit: usize,
    upper_limit: usize,
    min_empty: usize,
}

impl<const V: usize> fmt::Debug for HashIndex<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashIndex")
            .field("value_size", &V)
            .field("num_entries", &self.num_entries)
            .field("num_buckets", &self.num_buckets)
            .field("num_empty", &self.num_empty)
            .finish_non_exhaustive()
    }
}

impl<const V: usize> Default for HashIndex<V> {
    fn default() -> Self {
        Self::new()
    }
}

/// The used buckets of a raw bucket slice, in order.
fn used_buckets<const V: usize>(raw: &[u8]) -> impl Iterator<Item = (&Key, [u8; V])> + '_ {
    raw.chunks_exact(KEY_SIZE + V).filter_map(|bucket| {
        let (key, value) = bucket.split_first_chunk::<KEY_SIZE>()?;
        let value: &[u8; V] = value.first_chunk::<V>()?;
        let state = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
        if state == EMPTY || state == DELETED {
            None
        } else {
            Some((key, *value))
        }
    })
}

impl<const V: usize> HashIndex<V> {
    /// Bytes per bucket.
    const BUCKET: usize = KEY_SIZE + V;
    /// Compile-time check of the value size.
    const VALID_V: () = assert!(V >= 4 && V <= 127, "value size must be 4..=127");

    /// An empty index with the minimal 1031 buckets.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty index with `fit(n)` buckets (borg's `hashindex_init(n)`).
    ///
    /// Note that borg's `usable=` argument means capacity `int(n / 0.75)`;
    /// see [`HashIndex::with_usable`].
    pub fn with_capacity(n: usize) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID_V;
        let num_buckets = fit_size(n);
        let mut buckets = vec![0u8; num_buckets * Self::BUCKET];
        for bucket in buckets.chunks_exact_mut(Self::BUCKET) {
            bucket[KEY_SIZE..KEY_SIZE + 4].copy_from_slice(&EMPTY.to_le_bytes());
        }
        Self {
            buckets,
            num_buckets,
            num_entries: 0,
            num_empty: num_buckets,
            lower_limit: lower_limit(num_buckets),
            upper_limit: upper_limit(num_buckets),
            min_empty: min_empty(num_buckets),
        }
    }

    /// An empty index sized for `n` entries at the maximal load factor
    /// (borg's `IndexBase(usable=n)`: capacity `int(n / 0.75)`).
    pub fn with_usable(n: usize) -> Self {
        Self::with_capacity((n as f64 / HASH_MAX_LOAD) as usize)
    }

    /// Number of live entries (the header's `num_entries`).
    pub fn len(&self) -> usize {
        self.num_entries
    }

    /// Whether there are no live entries.
    pub fn is_empty(&self) -> bool {
        self.num_entries == 0
    }

    /// Number of buckets (the header's `num_buckets`).
    pub fn num_buckets(&self) -> usize {
        self.num_buckets
    }

    /// Remove all entries and go back to the minimal table (borg's `clear`).
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    fn state(&self, idx: usize) -> u32 {
        let o = idx * Self::BUCKET + KEY_SIZE;
        let b = &self.buckets[o..o + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    fn set_state(&mut self, idx: usize, state: u32) {
        let o = idx * Self::BUCKET + KEY_SIZE;
        self.buckets[o..o + 4].copy_from_slice(&state.to_le_bytes());
    }

    fn key_at(&self, idx: usize) -> &[u8] {
        let o = idx * Self::BUCKET;
        &self.buckets[o..o + KEY_SIZE]
    }

    fn value_at(&self, idx: usize) -> [u8; V] {
        let o = idx * Self::BUCKET + KEY_SIZE;
        let mut v = [0u8; V];
        v.copy_from_slice(&self.buckets[o..o + V]);
        v
    }

    fn set_value(&mut self, idx: usize, value: &[u8; V]) {
        let o = idx * Self::BUCKET + KEY_SIZE;
        self.buckets[o..o + V].copy_from_slice(value);
    }

    /// The probe walk, without any mutation.
    fn probe(&self, key: &Key) -> Probe {
        let n = self.num_buckets;
        let start = u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize % n;
        let mut idx = start;
        let mut deleted = None;
        loop {
            match self.state(idx) {
                EMPTY => break,
                DELETED => {
                    if deleted.is_none() {
                        deleted = Some(idx);
                    }
                }
                _ => {
                    if self.key_at(idx) == key {
                        return Probe::Found { idx, deleted };
                    }
                }
            }
            idx += 1;
            if idx >= n {
                idx = 0;
            }
            if idx == start {
                break;
            }
        }
        Probe::Absent {
            slot: deleted.unwrap_or(idx),
        }
    }

    /// borg's `hashindex_lookup`: like [`Self::probe`], but a found entry is
    /// moved into the first tombstone passed (its old bucket becomes a
    /// tombstone). `Ok(bucket)` if found, `Err(insert slot)` if not.
    fn lookup_idx(&mut self, key: &Key) -> Result<usize, usize> {
        match self.probe(key) {
            Probe::Found {
                idx,
                deleted: Some(d),
            } => {
                let b = Self::BUCKET;
                self.buckets.copy_within(idx * b..idx * b + b, d * b);
                self.set_state(idx, DELETED);
                Ok(d)
            }
            Probe::Found { idx, deleted: None } => Ok(idx),
            Probe::Absent { slot } => Err(slot),
        }
    }

    /// Value stored for `key`, without changing the table.
    ///
    /// borg's lookup (`hashindex_get`, used by `idx[key]`, `key in idx`,
    /// `get`) moves a found entry into the first tombstone it passed. This
    /// method does not: the table (and a file written from it) stays valid,
    /// only its bytes may differ from borg's after the same calls. Use
    /// [`Self::lookup`] to reproduce borg's bytes exactly.
    pub fn get(&self, key: &Key) -> Option<[u8; V]> {
        match self.probe(key) {
            Probe::Found { idx, .. } => Some(self.value_at(idx)),
            Probe::Absent { .. } => None,
        }
    }

    /// Whether `key` is present (non-mutating, see [`Self::get`]).
    pub fn contains(&self, key: &Key) -> bool {
        matches!(self.probe(key), Probe::Found { .. })
    }

    /// borg's exact lookup (`hashindex_get`): like [`Self::get`], but moves
    /// a found entry into the first tombstone passed on the probe walk, as
    /// borg does on every `idx[key]` / `key in idx` / `idx.get(key)`.
    pub fn lookup(&mut self, key: &Key) -> Option<[u8; V]> {
        self.lookup_idx(key).ok().map(|idx| self.value_at(idx))
    }

    /// Insert or overwrite `key` (borg's `hashindex_set`), returning the
    /// previous value.
    ///
    /// Grows the table to the next size when more than 75 % of the buckets
    /// are in use, and rebuilds it at the same size (dropping tombstones)
    /// when fewer than `min_empty` EMPTY buckets would remain.
    ///
    /// # Errors
    /// [`HashIndexError::ValueTooLarge`] when the first u32 of `value`
    /// exceeds [`MAX_VALUE`]; [`HashIndexError::TableFull`] /
    /// [`HashIndexError::RebuildFailed`] when the table cannot take the entry
    /// (maximal size, or a structurally corrupt table read from a file).
    pub fn insert(&mut self, key: &Key, value: [u8; V]) -> Result<Option<[u8; V]>, HashIndexError> {
        let first = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
        if first > MAX_VALUE {
            return Err(HashIndexError::ValueTooLarge(first));
        }
        self.set_raw(key, &value)
    }

    /// `hashindex_set` without the value check (used by rebuilds, which
    /// copy whatever a used bucket holds).
    pub(crate) fn set_raw(
        &mut self,
        key: &Key,
        value: &[u8; V],
    ) -> Result<Option<[u8; V]>, HashIndexError> {
        let mut slot = match self.lookup_idx(key) {
            Ok(idx) => {
                let old = self.value_at(idx);
                self.set_value(idx, value);
                return Ok(Some(old));
            }
            Err(slot) => slot,
        };
        if self.num_entries > self.upper_limit {
            let next = grow_size(self.num_buckets);
            if next != self.num_buckets {
                self.resize(next)?;
                slot = self
                    .lookup_idx(key)
                    .err()
                    .ok_or(HashIndexError::RebuildFailed)?;
            } else if self.num_entries >= self.num_buckets {
                return Err(HashIndexError::TableFull);
            }
        }
        match self.state(slot) {
            EMPTY => {
                if self.num_empty <= self.min_empty {
                    // Too many tombstones: same-size rebuild.
                    self.resize(self.num_buckets)?;
                    slot = self
                        .lookup_idx(key)
                        .err()
                        .ok_or(HashIndexError::RebuildFailed)?;
                    if self.state(slot) != EMPTY {
                        return Err(HashIndexError::TableFull);
                    }
                }
                self.num_empty = self.num_empty.saturating_sub(1);
            }
            DELETED => {}
            // Only possible for a table without any free bucket whose header
            // under-counts its entries (borg would overwrite a live entry).
            _ => return Err(HashIndexError::TableFull),
        }
        let o = slot * Self::BUCKET;
        self.buckets[o..o + KEY_SIZE].copy_from_slice(key);
        self.set_value(slot, value);
        self.num_entries += 1;
        Ok(None)
    }

    /// Remove `key` (borg's `hashindex_delete`), returning its value.
    ///
    /// The bucket becomes a tombstone (key and remaining value bytes stay);
    /// when fewer than 25 % of the buckets remain in use, the table shrinks
    /// to the previous size. (If that rebuild fails, which only a corrupt
    /// table read from a file can cause, the entry is still removed and the
    /// table keeps its size; borg raises after removing.)
    pub fn remove(&mut self, key: &Key) -> Option<[u8; V]> {
        let idx = self.lookup_idx(key).ok()?;
        let old = self.value_at(idx);
        self.set_state(idx, DELETED);
        self.num_entries = self.num_entries.saturating_sub(1);
        if self.num_entries < self.lower_limit {
            let _ = self.resize(shrink_size(self.num_buckets));
        }
        Some(old)
    }

    /// borg's `hashindex_resize`: a fresh table of `fit(capacity)` buckets
    /// filled with the used buckets in index order via the normal insert.
    fn resize(&mut self, capacity: usize) -> Result<(), HashIndexError> {
        let mut new = Self::with_capacity(capacity);
        for (key, value) in used_buckets::<V>(&self.buckets) {
            new.set_raw(key, &value)
                .map_err(|_| HashIndexError::RebuildFailed)?;
        }
        if new.num_entries != self.num_entries {
            return Err(HashIndexError::RebuildFailed);
        }
        self.buckets = new.buckets;
        self.num_buckets = new.num_buckets;
        self.num_empty = self.num_buckets - self.num_entries;
        self.lower_limit = new.lower_limit;
        self.upper_limit = new.upper_limit;
        self.min_empty = new.min_empty;
        Ok(())
    }

    /// All entries in bucket order (borg's `iteritems()`).
    pub fn iter(&self) -> impl Iterator<Item = (&Key, [u8; V])> + '_ {
        used_buckets::<V>(&self.buckets)
    }

    /// Entries in bucket order after the bucket of `marker` (borg's
    /// `iteritems(marker=...)`, used for paging in `Repository.list`).
    ///
    /// Unlike borg, finding the marker does not move it into an earlier
    /// tombstone, so paging never repeats entries.
    ///
    /// # Errors
    /// [`HashIndexError::MarkerNotFound`] if `marker` is not in the index
    /// (borg 1.4: `KeyError("marker not found")`).
    pub fn iter_after(
        &self,
        marker: &Key,
    ) -> Result<impl Iterator<Item = (&Key, [u8; V])> + '_, HashIndexError> {
        match self.probe(marker) {
            Probe::Found { idx, .. } => {
                Ok(used_buckets::<V>(&self.buckets[(idx + 1) * Self::BUCKET..]))
            }
            Probe::Absent { .. } => Err(HashIndexError::MarkerNotFound),
        }
    }

    /// The 18-byte header for the current state.
    pub fn header(&self) -> [u8; HEADER_SIZE] {
        let mut h = [0u8; HEADER_SIZE];
        h[..8].copy_from_slice(MAGIC);
        h[8..12].copy_from_slice(&(self.num_entries as u32).to_le_bytes());
        h[12..16].copy_from_slice(&(self.num_buckets as u32).to_le_bytes());
        h[16] = KEY_SIZE as u8;
        h[17] = V as u8;
        h
    }

    /// The raw bucket array as written after the header.
    pub fn raw_buckets(&self) -> &[u8] {
        &self.buckets
    }

    /// Write the file: header, then the bucket array verbatim (tombstones
    /// included), like borg's `hashindex_write`.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.header())?;
        out.write_all(&self.buckets)
    }

    /// Write through an [`crate::IntegrityWriter`], declaring the
    /// `HashHeader` part right after the header as borg does.
    pub fn write_to_integrity<W: Write>(
        &self,
        out: &mut crate::IntegrityWriter<W>,
    ) -> io::Result<()> {
        out.write_all(&self.header())?;
        out.hash_part("HashHeader");
        out.write_all(&self.buckets)
    }

    /// The file bytes and their integrity digests (parts `HashHeader` and
    /// `final`) for the logical file name `logical_name` (e.g. `index.5`).
    pub fn write_with_integrity(&self, logical_name: &str) -> (Vec<u8>, crate::Digests) {
        let mut hasher = crate::IntegrityHasher::new(logical_name);
        let header = self.header();
        let mut out = Vec::with_capacity(self.serialized_len());
        out.extend_from_slice(&header);
        hasher.update(&header);
        hasher.hash_part("HashHeader", HEADER_SIZE as u64);
        out.extend_from_slice(&self.buckets);
        hasher.update(&self.buckets);
        let digests = hasher.finalize(out.len() as u64);
        (out, digests)
    }

    /// Length of the file [`Self::write_to`] produces.
    pub fn serialized_len(&self) -> usize {
        HEADER_SIZE + self.buckets.len()
    }

    /// Read a file with borg 1.4.5's validation (magic, key/value size,
    /// `1 <= num_buckets`, `0 <= num_entries <= num_buckets`, exact length)
    /// and its same-size rebuild when fewer than `min_empty` buckets are
    /// EMPTY. Never panics; allocates at most about twice the input size.
    ///
    /// # Errors
    /// The header and length errors of [`HashIndexError`], and
    /// [`HashIndexError::RebuildFailed`] when a needed rebuild finds the
    /// header's entry count wrong.
    pub fn read_from(data: &[u8]) -> Result<Self, HashIndexError> {
        Self::read_impl(data, false)
    }

    /// Read with borg's `permit_compact=True`: the same validation but no
    /// EMPTY-bucket check or rebuild, so compact files (see
    /// [`Self::compact`]) are accepted. A compact table is not a valid probe
    /// table: use it for iteration (and as a [`crate::ChunkIndex::merge`]
    /// source) only; lookups may miss entries (as in borg).
    ///
    /// # Errors
    /// As [`Self::read_from`], without the rebuild error.
    pub fn read_compact(data: &[u8]) -> Result<Self, HashIndexError> {
        Self::read_impl(data, true)
    }

    fn read_impl(data: &[u8], permit_compact: bool) -> Result<Self, HashIndexError> {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID_V;
        let header = data
            .get(..HEADER_SIZE)
            .ok_or(HashIndexError::HeaderTooShort { actual: data.len() })?;
        if &header[..8] != MAGIC {
            return Err(HashIndexError::BadMagic);
        }
        let num_entries = i32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        let num_buckets = i32::from_le_bytes([header[12], header[13], header[14], header[15]]);
        let key_size = header[16] as i8;
        let value_size = header[17] as i8;
        if key_size != KEY_SIZE as i8 {
            return Err(HashIndexError::WrongKeySize {
                expected: KEY_SIZE as i8,
                actual: key_size,
            });
        }
        if value_size != V as i8 {
            return Err(HashIndexError::WrongValueSize {
                expected: V as i8,
                actual: value_size,
            });
        }
        if num_buckets < 1 {
            return Err(HashIndexError::BadNumBuckets { num_buckets });
        }
        if num_entries < 0 || num_entries > num_buckets {
            return Err(HashIndexError::BadNumEntries {
                num_entries,
                num_buckets,
            });
        }
        let expected = HEADER_SIZE as u64 + num_buckets as u64 * Self::BUCKET as u64;
        if data.len() as u64 != expected {
            return Err(HashIndexError::BadLength {
                expected,
                actual: data.len() as u64,
            });
        }
        let num_buckets = num_buckets as usize;
        let num_entries = num_entries as usize;
        let buckets = data[HEADER_SIZE..].to_vec();
        let mut index = Self {
            buckets,
            num_buckets,
            num_entries,
            num_empty: 0,
            lower_limit: lower_limit(num_buckets),
            upper_limit: upper_limit(num_buckets),
            min_empty: min_empty(num_buckets),
        };
        if permit_compact {
            index.num_empty = num_buckets - num_entries;
        } else {
            index.num_empty = (0..num_buckets)
                .filter(|&i| index.state(i) == EMPTY)
                .count();
            if index.num_empty < index.min_empty {
                index.resize(num_buckets)?;
            }
        }
        Ok(index)
    }

    /// borg's `hashindex_compact`: move all used buckets (in order) to the
    /// front and cut the table to `num_entries` buckets (one EMPTY bucket
    /// when there are no entries). Returns the number of bytes saved.
    ///
    /// The result is only meant to be written as a `.compact` file and read
    /// back with [`Self::read_compact`]; it is not a valid probe table.
    pub fn compact(&mut self) -> u64 {
        let new_n = self.num_entries.max(1);
        if self.num_buckets == new_n {
            return 0;
        }
        let saved = (self.num_buckets.saturating_sub(new_n) * Self::BUCKET) as u64;
        let mut buckets = Vec::with_capacity(new_n * Self::BUCKET);
        if self.num_entries == 0 {
            buckets.resize(Self::BUCKET, 0);
            buckets[KEY_SIZE..KEY_SIZE + 4].copy_from_slice(&EMPTY.to_le_bytes());
            self.num_empty = 1;
        } else {
            for (key, value) in used_buckets::<V>(&self.buckets).take(new_n) {
                buckets.extend_from_slice(key);
                buckets.extend_from_slice(&value);
            }
            // A header that over-counts its entries: pad with EMPTY buckets.
            while buckets.len() < new_n * Self::BUCKET {
                let start = buckets.len();
                buckets.resize(start + Self::BUCKET, 0);
                buckets[start + KEY_SIZE..start + KEY_SIZE + 4]
                    .copy_from_slice(&EMPTY.to_le_bytes());
            }
            self.num_empty = 0;
        }
        self.buckets = buckets;
        self.num_buckets = new_n;
        self.lower_limit = lower_limit(new_n);
        self.upper_limit = upper_limit(new_n);
        self.min_empty = min_empty(new_n);
        saved
    }

    /// Read a file and verify its integrity digests as borg does for
    /// `index.N` / `chunks`: the `HashHeader` part after the 18-byte header
    /// (checked before the header is parsed), then the whole content and its
    /// length (`final`).
    ///
    /// # Errors
    /// [`HashIndexError::IntegrityMismatch`] for a digest mismatch or a
    /// missing part, otherwise the errors of [`Self::read_from`].
    pub fn read_from_verified(
        data: &[u8],
        logical_name: &str,
        expected: &crate::Digests,
    ) -> Result<Self, HashIndexError> {
        Self::read_verified_impl(data, logical_name, expected, false)
    }

    /// [`Self::read_compact`] with integrity verification (detached
    /// `.integrity` files of `chunks.archive.d/*.compact`).
    ///
    /// # Errors
    /// As [`Self::read_from_verified`].
    pub fn read_compact_verified(
        data: &[u8],
        logical_name: &str,
        expected: &crate::Digests,
    ) -> Result<Self, HashIndexError> {
        Self::read_verified_impl(data, logical_name, expected, true)
    }

    fn read_verified_impl(
        data: &[u8],
        logical_name: &str,
        expected: &crate::Digests,
        permit_compact: bool,
    ) -> Result<Self, HashIndexError> {
        let header = data
            .get(..HEADER_SIZE)
            .ok_or(HashIndexError::HeaderTooShort { actual: data.len() })?;
        let mut hasher = crate::IntegrityHasher::new(logical_name);
        hasher.update(header);
        hasher.check_part(expected, "HashHeader", HEADER_SIZE as u64)?;
        let index = Self::read_impl(data, permit_compact)?;
        hasher.update(&data[HEADER_SIZE..]);
        hasher.check_part(expected, "final", data.len() as u64)?;
        Ok(index)
    }
}

#[cfg(test)]
impl<const V: usize> HashIndex<V> {
    /// Structural invariants that hold for every table built by this crate.
    pub(crate) fn check_invariants(&self) {
        assert_eq!(self.buckets.len(), self.num_buckets * Self::BUCKET);
        let empty = (0..self.num_buckets)
            .filter(|&i| self.state(i) == EMPTY)
            .count();
        assert_eq!(empty, self.num_empty, "num_empty");
        assert_eq!(self.iter().count(), self.num_entries, "num_entries");
        assert!(empty >= 1);
        for (k, v) in self.iter() {
            assert_eq!(self.get(k), Some(v));
        }
    }

    /// Number of tombstones.
    pub(crate) fn tombstones(&self) -> usize {
        (0..self.num_buckets)
            .filter(|&i| self.state(i) == DELETED)
            .count()
    }

    pub(crate) fn min_empty_limit(&self) -> usize {
        self.min_empty
    }
}
