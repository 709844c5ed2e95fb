//! The account page (API tokens made and revoked, the password changed) and the admin
//! pages (organisations, users, members and roles, the second-factor rule, the host-scan
//! allow-list, the advisory database) through the router, with who may do what.

use axum::http::{Method, StatusCode, header};

use crate::pages::{form, multipart};
use serde_json::json;

use crate::{Credentials, PASSWORD, current_code, get, json_request, login, servers, world};

/// The text between `start` and the next `end` in `text`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

fn session(credentials: &Credentials) -> (String, String) {
    (
        credentials.cookie.clone().unwrap(),
        credentials.csrf.clone().unwrap(),
    )
}

fn location(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// A token is made with its scopes and shown once, works, and stops working when
/// revoked; a password change needs the current password, a repeated new one, and ends
/// the session.
#[tokio::test]
async fn the_account_page_makes_tokens_and_changes_the_password() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let (cookie, csrf) = session(&world.viewer);
        let page = get(state, "/account", &world.viewer).await;
        page.expect(StatusCode::OK);
        let html = page.text();
        assert!(
            html.contains("<code>viewer</code>") && html.contains("<th scope=\"row\">Acme</th>")
        );
        assert!(html.contains("No tokens yet."));
        assert!(
            !html.contains("name=\"admin\""),
            "only server admins are offered the admin scope"
        );

        let (status, _, body) = form(
            state,
            "/account/tokens",
            Some(&cookie),
            &format!("csrf={csrf}&name=ci&read=on&days=90"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let secret = between(&body, "id=\"token-secret\">", "<")
            .unwrap()
            .to_owned();
        assert!(secret.starts_with("pvt_"), "{secret}");
        let with_token = Credentials {
            token: Some(secret.clone()),
            ..Credentials::default()
        };
        get(state, "/api/v1/portfolio", &with_token)
            .await
            .expect(StatusCode::OK);
        // Shown once: the page loaded again lists the token without its secret.
        let again = get(state, "/account", &world.viewer).await.text();
        assert!(!again.contains(&secret) && again.contains("<th scope=\"row\">ci</th>"));
        let (status, _, body) = form(
            state,
            "/account/tokens",
            Some(&cookie),
            &format!("csrf={csrf}&name=root&read=on&admin=on&days=30"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("only a server admin"), "{body}");
        let (status, _, body) = form(
            state,
            "/account/tokens",
            Some(&cookie),
            &format!("csrf={csrf}&name=none&days=30"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("at least one scope"));
        let token = between(&again, "action=\"/account/tokens/", "/revoke\"")
            .unwrap()
            .to_owned();
        let (status, _, _) = form(
            state,
            &format!("/account/tokens/{token}/revoke"),
            Some(&cookie),
            "csrf=wrong",
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, headers, _) = form(
            state,
            &format!("/account/tokens/{token}/revoke"),
            Some(&cookie),
            &format!("csrf={csrf}"),
            "same-origin",
        )
        .await;
        assert_eq!(
            (status, location(&headers)),
            (StatusCode::SEE_OTHER, "/account#tokens")
        );
        get(state, "/api/v1/portfolio", &with_token)
            .await
            .problem(StatusCode::UNAUTHORIZED);
        assert!(
            get(state, "/account", &world.viewer)
                .await
                .text()
                .contains("revoked")
        );

        let change = |current: &str, new: &str, repeat: &str| {
            format!("csrf={csrf}&current={current}&new={new}&repeat={repeat}")
        };
        let (status, _, body) = form(
            state,
            "/account/password",
            Some(&cookie),
            &change(
                "wrong password",
                "a new long password",
                "a new long password",
            ),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("current password is wrong"), "{body}");
        let (status, _, body) = form(
            state,
            "/account/password",
            Some(&cookie),
            &change(PASSWORD, "a new long password", "a new long passw0rd"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("differ"));
        let (status, headers, _) = form(
            state,
            "/account/password",
            Some(&cookie),
            &change(PASSWORD, "a new long password", "a new long password"),
            "same-origin",
        )
        .await;
        assert_eq!(
            (status, location(&headers)),
            (StatusCode::SEE_OTHER, "/login?changed=1")
        );
        // Every session ended, this one too.
        let answer = get(state, "/account", &world.viewer).await;
        answer.expect(StatusCode::SEE_OTHER);
        let login_page = get(state, "/login?changed=1", &Credentials::default())
            .await
            .text();
        assert!(login_page.contains("Your password is changed"));
    }
}

/// A server admin makes organisations and users, allows scan targets and replaces the
/// advisory database; an organisation's admin manages its members and the second-factor
/// rule, and sees nothing of other organisations; others see no admin page at all.
#[tokio::test]
async fn admin_pages_respect_who_administers_what() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        for who in [&world.viewer, &world.editor] {
            get(state, "/admin", who)
                .await
                .expect(StatusCode::NOT_FOUND);
            get(state, &format!("/admin/organisations/{}", world.acme), who)
                .await
                .expect(StatusCode::NOT_FOUND);
        }
        assert!(
            !get(state, "/portfolio", &world.viewer)
                .await
                .text()
                .contains("href=\"/admin\"")
        );
        let (cookie, csrf) = session(&world.admin);
        let page = get(state, "/admin", &world.admin).await;
        page.expect(StatusCode::OK);
        let html = page.text();
        for heading in [
            "Organisations",
            "Users",
            "Host-scan allow-list",
            "Advisory database",
        ] {
            assert!(html.contains(heading), "{heading}");
        }

        let post = |uri: &'static str, body: String| {
            let cookie = cookie.clone();
            async move { form(state, uri, Some(&cookie), &body, "same-origin").await }
        };
        let (status, headers, _) = post(
            "/admin/organisations",
            format!("csrf={csrf}&name=Bench+Lab&kind=lab"),
        )
        .await;
        assert_eq!(
            (status, location(&headers)),
            (StatusCode::SEE_OTHER, "/admin?done=organisation")
        );
        let (status, _, body) = post(
            "/admin/organisations",
            format!("csrf={csrf}&name=Bench+Lab&kind=lab"),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            body.contains("role=\"alert\"") && body.contains("Bench Lab"),
            "{body}"
        );
        let (status, _, _) = post(
            "/admin/users",
            format!(
                "csrf={csrf}&login=boss&display_name=The+Boss&password={}",
                PASSWORD.replace(' ', "+")
            ),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let shown = get(state, "/admin?done=user", &world.admin).await.text();
        assert!(shown.contains("<code>boss</code>") && shown.contains("The user is made"));
        // The notice is one of the page's own, never text from the link.
        let forged = get(state, "/admin?done=Call+this+number", &world.admin)
            .await
            .text();
        assert!(!forged.contains("Call this number") && !forged.contains("role=\"status\""));

        // The server admin makes Boss an admin of Acme on Acme's page.
        let acme = format!("/admin/organisations/{}", world.acme);
        let members = format!("{acme}/members");
        let (status, _, _) = form(
            state,
            &members,
            Some(&cookie),
            &format!("csrf={csrf}&login=BOSS&role=admin"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, body) = form(
            state,
            &members,
            Some(&cookie),
            &format!("csrf={csrf}&login=nobody&role=viewer"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("no user with the login"), "{body}");

        // An organisation's admin uses an authenticator, as every admin does.
        let boss = login(state, "boss", None).await;
        get(state, "/admin", &boss)
            .await
            .expect(StatusCode::SEE_OTHER);
        let made = json_request(state, Method::POST, "/api/v1/me/totp", &boss, json!({})).await;
        let secret = made.json()["secret"].as_str().unwrap().to_owned();
        json_request(
            state,
            Method::POST,
            "/api/v1/me/totp/confirm",
            &boss,
            json!({"secret": secret, "code": current_code(&secret)}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        let (boss_cookie, boss_csrf) = session(&boss);
        let overview = get(state, "/admin", &boss).await;
        overview.expect(StatusCode::OK);
        let overview = overview.text();
        assert!(overview.contains(&format!("href=\"{acme}\"")));
        assert!(!overview.contains("Users") && !overview.contains("Advisory database"));
        assert!(!overview.contains(&world.other));
        get(
            state,
            &format!("/admin/organisations/{}", world.other),
            &boss,
        )
        .await
        .expect(StatusCode::NOT_FOUND);
        let (status, _, _) = form(
            state,
            &format!("/admin/organisations/{}/members", world.other),
            Some(&boss_cookie),
            &format!("csrf={boss_csrf}&login=boss&role=admin"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Boss makes the viewer an editor, then removes them.
        let page = get(state, &acme, &boss).await.text();
        let viewer_id = between(&page, "<th scope=\"row\">viewer</th>", "</tr>")
            .and_then(|row| between(row, "name=\"user\" value=\"", "\""))
            .unwrap()
            .to_owned();
        let (status, headers, _) = form(
            state,
            &members,
            Some(&boss_cookie),
            &format!("csrf={boss_csrf}&user={viewer_id}&role=editor"),
            "same-origin",
        )
        .await;
        assert_eq!(
            (status, location(&headers)),
            (
                StatusCode::SEE_OTHER,
                format!("{acme}?done=member").as_str()
            )
        );
        let users = get(state, "/api/v1/users", &world.admin).await.json();
        let role_of_viewer = || {
            users
                .as_array()
                .unwrap()
                .iter()
                .find(|user| user["login"] == "viewer")
                .map(|user| user["memberships"].clone())
                .unwrap()
        };
        assert_eq!(role_of_viewer()[0]["role"], "editor");
        let (status, _, _) = form(
            state,
            &members,
            Some(&boss_cookie),
            &format!("csrf={boss_csrf}&user={viewer_id}&role="),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let users = get(state, "/api/v1/users", &world.admin).await.json();
        assert!(
            users
                .as_array()
                .unwrap()
                .iter()
                .any(|user| user["login"] == "viewer"
                    && user["memberships"] == serde_json::json!([]))
        );
        let (status, _, _) = form(
            state,
            &format!("{acme}/settings"),
            Some(&boss_cookie),
            &format!("csrf={boss_csrf}&require_totp=on"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let organisations = get(state, "/api/v1/organisations", &world.admin)
            .await
            .json();
        assert!(
            organisations
                .as_array()
                .unwrap()
                .iter()
                .any(|organisation| {
                    organisation["id"] == world.acme.as_str()
                        && organisation["require_totp"] == true
                })
        );
        // Boss may not touch the server's settings.
        let (status, _, _) = form(
            state,
            "/admin/scan-targets",
            Some(&boss_cookie),
            &format!("csrf={boss_csrf}&target=192.0.2.0/28&note=x"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The allow-list.
        let (status, _, body) = post(
            "/admin/scan-targets",
            format!("csrf={csrf}&target=192.0.2.0/28&note="),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("authorises"), "{body}");
        let (status, _, _) = post(
            "/admin/scan-targets",
            format!("csrf={csrf}&target=192.0.2.0/28&note=Bench+3%2C+owner+consent"),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let listed = get(state, "/admin", &world.admin).await.text();
        assert!(
            listed.contains("<code>192.0.2.0/28</code>")
                && listed.contains("Bench 3, owner consent")
        );
        let (status, _, _) = post(
            "/admin/scan-targets/remove",
            format!("csrf={csrf}&target=192.0.2.0%2F28"),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            !get(state, "/admin", &world.admin)
                .await
                .text()
                .contains("<code>192.0.2.0/28</code>")
        );

        // The advisory database from two OSV files; a broken one changes nothing.
        let advisories = crate::examples().join("advisories");
        let file = |name: &str| std::fs::read(advisories.join(name)).unwrap();
        let (status, headers, body) = multipart(
            state,
            "/admin/advisories",
            &world.admin,
            &[("csrf", &csrf)],
            &[
                ("files", "CVE-2022-28391.json", file("CVE-2022-28391.json")),
                ("files", "CVE-2023-48795.json", file("CVE-2023-48795.json")),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(location(&headers), "/admin?done=advisories#advisories");
        let summary = get(state, "/api/v1/advisories", &world.viewer).await.json();
        assert_eq!(summary["advisories"], 2, "{summary}");
        let (status, _, body) = multipart(
            state,
            "/admin/advisories",
            &world.admin,
            &[("csrf", &csrf)],
            &[(
                "files",
                "broken.json",
                b"{\"id\": \"X-1\",\n \"affected\": 7}".to_vec(),
            )],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("broken.json:2:"), "{body}");
        assert_eq!(
            get(state, "/api/v1/advisories", &world.viewer).await.json()["advisories"],
            2
        );
        // A replacement is what the next reader gets, though the server keeps the last
        // one read.
        let (status, _, body) = multipart(
            state,
            "/admin/advisories",
            &world.admin,
            &[("csrf", &csrf)],
            &[("files", "CVE-2023-48795.json", file("CVE-2023-48795.json"))],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(
            get(state, "/api/v1/advisories", &world.viewer).await.json()["advisories"],
            1
        );
        let (status, _, _) = multipart(
            state,
            "/admin/advisories",
            &boss,
            &[("csrf", &boss_csrf)],
            &[("files", "CVE-2022-28391.json", file("CVE-2022-28391.json"))],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
