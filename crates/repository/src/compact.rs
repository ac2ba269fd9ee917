//! Compaction (borg 1.2+): rewrite the live entries of sparse segments into
//! new ones, commit, and only then delete the old segments.

use crate::error::{Id, Result};
use crate::local::LocalRepository;
use crate::segment::{self, segment_name, Tag, HEADER_SIZE, PUT_HEADER_SIZE};

impl LocalRepository {
    /// `--cleanup-commits`: mark every 17-byte commit-only segment as fully
    /// freeable.
    pub(crate) fn cleanup_commits(&mut self) -> Result<()> {
        for (n, name) in segment::list_segments(self.store.as_ref())? {
            if self.store.size(&name)? == Some(17) {
                self.segments.insert(n, 0);
                self.compact.insert(n, HEADER_SIZE as u64);
            }
        }
        Ok(())
    }

    /// Commit what was moved so far and delete the segments it emptied.
    fn complete_xfer(&mut self, intermediate: bool, unused: &mut Vec<u32>) -> Result<u32> {
        let seg = self
            .writer
            .write_commit(self.store.as_ref(), intermediate)?;
        self.segments.entry(seg).or_insert(0);
        *self.compact.entry(seg).or_insert(0) += HEADER_SIZE as u64;
        for s in unused.drain(..) {
            self.store.delete(&segment_name(s, self.per_dir()))?;
            self.compact.remove(&s);
            self.segments.remove(&s);
        }
        Ok(seg)
    }

    fn before_write(&mut self, id: &Id, unused: &mut Vec<u32>) -> Result<()> {
        if self.writer.would_roll(id) {
            self.complete_xfer(true, unused)?;
        }
        Ok(())
    }

    /// borg's `compact_segments`. Returns the final commit segment when
    /// anything was done.
    pub(crate) fn compact_segments(&mut self, threshold: f64) -> Result<Option<u32>> {
        if self.compact.is_empty() {
            return Ok(None);
        }
        let index_tid = self.index_transaction_id()?;
        let quota_before = self.storage_quota_use;
        let mut unused: Vec<u32> = Vec::new();
        let candidates: Vec<(u32, u64)> = self.compact.iter().map(|(&s, &f)| (s, f)).collect();
        for (seg, freeable) in candidates {
            let name = segment_name(seg, self.per_dir());
            let Some(size) = self.store.size(&name)? else {
                self.reporter.warning(&format!(
                    "segment {seg} not found, but listed in compaction data"
                ));
                self.compact.remove(&seg);
                self.segments.remove(&seg);
                continue;
            };
            let ratio = if size == 0 {
                1.0
            } else {
                freeable as f64 / size as f64
            };
            if ratio <= threshold {
                continue;
            }
            let bytes = self.store.read(&name)?.unwrap_or_default();
            let entries = segment::parse_segment(&bytes, seg, true)?;
            for e in entries {
                match e.tag {
                    Tag::Commit => {}
                    Tag::Put => {
                        let data = e.data.unwrap_or_default();
                        let current = self.index.as_ref().and_then(|i| i.get(&e.id))
                            == Some((seg, e.offset as u32));
                        if current {
                            self.before_write(&e.id, &mut unused)?;
                            let (ns, no) =
                                self.writer.write_put(self.store.as_ref(), &e.id, &data)?;
                            let no = u32::try_from(no).map_err(|_| {
                                crate::RepositoryError::IntegrityOther(
                                    "segment offset exceeds 4 GiB".into(),
                                )
                            })?;
                            if let Some(i) = self.index.as_mut() {
                                i.insert(&e.id, ns, no)
                                    .map_err(crate::RepositoryError::IntegrityOther)?;
                            }
                            *self.segments.entry(ns).or_insert(0) += 1;
                            *self.segments.entry(seg).or_insert(0) -= 1;
                        } else {
                            if let Some(list) = self.shadow_index.get_mut(&e.id) {
                                list.retain(|&s| s != seg);
                            }
                            self.storage_quota_use = self
                                .storage_quota_use
                                .saturating_sub((data.len() + PUT_HEADER_SIZE) as u64);
                        }
                    }
                    Tag::Delete => {
                        if self.index.as_ref().is_some_and(|i| i.get(&e.id).is_some()) {
                            continue;
                        }
                        let keep = match self.shadow_index.get(&e.id) {
                            None => true,
                            Some(list) => list.iter().any(|&s| s < seg),
                        } || index_tid.is_none_or(|t| seg > t);
                        if keep {
                            self.before_write(&e.id, &mut unused)?;
                            let (ns, _) = self.writer.write_delete(self.store.as_ref(), &e.id)?;
                            self.segments.entry(ns).or_insert(0);
                            *self.compact.entry(ns).or_insert(0) += PUT_HEADER_SIZE as u64;
                        } else if self.shadow_index.get(&e.id).is_some_and(Vec::is_empty) {
                            self.shadow_index.remove(&e.id);
                        }
                    }
                }
            }
            if self.segments.get(&seg).copied().unwrap_or(0) != 0 {
                self.reporter.warning(&format!(
                    "Corrupted segment reference count - corrupted index or hints (segment {seg})"
                ));
            }
            unused.push(seg);
        }
        let tid = self.complete_xfer(false, &mut unused)?;
        self.clear_empty_dirs()?;
        let freed = quota_before.saturating_sub(self.storage_quota_use);
        self.reporter.info(&format!(
            "compaction freed about {} repository space.",
            crate::error::format_size(freed)
        ));
        Ok(Some(tid))
    }

    /// Remove empty `data/N` directories.
    fn clear_empty_dirs(&mut self) -> Result<()> {
        let current = self
            .writer
            .current_segment()
            .map(|s| (s / self.per_dir()).to_string());
        for dir in self.store.list("data")? {
            if Some(&dir) != current.as_ref() && dir.bytes().all(|b| b.is_ascii_digit()) {
                self.store.rmdir_if_empty(&format!("data/{dir}"))?;
            }
        }
        self.store.sync_dir("data")
    }
}
