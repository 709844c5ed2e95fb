//! The web pages through the router: who gets a page and who is sent to log in, forms
//! refused without their CSRF token or from another site, and every page under the
//! same security headers as the API. (The browser tests drive them in chromium.)

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;

use crate::{CLIENT, Credentials, get, import, servers, smartcam_bundle, world};

pub(crate) async fn form(
    state: &provisor_server::AppState,
    uri: &str,
    cookie: Option<&str>,
    body: &str,
    site: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", site);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("provisor_session={cookie}"));
    }
    answer_of(state, request.body(Body::from(body.to_owned())).unwrap()).await
}

/// Sends a request from the test client's address; the status, headers and text.
pub(crate) async fn answer_of(
    state: &provisor_server::AppState,
    mut request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    request
        .extensions_mut()
        .insert(ConnectInfo(CLIENT.parse::<std::net::SocketAddr>().unwrap()));
    let response = provisor_server::app(state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// A multipart form of text fields and files (`name`, file name, bytes) with a session.
pub(crate) fn multipart_request(
    uri: &str,
    who: &Credentials,
    fields: &[(&str, &str)],
    files: &[(&str, &str, Vec<u8>)],
) -> Request<Body> {
    let boundary = "provisor-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(
            header::COOKIE,
            format!("provisor_session={}", who.cookie.clone().unwrap()),
        )
        .body(Body::from(body))
        .unwrap()
}

/// [`multipart_request`], sent: the status, headers and text.
pub(crate) async fn multipart(
    state: &provisor_server::AppState,
    uri: &str,
    who: &Credentials,
    fields: &[(&str, &str)],
    files: &[(&str, &str, Vec<u8>)],
) -> (StatusCode, axum::http::HeaderMap, String) {
    answer_of(state, multipart_request(uri, who, fields, files)).await
}

#[tokio::test]
async fn pages_send_strangers_to_log_in_and_refuse_forged_forms() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;

        let answer = get(state, "/portfolio?q=cam", &Credentials::default()).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(
            answer.headers[header::LOCATION],
            "/login?next=/portfolio%3Fq%3Dcam"
        );
        let login = get(state, "/login", &Credentials::default()).await;
        login.expect(StatusCode::OK);
        assert!(
            login.headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        assert!(!crate::has_inline_script(&login.text()));
        assert!(
            login
                .text()
                .contains("<script src=\"/assets/app.js\" defer></script>")
        );
        let missing = get(state, "/no/such/page", &Credentials::default()).await;
        missing.expect(StatusCode::NOT_FOUND);
        assert!(missing.text().contains("<h1>Not found</h1>"));

        // The editor's session: the portfolio shows its release.
        let cookie = world.editor.cookie.clone().unwrap();
        let page = get(state, "/portfolio", &world.editor).await;
        page.expect(StatusCode::OK);
        assert!(page.text().contains("SmartCam"), "{}", page.text());
        assert!(page.text().contains(&format!(
            "name=\"csrf\" value=\"{}\"",
            world.editor.csrf.clone().unwrap()
        )));

        // A login form from another site, a logout without the session's token: refused.
        let (status, _, _) = form(
            state,
            "/login",
            None,
            "login=editor&password=x",
            "cross-site",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, body) =
            form(state, "/logout", Some(&cookie), "csrf=wrong", "same-origin").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        get(state, "/portfolio", &world.editor)
            .await
            .expect(StatusCode::OK);
        let (status, headers, _) = form(
            state,
            "/logout",
            Some(&cookie),
            &format!("csrf={}", world.editor.csrf.clone().unwrap()),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        assert_eq!(
            get(state, "/portfolio", &world.editor).await.status,
            StatusCode::SEE_OTHER
        );

        // A wrong password on the form is the login page again, with the message.
        let (status, _, body) = form(
            state,
            "/login",
            None,
            "login=viewer&password=wrong&next=%2Fportfolio",
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("Wrong login or password."), "{body}");
        // `next` cannot send anyone to another site.
        let (status, headers, _) = form(
            state,
            "/login",
            None,
            &format!(
                "login=viewer&password={}&next=%2F%2Fevil.example%2F",
                crate::PASSWORD.replace(' ', "+")
            ),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/portfolio");
    }
}

/// An assessment's page shows its decision to those who may read it; to anyone else,
/// another organisation's assessment id is a page that is not there.
#[tokio::test]
async fn an_assessment_page_is_not_found_for_strangers() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        imported.expect(StatusCode::CREATED);
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let page = get(state, &format!("/assessments/{id}"), &world.viewer).await;
        page.expect(StatusCode::OK);
        let html = page.text();
        assert!(html.contains("class=\"decision no\""), "{html}");
        assert!(html.contains("5.6-4A"));
        // The portfolio links to it, with its verdicts counted (the example fails one
        // mandatory provision and leaves one open).
        let portfolio = get(state, "/portfolio", &world.viewer).await.text();
        assert!(portfolio.contains(&format!("href=\"/assessments/{id}\"")));
        assert!(
            portfolio.contains("<span class=\"n-fail\"><b>1</b> unmet</span>")
                && portfolio.contains("<span class=\"n-open\"><b>1</b> open</span>"),
            "{portfolio}"
        );
        let by_name = get(state, "/portfolio?order=name&releases=all", &world.viewer)
            .await
            .text();
        assert!(by_name.contains("<option value=\"name\" selected>"));
        assert!(by_name.contains("<option value=\"all\" selected>"));
        for who in [&world.stranger, &world.assessor] {
            let refused = get(state, &format!("/assessments/{id}"), who).await;
            refused.expect(StatusCode::NOT_FOUND);
            assert!(!refused.text().contains("5.6-4A"));
        }
    }
}

/// The questionnaire writes an answer as the next revision; a viewer's form is refused
/// and a form of an older revision is shown again with what changed.
#[tokio::test]
async fn the_questionnaire_writes_answers_as_revisions() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let page = get(
            state,
            &format!("/assessments/{id}/questions?at=2"),
            &world.viewer,
        )
        .await;
        page.expect(StatusCode::OK);
        assert!(page.text().contains("Question 2 of"));
        let uri = format!("/assessments/{id}/questions");
        let editor = world.editor.cookie.clone().unwrap();
        let csrf = world.editor.csrf.clone().unwrap();
        let (status, headers, body) = form(
            state,
            &uri,
            Some(&editor),
            &format!("csrf={csrf}&based_on=1&condition=3&at=2&answer=no&note=none+at+all&go=next"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(
            headers[header::LOCATION],
            format!("/assessments/{id}/questions?at=3")
        );
        let text = crate::main_file(state, &id, &world.viewer).await;
        assert!(
            text.contains("3 = { answer = false, note = \"none at all\" }"),
            "{text}"
        );
        // An answer the others contradict is refused with the engine's reason.
        let (status, _, body) = form(
            state,
            &uri,
            Some(&editor),
            &format!("csrf={csrf}&based_on=2&condition=12&at=2&answer=no&go=next"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("role=\"alert\""), "{body}");
        // The same form again is of revision 1, which is gone.
        let (status, _, body) = form(
            state,
            &uri,
            Some(&editor),
            &format!("csrf={csrf}&based_on=1&condition=3&at=2&answer=yes&go=next"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body.contains("Someone changed the assessment"), "{body}");
        let viewer = world.viewer.cookie.clone().unwrap();
        let (status, _, _) = form(
            state,
            &uri,
            Some(&viewer),
            &format!(
                "csrf={}&based_on=2&condition=12&at=2&answer=yes&go=next",
                world.viewer.csrf.clone().unwrap()
            ),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

/// The ICS form (multipart) saves a statement with an uploaded file as its evidence in
/// one revision; the file's name cannot leave the evidence directory; a viewer sees the
/// statement but no form.
#[tokio::test]
async fn an_ics_statement_is_saved_with_its_uploaded_evidence() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let page = get(state, &format!("/assessments/{id}/ics?at=2"), &world.editor).await;
        page.expect(StatusCode::OK);
        assert!(page.text().contains("enctype=\"multipart/form-data\""));
        let viewer_page = get(state, &format!("/assessments/{id}/ics?at=2"), &world.viewer).await;
        viewer_page.expect(StatusCode::OK);
        // A viewer may comment, but gets no statement form.
        assert!(
            !viewer_page
                .text()
                .contains(&format!("action=\"/assessments/{id}/ics\""))
                && viewer_page
                    .text()
                    .contains(&format!("action=\"/assessments/{id}/comments\""))
        );

        let csrf = world.editor.csrf.clone().unwrap();
        let (status, _, body) = multipart(
            state,
            &format!("/assessments/{id}/ics"),
            &world.editor,
            &[
                ("csrf", &csrf),
                ("based_on", "1"),
                ("provision", "5.1-1"),
                ("at", "2"),
                ("support", "yes"),
                ("detail", "Unique per unit."),
                ("evidence", "evidence/password-provisioning.md"),
            ],
            &[("upload", "../../etc/label photo.txt", b"the label".to_vec())],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let record = get(state, &format!("/api/v1/assessments/{id}"), &world.viewer)
            .await
            .json();
        assert_eq!(record["current_revision"], 2);
        let files: Vec<String> = record["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|file| file["path"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            files.contains(&"evidence/label-photo.txt".to_owned()),
            "{files:?}"
        );
        let text = crate::main_file(state, &id, &world.viewer).await;
        assert!(text.contains(
        "[provision.\"5.1-1\"]\nsupport = \"yes\"\ndetail = \"Unique per unit.\"\nevidence = [\"evidence/password-provisioning.md\", \"evidence/label-photo.txt\"]\n"
    ), "{text}");
        let uploaded = get(
            state,
            &format!("/api/v1/assessments/{id}/files/evidence/label-photo.txt"),
            &world.viewer,
        )
        .await;
        uploaded.expect(StatusCode::OK);
        assert_eq!(uploaded.text(), "the label");
    }
}

/// The ICS form sent by the page's script (`Accept: application/json`): several files in
/// one save, answered with what the page shows (revision, progress, verdict, evidence
/// ticked); the files of a save without an answer kept and ticked for the answer that
/// follows; a save that changes nothing makes no revision; a stale or bad save is
/// refused in JSON with the reason.
#[tokio::test]
async fn an_ics_statement_is_saved_inline_with_dropped_files() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let csrf = world.editor.csrf.clone().unwrap();
        let send = |fields: Vec<(&'static str, String)>,
                    files: Vec<(&'static str, &'static str)>| {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            let files: Vec<(&str, &str, Vec<u8>)> = files
                .iter()
                .map(|(name, content)| ("upload", *name, content.as_bytes().to_vec()))
                .collect();
            let mut request = multipart_request(
                &format!("/assessments/{id}/ics"),
                &world.editor,
                &fields,
                &files,
            );
            request.headers_mut().insert(
                header::ACCEPT,
                header::HeaderValue::from_static("application/json"),
            );
            answer_of(state, request)
        };
        let base = |based_on: i64, support: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("based_on", based_on.to_string()),
                ("provision", "5.4-1".to_owned()),
                ("at", "7".to_owned()),
                ("support", support.to_owned()),
                ("detail", "Keys are kept in the secure element.".to_owned()),
                ("go", "stay".to_owned()),
            ]
        };
        // Files dropped before the answer: kept, ticked, nothing stated yet.
        let (status, headers, body) = send(
            base(1, ""),
            vec![
                ("key storage.md", "secure element"),
                ("audit.txt", "audited"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let saved: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(saved["revision"], 2, "{saved}");
        let ticked: Vec<(&str, bool)> = saved["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|file| {
                (
                    file["path"].as_str().unwrap(),
                    file["cited"].as_bool().unwrap(),
                )
            })
            .filter(|(path, _)| *path == "evidence/key-storage.md" || *path == "evidence/audit.txt")
            .collect();
        assert_eq!(
            ticked,
            [
                ("evidence/audit.txt", true),
                ("evidence/key-storage.md", true)
            ]
        );
        assert_eq!(saved["step"], "open");
        // The answer with the ticked files states it: the progress moves by one.
        let mut fields = base(2, "yes");
        fields.push(("evidence", "evidence/key-storage.md".to_owned()));
        fields.push(("evidence", "evidence/audit.txt".to_owned()));
        let (status, _, body) = send(fields.clone(), Vec::new()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let stated: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(stated["revision"], 3);
        assert_eq!(stated["step"], "answered");
        assert_eq!(stated["stated"], saved["stated"].as_u64().unwrap() + 1);
        assert!(
            stated["summary"].as_str().unwrap().contains(" left"),
            "{stated}"
        );
        assert!(stated["verdict_label"].is_string() && stated["reasons"].is_array());
        // The same form again changes nothing, and makes no revision.
        let mut again = fields.clone();
        again[1] = ("based_on", "3".to_owned());
        let (status, _, body) = send(again, Vec::new()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["revision"],
            3
        );
        let text = crate::main_file(state, &id, &world.viewer).await;
        assert!(text.contains(
            "[provision.\"5.4-1\"]\nsupport = \"yes\"\ndetail = \"Keys are kept in the secure element.\"\nevidence = [\"evidence/key-storage.md\", \"evidence/audit.txt\"]\n"
        ), "{text}");
        // A stale save and a nameless file are refused with the reason, in JSON.
        let (status, _, body) = send(fields, Vec::new()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body.contains("load the page again"), "{body}");
        let (status, _, body) = send(base(3, "yes"), vec![("...", "x")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("letters, digits"), "{body}");
        assert_eq!(
            get(state, &format!("/api/v1/assessments/{id}"), &world.viewer)
                .await
                .json()["current_revision"],
            3
        );
    }
}

/// A new product through the form: an editor makes it with its first release; a
/// viewer is not offered the form; a name taken or a bad date is said on the form; a
/// forged manufacturer id is refused.
#[tokio::test]
async fn products_are_made_through_the_form_by_editors_only() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        get(state, "/products/new", &world.editor)
            .await
            .expect(StatusCode::OK);
        get(state, "/products/new", &world.viewer)
            .await
            .expect(StatusCode::FORBIDDEN);
        assert!(
            !get(state, "/portfolio", &world.viewer)
                .await
                .text()
                .contains("/products/new")
        );
        let editor = world.editor.cookie.clone().unwrap();
        let csrf = world.editor.csrf.clone().unwrap();
        let post = |body: String| {
            let editor = editor.clone();
            async move { form(state, "/products", Some(&editor), &body, "same-origin").await }
        };
        let (status, headers, body) = post(format!(
        "csrf={csrf}&organisation={}&name=Doorbell&model=D10&version=1.0.4&support_period_end=2031-01-31",
        world.acme
    ))
    .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let release = headers[header::LOCATION].to_str().unwrap().to_owned();
        assert!(release.starts_with("/releases/rel_"));
        let page = get(state, &release, &world.viewer).await;
        page.expect(StatusCode::OK);
        assert!(page.text().contains("support ends 2031-01-31"));
        assert!(!page.text().contains("Start an assessment"));
        for (body, says) in [
            (
                format!(
                    "csrf={csrf}&organisation={}&name=Doorbell&model=D11&version=2&support_period_end=",
                    world.acme
                ),
                "Doorbell",
            ),
            (
                format!(
                    "csrf={csrf}&organisation={}&name=Chime&model=C1&version=1&support_period_end=31.12.2030",
                    world.acme
                ),
                "is not a date",
            ),
        ] {
            let (status, _, page) = post(body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
            assert!(page.contains(says), "{page}");
        }
        let (status, _, _) = post(format!(
            "csrf={csrf}&organisation={}&name=Mine&model=M&version=1&support_period_end=",
            world.lab
        ))
        .await;
        assert!(
            status.is_client_error() && status != StatusCode::UNPROCESSABLE_ENTITY,
            "{status}"
        );
    }
}

/// Only reviewers and admins decide; viewers neither decide nor issue; an editor issues
/// a report and the page lists it.
#[tokio::test]
async fn review_and_issue_forms_respect_roles() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let page = get(state, &format!("/assessments/{id}"), &world.viewer)
            .await
            .text();
        assert!(!page.contains("/review\""), "a viewer is offered no review");
        assert!(
            !page.contains("/reports\""),
            "a viewer is offered no report to issue"
        );
        let session = |credentials: &Credentials| {
            (
                credentials.cookie.clone().unwrap(),
                credentials.csrf.clone().unwrap(),
            )
        };
        let (editor, editor_csrf) = session(&world.editor);
        let (status, _, _) = form(
            state,
            &format!("/assessments/{id}/review"),
            Some(&editor),
            &format!("csrf={editor_csrf}&based_on=1&decision=approve&report_id=R-1&assessor=E"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (viewer, viewer_csrf) = session(&world.viewer);
        let (status, _, _) = form(
            state,
            &format!("/assessments/{id}/reports"),
            Some(&viewer),
            &format!("csrf={viewer_csrf}&format=json"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, headers, _) = form(
            state,
            &format!("/assessments/{id}/reports"),
            Some(&editor),
            &format!("csrf={editor_csrf}&format=json"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let location = headers[header::LOCATION].to_str().unwrap().to_owned();
        let report = location.split("issued=").nth(1).unwrap().to_owned();
        let page = get(state, &location, &world.viewer).await.text();
        assert!(
            page.contains(&format!("/api/v1/reports/{report}")),
            "{page}"
        );
    }
}

/// The scans page: a viewer sees jobs and findings but no upload or triage form, and a
/// forged triage form of a viewer is refused; an editor's acceptance of an unknown
/// finding is said on the page.
#[tokio::test]
async fn scans_and_triage_respect_roles() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let viewer_page = get(state, &format!("/assessments/{id}/scans"), &world.viewer).await;
        viewer_page.expect(StatusCode::OK);
        assert!(!viewer_page.text().contains("Upload and scan"));
        assert!(
            get(state, &format!("/assessments/{id}/scans"), &world.editor)
                .await
                .text()
                .contains("Upload and scan")
        );
        get(state, &format!("/assessments/{id}/scans"), &world.stranger)
            .await
            .expect(StatusCode::NOT_FOUND);
        let (viewer, viewer_csrf) = (
            world.viewer.cookie.clone().unwrap(),
            world.viewer.csrf.clone().unwrap(),
        );
        let (status, _, _) = form(
            state,
            &format!("/assessments/{id}/triage"),
            Some(&viewer),
            &format!("csrf={viewer_csrf}&based_on=1&finding=f&kind=false-positive&reason=r"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (editor, editor_csrf) = (
            world.editor.cookie.clone().unwrap(),
            world.editor.csrf.clone().unwrap(),
        );
        let (status, _, body) = form(
            state,
            &format!("/assessments/{id}/triage"),
            Some(&editor),
            &format!("csrf={editor_csrf}&based_on=1&finding=nothing&kind=false-positive&reason=r"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("There is no finding nothing."), "{body}");
    }
}

/// The test cases page of a lab assessment: the assigned lab's assessor records a
/// verdict, written with their name and today's date; a viewer is offered no form.
#[tokio::test]
async fn the_assigned_lab_records_test_cases_on_the_page() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let directory = crate::examples().join("smartcam");
        let bundle = crate::bundle_of(
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
        crate::json_request(
            state,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/lab"),
            &world.editor,
            serde_json::json!({"lab_id": world.lab}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        let page = get(state, &format!("/assessments/{id}/tests"), &world.assessor).await;
        page.expect(StatusCode::OK);
        assert!(page.text().contains("5.1-1-2"));
        assert!(page.text().contains("Record") || page.text().contains("Change"));
        assert!(
            !get(state, &format!("/assessments/{id}/tests"), &world.viewer)
                .await
                .text()
                .contains("name=\"verdict\"")
        );
        let (status, _, body) = form(
            state,
            &format!("/assessments/{id}/tests"),
            Some(&world.assessor.cookie.clone().unwrap()),
            &format!(
                "csrf={}&based_on=1&case=5.1-1-2&verdict=fail&method=two+units+share+a+password",
                world.assessor.csrf.clone().unwrap()
            ),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let text = get(
            state,
            &format!("/api/v1/assessments/{id}/files/lab.toml"),
            &world.assessor,
        )
        .await
        .text();
        assert!(
            text.contains(
                "[test.\"5.1-1-2\"]\nverdict = \"fail\"\nassessor = \"assessor\"\ndate = "
            ),
            "{text}"
        );
        assert!(text.contains("method = \"two units share a password\""));
    }
}

/// The IXIT page: an entry added to one table with its fields in their types (a list, a
/// port, yes/no, a secret only as a reference), changed, and removed, each the next
/// revision; a secret's value is refused; a viewer sees the entries but no form; the
/// API's structured change adds an entry the page then shows.
#[tokio::test]
async fn ixit_entries_are_entered_per_table() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let uri = format!("/assessments/{id}/ixit");
        let page = get(state, &format!("{uri}?table=28-LogIntf"), &world.editor).await;
        page.expect(StatusCode::OK);
        let html = page.text();
        assert!(html.contains("28-LogIntf: Logical interfaces"), "{html}");
        assert!(html.contains("No entries yet") && html.contains("name=\"field.port\""));
        assert!(
            !get(state, &uri, &world.viewer)
                .await
                .text()
                .contains("name=\"based_on\"")
        );
        let cookie = world.editor.cookie.clone().unwrap();
        let csrf = world.editor.csrf.clone().unwrap();
        let entry = |revision: i64, extra: &str| {
            format!(
                "csrf={csrf}&based_on={revision}&table=28-LogIntf&id=telnet&field.description=Factory+shell\
                 &field.access=LAN%0Aservice+port&field.port=23&field.debug_interface=yes{extra}"
            )
        };
        let (status, _, body) = form(
            state,
            &uri,
            Some(&cookie),
            &entry(1, "&field.password=hunter2"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("never the secret itself"), "{body}");
        let (status, headers, body) = form(
            state,
            &uri,
            Some(&cookie),
            &entry(1, "&field.password=TELNET_PASSWORD"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(
            headers.get(header::LOCATION).unwrap(),
            &format!("{uri}?table=28-LogIntf")
        );
        let file = crate::main_file(state, &id, &world.viewer).await;
        assert!(
            file.ends_with(
                "[[ixit.28-LogIntf]]\nid = \"telnet\"\ndescription = \"Factory shell\"\naccess = [\"LAN\", \"service port\"]\nport = 23\ndebug_interface = true\npassword = { env = \"TELNET_PASSWORD\" }\n"
            ),
            "{}",
            &file[file.len().saturating_sub(400)..]
        );
        let shown = get(state, &format!("{uri}?table=28-LogIntf"), &world.viewer)
            .await
            .text();
        assert!(
            shown.contains("<th scope=\"row\">telnet")
                && shown.contains("(secret in $TELNET_PASSWORD)")
        );
        // Changed: the form of entry 1 comes filled in, and saving replaces it.
        let editing = get(
            state,
            &format!("{uri}?table=28-LogIntf&entry=0"),
            &world.editor,
        )
        .await
        .text();
        assert!(
            editing.contains("Change entry 1") && editing.contains(">LAN\nservice port</textarea>")
        );
        let (status, _, _) = form(
            state,
            &uri,
            Some(&cookie),
            &format!("csrf={csrf}&based_on=2&table=28-LogIntf&index=0&id=telnet&field.port=2323"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let file = crate::main_file(state, &id, &world.viewer).await;
        assert!(
            file.ends_with("[[ixit.28-LogIntf]]\nid = \"telnet\"\nport = 2323\n"),
            "{file}"
        );
        // The API adds another; the page lists both.
        crate::json_request(
            state,
            Method::POST,
            &format!("/api/v1/assessments/{id}/changes"),
            &world.editor,
            serde_json::json!({"based_on": 3, "changes": [{"kind": "ixit", "table": "28-LogIntf",
                "value": {"port": 22, "service": "ssh", "id": "ssh", "password": {"file": "secrets.toml", "key": "ssh.root"}}}]}),
        )
        .await
        .expect(StatusCode::OK);
        let both = get(state, &format!("{uri}?table=28-LogIntf"), &world.viewer)
            .await
            .text();
        assert!(
            both.contains("<th scope=\"row\">ssh")
                && both.contains("(secret ssh.root in secrets.toml)")
        );
        // A viewer's form is refused; the editor removes the first entry.
        let viewer_cookie = world.viewer.cookie.clone().unwrap();
        let viewer_csrf = world.viewer.csrf.clone().unwrap();
        let (status, _, _) = form(
            state,
            &uri,
            Some(&viewer_cookie),
            &format!("csrf={viewer_csrf}&based_on=4&table=28-LogIntf&index=0&remove=1"),
            "same-origin",
        )
        .await;
        assert_ne!(status, StatusCode::SEE_OTHER);
        let (status, _, _) = form(
            state,
            &uri,
            Some(&cookie),
            &format!("csrf={csrf}&based_on=4&table=28-LogIntf&index=0&remove=1"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let left = get(state, &format!("{uri}?table=28-LogIntf"), &world.viewer)
            .await
            .text();
        assert!(
            !left.contains("<th scope=\"row\">telnet") && left.contains("<th scope=\"row\">ssh")
        );
    }
}

/// The comparison page: another release's assessment of the same edition (a statement
/// withdrawn shows as a regression), another edition's (rows matched by the migration
/// map), and an assessment of another product refused.
#[tokio::test]
async fn assessments_are_compared_across_releases_and_editions() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let older = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let older = older.json()["id"].as_str().unwrap().to_owned();
        let release = |version: &'static str| {
            let editor = world.editor.clone();
            let product = world.product.clone();
            async move {
                crate::json_request(
                    state,
                    Method::POST,
                    &format!("/api/v1/products/{product}/releases"),
                    &editor,
                    serde_json::json!({"version": version}),
                )
                .await
                .json()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        };
        let newer_release = release("3.2.2").await;
        let newer = import(state, &world.editor, &newer_release, smartcam_bundle()).await;
        let newer = newer.json()["id"].as_str().unwrap().to_owned();
        crate::json_request(
            state,
            Method::POST,
            &format!("/api/v1/assessments/{newer}/changes"),
            &world.editor,
            serde_json::json!({"based_on": 1, "changes": [{"kind": "statement", "provision": "5.1-1",
                "value": {"support": "no", "detail": "a default password again"}}]}),
        )
        .await
        .expect(StatusCode::OK);
        let uri = format!("/assessments/{newer}/diff");
        let chooser = get(state, &uri, &world.viewer).await.text();
        assert!(
            chooser.contains(&format!("<option value=\"{older}\">3.2.1 · ")),
            "{chooser}"
        );
        let compared = get(state, &format!("{uri}?with={older}"), &world.viewer).await;
        compared.expect(StatusCode::OK);
        let html = compared.text();
        assert!(
            html.contains("1 provision changed, <strong>1 regressed</strong>"),
            "{html}"
        );
        assert!(html.contains("<th scope=\"row\" class=\"nowrap\">5.1-1</th>"));
        assert!(
            html.contains("<span class=\"badge v-pass\">PASS</span>")
                && html.contains("v-fail\">FAIL</span>")
        );

        // Another edition: the V2.1.1 assessment of an earlier release.
        let v2_release = release("3.1.0").await;
        let v2 = import(
            state,
            &world.editor,
            &v2_release,
            crate::bundle_of(
                &crate::examples().join("smartcam"),
                "assessment.toml",
                &[
                    "evidence/password-provisioning.md",
                    "evidence/secure-development.md",
                    "evidence/support-period.md",
                    "evidence/update-signing.md",
                    "evidence/vulnerability-disclosure-policy.md",
                ],
            ),
        )
        .await;
        v2.expect(StatusCode::CREATED);
        let v2 = v2.json()["id"].as_str().unwrap().to_owned();
        let across = get(
            state,
            &format!("/assessments/{older}/diff?with={v2}"),
            &world.viewer,
        )
        .await
        .text();
        assert!(across.contains("Across editions"), "{across}");
        // A split provision is matched to the one it continues, not shown as new.
        assert!(
            across.contains("5.6-4B<span class=\"model\">was 5.6-4</span>"),
            "{across}"
        );
        // Not an assessment of this product, or not one the person may see: not found.
        let other_product = crate::json_request(
            state,
            Method::POST,
            &format!("/api/v1/organisations/{}/products", world.acme),
            &world.editor,
            serde_json::json!({"name": "Hub", "model": "H1"}),
        )
        .await
        .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let hub_release = crate::json_request(
            state,
            Method::POST,
            &format!("/api/v1/products/{other_product}/releases"),
            &world.editor,
            serde_json::json!({"version": "1.0"}),
        )
        .await
        .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let hub = import(state, &world.editor, &hub_release, smartcam_bundle()).await;
        let hub = hub.json()["id"].as_str().unwrap().to_owned();
        get(state, &format!("{uri}?with={hub}"), &world.viewer)
            .await
            .expect(StatusCode::NOT_FOUND);
        get(state, &format!("{uri}?with={older}"), &world.stranger)
            .await
            .expect(StatusCode::NOT_FOUND);
    }
}

/// An earlier release's assessment carried to the next release: its files but the
/// scans, the new firmware version, every statement marked "carried, confirm" on the
/// pages until saved again, and an approval refused until then; a viewer cannot carry,
/// and another manufacturer's assessment cannot be the source.
#[tokio::test]
async fn an_earlier_release_s_assessment_is_carried_forward_to_confirm() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let older = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let older = older.json()["id"].as_str().unwrap().to_owned();
        // The next release is added on the release's page: by its editors only, with a
        // version not taken and a date that is one; a refusal keeps what was typed.
        let next = format!("/releases/{}/next", world.release);
        let (cookie, csrf) = (
            world.editor.cookie.clone().unwrap(),
            world.editor.csrf.clone().unwrap(),
        );
        let (status, _, _) = form(
            state,
            &next,
            world.viewer.cookie.as_deref(),
            &format!("csrf={}&version=3.3.0", world.viewer.csrf.clone().unwrap()),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for (fields, said) in [
            ("version=+&support_period_end=", "Give the new release"),
            (
                "version=3.3.0&support_period_end=31.12.2030",
                "is not a date",
            ),
            ("version=3.2.1&support_period_end=", "3.2.1"),
        ] {
            let (status, _, body) = form(
                state,
                &next,
                Some(&cookie),
                &format!("csrf={csrf}&{fields}"),
                "same-origin",
            )
            .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{fields}: {body}");
            assert!(
                body.contains("role=\"alert\"") && body.contains(said),
                "{fields}: {body}"
            );
        }
        let (status, headers, body) = form(
            state,
            &next,
            Some(&cookie),
            &format!("csrf={csrf}&version=3.3.0&support_period_end=2031-06-30"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let newer_release = headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .trim_start_matches("/releases/")
            .to_owned();
        let page = get(state, &format!("/releases/{newer_release}"), &world.editor)
            .await
            .text();
        assert!(
            page.contains(&format!("<option value=\"{older}\">3.2.1 · "))
                && page.contains("support ends 2031-06-30"),
            "{page}"
        );
        let carry = format!("/releases/{newer_release}/carry");
        let (viewer_cookie, viewer_csrf) = (
            world.viewer.cookie.clone().unwrap(),
            world.viewer.csrf.clone().unwrap(),
        );
        let (status, _, _) = form(
            state,
            &carry,
            Some(&viewer_cookie),
            &format!("csrf={viewer_csrf}&from={older}"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let cookie = world.editor.cookie.clone().unwrap();
        let csrf = world.editor.csrf.clone().unwrap();
        let (status, headers, body) = form(
            state,
            &carry,
            Some(&cookie),
            &format!("csrf={csrf}&from={older}"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let new_id = headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .trim_start_matches("/assessments/")
            .to_owned();
        let record = get(
            state,
            &format!("/api/v1/assessments/{new_id}"),
            &world.viewer,
        )
        .await
        .json();
        assert_eq!(record["release_id"], newer_release.as_str());
        let text = crate::main_file(state, &new_id, &world.viewer).await;
        assert!(text.contains("firmware_version = \"3.3.0\""), "{text}");
        assert!(text.contains("carried = \"5.1-1\""));
        let html = get(state, &format!("/assessments/{new_id}"), &world.viewer)
            .await
            .text();
        let count = |html: &str| {
            html.split("<strong>")
                .nth(1)
                .and_then(|rest| rest.split(" carried, confirm.</strong>").next())
                .and_then(|number| number.parse::<usize>().ok())
        };
        let carried = count(&html).expect("the page says how many are carried");
        assert!(carried > 20, "{carried}");
        let ics = get(
            state,
            &format!("/assessments/{new_id}/ics?at=2"),
            &world.editor,
        )
        .await
        .text();
        assert!(ics.contains("<strong>Carried, confirm.</strong>"), "{ics}");
        // An approval waits for the confirmations.
        crate::json_request(
            state,
            Method::POST,
            &format!("/api/v1/assessments/{new_id}/review"),
            &world.admin,
            serde_json::json!({"decision": "approve", "based_on": 1, "report_id": "ACME-2026-009", "assessor": "E. Editor"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        // Saving a statement again confirms it.
        crate::json_request(
            state,
            Method::POST,
            &format!("/api/v1/assessments/{new_id}/changes"),
            &world.editor,
            serde_json::json!({"based_on": 1, "changes": [{"kind": "statement", "provision": "5.1-1",
                "value": {"support": "yes", "detail": "Unique per unit, checked for 3.3.0"}}]}),
        )
        .await
        .expect(StatusCode::OK);
        let html = get(state, &format!("/assessments/{new_id}"), &world.viewer)
            .await
            .text();
        assert_eq!(count(&html), Some(carried - 1));
        // The answers are carried too: the questionnaire marks them, a reader sees them
        // without the form, and saving one confirms it.
        assert!(
            text.contains("12 = { answer = true, note = \"carried: EN 303 645 V2.1.1 condition 12")
                && text
                    .contains("was true, as condition 9 implies condition 12\", carried = true }"),
            "{text}"
        );
        let questions = get(
            state,
            &format!("/assessments/{new_id}/questions?at=1"),
            &world.editor,
        )
        .await
        .text();
        let at: usize = questions
            .split("class=\"carried\"")
            .next()
            .and_then(|before| before.rsplit("/questions?at=").next())
            .and_then(|rest| rest.split('"').next())
            .and_then(|number| number.parse().ok())
            .expect("a carried answer in the list of questions");
        let question = format!("/assessments/{new_id}/questions?at={at}");
        let page = get(state, &question, &world.editor).await.text();
        assert!(
            page.contains("<strong>Carried, confirm.</strong>"),
            "{page}"
        );
        let condition = page
            .split("name=\"condition\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        let answer = if page.contains("value=\"yes\" checked") {
            "yes"
        } else {
            "no"
        };
        let seen = get(state, &question, &world.viewer).await.text();
        assert!(
            seen.contains("<strong>Carried, confirm.</strong>")
                && !seen.contains("name=\"answer\"")
        );
        let (status, _, body) = form(
            state,
            &format!("/assessments/{new_id}/questions"),
            Some(&cookie),
            &format!("csrf={csrf}&based_on=2&condition={condition}&at={at}&answer={answer}&note=checked&go=next"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let page = get(state, &question, &world.editor).await.text();
        assert!(
            !page.contains("<strong>Carried, confirm.</strong>"),
            "{page}"
        );
        let html = get(state, &format!("/assessments/{new_id}"), &world.viewer)
            .await
            .text();
        assert_eq!(count(&html), Some(carried - 2));
        // Another manufacturer's assessment is no source.
        let (status, _, _) = form(
            state,
            &carry,
            Some(&cookie),
            &format!("csrf={csrf}&from=asm_00000000000000000000"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// A host scan from the scans page: a target nobody allowed is refused with the reason
/// and the form keeps what was typed; unreadable ports are refused; loopback is queued
/// (no worker runs here, so nothing is sent).
#[tokio::test]
async fn host_scans_are_queued_from_the_scans_page_for_allowed_targets_only() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let page = get(state, &format!("/assessments/{id}/scans"), &world.editor)
            .await
            .text();
        assert!(
            page.contains(
                "action=\"/assessments/{id}/host-scans\""
                    .replace("{id}", &id)
                    .as_str()
            )
        );
        let cookie = world.editor.cookie.clone().unwrap();
        let csrf = world.editor.csrf.clone().unwrap();
        let uri = format!("/assessments/{id}/host-scans");
        let (status, _, body) = form(
            state,
            &uri,
            Some(&cookie),
            &format!("csrf={csrf}&target=192.0.2.10&ports=22"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            body.contains("not an allowed scan target") && body.contains("value=\"192.0.2.10\""),
            "{body}"
        );
        let (status, _, body) = form(
            state,
            &uri,
            Some(&cookie),
            &format!("csrf={csrf}&target=127.0.0.1&ports=eighty"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, headers, _) = form(
            state,
            &uri,
            Some(&cookie),
            &format!("csrf={csrf}&target=127.0.0.1&ports=22"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            headers.get(header::LOCATION).unwrap(),
            &format!("/assessments/{id}/scans")
        );
        let jobs = get(
            state,
            &format!("/api/v1/jobs?assessment={id}"),
            &world.editor,
        )
        .await
        .json();
        assert_eq!(jobs[0]["kind"], "scan-host", "{jobs}");
        assert_eq!(jobs[0]["state"], "queued");
        // A viewer gets no form.
        let viewer_page = get(state, &format!("/assessments/{id}/scans"), &world.viewer)
            .await
            .text();
        assert!(!viewer_page.contains("host-scans"));
    }
}

/// Comments on a provision from its ICS page: anyone who may read the assessment adds
/// one (a viewer too), it shows under the provision with who and when; an empty one is
/// refused, and a stranger cannot comment.
#[tokio::test]
async fn provisions_are_commented_on_from_the_ics_page() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let imported = import(state, &world.editor, &world.release, smartcam_bundle()).await;
        let id = imported.json()["id"].as_str().unwrap().to_owned();
        let uri = format!("/assessments/{id}/comments");
        let (cookie, csrf) = (
            world.viewer.cookie.clone().unwrap(),
            world.viewer.csrf.clone().unwrap(),
        );
        let (status, headers, _) = form(
            state,
            &uri,
            Some(&cookie),
            &format!("csrf={csrf}&provision=5.1-1&at=2&body=Is+the+label+photo+current%3F"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            headers.get(header::LOCATION).unwrap(),
            &format!("/assessments/{id}/ics?at=2#comments")
        );
        let page = get(state, &format!("/assessments/{id}/ics?at=2"), &world.editor)
            .await
            .text();
        assert!(
            page.contains("<strong>viewer</strong>")
                && page.contains("Is the label photo current?"),
            "{page}"
        );
        let other = get(state, &format!("/assessments/{id}/ics?at=3"), &world.editor)
            .await
            .text();
        assert!(!other.contains("Is the label photo current?"));
        let (status, _, _) = form(
            state,
            &uri,
            Some(&cookie),
            &format!("csrf={csrf}&provision=5.1-1&at=2&body=+"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _, _) = form(
            state,
            &uri,
            Some(&world.stranger.cookie.clone().unwrap()),
            &format!(
                "csrf={}&provision=5.1-1&at=2&body=hello",
                world.stranger.csrf.clone().unwrap()
            ),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
