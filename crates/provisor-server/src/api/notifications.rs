//! Notifications: an organisation's admins choose which of its events go where (a
//! webhook on the server's allow-list, signed with a secret shown once; or a mailbox's
//! digest), and see each rule's deliveries and the organisation's events.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use provisor_store::{DeliveryRecord, Event, NewRule, NotificationRule};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{ADMINS, Caller};
use crate::extract::{Json, Query};
use crate::{ApiError, AppState, ProblemPlace};

/// A rule as the API shows it (its secret never again).
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// The webhook's URL or the mailbox.
    pub target: String,
    /// The event kinds it sends (all when empty).
    pub kinds: Vec<String>,
    /// The least severity of vulnerability events it sends.
    pub min_severity: Option<String>,
    /// Only events about this product.
    pub product_id: Option<String>,
    /// The webhook's signing secret: in the answer that made the rule only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl RuleView {
    fn of(rule: &NotificationRule, secret: Option<String>) -> RuleView {
        RuleView {
            id: rule.id.clone(),
            name: rule.name.clone(),
            channel: rule.channel.clone(),
            target: rule.target.clone(),
            kinds: rule.kinds.clone(),
            min_severity: rule.min_severity.clone(),
            product_id: rule.product_id.clone(),
            secret,
        }
    }
}

/// A rule to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleRequest {
    /// Its name, unique in the organisation.
    pub name: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// An http(s) URL on the server's allow-list, or a mailbox.
    pub target: String,
    /// `vulnerability.found`, `vulnerability.retracted`, `vulnerability.exploited`,
    /// `support.ending`; all when left out.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// `low`, `medium`, `high` or `critical`.
    #[serde(default)]
    pub min_severity: Option<String>,
    /// Only events about this product.
    #[serde(default)]
    pub product_id: Option<String>,
}

fn invalid(location: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(
        "the notification rule is not acceptable",
        vec![ProblemPlace {
            location: location.into(),
            message: message.into(),
        }],
    )
}

/// An organisation's rules (its admins).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/notification-rules", tag = "notifications",
    params(("id" = String, Path)), responses((status = 200, body = Vec<RuleView>)))]
pub async fn list_rules(
    State(state): State<AppState>,
    caller: Caller,
    Path(organisation): Path<String>,
) -> Result<axum::Json<Vec<RuleView>>, ApiError> {
    caller.require_role(
        &organisation,
        ADMINS,
        &format!("organisation {organisation}"),
    )?;
    let rules = state.store().rules(&organisation).await?;
    Ok(axum::Json(
        rules.iter().map(|rule| RuleView::of(rule, None)).collect(),
    ))
}

/// Makes a rule (its organisation's admins); a webhook's signing secret is in this
/// answer only.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/notification-rules", tag = "notifications",
    params(("id" = String, Path)), request_body = RuleRequest, responses(
        (status = 201, body = RuleView),
        (status = 409, description = "the name is taken", body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn create_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(organisation): Path<String>,
    Json(request): Json<RuleRequest>,
) -> Result<(StatusCode, axum::Json<RuleView>), ApiError> {
    caller.require_role(
        &organisation,
        ADMINS,
        &format!("organisation {organisation}"),
    )?;
    if request.name.trim().is_empty() || request.name.len() > 100 {
        return Err(invalid("/name", "give a name of 1 to 100 characters"));
    }
    match request.channel.as_str() {
        "webhook" => crate::monitor::check_url(&state.config().fetch_allow, &request.target)
            .map_err(|message| invalid("/target", message))?,
        "email" => {
            let plausible = request.target.len() <= 254
                && request
                    .target
                    .split_once('@')
                    .is_some_and(|(local, domain)| {
                        !local.is_empty()
                            && domain.contains('.')
                            && !request.target.contains(char::is_whitespace)
                    });
            if !plausible {
                return Err(invalid("/target", "give a mailbox (name@example.org)"));
            }
        }
        _ => return Err(invalid("/channel", "use webhook or email")),
    }
    if let Some(product) = &request.product_id {
        let found = state.store().product(product).await;
        if found.map_or(true, |found| found.organisation_id != organisation) {
            return Err(invalid("/product_id", "not a product of this organisation"));
        }
    }
    let (rule, secret) = state
        .store()
        .create_rule(
            &caller.actor(),
            &organisation,
            &NewRule {
                name: request.name,
                channel: request.channel,
                target: request.target,
                kinds: request.kinds,
                min_severity: request.min_severity,
                product_id: request.product_id,
            },
        )
        .await
        .map_err(|error| match error {
            provisor_store::StoreError::Invalid(message) => invalid("", message),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, axum::Json(RuleView::of(&rule, secret))))
}

async fn rule_of_admin(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<NotificationRule, ApiError> {
    let rule = state.store().rule(id).await?;
    caller.require_role(
        &rule.organisation_id,
        ADMINS,
        &format!("notification rule {id}"),
    )?;
    Ok(rule)
}

/// Removes a rule; what it had pending is dropped, its history kept.
#[utoipa::path(delete, path = "/api/v1/notification-rules/{id}", tag = "notifications",
    params(("id" = String, Path)), responses((status = 204)))]
pub async fn remove_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    rule_of_admin(&state, &caller, &id).await?;
    state.store().disable_rule(&caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A delivery of a rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Its id (the receiver's idempotency key).
    pub id: String,
    /// The event.
    pub event: String,
    /// The event's kind.
    pub kind: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Times tried.
    pub attempts: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was delivered (ms since the epoch).
    pub delivered_at: Option<i64>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(record: DeliveryRecord) -> DeliveryView {
        DeliveryView {
            id: record.id,
            event: record.event_id,
            kind: record.kind,
            state: record.state,
            attempts: record.attempts,
            last_error: record.last_error,
            delivered_at: record.delivered_at,
        }
    }
}

/// How many to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Limit {
    /// At most this many (default 50, at most 500).
    pub limit: Option<i64>,
}

/// A rule's newest deliveries.
#[utoipa::path(get, path = "/api/v1/notification-rules/{id}/deliveries", tag = "notifications",
    params(("id" = String, Path), Limit), responses((status = 200, body = Vec<DeliveryView>)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<axum::Json<Vec<DeliveryView>>, ApiError> {
    rule_of_admin(&state, &caller, &id).await?;
    let deliveries = state
        .store()
        .deliveries_of_rule(&id, limit.limit.unwrap_or(50).clamp(1, 500))
        .await?;
    Ok(axum::Json(
        deliveries.into_iter().map(DeliveryView::from).collect(),
    ))
}

/// An event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Its id.
    pub id: String,
    /// What happened.
    pub kind: String,
    /// The vulnerability's severity.
    pub severity: Option<String>,
    /// What it is about.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When (ms since the epoch).
    pub created_at: i64,
}

impl From<Event> for EventView {
    fn from(event: Event) -> EventView {
        EventView {
            id: event.id,
            kind: event.kind,
            severity: event.severity,
            data: event.payload,
            created_at: event.created_at,
        }
    }
}

/// An organisation's newest events (any of its members).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/events", tag = "notifications",
    params(("id" = String, Path), Limit), responses((status = 200, body = Vec<EventView>)))]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(organisation): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<axum::Json<Vec<EventView>>, ApiError> {
    if caller.role_in(&organisation).is_none() {
        return Err(ApiError::not_found(format!(
            "organisation {organisation} not found"
        )));
    }
    let events = state
        .store()
        .events(&organisation, limit.limit.unwrap_or(50).clamp(1, 500))
        .await?;
    Ok(axum::Json(
        events.into_iter().map(EventView::from).collect(),
    ))
}

/// Sends a delivery again now (a dead one, once its receiver is back; or a pending one
/// without waiting for its delay), as its rule's organisation's admin.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "notifications",
    params(("id" = String, Path)), responses(
        (status = 202),
        (status = 404, description = "no such delivery, or it was delivered", body = crate::Problem, content_type = "application/problem+json")
    ))]
pub async fn retry_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let rule = state.store().rule_of_delivery(&id).await?;
    caller.require_role(&rule.organisation_id, ADMINS, &format!("delivery {id}"))?;
    state.store().retry_delivery_now(&id).await?;
    state.notify_wake().notify_one();
    Ok(StatusCode::ACCEPTED)
}
