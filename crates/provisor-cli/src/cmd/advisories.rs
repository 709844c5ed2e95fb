//! `provisor advisories import`: read OSV advisories from a directory into the local
//! database file that `provisor scan firmware --advisories` matches components against.

use crate::cli::{AdvisoriesAction, AdvisoriesArgs};
use crate::{Failure, Outcome, io};

pub fn run(args: AdvisoriesArgs) -> Result<Outcome, Failure> {
    match args.action {
        AdvisoriesAction::Import { source, output } => {
            let database = provisor_advisories::Database::import(&source, &io::now())
                .map_err(|error| {
                    let help = match error {
                        provisor_advisories::Error::Parse { .. } => {
                            "the advisories must be OSV JSON files (https://ossf.github.io/osv-schema/)"
                        }
                        provisor_advisories::Error::Read { .. } => {
                            "give a directory of OSV JSON files, or one file"
                        }
                    };
                    Failure::Invalid(format!("{error}\n{help}; nothing was written"))
                })?;
            io::write_atomically(&output, database.to_json().as_bytes())?;
            eprintln!(
                "imported {} advisories ({} affected packages) from {} into {}",
                database.advisories.len(),
                database.affected_count(),
                source.display(),
                output.display()
            );
            Ok(Outcome::Success)
        }
    }
}

/// Loads the database a scan matches components against.
pub fn load(path: &std::path::Path) -> Result<provisor_advisories::Database, Failure> {
    provisor_advisories::Database::load(path).map_err(|error| {
        Failure::Invalid(format!(
            "{error}\ncreate it with `provisor advisories import DIR -o {}`",
            path.display()
        ))
    })
}
