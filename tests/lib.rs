//! Integration tests live in `tests/*.rs`; see `it/`.
