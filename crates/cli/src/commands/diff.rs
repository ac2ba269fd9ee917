//! `diff` (borg 1.4.5's `do_diff`).

use std::io::Write;

use oxiborg_cli_args::{DiffArgs, LogLevel};
use oxiborg_core::{Change, DiffOptions, ItemDiff};
use oxiborg_format::Operation;
use oxiborg_pyjson::Value as J;
use oxiborg_textfmt::{
    format_file_size, format_time, isoformat_time, remove_surrogates, safe_timestamp, LocalZone,
};

use super::archive::{build_matcher, open_session, unmatched_include_warnings, usage};
use super::Ctx;
use crate::location::parse;

/// The fields `--sort-by` accepts (borg's `diff_sort_spec_validator`).
const SORT_FIELDS: [&str; 13] = [
    "path",
    "size_added",
    "size_removed",
    "size_diff",
    "size",
    "user",
    "group",
    "uid",
    "gid",
    "ctime",
    "mtime",
    "ctime_diff",
    "mtime_diff",
];

/// The zone borg's `datetime.fromtimestamp` uses: `TZ`, else the system's.
fn zone() -> LocalZone {
    match std::env::var("TZ") {
        Ok(v) => LocalZone::from_tz(&v),
        Err(_) => LocalZone::system(),
    }
}

/// borg's sort specs: `--sort-by` validated, or `path` for `--sort`.
fn sort_specs(args: &DiffArgs) -> anyhow::Result<Vec<(bool, String)>> {
    let Some(s) = &args.sort_by else {
        return Ok(if args.sort {
            vec![(false, "path".to_string())]
        } else {
            Vec::new()
        });
    };
    let parts: Vec<&str> = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(usage("argument --sort-by: unsupported sort field: empty spec").into());
    }
    let mut out = Vec::new();
    for spec in parts {
        let (desc, field) = match spec.chars().next() {
            Some('>') => (true, &spec[1..]),
            Some('<') => (false, &spec[1..]),
            _ => (false, spec),
        };
        if !SORT_FIELDS.contains(&field) {
            return Err(usage(format!(
                "argument --sort-by: unsupported sort field: {field}"
            ))
            .into());
        }
        out.push((desc, field.to_string()));
    }
    Ok(out)
}

/// A sort key (borg's `key_for`): a string or an integer.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Int(i128),
    Str(String),
}

fn key_for(field: &str, path: &[u8], d: &ItemDiff) -> Key {
    let str_of = |v: Option<&[u8]>| Key::Str(v.map(remove_surrogates).unwrap_or_default());
    match field {
        "path" => Key::Str(remove_surrogates(path)),
        "size_diff" | "size_added" | "size_removed" => {
            let (mut added, mut removed) = (0i128, 0i128);
            for c in &d.changes {
                match c {
                    Change::Modified(Some((a, r))) => {
                        added += i128::from(*a);
                        removed += i128::from(*r);
                    }
                    Change::Added(s) => added += i128::from(*s),
                    Change::Removed(s) => removed += i128::from(*s),
                    _ => {}
                }
            }
            Key::Int(match field {
                "size_diff" => added - removed,
                "size_added" => added,
                _ => removed,
            })
        }
        "ctime_diff" => Key::Int(d.item2.ctime().unwrap_or(0) - d.item1.ctime().unwrap_or(0)),
        "mtime_diff" => Key::Int(d.item2.mtime().unwrap_or(0) - d.item1.mtime().unwrap_or(0)),
        "size" => Key::Int(i128::from(d.item2.size())),
        // The state in archive 2 (a removed item's is borg's deleted item).
        "user" => str_of(d.item2.user()),
        "group" => str_of(d.item2.group()),
        "uid" => Key::Int(d.item2.uid().map_or(-1, i128::from)),
        "gid" => Key::Int(d.item2.gid().map_or(-1, i128::from)),
        "ctime" => Key::Int(d.item2.ctime().unwrap_or(0)),
        _ => Key::Int(d.item2.mtime().unwrap_or(0)),
    }
}

fn owner_json(v: &Option<Vec<u8>>) -> J {
    v.as_deref()
        .map_or(J::Null, |b| J::Str(remove_surrogates(b)))
}

fn owner_text(v: &Option<Vec<u8>>) -> String {
    v.as_deref()
        .map_or_else(|| "None".to_string(), remove_surrogates)
}

fn int(v: u64) -> J {
    J::Int(v.to_string())
}

/// One change as borg's (json dict with sorted keys, text).
fn render(c: &Change, zone: &LocalZone) -> (J, String) {
    let obj = |mut pairs: Vec<(&str, J)>| {
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        J::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    let ty = |s: &str| ("type", J::Str(s.to_string()));
    match c {
        Change::Presence { added, kind } => {
            let s = format!("{} {kind}", if *added { "added" } else { "removed" });
            (obj(vec![ty(&s)]), s)
        }
        Change::ChangedLink => (obj(vec![ty("changed link")]), "changed link".into()),
        Change::Added(sz) => (
            obj(vec![ty("added"), ("size", int(*sz))]),
            format!(
                "added {:>13}",
                format_file_size(i128::from(*sz), 2, false, false)
            ),
        ),
        Change::Removed(sz) => (
            obj(vec![ty("removed"), ("size", int(*sz))]),
            format!(
                "removed {:>11}",
                format_file_size(i128::from(*sz), 2, false, false)
            ),
        ),
        Change::Modified(None) => (obj(vec![ty("modified")]), "modified".into()),
        Change::Modified(Some((a, r))) => (
            obj(vec![
                ty("modified"),
                ("added", int(*a)),
                ("removed", int(*r)),
            ]),
            format!(
                "{:>9} {:>9}",
                format_file_size(i128::from(*a), 1, true, false),
                format_file_size(-i128::from(*r), 1, true, false)
            ),
        ),
        Change::Owner(u1, g1, u2, g2) => (
            obj(vec![
                ty("owner"),
                ("old_user", owner_json(u1)),
                ("old_group", owner_json(g1)),
                ("new_user", owner_json(u2)),
                ("new_group", owner_json(g2)),
            ]),
            format!(
                "[{}:{} -> {}:{}]",
                owner_text(u1),
                owner_text(g1),
                owner_text(u2),
                owner_text(g2)
            ),
        ),
        Change::Mode(m1, m2) => {
            let (a, b) = (
                oxiborg_textfmt::filemode(*m1),
                oxiborg_textfmt::filemode(*m2),
            );
            let text = format!("[{a} -> {b}]");
            (
                obj(vec![
                    ty("mode"),
                    ("old_mode", J::Str(a)),
                    ("new_mode", J::Str(b)),
                ]),
                text,
            )
        }
        Change::Time(attr, t1, t2) => {
            let (d1, d2) = (safe_timestamp(*t1, zone), safe_timestamp(*t2, zone));
            let text = |d| format_time(d, "").unwrap_or_default();
            let old_key = format!("old_{attr}");
            let new_key = format!("new_{attr}");
            (
                obj(vec![
                    ty(attr),
                    (&old_key, J::Str(isoformat_time(&d1))),
                    (&new_key, J::Str(isoformat_time(&d2))),
                ]),
                format!("[{attr}: {} -> {}]", text(&d1), text(&d2)),
            )
        }
    }
}

/// `oxiborg diff`.
pub fn run(ctx: &Ctx, args: &DiffArgs) -> anyhow::Result<u8> {
    let specs = sort_specs(args)?;
    let loc = parse(Some(&args.location))?;
    let name1 = loc
        .archive
        .clone()
        .ok_or_else(|| usage("an archive name is required (REPOSITORY::ARCHIVE)"))?;
    let (mut matcher, _) = build_matcher(&args.patterns, &args.paths, true)?;
    let mut session = open_session(ctx, &loc, false, Operation::Read)?;
    let load = |session: &mut oxiborg_core::Session, name: &str| {
        oxiborg_core::load_archive_by_name(
            session.repo.as_mut(),
            &session.key,
            &session.manifest.manifest,
            name.as_bytes(),
        )
    };
    let archive1 = load(&mut session, &name1)?;
    let archive2 = load(&mut session, &args.archive2)?;
    let warn = |msg: &str| {
        ctx.logger
            .log(LogLevel::Warning, "borg.archiver", msg, None, false);
    };
    let cp1 = archive1.meta.chunker_params.as_ref();
    let cp2 = archive2.meta.chunker_params.as_ref();
    let can_compare_chunk_ids = if args.same_chunker_params {
        true
    } else if let (Some(a), Some(b)) = (cp1, cp2) {
        let same = a.normalized() == b.normalized();
        if !same {
            warn("--chunker-params are different between archives, diff will be slow.");
        }
        same
    } else {
        warn(
            "--chunker-params might be different between archives, diff will be slow.\n\
             If you know for certain that they are the same, pass --same-chunker-params \
             to override this check.",
        );
        false
    };
    let key = session.key.clone();
    let mut keep = |item: &oxiborg_format::Item| matcher.matches(&item.path);
    let items1 = oxiborg_core::diff_items(session.repo.as_mut(), &key, &archive1.meta, &mut keep)?;
    let items2 = oxiborg_core::diff_items(session.repo.as_mut(), &key, &archive2.meta, &mut keep)?;
    let opts = DiffOptions {
        can_compare_chunk_ids,
        content_only: args.content_only,
    };
    let mut diffs: Vec<(Vec<u8>, ItemDiff)> = Vec::new();
    oxiborg_core::compare_archives(
        session.repo.as_mut(),
        &key,
        items1,
        items2,
        opts,
        &mut |m| warn(&m),
        &mut |path, d| {
            if !d.equal {
                diffs.push((path, d));
            }
            Ok(())
        },
    )?;
    // Stable sorts from the last spec to the first.
    for (desc, field) in specs.iter().rev() {
        diffs.sort_by(|a, b| {
            let o = key_for(field, &a.0, &a.1).cmp(&key_for(field, &b.0, &b.1));
            if *desc {
                o.reverse()
            } else {
                o
            }
        });
    }
    let zone = zone();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (path, d) in &diffs {
        let path = remove_surrogates(path);
        let changes: Vec<(J, String)> = d
            .changes
            .iter()
            .filter(|c| c.actual())
            .map(|c| render(c, &zone))
            .collect();
        if args.json_lines {
            let v = J::Object(vec![
                (
                    "changes".to_string(),
                    J::Array(changes.into_iter().map(|(j, _)| j).collect()),
                ),
                ("path".to_string(), J::Str(path)),
            ]);
            writeln!(out, "{}", oxiborg_pyjson::dump(&v))?;
        } else {
            let text: Vec<String> = changes.into_iter().map(|(_, s)| s).collect();
            writeln!(out, "{:<19} {path}", text.join(" "))?;
        }
    }
    out.flush()?;
    drop(out);
    let rc = unmatched_include_warnings(ctx, &matcher);
    session.close()?;
    Ok(rc)
}
