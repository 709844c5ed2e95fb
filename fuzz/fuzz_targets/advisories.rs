//! Fuzzes the OSV parser and the matching of components against what it parsed: version
//! ranges with arbitrary bounds, and arbitrary component versions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The text is both the advisory file and, line by line, the versions looked up.
    let Ok(advisories) = provisor_advisories::parse_osv(text) else {
        return;
    };
    let database = provisor_advisories::Database::from_advisories(advisories, "fuzz", "fuzz");
    for version in text.lines().take(8) {
        for (name, purl) in [
            ("busybox", "pkg:generic/busybox"),
            ("openssl", "pkg:deb/debian/openssl"),
        ] {
            let _ = database.matches(provisor_advisories::Component {
                name,
                version,
                purl: Some(purl),
                cpe: None,
                source: Some(name),
            });
        }
    }
});
