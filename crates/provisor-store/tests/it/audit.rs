//! The hash-chained audit log: altered, removed and cut-off entries are found.

use provisor_store::{Actor, OrganisationKind, ServerKey};

use crate::{TestStore, organisation, stores, tamper};

async fn with_history(test: &TestStore) -> ServerKey {
    let key = ServerKey::load_or_create(&test.dir.path().join("server.key")).unwrap();
    for name in ["A", "B", "C", "D"] {
        organisation(&test.store, name, OrganisationKind::Manufacturer).await;
    }
    key
}

#[tokio::test]
async fn an_untouched_log_holds() {
    for test in stores().await {
        let key = with_history(&test).await;
        let checkpoint = test.store.checkpoint(&key).await.unwrap().unwrap();
        assert_eq!(checkpoint.seq, 4);
        assert!(
            test.store.checkpoint(&key).await.unwrap().is_none(),
            "no second checkpoint of one head"
        );
        let verification = test.store.verify_audit(&key).await.unwrap();
        assert!(
            verification.holds(),
            "{}: {:?}",
            test.engine,
            verification.problems
        );
        assert_eq!((verification.entries, verification.checkpoints), (4, 1));
        let entries = test.store.audit_entries(0, 10, None).await.unwrap();
        assert_eq!(entries[0].action, "organisation.create");
        assert_eq!(entries[0].actor, "server");
        assert_eq!(entries[1].prev_hash, entries[0].hash);
        // The key survives a restart.
        let again = ServerKey::load_or_create(&test.dir.path().join("server.key")).unwrap();
        assert_eq!(again.public_hex(), key.public_hex());
    }
}

#[tokio::test]
async fn an_altered_entry_is_found() {
    for test in stores().await {
        let key = with_history(&test).await;
        tamper(
            &test,
            "UPDATE audit_log SET after_json = '{\"name\":\"Z\"}' WHERE seq = 2",
        )
        .await;
        let verification = test.store.verify_audit(&key).await.unwrap();
        assert!(
            verification
                .problems
                .iter()
                .any(|p| p.contains("entry 2") && p.contains("altered")),
            "{}: {:?}",
            test.engine,
            verification.problems
        );
    }
}

#[tokio::test]
async fn a_removed_entry_is_found() {
    for test in stores().await {
        let key = with_history(&test).await;
        tamper(&test, "DELETE FROM audit_log WHERE seq = 2").await;
        let verification = test.store.verify_audit(&key).await.unwrap();
        assert!(
            verification.problems.iter().any(|p| p.contains("missing")),
            "{}: {:?}",
            test.engine,
            verification.problems
        );
    }
}

#[tokio::test]
async fn a_cut_off_end_is_found_even_with_the_head_rewritten() {
    for test in stores().await {
        let key = with_history(&test).await;
        test.store.checkpoint(&key).await.unwrap();
        let entries = test.store.audit_entries(0, 10, None).await.unwrap();
        tamper(
            &test,
            &format!("DELETE FROM audit_log WHERE seq = 4; UPDATE audit_head SET seq = 3, hash = '{}' WHERE id = 1", entries[2].hash),
        )
        .await;
        let verification = test.store.verify_audit(&key).await.unwrap();
        assert!(
            verification
                .problems
                .iter()
                .any(|p| p.contains("checkpoint at entry 4") && p.contains("cut off")),
            "{}: {:?}",
            test.engine,
            verification.problems
        );
    }
}

#[tokio::test]
async fn a_checkpoint_by_another_key_is_found() {
    for test in stores().await {
        let key = with_history(&test).await;
        let other = ServerKey::load_or_create(&test.dir.path().join("other.key")).unwrap();
        test.store.checkpoint(&other).await.unwrap();
        let verification = test.store.verify_audit(&key).await.unwrap();
        assert!(
            verification
                .problems
                .iter()
                .any(|p| p.contains("signature")),
            "{:?}",
            verification.problems
        );
        let _ = Actor::Server;
    }
}
