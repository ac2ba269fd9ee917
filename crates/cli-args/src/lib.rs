//! oxiborg's command line, shaped like borg 1.4's.
//!
//! This crate holds only the definitions, so `cargo xtask` can generate shell
//! completions and reference docs without building the engine.
//!
//! Every borg 1.4 command name is known. Commands oxiborg does not implement
//! yet parse as [`Command::NotYetImplemented`], and the binary refuses them
//! with a clear message and exit code 2; nothing is silently ignored.

use std::ffi::OsString;

use clap::{Args, CommandFactory, Parser, Subcommand};

/// The borg release whose command line and formats oxiborg follows. It is
/// what `--version` reports, because wrappers such as borgmatic read the
/// second word of `borg --version` to choose the borg 1.x syntax.
pub const BORG_COMPAT_VERSION: &str = "1.4.5";

/// oxiborg's own version.
pub const OXIBORG_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "oxiborg",
    about = "A fast BorgBackup 1.x compatible backup client",
    long_about = "oxiborg reads and writes BorgBackup 1.x repositories and accepts borg 1.4's command line.",
    disable_version_flag = true,
    infer_long_args = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Options valid at every level (borg's common options).
    #[command(flatten)]
    pub common: CommonOptions,

    /// Print the borg version oxiborg is compatible with (`<prog> 1.4.5`) and exit.
    #[arg(short = 'V', long = "version", action = clap::ArgAction::SetTrue)]
    pub version: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Log level selection, as borg's mutually exclusive level flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    /// `--debug`
    Debug,
    /// `--info`, `-v`, `--verbose`
    Info,
    /// `--warning` (the default)
    #[default]
    Warning,
    /// `--error`
    Error,
    /// `--critical`
    Critical,
}

/// borg's common options that oxiborg implements. Options borg has but
/// oxiborg does not support yet are not defined, so clap refuses them with
/// exit code 2 rather than accepting and ignoring them.
#[derive(Debug, Args, Default, Clone)]
pub struct CommonOptions {
    /// Work on log level CRITICAL.
    #[arg(long, global = true, group = "loglevel")]
    pub critical: bool,
    /// Work on log level ERROR.
    #[arg(long, global = true, group = "loglevel")]
    pub error: bool,
    /// Work on log level WARNING (the default).
    #[arg(long, global = true, group = "loglevel")]
    pub warning: bool,
    /// Work on log level INFO.
    #[arg(
        short = 'v',
        long,
        visible_alias = "verbose",
        global = true,
        group = "loglevel"
    )]
    pub info: bool,
    /// Enable debug output; work on log level DEBUG.
    #[arg(long, global = true, group = "loglevel")]
    pub debug: bool,
    /// Output one JSON object per log line instead of formatted text.
    #[arg(long, global = true)]
    pub log_json: bool,
    /// Show/log the borg version.
    #[arg(long, global = true)]
    pub show_version: bool,
    /// Show/log the return code (rc).
    #[arg(long, global = true)]
    pub show_rc: bool,
    /// Set umask to M (local only, default: 0077).
    #[arg(long, global = true, value_name = "M", value_parser = parse_umask)]
    pub umask: Option<u32>,
    /// Wait at most SECONDS for acquiring a repository/cache lock (default: 1).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub lock_wait: Option<u64>,
}

impl CommonOptions {
    /// The selected log level.
    pub fn level(&self) -> LogLevel {
        if self.debug {
            LogLevel::Debug
        } else if self.info {
            LogLevel::Info
        } else if self.error {
            LogLevel::Error
        } else if self.critical {
            LogLevel::Critical
        } else {
            LogLevel::Warning
        }
    }
}

fn parse_umask(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("invalid umask {s:?}: expected an octal number such as 0077"))
}

/// Trailing arguments of a command that is not implemented yet.
#[derive(Debug, Args, Clone)]
pub struct Rest {
    /// Arguments (not interpreted).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<OsString>,
}

/// borg's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Benchmark command.
    Benchmark(BenchmarkArgs),

    /// Initialize an empty repository.
    Init(InitArgs),
    /// Check repository consistency (the repository part; archive checks are not implemented yet).
    Check(CheckArgs),
    /// Compact segment files in the repository.
    Compact(CompactArgs),
    /// Break the repository lock (e.g. in case it was left by a dead borg).
    BreakLock(RepoArg),
    /// Run a user command with the repository lock held.
    WithLock(WithLockArgs),

    /// A borg 1.4 command that oxiborg does not implement yet.
    #[command(flatten)]
    NotYetImplemented(Pending),
}

/// An optional REPOSITORY positional (default: `BORG_REPO`).
#[derive(Debug, Args, Clone)]
pub struct RepoArg {
    /// Repository to use (default: $BORG_REPO).
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
}

/// `init`
#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// Select encryption key mode **(required)**.
    #[arg(short = 'e', long, value_name = "MODE", required = true, value_parser = [
        "none", "keyfile", "repokey", "authenticated", "keyfile-blake2", "repokey-blake2", "authenticated-blake2",
    ])]
    pub encryption: String,
    /// Create an append-only mode repository.
    #[arg(long)]
    pub append_only: bool,
    /// Set storage quota of the new repository (e.g. 5G, 1.5T). Default: no quota.
    #[arg(long, value_name = "QUOTA", value_parser = parse_quota)]
    pub storage_quota: Option<u64>,
    /// Create the parent directories of the repository directory, if they are missing.
    #[arg(long)]
    pub make_parent_dirs: bool,
    /// Repository to create (default: $BORG_REPO).
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
}

/// `check`
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// Only perform repository checks.
    #[arg(long)]
    pub repository_only: bool,
    /// Attempt to repair any inconsistencies found.
    #[arg(long)]
    pub repair: bool,
    /// Work slower, but using less space (accepted and ignored, as by borg).
    #[arg(long)]
    pub save_space: bool,
    /// Do only a partial repository check for at most SECONDS, resuming where the last one stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub max_duration: u64,
    /// Repository to check (default: $BORG_REPO).
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
}

/// `compact`
#[derive(Debug, Args, Clone)]
pub struct CompactArgs {
    /// Do not change the repository (accepted since borg 1.2.9; does nothing at all).
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Clean up commit-only 17-byte segment files left by borg 1.1.
    #[arg(long)]
    pub cleanup_commits: bool,
    /// Set minimum threshold for saved space in PERCENT (default: 10).
    #[arg(long, value_name = "PERCENT", default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub threshold: u8,
    /// Repository to compact (default: $BORG_REPO).
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
}

/// `with-lock REPOSITORY COMMAND [ARGS...]`
#[derive(Debug, Args, Clone)]
pub struct WithLockArgs {
    /// Repository to lock.
    #[arg(value_name = "REPOSITORY")]
    pub repository: String,
    /// Command to run.
    #[arg(value_name = "COMMAND")]
    pub command: OsString,
    /// Command arguments.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<OsString>,
}

/// borg's `parse_storage_quota`: a size (decimal K/M/G/T/P suffixes), 0 or at least 10M.
fn parse_quota(s: &str) -> Result<u64, String> {
    let v = parse_size(s).ok_or_else(|| format!("invalid size {s:?}"))?;
    if v != 0 && v < 10_000_000 {
        return Err("quota is too small (must be 0 or >= 10M)".into());
    }
    Ok(v)
}

/// borg's `parse_file_size`: decimal number with optional K, M, G, T or P suffix (powers of 1000).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'K' => (&s[..s.len() - 1], 1e3),
        'M' => (&s[..s.len() - 1], 1e6),
        'G' => (&s[..s.len() - 1], 1e9),
        'T' => (&s[..s.len() - 1], 1e12),
        'P' => (&s[..s.len() - 1], 1e15),
        _ => (s, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    let total = v * mult;
    (total.is_finite() && total >= 0.0 && total < u64::MAX as f64).then_some(total as u64)
}

/// `benchmark [SUBCOMMAND]`; without a subcommand borg prints the group's help (rc 0).
#[derive(Debug, Args)]
pub struct BenchmarkArgs {
    /// What to benchmark.
    #[command(subcommand)]
    pub command: Option<BenchmarkCommand>,
}

/// `benchmark` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchmarkCommand {
    /// Benchmarks CPU bound operations (chunkers, hashes, MACs, encryption, compression, msgpack).
    Cpu,
    /// Benchmarks create, extract, update and delete (not implemented yet).
    Crud(Rest),
}

/// borg 1.4 commands oxiborg knows by name but cannot run yet.
#[derive(Debug, Subcommand)]
pub enum Pending {
    /// Get and set repository config options (not implemented yet).
    Config(Rest),
    /// Create a backup (not implemented yet).
    Create(Rest),
    /// Debugging command (not implemented yet).
    Debug(Rest),
    /// Delete archives or a repository (not implemented yet).
    Delete(Rest),
    /// Find differences in archive contents (not implemented yet).
    Diff(Rest),
    /// Create a tarball from an archive (not implemented yet).
    ExportTar(Rest),
    /// Extract archive contents (not implemented yet).
    Extract(Rest),
    /// Create a backup archive from a tarball (not implemented yet).
    ImportTar(Rest),
    /// Show archive details such as disk space used (not implemented yet).
    Info(Rest),
    /// Manage a keyfile or repokey of a repository (not implemented yet).
    Key(Rest),
    /// List archive or repository contents (not implemented yet).
    List(Rest),
    /// Mount an archive or repository as a FUSE filesystem (not implemented yet).
    Mount(Rest),
    /// Prune repository archives according to rules (not implemented yet).
    Prune(Rest),
    /// Re-create archives (not implemented yet).
    Recreate(Rest),
    /// Rename an archive (not implemented yet).
    Rename(Rest),
    /// Start the repository server process (not implemented yet).
    Serve(Rest),
    /// Unmount a FUSE filesystem (not implemented yet).
    Umount(Rest),
    /// Upgrade a repository from a previous version (not implemented yet).
    Upgrade(Rest),
    /// Display the client and server version (not implemented yet).
    Version(Rest),
}

impl Pending {
    /// The borg command name, e.g. `export-tar`.
    pub fn name(&self) -> &'static str {
        match self {
            Pending::Config(_) => "config",
            Pending::Create(_) => "create",
            Pending::Debug(_) => "debug",
            Pending::Delete(_) => "delete",
            Pending::Diff(_) => "diff",
            Pending::ExportTar(_) => "export-tar",
            Pending::Extract(_) => "extract",
            Pending::ImportTar(_) => "import-tar",
            Pending::Info(_) => "info",
            Pending::Key(_) => "key",
            Pending::List(_) => "list",
            Pending::Mount(_) => "mount",
            Pending::Prune(_) => "prune",
            Pending::Recreate(_) => "recreate",
            Pending::Rename(_) => "rename",
            Pending::Serve(_) => "serve",
            Pending::Umount(_) => "umount",
            Pending::Upgrade(_) => "upgrade",
            Pending::Version(_) => "version",
        }
    }
}

/// The help text of the command at `path` (e.g. `[]` for the top level,
/// `["benchmark"]`), as printed for a bare group.
pub fn help_for(path: &[&str]) -> String {
    let mut cur = command();
    // Building propagates bin names, so a subcommand's usage reads
    // `oxiborg benchmark ...`.
    cur.build();
    for name in path {
        match cur.find_subcommand(name).cloned() {
            Some(sub) => cur = sub,
            None => break,
        }
    }
    cur.render_help().to_string()
}

/// The clap command, for completions and docs.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_consistent() {
        command().debug_assert();
    }

    #[test]
    fn long_options_may_be_abbreviated_like_argparse() {
        let cli = Cli::try_parse_from(["oxiborg", "--show-v", "benchmark", "cpu"]).unwrap();
        assert!(cli.common.show_version);
    }

    #[test]
    fn common_options_work_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["oxiborg", "benchmark", "cpu", "--log-json", "--info"]).unwrap();
        assert!(cli.common.log_json);
        assert_eq!(cli.common.level(), LogLevel::Info);
    }

    #[test]
    fn pending_commands_keep_their_arguments() {
        let cli = Cli::try_parse_from(["oxiborg", "create", "--stats", "::a", "/x"]).unwrap();
        match cli.command {
            Some(Command::NotYetImplemented(Pending::Create(r))) => assert_eq!(r.args.len(), 3),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_options_are_refused() {
        let e = Cli::try_parse_from(["oxiborg", "--bogus", "benchmark", "cpu"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn umask_is_octal() {
        let cli = Cli::try_parse_from(["oxiborg", "--umask", "0027", "benchmark", "cpu"]).unwrap();
        assert_eq!(cli.common.umask, Some(0o027));
        assert!(Cli::try_parse_from(["oxiborg", "--umask", "9", "benchmark", "cpu"]).is_err());
    }
}
