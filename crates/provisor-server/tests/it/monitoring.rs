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
        scanned(state, &world).await;
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
        // The portfolio counts them: each vulnerability once, at its highest severity.
        let portfolio = get(state, "/api/v1/portfolio", &world.viewer).await.json();
        assert!(portfolio["advisories_imported_at"].is_i64(), "{portfolio}");
        let entry = portfolio["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["release_id"] == world.release.as_str())
            .unwrap();
        let open: Vec<&Value> = found
            .as_array()
            .unwrap()
            .iter()
            .filter(|each| each["state"] == "open")
            .collect();
        let counts = &entry["monitoring"];
        let total: u64 = ["critical", "high", "medium", "low", "unknown"]
            .iter()
            .map(|severity| counts[severity].as_u64().unwrap())
            .sum();
        let distinct: std::collections::BTreeSet<&str> = open
            .iter()
            .map(|each| each["vulnerability"].as_str().unwrap())
            .collect();
        assert_eq!(total as usize, distinct.len(), "{engine}: {entry}");
        assert!(counts["high"].as_u64().unwrap() >= 1, "{entry}");
        assert_eq!(counts["known_exploited"], 1, "{entry}");
        assert_eq!(counts["new_since_assessment"], total, "{entry}");
        assert_eq!(entry["in_support"], true);
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

/// Uploads the example image to the world's release and runs its scan: the release
/// then has its SBOM.
async fn scanned(state: &provisor_server::AppState, world: &crate::World) {
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
}

/// Scans the world's release (the example image) and imports NVD's sample from the
/// feed directory: the release then has vulnerabilities, and Acme their events.
async fn scanned_and_imported(state: &provisor_server::AppState, world: &crate::World) {
    scanned(state, world).await;
    let feeds = state.config().feeds.join("nvd");
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::copy(sample("nvdcve-2.0-sample.json"), feeds.join("2024.json")).unwrap();
    json_request(
        state,
        Method::POST,
        "/api/v1/advisory-sources",
        &world.admin,
        json!({"name": "nvd", "kind": "nvd", "location": "nvd/2024.json"}),
    )
    .await
    .expect(StatusCode::CREATED);
    import_due(state, &world.admin).await;
}

/// What a webhook receiver was sent: its headers (lower-cased names) and body.
#[derive(Debug, Clone)]
struct Received {
    headers: std::collections::BTreeMap<String, String>,
    body: String,
}

/// A loopback webhook receiver that records each request and answers 204.
async fn receiver() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = received.clone();
    let task = tokio::spawn(async move {
        for _ in 0..32 {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut data = Vec::new();
            let mut buffer = [0u8; 8192];
            // Headers, then the body their Content-Length gives (bounded).
            let request = loop {
                let Ok(read) = stream.read(&mut buffer).await else {
                    break None;
                };
                if read == 0 || data.len() > 1 << 20 {
                    break None;
                }
                data.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&data).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let headers: std::collections::BTreeMap<String, String> = head
                        .lines()
                        .skip(1)
                        .filter_map(|line| line.split_once(':'))
                        .map(|(name, value)| {
                            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
                        })
                        .collect();
                    let length: usize = headers
                        .get("content-length")
                        .and_then(|value| value.parse().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break Some(Received {
                            headers,
                            body: body[..length].to_owned(),
                        });
                    }
                }
            };
            if let Some(request) = request {
                record.lock().unwrap().push(request);
                let _ = stream
                    .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                    .await;
            }
        }
    });
    (address, received, task)
}

#[tokio::test]
async fn webhooks_are_signed_retried_after_a_timeout_and_sent_at_least_once() {
    use hmac::{KeyInit, Mac};
    use provisor_testkit::{Fault, FaultProxy};
    let (receiver_address, received, receiver_task) = receiver().await;
    let proxy = FaultProxy::start(receiver_address).unwrap();
    let hook = format!("http://{}/hooks/provisor", proxy.address());
    let allowed = proxy.address().to_string();
    for server in servers_configured(|config| {
        config.fetch_allow = vec![allowed.clone()];
        config.webhook_timeout = std::time::Duration::from_millis(700);
    })
    .await
    {
        let state = &server.state;
        let engine = server.engine;
        received.lock().unwrap().clear();
        let world = world(state).await;
        let rules = format!("/api/v1/organisations/{}/notification-rules", world.acme);
        // Acme's admin (here the server admin) makes the rule; its editor may not.
        json_request(
            state,
            Method::POST,
            &rules,
            &world.editor,
            json!({"name": "psirt", "channel": "webhook", "target": hook}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        let problem = json_request(state, Method::POST, &rules, &world.admin,
            json!({"name": "elsewhere", "channel": "webhook", "target": "https://hooks.example.org/x"}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["where"], "/target");
        let made = json_request(state, Method::POST, &rules, &world.admin,
            json!({"name": "psirt", "channel": "webhook", "target": hook, "kinds": ["vulnerability.found"]}))
            .await;
        made.expect(StatusCode::CREATED);
        let rule = made.json();
        let secret = rule["secret"].as_str().unwrap().to_owned();
        let listed = get(state, &rules, &world.admin).await.json();
        assert!(
            listed[0].get("secret").is_none(),
            "the secret is shown once: {listed}"
        );

        // A scan and an import make an event and its delivery.
        scanned_and_imported(state, &world).await;
        let events = get(
            state,
            &format!("/api/v1/organisations/{}/events", world.acme),
            &world.viewer,
        )
        .await
        .json();
        let found: Vec<&Value> = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "vulnerability.found")
            .collect();
        assert!(found.len() >= 2, "{engine}: {events}");
        let deliveries_uri = format!(
            "/api/v1/notification-rules/{}/deliveries",
            rule["id"].as_str().unwrap()
        );
        let pending = get(state, &deliveries_uri, &world.admin).await.json();
        assert_eq!(pending.as_array().unwrap().len(), found.len(), "{pending}");

        // The receiver does not answer in time: each delivery fails and waits.
        proxy.set(Fault::Stall);
        assert_eq!(provisor_server::notify::send_due(state).await, found.len());
        let after = get(state, &deliveries_uri, &world.admin).await.json();
        for delivery in after.as_array().unwrap() {
            assert_eq!(delivery["state"], "pending", "{engine}: {delivery}");
            assert_eq!(delivery["attempts"], 1);
            assert!(
                delivery["last_error"].as_str().unwrap().contains("timeout")
                    || delivery["last_error"]
                        .as_str()
                        .unwrap()
                        .contains("timed out"),
                "{delivery}"
            );
        }
        assert_eq!(
            provisor_server::notify::send_due(state).await,
            0,
            "each waits its delay"
        );
        // The answer is lost on the way back: the receiver has them, the sender does not
        // know, and sends them again with the same delivery id.
        for fault in [Fault::CutDownload(0), Fault::Pass] {
            proxy.set(fault);
            for delivery in after.as_array().unwrap() {
                let retry = format!(
                    "/api/v1/deliveries/{}/retry",
                    delivery["id"].as_str().unwrap()
                );
                send(state, Method::POST, &retry, &world.admin, None, Vec::new())
                    .await
                    .expect(StatusCode::ACCEPTED);
            }
            provisor_server::notify::send_due(state).await;
        }
        let delivered = get(state, &deliveries_uri, &world.admin).await.json();
        for delivery in delivered.as_array().unwrap() {
            assert_eq!(delivery["state"], "delivered", "{engine}: {delivery}");
        }
        // A delivered one is not sent again; only the organisation's admins may ask.
        let retry = format!(
            "/api/v1/deliveries/{}/retry",
            delivered[0]["id"].as_str().unwrap()
        );
        send(state, Method::POST, &retry, &world.admin, None, Vec::new())
            .await
            .problem(StatusCode::NOT_FOUND);
        send(state, Method::POST, &retry, &world.editor, None, Vec::new())
            .await
            .problem(StatusCode::FORBIDDEN);
        let received = received.lock().unwrap().clone();
        // Twice each at least (the cut answers and the delivered ones), the stalled
        // requests too when they reached the receiver.
        for delivery in delivered.as_array().unwrap() {
            let id = delivery["id"].as_str().unwrap();
            let copies: Vec<&Received> = received
                .iter()
                .filter(|r| r.headers.get("provisor-delivery").map(String::as_str) == Some(id))
                .collect();
            assert!(
                copies.len() >= 2,
                "{engine}: {id} reached the receiver {} times",
                copies.len()
            );
            for copy in copies {
                assert_eq!(
                    copy.headers.get("idempotency-key").map(String::as_str),
                    Some(id)
                );
                assert_eq!(
                    copy.headers.get("provisor-event").map(String::as_str),
                    Some("vulnerability.found")
                );
                // The signature is the HMAC of "t.body" under the rule's secret.
                let signature = copy.headers.get("provisor-signature").unwrap();
                let (t, v1) = signature.split_once(",v1=").unwrap();
                let t = t.strip_prefix("t=").unwrap();
                let mut mac =
                    hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
                mac.update(format!("{t}.{}", copy.body).as_bytes());
                let expected: String = mac
                    .finalize()
                    .into_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                assert_eq!(v1, expected, "{engine}");
                let body: Value = serde_json::from_str(&copy.body).unwrap();
                assert_eq!(body["delivery"], id);
                assert_eq!(
                    body["event"]["data"]["releases"][0]["release"],
                    world.release.as_str()
                );
            }
        }
        // The rule removed: nothing more is sent for it.
        send(
            state,
            Method::DELETE,
            &format!(
                "/api/v1/notification-rules/{}",
                rule["id"].as_str().unwrap()
            ),
            &world.admin,
            None,
            Vec::new(),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        assert!(
            get(state, &rules, &world.admin)
                .await
                .json()
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
    receiver_task.abort();
}

/// A local SMTP sink: Debian's aiosmtpd on a free loopback port, storing what it
/// receives in a maildir; killed when dropped.
struct SmtpSink {
    port: u16,
    maildir: tempfile::TempDir,
    child: std::process::Child,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    /// Starts the sink; none (the test skipped) when aiosmtpd is not installed and
    /// `PROVISOR_REQUIRE_SMTP` is not set (`scripts/test` installs it and sets it).
    fn start() -> Option<SmtpSink> {
        let installed = std::process::Command::new("/usr/bin/python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|status| status.success());
        if !installed {
            assert!(
                std::env::var_os("PROVISOR_REQUIRE_SMTP").is_none(),
                "PROVISOR_REQUIRE_SMTP is set but aiosmtpd is missing (apt-get install python3-aiosmtpd)"
            );
            eprintln!("skipped: aiosmtpd is not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let sink = SmtpSink {
            port,
            maildir,
            child,
        };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "aiosmtpd did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(sink)
    }

    /// The messages received, as text.
    fn messages(&self) -> Vec<String> {
        let new = self.maildir.path().join("mail/new");
        let mut messages: Vec<String> = std::fs::read_dir(&new)
            .map(|entries| {
                entries
                    .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        messages.sort();
        messages
    }
}

#[tokio::test]
async fn e_mail_rules_get_one_digest_through_the_relay_and_wait_while_it_is_down() {
    let Some(mut sink) = SmtpSink::start() else {
        return;
    };
    let relay = format!("smtp://127.0.0.1:{}", sink.port);
    let with_relay = |config: &mut provisor_server::Config| {
        config.smtp =
            Some(provisor_server::notify::Smtp::parse(&relay, "provisor@lab.example").unwrap());
    };
    for server in servers_configured(with_relay).await {
        let state = &server.state;
        let engine = server.engine;
        let world = world(state).await;
        let before = sink.messages().len();
        let rules = format!("/api/v1/organisations/{}/notification-rules", world.acme);
        json_request(
            state,
            Method::POST,
            &rules,
            &world.admin,
            json!({"name": "not a mailbox", "channel": "email", "target": "psirt"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        let rule = json_request(
            state,
            Method::POST,
            &rules,
            &world.admin,
            json!({"name": "digest", "channel": "email", "target": "psirt@acme.example"}),
        )
        .await;
        rule.expect(StatusCode::CREATED);
        let rule = rule.json();
        assert!(rule.get("secret").is_none());
        scanned_and_imported(state, &world).await;
        assert_eq!(
            provisor_server::notify::send_digests(state).await,
            1,
            "{engine}"
        );
        let messages = sink.messages();
        assert_eq!(messages.len(), before + 1, "{engine}");
        let message = messages
            .iter()
            .find(|m| m.contains("psirt@acme.example") && !messages[..before].contains(m))
            .unwrap();
        assert!(message.contains("Subject: provisor: "), "{message}");
        assert!(message.contains("From: provisor@lab.example"), "{message}");
        assert!(
            message.contains("New vulnerability: CVE-2022-28391 (high)"),
            "{message}"
        );
        assert!(message.contains("busybox-static"), "{message}");
        let deliveries = get(
            state,
            &format!(
                "/api/v1/notification-rules/{}/deliveries",
                rule["id"].as_str().unwrap()
            ),
            &world.admin,
        )
        .await
        .json();
        assert!(
            deliveries
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["state"] == "delivered"),
            "{deliveries}"
        );
        // Nothing new: no message.
        assert_eq!(provisor_server::notify::send_digests(state).await, 0);
    }
    // The relay down: the notices wait, with the relay's address in their error.
    let _ = sink.child.kill();
    let _ = sink.child.wait();
    for server in servers_configured(with_relay).await {
        let state = &server.state;
        let world = world(state).await;
        let rule = json_request(
            state,
            Method::POST,
            &format!("/api/v1/organisations/{}/notification-rules", world.acme),
            &world.admin,
            json!({"name": "digest", "channel": "email", "target": "psirt@acme.example"}),
        )
        .await
        .json();
        scanned_and_imported(state, &world).await;
        assert_eq!(provisor_server::notify::send_digests(state).await, 0);
        let deliveries = get(
            state,
            &format!(
                "/api/v1/notification-rules/{}/deliveries",
                rule["id"].as_str().unwrap()
            ),
            &world.admin,
        )
        .await
        .json();
        for delivery in deliveries.as_array().unwrap() {
            assert_eq!(delivery["state"], "pending", "{delivery}");
            assert!(
                delivery["last_error"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("127.0.0.1:{}", sink.port)),
                "{delivery}"
            );
        }
    }
}

#[tokio::test]
async fn a_feed_that_breaks_midway_keeps_what_it_applied_and_says_where() {
    for server in servers_configured(|_| {}).await {
        let state = &server.state;
        let world = world(state).await;
        // 600 advisories, then a file that is not OSV: the first batch (500) is applied
        // before the reader reaches it.
        let feed = state.config().feeds.join("osv-broken");
        std::fs::create_dir_all(&feed).unwrap();
        for at in 0..600 {
            let record = json!({
                "id": format!("PVT-{at:04}"),
                "modified": "2026-11-30T00:00:00Z",
                "affected": [{"package": {"ecosystem": "Debian:12", "name": format!("pkg{at}")},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0-1"}]}]}],
            });
            std::fs::write(feed.join(format!("PVT-{at:04}.json")), record.to_string()).unwrap();
        }
        std::fs::write(
            feed.join("zz-broken.json"),
            "{\"id\": \"PVT-X\", \"affected\": 7}",
        )
        .unwrap();
        json_request(
            state,
            Method::POST,
            "/api/v1/advisory-sources",
            &world.admin,
            json!({"name": "broken", "kind": "osv", "location": "osv-broken"}),
        )
        .await
        .expect(StatusCode::CREATED);
        let imports = import_due(state, &world.admin).await;
        let import = &imports[0];
        assert_eq!(import["read"], 500, "{}: {import}", server.engine);
        let error = import["error"].as_str().unwrap();
        assert!(error.contains("zz-broken.json:1:"), "{error}");
        // What was applied is kept: the next import changes only what it did not reach.
        std::fs::remove_file(feed.join("zz-broken.json")).unwrap();
        send(
            state,
            Method::POST,
            "/api/v1/advisory-sources/broken/import",
            &world.admin,
            None,
            Vec::new(),
        )
        .await
        .expect(StatusCode::ACCEPTED);
        let again = import_due(state, &world.admin).await;
        assert_eq!(
            (again[0]["read"].as_u64(), again[0]["changed"].as_u64()),
            (Some(600), Some(100)),
            "{again}"
        );
        assert!(again[0]["error"].is_null());
    }
}
