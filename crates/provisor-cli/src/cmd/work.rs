//! `provisor worker --server URL`: a worker on another machine (next to the devices in
//! a lab network, on a scan farm) that takes its jobs through the team server's API
//! instead of the database: it needs an API token with the work scope (from
//! PROVISOR_TOKEN or `--token-file`, never the command line) and no database
//! credentials. The loop is the server's own workers' ([`provisor_server::worker::work`]);
//! only the queue differs: claims, heartbeats and completions carry the claim's lock
//! version, images are downloaded streamed into a temporary file and checked against
//! their SHA-256, and the advisory database is fetched again only when it changed.
//! A server that cannot be reached is tried again (a claim at the next poll, a
//! heartbeat within its lease); a claim the server says is lost stops the job, and so
//! does a lease the worker could not renew before it may have run out.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use provisor_server::worker::{Image, Outcome, Queue, WorkerError};
use provisor_server::{ApiError, worker::KINDS};
use provisor_store::Job;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The largest image a worker downloads.
const MAX_IMAGE: u64 = 64 << 30;
/// The largest advisory database a worker downloads.
const MAX_ADVISORIES: u64 = 16 << 30;
/// How often a call that did not reach the server is tried in all, and the pause
/// before the first retry (doubling).
const TRIES: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(500);

/// The server's queue, through its API.
pub struct RemoteQueue {
    server: String,
    token: String,
    agent: ureq::Agent,
    /// Where downloads go.
    work_dir: PathBuf,
    /// The advisory database held, with its ETag.
    advisories: Mutex<Option<(String, Arc<provisor_advisories::Database>)>>,
    /// When the server last granted or renewed the lease of the job in hand.
    renewed: Mutex<std::time::Instant>,
}

/// What a call gave: the status and the body, or why the server was not reached.
enum Answer {
    Status(u16, String),
    Unreachable(String),
}

impl RemoteQueue {
    pub fn new(server: &str, token: String, agent: ureq::Agent, work_dir: PathBuf) -> RemoteQueue {
        RemoteQueue {
            server: server.trim_end_matches('/').to_owned(),
            token,
            agent,
            work_dir,
            advisories: Mutex::new(None),
            renewed: Mutex::new(std::time::Instant::now()),
        }
    }

    fn renewed_now(&self) {
        *self
            .renewed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = std::time::Instant::now();
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    /// POSTs JSON, trying again while the server cannot be reached.
    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(path, "application/json", body.to_string().into_bytes())
            .await
    }

    async fn send(&self, path: &str, content_type: &'static str, body: Vec<u8>) -> Answer {
        self.send_within(path, content_type, body, TRIES, None)
            .await
    }

    /// Sends `body`, tried `tries` times in all while the server cannot be reached, each
    /// try bounded by `timeout` (the agent's otherwise).
    async fn send_within(
        &self,
        path: &str,
        content_type: &'static str,
        body: Vec<u8>,
        tries: u32,
        timeout: Option<Duration>,
    ) -> Answer {
        let (agent, url, token) = (self.agent.clone(), self.url(path), self.token.clone());
        let body = Arc::new(body);
        let mut pause = FIRST_PAUSE;
        let mut answer = Answer::Unreachable(String::new());
        for attempt in 1..=tries {
            let (agent, target, token, body) =
                (agent.clone(), url.clone(), token.clone(), body.clone());
            answer = tokio::task::spawn_blocking(move || {
                let mut request = agent.post(&target);
                if let Some(timeout) = timeout {
                    request = request.config().timeout_global(Some(timeout)).build();
                }
                match request
                    .header("Authorization", &format!("Bearer {token}"))
                    .content_type(content_type)
                    .send(&body[..])
                {
                    Ok(mut response) => Answer::Status(
                        response.status().as_u16(),
                        response
                            .body_mut()
                            .with_config()
                            .limit(1 << 20)
                            .read_to_string()
                            .unwrap_or_default(),
                    ),
                    Err(error) => Answer::Unreachable(error.to_string()),
                }
            })
            .await
            .unwrap_or_else(|error| Answer::Unreachable(error.to_string()));
            match &answer {
                Answer::Unreachable(reason) if attempt < tries => {
                    tracing::warn!("{url}: {reason}; trying again in {pause:?}");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                _ => break,
            }
        }
        answer
    }

    /// A refusal as a worker error: the status and the problem's detail; a server
    /// error (5xx) is the server's trouble, which passes.
    fn refused(&self, path: &str, status: u16, body: &str) -> WorkerError {
        let detail = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|problem| problem["detail"].as_str().map(str::to_owned))
            .unwrap_or_else(|| body.chars().take(300).collect());
        let message = format!("{}{path} answered {status}: {detail}", self.server);
        if status >= 500 {
            WorkerError::Unavailable(message)
        } else {
            WorkerError::Server(message)
        }
    }

    /// Downloads `path` into a new file of the work directory, at most `limit` bytes,
    /// hashing it on the way; None on 204 or 304.
    fn download(
        &self,
        path: &str,
        if_none_match: Option<&str>,
        limit: u64,
    ) -> Result<Option<(tempfile::TempPath, String, Option<String>)>, String> {
        let url = self.url(path);
        let mut request = self
            .agent
            .get(&url)
            .header("Authorization", &format!("Bearer {}", self.token));
        if let Some(tag) = if_none_match {
            request = request.header("If-None-Match", tag);
        }
        let mut response = request.call().map_err(|error| format!("{url}: {error}"))?;
        let status = response.status().as_u16();
        if status == 204 || status == 304 {
            return Ok(None);
        }
        if status != 200 {
            let body = response
                .body_mut()
                .with_config()
                .limit(1 << 20)
                .read_to_string()
                .unwrap_or_default();
            let detail = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|problem| problem["detail"].as_str().map(str::to_owned))
                .unwrap_or(body);
            return Err(format!("{url} answered {status}: {detail}"));
        }
        let etag = response
            .headers()
            .get("etag")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let mut file = tempfile::Builder::new()
            .prefix("provisor-download-")
            .tempfile_in(&self.work_dir)
            .map_err(|error| format!("{}: {error}", self.work_dir.display()))?;
        let mut reader = response.body_mut().with_config().limit(limit).reader();
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 256 << 10];
        loop {
            let read = reader
                .read(&mut buffer)
                .map_err(|error| format!("{url}: the download broke off: {error}"))?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            file.write_all(&buffer[..read])
                .map_err(|error| format!("{}: {error}", file.path().display()))?;
        }
        file.flush()
            .map_err(|error| format!("{}: {error}", file.path().display()))?;
        let sha256: String = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Ok(Some((file.into_temp_path(), sha256, etag)))
    }
}

fn claim_of(job: &Job) -> String {
    format!(
        "worker={}&lock_version={}",
        percent(job.lease_owner.as_deref().unwrap_or_default()),
        job.lock_version
    )
}

/// Percent-encodes a query value (a worker id is `host:pid`).
fn percent(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl Queue for RemoteQueue {
    async fn claim(&self, worker: &str, lease_ms: i64) -> Result<Option<Job>, WorkerError> {
        let path = "/api/v1/worker/claim";
        match self
            .post(
                path,
                json!({"worker": worker, "kinds": KINDS, "lease_ms": lease_ms}),
            )
            .await
        {
            Answer::Status(200, body) => {
                self.renewed_now();
                let claimed: provisor_server::ClaimedJob =
                    serde_json::from_str(&body).map_err(|error| {
                        WorkerError::Server(format!("{}{path}: not a job: {error}", self.server))
                    })?;
                Ok(Some(claimed.job))
            }
            Answer::Status(204, _) => Ok(None),
            Answer::Status(status, body) => Err(self.refused(path, status, &body)),
            // The server is away (restarting): look again at the next poll.
            Answer::Unreachable(reason) => {
                tracing::warn!("{}{path}: {reason}", self.server);
                Ok(None)
            }
        }
    }

    async fn heartbeat(
        &self,
        job: &Job,
        lease_ms: i64,
        progress: &str,
    ) -> Result<bool, WorkerError> {
        let path = format!("/api/v1/worker/jobs/{}/heartbeat", job.id);
        let body = json!({
            "worker": job.lease_owner,
            "lock_version": job.lock_version,
            "lease_ms": lease_ms,
            "progress": progress,
        });
        // Two tries of a sixth of the lease each: a beat ends before the next is due.
        let lease = Duration::from_millis(u64::try_from(lease_ms).unwrap_or(60_000));
        let answer = self
            .send_within(
                &path,
                "application/json",
                body.to_string().into_bytes(),
                2,
                Some(lease / 6),
            )
            .await;
        match answer {
            Answer::Status(204, _) => {
                self.renewed_now();
                Ok(true)
            }
            Answer::Status(409, _) => Ok(false),
            Answer::Status(status @ ..500, body) => Err(self.refused(&path, status, &body)),
            // Not reached, or failing: while the lease surely runs past the next beat
            // the job goes on; once it may not, the job stops, so that it never runs
            // beside the worker the server hands it to next.
            failing => {
                let reason = match failing {
                    Answer::Status(status, body) => self.refused(&path, status, &body).to_string(),
                    Answer::Unreachable(reason) => format!("{}{path}: {reason}", self.server),
                };
                let since = self
                    .renewed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .elapsed();
                tracing::warn!("{reason}; the lease was last renewed {since:?} ago");
                Ok(since + lease / 3 < lease)
            }
        }
    }

    async fn image(&self, job: &Job) -> Result<Image, ApiError> {
        let expected = job.payload["sha256"]
            .as_str()
            .ok_or_else(|| ApiError::bad_request(format!("job {} has no image", job.id)))?
            .to_owned();
        let path = format!("/api/v1/worker/jobs/{}/image?{}", job.id, claim_of(job));
        let queue = self.clone_handle();
        let downloaded =
            tokio::task::spawn_blocking(move || queue.download(&path, None, MAX_IMAGE))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
        let Some((file, sha256, _)) = downloaded else {
            return Err(ApiError::internal("the server sent no image"));
        };
        if sha256 != expected {
            return Err(ApiError::internal(format!(
                "the image received has SHA-256 {sha256}, not {expected}: the download was corrupted"
            )));
        }
        Ok(Image {
            path: file.to_path_buf(),
            download: Some(file),
        })
    }

    async fn advisories(&self) -> Result<Option<Arc<provisor_advisories::Database>>, ApiError> {
        let held = self
            .advisories
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let queue = self.clone_handle();
        let tag = held.as_ref().map(|(tag, _)| tag.clone());
        let fetched = tokio::task::spawn_blocking(move || {
            let Some((file, _, etag)) =
                queue.download("/api/v1/worker/advisories", tag.as_deref(), MAX_ADVISORIES)?
            else {
                return Ok(None);
            };
            let database = provisor_advisories::Database::load(&file)
                .map_err(|error| format!("the advisory database the server sent: {error}"))?;
            Ok::<_, String>(Some((etag.unwrap_or_default(), Arc::new(database))))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        match fetched {
            Some((tag, database)) => {
                *self
                    .advisories
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some((tag, database.clone()));
                Ok(Some(database))
            }
            // 304: the copy held is current; 204 (none uploaded) with none held.
            None => Ok(held.map(|(_, database)| database)),
        }
    }

    async fn complete(
        &self,
        job: &Job,
        _lease_ms: i64,
        outcome: Outcome<'_>,
    ) -> Result<Option<Value>, WorkerError> {
        let (path, answer) = match outcome {
            Outcome::Findings(findings) => {
                let path = format!("/api/v1/worker/jobs/{}/complete?{}", job.id, claim_of(job));
                let body = provisor_report::findings_json(findings).into_bytes();
                let answer = self.send(&path, "application/json", body).await;
                (path, answer)
            }
            Outcome::Failed(reason) => {
                let path = format!("/api/v1/worker/jobs/{}/fail", job.id);
                let body = json!({
                    "worker": job.lease_owner,
                    "lock_version": job.lock_version,
                    "error": reason,
                });
                let answer = self.post(&path, body).await;
                (path, answer)
            }
        };
        match answer {
            Answer::Status(200, body) => Ok(serde_json::from_str::<Value>(&body)
                .ok()
                .map(|answer| answer["result"].clone())),
            Answer::Status(409, _) => Ok(None),
            Answer::Status(status, body) => Err(self.refused(&path, status, &body)),
            Answer::Unreachable(reason) => Err(WorkerError::Unavailable(format!(
                "{}{path}: {reason}",
                self.server
            ))),
        }
    }

    async fn wait(&self, poll: Duration) {
        tokio::time::sleep(poll).await;
    }
}

impl RemoteQueue {
    /// A handle for blocking work on another thread (the agent shares its connections).
    fn clone_handle(&self) -> Arc<RemoteQueue> {
        Arc::new(RemoteQueue {
            server: self.server.clone(),
            token: self.token.clone(),
            agent: self.agent.clone(),
            work_dir: self.work_dir.clone(),
            advisories: Mutex::new(None),
            renewed: Mutex::new(std::time::Instant::now()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisor_testkit::{Fault, FaultProxy};

    fn job() -> Job {
        serde_json::from_value(json!({
            "id": "job_1", "kind": "scan-firmware", "organisation_id": "org_1",
            "subject": "rel_1", "assessment_id": null, "payload": {}, "state": "running",
            "attempts": 1, "max_attempts": 3, "lease_owner": "farm:1", "lease_until": 0,
            "progress": "", "error": null, "result": null, "lock_version": 4,
            "priority": "request", "run_after": 0, "device": null, "timeout_ms": 1000,
            "created_by": "usr_1", "created_at": 0, "started_at": 0, "finished_at": null
        }))
        .unwrap()
    }

    /// A server that cannot be reached: a job goes on while its lease surely outlasts
    /// the next beat and stops once it may not; a claim finds nothing and asks again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lease_not_renewed_stops_the_job_before_it_may_run_out() {
        // A listener that is never asked: the proxy refuses every connection.
        let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = FaultProxy::start(upstream.local_addr().unwrap()).unwrap();
        proxy.set(Fault::Refuse);
        let work = tempfile::tempdir().unwrap();
        let queue = RemoteQueue::new(
            &format!("http://{}", proxy.address()),
            "secret".into(),
            ureq::Agent::new_with_defaults(),
            work.path().to_path_buf(),
        );
        let lease_ms = 3_000;
        // Renewed just now: the lease runs 3 s, a beat is due in 1 s.
        assert!(queue.heartbeat(&job(), lease_ms, "running").await.unwrap());
        // Last renewed 2.1 s ago: the next beat would come after the lease may be gone.
        *queue.renewed.lock().unwrap() = std::time::Instant::now() - Duration::from_millis(2_100);
        assert!(!queue.heartbeat(&job(), lease_ms, "running").await.unwrap());
        assert!(proxy.cut() >= 4, "every try refused: {}", proxy.cut());
        // A claim that does not reach the server is no job, and no error.
        assert!(queue.claim("farm:1", lease_ms).await.unwrap().is_none());
        drop(upstream);
    }
}
