//! The login trials: on every login interface, the well-known default credentials and
//! then a run of wrong passwords, once, before `net.default-credentials` and
//! `net.login-throttling` record what they showed. The interfaces are tried side by
//! side, and beside the checks that only look; on one interface the default
//! credentials come first, so the run's wrong guesses cannot lock out an account before
//! its default password is tried. Each interface's trial is bounded in attempts and in
//! time ([`DEFAULTS`], [`TRIAL`]), so a login that answers a password a second late, a
//! byte at a time, or not at all costs at most its bound.

use std::time::Duration;

use futures_util::future::join_all;

use super::HostContext;
use super::default_credentials::{self, Tried};
use super::login_throttling::{self, Run};
use super::logins::Login;

/// How long the default credentials may take on one interface.
pub const DEFAULTS: Duration = Duration::from_secs(35);

/// How long the default credentials and the run of wrong passwords may take together
/// on one interface: the run has what the default credentials left, at least 25 s.
pub const TRIAL: Duration = Duration::from_secs(60);

/// What trying credentials on one login interface showed.
#[derive(Debug, Clone)]
pub struct Trial {
    /// The default credentials tried, and those that opened the interface.
    pub(crate) defaults: Tried,
    /// The run of wrong passwords.
    pub(crate) run: Run,
}

/// Tries every login interface of the context, side by side (none without auth tests).
pub async fn all(context: &HostContext) -> Vec<Trial> {
    if !context.auth_tests {
        return Vec::new();
    }
    join_all(context.logins.iter().map(|login| trial(context, login))).await
}

/// One interface's trial: its default credentials, then its run of wrong passwords.
async fn trial(context: &HostContext, login: &Login) -> Trial {
    let started = tokio::time::Instant::now();
    let defaults = default_credentials::try_defaults(context, login, started + DEFAULTS).await;
    let run = login_throttling::guess(context, login, started + TRIAL).await;
    Trial { defaults, run }
}
