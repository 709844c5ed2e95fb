//! The admin pages: organisations (server admins make them; an organisation's admins
//! manage its members, their roles and whether a second factor is required), users
//! (server admins make them), the host-scan allow-list and the advisory database
//! (server admins). Every change goes through the API's own handler, so the checks and
//! the audit entries are the same; a refused change comes back as the page with the
//! reason.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use provisor_store::{OrganisationKind, Role};
use serde::Deserialize;

use super::{Nav, PageError, Signed, message_of, render, see_other, when, with_status};
use crate::advisories::AdvisoriesSummary;
use crate::api::admin::{
    MemberRequest, OrganisationRequest, OrganisationSettings, UserRequest, create_organisation,
    create_user, organisation_settings, set_member,
};
use crate::api::jobs::{TargetRequest, allow_target, revoke_target};
use crate::extract::Json;
use crate::{ApiError, AppState};

/// The roles, in the order forms offer them.
const ROLES: [&str; 5] = ["viewer", "editor", "assessor", "reviewer", "admin"];

/// `?done=` after a change: which change the page confirms (a code, so that a link
/// cannot make the page say something else).
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

impl Done {
    fn notice(&self) -> Option<String> {
        let text = match self.done.as_str() {
            "organisation" => "The organisation is made: add its members on its page.",
            "user" => {
                "The user is made: give them their first password, which they change on their account page."
            }
            "target" => "Host scans of the target are allowed.",
            "untarget" => "The target is no longer allowed.",
            "advisories" => {
                "The advisory database is replaced: the next firmware scans match against it."
            }
            "member" => "The membership is changed.",
            "totp-on" => {
                "Members must now use an authenticator app: those without one set it up at their next login."
            }
            "totp-off" => {
                "A second factor is no longer required of members (admins still use one)."
            }
            _ => return None,
        };
        Some(text.to_owned())
    }
}

struct OrganisationRow {
    id: String,
    name: String,
    kind: &'static str,
    require_totp: bool,
    members: usize,
}

struct UserRow {
    login: String,
    display_name: String,
    server_admin: bool,
    totp_enrolled: bool,
    disabled: bool,
    organisations: String,
}

struct TargetRow {
    target: String,
    note: String,
    allowed_by: String,
    allowed_at: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: Nav,
    server_admin: bool,
    organisations: Vec<OrganisationRow>,
    users: Vec<UserRow>,
    targets: Vec<TargetRow>,
    advisories: Option<AdvisoriesSummary>,
    message: Option<String>,
    notice: Option<String>,
}

fn kind_name(kind: OrganisationKind) -> &'static str {
    match kind {
        OrganisationKind::Manufacturer => "manufacturer",
        OrganisationKind::Lab => "lab",
    }
}

async fn admin_page(state: &AppState, signed: &Signed) -> Result<AdminPage, PageError> {
    if !super::administers(&signed.caller.user) {
        return Err(super::not_found().await);
    }
    let store = state.store();
    let server_admin = signed.caller.user.server_admin;
    let users = store.users().await.map_err(ApiError::from)?;
    let all = store.organisations().await.map_err(ApiError::from)?;
    let names: std::collections::BTreeMap<&str, &str> = all
        .iter()
        .map(|organisation| (organisation.id.as_str(), organisation.name.as_str()))
        .collect();
    let organisations = all
        .iter()
        .filter(|organisation| signed.caller.role_in(&organisation.id) == Some(Role::Admin))
        .map(|organisation| OrganisationRow {
            id: organisation.id.clone(),
            name: organisation.name.clone(),
            kind: kind_name(organisation.kind),
            require_totp: organisation.require_totp,
            members: users
                .iter()
                .filter(|user| user.role_in(&organisation.id).is_some())
                .count(),
        })
        .collect();
    let (users, targets, advisories) = if server_admin {
        let users = users
            .iter()
            .map(|user| UserRow {
                login: user.login.clone(),
                display_name: user.display_name.clone(),
                server_admin: user.server_admin,
                totp_enrolled: user.totp_enrolled,
                disabled: user.disabled,
                organisations: user
                    .memberships
                    .iter()
                    .map(|(id, role)| {
                        format!(
                            "{} ({})",
                            names.get(id.as_str()).copied().unwrap_or(id),
                            role.as_str()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect();
        let targets = store
            .scan_targets()
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|target| TargetRow {
                target: target.target,
                note: target.note,
                allowed_by: target.allowed_by,
                allowed_at: when(target.allowed_at),
            })
            .collect();
        (users, targets, crate::advisories::summary(state).await?)
    } else {
        (Vec::new(), Vec::new(), None)
    };
    Ok(AdminPage {
        nav: signed.nav("admin"),
        server_admin,
        organisations,
        users,
        targets,
        advisories,
        message: None,
        notice: None,
    })
}

/// The admin overview.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let mut page = admin_page(&state, &signed).await?;
    page.notice = done.notice();
    Ok(render(&page))
}

/// After a change: back to `to` saying what was done, or the page again with why not
/// (a refusal the person can act on), or an error page.
async fn after(
    state: &AppState,
    signed: &Signed,
    outcome: Result<(), ApiError>,
    to: &str,
    done: &str,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => {
            let (path, anchor) = to.split_once('#').unwrap_or((to, ""));
            let anchor = if anchor.is_empty() {
                String::new()
            } else {
                format!("#{anchor}")
            };
            Ok(see_other(&format!("{path}?done={done}{anchor}")))
        }
        Err(error)
            if matches!(
                error.status(),
                StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::FORBIDDEN
            ) =>
        {
            let status = error.status();
            let response = if let Some(id) = to.strip_prefix("/admin/organisations/") {
                let mut page = organisation_page(state, signed, id).await?;
                page.message = Some(message_of(&error));
                render(&page)
            } else {
                let mut page = admin_page(state, signed).await?;
                page.message = Some(message_of(&error));
                render(&page)
            };
            Ok(with_status(response, status))
        }
        Err(error) => Err(error.into()),
    }
}

/// The new organisation form.
#[derive(Debug, Deserialize)]
pub struct OrganisationForm {
    csrf: String,
    name: String,
    kind: String,
}

/// Makes an organisation (server admins).
pub async fn new_organisation(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<OrganisationForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let outcome = create_organisation(
        State(state.clone()),
        signed.caller.clone(),
        Json(OrganisationRequest {
            name: form.name.trim().to_owned(),
            kind: form.kind,
        }),
    )
    .await
    .map(|_| ());
    after(&state, &signed, outcome, "/admin", "organisation").await
}

/// The new user form.
#[derive(Debug, Deserialize)]
pub struct UserForm {
    csrf: String,
    login: String,
    display_name: String,
    password: String,
    #[serde(default)]
    server_admin: Option<String>,
}

/// Makes a user (server admins).
pub async fn new_user(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let outcome = create_user(
        State(state.clone()),
        signed.caller.clone(),
        Json(UserRequest {
            login: form.login.trim().to_owned(),
            display_name: form.display_name.trim().to_owned(),
            password: form.password,
            server_admin: form.server_admin.is_some(),
        }),
    )
    .await
    .map(|_| ());
    after(&state, &signed, outcome, "/admin", "user").await
}

/// The allow-list forms.
#[derive(Debug, Deserialize)]
pub struct TargetForm {
    csrf: String,
    target: String,
    #[serde(default)]
    note: String,
}

/// Allows host scans of an address or range (server admins).
pub async fn allow(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<TargetForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let outcome = allow_target(
        State(state.clone()),
        signed.caller.clone(),
        Json(TargetRequest {
            target: form.target.trim().to_owned(),
            note: form.note,
        }),
    )
    .await
    .map(|_| ());
    after(&state, &signed, outcome, "/admin", "target").await
}

/// Withdraws a target from the allow-list (server admins).
pub async fn disallow(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<TargetForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let outcome = revoke_target(
        State(state.clone()),
        signed.caller.clone(),
        Path(form.target.replace('/', "_")),
    )
    .await
    .map(|_| ());
    after(&state, &signed, outcome, "/admin", "untarget").await
}

/// Replaces the advisory database with the uploaded files (server admins).
pub async fn advisories(
    State(state): State<AppState>,
    signed: Signed,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut received = Vec::new();
    let mut uploads = Vec::new();
    let mut read = async || {
        while let Some(mut field) = form.next_field().await.map_err(|error| {
            ApiError::bad_request(format!("the form could not be read: {error}"))
        })? {
            match field.name() {
                Some("csrf") => csrf = super::text_field(&mut field, 200).await?,
                Some("files") => {
                    let name = field.file_name().unwrap_or("upload").to_owned();
                    if name.is_empty() {
                        continue;
                    }
                    let (file, _) = super::file_field(&state, &mut field).await?;
                    uploads.push(crate::advisories::Upload {
                        name,
                        path: file.path().to_owned(),
                    });
                    received.push(file);
                }
                _ => {}
            }
        }
        Ok::<(), ApiError>(())
    };
    read().await?;
    super::check_csrf(&signed.caller, &csrf)?;
    let outcome = crate::advisories::replace(&state, &signed.caller, uploads)
        .await
        .map(|_| ());
    after(&state, &signed, outcome, "/admin#advisories", "advisories").await
}

struct MemberRow {
    id: String,
    login: String,
    display_name: String,
    role: &'static str,
    totp_enrolled: bool,
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    nav: Nav,
    id: String,
    name: String,
    kind: &'static str,
    require_totp: bool,
    members: Vec<MemberRow>,
    roles: [&'static str; 5],
    message: Option<String>,
    notice: Option<String>,
}

async fn organisation_page(
    state: &AppState,
    signed: &Signed,
    id: &str,
) -> Result<OrganisationPage, PageError> {
    // An organisation the person does not administer is not found.
    if signed.caller.role_in(id) != Some(Role::Admin) {
        return Err(super::not_found().await);
    }
    let store = state.store();
    let organisation = store.organisation(id).await.map_err(ApiError::from)?;
    let mut members: Vec<MemberRow> = store
        .users()
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .filter_map(|user| {
            let role = user.role_in(id)?;
            Some(MemberRow {
                id: user.id,
                login: user.login,
                display_name: user.display_name,
                role: role.as_str(),
                totp_enrolled: user.totp_enrolled,
            })
        })
        .collect();
    members.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    Ok(OrganisationPage {
        nav: signed.nav("admin"),
        id: organisation.id,
        name: organisation.name,
        kind: kind_name(organisation.kind),
        require_totp: organisation.require_totp,
        members,
        roles: ROLES,
        message: None,
        notice: None,
    })
}

/// An organisation's members and settings.
pub async fn organisation(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let mut page = organisation_page(&state, &signed, &id).await?;
    page.notice = done.notice();
    Ok(render(&page))
}

/// A member form: add by login, change a role, or remove (an empty role).
#[derive(Debug, Deserialize)]
pub struct MemberForm {
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    role: String,
}

/// Adds a member, changes a member's role or removes a member.
pub async fn member(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    if signed.caller.role_in(&id) != Some(Role::Admin) {
        return Err(super::not_found().await);
    }
    let to = format!("/admin/organisations/{id}");
    let user = if form.user.is_empty() {
        let login = form.login.trim().to_lowercase();
        match state
            .store()
            .user_by_login(&login)
            .await
            .map_err(ApiError::from)?
        {
            Some(user) => user,
            None => {
                let error = ApiError::invalid(
                    format!("there is no user with the login \"{login}\""),
                    vec![crate::ProblemPlace {
                        location: "login".into(),
                        message: "a server admin makes the account first (Admin › Users)".into(),
                    }],
                );
                return after(&state, &signed, Err(error), &to, "member").await;
            }
        }
    } else {
        state
            .store()
            .user(&form.user)
            .await
            .map_err(ApiError::from)?
    };
    let role = Some(form.role.clone()).filter(|role| !role.is_empty());
    let outcome = set_member(
        State(state.clone()),
        signed.caller.clone(),
        Path((id.clone(), user.id.clone())),
        Json(MemberRequest { role }),
    )
    .await
    .map(|_| ());
    after(&state, &signed, outcome, &to, "member").await
}

/// The second-factor setting's form.
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    csrf: String,
    #[serde(default)]
    require_totp: Option<String>,
}

/// Requires (or stops requiring) a second factor of the organisation's members.
pub async fn settings(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    if signed.caller.role_in(&id) != Some(Role::Admin) {
        return Err(super::not_found().await);
    }
    let require = form.require_totp.is_some();
    let outcome = organisation_settings(
        State(state.clone()),
        signed.caller.clone(),
        Path(id.clone()),
        Json(OrganisationSettings {
            require_totp: require,
        }),
    )
    .await
    .map(|_| ());
    let done = if require { "totp-on" } else { "totp-off" };
    after(
        &state,
        &signed,
        outcome,
        &format!("/admin/organisations/{id}"),
        done,
    )
    .await
}
