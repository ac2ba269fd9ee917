//! borg 1.x remote repositories over `borg serve`.
//!
//! * [`codec`]: the RPC wire format (msgpack stream, dict and legacy
//!   messages, borg's exceptions).
//! * [`client`]: [`RemoteRepository`], a [`oxiborg_repository::Repository`]
//!   that talks to `borg serve` (or `oxiborg serve`) through ssh.
//! * [`server`]: `oxiborg serve`, borg's `RepositoryServer` over a local
//!   repository.

pub mod client;
pub mod codec;
#[doc(hidden)]
pub mod fuzzing;
pub mod server;

pub use client::{ClientOptions, RemoteLocation, RemoteOutput, RemoteRepository};
