//! Administration: users (server admins), organisations (server admins make them; their
//! admins manage members and settings), the advisory database (server admins replace
//! it; everyone may see what it holds).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use provisor_store::{NewOrganisation, NewUser, Organisation, OrganisationKind, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::accounts::UserView;
use crate::advisories::AdvisoriesSummary;
use crate::auth::{ADMINS, Caller};
use crate::extract::{Json, Query};
use crate::{ApiError, AppState, ProblemPlace};

/// Every user (server admins only).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = Vec<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<UserView>>, ApiError> {
    caller.require_server_admin()?;
    let users = state.store().users().await?;
    Ok(axum::Json(users.iter().map(UserView::from).collect()))
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    /// The login name.
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// A first password (at least 12 characters), to be changed by the user.
    pub password: String,
    /// Whether the user administers the server.
    #[serde(default)]
    pub server_admin: bool,
}

/// Creates a user (server admins only).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = UserRequest, responses(
    (status = 201, body = UserView),
    (status = 409, description = "the login is taken", body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<UserRequest>,
) -> Result<(StatusCode, axum::Json<UserView>), ApiError> {
    caller.require_server_admin()?;
    let user = state
        .store()
        .create_user(
            &caller.actor(),
            &NewUser {
                login: request.login,
                display_name: request.display_name,
                password: request.password,
                server_admin: request.server_admin,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(UserView::from(&user))))
}

/// An organisation as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationView {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// manufacturer or lab.
    pub kind: String,
    /// Whether its members must use a second factor.
    pub require_totp: bool,
}

impl From<&Organisation> for OrganisationView {
    fn from(organisation: &Organisation) -> OrganisationView {
        OrganisationView {
            id: organisation.id.clone(),
            name: organisation.name.clone(),
            kind: match organisation.kind {
                OrganisationKind::Manufacturer => "manufacturer".into(),
                OrganisationKind::Lab => "lab".into(),
            },
            require_totp: organisation.require_totp,
        }
    }
}

/// The organisations the caller belongs to (all of them for a server admin).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "admin", responses((status = 200, body = Vec<OrganisationView>)))]
pub async fn list_organisations(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<OrganisationView>>, ApiError> {
    let organisations = state.store().organisations().await?;
    Ok(axum::Json(
        organisations
            .iter()
            .filter(|organisation| caller.role_in(&organisation.id).is_some())
            .map(OrganisationView::from)
            .collect(),
    ))
}

/// An organisation to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationRequest {
    /// The name.
    pub name: String,
    /// manufacturer or lab.
    pub kind: String,
}

/// Creates an organisation (server admins only).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "admin", request_body = OrganisationRequest, responses(
    (status = 201, body = OrganisationView),
    (status = 409, body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn create_organisation(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<OrganisationRequest>,
) -> Result<(StatusCode, axum::Json<OrganisationView>), ApiError> {
    caller.require_server_admin()?;
    let kind = match request.kind.as_str() {
        "manufacturer" => OrganisationKind::Manufacturer,
        "lab" => OrganisationKind::Lab,
        other => {
            return Err(ApiError::invalid(
                "unknown kind of organisation",
                vec![ProblemPlace {
                    location: "/kind".into(),
                    message: format!("\"{other}\" is neither manufacturer nor lab"),
                }],
            ));
        }
    };
    let organisation = state
        .store()
        .create_organisation(
            &caller.actor(),
            &NewOrganisation {
                name: request.name,
                kind,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(OrganisationView::from(&organisation)),
    ))
}

/// A member's role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRequest {
    /// admin, editor, assessor, reviewer or viewer; null removes the member.
    pub role: Option<String>,
}

/// Gives a user a role in an organisation, or removes them (the organisation's admins).
#[utoipa::path(put, path = "/api/v1/organisations/{id}/members/{user}", tag = "admin", request_body = MemberRequest,
    params(("id" = String, Path), ("user" = String, Path)), responses((status = 204)))]
pub async fn set_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((organisation, user)): Path<(String, String)>,
    Json(request): Json<MemberRequest>,
) -> Result<StatusCode, ApiError> {
    caller.require_role(
        &organisation,
        ADMINS,
        &format!("organisation {organisation}"),
    )?;
    let role = request
        .role
        .as_deref()
        .map(|name| {
            Role::parse(name).ok_or_else(|| {
                ApiError::invalid(
                    "unknown role",
                    vec![ProblemPlace {
                        location: "/role".into(),
                        message: format!(
                            "\"{name}\" is not a role: admin, editor, assessor, reviewer or viewer"
                        ),
                    }],
                )
            })
        })
        .transpose()?;
    state.store().user(&user).await?;
    state
        .store()
        .set_membership(&caller.actor(), &user, &organisation, role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An organisation's settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationSettings {
    /// Whether every member must use a TOTP second factor.
    pub require_totp: bool,
}

/// Changes an organisation's settings (its admins).
#[utoipa::path(put, path = "/api/v1/organisations/{id}/settings", tag = "admin", request_body = OrganisationSettings,
    params(("id" = String, Path)), responses((status = 204)))]
pub async fn organisation_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(organisation): Path<String>,
    Json(request): Json<OrganisationSettings>,
) -> Result<StatusCode, ApiError> {
    caller.require_role(
        &organisation,
        ADMINS,
        &format!("organisation {organisation}"),
    )?;
    state
        .store()
        .set_require_totp(&caller.actor(), &organisation, request.require_totp)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where an uploaded advisory file came from, for the messages.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AdvisoriesUpload {
    /// The file's name (`osv.tar.gz`).
    pub name: Option<String>,
}

/// What the advisory database in use holds (any signed-in caller; absent when none was
/// uploaded).
#[utoipa::path(get, path = "/api/v1/advisories", tag = "admin", responses(
    (status = 200, body = AdvisoriesSummary),
    (status = 404, description = "no advisory database was uploaded", body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn advisories(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<axum::Json<AdvisoriesSummary>, ApiError> {
    crate::advisories::summary(&state)
        .await?
        .map(axum::Json)
        .ok_or_else(|| {
            ApiError::not_found(
                "no advisory database was uploaded: a server admin uploads one (PUT /api/v1/advisories)",
            )
        })
}

/// Replaces the advisory database firmware scans match components against (server
/// admins): an OSV JSON file (one advisory or an array), a tar archive of OSV files
/// (gzip-compressed or not), or a database written by `provisor advisories import`.
#[utoipa::path(put, path = "/api/v1/advisories", tag = "admin", params(AdvisoriesUpload),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, body = AdvisoriesSummary),
        (status = 422, body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn replace_advisories(
    State(state): State<AppState>,
    caller: Caller,
    Query(upload): Query<AdvisoriesUpload>,
    body: Body,
) -> Result<axum::Json<AdvisoriesSummary>, ApiError> {
    caller.require_server_admin()?;
    let received = super::assessments::receive(&state, body).await?;
    let summary = crate::advisories::replace(
        &state,
        &caller,
        vec![crate::advisories::Upload {
            name: upload.name.unwrap_or_else(|| "upload".to_owned()),
            path: received.path().to_owned(),
        }],
    )
    .await?;
    Ok(axum::Json(summary))
}
