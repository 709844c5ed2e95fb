//! `firmware.weak-password-hash`: password hashes in schemes that are not best practice.

use provisor_engine::{Outcome, Severity};

use super::{accounts, hashes};
use crate::checks::{Check, CheckMeta, Context, pass_if_clean};
use provisor_engine::FindingSink;

/// Flags passwords stored in schemes that are fast to brute-force or not hashed at all,
/// which is not the best practice cryptography 5.1-3 asks for: DES crypt (13
/// characters, 8-character passwords), md5crypt and apr1 (`$1$`, `$apr1$`), unsalted
/// SHA-1 (`{SHA}`), htdigest's unsalted MD5, mosquitto's single-round salted SHA-512,
/// and plain-text user files. sha256crypt, sha512crypt, bcrypt, scrypt, yescrypt and
/// PBKDF2 pass. The same files as `firmware.default-password` are read; locked and
/// empty fields are left to it.
pub struct WeakPasswordHash;

static META: CheckMeta = CheckMeta {
    id: "firmware.weak-password-hash",
    title: "password hashes in weak schemes",
    provisions: &["5.1-3"],
};

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
            if account.scheme.is_weak() {
                let scheme = account.scheme.name();
                let title = if account.scheme == hashes::Scheme::Plain {
                    format!(
                        "{} {} has its password stored in plain text",
                        account.service.noun(),
                        account.name
                    )
                } else {
                    format!(
                        "{} {} has a password hashed with {scheme}",
                        account.service.noun(),
                        account.name
                    )
                };
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Fail,
                    Severity::Medium,
                    title,
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
