//! Every error the API answers with, as an RFC 9457 problem document
//! (`application/problem+json`): a type, a title, the status, a detail that says what
//! was wrong and what to do, and for invalid input the list of places (a JSON pointer,
//! a file and line of an assessment, a bundle member). Internal errors are logged in
//! full and answered with a plain message and an id to find the log line by.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use provisor_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// One place where input was wrong.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ProblemPlace {
    /// Where: a JSON pointer (`/scopes/0`), `file:line:col`, or a bundle member.
    #[serde(rename = "where")]
    pub location: String,
    /// What is wrong there.
    pub message: String,
}

/// A problem document (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// What kind of problem (`urn:provisor:problem:…`, or `about:blank`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What was wrong, and what to do.
    pub detail: String,
    /// The places of invalid input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemPlace>,
}

/// An error of a handler, answered as a problem document.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    errors: Vec<ProblemPlace>,
    retry_after_seconds: Option<i64>,
    authenticate: bool,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_seconds: None,
            authenticate: false,
        }
    }

    /// 400: the request cannot be read.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 401: no valid session or token.
    pub fn unauthenticated(detail: impl Into<String>) -> ApiError {
        let mut error = ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail);
        error.authenticate = true;
        error
    }

    /// 403: signed in, but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 403: a session's state-changing request without the right CSRF token.
    pub fn csrf() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the request lacks the session's CSRF token: send it in the X-CSRF-Token header (the login answer and GET /api/v1/session give it)",
        )
    }

    /// 403: the second factor is needed first.
    pub fn second_factor(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "second-factor", detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// 409: conflicts with the stored state.
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", detail)
    }

    /// 413: too large.
    pub fn too_large(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail)
    }

    /// 415: not a type the endpoint reads.
    pub fn unsupported_media(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            detail,
        )
    }

    /// 422: well-formed but invalid, with the places.
    pub fn invalid(detail: impl Into<String>, errors: Vec<ProblemPlace>) -> ApiError {
        let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail);
        error.errors = errors;
        error
    }

    /// 429: the login throttle holds the request back.
    pub fn throttled(retry_after_ms: i64) -> ApiError {
        let seconds = (retry_after_ms + 999) / 1000;
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            format!(
                "too many failed logins for this account or from this address: try again in {seconds} s"
            ),
        );
        error.retry_after_seconds = Some(seconds.max(1));
        error
    }

    /// 503: not ready.
    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    /// 500: logged in full, answered with an id.
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        let id = provisor_store::random_hex(6);
        tracing::error!(error_id = %id, "{error}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the server failed; its log has the details under error id {id}"),
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What was wrong, and what to do.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The places of invalid input.
    pub fn places(&self) -> &[ProblemPlace] {
        &self.errors
    }

    fn title(&self) -> &'static str {
        match self.kind {
            "bad-request" => "Bad request",
            "unauthenticated" => "Not signed in",
            "forbidden" => "Not allowed",
            "csrf" => "Missing or wrong CSRF token",
            "second-factor" => "Second factor required",
            "not-found" => "Not found",
            "conflict" => "Conflict",
            "too-large" => "Too large",
            "unsupported-media-type" => "Unsupported media type",
            "invalid" => "Invalid input",
            "throttled" => "Too many attempts",
            "unavailable" => "Not ready",
            _ => "Internal error",
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:provisor:problem:{}", self.kind),
            title: self.title().to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            StoreError::Conflict(detail) => ApiError::conflict(detail),
            StoreError::Locked(detail) => ApiError::conflict(detail),
            StoreError::LeaseLost(detail) => ApiError::conflict(detail),
            StoreError::Invalid(detail) => ApiError::invalid(detail, Vec::new()),
            StoreError::Blob(detail) => ApiError::unavailable(detail),
            StoreError::TooLarge { limit } => ApiError::too_large(format!(
                "the upload is larger than the limit of {limit} bytes"
            )),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after_seconds
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        if self.authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"provisor\""),
            );
        }
        response
    }
}
