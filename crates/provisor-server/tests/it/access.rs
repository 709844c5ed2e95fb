//! Who sees what: a manufacturer only its products, a lab only what it is assigned,
//! roles limit changes; what a caller may not see is not found rather than forbidden.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::{get, import, json_request, servers, smartcam_bundle, world};

#[tokio::test]
async fn manufacturers_and_labs_see_only_their_own() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        imported.expect(StatusCode::CREATED);
        let id = imported.json()["id"].as_str().unwrap().to_owned();

        let rows = get(state, "/api/v1/portfolio", &world.editor).await.json();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{}", server.engine);
        assert_eq!(rows[0]["assessment_id"], id.as_str());
        assert_eq!(
            get(state, "/api/v1/portfolio", &world.stranger)
                .await
                .json(),
            json!([])
        );
        assert_eq!(
            get(state, "/api/v1/portfolio", &world.assessor)
                .await
                .json(),
            json!([])
        );
        get(state, &format!("/api/v1/assessments/{id}"), &world.stranger)
            .await
            .problem(StatusCode::NOT_FOUND);
        get(state, &format!("/api/v1/assessments/{id}"), &world.assessor)
            .await
            .problem(StatusCode::NOT_FOUND);
        get(
            state,
            &format!("/api/v1/products/{}", world.product),
            &world.stranger,
        )
        .await
        .problem(StatusCode::NOT_FOUND);
        get(
            state,
            &format!("/api/v1/organisations/{}/products", world.acme),
            &world.stranger,
        )
        .await
        .problem(StatusCode::NOT_FOUND);

        // Assigned, the lab sees the assessment and its release, not the product list.
        json_request(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/lab"),
            &world.editor,
            json!({"lab_id": world.lab}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        get(state, &format!("/api/v1/assessments/{id}"), &world.assessor)
            .await
            .expect(StatusCode::OK);
        get(
            state,
            &format!("/api/v1/assessments/{id}/verdicts"),
            &world.assessor,
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(
            get(state, "/api/v1/portfolio", &world.assessor)
                .await
                .json()
                .as_array()
                .unwrap()
                .len(),
            1
        );
        get(
            state,
            &format!("/api/v1/releases/{}", world.release),
            &world.assessor,
        )
        .await
        .expect(StatusCode::OK);
        get(
            state,
            &format!("/api/v1/products/{}", world.product),
            &world.assessor,
        )
        .await
        .problem(StatusCode::NOT_FOUND);
        // The lab cannot reassign, a stranger cannot assign itself.
        json_request(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/lab"),
            &world.assessor,
            json!({"lab_id": null}),
        )
        .await
        .problem(StatusCode::NOT_FOUND);
        json_request(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/lab"),
            &world.stranger,
            json!({"lab_id": world.lab}),
        )
        .await
        .problem(StatusCode::NOT_FOUND);
        let _ = &world.other;
    }
}

#[tokio::test]
async fn a_viewer_reads_and_changes_nothing() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        get(
            state,
            &format!("/api/v1/products/{}", world.product),
            &world.viewer,
        )
        .await
        .expect(StatusCode::OK);
        let refused = json_request(
            state,
            Method::POST,
            &format!("/api/v1/products/{}/releases", world.product),
            &world.viewer,
            json!({"version": "4"}),
        )
        .await;
        assert!(
            refused.problem(StatusCode::FORBIDDEN)["detail"]
                .as_str()
                .unwrap()
                .contains("viewer")
        );
        import(state, &world.viewer, &world.release, smartcam_bundle())
            .await
            .problem(StatusCode::FORBIDDEN);
        // Only server admins administer users and organisations.
        get(state, "/api/v1/users", &world.editor)
            .await
            .problem(StatusCode::FORBIDDEN);
        json_request(
            state,
            Method::POST,
            "/api/v1/organisations",
            &world.editor,
            json!({"name": "Mine", "kind": "lab"}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        get(state, "/api/v1/audit", &world.editor)
            .await
            .problem(StatusCode::FORBIDDEN);
    }
}
