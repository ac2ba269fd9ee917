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

mod recreate;
pub use recreate::RecreateArgs;
pub mod diff;
pub mod prune;
pub use diff::DiffArgs;
pub use prune::PruneArgs;
pub mod check;
pub use check::CheckArgs;
pub mod tar;
pub use tar::{ExportTarArgs, ImportTarArgs};
pub mod serve;
pub use serve::ServeArgs;
pub mod key;
pub use key::{
    ConfigArgs, KeyArgs, KeyCommand, KeyExportArgs, KeyImportArgs, KeyPathArgs, KeyRepoArgs,
};

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
    /// Show progress information.
    #[arg(short = 'p', long, global = true)]
    pub progress: bool,
    /// Wait at most SECONDS for acquiring a repository/cache lock (default: 1).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub lock_wait: Option<u64>,
    /// Use PATH as borg executable on the remote (default: "borg").
    #[arg(long, global = true, value_name = "PATH")]
    pub remote_path: Option<String>,
    /// Use this command to connect to the 'borg serve' process (default: 'ssh').
    #[arg(long, global = true, value_name = "RSH")]
    pub rsh: Option<String>,
    /// Set network upload rate limit in kiByte/s (default: 0=unlimited).
    #[arg(long, global = true, value_name = "RATE", alias = "remote-ratelimit")]
    pub upload_ratelimit: Option<u64>,
    /// Set network upload buffer size in MiB. (default: 0=no buffer)
    #[arg(
        long,
        global = true,
        value_name = "UPLOAD_BUFFER",
        alias = "remote-buffer"
    )]
    pub upload_buffer: Option<u64>,
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

/// The exclusion-tag options of `create` and `recreate`.
#[derive(Debug, Args, Clone, Default)]
pub struct TagArgs {
    /// Exclude directories that contain a CACHEDIR.TAG file.
    #[arg(long)]
    pub exclude_caches: bool,
    /// Exclude directories that are tagged by containing a filesystem object with the given NAME.
    #[arg(long, value_name = "NAME")]
    pub exclude_if_present: Vec<String>,
    /// If tag objects are specified with --exclude-if-present, don't omit the tag objects themselves.
    #[arg(long, alias = "keep-tag-files")]
    pub keep_exclude_tags: bool,
}

/// borg's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Benchmark command.
    Benchmark(BenchmarkArgs),

    /// Initialize an empty repository.
    Init(InitArgs),
    /// Verify repository.
    Check(CheckArgs),
    /// Compact segment files in the repository.
    Compact(CompactArgs),
    /// Break the repository lock (e.g. in case it was left by a dead borg).
    BreakLock(RepoArg),
    /// Run a user command with the repository lock held.
    WithLock(WithLockArgs),
    /// Create new archive.
    Create(Box<CreateArgs>),
    /// Extract archive contents.
    Extract(ExtractArgs),
    /// List archive or repository contents.
    List(ListArgs),
    /// Show archive details such as disk space used.
    Info(InfoArgs),
    /// Delete an existing repository or archives.
    Delete(DeleteArgs),
    /// Rename an existing archive.
    Rename(RenameArgs),
    /// Re-create archives.
    Recreate(Box<RecreateArgs>),
    /// Display the borg client / borg server version.
    Version(RepoArg),
    /// Prune repository archives according to rules.
    Prune(PruneArgs),
    /// Find differences in archive contents.
    Diff(DiffArgs),
    /// Create tarball from archive.
    ExportTar(ExportTarArgs),
    /// Create a backup archive from a tarball.
    ImportTar(ImportTarArgs),
    /// Manage a keyfile or repokey of a repository.
    Key(KeyArgs),
    /// Get, set, and delete values in a repository or cache config file.
    Config(ConfigArgs),
    /// Start repository server process.
    Serve(ServeArgs),

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
/// Include/exclude options shared by create, extract, list and others.
#[derive(Debug, Args, Clone, Default)]
pub struct PatternArgs {
    /// Exclude paths matching PATTERN.
    #[arg(short = 'e', long = "exclude", value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Read exclude patterns from EXCLUDEFILE, one per line.
    #[arg(long = "exclude-from", value_name = "EXCLUDEFILE")]
    pub exclude_from: Vec<std::path::PathBuf>,
    /// Include/exclude paths matching PATTERN.
    #[arg(long = "pattern", value_name = "PATTERN")]
    pub pattern: Vec<String>,
    /// Read include/exclude patterns from PATTERNFILE, one per line.
    #[arg(long = "patterns-from", value_name = "PATTERNFILE")]
    pub patterns_from: Vec<std::path::PathBuf>,
    /// The four options above in command-line order (filled by [`parse`]):
    /// borg appends them all to one list, so their order matters.
    #[arg(skip)]
    pub order: Vec<PatternOpt>,
}

/// One pattern option occurrence: an index into its [`PatternArgs`] list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternOpt {
    /// `--exclude`.
    Exclude(usize),
    /// `--exclude-from`.
    ExcludeFrom(usize),
    /// `--pattern`.
    Pattern(usize),
    /// `--patterns-from`.
    PatternsFrom(usize),
}

impl PatternArgs {
    /// The pattern options in command-line order (grouped by kind when the
    /// order is unknown, e.g. for arguments built in code).
    pub fn in_order(&self) -> Vec<PatternOpt> {
        if !self.order.is_empty() {
            return self.order.clone();
        }
        let mut v: Vec<PatternOpt> = (0..self.exclude.len()).map(PatternOpt::Exclude).collect();
        v.extend((0..self.exclude_from.len()).map(PatternOpt::ExcludeFrom));
        v.extend((0..self.pattern.len()).map(PatternOpt::Pattern));
        v.extend((0..self.patterns_from.len()).map(PatternOpt::PatternsFrom));
        v
    }

    fn record_order(&mut self, m: &clap::ArgMatches) {
        let mut seen: Vec<(usize, PatternOpt)> = Vec::new();
        type Make = fn(usize) -> PatternOpt;
        let kinds: [(&str, Make); 4] = [
            ("exclude", PatternOpt::Exclude),
            ("exclude_from", PatternOpt::ExcludeFrom),
            ("pattern", PatternOpt::Pattern),
            ("patterns_from", PatternOpt::PatternsFrom),
        ];
        for (id, make) in kinds {
            if let Some(idx) = m.indices_of(id) {
                seen.extend(idx.enumerate().map(|(n, pos)| (pos, make(n))));
            }
        }
        seen.sort_by_key(|(pos, _)| *pos);
        self.order = seen.into_iter().map(|(_, o)| o).collect();
    }
}

/// Parse the process arguments like [`Cli::try_parse`], also recording the
/// command-line order of the pattern options.
///
/// # Errors
/// clap's usage errors (and its help/version "errors").
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = Cli::command().try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (Some((_, sub)), Some(p)) = (
        matches.subcommand(),
        cli.command.as_mut().and_then(Command::pattern_args_mut),
    ) {
        p.record_order(sub);
    }
    Ok(cli)
}

impl Command {
    /// The pattern options of a command that has them.
    pub fn pattern_args_mut(&mut self) -> Option<&mut PatternArgs> {
        match self {
            Command::Create(a) => Some(&mut a.patterns),
            Command::Extract(a) => Some(&mut a.patterns),
            Command::List(a) => Some(&mut a.patterns),
            Command::Recreate(a) => Some(&mut a.patterns),
            _ => None,
        }
    }
}

/// Archive filters shared by list, info, delete and others.
#[derive(Debug, Args, Clone, Default)]
pub struct ArchiveFilterArgs {
    /// Only consider archive names starting with this prefix (deprecated).
    #[arg(short = 'P', long = "prefix", value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Only consider archive names matching the glob.
    #[arg(short = 'a', long = "glob-archives", value_name = "GLOB")]
    pub glob_archives: Option<String>,
    /// Comma-separated list of sorting keys; valid keys are: timestamp, archive, name, id.
    #[arg(long = "sort-by", value_name = "KEYS", default_value = "timestamp")]
    pub sort_by: String,
    /// Consider first N archives after other filters were applied.
    #[arg(long = "first", value_name = "N", default_value_t = 0)]
    pub first: usize,
    /// Consider last N archives after other filters were applied.
    #[arg(long = "last", value_name = "N", default_value_t = 0)]
    pub last: usize,
}

/// `create` options.
#[derive(Debug, Args, Clone)]
pub struct CreateArgs {
    /// Do not create a backup archive.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print statistics for the created archive.
    #[arg(short = 's', long)]
    pub stats: bool,
    /// Print only archive statistics, skipping repository-wide statistics.
    #[arg(long, conflicts_with = "stats")]
    pub quick_stats: bool,
    /// Output verbose list of items (files, dirs, ...).
    #[arg(long)]
    pub list: bool,
    /// Only display items with the given status characters.
    #[arg(long, value_name = "STATUSCHARS")]
    pub filter: Option<String>,
    /// Output stats as JSON. Implies --stats.
    #[arg(long)]
    pub json: bool,
    /// Use NAME in archive for stdin data (default: stdin).
    #[arg(long, value_name = "NAME", default_value = "stdin")]
    pub stdin_name: String,
    /// Set user USER in archive for stdin data (default: root).
    #[arg(long, value_name = "USER", default_value = "root")]
    pub stdin_user: String,
    /// Set group GROUP in archive for stdin data (default: root).
    #[arg(long, value_name = "GROUP", default_value = "root")]
    pub stdin_group: String,
    /// Set mode to M in archive for stdin data (default: 0660).
    #[arg(long, value_name = "M", default_value = "0660")]
    pub stdin_mode: String,
    /// Interpret PATH as a command and store its stdout.
    #[arg(long)]
    pub content_from_command: bool,
    /// Read DELIM-separated list of paths to back up from stdin.
    #[arg(long)]
    pub paths_from_stdin: bool,
    /// Interpret PATH as a command and treat its output as --paths-from-stdin.
    #[arg(long)]
    pub paths_from_command: bool,
    /// Set path delimiter for --paths-from-stdin and --paths-from-command (default: \n).
    #[arg(long, value_name = "DELIM")]
    pub paths_delimiter: Option<String>,
    #[command(flatten)]
    pub patterns: PatternArgs,
    #[command(flatten)]
    pub tags: TagArgs,
    /// Exclude files flagged NODUMP.
    #[arg(long)]
    pub exclude_nodump: bool,
    /// Open and read block and char device files as well as FIFOs as if they were regular files.
    /// Also follows symlinks pointing to these kinds of files.
    #[arg(long)]
    pub read_special: bool,
    /// Stay in the same file system and do not store mount points of other file systems.
    #[arg(short = 'x', long)]
    pub one_file_system: bool,
    /// Only store numeric user and group identifiers.
    #[arg(long, alias = "numeric-owner")]
    pub numeric_ids: bool,
    /// Do store atime into archive.
    #[arg(long)]
    pub atime: bool,
    /// Do not store atime into archive (the default; deprecated).
    #[arg(long)]
    pub noatime: bool,
    /// Do not store ctime into archive.
    #[arg(long)]
    pub noctime: bool,
    /// Do not store birthtime (creation date) into archive.
    #[arg(long)]
    pub nobirthtime: bool,
    /// Do not read and store flags (e.g. NODUMP, IMMUTABLE) into archive.
    #[arg(long, alias = "nobsdflags")]
    pub noflags: bool,
    /// Do not read and store ACLs into archive.
    #[arg(long)]
    pub noacls: bool,
    /// Do not read and store xattrs into archive.
    #[arg(long)]
    pub noxattrs: bool,
    /// Operate files cache in MODE (default: ctime,size,inode).
    #[arg(long, value_name = "MODE", default_value = "ctime,size,inode")]
    pub files_cache: String,
    /// Detect files changed during backup by MODE (ctime, mtime, disabled; default: ctime).
    #[arg(long, value_name = "MODE", action = clap::ArgAction::Append,
          value_parser = ["ctime", "mtime", "disabled"])]
    pub files_changed: Vec<String>,
    /// Add a comment text to the archive.
    #[arg(long, value_name = "COMMENT", default_value = "")]
    pub comment: String,
    /// Manually specify the archive creation date/time (UTC, yyyy-mm-ddThh:mm:ss format).
    #[arg(long, value_name = "TIMESTAMP")]
    pub timestamp: Option<String>,
    /// Write checkpoint every SECONDS seconds (default: 1800).
    #[arg(short = 'c', long, value_name = "SECONDS", default_value_t = 1800)]
    pub checkpoint_interval: u64,
    /// Specify the chunker parameters (ALGO, CHUNK_MIN_EXP, CHUNK_MAX_EXP, HASH_MASK_BITS, HASH_WINDOW_SIZE).
    #[arg(long, value_name = "PARAMS", default_value = "buzhash,19,23,21,4095")]
    pub chunker_params: String,
    /// Select compression algorithm.
    #[arg(short = 'C', long, value_name = "COMPRESSION", default_value = "lz4")]
    pub compression: String,
    /// Name of archive to create (must be also a valid directory name).
    #[arg(value_name = "ARCHIVE")]
    pub archive: String,
    /// Paths to archive.
    #[arg(value_name = "PATH")]
    pub paths: Vec<OsString>,
}

/// `extract` options.
#[derive(Debug, Args, Clone)]
pub struct ExtractArgs {
    /// Output verbose list of items (files, dirs, ...).
    #[arg(long)]
    pub list: bool,
    /// Do not actually change any files.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Only obey numeric user and group identifiers.
    #[arg(long, alias = "numeric-owner")]
    pub numeric_ids: bool,
    /// Do not extract/set flags (e.g. NODUMP, IMMUTABLE).
    #[arg(long, alias = "nobsdflags")]
    pub noflags: bool,
    /// Do not extract/set ACLs.
    #[arg(long)]
    pub noacls: bool,
    /// Do not extract/set xattrs.
    #[arg(long)]
    pub noxattrs: bool,
    /// Write all extracted data to stdout.
    #[arg(long)]
    pub stdout: bool,
    /// Create holes in output sparse file from all-zero chunks.
    #[arg(long)]
    pub sparse: bool,
    #[command(flatten)]
    pub patterns: PatternArgs,
    /// Remove the specified number of leading path elements.
    #[arg(long, value_name = "NUMBER", default_value_t = 0)]
    pub strip_components: usize,
    /// Archive to extract.
    #[arg(value_name = "ARCHIVE")]
    pub archive: String,
    /// Paths to extract; patterns are supported.
    #[arg(value_name = "PATH")]
    pub paths: Vec<OsString>,
}

/// `list` options.
#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// Show checkpoint archives in the repository contents list.
    #[arg(long)]
    pub consider_checkpoints: bool,
    /// Only print file/directory names, nothing else.
    #[arg(long)]
    pub short: bool,
    /// Specify format for file or archive listing.
    #[arg(long, alias = "list-format", value_name = "FORMAT")]
    pub format: Option<String>,
    /// Only valid for listing repository contents. Format output as JSON.
    #[arg(long)]
    pub json: bool,
    /// Only valid for listing archive contents. Format output as JSON Lines.
    #[arg(long)]
    pub json_lines: bool,
    #[command(flatten)]
    pub filter: ArchiveFilterArgs,
    #[command(flatten)]
    pub patterns: PatternArgs,
    /// Repository or archive to list contents of.
    #[arg(value_name = "REPOSITORY_OR_ARCHIVE")]
    pub location: Option<String>,
    /// Paths to list; patterns are supported.
    #[arg(value_name = "PATH")]
    pub paths: Vec<OsString>,
}

/// `info` options.
#[derive(Debug, Args, Clone)]
pub struct InfoArgs {
    /// Format output as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub filter: ArchiveFilterArgs,
    /// Repository or archive to display information about.
    #[arg(value_name = "REPOSITORY_OR_ARCHIVE")]
    pub location: Option<String>,
}

/// `delete` options.
#[derive(Debug, Args, Clone)]
pub struct DeleteArgs {
    /// Do not change repository.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Output verbose list of archives.
    #[arg(long)]
    pub list: bool,
    /// Print statistics for the deleted archive.
    #[arg(short = 's', long)]
    pub stats: bool,
    /// Print only deletion statistics, skipping repository-wide statistics.
    #[arg(long, conflicts_with = "stats")]
    pub quick_stats: bool,
    /// Delete only the local cache for the given repository.
    #[arg(long)]
    pub cache_only: bool,
    /// Force deletion of corrupted archives; use twice if it still does not work.
    #[arg(long, action = clap::ArgAction::Count)]
    pub force: u8,
    /// Keep the local security info when deleting a repository.
    #[arg(long)]
    pub keep_security_info: bool,
    /// Work slower, but using less space.
    #[arg(long)]
    pub save_space: bool,
    #[command(flatten)]
    pub filter: ArchiveFilterArgs,
    /// Repository or archive to delete.
    #[arg(value_name = "REPOSITORY_OR_ARCHIVE")]
    pub location: Option<String>,
    /// Archives to delete.
    #[arg(value_name = "ARCHIVE")]
    pub archives: Vec<String>,
}

/// `rename` options.
#[derive(Debug, Args, Clone)]
pub struct RenameArgs {
    /// Archive to rename.
    #[arg(value_name = "ARCHIVE")]
    pub archive: String,
    /// The new archive name to use.
    #[arg(value_name = "NEWNAME")]
    pub newname: String,
}

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
    /// Benchmarks borg CRUD (create, extract, update, delete).
    #[command(
        long_about = "Benchmark Create, Read, Update, Delete for archives.",
        after_long_help = CRUD_EPILOG
    )]
    Crud(CrudArgs),
}

/// `benchmark crud REPOSITORY PATH` (borg's argparse: both positionals required).
#[derive(Debug, Args, Clone)]
pub struct CrudArgs {
    /// Repository to use for benchmark (must exist).
    #[arg(value_name = "REPOSITORY")]
    pub repository: String,
    /// Path where to create benchmark input data.
    #[arg(value_name = "PATH")]
    pub path: std::path::PathBuf,
}

/// borg 1.4.5's `benchmark crud` epilog.
const CRUD_EPILOG: &str = "\
This command benchmarks borg CRUD (create, read, update, delete) operations.

It creates input data below the given PATH and backs up this data into the given REPO.
The REPO must already exist (it could be a fresh empty repo or an existing repo, the
command will create / read / update / delete some archives named borg-benchmark-crud* there.

Make sure you have free space there, you'll need about 1GB each (+ overhead).

If your repository is encrypted and borg needs a passphrase to unlock the key, use:

    BORG_PASSPHRASE=mysecret borg benchmark crud REPO PATH

Measurements are done with different input file sizes and counts.
The file contents are very artificial (either all zero or all random),
thus the measurement results do not necessarily reflect performance with real data.
Also, due to the kind of content used, no compression is used in these benchmarks.

C- == borg create (1st archive creation, no compression, do not use files cache)
      C-Z- == all-zero files. full deduplication; this primarily measures reader/chunker/hasher.
      C-R- == random files. no deduplication, measuring throughput through all processing stages.

R- == borg extract (extract archive, dry-run, do everything, but do not write files to disk)
      R-Z- == all-zero files. Measuring heavily duplicated files.
      R-R- == random files. No duplication here, measuring throughput through all processing
      stages, except writing to disk.

U- == borg create (2nd archive creation of unchanged input files, measure files cache speed)
      The throughput value is kind of virtual here, it does not actually read the file.
      U-Z- == needs to check the two all-zero chunks' existence in the repo.
      U-R- == needs to check existence of a lot of different chunks in the repo.

D- == borg delete archive (delete last remaining archive, measure deletion + compaction)
      D-Z- == few chunks to delete / few segments to compact/remove.
      D-R- == many chunks to delete / many segments to compact/remove.

Please note that there might be quite some variance in these measurements.
Try multiple measurements and have an otherwise idle machine (and network, if you use it).";

/// borg 1.4 commands oxiborg knows by name but cannot run yet.
#[derive(Debug, Subcommand)]
pub enum Pending {
    /// Create a backup (not implemented yet).
    /// Debugging command (not implemented yet).
    Debug(Rest),
    /// Delete archives or a repository (not implemented yet).
    /// Extract archive contents (not implemented yet).
    /// Show archive details such as disk space used (not implemented yet).
    /// List archive or repository contents (not implemented yet).
    /// Mount an archive or repository as a FUSE filesystem (not implemented yet).
    Mount(Rest),
    /// Rename an archive (not implemented yet).
    /// Unmount a FUSE filesystem (not implemented yet).
    Umount(Rest),
    /// Upgrade a repository from a previous version (not implemented yet).
    Upgrade(Rest),
}

impl Pending {
    /// The borg command name, e.g. `export-tar`.
    pub fn name(&self) -> &'static str {
        match self {
            Pending::Debug(_) => "debug",
            Pending::Mount(_) => "mount",
            Pending::Umount(_) => "umount",
            Pending::Upgrade(_) => "upgrade",
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
        let cli = Cli::try_parse_from(["oxiborg", "mount", "--foo", "::a", "b"]).unwrap();
        match cli.command {
            Some(Command::NotYetImplemented(Pending::Mount(r))) => assert_eq!(r.args.len(), 3),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn benchmark_crud_takes_repository_and_path() {
        let cli = Cli::try_parse_from(["oxiborg", "benchmark", "crud", "/r", "/d"]).unwrap();
        match cli.command {
            Some(Command::Benchmark(BenchmarkArgs {
                command: Some(BenchmarkCommand::Crud(a)),
            })) => {
                assert_eq!(a.repository, "/r");
                assert_eq!(a.path, std::path::PathBuf::from("/d"));
            }
            other => panic!("unexpected {other:?}"),
        }
        for short in [
            &["oxiborg", "benchmark", "crud", "/r"][..],
            &["oxiborg", "benchmark", "crud"],
        ] {
            assert_eq!(Cli::try_parse_from(short).unwrap_err().exit_code(), 2);
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
