//! borg crypto (work in progress).
