//! One binary for the workspace integration tests.

mod archives;
mod bench_crud;
mod check_archives;
mod common;
mod create_options;
mod faults;
mod objects;
mod progress;
mod tree;
