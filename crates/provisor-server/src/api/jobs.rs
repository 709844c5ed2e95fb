//! Scans as jobs: a firmware image uploaded to a release is scanned; a host scan runs
//! against a target an admin allowed (loopback is always allowed). Jobs are read back
//! with their state and progress; results attach to the assessment named.

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use provisor_store::{Job, JobsOf, NewJob, Priority, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::assessments::{receive_blob, visible};
use super::portfolio::ReleaseView;
use crate::auth::{Caller, READERS, WRITERS};
use crate::cidr::Cidr;
use crate::extract::{Json, Query};
use crate::{ApiError, AppState, ProblemPlace};

/// A job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// The id.
    pub id: String,
    /// scan-firmware or scan-host.
    pub kind: String,
    /// What it works on.
    pub subject: String,
    /// queued (also while a failed attempt waits to be retried), running, done, or dead
    /// (given up after its attempts, with the last error).
    pub state: String,
    /// What the worker last said.
    pub progress: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// What it produced (the findings' hash and counts, where they were attached).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Who asked for it.
    pub created_by: String,
    /// When (ms since the epoch).
    pub created_at: i64,
    /// When it ended.
    pub finished_at: Option<i64>,
}

impl From<&Job> for JobView {
    fn from(job: &Job) -> JobView {
        JobView {
            id: job.id.clone(),
            kind: job.kind.clone(),
            subject: job.subject.clone(),
            state: serde_json::to_value(job.state)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default(),
            progress: job.progress.clone(),
            attempts: job.attempts,
            error: job.error.clone(),
            result: job.result.clone(),
            created_by: job.created_by.clone(),
            created_at: job.created_at,
            finished_at: job.finished_at,
        }
    }
}

/// A firmware image's name and the assessment its scan attaches to.
#[derive(Debug, Deserialize, IntoParams)]
pub struct FirmwareQuery {
    /// The image's file name (fw-3.2.1.bin).
    pub name: String,
    /// The assessment whose next revision gets the findings (none: the findings stay
    /// with the job).
    pub assessment: Option<String>,
}

/// An upload and the job it started.
#[derive(Debug, Serialize, ToSchema)]
pub struct FirmwareUploaded {
    /// The release, its image recorded.
    pub release: ReleaseView,
    /// The scan queued.
    pub job: JobView,
}

/// Uploads a release's firmware image (streamed to disk, never held in memory) and
/// queues its scan.
#[utoipa::path(put, path = "/api/v1/releases/{id}/firmware", tag = "jobs",
    params(("id" = String, Path), FirmwareQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 202, body = FirmwareUploaded), (status = 413, body = crate::Problem, content_type = "application/problem+json")))]
pub async fn upload_firmware(
    State(state): State<AppState>,
    caller: Caller,
    Path(release): Path<String>,
    Query(query): Query<FirmwareQuery>,
    body: Body,
) -> Result<(StatusCode, axum::Json<FirmwareUploaded>), ApiError> {
    let record = state.store().release(&release).await?;
    let product = state.store().product(&record.product_id).await?;
    caller.require_role(
        &product.organisation_id,
        WRITERS,
        &format!("release {release}"),
    )?;
    caller.require_scope(provisor_store::Scope::Scan)?;
    let name = query.name.trim();
    if name.is_empty()
        || name.len() > 255
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(
            "the image needs a plain file name",
            vec![ProblemPlace {
                location: "name".into(),
                message: format!("\"{}\" is not one", name.escape_debug()),
            }],
        ));
    }
    if let Some(assessment) = &query.assessment {
        let target = visible(&state, &caller, assessment, WRITERS).await?;
        if target.release_id != release {
            return Err(ApiError::invalid(
                format!("assessment {assessment} is of another release"),
                Vec::new(),
            ));
        }
    }
    let blob = receive_blob(&state, &product.organisation_id, body).await?;
    let (updated, job) = scan_firmware(
        &state,
        &caller,
        &release,
        &product.organisation_id,
        name,
        &blob,
        query.assessment.clone(),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(FirmwareUploaded {
            release: ReleaseView::from(&updated),
            job: JobView::from(&job),
        }),
    ))
}

/// A host scan to run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostScanRequest {
    /// The device's address (an allowed target).
    pub target: String,
    /// Ports, as `provisor scan host --ports` takes them (top when absent).
    #[serde(default)]
    pub ports: Option<String>,
}

fn allowed(target: IpAddr, ranges: &[Cidr]) -> bool {
    target.is_loopback() || ranges.iter().any(|range| range.contains(target))
}

/// Queues a scan of a host whose findings attach to the assessment. The target must
/// be loopback or allowed by an admin (GET /api/v1/scan-targets).
#[utoipa::path(post, path = "/api/v1/assessments/{id}/host-scans", tag = "jobs", params(("id" = String, Path)),
    request_body = HostScanRequest,
    responses((status = 202, body = JobView), (status = 403, description = "the target is not allowed", body = crate::Problem, content_type = "application/problem+json")))]
pub async fn host_scan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<HostScanRequest>,
) -> Result<(StatusCode, axum::Json<JobView>), ApiError> {
    let record = visible(
        &state,
        &caller,
        &id,
        &[Role::Admin, Role::Editor, Role::Assessor],
    )
    .await?;
    caller.require_scope(provisor_store::Scope::Scan)?;
    let target: IpAddr = request.target.trim().parse().map_err(|_| {
        ApiError::invalid(
            "the target must be an IP address",
            vec![ProblemPlace {
                location: "/target".into(),
                message: format!("\"{}\" is not one", request.target),
            }],
        )
    })?;
    let ranges: Vec<Cidr> = state
        .store()
        .scan_targets()
        .await?
        .iter()
        .filter_map(|allowed| allowed.target.parse().ok())
        .collect();
    if !allowed(target, &ranges) {
        return Err(ApiError::forbidden(format!(
            "{target} is not an allowed scan target: a server admin allows it first (POST /api/v1/scan-targets), recording who authorised the scan"
        )));
    }
    if let Some(ports) = &request.ports {
        provisor_net::PortSpec::parse(ports).map_err(|error| {
            ApiError::invalid(
                "the ports cannot be read",
                vec![ProblemPlace {
                    location: "/ports".into(),
                    message: error.to_string(),
                }],
            )
        })?;
    }
    let job = state
        .store()
        .enqueue(
            &caller.actor(),
            &NewJob {
                kind: "scan-host".into(),
                organisation_id: record.organisation_id.clone(),
                subject: id.clone(),
                assessment_id: Some(id.clone()),
                payload: serde_json::json!({"target": target.to_string(), "ports": request.ports, "assessment": id}),
                max_attempts: 1,
                priority: Priority::Request,
                // One scan of a device at a time: two would double its credential tests.
                device: Some(target.to_string()),
                timeout_ms: crate::worker::timeout_ms("scan-host"),
            },
        )
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(JobView::from(&job))))
}

/// Whether the caller may see a job: a member of the organisation it works for, or
/// one who may read the assessment its results attach to (a lab's assessor sees the
/// scans of an assessment the lab is assigned).
async fn job_visible(state: &AppState, caller: &Caller, job: &Job) -> bool {
    if caller.role_in(&job.organisation_id).is_some() {
        return true;
    }
    match &job.assessment_id {
        Some(assessment) => visible(state, caller, assessment, READERS).await.is_ok(),
        None => false,
    }
}

/// A job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)), responses((status = 200, body = JobView)))]
pub async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<JobView>, ApiError> {
    let job = state.store().job(&id).await?;
    if !job_visible(&state, &caller, &job).await {
        return Err(ApiError::not_found(format!("job {id} not found")));
    }
    Ok(axum::Json(JobView::from(&job)))
}

/// Which jobs to list: those of a release or those of an assessment.
#[derive(Debug, Deserialize, IntoParams)]
pub struct JobsQuery {
    /// The release whose firmware scans to list.
    pub release: Option<String>,
    /// The assessment whose scans (firmware and host) to list.
    pub assessment: Option<String>,
    /// At most this many, newest first (1 to 1000; 100 when absent).
    pub limit: Option<i64>,
}

/// The jobs of a release or of an assessment, newest first, that the caller may see.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobsQuery), responses((status = 200, body = Vec<JobView>)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<JobsQuery>,
) -> Result<axum::Json<Vec<JobView>>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid(
            format!("limit {limit} is not between 1 and 1000"),
            vec![ProblemPlace {
                location: "limit".into(),
                message: "give a number of jobs from 1 to 1000".into(),
            }],
        ));
    }
    let jobs = match (&query.release, &query.assessment) {
        (Some(release), None) => {
            // Not found rather than empty when the caller cannot see the release.
            let record = state.store().release(release).await?;
            let product = state.store().product(&record.product_id).await?;
            let assessments = state.store().assessments_of_release(release).await?;
            if caller.role_in(&product.organisation_id).is_none()
                && !assessments
                    .iter()
                    .any(|record| caller.assessment_role(record).is_some())
            {
                return Err(ApiError::not_found(format!("release {release} not found")));
            }
            state
                .store()
                .jobs_of(JobsOf::Subject(release), limit)
                .await?
        }
        (None, Some(assessment)) => {
            visible(&state, &caller, assessment, READERS).await?;
            state
                .store()
                .jobs_of(JobsOf::Assessment(assessment), limit)
                .await?
        }
        _ => {
            return Err(ApiError::invalid(
                "name either a release or an assessment",
                vec![ProblemPlace {
                    location: "query string".into(),
                    message: "give `release=` or `assessment=`, one of them".into(),
                }],
            ));
        }
    };
    let mut shown = Vec::with_capacity(jobs.len());
    for job in &jobs {
        if job_visible(&state, &caller, job).await {
            shown.push(JobView::from(job));
        }
    }
    Ok(axum::Json(shown))
}

/// A target an admin allows.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRequest {
    /// An address or CIDR range.
    pub target: String,
    /// The authorisation: the device, the engagement, the owner's consent.
    pub note: String,
}

/// A target allowed, with who and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetView {
    /// An address or CIDR range.
    pub target: String,
    /// Who allowed it.
    pub allowed_by: String,
    /// When (ms since the epoch).
    pub allowed_at: i64,
    /// The authorisation.
    pub note: String,
}

/// The scan targets allowed besides loopback (server admins).
#[utoipa::path(get, path = "/api/v1/scan-targets", tag = "jobs", responses((status = 200, body = Vec<TargetView>)))]
pub async fn list_targets(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<TargetView>>, ApiError> {
    caller.require_server_admin()?;
    let targets = state.store().scan_targets().await?;
    Ok(axum::Json(
        targets
            .into_iter()
            .map(|target| TargetView {
                target: target.target,
                allowed_by: target.allowed_by,
                allowed_at: target.allowed_at,
                note: target.note,
            })
            .collect(),
    ))
}

/// Allows scans of a target, recording who authorised them and why (server admins).
#[utoipa::path(post, path = "/api/v1/scan-targets", tag = "jobs", request_body = TargetRequest, responses((status = 201, body = TargetView)))]
pub async fn allow_target(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<TargetRequest>,
) -> Result<(StatusCode, axum::Json<TargetView>), ApiError> {
    caller.require_server_admin()?;
    let range: Cidr = request.target.parse().map_err(|error: String| {
        ApiError::invalid(
            "the target cannot be read",
            vec![ProblemPlace {
                location: "/target".into(),
                message: error,
            }],
        )
    })?;
    if request.note.trim().is_empty() {
        return Err(ApiError::invalid(
            "say what authorises the scans",
            vec![ProblemPlace {
                location: "/note".into(),
                message: "the note is empty".into(),
            }],
        ));
    }
    let target = state
        .store()
        .allow_target(&caller.actor(), &range.to_string(), &request.note)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TargetView {
            target: target.target,
            allowed_by: target.allowed_by,
            allowed_at: target.allowed_at,
            note: target.note,
        }),
    ))
}

/// Withdraws a target (server admins); `target` is the range as listed, `/` written `_`.
#[utoipa::path(delete, path = "/api/v1/scan-targets/{target}", tag = "jobs", params(("target" = String, Path)), responses((status = 204)))]
pub async fn revoke_target(
    State(state): State<AppState>,
    caller: Caller,
    Path(target): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_server_admin()?;
    state
        .store()
        .revoke_target(&caller.actor(), &target.replace('_', "/"))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records a stored image as the release's firmware and queues its scan, whose findings
/// attach to `assessment` (the API's upload and the scans page share it).
pub(crate) async fn scan_firmware(
    state: &AppState,
    caller: &Caller,
    release: &str,
    organisation: &str,
    name: &str,
    blob: &provisor_store::StoredBlob,
    assessment: Option<String>,
) -> Result<(provisor_store::Release, Job), ApiError> {
    let updated = state
        .store()
        .set_release_firmware(
            &caller.actor(),
            release,
            name,
            &blob.sha256,
            blob.size as i64,
        )
        .await?;
    let job = state
        .store()
        .enqueue(
            &caller.actor(),
            &NewJob {
                kind: "scan-firmware".into(),
                organisation_id: organisation.to_owned(),
                subject: release.to_owned(),
                assessment_id: assessment.clone(),
                payload: serde_json::json!({"release": release, "sha256": blob.sha256, "name": name, "assessment": assessment}),
                max_attempts: 2,
                priority: Priority::Request,
                device: None,
                timeout_ms: crate::worker::timeout_ms("scan-firmware"),
            },
        )
        .await?;
    Ok((updated, job))
}
