//! The decision rule: applicability from the answers, then a verdict per provision from
//! its statement and the findings, then 4-1 and the conformance decision. The rule is
//! printed in every report ([`crate::DECISION_RULE`]); this file is its one
//! implementation.

use std::collections::{BTreeMap, BTreeSet};

use provisor_catalog::{Catalog, ConditionId, DerivedRule, Provision, Status};

use crate::assessment::{
    Applicability, Assessment, ConditionState, ProvisionResult, Summary, Verdict,
};
use crate::conditions::{ResolvedConditions, resolve_conditions};
use crate::error::{Invalid, Subject};
use crate::file::{EvidenceFile, ScanRef};
use crate::finding::{Component, Finding, InferredCondition, Outcome};
use crate::profile::{ConditionAnswer, Device};
use crate::statement::{Statement, Support};

/// Everything the engine judges.
#[derive(Debug, Clone)]
pub struct Input<'c> {
    /// The edition.
    pub catalog: &'c Catalog,
    /// The device.
    pub device: Device,
    /// Declared answers to conditions.
    pub answers: BTreeMap<ConditionId, ConditionAnswer>,
    /// Statements by provision id.
    pub statements: BTreeMap<String, Statement>,
    /// Findings of every attached scan.
    pub findings: Vec<Finding>,
    /// Condition answers the scans inferred.
    pub inferred: Vec<InferredCondition>,
    /// Components the scans found.
    pub components: Vec<Component>,
    /// The scans attached.
    pub scans: Vec<ScanRef>,
    /// Evidence files referenced by statements.
    pub evidence: Vec<EvidenceFile>,
}

impl<'c> Input<'c> {
    /// An empty input: nothing answered, nothing stated.
    pub fn new(catalog: &'c Catalog) -> Self {
        Input {
            catalog,
            device: Device::default(),
            answers: BTreeMap::new(),
            statements: BTreeMap::new(),
            findings: Vec::new(),
            inferred: Vec::new(),
            components: Vec::new(),
            scans: Vec::new(),
            evidence: Vec::new(),
        }
    }
}

fn applicability(provision: &Provision, conditions: &ResolvedConditions) -> Applicability {
    if let Some(false_condition) = provision
        .conditions
        .iter()
        .find(|id| conditions.get(id) == Some(false))
    {
        return Applicability::NotApplicable(false_condition.clone());
    }
    match provision
        .conditions
        .iter()
        .find(|id| conditions.get(id).is_none())
    {
        Some(unanswered) => Applicability::Undetermined(unanswered.clone()),
        None => Applicability::Applies,
    }
}

fn outcome_order(finding: &Finding) -> (u8, crate::finding::Severity) {
    let outcome = match finding.outcome {
        Outcome::Fail => 0,
        Outcome::Inconclusive => 1,
        Outcome::Pass => 2,
        Outcome::Info => 3,
    };
    (outcome, finding.severity)
}

fn cite(finding: &Finding) -> String {
    format!("finding {}: {}", finding.check, finding.title)
}

/// Judges one provision that is not derived.
fn judge(
    catalog: &Catalog,
    provision: &Provision,
    applicability: &Applicability,
    statement: Option<&Statement>,
    findings: &[&Finding],
) -> (Verdict, Vec<String>, bool) {
    let mut reasons = Vec::new();
    let condition_text = |id: &ConditionId| {
        catalog
            .condition(id.as_str())
            .map_or(String::new(), |condition| format!(" ({})", condition.text))
    };
    match applicability {
        Applicability::NotApplicable(id) => {
            reasons.push(format!(
                "condition {id}{} is answered false",
                condition_text(id)
            ));
            for finding in findings.iter().filter(|f| f.outcome == Outcome::Fail) {
                reasons.push(format!(
                    "{} is not counted: the provision does not apply",
                    cite(finding)
                ));
            }
            return (Verdict::NotApplicable, reasons, false);
        }
        Applicability::Undetermined(id) => {
            let question = catalog
                .condition(id.as_str())
                .map_or(String::new(), |condition| {
                    format!(": {}", condition.question)
                });
            reasons.push(format!("answer condition {id}{question}"));
            return (Verdict::Open, reasons, false);
        }
        Applicability::Applies => {}
    }
    let failing: Vec<&&Finding> = findings
        .iter()
        .filter(|finding| finding.outcome == Outcome::Fail)
        .collect();
    let says_yes = statement.is_some_and(|statement| statement.support == Support::Yes);
    let contradiction = says_yes && !failing.is_empty();
    let fail_by_findings = |reasons: &mut Vec<String>| {
        for finding in &failing {
            reasons.push(cite(finding));
        }
        if contradiction {
            reasons.push(
                "contradiction: the statement says the provision is met, but a finding fails"
                    .into(),
            );
        }
    };
    let corroborate = |reasons: &mut Vec<String>| {
        for finding in findings.iter().filter(|f| f.outcome == Outcome::Pass) {
            reasons.push(format!("corroborated by {}", cite(finding)));
        }
    };

    let verdict = match provision.status {
        Status::Mandatory => {
            if !failing.is_empty() {
                fail_by_findings(&mut reasons);
                Verdict::Fail
            } else {
                match statement.map(|statement| statement.support) {
                    None => {
                        reasons.push("no statement in the ICS".into());
                        Verdict::Open
                    }
                    Some(Support::Yes) => {
                        reasons.push("the statement says the provision is met".into());
                        corroborate(&mut reasons);
                        Verdict::Pass
                    }
                    Some(Support::No) => {
                        reasons.push("the statement says the provision is not met".into());
                        Verdict::Fail
                    }
                    // Rejected as invalid input before judging; kept total all the same.
                    Some(Support::NotApplicable) => {
                        reasons.push("declared not applicable although its conditions hold".into());
                        Verdict::Fail
                    }
                }
            }
        }
        Status::Recommended => match statement {
            Some(statement) if statement.support != Support::Yes => {
                let declared = match statement.support {
                    Support::NotApplicable => "declared not applicable",
                    _ => "declared not met",
                };
                if statement.is_justified() {
                    reasons.push(format!("{declared}, with a justification"));
                    Verdict::NotFulfilled
                } else {
                    reasons.push(format!(
                        "{declared} and no justification is recorded (see 4-1)"
                    ));
                    Verdict::Fail
                }
            }
            _ if !failing.is_empty() => {
                fail_by_findings(&mut reasons);
                Verdict::Fail
            }
            None => {
                reasons.push("no statement in the ICS".into());
                Verdict::Open
            }
            Some(_) => {
                reasons.push("the statement says the recommendation is met".into());
                corroborate(&mut reasons);
                Verdict::Pass
            }
        },
    };
    (verdict, reasons, contradiction)
}

/// Judges a derived provision from the other results.
fn judge_derived(rule: DerivedRule, results: &[ProvisionResult<'_>]) -> (Verdict, Vec<String>) {
    match rule {
        DerivedRule::RecommendationsJustified => {
            let recommendations = || {
                results
                    .iter()
                    .filter(|result| result.provision.status == Status::Recommended)
            };
            let failing: Vec<&str> = recommendations()
                .filter(|result| result.verdict == Verdict::Fail)
                .map(|result| result.provision.id.as_str())
                .collect();
            let open: Vec<&str> = recommendations()
                .filter(|result| result.verdict == Verdict::Open)
                .map(|result| result.provision.id.as_str())
                .collect();
            if !failing.is_empty() {
                (
                    Verdict::Fail,
                    vec![format!(
                        "recommendations not met without a recorded justification: {}",
                        failing.join(", ")
                    )],
                )
            } else if !open.is_empty() {
                (
                    Verdict::Open,
                    vec![format!("recommendations still open: {}", open.join(", "))],
                )
            } else {
                (
                    Verdict::Pass,
                    vec!["every applicable recommendation is met or justified".into()],
                )
            }
        }
    }
}

/// Checks the statements against the catalog, before and after applicability.
fn invalid_statements(input: &Input<'_>, conditions: Option<&ResolvedConditions>) -> Vec<Invalid> {
    let mut invalid = Vec::new();
    for (id, statement) in &input.statements {
        let Some(provision) = input.catalog.provision(id) else {
            invalid.push(Invalid {
                subject: Subject::Statement(id.clone()),
                message: format!("unknown provision \"{id}\" in {}", input.catalog.id),
                help: "run `provisor catalog` for the provision ids".into(),
            });
            continue;
        };
        if provision.derived.is_some() {
            invalid.push(Invalid {
                subject: Subject::Statement(id.clone()),
                message: format!(
                    "provision {id} is derived from the other verdicts and cannot be stated"
                ),
                help: format!(
                    "remove [provision.\"{id}\"]; record a justification in the detail of each recommendation not met instead"
                ),
            });
            continue;
        }
        if let Some(conditions) = conditions {
            if provision.is_mandatory()
                && statement.support == Support::NotApplicable
                && applicability(provision, conditions) == Applicability::Applies
            {
                let why = if provision.conditions.is_empty() {
                    "it is unconditional".to_owned()
                } else {
                    let ids: Vec<&str> = provision
                        .conditions
                        .iter()
                        .map(ConditionId::as_str)
                        .collect();
                    format!("its conditions ({}) hold", ids.join(", "))
                };
                invalid.push(Invalid {
                    subject: Subject::Statement(id.clone()),
                    message: format!(
                        "mandatory provision {id} is declared not-applicable, but {why}"
                    ),
                    help: if provision.conditions.is_empty() {
                        "state support = \"yes\" or \"no\"".into()
                    } else {
                        "answer the condition that makes it not apply, or state support = \"yes\" or \"no\"".into()
                    },
                });
            }
        }
    }
    invalid
}

/// Applies the decision rule to the whole input.
///
/// Invalid input (a statement on an unknown or derived provision, contradictory answers,
/// a mandatory provision declared not applicable while its conditions hold) is returned
/// as a list of [`Invalid`], each naming what it is about.
pub fn evaluate<'c>(input: &Input<'c>) -> Result<Assessment<'c>, Vec<Invalid>> {
    let catalog = input.catalog;
    let early = invalid_statements(input, None);
    if !early.is_empty() {
        return Err(early);
    }
    let conditions = resolve_conditions(catalog, &input.answers, &input.inferred)
        .map_err(|invalid| vec![invalid])?;
    let late = invalid_statements(input, Some(&conditions));
    if !late.is_empty() {
        return Err(late);
    }

    let mut seen = BTreeSet::new();
    let findings: Vec<Finding> = input
        .findings
        .iter()
        .filter(|finding| seen.insert(finding.id.clone()))
        .cloned()
        .collect();

    let mut provisions: Vec<ProvisionResult<'c>> = Vec::with_capacity(catalog.provisions.len());
    for provision in &catalog.provisions {
        let applicability = applicability(provision, &conditions);
        let statement = input.statements.get(&provision.id).cloned();
        let mut indices: Vec<usize> = findings
            .iter()
            .enumerate()
            .filter(|(_, finding)| finding.provisions.contains(&provision.id))
            .map(|(index, _)| index)
            .collect();
        indices.sort_by_key(|&index| outcome_order(&findings[index]));
        let related: Vec<&Finding> = indices.iter().map(|&index| &findings[index]).collect();
        let (verdict, reasons, contradiction) = if provision.derived.is_some() {
            (Verdict::Open, Vec::new(), false)
        } else {
            judge(
                catalog,
                provision,
                &applicability,
                statement.as_ref(),
                &related,
            )
        };
        provisions.push(ProvisionResult {
            provision,
            applicability,
            statement,
            verdict,
            reasons,
            findings: indices,
            contradiction,
        });
    }
    for index in 0..provisions.len() {
        if let Some(rule) = provisions[index].provision.derived {
            let (verdict, reasons) = judge_derived(rule, &provisions);
            provisions[index].verdict = verdict;
            provisions[index].reasons = reasons;
        }
    }

    let mut summary = Summary::default();
    for result in &provisions {
        match result.provision.status {
            Status::Mandatory => summary.mandatory.count(result.verdict),
            Status::Recommended => summary.recommended.count(result.verdict),
        }
    }
    let conformant = provisions.iter().all(|result| {
        result.verdict != Verdict::Open
            && (result.provision.status == Status::Recommended
                || matches!(result.verdict, Verdict::Pass | Verdict::NotApplicable))
    });

    let condition_states = catalog
        .conditions
        .iter()
        .map(|condition| ConditionState {
            condition,
            answer: conditions.answers.get(&condition.id).cloned(),
        })
        .collect();

    Ok(Assessment {
        catalog,
        device: input.device.clone(),
        conditions: condition_states,
        condition_conflicts: conditions.conflicts,
        provisions,
        findings,
        components: input.components.clone(),
        scans: input.scans.clone(),
        evidence: input.evidence.clone(),
        summary,
        conformant,
    })
}
