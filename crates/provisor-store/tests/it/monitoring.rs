//! Continuous monitoring: a release's SBOM stored once with its scan's result, advisories
//! imported in batches and matched again only when they change, new matches opened and
//! those an advisory no longer makes retracted, new releases matched against what is
//! already known, CISA's catalogue marking findings.

use std::collections::HashSet;
use std::path::PathBuf;

use provisor_advisories::Advisory;
use provisor_advisories::feeds::{debian, nvd};
use provisor_store::{
    Actor, Claim, Fence, KnownExploited, NewJob, NewProduct, NewRelease, OrganisationKind,
    Priority, ReleaseSbom, SbomComponent, Store,
};
use serde_json::json;

use crate::{organisation, stores};

fn feed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../provisor-advisories/tests/feeds")
        .join(name)
}

fn read(
    reader: fn(
        &std::path::Path,
        &mut provisor_advisories::feeds::Sink<'_>,
    ) -> Result<(), provisor_advisories::Error>,
    name: &str,
) -> Vec<Advisory> {
    let mut advisories = Vec::new();
    reader(&feed(name), &mut |advisory| {
        advisories.push(advisory);
        Ok(())
    })
    .unwrap();
    advisories
}

fn deb(name: &str, source: &str, version: &str) -> SbomComponent {
    SbomComponent {
        name: name.into(),
        version: version.into(),
        purl: Some(format!("pkg:deb/{name}@{version}")),
        cpe: None,
        source_package: Some(source.into()),
    }
}

fn upstream(name: &str, version: &str, cpe: &str) -> SbomComponent {
    SbomComponent {
        name: name.into(),
        version: version.into(),
        purl: Some(format!("pkg:generic/{name}@{version}")),
        cpe: Some(format!("cpe:2.3:a:{cpe}:{version}:*:*:*:*:*:*:*")),
        source_package: None,
    }
}

/// Scans a release as a worker would: a job claimed and finished with the SBOM.
async fn scanned(
    store: &Store,
    organisation: &str,
    release: &str,
    components: Vec<SbomComponent>,
) -> bool {
    let job = store
        .enqueue(
            &Actor::Server,
            &NewJob {
                kind: "scan-firmware".into(),
                organisation_id: organisation.into(),
                subject: release.into(),
                assessment_id: None,
                payload: json!({"release": release}),
                max_attempts: 1,
                priority: Priority::Request,
                device: None,
                timeout_ms: 60_000,
            },
        )
        .await
        .unwrap();
    let claimed = store
        .claim(&Claim {
            worker: "w1",
            kinds: &["scan-firmware"],
            lease_ms: 60_000,
            scheduled_in_flight: 1,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job.id);
    let fence = Fence {
        worker: "w1",
        job: &job.id,
        lock_version: claimed.lock_version,
    };
    let sbom = ReleaseSbom {
        release_id: release.into(),
        job_id: job.id.clone(),
        firmware_sha256: Some("ab".repeat(32)),
        components,
    };
    store
        .finish_job_with_sbom(&fence, &json!({}), Some(&sbom))
        .await
        .unwrap()
}

/// (vulnerability, component, state) of a release, in the listing's order.
async fn findings(store: &Store, release: &str) -> Vec<(String, String, String)> {
    store
        .release_vulnerabilities(release)
        .await
        .unwrap()
        .into_iter()
        .map(|found| (found.vulnerability, found.component, found.state))
        .collect()
}

fn row(vulnerability: &str, component: &str, state: &str) -> (String, String, String) {
    (vulnerability.into(), component.into(), state.into())
}

#[tokio::test]
async fn releases_are_monitored_against_advisories_as_they_change() {
    for test in stores().await {
        let store = &test.store;
        let engine = test.engine;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let camera = store
            .create_product(
                &Actor::Server,
                &acme.id,
                &NewProduct {
                    name: "Cam".into(),
                    model: "C1".into(),
                },
            )
            .await
            .unwrap();
        let release = |version: &str| NewRelease {
            version: version.into(),
            support_period_end: None,
        };
        let v1 = store
            .create_release(&Actor::Server, &camera.id, &release("1.0"))
            .await
            .unwrap();
        let v2 = store
            .create_release(&Actor::Server, &camera.id, &release("2.0"))
            .await
            .unwrap();
        let v1_components = vec![
            deb("busybox-static", "busybox", "1:1.35.0-4"),
            deb("libssl3", "openssl", "3.0.7-1"),
            upstream("dropbear", "2022.83", "dropbear_ssh_project:dropbear_ssh"),
            // Found twice (a package database and a version string): one component.
            deb("libssl3", "openssl", "3.0.7-1"),
        ];
        assert!(scanned(store, &acme.id, &v1.id, v1_components.clone()).await);
        // A second scan of the release finishes its job but leaves the SBOM as it was.
        assert!(
            scanned(
                store,
                &acme.id,
                &v1.id,
                vec![deb("zlib1g", "zlib", "1:1.2.13.dfsg-1")]
            )
            .await
        );
        let sbom = store.release_sbom(&v1.id).await.unwrap().unwrap();
        let names: Vec<&str> = sbom.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["busybox-static", "dropbear", "libssl3"], "{engine}");
        assert!(store.release_sbom(&v2.id).await.unwrap().is_none());
        assert_eq!(
            store.match_new_components().await.unwrap().new_matches,
            0,
            "{engine}"
        );

        // The Debian tracker: busybox's open issue and openssl's fixed one match v1.
        let tracker = read(debian::read, "debian-tracker-sample.json");
        let first = store.apply_advisories("debian", &tracker).await.unwrap();
        assert_eq!(
            (
                first.read,
                first.changed,
                first.new_matches,
                first.retracted
            ),
            (6, 6, 2, 0),
            "{engine}"
        );
        assert_eq!(
            findings(store, &v1.id).await,
            [
                row("CVE-2023-0286", "libssl3", "open"),
                row("CVE-2022-28391", "busybox-static", "open")
            ],
            "{engine}"
        );
        // The same data again changes nothing.
        let again = store.apply_advisories("debian", &tracker).await.unwrap();
        assert_eq!(
            (again.changed, again.new_matches, again.retracted),
            (0, 0, 0),
            "{engine}"
        );

        // NVD by CPE: Terrapin in dropbear; CISA lists it as exploited.
        let nvd = read(nvd::read, "nvdcve-2.0-sample.json");
        let by_cpe = store.apply_advisories("nvd", &nvd).await.unwrap();
        assert_eq!(by_cpe.new_matches, 1, "{engine}");
        let added = store
            .set_known_exploited(&[KnownExploited {
                vulnerability: "CVE-2023-48795".into(),
                date_added: "2026-11-20".into(),
                name: "SSH Transport Protocol Prefix Truncation Vulnerability".into(),
                due_date: "2026-12-11".into(),
                ransomware: false,
            }])
            .await
            .unwrap();
        assert_eq!(added, ["CVE-2023-48795"]);
        let listed = store.release_vulnerabilities(&v1.id).await.unwrap();
        let terrapin = listed
            .iter()
            .find(|found| found.vulnerability == "CVE-2023-48795")
            .unwrap();
        assert_eq!(
            terrapin.known_exploited.as_deref(),
            Some("2026-11-20"),
            "{engine}"
        );
        assert_eq!(terrapin.severity.as_deref(), Some("medium"));
        assert_eq!(terrapin.source, "nvd");

        // A changed advisory: openssl's fix moved below v1's version: retracted.
        let mut changed: Vec<Advisory> = tracker.clone();
        let openssl = changed
            .iter_mut()
            .find(|a| a.id == "CVE-2023-0286/openssl")
            .unwrap();
        for affected in &mut openssl.affected {
            for range in &mut affected.ranges {
                for event in &mut range.events {
                    if event.fixed.is_some() {
                        event.fixed = Some("3.0.7-0".into());
                    }
                }
            }
        }
        let moved = store.apply_advisories("debian", &changed).await.unwrap();
        assert_eq!(
            (moved.changed, moved.new_matches, moved.retracted),
            (1, 0, 1),
            "{engine}"
        );
        let listed = store.release_vulnerabilities(&v1.id).await.unwrap();
        let retracted = listed
            .iter()
            .find(|found| found.vulnerability == "CVE-2023-0286")
            .unwrap();
        assert_eq!(retracted.state, "retracted");
        assert_eq!(
            retracted.reason.as_deref(),
            Some("the advisory no longer covers this version")
        );
        assert!(retracted.retracted_at.is_some());

        // v2 arrives after the advisories: its components are matched at once, the
        // identity it shares with v1 (dropbear 2022.83) already is.
        assert!(
            scanned(
                store,
                &acme.id,
                &v2.id,
                vec![
                    deb("busybox", "busybox", "1:1.35.0-4"),
                    upstream("dropbear", "2022.83", "dropbear_ssh_project:dropbear_ssh"),
                ]
            )
            .await
        );
        let fresh = store.match_new_components().await.unwrap();
        assert_eq!(fresh.new_matches, 1, "{engine}");
        assert_eq!(
            findings(store, &v2.id).await,
            [
                row("CVE-2023-48795", "dropbear", "open"),
                row("CVE-2022-28391", "busybox", "open")
            ],
            "{engine}"
        );

        // The tracker no longer lists busybox's issue: withdrawn, retracted everywhere.
        let listed_now: HashSet<String> = changed
            .iter()
            .filter(|a| a.id != "CVE-2022-28391/busybox")
            .map(|a| a.id.clone())
            .collect();
        let gone = store
            .withdraw_unlisted("debian", &listed_now)
            .await
            .unwrap();
        assert_eq!((gone.changed, gone.retracted), (1, 2), "{engine}");
        for release in [&v1.id, &v2.id] {
            assert!(
                findings(store, release)
                    .await
                    .iter()
                    .all(|(id, _, state)| id != "CVE-2022-28391" || state == "retracted"),
                "{engine}"
            );
        }
        // Listed again: the match opens again.
        let back = store.apply_advisories("debian", &tracker).await.unwrap();
        assert_eq!(
            back.new_matches, 3,
            "{engine}: busybox in v1 and v2, openssl in v1"
        );
    }
}

#[tokio::test]
async fn monitoring_events_are_written_with_their_change_and_delivered_per_rule() {
    use provisor_store::{MAX_ATTEMPTS, NewRule};
    for test in stores().await {
        let store = &test.store;
        let engine = test.engine;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let other = organisation(store, "Other", OrganisationKind::Manufacturer).await;
        let mut releases = Vec::new();
        for (owner, name, end) in [
            (&acme.id, "Cam", "2026-12-20"),
            (&other.id, "Plug", "2027-06-01"),
        ] {
            let product = store
                .create_product(
                    &Actor::Server,
                    owner,
                    &NewProduct {
                        name: name.into(),
                        model: "M".into(),
                    },
                )
                .await
                .unwrap();
            let release = store
                .create_release(
                    &Actor::Server,
                    &product.id,
                    &NewRelease {
                        version: "1.0".into(),
                        support_period_end: Some(end.into()),
                    },
                )
                .await
                .unwrap();
            assert!(
                scanned(
                    store,
                    owner,
                    &release.id,
                    vec![deb("busybox", "busybox", "1:1.35.0-4")]
                )
                .await
            );
            releases.push((product.id, release.id));
        }
        let rule = |name: &str, channel: &str, kinds: &[&str], min: Option<&str>| NewRule {
            name: name.into(),
            channel: channel.into(),
            target: if channel == "webhook" {
                "http://127.0.0.1:9/hook".into()
            } else {
                "psirt@acme.example".into()
            },
            kinds: kinds.iter().map(|kind| kind.to_string()).collect(),
            min_severity: min.map(str::to_owned),
            product_id: None,
        };
        let (all, secret) = store
            .create_rule(&Actor::Server, &acme.id, &rule("all", "webhook", &[], None))
            .await
            .unwrap();
        assert!(secret.unwrap().starts_with("whsec_"));
        let (high, _) = store
            .create_rule(
                &Actor::Server,
                &acme.id,
                &rule("high", "webhook", &["vulnerability.found"], Some("high")),
            )
            .await
            .unwrap();
        let (mail, none) = store
            .create_rule(
                &Actor::Server,
                &acme.id,
                &rule(
                    "digest",
                    "email",
                    &["vulnerability.found", "support.ending"],
                    None,
                ),
            )
            .await
            .unwrap();
        assert!(none.is_none());
        assert!(
            store
                .create_rule(&Actor::Server, &acme.id, &rule("all", "email", &[], None))
                .await
                .is_err()
        );
        assert!(
            store
                .create_rule(&Actor::Server, &acme.id, &rule("x", "pager", &[], None))
                .await
                .is_err()
        );
        assert!(
            store
                .create_rule(
                    &Actor::Server,
                    &acme.id,
                    &rule("y", "email", &["release.made"], None)
                )
                .await
                .is_err()
        );

        // The tracker's busybox issue (low) opens matches in both organisations: each
        // gets its event; Acme's "high" rule does not want a low one.
        let tracker = read(debian::read, "debian-tracker-sample.json");
        store.apply_advisories("debian", &tracker).await.unwrap();
        let events = store.events(&acme.id, 10).await.unwrap();
        assert_eq!(events.len(), 1, "{engine}: {events:?}");
        assert_eq!(events[0].kind, "vulnerability.found");
        assert_eq!(events[0].payload["vulnerability"], "CVE-2022-28391");
        assert_eq!(
            events[0].payload["releases"][0]["release"],
            releases[0].1.as_str()
        );
        assert_eq!(events[0].payload["release_count"], 1);
        assert_eq!(store.events(&other.id, 10).await.unwrap().len(), 1);
        let webhooks = store.claim_deliveries("webhook", 60_000, 10).await.unwrap();
        assert_eq!(webhooks.len(), 1, "{engine}");
        assert_eq!(webhooks[0].rule_id, all.id);
        assert!(
            webhooks[0]
                .secret
                .as_deref()
                .is_some_and(|s| s.starts_with("whsec_"))
        );
        // Claimed: no other sender gets it while the lease runs.
        assert!(
            store
                .claim_deliveries("webhook", 60_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let emails = store.claim_deliveries("email", 60_000, 10).await.unwrap();
        assert_eq!(
            (emails.len(), emails[0].rule_id.as_str()),
            (1, mail.id.as_str())
        );
        store.delivered(&emails[0].id).await.unwrap();

        // A failure is tried again after its delay, and dead after the last attempt.
        let webhook = &webhooks[0];
        store
            .delivery_failed(&webhook.id, "timed out after 10 s")
            .await
            .unwrap();
        assert!(
            store
                .claim_deliveries("webhook", 60_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "waits its delay"
        );
        crate::tamper(&test, "UPDATE deliveries SET next_attempt_at = 0").await;
        let again = store.claim_deliveries("webhook", 60_000, 10).await.unwrap();
        assert_eq!((again.len(), again[0].attempts), (1, 1));
        for _ in 1..MAX_ATTEMPTS {
            store.delivery_failed(&webhook.id, "refused").await.unwrap();
        }
        let history = store.deliveries_of_rule(&all.id, 10).await.unwrap();
        assert_eq!(
            (history[0].state.as_str(), history[0].attempts),
            ("dead", MAX_ATTEMPTS),
            "{engine}"
        );
        assert_eq!(history[0].last_error.as_deref(), Some("refused"));
        assert!(
            store
                .deliveries_of_rule(&high.id, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // CISA adds a vulnerability that affects nothing here: no event; the support
        // period of Acme's release ends within the month: reported once.
        store
            .set_known_exploited(&[KnownExploited {
                vulnerability: "CVE-2021-44228".into(),
                date_added: "2021-12-10".into(),
                name: "Log4j".into(),
                due_date: "2021-12-24".into(),
                ransomware: true,
            }])
            .await
            .unwrap();
        assert_eq!(store.events(&acme.id, 10).await.unwrap().len(), 1);
        assert_eq!(
            store
                .report_support_ending("2026-12-02", "2027-01-01")
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .report_support_ending("2026-12-03", "2027-01-02")
                .await
                .unwrap(),
            0
        );
        let events = store.events(&acme.id, 10).await.unwrap();
        assert_eq!(events[0].kind, "support.ending", "{engine}");
        assert_eq!(events[0].payload["support_period_end"], "2026-12-20");
        assert_eq!(
            store
                .claim_deliveries("email", 60_000, 10)
                .await
                .unwrap()
                .len(),
            1
        );

        // A rule turned off drops what it had pending.
        store.disable_rule(&Actor::Server, &mail.id).await.unwrap();
        assert_eq!(store.rules(&acme.id).await.unwrap().len(), 2);
    }
}
