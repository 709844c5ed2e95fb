//! ISO 9660 (`xorriso`, `genisoimage`; recovery and installer media, some devices'
//! update images): volume descriptors from sector 16, the primary one's root directory
//! record, and directories as runs of records that never cross a sector. Names come from
//! Rock Ridge when the primary volume carries it (POSIX names, modes, owners and links
//! in each record's System Use area, continued through CE areas), else from a Joliet
//! supplementary volume (UCS-2 names), else from ISO's own `NAME.EXT;1`.
//!
//! Each directory extent is walked once and continuation areas are followed a bounded
//! number of times, so a looping image ends; every extent is checked against the image.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Listed, Refused, kind_of, le16, le32, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

/// Where the first volume descriptor's "CD001" lies.
pub(crate) const SIGNATURE_AT: usize = 16 * 2048 + 1;
/// Continuation areas one record may chain.
const MAX_CONTINUATIONS: usize = 16;

/// Whether the bytes hold a primary volume descriptor at sector 16.
pub(crate) fn plausible(data: &[u8]) -> bool {
    let descriptor = 16 * 2048;
    data.get(descriptor..descriptor + 7) == Some(b"\x01CD001\x01")
        && matches!(le16(data, descriptor + 128), 512 | 1024 | 2048)
}

/// A volume's bytes and block size.
struct Volume {
    image: Arc<[u8]>,
    base: usize,
    block: usize,
    /// Each file's extent (block) and size.
    files: Vec<(u32, u64)>,
}

impl Volume {
    fn extent(&self, block: u32, length: u64) -> Result<&[u8], String> {
        let start = (block as usize)
            .checked_mul(self.block)
            .and_then(|start| start.checked_add(self.base))
            .ok_or("an extent lies out of range")?;
        let length = usize::try_from(length).map_err(|_| "an extent is too long")?;
        start
            .checked_add(length)
            .and_then(|end| self.image.get(start..end))
            .ok_or_else(|| {
                format!("the extent at block {block} ({length} bytes) lies past the image's end")
            })
    }
}

impl FileSource for Volume {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let &(block, size) = self.files.get(id).ok_or("no such file")?;
        Ok(self
            .extent(block, size.min(limit.saturating_add(1)))?
            .to_vec())
    }
}

/// One directory record, with what Rock Ridge says of it.
struct Record {
    name: String,
    directory: bool,
    extent: u32,
    size: u64,
    /// Rock Ridge's mode, owner and group.
    posix: Option<(u32, u32, u32)>,
    link: Option<String>,
    /// Rock Ridge: a directory moved elsewhere (skipped here) or the placeholder of one
    /// moved here (its extent).
    relocated: bool,
    child: Option<u32>,
}

/// The names of the three naming schemes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Names {
    RockRidge,
    Joliet,
    Iso,
}

/// Reads a record's System Use entries (following CE continuation areas) into it.
fn rock_ridge(volume: &Volume, area: &[u8], record: &mut Record) {
    let mut areas = vec![area.to_vec()];
    let mut name = String::new();
    let mut link: Vec<String> = Vec::new();
    let mut continuing_link = false;
    let mut followed = 0;
    while let Some(area) = areas.pop() {
        let mut at = 0;
        while at + 4 <= area.len() {
            let (tag, length) = (&area[at..at + 2], usize::from(area[at + 2]));
            if length < 4 || at + length > area.len() {
                break;
            }
            let entry = &area[at..at + length];
            match tag {
                b"NM" if length > 5 && entry[4] & 0x06 == 0 => {
                    name.push_str(&String::from_utf8_lossy(&entry[5..]));
                }
                b"PX" if length >= 36 => {
                    record.posix = Some((le32(entry, 4), le32(entry, 20), le32(entry, 28)));
                }
                b"SL" if length > 5 => {
                    let mut component = 5;
                    while component + 2 <= length {
                        let (flags, size) = (entry[component], usize::from(entry[component + 1]));
                        let text = entry
                            .get(component + 2..component + 2 + size)
                            .unwrap_or_default();
                        let part = match flags & 0x0e {
                            0x02 => ".".to_owned(),
                            0x04 => "..".to_owned(),
                            0x08 => String::new(),
                            _ => String::from_utf8_lossy(text).into_owned(),
                        };
                        if continuing_link {
                            if let Some(last) = link.last_mut() {
                                last.push_str(&part);
                            }
                        } else {
                            link.push(part);
                        }
                        continuing_link = flags & 0x01 != 0;
                        component += 2 + size;
                    }
                }
                b"CE" if length >= 28 && followed < MAX_CONTINUATIONS => {
                    followed += 1;
                    let (block, offset, size) = (le32(entry, 4), le32(entry, 12), le32(entry, 20));
                    if let Ok(extent) = volume.extent(block, u64::from(offset) + u64::from(size)) {
                        areas.push(extent[offset as usize..].to_vec());
                    }
                }
                b"RE" => record.relocated = true,
                b"CL" if length >= 12 => record.child = Some(le32(entry, 4)),
                b"ST" => break,
                _ => {}
            }
            at += length;
        }
    }
    if !name.is_empty() {
        record.name = name;
    }
    if !link.is_empty() {
        // A link starting at the root has an empty first component.
        let joined = link.join("/");
        record.link = Some(if joined.is_empty() {
            "/".into()
        } else {
            joined
        });
    }
}

/// Reads the records of a directory extent.
fn records(volume: &Volume, bytes: &[u8], names: Names, skip: usize) -> Vec<Record> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let length = usize::from(bytes[at]);
        // Records never cross a sector: a zero length pads to the next one.
        if length == 0 {
            at = (at / 2048 + 1) * 2048;
            continue;
        }
        let Some(raw) = bytes.get(at..at + length).filter(|_| length >= 34) else {
            break;
        };
        at += length;
        let name_length = usize::from(raw[32]);
        let Some(identifier) = raw.get(33..33 + name_length) else {
            continue;
        };
        // "." and "..".
        if name_length == 1 && identifier[0] <= 1 {
            continue;
        }
        let name = match names {
            Names::Joliet => {
                let units: Vec<u16> = identifier
                    .chunks_exact(2)
                    .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                    .collect();
                String::from_utf16_lossy(&units)
            }
            _ => String::from_utf8_lossy(identifier).into_owned(),
        };
        // ISO's and Joliet's "NAME.;1": the version and an empty extension dropped.
        let name = match name.rsplit_once(';') {
            Some((name, _)) => name.trim_end_matches('.').to_owned(),
            None => name,
        };
        let mut record = Record {
            name,
            directory: raw[25] & 0x02 != 0,
            extent: le32(raw, 2),
            size: u64::from(le32(raw, 10)),
            posix: None,
            link: None,
            relocated: false,
            child: None,
        };
        if names == Names::RockRidge {
            let system_use = 33 + name_length + (1 - name_length % 2) + skip;
            if let Some(area) = raw.get(system_use..) {
                rock_ridge(volume, area, &mut record);
            }
        }
        found.push(record);
    }
    found
}

/// Mounts the ISO 9660 volume that starts at `offset`; returns its size.
pub(crate) fn mount_iso9660(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let image = &data[offset..];
    if !plausible(image) {
        return Err(Refused::NotThisFormat);
    }
    let corrupt = |what: String| Refused::Broken(format!("ISO 9660 is corrupt: {what}"));
    let primary = 16 * 2048;
    let block = usize::from(le16(image, primary + 128));
    let size = (le32(image, primary + 80) as usize).checked_mul(block);
    let mut volume = Volume {
        image: data.clone(),
        base: offset,
        block,
        files: Vec::new(),
    };
    // A Joliet volume: a supplementary descriptor with a UCS-2 escape sequence.
    let mut root = &image[primary + 156..primary + 190];
    let mut names = Names::Iso;
    for index in 17..64 {
        let at = index * 2048;
        match image.get(at..at + 7) {
            Some([2, b'C', b'D', b'0', b'0', b'1', _])
                if matches!(image.get(at + 88..at + 91), Some(b"%/@" | b"%/C" | b"%/E")) =>
            {
                root = &image[at + 156..at + 190];
                names = Names::Joliet;
            }
            Some([255, b'C', b'D', b'0', b'0', b'1', _]) => break,
            Some([_, b'C', b'D', b'0', b'0', b'1', _]) => {}
            _ => break,
        }
    }
    // Rock Ridge: the root's "." record starts its System Use area with SUSP's "SP".
    let primary_root = (
        le32(image, primary + 156 + 2),
        u64::from(le32(image, primary + 156 + 10)),
    );
    let first = volume
        .extent(primary_root.0, primary_root.1.min(2048))
        .map_err(|error| corrupt(format!("the root directory: {error}")))?;
    let dot_length = usize::from(first.first().copied().unwrap_or(0));
    let mut skip = 0;
    if first.get(34..36) == Some(b"SP")
        && dot_length >= 41
        && first.get(38..40) == Some(&[0xbe, 0xef])
    {
        names = Names::RockRidge;
        root = &image[primary + 156..primary + 190];
        skip = usize::from(first[40]);
    }
    let root = (le32(root, 2), u64::from(le32(root, 10)));
    let most = sandbox.limits().max_files;
    let mut listed: Vec<Listed> = Vec::new();
    let mut visited = HashSet::from([root.0]);
    let mut pending = vec![(String::new(), root)];
    while let Some((directory, (extent, length))) = pending.pop() {
        let bytes = volume
            .extent(extent, length)
            .map_err(|error| corrupt(format!("the directory {directory}/: {error}")))?
            .to_vec();
        for record in records(&volume, &bytes, names, skip) {
            if record.relocated || record.name.is_empty() {
                continue;
            }
            if listed.len() >= most {
                return Err(Refused::Broken(format!(
                    "unpacking stopped: more than {most} files"
                )));
            }
            let path = format!("{directory}/{}", record.name);
            let (mode, owner) = match record.posix {
                Some((mode, uid, gid)) => (mode, (uid, gid)),
                None if record.directory => (0o040755, (0, 0)),
                None => (0o100644, (0, 0)),
            };
            if let Some(target) = record.link {
                listed.push((path, NodeKind::Symlink(target), mode, owner, 0, None));
            } else if record.directory || record.child.is_some() {
                listed.push((path.clone(), NodeKind::Directory, mode, owner, 0, None));
                let extent = record.child.unwrap_or(record.extent);
                let length = match record.child {
                    // A moved directory's size is in its own "." record.
                    Some(child) => volume
                        .extent(child, 34)
                        .map(|dot| u64::from(le32(dot, 10)))
                        .unwrap_or(0),
                    None => record.size,
                };
                if visited.insert(extent) {
                    pending.push((path, (extent, length)));
                }
            } else if matches!(kind_of(mode), NodeKind::File) {
                volume.files.push((record.extent, record.size));
                let id = volume.files.len() - 1;
                listed.push((path, NodeKind::File, mode, owner, record.size, Some(id)));
            } else {
                listed.push((path, NodeKind::Special, mode, owner, 0, None));
            }
        }
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(volume), listed)?;
    Ok(size)
}
