//! The GNU tar writer (Python's `TarInfo.create_gnu_header` and
//! `TarFile.addfile`/`close` in stream mode).

use std::io::{Read, Write};

use crate::error::{Result, TarError};
use crate::{BLOCKSIZE, RECORDSIZE};

/// GNU magic and version (`"ustar  \0"`).
const GNU_MAGIC: &[u8; 8] = b"ustar  \0";
/// Names and link names longer than this get a GNU long record.
const LENGTH_NAME: usize = 100;
/// Bytes copied per read of a member's content (Python's `copyfileobj`).
const COPY_BUFSIZE: usize = 16 * 1024;

/// The type of a member written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// A regular file (`0`); its content follows.
    Regular,
    /// A hard link to an earlier member (`1`).
    Hardlink,
    /// A symbolic link (`2`).
    Symlink,
    /// A character device (`3`).
    Char,
    /// A block device (`4`).
    Block,
    /// A directory (`5`); a `/` is appended to its name.
    Directory,
    /// A FIFO (`6`).
    Fifo,
}

impl HeaderKind {
    fn typeflag(self) -> u8 {
        match self {
            HeaderKind::Regular => b'0',
            HeaderKind::Hardlink => b'1',
            HeaderKind::Symlink => b'2',
            HeaderKind::Char => b'3',
            HeaderKind::Block => b'4',
            HeaderKind::Directory => b'5',
            HeaderKind::Fifo => b'6',
        }
    }
}

/// A member's metadata (Python's `TarInfo` as borg fills it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The member name (bytes as stored).
    pub name: Vec<u8>,
    /// Permission bits; only the low 12 bits are written.
    pub mode: u32,
    /// Owner id.
    pub uid: i64,
    /// Group id.
    pub gid: i64,
    /// Content size (regular files; 0 otherwise).
    pub size: u64,
    /// Modification time in whole seconds.
    pub mtime: i64,
    /// The member type.
    pub kind: HeaderKind,
    /// Symlink target or hard link source.
    pub linkname: Vec<u8>,
    /// Owner name (at most 32 bytes are written).
    pub uname: Vec<u8>,
    /// Group name (at most 32 bytes are written).
    pub gname: Vec<u8>,
    /// Device major number (devices only).
    pub devmajor: u64,
    /// Device minor number (devices only).
    pub devminor: u64,
}

impl Header {
    /// A header with Python's `TarInfo()` defaults (mode 0644, everything
    /// else empty or zero) for `name`.
    pub fn new(name: impl Into<Vec<u8>>, kind: HeaderKind) -> Self {
        Header {
            name: name.into(),
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            kind,
            linkname: Vec::new(),
            uname: Vec::new(),
            gname: Vec::new(),
            devmajor: 0,
            devminor: 0,
        }
    }

    /// The header blocks in GNU format: long link and long name records
    /// when needed, then the header itself (Python's `create_gnu_header`).
    pub fn gnu_blocks(&self) -> Result<Vec<u8>> {
        let mut name = self.name.clone();
        if self.kind == HeaderKind::Directory && !name.ends_with(b"/") {
            name.push(b'/');
        }
        let mut out = Vec::with_capacity(BLOCKSIZE);
        if self.linkname.len() > LENGTH_NAME {
            long_record(&mut out, &self.linkname, b'K')?;
        }
        if name.len() > LENGTH_NAME {
            long_record(&mut out, &name, b'L')?;
        }
        let devices = matches!(self.kind, HeaderKind::Char | HeaderKind::Block);
        let (devmajor, devminor) = if devices {
            (
                itn(i128::from(self.devmajor), 8, true)?,
                itn(i128::from(self.devminor), 8, true)?,
            )
        } else {
            (vec![0; 8], vec![0; 8])
        };
        let fields = Fields {
            name: &name,
            mode: i128::from(self.mode & 0o7777),
            uid: i128::from(self.uid),
            gid: i128::from(self.gid),
            size: i128::from(self.size),
            mtime: i128::from(self.mtime),
            typeflag: self.kind.typeflag(),
            linkname: &self.linkname,
            magic: GNU_MAGIC,
            uname: &self.uname,
            gname: &self.gname,
            devmajor,
            devminor,
            gnu: true,
        };
        out.extend_from_slice(&fields.block()?);
        Ok(out)
    }
}

/// The fields of one header block (Python's `_create_header`).
struct Fields<'a> {
    name: &'a [u8],
    mode: i128,
    uid: i128,
    gid: i128,
    size: i128,
    mtime: i128,
    typeflag: u8,
    linkname: &'a [u8],
    magic: &'a [u8; 8],
    uname: &'a [u8],
    gname: &'a [u8],
    devmajor: Vec<u8>,
    devminor: Vec<u8>,
    /// GNU format: numbers that do not fit in octal use base-256.
    gnu: bool,
}

impl Fields<'_> {
    fn block(&self) -> Result<[u8; BLOCKSIZE]> {
        let mut b = Vec::with_capacity(BLOCKSIZE);
        stn(&mut b, self.name, 100);
        b.extend_from_slice(&itn(self.mode, 8, self.gnu)?);
        b.extend_from_slice(&itn(self.uid, 8, self.gnu)?);
        b.extend_from_slice(&itn(self.gid, 8, self.gnu)?);
        b.extend_from_slice(&itn(self.size, 12, self.gnu)?);
        b.extend_from_slice(&itn(self.mtime, 12, self.gnu)?);
        b.extend_from_slice(b"        ");
        b.push(self.typeflag);
        stn(&mut b, self.linkname, 100);
        b.extend_from_slice(self.magic);
        stn(&mut b, self.uname, 32);
        stn(&mut b, self.gname, 32);
        b.extend_from_slice(&self.devmajor);
        b.extend_from_slice(&self.devminor);
        // prefix (155) and padding
        let mut block = [0u8; BLOCKSIZE];
        block[..b.len()].copy_from_slice(&b);
        let chksum: u32 = 256
            + block[..148].iter().map(|&c| u32::from(c)).sum::<u32>()
            + block[156..].iter().map(|&c| u32::from(c)).sum::<u32>();
        let text = format!("{chksum:06o}\0");
        block[148..148 + text.len()].copy_from_slice(text.as_bytes());
        Ok(block)
    }
}

/// Python's `stn`: `s` cut to `length` bytes, NUL-padded.
fn stn(out: &mut Vec<u8>, s: &[u8], length: usize) {
    let n = s.len().min(length);
    out.extend_from_slice(&s[..n]);
    out.resize(out.len() + (length - n), 0);
}

/// Python's `itn`: octal with a trailing NUL when it fits in `digits - 1`
/// octal digits, otherwise (GNU format only) base-256 with a leading 0x80
/// (positive) or 0xff (negative) byte.
fn itn(n: i128, digits: usize, gnu: bool) -> Result<Vec<u8>> {
    let octal_limit = 1i128 << (3 * (digits - 1));
    if (0..octal_limit).contains(&n) {
        let mut s = format!("{n:0width$o}", width = digits - 1).into_bytes();
        s.push(0);
        return Ok(s);
    }
    let limit = 1i128 << (8 * (digits - 1));
    if !gnu || n < -limit || n >= limit {
        return Err(TarError::Overflow);
    }
    let mut s = vec![if n >= 0 { 0o200 } else { 0o377 }];
    // Python adds 256**digits to a negative number: the low digits-1 bytes
    // are its two's complement.
    let mut v = if n >= 0 {
        n
    } else {
        (1i128 << (8 * digits)) + n
    };
    let mut low = Vec::with_capacity(digits - 1);
    for _ in 0..digits - 1 {
        low.push((v & 0xff) as u8);
        v >>= 8;
    }
    low.reverse();
    s.extend_from_slice(&low);
    Ok(s)
}

/// A GNU `././@LongLink` record (type `L` or `K`) holding `name` and a NUL
/// (Python's `_create_gnu_long_header`, a ustar-format header).
fn long_record(out: &mut Vec<u8>, name: &[u8], typeflag: u8) -> Result<()> {
    let mut payload = name.to_vec();
    payload.push(0);
    let fields = Fields {
        name: b"././@LongLink",
        mode: 0,
        uid: 0,
        gid: 0,
        size: payload.len() as i128,
        mtime: 0,
        typeflag,
        linkname: b"",
        magic: GNU_MAGIC,
        uname: b"",
        gname: b"",
        devmajor: vec![0; 8],
        devminor: vec![0; 8],
        gnu: false,
    };
    out.extend_from_slice(&fields.block()?);
    let padded = payload.len().div_ceil(BLOCKSIZE) * BLOCKSIZE;
    payload.resize(padded, 0);
    out.extend_from_slice(&payload);
    Ok(())
}

/// Writes a tar stream in GNU format (Python's `TarFile` opened with
/// `mode='w|', format=GNU_FORMAT`).
#[derive(Debug)]
pub struct TarWriter<W: Write> {
    out: W,
    offset: u64,
}

impl<W: Write> TarWriter<W> {
    /// A writer on `out`.
    pub fn new(out: W) -> Self {
        TarWriter { out, offset: 0 }
    }

    /// Bytes written so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Add a member (Python's `addfile`): its header blocks, then, when
    /// `content` is given, exactly `header.size` bytes read from it and
    /// padded to a block. A short `content` is
    /// [`TarError::UnexpectedEnd`] (the header and what was read are
    /// written already, as in Python).
    pub fn append(&mut self, header: &Header, content: Option<&mut dyn Read>) -> Result<()> {
        let blocks = header.gnu_blocks()?;
        self.out.write_all(&blocks)?;
        self.offset += blocks.len() as u64;
        let Some(content) = content else {
            return Ok(());
        };
        let size = header.size;
        if size == 0 {
            return Ok(());
        }
        let mut buf = vec![0u8; COPY_BUFSIZE];
        let mut left = size;
        while left > 0 {
            let want = left.min(COPY_BUFSIZE as u64) as usize;
            let got = read_full(content, &mut buf[..want])?;
            if got < want {
                return Err(TarError::UnexpectedEnd);
            }
            self.out.write_all(&buf[..want])?;
            left -= want as u64;
        }
        let rem = (size % BLOCKSIZE as u64) as usize;
        let mut padded = size;
        if rem > 0 {
            self.out.write_all(&[0u8; BLOCKSIZE][..BLOCKSIZE - rem])?;
            padded += (BLOCKSIZE - rem) as u64;
        }
        self.offset += padded;
        Ok(())
    }

    /// End the stream (Python's `close`): two zero blocks, then zeros up
    /// to a multiple of the 10240-byte record. Returns the output.
    pub fn finish(mut self) -> Result<W> {
        self.out.write_all(&[0u8; 2 * BLOCKSIZE])?;
        self.offset += 2 * BLOCKSIZE as u64;
        let rem = (self.offset % RECORDSIZE as u64) as usize;
        if rem > 0 {
            self.out.write_all(&vec![0u8; RECORDSIZE - rem])?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Read until `buf` is full or the reader ends; the count read.
pub(crate) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_python_itn() {
        assert_eq!(itn(0o644, 8, true).unwrap(), b"0000644\0");
        assert_eq!(itn(2_097_151, 8, true).unwrap(), b"7777777\0");
        assert_eq!(
            itn(2_097_152, 8, true).unwrap(),
            [0x80, 0, 0, 0, 0, 0x20, 0, 0]
        );
        assert_eq!(
            itn(-1, 12, true).unwrap(),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert!(itn(2_097_152, 8, false).is_err());
        assert!(itn(1 << 56, 8, true).is_err());
    }

    #[test]
    fn empty_archive_is_one_record() {
        let w = TarWriter::new(Vec::new());
        let out = w.finish().unwrap();
        assert_eq!(out, vec![0u8; RECORDSIZE]);
    }

    #[test]
    fn long_names_get_gnu_records() {
        let name = vec![b'a'; 150];
        let h = Header::new(name.clone(), HeaderKind::Directory);
        let b = h.gnu_blocks().unwrap();
        assert_eq!(b.len(), 3 * BLOCKSIZE);
        assert_eq!(&b[..13], b"././@LongLink");
        assert_eq!(b[156], b'L');
        assert_eq!(&b[512..662], &name[..]);
        assert_eq!(&b[662..664], b"/\0");
        assert_eq!(b[1024 + 156], b'5');
    }
}
