//! End-to-end tests of the `provisor` binary: every subcommand on the examples, snapshots
//! of every report format, the interactive questionnaire, bad input of every kind, and
//! the check documentation generated from the checks' sources, and the team server
//! driven over HTTP.

mod bad_input;
mod browser;
mod bundle;
mod commands;
mod docs;
mod editions;
mod lab;
mod reports;
mod server;
mod support;
