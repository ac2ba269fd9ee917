//! `prune` options (borg 1.4.5's parser for `borg prune`).

use clap::Args;

/// `prune` options.
#[derive(Debug, Args, Clone)]
pub struct PruneArgs {
    /// Do not change repository.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Force pruning of corrupted archives, use `--force --force` in case `--force` does not work.
    #[arg(long, action = clap::ArgAction::Count)]
    pub force: u8,
    /// Print statistics for the deleted archive.
    #[arg(short = 's', long)]
    pub stats: bool,
    /// Print only deletion statistics, skipping repository-wide statistics.
    #[arg(long)]
    pub quick_stats: bool,
    /// Output verbose list of archives it keeps/prunes.
    #[arg(long)]
    pub list: bool,
    /// Keep all archives within this time interval (e.g. 7d, 2w, 1m, 1y, 12H).
    #[arg(long, value_name = "INTERVAL")]
    pub keep_within: Option<String>,
    /// Number of secondly archives to keep.
    #[arg(
        long = "keep-last",
        visible_alias = "keep-secondly",
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub keep_secondly: Option<i64>,
    /// Number of minutely archives to keep.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub keep_minutely: Option<i64>,
    /// Number of hourly archives to keep.
    #[arg(short = 'H', long, value_name = "N", allow_negative_numbers = true)]
    pub keep_hourly: Option<i64>,
    /// Number of daily archives to keep.
    #[arg(short = 'd', long, value_name = "N", allow_negative_numbers = true)]
    pub keep_daily: Option<i64>,
    /// Number of weekly archives to keep.
    #[arg(short = 'w', long, value_name = "N", allow_negative_numbers = true)]
    pub keep_weekly: Option<i64>,
    /// Number of monthly archives to keep.
    #[arg(short = 'm', long, value_name = "N", allow_negative_numbers = true)]
    pub keep_monthly: Option<i64>,
    /// Number of quarterly archives to keep (13 week strategy).
    #[arg(
        long = "keep-13weekly",
        value_name = "N",
        allow_negative_numbers = true,
        conflicts_with = "keep_3monthly"
    )]
    pub keep_13weekly: Option<i64>,
    /// Number of quarterly archives to keep (3 month strategy).
    #[arg(
        long = "keep-3monthly",
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub keep_3monthly: Option<i64>,
    /// Number of yearly archives to keep.
    #[arg(short = 'y', long, value_name = "N", allow_negative_numbers = true)]
    pub keep_yearly: Option<i64>,
    /// Only consider archive names starting with this prefix (deprecated).
    #[arg(
        short = 'P',
        long = "prefix",
        value_name = "PREFIX",
        conflicts_with = "glob_archives"
    )]
    pub prefix: Option<String>,
    /// Only consider archive names matching the glob.
    #[arg(short = 'a', long = "glob-archives", value_name = "GLOB")]
    pub glob_archives: Option<String>,
    /// Work slower, but using less space.
    #[arg(long)]
    pub save_space: bool,
    /// Write checkpoint every SECONDS seconds (Default: 1800).
    #[arg(
        short = 'c',
        long,
        value_name = "SECONDS",
        default_value_t = 1800,
        allow_negative_numbers = true
    )]
    pub checkpoint_interval: i64,
    /// Repository to prune.
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
}
