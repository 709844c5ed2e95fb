//! The controls of getting in: setup once, no default account, the throttle, sessions
//! with HttpOnly/SameSite cookies and CSRF, the second factor, tokens with scopes, the
//! security headers.

use axum::http::{Method, StatusCode, header};
use serde_json::json;

use crate::{
    Credentials, PASSWORD, admin, current_code, get, json_request, login, next_code, servers, world,
};

#[tokio::test]
async fn there_is_no_default_account_and_setup_works_once() {
    for server in servers().await {
        let state = &server.state;
        // No account exists before setup: nothing to log in with.
        for (user, password) in [("admin", "admin"), ("admin", PASSWORD), ("root", "root")] {
            let answer = json_request(
                state,
                Method::POST,
                "/api/v1/session",
                &Credentials::default(),
                json!({"login": user, "password": password}),
            )
            .await;
            answer.problem(StatusCode::UNAUTHORIZED);
        }
        let link = provisor_server::setup_link(state).await.unwrap().unwrap();
        assert!(link.contains("/setup?token="), "{link}");
        let wrong = json_request(state, Method::POST, "/api/v1/setup", &Credentials::default(),
            json!({"token": "0".repeat(48), "login": "admin", "display_name": "A", "password": PASSWORD})).await;
        wrong.problem(StatusCode::FORBIDDEN);
        let (session, _) = admin(state).await;
        // A second setup with the same link is refused, and no new link is made.
        let token = link.split_once("token=").unwrap().1;
        let again = json_request(
            state,
            Method::POST,
            "/api/v1/setup",
            &Credentials::default(),
            json!({"token": token, "login": "second", "display_name": "B", "password": PASSWORD}),
        )
        .await;
        again.problem(StatusCode::FORBIDDEN);
        assert!(
            provisor_server::setup_link(state).await.unwrap().is_none(),
            "{}",
            server.engine
        );
        get(state, "/api/v1/users", &session)
            .await
            .expect(StatusCode::OK);
    }
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    for server in servers().await {
        let state = &server.state;
        admin(state).await;
        let answer = json_request(
            state,
            Method::POST,
            "/api/v1/session",
            &Credentials::default(),
            json!({"login": "admin", "password": PASSWORD}),
        )
        .await;
        let cookie = answer
            .headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict")
                && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert!(
            !cookie.contains("Secure"),
            "plain HTTP on loopback: {cookie}"
        );
        assert_eq!(
            answer.json()["second_factor"],
            "code",
            "an admin owes the code"
        );
    }
}

#[tokio::test]
async fn an_admin_must_give_the_second_factor() {
    for server in servers().await {
        let state = &server.state;
        let (_, secret) = admin(state).await;
        let half = login(state, "admin", None).await;
        let refused = get(state, "/api/v1/users", &half).await;
        assert_eq!(
            refused.problem(StatusCode::FORBIDDEN)["type"],
            "urn:provisor:problem:second-factor"
        );
        // It cannot replace the enrolled authenticator without the code.
        json_request(state, Method::POST, "/api/v1/me/totp", &half, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN);
        json_request(
            state,
            Method::POST,
            "/api/v1/session/totp",
            &half,
            json!({"code": "000000"}),
        )
        .await
        .problem(StatusCode::UNAUTHORIZED);
        json_request(
            state,
            Method::POST,
            "/api/v1/session/totp",
            &half,
            json!({"code": next_code(&secret)}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        get(state, "/api/v1/users", &half)
            .await
            .expect(StatusCode::OK);
        // The same code again (a replay) is refused for another session.
        let other = login(state, "admin", None).await;
        json_request(
            state,
            Method::POST,
            "/api/v1/session/totp",
            &other,
            json!({"code": next_code(&secret)}),
        )
        .await
        .problem(StatusCode::UNAUTHORIZED);
        let _ = current_code(&secret);
    }
}

#[tokio::test]
async fn state_changes_need_the_csrf_token() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let without = Credentials {
            csrf: None,
            ..world.editor.clone()
        };
        let answer = json_request(
            state,
            Method::POST,
            &format!("/api/v1/products/{}/releases", world.product),
            &without,
            json!({"version": "9"}),
        )
        .await;
        assert_eq!(
            answer.problem(StatusCode::FORBIDDEN)["type"],
            "urn:provisor:problem:csrf"
        );
        let wrong = Credentials {
            csrf: Some("0".repeat(48)),
            ..world.editor.clone()
        };
        let answer = json_request(
            state,
            Method::POST,
            &format!("/api/v1/products/{}/releases", world.product),
            &wrong,
            json!({"version": "9"}),
        )
        .await;
        answer.problem(StatusCode::FORBIDDEN);
        // Reading needs none.
        get(state, "/api/v1/portfolio", &without)
            .await
            .expect(StatusCode::OK);
        // Logged out, the cookie is worth nothing.
        json_request(
            state,
            Method::DELETE,
            "/api/v1/session",
            &world.editor,
            json!({}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        get(state, "/api/v1/portfolio", &world.editor)
            .await
            .problem(StatusCode::UNAUTHORIZED);
        get(
            state,
            "/api/v1/portfolio",
            &Credentials {
                cookie: Some("f".repeat(64)),
                ..Default::default()
            },
        )
        .await
        .problem(StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn failed_logins_are_throttled_with_growing_delays() {
    for server in servers().await {
        let state = &server.state;
        world(state).await;
        let nobody = Credentials::default();
        let attempt = |password: &'static str| {
            json_request(
                state,
                Method::POST,
                "/api/v1/session",
                &nobody,
                json!({"login": "editor", "password": password}),
            )
        };
        for _ in 0..3 {
            attempt("wrong password 1")
                .await
                .problem(StatusCode::UNAUTHORIZED);
        }
        let fourth = attempt("wrong password 2").await;
        let problem = fourth.problem(StatusCode::TOO_MANY_REQUESTS);
        assert!(
            problem["detail"].as_str().unwrap().contains("try again in"),
            "{problem}"
        );
        assert_eq!(fourth.headers.get(header::RETRY_AFTER).unwrap(), "1");
        // Even the right password waits while the account is held back.
        attempt(PASSWORD)
            .await
            .problem(StatusCode::TOO_MANY_REQUESTS);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        attempt("wrong password 3")
            .await
            .problem(StatusCode::TOO_MANY_REQUESTS);
        let blocked = attempt(PASSWORD).await;
        let wait: u64 = blocked
            .headers
            .get(header::RETRY_AFTER)
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait >= 2, "the delay grows: {wait} s, {}", server.engine);
    }
}

#[tokio::test]
async fn tokens_act_within_their_scopes_until_revoked() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        let made = json_request(
            state,
            Method::POST,
            "/api/v1/tokens",
            &world.editor,
            json!({"name": "ci", "scopes": ["read"], "expires_in_days": 30}),
        )
        .await;
        made.expect(StatusCode::CREATED);
        let secret = made.json()["secret"].as_str().unwrap().to_owned();
        let id = made.json()["token"]["id"].as_str().unwrap().to_owned();
        let reader = Credentials {
            token: Some(secret.clone()),
            ..Default::default()
        };
        get(state, "/api/v1/portfolio", &reader)
            .await
            .expect(StatusCode::OK);
        // Without write, no change, and no CSRF token is asked of a bearer token.
        let refused = json_request(
            state,
            Method::POST,
            &format!("/api/v1/products/{}/releases", world.product),
            &reader,
            json!({"version": "9"}),
        )
        .await;
        assert!(
            refused.problem(StatusCode::FORBIDDEN)["detail"]
                .as_str()
                .unwrap()
                .contains("write scope")
        );
        // A token cannot make tokens.
        json_request(
            state,
            Method::POST,
            "/api/v1/tokens",
            &reader,
            json!({"name": "x", "scopes": ["read"], "expires_in_days": 1}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        let bad = json_request(
            state,
            Method::POST,
            "/api/v1/tokens",
            &world.editor,
            json!({"name": "x", "scopes": ["root"], "expires_in_days": 1}),
        )
        .await;
        assert_eq!(
            bad.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["where"],
            "/scopes/0"
        );
        json_request(
            state,
            Method::POST,
            "/api/v1/tokens",
            &world.editor,
            json!({"name": "x", "scopes": ["admin"], "expires_in_days": 1}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        json_request(
            state,
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &world.editor,
            json!({}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        get(state, "/api/v1/portfolio", &reader)
            .await
            .problem(StatusCode::UNAUTHORIZED);
        let listed = get(state, "/api/v1/tokens", &world.editor).await.json();
        assert!(listed[0]["revoked_at"].is_number());
        assert!(
            !listed.to_string().contains(&secret),
            "the secret is never shown again"
        );
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    for server in servers().await {
        let state = &server.state;
        for answer in [
            get(state, "/healthz", &Credentials::default()).await,
            get(state, "/api/v1/portfolio", &Credentials::default()).await,
            get(state, "/nowhere", &Credentials::default()).await,
        ] {
            let csp = answer
                .headers
                .get(header::CONTENT_SECURITY_POLICY)
                .unwrap()
                .to_str()
                .unwrap();
            assert!(
                csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
                "{csp}"
            );
            assert_eq!(
                answer.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
                "nosniff"
            );
            assert_eq!(answer.headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
        }
        get(state, "/readyz", &Credentials::default())
            .await
            .expect(StatusCode::OK);
    }
}

#[tokio::test]
async fn an_organisation_can_require_the_second_factor() {
    for server in servers().await {
        let state = &server.state;
        let world = world(state).await;
        get(state, "/api/v1/portfolio", &world.viewer)
            .await
            .expect(StatusCode::OK);
        json_request(
            state,
            Method::PUT,
            &format!("/api/v1/organisations/{}/settings", world.acme),
            &world.admin,
            json!({"require_totp": true}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        let viewer = login(state, "viewer", None).await;
        let answer = get(state, "/api/v1/portfolio", &viewer).await;
        assert!(
            answer.problem(StatusCode::FORBIDDEN)["detail"]
                .as_str()
                .unwrap()
                .contains("enrol")
        );
        // A member without that requirement goes on without.
        get(
            state,
            "/api/v1/portfolio",
            &login(state, "assessor", None).await,
        )
        .await
        .expect(StatusCode::OK);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_throttle_counts_the_forwarded_client() {
    use provisor_server::{AppState, Config};
    for server in servers().await {
        let mut config: Config = server.state.config().clone();
        config.trusted_proxies = vec!["127.0.0.9/32".parse().unwrap()];
        let state = AppState::new(
            server.state.store().clone(),
            server.state.key().clone(),
            config,
        );
        admin(&state).await;
        let from = |client: &'static str, login: String| {
            let state = state.clone();
            async move {
                let request = axum::http::Request::builder()
                    .method(Method::POST)
                    .uri("/api/v1/session")
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("x-forwarded-for", format!("198.51.100.1, {client}"))
                    .body(axum::body::Body::from(
                        json!({"login": login, "password": "wrong password!"}).to_string(),
                    ))
                    .unwrap();
                let mut request = request;
                request.extensions_mut().insert(axum::extract::ConnectInfo(
                    crate::CLIENT.parse::<std::net::SocketAddr>().unwrap(),
                ));
                use tower::ServiceExt;
                provisor_server::app(state)
                    .oneshot(request)
                    .await
                    .unwrap()
                    .status()
            }
        };
        // Different accounts each time, so only the client's count grows.
        for attempt in 0..3 {
            assert_eq!(
                from("203.0.113.5", format!("nobody{attempt}")).await,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            from("203.0.113.5", "nobody9".into()).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            server.engine
        );
        assert_eq!(
            from("203.0.113.6", "nobody10".into()).await,
            StatusCode::UNAUTHORIZED,
            "another client behind the proxy is not held back"
        );
    }
}

#[tokio::test]
async fn the_printed_setup_link_opens_a_page_that_creates_the_first_admin_once() {
    for server in servers().await {
        let state = &server.state;
        let link = provisor_server::setup_link(state).await.unwrap().unwrap();
        let path = &link[link.find("/setup").unwrap()..];
        let token = link.split_once("token=").unwrap().1.to_owned();
        let page = get(state, path, &Credentials::default()).await;
        page.expect(StatusCode::OK);
        let html = page.text();
        assert!(
            html.contains("<form method=\"post\" action=\"/setup\">")
                && !crate::has_inline_script(&html),
            "{html}"
        );
        get(state, "/setup?token=0000", &Credentials::default())
            .await
            .expect(StatusCode::FORBIDDEN);
        let nobody = Credentials::default();
        let post = |body: String| {
            crate::send(
                state,
                Method::POST,
                "/setup",
                &nobody,
                Some("application/x-www-form-urlencoded"),
                body.into_bytes(),
            )
        };
        let differ = post(format!("token={token}&login=root&display_name=Root&password=correct+horse+battery&password_again=other+horse+battery")).await;
        differ.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            differ.text().contains("The two passwords differ")
                && differ.text().contains("value=\"root\"")
        );
        let injected = post(format!("token={token}&login=%3Cb%3E&display_name=x&password=correct+horse+battery&password_again=correct+horse+battery")).await;
        assert!(
            injected.text().contains("&#60;b&#62;") && !injected.text().contains("<b>"),
            "what the user typed is escaped"
        );
        let created = post(format!("token={token}&login=root&display_name=Root&password=correct+horse+battery&password_again=correct+horse+battery")).await;
        created.expect(StatusCode::CREATED);
        assert!(created.text().contains("<strong>root</strong>"));
        post(format!("token={token}&login=second&display_name=S&password=correct+horse+battery&password_again=correct+horse+battery")).await.expect(StatusCode::FORBIDDEN);
        get(state, path, &Credentials::default())
            .await
            .expect(StatusCode::FORBIDDEN);
        let login = json_request(
            state,
            Method::POST,
            "/api/v1/session",
            &Credentials::default(),
            json!({"login": "root", "password": "correct horse battery"}),
        )
        .await;
        assert_eq!(login.json()["second_factor"], "enrol", "{}", server.engine);
    }
}
