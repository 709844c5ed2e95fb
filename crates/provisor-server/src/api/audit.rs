//! The audit log through the API: server admins read all of it and check the chain;
//! an organisation's admins read its entries.

use axum::extract::State;
use provisor_store::{AuditEntry, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::extract::Query;
use crate::{ApiError, AppState};

/// A page of the log.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Entries after this number (0 from the start).
    #[serde(default)]
    pub after: i64,
    /// At most this many (1 to 1000; 100 when absent).
    pub limit: Option<i64>,
    /// Only this organisation's entries (required of an organisation's admin).
    pub organisation: Option<String>,
}

/// An entry of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Its number.
    pub seq: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub subject: String,
    /// The organisation.
    pub organisation_id: Option<String>,
    /// The record before.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The record after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl From<AuditEntry> for AuditView {
    fn from(entry: AuditEntry) -> AuditView {
        AuditView {
            seq: entry.seq,
            at: entry.at,
            actor: entry.actor,
            action: entry.action,
            subject: entry.subject,
            organisation_id: entry.organisation,
            before: entry.before,
            after: entry.after,
            prev_hash: entry.prev_hash,
            hash: entry.hash,
        }
    }
}

/// Entries of the audit log, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Vec<AuditView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Result<axum::Json<Vec<AuditView>>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    match &query.organisation {
        Some(organisation) => {
            caller.require_role(
                organisation,
                &[Role::Admin],
                &format!("organisation {organisation}"),
            )?;
        }
        None => caller.require_server_admin()?,
    }
    let entries = state
        .store()
        .audit_entries(query.after, limit, query.organisation.as_deref())
        .await?;
    Ok(axum::Json(
        entries.into_iter().map(AuditView::from).collect(),
    ))
}

/// The outcome of checking the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    /// Whether the log holds.
    pub holds: bool,
    /// Entries checked.
    pub entries: i64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Issued reports whose recorded head was checked.
    pub reports: usize,
    /// What is wrong.
    pub problems: Vec<String>,
    /// The server's public key (hex) the checkpoints were checked against.
    pub public_key: String,
}

/// Checks the whole chain, the signed checkpoints and the heads issued reports record
/// (server admins).
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = VerificationView)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<VerificationView>, ApiError> {
    caller.require_server_admin()?;
    let verification = state.store().verify_audit(state.key()).await?;
    Ok(axum::Json(VerificationView {
        holds: verification.holds(),
        entries: verification.entries,
        checkpoints: verification.checkpoints,
        reports: verification.reports,
        problems: verification.problems,
        public_key: state.key().public_hex(),
    }))
}
