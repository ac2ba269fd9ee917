//! `key` (export, export-related-secrets, import, change-passphrase,
//! migrate-to-repokey) and `config`, as borg 1.4.5 defines them.

use clap::{Args, Subcommand};

/// `key [SUBCOMMAND]`; without a subcommand borg prints the group's help (rc 0).
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// What to do with the key.
    #[command(subcommand)]
    pub command: Option<KeyCommand>,
}

/// `key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Export the repository key for backup.
    Export(KeyExportArgs),
    /// Export secrets for creating related repositories.
    ExportRelatedSecrets(KeyPathArgs),
    /// Import the repository key from backup.
    Import(KeyImportArgs),
    /// Change repository key file passphrase.
    ChangePassphrase(KeyRepoArgs),
    /// Migrate passphrase -> repokey.
    MigrateToRepokey(KeyRepoArgs),
}

/// `key export [--paper] [--qr-html] [REPOSITORY] [PATH]`
#[derive(Debug, Args, Clone)]
pub struct KeyExportArgs {
    /// Create an export suitable for printing and later type-in.
    #[arg(long)]
    pub paper: bool,
    /// Create an html file suitable for printing and later type-in or qr scan.
    #[arg(long = "qr-html")]
    pub qr_html: bool,
    /// Repository (default: $BORG_REPO).
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
    /// Where to store the backup (default and `-`: stdout).
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
}

/// `key export-related-secrets [REPOSITORY] [PATH]`
#[derive(Debug, Args, Clone)]
pub struct KeyPathArgs {
    /// Repository (default: $BORG_REPO).
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
    /// Where to store the secrets (`-`: stdout).
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
}

/// `key import [--paper] [REPOSITORY] [PATH]`
#[derive(Debug, Args, Clone)]
pub struct KeyImportArgs {
    /// Interactively import from a backup done with `--paper`.
    #[arg(long)]
    pub paper: bool,
    /// Repository (default: $BORG_REPO).
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
    /// Path to the backup ('-' to read from stdin).
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
}

/// `key change-passphrase [REPOSITORY]`, `key migrate-to-repokey [REPOSITORY]`
#[derive(Debug, Args, Clone)]
pub struct KeyRepoArgs {
    /// Repository (default: $BORG_REPO).
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
}

/// `config [-c] [-d | -l] [REPOSITORY] [NAME] [VALUE]`
#[derive(Debug, Args, Clone)]
pub struct ConfigArgs {
    /// Get and set values from the repo cache.
    #[arg(short = 'c', long)]
    pub cache: bool,
    /// Delete the key from the config file.
    #[arg(short = 'd', long, conflicts_with = "list")]
    pub delete: bool,
    /// List the configuration of the repo.
    #[arg(short = 'l', long)]
    pub list: bool,
    /// Repository to configure (default: $BORG_REPO).
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
    /// Name of config key.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// New value for key.
    #[arg(value_name = "VALUE", allow_hyphen_values = true)]
    pub value: Option<String>,
}
