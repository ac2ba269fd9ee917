//! Errors, with Python's `tarfile` messages where borg shows them.

/// A tar error.
#[derive(Debug, thiserror::Error)]
pub enum TarError {
    /// A number does not fit its header field (Python's `ValueError`).
    #[error("overflow in number field")]
    Overflow,
    /// The content or the stream ended early (Python's
    /// `ReadError`/`OSError("unexpected end of data")`).
    #[error("unexpected end of data")]
    UnexpectedEnd,
    /// The stream is empty.
    #[error("empty file")]
    Empty,
    /// The first header is not a tar header (checksum mismatch or a bad
    /// number field).
    #[error("{0}")]
    InvalidHeader(&'static str),
    /// The first header is shorter than a block.
    #[error("truncated header")]
    TruncatedHeader,
    /// A header following a long name, long link or pax header is bad.
    #[error("{0}")]
    SubsequentHeader(&'static str),
    /// A sparse map could not be parsed.
    #[error("invalid sparse map")]
    Sparse,
    /// Reading or writing the stream failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, TarError>;
