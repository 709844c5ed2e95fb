//! The worker: takes jobs from the queue in the database and runs them (a firmware
//! image scanned, a host scanned), renewing its lease while it works, and attaches the
//! findings to the assessment the job names exactly as `provisor scan … --assessment`
//! does (a `scans/…json` file and a `[[scan]]` entry), as the assessment's next
//! revision. `provisor serve` starts workers as processes of its own binary and
//! restarts them, so a scan's memory or a crash never takes the server down; a worker
//! needs only the database and the blob directory, so workers on other machines can
//! share the queue.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use provisor_store::{Actor, Claim, FileRecord, Job, StoreError};
use serde_json::{Value, json};

use crate::judge::judge;
use crate::{ApiError, AppState};

/// The job kinds a worker runs.
pub const KINDS: &[&str] = &["scan-firmware", "scan-host"];

/// How long a job of a kind may run: a firmware scan an hour, a host scan (its
/// credential and brute-force tests are slow by design) two.
pub fn timeout_ms(kind: &str) -> i64 {
    match kind {
        "scan-host" => 7_200_000,
        _ => 3_600_000,
    }
}

/// How many scheduled jobs (re-analyses, imports) run at once across all workers, so
/// that a person's request never waits behind a schedule.
pub const SCHEDULED_IN_FLIGHT: i64 = 4;

/// How a worker works.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Its id in the queue (`hostname:pid`).
    pub id: String,
    /// How long a lease lasts without a heartbeat.
    pub lease: Duration,
    /// How long one job may run.
    pub job_timeout: Duration,
    /// Stop when the queue is empty (tests, one-shot runs) instead of waiting.
    pub until_empty: bool,
    /// How often an idle worker looks for jobs (varied by a quarter either way, so that
    /// many workers do not poll in step); on PostgreSQL a queued job wakes it sooner.
    pub poll: Duration,
}

impl WorkerOptions {
    /// The defaults for a worker with an id: a 60 s lease, an hour per job.
    pub fn new(id: &str) -> WorkerOptions {
        WorkerOptions {
            id: id.to_owned(),
            lease: Duration::from_secs(60),
            job_timeout: Duration::from_secs(3600),
            until_empty: false,
            poll: Duration::from_secs(1),
        }
    }
}

/// Why a worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A job ran past its time; the worker process must end to stop it.
    #[error("job {job} ran longer than {limit:?} and was given up")]
    Timeout {
        /// The job.
        job: String,
        /// The limit.
        limit: Duration,
    },
}

/// Runs jobs until `stop` says so (checked between jobs), or until the queue is empty
/// with `until_empty`. Returns how many jobs it finished.
pub async fn run_worker(
    state: AppState,
    options: WorkerOptions,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<usize, WorkerError> {
    let mut finished = 0;
    let lease_ms = i64::try_from(options.lease.as_millis()).unwrap_or(60_000);
    let mut wakeups = state.store().job_wakeups().await;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let claim = Claim {
            worker: &options.id,
            kinds: KINDS,
            lease_ms,
            scheduled_in_flight: SCHEDULED_IN_FLIGHT,
        };
        let Some(job) = state.store().claim(&claim).await? else {
            if options.until_empty {
                break;
            }
            wakeups.wait(jittered(options.poll)).await;
            continue;
        };
        tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, "job started");
        let progress = Arc::new(Mutex::new(String::from("started")));
        let work = tokio::spawn(run_job(
            state.clone(),
            job.clone(),
            lease_ms,
            progress.clone(),
        ));
        // The job's kind sets its time; the worker's option caps it.
        let limit = Duration::from_millis(u64::try_from(job.timeout_ms).unwrap_or(0))
            .min(options.job_timeout);
        let deadline = tokio::time::Instant::now() + limit;
        let mut work = work;
        let outcome = loop {
            tokio::select! {
                result = &mut work => break Some(result),
                () = tokio::time::sleep(options.lease / 3) => {
                    let said = progress.lock().map(|text| text.clone()).unwrap_or_default();
                    if !state.store().heartbeat(&options.id, &job.id, job.lock_version, lease_ms, &said).await? {
                        tracing::warn!(job = %job.id, "the lease was lost; another worker has the job");
                        work.abort();
                        break None;
                    }
                    if tokio::time::Instant::now() > deadline {
                        break None;
                    }
                }
            }
        };
        match outcome {
            Some(Ok(Ok(result))) => {
                state
                    .store()
                    .finish_job(&options.id, &job.id, job.lock_version, Ok(&result))
                    .await?;
                tracing::info!(job = %job.id, "job done");
            }
            Some(Ok(Err(error))) => {
                let reason = error.problem().detail;
                state
                    .store()
                    .finish_job(&options.id, &job.id, job.lock_version, Err(&reason))
                    .await?;
                tracing::warn!(job = %job.id, "job failed: {reason}");
            }
            Some(Err(panic)) => {
                let reason = format!("the scan crashed: {panic}");
                state
                    .store()
                    .finish_job(&options.id, &job.id, job.lock_version, Err(&reason))
                    .await?;
                tracing::warn!(job = %job.id, "{reason}");
            }
            None if tokio::time::Instant::now() > deadline => {
                let reason = format!("the scan ran longer than {limit:?}");
                state
                    .store()
                    .finish_job(&options.id, &job.id, job.lock_version, Err(&reason))
                    .await?;
                return Err(WorkerError::Timeout { job: job.id, limit });
            }
            None => {}
        }
        finished += 1;
    }
    Ok(finished)
}

/// `poll` varied at random by up to a quarter either way.
fn jittered(poll: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    // 0.75 to 1.25 times the poll.
    poll.mul_f64(0.75 + f64::from(byte[0]) / 510.0)
}

/// Runs a claimed job (`job` as the claim returned it, with its lock version) and
/// saves its result. Before the findings are attached the claim is renewed for
/// `lease_ms`, which also checks that it is still current: a worker whose lease was
/// taken back attaches nothing (and no one else can take the job while it attaches).
pub async fn run_job(
    state: AppState,
    job: Job,
    lease_ms: i64,
    progress: Arc<Mutex<String>>,
) -> Result<Value, ApiError> {
    match job.kind.as_str() {
        "scan-firmware" => scan_firmware(state, job, lease_ms, progress).await,
        "scan-host" => scan_host(state, job, lease_ms, progress).await,
        other => Err(ApiError::bad_request(format!(
            "unknown kind of job \"{other}\""
        ))),
    }
}

fn text(payload: &Value, field: &str) -> Result<String, ApiError> {
    payload[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request(format!("the job lacks its {field}")))
}

fn say(progress: &Mutex<String>, what: String) {
    if let Ok(mut text) = progress.lock() {
        *text = what;
    }
}

async fn scan_firmware(
    state: AppState,
    job: Job,
    lease_ms: i64,
    progress: Arc<Mutex<String>>,
) -> Result<Value, ApiError> {
    let sha256 = text(&job.payload, "sha256")?;
    let name = text(&job.payload, "name")?;
    let path = state.store().blobs().path(&job.organisation_id, &sha256)?;
    let reporter = progress.clone();
    let advisories = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || crate::advisories::load(&state))
            .await
            .map_err(ApiError::internal)??
    };
    let options = provisor_firmware::ScanOptions {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        advisories,
        progress: Some(Arc::new(move |stage: &str, done: usize, total: usize| {
            say(&reporter, format!("{stage} {done}/{total}"));
        })),
        ..Default::default()
    };
    let findings = tokio::task::spawn_blocking(move || provisor_firmware::scan(&path, &options))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| {
            ApiError::invalid(format!("the image cannot be scanned: {error}"), Vec::new())
        })?;
    let stem = name
        .rsplit_once('.')
        .map_or(name.as_str(), |(stem, _)| stem)
        .to_owned();
    deliver(
        &state,
        &job,
        lease_ms,
        &format!("firmware-{stem}"),
        &findings,
        &progress,
    )
    .await
}

async fn scan_host(
    state: AppState,
    job: Job,
    lease_ms: i64,
    progress: Arc<Mutex<String>>,
) -> Result<Value, ApiError> {
    let target = text(&job.payload, "target")?;
    let ports = provisor_net::PortSpec::parse(job.payload["ports"].as_str().unwrap_or("top"))
        .map_err(|error| ApiError::invalid(error.to_string(), Vec::new()))?;
    let reporter = progress.clone();
    let options = provisor_net::HostOptions {
        ports,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        // An admin allowed this target (recorded with who and when): that is the
        // authorisation to try credentials on it.
        authorised: true,
        progress: Some(Arc::new(move |stage: &str, done: usize, total: usize| {
            say(&reporter, format!("{stage} {done}/{total}"));
        })),
        ..Default::default()
    };
    let host = target.clone();
    let findings =
        tokio::task::spawn_blocking(move || provisor_net::scan_host_blocking(&host, &options))
            .await
            .map_err(ApiError::internal)?
            .map_err(|error| {
                ApiError::invalid(format!("the host cannot be scanned: {error}"), Vec::new())
            })?;
    deliver(
        &state,
        &job,
        lease_ms,
        &format!("host-{target}"),
        &findings,
        &progress,
    )
    .await
}

/// Stores the findings and attaches them to the job's assessment, if it names one.
async fn deliver(
    state: &AppState,
    job: &Job,
    lease_ms: i64,
    name: &str,
    findings: &provisor_engine::FindingsFile,
    progress: &Mutex<String>,
) -> Result<Value, ApiError> {
    say(progress, "storing the findings".into());
    let worker = job.lease_owner.as_deref().unwrap_or_default();
    let current = state
        .store()
        .heartbeat(
            worker,
            &job.id,
            job.lock_version,
            lease_ms,
            "storing the findings",
        )
        .await?;
    if !current {
        return Err(ApiError::conflict(format!(
            "the lease on job {} was lost (another worker has it): its findings are not attached",
            job.id
        )));
    }
    let text = provisor_report::findings_json(findings);
    let blob = state
        .store()
        .blobs()
        .put(&job.organisation_id, text.as_bytes())
        .await?;
    let count = |outcome: provisor_engine::Outcome| {
        findings
            .findings
            .iter()
            .filter(|finding| finding.outcome == outcome)
            .count()
    };
    let mut result = json!({
        "findings": {"sha256": blob.sha256, "size": blob.size},
        "fail": count(provisor_engine::Outcome::Fail),
        "pass": count(provisor_engine::Outcome::Pass),
        "info": count(provisor_engine::Outcome::Info),
        "inconclusive": count(provisor_engine::Outcome::Inconclusive),
    });
    if let Some(assessment) = job.payload["assessment"].as_str() {
        let relative = provisor_engine::scan_file_path(name);
        let revision = attach(state, job, assessment, &relative, &blob).await?;
        result["attached"] =
            json!({"assessment": assessment, "revision": revision, "file": relative});
    }
    Ok(result)
}

/// Adds the findings file and its `[[scan]]` entry to an assessment as its next
/// revision; a revision made meanwhile by someone else is read again and the scan added
/// to it (adding a scan commutes with any other change).
async fn attach(
    state: &AppState,
    job: &Job,
    assessment: &str,
    relative: &str,
    blob: &provisor_store::StoredBlob,
) -> Result<i64, ApiError> {
    for _ in 0..5 {
        let record = state.store().assessment(assessment).await?;
        let mut files = state
            .store()
            .files(assessment, record.current_revision)
            .await?;
        let main = files
            .iter()
            .find(|file| file.path == record.main_file)
            .cloned()
            .ok_or_else(|| ApiError::internal("the assessment's revision lacks its file"))?;
        let source = state
            .store()
            .blobs()
            .read(&record.organisation_id, &main.sha256)
            .await?;
        let source = String::from_utf8(source).map_err(ApiError::internal)?;
        let updated = provisor_engine::with_scan_entry(&source, &record.main_file, relative)
            .map_err(|error| {
                ApiError::invalid(
                    "the assessment no longer parses",
                    crate::judge::places(&[error]),
                )
            })?;
        files.retain(|file| file.path != relative);
        files.push(FileRecord {
            path: relative.to_owned(),
            role: "scan".into(),
            sha256: blob.sha256.clone(),
            size: blob.size as i64,
        });
        if let Some(text) = updated {
            let stored = state
                .store()
                .blobs()
                .put(&record.organisation_id, text.as_bytes())
                .await?;
            for file in &mut files {
                if file.path == record.main_file {
                    file.sha256 = stored.sha256.clone();
                    file.size = stored.size as i64;
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let judged = judge(state, &record.organisation_id, &record.main_file, &files).await?;
        let tree = crate::api::assessments::tree(
            &judged,
            &record.main_file,
            files,
            format!("scan result of job {} ({})", job.id, job.created_by),
        );
        match state
            .store()
            .add_revision(&Actor::Server, assessment, record.current_revision, &tree)
            .await
        {
            Ok(record) => return Ok(record.current_revision),
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::conflict(format!(
        "assessment {assessment} kept changing; the findings are kept with the job"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_vary_by_at_most_a_quarter_and_do_vary() {
        let poll = Duration::from_millis(1000);
        let polls: Vec<Duration> = (0..200).map(|_| jittered(poll)).collect();
        assert!(polls.iter().all(|&each| {
            (Duration::from_millis(750)..=Duration::from_millis(1250)).contains(&each)
        }));
        let distinct: std::collections::BTreeSet<Duration> = polls.into_iter().collect();
        assert!(distinct.len() > 20, "{}", distinct.len());
    }
}
