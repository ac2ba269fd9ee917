//! `oxiborg compact`

use oxiborg_repository::{CommitOptions, MANIFEST_ID};

use super::Ctx;
use crate::location::parse_repository;

pub fn run(ctx: &Ctx, args: &oxiborg_cli_args::CompactArgs) -> anyhow::Result<u8> {
    let loc = parse_repository(args.repository.as_deref())?;
    if args.dry_run {
        // borg 1.2.9+: `compact --dry-run` does nothing at all.
        return Ok(0);
    }
    let mut repo = ctx.open(&loc, true)?;
    // Rewriting the manifest starts the transaction whose commit compacts.
    let manifest = repo.get(&MANIFEST_ID)?;
    repo.put(&MANIFEST_ID, &manifest)?;
    repo.commit(CommitOptions {
        compact: true,
        threshold: f64::from(args.threshold) / 100.0,
        cleanup_commits: args.cleanup_commits,
    })?;
    repo.close_boxed()?;
    Ok(0)
}
