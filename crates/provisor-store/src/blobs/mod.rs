//! The blob store: every file the server keeps outside the database (evidence, scans,
//! firmware images, issued reports), content-addressed by SHA-256 within one
//! organisation's namespace (`<organisation>/<ab>/<sha256>`), so one organisation never
//! learns that another holds the same file.
//!
//! Where blobs are kept is one trait, [`BlobBackend`]: a local directory (the default,
//! `directory.rs`) or S3-compatible object storage (`object.rs`, behind the `s3` cargo
//! feature). Either way an upload streams into a temporary file of the local data
//! directory while it is hashed and counted against its limit; only a complete upload is
//! handed to the backend under its hash, and only if no blob is kept there yet, so an
//! interrupted upload leaves nothing a reader could take for a blob. A blob is written
//! once and never changed; a revision that stops naming it does not delete it. Readers
//! get a local file: the directory's own, or a copy fetched from the object store into a
//! bounded cache and checked against its hash before anyone reads it.

mod directory;
#[cfg(feature = "s3")]
mod object;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::{StoreError, hex, random_hex};

pub use directory::Directory;
#[cfg(feature = "s3")]
pub use object::{AmazonS3Builder, ObjectStorage};

/// A future a backend returns.
pub type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A blob's name: its organisation and its SHA-256, both checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey {
    organisation: String,
    sha256: String,
}

impl BlobKey {
    /// A key, if the organisation can name a namespace and the hash is a SHA-256 in
    /// lowercase hex.
    pub fn new(organisation: &str, sha256: &str) -> Result<BlobKey, StoreError> {
        if !is_namespace(organisation) || !is_sha256(sha256) {
            return Err(StoreError::Invalid(format!(
                "not a blob name: {organisation}/{sha256}"
            )));
        }
        Ok(BlobKey {
            organisation: organisation.to_owned(),
            sha256: sha256.to_owned(),
        })
    }

    /// The organisation.
    pub fn organisation(&self) -> &str {
        &self.organisation
    }

    /// The SHA-256.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Its place below a store's root: `<organisation>/<ab>/<sha256>`.
    pub fn relative(&self) -> String {
        format!(
            "{}/{}/{}",
            self.organisation,
            &self.sha256[..2],
            self.sha256
        )
    }
}

/// Where blobs are kept. Every method is given keys only, never paths from outside.
pub trait BlobBackend: Send + Sync + std::fmt::Debug {
    /// What it is, for messages: `directory /srv/provisor/blobs`, `s3://bucket/prefix`.
    fn describe(&self) -> String;

    /// Keeps `file` (complete, `size` bytes, its SHA-256 the key's) under `key` unless
    /// a blob is kept there already, which then stays as it is. The file may be moved
    /// away; whatever is left of it the caller removes.
    fn keep<'a>(&'a self, key: &'a BlobKey, file: &'a Path, size: u64) -> BlobFuture<'a, ()>;

    /// Whether the blobs are files of the local data directory (a backup copies them).
    fn is_local(&self) -> bool;

    /// A local file holding the blob, checked against its hash when it was fetched;
    /// [`StoreError::NotFound`] when none is kept.
    fn local<'a>(&'a self, key: &'a BlobKey) -> BlobFuture<'a, PathBuf>;
}

/// The blob store.
#[derive(Debug, Clone)]
pub struct Blobs {
    backend: Arc<dyn BlobBackend>,
    /// The local directory: uploads in progress under `tmp/`, and the directory
    /// backend's blobs or the object store's cache.
    root: PathBuf,
}

/// A blob in place: its organisation, hash and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// The organisation whose namespace holds it.
    pub organisation: String,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// An upload on its way into the blob store.
#[derive(Debug)]
pub struct BlobWriter {
    file: tokio::fs::File,
    temporary: PathBuf,
    hasher: Sha256,
    written: u64,
    limit: u64,
    organisation: String,
    backend: Arc<dyn BlobBackend>,
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Removes the files a crash left in a directory of unfinished writes.
pub(crate) fn remove_files_in(directory: &Path) {
    if let Ok(entries) = std::fs::read_dir(directory) {
        for entry in entries.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether text is a SHA-256 in lowercase hex.
pub(crate) fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether text can name an organisation's directory (ids the server made).
fn is_namespace(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// Where the blobs of a store are kept, as an administrator configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// The data directory's `blobs/` (the default).
    DataDirectory,
    /// S3-compatible object storage: `s3://BUCKET[/PREFIX]`, reached with the
    /// `AWS_*` settings of the environment (endpoint, region, keys).
    ObjectStorage(String),
}

impl BlobLocation {
    /// Reads a `--blobs` value: `s3://BUCKET[/PREFIX]`, or nothing for the data directory.
    pub fn parse(text: Option<&str>) -> Result<BlobLocation, StoreError> {
        match text.map(str::trim) {
            None | Some("") => Ok(BlobLocation::DataDirectory),
            Some(url) if url.starts_with("s3://") => {
                Ok(BlobLocation::ObjectStorage(url.to_owned()))
            }
            Some(other) => Err(StoreError::Invalid(format!(
                "unsupported blob store \"{other}\": use s3://BUCKET[/PREFIX], or leave it out to keep blobs in the data directory"
            ))),
        }
    }
}

impl Blobs {
    /// Opens the blob directory `root`, creating it; temporary files a crash left are
    /// removed.
    pub fn open(root: &Path) -> Result<Blobs, StoreError> {
        Blobs::open_at(root, &BlobLocation::DataDirectory)
    }

    /// Opens the blob store at `location`, with `root` as its local directory (uploads
    /// in progress, and the object store's cache).
    pub fn open_at(root: &Path, location: &BlobLocation) -> Result<Blobs, StoreError> {
        let temporary = root.join("tmp");
        std::fs::create_dir_all(&temporary).map_err(io_error(&temporary))?;
        remove_files_in(&temporary);
        let backend: Arc<dyn BlobBackend> = match location {
            BlobLocation::DataDirectory => Arc::new(Directory::new(root)),
            #[cfg(feature = "s3")]
            BlobLocation::ObjectStorage(url) => Arc::new(ObjectStorage::from_env(url, root)?),
            #[cfg(not(feature = "s3"))]
            BlobLocation::ObjectStorage(url) => {
                return Err(StoreError::Invalid(format!(
                    "{url}: this provisor was built without object storage; build it with `--features s3`"
                )));
            }
        };
        Blobs::with_backend(root, backend)
    }

    /// A blob store on `backend`, with `root` as its local directory.
    pub fn with_backend(root: &Path, backend: Arc<dyn BlobBackend>) -> Result<Blobs, StoreError> {
        let temporary = root.join("tmp");
        std::fs::create_dir_all(&temporary).map_err(io_error(&temporary))?;
        Ok(Blobs {
            backend,
            root: root.to_path_buf(),
        })
    }

    /// The local directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where blobs are kept, for messages.
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Whether the blobs are files of the local directory.
    pub fn is_local(&self) -> bool {
        self.backend.is_local()
    }

    /// A local file holding a blob of an organisation (fetched and checked first when
    /// the blobs are kept in object storage).
    pub async fn local_file(
        &self,
        organisation: &str,
        sha256: &str,
    ) -> Result<PathBuf, StoreError> {
        let key = BlobKey::new(organisation, sha256)?;
        self.backend.local(&key).await
    }

    /// Starts an upload into an organisation's namespace, refused past `limit` bytes.
    pub async fn writer(&self, organisation: &str, limit: u64) -> Result<BlobWriter, StoreError> {
        if !is_namespace(organisation) {
            return Err(StoreError::Invalid(format!(
                "not an organisation id: {organisation}"
            )));
        }
        let temporary = self.root.join("tmp").join(random_hex(12));
        let file = tokio::fs::File::create(&temporary)
            .await
            .map_err(io_error(&temporary))?;
        Ok(BlobWriter {
            file,
            temporary,
            hasher: Sha256::new(),
            written: 0,
            limit,
            organisation: organisation.to_owned(),
            backend: self.backend.clone(),
        })
    }

    /// Stores bytes held in memory (reports, small documents).
    pub async fn put(&self, organisation: &str, bytes: &[u8]) -> Result<StoredBlob, StoreError> {
        let mut writer = self.writer(organisation, u64::MAX).await?;
        writer.write(bytes).await?;
        writer.finish().await
    }

    /// Reads a whole blob (callers bound the size through the blob's record).
    pub async fn read(&self, organisation: &str, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.local_file(organisation, sha256).await?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NotFound(format!("blob {sha256}")))
            }
            Err(source) => Err(StoreError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Opens a blob for streaming.
    pub async fn open_blob(
        &self,
        organisation: &str,
        sha256: &str,
    ) -> Result<tokio::fs::File, StoreError> {
        let path = self.local_file(organisation, sha256).await?;
        tokio::fs::File::open(&path).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                StoreError::NotFound(format!("blob {sha256}"))
            } else {
                StoreError::Io {
                    path: path.display().to_string(),
                    source,
                }
            }
        })
    }
}

impl BlobWriter {
    /// Appends bytes; past the limit the upload is abandoned.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.written += bytes.len() as u64;
        if self.written > self.limit {
            let _ = tokio::fs::remove_file(&self.temporary).await;
            return Err(StoreError::TooLarge { limit: self.limit });
        }
        self.hasher.update(bytes);
        self.file
            .write_all(bytes)
            .await
            .map_err(io_error(&self.temporary))
    }

    /// How many bytes were written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Syncs the upload and hands it to the store under its hash.
    pub async fn finish(mut self) -> Result<StoredBlob, StoreError> {
        self.file.flush().await.map_err(io_error(&self.temporary))?;
        self.file
            .sync_all()
            .await
            .map_err(io_error(&self.temporary))?;
        let sha256 = hex(&self.hasher.finalize_reset());
        let key = BlobKey::new(&self.organisation, &sha256)?;
        self.backend
            .keep(&key, &self.temporary, self.written)
            .await?;
        Ok(StoredBlob {
            organisation: self.organisation.clone(),
            sha256,
            size: self.written,
        })
    }

    /// Abandons the upload.
    pub async fn abandon(self) {
        let _ = tokio::fs::remove_file(&self.temporary).await;
    }
}

impl Drop for BlobWriter {
    /// An upload dropped unfinished (the client went away) leaves no temporary file,
    /// nor does one the backend copied rather than moved.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temporary);
    }
}
