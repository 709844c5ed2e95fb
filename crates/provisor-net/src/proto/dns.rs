//! Enough of DNS (RFC 1035) for multicast DNS service discovery (RFC 6762, 6763) asked
//! by unicast: a query with the unicast-response bit, and a message's records (PTR, TXT,
//! SRV) read from every section, names decompressed with a bound on pointer jumps.

/// Record types read.
pub const PTR: u16 = 12;
/// Text records: the `key=value` strings of a service instance.
pub const TXT: u16 = 16;
/// Service location: port and host.
pub const SRV: u16 = 33;

/// Pointer jumps followed in one name, at most (a loop of pointers ends here).
const JUMPS: usize = 16;
/// Records read from one message, at most.
const RECORDS: usize = 256;

/// One record of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its owner name, dotted, without the final dot.
    pub name: String,
    /// Its data.
    pub data: Data,
}

/// What a record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// A name it points to.
    Ptr(String),
    /// Its strings.
    Txt(Vec<String>),
    /// A service's port and host.
    Srv {
        /// The port.
        port: u16,
        /// The host name.
        host: String,
    },
    /// Any other type.
    Other(u16),
}

/// A query for `name` of `kind`, with message id `id`, asking for a unicast answer.
pub fn query(id: u16, name: &str, kind: u16) -> Vec<u8> {
    let mut packet = id.to_be_bytes().to_vec();
    packet.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|label| !label.is_empty()) {
        let label = &label.as_bytes()[..label.len().min(63)];
        packet.push(label.len() as u8);
        packet.extend_from_slice(label);
    }
    packet.push(0);
    packet.extend_from_slice(&kind.to_be_bytes());
    packet.extend_from_slice(&[0x80, 1]); // class IN, unicast response wanted
    packet
}

/// Reads the name at `at`; the name and where the data after it starts.
fn name(message: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let length = usize::from(*message.get(at)?);
        match length {
            0 => {
                return Some((labels.join("."), end.unwrap_or(at + 1)));
            }
            _ if length & 0xc0 == 0xc0 => {
                let pointer = (length & 0x3f) << 8 | usize::from(*message.get(at + 1)?);
                end.get_or_insert(at + 2);
                jumps += 1;
                if jumps > JUMPS {
                    return None;
                }
                at = pointer;
            }
            _ if length < 64 => {
                let label = message.get(at + 1..at + 1 + length)?;
                labels.push(String::from_utf8_lossy(label).into_owned());
                if labels.iter().map(String::len).sum::<usize>() > 255 {
                    return None;
                }
                at += 1 + length;
            }
            _ => return None,
        }
    }
}

/// Every record of a response (answers, authority and additional sections), or `None`
/// when it is not a well-formed response.
pub fn parse(message: &[u8]) -> Option<Vec<Record>> {
    if message.len() < 12 || message[2] & 0x80 == 0 {
        return None;
    }
    let count = |at: usize| usize::from(u16::from_be_bytes([message[at], message[at + 1]]));
    let questions = count(4);
    let records = (count(6) + count(8) + count(10)).min(RECORDS);
    let mut at = 12;
    for _ in 0..questions.min(RECORDS) {
        at = name(message, at)?.1 + 4;
    }
    let mut found = Vec::new();
    for _ in 0..records {
        let (owner, after) = name(message, at)?;
        let fixed = message.get(after..after + 10)?;
        let kind = u16::from_be_bytes([fixed[0], fixed[1]]);
        let length = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        let start = after + 10;
        let data = message.get(start..start + length)?;
        let data = match kind {
            PTR => Data::Ptr(name(message, start)?.0),
            TXT => {
                let mut strings = Vec::new();
                let mut cursor = 0;
                while let Some(&size) = data.get(cursor) {
                    let text = data.get(cursor + 1..cursor + 1 + usize::from(size))?;
                    if !text.is_empty() {
                        strings.push(String::from_utf8_lossy(text).into_owned());
                    }
                    cursor += 1 + usize::from(size);
                }
                Data::Txt(strings)
            }
            SRV if length >= 7 => Data::Srv {
                port: u16::from_be_bytes([data[4], data[5]]),
                host: name(message, start + 6)?.0,
            },
            other => Data::Other(other),
        };
        found.push(Record { name: owner, data });
        at = start + length;
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response as avahi sends it: the question, a PTR answer, and the instance's SRV
    /// and TXT records as additional records, names compressed.
    fn response() -> Vec<u8> {
        let mut message = vec![0x13, 0x37, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 2];
        // Question at 12: _http._tcp.local PTR.
        for label in ["_http", "_tcp", "local"] {
            message.push(label.len() as u8);
            message.extend_from_slice(label.as_bytes());
        }
        message.extend_from_slice(&[0, 0, 12, 0, 1]);
        // Answer: pointer to the question's name, PTR to "AcmeCam" + pointer.
        message.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0x11, 0x94, 0, 10]);
        let instance = message.len();
        message.push(7);
        message.extend_from_slice(b"AcmeCam");
        message.extend_from_slice(&[0xc0, 12]);
        // SRV of the instance: port 80, host "cam.local".
        message.extend_from_slice(&[0xc0, instance as u8, 0, 33, 0x80, 1, 0, 0, 0, 120, 0, 12]);
        message.extend_from_slice(&[0, 0, 0, 0, 0, 80, 3]);
        message.extend_from_slice(b"cam");
        message.extend_from_slice(&[0xc0, 23]); // "local" of the question
        // TXT of the instance.
        message.extend_from_slice(&[0xc0, instance as u8, 0, 16, 0x80, 1, 0, 0, 0, 120, 0, 20]);
        message.push(8);
        message.extend_from_slice(b"fw=3.2.1");
        message.push(10);
        message.extend_from_slice(b"serial=A42");
        message
    }

    #[test]
    fn records_are_read_with_compressed_names() {
        let records = parse(&response()).unwrap();
        assert_eq!(records[0].name, "_http._tcp.local");
        assert_eq!(
            records[0].data,
            Data::Ptr("AcmeCam._http._tcp.local".into())
        );
        assert_eq!(records[1].name, "AcmeCam._http._tcp.local");
        assert_eq!(
            records[1].data,
            Data::Srv {
                port: 80,
                host: "cam.local".into()
            }
        );
        assert_eq!(
            records[2].data,
            Data::Txt(vec!["fw=3.2.1".into(), "serial=A42".into()])
        );
    }

    #[test]
    fn broken_messages_neither_panic_nor_loop() {
        let whole = response();
        for end in 0..whole.len() {
            let _ = parse(&whole[..end]);
        }
        // A name that points at itself.
        let mut looping = vec![0x13, 0x37, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        looping.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 0, 0, 2, 0xc0, 12]);
        assert_eq!(parse(&looping), None);
        // A query, not a response.
        assert_eq!(parse(&query(1, "_services._dns-sd._udp.local", PTR)), None);
        assert_eq!(
            query(0x1337, "_http._tcp.local", PTR)[12..],
            *b"\x05_http\x04_tcp\x05local\x00\x00\x0c\x80\x01"
        );
    }
}
