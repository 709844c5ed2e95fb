//! Decisions that carry (5.2-3): a manufacturer's analysis of each vulnerability of a
//! release's components in CycloneDX's VEX vocabulary. Decisions are set, removed and
//! confirmed per release (a decision of an earlier release is carried to later ones
//! until confirmed there), their history is kept, and a release's decisions are
//! exported as a CycloneDX VEX. An SBOM with VEX uploaded together is applied: its
//! components become the release's SBOM when it has none, its statements and the
//! backports its pedigree names become decisions, and the answer lists every statement
//! not applied, with why.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use provisor_advisories::{cyclonedx, yocto};
use provisor_store::{
    Analysis, Decision, Effective, HistoryEntry, Origin, Outcome, ReleaseSbom, SbomComponent,
    VexStatement,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::extract::{Json, Query};
use crate::{ApiError, AppState, ProblemPlace};

/// The largest SBOM with VEX uploaded.
pub const VEX_LIMIT: usize = 64 << 20;

/// A decision, as it holds for a release.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisView {
    /// The component's key (`deb:openssl`).
    pub component: String,
    /// The vulnerability.
    pub vulnerability: String,
    /// `resolved`, `resolved_with_pedigree`, `exploitable`, `in_triage`,
    /// `false_positive` or `not_affected`.
    pub state: String,
    /// Why it is not affected.
    pub justification: Option<String>,
    /// `can_not_fix`, `will_not_fix`, `update`, `rollback`, `workaround_available`.
    pub response: Vec<String>,
    /// Why, in words.
    pub detail: String,
    /// `person`, `confirmed`, `vex` or `backport`.
    pub origin: String,
    /// Made for an earlier release and to be confirmed for this one.
    pub carried: bool,
    /// The release it was made for.
    pub release: String,
    /// That release's version.
    pub release_version: String,
    /// Who made it.
    pub decided_by: String,
    /// When it last changed (ms since the epoch).
    pub updated_at: i64,
}

impl AnalysisView {
    /// A decision of the release itself.
    pub fn own(analysis: &Analysis) -> AnalysisView {
        AnalysisView::of(analysis, false)
    }

    /// A decision as it holds for a release.
    pub fn effective(effective: &Effective) -> AnalysisView {
        AnalysisView::of(&effective.analysis, effective.carried)
    }

    fn of(analysis: &Analysis, carried: bool) -> AnalysisView {
        AnalysisView {
            component: analysis.component.clone(),
            vulnerability: analysis.vulnerability.clone(),
            state: analysis.decision.state.clone(),
            justification: analysis.decision.justification.clone(),
            response: analysis.decision.response.clone(),
            detail: analysis.decision.detail.clone(),
            origin: analysis.origin.clone(),
            carried,
            release: analysis.release_id.clone(),
            release_version: analysis.release_version.clone(),
            decided_by: analysis.decided_by.clone(),
            updated_at: analysis.updated_at,
        }
    }
}

/// A decision to make for a release.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalysisRequest {
    /// The component's key, as the release's vulnerabilities name it (`deb:openssl`).
    pub component: String,
    /// The vulnerability (`CVE-2023-0464`).
    pub vulnerability: String,
    /// One of CycloneDX's states.
    pub state: String,
    /// One of CycloneDX's justifications, for `not_affected`.
    #[serde(default)]
    pub justification: Option<String>,
    /// Some of CycloneDX's responses.
    #[serde(default)]
    pub response: Vec<String>,
    /// Why, in words (needed for `not_affected` without a justification).
    #[serde(default)]
    pub detail: String,
}

/// What a decision is about.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalysisKey {
    /// The component's key (`deb:openssl`).
    pub component: String,
    /// The vulnerability.
    pub vulnerability: String,
}

/// Which carried decisions to confirm: one, or all when both are left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The component's key.
    #[serde(default)]
    pub component: Option<String>,
    /// The vulnerability.
    #[serde(default)]
    pub vulnerability: Option<String>,
}

/// One change of a decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    /// The release it was made for.
    pub release: String,
    /// `set`, `confirm` or `remove`.
    pub action: String,
    /// The state after it (none after `remove`).
    pub state: Option<String>,
    /// The justification after it.
    pub justification: Option<String>,
    /// The responses after it.
    pub response: Vec<String>,
    /// The detail after it.
    pub detail: Option<String>,
    /// Where it came from.
    pub origin: Option<String>,
    /// Who.
    pub actor: String,
    /// When (ms since the epoch).
    pub at: i64,
}

impl From<HistoryEntry> for HistoryView {
    fn from(entry: HistoryEntry) -> HistoryView {
        HistoryView {
            release: entry.release_id,
            action: entry.action,
            state: entry
                .decision
                .as_ref()
                .map(|decision| decision.state.clone()),
            justification: entry
                .decision
                .as_ref()
                .and_then(|decision| decision.justification.clone()),
            response: entry
                .decision
                .as_ref()
                .map(|decision| decision.response.clone())
                .unwrap_or_default(),
            detail: entry.decision.map(|decision| decision.detail),
            origin: entry.origin,
            actor: entry.actor,
            at: entry.at,
        }
    }
}

/// Refuses a release the caller may not decide for; returns its product.
async fn decidable_release(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<provisor_store::Product, ApiError> {
    let release = state.store().release(id).await?;
    let product = state.store().product(&release.product_id).await?;
    caller.require_role(
        &product.organisation_id,
        crate::auth::DECIDERS,
        &format!("release {id}"),
    )?;
    Ok(product)
}

fn invalid(pointer: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    ApiError::invalid(
        message.clone(),
        vec![ProblemPlace {
            location: pointer.to_owned(),
            message,
        }],
    )
}

/// Sets the release's own decision about a vulnerability of a component (its admins
/// and editors). It replaces the one it had, and the decision carried from an earlier
/// release, if any.
#[utoipa::path(put, path = "/api/v1/releases/{id}/analyses", tag = "monitoring",
    params(("id" = String, Path)), request_body = AnalysisRequest, responses(
        (status = 200, body = AnalysisView),
        (status = 422, description = "outside CycloneDX's vocabulary", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn set_analysis(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<AnalysisRequest>,
) -> Result<axum::Json<AnalysisView>, ApiError> {
    decidable_release(&state, &caller, &id).await?;
    let decision = Decision {
        state: request.state,
        justification: request.justification,
        response: request.response,
        detail: request.detail,
    };
    if let Err(message) = decision.check() {
        let pointer = if message.starts_with("justification") {
            "/justification"
        } else if message.starts_with("response") {
            "/response"
        } else if message.starts_with("the detail") {
            "/detail"
        } else {
            "/state"
        };
        return Err(invalid(pointer, message));
    }
    state
        .store()
        .set_analysis(
            &caller.actor(),
            &id,
            &request.component,
            &request.vulnerability,
            &decision,
            Origin::Person,
        )
        .await?;
    let held = state.store().release_analyses(&id).await?;
    let effective = held
        .get(&(request.component, request.vulnerability))
        .ok_or_else(|| ApiError::internal("the decision just written is not there"))?;
    Ok(axum::Json(AnalysisView::effective(effective)))
}

/// The decisions that hold for a release, whether or not an advisory matches them yet:
/// its own, and those carried from earlier releases (to confirm).
#[utoipa::path(get, path = "/api/v1/releases/{id}/analyses", tag = "monitoring",
    params(("id" = String, Path)), responses((status = 200, body = Vec<AnalysisView>)))]
pub async fn list_analyses(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<AnalysisView>>, ApiError> {
    crate::api::monitoring::visible_release(&state, &caller, &id).await?;
    let held = state.store().release_analyses(&id).await?;
    let mut listed: Vec<AnalysisView> = held.values().map(AnalysisView::effective).collect();
    listed.sort_by(|a, b| (&a.component, &a.vulnerability).cmp(&(&b.component, &b.vulnerability)));
    Ok(axum::Json(listed))
}

/// Removes the release's own decision (an earlier release's is then carried again).
#[utoipa::path(delete, path = "/api/v1/releases/{id}/analyses", tag = "monitoring",
    params(("id" = String, Path), AnalysisKey), responses(
        (status = 204, description = "removed"),
        (status = 404, description = "the release has no such decision of its own", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn remove_analysis(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(key): Query<AnalysisKey>,
) -> Result<StatusCode, ApiError> {
    decidable_release(&state, &caller, &id).await?;
    if state
        .store()
        .remove_analysis(&caller.actor(), &id, &key.component, &key.vulnerability)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "release {id} has no decision of its own about {} in {}",
            key.vulnerability, key.component
        )))
    }
}

/// Confirms for the release the decisions carried to it from earlier releases: one, or
/// all. Each becomes the release's own (origin `confirmed`).
#[utoipa::path(post, path = "/api/v1/releases/{id}/analyses/confirm", tag = "monitoring",
    params(("id" = String, Path)), request_body = ConfirmRequest, responses(
        (status = 200, description = "the decisions confirmed", body = Vec<AnalysisView>),
        (status = 404, description = "no such decision is carried to the release", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn confirm_analyses(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<ConfirmRequest>,
) -> Result<axum::Json<Vec<AnalysisView>>, ApiError> {
    decidable_release(&state, &caller, &id).await?;
    let only = match (&request.component, &request.vulnerability) {
        (Some(component), Some(vulnerability)) => {
            Some((component.as_str(), vulnerability.as_str()))
        }
        (None, None) => None,
        _ => {
            return Err(invalid(
                "/vulnerability",
                "give both the component and the vulnerability, or neither to confirm all",
            ));
        }
    };
    let confirmed = state
        .store()
        .confirm_analyses(&caller.actor(), &id, only)
        .await?;
    Ok(axum::Json(
        confirmed.iter().map(AnalysisView::own).collect(),
    ))
}

/// Every change of the decisions about a vulnerability of a component, in all releases
/// of the release's product, oldest first.
#[utoipa::path(get, path = "/api/v1/releases/{id}/analyses/history", tag = "monitoring",
    params(("id" = String, Path), AnalysisKey), responses((status = 200, body = Vec<HistoryView>)))]
pub async fn analysis_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(key): Query<AnalysisKey>,
) -> Result<axum::Json<Vec<HistoryView>>, ApiError> {
    crate::api::monitoring::visible_release(&state, &caller, &id).await?;
    let release = state.store().release(&id).await?;
    let history = state
        .store()
        .analysis_history(&release.product_id, &key.component, &key.vulnerability)
        .await?;
    Ok(axum::Json(
        history.into_iter().map(HistoryView::from).collect(),
    ))
}

/// The release's vulnerabilities and its decisions about them as a CycloneDX 1.6 VEX
/// (with the SBOM's components, each under the `bom-ref` an upload names it by). A
/// vulnerability without a decision of the release's own is `in_triage` (one whose
/// decision is carried says so in its detail until it is confirmed), or `resolved`
/// when the Debian revision the release ships carries the fix.
#[utoipa::path(get, path = "/api/v1/releases/{id}/vex", tag = "monitoring",
    params(("id" = String, Path)), responses(
        (status = 200, description = "a CycloneDX 1.6 JSON document", content_type = "application/vnd.cyclonedx+json"),
        (status = 404, description = "no such release, or its firmware was not scanned yet", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn export_vex(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    crate::api::monitoring::visible_release(&state, &caller, &id).await?;
    let release = state.store().release(&id).await?;
    let product = state.store().product(&release.product_id).await?;
    let sbom = state.store().release_sbom(&id).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "the SBOM of release {id} (its firmware has not been scanned yet)"
        ))
    })?;
    let found = state.store().release_vulnerabilities(&id).await?;
    let document = vex_document(&product, &release, &sbom.components, &found);
    let body = serde_json::to_vec_pretty(&document).expect("a JSON value serializes");
    let name = format!(
        "{}-{}.vex.cdx.json",
        file_safe(&product.name),
        file_safe(&release.version)
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.cyclonedx+json; version=1.6".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The name CycloneDX gives an advisory's source.
fn source_name(source: &str) -> &str {
    match source {
        "nvd" => "NVD",
        "osv" => "OSV",
        "debian" => "Debian",
        other => other,
    }
}

/// The URL of an advisory, where its source has one.
fn advisory_url(source: &str, advisory: &str) -> Option<String> {
    match source {
        "nvd" => Some(format!("https://nvd.nist.gov/vuln/detail/{advisory}")),
        "osv" => Some(format!("https://osv.dev/vulnerability/{advisory}")),
        "debian" => advisory
            .split('/')
            .next()
            .map(|cve| format!("https://security-tracker.debian.org/tracker/{cve}")),
        _ => None,
    }
}

/// The VEX document of a release.
fn vex_document(
    product: &provisor_store::Product,
    release: &provisor_store::Release,
    components: &[SbomComponent],
    found: &[provisor_store::ReleaseVulnerability],
) -> Value {
    let now = provisor_store::now_ms();
    let serial = provisor_store::sha256_hex(format!("{}\0{now}", release.id).as_bytes());
    let serial = format!(
        "urn:uuid:{}-{}-4{}-a{}-{}",
        &serial[..8],
        &serial[8..12],
        &serial[13..16],
        &serial[17..20],
        &serial[20..32]
    );
    let mut listed: Vec<Value> = Vec::new();
    for component in components {
        let mut entry = json!({
            "type": "library",
            "bom-ref": component.id(),
            "name": component.name,
            "version": component.version,
        });
        if let Some(purl) = &component.purl {
            entry["purl"] = json!(purl);
        }
        if let Some(cpe) = &component.cpe {
            entry["cpe"] = json!(cpe);
        }
        listed.push(entry);
    }
    // One entry per vulnerability and component key: the decision is one per pair.
    let mut grouped: BTreeMap<(String, String), Vec<&provisor_store::ReleaseVulnerability>> =
        BTreeMap::new();
    for vulnerability in found
        .iter()
        .filter(|found| found.state == "open" || found.state == "backported")
    {
        grouped
            .entry((
                vulnerability.vulnerability.clone(),
                vulnerability.component_key.clone(),
            ))
            .or_default()
            .push(vulnerability);
    }
    let mut vulnerabilities = Vec::new();
    for ((id, key), matches) in grouped {
        let first = matches[0];
        let mut affects: Vec<String> = matches
            .iter()
            .map(|found| found.component_ref.clone())
            .collect();
        affects.sort();
        affects.dedup();
        let mut advisories: Vec<Value> = matches
            .iter()
            .map(|found| {
                let mut advisory = json!({ "title": format!("{} {}", source_name(&found.source), found.advisory) });
                if let Some(url) = advisory_url(&found.source, &found.advisory) {
                    advisory["url"] = json!(url);
                }
                advisory
            })
            .collect();
        advisories.dedup();
        let severity = matches
            .iter()
            .filter_map(|found| found.severity.as_deref())
            .max_by_key(|severity| provisor_store::severity_rank(Some(severity)));
        let analysis = match &first.analysis {
            Some(effective) if !effective.carried => {
                let decision = &effective.analysis.decision;
                let mut analysis = json!({
                    "state": decision.state,
                    "detail": decision.detail,
                    "firstIssued": crate::api::assessments::humantime_rfc3339(effective.analysis.created_at),
                    "lastUpdated": crate::api::assessments::humantime_rfc3339(effective.analysis.updated_at),
                });
                if let Some(justification) = &decision.justification {
                    analysis["justification"] = json!(justification);
                }
                if !decision.response.is_empty() {
                    analysis["response"] = json!(decision.response);
                }
                analysis
            }
            _ if matches.iter().all(|found| found.state == "backported") => json!({
                "state": "resolved",
                "detail": first.reason.clone().unwrap_or_default(),
            }),
            Some(carried) => json!({
                "state": "in_triage",
                "detail": format!(
                    "Release {} decided {}{}: to be confirmed for this release.",
                    carried.analysis.release_version,
                    carried.analysis.decision.state,
                    carried
                        .analysis
                        .decision
                        .justification
                        .as_deref()
                        .map(|justification| format!(" ({justification})"))
                        .unwrap_or_default()
                ),
            }),
            None => json!({ "state": "in_triage" }),
        };
        let mut entry = json!({
            "bom-ref": format!("vulnerability:{id}:{key}"),
            "id": id,
            "source": { "name": source_name(&first.source) },
            "description": first.summary,
            "advisories": advisories,
            "analysis": analysis,
            "affects": affects.iter().map(|reference| json!({ "ref": reference })).collect::<Vec<_>>(),
            "properties": [{ "name": "provisor:component", "value": key }],
        });
        if let Some(url) = advisory_url(&first.source, &first.advisory) {
            entry["source"]["url"] = json!(url);
        }
        if let Some(severity) = severity {
            entry["ratings"] = json!([{ "severity": severity }]);
        }
        vulnerabilities.push(entry);
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": crate::api::assessments::humantime_rfc3339(now),
            "tools": { "components": [{ "type": "application", "name": "provisor", "version": env!("CARGO_PKG_VERSION") }] },
            "component": {
                "type": "firmware",
                "bom-ref": format!("release:{}", release.id),
                "name": product.name,
                "version": release.version,
            },
        },
        "components": listed,
        "vulnerabilities": vulnerabilities,
    })
}

/// A statement of an upload that was not applied.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotApplied {
    /// Where it is in the document (`vulnerabilities[2].affects[0]`).
    pub place: String,
    /// The vulnerability, when it names one.
    pub vulnerability: Option<String>,
    /// Why it was not applied.
    pub reason: String,
}

/// What an upload did.
#[derive(Debug, Serialize, ToSchema)]
pub struct VexReport {
    /// `recorded` (the release had no SBOM: the document's components are now its
    /// SBOM), `kept` (the release's SBOM stays as its scan found it), or `none` (the
    /// document has no versioned components and the release no SBOM).
    pub sbom: String,
    /// Components of the document.
    pub components: usize,
    /// Statements read: one per vulnerability and affected component, and one per
    /// backport a pedigree names.
    pub statements: usize,
    /// Statements now decisions of the release.
    pub applied: usize,
    /// Statements that said what the release had already decided.
    pub unchanged: usize,
    /// Every statement not applied, with why.
    pub not_applied: Vec<NotApplied>,
}

/// A component of an uploaded document as a component of the release's SBOM.
fn as_sbom(component: &cyclonedx::Component) -> SbomComponent {
    SbomComponent {
        name: component.name.clone(),
        version: component.version.clone(),
        purl: component.purl.clone(),
        cpe: component.cpe.clone(),
        source_package: component.source_package.clone(),
    }
}

/// Where an upload's Yocto statuses came from.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The name of an uploaded BitBake file (`openssl_3.0.8.bbappend`): it names the
    /// recipe its statuses are about (a `.conf` file names none).
    pub file: Option<String>,
}

/// What an upload holds, read.
enum Upload {
    CycloneDx(cyclonedx::Document),
    Yocto(Vec<yocto::Status>, Vec<NotApplied>),
}

fn read_upload(bytes: &[u8], file: Option<&str>) -> Result<Upload, String> {
    let start = bytes.iter().position(|byte| !byte.is_ascii_whitespace());
    if start.is_some_and(|at| bytes[at] == b'{') {
        if yocto::is_cve_check(bytes) {
            return Ok(Upload::Yocto(yocto::read_cve_check(bytes)?, Vec::new()));
        }
        return cyclonedx::read(bytes).map(Upload::CycloneDx);
    }
    let text = std::str::from_utf8(bytes).map_err(|error| {
        format!(
            "it is neither JSON nor BitBake text: byte {} is not UTF-8",
            error.valid_up_to()
        )
    })?;
    let name = file.unwrap_or("upload");
    let (statuses, unread) = yocto::read_bitbake(name, text);
    if statuses.is_empty() && unread.is_empty() {
        return Err(format!(
            "{name} sets no CVE_STATUS, CVE_CHECK_IGNORE or SRC_URI patch named for a CVE; \
             upload a CycloneDX document, Yocto's cve-check summary, or a BitBake file"
        ));
    }
    let unread = unread
        .into_iter()
        .map(|unread| NotApplied {
            place: unread.place,
            vulnerability: None,
            reason: unread.reason,
        })
        .collect();
    Ok(Upload::Yocto(statuses, unread))
}

/// Applies what a manufacturer's build and analysis say to a release (its admins and
/// editors), in one transaction; the answer lists every statement not applied, with
/// why. The body is one of:
///
/// - an SBOM with VEX, a CycloneDX 1.4 to 1.7 JSON document. When the release has no
///   SBOM yet, the document's components with a version become it. Each analysis
///   becomes the release's decision about the vulnerability in the component its
///   `affects` names (a `bom-ref` of the document, or of the release's SBOM as the VEX
///   export names them); each patch the pedigree says resolves a vulnerability, or is
///   named for one, a `resolved_with_pedigree` decision.
/// - the JSON summary of Yocto's `cve-check` (`cve-summary.json`), or a BitBake file
///   (`?file=openssl_3.0.8.bbappend`): its `CVE_STATUS` reasons, `CVE_CHECK_IGNORE`
///   and the patches its `SRC_URI` names for a CVE become decisions about the recipe's
///   component (a backport is `resolved`, `cpe-incorrect` a `false_positive`,
///   `not-applicable-config` `not_affected` with `code_not_present`, …).
#[utoipa::path(post, path = "/api/v1/releases/{id}/vex", tag = "monitoring",
    params(("id" = String, Path), UploadQuery), request_body(content = String, description = "a CycloneDX JSON document, Yocto's cve-check JSON summary, or a BitBake file", content_type = "application/vnd.cyclonedx+json"),
    responses(
        (status = 200, body = VexReport),
        (status = 413, body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "none of the formats read", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn upload_vex(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    body: axum::body::Body,
) -> Result<axum::Json<VexReport>, ApiError> {
    decidable_release(&state, &caller, &id).await?;
    let bytes: Bytes = axum::body::to_bytes(body, VEX_LIMIT)
        .await
        .map_err(|_| ApiError::too_large(format!("an upload may be at most {VEX_LIMIT} bytes")))?;
    let file = query.file.clone();
    let upload = tokio::task::spawn_blocking(move || read_upload(&bytes, file.as_deref()))
        .await
        .map_err(|error| ApiError::internal(format!("reading the upload failed: {error}")))?
        .map_err(|message| invalid("", message))?;
    let document = match upload {
        Upload::CycloneDx(document) => document,
        Upload::Yocto(statuses, unread) => {
            return apply_yocto(&state, &caller, &id, statuses, unread).await;
        }
    };
    let held = state.store().release_sbom(&id).await?;
    let uploaded: Vec<SbomComponent> = document
        .components
        .iter()
        .filter(|component| !component.name.is_empty() && !component.version.is_empty())
        .map(as_sbom)
        .collect();
    let (sbom, record, release_components) = match held {
        Some(held) => (None, "kept", held.components),
        None if uploaded.is_empty() => (None, "none", Vec::new()),
        None => (
            Some(ReleaseSbom {
                release_id: id.clone(),
                job_id: format!("upload:{}", caller.actor().label()),
                firmware_sha256: None,
                components: uploaded.clone(),
            }),
            "recorded",
            uploaded,
        ),
    };
    // The keys the release holds, and its components by their export `bom-ref`.
    let held_keys: HashSet<String> = release_components.iter().map(SbomComponent::key).collect();
    let by_export_ref: HashMap<String, &SbomComponent> = release_components
        .iter()
        .map(|component| (component.id(), component))
        .collect();
    let by_ref: HashMap<&str, &cyclonedx::Component> = document
        .components
        .iter()
        .filter_map(|component| component.bom_ref.as_deref().map(|key| (key, component)))
        .collect();
    let key_of = |component: &cyclonedx::Component| as_sbom(component).key();
    let mut report = VexReport {
        sbom: record.to_owned(),
        components: document.components.len(),
        statements: 0,
        applied: 0,
        unchanged: 0,
        not_applied: document
            .unread
            .iter()
            .map(|unread| NotApplied {
                place: unread.place.clone(),
                vulnerability: None,
                reason: unread.reason.clone(),
            })
            .collect(),
    };
    let mut statements: Vec<VexStatement> = Vec::new();
    let mut decided: HashMap<(String, String), String> = HashMap::new();
    for statement in &document.statements {
        report.statements += 1;
        let mut refuse = |reason: String| {
            report.not_applied.push(NotApplied {
                place: statement.place.clone(),
                vulnerability: Some(statement.vulnerability.clone()),
                reason,
            });
        };
        let key = if let Some(component) = by_ref.get(statement.reference.as_str()) {
            key_of(component)
        } else if let Some(component) = by_export_ref.get(&statement.reference) {
            component.key()
        } else {
            refuse(format!(
                "\"{}\" names no component of the document or of the release's SBOM",
                statement.reference
            ));
            continue;
        };
        if !held_keys.contains(&key) {
            refuse(format!(
                "the release's SBOM holds no component {key} (\"{}\")",
                statement.reference
            ));
            continue;
        }
        let pair = (key.clone(), statement.vulnerability.clone());
        if let Some(earlier) = decided.get(&pair) {
            refuse(format!(
                "{earlier} already decides {} in {key}: one decision per component",
                statement.vulnerability
            ));
            continue;
        }
        decided.insert(pair, statement.place.clone());
        statements.push(VexStatement {
            place: statement.place.clone(),
            component: key,
            vulnerability: statement.vulnerability.clone(),
            decision: Decision {
                state: statement.state.clone(),
                justification: statement.justification.clone(),
                response: statement.response.clone(),
                detail: statement.detail.clone(),
            },
            origin: Origin::Vex,
        });
    }
    for component in &document.components {
        let key = key_of(component);
        for backport in &component.backports {
            report.statements += 1;
            let place = format!("{}.pedigree", component.place);
            let pair = (key.clone(), backport.vulnerability.clone());
            let reason = if !held_keys.contains(&key) {
                Some(format!("the release's SBOM holds no component {key}"))
            } else {
                decided.get(&pair).map(|earlier| {
                    format!(
                        "{earlier} decides {} in {key}; the statement wins over the pedigree",
                        backport.vulnerability
                    )
                })
            };
            if let Some(reason) = reason {
                report.not_applied.push(NotApplied {
                    place,
                    vulnerability: Some(backport.vulnerability.clone()),
                    reason,
                });
                continue;
            }
            decided.insert(pair, place.clone());
            statements.push(VexStatement {
                place,
                component: key.clone(),
                vulnerability: backport.vulnerability.clone(),
                decision: Decision {
                    state: "resolved_with_pedigree".to_owned(),
                    justification: None,
                    response: Vec::new(),
                    detail: format!(
                        "{} {}: {}.",
                        component.name, component.version, backport.evidence
                    ),
                },
                origin: Origin::Backport,
            });
        }
    }
    let (_, outcomes) = state
        .store()
        .apply_vex(&caller.actor(), &id, sbom.as_ref(), &statements)
        .await?;
    tally(&mut report, &statements, outcomes);
    Ok(axum::Json(report))
}

/// The keys of a release's components a Yocto recipe builds: those named like it, from
/// it as their source package, or under its CPE product.
fn recipe_keys(recipe: &str, components: &[SbomComponent]) -> Vec<String> {
    let recipe = recipe.to_ascii_lowercase();
    let mut keys: Vec<String> = components
        .iter()
        .filter(|component| {
            let cpe_product = component
                .cpe
                .as_deref()
                .and_then(provisor_advisories::cpe_product)
                .and_then(|product| product.split_once(':').map(|(_, name)| name.to_owned()));
            component.name.eq_ignore_ascii_case(&recipe)
                || component
                    .source_package
                    .as_deref()
                    .is_some_and(|source| source.eq_ignore_ascii_case(&recipe))
                || component.key().split_once(':').map(|(_, name)| name) == Some(recipe.as_str())
                || cpe_product.as_deref() == Some(recipe.as_str())
        })
        .map(SbomComponent::key)
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Applies Yocto's statuses: each to the components its recipe builds (or, from a
/// file that names no recipe, to those the vulnerability is matched on).
async fn apply_yocto(
    state: &AppState,
    caller: &Caller,
    id: &str,
    statuses: Vec<yocto::Status>,
    unread: Vec<NotApplied>,
) -> Result<axum::Json<VexReport>, ApiError> {
    let held = state.store().release_sbom(id).await?.ok_or_else(|| {
        invalid(
            "",
            format!(
                "release {id} has no SBOM yet: Yocto's statuses are about its components; \
                 scan its firmware or upload its CycloneDX SBOM first"
            ),
        )
    })?;
    let matched = state.store().release_vulnerabilities(id).await?;
    let mut report = VexReport {
        sbom: "kept".to_owned(),
        components: 0,
        statements: statuses.len(),
        applied: 0,
        unchanged: 0,
        not_applied: unread,
    };
    let mut statements: Vec<VexStatement> = Vec::new();
    let mut decided: HashMap<(String, String), String> = HashMap::new();
    for status in statuses {
        let mut refuse = |reason: String| {
            report.not_applied.push(NotApplied {
                place: status.place.clone(),
                vulnerability: Some(status.vulnerability.clone()),
                reason,
            });
        };
        let verdict = match yocto::verdict(&status.reason) {
            Ok(verdict) => verdict,
            Err(reason) => {
                refuse(reason);
                continue;
            }
        };
        let keys = match &status.recipe {
            Some(recipe) => recipe_keys(recipe, &held.components),
            None => {
                let mut keys: Vec<String> = matched
                    .iter()
                    .filter(|found| found.vulnerability == status.vulnerability)
                    .map(|found| found.component_key.clone())
                    .collect();
                keys.sort();
                keys.dedup();
                keys
            }
        };
        if keys.is_empty() {
            refuse(match &status.recipe {
                Some(recipe) => format!("the release's SBOM holds no component of recipe {recipe}"),
                None => format!(
                    "the file names no recipe, and {} is matched on no component of the release",
                    status.vulnerability
                ),
            });
            continue;
        }
        let detail = if status.detail.is_empty() {
            format!("Yocto: {}.", status.reason)
        } else {
            format!(
                "Yocto: {}: {}.",
                status.reason,
                status.detail.trim_end_matches('.')
            )
        };
        for key in keys {
            let pair = (key.clone(), status.vulnerability.clone());
            if let Some(earlier) = decided.get(&pair) {
                report.not_applied.push(NotApplied {
                    place: status.place.clone(),
                    vulnerability: Some(status.vulnerability.clone()),
                    reason: format!(
                        "{earlier} already decides {} in {key}: one decision per component",
                        status.vulnerability
                    ),
                });
                continue;
            }
            decided.insert(pair, status.place.clone());
            statements.push(VexStatement {
                place: status.place.clone(),
                component: key,
                vulnerability: status.vulnerability.clone(),
                decision: Decision {
                    state: verdict.state.to_owned(),
                    justification: verdict.justification.map(str::to_owned),
                    response: verdict.response.map(str::to_owned).into_iter().collect(),
                    detail: detail.clone(),
                },
                origin: if verdict.backport {
                    Origin::Backport
                } else {
                    Origin::Vex
                },
            });
        }
    }
    let (_, outcomes) = state
        .store()
        .apply_vex(&caller.actor(), id, None, &statements)
        .await?;
    tally(&mut report, &statements, outcomes);
    Ok(axum::Json(report))
}

/// Counts what became of the statements applied.
fn tally(report: &mut VexReport, statements: &[VexStatement], outcomes: Vec<Outcome>) {
    for (statement, outcome) in statements.iter().zip(outcomes) {
        match outcome {
            Outcome::Applied => report.applied += 1,
            Outcome::Unchanged => report.unchanged += 1,
            Outcome::Refused(reason) => report.not_applied.push(NotApplied {
                place: statement.place.clone(),
                vulnerability: Some(statement.vulnerability.clone()),
                reason,
            }),
        }
    }
}
