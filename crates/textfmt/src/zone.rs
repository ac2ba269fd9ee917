//! The local time zone, as glibc's `localtime`/`mktime` see it, and borg's
//! conversions of timestamps to local datetimes (`helpers/time.py`).
//!
//! Nothing here reads environment variables: [`LocalZone::system`] reads
//! `/etc/localtime` (what glibc uses when `TZ` is unset); a caller that
//! honours `TZ` passes its value to [`LocalZone::from_tz`].

use crate::strftime::Mktime;
use crate::value::{DateTime, TzInfo};

/// A time zone: UTC offset and abbreviation for every instant.
#[derive(Debug, Clone)]
pub struct LocalZone {
    tz: tz::TimeZone,
}

impl LocalZone {
    /// UTC (abbreviation `UTC`).
    pub fn utc() -> Self {
        LocalZone {
            tz: tz::TimeZone::utc(),
        }
    }

    /// A fixed offset east of UTC, in seconds, without an abbreviation.
    pub fn fixed(offset_seconds: i32) -> Self {
        LocalZone {
            tz: tz::TimeZone::fixed(offset_seconds).unwrap_or_else(|_| tz::TimeZone::utc()),
        }
    }

    /// The system's zone, `/etc/localtime` (glibc's choice when `TZ` is
    /// unset); UTC if it cannot be read.
    pub fn system() -> Self {
        match tz::TimeZone::local() {
            Ok(tz) => LocalZone { tz },
            Err(_) => Self::utc(),
        }
    }

    /// The zone glibc uses for the environment value `TZ=value`: `""` is
    /// UTC, `:path` or a name is a TZif file (relative to
    /// `/usr/share/zoneinfo`), anything else a POSIX TZ rule
    /// (`CET-1CEST,M3.5.0,M10.5.0/3`). Like glibc, an invalid value gives UTC.
    pub fn from_tz(value: &str) -> Self {
        if value.is_empty() {
            return match tz::TimeZone::from_posix_tz("Universal") {
                Ok(tz) => LocalZone { tz },
                Err(_) => Self::utc(),
            };
        }
        match tz::TimeZone::from_posix_tz(value) {
            Ok(tz) => LocalZone { tz },
            Err(_) => Self::utc(),
        }
    }

    /// A zone from the bytes of a TZif file.
    pub fn from_tzif(bytes: &[u8]) -> Option<Self> {
        tz::TimeZone::from_tz_data(bytes)
            .ok()
            .map(|tz| LocalZone { tz })
    }

    /// `(tm_gmtoff, tm_zone)` of `localtime(unix_seconds)`.
    pub fn offset_at(&self, unix_seconds: i64) -> (i32, String) {
        match self.tz.find_local_time_type(unix_seconds) {
            Ok(t) => {
                let name = t.time_zone_designation();
                let name = if name.is_empty() && t.ut_offset() == 0 {
                    "UTC".to_string()
                } else {
                    name.to_string()
                };
                (t.ut_offset(), name)
            }
            Err(_) => (0, "UTC".to_string()),
        }
    }

    /// `datetime.fromtimestamp(t)` as an aware datetime in this zone:
    /// what `utc_dt.astimezone(None)` gives (a fixed-offset `timezone`
    /// named by `tm_zone`).
    pub fn astimezone(&self, unix_seconds: i64, microsecond: u32) -> DateTime {
        let (off, name) = self.offset_at(unix_seconds);
        DateTime::from_unix_with_offset(
            unix_seconds,
            microsecond,
            TzInfo {
                offset_seconds: off,
                name: Some(name),
            },
        )
    }

    /// The naive local wall-clock fields of `localtime(unix_seconds)`.
    pub fn localtime(&self, unix_seconds: i64, microsecond: u32) -> DateTime {
        let (off, _) = self.offset_at(unix_seconds);
        DateTime::naive_from_unix(unix_seconds + i64::from(off), microsecond)
    }
}

impl Mktime for LocalZone {
    /// glibc `mktime` of local wall-clock fields with `tm_isdst = -1`.
    /// For times that are ambiguous or skipped by a DST change this picks
    /// the offset in force one offset-length earlier, which may differ
    /// from glibc's choice.
    fn mktime(&self, dt: &DateTime) -> i64 {
        let naive = dt.naive_unix_seconds();
        let (o1, _) = self.offset_at(naive);
        let (o2, _) = self.offset_at(naive - i64::from(o1));
        let t = naive - i64::from(o2);
        if t + i64::from(self.offset_at(t).0) == naive {
            return t;
        }
        naive - i64::from(o1)
    }
}

/// borg's `helpers.time.MAX_S` (`SUPPORT_32BIT_PLATFORMS`): `2**31-1 - 48*3600`.
pub const MAX_S: i64 = (1 << 31) - 1 - 48 * 3600;
/// borg's `MAX_NS = MAX_S * 1000000000`.
pub const MAX_NS: i128 = MAX_S as i128 * 1_000_000_000;

/// borg's `to_localtime(ts)` for an aware UTC datetime given as Unix
/// seconds plus microseconds: `datetime(*time.localtime(seconds)[:6])`,
/// a naive local datetime with the microseconds dropped (the seconds are
/// floored). This is what `OutputTimestamp` does with archive times, so
/// `{time}`, `{start}`, `{end}` and their JSON forms never show
/// sub-second digits (JSON: always `.000000`).
pub fn to_localtime(unix_seconds: i64, microsecond: u32, zone: &LocalZone) -> DateTime {
    // (ts - epoch).total_seconds(), then floor (time.localtime rounds down).
    let total_us = i128::from(unix_seconds) * 1_000_000 + i128::from(microsecond);
    let secs = (total_us as f64 / 1e6).floor() as i64;
    zone.localtime(secs, 0)
}

/// borg's `safe_ns(ts)`: clamp to `0..=MAX_NS`.
pub fn safe_ns(ns: i128) -> i128 {
    ns.clamp(0, MAX_NS)
}

/// borg's `safe_timestamp(item_timestamp_ns)`:
/// `datetime.fromtimestamp(safe_ns(ns) / 1e9)`, a naive local datetime
/// with microseconds (rounded half to even from the float, like CPython).
/// Used for the `mtime`/`ctime`/`atime`/`isomtime`... keys of `--format`.
pub fn safe_timestamp(ns: i128, zone: &LocalZone) -> DateTime {
    let d = safe_ns(ns) as f64 / 1e9;
    let (secs, us) = float_to_timeval_half_even(d);
    zone.localtime(secs, us)
}

/// `_PyTime_ObjectToTimeval(d, ROUND_HALF_EVEN)` for a float.
fn float_to_timeval_half_even(d: f64) -> (i64, u32) {
    let mut intpart = d.trunc();
    let mut frac = (d - intpart) * 1e6;
    let rounded = frac.round();
    frac = if (frac - rounded).abs() == 0.5 {
        2.0 * (frac / 2.0).round()
    } else {
        rounded
    };
    if frac >= 1e6 {
        frac -= 1e6;
        intpart += 1.0;
    } else if frac < 0.0 {
        frac += 1e6;
        intpart -= 1.0;
    }
    (intpart as i64, frac as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let z = LocalZone::from_tz("CET-1CEST,M3.5.0,M10.5.0/3");
        assert_eq!(z.offset_at(1_700_000_000), (3600, "CET".to_string()));
        assert_eq!(z.offset_at(1_690_000_000), (7200, "CEST".to_string()));
        let dt = z.astimezone(1_700_000_000, 5);
        assert_eq!(dt.python_str(), "2023-11-14 23:13:20.000005+01:00");
        assert_eq!(z.mktime(&dt), 1_700_000_000);
        assert_eq!(LocalZone::utc().offset_at(0), (0, "UTC".to_string()));
    }

    #[test]
    fn timestamps() {
        let z = LocalZone::utc();
        assert_eq!(
            to_localtime(1_700_000_000, 999_999, &z).python_str(),
            "2023-11-14 22:13:20"
        );
        assert_eq!(
            safe_timestamp(1_700_000_000_123_456_789, &z).python_str(),
            "2023-11-14 22:13:20.123457"
        );
        assert_eq!(safe_timestamp(-5, &z).python_str(), "1970-01-01 00:00:00");
    }
}
