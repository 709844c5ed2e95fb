//! The team server: provisor's REST API under `/api/v1` over the store, for the people
//! who perform an assessment together (a manufacturer's engineers, a lab's assessors, a
//! reviewer). `app(state)` builds the router, apart from `serve`, so tests call it
//! without a socket; `serve` binds, optionally speaks TLS (rustls), and shuts down
//! gracefully.
//!
//! The server meets the baseline it assesses: no default password (the first start
//! prints a one-time setup link), Argon2id hashes, server-side sessions with
//! HttpOnly/SameSite cookies and CSRF tokens, a login throttle, a TOTP second factor
//! (always for admins), scoped expiring API tokens, security headers, bounded uploads,
//! and every change in the hash-chained audit log.

#![forbid(unsafe_code)]

mod advisories;
mod api;
mod auth;
mod cache;
pub mod cidr;
mod error;
mod extract;
mod headers;
mod judge;
pub mod monitor;
pub mod notify;
mod serve;
mod setup_page;
mod supervise;
pub mod totp;
mod web;
pub mod worker;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use api::openapi;
pub use api::workers::{ClaimedJob, Completed};
pub use error::{ApiError, Problem, ProblemPlace};
use provisor_store::{ServerKey, Store};

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory (the SQLite database, blobs, the server key).
    pub data: PathBuf,
    /// A `postgres://` URL, or `None` for the embedded SQLite database.
    pub database: Option<String>,
    /// Where blobs are kept: the data directory, or object storage.
    pub blobs: provisor_store::BlobLocation,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The URL people reach the server at (behind a proxy, the proxy's).
    pub public_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<cidr::Cidr>,
    /// The largest upload accepted, in bytes.
    pub max_upload: u64,
    /// A PEM certificate chain and key to serve TLS with.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// How many worker processes to start.
    pub workers: usize,
    /// How long a worker's lease on a job lasts without a heartbeat: how soon the job
    /// of a worker that vanished runs again.
    pub job_lease: std::time::Duration,
    /// The program and arguments that start one worker process (`provisor worker …`);
    /// the supervisor appends `--id ID`. None: no workers (jobs wait for workers
    /// started elsewhere).
    pub worker_command: Option<(PathBuf, Vec<std::ffi::OsString>)>,
    /// The directory advisory feeds given as paths are read from (`DATA/feeds`).
    pub feeds: PathBuf,
    /// The hosts (`host` or `host:port`) advisory feeds may be fetched from, and
    /// webhooks sent to: nothing else is reached.
    pub fetch_allow: Vec<String>,
    /// How often the monitor looks for due feeds and new components.
    pub monitor_poll: std::time::Duration,
    /// How often the sender of notifications looks for due webhooks.
    pub notify_poll: std::time::Duration,
    /// How long a webhook's receiver may take to answer.
    pub webhook_timeout: std::time::Duration,
    /// The relay e-mail digests go through; none: e-mail rules wait.
    pub smtp: Option<notify::Smtp>,
    /// How often e-mail digests are sent.
    pub digest_every: std::time::Duration,
}

impl Config {
    /// Settings for a data directory, with the defaults: loopback, an ephemeral port
    /// is not chosen here (8303 is), 4 GiB uploads.
    pub fn new(data: &Path) -> Config {
        Config {
            data: data.to_path_buf(),
            database: None,
            blobs: provisor_store::BlobLocation::DataDirectory,
            listen: SocketAddr::from(([127, 0, 0, 1], 8303)),
            public_url: None,
            trusted_proxies: Vec::new(),
            max_upload: 4 << 30,
            tls: None,
            workers: 1,
            job_lease: std::time::Duration::from_secs(60),
            worker_command: None,
            feeds: data.join("feeds"),
            fetch_allow: Vec::new(),
            monitor_poll: std::time::Duration::from_secs(30),
            notify_poll: std::time::Duration::from_secs(5),
            webhook_timeout: std::time::Duration::from_secs(10),
            smtp: None,
            digest_every: std::time::Duration::from_secs(3600),
        }
    }

    /// Whether cookies must be `Secure`: served over TLS, or behind an HTTPS URL.
    pub fn secure_cookies(&self) -> bool {
        self.tls.is_some()
            || self
                .public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://"))
    }

    /// The server key's file.
    pub fn key_path(&self) -> PathBuf {
        self.data.join("server-key")
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    key: ServerKey,
    config: Config,
    verdicts: cache::VerdictCache,
    advisories: advisories::Loaded,
    monitor_wake: tokio::sync::Notify,
    notify_wake: tokio::sync::Notify,
}

impl AppState {
    /// Opens the store and the server key of a configuration.
    pub async fn open(config: Config) -> Result<AppState, provisor_store::StoreError> {
        let store =
            Store::open_with(&config.data, config.database.as_deref(), &config.blobs).await?;
        let key = ServerKey::load_or_create(&config.key_path())?;

        Ok(AppState::new(store, key, config))
    }

    /// A state over an open store.
    pub fn new(store: Store, key: ServerKey, config: Config) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store,
                key,
                config,
                verdicts: cache::VerdictCache::new(1024),
                advisories: advisories::Loaded::default(),
                monitor_wake: tokio::sync::Notify::new(),
                notify_wake: tokio::sync::Notify::new(),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The server's signing key.
    pub fn key(&self) -> &ServerKey {
        &self.inner.key
    }

    /// The cache of verdict documents.
    pub(crate) fn verdicts(&self) -> &cache::VerdictCache {
        &self.inner.verdicts
    }

    /// The advisory database as last read.
    pub(crate) fn advisories(&self) -> &advisories::Loaded {
        &self.inner.advisories
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Wakes the monitor before its next round (a feed to import now).
    pub fn monitor_wake(&self) -> &tokio::sync::Notify {
        &self.inner.monitor_wake
    }

    /// Wakes the sender of notifications before its next round.
    pub fn notify_wake(&self) -> &tokio::sync::Notify {
        &self.inner.notify_wake
    }

    /// The URL the server is reached at.
    pub fn base_url(&self) -> String {
        match &self.inner.config.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!(
                "{}://{}",
                if self.inner.config.tls.is_some() {
                    "https"
                } else {
                    "http"
                },
                self.inner.config.listen
            ),
        }
    }
}

/// The setting that holds the SHA-256 of the one-time setup token.
pub const SETUP_SETTING: &str = "setup_token_sha256";

/// When the server has no user, makes a one-time setup token, stores its hash and
/// returns the link that creates the first admin; `None` once there are users.
pub async fn setup_link(state: &AppState) -> Result<Option<String>, provisor_store::StoreError> {
    if state.store().user_count().await? > 0 {
        return Ok(None);
    }
    let token = provisor_store::random_hex(24);
    state
        .store()
        .set_setting(SETUP_SETTING, &provisor_store::sha256_hex(token.as_bytes()))
        .await?;
    Ok(Some(format!("{}/setup?token={token}", state.base_url())))
}

pub use api::app;
pub use judge::counts as verdict_counts;
pub use serve::{
    CHECKPOINT_EVERY, GRACE, ServeError, count_uncounted, discard_unfinished_uploads, serve,
};
