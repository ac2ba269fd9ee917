//! The values a template can refer to, and where they come from.

use std::collections::{BTreeMap, HashMap};

use crate::pyrepr;

/// A value a `{field}` of a template refers to, modelled on the Python
/// objects borg puts into its format dictionaries.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A Python `str`.
    Str(String),
    /// A Python `str` that borg decoded from raw bytes with
    /// `surrogateescape` (borg's `bpath`, `barchive`, `bcomment`, and any
    /// `path`/`archive` name that is not valid UTF-8 *before*
    /// `remove_surrogates`).
    ///
    /// Each byte that is not part of a valid UTF-8 sequence is one lone
    /// surrogate `U+DC80..U+DCFF` for Python: it counts as one character for
    /// widths, precisions and indexing, and `!r`/`!a` show it as `\udcXX`.
    /// borg writes its output through a text stream with `errors='replace'`,
    /// so when rendered each such byte becomes `?` -- exactly what borg
    /// prints. The formatted result is therefore always valid UTF-8.
    Bytes(Vec<u8>),
    /// A Python `int` (including borg's `FileSize` when it is formatted as a
    /// plain number; for the `FileSize.__format__` behaviour format
    /// [`crate::format_file_size`] as a `Str`).
    Int(i128),
    /// A Python `bool` (`True`/`False`; formatted as the int 1/0 whenever the
    /// format spec is not empty, like Python).
    Bool(bool),
    /// A Python `float`.
    Float(f64),
    /// Python's `None`.
    None,
    /// A `datetime.datetime`, possibly wrapped by one of borg's classes that
    /// change what an empty format spec means.
    DateTime(DateTime, DateStyle),
}

impl FieldValue {
    /// A `Str` value.
    pub fn str(s: impl Into<String>) -> Self {
        FieldValue::Str(s.into())
    }

    /// The Python type name used in error messages (`type(x).__name__`).
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Str(_) | FieldValue::Bytes(_) => "str",
            FieldValue::Int(_) => "int",
            FieldValue::Bool(_) => "bool",
            FieldValue::Float(_) => "float",
            FieldValue::None => "NoneType",
            FieldValue::DateTime(_, DateStyle::Python) => "datetime.datetime",
            FieldValue::DateTime(_, DateStyle::Placeholder) => "DatetimeWrapper",
            FieldValue::DateTime(_, DateStyle::Output) => "OutputTimestamp",
        }
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Str(s.to_string())
    }
}

impl From<String> for FieldValue {
    fn from(s: String) -> Self {
        FieldValue::Str(s)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for FieldValue {
            fn from(v: $t) -> Self {
                FieldValue::Int(v as i128)
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, i128, u8, u16, u32, u64, usize, isize);

impl From<f64> for FieldValue {
    fn from(v: f64) -> Self {
        FieldValue::Float(v)
    }
}

impl From<bool> for FieldValue {
    fn from(v: bool) -> Self {
        FieldValue::Bool(v)
    }
}

/// Which Python object a [`DateTime`] stands for; it decides what an empty
/// format spec (`{now}`, `{mtime}`) and `!s`/`!r` produce. A non-empty spec
/// is always a `strftime` format for all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// A plain `datetime.datetime`: an empty spec gives `str(dt)`
    /// (`2026-11-22 01:40:48[.ffffff][+01:00]`).
    Python,
    /// borg's `DatetimeWrapper` used by `replace_placeholders` for `{now}`
    /// and `{utcnow}`: an empty spec means `%Y-%m-%dT%H:%M:%S`. Its
    /// `str()`/`repr()` show a memory address, rendered here as
    /// `0x7f0000000000`.
    Placeholder,
    /// borg's `OutputTimestamp` (`{time}`, `{start}`, `{end}`, `{mtime}`,
    /// `{ctime}`, `{atime}` of `--format`): an empty spec (and `str()`)
    /// means `%a, %Y-%m-%d %H:%M:%S`. Its `repr()` shows a memory address
    /// (rendered as `0x7f0000000000`).
    Output,
}

/// A fixed UTC offset with a name, Python's `datetime.timezone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TzInfo {
    /// Offset from UTC in seconds (east positive).
    pub offset_seconds: i32,
    /// The explicit name (`timezone(offset, name)`), e.g. `CET` as
    /// `datetime.astimezone()` sets it from `tm_zone`. `None` means
    /// Python's default name (`UTC` for a zero offset, else `UTC+01:00`).
    pub name: Option<String>,
}

impl TzInfo {
    /// `datetime.timezone.utc`.
    pub fn utc() -> Self {
        TzInfo {
            offset_seconds: 0,
            name: None,
        }
    }

    /// What `%Z` gives: `tzinfo.tzname(dt)`.
    pub fn tzname(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None if self.offset_seconds == 0 => "UTC".to_string(),
            None => format!("UTC{}", format_offset(self.offset_seconds, ":")),
        }
    }
}

/// `+HH<sep>MM[<sep>SS]` like Python's `format_utcoffset`.
pub(crate) fn format_offset(offset: i32, sep: &str) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.unsigned_abs();
    let (h, m, s) = (o / 3600, (o / 60) % 60, o % 60);
    if s != 0 {
        format!("{sign}{h:02}{sep}{m:02}{sep}{s:02}")
    } else {
        format!("{sign}{h:02}{sep}{m:02}")
    }
}

/// A Python `datetime.datetime`: the broken-down wall-clock fields plus an
/// optional fixed-offset `tzinfo` (naive when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTime {
    /// 1..=9999
    pub year: i32,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    /// 0..=23
    pub hour: u32,
    /// 0..=59
    pub minute: u32,
    /// 0..=59
    pub second: u32,
    /// 0..=999_999
    pub microsecond: u32,
    /// `None` for a naive datetime.
    pub tz: Option<TzInfo>,
}

impl DateTime {
    /// A naive datetime (no time zone), like borg's local `OutputTimestamp`s.
    pub fn naive(
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        microsecond: u32,
    ) -> Self {
        DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            microsecond,
            tz: None,
        }
    }

    /// The same wall-clock time with `tz` attached (`dt.replace(tzinfo=tz)`).
    pub fn with_tz(mut self, tz: TzInfo) -> Self {
        self.tz = Some(tz);
        self
    }

    /// The UTC datetime (aware, `timezone.utc`) for a Unix time given in
    /// whole seconds plus microseconds.
    pub fn from_unix_utc(secs: i64, micros: u32) -> Self {
        Self::from_unix_with_offset(secs, micros, TzInfo::utc())
    }

    /// The wall-clock fields of `secs` shifted by `tz.offset_seconds`,
    /// carrying `tz`.
    pub fn from_unix_with_offset(secs: i64, micros: u32, tz: TzInfo) -> Self {
        let mut dt = Self::naive_from_unix(secs + i64::from(tz.offset_seconds), micros);
        dt.tz = Some(tz);
        dt
    }

    /// The naive fields of a count of seconds since 1970-01-01 00:00:00
    /// (no offset applied).
    pub fn naive_from_unix(secs: i64, micros: u32) -> Self {
        let days = secs.div_euclid(86400);
        let rem = secs.rem_euclid(86400) as u32;
        let (y, m, d) = civil_from_days(days);
        DateTime::naive(
            y as i32,
            m,
            d,
            rem / 3600,
            (rem / 60) % 60,
            rem % 60,
            micros,
        )
    }

    /// Seconds since 1970-01-01 00:00:00 of the wall-clock fields, ignoring
    /// any time zone.
    pub fn naive_unix_seconds(&self) -> i64 {
        days_from_civil(i64::from(self.year), self.month, self.day) * 86400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// The Unix time this aware datetime denotes (for a naive one: the
    /// wall-clock fields read as UTC).
    pub fn unix_seconds(&self) -> i64 {
        self.naive_unix_seconds() - self.tz.as_ref().map_or(0, |t| i64::from(t.offset_seconds))
    }

    /// Day of the week, 0 = Monday (Python's `weekday()`).
    pub fn weekday(&self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (days_from_civil(i64::from(self.year), self.month, self.day) + 3).rem_euclid(7) as u32
    }

    /// Day of the year, 1-based.
    pub fn yday(&self) -> u32 {
        (days_from_civil(i64::from(self.year), self.month, self.day)
            - days_from_civil(i64::from(self.year), 1, 1)
            + 1) as u32
    }

    /// `str(dt)`: `dt.isoformat(sep=' ')`.
    pub fn python_str(&self) -> String {
        self.isoformat(' ')
    }

    /// `dt.isoformat(sep)`: microseconds only when non-zero, the offset
    /// only when aware.
    pub fn isoformat(&self, sep: char) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}",
            self.year, self.month, self.day, sep, self.hour, self.minute, self.second
        );
        if self.microsecond != 0 {
            s.push_str(&format!(".{:06}", self.microsecond));
        }
        if let Some(tz) = &self.tz {
            s.push_str(&format_offset(tz.offset_seconds, ":"));
        }
        s
    }

    /// `repr(dt)` of a plain `datetime.datetime`.
    pub fn python_repr(&self) -> String {
        let mut s = format!(
            "datetime.datetime({}, {}, {}, {}, {}",
            self.year, self.month, self.day, self.hour, self.minute
        );
        if self.second != 0 || self.microsecond != 0 {
            s.push_str(&format!(", {}", self.second));
        }
        if self.microsecond != 0 {
            s.push_str(&format!(", {}", self.microsecond));
        }
        if let Some(tz) = &self.tz {
            s.push_str(", tzinfo=");
            if tz.offset_seconds == 0 && tz.name.is_none() {
                s.push_str("datetime.timezone.utc");
            } else {
                s.push_str("datetime.timezone(");
                s.push_str(&timedelta_repr(i64::from(tz.offset_seconds)));
                if let Some(n) = &tz.name {
                    s.push_str(", ");
                    s.push_str(&pyrepr::repr_str(n));
                }
                s.push(')');
            }
        }
        s.push(')');
        s
    }
}

fn timedelta_repr(seconds: i64) -> String {
    let days = seconds.div_euclid(86400);
    let secs = seconds.rem_euclid(86400);
    match (days, secs) {
        (0, 0) => "datetime.timedelta(0)".to_string(),
        (0, s) => format!("datetime.timedelta(seconds={s})"),
        (d, 0) => format!("datetime.timedelta(days={d})"),
        (d, s) => format!("datetime.timedelta(days={d}, seconds={s})"),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The proleptic Gregorian date of a count of days since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Where a template's `{name}` fields are looked up (Python's mapping
/// passed to `str.format_map`).
pub trait FieldSource {
    /// The value of `name`, or `None` when there is no such key (Python
    /// raises `KeyError`).
    fn get(&self, name: &str) -> Option<FieldValue>;
}

impl<F: FieldSource + ?Sized> FieldSource for &F {
    fn get(&self, name: &str) -> Option<FieldValue> {
        (**self).get(name)
    }
}

impl FieldSource for HashMap<String, FieldValue> {
    fn get(&self, name: &str) -> Option<FieldValue> {
        HashMap::get(self, name).cloned()
    }
}

impl FieldSource for BTreeMap<String, FieldValue> {
    fn get(&self, name: &str) -> Option<FieldValue> {
        BTreeMap::get(self, name).cloned()
    }
}

impl FieldSource for [(&str, FieldValue)] {
    fn get(&self, name: &str) -> Option<FieldValue> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    }
}

impl<const N: usize> FieldSource for [(&str, FieldValue); N] {
    fn get(&self, name: &str) -> Option<FieldValue> {
        FieldSource::get(self.as_slice(), name)
    }
}

/// An insertion-ordered dictionary, like the Python `dict`s borg builds;
/// needed where borg shows the whole dictionary (`PlaceholderError`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldMap {
    entries: Vec<(String, FieldValue)>,
}

impl FieldMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// `d[key] = value`: replaces in place (keeping the position) or appends.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<FieldValue>) {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&FieldValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is present (`key in d`).
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Python's `repr(d)`. Objects whose repr contains a memory address
    /// (`DatetimeWrapper`, `OutputTimestamp`) show the fixed address
    /// `0x7f0000000000`; real borg shows the actual one.
    pub fn python_repr(&self) -> String {
        let mut s = String::from("{");
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&pyrepr::repr_str(k));
            s.push_str(": ");
            s.push_str(&pyrepr::repr_value_for_dict(v));
        }
        s.push('}');
        s
    }
}

impl FieldSource for FieldMap {
    fn get(&self, name: &str) -> Option<FieldValue> {
        FieldMap::get(self, name).cloned()
    }
}

impl<K: Into<String>, V: Into<FieldValue>> FromIterator<(K, V)> for FieldMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = FieldMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for z in [
            -800000i64, -719468, -1, 0, 1, 59, 365, 10957, 20000, 2932896,
        ] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19723), (2024, 1, 1));
    }

    #[test]
    fn weekday_yday() {
        let dt = DateTime::naive(2026, 11, 22, 1, 40, 48, 0);
        assert_eq!(dt.weekday(), 6); // Sunday
        assert_eq!(dt.yday(), 326);
        assert_eq!(dt.python_str(), "2026-11-22 01:40:48");
        assert_eq!(
            DateTime::from_unix_utc(0, 5).python_str(),
            "1970-01-01 00:00:00.000005+00:00"
        );
    }
}
