//! `provisor`: assess a consumer IoT device against ETSI EN 303 645. This binary only
//! parses arguments, calls the library crates and writes their output; exit codes are
//! decided in one place, [`exit_code`].

mod cli;
mod cmd;
mod io;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// How a command ended, before it becomes an exit code.
pub enum Outcome {
    /// Success: conformant, no regression, no failing finding.
    Success,
    /// The command ran, and the answer is "no": not conformant, a regression.
    Negative,
}

/// Why a command could not run.
#[derive(Debug)]
pub enum Failure {
    /// The user's input is invalid; the message says what and where.
    Invalid(String),
    /// Something went wrong that is not the user's fault.
    Internal(anyhow::Error),
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::Internal(error.into())
    }
}

/// The exit codes of DESIGN.md: 0 success, 1 negative answer, 2 invalid input or usage,
/// 3 internal error.
fn exit_code(result: &Result<Outcome, Failure>) -> u8 {
    match result {
        Ok(Outcome::Success) => 0,
        Ok(Outcome::Negative) => 1,
        Err(Failure::Invalid(_)) => 2,
        Err(Failure::Internal(_)) => 3,
    }
}

fn run(cli: Cli) -> Result<Outcome, Failure> {
    match cli.command {
        Command::Catalog(args) => cmd::catalog::run(args),
        Command::Init(args) => cmd::init::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Plan(args) => cmd::plan::run(args),
        Command::Triage(args) => cmd::triage::run(args),
        Command::Review(args) => cmd::review::run(args),
        Command::Bundle(args) => cmd::bundle::run(args),
        Command::Verify(args) => cmd::bundle::verify(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Migrate(args) => cmd::migrate::run(args),
        Command::Advisories(args) => cmd::advisories::run(args),
        Command::Unpack(args) => cmd::unpack::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Admin(args) => cmd::admin::run(args),
        Command::Push(args) => cmd::remote::push(args),
        Command::Pull(args) => cmd::remote::pull(args),
        Command::Worker(args) => cmd::serve::worker(args),
        Command::Scan(args) => match args.target {
            cli::ScanTarget::Firmware(args) => cmd::scan::firmware(args),
            cli::ScanTarget::Host(args) => cmd::scan::host(args),
        },
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    // A decoder's panic on a hostile image is reported as a finding; its message is
    // noise on the terminal.
    provisor_firmware::quiet_contained_panics();
    let result = std::panic::catch_unwind(|| run(cli)).unwrap_or_else(|_| {
        Err(Failure::Internal(anyhow::anyhow!(
            "provisor stopped on an internal error; please report it with the command and input"
        )))
    });
    let code = exit_code(&result);
    match result {
        Err(Failure::Invalid(message)) => io::print_error(&message),
        Err(Failure::Internal(error)) => io::print_error(&format!("internal error: {error:#}")),
        Ok(_) => {}
    }
    ExitCode::from(code)
}
