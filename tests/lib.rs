//! Workspace integration tests live in `it/` (one test binary, as ripgrep
//! does): scenarios that combine several oxiborg crates and check the
//! result with real borg.
