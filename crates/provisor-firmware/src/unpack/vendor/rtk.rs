//! Realtek's RTK firmware header (routers on Realtek RTL8196/8197 SoCs): "RTK0", the
//! image's size, a checksum, and the header's size (little-endian), then the image,
//! handed on. The checksum's algorithm differs between SDK releases and is not verified.

use super::super::{Blob, Opened, Refused, le32};

pub(crate) const MAGIC: &[u8; 4] = b"RTK0";
const FIXED: usize = 32;

/// The magic, a header of 32 bytes to 4 KiB, and an image.
pub(crate) fn plausible(data: &[u8]) -> bool {
    let header = le32(data, 16) as usize + 4;
    data.len() >= FIXED
        && data.starts_with(MAGIC)
        && (FIXED..=4096).contains(&header)
        && le32(data, 4) > 0
}

pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut fixed = [0u8; FIXED];
    blob.read_exact_at(offset as u64, &mut fixed)
        .map_err(broken)?;
    let (size, header) = (u64::from(le32(&fixed, 4)), u64::from(le32(&fixed, 16)) + 4);
    let available = blob.len() - offset as u64;
    if header + size > available {
        return Err(Refused::Broken(format!(
            "RTK declares a {size}-byte image, only {} bytes are present (truncated image?)",
            available.saturating_sub(header)
        )));
    }
    Ok(Opened::Inner {
        parts: vec![(
            "image".to_owned(),
            blob.range(offset as u64 + header, size).map_err(broken)?,
        )],
        span: (header + size) as usize,
    })
}
