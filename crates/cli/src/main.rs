//! The `oxiborg` binary: borg 1.4's command line over oxiborg's libraries.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod commands;
mod env;
mod exit;
mod location;
mod log;
mod output;
mod placeholders;
mod progress;

use std::io::Write;
use std::process::ExitCode;

use oxiborg_cli_args::{Command, LogLevel, BORG_COMPAT_VERSION, OXIBORG_VERSION};

use exit::{class, classify, error_code, rc_status, CliError, ExitMode};
use log::Logger;

/// borg's default umask for everything it creates locally.
const DEFAULT_UMASK: u32 = 0o077;

fn install_signal_handlers() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use std::sync::atomic::Ordering;
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        std::thread::spawn(move || {
            for sig in signals.forever() {
                if sig == SIGINT
                    && commands::archive::CHECKPOINT_ON_SIGINT.load(Ordering::SeqCst)
                    && !commands::archive::SIGINT.swap(true, Ordering::SeqCst)
                {
                    continue;
                }
                commands::archive::INTERRUPTED.store(true, Ordering::SeqCst);
            }
        });
    }
}

fn main() -> ExitCode {
    let prog = std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "oxiborg".to_string());
    deprecation_warnings();
    let cli = match oxiborg_cli_args::parse() {
        Ok(cli) => cli,
        // Usage errors print clap's message and exit 2; help exits 0.
        Err(e) => e.exit(),
    };
    if cli.version {
        // argparse's `%(prog)s 1.4.5`: borgmatic reads the second word.
        return print_stdout(&format!("{prog} {BORG_COMPAT_VERSION}\n"));
    }
    let mode = ExitMode::from_env_value(std::env::var("BORG_EXIT_CODES").ok().as_deref());
    let logger = Logger::new(cli.common.level(), cli.common.log_json);
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(
        cli.common.umask.unwrap_or(DEFAULT_UMASK),
    ));
    if cli.common.show_version {
        let msg = format!("borgbackup version {BORG_COMPAT_VERSION} (oxiborg {OXIBORG_VERSION})");
        logger.log(LogLevel::Info, "borg.output.show-version", &msg, None, true);
    }

    // SIGTERM, and SIGINT outside `create`, stop running work cleanly:
    // nothing is committed. The first SIGINT during `create` asks for a
    // checkpoint and a stop instead (borg's SigIntManager).
    install_signal_handlers();
    let ctx = commands::Ctx {
        logger: logger.clone(),
        lock_wait: std::time::Duration::from_secs(cli.common.lock_wait.unwrap_or(1)),
        progress: cli.common.progress,
        remote: commands::RemoteSettings {
            rsh: cli.common.rsh.clone(),
            remote_path: cli.common.remote_path.clone(),
            upload_ratelimit: cli.common.upload_ratelimit.unwrap_or(0),
            upload_buffer: cli.common.upload_buffer.unwrap_or(0),
            level: cli.common.level(),
        },
    };
    let rc = match run(&ctx, cli.command) {
        Ok(rc) => rc,
        Err(err) if is_broken_pipe(&err) => 0,
        Err(err) => {
            let class = classify(&err);
            logger.error("borg.archiver", &format!("{err:#}"), Some(class.msgid));
            error_code(class, mode)
        }
    };
    if cli.common.show_rc {
        let level = match rc_status(rc) {
            "success" => LogLevel::Info,
            "warning" => LogLevel::Warning,
            _ => LogLevel::Error,
        };
        let msg = format!("terminating with {} status, rc {rc}", rc_status(rc));
        logger.log(level, "borg.output.show-rc", &msg, None, true);
    }
    ExitCode::from(rc)
}

/// Run the command; the result is the exit code of a completed command
/// (0, or 1 for a warning, or a child's code for `with-lock`).
fn run(ctx: &commands::Ctx, command: Option<Command>) -> anyhow::Result<u8> {
    match command {
        // Like argparse: a bare `oxiborg` prints help and succeeds.
        None => commands::print_out(&oxiborg_cli_args::help_for(&[])),
        Some(Command::Benchmark(b)) => commands::benchmark::run(ctx, b.command),
        Some(Command::Init(a)) => commands::init::run(ctx, &a),
        Some(Command::Check(a)) => commands::check::run(ctx, &a),
        Some(Command::Compact(a)) => commands::compact::run(ctx, &a),
        Some(Command::BreakLock(a)) => commands::locks::break_lock(ctx, &a),
        Some(Command::WithLock(a)) => commands::locks::with_lock(ctx, &a),
        Some(Command::Create(a)) => commands::archive::create(ctx, &a),
        Some(Command::Extract(a)) => commands::archive::extract(ctx, &a),
        Some(Command::List(a)) => commands::archive::list(ctx, &a),
        Some(Command::Info(a)) => commands::archive::info(ctx, &a),
        Some(Command::Delete(a)) => commands::archive::delete(ctx, &a),
        Some(Command::Rename(a)) => commands::archive::rename(ctx, &a),
        Some(Command::Recreate(a)) => commands::recreate::run(ctx, &a),
        Some(Command::Version(a)) => commands::version(ctx, &a),
        Some(Command::Prune(a)) => commands::prune::run(ctx, &a),
        Some(Command::Diff(a)) => commands::diff::run(ctx, &a),
        Some(Command::ExportTar(a)) => commands::tar::export_tar(ctx, &a),
        Some(Command::ImportTar(a)) => commands::tar::import_tar(ctx, &a),
        Some(Command::Key(a)) => commands::key::run(ctx, a.command),
        Some(Command::Config(a)) => commands::config::run(ctx, &a),
        Some(Command::Serve(a)) => commands::serve::run(ctx, &a),
        Some(Command::NotYetImplemented(p)) => Err(not_yet(p.name()).into()),
    }
}

/// The refusal for a borg command oxiborg cannot run yet: a clear message and
/// exit code 2 in both modes, never a silent no-op.
pub(crate) fn not_yet(what: &str) -> CliError {
    CliError {
        class: class::ERROR,
        message: format!(
            "oxiborg does not implement `{what}` yet; see docs/compat.md for what works today"
        ),
    }
}

/// borg's `preprocess_args`: a deprecated option given as `--old` or
/// `--old=...` anywhere on the command line prints its warning to stderr
/// before parsing.
fn deprecation_warnings() {
    const DEPRECATIONS: [(&str, &str); 7] = [
        ("--noatime", "Warning: \"--noatime\" has been deprecated because it is the default now."),
        ("--nobsdflags", "Warning: \"--nobsdflags\" has been deprecated. Use --noflags instead."),
        ("--numeric-owner", "Warning: \"--numeric-owner\" has been deprecated. Use --numeric-ids instead."),
        ("--remote-ratelimit", "Warning: \"--remote-ratelimit\" has been deprecated. Use --upload-ratelimit instead."),
        ("--remote-buffer", "Warning: \"--remote-buffer\" has been deprecated. Use --upload-buffer instead."),
        ("--prefix", "Warning: \"--prefix\" has been deprecated. Use \"--glob-archives 'yourprefix*'\" (-a) instead."),
        ("--sort", "Warning: \"--sort\" is deprecated. Use \"--sort-by=path\" instead."),
    ];
    for arg in std::env::args_os().skip(1) {
        let arg = arg.to_string_lossy();
        for (old, warning) in DEPRECATIONS {
            if arg == old || arg.strip_prefix(old).is_some_and(|r| r.starts_with('=')) {
                eprintln!("{warning}");
            }
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Write to stdout; a closed pipe exits quietly (for `--version`, which
/// runs before anything else is set up).
fn print_stdout(s: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}
