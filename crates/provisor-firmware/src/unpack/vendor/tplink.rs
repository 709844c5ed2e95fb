//! TP-Link's firmware header, version 1 (mktplinkfw: routers and access points built on
//! Atheros and MediaTek SoCs): 512 big-endian bytes naming the vendor, the firmware
//! version, hardware id and revision, an MD5 over the whole image (computed with a salt
//! in the digest's place), and the offsets and lengths of the kernel, the root
//! filesystem and a boot loader. Each part is handed on by name.

use md5::Digest;

use super::super::{Blob, Opened, Refused};
use super::{be32, text};

pub(crate) const MAGIC: &[u8] = b"\x01\x00\x00\x00TP-LINK Technologies";
const HEADER: usize = 512;
/// The salts mktplinkfw puts in the digest's place before hashing (firmware, boot loader
/// images).
const SALTS: [[u8; 16]; 2] = [
    [
        0xdc, 0xd7, 0x3a, 0xa5, 0xc3, 0x95, 0x98, 0xfb, 0xdd, 0xf9, 0xe7, 0xf4, 0x0e, 0xae, 0x47,
        0x38,
    ],
    [
        0x8c, 0xef, 0x33, 0x5b, 0xd5, 0xc5, 0xce, 0xfa, 0xac, 0x9c, 0x28, 0xda, 0xb2, 0xe9, 0x0f,
        0x42,
    ],
];

/// The magic, and a firmware length and parts that fit in it.
pub(crate) fn plausible(data: &[u8]) -> bool {
    let length = be32(data, 124);
    data.len() >= HEADER
        && data.starts_with(MAGIC)
        && length > HEADER as u64
        && [(128, 132), (136, 140)]
            .iter()
            .all(|&(at, size)| be32(data, at) + be32(data, size) <= length)
}

/// Checks the MD5 and hands the kernel, root filesystem and boot loader on.
pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = [0u8; HEADER];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let length = be32(&header, 124);
    let available = blob.len() - offset as u64;
    let version = text(&header[28..64]);
    if length > available {
        return Err(Refused::Broken(format!(
            "TP-Link firmware \"{version}\" declares {length} bytes, only {available} are present (truncated image?)"
        )));
    }
    let mut problems = Vec::new();
    let image = blob
        .range(offset as u64, length)
        .map_err(broken)?
        .load()
        .map_err(broken)?;
    let stored: [u8; 16] = header[76..92].try_into().unwrap_or_default();
    let matches = SALTS.iter().any(|salt| {
        let mut hasher = md5::Md5::new();
        hasher.update(&image[..76]);
        hasher.update(salt);
        hasher.update(&image[92..]);
        hasher.finalize().as_slice() == stored
    });
    if !matches {
        problems.push("the image's MD5 does not match its header".to_owned());
    }
    let mut parts = Vec::new();
    for (name, at) in [("kernel", 128), ("rootfs", 136), ("bootloader", 144)] {
        let (start, size) = (be32(&header, at), be32(&header, at + 4));
        if size == 0 {
            continue;
        }
        if start + size > length {
            return Err(Refused::Broken(format!(
                "TP-Link firmware \"{version}\": its {name} ({size} bytes at {start:#x}) lies past its end"
            )));
        }
        parts.push((
            name.to_owned(),
            blob.range(offset as u64 + start, size).map_err(broken)?,
        ));
    }
    Ok(Opened::Flagged {
        parts,
        span: length as usize,
        problems,
    })
}
