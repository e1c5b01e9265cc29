//! The `pointerprint` binary end to end, in one test binary (one link, shared helpers).

mod admin;
mod cli;
mod data;
mod durability;
mod loadtest;
mod multinode;
mod output;
mod support;
