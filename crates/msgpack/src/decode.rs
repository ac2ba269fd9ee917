//! A hardened reader: bounded nesting, no allocation beyond what the input
//! can justify, and a distinct error for "more bytes needed" so item streams
//! split across chunks can be read incrementally.

use crate::Value;

/// Maximum nesting of arrays and maps. borg's deepest structure (archive
/// metadata with its TAM) nests three levels; 64 leaves ample room.
pub const MAX_DEPTH: usize = 64;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside a value; more bytes may complete it.
    #[error("msgpack data truncated at offset {offset}")]
    Incomplete {
        /// Offset where the truncated value started.
        offset: usize,
    },
    /// A byte that starts no value borg can use (ext types, reserved 0xc1).
    #[error("invalid msgpack type byte 0x{byte:02x} at offset {offset}")]
    InvalidType {
        /// The offending byte.
        byte: u8,
        /// Where it was found.
        offset: usize,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("msgpack nesting deeper than {MAX_DEPTH} at offset {offset}")]
    TooDeep {
        /// Where the limit was hit.
        offset: usize,
    },
    /// Bytes left over after a value that should have been the whole input.
    #[error("{extra} trailing bytes after msgpack value")]
    TrailingBytes {
        /// How many bytes were left.
        extra: usize,
    },
}

/// Reads consecutive values from a byte slice.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// Read from `buf`, starting at its first byte.
    pub fn new(buf: &'a [u8]) -> Self {
        Decoder { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// The next value, or `None` at the exact end of the input. On
    /// [`DecodeError::Incomplete`] the position is left at the start of the
    /// partial value, so the caller can append bytes and retry.
    pub fn next_value(&mut self) -> Result<Option<Value>, DecodeError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let start = self.pos;
        match self.value(0) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                self.pos = start;
                Err(match e {
                    DecodeError::Incomplete { .. } => DecodeError::Incomplete { offset: start },
                    other => other,
                })
            }
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(DecodeError::Incomplete { offset: self.pos }),
        }
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn raw(&mut self, n: usize) -> Result<Value, DecodeError> {
        Ok(Value::Raw(self.take(n)?.to_vec()))
    }

    /// A container length is plausible only if the remaining input could hold
    /// that many one-byte elements; otherwise the input is truncated (or
    /// hostile) and we must not allocate for it.
    fn check_count(&self, n: usize, per_elem: usize) -> Result<(), DecodeError> {
        let need = n.saturating_mul(per_elem);
        if need > self.buf.len() - self.pos {
            Err(DecodeError::Incomplete { offset: self.pos })
        } else {
            Ok(())
        }
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Value, DecodeError> {
        self.check_count(n, 1)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(v))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value, DecodeError> {
        self.check_count(n, 2)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.value(depth + 1)?;
            let val = self.value(depth + 1)?;
            v.push((k, val));
        }
        Ok(Value::Map(v))
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep { offset: self.pos });
        }
        let at = self.pos;
        let b = self.take(1)?[0];
        Ok(match b {
            0x00..=0x7f => Value::Int(i128::from(b)),
            0x80..=0x8f => return self.map(usize::from(b & 0x0f), depth),
            0x90..=0x9f => return self.array(usize::from(b & 0x0f), depth),
            0xa0..=0xbf => return self.raw(usize::from(b & 0x1f)),
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 | 0xd9 => {
                let n = self.be(1)? as usize;
                return self.raw(n);
            }
            0xc5 | 0xda => {
                let n = self.be(2)? as usize;
                return self.raw(n);
            }
            0xc6 | 0xdb => {
                let n = self.be(4)? as usize;
                return self.raw(n);
            }
            0xca => Value::Float(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => Value::Float(f64::from_bits(self.be(8)?)),
            0xcc => Value::Int(i128::from(self.be(1)?)),
            0xcd => Value::Int(i128::from(self.be(2)?)),
            0xce => Value::Int(i128::from(self.be(4)?)),
            0xcf => Value::Int(i128::from(self.be(8)?)),
            0xd0 => Value::Int(i128::from(self.be(1)? as u8 as i8)),
            0xd1 => Value::Int(i128::from(self.be(2)? as u16 as i16)),
            0xd2 => Value::Int(i128::from(self.be(4)? as u32 as i32)),
            0xd3 => Value::Int(i128::from(self.be(8)? as i64)),
            0xdc => {
                let n = self.be(2)? as usize;
                return self.array(n, depth);
            }
            0xdd => {
                let n = self.be(4)? as usize;
                return self.array(n, depth);
            }
            0xde => {
                let n = self.be(2)? as usize;
                return self.map(n, depth);
            }
            0xdf => {
                let n = self.be(4)? as usize;
                return self.map(n, depth);
            }
            0xe0..=0xff => Value::Int(i128::from(b as i8)),
            // 0xc1 (never used) and the ext family 0xc7-0xc9, 0xd4-0xd8:
            // borg never writes them and its C parser rejects them.
            _ => {
                return Err(DecodeError::InvalidType {
                    byte: b,
                    offset: at,
                })
            }
        })
    }
}

/// Decode exactly one value that must span the whole of `buf`.
pub fn decode_one(buf: &[u8]) -> Result<Value, DecodeError> {
    let mut d = Decoder::new(buf);
    match d.next_value()? {
        None => Err(DecodeError::Incomplete { offset: 0 }),
        Some(v) if d.remaining().is_empty() => Ok(v),
        Some(_) => Err(DecodeError::TrailingBytes {
            extra: d.remaining().len(),
        }),
    }
}

/// Decode the first value of `buf`, returning it and the number of bytes it
/// used. [`DecodeError::Incomplete`] means `buf` holds only a prefix.
pub fn decode_stream_item(buf: &[u8]) -> Result<(Value, usize), DecodeError> {
    let mut d = Decoder::new(buf);
    match d.next_value()? {
        None => Err(DecodeError::Incomplete { offset: 0 }),
        Some(v) => Ok((v, d.position())),
    }
}
