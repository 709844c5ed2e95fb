//! `net.default-credentials`: well-known credentials that open a login interface.

use std::sync::OnceLock;

use futures_util::future::join_all;
use provisor_engine::{FindingSink, Outcome, Severity};
use serde::Deserialize;

use super::logins::{self, Answer, Login};
use super::{Check, CheckMeta, CheckRun, HostContext, Phase, pass_if_clean};

/// Tries the well-known default credentials of `data/default-credentials.toml` (the 62
/// pairs of the Mirai botnet's scanner and vendor defaults, shared with the firmware
/// checks) on every login interface: SSH servers that take passwords, telnet login
/// prompts (a login counts when a shell works out a sum, or a command prompt follows),
/// FTP servers that ask named users for a password, web pages behind HTTP basic
/// authentication and MQTT brokers that want a password, over plain TCP or TLS; the
/// interfaces at once. Each interface gets at most the attempt cap
/// (`--max-login-attempts`, 30 by default), four at a time on SSH and telnet and six
/// elsewhere, and 35 seconds (busybox's login, which waits three seconds after a wrong
/// password, takes about 32); an account
/// is left alone once a password opens it. A credential that works fails 5.1-1: every
/// device shares it. An interface that stops answering (two rounds of attempts without
/// an answer that can be read) or runs out of its time before every credential was tried is
/// inconclusive, with how many were tried. An SNMP agent that answers the community
/// "public" fails the same way. Nothing is sent with `--no-auth-tests`.
pub struct DefaultCredentials;

static META: CheckMeta = CheckMeta {
    id: "net.default-credentials",
    title: "well-known default credentials accepted",
    provisions: &["5.1-1"],
};

/// Attempts in flight at once on one interface: four on SSH (hydra's advice; dropbear
/// drops a sixth unauthenticated connection from one address) and telnet (busybox's
/// telnetd leaves a fifth or sixth session started at once without a greeting), six
/// elsewhere.
fn parallel(login: &Login) -> usize {
    match login {
        Login::Ssh { .. } | Login::Telnet { .. } => 4,
        _ => 6,
    }
}

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

    fn phase(&self) -> Phase {
        Phase::Trials
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
    let mut tried = 0;
    for (login, trial) in interfaces.iter().zip(&context.trials) {
        let defaults = &trial.defaults;
        tried += defaults.attempts;
        for (user, password, attempt) in &defaults.opened {
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
        if let Some(why) = defaults.unfinished() {
            let planned = planned(context);
            sink.add(
                META.id,
                META.provisions,
                Outcome::Inconclusive,
                Severity::Info,
                format!(
                    "{} {why} ({} of {planned} default credentials tried)",
                    login.describe(context),
                    defaults.attempts
                ),
            )
            .detail("the credentials not tried, or not answered, may still open it: try them by hand, or scan again with a longer --answer-timeout")
            .on(&host, login.port(), "tcp", Some(login.service()))
            .evidence(serde_json::json!({"attempts": defaults.attempts, "answered": defaults.answered, "planned": planned, "seconds": super::trials::DEFAULTS.as_secs()}))
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
    let complete = context
        .trials
        .iter()
        .all(|trial| trial.defaults.unfinished().is_none());
    pass_if_clean(
        sink,
        &META,
        context,
        !interfaces.is_empty() && complete,
        format!(
            "no well-known credential opens the {} login interfaces ({tried} attempts)",
            interfaces.len()
        ),
    );
}

/// Why the default credentials of an interface were not all tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// Two rounds of attempts in a row got no answer.
    Silent,
    /// The interface's time ([`super::trials::DEFAULTS`]) ran out.
    OutOfTime,
}

/// The default credentials tried on one interface.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tried {
    /// Those that opened it, with the attempt that did.
    pub(crate) opened: Vec<(&'static str, &'static str, usize)>,
    /// Attempts with an answer or a deadline passed.
    pub(crate) attempts: usize,
    /// Attempts with an answer that could be read.
    pub(crate) answered: usize,
    /// Why not all were tried, when not all were.
    pub(crate) stopped: Option<Stopped>,
}

impl Tried {
    /// Why the interface's default credentials say nothing for certain, if they do
    /// not: they were not all tried, or none was answered.
    fn unfinished(&self) -> Option<&'static str> {
        match self.stopped {
            Some(Stopped::Silent) => Some("gave no answer that could be read"),
            Some(Stopped::OutOfTime) => Some("ran out of its time"),
            None if self.answered == 0 && self.attempts > 0 => {
                Some("gave no answer that could be read")
            }
            None => None,
        }
    }
}

/// How many default credentials an interface is given.
fn planned(context: &HostContext) -> usize {
    credentials().len().min(context.max_login_attempts)
}

/// Tries the default credentials on one interface, a few at a time, until they are
/// all tried, two rounds in a row go unanswered, or `until`.
pub(crate) async fn try_defaults(
    context: &HostContext,
    login: &Login,
    until: tokio::time::Instant,
) -> Tried {
    let mut tried = Tried::default();
    let rounds = rounds(context, login, &mut tried);
    if tokio::time::timeout_at(until, rounds).await.is_err() {
        tried.stopped = Some(Stopped::OutOfTime);
    }
    tried
}

async fn rounds(context: &HostContext, login: &Login, tried: &mut Tried) {
    let mut pairs = credentials().iter();
    let mut unanswered = 0;
    while tried.attempts < context.max_login_attempts {
        // A few attempts at once, as a person at a keyboard never would, but without
        // trying an account again once a password opens it.
        let round: Vec<&'static (String, String)> = pairs
            .by_ref()
            .filter(|(user, _)| !tried.opened.iter().any(|(known, ..)| known == user))
            .take(parallel(login).min(context.max_login_attempts - tried.attempts))
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
        let silent = answers.iter().all(|(answer, _)| *answer == Answer::Silent);
        for ((user, password), (answer, _)) in round.into_iter().zip(answers) {
            tried.attempts += 1;
            tried.answered += usize::from(answer != Answer::Silent);
            if answer == Answer::Accepted && !tried.opened.iter().any(|(known, ..)| known == user) {
                tried.opened.push((user, password, tried.attempts));
            }
        }
        unanswered = if silent { unanswered + 1 } else { 0 };
        if unanswered == 2 && tried.attempts < planned(context) {
            tried.stopped = Some(Stopped::Silent);
            break;
        }
    }
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
