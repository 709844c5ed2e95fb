//! The store's tests. Every test runs on SQLite, and on PostgreSQL when
//! `PROVISOR_TEST_POSTGRES` names a server (`scripts/test` starts a throw-away cluster
//! and sets it, and sets `PROVISOR_REQUIRE_POSTGRES` so that a missing server fails the
//! run instead of skipping); each test gets a database of its own.

mod accounts;
mod analyses;
mod assessments;
mod audit;
mod jobs;
mod monitoring;
mod monitoring_bench;
#[cfg(feature = "s3")]
mod object_blobs;
mod portfolio;
mod queue_bench;

use provisor_store::{Actor, NewOrganisation, NewUser, OrganisationKind, Store};

/// A store under test and what keeps it alive.
pub struct TestStore {
    /// The store.
    pub store: Store,
    /// `sqlite` or `postgres`, for messages.
    pub engine: &'static str,
    /// The database's URL, for tests that reach around the store (to tamper).
    pub url: String,
    /// The data directory (blobs, the server key).
    pub dir: tempfile::TempDir,
}

/// A fresh SQLite store, and a fresh PostgreSQL one when a server is configured.
pub async fn stores() -> Vec<TestStore> {
    let mut stores = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    stores.push(TestStore {
        store: Store::open(dir.path(), None).await.unwrap(),
        engine: "sqlite",
        url: format!(
            "sqlite://{}",
            provisor_store::sqlite_path(dir.path()).display()
        ),
        dir,
    });
    match std::env::var("PROVISOR_TEST_POSTGRES") {
        Ok(url) => {
            let dir = tempfile::tempdir().unwrap();
            let database = fresh_postgres_database(&url).await;
            stores.push(TestStore {
                store: Store::open(dir.path(), Some(&database)).await.unwrap(),
                engine: "postgres",
                url: database,
                dir,
            });
        }
        Err(_) if std::env::var_os("PROVISOR_REQUIRE_POSTGRES").is_some() => {
            panic!("PROVISOR_REQUIRE_POSTGRES is set but PROVISOR_TEST_POSTGRES names no server")
        }
        Err(_) => {}
    }
    stores
}

/// Creates an empty database on the test server and returns its URL.
pub async fn fresh_postgres_database(server: &str) -> String {
    let name = format!("provisor_test_{}", provisor_store::random_hex(6));
    provisor_store::create_postgres_database(server, &name)
        .await
        .unwrap()
}

/// A user for tests.
pub async fn user(store: &Store, login: &str, admin: bool) -> provisor_store::User {
    store
        .create_user(
            &Actor::Server,
            &NewUser {
                login: login.to_owned(),
                display_name: login.to_owned(),
                password: "correct horse battery".to_owned(),
                server_admin: admin,
            },
        )
        .await
        .unwrap()
}

/// An organisation for tests.
pub async fn organisation(
    store: &Store,
    name: &str,
    kind: OrganisationKind,
) -> provisor_store::Organisation {
    store
        .create_organisation(
            &Actor::Server,
            &NewOrganisation {
                name: name.to_owned(),
                kind,
            },
        )
        .await
        .unwrap()
}

/// Runs statements on a test store's database behind the store's back.
pub async fn tamper(test: &TestStore, sql: &str) {
    use sqlx::Connection;
    let mut connection = sqlx::AnyConnection::connect(&test.url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut connection)
        .await
        .unwrap();
}
