//! Partition tables of disk and eMMC images: the MBR (four primary entries, extended
//! partitions as a chain of EBRs) and GPT (behind its protective MBR; 512- or 4096-byte
//! sectors). Each partition is handed on as a range of the image, read where it lies,
//! and searched again, named by its number (and its GPT name). A partition that runs
//! past the end of a truncated image is handed on up to the end; chains of EBRs are
//! walked with every sector visited once.

use std::collections::HashSet;

use super::{Blob, Opened, Refused, le32};

/// MBR partition types of an extended partition (its EBR chain holds the logical ones).
const EXTENDED: [u8; 3] = [0x05, 0x0f, 0x85];
/// The protective MBR's one entry on a GPT disk.
const PROTECTIVE: u8 = 0xee;
/// The most logical partitions or GPT entries read.
const MAX_PARTITIONS: usize = 256;

/// One MBR entry: type, first sector, sectors.
#[derive(Debug, Clone, Copy)]
struct Entry {
    status: u8,
    kind: u8,
    first: u64,
    sectors: u64,
}

fn entries(sector: &[u8]) -> [Entry; 4] {
    std::array::from_fn(|index| {
        let at = 0x1be + 16 * index;
        Entry {
            status: sector[at],
            kind: sector[at + 4],
            first: u64::from(le32(sector, at + 8)),
            sectors: u64::from(le32(sector, at + 12)),
        }
    })
}

/// A FAT or NTFS boot sector also ends in 0x55 0xaa; its BPB names the filesystem.
fn boot_sector_of_a_filesystem(sector: &[u8]) -> bool {
    sector.get(0x36..0x39) == Some(b"FAT")
        || sector.get(0x52..0x57) == Some(b"FAT32")
        || sector.get(3..7) == Some(b"NTFS")
}

/// An MBR: the boot signature, entries of status 0 or 0x80, at least one partition,
/// none overlapping another, the first starting inside what follows; not a
/// filesystem's boot sector, and not a GPT's protective MBR (GPT reads those).
pub(crate) fn mbr_plausible(data: &[u8]) -> bool {
    if data.len() < 512 || data[510..512] != [0x55, 0xaa] || boot_sector_of_a_filesystem(data) {
        return false;
    }
    let entries = entries(data);
    let used: Vec<&Entry> = entries.iter().filter(|entry| entry.kind != 0).collect();
    if used.is_empty()
        || entries
            .iter()
            .any(|entry| !matches!(entry.status, 0 | 0x80))
        || used.iter().any(|entry| entry.kind == PROTECTIVE)
        || used
            .iter()
            .any(|entry| entry.first == 0 || entry.sectors == 0)
    {
        return false;
    }
    used.iter().enumerate().all(|(index, a)| {
        used[index + 1..]
            .iter()
            .all(|b| a.first + a.sectors <= b.first || b.first + b.sectors <= a.first)
    })
}

/// The GPT's sector size: where its header ("EFI PART") lies after the protective MBR.
fn gpt_sector(data: &[u8]) -> Option<u64> {
    [512u64, 4096]
        .into_iter()
        .find(|&size| data.get(size as usize..size as usize + 8) == Some(b"EFI PART"))
}

/// A GPT: a protective MBR and the header at sector 1.
pub(crate) fn gpt_plausible(data: &[u8]) -> bool {
    data.len() >= 512 + 92
        && data[510..512] == [0x55, 0xaa]
        && entries(data).iter().any(|entry| entry.kind == PROTECTIVE)
        && gpt_sector(data).is_some()
}

fn broken(error: std::io::Error) -> Refused {
    Refused::Broken(error.to_string())
}

/// A partition's range, clamped to the blob; none when it starts past the end.
fn part(blob: &Blob, start: u64, length: u64) -> Option<Blob> {
    if start >= blob.len() || length == 0 {
        return None;
    }
    blob.range(start, length.min(blob.len() - start)).ok()
}

/// Opens an MBR at `offset`: the primary partitions and the logical ones of an
/// extended partition's EBR chain.
pub(crate) fn open_mbr(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let base = offset as u64;
    let mut sector = [0u8; 512];
    blob.read_exact_at(base, &mut sector).map_err(broken)?;
    // A boot sector whose partitions all start past the end of the blob is a chance
    // match (plausibility sees only the bytes around the signature).
    let first = entries(&sector)
        .iter()
        .filter(|entry| entry.kind != 0)
        .map(|entry| entry.first)
        .min()
        .unwrap_or(0);
    if base.saturating_add(first.saturating_mul(512)) >= blob.len() {
        return Err(Refused::NotThisFormat);
    }
    let mut parts = Vec::new();
    let mut end = base + 512;
    for (index, entry) in entries(&sector).iter().enumerate() {
        if entry.kind == 0 {
            continue;
        }
        let start = base + entry.first * 512;
        end = end.max(start + entry.sectors * 512);
        if EXTENDED.contains(&entry.kind) {
            logical(blob, start, &mut parts)?;
            continue;
        }
        if let Some(range) = part(blob, start, entry.sectors * 512) {
            parts.push((format!("partition-{}", index + 1), range));
        }
    }
    if parts.is_empty() {
        return Err(Refused::Broken(
            "the MBR's partitions all lie past the end of the image (truncated image?)".into(),
        ));
    }
    Ok(Opened::Inner {
        parts,
        span: (end.min(blob.len()) - base) as usize,
    })
}

/// The logical partitions of an extended partition starting at `extended`: each EBR's
/// first entry is a partition (relative to that EBR), its second the next EBR (relative
/// to the extended partition).
fn logical(blob: &Blob, extended: u64, parts: &mut Vec<(String, Blob)>) -> Result<(), Refused> {
    let mut visited = HashSet::new();
    let mut ebr = extended;
    let mut number = 5;
    while visited.insert(ebr) && visited.len() <= MAX_PARTITIONS {
        let mut sector = [0u8; 512];
        if blob.read_exact_at(ebr, &mut sector).is_err() || sector[510..512] != [0x55, 0xaa] {
            break;
        }
        let [first, next, ..] = entries(&sector);
        if first.kind != 0
            && let Some(range) = part(blob, ebr + first.first * 512, first.sectors * 512)
        {
            parts.push((format!("partition-{number}"), range));
            number += 1;
        }
        if next.kind == 0 || next.first == 0 {
            break;
        }
        ebr = extended + next.first * 512;
    }
    Ok(())
}

/// A GPT partition's name, kept to letters, digits and `.-_`.
fn gpt_name(raw: &[u8]) -> String {
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .take_while(|&unit| unit != 0)
        .collect();
    String::from_utf16_lossy(&units)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(36)
        .collect()
}

/// Opens a GPT at `offset` (its protective MBR): every used entry of its table.
pub(crate) fn open_gpt(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let base = offset as u64;
    let mut head = vec![0u8; 4096 + 92];
    let available = (blob.len() - base).min(head.len() as u64) as usize;
    blob.read_exact_at(base, &mut head[..available])
        .map_err(broken)?;
    let sector = gpt_sector(&head[..available])
        .ok_or_else(|| Refused::Broken("the GPT header is missing".into()))?;
    let header = &head[sector as usize..];
    let table = u64::from_le_bytes(header[72..80].try_into().unwrap_or_default());
    let count = le32(header, 80) as usize;
    let size = le32(header, 84) as usize;
    if !(128..=4096).contains(&size) || count == 0 {
        return Err(Refused::Broken(format!(
            "the GPT header lists {count} entries of {size} bytes"
        )));
    }
    let count = count.min(MAX_PARTITIONS);
    let mut listing = vec![0u8; count * size];
    blob.read_exact_at(
        base.saturating_add(table.saturating_mul(sector)),
        &mut listing,
    )
    .map_err(|error| Refused::Broken(format!("the GPT's table cannot be read: {error}")))?;
    let mut parts = Vec::new();
    let mut end = base + 2 * sector;
    for (index, entry) in listing.chunks_exact(size).enumerate() {
        if entry[..16].iter().all(|&byte| byte == 0) {
            continue;
        }
        let first = u64::from_le_bytes(entry[32..40].try_into().unwrap_or_default());
        let last = u64::from_le_bytes(entry[40..48].try_into().unwrap_or_default());
        if last < first {
            continue;
        }
        let start = base + first.saturating_mul(sector);
        let length = (last - first).saturating_add(1).saturating_mul(sector);
        end = end.max(start.saturating_add(length));
        let name = gpt_name(&entry[56..128]);
        let label = if name.is_empty() {
            format!("partition-{}", index + 1)
        } else {
            format!("partition-{}-{name}", index + 1)
        };
        if let Some(range) = part(blob, start, length) {
            parts.push((label, range));
        }
    }
    if parts.is_empty() {
        return Err(Refused::Broken(
            "the GPT lists no partition inside the image (truncated image?)".into(),
        ));
    }
    Ok(Opened::Inner {
        parts,
        span: (end.min(blob.len()) - base) as usize,
    })
}
