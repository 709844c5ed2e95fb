//! `firmware.version-strings`: components identified by version strings in binaries.

use std::sync::OnceLock;

use provisor_engine::{Outcome, Severity};
use regex::bytes::Regex;
use serde::Deserialize;

use crate::checks::{Check, CheckMeta, Context};
use crate::vfs::Node;
use provisor_engine::FindingSink;

/// Searches executables and libraries (ELF files, a kernel in /boot, and payloads of
/// the image that hold no filesystem, such as the kernel of a FIT or a uImage) for the
/// version strings of well-known components — busybox, OpenSSL, dropbear, OpenSSH,
/// lighttpd, nginx, curl, glibc, uClibc, the Linux kernel — kept as data in
/// `data/components.toml`, each with examples and negative examples. Every component
/// found goes into the scan's component list and its SBOM with the files it was found
/// in, so the components can be monitored for vulnerabilities (5.2-3). Statically linked
/// copies are found too; a version string quoted in documentation is not searched.
pub struct VersionStrings;

static META: CheckMeta = CheckMeta {
    id: "firmware.version-strings",
    title: "components identified by version strings in binaries",
    provisions: &["5.2-3", "5.3-8"],
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Signature {
    pub name: String,
    pub pattern: String,
    pub purl: String,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    pub examples: Vec<(String, String)>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    pub negative_examples: Vec<String>,
}

#[derive(Deserialize)]
struct SignatureFile {
    component: Vec<Signature>,
}

/// The signatures with their compiled patterns.
pub(crate) fn signatures() -> &'static [(Signature, Regex)] {
    static SIGNATURES: OnceLock<Vec<(Signature, Regex)>> = OnceLock::new();
    SIGNATURES.get_or_init(|| {
        toml::from_str::<SignatureFile>(include_str!("../../../data/components.toml"))
            .expect("the embedded component signatures are valid (tested)")
            .component
            .into_iter()
            .map(|signature| {
                let regex =
                    Regex::new(&signature.pattern).expect("signature patterns compile (tested)");
                (signature, regex)
            })
            .collect()
    })
}

/// The version a signature finds in some bytes.
pub(crate) fn version_in(regex: &Regex, bytes: &[u8]) -> Option<String> {
    regex
        .captures(bytes)
        .and_then(|captures| captures.get(1))
        .map(|version| String::from_utf8_lossy(version.as_bytes()).into_owned())
}

fn is_binary(node: &Node, head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF") || node.path.starts_with("/boot/")
}

impl Check for VersionStrings {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn inspects_files(&self) -> bool {
        true
    }

    fn inspect(&self, node: &Node, bytes: &[u8], sink: &mut FindingSink) {
        if !is_binary(node, &bytes[..bytes.len().min(4)]) {
            return;
        }
        for (signature, regex) in signatures() {
            if let Some(version) = version_in(regex, bytes) {
                let purl = signature.purl.replace("{version}", &version);
                sink.component(&signature.name, Some(&version), Some(purl), &node.path);
            }
        }
    }

    fn inspect_payload(&self, chain: &str, bytes: &[u8], sink: &mut FindingSink) {
        for (signature, regex) in signatures() {
            if let Some(version) = version_in(regex, bytes) {
                let purl = signature.purl.replace("{version}", &version);
                sink.component(&signature.name, Some(&version), Some(purl), chain);
            }
        }
    }

    fn conclude(&self, _context: &Context<'_>, _inspected: usize, sink: &mut FindingSink) {
        let found: Vec<String> = sink
            .components()
            .iter()
            .filter(|component| {
                component
                    .purl
                    .as_deref()
                    .is_some_and(|purl| purl.starts_with("pkg:generic/"))
            })
            .map(|component| {
                format!(
                    "{} {}",
                    component.name,
                    component.version.as_deref().unwrap_or("?")
                )
            })
            .collect();
        if !found.is_empty() {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Info,
                Severity::Info,
                format!("{} components identified by version strings", found.len()),
            )
            .detail(found.join(", "))
            .record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signature_matches_its_examples_and_not_its_negatives() {
        let mut names = std::collections::BTreeSet::new();
        for (signature, regex) in signatures() {
            assert!(
                names.insert(signature.name.clone()),
                "{} twice",
                signature.name
            );
            assert!(signature.purl.contains("{version}"));
            assert!(!signature.examples.is_empty(), "{}", signature.name);
            for (example, version) in &signature.examples {
                assert_eq!(
                    version_in(regex, example.as_bytes()).as_deref(),
                    Some(version.as_str()),
                    "{}: {example}",
                    signature.name
                );
            }
            for negative in &signature.negative_examples {
                assert_eq!(
                    version_in(regex, negative.as_bytes()),
                    None,
                    "{}: {negative}",
                    signature.name
                );
            }
        }
    }
}
