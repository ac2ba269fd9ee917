//! The borg-exact writer.

use crate::Value;

/// Appends borg-style msgpack to a byte vector. Low-level calls let hot paths
/// (item streams) write without building a [`Value`] tree.
#[derive(Debug)]
pub struct Encoder<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Encoder<'a> {
    /// Write into `out`, appending.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Encoder { out }
    }

    /// `nil`.
    pub fn nil(&mut self) {
        self.out.push(0xc0);
    }

    /// `true`/`false`.
    pub fn bool(&mut self, b: bool) {
        self.out.push(if b { 0xc3 } else { 0xc2 });
    }

    /// A non-negative integer in its smallest form.
    pub fn uint(&mut self, v: u64) {
        if v < 0x80 {
            self.out.push(v as u8);
        } else if v <= 0xff {
            self.out.extend_from_slice(&[0xcc, v as u8]);
        } else if v <= 0xffff {
            self.out.push(0xcd);
            self.out.extend_from_slice(&(v as u16).to_be_bytes());
        } else if v <= 0xffff_ffff {
            self.out.push(0xce);
            self.out.extend_from_slice(&(v as u32).to_be_bytes());
        } else {
            self.out.push(0xcf);
            self.out.extend_from_slice(&v.to_be_bytes());
        }
    }

    /// A signed integer in its smallest form (non-negative values use the
    /// unsigned family, as msgpack-python does).
    pub fn int(&mut self, v: i64) {
        if v >= 0 {
            self.uint(v as u64);
        } else if v >= -32 {
            self.out.push(v as i8 as u8);
        } else if v >= i64::from(i8::MIN) {
            self.out.extend_from_slice(&[0xd0, v as i8 as u8]);
        } else if v >= i64::from(i16::MIN) {
            self.out.push(0xd1);
            self.out.extend_from_slice(&(v as i16).to_be_bytes());
        } else if v >= i64::from(i32::MIN) {
            self.out.push(0xd2);
            self.out.extend_from_slice(&(v as i32).to_be_bytes());
        } else {
            self.out.push(0xd3);
            self.out.extend_from_slice(&v.to_be_bytes());
        }
    }

    /// The header of a raw of `len` bytes: fixraw, raw16 or raw32 (never str8).
    ///
    /// Lengths above `u32::MAX` cannot be represented; callers never produce
    /// them (borg objects are far smaller), and such a length is clamped to a
    /// raw32 header, which a reader will reject as truncated.
    pub fn raw_header(&mut self, len: usize) {
        if len < 32 {
            self.out.push(0xa0 | len as u8);
        } else if len <= 0xffff {
            self.out.push(0xda);
            self.out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            self.out.push(0xdb);
            let l = u32::try_from(len).unwrap_or(u32::MAX);
            self.out.extend_from_slice(&l.to_be_bytes());
        }
    }

    /// A raw string.
    pub fn raw(&mut self, b: &[u8]) {
        self.raw_header(b.len());
        self.out.extend_from_slice(b);
    }

    /// An array header for `n` elements.
    pub fn array_header(&mut self, n: usize) {
        self.container_header(n, 0x90, 0xdc, 0xdd);
    }

    /// A map header for `n` entries.
    pub fn map_header(&mut self, n: usize) {
        self.container_header(n, 0x80, 0xde, 0xdf);
    }

    fn container_header(&mut self, n: usize, fix: u8, c16: u8, c32: u8) {
        if n < 16 {
            self.out.push(fix | n as u8);
        } else if n <= 0xffff {
            self.out.push(c16);
            self.out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.out.push(c32);
            let l = u32::try_from(n).unwrap_or(u32::MAX);
            self.out.extend_from_slice(&l.to_be_bytes());
        }
    }

    /// A float64 (borg's formats never contain one; kept for round trips).
    pub fn float(&mut self, f: f64) {
        self.out.push(0xcb);
        self.out.extend_from_slice(&f.to_bits().to_be_bytes());
    }

    /// Any value, maps in their stored order.
    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Nil => self.nil(),
            Value::Bool(b) => self.bool(*b),
            Value::Int(i) => {
                if let Ok(u) = u64::try_from(*i) {
                    self.uint(u)
                } else if let Ok(s) = i64::try_from(*i) {
                    self.int(s)
                } else {
                    // Outside msgpack's range: clamp rather than panic. Values
                    // built by oxiborg never get here.
                    self.int(i64::MIN)
                }
            }
            Value::Float(f) => self.float(*f),
            Value::Raw(b) => self.raw(b),
            Value::Array(a) => {
                self.array_header(a.len());
                for e in a {
                    self.value(e);
                }
            }
            Value::Map(m) => {
                self.map_header(m.len());
                for (k, v) in m {
                    self.value(k);
                    self.value(v);
                }
            }
        }
    }
}

/// Encode one value into a new vector.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(v, &mut out);
    out
}

/// Append the encoding of `v` to `out`.
pub fn encode_into(v: &Value, out: &mut Vec<u8>) {
    Encoder::new(out).value(v);
}
