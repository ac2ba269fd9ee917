//! Human and JSON renderings of archives, items and statistics, as borg
//! 1.4 prints them (`ArchiveFormatter`, `ItemFormatter`, `Statistics`).

use std::fmt::Write as _;

use chrono::{Local, TimeZone};
use oxiborg_core::{Cache, CreateOutcome, DeleteStats, LoadedArchive, Session};
use oxiborg_format::{Item, UtcTimestamp};
use oxiborg_hashindex::ChunkIndex;
use serde_json::{json, Value};

/// An archive in the manifest.
#[derive(Debug, Clone)]
pub struct ArchiveRow {
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: [u8; 32],
    /// Its start time.
    pub time: UtcTimestamp,
}

fn local(ts: UtcTimestamp) -> chrono::DateTime<Local> {
    Local
        .timestamp_opt(ts.unix_seconds(), ts.subsec_micros() * 1000)
        .single()
        .unwrap_or_else(|| Local.timestamp_opt(0, 0).unwrap())
}

fn local_ns(ns: i128) -> chrono::DateTime<Local> {
    let secs = ns.div_euclid(1_000_000_000) as i64;
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    Local
        .timestamp_opt(secs, nanos)
        .single()
        .unwrap_or_else(|| Local.timestamp_opt(0, 0).unwrap())
}

/// borg's `format_time`: `Sun, 2026-11-22 01:40:48` in local time.
pub fn format_time(dt: chrono::DateTime<Local>) -> String {
    dt.format("%a, %Y-%m-%d %H:%M:%S").to_string()
}

/// borg's JSON time: local, naive, microseconds.
pub fn iso_local(dt: chrono::DateTime<Local>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// borg's `OutputTimestamp` of an aware UTC time (archive start/end in
/// `info`/`create --json`, `last_modified`): `to_localtime` keeps whole
/// seconds only, so the microseconds are always `000000`.
fn iso_local_whole(ts: UtcTimestamp) -> String {
    iso_local(local(UtcTimestamp::from_unix_parts(ts.unix_seconds(), 0)))
}

/// Python's `shlex.quote` (borg's `format_cmdline` joins argv with it).
pub fn shlex_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if s.chars().all(safe) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// borg's `format_file_size` (decimal units, two decimals).
pub fn format_file_size(v: u64) -> String {
    oxiborg_textfmt::format_file_size(i128::from(v), 2, false, false)
}

/// Python's `stat.filemode`.
pub fn filemode(mode: u32) -> String {
    oxiborg_textfmt::filemode(mode)
}

/// Parse `--timestamp` (UTC `yyyy-mm-ddThh:mm:ss`, or a reference file).
pub fn parse_timestamp_arg(s: &str) -> Result<UtcTimestamp, String> {
    if let Ok(t) = UtcTimestamp::parse_iso(s) {
        return Ok(t);
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, f) {
            let utc = dt.and_utc();
            return Ok(UtcTimestamp::from_unix_nanos(
                i128::from(utc.timestamp()) * 1_000_000_000
                    + i128::from(utc.timestamp_subsec_nanos()),
            ));
        }
    }
    match std::fs::metadata(s) {
        Ok(m) => Ok(UtcTimestamp::from_system_time(
            m.modified().map_err(|e| e.to_string())?,
        )),
        Err(_) => Err(format!(
            "{s:?}: expected a UTC time in yyyy-mm-ddThh:mm:ss format or an existing reference file"
        )),
    }
}

// ---------------------------------------------------------------------------
// A small Python str.format engine for --format.

enum Field {
    Str(String),
    Int(i128),
}

fn apply_spec(v: Field, spec: &str) -> Result<String, String> {
    if spec.contains('%') {
        return Err(format!("unsupported format spec {spec:?}"));
    }
    let mut chars: Vec<char> = spec.chars().collect();
    let mut fill = ' ';
    let mut align = None;
    if chars.len() >= 2 && matches!(chars[1], '<' | '>' | '^') {
        fill = chars[0];
        align = Some(chars[1]);
        chars.drain(..2);
    } else if !chars.is_empty() && matches!(chars[0], '<' | '>' | '^') {
        align = Some(chars[0]);
        chars.drain(..1);
    }
    let rest: String = chars.into_iter().collect();
    let (zero, rest) = match rest.strip_prefix('0') {
        Some(r) if !r.is_empty() || align.is_none() => (true, r.to_string()),
        _ => (false, rest),
    };
    let rest = rest.trim_end_matches(['d', 's']);
    let width: usize = if rest.is_empty() {
        0
    } else {
        rest.parse()
            .map_err(|_| format!("unsupported format spec {spec:?}"))?
    };
    let (text, default_align) = match v {
        Field::Str(s) => (s, '<'),
        Field::Int(i) => (i.to_string(), '>'),
    };
    let n = text.chars().count();
    if n >= width {
        return Ok(text);
    }
    let pad = width - n;
    let fill = if zero && align.is_none() { '0' } else { fill };
    let p = |k: usize| std::iter::repeat_n(fill, k).collect::<String>();
    Ok(match align.unwrap_or(default_align) {
        '<' => text + &p(pad),
        '>' => p(pad) + &text,
        _ => p(pad / 2) + &text + &p(pad - pad / 2),
    })
}

/// Render `fmt` with `lookup`; `{{`/`}}` are literal braces.
fn render(fmt: &str, lookup: &mut dyn FnMut(&str) -> Option<Field>) -> Result<String, String> {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '{' if it.peek() == Some(&'{') => {
                it.next();
                out.push('{');
            }
            '}' if it.peek() == Some(&'}') => {
                it.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match it.next() {
                        Some('}') => break,
                        Some(ch) => field.push(ch),
                        None => return Err(format!("unterminated placeholder in {fmt:?}")),
                    }
                }
                let (name, spec) = match field.split_once(':') {
                    Some((n, s)) => (n.to_string(), s.to_string()),
                    None => (field.clone(), String::new()),
                };
                let v = match name.as_str() {
                    "NL" | "NEWLINE" | "LF" => Field::Str("\n".into()),
                    "CR" => Field::Str("\r".into()),
                    "NUL" => Field::Str("\0".into()),
                    "TAB" => Field::Str("\t".into()),
                    "SPACE" => Field::Str(" ".into()),
                    _ => lookup(&name).ok_or_else(|| format!("unknown key {name:?} in format"))?,
                };
                out.push_str(&apply_spec(v, &spec)?);
            }
            '}' => return Err(format!("single '}}' in format {fmt:?}")),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn s(v: impl Into<String>) -> Option<Field> {
    Some(Field::Str(v.into()))
}

/// borg's `remove_surrogates(safe_decode(b))`: each byte that is not
/// valid UTF-8 becomes one `?`.
pub(crate) fn lossy(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    out
}

/// Format one archive line (`ArchiveFormatter`).
pub fn format_archive(
    fmt: &str,
    row: &ArchiveRow,
    session: &mut Session,
) -> Result<String, String> {
    let mut loaded: Option<LoadedArchive> = None;
    let mut load = |session: &mut Session| -> Result<LoadedArchive, String> {
        if loaded.is_none() {
            loaded = Some(
                oxiborg_core::load_archive(session.repo.as_mut(), &session.key, &row.id)
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok(loaded.clone().expect("loaded"))
    };
    let mut err = None;
    let out = render(fmt, &mut |k| match k {
        "archive" | "name" => s(row.name.clone()),
        "barchive" => s(row.name.clone()),
        "id" => s(hex::encode(row.id)),
        "time" | "start" => s(format_time(local(row.time))),
        "end" | "comment" | "hostname" | "username" | "command_line" => match load(session) {
            Ok(a) => match k {
                "end" => s(a
                    .meta
                    .time_end
                    .as_deref()
                    .and_then(|t| UtcTimestamp::parse_iso(t).ok())
                    .map(|t| format_time(local(t)))
                    .unwrap_or_default()),
                "comment" => s(lossy(a.meta.comment.as_deref().unwrap_or_default())),
                "hostname" => s(lossy(a.meta.hostname.as_deref().unwrap_or_default())),
                "username" => s(lossy(a.meta.username.as_deref().unwrap_or_default())),
                _ => s(a
                    .meta
                    .cmdline
                    .iter()
                    .map(|c| lossy(c))
                    .collect::<Vec<_>>()
                    .join(" ")),
            },
            Err(e) => {
                err = Some(e);
                s("")
            }
        },
        _ => None,
    })?;
    match err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn item_type(item: &Item) -> char {
    filemode(item.mode.unwrap_or(0))
        .chars()
        .next()
        .unwrap_or('?')
}

/// Format one item line (`ItemFormatter`).
pub fn format_item(fmt: &str, item: &Item, _archive: &LoadedArchive) -> Result<String, String> {
    let mode = item.mode.unwrap_or(0);
    let size: u64 = item
        .chunks
        .as_ref()
        .map(|c| c.iter().map(|e| e.size).sum())
        .or(item.size)
        .unwrap_or_else(|| {
            if item.is_link() {
                item.source.as_ref().map_or(0, |s| s.len() as u64)
            } else {
                0
            }
        });
    let source = item.source.as_deref().map(lossy).unwrap_or_default();
    let hardlink = item.source.is_some() && !item.is_link();
    let mode_s = if hardlink {
        format!("h{}", &filemode(mode)[1..])
    } else {
        filemode(mode)
    };
    let extra = if item.is_link() {
        format!(" -> {source}")
    } else if item.source.is_some() {
        format!(" link to {source}")
    } else {
        String::new()
    };
    let name_or_id = |n: &Option<Option<Vec<u8>>>, id: Option<i64>| match n {
        Some(Some(b)) => lossy(b),
        _ => id.unwrap_or(0).to_string(),
    };
    render(fmt, &mut |k| match k {
        "type" => s(item_type(item).to_string()),
        "mode" => s(mode_s.clone()),
        "uid" => Some(Field::Int(i128::from(item.uid.unwrap_or(0)))),
        "gid" => Some(Field::Int(i128::from(item.gid.unwrap_or(0)))),
        "user" => s(name_or_id(&item.user, item.uid)),
        "group" => s(name_or_id(&item.group, item.gid)),
        "path" => s(lossy(&item.path)),
        "bpath" => s(lossy(&item.path)),
        "source" | "linktarget" => s(source.clone()),
        "extra" => s(extra.clone()),
        "size" => Some(Field::Int(i128::from(size))),
        "csize" => Some(Field::Int(i128::from(
            item.chunks
                .as_ref()
                .map(|c| c.iter().map(|e| e.csize).sum::<u64>())
                .unwrap_or(0),
        ))),
        "num_chunks" => Some(Field::Int(
            item.chunks.as_ref().map_or(0, |c| c.len()) as i128
        )),
        "mtime" => s(format_time(local_ns(item.mtime))),
        "ctime" => s(format_time(local_ns(item.ctime.unwrap_or(item.mtime)))),
        "atime" => s(format_time(local_ns(item.atime.unwrap_or(item.mtime)))),
        "isomtime" => s(iso_local(local_ns(item.mtime))),
        "isoctime" => s(iso_local(local_ns(item.ctime.unwrap_or(item.mtime)))),
        "isoatime" => s(iso_local(local_ns(item.atime.unwrap_or(item.mtime)))),
        "health" => s(if item.chunks_healthy.is_some() {
            "broken"
        } else {
            "healthy"
        }),
        "flags" => Some(Field::Int(i128::from(item.bsdflags.unwrap_or(0)))),
        _ => None,
    })
}

/// One `--json-lines` item.
pub fn item_json(item: &Item) -> Value {
    let source = item.source.as_deref().map(lossy).unwrap_or_default();
    let size: u64 = item
        .chunks
        .as_ref()
        .map(|c| c.iter().map(|e| e.size).sum())
        .or(item.size)
        .unwrap_or_else(|| {
            if item.is_link() {
                item.source.as_ref().map_or(0, |s| s.len() as u64)
            } else {
                0
            }
        });
    json!({
        "type": item_type(item).to_string(),
        "mode": filemode(item.mode.unwrap_or(0)),
        "user": match &item.user { Some(Some(b)) => Value::from(lossy(b)), _ => Value::Null },
        "group": match &item.group { Some(Some(b)) => Value::from(lossy(b)), _ => Value::Null },
        "uid": item.uid.unwrap_or(0),
        "gid": item.gid.unwrap_or(0),
        "path": lossy(&item.path),
        "healthy": item.chunks_healthy.is_none(),
        "source": source.clone(),
        "linktarget": source,
        "flags": item.bsdflags,
        "mtime": iso_local(local_ns(item.mtime)),
        "size": size,
    })
}

fn repo_json(session: &Session) -> Value {
    let last = session
        .manifest()
        .timestamp
        .as_deref()
        .and_then(|t| UtcTimestamp::parse_iso(t).ok())
        .map(iso_local_whole)
        .unwrap_or_default();
    json!({
        "id": hex::encode(session.repo.id()),
        "last_modified": last,
        "location": session.location,
    })
}

fn encryption_json(session: &Session) -> Value {
    let mut v = json!({"mode": session.key.key_type().arg_name().unwrap_or("unknown")});
    if let Some(p) = session.keyfile_path() {
        v["keyfile"] = json!(p.display().to_string());
    }
    v
}

/// `list --json`.
pub fn list_json(session: &Session, rows: &[ArchiveRow]) -> Value {
    let archives: Vec<Value> = rows
        .iter()
        .map(|r| {
            let t = iso_local_whole(r.time);
            json!({"archive": r.name, "barchive": r.name, "id": hex::encode(r.id), "name": r.name, "start": t, "time": t})
        })
        .collect();
    json!({"archives": archives, "encryption": encryption_json(session), "repository": repo_json(session)})
}

/// borg's "all archives" totals: since borg 1.2, the sums of every
/// archive's recorded `size` and `csize` (`CacheStatsMixin.stats`), not the
/// chunk index's totals (which count part files and metadata too).
#[derive(Debug, Clone, Copy, Default)]
pub struct ArchiveTotals {
    size: u64,
    csize: u64,
}

/// Sum the recorded sizes of every archive in the manifest. Archives made
/// before borg 1.2 carry no sizes: their content references are counted.
pub fn archive_totals(session: &mut Session, cache: &mut Cache) -> anyhow::Result<ArchiveTotals> {
    let mut t = ArchiveTotals::default();
    let ids: Vec<[u8; 32]> = session.manifest().archives.values().map(|a| a.id).collect();
    for id in ids {
        let a = oxiborg_core::load_archive(session.repo.as_mut(), &session.key, &id)?;
        if let (Some(size), Some(csize)) = (a.meta.size, a.meta.csize) {
            t.size += size;
            t.csize += csize;
            continue;
        }
        let idx = cache.archive_index(session.repo.as_mut(), &session.key, &id)?;
        let idx = content_only(&a, &idx);
        for (_, (refs, size, csize)) in idx.iter() {
            t.size += u64::from(refs) * u64::from(size);
            t.csize += u64::from(refs) * u64::from(csize);
        }
    }
    Ok(t)
}

/// An archive's references without its metadata object and item stream.
fn content_only(a: &LoadedArchive, idx: &ChunkIndex) -> ChunkIndex {
    let mut idx = idx.clone();
    idx.remove(&a.id);
    for id in &a.meta.items {
        if let Ok(Some(0)) = idx.decref(id) {
            idx.remove(id);
        }
    }
    idx
}

fn cache_stats_json(cache: &Cache, totals: ArchiveTotals) -> Value {
    let (_, _, usize_, ucsize, uchunks, chunks) = cache.chunks.summarize();
    let (size, csize) = (totals.size, totals.csize);
    json!({
        "total_chunks": chunks,
        "total_csize": csize,
        "total_size": size,
        "total_unique_chunks": uchunks,
        "unique_csize": ucsize,
        "unique_size": usize_,
    })
}

fn archive_info_json(a: &LoadedArchive, idx: &ChunkIndex, cache: &Cache) -> Value {
    // borg 1.4.5's `calc_stats` counts content chunks only: neither the
    // archive metadata object nor the item stream (borg issue #9003).
    let idx = content_only(a, idx);
    let (osize, csize, _, ucsize, _, _) = idx.stats_against(&cache.chunks).unwrap_or_default();
    // borg ≥ 1.2 reports the sizes recorded in the archive metadata.
    let osize = a.meta.size.unwrap_or(osize);
    let csize = a.meta.csize.unwrap_or(csize);
    let start = UtcTimestamp::parse_iso(&a.meta.time).ok();
    let end = a
        .meta
        .time_end
        .as_deref()
        .and_then(|t| UtcTimestamp::parse_iso(t).ok());
    let duration = match (start, end) {
        (Some(s), Some(e)) => (e.unix_nanos() - s.unix_nanos()) as f64 / 1e9,
        _ => 0.0,
    };
    json!({
        "chunker_params": a.meta.chunker_params.as_ref().map_or(json!(""), chunker_params_json),
        "command_line": a.meta.cmdline.iter().map(|c| lossy(c)).collect::<Vec<_>>(),
        "comment": lossy(a.meta.comment.as_deref().unwrap_or_default()),
        "cwd": lossy(a.meta.cwd.as_deref().unwrap_or_default()),
        "duration": duration,
        "end": end.map(iso_local_whole).unwrap_or_default(),
        "hostname": lossy(a.meta.hostname.as_deref().unwrap_or_default()),
        "id": hex::encode(a.id),
        "limits": {"max_archive_size": a.csize as f64 / MAX_DATA_SIZE},
        "name": lossy(&a.meta.name),
        "start": start.map(iso_local_whole).unwrap_or_default(),
        "stats": {
            "compressed_size": csize,
            "deduplicated_size": ucsize,
            "nfiles": a.meta.nfiles.unwrap_or(0),
            "original_size": osize,
        },
        "username": lossy(a.meta.username.as_deref().unwrap_or_default()),
    })
}

/// The JSON form of recorded chunker params.
pub fn chunker_params_json(c: &oxiborg_format::ChunkerParams) -> Value {
    match c {
        oxiborg_format::ChunkerParams::Buzhash {
            min_exp,
            max_exp,
            mask_bits,
            window_size,
        } => json!(["buzhash", min_exp, max_exp, mask_bits, window_size]),
        oxiborg_format::ChunkerParams::LegacyBuzhash {
            min_exp,
            max_exp,
            mask_bits,
            window_size,
        } => json!([min_exp, max_exp, mask_bits, window_size]),
        oxiborg_format::ChunkerParams::Fixed {
            block_size,
            header_size,
        } => json!(["fixed", block_size, header_size]),
        oxiborg_format::ChunkerParams::Other(_) => Value::Null,
    }
}

/// `info --json`.
pub fn info_json(
    session: &Session,
    cache: &Cache,
    archives: &[(LoadedArchive, ChunkIndex)],
    totals: ArchiveTotals,
) -> Value {
    let mut v = json!({
        "cache": {"path": cache.dir().path().display().to_string(), "stats": cache_stats_json(cache, totals)},
        "encryption": encryption_json(session),
        "repository": repo_json(session),
    });
    if !archives.is_empty() {
        v["archives"] = Value::Array(
            archives
                .iter()
                .map(|(a, idx)| archive_info_json(a, idx, cache))
                .collect(),
        );
    } else {
        v["security_dir"] = json!(session.security.path().display().to_string());
    }
    v
}

/// borg's `MAX_DATA_SIZE`: the archive metadata object's limit, against
/// which `limits.max_archive_size` is measured.
const MAX_DATA_SIZE: f64 = oxiborg_format::MAX_DATA_SIZE as f64;

const RULE: &str = "------------------------------------------------------------------------------";

fn summary_lines(out: &mut String, label: &str, o: u64, c: u64, d: u64) {
    signed_summary_line(out, label, i128::from(o), i128::from(c), i128::from(d));
}

/// borg's `Statistics.summary` line (sizes may be negative: `delete`).
fn signed_summary_line(out: &mut String, label: &str, o: i128, c: i128, d: i128) {
    let f = |v| oxiborg_textfmt::format_file_size(v, 2, false, false);
    let _ = writeln!(out, "{label:<15} {:>20} {:>20} {:>20}", f(o), f(c), f(d));
}

fn all_archives(out: &mut String, cache: &Cache, totals: ArchiveTotals) {
    let _ = writeln!(out, "{SIZES_HEADER}");
    cache_summary(out, cache, totals);
}

/// borg's `str(cache)`: the totals of all archives and the chunk counts.
fn cache_summary(out: &mut String, cache: &Cache, totals: ArchiveTotals) {
    let (_, _, _, ucsize, uchunks, chunks) = cache.chunks.summarize();
    let (size, csize) = (totals.size, totals.csize);
    summary_lines(out, "All archives:", size, csize, ucsize);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "                       Unique chunks         Total chunks"
    );
    let _ = writeln!(out, "Chunk index:    {uchunks:>20} {chunks:>20}");
}

/// `info` as text.
pub fn info_text(
    session: &Session,
    cache: &Cache,
    archives: &[(LoadedArchive, ChunkIndex)],
    totals: ArchiveTotals,
) -> String {
    let mut out = String::new();
    if archives.is_empty() {
        let _ = writeln!(out, "Repository ID: {}", hex::encode(session.repo.id()));
        let _ = writeln!(out, "Location: {}", session.location);
        let kt = session.key.key_type();
        let _ = writeln!(
            out,
            "Encrypted: {}",
            // borg tests the key's NAME: only `plaintext` and
            // `authenticated` say No (`authenticated BLAKE2b` says Yes).
            if matches!(kt.name(), "plaintext" | "authenticated") {
                "No".into()
            } else {
                format!("Yes ({})", kt.name())
            }
        );
        if let Some(p) = session.keyfile_path() {
            let _ = writeln!(out, "Key file: {}", p.display());
        }
        let _ = writeln!(out, "Cache: {}", cache.dir().path().display());
        let _ = writeln!(out, "Security dir: {}", session.security.path().display());
        let _ = writeln!(out, "{RULE}");
        all_archives(&mut out, cache, totals);
        return out;
    }
    for (i, (a, idx)) in archives.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(out);
        }
        let j = archive_info_json(a, idx, cache);
        let st = UtcTimestamp::parse_iso(&a.meta.time).ok();
        let en = a
            .meta
            .time_end
            .as_deref()
            .and_then(|t| UtcTimestamp::parse_iso(t).ok());
        let _ = writeln!(out, "Archive name: {}", lossy(&a.meta.name));
        let _ = writeln!(out, "Archive fingerprint: {}", hex::encode(a.id));
        let _ = writeln!(
            out,
            "Comment: {}",
            lossy(a.meta.comment.as_deref().unwrap_or_default())
        );
        let _ = writeln!(
            out,
            "Hostname: {}",
            lossy(a.meta.hostname.as_deref().unwrap_or_default())
        );
        let _ = writeln!(
            out,
            "Username: {}",
            lossy(a.meta.username.as_deref().unwrap_or_default())
        );
        let _ = writeln!(
            out,
            "Time (start): {}",
            st.map(|t| format_time(local(t))).unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "Time (end): {}",
            en.map(|t| format_time(local(t))).unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "Duration: {}",
            format_timedelta(j["duration"].as_f64().unwrap_or(0.0))
        );
        let _ = writeln!(out, "Number of files: {}", a.meta.nfiles.unwrap_or(0));
        let _ = writeln!(
            out,
            "Working Directory: {}",
            lossy(a.meta.cwd.as_deref().unwrap_or_default())
        );
        let _ = writeln!(
            out,
            "Command line: {}",
            a.meta
                .cmdline
                .iter()
                .map(|c| shlex_quote(&lossy(c)))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let _ = writeln!(
            out,
            "Utilization of maximum supported archive size: {:.0}%",
            a.csize as f64 / MAX_DATA_SIZE * 100.0
        );
        let _ = writeln!(out, "{RULE}");
        let stats = &j["stats"];
        let _ = writeln!(out, "{SIZES_HEADER}");
        summary_lines(
            &mut out,
            "This archive:",
            stats["original_size"].as_u64().unwrap_or(0),
            stats["compressed_size"].as_u64().unwrap_or(0),
            stats["deduplicated_size"].as_u64().unwrap_or(0),
        );
        cache_summary(&mut out, cache, totals);
    }
    out
}

/// borg's `format_timedelta`.
pub fn format_timedelta(secs: f64) -> String {
    let total = secs;
    let s = total % 60.0;
    let m = ((total / 60.0) as u64) % 60;
    let h = ((total / 3600.0) as u64) % 24;
    let d = (total / 86400.0) as u64;
    let mut txt = format!("{s:.2} seconds");
    if m > 0 || h > 0 || d > 0 {
        txt = format!("{m} minutes {txt}");
        if h > 0 || d > 0 {
            txt = format!("{h} hours {txt}");
            if d > 0 {
                txt = format!("{d} days {txt}");
            }
        }
    }
    txt
}

/// `json.dumps(v, sort_keys=True, indent=4)`, as borg's `json_print` writes
/// its `--json` documents (ASCII-only strings, Python float reprs).
pub fn borg_json(v: &Value) -> String {
    fn put(v: &Value, depth: usize, out: &mut String) {
        let pad = |out: &mut String, d: usize| {
            out.push('\n');
            out.push_str(&"    ".repeat(d));
        };
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => out.push_str(&i.to_string()),
                (_, Some(u), _) => out.push_str(&u.to_string()),
                (_, _, Some(f)) => out.push_str(&oxiborg_pyjson::float_repr(f)),
                _ => out.push_str(&n.to_string()),
            },
            Value::String(s) => oxiborg_pyjson::dump_str(s, out),
            Value::Array(a) if a.is_empty() => out.push_str("[]"),
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, depth + 1);
                    put(x, depth + 1, out);
                }
                pad(out, depth);
                out.push(']');
            }
            Value::Object(m) if m.is_empty() => out.push_str("{}"),
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, depth + 1);
                    oxiborg_pyjson::dump_str(k, out);
                    out.push_str(": ");
                    put(&m[k], depth + 1, out);
                }
                pad(out, depth);
                out.push('}');
            }
        }
    }
    let mut out = String::new();
    put(v, 0, &mut out);
    out
}

/// borg's `STATS_HEADER`.
const SIZES_HEADER: &str =
    "                       Original size      Compressed size    Deduplicated size";

/// `create --stats`/`--json` data.
#[derive(Debug)]
pub struct CreateStats {
    json: Value,
    text: String,
    quick_text: String,
}

impl CreateStats {
    /// Collect the figures after a create.
    pub fn new(
        session: &Session,
        cache: &Cache,
        out: &CreateOutcome,
        totals: ArchiveTotals,
    ) -> Self {
        let start = iso_local_whole(out.start);
        let end = iso_local_whole(out.end);
        let max_archive_size = cache
            .chunks
            .get(&out.id)
            .map_or(0.0, |(_, _, csize)| f64::from(csize))
            / MAX_DATA_SIZE;
        let archive = json!({
            "command_line": out.archive.cmdline.iter().map(|c| lossy(c)).collect::<Vec<_>>(),
            "duration": (out.duration * 1e6).round() / 1e6,
            "end": end,
            "id": hex::encode(out.id),
            "limits": {"max_archive_size": max_archive_size},
            "name": lossy(&out.archive.name),
            "start": start,
            "stats": {
                "compressed_size": out.stats.csize,
                "deduplicated_size": out.stats.usize,
                "nfiles": out.stats.nfiles,
                "original_size": out.stats.osize,
            },
        });
        let json = json!({
            "archive": archive,
            "cache": {"path": cache.dir().path().display().to_string(), "stats": cache_stats_json(cache, totals)},
            "encryption": encryption_json(session),
            "repository": repo_json(session),
        });
        let mut text = String::new();
        let _ = writeln!(text, "{RULE}");
        let _ = writeln!(text, "Repository: {}", session.location);
        let _ = writeln!(text, "Archive name: {}", lossy(&out.archive.name));
        let _ = writeln!(text, "Archive fingerprint: {}", hex::encode(out.id));
        let _ = writeln!(text, "Time (start): {}", format_time(local(out.start)));
        let _ = writeln!(text, "Time (end):   {}", format_time(local(out.end)));
        let _ = writeln!(text, "Duration: {}", format_timedelta(out.duration));
        let _ = writeln!(text, "Number of files: {}", out.stats.nfiles);
        let _ = writeln!(
            text,
            "Utilization of max. archive size: {:.0}%",
            max_archive_size * 100.0
        );
        let _ = writeln!(text, "{RULE}");
        let _ = writeln!(text, "{SIZES_HEADER}");
        summary_lines(
            &mut text,
            "This archive:",
            out.stats.osize,
            out.stats.csize,
            out.stats.usize,
        );
        let quick_text = format!("{text}{RULE}");
        cache_summary(&mut text, cache, totals);
        let _ = write!(text, "{RULE}");
        CreateStats {
            json,
            text,
            quick_text,
        }
    }

    /// The `--json` document (without `cache` for `--quick-stats`).
    pub fn json(&self, quick: bool) -> String {
        let mut v = self.json.clone();
        if quick {
            if let Value::Object(m) = &mut v {
                m.remove("cache");
            }
        }
        borg_json(&v)
    }

    /// The `--stats` text (`--quick-stats`: without the repository-wide
    /// part).
    pub fn text(&self, quick: bool) -> String {
        if quick {
            self.quick_text.clone()
        } else {
            self.text.clone()
        }
    }

    /// The `--stats` text without the column header line (`recreate`'s).
    pub fn text_without_header(&self) -> String {
        self.text.replacen(&format!("{SIZES_HEADER}\n"), "", 1)
    }
}

/// `delete --stats` text.
pub fn delete_stats_text(
    stats: &DeleteStats,
    cache: &Cache,
    totals: ArchiveTotals,
    quick: bool,
) -> String {
    // borg's `chunk_decref` counts every dropped reference negatively.
    let mut out = String::new();
    let _ = writeln!(out, "{RULE}");
    let _ = writeln!(out, "{SIZES_HEADER}");
    signed_summary_line(
        &mut out,
        "Deleted data:",
        -i128::from(stats.osize),
        -i128::from(stats.csize),
        -i128::from(stats.freed),
    );
    if !quick {
        cache_summary(&mut out, cache, totals);
    }
    let _ = write!(out, "{RULE}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_borg() {
        assert_eq!(format_file_size(0), "0 B");
        assert_eq!(format_file_size(999), "999 B");
        assert_eq!(format_file_size(1000), "1.00 kB");
        assert_eq!(format_file_size(1_234_567), "1.23 MB");
        assert_eq!(format_file_size(999_995), "1.00 MB");
    }

    #[test]
    fn filemodes() {
        assert_eq!(filemode(0o100644), "-rw-r--r--");
        assert_eq!(filemode(0o40755), "drwxr-xr-x");
        assert_eq!(filemode(0o104755), "-rwsr-xr-x");
        assert_eq!(filemode(0o41777), "drwxrwxrwt");
        assert_eq!(filemode(0o120777), "lrwxrwxrwx");
    }

    #[test]
    fn python_format_subset() {
        let mut f = |k: &str| match k {
            "a" => Some(Field::Str("xy".into())),
            "n" => Some(Field::Int(42)),
            _ => None,
        };
        assert_eq!(
            render("{a:<5}|{n:6}|{a:>4}{{}}{NL}", &mut f).unwrap(),
            "xy   |    42|  xy{}\n"
        );
        assert!(render("{zz}", &mut f).is_err());
    }
}
