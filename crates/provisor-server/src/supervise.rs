//! The supervisor of the worker processes `provisor serve` starts: it keeps the
//! configured number running (a worker that exits is started again, after a pause that
//! grows while it keeps failing fast), hands the job of a worker that died back to the
//! queue or fails it with the reason, and puts back jobs whose lease ran out (a worker
//! on another machine that vanished). On shutdown the workers are stopped and their
//! jobs re-queued without counting the attempt.

use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::AppState;

/// How often leases that ran out are looked for, at most.
pub const REQUEUE_EVERY: Duration = Duration::from_secs(15);

async fn start(state: &AppState, id: &str) -> std::io::Result<Child> {
    let (program, arguments) = state
        .config()
        .worker_command
        .clone()
        .expect("the supervisor runs only with a worker command");
    let mut command = Command::new(program);
    // The worker watches its standard input: when the server dies, even by SIGKILL,
    // the pipe closes and the worker ends instead of running on as an orphan.
    command
        .args(arguments)
        .arg("--id")
        .arg(id)
        .arg("--exit-with-parent")
        .stdin(std::process::Stdio::piped())
        .kill_on_drop(true);
    // The database URL (it may hold a password) goes through the environment, never
    // a command line other users can read.
    match &state.config().database {
        Some(url) => command.env("PROVISOR_DATABASE", url),
        None => command.env_remove("PROVISOR_DATABASE"),
    };
    match &state.config().blobs {
        provisor_store::BlobLocation::ObjectStorage(url) => command.env("PROVISOR_BLOBS", url),
        provisor_store::BlobLocation::DataDirectory => command.env_remove("PROVISOR_BLOBS"),
    };
    command.spawn()
}

/// Keeps one worker slot filled until `stop` turns true.
async fn slot(state: AppState, slot: usize, mut stop: watch::Receiver<bool>) {
    let prefix = format!("server-{}-{slot}", provisor_store::random_hex(3));
    let mut generation = 0u64;
    let mut pause = Duration::from_secs(1);
    loop {
        if *stop.borrow() {
            return;
        }
        generation += 1;
        let id = format!("{prefix}-{generation}");
        let started = tokio::time::Instant::now();
        let (mut child, _lifeline) = match start(&state, &id).await {
            Ok(mut child) => {
                // Held while the worker runs; dropped (closing the pipe) when the
                // server goes.
                let lifeline = child.stdin.take();
                (child, lifeline)
            }
            Err(error) => {
                tracing::error!("cannot start a worker: {error}");
                tokio::time::sleep(Duration::from_secs(30)).await;
                continue;
            }
        };
        tracing::info!(worker = %id, "worker started");
        tokio::select! {
            status = child.wait() => {
                let reason = match status {
                    Ok(status) => format!("its worker exited ({status})"),
                    Err(error) => format!("its worker was lost ({error})"),
                };
                tracing::warn!(worker = %id, "{reason}");
                if let Err(error) = state.store().fail_jobs_of(&id, &format!("the scan did not finish: {reason}")).await {
                    tracing::error!("cannot hand back the jobs of worker {id}: {error}");
                }
            }
            _ = stop.changed() => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                if let Err(error) = state.store().release_jobs(&id).await {
                    tracing::error!("cannot requeue the jobs of worker {id}: {error}");
                }
                return;
            }
        }
        // A worker that dies at once is started again after a pause that grows.
        pause = if started.elapsed() > Duration::from_secs(60) {
            Duration::from_secs(1)
        } else {
            (pause * 2).min(Duration::from_secs(60))
        };
        tokio::time::sleep(pause).await;
    }
}

/// Starts the worker slots and the requeueing of expired leases; stops them when
/// `stop` turns true, returning once every worker is gone.
pub async fn supervise(state: AppState, stop: watch::Receiver<bool>) {
    let mut tasks = tokio::task::JoinSet::new();
    if state.config().worker_command.is_some() {
        for index in 0..state.config().workers {
            tasks.spawn(slot(state.clone(), index, stop.clone()));
        }
    }
    let requeuer = {
        let state = state.clone();
        let mut stop = stop.clone();
        async move {
            // Often enough that a lease is not left expired for long past its end.
            let every = REQUEUE_EVERY
                .min(state.config().job_lease / 2)
                .max(Duration::from_millis(500));
            let mut interval = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = interval.tick() => {
                        match state.store().requeue_expired().await {
                            Ok(0) => {}
                            Ok(count) => tracing::warn!("{count} jobs whose worker stopped answering were queued again"),
                            Err(error) => tracing::warn!("cannot look for expired leases: {error}"),
                        }
                    }
                    _ = stop.changed() => return,
                }
            }
        }
    };
    tasks.spawn(requeuer);
    while tasks.join_next().await.is_some() {}
}
