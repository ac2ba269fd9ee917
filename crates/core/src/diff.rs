//! borg 1.4.5's archive comparison (`Archive.compare_archives_iter` and
//! `ItemDiff` in `item.pyx`), rendered by the CLI's `diff`.
//!
//! Items are paired by path the way borg pairs them: both item streams are
//! walked side by side; an item whose partner has not been seen yet waits
//! as an orphan; what stays unpaired is added (archive 2) or removed
//! (archive 1). Hardlink slaves (borg 1.x: `source` set, no chunks) are
//! compared through their master; a pair whose master was not seen yet is
//! deferred to the end.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use oxiborg_crypto::Key;
use oxiborg_format::{Item, ItemStreamReader};
use oxiborg_repository::Repository;

use crate::archives::{get_many, open_object};
use crate::error::Result;

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
const S_IFREG: u32 = 0o100000;
const S_IFBLK: u32 = 0o060000;
const S_IFCHR: u32 = 0o020000;
const S_IFIFO: u32 = 0o010000;

/// One side of a comparison: an archived item, or borg's
/// `Item.create_deleted(path)` (`deleted=True, chunks=[], mode=0`).
#[derive(Debug, Clone)]
pub enum Side {
    /// Nothing at this path in that archive.
    Deleted,
    /// The archived item.
    Item(Box<Item>),
}

impl Side {
    fn item(&self) -> Option<&Item> {
        match self {
            Side::Deleted => None,
            Side::Item(i) => Some(i),
        }
    }

    fn deleted(&self) -> bool {
        matches!(self, Side::Deleted)
    }

    /// `item.mode` (0 for a deleted item, as borg's `create_deleted`).
    pub fn mode(&self) -> u32 {
        self.item().and_then(|i| i.mode).unwrap_or(0)
    }

    fn is_type(&self, t: u32) -> bool {
        self.item()
            .and_then(|i| i.mode)
            .is_some_and(|m| m & S_IFMT == t)
    }

    fn source(&self) -> Option<&[u8]> {
        self.item().and_then(|i| i.source.as_deref())
    }

    /// `'chunks' in item` with its value (a deleted item has `[]`).
    fn chunks(&self) -> Option<&[oxiborg_format::ChunkListEntry]> {
        match self {
            Side::Deleted => Some(&[]),
            Side::Item(i) => i.chunks.as_deref(),
        }
    }

    /// borg's `item.get_size()` without hardlink masters: the stored
    /// `size`, else a symlink's target length, else the chunk sizes.
    pub fn size(&self) -> u64 {
        match self {
            Side::Deleted => 0,
            Side::Item(i) => {
                if let Some(s) = i.size {
                    s
                } else if self.is_type(S_IFLNK) {
                    i.source.as_ref().map_or(0, |s| s.len() as u64)
                } else {
                    i.chunks.iter().flatten().map(|c| c.size).sum()
                }
            }
        }
    }

    /// The item's `user` name (`None` when absent or stored as nil).
    pub fn user(&self) -> Option<&[u8]> {
        self.item()
            .and_then(|i| i.user.as_ref())
            .and_then(|u| u.as_deref())
    }

    /// The item's `group` name (`None` when absent or stored as nil).
    pub fn group(&self) -> Option<&[u8]> {
        self.item()
            .and_then(|i| i.group.as_ref())
            .and_then(|g| g.as_deref())
    }

    /// `uid` (`None` when absent).
    pub fn uid(&self) -> Option<i64> {
        self.item().and_then(|i| i.uid)
    }

    /// `gid` (`None` when absent).
    pub fn gid(&self) -> Option<i64> {
        self.item().and_then(|i| i.gid)
    }

    /// `mtime` in ns (`None` for a deleted item).
    pub fn mtime(&self) -> Option<i128> {
        self.item().map(|i| i.mtime)
    }

    /// `ctime` in ns (`None` when absent).
    pub fn ctime(&self) -> Option<i128> {
        self.item().and_then(|i| i.ctime)
    }

    fn hardlinkable(&self) -> bool {
        [S_IFREG, S_IFBLK, S_IFCHR, S_IFIFO]
            .iter()
            .any(|t| self.is_type(*t))
    }
}

/// One change of an item, in borg's order (`ItemDiff.changes()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `added directory`, `removed link`, ... (`_presence_diff`):
    /// whether it was added, and the item kind (`directory`, `link`,
    /// `blkdev`, `chrdev`, `fifo`).
    Presence {
        /// Added (else removed).
        added: bool,
        /// The kind word.
        kind: &'static str,
    },
    /// A symlink's target changed.
    ChangedLink,
    /// A file with content appeared (`added`), with its size.
    Added(u64),
    /// A file with content went away (`removed`), with its size.
    Removed(u64),
    /// The content changed: bytes in chunks only archive 2 has and bytes
    /// in chunks only archive 1 has, when chunk ids can be compared.
    Modified(Option<(u64, u64)>),
    /// User or group name changed: (old user, old group, new user, new group).
    Owner(
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    ),
    /// The mode changed: old, new.
    Mode(u32, u32),
    /// `ctime` or `mtime` changed: the attribute name, old and new ns.
    Time(&'static str, i128, i128),
}

impl Change {
    /// Whether borg's `actual_change` counts it (a `modified` with
    /// nothing added or removed does not).
    pub fn actual(&self) -> bool {
        !matches!(self, Change::Modified(Some((0, 0))))
    }
}

/// borg's `ItemDiff`: both sides (after hardlink-master substitution),
/// whether they are equal, and the changes.
#[derive(Debug, Clone)]
pub struct ItemDiff {
    /// The item in archive 1 (or deleted).
    pub item1: Side,
    /// The item in archive 2 (or deleted).
    pub item2: Side,
    /// borg's `ItemDiff.equal`.
    pub equal: bool,
    /// The changes, in borg's order.
    pub changes: Vec<Change>,
}

/// Options of a comparison.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    /// Chunk ids are comparable (same chunker params, or
    /// `--same-chunker-params`); otherwise contents are compared by bytes.
    pub can_compare_chunk_ids: bool,
    /// `--content-only`.
    pub content_only: bool,
}

/// Reads chunk contents for byte comparisons.
struct Chunks<'a> {
    repo: &'a mut dyn Repository,
    key: &'a Key,
}

impl Chunks<'_> {
    fn get(&mut self, id: &[u8; 32]) -> Result<Vec<u8>> {
        let env = get_many(self.repo, std::slice::from_ref(id))?
            .pop()
            .unwrap_or_default();
        open_object(self.key, id, &env)
    }

    /// borg's `chunks_contents_equal`: the concatenated contents.
    fn contents_equal(
        &mut self,
        a: &[oxiborg_format::ChunkListEntry],
        b: &[oxiborg_format::ChunkListEntry],
    ) -> Result<bool> {
        let (mut ia, mut ib) = (0, 0);
        let (mut da, mut db): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
        let (mut pa, mut pb) = (0, 0);
        loop {
            if pa == da.len() {
                if ia == a.len() {
                    // a is exhausted: equal when b has nothing left either.
                    while pb == db.len() && ib < b.len() {
                        db = self.get(&b[ib].id)?;
                        ib += 1;
                        pb = 0;
                    }
                    return Ok(pb == db.len());
                }
                da = self.get(&a[ia].id)?;
                ia += 1;
                pa = 0;
                continue;
            }
            if pb == db.len() {
                if ib == b.len() {
                    return Ok(false);
                }
                db = self.get(&b[ib].id)?;
                ib += 1;
                pb = 0;
                continue;
            }
            let n = (da.len() - pa).min(db.len() - pb);
            if da[pa..pa + n] != db[pb..pb + n] {
                return Ok(false);
            }
            pa += n;
            pb += n;
        }
    }
}

fn equal(i1: &Side, i2: &Side, opts: &DiffOptions, chunks: &mut Chunks<'_>) -> Result<bool> {
    if i1.deleted() && i2.deleted() {
        return Ok(true);
    }
    if i1.deleted() != i2.deleted() || i1.source() != i2.source() {
        return Ok(false);
    }
    if !opts.content_only
        && (i1.mode() != i2.mode()
            || i1.ctime() != i2.ctime()
            || i1.mtime() != i2.mtime()
            || i1.user() != i2.user()
            || i1.group() != i2.group())
    {
        return Ok(false);
    }
    if let (Some(c1), Some(c2)) = (i1.chunks(), i2.chunks()) {
        if opts.can_compare_chunk_ids {
            return Ok(c1 == c2);
        }
        if i1.size() != i2.size() {
            return Ok(false);
        }
        return chunks.contents_equal(c1, c2);
    }
    Ok(true)
}

fn presence(i1: &Side, i2: &Side, kind: &'static str) -> Option<Change> {
    match (i1.deleted(), i2.deleted()) {
        (false, true) => Some(Change::Presence { added: false, kind }),
        (true, false) => Some(Change::Presence { added: true, kind }),
        _ => None,
    }
}

fn size_of(chunks: &[oxiborg_format::ChunkListEntry], ids: &BTreeSet<[u8; 32]>) -> u64 {
    chunks
        .iter()
        .filter(|c| ids.contains(&c.id))
        .map(|c| c.size)
        .sum()
}

fn item_diff(i1: Side, i2: Side, opts: &DiffOptions, chunks: &mut Chunks<'_>) -> Result<ItemDiff> {
    let equal = equal(&i1, &i2, opts, chunks)?;
    let mut changes = Vec::new();
    if i1.is_type(S_IFLNK) || i2.is_type(S_IFLNK) {
        if let Some(p) = presence(&i1, &i2, "link") {
            changes.push(p);
        } else if let (Some(s1), Some(s2)) = (i1.source(), i2.source()) {
            if s1 != s2 {
                changes.push(Change::ChangedLink);
            }
        }
    }
    if let (Some(c1), Some(c2)) = (i1.chunks(), i2.chunks()) {
        changes.push(if i1.deleted() {
            Change::Added(i2.size())
        } else if i2.deleted() {
            Change::Removed(i1.size())
        } else if !opts.can_compare_chunk_ids {
            Change::Modified(None)
        } else {
            let ids1: BTreeSet<[u8; 32]> = c1.iter().map(|c| c.id).collect();
            let ids2: BTreeSet<[u8; 32]> = c2.iter().map(|c| c.id).collect();
            let added: BTreeSet<[u8; 32]> = ids2.difference(&ids1).copied().collect();
            let removed: BTreeSet<[u8; 32]> = ids1.difference(&ids2).copied().collect();
            Change::Modified(Some((size_of(c2, &added), size_of(c1, &removed))))
        });
    }
    for (t, kind) in [
        (S_IFDIR, "directory"),
        (S_IFBLK, "blkdev"),
        (S_IFCHR, "chrdev"),
        (S_IFIFO, "fifo"),
    ] {
        if i1.is_type(t) || i2.is_type(t) {
            changes.extend(presence(&i1, &i2, kind));
        }
    }
    if !(i1.deleted() || i2.deleted() || opts.content_only) {
        let owner1 = (i1.user(), i1.group());
        let owner2 = (i2.user(), i2.group());
        if owner1 != owner2 {
            let v = |x: Option<&[u8]>| x.map(<[u8]>::to_vec);
            changes.push(Change::Owner(
                v(owner1.0),
                v(owner1.1),
                v(owner2.0),
                v(owner2.1),
            ));
        }
        // Both items have a mode here (borg: `'mode' in item`).
        let has_mode = |s: &Side| s.item().is_some_and(|i| i.mode.is_some());
        if has_mode(&i1) && has_mode(&i2) && i1.mode() != i2.mode() {
            changes.push(Change::Mode(i1.mode(), i2.mode()));
        }
        if let (Some(c1), Some(c2)) = (i1.ctime(), i2.ctime()) {
            if c1 != c2 {
                changes.push(Change::Time("ctime", c1, c2));
            }
        }
        if let (Some(m1), Some(m2)) = (i1.mtime(), i2.mtime()) {
            if m1 != m2 {
                changes.push(Change::Time("mtime", m1, m2));
            }
        }
    }
    Ok(ItemDiff {
        item1: i1,
        item2: i2,
        equal,
        changes,
    })
}

/// Read the items of one archive that `keep` accepts (borg's
/// `iter_items(filter)`, part items excluded as without
/// `--consider-part-files`).
pub fn diff_items(
    repo: &mut dyn Repository,
    key: &Key,
    archive: &oxiborg_format::ArchiveItem,
    keep: &mut dyn FnMut(&Item) -> bool,
) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    let mut reader = ItemStreamReader::new();
    for batch in archive.items.chunks(32) {
        let envelopes = get_many(repo, batch)?;
        for (id, env) in batch.iter().zip(envelopes) {
            reader.feed(&open_object(key, id, &env)?);
            while let Some(item) = reader.next_item()? {
                if item.part.is_none() && keep(&item) {
                    out.push(item);
                }
            }
        }
    }
    reader.finish()?;
    Ok(out)
}

struct Pairing<'a, 'b> {
    masters: HashMap<Vec<u8>, (Side, Side)>,
    deferred: Vec<(Side, Side)>,
    opts: DiffOptions,
    chunks: Chunks<'a>,
    out: &'b mut dyn FnMut(Vec<u8>, ItemDiff) -> Result<()>,
}

fn is_master(s: &Side) -> bool {
    s.item()
        .is_some_and(|i| i.hardlink_master.unwrap_or(true) && i.source.is_none())
        && s.hardlinkable()
}

impl Pairing<'_, '_> {
    fn master_seen(&self, s: &Side) -> bool {
        match s.source() {
            None => true,
            Some(src) => !s.hardlinkable() || self.masters.contains_key(src),
        }
    }

    fn update_masters(&mut self, path: &[u8], i1: &Side, i2: &Side) {
        if is_master(i1) || is_master(i2) {
            self.masters.insert(path.to_vec(), (i1.clone(), i2.clone()));
        }
    }

    fn compare(&mut self, path: Vec<u8>, i1: Side, i2: Side) -> Result<()> {
        let sub = |s: Side, first: bool, masters: &HashMap<Vec<u8>, (Side, Side)>| -> Side {
            if s.hardlinkable() {
                if let Some(m) = s.source().and_then(|src| masters.get(src)) {
                    return if first { m.0.clone() } else { m.1.clone() };
                }
            }
            s
        };
        let i1 = sub(i1, true, &self.masters);
        let i2 = sub(i2, false, &self.masters);
        let d = item_diff(i1, i2, &self.opts, &mut self.chunks)?;
        (self.out)(path, d)
    }

    /// borg's `defer_if_necessary`, then the comparison if not deferred.
    fn pair(&mut self, path: Vec<u8>, i1: Side, i2: Side) -> Result<()> {
        self.update_masters(&path, &i1, &i2);
        if !self.master_seen(&i1) || !self.master_seen(&i2) {
            self.deferred.push((i1, i2));
            return Ok(());
        }
        self.compare(path, i1, i2)
    }
}

/// Compare two archives' item lists (borg's `compare_archives_iter`):
/// `out` gets every path with its [`ItemDiff`] (equal ones included) in
/// borg's order; `warn` gets borg's warnings about hardlink slaves whose
/// master is missing.
#[allow(clippy::too_many_arguments)]
pub fn compare_archives(
    repo: &mut dyn Repository,
    key: &Key,
    items1: Vec<Item>,
    items2: Vec<Item>,
    opts: DiffOptions,
    warn: &mut dyn FnMut(String),
    out: &mut dyn FnMut(Vec<u8>, ItemDiff) -> Result<()>,
) -> Result<()> {
    let mut p = Pairing {
        masters: HashMap::new(),
        deferred: Vec::new(),
        opts,
        chunks: Chunks { repo, key },
        out,
    };
    // Orphans in arrival order (borg's OrderedDict), looked up by path.
    let mut orphans1: BTreeMap<Vec<u8>, (usize, Item)> = BTreeMap::new();
    let mut orphans2: BTreeMap<Vec<u8>, (usize, Item)> = BTreeMap::new();
    let mut seq = 0usize;
    let mut it1 = items1.into_iter();
    let mut it2 = items2.into_iter();
    loop {
        let (a, b) = (it1.next(), it2.next());
        if a.is_none() && b.is_none() {
            break;
        }
        if let (Some(x), Some(y)) = (&a, &b) {
            if x.path == y.path {
                let path = x.path.clone();
                p.pair(
                    path,
                    Side::Item(Box::new(a.expect("a"))),
                    Side::Item(Box::new(b.expect("b"))),
                )?;
                continue;
            }
        }
        if let Some(x) = a {
            match orphans2.remove(&x.path) {
                Some((_, y)) => {
                    let path = x.path.clone();
                    p.pair(path, Side::Item(Box::new(x)), Side::Item(Box::new(y)))?;
                }
                None => {
                    seq += 1;
                    // A path seen twice in one archive replaces the first
                    // (dict assignment keeps the first position).
                    let pos = orphans1.get(&x.path).map_or(seq, |(s, _)| *s);
                    orphans1.insert(x.path.clone(), (pos, x));
                }
            }
        }
        if let Some(y) = b {
            match orphans1.remove(&y.path) {
                Some((_, x)) => {
                    let path = x.path.clone();
                    p.pair(path, Side::Item(Box::new(x)), Side::Item(Box::new(y)))?;
                }
                None => {
                    seq += 1;
                    let pos = orphans2.get(&y.path).map_or(seq, |(s, _)| *s);
                    orphans2.insert(y.path.clone(), (pos, y));
                }
            }
        }
    }
    let ordered = |m: BTreeMap<Vec<u8>, (usize, Item)>| {
        let mut v: Vec<(usize, Item)> = m.into_values().collect();
        v.sort_by_key(|(s, _)| *s);
        v.into_iter().map(|(_, i)| i)
    };
    for added in ordered(orphans2) {
        let path = added.path.clone();
        let (d, a) = (Side::Deleted, Side::Item(Box::new(added)));
        p.update_masters(&path, &d, &a);
        p.compare(path, d, a)?;
    }
    for removed in ordered(orphans1) {
        let path = removed.path.clone();
        let (r, d) = (Side::Item(Box::new(removed)), Side::Deleted);
        p.update_masters(&path, &r, &d);
        p.compare(path, r, d)?;
    }
    for (i1, i2) in std::mem::take(&mut p.deferred) {
        let (f1, f2) = (p.master_seen(&i1), p.master_seen(&i2));
        let path = i1
            .item()
            .or(i2.item())
            .map(|i| i.path.clone())
            .unwrap_or_default();
        if f1 && f2 {
            p.compare(path, i1, i2)?;
        } else {
            for (found, s) in [(f1, &i1), (f2, &i2)] {
                if !found {
                    warn(format!(
                        "cannot find hardlink source for {} ({}), skipping compare.",
                        String::from_utf8_lossy(&path),
                        String::from_utf8_lossy(s.source().unwrap_or_default())
                    ));
                }
            }
        }
    }
    Ok(())
}
