//! TLS records built by hand: a ClientHello for any protocol version from SSLv3 to TLS
//! 1.3 with any list of cipher suites, which rustls cannot send (it speaks only TLS 1.2
//! and 1.3, and only strong suites), and the reading of the server's first flight
//! (ServerHello, and up to TLS 1.2 the certificates, which travel in the clear). No key
//! is ever agreed: the connection is dropped once the server has answered.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::identify::open;
use crate::target::Target;

/// Protocol versions, as they are written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// SSL 3.0.
    Ssl3,
    /// TLS 1.0.
    Tls10,
    /// TLS 1.1.
    Tls11,
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl Version {
    /// The two bytes of the version.
    pub fn wire(self) -> [u8; 2] {
        match self {
            Version::Ssl3 => [3, 0],
            Version::Tls10 => [3, 1],
            Version::Tls11 => [3, 2],
            Version::Tls12 => [3, 3],
            Version::Tls13 => [3, 4],
        }
    }

    /// The name people use (`TLSv1.2`).
    pub fn name(self) -> &'static str {
        match self {
            Version::Ssl3 => "SSLv3",
            Version::Tls10 => "TLSv1.0",
            Version::Tls11 => "TLSv1.1",
            Version::Tls12 => "TLSv1.2",
            Version::Tls13 => "TLSv1.3",
        }
    }
}

/// Suites offered when the point is only to get an answer: TLS 1.3's, ECDHE and plain
/// RSA with AES-GCM, AES-CBC and ChaCha20, and 3DES, so old and new servers both reply.
pub const BROAD_SUITES: &[u16] = &[
    0x1301, 0x1302, 0x1303, // TLS 1.3
    0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, // ECDHE AEAD
    0xc009, 0xc013, 0xc00a, 0xc014, // ECDHE CBC
    0x009c, 0x009d, 0x002f, 0x0035, // RSA
    0x000a, // 3DES
    0x00ff, // renegotiation info SCSV
];

/// A ClientHello record offering `version` (and, for TLS 1.3, 1.2 too) and `suites`.
pub fn client_hello(version: Version, suites: &[u16], random: [u8; 32]) -> Vec<u8> {
    // The legacy version field says 1.2 at most; 1.3 is offered by extension.
    let legacy = version.min(Version::Tls12);
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&legacy.wire());
    body.extend_from_slice(&random);
    body.push(0); // no session id
    put_u16(&mut body, (suites.len() * 2) as u16);
    for suite in suites {
        put_u16(&mut body, *suite);
    }
    body.extend_from_slice(&[1, 0]); // null compression only
    if version != Version::Ssl3 {
        let extensions = extensions(version);
        put_u16(&mut body, extensions.len() as u16);
        body.extend_from_slice(&extensions);
    }
    let mut handshake = vec![1]; // ClientHello
    put_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);
    // Record layer: handshake, version (TLS 1.0 for the widest acceptance), length.
    let record_version = if version == Version::Ssl3 {
        Version::Ssl3
    } else {
        Version::Tls10
    };
    let mut record = vec![22];
    record.extend_from_slice(&record_version.wire());
    put_u16(&mut record, handshake.len() as u16);
    record.extend_from_slice(&handshake);
    record
}

fn extensions(version: Version) -> Vec<u8> {
    let mut out = Vec::new();
    let mut extension = |kind: u16, data: &[u8]| {
        put_u16(&mut out, kind);
        put_u16(&mut out, data.len() as u16);
        out.extend_from_slice(data);
    };
    // supported_groups: x25519, secp256r1, secp384r1, secp521r1.
    extension(10, &[0, 8, 0, 29, 0, 23, 0, 24, 0, 25]);
    // ec_point_formats: uncompressed.
    extension(11, &[1, 0]);
    // signature_algorithms: ECDSA, RSA-PSS and PKCS#1 with SHA-2, then SHA-1.
    let algorithms: [u16; 9] = [
        0x0403, 0x0503, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201,
    ];
    let mut list = Vec::new();
    put_u16(&mut list, (algorithms.len() * 2) as u16);
    for algorithm in algorithms {
        put_u16(&mut list, algorithm);
    }
    extension(13, &list);
    // extended_master_secret, renegotiation_info.
    extension(23, &[]);
    extension(0xff01, &[0]);
    if version == Version::Tls13 {
        // supported_versions: 1.3 and 1.2, and an empty key_share: a 1.3 server answers
        // with a HelloRetryRequest naming a group, which is a ServerHello all the same.
        extension(43, &[4, 3, 4, 3, 3]);
        extension(51, &[0, 0]);
    }
    out
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
}

/// Whether a server's first bytes are a TLS (or SSLv3) record: a handshake or an alert
/// with a 3.x version.
pub fn looks_like_tls(answer: &[u8]) -> bool {
    answer.len() >= 5 && matches!(answer[0], 21 | 22) && answer[1] == 3 && answer[2] <= 4
}

/// The most bytes of a server's first flight read.
pub const FLIGHT_LIMIT: usize = 64 * 1024;

/// What a server answered to a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A ServerHello: the version and suite chosen, and the certificate chain (DER, leaf
    /// first) when it came in the clear.
    Hello {
        /// The negotiated version.
        version: Version,
        /// The chosen suite.
        suite: u16,
        /// The certificates, leaf first (empty for TLS 1.3 or when none came).
        certificates: Vec<Vec<u8>>,
    },
    /// An alert (the description code): the offer was refused.
    Alert(u8),
    /// Nothing that parses as TLS: a close, silence, or garbage.
    Nothing,
}

impl Version {
    fn from_wire(wire: [u8; 2]) -> Option<Version> {
        Some(match wire {
            [3, 0] => Version::Ssl3,
            [3, 1] => Version::Tls10,
            [3, 2] => Version::Tls11,
            [3, 3] => Version::Tls12,
            [3, 4] => Version::Tls13,
            _ => return None,
        })
    }
}

/// Offers `version` and `suites` to the server on `port` and reads its answer.
pub async fn hello(
    target: &Target,
    port: u16,
    version: Version,
    suites: &[u16],
    deadline: Duration,
) -> Reply {
    let Some(mut stream) = open(target, port, deadline).await else {
        return Reply::Nothing;
    };
    let until = tokio::time::Instant::now() + deadline;
    let mut random = [0u8; 32];
    for (index, byte) in random.iter_mut().enumerate() {
        *byte = (index as u8).wrapping_mul(37).wrapping_add(port as u8);
    }
    let request = client_hello(version, suites, random);
    if !matches!(
        tokio::time::timeout_at(until, stream.write_all(&request)).await,
        Ok(Ok(()))
    ) {
        return Reply::Nothing;
    }
    let mut flight = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        if let Some(reply) = read_flight(&flight) {
            return reply;
        }
        if flight.len() >= FLIGHT_LIMIT {
            return Reply::Nothing;
        }
        match tokio::time::timeout_at(until, stream.read(&mut buffer)).await {
            Ok(Ok(read)) if read > 0 => {
                flight.extend_from_slice(&buffer[..read.min(FLIGHT_LIMIT - flight.len())]);
            }
            // Closed or out of time: whatever was complete is the answer.
            _ => return read_flight_final(&flight),
        }
    }
}

/// The handshake messages of the records received so far, and whether an alert came.
fn handshake_bytes(flight: &[u8]) -> Result<(Vec<u8>, bool), Reply> {
    let mut messages = Vec::new();
    let mut at = 0;
    while at + 5 <= flight.len() {
        let kind = flight[at];
        if flight[at + 1] != 3 {
            return Err(Reply::Nothing);
        }
        let length = usize::from(u16::from_be_bytes([flight[at + 3], flight[at + 4]]));
        let Some(body) = flight.get(at + 5..at + 5 + length) else {
            break;
        };
        match kind {
            21 if body.len() >= 2 => return Err(Reply::Alert(body[1])),
            22 => messages.extend_from_slice(body),
            // Change cipher spec or encrypted records (TLS 1.3): the clear part is over.
            20 | 23 => return Ok((messages, true)),
            _ => return Err(Reply::Nothing),
        }
        at += 5 + length;
    }
    Ok((messages, false))
}

/// The answer, if the flight read so far is complete.
fn read_flight(flight: &[u8]) -> Option<Reply> {
    let (messages, clear_part_over) = match handshake_bytes(flight) {
        Ok(found) => found,
        Err(reply) => return Some(reply),
    };
    let mut at = 0;
    let mut hello: Option<(Version, u16)> = None;
    let mut certificates = Vec::new();
    while at + 4 <= messages.len() {
        let kind = messages[at];
        let length =
            u32::from_be_bytes([0, messages[at + 1], messages[at + 2], messages[at + 3]]) as usize;
        let Some(body) = messages.get(at + 4..at + 4 + length) else {
            break;
        };
        match kind {
            2 => {
                hello = Some(server_hello(body)?);
                if hello.is_some_and(|(version, _)| version == Version::Tls13) {
                    break;
                }
            }
            11 => certificates = certificate_list(body),
            // ServerHelloDone: the flight is complete.
            14 => break,
            _ => {}
        }
        at += 4 + length;
    }
    let (version, suite) = hello?;
    let done = version == Version::Tls13
        || clear_part_over
        || messages.windows(4).any(|window| window == [14, 0, 0, 0]);
    done.then_some(Reply::Hello {
        version,
        suite,
        certificates,
    })
}

/// What a server's first bytes say, as if the connection had ended after them (for the
/// fuzz target: every parser of a flight on arbitrary input).
pub fn parse_flight(flight: &[u8]) -> Reply {
    read_flight_final(flight)
}

/// The answer of a flight that ended early: a ServerHello counts even without the rest.
fn read_flight_final(flight: &[u8]) -> Reply {
    if let Some(reply) = read_flight(flight) {
        return reply;
    }
    let Ok((messages, _)) = handshake_bytes(flight) else {
        return Reply::Nothing;
    };
    if messages.first() == Some(&2) && messages.len() >= 4 {
        let length = u32::from_be_bytes([0, messages[1], messages[2], messages[3]]) as usize;
        if let Some((version, suite)) = messages.get(4..4 + length).and_then(server_hello) {
            return Reply::Hello {
                version,
                suite,
                certificates: Vec::new(),
            };
        }
    }
    Reply::Nothing
}

/// A ServerHello's version (the supported_versions extension wins) and suite.
fn server_hello(body: &[u8]) -> Option<(Version, u16)> {
    let mut version = Version::from_wire([*body.first()?, *body.get(1)?])?;
    let session = usize::from(*body.get(34)?);
    let at = 35 + session;
    let suite = u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]);
    let mut at = at + 3;
    if let Some(length) = body.get(at..at + 2) {
        let end = at + 2 + usize::from(u16::from_be_bytes([length[0], length[1]]));
        at += 2;
        while at + 4 <= end.min(body.len()) {
            let kind = u16::from_be_bytes([body[at], body[at + 1]]);
            let size = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
            if kind == 43 && size == 2 {
                version = Version::from_wire([*body.get(at + 4)?, *body.get(at + 5)?])?;
            }
            at += 4 + size;
        }
    }
    Some((version, suite))
}

/// The certificates of a Certificate message (TLS 1.2 and before), leaf first.
fn certificate_list(body: &[u8]) -> Vec<Vec<u8>> {
    let mut certificates = Vec::new();
    let mut at = 3;
    while at + 3 <= body.len() {
        let length = u32::from_be_bytes([0, body[at], body[at + 1], body[at + 2]]) as usize;
        let Some(der) = body.get(at + 3..at + 3 + length) else {
            break;
        };
        certificates.push(der.to_vec());
        at += 3 + length;
    }
    certificates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_is_one_well_formed_record() {
        for version in [
            Version::Ssl3,
            Version::Tls10,
            Version::Tls12,
            Version::Tls13,
        ] {
            let hello = client_hello(version, BROAD_SUITES, [7; 32]);
            assert_eq!(hello[0], 22);
            let length = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
            assert_eq!(length, hello.len() - 5, "{version:?}");
            assert_eq!(hello[5], 1, "a ClientHello");
            let body = u32::from_be_bytes([0, hello[6], hello[7], hello[8]]) as usize;
            assert_eq!(body, hello.len() - 9);
            assert_eq!(&hello[9..11], &version.min(Version::Tls12).wire());
        }
        assert!(looks_like_tls(&[22, 3, 3, 0, 90]));
        assert!(looks_like_tls(&[21, 3, 1, 0, 2]));
        assert!(!looks_like_tls(b"HTTP/1.1 400"));
    }

    /// A record around handshake messages.
    fn record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind, 3, 3];
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    fn server_hello_body(version: [u8; 2], suite: u16, supported: Option<[u8; 2]>) -> Vec<u8> {
        let mut body = version.to_vec();
        body.extend_from_slice(&[9; 32]);
        body.push(0);
        body.extend_from_slice(&suite.to_be_bytes());
        body.push(0);
        if let Some(selected) = supported {
            body.extend_from_slice(&[0, 6, 0, 43, 0, 2]);
            body.extend_from_slice(&selected);
        }
        body
    }

    #[test]
    fn a_tls12_flight_gives_the_suite_and_the_chain() {
        let mut messages = message(2, &server_hello_body([3, 3], 0xc02f, None));
        messages.extend(message(11, &{
            let mut body = vec![0, 0, 5];
            body.extend_from_slice(&[0, 0, 2, 0xaa, 0xbb]);
            body
        }));
        messages.extend(message(14, &[]));
        // Split across two records, as servers do.
        let (first, second) = messages.split_at(20);
        let mut flight = record(22, first);
        assert_eq!(read_flight(&flight), None, "not complete yet");
        flight.extend(record(22, second));
        assert_eq!(
            read_flight(&flight),
            Some(Reply::Hello {
                version: Version::Tls12,
                suite: 0xc02f,
                certificates: vec![vec![0xaa, 0xbb]],
            })
        );
    }

    #[test]
    fn tls13_alerts_and_garbage_are_told_apart() {
        let flight = record(
            22,
            &message(2, &server_hello_body([3, 3], 0x1301, Some([3, 4]))),
        );
        assert!(matches!(
            read_flight(&flight),
            Some(Reply::Hello {
                version: Version::Tls13,
                suite: 0x1301,
                ..
            })
        ));
        assert_eq!(read_flight(&record(21, &[2, 40])), Some(Reply::Alert(40)));
        assert_eq!(
            read_flight(b"HTTP/1.1 400 Bad Request\r\n"),
            Some(Reply::Nothing)
        );
        assert_eq!(read_flight_final(&[22, 3, 3, 0]), Reply::Nothing);
    }
}
