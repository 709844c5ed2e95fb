//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA-1, six
//! digits, 30-second steps, the step before and after accepted for clock drift. The
//! secret is 20 random bytes, shown once as base32 and as an `otpauth://` URI that
//! authenticator apps read. Each step is accepted once per user (the store records the
//! last one), so an overheard code cannot be replayed.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 (RFC 4648) without padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut text = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            text.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        text.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    text
}

/// Decodes base32, ignoring case, spaces and padding.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for character in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = ALPHABET
            .iter()
            .position(|letter| *letter as char == character.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
        }
    }
    Some(bytes)
}

/// A new secret, base32.
pub fn new_secret() -> String {
    let mut secret = [0u8; 20];
    getrandom::fill(&mut secret).expect("the operating system's random source failed");
    base32(&secret)
}

/// The code of a secret at a time step.
pub fn code_at(secret: &[u8], step: i64) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[digest.len() - 1] & 0x0f) as usize;
    let number = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!(
        "{:0width$}",
        number % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// The time step of a moment in milliseconds since the epoch.
pub fn step_of(ms: i64) -> i64 {
    ms.div_euclid(1000 * STEP_SECONDS)
}

/// The step a code is valid at, within one step of `now_ms`, if any. Comparison does
/// not stop at the first differing digit.
pub fn matching_step(secret_base32: &str, code: &str, now_ms: i64) -> Option<i64> {
    let secret = from_base32(secret_base32)?;
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let now = step_of(now_ms);
    let mut found = None;
    for step in [now - 1, now, now + 1] {
        let expected = code_at(&secret, step);
        let same = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0;
        if same && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI an authenticator app reads (as a QR code or pasted).
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                    (byte as char).to_string()
                } else {
                    format!("%{byte:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        encode(issuer),
        encode(account),
        encode(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (eight digits there; the last six are ours).
    #[test]
    fn rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (seconds, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code_at(secret, seconds / 30), eight[2..], "at {seconds}");
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(from_base32("mzxw6ytboi").unwrap(), b"foobar");
        assert_eq!(from_base32("MZXW6YTBOI======").unwrap(), b"foobar");
        assert!(from_base32("not base32!").is_none());
        let secret = new_secret();
        assert_eq!(from_base32(&secret).unwrap().len(), 20);
    }

    #[test]
    fn codes_match_within_one_step() {
        let secret = base32(b"12345678901234567890");
        let now = 1_111_111_111_000;
        let code = code_at(b"12345678901234567890", step_of(now) - 1);
        assert_eq!(matching_step(&secret, &code, now), Some(step_of(now) - 1));
        let old = code_at(b"12345678901234567890", step_of(now) - 2);
        assert_eq!(matching_step(&secret, &old, now), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }
}
