//! The findings contract (`provisor.findings/2`): what automated checks observed, as
//! written by `provisor scan` and read back through an assessment's `[[scan]]` entries.
//! Parsing validates everything the engine relies on and names the place of any error,
//! and carries findings numbered in one edition into the assessment's edition.
//! `provisor.findings/1` (no edition: numbered in V2.1.1) is still read.

use std::fmt;

use provisor_catalog::{Catalog, ConditionId};
use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// The schema id of a findings file: `edition` names the edition its provisions and
/// inferred conditions are numbered in.
pub const FINDINGS_SCHEMA: &str = "provisor.findings/2";

/// The first schema, still read: it names no edition and is numbered in V2.1.1.
pub const FINDINGS_SCHEMA_V1: &str = "provisor.findings/1";

/// What a check observed about one or more provisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The observation shows a provision is not met.
    Fail,
    /// The observation shows a provision is met.
    Pass,
    /// Useful context; neither pass nor fail.
    Info,
    /// The check could not decide (timeout, unknown format, missing permission).
    Inconclusive,
}

impl Outcome {
    /// The contract spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Fail => "fail",
            Outcome::Pass => "pass",
            Outcome::Info => "info",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Exploitable at scale, fix before release.
    Critical,
    /// Serious.
    High,
    /// Moderate.
    Medium,
    /// Minor.
    Low,
    /// No risk by itself.
    Info,
}

impl Severity {
    /// The contract spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// The severity of a vulnerability database's rating ("critical", "high", "medium",
    /// "low"); medium when the rating is missing or unknown.
    pub fn from_rating(rating: Option<&str>) -> Severity {
        match rating {
            Some("critical") => Severity::Critical,
            Some("high") => Severity::High,
            Some("low") => Severity::Low,
            _ => Severity::Medium,
        }
    }
}

/// Where an observation was made: a file in a firmware image or a network service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Absolute path inside the unpacked root filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Line in that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Chain of containers the file came out of (`uImage@0 > squashfs@0x170000`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Host of a network service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port of a network service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `tcp` or `udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// Service identified on the port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(path) = &self.path {
            parts.push(match self.line {
                Some(line) => format!("{path}:{line}"),
                None => path.clone(),
            });
        }
        if let Some(container) = &self.container {
            parts.push(format!("in {container}"));
        }
        if let Some(host) = &self.host {
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            let mut text = match self.port {
                Some(port) => format!("{host}:{port}"),
                None => host,
            };
            if let Some(transport) = &self.transport {
                text.push('/');
                text.push_str(transport);
            }
            if let Some(service) = &self.service {
                text.push_str(&format!(" ({service})"));
            }
            parts.push(text);
        }
        formatter.write_str(&parts.join(" "))
    }
}

/// One observation of an automated check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable content hash: the same observation has the same id in every run.
    pub id: String,
    /// The check that made it (`firmware.default-password`).
    pub check: String,
    /// Every provision it bears on, most specific first.
    pub provisions: Vec<String>,
    /// Fail, pass, info or inconclusive.
    pub outcome: Outcome,
    /// How much it matters.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// More words.
    #[serde(default)]
    pub detail: String,
    /// Where.
    #[serde(default)]
    pub location: Location,
    /// Redacted, check-specific evidence.
    #[serde(default)]
    pub evidence: serde_json::Value,
}

/// What a scan looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `firmware` or `host`.
    pub kind: String,
    /// The image path, for firmware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The host, for a network scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// SHA-256 of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size of the image in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A software component found on the device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Name (`busybox`).
    pub name: String,
    /// Version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// CPE 2.3 name, with the vendor and product as NVD writes them, so a component
    /// without a package ecosystem can be matched against CVE data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    /// The source package a distribution's package was built from (`zlib` for
    /// `zlib1g`), when its database says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_package: Option<String>,
    /// How it was identified (`package database: zlib1g 1:1.2.13.dfsg-1`, `version
    /// string`, `file name`); one component found in several ways lists each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Where it was found.
    #[serde(default)]
    pub locations: Vec<String>,
}

/// A condition answer a scan inferred from evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InferredCondition {
    /// The edition the condition is numbered in, when not the file's (V2.1.1's 14 is not
    /// V3.1.3's 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// The condition or feature.
    pub condition: ConditionId,
    /// Whether it holds.
    pub answer: bool,
    /// The evidence, in words.
    pub because: String,
}

/// A container a firmware scan opened: a filesystem, an archive, a wrapper or a
/// compressed stream, and where it lies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// Its chain, as findings' `location.container` names it (`uImage@0x0 > lzma@0x40`).
    pub chain: String,
    /// Its format (`squashfs`, `uImage`, `gzip`).
    pub format: String,
    /// Its offset in what holds it (the image, or its parent's payload).
    pub offset: u64,
    /// Its offset in the image file, when it lies in the image as it is (not inside a
    /// decompressed stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_offset: Option<u64>,
    /// The bytes it spans, when its format says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The chain of what holds it; none for a container in the image itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The files it put into the root filesystem.
    #[serde(default)]
    pub files: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tool {
    name: String,
    version: String,
}

/// A whole findings file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingsFile {
    /// Always [`FINDINGS_SCHEMA`] when written.
    pub schema: String,
    /// The edition the findings' provisions and inferred conditions are numbered in.
    #[serde(default)]
    pub edition: String,
    tool: Tool,
    /// What was scanned.
    pub target: Target,
    /// How long the scan took.
    #[serde(default)]
    pub duration_ms: u64,
    /// Components found.
    #[serde(default)]
    pub components: Vec<Component>,
    /// Condition answers inferred from evidence.
    #[serde(default)]
    pub inferred_conditions: Vec<InferredCondition>,
    /// The containers a firmware scan opened, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    /// The findings.
    pub findings: Vec<Finding>,
}

impl FindingsFile {
    /// An empty findings document of provisor at `version` about `target`.
    pub fn new(version: &str, target: Target) -> Self {
        FindingsFile {
            schema: FINDINGS_SCHEMA.to_owned(),
            edition: provisor_catalog::CHECKS_EDITION.to_owned(),
            tool: Tool {
                name: "provisor".to_owned(),
                version: version.to_owned(),
            },
            target,
            duration_ms: 0,
            components: Vec::new(),
            inferred_conditions: Vec::new(),
            containers: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// Whether any finding fails.
    pub fn has_failure(&self) -> bool {
        self.findings
            .iter()
            .any(|finding| finding.outcome == Outcome::Fail)
    }

    /// The name and version of the tool that wrote the file.
    pub fn tool(&self) -> (&str, &str) {
        (&self.tool.name, &self.tool.version)
    }
}

/// Parses and validates a findings file, and carries it into `catalog`'s edition: the
/// findings' provisions through the edition's finding rules, the inferred conditions
/// through its migration map (an inference numbered in `catalog`'s edition is kept as
/// it is, and comes first). `origin` names the file in messages.
pub fn parse_findings(
    text: &str,
    origin: &str,
    catalog: &Catalog,
) -> Result<FindingsFile, InputError> {
    let mut file: FindingsFile = serde_json::from_str(text).map_err(|error| {
        let message = error.to_string();
        // serde_json appends " at line L column C"; the location carries it instead.
        let message = match message.rfind(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message,
        };
        InputError::new(format!("malformed findings file: {message}"))
            .at_line(origin, error.line() as u32, error.column() as u32)
            .help(format!(
                "a findings file is the JSON that `provisor scan … --format json` writes (schema {FINDINGS_SCHEMA})"
            ))
    })?;
    let at = |pointer: String| InputError::new(String::new()).at_pointer(origin, pointer);
    if file.schema == FINDINGS_SCHEMA_V1 {
        file.edition = provisor_catalog::UNNAMED_EDITION.to_owned();
    } else if file.schema != FINDINGS_SCHEMA {
        return Err(InputError {
            message: format!(
                "unsupported findings schema \"{}\", expected \"{FINDINGS_SCHEMA}\"",
                file.schema
            ),
            ..at("/schema".into())
        });
    }
    let Some(numbered) = provisor_catalog::edition(&file.edition) else {
        return Err(InputError {
            message: format!("unknown edition \"{}\"", file.edition),
            help: Some(format!(
                "editions known to this version: {}",
                provisor_catalog::edition_ids().join(", ")
            )),
            ..at("/edition".into())
        });
    };
    let carried = numbered.id != catalog.id;
    if carried
        && catalog
            .migration
            .as_ref()
            .is_none_or(|migration| migration.from != numbered.id)
    {
        return Err(InputError {
            message: format!(
                "the findings are numbered in {}, which cannot be carried into {}",
                numbered.id, catalog.id
            ),
            help: Some(format!(
                "scan again, or use an assessment of {} or of an edition that migrates from it",
                numbered.id
            )),
            ..at("/edition".into())
        });
    }
    for (position, inferred) in file.inferred_conditions.iter().enumerate() {
        let edition = inferred.edition.as_deref().unwrap_or(&file.edition);
        let known = provisor_catalog::edition(edition)
            .is_some_and(|edition| edition.condition(inferred.condition.as_str()).is_some());
        if !known {
            return Err(InputError {
                message: format!("unknown condition {} in {edition}", inferred.condition),
                ..at(format!("/inferred_conditions/{position}/condition"))
            });
        }
    }
    for (position, finding) in file.findings.iter().enumerate() {
        if finding.id.trim().is_empty() {
            return Err(InputError {
                message: "finding has an empty id".into(),
                ..at(format!("/findings/{position}/id"))
            });
        }
        if finding.provisions.is_empty() {
            return Err(InputError {
                message: format!("finding {} names no provision", finding.id),
                ..at(format!("/findings/{position}/provisions"))
            });
        }
        for (index, provision) in finding.provisions.iter().enumerate() {
            if numbered.provision(provision).is_none() {
                return Err(InputError {
                    message: format!("unknown provision \"{provision}\" in {}", numbered.id),
                    help: Some(format!(
                        "run `provisor catalog --edition {}` for the provision ids",
                        numbered.id
                    )),
                    ..at(format!("/findings/{position}/provisions/{index}"))
                });
            }
        }
    }
    if carried {
        carry(&mut file, catalog);
    }
    Ok(file)
}

/// Renumbers a validated findings file into `catalog`'s edition (see [`parse_findings`]).
fn carry(file: &mut FindingsFile, catalog: &Catalog) {
    for finding in &mut file.findings {
        let evidence = |field: &str| {
            finding
                .evidence
                .get(field)
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        };
        let provisions: Vec<String> = catalog
            .carry_finding(&finding.check, &finding.provisions, evidence)
            .into_iter()
            .map(str::to_owned)
            .collect();
        finding.provisions = provisions;
    }
    let from = file.edition.clone();
    let mut inferred: Vec<InferredCondition> = file
        .inferred_conditions
        .iter()
        .filter(|inferred| inferred.edition.as_deref() == Some(catalog.id.as_str()))
        .map(|inferred| InferredCondition {
            edition: None,
            ..inferred.clone()
        })
        .collect();
    let migration = catalog.migration.as_ref();
    for old in file.inferred_conditions.iter().filter(|inferred| {
        inferred
            .edition
            .as_deref()
            .is_none_or(|edition| edition == from)
    }) {
        let Some(moved) =
            migration.and_then(|migration| migration.condition(old.condition.as_str()))
        else {
            continue;
        };
        if !moved.carries(old.answer) {
            continue;
        }
        for successor in &moved.to {
            if inferred.iter().all(|known| &known.condition != successor) {
                inferred.push(InferredCondition {
                    edition: None,
                    condition: successor.clone(),
                    answer: old.answer,
                    because: old.because.clone(),
                });
            }
        }
    }
    file.inferred_conditions = inferred;
    file.edition = catalog.id.clone();
}
