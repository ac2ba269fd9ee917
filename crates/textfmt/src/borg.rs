//! borg 1.4.5's own formatting helpers (`helpers/parseformat.py`,
//! `helpers/time.py`) on top of the `str.format` engine.

use crate::engine::{format, format_with, FormatOptions, ISO_FORMAT, OUTPUT_TIME_FORMAT};
use crate::error::{FormatError, PlaceholderError};
use crate::float::{double_to_string, py_round, DtsFlags};
use crate::parse::parse;
use crate::spec;
use crate::strftime::{strftime, Mktime, UtcMktime};
use crate::value::{DateStyle, DateTime, FieldMap, FieldValue, TzInfo};
use crate::zone::LocalZone;

/// borg's `format_line(format, data)`: every top-level `{key}` must be a
/// key of `data` and have no `!conversion` (else
/// [`PlaceholderError::Invalid`]); then `format.format_map(data)`, whose
/// failures become [`PlaceholderError::Formatting`]. Empty field names
/// (`{}`) are not checked and fail in `format_map`. A malformed template
/// is a bare `ValueError` ([`PlaceholderError::Parse`]), raised as soon
/// as the parser reaches it (an invalid placeholder before it wins).
pub fn format_line(template: &str, data: &FieldMap) -> Result<String, PlaceholderError> {
    format_line_with(template, data, &FormatOptions::default())
}

/// [`format_line`] with options (the time zone of glibc's `%s`).
pub fn format_line_with(
    template: &str,
    data: &FieldMap,
    opts: &FormatOptions<'_>,
) -> Result<String, PlaceholderError> {
    for item in parse(template) {
        let item = item.map_err(PlaceholderError::Parse)?;
        if let Some(field) = item.field {
            if field.name.is_empty() {
                continue;
            }
            if field.conversion.is_some() || !data.contains_key(field.name) {
                return Err(PlaceholderError::Invalid {
                    placeholder: field.name.to_string(),
                    text: template.to_string(),
                });
            }
        }
    }
    format_with(template, data, opts).map_err(|error| PlaceholderError::Formatting {
        text: template.to_string(),
        data_repr: data.python_repr(),
        error,
    })
}

/// The values `replace_placeholders` substitutes. Fill it with
/// [`PlaceholderValues::new`] (deterministic) or
/// [`PlaceholderValues::from_system`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceholderValues {
    /// `{pid}`: `os.getpid()`.
    pub pid: u32,
    /// `{fqdn}`: borg's patched `socket.getfqdn()`. `{reverse-fqdn}` is
    /// derived from it.
    pub fqdn: String,
    /// `{hostname}`: `BORG_HOSTNAME` if set and non-empty (the caller
    /// checks it), else `socket.gethostname().split('.')[0]`.
    pub hostname: String,
    /// `{now}`: the current time in the local zone, aware (a fixed-offset
    /// `timezone` named like `tm_zone`); empty spec renders
    /// `%Y-%m-%dT%H:%M:%S`.
    pub now: DateTime,
    /// `{utcnow}`: the same instant in UTC (aware, `timezone.utc`).
    pub utcnow: DateTime,
    /// `{unixtime}`: `int(current_time.timestamp())`.
    pub unixtime: i64,
    /// `{user}`: `BORG_USERNAME` if set and non-empty (the caller checks
    /// it), else the name of the *real* uid (`os.getuid()`), or the uid as
    /// an int when it has no passwd entry.
    pub user: FieldValue,
    /// `{uuid4}`: `str(uuid.uuid4())`.
    pub uuid4: String,
    /// `{borgversion}`, e.g. `1.4.5`; `{borgmajor}` / `{borgminor}` /
    /// `{borgpatch}` are derived from its release numbers.
    pub borgversion: String,
    /// borg's `overrides` (`Location.with_timestamp` replaces `now` and
    /// `utcnow`; use [`PlaceholderValues::with_timestamp`] for that); a key
    /// already present is replaced in place, new keys are appended.
    pub overrides: Vec<(String, FieldValue)>,
}

impl PlaceholderValues {
    /// All values for a current time given as Unix seconds plus
    /// microseconds, converted to local time with `zone`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pid: u32,
        fqdn: impl Into<String>,
        hostname: impl Into<String>,
        user: FieldValue,
        uuid4: impl Into<String>,
        borgversion: impl Into<String>,
        unix_seconds: i64,
        microsecond: u32,
        zone: &LocalZone,
    ) -> Self {
        PlaceholderValues {
            pid,
            fqdn: fqdn.into(),
            hostname: hostname.into(),
            now: zone.astimezone(unix_seconds, microsecond),
            utcnow: DateTime::from_unix_utc(unix_seconds, microsecond),
            unixtime: unix_seconds,
            user,
            uuid4: uuid4.into(),
            borgversion: borgversion.into(),
            overrides: Vec::new(),
        }
    }

    /// `Location.with_timestamp(timestamp)` (`borg create --timestamp`):
    /// `{now}` and `{utcnow}` show the given time; `{unixtime}` stays the
    /// real current time, as in borg.
    pub fn with_timestamp(mut self, unix_seconds: i64, microsecond: u32, zone: &LocalZone) -> Self {
        self.overrides.retain(|(k, _)| k != "now" && k != "utcnow");
        self.overrides.push((
            "now".into(),
            FieldValue::DateTime(
                zone.astimezone(unix_seconds, microsecond),
                DateStyle::Placeholder,
            ),
        ));
        self.overrides.push((
            "utcnow".into(),
            FieldValue::DateTime(
                DateTime::from_unix_utc(unix_seconds, microsecond),
                DateStyle::Placeholder,
            ),
        ));
        self
    }

    /// The dictionary borg builds, in borg's key order.
    pub fn to_field_map(&self) -> FieldMap {
        let (major, minor, patch) = borg_version_parts(&self.borgversion);
        let mut m = FieldMap::new();
        m.insert("pid", FieldValue::Int(i128::from(self.pid)));
        m.insert("fqdn", self.fqdn.as_str());
        m.insert("reverse-fqdn", reverse_fqdn(&self.fqdn));
        m.insert("hostname", self.hostname.as_str());
        m.insert(
            "now",
            FieldValue::DateTime(self.now.clone(), DateStyle::Placeholder),
        );
        m.insert(
            "utcnow",
            FieldValue::DateTime(self.utcnow.clone(), DateStyle::Placeholder),
        );
        m.insert("unixtime", FieldValue::Int(i128::from(self.unixtime)));
        m.insert("user", self.user.clone());
        m.insert("uuid4", self.uuid4.as_str());
        m.insert("borgversion", self.borgversion.as_str());
        m.insert("borgmajor", major);
        m.insert("borgminor", minor);
        m.insert("borgpatch", patch);
        for (k, v) in &self.overrides {
            m.insert(k.as_str(), v.clone());
        }
        m
    }
}

/// `'.'.join(reversed(fqdn.split('.')))`.
pub fn reverse_fqdn(fqdn: &str) -> String {
    fqdn.split('.').rev().collect::<Vec<_>>().join(".")
}

/// `{borgmajor}`, `{borgminor}`, `{borgpatch}` of a version string:
/// `'%d' % release[:1]`, `'%d.%d' % release[:2]`, `'%d.%d.%d' % release[:3]`
/// with `release = packaging.version.parse(v).release`
/// (`1.4.5.dev3+gabc` → `1`, `1.4`, `1.4.5`). Missing components are
/// left out (borg would fail with a `TypeError`).
pub fn borg_version_parts(version: &str) -> (String, String, String) {
    let v = version.trim().trim_start_matches(['v', 'V']);
    let v = v.split_once('!').map_or(v, |(_, r)| r);
    let mut release: Vec<u64> = Vec::new();
    for part in v.split('.') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        release.push(digits.parse().unwrap_or(0));
        if digits.len() != part.len() {
            break;
        }
    }
    let join = |n: usize| {
        release
            .iter()
            .take(n)
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".")
    };
    (join(1), join(2), join(3))
}

/// borg's `replace_placeholders(text)`: `format_line(text, data)` with
/// `{pid}`, `{fqdn}`, `{reverse-fqdn}`, `{hostname}`, `{now}`, `{utcnow}`,
/// `{unixtime}`, `{user}`, `{uuid4}`, `{borgversion}`, `{borgmajor}`,
/// `{borgminor}`, `{borgpatch}` (plus overrides). `{now}`/`{utcnow}`
/// render as `%Y-%m-%dT%H:%M:%S` (no microseconds, no offset) unless a
/// `strftime` spec is given (`{now:%Y-%m-%d}`, `{utcnow:%s}`).
pub fn replace_placeholders(
    text: &str,
    values: &PlaceholderValues,
) -> Result<String, PlaceholderError> {
    format_line(text, &values.to_field_map())
}

/// [`replace_placeholders`] with glibc's `%s` computed in `zone` (borg's
/// process local zone) instead of UTC.
pub fn replace_placeholders_in_zone(
    text: &str,
    values: &PlaceholderValues,
    zone: &LocalZone,
) -> Result<String, PlaceholderError> {
    format_line_with(
        text,
        &values.to_field_map(),
        &FormatOptions { mktime: zone },
    )
}

/// borg's `partial_format(format, mapping)`: for each key of `mapping` in
/// order, every `{key}` or `{key:spec-without-}}` not preceded by `{` is
/// replaced by that piece's `format_map(mapping)`; other text, including
/// unknown keys, is kept. `ItemFormatter` and `ArchiveFormatter` apply it
/// to `--format` with their static keys (`archivename`, `archiveid` for
/// items, then the fixed keys `LF SPACE TAB CR NUL NEWLINE NL`) before
/// formatting each item, so a substituted archive name containing braces
/// is itself interpreted as a template, as in borg.
pub fn partial_format(template: &str, mapping: &FieldMap) -> Result<String, FormatError> {
    let mut s = template.to_string();
    for (key, _) in mapping.iter() {
        let open = format!("{{{key}");
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        let b = s.as_bytes();
        while i < s.len() {
            let preceded = i > 0 && b[i - 1] == b'{';
            if !preceded && s[i..].starts_with(&open) {
                let after = i + open.len();
                let end = if s[after..].starts_with('}') {
                    Some(after + 1)
                } else if s[after..].starts_with(':') {
                    s[after..].find('}').map(|j| after + j + 1)
                } else {
                    None
                };
                if let Some(end) = end {
                    out.push_str(&format(&s[i..end], mapping)?);
                    i = end;
                    continue;
                }
            }
            let c = s[i..].chars().next().unwrap_or('\0');
            out.push(c);
            i += c.len_utf8();
        }
        s = out;
    }
    Ok(s)
}

/// borg's `sizeof_fmt(num, suffix, units, power, sep, precision, sign)`
/// for an int `num`.
pub fn sizeof_fmt(
    num: i128,
    suffix: &str,
    units: &[&str],
    power: u32,
    sep: &str,
    precision: usize,
    sign: bool,
) -> String {
    sizeof_fmt_impl(
        SizeNum::Int(num),
        suffix,
        units,
        power,
        sep,
        precision,
        sign,
    )
}

/// [`sizeof_fmt`] for a float `num`.
pub fn sizeof_fmt_f64(
    num: f64,
    suffix: &str,
    units: &[&str],
    power: u32,
    sep: &str,
    precision: usize,
    sign: bool,
) -> String {
    sizeof_fmt_impl(
        SizeNum::Float(num),
        suffix,
        units,
        power,
        sep,
        precision,
        sign,
    )
}

#[derive(Clone, Copy)]
enum SizeNum {
    Int(i128),
    Float(f64),
}

fn sizeof_fmt_impl(
    num: SizeNum,
    suffix: &str,
    units: &[&str],
    power: u32,
    sep: &str,
    precision: usize,
    sign: bool,
) -> String {
    let positive = match num {
        SizeNum::Int(i) => i > 0,
        SizeNum::Float(f) => f > 0.0,
    };
    let sign_s = if sign && positive { "+" } else { "" };
    let mut num = num;
    let mut prec = 0;
    let mut unit = units.last().copied().unwrap_or("");
    for &u in &units[..units.len().saturating_sub(1)] {
        let small = match num {
            SizeNum::Int(i) => i.unsigned_abs() < u128::from(power),
            SizeNum::Float(f) => py_round(f, precision).abs() < f64::from(power),
        };
        if small {
            unit = u;
            break;
        }
        num = SizeNum::Float(
            match num {
                SizeNum::Int(i) => i as f64,
                SizeNum::Float(f) => f,
            } / f64::from(power),
        );
        prec = precision;
    }
    let spec = format!("{sign_s}.{prec}f");
    let n = match num {
        SizeNum::Int(i) => spec::format_int(i, &spec, "int"),
        SizeNum::Float(f) => spec::format_float(f, &spec),
    }
    .unwrap_or_default();
    format!("{n}{sep}{unit}{suffix}")
}

const DECIMAL_UNITS: [&str; 9] = ["", "k", "M", "G", "T", "P", "E", "Z", "Y"];
const IEC_UNITS: [&str; 9] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"];

/// borg's `sizeof_fmt_decimal(num, suffix, sep, precision, sign)` (units
/// `k M G T P E Z Y`, power 1000).
pub fn sizeof_fmt_decimal(
    num: i128,
    suffix: &str,
    sep: &str,
    precision: usize,
    sign: bool,
) -> String {
    sizeof_fmt(num, suffix, &DECIMAL_UNITS, 1000, sep, precision, sign)
}

/// borg's `sizeof_fmt_iec(num, suffix, sep, precision, sign)` (units
/// `Ki Mi Gi ...`, power 1024).
pub fn sizeof_fmt_iec(num: i128, suffix: &str, sep: &str, precision: usize, sign: bool) -> String {
    sizeof_fmt(num, suffix, &IEC_UNITS, 1024, sep, precision, sign)
}

/// borg's `format_file_size(v, precision=2, sign=False, iec=False)`:
/// `0 B`, `999 B`, `1.00 kB`, `1.23 MB`, `-5.00 GB`, `1.00 KiB` (iec).
/// Bytes below one unit have no decimals.
pub fn format_file_size(v: i128, precision: usize, sign: bool, iec: bool) -> String {
    if iec {
        sizeof_fmt_iec(v, "B", " ", precision, sign)
    } else {
        sizeof_fmt_decimal(v, "B", " ", precision, sign)
    }
}

/// [`format_file_size`] for a float (borg passes floats in a few log
/// messages, e.g. `num_chunks * 34 / duration`).
pub fn format_file_size_f64(v: f64, precision: usize, sign: bool, iec: bool) -> String {
    let (units, power): (&[&str], u32) = if iec {
        (&IEC_UNITS, 1024)
    } else {
        (&DECIMAL_UNITS, 1000)
    };
    sizeof_fmt_f64(v, "B", units, power, " ", precision, sign)
}

/// borg's `format_time(ts, format_spec='')`: `ts.strftime(format_spec or
/// '%a, %Y-%m-%d %H:%M:%S')`, e.g. `Sun, 2026-11-22 01:40:48`.
pub fn format_time(ts: &DateTime, format_spec: &str) -> Result<String, FormatError> {
    let fmt = if format_spec.is_empty() {
        OUTPUT_TIME_FORMAT
    } else {
        format_spec
    };
    strftime(ts, fmt, &UtcMktime)
}

/// [`format_time`] with glibc's `%s` computed in `mk`'s zone.
pub fn format_time_with(
    ts: &DateTime,
    format_spec: &str,
    mk: &dyn Mktime,
) -> Result<String, FormatError> {
    let fmt = if format_spec.is_empty() {
        OUTPUT_TIME_FORMAT
    } else {
        format_spec
    };
    strftime(ts, fmt, mk)
}

/// borg's `isoformat_time(ts)` = `OutputTimestamp.isoformat()` =
/// `to_json()`: `ts.strftime('%Y-%m-%dT%H:%M:%S.%f')`, always with six
/// microsecond digits and never with an offset (borg's timestamps are naive
/// local times), e.g. `2026-11-22T01:40:48.000000`.
pub fn isoformat_time(ts: &DateTime) -> String {
    strftime(ts, ISO_FORMAT, &UtcMktime).unwrap_or_default()
}

/// `timedelta(seconds=x)`: a float number of seconds rounded to whole
/// microseconds exactly as CPython does (round half to even).
pub fn timedelta_from_seconds(x: f64) -> i64 {
    let intpart = x.trunc();
    let frac = x - intpart;
    let base = intpart as i64 * 1_000_000;
    if frac == 0.0 {
        return base;
    }
    let dnum = 1e6 * frac;
    let ip2 = dnum.trunc();
    let leftover = dnum - ip2;
    let x_us = base + ip2 as i64;
    let mut whole = leftover.round();
    if (whole - leftover).abs() == 0.5 {
        let odd = (x_us & 1) as f64;
        whole = 2.0 * ((leftover + odd) * 0.5).round() - odd;
    }
    x_us + whole as i64
}

/// Python's float `%` (the result has the divisor's sign).
fn py_fmod(x: f64, y: f64) -> f64 {
    let m = x % y;
    if m != 0.0 {
        if (y < 0.0) != (m < 0.0) {
            m + y
        } else {
            m
        }
    } else {
        0.0f64.copysign(y)
    }
}

/// borg's `format_timedelta(td)` for a timedelta of `total_us`
/// microseconds: `1 days 2 hours 3 minutes 4.50 seconds`, leaving out
/// zero days/hours/minutes (`5.31 seconds`, `1 minutes 5.31 seconds`).
pub fn format_timedelta(total_us: i64) -> String {
    let ts = total_us as f64 / 1e6;
    let s = py_fmod(ts, 60.0);
    let m = ((ts / 60.0).trunc() as i64).rem_euclid(60);
    let h = ((ts / 3600.0).trunc() as i64).rem_euclid(24);
    let days = total_us.div_euclid(86_400_000_000);
    let mut txt = format!(
        "{} seconds",
        double_to_string(s, 'f', 2, DtsFlags::default())
    );
    if m != 0 {
        txt = format!("{m} minutes {txt}");
    }
    if h != 0 {
        txt = format!("{h} hours {txt}");
    }
    if days != 0 {
        txt = format!("{days} days {txt}");
    }
    txt
}

/// `format_timedelta(timedelta(seconds=secs))`, as `borg info` prints the
/// `duration` float of `Archive.info()`.
pub fn format_timedelta_seconds(secs: f64) -> String {
    format_timedelta(timedelta_from_seconds(secs))
}

/// borg's `format_archive(archive)`: `'%-36s %s [%s]' % (name,
/// format_time(to_localtime(ts)), id_hex)`; `local_ts` is the result of
/// [`crate::to_localtime`].
pub fn format_archive(name: &str, local_ts: &DateTime, id_hex: &str) -> String {
    let t = format_time(local_ts, "").unwrap_or_default();
    let n = name.chars().count();
    let pad = " ".repeat(36usize.saturating_sub(n));
    format!("{name}{pad} {t} [{id_hex}]")
}

/// Python's `stat.filemode(mode)` (the C `_stat` version): the type
/// character (`- d l b c p s`, `?` for unknown types) and the nine
/// permission characters with setuid/setgid/sticky as `s S s S t T`.
pub fn filemode(mode: u32) -> String {
    let t = match mode & 0o170000 {
        0o100000 => '-',
        0o040000 => 'd',
        0o120000 => 'l',
        0o060000 => 'b',
        0o020000 => 'c',
        0o010000 => 'p',
        0o140000 => 's',
        _ => '?',
    };
    let bit = |m: u32, c: char| if mode & m != 0 { c } else { '-' };
    let special = |x: u32, s: u32, on: char, off: char| match (mode & s != 0, mode & x != 0) {
        (true, true) => on,
        (true, false) => off,
        (false, true) => 'x',
        (false, false) => '-',
    };
    [
        t,
        bit(0o400, 'r'),
        bit(0o200, 'w'),
        special(0o100, 0o4000, 's', 'S'),
        bit(0o040, 'r'),
        bit(0o020, 'w'),
        special(0o010, 0o2000, 's', 'S'),
        bit(0o004, 'r'),
        bit(0o002, 'w'),
        special(0o001, 0o1000, 't', 'T'),
    ]
    .iter()
    .collect()
}

/// What borg's `ItemFormatter` derives from an item's mode and `source`:
/// `(mode, type, extra)`. `mode` is `stat.filemode(mode)`, with its first
/// character replaced by `h` for a hardlink (an item with a `source` that
/// is not a symlink); `type` is the first character of `filemode` (so `-`
/// for a hardlink, not `h`); `extra` is ` -> {source}` for symlinks and
/// ` link to {source}` for hardlinks, else empty. Pass `source` after
/// `remove_surrogates` (undecodable bytes as `?`).
pub fn item_mode_type_extra(mode: u32, source: &str) -> (String, char, String) {
    let fm = filemode(mode);
    let ty = fm.chars().next().unwrap_or('?');
    if source.is_empty() {
        return (fm, ty, String::new());
    }
    if ty == 'l' {
        (fm, ty, format!(" -> {source}"))
    } else {
        (format!("h{}", &fm[1..]), ty, format!(" link to {source}"))
    }
}

/// `BaseFormatter.FIXED_KEYS` (in borg's order) for a platform whose
/// `os.linesep` is `linesep` (`"\n"` on POSIX).
pub fn fixed_keys(linesep: &str) -> FieldMap {
    let mut m = FieldMap::new();
    m.insert("LF", "\n");
    m.insert("SPACE", " ");
    m.insert("TAB", "\t");
    m.insert("CR", "\r");
    m.insert("NUL", "\0");
    m.insert("NEWLINE", linesep);
    m.insert("NL", linesep);
    m
}

/// `borg list ARCHIVE` default format.
pub const DEFAULT_ITEM_FORMAT: &str =
    "{mode} {user:6} {group:6} {size:8} {mtime} {path}{extra}{NL}";
/// `borg list --short ARCHIVE` format.
pub const SHORT_ITEM_FORMAT: &str = "{path}{NL}";
/// `borg list REPO` default format.
pub const DEFAULT_ARCHIVE_FORMAT: &str = "{archive:<36} {time} [{id}]{NL}";
/// `borg list --short REPO` format.
pub const SHORT_ARCHIVE_FORMAT: &str = "{archive}{NL}";

/// borg's `remove_surrogates(safe_decode(raw))` for raw bytes (`path`,
/// `archive`, `comment` keys): every byte that is not part of valid UTF-8
/// becomes `?`.
pub fn remove_surrogates(raw: &[u8]) -> String {
    crate::pyrepr::bytes_to_output(raw)
}

/// A plain naive `datetime` as borg's `OutputTimestamp` field value.
pub fn output_timestamp(dt: DateTime) -> FieldValue {
    FieldValue::DateTime(dt, DateStyle::Output)
}

/// `OutputTimestamp(ts)` for an aware UTC timestamp (archive times): the
/// local time without microseconds (see [`crate::to_localtime`]).
pub fn output_timestamp_utc(unix_seconds: i64, microsecond: u32, zone: &LocalZone) -> FieldValue {
    output_timestamp(crate::zone::to_localtime(unix_seconds, microsecond, zone))
}

/// A fixed-offset zone info (used by tests and callers that already know
/// the offset).
pub fn fixed_tz(offset_seconds: i32, name: Option<&str>) -> TzInfo {
    TzInfo {
        offset_seconds,
        name: name.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(format_file_size(0, 2, false, false), "0 B");
        assert_eq!(format_file_size(999, 2, false, false), "999 B");
        assert_eq!(format_file_size(1000, 2, false, false), "1.00 kB");
        assert_eq!(format_file_size(999_995, 2, false, false), "1.00 MB");
        assert_eq!(format_file_size(1_234_567, 2, false, false), "1.23 MB");
        assert_eq!(format_file_size(-1_234_567, 1, true, false), "-1.2 MB");
        assert_eq!(format_file_size(1_234_567, 1, true, false), "+1.2 MB");
        assert_eq!(format_file_size(1024, 2, false, true), "1.00 KiB");
    }

    #[test]
    fn timedeltas() {
        assert_eq!(format_timedelta(65_310_000), "1 minutes 5.31 seconds");
        assert_eq!(format_timedelta(5_310_000), "5.31 seconds");
        assert_eq!(
            format_timedelta(90_061_500_000),
            "1 days 1 hours 1 minutes 1.50 seconds"
        );
        assert_eq!(format_timedelta(-5_000_000), "-1 days 55.00 seconds");
        assert_eq!(timedelta_from_seconds(1.0000005), 1_000_001);
        assert_eq!(timedelta_from_seconds(1.0000015), 1_000_001);
        assert_eq!(timedelta_from_seconds(1.5), 1_500_000);
    }

    #[test]
    fn modes() {
        assert_eq!(filemode(0o100644), "-rw-r--r--");
        assert_eq!(filemode(0o40755), "drwxr-xr-x");
        assert_eq!(filemode(0o120777), "lrwxrwxrwx");
        assert_eq!(filemode(0o107777), "-rwsrwsrwt");
        assert_eq!(filemode(0o7000), "?--S--S--T");
        assert_eq!(
            item_mode_type_extra(0o100644, "a/b"),
            ("hrw-r--r--".into(), '-', " link to a/b".into())
        );
    }

    #[test]
    fn placeholders() {
        let v = PlaceholderValues::new(
            1234,
            "host.example.com",
            "host",
            FieldValue::str("root"),
            "11111111-2222-4333-8444-555555555555",
            "1.4.5",
            1_700_000_000,
            123_456,
            &LocalZone::fixed(3600),
        );
        assert_eq!(
            replace_placeholders(
                "{hostname}-{now}-{utcnow:%H}-{reverse-fqdn}-{borgminor}",
                &v
            )
            .unwrap(),
            "host-2023-11-14T23:13:20-22-com.example.host-1.4"
        );
        assert!(matches!(
            replace_placeholders("{nope}", &v),
            Err(PlaceholderError::Invalid { .. })
        ));
        assert!(matches!(
            replace_placeholders("{pid!r}", &v),
            Err(PlaceholderError::Invalid { .. })
        ));
        assert!(replace_placeholders("{pid:x<}", &v).is_ok());
        assert!(matches!(
            replace_placeholders("{pid:s}", &v),
            Err(PlaceholderError::Formatting { .. })
        ));
        assert!(matches!(
            replace_placeholders("x}", &v),
            Err(PlaceholderError::Parse(_))
        ));
    }

    #[test]
    fn partial() {
        let mut m = FieldMap::new();
        m.insert("archivename", "a{b}");
        m.extend_fixed();
        assert_eq!(
            partial_format("{archivename} {{NL}} {NL:>3}{x}", &m).unwrap(),
            "a{b} {{NL}}   \n{x}"
        );
    }

    impl FieldMap {
        fn extend_fixed(&mut self) {
            for (k, v) in fixed_keys("\n").iter() {
                self.insert(k, v.clone());
            }
        }
    }
}
