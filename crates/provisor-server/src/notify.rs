//! The sender of notifications: takes due webhook deliveries from the outbox and posts
//! each event, signed, to its rule's URL (a host on the `--allow-fetch` list; no
//! redirect followed; `webhook_timeout`, 10 s, at most), recording each as delivered or failed (retried by
//! the outbox's schedule). Delivery is at least once: `Provisor-Delivery` (also sent as
//! `Idempotency-Key`) is the same on every attempt, so a receiver drops repeats.
//!
//! The signature is `Provisor-Signature: t=UNIX_SECONDS,v1=HEX`, the HMAC-SHA256 of
//! `t.BODY` under the rule's secret: a receiver recomputes it over the raw body and
//! refuses an old `t` (a replay).

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use provisor_store::Delivery;
use serde_json::json;

use crate::AppState;

/// How long a claimed delivery stays with this sender.
const LEASE_MS: i64 = 60_000;
/// How many deliveries one round claims.
const ROUND: i64 = 16;
/// The largest answer body read from a receiver.
const MAX_ANSWER: u64 = 64 << 10;

/// Sends due webhooks until the process ends, every `poll` (or sooner when woken).
pub async fn sender(state: AppState) {
    loop {
        let sent = send_due(&state).await;
        if sent == 0 {
            tokio::select! {
                () = tokio::time::sleep(state.config().notify_poll) => {}
                () = state.notify_wake().notified() => {}
            }
        }
    }
}

/// Sends the webhooks due now (one round); how many were tried.
pub async fn send_due(state: &AppState) -> usize {
    let due = match state
        .store()
        .claim_deliveries("webhook", LEASE_MS, ROUND)
        .await
    {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!("looking for due webhooks: {error}");
            return 0;
        }
    };
    let count = due.len();
    for delivery in due {
        let allow = state.config().fetch_allow.clone();
        let timeout = state.config().webhook_timeout;
        let sending = delivery.clone();
        let outcome = tokio::task::spawn_blocking(move || post(&allow, timeout, &sending))
            .await
            .unwrap_or_else(|error| Err(format!("the sender stopped: {error}")));
        let recorded = match &outcome {
            Ok(()) => state.store().delivered(&delivery.id).await,
            Err(error) => {
                tracing::warn!(delivery = %delivery.id, rule = %delivery.rule_name, "webhook not delivered: {error}");
                state.store().delivery_failed(&delivery.id, error).await
            }
        };
        if let Err(error) = recorded {
            tracing::warn!(delivery = %delivery.id, "recording a delivery: {error}");
        }
    }
    count
}

/// The body a webhook receives.
pub fn body(delivery: &Delivery) -> String {
    json!({
        "delivery": delivery.id,
        "rule": delivery.rule_name,
        "event": {
            "id": delivery.event.id,
            "kind": delivery.event.kind,
            "organisation": delivery.event.organisation_id,
            "severity": delivery.event.severity,
            "created_at": delivery.event.created_at,
            "data": delivery.event.payload,
        },
    })
    .to_string()
}

/// `t=…,v1=…` for a body sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        provisor_store::hex(&mac.finalize().into_bytes())
    )
}

/// Posts one delivery; an answer other than 2xx, a redirect, a timeout or a refused
/// connection is a failure with its reason.
fn post(allow: &[String], timeout: Duration, delivery: &Delivery) -> Result<(), String> {
    crate::monitor::check_url(allow, &delivery.target)
        .map_err(|message| format!("{}: {message}", delivery.target))?;
    let body = body(delivery);
    let timestamp = provisor_store::now_ms() / 1000;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut request = agent
        .post(&delivery.target)
        .header("Content-Type", "application/json")
        .header(
            "User-Agent",
            concat!("provisor/", env!("CARGO_PKG_VERSION")),
        )
        .header("Provisor-Event", &delivery.event.kind)
        .header("Provisor-Delivery", &delivery.id)
        .header("Idempotency-Key", &delivery.id);
    if let Some(secret) = &delivery.secret {
        request = request.header("Provisor-Signature", signature(secret, timestamp, &body));
    }
    let mut response = request
        .send(body.as_bytes())
        .map_err(|error| format!("{}: {error}", delivery.target))?;
    let status = response.status();
    // The answer is read (bounded) so the connection ends cleanly; its text is kept
    // for the record when the receiver refused.
    let answer = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_string()
        .unwrap_or_default();
    if status.is_success() {
        Ok(())
    } else if status.is_redirection() {
        Err(format!(
            "{}: the receiver redirects, which is not followed",
            delivery.target
        ))
    } else {
        Err(format!(
            "{}: the receiver answered {status} {}",
            delivery.target,
            answer.chars().take(200).collect::<String>()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_time_and_body() {
        // The HMAC-SHA256 of "0.what do ya want for nothing?" under RFC 4231's key
        // "Jefe", as Python's hmac module computes it.
        assert_eq!(
            signature("Jefe", 0, "what do ya want for nothing?"),
            "t=0,v1=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
        assert_ne!(signature("Jefe", 1, "x"), signature("Jefe", 2, "x"));
        assert_ne!(signature("Jefe", 1, "x"), signature("jefe", 1, "x"));
    }
}
