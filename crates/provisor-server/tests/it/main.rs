//! The server's tests, through the router without a socket (`app(state).oneshot`), on
//! SQLite and, when `PROVISOR_TEST_POSTGRES` names a server, on PostgreSQL too (each
//! test a database of its own); `PROVISOR_REQUIRE_POSTGRES` makes a missing server a
//! failure.

mod access;
mod accounts;
mod assessments;
mod changes;
mod contract;
mod faults;
mod jobs;
mod monitoring;
mod openapi;
mod pages;
mod settings;
mod vex;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use provisor_server::{AppState, Config, totp};
use provisor_store::{ServerKey, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A server under test.
pub struct TestServer {
    /// Its state.
    pub state: AppState,
    /// `sqlite` or `postgres`.
    pub engine: &'static str,
    /// The data directory.
    pub dir: tempfile::TempDir,
}

/// A fresh server on each engine configured.
pub async fn servers() -> Vec<TestServer> {
    servers_configured(|_| {}).await
}

/// A fresh server on each engine configured, its configuration changed by `configure`.
pub async fn servers_configured(configure: impl Fn(&mut Config)) -> Vec<TestServer> {
    let mut databases: Vec<(&'static str, Option<String>)> = vec![("sqlite", None)];
    match std::env::var("PROVISOR_TEST_POSTGRES") {
        Ok(server) => {
            let name = format!("provisor_server_{}", provisor_store::random_hex(6));
            let url = provisor_store::create_postgres_database(&server, &name)
                .await
                .unwrap();
            databases.push(("postgres", Some(url)));
        }
        Err(_) if std::env::var_os("PROVISOR_REQUIRE_POSTGRES").is_some() => {
            panic!("PROVISOR_REQUIRE_POSTGRES is set but PROVISOR_TEST_POSTGRES names no server")
        }
        Err(_) => {}
    }
    let mut servers = Vec::new();
    for (engine, database) in databases {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path());
        config.database = database.clone();
        config.max_upload = 8 << 20;
        configure(&mut config);
        let store = Store::open(dir.path(), database.as_deref()).await.unwrap();
        let key = ServerKey::load_or_create(&config.key_path()).unwrap();
        servers.push(TestServer {
            state: AppState::new(store, key, config),
            engine,
            dir,
        });
    }
    servers
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: axum::http::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Answer {
        assert_eq!(self.status, status, "{}", self.text());
        self
    }

    /// Asserts a problem document of a status, and returns it.
    #[track_caller]
    pub fn problem(&self, status: StatusCode) -> Value {
        self.expect(status);
        assert_eq!(
            self.headers.get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
        let problem = self.json();
        assert_eq!(problem["status"], status.as_u16());
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| !detail.is_empty())
        );
        problem
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The session cookie's value.
    pub cookie: Option<String>,
    /// The session's CSRF token.
    pub csrf: Option<String>,
    /// An API token.
    pub token: Option<String>,
}

/// The client address requests come from.
pub const CLIENT: &str = "127.0.0.9:50000";

/// Sends a request through the router.
pub async fn send(
    state: &AppState,
    method: Method,
    uri: &str,
    credentials: &Credentials,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut request = Request::builder().method(method.clone()).uri(uri);
    if let Some(cookie) = &credentials.cookie {
        request = request.header(header::COOKIE, format!("provisor_session={cookie}"));
    }
    if let Some(csrf) = &credentials.csrf {
        request = request.header("x-csrf-token", csrf);
    }
    if let Some(token) = &credentials.token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let mut request = request.body(Body::from(body)).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()));
    let response = provisor_server::app(state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    contract::check(&method, uri, status, &headers, &body);
    Answer {
        status,
        headers,
        body,
    }
}

/// Sends JSON.
pub async fn json_request(
    state: &AppState,
    method: Method,
    uri: &str,
    credentials: &Credentials,
    body: Value,
) -> Answer {
    send(
        state,
        method,
        uri,
        credentials,
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await
}

/// GET.
pub async fn get(state: &AppState, uri: &str, credentials: &Credentials) -> Answer {
    send(state, Method::GET, uri, credentials, None, Vec::new()).await
}

/// The password every test account has.
pub const PASSWORD: &str = "correct horse battery staple";

/// The session cookie a login answer sets.
pub fn cookie_of(answer: &Answer) -> String {
    let set = answer
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    set.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

/// Logs in with password (and a TOTP secret's current code when given).
pub async fn login(state: &AppState, login: &str, totp_secret: Option<&str>) -> Credentials {
    let mut body = json!({"login": login, "password": PASSWORD});
    if let Some(secret) = totp_secret {
        body["totp"] = json!(current_code(secret));
    }
    let answer = json_request(
        state,
        Method::POST,
        "/api/v1/session",
        &Credentials::default(),
        body,
    )
    .await;
    answer.expect(StatusCode::OK);
    Credentials {
        cookie: Some(cookie_of(&answer)),
        csrf: Some(answer.json()["csrf_token"].as_str().unwrap().to_owned()),
        token: None,
    }
}

/// A TOTP secret's code now.
pub fn current_code(secret: &str) -> String {
    totp::code_at(
        &totp::from_base32(secret).unwrap(),
        totp::step_of(provisor_store::now_ms()),
    )
}

/// A TOTP secret's code of the next step (a new step, for a second login in one step).
pub fn next_code(secret: &str) -> String {
    totp::code_at(
        &totp::from_base32(secret).unwrap(),
        totp::step_of(provisor_store::now_ms()) + 1,
    )
}

/// The first admin, through the setup link, logged in with an enrolled authenticator:
/// the session and the TOTP secret.
pub async fn admin(state: &AppState) -> (Credentials, String) {
    let link = provisor_server::setup_link(state).await.unwrap().unwrap();
    let token = link.split_once("token=").unwrap().1;
    json_request(
        state,
        Method::POST,
        "/api/v1/setup",
        &Credentials::default(),
        json!({"token": token, "login": "admin", "display_name": "Admin", "password": PASSWORD}),
    )
    .await
    .expect(StatusCode::CREATED);
    let session = login(state, "admin", None).await;
    let secret = get(state, "/api/v1/session", &session).await;
    assert_eq!(secret.json()["second_factor"], "enrol");
    let made = json_request(state, Method::POST, "/api/v1/me/totp", &session, json!({})).await;
    let secret = made.json()["secret"].as_str().unwrap().to_owned();
    json_request(
        state,
        Method::POST,
        "/api/v1/me/totp/confirm",
        &session,
        json!({"secret": secret, "code": current_code(&secret)}),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    (session, secret)
}

/// A world to test in: a manufacturer with an editor and a viewer, a lab with an
/// assessor, another manufacturer, a product and a release.
pub struct World {
    /// The admin's session.
    pub admin: Credentials,
    /// The manufacturer.
    pub acme: String,
    /// Another manufacturer.
    pub other: String,
    /// The lab.
    pub lab: String,
    /// Acme's editor.
    pub editor: Credentials,
    /// Acme's viewer.
    pub viewer: Credentials,
    /// The lab's assessor.
    pub assessor: Credentials,
    /// The other manufacturer's editor.
    pub stranger: Credentials,
    /// Acme's product.
    pub product: String,
    /// Its release.
    pub release: String,
}

async fn member(
    state: &AppState,
    admin: &Credentials,
    organisation: &str,
    login_name: &str,
    role: &str,
) -> Credentials {
    let user = json_request(
        state,
        Method::POST,
        "/api/v1/users",
        admin,
        json!({"login": login_name, "display_name": login_name, "password": PASSWORD}),
    )
    .await;
    user.expect(StatusCode::CREATED);
    let id = user.json()["id"].as_str().unwrap().to_owned();
    json_request(
        state,
        Method::PUT,
        &format!("/api/v1/organisations/{organisation}/members/{id}"),
        admin,
        json!({"role": role}),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    login(state, login_name, None).await
}

/// Builds the world.
pub async fn world(state: &AppState) -> World {
    let (admin, _) = admin(state).await;
    let organisation = |name: &'static str, kind: &'static str| {
        let admin = admin.clone();
        async move {
            let answer = json_request(
                state,
                Method::POST,
                "/api/v1/organisations",
                &admin,
                json!({"name": name, "kind": kind}),
            )
            .await;
            answer.expect(StatusCode::CREATED);
            answer.json()["id"].as_str().unwrap().to_owned()
        }
    };
    let acme = organisation("Acme", "manufacturer").await;
    let other = organisation("Other", "manufacturer").await;
    let lab = organisation("TestLab", "lab").await;
    let editor = member(state, &admin, &acme, "editor", "editor").await;
    let viewer = member(state, &admin, &acme, "viewer", "viewer").await;
    let assessor = member(state, &admin, &lab, "assessor", "assessor").await;
    let stranger = member(state, &admin, &other, "stranger", "editor").await;
    let product = json_request(
        state,
        Method::POST,
        &format!("/api/v1/organisations/{acme}/products"),
        &editor,
        json!({"name": "SmartCam", "model": "C200"}),
    )
    .await;
    product.expect(StatusCode::CREATED);
    let product = product.json()["id"].as_str().unwrap().to_owned();
    let release = json_request(
        state,
        Method::POST,
        &format!("/api/v1/products/{product}/releases"),
        &editor,
        json!({"version": "3.2.1", "support_period_end": "2030-12-31"}),
    )
    .await;
    release.expect(StatusCode::CREATED);
    let release = release.json()["id"].as_str().unwrap().to_owned();
    World {
        admin,
        acme,
        other,
        lab,
        editor,
        viewer,
        assessor,
        stranger,
        product,
        release,
    }
}

/// The repository's examples.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// A bundle of the SmartCam's V3.1.3 assessment and its evidence, as the CLI makes one.
pub fn smartcam_bundle() -> Vec<u8> {
    let directory = examples().join("smartcam");
    let mut evidence: Vec<String> = std::fs::read_dir(directory.join("evidence"))
        .unwrap()
        .map(|entry| format!("evidence/{}", entry.unwrap().file_name().to_string_lossy()))
        .collect();
    evidence.sort();
    let evidence: Vec<&str> = evidence.iter().map(String::as_str).collect();
    bundle_of(&directory, "assessment-v3.1.3.toml", &evidence)
}

/// A bundle of an assessment file and evidence files of a directory.
pub fn bundle_of(directory: &Path, assessment: &str, evidence: &[&str]) -> Vec<u8> {
    use provisor_bundle::{Member, Role, Source};
    let mut members = vec![Member {
        path: assessment.to_owned(),
        role: Role::Assessment,
        source: Source::File(directory.join(assessment)),
    }];
    for path in evidence {
        members.push(Member {
            path: (*path).to_owned(),
            role: Role::Evidence,
            source: Source::File(directory.join(path)),
        });
    }
    let mut bytes = Vec::new();
    provisor_bundle::write(
        &mut bytes,
        assessment,
        &members,
        "provisor test",
        "2026-11-30T00:00:00Z",
        None,
    )
    .unwrap();
    bytes
}

/// Imports a bundle into a release, returning the assessment's id.
pub async fn import(
    state: &AppState,
    credentials: &Credentials,
    release: &str,
    bundle: Vec<u8>,
) -> Answer {
    send(
        state,
        Method::POST,
        &format!("/api/v1/releases/{release}/assessments"),
        credentials,
        Some("application/x-tar"),
        bundle,
    )
    .await
}

/// Whether a page holds a script of its own (the CSP would refuse it): the one script the
/// pages load is the server's file.
pub(crate) fn has_inline_script(html: &str) -> bool {
    html.replace("<script src=\"/assets/app.js\" defer></script>", "")
        .contains("<script")
}

/// The text of an assessment's main file (the example's V3.1.3 file) at its current
/// revision, as `who` reads it through the API.
pub(crate) async fn main_file(
    state: &provisor_server::AppState,
    id: &str,
    who: &Credentials,
) -> String {
    get(
        state,
        &format!("/api/v1/assessments/{id}/files/assessment-v3.1.3.toml"),
        who,
    )
    .await
    .text()
}
