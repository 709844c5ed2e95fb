//! The `provisor.assessment/2` document: the public JSON form of an assessment, also read
//! back by `provisor diff`.

use provisor_catalog::ConditionId;
use provisor_engine::{Assessment, Component, Finding, StatusSummary, Verdict};
use serde::{Deserialize, Serialize};

use crate::Context;

/// The schema id of an assessment document.
pub const ASSESSMENT_SCHEMA: &str = "provisor.assessment/2";

/// The first schema, still read by `provisor diff`: it has the same fields, and its
/// condition ids are always numbers (V2.1.1's), where /2 writes a feature's letter as a
/// string (`[14, "e"]`).
pub const ASSESSMENT_SCHEMA_V1: &str = "provisor.assessment/1";

/// Verdict counts of one status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountsDocument {
    /// PASS.
    pub pass: usize,
    /// FAIL.
    pub fail: usize,
    /// NOT FULFILLED; recommendations only.
    #[serde(
        rename = "not-fulfilled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_fulfilled: Option<usize>,
    /// NOT APPLICABLE.
    #[serde(rename = "not-applicable")]
    pub not_applicable: usize,
    /// OPEN.
    pub open: usize,
}

impl CountsDocument {
    fn of(counts: &StatusSummary, recommended: bool) -> Self {
        CountsDocument {
            pass: counts.pass,
            fail: counts.fail,
            not_fulfilled: recommended.then_some(counts.not_fulfilled),
            not_applicable: counts.not_applicable,
            open: counts.open,
        }
    }
}

/// Verdict counts split by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryDocument {
    /// Mandatory provisions, 4-1 included.
    pub mandatory: CountsDocument,
    /// Recommendations.
    pub recommended: CountsDocument,
}

/// A statement as shown in the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDocument {
    /// yes, no or not-applicable.
    pub support: String,
    /// The detail.
    pub detail: String,
    /// Evidence paths or URLs.
    pub evidence: Vec<String>,
    /// The provision of the previous edition `provisor migrate` carried it from, until
    /// someone confirms it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<String>,
}

/// One provision's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionDocument {
    /// Provision id.
    pub id: String,
    /// M or R.
    pub status: String,
    /// Conditions it depends on.
    pub conditions: Vec<ConditionId>,
    /// applies, not-applicable or undetermined.
    pub applicability: String,
    /// The condition that made it not applicable or undetermined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deciding_condition: Option<ConditionId>,
    /// pass, fail, not-applicable, not-fulfilled or open.
    pub verdict: String,
    /// Why.
    pub reasons: Vec<String>,
    /// The manufacturer's statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementDocument>,
    /// Ids of the findings on this provision.
    pub findings: Vec<String>,
    /// A yes statement contradicted by a failing finding or test case.
    pub contradiction: bool,
    /// The provision's test cases (lab assessments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestDocument>,
}

/// One test case of a provision in a lab assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestDocument {
    /// Test case id (`5.1-1-2`).
    pub id: String,
    /// conceptual, functional or conceptual-functional.
    pub kind: String,
    /// pass, fail, inconclusive, not-run, proposed-pass, proposed-fail or disputed.
    pub state: String,
    /// What the assessor recorded (pass, fail, inconclusive, not-run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
    /// What automated evidence proposes (pass or fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed: Option<String>,
    /// Ids of the findings behind the proposal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proposed_by: Vec<String>,
    /// The recorded verdict overrides the proposal; the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Who ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessor: Option<String>,
    /// When (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// How.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub method: String,
    /// Evidence paths or URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Findings the assessor cites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// IXIT tables it reviews that have no entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_ixit: Vec<String>,
}

/// An acceptance made in triage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptanceDocument {
    /// What it covers, in words (`finding 3fa2…`, `check firmware.x at /etc/y`).
    pub covers: String,
    /// false-positive or accepted-risk.
    pub kind: String,
    /// Why.
    pub reason: String,
    /// Who.
    pub by: String,
    /// The last day it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// It has expired and no longer counts.
    pub expired: bool,
    /// Ids of the findings it covers.
    pub findings: Vec<String>,
}

/// An IXIT entry; secrets appear only as their reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IxitDocument {
    /// The table (`1-AuthMech`).
    pub table: String,
    /// The entry's id, or its table and position.
    pub name: String,
    /// Field values as text (secrets redacted to their reference).
    pub fields: std::collections::BTreeMap<String, String>,
}

/// An IXIT table no entry fills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IxitGapDocument {
    /// The table (`3-VulnTypes`).
    pub table: String,
    /// The applicable provisions whose test groups use it.
    pub provisions: Vec<String>,
}

/// The review and sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDocument {
    /// The report's id.
    pub report_id: String,
    /// Its revision.
    pub revision: u32,
    /// Who performed the assessment.
    pub assessor: String,
    /// Who reviewed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    /// approved or changes-requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// The answer to one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionDocument {
    /// Condition id.
    pub id: ConditionId,
    /// The condition.
    pub text: String,
    /// The answer in force; absent when unanswered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<bool>,
    /// declared, implied or inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The note, or where an implied or inferred answer came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Carried from an earlier release's assessment and not confirmed yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub carried: bool,
}

/// An evidence file in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceDocument {
    /// Path or URL.
    pub path: String,
    /// SHA-256; absent for a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size in bytes; absent for a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The provisions citing it.
    pub provisions: Vec<String>,
    /// The test cases citing it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<String>,
}

/// A scan attached to the assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanDocument {
    /// The findings file.
    pub file: String,
    /// Its SHA-256.
    pub sha256: String,
    /// firmware or host.
    pub target: String,
    /// The tool that wrote it.
    pub tool: String,
    /// Findings in it.
    pub findings: usize,
}

/// The tool that made the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolDocument {
    /// provisor.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The whole `provisor.assessment/2` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentDocument {
    /// Always [`ASSESSMENT_SCHEMA`].
    pub schema: String,
    /// The tool.
    pub tool: ToolDocument,
    /// The edition id.
    pub edition: String,
    /// The device.
    pub device: provisor_engine::Device,
    /// The conformance decision.
    pub conformant: bool,
    /// Verdict counts.
    pub summary: SummaryDocument,
    /// Every provision, in catalog order.
    pub provisions: Vec<ProvisionDocument>,
    /// Every condition with its answer.
    #[serde(default)]
    pub conditions: Vec<ConditionDocument>,
    /// Scan inferences that disagree with the answers.
    #[serde(default)]
    pub condition_conflicts: Vec<String>,
    /// Every finding of the attached scans.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Components the scans found.
    #[serde(default)]
    pub components: Vec<Component>,
    /// The scans attached.
    #[serde(default)]
    pub scans: Vec<ScanDocument>,
    /// The evidence register.
    #[serde(default)]
    pub evidence: Vec<EvidenceDocument>,
    /// self-assessment or lab; absent in documents written before lab assessments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The acceptances of triage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acceptances: Vec<AcceptanceDocument>,
    /// The IXIT entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ixit: Vec<IxitDocument>,
    /// IXIT tables that applicable provisions need and that have no entry (lab
    /// assessments, or wherever IXIT entries are recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ixit_gaps: Vec<IxitGapDocument>,
    /// The review and sign-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewDocument>,
    /// The wording file that gave the provisions' official texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wording: Option<WordingDocument>,
    /// What each regulatory regime that can read the assessment makes of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regimes: Vec<crate::regime::RegimeDocument>,
    /// Warnings about the input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The wording file an assessment read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordingDocument {
    /// The file as named.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// The provisions it gives the wording of.
    pub provisions: Vec<String>,
}

/// Where a condition's answer came from, in words; a carried answer says it waits to be
/// confirmed.
pub(crate) fn answer_origin(answer: &provisor_engine::ConditionAnswer) -> Option<String> {
    match &answer.source {
        provisor_engine::AnswerSource::Declared if answer.carried => Some(match &answer.note {
            Some(note) => format!("[carried, confirm] {note}"),
            None => "[carried, confirm]".to_owned(),
        }),
        provisor_engine::AnswerSource::Declared => answer.note.clone(),
        provisor_engine::AnswerSource::Implied { relation, .. } => Some(relation.clone()),
        provisor_engine::AnswerSource::Inferred { because } => Some(because.clone()),
    }
}

/// A condition conflict in words.
pub(crate) fn conflict_text(conflict: &provisor_engine::ConditionConflict) -> String {
    format!(
        "{} is answered {} but a scan infers {}: {}",
        conflict.condition.label(),
        conflict.answer,
        conflict.inferred,
        conflict.because
    )
}

/// Builds the document of an assessment.
pub fn document(assessment: &Assessment<'_>, context: &Context) -> AssessmentDocument {
    let summary = &assessment.summary;
    AssessmentDocument {
        schema: ASSESSMENT_SCHEMA.to_owned(),
        tool: ToolDocument {
            name: "provisor".into(),
            version: context.tool_version.clone(),
        },
        edition: assessment.catalog.id.clone(),
        device: assessment.device.clone(),
        conformant: assessment.conformant,
        summary: SummaryDocument {
            mandatory: CountsDocument::of(&summary.mandatory, false),
            recommended: CountsDocument::of(&summary.recommended, true),
        },
        provisions: assessment
            .provisions
            .iter()
            .map(|result| ProvisionDocument {
                id: result.provision.id.clone(),
                status: result.provision.status.letter().to_owned(),
                conditions: result.provision.conditions.clone(),
                applicability: result.applicability.as_str().to_owned(),
                deciding_condition: result.applicability.deciding_condition().cloned(),
                verdict: result.verdict.as_str().to_owned(),
                reasons: result.reasons.clone(),
                statement: result
                    .statement
                    .as_ref()
                    .map(|statement| StatementDocument {
                        support: statement.support.as_str().to_owned(),
                        detail: statement.detail.clone(),
                        evidence: statement.evidence.clone(),
                        carried: statement.carried.clone(),
                    }),
                findings: assessment
                    .findings_of(result)
                    .map(|finding| finding.id.clone())
                    .collect(),
                contradiction: result.contradiction,
                tests: result
                    .tests
                    .iter()
                    .map(|test| test_document(assessment, test))
                    .collect(),
            })
            .collect(),
        conditions: assessment
            .conditions
            .iter()
            .map(|state| ConditionDocument {
                id: state.condition.id.clone(),
                text: state.condition.text.clone(),
                answer: state.answer.as_ref().map(|answer| answer.answer),
                source: state
                    .answer
                    .as_ref()
                    .map(|answer| answer.source.label().to_owned()),
                note: state.answer.as_ref().and_then(answer_origin),
                carried: state.answer.as_ref().is_some_and(|answer| answer.carried),
            })
            .collect(),
        condition_conflicts: assessment
            .condition_conflicts
            .iter()
            .map(conflict_text)
            .collect(),
        findings: assessment.findings.clone(),
        components: assessment.components.clone(),
        scans: assessment
            .scans
            .iter()
            .map(|scan| ScanDocument {
                file: scan.file.clone(),
                sha256: scan.sha256.clone(),
                target: scan.target.kind.clone(),
                tool: scan.tool.clone(),
                findings: scan.findings,
            })
            .collect(),
        evidence: assessment
            .evidence
            .iter()
            .map(|evidence| EvidenceDocument {
                path: evidence.path.clone(),
                sha256: evidence.sha256.clone(),
                size: evidence.size,
                provisions: evidence.provisions.clone(),
                tests: evidence.tests.clone(),
            })
            .collect(),
        kind: Some(assessment.kind.as_str().to_owned()),
        acceptances: assessment
            .acceptances
            .iter()
            .map(|state| AcceptanceDocument {
                covers: state.acceptance.selector.to_string(),
                kind: state.acceptance.kind.as_str().to_owned(),
                reason: state.acceptance.reason.clone(),
                by: state.acceptance.by.clone(),
                until: state.acceptance.until.map(|date| date.to_string()),
                expired: state.expired,
                findings: state
                    .findings
                    .iter()
                    .map(|&index| assessment.findings[index].id.clone())
                    .collect(),
            })
            .collect(),
        ixit: assessment
            .ixit
            .iter()
            .map(|entry| IxitDocument {
                table: entry.table.clone(),
                name: entry.name(),
                fields: entry
                    .fields
                    .iter()
                    .map(|(name, value)| (name.clone(), value.to_string()))
                    .collect(),
            })
            .collect(),
        ixit_gaps: if crate::lab::shows_ixit(assessment) {
            crate::lab::ixit_gaps(assessment)
                .into_iter()
                .map(|(table, provisions)| IxitGapDocument { table, provisions })
                .collect()
        } else {
            Vec::new()
        },
        review: assessment.review.as_ref().map(|review| ReviewDocument {
            report_id: review.report_id.clone(),
            revision: review.revision,
            assessor: review.assessor.clone(),
            reviewer: review.reviewer.clone(),
            decision: review.decision.map(|decision| decision.as_str().to_owned()),
            date: review.date.map(|date| date.to_string()),
        }),
        regimes: crate::regime::documents(assessment),
        wording: assessment.wording.as_ref().map(|wording| WordingDocument {
            file: wording.file.clone(),
            sha256: wording.sha256.clone(),
            provisions: assessment
                .catalog
                .provisions
                .iter()
                .filter(|provision| wording.texts.contains_key(&provision.id))
                .map(|provision| provision.id.clone())
                .collect(),
        }),
        warnings: assessment
            .warnings
            .iter()
            .map(|warning| warning.message.clone())
            .collect(),
    }
}

/// The document of one test case.
fn test_document(
    assessment: &Assessment<'_>,
    test: &provisor_engine::TestResult<'_>,
) -> TestDocument {
    let record = test.record.as_ref();
    TestDocument {
        id: test.case.id.clone(),
        kind: test.case.kind.as_str().to_owned(),
        state: test.state.as_str().to_owned(),
        recorded: record.map(|record| record.verdict.as_str().to_owned()),
        proposed: test
            .proposal
            .as_ref()
            .map(|proposal| proposal.verdict.as_str().to_owned()),
        proposed_by: test
            .proposal
            .iter()
            .flat_map(|proposal| &proposal.findings)
            .map(|&index| assessment.findings[index].id.clone())
            .collect(),
        override_reason: record
            .filter(|_| test.overridden)
            .and_then(|record| record.override_reason.clone()),
        assessor: record.and_then(|record| record.assessor.clone()),
        date: record.and_then(|record| record.date.map(|date| date.to_string())),
        method: record
            .map(|record| record.method.clone())
            .unwrap_or_default(),
        evidence: record
            .map(|record| record.evidence.clone())
            .unwrap_or_default(),
        findings: record
            .map(|record| record.findings.clone())
            .unwrap_or_default(),
        missing_ixit: test.missing_ixit.clone(),
    }
}

/// The verdict list of a document, for `provisor diff`; `None` when a verdict is not
/// one of the five.
pub fn verdicts_of_document(
    document: &AssessmentDocument,
) -> Option<Vec<(String, String, Verdict)>> {
    document
        .provisions
        .iter()
        .map(|provision| {
            Verdict::parse(&provision.verdict)
                .map(|verdict| (provision.id.clone(), provision.status.clone(), verdict))
        })
        .collect()
}
