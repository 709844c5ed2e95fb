//! Checks that identify the software components of an image, for the SBOM and for
//! matching against vulnerability advisories (5.2-3).

pub mod known_vulnerabilities;
pub mod package_database;
pub mod version_strings;
