//! Writing a regular file's content chunk by chunk, with holes for all-zero
//! chunks when extracting with `--sparse` (borg 1.4.5
//! `Archive.extract_item`, archive.py lines 903-930 of the tag).

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{FsMetaError, Result};

/// `MAX_DATA_SIZE` of `src/borg/constants.py`: the length of borg's `zeros`
/// buffer.
pub const MAX_DATA_SIZE: usize = 20_971_479;

/// borg's hole test `zeros.startswith(data)`: the chunk is all zero bytes
/// and not longer than `MAX_DATA_SIZE` (an empty chunk counts as a hole of
/// length 0).
pub fn is_hole_chunk(data: &[u8]) -> bool {
    if data.len() > MAX_DATA_SIZE {
        return false;
    }
    let mut words = data.chunks_exact(16);
    let words_zero = words
        .by_ref()
        .all(|w| u128::from_ne_bytes(w.try_into().unwrap_or([1; 16])) == 0);
    words_zero && words.remainder().iter().all(|&b| b == 0)
}

/// Writes a file's chunks in order like borg's extract loop: with `sparse`,
/// an all-zero chunk ([`is_hole_chunk`]) is skipped with a relative seek
/// (leaving a hole), any other chunk is written; [`SparseWriter::finish`]
/// then truncates the file at the final position (`fd.truncate(fd.tell())`,
/// done by borg with and without `--sparse`), which also sets the length
/// when the file ends in a hole.
#[derive(Debug)]
pub struct SparseWriter {
    file: File,
    path: PathBuf,
    sparse: bool,
    pos: u64,
    trailing_hole: bool,
}

impl SparseWriter {
    /// Wrap `file` (opened for writing, positioned at 0, normally just
    /// created/truncated like borg's `open(path, 'wb')`); `path` names it
    /// in errors.
    pub fn new(file: File, path: &Path, sparse: bool) -> Self {
        SparseWriter {
            file,
            path: path.to_path_buf(),
            sparse,
            pos: 0,
            trailing_hole: false,
        }
    }

    /// Write (or skip over) the next chunk.
    pub fn write_chunk(&mut self, data: &[u8]) -> Result<()> {
        let len = data.len() as u64;
        if self.sparse && is_hole_chunk(data) {
            let delta = i64::try_from(len).unwrap_or(i64::MAX);
            self.pos = self
                .file
                .seek(SeekFrom::Current(delta))
                .map_err(|e| FsMetaError::std_io("seek", &self.path, e))?;
            self.trailing_hole = true;
        } else {
            self.file
                .write_all(data)
                .map_err(|e| FsMetaError::std_io("write", &self.path, e))?;
            self.pos += len;
            self.trailing_hole = false;
        }
        Ok(())
    }

    /// Bytes written or skipped so far (the position).
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Whether the last chunk was skipped as a hole.
    pub fn trailing_hole(&self) -> bool {
        self.trailing_hole
    }

    /// Truncate the file at the current position and flush; returns the
    /// file (for restoring metadata on its fd) and its length, which borg
    /// compares with the item's `size`.
    pub fn finish(mut self) -> Result<(File, u64)> {
        self.file
            .set_len(self.pos)
            .map_err(|e| FsMetaError::std_io("truncate", &self.path, e))?;
        self.file
            .flush()
            .map_err(|e| FsMetaError::std_io("flush", &self.path, e))?;
        Ok((self.file, self.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes() {
        assert!(is_hole_chunk(b""));
        assert!(is_hole_chunk(&[0; 33]));
        assert!(!is_hole_chunk(&[0, 0, 0, 1]));
        let mut v = vec![0u8; 4096];
        v[4095] = 1;
        assert!(!is_hole_chunk(&v));
        v[4095] = 0;
        v[17] = 1;
        assert!(!is_hole_chunk(&v));
        assert!(!is_hole_chunk(&vec![0u8; MAX_DATA_SIZE + 1]));
        assert!(is_hole_chunk(&vec![0u8; MAX_DATA_SIZE]));
    }

    fn allocated(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).unwrap().blocks() * 512
    }

    #[test]
    fn sparse_and_dense() {
        let dir = tempfile::tempdir().unwrap();
        let chunks: Vec<Vec<u8>> = vec![
            vec![0; 1 << 20],
            b"data".to_vec(),
            vec![0; 1 << 20],
            vec![7; 10],
            vec![0; 3 << 20],
        ];
        let total: u64 = chunks.iter().map(|c| c.len() as u64).sum();
        for sparse in [false, true] {
            let p = dir.path().join(format!("f{sparse}"));
            let f = File::create(&p).unwrap();
            let mut w = SparseWriter::new(f, &p, sparse);
            for c in &chunks {
                w.write_chunk(c).unwrap();
            }
            assert_eq!(w.trailing_hole(), sparse);
            let (_f, len) = w.finish().unwrap();
            assert_eq!(len, total);
            let content = std::fs::read(&p).unwrap();
            assert_eq!(content, chunks.concat());
            if sparse {
                assert!(allocated(&p) < 1 << 20, "holes were written");
            } else {
                assert!(allocated(&p) >= total);
            }
        }
    }
}
