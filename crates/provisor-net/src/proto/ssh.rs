//! The start of SSH: the server's identification string and its key exchange offer
//! (SSH_MSG_KEXINIT, RFC 4253 7.1), which a server sends before any cryptography, so
//! its algorithms can be read without a handshake. Every read is bounded.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::identify::open;
use crate::target::Target;

/// The largest packet accepted (RFC 4253 requires 35000 at least).
const PACKET_LIMIT: usize = 35_000;
/// The longest identification string (RFC 4253: 255 with CR LF), and how many lines the
/// server may send before it.
const LINE_LIMIT: usize = 255;
const LINES_BEFORE: usize = 20;

/// What the server offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// The identification string (`SSH-2.0-dropbear_2022.83`).
    pub banner: String,
    /// Key exchange methods.
    pub kex: Vec<String>,
    /// Host key algorithms.
    pub host_key: Vec<String>,
    /// Ciphers, client to server.
    pub ciphers: Vec<String>,
    /// MACs, client to server.
    pub macs: Vec<String>,
    /// Compression, client to server.
    pub compression: Vec<String>,
}

/// Reads the identification string and the KEXINIT of the server on `port`.
pub async fn offer(target: &Target, port: u16, deadline: Duration) -> Option<Offer> {
    let mut stream = open(target, port, deadline).await?;
    let until = tokio::time::Instant::now() + deadline;
    // Lines until the one that starts with "SSH-".
    let mut received = Vec::new();
    let mut banner = None;
    while banner.is_none() {
        read_more(&mut stream, &mut received, until).await?;
        for _ in 0..=LINES_BEFORE {
            let Some(end) = received.iter().position(|&byte| byte == b'\n') else {
                break;
            };
            let line: Vec<u8> = received.drain(..=end).collect();
            if line.starts_with(b"SSH-") {
                banner = Some(String::from_utf8_lossy(&line).trim_end().to_owned());
                break;
            }
        }
        if banner.is_none() && received.len() > LINE_LIMIT * LINES_BEFORE {
            return None;
        }
    }
    tokio::time::timeout_at(until, stream.write_all(b"SSH-2.0-provisor\r\n"))
        .await
        .ok()?
        .ok()?;
    // The binary packet: length, padding length, payload.
    while received.len() < 5 {
        read_more(&mut stream, &mut received, until).await?;
    }
    let length = u32::from_be_bytes([received[0], received[1], received[2], received[3]]) as usize;
    if !(5..=PACKET_LIMIT).contains(&length) {
        return None;
    }
    while received.len() < 4 + length {
        read_more(&mut stream, &mut received, until).await?;
    }
    let padding = usize::from(received[4]);
    let payload = received.get(5..(4 + length).checked_sub(padding)?)?;
    let mut offer = parse_kexinit(payload)?;
    offer.banner = banner?;
    Some(offer)
}

/// Reads what arrives next onto `received`; none at the deadline or the end.
async fn read_more(
    stream: &mut tokio::net::TcpStream,
    received: &mut Vec<u8>,
    until: tokio::time::Instant,
) -> Option<()> {
    let mut buffer = [0u8; 2048];
    let read = tokio::time::timeout_at(until, stream.read(&mut buffer))
        .await
        .ok()?
        .ok()?;
    if read == 0 {
        return None;
    }
    received.extend_from_slice(&buffer[..read]);
    Some(())
}

/// Parses an SSH_MSG_KEXINIT payload.
pub fn parse_kexinit(payload: &[u8]) -> Option<Offer> {
    if payload.first() != Some(&20) {
        return None;
    }
    let mut at = 17; // message number and the 16-byte cookie
    let mut lists = Vec::with_capacity(10);
    for _ in 0..10 {
        let length = u32::from_be_bytes(payload.get(at..at + 4)?.try_into().ok()?) as usize;
        let text = payload.get(at + 4..at + 4 + length)?;
        let names: Vec<String> = String::from_utf8_lossy(text)
            .split(',')
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect();
        lists.push(names);
        at += 4 + length;
    }
    let mut lists = lists.into_iter();
    let mut next = || lists.next().unwrap_or_default();
    let (kex, host_key, ciphers, _, macs, _, compression) =
        (next(), next(), next(), next(), next(), next(), next());
    Some(Offer {
        banner: String::new(),
        kex,
        host_key,
        ciphers,
        macs,
        compression,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kexinit_is_parsed_and_a_short_one_refused() {
        let mut payload = vec![20];
        payload.extend_from_slice(&[0x42; 16]);
        let lists = [
            "curve25519-sha256,kex-strict-s-v00@openssh.com",
            "ssh-ed25519",
            "aes128-ctr",
            "aes128-ctr",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none",
            "none",
            "",
            "",
        ];
        for list in lists {
            payload.extend_from_slice(&(list.len() as u32).to_be_bytes());
            payload.extend_from_slice(list.as_bytes());
        }
        payload.extend_from_slice(&[0, 0, 0, 0, 0]);
        let offer = parse_kexinit(&payload).unwrap();
        assert_eq!(
            offer.kex,
            ["curve25519-sha256", "kex-strict-s-v00@openssh.com"]
        );
        assert_eq!(offer.ciphers, ["aes128-ctr"]);
        assert_eq!(offer.compression, ["none"]);
        assert!(parse_kexinit(&payload[..40]).is_none());
        assert!(parse_kexinit(&[21]).is_none());
    }
}
