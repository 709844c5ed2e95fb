//! D-Link's TLV firmware: a 0x74-byte header (magic 64 80 19 40, the model name, the
//! board id, the MD5 of the data as hex text) ending in a type-length pair of type 1
//! (little-endian), then the data, handed on. The MD5 covers the pair and the data.

use md5::Digest;

use super::super::{Blob, Opened, Refused, le32};
use super::{md5_hex, text};

pub(crate) const MAGIC: [u8; 4] = [0x64, 0x80, 0x19, 0x40];
const HEADER: usize = 0x74;
const PAIR: usize = 0x6c;

pub(crate) fn plausible(data: &[u8]) -> bool {
    data.len() >= HEADER
        && data.starts_with(&MAGIC)
        && le32(data, PAIR) == 1
        && !text(&data[4..0x24]).is_empty()
}

/// Checks the MD5 and hands the data on.
pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = [0u8; HEADER];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let size = u64::from(le32(&header, PAIR + 4));
    let model = text(&header[4..0x24]);
    let available = blob.len() - offset as u64;
    if HEADER as u64 + size > available {
        return Err(Refused::Broken(format!(
            "D-Link TLV firmware for \"{model}\" declares {size} bytes, only {} are present (truncated image?)",
            available - HEADER as u64
        )));
    }
    let stored = text(&header[0x4c..0x6c]).to_lowercase();
    let mut problems = Vec::new();
    if !stored.is_empty() {
        let covered = blob
            .range(offset as u64 + PAIR as u64, size + 8)
            .map_err(broken)?
            .load()
            .map_err(broken)?;
        let computed = md5_hex(md5::Md5::digest(&*covered).into());
        if computed != stored {
            problems.push(format!(
                "the data's MD5 ({computed}) does not match the header's ({stored})"
            ));
        }
    }
    Ok(Opened::Flagged {
        parts: vec![(
            format!("data ({model})"),
            blob.range(offset as u64 + HEADER as u64, size)
                .map_err(broken)?,
        )],
        span: HEADER + size as usize,
        problems,
    })
}
