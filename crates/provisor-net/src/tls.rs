//! TLS records built by hand: a ClientHello for any protocol version from SSLv3 to TLS
//! 1.3 with any list of cipher suites, which rustls cannot send (it speaks only TLS 1.2
//! and 1.3, and only strong suites), and the reading of the server's first answer.

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
        // supported_versions: 1.3 and 1.2. No key share: a 1.3 server answers with a
        // HelloRetryRequest, which is a ServerHello all the same.
        extension(43, &[4, 3, 4, 3, 3]);
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
}
