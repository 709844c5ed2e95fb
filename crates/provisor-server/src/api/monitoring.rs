//! Monitoring (5.2-3): the advisory feeds the server imports (server admins add, remove
//! and start them; every import is recorded), and per release the SBOM its firmware
//! scan found and the vulnerabilities matched against it since, open and retracted.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use provisor_store::{AdvisoryImport, AdvisorySource, ReleaseVulnerability, SbomComponent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::extract::{Json, Query};
use crate::{ApiError, AppState, ProblemPlace};

/// A feed the server imports.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// Its name.
    pub name: String,
    /// `osv`, `debian`, `nvd` or `kev`.
    pub kind: String,
    /// A path under the feed directory, or an allow-listed URL.
    pub location: String,
    /// Minutes between imports.
    pub every_minutes: i64,
    /// When it is next due (ms since the epoch).
    pub next_run_at: i64,
    /// Where an incremental import goes on from.
    pub cursor: Option<String>,
}

impl From<&AdvisorySource> for SourceView {
    fn from(source: &AdvisorySource) -> SourceView {
        SourceView {
            name: source.name.clone(),
            kind: source.kind.clone(),
            location: source.location.clone(),
            every_minutes: source.every_ms / 60_000,
            next_run_at: source.next_run_at,
            cursor: source.cursor.clone(),
        }
    }
}

/// A feed to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRequest {
    /// Its name: letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// `osv`, `debian`, `nvd` or `kev`.
    pub kind: String,
    /// A path relative to the server's feed directory, or an http(s) URL whose host is
    /// on the server's allow-list (`--allow-fetch`). For OSV, a URL ending in `/` (an
    /// ecosystem's folder) is read incrementally through its `modified_id.csv`.
    pub location: String,
    /// Minutes between imports (at least 5; default a day).
    #[serde(default)]
    pub every_minutes: Option<i64>,
}

fn invalid(location: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(
        "the advisory feed is not acceptable",
        vec![ProblemPlace {
            location: location.into(),
            message: message.into(),
        }],
    )
}

/// The feeds the server imports (server admins).
#[utoipa::path(get, path = "/api/v1/advisory-sources", tag = "monitoring",
    responses((status = 200, body = Vec<SourceView>)))]
pub async fn list_sources(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<SourceView>>, ApiError> {
    caller.require_server_admin()?;
    let sources = state.store().advisory_sources().await?;
    Ok(axum::Json(sources.iter().map(SourceView::from).collect()))
}

/// Adds a feed, imported at once and then on its schedule (server admins).
#[utoipa::path(post, path = "/api/v1/advisory-sources", tag = "monitoring", request_body = SourceRequest,
    responses(
        (status = 201, body = SourceView),
        (status = 409, description = "the name is taken", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn add_source(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<SourceRequest>,
) -> Result<(StatusCode, axum::Json<SourceView>), ApiError> {
    caller.require_server_admin()?;
    let name_ok = !request.name.is_empty()
        && request.name.len() <= 64
        && request
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !name_ok {
        return Err(invalid(
            "/name",
            "use 1 to 64 letters, digits, `-`, `_` or `.`",
        ));
    }
    if provisor_advisories::feeds::Kind::parse(&request.kind).is_none() {
        return Err(invalid("/kind", "use osv, debian, nvd or kev"));
    }
    crate::monitor::check_location(&state, &request.location)?;
    let minutes = request.every_minutes.unwrap_or(24 * 60);
    if !(5..=60 * 24 * 366).contains(&minutes) {
        return Err(invalid("/every_minutes", "between 5 minutes and a year"));
    }
    let source = state
        .store()
        .add_advisory_source(
            &caller.actor(),
            &request.name,
            &request.kind,
            &request.location,
            minutes * 60_000,
        )
        .await?;
    state.monitor_wake().notify_one();
    Ok((StatusCode::CREATED, axum::Json(SourceView::from(&source))))
}

/// Removes a feed; what it imported stays (server admins).
#[utoipa::path(delete, path = "/api/v1/advisory-sources/{name}", tag = "monitoring",
    params(("name" = String, Path)), responses((status = 204)))]
pub async fn remove_source(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_server_admin()?;
    state
        .store()
        .remove_advisory_source(&caller.actor(), &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports a feed now instead of at its next time (server admins); the import runs in
/// the background and is listed under `/api/v1/advisory-imports`.
#[utoipa::path(post, path = "/api/v1/advisory-sources/{name}/import", tag = "monitoring",
    params(("name" = String, Path)), responses((status = 202)))]
pub async fn import_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_server_admin()?;
    state.store().run_advisory_source_now(&name).await?;
    state.monitor_wake().notify_one();
    Ok(StatusCode::ACCEPTED)
}

/// One import of a feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportView {
    /// Its id.
    pub id: String,
    /// The feed's name.
    pub source: String,
    /// The feed's kind.
    pub kind: String,
    /// What was read.
    pub location: String,
    /// When it began (ms since the epoch).
    pub started_at: i64,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// Advisories read.
    pub read: u64,
    /// Advisories new or changed.
    pub changed: u64,
    /// Matches opened.
    pub new_matches: u64,
    /// Matches retracted.
    pub retracted: u64,
    /// Why it failed.
    pub error: Option<String>,
}

impl From<&AdvisoryImport> for ImportView {
    fn from(import: &AdvisoryImport) -> ImportView {
        ImportView {
            id: import.id.clone(),
            source: import.source.clone(),
            kind: import.kind.clone(),
            location: import.location.clone(),
            started_at: import.started_at,
            finished_at: import.finished_at,
            read: import.summary.read,
            changed: import.summary.changed,
            new_matches: import.summary.new_matches,
            retracted: import.summary.retracted,
            error: import.error.clone(),
        }
    }
}

/// How many imports to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportsQuery {
    /// At most this many (default 50, at most 500).
    pub limit: Option<i64>,
}

/// The newest imports, newest first (server admins).
#[utoipa::path(get, path = "/api/v1/advisory-imports", tag = "monitoring", params(ImportsQuery),
    responses((status = 200, body = Vec<ImportView>)))]
pub async fn list_imports(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ImportsQuery>,
) -> Result<axum::Json<Vec<ImportView>>, ApiError> {
    caller.require_server_admin()?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let imports = state.store().advisory_imports(limit).await?;
    Ok(axum::Json(imports.iter().map(ImportView::from).collect()))
}

/// Refuses a release the caller may not see (as not found).
pub(crate) async fn visible_release(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(), ApiError> {
    let release = state.store().release(id).await?;
    let product = state.store().product(&release.product_id).await?;
    if caller.role_in(&product.organisation_id).is_some() {
        return Ok(());
    }
    let assessments = state.store().assessments_of_release(id).await?;
    if assessments
        .iter()
        .any(|record| caller.assessment_role(record).is_some())
    {
        return Ok(());
    }
    Err(ApiError::not_found(format!("release {id} not found")))
}

/// A component of a release's SBOM.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentView {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its package URL.
    pub purl: Option<String>,
    /// Its CPE 2.3 name.
    pub cpe: Option<String>,
    /// The source package it was built from.
    pub source_package: Option<String>,
}

impl From<&SbomComponent> for ComponentView {
    fn from(component: &SbomComponent) -> ComponentView {
        ComponentView {
            name: component.name.clone(),
            version: component.version.clone(),
            purl: component.purl.clone(),
            cpe: component.cpe.clone(),
            source_package: component.source_package.clone(),
        }
    }
}

/// A release's SBOM.
#[derive(Debug, Serialize, ToSchema)]
pub struct SbomView {
    /// The release.
    pub release: String,
    /// The scan that found it.
    pub job: String,
    /// The image scanned.
    pub firmware_sha256: Option<String>,
    /// When it was stored (ms since the epoch).
    pub created_at: i64,
    /// Its components.
    pub components: Vec<ComponentView>,
}

/// The SBOM of a release, as its first firmware scan found it (never changed after).
#[utoipa::path(get, path = "/api/v1/releases/{id}/sbom", tag = "monitoring",
    params(("id" = String, Path)), responses(
        (status = 200, body = SbomView),
        (status = 404, description = "no such release, or its firmware was not scanned yet", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn release_sbom(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<SbomView>, ApiError> {
    visible_release(&state, &caller, &id).await?;
    let sbom = state.store().release_sbom(&id).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "the SBOM of release {id} (its firmware has not been scanned yet)"
        ))
    })?;
    Ok(axum::Json(SbomView {
        release: sbom.release_id,
        job: sbom.job_id,
        firmware_sha256: sbom.firmware_sha256,
        created_at: sbom.created_at,
        components: sbom.components.iter().map(ComponentView::from).collect(),
    }))
}

/// A vulnerability of a release.
#[derive(Debug, Serialize, ToSchema)]
pub struct VulnerabilityView {
    /// Its id (the CVE when it has one).
    pub vulnerability: String,
    /// The advisory's source: `osv`, `debian` or `nvd`.
    pub source: String,
    /// The advisory.
    pub advisory: String,
    /// One line.
    pub summary: String,
    /// `critical`, `high`, `medium`, `low`, or none.
    pub severity: Option<String>,
    /// The component.
    pub component: String,
    /// Its version.
    pub version: String,
    /// Its package URL.
    pub purl: Option<String>,
    /// The version that fixes it.
    pub fixed: Option<String>,
    /// `open`, `backported` (the Debian revision carries the fix: `reason` says which)
    /// or `retracted`.
    pub state: String,
    /// When it was found (ms since the epoch).
    pub found_at: i64,
    /// When it was retracted.
    pub retracted_at: Option<i64>,
    /// Why it was retracted, or which backport settles it.
    pub reason: Option<String>,
    /// The date CISA added it to its catalogue of exploited vulnerabilities.
    pub known_exploited: Option<String>,
    /// The component's key, which decisions are made for (`deb:openssl`).
    pub component_key: String,
    /// The decision that holds in this release: its own, or one carried from an
    /// earlier release (`carried`), to confirm.
    pub analysis: Option<crate::api::vex::AnalysisView>,
}

impl From<ReleaseVulnerability> for VulnerabilityView {
    fn from(found: ReleaseVulnerability) -> VulnerabilityView {
        VulnerabilityView {
            vulnerability: found.vulnerability,
            source: found.source,
            advisory: found.advisory,
            summary: found.summary,
            severity: found.severity,
            component: found.component,
            version: found.version,
            purl: found.purl,
            fixed: found.fixed,
            state: found.state,
            found_at: found.found_at,
            retracted_at: found.retracted_at,
            reason: found.reason,
            known_exploited: found.known_exploited,
            analysis: found
                .analysis
                .as_ref()
                .map(crate::api::vex::AnalysisView::effective),
            component_key: found.component_key,
        }
    }
}

/// The vulnerabilities matched against a release's SBOM: open ones first, the most
/// severe first, then those retracted (with why).
#[utoipa::path(get, path = "/api/v1/releases/{id}/vulnerabilities", tag = "monitoring",
    params(("id" = String, Path)), responses((status = 200, body = Vec<VulnerabilityView>)))]
pub async fn release_vulnerabilities(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<VulnerabilityView>>, ApiError> {
    visible_release(&state, &caller, &id).await?;
    let found = state.store().release_vulnerabilities(&id).await?;
    Ok(axum::Json(
        found.into_iter().map(VulnerabilityView::from).collect(),
    ))
}
