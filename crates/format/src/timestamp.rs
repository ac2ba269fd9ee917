//! borg's UTC time strings (`ISO_FORMAT = '%Y-%m-%dT%H:%M:%S.%f'`), with a
//! small proleptic-Gregorian calendar so no date crate is needed.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::ModelError;

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Days from 1970-01-01 to the given proleptic Gregorian date (negative
/// before the epoch). `month` is 1..=12, `day` 1..=31.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a day number as
/// returned by [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days in `month` of `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A naive UTC instant with microsecond resolution: what borg's time strings
/// hold. The representable range is Python's `datetime`: years 1..=9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTimestamp {
    micros: i64,
}

impl UtcTimestamp {
    /// 0001-01-01T00:00:00.000000.
    pub const MIN: UtcTimestamp = UtcTimestamp {
        micros: -62_135_596_800 * MICROS_PER_SEC,
    };
    /// 9999-12-31T23:59:59.999999.
    pub const MAX: UtcTimestamp = UtcTimestamp {
        micros: 253_402_300_800 * MICROS_PER_SEC - 1,
    };

    /// From microseconds since the Unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        UtcTimestamp { micros }
    }

    /// From nanoseconds since the Unix epoch (rounded toward minus infinity,
    /// saturating).
    pub fn from_unix_nanos(nanos: i128) -> Self {
        let us = nanos.div_euclid(1000);
        UtcTimestamp {
            micros: i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX }),
        }
    }

    /// From seconds and microseconds since the Unix epoch.
    pub fn from_unix_parts(secs: i64, micros: u32) -> Self {
        UtcTimestamp {
            micros: secs
                .saturating_mul(MICROS_PER_SEC)
                .saturating_add(i64::from(micros)),
        }
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.micros
    }

    /// Nanoseconds since the Unix epoch (whole microseconds).
    pub fn unix_nanos(self) -> i128 {
        i128::from(self.micros) * 1000
    }

    /// Whole seconds since the Unix epoch (floor).
    pub fn unix_seconds(self) -> i64 {
        self.micros.div_euclid(MICROS_PER_SEC)
    }

    /// The microsecond part, 0..=999_999.
    pub fn subsec_micros(self) -> u32 {
        self.micros.rem_euclid(MICROS_PER_SEC) as u32
    }

    /// From a [`SystemTime`] (truncated to microseconds, saturating).
    pub fn from_system_time(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => UtcTimestamp {
                micros: i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            },
            Err(e) => {
                let d = e.duration();
                let us = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
                // Round toward minus infinity for sub-microsecond remainders.
                let extra = i64::from(d.subsec_nanos() % 1000 != 0);
                UtcTimestamp {
                    micros: us.saturating_add(extra).saturating_neg(),
                }
            }
        }
    }

    /// As a [`SystemTime`] (the epoch if the platform cannot represent it).
    pub fn to_system_time(self) -> SystemTime {
        let abs = Duration::from_micros(self.micros.unsigned_abs());
        let t = if self.micros >= 0 {
            UNIX_EPOCH.checked_add(abs)
        } else {
            UNIX_EPOCH.checked_sub(abs)
        };
        // Out of the platform's range only for absurd values: saturate at the epoch.
        t.unwrap_or(UNIX_EPOCH)
    }

    /// The current time (reads the system clock; no other I/O).
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// `self + micros`, or `None` when leaving the 1..=9999 year range.
    pub fn checked_add_micros(self, micros: i64) -> Option<Self> {
        let m = self.micros.checked_add(micros)?;
        let t = UtcTimestamp { micros: m };
        (Self::MIN..=Self::MAX).contains(&t).then_some(t)
    }

    /// `(year, month, day, hour, minute, second, microsecond)`.
    pub fn to_civil(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let secs = self.unix_seconds();
        let days = secs.div_euclid(SECS_PER_DAY);
        let sod = secs.rem_euclid(SECS_PER_DAY) as u32;
        let (y, m, d) = civil_from_days(days);
        (
            y,
            m,
            d,
            sod / 3600,
            (sod / 60) % 60,
            sod % 60,
            self.subsec_micros(),
        )
    }

    /// From calendar fields; `None` when any field is out of range.
    pub fn from_civil(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        micro: u32,
    ) -> Option<Self> {
        if !(1..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
            || micro > 999_999
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * SECS_PER_DAY
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        Some(UtcTimestamp {
            micros: secs * MICROS_PER_SEC + i64::from(micro),
        })
    }

    /// Format as borg's `ISO_FORMAT`, always with 6 fractional digits, e.g.
    /// `2026-11-22T01:40:48.386070` (26 characters for years 1000..=9999).
    pub fn format_iso(self) -> String {
        let (y, mo, d, h, mi, s, us) = self.to_civil();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}")
    }

    /// Parse a time string the way borg's `parse_timestamp` does: with
    /// `ISO_FORMAT` (`%Y-%m-%dT%H:%M:%S.%f`) when it contains a `.`, else
    /// without the fraction. Follows Python's `strptime` leniency (one-digit
    /// fields, 1–6 fraction digits, `t` for `T`).
    pub fn parse_iso(s: &str) -> Result<Self, ModelError> {
        let bad = || ModelError::BadTimestamp(s.to_string());
        let b = s.as_bytes();
        let mut p = Parser { b, i: 0 };
        let year = p.digits(4, 4).ok_or_else(bad)?;
        p.lit(b'-').ok_or_else(bad)?;
        let month = p.field12(false).ok_or_else(bad)?;
        p.lit(b'-').ok_or_else(bad)?;
        let day = p.field12(true).ok_or_else(bad)?;
        if !(p.lit(b'T').is_some() || p.lit(b't').is_some()) {
            return Err(bad());
        }
        let hour = p.field12(false).ok_or_else(bad)?;
        p.lit(b':').ok_or_else(bad)?;
        let minute = p.field12(false).ok_or_else(bad)?;
        p.lit(b':').ok_or_else(bad)?;
        let second = p.field12(false).ok_or_else(bad)?;
        let mut micro = 0u32;
        if b.contains(&b'.') {
            p.lit(b'.').ok_or_else(bad)?;
            let start = p.i;
            let f = p.digits(1, 6).ok_or_else(bad)?;
            let n = p.i - start;
            micro = (f * 10u64.pow(6 - n as u32)) as u32;
        }
        if p.i != b.len() {
            return Err(bad());
        }
        // strptime's own field ranges (the regexes) ...
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
            return Err(bad());
        }
        // ... then datetime's.
        UtcTimestamp::from_civil(
            year as i64,
            month as u32,
            day as u32,
            hour as u32,
            minute as u32,
            second as u32,
            micro,
        )
        .ok_or_else(bad)
    }
}

impl fmt::Display for UtcTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_iso())
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn lit(&mut self, c: u8) -> Option<()> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// Between `min` and `max` ASCII digits (greedy).
    fn digits(&mut self, min: usize, max: usize) -> Option<u64> {
        let start = self.i;
        let mut v = 0u64;
        while self.i - start < max {
            match self.b.get(self.i) {
                Some(c @ b'0'..=b'9') => {
                    v = v * 10 + u64::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(v)
    }

    /// A one- or two-digit field; with `space_pad`, `" 7"` is accepted too
    /// (strptime's `%d`). Two-digit values with a leading zero must not be 0.
    fn field12(&mut self, space_pad: bool) -> Option<u64> {
        if space_pad && self.b.get(self.i) == Some(&b' ') {
            self.i += 1;
            let v = self.digits(1, 1)?;
            return (v != 0).then_some(v);
        }
        let v = self.digits(1, 2)?;
        // A third digit would be "unconverted data" or a separator mismatch.
        if matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
            return None;
        }
        Some(v)
    }
}

/// The manifest `timestamp` to write (borg's `Manifest.write`): `now` for the
/// first write; afterwards the string maximum of `previous + 1 µs` and `now`,
/// both in `ISO_FORMAT`, so the value increases strictly even if the clock
/// goes backwards.
pub fn next_manifest_timestamp(
    previous: Option<&str>,
    now: UtcTimestamp,
) -> Result<String, ModelError> {
    let now_s = now.format_iso();
    let Some(prev) = previous else {
        return Ok(now_s);
    };
    let incremented = UtcTimestamp::parse_iso(prev)?
        .checked_add_micros(1)
        .ok_or_else(|| ModelError::BadTimestamp(prev.to_string()))?
        .format_iso();
    Ok(incremented.max(now_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for days in (-800_000i64..3_000_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn format_and_parse() {
        let t = UtcTimestamp::from_unix_parts(1_795_311_648, 386_070);
        assert_eq!(t.format_iso(), "2026-11-22T01:40:48.386070");
        assert_eq!(
            UtcTimestamp::parse_iso("2026-11-22T01:40:48.386070").unwrap(),
            t
        );
        assert_eq!(
            UtcTimestamp::parse_iso("2026-11-22T01:40:48").unwrap(),
            UtcTimestamp::from_unix_parts(1_795_311_648, 0)
        );
        assert_eq!(
            UtcTimestamp::parse_iso("2026-11-22T01:40:48.38607").unwrap(),
            t
        );
        assert_eq!(
            UtcTimestamp::parse_iso("2026-1-2t1:4:8.5")
                .unwrap()
                .format_iso(),
            "2026-01-02T01:04:08.500000"
        );
        assert_eq!(UtcTimestamp::MIN.format_iso(), "0001-01-01T00:00:00.000000");
        assert_eq!(UtcTimestamp::MAX.format_iso(), "9999-12-31T23:59:59.999999");
        assert_eq!(
            UtcTimestamp::from_unix_micros(-1).format_iso(),
            "1969-12-31T23:59:59.999999"
        );
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T01:40:48.",
            "2026-11-22T01:40:48.1234567",
            "2026-13-22T01:40:48",
            "2026-02-29T01:40:48",
            "2026-11-22T24:00:00",
            "2026-11-22T01:40:60",
            "2026-11-22T01:40:48Z",
            "0000-01-01T00:00:00",
            "2026-00-22T01:40:48",
            "2026-011-22T01:40:48",
        ] {
            assert!(UtcTimestamp::parse_iso(bad).is_err(), "{bad}");
        }
        assert!(UtcTimestamp::parse_iso("2024-02-29T00:00:00").is_ok());
        assert!(UtcTimestamp::parse_iso("2024-02- 9T00:00:00").is_ok());
    }

    #[test]
    fn next_timestamp_rule() {
        let now = UtcTimestamp::parse_iso("2026-01-01T00:00:00.000000").unwrap();
        assert_eq!(
            next_manifest_timestamp(None, now).unwrap(),
            "2026-01-01T00:00:00.000000"
        );
        // Clock went backwards: previous + 1 µs wins.
        assert_eq!(
            next_manifest_timestamp(Some("2027-05-05T10:10:10.999999"), now).unwrap(),
            "2027-05-05T10:10:11.000000"
        );
        // Normal case: now wins.
        assert_eq!(
            next_manifest_timestamp(Some("2025-05-05T10:10:10"), now).unwrap(),
            "2026-01-01T00:00:00.000000"
        );
        assert!(next_manifest_timestamp(Some("9999-12-31T23:59:59.999999"), now).is_err());
        assert!(next_manifest_timestamp(Some("garbage"), now).is_err());
    }

    #[test]
    fn system_time_roundtrip() {
        let t = UtcTimestamp::from_unix_micros(-1_500_000);
        assert_eq!(UtcTimestamp::from_system_time(t.to_system_time()), t);
        let t = UtcTimestamp::from_unix_micros(1_700_000_000_123_456);
        assert_eq!(UtcTimestamp::from_system_time(t.to_system_time()), t);
        assert_eq!(UtcTimestamp::from_unix_nanos(-1).unix_micros(), -1);
    }
}
