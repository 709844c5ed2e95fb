//! A release's page: its assessments, and for the manufacturer's editors the form that
//! starts a new one (edition and kind) from the template `provisor init` writes, with
//! the device's fields filled in from the product and release.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use provisor_store::{AssessmentRecord, FileRecord};
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::api::assessments::tree;
use crate::auth::WRITERS;
use crate::judge::judge;
use crate::{ApiError, AppState};

#[derive(Template)]
#[template(path = "release.html")]
struct ReleasePage {
    nav: Nav,
    id: String,
    manufacturer: String,
    product: String,
    model: String,
    version: String,
    support_period_end: Option<String>,
    firmware: Option<String>,
    assessments: Vec<AssessmentRecord>,
    can_write: bool,
    editions: Vec<(String, String)>,
}

/// The editions offered, the current one first.
fn editions() -> Vec<(String, String)> {
    let default = provisor_catalog::default_edition();
    let mut editions = vec![(default.id.clone(), default.short_title.clone())];
    for catalog in provisor_catalog::editions() {
        if catalog.id != default.id {
            editions.push((catalog.id.clone(), catalog.short_title.clone()));
        }
    }
    editions
}

/// The release's page.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let store = state.store();
    let release = store.release(&id).await.map_err(ApiError::from)?;
    let product = store
        .product(&release.product_id)
        .await
        .map_err(ApiError::from)?;
    let caller = &signed.caller;
    let assessments: Vec<AssessmentRecord> = store
        .assessments_of_release(&id)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .filter(|record| caller.assessment_role(record).is_some())
        .collect();
    let member = caller.role_in(&product.organisation_id);
    if member.is_none() && assessments.is_empty() {
        return Err(ApiError::not_found(format!("release {id} not found")).into());
    }
    let manufacturer = store
        .organisation(&product.organisation_id)
        .await
        .map_err(ApiError::from)?;
    Ok(render(&ReleasePage {
        nav: signed.nav("portfolio"),
        id: release.id.clone(),
        manufacturer: manufacturer.name,
        product: product.name,
        model: product.model,
        version: release.version,
        support_period_end: release.support_period_end,
        firmware: release.firmware_name,
        assessments,
        can_write: member.is_some_and(|role| WRITERS.contains(&role)),
        editions: editions(),
    }))
}

/// The form's fields.
#[derive(Debug, Deserialize)]
pub struct StartForm {
    csrf: String,
    edition: String,
    kind: String,
}

/// Starts an assessment of the release and opens its questionnaire.
pub async fn start(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<StartForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let store = state.store();
    let release = store.release(&id).await.map_err(ApiError::from)?;
    let product = store
        .product(&release.product_id)
        .await
        .map_err(ApiError::from)?;
    signed
        .caller
        .require_role(&product.organisation_id, WRITERS, &format!("release {id}"))?;
    let catalog = provisor_catalog::edition(&form.edition).ok_or_else(|| {
        ApiError::invalid(
            format!("there is no edition {:?}", form.edition),
            Vec::new(),
        )
    })?;
    let manufacturer = store
        .organisation(&product.organisation_id)
        .await
        .map_err(ApiError::from)?;
    let device = provisor_engine::Device {
        manufacturer: Some(manufacturer.name),
        model: Some(format!("{} {}", product.name, product.model)),
        firmware_version: Some(release.version.clone()),
        support_period_end: release.support_period_end.clone(),
        ..provisor_engine::Device::default()
    };
    let mut text = provisor_report::assessment_template(catalog, &device, &BTreeMap::new());
    if form.kind == "lab" {
        let edition_line = format!("edition = \"{}\"\n", catalog.id);
        text = text.replacen(&edition_line, &format!("{edition_line}kind = \"lab\"\n"), 1);
    }
    let main_file = "assessment.toml".to_owned();
    let stored = store
        .blobs()
        .put(&product.organisation_id, text.as_bytes())
        .await
        .map_err(ApiError::from)?;
    let files = vec![FileRecord {
        path: main_file.clone(),
        role: "assessment".into(),
        sha256: stored.sha256,
        size: stored.size as i64,
    }];
    let judged = judge(&state, &product.organisation_id, &main_file, &files).await?;
    let record = store
        .create_assessment(
            &signed.caller.actor(),
            &id,
            &tree(
                &judged,
                &main_file,
                files,
                "started in the web pages".to_owned(),
            ),
        )
        .await
        .map_err(ApiError::from)?;
    Ok(see_other(&format!("/assessments/{}/questions", record.id)))
}
