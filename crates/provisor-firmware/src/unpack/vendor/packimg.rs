//! packimg (a Chinese SoC vendors' update wrapper: some IP cameras and media players): a
//! 32-byte header of the magic "--PaCkImGs--", padding and the data's size
//! (little-endian), then the data, handed on. It carries no checksum.

use super::super::{Blob, Opened, Refused, le32};

pub(crate) const MAGIC: &[u8; 12] = b"--PaCkImGs--";
const HEADER: usize = 32;

pub(crate) fn plausible(data: &[u8]) -> bool {
    data.len() >= HEADER && data.starts_with(MAGIC) && le32(data, 16) > 0
}

pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = [0u8; HEADER];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let size = u64::from(le32(&header, 16));
    let available = blob.len() - offset as u64 - HEADER as u64;
    if size > available {
        return Err(Refused::Broken(format!(
            "packimg declares {size} bytes of data, only {available} are present (truncated image?)"
        )));
    }
    Ok(Opened::Inner {
        parts: vec![(
            "data".to_owned(),
            blob.range(offset as u64 + HEADER as u64, size)
                .map_err(broken)?,
        )],
        span: HEADER + size as usize,
    })
}
