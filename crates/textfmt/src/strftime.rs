//! `datetime.strftime` as CPython 3.11 on glibc 2.36 does it in the C
//! locale (Python never sets `LC_TIME`, and neither does borg).
//!
//! CPython first replaces `%z`, `%Z` and `%f` itself (`wrap_strftime`), then
//! hands the rest to `time.strftime`, i.e. glibc's `strftime` with a
//! `struct tm` whose `tm_isdst` is -1, `tm_gmtoff` 0 and `tm_zone` NULL.
//! CPython uses the wide-character `wcsftime`, so widths count characters
//! and case changes (`^`, `#`) use `towupper`/`towlower`.
//! glibc's flags (`_ - 0 ^ #`), field widths and the `E`/`O` modifiers are
//! supported, and unknown conversions are copied literally, like glibc.

use crate::error::FormatError;
use crate::value::{format_offset, DateTime};

/// Converts local wall-clock fields to a Unix time, for glibc's `%s`
/// (`mktime` with `tm_isdst = -1` in the process's time zone).
pub trait Mktime {
    /// The Unix time of the naive local fields of `dt`.
    fn mktime(&self, dt: &DateTime) -> i64;
}

/// `mktime` in UTC (what glibc does when `TZ` is UTC).
#[derive(Debug, Clone, Copy, Default)]
pub struct UtcMktime;

impl Mktime for UtcMktime {
    fn mktime(&self, dt: &DateTime) -> i64 {
        dt.naive_unix_seconds()
    }
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Python's `dt.strftime(fmt)` (what `format(dt, fmt)` does for a
/// non-empty `fmt`).
pub fn strftime(dt: &DateTime, fmt: &str, mk: &dyn Mktime) -> Result<String, FormatError> {
    // wrap_strftime: replace %z, %Z, %f.
    let mut newfmt = String::with_capacity(fmt.len() + 8);
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            newfmt.push(c);
            continue;
        }
        match chars.next() {
            None => newfmt.push('%'),
            Some('z') => {
                if let Some(tz) = &dt.tz {
                    newfmt.push_str(&format_offset(tz.offset_seconds, ""));
                }
            }
            Some('Z') => {
                if let Some(tz) = &dt.tz {
                    newfmt.push_str(&tz.tzname().replace('%', "%%"));
                }
            }
            Some('f') => newfmt.push_str(&format!("{:06}", dt.microsecond)),
            Some(other) => {
                newfmt.push('%');
                newfmt.push(other);
            }
        }
    }
    if newfmt.contains('\0') {
        return Err(FormatError::value("embedded null character"));
    }
    // time.strftime: buffers of 1024, 2048, ... wide characters until the
    // result fits (wcsftime needs room for the NUL), giving up with '' once
    // the buffer reaches 256 times the format's length.
    let fmt_chars: Vec<char> = newfmt.chars().collect();
    let fmtlen = fmt_chars.len();
    let mut limit = 1024usize;
    while limit < 256 * fmtlen {
        limit *= 2;
    }
    let tm = Tm::new(dt);
    let mut out = Out {
        buf: String::new(),
        len: 0,
        max: limit - 1,
        overflow: false,
    };
    glibc_strftime(&mut out, &fmt_chars, &tm, mk, dt);
    if out.overflow {
        return Ok(String::new());
    }
    Ok(out.buf)
}

struct Tm {
    year: i64,
    mon: i64,
    mday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    wday: i64,
    yday: i64,
}

impl Tm {
    fn new(dt: &DateTime) -> Self {
        Tm {
            year: i64::from(dt.year),
            mon: i64::from(dt.month) - 1,
            mday: i64::from(dt.day),
            hour: i64::from(dt.hour),
            min: i64::from(dt.minute),
            sec: i64::from(dt.second),
            wday: (i64::from(dt.weekday()) + 1) % 7,
            yday: i64::from(dt.yday()) - 1,
        }
    }
}

struct Out {
    buf: String,
    /// Length in characters.
    len: usize,
    max: usize,
    overflow: bool,
}

impl Out {
    fn room(&mut self, n: usize) -> bool {
        if self.overflow || self.len + n > self.max {
            self.overflow = true;
            return false;
        }
        self.len += n;
        true
    }
}

/// `towupper` (simple case mapping).
fn towupper(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// `towlower` (simple case mapping).
fn towlower(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn iso_week_days(yday: i64, wday: i64) -> i64 {
    let big_enough_multiple_of_7 = (366 / 7 + 2) * 7;
    yday - (yday - wday + 4 + big_enough_multiple_of_7) % 7 + 4 - 1
}

#[derive(Clone, Copy)]
struct Conv {
    pad: char,
    width: i64,
    to_upper: bool,
    to_lower: bool,
}

/// glibc's `add`/`cpy`: `text` right-aligned in `width` (space or zero
/// padding), with case conversion.
fn cpy(out: &mut Out, c: &Conv, text: &str) {
    let n = text.chars().count() as i64;
    let delta = c.width - n;
    let total = (n + delta.max(0)) as usize;
    if !out.room(total) {
        return;
    }
    if delta > 0 {
        let fill = if c.pad == '0' { '0' } else { ' ' };
        for _ in 0..delta {
            out.buf.push(fill);
        }
    }
    if c.to_lower {
        out.buf.extend(text.chars().map(towlower));
    } else if c.to_upper {
        out.buf.extend(text.chars().map(towupper));
    } else {
        out.buf.push_str(text);
    }
}

fn glibc_strftime(out: &mut Out, f: &[char], tp: &Tm, mk: &dyn Mktime, dt: &DateTime) {
    let hour12 = match tp.hour {
        h if h > 12 => h - 12,
        0 => 12,
        h => h,
    };
    let mut i = 0usize;
    while i < f.len() {
        if out.overflow {
            return;
        }
        if f[i] != '%' {
            let text = f[i].to_string();
            cpy(
                out,
                &Conv {
                    pad: '\0',
                    width: -1,
                    to_upper: false,
                    to_lower: false,
                },
                &text,
            );
            i += 1;
            continue;
        }
        let pct = i;
        let mut c = Conv {
            pad: '\0',
            width: -1,
            to_upper: false,
            to_lower: false,
        };
        let mut change_case = false;
        i += 1;
        while i < f.len() {
            match f[i] {
                '_' | '-' | '0' => c.pad = f[i],
                '^' => c.to_upper = true,
                '#' => change_case = true,
                _ => break,
            }
            i += 1;
        }
        if i < f.len() && f[i].is_ascii_digit() {
            let mut w: i64 = 0;
            while i < f.len() && f[i].is_ascii_digit() {
                let d = i64::from(f[i] as u32 - '0' as u32);
                if w > i64::from(i32::MAX) / 10
                    || (w == i64::from(i32::MAX) / 10 && d > i64::from(i32::MAX) % 10)
                {
                    w = i64::from(i32::MAX);
                } else {
                    w = w * 10 + d;
                }
                i += 1;
            }
            c.width = w;
        }
        let mut modifier = '\0';
        if i < f.len() && (f[i] == 'E' || f[i] == 'O') {
            modifier = f[i];
            i += 1;
        }
        let fc = if i < f.len() { f[i] } else { '\0' };
        // `bad` copies the whole conversion text, '%' to here, literally.
        let bad = |out: &mut Out, c: &Conv, end: usize| {
            // glibc copies back to the nearest '%' at or before the
            // conversion character (so "%_O%" gives just "%").
            let start = f[..end].iter().rposition(|&ch| ch == '%').unwrap_or(pct);
            let text: String = f[start..end].iter().collect();
            cpy(out, c, &text);
        };
        enum Num {
            Zero(i64, i64),
            Space(i64, i64),
        }
        let mut number: Option<Num> = None;
        match fc {
            '%' => {
                if modifier != '\0' {
                    bad(out, &c, i + 1);
                } else {
                    cpy(out, &c, "%");
                }
            }
            'a' | 'A' => {
                if modifier != '\0' {
                    bad(out, &c, i + 1);
                } else {
                    if change_case {
                        c.to_upper = true;
                        c.to_lower = false;
                    }
                    let name = WEEKDAYS[tp.wday as usize];
                    cpy(out, &c, if fc == 'a' { &name[..3] } else { name });
                }
            }
            'b' | 'h' | 'B' => {
                if change_case {
                    c.to_upper = true;
                    c.to_lower = false;
                }
                if modifier == 'E' {
                    bad(out, &c, i + 1);
                } else {
                    let name = MONTHS[tp.mon as usize];
                    cpy(out, &c, if fc == 'B' { name } else { &name[..3] });
                }
            }
            'c' | 'D' | 'x' | 'F' | 'R' | 'r' | 'T' | 'X' => {
                let bad_mod = match fc {
                    'c' | 'x' | 'X' => modifier == 'O',
                    'D' | 'F' => modifier != '\0',
                    _ => false,
                };
                if bad_mod {
                    bad(out, &c, i + 1);
                } else {
                    let sub = match fc {
                        'c' => "%a %b %e %H:%M:%S %Y",
                        'D' | 'x' => "%m/%d/%y",
                        'F' => "%Y-%m-%d",
                        'R' => "%H:%M",
                        'r' => "%I:%M:%S %p",
                        _ => "%H:%M:%S",
                    };
                    let mut tmp = Out {
                        buf: String::new(),
                        len: 0,
                        max: usize::MAX,
                        overflow: false,
                    };
                    let sub: Vec<char> = sub.chars().collect();
                    glibc_strftime(&mut tmp, &sub, tp, mk, dt);
                    let text = if c.to_upper {
                        tmp.buf.chars().map(towupper).collect()
                    } else {
                        tmp.buf
                    };
                    let plain = Conv {
                        to_upper: false,
                        to_lower: false,
                        ..c
                    };
                    cpy(out, &plain, &text);
                }
            }
            'C' => number = Some(Num::Zero(1, tp.year.div_euclid(100))),
            'd' | 'e' | 'H' | 'I' | 'k' | 'l' | 'j' | 'M' | 'm' | 'S' | 'U' | 'W' | 'V' | 'g'
            | 'G' | 'w'
                if modifier == 'E' =>
            {
                bad(out, &c, i + 1);
            }
            'd' => number = Some(Num::Zero(2, tp.mday)),
            'e' => number = Some(Num::Space(2, tp.mday)),
            'H' => number = Some(Num::Zero(2, tp.hour)),
            'I' => number = Some(Num::Zero(2, hour12)),
            'k' => number = Some(Num::Space(2, tp.hour)),
            'l' => number = Some(Num::Space(2, hour12)),
            'j' => number = Some(Num::Zero(3, 1 + tp.yday)),
            'M' => number = Some(Num::Zero(2, tp.min)),
            'm' => number = Some(Num::Zero(2, tp.mon + 1)),
            'S' => number = Some(Num::Zero(2, tp.sec)),
            'u' => number = Some(Num::Zero(1, (tp.wday - 1 + 7) % 7 + 1)),
            'U' => number = Some(Num::Zero(2, (tp.yday - tp.wday + 7) / 7)),
            'W' => number = Some(Num::Zero(2, (tp.yday - (tp.wday - 1 + 7) % 7 + 7) / 7)),
            'w' => number = Some(Num::Zero(1, tp.wday)),
            'Y' => {
                if modifier == 'O' {
                    bad(out, &c, i + 1);
                } else {
                    number = Some(Num::Zero(1, tp.year));
                }
            }
            'y' => number = Some(Num::Zero(2, (tp.year % 100 + 100) % 100)),
            'V' | 'g' | 'G' => {
                let mut year = tp.year;
                let mut days = iso_week_days(tp.yday, tp.wday);
                if days < 0 {
                    year -= 1;
                    days = iso_week_days(tp.yday + 365 + i64::from(is_leap(year)), tp.wday);
                } else {
                    let d = iso_week_days(tp.yday - (365 + i64::from(is_leap(year))), tp.wday);
                    if d >= 0 {
                        year += 1;
                        days = d;
                    }
                }
                number = Some(match fc {
                    'g' => Num::Zero(2, (year % 100 + 100) % 100),
                    'G' => Num::Zero(1, year),
                    _ => Num::Zero(2, days / 7 + 1),
                });
            }
            'n' => cpy(out, &c, "\n"),
            't' => cpy(out, &c, "\t"),
            'p' | 'P' => {
                if fc == 'P' {
                    c.to_lower = true;
                }
                if change_case {
                    c.to_upper = false;
                    c.to_lower = true;
                }
                cpy(out, &c, if tp.hour > 11 { "PM" } else { "AM" });
            }
            's' => {
                let t = mk.mktime(dt);
                let digits = t.unsigned_abs().to_string();
                number_sign_and_padding(out, &c, 1, t < 0, &digits);
            }
            'Z' => {
                if change_case {
                    c.to_upper = false;
                    c.to_lower = true;
                }
                // tm_zone is NULL and tm_isdst -1: an empty zone.
                cpy(out, &c, "");
            }
            'z' => {
                // tm_isdst < 0: nothing at all.
            }
            '\0' => {
                // '%' (plus flags) at the end of the format.
                bad(out, &c, f.len());
                return;
            }
            _ => bad(out, &c, (i + 1).min(f.len())),
        }
        if let Some(n) = number {
            let (d, v, space) = match n {
                Num::Zero(d, v) => (d, v, false),
                Num::Space(d, v) => (d, v, true),
            };
            if space && c.pad != '0' && c.pad != '-' {
                c.pad = '_';
            }
            let digits = d.max(c.width);
            // Alternative digits (O modifier) do not exist in the C locale.
            let text = v.unsigned_abs().to_string();
            number_sign_and_padding(out, &c, digits, v < 0, &text);
        }
        i += 1;
    }
}

/// glibc's `do_number_sign_and_padding` followed by `cpy`.
fn number_sign_and_padding(out: &mut Out, c: &Conv, digits: i64, negative: bool, absdigits: &str) {
    let mut c = *c;
    let mut buf = String::new();
    if negative {
        buf.push('-');
    }
    buf.push_str(absdigits);
    if c.pad != '-' {
        let padding = digits - buf.len() as i64;
        if padding > 0 {
            if c.pad == '_' {
                if !out.room(padding as usize) {
                    return;
                }
                for _ in 0..padding {
                    out.buf.push(' ');
                }
                c.width = if c.width > padding {
                    c.width - padding
                } else {
                    0
                };
            } else {
                if out.overflow || out.len + digits as usize > out.max {
                    out.overflow = true;
                    return;
                }
                if negative {
                    buf.remove(0);
                    out.buf.push('-');
                    out.len += 1;
                }
                for _ in 0..padding {
                    out.buf.push('0');
                }
                out.len += padding as usize;
                c.width = 0;
            }
        }
    }
    cpy(out, &c, &buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::TzInfo;

    fn s(dt: &DateTime, f: &str) -> String {
        strftime(dt, f, &UtcMktime).unwrap()
    }

    #[test]
    fn basic() {
        let dt = DateTime::naive(2026, 11, 22, 1, 40, 48, 123);
        assert_eq!(s(&dt, "%a, %Y-%m-%d %H:%M:%S"), "Sun, 2026-11-22 01:40:48");
        assert_eq!(s(&dt, "%Y-%m-%dT%H:%M:%S.%f"), "2026-11-22T01:40:48.000123");
        assert_eq!(s(&dt, "%z%Z|"), "|");
        assert_eq!(
            s(&dt, "%-d %_m %e %k %l %p %P %j"),
            "22 11 22  1  1 AM am 326"
        );
        assert_eq!(
            s(&dt, "%Q %5Q %^q %5% %E %_5d %-5d %05e"),
            "%Q   %5Q %^Q     % %E    22    22 00022"
        );
        assert_eq!(
            s(&dt, "%10A|%^a|%#b|%c"),
            "    Sunday|SUN|NOV|Sun Nov 22 01:40:48 2026"
        );
        assert_eq!(s(&dt, "%G-W%V-%u %s"), "2026-W47-7 1795311648");
        let aware = dt.clone().with_tz(TzInfo {
            offset_seconds: 3600,
            name: Some("CET".into()),
        });
        assert_eq!(s(&aware, "%z %Z %%z"), "+0100 CET %z");
        assert_eq!(s(&dt, "%5000Y"), "");
        assert!(strftime(&dt, "a\0b", &UtcMktime).is_err());
    }
}
