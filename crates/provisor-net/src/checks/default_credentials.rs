//! `net.default-credentials`: well-known credentials that open a login interface.

use std::sync::OnceLock;

use futures_util::future::join_all;
use provisor_engine::{FindingSink, Outcome, Severity};
use serde::Deserialize;

use super::logins::{self, Answer, Login};
use super::{Check, CheckMeta, CheckRun, HostContext, pass_if_clean};

/// Tries the well-known default credentials of `data/default-credentials.toml` (the 62
/// pairs of the Mirai botnet's scanner and vendor defaults, shared with the firmware
/// checks) on every login interface: SSH servers that take passwords, telnet login
/// prompts (a login counts when a shell works out a sum, or a command prompt follows),
/// FTP servers that ask named users for a password, web pages behind HTTP basic
/// authentication and MQTT brokers that want a password, over plain TCP or TLS; the
/// interfaces at once. Each interface gets at most the attempt cap
/// (`--max-login-attempts`, 30 by default), four at a time, and an account is left
/// alone once a password opens it. A credential that works fails 5.1-1: every device
/// shares it. An SNMP agent that answers the community "public" fails the same way.
/// Nothing is sent with `--no-auth-tests`.
pub struct DefaultCredentials;

static META: CheckMeta = CheckMeta {
    id: "net.default-credentials",
    title: "well-known default credentials accepted",
    provisions: &["5.1-1"],
};

/// Attempts in flight at once on one interface (hydra's advice for SSH).
const PARALLEL: usize = 4;

#[derive(Debug, Deserialize)]
struct CredentialFile {
    credential: Vec<Credential>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "the source is documentation in the data file")]
struct Credential {
    user: String,
    password: String,
    source: String,
}

/// The distinct pairs, in the file's order.
fn credentials() -> &'static [(String, String)] {
    static PAIRS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    PAIRS.get_or_init(|| {
        let file: CredentialFile = toml::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/default-credentials.toml"
        )))
        .expect("the default credential list is valid (tested)");
        let mut pairs: Vec<(String, String)> = Vec::new();
        for credential in file.credential {
            let pair = (credential.user, credential.password);
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
        pairs
    })
}

impl Check for DefaultCredentials {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a> {
        Box::pin(observe(context, sink))
    }
}

async fn observe(context: &HostContext, sink: &mut FindingSink) {
    if !context.auth_tests {
        return;
    }
    let host = context.target.address.to_string();
    let interfaces = &context.logins;
    let tries = join_all(interfaces.iter().map(|login| try_defaults(context, login))).await;
    let mut tried = 0;
    for (login, (opened, attempts)) in interfaces.iter().zip(tries) {
        tried += attempts;
        for (user, password, attempt) in opened {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::Critical,
                format!("{} accepts {user}:{password}", login.describe(context)),
            )
            .detail("a well-known credential opens the interface on every device; give each device its own password, or have the user set one before the interface is usable")
            .on(&host, login.port(), "tcp", Some(login.service()))
            .evidence(serde_json::json!({"user": user, "password": password, "attempt": attempt}))
            .record();
        }
    }
    // An SNMP agent answers only a community it knows: discovery asked with "public".
    for service in context.udp.iter().filter(|service| service.name == "snmp") {
        sink.add(
            META.id,
            META.provisions,
            Outcome::Fail,
            Severity::High,
            format!(
                "SNMP on {}/udp answers the default community \"public\"",
                context.target.endpoint(service.port)
            ),
        )
        .detail("anyone can read the device's management data (and with a write community, change it); turn SNMP off or use SNMPv3 with per-device credentials")
        .on(&host, service.port, "udp", Some("snmp"))
        .evidence(serde_json::json!({"sysDescr": service.detail("sysDescr")}))
        .record();
    }
    pass_if_clean(
        sink,
        &META,
        context,
        !interfaces.is_empty(),
        format!(
            "no well-known credential opens the {} login interfaces ({tried} attempts)",
            interfaces.len()
        ),
    );
}

/// The well-known credentials that open one interface, as (user, password, attempt),
/// and the attempts made.
async fn try_defaults(
    context: &HostContext,
    login: &Login,
) -> (Vec<(&'static str, &'static str, usize)>, usize) {
    let mut opened: Vec<(&str, &str, usize)> = Vec::new();
    let mut pairs = credentials().iter();
    let mut attempts = 0;
    while attempts < context.max_login_attempts {
        // A few attempts at once, as a person at a keyboard never would, but without
        // trying an account again once a password opens it.
        let round: Vec<&(String, String)> = pairs
            .by_ref()
            .filter(|(user, _)| !opened.iter().any(|(known, ..)| known == user))
            .take(PARALLEL.min(context.max_login_attempts - attempts))
            .collect();
        if round.is_empty() {
            break;
        }
        let answers = join_all(
            round
                .iter()
                .map(|(user, password)| logins::attempt(context, login, user, password)),
        )
        .await;
        for ((user, password), (answer, _)) in round.into_iter().zip(answers) {
            attempts += 1;
            if answer == Answer::Accepted && !opened.iter().any(|(known, ..)| known == user) {
                opened.push((user, password, attempts));
            }
        }
    }
    (opened, attempts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_read_and_has_no_repeats() {
        let pairs = credentials();
        assert!(pairs.len() > 50, "{}", pairs.len());
        assert_eq!(pairs[0], ("root".to_owned(), "xc3511".to_owned()));
        assert!(pairs.contains(&("admin".to_owned(), "admin".to_owned())));
    }
}
