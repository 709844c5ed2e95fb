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
use crate::error::{InputError, Invalid, Subject, Warning};
use crate::finding::{Target, parse_findings};
use crate::ixit::{IxitEntry, IxitValue, SecretRef};
use crate::lab::{Acceptance, AcceptanceKind, Date, Kind, Selector, TestRecord, TestVerdict};
use crate::profile::{AnswerSource, ConditionAnswer, Device};
use crate::review::{Decision, Review, content_without_review};
use crate::statement::{Statement, Support};
use crate::verdict::{Input, evaluate};
use crate::wording::Wording;

/// Access to the files an assessment names, relative to the assessment file.
pub trait Files {
    /// The bytes of a file, or why it cannot be read.
    fn read(&self, path: &str) -> Result<Vec<u8>, String>;

    /// The SHA-256 (lowercase hex) and size of a file, when the caller knows them
    /// without reading it (a store that keeps files by hash); `None` to have the file
    /// read and hashed. Evidence is only hashed, so a large file need not be read.
    fn digest(&self, _path: &str) -> Option<Result<(String, u64), String>> {
        None
    }
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
    /// The test cases whose records cite it.
    pub tests: Vec<String>,
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

/// A condition answer as written: `1 = true` or `1 = { answer = true, note = "…" }`, with
/// `carried = true` while an answer carried from an earlier release waits to be confirmed.
struct RawAnswer {
    answer: bool,
    note: Option<String>,
    carried: bool,
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
                Ok(RawAnswer {
                    answer,
                    note: None,
                    carried: false,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawAnswer, A::Error> {
                let mut answer = None;
                let mut note = None;
                let mut carried = false;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "answer" => answer = Some(map.next_value::<bool>()?),
                        "note" => note = Some(map.next_value::<String>()?),
                        "carried" => carried = map.next_value::<bool>()?,
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["answer", "note", "carried"],
                            ));
                        }
                    }
                }
                let answer = answer.ok_or_else(|| de::Error::missing_field("answer"))?;
                Ok(RawAnswer {
                    answer,
                    note,
                    carried,
                })
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
    #[serde(default)]
    carried: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScan {
    file: Spanned<String>,
}

/// `wording = "path"`, or `wording = { file = "path", sha256 = "…" }` to pin its content.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawWording {
    Path(String),
    Pinned {
        file: String,
        #[serde(default)]
        sha256: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    verdict: Spanned<String>,
    #[serde(default)]
    assessor: Option<String>,
    #[serde(default)]
    date: Option<Spanned<toml::Value>>,
    #[serde(default)]
    method: String,
    #[serde(default)]
    evidence: Vec<Spanned<String>>,
    #[serde(default)]
    findings: Vec<String>,
    #[serde(default, rename = "override")]
    override_reason: Option<String>,
    #[serde(default)]
    carried: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccept {
    #[serde(default)]
    finding: Option<String>,
    #[serde(default)]
    check: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    until: Option<Spanned<toml::Value>>,
}

fn first_revision() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReview {
    report_id: String,
    #[serde(default = "first_revision")]
    revision: u32,
    assessor: String,
    #[serde(default)]
    reviewer: Option<String>,
    #[serde(default)]
    decision: Option<Spanned<String>>,
    #[serde(default)]
    date: Option<Spanned<toml::Value>>,
    #[serde(default)]
    content_sha256: Option<String>,
    #[serde(default)]
    inputs: BTreeMap<String, String>,
}

type RawIxitEntry = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    edition: Option<Spanned<String>>,
    #[serde(default)]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    device: Device,
    #[serde(default)]
    conditions: BTreeMap<Spanned<String>, Spanned<RawAnswer>>,
    #[serde(default)]
    provision: BTreeMap<Spanned<String>, Spanned<RawStatement>>,
    #[serde(default)]
    test: BTreeMap<Spanned<String>, Spanned<RawTest>>,
    #[serde(default)]
    ixit: BTreeMap<Spanned<String>, Vec<Spanned<RawIxitEntry>>>,
    #[serde(default)]
    accept: Vec<Spanned<RawAccept>>,
    #[serde(default)]
    review: Option<Spanned<RawReview>>,
    #[serde(default)]
    scan: Vec<RawScan>,
    #[serde(default)]
    wording: Option<Spanned<RawWording>>,
}

/// What cites an evidence file.
#[derive(Debug, Clone)]
enum Citation {
    Provision(String),
    Test(String),
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
    /// Self-assessment or lab.
    pub kind: Kind,
    /// Test case records by test case id.
    pub tests: BTreeMap<String, TestRecord>,
    /// Acceptances, in file order.
    pub acceptances: Vec<Acceptance>,
    /// IXIT entries, table by table in file order.
    pub ixit: Vec<IxitEntry>,
    /// The review and sign-off.
    pub review: Option<Review>,
    /// Scan files named by `[[scan]]`, with their spans.
    scans: Vec<(String, Range<usize>)>,
    /// The wording file, the SHA-256 it is pinned to, and the span of the key.
    wording: Option<(String, Option<String>, Range<usize>)>,
    /// Whether the file names its edition (one that does not is read as V2.1.1).
    edition_named: bool,
    /// Evidence paths with their spans and what cites them.
    evidence: Vec<(String, Range<usize>, Citation)>,
    condition_spans: BTreeMap<ConditionId, Range<usize>>,
    statement_spans: BTreeMap<String, Range<usize>>,
    test_spans: BTreeMap<String, Range<usize>>,
    accept_spans: Vec<Range<usize>>,
    ixit_spans: BTreeMap<(String, usize, Option<String>), Range<usize>>,
    kind_span: Option<Range<usize>>,
    review_span: Option<Range<usize>>,
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

    /// The source text the file was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn span_of(&self, subject: &Subject) -> Option<Range<usize>> {
        match subject {
            Subject::Condition(id) => self.condition_spans.get(id).cloned(),
            Subject::Statement(id) => self.statement_spans.get(id).cloned(),
            Subject::Test(id) => self.test_spans.get(id).cloned(),
            Subject::Acceptance(position) => self.accept_spans.get(*position).cloned(),
            Subject::Ixit(table, index, field) => self
                .ixit_spans
                .get(&(table.clone(), *index, field.clone()))
                .or_else(|| self.ixit_spans.get(&(table.clone(), *index, None)))
                .cloned(),
            Subject::Kind => self.kind_span.clone(),
            Subject::Review => self.review_span.clone(),
            Subject::Scan(file) => self
                .scans
                .iter()
                .find(|(path, _)| path == file)
                .map(|(_, span)| span.clone()),
            Subject::Edition => Some(0..0),
        }
    }

    fn place(&self, subject: &Subject, message: String) -> InputError {
        match self.span_of(subject) {
            Some(span) => self.error_at(span, message),
            None => InputError::new(message).at_line(&self.origin, 1, 1),
        }
    }

    /// Attaches the source position to an engine complaint. The source line of an IXIT
    /// field that holds a secret is shown without its value.
    pub fn locate(&self, invalid: &Invalid) -> InputError {
        let mut located = self
            .place(&invalid.subject, invalid.message.clone())
            .help(invalid.help.clone());
        if let Subject::Ixit(table, _, Some(field)) = &invalid.subject {
            let secret = crate::ixit::names_a_secret(field)
                || self
                    .catalog
                    .ixit_table(table)
                    .and_then(|table| table.field(field))
                    .is_some_and(|field| field.kind == provisor_catalog::FieldType::Secret);
            if secret
                && let Some(snippet) = &mut located.snippet
                && let Some((key, _)) = snippet.split_once('=')
            {
                *snippet = format!("{key}= \"…\"");
            }
        }
        located
    }

    /// Attaches the source position to a warning, for display as an [`InputError`].
    pub fn locate_warning(&self, warning: &Warning) -> InputError {
        let located = self.place(&warning.subject, warning.message.clone());
        match &warning.help {
            Some(help) => located.help(help.clone()),
            None => located,
        }
    }
}

/// A date written as a TOML date (`2026-11-29`) or a string (`"2026-11-29"`).
fn date_of(
    value: &Spanned<toml::Value>,
    what: &str,
    origin: &str,
    source: &str,
) -> Result<Date, InputError> {
    let text = match value.get_ref() {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Datetime(datetime) if datetime.time.is_none() && datetime.offset.is_none() => {
            datetime.date.map(|date| date.to_string())
        }
        _ => None,
    };
    text.as_deref().and_then(Date::parse).ok_or_else(|| {
        InputError::new(format!("{what} is not a date"))
            .at_span(origin, source, value.span())
            .help("write a calendar date as YYYY-MM-DD, for example 2026-11-29")
    })
}

/// An IXIT value: text, a boolean, a number, a list of texts, or a secret reference.
fn ixit_value(value: &toml::Value) -> Result<IxitValue, &'static str> {
    match value {
        toml::Value::String(text) => Ok(IxitValue::Text(text.clone())),
        toml::Value::Boolean(flag) => Ok(IxitValue::Boolean(*flag)),
        toml::Value::Integer(number) => Ok(IxitValue::Integer(*number)),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(IxitValue::List)
            .ok_or("a list of IXIT values holds only texts"),
        toml::Value::Table(table) => {
            let text = |key: &str| table.get(key).and_then(toml::Value::as_str);
            match (text("env"), text("file"), text("key"), table.len()) {
                (Some(variable), None, None, 1) if !variable.is_empty() => {
                    Ok(IxitValue::Secret(SecretRef::Env(variable.to_owned())))
                }
                (None, Some(file), Some(key), 2) if !file.is_empty() && !key.is_empty() => {
                    Ok(IxitValue::Secret(SecretRef::File {
                        file: file.to_owned(),
                        key: key.to_owned(),
                    }))
                }
                _ => Err(
                    "a table in an IXIT entry is a secret reference: { env = \"VARIABLE\" } or { file = \"secrets.toml\", key = \"…\" }",
                ),
            }
        }
        _ => Err("an IXIT value is text, true or false, a number or a list of texts"),
    }
}

/// Why a condition id is not one of the edition's, and what to write instead: a V2.1.1
/// number in a V3.1.3 file names its successor, a V3.1.3 feature in a V2.1.1 file says
/// which edition has it.
fn unknown_condition(catalog: &Catalog, id: &ConditionId) -> (String, String) {
    let read = "run `provisor catalog --edition EDITION --format md` to read them";
    let listing = {
        let numbers: Vec<&str> = catalog
            .numbered_conditions()
            .map(|condition| condition.id.as_str())
            .collect();
        let features: Vec<&str> = catalog
            .features()
            .map(|condition| condition.id.as_str())
            .collect();
        let mut listing = format!(
            "the conditions of {} are {}",
            catalog.id,
            numbers.join(", ")
        );
        if let (Some(first), Some(last)) = (features.first(), features.last()) {
            listing.push_str(&format!(" and its features {first} to {last}"));
        }
        listing
    };
    if let Some(moved) = catalog
        .migration
        .as_ref()
        .and_then(|migration| migration.condition(id.as_str()))
    {
        let message = format!(
            "condition {id} is numbered as in {}, not in {}",
            catalog.migration.as_ref().map_or("", |m| m.from.as_str()),
            catalog.id
        );
        let help = if moved.to.is_empty() {
            format!("it has no successor ({}): remove it", moved.why)
        } else {
            let successors: Vec<String> = moved
                .to
                .iter()
                .map(|to| match catalog.condition(to.as_str()) {
                    Some(condition) => format!("{} ({})", to.label(), condition.wording()),
                    None => to.label(),
                })
                .collect();
            format!(
                "write {} instead, as in `{} = true`; `provisor migrate` carries a whole file over",
                successors.join(" and "),
                moved.to[0]
            )
        };
        return (message, help);
    }
    if let Some(newer) = provisor_catalog::editions()
        .iter()
        .find(|other| other.id != catalog.id && other.condition(id.as_str()).is_some())
        && id.number().is_none()
    {
        return (
            format!(
                "{} is not in {}: it is a feature of {}",
                id.label(),
                catalog.id,
                newer.id
            ),
            format!(
                "{listing}; to assess against {}, run `provisor migrate FILE --to {}`",
                newer.id, newer.id
            ),
        );
    }
    (
        format!(
            "unknown {} \"{id}\" in {}",
            if id.number().is_some() {
                "condition"
            } else {
                "condition or feature"
            },
            catalog.id
        ),
        format!("{listing}; {read}"),
    )
}

/// Why a provision id is not one of the edition's, and what to write instead.
fn unknown_provision(catalog: &Catalog, id: &str) -> (String, String) {
    if let Some(voided) = catalog.voided(id) {
        return (
            format!("provision {id} is voided in {}", catalog.id),
            format!(
                "state its successors instead: {}",
                voided.successors.join(" and ")
            ),
        );
    }
    if let Some(renumbered) = catalog
        .provisions
        .iter()
        .find(|provision| provision.previous.as_deref() == Some(id))
    {
        return (
            format!(
                "provision {id} is numbered {} in {}",
                renumbered.id, catalog.id
            ),
            format!("write {} instead", renumbered.id),
        );
    }
    let first = catalog.provisions.first().map_or("", |p| p.id.as_str());
    let last = catalog.provisions.last().map_or("", |p| p.id.as_str());
    (
        format!("unknown provision \"{id}\" in {}", catalog.id),
        format!(
            "provision ids are written as the standard does, {first} … {last}; run `provisor catalog --edition {}`",
            catalog.id
        ),
    )
}

fn line_of(source: &str, offset: usize) -> u32 {
    source[..offset.min(source.len())].matches('\n').count() as u32 + 1
}

/// Parses an assessment file. `origin` names it in messages (usually its path).
pub fn parse(source: &str, origin: &str) -> Result<AssessmentFile, InputError> {
    let mut raw: RawFile = toml::from_str(source).map_err(|error| {
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
        None => provisor_catalog::unnamed_edition(),
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

    if let Some(end) = &raw.device.support_period_end
        && crate::lab::Date::parse(end).is_none()
    {
        let offset = source.find(end.as_str()).unwrap_or(0);
        return Err(at(
            offset..offset + end.len(),
            format!("device.support_period_end \"{end}\" is not a date"),
        )
        .help("write the last day of the support period as YYYY-MM-DD"));
    }
    if let Some(hash) = &raw.device.firmware_sha256
        && (hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()))
    {
        let offset = source.find(hash.as_str()).unwrap_or(0);
        return Err(at(
            offset..offset + hash.len(),
            "device.firmware_sha256 is not a SHA-256 (64 hexadecimal digits)".into(),
        )
        .help("compute it with `sha256sum IMAGE`"));
    }

    let mut answers = BTreeMap::new();
    let mut condition_spans = BTreeMap::new();
    for (key, value) in raw.conditions {
        let id = ConditionId::new(key.get_ref().clone());
        if catalog.condition(id.as_str()).is_none() {
            let (message, help) = unknown_condition(catalog, &id);
            return Err(at(key.span(), message).help(help));
        }
        let span = key.span().start..value.span().end;
        let RawAnswer {
            answer,
            note,
            carried,
        } = value.into_inner();
        condition_spans.insert(id.clone(), span);
        answers.insert(
            id,
            ConditionAnswer {
                answer,
                note,
                source: AnswerSource::Declared,
                carried,
            },
        );
    }

    let mut statements = BTreeMap::new();
    let mut statement_spans = BTreeMap::new();
    let mut evidence = Vec::new();
    for (key, value) in raw.provision {
        let id = key.get_ref().clone();
        if catalog.provision(&id).is_none() {
            let (message, help) = unknown_provision(catalog, &id);
            return Err(at(key.span(), message).help(help));
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
            evidence.push((
                path.get_ref().clone(),
                path.span(),
                Citation::Provision(id.clone()),
            ));
        }
        if let Some(carried) = &raw_statement.carried {
            let previous = catalog
                .migration
                .as_ref()
                .and_then(|migration| provisor_catalog::edition(&migration.from));
            // Carried from the edition this one migrates from (`provisor migrate`), or
            // from the same provision of an earlier release's assessment (the team
            // server's copy to the next release).
            let known = carried.get_ref() == &id
                || previous.is_some_and(|previous| previous.provision(carried.get_ref()).is_some());
            if !known {
                return Err(at(
                    carried.span(),
                    format!(
                        "provision {id} says it was carried from \"{}\", which is neither this provision nor one of the edition {} migrates from",
                        carried.get_ref(),
                        catalog.id
                    ),
                )
                .help("`provisor migrate` and a copy to the next release write this mark; remove it once the statement is confirmed"));
            }
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
                carried: raw_statement.carried.map(Spanned::into_inner),
                line: Some(line),
            },
        );
    }

    let wording = match raw.wording.take() {
        None => None,
        Some(spanned) => {
            let span = spanned.span();
            let (path, pinned) = match spanned.into_inner() {
                RawWording::Path(path) => (path, None),
                RawWording::Pinned { file, sha256 } => (file, sha256),
            };
            if let Some(hash) = &pinned
                && (hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()))
            {
                return Err(at(
                    span,
                    "wording.sha256 is not a SHA-256 (64 hexadecimal digits)".into(),
                )
                .help("compute it with `sha256sum FILE`, or leave it out"));
            }
            Some((path, pinned.map(|hash| hash.to_ascii_lowercase()), span))
        }
    };

    let mut kind_span = None;
    let kind = match &raw.kind {
        None => Kind::SelfAssessment,
        Some(kind) => {
            kind_span = Some(kind.span());
            Kind::parse(kind.get_ref()).ok_or_else(|| {
                at(
                    kind.span(),
                    format!(
                        "kind must be \"self-assessment\" or \"lab\", not \"{}\"",
                        kind.get_ref()
                    ),
                )
                .help("a lab assessment follows ETSI TS 103 701: test cases decide too")
            })?
        }
    };

    let mut tests = BTreeMap::new();
    let mut test_spans = BTreeMap::new();
    for (key, value) in raw.test {
        let id = key.get_ref().clone();
        let line = line_of(source, key.span().start);
        test_spans.insert(id.clone(), key.span());
        let raw_test = value.into_inner();
        let verdict = TestVerdict::parse(raw_test.verdict.get_ref()).ok_or_else(|| {
            at(
                raw_test.verdict.span(),
                format!(
                    "verdict of test case {id} must be \"pass\", \"fail\", \"inconclusive\" or \"not-run\", not \"{}\"",
                    raw_test.verdict.get_ref()
                ),
            )
            .help("TS 103 701 knows PASS and FAIL; inconclusive and not-run keep the provision open")
        })?;
        let date = raw_test
            .date
            .as_ref()
            .map(|date| date_of(date, &format!("the date of test case {id}"), origin, source))
            .transpose()?;
        for path in &raw_test.evidence {
            evidence.push((
                path.get_ref().clone(),
                path.span(),
                Citation::Test(id.clone()),
            ));
        }
        tests.insert(
            id.clone(),
            TestRecord {
                id,
                verdict,
                assessor: raw_test.assessor,
                date,
                method: raw_test.method,
                evidence: raw_test
                    .evidence
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                findings: raw_test.findings,
                override_reason: raw_test.override_reason,
                carried: raw_test.carried,
                line: Some(line),
            },
        );
    }

    let mut acceptances = Vec::new();
    let mut accept_spans = Vec::new();
    for (position, entry) in raw.accept.into_iter().enumerate() {
        let span = entry.span();
        let line = line_of(source, span.start);
        let number = position + 1;
        let raw_accept = entry.into_inner();
        let missing = |what: &str, help: &str| {
            at(
                span.clone(),
                format!("acceptance #{number} (line {line}) has no {what}"),
            )
            .help(help.to_owned())
        };
        let selector = match (raw_accept.finding, raw_accept.check) {
            (Some(finding), None) => {
                if raw_accept.path.is_some()
                    || raw_accept.host.is_some()
                    || raw_accept.port.is_some()
                {
                    return Err(missing_or(
                        at(
                            span.clone(),
                            format!(
                                "acceptance #{number} (line {line}) names a finding by id and also a place"
                            ),
                        ),
                        "name one finding by `finding = \"<id>\"`, or every finding of a check at a place by `check`, `path`, `host`, `port`",
                    ));
                }
                Selector::Finding(finding)
            }
            (None, Some(check)) => Selector::Check {
                check,
                path: raw_accept.path,
                host: raw_accept.host,
                port: raw_accept.port,
            },
            (Some(_), Some(_)) => {
                return Err(missing_or(
                    at(
                        span.clone(),
                        format!(
                            "acceptance #{number} (line {line}) names both a finding and a check"
                        ),
                    ),
                    "name one finding by `finding = \"<id>\"`, or every finding of a check at a place by `check` and `path`, `host` or `port`",
                ));
            }
            (None, None) => {
                return Err(missing(
                    "finding or check",
                    "write finding = \"<id>\" (from `provisor triage`), or check = \"<check id>\" with path, host or port",
                ));
            }
        };
        let reason = raw_accept
            .reason
            .filter(|reason| !reason.trim().is_empty())
            .ok_or_else(|| {
                missing(
                    "reason",
                    "say why the finding does not count: reason = \"the key is the public test key of the SDK, never used\"",
                )
            })?;
        let by = raw_accept
            .by
            .filter(|by| !by.trim().is_empty())
            .ok_or_else(|| missing("by", "say who accepted it: by = \"name <email>\""))?;
        let kind = match raw_accept.kind {
            None => {
                return Err(missing(
                    "kind",
                    "write kind = \"false-positive\" (the check is wrong) or \"accepted-risk\" (it is right, and the risk is accepted)",
                ));
            }
            Some(kind) => AcceptanceKind::parse(kind.get_ref()).ok_or_else(|| {
                at(
                    kind.span(),
                    format!(
                        "kind of an acceptance must be \"false-positive\" or \"accepted-risk\", not \"{}\"",
                        kind.get_ref()
                    ),
                )
                .help("false-positive: the check is wrong about the device; accepted-risk: it is right, and the risk is accepted")
            })?,
        };
        let until = raw_accept
            .until
            .as_ref()
            .map(|until| {
                date_of(
                    until,
                    &format!("`until` of acceptance #{number}"),
                    origin,
                    source,
                )
            })
            .transpose()?;
        accept_spans.push(span);
        acceptances.push(Acceptance {
            selector,
            kind,
            reason,
            by,
            until,
            line: Some(line),
        });
    }

    let mut ixit = Vec::new();
    let mut ixit_spans = BTreeMap::new();
    for (table, entries) in raw.ixit {
        let table_span = table.span();
        let table = table.into_inner();
        for (index, entry) in entries.into_iter().enumerate() {
            let entry_span = entry.span();
            let line = line_of(source, entry_span.start);
            let entry_span = if entry_span.is_empty() {
                table_span.clone()
            } else {
                entry_span
            };
            ixit_spans.insert((table.clone(), index, None), entry_span);
            let mut fields = BTreeMap::new();
            for (name, value) in entry.into_inner() {
                let value_of = ixit_value(value.get_ref()).map_err(|help| {
                    at(
                        value.span(),
                        format!(
                            "IXIT {table} field {} has a value provisor cannot read",
                            name.get_ref()
                        ),
                    )
                    .help(help)
                })?;
                ixit_spans.insert(
                    (table.clone(), index, Some(name.get_ref().clone())),
                    name.span().start..value.span().end,
                );
                fields.insert(name.into_inner(), value_of);
            }
            ixit.push(IxitEntry {
                table: table.clone(),
                index,
                fields,
                line: Some(line),
            });
        }
    }

    let mut review_span = None;
    let review = match raw.review {
        None => None,
        Some(review) => {
            let span = review.span();
            let line = line_of(source, span.start);
            review_span = Some(span);
            let raw_review = review.into_inner();
            let decision = raw_review
                .decision
                .as_ref()
                .map(|decision| {
                    Decision::parse(decision.get_ref()).ok_or_else(|| {
                        at(
                            decision.span(),
                            format!(
                                "decision must be \"approved\" or \"changes-requested\", not \"{}\"",
                                decision.get_ref()
                            ),
                        )
                        .help("`provisor review FILE --approve` records an approval with the hashes of what it covers")
                    })
                })
                .transpose()?;
            let date = raw_review
                .date
                .as_ref()
                .map(|date| date_of(date, "the date of the review", origin, source))
                .transpose()?;
            Some(Review {
                report_id: raw_review.report_id,
                revision: raw_review.revision,
                assessor: raw_review.assessor,
                reviewer: raw_review.reviewer,
                decision,
                date,
                content_sha256: raw_review.content_sha256,
                inputs: raw_review.inputs,
                line: Some(line),
            })
        }
    };

    Ok(AssessmentFile {
        origin: origin.to_owned(),
        source: source.to_owned(),
        catalog,
        device: raw.device,
        answers,
        statements,
        kind,
        tests,
        acceptances,
        ixit,
        review,
        scans: raw
            .scan
            .into_iter()
            .map(|scan| {
                let span = scan.file.span();
                (scan.file.into_inner(), span)
            })
            .collect(),
        wording,
        edition_named: raw.edition.is_some(),
        evidence,
        condition_spans,
        statement_spans,
        test_spans,
        accept_spans,
        ixit_spans,
        kind_span,
        review_span,
    })
}

fn missing_or(error: InputError, help: &str) -> InputError {
    error.help(help.to_owned())
}

/// Reads the scans and evidence an assessment file names, and judges it, with no date
/// to expire acceptances against.
pub fn load(
    file: &AssessmentFile,
    files: &dyn Files,
) -> Result<Assessment<'static>, Vec<InputError>> {
    load_as_of(file, files, None)
}

/// The SHA-256 of bytes, in lowercase hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Where a scan's findings file goes beside an assessment: `scans/<name>.json`, the
/// name made safe for a file name.
pub fn scan_file_path(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("scans/{safe}.json")
}

/// An assessment's text with a `[[scan]]` entry for `relative` appended, or `None`
/// when it names that file already. The text must parse (the error says where not).
pub fn with_scan_entry(
    text: &str,
    origin: &str,
    relative: &str,
) -> Result<Option<String>, InputError> {
    let file = parse(text, origin)?;
    if file.scan_files().any(|existing| existing == relative) {
        return Ok(None);
    }
    let mut text = text.to_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("\n[[scan]]\nfile = \"{relative}\"\n"));
    Ok(Some(text))
}

/// The SHA-256 an approval records of an assessment's own content: the text without its
/// `[review]` table, trailing blank space trimmed (so that moving the table to the end
/// changes nothing).
pub fn content_sha256(source: &str) -> String {
    sha256_hex(content_without_review(source).trim_end().as_bytes())
}

/// Reads the scans and evidence an assessment file names, and judges it; acceptances
/// expire against `as_of` (the caller's clock).
pub fn load_as_of(
    file: &AssessmentFile,
    files: &dyn Files,
    as_of: Option<Date>,
) -> Result<Assessment<'static>, Vec<InputError>> {
    let mut input = Input::new(file.catalog);
    input.device = file.device.clone();
    input.answers = file.answers.clone();
    input.statements = file.statements.clone();
    input.kind = file.kind;
    input.tests = file.tests.clone();
    input.acceptances = file.acceptances.clone();
    input.ixit = file.ixit.clone();
    input.review = file.review.clone();
    input.content_sha256 = Some(content_sha256(&file.source));
    input.as_of = as_of;

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

    if let Some((path, pinned, span)) = &file.wording {
        let bytes = files.read(path).map_err(|reason| {
            vec![
                file.error_at(span.clone(), format!("cannot read wording file {path}: {reason}"))
                    .help("the path is relative to the assessment file (docs/wording.md describes the layout)"),
            ]
        })?;
        let wording = Wording::parse(&bytes, path, file.catalog).map_err(|error| vec![error])?;
        if let Some(pinned) = pinned
            && *pinned != wording.sha256
        {
            return Err(vec![
                file.error_at(
                    span.clone(),
                    format!(
                        "wording file {path} has SHA-256 {}, but the assessment pins {pinned}",
                        wording.sha256
                    ),
                )
                .help("the file changed: check it, then write its new SHA-256 in `wording`"),
            ]);
        }
        input.wording = Some(wording);
    }

    let mut register: BTreeMap<String, EvidenceFile> = BTreeMap::new();
    for (path, span, citation) in &file.evidence {
        let cite = |entry: &mut EvidenceFile| {
            let (list, id) = match citation {
                Citation::Provision(id) => (&mut entry.provisions, id),
                Citation::Test(id) => (&mut entry.tests, id),
            };
            if !list.contains(id) {
                list.push(id.clone());
            }
        };
        if let Some(entry) = register.get_mut(path) {
            cite(entry);
            continue;
        }
        let (sha256, size) = if is_url(path) {
            (None, None)
        } else {
            let unreadable = |reason: String| {
                vec![file
                    .error_at(
                        span.clone(),
                        format!("cannot read evidence file {path}: {reason}"),
                    )
                    .help("evidence paths are relative to the assessment file; cite a web page by its full URL")]
            };
            match files.digest(path) {
                Some(known) => {
                    let (sha256, size) = known.map_err(unreadable)?;
                    (Some(sha256), Some(size))
                }
                None => {
                    let bytes = files.read(path).map_err(unreadable)?;
                    (Some(sha256_hex(&bytes)), Some(bytes.len() as u64))
                }
            }
        };
        let mut entry = EvidenceFile {
            path: path.clone(),
            sha256,
            size,
            provisions: Vec::new(),
            tests: Vec::new(),
        };
        cite(&mut entry);
        register.insert(path.clone(), entry);
    }
    input.evidence = register.into_values().collect();

    let mut assessment = evaluate(&input).map_err(|invalid| {
        invalid
            .iter()
            .map(|item| file.locate(item))
            .collect::<Vec<_>>()
    })?;
    if !file.edition_named {
        assessment.warnings.push(Warning {
            subject: Subject::Edition,
            message: format!(
                "the file names no edition, so it is read as {}",
                file.catalog.id
            ),
            help: Some(format!(
                "write `edition = \"{}\"` at its top; to assess against {}, run `provisor migrate`",
                file.catalog.id,
                provisor_catalog::DEFAULT_EDITION
            )),
        });
    }
    Ok(assessment)
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

    const V3: &str = "edition = \"en303645-v3.1.3\"\n";

    #[test]
    fn a_v2_condition_in_a_v3_file_names_its_successor() {
        let error = error_of(&format!("{V3}[conditions]\n1 = true\n"));
        assert!(
            error
                .message
                .contains("condition 1 is numbered as in en303645-v2.1.1"),
            "{}",
            error.message
        );
        assert!(error.help.as_deref().unwrap().contains("feature a ("));
        assert!(error.help.as_deref().unwrap().contains("`a = true`"));
        assert_eq!(error.place().unwrap(), "a.toml:3:1");
        let error = error_of(&format!("{V3}[conditions]\n4 = false\n"));
        assert!(error.help.as_deref().unwrap().contains("remove it"));
    }

    #[test]
    fn a_feature_that_does_not_exist_lists_those_that_do() {
        let error = error_of(&format!("{V3}[conditions]\nab = true\n"));
        assert!(error.message.contains("\"ab\""), "{}", error.message);
        assert!(
            error
                .help
                .as_deref()
                .unwrap()
                .contains("3, 12, 14, 15, 16 and its features a to aa"),
            "{:?}",
            error.help
        );
        // A V3.1.3 feature in a V2.1.1 file says which edition has it.
        let error = error_of("[conditions]\nq = true\n");
        assert!(
            error.message.contains("feature of en303645-v3.1.3"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_statement_on_a_voided_provision_names_its_successors() {
        let error = error_of(&format!("{V3}[provision.\"5.6-4\"]\nsupport = \"yes\"\n"));
        assert!(error.message.contains("voided"), "{}", error.message);
        assert_eq!(
            error.help.as_deref(),
            Some("state its successors instead: 5.6-4A and 5.6-4B")
        );
        assert_eq!(error.place().unwrap(), "a.toml:2:12");
        let error = error_of(&format!("{V3}[provision.\"4-1\"]\nsupport = \"yes\"\n"));
        assert!(
            error.message.contains("numbered 5.0-1"),
            "{}",
            error.message
        );
        let error = error_of(&format!("{V3}[provision.\"5.0-1\"]\nsupport = \"yes\"\n"));
        assert!(error.message.contains("derived"), "{}", error.message);
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
    fn a_lab_file_reads_test_cases_acceptances_ixit_and_the_review() {
        let source = r#"kind = "lab"

[conditions]
1 = true

[test."5.1-1-2"]
verdict = "fail"
assessor = "A. Assessor"
date = 2026-11-02
method = "tried the label password on two devices"
findings = ["abc"]

[[ixit."1-AuthMech"]]
id = "AuthMech-1"
description = "local web console login"
password_based = true
custom = "kept"

[[ixit."15-Intf"]]
description = "web"
port = 443
password = { env = "CAM_PASSWORD" }

[[accept]]
finding = "abc"
kind = "accepted-risk"
reason = "the account is removed at first boot"
by = "B. Reviewer"
until = "2027-01-31"

[review]
report_id = "LAB-1"
assessor = "A. Assessor"
decision = "approved"
date = 2026-11-20
"#;
        let file = parse(source, "a.toml").unwrap();
        assert_eq!(file.kind, Kind::Lab);
        let record = &file.tests["5.1-1-2"];
        assert_eq!(record.verdict, TestVerdict::Fail);
        assert_eq!(record.date.unwrap().to_string(), "2026-11-02");
        assert_eq!(record.line, Some(6));
        assert_eq!(file.acceptances[0].until.unwrap().to_string(), "2027-01-31");
        assert_eq!(file.acceptances[0].line, Some(24));
        assert_eq!(file.ixit.len(), 2);
        assert_eq!(
            file.ixit[1].fields["password"],
            IxitValue::Secret(SecretRef::Env("CAM_PASSWORD".into()))
        );
        assert_eq!(file.review.as_ref().unwrap().revision, 1);
        let assessment = load(&file, &NoFiles).unwrap();
        let warnings: Vec<InputError> = assessment
            .warnings
            .iter()
            .map(|warning| file.locate_warning(warning))
            .collect();
        let custom = warnings
            .iter()
            .find(|warning| warning.message.contains("no known field custom"))
            .expect("an unknown IXIT field is warned about");
        assert_eq!(custom.place().unwrap(), "a.toml:17:1");
        assert!(
            warnings
                .iter()
                .any(|warning| warning.message.contains("matches no finding"))
        );
    }

    #[test]
    fn lab_mistakes_are_located_with_what_to_write() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "kind = \"audit\"\n",
                "a.toml:1:8",
                "kind must be \"self-assessment\" or \"lab\"",
            ),
            (
                "[test.\"5.1-1-2\"]\nverdict = \"passed\"\n",
                "a.toml:2:11",
                "verdict of test case 5.1-1-2 must be",
            ),
            (
                "[test.\"5.1-1-2\"]\nverdict = \"pass\"\ndate = \"29/11/2026\"\n",
                "a.toml:3:8",
                "the date of test case 5.1-1-2 is not a date",
            ),
            (
                "[test.\"5.1-1-7\"]\nverdict = \"pass\"\n",
                "a.toml:1:7",
                "unknown test case \"5.1-1-7\"",
            ),
            (
                "[[accept]]\nfinding = \"x\"\nkind = \"false-positive\"\nby = \"me\"\n",
                "a.toml:1:1",
                "acceptance #1 (line 1) has no reason",
            ),
            (
                "[[accept]]\nfinding = \"x\"\nkind = \"fine\"\nreason = \"r\"\nby = \"me\"\n",
                "a.toml:3:8",
                "kind of an acceptance must be",
            ),
            (
                "[[accept]]\nfinding = \"x\"\nkind = \"false-positive\"\nreason = \"r\"\nby = \"me\"\nuntil = \"2026-02-30\"\n",
                "a.toml:6:9",
                "`until` of acceptance #1 is not a date",
            ),
            (
                "[[ixit.\"15-Intf\"]]\ndescription = \"web\"\npassword = \"hunter2\"\n",
                "a.toml:3:1",
                "holds a secret written inline",
            ),
            (
                "[[ixit.\"1-AuthMech\"]]\nadmin_token = \"abc\"\n",
                "a.toml:2:1",
                "holds a secret written inline",
            ),
            (
                "[[ixit.\"15-Intf\"]]\nport = \"443\"\n",
                "a.toml:2:1",
                "field port must be a number, not text",
            ),
            (
                "[conditions]\n1 = true\n[[ixit.\"99-Nothing\"]]\ndescription = \"x\"\n",
                "a.toml:3:1",
                "unknown IXIT table \"99-Nothing\"",
            ),
            (
                "[review]\nreport_id = \"R\"\nassessor = \"A\"\ndecision = \"ok\"\n",
                "a.toml:4:12",
                "decision must be \"approved\" or \"changes-requested\"",
            ),
        ];
        for (source, place, message) in cases {
            let error = error_of(source);
            assert!(
                error.message.contains(message),
                "{source}: {}",
                error.message
            );
            assert_eq!(error.place().unwrap(), *place, "{source}");
            assert!(error.help.is_some(), "{source}");
        }
        // The secret is never echoed back.
        let error = error_of("[[ixit.\"15-Intf\"]]\npassword = \"hunter2\"\n");
        assert!(!error.message.contains("hunter2"));
        assert_eq!(error.snippet.as_deref(), Some("password = \"…\""));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = error_of("[device]\nmodle = \"x\"\n");
        assert!(error.message.contains("unknown field"), "{}", error.message);
        assert_eq!(error.place().unwrap(), "a.toml:2:1");
    }
}
