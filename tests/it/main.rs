//! One binary for the workspace integration tests.

mod archives;
mod objects;
mod tree;
