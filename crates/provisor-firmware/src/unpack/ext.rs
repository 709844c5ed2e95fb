//! ext2, ext3 and ext4 through ext4-view (pure Rust, read-only; extents, htree
//! directories and the journal included). The tree is listed eagerly; file contents are
//! read on demand, each reading thread keeping its own view of the filesystem, because
//! ext4-view's handle is single-threaded.
//!
//! The superblock sits 1 KiB into the filesystem; its magic `53 ef` alone is too common
//! to trust, so a candidate must also have sane block size, revision, state and counts.

use std::io::Read;
use std::sync::Arc;

use ext4_view::{Ext4, Ext4Read};

use super::{Listed, Refused, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

/// Where the magic lies, counted from the start of the filesystem.
pub(crate) const MAGIC_OFFSET: usize = 0x438;
const SUPERBLOCK: usize = 0x400;

fn le32(data: &[u8], at: usize) -> u32 {
    data.get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn le16(data: &[u8], at: usize) -> u16 {
    data.get(at..at + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}

/// The superblock's fields are those of a real filesystem.
pub(crate) fn plausible(data: &[u8]) -> bool {
    let field32 = |at: usize| le32(data, SUPERBLOCK + at);
    let field16 = |at: usize| le16(data, SUPERBLOCK + at);
    data.len() >= SUPERBLOCK + 1024
        && field16(0x38) == 0xef53
        && field32(0x00) > 0 // inodes
        && field32(0x04) > 0 // blocks
        && field32(0x18) <= 6 // log2(block size) - 10
        && field32(0x4c) <= 1 // revision
        && (1..=7).contains(&field16(0x3a)) // state
        && (1..=3).contains(&field16(0x3c)) // behaviour on errors
        && field32(0x20) > 0 // blocks per group
        && field32(0x28) > 0 // inodes per group
}

/// The filesystem's bytes, as ext4-view reads them.
struct Region {
    image: Arc<[u8]>,
    start: usize,
    end: usize,
}

impl Ext4Read for Region {
    fn read(
        &mut self,
        start_byte: u64,
        dst: &mut [u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        let from = usize::try_from(start_byte)
            .ok()
            .and_then(|at| self.start.checked_add(at))
            .filter(|&at| at <= self.end);
        let to = from.and_then(|at| at.checked_add(dst.len()));
        match (from, to) {
            (Some(from), Some(to)) if to <= self.end => {
                dst.copy_from_slice(&self.image[from..to]);
                Ok(())
            }
            _ => Err(format!(
                "{} bytes at {start_byte:#x} lie past the end of the filesystem",
                dst.len()
            )
            .into()),
        }
    }
}

/// One mounted ext filesystem; `paths` are the files' paths inside it.
struct ExtFs {
    image: Arc<[u8]>,
    start: usize,
    end: usize,
    paths: Vec<String>,
}

impl ExtFs {
    fn load(&self) -> Result<Ext4, String> {
        guarded(|| {
            Ext4::load(Box::new(Region {
                image: self.image.clone(),
                start: self.start,
                end: self.end,
            }))
            .map_err(|error| error.to_string())
        })
    }
}

/// Runs ext4-view, turning a panic on malformed data into an error.
fn guarded<T>(work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    crate::contain::contained(work)
        .unwrap_or_else(|()| Err("the decoder failed on malformed data".into()))
}

impl FileSource for ExtFs {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let path = self.paths.get(id).ok_or("no such file")?;
        let view = self.load()?;
        guarded(|| {
            let file = view
                .open(path.as_str())
                .map_err(|error| error.to_string())?;
            let mut bytes = Vec::new();
            file.take(limit + 1)
                .read_to_end(&mut bytes)
                .map_err(|error| error.to_string())?;
            Ok(bytes)
        })
    }
}

/// Mounts the filesystem starting at `offset`; returns the bytes it spans.
pub(crate) fn mount_ext(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let superblock = &data[offset + SUPERBLOCK..];
    let block_size = 1024usize << le32(superblock, 0x18);
    let blocks = u64::from(le32(superblock, 0x04));
    let span = usize::try_from(blocks * block_size as u64).unwrap_or(usize::MAX);
    let end = offset.saturating_add(span);
    if end > data.len() {
        return Err(Refused::Broken(format!(
            "ext filesystem declares {span} bytes, only {} are present (truncated image?)",
            data.len() - offset
        )));
    }
    let mut filesystem = ExtFs {
        image: data.clone(),
        start: offset,
        end,
        paths: Vec::new(),
    };
    let view = filesystem
        .load()
        .map_err(|error| Refused::Broken(format!("not a readable ext filesystem: {error}")))?;
    let corrupt = |error: String| Refused::Broken(format!("ext filesystem is corrupt: {error}"));
    // (path, kind, mode, owner, size, file id)
    let mut entries: Vec<Listed> = Vec::new();
    let mut pending = vec!["/".to_owned()];
    while let Some(directory) = pending.pop() {
        let listing = guarded(|| {
            let mut listing = Vec::new();
            for entry in view
                .read_dir(directory.as_str())
                .map_err(|error| error.to_string())?
            {
                let entry = entry.map_err(|error| error.to_string())?;
                let name = String::from_utf8_lossy(entry.file_name().as_ref()).into_owned();
                if name == "." || name == ".." {
                    continue;
                }
                let metadata = entry.metadata().map_err(|error| error.to_string())?;
                let path = format!("{}/{name}", directory.trim_end_matches('/'));
                let file_type = metadata.file_type();
                let kind = if file_type.is_dir() {
                    NodeKind::Directory
                } else if file_type.is_regular_file() {
                    NodeKind::File
                } else if file_type.is_symlink() {
                    let target = view
                        .read_link(path.as_str())
                        .map_err(|error| error.to_string())?;
                    NodeKind::Symlink(String::from_utf8_lossy(target.as_ref()).into_owned())
                } else {
                    NodeKind::Special
                };
                listing.push((
                    path,
                    kind,
                    u32::from(metadata.mode()),
                    (metadata.uid(), metadata.gid()),
                    metadata.len(),
                ));
            }
            Ok(listing)
        })
        .map_err(corrupt)?;
        for (path, kind, mode, owner, size) in listing {
            if kind == NodeKind::Directory {
                pending.push(path.clone());
            }
            let file = if kind == NodeKind::File {
                filesystem.paths.push(path.clone());
                Some(filesystem.paths.len() - 1)
            } else {
                None
            };
            entries.push((path, kind, mode, owner, size, file));
            // A directory linked into itself would list forever: the sandbox's file limit
            // ends it, but stop at the same bound here before listing more.
            if entries.len() > sandbox.limits().max_files {
                return Err(Refused::Broken(format!(
                    "unpacking stopped: more than {} entries",
                    sandbox.limits().max_files
                )));
            }
        }
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(filesystem), entries)?;
    Ok(Some(span))
}
