//! The invariants of the RPC codec that the `rpc_codec` fuzz target
//! (`fuzz/`, run with `cargo xtask fuzz`) checks, kept here so that
//! `cargo test` runs the same checks over the seed corpus and random input.
//!
//! [`rpc_codec`] panics when an invariant is broken: that is how a fuzzer
//! learns of a bug. Nothing else calls it.

use oxiborg_msgpack::{decode_one, DecodeError, Value};

use crate::codec::{
    encode_request, encode_response, parse_request, parse_response, CodecError, Format, Unpacker,
};

/// The server's per-message value limit (`server::MAX_REQUEST_ITEMS`).
const SERVER_ITEMS: usize = crate::server::MAX_REQUEST_ITEMS;

/// Check one fuzz input.
///
/// Layout: byte 0 gives the number of split points `n` (`byte % 8`), then
/// `n` big-endian `u16` offsets (taken modulo the payload length + 1), then
/// the payload, a byte stream as it would arrive from a peer. The payload
/// is fed to an [`Unpacker`] whole, split at those points, and (when
/// short) one byte at a time: every way must decode the same values and
/// end in the same state, as a client and as a server (value limit).
/// Every decoded value goes through [`parse_request`] and
/// [`parse_response`]; every parsed message is re-encoded, decoded and
/// parsed again, and the second encoding must equal the first.
pub fn rpc_codec(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 8);
    if rest.len() < 2 * n {
        return;
    }
    let (cuts, payload) = rest.split_at(2 * n);
    let mut points: Vec<usize> = cuts
        .chunks(2)
        .map(|c| usize::from(u16::from_be_bytes([c[0], c[1]])) % (payload.len() + 1))
        .collect();
    points.sort_unstable();
    points.dedup();

    for max_items in [usize::MAX, SERVER_ITEMS] {
        let whole = feed(payload, &[], max_items);
        let split = feed(payload, &points, max_items);
        assert_eq!(whole, split, "split at {points:?} changed the outcome");
        if payload.len() <= 4096 {
            let every: Vec<usize> = (1..payload.len()).collect();
            let bytewise = feed(payload, &every, max_items);
            assert_eq!(whole, bytewise, "byte-by-byte feeding changed the outcome");
        }
        if max_items == usize::MAX {
            for v in &whole.values {
                check_message(v);
            }
        }
    }
}

/// What feeding a stream produced: the values (re-encoded, so that NaN
/// floats compare) and how it ended.
#[derive(Debug)]
struct Fed {
    values: Vec<Value>,
    encoded: Vec<Vec<u8>>,
    end: Result<usize, CodecError>,
}

impl PartialEq for Fed {
    fn eq(&self, other: &Self) -> bool {
        self.encoded == other.encoded && self.end == other.end
    }
}

fn feed(payload: &[u8], points: &[usize], max_items: usize) -> Fed {
    let mut u = Unpacker::with_max_items(max_items);
    let mut values = Vec::new();
    let mut from = 0;
    let ends = points.iter().copied().chain([payload.len()]);
    for to in ends {
        u.feed(&payload[from..to]);
        from = to;
        loop {
            match u.next_value() {
                Ok(Some(v)) => values.push(v),
                Ok(None) => break,
                Err(e) => {
                    let encoded = values.iter().map(oxiborg_msgpack::encode).collect();
                    return Fed {
                        values,
                        encoded,
                        end: Err(e),
                    };
                }
            }
        }
    }
    let encoded = values.iter().map(oxiborg_msgpack::encode).collect();
    let pending = u.pending();
    // Whatever is left must be a prefix of a message, never a whole one.
    if pending > 0 {
        let tail = &payload[payload.len() - pending..];
        match oxiborg_msgpack::decode_stream_item(tail) {
            Err(DecodeError::Incomplete { .. }) => {}
            other => panic!("unpacker kept {pending} bytes that decode to {other:?}"),
        }
    }
    Fed {
        values,
        encoded,
        end: Ok(pending),
    }
}

/// Decode what an encoder wrote. A value nested at the decoder's depth
/// limit may end up one level deeper once wrapped (a non-array
/// `exception_args` becomes a one-element array), so `TooDeep` is the one
/// acceptable failure.
fn redecode(bytes: &[u8]) -> Option<Value> {
    match decode_one(bytes) {
        Ok(v) => Some(v),
        Err(DecodeError::TooDeep { .. }) => None,
        Err(e) => panic!("the encoder wrote undecodable bytes ({e}): {bytes:02x?}"),
    }
}

fn check_message(v: &Value) {
    if let Ok(req) = parse_request(v.clone()) {
        let mut first = Vec::new();
        encode_request(&req, &mut first);
        let Some(back) = redecode(&first) else { return };
        let again = parse_request(back)
            .unwrap_or_else(|e| panic!("a re-encoded request does not parse ({e}): {req:?}"));
        assert_eq!(again.format, req.format);
        assert_eq!(again.msgid, req.msgid);
        assert_eq!(again.method, req.method);
        let mut second = Vec::new();
        encode_request(&again, &mut second);
        assert_eq!(first, second, "request round trip is not stable: {req:?}");
        // Whatever a request is, the client must be able to send it: the
        // writer emits raw (str) types only, never bin.
        assert!(no_bin(&first), "encoded request holds a bin type");
    }
    if let Ok(resp) = parse_response(v.clone()) {
        let format = if matches!(v, Value::Map(_)) {
            Format::Dict
        } else {
            Format::Legacy
        };
        let mut first = Vec::new();
        encode_response(format, &resp, &mut first);
        let Some(back) = redecode(&first) else { return };
        let again = parse_response(back)
            .unwrap_or_else(|e| panic!("a re-encoded reply does not parse ({e}): {resp:?}"));
        assert_eq!(again.msgid, resp.msgid);
        let mut second = Vec::new();
        encode_response(format, &again, &mut second);
        assert_eq!(first, second, "reply round trip is not stable: {resp:?}");
        assert!(no_bin(&first), "encoded reply holds a bin type");
    }
}

/// Whether an encoded stream uses only borg 1.x's raw types (no bin8/16/32).
pub fn no_bin(bytes: &[u8]) -> bool {
    let mut d = oxiborg_msgpack::Decoder::new(bytes);
    let mut pos = 0;
    while let Ok(Some(_)) = d.next_value() {
        if !headers_without_bin(&bytes[pos..d.position()]) {
            return false;
        }
        pos = d.position();
    }
    true
}

/// Walk the headers of one complete value; false on a bin header.
fn headers_without_bin(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        let t = b[i];
        let be = |n: usize| -> usize {
            b.get(i + 1..i + 1 + n).map_or(0, |s| {
                s.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x))
            })
        };
        i += match t {
            0xc4..=0xc6 => return false,
            0xa0..=0xbf => 1 + usize::from(t & 0x1f),
            0xd9 => 2 + be(1),
            0xda => 3 + be(2),
            0xdb => 5 + be(4),
            0xcc | 0xd0 => 2,
            0xcd | 0xd1 | 0xdc | 0xde => 3,
            0xca | 0xce | 0xd2 | 0xdd | 0xdf => 5,
            0xcb | 0xcf | 0xd3 => 9,
            _ => 1,
        };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds() -> Vec<(String, Vec<u8>)> {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/rpc_codec");
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| {
                let p = e.unwrap().path();
                (p.display().to_string(), std::fs::read(&p).unwrap())
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_seed_corpus_holds_the_invariants() {
        let seeds = seeds();
        assert!(seeds.len() >= 20);
        for (name, data) in &seeds {
            rpc_codec(data);
            // Every seed is a whole borg 1.4.5 stream: it decodes and
            // parses completely, in the direction its name says.
            let (_, payload) = data.split_at(1 + 2 * usize::from(data[0] % 8));
            let mut u = Unpacker::new();
            u.feed(payload);
            let mut n = 0;
            while let Some(v) = u.next_value().unwrap() {
                if name.contains(".c2s") {
                    parse_request(v).unwrap();
                } else {
                    parse_response(v).unwrap();
                }
                n += 1;
            }
            assert!(n > 0 && u.pending() == 0, "{name}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// The fuzz target's checks on random bytes and on seeds with
        /// random bytes overwritten (the proptest stand-in for the fuzzer).
        #[test]
        fn invariants_hold_for_mutated_seeds(
            pick in 0usize..64,
            edits in proptest::collection::vec((0usize..6000, proptest::num::u8::ANY), 0..6),
            random in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            rpc_codec(&random);
            let seeds = seeds();
            let mut data = seeds[pick % seeds.len()].1.clone();
            for (at, b) in edits {
                let n = data.len();
                data[at % n] = b;
            }
            rpc_codec(&data);
        }
    }
}
