//! End-to-end tests of the `provisor` binary: every subcommand on the examples, snapshots
//! of every report format, the interactive questionnaire, and bad input of every kind.

mod bad_input;
mod commands;
mod reports;
mod support;
