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
