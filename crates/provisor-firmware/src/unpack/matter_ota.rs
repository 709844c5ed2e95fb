//! Matter OTA images (the Matter core specification's over-the-air update file): the
//! file identifier 0x1BEEF11E, the total size, the header size, a header in Matter TLV
//! (an anonymous structure of context-tagged fields: vendor and product IDs, software
//! version and its string, payload size, applicable versions, release notes URL, and the
//! payload's digest with its type), then the payload, handed on to be searched. A SHA-256
//! digest that does not match the payload is a finding; the payload is searched anyway.

use super::{Blob, Opened, Refused, bytes_at};

const MAGIC: [u8; 4] = 0x1bee_f11e_u32.to_le_bytes();
/// The file identifier, total size and header size before the header.
const PREFIX: usize = 16;
/// The largest header provisor reads (the specification's fields take a few hundred
/// bytes).
const MOST_HEADER: u64 = 64 << 10;

fn le32(data: &[u8], at: usize) -> u64 {
    bytes_at::<4>(data, at).map_or(0, |bytes| u64::from(u32::from_le_bytes(bytes)))
}

fn le64(data: &[u8], at: usize) -> u64 {
    bytes_at::<8>(data, at).map_or(0, u64::from_le_bytes)
}

/// The identifier, a header that starts with an anonymous TLV structure, and sizes that
/// add up.
pub(crate) fn plausible(data: &[u8]) -> bool {
    let (total, header) = (le64(data, 4), le32(data, 12));
    data.starts_with(&MAGIC)
        && data.get(PREFIX) == Some(&0x15)
        && (2..=MOST_HEADER).contains(&header)
        && total > PREFIX as u64 + header
}

/// A TLV value provisor keeps: an unsigned number or bytes.
enum Value {
    Number(u64),
    Bytes(Vec<u8>),
}

/// The context-tagged fields at the top of the header's structure; none when the TLV is
/// cut off or malformed.
fn fields(header: &[u8]) -> Option<Vec<(u8, Value)>> {
    let mut found = Vec::new();
    let mut at = 0;
    let mut depth = 0usize;
    loop {
        let control = *header.get(at)?;
        at += 1;
        let (tag_control, kind) = (control >> 5, control & 0x1f);
        let tag_length = [0, 1, 2, 4, 2, 4, 6, 8][usize::from(tag_control)];
        let tag = (tag_control == 1)
            .then(|| header.get(at).copied())
            .flatten();
        at += tag_length;
        match kind {
            // Signed and unsigned integers of 1, 2, 4 or 8 bytes; floats.
            0x00..=0x07 | 0x0a | 0x0b => {
                let size = match kind {
                    0x0a => 4,
                    0x0b => 8,
                    _ => 1 << (kind & 3),
                };
                let bytes = header.get(at..at + size)?;
                at += size;
                if depth == 1
                    && let Some(tag) = tag
                    && kind >= 0x04
                {
                    let mut word = [0u8; 8];
                    word[..size].copy_from_slice(bytes);
                    found.push((tag, Value::Number(u64::from_le_bytes(word))));
                }
            }
            0x08 | 0x09 | 0x14 => {}
            // UTF-8 and octet strings behind a length of 1, 2, 4 or 8 bytes.
            0x0c..=0x13 => {
                let width = 1 << (kind & 3);
                let mut length = [0u8; 8];
                length[..width].copy_from_slice(header.get(at..at + width)?);
                at += width;
                let length = usize::try_from(u64::from_le_bytes(length)).ok()?;
                let bytes = header.get(at..at.checked_add(length)?)?;
                at += length;
                if depth == 1
                    && let Some(tag) = tag
                {
                    found.push((tag, Value::Bytes(bytes.to_vec())));
                }
            }
            0x15..=0x17 => depth += 1,
            0x18 => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(found);
                }
            }
            _ => return None,
        }
    }
}

/// Reads the header, checks the sizes and the digest, and hands the payload on.
pub(crate) fn open(blob: &Blob, offset: usize) -> Result<Opened, Refused> {
    let broken = |error: std::io::Error| Refused::Broken(error.to_string());
    let available = blob.len() - offset as u64;
    let mut prefix = [0u8; PREFIX];
    blob.read_exact_at(offset as u64, &mut prefix)
        .map_err(broken)?;
    let (total, header_size) = (le64(&prefix, 4), le32(&prefix, 12));
    if total > available {
        return Err(Refused::Broken(format!(
            "Matter OTA image declares {total} bytes, only {available} are present (truncated image?)"
        )));
    }
    let mut header = vec![0u8; header_size as usize];
    blob.read_exact_at(offset as u64 + PREFIX as u64, &mut header)
        .map_err(broken)?;
    let fields = fields(&header).ok_or_else(|| {
        Refused::Broken("Matter OTA image: its header is not a well-formed TLV structure".into())
    })?;
    let number = |wanted: u8| {
        fields.iter().find_map(|(tag, value)| match value {
            Value::Number(number) if *tag == wanted => Some(*number),
            _ => None,
        })
    };
    let bytes = |wanted: u8| {
        fields.iter().find_map(|(tag, value)| match value {
            Value::Bytes(bytes) if *tag == wanted => Some(bytes.clone()),
            _ => None,
        })
    };
    let payload = number(4).ok_or_else(|| {
        Refused::Broken("Matter OTA image: its header has no payload size".into())
    })?;
    let start = PREFIX as u64 + header_size;
    if start.checked_add(payload) != Some(total) {
        return Err(Refused::Broken(format!(
            "Matter OTA image: a {header_size}-byte header and a {payload}-byte payload do not make the {total} bytes it declares"
        )));
    }
    let version = bytes(3).map(|text| String::from_utf8_lossy(&text).into_owned());
    let name = format!(
        "payload (vendor {:#06x}, product {:#06x}, version {})",
        number(0).unwrap_or(0),
        number(1).unwrap_or(0),
        version.unwrap_or_else(|| number(2).unwrap_or(0).to_string())
    );
    let mut problems = Vec::new();
    // Digest type 1 is SHA-256 (the IANA Named Information registry).
    if let (Some(1), Some(digest)) = (number(8), bytes(9)) {
        let computed = blob
            .sha256(offset as u64 + start, payload)
            .map_err(broken)?;
        if digest != computed {
            problems.push("the payload's SHA-256 digest does not match the header's".to_owned());
        }
    }
    Ok(Opened::Flagged {
        parts: vec![(
            name,
            blob.range(offset as u64 + start, payload).map_err(broken)?,
        )],
        span: usize::try_from(total).unwrap_or(usize::MAX),
        problems,
    })
}
