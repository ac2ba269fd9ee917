//! The repository's use of `oxiborg-hashindex`: the `index.N` table and the
//! integrity digests of `index.N` and `hints.N`.

use oxiborg_hashindex::{Digests, IntegrityHasher, NsIndex};

use crate::error::Id;

/// The in-memory repository index: id -> (segment, offset).
#[derive(Debug, Default)]
pub struct Index(NsIndex);

impl Index {
    pub fn new() -> Self {
        Index(NsIndex::new())
    }

    pub fn get(&self, id: &Id) -> Option<(u32, u32)> {
        self.0.get(id)
    }

    pub fn insert(&mut self, id: &Id, seg: u32, off: u32) -> Result<(), String> {
        self.0
            .insert(id, (seg, off))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub fn remove(&mut self, id: &Id) -> Option<(u32, u32)> {
        self.0.remove(id)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn num_buckets(&self) -> usize {
        self.0.num_buckets()
    }

    /// Ids in table order, starting after `marker` when given.
    pub fn ids_after(&self, marker: Option<&Id>, limit: usize) -> Result<Vec<Id>, String> {
        match marker {
            None => Ok(self.0.iter().take(limit).map(|(k, _)| *k).collect()),
            Some(m) => Ok(self
                .0
                .iter_after(m)
                .map_err(|e| e.to_string())?
                .take(limit)
                .map(|(k, _)| *k)
                .collect()),
        }
    }

    /// Every entry, in table order.
    pub fn entries(&self) -> Vec<(Id, u32, u32)> {
        self.0.iter().map(|(k, (s, o))| (*k, s, o)).collect()
    }

    /// Serialize as `index.N` with borg's integrity digests (JSON text).
    pub fn serialize(&self, logical_name: &str) -> (Vec<u8>, String) {
        let (bytes, digests) = self.0.write_with_integrity(logical_name);
        (bytes, digests.to_json())
    }

    /// Parse `index.N`, verifying digests when `json` is given.
    pub fn parse(data: &[u8], logical_name: &str, json: Option<&str>) -> Result<Self, String> {
        let idx = match json {
            Some(j) => {
                let d = Digests::from_json(j).map_err(|e| e.to_string())?;
                NsIndex::read_from_verified(data, logical_name, &d).map_err(|e| e.to_string())?
            }
            None => NsIndex::read_from(data).map_err(|e| e.to_string())?,
        };
        Ok(Index(idx))
    }
}

/// The integrity JSON of a plain file such as `hints.N`.
pub fn file_digests_json(data: &[u8], logical_name: &str) -> String {
    let mut h = IntegrityHasher::new(logical_name);
    h.update(data);
    h.finalize(data.len() as u64).to_json()
}

/// Verify a plain file against its integrity JSON.
pub fn verify_file(data: &[u8], logical_name: &str, json: &str) -> Result<(), String> {
    let d = Digests::from_json(json).map_err(|e| e.to_string())?;
    oxiborg_hashindex::verify(data, logical_name, &d, &[]).map_err(|e| e.to_string())
}
