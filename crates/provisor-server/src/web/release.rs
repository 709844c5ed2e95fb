//! A release's page: its assessments, and for the manufacturer's editors the forms that
//! start a new one (edition and kind) from the template `provisor init` writes, with
//! the device's fields filled in from the product and release, carry an earlier
//! release's forward, and add the product's next firmware release. Its monitored
//! vulnerabilities, each with the decision that holds for it and, for the
//! manufacturer's admins and editors, a form to decide (in CycloneDX's VEX words) or to
//! confirm a decision carried from an earlier release.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use provisor_store::{AssessmentRecord, FileRecord};
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::api::assessments::tree;
use crate::auth::{DECIDERS, WRITERS};
use crate::judge::judge;
use crate::{ApiError, AppState};
use provisor_store::{Decision, Origin};

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
    /// The assessments of the product's earlier releases the person may read, newest
    /// first: id and label.
    earlier: Vec<(String, String)>,
    /// Why the last form was refused.
    message: Option<String>,
    /// The next release's fields as typed (or proposed: the support period's end).
    next_version: String,
    next_support: String,
    /// How many components the release's SBOM holds; none before its firmware scan.
    sbom_components: Option<usize>,
    /// Its vulnerabilities as monitoring found them: open ones first.
    vulnerabilities: Vec<provisor_store::ReleaseVulnerability>,
    /// Whether the person may decide about them (the manufacturer's admins, editors).
    can_decide: bool,
    /// CycloneDX's analysis states and justifications, for the decision form.
    states: Vec<&'static str>,
    justifications: Vec<&'static str>,
}

impl ReleasePage {
    /// The open vulnerabilities.
    fn open(&self) -> impl Iterator<Item = &provisor_store::ReleaseVulnerability> {
        self.vulnerabilities
            .iter()
            .filter(|found| found.state == "open")
    }

    /// How many were retracted.
    fn retracted(&self) -> usize {
        self.counted("retracted")
    }

    /// How many upstream matches the Debian revisions shipped settle.
    fn backported(&self) -> usize {
        self.counted("backported")
    }

    fn counted(&self, state: &str) -> usize {
        self.vulnerabilities
            .iter()
            .filter(|found| found.state == state)
            .count()
    }

    /// How many open ones have a decision carried from an earlier release, to confirm.
    fn to_confirm(&self) -> usize {
        self.open()
            .filter(|found| found.analysis.as_ref().is_some_and(|held| held.carried))
            .count()
    }
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
    show(&state, &signed, &id, None, None).await
}

/// The page; with why a form was refused (answered 422), and the refused
/// next-release form's fields when it was that one.
async fn show(
    state: &AppState,
    signed: &Signed,
    id: &str,
    next_form: Option<&NextForm>,
    refused: Option<String>,
) -> Result<Response, PageError> {
    let store = state.store();
    let release = store.release(id).await.map_err(ApiError::from)?;
    let product = store
        .product(&release.product_id)
        .await
        .map_err(ApiError::from)?;
    let caller = &signed.caller;
    let assessments: Vec<AssessmentRecord> = store
        .assessments_of_release(id)
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
    let earlier = super::product_assessments(state, caller, &product.id, |record| {
        record.release_id == release.id
    })
    .await?
    .into_iter()
    .map(|(record, label)| (record.id, label))
    .collect();
    let refused_status = refused.is_some();
    let message = refused;
    let (next_version, next_support) = match next_form {
        Some(form) => (form.version.clone(), form.support_period_end.clone()),
        None => (
            String::new(),
            release.support_period_end.clone().unwrap_or_default(),
        ),
    };
    let sbom_components = store
        .release_sbom(id)
        .await
        .map_err(ApiError::from)?
        .map(|sbom| sbom.components.len());
    let vulnerabilities = store
        .release_vulnerabilities(id)
        .await
        .map_err(ApiError::from)?;
    let page = render(&ReleasePage {
        sbom_components,
        vulnerabilities,
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
        can_decide: member.is_some_and(|role| DECIDERS.contains(&role)),
        states: provisor_store::STATES.to_vec(),
        justifications: provisor_store::JUSTIFICATIONS.to_vec(),
        editions: editions(),
        earlier,
        message,
        next_version,
        next_support,
    });
    Ok(if refused_status {
        super::with_status(page, axum::http::StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        page
    })
}

/// The release `id` and its product, if the person may start its assessments.
async fn writable(
    state: &AppState,
    signed: &Signed,
    id: &str,
) -> Result<(provisor_store::Release, provisor_store::Product), PageError> {
    held_by(state, signed, id, WRITERS).await
}

/// The release `id` and its product, if the person holds one of `roles` in its
/// manufacturer.
async fn held_by(
    state: &AppState,
    signed: &Signed,
    id: &str,
    roles: &[provisor_store::Role],
) -> Result<(provisor_store::Release, provisor_store::Product), PageError> {
    let store = state.store();
    let release = store.release(id).await.map_err(ApiError::from)?;
    let product = store
        .product(&release.product_id)
        .await
        .map_err(ApiError::from)?;
    signed
        .caller
        .require_role(&product.organisation_id, roles, &format!("release {id}"))?;
    Ok((release, product))
}

/// A new assessment's first revision: its assessment file among other files.
struct FirstRevision<'a> {
    main_file: &'a str,
    text: &'a str,
    files: Vec<FileRecord>,
    note: String,
}

/// Stores the assessment file among the other files, judges the tree and makes it the
/// release's new assessment.
async fn create(
    state: &AppState,
    signed: &Signed,
    release: &str,
    organisation: &str,
    first: FirstRevision<'_>,
) -> Result<AssessmentRecord, PageError> {
    let FirstRevision {
        main_file,
        text,
        mut files,
        note,
    } = first;
    let store = state.store();
    let stored = store
        .blobs()
        .put(organisation, text.as_bytes())
        .await
        .map_err(ApiError::from)?;
    files.retain(|file| file.path != main_file);
    files.push(FileRecord {
        path: main_file.to_owned(),
        role: "assessment".into(),
        sha256: stored.sha256,
        size: stored.size as i64,
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let judged = judge(state, organisation, main_file, &files).await?;
    Ok(store
        .create_assessment(
            &signed.caller.actor(),
            release,
            &tree(&judged, main_file, files, note),
        )
        .await
        .map_err(ApiError::from)?)
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
    let (release, product) = writable(&state, &signed, &id).await?;
    let store = state.store();
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
    let record = create(
        &state,
        &signed,
        &id,
        &product.organisation_id,
        FirstRevision {
            main_file: "assessment.toml",
            text: &text,
            files: Vec::new(),
            note: "started in the web pages".to_owned(),
        },
    )
    .await?;
    Ok(see_other(&format!("/assessments/{}/questions", record.id)))
}

/// The carry form's fields.
#[derive(Debug, Deserialize)]
pub struct CarryForm {
    csrf: String,
    from: String,
}

/// Starts the release's assessment from an earlier release's (`provisor_engine::
/// carry_forward`): its files but the scans, the firmware version set, every answer,
/// statement and test record marked to confirm; opens the new assessment.
pub async fn carry(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<CarryForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let (release, product) = writable(&state, &signed, &id).await?;
    let store = state.store();
    let source =
        crate::api::assessments::visible(&state, &signed.caller, &form.from, crate::auth::READERS)
            .await?;
    let source_release = store
        .release(&source.release_id)
        .await
        .map_err(ApiError::from)?;
    if source_release.product_id != product.id || source_release.id == release.id {
        return Err(ApiError::not_found(format!(
            "assessment {} is not one of an earlier release of {}",
            form.from, product.name
        ))
        .into());
    }
    let files = store
        .files(&source.id, source.current_revision)
        .await
        .map_err(ApiError::from)?;
    let main = files
        .iter()
        .find(|file| file.path == source.main_file)
        .ok_or_else(|| ApiError::internal("the revision lacks its assessment file"))?;
    let text = String::from_utf8(
        store
            .blobs()
            .read(&source.organisation_id, &main.sha256)
            .await
            .map_err(ApiError::from)?,
    )
    .map_err(|_| {
        ApiError::invalid(
            format!("{} is not UTF-8 text", source.main_file),
            Vec::new(),
        )
    })?;
    let carried = provisor_engine::carry_forward(&text, &release.version)
        .map_err(|message| ApiError::invalid(message, Vec::new()))?;
    let kept = files
        .into_iter()
        .filter(|file| file.role != "scan")
        .collect();
    let note = format!(
        "carried from {} (release {}): {} answers, {} statements and {} test records to confirm, {} scans left behind",
        source.id,
        source_release.version,
        carried.answers,
        carried.statements,
        carried.tests,
        carried.scans
    );
    let record = create(
        &state,
        &signed,
        &id,
        &product.organisation_id,
        FirstRevision {
            main_file: &source.main_file,
            text: &carried.text,
            files: kept,
            note,
        },
    )
    .await?;
    Ok(see_other(&format!("/assessments/{}", record.id)))
}

/// The next-release form's fields.
#[derive(Debug, Deserialize)]
pub struct NextForm {
    csrf: String,
    version: String,
    #[serde(default)]
    support_period_end: String,
}

/// Adds the product's next firmware release (its editors) and opens it, where the
/// earlier releases' assessments are offered to carry forward. A missing or taken
/// version or a date that is not one is said on the release's page, the fields kept.
pub async fn next(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<NextForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let (_, product) = writable(&state, &signed, &id).await?;
    let version = form.version.trim().to_owned();
    let support = Some(form.support_period_end.trim().to_owned()).filter(|end| !end.is_empty());
    if version.is_empty() {
        let message = "Give the new release's firmware version.".to_owned();
        return show(&state, &signed, &id, Some(&form), Some(message)).await;
    }
    if let Some(end) = &support
        && provisor_engine::Date::parse(end).is_none()
    {
        let message = format!("{end:?} is not a date: write YYYY-MM-DD.");
        return show(&state, &signed, &id, Some(&form), Some(message)).await;
    }
    let created = state
        .store()
        .create_release(
            &signed.caller.actor(),
            &product.id,
            &provisor_store::NewRelease {
                version,
                support_period_end: support,
            },
        )
        .await;
    match created {
        Ok(release) => Ok(see_other(&format!("/releases/{}", release.id))),
        Err(
            provisor_store::StoreError::Conflict(message)
            | provisor_store::StoreError::Invalid(message),
        ) => show(&state, &signed, &id, Some(&form), Some(message)).await,
        Err(error) => Err(ApiError::from(error).into()),
    }
}

/// The decision form's fields: `confirm` a carried decision, or `decide`.
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    csrf: String,
    action: String,
    component: String,
    vulnerability: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    detail: String,
}

/// Records a decision about one of the release's vulnerabilities, or confirms the one
/// carried from an earlier release (the manufacturer's admins and editors); back to the
/// release's page, where a refused decision says why.
pub async fn decide(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    held_by(&state, &signed, &id, DECIDERS).await?;
    let store = state.store();
    let actor = signed.caller.actor();
    match form.action.as_str() {
        "confirm" => {
            store
                .confirm_analyses(
                    &actor,
                    &id,
                    Some((form.component.as_str(), form.vulnerability.as_str())),
                )
                .await
                .map_err(ApiError::from)?;
        }
        "decide" => {
            let decision = Decision {
                state: form.state,
                justification: Some(form.justification).filter(|text| !text.is_empty()),
                response: Vec::new(),
                detail: form.detail.trim().to_owned(),
            };
            if let Err(reason) = decision.check() {
                let message = format!(
                    "The decision about {} in {} was not saved: {reason}.",
                    form.vulnerability, form.component
                );
                return show(&state, &signed, &id, None, Some(message)).await;
            }
            store
                .set_analysis(
                    &actor,
                    &id,
                    &form.component,
                    &form.vulnerability,
                    &decision,
                    Origin::Person,
                )
                .await
                .map_err(ApiError::from)?;
        }
        other => {
            return Err(ApiError::invalid(
                format!("\"{other}\" is neither confirm nor decide"),
                Vec::new(),
            )
            .into());
        }
    }
    Ok(see_other(&format!("/releases/{id}#monitoring")))
}
