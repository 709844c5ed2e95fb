//! Getting in: the one-time setup of the first admin, login with the throttle and the
//! second factor, the session, TOTP enrolment, password changes and API tokens.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use provisor_store::{Actor, NewUser, Scope, User, now_ms};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{
    Caller, ClientAddress, PendingCaller, SESSION_COOKIE, Via, needs_second_factor, same_secret,
};
use crate::extract::Json;
use crate::{ApiError, AppState, SETUP_SETTING, totp};

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// The id.
    pub id: String,
    /// The login name.
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// Whether the user administers the server.
    pub server_admin: bool,
    /// Whether a TOTP second factor is enrolled.
    pub totp_enrolled: bool,
    /// The user's organisations and roles.
    pub memberships: Vec<MembershipView>,
}

/// A role in an organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    /// The organisation.
    pub organisation_id: String,
    /// admin, editor, assessor, reviewer or viewer.
    pub role: String,
}

impl From<&User> for UserView {
    fn from(user: &User) -> UserView {
        UserView {
            id: user.id.clone(),
            login: user.login.clone(),
            display_name: user.display_name.clone(),
            server_admin: user.server_admin,
            totp_enrolled: user.totp_enrolled,
            memberships: user
                .memberships
                .iter()
                .map(|(organisation, role)| MembershipView {
                    organisation_id: organisation.clone(),
                    role: role.as_str().to_owned(),
                })
                .collect(),
        }
    }
}

/// The first admin, created with the one-time setup token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token of the setup link the server printed at its first start.
    pub token: String,
    /// The admin's login name.
    pub login: String,
    /// The name shown.
    pub display_name: String,
    /// At least 12 characters.
    pub password: String,
}

/// Creates the first admin with the one-time token of the setup link; refused once any
/// user exists.
#[utoipa::path(post, path = "/api/v1/setup", tag = "accounts", request_body = SetupRequest, responses(
    (status = 201, description = "the admin was created; log in next", body = UserView),
    (status = 403, description = "wrong token, or setup is done", body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn setup(
    State(state): State<AppState>,
    Json(request): Json<SetupRequest>,
) -> Result<(StatusCode, axum::Json<UserView>), ApiError> {
    let store = state.store();
    let expected = store.setting(SETUP_SETTING).await?;
    let given = provisor_store::sha256_hex(request.token.trim().as_bytes());
    match expected {
        Some(expected) if same_secret(&expected, &given) && store.user_count().await? == 0 => {}
        _ => {
            return Err(ApiError::forbidden(
                "the setup token is wrong or was used: setup is done once, with the link the server printed at its first start (or `provisor admin create`)",
            ));
        }
    }
    let user = store
        .create_user(
            &Actor::Server,
            &NewUser {
                login: request.login,
                display_name: request.display_name,
                password: request.password,
                server_admin: true,
            },
        )
        .await?;
    store.set_setting(SETUP_SETTING, "used").await?;
    Ok((StatusCode::CREATED, axum::Json(UserView::from(&user))))
}

/// A login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The login name.
    pub login: String,
    /// The password.
    pub password: String,
    /// The authenticator app's code, when the account has one (it may also be given
    /// afterwards).
    #[serde(default)]
    pub totp: Option<String>,
}

/// The session as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The user.
    pub user: UserView,
    /// The token every state-changing request of the session carries in X-CSRF-Token.
    pub csrf_token: String,
    /// `done`, `code` (give the authenticator's code next) or `enrol` (enrol an
    /// authenticator app next).
    pub second_factor: String,
    /// When the session ends at the latest (ms since the epoch).
    pub expires_at: i64,
}

fn second_factor_state(user: &User, passed: bool) -> &'static str {
    if passed {
        "done"
    } else if user.totp_enrolled {
        "code"
    } else {
        "enrol"
    }
}

pub(crate) fn session_cookie(state: &AppState, secret: &str, max_age_seconds: i64) -> HeaderValue {
    let secure = if state.config().secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}"
    ))
    .expect("a hex secret makes a valid header")
}

/// A session just made by a login.
pub(crate) struct LoggedIn {
    /// Who.
    pub user: provisor_store::User,
    /// The cookie's secret.
    pub secret: String,
    /// The session.
    pub session: provisor_store::Session,
    /// Whether the second factor was given (or is not needed).
    pub passed: bool,
}

/// Checks a login and password (and the authenticator code, when given) under the
/// throttle, and makes a session: what `POST /api/v1/session` and the login page share.
pub(crate) async fn log_in(
    state: &AppState,
    client: &ClientAddress,
    login: &str,
    password: String,
    code: Option<&str>,
) -> Result<LoggedIn, ApiError> {
    let store = state.store();
    let login = login.trim().to_lowercase();
    let subjects = vec![
        format!("account:{login}"),
        format!("client:{}", client.label()),
    ];
    if let Some(block) = store.login_blocked(&subjects).await? {
        return Err(ApiError::throttled(block.retry_after_ms));
    }
    let user = store.user_by_login(&login).await?;
    let (user, matches) = match user {
        Some(user) => {
            let candidate = user.clone();
            let matches =
                tokio::task::spawn_blocking(move || candidate.password_matches(&password))
                    .await
                    .map_err(ApiError::internal)?;
            (Some(user), matches)
        }
        None => {
            // The same work as a real check, so timing does not tell which logins exist.
            tokio::task::spawn_blocking(move || {
                provisor_store::verify_password(provisor_store::decoy_hash(), &password)
            })
            .await
            .map_err(ApiError::internal)?;
            (None, false)
        }
    };
    let user = match user {
        Some(user) if matches && !user.disabled => user,
        _ => {
            let wait = store.login_failed(&subjects).await?;
            tracing::warn!(login = %login, client = %client.label(), "failed login");
            if wait > 0 {
                return Err(ApiError::throttled(wait));
            }
            return Err(ApiError::unauthenticated("wrong login or password"));
        }
    };
    let required = needs_second_factor(state, &user).await?;
    let mut passed = !required && !user.totp_enrolled;
    if let (Some(code), Some((secret, _))) = (code, user.totp()) {
        match totp::matching_step(secret, code, now_ms()) {
            Some(step) if store.use_totp_step(&user.id, step).await? => passed = true,
            _ => {
                store.login_failed(&subjects).await?;
                return Err(ApiError::unauthenticated("wrong authenticator code"));
            }
        }
    }
    store.login_succeeded(&subjects[0]).await?;
    let (secret, session) = store
        .create_session(&user.id, &client.label(), passed)
        .await?;
    Ok(LoggedIn {
        user,
        secret,
        session,
        passed,
    })
}

/// Logs in: sets the session cookie. After three failures for an account or from an
/// address, each further failure doubles the wait (answered 429 with Retry-After).
#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = LoginRequest, responses(
    (status = 200, description = "logged in (the cookie is set); second_factor says what is still owed", body = SessionView),
    (status = 401, description = "wrong login or password", body = crate::Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many failures: wait", body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    Json(request): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let LoggedIn {
        user,
        secret,
        session,
        passed,
    } = log_in(
        &state,
        &client,
        &request.login,
        request.password,
        request.totp.as_deref(),
    )
    .await?;
    let view = SessionView {
        user: UserView::from(&user),
        csrf_token: session.csrf_token,
        second_factor: second_factor_state(&user, passed).to_owned(),
        expires_at: session.expires_at,
    };
    let max_age = (session.expires_at - now_ms()) / 1000;
    let mut response = axum::Json(view).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, &secret, max_age));
    Ok(response)
}

/// The current session.
#[utoipa::path(get, path = "/api/v1/session", tag = "accounts", responses(
    (status = 200, body = SessionView),
    (status = 401, body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn current_session(
    PendingCaller(caller): PendingCaller,
) -> Result<axum::Json<SessionView>, ApiError> {
    let Via::Session { session, .. } = &caller.via else {
        return Err(ApiError::bad_request("an API token has no session"));
    };
    Ok(axum::Json(SessionView {
        user: UserView::from(&caller.user),
        csrf_token: session.csrf_token.clone(),
        second_factor: second_factor_state(&caller.user, session.second_factor).to_owned(),
        expires_at: session.expires_at,
    }))
}

/// Logs out: the session ends on the server and the cookie is cleared.
#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    PendingCaller(caller): PendingCaller,
) -> Result<Response, ApiError> {
    if let Via::Session { secret, .. } = &caller.via {
        state.store().end_session(secret).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(response)
}

/// An authenticator code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The six digits the authenticator app shows.
    pub code: String,
}

/// Gives the second factor of a session.
#[utoipa::path(post, path = "/api/v1/session/totp", tag = "accounts", request_body = CodeRequest, responses(
    (status = 204, description = "the session is complete"),
    (status = 401, description = "wrong code", body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn give_totp(
    State(state): State<AppState>,
    client: ClientAddress,
    PendingCaller(caller): PendingCaller,
    Json(request): Json<CodeRequest>,
) -> Result<StatusCode, ApiError> {
    give_code(&state, &client, &caller, &request.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the authenticator code a session owes, under the login throttle.
pub(crate) async fn give_code(
    state: &AppState,
    client: &ClientAddress,
    caller: &Caller,
    code: &str,
) -> Result<(), ApiError> {
    let Via::Session { secret, .. } = &caller.via else {
        return Err(ApiError::bad_request("an API token has no session"));
    };
    let store = state.store();
    let subjects = vec![
        format!("account:{}", caller.user.login),
        format!("client:{}", client.label()),
    ];
    if let Some(block) = store.login_blocked(&subjects).await? {
        return Err(ApiError::throttled(block.retry_after_ms));
    }
    let Some((totp_secret, _)) = caller.user.totp() else {
        return Err(ApiError::conflict(
            "no authenticator is enrolled: enrol one (POST /api/v1/me/totp)",
        ));
    };
    match totp::matching_step(totp_secret, code, now_ms()) {
        Some(step) if store.use_totp_step(&caller.user.id, step).await? => {
            store.pass_second_factor(secret).await?;
            Ok(())
        }
        _ => {
            let wait = store.login_failed(&subjects).await?;
            if wait > 0 {
                return Err(ApiError::throttled(wait));
            }
            Err(ApiError::unauthenticated(
                "wrong or already used authenticator code",
            ))
        }
    }
}

/// A new authenticator secret, not yet enrolled.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSecret {
    /// The secret, base32.
    pub secret: String,
    /// The `otpauth://` URI for the authenticator app.
    pub uri: String,
}

/// Makes a new authenticator secret to enrol (nothing changes until it is confirmed).
/// A session that owes the code of an enrolled authenticator cannot replace it.
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "accounts", responses((status = 200, body = TotpSecret)))]
pub async fn start_totp(
    PendingCaller(caller): PendingCaller,
) -> Result<axum::Json<TotpSecret>, ApiError> {
    new_enrolment(&caller).map(axum::Json)
}

/// A new secret for the caller to enrol.
pub(crate) fn new_enrolment(caller: &Caller) -> Result<TotpSecret, ApiError> {
    guard_enrolment(caller)?;
    let secret = totp::new_secret();
    Ok(TotpSecret {
        uri: totp::otpauth_uri("provisor", &caller.user.login, &secret),
        secret,
    })
}

fn guard_enrolment(caller: &Caller) -> Result<(), ApiError> {
    match &caller.via {
        Via::Session { session, .. } if session.second_factor || !caller.user.totp_enrolled => {
            Ok(())
        }
        Via::Session { .. } => Err(ApiError::second_factor(
            "give the code of your enrolled authenticator first (POST /api/v1/session/totp)",
        )),
        Via::Token(_) => Err(ApiError::forbidden(
            "enrol an authenticator in a session, not with a token",
        )),
    }
}

/// A secret to enrol and a code it gives.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotp {
    /// The secret from POST /api/v1/me/totp.
    pub secret: String,
    /// A code the authenticator app shows for it.
    pub code: String,
}

/// Enrols an authenticator: the code proves the app holds the secret. The session's
/// second factor counts as given.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "accounts", request_body = ConfirmTotp, responses(
    (status = 204, description = "enrolled"),
    (status = 422, description = "the code does not match", body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    PendingCaller(caller): PendingCaller,
    Json(request): Json<ConfirmTotp>,
) -> Result<StatusCode, ApiError> {
    enrol(&state, &caller, &request.secret, &request.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enrols the authenticator holding `secret`, proven by `code`; the session's second
/// factor counts as given.
pub(crate) async fn enrol(
    state: &AppState,
    caller: &Caller,
    secret: &str,
    code: &str,
) -> Result<(), ApiError> {
    guard_enrolment(caller)?;
    let secret = secret.trim().to_uppercase();
    if totp::from_base32(&secret).is_none_or(|bytes| bytes.len() < 16) {
        return Err(ApiError::invalid(
            "the secret is not one POST /api/v1/me/totp made",
            Vec::new(),
        ));
    }
    let Some(step) = totp::matching_step(&secret, code, now_ms()) else {
        return Err(ApiError::invalid(
            "the code does not match the secret: check the authenticator app's clock and try the current code",
            Vec::new(),
        ));
    };
    let store = state.store();
    store
        .set_totp(&caller.actor(), &caller.user.id, Some(&secret))
        .await?;
    store.use_totp_step(&caller.user.id, step).await?;
    if let Via::Session { secret, .. } = &caller.via {
        store.pass_second_factor(secret).await?;
    }
    Ok(())
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    pub current: String,
    /// The new one (at least 12 characters).
    pub new: String,
}

/// Changes the caller's password; every session of the user ends (log in again).
#[utoipa::path(put, path = "/api/v1/me/password", tag = "accounts", request_body = PasswordChange, responses((status = 204)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    if !matches!(caller.via, Via::Session { .. }) {
        return Err(ApiError::forbidden(
            "change a password in a session, not with a token",
        ));
    }
    let user = caller.user.clone();
    let current = request.current;
    let matches = tokio::task::spawn_blocking(move || user.password_matches(&current))
        .await
        .map_err(ApiError::internal)?;
    if !matches {
        return Err(ApiError::forbidden("the current password is wrong"));
    }
    state
        .store()
        .set_password(&caller.actor(), &caller.user.id, &request.new)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A token as the API shows it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// read, write, scan, admin.
    pub scopes: Vec<String>,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// When it was last used.
    pub last_used_at: Option<i64>,
}

impl From<&provisor_store::ApiToken> for TokenView {
    fn from(token: &provisor_store::ApiToken) -> TokenView {
        TokenView {
            id: token.id.clone(),
            name: token.name.clone(),
            scopes: token
                .scopes
                .iter()
                .map(|scope| scope.as_str().to_owned())
                .collect(),
            created_at: token.created_at,
            expires_at: token.expires_at,
            revoked_at: token.revoked_at,
            last_used_at: token.last_used_at,
        }
    }
}

/// The caller's tokens.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<TokenView>>, ApiError> {
    let tokens = state.store().tokens(&caller.user.id).await?;
    Ok(axum::Json(tokens.iter().map(TokenView::from).collect()))
}

/// A token to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What it is for (`ci`).
    pub name: String,
    /// read, write, scan, admin (admin only for server admins).
    pub scopes: Vec<String>,
    /// Days until it expires (1 to 366).
    pub expires_in_days: i64,
}

/// A token just made, with its secret (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The record.
    pub token: TokenView,
    /// The secret: put it in PROVISOR_TOKEN or a token file.
    pub secret: String,
}

/// Makes an API token for the caller (in a session only: a token cannot make tokens).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = TokenRequest, responses(
    (status = 201, body = CreatedToken),
    (status = 422, body = crate::Problem, content_type = "application/problem+json")
))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<TokenRequest>,
) -> Result<(StatusCode, axum::Json<CreatedToken>), ApiError> {
    if !matches!(caller.via, Via::Session { .. }) {
        return Err(ApiError::forbidden(
            "make tokens in a session: a token cannot make tokens",
        ));
    }
    let mut scopes = Vec::new();
    for (index, name) in request.scopes.iter().enumerate() {
        let scope = Scope::parse(name).ok_or_else(|| {
            ApiError::invalid(
                "unknown scope",
                vec![crate::ProblemPlace {
                    location: format!("/scopes/{index}"),
                    message: format!("\"{name}\" is not a scope: read, write, scan, admin or work"),
                }],
            )
        })?;
        if matches!(scope, Scope::Admin | Scope::Work) && !caller.user.server_admin {
            return Err(ApiError::forbidden(format!(
                "only a server admin may make a token with the {} scope",
                scope.as_str()
            )));
        }
        scopes.push(scope);
    }
    if !(1..=366).contains(&request.expires_in_days) {
        return Err(ApiError::invalid(
            "a token expires after 1 to 366 days",
            vec![crate::ProblemPlace {
                location: "/expires_in_days".into(),
                message: format!("{} is out of range", request.expires_in_days),
            }],
        ));
    }
    let made = state
        .store()
        .create_token(
            &caller.actor(),
            &caller.user.id,
            &request.name,
            &scopes,
            now_ms() + request.expires_in_days * 24 * 3600 * 1000,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken {
            token: TokenView::from(&made.token),
            secret: made.secret,
        }),
    ))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", params(("id" = String, Path)), responses((status = 204)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .store()
        .revoke_token(&caller.actor(), &caller.user.id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
