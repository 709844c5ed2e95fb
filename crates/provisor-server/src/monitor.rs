//! The monitor (5.2-3): imports the advisory feeds a server admin configured, each on
//! its schedule, and matches the components of newly scanned releases, so that a new
//! advisory becomes findings on every release it affects within one import.
//!
//! A feed is a path under the server's feed directory or a URL on the admin's
//! allow-list (`--allow-fetch HOST[:PORT]`), fetched with bounded time and size and no
//! redirect followed. OSV from a URL is read the way the project suggests: a base URL
//! (`…/Debian/`) gives `modified_id.csv`, and an import reads `all.zip` the first time
//! and then only the records changed since the newest change it imported; a directory
//! holding a `modified_id.csv` is read the same way. A feed is read on a thread of its
//! own and handed over in batches ([`provisor_store::Store::apply_advisories`]), so
//! memory holds a batch, not a feed. One server process imports a feed at a time (a
//! lease in the database); every import is recorded with what it changed.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use provisor_advisories::feeds::{self, Kind};
use provisor_advisories::{Advisory, Error as FeedError};
use provisor_store::{AdvisorySource, KnownExploited, MatchSummary};

use crate::{ApiError, AppState};

/// How long a feed's lease lasts without renewal (renewed after every batch).
const LEASE_MS: i64 = 300_000;
/// The largest download of one feed (OSV's whole `all.zip` is about 1 GB).
const MAX_DOWNLOAD: u64 = 4 << 30;
/// The longest one download may take.
const DOWNLOAD_TIME: Duration = Duration::from_secs(1800);
/// How long before a release's support period ends its organisation is told.
const SUPPORT_NOTICE_SECONDS: u64 = 30 * 86_400;
/// Above this many changed records an OSV import reads `all.zip` instead of each file.
const MAX_CHANGED_FETCHES: usize = 20_000;

/// Where a feed is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file or directory under the feed directory.
    Path(PathBuf),
    /// An allow-listed `http://` or `https://` URL.
    Url(String),
}

/// Checks a feed's location as an admin gives it: a URL whose host (and port) the
/// allow-list holds, or a path relative to the feed directory that stays inside it.
pub fn check_location(state: &AppState, location: &str) -> Result<Location, ApiError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        allowed_url(&state.config().fetch_allow, location)?;
        return Ok(Location::Url(location.to_owned()));
    }
    let relative = Path::new(location);
    let inside = relative
        .components()
        .all(|part| matches!(part, std::path::Component::Normal(_)));
    if location.is_empty() || !inside {
        return Err(ApiError::invalid(
            "the location is neither a URL nor a path inside the feed directory",
            vec![crate::ProblemPlace {
                location: "/location".into(),
                message: format!(
                    "give an http(s) URL on the allow-list, or a relative path under {} without `..`",
                    state.config().feeds.display()
                ),
            }],
        ));
    }
    Ok(Location::Path(state.config().feeds.join(relative)))
}

/// Refuses a URL whose host and port the allow-list does not hold, saying why.
pub fn check_url(allow: &[String], url: &str) -> Result<(), String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("not an http:// or https:// URL".into());
    }
    allowed_url(allow, url).map_err(|error| {
        error
            .places()
            .first()
            .map_or_else(|| error.detail().to_owned(), |place| place.message.clone())
    })
}

/// Refuses a URL whose host and port the allow-list does not hold.
fn allowed_url(allow: &[String], url: &str) -> Result<(), ApiError> {
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host_port,
    };
    if allow.iter().any(|allowed| {
        allowed.eq_ignore_ascii_case(host_port) || allowed.eq_ignore_ascii_case(host)
    }) && !authority.contains('@')
    {
        return Ok(());
    }
    Err(ApiError::invalid(
        "the URL's host is not on the server's allow-list",
        vec![crate::ProblemPlace {
            location: "/location".into(),
            message: format!(
                "{host_port} is not allowed: start the server with --allow-fetch {host_port} to let it fetch from there"
            ),
        }],
    ))
}

/// Runs the monitor until the process ends: matches new components, imports the feeds
/// that are due, then waits for the next round (or to be woken by "import now").
pub async fn monitor(state: AppState) {
    let owner = format!(
        "{}:{}:monitor",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "server".into()),
        std::process::id()
    );
    loop {
        if let Err(error) = state.store().match_new_components().await {
            tracing::warn!("matching new components: {error}");
        }
        // Support periods ending within a month are reported, each once.
        let now = u64::try_from(provisor_store::now_ms() / 1000).unwrap_or(0);
        let today = provisor_engine::Date::from_unix_seconds(now).to_string();
        let until =
            provisor_engine::Date::from_unix_seconds(now + SUPPORT_NOTICE_SECONDS).to_string();
        if let Err(error) = state.store().report_support_ending(&today, &until).await {
            tracing::warn!("reporting support periods ending: {error}");
        }
        state.notify_wake().notify_one();
        loop {
            match state.store().claim_due_source(&owner, LEASE_MS).await {
                Ok(Some(source)) => {
                    let _ = import(&state, &source, &owner).await;
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!("looking for due advisory feeds: {error}");
                    break;
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(state.config().monitor_poll) => {}
            () = state.monitor_wake().notified() => {}
        }
    }
}

/// Imports one feed whose lease `owner` holds, records the import and schedules the
/// next; the import's summary, or why it failed.
pub async fn import(
    state: &AppState,
    source: &AdvisorySource,
    owner: &str,
) -> Result<MatchSummary, ApiError> {
    let record = state
        .store()
        .begin_import(&source.name, &source.kind, &source.location)
        .await?;
    // What was applied before a failure stays applied, and is recorded as such.
    let mut summary = MatchSummary::default();
    let outcome = run(state, source, owner, &mut summary).await;
    let (cursor, error) = match &outcome {
        Ok(cursor) => (cursor.clone(), None),
        Err(error) => (None, Some(said(error))),
    };
    if let Some(error) = &error {
        tracing::warn!(source = %source.name, "advisory import failed: {error}");
    } else {
        tracing::info!(source = %source.name, read = summary.read, changed = summary.changed,
            new = summary.new_matches, retracted = summary.retracted, "advisories imported");
    }
    state
        .store()
        .finish_import(&record, &summary, error.as_deref())
        .await?;
    state
        .store()
        .finish_source(&source.name, owner, cursor.as_deref(), error.is_some())
        .await?;
    // What the import found is in the outbox: the sender goes now.
    state.notify_wake().notify_one();
    outcome.map(|_| summary)
}

/// An error in one line: what, and where.
fn said(error: &ApiError) -> String {
    let mut text = error.detail().to_owned();
    for place in error.places() {
        text.push_str(&format!("; {}", place.message));
    }
    text
}

/// What a feed reader hands over.
enum Message {
    Batch(Vec<Advisory>),
    Exploited(Vec<KnownExploited>),
}

/// Imports a feed, adding what each batch did to `summary` as it goes; the new
/// cursor, or why the import stopped.
async fn run(
    state: &AppState,
    source: &AdvisorySource,
    owner: &str,
    summary: &mut MatchSummary,
) -> Result<Option<String>, ApiError> {
    let kind = Kind::parse(&source.kind)
        .ok_or_else(|| ApiError::internal(format!("unknown feed kind {}", source.kind)))?;
    let location = check_location(state, &source.location)?;
    let scratch_root = state.config().data.join("tmp");
    let scratch = std::fs::create_dir_all(&scratch_root)
        .and_then(|()| tempfile::tempdir_in(&scratch_root))
        .map_err(|error| ApiError::internal(format!("{}: {error}", scratch_root.display())))?;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Message>(2);
    let allow = state.config().fetch_allow.clone();
    let cursor = source.cursor.clone();
    let scratch_path = scratch.path().to_owned();
    let reader = tokio::task::spawn_blocking(move || {
        read_feed(
            kind,
            &location,
            cursor.as_deref(),
            &allow,
            &scratch_path,
            &sender,
        )
    });
    let name = kind.name();
    let mut listed: HashSet<String> = HashSet::new();
    let mut applying: Result<(), ApiError> = Ok(());
    while let Some(message) = receiver.recv().await {
        if applying.is_err() {
            continue;
        }
        let applied = match message {
            Message::Batch(batch) => {
                if kind == Kind::Debian {
                    listed.extend(batch.iter().map(|advisory| advisory.id.clone()));
                }
                state.store().apply_advisories(name, &batch).await
            }
            Message::Exploited(entries) => {
                let read = entries.len() as u64;
                state
                    .store()
                    .set_known_exploited(&entries)
                    .await
                    .map(|added| MatchSummary {
                        read,
                        changed: added.len() as u64,
                        ..MatchSummary::default()
                    })
            }
        };
        match applied {
            Ok(batch) => summary.add(batch),
            Err(error) => applying = Err(error.into()),
        }
        // The lease is renewed as the import goes; a lost lease ends it.
        match state
            .store()
            .renew_source_lease(&source.name, owner, LEASE_MS)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                applying = Err(ApiError::conflict(format!(
                    "the lease on feed {} was lost to another server process",
                    source.name
                )))
            }
            Err(error) => applying = Err(error.into()),
        }
        if applying.is_err() {
            receiver.close();
        }
    }
    let read = reader
        .await
        .map_err(|error| ApiError::internal(format!("the feed reader stopped: {error}")))?;
    applying?;
    let new_cursor = read.map_err(|error| {
        ApiError::invalid(
            "the feed could not be read",
            vec![crate::ProblemPlace {
                location: "/location".into(),
                message: error,
            }],
        )
    })?;
    if kind == Kind::Debian {
        // The tracker is a whole snapshot: what it no longer lists is withdrawn.
        summary.add(state.store().withdraw_unlisted(name, &listed).await?);
    }
    drop(scratch);
    Ok(new_cursor)
}

/// Reads a feed on a blocking thread and sends it in batches; the new cursor (OSV's
/// newest change) or why the read failed.
fn read_feed(
    kind: Kind,
    location: &Location,
    cursor: Option<&str>,
    allow: &[String],
    scratch: &Path,
    sender: &tokio::sync::mpsc::Sender<Message>,
) -> Result<Option<String>, String> {
    let mut batch: Vec<Advisory> = Vec::with_capacity(provisor_store::MONITORING_BATCH);
    let mut send = |advisory: Advisory| -> Result<(), String> {
        batch.push(advisory);
        if batch.len() >= provisor_store::MONITORING_BATCH {
            sender
                .blocking_send(Message::Batch(std::mem::take(&mut batch)))
                .map_err(|_| "the import was stopped".to_owned())?;
        }
        Ok(())
    };
    let fetch = |url: &str, name: &str| -> Result<PathBuf, String> {
        let path = scratch.join(name);
        download(allow, url, &path)?;
        Ok(path)
    };
    let shown = |error: FeedError| error.to_string();
    let mut new_cursor = None;
    match (kind, location) {
        (Kind::Kev, location) => {
            let path = match location {
                Location::Path(path) => path.clone(),
                Location::Url(url) => fetch(url, "kev.json")?,
            };
            let entries = feeds::kev::read(&path).map_err(shown)?;
            let entries = entries
                .into_iter()
                .map(|entry| KnownExploited {
                    ransomware: entry.known_ransomware_campaign_use == "Known",
                    vulnerability: entry.cve_id,
                    date_added: entry.date_added,
                    name: entry.vulnerability_name,
                    due_date: entry.due_date,
                })
                .collect();
            sender
                .blocking_send(Message::Exploited(entries))
                .map_err(|_| "the import was stopped".to_owned())?;
        }
        (Kind::Osv, Location::Url(url)) if url.ends_with('/') => {
            let listing = fetch(&format!("{url}modified_id.csv"), "modified_id.csv")?;
            let text = read_listing(&listing)?;
            let changed = feeds::osv::changed_since(&listing, &text, cursor).map_err(shown)?;
            new_cursor = changed.first().map(|newest| newest.modified.clone());
            if cursor.is_none() || changed.len() > MAX_CHANGED_FETCHES {
                let archive = fetch(&format!("{url}all.zip"), "all.zip")?;
                feeds::osv::read_zip(&archive, &mut send).map_err(shown)?;
            } else {
                for (at, record) in changed.iter().enumerate() {
                    let path = fetch(&format!("{url}{}.json", record.id), &format!("{at}.json"))?;
                    feeds::osv::read(&path, &mut send).map_err(shown)?;
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        (Kind::Osv, Location::Path(root)) if root.join("modified_id.csv").is_file() => {
            let listing = root.join("modified_id.csv");
            let text = read_listing(&listing)?;
            let changed = feeds::osv::changed_since(&listing, &text, cursor).map_err(shown)?;
            new_cursor = changed.first().map(|newest| newest.modified.clone());
            if cursor.is_none() && root.join("all.zip").is_file() {
                feeds::osv::read_zip(&root.join("all.zip"), &mut send).map_err(shown)?;
            } else {
                for record in &changed {
                    let path = feeds::osv::record_path(root, record);
                    feeds::osv::read(&path, &mut send).map_err(shown)?;
                }
            }
        }
        (kind, location) => {
            let path = match location {
                Location::Path(path) => path.clone(),
                Location::Url(url) => fetch(url, "feed")?,
            };
            match kind {
                Kind::Osv => feeds::osv::read(&path, &mut send),
                Kind::Debian => feeds::debian::read(&path, &mut send),
                _ => feeds::nvd::read(&path, &mut send),
            }
            .map_err(shown)?;
        }
    }
    if !batch.is_empty() {
        sender
            .blocking_send(Message::Batch(batch))
            .map_err(|_| "the import was stopped".to_owned())?;
    }
    Ok(new_cursor)
}

/// The text of a `modified_id.csv`, bounded.
fn read_listing(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(1 << 30).read_to_string(&mut text))
        .map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(text)
}

/// Fetches an allow-listed URL into a file: no redirect followed, bounded in time and
/// size, written beside and renamed when whole.
pub fn download(allow: &[String], url: &str, path: &Path) -> Result<(), String> {
    allowed_url(allow, url)
        .map_err(|_| format!("{url}: its host is not on the allow-list (--allow-fetch)"))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(DOWNLOAD_TIME))
        .build()
        .into();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|error| format!("{url}: {error}"))?;
    let status = response.status();
    if status.is_redirection() {
        let target = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("elsewhere");
        return Err(format!(
            "{url}: the server redirects to {target}, which is not followed: configure the final URL (and allow its host)"
        ));
    }
    if !status.is_success() {
        return Err(format!("{url}: the server answered {status}"));
    }
    let partial = path.with_extension("partial");
    let mut file = std::fs::File::create(&partial)
        .map_err(|error| format!("{}: {error}", partial.display()))?;
    let copied = std::io::copy(
        &mut response
            .body_mut()
            .with_config()
            .limit(MAX_DOWNLOAD)
            .reader(),
        &mut file,
    );
    if let Err(error) = copied.and_then(|_| file.flush()) {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("{url}: {error}"));
    }
    std::fs::rename(&partial, path).map_err(|error| format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allow_listed_hosts_and_ports_are_fetched() {
        let allow = vec![
            "osv-vulnerabilities.storage.googleapis.com".to_owned(),
            "127.0.0.1:8080".to_owned(),
        ];
        for url in [
            "https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip",
            "https://osv-vulnerabilities.storage.googleapis.com:443/x",
            "http://127.0.0.1:8080/feed.json",
        ] {
            assert!(allowed_url(&allow, url).is_ok(), "{url}");
        }
        for url in [
            "http://127.0.0.1:8081/feed.json",
            "http://127.0.0.1/feed.json",
            "https://osv-vulnerabilities.storage.googleapis.com.example.org/x",
            "https://user@osv-vulnerabilities.storage.googleapis.com/x",
            "https://example.org/?osv-vulnerabilities.storage.googleapis.com",
        ] {
            assert!(allowed_url(&allow, url).is_err(), "{url}");
        }
    }
}
