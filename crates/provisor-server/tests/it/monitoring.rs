//! Monitoring through the API: a release's firmware scan leaves its SBOM; feeds a
//! server admin adds (a path under the feed directory, or a URL on the allow-list,
//! served here on loopback) turn into the release's vulnerabilities; what is not
//! allowed is refused, and a redirect is not followed.

use std::path::PathBuf;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::jobs::{drain, smartcam_image};
use crate::{get, json_request, send, servers_configured, world};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../provisor-advisories/tests/feeds")
        .join(name)
}

/// A loopback HTTP server that answers `/kev.json` with CISA's sample catalogue and
/// `/moved` with a redirect elsewhere, for as long as the test holds it.
async fn feed_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let catalogue = std::fs::read(sample("known_exploited_vulnerabilities-sample.json")).unwrap();
    let task = tokio::spawn(async move {
        for _ in 0..16 {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut request = vec![0u8; 4096];
            let read = stream.read(&mut request).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&request[..read]).into_owned();
            let answer = if request.starts_with("GET /kev.json ") {
                let mut answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    catalogue.len()
                )
                .into_bytes();
                answer.extend_from_slice(&catalogue);
                answer
            } else if request.starts_with("GET /moved ") {
                b"HTTP/1.1 302 Found\r\nLocation: http://192.0.2.1/kev.json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            } else {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            };
            let _ = stream.write_all(&answer).await;
        }
    });
    (port, task)
}

/// Imports every due feed as the monitor does, and returns the newest imports.
async fn import_due(state: &provisor_server::AppState, admin: &crate::Credentials) -> Value {
    while let Some(source) = state
        .store()
        .claim_due_source("test-monitor", 60_000)
        .await
        .unwrap()
    {
        let _ = provisor_server::monitor::import(state, &source, "test-monitor").await;
    }
    get(state, "/api/v1/advisory-imports", admin).await.json()
}

#[tokio::test]
async fn feeds_an_admin_adds_become_the_vulnerabilities_of_scanned_releases() {
    let (port, feed_task) = feed_server().await;
    let allowed = format!("127.0.0.1:{port}");
    for server in servers_configured(|config| config.fetch_allow = vec![allowed.clone()]).await {
        let state = &server.state;
        let engine = server.engine;
        let world = world(state).await;
        send(
            state,
            Method::PUT,
            &format!(
                "/api/v1/releases/{}/firmware?name=smartcam-3.2.1.bin",
                world.release
            ),
            &world.editor,
            Some("application/octet-stream"),
            smartcam_image(),
        )
        .await
        .expect(StatusCode::ACCEPTED);
        assert_eq!(drain(state).await, 1);
        let sbom_uri = format!("/api/v1/releases/{}/sbom", world.release);
        let sbom = get(state, &sbom_uri, &world.viewer).await.json();
        let components = sbom["components"].as_array().unwrap();
        assert!(
            components.iter().any(|c| c["name"] == "busybox-static"
                && c["cpe"] == "cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*"),
            "{engine}: {sbom}"
        );
        get(state, &sbom_uri, &world.stranger)
            .await
            .problem(StatusCode::NOT_FOUND);

        // NVD's feed from the feed directory.
        let feeds = state.config().feeds.join("nvd");
        std::fs::create_dir_all(&feeds).unwrap();
        std::fs::copy(sample("nvdcve-2.0-sample.json"), feeds.join("2024.json")).unwrap();
        let sources = "/api/v1/advisory-sources";
        let added = json_request(state, Method::POST, sources, &world.admin,
            json!({"name": "nvd-2024", "kind": "nvd", "location": "nvd/2024.json", "every_minutes": 60}))
            .await;
        added.expect(StatusCode::CREATED);
        assert_eq!(added.json()["every_minutes"], 60);
        // CISA's catalogue from an allow-listed URL.
        json_request(
            state,
            Method::POST,
            sources,
            &world.admin,
            json!({"name": "kev", "kind": "kev", "location": format!("http://{allowed}/kev.json")}),
        )
        .await
        .expect(StatusCode::CREATED);
        let imports = import_due(state, &world.admin).await;
        let imports = imports.as_array().unwrap();
        assert_eq!(imports.len(), 2, "{engine}: {imports:?}");
        assert!(
            imports.iter().all(|import| import["error"].is_null()),
            "{imports:?}"
        );
        let nvd = imports
            .iter()
            .find(|import| import["source"] == "nvd-2024")
            .unwrap();
        assert_eq!(nvd["read"], 5);
        assert!(nvd["new_matches"].as_u64().unwrap() >= 2, "{nvd}");

        let uri = format!("/api/v1/releases/{}/vulnerabilities", world.release);
        let found = get(state, &uri, &world.viewer).await.json();
        let of = |id: &str| {
            found
                .as_array()
                .unwrap()
                .iter()
                .find(|each| each["vulnerability"] == id)
                .cloned()
                .unwrap_or_else(|| panic!("{engine}: {id} not in {found}"))
        };
        let busybox = of("CVE-2022-28391");
        assert_eq!(
            (busybox["component"].as_str(), busybox["state"].as_str()),
            (Some("busybox-static"), Some("open"))
        );
        assert_eq!(busybox["severity"], "high");
        let terrapin = of("CVE-2023-48795");
        assert_eq!(terrapin["component"], "dropbear-bin");
        assert_eq!(terrapin["known_exploited"], "2026-11-20");
        get(state, &uri, &world.stranger)
            .await
            .problem(StatusCode::NOT_FOUND);

        // An import again changes nothing.
        send(
            state,
            Method::POST,
            "/api/v1/advisory-sources/nvd-2024/import",
            &world.admin,
            None,
            Vec::new(),
        )
        .await
        .expect(StatusCode::ACCEPTED);
        let again = import_due(state, &world.admin).await;
        assert_eq!(
            (again[0]["source"].as_str(), again[0]["changed"].as_u64()),
            (Some("nvd-2024"), Some(0)),
            "{again}"
        );

        // Refused: a path out of the feed directory, a host not allowed, a kind unknown,
        // anyone but a server admin.
        for (body, place) in [
            (
                json!({"name": "x", "kind": "nvd", "location": "../provisor.db"}),
                "/location",
            ),
            (
                json!({"name": "x", "kind": "nvd", "location": "https://example.org/feed.json"}),
                "/location",
            ),
            (
                json!({"name": "x", "kind": "cve", "location": "nvd/2024.json"}),
                "/kind",
            ),
            (
                json!({"name": "a b", "kind": "nvd", "location": "nvd/2024.json"}),
                "/name",
            ),
        ] {
            let problem = json_request(state, Method::POST, sources, &world.admin, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(problem["errors"][0]["where"], place, "{problem}");
        }
        json_request(
            state,
            Method::POST,
            sources,
            &world.editor,
            json!({"name": "x", "kind": "nvd", "location": "nvd/2024.json"}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        // A redirect is not followed: the import fails and says where it pointed.
        json_request(
            state,
            Method::POST,
            sources,
            &world.admin,
            json!({"name": "moved", "kind": "kev", "location": format!("http://{allowed}/moved")}),
        )
        .await
        .expect(StatusCode::CREATED);
        let imports = import_due(state, &world.admin).await;
        let error = imports[0]["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("redirects to http://192.0.2.1/kev.json, which is not followed"),
            "{imports}"
        );
        send(
            state,
            Method::DELETE,
            "/api/v1/advisory-sources/moved",
            &world.admin,
            None,
            Vec::new(),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        let listed = get(state, sources, &world.admin).await.json();
        assert_eq!(listed.as_array().unwrap().len(), 2);
    }
    feed_task.abort();
}
