//! Arcadyan's obfuscated LZMA (routers Arcadyan builds for ISPs): the kernel's LZMA
//! stream with two 32-byte blocks of its start swapped (at 4 and at 0x68), the first of
//! them nibble-swapped and byte-swapped in pairs, so that no LZMA header is in view. It
//! is found by the obfuscated header's bytes at 0x68, de-obfuscated, and the LZMA stream
//! behind 4 bytes handed on as a payload to decode.

use std::sync::Arc;

use super::super::{Blob, Opened, Refused};

/// The obfuscated LZMA header's first bytes, 0x68 into the image.
pub(crate) const MAGIC: [u8; 4] = [0x00, 0xd5, 0x08, 0x00];
pub(crate) const MAGIC_AT: usize = 0x68;
const BLOCK: usize = 32;

/// Reverses the obfuscation of the first 0x88 bytes.
fn deobfuscate(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    out[4..4 + BLOCK].copy_from_slice(&data[MAGIC_AT..MAGIC_AT + BLOCK]);
    out[MAGIC_AT..MAGIC_AT + BLOCK].copy_from_slice(&data[4..4 + BLOCK]);
    for byte in &mut out[4..4 + BLOCK] {
        *byte = byte.rotate_left(4);
    }
    for pair in out[4..4 + BLOCK].chunks_exact_mut(2) {
        pair.swap(0, 1);
    }
    out
}

/// The de-obfuscated start is an LZMA header: properties 0x5d and a power-of-two
/// dictionary.
pub(crate) fn plausible(data: &[u8]) -> bool {
    if data.len() < MAGIC_AT + BLOCK + 16 {
        return false;
    }
    let start = deobfuscate(&data[..MAGIC_AT + BLOCK]);
    let dictionary = u32::from_le_bytes(start[5..9].try_into().unwrap_or_default());
    start[4] == 0x5d && dictionary.is_power_of_two() && dictionary >= 1 << 12
}

/// De-obfuscates the start and hands the LZMA stream on.
pub(crate) fn open(data: &Arc<[u8]>, offset: usize) -> Result<Opened, Refused> {
    let image = &data[offset..];
    if !plausible(image) {
        return Err(Refused::NotThisFormat);
    }
    let mut clear = deobfuscate(&image[..MAGIC_AT + BLOCK]);
    clear.extend_from_slice(&image[MAGIC_AT + BLOCK..]);
    Ok(Opened::Inner {
        parts: vec![(
            "de-obfuscated LZMA".to_owned(),
            Blob::Memory(Arc::from(&clear[4..])),
        )],
        span: image.len(),
    })
}
