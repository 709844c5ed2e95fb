//! Telnet: option negotiation refused politely (every DO answered WONT, every WILL
//! answered DONT), so the server goes on to its prompt; text read with the commands
//! taken out, within a deadline and a byte limit; and a login at the prompts, told
//! from a refusal by the words that follow and a shell's answer to a sum.

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

    /// Reads text until `told` says it is enough, the text stops coming, its limit or
    /// `deadline` in all: a pause no longer ends it while the text says nothing yet.
    pub async fn read_until(&mut self, deadline: Duration, told: impl Fn(&str) -> bool) -> String {
        let end = tokio::time::Instant::now() + deadline;
        let mut text = String::new();
        while !told(&text) && text.len() < TEXT_LIMIT {
            let left = end.saturating_duration_since(tokio::time::Instant::now());
            let more = self.read_text(left).await;
            if more.is_empty() {
                break;
            }
            text.push_str(&more);
        }
        text
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

/// Prompts for a user name.
const USER_PROMPTS: [&str; 4] = ["login", "username", "user name", "user:"];

/// Whether the text ends at a prompt for one of `prompts` (its last line holds it).
fn prompts_for(text: &str, prompts: &[&str]) -> bool {
    let last = text
        .trim_end()
        .rsplit(['\r', '\n'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    prompts.iter().any(|prompt| last.contains(prompt))
}

/// Whether a greeting asks who is there.
pub fn asks_for_login(greeting: &str) -> bool {
    prompts_for(greeting, &USER_PROMPTS) || prompts_for(greeting, &["password"])
}

/// Whether the text after a password says it was refused.
fn refused(text: &str) -> bool {
    let lowered = text.to_ascii_lowercase();
    [
        "incorrect",
        "failed",
        "denied",
        "invalid",
        "wrong",
        "bad password",
    ]
    .iter()
    .any(|word| lowered.contains(word))
        || asks_for_login(text)
}

/// Logs in at the prompts with `user` and `password`: `Some(true)` when a shell (it
/// works out a sum) or a command prompt follows, `Some(false)` when the login program
/// refuses, `None` when the server did not prompt, went silent or answered with
/// something that is neither.
pub async fn login(
    target: &Target,
    port: u16,
    user: &str,
    password: &str,
    deadline: Duration,
) -> Option<bool> {
    let mut session = Telnet::connect(target, port, deadline).await?;
    // A login program greets late when several sessions start at once (busybox's
    // telnetd takes a second or more): the greeting has the verdict's time.
    let greeting = session
        .read_until(super::PASSWORD_VERDICT.max(deadline), asks_for_login)
        .await;
    if prompts_for(&greeting, &USER_PROMPTS) {
        session.send_line(user, deadline).await.then_some(())?;
        let asked = session
            .read_until(deadline, |text| prompts_for(text, &["password"]))
            .await;
        if !prompts_for(&asked, &["password"]) {
            return None;
        }
    } else if !prompts_for(&greeting, &["password"]) {
        return None;
    }
    session.send_line(password, deadline).await.then_some(())?;
    // The echoed line end comes at once, the verdict when the login program has
    // waited, a shell's prompt after its greeting: read until one can be told.
    let verdict = session
        .read_until(super::PASSWORD_VERDICT.max(deadline), |text| {
            refused(text) || shows_prompt(text)
        })
        .await;
    if verdict.trim().is_empty() {
        return None;
    }
    if refused(&verdict) {
        return Some(false);
    }
    let word = super::unique_word();
    let sum = format!("{word}-42");
    if session
        .send_line(&format!("echo {word}-$((6*7))"), deadline)
        .await
        && session
            .read_until(deadline, |text| text.contains(&sum))
            .await
            .contains(&sum)
    {
        return Some(true);
    }
    // Not a shell: a device's own command line still counts when it shows a prompt.
    // Anything else (noise, a greeting that never ends) says neither yes nor no.
    shows_prompt(&verdict).then_some(true)
}

/// Whether text ends at a command prompt.
pub fn shows_prompt(text: &str) -> bool {
    text.trim_end().ends_with(['#', '$', '>', '%'])
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

    #[test]
    fn prompts_and_refusals_are_told() {
        assert!(asks_for_login("\r\nDebian GNU/Linux 12\r\n\rvm login: "));
        assert!(asks_for_login("Username:"));
        assert!(asks_for_login("Password: "));
        assert!(!asks_for_login("BusyBox v1.35\r\n/ # "));
        // A banner that mentions logging in, then a shell prompt.
        assert!(!asks_for_login("Last login: Mon\r\n~ $ "));
        assert!(refused("\r\nLogin incorrect\r\nvm login: "));
        assert!(refused("Access denied"));
        assert!(!refused("\r\nBusyBox v1.35 built-in shell\r\n# "));
    }
}
