//! Regulatory regimes as data: each names the requirements a law sets and the
//! provisions of an edition of EN 303 645 that it deems to meet them (the UK PSTI
//! regulations deem their password requirement met by 5.1-1 and 5.1-2 of V2.1.1).
//! Adding a regime means adding a file under `data/regimes/` and one line to
//! [`REGIME_SOURCES`].

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::CatalogError;

/// One regime: a law's security requirements and the provisions that meet them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    /// Stable id (`uk-psti`), as `--regime` takes it.
    pub id: String,
    /// A short title for headings.
    pub title: String,
    /// The law's full title.
    pub legislation: String,
    /// Its citation (`SI 2023/1007`).
    pub citation: String,
    /// When it came into force.
    pub in_force: String,
    /// Where its text is published.
    pub url: String,
    /// The edition of EN 303 645 whose provisions it cites.
    pub edition: String,
    /// The requirements, in the law's order.
    #[serde(rename = "requirement")]
    pub requirements: Vec<Requirement>,
    /// What a statement of compliance contains, when the law prescribes one.
    #[serde(default)]
    pub statement: Option<StatementContent>,
}

/// One requirement of a regime.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Stable id (`passwords`).
    pub id: String,
    /// Its title in the law.
    pub title: String,
    /// What it asks, in provisor's words.
    pub summary: String,
    /// Where the law sets it (`Schedule 1, paragraph 1`).
    pub source: String,
    /// Where the law deems it met by the provisions (`Schedule 2, paragraph 1`).
    pub deemed: String,
    /// The provisions of the regime's edition that meet it, all of those that apply.
    pub provisions: Vec<String>,
    /// Another way the law allows it to be met, which provisor does not assess.
    #[serde(default)]
    pub alternative: Option<String>,
}

/// The minimum content of a statement of compliance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementContent {
    /// Where the law prescribes it.
    pub source: String,
    /// What it contains, in order.
    pub content: Vec<String>,
}

/// Every embedded regime: id and file.
const REGIME_SOURCES: &[(&str, &str)] =
    &[("uk-psti", include_str!("../data/regimes/uk-psti.toml"))];

/// Every embedded regime, parsed once. Panics only if embedded data is malformed, which
/// `cargo test` rules out before a release.
pub fn regimes() -> &'static [Regime] {
    static REGIMES: OnceLock<Vec<Regime>> = OnceLock::new();
    REGIMES.get_or_init(|| {
        REGIME_SOURCES
            .iter()
            .map(|&(id, text)| {
                toml::from_str(text)
                    .map_err(|error: toml::de::Error| CatalogError::Malformed {
                        edition: id,
                        file: "regime",
                        message: error.to_string(),
                    })
                    .unwrap_or_else(|error| panic!("{error}"))
            })
            .collect()
    })
}

/// The regime with this id.
pub fn regime(id: &str) -> Option<&'static Regime> {
    regimes().iter().find(|regime| regime.id == id)
}

/// The ids of every embedded regime, for error messages.
pub fn regime_ids() -> Vec<&'static str> {
    REGIME_SOURCES.iter().map(|&(id, _)| id).collect()
}

impl Regime {
    /// Everything wrong with the regime's data: an unknown edition or provision.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let Some(edition) = crate::edition(&self.edition) else {
            return vec![format!("{}: unknown edition {}", self.id, self.edition)];
        };
        for requirement in &self.requirements {
            if requirement.provisions.is_empty() {
                problems.push(format!(
                    "{}: {} names no provision",
                    self.id, requirement.id
                ));
            }
            for id in &requirement.provisions {
                if edition.provision(id).is_none() {
                    problems.push(format!(
                        "{}: {} names unknown provision {id} of {}",
                        self.id, requirement.id, self.edition
                    ));
                }
            }
        }
        problems
    }
}
