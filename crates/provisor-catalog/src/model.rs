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
    /// Provisions in the standard's order.
    pub provisions: Vec<Provision>,
    /// Which test cases of this edition each of provisor's automated checks informs.
    pub check_tests: Vec<CheckTests>,
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
/// accessible`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The condition's id.
    pub id: ConditionId,
    /// The condition as the model words it.
    pub text: String,
    /// The plain-language question a product manager can answer.
    pub question: String,
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
                "condition {premise} implies condition {consequence}"
            ),
            Relation::ExactlyOne { of } => {
                let names: Vec<String> = of.iter().map(|id| id.to_string()).collect();
                write!(
                    formatter,
                    "exactly one of conditions {} holds",
                    names.join(" and ")
                )
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
    /// Set when the verdict is computed, never stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<DerivedRule>,
    /// TS 103 701 test cases of the provision's test group.
    pub test_cases: Vec<TestCase>,
    /// IXIT tables the test group uses.
    pub ixit: Vec<String>,
}

impl Provision {
    /// The status as the assessment model writes it: `M`, `R C (9, 12)`.
    pub fn status_label(&self) -> String {
        if self.conditions.is_empty() {
            self.status.letter().to_owned()
        } else {
            let ids: Vec<&str> = self.conditions.iter().map(ConditionId::as_str).collect();
            format!("{} C ({})", self.status.letter(), ids.join(", "))
        }
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
    ixit: Vec<IxitTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvisionsFile {
    provision: Vec<Provision>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksFile {
    check: Vec<CheckTests>,
}

impl Catalog {
    /// Parses an edition from the text of its three data files.
    pub fn from_toml(
        edition: &'static str,
        edition_text: &str,
        provisions_text: &str,
        checks_text: &str,
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
            check_tests: checks.check,
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
