//! Assessments: imported from a bundle (the CLI's assessment file with its scans,
//! evidence and wording), revised by pushing a bundle or putting one file, exported as
//! a bundle whose members are the stored files byte for byte, judged by the engine
//! (verdicts), rendered in every report format, and issued as immutable reports that
//! carry the audit chain's head.
//!
//! Uploads stream to a temporary file of the data directory against the configured
//! limit; nothing is recorded until the whole upload verified and judged, so an upload
//! cut short or refused leaves no revision behind.

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use provisor_bundle::{Limits, Member, Role as BundleRole, Source};
use provisor_store::{AssessmentRecord, FileRecord, NewAssessment, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, ISSUERS, READERS, WRITERS};
use crate::extract::{Json, Query};
use crate::judge::{Judged, judge};
use crate::{ApiError, AppState, ProblemPlace};

/// An assessment as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    /// The id.
    pub id: String,
    /// The release assessed.
    pub release_id: String,
    /// The manufacturer.
    pub organisation_id: String,
    /// The lab assigned.
    pub lab_id: Option<String>,
    /// The edition of the standard.
    pub edition: String,
    /// self or lab.
    pub kind: String,
    /// The assessment file's path in the tree.
    pub main_file: String,
    /// The newest revision.
    pub current_revision: i64,
    /// The revision approved.
    pub approved_revision: Option<i64>,
    /// Whether the current revision is conformant.
    pub conformant: Option<bool>,
    /// The current revision's verdicts counted (absent until the server has judged it).
    pub counts: Option<VerdictCounts>,
    /// When its newest revision was made (ms since the epoch).
    pub updated_at: i64,
    /// The revisions, oldest first (in an assessment's own view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisions: Option<Vec<RevisionView>>,
    /// The files of the current revision (in an assessment's own view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileView>>,
}

impl From<&AssessmentRecord> for AssessmentView {
    fn from(record: &AssessmentRecord) -> AssessmentView {
        AssessmentView {
            id: record.id.clone(),
            release_id: record.release_id.clone(),
            organisation_id: record.organisation_id.clone(),
            lab_id: record.lab_id.clone(),
            edition: record.edition.clone(),
            kind: record.kind.clone(),
            main_file: record.main_file.clone(),
            current_revision: record.current_revision,
            approved_revision: record.approved_revision,
            conformant: record.conformant,
            counts: record.counts.map(VerdictCounts::from),
            updated_at: record.updated_at,
            revisions: None,
            files: None,
        }
    }
}

/// A revision's verdicts counted.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct VerdictCounts {
    /// Mandatory provisions passed.
    pub mandatory_pass: i64,
    /// Mandatory provisions failed or not fulfilled.
    pub mandatory_unmet: i64,
    /// Mandatory provisions still open.
    pub mandatory_open: i64,
    /// Recommendations passed.
    pub recommended_pass: i64,
    /// Recommendations failed or not fulfilled.
    pub recommended_unmet: i64,
    /// Recommendations still open.
    pub recommended_open: i64,
    /// Provisions that do not apply.
    pub not_applicable: i64,
    /// Known vulnerabilities the attached scans matched to components; -1 when no
    /// attached scan matched components against advisories.
    pub vulnerabilities: i64,
}

impl From<provisor_store::Counts> for VerdictCounts {
    fn from(counts: provisor_store::Counts) -> VerdictCounts {
        VerdictCounts {
            mandatory_pass: counts.mandatory_pass,
            mandatory_unmet: counts.mandatory_unmet,
            mandatory_open: counts.mandatory_open,
            recommended_pass: counts.recommended_pass,
            recommended_unmet: counts.recommended_unmet,
            recommended_open: counts.recommended_open,
            not_applicable: counts.not_applicable,
            vulnerabilities: counts.vulnerabilities,
        }
    }
}

/// A revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionView {
    /// Its number.
    pub revision: i64,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// Why.
    pub note: String,
}

/// A file of a revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// Its path relative to the assessment file.
    pub path: String,
    /// assessment, scan, evidence, wording, report or other.
    pub role: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Its size.
    pub size: i64,
}

impl From<&FileRecord> for FileView {
    fn from(file: &FileRecord) -> FileView {
        FileView {
            path: file.path.clone(),
            role: file.role.clone(),
            sha256: file.sha256.clone(),
            size: file.size,
        }
    }
}

pub(crate) fn temporary_dir(state: &AppState) -> Result<PathBuf, ApiError> {
    let directory = state.config().data.join("uploads");
    std::fs::create_dir_all(&directory).map_err(ApiError::internal)?;
    Ok(directory)
}

/// Streams a request body to a temporary file, refusing it past the upload limit.
pub(crate) async fn receive(
    state: &AppState,
    body: Body,
) -> Result<tempfile::NamedTempFile, ApiError> {
    use tokio::io::AsyncWriteExt;
    let limit = state.config().max_upload;
    let temporary =
        tempfile::NamedTempFile::new_in(temporary_dir(state)?).map_err(ApiError::internal)?;
    let mut file = tokio::fs::File::from_std(temporary.reopen().map_err(ApiError::internal)?);
    let mut stream = body.into_data_stream();
    let mut received = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            ApiError::bad_request(format!(
                "the upload broke off after {received} bytes: {error}"
            ))
        })?;
        received += chunk.len() as u64;
        if received > limit {
            return Err(ApiError::too_large(format!(
                "the upload is larger than the server's limit of {limit} bytes (provisor serve --max-upload)"
            )));
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)?;
    Ok(temporary)
}

fn role_name(role: BundleRole) -> &'static str {
    match role {
        BundleRole::Assessment => "assessment",
        BundleRole::Scan => "scan",
        BundleRole::Evidence => "evidence",
        BundleRole::Wording => "wording",
        BundleRole::Report => "report",
    }
}

fn bundle_role(role: &str) -> BundleRole {
    match role {
        "assessment" => BundleRole::Assessment,
        "scan" => BundleRole::Scan,
        "wording" => BundleRole::Wording,
        "report" => BundleRole::Report,
        _ => BundleRole::Evidence,
    }
}

/// A verified bundle's files, stored as blobs of an organisation.
async fn store_bundle(
    state: &AppState,
    organisation: &str,
    body: Body,
) -> Result<(String, Vec<FileRecord>), ApiError> {
    let upload = receive(state, body).await?;
    let extract = tempfile::tempdir_in(temporary_dir(state)?).map_err(ApiError::internal)?;
    let target = extract.path().join("bundle");
    let path = upload.path().to_path_buf();
    let limit = state.config().max_upload;
    let verified = {
        let target = target.clone();
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path)?;
            Ok::<_, std::io::Error>(provisor_bundle::verify(
                std::io::BufReader::new(file),
                None,
                Some(&target),
                Limits {
                    total_bytes: limit,
                    ..Limits::default()
                },
            ))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?
    };
    let verified = verified.map_err(|error| match error {
        provisor_bundle::BundleError::Member { member, reason } => ApiError::invalid(
            "the bundle does not verify",
            vec![ProblemPlace {
                location: member,
                message: reason,
            }],
        ),
        other => ApiError::invalid(format!("the bundle does not verify: {other}"), Vec::new()),
    })?;
    let mut files = Vec::new();
    for entry in &verified.manifest.members {
        let blob = store_file(state, organisation, &target.join(&entry.path)).await?;
        files.push(FileRecord {
            path: entry.path.clone(),
            role: role_name(entry.role).to_owned(),
            sha256: blob.sha256,
            size: blob.size as i64,
        });
    }
    Ok((verified.manifest.assessment, files))
}

/// Streams a request body into an organisation's blobs (through a temporary file, so
/// an upload cut short leaves no blob).
pub(super) async fn receive_blob(
    state: &AppState,
    organisation: &str,
    body: Body,
) -> Result<provisor_store::StoredBlob, ApiError> {
    let upload = receive(state, body).await?;
    store_file(state, organisation, upload.path()).await
}

pub(crate) async fn store_file(
    state: &AppState,
    organisation: &str,
    path: &std::path::Path,
) -> Result<provisor_store::StoredBlob, ApiError> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(ApiError::internal)?;
    let mut writer = state.store().blobs().writer(organisation, u64::MAX).await?;
    let mut buffer = vec![0u8; 256 << 10];
    loop {
        let read = file.read(&mut buffer).await.map_err(ApiError::internal)?;
        if read == 0 {
            break;
        }
        writer.write(&buffer[..read]).await?;
    }
    Ok(writer.finish().await?)
}

pub(crate) fn tree(
    judged: &Judged,
    main_file: &str,
    files: Vec<FileRecord>,
    note: String,
) -> NewAssessment {
    NewAssessment {
        main_file: main_file.to_owned(),
        files,
        edition: judged.assessment.catalog.id.to_owned(),
        kind: match judged.file.kind {
            provisor_engine::Kind::Lab => "lab".to_owned(),
            provisor_engine::Kind::SelfAssessment => "self".to_owned(),
        },
        conformant: judged.assessment.conformant,
        counts: Some(crate::judge::counts(&judged.assessment)),
        note,
    }
}

const BUNDLE_TYPE: &str = "application/x-tar";

fn require_tar(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if content_type.split(';').next().unwrap_or("").trim() != BUNDLE_TYPE {
        return Err(ApiError::unsupported_media(format!(
            "send the bundle (provisor bundle, or provisor push) with Content-Type: {BUNDLE_TYPE}"
        )));
    }
    Ok(())
}

/// Imports an assessment of a release from a bundle (`provisor bundle` writes one;
/// `provisor push` sends one): every member is checked against the manifest, the
/// assessment is judged, and it becomes revision 1.
#[utoipa::path(post, path = "/api/v1/releases/{id}/assessments", tag = "assessments", params(("id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/x-tar", description = "a provisor bundle"),
    responses(
        (status = 201, body = AssessmentView),
        (status = 413, body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the bundle does not verify, or the assessment is invalid (with the places)", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(release): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<AssessmentView>), ApiError> {
    require_tar(&headers)?;
    let release_record = state.store().release(&release).await?;
    let product = state.store().product(&release_record.product_id).await?;
    caller.require_role(
        &product.organisation_id,
        WRITERS,
        &format!("release {release}"),
    )?;
    let (main_file, files) = store_bundle(&state, &product.organisation_id, body).await?;
    let judged = judge(&state, &product.organisation_id, &main_file, &files).await?;
    let record = state
        .store()
        .create_assessment(
            &caller.actor(),
            &release,
            &tree(&judged, &main_file, files, "import".to_owned()),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AssessmentView::from(&record)),
    ))
}

pub(crate) async fn visible(
    state: &AppState,
    caller: &Caller,
    id: &str,
    roles: &[Role],
) -> Result<AssessmentRecord, ApiError> {
    let record = state.store().assessment(id).await?;
    caller.require_assessment_role(&record, roles)?;
    Ok(record)
}

/// An assessment with its revisions and the files of its current revision.
#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "assessments", params(("id" = String, Path)),
    responses((status = 200, body = AssessmentView)))]
pub async fn get_assessment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<AssessmentView>, ApiError> {
    let record = visible(&state, &caller, &id, READERS).await?;
    let revisions = state.store().revisions(&id).await?;
    let files = state.store().files(&id, record.current_revision).await?;
    let mut view = AssessmentView::from(&record);
    view.revisions = Some(
        revisions
            .into_iter()
            .map(|revision| RevisionView {
                revision: revision.revision,
                created_by: revision.created_by,
                created_at: revision.created_at,
                note: revision.note,
            })
            .collect(),
    );
    view.files = Some(files.iter().map(FileView::from).collect());
    Ok(axum::Json(view))
}

/// Which revision to read (the current one when absent).
#[derive(Debug, Deserialize, IntoParams)]
pub struct RevisionQuery {
    /// A revision number.
    pub revision: Option<i64>,
}

/// Which revision a change is based on (the optimistic lock).
#[derive(Debug, Deserialize, IntoParams)]
pub struct BasedOn {
    /// The revision the change was made against; refused (409) when the assessment
    /// has moved on since.
    pub based_on: i64,
    /// For a file: assessment, scan, evidence, wording or report (evidence when absent;
    /// the assessment file keeps its role).
    pub role: Option<String>,
}

pub(crate) fn file_stream(file: tokio::fs::File) -> Body {
    use tokio::io::AsyncReadExt;
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; 256 << 10];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((
                    Ok::<_, std::io::Error>(bytes::Bytes::from(buffer)),
                    Some(file),
                ))
            }
            Err(error) => Some((Err(error), None)),
        }
    });
    Body::from_stream(stream)
}

fn attachment(name: &str) -> HeaderValue {
    let safe: String = name
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || "._-".contains(character) {
                character
            } else {
                '_'
            }
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
        .unwrap_or(HeaderValue::from_static("attachment"))
}

/// Exports a revision as a bundle: the stored files byte for byte, with a manifest of
/// their hashes (`provisor pull` extracts it into a directory).
#[utoipa::path(get, path = "/api/v1/assessments/{id}/bundle", tag = "assessments", params(("id" = String, Path), RevisionQuery),
    responses((status = 200, content_type = "application/x-tar", body = Vec<u8>)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<RevisionQuery>,
) -> Result<Response, ApiError> {
    let record = visible(&state, &caller, &id, READERS).await?;
    let revision = query.revision.unwrap_or(record.current_revision);
    let files = state.store().files(&id, revision).await?;
    let blobs = state.store().blobs().clone();
    let mut members = Vec::with_capacity(files.len());
    for file in &files {
        members.push(Member {
            path: file.path.clone(),
            role: bundle_role(&file.role),
            source: Source::File(
                blobs
                    .local_file(&record.organisation_id, &file.sha256)
                    .await?,
            ),
        });
    }
    let output =
        tempfile::NamedTempFile::new_in(temporary_dir(&state)?).map_err(ApiError::internal)?;
    let writer = output.reopen().map_err(ApiError::internal)?;
    let main_file = record.main_file.clone();
    let created = humantime_rfc3339(record.updated_at);
    tokio::task::spawn_blocking(move || {
        provisor_bundle::write(
            std::io::BufWriter::new(writer),
            &main_file,
            &members,
            &format!("provisor {}", env!("CARGO_PKG_VERSION")),
            &created,
            None,
        )
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    // The open file outlives its name: the temporary file is removed now and its
    // bytes stream from the open handle.
    let file = tokio::fs::File::open(output.path())
        .await
        .map_err(ApiError::internal)?;
    drop(output);
    let mut response = file_stream(file).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(BUNDLE_TYPE));
    headers.insert(
        header::CONTENT_DISPOSITION,
        attachment(&format!("{id}-r{revision}.tar")),
    );
    headers.insert("x-provisor-revision", HeaderValue::from(revision));
    Ok(response)
}

/// RFC 3339 (UTC, seconds) of milliseconds since the epoch.
pub fn humantime_rfc3339(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Makes the next revision from a bundle (what `provisor push` does to an existing
/// assessment).
#[utoipa::path(put, path = "/api/v1/assessments/{id}/bundle", tag = "assessments", params(("id" = String, Path), BasedOn),
    request_body(content = Vec<u8>, content_type = "application/x-tar"),
    responses(
        (status = 200, body = AssessmentView),
        (status = 409, description = "the assessment moved on since based_on", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn push_revision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<BasedOn>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<AssessmentView>, ApiError> {
    require_tar(&headers)?;
    let record = visible(&state, &caller, &id, WRITERS).await?;
    if query.based_on != record.current_revision {
        return Err(ApiError::conflict(format!(
            "assessment {id} is at revision {}, not {}: pull it, apply the change again and push",
            record.current_revision, query.based_on
        )));
    }
    let (main_file, files) = store_bundle(&state, &record.organisation_id, body).await?;
    let judged = judge(&state, &record.organisation_id, &main_file, &files).await?;
    let record = state
        .store()
        .add_revision(
            &caller.actor(),
            &id,
            query.based_on,
            &tree(&judged, &main_file, files, "push".to_owned()),
        )
        .await?;
    Ok(axum::Json(AssessmentView::from(&record)))
}

/// One file of a revision, as stored.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/files/{*path}", tag = "assessments",
    params(("id" = String, Path), ("path" = String, Path, description = "the file's path relative to the assessment file"), RevisionQuery),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
pub async fn get_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, path)): Path<(String, String)>,
    Query(query): Query<RevisionQuery>,
) -> Result<Response, ApiError> {
    let record = visible(&state, &caller, &id, READERS).await?;
    let revision = query.revision.unwrap_or(record.current_revision);
    let files = state.store().files(&id, revision).await?;
    let file = files.iter().find(|file| file.path == path).ok_or_else(|| {
        ApiError::not_found(format!("revision {revision} of {id} has no file {path}"))
    })?;
    let handle = state
        .store()
        .blobs()
        .open_blob(&record.organisation_id, &file.sha256)
        .await?;
    let mut response = file_stream(handle).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        attachment(path.rsplit('/').next().unwrap_or("file")),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", file.sha256)) {
        headers.insert(header::ETAG, value);
    }
    Ok(response)
}

/// Puts one file (streamed) into the next revision: new evidence, a new scan, or a new
/// version of the assessment file. The tree must still judge.
#[utoipa::path(put, path = "/api/v1/assessments/{id}/files/{*path}", tag = "assessments",
    params(("id" = String, Path), ("path" = String, Path), BasedOn),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = AssessmentView), (status = 409, body = crate::Problem, content_type = "application/problem+json")))]
pub async fn put_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, path)): Path<(String, String)>,
    Query(query): Query<BasedOn>,
    body: Body,
) -> Result<axum::Json<AssessmentView>, ApiError> {
    let record = visible(&state, &caller, &id, WRITERS).await?;
    if !provisor_bundle::safe_path(&path) {
        return Err(ApiError::invalid(
            "the file's path must be relative and stay inside the assessment's directory",
            vec![ProblemPlace {
                location: "path".into(),
                message: format!("\"{}\" is not acceptable", path.escape_debug()),
            }],
        ));
    }
    if query.based_on != record.current_revision {
        return Err(ApiError::conflict(format!(
            "assessment {id} is at revision {}, not {}: reload it and apply the change again",
            record.current_revision, query.based_on
        )));
    }
    let role = if path == record.main_file {
        "assessment".to_owned()
    } else {
        let role = query.role.unwrap_or_else(|| "evidence".to_owned());
        if !["scan", "evidence", "wording", "report"].contains(&role.as_str()) {
            return Err(ApiError::invalid(
                "unknown role",
                vec![ProblemPlace {
                    location: "role".into(),
                    message: format!("\"{role}\" is not scan, evidence, wording or report"),
                }],
            ));
        }
        role
    };
    let upload = receive(&state, body).await?;
    let blob = store_file(&state, &record.organisation_id, upload.path()).await?;
    let mut files: BTreeMap<String, FileRecord> = state
        .store()
        .files(&id, record.current_revision)
        .await?
        .into_iter()
        .map(|file| (file.path.clone(), file))
        .collect();
    files.insert(
        path.clone(),
        FileRecord {
            path: path.clone(),
            role,
            sha256: blob.sha256,
            size: blob.size as i64,
        },
    );
    let files: Vec<FileRecord> = files.into_values().collect();
    let judged = judge(&state, &record.organisation_id, &record.main_file, &files).await?;
    let record = state
        .store()
        .add_revision(
            &caller.actor(),
            &id,
            query.based_on,
            &tree(&judged, &record.main_file, files, format!("put {path}")),
        )
        .await?;
    Ok(axum::Json(AssessmentView::from(&record)))
}

pub(crate) async fn judged_revision(
    state: &AppState,
    record: &AssessmentRecord,
    revision: Option<i64>,
) -> Result<Judged, ApiError> {
    let revision = revision.unwrap_or(record.current_revision);
    let files = state.store().files(&record.id, revision).await?;
    judge(state, &record.organisation_id, &record.main_file, &files).await
}

pub(crate) fn context(record: &AssessmentRecord) -> provisor_report::Context {
    provisor_report::Context {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        generated_at: humantime_rfc3339(provisor_store::now_ms()),
        source: record.main_file.clone(),
    }
}

/// The verdicts of a revision: the assessment JSON (`provisor.assessment/2`) that
/// `provisor check --format json` prints for the same files.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/verdicts", tag = "assessments", params(("id" = String, Path), RevisionQuery),
    responses((status = 200, description = "provisor.assessment/2", content_type = "application/json", body = Object)))]
pub async fn verdicts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<RevisionQuery>,
) -> Result<Response, ApiError> {
    let record = visible(&state, &caller, &id, READERS).await?;
    let revision = query.revision.unwrap_or(record.current_revision);
    let key = (id.clone(), revision, crate::judge::today().to_string());
    let text = match state.verdicts().get(&key) {
        Some(text) => text,
        None => {
            let judged = judged_revision(&state, &record, Some(revision)).await?;
            let text: std::sync::Arc<str> =
                provisor_report::json(&judged.assessment, &context(&record)).into();
            state.verdicts().put(key, text.clone());
            text
        }
    };
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        text.to_string(),
    )
        .into_response())
}

/// The report formats the server renders.
pub const FORMATS: &[(&str, &str, &str)] = &[
    ("html", "text/html; charset=utf-8", "html"),
    ("md", "text/markdown; charset=utf-8", "md"),
    ("json", "application/json", "json"),
    ("sarif", "application/sarif+json", "sarif"),
    ("junit", "application/xml", "xml"),
    ("oscal", "application/json", "oscal.json"),
    ("ics-csv", "text/csv; charset=utf-8", "csv"),
    ("pdf", "application/pdf", "pdf"),
];

async fn render_bytes(
    judged: Judged,
    format: &str,
    context: provisor_report::Context,
) -> Result<Vec<u8>, ApiError> {
    let format = format.to_owned();
    tokio::task::spawn_blocking(move || {
        let assessment = &judged.assessment;
        Ok(match format.as_str() {
            "html" => provisor_report::html(assessment, &context).into_bytes(),
            "md" => provisor_report::markdown(assessment, &context).into_bytes(),
            "json" => provisor_report::json(assessment, &context).into_bytes(),
            "sarif" => provisor_report::sarif(assessment, &context).into_bytes(),
            "junit" => provisor_report::junit(assessment, &context).into_bytes(),
            "oscal" => provisor_report::oscal_ar(assessment, &context).into_bytes(),
            "ics-csv" => provisor_report::ics_csv(assessment).into_bytes(),
            "pdf" => provisor_report::pdf(assessment, &context).map_err(ApiError::internal)?,
            other => return Err(unknown_format(other)),
        })
    })
    .await
    .map_err(ApiError::internal)?
}

fn format_names() -> String {
    FORMATS
        .iter()
        .map(|(name, _, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_format(format: &str) -> ApiError {
    ApiError::not_found(format!("no report format \"{format}\": {}", format_names()))
}

fn media_type(format: &str) -> &'static str {
    FORMATS
        .iter()
        .find(|(name, _, _)| *name == format)
        .map_or("application/octet-stream", |(_, media, _)| media)
}

/// A report of a revision, rendered now (not recorded; issue one to keep it).
#[utoipa::path(get, path = "/api/v1/assessments/{id}/reports/{format}", tag = "reports",
    params(("id" = String, Path), ("format" = String, Path, description = "html, md, json, sarif, junit, oscal, ics-csv or pdf"), RevisionQuery),
    responses((status = 200, description = "the report, in its format's media type", content(
        (String = "text/html"), (String = "text/markdown"), (serde_json::Value = "application/json"),
        (serde_json::Value = "application/sarif+json"), (String = "application/xml"), (String = "text/csv"),
        (Vec<u8> = "application/pdf")))))]
pub async fn render(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, format)): Path<(String, String)>,
    Query(query): Query<RevisionQuery>,
) -> Result<Response, ApiError> {
    let record = visible(&state, &caller, &id, READERS).await?;
    if !FORMATS.iter().any(|(name, _, _)| *name == format) {
        return Err(unknown_format(&format));
    }
    let judged = judged_revision(&state, &record, query.revision).await?;
    let bytes = render_bytes(judged, &format, context(&record)).await?;
    Ok(([(header::CONTENT_TYPE, media_type(&format))], bytes).into_response())
}

/// A report to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// html, md, json, sarif, junit, oscal, ics-csv or pdf.
    pub format: String,
}

/// An issued report's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    /// The report id.
    pub id: String,
    /// The assessment.
    pub assessment_id: String,
    /// The revision reported on.
    pub revision: i64,
    /// The format.
    pub format: String,
    /// The SHA-256 of the report's bytes.
    pub sha256: String,
    /// Its size.
    pub size: i64,
    /// The audit chain's head when it was issued (`seq:hash`).
    pub audit_head: String,
    /// Who issued it.
    pub issued_by: String,
    /// When (ms since the epoch).
    pub issued_at: i64,
}

impl From<&provisor_store::IssuedReport> for ReportView {
    fn from(report: &provisor_store::IssuedReport) -> ReportView {
        ReportView {
            id: report.id.clone(),
            assessment_id: report.assessment_id.clone(),
            revision: report.revision,
            format: report.format.clone(),
            sha256: report.sha256.clone(),
            size: report.size,
            audit_head: report.audit_head.clone(),
            issued_by: report.issued_by.clone(),
            issued_at: report.issued_at,
        }
    }
}

/// Issues a report of the current revision: rendered once, stored unchangeable under a
/// report id with its hash, and recorded with the audit chain's head.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/reports", tag = "reports", params(("id" = String, Path)),
    request_body = IssueRequest, responses((status = 201, body = ReportView)))]
pub async fn issue_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<IssueRequest>,
) -> Result<(StatusCode, axum::Json<ReportView>), ApiError> {
    let report = issue(&state, &caller, &id, &request.format).await?;
    Ok((StatusCode::CREATED, axum::Json(ReportView::from(&report))))
}

/// The reports issued of an assessment, newest first.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/reports", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ReportView>)))]
pub async fn list_reports(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<ReportView>>, ApiError> {
    visible(&state, &caller, &id, READERS).await?;
    let reports = state.store().reports_of(&id).await?;
    Ok(axum::Json(reports.iter().map(ReportView::from).collect()))
}

/// An issued report's bytes, as issued.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, description = "the report as issued, in its format's media type", content(
        (String = "text/html"), (String = "text/markdown"), (serde_json::Value = "application/json"),
        (serde_json::Value = "application/sarif+json"), (String = "application/xml"), (String = "text/csv"),
        (Vec<u8> = "application/pdf")))))]
pub async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let report = state.store().report(&id).await?;
    let record = visible(&state, &caller, &report.assessment_id, READERS).await?;
    let handle = state
        .store()
        .blobs()
        .open_blob(&record.organisation_id, &report.sha256)
        .await?;
    let extension = FORMATS
        .iter()
        .find(|(name, _, _)| *name == report.format)
        .map_or("bin", |(_, _, extension)| extension);
    let mut response = file_stream(handle).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type(&report.format)),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(report.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        attachment(&format!("{id}.{extension}")),
    );
    if let Ok(value) = HeaderValue::from_str(&report.sha256) {
        headers.insert("x-provisor-sha256", value);
    }
    if let Ok(value) = HeaderValue::from_str(&report.audit_head) {
        headers.insert("x-provisor-audit-head", value);
    }
    Ok(response)
}

/// The lab to assign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabRequest {
    /// The lab's organisation id; null withdraws the assignment.
    pub lab_id: Option<String>,
}

/// Assigns a lab to an assessment (the manufacturer's admins and editors).
#[utoipa::path(put, path = "/api/v1/assessments/{id}/lab", tag = "assessments", params(("id" = String, Path)),
    request_body = LabRequest, responses((status = 204)))]
pub async fn assign_lab(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<LabRequest>,
) -> Result<StatusCode, ApiError> {
    let record = state.store().assessment(&id).await?;
    caller.require_role(
        &record.organisation_id,
        &[Role::Admin, Role::Editor],
        &format!("assessment {id}"),
    )?;
    state
        .store()
        .assign_lab(&caller.actor(), &id, request.lab_id.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a report of an assessment's current revision in `format`: rendered once,
/// stored unchangeable with its id, hash and the audit chain's head (what the API and
/// the assessment's page share).
pub(crate) async fn issue(
    state: &AppState,
    caller: &Caller,
    id: &str,
    format: &str,
) -> Result<provisor_store::IssuedReport, ApiError> {
    let record = visible(state, caller, id, ISSUERS).await?;
    if !FORMATS.iter().any(|(name, _, _)| *name == format) {
        return Err(ApiError::invalid(
            "unknown report format",
            vec![ProblemPlace {
                location: "/format".into(),
                message: format!("\"{}\" is not one of {}", format, format_names()),
            }],
        ));
    }
    let judged = judged_revision(state, &record, None).await?;
    let report_id = provisor_store::new_id("rpt");
    let (seq, hash) = state.store().audit_head().await?;
    let mut context = context(&record);
    context.source = format!(
        "{} (report {report_id} of revision {}, audit chain head {seq}:{hash})",
        record.main_file, record.current_revision
    );
    let bytes = render_bytes(judged, format, context).await?;
    let blob = state
        .store()
        .blobs()
        .put(&record.organisation_id, &bytes)
        .await?;
    let report = state
        .store()
        .issue_report(
            &caller.actor(),
            &report_id,
            &record,
            format,
            &blob.sha256,
            blob.size as i64,
            &format!("{seq}:{hash}"),
        )
        .await?;
    state.store().checkpoint(state.key()).await?;
    Ok(report)
}
