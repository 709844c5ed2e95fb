//! Laws of the decision rule, checked over random consistent profiles, statements and
//! findings, on every embedded edition (V2.1.1's 28 conditions and 68 provisions, V3.1.3's
//! 5 conditions, 27 features and 78 provisions).

use proptest::prelude::*;
use provisor_catalog::{Catalog, ConditionId, Relation, unnamed_edition};
use provisor_engine::{Input, Outcome, Support, Verdict, evaluate};

use crate::support::{answer, finding, state};

/// More than any edition has conditions (features included) or provisions.
const MAX_CONDITIONS: usize = 40;
const MAX_PROVISIONS: usize = 96;

/// A complete assignment of an edition's conditions that keeps every relation, built
/// from random bits by repairing the relations until none is broken. Position `i` is the
/// catalog's `i`th condition.
pub fn consistent_world(catalog: &Catalog, bits: &[bool]) -> Vec<bool> {
    let mut world = bits[..catalog.conditions.len()].to_vec();
    let index = |id: &ConditionId| {
        catalog
            .conditions
            .iter()
            .position(|condition| &condition.id == id)
            .expect("relations name known conditions")
    };
    for _ in 0..64 {
        let mut changed = false;
        for relation in &catalog.relations {
            match relation {
                Relation::Implies {
                    premise,
                    consequence,
                } => {
                    if world[index(premise)] && !world[index(consequence)] {
                        world[index(consequence)] = true;
                        changed = true;
                    }
                }
                Relation::ExactlyOne { of } => {
                    let holding: Vec<usize> = of.iter().map(index).filter(|&i| world[i]).collect();
                    if holding.len() != 1 {
                        for (position, id) in of.iter().enumerate() {
                            world[index(id)] = position == 0;
                        }
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    world
}

#[derive(Debug, Clone)]
pub struct Case {
    catalog: &'static Catalog,
    world: Vec<bool>,
    answered: Vec<bool>,
    statements: Vec<Option<(u8, bool)>>,
    failing: Vec<bool>,
}

/// A random case on any embedded edition.
pub fn case() -> impl Strategy<Value = Case> {
    let editions = provisor_catalog::editions();
    (
        0..editions.len(),
        proptest::collection::vec(any::<bool>(), MAX_CONDITIONS),
        proptest::collection::vec(any::<bool>(), MAX_CONDITIONS),
        proptest::collection::vec(
            proptest::option::of((0u8..3, any::<bool>())),
            MAX_PROVISIONS,
        ),
        proptest::collection::vec(proptest::bool::weighted(0.1), MAX_PROVISIONS),
    )
        .prop_map(move |(edition, bits, answered, statements, failing)| {
            let catalog = &editions[edition];
            Case {
                catalog,
                world: consistent_world(catalog, &bits),
                answered,
                statements,
                failing,
            }
        })
}

/// Builds the input of a case; statements that would be invalid (a stated derived
/// provision, an applicable M declared not applicable) are left out.
pub fn build(case: &Case) -> Input<'static> {
    let mut input = Input::new(case.catalog);
    for (position, &value) in case.world.iter().enumerate() {
        if case.answered[position] {
            answer(
                &mut input,
                case.catalog.conditions[position].id.as_str(),
                value,
            );
        }
    }
    let catalog = input.catalog;
    for (position, provision) in catalog.provisions.iter().enumerate() {
        if provision.derived.is_some() {
            continue;
        }
        if let Some((kind, justified)) = case.statements[position] {
            let support = [Support::Yes, Support::No, Support::NotApplicable][kind as usize];
            if support == Support::NotApplicable && provision.is_mandatory() {
                continue;
            }
            let detail = if justified { "because" } else { "" };
            state(&mut input, &provision.id, support, detail);
        }
        if case.failing[position] {
            input.findings.push(finding(
                &format!("f{position}"),
                &provision.id,
                Outcome::Fail,
            ));
        }
    }
    input
}

fn is_worse(after: Verdict, before: Verdict) -> bool {
    after.rank() < before.rank()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_provision_gets_exactly_one_verdict_in_catalog_order(case in case()) {
        let input = build(&case);
        let assessment = evaluate(&input).unwrap();
        let ids: Vec<&str> = assessment.provisions.iter().map(|r| r.provision.id.as_str()).collect();
        let expected: Vec<&str> = input.catalog.provisions.iter().map(|p| p.id.as_str()).collect();
        prop_assert_eq!(ids, expected);
        let summary = assessment.summary;
        prop_assert_eq!(summary.mandatory.total() + summary.recommended.total(), input.catalog.provisions.len());
        prop_assert_eq!(summary.mandatory.not_fulfilled, 0);
    }

    #[test]
    fn adding_a_justification_never_makes_a_verdict_worse(case in case()) {
        let input = build(&case);
        let before = evaluate(&input).unwrap();
        let mut justified = input.clone();
        for statement in justified.statements.values_mut() {
            if statement.detail.is_empty() {
                statement.detail = "the justification".into();
            }
        }
        let after = evaluate(&justified).unwrap();
        for (old, new) in before.provisions.iter().zip(&after.provisions) {
            prop_assert!(!is_worse(new.verdict, old.verdict),
                "{}: {:?} -> {:?}", old.provision.id, old.verdict, new.verdict);
        }
        prop_assert!(after.conformant || !before.conformant);
    }

    #[test]
    fn answering_a_condition_never_leaves_a_provision_open_for_it(case in case(), pick in 0usize..MAX_CONDITIONS) {
        let mut case = case;
        let pick = pick % case.catalog.conditions.len();
        let id = case.catalog.conditions[pick].id.clone();
        case.answered[pick] = false;
        let unanswered = build(&case);
        let before = evaluate(&unanswered).unwrap();
        case.answered[pick] = true;
        let answered = build(&case);
        let after = evaluate(&answered).unwrap();
        let question = format!("answer {}:", id.label());
        for result in &after.provisions {
            prop_assert!(!result.reasons.iter().any(|reason| reason.starts_with(&question)),
                "{} still asks for {}", result.provision.id, id.label());
        }
        // And the number of undetermined provisions never grows.
        let undetermined = |a: &provisor_engine::Assessment<'_>| a.provisions.iter()
            .filter(|r| r.applicability.as_str() == "undetermined").count();
        prop_assert!(undetermined(&after) <= undetermined(&before));
    }

    #[test]
    fn conformant_means_no_mandatory_failure_and_nothing_open(case in case()) {
        let input = build(&case);
        let assessment = evaluate(&input).unwrap();
        let holds = assessment.provisions.iter().all(|r| {
            r.verdict != Verdict::Open
                && (!r.provision.is_mandatory()
                    || matches!(r.verdict, Verdict::Pass | Verdict::NotApplicable))
        });
        prop_assert_eq!(assessment.conformant, holds);
        // A contradiction is only ever flagged on a failing verdict.
        for result in &assessment.provisions {
            if result.contradiction {
                prop_assert_eq!(result.verdict, Verdict::Fail);
            }
        }
    }

    #[test]
    fn evaluation_is_deterministic(case in case()) {
        let input = build(&case);
        let first = evaluate(&input).unwrap();
        let second = evaluate(&input).unwrap();
        let verdicts = |a: &provisor_engine::Assessment<'_>| a.provisions.iter().map(|r| (r.verdict, r.reasons.clone())).collect::<Vec<_>>();
        prop_assert_eq!(verdicts(&first), verdicts(&second));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text, however broken, is parsed or refused with a located error; never a
    /// panic.
    #[test]
    fn parsing_any_text_never_panics(text in "(\\PC|\\[|\\]|=|\"|\n|\\.|-|[0-9]){0,200}") {
        match provisor_engine::parse(&text, "any.toml") {
            Ok(_) => {}
            Err(error) => prop_assert!(error.place().is_some()),
        }
        let _ = provisor_engine::parse_findings(&text, "any.json", unnamed_edition());
    }

    /// Assessment files built from valid pieces in random order parse, and every error
    /// names a line inside the file.
    #[test]
    fn errors_point_inside_the_file(
        lines in proptest::collection::vec(prop_oneof![
            Just("[conditions]".to_owned()),
            (1u32..32, any::<bool>()).prop_map(|(id, value)| format!("{id} = {value}")),
            Just("[provision.\"5.1-1\"]".to_owned()),
            Just("support = \"yes\"".to_owned()),
            Just("support = \"perhaps\"".to_owned()),
            Just("[device]".to_owned()),
            Just("model = \"x\"".to_owned()),
        ], 0..12)
    ) {
        let text = lines.join("\n");
        if let Err(error) = provisor_engine::parse(&text, "a.toml") {
            let (line, _) = error.position.unwrap();
            prop_assert!(line as usize <= lines.len().max(1));
        }
    }
}
