//! `firmware.version-strings`: components identified in binaries: version strings,
//! library file names, and the join with the package database.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use provisor_engine::{Component, Outcome, Severity};
use regex::bytes::{Regex, RegexSet};
use serde::Deserialize;

use crate::checks::binaries::elf::ElfView;
use crate::checks::{Check, CheckMeta, Context};
use crate::vfs::Node;
use provisor_engine::FindingSink;

/// Identifies the upstream projects an image ships, without a package database: for
/// the projects most common in IoT firmware (busybox, OpenSSL, zlib, dnsmasq, hostapd,
/// wpa_supplicant, avahi, miniupnpd, curl, sqlite, libxml2, expat, json-c, mbedTLS,
/// wolfSSL, OpenVPN, chrony, iptables, iproute2, ppp, BlueZ, OpenSSH, dropbear, nginx,
/// lighttpd, mosquitto, libjpeg-turbo, libpng, libwebsockets, libmicrohttpd, libupnp,
/// U-Boot, the Linux kernel and many more, listed in `data/components.toml` with
/// examples and negative examples), it reads the version from the build and banner
/// strings of executables and libraries (ELF files, a kernel in /boot, and payloads
/// holding no filesystem, such as a FIT's kernel), from a bare version string in the
/// project's own files, or from a library's file name (libz.so.1.2.13). A version a
/// program was only compiled against is not the shipped library's: a program that links
/// the project's library dynamically is not read for it, so hostapd's "OpenSSL 3.0.16"
/// does not make an OpenSSL component; a statically linked copy is. Every component
/// carries a CPE 2.3 name (vendor and product as NVD writes them) beside its package
/// URL, and the files it was found in. A component also listed by the package database
/// (the same Debian source package and upstream version) becomes one component, with
/// both ways of identifying it kept; a package of a known project gets its CPE. The
/// components go into the scan's component list and its SBOM, so they can be monitored
/// for vulnerabilities (5.2-3).
pub struct VersionStrings;

static META: CheckMeta = CheckMeta {
    id: "firmware.version-strings",
    title: "components identified in binaries",
    provisions: &["5.2-3", "5.3-8"],
};

/// One project of `data/components.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Signature {
    pub name: String,
    /// `part:vendor:product`.
    pub cpe: String,
    pub purl: String,
    #[serde(default)]
    pub debian: Vec<String>,
    #[serde(default)]
    pub patterns: Vec<String>,
    #[serde(default)]
    pub files: Option<String>,
    #[serde(default)]
    pub bare: bool,
    #[serde(default)]
    pub file_version: Option<String>,
    #[serde(default)]
    pub libraries: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    #[serde(default)]
    pub examples: Vec<(String, String)>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    #[serde(default)]
    pub negative_examples: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    #[serde(default)]
    pub file_examples: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct SignatureFile {
    component: Vec<Signature>,
}

/// A signature with its patterns compiled.
pub(crate) struct Compiled {
    pub signature: Signature,
    patterns: Vec<Regex>,
    files: Option<regex::Regex>,
    file_version: Option<regex::Regex>,
}

/// The signatures with their compiled patterns.
pub(crate) fn signatures() -> &'static [Compiled] {
    static SIGNATURES: OnceLock<Vec<Compiled>> = OnceLock::new();
    SIGNATURES.get_or_init(|| {
        toml::from_str::<SignatureFile>(include_str!("../../../data/components.toml"))
            .expect("the embedded component signatures are valid (tested)")
            .component
            .into_iter()
            .map(|signature| {
                let name = |pattern: &String| {
                    regex::Regex::new(pattern).expect("file name patterns compile (tested)")
                };
                Compiled {
                    patterns: signature
                        .patterns
                        .iter()
                        .map(|pattern| {
                            Regex::new(pattern).expect("signature patterns compile (tested)")
                        })
                        .collect(),
                    files: signature.files.as_ref().map(name),
                    file_version: signature.file_version.as_ref().map(name),
                    signature,
                }
            })
            .collect()
    })
}

/// The patterns of the signatures read from every binary (those without `files`), as
/// one set, and the signature each belongs to. One pass over a file tells which of them
/// occur in it; only those are searched again for their versions. Searching with each
/// pattern in turn took a pass per pattern, and a pattern opening with digits (no literal
/// to skip ahead by) one far slower than the others.
struct Everywhere {
    set: RegexSet,
    owner: Vec<usize>,
}

fn everywhere() -> &'static Everywhere {
    static EVERYWHERE: OnceLock<Everywhere> = OnceLock::new();
    EVERYWHERE.get_or_init(|| {
        let (patterns, owner): (Vec<&str>, Vec<usize>) = signatures()
            .iter()
            .enumerate()
            .filter(|(_, compiled)| compiled.files.is_none())
            .flat_map(|(index, compiled)| {
                compiled
                    .signature
                    .patterns
                    .iter()
                    .map(move |pattern| (pattern.as_str(), index))
            })
            .unzip();
        Everywhere {
            set: RegexSet::new(patterns).expect("signature patterns compile as a set (tested)"),
            owner,
        }
    })
}

/// Which signatures may find a version in `bytes`: those with `files` (their names
/// were checked), and those whose patterns occur in the bytes.
fn candidates(bytes: &[u8]) -> Vec<bool> {
    let mut candidate: Vec<bool> = signatures()
        .iter()
        .map(|compiled| compiled.files.is_some())
        .collect();
    let everywhere = everywhere();
    for pattern in everywhere.set.matches(bytes).iter() {
        candidate[everywhere.owner[pattern]] = true;
    }
    candidate
}

impl Compiled {
    /// The version the patterns find in some bytes: the first pattern that matches; a
    /// bare version only when it is the one such string in the bytes.
    pub(crate) fn version_in(&self, bytes: &[u8]) -> Option<String> {
        for regex in &self.patterns {
            if !self.signature.bare {
                if let Some(version) = regex.captures(bytes).and_then(|captures| captures.get(1)) {
                    return Some(String::from_utf8_lossy(version.as_bytes()).into_owned());
                }
                continue;
            }
            // Bare versions are delimited by NULs that neighbours share: search again from
            // the last byte of each match.
            let mut found = BTreeSet::new();
            let mut at = 0;
            while let Some(captures) = regex.captures_at(bytes, at) {
                let whole = captures.get(0).expect("a match has a whole");
                if let Some(version) = captures.get(1) {
                    found.insert(String::from_utf8_lossy(version.as_bytes()).into_owned());
                }
                if found.len() > 1 {
                    break;
                }
                at = (whole.end() - 1).max(at + 1);
            }
            if found.len() == 1 {
                return found.into_iter().next();
            }
        }
        None
    }

    /// The version a library's file name carries.
    pub(crate) fn version_of_file(&self, name: &str) -> Option<String> {
        self.file_version
            .as_ref()?
            .captures(name)?
            .get(1)
            .map(|version| version.as_str().to_owned())
    }

    /// The CPE 2.3 name of a version.
    pub(crate) fn cpe(&self, version: &str) -> String {
        let escaped: String = version
            .chars()
            .flat_map(|c| {
                let special = !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
                special.then_some('\\').into_iter().chain([c])
            })
            .collect();
        format!("cpe:2.3:{}:{escaped}:*:*:*:*:*:*:*", self.signature.cpe)
    }

    fn component(&self, version: &str, how: &str, location: &str) -> Component {
        Component {
            name: self.signature.name.clone(),
            version: Some(version.to_owned()),
            purl: Some(self.signature.purl.replace("{version}", version)),
            cpe: Some(self.cpe(version)),
            source_package: None,
            sources: vec![how.to_owned()],
            locations: vec![location.to_owned()],
        }
    }
}

fn is_binary(node: &Node, head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF") || node.path.starts_with("/boot/")
}

/// The upstream version of a distribution's package version: without the epoch, the
/// Debian revision and repacking suffixes (`1:1.2.13.dfsg-1` is 1.2.13).
pub(crate) fn upstream_version(version: &str) -> &str {
    let version = version
        .split_once(':')
        .filter(|(epoch, _)| epoch.chars().all(|c| c.is_ascii_digit()))
        .map_or(version, |(_, rest)| rest);
    let version = version
        .rsplit_once('-')
        .map_or(version, |(upstream, _)| upstream);
    [
        "+dfsg", ".dfsg", "~dfsg", "+ds", ".ds", "+really", "+repack",
    ]
    .iter()
    .filter_map(|suffix| version.find(suffix))
    .min()
    .map_or(version, |at| &version[..at])
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
        let name = node.path.rsplit('/').next().unwrap_or(&node.path);
        let view = ElfView::parse(bytes);
        let needed: &[&str] = view.as_ref().map_or(&[], ElfView::needed);
        let candidate = candidates(bytes);
        for (compiled, candidate) in signatures().iter().zip(candidate) {
            let signature = &compiled.signature;
            if compiled
                .files
                .as_ref()
                .is_some_and(|files| !files.is_match(name))
            {
                continue;
            }
            let is_library = signature
                .libraries
                .iter()
                .any(|lib| name.starts_with(lib.as_str()));
            let links_it = needed.iter().any(|needed| {
                signature
                    .libraries
                    .iter()
                    .any(|lib| needed.starts_with(lib.as_str()))
            });
            if links_it && !is_library {
                continue;
            }
            let found = compiled
                .version_of_file(name)
                .map(|version| (version, "file name"))
                .or_else(|| {
                    candidate
                        .then(|| compiled.version_in(bytes))
                        .flatten()
                        .map(|version| (version, "version string"))
                });
            if let Some((version, how)) = found {
                sink.add_component(compiled.component(&version, how, &node.path));
            }
        }
    }

    fn inspect_payload(&self, chain: &str, bytes: &[u8], sink: &mut FindingSink) {
        let candidate = candidates(bytes);
        for (compiled, candidate) in signatures().iter().zip(candidate) {
            if compiled.files.is_some() || !candidate {
                continue;
            }
            if let Some(version) = compiled.version_in(bytes) {
                sink.add_component(compiled.component(&version, "version string", chain));
            }
        }
    }

    fn conclude(&self, _context: &Context<'_>, _inspected: usize, sink: &mut FindingSink) {
        join_packages(sink.components_mut());
        let found: Vec<String> = sink
            .components()
            .iter()
            .filter(|component| {
                component
                    .sources
                    .iter()
                    .any(|source| source == "version string" || source == "file name")
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
                format!("{} components identified in binaries", found.len()),
            )
            .detail(found.join(", "))
            .record();
        }
    }
}

/// Joins what the package database and the binaries say of one project: a package
/// built from a known project's Debian source gets the project's CPE, and a component
/// found in binaries with the package's upstream version is folded into the package,
/// keeping its files and how it was identified.
fn join_packages(components: &mut Vec<Component>) {
    let mut folded = vec![false; components.len()];
    for index in 0..components.len() {
        let Some(source) = components[index].source_package.clone() else {
            continue;
        };
        let Some(compiled) = signatures()
            .iter()
            .find(|compiled| compiled.signature.debian.contains(&source))
        else {
            continue;
        };
        let upstream =
            upstream_version(components[index].version.as_deref().unwrap_or("")).to_owned();
        components[index].cpe = Some(compiled.cpe(&upstream));
        let found = components.iter().position(|other| {
            other.source_package.is_none()
                && other.name == compiled.signature.name
                && other.version.as_deref() == Some(upstream.as_str())
        });
        if let Some(found) = found
            && !folded[found]
        {
            folded[found] = true;
            let (locations, sources) = (
                components[found].locations.clone(),
                components[found].sources.clone(),
            );
            let package = &mut components[index];
            for location in locations {
                if !package.locations.contains(&location) {
                    package.locations.push(location);
                }
            }
            for source in sources {
                if !package.sources.contains(&source) {
                    package.sources.push(source);
                }
            }
        }
    }
    let mut index = 0;
    components.retain(|_| {
        index += 1;
        !folded[index - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signature_finds_its_examples_and_not_its_negatives() {
        let mut names = BTreeSet::new();
        for (index, compiled) in signatures().iter().enumerate() {
            let signature = &compiled.signature;
            assert!(
                names.insert(signature.name.clone()),
                "{} twice",
                signature.name
            );
            assert!(signature.purl.contains("{version}"), "{}", signature.name);
            assert_eq!(signature.cpe.split(':').count(), 3, "{}", signature.name);
            assert!(
                !signature.examples.is_empty() || !signature.file_examples.is_empty(),
                "{} has examples",
                signature.name
            );
            assert!(
                !signature.bare || signature.files.is_some(),
                "{}: a bare version is trusted only in named files",
                signature.name
            );
            for (example, version) in &signature.examples {
                assert!(
                    candidates(example.as_bytes())[index],
                    "{}: the one pass finds {example:?}",
                    signature.name
                );
                assert_eq!(
                    compiled.version_in(example.as_bytes()).as_deref(),
                    Some(version.as_str()),
                    "{}: {example:?}",
                    signature.name
                );
            }
            for negative in &signature.negative_examples {
                assert_eq!(
                    compiled.version_in(negative.as_bytes()),
                    None,
                    "{}: {negative:?}",
                    signature.name
                );
            }
            for (file, version) in &signature.file_examples {
                assert_eq!(
                    compiled.version_of_file(file).as_deref(),
                    Some(version.as_str()),
                    "{}: {file}",
                    signature.name
                );
            }
        }
        assert!(signatures().len() >= 90);
    }

    #[test]
    fn a_bare_version_counts_only_when_it_is_the_only_one() {
        let chrony = signatures()
            .iter()
            .find(|compiled| compiled.signature.name == "chrony")
            .unwrap();
        let one = [b"\0x\0".as_slice(), b"4.3\0y\0"].concat();
        assert_eq!(chrony.version_in(&one).as_deref(), Some("4.3"));
        let two = [b"\0".as_slice(), b"4.3\0", b"1.0\0"].concat();
        assert_eq!(chrony.version_in(&two), None);
    }

    #[test]
    fn upstream_versions_drop_epoch_revision_and_repacking() {
        assert_eq!(upstream_version("1:1.2.13.dfsg-1"), "1.2.13");
        assert_eq!(upstream_version("3.0.20-1~deb12u2"), "3.0.20");
        assert_eq!(upstream_version("1:9.2p1-2+deb12u7"), "9.2p1");
        assert_eq!(upstream_version("2.10"), "2.10");
        assert_eq!(upstream_version("5.4.1-0.2"), "5.4.1");
    }

    #[test]
    fn cpe_names_escape_what_cpe_reserves() {
        let openssl = signatures()
            .iter()
            .find(|compiled| compiled.signature.name == "openssl")
            .unwrap();
        assert_eq!(
            openssl.cpe("3.0.20"),
            "cpe:2.3:a:openssl:openssl:3.0.20:*:*:*:*:*:*:*"
        );
        assert_eq!(
            openssl.cpe("1.0.2k+x"),
            "cpe:2.3:a:openssl:openssl:1.0.2k\\+x:*:*:*:*:*:*:*"
        );
    }

    #[test]
    fn a_package_and_the_binary_of_one_project_become_one_component() {
        let zlib = signatures()
            .iter()
            .find(|compiled| compiled.signature.name == "zlib")
            .unwrap();
        let mut components = vec![
            Component {
                name: "zlib1g".into(),
                version: Some("1:1.2.13.dfsg-1".into()),
                purl: Some("pkg:deb/zlib1g@1:1.2.13.dfsg-1".into()),
                cpe: None,
                source_package: Some("zlib".into()),
                sources: vec!["package database: zlib1g 1:1.2.13.dfsg-1".into()],
                locations: vec!["/var/lib/dpkg/status".into()],
            },
            zlib.component("1.2.13", "file name", "/lib/libz.so.1.2.13"),
            zlib.component("1.2.11", "version string", "/usr/bin/static-tool"),
        ];
        join_packages(&mut components);
        assert_eq!(components.len(), 2, "{components:#?}");
        assert_eq!(
            components[0].cpe.as_deref(),
            Some("cpe:2.3:a:zlib:zlib:1.2.13:*:*:*:*:*:*:*")
        );
        assert_eq!(
            components[0].locations,
            ["/var/lib/dpkg/status", "/lib/libz.so.1.2.13"]
        );
        assert_eq!(components[0].sources.len(), 2);
        assert_eq!(components[1].version.as_deref(), Some("1.2.11"));
    }
}
