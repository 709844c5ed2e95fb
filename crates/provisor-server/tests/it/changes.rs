//! Structured changes: a form's fields written into the assessment file in place, as
//! the next revision, judged, refused with the change's place when wrong, and exported
//! as a file that re-imports to the same verdicts.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::assessments::without_volatile;
use crate::{bundle_of, examples, get, import, json_request, servers, smartcam_bundle, world};

fn verdict_of(verdicts: &Value, provision: &str) -> Value {
    verdicts["provisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["id"] == provision)
        .map(|entry| entry["verdict"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn changes_are_written_in_place_as_the_next_revision() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let id = import(state, &world.editor, &world.release, smartcam_bundle())
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let file = format!("/api/v1/assessments/{id}/files/assessment-v3.1.3.toml");
        let before = get(state, &file, &world.viewer).await.text();
        let verdicts = format!("/api/v1/assessments/{id}/verdicts");
        assert_eq!(
            verdict_of(&get(state, &verdicts, &world.viewer).await.json(), "5.1-1"),
            "pass"
        );
        let uri = format!("/api/v1/assessments/{id}/changes");
        let changed = json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"based_on": 1, "changes": [
                {"kind": "device", "field": "batch", "value": "units made from 2027"},
                {"kind": "condition", "id": "12", "value": {"answer": true, "note": "OTA over HTTPS"}},
                {"kind": "statement", "provision": "5.1-1", "value": {"support": "no", "detail": "a shared default password remains"}},
            ]}),
        )
        .await;
        changed.expect(StatusCode::OK);
        assert_eq!(changed.json()["current_revision"], 2, "{}", server.engine);
        let after = get(state, &file, &world.viewer).await.text();
        // One line for one: everything else is where it was, comments included.
        let old: Vec<&str> = before.lines().collect();
        let new: Vec<&str> = after.lines().collect();
        assert_eq!(old.len(), new.len());
        let differing: Vec<_> = old.iter().zip(&new).filter(|(a, b)| a != b).collect();
        assert_eq!(differing.len(), 5, "{differing:#?}");
        assert!(after.contains("batch = \"units made from 2027\"\n"));
        assert!(after.contains("12 = { answer = true, note = \"OTA over HTTPS\" }\n"));
        assert_eq!(
            verdict_of(&get(state, &verdicts, &world.viewer).await.json(), "5.1-1"),
            "fail",
            "{}",
            server.engine
        );

        // A removed statement is commented out; the provision has no statement now.
        json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"based_on": 2, "changes": [{"kind": "statement", "provision": "5.1-1", "value": null}]}),
        )
        .await
        .expect(StatusCode::OK);
        let text = get(state, &file, &world.viewer).await.text();
        assert!(text.contains("# [provision.\"5.1-1\"]\n# support = \"no\"\n"));

        // Stale, wrong, unknown, not allowed: refused, nothing written.
        let problem = json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"based_on": 2, "changes": [{"kind": "condition", "id": "12", "value": null}]}),
        )
        .await
        .problem(StatusCode::CONFLICT);
        assert!(problem["detail"].as_str().unwrap().contains("revision 3"));
        let problem = json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"based_on": 3, "changes": [
                {"kind": "condition", "id": "12", "value": null},
                {"kind": "statement", "provision": "5.1-2", "value": {"support": "maybe"}},
            ]}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["where"], "/changes/1", "{problem}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("maybe")
        );
        let problem = json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"based_on": 3, "changes": [{"kind": "condition", "id": "99", "value": {"answer": true}}]}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem.to_string().contains("99"),
            "{}: {problem}",
            server.engine
        );
        json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"based_on": 3, "changes": [{"kind": "colour", "id": "12"}]}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        json_request(
            state,
            Method::POST,
            &uri,
            &world.viewer,
            json!({"based_on": 3, "changes": [{"kind": "condition", "id": "12", "value": null}]}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        let record = get(state, &format!("/api/v1/assessments/{id}"), &world.viewer)
            .await
            .json();
        assert_eq!(record["current_revision"], 3);

        // Exported and imported again, the edited file judges the same.
        let exported = get(
            state,
            &format!("/api/v1/assessments/{id}/bundle"),
            &world.viewer,
        )
        .await;
        let release = json_request(
            state,
            Method::POST,
            &format!("/api/v1/products/{}/releases", world.product),
            &world.editor,
            json!({"version": "3.2.2"}),
        )
        .await
        .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let copy = import(state, &world.editor, &release, exported.body.clone())
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            without_volatile(
                get(
                    state,
                    &format!("/api/v1/assessments/{copy}/verdicts"),
                    &world.viewer
                )
                .await
                .json()
            ),
            without_volatile(get(state, &verdicts, &world.viewer).await.json()),
            "{}",
            server.engine
        );
    }
}

/// A lab's assessor records test cases of the assessment the lab is assigned; the
/// record names the assessor when the form leaves it out.
#[tokio::test]
async fn an_assigned_lab_records_test_cases() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let directory = examples().join("smartcam");
        let bundle = bundle_of(
            &directory,
            "lab.toml",
            &[
                "evidence/password-provisioning.md",
                "evidence/vulnerability-disclosure-policy.md",
                "evidence/update-signing.md",
                "evidence/support-period.md",
                "evidence/secure-development.md",
            ],
        );
        let imported = import(state, &world.editor, &world.release, bundle).await;
        imported.expect(StatusCode::CREATED);
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let uri = format!("/api/v1/assessments/{id}/changes");
        let record = json!({"based_on": 1, "changes": [{"kind": "test", "id": "5.1-1-2",
            "value": {"verdict": "fail", "date": "2026-11-30", "method": "a second sample shares the password"}}]});
        json_request(state, Method::POST, &uri, &world.assessor, record.clone())
            .await
            .problem(StatusCode::NOT_FOUND);
        json_request(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/lab"),
            &world.editor,
            json!({"lab_id": world.lab}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        json_request(state, Method::POST, &uri, &world.assessor, record)
            .await
            .expect(StatusCode::OK);
        let text = get(
            state,
            &format!("/api/v1/assessments/{id}/files/lab.toml"),
            &world.assessor,
        )
        .await
        .text();
        let display_name =
            get(state, "/api/v1/session", &world.assessor).await.json()["user"]["display_name"]
                .clone();
        assert!(
            text.contains(&format!(
                "[test.\"5.1-1-2\"]\nverdict = \"fail\"\nassessor = {display_name}\ndate = 2026-11-30\n"
            )),
            "{}",
            server.engine
        );
        let verdicts = get(
            state,
            &format!("/api/v1/assessments/{id}/verdicts"),
            &world.assessor,
        )
        .await
        .json();
        assert_eq!(verdict_of(&verdicts, "5.1-1"), "fail", "{}", server.engine);
    }
}
