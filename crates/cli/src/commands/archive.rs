//! The archive commands: create, extract, list, info, delete, rename.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use oxiborg_cli_args::{
    ArchiveFilterArgs, CreateArgs, DeleteArgs, ExtractArgs, InfoArgs, ListArgs, LogLevel,
    PatternArgs, PatternOpt, RenameArgs,
};
use oxiborg_core::{
    Cache, CacheOptions, CreateObserver, CreateOptions, ExtractObserver, ExtractOptions,
    FilesCacheMode, FilesChanged, Input, LoadedArchive, MetaOptions, RestoreOptions,
    SecurityAnswers, Session, Source,
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
        repo,
        &borg_dirs(),
        &mut EnvPassphrase::default(),
        &loc.canonical(),
        op,
        answers,
    )?)
}

pub(crate) fn open_cache(
    ctx: &Ctx,
    session: &mut Session,
    load_files: bool,
) -> anyhow::Result<Cache> {
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

/// borg's progress messages when its cache transaction begins (lazily, at
/// the first chunk reference).
pub(crate) fn cache_transaction_messages(ctx: &Ctx) {
    let m = crate::progress::Message::new(ctx.logger.json(), "cache.begin_transaction");
    for what in ["config", "chunks", "files"] {
        m.output(&format!("Initializing cache transaction: Reading {what}"));
    }
    m.finish();
}

/// Save the cache (borg's `Cache.commit`, with its progress messages).
pub(crate) fn commit_cache(ctx: &Ctx, cache: &mut Cache, session: &Session) -> anyhow::Result<()> {
    let m = ctx
        .progress
        .then(|| crate::progress::Message::new(ctx.logger.json(), "cache.commit"));
    if let Some(m) = &m {
        for what in ["files cache", "chunks cache", "cache config"] {
            m.output(&format!("Saving {what}"));
        }
    }
    cache.commit(
        &session.manifest.id,
        std::env::var("BORG_FILES_CACHE_SUFFIX").ok().as_deref(),
    )?;
    if let Some(m) = &m {
        m.finish();
    }
    Ok(())
}

/// Build the pattern matcher from the pattern options and `paths`
/// (borg's `build_matcher`). Returns the matcher and extra roots from
/// `R` lines. The pattern options apply in command-line order, as borg's.
pub(crate) fn build_matcher(
    p: &PatternArgs,
    paths: &[OsString],
    for_extract: bool,
) -> anyhow::Result<(PatternMatcher, Vec<OsString>)> {
    let mut pa = oxiborg_patterns::PatternArgs::new();
    let read =
        |f: &std::path::Path| std::fs::read(f).map_err(|e| usage(format!("{}: {e}", f.display())));
    // borg appends every pattern option to one list, in command-line order.
    for opt in p.in_order() {
        match opt {
            PatternOpt::Exclude(i) => pa.exclude(p.exclude[i].as_bytes()),
            PatternOpt::ExcludeFrom(i) => pa.exclude_from(&read(&p.exclude_from[i])?),
            PatternOpt::Pattern(i) => pa.pattern(p.pattern[i].as_bytes()),
            PatternOpt::PatternsFrom(i) => pa.patterns_from(&read(&p.patterns_from[i])?),
        }
        .map_err(usage)?;
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

pub(crate) fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string())
}

pub(crate) fn archive_name(loc: &Location) -> anyhow::Result<String> {
    loc.archive
        .clone()
        .ok_or_else(|| CliError::usage("an archive name is required (REPOSITORY::ARCHIVE)").into())
}

pub(crate) struct CliObserver<'a> {
    pub(crate) ctx: &'a Ctx,
    pub(crate) list: bool,
    pub(crate) filter: Option<String>,
    /// The first warning's modern exit code (0: none yet).
    pub(crate) code: std::sync::atomic::AtomicU8,
    /// `--progress`.
    pub(crate) progress: Option<crate::progress::ArchiveProgress>,
    /// Whether the cache-transaction messages were shown.
    pub(crate) transaction_shown: std::sync::atomic::AtomicBool,
}

impl<'a> CliObserver<'a> {
    /// An observer that only prints `--list` status lines.
    pub(crate) fn lister(ctx: &'a Ctx, list: bool, filter: Option<String>) -> Self {
        CliObserver {
            ctx,
            list,
            filter,
            code: std::sync::atomic::AtomicU8::new(0),
            progress: None,
            transaction_shown: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl oxiborg_core::RecreateObserver for CliObserver<'_> {
    fn status(&self, status: char, path: &[u8]) {
        CreateObserver::status(self, status, path);
    }
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
        let raw = path;
        let path = String::from_utf8_lossy(raw);
        if self.ctx.logger.json() {
            let line = serde_json::json!({"type": "file_status", "status": status.to_string(), "path": path});
            self.ctx.logger.raw_json(&line.to_string());
        } else {
            self.ctx.logger.log(
                LogLevel::Info,
                "borg.output.list",
                // borg's `remove_surrogates`: undecodable bytes show as `?`.
                &format!("{status} {}", crate::output::lossy(raw)),
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
    fn progress(
        &self,
        original: u64,
        compressed: u64,
        deduplicated: u64,
        nfiles: u64,
        path: &[u8],
    ) {
        if let Some(p) = &self.progress {
            if original > 0 && !self.transaction_shown.swap(true, Ordering::SeqCst) {
                cache_transaction_messages(self.ctx);
            }
            p.show(original, compressed, deduplicated, nfiles, path);
        }
    }
}

/// `oxiborg create`.
pub fn create(ctx: &Ctx, args: &CreateArgs) -> anyhow::Result<u8> {
    let (show_stats, quick_stats) =
        super::stats_unless_dry_run(ctx, args.dry_run, args.stats, args.quick_stats);
    let loc = parse(Some(&args.archive))?;
    let name = crate::placeholders::expand(&archive_name(&loc)?)?;
    let comment = crate::placeholders::expand(&args.comment)?;
    // borg's checks after parsing (`parse_args`), in its order.
    if args.paths_from_stdin && !args.paths.is_empty() {
        return Err(usage("Must not pass PATH with ``--paths-from-stdin``.").into());
    }
    if args.paths.is_empty() {
        if args.content_from_command || args.paths_from_command {
            return Err(usage("No command given.").into());
        }
        if !args.paths_from_stdin && args.patterns.patterns_from.is_empty() {
            return Err(usage("Need at least one PATH argument.").into());
        }
    }
    let compression = oxiborg_format::CompressionSpec::parse(&args.compression).map_err(usage)?;
    let chunker_params: oxiborg_chunker::ChunkerParams =
        args.chunker_params.parse().map_err(usage)?;
    let files_cache_mode = FilesCacheMode::parse(&args.files_cache).map_err(usage)?;
    let timestamp = match &args.timestamp {
        None => None,
        Some(t) => Some(output::parse_timestamp_arg(t).map_err(usage)?),
    };
    let files_changed = files_changed_mode(&args.files_changed)?;
    let stdin_mode =
        u32::from_str_radix(&args.stdin_mode, 8).map_err(|_| usage("invalid --stdin-mode"))?;
    let (mut matcher, roots) = build_matcher(&args.patterns, &[], false)?;
    let mut paths: Vec<OsString> = args.paths.clone();
    paths.extend(roots);
    let mut session = open_session(ctx, &loc, true, Operation::Write)?;
    let mut cache = open_cache(ctx, &mut session, !files_cache_mode.disabled)?;
    let sources = create_sources(ctx, args, &paths, stdin_mode)?;
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
        files_changed,
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
        exclude_caches: args.tags.exclude_caches,
        exclude_if_present: args
            .tags
            .exclude_if_present
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
        keep_exclude_tags: args.tags.keep_exclude_tags,
        exclude_nodump: args.exclude_nodump,
        read_special: args.read_special,
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
        progress: (ctx.progress && !args.dry_run)
            .then(|| crate::progress::ArchiveProgress::new(ctx.logger.json(), false)),
        transaction_shown: std::sync::atomic::AtomicBool::new(false),
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
    if let Some(p) = &observer.progress {
        // borg's `show_progress(final=True)`, also after Ctrl-C.
        if out.is_ok() || matches!(out, Err(oxiborg_core::CoreError::SigInt)) {
            p.finish();
            if !observer.transaction_shown.swap(true, Ordering::SeqCst) {
                // Nothing was chunked: borg's transaction begins when the
                // archive is saved.
                cache_transaction_messages(ctx);
            }
        }
    }
    let out = out.map_err(|e| match e {
        // borg's `CommandError` (rc 2, modern 4); nothing was saved.
        oxiborg_core::CoreError::Command(m) => anyhow::Error::new(CliError::command(m)),
        e => e.into(),
    })?;
    if !args.dry_run {
        commit_cache(ctx, &mut cache, &session)?;
    }
    if args.json || show_stats || quick_stats {
        let totals = output::archive_totals(&mut session, &mut cache)?;
        let stats = output::CreateStats::new(&session, &cache, &out, totals);
        if args.json {
            super::print_out(&format!("{}\n", stats.json(quick_stats)))?;
        } else {
            ctx.logger.log(
                LogLevel::Info,
                "borg.output.stats",
                &stats.text(quick_stats),
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

/// `--files-changed` with borg's `Highlander` action: given again, it is
/// refused unless the value so far is still the default (`ctime`).
fn files_changed_mode(given: &[String]) -> anyhow::Result<FilesChanged> {
    let mut mode = "ctime";
    for (i, v) in given.iter().enumerate() {
        if i > 0 && mode != "ctime" {
            return Err(usage("argument --files-changed: There can be only one.").into());
        }
        mode = v;
    }
    Ok(FilesChanged::parse(mode)
        .ok_or_else(|| usage(format!("invalid --files-changed: {mode}")))?)
}

/// The inputs of `create` (borg's `create_inner`): a command's output
/// (`--content-from-command`), a list of paths (`--paths-from-stdin`,
/// `--paths-from-command`), or the PATHs, `-` being stdin. Commands are
/// started here, after the repository and cache are open, as borg does.
fn create_sources(
    ctx: &Ctx,
    args: &CreateArgs,
    paths: &[OsString],
    stdin_mode: u32,
) -> anyhow::Result<Vec<(Source, Option<Input>)>> {
    // In a dry run borg neither reads stdin nor runs the content command.
    let dry_stream = || Source::Stream {
        name: args.stdin_name.as_bytes().to_vec(),
        mode: stdin_mode,
        user: (None, 0),
        group: (None, 0),
    };
    if args.content_from_command {
        if args.dry_run {
            return Ok(vec![(dry_stream(), None)]);
        }
        let (out, check) = spawn_command(paths)?;
        let src = stream_source(ctx, args, stdin_mode)?;
        return Ok(vec![(src, Some(Input::with_check(out, check)))]);
    }
    if args.paths_from_stdin || args.paths_from_command {
        let delimiter = match &args.paths_delimiter {
            Some(d) => eval_escapes(d).into_bytes(),
            None => b"\n".to_vec(),
        };
        let input = if args.paths_from_command {
            let (out, check) = spawn_command(paths)?;
            Input::with_check(out, check)
        } else {
            Input::new(Box::new(std::io::stdin()))
        };
        return Ok(vec![(Source::PathList { delimiter }, Some(input))]);
    }
    let mut sources = Vec::new();
    for p in paths {
        if p.as_bytes() != b"-" {
            sources.push((Source::Path(PathBuf::from(p)), None));
        } else if args.dry_run {
            sources.push((dry_stream(), None));
        } else {
            let src = stream_source(ctx, args, stdin_mode)?;
            sources.push((src, Some(Input::new(Box::new(std::io::stdin())))));
        }
    }
    Ok(sources)
}

/// The stored file of stdin / `--content-from-command` (borg's
/// `process_pipe`): an unknown `--stdin-user` / `--stdin-group` is an
/// `Error` after the `i` status line.
fn stream_source(ctx: &Ctx, args: &CreateArgs, mode: u32) -> anyhow::Result<Source> {
    let unknown = |what: &str, name: &str| -> anyhow::Error {
        list_status(ctx, args, 'i', &args.stdin_name);
        CliError {
            class: class::ERROR,
            message: format!("Error: no such {what}: {name}"),
        }
        .into()
    };
    let uid = oxiborg_fsmeta::uid_for(args.stdin_user.as_bytes())
        .ok_or_else(|| unknown("user", &args.stdin_user))?;
    let gid = oxiborg_fsmeta::gid_for(args.stdin_group.as_bytes())
        .ok_or_else(|| unknown("group", &args.stdin_group))?;
    Ok(Source::Stream {
        name: args.stdin_name.as_bytes().to_vec(),
        mode,
        user: (Some(args.stdin_user.as_bytes().to_vec()), uid),
        group: (Some(args.stdin_group.as_bytes().to_vec()), gid),
    })
}

/// A `--list` status line printed outside the engine (as `CliObserver`).
fn list_status(ctx: &Ctx, args: &CreateArgs, status: char, path: &str) {
    if !args.list || args.filter.as_ref().is_some_and(|f| !f.contains(status)) {
        return;
    }
    if ctx.logger.json() {
        let line =
            serde_json::json!({"type": "file_status", "status": status.to_string(), "path": path});
        ctx.logger.raw_json(&line.to_string());
    } else {
        ctx.logger.log(
            LogLevel::Info,
            "borg.output.list",
            &format!("{status} {path}"),
            None,
            true,
        );
    }
}

/// Start `argv` with its stdout piped (borg's `subprocess.Popen(args.paths,
/// stdout=PIPE)`); the returned check waits for it and turns a non-zero
/// status into borg's `CommandError` text. A command that cannot be
/// started (missing, not executable) is a `CommandError` right away.
fn spawn_command(
    argv: &[OsString],
) -> anyhow::Result<(Box<dyn std::io::Read + Send>, oxiborg_core::InputCheck)> {
    let Some((prog, rest)) = argv.split_first() else {
        return Err(usage("No command given.").into());
    };
    // borg's `prepare_subprocess_env`: no passphrase, but borg's version.
    let spawned = std::process::Command::new(prog)
        .args(rest)
        .env_remove("BORG_PASSPHRASE")
        .env("BORG_VERSION", oxiborg_cli_args::BORG_COMPAT_VERSION)
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let text = os_error_text(&e, prog.as_bytes());
            // borg catches FileNotFoundError and PermissionError only.
            let err = if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ) {
                CliError::command(format!("Failed to execute command: {text}"))
            } else {
                CliError {
                    class: class::ERROR,
                    message: text,
                }
            };
            return Err(err.into());
        }
    };
    let Some(out) = child.stdout.take() else {
        return Err(CliError::command("the command has no stdout").into());
    };
    let name = py_repr(prog.as_bytes());
    let check: oxiborg_core::InputCheck = Box::new(move || {
        let status = child.wait().map_err(|e| format!("Command {name}: {e}"))?;
        if status.success() {
            return Ok(());
        }
        // Python's returncode: the exit status, or minus the signal.
        let rc = status.code().unwrap_or_else(|| {
            -std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)
        });
        Err(format!("Command {name} exited with status {rc}"))
    });
    Ok((Box::new(out), check))
}

/// Python's `str(OSError)` for a failed call on `filename`:
/// `[Errno 2] No such file or directory: 'name'`.
pub(crate) fn os_error_text(e: &std::io::Error, filename: &[u8]) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let msg = e.to_string();
            let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
            format!("[Errno {n}] {msg}: {}", py_repr(filename))
        }
        None => e.to_string(),
    }
}

/// Python's `repr` of a `str` (bytes shown lossily).
pub(crate) fn py_repr(s: &[u8]) -> String {
    let s = String::from_utf8_lossy(s);
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// borg's `eval_escapes` (`s.encode('ascii', 'backslashreplace')
/// .decode('unicode-escape')`): Python's string escapes (`\n`, `\t`, `\0`,
/// `\x00`, `\u0000`, octal, ...) become their characters; an unknown
/// escape stays as it is.
fn eval_escapes(s: &str) -> String {
    fn hex(n: usize, it: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
        let digits: String = (0..n)
            .map_while(|_| it.next_if(char::is_ascii_hexdigit))
            .collect();
        if digits.len() != n {
            return None;
        }
        u32::from_str_radix(&digits, 16)
            .ok()
            .and_then(char::from_u32)
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else {
            out.push('\\');
            break;
        };
        let decoded = match e {
            '\n' => None,
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            'x' => hex(2, &mut it),
            'u' => hex(4, &mut it),
            'U' => hex(8, &mut it),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match it.next_if(|d| ('0'..='7').contains(d)) {
                        Some(d) => v = v * 8 + d.to_digit(8).unwrap_or(0),
                        None => break,
                    }
                }
                char::from_u32(v)
            }
            other => {
                out.push('\\');
                Some(other)
            }
        };
        if let Some(d) = decoded {
            out.push(d);
        }
    }
    out
}

/// rc of a command that finished with or without warnings: 1, or with
/// `BORG_EXIT_CODES=modern` the first warning's specific code.
pub(crate) fn warning_rc(warnings: bool, code: u8) -> u8 {
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
    /// `--progress`: borg's `Extracting` indicator, then the directory
    /// permissions one.
    progress: std::sync::Mutex<Option<crate::progress::Percent>>,
}

fn extracting_msg(pct: f64, path: Option<&str>) -> String {
    format!("{pct:5.1}% Extracting: {}", path.unwrap_or(""))
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
    fn progress_calculating(&self) {
        let p = crate::progress::Percent::new(
            self.ctx.logger.json(),
            "extract",
            0.1,
            0,
            extracting_msg,
        );
        p.output(
            "Calculating total archive size for the progress indicator \
             (might take long for large archives)",
        );
        *self.progress.lock().expect("progress") = Some(p);
    }
    fn progress_total(&self, total: u64) {
        if let Some(p) = self.progress.lock().expect("progress").as_mut() {
            p.set_total(total);
        }
    }
    fn progress(&self, bytes: u64, path: &[u8]) {
        if let Some(p) = self.progress.lock().expect("progress").as_mut() {
            p.show(bytes, Some(&String::from_utf8_lossy(path)));
        }
    }
    fn progress_dirs(&self, _dirs: usize) {
        // borg's directory-permissions indicator never shows (its logger
        // handler is gone by then); only the extract one is finished.
        if let Some(p) = self.progress.lock().expect("progress").as_mut() {
            p.finish();
        }
    }
    fn progress_finish(&self) {
        if let Some(p) = self.progress.lock().expect("progress").as_mut() {
            // Finished already when directories followed (not in a dry run
            // or with --stdout).
            let again = !p.is_finished();
            p.finish();
            p.finish_again(again);
        }
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
        progress: ctx.progress,
    };
    let obs = ExtractObs {
        ctx,
        list: args.list,
        progress: std::sync::Mutex::new(None),
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
    let unmatched = unmatched_include_warnings(ctx, &matcher);
    // Warnings of different kinds: borg's generic warning code.
    let rc = if warned { 1 } else { unmatched };
    session.close()?;
    Ok(rc)
}

/// borg's `IncludePatternNeverMatchedWarning` for every include pattern
/// that matched nothing; the rc for them (0 if none; 1, or 101 with
/// `BORG_EXIT_CODES=modern`).
pub(crate) fn unmatched_include_warnings(ctx: &Ctx, matcher: &PatternMatcher) -> u8 {
    let mut any = false;
    for p in matcher.get_unmatched_include_patterns() {
        ctx.logger.log(
            LogLevel::Warning,
            "borg.archiver",
            &format!("Include pattern '{}' never matched.", p.original()),
            Some("IncludePatternNeverMatchedWarning"),
            false,
        );
        any = true;
    }
    warning_rc(any, 101)
}

/// The archives selected by the filter options, sorted (borg's
/// `archives.list_considering`).
pub fn select_archives(
    session: &Session,
    f: &ArchiveFilterArgs,
    consider_checkpoints: bool,
) -> anyhow::Result<Vec<ArchiveRow>> {
    select_archives_in(session.manifest(), f, consider_checkpoints)
}

/// [`select_archives`] on a manifest (e.g. one `check` rebuilt).
pub fn select_archives_in(
    manifest: &oxiborg_format::Manifest,
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
    for (name, a) in &manifest.archives {
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
            writeln!(out, "{}", output::borg_json(&v))?;
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
    let totals = output::archive_totals(&mut session, &mut cache)?;
    let text = if args.json {
        output::borg_json(&output::info_json(&session, &cache, &archives, totals)) + "\n"
    } else {
        output::info_text(&session, &cache, &archives, totals)
    };
    super::print_out(&text)?;
    cache.close()?;
    session.close()?;
    Ok(0)
}

/// `oxiborg delete`.
pub fn delete(ctx: &Ctx, args: &DeleteArgs) -> anyhow::Result<u8> {
    let stats_wanted = super::stats_unless_dry_run(ctx, args.dry_run, args.stats, args.quick_stats);
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
    let mut session = open_session(ctx, &loc, true, Operation::Delete)?;
    if any_filter {
        // borg: archive filters on `delete` consider checkpoints, and
        // nothing matched means nothing to do.
        for r in select_archives(&session, &args.filter, true)? {
            names.push(r.name);
        }
        if names.is_empty() {
            return Ok(0);
        }
    }
    if args.force == 2 {
        return delete_manifest_entries(ctx, args, session, &names);
    }
    let mut cache = open_cache(ctx, &mut session, false)?;
    if args.force > 0 && !args.dry_run {
        return delete_forced(ctx, args.list, session, cache, &names, stats_wanted);
    }
    let mut rc = 0;
    let total = names.len();
    let mut targets = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match session.manifest().archive(name.as_bytes()).map(|a| a.id) {
            Some(id) => {
                targets.push((name.clone(), id));
                if args.list || args.dry_run {
                    let line = archive_line(&mut session, name);
                    let msg = if args.dry_run {
                        format!("Would delete archive: {line} ({}/{total})", i + 1)
                    } else {
                        format!("Deleting archive: {line} ({}/{total})", i + 1)
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
        if ctx.progress {
            cache_transaction_messages(ctx);
        }
        let stats = oxiborg_core::delete_archives(&mut session, &mut cache, &targets)?;
        commit_cache(ctx, &mut cache, &session)?;
        let (show_stats, quick_stats) = stats_wanted;
        if show_stats || quick_stats {
            let totals = output::archive_totals(&mut session, &mut cache)?;
            ctx.logger.log(
                LogLevel::Info,
                "borg.output.stats",
                &output::delete_stats_text(&stats, &cache, totals, quick_stats),
                None,
                true,
            );
        }
    }
    cache.close()?;
    session.close()?;
    Ok(rc)
}

/// borg's `format_archive`: `NAME (36 wide) TIME [ID]`.
fn archive_line(session: &mut Session, name: &str) -> String {
    let Some(a) = session.manifest().archive(name.as_bytes()) else {
        return name.to_string();
    };
    let Ok(time) = UtcTimestamp::parse_iso(&a.time) else {
        return name.to_string();
    };
    let row = ArchiveRow {
        name: name.to_string(),
        id: a.id,
        time,
    };
    output::format_archive("{archive:<36} {time} [{id}]", &row, session)
        .unwrap_or_else(|_| name.to_string())
}

fn warn_archive(ctx: &Ctx, msg: &str) {
    ctx.logger
        .log(LogLevel::Warning, "borg.archive", msg, None, false);
}

/// `delete --force` (borg's `Archive.delete(forced=1)` per archive): each
/// archive is listed, then deleted as far as its metadata can be read; a
/// damaged one leaves objects behind that `check --repair` frees, with
/// borg's two warnings (which do not change the exit code).
fn delete_forced(
    ctx: &Ctx,
    list: bool,
    mut session: Session,
    mut cache: Cache,
    names: &[String],
    (show_stats, quick_stats): (bool, bool),
) -> anyhow::Result<u8> {
    let total = names.len();
    let mut rc = 0;
    let mut stats = oxiborg_core::DeleteStats::default();
    for (i, name) in names.iter().enumerate() {
        let Some(id) = session.manifest().archive(name.as_bytes()).map(|a| a.id) else {
            warn_archive(
                ctx,
                &format!("Archive {name} not found ({}/{total}).", i + 1),
            );
            rc = 1;
            continue;
        };
        if list {
            let msg = format!(
                "Deleting archive: {} ({}/{total})",
                archive_line(&mut session, name),
                i + 1
            );
            ctx.logger
                .log(LogLevel::Info, "borg.output.list", &msg, None, true);
        }
        let damaged = oxiborg_core::delete_archive_forced(
            &mut session,
            &mut cache,
            name.as_bytes(),
            &id,
            &mut stats,
        )?;
        if damaged {
            warn_archive(
                ctx,
                "forced deletion succeeded, but the deleted archive was corrupted.",
            );
            warn_archive(ctx, "borg check --repair is required to free all space.");
        }
    }
    if stats.archives > 0 {
        if ctx.progress {
            cache_transaction_messages(ctx);
        }
        session.write_manifest_and_commit()?;
        commit_cache(ctx, &mut cache, &session)?;
        if show_stats || quick_stats {
            let totals = output::archive_totals(&mut session, &mut cache)?;
            ctx.logger.log(
                LogLevel::Info,
                "borg.output.stats",
                &output::delete_stats_text(&stats, &cache, totals, quick_stats),
                None,
                true,
            );
        }
    }
    cache.close()?;
    session.close()?;
    Ok(rc)
}

/// `delete --force --force`: only the manifest entries go (borg does not
/// even open the cache); every object the archives used stays behind
/// until `check --repair`. borg's closing warnings leave the exit code
/// alone; an archive not found makes it 1.
fn delete_manifest_entries(
    ctx: &Ctx,
    args: &DeleteArgs,
    mut session: Session,
    names: &[String],
) -> anyhow::Result<u8> {
    let total = names.len();
    let mut rc = 0;
    let mut deleted = false;
    for (i, name) in names.iter().enumerate() {
        if session.manifest().archive(name.as_bytes()).is_none() {
            warn_archive(
                ctx,
                &format!("Archive {name} not found ({}/{total}).", i + 1),
            );
            rc = 1;
            continue;
        }
        let line = archive_line(&mut session, name);
        session.manifest_mut().remove_archive(name.as_bytes());
        deleted = true;
        if args.list {
            let msg = if args.dry_run {
                format!("Would delete: {line} ({}/{total})", i + 1)
            } else {
                format!("Deleted archive: {line} ({}/{total})", i + 1)
            };
            ctx.logger
                .log(LogLevel::Info, "borg.output.list", &msg, None, true);
        }
    }
    if args.dry_run {
        ctx.logger.log(
            LogLevel::Info,
            "borg.archiver",
            "Finished dry-run.",
            None,
            false,
        );
    } else if deleted {
        session.write_manifest_and_commit()?;
        warn_archive(
            ctx,
            "Done. Run \"borg check --repair\" to clean up the mess.",
        );
    } else {
        warn_archive(ctx, "Aborted.");
    }
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
    // borg asks only without --force.
    if args.force == 0 && !crate::env::confirm_delete(&msg) {
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
    commit_cache(ctx, &mut cache, &session)?;
    cache.close()?;
    session.close()?;
    Ok(0)
}

#[cfg(test)]
mod create_option_tests {
    use super::*;

    #[test]
    fn eval_escapes_like_python() {
        assert_eq!(eval_escapes("\\n"), "\n");
        assert_eq!(eval_escapes("\\0"), "\0");
        assert_eq!(eval_escapes("\\x00"), "\0");
        assert_eq!(eval_escapes("\\t:"), "\t:");
        assert_eq!(eval_escapes("\\\\"), "\\");
        assert_eq!(eval_escapes("\\101\\u00e9"), "Aé");
        assert_eq!(eval_escapes("::"), "::");
        assert_eq!(eval_escapes("\\q"), "\\q");
        assert_eq!(eval_escapes("é"), "é");
    }

    #[test]
    fn python_repr() {
        assert_eq!(py_repr(b"sh"), "'sh'");
        assert_eq!(py_repr(b"it's"), "\"it's\"");
    }
}
