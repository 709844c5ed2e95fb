//! Telnet: option negotiation refused politely (every DO answered WONT, every WILL
//! answered DONT), so the server goes on to its prompt; text read with the commands
//! taken out, within a deadline and a byte limit.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::identify::open;
use crate::target::Target;

/// The most text read per exchange.
pub const TEXT_LIMIT: usize = 8192;

const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;

/// A telnet connection.
pub struct Telnet {
    stream: TcpStream,
}

/// Splits received bytes into text and the replies its commands call for.
pub fn take_commands(bytes: &[u8], text: &mut Vec<u8>, replies: &mut Vec<u8>) {
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] != IAC {
            text.push(bytes[index]);
            index += 1;
            continue;
        }
        match (bytes.get(index + 1), bytes.get(index + 2)) {
            (Some(&DO), Some(&option)) => {
                replies.extend_from_slice(&[IAC, WONT, option]);
                index += 3;
            }
            (Some(&WILL), Some(&option)) => {
                replies.extend_from_slice(&[IAC, DONT, option]);
                index += 3;
            }
            (Some(&(DONT | WONT)), Some(_)) => index += 3,
            (Some(&SB), _) => {
                // Skip a subnegotiation up to IAC SE.
                let end = bytes[index..]
                    .windows(2)
                    .position(|pair| pair == [IAC, SE])
                    .map_or(bytes.len(), |at| index + at + 2);
                index = end;
            }
            (Some(&IAC), _) => {
                text.push(IAC);
                index += 2;
            }
            _ => index += 2,
        }
    }
}

impl Telnet {
    /// Connects.
    pub async fn connect(target: &Target, port: u16, deadline: Duration) -> Option<Telnet> {
        Some(Telnet {
            stream: open(target, port, deadline).await?,
        })
    }

    /// Reads text for `deadline` (a pause of 300 ms after text ends it), answering
    /// option negotiation on the way.
    pub async fn read_text(&mut self, deadline: Duration) -> String {
        let end = tokio::time::Instant::now() + deadline;
        let mut text = Vec::new();
        let mut buffer = [0u8; 1024];
        while text.len() < TEXT_LIMIT {
            let pause = if text.is_empty() {
                end
            } else {
                (tokio::time::Instant::now() + Duration::from_millis(300)).min(end)
            };
            match tokio::time::timeout_at(pause, self.stream.read(&mut buffer)).await {
                Ok(Ok(read)) if read > 0 => {
                    let mut replies = Vec::new();
                    take_commands(&buffer[..read], &mut text, &mut replies);
                    if !replies.is_empty()
                        && tokio::time::timeout_at(end, self.stream.write_all(&replies))
                            .await
                            .is_err()
                    {
                        break;
                    }
                }
                _ => break,
            }
        }
        text.truncate(TEXT_LIMIT);
        String::from_utf8_lossy(&text).into_owned()
    }

    /// Sends a line (CR LF).
    pub async fn send_line(&mut self, line: &str, deadline: Duration) -> bool {
        let bytes = format!("{line}\r\n");
        matches!(
            tokio::time::timeout(deadline, self.stream.write_all(bytes.as_bytes())).await,
            Ok(Ok(()))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_refused_and_text_kept() {
        let mut text = Vec::new();
        let mut replies = Vec::new();
        take_commands(
            b"\xff\xfd\x01\xff\xfb\x03\xff\xfa\x18\x01\xff\xf0login: \xff\xff",
            &mut text,
            &mut replies,
        );
        assert_eq!(text, b"login: \xff");
        assert_eq!(replies, b"\xff\xfc\x01\xff\xfe\x03");
    }
}
