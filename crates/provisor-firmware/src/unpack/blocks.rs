//! Compressed streams made of blocks whose sizes their headers give: LZ4 frames (the
//! format of the `lz4` tool), LZ4's legacy format (kernels and initramfs images built
//! with `lz4 -l`) and lzop (LZO1X, common on older routers and in U-Boot images). The
//! structure is walked by provisor, so the stream's end (and so the span carving skips)
//! is exact; each block is decoded within its declared size (LZ4 blocks by lz4_flex,
//! LZO1X by provisor's own decoder), and the whole within the sandbox's budget.

use std::sync::Arc;

use super::{Format, Opened, Refused, be32_at, bytes_at, codec};
use crate::sandbox::Sandbox;

const LZ4_FRAME: &[u8] = &[0x04, 0x22, 0x4d, 0x18];
const LZ4_LEGACY: &[u8] = &[0x02, 0x21, 0x4c, 0x18];
const LZOP: &[u8] = &[0x89, b'L', b'Z', b'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a];
/// The legacy format's block size.
const LEGACY_BLOCK: usize = 8 << 20;
/// The largest block lzop writes (its `MAX_BLOCK_SIZE`).
const LZOP_BLOCK: usize = 64 << 20;

/// Header checks against chance matches.
pub(crate) fn plausible(format: Format, data: &[u8]) -> bool {
    match format {
        // Version 01 in the flags, reserved bits clear, a block size from 64 KiB to
        // 4 MiB.
        Format::Lz4 => {
            data.len() > 7
                && data.starts_with(LZ4_FRAME)
                && data[4] >> 6 == 1
                && data[4] & 0x02 == 0
                && data[5] & 0x8f == 0
                && (4..=7).contains(&(data[5] >> 4))
        }
        Format::Lz4Legacy => {
            data.starts_with(LZ4_LEGACY)
                && bytes_at(data, 4)
                    .map(u32::from_le_bytes)
                    .is_some_and(|size| size > 0 && (size as usize) <= bound(LEGACY_BLOCK))
        }
        Format::Lzop => {
            data.starts_with(LZOP)
                && bytes_at(data, 9)
                    .map(u16::from_be_bytes)
                    .is_some_and(|version| (0x0900..0x2000).contains(&version))
        }
        _ => false,
    }
}

/// The most an LZ4 block of `size` bytes compresses to.
fn bound(size: usize) -> usize {
    size + size / 255 + 16
}

fn lz4_block(input: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    lz4_flex::block::decompress(input, limit).map_err(|error| format!("lz4 block: {error}"))
}

/// Decodes the stream at `offset`: its output and the bytes it spans.
fn decode(format: Format, data: &[u8], budget: u64) -> Result<(Vec<u8>, usize), String> {
    let mut out: Vec<u8> = Vec::new();
    let grow = |block: Vec<u8>, out: &mut Vec<u8>| {
        if (out.len() + block.len()) as u64 > budget {
            return Err(format!(
                "decompression stopped at the limit of {budget} bytes (a decompression bomb?)"
            ));
        }
        out.extend_from_slice(&block);
        Ok(())
    };
    let cut = |at: usize| format!("the stream is cut off at {at:#x} (truncated image?)");
    match format {
        Format::Lz4 => {
            let flags = data[4];
            let block_max = 1usize << (8 + 2 * (data[5] >> 4) as usize);
            let mut at =
                6 + if flags & 0x08 != 0 { 8 } else { 0 } + if flags & 0x01 != 0 { 4 } else { 0 };
            at += 1; // the header checksum
            let block_checksums = flags & 0x10 != 0;
            loop {
                let word = bytes_at(data, at)
                    .map(u32::from_le_bytes)
                    .ok_or_else(|| cut(at))?;
                at += 4;
                if word == 0 {
                    break;
                }
                let size = (word & 0x7fff_ffff) as usize;
                if size > block_max {
                    return Err(format!(
                        "an lz4 block at {at:#x} is larger than the frame allows"
                    ));
                }
                let input = data.get(at..at + size).ok_or_else(|| cut(at))?;
                let block = if word & 0x8000_0000 != 0 {
                    input.to_vec()
                } else if flags & 0x20 == 0 {
                    // Dependent blocks refer to the 64 KiB before them.
                    let dictionary = &out[out.len().saturating_sub(64 << 10)..];
                    lz4_flex::block::decompress_with_dict(input, block_max, dictionary)
                        .map_err(|error| format!("lz4 block: {error}"))?
                } else {
                    lz4_block(input, block_max)?
                };
                grow(block, &mut out)?;
                at += size + if block_checksums { 4 } else { 0 };
            }
            if flags & 0x04 != 0 {
                at += 4;
            }
            Ok((out, at.min(data.len())))
        }
        Format::Lz4Legacy => {
            let mut at = 4;
            while let Some(size) = bytes_at(data, at)
                .map(u32::from_le_bytes)
                .map(|size| size as usize)
            {
                if size == 0 || size > bound(LEGACY_BLOCK) || data[at..].starts_with(LZ4_LEGACY) {
                    break;
                }
                let Some(input) = data.get(at + 4..at + 4 + size) else {
                    if out.is_empty() {
                        return Err(cut(at));
                    }
                    break;
                };
                match lz4_block(input, LEGACY_BLOCK) {
                    Ok(block) => grow(block, &mut out)?,
                    // The stream has no end marker: what follows it does not decode.
                    Err(_) if !out.is_empty() => break,
                    Err(error) => return Err(error),
                }
                at += 4 + size;
            }
            Ok((out, at))
        }
        Format::Lzop => {
            let version = bytes_at(data, 9).map(u16::from_be_bytes).unwrap_or(0);
            let mut at = 9 + 2 + 2; // version, library version
            if version >= 0x0940 {
                at += 2; // version needed
            }
            let method = *data.get(at).ok_or_else(|| cut(at))?;
            if !(1..=3).contains(&method) {
                return Err(format!("lzop method {method} is not LZO1X"));
            }
            at += 1;
            if version >= 0x0940 {
                at += 1; // level
            }
            let flags = be32_at(data, at).ok_or_else(|| cut(at))?;
            at += 4;
            if flags & 0x800 != 0 {
                at += 4; // filter
            }
            at += 4 + 4; // mode, modification time
            if version >= 0x0940 {
                at += 4; // the time's high half
            }
            let name = *data.get(at).ok_or_else(|| cut(at))? as usize;
            at += 1 + name + 4; // the name, the header checksum
            if flags & 0x40 != 0 {
                let extra = be32_at(data, at).ok_or_else(|| cut(at))? as usize;
                at += 4 + extra + 4;
            }
            let checksums_of_data = u32::from(flags & 0x1 != 0) + u32::from(flags & 0x100 != 0);
            let checksums_of_compressed =
                u32::from(flags & 0x2 != 0) + u32::from(flags & 0x200 != 0);
            loop {
                let size = be32_at(data, at).ok_or_else(|| cut(at))? as usize;
                at += 4;
                if size == 0 {
                    break;
                }
                let compressed = be32_at(data, at).ok_or_else(|| cut(at))? as usize;
                at += 4;
                if size > LZOP_BLOCK || compressed > size {
                    return Err(format!(
                        "an lzop block at {at:#x} declares impossible sizes"
                    ));
                }
                at += 4 * checksums_of_data as usize;
                if compressed < size {
                    at += 4 * checksums_of_compressed as usize;
                }
                let input = data.get(at..at + compressed).ok_or_else(|| cut(at))?;
                let block = if compressed == size {
                    input.to_vec()
                } else {
                    codec::lzo1x(input, size)?
                };
                grow(block, &mut out)?;
                at += compressed;
            }
            Ok((out, at))
        }
        _ => Err("not a block stream".into()),
    }
}

pub(crate) fn open(
    format: Format,
    data: &Arc<[u8]>,
    offset: usize,
    sandbox: &Sandbox,
) -> Result<Opened, Refused> {
    let input = &data[offset..];
    if !plausible(format, input) {
        return Err(Refused::NotThisFormat);
    }
    match decode(format, input, sandbox.budget()) {
        Ok((out, span)) => Ok(Opened::decoded(out, span)),
        Err(reason) => Err(Refused::Broken(reason)),
    }
}
