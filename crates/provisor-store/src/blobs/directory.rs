//! Blobs kept in a local directory (the default): `<root>/<organisation>/<ab>/<sha256>`.
//! A finished upload is renamed into place, and the directory synced, so a blob is
//! there whole or not at all.

use std::path::{Path, PathBuf};

use super::{BlobBackend, BlobFuture, BlobKey, io_error};
use crate::StoreError;

/// The blob directory.
#[derive(Debug, Clone)]
pub struct Directory {
    root: PathBuf,
}

impl Directory {
    /// The directory `root` (created by the caller).
    pub fn new(root: &Path) -> Directory {
        Directory {
            root: root.to_path_buf(),
        }
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.relative())
    }
}

impl BlobBackend for Directory {
    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }

    fn is_local(&self) -> bool {
        true
    }

    fn keep<'a>(&'a self, key: &'a BlobKey, file: &'a Path, _size: u64) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            let target = self.path(key);
            let directory = target.parent().unwrap_or(&self.root).to_path_buf();
            tokio::fs::create_dir_all(&directory)
                .await
                .map_err(io_error(&directory))?;
            if tokio::fs::metadata(&target).await.is_ok() {
                return Ok(());
            }
            tokio::fs::rename(file, &target)
                .await
                .map_err(io_error(&target))?;
            if let Ok(directory) = tokio::fs::File::open(&directory).await {
                let _ = directory.sync_all().await;
            }
            Ok(())
        })
    }

    fn local<'a>(&'a self, key: &'a BlobKey) -> BlobFuture<'a, PathBuf> {
        Box::pin(async move {
            let path = self.path(key);
            match tokio::fs::metadata(&path).await {
                Ok(_) => Ok(path),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    Err(StoreError::NotFound(format!("blob {}", key.sha256())))
                }
                Err(source) => Err(StoreError::Io {
                    path: path.display().to_string(),
                    source,
                }),
            }
        })
    }
}
