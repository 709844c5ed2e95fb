//! Fuzzes the monitoring feeds' readers: NVD's CVE JSON 2.0 and the Debian tracker's
//! JSON read as streams, OSV's `modified_id.csv` listing, and the matching of
//! components (by package and by CPE, with arbitrary versions) against what was read.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use provisor_advisories::Component;
use provisor_advisories::feeds::{debian, nvd, osv};

fuzz_target!(|data: &[u8]| {
    let place = Path::new("fuzz");
    let mut advisories = Vec::new();
    let _ = nvd::read_from(place, data, &mut |advisory| {
        advisories.push(advisory);
        Ok(())
    });
    let _ = debian::read_from(place, data, &mut |advisory| {
        advisories.push(advisory);
        Ok(())
    });
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = osv::changed_since(place, text, osv::normal_time("2024-01-01T00:00:00Z").as_deref());
    for version in text.lines().take(4) {
        let cpe = format!("cpe:2.3:a:busybox:busybox:{version}:*:*:*:*:*:*:*");
        let asked = [
            Component { name: "busybox", version, purl: None, cpe: Some(&cpe), source: None },
            Component {
                name: "libssl3",
                version,
                purl: Some("pkg:deb/debian/libssl3?distro=debian-12"),
                cpe: None,
                source: Some("openssl"),
            },
        ];
        for advisory in &advisories {
            for component in asked {
                let _ = advisory.affects(component);
            }
        }
    }
});
