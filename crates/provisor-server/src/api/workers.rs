//! The API of workers on other machines (`provisor worker --server URL`): claim a job,
//! renew its lease, fetch its firmware image and the advisory database, and complete
//! it. Every call after the claim names the claim (the worker's id and the lock version
//! the claim returned); a claim that is no longer current (its lease ran out and the job
//! was taken back) is refused with 409, so a worker that lost its lease can neither
//! renew it nor save a result (fencing). Only an API token with the work scope, of a
//! server admin, calls these.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use provisor_store::{Claim, Job, JobState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::WorkerCaller;
use crate::extract::{Json, Query};
use crate::worker::{KINDS, Outcome, SCHEDULED_IN_FLIGHT};
use crate::{ApiError, AppState, ProblemPlace};

/// The largest findings file a worker sends.
pub const MAX_FINDINGS: usize = 64 << 20;

/// A worker asking for a job.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClaimRequest {
    /// The worker's id (`host:pid`), which its later calls repeat.
    pub worker: String,
    /// The kinds it runs (default: every kind).
    pub kinds: Option<Vec<String>>,
    /// How long its lease lasts without a heartbeat, in milliseconds (2 s to 1 h;
    /// default 60 s).
    pub lease_ms: Option<i64>,
}

/// A claimed job, as the worker needs it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClaimedJob {
    /// The job, with the claim's `lock_version`, which every later call repeats.
    #[schema(value_type = Object)]
    pub job: Job,
    /// The lease granted, in milliseconds: renew it at a third of this.
    pub lease_ms: i64,
}

/// A claim, as the calls after it name it.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
pub struct ClaimOf {
    /// The worker's id.
    pub worker: String,
    /// The lock version the claim returned.
    pub lock_version: i64,
}

/// A heartbeat: the claim, how long to extend it and what the worker is doing.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Heartbeat {
    /// The worker's id.
    pub worker: String,
    /// The claim's lock version.
    pub lock_version: i64,
    /// The new lease, in milliseconds from now.
    pub lease_ms: i64,
    /// What the worker is doing (shown with the job).
    #[serde(default)]
    pub progress: String,
}

/// A failed attempt.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Failure {
    /// The worker's id.
    pub worker: String,
    /// The claim's lock version.
    pub lock_version: i64,
    /// Why it failed.
    pub error: String,
}

/// What a completion saved.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Completed {
    /// The job's result (the findings' hash and counts, where they were attached) or
    /// the failure recorded.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
}

const LEASE_MS: std::ops::RangeInclusive<i64> = 2_000..=3_600_000;

fn check_worker(worker: &str) -> Result<(), ApiError> {
    if worker.is_empty() || worker.len() > 200 || worker.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "a worker's id is 1 to 200 printable characters",
            vec![ProblemPlace {
                location: "worker".into(),
                message: format!("\"{}\" is not one", worker.escape_debug()),
            }],
        ));
    }
    Ok(())
}

fn check_lease(lease_ms: i64) -> Result<(), ApiError> {
    if !LEASE_MS.contains(&lease_ms) {
        return Err(ApiError::invalid(
            "a lease lasts 2 000 to 3 600 000 ms",
            vec![ProblemPlace {
                location: "lease_ms".into(),
                message: format!("{lease_ms} is outside"),
            }],
        ));
    }
    Ok(())
}

/// The job of a claim that is still current, as the claim returned it; 409 otherwise.
async fn claimed(state: &AppState, id: &str, claim: &ClaimOf) -> Result<Job, ApiError> {
    let job = state.store().job(id).await?;
    if job.state != JobState::Running
        || job.lease_owner.as_deref() != Some(claim.worker.as_str())
        || job.lock_version != claim.lock_version
    {
        return Err(lease_lost(id, &claim.worker));
    }
    Ok(job)
}

fn lease_lost(job: &str, worker: &str) -> ApiError {
    ApiError::conflict(format!(
        "worker {worker} no longer holds job {job} (its lease ran out and the job was taken back): stop it and save nothing"
    ))
}

/// Claims the next job: a person's requests before scheduled work, at most one running
/// job per device. 204 when there is none.
#[utoipa::path(post, path = "/api/v1/worker/claim", tag = "workers",
    request_body = ClaimRequest,
    responses((status = 200, body = ClaimedJob), (status = 204, description = "no job is waiting")))]
pub async fn claim(
    State(state): State<AppState>,
    WorkerCaller(caller): WorkerCaller,
    Json(request): Json<ClaimRequest>,
) -> Result<Response, ApiError> {
    check_worker(&request.worker)?;
    let lease_ms = request.lease_ms.unwrap_or(60_000);
    check_lease(lease_ms)?;
    let kinds: Vec<&str> = match &request.kinds {
        Some(kinds) => KINDS
            .iter()
            .copied()
            .filter(|kind| kinds.iter().any(|asked| asked == kind))
            .collect(),
        None => KINDS.to_vec(),
    };
    let claim = Claim {
        worker: &request.worker,
        kinds: &kinds,
        lease_ms,
        scheduled_in_flight: SCHEDULED_IN_FLIGHT,
    };
    Ok(match state.store().claim(&claim).await? {
        Some(job) => {
            tracing::info!(job = %job.id, worker = %request.worker, user = %caller.user.login, "a remote worker claimed a job");
            axum::Json(ClaimedJob { job, lease_ms }).into_response()
        }
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Renews a claim's lease and records the worker's progress; 409 when the claim is no
/// longer current (the worker must stop the job at once).
#[utoipa::path(post, path = "/api/v1/worker/jobs/{id}/heartbeat", tag = "workers",
    params(("id" = String, Path)), request_body = Heartbeat,
    responses((status = 204, description = "renewed"), (status = 409, body = crate::Problem, content_type = "application/problem+json")))]
pub async fn heartbeat(
    State(state): State<AppState>,
    _caller: WorkerCaller,
    Path(id): Path<String>,
    Json(beat): Json<Heartbeat>,
) -> Result<StatusCode, ApiError> {
    check_lease(beat.lease_ms)?;
    let progress: String = beat.progress.chars().take(500).collect();
    if state
        .store()
        .heartbeat(
            &beat.worker,
            &id,
            beat.lock_version,
            beat.lease_ms,
            &progress,
        )
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(lease_lost(&id, &beat.worker))
    }
}

/// The firmware image of a claimed firmware scan, streamed; its SHA-256 is the ETag
/// (and the job's `payload.sha256`), for the worker to check what it received.
#[utoipa::path(get, path = "/api/v1/worker/jobs/{id}/image", tag = "workers",
    params(("id" = String, Path), ClaimOf),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 409, body = crate::Problem, content_type = "application/problem+json")))]
pub async fn image(
    State(state): State<AppState>,
    _caller: WorkerCaller,
    Path(id): Path<String>,
    Query(claim): Query<ClaimOf>,
) -> Result<Response, ApiError> {
    let job = claimed(&state, &id, &claim).await?;
    let sha256 = job.payload["sha256"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request(format!("job {id} has no image")))?;
    let blobs = state.store().blobs();
    let handle = blobs.open_blob(&job.organisation_id, sha256).await?;
    let size = handle.metadata().await.map_err(ApiError::internal)?.len();
    let mut response = super::assessments::file_stream(handle).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(value) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        headers.insert(header::ETAG, value);
    }
    Ok(response)
}

/// The advisory database firmware scans match components against, streamed, with an
/// ETag: a worker sends the one it holds in `If-None-Match` and gets 304 while it is
/// current. 204 when none was uploaded.
#[utoipa::path(get, path = "/api/v1/worker/advisories", tag = "workers",
    responses((status = 200, content_type = "application/json", body = Vec<u8>), (status = 204, description = "no database"), (status = 304, description = "the worker's copy is current")))]
pub async fn advisories(
    State(state): State<AppState>,
    _caller: WorkerCaller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let path = state.config().data.join(crate::advisories::FILE);
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        Err(error) => return Err(ApiError::internal(error)),
    };
    let metadata = file.metadata().await.map_err(ApiError::internal)?;
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    // A replacement is a rename onto the file: a new inode, length or time.
    let etag = format!("\"{inode:x}-{:x}-{modified:x}\"", metadata.len());
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|sent| sent.as_bytes() == etag.as_bytes())
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let mut response = super::assessments::file_stream(file).into_response();
    let answer = response.headers_mut();
    answer.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    answer.insert(header::CONTENT_LENGTH, HeaderValue::from(metadata.len()));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        answer.insert(header::ETAG, value);
    }
    Ok(response)
}

/// Completes a claimed job with its findings file (the body, as `provisor scan` writes
/// it, at most 64 MiB): stored, attached to the job's assessment as its next revision
/// and the job marked done, in one transaction that holds only while the claim is
/// current (409 otherwise, and nothing is saved).
#[utoipa::path(post, path = "/api/v1/worker/jobs/{id}/complete", tag = "workers",
    params(("id" = String, Path), ClaimOf),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = Completed), (status = 409, body = crate::Problem, content_type = "application/problem+json")))]
pub async fn complete(
    State(state): State<AppState>,
    _caller: WorkerCaller,
    Path(id): Path<String>,
    Query(claim): Query<ClaimOf>,
    body: Body,
) -> Result<axum::Json<Completed>, ApiError> {
    let job = claimed(&state, &id, &claim).await?;
    let bytes = axum::body::to_bytes(body, MAX_FINDINGS)
        .await
        .map_err(|_| {
            ApiError::too_large(format!(
                "a findings file may be at most {MAX_FINDINGS} bytes"
            ))
        })?;
    let findings: provisor_engine::FindingsFile =
        serde_json::from_slice(&bytes).map_err(|error| {
            ApiError::invalid(
                "the body is not a findings file",
                vec![ProblemPlace {
                    location: format!("line {}, column {}", error.line(), error.column()),
                    message: error.to_string(),
                }],
            )
        })?;
    let lease_ms = job.lease_until.map_or(60_000, |until| {
        (until - provisor_store::now_ms()).max(2_000)
    });
    finish(
        &state,
        &job,
        lease_ms,
        Outcome::Findings(&findings),
        &claim.worker,
    )
    .await
}

/// Ends a claimed job's attempt with a failure: retried after the backoff while
/// attempts remain, else dead with the error. 409 when the claim is no longer current.
#[utoipa::path(post, path = "/api/v1/worker/jobs/{id}/fail", tag = "workers",
    params(("id" = String, Path)), request_body = Failure,
    responses((status = 200, body = Completed), (status = 409, body = crate::Problem, content_type = "application/problem+json")))]
pub async fn fail(
    State(state): State<AppState>,
    _caller: WorkerCaller,
    Path(id): Path<String>,
    Json(failure): Json<Failure>,
) -> Result<axum::Json<Completed>, ApiError> {
    let claim = ClaimOf {
        worker: failure.worker.clone(),
        lock_version: failure.lock_version,
    };
    let job = claimed(&state, &id, &claim).await?;
    let reason: String = failure.error.chars().take(2_000).collect();
    finish(
        &state,
        &job,
        60_000,
        Outcome::Failed(&reason),
        &claim.worker,
    )
    .await
}

async fn finish(
    state: &AppState,
    job: &Job,
    lease_ms: i64,
    outcome: Outcome<'_>,
    worker: &str,
) -> Result<axum::Json<Completed>, ApiError> {
    match crate::worker::complete(state, job, lease_ms, outcome).await {
        Ok(Some(result)) => Ok(axum::Json(Completed { result })),
        Ok(None) => Err(lease_lost(&job.id, worker)),
        Err(error) => Err(ApiError::internal(error.to_string())),
    }
}
