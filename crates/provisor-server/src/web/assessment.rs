//! An assessment's page: the report's view of the current revision, live — the
//! decision, the verdict counts split mandatory and recommended, every provision with
//! its verdict (mandatory failures first), and the reports to download.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use provisor_engine::Verdict;

use super::{Nav, PageError, Signed, render};
use crate::api::assessments::{context, judged_revision, visible};
use crate::auth::READERS;
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
    mandatory: provisor_report::CountsDocument,
    recommended: provisor_report::CountsDocument,
    formats: &'static [(&'static str, &'static str)],
    rows: Vec<ProvisionRow>,
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

/// The assessment's page.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let record = visible(&state, &signed.caller, &id, READERS).await?;
    let store = state.store();
    let release = store
        .release(&record.release_id)
        .await
        .map_err(ApiError::from)?;
    let product = store
        .product(&release.product_id)
        .await
        .map_err(ApiError::from)?;
    let judged = judged_revision(&state, &record, None).await?;
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
        mandatory: document.summary.mandatory,
        recommended: document.summary.recommended,
        formats: FORMATS,
        rows: rows.into_iter().map(|(_, _, row)| row).collect(),
    }))
}
