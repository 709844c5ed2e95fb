//! `provisor migrate`: carry an assessment into a newer edition (V2.1.1 into V3.1.3),
//! write the new file, and print what needs a person.

use crate::cli::MigrateArgs;
use crate::{Failure, Outcome, io};

pub fn run(args: MigrateArgs) -> Result<Outcome, Failure> {
    let to = super::edition(&args.to)?;
    let file = io::parse_assessment(&args.assessment)?;
    let migrated = provisor_engine::migrate(&file, to)
        .map_err(|error| Failure::Invalid(io::render_errors(&[error])))?;
    let text = provisor_report::migrated_assessment(&migrated, &file, &io::today().to_string())
        .map_err(|reason| {
            Failure::Internal(anyhow::anyhow!("cannot write the migrated file: {reason}"))
        })?;
    let written = args.output.as_ref().map_or_else(
        || "standard output".to_owned(),
        |path| path.display().to_string(),
    );
    // What is written must read back as an assessment of the new edition.
    provisor_engine::parse(&text, &written).map_err(|error| {
        Failure::Internal(anyhow::anyhow!(
            "the migrated assessment does not parse: {}",
            io::render_errors(&[error])
        ))
    })?;
    match &args.output {
        Some(path) => {
            if path.exists() && !args.force {
                return Err(Failure::Invalid(format!(
                    "{} already exists\n  = help: choose another path, or pass --force to replace it",
                    path.display()
                )));
            }
            io::write_atomically(path, text.as_bytes())?;
        }
        None => io::print(&text)?,
    }
    eprint!(
        "{}",
        provisor_report::migration_report(&migrated, &file, &written)
    );
    Ok(Outcome::Success)
}
