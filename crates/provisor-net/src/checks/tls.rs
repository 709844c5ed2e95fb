//! `net.tls`: protocol versions, cipher suites and the certificate of every TLS port.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use futures_util::future::join_all;
use provisor_engine::{FindingSink, Outcome, Severity};
use serde::Deserialize;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{Check, CheckMeta, CheckRun, HostContext, out_of_time, within_budget};
use crate::tls::{self, Reply, Version};

/// For every port that speaks TLS, offers each version from SSLv3 to TLS 1.3 with
/// hand-built ClientHellos (rustls cannot speak the old ones), lists the suites each
/// accepted version agrees to (offering every suite the server has not yet chosen,
/// until it refuses), and reads the certificate the server sends in the clear. Graded
/// against the profile in `data/tls.toml` (BSI TR-02102-2 and Mozilla's intermediate
/// configuration): a version other than TLS 1.2 and 1.3 fails, as do NULL, export,
/// anonymous, RC4, DES, 3DES and IDEA suites, an RSA key under 2048 bits or an EC key
/// under 256, a certificate signed with MD5 or SHA-1, and one expired or not yet valid.
/// Legacy suites (CBC, static RSA key exchange) and self-signed certificates are noted.
/// The ports are examined side by side, each within eight answers' time: what a port
/// agreed to before its time ran out still fails it, but it cannot pass.
/// 5.5-1 asks for best-practice cryptography, 5.5-7 and 5.8-1/5.8-2 for protecting
/// sensitive and personal data in transit.
pub struct Tls;

static META: CheckMeta = CheckMeta {
    id: "net.tls",
    title: "TLS versions, cipher suites and certificates",
    provisions: &["5.5-1", "5.5-7", "5.8-1", "5.8-2"],
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    profile: Profile,
    suite: Vec<Suite>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    versions: Vec<String>,
    min_rsa_bits: usize,
    min_ec_bits: usize,
    broken_signature_hashes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    id: u16,
    name: String,
    grade: Grade,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Grade {
    Recommended,
    Legacy,
    Broken,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str(include_str!("../../data/tls.toml"))
            .expect("the TLS table is valid (tested)")
    })
}

fn suite(id: u16) -> Option<&'static Suite> {
    table().suite.iter().find(|suite| suite.id == id)
}

/// The suites offered to a version: TLS 1.3's own, or every other one.
fn offered_to(version: Version) -> Vec<u16> {
    table()
        .suite
        .iter()
        .filter(|suite| (suite.id >> 8 == 0x13) == (version == Version::Tls13))
        .map(|suite| suite.id)
        .collect()
}

const VERSIONS: [Version; 5] = [
    Version::Ssl3,
    Version::Tls10,
    Version::Tls11,
    Version::Tls12,
    Version::Tls13,
];

/// What one TLS port agreed to.
#[derive(Debug, Default)]
struct Observed {
    /// Versions accepted, with the suites each agreed to.
    versions: Vec<(Version, Vec<u16>)>,
    /// The leaf certificate, when one came in the clear.
    certificate: Option<Vec<u8>>,
}

async fn observe_port(context: &HostContext, port: u16, observed: &mut Observed) {
    for version in VERSIONS {
        let mut offered = offered_to(version);
        let mut agreed = Vec::new();
        // Each round removes the suite the server chose; the table bounds the rounds.
        for _ in 0..=offered.len() {
            if offered.is_empty() {
                break;
            }
            let reply =
                tls::hello(&context.target, port, version, &offered, context.deadline).await;
            let Reply::Hello {
                version: chosen,
                suite,
                certificates,
            } = reply
            else {
                break;
            };
            if chosen != version || !offered.contains(&suite) {
                break;
            }
            if observed.certificate.is_none() {
                observed.certificate = certificates.into_iter().next();
            }
            agreed.push(suite);
            offered.retain(|&id| id != suite);
        }
        if !agreed.is_empty() {
            observed.versions.push((version, agreed));
        }
    }
}

impl Check for Tls {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a> {
        Box::pin(observe(context, sink))
    }
}

async fn observe(context: &HostContext, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    let profile = &table().profile;
    let ports: Vec<u16> = context
        .services
        .iter()
        .filter(|service| matches!(service.name.as_deref(), Some("tls" | "https" | "mqtts")))
        .map(|service| service.port)
        .collect();
    // The ports side by side, each within its time; what a port agreed to before its
    // time ran out still counts.
    let observations = join_all(ports.iter().map(|&port| async move {
        let mut observed = Observed::default();
        let complete = within_budget(context, observe_port(context, port, &mut observed))
            .await
            .is_some();
        (observed, complete)
    }))
    .await;
    for (port, (observed, complete)) in ports.into_iter().zip(observations) {
        let endpoint = context.target.endpoint(port);
        if !complete {
            let what = "enumerating TLS versions and cipher suites";
            out_of_time(sink, &META, context, port, "tls", what);
        }
        let mut failed = false;
        let mut fail = |sink: &mut FindingSink, severity, title: String, detail: &str| {
            failed = true;
            sink.add(META.id, META.provisions, Outcome::Fail, severity, title)
                .detail(detail)
                .on(&host, port, "tcp", Some("tls"))
                .record();
        };
        let accepted: Vec<&str> = observed
            .versions
            .iter()
            .map(|(version, _)| version.name())
            .collect();
        let legacy_versions: Vec<&str> = accepted
            .iter()
            .copied()
            .filter(|name| !profile.versions.iter().any(|allowed| allowed == name))
            .collect();
        if !legacy_versions.is_empty() {
            fail(
                sink,
                Severity::High,
                format!("TLS on {endpoint} accepts {}", legacy_versions.join(", ")),
                "versions before TLS 1.2 have known attacks (BEAST, POODLE, weak hashes in the handshake); accept TLS 1.2 and 1.3 only",
            );
        }
        if !accepted.is_empty() && accepted.iter().all(|name| legacy_versions.contains(name)) {
            fail(
                sink,
                Severity::High,
                format!("TLS on {endpoint} offers neither TLS 1.2 nor TLS 1.3"),
                "enable TLS 1.2 and TLS 1.3",
            );
        }
        let agreed: BTreeSet<u16> = observed
            .versions
            .iter()
            .flat_map(|(_, suites)| suites.iter().copied())
            .collect();
        let graded = |grade: Grade| -> Vec<&str> {
            agreed
                .iter()
                .filter_map(|&id| suite(id))
                .filter(|suite| suite.grade == grade)
                .map(|suite| suite.name.as_str())
                .collect()
        };
        let broken = graded(Grade::Broken);
        if !broken.is_empty() {
            fail(
                sink,
                Severity::High,
                format!(
                    "TLS on {endpoint} agrees to broken cipher suites: {}",
                    broken.join(", ")
                ),
                "NULL, export, anonymous, RC4, DES, 3DES and IDEA suites give no real protection; offer forward-secret AEAD suites",
            );
        }
        let certificate = observed.certificate.as_deref().and_then(|der| {
            X509Certificate::from_der(der)
                .ok()
                .map(|(_, parsed)| parsed)
        });
        let mut notes = Vec::new();
        if let Some(certificate) = &certificate {
            for (severity, problem) in certificate_problems(certificate, profile) {
                fail(
                    sink,
                    severity,
                    format!("the certificate of {endpoint} {problem}"),
                    "use a certificate with an RSA key of 2048 bits or more or an EC key of 256 bits, signed with SHA-256 or better, and renew it before it expires",
                );
            }
            if certificate.subject() == certificate.issuer() {
                notes.push("self-signed certificate".to_owned());
            }
        } else if !accepted.is_empty() {
            notes.push("certificate not seen (sent encrypted under TLS 1.3)".to_owned());
        }
        let legacy = graded(Grade::Legacy);
        if !legacy.is_empty() {
            notes.push(format!("legacy suites: {}", legacy.join(", ")));
        }
        let evidence = serde_json::json!({
            "versions": observed.versions.iter().map(|(version, suites)| serde_json::json!({
                "version": version.name(),
                "suites": suites.iter().map(|&id| suite(id).map_or_else(|| format!("0x{id:04x}"), |suite| suite.name.clone())).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "certificate": certificate.as_ref().map(|certificate| serde_json::json!({
                "subject": certificate.subject().to_string(),
                "issuer": certificate.issuer().to_string(),
                "not_after": certificate.validity().not_after.to_string(),
            })),
        });
        let (outcome, title) = if accepted.is_empty() {
            if !complete {
                continue;
            }
            (
                Outcome::Inconclusive,
                format!(
                    "TLS on {endpoint} completed no handshake with the versions and suites offered"
                ),
            )
        } else if failed || !complete {
            (
                Outcome::Info,
                format!(
                    "TLS on {endpoint}: {}, {} suites",
                    accepted.join(", "),
                    agreed.len()
                ),
            )
        } else {
            (
                Outcome::Pass,
                format!(
                    "TLS on {endpoint} accepts only {} with sound suites and certificate",
                    accepted.join(" and ")
                ),
            )
        };
        sink.add(META.id, META.provisions, outcome, Severity::Info, title)
            .detail(notes.join("; "))
            .on(&host, port, "tcp", Some("tls"))
            .evidence(evidence)
            .record();
    }
}

/// What is wrong with a server's certificate under the profile.
fn certificate_problems(
    certificate: &X509Certificate<'_>,
    profile: &Profile,
) -> Vec<(Severity, String)> {
    use x509_parser::public_key::PublicKey;
    let mut problems = Vec::new();
    if let Ok(key) = certificate.public_key().parsed() {
        let bits = key.key_size();
        let minimum = match key {
            PublicKey::RSA(_) => Some(("RSA", profile.min_rsa_bits)),
            PublicKey::EC(_) => Some(("EC", profile.min_ec_bits)),
            PublicKey::DSA(_) => Some(("DSA", usize::MAX)),
            _ => None,
        };
        if let Some((algorithm, minimum)) = minimum
            && bits > 0
            && bits < minimum
        {
            problems.push((Severity::High, format!("has a {bits}-bit {algorithm} key")));
        }
    }
    let registry = x509_parser::oid_registry::OidRegistry::default().with_all_crypto();
    let oid = &certificate.signature_algorithm.algorithm;
    let signature = registry
        .get(oid)
        .map_or_else(|| oid.to_id_string(), |entry| entry.sn().to_owned());
    // "sha1WithRSAEncryption", "ecdsa-with-SHA1": the hash before or after "with".
    let normalized: String = signature
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if let Some(hash) = profile.broken_signature_hashes.iter().find(|hash| {
        let hash = hash.to_ascii_lowercase();
        normalized.starts_with(&format!("{hash}with"))
            || normalized.ends_with(&format!("with{hash}"))
    }) {
        problems.push((
            Severity::Medium,
            format!("is signed with {hash} ({signature})"),
        ));
    }
    let validity = certificate.validity();
    if !validity.is_valid() {
        let now = x509_parser::time::ASN1Time::now();
        let problem = if validity.not_after < now {
            format!("expired on {}", validity.not_after.to_datetime().date())
        } else {
            format!(
                "is not valid before {}",
                validity.not_before.to_datetime().date()
            )
        };
        problems.push((Severity::Medium, problem));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sound() {
        let ids: BTreeSet<u16> = table().suite.iter().map(|suite| suite.id).collect();
        assert_eq!(ids.len(), table().suite.len(), "a suite twice");
        assert!(offered_to(Version::Tls13).iter().all(|id| id >> 8 == 0x13));
        assert!(offered_to(Version::Tls12).len() > 60);
        assert_eq!(suite(0x000a).unwrap().grade, Grade::Broken);
        assert_eq!(suite(0xc02f).unwrap().grade, Grade::Recommended);
        for name in &table().profile.versions {
            assert!(
                VERSIONS.iter().any(|version| version.name() == name),
                "{name}"
            );
        }
    }
}
