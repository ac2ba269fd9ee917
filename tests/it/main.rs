//! One binary for the workspace integration tests.

mod archives;
mod bench_crud;
mod faults;
mod objects;
mod tree;
