//! JBOOT, the boot loader of D-Link's DWR routers and other MediaTek boards, and its
//! three little-endian headers as OpenWrt's mkdlinkfw writes them: a factory image's
//! update header ("JBOOT", 80 bytes: the board's ROM id, where to erase and write in
//! flash, the data's length, 16-bit JBOOT checksums of the data and of the header),
//! STAG ("JBOOT-STAG", 16 bytes, magic 0x2B24: the kernel's length, JBOOT checksums of
//! it and of the tag) and SCH2 ("JBOOT-SCH2", 40 bytes, magic 0x2124: the kernel's
//! compression and addresses, the kernel's and the root filesystem's lengths and CRC-32s,
//! a CRC-32 of the header). A firmware is STAG, SCH2, kernel and root filesystem one
//! after the other, the update header in front of a factory image; STAG's checksum
//! covers SCH2 and the kernel only, so STAG hands on SCH2 together with the root
//! filesystem SCH2 names, and SCH2 hands on the kernel and the root filesystem.

use super::super::{Blob, Opened, Refused, le16, le32};

/// The update header's fixed bytes: four reserved words, header id 0x4842, version 2.
pub(crate) const UPDATE_MAGIC: [u8; 20] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42, 0x48, 0x02, 0x00,
];
/// Where [`UPDATE_MAGIC`] lies in the update header.
pub(crate) const UPDATE_MAGIC_AT: usize = 48;
const UPDATE_HEADER: usize = 80;

/// STAG's marks and magic, of a system upgrade image (mark = id = 4) and of a factory
/// image (mark 0xFF).
pub(crate) const STAG_MAGICS: [[u8; 4]; 2] = [[0x04, 0x04, 0x24, 0x2b], [0xff, 0x04, 0x24, 0x2b]];
const STAG_HEADER: usize = 16;

/// SCH2's magic, compression (none, jz, gzip, LZMA) and version 2.
pub(crate) const SCH2_MAGICS: [[u8; 4]; 4] = [
    [0x24, 0x21, 0x00, 0x02],
    [0x24, 0x21, 0x01, 0x02],
    [0x24, 0x21, 0x02, 0x02],
    [0x24, 0x21, 0x03, 0x02],
];
const SCH2_HEADER: usize = 40;
const COMPRESSIONS: [&str; 4] = ["uncompressed", "jz", "gzip", "LZMA"];

/// JBOOT's checksum: 16-bit little-endian words added with the carry folded back in; a
/// last odd byte is added less 0xFF. Fed in pieces of any length.
#[derive(Default)]
struct Checksum {
    counter: u32,
    odd: Option<u8>,
}

impl Checksum {
    fn of(bytes: &[u8]) -> u16 {
        let mut checksum = Checksum::default();
        checksum.add(bytes);
        checksum.finish()
    }

    fn add(&mut self, mut bytes: &[u8]) {
        if let Some(low) = self.odd.take() {
            match bytes.split_first() {
                Some((&high, rest)) => {
                    self.word(u16::from_le_bytes([low, high]));
                    bytes = rest;
                }
                None => {
                    self.odd = Some(low);
                    return;
                }
            }
        }
        let mut words = bytes.chunks_exact(2);
        for word in &mut words {
            self.word(u16::from_le_bytes([word[0], word[1]]));
        }
        if let [last] = words.remainder() {
            self.odd = Some(*last);
        }
    }

    fn word(&mut self, word: u16) {
        self.counter = fold(self.counter + u32::from(word));
    }

    fn finish(&self) -> u16 {
        let mut counter = self.counter;
        if let Some(last) = self.odd {
            counter = counter.wrapping_add(u32::from(last)).wrapping_sub(0xff);
        }
        fold(counter) as u16
    }
}

fn fold(mut counter: u32) -> u32 {
    while counter >> 16 != 0 {
        counter = (counter & 0xffff) + (counter >> 16);
    }
    counter
}

/// The JBOOT checksum of a range of a blob.
fn checksum_of(blob: &Blob, offset: u64, len: u64) -> std::io::Result<u16> {
    let mut checksum = Checksum::default();
    blob.for_each_chunk(offset, len, |chunk| checksum.add(chunk))?;
    Ok(checksum.finish())
}

fn broken(error: std::io::Error) -> Refused {
    Refused::Broken(error.to_string())
}

/// Bytes from `offset` to the blob's end.
fn available(blob: &Blob, offset: usize) -> u64 {
    blob.len().saturating_sub(offset as u64)
}

/// The update header's fixed values and reserved zeros, and some data.
pub(crate) fn update_plausible(data: &[u8]) -> bool {
    data.len() >= UPDATE_HEADER
        && data[UPDATE_MAGIC_AT..UPDATE_MAGIC_AT + 20] == UPDATE_MAGIC
        && data[16..26].iter().all(|&byte| byte == 0)
        && data[26] == 1
        && data[27] == 0
        && le16(data, 68) == 0
        && le32(data, 44) > 0
}

/// Checks the update header's checksums and hands its data on.
pub(crate) fn open_update(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let mut header = [0u8; UPDATE_HEADER];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let rom_id = super::text(&header[..12]);
    let length = u64::from(le32(&header, 44));
    let available = available(blob, offset);
    if UPDATE_HEADER as u64 + length > available {
        return Err(Refused::Broken(format!(
            "JBOOT update for ROM id \"{rom_id}\" declares {length} bytes of data, only {} are present (truncated image?)",
            available.saturating_sub(UPDATE_HEADER as u64)
        )));
    }
    let start = offset as u64 + UPDATE_HEADER as u64;
    let mut problems = Vec::new();
    let stored = le16(&header, 78);
    let computed = !Checksum::of(&header[..78]);
    if stored != computed {
        problems.push(format!(
            "the header checksum does not match (stored {stored:#06x}, computed {computed:#06x})"
        ));
    }
    let stored = le16(&header, 14);
    let computed = checksum_of(blob, start, length).map_err(broken)?;
    if stored != computed {
        problems.push(format!(
            "the data checksum does not match (stored {stored:#06x}, computed {computed:#06x})"
        ));
    }
    Ok(Opened::Flagged {
        parts: vec![(
            format!("data ({rom_id})"),
            blob.range(start, length).map_err(broken)?,
        )],
        span: UPDATE_HEADER + length as usize,
        problems,
    })
}

/// STAG's tag checksum, computed with the mark set to the id as the tool does.
fn stag_checksum(header: &[u8]) -> u16 {
    let mut copy = [0u8; STAG_HEADER - 2];
    copy.copy_from_slice(&header[..STAG_HEADER - 2]);
    copy[0] = copy[1];
    !Checksum::of(&copy)
}

/// The mark and magic, a length, and either the tag's checksum or SCH2 right behind.
pub(crate) fn stag_plausible(data: &[u8]) -> bool {
    data.len() >= STAG_HEADER
        && le16(data, 2) == 0x2b24
        && (data[0] == data[1] || data[0] == 0xff)
        && le32(data, 8) > 0
        && (stag_checksum(data) == le16(data, 14) || sch2_plausible(&data[STAG_HEADER..]))
}

/// Checks STAG's checksums and hands on what follows it: SCH2 with its kernel, and the
/// root filesystem SCH2 names when it follows in the blob.
pub(crate) fn open_stag(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let mut header = [0u8; STAG_HEADER + SCH2_HEADER];
    let readable = (available(blob, offset) as usize).min(header.len());
    blob.read_exact_at(offset as u64, &mut header[..readable])
        .map_err(broken)?;
    let length = u64::from(le32(&header, 8));
    let available = available(blob, offset);
    if STAG_HEADER as u64 + length > available {
        return Err(Refused::Broken(format!(
            "JBOOT STAG declares {length} bytes, only {} are present (truncated image?)",
            available.saturating_sub(STAG_HEADER as u64)
        )));
    }
    let start = offset as u64 + STAG_HEADER as u64;
    let mut problems = Vec::new();
    let (stored, computed) = (le16(&header, 14), stag_checksum(&header));
    if stored != computed {
        problems.push(format!(
            "the tag checksum does not match (stored {stored:#06x}, computed {computed:#06x})"
        ));
    }
    let stored = le16(&header, 12);
    let computed = checksum_of(blob, start, length).map_err(broken)?;
    if stored != computed {
        problems.push(format!(
            "the kernel checksum does not match (stored {stored:#06x}, computed {computed:#06x})"
        ));
    }
    // The root filesystem SCH2 names lies right behind the kernel.
    let sch2 = &header[STAG_HEADER..];
    let rootfs = if sch2_plausible(sch2) {
        u64::from(le32(sch2, 24))
    } else {
        0
    };
    let within = if STAG_HEADER as u64 + length + rootfs <= available {
        length + rootfs
    } else {
        length
    };
    Ok(Opened::Flagged {
        parts: vec![(
            "firmware".to_owned(),
            blob.range(start, within).map_err(broken)?,
        )],
        span: STAG_HEADER + within as usize,
        problems,
    })
}

/// The magic, a known compression, version 2, the header's own length and a kernel.
pub(crate) fn sch2_plausible(data: &[u8]) -> bool {
    data.len() >= SCH2_HEADER
        && le16(data, 0) == 0x2124
        && usize::from(data[2]) < COMPRESSIONS.len()
        && data[3] == 2
        && usize::from(le16(data, 36)) == SCH2_HEADER
        && le32(data, 8) > 0
}

/// Checks SCH2's CRC-32s and hands the kernel on, and the root filesystem when it
/// follows in the blob.
pub(crate) fn open_sch2(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let mut header = [0u8; SCH2_HEADER];
    blob.read_exact_at(offset as u64, &mut header)
        .map_err(broken)?;
    let compression = COMPRESSIONS[usize::from(header[2]) % COMPRESSIONS.len()];
    let kernel = u64::from(le32(&header, 8));
    let rootfs = u64::from(le32(&header, 24));
    let available = available(blob, offset);
    if SCH2_HEADER as u64 + kernel > available {
        return Err(Refused::Broken(format!(
            "JBOOT SCH2 declares a {kernel}-byte {compression} kernel, only {} bytes are present (truncated image?)",
            available.saturating_sub(SCH2_HEADER as u64)
        )));
    }
    let start = offset as u64 + SCH2_HEADER as u64;
    let mut problems = Vec::new();
    let mut zeroed = header;
    zeroed[32..36].fill(0);
    let mut check = |what: &str, stored: u32, computed: u32| {
        if stored != computed {
            problems.push(format!(
                "the {what} CRC-32 does not match (stored {stored:#010x}, computed {computed:#010x})"
            ));
        }
    };
    check("header", le32(&header, 32), crc32fast::hash(&zeroed));
    let crc = blob.crc32(start, kernel).map_err(broken)?.finalize();
    check("kernel", le32(&header, 12), crc);
    let mut parts = vec![(
        format!("kernel ({compression})"),
        blob.range(start, kernel).map_err(broken)?,
    )];
    let mut span = SCH2_HEADER as u64 + kernel;
    if rootfs > 0 && span + rootfs <= available {
        let crc = blob
            .crc32(start + kernel, rootfs)
            .map_err(broken)?
            .finalize();
        check("root filesystem", le32(&header, 28), crc);
        parts.push((
            "rootfs".to_owned(),
            blob.range(start + kernel, rootfs).map_err(broken)?,
        ));
        span += rootfs;
    }
    Ok(Opened::Flagged {
        parts,
        span: span as usize,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksum as mkdlinkfw computes it, fed whole or in odd pieces.
    #[test]
    fn the_checksum_folds_carries_and_takes_pieces() {
        assert_eq!(Checksum::of(&[]), 0);
        assert_eq!(Checksum::of(&[0x01, 0x00, 0x02, 0x00]), 3);
        // 0xFFFF + 0x0002 carries: 0x0001 + 0x0001.
        assert_eq!(Checksum::of(&[0xff, 0xff, 0x02, 0x00]), 2);
        // A last odd byte is added less 0xFF (wrapping, then folded).
        assert_eq!(Checksum::of(&[0x10, 0x00, 0xff]), 0x10);
        assert_eq!(Checksum::of(&[0x00, 0x01, 0x05]), 0x0100 + 5 - 0xff);
        let data: Vec<u8> = (0..1001u32).map(|at| (at * 7 + 3) as u8).collect();
        let whole = Checksum::of(&data);
        for cut in [1, 2, 3, 500, 999] {
            let mut pieces = Checksum::default();
            pieces.add(&data[..cut]);
            pieces.add(&[]);
            pieces.add(&data[cut..]);
            assert_eq!(pieces.finish(), whole, "cut at {cut}");
        }
    }
}
