//! A small pool of reader threads that keeps several segment reads in
//! flight for `get_many`, started on first use and reused for every batch.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use crate::error::{Id, RepositoryError, Result};
use crate::segment::read_put;
use crate::store::Store;

/// One read: its position in the batch, where the object is, its id, and
/// where to send the result.
type Job = (usize, u32, u64, Id, Sender<(usize, Result<Vec<u8>>)>);

/// Reader threads sharing one job queue.
pub(crate) struct ReadPool {
    jobs: Sender<Job>,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadPool")
    }
}

impl ReadPool {
    /// Start `threads` readers on `store`. They exit when the pool is dropped.
    pub(crate) fn new(store: Arc<dyn Store>, per_dir: u32, threads: usize) -> Self {
        let (jobs, rx) = channel::<Job>();
        let rx: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::new(rx));
        for _ in 0..threads {
            let (rx, store) = (rx.clone(), store.clone());
            std::thread::spawn(move || loop {
                let job = match rx.lock() {
                    Ok(guard) => guard.recv(),
                    Err(_) => return,
                };
                let Ok((i, seg, off, id, reply)) = job else {
                    return;
                };
                let _ = reply.send((i, read_put(store.as_ref(), per_dir, seg, off, &id)));
            });
        }
        ReadPool { jobs }
    }

    /// Read every `(segment, offset, id)`, concurrently, returning results in
    /// request order; the first error in that order wins.
    pub(crate) fn read_all(&self, locs: &[(u32, u64, Id)]) -> Result<Vec<Vec<u8>>> {
        let (reply, results) = channel();
        for (i, &(seg, off, id)) in locs.iter().enumerate() {
            self.jobs
                .send((i, seg, off, id, reply.clone()))
                .map_err(|_| {
                    RepositoryError::IntegrityOther("repository reader threads stopped".into())
                })?;
        }
        drop(reply);
        let mut out: Vec<Option<Result<Vec<u8>>>> = (0..locs.len()).map(|_| None).collect();
        for (i, r) in results.iter() {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(r);
            }
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(RepositoryError::IntegrityOther(
                        "a repository read was lost".into(),
                    ))
                })
            })
            .collect()
    }
}
