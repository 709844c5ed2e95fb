//! MQTT 3.1.1 over plain TCP or TLS: CONNECT (anonymous or with a user and password), and a
//! subscription to `#` that listens for a bounded time and number of messages.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Stream, connect as open_stream};
use crate::target::Target;

/// The largest packet read; larger ones end the session.
pub const PACKET_LIMIT: usize = 64 * 1024;

/// An MQTT session the broker accepted.
pub struct Session {
    stream: Box<dyn Stream>,
}

/// Encodes MQTT's variable-length "remaining length".
fn remaining_length(mut length: usize, out: &mut Vec<u8>) {
    loop {
        let mut byte = (length % 128) as u8;
        length /= 128;
        if length > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if length == 0 {
            break;
        }
    }
}

fn string(text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(text.len() as u16).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// A CONNECT packet (clean session, keep-alive 60 s).
pub fn connect_packet(client: &str, login: Option<(&str, &str)>) -> Vec<u8> {
    let mut body = Vec::new();
    string("MQTT", &mut body);
    body.push(4);
    body.push(if login.is_some() { 0xc2 } else { 0x02 });
    body.extend_from_slice(&60u16.to_be_bytes());
    string(client, &mut body);
    if let Some((user, password)) = login {
        string(user, &mut body);
        string(password, &mut body);
    }
    let mut packet = vec![0x10];
    remaining_length(body.len(), &mut packet);
    packet.extend_from_slice(&body);
    packet
}

/// Reads one packet: (type and flags, body), within the deadline and size limit.
async fn read_packet(
    stream: &mut Box<dyn Stream>,
    until: tokio::time::Instant,
) -> Option<(u8, Vec<u8>)> {
    let mut first = [0u8; 1];
    tokio::time::timeout_at(until, stream.read_exact(&mut first))
        .await
        .ok()?
        .ok()?;
    let mut length = 0usize;
    for shift in 0..4 {
        let mut byte = [0u8; 1];
        tokio::time::timeout_at(until, stream.read_exact(&mut byte))
            .await
            .ok()?
            .ok()?;
        length |= usize::from(byte[0] & 0x7f) << (7 * shift);
        if byte[0] & 0x80 == 0 {
            break;
        }
    }
    if length > PACKET_LIMIT {
        return None;
    }
    let mut body = vec![0u8; length];
    tokio::time::timeout_at(until, stream.read_exact(&mut body))
        .await
        .ok()?
        .ok()?;
    Some((first[0], body))
}

/// Connects; `Ok(session)` when the broker accepted, `Err(code)` with the CONNACK
/// return code when it refused, `Err(255)` when it did not answer as a broker.
pub async fn connect(
    target: &Target,
    port: u16,
    tls: bool,
    login: Option<(&str, &str)>,
    deadline: Duration,
) -> Result<Session, u8> {
    let mut stream = open_stream(target, port, tls, deadline).await.ok_or(255)?;
    let until = tokio::time::Instant::now() + deadline;
    let packet = connect_packet("provisor", login);
    tokio::time::timeout_at(until, stream.write_all(&packet))
        .await
        .map_err(|_| 255)?
        .map_err(|_| 255)?;
    match read_packet(&mut stream, until).await {
        Some((0x20, body)) if body.len() == 2 => match body[1] {
            0 => Ok(Session { stream }),
            code => Err(code),
        },
        _ => Err(255),
    }
}

/// What listening on `#` received.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Heard {
    /// The broker granted the subscription.
    pub granted: bool,
    /// Messages received.
    pub messages: usize,
    /// Their topics, first seen first, at most [`TOPICS_KEPT`].
    pub topics: Vec<String>,
}

/// Topics kept as evidence.
pub const TOPICS_KEPT: usize = 10;

impl Session {
    /// Subscribes to `#` and listens for `listen` or `max_messages` messages.
    pub async fn listen_to_everything(mut self, listen: Duration, max_messages: usize) -> Heard {
        let mut heard = Heard::default();
        let until = tokio::time::Instant::now() + listen;
        // SUBSCRIBE, packet id 1, topic filter "#", QoS 0.
        let packet = [0x82, 6, 0, 1, 0, 1, b'#', 0];
        if !matches!(
            tokio::time::timeout_at(until, self.stream.write_all(&packet)).await,
            Ok(Ok(()))
        ) {
            return heard;
        }
        while heard.messages < max_messages {
            let Some((kind, body)) = read_packet(&mut self.stream, until).await else {
                break;
            };
            match kind >> 4 {
                // SUBACK: granted unless the return code is 0x80.
                9 => heard.granted = body.get(2).is_some_and(|&code| code != 0x80),
                // PUBLISH: the topic is the first string.
                3 => {
                    heard.messages += 1;
                    if body.len() >= 2 {
                        let length = usize::from(u16::from_be_bytes([body[0], body[1]]));
                        if let Some(topic) = body.get(2..2 + length) {
                            let topic = String::from_utf8_lossy(topic).into_owned();
                            if heard.topics.len() < TOPICS_KEPT && !heard.topics.contains(&topic) {
                                heard.topics.push(topic);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let _ = self.stream.write_all(&[0xe0, 0]).await; // DISCONNECT
        heard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_packets_follow_the_specification() {
        assert_eq!(
            connect_packet("provisor", None),
            b"\x10\x14\x00\x04MQTT\x04\x02\x00\x3c\x00\x08provisor"
        );
        let with_login = connect_packet("c", Some(("u", "p")));
        assert_eq!(with_login[9], 0xc2);
        assert_eq!(usize::from(with_login[1]), with_login.len() - 2);
        let mut long = Vec::new();
        remaining_length(321, &mut long);
        assert_eq!(long, [0xc1, 0x02]);
    }
}
