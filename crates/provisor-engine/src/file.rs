//! The assessment file (TOML, one per device model and firmware version): parsing with
//! the position of every key kept, so that any error — malformed TOML, an unknown
//! provision, contradictory answers — points at `file:line:col`; and loading, which reads
//! the scan and evidence files it names through the caller's [`Files`].

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use provisor_catalog::{Catalog, ConditionId};
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::assessment::Assessment;
use crate::error::{InputError, Invalid, Subject};
use crate::finding::{Target, parse_findings};
use crate::profile::{AnswerSource, ConditionAnswer, Device};
use crate::statement::{Statement, Support};
use crate::verdict::{Input, evaluate};

/// Access to the files an assessment names, relative to the assessment file.
pub trait Files {
    /// The bytes of a file, or why it cannot be read.
    fn read(&self, path: &str) -> Result<Vec<u8>, String>;
}

/// A scan attached to an assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRef {
    /// The findings file, as the assessment names it.
    pub file: String,
    /// SHA-256 of the findings file.
    pub sha256: String,
    /// What was scanned.
    pub target: Target,
    /// `provisor 0.1.0`.
    pub tool: String,
    /// How long the scan took.
    pub duration_ms: u64,
    /// How many findings it holds.
    pub findings: usize,
}

/// An evidence file (or URL) referenced by statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    /// The path relative to the assessment file, or the URL.
    pub path: String,
    /// SHA-256 of the file; `None` for a URL.
    pub sha256: Option<String>,
    /// Size in bytes; `None` for a URL.
    pub size: Option<u64>,
    /// The provisions whose statements cite it.
    pub provisions: Vec<String>,
}

impl EvidenceFile {
    /// Whether the evidence is a URL rather than a file.
    pub fn is_url(&self) -> bool {
        is_url(&self.path)
    }
}

fn is_url(path: &str) -> bool {
    path.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
    })
}

/// A condition answer as written: `1 = true` or `1 = { answer = true, note = "…" }`.
struct RawAnswer {
    answer: bool,
    note: Option<String>,
}

impl<'de> Deserialize<'de> for RawAnswer {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnswerVisitor;
        impl<'de> Visitor<'de> for AnswerVisitor {
            type Value = RawAnswer;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("true, false or { answer = true|false, note = \"…\" }")
            }
            fn visit_bool<E: de::Error>(self, answer: bool) -> Result<RawAnswer, E> {
                Ok(RawAnswer { answer, note: None })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawAnswer, A::Error> {
                let mut answer = None;
                let mut note = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "answer" => answer = Some(map.next_value::<bool>()?),
                        "note" => note = Some(map.next_value::<String>()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["answer", "note"]));
                        }
                    }
                }
                let answer = answer.ok_or_else(|| de::Error::missing_field("answer"))?;
                Ok(RawAnswer { answer, note })
            }
        }
        deserializer.deserialize_any(AnswerVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    support: Spanned<String>,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    evidence: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScan {
    file: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    edition: Option<Spanned<String>>,
    #[serde(default)]
    device: Device,
    #[serde(default)]
    conditions: BTreeMap<Spanned<String>, Spanned<RawAnswer>>,
    #[serde(default)]
    provision: BTreeMap<Spanned<String>, Spanned<RawStatement>>,
    #[serde(default)]
    scan: Vec<RawScan>,
}

/// A parsed assessment file, before the files it names are read.
#[derive(Debug, Clone)]
pub struct AssessmentFile {
    origin: String,
    source: String,
    /// The edition it is assessed against.
    pub catalog: &'static Catalog,
    /// The device.
    pub device: Device,
    /// Declared answers.
    pub answers: BTreeMap<ConditionId, ConditionAnswer>,
    /// Statements by provision id.
    pub statements: BTreeMap<String, Statement>,
    /// Scan files named by `[[scan]]`, with their spans.
    scans: Vec<(String, Range<usize>)>,
    /// Evidence paths with their spans and the provision citing them.
    evidence: Vec<(String, Range<usize>, String)>,
    condition_spans: BTreeMap<ConditionId, Range<usize>>,
    statement_spans: BTreeMap<String, Range<usize>>,
}

impl AssessmentFile {
    /// The name the file is known by in messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The scan files the assessment attaches, as written.
    pub fn scan_files(&self) -> impl Iterator<Item = &str> {
        self.scans.iter().map(|(file, _)| file.as_str())
    }

    fn error_at(&self, span: Range<usize>, message: String) -> InputError {
        InputError::new(message).at_span(&self.origin, &self.source, span)
    }

    /// Attaches the source position to an engine complaint.
    pub fn locate(&self, invalid: &Invalid) -> InputError {
        let span = match &invalid.subject {
            Subject::Condition(id) => self.condition_spans.get(id).cloned(),
            Subject::Statement(id) => self.statement_spans.get(id).cloned(),
        };
        let error = match span {
            Some(span) => self.error_at(span, invalid.message.clone()),
            None => InputError::new(invalid.message.clone()).at_line(&self.origin, 1, 1),
        };
        error.help(invalid.help.clone())
    }
}

fn line_of(source: &str, offset: usize) -> u32 {
    source[..offset.min(source.len())].matches('\n').count() as u32 + 1
}

/// Parses an assessment file. `origin` names it in messages (usually its path).
pub fn parse(source: &str, origin: &str) -> Result<AssessmentFile, InputError> {
    let raw: RawFile = toml::from_str(source).map_err(|error| {
        let message = error.message().trim_end().trim_end_matches('.').to_owned();
        let located = InputError::new(format!("malformed assessment file: {message}"));
        match error.span() {
            Some(span) => located.at_span(origin, source, span),
            None => located.at_line(origin, 1, 1),
        }
        .help("see the template that `provisor init` writes for the layout")
    })?;
    let at = |span: Range<usize>, message: String| {
        InputError::new(message).at_span(origin, source, span)
    };

    let catalog = match &raw.edition {
        None => provisor_catalog::default_edition(),
        Some(edition) => provisor_catalog::edition(edition.get_ref()).ok_or_else(|| {
            at(
                edition.span(),
                format!("unknown edition \"{}\"", edition.get_ref()),
            )
            .help(format!(
                "editions known to this version: {}",
                provisor_catalog::edition_ids().join(", ")
            ))
        })?,
    };

    if let Some(hash) = &raw.device.firmware_sha256 {
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            let offset = source.find(hash.as_str()).unwrap_or(0);
            return Err(at(
                offset..offset + hash.len(),
                "device.firmware_sha256 is not a SHA-256 (64 hexadecimal digits)".into(),
            )
            .help("compute it with `sha256sum IMAGE`"));
        }
    }

    let mut answers = BTreeMap::new();
    let mut condition_spans = BTreeMap::new();
    for (key, value) in raw.conditions {
        let id = ConditionId::new(key.get_ref().clone());
        if catalog.condition(id.as_str()).is_none() {
            let first = &catalog.conditions[0].id;
            let last = &catalog.conditions[catalog.conditions.len() - 1].id;
            return Err(at(
                key.span(),
                format!("unknown condition \"{id}\" in {}", catalog.id),
            )
            .help(format!(
                "conditions are numbered {first} to {last}; run `provisor catalog --format md` to read them"
            )));
        }
        let span = key.span().start..value.span().end;
        let RawAnswer { answer, note } = value.into_inner();
        condition_spans.insert(id.clone(), span);
        answers.insert(
            id,
            ConditionAnswer {
                answer,
                note,
                source: AnswerSource::Declared,
            },
        );
    }

    let mut statements = BTreeMap::new();
    let mut statement_spans = BTreeMap::new();
    let mut evidence = Vec::new();
    for (key, value) in raw.provision {
        let id = key.get_ref().clone();
        if catalog.provision(&id).is_none() {
            return Err(at(
                key.span(),
                format!("unknown provision \"{id}\" in {}", catalog.id),
            )
            .help("provision ids are written as the standard does: 4-1, 5.1-1 … 5.13-1, 6-1 … 6-5; run `provisor catalog`"));
        }
        let line = line_of(source, value.span().start);
        let raw_statement = value.into_inner();
        let support_text = raw_statement.support.get_ref();
        let support = Support::parse(support_text).ok_or_else(|| {
            at(
                raw_statement.support.span(),
                format!(
                    "support of provision {id} must be \"yes\", \"no\" or \"not-applicable\", not \"{support_text}\""
                ),
            )
        })?;
        for path in &raw_statement.evidence {
            evidence.push((path.get_ref().clone(), path.span(), id.clone()));
        }
        statement_spans.insert(id.clone(), key.span());
        statements.insert(
            id,
            Statement {
                support,
                detail: raw_statement.detail,
                evidence: raw_statement
                    .evidence
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                line: Some(line),
            },
        );
    }

    Ok(AssessmentFile {
        origin: origin.to_owned(),
        source: source.to_owned(),
        catalog,
        device: raw.device,
        answers,
        statements,
        scans: raw
            .scan
            .into_iter()
            .map(|scan| {
                let span = scan.file.span();
                (scan.file.into_inner(), span)
            })
            .collect(),
        evidence,
        condition_spans,
        statement_spans,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Reads the scans and evidence an assessment file names, and judges it.
pub fn load(
    file: &AssessmentFile,
    files: &dyn Files,
) -> Result<Assessment<'static>, Vec<InputError>> {
    let mut input = Input::new(file.catalog);
    input.device = file.device.clone();
    input.answers = file.answers.clone();
    input.statements = file.statements.clone();

    for (path, span) in &file.scans {
        let bytes = files.read(path).map_err(|reason| {
            vec![
                file.error_at(span.clone(), format!("cannot read scan file {path}: {reason}"))
                    .help("the path is relative to the assessment file; `provisor scan … --assessment` writes both"),
            ]
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|error| {
            vec![
                InputError::new(format!(
                    "scan file is not UTF-8 text (invalid byte at offset {})",
                    error.valid_up_to()
                ))
                .at_pointer(path, String::new()),
            ]
        })?;
        let findings = parse_findings(text, path, file.catalog).map_err(|error| vec![error])?;
        let (tool, version) = findings.tool();
        input.scans.push(ScanRef {
            file: path.clone(),
            sha256: sha256_hex(&bytes),
            target: findings.target.clone(),
            tool: format!("{tool} {version}"),
            duration_ms: findings.duration_ms,
            findings: findings.findings.len(),
        });
        input.findings.extend(findings.findings);
        input.inferred.extend(findings.inferred_conditions);
        input.components.extend(findings.components);
    }

    let mut register: BTreeMap<String, EvidenceFile> = BTreeMap::new();
    for (path, span, provision) in &file.evidence {
        if let Some(entry) = register.get_mut(path) {
            if !entry.provisions.contains(provision) {
                entry.provisions.push(provision.clone());
            }
            continue;
        }
        let (sha256, size) = if is_url(path) {
            (None, None)
        } else {
            let bytes = files.read(path).map_err(|reason| {
                vec![file
                    .error_at(
                        span.clone(),
                        format!("cannot read evidence file {path}: {reason}"),
                    )
                    .help("evidence paths are relative to the assessment file; cite a web page by its full URL")]
            })?;
            (Some(sha256_hex(&bytes)), Some(bytes.len() as u64))
        };
        register.insert(
            path.clone(),
            EvidenceFile {
                path: path.clone(),
                sha256,
                size,
                provisions: vec![provision.clone()],
            },
        );
    }
    input.evidence = register.into_values().collect();

    evaluate(&input).map_err(|invalid| invalid.iter().map(|item| file.locate(item)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFiles;
    impl Files for NoFiles {
        fn read(&self, path: &str) -> Result<Vec<u8>, String> {
            Err(format!("{path}: no such file"))
        }
    }

    fn error_of(source: &str) -> InputError {
        match parse(source, "a.toml") {
            Err(error) => error,
            Ok(file) => load(&file, &NoFiles).expect_err("an error").remove(0),
        }
    }

    #[test]
    fn malformed_toml_points_at_line_and_column() {
        let error = error_of("edition = \"en303645-v2.1.1\"\n[conditions]\n1 = tru\n");
        assert_eq!(error.place().unwrap(), "a.toml:3:5");
        assert!(error.message.starts_with("malformed assessment file"));
        assert_eq!(error.snippet.as_deref(), Some("1 = tru"));
    }

    #[test]
    fn unknown_edition_lists_the_known_ones() {
        let error = error_of("edition = \"en303645-v9\"\n");
        assert_eq!(error.place().unwrap(), "a.toml:1:11");
        assert!(error.help.unwrap().contains("en303645-v2.1.1"));
    }

    #[test]
    fn unknown_provision_and_condition_are_located() {
        let error = error_of("[provision.\"5.1-9\"]\nsupport = \"yes\"\n");
        assert_eq!(
            error.message,
            "unknown provision \"5.1-9\" in en303645-v2.1.1"
        );
        assert_eq!(error.place().unwrap(), "a.toml:1:12");
        let error = error_of("[conditions]\n29 = true\n");
        assert_eq!(error.place().unwrap(), "a.toml:2:1");
        assert!(error.message.contains("unknown condition \"29\""));
    }

    #[test]
    fn a_support_value_must_be_one_of_three() {
        let error = error_of("[provision.\"5.2-1\"]\nsupport = \"maybe\"\n");
        assert_eq!(error.place().unwrap(), "a.toml:2:11");
        assert!(
            error
                .message
                .contains("\"yes\", \"no\" or \"not-applicable\"")
        );
    }

    #[test]
    fn contradictory_answers_name_both_conditions() {
        let error = error_of("[conditions]\n2 = true\n1 = false\n");
        assert!(
            error.message.contains("conditions 2 and 1"),
            "{}",
            error.message
        );
        assert!(error.place().unwrap().starts_with("a.toml:"));
    }

    #[test]
    fn a_statement_on_4_1_is_refused() {
        let error = error_of("[provision.\"4-1\"]\nsupport = \"yes\"\n");
        assert!(error.message.contains("derived"), "{}", error.message);
        assert_eq!(error.place().unwrap(), "a.toml:1:12");
    }

    #[test]
    fn a_mandatory_provision_cannot_be_declared_not_applicable_while_it_applies() {
        let error = error_of(
            "[conditions]\n13 = true\n[provision.\"5.6-4\"]\nsupport = \"not-applicable\"\ndetail = \"no debug port\"\n",
        );
        assert!(
            error
                .message
                .contains("mandatory provision 5.6-4 is declared not-applicable"),
            "{}",
            error.message
        );
        assert_eq!(error.place().unwrap(), "a.toml:3:12");
    }

    #[test]
    fn a_missing_scan_file_is_located() {
        let error = error_of("[[scan]]\nfile = \"scans/fw.json\"\n");
        assert_eq!(error.place().unwrap(), "a.toml:2:8");
        assert!(
            error
                .message
                .contains("cannot read scan file scans/fw.json")
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = error_of("[device]\nmodle = \"x\"\n");
        assert!(error.message.contains("unknown field"), "{}", error.message);
        assert_eq!(error.place().unwrap(), "a.toml:2:1");
    }
}
