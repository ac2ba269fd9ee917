//! `diff` options (borg 1.4.5's parser for `borg diff`).

use std::ffi::OsString;

use clap::Args;

use crate::PatternArgs;

/// `diff` options.
#[derive(Debug, Args, Clone)]
pub struct DiffArgs {
    /// Only consider numeric user and group identifiers (borg 1.4.5 accepts it; it changes nothing).
    #[arg(long, visible_alias = "numeric-owner")]
    pub numeric_ids: bool,
    /// Override check of chunker parameters.
    #[arg(long)]
    pub same_chunker_params: bool,
    /// Sort the output by path (deprecated, use --sort-by=path).
    #[arg(long)]
    pub sort: bool,
    /// Sort by FIELDS (comma-separated; prefix > for descending, < for ascending): path,
    /// size_added, size_removed, size_diff, size, user, group, uid, gid, ctime, mtime,
    /// ctime_diff, mtime_diff.
    #[arg(long, value_name = "FIELDS")]
    pub sort_by: Option<String>,
    /// Only compare differences in content (exclude metadata differences).
    #[arg(long)]
    pub content_only: bool,
    /// Format output as JSON Lines.
    #[arg(long)]
    pub json_lines: bool,
    #[command(flatten)]
    pub patterns: PatternArgs,
    /// Repository location and ARCHIVE1 name.
    #[arg(value_name = "REPO::ARCHIVE1")]
    pub location: String,
    /// ARCHIVE2 name (no repository location allowed).
    #[arg(value_name = "ARCHIVE2")]
    pub archive2: String,
    /// Paths of items inside the archives to compare; patterns are supported.
    #[arg(value_name = "PATH")]
    pub paths: Vec<OsString>,
}
