//! The archive commands: create, extract, list, info, delete, rename.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use oxiborg_cli_args::{
    ArchiveFilterArgs, CreateArgs, DeleteArgs, ExtractArgs, InfoArgs, ListArgs, LogLevel,
    PatternArgs, RenameArgs,
};
use oxiborg_core::{
    Cache, CacheOptions, CreateObserver, CreateOptions, ExtractObserver, ExtractOptions,
    FilesCacheMode, LoadedArchive, MetaOptions, RestoreOptions, SecurityAnswers, Session, Source,
};
use oxiborg_format::{Compressor, Item, Operation, UtcTimestamp};
use oxiborg_patterns::{PatternMatcher, PatternStyle};

use super::Ctx;
use crate::env::{borg_dirs, EnvPassphrase};
use crate::exit::{class, CliError};
use crate::location::{parse, Location};
use crate::output::{self, ArchiveRow};

/// Set by the SIGINT/SIGTERM handler: stop now, commit nothing.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Set by the first SIGINT while [`CHECKPOINT_ON_SIGINT`] is set: `create`
/// writes a checkpoint and stops.
pub static SIGINT: AtomicBool = AtomicBool::new(false);
/// Whether a first SIGINT means "checkpoint and stop" (while `create` runs).
pub static CHECKPOINT_ON_SIGINT: AtomicBool = AtomicBool::new(false);

fn env_yes(name: &str) -> bool {
    std::env::var(name)
        .map(|v| matches!(v.to_ascii_lowercase().as_str(), "yes" | "y" | "1" | "true"))
        .unwrap_or(false)
}

/// Open a repository with key and manifest.
pub fn open_session(
    ctx: &Ctx,
    loc: &Location,
    exclusive: bool,
    op: Operation,
) -> anyhow::Result<Session> {
    let repo = ctx.open(loc, exclusive)?;
    let answers = SecurityAnswers {
        relocated_ok: env_yes("BORG_RELOCATED_REPO_ACCESS_IS_OK"),
        unknown_unencrypted_ok: env_yes("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK"),
    };
    Ok(Session::open(
        Box::new(repo),
        &borg_dirs(),
        &mut EnvPassphrase::default(),
        &loc.path,
        &loc.canonical(),
        op,
        answers,
    )?)
}

fn open_cache(ctx: &Ctx, session: &mut Session, load_files: bool) -> anyhow::Result<Cache> {
    let ttl = std::env::var("BORG_FILES_CACHE_TTL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let opts = CacheOptions {
        load_files,
        files_suffix: std::env::var("BORG_FILES_CACHE_SUFFIX").ok(),
        files_ttl: ttl,
        process: crate::env::process_id(),
        lock_wait: ctx.lock_wait,
    };
    let dirs = borg_dirs();
    let manifest = session.manifest.manifest.clone();
    let id = session.manifest.id;
    Ok(Cache::open(
        &dirs.cache_dir,
        session.repo.as_mut(),
        &session.key,
        &manifest,
        &id,
        &opts,
        &ctx.logger,
    )?)
}

/// Build the pattern matcher from the pattern options and `paths`
/// (borg's `build_matcher`). Returns the matcher and extra roots from
/// `R` lines. Unlike borg, options are applied grouped by kind
/// (`--exclude`, `--exclude-from`, `--pattern`, `--patterns-from`), not in
/// command-line order.
fn build_matcher(
    p: &PatternArgs,
    paths: &[OsString],
    for_extract: bool,
) -> anyhow::Result<(PatternMatcher, Vec<OsString>)> {
    let mut pa = oxiborg_patterns::PatternArgs::new();
    for e in &p.exclude {
        pa.exclude(e.as_bytes()).map_err(usage)?;
    }
    for f in &p.exclude_from {
        let text = std::fs::read(f).map_err(|e| usage(format!("{}: {e}", f.display())))?;
        pa.exclude_from(&text).map_err(usage)?;
    }
    for e in &p.pattern {
        pa.pattern(e.as_bytes()).map_err(usage)?;
    }
    for f in &p.patterns_from {
        let text = std::fs::read(f).map_err(|e| usage(format!("{}: {e}", f.display())))?;
        pa.patterns_from(&text).map_err(usage)?;
    }
    let roots: Vec<OsString> = pa
        .paths
        .iter()
        .map(|r| OsString::from_vec(r.clone()))
        .collect();
    if for_extract {
        let mut m = PatternMatcher::new(None);
        m.add_inclexcl(pa.patterns);
        let include: Vec<Vec<u8>> = paths.iter().map(|p| p.as_bytes().to_vec()).collect();
        m.add_includepaths(&include).map_err(usage)?;
        Ok((m, roots))
    } else {
        let mut m = PatternMatcher::new(Some(true));
        m.add_inclexcl(pa.patterns);
        Ok((m, roots))
    }
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string())
}

fn archive_name(loc: &Location) -> anyhow::Result<String> {
    loc.archive
        .clone()
        .ok_or_else(|| CliError::usage("an archive name is required (REPOSITORY::ARCHIVE)").into())
}

struct CliObserver<'a> {
    ctx: &'a Ctx,
    list: bool,
    filter: Option<String>,
    /// The first warning's modern exit code (0: none yet).
    code: std::sync::atomic::AtomicU8,
}

impl CreateObserver for CliObserver<'_> {
    fn status(&self, status: char, path: &[u8]) {
        if !self.list {
            return;
        }
        if let Some(f) = &self.filter {
            if !f.contains(status) {
                return;
            }
        }
        let path = String::from_utf8_lossy(path);
        if self.ctx.logger.json() {
            let line = serde_json::json!({"type": "file_status", "status": status.to_string(), "path": path});
            self.ctx.logger.raw_json(&line.to_string());
        } else {
            self.ctx.logger.log(
                LogLevel::Info,
                "borg.output.list",
                &format!("{status} {path}"),
                None,
                true,
            );
        }
    }
    fn warning(&self, msg: &str) {
        self.ctx
            .logger
            .log(LogLevel::Warning, "borg.archive", msg, None, false);
    }
    fn warning_code(&self, code: u8) {
        // borg's max_ec: the first warning's code stays.
        let _ = self
            .code
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// `oxiborg create`.
pub fn create(ctx: &Ctx, args: &CreateArgs) -> anyhow::Result<u8> {
    let loc = parse(Some(&args.archive))?;
    let name = crate::placeholders::expand(&archive_name(&loc)?)?;
    let comment = crate::placeholders::expand(&args.comment)?;
    if args.paths.is_empty() && args.patterns.patterns_from.is_empty() {
        return Err(usage("Need at least one PATH argument.").into());
    }
    let compression = oxiborg_format::CompressionSpec::parse(&args.compression).map_err(usage)?;
    let chunker_params: oxiborg_chunker::ChunkerParams =
        args.chunker_params.parse().map_err(usage)?;
    let files_cache_mode = FilesCacheMode::parse(&args.files_cache).map_err(usage)?;
    let timestamp = match &args.timestamp {
        None => None,
        Some(t) => Some(output::parse_timestamp_arg(t).map_err(usage)?),
    };
    let (mut matcher, roots) = build_matcher(&args.patterns, &[], false)?;
    let mut sources = Vec::new();
    let mut paths: Vec<OsString> = args.paths.clone();
    paths.extend(roots);
    for p in &paths {
        if args.content_from_command {
            return Err(crate::not_yet("create --content-from-command").into());
        }
        if p.as_bytes() == b"-" {
            let mode = u32::from_str_radix(&args.stdin_mode, 8)
                .map_err(|_| usage("invalid --stdin-mode"))?;
            let uid = oxiborg_fsmeta::uid_for(args.stdin_user.as_bytes()).unwrap_or(0);
            let gid = oxiborg_fsmeta::gid_for(args.stdin_group.as_bytes()).unwrap_or(0);
            sources.push((
                Source::Stream {
                    name: args.stdin_name.as_bytes().to_vec(),
                    mode,
                    user: (Some(args.stdin_user.as_bytes().to_vec()), uid),
                    group: (Some(args.stdin_group.as_bytes().to_vec()), gid),
                },
                Some(Box::new(std::io::stdin()) as Box<dyn std::io::Read + Send>),
            ));
        } else {
            sources.push((Source::Path(PathBuf::from(p)), None));
        }
    }
    let mut session = open_session(ctx, &loc, true, Operation::Write)?;
    let mut cache = open_cache(ctx, &mut session, !files_cache_mode.disabled)?;
    let cwd = std::env::current_dir()?;
    let mut skip = Vec::new();
    for p in [loc.path.clone(), cache.dir().path().to_path_buf()] {
        if let Ok(st) = std::fs::metadata(&p) {
            use std::os::unix::fs::MetadataExt;
            skip.push((st.dev(), st.ino()));
        }
    }
    let opts = CreateOptions {
        name: name.as_bytes().to_vec(),
        comment: comment.into_bytes(),
        timestamp,
        compressor: Compressor::new(compression),
        chunker_params,
        files_cache_mode,
        meta: MetaOptions {
            numeric_ids: args.numeric_ids,
            atime: args.atime,
            noctime: args.noctime,
            nobirthtime: args.nobirthtime,
            noflags: args.noflags,
            noxattrs: args.noxattrs,
            noacls: args.noacls,
        },
        one_file_system: args.one_file_system,
        exclude_caches: args.exclude_caches,
        exclude_if_present: args
            .exclude_if_present
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
        keep_exclude_tags: args.keep_exclude_tags,
        dry_run: args.dry_run,
        cmdline: std::env::args_os().map(|a| a.into_vec()).collect(),
        hostname: crate::placeholders::hostname().into_bytes(),
        username: crate::placeholders::username().into_bytes(),
        cwd,
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
        skip_inodes: skip,
        checkpoint_interval: (args.checkpoint_interval > 0)
            .then(|| std::time::Duration::from_secs(args.checkpoint_interval)),
    };
    let observer = CliObserver {
        ctx,
        list: args.list,
        filter: args.filter.clone(),
        code: std::sync::atomic::AtomicU8::new(0),
    };
    CHECKPOINT_ON_SIGINT.store(!args.dry_run, Ordering::SeqCst);
    let out = oxiborg_core::create(
        &mut session,
        &mut cache,
        sources,
        &mut matcher,
        &opts,
        &observer,
        &INTERRUPTED,
        &SIGINT,
    );
    CHECKPOINT_ON_SIGINT.store(false, Ordering::SeqCst);
    let out = out?;
    if !args.dry_run {
        cache.commit(
            &session.manifest.id,
            std::env::var("BORG_FILES_CACHE_SUFFIX").ok().as_deref(),
        )?;
    }
    if args.json || args.stats {
        let stats = output::CreateStats::new(&session, &cache, &out);
        if args.json {
            super::print_out(&format!("{}\n", stats.json(&session)))?;
        } else {
            ctx.logger.log(
                LogLevel::Info,
                "borg.output.stats",
                &stats.text(),
                None,
                true,
            );
        }
    }
    cache.close()?;
    session.close()?;
    Ok(warning_rc(
        out.warnings,
        observer.code.load(Ordering::SeqCst),
    ))
}

/// rc of a command that finished with or without warnings: 1, or with
/// `BORG_EXIT_CODES=modern` the first warning's specific code.
fn warning_rc(warnings: bool, code: u8) -> u8 {
    let modern =
        crate::exit::ExitMode::from_env_value(std::env::var("BORG_EXIT_CODES").ok().as_deref())
            == crate::exit::ExitMode::Modern;
    match (warnings, modern && code != 0) {
        (false, _) => 0,
        (true, true) => code,
        (true, false) => 1,
    }
}

struct ExtractObs<'a> {
    ctx: &'a Ctx,
    list: bool,
}

impl ExtractObserver for ExtractObs<'_> {
    fn item(&self, item: &Item) {
        if self.list {
            self.ctx.logger.log(
                LogLevel::Info,
                "borg.output.list",
                &String::from_utf8_lossy(&item.path),
                None,
                true,
            );
        }
    }
    fn warning(&self, msg: &str) {
        self.ctx
            .logger
            .log(LogLevel::Warning, "borg.archive", msg, None, false);
    }
}

/// `oxiborg extract`.
pub fn extract(ctx: &Ctx, args: &ExtractArgs) -> anyhow::Result<u8> {
    let loc = parse(Some(&args.archive))?;
    let name = archive_name(&loc)?;
    let (mut matcher, _) = build_matcher(&args.patterns, &args.paths, true)?;
    let mut session = open_session(ctx, &loc, false, Operation::Read)?;
    let archive = oxiborg_core::load_archive_by_name(
        session.repo.as_mut(),
        &session.key,
        &session.manifest.manifest,
        name.as_bytes(),
    )?;
    let opts = ExtractOptions {
        restore: RestoreOptions {
            numeric_ids: args.numeric_ids,
            noacls: args.noacls,
            noxattrs: args.noxattrs,
            noflags: args.noflags,
        },
        sparse: args.sparse,
        strip_components: args.strip_components,
        dry_run: args.dry_run,
        stdout: args.stdout,
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
        consider_part_files: false,
    };
    let obs = ExtractObs {
        ctx,
        list: args.list,
    };
    let mut stdout = std::io::stdout();
    let sink: Option<&mut (dyn Write + Send)> = if args.stdout { Some(&mut stdout) } else { None };
    let key = session.key.clone();
    let warned = oxiborg_core::extract(
        &mut session.repo,
        &key,
        &archive,
        &mut matcher,
        std::path::Path::new("."),
        &opts,
        &obs,
        sink,
        &INTERRUPTED,
    )?;
    stdout.flush()?;
    let mut rc = u8::from(warned);
    for p in matcher.get_unmatched_include_patterns() {
        let p = p.original();
        ctx.logger.log(
            LogLevel::Warning,
            "borg.archiver",
            &format!("Include pattern '{p}' never matched."),
            None,
            false,
        );
        rc = 1;
    }
    session.close()?;
    Ok(rc)
}

/// The archives selected by the filter options, sorted (borg's
/// `archives.list_considering`).
pub fn select_archives(
    session: &Session,
    f: &ArchiveFilterArgs,
    consider_checkpoints: bool,
) -> anyhow::Result<Vec<ArchiveRow>> {
    if f.prefix.is_some() && f.glob_archives.is_some() {
        return Err(usage("--prefix and --glob-archives are mutually exclusive").into());
    }
    let prefix = match &f.prefix {
        Some(p) => Some(crate::placeholders::expand(p)?),
        None => None,
    };
    let glob = match &f.glob_archives {
        Some(g) => Some(
            oxiborg_patterns::Pattern::new(
                PatternStyle::Shell,
                &crate::placeholders::expand(g)?,
                false,
            )
            .map_err(usage)?,
        ),
        None => None,
    };
    let mut rows: Vec<ArchiveRow> = Vec::new();
    for (name, a) in &session.manifest().archives {
        let name_s = String::from_utf8_lossy(name).into_owned();
        if !consider_checkpoints && is_checkpoint(&name_s) {
            continue;
        }
        if let Some(g) = &glob {
            if !g.matches(name) {
                continue;
            }
        }
        if let Some(p) = &prefix {
            if !name.starts_with(p.as_bytes()) {
                continue;
            }
        }
        rows.push(ArchiveRow {
            name: name_s,
            id: a.id,
            time: UtcTimestamp::parse_iso(&a.time)?,
        });
    }
    for key in f.sort_by.split(',').rev() {
        match key {
            "timestamp" => rows.sort_by_key(|r| r.time),
            "archive" | "name" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
            "id" => rows.sort_by_key(|r| r.id),
            other => return Err(usage(format!("Invalid sort key: {other}")).into()),
        }
    }
    if f.first > 0 {
        rows.truncate(f.first);
    }
    if f.last > 0 {
        let n = rows.len();
        rows.drain(..n.saturating_sub(f.last));
    }
    Ok(rows)
}

fn is_checkpoint(name: &str) -> bool {
    match name.rfind(".checkpoint") {
        Some(i) => {
            let rest = &name[i + ".checkpoint".len()..];
            rest.is_empty()
                || (rest.starts_with('.')
                    && rest[1..].chars().all(|c| c.is_ascii_digit())
                    && rest.len() > 1)
        }
        None => false,
    }
}

/// `oxiborg list`.
pub fn list(ctx: &Ctx, args: &ListArgs) -> anyhow::Result<u8> {
    let loc = parse(args.location.as_deref())?;
    let mut session = open_session(ctx, &loc, false, Operation::Read)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Some(name) = &loc.archive {
        if args.json {
            return Err(usage(
                "The --json option is only valid for listing archives, not archive contents.",
            )
            .into());
        }
        let (mut matcher, _) = build_matcher(&args.patterns, &args.paths, true)?;
        let archive = oxiborg_core::load_archive_by_name(
            session.repo.as_mut(),
            &session.key,
            &session.manifest.manifest,
            name.as_bytes(),
        )?;
        let fmt = if args.short {
            "{path}{NL}".to_string()
        } else {
            args.format.clone().unwrap_or_else(|| {
                "{mode} {user:6} {group:6} {size:8} {mtime} {path}{extra}{NL}".to_string()
            })
        };
        let key = session.key.clone();
        let mut err = None;
        oxiborg_core::for_each_item(
            session.repo.as_mut(),
            &key,
            &archive.meta,
            |_, _, _| Ok(()),
            |item| {
                if item.part.is_some() || !matcher.matches(&item.path) {
                    return Ok(true);
                }
                let r = if args.json_lines {
                    writeln!(out, "{}", output::item_json(&item))
                } else {
                    match output::format_item(&fmt, &item, &archive) {
                        Ok(s) => out.write_all(s.as_bytes()),
                        Err(e) => {
                            err = Some(anyhow::Error::from(usage(e)));
                            return Ok(false);
                        }
                    }
                };
                if let Err(e) = r {
                    err = Some(e.into());
                    return Ok(false);
                }
                Ok(true)
            },
        )?;
        if let Some(e) = err {
            return Err(e);
        }
    } else {
        let rows = select_archives(&session, &args.filter, args.consider_checkpoints)?;
        if args.json {
            let v = output::list_json(&session, &rows);
            writeln!(out, "{v}")?;
        } else {
            let fmt = if args.short {
                "{archive}{NL}".to_string()
            } else {
                args.format
                    .clone()
                    .unwrap_or_else(|| "{archive:<36} {time} [{id}]{NL}".to_string())
            };
            for r in &rows {
                let s = output::format_archive(&fmt, r, &mut session).map_err(usage)?;
                out.write_all(s.as_bytes())?;
            }
        }
    }
    out.flush()?;
    drop(out);
    session.close()?;
    Ok(0)
}

/// `oxiborg info`.
pub fn info(ctx: &Ctx, args: &InfoArgs) -> anyhow::Result<u8> {
    let loc = parse(args.location.as_deref())?;
    let mut session = open_session(ctx, &loc, false, Operation::Read)?;
    let mut cache = open_cache(ctx, &mut session, false)?;
    let rows: Vec<ArchiveRow> = match &loc.archive {
        Some(name) => {
            let a = session
                .manifest()
                .archive(name.as_bytes())
                .ok_or_else(|| oxiborg_core::CoreError::ArchiveDoesNotExist(name.clone()))?;
            vec![ArchiveRow {
                name: name.clone(),
                id: a.id,
                time: UtcTimestamp::parse_iso(&a.time)?,
            }]
        }
        None => {
            let any_filter = args.filter.prefix.is_some()
                || args.filter.glob_archives.is_some()
                || args.filter.first > 0
                || args.filter.last > 0;
            if any_filter {
                select_archives(&session, &args.filter, false)?
            } else {
                Vec::new()
            }
        }
    };
    let mut archives = Vec::new();
    for r in &rows {
        let a: LoadedArchive =
            oxiborg_core::load_archive(session.repo.as_mut(), &session.key, &r.id)?;
        let idx = cache.archive_index(session.repo.as_mut(), &session.key, &r.id)?;
        archives.push((a, idx));
    }
    let text = if args.json {
        output::info_json(&session, &cache, &archives).to_string() + "\n"
    } else {
        output::info_text(&session, &cache, &archives)
    };
    super::print_out(&text)?;
    cache.close()?;
    session.close()?;
    Ok(0)
}

/// `oxiborg delete`.
pub fn delete(ctx: &Ctx, args: &DeleteArgs) -> anyhow::Result<u8> {
    let loc = parse(args.location.as_deref())?;
    let mut names: Vec<String> = Vec::new();
    if let Some(a) = &loc.archive {
        names.push(a.clone());
    }
    names.extend(args.archives.iter().cloned());
    let any_filter = args.filter.prefix.is_some()
        || args.filter.glob_archives.is_some()
        || args.filter.first > 0
        || args.filter.last > 0;
    if args.cache_only {
        let repo = ctx.open(&loc, false)?;
        use oxiborg_repository::Repository;
        let id = repo.id();
        drop(repo);
        oxiborg_core::CacheDir::new(&borg_dirs().cache_dir, &id).destroy()?;
        ctx.logger.log(
            LogLevel::Info,
            "borg.archiver",
            "Cache deleted.",
            None,
            false,
        );
        return Ok(0);
    }
    if names.is_empty() && !any_filter {
        return delete_repository(ctx, &loc, args);
    }
    if args.force > 0 {
        return Err(crate::not_yet("delete --force").into());
    }
    let mut session = open_session(ctx, &loc, true, Operation::Delete)?;
    if any_filter {
        for r in select_archives(&session, &args.filter, false)? {
            names.push(r.name);
        }
    }
    let mut cache = open_cache(ctx, &mut session, false)?;
    let mut rc = 0;
    let total = names.len();
    let mut targets = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match session.manifest().archive(name.as_bytes()) {
            Some(a) => {
                targets.push((name.clone(), a.id));
                if args.list || args.dry_run {
                    let msg = if args.dry_run {
                        format!("Would delete archive: {name} ({}/{total})", i + 1)
                    } else {
                        format!("Deleting archive: {name} ({}/{total})", i + 1)
                    };
                    ctx.logger
                        .log(LogLevel::Info, "borg.output.list", &msg, None, args.list);
                }
            }
            None => {
                ctx.logger.log(
                    LogLevel::Warning,
                    "borg.archiver",
                    &format!("Archive {name} not found ({}/{total}).", i + 1),
                    None,
                    false,
                );
                rc = 1;
            }
        }
    }
    if args.dry_run {
        session.close()?;
        return Ok(rc);
    }
    if !targets.is_empty() {
        let stats = oxiborg_core::delete_archives(&mut session, &mut cache, &targets)?;
        cache.commit(
            &session.manifest.id,
            std::env::var("BORG_FILES_CACHE_SUFFIX").ok().as_deref(),
        )?;
        if args.stats {
            ctx.logger.log(
                LogLevel::Info,
                "borg.output.stats",
                &output::delete_stats_text(&stats, &cache),
                None,
                true,
            );
        }
    }
    cache.close()?;
    session.close()?;
    Ok(rc)
}

fn delete_repository(ctx: &Ctx, loc: &Location, args: &DeleteArgs) -> anyhow::Result<u8> {
    let session = open_session(ctx, loc, true, Operation::Delete)?;
    let n = session.manifest().archives.len();
    let msg = format!(
        "You requested to completely DELETE the repository *including* all archives it contains:\n{} archives",
        n
    );
    if !crate::env::confirm_delete(&msg) {
        return Err(CliError {
            class: class::CANCELLED_BY_USER,
            message: "Cancelled by user.".into(),
        }
        .into());
    }
    if args.dry_run {
        return Ok(0);
    }
    let id = session.repo.id();
    let dirs = borg_dirs();
    let security = session.security.clone();
    session.destroy()?;
    ctx.logger.log(
        LogLevel::Info,
        "borg.archiver",
        "Repository deleted.",
        None,
        false,
    );
    if !args.keep_security_info {
        let _ = std::fs::remove_dir_all(security.path());
    }
    oxiborg_core::CacheDir::new(&dirs.cache_dir, &id).destroy()?;
    ctx.logger.log(
        LogLevel::Info,
        "borg.archiver",
        "Cache deleted.",
        None,
        false,
    );
    Ok(0)
}

/// `oxiborg rename`.
pub fn rename(ctx: &Ctx, args: &RenameArgs) -> anyhow::Result<u8> {
    let loc = parse(Some(&args.archive))?;
    let name = archive_name(&loc)?;
    let newname = crate::placeholders::expand(&args.newname)?;
    let mut session = open_session(ctx, &loc, true, Operation::Check)?;
    let mut cache = open_cache(ctx, &mut session, false)?;
    oxiborg_core::rename_archive(
        &mut session,
        &mut cache,
        name.as_bytes(),
        newname.as_bytes(),
    )?;
    cache.commit(
        &session.manifest.id,
        std::env::var("BORG_FILES_CACHE_SUFFIX").ok().as_deref(),
    )?;
    cache.close()?;
    session.close()?;
    Ok(0)
}
