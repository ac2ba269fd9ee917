//! `export-tar` and `import-tar` (borg 1.4.5: GNU format only; borg 1.4
//! has no `--tar-format`).

use std::ffi::OsString;

use clap::Args;

use crate::PatternArgs;

/// `export-tar ARCHIVE FILE [PATH...]`
#[derive(Debug, Args, Clone)]
pub struct ExportTarArgs {
    /// Filter program to pipe data through (default: auto, by FILE's extension).
    #[arg(long, value_name = "TAR_FILTER", default_value = "auto")]
    pub tar_filter: String,
    /// Output verbose list of items (files, dirs, ...).
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub patterns: PatternArgs,
    /// Remove the specified number of leading path elements.
    #[arg(long, value_name = "NUMBER", default_value_t = 0)]
    pub strip_components: usize,
    /// Archive to export.
    #[arg(value_name = "ARCHIVE")]
    pub archive: String,
    /// Output tar file. "-" to write to stdout instead.
    #[arg(value_name = "FILE", allow_hyphen_values = true)]
    pub tarfile: OsString,
    /// Paths to extract; patterns are supported.
    #[arg(value_name = "PATH")]
    pub paths: Vec<OsString>,
}

/// `import-tar ARCHIVE TARFILE`
#[derive(Debug, Args, Clone)]
pub struct ImportTarArgs {
    /// Filter program to pipe data through (default: auto, by TARFILE's extension).
    #[arg(long, value_name = "TAR_FILTER", action = clap::ArgAction::Append)]
    pub tar_filter: Vec<String>,
    /// Print statistics for the created archive.
    #[arg(short = 's', long)]
    pub stats: bool,
    /// Output verbose list of items (files, dirs, ...).
    #[arg(long)]
    pub list: bool,
    /// Only display items with the given status characters.
    #[arg(long, value_name = "STATUSCHARS", action = clap::ArgAction::Append)]
    pub filter: Vec<String>,
    /// Output stats as JSON (implies --stats).
    #[arg(long)]
    pub json: bool,
    /// Ignore zero-filled blocks in the input tarball.
    #[arg(long)]
    pub ignore_zeros: bool,
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
    #[arg(long, value_name = "PARAMS", action = clap::ArgAction::Append)]
    pub chunker_params: Vec<String>,
    /// Select compression algorithm.
    #[arg(short = 'C', long, value_name = "COMPRESSION", default_value = "lz4")]
    pub compression: String,
    /// Name of archive to create (must be also a valid directory name).
    #[arg(value_name = "ARCHIVE")]
    pub archive: String,
    /// Input tar file. "-" to read from stdin instead.
    #[arg(value_name = "TARFILE", allow_hyphen_values = true)]
    pub tarfile: OsString,
}
