//! Service identification by protocol, not by port number: the probes and answers of
//! `data/services.toml` are tried on each open port, each on a new connection with a
//! deadline and a byte limit, until an answer identifies the service (and, where the
//! answer says it, the product and its version).

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use regex::bytes::Regex;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::target::Target;
use crate::tls;

/// The most bytes read of any answer.
pub const ANSWER_LIMIT: usize = 4096;

/// What was learnt of one open port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The port.
    pub port: u16,
    /// The service (`ssh`, `http`, `tls` …), when an answer identified it.
    pub name: Option<String>,
    /// The software, when the answer names it.
    pub product: Option<String>,
    /// Its version, when the answer gives it.
    pub version: Option<String>,
    /// The probe whose answer identified it.
    pub probe: Option<String>,
    /// The first bytes the service sent unasked, if any (printable, shortened).
    pub banner: Option<String>,
    /// Probes left untried when the port's time ran out ([`Deadlines::port`]).
    pub untried: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    probe: Vec<Probe>,
    #[serde(rename = "match")]
    matches: Vec<MatchRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Probe {
    name: String,
    #[serde(default)]
    send: Option<String>,
    #[serde(default)]
    builtin: Option<String>,
    ports: Vec<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchRule {
    service: String,
    probe: String,
    pattern: String,
    #[serde(default)]
    product: Option<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    examples: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the data tests"))]
    negative_examples: Vec<String>,
}

struct Compiled {
    probes: Vec<Probe>,
    matches: Vec<(MatchRule, Regex)>,
}

fn table() -> &'static Compiled {
    static TABLE: OnceLock<Compiled> = OnceLock::new();
    TABLE.get_or_init(|| {
        let table: Table = toml::from_str(include_str!("../data/services.toml"))
            .expect("the service table is valid (tested)");
        let matches = table
            .matches
            .into_iter()
            .map(|rule| {
                // Answers are bytes: \xHH means a byte, not a code point.
                let regex = Regex::new(&format!("(?-u){}", rule.pattern))
                    .expect("the service patterns compile (tested)");
                (rule, regex)
            })
            .collect();
        Compiled {
            probes: table.probe,
            matches,
        }
    })
}

/// The bytes a table string stands for: `\r`, `\n`, `\t`, `\\` and `\xHH` escapes.
pub(crate) fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\' && index + 1 < bytes.len() {
            let escaped = match bytes[index + 1] {
                b'r' => Some((b'\r', 2)),
                b'n' => Some((b'\n', 2)),
                b't' => Some((b'\t', 2)),
                b'\\' => Some((b'\\', 2)),
                b'x' => text
                    .get(index + 2..index + 4)
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .map(|byte| (byte, 4)),
                _ => None,
            };
            if let Some((byte, width)) = escaped {
                out.push(byte);
                index += width;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    out
}

/// What an answer to `probe` identifies: (service, product, version).
pub(crate) fn identify_answer(
    probe: &str,
    answer: &[u8],
) -> Option<(String, Option<String>, Option<String>)> {
    table()
        .matches
        .iter()
        .filter(|(rule, _)| rule.probe == probe)
        .find_map(|(rule, regex)| {
            let captures = regex.captures(answer)?;
            let text = |name: &str| {
                captures
                    .name(name)
                    .map(|found| String::from_utf8_lossy(found.as_bytes()).into_owned())
            };
            Some((
                rule.service.clone(),
                text("product").or_else(|| rule.product.clone()),
                text("version"),
            ))
        })
}

/// Every match of the table run on one answer (for the fuzz target).
pub fn identify_answer_for_fuzzing(answer: &[u8]) -> usize {
    table()
        .probes
        .iter()
        .filter(|probe| identify_answer(&probe.name, answer).is_some())
        .count()
}

/// Deadlines of identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// How long to wait for a connection.
    pub connect: Duration,
    /// How long to wait for a service to speak first. A service slower than this to
    /// send its banner is still identified: every answer is also matched against the
    /// banners, and a service that speaks first answers a probe with its banner.
    pub banner: Duration,
    /// How long to wait for the answer to a probe.
    pub answer: Duration,
}

impl Deadlines {
    /// How long identifying one port may take in all: a banner, four answers and a
    /// connection. The probes are asked three one after the other and then the rest at
    /// once, so a port that answers none takes a banner and four answers; only slow
    /// connections reach this bound, and the probes left are counted in
    /// [`Service::untried`].
    pub fn port(&self) -> Duration {
        self.banner + self.answer * 4 + self.connect
    }
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            connect: Duration::from_secs(2),
            banner: Duration::from_millis(500),
            answer: Duration::from_millis(1500),
        }
    }
}

/// Connects from the target's source address.
pub(crate) async fn open(target: &Target, port: u16, deadline: Duration) -> Option<TcpStream> {
    let peer = SocketAddr::new(target.address, port);
    let socket = if peer.is_ipv4() {
        TcpSocket::new_v4().ok()?
    } else {
        TcpSocket::new_v6().ok()?
    };
    if let Some(source) = target.source {
        socket.bind(SocketAddr::new(source, 0)).ok()?;
    }
    tokio::time::timeout(deadline, socket.connect(peer))
        .await
        .ok()?
        .ok()
}

/// Reads what arrives within `deadline`, at most [`ANSWER_LIMIT`] bytes: once the first
/// bytes are in, a pause of 100 ms ends the answer. The deadline bounds the whole read,
/// so a peer that drips a byte at a time cannot hold it open.
pub(crate) async fn read_answer<S: AsyncRead + Unpin + ?Sized>(
    stream: &mut S,
    deadline: Duration,
) -> Vec<u8> {
    let end = tokio::time::Instant::now() + deadline;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    while answer.len() < ANSWER_LIMIT {
        let pause = if answer.is_empty() {
            end
        } else {
            (tokio::time::Instant::now() + Duration::from_millis(100)).min(end)
        };
        match tokio::time::timeout_at(pause, stream.read(&mut buffer)).await {
            Ok(Ok(read)) if read > 0 => {
                let take = read.min(ANSWER_LIMIT - answer.len());
                answer.extend_from_slice(&buffer[..take]);
            }
            _ => break,
        }
    }
    answer
}

/// The bytes a probe sends.
fn request_of(target: &Target, probe: &Probe) -> Vec<u8> {
    match (probe.builtin.as_deref(), probe.send.as_deref()) {
        (Some("tls-client-hello"), _) => {
            tls::client_hello(tls::Version::Tls13, tls::BROAD_SUITES, [0x5a; 32])
        }
        (_, Some(send)) => unescape(&send.replace("{host}", &target.address.to_string())),
        _ => Vec::new(),
    }
}

/// Sends a probe on `stream` and returns the answer (empty when none came).
async fn ask_on(
    stream: &mut TcpStream,
    target: &Target,
    probe: &Probe,
    deadlines: Deadlines,
) -> Vec<u8> {
    let request = request_of(target, probe);
    if !request.is_empty() {
        let write = tokio::time::timeout(deadlines.answer, stream.write_all(&request)).await;
        if !matches!(write, Ok(Ok(()))) {
            return Vec::new();
        }
    }
    read_answer(stream, deadlines.answer).await
}

/// What speaks inside a TLS port: HTTP (`https`) or MQTT (`mqtts`), asked through a
/// TLS client; none when the handshake fails or neither answers.
async fn inside_tls(
    target: &Target,
    port: u16,
    deadlines: Deadlines,
) -> Option<(String, Option<String>, Option<String>)> {
    for (inner, outer) in [("http", "https"), ("mqtt", "mqtts")] {
        let probe = table().probes.iter().find(|probe| probe.name == inner)?;
        let mut stream = crate::proto::connect(target, port, true, deadlines.connect).await?;
        let request = request_of(target, probe);
        let written = tokio::time::timeout(deadlines.answer, stream.write_all(&request)).await;
        if !matches!(written, Ok(Ok(()))) {
            continue;
        }
        let answer = read_answer(&mut stream, deadlines.answer).await;
        if let Some((_, product, version)) = identify_answer(inner, &answer) {
            return Some((outer.to_owned(), product, version));
        }
    }
    None
}

/// Printable text of a banner, shortened.
fn printable(answer: &[u8]) -> String {
    let text: String = answer
        .iter()
        .take(160)
        .map(|&byte| match byte {
            b' '..=b'~' => byte as char,
            b'\r' | b'\n' | b'\t' => ' ',
            _ => '.',
        })
        .collect();
    text.trim().to_owned()
}

/// Identifies the service on one open port, within [`Deadlines::port`]. `kept` is the
/// connection discovery made, if it kept it: it is used first, to wait for a banner
/// and, when the service stays silent, for the probe this port is known for (or the
/// first probe), so that a service that serves a single connection is still asked
/// once. Every other probe gets a new connection.
pub async fn identify(
    target: &Target,
    port: u16,
    deadlines: Deadlines,
    kept: Option<TcpStream>,
) -> Service {
    let mut service = Service {
        port,
        name: None,
        product: None,
        version: None,
        probe: None,
        banner: None,
        untried: 0,
    };
    let end = tokio::time::Instant::now() + deadlines.port();
    let mut asked = 0;
    let probing = ask_probes(target, deadlines, kept, &mut service, &mut asked);
    if tokio::time::timeout_at(end, probing).await.is_err() && service.name.is_none() {
        let probes = table().probes.iter();
        let all = probes.filter(|probe| probe.send.as_deref() != Some(""));
        service.untried = all.count().saturating_sub(asked);
    }
    service
}

/// The probes of [`identify`], one after the other, until an answer identifies the
/// service; `asked` counts the probes that had their answer.
async fn ask_probes(
    target: &Target,
    deadlines: Deadlines,
    kept: Option<TcpStream>,
    service: &mut Service,
    asked: &mut usize,
) {
    let port = service.port;
    let probes = &table().probes;
    let speaks_first = |probe: &&Probe| probe.send.as_deref() == Some("");
    // The probes this port is known for, then the rest, in the table's order.
    let mut order: Vec<&Probe> = probes
        .iter()
        .filter(|probe| !speaks_first(probe) && probe.ports.contains(&port))
        .collect();
    order.extend(
        probes
            .iter()
            .filter(|probe| !speaks_first(probe) && !probe.ports.contains(&port)),
    );
    let banner_probe = probes.iter().find(speaks_first);
    let found = |probe: &Probe, answer: &[u8], service: &mut Service| {
        let identified = identify_answer(&probe.name, answer)
            .or_else(|| banner_probe.and_then(|banner| identify_answer(&banner.name, answer)));
        match identified {
            Some((name, product, version)) => {
                service.name = Some(name);
                service.product = product;
                service.version = version;
                service.probe = Some(probe.name.clone());
                true
            }
            None => false,
        }
    };
    // The first connection: a banner, or else the first probe.
    let first = match kept {
        Some(stream) => Some(stream),
        None => open(target, port, deadlines.connect).await,
    };
    let mut tried = 0;
    if let Some(mut stream) = first {
        let banner = read_answer(&mut stream, deadlines.banner).await;
        if !banner.is_empty() {
            service.banner = Some(printable(&banner));
            if let Some(probe) = banner_probe
                && found(probe, &banner, service)
            {
                return;
            }
        } else if let Some(probe) = order.first() {
            tried = 1;
            let answer = ask_on(&mut stream, target, probe, deadlines).await;
            *asked = 1;
            if found(probe, &answer, service) {
                // Closed first: some servers take one connection at a time.
                drop(stream);
                with_tls_inside(target, deadlines, service).await;
                return;
            }
        }
    }
    // The next ones one after the other, the last ones all at once, each on its own
    // connection: a port that answers no probe costs a banner and four answers, and
    // every probe is still asked.
    let rest = &order[tried..];
    let (one_by_one, at_once) = rest.split_at(rest.len().min(ONE_BY_ONE.saturating_sub(tried)));
    for probe in one_by_one {
        *asked += 1;
        let Some(mut stream) = open(target, port, deadlines.connect).await else {
            continue;
        };
        let answer = ask_on(&mut stream, target, probe, deadlines).await;
        if found(probe, &answer, service) {
            with_tls_inside(target, deadlines, service).await;
            return;
        }
    }
    let answers = futures_util::future::join_all(at_once.iter().map(|probe| async move {
        let mut stream = open(target, port, deadlines.connect).await?;
        Some(ask_on(&mut stream, target, probe, deadlines).await)
    }))
    .await;
    *asked += at_once.len();
    for (probe, answer) in at_once.iter().zip(answers) {
        if let Some(answer) = answer
            && found(probe, &answer, service)
        {
            break;
        }
    }
    with_tls_inside(target, deadlines, service).await;
}

/// Probes asked one after the other on a port before the rest are asked at once.
const ONE_BY_ONE: usize = 3;

/// A TLS service named by what runs inside it, when that can be told.
async fn with_tls_inside(target: &Target, deadlines: Deadlines, service: &mut Service) {
    if service.name.as_deref() == Some("tls")
        && let Some((name, product, version)) = inside_tls(target, service.port, deadlines).await
    {
        service.name = Some(name);
        service.product = product;
        service.version = version;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_match_identifies_its_examples_and_not_its_negatives() {
        let compiled = table();
        let probes: Vec<&str> = compiled
            .probes
            .iter()
            .map(|probe| probe.name.as_str())
            .collect();
        for (rule, regex) in &compiled.matches {
            assert!(probes.contains(&rule.probe.as_str()), "{}", rule.pattern);
            assert!(!rule.examples.is_empty(), "{}", rule.pattern);
            for example in &rule.examples {
                assert!(
                    regex.is_match(&unescape(example)),
                    "{} on {example}",
                    rule.pattern
                );
            }
            for negative in &rule.negative_examples {
                assert!(
                    !regex.is_match(&unescape(negative)),
                    "{} on {negative}",
                    rule.pattern
                );
            }
        }
    }

    #[test]
    fn products_and_versions_come_from_the_answer() {
        assert_eq!(
            identify_answer("banner", b"SSH-2.0-dropbear_2022.83\r\n"),
            Some((
                "ssh".into(),
                Some("dropbear".into()),
                Some("2022.83".into())
            ))
        );
        assert_eq!(
            identify_answer("banner", b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
            Some(("ssh".into(), Some("OpenSSH".into()), Some("9.2p1".into())))
        );
        assert_eq!(
            identify_answer(
                "http",
                b"HTTP/1.1 200 OK\r\nServer: lighttpd/1.4.69\r\n\r\n"
            ),
            Some((
                "http".into(),
                Some("lighttpd".into()),
                Some("1.4.69".into())
            ))
        );
        assert_eq!(
            identify_answer("banner", b"220 (vsFTPd 3.0.3)\r\n"),
            Some(("ftp".into(), Some("vsftpd".into()), Some("3.0.3".into())))
        );
        assert_eq!(identify_answer("http", b""), None);
    }

    #[test]
    fn escapes_stand_for_bytes() {
        assert_eq!(unescape(r"a\r\n\x00\xff\\x"), b"a\r\n\x00\xff\\x");
        assert_eq!(unescape(r"\xZZ"), b"\\xZZ");
    }
}
