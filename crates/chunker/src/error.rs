//! Errors of this crate.

use thiserror::Error;

/// Why chunker parameters were rejected.
///
/// The messages follow borg's `--chunker-params` validation
/// (`helpers/parseformat.py: ChunkerParams`) plus the checks borg's
/// `Chunker` constructor makes with assertions.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ParamsError {
    /// The string matches none of the accepted forms.
    #[error("invalid chunker params {0:?}")]
    Invalid(String),
    /// A field that must be a non-negative integer is not one.
    #[error("invalid number {0:?} in chunker params")]
    BadNumber(String),
    /// `MIN_EXP <= MASK_BITS <= MAX_EXP` does not hold.
    #[error(
        "required: chunk_min <= chunk_mask <= chunk_max (got {min_exp}, {mask_bits}, {max_exp})"
    )]
    Order {
        /// Minimum chunk size exponent.
        min_exp: u32,
        /// Hash mask bits.
        mask_bits: u32,
        /// Maximum chunk size exponent.
        max_exp: u32,
    },
    /// `MIN_EXP < 6`.
    #[error(
        "min. chunk size exponent must not be less than 6 (2^6 = 64B min. chunk size), got {0}"
    )]
    MinTooSmall(u32),
    /// `MAX_EXP > 23`.
    #[error(
        "max. chunk size exponent must not be more than 23 (2^23 = 8MiB max. chunk size), got {0}"
    )]
    MaxTooLarge(u32),
    /// The window size is even.
    #[error("window_size must be an uneven (odd) number, got {0}")]
    EvenWindow(u32),
    /// `WINDOW + 2**MIN_EXP + 1 > 2**MAX_EXP` (borg asserts this in its `Chunker`).
    #[error("window_size + 2**chunk_min + 1 must not exceed 2**chunk_max (window {window_size}, min {min_exp}, max {max_exp})")]
    WindowTooLarge {
        /// Window size in bytes.
        window_size: u32,
        /// Minimum chunk size exponent.
        min_exp: u32,
        /// Maximum chunk size exponent.
        max_exp: u32,
    },
    /// Fixed chunker block size below 64 bytes.
    #[error("block_size must not be less than 64 Bytes, got {0}")]
    BlockTooSmall(u32),
    /// Fixed chunker block or header size above `MAX_DATA_SIZE`.
    #[error("block_size and header_size must not exceed MAX_DATA_SIZE [{max}] (got {block_size}, {header_size})")]
    SizeTooLarge {
        /// Block size in bytes.
        block_size: u32,
        /// Header size in bytes.
        header_size: u32,
        /// `MAX_DATA_SIZE`.
        max: u32,
    },
}
