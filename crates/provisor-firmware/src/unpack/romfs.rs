//! romfs, the Linux kernel's smallest read-only filesystem (`genromfs`; boot and
//! recovery partitions of small devices): a header (`-rom1fs-`, the size, a checksum of
//! the first 512 bytes, a volume name) and a chain of 16-byte-aligned file headers, each
//! with the offset of the next, its type, an extra field (a directory's first entry, a
//! hard link's target, a device's numbers), its size and its name, the data following.
//! All numbers are big-endian. romfs keeps no owners or permissions but an executable
//! bit. Chains are walked with every header visited once, so a loop ends.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Opened, Refused, be32_at, mount};
use crate::sandbox::Sandbox;
use crate::vfs::{Content, NodeKind, Vfs};

const MAGIC: &[u8] = b"-rom1fs-";

/// The checksum over the first 512 bytes (or the whole filesystem when smaller): the
/// big-endian words sum to zero.
fn checksum_holds(data: &[u8], size: usize) -> bool {
    let end = size.min(512).min(data.len()) & !3;
    (0..end).step_by(4).fold(0u32, |sum, at| {
        sum.wrapping_add(be32_at(data, at).unwrap_or(0))
    }) == 0
}

/// The magic, a size that holds the header, and the checksum.
pub(crate) fn plausible(data: &[u8]) -> bool {
    data.starts_with(MAGIC)
        && be32_at(data, 8).is_some_and(|size| size >= 32)
        && checksum_holds(data, be32_at(data, 8).unwrap_or(0) as usize)
}

/// A null-terminated name at `at`, padded to 16 bytes; the offset after it.
fn name_at(data: &[u8], at: usize, end: usize) -> Option<(String, usize)> {
    let window = data.get(at..end)?;
    let length = memchr::memchr(0, window)?;
    let name = String::from_utf8_lossy(&window[..length]).into_owned();
    Some((name, align16(at + length + 1)))
}

fn align16(value: usize) -> usize {
    (value + 15) & !15
}

/// One file header.
struct Header {
    next: usize,
    kind: u32,
    executable: bool,
    info: usize,
    size: usize,
    name: String,
    data: usize,
}

fn header_at(data: &[u8], at: usize, end: usize) -> Result<Header, Refused> {
    let cut = || Refused::Broken(format!("the romfs file header at {at:#x} is cut off"));
    let next = be32_at(data, at).ok_or_else(cut)? as usize;
    let info = be32_at(data, at + 4).ok_or_else(cut)? as usize;
    let size = be32_at(data, at + 8).ok_or_else(cut)? as usize;
    let (name, data_start) = name_at(data, at + 16, end).ok_or_else(cut)?;
    Ok(Header {
        next: next & !15,
        kind: (next & 7) as u32,
        executable: next & 8 != 0,
        info: info & !15,
        size,
        name,
        data: data_start,
    })
}

pub(crate) fn mount_romfs(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Opened, Refused> {
    let image = &data[offset..];
    if !plausible(image) {
        return Err(Refused::NotThisFormat);
    }
    let declared = be32_at(image, 8).unwrap_or(0) as usize;
    let end = declared.min(image.len());
    if declared > image.len() {
        return Err(Refused::Broken(format!(
            "romfs says it is {declared} bytes, but only {} follow (truncated image?)",
            image.len()
        )));
    }
    let (_, first) = name_at(image, 16, end)
        .ok_or_else(|| Refused::Broken("the romfs volume name is cut off".into()))?;
    let container: Arc<str> = Arc::from(chain);
    let mut visited = HashSet::new();
    // Directories to walk: (their path, the first header of their listing).
    let mut pending = vec![(String::new(), first)];
    while let Some((directory, mut at)) = pending.pop() {
        while at != 0 {
            if at >= end || !visited.insert(at) {
                // A header outside the filesystem, or one seen before (a loop).
                break;
            }
            let header = header_at(image, at, end)?;
            at = header.next;
            if header.name == "." || header.name == ".." || header.name.is_empty() {
                continue;
            }
            let path = format!("{directory}/{}", header.name);
            // A hard link reads as what it points to.
            let (kind, size, data_at, executable) = if header.kind == 0 {
                match header_at(image, header.info, end) {
                    Ok(target) if target.kind == 2 => {
                        (2, target.size, target.data, target.executable)
                    }
                    _ => continue,
                }
            } else {
                (header.kind, header.size, header.data, header.executable)
            };
            let (kind, mode, size, content) = match kind {
                1 => {
                    pending.push((path.clone(), header.info));
                    (NodeKind::Directory, 0o755, 0, Content::None)
                }
                2 => {
                    let stop = data_at
                        .checked_add(size)
                        .filter(|&stop| stop <= end)
                        .ok_or_else(|| {
                            Refused::Broken(format!(
                                "romfs file {path} runs past the end of the filesystem"
                            ))
                        })?;
                    let range = offset + data_at..offset + stop;
                    let mode = if executable { 0o755 } else { 0o644 };
                    (
                        NodeKind::File,
                        mode,
                        size as u64,
                        Content::Memory(data.clone(), range),
                    )
                }
                3 => {
                    let target = image
                        .get(data_at..data_at.saturating_add(size).min(end))
                        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                        .unwrap_or_default();
                    let target = target.trim_end_matches('\0').to_owned();
                    (NodeKind::Symlink(target), 0o777, 0, Content::None)
                }
                _ => (NodeKind::Special, 0o644, 0, Content::None),
            };
            mount(
                sandbox,
                vfs,
                &path,
                kind,
                mode,
                (0, 0),
                size,
                &container,
                content,
            )
            .map_err(Refused::Broken)?;
        }
    }
    Ok(Opened::Mounted {
        span: Some(declared),
    })
}
