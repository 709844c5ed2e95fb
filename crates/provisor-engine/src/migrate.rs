//! Carrying an assessment of one edition into the next (`provisor migrate`): answers to
//! conditions through the edition's migration map, statements to the provisions that
//! continue theirs, test records to the test cases that continue theirs, IXIT entries to
//! their renamed tables, and a list of everything a person must still do. Pure: the
//! caller reads the file and writes the result.
//!
//! What is carried plainly and what must be confirmed: a statement on a provision whose
//! sentence is believed unchanged is carried as it is; one on a provision that changed
//! (its text is a summary) or was split is carried with `carried = "<old id>"`, which
//! reports flag and which blocks an approval until someone removes it. Test results are
//! always carried marked, since the test specification changed with the edition.

use std::collections::BTreeMap;

use provisor_catalog::{Catalog, ConditionId, TextSource};

use crate::conditions::resolve_conditions;
use crate::error::InputError;
use crate::file::AssessmentFile;
use crate::ixit::IxitEntry;
use crate::lab::TestRecord;
use crate::profile::{AnswerSource, ConditionAnswer};
use crate::statement::Statement;
use crate::verdict::{Input, evaluate};

/// An assessment carried into another edition, and what a person must still do.
#[derive(Debug, Clone)]
pub struct Migrated {
    /// The edition carried into.
    pub catalog: &'static Catalog,
    /// Declared answers, each noting the answer it was carried from.
    pub answers: BTreeMap<ConditionId, ConditionAnswer>,
    /// Statements by provision id (`carried` set where they must be confirmed).
    pub statements: BTreeMap<String, Statement>,
    /// Test records by test case id, all marked `carried`.
    pub tests: BTreeMap<String, TestRecord>,
    /// The IXIT entries, in their new tables.
    pub ixit: Vec<MovedEntry>,
    /// What needs a person, in the order to do it.
    pub todo: Vec<Todo>,
}

/// An IXIT entry in its new table, and where it was in the old file.
#[derive(Debug, Clone)]
pub struct MovedEntry {
    /// The entry, its table and position those of the new edition.
    pub entry: IxitEntry,
    /// Its table in the old file.
    pub from_table: String,
    /// Its position among that table's entries, from 0.
    pub from_index: usize,
}

/// One thing a person must do after a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// What it is about (`condition`, `statement`, `provision`, `test`, `ixit`,
    /// `review`).
    pub topic: &'static str,
    /// What to do, in words.
    pub what: String,
}

impl Todo {
    fn new(topic: &'static str, what: String) -> Self {
        Todo { topic, what }
    }
}

/// Carries `file` into `to`, which must migrate from `file`'s edition.
pub fn migrate(file: &AssessmentFile, to: &'static Catalog) -> Result<Migrated, InputError> {
    let from = file.catalog;
    let map = to
        .migration
        .as_ref()
        .filter(|migration| migration.from == from.id)
        .ok_or_else(|| {
            let targets: Vec<&str> = provisor_catalog::editions()
                .iter()
                .filter(|edition| {
                    edition
                        .migration
                        .as_ref()
                        .is_some_and(|migration| migration.from == from.id)
                })
                .map(|edition| edition.id.as_str())
                .collect();
            InputError::new(format!(
                "{} is an assessment of {}, which does not migrate to {}",
                file.origin(),
                from.id,
                to.id
            ))
            .help(if from.id == to.id {
                "it is already of that edition".to_owned()
            } else if targets.is_empty() {
                format!("no embedded edition migrates from {}", from.id)
            } else {
                format!("editions it migrates to: {}", targets.join(", "))
            })
        })?;
    let mut todo = Vec::new();

    // Conditions: the answers in force (declared and what they imply), carried where
    // the map says an answer carries.
    let resolved =
        resolve_conditions(from, &file.answers, &[]).map_err(|invalid| file.locate(&invalid))?;
    let mut answers: BTreeMap<ConditionId, ConditionAnswer> = BTreeMap::new();
    for condition in &from.conditions {
        let Some(answer) = resolved.answers.get(&condition.id) else {
            continue;
        };
        let Some(moved) = map.condition(condition.id.as_str()) else {
            continue;
        };
        let said = format!(
            "{} {} ({}) was {}",
            from.short_title,
            condition.label(),
            condition.wording(),
            if answer.answer { "true" } else { "false" }
        );
        let how = match &answer.source {
            AnswerSource::Declared => answer.note.clone().map(|note| format!(": {note}")),
            AnswerSource::Implied { relation, .. } => Some(format!(", as {relation}")),
            AnswerSource::Inferred { .. } => None,
        }
        .unwrap_or_default();
        if moved.to.is_empty() {
            todo.push(Todo::new(
                "condition",
                format!("{said}: not carried, {}", moved.why),
            ));
            continue;
        }
        if !moved.carries(answer.answer) {
            let successors: Vec<String> = moved.to.iter().map(ConditionId::label).collect();
            todo.push(Todo::new(
                "condition",
                format!(
                    "{said}: answer {} yourself ({})",
                    successors.join(" and "),
                    moved.why
                ),
            ));
            continue;
        }
        for successor in &moved.to {
            answers.entry(successor.clone()).or_insert(ConditionAnswer {
                answer: answer.answer,
                note: Some(format!("carried: {said}{how}")),
                source: AnswerSource::Declared,
                carried: false,
            });
        }
    }
    // The carried answers must agree with each other under the new relations.
    let closed = resolve_conditions(to, &answers, &[]).map_err(|invalid| {
        InputError::new(format!(
            "the answers of {} do not carry into {}: {}",
            file.origin(),
            to.id,
            invalid.message
        ))
        .help("correct the answers of the assessment, then migrate again")
    })?;
    for condition in to.questionnaire() {
        if !closed.answers.contains_key(&condition.id) {
            todo.push(Todo::new(
                "condition",
                format!("answer {}: {}", condition.label(), condition.question),
            ));
        }
    }

    // Statements, to the provisions that continue theirs.
    let mut statements = BTreeMap::new();
    for provision in &to.provisions {
        if provision.derived.is_some() {
            continue;
        }
        let Some(previous) = provision.previous.as_deref() else {
            todo.push(Todo::new(
                "provision",
                format!(
                    "state {} ({}): {}",
                    provision.id,
                    provision.status_label(),
                    headline(&provision.text)
                ),
            ));
            continue;
        };
        let Some(statement) = file.statements.get(previous) else {
            continue;
        };
        let split = to
            .provisions
            .iter()
            .filter(|other| other.previous.as_deref() == Some(previous))
            .count()
            > 1;
        let changed = provision.text_source == TextSource::Summary;
        let mut carried = statement.clone();
        carried.line = None;
        if split || changed {
            carried.carried = Some(previous.to_owned());
            todo.push(Todo::new(
                "statement",
                format!(
                    "confirm {}: its statement was carried from {previous}, {}",
                    provision.id,
                    if split {
                        format!("which {} splits", to.short_title)
                    } else {
                        "which changed".to_owned()
                    }
                ),
            ));
        }
        statements.insert(provision.id.clone(), carried);
    }
    for voided in &to.voided {
        if !statements.keys().any(|id| voided.successors.contains(id))
            && file.statements.contains_key(&voided.id)
        {
            todo.push(Todo::new(
                "statement",
                format!(
                    "{} is voided: state {}",
                    voided.id,
                    voided.successors.join(" and ")
                ),
            ));
        }
    }

    // Test records, to the test cases that continue theirs (same number).
    let mut tests = BTreeMap::new();
    for (id, record) in &file.tests {
        let Some((provision, _)) = from.test_case(id) else {
            continue;
        };
        let number = &id[provision.id.len()..];
        let successors: Vec<&str> = to
            .provisions
            .iter()
            .filter(|other| other.previous.as_deref() == Some(provision.id.as_str()))
            .filter_map(|other| {
                other
                    .test_cases
                    .iter()
                    .find(|case| case.id == format!("{}{number}", other.id))
            })
            .map(|case| case.id.as_str())
            .collect();
        if successors.is_empty() {
            todo.push(Todo::new(
                "test",
                format!(
                    "test case {id} has no successor in {}: not carried",
                    to.test_specification
                ),
            ));
        }
        for successor in successors {
            let mut carried = record.clone();
            carried.id = successor.to_owned();
            carried.carried = Some(id.clone());
            carried.line = None;
            tests.insert(successor.to_owned(), carried);
        }
    }
    if !tests.is_empty() {
        let ids: Vec<&str> = tests.keys().map(String::as_str).collect();
        todo.push(Todo::new(
            "test",
            format!(
                "confirm the {} test result(s) carried into {}: {}",
                tests.len(),
                to.test_specification,
                ids.join(", ")
            ),
        ));
    }

    // IXIT entries, to their renamed tables.
    let mut ixit = Vec::new();
    for entry in &file.ixit {
        let mut moved = entry.clone();
        if let Some(rename) = map.ixit_table(&entry.table) {
            let table = match &rename.with_port {
                Some(with_port) if entry.fields.contains_key("port") => with_port,
                _ => &rename.to,
            };
            todo.push(Todo::new(
                "ixit",
                format!(
                    "IXIT {} entry {} is now in {table}{}",
                    entry.table,
                    entry.name(),
                    rename
                        .why
                        .as_ref()
                        .map(|why| format!(" ({why})"))
                        .unwrap_or_default()
                ),
            ));
            moved.table = table.clone();
            // Fields the new table has no place for are left out, and said so.
            if let Some(target) = to.ixit_table(table) {
                let dropped: Vec<String> = moved
                    .fields
                    .keys()
                    .filter(|name| *name != "id" && target.field(name).is_none())
                    .cloned()
                    .collect();
                for name in &dropped {
                    moved.fields.remove(name);
                }
                if !dropped.is_empty() {
                    todo.push(Todo::new(
                        "ixit",
                        format!(
                            "IXIT {table} entry {}: {} left out, which {table} has no field for; put what matters in its description",
                            moved.name(),
                            dropped.join(", ")
                        ),
                    ));
                }
            }
        }
        moved.line = None;
        moved.index = ixit
            .iter()
            .filter(|other: &&MovedEntry| other.entry.table == moved.table)
            .count();
        ixit.push(MovedEntry {
            entry: moved,
            from_table: entry.table.clone(),
            from_index: entry.index,
        });
    }
    if file.review.is_some() {
        todo.push(Todo::new(
            "review",
            "the review of the old assessment is not carried: the new one needs its own".into(),
        ));
    }

    // A carried statement that the new edition refuses (a mandatory provision declared
    // not applicable whose conditions now hold) is dropped and listed.
    let mut input = Input::new(to);
    input.answers = answers.clone();
    input.statements = statements.clone();
    if let Err(invalid) = evaluate(&input) {
        for item in invalid {
            if let crate::error::Subject::Statement(id) = &item.subject
                && let Some(statement) = statements.remove(id)
            {
                todo.push(Todo::new(
                    "statement",
                    format!(
                        "{id}: the carried statement ({}) is not valid in {}: {}; state it anew",
                        statement.support, to.short_title, item.message
                    ),
                ));
            }
        }
    }

    let order = [
        "condition",
        "provision",
        "statement",
        "test",
        "ixit",
        "review",
    ];
    todo.sort_by_key(|item| order.iter().position(|topic| *topic == item.topic));
    Ok(Migrated {
        catalog: to,
        answers,
        statements,
        tests,
        ixit,
        todo,
    })
}

/// The first sentence of a text, for a list.
fn headline(text: &str) -> String {
    let sentence = text.split(". ").next().unwrap_or(text);
    if sentence.chars().count() > 90 {
        let cut: String = sentence.chars().take(89).collect();
        format!("{cut}…")
    } else {
        sentence.to_owned()
    }
}
