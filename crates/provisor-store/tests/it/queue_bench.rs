//! The queue's benchmark (ignored; run on purpose, numbers in docs/PERFORMANCE.md):
//! `QUEUED` jobs on PostgreSQL, `WORKERS` tasks claiming and completing for `SECONDS`,
//! then the same with a transaction held open and idle on another connection (the
//! known pitfall of queues on PostgreSQL: dead rows cannot be cleaned up behind it).
//!
//! ```sh
//! PROVISOR_TEST_POSTGRES=$(scripts/postgres start /tmp/pg-bench) \
//!   cargo test --release -p provisor-store --test it -- --ignored --nocapture bench_queue
//! ```

use std::time::{Duration, Instant};

use provisor_store::{Claim, OrganisationKind};
use serde_json::json;

use crate::{organisation, stores, tamper};

const QUEUED: i64 = 100_000;
const WORKERS: usize = 8;
const SECONDS: u64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: minutes, and a PostgreSQL server"]
async fn bench_queue() {
    for test in stores().await {
        if test.engine != "postgres" {
            continue;
        }
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        tamper(
            &test,
            &format!(
                "INSERT INTO jobs (id, kind, organisation_id, subject, payload, state, max_attempts, \
                 created_by, created_at) SELECT 'job_' || n, 'scan-firmware', '{}', 'rel', '{{}}', \
                 'queued', 2, 'bench', n FROM generate_series(1, {QUEUED}) AS n; ANALYZE jobs;",
                acme.id
            ),
        )
        .await;
        for idle in [false, true] {
            let mut holder = None;
            if idle {
                use sqlx::Connection;
                let mut connection = sqlx::AnyConnection::connect(&test.url).await.unwrap();
                sqlx::raw_sql("BEGIN; SELECT count(*) FROM jobs;")
                    .execute(&mut connection)
                    .await
                    .unwrap();
                holder = Some(connection);
            }
            let until = Instant::now() + Duration::from_secs(SECONDS);
            let mut tasks = tokio::task::JoinSet::new();
            for index in 0..WORKERS {
                let store = store.clone();
                tasks.spawn(async move {
                    let worker = format!("bench{index}");
                    let mut latencies = Vec::new();
                    while Instant::now() < until {
                        let started = Instant::now();
                        let claimed = store
                            .claim(&Claim {
                                worker: &worker,
                                kinds: &["scan-firmware"],
                                lease_ms: 60_000,
                                scheduled_in_flight: 1,
                            })
                            .await
                            .unwrap();
                        latencies.push(started.elapsed());
                        let Some(job) = claimed else { break };
                        assert!(
                            store
                                .finish_job(&worker, &job.id, job.lock_version, Ok(&json!({})))
                                .await
                                .unwrap()
                        );
                    }
                    latencies
                });
            }
            let mut latencies = Vec::new();
            while let Some(done) = tasks.join_next().await {
                latencies.extend(done.unwrap());
            }
            drop(holder);
            latencies.sort();
            let count = latencies.len();
            let at = |quantile: f64| latencies[((count as f64 * quantile) as usize).min(count - 1)];
            println!(
                "{} idle transaction: {count} claim-and-complete in {SECONDS} s = {:.0}/s; \
                 claim p50 {:?}, p99 {:?}, max {:?}",
                if idle { "with an" } else { "without an" },
                count as f64 / SECONDS as f64,
                at(0.5),
                at(0.99),
                latencies[count - 1],
            );
        }
    }
}
