//! The standard as data. Each edition of ETSI EN 303 645 is a directory of TOML files
//! under `data/`, embedded in the binary and parsed on first use; this crate turns them
//! into the typed model every other crate reads ([`Catalog`], [`Provision`],
//! [`Condition`], …). Nothing here does I/O: adding an edition means adding data and one
//! line to [`EDITION_SOURCES`], not changing the engine.

mod model;
mod regime;
mod validate;

use std::sync::OnceLock;

pub use model::{
    Carries, Catalog, Category, CheckTests, Condition, ConditionId, ConditionKind, ConditionMove,
    DerivedRule, FieldType, FindingRule, IxitField, IxitMove, IxitTable, Migration, Provision,
    Relation, Status, TestCase, TestKind, TestOrigin, TextSource, Voided,
};
pub use regime::{Regime, Requirement, StatementContent, regime, regime_ids, regimes};
pub use validate::Problem;

/// The edition of new work: `provisor init` writes it and `provisor catalog` shows it
/// unless told otherwise.
pub const DEFAULT_EDITION: &str = EN303645_V3_1_3;

/// The edition an assessment file that names none is read as: files written before a
/// second edition was embedded named none.
pub const UNNAMED_EDITION: &str = "en303645-v2.1.1";

/// EN 303 645 V3.1.3, whose features the scanners infer beside the checks' conditions.
pub const EN303645_V3_1_3: &str = "en303645-v3.1.3";

/// The edition in which provisor's checks name provisions; findings are carried into
/// other editions by the edition map.
pub const CHECKS_EDITION: &str = "en303645-v2.1.1";

/// The embedded data files of one edition.
struct Source {
    id: &'static str,
    /// Categories, conditions, relations and IXIT tables.
    edition: &'static str,
    /// The provisions (and the provisions voided).
    provisions: &'static str,
    /// The map of provisor's checks to the edition's test cases.
    checks: &'static str,
    /// How an assessment of the previous edition carries over.
    migration: Option<&'static str>,
    /// How findings named in the previous edition carry into this one.
    finding_rules: Option<&'static str>,
}

/// Every embedded edition, oldest first.
const EDITION_SOURCES: &[Source] = &[
    Source {
        id: "en303645-v2.1.1",
        edition: include_str!("../data/en303645-v2.1.1/edition.toml"),
        provisions: include_str!("../data/en303645-v2.1.1/provisions.toml"),
        checks: include_str!("../data/en303645-v2.1.1/checks.toml"),
        migration: None,
        finding_rules: None,
    },
    Source {
        id: "en303645-v3.1.3",
        edition: include_str!("../data/en303645-v3.1.3/edition.toml"),
        provisions: include_str!("../data/en303645-v3.1.3/provisions.toml"),
        checks: include_str!("../data/en303645-v3.1.3/checks.toml"),
        migration: Some(include_str!("../data/en303645-v3.1.3/migration.toml")),
        finding_rules: Some(include_str!("../data/en303645-v3.1.3/findings.toml")),
    },
];

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
            .map(|source| {
                Catalog::from_toml(
                    source.id,
                    source.edition,
                    source.provisions,
                    source.checks,
                    source.migration,
                    source.finding_rules,
                )
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
    EDITION_SOURCES.iter().map(|source| source.id).collect()
}

/// The edition of new work ([`DEFAULT_EDITION`]).
pub fn default_edition() -> &'static Catalog {
    edition(DEFAULT_EDITION).expect("the default edition is embedded")
}

/// The edition a file that names none is read as ([`UNNAMED_EDITION`]).
pub fn unnamed_edition() -> &'static Catalog {
    edition(UNNAMED_EDITION).expect("the unnamed edition is embedded")
}

/// The edition provisor's checks name provisions in ([`CHECKS_EDITION`]).
pub fn checks_edition() -> &'static Catalog {
    edition(CHECKS_EDITION).expect("the checks' edition is embedded")
}
