//! The text formatting of borg 1.4.5's command line, exactly as borg (on
//! CPython 3.11 and glibc 2.36) produces it.
//!
//! * [`format()`] / [`format_with`]: Python's `str.format_map` over a
//!   [`FieldSource`] of [`FieldValue`]s, with the whole format-spec
//!   mini-language, `{{`/`}}`, `!r`/`!s`/`!a`, `[index]`, nested specs, and
//!   `strftime` specs for datetimes (glibc's conversions and flags).
//!   [`parse`] is `string.Formatter().parse()`.
//! * [`format_line`] and [`replace_placeholders`] with [`PlaceholderValues`]
//!   (`{hostname}`, `{now}`, `{utcnow}`...) and borg's [`PlaceholderError`]s;
//!   [`partial_format`] as `ItemFormatter`/`ArchiveFormatter` use it.
//! * [`format_file_size`] (`1.23 MB`), [`format_time`]
//!   (`Sun, 2026-11-22 01:40:48`), [`isoformat_time`] (borg's JSON times,
//!   `2026-11-22T01:40:48.000000`), [`format_timedelta`]
//!   (`1 minutes 5.31 seconds`), [`filemode`] (`-rw-r--r--`).
//! * [`LocalZone`], [`to_localtime`], [`safe_timestamp`]: borg's conversions
//!   of archive and item timestamps to local time.
//!
//! The library never prints and never reads environment variables: values
//! that borg takes from the environment (`BORG_HOSTNAME`, `BORG_USERNAME`,
//! `TZ`) are passed in by the caller.
//!
//! Text borg prints goes through a stream with `errors='replace'`: strings
//! containing undecodable bytes ([`FieldValue::Bytes`]) show each such byte
//! as `?`, so every result here is a valid UTF-8 `String`.

mod borg;
mod engine;
mod error;
mod float;
mod parse;
mod pyrepr;
mod spec;
mod strftime;
mod system;
mod unicode_tables;
mod value;
mod zone;

pub use borg::{
    borg_version_parts, filemode, fixed_keys, fixed_tz, format_archive, format_file_size,
    format_file_size_f64, format_line, format_line_with, format_time, format_time_with,
    format_timedelta, format_timedelta_seconds, isoformat_time, item_mode_type_extra,
    output_timestamp, output_timestamp_utc, partial_format, remove_surrogates,
    replace_placeholders, replace_placeholders_in_zone, reverse_fqdn, sizeof_fmt,
    sizeof_fmt_decimal, sizeof_fmt_f64, sizeof_fmt_iec, timedelta_from_seconds, PlaceholderValues,
    DEFAULT_ARCHIVE_FORMAT, DEFAULT_ITEM_FORMAT, SHORT_ARCHIVE_FORMAT, SHORT_ITEM_FORMAT,
};
pub use engine::{
    format, format_value, format_value_with, format_with, FormatOptions, ISO_FORMAT,
    ISO_FORMAT_NO_USECS, OUTPUT_TIME_FORMAT,
};
pub use error::{FormatError, PlaceholderError, PyExc};
pub use parse::{parse, ParsedField, ParsedItem, Parser};
pub use spec::MAX_WIDTH;
pub use strftime::{strftime, Mktime, UtcMktime};
pub use system::{getfqdn, gethostname, uuid4, uuid4_from_bytes};
pub use value::{DateStyle, DateTime, FieldMap, FieldSource, FieldValue, TzInfo};
pub use zone::{safe_ns, safe_timestamp, to_localtime, LocalZone, MAX_NS, MAX_S};
