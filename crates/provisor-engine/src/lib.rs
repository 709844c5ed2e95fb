//! The pure core of provisor. Given an edition of the standard, a device profile (the
//! answers to the conditions), the manufacturer's statements (the ICS) and the findings
//! of automated checks, it decides applicability and a verdict for every provision and
//! the conformance of the device, following the decision rule of [`DECISION_RULE`].
//!
//! Nothing here touches files, the network, the clock or the environment: the assessment
//! file is parsed from text, and files it refers to are read through the [`Files`] trait
//! that the caller implements.

mod assessment;
mod conditions;
mod diff;
mod edit;
mod error;
mod file;
mod finding;
mod ixit;
mod lab;
mod migrate;
mod plan;
mod profile;
mod regime;
mod review;
mod sink;
mod statement;
mod verdict;
mod wording;

pub use assessment::{
    AcceptanceState, Applicability, Assessment, ConditionState, Proposal, ProvisionResult,
    StatusSummary, Summary, TestResult, TestState, Verdict,
};
pub use conditions::{ConditionConflict, ResolvedConditions, resolve_conditions};
pub use diff::{Change, Diff, diff, diff_editions};
pub use edit::{
    AnswerEdit, CarriedForward, DEVICE_FIELDS, FileEdit, IxitFieldEdit, StatementEdit, TestEdit,
    carry_forward, edit_file,
};
pub use error::{InputError, Invalid, Subject, Warning};
pub use file::{
    AssessmentFile, EvidenceFile, Files, ScanRef, content_sha256, load, load_as_of, parse,
    scan_file_path, sha256_hex, with_scan_entry,
};
pub use finding::{
    Component, Container, FINDINGS_SCHEMA, Finding, FindingsFile, InferredCondition, Location,
    Outcome, Severity, Target, parse_findings,
};
pub use ixit::{IxitEntry, IxitValue, SecretRef, names_a_secret};
pub use lab::{Acceptance, AcceptanceKind, Date, Kind, Selector, TestRecord, TestVerdict};
pub use migrate::{Migrated, MovedEntry, Todo, migrate};
pub use plan::{PlanItem, plan};
pub use profile::{AnswerSource, ConditionAnswer, Device};
pub use regime::{
    Bearing, RegimeView, RequirementStatus, RequirementView, regime_view, regime_views,
};
pub use review::{Decision, Review, content_without_review};
pub use sink::{Draft, FindingSink};
pub use statement::{Statement, Support};
pub use verdict::{Input, evaluate};
pub use wording::{MAX_WORDING_BYTES, Wording};

/// The decision rule, as printed in every report.
pub const DECISION_RULE: &[&str] = &[
    "A condition of the provision answered false makes it NOT APPLICABLE; an unanswered condition leaves it OPEN.",
    "Mandatory provision that applies: a failing finding makes it FAIL (a contradiction if the statement says yes); otherwise no statement is OPEN, yes is PASS, no is FAIL.",
    "Recommendation that applies: a statement of no or not-applicable is NOT FULFILLED when the detail justifies it and FAIL otherwise; else a failing finding makes it FAIL; else no statement is OPEN and yes is PASS.",
    "4-1 is derived: FAIL if any applicable recommendation fails, else OPEN if any is open, else PASS.",
    "The device is conformant when every mandatory provision (4-1 included) is PASS or NOT APPLICABLE and no provision is OPEN.",
];

/// The steps a lab assessment (TS 103 701) adds, printed in its reports after
/// [`DECISION_RULE`].
pub const LAB_RULE: &[&str] = &[
    "Lab assessment, for each provision that applies (4-1 after the recommendations): a failed test case makes it FAIL (a contradiction if the statement says yes); a provision the rules above make PASS stays PASS only when every one of its test cases passed, and is OPEN while a test case is not run, inconclusive, or only proposed by automated evidence and not confirmed.",
    "A finding accepted in triage (false positive or accepted risk, not expired) does not count as a failing finding and proposes nothing; it stays listed with its acceptance.",
];
