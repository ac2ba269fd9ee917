//! borg msgpack (work in progress).
