//! `check` options (borg 1.4.5's `borg check`).

use clap::Args;

use crate::ArchiveFilterArgs;

/// `check`
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// Only perform repository checks.
    #[arg(long)]
    pub repository_only: bool,
    /// Only perform archives checks.
    #[arg(long)]
    pub archives_only: bool,
    /// Perform cryptographic archive data integrity verification (conflicts with --repository-only).
    #[arg(long)]
    pub verify_data: bool,
    /// Attempt to repair any inconsistencies found.
    #[arg(long)]
    pub repair: bool,
    /// Work slower, but using less space (accepted and ignored, as by borg).
    #[arg(long)]
    pub save_space: bool,
    /// Do only a partial repo check for max. SECONDS seconds (Default: unlimited).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub max_duration: u64,
    #[command(flatten)]
    pub filter: ArchiveFilterArgs,
    /// Repository or archive to check consistency of.
    #[arg(value_name = "REPOSITORY_OR_ARCHIVE")]
    pub location: Option<String>,
}
