//! Who is calling, and what they may do. A request is authenticated by an API token
//! (`Authorization: Bearer pvt_…`) or by the session cookie; a session's
//! state-changing requests must also carry its CSRF token, and a session that still
//! owes its second factor can only give it (or enrol one). Roles come from the
//! caller's memberships: a manufacturer's members act on its products, a lab's members
//! on the assessments it is assigned, a server admin on everything.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, header};
use provisor_store::{Actor, ApiToken, AssessmentRecord, Role, Scope, Session, User};

use crate::{ApiError, AppState};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "provisor_session";
/// The header a session's state-changing requests carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How a caller authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// A session cookie.
    Session {
        /// The cookie's secret.
        secret: String,
        /// The session.
        session: Session,
    },
    /// An API token.
    Token(ApiToken),
}

/// An authenticated caller who has given every factor required.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// How.
    pub via: Via,
}

/// An authenticated caller who may still owe the second factor (for the endpoints that
/// take it).
#[derive(Debug, Clone)]
pub struct PendingCaller(pub Caller);

/// The client's address: the peer's, or when the peer is a trusted proxy, the last
/// address in `X-Forwarded-For` that is not one.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// The address as text (`unknown` without one).
    pub fn label(&self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(client_address(parts, state))
    }
}

fn client_address(parts: &Parts, state: &AppState) -> ClientAddress {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let trusted = |ip: IpAddr| {
        state
            .config()
            .trusted_proxies
            .iter()
            .any(|range| range.contains(ip))
    };
    let Some(peer) = peer else {
        return ClientAddress(None);
    };
    if !trusted(peer) {
        return ClientAddress(Some(peer));
    }
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    ClientAddress(Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted(*ip))
            .unwrap_or(peer),
    ))
}

/// The session cookie's value in a request.
pub fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Compares two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |difference, (x, y)| difference | (x ^ y))
            == 0
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let store = state.store();
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthenticated("the Authorization header is not text"))?;
        let secret = value
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::unauthenticated("use Authorization: Bearer <token>"))?
            .trim();
        let token = store.token(secret).await?.ok_or_else(|| {
            ApiError::unauthenticated(
                "the API token is unknown, expired or revoked: make a new one (POST /api/v1/tokens)",
            )
        })?;
        let user = store.user(&token.user_id).await?;
        return Ok(Caller {
            user,
            via: Via::Token(token),
        });
    }
    let secret = session_cookie(parts).ok_or_else(|| {
        ApiError::unauthenticated(
            "not signed in: log in (POST /api/v1/session) or send an API token",
        )
    })?;
    let session = store.session(&secret).await?.ok_or_else(|| {
        ApiError::unauthenticated("the session has expired or ended: log in again")
    })?;
    if !safe_method(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if !same_secret(sent, &session.csrf_token) {
            return Err(ApiError::csrf());
        }
    }
    let user = store.user(&session.user_id).await?;
    if user.disabled {
        return Err(ApiError::unauthenticated("the account is disabled"));
    }
    Ok(Caller {
        user,
        via: Via::Session { secret, session },
    })
}

/// The caller of a web page: the session cookie only (pages are not for API tokens),
/// `None` when there is no live session. A page's form carries the CSRF token as a
/// field, which its handler checks; this does not look for the header.
pub async fn page_session(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let Some(secret) = session_cookie(parts) else {
        return Ok(None);
    };
    let store = state.store();
    let Some(session) = store.session(&secret).await? else {
        return Ok(None);
    };
    let user = store.user(&session.user_id).await?;
    if user.disabled {
        return Ok(None);
    }
    Ok(Some(Caller {
        user,
        via: Via::Session { secret, session },
    }))
}

/// A worker on another machine (`provisor worker --server URL`): an API token with the
/// work scope, of a server admin (a worker reads every organisation's images). Sessions
/// are refused: a worker has no browser.
#[derive(Debug, Clone)]
pub struct WorkerCaller(pub Caller);

impl FromRequestParts<AppState> for WorkerCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Err(ApiError::unauthenticated(
                "a worker sends an API token with the work scope (Authorization: Bearer pvt_…)",
            ));
        }
        let caller = authenticate(parts, state).await?;
        let Via::Token(token) = &caller.via else {
            return Err(ApiError::unauthenticated(
                "a worker sends an API token with the work scope",
            ));
        };
        if !token.scopes.contains(&Scope::Work) {
            return Err(ApiError::forbidden(
                "the API token lacks the work scope a worker needs",
            ));
        }
        if !caller.user.server_admin || caller.user.disabled {
            return Err(ApiError::forbidden(
                "a worker's token must be a server admin's",
            ));
        }
        Ok(WorkerCaller(caller))
    }
}

impl FromRequestParts<AppState> for PendingCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state).await.map(PendingCaller)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = authenticate(parts, state).await?;
        if let Via::Session { session, .. } = &caller.via
            && !session.second_factor
        {
            return Err(ApiError::second_factor(if caller.user.totp_enrolled {
                "give the code of your authenticator app first (POST /api/v1/session/totp)"
            } else {
                "this account must use a second factor: enrol an authenticator app first (POST /api/v1/me/totp)"
            }));
        }
        // A token acts only within its scopes; read is implied for safe methods only
        // when the token has it.
        if let Via::Token(token) = &caller.via {
            let needed = if safe_method(&parts.method) {
                Scope::Read
            } else {
                Scope::Write
            };
            if !token.scopes.contains(&needed) && !token.scopes.contains(&Scope::Admin) {
                return Err(ApiError::forbidden(format!(
                    "the API token lacks the {} scope this request needs",
                    needed.as_str()
                )));
            }
        }
        Ok(caller)
    }
}

/// Whether a user must give a second factor: server admins, admins of an organisation,
/// and members of an organisation that requires it.
pub async fn needs_second_factor(state: &AppState, user: &User) -> Result<bool, ApiError> {
    if user.server_admin
        || user
            .memberships
            .iter()
            .any(|(_, role)| *role == Role::Admin)
    {
        return Ok(true);
    }
    for (organisation, _) in &user.memberships {
        if state.store().organisation(organisation).await?.require_totp {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Caller {
    /// The audit log's actor.
    pub fn actor(&self) -> Actor {
        match &self.via {
            Via::Session { .. } => Actor::User(self.user.id.clone()),
            Via::Token(token) => Actor::Token {
                user: self.user.id.clone(),
                token: token.id.clone(),
            },
        }
    }

    /// Refuses a token without a scope (sessions have every scope their user has).
    pub fn require_scope(&self, scope: Scope) -> Result<(), ApiError> {
        match &self.via {
            Via::Token(token)
                if !token.scopes.contains(&scope) && !token.scopes.contains(&Scope::Admin) =>
            {
                Err(ApiError::forbidden(format!(
                    "the API token lacks the {} scope this request needs",
                    scope.as_str()
                )))
            }
            _ => Ok(()),
        }
    }

    /// Refuses everyone but server admins (and their tokens with the admin scope).
    pub fn require_server_admin(&self) -> Result<(), ApiError> {
        if !self.user.server_admin {
            return Err(ApiError::forbidden("only a server admin may do this"));
        }
        self.require_scope(Scope::Admin)
    }

    /// The caller's role in an organisation (a server admin is an admin everywhere).
    pub fn role_in(&self, organisation: &str) -> Option<Role> {
        if self.user.server_admin {
            return Some(Role::Admin);
        }
        self.user.role_in(organisation)
    }

    /// Refuses unless the caller holds one of the roles in the organisation. A caller
    /// with no role at all is told the thing was not found, so ids do not leak.
    pub fn require_role(
        &self,
        organisation: &str,
        roles: &[Role],
        what: &str,
    ) -> Result<Role, ApiError> {
        match self.role_in(organisation) {
            Some(role) if roles.contains(&role) => Ok(role),
            Some(role) => Err(ApiError::forbidden(format!(
                "your role ({}) does not allow this; it needs {}",
                role.as_str(),
                roles
                    .iter()
                    .map(|role| role.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
            None => Err(ApiError::not_found(format!("{what} not found"))),
        }
    }

    /// The caller's role on an assessment: through the manufacturer or the assigned
    /// lab, the more powerful of the two.
    pub fn assessment_role(&self, record: &AssessmentRecord) -> Option<Role> {
        let manufacturer = self.role_in(&record.organisation_id);
        let lab = record.lab_id.as_deref().and_then(|lab| self.role_in(lab));
        manufacturer.into_iter().chain(lab).min()
    }

    /// Whether the caller may change an assessment (one of [`WRITERS`] in it).
    pub fn may_write(&self, record: &AssessmentRecord) -> bool {
        self.assessment_role(record)
            .is_some_and(|role| WRITERS.contains(&role))
    }

    /// Refuses unless the caller holds one of the roles on the assessment (not found
    /// when it has none).
    pub fn require_assessment_role(
        &self,
        record: &AssessmentRecord,
        roles: &[Role],
    ) -> Result<Role, ApiError> {
        match self.assessment_role(record) {
            Some(role) if roles.contains(&role) => Ok(role),
            Some(role) => Err(ApiError::forbidden(format!(
                "your role ({}) does not allow this on assessment {}",
                role.as_str(),
                record.id
            ))),
            None => Err(ApiError::not_found(format!(
                "assessment {} not found",
                record.id
            ))),
        }
    }
}

/// Roles that may read.
pub const READERS: &[Role] = &[
    Role::Admin,
    Role::Editor,
    Role::Assessor,
    Role::Reviewer,
    Role::Viewer,
];
/// Roles that may change products, releases and assessments.
pub const WRITERS: &[Role] = &[Role::Admin, Role::Editor, Role::Assessor];
/// Roles that may issue a report: those who work on an assessment or review it, not
/// those who only read.
pub const ISSUERS: &[Role] = &[Role::Admin, Role::Editor, Role::Assessor, Role::Reviewer];
/// Roles that manage an organisation.
pub const ADMINS: &[Role] = &[Role::Admin];

/// Roles that may decide about a release's vulnerabilities (the manufacturer's).
pub const DECIDERS: &[Role] = &[Role::Admin, Role::Editor];
