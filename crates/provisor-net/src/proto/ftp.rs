//! FTP logins: the greeting, then USER and PASS, each reply read within the deadline (a
//! password's within a longer one, as servers wait before refusing) and a byte limit.
//! Only the reply codes matter.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::identify::{open, read_answer};
use crate::target::Target;

/// The three-digit code of the last complete reply line in `answer`.
pub fn reply_code(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    text.lines()
        .rev()
        .filter(|line| line.len() >= 4 && line.as_bytes()[3] == b' ')
        .find_map(|line| line[..3].parse().ok())
}

/// Sends a command and reads the code of its reply.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    line: &str,
    deadline: Duration,
) -> Option<u16> {
    tokio::time::timeout(deadline, stream.write_all(format!("{line}\r\n").as_bytes()))
        .await
        .ok()?
        .ok()?;
    reply_code(&read_answer(stream, deadline).await)
}

/// Logs in with `user` and `password`: the reply code that decided (230 logged in, 530
/// refused, 421 too many connections or attempts, …), or `None` when the server did not
/// answer.
pub async fn login(
    target: &Target,
    port: u16,
    user: &str,
    password: &str,
    deadline: Duration,
) -> Option<u16> {
    let mut stream = open(target, port, deadline).await?;
    match reply_code(&read_answer(&mut stream, deadline).await)? {
        220 => {}
        code => return Some(code),
    }
    match command(&mut stream, &format!("USER {user}"), deadline).await? {
        331 => {
            command(
                &mut stream,
                &format!("PASS {password}"),
                super::PASSWORD_VERDICT.max(deadline),
            )
            .await
        }
        code => Some(code),
    }
}

/// Whether the server asks a named user for a password (an anonymous-only server
/// refuses the name at once).
pub async fn takes_passwords(target: &Target, port: u16, deadline: Duration) -> bool {
    let Some(mut stream) = open(target, port, deadline).await else {
        return false;
    };
    reply_code(&read_answer(&mut stream, deadline).await) == Some(220)
        && command(&mut stream, "USER provisor", deadline).await == Some(331)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes_are_read_from_the_last_line() {
        assert_eq!(reply_code(b"220 (vsFTPd 3.0.3)\r\n"), Some(220));
        assert_eq!(
            reply_code(b"230-Welcome\r\n230 Login successful.\r\n"),
            Some(230)
        );
        assert_eq!(reply_code(b"331-more\r\n"), None);
        assert_eq!(reply_code(b""), None);
    }
}
