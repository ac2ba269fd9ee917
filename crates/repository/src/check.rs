//! `borg check --repository-only`: read every committed segment with CRC
//! verification, rebuild the index from them, and compare or (with
//! `--repair`) replace.

use std::time::{Duration, Instant};

use crate::error::{RepositoryError, Result};
use crate::local::LocalRepository;
use crate::segment::{self, list_segments};

pub(crate) fn check(
    repo: &mut LocalRepository,
    repair: bool,
    max_duration: Option<Duration>,
) -> Result<bool> {
    if repair && repo.is_append_only() {
        return Err(RepositoryError::AppendOnly {
            path: repo.path().to_path_buf(),
        });
    }
    let partial = max_duration.is_some_and(|d| !d.is_zero());
    if repair && partial {
        return Err(RepositoryError::IntegrityOther(
            "--repair does not work with --max-duration".into(),
        ));
    }
    let rep = repo.reporter.clone();
    rep.info("Starting repository check");
    let mut errors = false;

    // The transaction to check, and the index to compare against.
    let (tid, current_index) = match repo.current_transaction_and_index() {
        Ok((t, i)) => (t, i),
        Err(_) => (repo.segments_transaction_id().ok().flatten(), None),
    };
    let tid = match tid {
        Some(t) => Some(t),
        None => repo
            .index_transaction_id()?
            .or(list_segments(repo.store.as_ref())?.last().map(|(n, _)| *n)),
    };
    let Some(tid) = tid else {
        rep.error("This repository contains no valid data.");
        return Ok(false);
    };
    if repair {
        repo.cleanup(Some(tid))?;
    }
    repo.reset_txn_state()?;

    let start_after = if partial {
        repo.config()
            .get("last_segment_checked")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(-1)
    } else {
        if repo.config().get("last_segment_checked").is_some() {
            repo.delete_config("last_segment_checked")?;
        }
        -1
    };
    let started = Instant::now();
    let segs: Vec<(u32, String)> = list_segments(repo.store.as_ref())?
        .into_iter()
        .filter(|(n, _)| *n <= tid && i64::from(*n) > start_after)
        .collect();
    let total = segs.len() as u64;
    let mut stopped_early = false;
    // borg names the last segment file it iterated (also one it skipped).
    let last_segment = list_segments(repo.store.as_ref())?.last().map(|(n, _)| *n);
    for (i, (n, name)) in segs.into_iter().enumerate() {
        rep.progress("repository.check", i as u64, total);
        if partial && max_duration.is_some_and(|d| started.elapsed() > d) {
            repo.set_config("last_segment_checked", &n.saturating_sub(1).to_string())?;
            rep.info(&format!(
                "Finished partial segment check, last segment checked is {}",
                n.saturating_sub(1)
            ));
            stopped_early = true;
            break;
        }
        let mut bytes = repo.store.read(&name)?.unwrap_or_default();
        if let Err(e) = segment::parse_segment(&bytes, n, false) {
            errors = true;
            rep.error(&e.to_string());
            if !repair {
                continue;
            }
            rep.warning(&format!(
                "attempting to recover {}",
                repo.store.path_of(&name).display()
            ));
            bytes = segment::recover(&bytes);
            repo.store.write_atomic(&name, &bytes)?;
        }
        if !partial {
            if let Err(e) = repo.update_index(n, &bytes) {
                errors = true;
                rep.error(&format!("Error updating index for segment {n}: {e}"));
            }
        }
    }
    if partial {
        if !stopped_early {
            if repo.config().get("last_segment_checked").is_some() {
                repo.delete_config("last_segment_checked")?;
            }
            rep.info(&format!("Finished segment check at segment {tid}"));
        }
        repo.rollback_txn();
        return Ok(!errors);
    }

    if let Some(last) = last_segment {
        rep.info(&format!("finished segment check at segment {last}"));
    }
    if repair && repo.segments_transaction_id()?.is_none() {
        errors = true;
        rep.error(&format!("Adding commit tag to segment {tid}"));
        // Nothing committed at all: commit what was recovered.
        let seg = repo.writer.write_commit(repo.store.as_ref(), false)?;
        repo.segments.insert(seg, 0);
        repo.compact.insert(seg, segment::HEADER_SIZE as u64);
    }
    rep.info("Starting repository index check");
    if !repair {
        if let Some(cur) = current_index {
            let rebuilt = repo.index.as_ref().map(|i| i.entries()).unwrap_or_default();
            if rebuilt.len() != cur.len() {
                errors = true;
                rep.error("Index object count mismatch.");
                rep.error(&format!("committed index: {} objects", cur.len()));
                rep.error(&format!("rebuilt index:   {} objects", rebuilt.len()));
            } else {
                rep.info("Index object count match.");
            }
            let show = |v: Option<(u32, u32)>| match v {
                Some((s, o)) => format!("({s}, {o})"),
                None => "<not found>".to_string(),
            };
            let mut line =
                |id: &[u8; 32], rebuilt: Option<(u32, u32)>, committed: Option<(u32, u32)>| {
                    errors = true;
                    rep.error(&format!(
                        "ID: {:<64} rebuilt index: {:<16} committed index: {:<16}",
                        hex::encode(id),
                        show(rebuilt),
                        show(committed)
                    ));
                };
            for (id, s, o) in &rebuilt {
                let committed = cur.get(id);
                if committed != Some((*s, *o)) {
                    line(id, Some((*s, *o)), committed);
                }
            }
            for (id, s, o) in cur.entries() {
                if repo.index.as_ref().and_then(|i| i.get(&id)).is_none() {
                    line(&id, None, Some((s, o)));
                }
            }
        }
    } else {
        let t = repo.segments_transaction_id()?.unwrap_or(tid);
        repo.write_index(t)?;
    }
    repo.rollback_txn();
    if errors && repair {
        rep.info("Finished full repository check, errors found and repaired.");
    } else if errors {
        rep.error("Finished full repository check, errors found.");
    } else {
        rep.info("Finished full repository check, no problems found.");
    }
    Ok(!errors || repair)
}
