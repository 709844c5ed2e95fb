//! The scans of an assessment: upload the release's firmware image (a worker scans it
//! and its findings attach as the next revision), follow the jobs (a small script reads
//! their state from the API; without it the page is loaded again by hand), and triage
//! the failing findings: accept one as a false positive or an accepted risk, with the
//! reason and an expiry, written as `provisor triage --accept` writes it.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use provisor_engine::{AcceptanceKind, Date, FileEdit, Outcome};
use provisor_store::JobsOf;
use serde::Deserialize;

use super::{Nav, PageError, Signed, render, see_other};
use crate::api::assessments::{judged_revision, store_file, visible};
use crate::api::changes::make_changes;
use crate::api::jobs::scan_firmware;
use crate::auth::WRITERS;
use crate::{ApiError, AppState};

/// A job's row.
pub struct JobRow {
    id: String,
    what: String,
    state: String,
    progress: String,
    when: String,
}

/// A failing finding's row.
pub struct FindingRow {
    id: String,
    check: String,
    title: String,
    severity: &'static str,
    place: String,
    provisions: String,
    accepted: Option<String>,
}

#[derive(Template)]
#[template(path = "scans.html")]
struct ScansPage {
    nav: Nav,
    id: String,
    product: String,
    version: String,
    revision: i64,
    can_write: bool,
    jobs: Vec<JobRow>,
    any_running: bool,
    findings: Vec<FindingRow>,
    message: Option<String>,
    /// The addresses and ranges host scans may reach besides loopback.
    targets: Vec<String>,
    /// What the host-scan form was last given (shown again when refused).
    target: String,
    ports: String,
}

async fn show(
    state: &AppState,
    signed: &Signed,
    id: &str,
    message: Option<String>,
) -> Result<Response, PageError> {
    Ok(render(&scans_page(state, signed, id, message).await?))
}

async fn scans_page(
    state: &AppState,
    signed: &Signed,
    id: &str,
    message: Option<String>,
) -> Result<ScansPage, PageError> {
    let super::Shown {
        record,
        release,
        product,
    } = super::shown(state, signed, id).await?;
    let store = state.store();
    let jobs: Vec<JobRow> = store
        .jobs_of(JobsOf::Assessment(&record.id), 50)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|job| JobRow {
            what: match job.kind.as_str() {
                "scan-firmware" => format!(
                    "firmware {}",
                    job.payload["name"].as_str().unwrap_or("image")
                ),
                "scan-host" => format!("host {}", job.payload["target"].as_str().unwrap_or("")),
                other => other.to_owned(),
            },
            state: serde_json::to_value(job.state)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default(),
            progress: job.error.clone().unwrap_or(job.progress.clone()),
            when: super::when(job.created_at),
            id: job.id,
        })
        .collect();
    let judged = judged_revision(state, &record, None).await?;
    let assessment = &judged.assessment;
    let findings = assessment
        .findings
        .iter()
        .enumerate()
        .filter(|(_, finding)| finding.outcome == Outcome::Fail)
        .map(|(index, finding)| FindingRow {
            id: finding.id.clone(),
            check: finding.check.clone(),
            title: finding.title.clone(),
            severity: finding.severity.as_str(),
            place: finding.location.to_string(),
            provisions: finding.provisions.join(", "),
            accepted: assessment.acceptance_of(index).map(|state| {
                let acceptance = &state.acceptance;
                match &acceptance.until {
                    Some(until) => format!(
                        "{} by {}, until {until}: {}",
                        acceptance.kind.as_str(),
                        acceptance.by,
                        acceptance.reason
                    ),
                    None => format!(
                        "{} by {}: {}",
                        acceptance.kind.as_str(),
                        acceptance.by,
                        acceptance.reason
                    ),
                }
            }),
        })
        .collect();
    let can_write = signed.caller.may_write(&record);
    let targets = store
        .scan_targets()
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|target| target.target)
        .collect();
    Ok(ScansPage {
        nav: signed.nav("portfolio"),
        id: record.id.clone(),
        product: format!("{} {}", product.name, product.model),
        version: release.version,
        revision: record.current_revision,
        can_write,
        any_running: jobs
            .iter()
            .any(|job| job.state == "queued" || job.state == "running"),
        jobs,
        findings,
        message,
        targets,
        target: String::new(),
        ports: String::new(),
    })
}

/// The scans page.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    show(&state, &signed, &id, None).await
}

/// Takes the uploaded image (streamed to a temporary file against the server's limit)
/// and queues its scan.
pub async fn upload(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut image: Option<(String, tempfile::NamedTempFile)> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|error| ApiError::bad_request(format!("the form could not be read: {error}")))?
    {
        match field.name().unwrap_or("") {
            "csrf" => csrf = super::text_field(&mut field, 256).await?,
            "image" => {
                let name = field.file_name().unwrap_or("firmware.bin").to_owned();
                let (temporary, _) = super::file_field(&state, &mut field).await?;
                image = Some((name, temporary));
            }
            _ => {}
        }
    }
    super::check_csrf(&signed.caller, &csrf)?;
    let record = visible(&state, &signed.caller, &id, WRITERS).await?;
    let store = state.store();
    let release = store
        .release(&record.release_id)
        .await
        .map_err(ApiError::from)?;
    let product = store
        .product(&release.product_id)
        .await
        .map_err(ApiError::from)?;
    // The image is the release's: the manufacturer's writers record it.
    signed.caller.require_role(
        &product.organisation_id,
        WRITERS,
        &format!("release {}", release.id),
    )?;
    let Some((name, temporary)) = image else {
        return show(
            &state,
            &signed,
            &id,
            Some("Choose the image to scan.".to_owned()),
        )
        .await;
    };
    let name = name
        .rsplit(['/', '\\'])
        .next()
        .filter(|name| !name.is_empty() && !name.chars().any(char::is_control))
        .unwrap_or("firmware.bin")
        .to_owned();
    let blob = store_file(&state, &product.organisation_id, temporary.path()).await?;
    scan_firmware(
        &state,
        &signed.caller,
        &release.id,
        &product.organisation_id,
        &name,
        &blob,
        Some(record.id.clone()),
    )
    .await?;
    Ok(see_other(&format!("/assessments/{id}/scans")))
}

/// The triage form's fields.
#[derive(Debug, Deserialize)]
pub struct TriageForm {
    csrf: String,
    based_on: i64,
    finding: String,
    kind: String,
    reason: String,
    #[serde(default)]
    until: String,
}

/// Accepts a failing finding, as the next revision.
pub async fn triage(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<TriageForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let record = visible(&state, &signed.caller, &id, WRITERS).await?;
    let judged = judged_revision(&state, &record, None).await?;
    let assessment = &judged.assessment;
    let Some((index, finding)) = assessment
        .findings
        .iter()
        .enumerate()
        .find(|(_, finding)| finding.id == form.finding)
    else {
        return show(
            &state,
            &signed,
            &id,
            Some(format!("There is no finding {}.", form.finding)),
        )
        .await;
    };
    if assessment.acceptance_of(index).is_some() {
        return Ok(see_other(&format!("/assessments/{id}/scans")));
    }
    let reason = form.reason.trim();
    if reason.is_empty() {
        return show(
            &state,
            &signed,
            &id,
            Some("Say why the finding does not count.".to_owned()),
        )
        .await;
    }
    let until = match form.until.trim() {
        "" => None,
        text => match Date::parse(text) {
            Some(date) => Some(date),
            None => {
                return show(
                    &state,
                    &signed,
                    &id,
                    Some(format!("{text:?} is not a date: write YYYY-MM-DD.")),
                )
                .await;
            }
        },
    };
    let kind = AcceptanceKind::parse(&form.kind).unwrap_or(AcceptanceKind::FalsePositive);
    let by = signed.caller.user.display_name.clone();
    let entry = provisor_report::acceptance_entry(finding, kind, reason, &by, until);
    let edit = FileEdit::Append {
        subject: format!("acceptance of finding {}", finding.id),
        text: entry,
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
        Ok(_) => Ok(see_other(&format!("/assessments/{id}/scans"))),
        Err(error) => match super::refusal(&error) {
            Some((status, message)) => Ok(super::with_status(
                show(&state, &signed, &id, Some(message)).await?,
                status,
            )),
            None => Err(error.into()),
        },
    }
}

/// The host-scan form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct HostForm {
    csrf: String,
    target: String,
    #[serde(default)]
    ports: String,
}

/// Queues a scan of an allowed host (`api::jobs::host_scan`: loopback, or an address an
/// admin allowed); its findings attach to the assessment. A refused target or port list
/// comes back on the page with the reason.
pub async fn host(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<HostForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let ports = Some(form.ports.trim().to_owned()).filter(|ports| !ports.is_empty());
    let queued = crate::api::jobs::host_scan(
        State(state.clone()),
        signed.caller.clone(),
        Path(id.clone()),
        crate::extract::Json(crate::api::jobs::HostScanRequest {
            target: form.target.trim().to_owned(),
            ports,
        }),
    )
    .await;
    match queued {
        Ok(_) => Ok(see_other(&format!("/assessments/{id}/scans"))),
        Err(error)
            if matches!(
                error.status(),
                StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
            ) =>
        {
            let mut page =
                scans_page(&state, &signed, &id, Some(super::message_of(&error))).await?;
            page.target = form.target;
            page.ports = form.ports;
            Ok(super::with_status(render(&page), error.status()))
        }
        Err(error) => Err(error.into()),
    }
}
