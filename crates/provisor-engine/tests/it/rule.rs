//! The decision rule of DESIGN.md, one case per test.

use provisor_engine::{Applicability, Outcome, Support, Verdict, evaluate};

use crate::support::{answer, finding, input, state};

fn verdict_of(input: &provisor_engine::Input<'static>, id: &str) -> Verdict {
    evaluate(input).unwrap().provision(id).unwrap().verdict
}

#[test]
fn a_false_condition_makes_a_provision_not_applicable() {
    let mut input = input();
    answer(&mut input, "13", false);
    input.findings.push(finding("f1", "5.6-4", Outcome::Fail));
    let assessment = evaluate(&input).unwrap();
    let result = assessment.provision("5.6-4").unwrap();
    assert_eq!(result.verdict, Verdict::NotApplicable);
    assert_eq!(
        result.applicability,
        Applicability::NotApplicable(provisor_catalog::ConditionId::new("13"))
    );
    assert!(result.reasons[0].starts_with("condition 13"));
}

#[test]
fn an_unanswered_condition_leaves_the_provision_open() {
    let input = input();
    let assessment = evaluate(&input).unwrap();
    let result = assessment.provision("5.1-1").unwrap();
    assert_eq!(result.verdict, Verdict::Open);
    assert!(result.reasons[0].starts_with("answer condition 1:"));
    assert_eq!(result.applicability.as_str(), "undetermined");
}

#[test]
fn mandatory_rules() {
    let mut base = input();
    answer(&mut base, "1", true);
    assert_eq!(verdict_of(&base, "5.1-1"), Verdict::Open);

    let mut yes = base.clone();
    state(&mut yes, "5.1-1", Support::Yes, "unique per device");
    assert_eq!(verdict_of(&yes, "5.1-1"), Verdict::Pass);

    let mut no = base.clone();
    state(&mut no, "5.1-1", Support::No, "");
    assert_eq!(verdict_of(&no, "5.1-1"), Verdict::Fail);

    let mut contradicted = yes.clone();
    contradicted
        .findings
        .push(finding("f1", "5.1-1", Outcome::Fail));
    let assessment = evaluate(&contradicted).unwrap();
    let result = assessment.provision("5.1-1").unwrap();
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(result.contradiction);

    let mut corroborated = yes.clone();
    corroborated
        .findings
        .push(finding("f2", "5.1-1", Outcome::Pass));
    let assessment = evaluate(&corroborated).unwrap();
    let result = assessment.provision("5.1-1").unwrap();
    assert_eq!(result.verdict, Verdict::Pass);
    assert!(
        result
            .reasons
            .iter()
            .any(|reason| reason.starts_with("corroborated"))
    );
}

#[test]
fn a_failing_finding_fails_a_mandatory_provision_without_a_statement() {
    let mut input = input();
    input.findings.push(finding("f1", "5.4-3", Outcome::Fail));
    let assessment = evaluate(&input).unwrap();
    let result = assessment.provision("5.4-3").unwrap();
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(!result.contradiction);
}

#[test]
fn recommendation_rules() {
    let base = input();
    assert_eq!(verdict_of(&base, "5.2-2"), Verdict::Open);

    let mut justified = base.clone();
    state(
        &mut justified,
        "5.2-2",
        Support::No,
        "handled by the parent company's PSIRT",
    );
    assert_eq!(verdict_of(&justified, "5.2-2"), Verdict::NotFulfilled);

    let mut unjustified = base.clone();
    state(&mut unjustified, "5.2-2", Support::NotApplicable, "  ");
    assert_eq!(verdict_of(&unjustified, "5.2-2"), Verdict::Fail);

    // A justified "no" stays NOT FULFILLED even with a failing finding.
    let mut justified_with_finding = justified.clone();
    justified_with_finding
        .findings
        .push(finding("f1", "5.2-2", Outcome::Fail));
    assert_eq!(
        verdict_of(&justified_with_finding, "5.2-2"),
        Verdict::NotFulfilled
    );

    let mut yes = base.clone();
    state(&mut yes, "5.2-2", Support::Yes, "within 90 days");
    assert_eq!(verdict_of(&yes, "5.2-2"), Verdict::Pass);
    yes.findings.push(finding("f1", "5.2-2", Outcome::Fail));
    let assessment = evaluate(&yes).unwrap();
    assert_eq!(
        assessment.provision("5.2-2").unwrap().verdict,
        Verdict::Fail
    );
    assert!(assessment.provision("5.2-2").unwrap().contradiction);
}

#[test]
fn four_one_is_derived_from_the_recommendations() {
    let mut input = input();
    // Answer everything so only statements decide.
    for id in 1..=28 {
        answer(&mut input, &id.to_string(), false);
    }
    answer(&mut input, "5", true);
    assert_eq!(verdict_of(&input, "4-1"), Verdict::Open);
    let recommended: Vec<String> = input
        .catalog
        .provisions
        .iter()
        .filter(|p| !p.is_mandatory())
        .map(|p| p.id.clone())
        .collect();
    for id in &recommended {
        state(&mut input, id, Support::No, "justified");
    }
    assert_eq!(verdict_of(&input, "4-1"), Verdict::Pass);
    state(&mut input, "5.9-1", Support::No, "");
    let assessment = evaluate(&input).unwrap();
    let four_one = assessment.provision("4-1").unwrap();
    assert_eq!(four_one.verdict, Verdict::Fail);
    assert!(four_one.reasons[0].contains("5.9-1"));
}

#[test]
fn conformance_needs_every_mandatory_pass_or_na_and_nothing_open() {
    let mut input = input();
    for id in 1..=28 {
        answer(&mut input, &id.to_string(), false);
    }
    answer(&mut input, "5", true);
    for provision in &input.catalog.provisions.clone() {
        if provision.derived.is_some() {
            continue;
        }
        state(&mut input, &provision.id, Support::Yes, "met");
    }
    let assessment = evaluate(&input).unwrap();
    assert!(assessment.conformant);
    assert_eq!(assessment.summary.mandatory.fail, 0);
    assert_eq!(
        assessment.summary.mandatory.total() + assessment.summary.recommended.total(),
        68
    );

    let mut failing_recommendation = input.clone();
    failing_recommendation
        .findings
        .push(finding("f1", "5.6-7", Outcome::Fail));
    let assessment = evaluate(&failing_recommendation).unwrap();
    assert!(!assessment.conformant, "4-1 fails through 5.6-7");
    assert_eq!(assessment.provision("4-1").unwrap().verdict, Verdict::Fail);
}

#[test]
fn findings_are_deduplicated_and_failing_ones_listed_first() {
    let mut input = input();
    input.findings.push(finding("a", "5.5-1", Outcome::Info));
    input.findings.push(finding("b", "5.5-1", Outcome::Fail));
    input.findings.push(finding("b", "5.5-1", Outcome::Fail));
    let assessment = evaluate(&input).unwrap();
    assert_eq!(assessment.findings.len(), 2);
    let result = assessment.provision("5.5-1").unwrap();
    assert_eq!(result.findings.len(), 2);
    assert_eq!(assessment.findings[result.findings[0]].id, "b");
}

#[test]
fn invalid_statements_are_refused() {
    let mut on_derived = input();
    state(&mut on_derived, "4-1", Support::Yes, "");
    assert!(evaluate(&on_derived).is_err());

    let mut unknown = input();
    state(&mut unknown, "7-1", Support::Yes, "");
    assert!(evaluate(&unknown).is_err());

    let mut unconditional_na = input();
    state(
        &mut unconditional_na,
        "5.2-1",
        Support::NotApplicable,
        "no policy",
    );
    let errors = evaluate(&unconditional_na).unwrap_err();
    assert!(
        errors[0].message.contains("unconditional"),
        "{}",
        errors[0].message
    );

    // Undetermined: not invalid, but open.
    let mut undetermined = input();
    state(
        &mut undetermined,
        "5.6-4",
        Support::NotApplicable,
        "no debug port",
    );
    assert_eq!(verdict_of(&undetermined, "5.6-4"), Verdict::Open);
}
