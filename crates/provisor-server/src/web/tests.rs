//! Test cases of a lab assessment (ETSI TS 103 701): per provision that applies, its
//! test cases with their state, what the scans propose, and the assessor's record
//! (confirm a proposal, or override it with a reason), each saved as the next revision.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use provisor_engine::{Applicability, FileEdit, TestEdit, TestState, TestVerdict};
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::AppState;
use crate::api::assessments::{judged_revision, visible};
use crate::api::changes::make_changes;
use crate::auth::WRITERS;
use crate::judge::today;

/// A test case's row.
pub struct CaseRow {
    id: String,
    kind: &'static str,
    state: &'static str,
    proposal: Option<String>,
    recorded: Option<String>,
    suggested: &'static str,
    method: String,
}

/// A provision with its test cases.
pub struct Group {
    provision: String,
    position: usize,
    text: String,
    verdict: &'static str,
    verdict_label: &'static str,
    cases: Vec<CaseRow>,
}

#[derive(Template)]
#[template(path = "tests.html")]
struct TestsPage {
    nav: Nav,
    id: String,
    product: String,
    version: String,
    revision: i64,
    lab: bool,
    can_record: bool,
    total: usize,
    recorded: usize,
    proposed: usize,
    percent: usize,
    groups: Vec<Group>,
    message: Option<String>,
}

async fn show(
    state: &AppState,
    signed: &Signed,
    id: &str,
    message: Option<String>,
) -> Result<Response, PageError> {
    let super::Shown {
        record,
        release,
        product,
    } = super::shown(state, signed, id).await?;
    let judged = judged_revision(state, &record, None).await?;
    let assessment = &judged.assessment;
    let (mut total, mut recorded, mut proposed) = (0, 0, 0);
    let mut groups = Vec::new();
    for (index, result) in assessment.provisions.iter().enumerate() {
        if matches!(result.applicability, Applicability::NotApplicable(_))
            || result.tests.is_empty()
        {
            continue;
        }
        let cases = result
            .tests
            .iter()
            .map(|test| {
                total += 1;
                if test.record.is_some() {
                    recorded += 1;
                }
                if matches!(test.state, TestState::Proposed(_)) {
                    proposed += 1;
                }
                let proposal = test.proposal.as_ref().map(|proposal| {
                    format!(
                        "{} ({} finding{})",
                        proposal.verdict.label(),
                        proposal.findings.len(),
                        if proposal.findings.len() == 1 {
                            ""
                        } else {
                            "s"
                        }
                    )
                });
                let suggested = match (&test.record, &test.proposal) {
                    (Some(record), _) => record.verdict.as_str(),
                    (None, Some(proposal)) => proposal.verdict.as_str(),
                    (None, None) => "",
                };
                CaseRow {
                    id: test.case.id.clone(),
                    kind: test.case.kind.as_str(),
                    state: test.state.as_str(),
                    proposal,
                    recorded: test.record.as_ref().map(|record| {
                        format!(
                            "{} by {}{}",
                            record.verdict.label(),
                            record.assessor.as_deref().unwrap_or("?"),
                            record
                                .date
                                .map(|date| format!(" on {date}"))
                                .unwrap_or_default()
                        )
                    }),
                    suggested,
                    method: test
                        .record
                        .as_ref()
                        .map(|record| record.method.clone())
                        .unwrap_or_default(),
                }
            })
            .collect();
        groups.push(Group {
            provision: result.provision.id.clone(),
            position: index + 1,
            text: result.provision.text.clone(),
            verdict: result.verdict.as_str(),
            verdict_label: result.verdict.label(),
            cases,
        });
    }
    let lab = record.kind == "lab";
    let can_record = lab && signed.caller.may_write(&record);
    Ok(render(&TestsPage {
        nav: signed.nav("portfolio"),
        id: record.id.clone(),
        product: format!("{} {}", product.name, product.model),
        version: release.version,
        revision: record.current_revision,
        lab,
        can_record,
        total,
        recorded,
        proposed,
        percent: (recorded * 20).checked_div(total).unwrap_or(20) * 5,
        groups,
        message,
    }))
}

/// The test cases page.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    show(&state, &signed, &id, None).await
}

/// A record's fields.
#[derive(Debug, Deserialize)]
pub struct RecordForm {
    csrf: String,
    based_on: i64,
    case: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    method: String,
    #[serde(default, rename = "override")]
    override_reason: String,
}

/// Records a test case's verdict (the assessor is the person signed in; the date is
/// today), with the findings the scans proposed it from.
pub async fn save(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<RecordForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let record = visible(&state, &signed.caller, &id, WRITERS).await?;
    if TestVerdict::parse(&form.verdict).is_none() {
        return show(&state, &signed, &id, Some("Choose a verdict.".to_owned())).await;
    }
    let judged = judged_revision(&state, &record, None).await?;
    let assessment = &judged.assessment;
    let proposal = assessment
        .provisions
        .iter()
        .flat_map(|result| result.tests.iter())
        .find(|test| test.case.id == form.case)
        .and_then(|test| test.proposal.as_ref());
    let findings = proposal
        .map(|proposal| {
            proposal
                .findings
                .iter()
                .map(|&index| assessment.findings[index].id.clone())
                .collect()
        })
        .unwrap_or_default();
    let override_reason = Some(form.override_reason.trim().to_owned()).filter(|r| !r.is_empty());
    let edit = FileEdit::Test {
        id: form.case.clone(),
        record: Some(TestEdit {
            verdict: form.verdict.clone(),
            assessor: Some(signed.caller.user.display_name.clone()),
            date: Some(today().to_string()),
            method: form.method.trim().to_owned(),
            evidence: Vec::new(),
            findings,
            override_reason,
        }),
    };
    match make_changes(
        &state,
        &signed.caller,
        &record,
        form.based_on,
        vec![edit],
        Vec::new(),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/assessments/{id}/tests"))),
        Err(error) => match super::refusal(&error) {
            Some((status, message)) => Ok(super::with_status(
                show(&state, &signed, &id, Some(message)).await?,
                status,
            )),
            None => Err(error.into()),
        },
    }
}
