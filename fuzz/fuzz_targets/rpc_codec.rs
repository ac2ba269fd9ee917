//! Fuzz the `borg serve` RPC codec: a byte stream split at fuzzer-chosen
//! points through the incremental unpacker, every value through both
//! parsers, every message re-encoded and parsed again. The checks live in
//! `oxiborg_remote::fuzzing` so `cargo test` runs them too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oxiborg_remote::fuzzing::rpc_codec(data));
