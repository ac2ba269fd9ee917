//! borg 1.x chunkers (work in progress).
