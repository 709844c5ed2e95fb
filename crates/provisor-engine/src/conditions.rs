//! Resolving the answers to the conditions: declared answers, closed under the relations
//! of the model (2 ⇒ 1, exactly one of 4 and 5, …), then answers inferred from scans
//! where nothing was declared. A declared set that breaks a relation is invalid; an
//! inference that disagrees with an answer is kept as a conflict to show the user.

use std::collections::BTreeMap;

use provisor_catalog::{Catalog, ConditionId, Relation};

use crate::error::{Invalid, Subject};
use crate::finding::InferredCondition;
use crate::profile::{AnswerSource, ConditionAnswer};

/// An inference from evidence that disagrees with the answer in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionConflict {
    /// The condition.
    pub condition: ConditionId,
    /// The answer in force (declared or implied).
    pub answer: bool,
    /// What the scan inferred.
    pub inferred: bool,
    /// The evidence.
    pub because: String,
}

/// Every condition's answer in force, with where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedConditions {
    /// Answers by condition; an absent condition is unanswered.
    pub answers: BTreeMap<ConditionId, ConditionAnswer>,
    /// Inferences that disagree with an answer.
    pub conflicts: Vec<ConditionConflict>,
}

impl ResolvedConditions {
    /// The answer to a condition, if any.
    pub fn get(&self, id: &ConditionId) -> Option<bool> {
        self.answers.get(id).map(|answer| answer.answer)
    }
}

/// A relation broken by a set of answers, in words naming both conditions.
fn broken(relation: &Relation, first: &ConditionId, second: &ConditionId, detail: &str) -> Invalid {
    let both = match (first.number(), second.number()) {
        (Some(_), Some(_)) => format!("conditions {first} and {second}"),
        (None, None) => format!("features {first} and {second}"),
        _ => format!("{} and {}", first.label(), second.label()),
    };
    Invalid {
        subject: Subject::Condition(second.clone()),
        message: format!("{both} contradict each other: {relation}, but {detail}"),
        help: format!(
            "change the answer to {} or to {}",
            first.label(),
            second.label()
        ),
    }
}

/// One step of propagation: a value forced on a condition by a relation.
struct Forced {
    condition: ConditionId,
    value: bool,
    from: ConditionId,
    relation: String,
}

/// Closes `answers` under the relations. Returns the first broken relation.
fn close(
    catalog: &Catalog,
    answers: &mut BTreeMap<ConditionId, ConditionAnswer>,
) -> Result<(), Invalid> {
    // Each pass either adds an answer or stops, so the loop ends within one pass per
    // condition.
    for _ in 0..=catalog.conditions.len() {
        let mut forced: Option<Forced> = None;
        for relation in &catalog.relations {
            let value = |id: &ConditionId| answers.get(id).map(|answer| answer.answer);
            match relation {
                Relation::Implies {
                    premise,
                    consequence,
                } => match (value(premise), value(consequence)) {
                    (Some(true), Some(false)) => {
                        return Err(broken(
                            relation,
                            premise,
                            consequence,
                            &format!("{premise} is true and {consequence} is false"),
                        ));
                    }
                    (Some(true), None) => {
                        forced = Some(Forced {
                            condition: consequence.clone(),
                            value: true,
                            from: premise.clone(),
                            relation: relation.to_string(),
                        })
                    }
                    (None, Some(false)) => {
                        forced = Some(Forced {
                            condition: premise.clone(),
                            value: false,
                            from: consequence.clone(),
                            relation: relation.to_string(),
                        })
                    }
                    _ => {}
                },
                Relation::ExactlyOne { of } => {
                    let holding: Vec<&ConditionId> =
                        of.iter().filter(|id| value(id) == Some(true)).collect();
                    let open: Vec<&ConditionId> =
                        of.iter().filter(|id| value(id).is_none()).collect();
                    if holding.len() > 1 {
                        return Err(broken(
                            relation,
                            holding[0],
                            holding[1],
                            &format!("both {} and {} are true", holding[0], holding[1]),
                        ));
                    }
                    if holding.is_empty() && open.is_empty() {
                        return Err(broken(
                            relation,
                            &of[0],
                            &of[of.len() - 1],
                            "all of them are false",
                        ));
                    }
                    if let (Some(&from), Some(&condition)) = (holding.first(), open.first()) {
                        forced = Some(Forced {
                            condition: condition.clone(),
                            value: false,
                            from: from.clone(),
                            relation: relation.to_string(),
                        });
                    } else if holding.is_empty() && open.len() == 1 {
                        let from = of.iter().find(|id| *id != open[0]).unwrap_or(open[0]);
                        forced = Some(Forced {
                            condition: open[0].clone(),
                            value: true,
                            from: from.clone(),
                            relation: relation.to_string(),
                        });
                    }
                }
            }
            if forced.is_some() {
                break;
            }
        }
        match forced {
            Some(Forced {
                condition,
                value,
                from,
                relation,
            }) => {
                answers.insert(
                    condition,
                    ConditionAnswer {
                        answer: value,
                        note: None,
                        source: AnswerSource::Implied { from, relation },
                        carried: false,
                    },
                );
            }
            None => return Ok(()),
        }
    }
    Ok(())
}

/// Resolves declared answers and scan inferences into the answers in force.
///
/// Declared answers that break a relation are invalid. Inferences fill conditions left
/// unanswered when they are consistent with everything else; otherwise they become
/// [`ConditionConflict`]s.
pub fn resolve_conditions(
    catalog: &Catalog,
    declared: &BTreeMap<ConditionId, ConditionAnswer>,
    inferred: &[InferredCondition],
) -> Result<ResolvedConditions, Invalid> {
    let mut answers = declared.clone();
    close(catalog, &mut answers)?;
    let mut conflicts = Vec::new();
    for inference in inferred {
        match answers.get(&inference.condition) {
            Some(answer) if answer.answer == inference.answer => {}
            Some(answer) => conflicts.push(ConditionConflict {
                condition: inference.condition.clone(),
                answer: answer.answer,
                inferred: inference.answer,
                because: inference.because.clone(),
            }),
            None => {
                let mut trial = answers.clone();
                trial.insert(
                    inference.condition.clone(),
                    ConditionAnswer {
                        answer: inference.answer,
                        note: None,
                        source: AnswerSource::Inferred {
                            because: inference.because.clone(),
                        },
                        carried: false,
                    },
                );
                match close(catalog, &mut trial) {
                    Ok(()) => answers = trial,
                    Err(_) => conflicts.push(ConditionConflict {
                        condition: inference.condition.clone(),
                        answer: !inference.answer,
                        inferred: inference.answer,
                        because: inference.because.clone(),
                    }),
                }
            }
        }
    }
    Ok(ResolvedConditions { answers, conflicts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisor_catalog::unnamed_edition;

    fn declare(pairs: &[(&str, bool)]) -> BTreeMap<ConditionId, ConditionAnswer> {
        pairs
            .iter()
            .map(|&(id, answer)| (ConditionId::new(id), ConditionAnswer::declared(answer)))
            .collect()
    }

    #[test]
    fn implications_propagate_both_ways() {
        let resolved = resolve_conditions(
            unnamed_edition(),
            &declare(&[("19", true), ("1", false)]),
            &[],
        )
        .unwrap();
        assert_eq!(resolved.get(&ConditionId::new("18")), Some(true));
        assert_eq!(resolved.get(&ConditionId::new("20")), Some(true));
        assert_eq!(resolved.get(&ConditionId::new("2")), Some(false));
        assert!(matches!(
            resolved.answers[&ConditionId::new("2")].source,
            AnswerSource::Implied { .. }
        ));
    }

    #[test]
    fn exactly_one_of_four_and_five() {
        let resolved =
            resolve_conditions(unnamed_edition(), &declare(&[("4", false)]), &[]).unwrap();
        assert_eq!(resolved.get(&ConditionId::new("5")), Some(true));
        let error = resolve_conditions(
            unnamed_edition(),
            &declare(&[("4", true), ("5", true)]),
            &[],
        )
        .unwrap_err();
        assert!(
            error.message.contains("conditions 4 and 5"),
            "{}",
            error.message
        );
        assert!(error.message.contains("exactly one of conditions 4 and 5"));
    }

    #[test]
    fn a_broken_implication_names_both_conditions_and_the_relation() {
        let error = resolve_conditions(
            unnamed_edition(),
            &declare(&[("2", true), ("1", false)]),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            error.message,
            "conditions 2 and 1 contradict each other: condition 2 implies condition 1, but 2 is true and 1 is false"
        );
    }

    #[test]
    fn a_chain_of_implications_is_followed_to_the_contradiction() {
        // 19 ⇒ 18 ⇒ 20, so 19 with 20 false is contradictory.
        let error = resolve_conditions(
            unnamed_edition(),
            &declare(&[("19", true), ("20", false)]),
            &[],
        )
        .unwrap_err();
        assert!(error.message.contains("contradict"), "{}", error.message);
    }

    #[test]
    fn inferences_fill_gaps_and_conflicts_are_kept() {
        let inferred = [
            InferredCondition {
                edition: None,
                condition: ConditionId::new("12"),
                answer: true,
                because: "update client /usr/sbin/fw-update.sh".into(),
            },
            InferredCondition {
                edition: None,
                condition: ConditionId::new("13"),
                answer: true,
                because: "getty on ttyS0".into(),
            },
        ];
        let resolved =
            resolve_conditions(unnamed_edition(), &declare(&[("13", false)]), &inferred).unwrap();
        assert_eq!(resolved.get(&ConditionId::new("12")), Some(true));
        assert_eq!(resolved.get(&ConditionId::new("13")), Some(false));
        assert_eq!(resolved.conflicts.len(), 1);
        assert_eq!(resolved.conflicts[0].condition, ConditionId::new("13"));
    }
}
