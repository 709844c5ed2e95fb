//! `net.known-vulnerabilities`: software seen in banners that published advisories
//! affect.

use provisor_engine::{FindingSink, Outcome, Severity};

use super::{Check, CheckMeta, CheckRun, HostContext, pass_if_clean};

/// Matches the software and version each service names (an SSH identification string,
/// a `Server` header, an FTP banner: the components of the scan, as
/// `pkg:generic/NAME@VERSION`) against the advisories imported with `provisor advisories
/// import` (OSV format) and given with `--advisories`: each advisory that affects a
/// version fails 5.2-3 (known vulnerabilities are to be rectified) and 5.3-8 (security
/// updates are to be timely), on the port that showed it, with the advisory's severity
/// and the version that fixes it. A banner may hide a backported fix (Debian's OpenSSH
/// says 9.2p1 and carries the Terrapin fix), so the detail says where the version was
/// read. Nothing is fetched at scan time; without advisories the check says so instead
/// of passing.
pub struct KnownVulnerabilities;

static META: CheckMeta = CheckMeta {
    id: "net.known-vulnerabilities",
    title: "software in banners affected by known vulnerabilities",
    provisions: &["5.2-3", "5.3-8"],
};

impl Check for KnownVulnerabilities {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a> {
        Box::pin(async move { observe(context, sink) })
    }
}

fn observe(context: &HostContext, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    let versioned: Vec<_> = context
        .services
        .iter()
        .filter_map(|service| {
            let product = service.product.as_deref()?;
            Some((
                service,
                product.to_ascii_lowercase(),
                service.version.as_deref()?,
            ))
        })
        .collect();
    if versioned.is_empty() {
        return;
    }
    let Some(database) = context.advisories.as_deref() else {
        sink.add(
            META.id,
            META.provisions,
            Outcome::Info,
            Severity::Info,
            format!(
                "the {} versions services name were not checked for known vulnerabilities (no advisories given)",
                versioned.len()
            ),
        )
        .detail("import advisories in OSV format with `provisor advisories import DIR` and scan with --advisories")
        .on_host(&host)
        .record();
        return;
    };
    for (service, name, version) in &versioned {
        let purl = format!("pkg:generic/{name}@{version}");
        let asked = provisor_advisories::Component {
            name,
            version,
            purl: Some(&purl),
            cpe: None,
            source: None,
        };
        for found in database.matches(asked) {
            let advisory = found.advisory;
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::from_rating(advisory.severity.as_deref()),
                format!(
                    "{name} {version} on {} is affected by {}",
                    context.target.endpoint(service.port),
                    advisory.id
                ),
            )
            .detail(format!(
                "{}; {} (the version is the one the service names: a distribution may have backported the fix)",
                advisory.summary,
                found.fixed_text()
            ))
            .on(&host, service.port, "tcp", service.name.as_deref())
            .evidence(found.evidence(asked))
            .record();
        }
    }
    pass_if_clean(
        sink,
        &META,
        context,
        true,
        format!(
            "no software a service names is affected by a known vulnerability ({} versions, {} advisories imported {})",
            versioned.len(),
            database.advisories.len(),
            database.imported
        ),
    );
}
