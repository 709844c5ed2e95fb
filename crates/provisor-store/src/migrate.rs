//! The schema's migrations, embedded, applied at start. All pending migrations run in
//! one transaction (both engines have transactional DDL), so a failed upgrade leaves the
//! database as it was; each applied migration is recorded with the SHA-256 of its text,
//! and a recorded migration whose text has changed stops the start.

use sqlx::{AnyPool, Row};

use crate::{Engine, StoreError, sha256_hex};

/// The migrations, in order: version, name and SQL. Their names and texts are the same
/// for both engines.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "list order",
        include_str!("../migrations/0002_list_order.sql"),
    ),
    (
        3,
        "portfolio",
        include_str!("../migrations/0003_portfolio.sql"),
    ),
    (4, "queue", include_str!("../migrations/0004_queue.sql")),
    (
        5,
        "monitoring",
        include_str!("../migrations/0005_monitoring.sql"),
    ),
    (
        6,
        "notifications",
        include_str!("../migrations/0006_notifications.sql"),
    ),
    (
        7,
        "analyses",
        include_str!("../migrations/0007_analyses.sql"),
    ),
];

/// Applies the migrations not yet applied.
pub(crate) async fn apply(pool: &AnyPool, engine: Engine) -> Result<(), StoreError> {
    let mut tx = match engine {
        Engine::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Engine::Postgres => pool.begin().await?,
    };
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS provisor_migrations (version BIGINT PRIMARY KEY, \
         name TEXT NOT NULL, sha256 TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied = sqlx::query("SELECT version, sha256 FROM provisor_migrations ORDER BY version")
        .fetch_all(&mut *tx)
        .await?;
    for row in &applied {
        let version: i64 = row.get(0);
        let recorded: String = row.get(1);
        match MIGRATIONS.iter().find(|(known, _, _)| *known == version) {
            Some((_, name, sql)) if sha256_hex(sql.as_bytes()) != recorded => {
                return Err(StoreError::Invalid(format!(
                    "migration {version} ({name}) applied to this database differs from this version's; \
                     the database was made by a different build of provisor"
                )));
            }
            Some(_) => {}
            None => {
                return Err(StoreError::Invalid(format!(
                    "the database has migration {version}, which this version of provisor does not know; \
                     use the newer provisor that made it"
                )));
            }
        }
    }
    for (version, name, sql) in MIGRATIONS {
        if applied.iter().any(|row| row.get::<i64, _>(0) == *version) {
            continue;
        }
        sqlx::raw_sql(*sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO provisor_migrations (version, name, sha256, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(*version)
        .bind(*name)
        .bind(sha256_hex(sql.as_bytes()))
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
