//! `oxiborg check` (the repository part).

use std::time::Duration;

use oxiborg_cli_args::CheckArgs;
use oxiborg_repository::Repository;

use super::Ctx;
use crate::exit::{class, CliError};
use crate::location::parse_repository;

const REPAIR_WARNING: &str = "This is a potentially dangerous function.
check --repair might lead to data loss (for kinds of corruption it is not
capable of dealing with). BE VERY CAREFUL!";

pub fn run(ctx: &Ctx, args: &CheckArgs) -> anyhow::Result<u8> {
    if !args.repository_only {
        return Err(crate::not_yet(
            "check of archives (only `check --repository-only` is implemented)",
        )
        .into());
    }
    if args.repair && args.max_duration > 0 {
        return Err(CliError::command("--repair does not allow --max-duration argument.").into());
    }
    let loc = parse_repository(args.repository.as_deref())?;
    if args.repair
        && !crate::env::confirm_dangerous("BORG_CHECK_I_KNOW_WHAT_I_AM_DOING", REPAIR_WARNING)
    {
        return Err(CliError {
            class: class::CANCELLED_BY_USER,
            message: "Cancelled by user.".into(),
        }
        .into());
    }
    let mut repo = ctx.open(&loc, true)?;
    let max = (args.max_duration > 0).then(|| Duration::from_secs(args.max_duration));
    let ok = repo.check(args.repair, max)?;
    repo.close()?;
    // Problems found are a warning (rc 1) in both exit-code modes, as in borg.
    Ok(if ok { 0 } else { 1 })
}
