//! `recreate` options (borg 1.4.5's `recreate` parser).

use std::ffi::OsString;

use clap::Args;

use crate::{PatternArgs, TagArgs};

/// `recreate` options.
#[derive(Debug, Args, Clone)]
pub struct RecreateArgs {
    /// Output verbose list of items (files, dirs, ...).
    #[arg(long)]
    pub list: bool,
    /// Only display items with the given status characters.
    #[arg(long, value_name = "STATUSCHARS")]
    pub filter: Option<String>,
    /// Do not change anything.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print statistics at end.
    #[arg(short = 's', long)]
    pub stats: bool,
    #[command(flatten)]
    pub patterns: PatternArgs,
    #[command(flatten)]
    pub tags: TagArgs,
    /// Create a new archive with the name ARCHIVE, do not replace existing archive (only applies
    /// for a single archive).
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// Write checkpoint every SECONDS seconds (default: 1800).
    #[arg(short = 'c', long, value_name = "SECONDS", default_value_t = 1800)]
    pub checkpoint_interval: u64,
    /// Add a comment text to the archive.
    #[arg(long, value_name = "COMMENT")]
    pub comment: Option<String>,
    /// Manually specify the archive creation date/time (UTC, yyyy-mm-ddThh:mm:ss format).
    #[arg(long, value_name = "TIMESTAMP")]
    pub timestamp: Option<String>,
    /// Select compression algorithm.
    #[arg(short = 'C', long, value_name = "COMPRESSION", default_value = "lz4")]
    pub compression: String,
    /// Recompress data chunks according to MODE and --compression (if-different, always, never).
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_value = "never",
          default_missing_value = "if-different", value_parser = ["never", "if-different", "always"])]
    pub recompress: String,
    /// Rechunk using given chunker parameters, or `default` (default: do not rechunk).
    #[arg(long, value_name = "PARAMS")]
    pub chunker_params: Option<String>,
    /// Repository or archive to recreate.
    #[arg(value_name = "REPOSITORY_OR_ARCHIVE")]
    pub location: Option<String>,
    /// Paths to recreate; patterns are supported.
    #[arg(value_name = "PATH")]
    pub paths: Vec<OsString>,
}
