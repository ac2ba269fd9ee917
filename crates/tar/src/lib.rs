//! tar streams the way Python's `tarfile` module handles them, which is
//! what borg 1.4's `export-tar` and `import-tar` use.
//!
//! * [`TarWriter`] writes the GNU format byte for byte as
//!   `tarfile.open(mode='w|', format=GNU_FORMAT)` does: GNU long name and
//!   long link records, octal or base-256 numbers, the two closing zero
//!   blocks and padding to a 10240-byte record.
//! * [`TarReader`] reads a stream as `tarfile.open(mode='r|')` does: ustar,
//!   GNU (long names, old sparse), pax (extended and global headers, GNU
//!   sparse 0.0/0.1/1.0) and v7, with the same leniency at the end of the
//!   stream and the same errors where Python raises them.
//!
//! Names are bytes throughout (Python's `surrogateescape` round trip).

mod error;
mod read;
mod write;

pub use error::{Result, TarError};
pub use read::{Entry, EntryKind, Mtime, TarReader};
pub use write::{Header, HeaderKind, TarWriter};

/// Size of a tar block.
pub const BLOCKSIZE: usize = 512;
/// Size of a tar record (20 blocks, `tar -b20`).
pub const RECORDSIZE: usize = BLOCKSIZE * 20;
