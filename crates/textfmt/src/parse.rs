//! The template scanner of CPython 3.11 (`Objects/stringlib/unicode_format.h`:
//! `MarkupIterator`, `parse_field`, `field_name_split`), which is also what
//! `string.Formatter().parse()` exposes.

use crate::error::FormatError;
use crate::pyrepr::decimal_value;

/// One replacement field `{name!conversion:spec}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedField<'a> {
    /// The field name, including any `.attr` / `[index]` parts; may be
    /// empty (`{}`).
    pub name: &'a str,
    /// The conversion character after `!`, if any.
    pub conversion: Option<char>,
    /// The format spec after `:` (not yet expanded).
    pub spec: &'a str,
    /// Whether the spec contains nested `{...}` fields.
    pub spec_needs_expanding: bool,
}

/// One step of `Formatter().parse()`: literal text (with `{{`/`}}` already
/// reduced to one brace) followed by an optional field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedItem<'a> {
    /// Literal text before the field.
    pub literal: &'a str,
    /// The field, if this item has one.
    pub field: Option<ParsedField<'a>>,
}

/// Iterator over a template's items, failing (and then stopping) exactly
/// where Python's parser raises `ValueError`.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    s: &'a str,
    pos: usize,
    failed: bool,
}

/// `string.Formatter().parse(template)`.
pub fn parse(template: &str) -> Parser<'_> {
    Parser {
        s: template,
        pos: 0,
        failed: false,
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<ParsedItem<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.s.len() {
            return None;
        }
        let r = self.next_item();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

impl<'a> Parser<'a> {
    fn next_item(&mut self) -> Result<ParsedItem<'a>, FormatError> {
        let b = self.s.as_bytes();
        let end = b.len();
        let start = self.pos;
        let mut c = 0u8;
        let mut markup_follows = false;
        while self.pos < end {
            c = b[self.pos];
            self.pos += 1;
            if c == b'{' || c == b'}' {
                markup_follows = true;
                break;
            }
        }
        let at_end = self.pos >= end;
        let mut len = self.pos - start;
        if c == b'}' && markup_follows && (at_end || b[self.pos] != b'}') {
            return Err(FormatError::value(
                "Single '}' encountered in format string",
            ));
        }
        if at_end && c == b'{' && markup_follows {
            return Err(FormatError::value(
                "Single '{' encountered in format string",
            ));
        }
        if !at_end && markup_follows {
            if b[self.pos] == c {
                self.pos += 1;
                markup_follows = false;
            } else {
                len -= 1;
            }
        }
        let literal = &self.s[start..start + len];
        if !markup_follows {
            return Ok(ParsedItem {
                literal,
                field: None,
            });
        }
        let field = self.parse_field()?;
        Ok(ParsedItem {
            literal,
            field: Some(field),
        })
    }

    fn read_char(&mut self) -> char {
        let c = self.s[self.pos..].chars().next().unwrap_or('\0');
        self.pos += c.len_utf8();
        c
    }

    fn parse_field(&mut self) -> Result<ParsedField<'a>, FormatError> {
        let b = self.s.as_bytes();
        let end = b.len();
        let name_start = self.pos;
        let mut c = 0u8;
        let mut name_end = name_start;
        while self.pos < end {
            c = b[self.pos];
            self.pos += 1;
            match c {
                b'{' => return Err(FormatError::value("unexpected '{' in field name")),
                b'[' => {
                    while self.pos < end && b[self.pos] != b']' {
                        self.pos += 1;
                    }
                    continue;
                }
                b'}' | b':' | b'!' => {
                    name_end = self.pos - 1;
                    break;
                }
                _ => continue,
            }
        }
        // Without a terminator the name is irrelevant: an error follows.
        let name = &self.s[name_start..name_end];
        if c == b'!' || c == b':' {
            let mut conversion = None;
            if c == b'!' {
                if self.pos >= end {
                    return Err(FormatError::value(
                        "end of string while looking for conversion specifier",
                    ));
                }
                conversion = Some(self.read_char());
                if self.pos < end {
                    let c2 = b[self.pos];
                    self.pos += 1;
                    if c2 == b'}' {
                        return Ok(ParsedField {
                            name,
                            conversion,
                            spec: "",
                            spec_needs_expanding: false,
                        });
                    }
                    if c2 != b':' {
                        return Err(FormatError::value(
                            "expected ':' after conversion specifier",
                        ));
                    }
                }
            }
            let spec_start = self.pos;
            let mut count = 1;
            let mut needs_expanding = false;
            while self.pos < end {
                let c = b[self.pos];
                self.pos += 1;
                match c {
                    b'{' => {
                        needs_expanding = true;
                        count += 1;
                    }
                    b'}' => {
                        count -= 1;
                        if count == 0 {
                            return Ok(ParsedField {
                                name,
                                conversion,
                                spec: &self.s[spec_start..self.pos - 1],
                                spec_needs_expanding: needs_expanding,
                            });
                        }
                    }
                    _ => {}
                }
            }
            return Err(FormatError::value("unmatched '{' in format spec"));
        }
        if c != b'}' {
            return Err(FormatError::value("expected '}' before end of string"));
        }
        Ok(ParsedField {
            name,
            conversion: None,
            spec: "",
            spec_needs_expanding: false,
        })
    }
}

/// `get_integer` of `unicode_format.h`: `Ok(None)` when `s` is empty or
/// not all decimal digits.
pub(crate) fn get_integer(s: &str) -> Result<Option<i64>, FormatError> {
    if s.is_empty() {
        return Ok(None);
    }
    let mut acc: i64 = 0;
    for c in s.chars() {
        let Some(d) = decimal_value(c) else {
            return Ok(None);
        };
        let d = i64::from(d);
        if acc > (i64::MAX - d) / 10 {
            return Err(FormatError::value(
                "Too many decimal digits in format string",
            ));
        }
        acc = acc * 10 + d;
    }
    Ok(Some(acc))
}

/// One `.attr` or `[key]` access after the first part of a field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Access<'a> {
    Attr(&'a str),
    /// `[key]` with its integer value if `key` is all digits.
    Item(&'a str, Option<i64>),
}

/// `field_name_split`: the first part and an iterator over the rest.
pub(crate) fn split_field_name(name: &str) -> (&str, FieldNameRest<'_>) {
    let i = name.find(['.', '[']).unwrap_or(name.len());
    (
        &name[..i],
        FieldNameRest {
            s: name,
            pos: i,
            failed: false,
        },
    )
}

/// `FieldNameIterator`.
#[derive(Debug)]
pub(crate) struct FieldNameRest<'a> {
    s: &'a str,
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for FieldNameRest<'a> {
    type Item = Result<Access<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.s.len() {
            return None;
        }
        let r = self.next_access();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

impl<'a> FieldNameRest<'a> {
    fn next_access(&mut self) -> Result<Access<'a>, FormatError> {
        let b = self.s.as_bytes();
        let c = b[self.pos];
        self.pos += 1;
        let access = match c {
            b'.' => {
                let start = self.pos;
                while self.pos < b.len() && b[self.pos] != b'.' && b[self.pos] != b'[' {
                    self.pos += 1;
                }
                Access::Attr(&self.s[start..self.pos])
            }
            b'[' => {
                let start = self.pos;
                while self.pos < b.len() && b[self.pos] != b']' {
                    self.pos += 1;
                }
                if self.pos >= b.len() {
                    return Err(FormatError::value("Missing ']' in format string"));
                }
                let key = &self.s[start..self.pos];
                self.pos += 1;
                Access::Item(key, get_integer(key)?)
            }
            _ => {
                return Err(FormatError::value(
                    "Only '.' or '[' may follow ']' in format field specifier",
                ))
            }
        };
        let empty = match access {
            Access::Attr(n) | Access::Item(n, _) => n.is_empty(),
        };
        if empty {
            return Err(FormatError::value("Empty attribute in format string"));
        }
        Ok(access)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(t: &str) -> Vec<String> {
        parse(t)
            .map(|r| match r {
                Ok(i) => format!(
                    "{:?}|{:?}",
                    i.literal,
                    i.field.map(|f| (f.name, f.conversion, f.spec))
                ),
                Err(e) => format!("ERR {}", e.message),
            })
            .collect()
    }

    #[test]
    fn python_examples() {
        assert_eq!(fields("{a[}]}"), ["\"\"|Some((\"a[}]\", None, \"\"))"]);
        assert_eq!(fields("{a[}"), ["ERR expected '}' before end of string"]);
        assert_eq!(
            fields("{a:{b}}}"),
            [
                "\"\"|Some((\"a\", None, \"{b}\"))",
                "ERR Single '}' encountered in format string"
            ]
        );
        assert_eq!(fields("{a!}"), ["ERR unmatched '{' in format spec"]);
        assert_eq!(
            fields("{a!rr}"),
            ["ERR expected ':' after conversion specifier"]
        );
        assert_eq!(fields("x}}y"), ["\"x}\"|None", "\"y\"|None"]);
        assert_eq!(
            fields("{a!"),
            ["ERR end of string while looking for conversion specifier"]
        );
        assert_eq!(fields("{a{}"), ["ERR unexpected '{' in field name"]);
    }
}
