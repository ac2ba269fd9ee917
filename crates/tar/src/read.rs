//! The stream reader (Python's `TarFile.next` in `r|` mode, `frombuf`,
//! `_proc_gnulong`, `_proc_pax`, `_proc_sparse` and `_FileInFile`).

use std::io::Read;

use crate::error::{Result, TarError};
use crate::write::read_full;
use crate::BLOCKSIZE;

/// The kind of a member read, from its type flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// `0`, NUL, `7` (contiguous) or `S` (old GNU sparse): content follows.
    Regular,
    /// `1`
    Hardlink,
    /// `2`
    Symlink,
    /// `3`
    Char,
    /// `4`
    Block,
    /// `5`
    Directory,
    /// `6`
    Fifo,
    /// Any other type flag (its data is skipped).
    Other(u8),
}

impl EntryKind {
    fn from_flag(t: u8) -> Self {
        match t {
            b'0' | 0 | b'7' | b'S' => EntryKind::Regular,
            b'1' => EntryKind::Hardlink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::Char,
            b'4' => EntryKind::Block,
            b'5' => EntryKind::Directory,
            b'6' => EntryKind::Fifo,
            o => EntryKind::Other(o),
        }
    }
}

/// Python's `SUPPORTED_TYPES`: other types have their data skipped.
fn supported(t: u8) -> bool {
    matches!(
        t,
        b'0' | 0 | b'1' | b'2' | b'5' | b'6' | b'7' | b'3' | b'4' | b'L' | b'K' | b'S'
    )
}

/// A modification time: an integer from a header field, or a float from a
/// pax `mtime` record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mtime {
    /// Whole seconds.
    Int(i128),
    /// Seconds as Python's float.
    Float(f64),
}

impl Mtime {
    /// Python's `int(mtime * 1000**3)`; `None` for an infinite or NaN float.
    pub fn nanoseconds(self) -> Option<i128> {
        match self {
            Mtime::Int(s) => s.checked_mul(1_000_000_000),
            Mtime::Float(f) => {
                let v = f * 1e9;
                v.is_finite().then(|| v.trunc() as i128)
            }
        }
    }
}

/// One member's metadata (Python's `TarInfo` after reading).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Name as stored (trailing slashes of directories removed).
    pub name: Vec<u8>,
    /// The mode field as stored.
    pub mode: i128,
    /// Owner id.
    pub uid: i128,
    /// Group id.
    pub gid: i128,
    /// Content size (the real size of a sparse file).
    pub size: i128,
    /// Modification time.
    pub mtime: Mtime,
    /// The type flag.
    pub typeflag: u8,
    /// Link target.
    pub linkname: Vec<u8>,
    /// Owner name.
    pub uname: Vec<u8>,
    /// Group name.
    pub gname: Vec<u8>,
    /// Device major number.
    pub devmajor: i128,
    /// Device minor number.
    pub devminor: i128,
    /// Sparse map (offset, length), if the member is sparse.
    pub sparse: Option<Vec<(i128, i128)>>,
    offset_data: u64,
}

impl Entry {
    /// The member's kind.
    pub fn kind(&self) -> EntryKind {
        EntryKind::from_flag(self.typeflag)
    }

    fn is_reg(&self) -> bool {
        self.kind() == EntryKind::Regular
    }

    fn is_dir(&self) -> bool {
        self.typeflag == b'5'
    }
}

/// A header block that is not a member header.
enum HeaderError {
    Empty,
    Truncated,
    Eof,
    Invalid(&'static str),
    Subsequent(&'static str),
    Other(TarError),
}

impl From<TarError> for HeaderError {
    fn from(e: TarError) -> Self {
        HeaderError::Other(e)
    }
}

impl From<std::io::Error> for HeaderError {
    fn from(e: std::io::Error) -> Self {
        HeaderError::Other(e.into())
    }
}

/// A piece of a member's content: stored data or a hole of zeros.
#[derive(Debug, Clone, Copy)]
struct Segment {
    data: bool,
    start: u64,
    stop: u64,
}

/// The content of the member last returned by [`TarReader::next`].
#[derive(Debug)]
struct Content {
    map: Vec<Segment>,
    size: u64,
    position: u64,
}

/// Reads a tar stream member by member, never seeking (Python's
/// `tarfile.open(fileobj=..., mode='r|')`).
#[derive(Debug)]
pub struct TarReader<R: Read> {
    inner: R,
    /// Bytes consumed from `inner`.
    pos: u64,
    /// Where the next header starts.
    offset: u64,
    ignore_zeros: bool,
    /// Global pax records (keyword, value), in insertion order.
    global: Vec<(Vec<u8>, Vec<u8>)>,
    content: Option<Content>,
    done: bool,
}

impl<R: Read> TarReader<R> {
    /// A reader on `inner`; `ignore_zeros` skips zero blocks and bad
    /// headers (`--ignore-zeros`).
    pub fn new(inner: R, ignore_zeros: bool) -> Self {
        TarReader {
            inner,
            pos: 0,
            offset: 0,
            ignore_zeros,
            global: Vec::new(),
            content: None,
            done: false,
        }
    }

    fn read_exact_or_short(&mut self, n: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; n];
        let got = read_full(&mut self.inner, &mut buf)?;
        buf.truncate(got);
        self.pos += got as u64;
        Ok(buf)
    }

    /// Skip forward to `target` (Python's `_Stream.seek`, which reads).
    fn skip_to(&mut self, target: u64) -> Result<()> {
        let mut buf = vec![0u8; 16 * 1024];
        while self.pos < target {
            let want = (target - self.pos).min(buf.len() as u64) as usize;
            let got = read_full(&mut self.inner, &mut buf[..want])?;
            self.pos += got as u64;
            if got < want {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The next member, or `None` at the end of the archive.
    pub fn next_entry(&mut self) -> Result<Option<Entry>> {
        if self.done {
            return Ok(None);
        }
        self.content = None;
        if self.offset != self.pos {
            if self.offset == 0 {
                return Ok(None);
            }
            if self.pos > self.offset {
                return Err(TarError::InvalidHeader("seeking backwards is not allowed"));
            }
            self.skip_to(self.offset - 1)?;
            if self.read_exact_or_short(1)?.is_empty() {
                return Err(TarError::UnexpectedEnd);
            }
        }
        let entry = loop {
            match self.read_member() {
                Ok(e) => break Some(e),
                Err(HeaderError::Eof) => {
                    if self.ignore_zeros {
                        self.offset += BLOCKSIZE as u64;
                        continue;
                    }
                    break None;
                }
                Err(HeaderError::Invalid(m)) => {
                    if self.ignore_zeros {
                        self.offset += BLOCKSIZE as u64;
                        continue;
                    }
                    if self.offset == 0 {
                        return Err(TarError::InvalidHeader(m));
                    }
                    break None;
                }
                Err(HeaderError::Empty) => {
                    if self.offset == 0 {
                        return Err(TarError::Empty);
                    }
                    break None;
                }
                Err(HeaderError::Truncated) => {
                    if self.offset == 0 {
                        return Err(TarError::TruncatedHeader);
                    }
                    break None;
                }
                Err(HeaderError::Subsequent(m)) => return Err(TarError::SubsequentHeader(m)),
                Err(HeaderError::Other(e)) => return Err(e),
            }
        };
        match &entry {
            Some(e) => {
                self.content = e.is_reg().then(|| content_map(e));
            }
            None => self.done = true,
        }
        Ok(entry)
    }

    /// Read a header block and process the member (Python's
    /// `fromtarfile` and `_proc_member`).
    fn read_member(&mut self) -> std::result::Result<Entry, HeaderError> {
        let buf = self.read_exact_or_short(BLOCKSIZE)?;
        let mut e = frombuf(&buf)?;
        match e.typeflag {
            b'L' | b'K' => self.proc_gnulong(e),
            b'S' => self.proc_sparse(e, &buf),
            b'x' | b'g' | b'X' => self.proc_pax(e),
            _ => {
                self.proc_builtin(&mut e);
                Ok(e)
            }
        }
    }

    fn proc_builtin(&mut self, e: &mut Entry) {
        e.offset_data = self.pos;
        let mut offset = self.pos;
        if e.is_reg() || !supported(e.typeflag) {
            offset += block(e.size);
        }
        self.offset = offset;
        let global = self.global.clone();
        apply_pax(e, &global);
        if e.is_dir() {
            strip_slashes(&mut e.name);
        }
    }

    fn subsequent(&mut self) -> std::result::Result<Entry, HeaderError> {
        match self.read_member() {
            Ok(e) => Ok(e),
            Err(HeaderError::Empty) => Err(HeaderError::Subsequent("empty header")),
            Err(HeaderError::Truncated) => Err(HeaderError::Subsequent("truncated header")),
            Err(HeaderError::Eof) => Err(HeaderError::Subsequent("end of file header")),
            Err(HeaderError::Invalid(m)) => Err(HeaderError::Subsequent(m)),
            Err(other) => Err(other),
        }
    }

    fn proc_gnulong(&mut self, e: Entry) -> std::result::Result<Entry, HeaderError> {
        let n =
            usize::try_from(block(e.size)).map_err(|_| HeaderError::Invalid("invalid header"))?;
        let buf = self.read_exact_or_short(n)?;
        let mut next = self.subsequent()?;
        if e.typeflag == b'L' {
            next.name = nts(&buf).to_vec();
        } else {
            next.linkname = nts(&buf).to_vec();
        }
        if next.is_dir() && next.name.ends_with(b"/") {
            next.name.pop();
        }
        Ok(next)
    }

    fn proc_sparse(
        &mut self,
        mut e: Entry,
        header: &[u8],
    ) -> std::result::Result<Entry, HeaderError> {
        let mut structs = Vec::new();
        let mut pos = 386;
        for _ in 0..4 {
            let (Ok(off), Ok(len)) = (
                nti(&header[pos..pos + 12]),
                nti(&header[pos + 12..pos + 24]),
            ) else {
                break;
            };
            structs.push((off, len));
            pos += 24;
        }
        let mut extended = header[482] != 0;
        let origsize = nti(&header[483..495]).map_err(HeaderError::Invalid)?;
        while extended {
            let buf = self.read_exact_or_short(BLOCKSIZE)?;
            if buf.len() < BLOCKSIZE {
                return Err(HeaderError::Other(TarError::UnexpectedEnd));
            }
            let mut pos = 0;
            for _ in 0..21 {
                let (Ok(off), Ok(len)) = (nti(&buf[pos..pos + 12]), nti(&buf[pos + 12..pos + 24]))
                else {
                    break;
                };
                if off != 0 && len != 0 {
                    structs.push((off, len));
                }
                pos += 24;
            }
            extended = buf[504] != 0;
        }
        e.sparse = Some(structs);
        e.offset_data = self.pos;
        self.offset = self.pos + block(e.size);
        e.size = origsize;
        Ok(e)
    }

    fn proc_pax(&mut self, e: Entry) -> std::result::Result<Entry, HeaderError> {
        let n =
            usize::try_from(block(e.size)).map_err(|_| HeaderError::Invalid("invalid header"))?;
        let buf = self.read_exact_or_short(n)?;
        let mut records = if e.typeflag == b'g' {
            Vec::new()
        } else {
            self.global.clone()
        };
        let mut pos = 0usize;
        while let Some((length, kw_start, kw_end)) = match_record(&buf, pos) {
            if length == 0 {
                return Err(HeaderError::Invalid("invalid header"));
            }
            let keyword = buf[kw_start..kw_end].to_vec();
            let vstart = kw_end + 1;
            let vend = (pos + length).saturating_sub(1).min(buf.len());
            let value = buf.get(vstart..vend.max(vstart)).unwrap_or(&[]).to_vec();
            if e.typeflag == b'g' {
                set(&mut self.global, keyword, value);
            } else {
                set(&mut records, keyword, value);
            }
            pos += length;
        }
        let mut next = self.subsequent()?;
        let records = if e.typeflag == b'g' {
            self.global.clone()
        } else {
            records
        };
        if let Some(map) = get(&records, b"GNU.sparse.map") {
            let nums: std::result::Result<Vec<i128>, _> = map
                .split(|&c| c == b',')
                .map(|x| py_int(x).ok_or(HeaderError::Other(TarError::Sparse)))
                .collect();
            let nums = nums?;
            next.sparse = Some(nums.chunks_exact(2).map(|p| (p[0], p[1])).collect());
        } else if get(&records, b"GNU.sparse.size").is_some() {
            let offsets = sparse_00(&buf, b"GNU.sparse.offset=");
            let sizes = sparse_00(&buf, b"GNU.sparse.numbytes=");
            next.sparse = Some(offsets.into_iter().zip(sizes).collect());
        } else if get(&records, b"GNU.sparse.major") == Some(b"1")
            && get(&records, b"GNU.sparse.minor") == Some(b"0")
        {
            self.sparse_10(&mut next)?;
        }
        if e.typeflag == b'x' || e.typeflag == b'X' {
            apply_pax(&mut next, &records);
            if get(&records, b"size").is_some() {
                let mut offset = next.offset_data;
                if next.is_reg() || !supported(next.typeflag) {
                    offset += block(next.size);
                }
                self.offset = offset;
            }
        }
        Ok(next)
    }

    /// GNU sparse 1.0: the map is at the start of the data.
    fn sparse_10(&mut self, next: &mut Entry) -> std::result::Result<(), HeaderError> {
        let mut buf = self.read_exact_or_short(BLOCKSIZE)?;
        let nl = |b: &[u8]| b.iter().position(|&c| c == b'\n');
        let Some(i) = nl(&buf) else {
            return Err(HeaderError::Other(TarError::Sparse));
        };
        let fields = py_int(&buf[..i]).ok_or(HeaderError::Other(TarError::Sparse))?;
        buf.drain(..=i);
        let mut nums = Vec::new();
        while (nums.len() as i128) < fields * 2 {
            if nl(&buf).is_none() {
                let more = self.read_exact_or_short(BLOCKSIZE)?;
                if more.is_empty() {
                    return Err(HeaderError::Other(TarError::Sparse));
                }
                buf.extend_from_slice(&more);
            }
            let Some(i) = nl(&buf) else { continue };
            nums.push(py_int(&buf[..i]).ok_or(HeaderError::Other(TarError::Sparse))?);
            buf.drain(..=i);
        }
        next.offset_data = self.pos;
        next.sparse = Some(nums.chunks_exact(2).map(|p| (p[0], p[1])).collect());
        Ok(())
    }

    /// Read the content of the member last returned by
    /// [`TarReader::next_entry`] (regular files only; 0 at its end). A
    /// stream that ends inside the content is [`TarError::UnexpectedEnd`].
    pub fn read_content(&mut self, buf: &mut [u8]) -> Result<usize> {
        let Some(c) = self.content.as_mut() else {
            return Ok(0);
        };
        let want = (buf.len() as u64).min(c.size.saturating_sub(c.position)) as usize;
        if want == 0 {
            return Ok(0);
        }
        let Some(seg) = c
            .map
            .iter()
            .find(|s| s.start <= c.position && c.position < s.stop)
            .copied()
        else {
            return Err(TarError::Sparse);
        };
        let n = want.min((seg.stop - c.position) as usize);
        if seg.data {
            let got = read_full(&mut self.inner, &mut buf[..n])?;
            self.pos += got as u64;
            if got < n {
                return Err(TarError::UnexpectedEnd);
            }
        } else {
            buf[..n].fill(0);
        }
        if let Some(c) = self.content.as_mut() {
            c.position += n as u64;
        }
        Ok(n)
    }
}

/// Python's `_FileInFile` map: data pieces (stored one after the other
/// from the data offset) and holes.
fn content_map(e: &Entry) -> Content {
    let size = u64::try_from(e.size).unwrap_or(0);
    let blocks: Vec<(i128, i128)> = match &e.sparse {
        Some(s) => s.clone(),
        None => vec![(0, e.size)],
    };
    let mut map = Vec::new();
    let mut lastpos: i128 = 0;
    for (offset, len) in blocks {
        if offset > lastpos {
            map.push(Segment {
                data: false,
                start: clamp(lastpos),
                stop: clamp(offset),
            });
        }
        map.push(Segment {
            data: true,
            start: clamp(offset),
            stop: clamp(offset + len),
        });
        lastpos = offset + len;
    }
    if lastpos < e.size {
        map.push(Segment {
            data: false,
            start: clamp(lastpos),
            stop: size,
        });
    }
    Content {
        map,
        size,
        position: 0,
    }
}

fn clamp(v: i128) -> u64 {
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

/// Round up to a whole number of blocks (Python's `_block`).
fn block(n: i128) -> u64 {
    let n = clamp(n);
    n.div_ceil(BLOCKSIZE as u64) * BLOCKSIZE as u64
}

fn strip_slashes(name: &mut Vec<u8>) {
    while name.ends_with(b"/") {
        name.pop();
    }
}

/// Bytes up to the first NUL (Python's `nts`, without decoding).
fn nts(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    }
}

/// Python's `nti`: base-256 (leading 0x80/0xff) or octal text.
fn nti(s: &[u8]) -> std::result::Result<i128, &'static str> {
    if s[0] == 0o200 || s[0] == 0o377 {
        let mut n: i128 = 0;
        for &b in &s[1..] {
            n = (n << 8) + i128::from(b);
        }
        if s[0] == 0o377 {
            n -= 1i128 << (8 * (s.len() - 1));
        }
        return Ok(n);
    }
    let t = nts(s);
    if !t.is_ascii() {
        return Err("invalid header");
    }
    let t = trim(t);
    if t.is_empty() {
        return Ok(0);
    }
    py_int_radix(t, 8).ok_or("invalid header")
}

fn trim(s: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = s.iter().position(|c| !ws(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !ws(c)).map_or(start, |p| p + 1);
    &s[start..end.max(start)]
}

/// Python's `int(text, radix)` for ASCII text: sign, optional prefix,
/// single underscores between digits.
fn py_int_radix(s: &[u8], radix: u32) -> Option<i128> {
    let s = trim(s);
    let (neg, mut s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if radix == 8 && s.len() > 2 && s[0] == b'0' && (s[1] == b'o' || s[1] == b'O') {
        s = &s[2..];
        if s.first() == Some(&b'_') {
            s = &s[1..];
        }
    }
    if s.is_empty() || s.starts_with(b"_") || s.ends_with(b"_") || s.windows(2).any(|w| w == b"__")
    {
        return None;
    }
    let mut n: i128 = 0;
    for &c in s {
        if c == b'_' {
            continue;
        }
        let d = (c as char).to_digit(radix)?;
        n = n
            .checked_mul(i128::from(radix))?
            .checked_add(i128::from(d))?;
    }
    Some(if neg { -n } else { n })
}

/// Python's `int(text)`.
fn py_int(s: &[u8]) -> Option<i128> {
    py_int_radix(s, 10)
}

/// Python's `float(text)` for the usual decimal forms.
fn py_float(s: &[u8]) -> Option<f64> {
    let t = std::str::from_utf8(trim(s)).ok()?;
    if t.contains('_') {
        return t.replace('_', "").parse().ok();
    }
    t.parse().ok()
}

/// A pax record at `pos`: `(\d+) ([^=]+)=`; returns the length and the
/// keyword's span.
fn match_record(buf: &[u8], pos: usize) -> Option<(usize, usize, usize)> {
    let rest = buf.get(pos..)?;
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || rest.get(digits) != Some(&b' ') {
        return None;
    }
    let kw_start = pos + digits + 1;
    let kw_len = buf[kw_start..].iter().take_while(|&&c| c != b'=').count();
    if kw_len == 0 || kw_start + kw_len >= buf.len() {
        return None;
    }
    let length: usize = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    Some((length, kw_start, kw_start + kw_len))
}

fn set(records: &mut Vec<(Vec<u8>, Vec<u8>)>, k: Vec<u8>, v: Vec<u8>) {
    match records.iter_mut().find(|(key, _)| *key == k) {
        Some(r) => r.1 = v,
        None => records.push((k, v)),
    }
}

fn get<'a>(records: &'a [(Vec<u8>, Vec<u8>)], k: &[u8]) -> Option<&'a [u8]> {
    records
        .iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_slice())
}

/// GNU sparse 0.0: every `GNU.sparse.<what>=N` record, in order.
fn sparse_00(buf: &[u8], what: &[u8]) -> Vec<i128> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&buf[i..], what) {
        let start = i + p + what.len();
        let digits = buf[start..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > 0 && buf.get(start + digits) == Some(&b'\n') {
            // The record must be `\d+ GNU.sparse...`: a digit run and a
            // space before the keyword.
            let before = &buf[..i + p];
            if before.ends_with(b" ")
                && before[..before.len() - 1]
                    .last()
                    .is_some_and(u8::is_ascii_digit)
            {
                if let Some(n) = py_int(&buf[start..start + digits]) {
                    out.push(n);
                }
            }
        }
        i = start;
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Python's `_apply_pax_info`.
fn apply_pax(e: &mut Entry, records: &[(Vec<u8>, Vec<u8>)]) {
    for (k, v) in records {
        match k.as_slice() {
            b"GNU.sparse.name" => e.name = v.clone(),
            b"GNU.sparse.size" | b"GNU.sparse.realsize" => {
                // Python's int() raises here; 0 keeps going.
                e.size = py_int(v).unwrap_or(0);
            }
            b"path" => {
                let mut n = v.clone();
                strip_slashes(&mut n);
                e.name = n;
            }
            b"linkpath" => e.linkname = v.clone(),
            b"uname" => e.uname = v.clone(),
            b"gname" => e.gname = v.clone(),
            b"size" => e.size = py_int(v).unwrap_or(0),
            b"uid" => e.uid = py_int(v).unwrap_or(0),
            b"gid" => e.gid = py_int(v).unwrap_or(0),
            b"mtime" => e.mtime = Mtime::Float(py_float(v).unwrap_or(0.0)),
            _ => {}
        }
    }
}

/// Parse a header block (Python's `frombuf`).
fn frombuf(buf: &[u8]) -> std::result::Result<Entry, HeaderError> {
    if buf.is_empty() {
        return Err(HeaderError::Empty);
    }
    if buf.len() != BLOCKSIZE {
        return Err(HeaderError::Truncated);
    }
    if buf.iter().all(|&c| c == 0) {
        return Err(HeaderError::Eof);
    }
    let chksum = nti(&buf[148..156]).map_err(HeaderError::Invalid)?;
    let unsigned: i128 = 256
        + buf[..148].iter().map(|&c| i128::from(c)).sum::<i128>()
        + buf[156..].iter().map(|&c| i128::from(c)).sum::<i128>();
    let signed: i128 = 256
        + buf[..148]
            .iter()
            .map(|&c| i128::from(c as i8))
            .sum::<i128>()
        + buf[156..]
            .iter()
            .map(|&c| i128::from(c as i8))
            .sum::<i128>();
    if chksum != unsigned && chksum != signed {
        return Err(HeaderError::Invalid("bad checksum"));
    }
    let inv = HeaderError::Invalid;
    let typeflag = buf[156];
    let mut e = Entry {
        name: nts(&buf[0..100]).to_vec(),
        mode: nti(&buf[100..108]).map_err(inv)?,
        uid: nti(&buf[108..116]).map_err(inv)?,
        gid: nti(&buf[116..124]).map_err(inv)?,
        size: nti(&buf[124..136]).map_err(inv)?,
        mtime: Mtime::Int(nti(&buf[136..148]).map_err(inv)?),
        typeflag,
        linkname: nts(&buf[157..257]).to_vec(),
        uname: nts(&buf[265..297]).to_vec(),
        gname: nts(&buf[297..329]).to_vec(),
        devmajor: nti(&buf[329..337]).map_err(inv)?,
        devminor: nti(&buf[337..345]).map_err(inv)?,
        sparse: None,
        offset_data: 0,
    };
    let prefix = nts(&buf[345..500]);
    if e.typeflag == 0 && e.name.ends_with(b"/") {
        e.typeflag = b'5';
    }
    if e.is_dir() {
        strip_slashes(&mut e.name);
    }
    if !prefix.is_empty() && !matches!(e.typeflag, b'L' | b'K' | b'S') {
        let mut n = prefix.to_vec();
        n.push(b'/');
        n.extend_from_slice(&e.name);
        e.name = n;
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Header, HeaderKind, TarWriter};

    fn roundtrip(headers: &[(Header, Vec<u8>)]) -> Vec<(Entry, Vec<u8>)> {
        let mut w = TarWriter::new(Vec::new());
        for (h, data) in headers {
            let mut r: &[u8] = data;
            w.append(h, Some(&mut r)).unwrap();
        }
        let tar = w.finish().unwrap();
        let mut r = TarReader::new(&tar[..], false);
        let mut out = Vec::new();
        while let Some(e) = r.next_entry().unwrap() {
            let mut data = Vec::new();
            let mut buf = [0u8; 100];
            loop {
                let n = r.read_content(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            out.push((e, data));
        }
        out
    }

    #[test]
    fn reads_what_the_writer_wrote() {
        let mut f = Header::new(vec![b'x'; 130], HeaderKind::Regular);
        f.size = 1000;
        f.mtime = 1_700_000_000;
        f.uname = b"user".to_vec();
        let mut d = Header::new(b"dir".to_vec(), HeaderKind::Directory);
        d.mode = 0o755;
        let mut l = Header::new(b"link".to_vec(), HeaderKind::Symlink);
        l.linkname = vec![b'y'; 200];
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let got = roundtrip(&[(f, data.clone()), (d, vec![]), (l, vec![])]);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0.name, vec![b'x'; 130]);
        assert_eq!(got[0].1, data);
        assert_eq!(got[0].0.mtime, Mtime::Int(1_700_000_000));
        assert_eq!(got[0].0.uname, b"user");
        assert_eq!(got[1].0.name, b"dir");
        assert_eq!(got[1].0.kind(), EntryKind::Directory);
        assert_eq!(got[2].0.linkname, vec![b'y'; 200]);
    }

    #[test]
    fn errors_like_python() {
        let mut r = TarReader::new(&b""[..], false);
        assert!(matches!(r.next_entry(), Err(TarError::Empty)));
        let garbage = vec![b'g'; 4096];
        let mut r = TarReader::new(&garbage[..], false);
        assert!(matches!(r.next_entry(), Err(TarError::InvalidHeader(_))));
        // Truncated content: the next header cannot be reached.
        let mut h = Header::new(b"f".to_vec(), HeaderKind::Regular);
        h.size = 2000;
        let mut w = TarWriter::new(Vec::new());
        let data = vec![7u8; 2000];
        w.append(&h, Some(&mut &data[..])).unwrap();
        let tar = w.finish().unwrap();
        let mut r = TarReader::new(&tar[..1000], false);
        assert!(r.next_entry().unwrap().is_some());
        assert!(matches!(r.next_entry(), Err(TarError::UnexpectedEnd)));
    }

    #[test]
    fn pax_records() {
        let buf = b"30 mtime=1700000000.123456789\n19 path=some/dir//\n";
        let mut records = Vec::new();
        let mut pos = 0;
        while let Some((len, ks, ke)) = match_record(buf, pos) {
            records.push((buf[ks..ke].to_vec(), buf[ke + 1..pos + len - 1].to_vec()));
            pos += len;
        }
        let mut e = frombuf(&{
            let mut h = Header::new(b"x".to_vec(), HeaderKind::Regular)
                .gnu_blocks()
                .unwrap();
            h.truncate(512);
            h
        })
        .ok()
        .unwrap();
        apply_pax(&mut e, &records);
        assert_eq!(e.name, b"some/dir");
        assert_eq!(e.mtime.nanoseconds(), Some(1_700_000_000_123_456_768));
    }
}
