//! Scan jobs through the API and a worker: a firmware image uploaded to a release is
//! scanned and its findings attach to the assessment as `provisor scan --assessment`
//! attaches them; host scans only against allowed targets.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::http::{Method, StatusCode};
use provisor_server::worker::{WorkerOptions, run_worker};
use serde_json::json;

use crate::{Credentials, World, get, import, json_request, send, servers, smartcam_bundle, world};

/// The example device's firmware, which `scripts/build-test-images` builds.
pub(crate) fn smartcam_image() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-images/smartcam/smartcam-3.2.1.bin");
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; run scripts/build-test-images first",
            path.display()
        )
    })
}

/// Imports the example assessment into the world's release and uploads its firmware
/// image for it (a queued scan); returns the assessment's id.
async fn assessment_with_an_image(state: &provisor_server::AppState, world: &World) -> String {
    let id = import(state, &world.editor, &world.release, smartcam_bundle())
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        state,
        Method::PUT,
        &format!(
            "/api/v1/releases/{}/firmware?name=smartcam-3.2.1.bin&assessment={id}",
            world.release
        ),
        &world.editor,
        Some("application/octet-stream"),
        smartcam_image(),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    id
}

pub(crate) async fn drain(state: &provisor_server::AppState) -> usize {
    let mut options = WorkerOptions::new("test-worker");
    options.until_empty = true;
    run_worker(state.clone(), options, Arc::new(AtomicBool::new(false)))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_uploaded_image_is_scanned_and_its_findings_attach_to_the_assessment() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let id = import(state, &world.editor, &world.release, smartcam_bundle())
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let uploaded = send(
            state,
            Method::PUT,
            &format!(
                "/api/v1/releases/{}/firmware?name=smartcam-3.2.1.bin&assessment={id}",
                world.release
            ),
            &world.editor,
            Some("application/octet-stream"),
            smartcam_image(),
        )
        .await;
        uploaded.expect(StatusCode::ACCEPTED);
        let body = uploaded.json();
        assert_eq!(body["job"]["state"], "queued");
        assert_eq!(body["release"]["firmware_name"], "smartcam-3.2.1.bin");
        let job = body["job"]["id"].as_str().unwrap().to_owned();
        // A viewer of another manufacturer cannot see the job.
        get(state, &format!("/api/v1/jobs/{job}"), &world.stranger)
            .await
            .problem(StatusCode::NOT_FOUND);
        let of_release = format!("/api/v1/jobs?release={}", world.release);
        let of_assessment = format!("/api/v1/jobs?assessment={id}");
        get(state, &of_release, &world.stranger)
            .await
            .problem(StatusCode::NOT_FOUND);
        get(state, &of_assessment, &world.assessor)
            .await
            .problem(StatusCode::NOT_FOUND);
        get(state, "/api/v1/jobs", &world.editor)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        // The lab assigned to the assessment sees the scan that attaches to it.
        json_request(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/lab"),
            &world.editor,
            json!({"lab_id": world.lab}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        get(state, &format!("/api/v1/jobs/{job}"), &world.assessor)
            .await
            .expect(StatusCode::OK);
        for (uri, who) in [
            (&of_release, &world.editor),
            (&of_assessment, &world.assessor),
            (&of_release, &world.assessor),
        ] {
            let listed = get(state, uri, who).await.json();
            assert_eq!(listed.as_array().unwrap().len(), 1, "{uri}: {listed}");
            assert_eq!(listed[0]["id"], job.as_str());
        }

        assert_eq!(drain(state).await, 1, "{}", server.engine);
        let done = get(state, &format!("/api/v1/jobs/{job}"), &world.viewer)
            .await
            .json();
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["result"]["attached"]["revision"], 2);
        assert_eq!(
            done["result"]["attached"]["file"],
            "scans/firmware-smartcam-3.2.1.json"
        );

        let record = get(state, &format!("/api/v1/assessments/{id}"), &world.viewer)
            .await
            .json();
        assert_eq!(record["current_revision"], 2);
        let main = crate::main_file(state, &id, &world.viewer).await;
        assert!(
            main.ends_with("\n[[scan]]\nfile = \"scans/firmware-smartcam-3.2.1.json\"\n"),
            "{}",
            &main[main.len() - 200..]
        );
        let findings = get(
            state,
            &format!("/api/v1/assessments/{id}/files/scans/firmware-smartcam-3.2.1.json"),
            &world.viewer,
        )
        .await
        .json();
        assert_eq!(findings["schema"], "provisor.findings/2");
        assert_eq!(findings["target"]["kind"], "firmware");
        let verdicts = get(
            state,
            &format!("/api/v1/assessments/{id}/verdicts"),
            &world.viewer,
        )
        .await
        .json();
        assert!(
            verdicts.to_string().contains("firmware."),
            "the findings now reach the verdicts"
        );
        // A second scan attaches beside the first rather than twice.
        let job_count = get(state, "/api/v1/audit?limit=1000", &world.admin)
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["action"] == "job.done")
            .count();
        assert_eq!(job_count, 1);
    }
}

#[tokio::test]
async fn host_scans_run_only_against_allowed_targets() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let id = import(state, &world.editor, &world.release, smartcam_bundle())
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let uri = format!("/api/v1/assessments/{id}/host-scans");
        // Not allowed: refused, and nothing is queued or sent.
        let refused = json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"target": "198.51.100.7"}),
        )
        .await;
        assert!(
            refused.problem(StatusCode::FORBIDDEN)["detail"]
                .as_str()
                .unwrap()
                .contains("scan-targets")
        );
        json_request(
            state,
            Method::POST,
            &uri,
            &world.viewer,
            json!({"target": "127.0.0.1"}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"target": "device.local"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        // Only a server admin allows a target, with the authorisation said.
        json_request(
            state,
            Method::POST,
            "/api/v1/scan-targets",
            &world.editor,
            json!({"target": "198.51.100.0/24", "note": "lab bench"}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        json_request(
            state,
            Method::POST,
            "/api/v1/scan-targets",
            &world.admin,
            json!({"target": "198.51.100.0/24", "note": " "}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        let allowed = json_request(state, Method::POST, "/api/v1/scan-targets", &world.admin, json!({"target": "198.51.100.0/24", "note": "the SmartCam on the lab bench, owner's consent of 2026-11-30"})).await;
        allowed.expect(StatusCode::CREATED);
        assert!(
            allowed.json()["allowed_by"]
                .as_str()
                .unwrap()
                .starts_with("user:")
        );
        let targets = get(state, "/api/v1/scan-targets", &world.admin)
            .await
            .json();
        assert_eq!(targets[0]["target"], "198.51.100.0/24");
        json_request(
            state,
            Method::DELETE,
            "/api/v1/scan-targets/198.51.100.0_24",
            &world.admin,
            json!({}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"target": "198.51.100.7"}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);

        // Loopback is allowed: a device on this machine, scanned for real.
        let device = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = device.local_addr().unwrap().port();
        let queued = json_request(
            state,
            Method::POST,
            &uri,
            &world.editor,
            json!({"target": "127.0.0.1", "ports": port.to_string()}),
        )
        .await;
        queued.expect(StatusCode::ACCEPTED);
        let job = queued.json()["id"].as_str().unwrap().to_owned();
        assert_eq!(drain(state).await, 1);
        drop(device);
        let done = get(state, &format!("/api/v1/jobs/{job}"), &world.editor)
            .await
            .json();
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(
            done["result"]["attached"]["file"],
            "scans/host-127.0.0.1.json"
        );
        let findings = get(
            state,
            &format!("/api/v1/assessments/{id}/files/scans/host-127.0.0.1.json"),
            &world.editor,
        )
        .await
        .json();
        assert_eq!(findings["target"]["kind"], "host");
        let _ = Credentials::default();
    }
}

/// The advisory database: a server admin replaces it with a gzip-compressed tar of OSV
/// files (what a mirror of an OSV export is), a broken upload is refused with its place
/// and changes nothing, and the next firmware scan matches the image's components
/// against it: the portfolio counts the vulnerabilities found.
#[tokio::test]
async fn uploaded_advisories_are_matched_by_the_next_scan() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        get(state, "/api/v1/advisories", &world.viewer)
            .await
            .problem(StatusCode::NOT_FOUND);
        let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        archive
            .append_dir_all("osv", crate::examples().join("advisories"))
            .unwrap();
        let archive = archive.into_inner().unwrap().finish().unwrap();
        let uri = "/api/v1/advisories?name=osv.tar.gz";
        for who in [&world.editor, &world.viewer] {
            send(
                state,
                Method::PUT,
                uri,
                who,
                Some("application/gzip"),
                archive.clone(),
            )
            .await
            .problem(StatusCode::FORBIDDEN);
        }
        let broken = send(
            state,
            Method::PUT,
            "/api/v1/advisories?name=mirror.json",
            &world.admin,
            Some("application/json"),
            b"[{\"id\": \"OSV-1\", \"affected\": [{\"package\": 3}]}]".to_vec(),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            broken["errors"][0]["where"]
                .as_str()
                .unwrap()
                .starts_with("mirror.json:1:"),
            "{broken}"
        );
        let replaced = send(
            state,
            Method::PUT,
            uri,
            &world.admin,
            Some("application/gzip"),
            archive,
        )
        .await;
        replaced.expect(StatusCode::OK);
        assert_eq!(replaced.json()["advisories"], 5, "{}", replaced.json());
        assert_eq!(replaced.json()["source"], "upload: osv.tar.gz");
        let summary = get(state, "/api/v1/advisories", &world.viewer).await.json();
        assert_eq!(summary["advisories"], 5);

        let id = assessment_with_an_image(state, &world).await;
        assert_eq!(drain(state).await, 1, "{}", server.engine);
        let record = get(state, &format!("/api/v1/assessments/{id}"), &world.viewer)
            .await
            .json();
        assert_eq!(record["counts"]["vulnerabilities"], 2, "{record}");
        let portfolio = get(state, "/portfolio", &world.viewer).await.text();
        assert!(
            portfolio.contains("<span class=\"n-fail\"><b>2</b> known</span>"),
            "{portfolio}"
        );
    }
}

#[tokio::test]
async fn a_worker_whose_lease_was_taken_back_attaches_nothing() {
    use provisor_store::Claim;
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let id = assessment_with_an_image(state, &world).await;
        let claim = |worker: &'static str, lease_ms: i64| Claim {
            worker,
            kinds: provisor_server::worker::KINDS,
            lease_ms,
            scheduled_in_flight: 1,
        };
        // The first worker's lease runs out at once and the job is taken back.
        let stale = state
            .store()
            .claim(&claim("slow", 1))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(state.store().requeue_expired().await.unwrap(), 1);
        let current = state
            .store()
            .claim(&claim("fast", 60_000))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(current.id, stale.id);
        let revision = |state: &provisor_server::AppState| {
            let (state, id) = (state.clone(), id.clone());
            async move {
                state
                    .store()
                    .assessment(&id)
                    .await
                    .unwrap()
                    .current_revision
            }
        };
        let before = revision(state).await;
        let progress = Arc::new(std::sync::Mutex::new(String::new()));
        let refused =
            provisor_server::worker::run_job(state.clone(), stale, 60_000, progress.clone()).await;
        assert!(refused.is_err(), "{}", server.engine);
        assert_eq!(
            revision(state).await,
            before,
            "nothing attached by the stale claim"
        );
        let result = provisor_server::worker::run_job(state.clone(), current, 60_000, progress)
            .await
            .unwrap();
        assert_eq!(
            result["attached"]["revision"],
            before + 1,
            "{}",
            server.engine
        );
    }
}

/// A token with the work scope, made by the admin in a session that gave its code.
async fn work_token(state: &provisor_server::AppState, world: &World) -> Credentials {
    let made = json_request(
        state,
        Method::POST,
        "/api/v1/tokens",
        &world.admin,
        json!({"name": "worker", "scopes": ["work"], "expires_in_days": 1}),
    )
    .await;
    made.expect(StatusCode::CREATED);
    Credentials {
        token: Some(made.json()["secret"].as_str().unwrap().to_owned()),
        ..Credentials::default()
    }
}

#[tokio::test]
async fn a_remote_worker_claims_fetches_and_completes_through_the_api_and_a_lost_claim_saves_nothing()
 {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let id = assessment_with_an_image(state, &world).await;
        // Only a server admin's token with the work scope works the queue.
        let refused = json_request(
            state,
            Method::POST,
            "/api/v1/tokens",
            &world.editor,
            json!({"name": "mine", "scopes": ["work"], "expires_in_days": 1}),
        )
        .await;
        refused.expect(StatusCode::FORBIDDEN);
        for caller in [&world.admin, &world.editor] {
            json_request(
                state,
                Method::POST,
                "/api/v1/worker/claim",
                caller,
                json!({"worker": "w"}),
            )
            .await
            .expect(StatusCode::UNAUTHORIZED);
        }
        let worker = work_token(state, &world).await;
        let claim = |name: &'static str, lease_ms: i64| {
            let worker = worker.clone();
            async move {
                let answer = json_request(
                    state,
                    Method::POST,
                    "/api/v1/worker/claim",
                    &worker,
                    json!({"worker": name, "lease_ms": lease_ms}),
                )
                .await;
                answer.expect(StatusCode::OK);
                answer.json()["job"].clone()
            }
        };
        // The first claim's lease runs out and the job is taken back by another.
        let stale = claim("far-away:1", 2_000).await;
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
        assert_eq!(state.store().requeue_expired().await.unwrap(), 1);
        let current = claim("far-away:2", 60_000).await;
        assert_eq!(current["id"], stale["id"]);
        assert!(current["lock_version"].as_i64() > stale["lock_version"].as_i64());
        json_request(
            state,
            Method::POST,
            "/api/v1/worker/claim",
            &worker,
            json!({"worker": "far-away:3"}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        let job = current["id"].as_str().unwrap();
        let of = |claimed: &serde_json::Value| {
            format!(
                "worker={}&lock_version={}",
                claimed["lease_owner"].as_str().unwrap().replace(':', "%3A"),
                claimed["lock_version"]
            )
        };
        let beat = |claimed: &serde_json::Value| json!({"worker": claimed["lease_owner"], "lock_version": claimed["lock_version"], "lease_ms": 60_000, "progress": "scanning"});
        let heartbeat = format!("/api/v1/worker/jobs/{job}/heartbeat");
        json_request(state, Method::POST, &heartbeat, &worker, beat(&stale))
            .await
            .expect(StatusCode::CONFLICT);
        json_request(state, Method::POST, &heartbeat, &worker, beat(&current))
            .await
            .expect(StatusCode::NO_CONTENT);
        // The image, streamed to the current claim only.
        let image = |claimed: &serde_json::Value| {
            let uri = format!("/api/v1/worker/jobs/{job}/image?{}", of(claimed));
            let worker = worker.clone();
            async move { get(state, &uri, &worker).await }
        };
        image(&stale).await.expect(StatusCode::CONFLICT);
        let fetched = image(&current).await;
        fetched.expect(StatusCode::OK);
        assert!(fetched.body == smartcam_image(), "{}", server.engine);
        // The worker scans it where it runs, and sends the findings file.
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("image.bin");
        std::fs::write(&path, &fetched.body).unwrap();
        let options = provisor_firmware::ScanOptions {
            tool_version: "test".into(),
            ..Default::default()
        };
        let findings = provisor_firmware::scan(&path, &options).unwrap();
        let body = provisor_report::findings_json(&findings).into_bytes();
        let revision = state
            .store()
            .assessment(&id)
            .await
            .unwrap()
            .current_revision;
        let complete = |claimed: &serde_json::Value| {
            let uri = format!("/api/v1/worker/jobs/{job}/complete?{}", of(claimed));
            let (worker, body) = (worker.clone(), body.clone());
            async move {
                send(
                    state,
                    Method::POST,
                    &uri,
                    &worker,
                    Some("application/json"),
                    body,
                )
                .await
            }
        };
        complete(&stale).await.expect(StatusCode::CONFLICT);
        assert_eq!(
            state
                .store()
                .assessment(&id)
                .await
                .unwrap()
                .current_revision,
            revision,
            "nothing saved for the lost claim"
        );
        let done = complete(&current).await;
        done.expect(StatusCode::OK);
        assert_eq!(done.json()["result"]["attached"]["revision"], revision + 1);
        let record = state.store().assessment(&id).await.unwrap();
        assert_eq!(record.current_revision, revision + 1);
        let files = state
            .store()
            .files(&id, record.current_revision)
            .await
            .unwrap();
        assert!(
            files
                .iter()
                .any(|file| file.path == "scans/firmware-smartcam-3.2.1.json"),
            "{files:?}"
        );
        let shown = get(state, &format!("/api/v1/jobs/{job}"), &world.editor).await;
        assert_eq!(shown.json()["state"], "done", "{}", server.engine);
        // A result is committed once: the same claim cannot complete or fail again.
        complete(&current).await.expect(StatusCode::CONFLICT);
        json_request(
            state,
            Method::POST,
            &format!("/api/v1/worker/jobs/{job}/fail"),
            &worker,
            json!({"worker": current["lease_owner"], "lock_version": current["lock_version"], "error": "late"}),
        )
        .await
        .expect(StatusCode::CONFLICT);
        assert_eq!(
            state
                .store()
                .assessment(&id)
                .await
                .unwrap()
                .current_revision,
            revision + 1
        );
    }
}
