//! Request bodies read as JSON, and query strings, with errors as problem documents: a
//! body that is not JSON, has the wrong types or misses a field is answered 400 or 422
//! with the place serde reports (a JSON pointer when it knows one, else line and
//! column); a query string with a wrong parameter 422 with what serde said of it.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::{ApiError, AppState, ProblemPlace};

/// The largest JSON body read.
pub const JSON_LIMIT: usize = 1 << 20;

/// A JSON request body.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &AppState) -> Result<Self, ApiError> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                let value = value.split(';').next().unwrap_or("").trim();
                value == "application/json" || value.ends_with("+json")
            });
        if !json {
            return Err(ApiError::unsupported_media(
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = axum::body::to_bytes(request.into_body(), JSON_LIMIT)
            .await
            .map_err(|_| {
                ApiError::too_large(format!(
                    "a JSON body may be at most {JSON_LIMIT} bytes; upload files to their own endpoints"
                ))
            })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = T::deserialize(&mut deserializer).and_then(|value| {
            deserializer.end()?;
            Ok(value)
        });
        match value {
            Ok(value) => Ok(Json(value)),
            Err(error) if error.is_syntax() || error.is_eof() => {
                Err(ApiError::bad_request(format!(
                    "the body is not valid JSON: {error} (line {}, column {})",
                    error.line(),
                    error.column()
                )))
            }
            Err(error) => Err(ApiError::invalid(
                "the JSON body does not have the expected fields and types",
                vec![ProblemPlace {
                    location: format!("line {}, column {}", error.line(), error.column()),
                    message: strip_position(&error.to_string()),
                }],
            )),
        }
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A request's query string, with errors as problem documents (axum's own answers them
/// in plain text).
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::try_from_uri(&parts.uri) {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::invalid(
                "the query string does not have the expected parameters and types",
                vec![ProblemPlace {
                    location: "query string".into(),
                    message: rejection
                        .body_text()
                        .trim_start_matches("Failed to deserialize query string: ")
                        .to_owned(),
                }],
            )),
        }
    }
}
