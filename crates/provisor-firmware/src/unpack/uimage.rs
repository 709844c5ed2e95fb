//! Legacy U-Boot images (uImage): a 64-byte big-endian header with a CRC, then the
//! payload (a kernel, a ramdisk, a filesystem), possibly compressed; the payload is
//! searched again.

use super::{Blob, Opened, Refused};

const HEADER: usize = 64;

fn be32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// The header CRC matches.
pub(crate) fn plausible(data: &[u8]) -> bool {
    if data.len() < HEADER {
        return false;
    }
    let mut header = [0u8; HEADER];
    header.copy_from_slice(&data[..HEADER]);
    let stored = be32(&header, 4);
    header[4..8].fill(0);
    crc32fast::hash(&header) == stored
}

/// The image name in the header (`Linux-5.10.110`).
pub(crate) fn name(data: &[u8]) -> String {
    let raw = &data[32..HEADER];
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// Checks the header and payload CRCs and hands the payload on, read where it lies.
pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = [0u8; HEADER];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let size = u64::from(be32(&header, 12));
    let available = blob.len() - offset as u64 - HEADER as u64;
    if size > available {
        return Err(Refused::Broken(format!(
            "uImage \"{}\" declares {size} bytes of payload, only {available} are present (truncated image?)",
            name(&header)
        )));
    }
    let start = (offset + HEADER) as u64;
    if blob.crc32(start, size).map_err(broken)?.finalize() != be32(&header, 24) {
        return Err(Refused::Broken(format!(
            "uImage \"{}\": the payload CRC does not match (corrupted image)",
            name(&header)
        )));
    }
    Ok(Opened::Inner {
        parts: vec![(String::new(), blob.range(start, size).map_err(broken)?)],
        span: HEADER + size as usize,
    })
}
