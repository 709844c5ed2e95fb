//! FTP logins: the greeting, then USER and PASS, each reply read within the deadline and
//! a byte limit. Only the reply codes matter.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

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

/// Logs in with `user` and `password`; true when the server says 230 (logged in).
pub async fn login(
    target: &Target,
    port: u16,
    user: &str,
    password: &str,
    deadline: Duration,
) -> bool {
    let Some(mut stream) = open(target, port, deadline).await else {
        return false;
    };
    if reply_code(&read_answer(&mut stream, deadline).await) != Some(220) {
        return false;
    }
    for (command, wanted) in [
        (format!("USER {user}\r\n"), [230, 331]),
        (format!("PASS {password}\r\n"), [230, 230]),
    ] {
        if !matches!(
            tokio::time::timeout(deadline, stream.write_all(command.as_bytes())).await,
            Ok(Ok(()))
        ) {
            return false;
        }
        match reply_code(&read_answer(&mut stream, deadline).await) {
            Some(230) => return true,
            Some(code) if wanted.contains(&code) => {}
            _ => return false,
        }
    }
    false
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
