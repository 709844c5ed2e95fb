//! The one web page the server has before its web interface: `/setup`, where the
//! one-time link printed at the first start creates the first admin. Plain HTML, no
//! script, under the same content security policy as every answer; the token in the
//! link is the form's secret (it is checked, then spent).

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use provisor_store::{Actor, NewUser};
use serde::Deserialize;

use crate::auth::same_secret;
use crate::{AppState, SETUP_SETTING};

/// The token in the link.
#[derive(Debug, Deserialize)]
pub struct SetupLink {
    /// The one-time token.
    #[serde(default)]
    pub token: String,
}

/// The form's fields.
#[derive(Debug, Deserialize)]
pub struct SetupForm {
    token: String,
    login: String,
    display_name: String,
    password: String,
    password_again: String,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The page's stylesheet, served from the server itself (the policy allows no inline
/// style).
pub const STYLESHEET: &str = "body{font:16px/1.5 system-ui,sans-serif;color:#1d2430;background:#f4f6f9;margin:0}\
main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem 2.5rem;border-radius:10px;box-shadow:0 1px 4px #0002}\
h1{font-size:1.1rem;letter-spacing:.08em;text-transform:uppercase;color:#4a5568;margin:0 0 1rem}\
h2{font-size:1.5rem;margin:0 0 1rem}label{display:block;font-weight:600;font-size:.9rem}\
input{width:100%;box-sizing:border-box;font:inherit;padding:.45rem .6rem;margin-top:.25rem;border:1px solid #b8c0cc;border-radius:6px}\
input:focus{outline:2px solid #2b6cb0;border-color:#2b6cb0}\
button{font:inherit;font-weight:600;background:#2b6cb0;color:#fff;border:0;border-radius:6px;padding:.55rem 1.2rem;cursor:pointer}\
button:hover{background:#245a93}[role=alert]{background:#fdecea;border-left:4px solid #c53030;padding:.5rem .8rem}\
p.hint{color:#4a5568;font-size:.9rem}code{font-size:.9em}";

/// Serves the stylesheet.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>provisor: first admin</title><link rel=\"icon\" href=\"/assets/icon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/assets/setup.css\"></head>\n<body><main>\n<h1>provisor</h1>\n{body}\n</main></body></html>\n"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

async fn token_valid(state: &AppState, token: &str) -> bool {
    let expected = state.store().setting(SETUP_SETTING).await.ok().flatten();
    let given = provisor_store::sha256_hex(token.trim().as_bytes());
    let users = state.store().user_count().await.unwrap_or(1);
    matches!(expected, Some(expected) if same_secret(&expected, &given)) && users == 0
}

const SPENT: &str = "<p>This setup link is not valid: it was used, or it is not the one the server printed. Setup is done once; an admin creates further accounts.</p>";

fn form(token: &str, problem: Option<&str>, login: &str, name: &str) -> String {
    format!(
        "<h2>Create the first admin</h2>\n{}<form method=\"post\" action=\"/setup\">\n<input type=\"hidden\" name=\"token\" value=\"{}\">\n<p><label>Login name<br><input name=\"login\" required maxlength=\"100\" autocomplete=\"username\" value=\"{}\"></label></p>\n<p><label>Name shown<br><input name=\"display_name\" required maxlength=\"200\" value=\"{}\"></label></p>\n<p><label>Password (at least {} characters)<br><input name=\"password\" type=\"password\" required minlength=\"{}\" autocomplete=\"new-password\"></label></p>\n<p><label>Password again<br><input name=\"password_again\" type=\"password\" required autocomplete=\"new-password\"></label></p>\n<p><button type=\"submit\">Create the admin</button></p>\n</form>\n<p class=\"hint\">At the first login the admin enrols an authenticator app (TOTP).</p>",
        problem
            .map(|problem| format!(
                "<p role=\"alert\"><strong>{}</strong></p>\n",
                escape(problem)
            ))
            .unwrap_or_default(),
        escape(token),
        escape(login),
        escape(name),
        provisor_store::MIN_PASSWORD_CHARS,
        provisor_store::MIN_PASSWORD_CHARS,
    )
}

/// The form, when the link's token is the one printed and no user exists yet.
pub async fn show(State(state): State<AppState>, Query(link): Query<SetupLink>) -> Response {
    if !token_valid(&state, &link.token).await {
        return page(StatusCode::FORBIDDEN, SPENT);
    }
    page(StatusCode::OK, &form(&link.token, None, "", ""))
}

/// Creates the first admin from the form.
pub async fn submit(State(state): State<AppState>, Form(input): Form<SetupForm>) -> Response {
    if !token_valid(&state, &input.token).await {
        return page(StatusCode::FORBIDDEN, SPENT);
    }
    if input.password != input.password_again {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form(
                &input.token,
                Some("The two passwords differ."),
                &input.login,
                &input.display_name,
            ),
        );
    }
    let created = state
        .store()
        .create_user(
            &Actor::Server,
            &NewUser {
                login: input.login.clone(),
                display_name: input.display_name.clone(),
                password: input.password,
                server_admin: true,
            },
        )
        .await;
    match created {
        Ok(user) => {
            if let Err(error) = state.store().set_setting(SETUP_SETTING, "used").await {
                tracing::error!("cannot spend the setup token: {error}");
            }
            page(
                StatusCode::CREATED,
                &format!(
                    "<h2>Done</h2>\n<p>The admin <strong>{}</strong> was created. Log in through the API (<code>POST /api/v1/session</code>, described at <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>) and enrol an authenticator app.</p>",
                    escape(&user.login)
                ),
            )
        }
        Err(error) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form(
                &input.token,
                Some(&error.to_string()),
                &input.login,
                &input.display_name,
            ),
        ),
    }
}
