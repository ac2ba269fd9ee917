//! One binary for the workspace integration tests.

mod archives;
mod bench_crud;
mod common;
mod config;
mod create_options;
mod faults;
mod key;
mod objects;
mod progress;
mod tree;
