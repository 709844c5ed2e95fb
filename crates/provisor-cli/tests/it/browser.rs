//! The web pages in a real browser: Debian's chromium, headless, driven over WebDriver
//! (chromedriver, fantoccini) against `provisor serve` on loopback. Each step writes a
//! screenshot under `target/browser/`; a step fails on an error in the browser's console
//! or a request the page made that failed. The browser is told to send anything not for
//! loopback to a closed port, so nothing leaves the machine.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::server::{PASSWORD, Server, call, code, push_new, serve, smartcam_copy};

/// A chromedriver process and a browser session through it.
struct Browser {
    driver: Child,
    client: Client,
    shots: PathBuf,
    step: usize,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A chromedriver command for the `/session/{id}/se/log` endpoint: the browser's
/// console since the last call.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

impl Browser {
    async fn start(user_data: &std::path::Path) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver) is installed by scripts/test");
        let url = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,900", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-quic",
                    "--disable-features=Translate,OptimizationHints,MediaRouter",
                    // Everything but loopback goes to a closed port.
                    "--proxy-server=http://127.0.0.1:9",
                    format!("--user-data-dir={}", user_data.display()),
                ],
            }),
        );
        capabilities.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => {
                    panic!("cannot start a browser session through chromedriver: {error}")
                }
            }
        };
        // Each run's screenshots alone: the last run is what is looked at.
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser");
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            driver,
            client,
            shots,
            step: 0,
        }
    }

    /// Loads a page and waits until it is usable; returns the time that took (the
    /// navigation's DOM content loaded, as the browser measured it).
    async fn open(&mut self, url: &str) -> f64 {
        self.client.goto(url).await.unwrap();
        self.usable_after().await
    }

    async fn usable_after(&self) -> f64 {
        let timing = self
            .client
            .execute(
                "const n = performance.getEntriesByType('navigation')[0]; return n ? n.domContentLoadedEventEnd - n.startTime : -1;",
                vec![],
            )
            .await
            .unwrap();
        timing.as_f64().unwrap_or(-1.0)
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = match self.client.find(Locator::Css(css)).await {
            Ok(field) => field,
            Err(error) => panic!(
                "{css} is not on {}: {error}\n{}",
                self.path().await,
                self.client.source().await.unwrap_or_default()
            ),
        };
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks a button that loads a new page, and waits until the new page is there
    /// (the old document gone, the new one loaded), at most 20 s.
    async fn submit(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let started = Instant::now();
        while old.tag_name().await.is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "clicking {css} on {} loaded no new page",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        while self
            .client
            .execute("return document.readyState", vec![])
            .await
            .unwrap()
            != "complete"
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the page after {css} never finished loading"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Clicks an element that does not load a page (a radio button, a checkbox).
    async fn click(&self, css: &str) {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.click().await.unwrap(),
            Err(error) => panic!(
                "{css} is not on {}: {error}\n{}",
                self.path().await,
                self.text("main").await
            ),
        }
    }

    async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap(),
            Err(error) => panic!(
                "{css} is not on {}: {error}\n{}",
                self.path().await,
                self.client.source().await.unwrap_or_default()
            ),
        }
    }

    /// Waits until the text of `css` contains `needle` (a script's work), at most 20 s.
    async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text(css).await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{css} on {} never said {needle:?}: it says {text:?}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn checked(&self, css: &str) -> bool {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css}: {error}"))
            .prop("checked")
            .await
            .unwrap()
            .as_deref()
            == Some("true")
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Writes a screenshot of the step and fails on what the console says went wrong.
    async fn shot(&mut self, name: &str) {
        self.step += 1;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.step)), png).unwrap();
        self.console_is_clean(name, &[]).await;
    }

    /// Fails on a console entry of level SEVERE (errors, failed requests, CSP
    /// violations) other than those `expected` names.
    async fn console_is_clean(&self, step: &str, expected: &[&str]) {
        let log = self.client.issue_cmd(BrowserLog).await.unwrap();
        let problems: Vec<String> = log
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .filter(|message| !expected.iter().any(|known| message.contains(known)))
            .collect();
        assert!(
            problems.is_empty(),
            "{step}: the browser's console reports {problems:#?}"
        );
    }
}

/// GET with a session cookie, as the browser would (for a download).
fn fetch_with_cookie(url: &str, cookie: &str) -> Vec<u8> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut response = agent
        .get(url)
        .header("Cookie", format!("provisor_session={cookie}"))
        .call()
        .unwrap();
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Gives the manufacturer the admin made on the admin page two products of two
/// releases each and an imported assessment, through the API as the admin (whose
/// authenticator secret the test knows).
fn seed_through_the_api(server: &Server, secret: &str, work: &std::path::Path) -> String {
    // The browser used the current step's code; the next step's is still accepted.
    let session = crate::server::login(server, "admin", Some(code(secret, 1)));
    let (_, organisations) = call(server, "GET", "/api/v1/organisations", Some(&session), None);
    let acme = organisations
        .as_array()
        .unwrap()
        .iter()
        .find(|organisation| organisation["name"] == "Acme Devices")
        .expect("the admin page made the manufacturer")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (name, model, versions) in [
        ("SmartCam", "C200", ["3.2.0", "3.2.1"]),
        ("Hub", "H1", ["2.0.0", "2.1.0"]),
    ] {
        let (_, product) = call(
            server,
            "POST",
            &format!("/api/v1/organisations/{acme}/products"),
            Some(&session),
            Some(json!({"name": name, "model": model})),
        );
        for version in versions {
            let (status, release) = call(
                server,
                "POST",
                &format!(
                    "/api/v1/products/{}/releases",
                    product["id"].as_str().unwrap()
                ),
                Some(&session),
                Some(json!({"version": version, "support_period_end": "2030-12-31"})),
            );
            assert_eq!(status, 201);
            if version == "3.2.1" {
                // The example's assessment, pushed as CI would.
                let (status, token) = call(
                    server,
                    "POST",
                    "/api/v1/tokens",
                    Some(&session),
                    Some(json!({"name": "ci", "scopes": ["read", "write"], "expires_in_days": 1})),
                );
                assert_eq!(status, 201);
                let assessment = smartcam_copy(&work.join("smartcam"));
                let pushed = push_new(
                    server,
                    &assessment,
                    release["id"].as_str().unwrap(),
                    token["secret"].as_str().unwrap(),
                );
                assert!(
                    pushed.status.success(),
                    "{}",
                    String::from_utf8_lossy(&pushed.stderr)
                );
            }
        }
    }
    // NVD's sample feed from the server's feed directory: the releases scanned later
    // are matched against it at once, and the portfolio shows what it finds.
    let feeds = work.join("data/feeds/nvd");
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../provisor-advisories/tests/feeds/nvdcve-2.0-sample.json"),
        feeds.join("2024.json"),
    )
    .unwrap();
    let (status, _) = call(
        server,
        "POST",
        "/api/v1/advisory-sources",
        Some(&session),
        Some(json!({"name": "nvd-2024", "kind": "nvd", "location": "nvd/2024.json"})),
    );
    assert_eq!(status, 201);
    // Another manufacturer, whose release nobody at Acme may see.
    let (_, other) = call(
        server,
        "POST",
        "/api/v1/organisations",
        Some(&session),
        Some(json!({"name": "Other Co", "kind": "manufacturer"})),
    );
    let (_, product) = call(
        server,
        "POST",
        &format!(
            "/api/v1/organisations/{}/products",
            other["id"].as_str().unwrap()
        ),
        Some(&session),
        Some(json!({"name": "Lamp", "model": "L1"})),
    );
    let (_, release) = call(
        server,
        "POST",
        &format!(
            "/api/v1/products/{}/releases",
            product["id"].as_str().unwrap()
        ),
        Some(&session),
        Some(json!({"version": "1.0"})),
    );
    release["id"].as_str().unwrap().to_owned()
}

#[test]
fn log_in_set_up_the_second_factor_and_find_releases_in_the_portfolio() {
    let work = tempfile::tempdir().unwrap();
    let server = serve(&work.path().join("data"), None);
    let setup = server
        .setup
        .clone()
        .expect("a first start prints the setup link");
    let setup = setup[setup.find("http").unwrap()..].to_owned();
    let base = server.url.clone();
    let runtime = runtime();
    let mut timings: Vec<(String, f64)> = Vec::new();
    runtime.block_on(async {
        let mut browser = Browser::start(&work.path().join("chromium")).await;

        // The one-time link makes the first admin.
        browser.open(&setup).await;
        browser.fill("input[name=login]", "admin").await;
        browser.fill("input[name=display_name]", "Ada Admin").await;
        browser.fill("input[name=password]", PASSWORD).await;
        browser.fill("input[name=password_again]", PASSWORD).await;
        browser.shot("setup").await;
        browser.submit("button[type=submit]").await;
        browser.shot("setup-done").await;

        // A page of the application sends someone not signed in to log in first.
        timings.push((
            "login".into(),
            browser.open(&format!("{base}/portfolio")).await,
        ));
        assert!(
            browser.path().await.starts_with("/login?next=%2Fportfolio")
                || browser.path().await.starts_with("/login?next=/portfolio"),
            "{}",
            browser.path().await
        );
        browser.shot("login").await;

        // Wrong passwords: refused, then held back with a clear message.
        let mut throttled = String::new();
        for _ in 0..5 {
            browser.fill("#login", "admin").await;
            browser.fill("#password", "not the password").await;
            browser.submit("button[type=submit]").await;
            let message = browser.text("[role=alert]").await;
            if message.contains("again in")
                || message.contains("wait")
                || message.contains("Too many")
            {
                throttled = message;
                break;
            }
            assert!(message.contains("Wrong login or password"), "{message}");
        }
        assert!(!throttled.is_empty(), "the login throttle never answered");
        browser.console_is_clean("throttled", &["401", "429"]).await;
        browser.step += 1;
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(
            browser
                .shots
                .join(format!("{:02}-throttled.png", browser.step)),
            png,
        )
        .unwrap();

        // The right password once the wait is over (bounded: the throttle's waits are
        // seconds at this point).
        let started = Instant::now();
        loop {
            browser.fill("#login", "admin").await;
            browser.fill("#password", PASSWORD).await;
            browser.submit("button[type=submit]").await;
            if !browser.path().await.starts_with("/login") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "still throttled after a minute"
            );
            let _ = browser.console_is_clean("waiting", &["429", "401"]).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }

        // An admin must set up an authenticator before anything else.
        assert!(
            browser.path().await.starts_with("/account/second-factor"),
            "{}",
            browser.path().await
        );
        let secret = browser.text("#totp-secret").await;
        browser.shot("second-factor").await;
        browser.fill("#code", &code(&secret, 0)).await;
        browser.submit("button[type=submit]").await;
        assert_eq!(browser.path().await, "/portfolio");
        browser.shot("portfolio-empty").await;

        // The admin pages: a manufacturer, and the advisory database firmware scans
        // match against (the example's OSV files, chosen together).
        browser.click("nav a[href='/admin']").await;
        browser.fill("#organisation-name", "Acme Devices").await;
        browser
            .submit("form[action='/admin/organisations'] button")
            .await;
        assert!(
            browser
                .text("[role=status]")
                .await
                .contains("organisation is made")
        );
        let advisories: Vec<String> =
            std::fs::read_dir(crate::support::root().join("examples/advisories"))
                .unwrap()
                .map(|entry| entry.unwrap().path().canonicalize().unwrap())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .map(|path| path.display().to_string())
                .collect();
        browser
            .client
            .find(Locator::Css("#advisory-files"))
            .await
            .unwrap()
            .send_keys(&advisories.join("\n"))
            .await
            .unwrap();
        browser
            .submit("form[action='/admin/advisories'] button")
            .await;
        assert!(
            browser
                .text("[role=status]")
                .await
                .contains("advisory database is replaced")
        );
        assert!(
            browser
                .text("#advisories + p")
                .await
                .contains(&format!("{} advisories", advisories.len())),
            "{}",
            browser.text("#advisories + p").await
        );
        browser.shot("admin").await;

        let elsewhere = seed_through_the_api(&server, &secret, work.path());
        timings.push((
            "portfolio".into(),
            browser.open(&format!("{base}/portfolio")).await,
        ));
        // Each product at its newest release, mandatory failures first (the server admin
        // sees the other manufacturer's lamp too, last: it has no assessment).
        let rows = browser
            .client
            .find_all(Locator::Css("table.portfolio tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        let first = browser.text("table.portfolio tbody tr").await;
        assert!(
            first.contains("SmartCam") && first.contains("1 unmet"),
            "{first}"
        );
        browser.shot("portfolio").await;
        browser
            .client
            .find(Locator::Css("#releases option[value=all]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser.submit("form.filters button[type=submit]").await;
        let rows = browser
            .client
            .find_all(Locator::Css("table.portfolio tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 5);
        browser.shot("portfolio-every-release").await;

        assert!(
            browser
                .text("table.portfolio")
                .await
                .contains("Not conformant")
        );

        // The assessment's page: the report's view of it, live.
        let link = browser
            .client
            .find(Locator::Css("table.portfolio a[href^='/assessments/']"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        timings.push((
            "assessment".into(),
            browser.open(&format!("{base}{link}")).await,
        ));
        assert!(browser.text(".decision").await.contains("Not conformant"));
        let first = browser.text("table.provisions tbody tr").await;
        assert!(
            first.contains("FAIL"),
            "mandatory failures come first: {first}"
        );
        browser.shot("assessment").await;

        // Review: approve (the first review names the report and who assessed), then
        // issue the PDF and read its first page.
        if browser
            .client
            .find(Locator::Css("#report_id"))
            .await
            .is_ok()
        {
            browser.fill("#report_id", "ACME-2026-001").await;
            browser.fill("#assessor", "E. Editor").await;
        }
        browser.click("input[name=decision][value=approve]").await;
        browser
            .submit("form[action$='/review'] button[type=submit]")
            .await;
        let notice = browser.text("main").await;
        assert!(notice.contains("Approved"), "{notice}");
        browser
            .submit("form[action$='/reports'] button[type=submit]")
            .await;
        let report = browser
            .client
            .find(Locator::Css("ul.issued a"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        browser.shot("approved-and-issued").await;
        let cookie = browser
            .client
            .get_named_cookie("provisor_session")
            .await
            .unwrap();
        let pdf = fetch_with_cookie(&format!("{base}{report}"), cookie.value());
        assert!(pdf.starts_with(b"%PDF-"), "the issued report is a PDF");
        let pdf_path = browser.shots.join("issued-report.pdf");
        std::fs::write(&pdf_path, &pdf).unwrap();
        let first_page = Command::new("pdftotext")
            .args(["-f", "1", "-l", "1", "-layout"])
            .arg(&pdf_path)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils) is installed by scripts/test");
        let first_page = String::from_utf8_lossy(&first_page.stdout);
        assert!(first_page.contains("SmartCam"), "{first_page}");
        assert!(
            first_page.contains("ACME-2026-001") || first_page.contains("rpt_"),
            "{first_page}"
        );
        let _ = Command::new("pdftoppm")
            .args(["-f", "1", "-l", "1", "-png", "-r", "60"])
            .arg(&pdf_path)
            .arg(browser.shots.join("issued-report-page"))
            .status();
        browser.open(&format!("{base}/portfolio")).await;

        // A release's page starts an assessment; the questionnaire asks one question at
        // a time and writes each answer as the next revision.
        // A new product with its first release, through the form.
        browser.submit("a[href='/products/new']").await;
        browser.fill("#name", "Doorbell").await;
        browser.fill("#model", "D10").await;
        browser.fill("#version", "1.0.4").await;
        browser
            .client
            .execute(
                "document.getElementById('support_period_end').value = '2030-12-31'",
                vec![],
            )
            .await
            .unwrap();
        browser.shot("new-product").await;
        browser
            .submit("form[action='/products'] button[type=submit]")
            .await;
        assert!(
            browser.path().await.starts_with("/releases/"),
            "{}",
            browser.text("main").await
        );
        assert!(
            browser
                .text("header.page")
                .await
                .contains("support ends 2030-12-31")
        );
        let release_page = browser.path().await;
        browser.shot("release").await;
        browser
            .submit("form[action$='/assessments'] button[type=submit]")
            .await;
        assert!(
            browser.path().await.contains("/questions"),
            "{}",
            browser.path().await
        );
        timings.push(("questionnaire".into(), browser.usable_after().await));
        assert!(browser.text("h1").await.starts_with("Question 1 of"));
        browser.shot("question-1").await;
        browser.click("label.choice input[value=yes]").await;
        browser.fill("#note", "OTA updates over HTTPS").await;
        browser.submit("button[value=next]").await;
        assert!(browser.text("h1").await.starts_with("Question 2 of"));
        browser.click("label.choice input[value=no]").await;
        browser.submit("button[value=previous]").await;
        assert!(browser.text("h1").await.starts_with("Question 1 of"));
        assert_eq!(
            browser
                .client
                .find(Locator::Css("input[value=yes]"))
                .await
                .unwrap()
                .prop("checked")
                .await
                .unwrap()
                .as_deref(),
            Some("true")
        );
        let progress = browser.text(".progress + p").await;
        assert!(progress.contains(" answered"), "{progress}");
        browser.shot("question-answered").await;

        // The ICS: a statement with a file uploaded as its evidence, in one revision.
        let questions = browser.path().await;
        let assessment = questions.split("/questions").next().unwrap().to_owned();
        timings.push((
            "ics".into(),
            browser.open(&format!("{base}{assessment}/ics")).await,
        ));
        // Without `at`, the first provision that needs a statement.
        let first = browser.text("h1").await;
        browser.click("input[name=support][value=yes]").await;
        browser
            .fill(
                "#detail",
                "Each unit has its own password, printed on its label.",
            )
            .await;
        let policy = work.path().join("label-passwords.md");
        std::fs::write(
            &policy,
            "# Label passwords\n\nGenerated per unit at the factory.\n",
        )
        .unwrap();
        browser
            .client
            .find(Locator::Css("#upload"))
            .await
            .unwrap()
            .send_keys(&policy.display().to_string())
            .await
            .unwrap();
        browser.shot("ics-filled").await;
        browser.submit("button[value=next]").await;
        assert!(
            browser.path().await.contains("/ics?at="),
            "{}: {}",
            browser.path().await,
            browser.text("main").await
        );
        browser.submit("button[value=previous]").await;
        assert_eq!(browser.text("h1").await, first);
        assert_eq!(
            browser
                .client
                .find(Locator::Css(
                    "input[name=evidence][value='evidence/label-passwords.md']"
                ))
                .await
                .unwrap()
                .prop("checked")
                .await
                .unwrap()
                .as_deref(),
            Some("true")
        );
        assert!(browser.text("#detail").await.contains("own password"));
        browser.shot("ics-saved").await;

        // With the page's script: files dropped on the form and each change saved as it
        // is made, without leaving the page.
        browser.open(&format!("{base}{assessment}/ics")).await;
        let inline = browser.path().await;
        let second = browser.text("h1").await;
        let at = browser
            .client
            .find(Locator::Css("input[name=at]"))
            .await
            .unwrap()
            .attr("value")
            .await
            .unwrap()
            .unwrap();
        assert_ne!(second, first);
        let before = browser.text("[data-field=summary]").await;
        browser
            .client
            .execute(
                "const files = new DataTransfer();
                 files.items.add(new File(['# Secure storage\\nKeys live in the secure element.\\n'], 'secure storage.md', {type: 'text/markdown'}));
                 files.items.add(new File(['audited 2026-11'], 'audit.txt', {type: 'text/plain'}));
                 const zone = document.querySelector('[data-drop]');
                 for (const kind of ['dragenter', 'dragover', 'drop']) {
                   zone.dispatchEvent(new DragEvent(kind, {dataTransfer: files, bubbles: true, cancelable: true}));
                 }",
                vec![],
            )
            .await
            .unwrap();
        browser.wait_for_text("[data-field=saved]", "Saved at").await;
        assert!(browser.checked("input[name=evidence][value='evidence/secure-storage.md']").await);
        assert!(browser.checked("input[name=evidence][value='evidence/audit.txt']").await);
        browser.click("input[name=support][value=yes]").await;
        browser.wait_for_text("[data-field=saved]", "(revision").await;
        let after = browser.wait_for_text("[data-field=summary]", " left").await;
        assert_ne!(after, before, "the progress follows the save");
        assert_eq!(browser.path().await, inline, "an inline save stays on the page");
        assert_eq!(
            browser
                .client
                .find(Locator::Css("nav.steps a[aria-current=step]"))
                .await
                .unwrap()
                .attr("class")
                .await
                .unwrap()
                .as_deref(),
            Some("answered")
        );
        browser
            .client
            .execute(
                "document.querySelector('[data-drop]').scrollIntoView({block: 'center'})",
                vec![],
            )
            .await
            .unwrap();
        browser.shot("ics-dropped-and-saved-inline").await;
        // What the script saved is what the page shows when loaded again.
        browser.open(&format!("{base}{assessment}/ics?at={at}")).await;
        assert_eq!(browser.text("h1").await, second);
        assert!(browser.checked("input[name=support][value=yes]").await);
        assert!(browser.checked("input[name=evidence][value='evidence/secure-storage.md']").await);
        assert!(browser.checked("input[name=evidence][value='evidence/audit.txt']").await);
        assert_eq!(browser.text("[data-field=summary]").await, after);

        // Scans: upload a firmware image with weaknesses, follow the job until its
        // findings attach (the page's script reloads it), accept one finding.
        browser.open(&format!("{base}{assessment}/scans")).await;
        let image = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/test-images/weak/weak.bin");
        assert!(
            image.exists(),
            "scripts/build-test-images makes {}",
            image.display()
        );
        browser
            .client
            .find(Locator::Css("#image"))
            .await
            .unwrap()
            .send_keys(&image.canonicalize().unwrap().display().to_string())
            .await
            .unwrap();
        browser
            .submit("form[action$='/scans'] button[type=submit]")
            .await;
        browser.shot("scan-queued").await;
        let started = Instant::now();
        loop {
            let state = browser
                .client
                .find(Locator::Css("tr[data-job]"))
                .await
                .unwrap()
                .attr("data-state")
                .await
                .unwrap()
                .unwrap_or_default();
            if state == "done" {
                break;
            }
            assert_ne!(state, "dead", "{}", browser.text("main").await);
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "the scan did not end in 3 minutes: {}",
                browser.text("main").await
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        // The script reloads the page when the job ends; wait for the findings.
        let started = Instant::now();
        while browser
            .client
            .find(Locator::Css("table.findings"))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{}",
                browser.text("main").await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        browser.shot("findings").await;
        browser.click("table.findings details summary").await;
        browser
            .fill(
                "table.findings details textarea",
                "This weakness is in a test image, not in production units.",
            )
            .await;
        browser
            .fill("table.findings details input[name=until]", "2027-06-30")
            .await;
        browser
            .submit("table.findings details button[type=submit]")
            .await;
        let accepted = browser.text("table.findings").await;
        assert!(accepted.contains("accepted"), "{accepted}");
        browser.shot("finding-accepted").await;

        // A lab assessment of the same release: its test cases, one recorded.
        browser.open(&format!("{base}{release_page}")).await;
        browser.click("input[name=kind][value=lab]").await;
        browser
            .submit("form[action$='/assessments'] button[type=submit]")
            .await;
        let lab = browser
            .path()
            .await
            .split("/questions")
            .next()
            .unwrap()
            .to_owned();
        browser.open(&format!("{base}{lab}/tests")).await;
        browser.click("section.test-group details summary").await;
        browser
            .click("section.test-group details input[value=pass]")
            .await;
        browser
            .fill(
                "section.test-group details textarea[name=method]",
                "Reviewed the manufacturer's documentation against the ICS.",
            )
            .await;
        browser
            .submit("section.test-group details button[type=submit]")
            .await;
        let recorded = browser.text("section.test-group").await;
        assert!(recorded.contains("PASS by Ada Admin"), "{recorded}");
        browser.shot("test-case-recorded").await;
        browser.open(&format!("{base}/portfolio")).await;

        browser.fill("#q", "door").await;
        browser.submit("form.filters button[type=submit]").await;
        let rows = browser
            .client
            .find_all(Locator::Css("table.portfolio tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert!(
            browser
                .text("table.portfolio tbody")
                .await
                .contains("Doorbell")
        );
        // The scanned release's components against the imported feed.
        let monitored = browser
            .text("table.portfolio tbody td[data-label=Monitored]")
            .await;
        assert!(monitored.contains("high"), "{monitored}");
        browser.shot("portfolio-search").await;
        // The release's page lists them.
        browser.open(&format!("{base}{release_page}")).await;
        let listed = browser.text("table.findings").await;
        assert!(listed.contains("CVE-2022-28391"), "{listed}");
        browser.shot("release-monitored").await;
        // The manufacturer decides about one of them, in CycloneDX's words.
        let decide = "details.decide:has(input[value='CVE-2022-28391'])";
        browser.click(&format!("{decide} summary")).await;
        browser
            .click(&format!("{decide} select[name=state] option[value=not_affected]"))
            .await;
        browser
            .click(&format!(
                "{decide} select[name=justification] option[value=code_not_present]"
            ))
            .await;
        browser
            .fill(
                &format!("{decide} textarea[name=detail]"),
                "The image's busybox is built without netstat.",
            )
            .await;
        browser
            .submit(&format!("{decide} button[type=submit]"))
            .await;
        let decided = browser.text("table.findings").await;
        assert!(
            decided.contains("not_affected (code_not_present)")
                && decided.contains("built without netstat"),
            "{decided}"
        );
        browser.shot("release-decided").await;

        // The next firmware release, added on the release's page, with the assessment
        // carried to it: every answer to confirm, and saving one confirms it.
        browser.open(&format!("{base}{link}")).await;
        let release = browser
            .client
            .find(Locator::Css("a[href^='/releases/']"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        browser.open(&format!("{base}{release}")).await;
        browser.fill("#next-version", "3.3.0").await;
        browser.submit("form[action$='/next'] button").await;
        let next_release = browser.path().await;
        assert!(
            next_release.starts_with("/releases/") && next_release != release,
            "{next_release}"
        );
        assert!(browser.text("header.page").await.contains("3.3.0"));
        browser.shot("next-release").await;
        browser.submit("form[action$='/carry'] button").await;
        let carried = browser.text(".notice.carried").await;
        assert!(carried.contains("carried, confirm"), "{carried}");
        let question = browser
            .client
            .find(Locator::Css(".notice.carried a[href*='/questions']"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        browser.open(&format!("{base}{question}")).await;
        assert!(
            browser
                .text(".question .notice.carried")
                .await
                .starts_with("Carried, confirm."),
        );
        browser.shot("carried-answer").await;
        browser.submit("button[value=next]").await;
        browser.open(&format!("{base}{question}")).await;
        assert!(
            browser
                .client
                .find(Locator::Css(".question .notice.carried"))
                .await
                .is_err(),
            "saving the answer confirmed it"
        );

        // The account page: a token for CI, its secret shown once.
        browser.click("nav a[href='/account']").await;
        browser.fill("#token-name", "ci-pipeline").await;
        browser.click("input[name=scan]").await;
        browser
            .submit("form[action='/account/tokens'] button")
            .await;
        let secret = browser.text("#token-secret").await;
        assert!(secret.starts_with("pvt_"), "{secret}");
        browser.shot("account-token").await;

        // On a tablet (portrait): the portfolio and the assessment's page.
        browser.client.set_window_size(820, 1180).await.unwrap();
        browser.open(&format!("{base}/portfolio")).await;
        browser.shot("tablet-portfolio").await;
        browser.open(&format!("{base}{link}")).await;
        browser.shot("tablet-assessment").await;
        browser.client.set_window_size(1280, 900).await.unwrap();

        // A viewer for Acme, made on the admin pages.
        browser.open(&format!("{base}/admin")).await;
        browser.fill("#user-login", "vera").await;
        browser.fill("#user-name", "Vera Viewer").await;
        browser.fill("#user-password", PASSWORD).await;
        browser.submit("form[action='/admin/users'] button").await;
        browser
            .client
            .find(Locator::LinkText("Acme Devices"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser.fill("#member-login", "vera").await;
        browser
            .submit("form.inline-form[action$='/members'] button")
            .await;
        assert!(browser.text("table").await.contains("Vera Viewer"));
        browser.shot("organisation-members").await;

        // Logging out ends the session: the portfolio asks for a login again.
        browser.submit("form.who button").await;
        assert!(browser.path().await.starts_with("/login"));
        browser.open(&format!("{base}/portfolio")).await;
        assert!(browser.path().await.starts_with("/login"));
        browser.shot("logged-out").await;

        // The viewer reads but has no editor's or reviewer's controls, and another
        // manufacturer's release is not found.
        browser.fill("#login", "vera").await;
        browser.fill("#password", PASSWORD).await;
        browser.submit("button[type=submit]").await;
        assert_eq!(browser.path().await, "/portfolio");
        assert!(
            !browser.text("main").await.contains("New product"),
            "a viewer is offered no new product"
        );
        browser.open(&format!("{base}{link}")).await;
        for control in ["form[action$='/review']", "form[action$='/reports']"] {
            assert!(
                browser.client.find(Locator::Css(control)).await.is_err(),
                "a viewer sees {control}"
            );
        }
        browser.shot("viewer-assessment").await;
        browser.open(&format!("{base}{link}/ics?at=2")).await;
        assert!(
            browser
                .client
                .find(Locator::Css("form[action$='/ics']"))
                .await
                .is_err()
        );
        assert!(
            browser
                .client
                .find(Locator::Css("form[action$='/comments']"))
                .await
                .is_ok(),
            "a viewer may comment"
        );
        // The actions whose forms a viewer is not given are refused when sent anyway,
        // with the viewer's own session and token, from the page itself.
        let refused = browser
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const csrf = document.querySelector(\"form[action$='/comments'] input[name=csrf]\").value;
                 const id = location.pathname.split('/')[2];
                 const statement = new FormData();
                 for (const [key, value] of [['csrf', csrf], ['based_on', '1'], ['provision', '5.1-1'], ['at', '2'], ['support', 'yes'], ['detail', 'forged']]) {
                   statement.set(key, value);
                 }
                 const attempts = [
                   ['/assessments/' + id + '/ics', statement],
                   ['/assessments/' + id + '/questions', new URLSearchParams({csrf, based_on: '1', condition: 'a', at: '1', answer: 'yes'})],
                   ['/assessments/' + id + '/review', new URLSearchParams({csrf, based_on: '1', decision: 'approve', report_id: 'X-1', assessor: 'V'})],
                 ];
                 Promise.all(attempts.map(([url, body]) =>
                   fetch(url, {method: 'POST', body, credentials: 'same-origin', redirect: 'manual'})
                     .then((response) => url.split('/').pop() + ' ' + response.status)))
                   .then(done, (error) => done(['failed: ' + error]));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            refused,
            json!(["ics 403", "questions 403", "review 403"]),
            "a viewer's forged actions"
        );
        browser.console_is_clean("viewer-refused", &["403"]).await;
        browser.open(&format!("{base}/releases/{elsewhere}")).await;
        assert_eq!(browser.text("h1").await, "Not found");
        browser.console_is_clean("not-found", &["404"]).await;
        browser.step += 1;
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(
            browser
                .shots
                .join(format!("{:02}-viewer-not-found.png", browser.step)),
            png,
        )
        .unwrap();
        browser.client.clone().close().await.unwrap();
    });
    let report: Value = json!(timings);
    eprintln!("time to a usable page (ms, DOM content loaded): {report}");
    std::fs::write(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser/timings.json"),
        report.to_string(),
    )
    .unwrap();
}
