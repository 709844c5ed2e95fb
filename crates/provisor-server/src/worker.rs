//! The worker: takes jobs from a [`Queue`] and runs them (a firmware image scanned, a
//! host scanned), renewing its lease at a third of it while it works, and completes
//! them: the findings attach to the assessment the job names exactly as `provisor scan
//! … --assessment` attaches them (a `scans/…json` file and a `[[scan]]` entry), as the
//! assessment's next revision, in the same transaction that marks the job done and only
//! while the worker's claim is current (fencing). The queue is the database itself
//! ([`StoreQueue`], the workers `provisor serve` starts as processes of its own binary)
//! or the server's API (`provisor worker --server URL` on another machine, which needs
//! no database credentials): the same loop runs both. A worker that loses its lease
//! stops its job at once; a host scan's connections are dropped with it.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use provisor_engine::FindingsFile;
use provisor_store::{Claim, Fence, FileRecord, Job, JobWakeups, StoreError};
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
    /// The server's API refused a call (a remote worker).
    #[error("{0}")]
    Server(String),
    /// The server could not be reached or failed (a remote worker), after its retries:
    /// the worker goes on, and a job whose result was not delivered runs again when its
    /// lease runs out.
    #[error("{0}")]
    Unavailable(String),
    /// A job ran past its time; the worker process must end to stop it.
    #[error("job {job} ran longer than {limit:?} and was given up")]
    Timeout {
        /// The job.
        job: String,
        /// The limit.
        limit: Duration,
    },
}

/// A firmware image to scan, as a file: the blob itself, or a download kept until the
/// scan ends.
pub struct Image {
    /// Where it is.
    pub path: PathBuf,
    /// The download, removed when the image is dropped.
    pub download: Option<tempfile::TempPath>,
}

/// How a job ended, as a worker reports it.
pub enum Outcome<'a> {
    /// Its findings, to be stored and attached.
    Findings(&'a FindingsFile),
    /// Why it failed (retried while attempts remain).
    Failed(&'a str),
}

/// Where a worker's jobs come from and where their results go: the database
/// ([`StoreQueue`]) or the server's API (the remote worker of `provisor worker --server`).
/// Every call after the claim carries the claim's worker and lock version.
pub trait Queue: Send + Sync + 'static {
    /// Claims the next job this worker may run, if any, for `lease_ms`.
    fn claim(
        &self,
        worker: &str,
        lease_ms: i64,
    ) -> impl Future<Output = Result<Option<Job>, WorkerError>> + Send;

    /// Renews the claim and records the progress; `false` when the claim is no longer
    /// current (the job must stop at once).
    fn heartbeat(
        &self,
        job: &Job,
        lease_ms: i64,
        progress: &str,
    ) -> impl Future<Output = Result<bool, WorkerError>> + Send;

    /// The firmware image of a firmware scan.
    fn image(&self, job: &Job) -> impl Future<Output = Result<Image, ApiError>> + Send;

    /// The advisory database components are matched against, if one was uploaded.
    fn advisories(
        &self,
    ) -> impl Future<Output = Result<Option<Arc<provisor_advisories::Database>>, ApiError>> + Send;

    /// Completes the claim: the result saved (and the findings attached) or the failure
    /// recorded. `Ok(None)` when the claim was no longer current and nothing was saved.
    fn complete(
        &self,
        job: &Job,
        lease_ms: i64,
        outcome: Outcome<'_>,
    ) -> impl Future<Output = Result<Option<Value>, WorkerError>> + Send;

    /// Waits until a job may be waiting: a wake-up, or `poll`.
    fn wait(&self, poll: Duration) -> impl Future<Output = ()> + Send;
}

/// The queue in the database, for the server's own workers.
pub struct StoreQueue {
    state: AppState,
    wakeups: tokio::sync::Mutex<JobWakeups>,
}

impl StoreQueue {
    /// The queue of a server's store (on PostgreSQL, listening for wake-ups).
    pub async fn new(state: AppState) -> StoreQueue {
        let wakeups = tokio::sync::Mutex::new(state.store().job_wakeups().await);
        StoreQueue { state, wakeups }
    }
}

impl Queue for StoreQueue {
    async fn claim(&self, worker: &str, lease_ms: i64) -> Result<Option<Job>, WorkerError> {
        let claim = Claim {
            worker,
            kinds: KINDS,
            lease_ms,
            scheduled_in_flight: SCHEDULED_IN_FLIGHT,
        };
        Ok(self.state.store().claim(&claim).await?)
    }

    async fn heartbeat(
        &self,
        job: &Job,
        lease_ms: i64,
        progress: &str,
    ) -> Result<bool, WorkerError> {
        let worker = job.lease_owner.as_deref().unwrap_or_default();
        Ok(self
            .state
            .store()
            .heartbeat(worker, &job.id, job.lock_version, lease_ms, progress)
            .await?)
    }

    async fn image(&self, job: &Job) -> Result<Image, ApiError> {
        let sha256 = text(&job.payload, "sha256")?;
        let path = self
            .state
            .store()
            .blobs()
            .local_file(&job.organisation_id, &sha256)
            .await?;
        Ok(Image {
            path,
            download: None,
        })
    }

    async fn advisories(&self) -> Result<Option<Arc<provisor_advisories::Database>>, ApiError> {
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || crate::advisories::load(&state))
            .await
            .map_err(ApiError::internal)?
    }

    async fn complete(
        &self,
        job: &Job,
        lease_ms: i64,
        outcome: Outcome<'_>,
    ) -> Result<Option<Value>, WorkerError> {
        complete(&self.state, job, lease_ms, outcome).await
    }

    async fn wait(&self, poll: Duration) {
        self.wakeups.lock().await.wait(poll).await;
    }
}

/// Completes a claim on the server's side (the server's own workers, and the API's
/// completion for remote ones). `Ok(None)` when the claim is no longer current.
pub async fn complete(
    state: &AppState,
    job: &Job,
    lease_ms: i64,
    outcome: Outcome<'_>,
) -> Result<Option<Value>, WorkerError> {
    let fence = fence_of(job);
    match outcome {
        Outcome::Findings(findings) => match deliver(state, job, lease_ms, findings).await {
            Ok(result) => Ok(Some(result)),
            Err(Delivery::LeaseLost) => Ok(None),
            Err(Delivery::Failed(error)) => {
                // The findings could not be attached (the assessment no longer parses,
                // kept changing): the job fails with why, and is retried.
                let reason = error.problem().detail;
                let finished = state
                    .store()
                    .finish_job(fence.worker, fence.job, fence.lock_version, Err(&reason))
                    .await?;
                Ok(finished.then(|| json!({"error": reason})))
            }
        },
        Outcome::Failed(reason) => {
            let finished = state
                .store()
                .finish_job(fence.worker, fence.job, fence.lock_version, Err(reason))
                .await?;
            Ok(finished.then(|| json!({"error": reason})))
        }
    }
}

fn fence_of(job: &Job) -> Fence<'_> {
    Fence {
        worker: job.lease_owner.as_deref().unwrap_or_default(),
        job: &job.id,
        lock_version: job.lock_version,
    }
}

/// Runs jobs from `queue` until `stop` says so (checked between jobs), or until the
/// queue is empty with `until_empty`. Returns how many jobs it finished.
pub async fn work<Q: Queue>(
    queue: Arc<Q>,
    options: WorkerOptions,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<usize, WorkerError> {
    let mut finished = 0;
    let lease_ms = i64::try_from(options.lease.as_millis()).unwrap_or(60_000);
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let claimed = match queue.claim(&options.id, lease_ms).await {
            Err(WorkerError::Unavailable(reason)) => {
                tracing::warn!("{reason}; looking again at the next poll");
                None
            }
            other => other?,
        };
        let Some(mut job) = claimed else {
            if options.until_empty {
                break;
            }
            queue.wait(jittered(options.poll)).await;
            continue;
        };
        job.lease_owner = Some(options.id.clone());
        tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, "job started");
        let progress = Arc::new(Mutex::new(String::from("started")));
        // Turned true when the lease is lost: a host scan drops its connections at once.
        let (halt, halted) = tokio::sync::watch::channel(false);
        let mut running = tokio::spawn(execute(
            queue.clone(),
            job.clone(),
            progress.clone(),
            halted,
        ));
        // The job's kind sets its time; the worker's option caps it.
        let limit = Duration::from_millis(u64::try_from(job.timeout_ms).unwrap_or(0))
            .min(options.job_timeout);
        let deadline = tokio::time::Instant::now() + limit;
        let ended = loop {
            tokio::select! {
                result = &mut running => break Some(result),
                () = tokio::time::sleep(options.lease / 3) => {
                    let said = progress.lock().map(|text| text.clone()).unwrap_or_default();
                    if !queue.heartbeat(&job, lease_ms, &said).await? {
                        tracing::warn!(job = %job.id, "the lease was lost; another worker has the job");
                        let _ = halt.send(true);
                        running.abort();
                        break None;
                    }
                    if tokio::time::Instant::now() > deadline {
                        let _ = halt.send(true);
                        break None;
                    }
                }
            }
        };
        let failure = match &ended {
            Some(Ok(Ok(_))) => None,
            Some(Ok(Err(error))) => Some(error.problem().detail),
            Some(Err(panic)) => Some(format!("the scan crashed: {panic}")),
            None if tokio::time::Instant::now() > deadline => {
                Some(format!("the scan ran longer than {limit:?}"))
            }
            None => None,
        };
        let outcome = match (&ended, &failure) {
            (Some(Ok(Ok(findings))), _) => Some(Outcome::Findings(findings)),
            (_, Some(reason)) => Some(Outcome::Failed(reason)),
            _ => None,
        };
        if let Some(outcome) = outcome {
            match queue.complete(&job, lease_ms, outcome).await {
                Err(WorkerError::Unavailable(reason)) => tracing::warn!(
                    job = %job.id,
                    "the result was not delivered ({reason}); the job runs again when its lease runs out"
                ),
                Err(error) => return Err(error),
                Ok(Some(_)) if failure.is_none() => tracing::info!(job = %job.id, "job done"),
                Ok(Some(_)) => {
                    tracing::warn!(job = %job.id, "job failed: {}", failure.as_deref().unwrap_or_default())
                }
                Ok(None) => {
                    tracing::warn!(job = %job.id, "the lease was lost before the result was saved; another worker has the job")
                }
            }
        }
        if ended.is_none() && tokio::time::Instant::now() > deadline {
            return Err(WorkerError::Timeout { job: job.id, limit });
        }
        finished += 1;
    }
    Ok(finished)
}

/// Runs jobs from the database until `stop` says so (checked between jobs), or until
/// the queue is empty with `until_empty`. Returns how many jobs it finished.
pub async fn run_worker(
    state: AppState,
    options: WorkerOptions,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<usize, WorkerError> {
    work(Arc::new(StoreQueue::new(state).await), options, stop).await
}

/// `poll` varied at random by up to a quarter either way.
fn jittered(poll: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    // 0.75 to 1.25 times the poll.
    poll.mul_f64(0.75 + f64::from(byte[0]) / 510.0)
}

/// Runs a claimed job (`job` as the claim returned it, with its lock version) from the
/// database and completes it: the result, or a conflict when the claim was no longer
/// current and nothing was saved.
pub async fn run_job(
    state: AppState,
    job: Job,
    lease_ms: i64,
    progress: Arc<Mutex<String>>,
) -> Result<Value, ApiError> {
    let queue = Arc::new(StoreQueue::new(state.clone()).await);
    let (_halt, halted) = tokio::sync::watch::channel(false);
    let findings = execute(queue, job.clone(), progress, halted).await?;
    complete(&state, &job, lease_ms, Outcome::Findings(&findings))
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "the lease on job {} was lost (another worker has it): its findings are not attached",
                job.id
            ))
        })
}

/// Runs a job's work (a scan) and returns its findings.
pub async fn execute<Q: Queue>(
    queue: Arc<Q>,
    job: Job,
    progress: Arc<Mutex<String>>,
    halted: tokio::sync::watch::Receiver<bool>,
) -> Result<FindingsFile, ApiError> {
    match job.kind.as_str() {
        "scan-firmware" => scan_firmware(queue.as_ref(), &job, progress).await,
        "scan-host" => scan_host(&job, progress, halted).await,
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

async fn scan_firmware<Q: Queue>(
    queue: &Q,
    job: &Job,
    progress: Arc<Mutex<String>>,
) -> Result<FindingsFile, ApiError> {
    say(&progress, "fetching the image".into());
    let image = queue.image(job).await?;
    let advisories = queue.advisories().await?;
    let reporter = progress.clone();
    let options = provisor_firmware::ScanOptions {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        advisories,
        progress: Some(Arc::new(move |stage: &str, done: usize, total: usize| {
            say(&reporter, format!("{stage} {done}/{total}"));
        })),
        ..Default::default()
    };
    tokio::task::spawn_blocking(move || {
        let scanned = provisor_firmware::scan(&image.path, &options);
        drop(image);
        scanned
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|error| ApiError::invalid(format!("the image cannot be scanned: {error}"), Vec::new()))
}

async fn scan_host(
    job: &Job,
    progress: Arc<Mutex<String>>,
    halted: tokio::sync::watch::Receiver<bool>,
) -> Result<FindingsFile, ApiError> {
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
    tokio::task::spawn_blocking(move || {
        provisor_net::scan_host_blocking_until(&target, &options, halted)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|error| ApiError::invalid(format!("the host cannot be scanned: {error}"), Vec::new()))
}

/// The name of a job's findings file in the assessment (`scans/firmware-….json`).
fn scan_name(job: &Job) -> String {
    match job.kind.as_str() {
        "scan-host" => format!(
            "host-{}",
            job.payload["target"].as_str().unwrap_or("unknown")
        ),
        _ => {
            let name = job.payload["name"].as_str().unwrap_or("image");
            let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
            format!("firmware-{stem}")
        }
    }
}

/// Why findings were not delivered.
enum Delivery {
    /// The claim is no longer current: nothing was saved.
    LeaseLost,
    /// They could not be attached.
    Failed(ApiError),
}

impl From<ApiError> for Delivery {
    fn from(error: ApiError) -> Delivery {
        Delivery::Failed(error)
    }
}

impl From<StoreError> for Delivery {
    fn from(error: StoreError) -> Delivery {
        match error {
            StoreError::LeaseLost(_) => Delivery::LeaseLost,
            other => Delivery::Failed(other.into()),
        }
    }
}

/// Stores the findings and marks the job done with them, attached to the job's
/// assessment if it names one: the revision and the job's end are one transaction,
/// which holds only while the claim is current.
async fn deliver(
    state: &AppState,
    job: &Job,
    lease_ms: i64,
    findings: &FindingsFile,
) -> Result<Value, Delivery> {
    let fence = fence_of(job);
    // The claim is renewed (and so checked) first: the attaching may take a while.
    let current = state
        .store()
        .heartbeat(
            fence.worker,
            &job.id,
            job.lock_version,
            lease_ms,
            "storing the findings",
        )
        .await?;
    if !current {
        return Err(Delivery::LeaseLost);
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
    let sbom = release_sbom(job, findings);
    if let Some(assessment) = job.payload["assessment"].as_str() {
        let relative = provisor_engine::scan_file_path(&scan_name(job));
        attach(
            state,
            job,
            assessment,
            &relative,
            &blob,
            &mut result,
            sbom.as_ref(),
        )
        .await?;
    } else if !state
        .store()
        .finish_job_with_sbom(&fence, &result, sbom.as_ref())
        .await?
    {
        return Err(Delivery::LeaseLost);
    }
    if sbom.is_some() {
        // The new components are matched against the advisories at once; should this
        // fail, the monitor matches them at its next round.
        if let Err(error) = state.store().match_new_components().await {
            tracing::warn!(job = %job.id, "matching the release's components: {error}");
        }
    }
    Ok(result)
}

/// The SBOM a release's firmware scan found: its components that have a version (only
/// those can be matched), when the job scanned a release's image.
fn release_sbom(job: &Job, findings: &FindingsFile) -> Option<provisor_store::ReleaseSbom> {
    if job.kind != "scan-firmware" {
        return None;
    }
    let release = job.payload["release"].as_str()?;
    Some(provisor_store::ReleaseSbom {
        release_id: release.to_owned(),
        job_id: job.id.clone(),
        firmware_sha256: job.payload["sha256"].as_str().map(str::to_owned),
        components: findings
            .components
            .iter()
            .filter_map(|component| {
                Some(provisor_store::SbomComponent {
                    name: component.name.clone(),
                    version: component.version.clone()?,
                    purl: component.purl.clone(),
                    cpe: component.cpe.clone(),
                    source_package: component.source_package.clone(),
                })
            })
            .collect(),
    })
}

/// Adds the findings file and its `[[scan]]` entry to an assessment as its next
/// revision, which also ends the job with `result` (completed with where they were
/// attached); a revision made meanwhile by someone else is read again and the scan
/// added to it (adding a scan commutes with any other change).
async fn attach(
    state: &AppState,
    job: &Job,
    assessment: &str,
    relative: &str,
    blob: &provisor_store::StoredBlob,
    result: &mut Value,
    sbom: Option<&provisor_store::ReleaseSbom>,
) -> Result<(), Delivery> {
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
        let revision = record.current_revision + 1;
        result["attached"] =
            json!({"assessment": assessment, "revision": revision, "file": relative});
        match state
            .store()
            .add_revision_finishing(
                assessment,
                record.current_revision,
                &tree,
                &fence_of(job),
                result,
                sbom,
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(Delivery::Failed(ApiError::conflict(format!(
        "assessment {assessment} kept changing; the findings are kept with the job"
    ))))
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
