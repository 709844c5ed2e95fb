//! UBI, the volume layer over raw NAND: the image is a run of physical erase blocks
//! (PEBs), each starting with an erase-counter header ("UBI#") that says where its
//! volume-id header ("UBI!") and data begin. The volume-id header maps the PEB to a
//! logical block of a volume; the newest copy (highest sequence number) wins. The layout
//! volume holds the volume table with the volumes' names.
//!
//! The PEB size is not recorded: it is the distance to the next valid erase-counter
//! header. Each volume is reassembled into one contiguous blob (missing logical blocks
//! read as erased flash) and searched again, named after the volume, so a UBIFS volume
//! is mounted by the UBIFS reader and a squashfs or kernel volume by theirs.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Blob, Opened, Refused};
use crate::sandbox::Sandbox;

const EC_MAGIC: &[u8; 4] = b"UBI#";
const VID_MAGIC: &[u8; 4] = b"UBI!";
const HEADER: usize = 64;
const LAYOUT_VOLUME: u32 = 0x7fff_efff;
const RECORD: usize = 172;
const MIN_PEB: usize = 1 << 10;
const MAX_PEB: usize = 1 << 21;

fn be32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

fn be64(data: &[u8], at: usize) -> u64 {
    (u64::from(be32(data, at)) << 32) | u64::from(be32(data, at + 4))
}

/// UBI's CRC: CRC-32 without the final inversion.
fn ubi_crc(data: &[u8]) -> u32 {
    !crc32fast::hash(data)
}

/// A header of 64 bytes with `magic`, version 1 and a matching CRC at its end.
fn header_at(data: &[u8], at: usize, magic: &[u8; 4]) -> Option<usize> {
    let header = data.get(at..at.checked_add(HEADER)?)?;
    (header.starts_with(magic) && header[4] == 1 && ubi_crc(&header[..60]) == be32(header, 60))
        .then_some(at)
}

/// An erase-counter header with a matching CRC.
pub(crate) fn plausible(data: &[u8]) -> bool {
    header_at(data, 0, EC_MAGIC).is_some()
}

/// One logical block of a volume.
struct Block {
    sequence: u64,
    data: (usize, usize),
}

struct Volume {
    /// Static volumes record their size in their blocks; dynamic ones are whole blocks.
    static_size: Option<u32>,
    blocks: BTreeMap<u32, Block>,
}

pub(crate) fn open(data: &Arc<[u8]>, offset: usize, sandbox: &Sandbox) -> Result<Opened, Refused> {
    let image = &data[offset..];
    let peb = (1..=MAX_PEB / MIN_PEB)
        .map(|step| step * MIN_PEB)
        .find(|&at| header_at(image, at, EC_MAGIC).is_some())
        .ok_or_else(|| {
            Refused::Broken(
                "UBI: no second erase block found, so the erase-block size is unknown".into(),
            )
        })?;
    let mut volumes: BTreeMap<u32, Volume> = BTreeMap::new();
    let mut count = 0usize;
    let mut leb_size = None;
    while count * peb + HEADER <= image.len() {
        let start = count * peb;
        let block = &image[start..(start + peb).min(image.len())];
        if header_at(block, 0, EC_MAGIC).is_none() {
            // An erased block carries no header; anything else ends the image.
            if block.iter().all(|&byte| byte == 0xff) {
                count += 1;
                continue;
            }
            break;
        }
        count += 1;
        let vid_offset = be32(block, 16) as usize;
        let data_offset = be32(block, 20) as usize;
        if data_offset >= peb {
            return Err(Refused::Broken(format!(
                "UBI: erase block at {:#x} puts its data at {data_offset:#x}, past the {peb}-byte block",
                offset + start
            )));
        }
        leb_size.get_or_insert(peb - data_offset);
        let Some(vid) = header_at(block, vid_offset, VID_MAGIC) else {
            continue; // Free: erased after its counter was written.
        };
        let vid = &block[vid..vid + HEADER];
        let (volume_id, lnum) = (be32(vid, 8), be32(vid, 12));
        let data_pad = be32(vid, 28) as usize;
        let volume = volumes.entry(volume_id).or_insert(Volume {
            static_size: None,
            blocks: BTreeMap::new(),
        });
        let static_block = vid[5] == 2;
        // Static blocks record their own length and the volume's block count.
        let length = if static_block {
            be32(vid, 20) as usize
        } else {
            (peb - data_offset).saturating_sub(data_pad)
        };
        if static_block {
            volume.static_size = Some(be32(vid, 24));
        }
        let sequence = be64(vid, 40);
        let begin = offset + start + data_offset;
        let end = (begin + length).min(offset + start + block.len());
        if volume
            .blocks
            .get(&lnum)
            .is_none_or(|known| sequence >= known.sequence)
        {
            volume.blocks.insert(
                lnum,
                Block {
                    sequence,
                    data: (begin, end),
                },
            );
        }
    }
    let leb_size = leb_size.unwrap_or(0);
    let names = volume_names(data, volumes.get(&LAYOUT_VOLUME));
    let mut parts = Vec::new();
    let mut total = 0u64;
    for (id, volume) in volumes.iter().filter(|(id, _)| **id != LAYOUT_VOLUME) {
        let Some(last) = volume.blocks.keys().next_back() else {
            continue;
        };
        let blocks = match volume.static_size {
            Some(used) => used.min(*last + 1),
            None => *last + 1,
        };
        total += u64::from(blocks) * leb_size as u64;
        if total > sandbox.budget() {
            return Err(Refused::Broken(format!(
                "UBI volumes exceed the unpacking limit of {} bytes",
                sandbox.budget()
            )));
        }
        let mut blob = Vec::new();
        for lnum in 0..blocks {
            match volume.blocks.get(&lnum) {
                Some(block) => blob.extend_from_slice(&data[block.data.0..block.data.1]),
                None => blob.resize(blob.len() + leb_size, 0xff),
            }
        }
        let name = names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("volume-{id}"));
        parts.push((format!("volume {name}"), Blob::Memory(Arc::from(blob))));
    }
    if parts.is_empty() {
        return Err(Refused::Broken("UBI: the image holds no volume".into()));
    }
    Ok(Opened::Inner {
        parts,
        span: count * peb,
    })
}

/// The names in the volume table (the layout volume's first block).
fn volume_names(data: &[u8], layout: Option<&Volume>) -> BTreeMap<u32, String> {
    let mut names = BTreeMap::new();
    let Some(block) = layout.and_then(|volume| volume.blocks.get(&0)) else {
        return names;
    };
    let table = &data[block.data.0..block.data.1];
    for (index, record) in table.chunks_exact(RECORD).take(128).enumerate() {
        let length = usize::from(u16::from_be_bytes([record[14], record[15]])).min(127);
        if be32(record, 0) == 0 || length == 0 || ubi_crc(&record[..168]) != be32(record, 168) {
            continue;
        }
        let name = String::from_utf8_lossy(&record[16..16 + length]).into_owned();
        names.insert(index as u32, name);
    }
    names
}
