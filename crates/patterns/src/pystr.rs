//! Python `str` emulation: borg handles paths as `str` decoded from the
//! file-system bytes with UTF-8 and the `surrogateescape` error handler.
//!
//! A Python character is a code point (`u32` here, because lone surrogates
//! are not Rust `char`s). Every byte sequence maps one-to-one onto such a
//! string: valid UTF-8 sequences become their scalar value, every other byte
//! `b` (always `>= 0x80`) becomes the lone surrogate `U+DC00 + b`.

/// First code point of the surrogate-escape range (`U+DC80` = byte `0x80`).
pub(crate) const ESCAPE_LO: u32 = 0xDC80;
/// Last code point of the surrogate-escape range (`U+DCFF` = byte `0xFF`).
pub(crate) const ESCAPE_HI: u32 = 0xDCFF;

/// `os.fsdecode`: bytes to code points with `surrogateescape`.
pub(crate) fn decode(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.extend(chunk.valid().chars().map(u32::from));
        out.extend(chunk.invalid().iter().map(|&b| 0xDC00 + u32::from(b)));
    }
    out
}

/// Code points of a Rust string.
pub(crate) fn from_str(s: &str) -> Vec<u32> {
    s.chars().map(u32::from).collect()
}

/// `os.fsencode`: the inverse of [`decode`].
///
/// Surrogates outside the escape range cannot be produced by [`decode`] nor
/// by [`from_str`]; should one appear anyway it is written as its generalized
/// (WTF-8 style) three-byte form so that nothing is lost silently.
pub(crate) fn encode(s: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        push_encoded(&mut out, c);
    }
    out
}

fn push_encoded(out: &mut Vec<u8>, c: u32) {
    if (ESCAPE_LO..=ESCAPE_HI).contains(&c) {
        out.push((c - 0xDC00) as u8);
    } else if let Some(ch) = char::from_u32(c) {
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    } else {
        // A lone surrogate other than an escape (unreachable in practice).
        out.push(0xE0 | ((c >> 12) & 0x0F) as u8);
        out.push(0x80 | ((c >> 6) & 0x3F) as u8);
        out.push(0x80 | (c & 0x3F) as u8);
    }
}

/// A lossy, human-readable rendering (escapes become U+FFFD).
pub(crate) fn to_display(s: &[u32]) -> String {
    String::from_utf8_lossy(&encode(s)).into_owned()
}

/// Python's `str.isspace()` for one character.
///
/// This is the Unicode `White_Space` set plus the ASCII information
/// separators U+001C..U+001F, which CPython also counts as whitespace.
pub(crate) fn is_space(c: u32) -> bool {
    (0x1C..=0x1F).contains(&c) || char::from_u32(c).is_some_and(char::is_whitespace)
}

/// Python's `str.lstrip()` (no argument).
pub(crate) fn lstrip(s: &[u32]) -> &[u32] {
    let start = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    &s[start..]
}

/// Python's `str.rstrip()` (no argument).
pub(crate) fn rstrip(s: &[u32]) -> &[u32] {
    let end = s.iter().rposition(|&c| !is_space(c)).map_or(0, |i| i + 1);
    &s[..end]
}

/// `str.lstrip(ch)` / `str.rstrip(ch)` for a single ASCII byte, on bytes.
pub(crate) fn lstrip_byte(s: &[u8], ch: u8) -> &[u8] {
    let start = s.iter().position(|&c| c != ch).unwrap_or(s.len());
    &s[start..]
}

/// See [`lstrip_byte`].
pub(crate) fn rstrip_byte(s: &[u8], ch: u8) -> &[u8] {
    let end = s.iter().rposition(|&c| c != ch).map_or(0, |i| i + 1);
    &s[..end]
}

/// Python's `str.isalnum()` for one character.
///
/// CPython: `isalpha()` (general categories `L*`) or `isdecimal()`,
/// `isdigit()`, `isnumeric()` (in practice `N*`, plus a few CJK ideographs
/// with numeric values, which are `Lo` anyway). Surrogates are never alnum.
pub(crate) fn is_alnum(c: u32) -> bool {
    let Some(ch) = char::from_u32(c) else {
        return false;
    };
    if ch.is_ascii() {
        return ch.is_ascii_alphanumeric();
    }
    let mut buf = [0u8; 4];
    alnum_regex()
        .is_match(ch.encode_utf8(&mut buf))
        .unwrap_or(false)
}

fn alnum_regex() -> &'static fancy_regex::Regex {
    static RE: std::sync::OnceLock<fancy_regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| fancy_regex::Regex::new(r"\A[\p{L}\p{N}]\z").expect("static regex is valid"))
}

/// `posixpath.normpath` on bytes (CPython 3.11 semantics, including the
/// POSIX rule that exactly two leading slashes are kept).
pub fn normpath(path: &[u8]) -> Vec<u8> {
    if path.is_empty() {
        return b".".to_vec();
    }
    let initial_slashes = if path.starts_with(b"/") {
        if path.starts_with(b"//") && !path.starts_with(b"///") {
            2
        } else {
            1
        }
    } else {
        0
    };
    let mut comps: Vec<&[u8]> = Vec::new();
    for comp in path.split(|&b| b == b'/') {
        if comp.is_empty() || comp == b"." {
            continue;
        }
        if comp != b".."
            || (initial_slashes == 0 && comps.is_empty())
            || comps.last().is_some_and(|last| *last == b"..")
        {
            comps.push(comp);
        } else if !comps.is_empty() {
            comps.pop();
        }
    }
    let mut out = vec![b'/'; initial_slashes];
    for (i, comp) in comps.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(comp);
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_roundtrip() {
        let cases: &[&[u8]] = &[
            b"",
            b"abc",
            "h\u{e9}llo".as_bytes(),
            b"\xff\xfe",
            b"a\xe2\x82b",
            b"\xed\xa0\x80", // encoded surrogate: invalid in UTF-8
            b"\xc0\xaf",     // overlong
            "\u{10ffff}".as_bytes(),
        ];
        for c in cases {
            assert_eq!(encode(&decode(c)), *c);
        }
        assert_eq!(decode(b"a\xffb"), vec![0x61, 0xDCFF, 0x62]);
        assert_eq!(decode(b"\xe2\x82/"), vec![0xDCE2, 0xDC82, 0x2F]);
        assert_eq!(decode("\u{e9}".as_bytes()), vec![0xE9]);
    }

    #[test]
    fn whitespace() {
        assert!(is_space(0x1C));
        assert!(is_space(0x3000));
        assert!(is_space(0x85));
        assert!(!is_space(0xFEFF));
        assert!(!is_space(0x200B));
        assert_eq!(lstrip(&from_str(" \t x ")), from_str("x "));
        assert_eq!(rstrip(&from_str(" \t x \u{3000}")), from_str(" \t x"));
    }

    #[test]
    fn alnum() {
        assert!(is_alnum('a' as u32));
        assert!(is_alnum('\u{e9}' as u32));
        assert!(is_alnum('\u{b2}' as u32)); // superscript two: isdigit
        assert!(is_alnum('\u{4e00}' as u32));
        assert!(!is_alnum('_' as u32));
        assert!(!is_alnum(0x0301)); // combining acute accent
        assert!(!is_alnum(0xDCFF));
    }

    #[test]
    fn normpath_cases() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b"."),
            (b"/", b"/"),
            (b"//", b"//"),
            (b"///", b"/"),
            (b"//a//b/", b"//a/b"),
            (b"a/./b/../c", b"a/c"),
            (b"../a", b"../a"),
            (b"/../a", b"/a"),
            (b"a/../..", b".."),
            (b"./", b"."),
            (b"a/", b"a"),
            (b"..//../x", b"../../x"),
        ];
        for (i, o) in cases {
            assert_eq!(normpath(i), *o, "{:?}", String::from_utf8_lossy(i));
        }
    }
}
