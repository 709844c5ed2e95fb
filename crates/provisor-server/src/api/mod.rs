//! The REST API under `/api/v1`: the router and the OpenAPI 3.1 document, both built
//! from the same handler list (utoipa-axum), so a handler cannot be served without
//! being described. One module per resource.

pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod assessments;
mod audit;
pub(crate) mod changes;
mod health;
pub(crate) mod jobs;
pub(crate) mod monitoring;
mod notifications;
mod portfolio;
pub(crate) mod review;
mod vex;
pub mod workers;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{ApiError, AppState};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "provisor",
        description = "The team server of provisor: EN 303 645 assessments of consumer IoT devices, shared by manufacturers, labs and reviewers. Errors are RFC 9457 problem documents (application/problem+json). Authenticate with a session cookie (POST /api/v1/session; state-changing requests then carry X-CSRF-Token) or an API token (Authorization: Bearer pvt_…).",
        license(name = "Apache-2.0")
    ),
    components(schemas(crate::Problem, crate::ProblemPlace)),
    modifiers(&Security)
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(workers::claim))
        .routes(routes!(workers::heartbeat))
        .routes(routes!(workers::image))
        .routes(routes!(workers::advisories))
        .routes(routes!(workers::complete))
        .routes(routes!(workers::fail))
        .routes(routes!(health::readyz))
        .routes(routes!(accounts::setup))
        .routes(routes!(
            accounts::login,
            accounts::current_session,
            accounts::logout
        ))
        .routes(routes!(accounts::give_totp))
        .routes(routes!(accounts::start_totp))
        .routes(routes!(accounts::confirm_totp))
        .routes(routes!(accounts::change_password))
        .routes(routes!(accounts::list_tokens, accounts::create_token))
        .routes(routes!(accounts::revoke_token))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(
            admin::list_organisations,
            admin::create_organisation
        ))
        .routes(routes!(admin::set_member))
        .routes(routes!(admin::organisation_settings))
        .routes(routes!(portfolio::portfolio))
        .routes(routes!(portfolio::list_products, portfolio::create_product))
        .routes(routes!(portfolio::get_product))
        .routes(routes!(portfolio::create_release))
        .routes(routes!(portfolio::get_release))
        .routes(routes!(assessments::import))
        .routes(routes!(assessments::get_assessment))
        .routes(routes!(assessments::export, assessments::push_revision))
        .routes(routes!(assessments::get_file, assessments::put_file))
        .routes(routes!(changes::change))
        .routes(routes!(assessments::verdicts))
        .routes(routes!(assessments::render))
        .routes(routes!(
            assessments::list_reports,
            assessments::issue_report
        ))
        .routes(routes!(assessments::get_report))
        .routes(routes!(assessments::assign_lab))
        .routes(routes!(review::review))
        .routes(routes!(review::list_comments, review::add_comment))
        .routes(routes!(jobs::upload_firmware))
        .routes(routes!(jobs::host_scan))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::list_targets, jobs::allow_target))
        .routes(routes!(jobs::revoke_target))
        .routes(routes!(admin::advisories, admin::replace_advisories))
        .routes(routes!(monitoring::list_sources, monitoring::add_source))
        .routes(routes!(monitoring::remove_source))
        .routes(routes!(monitoring::import_now))
        .routes(routes!(monitoring::list_imports))
        .routes(routes!(monitoring::release_sbom))
        .routes(routes!(monitoring::release_vulnerabilities))
        .routes(routes!(
            vex::list_analyses,
            vex::set_analysis,
            vex::remove_analysis
        ))
        .routes(routes!(vex::confirm_analyses))
        .routes(routes!(vex::analysis_history))
        .routes(routes!(vex::export_vex, vex::upload_vex))
        .routes(routes!(
            notifications::list_rules,
            notifications::create_rule
        ))
        .routes(routes!(notifications::remove_rule))
        .routes(routes!(notifications::list_deliveries))
        .routes(routes!(notifications::list_events))
        .routes(routes!(notifications::retry_delivery))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
}

/// The OpenAPI 3.1 document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = router().into_openapi();
    // axum names a wildcard segment `{*path}`; OpenAPI knows only `{path}`.
    let paths = std::mem::take(&mut document.paths.paths);
    document.paths.paths = paths
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
    document
}

async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = DOCUMENT.get_or_init(|| openapi().to_pretty_json().unwrap_or_default());
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text.as_str(),
    )
}

/// An address nobody answers: a problem document under `/api/`, a page elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found("no such endpoint: the API is described at /api/v1/openapi.json")
            .into_response()
    } else {
        crate::web::not_found().await.into_response()
    }
}

/// The application: every route, the security headers, the body limits.
pub fn app(state: AppState) -> Router {
    let (router, _) = router().split_for_parts();
    router
        .route("/api/v1/openapi.json", axum::routing::get(openapi_json))
        .route(
            "/setup",
            axum::routing::get(crate::setup_page::show).post(crate::setup_page::submit),
        )
        .merge(crate::web::router())
        .fallback(not_found)
        // Upload endpoints stream their bodies against the configured limit
        // themselves; JSON bodies are bounded where they are read.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::headers::every_answer,
        ))
        .with_state(state)
}
