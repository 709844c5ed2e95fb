//! `firmware.weak-password-hash`: password hashes in schemes that are not best practice.

use provisor_engine::{Outcome, Severity};

use super::accounts;
use crate::checks::{Check, CheckMeta, Context, pass_if_clean};
use crate::finding::FindingSink;

/// Flags accounts whose password hash uses DES crypt (13 characters, 8-character
/// passwords) or md5crypt (`$1$`, `$apr1$`): both are fast to brute-force and not the
/// best practice cryptography 5.1-3 asks for. sha256crypt, sha512crypt, bcrypt, scrypt
/// and yescrypt pass. Locked and empty fields are left to `firmware.default-password`.
pub struct WeakPasswordHash;

static META: CheckMeta = CheckMeta {
    id: "firmware.weak-password-hash",
    title: "password hashes in weak schemes",
    provisions: &["5.1-3"],
};

/// The weak scheme a hash uses, if it is one.
fn weak_scheme(hash: &str) -> Option<&'static str> {
    if hash.starts_with("$1$") {
        Some("md5crypt")
    } else if hash.starts_with("$apr1$") {
        Some("apr1 (md5)")
    } else if hash.len() == 13
        && hash
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '/')
    {
        Some("DES crypt")
    } else {
        None
    }
}

impl Check for WeakPasswordHash {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let accounts = accounts(context);
        let hashed: Vec<_> = accounts
            .iter()
            .filter(|account| !account.is_locked() && !account.hash.is_empty())
            .collect();
        for account in &hashed {
            if let Some(scheme) = weak_scheme(&account.hash) {
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Fail,
                    Severity::Medium,
                    format!("account {} has a {scheme} password hash", account.name),
                )
                .detail("use sha512crypt, bcrypt or yescrypt")
                .at(&account.path, Some(account.line), &account.container)
                .evidence(serde_json::json!({"account": account.name, "scheme": scheme}))
                .record();
            }
        }
        let title = format!(
            "every password hash uses a strong scheme ({} {})",
            hashed.len(),
            if hashed.len() == 1 { "hash" } else { "hashes" }
        );
        if let Some(pass) = pass_if_clean(sink, &META, !hashed.is_empty(), title) {
            pass.at(&hashed[0].path, None, &hashed[0].container)
                .record();
        }
    }
}
