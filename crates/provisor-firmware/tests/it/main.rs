//! Firmware analysis against the images `scripts/build-test-images` builds from real
//! Debian armhf packages: every planted weakness of the weak device is found with its
//! provision and location, in every container; no trap of the hardened device fires;
//! hostile input ends in inconclusive findings, never a panic or an escape.

mod formats;
mod hostile;
mod images;
mod legacy_squashfs;
mod unpack;
mod vendor;
mod yaffs2;

use std::path::PathBuf;

use provisor_engine::{FindingsFile, Outcome};

/// The directory of the test images; they must have been built.
pub fn images() -> PathBuf {
    let directory = std::env::var_os("PROVISOR_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-images")
        });
    assert!(
        directory.join("weak/weak.xz.squashfs").exists(),
        "the firmware test images are missing from {}: run scripts/build-test-images (scripts/test does)",
        directory.display()
    );
    directory
}

/// The version of the Debian armhf package `package` the test images were built from,
/// as its file name among the downloaded packages gives it (`1:1.35.0-4+deb12u1+b1`):
/// Debian's security updates move it, so tests read it rather than state it.
pub fn package_version(package: &str) -> String {
    let debs = images().join("debs");
    let prefix = format!("{package}_");
    std::fs::read_dir(&debs)
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find_map(|name| {
            let version = name.strip_prefix(&prefix)?.split('_').next()?;
            Some(version.replace("%3a", ":"))
        })
        .unwrap_or_else(|| panic!("no package {package} in {}", debs.display()))
}

/// The upstream part of [`package_version`] (no epoch, no Debian revision): `1.35.0`.
pub fn upstream_version(package: &str) -> String {
    let version = package_version(package);
    let version = version
        .split_once(':')
        .map_or(version.as_str(), |(_, rest)| rest);
    version
        .rsplit_once('-')
        .map_or(version, |(upstream, _)| upstream)
        .to_owned()
}

/// Scans with the default limits.
pub fn scan(path: &std::path::Path) -> FindingsFile {
    let options = provisor_firmware::ScanOptions {
        tool_version: "test".into(),
        ..Default::default()
    };
    provisor_firmware::scan(path, &options).unwrap()
}

/// The failing findings, as `check title` lines.
pub fn failing(findings: &FindingsFile) -> Vec<String> {
    findings
        .findings
        .iter()
        .filter(|finding| finding.outcome == Outcome::Fail)
        .map(|finding| format!("{} {}", finding.check, finding.title))
        .collect()
}
