//! Segment files: `BORG_SEG`, then entries `crc32 | size | tag | [id | data]`,
//! all little-endian, exactly as borg 1.x writes them.

use std::io::Write;

use crate::error::{Id, RepositoryError, Result};
use crate::store::{Store, StoreFile};

/// The magic at the start of every segment.
pub const MAGIC: &[u8; 8] = b"BORG_SEG";
/// The magic of un-upgraded Attic repositories.
pub const ATTIC_MAGIC: &[u8; 8] = b"ATTICSEG";
/// Largest entry, header included.
pub const MAX_OBJECT_SIZE: usize = 20 * 1024 * 1024;
/// Largest PUT payload.
pub const MAX_DATA_SIZE: usize = MAX_OBJECT_SIZE - PUT_HEADER_SIZE;
/// Header of PUT and DELETE entries: crc, size, tag, id.
pub const PUT_HEADER_SIZE: usize = 41;
/// Header of a COMMIT entry: crc, size, tag.
pub const HEADER_SIZE: usize = 9;
/// Highest tag value borg reserves.
pub const MAX_TAG_ID: u8 = 15;

/// Entry tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Tag {
    /// Store an object.
    Put = 0,
    /// Delete an object.
    Delete = 1,
    /// End of a transaction.
    Commit = 2,
}

impl Tag {
    fn from_u8(b: u8) -> Option<Tag> {
        match b {
            0 => Some(Tag::Put),
            1 => Some(Tag::Delete),
            2 => Some(Tag::Commit),
            _ => None,
        }
    }
}

/// The 9 bytes of every COMMIT entry.
pub const COMMIT_ENTRY: [u8; 9] = [0x40, 0xf4, 0x3c, 0x25, 0x09, 0x00, 0x00, 0x00, 0x02];

/// The store name of segment `n`: `data/<n / per_dir>/<n>`.
pub fn segment_name(n: u32, per_dir: u32) -> String {
    format!("data/{}/{}", n / per_dir, n)
}

/// Encode the header of a PUT (with `data_len` payload bytes) or DELETE
/// entry, computing the CRC over header and payload.
pub fn entry_header(tag: Tag, id: &Id, data: &[u8]) -> [u8; PUT_HEADER_SIZE] {
    let size = (PUT_HEADER_SIZE + data.len()) as u32;
    let mut h = [0u8; PUT_HEADER_SIZE];
    h[4..8].copy_from_slice(&size.to_le_bytes());
    h[8] = tag as u8;
    h[9..41].copy_from_slice(id);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&h[4..]);
    crc.update(data);
    h[0..4].copy_from_slice(&crc.finalize().to_le_bytes());
    h
}

/// One entry read from a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The tag.
    pub tag: Tag,
    /// The object id (all zeros for COMMIT).
    pub id: Id,
    /// Offset of the entry in its segment.
    pub offset: u64,
    /// Total entry size, header included.
    pub size: u32,
    /// The PUT payload, when read.
    pub data: Option<Vec<u8>>,
}

fn integrity(segment: u32, offset: u64, reason: impl Into<String>) -> RepositoryError {
    RepositoryError::Integrity {
        segment,
        offset,
        reason: reason.into(),
    }
}

/// Parse and verify all entries of a whole segment file held in memory.
/// `with_data` keeps PUT payloads. Verification includes every CRC.
pub fn parse_segment(bytes: &[u8], segment: u32, with_data: bool) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for_each_entry(bytes, segment, |e| {
        out.push(Entry {
            data: if with_data {
                e.data.map(<[u8]>::to_vec)
            } else {
                None
            },
            ..e.header()
        });
        Ok(())
    })?;
    Ok(out)
}

/// A borrowed view of an entry during iteration.
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    /// The tag.
    pub tag: Tag,
    /// The id (zeros for COMMIT).
    pub id: Id,
    /// Offset in the segment.
    pub offset: u64,
    /// Total size.
    pub size: u32,
    /// The PUT payload.
    pub data: Option<&'a [u8]>,
}

impl EntryRef<'_> {
    fn header(&self) -> Entry {
        Entry {
            tag: self.tag,
            id: self.id,
            offset: self.offset,
            size: self.size,
            data: None,
        }
    }
}

/// Walk every entry of an in-memory segment, verifying magic, sizes, tags
/// and CRCs. Stops at the first damaged entry with an integrity error.
pub fn for_each_entry<'a>(
    bytes: &'a [u8],
    segment: u32,
    mut f: impl FnMut(EntryRef<'a>) -> Result<()>,
) -> Result<()> {
    if bytes.len() < MAGIC.len() || &bytes[..8] != MAGIC {
        return Err(integrity(segment, 0, "Invalid segment magic"));
    }
    let mut pos = 8usize;
    while pos < bytes.len() {
        let off = pos as u64;
        if bytes.len() - pos < HEADER_SIZE {
            return Err(integrity(
                segment,
                off,
                "Invalid segment entry header [truncated]",
            ));
        }
        let crc = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap_or_default());
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap_or_default());
        let tag_byte = bytes[pos + 8];
        let size_us = size as usize;
        if size_us > MAX_OBJECT_SIZE {
            return Err(integrity(
                segment,
                off,
                format!("Invalid segment entry size {size} - too big"),
            ));
        }
        if size_us < HEADER_SIZE {
            return Err(integrity(
                segment,
                off,
                format!("Invalid segment entry size {size} - too small"),
            ));
        }
        if size_us > bytes.len() - pos {
            return Err(integrity(segment, off, "Segment entry data short read"));
        }
        let tag = Tag::from_u8(tag_byte).ok_or_else(|| {
            integrity(
                segment,
                off,
                format!("Invalid segment entry tag {tag_byte}"),
            )
        })?;
        let body = &bytes[pos + 4..pos + size_us];
        if crc32fast::hash(body) != crc {
            return Err(integrity(segment, off, "Segment entry checksum mismatch"));
        }
        let (id, data) = match tag {
            Tag::Commit => ([0u8; 32], None),
            Tag::Put | Tag::Delete => {
                if size_us < PUT_HEADER_SIZE {
                    return Err(integrity(
                        segment,
                        off,
                        format!("Invalid segment entry size {size} - too small"),
                    ));
                }
                let id: Id = bytes[pos + 9..pos + 41].try_into().unwrap_or_default();
                (
                    id,
                    (tag == Tag::Put).then(|| &bytes[pos + 41..pos + size_us]),
                )
            }
        };
        if tag == Tag::Delete && size_us != PUT_HEADER_SIZE {
            return Err(integrity(segment, off, "Invalid DELETE entry size"));
        }
        if tag == Tag::Commit && size_us != HEADER_SIZE {
            return Err(integrity(segment, off, "Invalid COMMIT entry size"));
        }
        f(EntryRef {
            tag,
            id,
            offset: off,
            size,
            data,
        })?;
        pos += size_us;
    }
    Ok(())
}

/// borg's `is_committed_segment`: magic ok, ends with a COMMIT entry, fully
/// valid, and nothing but COMMITs after its first COMMIT.
pub fn is_committed(bytes: &[u8]) -> bool {
    if bytes.len() < 17 || bytes[bytes.len() - 9..] != COMMIT_ENTRY {
        return false;
    }
    let mut seen_commit = false;
    let ok = for_each_entry(bytes, 0, |e| {
        if e.tag == Tag::Commit {
            seen_commit = true;
        } else if seen_commit {
            return Err(integrity(0, e.offset, "entry after commit"));
        }
        Ok(())
    });
    ok.is_ok() && seen_commit
}

/// borg's `recover_segment`: keep every entry that looks valid (size in
/// range, tag <= 15, CRC good), scanning byte by byte past damage.
pub fn recover(bytes: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    if bytes.len() < 17 {
        return out;
    }
    let mut pos = 0usize;
    while pos + HEADER_SIZE <= bytes.len() {
        let crc = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap_or_default());
        let size =
            u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap_or_default()) as usize;
        let tag = bytes[pos + 8];
        if (HEADER_SIZE..=MAX_OBJECT_SIZE).contains(&size)
            && tag <= MAX_TAG_ID
            && size <= bytes.len() - pos
            && crc32fast::hash(&bytes[pos + 4..pos + size]) == crc
        {
            out.extend_from_slice(&bytes[pos..pos + size]);
            pos += size;
        } else {
            pos += 1;
        }
    }
    out
}

/// Appends to segments with borg's rules: a new segment when the current one
/// is over `max_segment_size` or when asked; each COMMIT in a fresh segment;
/// closing a segment syncs it and its directory.
pub struct SegmentWriter {
    per_dir: u32,
    max_size: u64,
    /// The segment the next new file gets.
    next: u32,
    current: Option<(u32, Box<dyn StoreFile>, u64)>,
}

impl std::fmt::Debug for SegmentWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentWriter")
            .field("next", &self.next)
            .field("current", &self.current.as_ref().map(|(n, _, o)| (n, o)))
            .finish()
    }
}

impl SegmentWriter {
    /// A writer whose first new segment is `next`.
    pub fn new(per_dir: u32, max_size: u64, next: u32) -> Self {
        SegmentWriter {
            per_dir,
            max_size,
            next,
            current: None,
        }
    }

    /// The segment currently open for writing.
    pub fn current_segment(&self) -> Option<u32> {
        self.current.as_ref().map(|(n, _, _)| *n)
    }

    /// The number the next new segment gets.
    pub fn next_segment(&self) -> u32 {
        self.next
    }

    /// Close the open segment: fdatasync it, then fsync its directory.
    pub fn close(&mut self, store: &dyn Store) -> Result<()> {
        if let Some((n, mut f, _)) = self.current.take() {
            let name = segment_name(n, self.per_dir);
            f.flush()
                .and_then(|()| f.sync_data())
                .map_err(|e| RepositoryError::io(store.path_of(&name), e))?;
            drop(f);
            store.sync_dir(&format!("data/{}", n / self.per_dir))?;
        }
        Ok(())
    }

    fn writer(
        &mut self,
        store: &dyn Store,
        want_new: bool,
    ) -> Result<&mut (u32, Box<dyn StoreFile>, u64)> {
        let full = self
            .current
            .as_ref()
            .is_some_and(|(_, _, off)| *off > self.max_size);
        if want_new || full {
            self.close(store)?;
        }
        if self.current.is_none() {
            let n = self.next;
            let dir = format!("data/{}", n / self.per_dir);
            if n.is_multiple_of(self.per_dir) || store.size(&dir)?.is_none() {
                store.mkdir(&dir)?;
                store.sync_dir("data")?;
            }
            let name = segment_name(n, self.per_dir);
            let mut f = store.create_new(&name)?;
            f.write_all(MAGIC)
                .map_err(|e| RepositoryError::io(store.path_of(&name), e))?;
            self.next = n.checked_add(1).ok_or_else(|| {
                RepositoryError::IntegrityOther("segment numbers exhausted".into())
            })?;
            self.current = Some((n, f, MAGIC.len() as u64));
        }
        // Just set above when it was None.
        self.current
            .as_mut()
            .ok_or(RepositoryError::NoActiveTransaction)
    }

    fn append(&mut self, store: &dyn Store, want_new: bool, parts: &[&[u8]]) -> Result<(u32, u64)> {
        let per_dir = self.per_dir;
        let (n, f, off) = self.writer(store, want_new)?;
        let at = *off;
        for p in parts {
            f.write_all(p)
                .map_err(|e| RepositoryError::io(store.path_of(&segment_name(*n, per_dir)), e))?;
            *off += p.len() as u64;
        }
        Ok((*n, at))
    }

    /// Append a PUT; the manifest id always starts a new segment.
    pub fn write_put(&mut self, store: &dyn Store, id: &Id, data: &[u8]) -> Result<(u32, u64)> {
        if data.len() > MAX_DATA_SIZE {
            return Err(RepositoryError::IntegrityOther(format!(
                "More than allowed put data [{} > {MAX_DATA_SIZE}]",
                data.len()
            )));
        }
        let h = entry_header(Tag::Put, id, data);
        self.append(store, *id == [0u8; 32], &[&h, data])
    }

    /// Append a DELETE; the manifest id always starts a new segment.
    pub fn write_delete(&mut self, store: &dyn Store, id: &Id) -> Result<(u32, u64)> {
        let h = entry_header(Tag::Delete, id, &[]);
        self.append(store, *id == [0u8; 32], &[&h])
    }

    /// Write a COMMIT. A final commit goes into a brand-new segment that is
    /// synced and closed at once; an intermediate one (compaction) is
    /// appended to the open segment, which is then closed.
    pub fn write_commit(&mut self, store: &dyn Store, intermediate: bool) -> Result<u32> {
        if !intermediate {
            self.close(store)?;
        }
        let (n, _) = self.append(store, false, &[&COMMIT_ENTRY])?;
        self.close(store)?;
        Ok(n)
    }

    /// Make the open segment's data readable and durable before reading from
    /// it (borg syncs the write segment before a `get` from it).
    pub fn flush_if_current(&mut self, store: &dyn Store, segment: u32) -> Result<()> {
        if let Some((n, f, _)) = self.current.as_mut() {
            if *n == segment {
                let name = segment_name(*n, self.per_dir);
                f.flush()
                    .and_then(|()| f.sync_data())
                    .map_err(|e| RepositoryError::io(store.path_of(&name), e))?;
            }
        }
        Ok(())
    }

    /// Whether writing an entry for `id` now would close the open segment
    /// and start a new one (it is over the size limit, or `id` is the
    /// manifest's, which always gets a fresh segment).
    pub fn would_roll(&self, id: &Id) -> bool {
        self.current
            .as_ref()
            .is_some_and(|(_, _, off)| *off > self.max_size || *id == [0u8; 32])
    }

    /// Forget the open segment without syncing (used after a failure).
    pub fn abandon(&mut self) {
        self.current = None;
    }
}

/// Read the PUT of `id` at (`segment`, `offset`), verifying size, CRC, tag
/// and id, as borg's `LoggedIO.read`.
pub fn read_put(
    store: &dyn Store,
    per_dir: u32,
    segment: u32,
    offset: u64,
    id: &Id,
) -> Result<Vec<u8>> {
    let name = segment_name(segment, per_dir);
    let mut header = [0u8; PUT_HEADER_SIZE];
    let got = store.read_at(&name, offset, &mut header)?;
    if got < PUT_HEADER_SIZE {
        return Err(integrity(
            segment,
            offset,
            "Invalid segment entry header [short read]",
        ));
    }
    let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if size > MAX_OBJECT_SIZE {
        return Err(integrity(
            segment,
            offset,
            format!("Invalid segment entry size {size} - too big"),
        ));
    }
    if size < PUT_HEADER_SIZE {
        return Err(integrity(
            segment,
            offset,
            format!("Invalid segment entry size {size} - too small"),
        ));
    }
    let mut data = vec![0u8; size - PUT_HEADER_SIZE];
    let got = store.read_at(&name, offset + PUT_HEADER_SIZE as u64, &mut data)?;
    if got < data.len() {
        return Err(integrity(segment, offset, "Segment entry data short read"));
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[4..]);
    crc.update(&data);
    if crc.finalize() != u32::from_le_bytes([header[0], header[1], header[2], header[3]]) {
        return Err(integrity(
            segment,
            offset,
            "Segment entry checksum mismatch",
        ));
    }
    if header[8] != Tag::Put as u8 {
        return Err(integrity(
            segment,
            offset,
            format!("Invalid segment entry tag {} (expected PUT)", header[8]),
        ));
    }
    if &header[9..41] != id {
        return Err(integrity(
            segment,
            offset,
            "Invalid segment entry header [key mismatch]",
        ));
    }
    Ok(data)
}

/// Read the size of the entry at (`segment`, `offset`) without its data.
pub fn entry_size(store: &dyn Store, per_dir: u32, segment: u32, offset: u64) -> Result<u32> {
    let mut h = [0u8; 8];
    if store.read_at(&segment_name(segment, per_dir), offset, &mut h)? < 8 {
        return Err(integrity(
            segment,
            offset,
            "Invalid segment entry header [short read]",
        ));
    }
    Ok(u32::from_le_bytes([h[4], h[5], h[6], h[7]]))
}

/// All segment numbers present, ascending, with their store names.
pub fn list_segments(store: &dyn Store) -> Result<Vec<(u32, String)>> {
    let mut out = Vec::new();
    for dir in store.list("data")? {
        if dir.is_empty() || !dir.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        for f in store.list(&format!("data/{dir}"))? {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Ok(n) = f.parse::<u32>() {
                out.push((n, format!("data/{dir}/{f}")));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_entry_is_borgs() {
        let mut e = vec![0u8; 9];
        e[4] = 9;
        e[8] = 2;
        let crc = crc32fast::hash(&e[4..]);
        e[..4].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(e, COMMIT_ENTRY);
        assert_eq!(crc, 0x253cf440);
    }

    #[test]
    fn manifest_delete_entry_matches_spec() {
        let h = entry_header(Tag::Delete, &[0u8; 32], &[]);
        assert_eq!(&h[..9], &[0x8c, 0xec, 0x0d, 0x8a, 0x29, 0, 0, 0, 1]);
    }

    #[test]
    fn parse_and_recover() {
        let mut seg = MAGIC.to_vec();
        let id = [7u8; 32];
        seg.extend_from_slice(&entry_header(Tag::Put, &id, b"hello"));
        seg.extend_from_slice(b"hello");
        seg.extend_from_slice(&entry_header(Tag::Delete, &id, &[]));
        seg.extend_from_slice(&COMMIT_ENTRY);
        let entries = parse_segment(&seg, 3, true).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].data.as_deref(), Some(&b"hello"[..]));
        assert_eq!(entries[1].offset, 8 + 46);
        assert!(is_committed(&seg));
        // Flip a byte in the PUT payload: parse fails naming the offset, recovery drops the PUT.
        let mut bad = seg.clone();
        bad[8 + 43] ^= 1;
        let e = parse_segment(&bad, 3, false).unwrap_err().to_string();
        assert!(e.contains("[segment 3, offset 8]"), "{e}");
        assert!(!is_committed(&bad) || bad.ends_with(&COMMIT_ENTRY));
        let rec = recover(&bad);
        let entries = parse_segment(&rec, 3, false).unwrap();
        assert_eq!(
            entries.iter().map(|e| e.tag).collect::<Vec<_>>(),
            vec![Tag::Delete, Tag::Commit]
        );
    }

    #[test]
    fn hostile_segments_do_not_panic() {
        for len in 0..64 {
            let mut seg = MAGIC.to_vec();
            seg.extend((0..len).map(|i| (i * 37 % 251) as u8));
            let _ = parse_segment(&seg, 0, true);
            let _ = is_committed(&seg);
            let _ = recover(&seg);
        }
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0]);
        assert!(parse_segment(&huge, 0, true).is_err());
    }
}
