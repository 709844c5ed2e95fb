//! `net.login-throttling`: whether a login interface slows down or stops repeated wrong
//! guesses (brute-force protection). Its run of wrong passwords is part of each
//! interface's login trial (`trials.rs`), after the default credentials, so its wrong
//! guesses cannot hide a default password.

use std::time::Duration;

use provisor_engine::{FindingSink, Outcome, Severity};

use super::logins::{self, Answer, Login};
use super::{Check, CheckMeta, CheckRun, HostContext, Phase};

/// Sends a bounded run of wrong passwords to every login interface (at most 30 attempts
/// or the attempt cap, and the 60 seconds of the interface's login trial less what its
/// default credentials took; one attempt at a time per interface, the interfaces at
/// once) and watches for throttling: HTTP 429 or 503, MQTT's "server
/// unavailable", FTP's 421, refused or unanswered connections, or answers that grow
/// slow (the last five attempts taking three times as long as the first five, and half
/// a second more). Any of these passes 5.1-5, with the timings as evidence; a run
/// answered the same way to the end fails, even when each answer waits a fixed time
/// (busybox's login waits three seconds, vsftpd one: a guesser opens more connections). With a known-good credential
/// from the IXIT (`--ixit`), the credential is tried after the run, and again three
/// seconds later: refused both times, the protection is a lockout, which is reported as
/// such (it stops guessing, and the owner too); accepted, it is throttling. Nothing is
/// sent with `--no-auth-tests`.
pub struct LoginThrottling;

static META: CheckMeta = CheckMeta {
    id: "net.login-throttling",
    title: "protection against guessing passwords",
    provisions: &["5.1-5"],
};

/// The longest run, in attempts (in time, the interface's trial bounds it).
const ATTEMPTS: usize = 30;

impl Check for LoginThrottling {
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

/// How the run went: the answers and their times in milliseconds, and whether the
/// IXIT's known-good credential was refused after it (a lockout).
#[derive(Debug, Clone, Default)]
pub(crate) struct Run {
    answers: Vec<(Answer, u64)>,
    locked: bool,
}

impl Run {
    fn median(times: &[u64]) -> u64 {
        let mut sorted = times.to_vec();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied().unwrap_or(0)
    }

    /// What, if anything, showed protection.
    fn protection(&self) -> Option<String> {
        if let Some(at) = self
            .answers
            .iter()
            .position(|(answer, _)| *answer == Answer::Throttled)
        {
            return Some(format!("attempt {} was refused as too many", at + 1));
        }
        if let Some(at) = self
            .answers
            .iter()
            .position(|(answer, _)| *answer == Answer::Silent)
        {
            return Some(format!(
                "attempt {} got no answer (connection refused, reset or timed out)",
                at + 1
            ));
        }
        let times: Vec<u64> = self.answers.iter().map(|(_, time)| *time).collect();
        if times.len() >= 10 {
            let first = Run::median(&times[..5]);
            let last = Run::median(&times[times.len() - 5..]);
            if last > first.saturating_mul(3) && last > first + 500 {
                return Some(format!("answers slowed from {first} ms to {last} ms"));
            }
        }
        None
    }
}

async fn observe(context: &HostContext, sink: &mut FindingSink) {
    if !context.auth_tests {
        return;
    }
    let host = context.target.address.to_string();
    for (login, trial) in context.logins.iter().zip(&context.trials) {
        let run = &trial.run;
        let port = login.port();
        let described = login.describe(context);
        let times: Vec<u64> = run.answers.iter().map(|(_, time)| *time).collect();
        let evidence = serde_json::json!({
            "attempts": run.answers.len(),
            "milliseconds": times,
            "answers": run.answers.iter().map(|(answer, _)| format!("{answer:?}").to_lowercase()).collect::<Vec<_>>(),
        });
        let record = |sink: &mut FindingSink, outcome, severity, title: String, detail: String| {
            sink.add(META.id, META.provisions, outcome, severity, title)
                .detail(detail)
                .on(&host, port, "tcp", Some(login.service()))
                .evidence(evidence.clone())
                .record();
        };
        if run
            .answers
            .first()
            .is_some_and(|(answer, _)| *answer == Answer::Silent)
        {
            record(
                sink,
                Outcome::Inconclusive,
                Severity::Info,
                format!("{described} did not answer a login attempt"),
                "the interface may be down or refusing this address".into(),
            );
            continue;
        }
        match run.protection() {
            Some(sign) => {
                let title = if run.locked {
                    format!(
                        "{described} locks the account out after {} wrong passwords",
                        run.answers.len()
                    )
                } else {
                    format!("{described} slows down guessing: {sign}")
                };
                record(sink, Outcome::Pass, Severity::Info, title, sign);
            }
            None => record(
                sink,
                Outcome::Fail,
                Severity::High,
                format!(
                    "{described} answered {} wrong passwords in a row without slowing down",
                    run.answers.len()
                ),
                format!(
                    "median answer {} ms; limit the rate of failed logins per client (a growing delay, or a temporary block)",
                    Run::median(&times)
                ),
            ),
        }
    }
}

/// How long a rate limit is given to clear before the known-good credential is tried
/// a second time.
const SETTLE: Duration = Duration::from_secs(3);

/// Whether the known-good credential is refused after the run, and still refused once
/// a rate limit would have cleared: a lockout, not throttling.
async fn locked_out(context: &HostContext, login: &Login, user: &str, password: &str) -> bool {
    for round in 0..2 {
        if round > 0 {
            tokio::time::sleep(SETTLE).await;
        }
        let (answer, _) = logins::attempt(context, login, user, password).await;
        if answer == Answer::Accepted {
            return false;
        }
    }
    true
}

/// The run of wrong passwords against one interface, until `until` at the latest;
/// then, when it showed protection and the IXIT gives a known-good credential, whether
/// that credential is locked out.
pub(crate) async fn guess(
    context: &HostContext,
    login: &Login,
    until: tokio::time::Instant,
) -> Run {
    let mut run = Run::default();
    let _ = tokio::time::timeout_at(until, wrong_passwords(context, login, &mut run)).await;
    if run.protection().is_some()
        && let Some((user, password)) = context.ixit.credential(login.port())
    {
        run.locked = locked_out(context, login, user, password).await;
    }
    run
}

async fn wrong_passwords(context: &HostContext, login: &Login, run: &mut Run) {
    let user = context
        .ixit
        .credential(login.port())
        .map_or("admin", |(user, _)| user)
        .to_owned();
    for index in 0..ATTEMPTS.min(context.max_login_attempts) {
        let password = format!("provisor-wrong-{index}");
        let (answer, time) = logins::attempt(context, login, &user, &password).await;
        run.answers.push((answer, time.as_millis() as u64));
        // Refused as too many, or gone silent: the run has its evidence.
        if matches!(answer, Answer::Throttled | Answer::Silent) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(answers: &[(Answer, u64)]) -> Run {
        Run {
            answers: answers.to_vec(),
            locked: false,
        }
    }

    #[test]
    fn protection_is_told_from_the_answers() {
        let prompt = vec![(Answer::Rejected, 3); 30];
        assert_eq!(run(&prompt).protection(), None);
        let mut throttled = prompt.clone();
        throttled[7] = (Answer::Throttled, 1);
        assert!(run(&throttled).protection().unwrap().contains("attempt 8"));
        let slowing: Vec<(Answer, u64)> =
            (0..12).map(|n| (Answer::Rejected, 5 + n * 200)).collect();
        assert!(run(&slowing).protection().unwrap().contains("slowed"));
        let jitter: Vec<(Answer, u64)> = (0..12).map(|n| (Answer::Rejected, 20 + n % 3)).collect();
        assert_eq!(run(&jitter).protection(), None);
    }
}
