//! `str.format_map` (CPython 3.11 `build_string` / `output_markup` /
//! `render_field`) over a [`FieldSource`].

use crate::error::{FormatError, PyExc};
use crate::parse::{parse, split_field_name, Access};
use crate::pyrepr;
use crate::spec;
use crate::strftime::{strftime, Mktime, UtcMktime};
use crate::value::{DateStyle, FieldSource, FieldValue};

/// `strftime` format borg's `DatetimeWrapper` uses for an empty spec
/// (`ISO_FORMAT_NO_USECS`).
pub const ISO_FORMAT_NO_USECS: &str = "%Y-%m-%dT%H:%M:%S";
/// `ISO_FORMAT`, used by `OutputTimestamp.isoformat()` (borg's JSON).
pub const ISO_FORMAT: &str = "%Y-%m-%dT%H:%M:%S.%f";
/// `strftime` format of borg's `format_time` / `OutputTimestamp` for an
/// empty spec.
pub const OUTPUT_TIME_FORMAT: &str = "%a, %Y-%m-%d %H:%M:%S";

/// Options of [`format_with`].
#[derive(Clone, Copy)]
pub struct FormatOptions<'a> {
    /// How glibc's `%s` (seconds since the epoch, via `mktime`) turns
    /// wall-clock fields into a Unix time; borg's process uses its local
    /// time zone (see [`crate::LocalZone`], which implements this).
    /// Default: UTC.
    pub mktime: &'a dyn Mktime,
}

impl std::fmt::Debug for FormatOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormatOptions").finish_non_exhaustive()
    }
}

impl Default for FormatOptions<'_> {
    fn default() -> Self {
        FormatOptions { mktime: &UtcMktime }
    }
}

/// Python's `template.format_map(fields)`.
///
/// Supports everything `str.format` does except attribute access
/// (`{name.attr}` gives an `AttributeError`): `{{`/`}}`, `!r`/`!s`/`!a`,
/// `[index]` on strings, nested `{...}` inside format specs, and the full
/// format-spec mini-language for `str`, `int`, `bool`, `float`; a
/// `DateTime`'s non-empty spec is a `strftime` format. Errors carry the
/// Python exception class and message (a missing key is
/// `KeyError: 'name'`).
pub fn format(template: &str, fields: &dyn FieldSource) -> Result<String, FormatError> {
    format_with(template, fields, &FormatOptions::default())
}

/// [`format()`] with options (the time zone glibc's `%s` uses).
pub fn format_with(
    template: &str,
    fields: &dyn FieldSource,
    opts: &FormatOptions<'_>,
) -> Result<String, FormatError> {
    let mut out = String::with_capacity(template.len() + 100);
    build_string(template, fields, 2, opts, &mut out)?;
    Ok(out)
}

/// `format(value, spec)`: the value's `__format__`.
pub fn format_value(value: &FieldValue, spec: &str) -> Result<String, FormatError> {
    format_value_with(value, spec, &FormatOptions::default())
}

/// [`format_value`] with options.
pub fn format_value_with(
    value: &FieldValue,
    spec: &str,
    opts: &FormatOptions<'_>,
) -> Result<String, FormatError> {
    match value {
        FieldValue::Str(s) => {
            if spec.is_empty() {
                return Ok(s.clone());
            }
            let cps: Vec<u32> = s.chars().map(|c| c as u32).collect();
            spec::format_str(&cps, spec)
        }
        FieldValue::Bytes(b) => {
            if spec.is_empty() {
                return Ok(pyrepr::bytes_to_output(b));
            }
            spec::format_str(&pyrepr::surrogateescape_decode(b), spec)
        }
        FieldValue::Int(i) => spec::format_int(*i, spec, "int"),
        FieldValue::Bool(b) => {
            if spec.is_empty() {
                Ok(if *b { "True" } else { "False" }.to_string())
            } else {
                spec::format_int(i128::from(*b), spec, "bool")
            }
        }
        FieldValue::Float(f) => spec::format_float(*f, spec),
        FieldValue::None => {
            if spec.is_empty() {
                Ok("None".to_string())
            } else {
                Err(FormatError::type_error(
                    "unsupported format string passed to NoneType.__format__",
                ))
            }
        }
        FieldValue::DateTime(dt, style) => {
            let fmt = match (spec.is_empty(), style) {
                (false, _) => spec,
                (true, DateStyle::Python) => return Ok(dt.python_str()),
                (true, DateStyle::Placeholder) => ISO_FORMAT_NO_USECS,
                (true, DateStyle::Output) => OUTPUT_TIME_FORMAT,
            };
            strftime(dt, fmt, opts.mktime)
        }
    }
}

/// `str(value)`.
pub(crate) fn py_str(
    value: &FieldValue,
    opts: &FormatOptions<'_>,
) -> Result<FieldValue, FormatError> {
    Ok(match value {
        FieldValue::Str(_) | FieldValue::Bytes(_) => value.clone(),
        FieldValue::DateTime(dt, DateStyle::Output) => {
            FieldValue::Str(strftime(dt, OUTPUT_TIME_FORMAT, opts.mktime)?)
        }
        FieldValue::DateTime(dt, DateStyle::Python) => FieldValue::Str(dt.python_str()),
        // Everything else: str() is repr() (DatetimeWrapper has no __str__).
        other => FieldValue::Str(pyrepr::repr(other, false)),
    })
}

fn build_string(
    input: &str,
    fields: &dyn FieldSource,
    depth: i32,
    opts: &FormatOptions<'_>,
    out: &mut String,
) -> Result<(), FormatError> {
    if depth <= 0 {
        return Err(FormatError::value("Max string recursion exceeded"));
    }
    for item in parse(input) {
        let item = item?;
        out.push_str(item.literal);
        let Some(field) = item.field else {
            continue;
        };
        let mut obj = get_field_object(field.name, fields)?;
        if let Some(conv) = field.conversion {
            obj = match conv {
                'r' | 'a' => FieldValue::Str(pyrepr::repr(&obj, conv == 'a')),
                's' => py_str(&obj, opts)?,
                c => {
                    let cp = c as u32;
                    return Err(FormatError::value(if cp > 32 && cp < 127 {
                        format!("Unknown conversion specifier {c}")
                    } else {
                        format!("Unknown conversion specifier \\x{cp:x}")
                    }));
                }
            };
        }
        if field.spec_needs_expanding {
            let mut spec = String::new();
            build_string(field.spec, fields, depth - 1, opts, &mut spec)?;
            out.push_str(&format_value_with(&obj, &spec, opts)?);
        } else {
            out.push_str(&format_value_with(&obj, field.spec, opts)?);
        }
    }
    Ok(())
}

fn get_field_object(name: &str, fields: &dyn FieldSource) -> Result<FieldValue, FormatError> {
    let (first, rest) = split_field_name(name);
    let first_idx = crate::parse::get_integer(first)?;
    if first.is_empty() || first_idx.is_some() {
        return Err(FormatError::value(
            "Format string contains positional fields",
        ));
    }
    let mut obj = fields
        .get(first)
        .ok_or_else(|| FormatError::new(PyExc::KeyError, pyrepr::repr_str(first)))?;
    for access in rest {
        obj = match access? {
            Access::Attr(a) => {
                return Err(FormatError::new(
                    PyExc::AttributeError,
                    format!(
                        "attribute access ({:?} on {}) is not supported",
                        a,
                        obj.type_name()
                    ),
                ))
            }
            Access::Item(key, idx) => get_item(&obj, key, idx)?,
        };
    }
    Ok(obj)
}

fn get_item(obj: &FieldValue, key: &str, idx: Option<i64>) -> Result<FieldValue, FormatError> {
    let not_subscriptable =
        || FormatError::type_error(format!("'{}' object is not subscriptable", obj.type_name()));
    match obj {
        FieldValue::Str(_) | FieldValue::Bytes(_) => {
            let Some(i) = idx else {
                let _ = key;
                return Err(FormatError::type_error(
                    "string indices must be integers, not 'str'",
                ));
            };
            let cps = match obj {
                FieldValue::Str(s) => s.chars().map(|c| c as u32).collect(),
                FieldValue::Bytes(b) => pyrepr::surrogateescape_decode(b),
                _ => Vec::new(),
            };
            let cp = usize::try_from(i)
                .ok()
                .and_then(|i| cps.get(i).copied())
                .ok_or_else(|| FormatError::new(PyExc::IndexError, "string index out of range"))?;
            Ok(match char::from_u32(cp) {
                Some(c) => FieldValue::Str(c.to_string()),
                // A lone surrogate: the escaped byte.
                None => FieldValue::Bytes(vec![(cp - 0xDC00) as u8]),
            })
        }
        _ => Err(not_subscriptable()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::DateTime;

    fn f(t: &str) -> String {
        let fields = [
            ("a", FieldValue::str("hello")),
            ("n", FieldValue::Int(42)),
            ("w", FieldValue::Int(8)),
            ("x", FieldValue::Float(1.5)),
            ("b", FieldValue::Bytes(b"a\xffz".to_vec())),
            (
                "t",
                FieldValue::DateTime(
                    DateTime::naive(2026, 11, 22, 1, 40, 48, 0),
                    DateStyle::Output,
                ),
            ),
        ];
        match format(t, &fields) {
            Ok(s) => s,
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn templates() {
        assert_eq!(f("{a} {n:>5} {x}"), "hello    42 1.5");
        assert_eq!(f("{{a}} {a!r:>9}"), "{a}   'hello'");
        assert_eq!(f("{n:{w}}|"), "      42|");
        assert_eq!(
            f("{b} {b!r} {b:>5} {b[1]!r}"),
            "a?z 'a\\udcffz'   a?z '\\udcff'"
        );
        assert_eq!(f("{t} {t:%Y}"), "Sun, 2026-11-22 01:40:48 2026");
        assert_eq!(f("{a[1]}"), "e");
        assert_eq!(f("{zz}"), "ERR KeyError: 'zz'");
        assert_eq!(
            f("{}"),
            "ERR ValueError: Format string contains positional fields"
        );
        assert_eq!(f("{a[9]}"), "ERR IndexError: string index out of range");
        assert_eq!(
            f("{n[0]}"),
            "ERR TypeError: 'int' object is not subscriptable"
        );
        assert_eq!(
            f("{n:{w:{w}}}"),
            "ERR ValueError: Max string recursion exceeded"
        );
    }
}
