//! `serve`: the repository server a borg client starts over ssh.

use std::path::PathBuf;

use clap::Args;

/// `serve` (borg's serve parser).
#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Restrict repository access to PATH. Can be specified multiple times to allow the client
    /// access to several directories. Access to all sub-directories is granted implicitly; PATH
    /// doesn't need to directly point to a repository.
    #[arg(long = "restrict-to-path", value_name = "PATH")]
    pub restrict_to_paths: Vec<PathBuf>,
    /// Restrict repository access. Only the repository located at PATH (no sub-directories are
    /// considered) is accessible. Can be specified multiple times to allow the client access to
    /// several repositories. Unlike --restrict-to-path sub-directories are not accessible; PATH
    /// needs to directly point at a repository location. PATH may be an empty directory or the
    /// last element of PATH may not exist, in which case the client may initialize a repository
    /// there.
    #[arg(long = "restrict-to-repository", value_name = "PATH")]
    pub restrict_to_repositories: Vec<PathBuf>,
    /// Only allow appending to repository segment files. Note that this only affects the low
    /// level structure of the repository, and running `delete` or `prune` or reading from the
    /// repository will still be allowed.
    #[arg(long)]
    pub append_only: bool,
    /// Set storage quota of the repository (has priority over the repository's own quota
    /// setting) (e.g. 5G, 1.5T). When a new repository is initialized, sets the storage quota
    /// on the new repository as well. Default: no quota.
    #[arg(long, value_name = "QUOTA", value_parser = super::parse_quota)]
    pub storage_quota: Option<u64>,
    /// Enable TOPIC debugging (borg clients pass their `repository` topics on; oxiborg's
    /// server has no topic-specific debug output, so this changes nothing).
    #[arg(long = "debug-topic", value_name = "TOPIC")]
    pub debug_topics: Vec<String>,
}
