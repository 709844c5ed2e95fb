//! Recognizing private keys in the encodings firmware carries them in, and describing
//! them without revealing them: PEM (PKCS#1, SEC1, DSA, PKCS#8, encrypted PKCS#8,
//! OpenSSH), bare DER files (PKCS#1, SEC1, PKCS#8), PuTTY key files and dropbear's
//! binary host keys. A description gives the format, the algorithm, the size (bits or
//! curve) and a fingerprint: OpenSSH's `SHA256:` of the public key where the format
//! carries it, otherwise the SHA-256 of the DER.
//!
//! DER is walked with a reader that checks every length against what is left, so a
//! hostile file only fails to parse.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A private key found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundKey {
    /// The encoding (`PKCS#8`, `OpenSSH`, `dropbear`…).
    pub format: &'static str,
    /// The algorithm and size (`RSA 2048-bit`, `EC P-256`, `Ed25519`), when readable.
    pub algorithm: Option<String>,
    /// `SHA256:…`.
    pub fingerprint: String,
    /// The 1-based line of a text encoding.
    pub line: Option<u64>,
}

const STANDARD: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const UNPADDED: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

fn sha256_fingerprint(bytes: &[u8]) -> String {
    format!("SHA256:{}", UNPADDED.encode(Sha256::digest(bytes)))
}

/// One DER element: tag and contents.
struct Der<'a> {
    tag: u8,
    contents: &'a [u8],
}

/// Reads the DER element at the start of `input`, returning it and what follows.
fn read_der(input: &[u8]) -> Option<(Der<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |length, &byte| (length << 8) | usize::from(byte));
        (length, &rest[count..])
    };
    (length <= rest.len()).then(|| {
        (
            Der {
                tag,
                contents: &rest[..length],
            },
            &rest[length..],
        )
    })
}

/// The elements of a SEQUENCE.
fn sequence(input: &[u8]) -> Option<Vec<Der<'_>>> {
    let (outer, _) = read_der(input)?;
    if outer.tag != 0x30 {
        return None;
    }
    let mut items = Vec::new();
    let mut rest = outer.contents;
    while !rest.is_empty() {
        let (item, after) = read_der(rest)?;
        items.push(item);
        rest = after;
        if items.len() > 16 {
            return None;
        }
    }
    Some(items)
}

/// The size in bits of an unsigned big-endian integer.
fn bits(integer: &[u8]) -> usize {
    let trimmed: &[u8] = match integer.iter().position(|&byte| byte != 0) {
        Some(start) => &integer[start..],
        None => &[],
    };
    trimmed.first().map_or(0, |&top| {
        (trimmed.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    })
}

fn curve_name(oid: &[u8]) -> String {
    match oid {
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] => "P-256".into(),
        [0x2b, 0x81, 0x04, 0x00, 0x22] => "P-384".into(),
        [0x2b, 0x81, 0x04, 0x00, 0x23] => "P-521".into(),
        [0x2b, 0x81, 0x04, 0x00, 0x0a] => "secp256k1".into(),
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01] => "P-192".into(),
        _ => "unknown curve".into(),
    }
}

/// PKCS#1 RSA: version, modulus, public exponent, private exponent, primes…
fn pkcs1_rsa(der: &[u8]) -> Option<String> {
    let items = sequence(der)?;
    (items.len() >= 9 && items.iter().take(9).all(|item| item.tag == 0x02))
        .then(|| format!("RSA {}-bit", bits(items[1].contents)))
}

/// SEC1 EC: version 1, the private key, then the curve.
fn sec1_ec(der: &[u8]) -> Option<String> {
    let items = sequence(der)?;
    let version_one = items.first()?.tag == 0x02 && items[0].contents == [1];
    let private = items.get(1)?.tag == 0x04;
    if !(version_one && private) {
        return None;
    }
    let curve = items
        .iter()
        .find(|item| item.tag == 0xa0)
        .and_then(|parameters| read_der(parameters.contents))
        .filter(|(oid, _)| oid.tag == 0x06)
        .map_or_else(
            || "unknown curve".into(),
            |(oid, _)| curve_name(oid.contents),
        );
    Some(format!("EC {curve}"))
}

/// DSA (OpenSSL's layout): version 0, p, q, g, y, x.
fn dsa(der: &[u8]) -> Option<String> {
    let items = sequence(der)?;
    (items.len() == 6 && items.iter().all(|item| item.tag == 0x02))
        .then(|| format!("DSA {}-bit", bits(items[1].contents)))
}

/// PKCS#8: version, algorithm identifier, the private key in an OCTET STRING.
fn pkcs8(der: &[u8]) -> Option<String> {
    let items = sequence(der)?;
    if items.len() < 3 || items[0].tag != 0x02 || items[1].tag != 0x30 || items[2].tag != 0x04 {
        return None;
    }
    let (oid, parameters) = read_der(items[1].contents)?;
    if oid.tag != 0x06 {
        return None;
    }
    Some(match oid.contents {
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01] => {
            pkcs1_rsa(items[2].contents).unwrap_or_else(|| "RSA".into())
        }
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01] => {
            let curve = read_der(parameters)
                .filter(|(oid, _)| oid.tag == 0x06)
                .map_or_else(
                    || "unknown curve".into(),
                    |(oid, _)| curve_name(oid.contents),
                );
            format!("EC {curve}")
        }
        [0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01] => match sequence(parameters) {
            Some(domain) if !domain.is_empty() => format!("DSA {}-bit", bits(domain[0].contents)),
            _ => "DSA".into(),
        },
        [0x2b, 0x65, 0x70] => "Ed25519".into(),
        [0x2b, 0x65, 0x71] => "Ed448".into(),
        [0x2b, 0x65, 0x6e] => "X25519".into(),
        [0x2b, 0x65, 0x6f] => "X448".into(),
        _ => "unknown algorithm".into(),
    })
}

/// A bare DER file that is exactly one private key.
pub(crate) fn der_file(bytes: &[u8]) -> Option<FoundKey> {
    let (_, rest) = read_der(bytes).filter(|(element, _)| element.tag == 0x30)?;
    if !rest.is_empty() {
        return None;
    }
    let (format, algorithm) = if let Some(algorithm) = pkcs8(bytes) {
        ("PKCS#8 (DER)", algorithm)
    } else if let Some(algorithm) = pkcs1_rsa(bytes) {
        ("PKCS#1 (DER)", algorithm)
    } else if let Some(algorithm) = sec1_ec(bytes) {
        ("SEC1 (DER)", algorithm)
    } else {
        return None;
    };
    Some(FoundKey {
        format,
        algorithm: Some(algorithm),
        fingerprint: sha256_fingerprint(bytes),
        line: None,
    })
}

/// A length-prefixed SSH string (RFC 4251) at the start of `input`.
fn ssh_string(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let length = u32::from_be_bytes(input.get(..4)?.try_into().ok()?) as usize;
    let end = 4usize.checked_add(length)?;
    Some((input.get(4..end)?, &input[end..]))
}

/// The algorithm and size an SSH public key blob names.
fn ssh_public_key(blob: &[u8]) -> Option<String> {
    let (kind, rest) = ssh_string(blob)?;
    Some(match kind {
        b"ssh-rsa" => {
            let (_, rest) = ssh_string(rest)?;
            let (modulus, _) = ssh_string(rest)?;
            format!("RSA {}-bit", bits(modulus))
        }
        b"ssh-dss" => {
            let (p, _) = ssh_string(rest)?;
            format!("DSA {}-bit", bits(p))
        }
        b"ssh-ed25519" => "Ed25519".into(),
        b"ecdsa-sha2-nistp256" => "EC P-256".into(),
        b"ecdsa-sha2-nistp384" => "EC P-384".into(),
        b"ecdsa-sha2-nistp521" => "EC P-521".into(),
        other => String::from_utf8_lossy(other).into_owned(),
    })
}

/// OpenSSH's own format (the body of `OPENSSH PRIVATE KEY`): algorithm and fingerprint
/// from the public key it carries.
pub(crate) fn openssh(der: &[u8]) -> Option<(Option<String>, String)> {
    let rest = der.strip_prefix(b"openssh-key-v1\0")?;
    let (_cipher, rest) = ssh_string(rest)?;
    let (_kdf, rest) = ssh_string(rest)?;
    let (_options, rest) = ssh_string(rest)?;
    let count = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
    if count == 0 {
        return None;
    }
    let (public, _) = ssh_string(&rest[4..])?;
    Some((ssh_public_key(public), sha256_fingerprint(public)))
}

/// A PuTTY private key file (`PuTTY-User-Key-File-2:` or `-3:`).
pub(crate) fn putty(text: &[u8]) -> Option<FoundKey> {
    let start = memchr::memmem::find(text, b"PuTTY-User-Key-File-")?;
    let rest = String::from_utf8_lossy(&text[start..text.len().min(start + 64 * 1024)]);
    let mut lines = rest.lines();
    let mut public = String::new();
    let mut has_private = false;
    while let Some(line) = lines.next() {
        if let Some(count) = line.strip_prefix("Public-Lines: ") {
            let count: usize = count.trim().parse().ok()?;
            for _ in 0..count.min(64) {
                public.push_str(lines.next()?.trim());
            }
        } else if line.starts_with("Private-Lines: ") {
            has_private = true;
        }
    }
    if !has_private {
        return None;
    }
    let blob = STANDARD.decode(public).ok()?;
    let line = text[..start].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    Some(FoundKey {
        format: "PuTTY",
        algorithm: ssh_public_key(&blob),
        fingerprint: sha256_fingerprint(&blob),
        line: Some(line),
    })
}

/// A dropbear host key (`dropbearkey` output): the algorithm name, then the public and
/// private parts as SSH strings, filling the file exactly.
pub(crate) fn dropbear(bytes: &[u8]) -> Option<FoundKey> {
    let (kind, mut rest) = ssh_string(bytes)?;
    let (fields, public_fields) = match kind {
        b"ssh-rsa" => (5, 2),
        b"ssh-dss" => (5, 4),
        b"ssh-ed25519" => (1, 0),
        b"ecdsa-sha2-nistp256" | b"ecdsa-sha2-nistp384" | b"ecdsa-sha2-nistp521" => (3, 2),
        _ => return None,
    };
    let mut parts = Vec::new();
    for _ in 0..fields {
        let (part, after) = ssh_string(rest)?;
        parts.push(part);
        rest = after;
    }
    if !rest.is_empty() {
        return None;
    }
    // The public key blob OpenSSH would fingerprint: the name and the public parts
    // (for Ed25519, the second half of the 64-byte private field).
    let mut public = Vec::new();
    let mut push = |part: &[u8]| {
        public.extend_from_slice(&(part.len() as u32).to_be_bytes());
        public.extend_from_slice(part);
    };
    push(kind);
    if kind == b"ssh-ed25519" {
        if parts[0].len() != 64 {
            return None;
        }
        push(&parts[0][32..]);
    } else {
        for part in &parts[..public_fields] {
            push(part);
        }
    }
    Some(FoundKey {
        format: "dropbear",
        algorithm: ssh_public_key(&public),
        fingerprint: sha256_fingerprint(&public),
        line: None,
    })
}

/// The algorithm inside the DER of a PEM block with `label`.
pub(crate) fn pem_algorithm(label: &str, der: &[u8]) -> Option<String> {
    match label {
        "RSA PRIVATE KEY" => pkcs1_rsa(der),
        "EC PRIVATE KEY" => sec1_ec(der),
        "DSA PRIVATE KEY" => dsa(der),
        "PRIVATE KEY" => pkcs8(der),
        _ => None,
    }
}

/// The SHA-256 fingerprint of DER.
pub(crate) fn der_fingerprint(der: &[u8]) -> String {
    sha256_fingerprint(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_der_only_fails_to_parse() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            &[0x30, 0x02, 0x02, 0x05],
        ] {
            assert_eq!(der_file(input), None);
            assert_eq!(dropbear(input), None);
            assert_eq!(openssh(input), None);
        }
        assert_eq!(bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bits(&[0x01]), 1);
    }
}
