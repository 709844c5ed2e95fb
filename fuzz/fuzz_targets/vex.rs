//! Fuzzes what a manufacturer uploads with a release: a CycloneDX SBOM with VEX
//! (components nested to any depth, pedigree patches, BOM-Links), Yocto's cve-check
//! JSON summary and BitBake files (continuations, flags, overrides, groups), and the
//! CVE ids found in patch names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provisor_advisories::{cyclonedx, yocto};

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = cyclonedx::read(data) {
        for statement in &document.statements {
            assert!(!statement.vulnerability.trim().is_empty());
        }
    }
    let _ = yocto::read_cve_check(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (statuses, _) = yocto::read_bitbake("fuzz_1.0.bbappend", text);
    for status in statuses {
        let _ = yocto::verdict(&status.reason);
    }
    for id in cyclonedx::cve_ids(text) {
        assert!(id.starts_with("CVE-"));
    }
});
