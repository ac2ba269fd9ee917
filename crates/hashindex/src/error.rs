//! Errors of this crate.

/// Everything that can go wrong reading, changing or verifying a HashIndex.
///
/// The `Display` texts of the read errors are borg 1.4.5's `ValueError`
/// messages, so they can be shown to users as borg would show them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashIndexError {
    /// The data is shorter than the 18-byte header.
    #[error("Could not read header (expected 18, but read {actual} bytes)")]
    HeaderTooShort {
        /// Number of bytes available.
        actual: usize,
    },
    /// The header does not start with `BORG_IDX`.
    #[error("Unknown MAGIC in header")]
    BadMagic,
    /// The header's key size is not the one of this index type (always 32).
    #[error("Expected key size {expected}, got {actual}.")]
    WrongKeySize {
        /// Key size of this index type.
        expected: i8,
        /// Key size in the header.
        actual: i8,
    },
    /// The header's value size is not the one of this index type.
    #[error("Expected value size {expected}, got {actual}.")]
    WrongValueSize {
        /// Value size of this index type.
        expected: i8,
        /// Value size in the header.
        actual: i8,
    },
    /// `num_buckets < 1` in the header.
    #[error("Expected num_buckets >= 1, got {num_buckets}.")]
    BadNumBuckets {
        /// The header's bucket count.
        num_buckets: i32,
    },
    /// `num_entries < 0` or `num_entries > num_buckets` in the header.
    #[error("Expected 0 <= num_entries <= num_buckets, got {num_entries}.")]
    BadNumEntries {
        /// The header's entry count.
        num_entries: i32,
        /// The header's bucket count.
        num_buckets: i32,
    },
    /// The data length is not `18 + num_buckets * bucket_size`.
    #[error("Incorrect file length (expected {expected}, got {actual})")]
    BadLength {
        /// Length implied by the header.
        expected: u64,
        /// Actual length.
        actual: u64,
    },
    /// A rebuild found a different number of entries than the header claims
    /// (or duplicate keys): the table is structurally corrupt.
    #[error("Failed to rebuild table")]
    RebuildFailed,
    /// The table has the maximal size and is completely full.
    #[error("hashindex_set failed: table full")]
    TableFull,
    /// A value whose first u32 is above [`crate::MAX_VALUE`] (those values
    /// are reserved as bucket state markers).
    #[error("value {0} exceeds MAX_VALUE (reserved range)")]
    ValueTooLarge(u32),
    /// A chunk reference count that is invalid for the operation (above
    /// [`crate::MAX_VALUE`], or zero for a decref).
    #[error("invalid reference count {0}")]
    InvalidRefcount(u32),
    /// `iter_after` with a marker key that is not in the index.
    #[error("marker not found")]
    MarkerNotFound,
    /// `stats_against`: a key of the index is missing from the master index.
    #[error("stats_against: key contained in self but not in master_index.")]
    NotASubset,
    /// A file-integrity digest did not match (borg's `FileIntegrityError`).
    #[error("File failed integrity check: {name} (part {part})")]
    IntegrityMismatch {
        /// Logical file name that was hashed.
        name: String,
        /// Part whose digest did not match (or was missing).
        part: String,
    },
    /// The integrity JSON could not be parsed, or lacks `algorithm`,
    /// `digests` or the `final` digest (borg raises `FileIntegrityError`).
    #[error("invalid integrity data: {0}")]
    InvalidJson(String),
    /// The integrity JSON names an algorithm other than `XXH64`. borg only
    /// ever writes XXH64; on read it warns and skips verification for
    /// unknown algorithms.
    #[error("Cannot verify integrity: unknown algorithm {0:?}")]
    UnsupportedAlgorithm(String),
}
