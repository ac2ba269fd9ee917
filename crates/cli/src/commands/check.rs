//! `oxiborg check`: the repository part, then the archives part
//! (borg 1.4.5's `do_check`).

use std::time::Duration;

use oxiborg_cli_args::{CheckArgs, LogLevel};
use oxiborg_core::{ArchiveCheckOptions, ArchiveChecker, CheckTarget, KeySource};
use oxiborg_repository::{Reporter, Repository};

use super::Ctx;
use crate::env::{borg_dirs, EnvPassphrase};
use crate::exit::{class, CliError};
use crate::location::parse;
use crate::log::Logger;

const REPAIR_WARNING: &str = "This is a potentially dangerous function.
check --repair might lead to data loss (for kinds of corruption it is not
capable of dealing with). BE VERY CAREFUL!
";

/// The archive checker's messages come from borg's `borg.archive` logger;
/// with `--progress` its phases show borg's percentage indicators.
struct ArchiveLog {
    logger: Logger,
    progress: bool,
    current: std::sync::Mutex<Option<(&'static str, crate::progress::Percent)>>,
}

fn archives_msg(pct: f64, _: Option<&str>) -> String {
    format!("Checking archives {pct:3.1}%")
}

fn verify_msg(pct: f64, _: Option<&str>) -> String {
    format!("Verifying data {pct:6.2}%")
}

fn rebuild_msg(pct: f64, _: Option<&str>) -> String {
    format!("Rebuilding manifest {pct:6.2}%")
}

impl ArchiveLog {
    fn new(ctx: &Ctx) -> Self {
        ArchiveLog {
            logger: ctx.logger.clone(),
            progress: ctx.progress,
            current: std::sync::Mutex::new(None),
        }
    }
}

impl Reporter for ArchiveLog {
    fn warning(&self, msg: &str) {
        self.logger
            .log(LogLevel::Warning, "borg.archive", msg, None, false);
    }
    fn error(&self, msg: &str) {
        self.logger
            .log(LogLevel::Error, "borg.archive", msg, None, false);
    }
    fn info(&self, msg: &str) {
        self.logger
            .log(LogLevel::Info, "borg.archive", msg, None, false);
    }
    fn debug(&self, msg: &str) {
        self.logger
            .log(LogLevel::Debug, "borg.archive", msg, None, false);
    }
    /// Called with 0, 1, 2, ... for each step of a phase, then with
    /// `current == total` when it ends (borg's `pi.show()` / `pi.finish()`).
    fn progress(&self, msgid: &str, current: u64, total: u64) {
        type Format = fn(f64, Option<&str>) -> String;
        if !self.progress {
            return;
        }
        let (id, step, format): (&'static str, f64, Format) = match msgid {
            "check.rebuild_refcounts" => ("check.rebuild_refcounts", 0.1, archives_msg),
            "check.verify_data" => ("check.verify_data", 0.01, verify_msg),
            "check.rebuild_manifest" => ("check.rebuild_manifest", 0.01, rebuild_msg),
            _ => return,
        };
        let Ok(mut cur) = self.current.lock() else {
            return;
        };
        if current >= total {
            if let Some((_, mut p)) = cur.take() {
                p.finish();
            }
            return;
        }
        if cur.as_ref().is_none_or(|(m, _)| *m != id) {
            if let Some((_, mut p)) = cur.take() {
                p.finish();
            }
            let json = self.logger.json();
            *cur = Some((
                id,
                crate::progress::Percent::new(json, id, step, total, format),
            ));
        }
        if let Some((_, p)) = cur.as_mut() {
            p.show(1, None);
        }
    }
}

pub fn run(ctx: &Ctx, args: &CheckArgs) -> anyhow::Result<u8> {
    let loc = parse(args.location.as_deref())?;
    // borg opens (and locks) the repository before it asks or validates.
    let mut repo = ctx.open(&loc, true)?;
    if args.repair
        && !crate::env::confirm_dangerous("BORG_CHECK_I_KNOW_WHAT_I_AM_DOING", REPAIR_WARNING)
    {
        return Err(CliError {
            class: class::CANCELLED_BY_USER,
            message: "Cancelled by user.".into(),
        }
        .into());
    }
    let f = &args.filter;
    if args.repository_only
        && (args.verify_data
            || f.first > 0
            || f.last > 0
            || f.prefix.is_some()
            || f.glob_archives.is_some())
    {
        return Err(CliError::command(
            "--repository-only contradicts --first, --last, --glob-archives, --prefix and --verify-data arguments.",
        )
        .into());
    }
    if args.repair && args.max_duration > 0 {
        return Err(CliError::command("--repair does not allow --max-duration argument.").into());
    }
    if args.max_duration > 0 && !args.repository_only {
        return Err(
            CliError::command("--repository-only is required for --max-duration support.").into(),
        );
    }
    if !args.archives_only {
        let max = (args.max_duration > 0).then(|| Duration::from_secs(args.max_duration));
        if !repo.check(args.repair, max)? {
            repo.close_boxed()?;
            // Problems found are a warning (rc 1) in both exit-code modes.
            return Ok(1);
        }
    }
    let mut rc = 0;
    if !args.repository_only {
        let log = ArchiveLog::new(ctx);
        let dirs = borg_dirs();
        let mut pass = EnvPassphrase::default();
        let ok = {
            let dynrepo: &mut (dyn Repository + Send) = repo.as_mut();
            check_archives(dynrepo, &loc, args, &log, &dirs, &mut pass)?
        };
        if !ok {
            rc = 1;
        }
    }
    repo.close_boxed()?;
    Ok(rc)
}

fn check_archives(
    repo: &mut (dyn Repository + Send),
    loc: &crate::location::Location,
    args: &CheckArgs,
    log: &ArchiveLog,
    dirs: &oxiborg_core::BorgDirs,
    pass: &mut EnvPassphrase,
) -> anyhow::Result<bool> {
    let opts = ArchiveCheckOptions {
        repair: args.repair,
        verify_data: args.verify_data,
    };
    let keys = KeySource {
        dirs,
        pass,
        location: &loc.canonical(),
    };
    let Some(mut checker) = ArchiveChecker::start(repo, keys, log, opts)? else {
        return Ok(false);
    };
    let mut f = args.filter.clone();
    if let Some(p) = f.prefix.take() {
        f.glob_archives = Some(format!("{p}*"));
    }
    let (targets, all) = if let Some(name) = &loc.archive {
        match checker.manifest().archive(name.as_bytes()) {
            Some(a) => (
                vec![CheckTarget {
                    name: name.as_bytes().to_vec(),
                    id: a.id,
                    time: a.time.clone(),
                }],
                false,
            ),
            None => {
                checker.archive_not_found(name);
                (Vec::new(), false)
            }
        }
    } else {
        let filtered = f.first > 0 || f.last > 0 || f.glob_archives.is_some();
        let rows = super::archive::select_archives_in(checker.manifest(), &f, true)?;
        if let Some(g) = &f.glob_archives {
            if rows.is_empty() {
                log.warning(&format!("--glob-archives {g} does not match any archives"));
            }
        }
        if f.first > 0 && rows.len() < f.first {
            log.warning(&format!(
                "--first {} archives: only found {} archives",
                f.first,
                rows.len()
            ));
        }
        if f.last > 0 && rows.len() < f.last {
            log.warning(&format!(
                "--last {} archives: only found {} archives",
                f.last,
                rows.len()
            ));
        }
        let manifest = checker.manifest();
        let targets = rows
            .iter()
            .filter_map(|r| {
                let (name, a) = manifest
                    .archives
                    .get_key_value(r.name.as_bytes())
                    .or_else(|| manifest.archives.iter().find(|(_, a)| a.id == r.id))?;
                Some(CheckTarget {
                    name: name.clone(),
                    id: a.id,
                    time: a.time.clone(),
                })
            })
            .collect();
        (targets, !filtered)
    };
    checker.check_archives(&targets, all)?;
    Ok(checker.finish()?)
}
