//! POSIX ACLs on Linux, without libacl: the kernel's `system.posix_acl_*`
//! xattr values are converted to and from the exact text borg 1.4.5 stores
//! in an item's `acl_access` / `acl_default`.
//!
//! borg (`src/borg/platform/linux.pyx`, tag 1.4.5) uses libacl:
//!
//! * reading (`acl_get`, lines 245-294): `acl_extended_file_nofollow(path)`
//!   (or `acl_extended_fd(fd)`); if 0, nothing is stored. Otherwise
//!   `acl_to_text(acl_get_file(path, ACL_TYPE_ACCESS))` (or `acl_get_fd`)
//!   goes through `acl_append_numeric_ids` (or `acl_numeric_ids` with
//!   `--numeric-ids`) into `acl_access`; for directories the same is done
//!   with `ACL_TYPE_DEFAULT` into `acl_default`.
//! * writing (`acl_set`, lines 297-335): nothing for symlink items; the text
//!   goes through `acl_use_local_uid_gid` (or
//!   `posix_acl_use_stored_uid_gid` with `--numeric-ids`), then
//!   `acl_from_text` and `acl_set_file`/`acl_set_fd`. Empty texts are skipped.
//!
//! This module reimplements the libacl 2.3 pieces involved
//! (`__acl_extended_file`, `acl_get_file`, `acl_from_mode`,
//! `__acl_from_xattr`, `__acl_to_any_text`, `__acl_quote`,
//! `acl_from_text`, `__acl_unquote`, `__acl_get_uid`, `__acl_to_xattr`,
//! `acl_set_file`) and borg's converters, including borg's quirks:
//!
//! * `acl_to_text` appends `\t#effective:...` to entries the mask limits;
//!   borg's comment regex `' *#.*'` removes the comment but not the tab, so
//!   borg stores e.g. `user:nobody:rwx\t:65534`;
//! * a directory with an extended access ACL but no default ACL gets
//!   `acl_default = b""` (libacl returns an empty ACL, whose text is empty);
//! * a directory with only a default ACL gets its access ACL synthesised
//!   from the mode bits (`user::rwx\ngroup::r-x\nother::r-x`).

use std::os::fd::BorrowedFd;
use std::path::Path;

use rustix::fs::{AtFlags, FileType, StatxFlags, CWD};
use rustix::io::Errno;

use crate::error::{AclFormatError, FsMetaError, Result};
use crate::ids;
use crate::sys::Obj;

/// Name of the access ACL xattr.
pub const ACL_EA_ACCESS: &[u8] = b"system.posix_acl_access";
/// Name of the default ACL xattr (directories only).
pub const ACL_EA_DEFAULT: &[u8] = b"system.posix_acl_default";
/// `ACL_EA_VERSION` of the xattr header.
pub const ACL_EA_VERSION: u32 = 2;
/// `ACL_UNDEFINED_ID`: the id of entries without qualifier.
pub const ACL_UNDEFINED_ID: u32 = u32::MAX;

/// `ACL_READ`.
pub const ACL_READ: u16 = 4;
/// `ACL_WRITE`.
pub const ACL_WRITE: u16 = 2;
/// `ACL_EXECUTE`.
pub const ACL_EXECUTE: u16 = 1;

/// Size of an xattr with the three base entries: `__acl_extended_file`'s
/// `base_size`.
const BASE_SIZE: usize = 4 + 3 * 8;

/// The tag of an ACL entry; the discriminants are the kernel's values and
/// also the canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u16)]
pub enum AclTag {
    /// `ACL_USER_OBJ` (`user::`), the owner.
    UserObj = 0x01,
    /// `ACL_USER` (`user:name:`).
    User = 0x02,
    /// `ACL_GROUP_OBJ` (`group::`), the owning group.
    GroupObj = 0x04,
    /// `ACL_GROUP` (`group:name:`).
    Group = 0x08,
    /// `ACL_MASK` (`mask::`).
    Mask = 0x10,
    /// `ACL_OTHER` (`other::`).
    Other = 0x20,
}

impl AclTag {
    fn from_raw(raw: u16) -> Option<Self> {
        Some(match raw {
            0x01 => AclTag::UserObj,
            0x02 => AclTag::User,
            0x04 => AclTag::GroupObj,
            0x08 => AclTag::Group,
            0x10 => AclTag::Mask,
            0x20 => AclTag::Other,
            _ => return None,
        })
    }

    /// Whether entries with this tag carry a user or group id.
    pub fn is_named(self) -> bool {
        matches!(self, AclTag::User | AclTag::Group)
    }
}

/// One ACL entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AclEntry {
    /// The tag.
    pub tag: AclTag,
    /// Permission bits ([`ACL_READ`] | [`ACL_WRITE`] | [`ACL_EXECUTE`]).
    pub perm: u16,
    /// uid/gid for [`AclTag::User`]/[`AclTag::Group`], else
    /// [`ACL_UNDEFINED_ID`].
    pub id: u32,
}

impl AclEntry {
    fn sort_key(&self) -> (AclTag, u32) {
        (self.tag, self.id)
    }
}

/// Put entries in libacl's canonical order (tag, then id); stable, like
/// libacl's insertion in `acl_copy_entry`.
fn reorder(entries: &mut [AclEntry]) {
    entries.sort_by_key(AclEntry::sort_key);
}

/// Decode a `system.posix_acl_*` xattr value (libacl `__acl_from_xattr`):
/// little-endian `u32` version 2, then 8-byte entries `u16 tag, u16 perm,
/// u32 id`. The result is in canonical order.
pub fn acl_from_xattr(value: &[u8]) -> Result<Vec<AclEntry>, AclFormatError> {
    if value.len() < 4 {
        return Err(AclFormatError::BadXattr("shorter than the header"));
    }
    let version = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
    if version != ACL_EA_VERSION {
        return Err(AclFormatError::BadXattr("version is not 2"));
    }
    let body = value[4..].chunks_exact(8);
    if !body.remainder().is_empty() {
        return Err(AclFormatError::BadXattr("size is not header + n * 8"));
    }
    let mut entries = Vec::with_capacity(body.len());
    for e in body {
        let tag = AclTag::from_raw(u16::from_le_bytes([e[0], e[1]]))
            .ok_or(AclFormatError::BadXattr("unknown entry tag"))?;
        let perm = u16::from_le_bytes([e[2], e[3]]);
        let id = if tag.is_named() {
            u32::from_le_bytes([e[4], e[5], e[6], e[7]])
        } else {
            ACL_UNDEFINED_ID
        };
        entries.push(AclEntry { tag, perm, id });
    }
    reorder(&mut entries);
    Ok(entries)
}

/// Encode entries as a `system.posix_acl_*` xattr value (libacl
/// `__acl_to_xattr`), in the order given.
pub fn acl_to_xattr(entries: &[AclEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 8 * entries.len());
    out.extend_from_slice(&ACL_EA_VERSION.to_le_bytes());
    for e in entries {
        out.extend_from_slice(&(e.tag as u16).to_le_bytes());
        out.extend_from_slice(&e.perm.to_le_bytes());
        let id = if e.tag.is_named() {
            e.id
        } else {
            ACL_UNDEFINED_ID
        };
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}

/// The minimal ACL equivalent to `mode` (libacl `acl_from_mode`).
pub fn acl_from_mode(mode: u32) -> Vec<AclEntry> {
    let e = |tag, shift: u32| AclEntry {
        tag,
        perm: ((mode >> shift) & 7) as u16,
        id: ACL_UNDEFINED_ID,
    };
    vec![
        e(AclTag::UserObj, 6),
        e(AclTag::GroupObj, 3),
        e(AclTag::Other, 0),
    ]
}

fn push_perm(out: &mut Vec<u8>, perm: u16) {
    out.push(if perm & ACL_READ != 0 { b'r' } else { b'-' });
    out.push(if perm & ACL_WRITE != 0 { b'w' } else { b'-' });
    out.push(if perm & ACL_EXECUTE != 0 { b'x' } else { b'-' });
}

/// libacl `__acl_quote(str, ":, \t\n\r")`: those characters and `\` become
/// `\ooo` (three octal digits).
pub fn acl_quote(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    for &c in name {
        if b":, \t\n\r\\".contains(&c) {
            out.push(b'\\');
            out.push(b'0' + (c >> 6));
            out.push(b'0' + ((c >> 3) & 7));
            out.push(b'0' + (c & 7));
        } else {
            out.push(c);
        }
    }
    out
}

/// libacl `__acl_unquote`: `\ooo` (three octal digits) becomes that byte.
pub fn acl_unquote(s: &[u8]) -> Vec<u8> {
    let oct = |c: u8| (b'0'..=b'7').contains(&c);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 3 < s.len() && oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3]) {
            out.push(
                ((s[i + 1] - b'0') << 6)
                    .wrapping_add((s[i + 2] - b'0') << 3)
                    .wrapping_add(s[i + 3] - b'0'),
            );
            i += 4;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// libacl `acl_to_text(acl, NULL)`: entries in order, each `tag:qualifier:perms`
/// followed by `\n`; named entries show the user/group name (quoted with
/// [`acl_quote`]) or the number when the id has no name; entries limited
/// by the mask (`user:x:`, `group::`, `group:x:`) get `\t#effective:perms`.
/// An empty ACL gives an empty text.
pub fn acl_to_text(entries: &[AclEntry]) -> Vec<u8> {
    let mask = entries
        .iter()
        .find(|e| e.tag == AclTag::Mask)
        .map(|e| e.perm);
    let mut out = Vec::new();
    for e in entries {
        let (word, name): (&[u8], Option<Vec<u8>>) = match e.tag {
            AclTag::UserObj => (b"user:", None),
            AclTag::User => (b"user:", Some(name_or_number(ids::user_name(e.id), e.id))),
            AclTag::GroupObj => (b"group:", None),
            AclTag::Group => (b"group:", Some(name_or_number(ids::group_name(e.id), e.id))),
            AclTag::Mask => (b"mask:", None),
            AclTag::Other => (b"other:", None),
        };
        out.extend_from_slice(word);
        if let Some(name) = name {
            out.extend_from_slice(&name);
        }
        out.push(b':');
        push_perm(&mut out, e.perm);
        let limited = matches!(e.tag, AclTag::User | AclTag::GroupObj | AclTag::Group);
        if let (true, Some(mask)) = (limited, mask) {
            let effective = e.perm & mask;
            if effective != e.perm {
                out.extend_from_slice(b"\t#effective:");
                push_perm(&mut out, effective);
            }
        }
        out.push(b'\n');
    }
    out
}

fn name_or_number(name: Option<Vec<u8>>, id: u32) -> Vec<u8> {
    match name {
        Some(n) => acl_quote(&n),
        None => id.to_string().into_bytes(),
    }
}

/// borg's `_comment_re.sub('', text)` with `_comment_re = re.compile(' *#.*', re.M)`:
/// on each line, from the spaces right before the first `#` to the end of
/// the line (tabs before the `#` stay).
fn strip_comments(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        match line.iter().position(|&b| b == b'#') {
            Some(j) => {
                let mut k = j;
                while k > 0 && line[k - 1] == b' ' {
                    k -= 1;
                }
                out.extend_from_slice(&line[..k]);
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

fn split3(entry: &[u8]) -> Result<[&[u8]; 3], AclFormatError> {
    let f: Vec<&[u8]> = entry.split(|&b| b == b':').collect();
    match f[..] {
        [a, b, c] => Ok([a, b, c]),
        _ => Err(AclFormatError::BadEntry {
            entry: entry.to_vec(),
            reason: "not three ':'-separated fields",
        }),
    }
}

fn join(parts: &[&[u8]], sep: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.extend_from_slice(p);
    }
    out
}

/// `str(user2uid(name, name))`: the local uid of `name`, or `name` itself.
fn uid_str(name: &[u8]) -> Vec<u8> {
    match ids::uid_for(name) {
        Some(uid) => uid.to_string().into_bytes(),
        None => name.to_vec(),
    }
}

/// `str(group2gid(name, name))`.
fn gid_str(name: &[u8]) -> Vec<u8> {
    match ids::gid_for(name) {
        Some(gid) => gid.to_string().into_bytes(),
        None => name.to_vec(),
    }
}

/// borg's `acl_append_numeric_ids` (the text stored without
/// `--numeric-ids`): comments removed, empty lines dropped, entries
/// `\n`-joined; named entries `user:NAME:perm` become
/// `user:NAME:perm:UID` where UID is `user2uid(NAME)` (NAME itself when
/// unknown), same for groups. Fails where borg raises `ValueError` (an
/// entry without exactly three fields).
pub fn acl_append_numeric_ids(text: &[u8]) -> Result<Vec<u8>, AclFormatError> {
    convert_named(text, |typ, name, perm| {
        let id = if typ == b"user" {
            uid_str(name)
        } else {
            gid_str(name)
        };
        join(&[typ, name, perm, &id], b':')
    })
}

/// borg's `acl_numeric_ids` (the text stored with `--numeric-ids`): like
/// [`acl_append_numeric_ids`] but the name is replaced by the id too:
/// `user:UID:perm:UID`.
pub fn acl_numeric_ids(text: &[u8]) -> Result<Vec<u8>, AclFormatError> {
    convert_named(text, |typ, name, perm| {
        let id = if typ == b"user" {
            uid_str(name)
        } else {
            gid_str(name)
        };
        join(&[typ, &id, perm, &id], b':')
    })
}

fn convert_named(
    text: &[u8],
    named: impl Fn(&[u8], &[u8], &[u8]) -> Vec<u8>,
) -> Result<Vec<u8>, AclFormatError> {
    let text = strip_comments(text);
    let mut entries = Vec::new();
    for entry in text.split(|&b| b == b'\n').filter(|e| !e.is_empty()) {
        let [typ, name, perm] = split3(entry)?;
        if !name.is_empty() && (typ == b"user" || typ == b"group") {
            entries.push(named(typ, name, perm));
        } else {
            entries.push(entry.to_vec());
        }
    }
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    Ok(join(&refs, b'\n'))
}

/// borg's `acl_use_local_uid_gid` (restore without `--numeric-ids`): for
/// named entries the name is replaced by the local uid/gid of that name,
/// or by the stored 4th field when the name is unknown here; the 4th field
/// is dropped. Fails where borg raises `IndexError` (a `user`/`group`
/// entry with a name but without 4th field, or a bare `user`/`group`).
pub fn acl_use_local_uid_gid(text: &[u8]) -> Result<Vec<u8>, AclFormatError> {
    let mut entries = Vec::new();
    for entry in text.split(|&b| b == b'\n').filter(|e| !e.is_empty()) {
        let mut fields: Vec<Vec<u8>> = entry.split(|&b| b == b':').map(<[u8]>::to_vec).collect();
        let typ = fields[0].clone();
        if typ == b"user" || typ == b"group" {
            let name = fields.get(1).ok_or_else(|| AclFormatError::BadEntry {
                entry: entry.to_vec(),
                reason: "no qualifier field",
            })?;
            if !name.is_empty() {
                let stored = fields.get(3).ok_or_else(|| AclFormatError::BadEntry {
                    entry: entry.to_vec(),
                    reason: "named entry without stored id field",
                })?;
                let local = if typ == b"user" {
                    ids::uid_for(name)
                } else {
                    ids::gid_for(name)
                };
                fields[1] = match local {
                    Some(id) => id.to_string().into_bytes(),
                    None => stored.clone(),
                };
            }
        }
        fields.truncate(3);
        let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        entries.push(join(&refs, b':'));
    }
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    Ok(join(&refs, b'\n'))
}

/// borg's `posix_acl_use_stored_uid_gid` (restore with `--numeric-ids`):
/// entries with four fields `a:b:c:d` become `a:d:c`, others stay.
pub fn posix_acl_use_stored_uid_gid(text: &[u8]) -> Vec<u8> {
    let mut entries = Vec::new();
    for entry in text.split(|&b| b == b'\n').filter(|e| !e.is_empty()) {
        let f: Vec<&[u8]> = entry.split(|&b| b == b':').collect();
        if f.len() == 4 {
            entries.push(join(&[f[0], f[3], f[2]], b':'));
        } else {
            entries.push(entry.to_vec());
        }
    }
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    join(&refs, b'\n')
}

/// A cursor over NUL-free text, where reading past the end gives `\0` like
/// the C string libacl walks.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn cur(&self) -> u8 {
        self.at(self.pos)
    }

    /// libacl's `SKIP_WS` from `i`: blanks, then a `#` comment up to (not
    /// including) the end of line.
    fn skip_ws_from(&self, mut i: usize) -> usize {
        while matches!(self.at(i), b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        if self.at(i) == b'#' {
            while !matches!(self.at(i), b'\n' | 0) {
                i += 1;
            }
        }
        i
    }

    fn skip_ws(&mut self) {
        self.pos = self.skip_ws_from(self.pos);
    }

    /// libacl `skip_tag_name`.
    fn skip_tag_name(&mut self, token: &[u8]) -> bool {
        let mut t = self.skip_ws_from(self.pos);
        if self.s.len() >= t + token.len() && &self.s[t..t + token.len()] == token {
            t += token.len();
        } else if self.at(t) == token[0] {
            t += 1;
        } else {
            return false;
        }
        t = self.skip_ws_from(t);
        if self.at(t) == b':' {
            t += 1;
        }
        self.pos = t;
        true
    }

    /// libacl `get_token`: `None` when nothing precedes the delimiter. The
    /// token starts where the cursor was (blanks skipped by `SKIP_WS` stay
    /// in it) and ends before `\0 \r \n : ,`; a `:` after it is skipped.
    fn get_token(&mut self) -> Option<Vec<u8>> {
        let start = self.pos;
        let mut ep = self.skip_ws_from(start);
        while !matches!(self.at(ep), 0 | b'\r' | b'\n' | b':' | b',') {
            ep += 1;
        }
        let token = (ep != start).then(|| self.s[start..ep].to_vec());
        if self.at(ep) == b':' {
            ep += 1;
        }
        self.pos = ep;
        token
    }
}

/// C `strtol(token, &ep, 0)` followed by libacl `get_id`'s checks: the
/// whole token must be a number (decimal, `0x` hex or `0` octal, optional
/// blanks and sign before it); negative numbers are taken modulo 2^16
/// ("-2" is 65534).
fn get_id(token: &[u8]) -> Option<u32> {
    let mut i = 0;
    while matches!(
        token.get(i),
        Some(b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    ) {
        i += 1;
    }
    let mut neg = false;
    if let Some(&c @ (b'+' | b'-')) = token.get(i) {
        neg = c == b'-';
        i += 1;
    }
    let hexdigit = |c: Option<&u8>| c.is_some_and(u8::is_ascii_hexdigit);
    let (base, start) = if token.get(i) == Some(&b'0')
        && matches!(token.get(i + 1), Some(b'x' | b'X'))
        && hexdigit(token.get(i + 2))
    {
        (16u32, i + 2)
    } else if token.get(i) == Some(&b'0') {
        (8, i)
    } else {
        (10, i)
    };
    let mut j = start;
    let mut value: u64 = 0;
    let mut overflow = false;
    while let Some(d) = token.get(j).and_then(|&c| (c as char).to_digit(base)) {
        value = match value
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => v,
            None => {
                overflow = true;
                u64::MAX
            }
        };
        j += 1;
    }
    if j == start || j != token.len() {
        // no digits (strtol sets ep to the token start) or trailing junk
        return None;
    }
    // strtol clamps to LONG_MIN/LONG_MAX on overflow
    let l: i64 = if neg {
        if overflow || value > i64::MAX as u64 + 1 {
            i64::MIN
        } else {
            (value as i128).wrapping_neg() as i64
        }
    } else if overflow || value > i64::MAX as u64 {
        i64::MAX
    } else {
        value as i64
    };
    let l = if l < 0 { l & 0xFFFF } else { l };
    // `*id_p = l` stores the long into a 32-bit id_t
    Some(l as u32)
}

/// libacl `acl_from_text`: parse ACL text (entries separated by blanks,
/// newlines or commas, `#` comments, tags `user`/`u`, `group`/`g`,
/// `mask`/`m`, `other`/`o`, qualifiers as numbers or names looked up
/// here, `\ooo` unquoted) into entries in canonical order. Does not
/// validate the ACL (the kernel does when it is set).
pub fn acl_from_text(text: &[u8]) -> Result<Vec<AclEntry>, AclFormatError> {
    // acl_from_text sees a C string: it ends at the first NUL.
    let text = match text.iter().position(|&b| b == 0) {
        Some(n) => &text[..n],
        None => text,
    };
    let mut c = Cursor { s: text, pos: 0 };
    let mut entries: Vec<AclEntry> = Vec::new();
    let fail = |c: &Cursor<'_>| AclFormatError::BadText {
        text: text.to_vec(),
        offset: c.pos,
    };
    while c.cur() != 0 {
        let entry = parse_entry(&mut c).ok_or_else(|| fail(&c))?;
        // insert after equal entries, before the first greater one
        let at = entries.partition_point(|e| e.sort_key() <= entry.sort_key());
        entries.insert(at, entry);
        c.skip_ws();
        if c.cur() == b',' {
            c.pos += 1;
            c.skip_ws();
        }
    }
    Ok(entries)
}

/// libacl `parse_acl_entry`.
fn parse_entry(c: &mut Cursor<'_>) -> Option<AclEntry> {
    c.skip_ws();
    let (tag, id) = match c.cur() {
        b'u' | b'g' => {
            let user = c.cur() == b'u';
            if !c.skip_tag_name(if user { b"user" } else { b"group" }) {
                return None;
            }
            let backup = c.pos;
            match c.get_token() {
                Some(tok) => {
                    let tok = acl_unquote(&tok);
                    let id = get_id(&tok).or_else(|| {
                        if user {
                            ids::uid_for(&tok)
                        } else {
                            ids::gid_for(&tok)
                        }
                    });
                    match id {
                        Some(id) => (if user { AclTag::User } else { AclTag::Group }, id),
                        None => {
                            c.pos = backup;
                            return None;
                        }
                    }
                }
                None => (
                    if user {
                        AclTag::UserObj
                    } else {
                        AclTag::GroupObj
                    },
                    ACL_UNDEFINED_ID,
                ),
            }
        }
        b'm' | b'o' => {
            let mask = c.cur() == b'm';
            if !c.skip_tag_name(if mask { b"mask" } else { b"other" }) {
                return None;
            }
            c.skip_ws();
            if c.cur() == b':' {
                c.pos += 1;
            }
            (
                if mask { AclTag::Mask } else { AclTag::Other },
                ACL_UNDEFINED_ID,
            )
        }
        _ => return None,
    };
    let mut perm = 0u16;
    for n in 0..3 {
        let bit = match c.cur() {
            b'r' => ACL_READ,
            b'w' => ACL_WRITE,
            b'x' => ACL_EXECUTE,
            b'-' => 0,
            _ if n == 0 => return None,
            _ => break,
        };
        if perm & bit != 0 {
            return None;
        }
        perm |= bit;
        c.pos += 1;
    }
    Some(AclEntry { tag, perm, id })
}

/// The ACL texts borg stores for one object (`acl_access`, `acl_default`).
/// `None` means the key is absent from the item; `Some(b"")` is a present,
/// empty value (borg stores that as `acl_default` for directories with an
/// extended access ACL but no default ACL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acls {
    /// `acl_access`.
    pub access: Option<Vec<u8>>,
    /// `acl_default` (directories only).
    pub default: Option<Vec<u8>>,
}

impl Acls {
    /// Neither key is present.
    pub fn is_empty(&self) -> bool {
        self.access.is_none() && self.default.is_none()
    }
}

/// libacl `acl_extended_file_nofollow` / `acl_extended_fd`: the access ACL
/// xattr is bigger than the three base entries, or a default ACL of at
/// least three entries exists.
fn acl_extended(obj: Obj<'_>) -> Result<bool, Errno> {
    let size = |name| match obj.get_size(name) {
        Ok(n) => Ok(n),
        Err(Errno::NODATA) => Ok(0),
        Err(e) => Err(e),
    };
    if size(ACL_EA_ACCESS)? > BASE_SIZE {
        return Ok(true);
    }
    Ok(size(ACL_EA_DEFAULT)? >= BASE_SIZE)
}

fn stat_mode(obj: Obj<'_>) -> Result<u32, Errno> {
    let st = match obj {
        Obj::Fd(fd) => rustix::fs::fstat(fd)?,
        Obj::Follow(p) | Obj::NoFollow(p) => rustix::fs::stat(p)?,
    };
    Ok(st.st_mode)
}

/// libacl `acl_get_file` (path, following symlinks) / `acl_get_fd`: the
/// xattr, or when there is none, the ACL of the mode bits (access) or an
/// empty ACL (default, directories only; `EACCES` for others).
fn acl_get(obj: Obj<'_>, name: &[u8], path: &Path) -> Result<Vec<AclEntry>> {
    let op = if name == ACL_EA_ACCESS {
        "acl_get_file(ACL_TYPE_ACCESS)"
    } else {
        "acl_get_file(ACL_TYPE_DEFAULT)"
    };
    match obj.get(name) {
        Ok(v) if !v.is_empty() => acl_from_xattr(&v).map_err(|e| FsMetaError::acl(path, e)),
        Ok(_) | Err(Errno::NODATA) => {
            let mode = stat_mode(obj).map_err(|e| FsMetaError::io(op, path, e))?;
            if name == ACL_EA_ACCESS {
                Ok(acl_from_mode(mode))
            } else if FileType::from_raw_mode(mode) == FileType::Directory {
                Ok(Vec::new())
            } else {
                Err(FsMetaError::io(op, path, Errno::ACCESS))
            }
        }
        Err(e) => Err(FsMetaError::io(op, path, e)),
    }
}

fn convert(text: &[u8], numeric_ids: bool, path: &Path) -> Result<Vec<u8>> {
    if numeric_ids {
        acl_numeric_ids(text)
    } else {
        acl_append_numeric_ids(text)
    }
    .map_err(|e| FsMetaError::acl(path, e))
}

fn is_notsup(e: &FsMetaError) -> bool {
    e.errno() == Some(Errno::NOTSUP.raw_os_error())
}

/// The ACL keys borg 1.4.5 stores for `path` (`acl_get(path, item, st,
/// numeric_ids)` as called by `MetadataCollector.stat_ext_attrs`).
///
/// * Nothing when the object has no extended ACL (see module docs), and for
///   symlinks (the kernel answers `EOPNOTSUPP`).
/// * `ENOTSUP` anywhere ends reading without error, keeping what was read
///   so far, as `stat_ext_attrs` ignores that errno after `acl_get` may
///   already have stored `acl_access`.
/// * `is_dir` is `S_ISDIR(st.st_mode)` of the caller's stat: only then is
///   `acl_default` read.
pub fn read_acls(path: &Path, is_dir: bool, numeric_ids: bool) -> Result<Acls> {
    read_acls_impl(None, path, is_dir, numeric_ids)
}

/// [`read_acls`] for an object borg has open (`acl_get(..., fd=fd)`): the
/// access ACL comes from `fd`, the default ACL from `path` (there is no fd
/// API for it).
pub fn read_acls_fd(
    fd: BorrowedFd<'_>,
    path: &Path,
    is_dir: bool,
    numeric_ids: bool,
) -> Result<Acls> {
    read_acls_impl(Some(fd), path, is_dir, numeric_ids)
}

fn read_acls_impl(
    fd: Option<BorrowedFd<'_>>,
    path: &Path,
    is_dir: bool,
    numeric_ids: bool,
) -> Result<Acls> {
    let mut acls = Acls::default();
    let (check, get) = match fd {
        Some(fd) => (Obj::Fd(fd), Obj::Fd(fd)),
        None => (Obj::NoFollow(path), Obj::Follow(path)),
    };
    match acl_extended(check) {
        Ok(true) => {}
        Ok(false) | Err(Errno::NOTSUP) => return Ok(acls),
        Err(e) => {
            let op = if fd.is_some() {
                "acl_extended_fd"
            } else {
                "acl_extended_file_nofollow"
            };
            return Err(FsMetaError::io(op, path, e));
        }
    }
    let step = |obj, name| -> Result<Vec<u8>> {
        let entries = acl_get(obj, name, path)?;
        convert(&acl_to_text(&entries), numeric_ids, path)
    };
    match step(get, ACL_EA_ACCESS) {
        Ok(t) => acls.access = Some(t),
        Err(e) if is_notsup(&e) => return Ok(acls),
        Err(e) => return Err(e),
    }
    if is_dir {
        match step(Obj::Follow(path), ACL_EA_DEFAULT) {
            Ok(t) => acls.default = Some(t),
            Err(e) if is_notsup(&e) => return Ok(acls),
            Err(e) => return Err(e),
        }
    }
    Ok(acls)
}

/// The text given to `acl_from_text` when borg restores `stored` (borg's
/// `acl_set` converter step).
pub fn restore_text(stored: &[u8], numeric_ids: bool) -> Result<Vec<u8>, AclFormatError> {
    if numeric_ids {
        Ok(posix_acl_use_stored_uid_gid(stored))
    } else {
        acl_use_local_uid_gid(stored)
    }
}

/// The xattr value borg's `acl_set` would write for `stored`:
/// [`restore_text`], [`acl_from_text`], [`acl_to_xattr`].
pub fn restore_xattr(stored: &[u8], numeric_ids: bool) -> Result<Vec<u8>, AclFormatError> {
    let text = restore_text(stored, numeric_ids)?;
    Ok(acl_to_xattr(&acl_from_text(&text)?))
}

/// Restore ACLs like borg's `acl_set(path, item, numeric_ids)`.
///
/// Callers must not call this for symlink items: borg's `acl_set` returns
/// at once when `S_ISLNK(item.mode)` (Linux has no ACLs on symlinks). Empty
/// or absent texts are skipped. The access ACL is set with `setxattr`
/// (following symlinks, like `acl_set_file`), the default ACL likewise
/// after checking with `stat` that the object is a directory (`EACCES`
/// otherwise). The kernel validates the ACL (`EINVAL`) and adjusts the
/// mode bits. `ENOTSUP` ends without error (`restore_attrs` ignores it), any
/// other failure is returned.
pub fn write_acls(path: &Path, acls: &Acls, numeric_ids: bool) -> Result<()> {
    set_acls(
        None,
        path,
        acls.access.as_deref(),
        acls.default.as_deref(),
        numeric_ids,
    )
}

/// [`write_acls`] for an open file (`acl_set(..., fd=fd)`): the access ACL
/// is set on `fd`, the default ACL on `path`.
pub fn write_acls_fd(
    fd: BorrowedFd<'_>,
    path: &Path,
    acls: &Acls,
    numeric_ids: bool,
) -> Result<()> {
    set_acls(
        Some(fd),
        path,
        acls.access.as_deref(),
        acls.default.as_deref(),
        numeric_ids,
    )
}

pub(crate) fn set_acls(
    fd: Option<BorrowedFd<'_>>,
    path: &Path,
    access: Option<&[u8]>,
    default: Option<&[u8]>,
    numeric_ids: bool,
) -> Result<()> {
    let r = (|| {
        if let Some(text) = access.filter(|t| !t.is_empty()) {
            let value = restore_xattr(text, numeric_ids).map_err(|e| FsMetaError::acl(path, e))?;
            let obj = fd.map_or(Obj::Follow(path), Obj::Fd);
            obj.set(ACL_EA_ACCESS, &value)
                .map_err(|e| FsMetaError::io("acl_set_file(ACL_TYPE_ACCESS)", path, e))?;
        }
        if let Some(text) = default.filter(|t| !t.is_empty()) {
            let value = restore_xattr(text, numeric_ids).map_err(|e| FsMetaError::acl(path, e))?;
            let op = "acl_set_file(ACL_TYPE_DEFAULT)";
            let st = rustix::fs::statx(CWD, path, AtFlags::empty(), StatxFlags::TYPE)
                .map_err(|e| FsMetaError::io(op, path, e))?;
            if FileType::from_raw_mode(u32::from(st.stx_mode)) != FileType::Directory {
                return Err(FsMetaError::io(op, path, Errno::ACCESS));
            }
            Obj::Follow(path)
                .set(ACL_EA_DEFAULT, &value)
                .map_err(|e| FsMetaError::io(op, path, e))?;
        }
        Ok(())
    })();
    match r {
        Err(e) if is_notsup(&e) => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(tag: AclTag, perm: u16, id: u32) -> AclEntry {
        AclEntry { tag, perm, id }
    }

    #[test]
    fn xattr_roundtrip_and_errors() {
        let entries = vec![
            e(AclTag::UserObj, 6, ACL_UNDEFINED_ID),
            e(AclTag::User, 7, 65534),
            e(AclTag::GroupObj, 4, ACL_UNDEFINED_ID),
            e(AclTag::Mask, 4, ACL_UNDEFINED_ID),
            e(AclTag::Other, 0, ACL_UNDEFINED_ID),
        ];
        let x = acl_to_xattr(&entries);
        assert_eq!(x.len(), 4 + 5 * 8);
        assert_eq!(&x[..4], &[2, 0, 0, 0]);
        assert_eq!(&x[4..12], &[1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(&x[12..20], &[2, 0, 7, 0, 0xfe, 0xff, 0, 0]);
        assert_eq!(acl_from_xattr(&x).unwrap(), entries);
        assert!(acl_from_xattr(&x[..3]).is_err());
        assert!(acl_from_xattr(&x[..10]).is_err());
        let mut bad = x.clone();
        bad[0] = 1;
        assert!(acl_from_xattr(&bad).is_err());
        let mut bad = x;
        bad[4] = 0x40;
        assert!(acl_from_xattr(&bad).is_err());
        assert_eq!(acl_from_xattr(&[2, 0, 0, 0]).unwrap(), vec![]);
    }

    #[test]
    fn text_rendering() {
        let entries = vec![
            e(AclTag::UserObj, 6, ACL_UNDEFINED_ID),
            e(AclTag::User, 7, 0),
            e(AclTag::User, 6, 4_000_000_001),
            e(AclTag::GroupObj, 5, ACL_UNDEFINED_ID),
            e(AclTag::Group, 4, 0),
            e(AclTag::Mask, 4, ACL_UNDEFINED_ID),
            e(AclTag::Other, 7, ACL_UNDEFINED_ID),
        ];
        let text = acl_to_text(&entries);
        assert_eq!(
            text,
            b"user::rw-\nuser:root:rwx\t#effective:r--\nuser:4000000001:rw-\t#effective:r--\n\
              group::r-x\t#effective:r--\ngroup:root:r--\nmask::r--\nother::rwx\n"
        );
        assert_eq!(
            acl_append_numeric_ids(&text).unwrap(),
            b"user::rw-\nuser:root:rwx\t:0\nuser:4000000001:rw-\t:4000000001\n\
              group::r-x\t\ngroup:root:r--:0\nmask::r--\nother::rwx"
        );
        assert_eq!(
            acl_numeric_ids(&text).unwrap(),
            b"user::rw-\nuser:0:rwx\t:0\nuser:4000000001:rw-\t:4000000001\n\
              group::r-x\t\ngroup:0:r--:0\nmask::r--\nother::rwx"
        );
        assert_eq!(acl_to_text(&[]), b"");
        assert_eq!(acl_append_numeric_ids(b"").unwrap(), b"");
        assert!(acl_append_numeric_ids(b"user:a:b:c").is_err());
    }

    #[test]
    fn comments() {
        assert_eq!(strip_comments(b"a  #x\nb\t#y\n#z\nc"), b"a\nb\t\n\nc");
        assert_eq!(strip_comments(b"a # b # c"), b"a");
    }

    #[test]
    fn quoting() {
        assert_eq!(acl_quote(b"a:b c\\"), b"a\\072b\\040c\\134");
        assert_eq!(acl_unquote(b"a\\072b\\040c\\134"), b"a:b c\\");
        assert_eq!(acl_unquote(b"a\\08x\\7"), b"a\\08x\\7");
    }

    #[test]
    fn strtol_like() {
        assert_eq!(get_id(b"65534"), Some(65534));
        assert_eq!(get_id(b" 12"), Some(12));
        assert_eq!(get_id(b"0x10"), Some(16));
        assert_eq!(get_id(b"010"), Some(8));
        assert_eq!(get_id(b"0"), Some(0));
        assert_eq!(get_id(b"-2"), Some(65534));
        assert_eq!(get_id(b"+7"), Some(7));
        assert_eq!(get_id(b"08"), None);
        assert_eq!(get_id(b"0x"), None);
        assert_eq!(get_id(b"12 "), None);
        assert_eq!(get_id(b"root"), None);
        assert_eq!(get_id(b""), None);
        assert_eq!(get_id(b"4294967296"), Some(0));
        assert_eq!(get_id(b"99999999999999999999999"), Some(u32::MAX));
    }

    #[test]
    fn parse_text() {
        let p = |t: &[u8]| acl_from_text(t);
        let v = p(b"user::rw-\nuser:65534:rwx\t\ngroup::r--\nmask::r--\nother::r--").unwrap();
        assert_eq!(
            v,
            vec![
                e(AclTag::UserObj, 6, ACL_UNDEFINED_ID),
                e(AclTag::User, 7, 65534),
                e(AclTag::GroupObj, 4, ACL_UNDEFINED_ID),
                e(AclTag::Mask, 4, ACL_UNDEFINED_ID),
                e(AclTag::Other, 4, ACL_UNDEFINED_ID),
            ]
        );
        // abbreviations, commas, order fixed, names, comments
        let v = p(b"o::r, g:root:x, u::rwx # hi\n m:rw,u:0:r").unwrap();
        assert_eq!(
            v,
            vec![
                e(AclTag::UserObj, 7, ACL_UNDEFINED_ID),
                e(AclTag::User, 4, 0),
                e(AclTag::Group, 1, 0),
                e(AclTag::Mask, 6, ACL_UNDEFINED_ID),
                e(AclTag::Other, 4, ACL_UNDEFINED_ID),
            ]
        );
        assert!(p(b"user::rwq").is_err());
        assert!(p(b"user::rr").is_err());
        assert!(p(b"user::").is_err());
        assert!(p(b"bogus::rwx").is_err());
        assert!(p(b"user:no-such-user-oxiborg:rwx").is_err());
        assert_eq!(p(b"").unwrap(), vec![]);
    }

    #[test]
    fn restore_converters() {
        let stored = b"user::rw-\nuser:root:rwx\t:4242\nuser:no-such-user-oxiborg:r--:77\ngroup::r--\nmask::rwx\nother::r--";
        assert_eq!(
            acl_use_local_uid_gid(stored).unwrap(),
            b"user::rw-\nuser:0:rwx\t\nuser:77:r--\ngroup::r--\nmask::rwx\nother::r--"
        );
        assert_eq!(
            posix_acl_use_stored_uid_gid(stored),
            b"user::rw-\nuser:4242:rwx\t\nuser:77:r--\ngroup::r--\nmask::rwx\nother::r--"
        );
        assert!(acl_use_local_uid_gid(b"user:root:rwx").is_err());
        assert!(acl_use_local_uid_gid(b"user").is_err());
        assert_eq!(acl_use_local_uid_gid(b"mask").unwrap(), b"mask");
    }
}
