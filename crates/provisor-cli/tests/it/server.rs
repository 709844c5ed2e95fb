//! `provisor serve`, `push`, `pull` and `admin` over real HTTP on loopback: a server
//! process started as a user would, driven by the CLI and by requests; killed with
//! SIGKILL mid-upload and restarted; backed up and restored. On SQLite, and on
//! PostgreSQL when `PROVISOR_TEST_POSTGRES` names a server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{provisor, root};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A running `provisor serve`.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    pub(crate) setup: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn serve(data: &Path, database: Option<&str>) -> Server {
    serve_with(data, database, &[])
}

/// The binary the servers and workers of these tests run: this build's, or for the
/// benchmarks the one PROVISOR_BENCH_BIN names (a release build).
fn provisor_bin() -> PathBuf {
    std::env::var_os("PROVISOR_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("provisor"))
}

fn serve_with(data: &Path, database: Option<&str>, extra: &[&std::ffi::OsStr]) -> Server {
    serve_in(data, database, extra, &[])
}

/// A server started with `extra` arguments and `env` added to its environment.
fn serve_in(
    data: &Path,
    database: Option<&str>,
    extra: &[&std::ffi::OsStr],
    env: &[(String, String)],
) -> Server {
    let mut command = Command::new(provisor_bin());
    command.envs(env.iter().map(|(key, value)| (key, value)));
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--max-upload",
            "64M",
            "--data",
        ])
        .arg(data)
        .args(extra)
        .env("PROVISOR_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match database {
        Some(url) => command.env("PROVISOR_DATABASE", url),
        None => command.env_remove("PROVISOR_DATABASE"),
    };
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let (mut url, mut setup) = (None, None);
    while started.elapsed() < Duration::from_secs(30) {
        let Ok(line) = receiver.recv_timeout(Duration::from_secs(30)) else {
            break;
        };
        if let Some(rest) = line.trim().strip_prefix("url:") {
            url = Some(rest.trim().to_owned());
        }
        if line.contains("/setup?token=") {
            setup = Some(line.trim().to_owned());
        }
        if line.starts_with("listening;") {
            break;
        }
    }
    let url = url.expect("the server printed its URL");
    assert!(
        url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
        "{url}"
    );
    std::thread::spawn(move || for _ in receiver {});
    Server { child, url, setup }
}

fn agent() -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)));
    if let Some(pem) = TRUSTED.with(|trusted| trusted.borrow().clone()) {
        let certificate = ureq::tls::Certificate::from_pem(&pem).unwrap();
        config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![
                    certificate,
                ])))
                .build(),
        );
    }
    config.build().into()
}

thread_local! {
    /// The certificate a TLS test's requests trust.
    static TRUSTED: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

/// A session: the cookie and the CSRF token.
pub(crate) struct Session {
    cookie: String,
    csrf: String,
}

pub(crate) fn call(
    server: &Server,
    method: &str,
    path: &str,
    session: Option<&Session>,
    body: Option<Value>,
) -> (u16, Value) {
    let agent = agent();
    let url = format!("{}{path}", server.url);
    let mut request = ureq::http::Request::builder().method(method).uri(&url);
    if let Some(session) = session {
        request = request
            .header("Cookie", format!("provisor_session={}", session.cookie))
            .header("X-CSRF-Token", &session.csrf);
    }
    let request = request.header("Content-Type", "application/json");
    let request = request
        .body(body.map(|body| body.to_string()).unwrap_or_default())
        .unwrap();
    let mut response = agent.run(request).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub(crate) fn login(server: &Server, login: &str, code: Option<String>) -> Session {
    let agent = agent();
    let mut response = agent
        .post(&format!("{}/api/v1/session", server.url))
        .content_type("application/json")
        .send(json!({"login": login, "password": PASSWORD, "totp": code}).to_string())
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    Session {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

pub(crate) fn code(secret: &str, offset: i64) -> String {
    let step = provisor_server::totp::step_of(provisor_store::now_ms()) + offset;
    provisor_server::totp::code_at(&provisor_server::totp::from_base32(secret).unwrap(), step)
}

/// Sets up the first admin through the printed link, a manufacturer, a product, a
/// release and a CI token; returns the release and the token.
fn set_up(server: &Server) -> (String, String) {
    let link = server
        .setup
        .clone()
        .expect("a first start prints the setup link");
    let token = link.split_once("token=").unwrap().1;
    let (status, _) = call(
        server,
        "POST",
        "/api/v1/setup",
        None,
        Some(
            json!({"token": token, "login": "admin", "display_name": "Admin", "password": PASSWORD}),
        ),
    );
    assert_eq!(status, 201);
    let session = login(server, "admin", None);
    let (_, made) = call(
        server,
        "POST",
        "/api/v1/me/totp",
        Some(&session),
        Some(json!({})),
    );
    let secret = made["secret"].as_str().unwrap().to_owned();
    SECRET.with(|kept| *kept.borrow_mut() = Some(secret.clone()));
    let (status, _) = call(
        server,
        "POST",
        "/api/v1/me/totp/confirm",
        Some(&session),
        Some(json!({"secret": secret, "code": code(&secret, 0)})),
    );
    assert_eq!(status, 204);
    let (_, organisation) = call(
        server,
        "POST",
        "/api/v1/organisations",
        Some(&session),
        Some(json!({"name": "Acme", "kind": "manufacturer"})),
    );
    let organisation = organisation["id"].as_str().unwrap();
    let (_, product) = call(
        server,
        "POST",
        &format!("/api/v1/organisations/{organisation}/products"),
        Some(&session),
        Some(json!({"name": "SmartCam", "model": "C200"})),
    );
    let (_, release) = call(
        server,
        "POST",
        &format!(
            "/api/v1/products/{}/releases",
            product["id"].as_str().unwrap()
        ),
        Some(&session),
        Some(json!({"version": "3.2.1"})),
    );
    let (status, token) = call(
        server,
        "POST",
        "/api/v1/tokens",
        Some(&session),
        Some(json!({"name": "ci", "scopes": ["read", "write"], "expires_in_days": 7})),
    );
    assert_eq!(status, 201, "{token}");
    (
        release["id"].as_str().unwrap().to_owned(),
        token["secret"].as_str().unwrap().to_owned(),
    )
}

/// A copy of the SmartCam example (V3.1.3 assessment and evidence) in a directory of
/// its own, since a push records where it went beside the assessment.
pub(crate) fn smartcam_copy(into: &Path) -> PathBuf {
    let source = root().join("examples/smartcam");
    std::fs::create_dir_all(into.join("evidence")).unwrap();
    std::fs::copy(
        source.join("assessment-v3.1.3.toml"),
        into.join("assessment-v3.1.3.toml"),
    )
    .unwrap();
    for entry in std::fs::read_dir(source.join("evidence")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), into.join("evidence").join(entry.file_name())).unwrap();
    }
    into.join("assessment-v3.1.3.toml")
}

fn databases() -> Vec<Option<String>> {
    let mut databases = vec![None];
    if let Ok(server) = std::env::var("PROVISOR_TEST_POSTGRES") {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let name = format!("provisor_cli_{}", provisor_store::random_hex(6));
        databases.push(Some(
            runtime
                .block_on(provisor_store::create_postgres_database(&server, &name))
                .unwrap(),
        ));
    }
    databases
}

/// `provisor push` of a new assessment of a release.
pub(crate) fn push_new(
    server: &Server,
    assessment: &Path,
    release: &str,
    token: &str,
) -> std::process::Output {
    provisor()
        .arg("push")
        .arg(assessment)
        .args(["--server", &server.url, "--release", release])
        .env("PROVISOR_TOKEN", token)
        .output()
        .unwrap()
}

/// Points a command at a PostgreSQL database, or at none (the embedded SQLite).
fn with_database(command: &mut assert_cmd::Command, database: Option<&str>) {
    match database {
        Some(url) => command.env("PROVISOR_DATABASE", url),
        None => command.env_remove("PROVISOR_DATABASE"),
    };
}

#[test]
fn push_pull_and_admin_over_http() {
    for database in databases() {
        let work = tempfile::tempdir().unwrap();
        let data = work.path().join("data");
        let server = serve(&data, database.as_deref());
        let (release, token) = set_up(&server);
        let assessment = smartcam_copy(&work.path().join("mine"));

        // Without a token, push says how to give one; a token never goes on the command line.
        let refused = provisor()
            .args(["push"])
            .arg(&assessment)
            .args(["--server", &server.url, "--release", &release])
            .env_remove("PROVISOR_TOKEN")
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("PROVISOR_TOKEN"));

        let pushed = push_new(&server, &assessment, &release, &token);
        assert!(
            pushed.status.success(),
            "{}",
            String::from_utf8_lossy(&pushed.stderr)
        );
        let id = String::from_utf8(pushed.stdout).unwrap().trim().to_owned();
        assert!(id.starts_with("asm_"), "{id}");

        // Pulled, every file comes back byte for byte.
        let pulled_dir = work.path().join("pulled");
        let pulled = provisor()
            .args(["pull", &id, "--server", &server.url, "-o"])
            .arg(&pulled_dir)
            .env("PROVISOR_TOKEN", &token)
            .output()
            .unwrap();
        assert!(
            pulled.status.success(),
            "{}",
            String::from_utf8_lossy(&pulled.stderr)
        );
        for relative in [
            "assessment-v3.1.3.toml",
            "evidence/password-provisioning.md",
            "evidence/update-signing.md",
        ] {
            assert_eq!(
                std::fs::read(pulled_dir.join(relative)).unwrap(),
                std::fs::read(work.path().join("mine").join(relative)).unwrap(),
                "{relative}"
            );
        }
        // The pulled copy checks as the original does.
        let check = provisor()
            .arg("check")
            .arg(pulled_dir.join("assessment-v3.1.3.toml"))
            .args(["--format", "json"])
            .output()
            .unwrap();
        let original = provisor()
            .arg("check")
            .arg(&assessment)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(check.status.code(), original.status.code());

        // A change pushed from the pulled directory is the next revision; a push from a
        // directory that did not see it is refused.
        let path = pulled_dir.join("assessment-v3.1.3.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replacen("# ", "# edited on the server's copy\n# ", 1),
        )
        .unwrap();
        let next = provisor()
            .arg("push")
            .arg(&path)
            .env("PROVISOR_TOKEN", &token)
            .output()
            .unwrap();
        assert!(
            next.status.success(),
            "{}",
            String::from_utf8_lossy(&next.stderr)
        );
        assert!(String::from_utf8_lossy(&next.stderr).contains("revision 2"));
        let stale = provisor()
            .arg("push")
            .arg(&assessment)
            .args(["--to", &id])
            .env("PROVISOR_TOKEN", &token)
            .output()
            .unwrap();
        assert_eq!(stale.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&stale.stderr).contains("409"),
            "{}",
            String::from_utf8_lossy(&stale.stderr)
        );

        // The audit log holds while the server runs; a backup restores into a log that
        // holds too.
        let verify = |data: &Path, database: Option<&str>| {
            let mut command = provisor();
            command.args(["admin", "audit-verify", "--data"]).arg(data);
            with_database(&mut command, database);
            command.output().unwrap()
        };
        let verified = verify(&data, database.as_deref());
        assert!(
            verified.status.success(),
            "{}",
            String::from_utf8_lossy(&verified.stdout)
        );
        let backup = work.path().join("backup");
        let mut command = provisor();
        command
            .args(["admin", "backup", "--data"])
            .arg(&data)
            .arg("-o")
            .arg(&backup);
        with_database(&mut command, database.as_deref());
        let backed_up = command.output().unwrap();
        assert!(
            backed_up.status.success(),
            "{}",
            String::from_utf8_lossy(&backed_up.stderr)
        );
        let restored_data = work.path().join("restored");
        let restored_database = database.as_ref().map(|_| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let name = format!("provisor_restore_{}", provisor_store::random_hex(6));
            runtime
                .block_on(provisor_store::create_postgres_database(
                    &std::env::var("PROVISOR_TEST_POSTGRES").unwrap(),
                    &name,
                ))
                .unwrap()
        });
        let mut command = provisor();
        command
            .args(["admin", "restore", "--from"])
            .arg(&backup)
            .arg("--data")
            .arg(&restored_data);
        with_database(&mut command, restored_database.as_deref());
        let restored = command.output().unwrap();
        assert!(
            restored.status.success(),
            "{}",
            String::from_utf8_lossy(&restored.stderr)
        );
        assert!(
            verify(&restored_data, restored_database.as_deref())
                .status
                .success()
        );
        // Tampering with the restored copy is found.
        if restored_database.is_none() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                use sqlx::Connection;
                sqlx::any::install_default_drivers();
                let url = format!("sqlite://{}", restored_data.join("provisor.db").display());
                let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
                sqlx::raw_sql("UPDATE audit_log SET actor = 'someone else' WHERE seq = 3")
                    .execute(&mut connection)
                    .await
                    .unwrap();
            });
            let tampered = verify(&restored_data, None);
            assert_eq!(tampered.status.code(), Some(1));
            assert!(String::from_utf8_lossy(&tampered.stdout).contains("entry 3"));
        }
        drop(server);
    }
}

#[test]
fn a_killed_server_loses_nothing_acknowledged_and_drops_the_unfinished_upload() {
    for database in databases() {
        let work = tempfile::tempdir().unwrap();
        let data = work.path().join("data");
        let server = serve(&data, database.as_deref());
        let (release, token) = set_up(&server);
        let assessment = smartcam_copy(&work.path().join("mine"));
        let pushed = push_new(&server, &assessment, &release, &token);
        assert!(pushed.status.success());
        let id = String::from_utf8(pushed.stdout).unwrap().trim().to_owned();

        // An upload that the server is still receiving when it is killed.
        let url = server.url.clone();
        let host = url.trim_start_matches("http://").to_owned();
        let mut stream = std::net::TcpStream::connect(&host).unwrap();
        use std::io::Write;
        write!(stream, "PUT /api/v1/assessments/{id}/files/evidence/big.bin?based_on=1 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: 33554432\r\n\r\n").unwrap();
        stream.write_all(&vec![7u8; 4 << 20]).unwrap();
        stream.flush().unwrap();
        let uploads = data.join("uploads");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline
            && std::fs::read_dir(&uploads).map_or(0, |entries| entries.count()) == 0
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            std::fs::read_dir(&uploads).unwrap().count() > 0,
            "the upload had begun"
        );
        let mut server = server;
        let workers = children_of(server.child.id());
        assert_eq!(workers.len(), 1, "the server runs one worker: {workers:?}");
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        drop(stream);
        // Its worker does not run on as an orphan.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{}", workers[0])).exists() {
            assert!(
                Instant::now() < deadline,
                "the worker of the killed server still runs"
            );
            std::thread::sleep(Duration::from_millis(50));
        }

        let restarted = serve(&data, database.as_deref());
        assert!(
            restarted.setup.is_none(),
            "no new setup link once an admin exists"
        );
        assert_eq!(
            std::fs::read_dir(&uploads).unwrap().count(),
            0,
            "the unfinished upload is gone"
        );
        let pulled_dir = work.path().join("pulled");
        let pulled = provisor()
            .args(["pull", &id, "--server", &restarted.url, "-o"])
            .arg(&pulled_dir)
            .env("PROVISOR_TOKEN", &token)
            .output()
            .unwrap();
        assert!(
            pulled.status.success(),
            "{}",
            String::from_utf8_lossy(&pulled.stderr)
        );
        let record: Value = serde_json::from_str(
            &std::fs::read_to_string(pulled_dir.join(".provisor-pull.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            record["revision"], 1,
            "the acknowledged revision, and nothing of the interrupted one"
        );
        assert!(!pulled_dir.join("evidence/big.bin").exists());
        let mut command = provisor();
        command.args(["admin", "audit-verify", "--data"]).arg(&data);
        with_database(&mut command, database.as_deref());
        assert!(command.output().unwrap().status.success());
    }
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let work = tempfile::tempdir().unwrap();
    let server = serve(&work.path().join("data"), None);
    let (status, body) = call(&server, "GET", "/readyz", None, None);
    assert_eq!((status, body), (200, Value::Null));
    let mut server = server;
    Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The parent is the second field after the command name in parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if rest
            .split_whitespace()
            .nth(1)
            .and_then(|ppid| ppid.parse::<u32>().ok())
            == Some(pid)
        {
            children.push(child);
        }
    }
    children
}

fn job_state(server: &Server, token: &str, job: &str) -> Value {
    let mut response = agent()
        .get(&format!("{}/api/v1/jobs/{job}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

#[test]
fn a_worker_killed_during_a_scan_is_replaced_and_the_job_runs_again() {
    let image = root().join("target/test-images/smartcam/smartcam-3.2.1.bin");
    assert!(
        image.exists(),
        "{}: run scripts/build-test-images first",
        image.display()
    );
    let work = tempfile::tempdir().unwrap();
    let server = serve(&work.path().join("data"), None);
    let (release, token) = set_up(&server);
    let assessment = smartcam_copy(&work.path().join("mine"));
    let pushed = push_new(&server, &assessment, &release, &token);
    let id = String::from_utf8(pushed.stdout).unwrap().trim().to_owned();
    // The CI token lacks the scan scope: refused; a token with it uploads.
    let upload = |token: &str, body: std::fs::File| {
        agent()
            .put(&format!(
                "{}/api/v1/releases/{release}/firmware?name=smartcam-3.2.1.bin&assessment={id}",
                server.url
            ))
            .header("Authorization", &format!("Bearer {token}"))
            .content_type("application/octet-stream")
            .send(body)
            .unwrap()
    };
    let small = work.path().join("small.bin");
    std::fs::write(&small, b"not an image").unwrap();
    assert_eq!(
        upload(&token, std::fs::File::open(&small).unwrap())
            .status()
            .as_u16(),
        403
    );
    let scanner = scan_token(&server, &work);
    let mut response = upload(&scanner, std::fs::File::open(&image).unwrap());
    assert_eq!(response.status().as_u16(), 202);
    let accepted: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    let job = accepted["job"]["id"].as_str().unwrap().to_owned();

    // Wait for a worker to take it, then kill that worker.
    let deadline = Instant::now() + Duration::from_secs(60);
    while job_state(&server, &scanner, &job)["state"] != "running" {
        assert!(Instant::now() < deadline, "no worker took the job");
        std::thread::sleep(Duration::from_millis(20));
    }
    let workers = children_of(server.child.id());
    assert_eq!(workers.len(), 1, "one worker process: {workers:?}");
    Command::new("kill")
        .arg("-KILL")
        .arg(workers[0].to_string())
        .status()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(180);
    let done = loop {
        let state = job_state(&server, &scanner, &job);
        if state["state"] == "done" || state["state"] == "dead" {
            break state;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {state}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["attempts"], 2, "run again after the kill: {done}");
    let replacement = children_of(server.child.id());
    assert!(
        replacement.len() == 1 && replacement[0] != workers[0],
        "a new worker runs: {replacement:?}"
    );
}

/// A token with the scan scope, made in an admin session that gave its code.
fn scan_token(server: &Server, _work: &tempfile::TempDir) -> String {
    let admin = login_with_totp(server);
    let (status, made) = call(
        server,
        "POST",
        "/api/v1/tokens",
        Some(&admin),
        Some(json!({"name": "scanner", "scopes": ["read", "write", "scan"], "expires_in_days": 1})),
    );
    assert_eq!(status, 201, "{made}");
    made["secret"].as_str().unwrap().to_owned()
}

fn login_with_totp(server: &Server) -> Session {
    let secret = SECRET
        .with(|secret| secret.borrow().clone())
        .expect("set_up enrolled an authenticator");
    login(server, "admin", Some(code(&secret, 1)))
}

thread_local! {
    static SECRET: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn over_tls_cookies_are_secure_and_push_trusts_the_given_certificate() {
    let work = tempfile::tempdir().unwrap();
    // A private CA, and the server's certificate signed by it.
    let path = |name: &str| work.path().join(name);
    let openssl = |arguments: &[&str]| {
        let made = Command::new("openssl")
            .current_dir(work.path())
            .args(arguments)
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "openssl {arguments:?}: {}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=provisor test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(path("server.ext"), "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "server.ext",
        "-out",
        "cert.pem",
    ]);
    let (certificate, key, authority) = (path("cert.pem"), path("key.pem"), path("ca.pem"));
    TRUSTED.with(|trusted| *trusted.borrow_mut() = Some(std::fs::read(&authority).unwrap()));
    let server = serve_with(
        &work.path().join("data"),
        None,
        &[
            "--tls-cert".as_ref(),
            certificate.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
        ],
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let mut ready = agent()
        .get(&format!("{}/readyz", server.url))
        .call()
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    assert!(ready.headers().get("strict-transport-security").is_some());
    let _ = ready.body_mut().read_to_string();
    let (release, token) = set_up(&server);
    let mut response = agent()
        .post(&format!("{}/api/v1/session", server.url))
        .content_type("application/json")
        .send(json!({"login": "admin", "password": PASSWORD}).to_string())
        .unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let _ = response.body_mut().read_to_string();

    let assessment = smartcam_copy(&work.path().join("mine"));
    // Without the certificate the server is not trusted, and push says so.
    let untrusted = push_new(&server, &assessment, &release, &token);
    assert_eq!(untrusted.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&untrusted.stderr).contains("cannot reach"),
        "{}",
        String::from_utf8_lossy(&untrusted.stderr)
    );
    let trusted = provisor()
        .arg("push")
        .arg(&assessment)
        .args(["--server", &server.url, "--release", &release, "--ca-cert"])
        .arg(&authority)
        .env("PROVISOR_TOKEN", &token)
        .output()
        .unwrap();
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    // Plain HTTP to the TLS port gets nothing.
    let plain = server.url.replace("https://", "http://");
    let answer = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent()
        .get(&format!("{plain}/readyz"))
        .call();
    assert!(answer.is_err() || answer.unwrap().status().as_u16() != 200);
    TRUSTED.with(|trusted| *trusted.borrow_mut() = None);
}

#[test]
fn a_scan_past_the_worker_memory_limit_fails_with_the_reason_and_the_server_stays() {
    let image = root().join("target/test-images/smartcam/smartcam-3.2.1.bin");
    assert!(
        image.exists(),
        "{}: run scripts/build-test-images first",
        image.display()
    );
    let work = tempfile::tempdir().unwrap();
    // Enough for a worker to start and take a job; not for unpacking this image.
    let server = serve_with(
        &work.path().join("data"),
        None,
        &["--worker-memory".as_ref(), "24M".as_ref()],
    );
    let (release, _) = set_up(&server);
    let scanner = scan_token(&server, &work);
    let mut response = agent()
        .put(&format!(
            "{}/api/v1/releases/{release}/firmware?name=smartcam-3.2.1.bin",
            server.url
        ))
        .header("Authorization", &format!("Bearer {scanner}"))
        .content_type("application/octet-stream")
        .send(std::fs::File::open(&image).unwrap())
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let accepted: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    let job = accepted["job"]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    let ended = loop {
        let state = job_state(&server, &scanner, &job);
        if state["state"] == "dead" {
            break state;
        }
        assert_ne!(state["state"], "done", "the scan fit after all: {state}");
        assert!(Instant::now() < deadline, "the job did not end: {state}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(ended["attempts"], 2, "{ended}");
    assert!(
        ended["error"].as_str().unwrap().contains("worker exited"),
        "{ended}"
    );
    let (status, _) = call(&server, "GET", "/readyz", None, None);
    assert_eq!(status, 200, "the server is unharmed");
}

#[test]
fn a_server_killed_during_a_scan_runs_the_job_again_after_its_restart() {
    let image = root().join("target/test-images/smartcam/smartcam-3.2.1.bin");
    assert!(
        image.exists(),
        "{}: run scripts/build-test-images first",
        image.display()
    );
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    // A short lease, so that the job of the vanished worker is due again soon.
    let lease: [&std::ffi::OsStr; 2] = ["--job-lease".as_ref(), "3".as_ref()];
    let server = serve_with(&data, None, &lease);
    let (release, _) = set_up(&server);
    let scanner = scan_token(&server, &work);
    let mut response = agent()
        .put(&format!(
            "{}/api/v1/releases/{release}/firmware?name=smartcam-3.2.1.bin",
            server.url
        ))
        .header("Authorization", &format!("Bearer {scanner}"))
        .content_type("application/octet-stream")
        .send(std::fs::File::open(&image).unwrap())
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let accepted: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    let job = accepted["job"]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while job_state(&server, &scanner, &job)["state"] != "running" {
        assert!(Instant::now() < deadline, "no worker took the job");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let restarted = serve_with(&data, None, &lease);
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let state = job_state(&restarted, &scanner, &job);
        if state["state"] == "done" || state["state"] == "dead" {
            break state;
        }
        assert!(
            Instant::now() < deadline,
            "the job did not run again: {state}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["attempts"], 2, "{done}");
}

/// Starts `provisor worker --server` as a worker on another machine would run it: the
/// token from a file, no database, a short lease.
fn remote_worker(server: &str, token_file: &Path, work_dir: &Path) -> Child {
    std::fs::create_dir_all(work_dir).unwrap();
    Command::new(assert_cmd::cargo::cargo_bin("provisor"))
        .args(["worker", "--lease", "3", "--server", server, "--token-file"])
        .arg(token_file)
        .arg("--work-dir")
        .arg(work_dir)
        .env_remove("PROVISOR_DATABASE")
        .env_remove("PROVISOR_TOKEN")
        .env("PROVISOR_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work_dir.with_extension("log")).unwrap())
        .spawn()
        .unwrap()
}

/// A new API token of `scopes` made by an admin session: its secret.
fn new_token(server: &Server, admin: &Session, name: &str, scopes: &[&str]) -> String {
    let (status, made) = call(
        server,
        "POST",
        "/api/v1/tokens",
        Some(admin),
        Some(json!({"name": name, "scopes": scopes, "expires_in_days": 1})),
    );
    assert_eq!(status, 201, "{made}");
    made["secret"].as_str().unwrap().to_owned()
}

/// Uploads the example device's image to a release (`query` adds to the URL's
/// parameters): the id of the scan job it queued.
fn upload_example_image(server: &Server, token: &str, release: &str, query: &str) -> String {
    let image = root().join("target/test-images/smartcam/smartcam-3.2.1.bin");
    let mut response = agent()
        .put(&format!(
            "{}/api/v1/releases/{release}/firmware?{query}",
            server.url
        ))
        .header("Authorization", &format!("Bearer {token}"))
        .content_type("application/octet-stream")
        .send(std::fs::File::open(&image).unwrap())
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let accepted: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    accepted["job"]["id"].as_str().unwrap().to_owned()
}

/// A server without workers of its own, an assessment of the example device, a token
/// to upload images with and a worker's token (the work scope, kept in a file).
struct Farm {
    work: tempfile::TempDir,
    server: Server,
    release: String,
    assessment: String,
    admin: Session,
    token: String,
    scanner: String,
    token_file: PathBuf,
}

impl Farm {
    fn new() -> Farm {
        Farm::start(None, &["--workers".as_ref(), "0".as_ref()], &[])
    }

    /// The server on `database` (SQLite when None), started with `extra` arguments and
    /// `env` in its environment.
    fn start(database: Option<&str>, extra: &[&std::ffi::OsStr], env: &[(String, String)]) -> Farm {
        let image = root().join("target/test-images/smartcam/smartcam-3.2.1.bin");
        assert!(
            image.exists(),
            "{}: run scripts/build-test-images first",
            image.display()
        );
        let work = tempfile::tempdir().unwrap();
        let server = serve_in(&work.path().join("data"), database, extra, env);
        let (release, token) = set_up(&server);
        let copy = smartcam_copy(&work.path().join("mine"));
        let pushed = push_new(&server, &copy, &release, &token);
        let assessment = String::from_utf8(pushed.stdout).unwrap().trim().to_owned();
        let admin = login_with_totp(&server);
        let scanner = new_token(&server, &admin, "scanner", &["read", "write", "scan"]);
        let worker = new_token(&server, &admin, "scan farm", &["work"]);
        let token_file = work.path().join("worker.token");
        std::fs::write(&token_file, worker).unwrap();
        Farm {
            work,
            server,
            release,
            assessment,
            admin,
            token,
            scanner,
            token_file,
        }
    }

    /// Uploads the example image for a scan attached to the assessment: the job's id.
    fn upload(&self) -> String {
        upload_example_image(
            &self.server,
            &self.scanner,
            &self.release,
            &format!("name=smartcam-3.2.1.bin&assessment={}", self.assessment),
        )
    }

    fn worker(&self, server: &str, name: &str) -> Child {
        remote_worker(server, &self.token_file, &self.work.path().join(name))
    }

    fn state(&self, job: &str) -> Value {
        job_state(&self.server, &self.scanner, job)
    }

    fn wait_running(&self, job: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.state(job)["state"] != "running" {
            assert!(Instant::now() < deadline, "no remote worker took the job");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the job to end: its state.
    fn wait_end(&self, job: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let state = self.state(job);
            if state["state"] == "done" || state["state"] == "dead" {
                return state;
            }
            assert!(Instant::now() < deadline, "the job did not finish: {state}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Asserts the job ended done, attached its findings as the assessment's current
    /// revision, after `attempts` claims.
    fn assert_attached_once(&self, done: &Value, attempts: u64) {
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["attempts"], attempts, "{done}");
        assert_eq!(
            done["result"]["attached"]["assessment"],
            self.assessment.as_str(),
            "{done}"
        );
        let (status, shown) = call(
            &self.server,
            "GET",
            &format!("/api/v1/assessments/{}", self.assessment),
            Some(&self.admin),
            None,
        );
        assert_eq!(status, 200, "{shown}");
        assert_eq!(
            shown["current_revision"],
            done["result"]["attached"]["revision"]
        );
    }
}

#[test]
fn a_worker_on_another_machine_scans_through_the_api_and_one_killed_is_replaced() {
    let farm = Farm::new();
    let job = farm.upload();

    // The first worker takes the job and is killed while it runs.
    let mut first = farm.worker(&farm.server.url, "first");
    farm.wait_running(&job);
    first.kill().unwrap();
    first.wait().unwrap();

    // Another takes it again once the lease (3 s) has run out, and completes it.
    let mut second = farm.worker(&farm.server.url, "second");
    let done = farm.wait_end(&job);
    second.kill().unwrap();
    second.wait().unwrap();
    farm.assert_attached_once(&done, 2);
    // The download the second worker made is gone with its scan.
    assert_eq!(
        std::fs::read_dir(farm.work.path().join("second"))
            .unwrap()
            .count(),
        0,
        "no download left behind"
    );
}

/// A worker cut off from its server mid-job (every connection refused and the open ones
/// cut, as by a network outage) stops the job rather than run it beside the worker the
/// job passes to, stays up, and takes work again once the server can be reached.
#[test]
fn a_worker_cut_off_from_its_server_gives_its_job_up_and_resumes_when_the_server_returns() {
    use provisor_testkit::{Fault, FaultProxy};

    let farm = Farm::new();
    let upstream = farm
        .server
        .url
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(upstream).unwrap();
    let job = farm.upload();

    let through_proxy = format!("http://{}", proxy.address());
    let mut cut_off = farm.worker(&through_proxy, "cut-off");
    farm.wait_running(&job);
    proxy.set(Fault::Refuse);

    // The job passes to a worker that reaches the server once the lease has run out,
    // and its findings are attached once.
    let mut direct = farm.worker(&farm.server.url, "direct");
    let done = farm.wait_end(&job);
    direct.kill().unwrap();
    direct.wait().unwrap();
    farm.assert_attached_once(&done, 2);
    let revision = done["result"]["attached"]["revision"].clone();

    // The worker cut off is still there, looking for work in vain.
    assert!(
        cut_off.try_wait().unwrap().is_none(),
        "the worker ended when the server could not be reached"
    );
    assert!(proxy.cut() > 0);
    // The server returns: the worker cut off takes the next job and completes it.
    proxy.set(Fault::Pass);
    let next = farm.upload();
    let done = farm.wait_end(&next);
    farm.assert_attached_once(&done, 1);
    assert_ne!(done["result"]["attached"]["revision"], revision);
    cut_off.kill().unwrap();
    cut_off.wait().unwrap();
    let log = std::fs::read_to_string(farm.work.path().join("cut-off.log")).unwrap();
    assert!(
        log.contains("the lease was last renewed") || log.contains("was not delivered"),
        "the worker said nothing of the outage: {log}"
    );
}

/// A server whose blobs are kept in S3-compatible object storage (s3s-fs on loopback):
/// an uploaded image is an object of the bucket under its hash, not a file of the data
/// directory; the server's worker fetches it and scans it; the findings and the
/// assessment's files come back through the API from the bucket.
#[cfg(feature = "s3")]
#[test]
fn a_server_keeps_its_blobs_in_object_storage() {
    use sha2::Digest;
    let Some(s3) = provisor_testkit::S3Server::start() else {
        return;
    };
    let env: Vec<(String, String)> = provisor_testkit::S3Server::settings(&s3.endpoint())
        .into_iter()
        .map(|(key, value)| (key.to_uppercase(), value))
        .collect();
    let farm = Farm::start(
        None,
        &[
            "--workers".as_ref(),
            "1".as_ref(),
            "--blobs".as_ref(),
            "s3://provisor/fleet".as_ref(),
        ],
        &env,
    );
    let job = farm.upload();
    let done = farm.wait_end(&job);
    farm.assert_attached_once(&done, 1);

    // The image is an object of the bucket, byte for byte, and no blob of the data
    // directory (which holds only uploads in progress and the cache).
    let image =
        std::fs::read(root().join("target/test-images/smartcam/smartcam-3.2.1.bin")).unwrap();
    let sha256: String = sha2::Sha256::digest(&image)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let objects: Vec<PathBuf> = walk(&s3.bucket_dir().join("fleet"))
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|name| name == sha256.as_str()))
        .collect();
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(std::fs::read(&objects[0]).unwrap(), image);
    let blobs = farm.work.path().join("data/blobs");
    for entry in std::fs::read_dir(&blobs).unwrap().flatten() {
        let name = entry.file_name();
        assert!(
            name == "tmp" || name == "cache",
            "a blob kept in the data directory: {}",
            entry.path().display()
        );
    }

    // Pulled through the API, the assessment and its scan come from the bucket.
    let pulled_dir = farm.work.path().join("pulled");
    let pulled = provisor()
        .args(["pull", &farm.assessment, "--server", &farm.server.url, "-o"])
        .arg(&pulled_dir)
        .env("PROVISOR_TOKEN", &farm.token)
        .output()
        .unwrap();
    assert!(
        pulled.status.success(),
        "{}",
        String::from_utf8_lossy(&pulled.stderr)
    );
    assert_eq!(
        std::fs::read(pulled_dir.join("evidence/update-signing.md")).unwrap(),
        std::fs::read(farm.work.path().join("mine/evidence/update-signing.md")).unwrap()
    );
    let scan = std::fs::read_to_string(pulled_dir.join("scans/firmware-smartcam-3.2.1.json"))
        .expect("the scan's findings were pulled");
    assert!(
        scan.contains(&sha256),
        "the findings name the image they came from"
    );

    // A backup copies the database and names the bucket the blobs stay in.
    let backup = farm.work.path().join("backup");
    let backed_up = provisor()
        .args(["admin", "backup", "--data"])
        .arg(farm.work.path().join("data"))
        .arg("-o")
        .arg(&backup)
        .env_remove("PROVISOR_DATABASE")
        .env("PROVISOR_BLOBS", "s3://provisor/fleet")
        .envs(env.iter().map(|(key, value)| (key, value)))
        .output()
        .unwrap();
    assert!(
        backed_up.status.success(),
        "{}",
        String::from_utf8_lossy(&backed_up.stderr)
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(backup.join("backup.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest["blobs_kept_in"], "s3://provisor/fleet",
        "{manifest}"
    );
    assert!(!backup.join("blobs").exists());
}

/// Every file below `directory`.
#[cfg(feature = "s3")]
fn walk(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory)
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files
}

/// A PostgreSQL cluster of a test's own (`scripts/postgres`), stopped when dropped.
struct OwnPostgres {
    dir: tempfile::TempDir,
    url: String,
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        // Directly under /tmp: run as root, the cluster belongs to the postgres user,
        // who must reach its directory.
        let dir = tempfile::Builder::new()
            .prefix("provisor-pg-own.")
            .tempdir_in("/tmp")
            .unwrap();
        let mut cluster = OwnPostgres {
            dir,
            url: String::new(),
        };
        cluster.url = cluster.run("start");
        cluster
    }

    /// Runs `scripts/postgres ACTION DIR`: what it printed.
    fn run(&self, action: &str) -> String {
        let output = Command::new(root().join("scripts/postgres"))
            .arg(action)
            .arg(self.dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "scripts/postgres {action}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/postgres"))
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

/// A PostgreSQL server of the test's own, restarted while a scan runs: the server and
/// its worker reconnect by themselves, the scan's findings are attached once, and a job
/// queued after the restart runs too.
#[test]
fn a_postgres_restart_mid_scan_loses_nothing() {
    if std::env::var_os("PROVISOR_TEST_POSTGRES").is_none() {
        assert!(
            std::env::var_os("PROVISOR_REQUIRE_POSTGRES").is_none(),
            "PROVISOR_REQUIRE_POSTGRES is set but PROVISOR_TEST_POSTGRES names no server"
        );
        eprintln!("skipped: no PostgreSQL (scripts/test starts one)");
        return;
    }
    let cluster = OwnPostgres::start();
    let url = cluster.url.clone();
    let farm = Farm::start(Some(&url), &["--workers".as_ref(), "1".as_ref()], &[]);
    let job = farm.upload();
    // Restarted once the worker took the job (a short scan may be done by then).
    let deadline = Instant::now() + Duration::from_secs(60);
    while farm.state(&job)["state"] == "queued" {
        assert!(Instant::now() < deadline, "no worker took the job");
        std::thread::sleep(Duration::from_millis(20));
    }
    cluster.run("restart");
    let done = farm.wait_end(&job);
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(
        done["result"]["attached"]["assessment"],
        farm.assessment.as_str(),
        "{done}"
    );
    // The server answers from the restarted database.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = agent()
            .get(&format!("{}/readyz", farm.server.url))
            .call()
            .unwrap();
        if response.status().as_u16() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the server is not ready again");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A job queued after the restart runs, and attaches as the assessment's next
    // revision: nothing attached before was lost.
    let next = farm.upload();
    let after = farm.wait_end(&next);
    assert_eq!(after["state"], "done", "{after}");
    let (status, shown) = call(
        &farm.server,
        "GET",
        &format!("/api/v1/assessments/{}", farm.assessment),
        Some(&farm.admin),
        None,
    );
    assert_eq!(status, 200, "{shown}");
    assert_eq!(
        shown["current_revision"],
        after["result"]["attached"]["revision"]
    );
    assert_eq!(
        after["result"]["attached"]["revision"].as_i64().unwrap(),
        done["result"]["attached"]["revision"].as_i64().unwrap() + 1,
        "one revision per scan"
    );
}

/// Firmware scans with 1, 2 and 4 worker processes (docs/PERFORMANCE.md): 12 scans of
/// the example device's image queued, then the workers started on the data directory
/// until the queue is empty. Run with a release build:
/// `cargo build --release -p provisor-cli && PROVISOR_BENCH_BIN=$PWD/target/release/provisor
/// cargo test --release -p provisor-cli --test it -- --ignored --nocapture bench_workers`.
#[test]
#[ignore = "benchmark"]
fn bench_workers() {
    const JOBS: usize = 12;
    let mut timings = Vec::new();
    for workers in [1usize, 2, 4] {
        let work = tempfile::tempdir().unwrap();
        let data = work.path().join("data");
        let server = serve_with(&data, None, &["--workers".as_ref(), "0".as_ref()]);
        let (release, _) = set_up(&server);
        let admin = login_with_totp(&server);
        let scanner = new_token(&server, &admin, "bench", &["read", "write", "scan"]);
        let jobs: Vec<String> = (0..JOBS)
            .map(|index| {
                upload_example_image(&server, &scanner, &release, &format!("name=fw-{index}.bin"))
            })
            .collect();
        let started = Instant::now();
        let children: Vec<Child> = (0..workers)
            .map(|index| {
                Command::new(provisor_bin())
                    .args([
                        "worker",
                        "--until-empty",
                        "--id",
                        &format!("bench-{index}"),
                        "--data",
                    ])
                    .arg(&data)
                    .env_remove("PROVISOR_DATABASE")
                    .env("PROVISOR_LOG", "warn")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        let elapsed = started.elapsed();
        for job in &jobs {
            assert_eq!(job_state(&server, &scanner, job)["state"], "done");
        }
        println!(
            "{workers} worker(s): {JOBS} scans in {:.2} s, {:.2} scans/s",
            elapsed.as_secs_f64(),
            JOBS as f64 / elapsed.as_secs_f64()
        );
        timings.push(elapsed.as_secs_f64());
    }
    println!(
        "speed-up: 2 workers {:.2}x, 4 workers {:.2}x",
        timings[0] / timings[1],
        timings[0] / timings[2]
    );
}
