//! `prune` (borg 1.4.5's `do_prune`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{Datelike, Local, TimeZone, Timelike};
use oxiborg_cli_args::{LogLevel, PruneArgs};
use oxiborg_core::{
    LocalTime, PruneArchive, PruneDecision, PrunePlan, PruneRule, PruneRules, Session,
};
use oxiborg_format::{Operation, UtcTimestamp};
use oxiborg_patterns::ArchiveGlob;

use super::archive::{
    cache_transaction_messages, commit_cache, open_cache, open_session, usage,
    CHECKPOINT_ON_SIGINT, SIGINT,
};
use super::Ctx;
use crate::exit::{class, CliError};
use crate::location::parse_repository;
use crate::output::{self, ArchiveRow};

/// borg's `to_localtime`: the local wall clock of the floored Unix
/// seconds (`time.localtime`), with the zone `TZ` selects.
fn localtime(secs: i64) -> LocalTime {
    let dt = Local
        .timestamp_opt(secs, 0)
        .single()
        .unwrap_or_else(|| Local.timestamp_opt(0, 0).unwrap());
    LocalTime {
        year: i64::from(dt.year()),
        month: dt.month(),
        day: dt.day(),
        hour: dt.hour(),
        minute: dt.minute(),
        second: dt.second(),
    }
}

fn rules(args: &PruneArgs) -> anyhow::Result<PruneRules> {
    let within_hours = match &args.keep_within {
        None => None,
        Some(s) => Some(
            oxiborg_core::parse_interval(s)
                .map_err(|e| usage(format!("argument --keep-within: {e}")))?,
        ),
    };
    let counts = [
        (PruneRule::Secondly, args.keep_secondly),
        (PruneRule::Minutely, args.keep_minutely),
        (PruneRule::Hourly, args.keep_hourly),
        (PruneRule::Daily, args.keep_daily),
        (PruneRule::Weekly, args.keep_weekly),
        (PruneRule::Monthly, args.keep_monthly),
        (PruneRule::Quarterly13Weekly, args.keep_13weekly),
        (PruneRule::Quarterly3Monthly, args.keep_3monthly),
        (PruneRule::Yearly, args.keep_yearly),
    ]
    .into_iter()
    .filter_map(|(r, n)| n.map(|n| (r, n)))
    .collect();
    Ok(PruneRules {
        within_hours,
        counts,
    })
}

/// The manifest entries `-a`/`-P` select, checkpoints included (borg's
/// `manifest.archives.list(glob=..., match_end=r'(\.checkpoint(\.\d+)?)?\Z')`),
/// in manifest (name) order.
fn matching(session: &Session, args: &PruneArgs) -> anyhow::Result<Vec<PruneArchive>> {
    let glob = match (&args.prefix, &args.glob_archives) {
        (Some(p), _) => Some(crate::placeholders::expand(p)? + "*"),
        (None, Some(g)) => Some(crate::placeholders::expand(g)?),
        (None, None) => None,
    };
    let glob = glob
        .map(|g| ArchiveGlob::new(&g))
        .transpose()
        .map_err(usage)?;
    let mut out = Vec::new();
    for (name, a) in &session.manifest().archives {
        let name = String::from_utf8_lossy(name).into_owned();
        if let Some(g) = &glob {
            let stem_matches = oxiborg_core::checkpoint_stem(&name).is_some_and(|s| g.matches(s));
            if !g.matches(&name) && !stem_matches {
                continue;
            }
        }
        out.push(PruneArchive {
            name,
            id: a.id,
            ts: UtcTimestamp::parse_iso(&a.time)?,
        });
    }
    Ok(out)
}

fn info(ctx: &Ctx, msg: &str) {
    ctx.logger
        .log(LogLevel::Info, "borg.archiver", msg, None, false);
}

/// `oxiborg prune`.
pub fn run(ctx: &Ctx, args: &PruneArgs) -> anyhow::Result<u8> {
    let rules = rules(args)?;
    // borg's `Archiver.run`: the stats are not computed in a dry run.
    let stats_wanted = super::stats_unless_dry_run(ctx, args.dry_run, args.stats, args.quick_stats);
    let loc = parse_repository(args.repository.as_deref())?;
    let mut session = open_session(ctx, &loc, true, Operation::Delete)?;
    if !rules.any() {
        return Err(CliError::command(
            "At least one of the \"keep-within\", \"keep-last\", \
             \"keep-secondly\", \"keep-minutely\", \"keep-hourly\", \"keep-daily\", \
             \"keep-weekly\", \"keep-monthly\", \"keep-13weekly\", \"keep-3monthly\", \
             or \"keep-yearly\" settings must be specified.",
        )
        .into());
    }
    let archives = matching(&session, args)?;
    let plan = oxiborg_core::prune_plan(&archives, &rules, UtcTimestamp::now(), &localtime);
    let (mut total_archives, mut total_checkpoints) = (0, 0);
    for name in session.manifest().archives.keys() {
        if oxiborg_core::is_checkpoint(&String::from_utf8_lossy(name)) {
            total_checkpoints += 1;
        } else {
            total_archives += 1;
        }
    }
    info(
        ctx,
        &format!(
            "Repository contains {total_archives} normal archives and {total_checkpoints} checkpoint archives."
        ),
    );
    info(
        ctx,
        &format!(
            "Applying rules to the matching {} archives and {} checkpoints...",
            plan.archives, plan.checkpoints
        ),
    );
    info(
        ctx,
        &format!(
            "Keeping {} archives and {} checkpoints, pruning {} archives and {} checkpoints.",
            plan.kept_archives,
            plan.kept_checkpoints,
            plan.pruned_archives,
            plan.pruned_checkpoints
        ),
    );
    let mut cache = open_cache(ctx, &mut session, false)?;
    let stats = execute(ctx, args, &mut session, &mut cache, &plan);
    let stats = stats?;
    if stats_wanted.0 || stats_wanted.1 {
        let totals = output::archive_totals(&mut session, &mut cache)?;
        let text = output::delete_stats_text(&stats, &cache, totals, stats_wanted.1);
        ctx.logger
            .log(LogLevel::Info, "borg.output.stats", &text, None, true);
    }
    cache.close()?;
    session.close()?;
    Ok(0)
}

/// Walk the plan newest first: list and (unless a dry run) delete,
/// committing every `--checkpoint-interval` seconds and at the end; a
/// first SIGINT commits what was deleted and stops with borg's error.
fn execute(
    ctx: &Ctx,
    args: &PruneArgs,
    session: &mut Session,
    cache: &mut oxiborg_core::Cache,
    plan: &PrunePlan,
) -> anyhow::Result<oxiborg_core::DeleteStats> {
    let mut stats = oxiborg_core::DeleteStats::default();
    let total = plan.to_delete();
    let mut progress = ctx.progress.then(|| {
        crate::progress::Percent::new(ctx.logger.json(), "prune", 5.0, total as u64, |p, _| {
            format!("Pruning archives {p:3.0}%")
        })
    });
    let interval = Duration::from_secs(args.checkpoint_interval.max(0) as u64);
    let mut last_checkpoint = Instant::now();
    let mut deleted = 0;
    let mut uncommitted = 0;
    if !args.dry_run {
        CHECKPOINT_ON_SIGINT.store(true, Ordering::SeqCst);
    }
    let result = (|| -> anyhow::Result<()> {
        for (a, decision) in &plan.entries {
            // borg's `sig_int.action_done()`: stop after the checkpoint a
            // first Ctrl-C asked for.
            if SIGINT.load(Ordering::SeqCst) && uncommitted == 0 && deleted > 0 {
                break;
            }
            let message = match decision {
                PruneDecision::Prune => {
                    if let Some(p) = progress.as_mut() {
                        p.show(1, None);
                    }
                    if args.dry_run {
                        "Would prune:".to_string()
                    } else {
                        if deleted == 0 && ctx.progress {
                            cache_transaction_messages(ctx);
                        }
                        deleted += 1;
                        let damaged = oxiborg_core::delete_archive(
                            session,
                            cache,
                            a.name.as_bytes(),
                            &a.id,
                            args.force > 0,
                            &mut stats,
                        )?;
                        if damaged {
                            for m in [
                                "forced deletion succeeded, but the deleted archive was corrupted.",
                                "borg check --repair is required to free all space.",
                            ] {
                                ctx.logger
                                    .log(LogLevel::Warning, "borg.archive", m, None, false);
                            }
                        }
                        uncommitted += 1;
                        let sigint = SIGINT.load(Ordering::SeqCst);
                        if sigint
                            || (interval > Duration::ZERO && last_checkpoint.elapsed() > interval)
                        {
                            if sigint {
                                info(ctx, "checkpoint requested: starting checkpoint creation...");
                            }
                            checkpoint(ctx, session, cache)?;
                            if sigint {
                                info(ctx, "checkpoint requested: finished checkpoint creation!");
                            }
                            last_checkpoint = Instant::now();
                            uncommitted = 0;
                        }
                        format!("Pruning archive ({deleted}/{total}):")
                    }
                }
                PruneDecision::KeepCheckpoint => "Keeping checkpoint archive:".to_string(),
                PruneDecision::Keep { rule, num } => {
                    format!("Keeping archive (rule: {rule} #{num}):")
                }
            };
            if args.list {
                let row = ArchiveRow {
                    name: a.name.clone(),
                    id: a.id,
                    time: a.ts,
                };
                let line = output::format_archive("{archive:<36} {time} [{id}]", &row, session)
                    .map_err(usage)?;
                ctx.logger.log(
                    LogLevel::Info,
                    "borg.output.list",
                    &format!("{message:<44} {line}"),
                    None,
                    true,
                );
            }
        }
        Ok(())
    })();
    CHECKPOINT_ON_SIGINT.store(false, Ordering::SeqCst);
    let interrupted = SIGINT.load(Ordering::SeqCst);
    result?;
    if let Some(p) = progress.as_mut() {
        p.finish();
    }
    if interrupted {
        return Err(CliError {
            class: class::ERROR,
            message: "Got Ctrl-C / SIGINT.".into(),
        }
        .into());
    }
    if uncommitted > 0 {
        checkpoint(ctx, session, cache)?;
    }
    Ok(stats)
}

/// borg's `checkpoint_func`: write the manifest, commit the repository and
/// the cache.
fn checkpoint(
    ctx: &Ctx,
    session: &mut Session,
    cache: &mut oxiborg_core::Cache,
) -> anyhow::Result<()> {
    session.write_manifest_and_commit()?;
    commit_cache(ctx, cache, session)?;
    Ok(())
}
