//! Seeds a server's data directory for the load benchmark (`scripts/bench-server`): one
//! manufacturer with PRODUCTS products of three releases each, every release with the
//! SmartCam's V3.1.3 assessment and its evidence (its verdict counts as judged, with a
//! different number of mandatory failures per product, so that the portfolio's order
//! has something to sort), and a server admin with an API token
//! written to `DATA/bench-token` and a session (for the web pages) to
//! `DATA/bench-session`. With `SEED_MONITORED=1`, every release also has an SBOM of
//! 300 components (drawn from 1 000 packages in 8 versions, Debian packages and
//! upstream ones with CPE names), 5 000 advisories are imported and matched against
//! them, and each product's first release has decisions about five of its
//! vulnerabilities, which its later releases show as carried. Usage:
//!
//! ```sh
//! [SEED_MONITORED=1] cargo run --release -p provisor-server --example seed -- DATA [PRODUCTS] [postgres://…]
//! ```

use std::path::{Path, PathBuf};

use provisor_advisories::{Advisory, Affected, Event, Range};
use provisor_store::{
    Actor, Decision, FileRecord, NewAssessment, NewOrganisation, NewProduct, NewRelease, NewUser,
    OrganisationKind, Origin, ReleaseSbom, SbomComponent, Scope, Store,
};

/// Components per release, packages they are drawn from, versions of each, advisories.
const COMPONENTS: usize = 300;
const PACKAGES: usize = 1_000;
const VERSIONS: usize = 8;
const ADVISORIES: usize = 5_000;

/// Package `n` in version `v`: a Debian package (7 in 10) or an upstream project with
/// a CPE name.
fn component(package: usize, version: usize) -> SbomComponent {
    let name = format!("pkg{package:04}");
    if package % 10 < 7 {
        let version = format!("1.{version}.0-1");
        SbomComponent {
            purl: Some(format!("pkg:deb/debian/{name}@{version}?distro=debian-12")),
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

/// Advisory `i`: on a package, fixed in one of its versions; Debian's ecosystem for a
/// Debian package, NVD's CPE for an upstream one.
fn advisory(i: usize) -> Advisory {
    let package = (i * 7) % PACKAGES;
    let fixed = i % VERSIONS;
    let name = format!("pkg{package:04}");
    let debian = package % 10 < 7;
    Advisory {
        id: format!("CVE-2026-{i:05}"),
        aliases: Vec::new(),
        summary: format!("a flaw in {name}"),
        score: None,
        severity: Some(["low", "medium", "high", "critical"][i % 4].to_owned()),
        affected: vec![Affected {
            ecosystem: if debian {
                "Debian:12".into()
            } else {
                String::new()
            },
            cpe: (!debian).then(|| format!("vendor{package}:{name}")),
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
        }],
        modified: None,
        withdrawn: None,
    }
}

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let data = PathBuf::from(
        arguments
            .first()
            .expect("usage: seed DATA [PRODUCTS] [DATABASE]"),
    );
    let products: usize = arguments
        .get(1)
        .map_or(1000, |count| count.parse().expect("PRODUCTS is a number"));
    let database = arguments.get(2).cloned();
    let store = Store::open(&data, database.as_deref())
        .await
        .expect("the store opens");
    let actor = Actor::Server;
    let admin = store
        .create_user(
            &actor,
            &NewUser {
                login: "bench".into(),
                display_name: "Bench".into(),
                password: "benchmark password".into(),
                server_admin: true,
            },
        )
        .await
        .expect("the admin is made");
    let token = store
        .create_token(
            &actor,
            &admin.id,
            "bench",
            &[Scope::Read, Scope::Write, Scope::Scan, Scope::Work],
            provisor_store::now_ms() + 86_400_000,
        )
        .await
        .expect("the token is made");
    std::fs::write(data.join("bench-token"), &token.secret).expect("the token is written");
    // A session with its second factor given, for the web pages' benchmark.
    let (session, _) = store
        .create_session(&admin.id, "bench", true)
        .await
        .expect("the session is made");
    std::fs::write(data.join("bench-session"), &session).expect("the session is written");
    let acme = store
        .create_organisation(
            &actor,
            &NewOrganisation {
                name: "Acme".into(),
                kind: OrganisationKind::Manufacturer,
            },
        )
        .await
        .expect("the manufacturer is made");
    let files = smartcam_files(&store, &acme.id).await;
    let judged = smartcam_counts();
    let monitored = std::env::var("SEED_MONITORED").is_ok_and(|value| value == "1");
    let mut first = None;
    let mut first_releases = Vec::new();
    for index in 0..products {
        let product = store
            .create_product(
                &actor,
                &acme.id,
                &NewProduct {
                    name: format!("Camera {index:04}"),
                    model: format!("C{index:04}"),
                },
            )
            .await
            .expect("a product is made");
        for (step, version) in ["1.0.0", "1.1.0", "2.0.0"].into_iter().enumerate() {
            let release = store
                .create_release(
                    &actor,
                    &product.id,
                    &NewRelease {
                        version: version.into(),
                        support_period_end: Some("2031-12-31".into()),
                    },
                )
                .await
                .expect("a release is made");
            let assessment = store
                .create_assessment(
                    &actor,
                    &release.id,
                    &NewAssessment {
                        main_file: "assessment-v3.1.3.toml".into(),
                        files: files.clone(),
                        edition: "en303645-v3.1.3".into(),
                        kind: "self".into(),
                        conformant: false,
                        counts: Some(provisor_store::Counts {
                            mandatory_unmet: (index % 5) as i64,
                            mandatory_pass: judged.mandatory_pass + judged.mandatory_unmet
                                - (index % 5) as i64,
                            ..judged
                        }),
                        note: "seed".into(),
                    },
                )
                .await
                .expect("an assessment is made");
            first.get_or_insert(assessment.id);
            if monitored {
                let components = (0..COMPONENTS)
                    .map(|k| component((index * 37 + k * 3) % PACKAGES, (index + step) % VERSIONS))
                    .collect();
                store
                    .record_sbom(&ReleaseSbom {
                        release_id: release.id.clone(),
                        job_id: "seed".into(),
                        firmware_sha256: None,
                        components,
                    })
                    .await
                    .expect("the SBOM is stored");
                if step == 0 {
                    first_releases.push(release.id.clone());
                }
            }
        }
    }
    if monitored {
        let advisories: Vec<Advisory> = (0..ADVISORIES).map(advisory).collect();
        let (mut debian, mut nvd): (Vec<Advisory>, Vec<Advisory>) = advisories
            .into_iter()
            .partition(|advisory| !advisory.affected[0].ecosystem.is_empty());
        for (source, advisories) in [("debian", &mut debian), ("nvd", &mut nvd)] {
            for batch in advisories.chunks(provisor_store::MONITORING_BATCH) {
                store
                    .apply_advisories(source, batch)
                    .await
                    .expect("advisories are applied");
            }
        }
        store
            .match_new_components()
            .await
            .expect("the SBOMs are matched");
        let decision = Decision {
            state: "not_affected".into(),
            justification: Some("code_not_reachable".into()),
            response: Vec::new(),
            detail: "seeded".into(),
        };
        let person = Actor::User(admin.id.clone());
        for release in &first_releases {
            let found = store
                .release_vulnerabilities(release)
                .await
                .expect("the vulnerabilities are read");
            for vulnerability in found.iter().take(5) {
                store
                    .set_analysis(
                        &person,
                        release,
                        &vulnerability.component_key,
                        &vulnerability.vulnerability,
                        &decision,
                        Origin::Person,
                    )
                    .await
                    .expect("a decision is made");
            }
        }
    }
    std::fs::write(data.join("bench-assessment"), first.unwrap_or_default())
        .expect("the id is written");
    println!(
        "seeded {products} products × 3 releases × 1 assessment{} into {}",
        if monitored {
            ", each with an SBOM of 300 components matched against 5 000 advisories"
        } else {
            ""
        },
        data.display()
    );
}

/// The SmartCam example's verdicts counted as the server counts them.
fn smartcam_counts() -> provisor_store::Counts {
    struct Disk(PathBuf);
    impl provisor_engine::Files for Disk {
        fn read(&self, path: &str) -> Result<Vec<u8>, String> {
            std::fs::read(self.0.join(path)).map_err(|error| error.to_string())
        }
    }
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/smartcam");
    let text = std::fs::read_to_string(directory.join("assessment-v3.1.3.toml"))
        .expect("the example is there");
    let file = provisor_engine::parse(&text, "assessment-v3.1.3.toml").expect("it parses");
    let assessment = provisor_engine::load(&file, &Disk(directory)).expect("it judges");
    provisor_server::verdict_counts(&assessment)
}

async fn smartcam_files(store: &Store, organisation: &str) -> Vec<FileRecord> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/smartcam");
    let mut paths = vec!["assessment-v3.1.3.toml".to_owned()];
    for entry in std::fs::read_dir(directory.join("evidence")).expect("the example's evidence") {
        paths.push(format!(
            "evidence/{}",
            entry.expect("an entry").file_name().to_string_lossy()
        ));
    }
    let mut files = Vec::new();
    for path in paths {
        let bytes = std::fs::read(directory.join(&path)).expect("an example file");
        let blob = store
            .blobs()
            .put(organisation, &bytes)
            .await
            .expect("the blob is stored");
        files.push(FileRecord {
            role: if path.starts_with("evidence/") {
                "evidence".into()
            } else {
                "assessment".into()
            },
            path,
            sha256: blob.sha256,
            size: blob.size as i64,
        });
    }
    files
}
