//! CSman, the configuration store of routers built on Cybertan and Sercomm firmware: a
//! 16-byte header ("SC" for big-endian, "CS" for little-endian, the stored and the
//! decoded size), then the entries (a 32-bit key, a 16-bit length, the value; a zero key
//! ends them), zlib-compressed when the two sizes differ. Configuration values carry
//! default passwords, Wi-Fi keys and certificates, so each entry is mounted as a file
//! `/csman/KEY.dat` (the key in hex; a key met again gets `_2`, `_3`…) for the checks
//! to read.

use std::collections::HashMap;
use std::sync::Arc;

use super::super::{Opened, Refused, codec, mount};
use crate::sandbox::Sandbox;
use crate::vfs::{Content, NodeKind, Vfs};

/// The magic of a big-endian store, and of a little-endian one.
pub(crate) const MAGICS: [&[u8; 2]; 2] = [b"SC", b"CS"];
const HEADER: usize = 16;
/// The largest store read: configuration stores are kilobytes.
const LARGEST: u32 = 16 << 20;

/// The header's sizes in the store's byte order: stored, decoded.
fn sizes(data: &[u8]) -> Option<(u32, u32)> {
    let big_endian = data.starts_with(b"SC");
    Some((word(data, 4, big_endian)?, word(data, 12, big_endian)?))
}

fn half(data: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let bytes = super::super::bytes_at::<2>(data, at)?;
    Some(if big_endian {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    })
}

fn word(data: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let bytes = super::super::bytes_at::<4>(data, at)?;
    Some(if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    })
}

/// A magic and sizes of a configuration store; when compressed, a zlib header behind
/// it; when not, a first entry that fits.
pub(crate) fn plausible(data: &[u8]) -> bool {
    let Some((stored, decoded)) = sizes(data) else {
        return false;
    };
    if !MAGICS.iter().any(|magic| data.starts_with(*magic))
        || stored == 0
        || stored > LARGEST
        || decoded == 0
        || decoded > LARGEST
    {
        return false;
    }
    if stored != decoded {
        return match (data.get(HEADER), data.get(HEADER + 1)) {
            (Some(&0x78), Some(&flags)) => (0x7800 | u32::from(flags)) % 31 == 0,
            _ => false,
        };
    }
    let big_endian = data.starts_with(b"SC");
    match (
        word(data, HEADER, big_endian),
        half(data, HEADER + 4, big_endian),
    ) {
        (Some(key), Some(length)) => key != 0 && 6 + u32::from(length) <= stored,
        _ => false,
    }
}

/// The entries of a decoded store: (key, value range), or why they cannot be walked.
fn entries(data: &[u8], big_endian: bool) -> Result<Vec<(u32, std::ops::Range<usize>)>, String> {
    let mut found = Vec::new();
    let mut at = 0;
    loop {
        let Some(key) = word(data, at, big_endian) else {
            return Err(format!(
                "the entries run past the end at offset {at:#x} without the closing zero key"
            ));
        };
        if key == 0 {
            return Ok(found);
        }
        let value = at + 6;
        let end = half(data, at + 4, big_endian).map(|length| value + usize::from(length));
        match end {
            Some(end) if end <= data.len() => {
                found.push((key, value..end));
                at = end;
            }
            _ => {
                return Err(format!(
                    "entry {key:#010x} at offset {at:#x} runs past the end of the store"
                ));
            }
        }
    }
}

/// Mounts each entry as a file.
pub(crate) fn mount_csman(
    data: &Arc<[u8]>,
    offset: usize,
    chain: &str,
    sandbox: &mut Sandbox,
    vfs: &mut Vfs,
) -> Result<Opened, Refused> {
    let header = &data[offset..];
    let big_endian = header.starts_with(b"SC");
    let (stored, decoded) = sizes(header).ok_or(Refused::NotThisFormat)?;
    let end = HEADER + stored as usize;
    let Some(body) = header.get(HEADER..end) else {
        return Err(Refused::Broken(format!(
            "CSman declares {stored} bytes of entries, only {} are present (truncated image?)",
            header.len().saturating_sub(HEADER)
        )));
    };
    let store: Arc<[u8]> = if stored == decoded {
        Arc::from(body)
    } else {
        let limit = (decoded as usize).min(sandbox.budget() as usize);
        // A stream that does not inflate was a chance match of the short magic.
        Arc::from(codec::zlib(body, limit).map_err(|_| Refused::NotThisFormat)?)
    };
    let found = match entries(&store, big_endian) {
        Ok(found) if !found.is_empty() => found,
        Ok(_) => return Err(Refused::NotThisFormat),
        // (Plausibility saw the first entry fit, or the stream inflate.)
        Err(reason) => return Err(Refused::Broken(format!("CSman: {reason}"))),
    };
    let container: Arc<str> = Arc::from(chain);
    let mut mount_one = |path: &str, kind, mode, size, content| {
        mount(
            sandbox,
            vfs,
            path,
            kind,
            mode,
            (0, 0),
            size,
            &container,
            content,
        )
        .map_err(Refused::Broken)
    };
    mount_one("/csman", NodeKind::Directory, 0o755, 0, Content::None)?;
    let mut seen: HashMap<u32, usize> = HashMap::new();
    for (key, range) in found {
        let count = seen.entry(key).or_default();
        *count += 1;
        let path = match *count {
            1 => format!("/csman/{key:08X}.dat"),
            again => format!("/csman/{key:08X}.dat_{again}"),
        };
        let size = range.len() as u64;
        mount_one(
            &path,
            NodeKind::File,
            0o644,
            size,
            Content::Memory(store.clone(), range),
        )?;
    }
    Ok(Opened::Mounted { span: Some(end) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store of `entries` in either byte order, compressed or not.
    fn store(entries: &[(u32, &[u8])], big_endian: bool, compressed: bool) -> Vec<u8> {
        let mut body = Vec::new();
        for (key, value) in entries {
            if big_endian {
                body.extend(key.to_be_bytes());
                body.extend((value.len() as u16).to_be_bytes());
            } else {
                body.extend(key.to_le_bytes());
                body.extend((value.len() as u16).to_le_bytes());
            }
            body.extend(*value);
        }
        body.extend([0; 4]);
        let decoded = body.len() as u32;
        if compressed {
            use std::io::Write;
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&body).unwrap();
            body = encoder.finish().unwrap();
        }
        let stored = body.len() as u32;
        let mut out = Vec::new();
        let words = |value: u32| {
            if big_endian {
                value.to_be_bytes()
            } else {
                value.to_le_bytes()
            }
        };
        out.extend(if big_endian { b"SC" } else { b"CS" });
        out.extend([0, 0]);
        out.extend(words(stored));
        out.extend(words(0));
        out.extend(words(decoded));
        out.extend(body);
        out
    }

    #[test]
    fn stores_are_recognised_in_both_orders_and_text_is_not() {
        let entries: &[(u32, &[u8])] = &[(0x0001_0001, b"admin"), (0x0002_0002, b"secret")];
        for big_endian in [false, true] {
            for compressed in [false, true] {
                let data = store(entries, big_endian, compressed);
                assert!(plausible(&data), "{big_endian} {compressed}");
                let walked = if compressed {
                    codec::zlib(&data[HEADER..], 1 << 20).unwrap()
                } else {
                    data[HEADER..].to_vec()
                };
                let found = entries_of(&walked, big_endian);
                assert_eq!(
                    found,
                    vec![
                        (0x0001_0001, b"admin".to_vec()),
                        (0x0002_0002, b"secret".to_vec())
                    ]
                );
            }
        }
        for text in [
            &b"CSS selectors and SCSI disks, SCADA and CS:GO servers.........."[..],
            b"SC\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x20xxxxxxxxxxxxxxxx",
            b"CS\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        ] {
            assert!(!plausible(text), "{}", String::from_utf8_lossy(text));
        }
    }

    fn entries_of(data: &[u8], big_endian: bool) -> Vec<(u32, Vec<u8>)> {
        entries(data, big_endian)
            .unwrap()
            .into_iter()
            .map(|(key, range)| (key, data[range].to_vec()))
            .collect()
    }

    #[test]
    fn a_store_cut_short_says_where() {
        let data = store(&[(7, b"value"), (8, b"other")], false, false);
        let body = &data[HEADER..data.len() - 8];
        let error = entries(body, false).unwrap_err();
        assert!(error.contains("entry 0x00000008 at offset 0xb"), "{error}");
    }
}
