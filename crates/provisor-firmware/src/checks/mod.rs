//! The firmware checks: one file each, one unit struct implementing [`Check`], listed in
//! the sorted registry [`all`]. A check observes the virtual filesystem and records
//! findings naming the provisions they bear on; it never decides a verdict. Its doc
//! comment is its user documentation: docs/checks.md is generated from it, and a test
//! keeps the two in step (`UPDATE_DOCS=1 cargo test -p provisor-cli` rewrites it).

pub mod accounts;
pub mod binaries;
pub mod components;
pub mod inference;
pub mod permissions;
pub mod secrets;
pub mod services;
pub mod tls;
pub mod updates;

use crate::sandbox::Limits;
use crate::vfs::Vfs;
use provisor_engine::FindingSink;

/// What a check is: its stable id, a title and the provisions it bears on.
#[derive(Debug)]
pub struct CheckMeta {
    /// Stable id, never reused (`firmware.default-password`).
    pub id: &'static str,
    /// One line.
    pub title: &'static str,
    /// Provisions, most specific first.
    pub provisions: &'static [&'static str],
}

/// What a check sees.
pub struct Context<'a> {
    /// Everything unpacked.
    pub vfs: &'a Vfs,
    /// The limits in force, for bounded reads.
    pub limits: &'a Limits,
    /// The advisory database components are matched against, when one was given.
    pub advisories: Option<&'a provisor_advisories::Database>,
}

/// One firmware check. A check that reads a few known files does its work in `run`; a
/// check that looks at the contents of every file says so with `inspects_files`, and the
/// scan hands it each file once, in one shared parallel pass, then calls `conclude`.
pub trait Check: Sync {
    /// What the check is.
    fn meta(&self) -> &'static CheckMeta;
    /// Observes the filesystem and records findings.
    fn run(&self, _context: &Context<'_>, _sink: &mut FindingSink) {}
    /// Whether the check looks at the contents of every file.
    fn inspects_files(&self) -> bool {
        false
    }
    /// Looks at one file's contents (called once per file, from several threads).
    fn inspect(&self, _node: &crate::vfs::Node, _bytes: &[u8], _sink: &mut FindingSink) {}
    /// Looks at a payload that holds no filesystem (a kernel image), named by its
    /// container chain.
    fn inspect_payload(&self, _chain: &str, _bytes: &[u8], _sink: &mut FindingSink) {}
    /// After the shared pass, in which `inspected` files were read (called for every
    /// check, once every component is known).
    fn conclude(&self, _context: &Context<'_>, _inspected: usize, _sink: &mut FindingSink) {}
}

/// Files larger than this are not read by the shared pass (kernel images and media).
pub const MAX_INSPECTED: u64 = 64 << 20;

/// Every check, sorted by id.
pub fn all() -> &'static [&'static dyn Check] {
    &[
        &binaries::hardening::BinaryHardening,
        &services::backdoor::BootBackdoor,
        &tls::certificate::CertificateCheck,
        &secrets::compiled_credential::CompiledCredential,
        &inference::conditions::ConditionInference,
        &services::debug_access::DebugAccess,
        &accounts::default_password::DefaultPassword,
        &secrets::embedded_secret::EmbeddedSecret,
        &permissions::file_modes::FileModes,
        &components::known_vulnerabilities::KnownVulnerabilities,
        &services::mqtt_config::MqttConfig,
        &tls::openssl_config::OpenSslConfig,
        &services::openwrt_config::OpenWrtConfig,
        &components::package_database::PackageDatabase,
        &services::plaintext_login::PlaintextLogin,
        &secrets::private_key::PrivateKey,
        &services::ssh_config::SshConfig,
        &updates::update_mechanism::UpdateMechanism,
        &components::version_strings::VersionStrings,
        &accounts::weak_password_hash::WeakPasswordHash,
        &services::web_config::WebServerConfig,
    ]
}

/// Records that a check examined something and found nothing wrong: a pass finding,
/// which corroborates the manufacturer's statement in reports. Nothing is recorded
/// when the check examined nothing or already failed on something. The draft is
/// returned so the caller can add a location or detail.
pub(crate) fn pass_if_clean<'s>(
    sink: &'s mut FindingSink,
    meta: &CheckMeta,
    examined: bool,
    title: String,
) -> Option<provisor_engine::Draft<'s>> {
    let failed = sink.findings().iter().any(|finding| {
        finding.check == meta.id && finding.outcome == provisor_engine::Outcome::Fail
    });
    (examined && !failed).then(|| {
        sink.add(
            meta.id,
            meta.provisions,
            provisor_engine::Outcome::Pass,
            provisor_engine::Severity::Info,
            title,
        )
    })
}

/// Splits a text into lines with their 1-based numbers, leaving out comments and blank
/// lines (`#` to the end of a line, outside of quotes, is a comment in every shell and
/// configuration format the checks read).
pub(crate) fn active_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.lines().enumerate().filter_map(|(index, line)| {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            None
        } else {
            Some((index as u64 + 1, trimmed))
        }
    })
}

/// Runs `work` with a context over a filesystem of (path, content) pairs (a content
/// starting with `->` is a link), for the checks' unit tests.
#[cfg(test)]
pub(crate) fn with_context<T>(entries: &[(&str, &str)], work: impl FnOnce(&Context<'_>) -> T) -> T {
    let vfs = crate::vfs::tests::fs(entries);
    let limits = Limits::default();
    work(&Context {
        vfs: &vfs,
        limits: &limits,
        advisories: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_sorted_unique_and_names_real_provisions() {
        let catalog = provisor_catalog::checks_edition();
        let ids: Vec<&str> = all().iter().map(|check| check.meta().id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "sorted and unique");
        for check in all() {
            let meta = check.meta();
            assert!(meta.id.starts_with("firmware."), "{}", meta.id);
            assert!(!meta.provisions.is_empty());
            for provision in meta.provisions {
                assert!(
                    catalog.provision(provision).is_some(),
                    "{}: {provision}",
                    meta.id
                );
            }
        }
    }
}
