//! msgpack exactly as borg 1.x writes and reads it.
//!
//! borg packs with msgpack-python's `use_bin_type=False`, so:
//! * every byte string and every text string is a "raw" (`0xa0|n`, `0xda`, `0xdb`);
//!   `str8` (`0xd9`) and the `bin` family are never written;
//! * integers take their smallest encoding;
//! * maps are written in the order given; borg always sorts keys
//!   ([`Value::sort_map_keys`] / [`MapBuilder`]).
//!
//! The reader accepts everything borg's readers accept (`str8`, `bin` as raw,
//! floats) and is hardened for hostile input: nesting is bounded, and a
//! declared length can never allocate more than the input could possibly hold.

mod decode;
mod encode;
mod value;

pub use decode::{decode_one, decode_stream_item, DecodeError, Decoder, MAX_DEPTH};
pub use encode::{encode, encode_into, Encoder};
pub use value::{MapBuilder, Value};

#[cfg(test)]
mod tests;
