//! `export-tar` and `import-tar` (borg 1.4.5's `do_export_tar` and
//! `do_import_tar`), with borg's external filter processes.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;

use oxiborg_cli_args::{ExportTarArgs, ImportTarArgs, LogLevel};
use oxiborg_core::{
    CreateOptions, ExportObserver, ExportOptions, FilesCacheMode, FilesChanged, MetaOptions,
};
use oxiborg_format::{Compressor, Operation};

use super::archive::{
    archive_name, build_matcher, cache_transaction_messages, commit_cache, open_cache,
    open_session, usage, warning_rc, CliObserver, CHECKPOINT_ON_SIGINT, INTERRUPTED, SIGINT,
};
use super::Ctx;
use crate::exit::{class, CliError};
use crate::location::parse;

/// borg's `get_tar_filter`: the filter for a file name's extension
/// (`None` for `-` and unknown extensions).
pub fn tar_filter_for(name: &[u8], decompress: bool) -> Option<&'static str> {
    let ends = |exts: &[&str]| exts.iter().any(|e| name.ends_with(e.as_bytes()));
    let (c, d) = if ends(&[".tar.gz", ".tgz"]) {
        ("gzip", "gzip -d")
    } else if ends(&[".tar.bz2", ".tbz"]) {
        ("bzip2", "bzip2 -d")
    } else if ends(&[".tar.xz", ".txz"]) {
        ("xz", "xz -d")
    } else if ends(&[".tar.lz4"]) {
        ("lz4", "lz4 -d")
    } else if ends(&[".tar.zstd", ".tar.zst"]) {
        ("zstd", "zstd -d")
    } else {
        return None;
    };
    Some(if decompress { d } else { c })
}

/// The filter command to use: `--tar-filter` (`auto`: by extension); an
/// empty command is no filter, as in borg.
pub(crate) fn choose_filter(given: &str, file: &[u8], decompress: bool) -> Option<String> {
    let f = if given == "auto" {
        tar_filter_for(file, decompress).map(str::to_string)
    } else {
        Some(given.to_string())
    };
    f.filter(|f| !f.is_empty())
}

/// A running filter process (borg's `create_filter_process`).
pub(crate) struct Filter {
    cmd: String,
    child: Child,
}

impl Filter {
    /// Start `cmd` (split like Python's `shlex.split`) with the given
    /// stdin and stdout. A command that cannot be started is logged as
    /// borg does and is an `Error`.
    pub(crate) fn spawn(
        ctx: &Ctx,
        cmd: &str,
        stdin: Stdio,
        stdout: Stdio,
    ) -> anyhow::Result<Filter> {
        let failed = || -> anyhow::Error {
            CliError {
                class: class::ERROR,
                message: format!("Error: filter {cmd}: process creation failed"),
            }
            .into()
        };
        let log = |msg: String| {
            ctx.logger
                .log(LogLevel::Error, "borg.helpers.process", &msg, None, false);
        };
        let Some(argv) = shlex::split(cmd) else {
            log("filter-process: No closing quotation".to_string());
            return Err(failed());
        };
        let Some((prog, rest)) = argv.split_first() else {
            log("filter-process: an empty command line is not permitted".to_string());
            return Err(failed());
        };
        let spawned = Command::new(prog)
            .args(rest)
            .env_remove("BORG_PASSPHRASE")
            .env("BORG_VERSION", oxiborg_cli_args::BORG_COMPAT_VERSION)
            .stdin(stdin)
            .stdout(stdout)
            .spawn();
        match spawned {
            Ok(child) => Ok(Filter {
                cmd: cmd.to_string(),
                child,
            }),
            Err(e) => {
                match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        log(format!("filter-process: executable not found: {prog}"))
                    }
                    std::io::ErrorKind::PermissionDenied => {
                        log(format!("filter-process: permission denied: {prog}"))
                    }
                    _ => return Err(e.into()),
                }
                Err(failed())
            }
        }
    }

    /// The filter's stdin (export).
    pub(crate) fn take_stdin(&mut self) -> Option<std::process::ChildStdin> {
        self.child.stdin.take()
    }

    /// The filter's stdout (import).
    pub(crate) fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// After borg failed: kill the filter and reap it.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// After borg succeeded: wait; a non-zero status is borg's `Error`
    /// `filter CMD failed, rc=N`.
    pub(crate) fn wait(mut self) -> anyhow::Result<()> {
        let status = self.child.wait()?;
        if status.success() {
            return Ok(());
        }
        let rc = status.code().unwrap_or_else(|| {
            -std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)
        });
        Err(CliError {
            class: class::ERROR,
            message: format!("Error: filter {} failed, rc={rc}", self.cmd),
        }
        .into())
    }
}

/// Open `name` for writing (`-`: stdout), like borg's `dash_open`.
fn open_output(name: &OsString) -> anyhow::Result<Option<File>> {
    if name.as_bytes() == b"-" {
        return Ok(None);
    }
    File::create(name).map(Some).map_err(|e| {
        anyhow::Error::from(CliError {
            class: class::ERROR,
            message: format!(
                "[Errno {}] {}: '{}'",
                e.raw_os_error().unwrap_or(0),
                e.to_string().split(" (os error").next().unwrap_or_default(),
                name.to_string_lossy()
            ),
        })
    })
}

struct ExportObs<'a> {
    ctx: &'a Ctx,
    list: bool,
    progress: std::sync::Mutex<Option<crate::progress::Percent>>,
}

fn processing_msg(pct: f64, path: Option<&str>) -> String {
    format!("{pct:5.1}% Processing: {}", path.unwrap_or(""))
}

impl ExportObserver for ExportObs<'_> {
    fn item(&self, path: &[u8]) {
        if self.list {
            self.ctx.logger.log(
                LogLevel::Info,
                "borg.output.list",
                &crate::output::lossy(path),
                None,
                true,
            );
        }
    }
    fn warning(&self, msg: &str) {
        self.ctx
            .logger
            .log(LogLevel::Warning, "borg.archiver", msg, None, false);
    }
    fn progress_calculating(&self) {
        let p = crate::progress::Percent::new(
            self.ctx.logger.json(),
            "extract",
            0.1,
            0,
            processing_msg,
        );
        p.output("Calculating size");
        *self.progress.lock().expect("progress") = Some(p);
    }
    fn progress_total(&self, total: u64) {
        if let Some(p) = self.progress.lock().expect("progress").as_mut() {
            p.set_total(total);
        }
    }
    fn progress(&self, bytes: u64, path: &[u8]) {
        if let Some(p) = self.progress.lock().expect("progress").as_mut() {
            p.show(bytes, Some(&crate::output::lossy(path)));
        }
    }
    fn progress_finish(&self) {
        if let Some(p) = self.progress.lock().expect("progress").as_mut() {
            p.finish();
        }
    }
}

/// `oxiborg export-tar`.
pub fn export_tar(ctx: &Ctx, args: &ExportTarArgs) -> anyhow::Result<u8> {
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
    let filter_cmd = choose_filter(&args.tar_filter, args.tarfile.as_bytes(), false);
    let file = open_output(&args.tarfile)?;
    let mut filter = match &filter_cmd {
        Some(cmd) => {
            let stdout = match &file {
                Some(f) => Stdio::from(f.try_clone()?),
                None => Stdio::inherit(),
            };
            Some(Filter::spawn(ctx, cmd, Stdio::piped(), stdout)?)
        }
        None => None,
    };
    let sink: Box<dyn Write + Send> = match (&mut filter, file) {
        (Some(f), _) => Box::new(
            f.take_stdin()
                .ok_or_else(|| usage("the filter has no stdin"))?,
        ),
        (None, Some(file)) => Box::new(file),
        (None, None) => Box::new(std::io::stdout()),
    };
    let mut out = BufWriter::with_capacity(64 * 1024, sink);
    let opts = ExportOptions {
        strip_components: args.strip_components,
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
        progress: ctx.progress,
    };
    let obs = ExportObs {
        ctx,
        list: args.list,
        progress: std::sync::Mutex::new(None),
    };
    let key = session.key.clone();
    let result = oxiborg_core::export_tar(
        &mut session.repo,
        &key,
        &archive,
        &mut matcher,
        &mut out,
        &opts,
        &obs,
        &INTERRUPTED,
    )
    .map_err(anyhow::Error::from)
    .and_then(|w| {
        out.flush()?;
        Ok(w)
    });
    // A filter that stopped reading is an error (borg: BrokenPipeError),
    // not the quiet end of a closed stdout.
    let result = match (&filter_cmd, result) {
        (Some(cmd), Err(e)) if crate::is_broken_pipe(&e) => Err(CliError {
            class: class::ERROR,
            message: format!("filter {cmd}: [Errno 32] Broken pipe"),
        }
        .into()),
        (_, r) => r,
    };
    // Close the pipe so the filter sees the end.
    drop(out);
    let warned = match (result, filter) {
        (Ok(w), Some(f)) => {
            f.wait()?;
            w
        }
        (Ok(w), None) => w,
        (Err(e), f) => {
            if let Some(f) = f {
                f.kill();
            }
            return Err(e);
        }
    };
    let mut warnings = warned;
    for p in matcher.get_unmatched_include_patterns() {
        let p = p.original();
        ctx.logger.log(
            LogLevel::Warning,
            "borg.archiver",
            &format!("Include pattern '{p}' never matched."),
            None,
            false,
        );
        warnings = true;
    }
    session.close()?;
    Ok(warning_rc(warnings, 0))
}

/// borg's `Highlander` action: an option given again is refused unless
/// its value so far is still the default.
fn highlander<'a>(name: &str, given: &'a [String], default: &'a str) -> anyhow::Result<&'a str> {
    let mut value = default;
    for (i, v) in given.iter().enumerate() {
        if i > 0 && value != default {
            return Err(usage(format!("argument {name}: There can be only one.")).into());
        }
        value = v;
    }
    Ok(value)
}

/// Open `name` for reading (`-`: stdin), like borg's `dash_open`.
fn open_input(name: &OsString) -> anyhow::Result<Option<File>> {
    if name.as_bytes() == b"-" {
        return Ok(None);
    }
    File::open(name).map(Some).map_err(|e| {
        CliError {
            class: class::ERROR,
            message: format!(
                "[Errno {}] {}: '{}'",
                e.raw_os_error().unwrap_or(0),
                e.to_string().split(" (os error").next().unwrap_or_default(),
                name.to_string_lossy()
            ),
        }
        .into()
    })
}

/// `oxiborg import-tar`.
pub fn import_tar(ctx: &Ctx, args: &ImportTarArgs) -> anyhow::Result<u8> {
    let loc = parse(Some(&args.archive))?;
    let name = crate::placeholders::expand(&archive_name(&loc)?)?;
    // borg's import-tar --comment is a plain string (no placeholders).
    let comment = args.comment.clone();
    let tar_filter = highlander("--tar-filter", &args.tar_filter, "auto")?;
    let list_filter = highlander("--filter", &args.filter, "")?;
    let chunker = highlander(
        "--chunker-params",
        &args.chunker_params,
        "buzhash,19,23,21,4095",
    )?;
    let compression = oxiborg_format::CompressionSpec::parse(&args.compression).map_err(usage)?;
    let chunker_params: oxiborg_chunker::ChunkerParams = chunker.parse().map_err(usage)?;
    let timestamp = match &args.timestamp {
        None => None,
        Some(t) => Some(crate::output::parse_timestamp_arg(t).map_err(usage)?),
    };
    let mut session = open_session(ctx, &loc, true, Operation::Write)?;
    let mut cache = open_cache(ctx, &mut session, true)?;
    let filter_cmd = choose_filter(tar_filter, args.tarfile.as_bytes(), true);
    let file = open_input(&args.tarfile)?;
    let (filter, input): (Option<Filter>, Box<dyn Read + Send>) = match (&filter_cmd, file) {
        (Some(cmd), file) => {
            let stdin = match file {
                Some(f) => Stdio::from(f),
                None => Stdio::inherit(),
            };
            let mut f = Filter::spawn(ctx, cmd, stdin, Stdio::piped())?;
            let out = f
                .take_stdout()
                .ok_or_else(|| usage("the filter has no stdout"))?;
            (Some(f), Box::new(out))
        }
        (None, Some(file)) => (
            None,
            Box::new(std::io::BufReader::with_capacity(1 << 20, file)),
        ),
        (None, None) => (
            None,
            Box::new(std::io::BufReader::with_capacity(1 << 20, std::io::stdin())),
        ),
    };
    let mut entries = oxiborg_core::TarEntries::new(input, args.ignore_zeros);
    let opts = CreateOptions {
        name: name.as_bytes().to_vec(),
        comment: comment.into_bytes(),
        timestamp,
        compressor: Compressor::new(compression),
        chunker_params,
        files_cache_mode: FilesCacheMode::parse("disabled").map_err(usage)?,
        files_changed: FilesChanged::Disabled,
        meta: MetaOptions::default(),
        one_file_system: false,
        exclude_caches: false,
        exclude_if_present: Vec::new(),
        keep_exclude_tags: false,
        exclude_nodump: false,
        read_special: false,
        dry_run: false,
        cmdline: std::env::args_os().map(|a| a.into_vec()).collect(),
        hostname: crate::placeholders::hostname().into_bytes(),
        username: crate::placeholders::username().into_bytes(),
        cwd: std::env::current_dir()?,
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
        skip_inodes: Vec::new(),
        checkpoint_interval: (args.checkpoint_interval > 0)
            .then(|| std::time::Duration::from_secs(args.checkpoint_interval)),
    };
    let observer = CliObserver {
        ctx,
        list: args.list,
        filter: (!list_filter.is_empty()).then(|| list_filter.to_string()),
        code: std::sync::atomic::AtomicU8::new(0),
        progress: ctx
            .progress
            .then(|| crate::progress::ArchiveProgress::new(ctx.logger.json(), false)),
        transaction_shown: std::sync::atomic::AtomicBool::new(false),
    };
    CHECKPOINT_ON_SIGINT.store(true, Ordering::SeqCst);
    let out = oxiborg_core::create_entries(
        &mut session,
        &mut cache,
        &mut entries,
        &opts,
        &observer,
        &INTERRUPTED,
        &SIGINT,
    );
    CHECKPOINT_ON_SIGINT.store(false, Ordering::SeqCst);
    drop(entries);
    if let Some(p) = &observer.progress {
        if out.is_ok() {
            p.finish();
            if !observer.transaction_shown.swap(true, Ordering::SeqCst) {
                cache_transaction_messages(ctx);
            }
        }
    }
    let out = match (out, filter) {
        (Ok(o), Some(f)) => {
            // The archive is saved; borg checks the filter afterwards.
            commit_cache(ctx, &mut cache, &session)?;
            f.wait()?;
            o
        }
        (Ok(o), None) => {
            commit_cache(ctx, &mut cache, &session)?;
            o
        }
        (Err(e), f) => {
            if let Some(f) = f {
                f.kill();
            }
            return Err(match e {
                // Python's tarfile.ReadError, which borg does not catch.
                oxiborg_core::CoreError::Tar(t) => CliError {
                    class: class::ERROR,
                    message: format!("tarfile.ReadError: {t}"),
                }
                .into(),
                e => e.into(),
            });
        }
    };
    if args.json || args.stats {
        let totals = crate::output::archive_totals(&mut session, &mut cache)?;
        let stats = crate::output::CreateStats::new(&session, &cache, &out, totals);
        if args.json {
            super::print_out(&format!("{}\n", stats.json(false)))?;
        } else {
            ctx.logger.log(
                LogLevel::Info,
                "borg.output.stats",
                &stats.text(false),
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
