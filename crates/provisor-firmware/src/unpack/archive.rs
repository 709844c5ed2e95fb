//! Archives mounted into the virtual filesystem: cpio (newc, the initramfs format) and
//! tar (ustar and GNU). Member contents stay in the archive's buffer and are read
//! lazily; every member path goes through the sandbox.

use std::sync::Arc;

use super::{Opened, Refused, kind_of, mount};
use crate::sandbox::Sandbox;
use crate::vfs::{Content, NodeKind, Vfs};

const CPIO_HEADER: usize = 110;

fn hex_field(data: &[u8], index: usize) -> Option<u64> {
    let start = 6 + index * 8;
    let text = std::str::from_utf8(data.get(start..start + 8)?).ok()?;
    u64::from_str_radix(text, 16).ok()
}

/// A newc header whose fields are all hexadecimal.
pub(crate) fn cpio_plausible(data: &[u8]) -> bool {
    data.len() >= CPIO_HEADER && (0..13).all(|index| hex_field(data, index).is_some())
}

fn align4(value: usize) -> usize {
    (value + 3) & !3
}

pub(crate) fn mount_cpio(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Opened, Refused> {
    let container: Arc<str> = Arc::from(chain);
    let mut at = offset;
    let mut members = 0usize;
    loop {
        let header = data.get(at..at + CPIO_HEADER).ok_or_else(|| {
            Refused::Broken(format!(
                "cpio member header at {at:#x} is cut off (truncated archive?)"
            ))
        })?;
        if !cpio_plausible(header) {
            return Err(if members == 0 {
                Refused::NotThisFormat
            } else {
                Refused::Broken(format!("cpio member header at {at:#x} is corrupt"))
            });
        }
        let field = |index| hex_field(header, index).unwrap_or(0);
        let mode = field(1) as u32;
        let (uid, gid) = (field(2) as u32, field(3) as u32);
        let size = field(6) as usize;
        let name_size = field(11) as usize;
        let name_start = at + CPIO_HEADER;
        let name_end = name_start + name_size.saturating_sub(1);
        let data_start = align4(name_start + name_size);
        let data_end = data_start
            .checked_add(size)
            .filter(|&end| end <= data.len())
            .ok_or_else(|| {
                Refused::Broken(format!(
                    "cpio member at {at:#x} runs past the end of the archive"
                ))
            })?;
        let name = String::from_utf8_lossy(data.get(name_start..name_end).unwrap_or_default())
            .into_owned();
        if name == "TRAILER!!!" {
            return Ok(Opened::Mounted {
                span: Some(align4(data_end) - offset),
            });
        }
        let (kind, content, content_size) = match kind_of(mode) {
            NodeKind::Symlink(_) => (
                NodeKind::Symlink(
                    String::from_utf8_lossy(&data[data_start..data_end]).into_owned(),
                ),
                Content::None,
                0,
            ),
            NodeKind::File => (
                NodeKind::File,
                Content::Memory(data.clone(), data_start..data_end),
                size as u64,
            ),
            other => (other, Content::None, 0),
        };
        if name != "." {
            mount(
                sandbox,
                vfs,
                &name,
                kind,
                mode & 0o7777,
                (uid, gid),
                content_size,
                &container,
                content,
            )
            .map_err(Refused::Broken)?;
        }
        members += 1;
        at = align4(data_end);
    }
}

/// A ustar header whose checksum is right (`ustar` sits at offset 257).
pub(crate) fn tar_plausible(data: &[u8]) -> bool {
    if data.len() < 512 {
        return false;
    }
    let header = &data[..512];
    let stored = std::str::from_utf8(&header[148..156])
        .ok()
        .map(|text| text.trim_matches(|c: char| c == '\0' || c == ' '))
        .and_then(|text| u64::from_str_radix(text, 8).ok());
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(index, &byte)| {
            if (148..156).contains(&index) {
                32
            } else {
                u64::from(byte)
            }
        })
        .sum();
    stored == Some(sum)
}

pub(crate) fn mount_tar(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Opened, Refused> {
    let container: Arc<str> = Arc::from(chain);
    let input = &data[offset..];
    let mut archive = tar::Archive::new(input);
    let entries = archive
        .entries()
        .map_err(|error| Refused::Broken(format!("not a readable tar archive: {error}")))?;
    let mut end = 0usize;
    for entry in entries {
        let entry =
            entry.map_err(|error| Refused::Broken(format!("tar member is corrupt: {error}")))?;
        let header = entry.header();
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.size() as usize;
        let start = entry.raw_file_position() as usize;
        let stop = start
            .checked_add(size)
            .filter(|&stop| stop <= input.len())
            .ok_or_else(|| {
                Refused::Broken(format!(
                    "tar member {path} runs past the end of the archive"
                ))
            })?;
        end = end.max((stop + 511) & !511);
        let mode = header.mode().unwrap_or(0o644);
        let owner = (
            header.uid().unwrap_or(0) as u32,
            header.gid().unwrap_or(0) as u32,
        );
        let entry_type = header.entry_type();
        let (kind, content, content_size) = if entry_type.is_symlink() {
            let target = entry
                .link_name_bytes()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default();
            (NodeKind::Symlink(target), Content::None, 0)
        } else if entry_type.is_dir() {
            (NodeKind::Directory, Content::None, 0)
        } else if entry_type.is_file() {
            (
                NodeKind::File,
                Content::Memory(data.clone(), offset + start..offset + stop),
                size as u64,
            )
        } else {
            (NodeKind::Special, Content::None, 0)
        };
        if path.trim_start_matches("./").is_empty() {
            continue;
        }
        mount(
            sandbox,
            vfs,
            &path,
            kind,
            mode & 0o7777,
            owner,
            content_size,
            &container,
            content,
        )
        .map_err(Refused::Broken)?;
    }
    Ok(Opened::Mounted {
        span: Some(end + 1024),
    })
}
