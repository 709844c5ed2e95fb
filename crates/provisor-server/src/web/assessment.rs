//! An assessment's page: the report's view of the current revision, live — the
//! decision, the verdict counts split mandatory and recommended, every provision with
//! its verdict (mandatory failures first), and the reports to download.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use provisor_engine::Verdict;
use provisor_store::Role;
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::api::assessments::{context, issue, judged_revision, visible};
use crate::api::review::record_review;
use crate::auth::{ISSUERS, READERS};
use crate::{ApiError, AppState};

/// One provision's row.
pub struct ProvisionRow {
    id: String,
    status: &'static str,
    verdict: &'static str,
    label: &'static str,
    support: Option<&'static str>,
    text: String,
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "assessment.html")]
struct AssessmentPage {
    nav: Nav,
    id: String,
    release_id: String,
    product: String,
    model: String,
    version: String,
    edition_title: String,
    kind: &'static str,
    revision: i64,
    approved: bool,
    conformant: bool,
    /// The decision in the reports' words.
    decision: String,
    mandatory: provisor_report::CountsDocument,
    recommended: provisor_report::CountsDocument,
    formats: &'static [(&'static str, &'static str)],
    issue_formats: Vec<(&'static str, &'static str)>,
    rows: Vec<ProvisionRow>,
    message: Option<String>,
    notice: Option<String>,
    can_review: bool,
    has_review: bool,
    approved_current: bool,
    can_issue: bool,
    issued: Vec<IssuedRow>,
    history: Vec<HistoryRow>,
    /// The carried statements and test records nobody has confirmed yet.
    /// What waits to be confirmed, each with the page where saving it confirms it.
    unconfirmed: Vec<(String, String)>,
}

/// An issued report in the list.
pub struct IssuedRow {
    id: String,
    format: String,
    revision: i64,
    when: String,
}

/// A revision in the history.
pub struct HistoryRow {
    revision: i64,
    by: String,
    when: String,
    note: String,
}

/// The report formats offered, with their names for people.
const FORMATS: &[(&str, &str)] = &[
    ("html", "HTML"),
    ("pdf", "PDF"),
    ("json", "JSON"),
    ("sarif", "SARIF"),
    ("junit", "JUnit"),
    ("oscal", "OSCAL"),
    ("ics-csv", "ICS (CSV)"),
    ("md", "Markdown"),
];

/// Where a verdict sorts: what needs doing first.
fn urgency(verdict: Verdict, mandatory: bool) -> u8 {
    match (verdict, mandatory) {
        (Verdict::Fail, true) => 0,
        (Verdict::Fail, false) | (Verdict::NotFulfilled, _) => 1,
        (Verdict::Open, _) => 2,
        (Verdict::Pass, _) => 3,
        (Verdict::NotApplicable, _) => 4,
    }
}

/// `?issued=` or `?reviewed=`: what the last form did.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    issued: Option<String>,
    #[serde(default)]
    reviewed: Option<String>,
}

/// The assessment's page.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match (&done.issued, &done.reviewed) {
        (Some(report), _) => Some(format!(
            "Report {report} is issued: it is kept as it is now."
        )),
        (_, Some(decision)) if decision == "approve" => {
            Some("Approved: this revision is locked; a change makes a new revision.".to_owned())
        }
        (_, Some(_)) => Some("Changes are requested.".to_owned()),
        _ => None,
    };
    show(&state, &signed, &id, None, notice).await
}

async fn show(
    state: &AppState,
    signed: &Signed,
    id: &str,
    message: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let record = visible(state, &signed.caller, id, READERS).await?;
    let store = state.store();
    let release = store
        .release(&record.release_id)
        .await
        .map_err(ApiError::from)?;
    let product = store
        .product(&release.product_id)
        .await
        .map_err(ApiError::from)?;
    let judged = judged_revision(state, &record, None).await?;
    let assessment = &judged.assessment;
    let document = provisor_report::document(assessment, &context(&record));
    let mut rows: Vec<(u8, usize, ProvisionRow)> = assessment
        .provisions
        .iter()
        .enumerate()
        .map(|(order, result)| {
            let mandatory = result.provision.status.letter() == "M";
            (
                urgency(result.verdict, mandatory),
                order,
                ProvisionRow {
                    id: result.provision.id.clone(),
                    status: result.provision.status.letter(),
                    verdict: result.verdict.as_str(),
                    label: result.verdict.label(),
                    support: result.statement.as_ref().map(|s| s.support.as_str()),
                    text: result.provision.text.clone(),
                    reason: result.reasons.first().cloned(),
                },
            )
        })
        .collect();
    rows.sort_by_key(|(urgency, order, _)| (*urgency, *order));
    let role = signed.caller.assessment_role(&record);
    let mut names: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut history = Vec::new();
    for revision in store
        .revisions(&record.id)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .rev()
    {
        let by = match names.get(&revision.created_by) {
            Some(name) => name.clone(),
            None => {
                let user = revision.created_by.strip_prefix("user:").or_else(|| {
                    revision
                        .created_by
                        .strip_prefix("token:")
                        .and_then(|rest| rest.split(':').next())
                });
                let name = match user {
                    Some(user) => store
                        .user(user)
                        .await
                        .map_or_else(|_| revision.created_by.clone(), |user| user.display_name),
                    None => revision.created_by.clone(),
                };
                names.insert(revision.created_by.clone(), name.clone());
                name
            }
        };
        history.push(HistoryRow {
            revision: revision.revision,
            by,
            when: super::when(revision.created_at),
            note: revision.note,
        });
    }
    let issued = store
        .reports_of(&record.id)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|report| IssuedRow {
            id: report.id,
            format: report.format,
            revision: report.revision,
            when: super::when(report.issued_at),
        })
        .collect();
    Ok(render(&AssessmentPage {
        nav: signed.nav("portfolio"),
        id: record.id.clone(),
        release_id: record.release_id.clone(),
        product: product.name,
        model: product.model,
        version: release.version,
        edition_title: assessment.catalog.short_title.clone(),
        kind: if record.kind == "lab" {
            "lab assessment"
        } else {
            "self-assessment"
        },
        revision: record.current_revision,
        approved: record.approved_revision.is_some(),
        conformant: assessment.conformant,
        decision: provisor_report::decision_words(
            assessment.conformant,
            assessment.summary.mandatory.fail,
            (
                assessment.summary.mandatory.open,
                assessment.summary.recommended.open,
            ),
        ),
        mandatory: document.summary.mandatory,
        recommended: document.summary.recommended,
        formats: FORMATS,
        issue_formats: std::iter::once(("pdf", "PDF"))
            .chain(
                FORMATS
                    .iter()
                    .copied()
                    .filter(|(format, _)| *format != "pdf"),
            )
            .collect(),
        rows: rows.into_iter().map(|(_, _, row)| row).collect(),
        message,
        notice,
        can_review: role.is_some_and(|role| matches!(role, Role::Admin | Role::Reviewer)),
        has_review: judged.file.review.is_some(),
        approved_current: record.approved_revision == Some(record.current_revision),
        can_issue: role.is_some_and(|role| ISSUERS.contains(&role)),
        issued,
        history,
        unconfirmed: assessment
            .unconfirmed()
            .into_iter()
            .map(|id| {
                let href = if let Some(condition) = id.strip_prefix("condition ") {
                    let at = assessment
                        .conditions
                        .iter()
                        .position(|state| state.condition.id.as_str() == condition);
                    at.map(|at| format!("/assessments/{}/questions?at={}", record.id, at + 1))
                } else {
                    let at = assessment
                        .provisions
                        .iter()
                        .position(|result| result.provision.id == id);
                    Some(match at {
                        Some(at) => format!("/assessments/{}/ics?at={}", record.id, at + 1),
                        None => format!("/assessments/{}/tests", record.id),
                    })
                };
                (id, href.unwrap_or_default())
            })
            .collect(),
    }))
}

/// The review form's fields.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    csrf: String,
    based_on: i64,
    decision: String,
    #[serde(default)]
    report_id: Option<String>,
    #[serde(default)]
    assessor: Option<String>,
}

/// Records the reviewer's decision.
pub async fn review(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let nonempty =
        |text: Option<String>| text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    match record_review(
        &state,
        &signed.caller,
        &id,
        &form.decision,
        nonempty(form.report_id),
        nonempty(form.assessor),
        form.based_on,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/assessments/{id}?reviewed={}",
            super::encode(&form.decision)
        ))),
        Err(error) => match super::refusal(&error) {
            Some((status, message)) => Ok(super::with_status(
                show(&state, &signed, &id, Some(message), None).await?,
                status,
            )),
            None => Err(error.into()),
        },
    }
}

/// The issue form's field.
#[derive(Debug, Deserialize)]
pub struct IssueForm {
    csrf: String,
    format: String,
}

/// Issues a report and says its id.
pub async fn issue_report(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<IssueForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let report = issue(&state, &signed.caller, &id, &form.format).await?;
    Ok(see_other(&format!(
        "/assessments/{id}?issued={}",
        report.id
    )))
}
