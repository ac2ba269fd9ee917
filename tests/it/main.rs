//! One binary for the workspace integration tests.

mod archives;
mod bench_crud;
mod check_archives;
mod common;
mod config;
mod create_options;
mod diff;
mod faults;
mod json_output;
mod key;
mod objects;
mod progress;
mod prune;
mod recreate;
mod remote_hostile;
mod remote_ssh;
mod serve;
mod tar;
mod tree;
