//! Android boot images (`mkbootimg`; boot and recovery partitions of Android devices and
//! of many Linux ones built with Android's tools): "ANDROID!", then a little-endian header
//! whose layout depends on its version. Versions 0 to 2 give a page size and the kernel,
//! ramdisk and second-stage sizes (1 adds a recovery DTBO, 2 a device tree), each part
//! starting on a page; versions 3 and 4 use 4 KiB pages and hold a kernel and a ramdisk
//! (4 adds a boot signature). Each part is handed on, named, to be searched again: the
//! ramdisk (a compressed cpio) is where the root filesystem of early boot is.

use super::{Blob, Opened, Refused, bytes_at};

const MAGIC: &[u8; 8] = b"ANDROID!";

fn le32(header: &[u8], at: usize) -> u64 {
    bytes_at::<4>(header, at).map_or(0, |bytes| u64::from(u32::from_le_bytes(bytes)))
}

/// The header's version and page size; none when they are not Android's.
fn version_and_page(header: &[u8]) -> Option<(u64, u64)> {
    if !header.starts_with(MAGIC) {
        return None;
    }
    let version = le32(header, 40);
    let page = match version {
        0..=2 => le32(header, 36),
        3 | 4 => 4096,
        _ => return None,
    };
    matches!(page, 2048 | 4096 | 8192 | 16384).then_some((version, page))
}

/// The magic, a known header version and page size, and a kernel.
pub(crate) fn plausible(data: &[u8]) -> bool {
    version_and_page(data).is_some() && le32(data, 8) > 0
}

/// The parts in their order: name and size.
fn parts(header: &[u8], version: u64) -> Vec<(&'static str, u64)> {
    let mut parts = vec![("kernel", le32(header, 8))];
    if version >= 3 {
        parts.push(("ramdisk", le32(header, 12)));
        if version == 4 {
            parts.push(("signature", le32(header, 1580)));
        }
        return parts;
    }
    parts.push(("ramdisk", le32(header, 16)));
    parts.push(("second", le32(header, 24)));
    if version >= 1 {
        parts.push(("recovery-dtbo", le32(header, 1632)));
    }
    if version == 2 {
        parts.push(("dtb", le32(header, 1648)));
    }
    parts
}

/// Hands each part on, read where it lies; a part that lies past the image is an error
/// naming it.
pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut header = vec![0u8; 1660.min((blob.len() - offset as u64) as usize)];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let (version, page) = version_and_page(&header).ok_or(Refused::NotThisFormat)?;
    let available = blob.len() - offset as u64;
    let mut at = page;
    let mut found = Vec::new();
    for (name, size) in parts(&header, version) {
        if size == 0 {
            continue;
        }
        if at.saturating_add(size) > available {
            return Err(Refused::Broken(format!(
                "Android boot image (header version {version}): its {name} ({size} bytes at {at:#x}) lies past the image's end ({available} bytes)"
            )));
        }
        found.push((
            name.to_owned(),
            blob.range(offset as u64 + at, size).map_err(broken)?,
        ));
        at += size.div_ceil(page) * page;
    }
    Ok(Opened::Inner {
        parts: found,
        span: usize::try_from(at).unwrap_or(usize::MAX),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A version 4 header (which Debian's mkbootimg does not write): 4 KiB pages, the
    /// kernel, the ramdisk and the boot signature each on its own page.
    #[test]
    fn version_4_parts_lie_on_pages() {
        let mut image = vec![0u8; 4096 * 5];
        image[..8].copy_from_slice(MAGIC);
        image[8..12].copy_from_slice(&100u32.to_le_bytes());
        image[12..16].copy_from_slice(&5000u32.to_le_bytes());
        image[40..44].copy_from_slice(&4u32.to_le_bytes());
        image[1580..1584].copy_from_slice(&16u32.to_le_bytes());
        image[4096] = b'K';
        image[8192] = b'R';
        image[16384] = b'S';
        assert!(plausible(&image));
        let Ok(Opened::Inner { parts, span }) = open(&Blob::Memory(Arc::from(image)), 0) else {
            panic!("not opened");
        };
        let firsts: Vec<(String, u8, u64)> = parts
            .iter()
            .map(|(name, blob)| (name.clone(), blob.load().unwrap()[0], blob.len()))
            .collect();
        assert_eq!(
            firsts,
            [
                ("kernel".to_owned(), b'K', 100),
                ("ramdisk".to_owned(), b'R', 5000),
                ("signature".to_owned(), b'S', 16)
            ]
        );
        assert_eq!(span, 20480);
        // A ramdisk said to be larger than the image.
        let mut cut = vec![0u8; 4096 * 2];
        cut[..8].copy_from_slice(MAGIC);
        cut[8..12].copy_from_slice(&100u32.to_le_bytes());
        cut[12..16].copy_from_slice(&50_000u32.to_le_bytes());
        cut[40..44].copy_from_slice(&3u32.to_le_bytes());
        let Err(Refused::Broken(reason)) = open(&Blob::Memory(Arc::from(cut)), 0) else {
            panic!("opened");
        };
        assert!(
            reason.contains("its ramdisk (50000 bytes at 0x2000) lies past"),
            "{reason}"
        );
    }
}
