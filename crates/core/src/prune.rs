//! borg 1.4.5's archive pruning decisions (`do_prune` with the helpers
//! `prune_within`, `prune_split` and `PRUNING_PATTERNS`).
//!
//! Periods are computed from the archive start time converted to *local*
//! time exactly as borg's `to_localtime` does (`time.localtime` of the
//! floored Unix seconds); the caller supplies that conversion, so this
//! module stays free of time-zone data and is testable with any zone.
//!
//! borg's order of archives: the matching manifest entries (manifest order,
//! i.e. sorted by name) are stably sorted by timestamp and then reversed,
//! so the newest comes first and archives with equal timestamps appear in
//! descending name order. Every rule walks that order.

use oxiborg_format::timestamp::days_from_civil;
use oxiborg_format::UtcTimestamp;

/// A manifest entry considered by prune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneArchive {
    /// The archive name.
    pub name: String,
    /// The archive id.
    pub id: [u8; 32],
    /// The archive start time (UTC).
    pub ts: UtcTimestamp,
}

/// Local wall-clock fields of an archive time (borg's naive
/// `to_localtime(ts)`), seconds precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Year.
    pub year: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of month, 1..=31.
    pub day: u32,
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Second, 0..=60.
    pub second: u32,
}

/// The time-period rules, in borg's `PRUNING_PATTERNS` order (the order
/// in which they are applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// `--keep-secondly` / `--keep-last` (`%Y-%m-%d %H:%M:%S`).
    Secondly,
    /// `--keep-minutely` (`%Y-%m-%d %H:%M`).
    Minutely,
    /// `--keep-hourly` (`%Y-%m-%d %H`).
    Hourly,
    /// `--keep-daily` (`%Y-%m-%d`).
    Daily,
    /// `--keep-weekly` (`%G-%V`, the ISO week).
    Weekly,
    /// `--keep-monthly` (`%Y-%m`).
    Monthly,
    /// `--keep-13weekly`: ISO year and quarter of 13 ISO weeks.
    Quarterly13Weekly,
    /// `--keep-3monthly`: year and calendar quarter.
    Quarterly3Monthly,
    /// `--keep-yearly` (`%Y`).
    Yearly,
}

impl Rule {
    /// All rules in application order.
    pub const ALL: [Rule; 9] = [
        Rule::Secondly,
        Rule::Minutely,
        Rule::Hourly,
        Rule::Daily,
        Rule::Weekly,
        Rule::Monthly,
        Rule::Quarterly13Weekly,
        Rule::Quarterly3Monthly,
        Rule::Yearly,
    ];

    /// borg's rule name, as printed in `Keeping archive (rule: NAME #N):`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Secondly => "secondly",
            Rule::Minutely => "minutely",
            Rule::Hourly => "hourly",
            Rule::Daily => "daily",
            Rule::Weekly => "weekly",
            Rule::Monthly => "monthly",
            Rule::Quarterly13Weekly => "quarterly_13weekly",
            Rule::Quarterly3Monthly => "quarterly_3monthly",
            Rule::Yearly => "yearly",
        }
    }

    /// The period an archive falls in; two archives are in the same period
    /// exactly when borg's period function returns equal values.
    fn period(self, t: &LocalTime) -> [i64; 6] {
        let (y, mo, d) = (t.year, i64::from(t.month), i64::from(t.day));
        let (h, mi, s) = (i64::from(t.hour), i64::from(t.minute), i64::from(t.second));
        match self {
            Rule::Secondly => [y, mo, d, h, mi, s],
            Rule::Minutely => [y, mo, d, h, mi, 0],
            Rule::Hourly => [y, mo, d, h, 0, 0],
            Rule::Daily => [y, mo, d, 0, 0, 0],
            Rule::Weekly => {
                let (iy, iw) = iso_week(t.year, t.month, t.day);
                [iy, i64::from(iw), 0, 0, 0, 0]
            }
            Rule::Monthly => [y, mo, 0, 0, 0, 0],
            Rule::Quarterly13Weekly => {
                let (iy, iw) = iso_week(t.year, t.month, t.day);
                let q = match iw {
                    0..=13 => 1,
                    14..=26 => 2,
                    27..=39 => 3,
                    _ => 4,
                };
                [iy, q, 0, 0, 0, 0]
            }
            Rule::Quarterly3Monthly => [y, (mo - 1) / 3 + 1, 0, 0, 0, 0],
            Rule::Yearly => [y, 0, 0, 0, 0, 0],
        }
    }
}

/// The ISO 8601 year and week of a date (Python's `isocalendar()[:2]`,
/// strftime's `%G` and `%V`).
pub fn iso_week(year: i64, month: u32, day: u32) -> (i64, u32) {
    let days = days_from_civil(year, month, day);
    // 1970-01-01 was a Thursday: ISO weekday 4.
    let weekday = (days + 3).rem_euclid(7) + 1;
    let ordinal = days - days_from_civil(year, 1, 1) + 1;
    let week = (ordinal - weekday + 10).div_euclid(7);
    if week < 1 {
        (year - 1, weeks_in_iso_year(year - 1))
    } else if week > i64::from(weeks_in_iso_year(year)) {
        (year + 1, 1)
    } else {
        (year, week as u32)
    }
}

fn weeks_in_iso_year(year: i64) -> u32 {
    // A year has 53 ISO weeks when it starts on a Thursday, or is a leap
    // year starting on a Wednesday (equivalently: Dec 31 is a Thursday, or
    // Jan 1 is a Thursday).
    let jan1 = (days_from_civil(year, 1, 1) + 3).rem_euclid(7) + 1;
    let dec31 = (days_from_civil(year, 12, 31) + 3).rem_euclid(7) + 1;
    if jan1 == 4 || dec31 == 4 {
        53
    } else {
        52
    }
}

/// The retention rules of one prune run. A count of 0 disables a rule; a
/// negative count (borg accepts any integer) keeps every period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneRules {
    /// `--keep-within`, in hours (see [`parse_interval`]).
    pub within_hours: Option<u64>,
    /// Counts per time-period rule (rules not listed are 0).
    pub counts: Vec<(Rule, i64)>,
}

impl PruneRules {
    /// Whether any rule is given (borg refuses a prune without one).
    pub fn any(&self) -> bool {
        self.within_hours.is_some() || self.counts.iter().any(|(_, n)| *n != 0)
    }

    fn count(&self, rule: Rule) -> i64 {
        self.counts
            .iter()
            .filter(|(r, _)| *r == rule)
            .map(|(_, n)| *n)
            .next_back()
            .unwrap_or(0)
    }
}

/// Why an archive stays, or that it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PruneDecision {
    /// Deleted (`Would prune:` / `Pruning archive (i/n):`).
    Prune,
    /// The newest checkpoint, newer than every complete archive.
    KeepCheckpoint,
    /// Kept by a rule: the rule name (`within`, `daily`, `daily[oldest]`,
    /// ...) and how many archives that rule had kept so far.
    Keep {
        /// borg's rule name.
        rule: String,
        /// The archive's number within that rule.
        num: usize,
    },
}

/// What a prune run decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunePlan {
    /// Every matching archive and checkpoint, newest first, with its fate.
    pub entries: Vec<(PruneArchive, PruneDecision)>,
    /// Matching complete archives.
    pub archives: usize,
    /// Matching checkpoint archives.
    pub checkpoints: usize,
    /// Complete archives kept.
    pub kept_archives: usize,
    /// Checkpoints kept (0 or 1).
    pub kept_checkpoints: usize,
    /// Complete archives pruned.
    pub pruned_archives: usize,
    /// Checkpoints pruned.
    pub pruned_checkpoints: usize,
}

impl PrunePlan {
    /// How many archives the plan deletes.
    pub fn to_delete(&self) -> usize {
        self.pruned_archives + self.pruned_checkpoints
    }
}

/// borg's checkpoint-name test for prune: the name ends with
/// `.checkpoint` or `.checkpoint.<digits>` (regex `\.checkpoint(\.\d+)?\Z`).
pub fn is_checkpoint(name: &str) -> bool {
    checkpoint_stem(name).is_some()
}

/// The name without its checkpoint suffix, if it has one.
pub fn checkpoint_stem(name: &str) -> Option<&str> {
    if let Some(stem) = name.strip_suffix(".checkpoint") {
        return Some(stem);
    }
    let dot = name.rfind('.')?;
    let digits = &name[dot + 1..];
    // Python's `\d` is any Unicode decimal digit; archive names here use
    // ASCII (other digits are not accepted, a deliberate simplification).
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name[..dot].strip_suffix(".checkpoint")
}

/// borg's `interval` argument type (`--keep-within`): an integer followed
/// by `H` (hours), `d` (days), `w` (weeks), `m` (31 days) or `y` (365
/// days); the result is in hours. The errors are borg's messages.
pub fn parse_interval(s: &str) -> Result<u64, String> {
    let Some(suffix) = s.chars().last() else {
        // Python: `s[-1]` of '' raises IndexError; argparse reports it so.
        return Err("invalid interval value: ''".to_string());
    };
    let multiplier: u64 = match suffix {
        'H' => 1,
        'd' => 24,
        'w' => 24 * 7,
        'm' => 24 * 31,
        'y' => 24 * 365,
        other => {
            return Err(format!(
            "Unexpected interval time unit \"{other}\": expected one of ['H', 'd', 'w', 'm', 'y']"
        ))
        }
    };
    let number = &s[..s.len() - suffix.len_utf8()];
    let hours = py_int(number)
        .and_then(|n| n.checked_mul(i128::from(multiplier)))
        .unwrap_or(-1);
    if hours <= 0 || hours > i128::from(u64::MAX) {
        return Err(format!(
            "Unexpected interval number \"{number}\": expected an integer greater than 0"
        ));
    }
    Ok(hours as u64)
}

/// Python's `int(text)` for decimal text: surrounding whitespace, an
/// optional sign, digits with single underscores between them.
pub fn py_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let mut v: i128 = 0;
    for b in digits.bytes().filter(|b| *b != b'_') {
        v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    Some(if neg { -v } else { v })
}

/// Decide which archives to keep (borg's `do_prune` up to the deletion).
///
/// `matching` are the manifest entries the archive filter selected, in
/// manifest order (sorted by name), checkpoints included. `now` is the
/// current time (for `--keep-within`), `localtime` borg's `to_localtime`
/// of the floored Unix seconds.
pub fn plan(
    matching: &[PruneArchive],
    rules: &PruneRules,
    now: UtcTimestamp,
    localtime: &dyn Fn(i64) -> LocalTime,
) -> PrunePlan {
    // sort_by=['ts'] (stable), then reversed.
    let mut all: Vec<&PruneArchive> = matching.iter().collect();
    all.sort_by_key(|a| a.ts);
    all.reverse();
    let checkpoints: Vec<usize> = (0..all.len())
        .filter(|&i| is_checkpoint(&all[i].name))
        .collect();
    // Keep the latest checkpoint if no complete archive is newer.
    let keep_checkpoint = checkpoints.first().copied().filter(|&i| i == 0);
    let archives: Vec<usize> = (0..all.len())
        .filter(|&i| !is_checkpoint(&all[i].name))
        .collect();

    // kept[i]: (rule name, number) for archives kept by a rule.
    let mut kept: Vec<Option<(String, usize)>> = vec![None; all.len()];
    let mut kept_count = 0usize;
    if let Some(hours) = rules.within_hours {
        let target = now.unix_nanos() - i128::from(hours) * 3600 * 1_000_000_000;
        let mut n = 0;
        for &i in &archives {
            if all[i].ts.unix_nanos() > target {
                n += 1;
                kept[i] = Some(("within".to_string(), n));
                kept_count += 1;
            }
        }
    }
    for rule in Rule::ALL {
        let n = rules.count(rule);
        if n == 0 {
            continue;
        }
        let mut last: Option<[i64; 6]> = None;
        let mut keep = 0usize;
        let mut oldest = None;
        for &i in &archives {
            oldest = Some(i);
            let period = rule.period(&localtime(all[i].ts.unix_seconds()));
            if last != Some(period) {
                last = Some(period);
                if kept[i].is_none() {
                    keep += 1;
                    kept[i] = Some((rule.name().to_string(), keep));
                    if keep as i64 == n {
                        break;
                    }
                }
            }
        }
        // Keep the oldest archive if the rule did not reach its count.
        if let Some(i) = oldest {
            if (keep as i64) < n && kept[i].is_none() {
                keep += 1;
                kept[i] = Some((format!("{}[oldest]", rule.name()), keep));
            }
        }
        kept_count += keep;
    }

    let mut entries = Vec::with_capacity(all.len());
    let mut pruned = 0;
    for (i, a) in all.iter().enumerate() {
        let d = if is_checkpoint(&a.name) {
            if keep_checkpoint == Some(i) {
                PruneDecision::KeepCheckpoint
            } else {
                PruneDecision::Prune
            }
        } else {
            match kept[i].take() {
                Some((rule, num)) => PruneDecision::Keep { rule, num },
                None => {
                    pruned += 1;
                    PruneDecision::Prune
                }
            }
        };
        entries.push(((*a).clone(), d));
    }
    let kept_checkpoints = usize::from(keep_checkpoint.is_some());
    PrunePlan {
        entries,
        archives: archives.len(),
        checkpoints: checkpoints.len(),
        kept_archives: kept_count,
        kept_checkpoints,
        pruned_archives: pruned,
        pruned_checkpoints: checkpoints.len() - kept_checkpoints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc_local(secs: i64) -> LocalTime {
        let t = UtcTimestamp::from_unix_parts(secs, 0);
        let (year, month, day, hour, minute, second, _) = t.to_civil();
        LocalTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    fn ts(s: &str) -> UtcTimestamp {
        UtcTimestamp::parse_iso(s).unwrap()
    }

    fn arch(name: &str, t: &str) -> PruneArchive {
        let mut id = [0u8; 32];
        id[..name.len().min(32)].copy_from_slice(&name.as_bytes()[..name.len().min(32)]);
        PruneArchive {
            name: name.to_string(),
            id,
            ts: ts(t),
        }
    }

    fn decisions(p: &PrunePlan) -> Vec<(String, String)> {
        p.entries
            .iter()
            .map(|(a, d)| {
                let d = match d {
                    PruneDecision::Prune => "prune".to_string(),
                    PruneDecision::KeepCheckpoint => "checkpoint".to_string(),
                    PruneDecision::Keep { rule, num } => format!("{rule} #{num}"),
                };
                (a.name.clone(), d)
            })
            .collect()
    }

    fn rules(counts: &[(Rule, i64)]) -> PruneRules {
        PruneRules {
            within_hours: None,
            counts: counts.to_vec(),
        }
    }

    #[test]
    fn iso_weeks_like_python() {
        // (date, isocalendar year, week) from Python's datetime.
        for (y, m, d, iy, iw) in [
            (2021, 1, 1, 2020, 53),
            (2021, 1, 4, 2021, 1),
            (2020, 12, 31, 2020, 53),
            (2019, 12, 30, 2020, 1),
            (2024, 12, 30, 2025, 1),
            (2026, 6, 15, 2026, 25),
            (2016, 1, 3, 2015, 53),
            (2027, 1, 1, 2026, 53),
            (2000, 2, 29, 2000, 9),
        ] {
            assert_eq!(iso_week(y, m, d), (iy, iw), "{y}-{m}-{d}");
        }
    }

    #[test]
    fn intervals_like_borg() {
        assert_eq!(parse_interval("1H"), Ok(1));
        assert_eq!(parse_interval("2d"), Ok(48));
        assert_eq!(parse_interval("1w"), Ok(168));
        assert_eq!(parse_interval("1m"), Ok(744));
        assert_eq!(parse_interval("1y"), Ok(8760));
        assert_eq!(parse_interval(" 1_0d"), Ok(240));
        assert_eq!(
            parse_interval("3x").unwrap_err(),
            "Unexpected interval time unit \"x\": expected one of ['H', 'd', 'w', 'm', 'y']"
        );
        assert_eq!(
            parse_interval("0d").unwrap_err(),
            "Unexpected interval number \"0\": expected an integer greater than 0"
        );
        assert!(parse_interval("-1d").is_err());
        assert!(parse_interval("d").is_err());
        assert!(parse_interval("").is_err());
        assert!(parse_interval("1.5d").is_err());
    }

    #[test]
    fn checkpoint_names() {
        assert!(is_checkpoint("a.checkpoint"));
        assert!(is_checkpoint("a.checkpoint.12"));
        assert!(!is_checkpoint("a.checkpoint."));
        assert!(!is_checkpoint("a.checkpoint.x"));
        assert!(!is_checkpoint("a.checkpointx"));
        assert_eq!(checkpoint_stem("a.checkpoint.3"), Some("a"));
        assert_eq!(checkpoint_stem(".checkpoint"), Some(""));
    }

    #[test]
    fn daily_keeps_the_newest_of_each_day_then_the_oldest() {
        let a = [
            arch("a1", "2024-01-01T10:00:00"),
            arch("a2", "2024-01-01T12:00:00"),
            arch("a3", "2024-01-02T09:00:00"),
            arch("a4", "2024-01-04T09:00:00"),
        ];
        let p = plan(
            &a,
            &rules(&[(Rule::Daily, 5)]),
            ts("2024-02-01T00:00:00"),
            &utc_local,
        );
        assert_eq!(
            decisions(&p),
            [
                ("a4".into(), "daily #1".into()),
                ("a3".into(), "daily #2".into()),
                ("a2".into(), "daily #3".into()),
                ("a1".into(), "daily[oldest] #4".into()),
            ]
        );
        assert_eq!((p.kept_archives, p.pruned_archives), (4, 0));
    }

    #[test]
    fn rules_do_not_count_archives_kept_earlier() {
        let a = [
            arch("a1", "2023-12-31T10:00:00"),
            arch("a2", "2024-01-01T12:00:00"),
            arch("a3", "2024-01-02T09:00:00"),
        ];
        let r = rules(&[(Rule::Daily, 1), (Rule::Yearly, 2)]);
        let p = plan(&a, &r, ts("2024-02-01T00:00:00"), &utc_local);
        // yearly: 2024's newest (a3) is taken by daily; the period still
        // counts as seen, 2023 gives a1.
        assert_eq!(
            decisions(&p),
            [
                ("a3".into(), "daily #1".into()),
                ("a2".into(), "prune".into()),
                ("a1".into(), "yearly #1".into()),
            ]
        );
    }

    #[test]
    fn within_and_checkpoints() {
        let a = [
            arch("a1", "2024-01-01T10:00:00"),
            arch("a2.checkpoint", "2024-01-03T10:00:00"),
            arch("a3", "2024-01-04T10:00:00"),
            arch("a4.checkpoint.1", "2024-01-05T10:00:00"),
            arch("a5.checkpoint", "2024-01-05T09:00:00"),
        ];
        let r = PruneRules {
            within_hours: Some(48),
            counts: vec![],
        };
        let p = plan(&a, &r, ts("2024-01-05T12:00:00"), &utc_local);
        assert_eq!(
            decisions(&p),
            [
                ("a4.checkpoint.1".into(), "checkpoint".into()),
                ("a5.checkpoint".into(), "prune".into()),
                ("a3".into(), "within #1".into()),
                ("a2.checkpoint".into(), "prune".into()),
                ("a1".into(), "prune".into()),
            ]
        );
        assert_eq!(
            (
                p.archives,
                p.checkpoints,
                p.kept_checkpoints,
                p.pruned_checkpoints
            ),
            (2, 3, 1, 2)
        );
        // A complete archive newer than every checkpoint: none is kept.
        let b = [
            arch("c.checkpoint", "2024-01-01T00:00:00"),
            arch("d", "2024-01-02T00:00:00"),
        ];
        let p = plan(
            &b,
            &rules(&[(Rule::Secondly, 1)]),
            ts("2024-01-05T12:00:00"),
            &utc_local,
        );
        assert_eq!(p.entries[1].1, PruneDecision::Prune);
    }

    #[test]
    fn local_time_decides_the_period() {
        // 21:30 and 23:30 UTC: two local days in UTC+2, one in UTC+3.
        let a = [
            arch("x", "2024-03-01T21:30:00"),
            arch("y", "2024-03-01T23:30:00"),
        ];
        let r = rules(&[(Rule::Daily, 2)]);
        let now = ts("2024-04-01T00:00:00");
        let p = plan(&a, &r, now, &|s: i64| utc_local(s + 2 * 3600));
        assert_eq!(
            p.entries[1].1,
            PruneDecision::Keep {
                rule: "daily".into(),
                num: 2
            }
        );
        let p = plan(&a, &r, now, &|s: i64| utc_local(s + 3 * 3600));
        assert_eq!(
            p.entries[1].1,
            PruneDecision::Keep {
                rule: "daily[oldest]".into(),
                num: 2
            }
        );
    }

    #[test]
    fn negative_counts_keep_every_period_and_ties_are_by_name() {
        let a = [
            arch("b", "2024-01-01T10:00:00"),
            arch("a", "2024-01-01T10:00:00"),
            arch("c", "2024-01-02T10:00:00"),
        ];
        let p = plan(
            &a,
            &rules(&[(Rule::Daily, -1)]),
            ts("2024-02-01T00:00:00"),
            &utc_local,
        );
        assert_eq!(
            decisions(&p),
            [
                ("c".into(), "daily #1".into()),
                ("a".into(), "daily #2".into()),
                ("b".into(), "prune".into()),
            ]
        );
    }

    #[test]
    fn quarters() {
        let t = |y, m, d| LocalTime {
            year: y,
            month: m,
            day: d,
            hour: 0,
            minute: 0,
            second: 0,
        };
        assert_eq!(Rule::Quarterly3Monthly.period(&t(2024, 3, 31))[1], 1);
        assert_eq!(Rule::Quarterly3Monthly.period(&t(2024, 4, 1))[1], 2);
        assert_eq!(
            Rule::Quarterly13Weekly.period(&t(2021, 1, 1))[..2],
            [2020, 4]
        );
        assert_eq!(
            Rule::Quarterly13Weekly.period(&t(2024, 4, 1))[..2],
            [2024, 2]
        );
    }
}
