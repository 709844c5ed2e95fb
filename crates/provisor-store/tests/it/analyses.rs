//! Decisions that carry: a decision made for one release holds in the later releases of
//! its product as carried until confirmed there, settles a vulnerability only in the
//! release that made or confirmed it, keeps its history, and an upload's statements are
//! applied in one transaction with each refusal said.

use provisor_store::{
    Actor, Decision, NewProduct, NewRelease, OrganisationKind, Origin, Outcome, ReleaseMonitoring,
    ReleaseSbom, SbomComponent, Store, VexStatement, severity_rank,
};

use crate::{organisation, stores};

fn deb(name: &str, source: &str, version: &str) -> SbomComponent {
    SbomComponent {
        name: name.into(),
        version: version.into(),
        purl: Some(format!("pkg:deb/debian/{name}@{version}")),
        cpe: None,
        source_package: Some(source.into()),
    }
}

fn decision(state: &str, justification: Option<&str>, detail: &str) -> Decision {
    Decision {
        state: state.into(),
        justification: justification.map(Into::into),
        response: Vec::new(),
        detail: detail.into(),
    }
}

async fn sbom(store: &Store, release: &str, components: Vec<SbomComponent>) {
    assert!(
        store
            .record_sbom(&ReleaseSbom {
                release_id: release.into(),
                job_id: "upload".into(),
                firmware_sha256: None,
                components,
            })
            .await
            .unwrap()
    );
}

/// (vulnerability, state of the decision, carried) per open vulnerability.
async fn decided(store: &Store, release: &str) -> Vec<(String, Option<(String, bool)>)> {
    let mut found: Vec<(String, Option<(String, bool)>)> = store
        .release_vulnerabilities(release)
        .await
        .unwrap()
        .into_iter()
        .filter(|found| found.state == "open")
        .map(|found| {
            (
                found.vulnerability,
                found
                    .analysis
                    .map(|held| (held.analysis.decision.state, held.carried)),
            )
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Checks the portfolio's counts of these releases (none of them assessed) against
/// their vulnerabilities read one by one: each open vulnerability once, at its highest
/// severity, settled only when the release's own decision settles it in every component
/// it is found in, to confirm when a decision is carried to it.
async fn counts_agree(store: &Store, releases: &[&str]) {
    let ids: Vec<String> = releases.iter().map(|id| (*id).to_owned()).collect();
    let counted = store.releases_monitoring(&ids).await.unwrap();
    for release in releases {
        let mut by_vulnerability: std::collections::BTreeMap<String, (u8, bool, bool, bool)> =
            std::collections::BTreeMap::new();
        for found in store.release_vulnerabilities(release).await.unwrap() {
            if found.state != "open" {
                continue;
            }
            let (rank, exploited, settled, carried) = by_vulnerability
                .entry(found.vulnerability.clone())
                .or_insert((0, false, true, false));
            *rank = (*rank).max(severity_rank(found.severity.as_deref()));
            *exploited |= found.known_exploited.is_some();
            *settled &= found.analysis.as_ref().is_some_and(|held| held.settles());
            *carried |= found.analysis.as_ref().is_some_and(|held| held.carried);
        }
        let mut expected = ReleaseMonitoring::default();
        for (rank, exploited, settled, carried) in by_vulnerability.into_values() {
            if settled {
                expected.settled += 1;
                continue;
            }
            *match rank {
                4 => &mut expected.critical,
                3 => &mut expected.high,
                2 => &mut expected.medium,
                1 => &mut expected.low,
                _ => &mut expected.unknown,
            } += 1;
            expected.known_exploited += u64::from(exploited);
            expected.to_confirm += u64::from(carried);
            expected.new_since_assessment += 1;
        }
        assert_eq!(counted.get(*release), Some(&expected), "{release}");
    }
}

#[tokio::test]
async fn decisions_carry_to_later_releases_until_confirmed() {
    for test in stores().await {
        let store = &test.store;
        let engine = test.engine;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let person = Actor::User("usr_ann".into());
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
        // Made out of order: 1.10 follows 1.9 whatever the order they were made in.
        let v110 = store
            .create_release(&Actor::Server, &camera.id, &release("1.10"))
            .await
            .unwrap();
        let v19 = store
            .create_release(&Actor::Server, &camera.id, &release("1.9"))
            .await
            .unwrap();
        let v18 = store
            .create_release(&Actor::Server, &camera.id, &release("1.8"))
            .await
            .unwrap();
        sbom(store, &v18.id, vec![deb("libssl3", "openssl", "3.0.7-1")]).await;
        sbom(store, &v19.id, vec![deb("libssl3", "openssl", "3.0.7-1")]).await;
        // The next release ships another version of the same package.
        sbom(store, &v110.id, vec![deb("openssl", "openssl", "3.0.7-2")]).await;
        let tracker = {
            let mut advisories = Vec::new();
            provisor_advisories::feeds::debian::read(
                &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../provisor-advisories/tests/feeds/debian-tracker-sample.json"),
                &mut |advisory| {
                    advisories.push(advisory);
                    Ok(())
                },
            )
            .unwrap();
            advisories
        };
        store.apply_advisories("debian", &tracker).await.unwrap();
        store.match_new_components().await.unwrap();
        let open = |state: Option<(&str, bool)>| {
            vec![(
                "CVE-2023-0286".to_owned(),
                state.map(|(state, carried)| (state.to_owned(), carried)),
            )]
        };
        for id in [&v18.id, &v19.id, &v110.id] {
            assert_eq!(decided(store, id).await, open(None), "{engine}");
        }

        // A decision for 1.8 settles it there and is carried to 1.9 and 1.10.
        let not_affected = decision(
            "not_affected",
            Some("code_not_reachable"),
            "X.400 addresses are never parsed: no CRL distribution points are used",
        );
        let made = store
            .set_analysis(
                &person,
                &v18.id,
                "deb:openssl",
                "CVE-2023-0286",
                &not_affected,
                Origin::Person,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(made.decided_by, "user:usr_ann");
        // Saying the same again changes nothing.
        assert!(
            store
                .set_analysis(
                    &person,
                    &v18.id,
                    "deb:openssl",
                    "CVE-2023-0286",
                    &not_affected,
                    Origin::Person
                )
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            decided(store, &v18.id).await,
            open(Some(("not_affected", false)))
        );
        assert_eq!(
            decided(store, &v19.id).await,
            open(Some(("not_affected", true)))
        );
        assert_eq!(
            decided(store, &v110.id).await,
            open(Some(("not_affected", true)))
        );
        let counts = store
            .releases_monitoring(&[v18.id.clone(), v19.id.clone(), v110.id.clone()])
            .await
            .unwrap();
        assert_eq!(
            (counts[&v18.id].settled, counts[&v18.id].to_confirm),
            (1, 0),
            "{engine}"
        );
        assert_eq!(counts[&v18.id].high + counts[&v18.id].unknown, 0);
        // Carried: still open until confirmed.
        assert_eq!(
            (counts[&v19.id].settled, counts[&v19.id].to_confirm),
            (0, 1),
            "{engine}"
        );
        let all = [v18.id.as_str(), v19.id.as_str(), v110.id.as_str()];
        counts_agree(store, &all).await;

        // 1.9 confirms; 1.10 decides otherwise, and 1.9's confirmation stays.
        let confirmed = store
            .confirm_analyses(&person, &v19.id, None)
            .await
            .unwrap();
        assert_eq!(confirmed.len(), 1);
        assert_eq!(confirmed[0].origin, "confirmed");
        assert_eq!(confirmed[0].carried_from.as_deref(), Some(made.id.as_str()));
        assert!(
            store
                .confirm_analyses(&person, &v19.id, Some(("deb:openssl", "CVE-2023-0286")))
                .await
                .is_err(),
            "nothing is carried to 1.9 any more"
        );
        let mut exploitable = decision("exploitable", None, "3.0.8 parses CRLs");
        exploitable.response = vec!["update".into()];
        store
            .set_analysis(
                &person,
                &v110.id,
                "deb:openssl",
                "CVE-2023-0286",
                &exploitable,
                Origin::Person,
            )
            .await
            .unwrap();
        assert_eq!(
            decided(store, &v19.id).await,
            open(Some(("not_affected", false)))
        );
        assert_eq!(
            decided(store, &v110.id).await,
            open(Some(("exploitable", false)))
        );
        counts_agree(store, &all).await;
        // Removing 1.9's own brings 1.8's back as carried.
        assert!(
            store
                .remove_analysis(&person, &v19.id, "deb:openssl", "CVE-2023-0286")
                .await
                .unwrap()
        );
        assert!(
            !store
                .remove_analysis(&person, &v19.id, "deb:openssl", "CVE-2023-0286")
                .await
                .unwrap()
        );
        assert_eq!(
            decided(store, &v19.id).await,
            open(Some(("not_affected", true)))
        );
        counts_agree(store, &all).await;

        // Outside the vocabulary, or not saying why: refused.
        for wrong in [
            decision("fixed", None, "x"),
            decision("not_affected", None, " "),
            decision("exploitable", Some("code_not_present"), "x"),
            decision("not_affected", Some("unreachable"), "x"),
            Decision {
                response: vec!["patch".into()],
                ..decision("exploitable", None, "x")
            },
        ] {
            assert!(
                store
                    .set_analysis(
                        &person,
                        &v18.id,
                        "deb:openssl",
                        "CVE-2023-0286",
                        &wrong,
                        Origin::Person
                    )
                    .await
                    .is_err(),
                "{wrong:?}"
            );
        }

        // The history tells every change, oldest first; the audit log has them too.
        let history = store
            .analysis_history(&camera.id, "deb:openssl", "CVE-2023-0286")
            .await
            .unwrap();
        let actions: Vec<(&str, &str)> = history
            .iter()
            .map(|entry| (entry.release_id.as_str(), entry.action.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                (v18.id.as_str(), "set"),
                (v19.id.as_str(), "confirm"),
                (v110.id.as_str(), "set"),
                (v19.id.as_str(), "remove")
            ],
            "{engine}"
        );
        let audited: Vec<String> = store
            .audit_entries(0, 1_000, Some(&acme.id))
            .await
            .unwrap()
            .into_iter()
            .map(|entry| entry.action)
            .filter(|action| action.starts_with("analysis."))
            .collect();
        assert_eq!(
            audited,
            [
                "analysis.set",
                "analysis.confirm",
                "analysis.set",
                "analysis.remove"
            ]
        );

        // An upload: a VEX statement replaces a person's decision, a backport does
        // not; a statement outside the vocabulary is refused; all or nothing else.
        let statements = [
            VexStatement {
                place: "vulnerabilities[0].affects[0]".into(),
                component: "deb:openssl".into(),
                vulnerability: "CVE-2023-0286".into(),
                decision: decision("resolved", None, "patched in our build"),
                origin: Origin::Vex,
            },
            VexStatement {
                place: "components[0].pedigree".into(),
                component: "deb:openssl".into(),
                vulnerability: "CVE-2023-0286".into(),
                decision: decision("resolved_with_pedigree", None, "a patch resolves it"),
                origin: Origin::Backport,
            },
            VexStatement {
                place: "vulnerabilities[1].affects[0]".into(),
                component: "deb:openssl".into(),
                vulnerability: "CVE-2023-0464".into(),
                decision: decision("not_exploitable", None, ""),
                origin: Origin::Vex,
            },
            VexStatement {
                place: "components[0].pedigree".into(),
                component: "deb:openssl".into(),
                vulnerability: "CVE-2023-0465".into(),
                decision: decision("resolved_with_pedigree", None, "a patch resolves it"),
                origin: Origin::Backport,
            },
        ];
        let (written, outcomes) = store
            .apply_vex(&person, &v110.id, None, &statements)
            .await
            .unwrap();
        assert!(!written);
        assert_eq!(outcomes[0], Outcome::Applied, "{engine}");
        assert!(
            matches!(&outcomes[1], Outcome::Refused(reason) if reason.contains("a backport does not replace it")),
            "{outcomes:?}"
        );
        assert!(
            matches!(&outcomes[2], Outcome::Refused(reason) if reason.contains("not_exploitable")),
            "{outcomes:?}"
        );
        assert_eq!(outcomes[3], Outcome::Applied);
        assert_eq!(
            decided(store, &v110.id).await,
            open(Some(("resolved", false)))
        );
        let again = store
            .apply_vex(&person, &v110.id, None, &statements[..1])
            .await
            .unwrap();
        assert_eq!(again.1, [Outcome::Unchanged]);
        // What the audit log says each decision became is what is stored.
        let audited = store.audit_entries(0, 1_000, Some(&acme.id)).await.unwrap();
        for effective in store
            .release_analyses(&v110.id)
            .await
            .unwrap()
            .into_values()
        {
            let last = audited
                .iter()
                .rfind(|entry| entry.subject == effective.analysis.id)
                .unwrap();
            assert_eq!(
                last.after,
                Some(serde_json::json!(effective.analysis)),
                "{engine}"
            );
        }
        counts_agree(store, &[v18.id.as_str(), v19.id.as_str(), v110.id.as_str()]).await;
    }
}

fn range(introduced: &str, fixed: &str) -> provisor_advisories::Range {
    provisor_advisories::Range {
        kind: "ECOSYSTEM".into(),
        events: vec![
            provisor_advisories::Event {
                introduced: Some(introduced.into()),
                ..Default::default()
            },
            provisor_advisories::Event {
                fixed: Some(fixed.into()),
                ..Default::default()
            },
        ],
    }
}

/// NVD's record of an OpenSSL flaw fixed upstream in 3.0.13.
fn upstream_advisory() -> provisor_advisories::Advisory {
    provisor_advisories::Advisory {
        id: "CVE-2023-5678".into(),
        aliases: Vec::new(),
        summary: "Excessive time spent in DH check / generation with large Q parameter value."
            .into(),
        score: None,
        severity: Some("medium".into()),
        affected: vec![provisor_advisories::Affected {
            ecosystem: String::new(),
            name: "openssl".into(),
            purl: None,
            ranges: vec![range("3.0.0", "3.0.13")],
            versions: Vec::new(),
            cpe: Some("openssl:openssl".into()),
        }],
        modified: None,
        withdrawn: None,
    }
}

/// The Debian tracker's record of it: fixed in bookworm by a backport to 3.0.11.
fn debian_advisory(fixed: &str) -> provisor_advisories::Advisory {
    provisor_advisories::Advisory {
        id: "CVE-2023-5678/openssl".into(),
        aliases: vec!["CVE-2023-5678".into()],
        summary: "Excessive time spent in DH check".into(),
        score: None,
        severity: Some("low".into()),
        affected: vec![provisor_advisories::Affected {
            ecosystem: "Debian:12".into(),
            name: "openssl".into(),
            purl: None,
            ranges: vec![range("0", fixed)],
            versions: Vec::new(),
            cpe: None,
        }],
        modified: None,
        withdrawn: None,
    }
}

fn openssl(version: &str, upstream: &str) -> SbomComponent {
    SbomComponent {
        name: "libssl3".into(),
        version: version.into(),
        purl: Some(format!("pkg:deb/debian/libssl3@{version}?distro=debian-12")),
        cpe: Some(format!(
            "cpe:2.3:a:openssl:openssl:{upstream}:*:*:*:*:*:*:*"
        )),
        source_package: Some("openssl".into()),
    }
}

/// (version, source, state) of a release's matches of CVE-2023-5678.
async fn dh_check(store: &Store, release: &str) -> Vec<(String, String, String)> {
    let mut found: Vec<(String, String, String)> = store
        .release_vulnerabilities(release)
        .await
        .unwrap()
        .into_iter()
        .filter(|found| found.vulnerability == "CVE-2023-5678")
        .map(|found| (found.version, found.source, found.state))
        .collect();
    found.sort();
    found
}

fn seen(version: &str, source: &str, state: &str) -> (String, String, String) {
    (version.into(), source.into(), state.into())
}

#[tokio::test]
async fn an_upstream_match_on_a_debian_package_with_the_fix_backported_is_settled() {
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
        let fixed = store
            .create_release(&Actor::Server, &camera.id, &release("2.0"))
            .await
            .unwrap();
        let older = store
            .create_release(&Actor::Server, &camera.id, &release("1.0"))
            .await
            .unwrap();
        // Both upstream 3.0.11, which NVD's range covers; only the second revision
        // carries Debian's backport.
        sbom(
            store,
            &fixed.id,
            vec![openssl("3.0.11-1~deb12u2", "3.0.11")],
        )
        .await;
        sbom(
            store,
            &older.id,
            vec![openssl("3.0.11-1~deb12u1", "3.0.11")],
        )
        .await;
        store.match_new_components().await.unwrap();
        // NVD first: both open.
        store
            .apply_advisories("nvd", &[upstream_advisory()])
            .await
            .unwrap();
        assert_eq!(
            dh_check(store, &fixed.id).await,
            [seen("3.0.11-1~deb12u2", "nvd", "open")],
            "{engine}"
        );
        // Debian's record settles the match on the revision that carries the fix.
        store
            .apply_advisories("debian", &[debian_advisory("3.0.11-1~deb12u2")])
            .await
            .unwrap();
        assert_eq!(
            dh_check(store, &fixed.id).await,
            [seen("3.0.11-1~deb12u2", "nvd", "backported")],
            "{engine}"
        );
        assert_eq!(
            dh_check(store, &older.id).await,
            [
                seen("3.0.11-1~deb12u1", "debian", "open"),
                seen("3.0.11-1~deb12u1", "nvd", "open")
            ],
            "{engine}"
        );
        let reason = store
            .release_vulnerabilities(&fixed.id)
            .await
            .unwrap()
            .into_iter()
            .find(|found| found.state == "backported")
            .unwrap()
            .reason
            .unwrap();
        assert_eq!(
            reason,
            "Debian fixed it in 3.0.11-1~deb12u2 (CVE-2023-5678/openssl): version 3.0.11-1~deb12u2 carries the fix"
        );
        let counts = store
            .releases_monitoring(std::slice::from_ref(&fixed.id))
            .await
            .unwrap();
        assert_eq!(
            counts[&fixed.id].medium + counts[&fixed.id].low,
            0,
            "{engine}"
        );

        // A release stored after both: its match is settled as it is made.
        let later = store
            .create_release(&Actor::Server, &camera.id, &release("2.1"))
            .await
            .unwrap();
        sbom(
            store,
            &later.id,
            vec![openssl("3.0.11-1~deb12u3", "3.0.11")],
        )
        .await;
        store.match_new_components().await.unwrap();
        assert_eq!(
            dh_check(store, &later.id).await,
            [seen("3.0.11-1~deb12u3", "nvd", "backported")],
            "{engine}"
        );

        // Debian corrects itself: the fix came in u3, so u2's match opens again.
        store
            .apply_advisories("debian", &[debian_advisory("3.0.11-1~deb12u3")])
            .await
            .unwrap();
        counts_agree(store, &[fixed.id.as_str(), later.id.as_str()]).await;
        assert_eq!(
            dh_check(store, &fixed.id).await,
            [
                seen("3.0.11-1~deb12u2", "debian", "open"),
                seen("3.0.11-1~deb12u2", "nvd", "open")
            ],
            "{engine}"
        );
        assert_eq!(
            dh_check(store, &later.id).await,
            [seen("3.0.11-1~deb12u3", "nvd", "backported")],
            "{engine}"
        );
        // NVD withdraws its record: the settled match is retracted like any other.
        let mut rejected = upstream_advisory();
        rejected.withdrawn = Some("rejected".into());
        store.apply_advisories("nvd", &[rejected]).await.unwrap();
        assert_eq!(
            dh_check(store, &later.id).await,
            [seen("3.0.11-1~deb12u3", "nvd", "retracted")],
            "{engine}"
        );
    }
}
