//! One module per borg command.

pub mod archive;
pub mod benchmark;
pub mod check;
pub mod compact;
pub mod config;
pub mod diff;
pub mod init;
pub mod key;
pub mod locks;
pub mod prune;
pub mod recreate;
pub mod serve;
pub mod tar;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use oxiborg_core::SharedRepository;
use oxiborg_repository::{LocalRepository, OpenOptions, Reporter};

use crate::exit::CliError;
use crate::location::Location;

/// Write `s` to stdout. A closed pipe surfaces as `BrokenPipe`, which
/// `main` turns into a quiet exit.
pub fn print_out(s: &str) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(0)
}

/// What every repository command needs from the command line.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The logger, also the libraries' reporter.
    pub logger: crate::log::Logger,
    /// `--lock-wait` (borg's default is 1 second).
    pub lock_wait: Duration,
    /// `--progress`.
    pub progress: bool,
    /// How remote repositories are reached.
    pub remote: RemoteSettings,
}

/// The options that say how `borg serve` is started and fed.
#[derive(Debug, Clone, Default)]
pub struct RemoteSettings {
    /// `--rsh`.
    pub rsh: Option<String>,
    /// `--remote-path`.
    pub remote_path: Option<String>,
    /// `--upload-ratelimit` in KiB/s.
    pub upload_ratelimit: u64,
    /// `--upload-buffer` in MiB.
    pub upload_buffer: u64,
    /// The local log level, passed on to the server.
    pub level: oxiborg_cli_args::LogLevel,
}

impl Ctx {
    /// The reporter handed to libraries.
    pub fn reporter(&self) -> Arc<dyn Reporter> {
        Arc::new(self.logger.clone())
    }

    /// Open options with borg's defaults for a command that takes the
    /// repository lock exclusively (or shared).
    pub fn open_options(&self, exclusive: bool) -> OpenOptions {
        let mut o = OpenOptions::exclusive(crate::env::process_id());
        o.exclusive = Some(exclusive);
        o.lock_wait = Some(self.lock_wait);
        o
    }

    /// Open the repository at `loc`, local or remote.
    pub fn open(&self, loc: &Location, exclusive: bool) -> anyhow::Result<SharedRepository> {
        self.open_with(loc, &self.open_options(exclusive))
    }

    /// Open (or with `opts.create`, create) the repository at `loc`.
    pub fn open_with(
        &self,
        loc: &Location,
        opts: &OpenOptions,
    ) -> anyhow::Result<SharedRepository> {
        Ok(match &loc.remote {
            None if opts.create => {
                Box::new(LocalRepository::create(&loc.path, opts, self.reporter())?)
            }
            None => Box::new(LocalRepository::open(&loc.path, opts, self.reporter())?),
            Some(r) => Box::new(oxiborg_remote::RemoteRepository::connect(
                r,
                &self.client_options(opts.storage_quota)?,
                opts,
            )?),
        })
    }

    /// Open a repository that must be local (commands that work on the
    /// repository directory itself, as borg's `config`).
    pub fn open_local(
        &self,
        loc: &Location,
        exclusive: bool,
        what: &str,
    ) -> anyhow::Result<LocalRepository> {
        if let Some(r) = &loc.remote {
            // borg's argparse type `location_validator(proto='file')`.
            return Err(CliError::usage(format!(
                "borg {what}: error: argument REPOSITORY: \"{}\": Repository must be local",
                r.processed
            ))
            .into());
        }
        Ok(LocalRepository::open(
            &loc.path,
            &self.open_options(exclusive),
            self.reporter(),
        )?)
    }

    /// How to start `borg serve` (borg's `ssh_cmd` and `borg_cmd`).
    pub fn client_options(
        &self,
        storage_quota: Option<u64>,
    ) -> anyhow::Result<oxiborg_remote::ClientOptions> {
        use oxiborg_cli_args::LogLevel;
        let rsh_text = self
            .remote
            .rsh
            .clone()
            .or_else(|| std::env::var("BORG_RSH").ok())
            .unwrap_or_else(|| "ssh".into());
        let rsh = shlex::split(&rsh_text)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| CliError::usage(format!("invalid --rsh / BORG_RSH: {rsh_text:?}")))?;
        let remote_path = self
            .remote
            .remote_path
            .clone()
            .or_else(|| std::env::var("BORG_REMOTE_PATH").ok())
            .unwrap_or_else(|| "borg".into());
        let remote_path = crate::placeholders::expand(&remote_path)?;
        let mut serve_options = Vec::new();
        match self.remote.level {
            LogLevel::Debug => serve_options.push("--debug".to_string()),
            LogLevel::Info => serve_options.push("--info".to_string()),
            LogLevel::Warning => {}
            LogLevel::Error => serve_options.push("--error".to_string()),
            LogLevel::Critical => serve_options.push("--critical".to_string()),
        }
        if let Some(q) = storage_quota.filter(|q| *q > 0) {
            serve_options.push(format!("--storage-quota={q}"));
        }
        Ok(oxiborg_remote::ClientOptions {
            rsh,
            remote_path,
            serve_options,
            upload_ratelimit: self.remote.upload_ratelimit.saturating_mul(1024),
            upload_buffer: usize::try_from(self.remote.upload_buffer.saturating_mul(1024 * 1024))
                .unwrap_or(usize::MAX),
            env_remove: Vec::new(),
            output: std::sync::Arc::new(crate::log::RemoteLog {
                logger: self.logger.clone(),
                progress: self.progress,
            }),
        })
    }
}

/// `version [REPO]`: `<client> / <server>`. A local repository is served by
/// this very program, so both are the borg version oxiborg follows; for a
/// remote one the server's negotiated version is shown (the repository is
/// opened without a lock, as borg does).
pub fn version(ctx: &Ctx, args: &oxiborg_cli_args::RepoArg) -> anyhow::Result<u8> {
    let loc = crate::location::parse_repository(args.repository.as_deref())?;
    let v = oxiborg_cli_args::BORG_COMPAT_VERSION;
    let server = match &loc.remote {
        None => v.to_string(),
        Some(r) => {
            let mut o = ctx.open_options(false);
            o.lock = false;
            let repo =
                oxiborg_remote::RemoteRepository::connect(r, &ctx.client_options(None)?, &o)?;
            let server = oxiborg_remote::codec::format_version(repo.server_version());
            oxiborg_repository::Repository::close_boxed(Box::new(repo))?;
            server
        }
    };
    print_out(&format!("{v} / {server}\n"))
}

/// borg's `parse_args`: `--stats` and `--quick-stats` cannot be computed on
/// a dry run, so they are dropped with a warning. Returns the effective
/// `(stats, quick_stats)`.
pub fn stats_unless_dry_run(ctx: &Ctx, dry_run: bool, stats: bool, quick: bool) -> (bool, bool) {
    if !dry_run {
        return (stats, quick);
    }
    for (given, name) in [(stats, "--stats"), (quick, "--quick-stats")] {
        if given {
            ctx.logger.log(
                oxiborg_cli_args::LogLevel::Warning,
                "borg.archiver",
                &format!("Ignoring {name}. It is not supported when using --dry-run."),
                None,
                false,
            );
        }
    }
    (false, false)
}
