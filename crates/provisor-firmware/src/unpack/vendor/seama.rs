//! D-Link's SEAMA: a big-endian header (magic 0x5EA3A417, a metadata size, the data
//! size and the data's MD5), "key=value" metadata (the model's signature), then the
//! data, handed on.

use md5::Digest;

use super::super::{Blob, Opened, Refused};
use super::{be32, md5_hex};

pub(crate) const MAGIC: [u8; 4] = [0x5e, 0xa3, 0xa4, 0x17];
const HEADER: usize = 28;

pub(crate) fn plausible(data: &[u8]) -> bool {
    data.len() >= HEADER
        && data.starts_with(&MAGIC)
        && be32(data, 4) < 0x1_0000
        && be32(data, 8) > 0
}

/// Checks the MD5 and hands the data on.
pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = [0u8; HEADER];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let (metadata, size) = (be32(&header, 4), be32(&header, 8));
    let start = HEADER as u64 + metadata;
    let available = blob.len() - offset as u64;
    if start + size > available {
        return Err(Refused::Broken(format!(
            "SEAMA declares {size} bytes of data, only {} are present (truncated image?)",
            available.saturating_sub(start)
        )));
    }
    let data = blob.range(offset as u64 + start, size).map_err(broken)?;
    let mut problems = Vec::new();
    let digest: [u8; 16] = md5::Md5::digest(&*data.load().map_err(broken)?).into();
    if digest[..] != header[12..28] {
        problems.push(format!(
            "the data's MD5 ({}) does not match the header's ({})",
            md5_hex(digest),
            md5_hex(header[12..28].try_into().unwrap_or_default())
        ));
    }
    Ok(Opened::Flagged {
        parts: vec![("data".to_owned(), data)],
        span: (start + size) as usize,
        problems,
    })
}
