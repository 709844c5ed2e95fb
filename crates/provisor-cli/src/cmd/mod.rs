//! One module per subcommand.

pub mod admin;
pub mod advisories;
pub mod bundle;
pub mod catalog;
pub mod check;
pub mod diff;
pub mod init;
pub mod interfaces;
pub mod migrate;
pub mod plan;
pub mod remote;
pub mod report;
pub mod review;
pub mod scan;
pub mod serve;
pub mod triage;
pub mod unpack;
pub mod work;

use crate::Failure;

/// The edition with this id, or an error listing the known ones.
pub fn edition(id: &str) -> Result<&'static provisor_catalog::Catalog, Failure> {
    provisor_catalog::edition(id).ok_or_else(|| {
        Failure::Invalid(format!(
            "unknown edition \"{id}\"\n  = help: editions known to this version: {}",
            provisor_catalog::edition_ids().join(", ")
        ))
    })
}
