//! Security advisories for the components provisor finds. Advisories are imported from
//! files in the OSV format (<https://ossf.github.io/osv-schema/>: one advisory per file,
//! or an array of them), as the OSV project and the distributions publish them, into a
//! compact local database (`provisor.advisories/1`); nothing is fetched at scan time.
//! A component (name, version, package URL) is matched against each advisory's affected
//! packages and version ranges.
//!
//! Matching: an affected package with a `purl` matches components of the same package
//! type and name; one of an ecosystem (`Debian:12`, `Alpine:v3.18`, `OpenWrt`, `Linux`)
//! matches components of the corresponding package type (`deb`, `apk`, `opkg`; the
//! kernel by name); one without either matches upstream components (`pkg:generic`) by
//! name. Versions are compared as the range says: `SEMVER` by semantic versioning,
//! `ECOSYSTEM` ranges and explicit version lists by dpkg's ordering, which also orders
//! upstream C projects' versions sensibly. `GIT` ranges cannot be evaluated against a
//! version and are left out. The affected packages are indexed by package type and
//! name the first time a database is matched against, so a scan looks at the advisories
//! of its components' packages only, however large the database.

pub mod cvss;
pub mod cyclonedx;
pub mod feeds;
pub mod version;
pub mod yocto;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use version::Scheme;

/// The format tag of the database.
pub const FORMAT: &str = "provisor.advisories/1";

/// The largest advisory file read.
pub(crate) const MAX_FILE: u64 = 16 << 20;
/// The largest database read: an import of a whole ecosystem's advisories is far larger
/// than one advisory file.
const MAX_DATABASE: u64 = 1 << 30;
/// The most files one import reads.
const MAX_FILES: usize = 2_000_000;
/// Directories nested deeper than this are not entered.
const MAX_DEPTH: usize = 16;

/// The local advisory database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// Always [`FORMAT`].
    pub format: String,
    /// When the import ran (RFC 3339).
    pub imported: String,
    /// Where the advisories came from.
    pub source: String,
    /// The advisories.
    pub advisories: Vec<Advisory>,
    /// The advisories by the keys of the components they may affect, made on first use.
    #[serde(skip)]
    index: OnceLock<Index>,
}

/// The advisories by the keys of the components they may affect ([`Advisory::keys`]):
/// their positions, in order.
type Index = HashMap<(String, String), Vec<usize>>;

/// Equal when they hold the same: the index is only a way to read them.
impl PartialEq for Database {
    fn eq(&self, other: &Database) -> bool {
        self.format == other.format
            && self.imported == other.imported
            && self.source == other.source
            && self.advisories == other.advisories
    }
}

/// One advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advisory {
    /// `CVE-2022-48174`, `GHSA-…`, `DSA-…`.
    pub id: String,
    /// Other ids of the same vulnerability.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// One line.
    #[serde(default)]
    pub summary: String,
    /// The CVSS v3 base score, when the advisory has a v3 vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// `critical`, `high`, `medium`, `low`, or none when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Affected packages.
    pub affected: Vec<Affected>,
    /// When its source last changed it (RFC 3339), when the source says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// When its source withdrew it (RFC 3339): it affects nothing any more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
}

/// An affected package and its versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Affected {
    /// The OSV ecosystem (`Debian:12`), empty for upstream.
    #[serde(default)]
    pub ecosystem: String,
    /// The package name.
    pub name: String,
    /// The package URL without version, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Versions listed one by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// The CPE `vendor:product` it is named by (NVD's data), lower-cased: it matches
    /// components whose CPE names the same vendor and product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
}

/// A version range: events in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM` or `GIT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `introduced`, `fixed`, `last_affected` and `limit` events.
    pub events: Vec<Event>,
}

/// One event of a range; exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// The first affected version (`0`: from the beginning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// The versions after this one are affected (NVD's `versionStartExcluding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_after: Option<String>,
    /// The first version no longer affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The last affected version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// An upper bound on the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// A component to look up.
#[derive(Debug, Clone, Copy)]
pub struct Component<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its version.
    pub version: &'a str,
    /// Its package URL, when known.
    pub purl: Option<&'a str>,
    /// Its CPE 2.3 name, when known.
    pub cpe: Option<&'a str>,
    /// The source package a distribution's package was built from, when known: the
    /// distributions' advisories name source packages.
    pub source: Option<&'a str>,
}

/// An advisory that affects a component.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'a> {
    /// The advisory.
    pub advisory: &'a Advisory,
    /// The first fixed version, when the advisory gives one.
    pub fixed: Option<String>,
}

impl Match<'_> {
    /// "fixed in 1.2.3", or that no fixed version is listed.
    pub fn fixed_text(&self) -> String {
        self.fixed
            .as_deref()
            .map_or("no fixed version is listed".to_owned(), |fixed| {
                format!("fixed in {fixed}")
            })
    }

    /// The evidence of a finding about this match on `component`.
    pub fn evidence(&self, component: Component<'_>) -> serde_json::Value {
        serde_json::json!({
            "advisory": self.advisory.id,
            "aliases": self.advisory.aliases,
            "component": component.name,
            "version": component.version,
            "purl": component.purl,
            "score": self.advisory.score,
            "severity": self.advisory.severity,
            "fixed": self.fixed,
        })
    }
}

/// Why an import or a load failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file is not valid OSV (or not a provisor advisory database).
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
}

/// The OSV fields provisor reads; others are ignored.
#[derive(Deserialize)]
struct OsvRecord {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    upstream: Vec<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    severity: Vec<OsvSeverity>,
    #[serde(default)]
    affected: Vec<OsvAffected>,
    #[serde(default)]
    database_specific: serde_json::Value,
}

#[derive(Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct OsvAffected {
    package: Option<OsvPackage>,
    #[serde(default)]
    ranges: Vec<Range>,
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct OsvPackage {
    #[serde(default)]
    ecosystem: String,
    name: String,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OsvFile {
    One(Box<OsvRecord>),
    Many(Vec<OsvRecord>),
}

impl From<OsvRecord> for Advisory {
    fn from(record: OsvRecord) -> Advisory {
        let score = record
            .severity
            .iter()
            .filter(|severity| severity.kind.starts_with("CVSS_V3"))
            .find_map(|severity| cvss::base_score(&severity.score));
        let severity = score
            .map(|score| cvss::rating(score).to_owned())
            .or_else(|| {
                record.database_specific["severity"].as_str().map(|rating| {
                    match rating.to_ascii_lowercase().as_str() {
                        "moderate" => "medium".to_owned(),
                        other => other.to_owned(),
                    }
                })
            });
        let summary = if record.summary.is_empty() {
            record.details.lines().next().unwrap_or("").to_owned()
        } else {
            record.summary
        };
        // A distribution's record about an upstream CVE (`DEBIAN-CVE-…`) names it in
        // `upstream`: it joins the aliases, so findings of both share the CVE.
        let mut aliases = record.aliases;
        for upstream in record.upstream {
            if upstream.starts_with("CVE-") && !aliases.contains(&upstream) {
                aliases.push(upstream);
            }
        }
        Advisory {
            id: record.id,
            aliases,
            summary,
            score,
            severity,
            affected: record
                .affected
                .into_iter()
                .filter_map(|affected| {
                    let package = affected.package?;
                    Some(Affected {
                        ecosystem: package.ecosystem,
                        name: package.name,
                        purl: package
                            .purl
                            .map(|purl| purl.split('@').next().unwrap_or("").to_owned()),
                        ranges: affected.ranges,
                        versions: affected.versions,
                        cpe: None,
                    })
                })
                .collect(),
            modified: record.modified,
            withdrawn: record.withdrawn,
        }
    }
}

/// Line and column of a byte offset's error, for serde_json errors.
pub(crate) fn parse_error(path: &Path, error: &serde_json::Error) -> Error {
    Error::Parse {
        path: path.to_owned(),
        line: error.line(),
        column: error.column(),
        message: error
            .to_string()
            .split(" at line")
            .next()
            .unwrap_or("")
            .to_owned(),
    }
}

pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<String, Error> {
    use std::io::Read;
    let read_error = |message: String| Error::Read {
        path: path.to_owned(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|error| read_error(error.to_string()))?;
    let mut text = String::new();
    file.take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|error| read_error(format!("not UTF-8 text ({error})")))?;
    if text.len() as u64 > limit {
        return Err(read_error(format!("larger than {limit} bytes")));
    }
    Ok(text)
}

/// The OSV files under a directory (or the file itself), in path order.
pub(crate) fn json_files(root: &Path) -> Result<Vec<PathBuf>, Error> {
    if root.is_file() {
        return Ok(vec![root.to_owned()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![(root.to_owned(), 0)];
    while let Some((directory, depth)) = pending.pop() {
        let entries = std::fs::read_dir(&directory).map_err(|error| Error::Read {
            path: directory.clone(),
            message: error.to_string(),
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            // Links are not followed: the import reads what the directory holds.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && depth < MAX_DEPTH {
                pending.push((path, depth + 1));
            } else if kind.is_file() && path.extension().is_some_and(|ext| ext == "json") {
                files.push(path);
                if files.len() > MAX_FILES {
                    return Err(Error::Read {
                        path: root.to_owned(),
                        message: format!("more than {MAX_FILES} advisory files"),
                    });
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Parses the text of one OSV file: one advisory, or an array of them.
pub fn parse_osv(text: &str) -> Result<Vec<Advisory>, serde_json::Error> {
    match serde_json::from_str::<OsvFile>(text) {
        Ok(OsvFile::One(record)) => Ok(vec![Advisory::from(*record)]),
        Ok(OsvFile::Many(records)) => Ok(records.into_iter().map(Advisory::from).collect()),
        // Explain with the stricter single-record parse, which points at the field that
        // is wrong.
        Err(error) => Err(serde_json::from_str::<OsvRecord>(text)
            .err()
            .unwrap_or(error)),
    }
}

impl Database {
    /// Imports every `.json` file under `root` (a directory, or one file). A file that
    /// is not valid OSV stops the import with its place.
    pub fn import(root: &Path, imported: &str) -> Result<Database, Error> {
        let mut advisories = Vec::new();
        for path in json_files(root)? {
            let text = read_bounded(&path, MAX_FILE)?;
            match serde_json::from_str::<OsvFile>(&text) {
                Ok(OsvFile::One(record)) => advisories.push(Advisory::from(*record)),
                Ok(OsvFile::Many(records)) => {
                    advisories.extend(records.into_iter().map(Advisory::from))
                }
                Err(error) => {
                    // Explain with the stricter single-record parse, which points at
                    // the field that is wrong.
                    let error = serde_json::from_str::<OsvRecord>(&text)
                        .err()
                        .unwrap_or(error);
                    return Err(parse_error(&path, &error));
                }
            }
        }
        advisories.sort_by(|a, b| a.id.cmp(&b.id));
        advisories.dedup_by(|a, b| a.id == b.id);
        Ok(Database::from_advisories(
            advisories,
            imported,
            &root.display().to_string(),
        ))
    }

    /// Reads a database written by [`Database::to_json`].
    pub fn load(path: &Path) -> Result<Database, Error> {
        let text = read_bounded(path, MAX_DATABASE)?;
        let database: Database =
            serde_json::from_str(&text).map_err(|error| parse_error(path, &error))?;
        if database.format != FORMAT {
            return Err(Error::Parse {
                path: path.to_owned(),
                line: 1,
                column: 1,
                message: format!(
                    "format \"{}\" is not {FORMAT}; import the advisories again",
                    database.format
                ),
            });
        }
        Ok(database)
    }

    /// The database as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the database serializes")
    }

    /// A database of already parsed advisories.
    pub fn from_advisories(advisories: Vec<Advisory>, imported: &str, source: &str) -> Database {
        Database {
            format: FORMAT.to_owned(),
            imported: imported.to_owned(),
            source: source.to_owned(),
            advisories,
            index: OnceLock::new(),
        }
    }

    /// Number of affected packages over all advisories.
    pub fn affected_count(&self) -> usize {
        self.advisories.iter().map(|a| a.affected.len()).sum()
    }

    /// The advisories that affect a component, in id order.
    pub fn matches<'a>(&'a self, component: Component<'_>) -> Vec<Match<'a>> {
        let index = self.index.get_or_init(|| {
            let mut index = Index::new();
            for (at, advisory) in self.advisories.iter().enumerate() {
                for key in advisory.keys() {
                    index.entry(key).or_default().push(at);
                }
            }
            index
        });
        let mut candidates: Vec<usize> = component
            .keys()
            .iter()
            .filter_map(|key| index.get(key))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .filter_map(|at| self.advisories[at].affects(component))
            .collect()
    }
}

impl Component<'_> {
    /// The keys it is looked up by: its package type and name (the source package's
    /// for a Debian package, which is what the distributions' advisories name), and its
    /// CPE vendor and product when it has a CPE name.
    pub fn keys(&self) -> Vec<(String, String)> {
        let kind = self
            .purl
            .and_then(purl_parts)
            .map_or_else(|| "generic".to_owned(), |(kind, _)| kind);
        let name = match (kind.as_str(), self.source) {
            ("deb", Some(source)) => source,
            _ => self.name,
        };
        let mut keys = vec![(kind, name.to_ascii_lowercase())];
        if let Some(product) = self.cpe.and_then(cpe_product) {
            keys.push(("cpe".to_owned(), product));
        }
        keys
    }

    /// The Debian release its version or package URL names (`12`), if any: a
    /// `distro=debian-12` or `distro=bookworm` qualifier, or a stable update's
    /// `+deb12u1` in the version.
    fn debian_release(&self) -> Option<String> {
        let qualifier = self
            .purl
            .and_then(|purl| purl.split_once('?'))
            .and_then(|(_, query)| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("distro="))
            });
        if let Some(distro) = qualifier {
            let distro = distro.strip_prefix("debian-").unwrap_or(distro);
            return Some(debian_codename(distro).unwrap_or(distro).to_owned());
        }
        let at = self.version.find("deb")?;
        let digits: String = self.version[at + 3..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (!digits.is_empty()).then_some(digits)
    }
}

/// The release number of a Debian codename.
pub fn debian_codename(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "duke" => "15",
        "sid" | "unstable" => "sid",
        _ => return None,
    })
}

impl Advisory {
    /// The keys of the components it may affect (see [`Component::keys`]), without
    /// repeats.
    pub fn keys(&self) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> =
            self.affected.iter().filter_map(affected_key).collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The CVE id it is about: its own id, or the first CVE among its aliases, or its
    /// id when it names none. Findings of several sources about one vulnerability share
    /// it.
    pub fn vulnerability(&self) -> &str {
        let cve = |id: &str| id.starts_with("CVE-") && !id.contains('/');
        if cve(&self.id) {
            return &self.id;
        }
        self.aliases
            .iter()
            .find(|alias| cve(alias))
            .unwrap_or(&self.id)
    }

    /// Whether it affects a component, and how. A withdrawn advisory affects nothing.
    /// Of a Debian package's entries, those of the release the component belongs to
    /// count ([`Component`]'s version or package URL names it); when it names none,
    /// those of the newest release the advisory lists.
    pub fn affects(&self, component: Component<'_>) -> Option<Match<'_>> {
        if self.withdrawn.is_some() {
            return None;
        }
        self.entries_for(component)
            .into_iter()
            .find_map(|affected| {
                // NVD's ranges are of upstream versions: a distribution's package is
                // compared by its CPE's version (`1.35.0`), not its own
                // (`1:1.35.0-4+deb12u1`).
                let version = match &affected.cpe {
                    Some(_) => component
                        .cpe
                        .and_then(cpe_version)
                        .unwrap_or(component.version),
                    None => component.version,
                };
                affects(affected, version)
            })
            .map(|fixed| Match {
                advisory: self,
                fixed,
            })
    }

    /// Whether it names Debian's packages (the tracker's advisories, OSV's Debian
    /// ecosystems): a distribution's word on its own versions.
    pub fn is_debian(&self) -> bool {
        self.affected
            .iter()
            .any(|affected| affected.ecosystem.starts_with("Debian:"))
    }

    /// The version a Debian advisory says fixed a component's package in the
    /// component's release, when the component's version is at or past it by dpkg's
    /// ordering, which counts the distribution's revisions: `3.0.11-1~deb12u2` carries
    /// a fix backported to 3.0.11 that upstream made in 3.0.13. An upstream advisory's
    /// match on such a component is settled by the backport. `None` when the advisory
    /// still affects the version, or says nothing of the package in that release.
    pub fn fixed_in_distribution(&self, component: Component<'_>) -> Option<String> {
        if self.withdrawn.is_some() {
            return None;
        }
        let entries: Vec<&Affected> = self
            .entries_for(component)
            .into_iter()
            .filter(|affected| affected.ecosystem.starts_with("Debian:"))
            .collect();
        if entries
            .iter()
            .any(|affected| affects(affected, component.version).is_some())
        {
            return None;
        }
        entries
            .iter()
            .flat_map(|affected| &affected.ranges)
            .flat_map(|range| &range.events)
            .filter_map(|event| event.fixed.as_deref())
            .find(|fixed| version::dpkg(component.version, fixed) != Ordering::Less)
            .map(str::to_owned)
    }

    /// Its entries that name a component's package: of a Debian package's, those of
    /// the component's release (or the newest release listed).
    fn entries_for(&self, component: Component<'_>) -> Vec<&Affected> {
        let keys = component.keys();
        let candidates: Vec<&Affected> = self
            .affected
            .iter()
            .filter(|affected| affected_key(affected).is_some_and(|key| keys.contains(&key)))
            .collect();
        let release = |affected: &Affected| {
            affected
                .ecosystem
                .strip_prefix("Debian:")
                .map(|release| release.split(':').next().unwrap_or("").to_owned())
        };
        let wanted = component.debian_release().or_else(|| {
            candidates
                .iter()
                .filter_map(|affected| release(affected))
                .max_by(|a, b| debian_order(a).cmp(&debian_order(b)))
        });
        candidates
            .into_iter()
            .filter(|affected| match release(affected) {
                Some(release) => Some(&release) == wanted.as_ref(),
                None => true,
            })
            .collect()
    }
}

/// Debian releases in order, `sid` last but below any numbered release it is not: a
/// component is matched against the newest stable release an advisory lists.
fn debian_order(release: &str) -> u64 {
    release.parse().unwrap_or(0)
}

/// `cpe:2.3:PART:VENDOR:PRODUCT:…` → `vendor:product`, lower-cased; also a bare
/// `vendor:product`.
pub fn cpe_product(cpe: &str) -> Option<String> {
    let fields: Vec<&str> = match cpe.strip_prefix("cpe:2.3:") {
        Some(rest) => rest.split(':').skip(1).take(2).collect(),
        None => cpe.split(':').take(2).collect(),
    };
    match fields.as_slice() {
        [vendor, product]
            if !vendor.is_empty() && !product.is_empty() && *vendor != "*" && *product != "*" =>
        {
            Some(format!("{vendor}:{product}").to_ascii_lowercase())
        }
        _ => None,
    }
}

/// The version field of a CPE 2.3 name, unless it is `*` or `-`.
fn cpe_version(cpe: &str) -> Option<&str> {
    let version = cpe.strip_prefix("cpe:2.3:")?.split(':').nth(3)?;
    (!matches!(version, "*" | "-" | "")).then_some(version)
}

/// `pkg:TYPE/[NAMESPACE/]NAME[@VERSION][?…]` → (type, name), lower-cased.
fn purl_parts(purl: &str) -> Option<(String, String)> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split(['@', '?', '#']).next()?;
    let (kind, path) = rest.split_once('/')?;
    let name = path.rsplit('/').next()?;
    Some((kind.to_ascii_lowercase(), name.to_ascii_lowercase()))
}

/// The package type an OSV ecosystem's packages have.
fn ecosystem_type(ecosystem: &str) -> Option<&'static str> {
    let base = ecosystem.split(':').next().unwrap_or("");
    match base {
        "Debian" | "Ubuntu" => Some("deb"),
        "Alpine" => Some("apk"),
        "OpenWrt" => Some("opkg"),
        "Linux" => Some("generic"),
        _ => None,
    }
}

/// The key of the components an affected package matches: its CPE's vendor and
/// product, else its purl's type and name, else its ecosystem's package type
/// (`generic` without one) and name; none for an ecosystem of no package type provisor
/// finds.
fn affected_key(affected: &Affected) -> Option<(String, String)> {
    if let Some(product) = &affected.cpe {
        return Some(("cpe".to_owned(), product.clone()));
    }
    if let Some(key) = affected.purl.as_deref().and_then(purl_parts) {
        return Some(key);
    }
    let name = affected.name.to_ascii_lowercase();
    if affected.ecosystem.is_empty() {
        return Some(("generic".to_owned(), name));
    }
    ecosystem_type(&affected.ecosystem).map(|kind| (kind.to_owned(), name))
}

/// Whether `version` is affected; `Some(first fixed version, if any)` when it is.
fn affects(affected: &Affected, version: &str) -> Option<Option<String>> {
    if affected.versions.iter().any(|listed| listed == version) {
        return Some(None);
    }
    for range in &affected.ranges {
        let scheme = match range.kind.as_str() {
            "SEMVER" => Scheme::Semver,
            "ECOSYSTEM" | "NVD" => Scheme::Dpkg,
            _ => continue,
        };
        let compare = |bound: &str| version::compare(scheme, version, bound);
        let opens = |event: &Event| {
            if let Some(introduced) = &event.introduced {
                Some(introduced == "0" || compare(introduced) != Ordering::Less)
            } else {
                event
                    .introduced_after
                    .as_ref()
                    .map(|after| compare(after) == Ordering::Greater)
            }
        };
        // Each `introduced` opens an interval that the next `fixed` or `last_affected`
        // closes.
        let mut open: Option<bool> = None;
        for event in &range.events {
            if let Some(within) = opens(event) {
                open = Some(within);
            } else if let Some(fixed) = event.fixed.as_deref().or(event.limit.as_deref()) {
                if open.take() == Some(true) && compare(fixed) == Ordering::Less {
                    return Some(event.fixed.clone());
                }
            } else if let Some(last) = &event.last_affected
                && open.take() == Some(true)
                && compare(last) != Ordering::Greater
            {
                return Some(None);
            }
        }
        if open == Some(true) {
            return Some(None);
        }
    }
    None
}
