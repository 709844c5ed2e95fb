//! The engine's result: applicability and verdict per provision, the conformance
//! decision and the summary counts. Renderers in provisor-report read only this.

use std::fmt;

use provisor_catalog::{Catalog, Condition, ConditionId, Provision, TestCase, TextSource};

use crate::conditions::ConditionConflict;
use crate::error::Warning;
use crate::file::{EvidenceFile, ScanRef};
use crate::finding::{Component, Finding, Outcome};
use crate::ixit::IxitEntry;
use crate::lab::{Acceptance, Date, Kind, TestRecord, TestVerdict};
use crate::profile::{ConditionAnswer, Device};
use crate::review::Review;
use crate::statement::Statement;
use crate::wording::Wording;

/// Whether a provision applies to the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicability {
    /// Every condition holds (or there are none).
    Applies,
    /// This condition is answered false.
    NotApplicable(ConditionId),
    /// This condition is unanswered (and none is false).
    Undetermined(ConditionId),
}

impl Applicability {
    /// `applies`, `not-applicable` or `undetermined`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Applicability::Applies => "applies",
            Applicability::NotApplicable(_) => "not-applicable",
            Applicability::Undetermined(_) => "undetermined",
        }
    }

    /// The condition that decided it, when one did.
    pub fn deciding_condition(&self) -> Option<&ConditionId> {
        match self {
            Applicability::Applies => None,
            Applicability::NotApplicable(id) | Applicability::Undetermined(id) => Some(id),
        }
    }
}

/// The verdict on one provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Not met.
    Fail,
    /// Not decided yet: a condition or a statement is missing.
    Open,
    /// A recommendation not met, with a recorded justification.
    NotFulfilled,
    /// Met.
    Pass,
    /// Does not apply to the device.
    NotApplicable,
}

impl Verdict {
    /// The contract spelling: `pass`, `fail`, `not-applicable`, `not-fulfilled`, `open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotApplicable => "not-applicable",
            Verdict::NotFulfilled => "not-fulfilled",
            Verdict::Open => "open",
        }
    }

    /// The report spelling: `PASS`, `NOT APPLICABLE`, …
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NotApplicable => "NOT APPLICABLE",
            Verdict::NotFulfilled => "NOT FULFILLED",
            Verdict::Open => "OPEN",
        }
    }

    /// Parses the contract spelling.
    pub fn parse(text: &str) -> Option<Verdict> {
        [
            Verdict::Pass,
            Verdict::Fail,
            Verdict::NotApplicable,
            Verdict::NotFulfilled,
            Verdict::Open,
        ]
        .into_iter()
        .find(|verdict| verdict.as_str() == text)
    }

    /// How good the verdict is for conformance: fail 0, open 1, not fulfilled 2, pass
    /// and not applicable 3. A change to a lower rank is a regression.
    pub fn rank(self) -> u8 {
        match self {
            Verdict::Fail => 0,
            Verdict::Open => 1,
            Verdict::NotFulfilled => 2,
            Verdict::Pass | Verdict::NotApplicable => 3,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.label())
    }
}

/// The assessment of one provision.
#[derive(Debug, Clone)]
pub struct ProvisionResult<'c> {
    /// The provision.
    pub provision: &'c Provision,
    /// Whether it applies.
    pub applicability: Applicability,
    /// The manufacturer's statement.
    pub statement: Option<Statement>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in order of the decision rule.
    pub reasons: Vec<String>,
    /// Indices into [`Assessment::findings`] of the findings on this provision, failing
    /// ones first.
    pub findings: Vec<usize>,
    /// The statement says yes but a finding or a test case fails.
    pub contradiction: bool,
    /// The provision's test cases and their state (lab assessments only).
    pub tests: Vec<TestResult<'c>>,
}

/// What automated evidence proposes for a functional test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// PASS or FAIL.
    pub verdict: TestVerdict,
    /// Indices into [`Assessment::findings`] of the findings that propose it.
    pub findings: Vec<usize>,
}

/// Where a test case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestState {
    /// Recorded PASS (a proposal confirmed, or overridden with a reason).
    Pass,
    /// Recorded FAIL.
    Fail,
    /// Recorded inconclusive.
    Inconclusive,
    /// Neither recorded nor proposed, or recorded as not run.
    NotRun,
    /// Proposed by automated evidence, not yet confirmed by an assessor.
    Proposed(TestVerdict),
    /// Recorded PASS against a proposed FAIL without a reason for the override.
    Disputed,
}

impl TestState {
    /// The contract spelling: `pass`, `fail`, `inconclusive`, `not-run`,
    /// `proposed-pass`, `proposed-fail`, `disputed`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestState::Pass => "pass",
            TestState::Fail => "fail",
            TestState::Inconclusive => "inconclusive",
            TestState::NotRun => "not-run",
            TestState::Proposed(TestVerdict::Fail) => "proposed-fail",
            TestState::Proposed(_) => "proposed-pass",
            TestState::Disputed => "disputed",
        }
    }

    /// The report spelling: `PASS`, `PROPOSED FAIL`, …
    pub fn label(self) -> &'static str {
        match self {
            TestState::Pass => "PASS",
            TestState::Fail => "FAIL",
            TestState::Inconclusive => "INCONCLUSIVE",
            TestState::NotRun => "NOT RUN",
            TestState::Proposed(TestVerdict::Fail) => "PROPOSED FAIL",
            TestState::Proposed(_) => "PROPOSED PASS",
            TestState::Disputed => "DISPUTED",
        }
    }
}

/// One test case of a provision in a lab assessment.
#[derive(Debug, Clone)]
pub struct TestResult<'c> {
    /// The test case of the catalog.
    pub case: &'c TestCase,
    /// What the assessor recorded.
    pub record: Option<TestRecord>,
    /// What automated evidence proposes (functional test cases only; accepted findings
    /// propose nothing).
    pub proposal: Option<Proposal>,
    /// Where it stands.
    pub state: TestState,
    /// The recorded verdict differs from the proposal (and the record says why).
    pub overridden: bool,
    /// IXIT tables the test case reviews that have no entry (conceptual test cases).
    pub missing_ixit: Vec<String>,
}

/// An acceptance with what it covers.
#[derive(Debug, Clone)]
pub struct AcceptanceState {
    /// The acceptance as written.
    pub acceptance: Acceptance,
    /// Indices into [`Assessment::findings`] of the findings it covers.
    pub findings: Vec<usize>,
    /// It has expired, so the findings count again.
    pub expired: bool,
}

/// A condition with its answer in force.
#[derive(Debug, Clone)]
pub struct ConditionState<'c> {
    /// The condition.
    pub condition: &'c Condition,
    /// The answer in force, if any.
    pub answer: Option<ConditionAnswer>,
}

/// Counts of verdicts for one status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusSummary {
    /// PASS.
    pub pass: usize,
    /// FAIL.
    pub fail: usize,
    /// NOT FULFILLED (recommendations only).
    pub not_fulfilled: usize,
    /// NOT APPLICABLE.
    pub not_applicable: usize,
    /// OPEN.
    pub open: usize,
}

impl StatusSummary {
    /// Adds one verdict.
    pub fn count(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::NotFulfilled => self.not_fulfilled += 1,
            Verdict::NotApplicable => self.not_applicable += 1,
            Verdict::Open => self.open += 1,
        }
    }

    /// The count of one verdict.
    pub fn of(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::Pass => self.pass,
            Verdict::Fail => self.fail,
            Verdict::NotFulfilled => self.not_fulfilled,
            Verdict::NotApplicable => self.not_applicable,
            Verdict::Open => self.open,
        }
    }

    /// All verdicts counted.
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.not_fulfilled + self.not_applicable + self.open
    }
}

/// Verdict counts split by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Mandatory provisions (4-1 included).
    pub mandatory: StatusSummary,
    /// Recommendations.
    pub recommended: StatusSummary,
}

/// A whole assessment: everything a report shows.
#[derive(Debug, Clone)]
pub struct Assessment<'c> {
    /// The edition.
    pub catalog: &'c Catalog,
    /// The device.
    pub device: Device,
    /// Every condition of the edition, in order, with its answer in force.
    pub conditions: Vec<ConditionState<'c>>,
    /// Scan inferences that disagree with an answer.
    pub condition_conflicts: Vec<ConditionConflict>,
    /// Every provision, in catalog order.
    pub provisions: Vec<ProvisionResult<'c>>,
    /// Every finding of every attached scan.
    pub findings: Vec<Finding>,
    /// Components reported by the scans.
    pub components: Vec<Component>,
    /// The scans attached.
    pub scans: Vec<ScanRef>,
    /// The evidence files referenced by statements.
    pub evidence: Vec<EvidenceFile>,
    /// Verdict counts.
    pub summary: Summary,
    /// The conformance decision.
    pub conformant: bool,
    /// Self-assessment or lab.
    pub kind: Kind,
    /// The acceptances of triage, in file order.
    pub acceptances: Vec<AcceptanceState>,
    /// The IXIT entries.
    pub ixit: Vec<IxitEntry>,
    /// The review and sign-off, when recorded.
    pub review: Option<Review>,
    /// The date expiries were judged against.
    pub as_of: Option<Date>,
    /// The official wording of the provisions, when the user supplied it.
    pub wording: Option<Wording>,
    /// What the user should see but that did not stop the judgement.
    pub warnings: Vec<Warning>,
}

impl<'c> Assessment<'c> {
    /// The answers, statements and test records carried from an earlier release or
    /// edition that nobody has confirmed yet (`condition 12`, provision and test case
    /// ids): an approval waits for them.
    pub fn unconfirmed(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .conditions
            .iter()
            .filter(|state| state.answer.as_ref().is_some_and(|answer| answer.carried))
            .map(|state| format!("condition {}", state.condition.id))
            .collect();
        for result in &self.provisions {
            if result
                .statement
                .as_ref()
                .is_some_and(|s| s.carried.is_some())
            {
                ids.push(result.provision.id.clone());
            }
            for test in &result.tests {
                if test.record.as_ref().is_some_and(|r| r.carried.is_some()) {
                    ids.push(test.case.id.clone());
                }
            }
        }
        ids
    }

    /// A provision's text and where it comes from: the wording file's sentence when it
    /// gives one, else the catalog's.
    pub fn text_of<'a>(&'a self, provision: &'a Provision) -> (&'a str, TextSource) {
        match self
            .wording
            .as_ref()
            .and_then(|wording| wording.texts.get(&provision.id))
        {
            Some(text) => (text, TextSource::Wording),
            None => (&provision.text, provision.text_source),
        }
    }

    /// A provision's text as reports show it: labelled `[summary]` or `[V2.1.1 wording]`
    /// where it is not the standard's sentence.
    pub fn shown_text(&self, provision: &Provision) -> String {
        let (text, source) = self.text_of(provision);
        source.shown(text)
    }

    /// The result for one provision.
    pub fn provision(&self, id: &str) -> Option<&ProvisionResult<'c>> {
        self.catalog
            .provision_index(id)
            .map(|index| &self.provisions[index])
    }

    /// The findings of one provision result.
    pub fn findings_of<'a>(
        &'a self,
        result: &'a ProvisionResult<'c>,
    ) -> impl Iterator<Item = &'a Finding> {
        result.findings.iter().map(|&index| &self.findings[index])
    }

    /// Findings that fail, accepted ones included.
    pub fn failing_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|finding| finding.outcome == Outcome::Fail)
    }

    /// The acceptance in force that covers the finding at `index`, if any.
    pub fn acceptance_of(&self, index: usize) -> Option<&AcceptanceState> {
        self.acceptances
            .iter()
            .find(|state| !state.expired && state.findings.contains(&index))
    }

    /// Findings that fail and that no acceptance in force covers: the ones that decide
    /// verdicts.
    pub fn deciding_failures(&self) -> impl Iterator<Item = (usize, &Finding)> {
        self.findings.iter().enumerate().filter(|(index, finding)| {
            finding.outcome == Outcome::Fail && self.acceptance_of(*index).is_none()
        })
    }

    /// Every test case of every provision, in catalog order.
    pub fn test_results(&self) -> impl Iterator<Item = (&ProvisionResult<'c>, &TestResult<'c>)> {
        self.provisions
            .iter()
            .flat_map(|result| result.tests.iter().map(move |test| (result, test)))
    }
}
