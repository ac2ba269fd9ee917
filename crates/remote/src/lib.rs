//! borg 1.x remote repositories over `borg serve`.
//!
//! * [`codec`]: the RPC wire format (msgpack stream, dict and legacy
//!   messages, borg's exceptions).

pub mod codec;
pub mod server;
