//! Blobs kept in S3-compatible object storage (the `s3` cargo feature), through the
//! `object_store` crate: `s3://BUCKET[/PREFIX]`, the endpoint, region and keys from the
//! environment's `AWS_*` settings (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP` for a plain-HTTP endpoint).
//!
//! An object's key is the blob's (`PREFIX/<organisation>/<ab>/<sha256>`), so it is
//! written only when no object is there yet: a small blob with a conditional PUT
//! (`If-None-Match: *`), a large one in parts of [`PART`] bytes, at most [`PARTS_IN_FLIGHT`]
//! at a time (so an upload of any size holds a few parts in memory), after a HEAD found
//! no object (two servers racing to upload the same blob upload the same bytes). The
//! crate's client retries a request that failed on the way, a part included. Reads
//! fetch the object into a local cache, streamed and hashed, and only a copy whose hash
//! is the key's is renamed into the cache: a corrupted or truncated object is an error,
//! never a file someone reads. The cache keeps at most [`CACHE_BYTES`], the least
//! recently used files going first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
pub use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{BlobBackend, BlobFuture, BlobKey, io_error, remove_files_in};
use crate::{StoreError, hex, random_hex};

/// The size of an upload's parts (S3 wants at least 5 MiB but for the last).
pub const PART: usize = 8 << 20;
/// How many parts of one upload are sent at once.
pub const PARTS_IN_FLIGHT: usize = 2;
/// How much the local cache of fetched blobs keeps.
pub const CACHE_BYTES: u64 = 16 << 30;

/// Blobs in an S3 bucket.
#[derive(Debug)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    url: String,
    prefix: String,
    cache: PathBuf,
    cache_limit: u64,
}

fn object_error(what: &str, error: object_store::Error) -> StoreError {
    match error {
        object_store::Error::NotFound { .. } => StoreError::NotFound(what.to_owned()),
        other => StoreError::Blob(format!("{what}: {other}")),
    }
}

impl ObjectStorage {
    /// The bucket `url` names (`s3://BUCKET[/PREFIX]`), reached as the environment's
    /// `AWS_*` settings say; fetched blobs are cached under `root/cache`.
    pub fn from_env(url: &str, root: &Path) -> Result<ObjectStorage, StoreError> {
        ObjectStorage::with_settings(url, AmazonS3Builder::from_env(), &[], root)
    }

    /// The bucket `url` names, with `settings` (`object_store`'s S3 keys: `aws_endpoint`,
    /// `aws_region`, `aws_access_key_id`, `aws_secret_access_key`, `aws_allow_http`, …)
    /// over what `builder` holds.
    pub fn with_settings(
        url: &str,
        mut builder: AmazonS3Builder,
        settings: &[(&str, &str)],
        root: &Path,
    ) -> Result<ObjectStorage, StoreError> {
        for (key, value) in settings {
            let key = key.parse().map_err(|error| {
                StoreError::Invalid(format!("{url}: not an S3 setting: {key}: {error}"))
            })?;
            builder = builder.with_config(key, *value);
        }
        let rest = url.strip_prefix("s3://").unwrap_or(url);
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StoreError::Invalid(format!(
                "{url}: no bucket; use s3://BUCKET[/PREFIX]"
            )));
        }
        let store = builder
            .with_bucket_name(bucket)
            .build()
            .map_err(|error| {
                StoreError::Invalid(format!(
                    "{url}: {error}; the endpoint, region and keys come from AWS_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ))
            })?;
        Ok(ObjectStorage::new(Arc::new(store), url, prefix, root))
    }

    /// Blobs in `store` below `prefix`, cached under `root/cache` (whatever fetch a
    /// crash cut short there is removed).
    pub fn new(store: Arc<dyn ObjectStore>, url: &str, prefix: &str, root: &Path) -> ObjectStorage {
        remove_files_in(&root.join("cache").join("tmp"));
        ObjectStorage {
            store,
            url: url.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            cache: root.join("cache"),
            cache_limit: CACHE_BYTES,
        }
    }

    /// How much the cache keeps (tests make it small).
    pub fn with_cache_limit(mut self, bytes: u64) -> ObjectStorage {
        self.cache_limit = bytes;
        self
    }

    fn location(&self, key: &BlobKey) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key.relative())
        } else {
            ObjectPath::from(format!("{}/{}", self.prefix, key.relative()))
        }
    }

    fn what(&self, key: &BlobKey) -> String {
        format!("blob {} in {}", key.sha256(), self.url)
    }

    async fn upload(&self, key: &BlobKey, file: &Path, size: u64) -> Result<(), StoreError> {
        let location = self.location(key);
        let what = self.what(key);
        let mut reader = tokio::fs::File::open(file).await.map_err(io_error(file))?;
        if size <= PART as u64 {
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            reader
                .read_to_end(&mut bytes)
                .await
                .map_err(io_error(file))?;
            let options = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            return match self
                .store
                .put_opts(&location, PutPayload::from(bytes), options)
                .await
            {
                Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
                Err(error) => Err(object_error(&what, error)),
            };
        }
        let upload = self
            .store
            .put_multipart(&location)
            .await
            .map_err(|error| object_error(&what, error))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let read = match reader.read(&mut buffer).await {
                Ok(0) => break,
                Ok(read) => read,
                Err(source) => {
                    let _ = writer.abort().await;
                    return Err(io_error(file)(source));
                }
            };
            if let Err(error) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(object_error(&what, error));
            }
            writer.write(&buffer[..read]);
        }
        writer
            .finish()
            .await
            .map(|_| ())
            .map_err(|error| object_error(&what, error))
    }

    /// Fetches the blob into the cache, checked against its hash.
    async fn fetch(&self, key: &BlobKey, target: &Path) -> Result<(), StoreError> {
        let what = self.what(key);
        let result = self
            .store
            .get(&self.location(key))
            .await
            .map_err(|error| object_error(&what, error))?;
        let expected = result.meta.size;
        let temporary = self.cache.join("tmp").join(random_hex(12));
        let directory = self.cache.join("tmp");
        tokio::fs::create_dir_all(&directory)
            .await
            .map_err(io_error(&directory))?;
        let outcome = async {
            let mut file = tokio::fs::File::create(&temporary)
                .await
                .map_err(io_error(&temporary))?;
            let mut hasher = Sha256::new();
            let mut received = 0u64;
            let mut stream = result.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|error| object_error(&what, error))?;
                received += chunk.len() as u64;
                if received > expected {
                    return Err(StoreError::Blob(format!(
                        "{what}: more than the {expected} bytes the object store announced"
                    )));
                }
                hasher.update(&chunk);
                file.write_all(&chunk).await.map_err(io_error(&temporary))?;
            }
            let sha256 = hex(&hasher.finalize());
            if sha256 != key.sha256() {
                return Err(StoreError::Blob(format!(
                    "{what}: the object store sent {received} bytes whose SHA-256 is {sha256}; the object is corrupted or was cut short, and nothing was read from it"
                )));
            }
            file.flush().await.map_err(io_error(&temporary))?;
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(io_error(parent))?;
            }
            tokio::fs::rename(&temporary, target)
                .await
                .map_err(io_error(target))
        }
        .await;
        if outcome.is_err() {
            let _ = tokio::fs::remove_file(&temporary).await;
        }
        outcome
    }

    /// Removes the least recently used files of the cache until it holds at most its
    /// limit (`keep` stays, the file just fetched).
    async fn trim_cache(&self, keep: &Path) {
        let cache = self.cache.clone();
        let limit = self.cache_limit;
        let keep = keep.to_path_buf();
        let _ = tokio::task::spawn_blocking(move || {
            let mut files = Vec::new();
            let mut pending = vec![cache.clone()];
            while let Some(directory) = pending.pop() {
                let Ok(entries) = std::fs::read_dir(&directory) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let Ok(metadata) = entry.metadata() else {
                        continue;
                    };
                    if metadata.is_dir() {
                        if entry.file_name() != "tmp" {
                            pending.push(entry.path());
                        }
                    } else if let Ok(used) = metadata.modified() {
                        files.push((used, metadata.len(), entry.path()));
                    }
                }
            }
            let mut total: u64 = files.iter().map(|(_, size, _)| size).sum();
            files.sort();
            for (_, size, path) in files {
                if total <= limit {
                    break;
                }
                if path != keep && std::fs::remove_file(&path).is_ok() {
                    total -= size;
                }
            }
        })
        .await;
    }
}

impl BlobBackend for ObjectStorage {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn is_local(&self) -> bool {
        false
    }

    fn keep<'a>(&'a self, key: &'a BlobKey, file: &'a Path, size: u64) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            match self.store.head(&self.location(key)).await {
                Ok(_) => Ok(()),
                Err(object_store::Error::NotFound { .. }) => self.upload(key, file, size).await,
                Err(error) => Err(object_error(&self.what(key), error)),
            }
        })
    }

    fn local<'a>(&'a self, key: &'a BlobKey) -> BlobFuture<'a, PathBuf> {
        Box::pin(async move {
            let cached = self.cache.join(key.relative());
            if let Ok(file) = std::fs::File::options().append(true).open(&cached) {
                // Marks it used: the cache drops the least recently used first.
                let _ = file.set_modified(std::time::SystemTime::now());
                return Ok(cached);
            }
            self.fetch(key, &cached).await?;
            self.trim_cache(&cached).await;
            Ok(cached)
        })
    }
}
