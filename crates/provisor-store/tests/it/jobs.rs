//! The job queue: one claim per job, leases, retries and requeueing.

use provisor_store::{Actor, JobState, JobsOf, NewJob, OrganisationKind};
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
    }
}

#[tokio::test]
async fn a_job_is_claimed_once_and_finished() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let first = store
            .enqueue(&Actor::Server, &job(&acme.id, "rel_1"))
            .await
            .unwrap();
        let second = store
            .enqueue(&Actor::Server, &job(&acme.id, "rel_2"))
            .await
            .unwrap();
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
        assert!(
            store
                .claim("w1", &["scan-host"], 60_000)
                .await
                .unwrap()
                .is_none()
        );
        let claimed = store
            .claim("w1", &["scan-firmware", "scan-host"], 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, first.id);
        assert_eq!(claimed.state, JobState::Running);
        let other = store
            .claim("w2", &["scan-firmware"], 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(other.id, second.id, "{}", test.engine);
        assert!(
            store
                .claim("w3", &["scan-firmware"], 60_000)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .heartbeat("w1", &first.id, 60_000, "unpacking")
                .await
                .unwrap()
        );
        assert!(
            !store
                .heartbeat("w2", &first.id, 60_000, "not mine")
                .await
                .unwrap()
        );
        assert_eq!(store.job(&first.id).await.unwrap().progress, "unpacking");
        assert!(
            store
                .finish_job("w1", &first.id, Ok(&json!({"findings": 3})))
                .await
                .unwrap()
        );
        let done = store.job(&first.id).await.unwrap();
        assert_eq!(done.state, JobState::Done);
        assert_eq!(done.result, Some(json!({"findings": 3})));
        // A failure with attempts left goes back in the queue, then fails for good.
        assert!(
            store
                .finish_job("w2", &second.id, Err("crashed"))
                .await
                .unwrap()
        );
        assert_eq!(store.job(&second.id).await.unwrap().state, JobState::Queued);
        let again = store
            .claim("w2", &["scan-firmware"], 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.attempts, 2);
        assert!(
            store
                .finish_job("w2", &second.id, Err("crashed again"))
                .await
                .unwrap()
        );
        let failed = store.job(&second.id).await.unwrap();
        assert_eq!(failed.state, JobState::Failed);
        assert_eq!(failed.error.as_deref(), Some("crashed again"));
    }
}

#[tokio::test]
async fn an_expired_lease_puts_the_job_back() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let queued = store
            .enqueue(&Actor::Server, &job(&acme.id, "rel_1"))
            .await
            .unwrap();
        store
            .claim("dead-worker", &["scan-firmware"], 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.requeue_expired().await.unwrap(), 0);
        tamper(&test, "UPDATE jobs SET lease_until = 1").await;
        assert_eq!(store.requeue_expired().await.unwrap(), 1, "{}", test.engine);
        let back = store.job(&queued.id).await.unwrap();
        assert_eq!(back.state, JobState::Queued);
        assert!(
            !store
                .finish_job("dead-worker", &queued.id, Ok(&json!({})))
                .await
                .unwrap(),
            "a worker that lost its lease cannot finish"
        );
        let claimed = store
            .claim("live-worker", &["scan-firmware"], 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.attempts, 2);
        tamper(&test, "UPDATE jobs SET lease_until = 1").await;
        store.requeue_expired().await.unwrap();
        assert_eq!(store.job(&queued.id).await.unwrap().state, JobState::Failed);
        // A graceful shutdown hands a job back without counting the attempt.
        let next = store
            .enqueue(&Actor::Server, &job(&acme.id, "rel_2"))
            .await
            .unwrap();
        store
            .claim("stopping", &["scan-firmware"], 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.release_jobs("stopping").await.unwrap(), 1);
        let released = store.job(&next.id).await.unwrap();
        assert_eq!((released.state, released.attempts), (JobState::Queued, 0));
    }
}
