//! Integrity checks of an edition's data: unique ids, resolvable references, well-formed
//! test cases. The test suite runs them on every embedded edition.

use std::collections::BTreeSet;

use crate::model::{Catalog, DerivedRule, Status, TestKind, TestOrigin};

/// One thing wrong with an edition's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem(pub String);

impl Catalog {
    /// Everything wrong with this edition's data; empty when it is sound.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut say = |message: String| problems.push(Problem(message));

        let mut seen = BTreeSet::new();
        for category in &self.categories {
            if !seen.insert(category.id.as_str()) {
                say(format!("category {} is listed twice", category.id));
            }
        }
        let mut seen = BTreeSet::new();
        for condition in &self.conditions {
            if !seen.insert(condition.id.as_str()) {
                say(format!("condition {} is listed twice", condition.id));
            }
            let numbered = condition.id.number().is_some();
            if numbered != (condition.kind == crate::model::ConditionKind::Condition) {
                say(format!(
                    "{} must be numbered if a condition and lettered if a feature",
                    condition.label()
                ));
            }
            if condition.question.trim().is_empty() || condition.text.trim().is_empty() {
                say(format!(
                    "condition {} has no text or question",
                    condition.id
                ));
            }
        }
        for relation in &self.relations {
            for id in relation.conditions() {
                if self.condition(id.as_str()).is_none() {
                    say(format!(
                        "relation \"{relation}\" names unknown condition {id}"
                    ));
                }
            }
        }
        let mut seen = BTreeSet::new();
        for table in &self.ixit {
            if !seen.insert(table.id.as_str()) {
                say(format!("IXIT table {} is listed twice", table.id));
            }
            let mut names = BTreeSet::new();
            for field in &table.fields {
                if !names.insert(field.name.as_str()) || field.name == "id" {
                    say(format!(
                        "IXIT table {} lists field {} twice (every table has an id)",
                        table.id, field.name
                    ));
                }
            }
        }

        let mut seen = BTreeSet::new();
        let mut test_cases = BTreeSet::new();
        for provision in &self.provisions {
            let id = &provision.id;
            if !seen.insert(id.as_str()) {
                say(format!("provision {id} is listed twice"));
            }
            if self.category(&provision.category).is_none() {
                say(format!(
                    "provision {id} names unknown category {}",
                    provision.category
                ));
            }
            let expected_prefix = format!("{}-", provision.category);
            if !id.starts_with(&expected_prefix) {
                say(format!(
                    "provision {id} is not numbered within its category {}",
                    provision.category
                ));
            }
            for condition in &provision.conditions {
                if self.condition(condition.as_str()).is_none() {
                    say(format!(
                        "provision {id} names unknown condition {condition}"
                    ));
                }
            }
            for table in &provision.ixit {
                if self.ixit_table(table).is_none() {
                    say(format!("provision {id} names unknown IXIT table {table}"));
                }
            }
            if provision.text.trim().is_empty() {
                say(format!("provision {id} has no text"));
            }
            if provision.test_cases.is_empty() {
                say(format!("provision {id} has no test case"));
            }
            for test_case in &provision.test_cases {
                if !test_case.id.starts_with(&format!("{id}-")) {
                    say(format!(
                        "test case {} does not belong to provision {id}",
                        test_case.id
                    ));
                }
                if !test_cases.insert(test_case.id.as_str()) {
                    say(format!("test case {} is listed twice", test_case.id));
                }
            }
            if let Some(DerivedRule::RecommendationsJustified) = provision.derived
                && (provision.status != Status::Mandatory || !provision.conditions.is_empty())
            {
                say(format!(
                    "derived provision {id} must be unconditionally mandatory"
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for entry in &self.check_tests {
            if !seen.insert(entry.check.as_str()) {
                say(format!("check {} is mapped twice", entry.check));
            }
            for id in &entry.test_cases {
                match self.test_case(id) {
                    None => say(format!(
                        "check {} names unknown test case {id}",
                        entry.check
                    )),
                    Some((_, case)) if case.kind == TestKind::Conceptual => say(format!(
                        "check {} names conceptual test case {id}; checks inform functional ones",
                        entry.check
                    )),
                    Some(_) => {}
                }
            }
        }
        for voided in &self.voided {
            if self.provision(&voided.id).is_some() {
                say(format!("provision {} is both a row and voided", voided.id));
            }
            if voided.successors.is_empty() {
                say(format!("voided provision {} has no successor", voided.id));
            }
            for successor in &voided.successors {
                if self.provision(successor).is_none() {
                    say(format!(
                        "voided provision {} names unknown successor {successor}",
                        voided.id
                    ));
                }
            }
        }
        for provision in &self.provisions {
            for test_case in &provision.test_cases {
                let number = &test_case.id[provision.id.len().min(test_case.id.len())..];
                let own = number.starts_with("-P");
                if own != (test_case.origin == TestOrigin::Provisor) {
                    say(format!(
                        "test case {}: provisor's own numbers are written -P1, -P2, … with origin = \"provisor\", and only those",
                        test_case.id
                    ));
                }
            }
        }
        for rule in &self.finding_rules {
            let parts: Vec<&str> = self
                .provisions
                .iter()
                .filter(|provision| provision.previous.as_deref() == Some(rule.from.as_str()))
                .map(|provision| provision.id.as_str())
                .collect();
            for id in &rule.to {
                if !parts.contains(&id.as_str()) {
                    say(format!(
                        "finding rule of {} carries {} to {id}, which does not continue it",
                        rule.check, rule.from
                    ));
                }
            }
        }
        if !self.questionnaire.is_empty() {
            let asked: BTreeSet<&str> = self.questionnaire.iter().map(|id| id.as_str()).collect();
            let known: BTreeSet<&str> = self.conditions.iter().map(|c| c.id.as_str()).collect();
            if asked != known || asked.len() != self.questionnaire.len() {
                say("the questionnaire must ask every condition and feature once".into());
            }
        }
        if let Some(migration) = &self.migration {
            for entry in &migration.conditions {
                for id in &entry.to {
                    if self.condition(id.as_str()).is_none() {
                        say(format!(
                            "migration of condition {} names unknown {}",
                            entry.from,
                            id.label()
                        ));
                    }
                }
            }
            for entry in &migration.ixit {
                for id in std::iter::once(&entry.to).chain(&entry.with_port) {
                    if self.ixit_table(id).is_none() {
                        say(format!(
                            "migration of IXIT table {} names unknown table {id}",
                            entry.from
                        ));
                    }
                }
            }
        }
        for category in &self.categories {
            if self.provisions_in(&category.id).next().is_none() {
                say(format!("category {} has no provision", category.id));
            }
        }
        problems
    }
}
