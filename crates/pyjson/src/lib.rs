//! Just enough of Python's `json` module to read and rewrite borg's JSON
//! byte-for-byte: the repository `lock.roster`, and the integrity digests of
//! index, hints and cache files.
//!
//! * [`parse`] accepts what `json.load` accepts (strict mode, plus `NaN`,
//!   `Infinity`, `-Infinity`), keeps object keys in file order and lets a
//!   duplicate key overwrite the value in the position of its first
//!   occurrence (Python `dict` semantics).
//! * [`dump`] writes what `json.dump(obj, f)` writes with default arguments:
//!   separators `", "` and `": "`, `ensure_ascii=True` (lower-case `\uXXXX`
//!   escapes, surrogate pairs above the BMP), Python `repr` for floats.

use std::fmt::Write as _;

/// A JSON value as Python's `json` module sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null` (`None`).
    Null,
    /// `true` / `false`; Python treats them as the ints 1 / 0.
    Bool(bool),
    /// An integer of any size, as normalized decimal text (`-0` becomes `0`).
    Int(String),
    /// A float (`NaN` and the infinities included).
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    Array(Vec<Value>),
    /// An object, keys in insertion order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value of `key` when this is an object. `parse` has already merged
    /// duplicate keys the way a Python dict does.
    pub fn member(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Why a document could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Python raises `ValueError` (`JSONDecodeError`, too many int digits).
    Invalid,
    /// Python would raise something else (`RecursionError`) or would accept
    /// the document with a value Rust strings cannot hold (lone surrogate).
    Unsupported(&'static str),
}

/// Python's default limit for int <-> decimal string conversion (3.11+).
const INT_MAX_STR_DIGITS: usize = 4300;
/// Nesting bound, in the order of Python's recursion limit.
const MAX_DEPTH: usize = 900;

/// Parse a complete document like `json.loads(s)`.
pub fn parse(s: &str) -> Result<Value, ParseError> {
    let mut p = Parser {
        s: s.as_bytes(),
        pos: 0,
        depth: 0,
    };
    // json.loads refuses a leading BOM ("Unexpected UTF-8 BOM").
    p.skip_ws();
    let v = p.value()?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(ParseError::Invalid); // "Extra data"
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'n') if self.eat("null") => Ok(Value::Null),
            Some(b't') if self.eat("true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(Value::Bool(false)),
            Some(b'N') if self.eat("NaN") => Ok(Value::Float(f64::NAN)),
            Some(b'I') if self.eat("Infinity") => Ok(Value::Float(f64::INFINITY)),
            Some(b'-') if self.eat("-Infinity") => Ok(Value::Float(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(ParseError::Invalid),
        }
    }

    fn nested(
        &mut self,
        f: fn(&mut Self) -> Result<Value, ParseError>,
    ) -> Result<Value, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::Unsupported("maximum recursion depth exceeded"));
        }
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        self.pos += 1; // '{'
        let mut pairs: Vec<(String, Value)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(pairs));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(ParseError::Invalid);
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(ParseError::Invalid);
            }
            self.pos += 1;
            self.skip_ws();
            let val = self.value()?;
            match pairs.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = val,
                None => pairs.push((key, val)),
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(pairs));
                }
                _ => return Err(ParseError::Invalid),
            }
        }
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(ParseError::Invalid),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, int unless a fraction or an
    /// exponent is present.
    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(ParseError::Invalid),
        }
        let int_end = self.pos;
        let mut is_float = false;
        // Python's scanner only takes the fraction / exponent when complete;
        // otherwise the number ends there (and the rest is "Extra data").
        if self.peek() == Some(b'.') && matches!(self.s.get(self.pos + 1), Some(b'0'..=b'9')) {
            self.pos += 1;
            self.digits();
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            let save = self.pos;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                self.pos = save;
            } else {
                is_float = true;
            }
        }
        let text =
            std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| ParseError::Invalid)?;
        if is_float {
            let f: f64 = text.parse().map_err(|_| ParseError::Invalid)?;
            return Ok(Value::Float(f));
        }
        let digits = &self.s[int_start..int_end];
        if digits.len() > INT_MAX_STR_DIGITS {
            return Err(ParseError::Invalid);
        }
        let digits = String::from_utf8_lossy(digits);
        if digits == "0" {
            Ok(Value::Int("0".into()))
        } else if negative {
            Ok(Value::Int(format!("-{digits}")))
        } else {
            Ok(Value::Int(digits.into_owned()))
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or(ParseError::Invalid)?;
        let mut v = 0u32;
        for &b in h {
            let d = (b as char).to_digit(16).ok_or(ParseError::Invalid)?;
            v = v * 16 + d;
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The input is a &str and we only stop at ASCII bytes, so this
            // slice is valid UTF-8.
            out.push_str(
                std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| ParseError::Invalid)?,
            );
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = self.peek().ok_or(ParseError::Invalid)?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut c = self.hex4()?;
                            if (0xd800..0xdc00).contains(&c)
                                && self.s[self.pos..].starts_with(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                                } else {
                                    self.pos = save;
                                }
                            }
                            out.push(char::from_u32(c).ok_or(ParseError::Unsupported(
                                "lone surrogate in a JSON string",
                            ))?);
                        }
                        _ => return Err(ParseError::Invalid),
                    }
                }
                // control character (strict mode) or end of input
                _ => return Err(ParseError::Invalid),
            }
        }
    }
}

/// Serialize like `json.dump(value, f)` with default arguments.
pub fn dump(v: &Value) -> String {
    let mut out = String::new();
    dump_into(v, &mut out);
    out
}

fn dump_into(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(s) => out.push_str(s),
        Value::Float(f) => out.push_str(&float_repr(*f)),
        Value::Str(s) => dump_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump_into(item, out);
            }
            out.push(']');
        }
        Value::Object(pairs) => {
            out.push('{');
            for (i, (k, val)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump_str(k, out);
                out.push_str(": ");
                dump_into(val, out);
            }
            out.push('}');
        }
    }
}

/// `json.encoder.encode_basestring_ascii`.
/// Append `s` as a JSON string literal, as `json.dumps` writes it
/// (`ensure_ascii`: lower-case `\uXXXX` escapes, surrogate pairs above the BMP).
pub fn dump_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `float.__repr__` (plus json's names for the non-finite values).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0.0");
    }
    // Shortest round-trip digits, e.g. "1.5e16" / "1e-5".
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let decpt = exp + 1; // value = 0.DIGITS * 10**decpt
    let n = digits.len() as i32;
    if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{esign}{:02}", exp.abs())
    } else if decpt <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (a, b) = digits.split_at(decpt as usize);
        format!("{sign}{a}.{b}")
    }
}

impl Value {
    /// The integer value of an int or bool as normalized decimal text
    /// (Python's `True == 1`), `None` for anything else.
    pub fn int_text(&self) -> Option<String> {
        match self {
            Value::Int(s) => Some(s.clone()),
            Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
            _ => None,
        }
    }

    /// Python's `iter(value)` for the JSON types: list items, a string's
    /// characters, a dict's keys; `None` where Python raises `TypeError`.
    pub fn py_iter(&self) -> Option<Vec<Value>> {
        match self {
            Value::Array(items) => Some(items.clone()),
            Value::Str(s) => Some(s.chars().map(|c| Value::Str(c.to_string())).collect()),
            Value::Object(pairs) => {
                Some(pairs.iter().map(|(k, _)| Value::Str(k.clone())).collect())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_python_style() {
        let cases = [
            (
                r#"{"exclusive": [["vm@1", 17002, 0]]}"#,
                r#"{"exclusive": [["vm@1", 17002, 0]]}"#,
            ),
            (
                r#"{"shared":[],"exclusive":[]}"#,
                r#"{"shared": [], "exclusive": []}"#,
            ),
            (
                " {\"a\" : 1 , \"a\": 2, \"b\": -0}\n",
                r#"{"a": 2, "b": 0}"#,
            ),
            (
                r#"[1.0, 1e16, 1.5e16, 0.0001, 1e-5, -0.0, 123.456, 1e400, NaN, -Infinity]"#,
                r#"[1.0, 1e+16, 1.5e+16, 0.0001, 1e-05, -0.0, 123.456, Infinity, NaN, -Infinity]"#,
            ),
            (
                "[\"\\u00e9\\ud83d\\ude00\\/\\u001f\x7f\"]",
                "[\"\\u00e9\\ud83d\\ude00/\\u001f\\u007f\"]",
            ),
            ("[true, false, null, {}]", "[true, false, null, {}]"),
        ];
        for (input, want) in cases {
            assert_eq!(dump(&parse(input).unwrap()), want, "input {input:?}");
        }
    }

    #[test]
    fn invalid_documents() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "\u{feff}{}",
            "{\"a\" 1}",
            "[1.]",
            "[1e]",
            "\"\x01\"",
            "[\"\\x\"]",
            "nul",
            "{} x",
        ] {
            assert_eq!(parse(bad), Err(ParseError::Invalid), "{bad:?}");
        }
        assert!(matches!(
            parse("[\"\\ud800\"]"),
            Err(ParseError::Unsupported(_))
        ));
        let deep = "[".repeat(2000) + &"]".repeat(2000);
        assert!(matches!(parse(&deep), Err(ParseError::Unsupported(_))));
        let big = format!("[{}]", "9".repeat(4301));
        assert_eq!(parse(&big), Err(ParseError::Invalid));
    }

    #[test]
    fn float_reprs() {
        for (f, s) in [
            (1234567890123456.0, "1234567890123456.0"),
            (0.1, "0.1"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (100.0, "100.0"),
        ] {
            assert_eq!(float_repr(f), s);
        }
    }
}
