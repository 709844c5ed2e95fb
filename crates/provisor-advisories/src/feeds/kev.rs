//! CISA's catalogue of known exploited vulnerabilities
//! (`known_exploited_vulnerabilities.json`): CVE ids with the date each was added. It
//! names no versions: it marks the findings of vulnerabilities already matched.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The most entries read (the catalogue holds about 1 500).
const MAX_ENTRIES: usize = 1_000_000;

/// One known exploited vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exploited {
    /// `CVE-2021-44228`.
    #[serde(rename = "cveID")]
    pub cve_id: String,
    /// When CISA added it (`2021-12-10`).
    #[serde(default)]
    pub date_added: String,
    /// Its name in the catalogue.
    #[serde(default)]
    pub vulnerability_name: String,
    /// When federal agencies must have acted.
    #[serde(default)]
    pub due_date: String,
    /// `Known` when ransomware campaigns use it.
    #[serde(default)]
    pub known_ransomware_campaign_use: String,
}

#[derive(Deserialize)]
struct Catalogue {
    vulnerabilities: Vec<Exploited>,
}

/// Reads the catalogue (gzip or not).
pub fn read(path: &Path) -> Result<Vec<Exploited>, Error> {
    let reader = super::open(path)?;
    let catalogue: Catalogue =
        serde_json::from_reader(reader).map_err(|error| crate::parse_error(path, &error))?;
    if catalogue.vulnerabilities.len() > MAX_ENTRIES {
        return Err(super::read_error(
            path,
            &format!("more than {MAX_ENTRIES} entries"),
        ));
    }
    Ok(catalogue
        .vulnerabilities
        .into_iter()
        .filter(|entry| entry.cve_id.starts_with("CVE-"))
        .collect())
}
