//! The job queue: one claim per job, leases, fencing by lock version, retries with
//! backoff, dead jobs, priorities with scheduled work capped, one running job per device.

use provisor_store::{
    Actor, Claim, Job, JobState, JobsOf, NewJob, OrganisationKind, Priority, Store, retry_delay_ms,
};
use serde_json::json;

use crate::{organisation, stores, tamper};

fn job(organisation: &str, subject: &str) -> NewJob {
    NewJob {
        kind: "scan-firmware".into(),
        organisation_id: organisation.into(),
        subject: subject.into(),
        assessment_id: None,
        payload: json!({"image": "fw.bin"}),
        max_attempts: 2,
        priority: Priority::Request,
        device: None,
        timeout_ms: 3_600_000,
    }
}

/// Queues a job as the server.
async fn queue(store: &Store, new: &NewJob) -> Job {
    store.enqueue(&Actor::Server, new).await.unwrap()
}

/// Claims a job of `kinds` for `worker` with a minute's lease and room for one
/// scheduled job in flight.
async fn claim(store: &Store, worker: &str, kinds: &[&str]) -> Option<Job> {
    store
        .claim(&Claim {
            worker,
            kinds,
            lease_ms: 60_000,
            scheduled_in_flight: 1,
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_job_is_claimed_once_and_finished() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let first = queue(store, &job(&acme.id, "rel_1")).await;
        let second = queue(store, &job(&acme.id, "rel_2")).await;
        let of_second = store.jobs_of(JobsOf::Subject("rel_2"), 10).await.unwrap();
        let ids: Vec<_> = of_second.iter().map(|job| job.id.as_str()).collect();
        assert_eq!(ids, [second.id.as_str()], "{}", test.engine);
        assert!(
            store
                .jobs_of(JobsOf::Assessment("rel_2"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(claim(store, "w1", &["scan-host"]).await.is_none());
        let claimed = claim(store, "w1", &["scan-firmware", "scan-host"])
            .await
            .unwrap();
        assert_eq!(claimed.id, first.id);
        assert_eq!(claimed.state, JobState::Running);
        let other = claim(store, "w2", &["scan-firmware"]).await.unwrap();
        assert_eq!(other.id, second.id, "{}", test.engine);
        assert!(claim(store, "w3", &["scan-firmware"]).await.is_none());
        assert!(
            store
                .heartbeat("w1", &first.id, claimed.lock_version, 60_000, "unpacking")
                .await
                .unwrap()
        );
        assert!(
            !store
                .heartbeat("w2", &first.id, claimed.lock_version, 60_000, "not mine")
                .await
                .unwrap()
        );
        assert_eq!(store.job(&first.id).await.unwrap().progress, "unpacking");
        assert!(
            store
                .finish_job(
                    "w1",
                    &first.id,
                    claimed.lock_version,
                    Ok(&json!({"findings": 3}))
                )
                .await
                .unwrap()
        );
        let done = store.job(&first.id).await.unwrap();
        assert_eq!(done.state, JobState::Done);
        assert_eq!(done.result, Some(json!({"findings": 3})));
        // A failure with attempts left goes back in the queue, then fails for good.
        assert!(
            store
                .finish_job("w2", &second.id, other.lock_version, Err("crashed"))
                .await
                .unwrap()
        );
        let waiting = store.job(&second.id).await.unwrap();
        assert_eq!(waiting.state, JobState::Queued);
        // Not before its backoff: 30 s after the first attempt.
        let delay = waiting.run_after - waiting.started_at.unwrap();
        assert!(
            (retry_delay_ms(1)..retry_delay_ms(1) + 5_000).contains(&delay),
            "{delay}"
        );
        assert!(claim(store, "w2", &["scan-firmware"]).await.is_none());
        tamper(&test, "UPDATE jobs SET run_after = 0").await;
        let again = claim(store, "w2", &["scan-firmware"]).await.unwrap();
        assert_eq!(again.attempts, 2);
        assert!(
            store
                .finish_job("w2", &second.id, again.lock_version, Err("crashed again"))
                .await
                .unwrap()
        );
        let failed = store.job(&second.id).await.unwrap();
        assert_eq!(failed.state, JobState::Dead);
        assert_eq!(failed.error.as_deref(), Some("crashed again"));
    }
}

#[tokio::test]
async fn an_expired_lease_puts_the_job_back() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let queued = queue(store, &job(&acme.id, "rel_1")).await;
        let lost = claim(store, "dead-worker", &["scan-firmware"])
            .await
            .unwrap();
        assert_eq!(store.requeue_expired().await.unwrap(), 0);
        tamper(&test, "UPDATE jobs SET lease_until = 1").await;
        assert_eq!(store.requeue_expired().await.unwrap(), 1, "{}", test.engine);
        let back = store.job(&queued.id).await.unwrap();
        assert_eq!(back.state, JobState::Queued);
        assert!(
            !store
                .finish_job("dead-worker", &queued.id, lost.lock_version, Ok(&json!({})))
                .await
                .unwrap(),
            "a worker that lost its lease cannot finish"
        );
        let claimed = claim(store, "live-worker", &["scan-firmware"])
            .await
            .unwrap();
        assert_eq!(claimed.attempts, 2);
        tamper(&test, "UPDATE jobs SET lease_until = 1").await;
        store.requeue_expired().await.unwrap();
        assert_eq!(store.job(&queued.id).await.unwrap().state, JobState::Dead);
        // A graceful shutdown hands a job back without counting the attempt.
        let next = queue(store, &job(&acme.id, "rel_2")).await;
        claim(store, "stopping", &["scan-firmware"]).await.unwrap();
        assert_eq!(store.release_jobs("stopping").await.unwrap(), 1);
        let released = store.job(&next.id).await.unwrap();
        assert_eq!((released.state, released.attempts), (JobState::Queued, 0));
    }
}

#[tokio::test]
async fn a_claim_taken_back_cannot_renew_or_save_even_under_the_same_worker_id() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let queued = queue(store, &job(&acme.id, "rel_1")).await;
        // A worker restarted under the same id (a container with a fixed host name and
        // pid 1) must not pass for its earlier self: the lock version tells them apart.
        let first = claim(store, "w", &["scan-firmware"]).await.unwrap();
        tamper(&test, "UPDATE jobs SET lease_until = 1").await;
        store.requeue_expired().await.unwrap();
        let second = claim(store, "w", &["scan-firmware"]).await.unwrap();
        assert_eq!(
            second.lock_version,
            first.lock_version + 2,
            "{}",
            test.engine
        );
        assert!(
            !store
                .heartbeat("w", &queued.id, first.lock_version, 60_000, "old")
                .await
                .unwrap()
        );
        assert!(
            !store
                .finish_job(
                    "w",
                    &queued.id,
                    first.lock_version,
                    Ok(&json!({"old": true}))
                )
                .await
                .unwrap()
        );
        assert!(
            store
                .finish_job(
                    "w",
                    &queued.id,
                    second.lock_version,
                    Ok(&json!({"new": true}))
                )
                .await
                .unwrap()
        );
        let done = store.job(&queued.id).await.unwrap();
        assert_eq!(done.result, Some(json!({"new": true})), "{}", test.engine);
        assert!(
            !store
                .finish_job("w", &queued.id, second.lock_version, Err("late"))
                .await
                .unwrap(),
            "a result is saved once"
        );
    }
}

#[test]
fn retries_back_off_exponentially_up_to_an_hour() {
    let delays: Vec<i64> = (1..=9).map(retry_delay_ms).collect();
    assert_eq!(
        delays,
        [
            30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000
        ]
    );
    assert_eq!(retry_delay_ms(0), 30_000);
    assert_eq!(retry_delay_ms(i64::MAX), 3_600_000);
}

#[tokio::test]
async fn a_request_goes_first_and_scheduled_work_is_capped() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let scheduled = |subject: &str| NewJob {
            priority: Priority::Scheduled,
            ..job(&acme.id, subject)
        };
        let early = queue(store, &scheduled("rel_1")).await;
        let later = queue(store, &scheduled("rel_2")).await;
        let request = queue(store, &job(&acme.id, "rel_3")).await;
        assert_eq!(request.priority, Priority::Request);
        let first = claim(store, "w1", &["scan-firmware"]).await.unwrap();
        assert_eq!(first.id, request.id, "the request first ({})", test.engine);
        let second = claim(store, "w2", &["scan-firmware"]).await.unwrap();
        assert_eq!(second.id, early.id, "then the oldest scheduled job");
        // One scheduled job in flight is the cap here: the other waits.
        assert!(claim(store, "w3", &["scan-firmware"]).await.is_none());
        store
            .finish_job("w2", &early.id, second.lock_version, Ok(&json!({})))
            .await
            .unwrap();
        let third = claim(store, "w3", &["scan-firmware"]).await.unwrap();
        assert_eq!(third.id, later.id, "{}", test.engine);
    }
}

#[tokio::test]
async fn a_device_has_one_running_job() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let host_scan = |subject: &str, device: &str| NewJob {
            kind: "scan-host".into(),
            device: Some(device.into()),
            ..job(&acme.id, subject)
        };
        let camera = queue(store, &host_scan("a_1", "127.0.0.5")).await;
        let camera_again = queue(store, &host_scan("a_2", "127.0.0.5")).await;
        let plug = queue(store, &host_scan("a_3", "127.0.0.6")).await;
        let first = claim(store, "w1", &["scan-host"]).await.unwrap();
        assert_eq!(first.id, camera.id);
        let second = claim(store, "w2", &["scan-host"]).await.unwrap();
        assert_eq!(
            second.id, plug.id,
            "the camera's second scan waits ({})",
            test.engine
        );
        assert!(claim(store, "w3", &["scan-host"]).await.is_none());
        store
            .finish_job("w1", &camera.id, first.lock_version, Ok(&json!({})))
            .await
            .unwrap();
        let third = claim(store, "w3", &["scan-host"]).await.unwrap();
        assert_eq!(third.id, camera_again.id);
        // Claims at once from many workers still give one running job per device.
        for index in 0..6 {
            let device = format!("127.0.1.{}", index % 2);
            queue(store, &host_scan(&format!("b_{index}"), &device)).await;
        }
        let workers: Vec<String> = (0..6).map(|index| format!("racer{index}")).collect();
        let claims = claim_at_once(store, &workers).await;
        let mut devices: Vec<String> = claims
            .into_iter()
            .flatten()
            .filter_map(|job| job.device)
            .collect();
        devices.sort();
        assert_eq!(devices, ["127.0.1.0", "127.0.1.1"], "{}", test.engine);
    }
}

/// Claims from every worker at once.
async fn claim_at_once(store: &Store, workers: &[String]) -> Vec<Option<Job>> {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in workers {
        let (store, worker) = (store.clone(), worker.clone());
        tasks.spawn(async move { claim(&store, &worker, &["scan-host"]).await });
    }
    let mut claims = Vec::new();
    while let Some(claimed) = tasks.join_next().await {
        claims.push(claimed.unwrap());
    }
    claims
}

#[tokio::test]
async fn a_queued_job_wakes_a_waiting_worker_on_postgresql_and_the_poll_stays() {
    use std::time::{Duration, Instant};
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let mut wakeups = store.job_wakeups().await;
        assert_eq!(wakeups.listening(), test.engine == "postgres");
        if wakeups.listening() {
            let (queuer, new) = (store.clone(), job(&acme.id, "rel_1"));
            let enqueue = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                queue(&queuer, &new).await;
            });
            let started = Instant::now();
            wakeups.wait(Duration::from_secs(30)).await;
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{:?}",
                started.elapsed()
            );
            enqueue.await.unwrap();
            assert!(claim(store, "w", &["scan-firmware"]).await.is_some());
        }
        // With nothing queued, the poll ends the wait.
        let started = Instant::now();
        wakeups.wait(Duration::from_millis(300)).await;
        let waited = started.elapsed();
        assert!(
            (Duration::from_millis(290)..Duration::from_secs(5)).contains(&waited),
            "{waited:?} ({})",
            test.engine
        );
    }
}
