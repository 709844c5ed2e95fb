//! Liveness and readiness: `/healthz` answers while the process runs, `/readyz` only
//! when the database answers too (a load balancer sends no traffic before).

use axum::extract::State;

use crate::{ApiError, AppState};

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive", body = String)))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The server can serve: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "ready", body = String),
    (status = 503, description = "the database does not answer", body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state
        .store()
        .ping()
        .await
        .map_err(|error| ApiError::unavailable(format!("the database does not answer: {error}")))?;
    Ok("ready\n")
}
