//! TRX, the Broadcom router firmware wrapper: a 28- or 32-byte little-endian header
//! ("HDR0", total length, a CRC-32 over everything after the CRC, flags, version and up
//! to four partition offsets), then the partitions: usually the kernel (with its loader)
//! and the root filesystem, though vendors differ. Each partition is searched again,
//! named by its index.

use super::{Blob, Opened, Refused, le32};

const MAGIC: &[u8; 4] = b"HDR0";

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

/// Hands the partitions on, read where they lie, with a CRC that does not match as a
/// problem.
pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = [0u8; 32];
    blob.read_exact_at(offset as u64, &mut header[..28])
        .map_err(broken)?;
    let length = le32(&header, 4) as usize;
    let version = u16::from_le_bytes([header[14], header[15]]);
    let present = blob.len() - offset as u64;
    if length <= header_size(version) {
        return Err(Refused::Broken(format!(
            "TRX declares a length of {length} bytes, shorter than its header"
        )));
    }
    if length as u64 > present {
        return Err(Refused::Broken(format!(
            "TRX declares {length} bytes, only {present} are present (truncated image?)"
        )));
    }
    if version == 2 {
        blob.read_exact_at(offset as u64 + 28, &mut header[28..])
            .map_err(broken)?;
    }
    let start = offset as u64;
    // The CRC covers everything after the magic, length and CRC fields; its stored form
    // is CRC-32 without the final inversion.
    let crc = !blob
        .crc32(start + 12, length as u64 - 12)
        .map_err(broken)?
        .finalize();
    let mut problems = Vec::new();
    if crc != le32(&header, 8) {
        problems.push(format!(
            "the CRC does not match (stored {:#010x}, computed {crc:#010x})",
            le32(&header, 8)
        ));
    }
    let count = if version == 2 { 4 } else { 3 };
    let offsets: Vec<(usize, usize)> = (0..count)
        .map(|index| (index, le32(&header, 16 + 4 * index) as usize))
        .filter(|&(_, start)| start != 0)
        .collect();
    let mut parts = Vec::new();
    for (position, &(index, begin)) in offsets.iter().enumerate() {
        let end = offsets.get(position + 1).map_or(length, |&(_, next)| next);
        if begin < header_size(version) || begin >= end || end > length {
            return Err(Refused::Broken(format!(
                "TRX: partition {index}'s offset {begin:#x} lies outside the image"
            )));
        }
        let part = blob
            .range(start + begin as u64, (end - begin) as u64)
            .map_err(broken)?;
        parts.push((format!("partition-{index}"), part));
    }
    Ok(Opened::Flagged {
        parts,
        span: length,
        problems,
    })
}
