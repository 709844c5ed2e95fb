//! The feeds monitoring imports, read from samples in their published shapes
//! (`tests/feeds`): NVD CVE 2.0 matched by CPE, the Debian tracker by source package and
//! release, OSV archives and listings, and CISA's catalogue.

use std::io::Write;
use std::path::{Path, PathBuf};

use provisor_advisories::feeds::{debian, kev, nvd, osv};
use provisor_advisories::{Advisory, Component};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/feeds")
        .join(name)
}

fn collect(read: impl FnOnce(&mut dyn FnMut(Advisory) -> Result<(), String>)) -> Vec<Advisory> {
    let mut advisories = Vec::new();
    read(&mut |advisory| {
        advisories.push(advisory);
        Ok(())
    });
    advisories
}

fn component<'a>(name: &'a str, version: &'a str, cpe: Option<&'a str>) -> Component<'a> {
    Component {
        name,
        version,
        purl: None,
        cpe,
        source: None,
    }
}

fn find<'a>(advisories: &'a [Advisory], id: &str) -> &'a Advisory {
    advisories
        .iter()
        .find(|advisory| advisory.id == id)
        .unwrap_or_else(|| panic!("{id} was not read"))
}

#[test]
fn nvd_records_match_components_by_cpe_and_version_range() {
    let advisories = collect(|sink| nvd::read(&sample("nvdcve-2.0-sample.json"), sink).unwrap());
    assert_eq!(advisories.len(), 5);
    let busybox = find(&advisories, "CVE-2022-28391");
    assert_eq!(busybox.severity.as_deref(), Some("high"));
    assert_eq!(busybox.score, Some(8.8));
    assert!(busybox.summary.starts_with("BusyBox through 1.35.0"));
    let hit = |advisory: &Advisory, product: &str, version: &str| {
        let cpe = format!("cpe:2.3:{product}:{version}:*:*:*:*:*:*:*");
        advisory
            .affects(component("component", version, Some(&cpe)))
            .map(|found| found.fixed)
    };
    assert!(hit(busybox, "a:busybox:busybox", "1.35.0").is_some());
    assert!(hit(busybox, "a:busybox:busybox", "1.36.1").is_none());
    // Without a CPE a component is not matched by NVD's data.
    assert!(
        busybox
            .affects(component("busybox", "1.35.0", None))
            .is_none()
    );

    let terrapin = find(&advisories, "CVE-2023-48795");
    let dropbear = "a:dropbear_ssh_project:dropbear_ssh";
    assert!(hit(terrapin, dropbear, "2022.83").is_some());
    assert!(hit(terrapin, dropbear, "2024.84").is_none());
    let fixed = hit(terrapin, "a:openbsd:openssh", "9.2p1").unwrap();
    assert_eq!(fixed.as_deref(), Some("9.6"));

    // A firmware CPE under an AND configuration: the vulnerable part decides, the
    // hardware platform is not a component.
    let firmware = find(&advisories, "CVE-2024-99001");
    assert_eq!(
        firmware.keys(),
        [("cpe".to_owned(), "acme:cam_firmware".to_owned())]
    );
    assert_eq!(firmware.severity.as_deref(), Some("critical"));
    assert!(hit(firmware, "o:acme:cam_firmware", "2.3").is_some());
    assert!(hit(firmware, "o:acme:cam_firmware", "2.4.1").is_none());
    assert!(hit(firmware, "o:acme:cam_firmware", "1.9").is_none());

    // Open below (excluding), closed above (including), and an exact version.
    let lighttpd = find(&advisories, "CVE-2024-99002");
    let affected = |version: &str| {
        let cpe = format!("cpe:2.3:a:lighttpd:lighttpd:{version}:*:*:*:*:*:*:*");
        lighttpd
            .affects(component("lighttpd", version, Some(&cpe)))
            .is_some()
    };
    assert!(!affected("1.4.50"));
    assert!(affected("1.4.51"));
    assert!(affected("1.4.69"));
    assert!(!affected("1.4.70"));
    assert!(affected("1.4.31"));
    assert!(lighttpd.severity.is_none());

    let rejected = find(&advisories, "CVE-2024-99003");
    assert!(rejected.withdrawn.is_some());
}

#[test]
fn the_debian_tracker_matches_source_packages_in_their_release() {
    let advisories =
        collect(|sink| debian::read(&sample("debian-tracker-sample.json"), sink).unwrap());
    let ids: Vec<&str> = advisories
        .iter()
        .map(|advisory| advisory.id.as_str())
        .collect();
    // Every issue is read; an unimportant one affects nothing.
    assert_eq!(
        ids,
        [
            "CVE-2018-1000500/busybox",
            "CVE-2022-28391/busybox",
            "CVE-2007-5135/openssl",
            "CVE-2023-0286/openssl",
            "CVE-2023-28366/mosquitto",
            "TEMP-0000000-ABCDEF/mosquitto"
        ]
    );
    let deb = |name: &'static str, source: &'static str, version: &'static str| Component {
        name,
        version,
        purl: Some("pkg:deb/debian/x"),
        cpe: None,
        source: Some(source),
    };
    let busybox = find(&advisories, "CVE-2022-28391/busybox");
    assert_eq!(busybox.vulnerability(), "CVE-2022-28391");
    assert_eq!(busybox.severity.as_deref(), Some("low"));
    // Open in bookworm: bookworm's package is affected; one of trixie's (named by the
    // release) is fixed; a version naming no release is judged by the newest listed.
    assert!(
        busybox
            .affects(deb("busybox-static", "busybox", "1:1.35.0-4"))
            .is_some()
    );
    assert!(
        busybox
            .affects(deb("busybox", "busybox", "1:1.37.0-4"))
            .is_none()
    );
    let mut in_bookworm = deb("busybox", "busybox", "1:1.37.0-4");
    in_bookworm.purl = Some("pkg:deb/debian/busybox@1:1.37.0-4?distro=debian-12");
    assert!(busybox.affects(in_bookworm).is_some());
    // A binary package is looked up by its source package.
    let openssl = find(&advisories, "CVE-2023-0286/openssl");
    assert_eq!(openssl.severity.as_deref(), Some("high"));
    assert!(
        openssl
            .affects(deb("libssl3", "openssl", "3.0.7-1"))
            .is_some()
    );
    assert!(
        openssl
            .affects(deb("libssl3", "openssl", "3.0.15-1~deb12u1"))
            .is_none()
    );
    // bullseye's fix, chosen by the `+deb11u` in the version.
    assert!(
        openssl
            .affects(deb("libssl1.1", "openssl", "1.1.1n-0+deb11u3"))
            .is_some()
    );
    assert!(
        openssl
            .affects(deb("libssl1.1", "openssl", "1.1.1n-0+deb11u4"))
            .is_none()
    );
    assert!(
        openssl
            .affects(deb("libssl1.1", "libssl1.1", "1.1.1n-0+deb11u3"))
            .is_none()
    );
    // Not affected (fixed version 0) and unimportant: nothing matches.
    let never = find(&advisories, "CVE-2007-5135/openssl");
    assert!(
        never
            .affects(deb("libssl3", "openssl", "0.9.7a-1"))
            .is_none()
    );
    let unimportant = find(&advisories, "CVE-2018-1000500/busybox");
    assert!(
        unimportant
            .affects(deb("busybox", "busybox", "1:1.35.0-4"))
            .is_none()
    );
    // Undetermined counts as affected until the tracker says otherwise.
    let temp = find(&advisories, "TEMP-0000000-ABCDEF/mosquitto");
    assert_eq!(temp.vulnerability(), "TEMP-0000000-ABCDEF/mosquitto");
    assert!(
        temp.affects(deb("mosquitto", "mosquitto", "2.0.11-1.2+deb12u1"))
            .is_some()
    );
}

#[test]
fn the_known_exploited_catalogue_lists_cve_ids_with_their_dates() {
    let entries = kev::read(&sample("known_exploited_vulnerabilities-sample.json")).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].cve_id, "CVE-2023-48795");
    assert_eq!(entries[0].date_added, "2026-11-20");
    assert_eq!(entries[1].known_ransomware_campaign_use, "Known");
}

fn zip_of(path: &Path, members: &[(String, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = zip::ZipWriter::new(file);
    for (name, data) in members {
        writer
            .start_file(
                name.as_str(),
                zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated),
            )
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap();
}

fn curated_members() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/advisories");
    let mut members: Vec<(String, Vec<u8>)> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    members.sort();
    members
}

#[test]
fn an_osv_archive_is_read_member_by_member_and_a_bad_member_is_named() {
    let scratch = tempfile::tempdir().unwrap();
    let archive = scratch.path().join("all.zip");
    let mut members = curated_members();
    members.push(("README.txt".to_owned(), b"not an advisory".to_vec()));
    zip_of(&archive, &members);
    let advisories = collect(|sink| osv::read(&archive, sink).unwrap());
    assert_eq!(advisories.len(), 5);
    let busybox = find(&advisories, "CVE-2022-28391");
    let generic = Component {
        name: "busybox",
        version: "1.35.0",
        purl: Some("pkg:generic/busybox@1.35.0"),
        cpe: None,
        source: None,
    };
    assert!(busybox.affects(generic).is_some());

    let broken = scratch.path().join("broken.zip");
    zip_of(
        &broken,
        &[(
            "GHSA-1.json".to_owned(),
            br#"{"id": "GHSA-1", "affected": 3}"#.to_vec(),
        )],
    );
    let error = osv::read(&broken, &mut |_| Ok(())).unwrap_err().to_string();
    assert!(error.contains("broken.zip/GHSA-1.json:1:"), "{error}");

    let not_zip = scratch.path().join("fake.zip");
    std::fs::write(&not_zip, b"PK\x03\x04 and then nothing").unwrap();
    let error = osv::read(&not_zip, &mut |_| Ok(()))
        .unwrap_err()
        .to_string();
    assert!(error.contains("not a readable zip archive"), "{error}");
}

#[test]
fn a_sink_error_stops_a_read_with_the_place() {
    let error = nvd::read(&sample("nvdcve-2.0-sample.json"), &mut |_| {
        Err("the store is gone".to_owned())
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("nvdcve-2.0-sample.json:"), "{error}");
    assert!(error.contains("the store is gone"), "{error}");
}

#[test]
fn gzip_feeds_are_read_as_they_come() {
    let scratch = tempfile::tempdir().unwrap();
    let gz = scratch.path().join("nvdcve-2.0-2024.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(&std::fs::read(sample("nvdcve-2.0-sample.json")).unwrap())
        .unwrap();
    encoder.finish().unwrap();
    assert_eq!(collect(|sink| nvd::read(&gz, sink).unwrap()).len(), 5);
}

#[test]
fn malformed_feeds_are_refused_with_their_place() {
    let scratch = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 3] = [
        (
            "nvd.json",
            "{\"vulnerabilities\": [{\"cve\": {}}]}",
            "missing field `id`",
        ),
        (
            "nvd2.json",
            "{\"format\": \"NVD_CVE\"}",
            "missing field `vulnerabilities`",
        ),
        (
            "debian.json",
            "{\"busybox\": {\"CVE-1\": {\"releases\": 7}}}",
            "invalid type",
        ),
    ];
    for (name, text, expected) in cases {
        let path = scratch.path().join(name);
        std::fs::write(&path, text).unwrap();
        let result = if name.starts_with("nvd") {
            nvd::read(&path, &mut |_| Ok(()))
        } else {
            debian::read(&path, &mut |_| Ok(()))
        };
        let error = result.unwrap_err().to_string();
        assert!(error.contains(&format!("{name}:1:")), "{error}");
        assert!(error.contains(expected), "{name}: {error}");
    }
}

#[test]
fn a_distribution_package_is_compared_with_nvd_ranges_by_its_cpe_version() {
    let advisories = collect(|sink| nvd::read(&sample("nvdcve-2.0-sample.json"), sink).unwrap());
    let busybox = find(&advisories, "CVE-2022-28391");
    let package = |version: &'static str, cpe: &'static str| Component {
        name: "busybox-static",
        version,
        purl: Some("pkg:deb/busybox-static@x"),
        cpe: Some(cpe),
        source: Some("busybox"),
    };
    let affected = package(
        "1:1.35.0-4+deb12u1+b1",
        "cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*",
    );
    assert!(busybox.affects(affected).is_some());
    let fixed = package(
        "1:1.36.1-9",
        "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*",
    );
    assert!(busybox.affects(fixed).is_none());
}
