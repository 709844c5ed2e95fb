//! Seeds a server's data directory for the load benchmark (`scripts/bench-server`): one
//! manufacturer with PRODUCTS products of three releases each, every release with the
//! SmartCam's V3.1.3 assessment and its evidence (its verdict counts as judged, with a
//! different number of mandatory failures per product, so that the portfolio's order
//! has something to sort), and a server admin with an API token
//! written to `DATA/bench-token` and a session (for the web pages) to
//! `DATA/bench-session`. Usage:
//!
//! ```sh
//! cargo run --release -p provisor-server --example seed -- DATA [PRODUCTS] [postgres://…]
//! ```

use std::path::{Path, PathBuf};

use provisor_store::{
    Actor, FileRecord, NewAssessment, NewOrganisation, NewProduct, NewRelease, NewUser,
    OrganisationKind, Scope, Store,
};

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
    let mut first = None;
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
        for version in ["1.0.0", "1.1.0", "2.0.0"] {
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
        }
    }
    std::fs::write(data.join("bench-assessment"), first.unwrap_or_default())
        .expect("the id is written");
    println!(
        "seeded {products} products × 3 releases × 1 assessment into {}",
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
