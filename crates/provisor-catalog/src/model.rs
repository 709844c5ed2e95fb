//! The typed model of one edition of the standard, deserialized from the data files.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::CatalogError;

/// One edition of the standard: everything needed to decide which provisions apply and
/// what a lab tests.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Stable id, as written in assessment files (`en303645-v2.1.1`).
    pub id: String,
    /// Full title of the standard.
    pub title: String,
    /// A short title for headings (`EN 303 645 V2.1.1`).
    pub short_title: String,
    /// The conformance test specification the test cases come from.
    pub test_specification: String,
    /// Categories (clauses) in the standard's order.
    pub categories: Vec<Category>,
    /// Conditions of the assessment model in order.
    pub conditions: Vec<Condition>,
    /// Relations a consistent set of condition answers keeps.
    pub relations: Vec<Relation>,
    /// IXIT tables of the test specification.
    pub ixit: Vec<IxitTable>,
    /// Provisions in the standard's order: the rows of the ICS.
    pub provisions: Vec<Provision>,
    /// Provisions of an earlier edition this one voids, with their successors.
    pub voided: Vec<Voided>,
    /// Which test cases of this edition each of provisor's automated checks informs.
    pub check_tests: Vec<CheckTests>,
    /// How an assessment of the previous edition carries over into this one.
    pub migration: Option<Migration>,
    /// The order in which `provisor init` asks the conditions (empty: catalog order).
    pub questionnaire: Vec<ConditionId>,
    /// How findings named in the checks' edition carry into this one, where a split
    /// provision depends on the check or on what was found.
    pub finding_rules: Vec<FindingRule>,
    index: BTreeMap<String, usize>,
}

/// The functional test cases one automated check informs: its fail findings propose
/// FAIL for them, its pass findings PASS.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckTests {
    /// The check id (`firmware.default-password`).
    pub check: String,
    /// The test cases (`5.1-1-2`); empty when the check informs none.
    pub test_cases: Vec<String>,
}

/// A clause of the standard grouping provisions (`5.1 No universal default passwords`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Clause number (`5.1`).
    pub id: String,
    /// Clause title.
    pub title: String,
}

/// The id of a condition: a number in V2.1.1 (`"13"`), possibly a letter in later
/// editions. Serialized as a JSON number when it is one, so `[1, 2]` stays `[1, 2]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConditionId(String);

impl<'de> Deserialize<'de> for ConditionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = ConditionId;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a condition id: a number such as 13, or a string")
            }
            fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<ConditionId, E> {
                Ok(ConditionId(number.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<ConditionId, E> {
                Ok(ConditionId(number.to_string()))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ConditionId, E> {
                Ok(ConditionId(text.to_owned()))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

impl ConditionId {
    /// A condition id from its text form.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The text form (`"13"`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number, when the id is one.
    pub fn number(&self) -> Option<u32> {
        self.0.parse().ok()
    }

    /// Several ids in words: `condition 3`, `conditions 9 and 12`, `features a and b`,
    /// `condition 14 and feature e`.
    pub fn describe(ids: &[ConditionId]) -> String {
        let join = |names: Vec<&str>| match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        let numbered: Vec<&str> = ids
            .iter()
            .filter(|id| id.number().is_some())
            .map(ConditionId::as_str)
            .collect();
        let lettered: Vec<&str> = ids
            .iter()
            .filter(|id| id.number().is_none())
            .map(ConditionId::as_str)
            .collect();
        let plural = |count: usize, noun: &str| {
            if count == 1 {
                noun.to_owned()
            } else {
                format!("{noun}s")
            }
        };
        let mut parts = Vec::new();
        if !numbered.is_empty() {
            parts.push(format!(
                "{} {}",
                plural(numbered.len(), "condition"),
                join(numbered)
            ));
        }
        if !lettered.is_empty() {
            parts.push(format!(
                "{} {}",
                plural(lettered.len(), "feature"),
                join(lettered)
            ));
        }
        parts.join(" and ")
    }

    /// `condition 12` or `feature a`: numbered ids are conditions and lettered ones
    /// features in every edition (the catalog tests hold the data to it).
    pub fn label(&self) -> String {
        match self.number() {
            Some(_) => format!("condition {}", self.0),
            None => format!("feature {}", self.0),
        }
    }
}

impl fmt::Display for ConditionId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl Serialize for ConditionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.number() {
            Some(number) => serializer.serialize_u32(number),
            None => serializer.serialize_str(&self.0),
        }
    }
}

/// A condition on which provisions depend (`13) a debug interface is physically
/// accessible`), or a feature (`a) passwords can be used …`): both are answered true or
/// false, and a provision applies only when all of its hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The condition's id.
    pub id: ConditionId,
    /// A numbered condition or a lettered feature (V3.1.3's "feature, capability or
    /// mechanism that needs to be present for the corresponding provision to apply").
    #[serde(default, skip_serializing_if = "ConditionKind::is_condition")]
    pub kind: ConditionKind,
    /// The condition as the model words it.
    pub text: String,
    /// The plain-language question a product manager can answer.
    pub question: String,
}

/// Whether a condition is a numbered condition or a lettered feature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConditionKind {
    /// A numbered condition (`C` in a Table B.1 status).
    #[default]
    Condition,
    /// A lettered feature (`F` in a Table B.1 status).
    Feature,
}

impl ConditionKind {
    /// Whether this is a numbered condition.
    pub fn is_condition(&self) -> bool {
        *self == ConditionKind::Condition
    }

    /// `condition` or `feature`, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            ConditionKind::Condition => "condition",
            ConditionKind::Feature => "feature",
        }
    }
}

impl Condition {
    /// `condition 12` or `feature a`, for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind.noun(), self.id)
    }

    /// The text without the list punctuation Table B.1 ends it with, for quoting.
    pub fn wording(&self) -> &str {
        self.text.trim_end_matches([';', '.', ' '])
    }
}

/// A relation between conditions that every consistent set of answers keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Relation {
    /// When `if` holds, `then` holds (and so when `then` fails, `if` fails).
    Implies {
        /// The premise.
        #[serde(rename = "if")]
        premise: ConditionId,
        /// The consequence.
        #[serde(rename = "then")]
        consequence: ConditionId,
    },
    /// Exactly one of the conditions holds.
    ExactlyOne {
        /// The conditions.
        of: Vec<ConditionId>,
    },
}

impl Relation {
    /// The conditions the relation mentions.
    pub fn conditions(&self) -> Vec<&ConditionId> {
        match self {
            Relation::Implies {
                premise,
                consequence,
            } => vec![premise, consequence],
            Relation::ExactlyOne { of } => of.iter().collect(),
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Relation::Implies {
                premise,
                consequence,
            } => write!(
                formatter,
                "{} implies {}",
                premise.label(),
                consequence.label()
            ),
            Relation::ExactlyOne { of } => {
                if of.iter().all(|id| id.number().is_some()) {
                    let names: Vec<&str> = of.iter().map(ConditionId::as_str).collect();
                    write!(
                        formatter,
                        "exactly one of conditions {} holds",
                        names.join(" and ")
                    )
                } else {
                    let names: Vec<String> = of.iter().map(ConditionId::label).collect();
                    write!(formatter, "exactly one of {} holds", names.join(" and "))
                }
            }
        }
    }
}

/// An IXIT table of the test specification (`1-AuthMech`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IxitTable {
    /// Table id (`1-AuthMech`).
    pub id: String,
    /// Table title.
    pub title: String,
    /// The fields an entry has, as far as they are known (the lists are indicative).
    #[serde(default)]
    pub fields: Vec<IxitField>,
}

impl IxitTable {
    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<&IxitField> {
        self.fields.iter().find(|field| field.name == name)
    }
}

/// A field (column) of an IXIT table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IxitField {
    /// The field's name in an assessment file (`generation_mechanism`).
    pub name: String,
    /// What it holds.
    #[serde(rename = "type")]
    pub kind: FieldType,
}

/// What an IXIT field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Free text.
    Text,
    /// true or false.
    Boolean,
    /// A whole number (a port).
    Integer,
    /// A list of texts.
    List,
    /// A secret: only a reference to it may be written, never its value.
    Secret,
}

impl FieldType {
    /// The data spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Boolean => "boolean",
            FieldType::Integer => "integer",
            FieldType::List => "list",
            FieldType::Secret => "secret",
        }
    }
}

/// Whether a provision is a requirement or a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// "shall": mandatory.
    #[serde(rename = "M")]
    Mandatory,
    /// "should": recommended.
    #[serde(rename = "R")]
    Recommended,
}

impl Status {
    /// `M` or `R`.
    pub fn letter(self) -> &'static str {
        match self {
            Status::Mandatory => "M",
            Status::Recommended => "R",
        }
    }
}

/// How a derived provision's verdict is computed from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DerivedRule {
    /// A justification is recorded for every recommendation not applicable or not
    /// fulfilled (4-1 in V2.1.1, 5.0-1 in V3).
    RecommendationsJustified,
}

/// The kind of a TS 103 701 test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestKind {
    /// The lab reviews the ICS and IXIT documentation.
    Conceptual,
    /// The lab checks the device or the published resources.
    Functional,
    /// Both at once.
    ConceptualFunctional,
}

impl TestKind {
    /// The kind as written in the data (`conceptual`).
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Conceptual => "conceptual",
            TestKind::Functional => "functional",
            TestKind::ConceptualFunctional => "conceptual-functional",
        }
    }
}

/// A test case of the conformance test specification.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// Test case id (`5.1-1-2`).
    pub id: String,
    /// Conceptual, functional or both.
    pub kind: TestKind,
    /// Who numbered it: the test specification, or provisor where the specification's
    /// numbering is not known (never to be shown as a specification id).
    #[serde(default, skip_serializing_if = "TestOrigin::is_specification")]
    pub origin: TestOrigin,
}

impl TestCase {
    /// The id as reports show it: a test case provisor numbered says so.
    pub fn display_id(&self) -> String {
        match self.origin {
            TestOrigin::Specification => self.id.clone(),
            TestOrigin::Provisor => format!("{} (provisor's numbering)", self.id),
        }
    }
}

/// Who numbered a test case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestOrigin {
    /// The conformance test specification (TS 103 701).
    #[default]
    Specification,
    /// provisor, for a provision whose test group's numbering is not known.
    Provisor,
}

impl TestOrigin {
    /// Whether the specification numbered it.
    pub fn is_specification(&self) -> bool {
        *self == TestOrigin::Specification
    }
}

/// Where a provision's text comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextSource {
    /// The standard's own sentence.
    #[default]
    Standard,
    /// The sentence of V2.1.1, for a provision whose sentence is believed unchanged.
    #[serde(rename = "v2.1.1")]
    PreviousEdition,
    /// provisor's own summary: the standard's sentence is not held.
    Summary,
    /// The official wording, supplied by the user in a wording file.
    Wording,
}

impl TextSource {
    /// Whether the text is the standard's sentence.
    pub fn is_standard(&self) -> bool {
        *self == TextSource::Standard
    }

    /// How reports mark the text (`None` for the standard's own sentence, and for the
    /// wording file's, whose SHA-256 the report shows instead).
    pub fn marker(self) -> Option<&'static str> {
        match self {
            TextSource::Standard | TextSource::Wording => None,
            TextSource::PreviousEdition => Some("V2.1.1 wording"),
            TextSource::Summary => Some("summary, not the standard's wording"),
        }
    }

    /// `text` as shown, behind its label where it has one.
    pub fn shown(self, text: &str) -> String {
        match self.label() {
            Some(label) => format!("{label} {text}"),
            None => text.to_owned(),
        }
    }

    /// The short label put before the text where it is shown (`[summary]`).
    pub fn label(self) -> Option<&'static str> {
        match self {
            TextSource::Standard | TextSource::Wording => None,
            TextSource::PreviousEdition => Some("[V2.1.1 wording]"),
            TextSource::Summary => Some("[summary]"),
        }
    }
}

/// How an assessment of an earlier edition carries over into this one: what becomes of
/// each condition and IXIT table (provisions carry by their `previous`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// The earlier edition's id.
    pub from: String,
    /// What becomes of each of its conditions.
    #[serde(rename = "condition")]
    pub conditions: Vec<ConditionMove>,
    /// Its IXIT tables that are renamed.
    #[serde(rename = "ixit")]
    pub ixit: Vec<IxitMove>,
}

impl Migration {
    /// What becomes of a condition of the earlier edition.
    pub fn condition(&self, id: &str) -> Option<&ConditionMove> {
        self.conditions
            .iter()
            .find(|entry| entry.from.as_str() == id)
    }

    /// What becomes of an IXIT table of the earlier edition (`None`: it keeps its id).
    pub fn ixit_table(&self, id: &str) -> Option<&IxitMove> {
        self.ixit.iter().find(|entry| entry.from == id)
    }
}

/// What becomes of one condition of the earlier edition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionMove {
    /// The earlier edition's condition.
    pub from: ConditionId,
    /// The conditions and features that take its answer (empty: it is gone).
    #[serde(default)]
    pub to: Vec<ConditionId>,
    /// Which answers carry.
    pub carries: Carries,
    /// Why, read from the texts.
    pub why: String,
}

impl ConditionMove {
    /// Whether an answer of `value` carries to the successors.
    pub fn carries(&self, value: bool) -> bool {
        match self.carries {
            Carries::Both => true,
            Carries::True => value,
            Carries::False => !value,
        }
    }
}

/// Which answers of a condition carry to its successors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Carries {
    /// Both: the texts say the same thing.
    Both,
    /// Only a true answer: the successor is wider.
    True,
    /// Only a false answer: the successor is narrower.
    False,
}

/// An IXIT table of the earlier edition that is renamed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IxitMove {
    /// The earlier table's id.
    pub from: String,
    /// Its id in this edition.
    pub to: String,
    /// Where an entry that declares a network port goes instead.
    #[serde(default)]
    pub with_port: Option<String>,
    /// Why.
    #[serde(default)]
    pub why: Option<String>,
}

/// Which parts of a split provision a finding bears on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingRule {
    /// The check whose findings it applies to.
    pub check: String,
    /// The provision of the earlier edition the finding names.
    pub from: String,
    /// Evidence fields and the values they must have (empty: any finding).
    #[serde(default)]
    pub when: BTreeMap<String, String>,
    /// The provisions of this edition the finding bears on.
    pub to: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingRulesFile {
    rule: Vec<FindingRule>,
}

/// A provision of an earlier edition that this edition voids: it has no ICS row, and a
/// statement on it is answered with its successors.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Voided {
    /// The voided provision's id (`5.6-4`).
    pub id: String,
    /// The provisions that replace it (`5.6-4A`, `5.6-4B`).
    pub successors: Vec<String>,
}

/// One provision of the standard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provision {
    /// Provision id as the standard writes it (`5.1-1`, `4-1`, `6-3`).
    pub id: String,
    /// The category (clause) id.
    pub category: String,
    /// Mandatory or recommended in the assessment model.
    pub status: Status,
    /// Conditions that must all hold for the provision to apply.
    pub conditions: Vec<ConditionId>,
    /// The status string of the published Table B.1, when the table has a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_b1: Option<String>,
    /// The provision's text.
    pub text: String,
    /// Where the text comes from.
    #[serde(default, skip_serializing_if = "TextSource::is_standard")]
    pub text_source: TextSource,
    /// The provision of the previous edition this one continues (absent: new).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Set when the verdict is computed, never stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<DerivedRule>,
    /// TS 103 701 test cases of the provision's test group.
    pub test_cases: Vec<TestCase>,
    /// IXIT tables the test group uses.
    pub ixit: Vec<String>,
}

impl Provision {
    /// The status as the assessment model writes it, in Table B.1's grammar: `M`,
    /// `R C (9, 12)`, `M C F (14, e)` (C for numbered conditions, F for lettered
    /// features).
    pub fn status_label(&self) -> String {
        if self.conditions.is_empty() {
            return self.status.letter().to_owned();
        }
        let numbered = self.conditions.iter().any(|id| id.number().is_some());
        let lettered = self.conditions.iter().any(|id| id.number().is_none());
        let ids: Vec<&str> = self.conditions.iter().map(ConditionId::as_str).collect();
        format!(
            "{}{}{} ({})",
            self.status.letter(),
            if numbered { " C" } else { "" },
            if lettered { " F" } else { "" },
            ids.join(", ")
        )
    }

    /// The text as reports show it: labelled `[summary]` or `[V2.1.1 wording]` when it
    /// is not the standard's sentence.
    pub fn shown_text(&self) -> String {
        self.text_source.shown(&self.text)
    }

    /// Whether the provision is mandatory.
    pub fn is_mandatory(&self) -> bool {
        self.status == Status::Mandatory
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditionFile {
    id: String,
    title: String,
    short_title: String,
    test_specification: String,
    category: Vec<Category>,
    condition: Vec<Condition>,
    relation: Vec<Relation>,
    #[serde(default)]
    questionnaire: Vec<ConditionId>,
    ixit: Vec<IxitTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvisionsFile {
    provision: Vec<Provision>,
    #[serde(default)]
    voided: Vec<Voided>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksFile {
    check: Vec<CheckTests>,
}

impl Catalog {
    /// Parses an edition from the text of its data files (the migration map and the
    /// finding rules only for an edition that has a predecessor).
    pub fn from_toml(
        edition: &'static str,
        edition_text: &str,
        provisions_text: &str,
        checks_text: &str,
        migration_text: Option<&str>,
        finding_rules_text: Option<&str>,
    ) -> Result<Catalog, CatalogError> {
        let malformed = |file: &'static str, error: toml::de::Error| CatalogError::Malformed {
            edition,
            file,
            message: error.to_string(),
        };
        let head: EditionFile =
            toml::from_str(edition_text).map_err(|error| malformed("edition.toml", error))?;
        let body: ProvisionsFile =
            toml::from_str(provisions_text).map_err(|error| malformed("provisions.toml", error))?;
        let checks: ChecksFile =
            toml::from_str(checks_text).map_err(|error| malformed("checks.toml", error))?;
        let migration = migration_text
            .map(|text| toml::from_str(text).map_err(|error| malformed("migration.toml", error)))
            .transpose()?;
        let finding_rules = finding_rules_text
            .map(|text| {
                toml::from_str::<FindingRulesFile>(text)
                    .map_err(|error| malformed("findings.toml", error))
            })
            .transpose()?
            .map_or_else(Vec::new, |file| file.rule);
        let index = body
            .provision
            .iter()
            .enumerate()
            .map(|(position, provision)| (provision.id.clone(), position))
            .collect();
        Ok(Catalog {
            id: head.id,
            title: head.title,
            short_title: head.short_title,
            test_specification: head.test_specification,
            categories: head.category,
            conditions: head.condition,
            relations: head.relation,
            ixit: head.ixit,
            provisions: body.provision,
            voided: body.voided,
            check_tests: checks.check,
            migration,
            questionnaire: head.questionnaire,
            finding_rules,
            index,
        })
    }

    /// The provision with this id.
    pub fn provision(&self, id: &str) -> Option<&Provision> {
        self.index
            .get(id)
            .map(|&position| &self.provisions[position])
    }

    /// The position of a provision in catalog order.
    pub fn provision_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The provisions of this edition that a finding of `check`, naming `provisions` of
    /// the previous edition, bears on. `evidence` reads a field of the finding's
    /// evidence. A provision of the previous edition carries to those that continue it,
    /// narrowed by the first matching rule where it is split; the result keeps the
    /// finding's order, without repeats.
    pub fn carry_finding<'a>(
        &'a self,
        check: &str,
        provisions: &[String],
        evidence: impl Fn(&str) -> Option<String>,
    ) -> Vec<&'a str> {
        let mut carried: Vec<&str> = Vec::new();
        for previous in provisions {
            let rule = self.finding_rules.iter().find(|rule| {
                rule.check == check
                    && &rule.from == previous
                    && rule
                        .when
                        .iter()
                        .all(|(field, value)| evidence(field).as_deref() == Some(value.as_str()))
            });
            let successors: Vec<&str> = match rule {
                Some(rule) => rule.to.iter().map(String::as_str).collect(),
                None => self
                    .provisions
                    .iter()
                    .filter(|provision| provision.previous.as_deref() == Some(previous.as_str()))
                    .map(|provision| provision.id.as_str())
                    .collect(),
            };
            for id in successors {
                if !carried.contains(&id) {
                    carried.push(id);
                }
            }
        }
        carried
    }

    /// This edition with the official sentences of a wording file in place of its
    /// texts (`texts` by provision id; ids it does not hold are ignored).
    pub fn with_texts(&self, texts: &BTreeMap<String, String>) -> Catalog {
        let mut catalog = self.clone();
        for provision in &mut catalog.provisions {
            if let Some(text) = texts.get(&provision.id) {
                provision.text = text.clone();
                provision.text_source = TextSource::Wording;
            }
        }
        catalog
    }

    /// The conditions in the order a questionnaire asks them.
    pub fn questionnaire(&self) -> Vec<&Condition> {
        if self.questionnaire.is_empty() {
            return self.conditions.iter().collect();
        }
        self.questionnaire
            .iter()
            .filter_map(|id| self.condition(id.as_str()))
            .collect()
    }

    /// The id of the provision derived from the recommendations' verdicts (4-1 in
    /// V2.1.1, 5.0-1 in V3.1.3), for the words that name it.
    pub fn derived_id(&self) -> &str {
        self.provisions
            .iter()
            .find(|provision| provision.derived.is_some())
            .map_or("4-1", |provision| provision.id.as_str())
    }

    /// The voided provision with this id.
    pub fn voided(&self, id: &str) -> Option<&Voided> {
        self.voided.iter().find(|voided| voided.id == id)
    }

    /// The numbered conditions, in order.
    pub fn numbered_conditions(&self) -> impl Iterator<Item = &Condition> {
        self.conditions
            .iter()
            .filter(|condition| condition.kind == ConditionKind::Condition)
    }

    /// The lettered features, in order.
    pub fn features(&self) -> impl Iterator<Item = &Condition> {
        self.conditions
            .iter()
            .filter(|condition| condition.kind == ConditionKind::Feature)
    }

    /// The test case with this id and the provision it belongs to.
    pub fn test_case(&self, id: &str) -> Option<(&Provision, &TestCase)> {
        // A test case id is its provision's id, a dash and a number: try the provision
        // that prefix names first.
        let provision = self.provision(id.rsplit_once('-')?.0)?;
        let test_case = provision.test_cases.iter().find(|case| case.id == id)?;
        Some((provision, test_case))
    }

    /// The test cases an automated check informs (none for a check this edition does
    /// not map).
    pub fn tests_of_check(&self, check: &str) -> &[String] {
        self.check_tests
            .iter()
            .find(|entry| entry.check == check)
            .map_or(&[], |entry| entry.test_cases.as_slice())
    }

    /// The condition with this id.
    pub fn condition(&self, id: &str) -> Option<&Condition> {
        self.conditions
            .iter()
            .find(|condition| condition.id.as_str() == id)
    }

    /// The category with this id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|category| category.id == id)
    }

    /// The IXIT table with this id.
    pub fn ixit_table(&self, id: &str) -> Option<&IxitTable> {
        self.ixit.iter().find(|table| table.id == id)
    }

    /// Provisions of one category, in order.
    pub fn provisions_in<'a>(&'a self, category: &'a str) -> impl Iterator<Item = &'a Provision> {
        self.provisions
            .iter()
            .filter(move |provision| provision.category == category)
    }

    /// Provisions that depend on a condition.
    pub fn provisions_depending_on<'a>(
        &'a self,
        condition: &'a ConditionId,
    ) -> impl Iterator<Item = &'a Provision> {
        self.provisions
            .iter()
            .filter(move |provision| provision.conditions.contains(condition))
    }
}
