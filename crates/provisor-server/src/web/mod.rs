//! The web pages people work in: server-rendered HTML from askama templates (checked
//! at compile time, `templates/`), every core flow a plain form that works without
//! JavaScript, one stylesheet served by the server itself (the content security policy
//! allows no inline style or script). Pages use the session cookie only; every form
//! that changes something carries the session's CSRF token as a field, checked here,
//! and a form posted from another site is refused. What a signed-in person may not see
//! is "not found", as in the API.

mod account;
mod admin;
mod assessment;
mod assets;
mod diff;
mod ics;
mod ixit;
mod portfolio;
mod product;
mod questions;
mod release;
mod scans;
mod settings;
mod tests;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::auth::{Caller, Via, page_session, same_secret};
use crate::{ApiError, AppState};

/// The pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(account::login_page).post(account::login))
        .route("/login/code", get(account::code_page).post(account::code))
        .route(
            "/account/second-factor",
            get(account::enrol_page).post(account::enrol),
        )
        .route("/logout", post(account::logout))
        .route("/admin", get(admin::page))
        .route("/admin/organisations", post(admin::new_organisation))
        .route("/admin/organisations/{id}", get(admin::organisation))
        .route("/admin/organisations/{id}/members", post(admin::member))
        .route("/admin/organisations/{id}/settings", post(admin::settings))
        .route("/admin/users", post(admin::new_user))
        .route("/admin/scan-targets", post(admin::allow))
        .route("/admin/scan-targets/remove", post(admin::disallow))
        .route("/admin/advisories", post(admin::advisories))
        .route("/account", get(settings::page))
        .route("/account/password", post(settings::password))
        .route("/account/tokens", post(settings::make_token))
        .route("/account/tokens/{id}/revoke", post(settings::revoke))
        .route("/portfolio", get(portfolio::page))
        .route("/assessments/{id}", get(assessment::page))
        .route("/assessments/{id}/review", post(assessment::review))
        .route("/assessments/{id}/reports", post(assessment::issue_report))
        .route(
            "/assessments/{id}/questions",
            get(questions::page).post(questions::answer),
        )
        .route("/assessments/{id}/ics", get(ics::page).post(ics::save))
        .route("/assessments/{id}/comments", post(ics::comment))
        .route("/assessments/{id}/ixit", get(ixit::page).post(ixit::save))
        .route("/assessments/{id}/diff", get(diff::page))
        .route("/products", post(product::create))
        .route("/products/new", get(product::form_page))
        .route(
            "/assessments/{id}/scans",
            get(scans::page).post(scans::upload),
        )
        .route("/assessments/{id}/triage", post(scans::triage))
        .route("/assessments/{id}/host-scans", post(scans::host))
        .route(
            "/assessments/{id}/tests",
            get(tests::page).post(tests::save),
        )
        .route("/releases/{id}", get(release::page))
        .route("/releases/{id}/assessments", post(release::start))
        .route("/releases/{id}/carry", post(release::carry))
        .route("/releases/{id}/decisions", post(release::decide))
        .route("/releases/{id}/next", post(release::next))
        .route("/assets/app.css", get(assets::stylesheet))
        .route("/assets/icon.svg", get(assets::icon))
        .route("/assets/app.js", get(assets::script))
        .route("/favicon.ico", get(assets::icon))
}

/// What the layout shows of who is signed in.
pub struct NavUser {
    /// The name shown.
    pub display_name: String,
    /// Whether the person administers the server or an organisation (the admin pages).
    pub admin: bool,
}

/// What every page's layout needs.
pub struct Nav {
    /// Who is signed in, if anyone.
    pub user: Option<NavUser>,
    /// The session's CSRF token, for the forms.
    pub csrf: String,
    /// The section the page belongs to (marked in the navigation).
    pub section: &'static str,
    /// provisor's version.
    pub version: &'static str,
}

impl Nav {
    /// The layout of a page nobody is signed in to.
    pub fn anonymous() -> Nav {
        Nav {
            user: None,
            csrf: String::new(),
            section: "",
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    fn of(caller: &Caller, section: &'static str) -> Nav {
        Nav {
            user: Some(NavUser {
                display_name: caller.user.display_name.clone(),
                admin: administers(&caller.user),
            }),
            csrf: csrf_of(caller),
            section,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Whether a person administers the server or an organisation (the admin pages).
pub fn administers(user: &provisor_store::User) -> bool {
    user.server_admin
        || user
            .memberships
            .iter()
            .any(|(_, role)| *role == provisor_store::Role::Admin)
}

/// An edition as pages name it (`EN 303 645 V3.1.3`), its id when it is not known.
pub fn edition_title(id: &str) -> String {
    provisor_catalog::edition(id)
        .map_or_else(|| id.to_owned(), |catalog| catalog.short_title.clone())
}

/// The assessments of a product the person may read, newest release first and, within
/// a release, newest first, each with its label (`3.2.0 · EN 303 645 V3.1.3 · self ·
/// approved`); those `skip` names are left out.
pub async fn product_assessments(
    state: &AppState,
    caller: &Caller,
    product: &str,
    skip: impl Fn(&provisor_store::AssessmentRecord) -> bool,
) -> Result<Vec<(provisor_store::AssessmentRecord, String)>, PageError> {
    let store = state.store();
    let mut releases = store.releases(product).await.map_err(ApiError::from)?;
    releases.reverse();
    let mut found = Vec::new();
    for release in &releases {
        for assessment in store
            .assessments_of_release(&release.id)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .rev()
            .filter(|record| !skip(record) && caller.assessment_role(record).is_some())
        {
            let label = format!(
                "{} · {} · {}{}",
                release.version,
                edition_title(&assessment.edition),
                assessment.kind,
                if assessment.approved_revision.is_some() {
                    " · approved"
                } else {
                    ""
                }
            );
            found.push((assessment, label));
        }
    }
    Ok(found)
}

fn csrf_of(caller: &Caller) -> String {
    match &caller.via {
        Via::Session { session, .. } => session.csrf_token.clone(),
        Via::Token(_) => String::new(),
    }
}

/// A person signed in with the second factor given: what a page of the application
/// needs. Without a session the page answers with the login page's address (and comes
/// back after); a session that owes its second factor goes to give it first.
pub struct Signed {
    /// Who.
    pub caller: Caller,
}

impl Signed {
    /// The layout of a page of `section`.
    pub fn nav(&self, section: &'static str) -> Nav {
        Nav::of(&self.caller, section)
    }
}

fn check_csrf(caller: &Caller, sent: &str) -> Result<(), PageError> {
    let expected = csrf_of(caller);
    if expected.is_empty() || !same_secret(sent, &expected) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "The form has expired",
            "The form was not sent from this session's page (its security token does not match). Load the page again and send it once more.",
        ));
    }
    Ok(())
}

/// Where a page is, to come back to after logging in.
fn return_address(parts: &Parts) -> String {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.clone(), |original| original.0.clone());
    uri.path_and_query()
        .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned())
}

/// `next` if it is a path of this server, else the portfolio: a login link cannot send
/// a person elsewhere.
pub fn local_path(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/portfolio".to_owned()
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = page_session(parts, state)
            .await
            .map_err(|error| PageError::from(error).into_response())?;
        let next = return_address(parts);
        let Some(caller) = caller else {
            return Err(see_other(&format!("/login?next={}", encode(&next))));
        };
        if let Via::Session { session, .. } = &caller.via
            && !session.second_factor
        {
            let page = if caller.user.totp_enrolled {
                "/login/code"
            } else {
                "/account/second-factor"
            };
            return Err(see_other(&format!("{page}?next={}", encode(&next))));
        }
        Ok(Signed { caller })
    }
}

/// A session that may still owe its second factor (the pages that take it).
pub struct Pending {
    /// Who.
    pub caller: Caller,
}

impl FromRequestParts<AppState> for Pending {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match page_session(parts, state).await {
            Ok(Some(caller)) => Ok(Pending { caller }),
            Ok(None) => Err(see_other("/login")),
            Err(error) => Err(PageError::from(error).into_response()),
        }
    }
}

/// 303 See Other: after a form, the browser loads the next page with GET.
pub fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// A query-string value, percent-encoded.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether a form was posted from a page of another site. Browsers say where a request
/// comes from in `Sec-Fetch-Site`; without it, an `Origin` naming another host counts.
/// (`Origin: null` is what a browser sends under the pages' no-referrer policy, so it
/// says nothing.)
pub fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
    {
        return !matches!(site, "same-origin" | "none");
    }
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) if origin != "null" => origin
            .split_once("://")
            .is_none_or(|(_, authority)| authority != host),
        _ => false,
    }
}

/// An assessment a page shows, with its release and product.
pub struct Shown {
    /// The assessment.
    pub record: provisor_store::AssessmentRecord,
    /// Its release.
    pub release: provisor_store::Release,
    /// The release's product.
    pub product: provisor_store::Product,
}

/// The assessment `id` if the person may read it (else not found), with its release and
/// product.
pub async fn shown(state: &AppState, signed: &Signed, id: &str) -> Result<Shown, PageError> {
    let record =
        crate::api::assessments::visible(state, &signed.caller, id, crate::auth::READERS).await?;
    let store = state.store();
    let release = store
        .release(&record.release_id)
        .await
        .map_err(ApiError::from)?;
    let product = store
        .product(&release.product_id)
        .await
        .map_err(ApiError::from)?;
    Ok(Shown {
        record,
        release,
        product,
    })
}

/// What a form's change was refused for, when the page can say it and let the person
/// try again (the assessment moved on, or the change is invalid): the status and the
/// message. Anything else is an error page.
pub fn refusal(error: &ApiError) -> Option<(StatusCode, String)> {
    match error.status() {
        StatusCode::CONFLICT => Some((
            StatusCode::CONFLICT,
            "Someone changed the assessment since this page was loaded: here it is as it is now. Make your change again.".to_owned(),
        )),
        StatusCode::UNPROCESSABLE_ENTITY => {
            Some((StatusCode::UNPROCESSABLE_ENTITY, message_of(error)))
        }
        _ => None,
    }
}

/// An error's detail with the places it names, for a form's message: a file's place
/// (`name:line:column`) is said, a JSON pointer into an API body is not (the form has
/// no such thing).
pub fn message_of(error: &ApiError) -> String {
    let mut message = error.detail().to_owned();
    for place in error.places() {
        if place.location.is_empty() || place.location.starts_with('/') {
            message.push_str(&format!(" — {}", place.message));
        } else {
            message.push_str(&format!(" — {}: {}", place.location, place.message));
        }
    }
    message
}

/// A page shown again with a message, under the status that says why.
pub fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

/// Reads a multipart form's text field, no further than `limit` bytes.
pub async fn text_field(
    field: &mut axum::extract::multipart::Field<'_>,
    limit: usize,
) -> Result<String, ApiError> {
    let name = field.name().unwrap_or("").to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| ApiError::bad_request(format!("the form could not be read: {error}")))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::too_large(format!(
                "the form's field {name} is longer than {limit} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request(format!("the form's field {name} is not UTF-8 text")))
}

/// Streams a multipart form's file field to a temporary file of the data directory,
/// refusing it past the server's upload limit; returns the file and its size.
pub async fn file_field(
    state: &AppState,
    field: &mut axum::extract::multipart::Field<'_>,
) -> Result<(tempfile::NamedTempFile, u64), ApiError> {
    file_field_within(state, field, state.config().max_upload).await
}

/// [`file_field`] against what is left of a form's budget (`limit` bytes, at most the
/// server's upload limit): a form of several files holds no more than one may.
pub async fn file_field_within(
    state: &AppState,
    field: &mut axum::extract::multipart::Field<'_>,
    limit: u64,
) -> Result<(tempfile::NamedTempFile, u64), ApiError> {
    use tokio::io::AsyncWriteExt;
    let limit = limit.min(state.config().max_upload);
    let temporary = tempfile::NamedTempFile::new_in(crate::api::assessments::temporary_dir(state)?)
        .map_err(ApiError::internal)?;
    let mut file = tokio::fs::File::from_std(temporary.reopen().map_err(ApiError::internal)?);
    let mut received = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(|error| {
        ApiError::bad_request(format!(
            "the upload broke off after {received} bytes: {error}"
        ))
    })? {
        received += chunk.len() as u64;
        if received > limit {
            return Err(ApiError::too_large(format!(
                "the upload is larger than the server's limit of {} bytes, all of a form's files together (provisor serve --max-upload)",
                state.config().max_upload
            )));
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)?;
    Ok((temporary, received))
}

/// A time for people: `2026-11-30 14:58` (UTC).
pub fn when(ms: i64) -> String {
    let text = crate::api::assessments::humantime_rfc3339(ms);
    text.get(..16).unwrap_or(&text).replace('T', " ")
}

/// Renders a template as a page.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => PageError::from(ApiError::internal(error)).into_response(),
    }
}

/// A page that could not be shown: an HTML page saying why, with its status.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    title: String,
    detail: String,
}

impl PageError {
    /// A page of `status` with a heading and what to do.
    pub fn new(status: StatusCode, title: &str, detail: &str) -> PageError {
        PageError {
            status,
            title: title.to_owned(),
            detail: detail.to_owned(),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        let status = error.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::UNAUTHORIZED => "Not signed in",
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            status if status.is_server_error() => "Something went wrong",
            _ => "That did not work",
        };
        PageError {
            status,
            title: title.to_owned(),
            detail: error.detail().to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Nav,
    title: &'a str,
    detail: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            nav: Nav::anonymous(),
            title: &self.title,
            detail: &self.detail,
        };
        let mut response = render(&page);
        *response.status_mut() = self.status;
        response
    }
}

/// A page that is not there.
pub async fn not_found() -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no page at this address, or it is not one you may see.",
    )
}

/// The start: the portfolio (which sends someone not signed in to log in first).
async fn home() -> Response {
    see_other("/portfolio")
}
