//! Blobs in S3-compatible object storage (the `s3` feature), against s3s-fs on loopback,
//! with the fault proxy between the store and the server for the fault tests: written
//! once under their hash, multipart when large, fetched into the cache and checked,
//! a corrupted object refused, a connection cut mid-part or mid-download survived.

use std::sync::Arc;

use provisor_store::blobs_object::{AmazonS3Builder, ObjectStorage};
use provisor_store::{Blobs, StoreError};
use provisor_testkit::{BUCKET, Fault, FaultProxy, S3Server};

const ORGANISATION: &str = "org_acme";

/// A blob store on the S3 server at `endpoint`, below `prefix`, its cache limited to
/// `cache_limit` bytes.
fn blobs(endpoint: &str, local: &std::path::Path, cache_limit: u64) -> Blobs {
    let settings = S3Server::settings(endpoint);
    let settings: Vec<(&str, &str)> = settings
        .iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect();
    let storage = ObjectStorage::with_settings(
        &format!("s3://{BUCKET}/fleet"),
        AmazonS3Builder::new(),
        &settings,
        local,
    )
    .unwrap()
    .with_cache_limit(cache_limit);
    Blobs::with_backend(local, Arc::new(storage)).unwrap()
}

/// Bytes that do not repeat (a pattern would compress, and hide an offset error).
fn bytes(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..size)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u8
        })
        .collect()
}

/// Where a blob of the organisation lies below `root`: `<organisation>/<ab>/<sha256>`.
fn blob_under(root: &std::path::Path, sha256: &str) -> std::path::PathBuf {
    root.join(ORGANISATION).join(&sha256[..2]).join(sha256)
}

/// The object's file in the S3 server's directory.
fn object_file(server: &S3Server, sha256: &str) -> std::path::PathBuf {
    blob_under(&server.bucket_dir().join("fleet"), sha256)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_are_kept_under_their_hash_once_and_read_back_checked() {
    let Some(server) = S3Server::start() else {
        return;
    };
    let local = tempfile::tempdir().unwrap();
    let store = blobs(&server.endpoint(), local.path(), 1 << 30);

    // A small blob: one conditional PUT.
    let small = bytes(70_000, 1);
    let kept = store.put(ORGANISATION, &small).await.unwrap();
    assert_eq!(kept.size, small.len() as u64);
    assert_eq!(
        std::fs::read(object_file(&server, &kept.sha256)).unwrap(),
        small
    );
    // Kept again: nothing changes, no error.
    assert_eq!(store.put(ORGANISATION, &small).await.unwrap(), kept);
    assert_eq!(store.read(ORGANISATION, &kept.sha256).await.unwrap(), small);

    // A large blob streamed in pieces: a multipart upload of 8 MiB parts.
    let large = bytes(20 << 20, 2);
    let mut writer = store.writer(ORGANISATION, u64::MAX).await.unwrap();
    for piece in large.chunks(300_000) {
        writer.write(piece).await.unwrap();
    }
    let kept_large = writer.finish().await.unwrap();
    assert_eq!(
        std::fs::read(object_file(&server, &kept_large.sha256)).unwrap(),
        large
    );
    let local_copy = store
        .local_file(ORGANISATION, &kept_large.sha256)
        .await
        .unwrap();
    assert!(local_copy.starts_with(local.path().join("cache")));
    assert_eq!(std::fs::read(&local_copy).unwrap(), large);
    // Nothing left of the uploads.
    assert_eq!(
        std::fs::read_dir(local.path().join("tmp")).unwrap().count(),
        0
    );

    // A blob no one kept.
    let missing = "0".repeat(64);
    assert!(matches!(
        store.local_file(ORGANISATION, &missing).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_object_is_refused_and_never_cached() {
    let Some(server) = S3Server::start() else {
        return;
    };
    let local = tempfile::tempdir().unwrap();
    let store = blobs(&server.endpoint(), local.path(), 1 << 30);
    let content = bytes(100_000, 3);
    let kept = store.put(ORGANISATION, &content).await.unwrap();
    // One byte changed on the server's disk.
    let object = object_file(&server, &kept.sha256);
    let mut damaged = std::fs::read(&object).unwrap();
    damaged[50_000] ^= 0x20;
    std::fs::write(&object, &damaged).unwrap();

    let error = store
        .local_file(ORGANISATION, &kept.sha256)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Blob(_)), "{error}");
    assert!(error.to_string().contains("corrupted"), "{error}");
    let cached = blob_under(&local.path().join("cache"), &kept.sha256);
    assert!(!cached.exists(), "a damaged copy was cached");
    assert_eq!(
        std::fs::read_dir(local.path().join("cache/tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_part_or_mid_download_is_retried() {
    let Some(server) = S3Server::start() else {
        return;
    };
    let proxy = FaultProxy::start(server.address()).unwrap();
    let local = tempfile::tempdir().unwrap();
    let store = blobs(
        &format!("http://{}", proxy.address()),
        local.path(),
        1 << 30,
    );

    // The next connection is cut after 3 MiB went up: inside the first 8 MiB part.
    let large = bytes(18 << 20, 4);
    proxy.set_for(Fault::CutUpload(3 << 20), 1);
    let mut writer = store.writer(ORGANISATION, u64::MAX).await.unwrap();
    writer.write(&large).await.unwrap();
    let kept = writer.finish().await.unwrap();
    assert!(proxy.cut() >= 1, "the fault was not met");
    assert_eq!(
        std::fs::read(object_file(&server, &kept.sha256)).unwrap(),
        large
    );

    // Another server (its own connections, its own cache) reads it: the first
    // connection is cut after 1 MiB came down.
    let elsewhere = tempfile::tempdir().unwrap();
    let store = blobs(
        &format!("http://{}", proxy.address()),
        elsewhere.path(),
        1 << 30,
    );
    let cut_before = proxy.cut();
    proxy.set_for(Fault::CutDownload(1 << 20), 1);
    let fetched = match store.local_file(ORGANISATION, &kept.sha256).await {
        Ok(path) => path,
        // Refused rather than retried: nothing is cached, and the next read succeeds.
        Err(StoreError::Blob(_)) => store.local_file(ORGANISATION, &kept.sha256).await.unwrap(),
        Err(other) => panic!("{other}"),
    };
    assert!(proxy.cut() > cut_before, "the fault was not met");
    assert_eq!(std::fs::read(fetched).unwrap(), large);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_keeps_the_most_recently_used_within_its_limit() {
    let Some(server) = S3Server::start() else {
        return;
    };
    let local = tempfile::tempdir().unwrap();
    let store = blobs(&server.endpoint(), local.path(), 250_000);
    let mut kept = Vec::new();
    for seed in 10..14 {
        kept.push(
            store
                .put(ORGANISATION, &bytes(100_000, seed))
                .await
                .unwrap(),
        );
    }
    for blob in &kept {
        store.local_file(ORGANISATION, &blob.sha256).await.unwrap();
        // File times are whole ticks apart, so the order of use is plain.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let cached: Vec<_> = kept
        .iter()
        .filter(|blob| blob_under(&local.path().join("cache"), &blob.sha256).exists())
        .map(|blob| blob.sha256.clone())
        .collect();
    // Two fit; they are the last two used.
    assert_eq!(cached, vec![kept[2].sha256.clone(), kept[3].sha256.clone()]);
    // One dropped from the cache is fetched again.
    let again = store.read(ORGANISATION, &kept[0].sha256).await.unwrap();
    assert_eq!(again, bytes(100_000, 10));
}
