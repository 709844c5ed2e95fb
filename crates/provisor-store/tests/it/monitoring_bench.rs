//! The monitoring benchmark (ignored; run on purpose, numbers in docs/PERFORMANCE.md):
//! `RELEASES` releases of `COMPONENTS` components each (drawn from 1 000 packages in 8
//! versions, Debian packages and upstream ones with CPE names), `BASE` advisories
//! imported and matched, then an OSV delta of `DELTA` records (new ones, changed fixes,
//! withdrawals) read from a directory through its `modified_id.csv` and applied: the
//! time from reading the listing to the last finding and its notification (a webhook
//! delivery in the outbox, written with it) committed, on each engine.
//!
//! ```sh
//! PROVISOR_TEST_POSTGRES=$(scripts/postgres start /tmp/pg-bench) \
//!   cargo test --release -p provisor-store --test it -- --ignored --nocapture bench_monitoring
//! ```
//!
//! `PROVISOR_BENCH_RELEASES` changes the number of releases (10 000 by default).

use std::fmt::Write as _;
use std::time::Instant;

use provisor_advisories::feeds::osv;
use provisor_advisories::{Advisory, Affected, Event, Range};
use provisor_store::{
    Actor, MONITORING_BATCH, NewProduct, NewRelease, OrganisationKind, ReleaseSbom, SbomComponent,
};
use sqlx::{Connection, Row};

use crate::{organisation, stores};

const COMPONENTS: usize = 300;
const PACKAGES: usize = 1_000;
const VERSIONS: usize = 8;
const RELEASES_PER_PRODUCT: usize = 10;
const BASE: usize = 5_000;
const DELTA: usize = 500;

/// Package `n`: a Debian package (7 in 10) or an upstream project with a CPE name.
fn component(package: usize, version: usize) -> SbomComponent {
    let name = format!("pkg{package:04}");
    if package % 10 < 7 {
        let version = format!("1.{version}.0-1");
        SbomComponent {
            purl: Some(format!("pkg:deb/{name}@{version}")),
            source_package: Some(name.clone()),
            cpe: None,
            name,
            version,
        }
    } else {
        let version = format!("1.{version}.0");
        SbomComponent {
            purl: Some(format!("pkg:generic/{name}@{version}")),
            cpe: Some(format!(
                "cpe:2.3:a:vendor{package}:{name}:{version}:*:*:*:*:*:*:*"
            )),
            source_package: None,
            name,
            version,
        }
    }
}

/// An advisory on package `n`, fixed in version `fixed`: Debian's ecosystem for a
/// Debian package, an upstream (generic) one otherwise.
fn advisory(id: String, package: usize, fixed: usize, modified: &str) -> Advisory {
    let name = format!("pkg{package:04}");
    let debian = package % 10 < 7;
    Advisory {
        id,
        aliases: Vec::new(),
        summary: format!("a flaw in {name}"),
        score: None,
        severity: Some(["low", "medium", "high", "critical"][package % 4].to_owned()),
        affected: vec![Affected {
            ecosystem: if debian {
                "Debian:12".into()
            } else {
                String::new()
            },
            name,
            purl: None,
            ranges: vec![Range {
                kind: "ECOSYSTEM".into(),
                events: vec![
                    Event {
                        introduced: Some("0".into()),
                        ..Event::default()
                    },
                    Event {
                        fixed: Some(if debian {
                            format!("1.{fixed}.0-1")
                        } else {
                            format!("1.{fixed}.0")
                        }),
                        ..Event::default()
                    },
                ],
            }],
            versions: Vec::new(),
            cpe: None,
        }],
        modified: Some(modified.to_owned()),
        withdrawn: None,
    }
}

/// The OSV JSON of an advisory.
fn osv_json(advisory: &Advisory) -> String {
    let affected = &advisory.affected[0];
    let mut package = serde_json::json!({"name": affected.name});
    if !affected.ecosystem.is_empty() {
        package["ecosystem"] = affected.ecosystem.clone().into();
    }
    let mut record = serde_json::json!({
        "id": advisory.id,
        "modified": advisory.modified,
        "summary": advisory.summary,
        "database_specific": {"severity": advisory.severity},
        "affected": [{"package": package, "ranges": affected.ranges}],
    });
    if let Some(withdrawn) = &advisory.withdrawn {
        record["withdrawn"] = withdrawn.clone().into();
    }
    record.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: minutes"]
async fn bench_monitoring() {
    let releases: usize = std::env::var("PROVISOR_BENCH_RELEASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10_000);
    for test in stores().await {
        let store = &test.store;
        let engine = test.engine;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let started = Instant::now();
        let mut release_ids = Vec::with_capacity(releases);
        for product in 0..releases.div_ceil(RELEASES_PER_PRODUCT) {
            let created = store
                .create_product(
                    &Actor::Server,
                    &acme.id,
                    &NewProduct {
                        name: format!("product {product}"),
                        model: format!("M{product}"),
                    },
                )
                .await
                .unwrap();
            for index in 0..RELEASES_PER_PRODUCT {
                if release_ids.len() == releases {
                    break;
                }
                let release = store
                    .create_release(
                        &Actor::Server,
                        &created.id,
                        &NewRelease {
                            version: format!("{index}.0"),
                            support_period_end: None,
                        },
                    )
                    .await
                    .unwrap();
                let components = (0..COMPONENTS)
                    .map(|k| {
                        let package = (product * 37 + k * 3) % PACKAGES;
                        component(package, (index + product) % VERSIONS)
                    })
                    .collect();
                store
                    .record_sbom(&ReleaseSbom {
                        release_id: release.id.clone(),
                        job_id: "bench".into(),
                        firmware_sha256: None,
                        components,
                    })
                    .await
                    .unwrap();
                release_ids.push(release.id);
            }
        }
        let loaded = started.elapsed();
        let started = Instant::now();
        store.match_new_components().await.unwrap();
        let first_match = started.elapsed();

        let started = Instant::now();
        let base: Vec<Advisory> = (0..BASE)
            .map(|i| {
                advisory(
                    format!("BASE-{i:05}"),
                    (i * 7) % PACKAGES,
                    i % VERSIONS,
                    "2026-11-01T00:00:00Z",
                )
            })
            .collect();
        let mut base_summary = provisor_store::MatchSummary::default();
        for batch in base.chunks(MONITORING_BATCH) {
            base_summary.add(store.apply_advisories("osv", batch).await.unwrap());
        }
        let base_time = started.elapsed();

        // The delta, as OSV publishes it: one file per record and the listing.
        let feed = tempfile::tempdir().unwrap();
        let mut listing = String::new();
        for i in 0..DELTA {
            let modified = format!("2026-12-01T00:{:02}:{:02}Z", (i / 60) % 60, i % 60);
            let record = match i % 10 {
                // A changed fix for a base advisory.
                0 => advisory(
                    format!("BASE-{:05}", i * 9),
                    (i * 9 * 7) % PACKAGES,
                    (i * 9 + 3) % VERSIONS,
                    &modified,
                ),
                // A withdrawn base advisory.
                1 => {
                    let mut withdrawn = advisory(
                        format!("BASE-{:05}", i * 9 + 1),
                        ((i * 9 + 1) * 7) % PACKAGES,
                        (i * 9 + 1) % VERSIONS,
                        &modified,
                    );
                    withdrawn.withdrawn = Some(modified.clone());
                    withdrawn
                }
                _ => advisory(
                    format!("NEW-{i:04}"),
                    (i * 13) % PACKAGES,
                    i % VERSIONS,
                    &modified,
                ),
            };
            std::fs::write(
                feed.path().join(format!("{}.json", record.id)),
                osv_json(&record),
            )
            .unwrap();
            let _ = writeln!(listing, "{modified},{}", record.id);
        }
        std::fs::write(feed.path().join("modified_id.csv"), &listing).unwrap();

        // The manufacturer wants every new finding as a webhook: the delta's findings
        // reach the outbox in the transactions that open them.
        store
            .create_rule(
                &Actor::Server,
                &acme.id,
                &provisor_store::NewRule {
                    name: "psirt".into(),
                    channel: "webhook".into(),
                    target: "http://127.0.0.1:9/hook".into(),
                    kinds: vec!["vulnerability.found".into()],
                    min_severity: None,
                    product_id: None,
                },
            )
            .await
            .unwrap();
        let mut connection = sqlx::AnyConnection::connect(&test.url).await.unwrap();
        let count_findings = "SELECT COUNT(*) FROM release_components rc JOIN component_vulnerabilities cv \
                              ON cv.component_id = rc.component_id WHERE cv.state = 'open'";
        let events_before: i64 = sqlx::query("SELECT COUNT(*) FROM events")
            .fetch_one(&mut connection)
            .await
            .unwrap()
            .get(0);
        let before: i64 = sqlx::query(count_findings)
            .fetch_one(&mut connection)
            .await
            .unwrap()
            .get(0);

        let started = Instant::now();
        let listing_path = feed.path().join("modified_id.csv");
        let text = std::fs::read_to_string(&listing_path).unwrap();
        let since = osv::normal_time("2026-11-30T00:00:00Z");
        let changed = osv::changed_since(&listing_path, &text, since.as_deref()).unwrap();
        let mut records = Vec::new();
        for entry in &changed {
            osv::read(&osv::record_path(feed.path(), entry), &mut |advisory| {
                records.push(advisory);
                Ok(())
            })
            .unwrap();
        }
        let mut delta = provisor_store::MatchSummary::default();
        for batch in records.chunks(MONITORING_BATCH) {
            delta.add(store.apply_advisories("osv", batch).await.unwrap());
        }
        let delta_time = started.elapsed();
        let after: i64 = sqlx::query(count_findings)
            .fetch_one(&mut connection)
            .await
            .unwrap()
            .get(0);
        let count = |sql: &'static str| sqlx::query(sql);
        let deliveries: i64 = count("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")
            .fetch_one(&mut connection)
            .await
            .unwrap()
            .get(0);
        let events: i64 = count("SELECT COUNT(*) FROM events")
            .fetch_one(&mut connection)
            .await
            .unwrap()
            .get(0);

        println!(
            "{engine}: {releases} releases x {COMPONENTS} components loaded in {loaded:.1?}, \
             first match {first_match:.1?}; base {BASE} advisories in {base_time:.1?} \
             ({} component matches); OSV delta of {DELTA} records read and applied in {delta_time:.2?}: \
             {} changed, {} matches opened, {} retracted; open release findings {before} -> {after}; \
             {} events, {deliveries} webhook deliveries in the outbox",
            base_summary.new_matches,
            delta.changed,
            delta.new_matches,
            delta.retracted,
            events - events_before,
        );
        assert_eq!(delta.read, DELTA as u64);
        assert!(delta.new_matches > 0 && delta.retracted > 0);
        assert!(deliveries > 0);
    }
}
