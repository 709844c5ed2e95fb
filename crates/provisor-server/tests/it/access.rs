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

        let page = get(state, "/api/v1/portfolio", &world.editor).await.json();
        assert_eq!(page["total"], 1, "{}", server.engine);
        assert_eq!(page["items"][0]["assessment_id"], id.as_str());
        let empty = json!({"items": [], "total": 0, "next": null, "advisories_imported_at": null});
        assert_eq!(
            get(state, "/api/v1/portfolio", &world.stranger)
                .await
                .json(),
            empty
        );
        assert_eq!(
            get(state, "/api/v1/portfolio", &world.assessor)
                .await
                .json(),
            empty
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
                .json()["total"],
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
        // A viewer reads the verdicts and the reports but does not issue one.
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        imported.expect(StatusCode::CREATED);
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        get(
            state,
            &format!("/api/v1/assessments/{id}/verdicts"),
            &world.viewer,
        )
        .await
        .expect(StatusCode::OK);
        let reports = format!("/api/v1/assessments/{id}/reports");
        let issue = |credentials| {
            json_request(
                state,
                Method::POST,
                &reports,
                credentials,
                json!({"format": "json"}),
            )
        };
        issue(&world.viewer).await.problem(StatusCode::FORBIDDEN);
        issue(&world.editor).await.expect(StatusCode::CREATED);
        let issued = get(state, &reports, &world.viewer).await.json();
        assert_eq!(issued.as_array().unwrap().len(), 1, "{}", server.engine);
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

/// The portfolio comes a page at a time: `next` continues where a page ended, the
/// filters narrow `total`, and a bad `limit` or cursor is a problem document.
#[tokio::test]
async fn the_portfolio_is_paged_and_filtered() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        for version in ["2.0", "2.1", "3.0-beta"] {
            json_request(
                state,
                Method::POST,
                &format!("/api/v1/products/{}/releases", world.product),
                &world.editor,
                json!({ "version": version }),
            )
            .await
            .expect(StatusCode::CREATED);
        }
        let whole = get(state, "/api/v1/portfolio", &world.editor).await.json();
        assert_eq!(whole["total"], 4, "{}", server.engine);
        assert_eq!(whole["next"], serde_json::Value::Null);
        let mut seen = Vec::new();
        let mut uri = "/api/v1/portfolio?limit=3".to_owned();
        loop {
            let page = get(state, &uri, &world.editor).await.json();
            assert_eq!(page["total"], 4);
            seen.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next"].as_str() {
                Some(next) => uri = format!("/api/v1/portfolio?limit=3&after={next}"),
                None => break,
            }
        }
        assert_eq!(
            serde_json::Value::Array(seen),
            whole["items"],
            "{}",
            server.engine
        );
        let beta = get(state, "/api/v1/portfolio?q=BETA", &world.editor)
            .await
            .json();
        assert_eq!(beta["total"], 1);
        assert_eq!(beta["items"][0]["version"], "3.0-beta");
        let elsewhere = get(
            state,
            &format!("/api/v1/portfolio?organisation={}", world.lab),
            &world.editor,
        )
        .await
        .json();
        assert_eq!(elsewhere["total"], 0);

        for (bad, place) in [
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=ten", "query string"),
            ("after=not-a-cursor", ""),
        ] {
            let problem = get(state, &format!("/api/v1/portfolio?{bad}"), &world.editor)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY);
            if place.is_empty() {
                assert!(
                    problem["detail"].as_str().unwrap().contains("cursor"),
                    "{problem}"
                );
            } else {
                assert_eq!(problem["errors"][0]["where"], place, "{bad}: {problem}");
            }
        }
    }
}
