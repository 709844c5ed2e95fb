//! The decision rule: applicability from the answers, then a verdict per provision from
//! its statement and the findings, then 4-1 and the conformance decision. The rule is
//! printed in every report ([`crate::DECISION_RULE`]); this file is its one
//! implementation.

use std::collections::{BTreeMap, BTreeSet};

use provisor_catalog::{Catalog, ConditionId, DerivedRule, Provision, Status, TestKind};

use crate::assessment::{
    AcceptanceState, Applicability, Assessment, ConditionState, Proposal, ProvisionResult, Summary,
    TestResult, TestState, Verdict,
};
use crate::conditions::{ResolvedConditions, resolve_conditions};
use crate::error::{Invalid, Subject, Warning};
use crate::file::{EvidenceFile, ScanRef};
use crate::finding::{Component, Finding, InferredCondition, Outcome};
use crate::ixit::{IxitEntry, check_entries};
use crate::lab::{Acceptance, Date, Kind, TestRecord, TestVerdict};
use crate::profile::{ConditionAnswer, Device};
use crate::review::Review;
use crate::statement::{Statement, Support};
use crate::wording::Wording;

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
    /// Evidence files referenced by statements and test records.
    pub evidence: Vec<EvidenceFile>,
    /// Self-assessment or lab.
    pub kind: Kind,
    /// Test case records by test case id.
    pub tests: BTreeMap<String, TestRecord>,
    /// Acceptances of findings, in file order.
    pub acceptances: Vec<Acceptance>,
    /// IXIT entries.
    pub ixit: Vec<IxitEntry>,
    /// The review and sign-off.
    pub review: Option<Review>,
    /// SHA-256 of the assessment's content without its review, to hold an approval
    /// against.
    pub content_sha256: Option<String>,
    /// The day acceptances expire against (the caller's clock, or `SOURCE_DATE_EPOCH`);
    /// without it nothing expires.
    pub as_of: Option<Date>,
    /// The official wording of the provisions, when the user supplies it.
    pub wording: Option<Wording>,
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
            kind: Kind::SelfAssessment,
            tests: BTreeMap::new(),
            acceptances: Vec::new(),
            ixit: Vec::new(),
            review: None,
            content_sha256: None,
            as_of: None,
            wording: None,
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
            .map_or(String::new(), |condition| {
                format!(" ({})", condition.wording())
            })
    };
    match applicability {
        Applicability::NotApplicable(id) => {
            reasons.push(format!(
                "{}{} is answered false",
                id.label(),
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
            reasons.push(format!("answer {}{question}", id.label()));
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
                    let derived = catalog.derived_id();
                    reasons.push(format!(
                        "{declared} and no justification is recorded (see {derived})"
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

/// What a reason says of a statement `provisor migrate` carried from the previous
/// edition's provision `from`.
fn carried_words(catalog: &Catalog, from: &str) -> String {
    let edition = catalog
        .migration
        .as_ref()
        .and_then(|migration| provisor_catalog::edition(&migration.from))
        .map_or("the previous edition", |edition| {
            edition.short_title.as_str()
        });
    format!(
        "carried, confirm: the statement was carried from {edition} {from} by `provisor migrate`; check it against this edition, then remove `carried`"
    )
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
        if let Some(conditions) = conditions
            && provision.is_mandatory()
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
    invalid
}

/// Test records that name no test case of the edition.
fn invalid_tests(input: &Input<'_>) -> Vec<Invalid> {
    input
        .tests
        .keys()
        .filter(|id| input.catalog.test_case(id).is_none())
        .map(|id| Invalid {
            subject: Subject::Test(id.clone()),
            message: format!(
                "unknown test case \"{id}\" in {}",
                input.catalog.test_specification
            ),
            help: "test cases are named <provision>-<n> (5.1-1-1 conceptual, 5.1-1-2 functional); run `provisor catalog show 5.1-1` for a provision's test cases".into(),
        })
        .collect()
}

/// What automated evidence proposes for a test case: FAIL when a counting failing
/// finding of a check mapped to it names its provision, else PASS when a passing one
/// does.
fn proposal(
    catalog: &Catalog,
    provision: &Provision,
    case: &provisor_catalog::TestCase,
    findings: &[Finding],
    counting: &[usize],
) -> Option<Proposal> {
    if case.kind == TestKind::Conceptual {
        return None;
    }
    let informing = |outcome: Outcome| -> Vec<usize> {
        counting
            .iter()
            .copied()
            .filter(|&index| {
                let finding = &findings[index];
                finding.outcome == outcome
                    && finding.provisions.contains(&provision.id)
                    && catalog
                        .tests_of_check(&finding.check)
                        .iter()
                        .any(|id| id == &case.id)
            })
            .collect()
    };
    let failing = informing(Outcome::Fail);
    if !failing.is_empty() {
        return Some(Proposal {
            verdict: TestVerdict::Fail,
            findings: failing,
        });
    }
    let passing = informing(Outcome::Pass);
    (!passing.is_empty()).then_some(Proposal {
        verdict: TestVerdict::Pass,
        findings: passing,
    })
}

/// The test cases of a provision with their records, proposals and states.
fn test_results<'c>(
    input: &Input<'c>,
    provision: &'c Provision,
    findings: &[Finding],
    counting: &[usize],
    warnings: &mut Vec<Warning>,
) -> Vec<TestResult<'c>> {
    provision
        .test_cases
        .iter()
        .map(|case| {
            let record = input.tests.get(&case.id).cloned();
            let proposal = proposal(input.catalog, provision, case, findings, counting);
            let proposed = proposal.as_ref().map(|proposal| proposal.verdict);
            let (state, overridden) = match (&record, proposed) {
                (None, Some(verdict)) => (TestState::Proposed(verdict), false),
                (None, None) => (TestState::NotRun, false),
                // A result carried from the previous test specification waits for an
                // assessor, like a proposal.
                (Some(record), _)
                    if record.carried.is_some()
                        && matches!(record.verdict, TestVerdict::Pass | TestVerdict::Fail) =>
                {
                    (TestState::Proposed(record.verdict), false)
                }
                (Some(record), _) => {
                    let differs = matches!(record.verdict, TestVerdict::Pass | TestVerdict::Fail)
                        && proposed.is_some_and(|verdict| verdict != record.verdict);
                    let reasoned = record
                        .override_reason
                        .as_deref()
                        .is_some_and(|reason| !reason.trim().is_empty());
                    let state = match record.verdict {
                        TestVerdict::Pass if differs && !reasoned => TestState::Disputed,
                        TestVerdict::Pass => TestState::Pass,
                        TestVerdict::Fail => TestState::Fail,
                        TestVerdict::Inconclusive => TestState::Inconclusive,
                        TestVerdict::NotRun => TestState::NotRun,
                    };
                    if differs && !reasoned {
                        warnings.push(Warning {
                            subject: Subject::Test(case.id.clone()),
                            message: format!(
                                "test case {} is recorded {} but the scans propose {}, and no reason is given for the override",
                                case.id,
                                record.verdict.label(),
                                proposed.map_or("", TestVerdict::label)
                            ),
                            help: Some(
                                "say why in override = \"…\"; to overrule a failing finding, accept it with `provisor triage`"
                                    .into(),
                            ),
                        });
                    }
                    (state, differs && reasoned)
                }
            };
            let missing_ixit = if case.kind == TestKind::Functional {
                Vec::new()
            } else {
                provision
                    .ixit
                    .iter()
                    .filter(|table| !input.ixit.iter().any(|entry| &entry.table == *table))
                    .cloned()
                    .collect()
            };
            TestResult {
                case,
                record,
                proposal,
                state,
                overridden,
                missing_ixit,
            }
        })
        .collect()
}

/// Rule 6: a failed test case fails the provision; a provision that rules 2–3 make
/// PASS stays PASS only when every test case passed, and is OPEN otherwise, naming what
/// is left to do.
fn apply_test_cases(result: &mut ProvisionResult<'_>) {
    let failed: Vec<&str> = result
        .tests
        .iter()
        .filter(|test| test.state == TestState::Fail)
        .map(|test| test.case.id.as_str())
        .collect();
    if !failed.is_empty() {
        for id in &failed {
            result.reasons.push(format!("test case {id} failed"));
        }
        if result
            .statement
            .as_ref()
            .is_some_and(|statement| statement.support == Support::Yes)
        {
            result.contradiction = true;
            result.reasons.push(format!(
                "contradiction: the statement says the provision is met, but test case {} failed",
                failed.join(", ")
            ));
        }
        result.verdict = Verdict::Fail;
        return;
    }
    if result.verdict != Verdict::Pass {
        return;
    }
    let mut left = Vec::new();
    for test in &result.tests {
        let id = test.case.display_id();
        let missing = match test.missing_ixit.as_slice() {
            [] => String::new(),
            [table] => format!("; IXIT {table} has no entry"),
            tables => format!("; IXIT {} have no entries", tables.join(", ")),
        };
        match test.state {
            TestState::Pass => {}
            TestState::NotRun => left.push(format!(
                "run test case {id} ({}){missing}",
                test.case.kind.as_str()
            )),
            TestState::Inconclusive => {
                left.push(format!("test case {id} was inconclusive: run it again{missing}"))
            }
            TestState::Proposed(verdict) => match test
                .record
                .as_ref()
                .and_then(|record| record.carried.as_deref())
            {
                Some(from) => left.push(format!(
                    "confirm the {} of test case {id}, carried from test case {from} by `provisor migrate`",
                    verdict.label()
                )),
                None => left.push(format!(
                    "confirm the proposed {} of test case {id}",
                    verdict.label()
                )),
            },
            TestState::Disputed => left.push(format!(
                "test case {id} is recorded PASS against a proposed FAIL: give the override a reason"
            )),
            TestState::Fail => {}
        }
    }
    if !left.is_empty() {
        result.verdict = Verdict::Open;
        result.reasons.extend(left);
    }
}

/// Judges the acceptances: what each covers and whether it has expired.
fn judge_acceptances(
    input: &Input<'_>,
    findings: &[Finding],
    warnings: &mut Vec<Warning>,
) -> Vec<AcceptanceState> {
    input
        .acceptances
        .iter()
        .enumerate()
        .map(|(position, acceptance)| {
            let covered: Vec<usize> = findings
                .iter()
                .enumerate()
                .filter(|(_, finding)| acceptance.selector.matches(finding))
                .map(|(index, _)| index)
                .collect();
            let expired = acceptance.expired(input.as_of);
            if covered.is_empty() {
                warnings.push(Warning {
                    subject: Subject::Acceptance(position),
                    message: format!(
                        "the acceptance of {} matches no finding of the attached scans",
                        acceptance.selector
                    ),
                    help: Some(
                        "remove it, or correct the finding id (`provisor triage` lists them)".into(),
                    ),
                });
            }
            if expired {
                warnings.push(Warning {
                    subject: Subject::Acceptance(position),
                    message: format!(
                        "the acceptance of {} expired on {}; its findings count again",
                        acceptance.selector,
                        acceptance.until.map(|date| date.to_string()).unwrap_or_default()
                    ),
                    help: Some(
                        "fix what the finding reports, or review the acceptance and set a new `until`"
                            .into(),
                    ),
                });
            }
            AcceptanceState {
                acceptance: acceptance.clone(),
                findings: covered,
                expired,
            }
        })
        .collect()
}

/// Warnings about test records that cannot count: in a self-assessment, on a
/// provision that does not apply or whose applicability is still open, naming findings
/// that are not there.
fn test_record_warnings(
    input: &Input<'_>,
    conditions: &ResolvedConditions,
    findings: &[Finding],
    warnings: &mut Vec<Warning>,
) {
    if input.kind == Kind::SelfAssessment && !input.tests.is_empty() {
        warnings.push(Warning {
            subject: Subject::Kind,
            message: format!(
                "{} test case records are ignored: this is a self-assessment",
                input.tests.len()
            ),
            help: Some("write kind = \"lab\" for a conformance assessment by TS 103 701".into()),
        });
        return;
    }
    for (id, record) in &input.tests {
        let Some((provision, _)) = input.catalog.test_case(id) else {
            continue;
        };
        match applicability(provision, conditions) {
            Applicability::Applies => {}
            Applicability::NotApplicable(condition) => warnings.push(Warning {
                subject: Subject::Test(id.clone()),
                message: format!(
                    "test case {id} is recorded, but provision {} does not apply ({} is answered false); it is not counted",
                    provision.id,
                    condition.label()
                ),
                help: None,
            }),
            Applicability::Undetermined(condition) => warnings.push(Warning {
                subject: Subject::Test(id.clone()),
                message: format!(
                    "test case {id} is recorded, but whether provision {} applies is open (answer {})",
                    provision.id,
                    condition.label()
                ),
                help: None,
            }),
        }
        for finding in &record.findings {
            if !findings.iter().any(|candidate| &candidate.id == finding) {
                warnings.push(Warning {
                    subject: Subject::Test(id.clone()),
                    message: format!(
                        "test case {id} cites finding {finding}, which no attached scan holds"
                    ),
                    help: Some("attach the scan that found it, or correct the id".into()),
                });
            }
        }
    }
}

/// A firmware scan of another image than the one the device names is not evidence about
/// it.
fn scan_warnings(input: &Input<'_>, warnings: &mut Vec<Warning>) {
    let Some(declared) = &input.device.firmware_sha256 else {
        return;
    };
    for scan in &input.scans {
        if let Some(scanned) = &scan.target.sha256
            && scan.target.kind == "firmware"
            && !scanned.eq_ignore_ascii_case(declared)
        {
            warnings.push(Warning {
                subject: Subject::Scan(scan.file.clone()),
                message: format!(
                    "scan {} examined an image with SHA-256 {scanned}, not the firmware the device names ({declared})",
                    scan.file
                ),
                help: Some(
                    "scan the released image, or correct device.firmware_sha256".into(),
                ),
            });
        }
    }
}

/// Warnings when an approved review no longer covers what is there.
fn review_warnings(input: &Input<'_>, warnings: &mut Vec<Warning>) {
    let Some(review) = input.review.as_ref().filter(|review| review.approved()) else {
        return;
    };
    let mut changed = Vec::new();
    if let (Some(recorded), Some(current)) = (&review.content_sha256, &input.content_sha256)
        && recorded != current
    {
        changed.push("the assessment itself".to_owned());
    }
    let mut current: BTreeMap<&str, &str> = BTreeMap::new();
    for scan in &input.scans {
        current.insert(&scan.file, &scan.sha256);
    }
    for evidence in &input.evidence {
        if let Some(sha256) = &evidence.sha256 {
            current.insert(&evidence.path, sha256);
        }
    }
    if let Some(wording) = &input.wording {
        current.insert(&wording.file, &wording.sha256);
    }
    for (path, recorded) in &review.inputs {
        match current.get(path.as_str()) {
            Some(now) if now == recorded => {}
            Some(_) => changed.push(path.clone()),
            None => changed.push(format!("{path} (no longer cited)")),
        }
    }
    for path in current.keys() {
        if !review.inputs.contains_key(*path) {
            changed.push(format!("{path} (new)"));
        }
    }
    if !changed.is_empty() {
        warnings.push(Warning {
            subject: Subject::Review,
            message: format!(
                "changed after the review approved revision {}: {}",
                review.revision,
                changed.join(", ")
            ),
            help: Some("have the assessment reviewed again (`provisor review`)".into()),
        });
    }
}

/// One warning for everything carried from an earlier release or edition that nobody
/// has confirmed.
fn carried_warnings(input: &Input<'_>, warnings: &mut Vec<Warning>) {
    let answers: Vec<&ConditionId> = input
        .answers
        .iter()
        .filter(|(_, answer)| answer.carried)
        .map(|(id, _)| id)
        .collect();
    let statements: Vec<&str> = input
        .statements
        .iter()
        .filter(|(_, statement)| statement.carried.is_some())
        .map(|(id, _)| id.as_str())
        .collect();
    let tests: Vec<&str> = input
        .tests
        .iter()
        .filter(|(_, record)| record.carried.is_some())
        .map(|(id, _)| id.as_str())
        .collect();
    let Some(subject) = answers
        .first()
        .map(|id| Subject::Condition((*id).clone()))
        .or_else(|| {
            statements
                .first()
                .map(|id| Subject::Statement((*id).to_owned()))
        })
        .or_else(|| tests.first().map(|id| Subject::Test((*id).to_owned())))
    else {
        return;
    };
    let mut parts = Vec::new();
    if !answers.is_empty() {
        let ids: Vec<String> = answers.iter().map(ToString::to_string).collect();
        parts.push(format!("{} answer(s) ({})", ids.len(), ids.join(", ")));
    }
    if !statements.is_empty() {
        parts.push(format!(
            "{} statement(s) ({})",
            statements.len(),
            statements.join(", ")
        ));
    }
    if !tests.is_empty() {
        parts.push(format!(
            "{} test record(s) ({})",
            tests.len(),
            tests.join(", ")
        ));
    }
    warnings.push(Warning {
        subject,
        message: format!(
            "{} carried from an earlier release or edition are not confirmed yet",
            parts.join(" and ")
        ),
        help: Some(format!(
            "check each against {} and this firmware, then remove its `carried` mark; the assessment cannot be approved before",
            input.catalog.short_title
        )),
    });
}

/// Applies the decision rule to the whole input.
///
/// Invalid input (a statement on an unknown or derived provision, contradictory answers,
/// a mandatory provision declared not applicable while its conditions hold, a record of
/// an unknown test case, an IXIT value of the wrong type or a secret written inline) is
/// returned as a list of [`Invalid`], each naming what it is about.
pub fn evaluate<'c>(input: &Input<'c>) -> Result<Assessment<'c>, Vec<Invalid>> {
    let catalog = input.catalog;
    let mut warnings = Vec::new();
    let mut early = invalid_statements(input, None);
    early.extend(invalid_tests(input));
    early.extend(check_entries(catalog, &input.ixit, &mut warnings));
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
    let acceptances = judge_acceptances(input, &findings, &mut warnings);
    let accepted: BTreeSet<usize> = acceptances
        .iter()
        .filter(|state| !state.expired)
        .flat_map(|state| state.findings.iter().copied())
        .collect();
    test_record_warnings(input, &conditions, &findings, &mut warnings);
    let lab = input.kind == Kind::Lab;

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
        let counting: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|index| !accepted.contains(index))
            .collect();
        let related: Vec<&Finding> = counting.iter().map(|&index| &findings[index]).collect();
        let (verdict, mut reasons, contradiction) = if provision.derived.is_some() {
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
        for state in &acceptances {
            for &index in indices
                .iter()
                .filter(|index| state.findings.contains(index))
            {
                if state.expired || findings[index].outcome != Outcome::Fail {
                    continue;
                }
                let acceptance = &state.acceptance;
                let until = acceptance
                    .until
                    .map(|date| format!(" until {date}"))
                    .unwrap_or_default();
                reasons.push(format!(
                    "{} is accepted as {} by {}{until} and does not count: {}",
                    cite(&findings[index]),
                    acceptance.kind.label(),
                    acceptance.by,
                    acceptance.reason
                ));
            }
        }
        if let Some(carried) = statement.as_ref().and_then(|s| s.carried.as_deref()) {
            reasons.push(carried_words(catalog, carried));
        }
        let tests = if lab {
            test_results(input, provision, &findings, &counting, &mut warnings)
        } else {
            Vec::new()
        };
        let mut result = ProvisionResult {
            provision,
            applicability,
            statement,
            verdict,
            reasons,
            findings: indices,
            contradiction,
            tests,
        };
        if lab && provision.derived.is_none() && result.applicability == Applicability::Applies {
            apply_test_cases(&mut result);
        }
        provisions.push(result);
    }
    for index in 0..provisions.len() {
        if let Some(rule) = provisions[index].provision.derived {
            let (verdict, reasons) = judge_derived(rule, &provisions);
            provisions[index].verdict = verdict;
            provisions[index].reasons = reasons;
            if lab {
                apply_test_cases(&mut provisions[index]);
            }
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
    review_warnings(input, &mut warnings);
    scan_warnings(input, &mut warnings);
    carried_warnings(input, &mut warnings);

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
        kind: input.kind,
        acceptances,
        ixit: input.ixit.clone(),
        review: input.review.clone(),
        as_of: input.as_of,
        wording: input.wording.clone(),
        warnings,
    })
}
