//! `oxiborg break-lock` and `oxiborg with-lock`.

use std::process::Command;

use oxiborg_cli_args::{RepoArg, WithLockArgs};
use oxiborg_repository::{CommitOptions, MANIFEST_ID};

use super::Ctx;
use crate::exit::CliError;
use crate::location::parse_repository;

/// Remove the repository lock and the cache lock, taking no lock to do so.
pub fn break_lock(ctx: &Ctx, args: &RepoArg) -> anyhow::Result<u8> {
    let loc = parse_repository(args.repository.as_deref())?;
    let mut o = ctx.open_options(false);
    o.lock = false;
    let mut repo = ctx.open_with(&loc, &o)?;
    repo.break_lock()?;
    let cache_lock = crate::env::borg_dirs()
        .cache_dir
        .join(hex::encode(repo.id()))
        .join("lock");
    oxiborg_lock::break_lock(&cache_lock)?;
    Ok(0)
}

/// Run a command with the repository locked; its exit code is ours.
pub fn with_lock(ctx: &Ctx, args: &WithLockArgs) -> anyhow::Result<u8> {
    let loc = parse_repository(Some(&args.repository))?;
    let mut repo = ctx.open(&loc, true)?;
    // As borg: a no-change manifest rewrite starts a transaction, so the
    // segment numbering moves on and nothing reuses files the command may
    // have copied.
    let manifest = repo.get(&MANIFEST_ID)?;
    repo.put(&MANIFEST_ID, &manifest)?;
    let status = Command::new(&args.command)
        .args(&args.args)
        .env_remove("BORG_PASSPHRASE")
        .env("BORG_VERSION", oxiborg_cli_args::BORG_COMPAT_VERSION)
        .status();
    let commit = repo.commit(CommitOptions::default());
    let status = status.map_err(|e| {
        CliError::command(format!(
            "Error while trying to run '{}': {e}",
            args.command.to_string_lossy()
        ))
    })?;
    commit?;
    repo.close_boxed()?;
    // A signal-killed child maps to 128+N like a shell would.
    Ok(status.code().map_or_else(
        || 128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0) as u8,
        |c| c as u8,
    ))
}
