//! `net.ssh`: the algorithms an SSH server offers, Terrapin, and how it lets users in.

use std::sync::OnceLock;

use provisor_engine::{FindingSink, Outcome, Severity};
use serde::Deserialize;

use super::{Check, CheckMeta, CheckRun, HostContext};
use crate::proto::ssh;

/// Reads each SSH server's identification string and its key exchange offer (sent
/// before any cryptography) and grades the key exchange methods, host key algorithms,
/// ciphers and MACs against `data/ssh-algorithms.toml`: broken ones (DH group 1, DSA,
/// RC4, 3DES and other 64-bit block ciphers, MD5 and 96-bit MACs, `none`) fail 5.5-1;
/// legacy ones (SHA-1, CBC, NIST curves) are noted. A server that offers
/// ChaCha20-Poly1305 or an encrypt-then-MAC MAC with a CBC cipher without strict key
/// exchange (`kex-strict-s-v00@openssh.com`) is open to the Terrapin prefix-truncation
/// attack (CVE-2023-48795) and fails too. Then it reads which authentication methods
/// the server offers (asked once per scan with a "none" request, which carries no
/// secret): public keys alone
/// pass 5.1-3; passwords are noted (they can be guessed: `net.default-credentials` and
/// `net.login-throttling` try them); a server that lets a user in with no credential at
/// all fails 5.1-3 and 5.5-4.
pub struct Ssh;

static META: CheckMeta = CheckMeta {
    id: "net.ssh",
    title: "SSH algorithms, Terrapin and authentication methods",
    provisions: &["5.5-1", "5.1-3", "5.5-4"],
};

/// The provisions of the algorithm findings.
const CRYPTOGRAPHY: &[&str] = &["5.5-1"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Algorithms {
    algorithm: Vec<Algorithm>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Algorithm {
    name: String,
    kind: String,
    grade: Grade,
    why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Grade {
    Broken,
    Legacy,
}

fn algorithms() -> &'static [Algorithm] {
    static TABLE: OnceLock<Algorithms> = OnceLock::new();
    &TABLE
        .get_or_init(|| {
            toml::from_str(include_str!("../../data/ssh-algorithms.toml"))
                .expect("the SSH algorithm table is valid (tested)")
        })
        .algorithm
}

/// The graded algorithms of an offer: (grade, kind, name, why).
fn graded(offer: &ssh::Offer) -> Vec<(Grade, &'static str, String, &'static str)> {
    let mut found = Vec::new();
    for (kind, names) in [
        ("kex", &offer.kex),
        ("host-key", &offer.host_key),
        ("cipher", &offer.ciphers),
        ("mac", &offer.macs),
    ] {
        for name in names {
            if let Some(known) = algorithms()
                .iter()
                .find(|known| known.kind == kind && known.name == *name)
            {
                found.push((
                    known.grade,
                    known.kind_name(),
                    name.clone(),
                    known.why.as_str(),
                ));
            }
        }
    }
    found
}

impl Algorithm {
    fn kind_name(&self) -> &'static str {
        match self.kind.as_str() {
            "kex" => "key exchange",
            "host-key" => "host key",
            "cipher" => "cipher",
            _ => "MAC",
        }
    }
}

/// Whether the offer is open to Terrapin: a vulnerable mode without strict kex.
fn terrapin(offer: &ssh::Offer) -> Option<&'static str> {
    if offer
        .kex
        .iter()
        .any(|name| name == "kex-strict-s-v00@openssh.com")
    {
        return None;
    }
    if offer
        .ciphers
        .iter()
        .any(|name| name == "chacha20-poly1305@openssh.com")
    {
        return Some("ChaCha20-Poly1305");
    }
    let cbc = offer.ciphers.iter().any(|name| name.ends_with("-cbc"));
    let etm = offer.macs.iter().any(|name| name.contains("-etm@"));
    (cbc && etm).then_some("a CBC cipher with an encrypt-then-MAC MAC")
}

impl Check for Ssh {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run<'a>(&'a self, context: &'a HostContext, sink: &'a mut FindingSink) -> CheckRun<'a> {
        Box::pin(observe(context, sink))
    }
}

async fn observe(context: &HostContext, sink: &mut FindingSink) {
    let host = context.target.address.to_string();
    for service in &context.services {
        if service.name.as_deref() != Some("ssh") {
            continue;
        }
        let port = service.port;
        let endpoint = context.target.endpoint(port);
        let Some(offer) = ssh::offer(&context.target, port, context.deadline).await else {
            sink.add(
                META.id,
                CRYPTOGRAPHY,
                Outcome::Inconclusive,
                Severity::Info,
                format!("the SSH server on {endpoint} sent no key exchange offer"),
            )
            .on(&host, port, "tcp", Some("ssh"))
            .record();
            continue;
        };
        let grades = graded(&offer);
        let evidence = serde_json::json!({
            "banner": offer.banner,
            "kex": offer.kex,
            "host_key": offer.host_key,
            "ciphers": offer.ciphers,
            "macs": offer.macs,
            "compression": offer.compression,
        });
        let broken: Vec<String> = grades
            .iter()
            .filter(|(grade, ..)| *grade == Grade::Broken)
            .map(|(_, kind, name, why)| format!("{kind} {name} ({why})"))
            .collect();
        let legacy: Vec<String> = grades
            .iter()
            .filter(|(grade, ..)| *grade == Grade::Legacy)
            .map(|(_, kind, name, why)| format!("{kind} {name} ({why})"))
            .collect();
        if !broken.is_empty() {
            sink.add(
                META.id,
                CRYPTOGRAPHY,
                Outcome::Fail,
                Severity::Medium,
                format!(
                    "the SSH server on {endpoint} offers broken algorithms: {}",
                    names(&broken)
                ),
            )
            .detail(broken.join("; "))
            .on(&host, port, "tcp", Some("ssh"))
            .evidence(evidence.clone())
            .record();
        }
        if let Some(mode) = terrapin(&offer) {
            sink.add(
                META.id,
                CRYPTOGRAPHY,
                Outcome::Fail,
                Severity::Medium,
                format!("the SSH server on {endpoint} is open to Terrapin (CVE-2023-48795): {mode} without strict key exchange"),
            )
            .detail("an attacker on the path can drop the first messages after the key exchange unnoticed; update the server to one with strict key exchange")
            .on(&host, port, "tcp", Some("ssh"))
            .evidence(evidence.clone())
            .record();
        }
        if broken.is_empty() && terrapin(&offer).is_none() {
            let title = if legacy.is_empty() {
                format!("the SSH server on {endpoint} offers no weak algorithm")
            } else {
                format!(
                    "the SSH server on {endpoint} offers no broken algorithm (legacy: {})",
                    names(&legacy)
                )
            };
            sink.add(META.id, CRYPTOGRAPHY, Outcome::Pass, Severity::Info, title)
                .detail(legacy.join("; "))
                .on(&host, port, "tcp", Some("ssh"))
                .evidence(evidence)
                .record();
        }
        authentication(context, sink, port).await;
    }
}

/// How the server on `port` lets users in.
async fn authentication(context: &HostContext, sink: &mut FindingSink, port: u16) {
    let host = context.target.address.to_string();
    let endpoint = context.target.endpoint(port);
    let Some(methods) = context.ssh_methods(port) else {
        sink.add(
            META.id,
            &["5.1-3"],
            Outcome::Inconclusive,
            Severity::Info,
            format!("the SSH server on {endpoint} could not be asked for its authentication methods (no common algorithms, or no answer)"),
        )
        .on(&host, port, "tcp", Some("ssh"))
        .record();
        return;
    };
    let evidence = serde_json::json!({ "methods": methods });
    let offers = |name: &str| methods.iter().any(|method| method == name);
    let (provisions, outcome, severity, title, detail): (&[&str], _, _, _, _) = if offers("none") {
        (
            &["5.1-3", "5.5-4"],
            Outcome::Fail,
            Severity::Critical,
            format!("the SSH server on {endpoint} lets a user in without any credential"),
            "anyone who reaches the port gets a session; require a key or a unique password",
        )
    } else if offers("password") || offers("keyboard-interactive") {
        (
            &["5.1-3"],
            Outcome::Info,
            Severity::Info,
            format!(
                "the SSH server on {endpoint} takes passwords ({})",
                methods.join(", ")
            ),
            "passwords can be guessed: net.default-credentials and net.login-throttling try this server; public keys alone would rule guessing out",
        )
    } else if offers("publickey") {
        (
            &["5.1-3"],
            Outcome::Pass,
            Severity::Info,
            format!("the SSH server on {endpoint} takes public keys only"),
            "nothing to guess: a login needs a private key",
        )
    } else {
        (
            &["5.1-3"],
            Outcome::Info,
            Severity::Info,
            format!(
                "the SSH server on {endpoint} offers the authentication methods: {}",
                methods.join(", ")
            ),
            "none of them is a public key or a password",
        )
    };
    sink.add(META.id, provisions, outcome, severity, title)
        .detail(detail)
        .on(&host, port, "tcp", Some("ssh"))
        .evidence(evidence)
        .record();
}

/// The names alone, from "kind name (why)" entries.
fn names(entries: &[String]) -> String {
    entries
        .iter()
        .map(|entry| entry.split(" (").next().unwrap_or(entry))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(kex: &[&str], ciphers: &[&str], macs: &[&str]) -> ssh::Offer {
        let owned = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        ssh::Offer {
            kex: owned(kex),
            host_key: owned(&["ssh-ed25519", "ssh-rsa"]),
            ciphers: owned(ciphers),
            macs: owned(macs),
            ..ssh::Offer::default()
        }
    }

    #[test]
    fn algorithms_are_graded_and_terrapin_is_told() {
        let old = offer(
            &["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"],
            &["aes128-cbc", "3des-cbc"],
            &["hmac-sha1-etm@openssh.com", "hmac-md5"],
        );
        let grades = graded(&old);
        let broken: Vec<&str> = grades
            .iter()
            .filter(|(grade, ..)| *grade == Grade::Broken)
            .map(|(_, _, name, _)| name.as_str())
            .collect();
        assert_eq!(
            broken,
            ["diffie-hellman-group1-sha1", "3des-cbc", "hmac-md5"]
        );
        assert_eq!(
            terrapin(&old),
            Some("a CBC cipher with an encrypt-then-MAC MAC")
        );
        let chacha = offer(
            &["curve25519-sha256"],
            &["chacha20-poly1305@openssh.com"],
            &[],
        );
        assert_eq!(terrapin(&chacha), Some("ChaCha20-Poly1305"));
        let strict = offer(
            &["curve25519-sha256", "kex-strict-s-v00@openssh.com"],
            &["chacha20-poly1305@openssh.com"],
            &[],
        );
        assert_eq!(terrapin(&strict), None);
        assert!(
            algorithms()
                .iter()
                .all(|known| matches!(known.kind.as_str(), "kex" | "host-key" | "cipher" | "mac"))
        );
    }
}
