//! The `borg serve` wire format: a plain stream of msgpack objects on
//! stdin/stdout, no length prefix.
//!
//! Two message shapes exist (borg's `remote.py`):
//! * the dict format, `{"i": msgid, "m": method, "a": {name: value}}` for
//!   requests and `{"i": msgid, "r": result}` or an exception map for
//!   replies;
//! * the legacy tuple format, `[1, msgid, method, [positional args]]` and
//!   `[1, msgid, error class or nil, result]`. borg 1.2/1.4 clients send
//!   their first message, `negotiate`, in this form.
//!
//! Everything is written with raw (str) types only, never bin, because
//! borg 1.2 peers refuse bin. Reading accepts every form and is bounded:
//! a message larger than [`MAX_MESSAGE`] is an error, never an allocation.

use oxiborg_msgpack::{DecodeError, Encoder, Value};

/// borg's unpacker `max_buffer_size`: 3 × max(BUFSIZE, MAX_OBJECT_SIZE),
/// 62914560 bytes. No single message may be larger.
pub const MAX_MESSAGE: usize = 62_914_560;

/// The most values a client accepts in one reply. borg has no such limit,
/// but a decoded value costs 32 bytes or more while its encoding may take
/// one, so without it a 60 MiB reply could cost two GiB. The largest real
/// reply is a `list`/`scan` page of `LIST_SCAN_LIMIT` (100000) ids.
pub const MAX_REPLY_ITEMS: usize = 1 << 20;

/// borg's `MAX_INFLIGHT`: requests a client keeps outstanding.
pub const MAX_INFLIGHT: usize = 100;

/// borg's `RPC_PROTOCOL_VERSION`, the integer a 1.0 peer negotiates with.
pub const RPC_PROTOCOL_VERSION: i64 = 2;

/// The borg version oxiborg speaks as, in borg's `parse_version` form.
pub const BORG_VERSION: [i64; 4] = [1, 4, 5, -1];

/// The methods `borg serve` lets a client call (`rpc_methods`).
pub const RPC_METHODS: &[&str] = &[
    "__len__",
    "check",
    "commit",
    "delete",
    "destroy",
    "get",
    "list",
    "scan",
    "negotiate",
    "open",
    "put",
    "rollback",
    "save_key",
    "load_key",
    "break_lock",
    "get_free_nonce",
    "commit_nonce_reservation",
    "inject_exception",
];

/// borg's `compatMap`: positional argument order of the legacy format.
pub fn compat_args(method: &str) -> Option<&'static [&'static str]> {
    Some(match method {
        "check" => &["repair", "save_space"],
        "commit" => &["save_space"],
        "rollback" | "destroy" | "__len__" | "load_key" | "break_lock" | "get_free_nonce" => &[],
        "list" => &["limit", "marker"],
        "put" => &["id", "data"],
        "get" | "delete" => &["id"],
        "save_key" => &["keydata"],
        "negotiate" => &["client_data"],
        "open" => &[
            "path",
            "create",
            "lock_wait",
            "lock",
            "exclusive",
            "append_only",
        ],
        "commit_nonce_reservation" => &["next_unreserved", "start_nonce"],
        _ => return None,
    })
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The bytes are not msgpack at all.
    #[error("invalid msgpack in the RPC stream: {0}")]
    Msgpack(DecodeError),
    /// One message would exceed [`MAX_MESSAGE`] bytes.
    #[error("RPC message larger than {MAX_MESSAGE} bytes")]
    TooLarge,
    /// One message holds more values than the reader allows.
    #[error("RPC message with more than {0} values")]
    TooManyValues(usize),
    /// Valid msgpack, but not a request or reply of either format.
    #[error("unexpected RPC data format: {0}")]
    Format(String),
}

/// Which of the two message shapes a message used; a reply uses the shape
/// of its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"i", "m", "a"}` maps.
    Dict,
    /// `[1, msgid, method, args]` arrays.
    Legacy,
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The shape it came in.
    pub format: Format,
    /// The message id.
    pub msgid: u64,
    /// The method name.
    pub method: String,
    /// Named arguments (legacy positional ones are named via
    /// [`compat_args`]; extra positional ones are dropped).
    pub args: Vec<(String, Value)>,
}

impl Request {
    /// The argument `name`, if the client sent it.
    pub fn arg(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// A remote exception as borg's server sends it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemoteException {
    /// The exception class name (`ObjectNotFound`, ...).
    pub class: String,
    /// `e.args`; `None` when the peer sent none (pre-1.1 or legacy format).
    pub args: Option<Vec<Value>>,
    /// The formatted message lines.
    pub short: Vec<String>,
    /// The traceback lines.
    pub full: Vec<String>,
    /// Whether borg would show the traceback.
    pub trace: bool,
    /// The server's system description.
    pub sysinfo: String,
}

impl RemoteException {
    /// Argument `i` as text, if present and a string.
    pub fn arg_str(&self, i: usize) -> Option<String> {
        let v = self.args.as_ref()?.get(i)?;
        match v {
            Value::Raw(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Value::Int(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// What a reply carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The method's result.
    Ok(Value),
    /// The method raised.
    Err(RemoteException),
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The request's message id.
    pub msgid: u64,
    /// Result or exception.
    pub outcome: Outcome,
}

/// An incremental reader of a msgpack stream.
///
/// Incoming bytes are scanned once, resumably and without allocating, to
/// find where the next value ends (and to refuse an oversized or
/// over-structured one early); only a complete value is decoded. So a value
/// arriving in many small reads costs linear time, and a peer cannot make
/// the reader allocate more than [`MAX_MESSAGE`] bytes of buffer plus
/// `max_items` decoded values.
#[derive(Debug)]
pub struct Unpacker {
    buf: Vec<u8>,
    start: usize,
    scan: Scan,
    max_items: usize,
}

impl Default for Unpacker {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the scan of the value at `start` stands.
#[derive(Debug, Default, Clone)]
struct Scan {
    /// Offset (from `start`) of the next header to read; may lie beyond
    /// the buffered bytes while a raw body is still arriving.
    pos: usize,
    /// Elements still to read in each open array/map (maps count keys and
    /// values).
    open: Vec<u64>,
    /// Values seen so far in this message (containers included).
    items: usize,
    /// The top-level header has been read.
    started: bool,
}

/// What scanning the buffered bytes found.
enum ScanResult {
    /// The value at `start` ends at this offset.
    Complete(usize),
    /// More bytes are needed.
    Incomplete,
}

impl Unpacker {
    /// An empty unpacker without an element limit (a client reading
    /// replies: `list` returns up to 100000 ids).
    pub fn new() -> Self {
        Self::with_max_items(usize::MAX)
    }

    /// An empty unpacker refusing a message with more than `max_items`
    /// values in total (a server reading requests, which are small maps).
    pub fn with_max_items(max_items: usize) -> Self {
        Unpacker {
            buf: Vec::new(),
            start: 0,
            scan: Scan::default(),
            max_items,
        }
    }

    /// Append bytes read from the peer.
    pub fn feed(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > (1 << 20) && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered but not yet returned as values.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete value, `Ok(None)` when more bytes are needed.
    pub fn next_value(&mut self) -> Result<Option<Value>, CodecError> {
        match self.scan_more()? {
            ScanResult::Incomplete => Ok(None),
            ScanResult::Complete(len) => {
                let bytes = &self.buf[self.start..self.start + len];
                let (v, used) =
                    oxiborg_msgpack::decode_stream_item(bytes).map_err(CodecError::Msgpack)?;
                if used != len {
                    return Err(CodecError::Format(
                        "a message's extent disagrees with its decoding".into(),
                    ));
                }
                self.start += len;
                self.scan = Scan::default();
                Ok(Some(v))
            }
        }
    }

    /// Continue scanning the value at `start` over the buffered bytes.
    fn scan_more(&mut self) -> Result<ScanResult, CodecError> {
        let b = &self.buf[self.start..];
        let avail = b.len();
        let s = &mut self.scan;
        loop {
            if s.started && s.open.is_empty() {
                // The value's last header was read; its body may still be
                // arriving.
                return Ok(if s.pos <= avail {
                    ScanResult::Complete(s.pos)
                } else {
                    ScanResult::Incomplete
                });
            }
            if s.pos >= avail {
                return Ok(ScanResult::Incomplete);
            }
            let pos = s.pos;
            let t = b[pos];
            let be = |n: usize| -> Option<u64> {
                let bytes = b.get(pos + 1..pos + 1 + n)?;
                Some(bytes.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
            };
            // (header length, body length, elements it opens)
            let (header, len_bytes, kind): (usize, usize, u8) = match t {
                0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (1, 0, b's'),
                0x80..=0x8f => (1, 0, b'M'),
                0x90..=0x9f => (1, 0, b'A'),
                0xa0..=0xbf => (1, 0, b'r'),
                0xc4 | 0xd9 => (2, 1, b'r'),
                0xc5 | 0xda => (3, 2, b'r'),
                0xc6 | 0xdb => (5, 4, b'r'),
                0xcc | 0xd0 => (2, 0, b's'),
                0xcd | 0xd1 => (3, 0, b's'),
                0xca | 0xce | 0xd2 => (5, 0, b's'),
                0xcb | 0xcf | 0xd3 => (9, 0, b's'),
                0xdc => (3, 2, b'A'),
                0xdd => (5, 4, b'A'),
                0xde => (3, 2, b'M'),
                0xdf => (5, 4, b'M'),
                // 0xc1 (never used) and the ext types borg never sends.
                _ => {
                    return Err(CodecError::Msgpack(DecodeError::InvalidType {
                        byte: t,
                        offset: pos,
                    }))
                }
            };
            if pos + header > avail {
                return Ok(ScanResult::Incomplete);
            }
            let n = match (kind, len_bytes) {
                (b'M', 0) => u64::from(t & 0x0f),
                (b'A', 0) => u64::from(t & 0x0f),
                (b'r', 0) => u64::from(t & 0x1f),
                (_, 0) => 0,
                (_, k) => be(k).unwrap_or(0),
            };
            s.items += 1;
            if s.items > self.max_items {
                return Err(CodecError::TooManyValues(self.max_items));
            }
            s.started = true;
            let mut end = pos + header;
            let opens = match kind {
                b'r' => {
                    end = end.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
                    0
                }
                b'A' => n,
                b'M' => n.saturating_mul(2),
                _ => 0,
            };
            // Every element takes at least one byte.
            if end > MAX_MESSAGE || opens > (MAX_MESSAGE - pos) as u64 {
                return Err(CodecError::TooLarge);
            }
            if opens > (self.max_items - s.items) as u64 {
                return Err(CodecError::TooManyValues(self.max_items));
            }
            s.pos = end;
            if opens > 0 {
                if s.open.len() >= oxiborg_msgpack::MAX_DEPTH {
                    return Err(CodecError::Msgpack(DecodeError::TooDeep { offset: pos }));
                }
                s.open.push(opens);
            } else {
                // A complete element: close every container it completes.
                while let Some(top) = s.open.last_mut() {
                    *top -= 1;
                    if *top > 0 {
                        break;
                    }
                    s.open.pop();
                }
            }
        }
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Raw(b) => String::from_utf8(b.clone()).ok(),
        _ => None,
    }
}

fn msgid_of(v: &Value) -> Result<u64, CodecError> {
    v.as_u64()
        .ok_or_else(|| CodecError::Format("message id is not a non-negative integer".into()))
}

/// Read a request from a decoded value (dict or legacy format).
pub fn parse_request(v: Value) -> Result<Request, CodecError> {
    match v {
        Value::Map(entries) => {
            let mut msgid = None;
            let mut method = None;
            let mut args = None;
            for (k, val) in entries {
                match k.as_raw() {
                    Some(b"i") => msgid = Some(msgid_of(&val)?),
                    Some(b"m") => {
                        method = Some(
                            text(&val)
                                .ok_or_else(|| CodecError::Format("method is not text".into()))?,
                        )
                    }
                    Some(b"a") => args = Some(val),
                    _ => {}
                }
            }
            let (Some(msgid), Some(method)) = (msgid, method) else {
                return Err(CodecError::Format("request lacks \"i\" or \"m\"".into()));
            };
            let args = match args {
                Some(Value::Map(m)) => m
                    .into_iter()
                    .map(|(k, v)| {
                        text(&k)
                            .map(|k| (k, v))
                            .ok_or_else(|| CodecError::Format("argument name is not text".into()))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Some(_) => return Err(CodecError::Format("arguments are not a map".into())),
                None => return Err(CodecError::Format("request lacks \"a\"".into())),
            };
            Ok(Request {
                format: Format::Dict,
                msgid,
                method,
                args,
            })
        }
        Value::Array(items) if items.len() == 4 => {
            let mut it = items.into_iter();
            let _type = it.next();
            let msgid = msgid_of(&it.next().unwrap_or(Value::Nil))?;
            let method = text(&it.next().unwrap_or(Value::Nil))
                .ok_or_else(|| CodecError::Format("method is not text".into()))?;
            let positional = match it.next() {
                Some(Value::Array(a)) => a,
                _ => {
                    return Err(CodecError::Format(
                        "legacy arguments are not an array".into(),
                    ))
                }
            };
            let names: &[&str] = match (method.as_str(), positional.len()) {
                // A borg < 1.0.7 client sends a four-argument open.
                ("open", 4) => &["path", "create", "lock_wait", "lock"],
                (m, _) => compat_args(m).ok_or_else(|| {
                    CodecError::Format(format!("method {m:?} has no legacy argument order"))
                })?,
            };
            let args = names
                .iter()
                .zip(positional)
                .map(|(n, v)| ((*n).to_string(), v))
                .collect();
            Ok(Request {
                format: Format::Legacy,
                msgid,
                method,
                args,
            })
        }
        _ => Err(CodecError::Format(
            "a message is neither a map nor a four-element array".into(),
        )),
    }
}

/// Encode a request. Legacy requests carry the arguments named by
/// [`compat_args`] in order (missing ones as nil).
pub fn encode_request(req: &Request, out: &mut Vec<u8>) {
    let mut e = Encoder::new(out);
    match req.format {
        Format::Dict => {
            e.map_header(3);
            e.raw(b"i");
            e.uint(req.msgid);
            e.raw(b"m");
            e.raw(req.method.as_bytes());
            e.raw(b"a");
            e.map_header(req.args.len());
            for (k, v) in &req.args {
                e.raw(k.as_bytes());
                e.value(v);
            }
        }
        Format::Legacy => {
            e.array_header(4);
            e.uint(1);
            e.uint(req.msgid);
            e.raw(req.method.as_bytes());
            let names = compat_args(&req.method).unwrap_or(&[]);
            e.array_header(names.len());
            for n in names {
                e.value(req.arg(n).unwrap_or(&Value::Nil));
            }
        }
    }
}

/// Encode a `put`-style dict request without copying `data` into a
/// [`Value`] first: `{"i", "m", "a": {"id", "data"[, "wait"]}}`.
pub fn encode_put(msgid: u64, id: &[u8], data: &[u8], wait: Option<bool>, out: &mut Vec<u8>) {
    let mut e = Encoder::new(out);
    e.map_header(3);
    e.raw(b"i");
    e.uint(msgid);
    e.raw(b"m");
    e.raw(b"put");
    e.raw(b"a");
    e.map_header(2 + usize::from(wait.is_some()));
    e.raw(b"id");
    e.raw(id);
    e.raw(b"data");
    e.raw(data);
    if let Some(w) = wait {
        e.raw(b"wait");
        e.bool(w);
    }
}

/// Read a reply from a decoded value (dict or legacy format).
pub fn parse_response(v: Value) -> Result<Response, CodecError> {
    match v {
        Value::Map(entries) => {
            let mut msgid = None;
            let mut result = None;
            let mut exc = RemoteException::default();
            let mut is_exc = false;
            for (k, val) in entries {
                match k.as_raw() {
                    Some(b"i") => msgid = Some(msgid_of(&val)?),
                    Some(b"r") => result = Some(val),
                    Some(b"exception_class") => {
                        is_exc = true;
                        exc.class = text(&val).unwrap_or_else(|| "(invalid)".into());
                    }
                    Some(b"exception_args") => {
                        exc.args = Some(match val {
                            Value::Array(a) => a,
                            other => vec![other],
                        })
                    }
                    Some(b"exception_short") => exc.short = text_lines(&val),
                    Some(b"exception_full") => exc.full = text_lines(&val),
                    Some(b"exception_trace") => exc.trace = val.as_bool().unwrap_or(false),
                    Some(b"sysinfo") => exc.sysinfo = text(&val).unwrap_or_default(),
                    _ => {}
                }
            }
            let msgid =
                msgid.ok_or_else(|| CodecError::Format("reply lacks a message id".into()))?;
            let outcome = if is_exc {
                Outcome::Err(exc)
            } else {
                Outcome::Ok(result.unwrap_or(Value::Nil))
            };
            Ok(Response { msgid, outcome })
        }
        Value::Array(items) if items.len() == 4 => {
            let mut it = items.into_iter();
            let _type = it.next();
            let msgid = msgid_of(&it.next().unwrap_or(Value::Nil))?;
            let error = it.next().unwrap_or(Value::Nil);
            let result = it.next().unwrap_or(Value::Nil);
            let outcome = match error {
                Value::Nil => Outcome::Ok(result),
                other => Outcome::Err(RemoteException {
                    class: text(&other).unwrap_or_else(|| "(invalid)".into()),
                    ..RemoteException::default()
                }),
            };
            Ok(Response { msgid, outcome })
        }
        _ => Err(CodecError::Format(
            "a reply is neither a map nor a four-element array".into(),
        )),
    }
}

fn text_lines(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_raw().map(|b| String::from_utf8_lossy(b).into_owned()))
            .collect(),
        Value::Raw(b) => vec![String::from_utf8_lossy(b).into_owned()],
        _ => Vec::new(),
    }
}

/// Encode a reply in `format`.
pub fn encode_response(format: Format, resp: &Response, out: &mut Vec<u8>) {
    let mut e = Encoder::new(out);
    match (format, &resp.outcome) {
        (Format::Dict, Outcome::Ok(v)) => {
            e.map_header(2);
            e.raw(b"i");
            e.uint(resp.msgid);
            e.raw(b"r");
            e.value(v);
        }
        (Format::Dict, Outcome::Err(x)) => {
            e.map_header(7);
            e.raw(b"i");
            e.uint(resp.msgid);
            e.raw(b"exception_class");
            e.raw(x.class.as_bytes());
            e.raw(b"exception_args");
            let args = x.args.as_deref().unwrap_or(&[]);
            e.array_header(args.len());
            for a in args {
                e.value(a);
            }
            e.raw(b"exception_full");
            e.array_header(x.full.len());
            for l in &x.full {
                e.raw(l.as_bytes());
            }
            e.raw(b"exception_short");
            e.array_header(x.short.len());
            for l in &x.short {
                e.raw(l.as_bytes());
            }
            e.raw(b"exception_trace");
            e.bool(x.trace);
            e.raw(b"sysinfo");
            e.raw(x.sysinfo.as_bytes());
        }
        (Format::Legacy, Outcome::Ok(v)) => {
            e.array_header(4);
            e.uint(1);
            e.uint(resp.msgid);
            e.nil();
            e.value(v);
        }
        (Format::Legacy, Outcome::Err(x)) => {
            e.array_header(4);
            e.uint(1);
            e.uint(resp.msgid);
            e.raw(x.class.as_bytes());
            e.raw(b"Remote Exception (see remote log for the traceback)");
        }
    }
}

/// A borg version array (`[1, 4, 5, -1]`) from a negotiate reply.
pub fn parse_version(v: &Value) -> Option<Vec<i64>> {
    v.as_array()?.iter().map(Value::as_i64).collect()
}

/// A version array as a [`Value`].
pub fn version_value(v: &[i64]) -> Value {
    Value::Array(v.iter().map(|&x| Value::int(x)).collect())
}

/// borg's `format_version`: `1.4.5`, `1.2.0a8`, `1.4.0rc1`, `1.5.0.dev3`.
pub fn format_version(v: &[i64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut it = v.iter();
    while let Some(&x) = it.next() {
        if x >= 0 {
            parts.push(x.to_string());
            continue;
        }
        let suffix = match x {
            -2 => "rc",
            -3 => "b",
            -4 => "a",
            -9 => ".dev",
            _ => "",
        };
        if x != -1 && !suffix.is_empty() {
            if let (Some(last), Some(n)) = (parts.last_mut(), it.next()) {
                last.push_str(suffix);
                last.push_str(&n.to_string());
            }
        }
        break;
    }
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxiborg_msgpack::MapBuilder;

    fn feed_all(bytes: &[u8], step: usize) -> Result<Vec<Value>, CodecError> {
        let mut u = Unpacker::new();
        let mut out = Vec::new();
        for piece in bytes.chunks(step.max(1)) {
            u.feed(piece);
            while let Some(v) = u.next_value()? {
                out.push(v);
            }
        }
        Ok(out)
    }

    #[test]
    fn negotiate_bytes_match_borg() {
        // The first message of a 1.4.5 client, as captured in the spec.
        let req = Request {
            format: Format::Legacy,
            msgid: 1,
            method: "negotiate".into(),
            args: vec![(
                "client_data".into(),
                MapBuilder::new()
                    .insert("client_version", version_value(&BORG_VERSION))
                    .build(),
            )],
        };
        let mut out = Vec::new();
        encode_request(&req, &mut out);
        let mut want = vec![0x94, 0x01, 0x01, 0xa9];
        want.extend_from_slice(b"negotiate");
        want.extend_from_slice(&[0x91, 0x81, 0xae]);
        want.extend_from_slice(b"client_version");
        want.extend_from_slice(&[0x94, 0x01, 0x04, 0x05, 0xff]);
        assert_eq!(out, want);
        let back = parse_request(oxiborg_msgpack::decode_one(&out).unwrap()).unwrap();
        assert_eq!(back, req);
    }

    #[test]
    fn put_is_raw_only_and_splits_anywhere() {
        let mut out = Vec::new();
        encode_put(7, &[1u8; 32], &vec![9u8; 70_000], Some(false), &mut out);
        assert!(out.windows(3).any(|w| w == [0xa2, b'i', b'd']));
        assert!(out.contains(&0xdb)); // data as raw32, not bin32 (0xc6)
        assert!(!out.contains(&0xc6) || out.iter().position(|&b| b == 0xc6) > Some(40));
        let mut two = out.clone();
        two.extend_from_slice(&out);
        for step in [1, 7, 4096, 1 << 20] {
            let vals = feed_all(&two, step).unwrap();
            assert_eq!(vals.len(), 2);
            let r = parse_request(vals[0].clone()).unwrap();
            assert_eq!(r.msgid, 7);
            assert_eq!(
                r.arg("data").and_then(Value::as_raw).map(<[u8]>::len),
                Some(70_000)
            );
            assert_eq!(r.arg("wait"), Some(&Value::Bool(false)));
        }
    }

    #[test]
    fn oversized_declared_raw_is_refused_early() {
        let mut b = vec![0x81, 0xa1, b'r', 0xdb];
        b.extend_from_slice(&(u32::MAX).to_be_bytes());
        let mut u = Unpacker::new();
        u.feed(&b);
        assert_eq!(u.next_value(), Err(CodecError::TooLarge));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&[0xc1u8][..], &[0x94, 0x01], &[0xd4, 0, 0]] {
            let mut u = Unpacker::new();
            u.feed(bytes);
            let r = u.next_value();
            assert!(r.is_err() || r == Ok(None), "{bytes:?}: {r:?}");
        }
        assert!(parse_request(Value::Int(3)).is_err());
        assert!(parse_response(Value::Array(vec![Value::Nil])).is_err());
        assert!(parse_request(Value::Array(vec![
            Value::int(1),
            Value::int(1),
            Value::raw("scan"),
            Value::Array(vec![])
        ]))
        .is_err());
    }

    #[test]
    fn exceptions_round_trip_in_both_formats() {
        let x = RemoteException {
            class: "ObjectNotFound".into(),
            args: Some(vec![Value::raw("00ff"), Value::raw("/srv/r")]),
            short: vec!["Object with key 00ff not found in repository /srv/r.".into()],
            full: vec!["Traceback".into()],
            trace: true,
            sysinfo: "Platform: x".into(),
        };
        let resp = Response {
            msgid: 5,
            outcome: Outcome::Err(x.clone()),
        };
        let mut out = Vec::new();
        encode_response(Format::Dict, &resp, &mut out);
        let back = parse_response(oxiborg_msgpack::decode_one(&out).unwrap()).unwrap();
        assert_eq!(back, resp);
        out.clear();
        encode_response(Format::Legacy, &resp, &mut out);
        let back = parse_response(oxiborg_msgpack::decode_one(&out).unwrap()).unwrap();
        let Outcome::Err(l) = back.outcome else {
            panic!("legacy error lost")
        };
        assert_eq!(l.class, "ObjectNotFound");
        assert_eq!(l.args, None);
    }

    #[test]
    fn versions_format_like_borg() {
        assert_eq!(format_version(&[1, 4, 5, -1]), "1.4.5");
        assert_eq!(format_version(&[1, 2, 0, -4, 8]), "1.2.0a8");
        assert_eq!(format_version(&[1, 4, 0, -2, 1]), "1.4.0rc1");
        assert_eq!(format_version(&[1, 5, 0, -9, 3]), "1.5.0.dev3");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), step in 1usize..64) {
            let mut u = Unpacker::new();
            for piece in bytes.chunks(step) {
                u.feed(piece);
                while let Ok(Some(v)) = u.next_value() {
                    let _ = parse_request(v.clone());
                    let _ = parse_response(v);
                }
            }
        }
    }
}
