//! TRX, the Broadcom router firmware wrapper: a 28- or 32-byte little-endian header
//! ("HDR0", total length, a CRC-32 over everything after the CRC, flags, version and up
//! to four partition offsets), then the partitions: usually the kernel (with its loader)
//! and the root filesystem, though vendors differ. Each partition is searched again,
//! named by its index.

use std::sync::Arc;

use super::{Opened, Refused};

const MAGIC: &[u8; 4] = b"HDR0";

fn le32(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// The header's version and length make sense.
pub(crate) fn plausible(data: &[u8]) -> bool {
    data.len() >= 32 && data.starts_with(MAGIC) && {
        let length = le32(data, 4) as usize;
        let version = u16::from_le_bytes([data[14], data[15]]);
        matches!(version, 1 | 2) && length > header_size(version)
    }
}

fn header_size(version: u16) -> usize {
    if version == 2 { 32 } else { 28 }
}

/// The CRC TRX stores: CRC-32 without the final inversion.
fn trx_crc(data: &[u8]) -> u32 {
    !crc32fast::hash(data)
}

pub(crate) fn open(data: &Arc<[u8]>, offset: usize) -> Result<Opened, Refused> {
    let header = &data[offset..];
    let length = le32(header, 4) as usize;
    let version = u16::from_le_bytes([header[14], header[15]]);
    if length > header.len() {
        return Err(Refused::Broken(format!(
            "TRX declares {length} bytes, only {} are present (truncated image?)",
            header.len()
        )));
    }
    let image = &header[..length];
    if trx_crc(&image[12..]) != le32(image, 8) {
        return Err(Refused::Broken(
            "TRX: the CRC does not match (corrupted or modified image)".into(),
        ));
    }
    let count = if version == 2 { 4 } else { 3 };
    let offsets: Vec<(usize, usize)> = (0..count)
        .map(|index| (index, le32(image, 16 + 4 * index) as usize))
        .filter(|&(_, start)| start != 0)
        .collect();
    let mut parts = Vec::new();
    for (position, &(index, start)) in offsets.iter().enumerate() {
        let end = offsets.get(position + 1).map_or(length, |&(_, next)| next);
        if start < header_size(version) || start >= end || end > length {
            return Err(Refused::Broken(format!(
                "TRX: partition {index}'s offset {start:#x} lies outside the image"
            )));
        }
        parts.push((format!("partition-{index}"), Arc::from(&image[start..end])));
    }
    Ok(Opened::Inner {
        parts,
        span: length,
    })
}
