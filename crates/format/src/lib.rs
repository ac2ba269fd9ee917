//! borg format (work in progress).
