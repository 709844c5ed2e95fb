//! Revisions of an assessment's file tree.

use provisor_store::{Actor, NewFile, NewProduct, NewRelease, OrganisationKind, StoreError};

use crate::portfolio::tree;
use crate::{organisation, stores};

#[tokio::test]
async fn revisions_are_kept_and_stale_writers_refused() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let product = store
            .create_product(
                &Actor::Server,
                &acme.id,
                &NewProduct {
                    name: "Cam".into(),
                    model: "C".into(),
                },
            )
            .await
            .unwrap();
        let release = store
            .create_release(
                &Actor::Server,
                &product.id,
                &NewRelease {
                    version: "1".into(),
                    support_period_end: None,
                },
            )
            .await
            .unwrap();
        let first = store
            .create_assessment(&Actor::Server, &release.id, &tree(&"a".repeat(64)))
            .await
            .unwrap();
        assert_eq!(first.current_revision, 1);
        let mut next = tree(&"b".repeat(64));
        next.files.push(NewFile {
            path: "scans/fw.json".into(),
            role: "scan".into(),
            sha256: "c".repeat(64),
            size: 3,
        });
        next.note = "scan result".into();
        let second = store
            .add_revision(&Actor::Server, &first.id, 1, &next)
            .await
            .unwrap();
        assert_eq!(second.current_revision, 2);
        let stale = store
            .add_revision(&Actor::Server, &first.id, 1, &next)
            .await;
        assert!(
            matches!(stale, Err(StoreError::Conflict(message)) if message.contains("revision 2")),
            "{}",
            test.engine
        );
        assert_eq!(store.files(&first.id, 1).await.unwrap().len(), 1);
        assert_eq!(store.files(&first.id, 2).await.unwrap().len(), 2);
        assert_eq!(store.revisions(&first.id).await.unwrap().len(), 2);
        assert_eq!(
            store.blob_size(&acme.id, &"c".repeat(64)).await.unwrap(),
            Some(3)
        );

        for path in ["../etc/passwd", "/abs", "a/./b", "a//b", ""] {
            let mut escaping = tree(&"a".repeat(64));
            escaping.files.push(NewFile {
                path: path.into(),
                role: "evidence".into(),
                sha256: "d".repeat(64),
                size: 1,
            });
            let refused = store
                .add_revision(&Actor::Server, &first.id, 2, &escaping)
                .await;
            assert!(
                matches!(refused, Err(StoreError::Invalid(_))),
                "{path}: {refused:?}"
            );
        }
    }
}

#[tokio::test]
async fn blobs_stream_to_their_hash_and_refuse_past_the_limit() {
    for test in stores().await {
        let store = &test.store;
        let acme = organisation(store, "Acme", OrganisationKind::Manufacturer).await;
        let mut writer = store.blobs().writer(&acme.id, 10).await.unwrap();
        writer.write(b"hello ").await.unwrap();
        writer.write(b"you").await.unwrap();
        let blob = writer.finish().await.unwrap();
        assert_eq!(blob.sha256, provisor_store::sha256_hex(b"hello you"));
        assert_eq!(
            store.blobs().read(&acme.id, &blob.sha256).await.unwrap(),
            b"hello you"
        );
        let mut writer = store.blobs().writer(&acme.id, 4).await.unwrap();
        assert!(matches!(
            writer.write(b"hello").await,
            Err(StoreError::TooLarge { limit: 4 })
        ));
        drop(writer);
        let leftovers = std::fs::read_dir(store.blobs().root().join("tmp"))
            .unwrap()
            .count();
        assert_eq!(leftovers, 0, "an abandoned upload leaves nothing");
        // Another organisation's namespace does not hold it.
        let other = organisation(store, "Other", OrganisationKind::Manufacturer).await;
        assert!(matches!(
            store.blobs().read(&other.id, &blob.sha256).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(
            store
                .blobs()
                .local_file("../x", &blob.sha256)
                .await
                .is_err()
        );
    }
}
