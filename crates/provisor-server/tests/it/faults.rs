//! Bad input: a clear problem document with the place, and nothing half-written.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::{bundle_of, examples, get, import, send, servers, smartcam_bundle, world};

#[tokio::test]
async fn malformed_and_mistyped_json_say_where() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let uri = format!("/api/v1/products/{}/releases", world.product);
        let broken = send(
            state,
            Method::POST,
            &uri,
            &world.editor,
            Some("application/json"),
            b"{\"version\": \"1\",".to_vec(),
        )
        .await;
        assert!(
            broken.problem(StatusCode::BAD_REQUEST)["detail"]
                .as_str()
                .unwrap()
                .contains("line 1")
        );
        let mistyped = send(
            state,
            Method::POST,
            &uri,
            &world.editor,
            Some("application/json"),
            br#"{"version": 7}"#.to_vec(),
        )
        .await;
        let problem = mistyped.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("invalid type"),
            "{problem}"
        );
        let unknown = send(
            state,
            Method::POST,
            &uri,
            &world.editor,
            Some("application/json"),
            br#"{"version": "7", "colour": "red"}"#.to_vec(),
        )
        .await;
        assert!(
            unknown.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("colour")
        );
        let text = send(
            state,
            Method::POST,
            &uri,
            &world.editor,
            Some("text/plain"),
            b"version=7".to_vec(),
        )
        .await;
        text.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let date = send(
            state,
            Method::POST,
            &uri,
            &world.editor,
            Some("application/json"),
            br#"{"version": "7", "support_period_end": "soon"}"#.to_vec(),
        )
        .await;
        assert!(
            date.problem(StatusCode::UNPROCESSABLE_ENTITY)["detail"]
                .as_str()
                .unwrap()
                .contains("YYYY-MM-DD")
        );
        get(state, "/api/v1/no/such/thing", &world.editor)
            .await
            .problem(StatusCode::NOT_FOUND);
    }
}

fn uploads_left(server: &crate::TestServer) -> usize {
    std::fs::read_dir(server.dir.path().join("uploads")).map_or(0, |entries| entries.count())
}

#[tokio::test]
async fn bad_bundles_are_refused_with_the_member_and_leave_nothing() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        // A member whose bytes do not match the manifest.
        let mut tampered = smartcam_bundle();
        let text = String::from_utf8_lossy(&tampered).into_owned();
        let at = text.find("Acme").unwrap();
        tampered[at] = b'X';
        let answer = import(state, &world.editor, &world.release, tampered).await;
        let problem = answer.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem.to_string().contains("assessment-v3.1.3.toml")
                || problem.to_string().contains("evidence/"),
            "{problem}"
        );
        // Truncated.
        let whole = smartcam_bundle();
        import(
            state,
            &world.editor,
            &world.release,
            whole[..whole.len() / 2].to_vec(),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        // Not a tar at all, and the wrong media type.
        import(state, &world.editor, &world.release, b"hello".to_vec())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        send(
            state,
            Method::POST,
            &format!("/api/v1/releases/{}/assessments", world.release),
            &world.editor,
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        // A member that climbs out of the directory.
        let mut escaping = Vec::new();
        {
            let mut builder = tar::Builder::new(&mut escaping);
            let manifest = json!({"schema": "provisor.bundle/1", "tool": "t", "created": "2026-01-01T00:00:00Z", "assessment": "../a.toml",
                "members": [{"path": "../a.toml", "role": "assessment", "size": 1, "sha256": "0".repeat(64)}]}).to_string();
            let mut header = tar::Header::new_gnu();
            header.set_size(manifest.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, "manifest.json", manifest.as_bytes())
                .unwrap();
            builder.finish().unwrap();
        }
        import(state, &world.editor, &world.release, escaping)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        // An assessment the engine refuses, with its place.
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(
            directory.path().join("a.toml"),
            "edition = \"en303645-v3.1.3\"\n[provision.\"9.9-9\"]\nsupport = \"yes\"\n",
        )
        .unwrap();
        let invalid = import(
            state,
            &world.editor,
            &world.release,
            bundle_of(directory.path(), "a.toml", &[]),
        )
        .await;
        let problem = invalid.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["errors"][0]["where"]
                .as_str()
                .unwrap()
                .starts_with("a.toml:2"),
            "{problem}"
        );
        // Larger than the server's limit (8 MiB in tests).
        let huge = vec![0u8; 9 << 20];
        import(state, &world.editor, &world.release, huge)
            .await
            .problem(StatusCode::PAYLOAD_TOO_LARGE);

        let release = get(
            state,
            &format!("/api/v1/releases/{}", world.release),
            &world.editor,
        )
        .await
        .json();
        assert_eq!(
            release["assessments"],
            json!([]),
            "{}: nothing was recorded",
            server.engine
        );
        assert_eq!(
            uploads_left(&server),
            0,
            "no temporary upload is left behind"
        );
        let _ = examples();
    }
}
