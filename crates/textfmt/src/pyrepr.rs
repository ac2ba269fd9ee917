//! Python's `repr()`, `ascii()` and `str()` of the modelled values, and the
//! Unicode character properties the format machinery needs.

use crate::unicode_tables::{DECIMAL_ZEROS, NON_PRINTABLE};
use crate::value::{DateStyle, FieldValue};

/// The address shown where Python's repr contains `id(obj)`; real borg
/// shows the object's actual address.
pub(crate) const FAKE_ADDRESS: &str = "0x7f0000000000";

/// `Py_UNICODE_TODECIMAL`: the decimal digit value of `c`, if any.
pub(crate) fn decimal_value(c: char) -> Option<u32> {
    let cp = c as u32;
    if c.is_ascii_digit() {
        return Some(cp - '0' as u32);
    }
    if cp < 0x80 {
        return None;
    }
    let i = DECIMAL_ZEROS.partition_point(|&z| z <= cp);
    if i == 0 {
        return None;
    }
    let zero = DECIMAL_ZEROS[i - 1];
    (cp - zero < 10).then_some(cp - zero)
}

/// `Py_UNICODE_ISPRINTABLE` for a code point (surrogates included).
pub(crate) fn is_printable(cp: u32) -> bool {
    let i = NON_PRINTABLE.partition_point(|&(lo, _)| lo <= cp);
    if i == 0 {
        return true;
    }
    let (lo, hi) = NON_PRINTABLE[i - 1];
    !(lo <= cp && cp <= hi)
}

/// The code points of a surrogate-escaped byte string: valid UTF-8
/// sequences give their characters, every other byte `b` gives the lone
/// surrogate `0xDC00 + b` (Python's `bytes.decode('utf-8', 'surrogateescape')`).
pub(crate) fn surrogateescape_decode(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.extend(chunk.valid().chars().map(|c| c as u32));
        out.extend(chunk.invalid().iter().map(|&b| 0xDC00 + u32::from(b)));
    }
    out
}

/// How a string with lone surrogates is printed by borg (stdout uses
/// `errors='replace'`): every surrogate becomes `?`.
pub(crate) fn codepoints_to_output(cps: &[u32]) -> String {
    cps.iter()
        .map(|&cp| char::from_u32(cp).unwrap_or('?'))
        .collect()
}

/// What borg prints for a surrogate-escaped byte string.
pub(crate) fn bytes_to_output(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for _ in chunk.invalid() {
            out.push('?');
        }
    }
    out
}

fn repr_codepoints(cps: &[u32], ascii: bool) -> String {
    let has_single = cps.contains(&('\'' as u32));
    let has_double = cps.contains(&('"' as u32));
    let quote = if has_single && !has_double { '"' } else { '\'' };
    let mut s = String::with_capacity(cps.len() + 2);
    s.push(quote);
    for &cp in cps {
        match cp {
            _ if cp == quote as u32 || cp == '\\' as u32 => {
                s.push('\\');
                s.push(char::from_u32(cp).unwrap_or('?'));
            }
            0x09 => s.push_str("\\t"),
            0x0a => s.push_str("\\n"),
            0x0d => s.push_str("\\r"),
            _ if cp < 0x20 || cp == 0x7f => s.push_str(&format!("\\x{cp:02x}")),
            _ if cp < 0x7f => s.push(char::from_u32(cp).unwrap_or('?')),
            _ if !ascii && is_printable(cp) => match char::from_u32(cp) {
                Some(c) => s.push(c),
                None => s.push_str(&format!("\\u{cp:04x}")),
            },
            _ if cp <= 0xff => s.push_str(&format!("\\x{cp:02x}")),
            _ if cp <= 0xffff => s.push_str(&format!("\\u{cp:04x}")),
            _ => s.push_str(&format!("\\U{cp:08x}")),
        }
    }
    s.push(quote);
    s
}

/// `repr(s)` of a Python str.
pub(crate) fn repr_str(s: &str) -> String {
    let cps: Vec<u32> = s.chars().map(|c| c as u32).collect();
    repr_codepoints(&cps, false)
}

/// Python's repr of a value when it is shown inside a dict repr.
pub(crate) fn repr_value_for_dict(v: &FieldValue) -> String {
    repr(v, false)
}

/// `repr(v)` (`ascii=false`) or `ascii(v)`. borg's wrapper objects have
/// the default `object.__repr__`, which shows their memory address; we show
/// [`FAKE_ADDRESS`] (same length as a typical 64-bit address).
pub(crate) fn repr(v: &FieldValue, ascii: bool) -> String {
    match v {
        FieldValue::Str(s) => {
            let cps: Vec<u32> = s.chars().map(|c| c as u32).collect();
            repr_codepoints(&cps, ascii)
        }
        FieldValue::Bytes(b) => repr_codepoints(&surrogateescape_decode(b), ascii),
        FieldValue::Int(i) => i.to_string(),
        FieldValue::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        FieldValue::Float(f) => crate::float::repr_float(*f),
        FieldValue::None => "None".to_string(),
        FieldValue::DateTime(dt, DateStyle::Python) => {
            let r = dt.python_repr();
            if ascii {
                // Only a time zone name could be non-ASCII.
                let cps: Vec<u32> = r.chars().map(|c| c as u32).collect();
                let mut s = String::new();
                for cp in cps {
                    match cp {
                        0..=0x7f => s.push(char::from_u32(cp).unwrap_or('?')),
                        0x80..=0xff => s.push_str(&format!("\\x{cp:02x}")),
                        0x100..=0xffff => s.push_str(&format!("\\u{cp:04x}")),
                        _ => s.push_str(&format!("\\U{cp:08x}")),
                    }
                }
                s
            } else {
                r
            }
        }
        FieldValue::DateTime(_, DateStyle::Placeholder) => {
            format!("<borg.helpers.parseformat.DatetimeWrapper object at {FAKE_ADDRESS}>")
        }
        FieldValue::DateTime(_, DateStyle::Output) => {
            format!("<borg.helpers.time.OutputTimestamp object at {FAKE_ADDRESS}>")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reprs() {
        assert_eq!(repr_str("abc"), "'abc'");
        assert_eq!(repr_str("a'b"), "\"a'b\"");
        assert_eq!(repr_str("a'b\""), "'a\\'b\"'");
        assert_eq!(repr_str("\t\n\r\x00\x7f\\"), "'\\t\\n\\r\\x00\\x7f\\\\'");
        assert_eq!(repr_str("é\u{a0}\u{2028}"), "'é\\xa0\\u2028'");
        assert_eq!(
            repr(&FieldValue::Bytes(b"a\xffb".to_vec()), false),
            "'a\\udcffb'"
        );
        assert_eq!(repr(&FieldValue::str("é😀"), true), "'\\xe9\\U0001f600'");
    }

    #[test]
    fn digits() {
        assert_eq!(decimal_value('7'), Some(7));
        assert_eq!(decimal_value('\u{663}'), Some(3));
        assert_eq!(decimal_value('a'), None);
        assert_eq!(decimal_value('²'), None);
    }

    #[test]
    fn surrogates() {
        assert_eq!(bytes_to_output(b"a\xe2\x82b\xff"), "a??b?");
        assert_eq!(
            surrogateescape_decode(b"\xe2\x82\xac\xe2\x82"),
            vec![0x20ac, 0xdce2, 0xdc82]
        );
    }
}
