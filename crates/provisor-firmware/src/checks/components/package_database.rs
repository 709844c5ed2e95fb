//! `firmware.package-database`: components listed by the image's package manager.

use provisor_engine::{Outcome, Severity};

use crate::checks::{Check, CheckMeta, Context};
use provisor_engine::FindingSink;

/// Reads the package databases an image carries — dpkg (`/var/lib/dpkg/status`), opkg
/// (`/usr/lib/opkg/status`, `/var/lib/opkg/status`) and apk (`/lib/apk/db/installed`) —
/// and records every installed package with its version as a component (with a
/// `pkg:deb`, `pkg:opkg` or `pkg:apk` package URL). Packages removed but not purged
/// (dpkg status other than "install ok installed") are left out. A Debian package's URL
/// names the distribution release `os-release` gives (`?distro=debian-12`), so its
/// advisories are looked up for that release even when its version does not say it.
pub struct PackageDatabase;

static META: CheckMeta = CheckMeta {
    id: "firmware.package-database",
    title: "components listed by the package manager",
    provisions: &["5.2-3", "5.3-8"],
};

const DATABASES: &[(&str, &str)] = &[
    ("/var/lib/dpkg/status", "deb"),
    ("/usr/lib/opkg/status", "opkg"),
    ("/var/lib/opkg/status", "opkg"),
    ("/lib/apk/db/installed", "apk"),
];

/// Packages of a dpkg/opkg-style (`Package:`) or apk-style (`P:`) database.
/// The installed packages of a database: (name, version, source package).
fn packages(text: &str, kind: &str) -> Vec<(String, String, Option<String>)> {
    let mut found = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |names: &[&str]| {
            stanza.lines().find_map(|line| {
                names.iter().find_map(|name| {
                    line.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix(':'))
                        .map(|value| value.trim().to_owned())
                })
            })
        };
        let (name, version) = if kind == "apk" {
            (field(&["P"]), field(&["V"]))
        } else {
            (field(&["Package"]), field(&["Version"]))
        };
        let installed = field(&["Status"]).is_none_or(|status| {
            status.ends_with("installed")
                && !status.contains("not-installed")
                && !status.starts_with("deinstall")
        });
        // dpkg names the source when it differs from the package (`openssl (3.0.20-1)`
        // for libssl3 may carry its own version after it).
        let source = field(&["Source"])
            .and_then(|source| source.split_whitespace().next().map(str::to_owned));
        if let (Some(name), Some(version), true) = (name, version, installed) {
            found.push((name, version, source));
        }
    }
    found
}

/// The distribution release an image's `os-release` names, as a package URL's
/// `distro` qualifier: `ID-VERSION_ID` (`debian-12`, `ubuntu-22.04`), or the
/// `VERSION_CODENAME` alone (`trixie`, for testing), or the `ID` alone.
fn distro(os_release: &str) -> Option<String> {
    let field = |name: &str| {
        os_release.lines().find_map(|line| {
            let value = line.trim().strip_prefix(name)?.strip_prefix('=')?;
            let value = value.trim().trim_matches(['"', '\'']).trim();
            let clean = value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            (!value.is_empty() && clean).then(|| value.to_ascii_lowercase())
        })
    };
    let id = field("ID")?;
    Some(match (field("VERSION_ID"), field("VERSION_CODENAME")) {
        (Some(version), _) => format!("{id}-{version}"),
        (None, Some(codename)) => codename,
        (None, None) => id,
    })
}

impl Check for PackageDatabase {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, context: &Context<'_>, sink: &mut FindingSink) {
        let distro = ["/etc/os-release", "/usr/lib/os-release"]
            .iter()
            .find_map(|path| context.vfs.read_text(path, 64 * 1024).ok())
            .and_then(|text| distro(&text));
        for (path, kind) in DATABASES {
            let Ok(text) = context.vfs.read_text(path, context.limits.max_file_read) else {
                continue;
            };
            let list = packages(&text, kind);
            for (name, version, source) in &list {
                sink.add_component(provisor_engine::Component {
                    name: name.clone(),
                    version: Some(version.clone()),
                    purl: Some(match (&distro, *kind) {
                        (Some(distro), "deb") => {
                            format!("pkg:{kind}/{name}@{version}?distro={distro}")
                        }
                        _ => format!("pkg:{kind}/{name}@{version}"),
                    }),
                    cpe: None,
                    source_package: source.clone().or_else(|| Some(name.clone())),
                    sources: vec![format!("package database: {name} {version}")],
                    locations: vec![(*path).to_owned()],
                });
            }
            sink.add(
                META.id,
                META.provisions,
                Outcome::Info,
                Severity::Info,
                format!("{} packages listed in {path}", list.len()),
            )
            .at(path, None, &context.vfs.container_of(path))
            .record();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_and_apk_databases_are_read() {
        let dpkg = "Package: busybox-static\nStatus: install ok installed\nSource: busybox (1:1.35.0-4)\nVersion: 1:1.35.0-4+b1\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n";
        assert_eq!(
            packages(dpkg, "deb"),
            [(
                "busybox-static".to_owned(),
                "1:1.35.0-4+b1".to_owned(),
                Some("busybox".to_owned())
            )]
        );
        let apk = "C:Q1abc\nP:musl\nV:1.2.4-r2\n\nP:busybox\nV:1.36.1-r5\n";
        assert_eq!(packages(apk, "apk").len(), 2);
    }

    #[test]
    fn os_release_names_the_distribution_release() {
        let cases = [
            (
                "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
                Some("debian-12"),
            ),
            (
                "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\n",
                Some("ubuntu-22.04"),
            ),
            (
                "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nID=debian\nVERSION_CODENAME=trixie\n",
                Some("trixie"),
            ),
            ("ID='raspbian'\n", Some("raspbian")),
            ("NAME=Nothing\nID_LIKE=debian\n", None),
            ("ID=\"debian; rm -rf\"\n", None),
        ];
        for (text, expected) in cases {
            assert_eq!(distro(text).as_deref(), expected, "{text}");
        }
    }
}
