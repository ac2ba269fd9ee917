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

use oxiborg_repository::{LocalRepository, OpenOptions, Reporter};

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

    /// Open the local repository at `loc`.
    pub fn open(&self, loc: &Location, exclusive: bool) -> anyhow::Result<LocalRepository> {
        Ok(LocalRepository::open(
            &loc.path,
            &self.open_options(exclusive),
            self.reporter(),
        )?)
    }
}

/// `version [REPO]`: `<client> / <server>`. A local repository is served by
/// this very program, so both are the borg version oxiborg follows; the
/// location must still parse, as borg's does.
pub fn version(args: &oxiborg_cli_args::RepoArg) -> anyhow::Result<u8> {
    crate::location::parse_repository(args.repository.as_deref())?;
    let v = oxiborg_cli_args::BORG_COMPAT_VERSION;
    print_out(&format!("{v} / {v}\n"))
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
