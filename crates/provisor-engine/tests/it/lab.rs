//! The lab rule (TS 103 701 test cases, rule 6) and triage (rule 7): cases, then laws
//! over random assessments.

use proptest::prelude::*;
use provisor_catalog::unnamed_edition;
use provisor_engine::{
    Acceptance, AcceptanceKind, Date, Input, Kind, Outcome, Selector, Support, TestRecord,
    TestState, TestVerdict, Verdict, evaluate,
};

use crate::laws::{build, case};
use crate::support::{answer, finding, input, state};

fn lab() -> Input<'static> {
    let mut input = input();
    input.kind = Kind::Lab;
    input
}

fn record(input: &mut Input<'_>, id: &str, verdict: TestVerdict) {
    input
        .tests
        .insert(id.to_owned(), TestRecord::new(id, verdict));
}

fn accept(selector: Selector, until: Option<&str>) -> Acceptance {
    Acceptance {
        selector,
        kind: AcceptanceKind::FalsePositive,
        reason: "the key is the SDK's public example key".into(),
        by: "A. Assessor".into(),
        until: until.and_then(Date::parse),
        line: None,
    }
}

fn verdict_of(input: &Input<'_>, id: &str) -> (Verdict, Vec<String>) {
    let assessment = evaluate(input).unwrap();
    let result = assessment.provision(id).unwrap();
    (result.verdict, result.reasons.clone())
}

#[test]
fn a_provision_passes_only_when_every_test_case_passed() {
    let mut input = lab();
    state(&mut input, "5.2-1", Support::Yes, "policy published");
    let (verdict, reasons) = verdict_of(&input, "5.2-1");
    assert_eq!(verdict, Verdict::Open);
    assert!(
        reasons
            .iter()
            .any(|r| r == "run test case 5.2-1-1 (conceptual); IXIT 2-UserInfo has no entry"),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r == "run test case 5.2-1-2 (functional)"),
        "{reasons:?}"
    );

    record(&mut input, "5.2-1-1", TestVerdict::Pass);
    record(&mut input, "5.2-1-2", TestVerdict::Inconclusive);
    let (verdict, reasons) = verdict_of(&input, "5.2-1");
    assert_eq!(verdict, Verdict::Open);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("5.2-1-2 was inconclusive")),
        "{reasons:?}"
    );

    record(&mut input, "5.2-1-2", TestVerdict::Pass);
    assert_eq!(verdict_of(&input, "5.2-1").0, Verdict::Pass);
}

#[test]
fn a_failed_test_case_fails_the_provision_and_contradicts_a_yes() {
    let mut input = lab();
    state(&mut input, "5.2-1", Support::Yes, "policy published");
    record(&mut input, "5.2-1-1", TestVerdict::Pass);
    record(&mut input, "5.2-1-2", TestVerdict::Fail);
    let assessment = evaluate(&input).unwrap();
    let result = assessment.provision("5.2-1").unwrap();
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(result.contradiction);
    assert!(
        result
            .reasons
            .iter()
            .any(|r| r == "test case 5.2-1-2 failed")
    );
}

#[test]
fn a_failed_test_case_fails_a_justified_recommendation_too() {
    let mut input = lab();
    state(&mut input, "5.2-2", Support::No, "no process yet");
    assert_eq!(verdict_of(&input, "5.2-2").0, Verdict::NotFulfilled);
    record(&mut input, "5.2-2-1", TestVerdict::Fail);
    assert_eq!(verdict_of(&input, "5.2-2").0, Verdict::Fail);
}

#[test]
fn findings_propose_and_an_assessor_confirms() {
    let mut input = lab();
    answer(&mut input, "1", true);
    answer(&mut input, "2", false);
    state(&mut input, "5.1-1", Support::Yes, "unique passwords");
    let mut pass = finding("p1", "5.1-1", Outcome::Pass);
    pass.check = "firmware.default-password".into();
    input.findings.push(pass);
    record(&mut input, "5.1-1-1", TestVerdict::Pass);
    let assessment = evaluate(&input).unwrap();
    let result = assessment.provision("5.1-1").unwrap();
    assert_eq!(result.verdict, Verdict::Open);
    let functional = &result.tests[1];
    assert_eq!(functional.case.id, "5.1-1-2");
    assert_eq!(functional.state, TestState::Proposed(TestVerdict::Pass));
    assert!(
        result
            .reasons
            .iter()
            .any(|r| r == "confirm the proposed PASS of test case 5.1-1-2")
    );

    record(&mut input, "5.1-1-2", TestVerdict::Pass);
    assert_eq!(verdict_of(&input, "5.1-1").0, Verdict::Pass);
}

#[test]
fn a_finding_proposes_only_for_test_cases_of_its_check_and_provisions() {
    let mut input = lab();
    answer(&mut input, "1", true);
    // A check mapped to 5.1-1-2, on another provision: no proposal for 5.1-1-2.
    let mut elsewhere = finding("e1", "5.5-1", Outcome::Fail);
    elsewhere.check = "firmware.default-password".into();
    // An unmapped check on 5.1-1: no proposal either.
    let mut unmapped = finding("u1", "5.1-1", Outcome::Pass);
    unmapped.check = "test.unmapped".into();
    input.findings.extend([elsewhere, unmapped]);
    let assessment = evaluate(&input).unwrap();
    let result = assessment.provision("5.1-1").unwrap();
    assert!(result.tests.iter().all(|test| test.proposal.is_none()));
}

#[test]
fn overriding_a_proposal_needs_a_reason_and_never_removes_a_failing_finding() {
    let mut input = lab();
    answer(&mut input, "1", true);
    answer(&mut input, "2", false);
    state(&mut input, "5.1-1", Support::Yes, "unique passwords");
    let mut fail = finding("f1", "5.1-1", Outcome::Fail);
    fail.check = "net.default-credentials".into();
    input.findings.push(fail);
    record(&mut input, "5.1-1-1", TestVerdict::Pass);
    record(&mut input, "5.1-1-2", TestVerdict::Pass);
    let assessment = evaluate(&input).unwrap();
    let result = assessment.provision("5.1-1").unwrap();
    assert_eq!(result.tests[1].state, TestState::Disputed);
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        assessment
            .warnings
            .iter()
            .any(|w| w.message.contains("no reason is given for the override"))
    );

    input.tests.get_mut("5.1-1-2").unwrap().override_reason =
        Some("the account is disabled at first boot".into());
    let assessment = evaluate(&input).unwrap();
    let result = assessment.provision("5.1-1").unwrap();
    assert_eq!(result.tests[1].state, TestState::Pass);
    assert!(result.tests[1].overridden);
    // The finding still fails the provision: only triage can overrule it.
    assert_eq!(result.verdict, Verdict::Fail);

    input
        .acceptances
        .push(accept(Selector::Finding("f1".into()), None));
    let assessment = evaluate(&input).unwrap();
    let result = assessment.provision("5.1-1").unwrap();
    assert_eq!(result.verdict, Verdict::Pass);
    assert!(
        result.tests[1].proposal.is_none(),
        "an accepted finding proposes nothing"
    );
    assert!(
        result
            .reasons
            .iter()
            .any(|r| r.contains("accepted as false positive by A. Assessor"))
    );
    assert_eq!(
        result.findings.len(),
        1,
        "the accepted finding stays listed"
    );
}

#[test]
fn acceptances_expire_match_by_place_and_warn_when_they_match_nothing() {
    let mut input = input();
    answer(&mut input, "1", true);
    answer(&mut input, "2", false);
    state(&mut input, "5.1-1", Support::Yes, "unique passwords");
    let mut fail = finding("f1", "5.1-1", Outcome::Fail);
    fail.check = "firmware.default-password".into();
    fail.location.path = Some("/etc/shadow".into());
    input.findings.push(fail);
    input.acceptances.push(accept(
        Selector::Check {
            check: "firmware.default-password".into(),
            path: Some("/etc/shadow".into()),
            host: None,
            port: None,
        },
        Some("2026-12-31"),
    ));
    input
        .acceptances
        .push(accept(Selector::Finding("gone".into()), None));
    input.as_of = Date::parse("2026-12-31");
    let assessment = evaluate(&input).unwrap();
    assert_eq!(
        assessment.provision("5.1-1").unwrap().verdict,
        Verdict::Pass
    );
    assert!(
        assessment
            .warnings
            .iter()
            .any(|w| w.message.contains("finding gone matches no finding"))
    );

    input.as_of = Date::parse("2027-01-01");
    let assessment = evaluate(&input).unwrap();
    assert_eq!(
        assessment.provision("5.1-1").unwrap().verdict,
        Verdict::Fail
    );
    assert!(
        assessment
            .warnings
            .iter()
            .any(|w| w.message.contains("expired on 2026-12-31"))
    );
}

#[test]
fn the_derived_provision_waits_for_its_own_test_case() {
    let mut input = lab();
    // Every recommendation justified as not fulfilled: 4-1 would pass in a
    // self-assessment.
    for provision in &unnamed_edition().provisions {
        if !provision.is_mandatory() {
            state(&mut input, &provision.id, Support::No, "not planned");
        }
    }
    for condition in 1..=28 {
        answer(&mut input, &condition.to_string(), false);
    }
    answer(&mut input, "5", true);
    let (verdict, reasons) = verdict_of(&input, "4-1");
    assert_eq!(verdict, Verdict::Open);
    assert!(
        reasons
            .iter()
            .any(|r| r == "run test case 4-1-1 (conceptual)"),
        "{reasons:?}"
    );
    record(&mut input, "4-1-1", TestVerdict::Pass);
    assert_eq!(verdict_of(&input, "4-1").0, Verdict::Pass);
    record(&mut input, "4-1-1", TestVerdict::Fail);
    assert_eq!(verdict_of(&input, "4-1").0, Verdict::Fail);
}

#[test]
fn records_that_cannot_count_are_warned_about_not_refused() {
    let mut input = lab();
    answer(&mut input, "1", false);
    record(&mut input, "5.1-1-2", TestVerdict::Pass);
    record(&mut input, "5.1-5-2", TestVerdict::Pass);
    let assessment = evaluate(&input).unwrap();
    let messages: Vec<&str> = assessment
        .warnings
        .iter()
        .map(|w| w.message.as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("5.1-1-2 is recorded, but provision 5.1-1 does not apply")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("whether provision 5.1-5 applies is open")),
        "{messages:?}"
    );

    let mut self_assessment = input.clone();
    self_assessment.kind = Kind::SelfAssessment;
    let assessment = evaluate(&self_assessment).unwrap();
    assert!(
        assessment
            .warnings
            .iter()
            .any(|w| w.message.contains("ignored: this is a self-assessment"))
    );
    assert!(
        assessment
            .provisions
            .iter()
            .all(|result| result.tests.is_empty())
    );
}

#[test]
fn a_record_of_an_unknown_test_case_is_invalid() {
    let mut input = lab();
    record(&mut input, "5.1-1-3", TestVerdict::Pass);
    record(&mut input, "9.9-9-1", TestVerdict::Pass);
    let invalid = evaluate(&input).unwrap_err();
    assert_eq!(invalid.len(), 2);
    assert!(invalid[0].message.contains("unknown test case \"5.1-1-3\""));
}

fn all_tests_passed(input: &mut Input<'_>) {
    for provision in &input.catalog.provisions {
        for case in &provision.test_cases {
            input.tests.insert(
                case.id.clone(),
                TestRecord::new(&case.id, TestVerdict::Pass),
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_lab_verdict_is_never_better_than_the_self_assessment(case in case(), verdicts in proptest::collection::vec(0u8..5, 160)) {
        let self_input = build(&case);
        let mut lab_input = self_input.clone();
        lab_input.kind = Kind::Lab;
        let cases: Vec<String> = lab_input.catalog.provisions.iter()
            .flat_map(|p| p.test_cases.iter().map(|c| c.id.clone())).collect();
        for (id, pick) in cases.iter().zip(&verdicts) {
            let verdict = [TestVerdict::Pass, TestVerdict::Fail, TestVerdict::Inconclusive, TestVerdict::NotRun];
            if let Some(&verdict) = verdict.get(*pick as usize) {
                lab_input.tests.insert(id.clone(), TestRecord::new(id, verdict));
            }
        }
        let self_result = evaluate(&self_input).unwrap();
        let lab_result = evaluate(&lab_input).unwrap();
        for (before, after) in self_result.provisions.iter().zip(&lab_result.provisions) {
            prop_assert!(after.verdict.rank() <= before.verdict.rank(),
                "{}: {:?} in the self-assessment, {:?} in the lab", before.provision.id, before.verdict, after.verdict);
            if after.verdict == Verdict::Pass {
                prop_assert!(after.tests.iter().all(|test| test.state == TestState::Pass),
                    "{} passes with a test case not passed", after.provision.id);
            }
            if after.applicability.as_str() == "applies"
                && after.tests.iter().any(|test| test.state == TestState::Fail) {
                prop_assert_eq!(after.verdict, Verdict::Fail);
            }
        }
        prop_assert!(lab_result.conformant <= self_result.conformant);
    }

    #[test]
    fn when_every_test_case_passed_the_lab_agrees_with_the_self_assessment(case in case()) {
        let self_input = build(&case);
        let mut lab_input = self_input.clone();
        lab_input.kind = Kind::Lab;
        all_tests_passed(&mut lab_input);
        let self_result = evaluate(&self_input).unwrap();
        let lab_result = evaluate(&lab_input).unwrap();
        for (before, after) in self_result.provisions.iter().zip(&lab_result.provisions) {
            prop_assert_eq!(before.verdict, after.verdict, "{}", before.provision.id);
        }
    }

    #[test]
    fn accepting_a_failing_finding_is_like_removing_it(case in case(), lab in any::<bool>()) {
        let mut input = build(&case);
        if lab {
            input.kind = Kind::Lab;
        }
        let mut removed = input.clone();
        removed.findings.clear();
        for finding in &input.findings {
            input.acceptances.push(accept(Selector::Finding(finding.id.clone()), None));
        }
        let accepted = evaluate(&input).unwrap();
        let without = evaluate(&removed).unwrap();
        for (a, b) in accepted.provisions.iter().zip(&without.provisions) {
            prop_assert_eq!(a.verdict, b.verdict, "{}", a.provision.id);
            prop_assert_eq!(a.contradiction, b.contradiction);
        }
        prop_assert_eq!(accepted.conformant, without.conformant);
    }

    #[test]
    fn an_expired_acceptance_is_like_none(case in case()) {
        let input = build(&case);
        let mut expired = input.clone();
        for finding in &input.findings {
            expired.acceptances.push(accept(Selector::Finding(finding.id.clone()), Some("2026-01-01")));
        }
        expired.as_of = Date::parse("2026-01-02");
        let with = evaluate(&expired).unwrap();
        let without = evaluate(&input).unwrap();
        for (a, b) in with.provisions.iter().zip(&without.provisions) {
            prop_assert_eq!(a.verdict, b.verdict, "{}", a.provision.id);
        }
    }
}
