//! `firmware.certificate`: X.509 certificates with weak keys, weak signatures or
//! expired validity.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use provisor_engine::{Outcome, Severity};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::checks::{Check, CheckMeta, Context, pass_if_clean};
use crate::vfs::Node;
use provisor_engine::FindingSink;

/// Reads every certificate in the image, PEM (`BEGIN CERTIFICATE`, one or many to a
/// file) or a DER file, with x509-parser. The device's own certificates (one or two to a
/// file, not certificate authorities) fail 5.5-1 when their key is too small for best
/// practice cryptography (RSA or DSA below 2048 bits, elliptic curves below 224 bits),
/// when they are signed with MD5 or SHA-1, or when they have expired: a client or
/// server presenting them either offers no real protection or stops working. An
/// authority's certificate alone in a file is a trust anchor: only its key size
/// counts. CA bundles (three or more certificates in a file, as `ca-certificates.crt`)
/// are the system's trust store and are not judged certificate by certificate.
pub struct CertificateCheck;

static META: CheckMeta = CheckMeta {
    id: "firmware.certificate",
    title: "certificates with weak keys, weak signatures or expired",
    provisions: &["5.5-1"],
};

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";
const BUNDLE: usize = 3;
const CERTIFICATES: &str = "firmware.certificate/certificates";
const BUNDLES: &str = "firmware.certificate/bundles";

/// Signature algorithms that no longer resist forgery.
const WEAK_SIGNATURES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.2", "MD2"),
    ("1.2.840.113549.1.1.4", "MD5"),
    ("1.2.840.113549.1.1.5", "SHA-1"),
    ("1.2.840.10045.4.1", "SHA-1"),
    ("1.2.840.10040.4.3", "SHA-1"),
];

/// The DER of each certificate in a file, with its line (PEM) or none (DER).
fn certificates(bytes: &[u8]) -> Vec<(Vec<u8>, Option<u64>)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = memchr::memmem::find(&bytes[at..], BEGIN).map(|found| at + found) {
        let body = start + BEGIN.len();
        let Some(end) = memchr::memmem::find(&bytes[body..], END).map(|found| body + found) else {
            break;
        };
        let text: Vec<u8> = bytes[body..end]
            .iter()
            .copied()
            .filter(|byte| !byte.is_ascii_whitespace())
            .collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(text) {
            let line = memchr::memchr_iter(b'\n', &bytes[..start]).count() as u64 + 1;
            found.push((der, Some(line)));
        }
        at = end + END.len();
    }
    // A DER certificate fills its file.
    if found.is_empty()
        && bytes.len() <= 64 * 1024
        && bytes.starts_with(&[0x30, 0x82])
        && let Ok((rest, _)) = X509Certificate::from_der(bytes)
        && rest.is_empty()
    {
        found.push((bytes.to_vec(), None));
    }
    found
}

/// What is wrong with one certificate.
fn weaknesses(
    certificate: &X509Certificate<'_>,
    anchor: bool,
    now: i64,
) -> Vec<(Severity, String)> {
    let mut problems = Vec::new();
    if let Ok(key) = certificate.public_key().parsed() {
        use x509_parser::public_key::PublicKey;
        let bits = key.key_size();
        let (algorithm, minimum) = match key {
            PublicKey::RSA(_) => ("RSA", 2048),
            PublicKey::DSA(_) => ("DSA", 2048),
            PublicKey::EC(_) => ("EC", 224),
            _ => ("", 0),
        };
        if bits > 0 && bits < minimum {
            problems.push((Severity::High, format!("has a {bits}-bit {algorithm} key")));
        }
    }
    if anchor {
        return problems;
    }
    let signature = certificate.signature_algorithm.algorithm.to_id_string();
    if let Some((_, digest)) = WEAK_SIGNATURES.iter().find(|(oid, _)| *oid == signature) {
        problems.push((Severity::Medium, format!("is signed with {digest}")));
    }
    let not_after = certificate.validity().not_after;
    if not_after.timestamp() < now {
        let date = not_after.to_datetime().date();
        problems.push((Severity::Medium, format!("expired on {date}")));
    }
    problems
}

impl Check for CertificateCheck {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn inspects_files(&self) -> bool {
        true
    }

    fn inspect(&self, node: &Node, bytes: &[u8], sink: &mut FindingSink) {
        let found = certificates(bytes);
        if found.len() >= BUNDLE {
            sink.tally(BUNDLES, 1);
            return;
        }
        sink.tally(CERTIFICATES, found.len());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        for (der, line) in found {
            let Ok((_, certificate)) = X509Certificate::from_der(&der) else {
                continue;
            };
            let anchor = certificate.is_ca();
            let subject = certificate.subject().to_string();
            for (severity, problem) in weaknesses(&certificate, anchor, now) {
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Fail,
                    severity,
                    format!("certificate \"{subject}\" in {} {problem}", node.path),
                )
                .detail("replace it with a certificate with an RSA key of 2048 bits or more (or an EC key of 256 bits), signed with SHA-256 or better, and renew it before it expires")
                .at(&node.path, line, &node.container)
                .evidence(serde_json::json!({
                    "subject": subject,
                    "issuer": certificate.issuer().to_string(),
                    "not_after": certificate.validity().not_after.to_string(),
                    "authority": anchor,
                }))
                .record();
            }
        }
    }

    fn conclude(&self, _context: &Context<'_>, _inspected: usize, sink: &mut FindingSink) {
        let (certificates, bundles) = (sink.tally_of(CERTIFICATES), sink.tally_of(BUNDLES));
        let title = format!(
            "no certificate has a weak key, a weak signature or an expired validity ({certificates} certificates, {bundles} CA bundles)"
        );
        if let Some(pass) = pass_if_clean(sink, &META, certificates + bundles > 0, title) {
            pass.record();
        }
    }
}
