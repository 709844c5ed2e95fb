//! FAT12, FAT16 and FAT32 (`mkfs.vfat`; SD cards, boot partitions, the data partitions
//! of cameras and routers): the boot sector's BIOS parameter block gives the sizes of
//! the reserved area, the allocation tables and the root directory; the type follows
//! from the number of clusters, as the specification has it. Directories are runs of
//! 32-byte entries, long names (VFAT) as UTF-16 pieces in entries before the short one,
//! checked against its checksum. FAT keeps no owners, permissions or links: files are
//! mounted 0644 and directories 0755, owned by root.
//!
//! Every cluster chain is followed at most as many steps as the volume has clusters
//! and each directory is walked once, so a loop in the table or the tree ends.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Listed, Refused, le16, le32, mount_decoded};
use crate::sandbox::Sandbox;
use crate::vfs::{FileSource, NodeKind, Vfs};

/// Where the BPB's file system type string lies: FAT12/16's and FAT32's.
pub(crate) const TYPE_AT: usize = 54;
pub(crate) const TYPE_AT_32: usize = 82;

/// The three table widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fat12,
    Fat16,
    Fat32,
}

/// A volume's geometry from its boot sector.
#[derive(Debug, Clone)]
struct Geometry {
    kind: Kind,
    cluster: usize,
    /// Byte offsets from the volume's start.
    fat: usize,
    root: usize,
    root_entries: usize,
    data: usize,
    clusters: u32,
    root_cluster: u32,
    size: usize,
}

/// Reads the BPB; none when the sector is not a FAT boot sector (the jump, a sector
/// size of 512 to 4096, a power-of-two cluster, 1 to 4 tables, and sizes that fit).
fn geometry(data: &[u8]) -> Option<Geometry> {
    if data.len() < 512 || data[510..512] != [0x55, 0xaa] || !matches!(data[0], 0xeb | 0xe9) {
        return None;
    }
    let sector = usize::from(le16(data, 11));
    let per_cluster = usize::from(data[13]);
    let reserved = usize::from(le16(data, 14));
    let fats = usize::from(data[16]);
    let root_entries = usize::from(le16(data, 17));
    let total = match le16(data, 19) {
        0 => le32(data, 32) as usize,
        total => usize::from(total),
    };
    let fat_sectors = match le16(data, 22) {
        0 => le32(data, 36) as usize,
        size => usize::from(size),
    };
    if !matches!(sector, 512 | 1024 | 2048 | 4096)
        || !per_cluster.is_power_of_two()
        || reserved == 0
        || !(1..=4).contains(&fats)
        || fat_sectors == 0
        || total == 0
    {
        return None;
    }
    let root_sectors = (root_entries * 32).div_ceil(sector);
    let first_data = reserved + fats * fat_sectors + root_sectors;
    let clusters = total.checked_sub(first_data)? / per_cluster;
    let kind = match clusters {
        0 => return None,
        1..4085 => Kind::Fat12,
        4085..65525 => Kind::Fat16,
        _ => Kind::Fat32,
    };
    // FAT32 has no fixed root directory; the others have one.
    if (kind == Kind::Fat32) != (root_entries == 0) {
        return None;
    }
    Some(Geometry {
        kind,
        cluster: sector * per_cluster,
        fat: reserved * sector,
        root: (reserved + fats * fat_sectors) * sector,
        root_entries,
        data: first_data * sector,
        clusters: u32::try_from(clusters).ok()?,
        root_cluster: le32(data, 44),
        size: total.checked_mul(sector)?,
    })
}

/// Whether the bytes at a FAT type string are a FAT boot sector.
pub(crate) fn plausible(data: &[u8]) -> bool {
    geometry(data).is_some()
}

/// A mounted volume whose files are read through their cluster chains.
struct Volume {
    image: Arc<[u8]>,
    base: usize,
    geometry: Geometry,
    /// Each file's first cluster and size.
    files: Vec<(u32, u64)>,
}

impl Volume {
    /// The table entry of `cluster`.
    fn next(&self, cluster: u32) -> Option<u32> {
        let table = self.base + self.geometry.fat;
        let at = |offset: usize| table.checked_add(offset);
        let value = match self.geometry.kind {
            Kind::Fat12 => {
                let offset = at(cluster as usize * 3 / 2)?;
                let pair = u32::from(u16::from_le_bytes(
                    self.image.get(offset..offset + 2)?.try_into().ok()?,
                ));
                if cluster.is_multiple_of(2) {
                    pair & 0xfff
                } else {
                    pair >> 4
                }
            }
            Kind::Fat16 => {
                let offset = at(cluster as usize * 2)?;
                u32::from(u16::from_le_bytes(
                    self.image.get(offset..offset + 2)?.try_into().ok()?,
                ))
            }
            Kind::Fat32 => {
                let offset = at(cluster as usize * 4)?;
                u32::from_le_bytes(self.image.get(offset..offset + 4)?.try_into().ok()?)
                    & 0x0fff_ffff
            }
        };
        Some(value)
    }

    /// Whether a table value ends a chain (or marks a bad cluster).
    fn ends(&self, value: u32) -> bool {
        let end = match self.geometry.kind {
            Kind::Fat12 => 0xff7,
            Kind::Fat16 => 0xfff7,
            Kind::Fat32 => 0x0fff_fff7,
        };
        value >= end || value < 2
    }

    /// The bytes of a cluster.
    fn cluster(&self, cluster: u32) -> Result<&[u8], String> {
        if cluster < 2 || cluster - 2 >= self.geometry.clusters {
            return Err(format!("cluster {cluster} lies outside the volume"));
        }
        let start = self.base + self.geometry.data + (cluster as usize - 2) * self.geometry.cluster;
        self.image
            .get(start..start + self.geometry.cluster)
            .ok_or_else(|| format!("cluster {cluster} lies past the image's end"))
    }

    /// Reads a chain from `first`, at most `limit` bytes; a chain longer than the volume
    /// has clusters loops.
    fn chain(&self, first: u32, limit: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut cluster = first;
        let mut steps = 0u32;
        while out.len() < limit {
            out.extend_from_slice(self.cluster(cluster)?);
            steps += 1;
            let next = self.next(cluster).ok_or_else(|| {
                format!("the table entry of cluster {cluster} lies past the image's end")
            })?;
            if self.ends(next) {
                break;
            }
            if steps > self.geometry.clusters {
                return Err(format!("the cluster chain from {first} loops"));
            }
            cluster = next;
        }
        out.truncate(limit);
        Ok(out)
    }
}

impl FileSource for Volume {
    fn read(&self, id: usize, limit: u64) -> Result<Vec<u8>, String> {
        let &(first, size) = self.files.get(id).ok_or("no such file")?;
        let wanted = usize::try_from(size.min(limit.saturating_add(1))).unwrap_or(usize::MAX);
        if wanted == 0 {
            return Ok(Vec::new());
        }
        let data = self.chain(first, wanted)?;
        if data.len() < wanted {
            return Err(format!(
                "the file's clusters hold {} of its {size} bytes",
                data.len()
            ));
        }
        Ok(data)
    }
}

/// One directory entry: its name, whether it is a directory, first cluster and size.
struct Entry {
    name: String,
    directory: bool,
    cluster: u32,
    size: u64,
}

/// The checksum of an 8.3 name that its long name's entries carry.
fn short_checksum(name: &[u8]) -> u8 {
    name.iter()
        .fold(0u8, |sum, &byte| sum.rotate_right(1).wrapping_add(byte))
}

/// The 8.3 name as it reads ("NAME.EXT"; lower case when the entry says so).
fn short_name(raw: &[u8], case: u8) -> String {
    let mut base: Vec<u8> = raw[..8].to_vec();
    if base[0] == 0x05 {
        base[0] = 0xe5;
    }
    let lower = |bytes: &[u8], flag: u8| {
        let text = String::from_utf8_lossy(bytes).trim_end().to_owned();
        if case & flag != 0 {
            text.to_lowercase()
        } else {
            text
        }
    };
    let base = lower(&base, 0x08);
    let extension = lower(&raw[8..11], 0x10);
    if extension.is_empty() {
        base
    } else {
        format!("{base}.{extension}")
    }
}

/// Reads the entries of a directory's bytes, long names joined to their short entries.
fn entries(bytes: &[u8]) -> Vec<Entry> {
    let mut found = Vec::new();
    let mut long: Vec<(u8, Vec<u16>)> = Vec::new();
    let mut checksum = None;
    for raw in bytes.chunks_exact(32) {
        match raw[0] {
            0x00 => break,
            0xe5 => {
                long.clear();
                continue;
            }
            _ => {}
        }
        let attributes = raw[11];
        if attributes & 0x3f == 0x0f {
            let piece = [&raw[1..11], &raw[14..26], &raw[28..32]]
                .concat()
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .collect();
            if raw[0] & 0x40 != 0 {
                long.clear();
            }
            checksum = Some(raw[13]);
            long.push((raw[0] & 0x1f, piece));
            continue;
        }
        // A volume label.
        if attributes & 0x08 != 0 {
            long.clear();
            continue;
        }
        let name = if !long.is_empty() && checksum == Some(short_checksum(&raw[..11])) {
            long.sort_by_key(|(sequence, _)| *sequence);
            let units: Vec<u16> = long
                .iter()
                .flat_map(|(_, piece)| piece.iter().copied())
                .take_while(|&unit| unit != 0)
                .collect();
            String::from_utf16_lossy(&units)
        } else {
            short_name(&raw[..11], raw[12])
        };
        long.clear();
        if name == "." || name == ".." || name.is_empty() {
            continue;
        }
        found.push(Entry {
            name,
            directory: attributes & 0x10 != 0,
            cluster: u32::from(le16(raw, 26)) | u32::from(le16(raw, 20)) << 16,
            size: u64::from(le32(raw, 28)),
        });
    }
    found
}

/// Mounts the FAT volume whose boot sector is at `offset`; returns its size.
pub(crate) fn mount_fat(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Option<usize>, Refused> {
    let geometry = geometry(&data[offset..]).ok_or(Refused::NotThisFormat)?;
    let name = match geometry.kind {
        Kind::Fat12 => "FAT12",
        Kind::Fat16 => "FAT16",
        Kind::Fat32 => "FAT32",
    };
    let corrupt = |what: String| Refused::Broken(format!("{name} is corrupt: {what}"));
    let mut volume = Volume {
        image: data.clone(),
        base: offset,
        geometry: geometry.clone(),
        files: Vec::new(),
    };
    let most = sandbox.limits().max_files;
    let root = match geometry.kind {
        Kind::Fat32 => volume
            .chain(geometry.root_cluster, usize::MAX)
            .map_err(|error| corrupt(format!("the root directory: {error}")))?,
        _ => {
            let start = offset + geometry.root;
            data.get(start..start + geometry.root_entries * 32)
                .ok_or_else(|| corrupt("the root directory lies past the image's end".into()))?
                .to_vec()
        }
    };
    let mut listed: Vec<Listed> = Vec::new();
    let mut visited = HashSet::from([geometry.root_cluster]);
    let mut pending = vec![(String::new(), root)];
    while let Some((directory, bytes)) = pending.pop() {
        for entry in entries(&bytes) {
            if listed.len() >= most {
                return Err(Refused::Broken(format!(
                    "unpacking stopped: more than {most} files"
                )));
            }
            let path = format!("{directory}/{}", entry.name);
            if entry.directory {
                listed.push((path.clone(), NodeKind::Directory, 0o755, (0, 0), 0, None));
                if entry.cluster >= 2 && visited.insert(entry.cluster) {
                    let bytes = volume
                        .chain(entry.cluster, usize::MAX)
                        .map_err(|error| corrupt(format!("the directory {path}: {error}")))?;
                    pending.push((path, bytes));
                }
            } else {
                volume.files.push((entry.cluster, entry.size));
                let id = volume.files.len() - 1;
                listed.push((path, NodeKind::File, 0o644, (0, 0), entry.size, Some(id)));
            }
        }
    }
    mount_decoded(sandbox, vfs, chain, Arc::new(volume), listed)?;
    Ok(Some(geometry.size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_and_their_checksum() {
        assert_eq!(short_name(b"README  TXT", 0), "README.TXT");
        assert_eq!(short_name(b"README  TXT", 0x18), "readme.txt");
        assert_eq!(short_name(b"NOEXT      ", 0), "NOEXT");
    }
}
