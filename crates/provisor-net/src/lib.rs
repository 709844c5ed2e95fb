//! Live device assessment over the network. A host is resolved once ([`Target`]), its
//! TCP ports are discovered by connect scan ([`discovery`]), what speaks on each open
//! port is identified by protocol from provisor's own probe table ([`identify`]), and
//! every check of the registry ([`checks::all`]) observes the result and records
//! findings at `host:port`. The result is a `provisor.findings/2` document.
//!
//! Network peers are hostile: every read is bounded in bytes and every connection and
//! answer has a deadline, so a peer that drips bytes, talks forever or never answers
//! costs at most its deadline. Every loop that sends traffic is bounded in count.

pub mod checks;
pub mod discovery;
pub mod identify;
mod inference;
pub mod ixit;
pub mod ports;
pub mod proto;
pub mod site;
pub mod target;
pub mod tls;
pub mod udp;

use std::sync::Arc;
use std::time::Instant;

use provisor_engine::{FindingSink, FindingsFile, Target as ScannedTarget};

pub use discovery::{Discovered, Discovery, PortState};
pub use identify::{Deadlines, Service};
pub use ixit::Ixit;
pub use ports::PortSpec;
pub use target::Target;

/// Why a host scan could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The host name did not resolve to an address.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The name.
        host: String,
        /// Why.
        reason: String,
    },
    /// A port specification is wrong.
    #[error("--ports {spec}: column {column}: {reason}")]
    Ports {
        /// The specification.
        spec: String,
        /// Where in it (1-based).
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// The asynchronous runtime could not start.
    #[error("cannot start the network runtime: {0}")]
    Runtime(String),
    /// The scan was stopped from outside before it ended (a worker lost its lease).
    #[error("the scan of {host} was stopped before it ended")]
    Stopped {
        /// The host.
        host: String,
    },
    /// The IXIT file cannot be used.
    #[error("{path}: {reason}")]
    Ixit {
        /// The file.
        path: String,
        /// What is wrong, with the line where there is one.
        reason: String,
    },
    /// Credentials would be sent to a host that is not this machine without the user's
    /// say-so.
    #[error(
        "{host} is not on this machine: trying credentials against it needs explicit authorisation (--i-am-authorised), or --no-auth-tests"
    )]
    NotAuthorised {
        /// The host.
        host: String,
    },
}

/// Told what the scan is doing: a stage name, steps done and steps in all.
pub type Progress = Arc<dyn Fn(&str, usize, usize) + Send + Sync>;

/// How to scan a host.
#[derive(Clone)]
pub struct HostOptions {
    /// TCP ports to scan.
    pub ports: PortSpec,
    /// Discovery's concurrency, deadline and retries.
    pub discovery: Discovery,
    /// Deadlines of service identification.
    pub deadlines: Deadlines,
    /// Open ports identified at once.
    pub identify_concurrency: usize,
    /// The version written into the findings document.
    pub tool_version: String,
    /// Called as the scan advances (for a progress bar).
    pub progress: Option<Progress>,
    /// Whether checks may send credentials (default credentials, brute-force runs).
    pub auth_tests: bool,
    /// Whoever runs the scan is allowed to try credentials against a host that is not
    /// this machine's loopback.
    pub authorised: bool,
    /// Login attempts per interface, at most.
    pub max_login_attempts: usize,
    /// The manufacturer's declared interfaces and credentials.
    pub ixit: Ixit,
    /// Whether the usual IoT UDP services (TFTP, SNMP, SSDP, mDNS, CoAP) are probed.
    pub udp: bool,
    /// The advisories the software seen in banners is matched against.
    pub advisories: Option<std::sync::Arc<provisor_advisories::Database>>,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            ports: PortSpec::all(),
            discovery: Discovery::default(),
            deadlines: Deadlines::default(),
            identify_concurrency: 64,
            tool_version: String::new(),
            progress: None,
            auth_tests: true,
            authorised: false,
            max_login_attempts: 30,
            ixit: Ixit::default(),
            udp: true,
            advisories: None,
        }
    }
}

impl std::fmt::Debug for HostOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HostOptions")
            .field("ports", &self.ports.len())
            .field("discovery", &self.discovery)
            .field("deadlines", &self.deadlines)
            .finish_non_exhaustive()
    }
}

fn tell(options: &HostOptions, stage: &str, done: usize, total: usize) {
    if let Some(progress) = &options.progress {
        progress(stage, done, total);
    }
}

/// Scans a host: discovery; each open port identified and then looked at (its web
/// pages crawled, its SSH authentication methods asked) on its own, the UDP services
/// meanwhile; the login interfaces found; then the checks in their phases, the login
/// trials beside the checks that only look.
pub async fn scan_host(host: &str, options: &HostOptions) -> Result<FindingsFile, NetError> {
    let started = Instant::now();
    let target = Target::resolve(host).await?;
    if options.auth_tests && !options.authorised && !target.is_loopback() {
        return Err(NetError::NotAuthorised {
            host: host.to_owned(),
        });
    }
    let total = 5;
    tell(options, "discovering open ports", 0, total);
    let discovered = discovery::tcp_scan(&target, options.ports.ports(), options.discovery).await;
    tell(options, "identifying services", 1, total);
    let (surveyed, (udp, upnp)) = futures_util::future::join(
        survey_all(&target, &discovered.open, discovered.connections, options),
        udp_services(&target, options),
    )
    .await;
    let mut sink = FindingSink::new();
    let (mut services, mut sites, mut ssh_methods) = (Vec::new(), Vec::new(), Vec::new());
    for port in surveyed {
        let service = &port.service;
        if let (Some(product), Some(version)) = (&service.product, &service.version) {
            let name = product.to_ascii_lowercase();
            sink.component(
                &name,
                Some(version),
                Some(format!("pkg:generic/{name}@{version}")),
                &target.endpoint(service.port),
            );
        }
        if let Some(methods) = port.ssh_methods {
            ssh_methods.push((service.port, methods));
        }
        sites.extend(port.site);
        services.push(port.service);
    }
    let mut context = checks::HostContext {
        target: target.clone(),
        sites,
        services,
        ports_scanned: options.ports.len(),
        filtered: discovered.filtered,
        deadline: options.deadlines.answer,
        auth_tests: options.auth_tests,
        max_login_attempts: options.max_login_attempts,
        ixit: options.ixit.clone(),
        logins: Vec::new(),
        trials: Vec::new(),
        udp,
        ssh_methods,
        upnp,
        advisories: options.advisories.clone(),
    };
    if options.auth_tests {
        tell(options, "finding login interfaces", 2, total);
        context.logins = checks::logins::interfaces(&context).await;
    }
    tell(options, "checking, and trying credentials", 3, total);
    let (trials, mut recorded) = futures_util::future::join(
        checks::trials::all(&context),
        checks::run_phase(checks::Phase::Observe, &context),
    )
    .await;
    context.trials = trials;
    recorded.extend(checks::run_phase(checks::Phase::Trials, &context).await);
    tell(options, "sending malformed input", 4, total);
    recorded.extend(checks::run_phase(checks::Phase::Last, &context).await);
    // The findings in the registry's order, whatever phase recorded them.
    recorded.sort_by_key(|(index, _)| *index);
    for (_, own) in recorded {
        sink.merge(own);
    }
    inference::infer(&context, &mut sink);
    tell(options, "done", total, total);
    let mut document = FindingsFile::new(
        &options.tool_version,
        ScannedTarget {
            kind: "host".into(),
            host: Some(target.name.clone()),
            ..ScannedTarget::default()
        },
    );
    let (findings, components, inferred) = sink.finish();
    document.findings = findings;
    document.components = components;
    document.inferred_conditions = inferred;
    document.duration_ms = started.elapsed().as_millis() as u64;
    Ok(document)
}

/// What was learnt of one open port before the checks run.
struct Surveyed {
    /// What speaks on it.
    service: Service,
    /// Its web pages, when it serves HTTP.
    site: Option<site::Site>,
    /// The authentication methods of its SSH server (`Some(None)`: it could not be
    /// asked).
    ssh_methods: Option<Option<Vec<String>>>,
}

/// Surveys the open ports, several at once, on the connections discovery kept where it
/// kept them: each port is identified, then its pages crawled or its SSH server asked,
/// without waiting for the other ports.
async fn survey_all(
    target: &Target,
    open: &[u16],
    connections: Vec<(u16, tokio::net::TcpStream)>,
    options: &HostOptions,
) -> Vec<Surveyed> {
    let concurrency = options.identify_concurrency.max(1);
    let mut kept: std::collections::HashMap<u16, tokio::net::TcpStream> =
        connections.into_iter().collect();
    let extra = Arc::new(checks::unauthenticated_access::endpoint_paths());
    let mut surveyed = Vec::with_capacity(open.len());
    for batch in open.chunks(concurrency) {
        let mut running = tokio::task::JoinSet::new();
        for &port in batch {
            let (target, deadlines, extra) = (target.clone(), options.deadlines, extra.clone());
            let stream = kept.remove(&port);
            running.spawn(async move { survey(&target, port, deadlines, stream, &extra).await });
        }
        while let Some(done) = running.join_next().await {
            if let Ok(port) = done {
                surveyed.push(port);
            }
        }
    }
    surveyed.sort_by_key(|port| port.service.port);
    surveyed
}

/// Identifies one open port, then crawls its web pages (within six answers' time) or
/// asks its SSH server for the authentication methods it offers. A "none" request
/// carries no secret: it is asked whether or not credentials may be sent.
async fn survey(
    target: &Target,
    port: u16,
    deadlines: Deadlines,
    stream: Option<tokio::net::TcpStream>,
    extra: &[(String, String)],
) -> Surveyed {
    let service = identify::identify(target, port, deadlines, stream).await;
    let (mut site, mut ssh_methods) = (None, None);
    match service.name.as_deref() {
        Some(name @ ("http" | "https")) => {
            let budget = deadlines.answer * 6;
            let tls = name == "https";
            site = Some(site::crawl(target, port, tls, deadlines.answer, budget, extra).await);
        }
        Some("ssh") => {
            ssh_methods = Some(proto::ssh_auth::methods(target, port, deadlines.answer).await);
        }
        _ => {}
    }
    Surveyed {
        service,
        site,
        ssh_methods,
    }
}

/// The UDP services that answer, and the UPnP descriptions SSDP points to.
async fn udp_services(
    target: &Target,
    options: &HostOptions,
) -> (Vec<udp::UdpService>, Vec<proto::upnp::Description>) {
    if !options.udp {
        return (Vec::new(), Vec::new());
    }
    let udp = udp::discover(target, options.deadlines.answer, options.auth_tests).await;
    let mut upnp: Vec<proto::upnp::Description> = Vec::new();
    for location in udp.iter().filter_map(|service| service.detail("location")) {
        if upnp.iter().all(|known| known.location != location) {
            upnp.extend(proto::upnp::describe(target, location, options.deadlines.answer).await);
        }
    }
    (udp, upnp)
}

/// Scans a host from synchronous code, on a runtime of its own.
pub fn scan_host_blocking(host: &str, options: &HostOptions) -> Result<FindingsFile, NetError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| NetError::Runtime(error.to_string()))?
        .block_on(scan_host(host, options))
}

/// As [`scan_host_blocking`], stopped as soon as `stop` turns true: the scan's runtime is
/// shut down at once, which drops every connection and probe in flight, so no packet
/// leaves for the host after the stop is seen (a worker that lost its lease must not test
/// credentials on a device another worker is now scanning).
pub fn scan_host_blocking_until(
    host: &str,
    options: &HostOptions,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<FindingsFile, NetError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| NetError::Runtime(error.to_string()))?;
    let scanned = runtime.block_on(async {
        tokio::select! {
            scanned = scan_host(host, options) => Some(scanned),
            () = async {
                // A sender gone without stopping leaves the scan to end by itself.
                if stop.wait_for(|stopped| *stopped).await.is_err() {
                    std::future::pending::<()>().await;
                }
            } => None,
        }
    });
    // Tasks the scan spawned are dropped at their next await, without waiting for them.
    runtime.shutdown_background();
    scanned.unwrap_or_else(|| {
        Err(NetError::Stopped {
            host: host.to_owned(),
        })
    })
}
