//! Checks for hard-coded secrets, and the recognizers of key formats they share.

pub mod compiled_credential;
pub mod embedded_secret;
pub(crate) mod keys;
pub mod private_key;

use sha2::{Digest, Sha256};

/// The first characters of a secret and its length: enough to recognize, not to use
/// (four characters of a long token, one of a password).
pub(crate) fn masked(secret: &[u8]) -> String {
    let shown = if secret.len() >= 16 { 4 } else { 1 };
    format!(
        "{}… ({} characters)",
        String::from_utf8_lossy(&secret[..shown.min(secret.len())]),
        secret.len()
    )
}

/// A secret's fingerprint for findings: `SHA256:` and the first 16 bytes of its digest.
pub(crate) fn fingerprint(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("SHA256:{hex}")
}
