//! The blob directory: every file the server keeps outside the database (evidence,
//! scans, firmware images, issued reports), content-addressed by SHA-256 within one
//! organisation's namespace (`blobs/<organisation>/<ab>/<sha256>`), so one organisation
//! never learns that another holds the same file.
//!
//! An upload streams into a temporary file while it is hashed and counted against its
//! limit; only a complete upload is synced and renamed into place, so an interrupted one
//! leaves nothing a reader could take for a blob. A blob is written once and never
//! changed; a revision that stops naming it does not delete it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::{StoreError, hex, random_hex};

/// The blob directory.
#[derive(Debug, Clone)]
pub struct Blobs {
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

/// An upload on its way into the blob directory.
#[derive(Debug)]
pub struct BlobWriter {
    file: tokio::fs::File,
    temporary: PathBuf,
    hasher: Sha256,
    written: u64,
    limit: u64,
    organisation: String,
    root: PathBuf,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
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

impl Blobs {
    /// Opens the blob directory, creating it; temporary files a crash left are removed.
    pub fn open(root: &Path) -> Result<Blobs, StoreError> {
        let temporary = root.join("tmp");
        std::fs::create_dir_all(&temporary).map_err(io_error(&temporary))?;
        if let Ok(entries) = std::fs::read_dir(&temporary) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Blobs {
            root: root.to_path_buf(),
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob of an organisation lives.
    pub fn path(&self, organisation: &str, sha256: &str) -> Result<PathBuf, StoreError> {
        if !is_namespace(organisation) || !is_sha256(sha256) {
            return Err(StoreError::Invalid(format!(
                "not a blob name: {organisation}/{sha256}"
            )));
        }
        Ok(self.root.join(organisation).join(&sha256[..2]).join(sha256))
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
            root: self.root.clone(),
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
        let path = self.path(organisation, sha256)?;
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
        let path = self.path(organisation, sha256)?;
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

    /// Syncs the upload and moves it into place under its hash.
    pub async fn finish(mut self) -> Result<StoredBlob, StoreError> {
        self.finish_in_place().await
    }

    async fn finish_in_place(&mut self) -> Result<StoredBlob, StoreError> {
        self.file.flush().await.map_err(io_error(&self.temporary))?;
        self.file
            .sync_all()
            .await
            .map_err(io_error(&self.temporary))?;
        let sha256 = hex(&self.hasher.finalize_reset());
        let directory = self.root.join(&self.organisation).join(&sha256[..2]);
        tokio::fs::create_dir_all(&directory)
            .await
            .map_err(io_error(&directory))?;
        let target = directory.join(&sha256);
        if tokio::fs::metadata(&target).await.is_ok() {
            let _ = tokio::fs::remove_file(&self.temporary).await;
        } else {
            tokio::fs::rename(&self.temporary, &target)
                .await
                .map_err(io_error(&target))?;
            if let Ok(directory) = tokio::fs::File::open(&directory).await {
                let _ = directory.sync_all().await;
            }
        }
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
    /// An upload dropped unfinished (the client went away) leaves no temporary file;
    /// after `finish` the file is already gone and this does nothing.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temporary);
    }
}
