//! Notifications through an outbox (migration 0006). An event is written by
//! [`emit`] inside the transaction of the change it reports, with a delivery for each
//! rule of its organisation that wants it (event kind, least severity, product), so an
//! event exists exactly when its change does. Senders claim due deliveries under a lease
//! ([`Store::claim_deliveries`]) and report each as delivered or failed; a failure is
//! retried with a growing delay and is `dead` after [`MAX_ATTEMPTS`], its last error
//! kept. Delivery is at least once: a receiver tells a repeat by the delivery's id.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Actor, Store, StoreError, audit, new_id, now_ms, random_hex, severity_rank};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The event kinds.
pub const EVENT_KINDS: &[&str] = &[
    "vulnerability.found",
    "vulnerability.retracted",
    "vulnerability.exploited",
    "support.ending",
];

/// How many times a delivery is tried.
pub const MAX_ATTEMPTS: i64 = 10;

/// A rule: which events of an organisation go where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationRule {
    /// Its id.
    pub id: String,
    /// The organisation whose events it sends.
    pub organisation_id: String,
    /// Its name.
    pub name: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// The webhook's URL, or the mailbox the digest goes to.
    pub target: String,
    /// The event kinds it sends.
    pub kinds: Vec<String>,
    /// The least severity of the vulnerability events it sends (other events always).
    pub min_severity: Option<String>,
    /// Only events about this product, when set.
    pub product_id: Option<String>,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// A rule to make.
#[derive(Debug, Clone)]
pub struct NewRule {
    /// Its name, unique in the organisation.
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
}

/// An event as it is delivered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Its id.
    pub id: String,
    /// The organisation it concerns.
    pub organisation_id: String,
    /// What happened (one of [`EVENT_KINDS`]).
    pub kind: String,
    /// The vulnerability's severity, for vulnerability events.
    pub severity: Option<String>,
    /// What it is about.
    pub payload: Value,
    /// When (ms since the epoch).
    pub created_at: i64,
}

/// A delivery claimed to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Its id: the receiver's idempotency key.
    pub id: String,
    /// The event.
    pub event: Event,
    /// The rule.
    pub rule_id: String,
    /// The rule's name.
    pub rule_name: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// Where it goes.
    pub target: String,
    /// The webhook's signing secret.
    pub secret: Option<String>,
    /// How many times it was tried before this one.
    pub attempts: i64,
}

/// A delivery as a rule's history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRecord {
    /// Its id.
    pub id: String,
    /// The event's id.
    pub event_id: String,
    /// The event's kind.
    pub kind: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Times tried.
    pub attempts: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
}

fn rule_from_row(row: &AnyRow) -> NotificationRule {
    NotificationRule {
        id: row.get("id"),
        organisation_id: row.get("organisation_id"),
        name: row.get("name"),
        channel: row.get("channel"),
        target: row.get("target"),
        kinds: serde_json::from_str(&row.get::<String, _>("kinds")).unwrap_or_default(),
        min_severity: row.get("min_severity"),
        product_id: row.get("product_id"),
        created_by: row.get("created_by"),
        created_at: row.get("created_at"),
    }
}

/// Writes an event within `tx` and a delivery for every rule of its organisation that
/// wants it: its kind, its severity (vulnerability events), one of its products. An
/// event with a `once` key that was written before is not written again. Returns the
/// event's id, if written.
pub(crate) async fn emit(
    tx: &mut Tx,
    organisation: &str,
    kind: &str,
    severity: Option<&str>,
    products: &[String],
    payload: &Value,
    once: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let id = new_id("evt");
    let now = now_ms();
    let written = sqlx::query(
        "INSERT INTO events (id, organisation_id, kind, severity, payload, once_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (once_key) DO NOTHING",
    )
    .bind(&id)
    .bind(organisation)
    .bind(kind)
    .bind(severity)
    .bind(payload.to_string())
    .bind(once)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if written.rows_affected() == 0 {
        return Ok(None);
    }
    let rules =
        sqlx::query("SELECT * FROM notification_rules WHERE organisation_id = $1 AND disabled = 0")
            .bind(organisation)
            .fetch_all(&mut **tx)
            .await?;
    for rule in rules.iter().map(rule_from_row) {
        let wants_kind = rule.kinds.is_empty() || rule.kinds.iter().any(|each| each == kind);
        let wants_severity = match (&rule.min_severity, kind.starts_with("vulnerability.")) {
            (Some(least), true) => severity_rank(severity) >= severity_rank(Some(least)),
            _ => true,
        };
        let wants_product = rule
            .product_id
            .as_ref()
            .is_none_or(|product| products.contains(product));
        if !(wants_kind && wants_severity && wants_product) {
            continue;
        }
        sqlx::query(
            "INSERT INTO deliveries (id, event_id, rule_id, channel, state, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
        )
        .bind(new_id("dlv"))
        .bind(&id)
        .bind(&rule.id)
        .bind(&rule.channel)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(Some(id))
}

/// The delay before a delivery's next attempt: 30 s doubling, at most an hour.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    (30_000_i64 << attempts.clamp(0, 7)).min(3_600_000)
}

impl Store {
    /// Makes a rule; a webhook's signing secret is made here and returned this once.
    pub async fn create_rule(
        &self,
        actor: &Actor,
        organisation: &str,
        new: &NewRule,
    ) -> Result<(NotificationRule, Option<String>), StoreError> {
        if !matches!(new.channel.as_str(), "webhook" | "email") {
            return Err(StoreError::Invalid(format!(
                "channel \"{}\" is neither webhook nor email",
                new.channel
            )));
        }
        if let Some(unknown) = new
            .kinds
            .iter()
            .find(|kind| !EVENT_KINDS.contains(&kind.as_str()))
        {
            return Err(StoreError::Invalid(format!(
                "event kind \"{unknown}\" is not one of {}",
                EVENT_KINDS.join(", ")
            )));
        }
        if new.min_severity.is_some() && severity_rank(new.min_severity.as_deref()) == 0 {
            return Err(StoreError::Invalid(
                "the least severity is one of low, medium, high, critical".into(),
            ));
        }
        let secret = (new.channel == "webhook").then(|| format!("whsec_{}", random_hex(32)));
        let id = new_id("rul");
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO notification_rules (id, organisation_id, name, channel, target, secret, kinds, \
             min_severity, product_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (organisation_id, name) DO NOTHING",
        )
        .bind(&id)
        .bind(organisation)
        .bind(&new.name)
        .bind(&new.channel)
        .bind(&new.target)
        .bind(&secret)
        .bind(serde_json::to_string(&new.kinds).unwrap_or_else(|_| "[]".into()))
        .bind(&new.min_severity)
        .bind(&new.product_id)
        .bind(actor.label())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "the organisation has a rule named {}",
                new.name
            )));
        }
        audit::append(
            &mut tx,
            actor,
            "notification-rule.create",
            &id,
            Some(organisation),
            None,
            Some(
                &serde_json::json!({"name": new.name, "channel": new.channel, "target": new.target,
                "kinds": new.kinds, "min_severity": new.min_severity, "product": new.product_id}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok((self.rule(&id).await?, secret))
    }

    /// A rule.
    pub async fn rule(&self, id: &str) -> Result<NotificationRule, StoreError> {
        sqlx::query("SELECT * FROM notification_rules WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| rule_from_row(&row))
            .ok_or_else(|| StoreError::NotFound(format!("notification rule {id}")))
    }

    /// An organisation's rules, by name.
    pub async fn rules(&self, organisation: &str) -> Result<Vec<NotificationRule>, StoreError> {
        Ok(sqlx::query(
            "SELECT * FROM notification_rules WHERE organisation_id = $1 AND disabled = 0 ORDER BY name",
        )
        .bind(organisation)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rule_from_row)
        .collect())
    }

    /// Turns a rule off; its pending deliveries are dropped, its history kept.
    pub async fn disable_rule(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let rule = self.rule(id).await?;
        let mut tx = self.write().await?;
        sqlx::query("UPDATE notification_rules SET disabled = 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE deliveries SET state = 'dead', last_error = 'the rule was removed' \
             WHERE rule_id = $1 AND state = 'pending'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            actor,
            "notification-rule.remove",
            id,
            Some(&rule.organisation_id),
            Some(&serde_json::json!({"name": rule.name, "target": rule.target})),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` due deliveries of a channel for `lease_ms`: each is sent by
    /// one sender at a time.
    pub async fn claim_deliveries(
        &self,
        channel: &str,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let now = now_ms();
        let mut tx = self.write().await?;
        let lock = match self.engine {
            crate::Engine::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Engine::Sqlite => "",
        };
        let due: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM deliveries WHERE state = 'pending' AND channel = $1 AND next_attempt_at <= $2 \
             AND (lease_until IS NULL OR lease_until < $2) ORDER BY next_attempt_at, id LIMIT $3{lock}"
        )))
        .bind(channel)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
        let mut claimed = Vec::new();
        for id in due {
            sqlx::query("UPDATE deliveries SET lease_until = $1 WHERE id = $2")
                .bind(now + lease_ms)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(
                "SELECT d.id, d.rule_id, d.channel, d.attempts, r.name AS rule_name, r.target, r.secret, \
                 e.id AS event_id, e.organisation_id, e.kind, e.severity, e.payload, e.created_at \
                 FROM deliveries d JOIN notification_rules r ON r.id = d.rule_id \
                 JOIN events e ON e.id = d.event_id WHERE d.id = $1",
            )
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
            claimed.push(Delivery {
                id: row.get("id"),
                rule_id: row.get("rule_id"),
                rule_name: row.get("rule_name"),
                channel: row.get("channel"),
                target: row.get("target"),
                secret: row.get("secret"),
                attempts: row.get("attempts"),
                event: Event {
                    id: row.get("event_id"),
                    organisation_id: row.get("organisation_id"),
                    kind: row.get("kind"),
                    severity: row.get("severity"),
                    payload: serde_json::from_str(&row.get::<String, _>("payload"))
                        .unwrap_or(Value::Null),
                    created_at: row.get("created_at"),
                },
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records a delivery as delivered.
    pub async fn delivered(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deliveries SET state = 'delivered', delivered_at = $1, attempts = attempts + 1, \
             lease_until = NULL WHERE id = $2",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: tried again after [`retry_delay_ms`], or `dead` after
    /// the last attempt.
    pub async fn delivery_failed(&self, id: &str, error: &str) -> Result<(), StoreError> {
        let attempts: i64 = sqlx::query("SELECT attempts FROM deliveries WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map_or(0, |row| row.get(0))
            + 1;
        let state = if attempts >= MAX_ATTEMPTS {
            "dead"
        } else {
            "pending"
        };
        sqlx::query(
            "UPDATE deliveries SET state = $1, attempts = $2, last_error = $3, lease_until = NULL, \
             next_attempt_at = $4 WHERE id = $5",
        )
        .bind(state)
        .bind(attempts)
        .bind(error)
        .bind(now_ms() + retry_delay_ms(attempts - 1))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The rule a delivery belongs to.
    pub async fn rule_of_delivery(&self, id: &str) -> Result<NotificationRule, StoreError> {
        let rule: String = sqlx::query("SELECT rule_id FROM deliveries WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.get(0))
            .ok_or_else(|| StoreError::NotFound(format!("delivery {id}")))?;
        self.rule(&rule).await
    }

    /// Makes a pending or dead delivery due now, with its attempts counted afresh from
    /// here (an admin's "try again" once a receiver is back).
    pub async fn retry_delivery_now(&self, id: &str) -> Result<(), StoreError> {
        let changed = sqlx::query(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = $1, lease_until = NULL \
             WHERE id = $2 AND state <> 'delivered'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("undelivered delivery {id}")));
        }
        Ok(())
    }

    /// A rule's newest deliveries, newest first.
    pub async fn deliveries_of_rule(
        &self,
        rule: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        Ok(sqlx::query(
            "SELECT d.id, d.event_id, e.kind, d.state, d.attempts, d.last_error, d.delivered_at \
             FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.rule_id = $1 \
             ORDER BY d.created_at DESC, d.id DESC LIMIT $2",
        )
        .bind(rule)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| DeliveryRecord {
            id: row.get("id"),
            event_id: row.get("event_id"),
            kind: row.get("kind"),
            state: row.get("state"),
            attempts: row.get("attempts"),
            last_error: row.get("last_error"),
            delivered_at: row.get("delivered_at"),
        })
        .collect())
    }

    /// An organisation's newest events, newest first.
    pub async fn events(&self, organisation: &str, limit: i64) -> Result<Vec<Event>, StoreError> {
        Ok(sqlx::query(
            "SELECT * FROM events WHERE organisation_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(organisation)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Event {
            id: row.get("id"),
            organisation_id: row.get("organisation_id"),
            kind: row.get("kind"),
            severity: row.get("severity"),
            payload: serde_json::from_str(&row.get::<String, _>("payload")).unwrap_or(Value::Null),
            created_at: row.get("created_at"),
        })
        .collect())
    }
}

impl Store {
    /// Reports each release whose support period ends between `today` and `until`
    /// (`YYYY-MM-DD`) to its organisation, once per release and end date (5.3-13: the
    /// support period is published, and its end should not surprise). Returns how many
    /// were reported now.
    pub async fn report_support_ending(&self, today: &str, until: &str) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let rows = sqlx::query(
            "SELECT r.id, r.version, r.support_period_end, p.id AS product_id, p.name AS product, \
             p.organisation_id FROM releases r JOIN products p ON p.id = r.product_id \
             WHERE r.support_period_end >= $1 AND r.support_period_end <= $2 ORDER BY r.support_period_end, r.id",
        )
        .bind(today)
        .bind(until)
        .fetch_all(&mut *tx)
        .await?;
        let mut reported = 0;
        for row in &rows {
            let release: String = row.get("id");
            let end: String = row.get("support_period_end");
            let product: String = row.get("product_id");
            let payload = serde_json::json!({
                "product": product,
                "product_name": row.get::<String, _>("product"),
                "release": release,
                "version": row.get::<String, _>("version"),
                "support_period_end": end,
            });
            let once = format!("support.ending:{release}:{end}");
            if emit(
                &mut tx,
                &row.get::<String, _>("organisation_id"),
                "support.ending",
                None,
                std::slice::from_ref(&product),
                &payload,
                Some(&once),
            )
            .await?
            .is_some()
            {
                reported += 1;
            }
        }
        tx.commit().await?;
        Ok(reported)
    }
}
