//! CycloneDX documents as a manufacturer hands them over: an SBOM, a VEX, or both in one
//! (<https://cyclonedx.org/docs/1.6/json/>). What is read: the components (nested ones
//! too) with their name, version, package URL, CPE and the patches their pedigree
//! lists; and each vulnerability's analysis (state, justification, responses, detail)
//! with the components it affects, one statement per affected reference. Everything
//! else is left alone. A statement that cannot be read is kept with its place and why,
//! so the caller can report it rather than drop it in silence.
//!
//! Known backports are read from the pedigree: a patch's `resolves` entries that name a
//! vulnerability, and CVE ids in the names of its diff (`CVE-2023-0464.patch`).

use serde::Deserialize;

/// The most components read (nested ones included).
pub const MAX_COMPONENTS: usize = 100_000;
/// The most statements read.
pub const MAX_STATEMENTS: usize = 100_000;
/// How deep nested components are followed.
const MAX_DEPTH: usize = 16;

/// A document read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Its `specVersion`.
    pub spec_version: String,
    /// Its serial number (`urn:uuid:…`), if it has one.
    pub serial_number: Option<String>,
    /// Its components, nested ones flattened, in document order.
    pub components: Vec<Component>,
    /// Its analysis statements, one per affected reference.
    pub statements: Vec<Statement>,
    /// What could not be read, with its place.
    pub unread: Vec<Unread>,
}

/// A component of the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Component {
    /// Where it is (`components[3].components[0]`).
    pub place: String,
    /// Its `bom-ref`.
    pub bom_ref: Option<String>,
    /// Its name.
    pub name: String,
    /// Its version (empty when it has none).
    pub version: String,
    /// Its package URL.
    pub purl: Option<String>,
    /// Its CPE name.
    pub cpe: Option<String>,
    /// The source package it was built from: a Debian package URL's `upstream`
    /// qualifier (as Syft writes it).
    pub source_package: Option<String>,
    /// The vulnerabilities its pedigree says patches resolve.
    pub backports: Vec<Backport>,
}

/// A vulnerability a patch of a component's pedigree resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backport {
    /// The vulnerability's id.
    pub vulnerability: String,
    /// What says so, in words (`patch (backport) CVE-2023-0464.patch resolves it`).
    pub evidence: String,
}

/// One analysis of one vulnerability for one affected reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Where it is (`vulnerabilities[2].affects[0]`).
    pub place: String,
    /// The vulnerability's id.
    pub vulnerability: String,
    /// The reference it affects: a `bom-ref`, or the fragment of a BOM-Link.
    pub reference: String,
    /// The analysis state.
    pub state: String,
    /// Its justification.
    pub justification: Option<String>,
    /// Its responses.
    pub response: Vec<String>,
    /// Its detail.
    pub detail: String,
}

/// A part of the document that could not be read as a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// Where it is.
    pub place: String,
    /// Why.
    pub reason: String,
}

#[derive(Deserialize)]
struct RawDocument {
    #[serde(rename = "bomFormat")]
    bom_format: Option<String>,
    #[serde(rename = "specVersion")]
    spec_version: Option<String>,
    #[serde(rename = "serialNumber")]
    serial_number: Option<String>,
    #[serde(default)]
    metadata: Option<RawMetadata>,
    #[serde(default)]
    components: Vec<RawComponent>,
    #[serde(default)]
    vulnerabilities: Vec<RawVulnerability>,
}

#[derive(Deserialize)]
struct RawMetadata {
    component: Option<Box<RawComponent>>,
}

#[derive(Deserialize)]
struct RawComponent {
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: Option<String>,
    purl: Option<String>,
    cpe: Option<String>,
    pedigree: Option<RawPedigree>,
    #[serde(default)]
    components: Vec<RawComponent>,
}

#[derive(Deserialize)]
struct RawPedigree {
    #[serde(default)]
    patches: Vec<RawPatch>,
}

#[derive(Deserialize)]
struct RawPatch {
    #[serde(rename = "type")]
    kind: Option<String>,
    diff: Option<RawDiff>,
    #[serde(default)]
    resolves: Vec<RawIssue>,
}

#[derive(Deserialize)]
struct RawDiff {
    url: Option<String>,
}

#[derive(Deserialize)]
struct RawIssue {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawVulnerability {
    id: Option<String>,
    analysis: Option<RawAnalysis>,
    #[serde(default)]
    affects: Vec<RawAffects>,
}

#[derive(Deserialize)]
struct RawAnalysis {
    state: Option<String>,
    justification: Option<String>,
    #[serde(default)]
    response: Vec<String>,
    detail: Option<String>,
}

#[derive(Deserialize)]
struct RawAffects {
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// Reads a CycloneDX JSON document. An error says what is wrong with it as a whole
/// (not JSON, not CycloneDX, too large); a statement or a component that cannot be
/// read is in [`Document::unread`].
pub fn read(bytes: &[u8]) -> Result<Document, String> {
    let raw: RawDocument = serde_json::from_slice(bytes).map_err(|error| {
        format!(
            "it is not a CycloneDX JSON document: {error} (line {}, column {})",
            error.line(),
            error.column()
        )
    })?;
    if raw.bom_format.as_deref() != Some("CycloneDX") {
        return Err(
            "it is not a CycloneDX JSON document: \"bomFormat\" is not \"CycloneDX\"".to_owned(),
        );
    }
    let spec_version = raw.spec_version.unwrap_or_default();
    if !matches!(spec_version.as_str(), "1.4" | "1.5" | "1.6" | "1.7") {
        return Err(format!(
            "CycloneDX {spec_version} has no VEX analysis: give a document of version 1.4 to 1.7"
        ));
    }
    let mut document = Document {
        spec_version,
        serial_number: raw.serial_number,
        ..Document::default()
    };
    let mut pending: Vec<(String, usize, RawComponent)> = raw
        .components
        .into_iter()
        .enumerate()
        .map(|(at, component)| (format!("components[{at}]"), 0, component))
        .rev()
        .collect();
    if let Some(metadata) = raw.metadata.and_then(|metadata| metadata.component) {
        // The document's subject: its nested components are the product's parts.
        for (at, component) in metadata.components.into_iter().enumerate().rev() {
            pending.push((format!("metadata.component.components[{at}]"), 1, component));
        }
    }
    while let Some((place, depth, raw)) = pending.pop() {
        if document.components.len() == MAX_COMPONENTS {
            document.unread.push(Unread {
                place,
                reason: format!("more than {MAX_COMPONENTS} components: the rest were not read"),
            });
            break;
        }
        for (at, child) in raw.components.into_iter().enumerate().rev() {
            if depth + 1 > MAX_DEPTH {
                document.unread.push(Unread {
                    place: format!("{place}.components[{at}]"),
                    reason: format!("nested deeper than {MAX_DEPTH} levels"),
                });
                continue;
            }
            pending.push((format!("{place}.components[{at}]"), depth + 1, child));
        }
        let backports = raw
            .pedigree
            .map(|pedigree| backports(&pedigree.patches))
            .unwrap_or_default();
        let source_package = raw.purl.as_deref().and_then(upstream);
        document.components.push(Component {
            place,
            bom_ref: raw.bom_ref,
            name: raw.name,
            version: raw.version.unwrap_or_default(),
            purl: raw.purl,
            cpe: raw.cpe,
            source_package,
            backports,
        });
    }
    for (at, vulnerability) in raw.vulnerabilities.into_iter().enumerate() {
        let place = format!("vulnerabilities[{at}]");
        let Some(id) = vulnerability.id.filter(|id| !id.trim().is_empty()) else {
            document.unread.push(Unread {
                place,
                reason: "it has no id".to_owned(),
            });
            continue;
        };
        let Some(analysis) = vulnerability.analysis else {
            document.unread.push(Unread {
                place,
                reason: format!(
                    "{id} has no analysis: it lists the vulnerability, it decides nothing"
                ),
            });
            continue;
        };
        let Some(state) = analysis.state else {
            document.unread.push(Unread {
                place,
                reason: format!("the analysis of {id} has no state"),
            });
            continue;
        };
        if vulnerability.affects.is_empty() {
            document.unread.push(Unread {
                place,
                reason: format!("{id} affects no component (\"affects\" is empty)"),
            });
            continue;
        }
        for (index, affects) in vulnerability.affects.into_iter().enumerate() {
            let place = format!("{place}.affects[{index}]");
            let Some(reference) = affects.reference.filter(|text| !text.trim().is_empty()) else {
                document.unread.push(Unread {
                    place,
                    reason: "it names no component (\"ref\" is missing)".to_owned(),
                });
                continue;
            };
            if document.statements.len() == MAX_STATEMENTS {
                document.unread.push(Unread {
                    place,
                    reason: format!(
                        "more than {MAX_STATEMENTS} statements: the rest were not read"
                    ),
                });
                return Ok(document);
            }
            // A BOM-Link (`urn:cdx:SERIAL/VERSION#REF`) names a component of another
            // document by its bom-ref.
            let reference = match reference.strip_prefix("urn:cdx:") {
                Some(link) => link
                    .split_once('#')
                    .map_or(reference.clone(), |(_, fragment)| percent_decode(fragment)),
                None => reference,
            };
            document.statements.push(Statement {
                place,
                vulnerability: id.clone(),
                reference,
                state: state.clone(),
                justification: analysis.justification.clone(),
                response: analysis.response.clone(),
                detail: analysis.detail.clone().unwrap_or_default(),
            });
        }
    }
    Ok(document)
}

/// The vulnerabilities a pedigree's patches resolve, with what says so.
fn backports(patches: &[RawPatch]) -> Vec<Backport> {
    let mut found: Vec<Backport> = Vec::new();
    for patch in patches {
        let kind = patch.kind.as_deref().unwrap_or("patch");
        let file = patch.diff.as_ref().and_then(|diff| diff.url.as_deref());
        let named = file.map_or_else(String::new, |url| {
            format!(" {}", url.rsplit('/').next().unwrap_or(url))
        });
        for issue in &patch.resolves {
            let Some(id) = issue.id.as_deref().or(issue.name.as_deref()) else {
                continue;
            };
            let security = issue.kind.as_deref() == Some("security");
            if !security && !is_vulnerability_id(id) {
                continue;
            }
            found.push(Backport {
                vulnerability: id.to_owned(),
                evidence: format!("the pedigree's {kind} patch{named} resolves {id}"),
            });
        }
        if let Some(url) = file {
            for id in cve_ids(url.rsplit('/').next().unwrap_or(url)) {
                found.push(Backport {
                    evidence: format!("the pedigree's {kind} patch{named} is named for {id}"),
                    vulnerability: id,
                });
            }
        }
    }
    found.sort_by(|a, b| a.vulnerability.cmp(&b.vulnerability));
    found.dedup_by(|later, first| later.vulnerability == first.vulnerability);
    found
}

/// Whether an id names a vulnerability (a CVE, a GitHub or OSV advisory).
pub fn is_vulnerability_id(id: &str) -> bool {
    !cve_ids(id).is_empty() || id.starts_with("GHSA-") || id.starts_with("OSV-")
}

/// The CVE ids in a text (a patch's file name: `CVE-2023-0464.patch`,
/// `0003-cve_2022_4450-fix.diff`), upper-cased, in order, without repeats.
pub fn cve_ids(text: &str) -> Vec<String> {
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut found: Vec<String> = Vec::new();
    let mut at = 0;
    while let Some(offset) = upper[at..].find("CVE") {
        let start = at + offset;
        at = start + 3;
        let separator = |index: usize| matches!(bytes.get(index), Some(b'-' | b'_'));
        if !separator(start + 3) {
            continue;
        }
        let year: String = upper[start + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if year.len() != 4 || !separator(start + 8) {
            continue;
        }
        let number: String = upper[start + 9..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if number.len() < 4 || number.len() > 7 {
            continue;
        }
        let id = format!("CVE-{year}-{number}");
        if !found.contains(&id) {
            found.push(id);
        }
        at = start + 9 + number.len();
    }
    found
}

/// The source package a Debian package URL names in its `upstream` qualifier
/// (`upstream=openssl`, or `upstream=glibc%402.36` with the source's version).
fn upstream(purl: &str) -> Option<String> {
    if !purl.starts_with("pkg:deb/") {
        return None;
    }
    let (_, query) = purl.split_once('?')?;
    let query = query.split('#').next().unwrap_or(query);
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("upstream="))?;
    let value = percent_decode(value);
    let name = value.split(['@', ' ']).next().unwrap_or(&value).trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// Decodes `%XX` escapes (a malformed one is kept as it is).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%'
            && let Some(hex) = text.get(at + 1..at + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            at += 3;
            continue;
        }
        out.push(bytes[at]);
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids_are_found_in_patch_names_of_many_spellings() {
        let named = [
            ("CVE-2023-0464.patch", vec!["CVE-2023-0464"]),
            ("0003-cve_2022_4450-fix.diff", vec!["CVE-2022-4450"]),
            (
                "backport-CVE-2021-3449-and-CVE-2021-3450.patch",
                vec!["CVE-2021-3449", "CVE-2021-3450"],
            ),
            ("cve-2024-1234567.patch", vec!["CVE-2024-1234567"]),
        ];
        for (name, ids) in named {
            assert_eq!(cve_ids(name), ids, "{name}");
        }
        // Not CVE ids: too few digits, no year, a word that merely contains "cve".
        for name in [
            "CVE-2023-12.patch",
            "cve-fixes.patch",
            "CVE2023-0464.patch",
            "recvec.c",
            "CVE-23-0464",
        ] {
            assert!(cve_ids(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn a_debian_purl_names_its_source_package_in_upstream() {
        assert_eq!(
            upstream(
                "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12"
            ),
            Some("openssl".to_owned())
        );
        assert_eq!(
            upstream("pkg:deb/debian/libc6@2.36-9?upstream=glibc%402.36"),
            Some("glibc".to_owned())
        );
        assert_eq!(upstream("pkg:deb/debian/zlib1g@1.2.13?arch=amd64"), None);
        assert_eq!(upstream("pkg:rpm/fedora/openssl@3?upstream=openssl"), None);
    }

    #[test]
    fn nesting_too_deep_is_refused_not_followed() {
        let mut text =
            String::from(r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": ["#);
        for _ in 0..10_000 {
            text.push_str(r#"{"name": "x", "components": ["#);
        }
        assert!(
            read(text.as_bytes())
                .unwrap_err()
                .contains("recursion limit")
        );
        assert!(!crate::yocto::is_cve_check(text.as_bytes()));
    }

    #[test]
    fn not_cyclonedx_is_refused_as_a_whole() {
        assert!(read(b"{}").unwrap_err().contains("bomFormat"));
        assert!(read(b"not json").unwrap_err().contains("line 1"));
        let old = br#"{"bomFormat": "CycloneDX", "specVersion": "1.3"}"#;
        assert!(read(old).unwrap_err().contains("1.3"));
    }
}
