//! Netgear's CHK (mkchkimg): a big-endian header (magic "*#$^", its length, checksums
//! of the kernel, the root filesystem, both together and the header itself, the two
//! lengths) with the board id after it, then the kernel and the root filesystem, handed
//! on by name. Netgear's checksum is a Fletcher-like pair of running sums folded to 16
//! bits each.

use super::super::{Blob, Opened, Refused};
use super::{be32, text};

pub(crate) const MAGIC: &[u8; 4] = b"*#$^";
const FIXED: usize = 40;

pub(crate) fn plausible(data: &[u8]) -> bool {
    let length = be32(data, 4) as usize;
    data.starts_with(MAGIC) && (FIXED + 1..=FIXED + 64).contains(&length) && data.len() >= length
}

/// Netgear's checksum over consecutive pieces.
#[derive(Default)]
struct Checksum {
    c0: u64,
    c1: u64,
}

impl Checksum {
    fn add(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.c0 = (self.c0 + u64::from(byte)) & 0xffff_ffff;
            self.c1 = (self.c1 + self.c0) & 0xffff_ffff;
        }
    }

    fn finish(&self) -> u64 {
        let fold = |value: u64| {
            let folded = (value & 0xffff) + (value >> 16 & 0xffff);
            ((folded >> 16) + folded) & 0xffff
        };
        fold(self.c1) << 16 | fold(self.c0)
    }
}

/// Checks the checksums and hands the kernel and root filesystem on.
pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let mut fixed = [0u8; FIXED];
    blob.read_exact_at(offset as u64, &mut fixed)
        .map_err(broken)?;
    let length = be32(&fixed, 4);
    let mut header = vec![0u8; length as usize];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let board = text(&header[FIXED..]);
    let (kernel, rootfs) = (be32(&header, 24), be32(&header, 28));
    let available = blob.len() - offset as u64;
    let span = length + kernel + rootfs;
    if span > available {
        return Err(Refused::Broken(format!(
            "Netgear CHK for board \"{board}\" declares {span} bytes, only {available} are present (truncated image?)"
        )));
    }
    let kernel_blob = blob.range(offset as u64 + length, kernel).map_err(broken)?;
    let rootfs_blob = blob
        .range(offset as u64 + length + kernel, rootfs)
        .map_err(broken)?;
    let (kernel_bytes, rootfs_bytes) = (
        kernel_blob.load().map_err(broken)?,
        rootfs_blob.load().map_err(broken)?,
    );
    let sum = |pieces: &[&[u8]]| {
        let mut checksum = Checksum::default();
        for piece in pieces {
            checksum.add(piece);
        }
        checksum.finish()
    };
    let mut header_zeroed = header.clone();
    header_zeroed[36..40].fill(0);
    let mut problems = Vec::new();
    for (what, stored, computed) in [
        ("kernel", be32(&header, 16), sum(&[&kernel_bytes])),
        ("root filesystem", be32(&header, 20), sum(&[&rootfs_bytes])),
        (
            "image",
            be32(&header, 32),
            sum(&[&kernel_bytes, &rootfs_bytes]),
        ),
        ("header", be32(&header, 36), sum(&[&header_zeroed])),
    ] {
        if stored != computed {
            problems.push(format!(
                "the {what} checksum does not match (stored {stored:#010x}, computed {computed:#010x})"
            ));
        }
    }
    let mut parts = vec![("kernel".to_owned(), kernel_blob)];
    if rootfs > 0 {
        parts.push(("rootfs".to_owned(), rootfs_blob));
    }
    Ok(Opened::Flagged {
        parts,
        span: span as usize,
        problems,
    })
}
