//! The sender of notifications: takes due webhook deliveries from the outbox and posts
//! each event, signed, to its rule's URL (a host on the `--allow-fetch` list; no
//! redirect followed; `webhook_timeout`, 10 s, at most), recording each as delivered or failed (retried by
//! the outbox's schedule). Delivery is at least once: `Provisor-Delivery` (also sent as
//! `Idempotency-Key`) is the same on every attempt, so a receiver drops repeats.
//!
//! The signature is `Provisor-Signature: t=UNIX_SECONDS,v1=HEX`, the HMAC-SHA256 of
//! `t.BODY` under the rule's secret: a receiver recomputes it over the raw body and
//! refuses an old `t` (a replay).
//!
//! E-mail rules collect their events into a digest: every `digest_every` the sender
//! takes each e-mail rule's due deliveries and sends them as one plain-text message
//! through the configured SMTP relay (STARTTLS or implicit TLS; plain SMTP to a relay
//! on loopback only), all recorded delivered or failed together.

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

/// How an SMTP relay is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    /// Its host.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// The digests' sender address.
    pub from: String,
    /// A user and password, when the relay asks for them.
    pub credentials: Option<(String, String)>,
}

/// How an SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// None: for a relay on loopback only (`smtp://`).
    Plain,
    /// STARTTLS (`smtp+starttls://`, port 587).
    StartTls,
    /// TLS from the start (`smtps://`, port 465).
    Tls,
}

impl Smtp {
    /// Reads `smtp://HOST:PORT` (loopback only), `smtp+starttls://HOST[:PORT]` or
    /// `smtps://HOST[:PORT]`.
    pub fn parse(url: &str, from: &str) -> Result<Smtp, String> {
        let (security, rest, default_port) = if let Some(rest) = url.strip_prefix("smtp://") {
            (SmtpSecurity::Plain, rest, 25)
        } else if let Some(rest) = url.strip_prefix("smtp+starttls://") {
            (SmtpSecurity::StartTls, rest, 587)
        } else if let Some(rest) = url.strip_prefix("smtps://") {
            (SmtpSecurity::Tls, rest, 465)
        } else {
            return Err(format!(
                "{url}: use smtp+starttls://HOST[:PORT], smtps://HOST[:PORT], or smtp://HOST:PORT for a relay on loopback"
            ));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("{url}: the port is not a number"))?,
            ),
            _ => (rest, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|address| address.is_loopback());
        if security == SmtpSecurity::Plain && !loopback {
            return Err(format!(
                "{url}: plain SMTP is for a relay on loopback; use smtp+starttls:// or smtps://"
            ));
        }
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!("{from}: not a mailbox to send from"));
        }
        Ok(Smtp {
            host: host.to_owned(),
            port,
            security,
            from: from.to_owned(),
            credentials: None,
        })
    }
}

/// Sends due webhooks until the process ends, every `poll` (or sooner when woken), and
/// the e-mail digests every `digest_every`.
pub async fn sender(state: AppState) {
    let mut last_digest = tokio::time::Instant::now();
    loop {
        if state.config().smtp.is_some() && last_digest.elapsed() >= state.config().digest_every {
            last_digest = tokio::time::Instant::now();
            send_digests(&state).await;
        }
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

/// Sends each e-mail rule's due events as one message; how many messages were sent.
pub async fn send_digests(state: &AppState) -> usize {
    let Some(smtp) = state.config().smtp.clone() else {
        return 0;
    };
    let due = match state
        .store()
        .claim_deliveries("email", 600_000, 10_000)
        .await
    {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!("looking for due e-mail notices: {error}");
            return 0;
        }
    };
    let mut by_rule: std::collections::BTreeMap<String, Vec<Delivery>> =
        std::collections::BTreeMap::new();
    for delivery in due {
        by_rule
            .entry(delivery.rule_id.clone())
            .or_default()
            .push(delivery);
    }
    let mut sent = 0;
    for deliveries in by_rule.into_values() {
        let organisation = match state
            .store()
            .organisation(&deliveries[0].event.organisation_id)
            .await
        {
            Ok(organisation) => organisation.name,
            Err(_) => deliveries[0].event.organisation_id.clone(),
        };
        let (subject, text) = digest(&organisation, &deliveries);
        let to = deliveries[0].target.clone();
        let relay = smtp.clone();
        let outcome = tokio::task::spawn_blocking(move || mail(&relay, &to, &subject, text))
            .await
            .unwrap_or_else(|error| Err(format!("the sender stopped: {error}")));
        if outcome.is_ok() {
            sent += 1;
        }
        for delivery in &deliveries {
            let recorded = match &outcome {
                Ok(()) => state.store().delivered(&delivery.id).await,
                Err(error) => state.store().delivery_failed(&delivery.id, error).await,
            };
            if let Err(error) = recorded {
                tracing::warn!(delivery = %delivery.id, "recording a delivery: {error}");
            }
        }
        if let Err(error) = outcome {
            tracing::warn!(rule = %deliveries[0].rule_name, "e-mail digest not sent: {error}");
        }
    }
    sent
}

/// The subject and plain text of a digest.
pub fn digest(organisation: &str, deliveries: &[Delivery]) -> (String, String) {
    let subject = format!(
        "provisor: {} notice{} for {organisation}",
        deliveries.len(),
        if deliveries.len() == 1 { "" } else { "s" }
    );
    let mut text = format!(
        "{subject} (rule \"{}\")\n",
        deliveries
            .first()
            .map_or("", |delivery| delivery.rule_name.as_str())
    );
    for delivery in deliveries {
        let event = &delivery.event;
        let data = &event.payload;
        let said = |key: &str| data[key].as_str().unwrap_or("").to_owned();
        text.push('\n');
        match event.kind.as_str() {
            "support.ending" => text.push_str(&format!(
                "Support ends {} for {} {}\n",
                said("support_period_end"),
                said("product_name"),
                said("version")
            )),
            kind => {
                let what = match kind {
                    "vulnerability.found" => "New vulnerability",
                    "vulnerability.retracted" => "Retracted",
                    _ => "Now known to be exploited",
                };
                text.push_str(&format!(
                    "{what}: {} ({}) {}\n",
                    said("vulnerability"),
                    event.severity.as_deref().unwrap_or("severity unknown"),
                    said("summary")
                ));
                let releases = data["releases"].as_array().cloned().unwrap_or_default();
                for release in releases.iter().take(20) {
                    text.push_str(&format!(
                        "  {} {}: {} {}\n",
                        release["product_name"].as_str().unwrap_or(""),
                        release["version"].as_str().unwrap_or(""),
                        release["component"].as_str().unwrap_or(""),
                        release["component_version"].as_str().unwrap_or("")
                    ));
                }
                let count = data["release_count"].as_u64().unwrap_or(0) as usize;
                if count > releases.len().min(20) {
                    text.push_str(&format!(
                        "  and {} more releases\n",
                        count - releases.len().min(20)
                    ));
                }
            }
        }
    }
    (subject, text)
}

/// Sends one plain-text message through the relay.
fn mail(smtp: &Smtp, to: &str, subject: &str, text: String) -> Result<(), String> {
    use lettre::Transport;
    let message = lettre::Message::builder()
        .from(
            smtp.from
                .parse()
                .map_err(|error| format!("{}: {error}", smtp.from))?,
        )
        .to(to.parse().map_err(|error| format!("{to}: {error}"))?)
        .subject(subject)
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|error| error.to_string())?;
    let relay_error =
        |error: lettre::transport::smtp::Error| format!("{}:{}: {error}", smtp.host, smtp.port);
    let mut builder = match smtp.security {
        SmtpSecurity::Plain => lettre::SmtpTransport::builder_dangerous(&smtp.host),
        SmtpSecurity::StartTls => {
            lettre::SmtpTransport::starttls_relay(&smtp.host).map_err(relay_error)?
        }
        SmtpSecurity::Tls => lettre::SmtpTransport::relay(&smtp.host).map_err(relay_error)?,
    }
    .port(smtp.port)
    .timeout(Some(Duration::from_secs(30)));
    if let Some((user, password)) = &smtp.credentials {
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            user.clone(),
            password.clone(),
        ));
    }
    builder
        .build()
        .send(&message)
        .map(|_| ())
        .map_err(relay_error)
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
    fn smtp_relays_are_read_and_plain_smtp_stays_on_loopback() {
        let from = "provisor@acme.example";
        let relay = Smtp::parse("smtp+starttls://mail.acme.example", from).unwrap();
        assert_eq!((relay.port, relay.security), (587, SmtpSecurity::StartTls));
        let relay = Smtp::parse("smtps://mail.acme.example:2465", from).unwrap();
        assert_eq!(
            (relay.host.as_str(), relay.port),
            ("mail.acme.example", 2465)
        );
        let relay = Smtp::parse("smtp://127.0.0.1:2525", from).unwrap();
        assert_eq!(relay.security, SmtpSecurity::Plain);
        assert!(Smtp::parse("smtp://[::1]:25", from).is_ok());
        for bad in [
            "smtp://mail.acme.example:25",
            "http://mail.acme.example",
            "smtps://mail.acme.example:x",
            "smtps://",
        ] {
            assert!(Smtp::parse(bad, from).is_err(), "{bad}");
        }
        assert!(Smtp::parse("smtps://mail.acme.example", "not a mailbox").is_err());
    }

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
