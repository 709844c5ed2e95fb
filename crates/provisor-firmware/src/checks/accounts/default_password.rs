//! `firmware.default-password`: accounts whose password is empty or well known.

use provisor_engine::{Outcome, Severity};

use super::hashes::{Scheme, affordable};
use super::{Service, accounts, default_passwords, known_from};
use crate::checks::{Check, CheckMeta, Context, pass_if_clean};
use provisor_engine::FindingSink;

/// Reads `/etc/shadow` (or hashes kept in `/etc/passwd`) and the services' password
/// files (htpasswd, htdigest and plain user files of lighttpd, nginx and Apache, busybox
/// httpd.conf, mosquitto password files), and tries every password of the curated
/// default-credential list (the 62 Mirai pairs and common vendor defaults) against each
/// entry: md5crypt, apr1, sha256crypt, sha512crypt, bcrypt, DES crypt, `{SHA}`,
/// htdigest, mosquitto's salted SHA-512 and PBKDF2, and plain text. An empty password,
/// or one on the list, fails 5.1-1: every device ships with the same way in. Locked
/// accounts (`!`, `*`) are fine. Hashes whose cost would make the check slow (more than
/// 50 000 rounds, bcrypt cost above 12, PBKDF2 above 200 000 iterations) are reported as
/// inconclusive rather than tried. The password found is named, the hash never printed.
pub struct DefaultPassword;

static META: CheckMeta = CheckMeta {
    id: "firmware.default-password",
    title: "accounts with an empty or well-known password",
    provisions: &["5.1-1", "5.1-2"],
};

impl Check for DefaultPassword {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let passwords = default_passwords();
        let accounts = accounts(context);
        for account in accounts.iter().cloned() {
            if account.is_locked() {
                continue;
            }
            let found = if account.hash.is_empty() {
                Some("")
            } else if account.scheme == Scheme::Other {
                continue;
            } else if !affordable(account.scheme, &account.hash) {
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Inconclusive,
                    Severity::Info,
                    format!(
                        "password hash of {} {} is too costly to test",
                        account.service.noun(),
                        account.name
                    ),
                )
                .at(&account.path, Some(account.line), &account.container)
                .record();
                continue;
            } else {
                passwords
                    .iter()
                    .copied()
                    .filter(|password| !password.is_empty())
                    .find(|password| account.verify(password))
            };
            let Some(password) = found else {
                continue;
            };
            let noun = account.service.noun();
            let title = if password.is_empty() {
                format!("{noun} {} has an empty password", account.name)
            } else {
                format!(
                    "{noun} {} has the well-known password \"{password}\"",
                    account.name
                )
            };
            let severity = if account.uid == Some(0) || account.service != Service::System {
                Severity::Critical
            } else {
                Severity::High
            };
            sink.add(META.id, META.provisions, Outcome::Fail, severity, title)
                .detail("every device built from this image shares the password; EN 303 645 5.1-1 requires passwords unique per device or set by the user")
                .at(&account.path, Some(account.line), &account.container)
                .evidence(serde_json::json!({
                    "account": account.name,
                    "uid": account.uid,
                    "matched": if password.is_empty() { "(empty)" } else { password },
                    "listed_as": known_from(password).map(|credential| format!("{}:{} ({})", credential.user, credential.password, credential.source)),
                }))
                .record();
        }
        let title = format!(
            "no account has an empty or well-known password ({} accounts, {} passwords tried)",
            accounts.len(),
            passwords.len()
        );
        if let Some(pass) = pass_if_clean(sink, &META, !accounts.is_empty(), title) {
            pass.at(&accounts[0].path, None, &accounts[0].container)
                .record();
        }
    }
}
