//! borg's file-integrity scheme (`IntegrityCheckedFile` with XXH64).
//!
//! One streaming XXH64 (seed 0) per file, never reset, is fed with:
//! 1. the logical file name (basename): `"%10d" % len(name)`, then the name;
//! 2. every content byte, in order;
//! 3. at each *part* `P` (e.g. `HashHeader` after an index header):
//!    `"%10d" % len(P)`, `P`, then the current position in decimal, and the
//!    hex digest at that point is recorded as `digests[P]`;
//! 4. at the end the part `final` with the total file length.
//!
//! Digests are the big-endian (canonical) XXH64 as 16 lowercase hex digits,
//! stored as `json.dumps({"algorithm": "XXH64", "digests": {...}})`.

use std::io::{self, Read, Write};

use xxhash_rust::xxh64::Xxh64;

use crate::error::HashIndexError;
use oxiborg_pyjson::{dump_str, parse, Value};

/// The only algorithm borg 1.x writes.
pub const ALGORITHM: &str = "XXH64";

/// Recorded part digests, in the order the parts were first recorded
/// (Python dict order): `(part name, 16 hex digits)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Digests(pub Vec<(String, String)>);

impl Digests {
    /// The digest recorded for `part`.
    pub fn get(&self, part: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name == part)
            .map(|(_, d)| d.as_str())
    }

    /// Record `digest` for `part` like a Python dict assignment: a new part
    /// is appended, an existing one keeps its position and gets the new value.
    pub fn record(&mut self, part: &str, digest: String) {
        if let Some(slot) = self.0.iter_mut().find(|(name, _)| name == part) {
            slot.1 = digest;
        } else {
            self.0.push((part.to_string(), digest));
        }
    }

    /// The integrity data exactly as borg stores it:
    /// `{"algorithm": "XXH64", "digests": {"HashHeader": "…", "final": "…"}}`
    /// (Python `json.dumps` with its default separators and `ensure_ascii`).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64 + self.0.len() * 40);
        out.push_str("{\"algorithm\": \"XXH64\", \"digests\": {");
        for (i, (name, digest)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            dump_str(name, &mut out);
            out.push_str(": ");
            dump_str(digest, &mut out);
        }
        out.push_str("}}");
        out
    }

    /// Parse integrity data as borg's `parse_integrity_data` does.
    ///
    /// # Errors
    /// [`HashIndexError::UnsupportedAlgorithm`] when `algorithm` is not
    /// `XXH64` (checked first: borg then only warns and does not verify;
    /// borg could also verify `SHA512`, which no borg version writes);
    /// [`HashIndexError::InvalidJson`] when the text is not JSON, not an
    /// object, or lacks `algorithm`, `digests` or `digests["final"]`, or a
    /// digest is not a string (borg: `FileIntegrityError`).
    pub fn from_json(text: &str) -> Result<Self, HashIndexError> {
        let v = parse(text).map_err(|e| HashIndexError::InvalidJson(format!("{e:?}")))?;
        if !matches!(v, Value::Object(_)) {
            return Err(HashIndexError::InvalidJson(
                "integrity data is not a JSON object".into(),
            ));
        }
        let algorithm = v
            .member("algorithm")
            .ok_or_else(|| HashIndexError::InvalidJson("missing 'algorithm'".into()))?;
        match algorithm {
            Value::Str(a) if a == ALGORITHM => {}
            Value::Str(a) => return Err(HashIndexError::UnsupportedAlgorithm(a.clone())),
            Value::Array(_) | Value::Object(_) => {
                return Err(HashIndexError::InvalidJson(
                    "'algorithm' is not hashable".into(),
                ))
            }
            other => return Err(HashIndexError::UnsupportedAlgorithm(format!("{other:?}"))),
        }
        let members = match v.member("digests") {
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Err(HashIndexError::InvalidJson(
                    "'digests' is not an object".into(),
                ))
            }
            None => return Err(HashIndexError::InvalidJson("missing 'digests'".into())),
        };
        let mut digests = Digests::default();
        for (name, value) in members {
            match value {
                Value::Str(d) => digests.0.push((name.clone(), d.clone())),
                _ => {
                    return Err(HashIndexError::InvalidJson(format!(
                        "digest of part {name:?} is not a string"
                    )))
                }
            }
        }
        if digests.get("final").is_none() {
            return Err(HashIndexError::InvalidJson("missing 'final' digest".into()));
        }
        Ok(digests)
    }
}

/// `os.path.basename` (POSIX): the part after the last `/`.
fn basename(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The streaming hash of one integrity-checked file.
#[derive(Clone)]
pub struct IntegrityHasher {
    name: String,
    state: Xxh64,
    digests: Digests,
}

impl std::fmt::Debug for IntegrityHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrityHasher")
            .field("name", &self.name)
            .field("digests", &self.digests)
            .finish_non_exhaustive()
    }
}

impl IntegrityHasher {
    /// Start hashing a file whose logical name is `logical_name` (only its
    /// basename counts, e.g. `index.5`, `chunks`, `<hex>.compact`).
    pub fn new(logical_name: &str) -> Self {
        let name = basename(logical_name);
        let mut h = Self {
            name: name.to_string(),
            state: Xxh64::new(0),
            digests: Digests::default(),
        };
        h.feed_name(name);
        h
    }

    /// The logical name (basename) being hashed.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `"%10d" % len(name)` (length in characters, as Python counts) + name.
    fn feed_name(&mut self, name: &str) {
        let len = format!("{:>10}", name.chars().count());
        self.state.update(len.as_bytes());
        self.state.update(name.as_bytes());
    }

    /// Feed file content.
    pub fn update(&mut self, data: &[u8]) {
        self.state.update(data);
    }

    /// Feed the part marker and return the digest at that point.
    fn part_digest(&mut self, part: &str, position: u64) -> String {
        self.feed_name(part);
        self.state.update(position.to_string().as_bytes());
        hex16(self.state.digest())
    }

    /// Declare part `part` at file position `position` (the number of
    /// content bytes so far), record its digest and return it.
    pub fn hash_part(&mut self, part: &str, position: u64) -> String {
        let d = self.part_digest(part, position);
        self.digests.record(part, d.clone());
        d
    }

    /// Declare part `part` at `position` and compare with `expected`
    /// (a part missing from `expected` is a mismatch, as in borg).
    ///
    /// # Errors
    /// [`HashIndexError::IntegrityMismatch`] on mismatch.
    pub fn check_part(
        &mut self,
        expected: &Digests,
        part: &str,
        position: u64,
    ) -> Result<(), HashIndexError> {
        let d = self.hash_part(part, position);
        if expected.get(part) == Some(d.as_str()) {
            Ok(())
        } else {
            Err(HashIndexError::IntegrityMismatch {
                name: self.name.clone(),
                part: part.to_string(),
            })
        }
    }

    /// The digests recorded so far.
    pub fn digests(&self) -> &Digests {
        &self.digests
    }

    /// Declare the `final` part with the total file length and return all
    /// recorded digests.
    pub fn finalize(mut self, total_len: u64) -> Digests {
        self.hash_part("final", total_len);
        self.digests
    }
}

fn hex16(v: u64) -> String {
    format!("{v:016x}")
}

/// Check `data` (a whole file) against `expected`: parts are declared at the
/// given positions (non-decreasing, within the data), then `final`.
///
/// # Errors
/// [`HashIndexError::IntegrityMismatch`] for the first part whose digest
/// differs or is missing from `expected` (including `final`), or whose
/// position is out of order or beyond the data.
pub fn verify(
    data: &[u8],
    logical_name: &str,
    expected: &Digests,
    parts: &[(&str, usize)],
) -> Result<(), HashIndexError> {
    let mut h = IntegrityHasher::new(logical_name);
    let mut pos = 0usize;
    for &(part, at) in parts {
        let chunk = data
            .get(pos..at)
            .ok_or_else(|| HashIndexError::IntegrityMismatch {
                name: h.name.clone(),
                part: part.to_string(),
            })?;
        h.update(chunk);
        pos = at;
        h.check_part(expected, part, at as u64)?;
    }
    h.update(&data[pos..]);
    h.check_part(expected, "final", data.len() as u64)
}

/// A writer that hashes everything written through it (borg's
/// `IntegrityCheckedFile(write=True)`).
#[derive(Debug)]
pub struct IntegrityWriter<W: Write> {
    inner: W,
    hasher: IntegrityHasher,
    pos: u64,
}

impl<W: Write> IntegrityWriter<W> {
    /// Wrap `inner`, which must be positioned at the start of the file.
    pub fn new(inner: W, logical_name: &str) -> Self {
        Self {
            inner,
            hasher: IntegrityHasher::new(logical_name),
            pos: 0,
        }
    }

    /// Declare part `part` at the current position; returns its digest.
    pub fn hash_part(&mut self, part: &str) -> String {
        self.hasher.hash_part(part, self.pos)
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Flush, declare `final` and return the inner writer and the digests.
    ///
    /// # Errors
    /// The flush error of the inner writer.
    pub fn finish(mut self) -> io::Result<(W, Digests)> {
        self.inner.flush()?;
        let digests = self.hasher.finalize(self.pos);
        Ok((self.inner, digests))
    }
}

impl<W: Write> Write for IntegrityWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        self.hasher.update(written);
        self.pos += written.len() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes everything read through it and checks parts
/// against expected digests (borg's `IntegrityCheckedFile(write=False)`).
#[derive(Debug)]
pub struct IntegrityReader<R: Read> {
    inner: R,
    hasher: IntegrityHasher,
    expected: Digests,
    pos: u64,
}

impl<R: Read> IntegrityReader<R> {
    /// Wrap `inner` (positioned at the start of the file).
    pub fn new(inner: R, logical_name: &str, expected: Digests) -> Self {
        Self {
            inner,
            hasher: IntegrityHasher::new(logical_name),
            expected,
            pos: 0,
        }
    }

    /// Check part `part` at the current position.
    ///
    /// # Errors
    /// [`HashIndexError::IntegrityMismatch`] on mismatch.
    pub fn hash_part(&mut self, part: &str) -> Result<(), HashIndexError> {
        self.hasher.check_part(&self.expected, part, self.pos)
    }

    /// Check `final`, taking the bytes read so far as the file length (read
    /// the file to its end first; borg hashes the length of the whole file).
    ///
    /// # Errors
    /// [`HashIndexError::IntegrityMismatch`] on mismatch.
    pub fn finish(mut self) -> Result<R, HashIndexError> {
        self.hasher
            .check_part(&self.expected, "final", self.pos)
            .map(|()| self.inner)
    }
}

impl<R: Read> Read for IntegrityReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = buf.get(..n).unwrap_or(buf);
        self.hasher.update(got);
        self.pos += got.len() as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_example_shape() {
        let mut h = IntegrityHasher::new("/some/dir/hints.5");
        h.update(b"abc");
        let d = h.finalize(3);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].0, "final");
        assert_eq!(d.0[0].1.len(), 16);
        let json = d.to_json();
        assert!(json.starts_with("{\"algorithm\": \"XXH64\", \"digests\": {\"final\": \""));
        assert_eq!(Digests::from_json(&json).unwrap(), d);
        verify(b"abc", "hints.5", &d, &[]).unwrap();
        assert!(verify(b"abd", "hints.5", &d, &[]).is_err());
        assert!(verify(b"abc", "hints.6", &d, &[]).is_err());
    }

    #[test]
    fn manual_stream_matches_definition() {
        let mut x = Xxh64::new(0);
        x.update(b"         7index.5");
        x.update(b"0123456789");
        x.update(b"        10HashHeader10");
        let part = x.digest();
        x.update(b"XYZ");
        x.update(b"         5final13");
        let fin = x.digest();
        let mut h = IntegrityHasher::new("index.5");
        h.update(b"0123456789");
        h.hash_part("HashHeader", 10);
        h.update(b"XYZ");
        let d = h.finalize(13);
        assert_eq!(d.get("HashHeader"), Some(hex16(part).as_str()));
        assert_eq!(d.get("final"), Some(hex16(fin).as_str()));
        verify(b"0123456789XYZ", "index.5", &d, &[("HashHeader", 10)]).unwrap();
        assert!(verify(b"0123456789XYZ", "index.5", &d, &[("HashHeader", 9)]).is_err());
        assert!(verify(b"0123456789XYZ", "index.5", &d, &[("HashHeader", 99)]).is_err());
        // Missing final.
        let mut no_final = d.clone();
        no_final.0.retain(|(n, _)| n != "final");
        assert!(verify(
            b"0123456789XYZ",
            "index.5",
            &no_final,
            &[("HashHeader", 10)]
        )
        .is_err());
    }

    #[test]
    fn writer_and_reader_agree() {
        let mut w = IntegrityWriter::new(Vec::new(), "files");
        w.write_all(b"hello ").unwrap();
        w.hash_part("mid");
        w.write_all(b"world").unwrap();
        let (bytes, d) = w.finish().unwrap();
        assert_eq!(
            d.0.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ["mid", "final"]
        );
        let mut r = IntegrityReader::new(&bytes[..], "files", d.clone());
        let mut buf = [0u8; 6];
        r.read_exact(&mut buf).unwrap();
        r.hash_part("mid").unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        r.finish().unwrap();
        let mut r = IntegrityReader::new(&b"hello_world"[..], "files", d);
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert!(r.finish().is_err());
    }

    #[test]
    fn from_json_errors() {
        assert!(matches!(
            Digests::from_json(r#"{"algorithm": "SHA512", "digests": {"final": "00"}}"#),
            Err(HashIndexError::UnsupportedAlgorithm(a)) if a == "SHA512"
        ));
        assert!(matches!(
            Digests::from_json(r#"{"algorithm": "foo"}"#),
            Err(HashIndexError::UnsupportedAlgorithm(_))
        ));
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"algorithm": "XXH64"}"#,
            r#"{"algorithm": "XXH64", "digests": []}"#,
            r#"{"algorithm": "XXH64", "digests": {"HashHeader": "00"}}"#,
            r#"{"algorithm": "XXH64", "digests": {"final": 1}}"#,
            r#"{"algorithm": ["XXH64"], "digests": {"final": "1"}}"#,
        ] {
            assert!(
                matches!(Digests::from_json(bad), Err(HashIndexError::InvalidJson(_))),
                "{bad}"
            );
        }
        let d = Digests::from_json(
            " {\"digests\": {\"final\": \"ab\", \"x\": \"cd\"}, \"algorithm\": \"XXH64\", \"extra\": 1}\n",
        )
        .unwrap();
        assert_eq!(
            d.0,
            vec![("final".into(), "ab".into()), ("x".into(), "cd".into())]
        );
    }

    #[test]
    fn record_keeps_dict_order() {
        let mut d = Digests::default();
        d.record("a", "1".into());
        d.record("b", "2".into());
        d.record("a", "3".into());
        assert_eq!(
            d.to_json(),
            r#"{"algorithm": "XXH64", "digests": {"a": "3", "b": "2"}}"#
        );
    }
}
