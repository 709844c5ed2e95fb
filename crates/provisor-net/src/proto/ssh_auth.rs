//! SSH past the key exchange, through russh: which authentication methods a server
//! offers (the answer to a "none" request, RFC 4252 5.2) and whether a user name and
//! password open it (the "password" method, or "keyboard-interactive" answering every
//! prompt with the password, as PAM-backed servers ask). The server's host key is
//! accepted unseen: provisor assesses the server, it does not trust it with anything.
//! Every exchange is bounded by the deadline as a whole.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, AuthResult, KeyboardInteractiveAuthResponse};
use russh::keys::{Algorithm, EcdsaCurve, HashAlg};
use russh::{MethodKind, Preferred, cipher, kex, mac};

use crate::identify::open;
use crate::target::Target;

/// The user name a "none" request is sent for: servers answer the same list for any
/// name, so as not to tell which accounts exist.
const PROBE_USER: &str = "root";

/// Keyboard-interactive rounds answered before giving up (PAM asks once or twice).
const ROUNDS: usize = 4;

/// Accepts any host key.
struct Unverified;

impl client::Handler for Unverified {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// Every algorithm russh can speak, modern first, so that old devices (DH group 1,
/// CBC, SHA-1) can be talked to as well as new ones; a session ends after `quiet` without
/// a word from the server.
fn config(quiet: Duration) -> Arc<client::Config> {
    static KEX: &[kex::Name] = &[
        kex::MLKEM768X25519_SHA256,
        kex::CURVE25519,
        kex::CURVE25519_PRE_RFC_8731,
        kex::ECDH_SHA2_NISTP256,
        kex::ECDH_SHA2_NISTP384,
        kex::ECDH_SHA2_NISTP521,
        kex::DH_GEX_SHA256,
        kex::DH_G16_SHA512,
        kex::DH_G14_SHA256,
        kex::DH_G14_SHA1,
        kex::DH_GEX_SHA1,
        kex::DH_G1_SHA1,
        kex::EXTENSION_SUPPORT_AS_CLIENT,
        kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
    ];
    static KEYS: &[Algorithm] = &[
        Algorithm::Ed25519,
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        },
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP384,
        },
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP521,
        },
        Algorithm::Rsa {
            hash: Some(HashAlg::Sha512),
        },
        Algorithm::Rsa {
            hash: Some(HashAlg::Sha256),
        },
        Algorithm::Rsa { hash: None },
    ];
    static CIPHERS: &[cipher::Name] = &[
        cipher::CHACHA20_POLY1305,
        cipher::AES_256_GCM,
        cipher::AES_128_GCM,
        cipher::AES_256_CTR,
        cipher::AES_192_CTR,
        cipher::AES_128_CTR,
        cipher::AES_256_CBC,
        cipher::AES_192_CBC,
        cipher::AES_128_CBC,
    ];
    static MACS: &[mac::Name] = &[
        mac::HMAC_SHA512_ETM,
        mac::HMAC_SHA256_ETM,
        mac::HMAC_SHA512,
        mac::HMAC_SHA256,
        mac::HMAC_SHA1_ETM,
        mac::HMAC_SHA1,
    ];
    Arc::new(client::Config {
        client_id: russh::SshId::Standard(Cow::Borrowed("SSH-2.0-provisor")),
        inactivity_timeout: Some(quiet),
        preferred: Preferred {
            kex: Cow::Borrowed(KEX),
            key: Cow::Borrowed(KEYS),
            cipher: Cow::Borrowed(CIPHERS),
            mac: Cow::Borrowed(MACS),
            ..Preferred::DEFAULT
        },
        ..client::Config::default()
    })
}

/// A connection through the key exchange, ready to authenticate; it ends after `quiet`
/// without a word from the server.
async fn session(
    target: &Target,
    port: u16,
    deadline: Duration,
    quiet: Duration,
) -> Option<client::Handle<Unverified>> {
    let stream = open(target, port, deadline).await?;
    client::connect_stream(config(quiet), stream, Unverified)
        .await
        .ok()
}

/// The authentication methods the server on `port` offers (`publickey`, `password`,
/// `keyboard-interactive`, …), or `None` when no session could be set up.
pub async fn methods(target: &Target, port: u16, deadline: Duration) -> Option<Vec<String>> {
    tokio::time::timeout(deadline * 2, async {
        let mut handle = session(target, port, deadline, deadline).await?;
        let answer = handle.authenticate_none(PROBE_USER).await.ok()?;
        let methods = match answer {
            // A server that lets anyone in without credentials.
            AuthResult::Success => vec!["none".to_owned()],
            AuthResult::Failure {
                remaining_methods, ..
            } => remaining_methods
                .iter()
                .map(|method| <&str>::from(method).to_owned())
                .collect(),
        };
        close(handle).await;
        Some(methods)
    })
    .await
    .ok()
    .flatten()
}

/// Whether `user` and `password` open the server on `port`: `Some(true)` accepted,
/// `Some(false)` refused, `None` when the server could not be asked (refused, reset or
/// silent connection).
pub async fn login(
    target: &Target,
    port: u16,
    user: &str,
    password: &str,
    deadline: Duration,
) -> Option<bool> {
    let verdict = super::PASSWORD_VERDICT.max(deadline);
    tokio::time::timeout(deadline * 2 + verdict * 2, async {
        let mut handle = session(target, port, deadline, verdict).await?;
        let answer = handle.authenticate_password(user, password).await.ok()?;
        let accepted = match answer {
            AuthResult::Success => true,
            AuthResult::Failure {
                remaining_methods, ..
            } if remaining_methods.contains(&MethodKind::KeyboardInteractive) => {
                interactive(&mut handle, user, password).await?
            }
            AuthResult::Failure { .. } => false,
        };
        close(handle).await;
        Some(accepted)
    })
    .await
    .ok()
    .flatten()
}

/// Keyboard-interactive, every prompt answered with the password.
async fn interactive(
    handle: &mut client::Handle<Unverified>,
    user: &str,
    password: &str,
) -> Option<bool> {
    let mut answer = handle
        .authenticate_keyboard_interactive_start(user, None)
        .await
        .ok()?;
    for _ in 0..ROUNDS {
        match answer {
            KeyboardInteractiveAuthResponse::Success => return Some(true),
            KeyboardInteractiveAuthResponse::Failure { .. } => return Some(false),
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let responses = prompts.iter().map(|_| password.to_owned()).collect();
                answer = handle
                    .authenticate_keyboard_interactive_respond(responses)
                    .await
                    .ok()?;
            }
        }
    }
    Some(false)
}

/// Says goodbye; a server that does not listen is not waited for.
async fn close(handle: client::Handle<Unverified>) {
    let _ = handle
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
}
