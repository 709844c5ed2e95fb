//! Android sparse images (`system.img` as `make_ext4fs -s` and `img2simg` write them): a
//! 28-byte header, then chunks that each cover a run of output blocks, raw (the bytes
//! follow), fill (a 4-byte pattern repeated), don't care (zeros) or a CRC-32 of what came
//! before. The expanded image is handed on and searched again; usually it holds an ext4
//! filesystem. Expansion stops at the sandbox's budget, so a header that declares
//! terabytes of don't-care blocks is refused before any memory is taken.

use super::{Opened, Refused, le16, le32};
use crate::sandbox::Sandbox;

const MAGIC: u32 = 0xed26_ff3a;
const HEADER: usize = 28;
const CHUNK_HEADER: usize = 12;
const RAW: u16 = 0xcac1;
const FILL: u16 = 0xcac2;
const DONT_CARE: u16 = 0xcac3;
const CRC32: u16 = 0xcac4;

/// The header is that of version 1.0 with the usual header sizes and a block size that
/// is a multiple of 4.
pub(crate) fn plausible(data: &[u8]) -> bool {
    let block_size = le32(data, 12);
    data.len() >= HEADER
        && le32(data, 0) == MAGIC
        && le16(data, 4) == 1
        && usize::from(le16(data, 8)) >= HEADER
        && usize::from(le16(data, 10)) >= CHUNK_HEADER
        && block_size >= 512
        && block_size.is_multiple_of(4)
        && block_size <= 1 << 20
}

/// Expands the sparse image at `offset`.
pub(crate) fn open(data: &[u8], offset: usize, sandbox: &Sandbox) -> Result<Opened, Refused> {
    let image = &data[offset..];
    let header_size = usize::from(le16(image, 8));
    let chunk_header_size = usize::from(le16(image, 10));
    let block_size = u64::from(le32(image, 12));
    let total_blocks = u64::from(le32(image, 16));
    let chunks = le32(image, 20);
    let expanded = total_blocks.saturating_mul(block_size);
    if expanded > sandbox.budget() {
        return Err(Refused::Broken(format!(
            "the sparse image expands to {expanded} bytes, past the limit of {} bytes",
            sandbox.budget()
        )));
    }
    let mut out = Vec::with_capacity(expanded as usize);
    let mut at = header_size;
    for chunk in 0..chunks {
        let broken = |what: String| {
            Refused::Broken(format!(
                "chunk {chunk} at offset {:#x}: {what}",
                offset + at
            ))
        };
        if at + chunk_header_size > image.len() {
            return Err(broken("the image ends inside the chunk header".into()));
        }
        let kind = le16(image, at);
        let blocks = u64::from(le32(image, at + 4));
        let total = le32(image, at + 8) as usize;
        let body = at + chunk_header_size;
        let bytes = blocks.saturating_mul(block_size);
        if out.len() as u64 + bytes > expanded && kind != CRC32 {
            return Err(broken(format!(
                "its blocks run past the {total_blocks} blocks the header declares"
            )));
        }
        let end = at
            .checked_add(total)
            .filter(|&end| end >= body && end <= image.len())
            .ok_or_else(|| broken(format!("its size {total} runs past the image")))?;
        match kind {
            RAW => {
                if (end - body) as u64 != bytes {
                    return Err(broken(format!(
                        "{} bytes of data for {blocks} blocks",
                        end - body
                    )));
                }
                out.extend_from_slice(&image[body..end]);
            }
            FILL => {
                let pattern = image
                    .get(body..body + 4)
                    .ok_or_else(|| broken("the fill pattern is missing".into()))?;
                out.extend(pattern.iter().copied().cycle().take(bytes as usize));
            }
            DONT_CARE => out.resize(out.len() + bytes as usize, 0),
            CRC32 => {}
            other => return Err(broken(format!("unknown chunk type {other:#06x}"))),
        }
        at = end;
    }
    if out.len() as u64 != expanded {
        return Err(Refused::Broken(format!(
            "the chunks cover {} of the {expanded} bytes the header declares",
            out.len()
        )));
    }
    Ok(Opened::decoded(out, at))
}
