//! The job queue, in the database so that it survives a restart and so that workers on
//! other machines can share it: a job is queued, then claimed by one worker with a lease
//! it renews by heartbeats, then done, or dead with its last error once its attempts are
//! used up. Every claim raises the job's lock version, and a heartbeat or a result counts
//! only with the version of the claim (fencing): a worker whose lease ran out and was
//! taken over cannot overwrite what its successor saves. A failed attempt is retried after
//! an exponential backoff; a lease that runs out (the worker died) puts the job back at
//! once. A person's request goes before scheduled work, and scheduled work is capped in
//! flight; a device has one running job at most. Claiming is the one statement that
//! differs between the engines: PostgreSQL skips rows another worker holds (`FOR UPDATE
//! SKIP LOCKED`), SQLite has one writer at a time anyway. No transaction stays open while
//! a job runs. Job bookkeeping is operational state and is not audited; the job's
//! creation and its result are.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Actor, Engine, Store, StoreError, audit, new_id, now_ms};

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker (after `run_after`, when a failed attempt is retried).
    Queued,
    /// A worker holds it.
    Running,
    /// Finished with a result.
    Done,
    /// Given up after its attempts, with the last error.
    Dead,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    fn parse(text: &str) -> JobState {
        match text {
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" | "failed" => JobState::Dead,
            _ => JobState::Queued,
        }
    }
}

/// Who is waiting for a job: a person's request is claimed before scheduled work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// A person asked for it (an upload, a scan started from a page).
    Request,
    /// The server scheduled it (a re-analysis, an import).
    Scheduled,
}

impl Priority {
    fn rank(self) -> i64 {
        match self {
            Priority::Request => 0,
            Priority::Scheduled => 1,
        }
    }

    fn from_rank(rank: i64) -> Priority {
        if rank == 0 {
            Priority::Request
        } else {
            Priority::Scheduled
        }
    }
}

/// How long a failed attempt waits before it is claimed again: 30 s after the first,
/// doubling, at most an hour.
pub fn retry_delay_ms(attempt: i64) -> i64 {
    let doublings = attempt.saturating_sub(1).clamp(0, 20) as u32;
    30_000i64.saturating_mul(1 << doublings).min(3_600_000)
}

/// The PostgreSQL channel a queued job is announced on.
const WAKE_CHANNEL: &str = "provisor_jobs";

/// What a worker with nothing to do waits on: on PostgreSQL a `LISTEN` on the queue's
/// channel, so a queued job wakes it at once; the poll stays (a notification is a hint,
/// lost while the connection is down), and is all there is on SQLite.
pub struct JobWakeups {
    listener: Option<sqlx::postgres::PgListener>,
}

impl JobWakeups {
    /// Waits until a job is queued or `poll` has passed, whichever is first.
    pub async fn wait(&mut self, poll: std::time::Duration) {
        let Some(listener) = &mut self.listener else {
            tokio::time::sleep(poll).await;
            return;
        };
        match tokio::time::timeout(poll, listener.recv()).await {
            Ok(Ok(_)) | Err(_) => {}
            // The connection failed and did not come back: polls only from now on,
            // after this one's wait.
            Ok(Err(_)) => {
                self.listener = None;
                tokio::time::sleep(poll).await;
            }
        }
    }

    /// Whether queued jobs wake the waiter (PostgreSQL), or only the poll does.
    pub fn listening(&self) -> bool {
        self.listener.is_some()
    }
}

impl Store {
    /// Wake-ups for a worker waiting for jobs: `LISTEN` on PostgreSQL (polls only when
    /// it cannot listen), polls on SQLite.
    pub async fn job_wakeups(&self) -> JobWakeups {
        let listener = match &self.listen_url {
            Some(url) => match sqlx::postgres::PgListener::connect(url).await {
                Ok(mut listener) => listener.listen(WAKE_CHANNEL).await.ok().map(|()| listener),
                Err(_) => None,
            },
            None => None,
        };
        JobWakeups { listener }
    }
}

/// A worker's request for a job.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The worker's id (`host:pid`).
    pub worker: &'a str,
    /// The kinds of job it runs.
    pub kinds: &'a [&'a str],
    /// How long its lease lasts without a heartbeat.
    pub lease_ms: i64,
    /// How many scheduled jobs may run at once, across all workers.
    pub scheduled_in_flight: i64,
}

/// A job.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Job {
    /// The id.
    pub id: String,
    /// What to do (`scan-firmware`, `scan-host`).
    pub kind: String,
    /// The organisation it works for.
    pub organisation_id: String,
    /// What it works on (a release or an assessment).
    pub subject: String,
    /// The assessment its results attach to, if any.
    pub assessment_id: Option<String>,
    /// Its parameters.
    pub payload: Value,
    /// Where it is.
    pub state: JobState,
    /// How many times a worker took it.
    pub attempts: i64,
    /// How many times it may be taken.
    pub max_attempts: i64,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// When the lease runs out.
    pub lease_until: Option<i64>,
    /// What the worker last said.
    pub progress: String,
    /// Why it failed.
    pub error: Option<String>,
    /// What it produced.
    pub result: Option<Value>,
    /// Raised by every claim: a heartbeat or result counts only with the claim's.
    pub lock_version: i64,
    /// Who is waiting for it.
    pub priority: Priority,
    /// Not claimed before this time (a retry's backoff).
    pub run_after: i64,
    /// The device it works on, which has one running job at most.
    pub device: Option<String>,
    /// How long one attempt may run.
    pub timeout_ms: i64,
    /// Who asked for it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// When a worker last took it.
    pub started_at: Option<i64>,
    /// When it ended.
    pub finished_at: Option<i64>,
}

/// Which jobs to list.
#[derive(Debug, Clone, Copy)]
pub enum JobsOf<'a> {
    /// Those working on this release or assessment.
    Subject(&'a str),
    /// Those whose results attach to this assessment.
    Assessment(&'a str),
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to do.
    pub kind: String,
    /// The organisation it works for.
    pub organisation_id: String,
    /// What it works on.
    pub subject: String,
    /// The assessment its results attach to, if any.
    pub assessment_id: Option<String>,
    /// Its parameters.
    pub payload: Value,
    /// How many times it may be taken.
    pub max_attempts: i64,
    /// Who is waiting for it.
    pub priority: Priority,
    /// The device it works on (a host scan's target): one running job per device.
    pub device: Option<String>,
    /// How long one attempt may run.
    pub timeout_ms: i64,
}

fn job_from_row(row: &AnyRow) -> Job {
    let parse = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
    Job {
        id: row.get("id"),
        kind: row.get("kind"),
        organisation_id: row.get("organisation_id"),
        subject: row.get("subject"),
        assessment_id: row.get("assessment_id"),
        payload: serde_json::from_str(&row.get::<String, _>("payload")).unwrap_or(Value::Null),
        state: JobState::parse(&row.get::<String, _>("state")),
        attempts: row.get("attempts"),
        max_attempts: row.get("max_attempts"),
        lease_owner: row.get("lease_owner"),
        lease_until: row.get("lease_until"),
        progress: row.get("progress"),
        error: row.get("error"),
        result: parse(row.get("result")),
        lock_version: row.get("lock_version"),
        priority: Priority::from_rank(row.get("priority")),
        run_after: row.get("run_after"),
        device: row.get("device"),
        timeout_ms: row.get("timeout_ms"),
        created_by: row.get("created_by"),
        created_at: row.get("created_at"),
        started_at: row.get("started_at"),
        finished_at: row.get("finished_at"),
    }
}

impl Store {
    /// Queues a job.
    pub async fn enqueue(&self, actor: &Actor, new: &NewJob) -> Result<Job, StoreError> {
        let id = new_id("job");
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO jobs (id, kind, organisation_id, subject, assessment_id, payload, state, max_attempts, \
             created_by, created_at, priority, device, timeout_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(&new.kind)
        .bind(&new.organisation_id)
        .bind(&new.subject)
        .bind(&new.assessment_id)
        .bind(new.payload.to_string())
        .bind(new.max_attempts.max(1))
        .bind(actor.label())
        .bind(now_ms())
        .bind(new.priority.rank())
        .bind(&new.device)
        .bind(new.timeout_ms.max(1))
        .execute(&mut *tx)
        .await?;
        if self.engine == Engine::Postgres {
            // Delivered when the transaction commits: waiting workers wake at once.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(WAKE_CHANNEL)
                .bind(&new.kind)
                .execute(&mut *tx)
                .await?;
        }
        audit::append(
            &mut tx,
            actor,
            "job.create",
            &id,
            Some(&new.organisation_id),
            None,
            Some(&json!({"kind": new.kind, "subject": new.subject, "payload": new.payload})),
        )
        .await?;
        tx.commit().await?;
        self.job(&id).await
    }

    /// A job.
    pub async fn job(&self, id: &str) -> Result<Job, StoreError> {
        sqlx::query("SELECT * FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| job_from_row(&row))
            .ok_or_else(|| StoreError::NotFound(format!("job {id}")))
    }

    /// Jobs about a subject (a release, for its firmware scans), or attaching to an
    /// assessment, newest first, at most `limit`.
    pub async fn jobs_of(&self, subject: JobsOf<'_>, limit: i64) -> Result<Vec<Job>, StoreError> {
        let (column, id) = match subject {
            JobsOf::Subject(id) => ("subject", id),
            JobsOf::Assessment(id) => ("assessment_id", id),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM jobs WHERE {column} = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        )))
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(job_from_row).collect())
    }

    /// How many jobs are in each state.
    pub async fn job_counts(&self) -> Result<Vec<(JobState, i64)>, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| (JobState::parse(&row.get::<String, _>(0)), row.get(1)))
            .collect())
    }

    /// Takes back every running job whose lease ran out (its worker died or lost the
    /// database): queued again at once, or dead when its attempts are used up. The lock
    /// version is raised, so the old holder can neither renew nor save. Returns how many
    /// were queued again.
    pub async fn requeue_expired(&self) -> Result<u64, StoreError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET state = 'dead', finished_at = $1, lease_owner = NULL, lease_until = NULL, \
             lock_version = lock_version + 1, \
             error = COALESCE(error, 'the worker stopped answering on every attempt') \
             WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        let requeued = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, run_after = $1, \
             lock_version = lock_version + 1, progress = 'requeued: the worker stopped answering' \
             WHERE state = 'running' AND lease_until < $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(requeued.rows_affected())
    }

    /// Puts a worker's running jobs back in the queue (a graceful shutdown that cannot
    /// wait for them), their attempt not counted.
    pub async fn release_jobs(&self, worker: &str) -> Result<u64, StoreError> {
        let released = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, \
             attempts = attempts - 1, lock_version = lock_version + 1, \
             progress = 'requeued: the server shut down' \
             WHERE state = 'running' AND lease_owner = $1",
        )
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(released.rows_affected())
    }

    /// Claims a job for a worker: of the given kinds, due (`run_after` passed), not for a
    /// device that has a running job, a person's request before scheduled work (which
    /// waits while `scheduled_in_flight` of it run), oldest first. The claim raises the
    /// job's lock version; the job returned carries it.
    pub async fn claim(&self, claim: &Claim<'_>) -> Result<Option<Job>, StoreError> {
        let now = now_ms();
        let kinds = claim.kinds.join(",");
        let mut tx = self.write().await?;
        // The kinds are matched as a comma-separated list so one statement serves any
        // number of them.
        let (kind_match, lock) = match self.engine {
            Engine::Postgres => (
                "position(',' || kind || ',' in ',' || $1 || ',') > 0",
                " FOR UPDATE SKIP LOCKED",
            ),
            Engine::Sqlite => ("instr(',' || $1 || ',', ',' || kind || ',') > 0", ""),
        };
        // Scheduled work is counted only when a scheduled job is the candidate.
        let candidate = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM jobs WHERE state = 'queued' AND {kind_match} AND run_after <= $2 \
             AND (priority = 0 OR (SELECT COUNT(*) FROM jobs flight \
             WHERE flight.state = 'running' AND flight.priority > 0) < $3) \
             AND (device IS NULL OR NOT EXISTS \
             (SELECT 1 FROM jobs busy WHERE busy.state = 'running' AND busy.device = jobs.device)) \
             ORDER BY priority, created_at, id LIMIT 1{lock}"
        )))
        .bind(&kinds)
        .bind(now)
        .bind(claim.scheduled_in_flight)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(candidate) = candidate else {
            tx.rollback().await?;
            return Ok(None);
        };
        let id: String = candidate.get(0);
        // The claimed row comes back from the update itself.
        let claimed = sqlx::query(
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
             lock_version = lock_version + 1, started_at = $3, progress = 'started' \
             WHERE id = $4 AND state = 'queued' RETURNING *",
        )
        .bind(claim.worker)
        .bind(now + claim.lease_ms)
        .bind(now)
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await;
        let claimed = match claimed {
            Ok(claimed) => claimed,
            // Another worker took a job of the same device a moment ago: the unique
            // index refused this one, which waits for the next poll.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                tx.rollback().await?;
                return Ok(None);
            }
            Err(error) => return Err(error.into()),
        };
        tx.commit().await?;
        Ok(claimed.as_ref().map(job_from_row))
    }

    /// Renews the lease of a worker's claim and records its progress; `false` when the
    /// claim is no longer current (the lease ran out and the job was taken back), in which
    /// case the worker must stop the job at once.
    pub async fn heartbeat(
        &self,
        worker: &str,
        job: &str,
        lock_version: i64,
        lease_ms: i64,
        progress: &str,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE jobs SET lease_until = $1, progress = $2 \
             WHERE id = $3 AND lease_owner = $4 AND lock_version = $5 AND state = 'running'",
        )
        .bind(now_ms() + lease_ms)
        .bind(progress)
        .bind(job)
        .bind(worker)
        .bind(lock_version)
        .execute(&self.pool)
        .await?;
        Ok(changed.rows_affected() == 1)
    }

    /// Ends a worker's claim with a result or a failure: a failure with attempts left is
    /// retried after [`retry_delay_ms`], else the job is dead with the error. `false`
    /// (and nothing saved) when the claim is no longer current.
    pub async fn finish_job(
        &self,
        worker: &str,
        job: &str,
        lock_version: i64,
        outcome: Result<&Value, &str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let fence = Fence {
            worker,
            job,
            lock_version,
        };
        let finished = match outcome {
            Ok(result) => finish_done(&mut tx, &fence, result, None).await?,
            Err(reason) => finish_failed(&mut tx, &fence, reason).await?,
        };
        if finished {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(finished)
    }
}

impl Store {
    /// Ends a worker's claim with a result as [`Store::finish_job`] does and, in the same
    /// transaction, stores the release's SBOM its scan found (the first scan of a
    /// release only: an SBOM is never changed). `false` (and nothing saved) when the
    /// claim is no longer current.
    pub async fn finish_job_with_sbom(
        &self,
        fence: &Fence<'_>,
        result: &Value,
        sbom: Option<&crate::ReleaseSbom>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let finished = finish_done(&mut tx, fence, result, sbom).await?;
        if finished {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(finished)
    }
}

/// A worker's claim on a job: who, which job, and the lock version the claim returned.
/// A result is saved only while the claim is current (fencing).
#[derive(Debug, Clone, Copy)]
pub struct Fence<'a> {
    /// The worker's id.
    pub worker: &'a str,
    /// The job.
    pub job: &'a str,
    /// The lock version of the claim.
    pub lock_version: i64,
}

/// Marks a claimed job done with its result, within `tx`, stores the release SBOM it
/// found if any, and audits it; `false` (and nothing changed) when the claim is no
/// longer current.
pub(crate) async fn finish_done(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    fence: &Fence<'_>,
    result: &Value,
    sbom: Option<&crate::ReleaseSbom>,
) -> Result<bool, StoreError> {
    // The row comes back from the update (its organisation and attempt, for the audit
    // entry); none when the claim is no longer current.
    let changed = sqlx::query(
        "UPDATE jobs SET state = 'done', result = $1, finished_at = $2, lease_owner = NULL, \
         lease_until = NULL, progress = 'done' \
         WHERE id = $3 AND lease_owner = $4 AND lock_version = $5 AND state = 'running' \
         RETURNING organisation_id, attempts",
    )
    .bind(result.to_string())
    .bind(now_ms())
    .bind(fence.job)
    .bind(fence.worker)
    .bind(fence.lock_version)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(changed) = changed else {
        return Ok(false);
    };
    let organisation: String = changed.get(0);
    if let Some(sbom) = sbom {
        crate::monitoring::write_sbom(tx, sbom).await?;
    }
    audit::append(
        tx,
        &Actor::Server,
        "job.done",
        fence.job,
        Some(&organisation),
        None,
        Some(&json!({"result": result})),
    )
    .await?;
    Ok(true)
}

/// Ends a claimed job with a failure within `tx` (retried after the backoff while
/// attempts remain, else dead), and audits it; `false` when the claim is not current.
async fn finish_failed(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    fence: &Fence<'_>,
    reason: &str,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let record = sqlx::query("SELECT attempts, max_attempts FROM jobs WHERE id = $1")
        .bind(fence.job)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("job {}", fence.job)))?;
    let (attempts, max_attempts): (i64, i64) = (record.get(0), record.get(1));
    let state = if attempts < max_attempts {
        JobState::Queued
    } else {
        JobState::Dead
    };
    let changed = sqlx::query(
        "UPDATE jobs SET state = $1, error = $2, finished_at = $3, run_after = $4, \
         lease_owner = NULL, lease_until = NULL \
         WHERE id = $5 AND lease_owner = $6 AND lock_version = $7 AND state = 'running' \
         RETURNING organisation_id, attempts",
    )
    .bind(state.as_str())
    .bind(reason)
    .bind((state == JobState::Dead).then_some(now))
    .bind(now + retry_delay_ms(attempts))
    .bind(fence.job)
    .bind(fence.worker)
    .bind(fence.lock_version)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(changed) = changed else {
        return Ok(false);
    };
    let (organisation, attempt): (String, i64) = (changed.get(0), changed.get(1));
    audit::append(
        tx,
        &Actor::Server,
        "job.failed",
        fence.job,
        Some(&organisation),
        None,
        Some(&json!({"error": reason, "attempt": attempt})),
    )
    .await?;
    Ok(true)
}

/// A scan target an admin allowed, with who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanTarget {
    /// An address or CIDR range.
    pub target: String,
    /// Who allowed it.
    pub allowed_by: String,
    /// When.
    pub allowed_at: i64,
    /// Why (the device, the engagement).
    pub note: String,
}

impl Store {
    /// Ends the running jobs of a worker that exited: queued again after the backoff
    /// while attempts remain, else dead with the reason. Returns how many.
    pub async fn fail_jobs_of(&self, worker: &str, reason: &str) -> Result<u64, StoreError> {
        let now = now_ms();
        let dead = sqlx::query(
            "UPDATE jobs SET state = 'dead', finished_at = $1, lease_owner = NULL, lease_until = NULL, \
             lock_version = lock_version + 1, error = $2 \
             WHERE state = 'running' AND lease_owner = $3 AND attempts >= max_attempts",
        )
        .bind(now)
        .bind(reason)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        let running = sqlx::query(
            "SELECT id, attempts FROM jobs WHERE state = 'running' AND lease_owner = $1",
        )
        .bind(worker)
        .fetch_all(&self.pool)
        .await?;
        let mut requeued = 0;
        for row in running {
            let (id, attempts): (String, i64) = (row.get(0), row.get(1));
            requeued += sqlx::query(
                "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, error = $1, \
                 run_after = $2, lock_version = lock_version + 1, progress = 'requeued: its worker exited' \
                 WHERE id = $3 AND state = 'running' AND lease_owner = $4",
            )
            .bind(reason)
            .bind(now + retry_delay_ms(attempts))
            .bind(&id)
            .bind(worker)
            .execute(&self.pool)
            .await?
            .rows_affected();
        }
        Ok(dead.rows_affected() + requeued)
    }

    /// Allows scans of a target (an address or range, already validated by the caller).
    pub async fn allow_target(
        &self,
        actor: &Actor,
        target: &str,
        note: &str,
    ) -> Result<ScanTarget, StoreError> {
        let allowed = ScanTarget {
            target: target.to_owned(),
            allowed_by: actor.label(),
            allowed_at: now_ms(),
            note: note.trim().to_owned(),
        };
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM scan_targets WHERE target = $1")
            .bind(target)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO scan_targets (target, allowed_by, allowed_at, note) VALUES ($1, $2, $3, $4)")
            .bind(&allowed.target)
            .bind(&allowed.allowed_by)
            .bind(allowed.allowed_at)
            .bind(&allowed.note)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            actor,
            "scan-target.allow",
            target,
            None,
            None,
            Some(&json!(allowed)),
        )
        .await?;
        tx.commit().await?;
        Ok(allowed)
    }

    /// Withdraws a target's authorisation.
    pub async fn revoke_target(&self, actor: &Actor, target: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let removed = sqlx::query("DELETE FROM scan_targets WHERE target = $1")
            .bind(target)
            .execute(&mut *tx)
            .await?;
        if removed.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("scan target {target}")));
        }
        audit::append(
            &mut tx,
            actor,
            "scan-target.revoke",
            target,
            None,
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The targets allowed.
    pub async fn scan_targets(&self) -> Result<Vec<ScanTarget>, StoreError> {
        let rows = sqlx::query(
            "SELECT target, allowed_by, allowed_at, note FROM scan_targets ORDER BY target",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| ScanTarget {
                target: row.get(0),
                allowed_by: row.get(1),
                allowed_at: row.get(2),
                note: row.get(3),
            })
            .collect())
    }
}
