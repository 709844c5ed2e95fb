//! UDP discovery of the services IoT devices answer on: TFTP (69), SNMP (161), SSDP/UPnP
//! (1900), mDNS (5353) and CoAP (5683). Each gets a request of its own protocol, sent
//! at most [`TRIES`] times and answered within the deadline; an answer of that protocol
//! is a service, silence is not (UDP has no refusal to read). Answers are read up to
//! [`ANSWER_LIMIT`] bytes.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;

use crate::proto::dns;
use crate::target::Target;

/// The most bytes of an answer read.
pub const ANSWER_LIMIT: usize = 8192;
/// Requests per service.
const TRIES: usize = 2;

/// A service that answered over UDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpService {
    /// The port.
    pub port: u16,
    /// The protocol (`tftp`, `snmp`, `ssdp`, `mdns`, `coap`).
    pub name: String,
    /// What the answer says, by field (`server`, `location`, `sysDescr`, `resources` …).
    pub details: Vec<(String, String)>,
}

impl UdpService {
    /// The value of one detail.
    pub fn detail(&self, key: &str) -> Option<&str> {
        crate::proto::value_of(&self.details, key)
    }
}

/// The probes: port, protocol, request. SNMP is asked with the community "public",
/// a credential, only when credentials may be sent; otherwise with one no agent has.
fn probes(auth_tests: bool) -> Vec<(u16, &'static str, Vec<u8>)> {
    let community: &[u8] = if auth_tests {
        b"public"
    } else {
        b"provisor-none"
    };
    vec![
        (69, "tftp", tftp_request()),
        (161, "snmp", snmp_get_sysdescr(community)),
        (1900, "ssdp", ssdp_search()),
        (5353, "mdns", mdns_services_query()),
        (5683, "coap", coap_well_known_core()),
    ]
}

/// TFTP read request for a file no device has: an ERROR (or DATA) packet answers.
fn tftp_request() -> Vec<u8> {
    let mut packet = vec![0, 1];
    packet.extend_from_slice(b"provisor-probe-none\0octet\0");
    packet
}

/// SNMPv1 GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0) with `community`.
pub fn snmp_get_sysdescr(community: &[u8]) -> Vec<u8> {
    let oid = [0x2b, 6, 1, 2, 1, 1, 1, 0];
    let mut varbind = vec![0x06, oid.len() as u8];
    varbind.extend_from_slice(&oid);
    varbind.extend_from_slice(&[0x05, 0x00]);
    let varbind = tlv(0x30, &varbind);
    let list = tlv(0x30, &varbind);
    let mut pdu = Vec::new();
    pdu.extend_from_slice(&[0x02, 0x02, 0x13, 0x37]); // request id
    pdu.extend_from_slice(&[0x02, 0x01, 0x00]); // error status
    pdu.extend_from_slice(&[0x02, 0x01, 0x00]); // error index
    pdu.extend_from_slice(&list);
    let pdu = tlv(0xa0, &pdu);
    let mut message = vec![0x02, 0x01, 0x00]; // version 1
    message.extend_from_slice(&tlv(0x04, community));
    message.extend_from_slice(&pdu);
    tlv(0x30, &message)
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if value.len() < 128 {
        out.push(value.len() as u8);
    } else {
        out.push(0x82);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(value);
    out
}

/// The first OCTET STRING after the sysDescr OID in an SNMP response.
pub fn snmp_sysdescr(answer: &[u8]) -> Option<String> {
    let oid = [0x06, 8, 0x2b, 6, 1, 2, 1, 1, 1, 0];
    let at = answer.windows(oid.len()).position(|window| window == oid)? + oid.len();
    let rest = answer.get(at..)?;
    if *rest.first()? != 0x04 {
        return None;
    }
    let (length, start) = match *rest.get(1)? {
        short if short < 0x80 => (usize::from(short), 2),
        0x81 => (usize::from(*rest.get(2)?), 3),
        0x82 => (
            usize::from(u16::from_be_bytes([*rest.get(2)?, *rest.get(3)?])),
            4,
        ),
        _ => return None,
    };
    let text = rest.get(start..start + length)?;
    Some(String::from_utf8_lossy(text).into_owned())
}

fn ssdp_search() -> Vec<u8> {
    b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\nUSER-AGENT: provisor\r\n\r\n".to_vec()
}

/// The id of provisor's mDNS queries.
const MDNS_ID: u16 = 0x1337;
/// Service types, and instances, followed at most.
const MDNS_TYPES: usize = 8;

/// A unicast DNS-SD query for the services a responder offers.
fn mdns_services_query() -> Vec<u8> {
    dns::query(MDNS_ID, "_services._dns-sd._udp.local", dns::PTR)
}

/// What the responder says of each service type it listed: the instances (with their
/// port) and their TXT records, asked for as a DNS-SD browser would, by unicast to the
/// target alone; at most [`MDNS_TYPES`] types and instances.
async fn mdns_instances(target: &Target, types: &str, deadline: Duration) -> Vec<(String, String)> {
    let mut details = Vec::new();
    let mut instances = 0;
    for kind in types
        .split(", ")
        .filter(|kind| !kind.is_empty())
        .take(MDNS_TYPES)
    {
        let Some(answer) = ask(target, 5353, &dns::query(MDNS_ID, kind, dns::PTR), deadline).await
        else {
            continue;
        };
        let mut records = dns::parse(&answer).unwrap_or_default();
        let named: Vec<String> = records
            .iter()
            .filter_map(|record| match &record.data {
                dns::Data::Ptr(instance) if record.name == kind => Some(instance.clone()),
                _ => None,
            })
            .collect();
        for instance in named {
            if instances >= MDNS_TYPES {
                return details;
            }
            instances += 1;
            let has_text = |records: &[dns::Record]| {
                records.iter().any(|record| {
                    record.name == instance && matches!(record.data, dns::Data::Txt(_))
                })
            };
            if !has_text(&records) {
                let query = dns::query(MDNS_ID, &instance, dns::TXT);
                if let Some(answer) = ask(target, 5353, &query, deadline).await {
                    records.extend(dns::parse(&answer).unwrap_or_default());
                }
            }
            for record in records.iter().filter(|record| record.name == instance) {
                match &record.data {
                    dns::Data::Srv { port, host } => details.push((
                        "instance".to_owned(),
                        format!("{instance} on {host} port {port}"),
                    )),
                    dns::Data::Txt(strings) if !strings.is_empty() => details.push((
                        "txt".to_owned(),
                        format!("{instance}: {}", strings.join(" ")),
                    )),
                    _ => {}
                }
            }
        }
    }
    details
}

/// CoAP confirmable GET /.well-known/core (RFC 6690).
pub fn coap_well_known_core() -> Vec<u8> {
    let mut packet = vec![0x40, 0x01, 0x13, 0x37];
    packet.push(0xbb); // Uri-Path (11), 11 bytes
    packet.extend_from_slice(b".well-known");
    packet.push(0x04); // Uri-Path again, 4 bytes
    packet.extend_from_slice(b"core");
    packet
}

/// The payload of a CoAP response with a 2.xx code.
pub fn coap_payload(answer: &[u8]) -> Option<&[u8]> {
    let first = *answer.first()?;
    if first >> 6 != 1 || answer.get(2..4)? != [0x13, 0x37] {
        return None;
    }
    let code = *answer.get(1)?;
    if code >> 5 != 2 {
        return None;
    }
    let token = usize::from(first & 0x0f);
    let mut at = 4 + token;
    // Options run until the 0xff payload marker.
    while let Some(&byte) = answer.get(at) {
        if byte == 0xff {
            return answer.get(at + 1..);
        }
        let extended = |nibble: u8, at: &mut usize| -> Option<usize> {
            match nibble {
                13 => {
                    *at += 1;
                    Some(usize::from(*answer.get(*at)?) + 13)
                }
                14 => {
                    *at += 2;
                    Some(
                        usize::from(u16::from_be_bytes([
                            *answer.get(*at - 1)?,
                            *answer.get(*at)?,
                        ])) + 269,
                    )
                }
                15 => None,
                small => Some(usize::from(small)),
            }
        };
        let mut cursor = at;
        extended(byte >> 4, &mut cursor)?;
        let length = extended(byte & 0x0f, &mut cursor)?;
        at = cursor + 1 + length;
    }
    Some(&[])
}

/// What an answer on `name`'s port says, or none if it is not that protocol.
pub fn read_answer(name: &str, answer: &[u8]) -> Option<Vec<(String, String)>> {
    let text = || String::from_utf8_lossy(answer).into_owned();
    match name {
        "tftp" => matches!(answer.get(..2), Some([0, 3] | [0, 5])).then(Vec::new),
        "snmp" => {
            if answer.first() != Some(&0x30) {
                return None;
            }
            Some(
                snmp_sysdescr(answer)
                    .map(|descr| vec![("sysDescr".to_owned(), descr)])
                    .unwrap_or_default(),
            )
        }
        "ssdp" => {
            let text = text();
            if !text.starts_with("HTTP/1.1 200") {
                return None;
            }
            Some(
                text.lines()
                    .filter_map(|line| line.split_once(':'))
                    .filter(|(key, _)| {
                        ["server", "location", "st", "usn"]
                            .contains(&key.trim().to_ascii_lowercase().as_str())
                    })
                    .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_owned()))
                    .collect(),
            )
        }
        "mdns" => {
            // A response to our query id: the service types it lists.
            if answer.get(..2) != Some(&MDNS_ID.to_be_bytes()[..]) {
                return None;
            }
            let types: Vec<String> = dns::parse(answer)?
                .into_iter()
                .filter_map(|record| match record.data {
                    dns::Data::Ptr(target) => Some(target),
                    _ => None,
                })
                .take(MDNS_TYPES)
                .collect();
            Some(vec![("services".to_owned(), types.join(", "))])
        }
        "coap" => coap_payload(answer).map(|payload| {
            vec![(
                "resources".to_owned(),
                String::from_utf8_lossy(payload).into_owned(),
            )]
        }),
        _ => None,
    }
}

/// Probes the usual IoT UDP services of the target.
pub async fn discover(target: &Target, deadline: Duration, auth_tests: bool) -> Vec<UdpService> {
    let mut running = tokio::task::JoinSet::new();
    for (port, name, request) in probes(auth_tests) {
        let target = target.clone();
        running.spawn(async move {
            let answer = ask(&target, port, &request, deadline).await?;
            let mut details = read_answer(name, &answer)?;
            if name == "mdns" {
                let types = details
                    .first()
                    .map(|(_, types)| types.clone())
                    .unwrap_or_default();
                details.extend(mdns_instances(&target, &types, deadline).await);
            }
            Some(UdpService {
                port,
                name: name.to_owned(),
                details,
            })
        });
    }
    let mut found = Vec::new();
    while let Some(done) = running.join_next().await {
        if let Ok(Some(service)) = done {
            found.push(service);
        }
    }
    found.sort_by_key(|service| service.port);
    found
}

/// Sends `request` to `port` up to [`TRIES`] times and returns the first answer.
pub(crate) async fn ask(
    target: &Target,
    port: u16,
    request: &[u8],
    deadline: Duration,
) -> Option<Vec<u8>> {
    let local: SocketAddr = match (target.address, target.source) {
        (_, Some(source)) => SocketAddr::new(source, 0),
        (std::net::IpAddr::V4(_), None) => "0.0.0.0:0".parse().ok()?,
        (std::net::IpAddr::V6(_), None) => "[::]:0".parse().ok()?,
    };
    let socket = UdpSocket::bind(local).await.ok()?;
    socket
        .connect(SocketAddr::new(target.address, port))
        .await
        .ok()?;
    let mut buffer = vec![0u8; ANSWER_LIMIT];
    for _ in 0..TRIES {
        socket.send(request).await.ok()?;
        // A refusal (ICMP port unreachable) ends the probe at once.
        match tokio::time::timeout(deadline, socket.recv(&mut buffer)).await {
            Ok(Ok(read)) => {
                buffer.truncate(read);
                return Some(buffer);
            }
            Ok(Err(_)) => return None,
            Err(_) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snmp_requests_and_answers() {
        let request = snmp_get_sysdescr(b"public");
        assert_eq!(request[0], 0x30);
        assert_eq!(usize::from(request[1]), request.len() - 2);
        // A GetResponse carrying sysDescr.0 = "Linux cam 5.10".
        let mut answer = request.clone();
        let at = answer.windows(2).position(|w| w == [0x05, 0x00]).unwrap();
        answer.splice(at..at + 2, [&[0x04, 14][..], b"Linux cam 5.10"].concat());
        assert_eq!(snmp_sysdescr(&answer).as_deref(), Some("Linux cam 5.10"));
        assert_eq!(
            read_answer("snmp", &answer),
            Some(vec![("sysDescr".to_owned(), "Linux cam 5.10".to_owned())])
        );
    }

    #[test]
    fn coap_and_ssdp_and_tftp_answers_are_read() {
        // ACK 2.05 Content, Content-Format 40 (link format), then the payload.
        let answer = [
            &[0x60, 0x45, 0x13, 0x37, 0xc1, 0x28, 0xff][..],
            b"</time>;ct=0",
        ]
        .concat();
        assert_eq!(coap_payload(&answer), Some(&b"</time>;ct=0"[..]));
        assert_eq!(
            coap_payload(&[0x60, 0x84, 0x13, 0x37]),
            None,
            "4.04 is no listing"
        );
        let ssdp = b"HTTP/1.1 200 OK\r\nSERVER: Linux/5.10 UPnP/1.0 AcmeCam/3.2\r\nLOCATION: http://127.0.0.9:49152/desc.xml\r\n\r\n";
        let details = read_answer("ssdp", ssdp).unwrap();
        assert!(details.contains(&(
            "server".to_owned(),
            "Linux/5.10 UPnP/1.0 AcmeCam/3.2".to_owned()
        )));
        assert_eq!(
            read_answer("tftp", &[0, 5, 0, 1, b'x', 0]),
            Some(Vec::new())
        );
        assert_eq!(read_answer("tftp", b"HTTP"), None);
        assert_eq!(coap_well_known_core()[4], 0xbb);
    }
}
