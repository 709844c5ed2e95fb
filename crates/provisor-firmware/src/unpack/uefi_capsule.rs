//! UEFI capsules (the UEFI specification's firmware update container, as fwupd and
//! vendors ship them): a header of the capsule's GUID, the header size, flags and the
//! whole capsule's size, then the capsule's body. provisor identifies the GUIDs of the
//! standard kinds (a firmware management capsule, the generic capsule, a UX capsule
//! with a boot logo) and hands the body on to be searched; what firmware volumes it
//! holds is not parsed further.

use super::{Blob, Opened, Refused, le32};

/// The GUIDs of the standard capsules as stored (the first three fields little-endian),
/// with a name for each.
pub(crate) const GUIDS: [([u8; 16], &str); 3] = [
    (
        // 6dcbd5ed-e82d-4c44-bda1-7194199ad92a
        [
            0xed, 0xd5, 0xcb, 0x6d, 0x2d, 0xe8, 0x44, 0x4c, 0xbd, 0xa1, 0x71, 0x94, 0x19, 0x9a,
            0xd9, 0x2a,
        ],
        "firmware management",
    ),
    (
        // 3b6686bd-0d76-4030-b70e-b5519e2fc5a0
        [
            0xbd, 0x86, 0x66, 0x3b, 0x76, 0x0d, 0x30, 0x40, 0xb7, 0x0e, 0xb5, 0x51, 0x9e, 0x2f,
            0xc5, 0xa0,
        ],
        "generic",
    ),
    (
        // 3b8c8162-188c-46a4-aec9-be43f1d65697
        [
            0x62, 0x81, 0x8c, 0x3b, 0x8c, 0x18, 0xa4, 0x46, 0xae, 0xc9, 0xbe, 0x43, 0xf1, 0xd6,
            0x56, 0x97,
        ],
        "UX (boot logo)",
    ),
];

/// Flags the specification defines (persist across reset, populate the system table,
/// initiate reset) beside the 16 bits each capsule kind defines for itself.
const KNOWN_FLAGS: u32 = 0x0007_ffff;

/// A known GUID, a header of at least the 28 bytes defined, and a capsule that holds it.
pub(crate) fn plausible(data: &[u8]) -> bool {
    let (header, flags, size) = (le32(data, 16), le32(data, 20), le32(data, 24));
    data.len() >= 28
        && GUIDS.iter().any(|(guid, _)| data.starts_with(guid))
        && (28..=4096).contains(&header)
        && flags & !KNOWN_FLAGS == 0
        && size > header
}

/// Hands the capsule's body on, read where it lies.
pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = [0u8; 28];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let kind = GUIDS
        .iter()
        .find(|(guid, _)| header.starts_with(guid))
        .map_or("unknown", |(_, name)| name);
    let (start, size) = (u64::from(le32(&header, 16)), u64::from(le32(&header, 24)));
    let available = blob.len() - offset as u64;
    if size > available {
        return Err(Refused::Broken(format!(
            "UEFI {kind} capsule declares {size} bytes, only {available} are present (truncated image?)"
        )));
    }
    Ok(Opened::Inner {
        parts: vec![(
            format!("{kind} capsule body"),
            blob.range(offset as u64 + start, size - start)
                .map_err(broken)?,
        )],
        span: size as usize,
    })
}
