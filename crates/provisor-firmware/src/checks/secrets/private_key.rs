//! `firmware.private-key`: private keys shipped in the image.

use base64::Engine;
use provisor_engine::{Outcome, Severity};

use super::keys::{self, FoundKey};
use crate::checks::{Check, CheckMeta, Context, pass_if_clean};
use crate::vfs::Node;
use provisor_engine::FindingSink;

/// Searches every file (scripts, configuration and binaries alike) for private keys: PEM
/// (PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, DSA, PKCS#8 `PRIVATE KEY` and
/// `ENCRYPTED PRIVATE KEY`, OpenSSH `OPENSSH PRIVATE KEY`), bare DER files (PKCS#1,
/// SEC1, PKCS#8), PuTTY key files and dropbear's binary host keys. A private key in the
/// image is the same on every device: a hard-coded critical security parameter (5.4-3)
/// that cannot be unique per device (5.4-4). Public keys, certificates and CA bundles are
/// not secrets and are not flagged. The finding gives the key's format, algorithm and
/// size (bits or curve) and a SHA-256 fingerprint (OpenSSH's, of the public key, where
/// the format carries one; of the DER otherwise), never the key. The keys crypto
/// libraries carry for their self-tests (GnuTLS' known-answer tests, the test
/// certificates' keys Mbed TLS compiles into libmbedx509; listed by fingerprint with
/// their library in `data/published-test-keys.toml`) are published and protect nothing:
/// they are noted, not failed.
pub struct PrivateKey;

/// `data/published-test-keys.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TestKeys {
    key: Vec<TestKey>,
}

/// A private key published with a library's source, for its self-tests.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TestKey {
    fingerprint: String,
    library: String,
    what: String,
}

fn test_keys() -> &'static [TestKey] {
    static KEYS: std::sync::OnceLock<TestKeys> = std::sync::OnceLock::new();
    &KEYS
        .get_or_init(|| {
            toml::from_str(include_str!("../../../data/published-test-keys.toml"))
                .expect("data/published-test-keys.toml is valid (tested)")
        })
        .key
}

/// The published self-test key with this fingerprint, if it is one.
fn published(fingerprint: &str) -> Option<&'static TestKey> {
    test_keys()
        .iter()
        .find(|key| key.fingerprint == fingerprint)
}

static META: CheckMeta = CheckMeta {
    id: "firmware.private-key",
    title: "private keys in the image",
    provisions: &["5.4-3", "5.4-4"],
};

const BEGIN: &[u8] = b"-----BEGIN ";

/// A PEM private key block found in a file.
struct Block {
    label: String,
    line: u64,
    der: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(haystack.get(from..)?, needle).map(|position| from + position)
}

fn private_key_blocks(bytes: &[u8]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut at = 0;
    while let Some(start) = find(bytes, BEGIN, at) {
        let label_start = start + BEGIN.len();
        let Some(label_end) =
            find(bytes, b"-----", label_start).filter(|end| end - label_start <= 40)
        else {
            at = label_start;
            continue;
        };
        let label = String::from_utf8_lossy(&bytes[label_start..label_end]).into_owned();
        at = label_end;
        if !label.ends_with("PRIVATE KEY") {
            continue;
        }
        let end_marker = format!("-----END {label}-----");
        let body_start = label_end + 5;
        let der = find(bytes, end_marker.as_bytes(), body_start)
            .filter(|end| end - body_start < 64 * 1024)
            .and_then(|end| {
                // Legacy encrypted PEM has headers (Proc-Type, DEK-Info) before the body.
                let body: Vec<u8> = bytes[body_start..end]
                    .split(|&byte| byte == b'\n')
                    .filter(|line| !line.contains(&b':'))
                    .flatten()
                    .copied()
                    .filter(|byte| !byte.is_ascii_whitespace())
                    .collect();
                base64::engine::general_purpose::STANDARD.decode(body).ok()
            })
            // A marker without a real body (format strings in a converter, a comment that
            // mentions the header) is not a key: the smallest key, Ed25519 in PKCS#8,
            // has 48 bytes of DER.
            .filter(|der| der.len() >= 40);
        let Some(der) = der else {
            continue;
        };
        let line = bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        blocks.push(Block { label, line, der });
        at = body_start;
    }
    blocks
}

/// Every private key in a file's bytes.
fn private_keys(bytes: &[u8]) -> Vec<FoundKey> {
    let mut found: Vec<FoundKey> = private_key_blocks(bytes)
        .into_iter()
        .map(|block| {
            let format = match block.label.as_str() {
                "RSA PRIVATE KEY" => "PKCS#1",
                "EC PRIVATE KEY" => "SEC1",
                "DSA PRIVATE KEY" => "DSA",
                "OPENSSH PRIVATE KEY" => "OpenSSH",
                "ENCRYPTED PRIVATE KEY" => "encrypted PKCS#8",
                "PRIVATE KEY" => "PKCS#8",
                _ => "PEM",
            };
            let (algorithm, fingerprint) = match keys::openssh(&block.der) {
                Some((algorithm, fingerprint)) => (algorithm, fingerprint),
                None => (
                    keys::pem_algorithm(&block.label, &block.der),
                    keys::der_fingerprint(&block.der),
                ),
            };
            FoundKey {
                format,
                algorithm,
                fingerprint,
                line: Some(block.line),
            }
        })
        .collect();
    if found.is_empty() {
        // Binary encodings fill a whole, small file.
        let small = bytes.len() <= 16 * 1024;
        found.extend(
            keys::putty(bytes)
                .or_else(|| small.then(|| keys::dropbear(bytes)).flatten())
                .or_else(|| small.then(|| keys::der_file(bytes)).flatten()),
        );
    }
    found
}

impl Check for PrivateKey {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn inspects_files(&self) -> bool {
        true
    }

    fn inspect(&self, node: &Node, bytes: &[u8], sink: &mut FindingSink) {
        for key in private_keys(bytes) {
            let described = match &key.algorithm {
                Some(algorithm) => format!("{} private key ({algorithm})", key.format),
                None => format!("{} private key", key.format),
            };
            let evidence = serde_json::json!({"format": key.format, "algorithm": key.algorithm, "fingerprint": key.fingerprint});
            if let Some(test_key) = published(&key.fingerprint) {
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Info,
                    Severity::Info,
                    format!("{described} in {}: {}'s published self-test key", node.path, test_key.library),
                )
                .detail(format!("the {} ({}): a test key, published with the library's source; it protects nothing", test_key.what, test_key.library))
                .at(&node.path, key.line, &node.container)
                .evidence(evidence)
                .record();
                continue;
            }
            sink.add(
                META.id,
                META.provisions,
                Outcome::Fail,
                Severity::High,
                format!("{described} in {}", node.path),
            )
            .detail("the same key ships on every device built from this image; generate keys per device (at first boot or in the factory)")
            .at(&node.path, key.line, &node.container)
            .evidence(evidence)
            .record();
        }
    }

    fn conclude(&self, _context: &Context<'_>, inspected: usize, sink: &mut FindingSink) {
        let title = format!("no private key in the image ({inspected} files searched)");
        if let Some(pass) = pass_if_clean(sink, &META, inspected > 0, title) {
            pass.record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_test_keys_are_listed_once_with_their_library() {
        let mut seen = std::collections::BTreeSet::new();
        for key in test_keys() {
            assert!(
                key.fingerprint.starts_with("SHA256:"),
                "{}",
                key.fingerprint
            );
            assert!(seen.insert(&key.fingerprint), "{} twice", key.fingerprint);
            assert!(!key.library.is_empty() && !key.what.is_empty());
        }
        assert!(published("SHA256:not-a-published-key").is_none());
    }

    #[test]
    fn private_keys_are_found_and_public_material_is_not() {
        let text = b"# key\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIDzL2sTzX3p9T7R1Y2mJb6Qv8cL0k1aN4eF5gH6iJ7kLoAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n-----BEGIN RSA PRIVATE KEY-----\n-----BEGIN %s PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n";
        let blocks = private_key_blocks(text);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "EC PRIVATE KEY");
        assert_eq!(blocks[0].line, 2);
        assert!(blocks[0].der.len() >= 40);
    }
}
