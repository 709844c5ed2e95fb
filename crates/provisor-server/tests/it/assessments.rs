//! Assessments through the API: import, verdicts as the CLI gives them, export byte for
//! byte, revisions, reports, and the audit trail they leave.

use std::io::Read;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    Credentials, examples, get, import, json_request, send, servers, smartcam_bundle, world,
};

/// The engine's judgement of the example on disk, as `provisor check --format json`
/// gives it (less the time it was made).
fn judged_on_disk() -> Value {
    struct Disk(std::path::PathBuf);
    impl provisor_engine::Files for Disk {
        fn read(&self, path: &str) -> Result<Vec<u8>, String> {
            std::fs::read(self.0.join(path)).map_err(|error| error.to_string())
        }
    }
    let directory = examples().join("smartcam");
    let text = std::fs::read_to_string(directory.join("assessment-v3.1.3.toml")).unwrap();
    let file = provisor_engine::parse(&text, "assessment-v3.1.3.toml").unwrap();
    let assessment = provisor_engine::load_as_of(
        &file,
        &Disk(directory),
        Some(provisor_engine::Date::from_unix_seconds(
            u64::try_from(provisor_store::now_ms() / 1000).unwrap(),
        )),
    )
    .unwrap();
    let context = provisor_report::Context {
        tool_version: "x".into(),
        generated_at: "x".into(),
        source: "assessment-v3.1.3.toml".into(),
    };
    without_volatile(serde_json::from_str(&provisor_report::json(&assessment, &context)).unwrap())
}

pub fn without_volatile(mut document: Value) -> Value {
    if let Some(object) = document.as_object_mut() {
        object.remove("tool");
        object.remove("generated_at");
        object.remove("generated");
    }
    document
}

fn untar(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(bytes);
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (path, data)
        })
        .collect()
}

#[tokio::test]
async fn an_imported_assessment_is_judged_as_the_cli_judges_it_and_exported_byte_for_byte() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        imported.expect(StatusCode::CREATED);
        let view = imported.json();
        assert_eq!(view["edition"], "en303645-v3.1.3");
        assert_eq!(view["current_revision"], 1);
        let id = view["id"].as_str().unwrap().to_owned();

        let verdicts = get(
            state,
            &format!("/api/v1/assessments/{id}/verdicts"),
            &world.viewer,
        )
        .await;
        verdicts.expect(StatusCode::OK);
        assert_eq!(
            without_volatile(verdicts.json()),
            judged_on_disk(),
            "{}",
            server.engine
        );
        assert_eq!(view["conformant"], verdicts.json()["conformant"]);
        // The counts the portfolio shows are the judgement's.
        let summary = &verdicts.json()["summary"];
        let of = |status: &str, verdict: &str| summary[status][verdict].as_i64().unwrap_or(0);
        let counts = &view["counts"];
        assert_eq!(
            [
                counts["mandatory_pass"].as_i64(),
                counts["mandatory_unmet"].as_i64(),
                counts["mandatory_open"].as_i64(),
                counts["recommended_unmet"].as_i64(),
                counts["not_applicable"].as_i64(),
            ],
            [
                Some(of("mandatory", "pass")),
                Some(of("mandatory", "fail") + of("mandatory", "not-fulfilled")),
                Some(of("mandatory", "open")),
                Some(of("recommended", "fail") + of("recommended", "not-fulfilled")),
                Some(of("mandatory", "not-applicable") + of("recommended", "not-applicable")),
            ],
            "{view}"
        );
        let portfolio = get(
            state,
            "/api/v1/portfolio?order=attention&latest=true",
            &world.viewer,
        )
        .await
        .json();
        assert_eq!(&portfolio["items"][0]["counts"], counts);
        // An assessment stored without counts is counted in the background at start.
        let record = state.store().assessment(&id).await.unwrap();
        let files = state.store().files(&id, 1).await.unwrap();
        let uncounted = state
            .store()
            .create_assessment(
                &provisor_store::Actor::Server,
                &world.release,
                &provisor_store::NewAssessment {
                    main_file: record.main_file.clone(),
                    files,
                    edition: record.edition.clone(),
                    kind: record.kind.clone(),
                    conformant: false,
                    counts: None,
                    note: "bulk load".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(uncounted.counts, None);
        provisor_server::count_uncounted(state.clone()).await;
        let counted = get(
            state,
            &format!("/api/v1/assessments/{}", uncounted.id),
            &world.viewer,
        )
        .await
        .json();
        assert_eq!(&counted["counts"], counts, "{}", server.engine);

        let exported = get(
            state,
            &format!("/api/v1/assessments/{id}/bundle"),
            &world.viewer,
        )
        .await;
        exported.expect(StatusCode::OK);
        let members = untar(&exported.body);
        let directory = examples().join("smartcam");
        let mut compared = 0;
        for (path, data) in &members {
            if path == "manifest.json" {
                continue;
            }
            assert_eq!(
                data,
                &std::fs::read(directory.join(path)).unwrap(),
                "{path} comes back byte for byte"
            );
            compared += 1;
        }
        assert_eq!(
            compared,
            1 + std::fs::read_dir(directory.join("evidence"))
                .unwrap()
                .count()
        );
        // The export verifies as a bundle.
        provisor_bundle::verify(
            &exported.body[..],
            None,
            None,
            provisor_bundle::Limits::default(),
        )
        .unwrap();
        // A single file, as stored.
        let file = get(
            state,
            &format!("/api/v1/assessments/{id}/files/evidence/password-provisioning.md"),
            &world.viewer,
        )
        .await;
        assert_eq!(
            file.body,
            std::fs::read(directory.join("evidence/password-provisioning.md")).unwrap()
        );
    }
}

#[tokio::test]
async fn a_change_makes_a_revision_and_a_stale_one_is_refused() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let id = import(state, &world.editor, &world.release, smartcam_bundle())
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let evidence = b"# Update policy\n\nSigned updates, checked before install.\n".to_vec();
        let put = send(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/files/evidence/update-policy.md?based_on=1"),
            &world.editor,
            Some("application/octet-stream"),
            evidence.clone(),
        )
        .await;
        put.expect(StatusCode::OK);
        assert_eq!(put.json()["current_revision"], 2);
        let stale = send(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/files/evidence/other.md?based_on=1"),
            &world.editor,
            Some("application/octet-stream"),
            b"x".to_vec(),
        )
        .await;
        assert!(
            stale.problem(StatusCode::CONFLICT)["detail"]
                .as_str()
                .unwrap()
                .contains("revision 2")
        );
        // A new assessment text that does not parse is refused with its place, and no
        // revision is made.
        let broken = send(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/files/assessment-v3.1.3.toml?based_on=2"),
            &world.editor,
            Some("application/octet-stream"),
            b"edition = \"en303645-v3.1.3\"\n[device\n".to_vec(),
        )
        .await;
        let problem = broken.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["errors"][0]["where"]
                .as_str()
                .unwrap()
                .starts_with("assessment-v3.1.3.toml:2"),
            "{problem}"
        );
        let record = get(state, &format!("/api/v1/assessments/{id}"), &world.viewer)
            .await
            .json();
        assert_eq!(record["current_revision"], 2, "{}", server.engine);
        assert_eq!(record["revisions"].as_array().unwrap().len(), 2);
        assert!(
            record["files"]
                .as_array()
                .unwrap()
                .iter()
                .any(|file| file["path"] == "evidence/update-policy.md")
        );
        // The first revision is still there as it was.
        let first = get(
            state,
            &format!("/api/v1/assessments/{id}/bundle?revision=1"),
            &world.viewer,
        )
        .await;
        assert_eq!(
            untar(&first.body).len(),
            2 + std::fs::read_dir(examples().join("smartcam/evidence"))
                .unwrap()
                .count()
        );
        // Pushing a bundle onto the current revision makes the next.
        let pushed = send(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/bundle?based_on=2"),
            &world.editor,
            Some("application/x-tar"),
            smartcam_bundle(),
        )
        .await;
        assert_eq!(pushed.json()["current_revision"], 3);
    }
}

#[tokio::test]
async fn reports_render_in_every_format_and_issued_ones_are_kept_with_the_chain_head() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let id = import(state, &world.editor, &world.release, smartcam_bundle())
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (format, starts) in [
            ("html", "<!DOCTYPE html>"),
            ("md", "# "),
            ("json", "{"),
            ("sarif", "{"),
            ("junit", "<?xml"),
            ("oscal", "{"),
            ("ics-csv", ""),
            ("pdf", "%PDF-"),
        ] {
            let answer = get(
                state,
                &format!("/api/v1/assessments/{id}/reports/{format}"),
                &world.viewer,
            )
            .await;
            answer.expect(StatusCode::OK);
            assert!(
                answer.body.starts_with(starts.as_bytes()),
                "{format}: {}",
                String::from_utf8_lossy(&answer.body[..40.min(answer.body.len())])
            );
        }
        get(
            state,
            &format!("/api/v1/assessments/{id}/reports/docx"),
            &world.viewer,
        )
        .await
        .problem(StatusCode::NOT_FOUND);

        let issued = json_request(
            state,
            Method::POST,
            &format!("/api/v1/assessments/{id}/reports"),
            &world.editor,
            json!({"format": "html"}),
        )
        .await;
        issued.expect(StatusCode::CREATED);
        let report = issued.json();
        let head = report["audit_head"].as_str().unwrap();
        let fetched = get(
            state,
            &format!("/api/v1/reports/{}", report["id"].as_str().unwrap()),
            &world.viewer,
        )
        .await;
        assert_eq!(
            provisor_store::sha256_hex(&fetched.body),
            report["sha256"].as_str().unwrap()
        );
        assert!(
            fetched.text().contains(head),
            "the report names the chain head it was issued at"
        );
        get(
            state,
            &format!("/api/v1/reports/{}", report["id"].as_str().unwrap()),
            &world.stranger,
        )
        .await
        .problem(StatusCode::NOT_FOUND);

        let verification = json_request(
            state,
            Method::POST,
            "/api/v1/audit/verify",
            &world.admin,
            json!({}),
        )
        .await
        .json();
        assert_eq!(verification["holds"], true, "{verification}");
        assert_eq!(verification["reports"], 1);
        assert!(verification["checkpoints"].as_u64().unwrap() >= 1);
        let log = get(state, "/api/v1/audit?limit=1000", &world.admin)
            .await
            .json();
        let actions: Vec<&str> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["action"].as_str().unwrap())
            .collect();
        for action in [
            "user.create",
            "organisation.create",
            "membership.set",
            "product.create",
            "release.create",
            "assessment.create",
            "report.issue",
            "user.totp-enrol",
        ] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
        let acme_log = get(
            state,
            &format!("/api/v1/audit?organisation={}", world.acme),
            &world.admin,
        )
        .await
        .json();
        assert!(
            acme_log
                .as_array()
                .unwrap()
                .iter()
                .all(|entry| entry["organisation_id"] == world.acme.as_str())
        );
        let _ = Credentials::default();
    }
}

#[tokio::test]
async fn a_review_is_recorded_as_the_cli_records_it_and_an_approval_names_its_revision() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let id = import(state, &world.editor, &world.release, smartcam_bundle())
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let uri = format!("/api/v1/assessments/{id}/review");
        // Editors do not approve.
        json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"decision": "approve", "based_on": 1}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        let admin = &world.admin;
        json_request(
            state,
            Method::POST,
            &uri,
            admin,
            json!({"decision": "approve", "based_on": 7}),
        )
        .await
        .problem(StatusCode::CONFLICT);
        json_request(
            state,
            Method::POST,
            &uri,
            admin,
            json!({"decision": "maybe", "based_on": 1}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        let approved = json_request(state, Method::POST, &uri, admin, json!({"decision": "approve", "based_on": 1, "report_id": "ACME-2026-001", "assessor": "E. Editor"})).await;
        approved.expect(StatusCode::OK);
        let outcome = approved.json();
        assert_eq!(outcome["assessment"]["current_revision"], 2);
        assert_eq!(
            outcome["assessment"]["approved_revision"], 2,
            "{}",
            server.engine
        );
        let text = crate::main_file(state, &id, &world.viewer).await;
        assert!(
            text.contains("[review]\n")
                && text.contains("decision = \"approved\"")
                && text.contains("reviewer = \"Admin\""),
            "{}",
            &text[text.len().saturating_sub(600)..]
        );
        assert!(text.contains("content_sha256 = "));
        // A change afterwards makes a new revision; the approved one stays.
        send(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/files/evidence/late.md?based_on=2"),
            &world.editor,
            Some("application/octet-stream"),
            b"late\n".to_vec(),
        )
        .await
        .expect(StatusCode::OK);
        let record = get(state, &format!("/api/v1/assessments/{id}"), &world.viewer)
            .await
            .json();
        assert_eq!(
            (
                record["current_revision"].as_i64(),
                record["approved_revision"].as_i64()
            ),
            (Some(3), Some(2))
        );
        let portfolio = get(state, "/api/v1/portfolio", &world.editor).await.json();
        assert_eq!(portfolio["items"][0]["approved"], true);
        // What the server wrote re-imports to the same state.
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
        let again = import(state, &world.editor, &release, exported.body.clone()).await;
        again.expect(StatusCode::CREATED);
        let copy = again.json()["id"].as_str().unwrap().to_owned();
        let of_copy = get(
            state,
            &format!("/api/v1/assessments/{copy}/verdicts"),
            &world.viewer,
        )
        .await
        .json();
        let of_original = get(
            state,
            &format!("/api/v1/assessments/{id}/verdicts"),
            &world.viewer,
        )
        .await
        .json();
        assert_eq!(
            without_volatile(of_copy),
            without_volatile(of_original),
            "{}",
            server.engine
        );
    }
}

#[tokio::test]
async fn comments_are_kept_per_assessment_and_provision() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let id = import(state, &world.editor, &world.release, smartcam_bundle())
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let uri = format!("/api/v1/assessments/{id}/comments");
        json_request(
            state,
            Method::POST,
            &uri,
            &world.viewer,
            json!({"provision": "5.1-1", "body": "Where is the label photo?"}),
        )
        .await
        .expect(StatusCode::CREATED);
        json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"body": "Added in revision 2."}),
        )
        .await
        .expect(StatusCode::CREATED);
        json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"provision": "9.9-9", "body": "x"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"body": "  "}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        json_request(
            state,
            Method::POST,
            &uri,
            &world.stranger,
            json!({"body": "hello"}),
        )
        .await
        .problem(StatusCode::NOT_FOUND);
        let comments = get(state, &uri, &world.viewer).await.json();
        assert_eq!(comments.as_array().unwrap().len(), 2, "{}", server.engine);
        assert_eq!(comments[0]["provision"], "5.1-1");
    }
}
