//! One binary for the workspace integration tests.

mod objects;
