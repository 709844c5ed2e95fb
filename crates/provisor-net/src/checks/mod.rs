//! The network checks, one file each, in one sorted registry. A check observes what
//! discovery and identification found (and may talk to the host itself, within its
//! own deadlines, attempt limits and a time for each port) and records findings located
//! at `host:port`. Checks run side by side in three [`Phase`]s: those that only look,
//! beside the login trials ([`trials`]); those that record the trials; and last those
//! that may stop a service. The doc comment above each check's struct is its entry in
//! docs/checks.md, which a test keeps in step (`UPDATE_DOCS=1 cargo test -p
//! provisor-cli` rewrites it).

mod default_credentials;
mod exposed_interfaces;
mod information_disclosure;
mod input_robustness;
mod known_vulnerabilities;
mod login_throttling;
pub mod logins;
mod plaintext;
mod ssh;
mod tls;
pub mod trials;
pub(crate) mod unauthenticated_access;

use std::future::Future;
use std::pin::Pin;

use provisor_engine::FindingSink;

use crate::identify::Service;
use crate::target::Target;

pub use default_credentials::DefaultCredentials;
pub use exposed_interfaces::ExposedInterfaces;
pub use information_disclosure::InformationDisclosure;
pub use input_robustness::InputRobustness;
pub use known_vulnerabilities::KnownVulnerabilities;
pub use login_throttling::LoginThrottling;
pub use plaintext::Plaintext;
pub use ssh::Ssh;
pub use tls::Tls;
pub use unauthenticated_access::UnauthenticatedAccess;

/// What a check is, for the registry and the documentation.
#[derive(Debug)]
pub struct CheckMeta {
    /// Stable identifier (`net.exposed-interfaces`).
    pub id: &'static str,
    /// One line.
    pub title: &'static str,
    /// The provisions its findings bear on.
    pub provisions: &'static [&'static str],
}

/// What the checks see of the host.
#[derive(Debug)]
pub struct HostContext {
    /// The host.
    pub target: Target,
    /// Every open TCP port, identified as far as the probes could.
    pub services: Vec<Service>,
    /// The pages of each web port anyone can fetch, crawled once before the checks run.
    pub sites: Vec<crate::site::Site>,
    /// TCP ports scanned.
    pub ports_scanned: usize,
    /// Ports that never answered.
    pub filtered: Vec<u16>,
    /// How long a check waits for a connection or an answer.
    pub deadline: std::time::Duration,
    /// Whether checks may send credentials.
    pub auth_tests: bool,
    /// Login attempts per interface, at most.
    pub max_login_attempts: usize,
    /// The manufacturer's declared interfaces and credentials.
    pub ixit: crate::Ixit,
    /// The login interfaces, found once before the checks run (none without auth tests).
    pub logins: Vec<logins::Login>,
    /// What trying credentials on each login interface showed (in the order of
    /// `logins`), there for the checks of [`Phase::Trials`].
    pub trials: Vec<trials::Trial>,
    /// The UDP services that answered.
    pub udp: Vec<crate::udp::UdpService>,
    /// The authentication methods each SSH server offers (`None`: it could not be
    /// asked), asked once before the checks run.
    pub ssh_methods: Vec<(u16, Option<Vec<String>>)>,
    /// The UPnP device descriptions SSDP pointed to on the target.
    pub upnp: Vec<crate::proto::upnp::Description>,
    /// The advisories software versions are matched against.
    pub advisories: Option<std::sync::Arc<provisor_advisories::Database>>,
}

impl HostContext {
    /// The authentication methods the SSH server on `port` offers, when it could be
    /// asked.
    pub fn ssh_methods(&self, port: u16) -> Option<&[String]> {
        self.ssh_methods
            .iter()
            .find(|(known, _)| *known == port)
            .and_then(|(_, methods)| methods.as_deref())
    }
}

/// A check's work, which may talk to the host.
pub type CheckRun<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// When a check runs. The checks of a phase run side by side, each with a sink of its
/// own; the findings are put together in the registry's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Looks at the services (and may ask them things), while the login trials run.
    Observe,
    /// Records what the login trials showed, once they are over.
    Trials,
    /// May stop a service: after everything else.
    Last,
}

/// One network check.
pub trait Check: Sync {
    /// Its id, title and provisions.
    fn meta(&self) -> &'static CheckMeta;
    /// When it runs.
    fn phase(&self) -> Phase {
        Phase::Observe
    }
    /// Observes the host and records findings.
    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a>;
}

/// Runs the checks of `phase` side by side, each with a sink of its own: the sinks with
/// the check's place in the registry, so the findings can be put together in its order.
pub async fn run_phase(phase: Phase, context: &HostContext) -> Vec<(usize, FindingSink)> {
    futures_util::future::join_all(
        all()
            .iter()
            .enumerate()
            .filter(|(_, check)| check.phase() == phase)
            .map(|(index, check)| async move {
                let mut own = FindingSink::new();
                check.run(context, &mut own).await;
                (index, own)
            }),
    )
    .await
}

/// How long a check may spend on one port: eight answers. A service that answers
/// takes a fraction of it; one that drips, stalls or lies costs no more.
pub(crate) fn port_budget(context: &HostContext) -> std::time::Duration {
    context.deadline * 8
}

/// Runs a check's `work` on one port within [`port_budget`]; `None` when the time ran
/// out.
pub(crate) async fn within_budget<T>(
    context: &HostContext,
    work: impl Future<Output = T>,
) -> Option<T> {
    tokio::time::timeout(port_budget(context), work).await.ok()
}

/// Records that `meta`'s check ran out of its time on `port`: what it saw there is not
/// enough for a verdict.
pub(crate) fn out_of_time(
    sink: &mut FindingSink,
    meta: &CheckMeta,
    context: &HostContext,
    port: u16,
    service: &str,
    what: &str,
) {
    let budget = port_budget(context);
    sink.add(
        meta.id,
        meta.provisions,
        provisor_engine::Outcome::Inconclusive,
        provisor_engine::Severity::Info,
        format!(
            "{what} on {} took longer than its {:.1} s",
            context.target.endpoint(port),
            budget.as_secs_f64()
        ),
    )
    .detail("the service answered too slowly, a byte at a time, or not as it said it would; look at it by hand, or scan again with a longer --answer-timeout")
    .on(&context.target.address.to_string(), port, "tcp", Some(service))
    .record();
}

/// Every network check, sorted by id.
pub fn all() -> &'static [&'static dyn Check] {
    &[
        &DefaultCredentials,
        &ExposedInterfaces,
        &InformationDisclosure,
        &InputRobustness,
        &KnownVulnerabilities,
        &LoginThrottling,
        &Plaintext,
        &Ssh,
        &Tls,
        &UnauthenticatedAccess,
    ]
}

/// Records a pass on the whole host for `meta`'s check when it examined something and
/// recorded no failure: a check that looked and found nothing wrong corroborates the
/// manufacturer's statements.
pub(crate) fn pass_if_clean(
    sink: &mut FindingSink,
    meta: &CheckMeta,
    context: &HostContext,
    examined: bool,
    title: String,
) {
    let failed = sink.findings().iter().any(|finding| {
        finding.check == meta.id && finding.outcome == provisor_engine::Outcome::Fail
    });
    if examined && !failed {
        sink.add(
            meta.id,
            meta.provisions,
            provisor_engine::Outcome::Pass,
            provisor_engine::Severity::Info,
            title,
        )
        .on_host(&context.target.address.to_string())
        .record();
    }
}

/// How a service reads in a title: `ssh (dropbear 2022.83)`.
pub(crate) fn describe(service: &Service) -> String {
    let name = service.name.as_deref().unwrap_or("unidentified");
    match (&service.product, &service.version) {
        (Some(product), Some(version)) => format!("{name} ({product} {version})"),
        (Some(product), None) => format!("{name} ({product})"),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_sorted_unique_and_names_real_provisions() {
        let catalog = provisor_catalog::checks_edition();
        let ids: Vec<&str> = all().iter().map(|check| check.meta().id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
        for check in all() {
            for provision in check.meta().provisions {
                assert!(
                    catalog.provision(provision).is_some(),
                    "{} names {provision}",
                    check.meta().id
                );
            }
        }
    }
}
