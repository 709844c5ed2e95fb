//! The OpenAPI document: served, OpenAPI 3.1, and covering every route with problem
//! documents for errors.

use axum::http::StatusCode;

use crate::{Credentials, get, servers};

#[tokio::test]
async fn the_document_is_served_and_describes_the_routes() {
    let server = servers().await.remove(0);
    let answer = get(
        &server.state,
        "/api/v1/openapi.json",
        &Credentials::default(),
    )
    .await;
    answer.expect(StatusCode::OK);
    let document = answer.json();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/session",
        "/api/v1/setup",
        "/api/v1/tokens",
        "/api/v1/portfolio",
        "/api/v1/releases/{id}/assessments",
        "/api/v1/assessments/{id}/bundle",
        "/api/v1/assessments/{id}/files/{path}",
        "/api/v1/assessments/{id}/verdicts",
        "/api/v1/audit/verify",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|responses| !responses.is_empty()),
                "{method} {path} has no responses"
            );
            assert!(
                operation["description"].is_string() || operation["summary"].is_string(),
                "{method} {path} is not described"
            );
        }
    }
    assert!(document["components"]["schemas"]["Problem"].is_object());
    assert!(document["components"]["securitySchemes"]["token"].is_object());
}
