//! Decisions that carry, through the API: an SBOM with VEX uploaded to a release becomes
//! its SBOM and its decisions (the pedigree's backports too), with every statement not
//! applied reported; advisories matched later show the decisions; the next release
//! shows them carried until confirmed; a release's decisions export as CycloneDX VEX,
//! and that export uploaded again applies by its references.

use std::path::PathBuf;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Answer, Credentials, get, json_request, send, servers, world};

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../provisor-advisories/tests")
        .join(path)
}

/// A vulnerability and the decision that holds for it: (state, origin, carried).
type Decided = (String, Option<(String, String, bool)>);

async fn upload(
    state: &provisor_server::AppState,
    release: &str,
    credentials: &Credentials,
    body: Vec<u8>,
) -> Answer {
    send(
        state,
        Method::POST,
        &format!("/api/v1/releases/{release}/vex"),
        credentials,
        Some("application/vnd.cyclonedx+json"),
        body,
    )
    .await
}

/// Imports the Debian tracker's and NVD's samples, and matches what is new.
async fn advisories(state: &provisor_server::AppState) {
    use provisor_advisories::feeds::{debian, nvd};
    for (source, reader, name) in [
        (
            "debian",
            debian::read as fn(&std::path::Path, &mut provisor_advisories::feeds::Sink<'_>) -> _,
            "feeds/debian-tracker-sample.json",
        ),
        ("nvd", nvd::read, "feeds/nvdcve-2.0-sample.json"),
    ] {
        let mut read = Vec::new();
        reader(&data(name), &mut |advisory| {
            read.push(advisory);
            Ok(())
        })
        .unwrap();
        state.store().apply_advisories(source, &read).await.unwrap();
    }
    state.store().match_new_components().await.unwrap();
}

/// The open vulnerabilities of a release by id: (state of its decision, origin,
/// carried).
async fn decisions(
    state: &provisor_server::AppState,
    release: &str,
    viewer: &Credentials,
) -> Vec<Decided> {
    let found = get(
        state,
        &format!("/api/v1/releases/{release}/vulnerabilities"),
        viewer,
    )
    .await
    .json();
    let mut listed: Vec<Decided> = found
        .as_array()
        .unwrap()
        .iter()
        .filter(|each| each["state"] == "open")
        .map(|each| {
            let analysis = &each["analysis"];
            (
                each["vulnerability"].as_str().unwrap().to_owned(),
                analysis.is_object().then(|| {
                    (
                        analysis["state"].as_str().unwrap().to_owned(),
                        analysis["origin"].as_str().unwrap().to_owned(),
                        analysis["carried"].as_bool().unwrap(),
                    )
                }),
            )
        })
        .collect();
    listed.sort();
    listed.dedup();
    listed
}

fn decided(id: &str, state: &str, origin: &str, carried: bool) -> Decided {
    (
        id.to_owned(),
        Some((state.to_owned(), origin.to_owned(), carried)),
    )
}

async fn monitoring(
    state: &provisor_server::AppState,
    release: &str,
    viewer: &Credentials,
) -> Value {
    let portfolio = get(state, "/api/v1/portfolio", viewer).await.json();
    portfolio["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["release_id"] == release)
        .unwrap()["monitoring"]
        .clone()
}

#[tokio::test]
async fn decisions_uploaded_with_an_sbom_carry_to_the_next_release() {
    for server in servers().await {
        let state = &server.state;
        let engine = server.engine;
        let world = world(state).await;
        let document = std::fs::read(data("vex/camera-sbom-vex.cdx.json")).unwrap();

        // Not the manufacturer's editor or admin: refused.
        upload(state, &world.release, &world.viewer, document.clone())
            .await
            .problem(StatusCode::FORBIDDEN);
        upload(state, &world.release, &world.stranger, document.clone())
            .await
            .problem(StatusCode::NOT_FOUND);
        let problem = upload(
            state,
            &world.release,
            &world.editor,
            b"{\"bomFormat\": \"SPDX\"}".to_vec(),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["detail"].as_str().unwrap().contains("bomFormat"),
            "{problem}"
        );

        let answer = upload(state, &world.release, &world.editor, document.clone()).await;
        answer.expect(StatusCode::OK);
        let report = answer.json();
        assert_eq!(report["sbom"], "recorded", "{engine}: {report}");
        assert_eq!(report["components"], 5);
        assert_eq!(
            (report["statements"].as_u64(), report["applied"].as_u64()),
            (Some(8), Some(4)),
            "{report}"
        );
        let not_applied: Vec<(&str, &str)> = report["not_applied"]
            .as_array()
            .unwrap()
            .iter()
            .map(|each| {
                (
                    each["place"].as_str().unwrap(),
                    each["reason"].as_str().unwrap(),
                )
            })
            .collect();
        let said = |place: &str, words: &str| {
            assert!(
                not_applied
                    .iter()
                    .any(|(at, reason)| *at == place && reason.contains(words)),
                "{place}: \"{words}\" not in {not_applied:?}"
            );
        };
        said("vulnerabilities[5]", "has no analysis");
        said(
            "vulnerabilities[2].affects[0]",
            "holds no component generic:sensor-calibration.bin",
        );
        said(
            "vulnerabilities[2].affects[1]",
            "\"nowhere\" names no component",
        );
        said(
            "vulnerabilities[3].affects[0]",
            "state \"patched\" is not one of CycloneDX's",
        );
        said(
            "vulnerabilities[4].affects[0]",
            "vulnerabilities[0].affects[0] already decides CVE-2023-0286",
        );
        assert_eq!(not_applied.len(), 5, "{not_applied:?}");
        let sbom = get(
            state,
            &format!("/api/v1/releases/{}/sbom", world.release),
            &world.viewer,
        )
        .await
        .json();
        let names: Vec<&str> = sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|component| component["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["busybox-static", "dropbear", "libssl3", "linux"],
            "{engine}"
        );

        // Advisories matched afterwards meet the decisions already made.
        advisories(state).await;
        assert_eq!(
            decisions(state, &world.release, &world.viewer).await,
            [
                decided(
                    "CVE-2022-28391",
                    "resolved_with_pedigree",
                    "backport",
                    false
                ),
                decided("CVE-2023-0286", "not_affected", "vex", false),
                decided("CVE-2023-48795", "exploitable", "vex", false),
            ],
            "{engine}"
        );
        // Only what no decision settles is announced as found.
        let announced: Vec<String> = state
            .store()
            .events(&world.acme, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|event| event.kind == "vulnerability.found")
            .map(|event| event.payload["vulnerability"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            announced.contains(&"CVE-2023-48795".to_owned()),
            "{engine}: {announced:?}"
        );
        assert!(
            !announced.contains(&"CVE-2023-0286".to_owned()),
            "{engine}: {announced:?}"
        );
        assert!(
            !announced.contains(&"CVE-2022-28391".to_owned()),
            "{engine}: {announced:?}"
        );
        let counts = monitoring(state, &world.release, &world.viewer).await;
        assert_eq!(
            (counts["settled"].as_u64(), counts["to_confirm"].as_u64()),
            (Some(2), Some(0)),
            "{counts}"
        );
        assert_eq!(counts["medium"], 1, "{counts}");

        // The next release: its SBOM alone; the decisions are carried, to confirm.
        let next = json_request(
            state,
            Method::POST,
            &format!("/api/v1/products/{}/releases", world.product),
            &world.editor,
            json!({"version": "3.3.0", "support_period_end": "2031-12-31"}),
        )
        .await;
        next.expect(StatusCode::CREATED);
        let next = next.json()["id"].as_str().unwrap().to_owned();
        let components = json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5",
            "components": [
                {"type": "library", "name": "libssl3", "version": "3.0.7-1",
                 "purl": "pkg:deb/debian/libssl3@3.0.7-1?upstream=openssl&distro=debian-12"},
                {"type": "application", "name": "dropbear", "version": "2022.83",
                 "cpe": "cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.83:*:*:*:*:*:*:*"}
            ]
        });
        let report = upload(
            state,
            &next,
            &world.editor,
            components.to_string().into_bytes(),
        )
        .await
        .json();
        assert_eq!(
            (report["sbom"].as_str(), report["statements"].as_u64()),
            (Some("recorded"), Some(0)),
            "{report}"
        );
        state.store().match_new_components().await.unwrap();
        assert_eq!(
            decisions(state, &next, &world.viewer).await,
            [
                decided("CVE-2023-0286", "not_affected", "vex", true),
                decided("CVE-2023-48795", "exploitable", "vex", true),
            ],
            "{engine}"
        );
        let counts = monitoring(state, &next, &world.viewer).await;
        assert_eq!(
            (counts["settled"].as_u64(), counts["to_confirm"].as_u64()),
            (Some(0), Some(2)),
            "{counts}"
        );

        // Confirmed one at a time; refused when partly named or by a viewer.
        let confirm = format!("/api/v1/releases/{next}/analyses/confirm");
        json_request(state, Method::POST, &confirm, &world.viewer, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN);
        json_request(
            state,
            Method::POST,
            &confirm,
            &world.editor,
            json!({"component": "deb:openssl"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        let confirmed = json_request(
            state,
            Method::POST,
            &confirm,
            &world.editor,
            json!({"component": "deb:openssl", "vulnerability": "CVE-2023-0286"}),
        )
        .await
        .json();
        assert_eq!(confirmed[0]["origin"], "confirmed", "{confirmed}");
        assert_eq!(confirmed[0]["carried"], false);
        let counts = monitoring(state, &next, &world.viewer).await;
        assert_eq!(
            (counts["settled"].as_u64(), counts["to_confirm"].as_u64()),
            (Some(1), Some(1)),
            "{counts}"
        );

        // The release's page shows the carried decision with a button to confirm it,
        // to the manufacturer's editors only; the form confirms it.
        let page = get(state, &format!("/releases/{next}"), &world.editor)
            .await
            .text();
        assert!(
            page.contains("carried, confirm") && page.contains("Confirm for this release"),
            "{page}"
        );
        let seen = get(state, &format!("/releases/{next}"), &world.viewer)
            .await
            .text();
        assert!(
            seen.contains("carried, confirm") && !seen.contains("Confirm for this release"),
            "{seen}"
        );
        let cookie = world.editor.cookie.clone().unwrap();
        let csrf = world.editor.csrf.clone().unwrap();
        let (status, headers, _) = crate::pages::form(
            state,
            &format!("/releases/{next}/decisions"),
            Some(&cookie),
            &format!("csrf={csrf}&action=confirm&component=generic%3Adropbear&vulnerability=CVE-2023-48795"),
            "same-origin",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{engine}");
        assert_eq!(headers["location"], format!("/releases/{next}#monitoring"));
        let counts = monitoring(state, &next, &world.viewer).await;
        assert_eq!(counts["to_confirm"], 0, "{counts}");
        let (status, _, page) = crate::pages::form(
            state,
            &format!("/releases/{next}/decisions"),
            Some(&cookie),
            &format!("csrf={csrf}&action=decide&component=generic%3Adropbear&vulnerability=CVE-2023-48795&state=not_affected&justification=&detail=+"),
            "same-origin",
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_affected without why"
        );
        assert!(
            page.contains("The decision about CVE-2023-48795 in generic:dropbear was not saved: not_affected needs a justification or a detail"),
            "{page}"
        );

        // A person's decision: CycloneDX's words only, and why when not affected.
        let analyses = format!("/api/v1/releases/{next}/analyses");
        for (body, place) in [
            (
                json!({"component": "generic:dropbear", "vulnerability": "CVE-2023-48795", "state": "not_affected", "justification": "unreachable"}),
                "/justification",
            ),
            (
                json!({"component": "generic:dropbear", "vulnerability": "CVE-2023-48795", "state": "not_affected"}),
                "/state",
            ),
            (
                json!({"component": "generic:dropbear", "vulnerability": "CVE-2023-48795", "state": "exploitable", "response": ["patch"]}),
                "/response",
            ),
        ] {
            let problem = json_request(state, Method::PUT, &analyses, &world.editor, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(problem["errors"][0]["where"], place, "{problem}");
        }
        let set = json_request(
            state,
            Method::PUT,
            &analyses,
            &world.editor,
            json!({"component": "generic:dropbear", "vulnerability": "CVE-2023-48795",
                   "state": "not_affected", "justification": "protected_at_runtime",
                   "detail": "3.3.0 offers neither chacha20-poly1305 nor EtM MACs."}),
        )
        .await;
        set.expect(StatusCode::OK);
        assert_eq!(set.json()["origin"], "person");
        json_request(state, Method::PUT, &analyses, &world.viewer, json!({"component": "generic:dropbear", "vulnerability": "CVE-2023-48795", "state": "in_triage"}))
            .await
            .problem(StatusCode::FORBIDDEN);

        // The VEX export: the release's components under the references an upload
        // names, each decision in CycloneDX's words; a carried one is still in triage.
        let exported = get(
            state,
            &format!("/api/v1/releases/{}/vex", world.release),
            &world.viewer,
        )
        .await;
        exported.expect(StatusCode::OK);
        let vex = exported.json();
        assert_eq!(
            (vex["bomFormat"].as_str(), vex["specVersion"].as_str()),
            (Some("CycloneDX"), Some("1.6"))
        );
        let entry = |vex: &Value, id: &str| {
            vex["vulnerabilities"]
                .as_array()
                .unwrap()
                .iter()
                .find(|each| each["id"] == id)
                .cloned()
                .unwrap_or_else(|| panic!("{id} not in {vex}"))
        };
        let crl = entry(&vex, "CVE-2023-0286");
        assert_eq!(crl["analysis"]["state"], "not_affected");
        assert_eq!(crl["analysis"]["justification"], "code_not_reachable");
        let reference = crl["affects"][0]["ref"].as_str().unwrap();
        let component = vex["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|component| component["bom-ref"] == reference)
            .unwrap();
        assert_eq!(component["name"], "libssl3");
        assert_eq!(
            entry(&vex, "CVE-2022-28391")["analysis"]["state"],
            "resolved_with_pedigree"
        );
        // Check the document against CycloneDX's own vocabulary.
        for each in vex["vulnerabilities"].as_array().unwrap() {
            let state = each["analysis"]["state"].as_str().unwrap();
            assert!(provisor_store::STATES.contains(&state), "{each}");
        }
        let third = json_request(
            state,
            Method::POST,
            &format!("/api/v1/products/{}/releases", world.product),
            &world.editor,
            json!({"version": "3.4.0"}),
        )
        .await
        .json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        upload(
            state,
            &third,
            &world.editor,
            components.to_string().into_bytes(),
        )
        .await
        .expect(StatusCode::OK);
        state.store().match_new_components().await.unwrap();
        let carried = get(
            state,
            &format!("/api/v1/releases/{third}/vex"),
            &world.viewer,
        )
        .await
        .json();
        let terrapin = entry(&carried, "CVE-2023-48795");
        assert_eq!(terrapin["analysis"]["state"], "in_triage", "{terrapin}");
        assert!(
            terrapin["analysis"]["detail"]
                .as_str()
                .unwrap()
                .contains("Release 3.3.0 decided not_affected"),
            "{terrapin}"
        );

        // The export of 3.3.0, edited and uploaded to 3.4.0, applies by its references.
        let mut edited = get(
            state,
            &format!("/api/v1/releases/{next}/vex"),
            &world.viewer,
        )
        .await
        .json();
        for each in edited["vulnerabilities"].as_array_mut().unwrap() {
            each["analysis"] = json!({"state": "resolved", "detail": "3.4.0 updates it"});
        }
        let report = upload(
            state,
            &third,
            &world.editor,
            edited.to_string().into_bytes(),
        )
        .await
        .json();
        assert_eq!(
            (report["sbom"].as_str(), report["applied"].as_u64()),
            (Some("kept"), Some(2)),
            "{engine}: {report}"
        );
        assert!(
            report["not_applied"].as_array().unwrap().is_empty(),
            "{report}"
        );
        assert_eq!(
            decisions(state, &third, &world.viewer).await,
            [
                decided("CVE-2023-0286", "resolved", "vex", false),
                decided("CVE-2023-48795", "resolved", "vex", false),
            ]
        );

        // Every change of one decision, across the product's releases.
        let history = get(
            state,
            &format!("/api/v1/releases/{third}/analyses/history?component=deb:openssl&vulnerability=CVE-2023-0286"),
            &world.viewer,
        )
        .await
        .json();
        let steps: Vec<(&str, &str, &str)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|each| {
                (
                    each["release"].as_str().unwrap(),
                    each["action"].as_str().unwrap(),
                    each["state"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            steps,
            [
                (world.release.as_str(), "set", "not_affected"),
                (next.as_str(), "confirm", "not_affected"),
                (third.as_str(), "set", "resolved"),
            ],
            "{engine}"
        );
        // Removing 3.4.0's own brings 3.3.0's back, carried.
        send(
            state,
            Method::DELETE,
            &format!("/api/v1/releases/{third}/analyses?component=deb:openssl&vulnerability=CVE-2023-0286"),
            &world.editor,
            None,
            Vec::new(),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
        assert_eq!(
            decisions(state, &third, &world.viewer).await[0],
            decided("CVE-2023-0286", "not_affected", "confirmed", true)
        );
    }
}

/// The decisions of a release: (component, vulnerability) → (state, justification,
/// origin).
async fn analyses(
    state: &provisor_server::AppState,
    release: &str,
    viewer: &Credentials,
) -> std::collections::BTreeMap<(String, String), (String, Option<String>, String)> {
    get(
        state,
        &format!("/api/v1/releases/{release}/analyses"),
        viewer,
    )
    .await
    .json()
    .as_array()
    .unwrap()
    .iter()
    .map(|each| {
        (
            (
                each["component"].as_str().unwrap().to_owned(),
                each["vulnerability"].as_str().unwrap().to_owned(),
            ),
            (
                each["state"].as_str().unwrap().to_owned(),
                each["justification"].as_str().map(str::to_owned),
                each["origin"].as_str().unwrap().to_owned(),
            ),
        )
    })
    .collect()
}

#[tokio::test]
async fn a_yocto_build_s_cve_statuses_become_decisions_about_its_recipes() {
    for server in servers().await {
        let state = &server.state;
        let engine = server.engine;
        let world = world(state).await;
        let bbappend = std::fs::read(data("vex/openssl_3.0.8.bbappend")).unwrap();
        let uri = format!(
            "/api/v1/releases/{}/vex?file=openssl_3.0.8.bbappend",
            world.release
        );
        // Without an SBOM there is nothing the statuses could be about.
        let problem = send(
            state,
            Method::POST,
            &uri,
            &world.editor,
            Some("text/plain"),
            bbappend.clone(),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("has no SBOM yet"),
            "{problem}"
        );
        let components = json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6",
            "components": [
                {"type": "library", "name": "libssl3", "version": "3.0.8-r0",
                 "purl": "pkg:deb/poky/libssl3@3.0.8-r0?upstream=openssl"},
                {"type": "application", "name": "busybox", "version": "1.36.1-r0",
                 "cpe": "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*"},
                {"type": "application", "name": "dropbear", "version": "2022.83-r0",
                 "cpe": "cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.83:*:*:*:*:*:*:*"}
            ]
        });
        upload(
            state,
            &world.release,
            &world.editor,
            components.to_string().into_bytes(),
        )
        .await
        .expect(StatusCode::OK);

        let answer = send(
            state,
            Method::POST,
            &uri,
            &world.editor,
            Some("text/plain"),
            bbappend,
        )
        .await;
        answer.expect(StatusCode::OK);
        let report = answer.json();
        assert_eq!(
            (report["statements"].as_u64(), report["applied"].as_u64()),
            (Some(10), Some(9)),
            "{engine}: {report}"
        );
        let not_applied: Vec<(&str, &str)> = report["not_applied"]
            .as_array()
            .unwrap()
            .iter()
            .map(|each| {
                (
                    each["place"].as_str().unwrap(),
                    each["reason"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(not_applied.len(), 2, "{not_applied:?}");
        assert!(
            not_applied
                .iter()
                .any(|(place, reason)| *place == "openssl_3.0.8.bbappend:14"
                    && reason.contains("unpatched: a match")),
            "{not_applied:?}"
        );
        assert!(
            not_applied
                .iter()
                .any(|(place, reason)| *place == "openssl_3.0.8.bbappend:15"
                    && reason.contains("not a CVE id")),
            "{not_applied:?}"
        );

        let summary = std::fs::read(data("vex/cve-summary.json")).unwrap();
        let report = upload(state, &world.release, &world.editor, summary)
            .await
            .json();
        assert_eq!(
            (report["statements"].as_u64(), report["applied"].as_u64()),
            (Some(3), Some(3)),
            "{report}"
        );

        let held = analyses(state, &world.release, &world.viewer).await;
        let of = |component: &str, vulnerability: &str| {
            held.get(&(component.to_owned(), vulnerability.to_owned()))
                .cloned()
                .unwrap_or_else(|| panic!("{component} {vulnerability} not in {held:?}"))
        };
        let decided = |state: &str, justification: Option<&str>, origin: &str| {
            (
                state.to_owned(),
                justification.map(str::to_owned),
                origin.to_owned(),
            )
        };
        assert_eq!(
            of("deb:openssl", "CVE-2023-0464"),
            decided("resolved", None, "backport")
        );
        assert_eq!(
            of("deb:openssl", "CVE-2023-2650"),
            decided("resolved", None, "backport")
        );
        assert_eq!(
            of("deb:openssl", "CVE-2023-3446"),
            decided("not_affected", Some("code_not_present"), "vex")
        );
        assert_eq!(
            of("deb:openssl", "CVE-2023-1255"),
            decided("not_affected", Some("requires_environment"), "vex")
        );
        assert_eq!(
            of("deb:openssl", "CVE-2023-3817"),
            decided("false_positive", None, "vex")
        );
        assert_eq!(
            of("deb:openssl", "CVE-2024-0727"),
            decided("not_affected", Some("requires_environment"), "vex")
        );
        assert_eq!(
            of("deb:openssl", "CVE-2022-1343"),
            decided("not_affected", None, "vex")
        );
        // The recipe names the component: by its name, or by its CPE's product.
        assert_eq!(
            of("generic:busybox", "CVE-2022-28391"),
            decided("resolved", None, "backport")
        );
        assert_eq!(
            of("generic:dropbear", "CVE-2023-48795"),
            decided("resolved", None, "backport")
        );
        assert_eq!(held.len(), 12, "{engine}: {held:?}");
        // The detail says what the build said.
        let listed = get(
            state,
            &format!("/api/v1/releases/{}/analyses", world.release),
            &world.viewer,
        )
        .await
        .json();
        let detail = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|each| each["vulnerability"] == "CVE-2023-2650")
            .unwrap()["detail"]
            .clone();
        assert_eq!(
            detail,
            "Yocto: backported-patch: the OBJ_obj2txt fix is in 0004-asn1.patch from 3.0.9."
        );
        // Garbage is refused as a whole.
        let problem = send(
            state,
            Method::POST,
            &uri,
            &world.editor,
            Some("text/plain"),
            b"just words\n".to_vec(),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("sets no CVE_STATUS"),
            "{problem}"
        );
    }
}
