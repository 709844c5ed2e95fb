//! The team server's persistence. One [`Store`] over SQLite (embedded, the default) and
//! PostgreSQL (for teams), chosen from the database URL, behind sqlx's Any driver: the
//! same migrations and the same queries run on both, and the few places where the
//! engines differ (claiming a job) are said in one function each.
//!
//! Beside the database lives a blob directory: evidence, scans, firmware images and
//! issued reports, content-addressed by SHA-256 within each organisation's namespace and
//! streamed to disk (`blobs.rs`). Every change a person or token makes is appended to a
//! hash-chained audit log in the same transaction (`audit.rs`).
//!
//! Only this crate speaks SQL.

#![forbid(unsafe_code)]

mod accounts;
mod analyses;
mod assessments;
mod audit;
mod backup;
mod blobs;
mod error;
mod jobs;
mod migrate;
mod monitoring;
mod notifications;
mod portfolio;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

pub use accounts::{
    ApiToken, LoginBlock, MIN_PASSWORD_CHARS, NewToken, NewUser, Role, Scope, Session, User,
    decoy_hash, hash_password, valid_login, verify_password,
};
pub use analyses::{
    Analysis, Decision, Effective, HistoryEntry, JUSTIFICATIONS, MAX_DETAIL, Origin, Outcome,
    RESPONSES, STATES, VexStatement, settles,
};
pub use assessments::{
    AssessmentRecord, Comment, Counts, FileRecord, IssuedReport, NewAssessment, NewFile, Revision,
};
pub use audit::{AuditEntry, Checkpoint, ServerKey, Verification};
pub use backup::{BACKUP_SCHEMA, BackupManifest, DUMP_FILE, restore};
pub use blobs::{BlobBackend, BlobKey, BlobLocation, BlobWriter, Blobs, Directory, StoredBlob};
/// The object-storage backend of the blob store (the `s3` feature).
#[cfg(feature = "s3")]
pub mod blobs_object {
    pub use crate::blobs::{AmazonS3Builder, ObjectStorage};
}
pub use error::StoreError;
pub use jobs::{
    Claim, Fence, Job, JobState, JobWakeups, JobsOf, NewJob, Priority, ScanTarget, retry_delay_ms,
};
pub use monitoring::{
    AdvisoryImport, AdvisorySource, BATCH as MONITORING_BATCH, KnownExploited, MatchSummary,
    ReleaseMonitoring, ReleaseSbom, ReleaseVulnerability, SbomComponent, SbomRecord, severity_rank,
};
pub use notifications::{
    Delivery, DeliveryRecord, EVENT_KINDS, Event, MAX_ATTEMPTS, NewRule, NotificationRule,
    retry_delay_ms as delivery_retry_delay_ms,
};
pub use portfolio::{
    NewOrganisation, NewProduct, NewRelease, Organisation, OrganisationKind, PORTFOLIO_MAX_LIMIT,
    PortfolioOrder, PortfolioPage, PortfolioQuery, PortfolioRow, Product, Release,
};

/// Who made a change, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, signed in.
    User(String),
    /// A person's API token: the user and the token's id.
    Token {
        /// The user the token belongs to.
        user: String,
        /// The token's id.
        token: String,
    },
    /// The server itself (setup, worker results).
    Server,
}

impl Actor {
    /// The text the audit log records: `user:ID`, `token:ID (user:ID)` or `server`.
    pub fn label(&self) -> String {
        match self {
            Actor::User(user) => format!("user:{user}"),
            Actor::Token { user, token } => format!("token:{token} (user:{user})"),
            Actor::Server => "server".to_owned(),
        }
    }

    /// The user behind the change, if a person made it.
    pub fn user(&self) -> Option<&str> {
        match self {
            Actor::User(user) | Actor::Token { user, .. } => Some(user),
            Actor::Server => None,
        }
    }
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The server's store: the database and the blob directory.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    blobs: Blobs,
    /// The PostgreSQL server's URL, for the queue's wake-ups (`LISTEN`).
    listen_url: Option<String>,
    /// What monitoring says of each release, as last computed (`monitoring.rs`).
    monitoring_cache: monitoring::Cache,
}

/// The SQLite database's name in the data directory.
pub const SQLITE_FILE: &str = "provisor.db";

impl Store {
    /// Opens (creating when needed) the store: `database` is a `postgres://` URL, or
    /// `None` for the SQLite file in `data`; blobs live under `data/blobs`. The
    /// migrations not yet applied are applied, all in one transaction.
    pub async fn open(data: &Path, database: Option<&str>) -> Result<Store, StoreError> {
        Store::open_with(data, database, &BlobLocation::DataDirectory).await
    }

    /// Opens the store as [`Store::open`] does, its blobs kept at `blobs` (the local
    /// directory `data/blobs` still holds uploads in progress and the object store's
    /// cache).
    pub async fn open_with(
        data: &Path,
        database: Option<&str>,
        blobs: &BlobLocation,
    ) -> Result<Store, StoreError> {
        install_default_drivers();
        std::fs::create_dir_all(data).map_err(|source| StoreError::Io {
            path: data.display().to_string(),
            source,
        })?;
        let (url, engine) = match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                (url.to_owned(), Engine::Postgres)
            }
            Some(url) if url.starts_with("sqlite:") => (url.to_owned(), Engine::Sqlite),
            Some(url) => {
                return Err(StoreError::Invalid(format!(
                    "unsupported database URL \"{}\": use postgres://USER@HOST/DB, or leave it out for the embedded SQLite database",
                    redact_url(url)
                )));
            }
            None => (
                format!("sqlite://{}?mode=rwc", data.join(SQLITE_FILE).display()),
                Engine::Sqlite,
            ),
        };
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(match engine {
                Engine::Sqlite => 8,
                Engine::Postgres => 16,
            })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL lets readers go on while one writer commits; the busy
                        // timeout queues writers instead of failing them; foreign keys
                        // are off in SQLite unless asked for.
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
                        )
                        .execute(connection)
                        .await?;
                    } else {
                        // A transaction left open (a stuck request, a killed client)
                        // would hold back vacuum and the queue's index: PostgreSQL ends
                        // the session after a minute. No code path holds one open while
                        // it waits on anything but the database.
                        sqlx::raw_sql("SET idle_in_transaction_session_timeout = '60s'")
                            .execute(connection)
                            .await?;
                    }
                    Ok(())
                })
            });
        let pool = options
            .connect(&url)
            .await
            .map_err(|error| StoreError::Connect {
                url: redact_url(&url),
                reason: error.to_string(),
            })?;
        migrate::apply(&pool, engine).await?;
        let blobs = Blobs::open_at(&data.join("blobs"), blobs)?;
        Ok(Store {
            pool,
            engine,
            blobs,
            listen_url: (engine == Engine::Postgres).then_some(url),
            monitoring_cache: monitoring::Cache::default(),
        })
    }

    /// The engine the store runs on.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The blob store.
    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The versions of the migrations applied, in order.
    pub async fn migrations(&self) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT version FROM provisor_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|row| row.get::<i64, _>(0)).collect())
    }

    /// A server setting, if set.
    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM server_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.get::<String, _>(0)))
    }

    /// Sets a server setting.
    pub async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM server_settings WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO server_settings (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that read first and wrote later would fail
    /// with "database is locked" when another connection committed in between, instead
    /// of waiting its turn.
    pub(crate) async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A new random id: a prefix saying what it names and 80 random bits in hex
/// (`prd_3f9a…`).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_hex(10))
}

/// `bytes` random bytes from the operating system, in lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's random source failed");
    hex(&buffer)
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The SHA-256 of bytes, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

/// A database URL with its password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// The path of a data directory's SQLite database.
pub fn sqlite_path(data: &Path) -> PathBuf {
    data.join(SQLITE_FILE)
}

/// Creates an empty database on a PostgreSQL server (connected to as `server`, a URL
/// naming an existing database) and returns the URL of the new one. For tests and
/// benchmarks, which give every run a database of its own.
pub async fn create_postgres_database(server: &str, name: &str) -> Result<String, StoreError> {
    use sqlx::Connection;
    install_default_drivers();
    if name.is_empty()
        || !name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
    {
        return Err(StoreError::Invalid(format!(
            "\"{name}\" is not a database name: lowercase letters, digits and _"
        )));
    }
    let mut connection = sqlx::AnyConnection::connect(server)
        .await
        .map_err(|error| StoreError::Connect {
            url: redact_url(server),
            reason: error.to_string(),
        })?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await?;
    let base = server
        .rsplit_once('/')
        .map(|(base, _)| base)
        .ok_or_else(|| {
            StoreError::Invalid(format!("{}: no database in the URL", redact_url(server)))
        })?;
    Ok(format!("{base}/{name}"))
}

/// The bytes of lowercase or uppercase hexadecimal, if it is that.
pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}
