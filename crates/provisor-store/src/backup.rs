//! Backups a server can take while it runs, and their restore. A backup is a directory:
//! `backup.json` (what it holds), the database (SQLite: `provisor.db`, a consistent copy
//! made by `VACUUM INTO`; PostgreSQL: `database.dump`, pg_dump's custom format, one
//! snapshot), the blob directory and the server key. The database is copied first and
//! the blobs after: blobs are written before the rows that name them commit and are
//! never changed, so every blob the copied database names is in the copy.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::{Engine, SQLITE_FILE, Store, StoreError, now_ms, redact_url};

/// The schema of `backup.json`.
pub const BACKUP_SCHEMA: &str = "provisor.backup/1";
/// The PostgreSQL dump's name in a backup.
pub const DUMP_FILE: &str = "database.dump";

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BackupManifest {
    /// Always [`BACKUP_SCHEMA`].
    pub schema: String,
    /// `sqlite` or `postgres`.
    pub engine: String,
    /// When it was taken (ms since the epoch).
    pub created_at: i64,
    /// The migrations the database had.
    pub migrations: Vec<i64>,
    /// How many blob files were copied.
    pub blobs: u64,
    /// Where the blobs stayed when they are kept in object storage (`s3://…`), which a
    /// backup does not copy: the bucket's own versioning keeps their history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobs_kept_in: Option<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`): on the PATH, or in Debian's
/// versioned directories.
fn postgres_program(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin").join(name))
        .filter(|path| path.exists())
        .collect();
    versions.sort();
    versions.pop().unwrap_or_else(|| PathBuf::from(name))
}

fn run(command: &mut Command, what: &str) -> Result<(), StoreError> {
    let output = command.output().map_err(|error| {
        StoreError::Invalid(format!(
            "cannot run {what}: {error}; install PostgreSQL's client programs (apt-get install postgresql-client)"
        ))
    })?;
    if !output.status.success() {
        return Err(StoreError::Invalid(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// Copies a directory tree of regular files (no links followed); returns how many files.
fn copy_tree(from: &Path, to: &Path) -> Result<u64, StoreError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    let mut copied = 0;
    let entries = match std::fs::read_dir(from) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(io(from)(error)),
    };
    for entry in entries {
        let entry = entry.map_err(io(from))?;
        let kind = entry.file_type().map_err(io(from))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            if entry.file_name() == "tmp" {
                continue;
            }
            copied += copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).map_err(io(&target))?;
            copied += 1;
        }
    }
    Ok(copied)
}

impl Store {
    /// Writes a backup of this store (opened over `data`, with `database` its URL when
    /// PostgreSQL) into `output`, which must not exist.
    pub async fn backup(
        &self,
        data: &Path,
        database: Option<&str>,
        output: &Path,
    ) -> Result<BackupManifest, StoreError> {
        if output.exists() {
            return Err(StoreError::Invalid(format!(
                "{} exists: give a new directory for the backup",
                output.display()
            )));
        }
        // Written under a temporary name and renamed when complete, so a backup cut
        // short is never taken for one.
        let staging = output.with_extension("partial");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        match self.engine {
            Engine::Sqlite => {
                let copy = staging.join(SQLITE_FILE);
                sqlx::query("VACUUM INTO $1")
                    .bind(copy.display().to_string())
                    .execute(&self.pool)
                    .await?;
            }
            Engine::Postgres => {
                let url = database.ok_or_else(|| {
                    StoreError::Invalid("the PostgreSQL URL is needed to back it up".into())
                })?;
                run(
                    Command::new(postgres_program("pg_dump"))
                        .arg("--format=custom")
                        .arg("--no-owner")
                        .arg("--file")
                        .arg(staging.join(DUMP_FILE))
                        .arg("--dbname")
                        .arg(url),
                    &format!("pg_dump of {}", redact_url(url)),
                )?;
            }
        }
        let blobs_kept_in = (!self.blobs.is_local()).then(|| self.blobs.describe());
        let blobs = if blobs_kept_in.is_none() {
            copy_tree(&data.join("blobs"), &staging.join("blobs"))?
        } else {
            0
        };
        let key = data.join("server-key");
        if key.exists() {
            std::fs::copy(&key, staging.join("server-key")).map_err(io(&key))?;
        }
        let manifest = BackupManifest {
            schema: BACKUP_SCHEMA.to_owned(),
            engine: match self.engine {
                Engine::Sqlite => "sqlite".into(),
                Engine::Postgres => "postgres".into(),
            },
            created_at: now_ms(),
            migrations: self.migrations().await?,
            blobs,
            blobs_kept_in,
        };
        let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
        std::fs::write(staging.join("backup.json"), text).map_err(io(&staging))?;
        std::fs::rename(&staging, output).map_err(io(output))?;
        Ok(manifest)
    }
}

/// Restores a backup into `data` (which must hold no database or blobs yet) and, for a
/// PostgreSQL backup, into the empty database `database`.
pub async fn restore(
    backup: &Path,
    data: &Path,
    database: Option<&str>,
) -> Result<BackupManifest, StoreError> {
    let manifest_path = backup.join("backup.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
    let manifest: BackupManifest = serde_json::from_str(&text).map_err(|error| {
        StoreError::Invalid(format!(
            "{}: not a provisor backup ({error})",
            manifest_path.display()
        ))
    })?;
    if manifest.schema != BACKUP_SCHEMA {
        return Err(StoreError::Invalid(format!(
            "{}: schema {} is not {BACKUP_SCHEMA}",
            manifest_path.display(),
            manifest.schema
        )));
    }
    if data.join(SQLITE_FILE).exists() || data.join("blobs").exists() {
        return Err(StoreError::Invalid(format!(
            "{} already holds a server's data: restore into an empty directory",
            data.display()
        )));
    }
    std::fs::create_dir_all(data).map_err(io(data))?;
    match (manifest.engine.as_str(), database) {
        ("sqlite", None) => {
            let target = data.join(SQLITE_FILE);
            std::fs::copy(backup.join(SQLITE_FILE), &target).map_err(io(&target))?;
        }
        ("postgres", Some(url)) => {
            run(
                Command::new(postgres_program("pg_restore"))
                    .arg("--no-owner")
                    .arg("--exit-on-error")
                    .arg("--dbname")
                    .arg(url)
                    .arg(backup.join(DUMP_FILE)),
                &format!("pg_restore into {}", redact_url(url)),
            )?;
        }
        ("sqlite", Some(_)) => {
            return Err(StoreError::Invalid(
                "the backup is of an SQLite database: restore it without --database".into(),
            ));
        }
        _ => {
            return Err(StoreError::Invalid(
                "the backup is of a PostgreSQL database: give --database (an empty database) to restore it into".into(),
            ));
        }
    }
    copy_tree(&backup.join("blobs"), &data.join("blobs"))?;
    let key = backup.join("server-key");
    if key.exists() {
        std::fs::copy(&key, data.join("server-key")).map_err(io(&key))?;
    }
    // Opening checks the migrations and the schema.
    let store = Store::open(data, database).await?;
    store.close().await;
    Ok(manifest)
}
