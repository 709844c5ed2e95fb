//! An assessment compared with another of the same product: another release's, or
//! another edition's (rows matched by the newer edition's migration map), as `provisor
//! diff` compares two files: every provision whose verdict changed, regressions first,
//! and conformance before and after.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use provisor_engine::{Assessment, Verdict};
use serde::Deserialize;

use super::{Nav, PageError, Signed, render};
use crate::api::assessments::{judged_revision, visible};
use crate::auth::READERS;
use crate::{ApiError, AppState};

/// Another assessment of the product to compare with.
struct Choice {
    id: String,
    label: String,
    selected: bool,
}

/// A changed row.
struct Row {
    provision: String,
    previous: Option<String>,
    status: String,
    before: Option<(&'static str, &'static str)>,
    after: Option<(&'static str, &'static str)>,
    regression: bool,
}

#[derive(Template)]
#[template(path = "diff.html")]
struct DiffPage {
    nav: Nav,
    id: String,
    product: String,
    version: String,
    edition: String,
    choices: Vec<Choice>,
    other: Option<String>,
    other_label: String,
    rows: Vec<Row>,
    regressions: usize,
    conformant: (bool, bool),
    across_editions: bool,
}

/// `?with=`: the assessment to compare with.
#[derive(Debug, Default, Deserialize)]
pub struct With {
    #[serde(default)]
    with: String,
}

fn verdicts(assessment: &Assessment<'_>) -> Vec<(String, String, Verdict)> {
    assessment
        .provisions
        .iter()
        .map(|result| {
            (
                result.provision.id.clone(),
                result.provision.status.letter().to_owned(),
                result.verdict,
            )
        })
        .collect()
}

/// The comparison page: the other assessments of the product to choose from, and the
/// changes from the chosen one to this one.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(with): Query<With>,
) -> Result<Response, PageError> {
    let super::Shown {
        record,
        release,
        product,
    } = super::shown(&state, &signed, &id).await?;
    let store = state.store();
    // Every other assessment of the product the person may read.
    let choices: Vec<Choice> =
        super::product_assessments(&state, &signed.caller, &product.id, |other| {
            other.id == record.id
        })
        .await?
        .into_iter()
        .map(|(other, label)| Choice {
            selected: other.id == with.with,
            id: other.id,
            label,
        })
        .collect();
    let mut page = DiffPage {
        nav: signed.nav("portfolio"),
        id: record.id.clone(),
        product: format!("{} {}", product.name, product.model),
        version: release.version.clone(),
        edition: super::edition_title(&record.edition),
        other: None,
        other_label: String::new(),
        rows: Vec::new(),
        regressions: 0,
        conformant: (false, false),
        across_editions: false,
        choices,
    };
    if !with.with.is_empty() {
        // Only an assessment of the same product, and one the person may read.
        let other = visible(&state, &signed.caller, &with.with, READERS).await?;
        let other_release = store
            .release(&other.release_id)
            .await
            .map_err(ApiError::from)?;
        if other_release.product_id != product.id {
            return Err(ApiError::not_found(format!(
                "assessment {} is not one of {}'s",
                with.with, product.name
            ))
            .into());
        }
        let before = judged_revision(&state, &other, None).await?;
        let after = judged_revision(&state, &record, None).await?;
        let diff = provisor_engine::diff_editions(
            &verdicts(&before.assessment),
            &before.assessment.catalog.id,
            &verdicts(&after.assessment),
            &after.assessment.catalog.id,
            (before.assessment.conformant, after.assessment.conformant),
        );
        page.regressions = diff
            .changes
            .iter()
            .filter(|change| change.is_regression())
            .count();
        page.rows = diff
            .changes
            .iter()
            .map(|change| Row {
                provision: change.provision.clone(),
                previous: change.previous.clone(),
                status: change.status.clone(),
                before: change
                    .before
                    .map(|verdict| (verdict.as_str(), verdict.label())),
                after: change
                    .after
                    .map(|verdict| (verdict.as_str(), verdict.label())),
                regression: change.is_regression(),
            })
            .collect();
        page.conformant = diff.conformant;
        page.across_editions = before.assessment.catalog.id != after.assessment.catalog.id;
        page.other_label = page
            .choices
            .iter()
            .find(|choice| choice.id == other.id)
            .map(|choice| choice.label.clone())
            .unwrap_or_else(|| other_release.version.clone());
        page.other = Some(other.id);
    }
    Ok(render(&page))
}
