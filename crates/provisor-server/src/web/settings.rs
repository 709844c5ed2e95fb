//! The account page: who the person is, their organisations and roles, their second
//! factor, a password change, and their API tokens (made with a scope and an expiry,
//! the secret shown once, revoked with one button). The checks are the API's own
//! (`api::accounts`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, PageError, Signed, message_of, render, see_other, when, with_status};
use crate::api::accounts::{
    PasswordChange, TokenRequest, change_password, create_token, revoke_token,
};
use crate::extract::Json;
use crate::{ApiError, AppState};

/// An organisation the person belongs to, as the page lists it.
struct Membership {
    name: String,
    kind: &'static str,
    role: &'static str,
}

/// A token as the page lists it.
struct TokenRow {
    id: String,
    name: String,
    scopes: String,
    created: String,
    expires: String,
    last_used: String,
    state: &'static str,
    usable: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    login: String,
    display_name: String,
    server_admin: bool,
    totp_enrolled: bool,
    memberships: Vec<Membership>,
    tokens: Vec<TokenRow>,
    /// A token just made: its name and secret, shown this once.
    created: Option<(String, String)>,
    password_message: Option<String>,
    token_message: Option<String>,
    token_name: String,
}

async fn page_of(state: &AppState, signed: &Signed) -> Result<AccountPage, PageError> {
    let store = state.store();
    let user = &signed.caller.user;
    let mut memberships = Vec::new();
    for (organisation, role) in &user.memberships {
        if let Ok(organisation) = store.organisation(organisation).await {
            memberships.push(Membership {
                name: organisation.name,
                kind: match organisation.kind {
                    provisor_store::OrganisationKind::Manufacturer => "manufacturer",
                    provisor_store::OrganisationKind::Lab => "lab",
                },
                role: role.as_str(),
            });
        }
    }
    memberships.sort_by(|a, b| a.name.cmp(&b.name));
    let now = provisor_store::now_ms();
    let mut tokens: Vec<TokenRow> = store
        .tokens(&user.id)
        .await
        .map_err(ApiError::from)?
        .iter()
        .map(|token| {
            let state = if token.revoked_at.is_some() {
                "revoked"
            } else if token.expires_at <= now {
                "expired"
            } else {
                "active"
            };
            TokenRow {
                id: token.id.clone(),
                name: token.name.clone(),
                scopes: token
                    .scopes
                    .iter()
                    .map(|scope| scope.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                created: when(token.created_at),
                expires: when(token.expires_at),
                last_used: token.last_used_at.map_or_else(|| "never".to_owned(), when),
                state,
                usable: state == "active",
            }
        })
        .collect();
    // The ones that work first, newest first.
    tokens.sort_by(|a, b| b.usable.cmp(&a.usable).then(b.created.cmp(&a.created)));
    Ok(AccountPage {
        nav: signed.nav("account"),
        login: user.login.clone(),
        display_name: user.display_name.clone(),
        server_admin: user.server_admin,
        totp_enrolled: user.totp_enrolled,
        memberships,
        tokens,
        created: None,
        password_message: None,
        token_message: None,
        token_name: String::new(),
    })
}

/// The account page.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, PageError> {
    Ok(render(&page_of(&state, &signed).await?))
}

/// The password form's fields.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    repeat: String,
}

/// Changes the password; every session ends, so the person logs in again.
pub async fn password(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    if form.new != form.repeat {
        let mut page = page_of(&state, &signed).await?;
        page.password_message =
            Some("The new password and its repetition differ: type it twice the same.".to_owned());
        return Ok(with_status(render(&page), StatusCode::UNPROCESSABLE_ENTITY));
    }
    let changed = change_password(
        State(state.clone()),
        signed.caller.clone(),
        Json(PasswordChange {
            current: form.current,
            new: form.new,
        }),
    )
    .await;
    match changed {
        Ok(_) => {
            let mut response = see_other("/login?changed=1");
            response.headers_mut().insert(
                header::SET_COOKIE,
                crate::api::accounts::session_cookie(&state, "", 0),
            );
            Ok(response)
        }
        Err(error)
            if matches!(
                error.status(),
                StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
            ) =>
        {
            let mut page = page_of(&state, &signed).await?;
            page.password_message = Some(message_of(&error));
            Ok(with_status(render(&page), error.status()))
        }
        Err(error) => Err(error.into()),
    }
}

/// The token form's fields (a checkbox per scope).
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    csrf: String,
    name: String,
    #[serde(default)]
    read: Option<String>,
    #[serde(default)]
    write: Option<String>,
    #[serde(default)]
    scan: Option<String>,
    #[serde(default)]
    admin: Option<String>,
    days: i64,
}

/// Makes a token and shows its secret once.
pub async fn make_token(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    let scopes: Vec<String> = [
        ("read", &form.read),
        ("write", &form.write),
        ("scan", &form.scan),
        ("admin", &form.admin),
    ]
    .into_iter()
    .filter(|(_, ticked)| ticked.is_some())
    .map(|(scope, _)| scope.to_owned())
    .collect();
    if form.name.trim().is_empty() || scopes.is_empty() {
        let mut page = page_of(&state, &signed).await?;
        page.token_message = Some("Give the token a name and at least one scope.".to_owned());
        page.token_name = form.name;
        return Ok(with_status(render(&page), StatusCode::UNPROCESSABLE_ENTITY));
    }
    let made = create_token(
        State(state.clone()),
        signed.caller.clone(),
        Json(TokenRequest {
            name: form.name.trim().to_owned(),
            scopes,
            expires_in_days: form.days,
        }),
    )
    .await;
    match made {
        Ok((_, created)) => {
            let mut page = page_of(&state, &signed).await?;
            page.created = Some((created.0.token.name, created.0.secret));
            Ok(with_status(render(&page), StatusCode::CREATED))
        }
        Err(error)
            if matches!(
                error.status(),
                StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
            ) =>
        {
            let mut page = page_of(&state, &signed).await?;
            page.token_message = Some(message_of(&error));
            page.token_name = form.name;
            Ok(with_status(render(&page), error.status()))
        }
        Err(error) => Err(error.into()),
    }
}

/// The revoke button's field.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    csrf: String,
}

/// Revokes one of the person's tokens.
pub async fn revoke(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageError> {
    super::check_csrf(&signed.caller, &form.csrf)?;
    revoke_token(State(state), signed.caller.clone(), Path(id)).await?;
    Ok(see_other("/account#tokens"))
}
