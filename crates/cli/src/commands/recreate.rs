//! `oxiborg recreate` (borg's `do_recreate`).

use std::os::unix::ffi::OsStringExt;

use oxiborg_cli_args::{LogLevel, RecreateArgs};
use oxiborg_core::{is_temporary_archive, CreateOutcome, Recompress, RecreateOptions};
use oxiborg_format::{Operation, UtcTimestamp};

use super::archive::{build_matcher, commit_cache, open_cache, open_session, usage, CliObserver};
use super::Ctx;
use crate::exit::CliError;
use crate::location::parse;
use crate::output;

/// `oxiborg recreate [REPO[::ARCHIVE]] [PATH...]`.
pub fn run(ctx: &Ctx, args: &RecreateArgs) -> anyhow::Result<u8> {
    let (show_stats, _) = super::stats_unless_dry_run(ctx, args.dry_run, args.stats, false);
    let loc = parse(args.location.as_deref())?;
    if args.tags.exclude_caches {
        return Err(usage("recreate --exclude-caches is not supported by oxiborg yet").into());
    }
    if !args.tags.exclude_if_present.is_empty() || args.tags.keep_exclude_tags {
        return Err(usage(
            "recreate --exclude-if-present/--keep-exclude-tags are not supported by oxiborg yet",
        )
        .into());
    }
    let compression = oxiborg_format::CompressionSpec::parse(&args.compression).map_err(usage)?;
    let chunker_params = match args.chunker_params.as_deref() {
        None => None,
        Some("default") => Some("buzhash,19,23,21,4095".parse().map_err(usage)?),
        Some(p) => Some(p.parse().map_err(usage)?),
    };
    let timestamp = match &args.timestamp {
        None => None,
        Some(t) => Some(output::parse_timestamp_arg(t).map_err(usage)?),
    };
    let comment = match &args.comment {
        None => None,
        Some(c) => Some(crate::placeholders::expand(c)?.into_bytes()),
    };
    let recompress = match args.recompress.as_str() {
        "always" => Recompress::Always,
        "if-different" => Recompress::IfDifferent,
        _ => Recompress::Never,
    };
    let opts = RecreateOptions {
        compression,
        recompress,
        chunker_params,
        comment,
        timestamp,
        dry_run: args.dry_run,
        cmdline: std::env::args_os().map(OsStringExt::into_vec).collect(),
        hostname: crate::placeholders::hostname().into_bytes(),
        username: crate::placeholders::username().into_bytes(),
        cwd: std::env::current_dir()?.into_os_string().into_vec(),
    };
    let observer = CliObserver::lister(ctx, args.list, args.filter.clone());
    let mut session = open_session(ctx, &loc, true, Operation::Write)?;
    let mut cache = open_cache(ctx, &mut session, false)?;
    let process = |session: &mut oxiborg_core::Session,
                   cache: &mut oxiborg_core::Cache,
                   name: &str,
                   target: Option<&str>|
     -> anyhow::Result<bool> {
        let (mut matcher, _) = build_matcher(&args.patterns, &args.paths, true)?;
        let started = std::time::Instant::now();
        let out = oxiborg_core::recreate(
            session,
            cache,
            name.as_bytes(),
            target.map(str::as_bytes),
            &mut matcher,
            &opts,
            &observer,
            &super::archive::INTERRUPTED,
        )?;
        let Some(out) = out else { return Ok(false) };
        if show_stats {
            // borg shows the run's own start and end here.
            let end = UtcTimestamp::now();
            let duration = started.elapsed();
            let shown = CreateOutcome {
                id: out.id,
                archive: out.archive,
                stats: out.stats,
                warnings: false,
                start: UtcTimestamp::from_unix_nanos(
                    end.unix_nanos() - duration.as_nanos() as i128,
                ),
                end,
                duration: duration.as_secs_f64(),
            };
            let totals = output::archive_totals(session, cache)?;
            let stats = output::CreateStats::new(session, cache, &shown, totals);
            ctx.logger.log(
                LogLevel::Info,
                "borg.output.stats",
                &stats.text_without_header(),
                None,
                true,
            );
        }
        Ok(true)
    };
    if let Some(name) = &loc.archive {
        if is_temporary_archive(name.as_bytes()) {
            return Err(CliError::command(format!(
                "Refusing to work on temporary archive of prior recreate: {name}"
            ))
            .into());
        }
        if !process(&mut session, &mut cache, name, args.target.as_deref())? {
            return Err(CliError::command(
                "Nothing to do. Archive was not processed.\n\
                 Specify at least one pattern, PATH, --comment, re-compression or re-chunking option.",
            )
            .into());
        }
    } else {
        if args.target.is_some() {
            return Err(CliError::command("--target: Need to specify single archive").into());
        }
        let mut names: Vec<(UtcTimestamp, String)> = Vec::new();
        for (name, a) in &session.manifest().archives {
            names.push((
                UtcTimestamp::parse_iso(&a.time)?,
                String::from_utf8_lossy(name).into_owned(),
            ));
        }
        names.sort_by_key(|(t, _)| *t);
        for (_, name) in names {
            if is_temporary_archive(name.as_bytes()) {
                continue;
            }
            super::print_out(&format!("Processing {name}\n"))?;
            if !process(&mut session, &mut cache, &name, None)? {
                ctx.logger.log(
                    LogLevel::Info,
                    "borg.archiver",
                    &format!("Skipped archive {name}: Nothing to do. Archive was not processed."),
                    None,
                    false,
                );
            }
        }
    }
    if !args.dry_run {
        commit_cache(ctx, &mut cache, &session)?;
    }
    cache.close()?;
    session.close()?;
    Ok(0)
}
