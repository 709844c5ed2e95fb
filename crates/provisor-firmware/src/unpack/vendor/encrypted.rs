//! Encrypted firmware families, identified so that a scan says what it met instead of
//! "no known container": each by its magic, and (for the short ones, which text can hold
//! by chance) by the randomness of what follows, as ciphertext is. provisor holds no
//! vendor keys: the finding says to decrypt the image first.

/// The families: magic and name.
pub(crate) const FAMILIES: [(&[u8], &str); 13] = [
    (b"encrpted_img", "D-Link encrpted_img"),
    (b"SHRS", "D-Link SHRS"),
    (b"MH01", "D-Link MH01"),
    (b"DLK6E8202001", "D-Link DLKE"),
    (b"DLK6E6110002", "D-Link DLKE"),
    (b"\xdf\x8c\x39\x0d", "D-Link DIR-822 rev C"),
    (b"\x35\x66\x6f\x68", "D-Link DAP-1665"),
    (b"\xf5\x2a\xa0\xb4", "D-Link DIR-842 rev C"),
    (b"\xe3\x13\x00\x5b", "D-Link DIR-850 rev A"),
    (b"\x0a\x14\xe4\x24", "D-Link DIR-850 rev B"),
    (b"ECC0101\x00", "Autel ECC0101"),
    (b"Salted__", "OpenSSL enc (salted)"),
    (b"LUKS\xba\xbe", "LUKS"),
];

/// Bytes after the magic whose randomness is measured.
const SAMPLE: usize = 4096;

/// The family whose magic starts `data`.
pub(crate) fn family(data: &[u8]) -> Option<&'static str> {
    FAMILIES
        .iter()
        .find(|(magic, _)| data.starts_with(magic))
        .map(|&(_, name)| name)
}

/// Shannon entropy in bits per byte.
pub(crate) fn entropy(data: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &byte in data {
        counts[usize::from(byte)] += 1;
    }
    let total = data.len() as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let share = f64::from(count) / total;
            -share * share.log2()
        })
        .sum()
}

/// A known magic followed by bytes that look random (LUKS by its version instead, its
/// header being plain).
pub(crate) fn plausible(data: &[u8]) -> bool {
    let Some((magic, name)) = FAMILIES.iter().find(|(magic, _)| data.starts_with(magic)) else {
        return false;
    };
    if *name == "LUKS" {
        return matches!(data.get(6..8), Some([0, 1] | [0, 2]));
    }
    let sample = &data[(magic.len() + 60).min(data.len())..];
    let sample = &sample[..sample.len().min(SAMPLE)];
    sample.len() >= 1024 && entropy(sample) > 7.5
}
