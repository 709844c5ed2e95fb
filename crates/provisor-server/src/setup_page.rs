//! `/setup`, where the one-time link printed at the first start creates the first
//! admin: a page of the web pages' templates (`templates/setup.html`), no script, under
//! the same content security policy as every answer; the token in the link is the
//! form's secret (it is checked, then spent).

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use provisor_store::{Actor, NewUser};
use serde::Deserialize;

use crate::auth::same_secret;
use crate::web::{Nav, render};
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

/// Which of the page's three states it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetupStep {
    /// The form.
    Form,
    /// The admin was made.
    Done,
    /// The link is used or wrong.
    Spent,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    nav: Nav,
    step: SetupStep,
    token: &'a str,
    login: &'a str,
    display_name: &'a str,
    problem: Option<&'a str>,
    min_password: usize,
}

fn page(
    status: StatusCode,
    step: SetupStep,
    form: Option<&SetupForm>,
    problem: Option<&str>,
) -> Response {
    let mut response = render(&SetupPage {
        nav: Nav::anonymous(),
        step,
        token: form.map_or("", |form| form.token.as_str()),
        login: form.map_or("", |form| form.login.as_str()),
        display_name: form.map_or("", |form| form.display_name.as_str()),
        problem,
        min_password: provisor_store::MIN_PASSWORD_CHARS,
    });
    *response.status_mut() = status;
    response
}

async fn token_valid(state: &AppState, token: &str) -> bool {
    let expected = state.store().setting(SETUP_SETTING).await.ok().flatten();
    let given = provisor_store::sha256_hex(token.trim().as_bytes());
    let users = state.store().user_count().await.unwrap_or(1);
    matches!(expected, Some(expected) if same_secret(&expected, &given)) && users == 0
}

/// The form, when the link's token is the one printed and no user exists yet.
pub async fn show(State(state): State<AppState>, Query(link): Query<SetupLink>) -> Response {
    if !token_valid(&state, &link.token).await {
        return page(StatusCode::FORBIDDEN, SetupStep::Spent, None, None);
    }
    let form = SetupForm {
        token: link.token,
        login: String::new(),
        display_name: String::new(),
        password: String::new(),
        password_again: String::new(),
    };
    page(StatusCode::OK, SetupStep::Form, Some(&form), None)
}

/// Creates the first admin from the form.
pub async fn submit(State(state): State<AppState>, Form(input): Form<SetupForm>) -> Response {
    if !token_valid(&state, &input.token).await {
        return page(StatusCode::FORBIDDEN, SetupStep::Spent, None, None);
    }
    if input.password != input.password_again {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            SetupStep::Form,
            Some(&input),
            Some("The two passwords differ."),
        );
    }
    let created = state
        .store()
        .create_user(
            &Actor::Server,
            &NewUser {
                login: input.login.clone(),
                display_name: input.display_name.clone(),
                password: input.password.clone(),
                server_admin: true,
            },
        )
        .await;
    match created {
        Ok(user) => {
            if let Err(error) = state.store().set_setting(SETUP_SETTING, "used").await {
                tracing::error!("cannot spend the setup token: {error}");
            }
            let done = SetupForm {
                login: user.login,
                ..input
            };
            page(StatusCode::CREATED, SetupStep::Done, Some(&done), None)
        }
        Err(error) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            SetupStep::Form,
            Some(&input),
            Some(&error.to_string()),
        ),
    }
}
