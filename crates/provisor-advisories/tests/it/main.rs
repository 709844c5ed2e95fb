//! Importing OSV files and matching components against them: the curated set in
//! `examples/advisories`, and hostile or malformed files.

use std::path::PathBuf;

use provisor_advisories::{Component, Database, Error};

fn curated() -> Database {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/advisories");
    Database::import(&root, "2026-11-28T00:00:00Z").unwrap()
}

fn ids(database: &Database, name: &str, version: &str, purl: &str) -> Vec<String> {
    database
        .matches(Component {
            name,
            version,
            purl: Some(purl),
            cpe: None,
            source: None,
        })
        .into_iter()
        .map(|found| found.advisory.id.clone())
        .collect()
}

#[test]
fn the_curated_set_matches_the_affected_components_only() {
    let database = curated();
    assert_eq!(database.advisories.len(), 5);
    assert_eq!(
        ids(&database, "busybox", "1.35.0", "pkg:generic/busybox@1.35.0"),
        ["CVE-2022-28391"]
    );
    assert!(ids(&database, "busybox", "1.36.1", "pkg:generic/busybox@1.36.1").is_empty());
    assert_eq!(
        ids(
            &database,
            "dropbear",
            "2022.83",
            "pkg:generic/dropbear@2022.83"
        ),
        ["CVE-2023-48795"]
    );
    assert!(
        ids(
            &database,
            "dropbear",
            "2024.84",
            "pkg:generic/dropbear@2024.84"
        )
        .is_empty()
    );
    assert!(
        ids(
            &database,
            "lighttpd",
            "1.4.69",
            "pkg:generic/lighttpd@1.4.69"
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &database,
            "lighttpd",
            "1.4.60",
            "pkg:generic/lighttpd@1.4.60"
        ),
        ["CVE-2022-41556"]
    );
    assert!(ids(&database, "openssl", "3.0.20", "pkg:generic/openssl@3.0.20").is_empty());
    assert_eq!(
        ids(&database, "openssl", "3.0.7", "pkg:generic/openssl@3.0.7"),
        ["CVE-2023-0286"]
    );
    // Debian's record matches Debian packages by Debian version, not upstream ones.
    assert!(
        ids(
            &database,
            "mosquitto",
            "2.0.11-1.2+deb12u2",
            "pkg:deb/debian/mosquitto@2.0.11-1.2+deb12u2"
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &database,
            "mosquitto",
            "2.0.11-1.2",
            "pkg:deb/debian/mosquitto@2.0.11-1.2"
        ),
        ["DSA-5511-1"]
    );
    assert!(
        ids(
            &database,
            "mosquitto",
            "2.0.11",
            "pkg:generic/mosquitto@2.0.11"
        )
        .is_empty()
    );
    // Scores and ratings come from the CVSS vectors, or the database's own rating.
    let busybox = &database
        .advisories
        .iter()
        .find(|a| a.id == "CVE-2022-28391")
        .unwrap();
    assert_eq!(
        (busybox.score, busybox.severity.as_deref()),
        (Some(9.8), Some("critical"))
    );
    let debian = &database
        .advisories
        .iter()
        .find(|a| a.id == "DSA-5511-1")
        .unwrap();
    assert_eq!(
        (debian.score, debian.severity.as_deref()),
        (None, Some("high"))
    );
}

#[test]
fn the_database_round_trips_and_reports_its_fixed_versions() {
    let database = curated();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("advisories.json");
    std::fs::write(&path, database.to_json()).unwrap();
    let loaded = Database::load(&path).unwrap();
    assert_eq!(loaded, database);
    let found = loaded.matches(Component {
        name: "openssl",
        version: "3.0.2",
        purl: Some("pkg:generic/openssl@3.0.2"),
        cpe: None,
        source: None,
    });
    assert_eq!(found[0].fixed.as_deref(), Some("3.0.8"));
}

/// A database of a whole ecosystem is far larger than one advisory file may be: an
/// import's output loads again (the bound on a single OSV file, 16 MiB, is not the
/// database's).
#[test]
fn a_database_larger_than_one_advisory_file_loads() {
    let template = curated().advisories[0].clone();
    let mut advisories = Vec::new();
    for index in 0..2_200 {
        let mut advisory = template.clone();
        advisory.id = format!("TEST-{index:05}");
        advisory.summary = "x".repeat(8_000);
        advisories.push(advisory);
    }
    let database = Database::from_advisories(advisories, "2026-11-30T00:00:00Z", "test");
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("advisories.json");
    std::fs::write(&path, database.to_json()).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 16 << 20);
    assert_eq!(Database::load(&path).unwrap().advisories.len(), 2_200);
}

#[test]
fn ranges_with_several_intervals_and_version_lists_are_read() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("many.json"),
        r#"[{"id": "X-1", "affected": [{"package": {"ecosystem": "Alpine:v3.18", "name": "busybox"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.30.0-r0"}, {"fixed": "1.31.1-r9"},
                                                       {"introduced": "1.36.0-r0"}, {"fixed": "1.36.1-r2"}]}]}]},
           {"id": "X-2", "affected": [{"package": {"name": "linux", "ecosystem": "Linux"}, "versions": ["5.10.110"],
            "ranges": [{"type": "GIT", "events": [{"introduced": "abc"}]}]}]}]"#,
    )
    .unwrap();
    let database = Database::import(directory.path(), "now").unwrap();
    let apk = |version: &str| {
        ids(
            &database,
            "busybox",
            version,
            &format!("pkg:apk/alpine/busybox@{version}"),
        )
    };
    assert_eq!(apk("1.31.0-r0"), ["X-1"]);
    assert!(apk("1.33.0-r0").is_empty());
    assert_eq!(apk("1.36.1-r1"), ["X-1"]);
    assert!(apk("1.36.1-r2").is_empty());
    assert_eq!(
        ids(&database, "linux", "5.10.110", "pkg:generic/linux@5.10.110"),
        ["X-2"]
    );
    assert!(ids(&database, "linux", "5.10.111", "pkg:generic/linux@5.10.111").is_empty());
}

#[test]
fn malformed_files_are_refused_with_their_place() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("good.json"),
        r#"{"id": "A", "affected": []}"#,
    )
    .unwrap();
    std::fs::write(
        directory.path().join("bad.json"),
        "{\n  \"id\": \"B\",\n  \"affected\": [{\"package\": {\"name\": 7}}]\n}\n",
    )
    .unwrap();
    let error = Database::import(directory.path(), "now").unwrap_err();
    let Error::Parse { path, line, .. } = &error else {
        panic!("{error}");
    };
    assert!(path.ends_with("bad.json"));
    assert_eq!(*line, 3, "{error}");
    std::fs::write(directory.path().join("bad.json"), [0xff, 0xfe, 0x00]).unwrap();
    assert!(matches!(
        Database::import(directory.path(), "now"),
        Err(Error::Read { .. })
    ));
    let store = directory.path().join("store.json");
    std::fs::write(
        &store,
        r#"{"format": "other/1", "imported": "", "source": "", "advisories": []}"#,
    )
    .unwrap();
    assert!(
        Database::load(&store)
            .unwrap_err()
            .to_string()
            .contains("import the advisories again")
    );
}

/// The index a database is matched through finds what each advisory alone finds: for
/// every package an advisory names, at every version its ranges mention, under each
/// package type, a database of all of them gives the union of what databases of one
/// advisory each give, in id order, one match per advisory.
#[test]
fn a_large_database_matches_as_its_advisories_one_by_one() {
    let curated = curated();
    let mut advisories = curated.advisories.clone();
    // Many advisories of one package, as a distribution's feed has them.
    let template = advisories[0].clone();
    for number in 0..200 {
        let mut copy = template.clone();
        copy.id = format!("CVE-2099-{number:05}");
        advisories.push(copy);
    }
    advisories.sort_by(|a, b| a.id.cmp(&b.id));
    let all = Database::from_advisories(advisories.clone(), "now", "test");
    let alone: Vec<Database> = advisories
        .iter()
        .map(|advisory| Database::from_advisories(vec![advisory.clone()], "now", "test"))
        .collect();
    let mut tried = 0;
    for advisory in &advisories {
        for affected in &advisory.affected {
            let mut versions: Vec<String> = vec!["0.1".into(), "99999".into()];
            versions.extend(affected.versions.iter().cloned());
            for range in &affected.ranges {
                for event in &range.events {
                    for version in [&event.introduced, &event.fixed, &event.last_affected]
                        .into_iter()
                        .flatten()
                    {
                        versions.push(version.clone());
                    }
                }
            }
            for version in &versions {
                for kind in ["generic", "deb", "apk", "opkg"] {
                    for name in [affected.name.clone(), affected.name.to_uppercase()] {
                        let purl = format!("pkg:{kind}/{name}@{version}");
                        let expected: Vec<String> = alone
                            .iter()
                            .flat_map(|one| ids(one, &name, version, &purl))
                            .collect();
                        assert_eq!(ids(&all, &name, version, &purl), expected, "{purl}");
                        tried += 1;
                    }
                }
            }
        }
    }
    assert!(tried > 1000, "{tried}");
}

mod feeds;
