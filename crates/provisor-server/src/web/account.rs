//! Logging in and out, the authenticator code a session owes, and setting up an
//! authenticator (admins must, an organisation may require it). The checks are the
//! API's own (`api::accounts`): the same throttle, the same one-use codes.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Nav, PageError, Pending, cross_site, local_path, render, see_other};
use crate::api::accounts::{enrol as enrol_authenticator, give_code, log_in, new_enrolment};
use crate::auth::{ClientAddress, Via};
use crate::{ApiError, AppState};

/// `?next=` on the pages before the application.
#[derive(Debug, Default, Deserialize)]
pub struct Next {
    #[serde(default)]
    next: String,
    /// Set after a password change, which ends every session.
    #[serde(default)]
    changed: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    message: Option<String>,
    notice: Option<&'static str>,
    login: String,
    next: String,
}

/// The login form.
pub async fn login_page(Query(query): Query<Next>) -> Response {
    render(&LoginPage {
        nav: Nav::anonymous(),
        message: None,
        notice: query.changed.map(
            |_| "Your password is changed and every session has ended: log in with the new one.",
        ),
        login: String::new(),
        next: query.next,
    })
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Logs in and goes on: to the page that asked, or to the second factor first.
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if cross_site(&headers) {
        return PageError::new(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "This form was sent from another site.",
        )
        .into_response();
    }
    let again = |status: StatusCode, message: String| {
        let mut response = render(&LoginPage {
            nav: Nav::anonymous(),
            message: Some(message),
            notice: None,
            login: form.login.clone(),
            next: form.next.clone(),
        });
        *response.status_mut() = status;
        response
    };
    let logged_in = match log_in(&state, &client, &form.login, form.password.clone(), None).await {
        Ok(logged_in) => logged_in,
        Err(error) => {
            let message = match error.status() {
                StatusCode::TOO_MANY_REQUESTS => sentence(error.detail()),
                StatusCode::UNAUTHORIZED => "Wrong login or password.".to_owned(),
                _ => return PageError::from(error).into_response(),
            };
            return again(error.status(), message);
        }
    };
    let next = local_path(&form.next);
    let location = if logged_in.passed {
        next
    } else if logged_in.user.totp_enrolled {
        format!("/login/code?next={}", super::encode(&next))
    } else {
        format!("/account/second-factor?next={}", super::encode(&next))
    };
    let max_age = (logged_in.session.expires_at - provisor_store::now_ms()) / 1000;
    let mut response = see_other(&location);
    response.headers_mut().insert(
        header::SET_COOKIE,
        crate::api::accounts::session_cookie(&state, &logged_in.secret, max_age),
    );
    response
}

/// An API message as a sentence of a page: a capital first letter and a full stop.
fn sentence(text: &str) -> String {
    let mut characters = text.chars();
    let mut out: String = characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    nav: Nav,
    message: Option<String>,
    login: String,
    csrf: String,
    next: String,
}

/// The form for the authenticator code a session owes.
pub async fn code_page(pending: Pending, Query(query): Query<Next>) -> Response {
    render(&CodePage {
        nav: Nav::anonymous(),
        message: None,
        login: pending.caller.user.login.clone(),
        csrf: super::csrf_of(&pending.caller),
        next: query.next,
    })
}

/// The code's fields.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
    #[serde(default)]
    next: String,
}

/// Checks the code and goes on.
pub async fn code(
    State(state): State<AppState>,
    client: ClientAddress,
    pending: Pending,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Err(error) = super::check_csrf(&pending.caller, &form.csrf) {
        return error.into_response();
    }
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    match give_code(&state, &client, &pending.caller, &code).await {
        Ok(()) => see_other(&local_path(&form.next)),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::CONFLICT =>
        {
            let mut response = render(&CodePage {
                nav: Nav::anonymous(),
                message: Some(if error.status() == StatusCode::TOO_MANY_REQUESTS {
                    sentence(error.detail())
                } else {
                    "That code is wrong or was used already: give the one the app shows now."
                        .to_owned()
                }),
                login: pending.caller.user.login.clone(),
                csrf: super::csrf_of(&pending.caller),
                next: form.next,
            });
            *response.status_mut() = error.status();
            response
        }
        Err(error) => PageError::from(error).into_response(),
    }
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    nav: Nav,
    message: Option<String>,
    why: &'static str,
    secret: String,
    qr_svg: String,
    csrf: String,
    next: String,
}

/// The authenticator's `otpauth://` link as a QR code, an SVG to put in the page.
fn qr_code(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            // The page holds the element itself, not a document.
            match svg.find("<svg") {
                Some(start) => svg[start..].replacen(
                    "<svg",
                    "<svg role=\"img\" aria-label=\"QR code of the authenticator key\"",
                    1,
                ),
                None => String::new(),
            }
        }
        Err(_) => String::new(),
    }
}

fn enrol_page_of(pending: &Pending, next: String, message: Option<String>) -> Response {
    match new_enrolment(&pending.caller) {
        Ok(secret) => render(&EnrolPage {
            nav: Nav::anonymous(),
            message,
            why: if pending.caller.user.totp_enrolled {
                "This replaces the authenticator you use now."
            } else {
                "Your account needs a second factor."
            },
            qr_svg: qr_code(&secret.uri),
            secret: secret.secret,
            csrf: super::csrf_of(&pending.caller),
            next,
        }),
        Err(error) => PageError::from(error).into_response(),
    }
}

/// A new authenticator key to set up.
pub async fn enrol_page(pending: Pending, Query(query): Query<Next>) -> Response {
    enrol_page_of(&pending, query.next, None)
}

/// The set-up form's fields.
#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    csrf: String,
    secret: String,
    code: String,
    #[serde(default)]
    next: String,
}

/// Turns the authenticator on when the code proves the app holds the key.
pub async fn enrol(
    State(state): State<AppState>,
    pending: Pending,
    Form(form): Form<EnrolForm>,
) -> Response {
    if let Err(error) = super::check_csrf(&pending.caller, &form.csrf) {
        return error.into_response();
    }
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    match enrol_authenticator(&state, &pending.caller, &form.secret, &code).await {
        Ok(()) => see_other(&local_path(&form.next)),
        Err(error) if error.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            // A new key: the one on the page may have been seen by someone else.
            let mut response = enrol_page_of(
                &pending,
                form.next,
                Some(
                    "The code did not match. Here is a new key: add it again and give its code."
                        .to_owned(),
                ),
            );
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        Err(error) => PageError::from(error).into_response(),
    }
}

/// The logout form's field.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// Ends the session on the server and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    pending: Pending,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&pending.caller, &form.csrf)?;
    if let Via::Session { secret, .. } = &pending.caller.via {
        state
            .store()
            .end_session(secret)
            .await
            .map_err(|error| PageError::from(ApiError::from(error)))?;
    }
    let mut response = see_other("/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        crate::api::accounts::session_cookie(&state, "", 0),
    );
    Ok(response)
}
