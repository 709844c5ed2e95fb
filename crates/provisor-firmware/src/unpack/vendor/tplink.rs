//! TP-Link's firmware headers. Version 1 (mktplinkfw: routers and access points built
//! on Atheros and MediaTek SoCs) is 512 big-endian bytes naming the vendor, the
//! firmware version, hardware id and revision, an MD5 over the whole image (computed
//! with a salt in the digest's place), and the offsets and lengths of the kernel, the
//! root filesystem and a boot loader. Versions 2 and 3 (mktplinkfw2: the Lantiq DSL
//! modems and later MediaTek boards) hold the same parts at other places, no vendor
//! name, other salts, and fixed bytes 0x55AA and 0xA5 that mark the header; such an
//! image may be cut short of the length it declares (its padding stripped), its MD5
//! then covering what is there. The RTOS header of TP-Link's small routers without
//! Linux (magic 0x00142FC0, then "IMG0" and the length) is followed by one image. Each
//! part is handed on by name.

use md5::Digest;

use super::super::{Blob, Opened, Refused};
use super::{be32, text};

pub(crate) const V1_MAGIC: &[u8] = b"\x01\x00\x00\x00TP-LINK Technologies";
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
pub(crate) fn v1_plausible(data: &[u8]) -> bool {
    let length = be32(data, 124);
    data.len() >= HEADER
        && data.starts_with(V1_MAGIC)
        && length > HEADER as u64
        && [(128, 132), (136, 140)]
            .iter()
            .all(|&(at, size)| be32(data, at) + be32(data, size) <= length)
}

/// Checks the MD5 and hands the kernel, root filesystem and boot loader on.
pub(crate) fn open_v1(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
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
    if !salted_md5_holds(&image, 76, &SALTS) {
        problems.push("the image's MD5 does not match its header".to_owned());
    }
    let parts = parts(blob, offset, &header, 128, length, &version)?;
    Ok(Opened::Flagged {
        parts,
        span: length as usize,
        problems,
    })
}

/// Whether the MD5 stored at `at` is the image's, computed with one of `salts` in its
/// place.
fn salted_md5_holds(image: &[u8], at: usize, salts: &[[u8; 16]]) -> bool {
    let stored = &image[at..at + 16];
    salts.iter().any(|salt| {
        let mut hasher = md5::Md5::new();
        hasher.update(&image[..at]);
        hasher.update(salt);
        hasher.update(&image[at + 16..]);
        hasher.finalize().as_slice() == stored
    })
}

/// The kernel, root filesystem and boot loader whose offset and length pairs start at
/// `table`, each within `length` bytes of the image.
fn parts(
    blob: &Blob,
    offset: usize,
    header: &[u8],
    table: usize,
    length: u64,
    version: &str,
) -> Result<Vec<(String, Blob)>, Refused> {
    let mut parts = Vec::new();
    for (name, at) in [
        ("kernel", table),
        ("rootfs", table + 8),
        ("bootloader", table + 16),
    ] {
        let (start, size) = (be32(header, at), be32(header, at + 4));
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
            blob.range(offset as u64 + start, size)
                .map_err(|error| Refused::Broken(error.to_string()))?,
        ));
    }
    Ok(parts)
}

/// The fixed bytes 0x55AA of a version 2 or 3 header, 0x8C bytes in.
pub(crate) const V2_MAGIC: [u8; 2] = [0x55, 0xaa];
pub(crate) const V2_MAGIC_AT: usize = 0x8c;
/// mktplinkfw2's salts (firmware, boot loader images).
const V2_SALTS: [[u8; 16]; 2] = [
    [
        0xdc, 0xd7, 0x3a, 0xa5, 0xc3, 0x95, 0x98, 0xfb, 0xdc, 0xf9, 0xe7, 0xf4, 0x0e, 0xae, 0x47,
        0x37,
    ],
    [
        0x8c, 0xef, 0x33, 0x5f, 0xd5, 0xc5, 0xce, 0xfa, 0xac, 0x9c, 0x28, 0xda, 0xb2, 0xe9, 0x0f,
        0x42,
    ],
];

/// Header version 2 or 3, its fixed bytes, the kernel right behind the header.
pub(crate) fn v2_plausible(data: &[u8]) -> bool {
    data.len() >= HEADER
        && matches!(data[..4], [2 | 3, 0, 0, 0])
        && data[V2_MAGIC_AT..V2_MAGIC_AT + 2] == V2_MAGIC
        && data[0x90] == 0xa5
        && be32(data, 0x64) == 0xffff_ffff
        && be32(data, 0x74) == HEADER as u64
        && be32(data, 0x78) > 0
}

/// Checks the MD5 and hands the kernel, root filesystem and boot loader on.
pub(crate) fn open_v2(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = [0u8; HEADER];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let version = text(&header[4..52]);
    let available = blob.len() - offset as u64;
    let declared = be32(&header, 0x70);
    // The parts' end: where an image with its padding stripped ends.
    let used = [0x74, 0x7c, 0x84]
        .iter()
        .map(|&at| be32(&header, at) + be32(&header, at + 4))
        .max()
        .unwrap_or(0);
    let length = if declared <= available && declared >= used {
        declared
    } else if used <= available {
        used
    } else {
        return Err(Refused::Broken(format!(
            "TP-Link firmware \"{version}\" (header version {}) needs {used} bytes, only {available} are present (truncated image?)",
            header[0]
        )));
    };
    let image = blob
        .range(offset as u64, length)
        .map_err(broken)?
        .load()
        .map_err(broken)?;
    let mut problems = Vec::new();
    // The MD5 covers the image as written: its declared length, or the parts' end
    // when the padding was stripped (hashed again only when that is shorter).
    if !salted_md5_holds(&image, 0x40, &V2_SALTS)
        && (used >= length || !salted_md5_holds(&image[..used as usize], 0x40, &V2_SALTS))
    {
        problems.push("the image's MD5 does not match its header".to_owned());
    }
    let parts = parts(blob, offset, &header, 0x74, length, &version)?;
    Ok(Opened::Flagged {
        parts,
        span: length as usize,
        problems,
    })
}

pub(crate) const RTOS_MAGIC: [u8; 4] = [0x00, 0x14, 0x2f, 0xc0];
const RTOS_HEADER: usize = 0x94;

/// The magic, "IMG0", and a length past the header.
pub(crate) fn rtos_plausible(data: &[u8]) -> bool {
    data.len() >= RTOS_HEADER
        && data.starts_with(&RTOS_MAGIC)
        && &data[20..24] == b"IMG0"
        && be32(data, 24) + 20 > RTOS_HEADER as u64
}

/// Hands the image behind the header on.
pub(crate) fn open_rtos(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = [0u8; RTOS_HEADER];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let total = be32(&header, 24) + 20;
    let model = u16::from_be_bytes([header[28], header[29]]);
    let available = blob.len() - offset as u64;
    if total > available {
        return Err(Refused::Broken(format!(
            "TP-Link RTOS firmware (model {model:x}) declares {total} bytes, only {available} are present (truncated image?)"
        )));
    }
    let size = total - RTOS_HEADER as u64;
    Ok(Opened::Inner {
        parts: vec![(
            format!("image (model {model:x} v{})", header[30]),
            blob.range(offset as u64 + RTOS_HEADER as u64, size)
                .map_err(broken)?,
        )],
        span: total as usize,
    })
}
