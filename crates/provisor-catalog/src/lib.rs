//! The standard as data. Each edition of ETSI EN 303 645 is a directory of TOML files
//! under `data/`, embedded in the binary and parsed on first use; this crate turns them
//! into the typed model every other crate reads ([`Catalog`], [`Provision`],
//! [`Condition`], …). Nothing here does I/O: adding an edition means adding data and one
//! line to [`EDITION_SOURCES`], not changing the engine.

mod model;
mod validate;

use std::sync::OnceLock;

pub use model::{
    Catalog, Category, CheckTests, Condition, ConditionId, DerivedRule, FieldType, IxitField,
    IxitTable, Provision, Relation, Status, TestCase, TestKind,
};
pub use validate::Problem;

/// The edition an assessment uses when it names none.
pub const DEFAULT_EDITION: &str = "en303645-v2.1.1";

/// The embedded sources of every edition: id, edition file, provisions file, and the
/// map of provisor's checks to the edition's test cases.
const EDITION_SOURCES: &[(&str, &str, &str, &str)] = &[(
    "en303645-v2.1.1",
    include_str!("../data/en303645-v2.1.1/edition.toml"),
    include_str!("../data/en303645-v2.1.1/provisions.toml"),
    include_str!("../data/en303645-v2.1.1/checks.toml"),
)];

/// An embedded edition that failed to load: a bug in the data, caught by the tests.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A data file is not valid TOML or does not fit the model.
    #[error("embedded catalog {edition}/{file} is malformed: {message}")]
    Malformed {
        /// The edition directory.
        edition: &'static str,
        /// The file in it.
        file: &'static str,
        /// What the TOML parser said.
        message: String,
    },
}

/// Every embedded edition, parsed once. Panics only if embedded data is malformed,
/// which `cargo test` rules out before a release.
pub fn editions() -> &'static [Catalog] {
    static EDITIONS: OnceLock<Vec<Catalog>> = OnceLock::new();
    EDITIONS.get_or_init(|| {
        EDITION_SOURCES
            .iter()
            .map(|&(id, edition, provisions, checks)| {
                Catalog::from_toml(id, edition, provisions, checks)
                    .unwrap_or_else(|error| panic!("{error}"))
            })
            .collect()
    })
}

/// The edition with this id, if it is embedded.
pub fn edition(id: &str) -> Option<&'static Catalog> {
    editions().iter().find(|catalog| catalog.id == id)
}

/// The ids of every embedded edition, for error messages.
pub fn edition_ids() -> Vec<&'static str> {
    EDITION_SOURCES.iter().map(|&(id, ..)| id).collect()
}

/// The default edition (`en303645-v2.1.1`).
pub fn default_edition() -> &'static Catalog {
    edition(DEFAULT_EDITION).expect("the default edition is embedded")
}
