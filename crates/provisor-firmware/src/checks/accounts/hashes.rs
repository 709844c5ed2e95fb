//! Password verification for every storage scheme the account files use: crypt(3)
//! (DES, md5crypt, sha256crypt, sha512crypt, bcrypt) through pwhash; Apache's apr1
//! (md5crypt with its own magic), `{SHA}` (unsalted SHA-1) and htdigest (MD5 of
//! `user:realm:password`); mosquitto's `$6$` (salted SHA-512) and `$7$` (PBKDF2-SHA512);
//! and plain text. Each scheme says whether it is weak, and whether trying a list of
//! passwords against it stays fast.

use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha512};

/// How a password is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// Traditional DES crypt: 13 characters, passwords cut at 8.
    DesCrypt,
    /// `$1$`.
    Md5Crypt,
    /// `$apr1$`, Apache's md5crypt.
    Apr1,
    /// `$5$`.
    Sha256Crypt,
    /// `$6$` in a crypt(3) file.
    Sha512Crypt,
    /// `$2a$`, `$2b$`, `$2y$`.
    Bcrypt,
    /// `{SHA}`: base64 of an unsalted SHA-1.
    Sha1,
    /// htdigest: hex MD5 of `user:realm:password`.
    Digest,
    /// mosquitto_passwd's `$6$salt$hash`: base64 SHA-512 of password and salt.
    MosquittoSha512,
    /// mosquitto_passwd's `$7$iterations$salt$hash`: PBKDF2-HMAC-SHA512.
    MosquittoPbkdf2,
    /// The password itself.
    Plain,
    /// scrypt, yescrypt, argon2 and anything else provisor cannot verify.
    Other,
}

impl Scheme {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::DesCrypt => "DES crypt",
            Scheme::Md5Crypt => "md5crypt",
            Scheme::Apr1 => "apr1 (md5)",
            Scheme::Sha256Crypt => "sha256crypt",
            Scheme::Sha512Crypt => "sha512crypt",
            Scheme::Bcrypt => "bcrypt",
            Scheme::Sha1 => "unsalted SHA-1",
            Scheme::Digest => "htdigest (unsalted MD5)",
            Scheme::MosquittoSha512 => "salted SHA-512 (one round)",
            Scheme::MosquittoPbkdf2 => "PBKDF2-SHA512",
            Scheme::Plain => "plain text",
            Scheme::Other => "other",
        }
    }

    /// Fast to brute-force, or no hash at all: not the best practice 5.1-3 asks for.
    pub fn is_weak(self) -> bool {
        matches!(
            self,
            Scheme::DesCrypt
                | Scheme::Md5Crypt
                | Scheme::Apr1
                | Scheme::Sha1
                | Scheme::Digest
                | Scheme::MosquittoSha512
                | Scheme::Plain
        )
    }
}

/// The scheme of a crypt(3)-style field (shadow, passwd, htpasswd).
pub(crate) fn crypt_scheme(hash: &str) -> Scheme {
    let is_des = hash.len() == 13
        && hash
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '/');
    if hash.starts_with("$1$") {
        Scheme::Md5Crypt
    } else if hash.starts_with("$apr1$") {
        Scheme::Apr1
    } else if hash.starts_with("$5$") {
        Scheme::Sha256Crypt
    } else if hash.starts_with("$6$") {
        Scheme::Sha512Crypt
    } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
        Scheme::Bcrypt
    } else if hash.starts_with("{SHA}") {
        Scheme::Sha1
    } else if is_des {
        Scheme::DesCrypt
    } else {
        Scheme::Other
    }
}

/// The scheme of a mosquitto password file field.
pub(crate) fn mosquitto_scheme(hash: &str) -> Scheme {
    if hash.starts_with("$7$") {
        Scheme::MosquittoPbkdf2
    } else if hash.starts_with("$6$") {
        Scheme::MosquittoSha512
    } else {
        Scheme::Other
    }
}

/// Whether trying a list of passwords against this hash stays fast: bounded rounds for
/// sha-crypt and mosquitto's PBKDF2, bounded cost for bcrypt.
pub(crate) fn affordable(scheme: Scheme, hash: &str) -> bool {
    match scheme {
        Scheme::Sha256Crypt | Scheme::Sha512Crypt => {
            match hash.get(3..).and_then(|rest| rest.strip_prefix("rounds=")) {
                Some(rounds) => rounds
                    .split('$')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|rounds| rounds <= 50_000),
                None => true,
            }
        }
        Scheme::Bcrypt => hash
            .get(4..6)
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|cost| cost <= 12),
        Scheme::MosquittoPbkdf2 => hash
            .split('$')
            .nth(2)
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|iterations| iterations <= 200_000),
        _ => true,
    }
}

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Whether `password` is the one stored as `hash` in `scheme`; `user` and `realm` are
/// needed by htdigest only.
pub(crate) fn verify(scheme: Scheme, hash: &str, password: &str, user: &str, realm: &str) -> bool {
    match scheme {
        Scheme::DesCrypt
        | Scheme::Md5Crypt
        | Scheme::Sha256Crypt
        | Scheme::Sha512Crypt
        | Scheme::Bcrypt => pwhash::unix::verify(password, hash),
        Scheme::Apr1 => md5_crypt(password, hash, "$apr1$").is_some_and(|ours| ours == hash),
        Scheme::Sha1 => hash.strip_prefix("{SHA}") == Some(&BASE64.encode(Sha1::digest(password))),
        Scheme::Digest => {
            let digest = Md5::digest(format!("{user}:{realm}:{password}"));
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            hash.eq_ignore_ascii_case(&hex)
        }
        Scheme::MosquittoSha512 => {
            let mut parts = hash.split('$').skip(2);
            let (Some(salt), Some(stored)) = (parts.next(), parts.next()) else {
                return false;
            };
            let Ok(salt) = BASE64.decode(salt) else {
                return false;
            };
            let mut hasher = Sha512::new();
            hasher.update(password.as_bytes());
            hasher.update(&salt);
            BASE64.encode(hasher.finalize()) == stored
        }
        Scheme::MosquittoPbkdf2 => {
            let mut parts = hash.split('$').skip(2);
            let (Some(iterations), Some(salt), Some(stored)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return false;
            };
            let (Ok(iterations), Ok(salt), Ok(stored)) = (
                iterations.parse::<u32>(),
                BASE64.decode(salt),
                BASE64.decode(stored),
            ) else {
                return false;
            };
            if stored.is_empty() || stored.len() > 64 {
                return false;
            }
            let mut derived = vec![0u8; stored.len()];
            pbkdf2::pbkdf2_hmac::<Sha512>(password.as_bytes(), &salt, iterations, &mut derived);
            derived == stored
        }
        Scheme::Plain => hash == password,
        Scheme::Other => false,
    }
}

/// md5crypt with a given magic (`$1$` or Apache's `$apr1$`), as Poul-Henning Kamp
/// specified it; `None` when the setting is malformed.
fn md5_crypt(password: &str, setting: &str, magic: &str) -> Option<String> {
    let salt = setting.strip_prefix(magic)?.split('$').next()?;
    let salt = &salt[..salt.len().min(8)];
    let (password, salt_bytes) = (password.as_bytes(), salt.as_bytes());
    let alternate = Md5::new()
        .chain_update(password)
        .chain_update(salt_bytes)
        .chain_update(password)
        .finalize();
    let mut context = Md5::new()
        .chain_update(password)
        .chain_update(magic.as_bytes())
        .chain_update(salt_bytes);
    let mut left = password.len();
    while left > 0 {
        context.update(&alternate[..left.min(16)]);
        left = left.saturating_sub(16);
    }
    let mut length = password.len();
    while length > 0 {
        if length & 1 == 1 {
            context.update([0u8]);
        } else {
            context.update(&password[..1]);
        }
        length >>= 1;
    }
    let mut digest = context.finalize();
    for round in 0..1000 {
        let mut step = Md5::new();
        if round & 1 == 1 {
            step.update(password);
        } else {
            step.update(digest);
        }
        if round % 3 != 0 {
            step.update(salt_bytes);
        }
        if round % 7 != 0 {
            step.update(password);
        }
        if round & 1 == 1 {
            step.update(digest);
        } else {
            step.update(password);
        }
        digest = step.finalize();
    }
    const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut encoded = String::new();
    let mut push = |mut value: u32, count: usize| {
        for _ in 0..count {
            encoded.push(char::from(ALPHABET[(value & 0x3f) as usize]));
            value >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        push(
            (u32::from(digest[a]) << 16) | (u32::from(digest[b]) << 8) | u32::from(digest[c]),
            4,
        );
    }
    push(u32::from(digest[11]), 2);
    Some(format!("{magic}{salt}${encoded}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_verifies_its_password_and_refuses_another() {
        // Written by htpasswd (apr1, SHA), openssl passwd -1, htdigest and
        // mosquitto_passwd.
        let cases = [
            (
                Scheme::Apr1,
                "$apr1$sH7YEmdJ$CBSWiZriMxlmKqVtg2s.1/",
                "admin",
            ),
            (Scheme::Sha1, "{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc=", "admin"),
            (
                Scheme::Md5Crypt,
                "$1$mirai$2suCCrUEUs1MA4/ZqhVZ21",
                "xc3511",
            ),
        ];
        for (scheme, hash, password) in cases {
            assert_eq!(crypt_scheme(hash), scheme, "{hash}");
            assert!(verify(scheme, hash, password, "", ""), "{hash}");
            assert!(!verify(scheme, hash, "wrong", "", ""), "{hash}");
        }
        let mosquitto = [
            (
                Scheme::MosquittoSha512,
                "$6$MDEyMzQ1Njc4OWFiY2RlZg==$nge90KoQcgS261Kff3wzKJCHzFXPvaaS3zyhhA5g23gt05k7bdwdj9YzY/wAw7St0cDgFmT0OsPCY/MvR+EPzA==",
            ),
            (
                Scheme::MosquittoPbkdf2,
                "$7$101$MDEyMzQ1Njc4OWFiY2RlZg==$vwZXSnw+niRte5e5T8y2NNuAsUUOxyyYbKRIUIC7uE8xVwvVHvJ5/mfPlJWCiLDom7CeyaUUGC5+mf91xbY5Wg==",
            ),
        ];
        for (scheme, hash) in mosquitto {
            assert_eq!(mosquitto_scheme(hash), scheme, "{hash}");
            assert!(verify(scheme, hash, "admin", "", ""), "{hash}");
            assert!(!verify(scheme, hash, "admin1", "", ""), "{hash}");
        }
        // htdigest -c file camera admin, password "admin".
        let digest = "10336675ad9254ef356093b2aaabdf99";
        assert!(verify(Scheme::Digest, digest, "admin", "admin", "camera"));
        assert!(!verify(Scheme::Digest, digest, "admin", "admin", "other"));
        assert!(verify(Scheme::Plain, "admin", "admin", "", ""));
    }

    #[test]
    fn costly_hashes_are_not_tried() {
        assert!(!affordable(Scheme::Sha512Crypt, "$6$rounds=999999$salt$x"));
        assert!(affordable(Scheme::Sha512Crypt, "$6$salt$x"));
        assert!(!affordable(Scheme::Bcrypt, "$2y$14$abc"));
        assert!(affordable(Scheme::Bcrypt, "$2y$10$abc"));
        assert!(!affordable(Scheme::MosquittoPbkdf2, "$7$1000000$s$h"));
        assert!(affordable(Scheme::MosquittoPbkdf2, "$7$101$s$h"));
    }
}
